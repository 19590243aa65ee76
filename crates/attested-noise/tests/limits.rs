//! The server core's limits on anonymous clients: sessions at once, attestations a session,
//! the frame limit for the transport, and what a broken streamed answer ends with.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_noise::limits::{
    DEFAULT_MAX_MESSAGE_LEN, MAX_FRAME_LEN, MAX_FRAME_PLAINTEXT, ServerLimits,
};
use attested_noise::message::{ChatChunk, Message};
use attested_noise::*;
use common::*;

fn replies(client: &mut VerifiedSession, received: Received) -> Vec<Message> {
    let Received::Reply(frames) = received else {
        panic!("{received:?}")
    };
    frames
        .iter()
        .filter_map(|f| client.receive(f).unwrap())
        .collect()
}

#[test]
fn sessions_over_the_limit_are_refused_until_one_closes() {
    let server = Server::new(Config::new(Profile::V1), 1);
    let identity = Arc::try_unwrap(server.identity).unwrap();
    let identity = std::sync::Arc::new(identity.with_limits(ServerLimits::new().max_sessions(2)));
    let first = identity.admit().unwrap();
    let second = identity.admit().unwrap();
    assert_eq!(identity.open_sessions(), 2);
    assert!(matches!(
        identity.admit(),
        Err(Error::TooManySessions { max: 2 })
    ));
    drop(first);
    let third = identity.admit().unwrap();
    assert_eq!(identity.open_sessions(), 2);
    drop((second, third));
    assert_eq!(identity.open_sessions(), 0);
}

use std::sync::Arc;

#[test]
fn attestations_over_the_per_session_limit_get_an_error() {
    let limits = ServerLimits::new().max_attestations_per_session(2);
    let config = Config::new(Profile::V1);
    let (mut client, mut server, _keep) = verified_pair_with(config.clone(), limits, config, 3);
    // verified_pair_with already asked once; one more is allowed, the third is refused.
    let frames = client.send(&Message::GetAttestation).unwrap();
    assert!(matches!(
        server.receive(&frames[0]).unwrap(),
        Received::AttestationRequested
    ));
    for _ in 0..3 {
        let frames = client.send(&Message::GetAttestation).unwrap();
        let received = server.receive(&frames[0]).unwrap();
        let messages = replies(&mut client, received);
        let [Message::Error(error)] = messages.as_slice() else {
            panic!("{messages:?}")
        };
        assert_eq!(error.error, "attestation limit reached");
    }
    // The session goes on: a chat is still served.
    let frames = client.chat(&user("still here")).unwrap();
    assert!(matches!(
        server.receive(&frames[0]).unwrap(),
        Received::Chat(_)
    ));
}

#[test]
fn an_interrupted_stream_ends_in_an_error_not_a_chat_done() {
    let (mut client, mut server) = verified_pair(Config::new(Profile::V1), 4);
    let mut seen: Vec<Message> = Vec::new();
    for frame in server
        .send(&Message::ChatChunk(ChatChunk {
            delta: "half an ans".into(),
        }))
        .unwrap()
        .into_iter()
        .chain(server.answer_interrupted().unwrap())
    {
        seen.extend(client.receive(&frame).unwrap());
    }
    assert!(
        matches!(seen.as_slice(), [Message::ChatChunk(_), Message::Error(e)]
        if e.error == "answer interrupted")
    );
}

#[test]
fn the_websocket_frame_limit_is_one_noise_message_in_both_profiles() {
    assert_eq!(MAX_FRAME_LEN, 65535);
    assert_eq!(ServerLimits::default().max_websocket_frame(), 65535);
    for profile in [Profile::Seed, Profile::V1] {
        let (mut client, _server) = verified_pair(Config::new(profile), 5);
        let limit = if profile == Profile::V1 {
            300_000
        } else {
            60_000
        };
        for frame in client.chat(&user(&"x".repeat(limit))).unwrap() {
            assert!(frame.len() <= MAX_FRAME_LEN);
        }
    }
}

#[test]
fn the_default_message_limit_is_1_mib_and_refuses_more_before_buffering() {
    assert_eq!(DEFAULT_MAX_MESSAGE_LEN, 1 << 20);
    let big = Config::new(Profile::V1).max_message_len(4 << 20);
    let (mut client, mut server, _keep) =
        verified_pair_with(Config::new(Profile::V1), ServerLimits::new(), big, 6);
    let frames = client.chat(&user(&"y".repeat(2 << 20))).unwrap();
    let mut refused_at = None;
    for (index, frame) in frames.iter().enumerate() {
        match server.receive(frame) {
            Ok(Received::Partial) => {}
            Err(Error::ReceivedTooLarge { max }) => {
                assert_eq!(max, 1 << 20);
                refused_at = Some(index);
                break;
            }
            other => panic!("{other:?}"),
        }
    }
    // Refused with the frame that would cross 1 MiB, not at the end of the 2 MiB message.
    assert_eq!(refused_at, Some((1 << 20) / (MAX_FRAME_PLAINTEXT - 1)));
    assert!(server.is_closed());
}

#[test]
fn server_never_parses_the_payload_of_a_message_clients_do_not_send() {
    let (mut client, mut server) = verified_pair(Config::new(Profile::V1), 8);
    // An attestation-shaped message with a payload that would not even parse as one.
    let frames = client
        .seal(br#"{"type":"attestation","payload":{"measurements":[[],[]],"noise_pubkey":7}}"#)
        .unwrap();
    let received = server.receive(&frames[0]).unwrap();
    let messages = replies(&mut client, received);
    assert!(matches!(messages.as_slice(), [Message::Error(e)] if e.error == "unexpected message"));
}
