//! The public API end to end in memory: both profiles, chunking, streaming, rekeying, and a bare
//! snow peer speaking the seed wire format the way the Python `noiseprotocol` client does.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_noise::limits::MAX_FRAME_PLAINTEXT;
use attested_noise::message::{
    ChatChunk, ChatDone, ChatMessage, ChatRequest, ChatResponse, Message,
};
use attested_noise::profile::PROTOCOL_NAME;
use attested_noise::*;
use common::*;

fn deliver_to_server(server: &mut ServerSession, frames: Vec<Vec<u8>>) -> Vec<Received> {
    frames
        .iter()
        .map(|f| server.receive(f).unwrap())
        .filter(|r| !matches!(r, Received::Partial))
        .collect()
}

fn deliver_to_client(client: &mut VerifiedSession, frames: Vec<Vec<u8>>) -> Vec<Message> {
    frames
        .iter()
        .filter_map(|f| client.receive(f).unwrap())
        .collect()
}

#[test]
fn chat_round_trip_in_both_profiles() {
    for profile in [Profile::Seed, Profile::V1] {
        let (mut client, mut server) = verified_pair(Config::new(profile), 1);
        assert_eq!(client.profile(), profile);
        assert_eq!(client.evidence().measurements()["mrtd"], MRTD.to_vec());
        assert_eq!(server.handshake_hash(), client.handshake_hash());

        let request = user("What is 2+2?");
        let received = deliver_to_server(&mut server, client.chat(&request).unwrap());
        let [Received::Chat(got)] = received.as_slice() else {
            panic!("{received:?}")
        };
        assert_eq!(got, &request);

        let answer = Message::ChatResponse(ChatResponse {
            message: ChatMessage {
                role: "assistant".into(),
                content: "4".into(),
            },
            model: "m".into(),
            prompt_tokens: 5,
            completion_tokens: 1,
        });
        let messages = deliver_to_client(&mut client, server.send(&answer).unwrap());
        assert_eq!(messages, vec![answer]);

        let replies = deliver_to_server(&mut server, client.send(&Message::Ping).unwrap());
        let [Received::Reply(frames)] = replies.as_slice() else {
            panic!("{replies:?}")
        };
        assert_eq!(
            deliver_to_client(&mut client, frames.clone()),
            vec![Message::Pong]
        );
    }
}

#[test]
fn v1_chunks_large_messages_both_ways() {
    // Over the default 1 MiB limit, so both sides raise theirs.
    let (mut client, mut server) =
        verified_pair(Config::new(Profile::V1).max_message_len(2 << 20), 2);
    let request = user(&"p".repeat(1 << 20));
    let frames = client.chat(&request).unwrap();
    assert_eq!(frames.len(), (1 << 20) / (MAX_FRAME_PLAINTEXT - 1) + 1);
    assert!(frames.iter().all(|f| f.len() <= 65535));
    let mut received = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        match server.receive(frame).unwrap() {
            Received::Partial => assert!(i + 1 < frames.len()),
            Received::Chat(got) => received.push(got),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(received, vec![request]);

    let chunk = Message::ChatChunk(ChatChunk {
        delta: "q".repeat(70_000),
    });
    let frames = server.send(&chunk).unwrap();
    assert_eq!(frames.len(), 2);
    assert_eq!(deliver_to_client(&mut client, frames), vec![chunk]);
}

#[test]
fn v1_refuses_a_chunked_message_over_the_receivers_limit() {
    let sender = Config::new(Profile::V1);
    let server = Server::new(Config::new(Profile::V1).max_message_len(100_000), 3);
    let client = Initiator::with_config(sender, &server.public_key(), &mut rng(3)).unwrap();
    let (mut client, mut server_session) = handshake(client, &server, 4);
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    let mut client = client.verify(&attestation, &server.check(), NOW).unwrap();
    let frames = client.chat(&user(&"x".repeat(200_000))).unwrap();
    assert!(matches!(
        server_session.receive(&frames[0]).unwrap(),
        Received::Partial
    ));
    assert!(matches!(
        server_session.receive(&frames[1]),
        Err(Error::ReceivedTooLarge { max: 100_000 })
    ));
    assert!(server_session.is_closed());
}

#[test]
fn v1_streams_chat() {
    let (mut client, mut server) = verified_pair(Config::new(Profile::V1), 4);
    let request = ChatRequest {
        stream: Some(true),
        ..user("stream please")
    };
    let received = deliver_to_server(&mut server, client.chat(&request).unwrap());
    assert!(matches!(received.as_slice(), [Received::Chat(r)] if r.stream == Some(true)));
    let mut text = String::new();
    for word in ["one ", "two ", "three"] {
        let frames = server
            .send(&Message::ChatChunk(ChatChunk { delta: word.into() }))
            .unwrap();
        for message in deliver_to_client(&mut client, frames) {
            let Message::ChatChunk(chunk) = message else {
                panic!("{message:?}")
            };
            text.push_str(&chunk.delta);
        }
    }
    let done = Message::ChatDone(ChatDone {
        model: "m".into(),
        prompt_tokens: 2,
        completion_tokens: 3,
    });
    assert_eq!(
        deliver_to_client(&mut client, server.send(&done).unwrap()),
        vec![done]
    );
    assert_eq!(text, "one two three");
}

#[test]
fn v1_rekeys_on_each_sides_own_schedule() {
    // The client rekeys every 100 bytes, the server every 10 000: each follows the other's flag.
    let server = Server::new(Config::new(Profile::V1).rekey_after(10_000), 5);
    let client = Initiator::with_config(
        Config::new(Profile::V1).rekey_after(100),
        &server.public_key(),
        &mut rng(5),
    )
    .unwrap();
    let (mut client, mut server_session) = handshake(client, &server, 6);
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    let mut client = client.verify(&attestation, &server.check(), NOW).unwrap();
    for i in 0..50 {
        let request = user(&"r".repeat(i * 37));
        let received = deliver_to_server(&mut server_session, client.chat(&request).unwrap());
        assert!(matches!(received.as_slice(), [Received::Chat(r)] if *r == request));
        let answer = Message::ChatChunk(ChatChunk {
            delta: "s".repeat(i * 411),
        });
        assert_eq!(
            deliver_to_client(&mut client, server_session.send(&answer).unwrap()),
            vec![answer]
        );
    }
}

/// A bare snow NK initiator with snow's own primitives and no attested-noise code: what the
/// Python seed client does with `noiseprotocol`.
struct BareSeedClient {
    transport: snow::TransportState,
    handshake_hash: Vec<u8>,
}

impl BareSeedClient {
    fn connect(server: &Server) -> (Self, ServerSession) {
        let mut hs = snow::Builder::new(PROTOCOL_NAME.parse().unwrap())
            .remote_public_key(&server.public_key())
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut msg1 = [0_u8; 48];
        assert_eq!(hs.write_message(&[], &mut msg1).unwrap(), 48);
        let mut responder = Responder::new(server.identity.clone(), &mut rng(7)).unwrap();
        responder.read_first(&msg1).unwrap();
        let (msg2, session) = responder.write_second().unwrap();
        assert_eq!(msg2.len(), 48);
        assert_eq!(hs.read_message(&msg2, &mut [0_u8; 48]).unwrap(), 0);
        let handshake_hash = hs.get_handshake_hash().to_vec();
        assert_eq!(handshake_hash, session.handshake_hash());
        let client = Self {
            transport: hs.into_transport_mode().unwrap(),
            handshake_hash,
        };
        (client, session)
    }

    fn send(&mut self, json: &[u8]) -> Vec<u8> {
        let mut frame = vec![0_u8; json.len() + 16];
        let n = self.transport.write_message(json, &mut frame).unwrap();
        frame.truncate(n);
        frame
    }

    fn read(&mut self, frame: &[u8]) -> serde_json::Value {
        let mut out = vec![0_u8; frame.len()];
        let n = self.transport.read_message(frame, &mut out).unwrap();
        serde_json::from_slice(&out[..n]).unwrap()
    }
}

#[test]
fn bare_snow_seed_client_verifies_and_chats_with_our_responder() {
    use attested_noise::ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use base64::Engine;
    use sha2::{Digest, Sha512};

    let server = Server::new(Config::new(Profile::Seed), 8);
    let (mut client, mut session) = BareSeedClient::connect(&server);

    let frame = client.send(br#"{"type": "get_attestation", "payload": {}}"#);
    assert!(matches!(
        session.receive(&frame).unwrap(),
        Received::AttestationRequested
    ));
    let reply = session.attestation(None).unwrap();
    assert_eq!(reply.len(), 1);
    let attestation = client.read(&reply[0]);
    assert_eq!(attestation["type"], "attestation");
    let payload = &attestation["payload"];
    let binding = &payload["session_binding"];
    // What the seed client checks, done right: REPORTDATA from the quote, h, signature over h.
    let quote = base64::engine::general_purpose::STANDARD
        .decode(payload["quote_b64"].as_str().unwrap())
        .unwrap();
    let binding_key = hex::decode(binding["binding_pubkey"].as_str().unwrap()).unwrap();
    assert_eq!(quote[..64], Sha512::digest(&binding_key)[..]);
    assert_eq!(
        hex::decode(binding["session_hash"].as_str().unwrap()).unwrap(),
        client.handshake_hash
    );
    let key = VerifyingKey::from_bytes(&binding_key.try_into().unwrap()).unwrap();
    let signature =
        Signature::from_slice(&hex::decode(binding["signature"].as_str().unwrap()).unwrap())
            .unwrap();
    key.verify(&client.handshake_hash, &signature).unwrap();
    assert_eq!(
        payload["noise_pubkey"].as_str().unwrap(),
        hex::encode(server.public_key())
    );

    let frame =
        client.send(br#"{"type":"chat","payload":{"messages":[{"role":"user","content":"hi"}]}}"#);
    let Received::Chat(request) = session.receive(&frame).unwrap() else {
        panic!("not a chat")
    };
    assert_eq!(request, user("hi"));

    // Unknown and malformed messages get an `error` reply; the session goes on.
    for (input, text) in [
        (
            &br#"{"type":"sudo","payload":{}}"#[..],
            "unknown message type",
        ),
        (&b"not json"[..], "invalid message"),
        (
            &br#"{"type":"chat","payload":{"messages":"x"}}"#[..],
            "invalid message",
        ),
        (
            &br#"{"type":"pong","payload":{}}"#[..],
            "unexpected message",
        ),
    ] {
        let frame = client.send(input);
        let Received::Reply(reply) = session.receive(&frame).unwrap() else {
            panic!("no reply")
        };
        let error = client.read(&reply[0]);
        assert_eq!(error["type"], "error");
        assert_eq!(error["payload"]["error"], text);
    }
    let frame = client.send(br#"{"type":"ping"}"#);
    let Received::Reply(reply) = session.receive(&frame).unwrap() else {
        panic!("no pong")
    };
    assert_eq!(client.read(&reply[0])["type"], "pong");
}

#[test]
fn our_initiator_verifies_a_bare_snow_seed_server() {
    use attested_noise::ed25519_dalek::{Signer, SigningKey};
    use base64::Engine;

    // The server side written with bare snow, as the Python proxy is.
    let static_secret = [0x42_u8; 32];
    let static_public = *NoiseStaticKey::from_bytes(static_secret).public_key();
    let binding = SigningKey::from_bytes(&[0x43; 32]);
    let platform = TestPlatform::new(0xee);
    let quote = platform
        .quote(&Profile::Seed.report_data(&binding.verifying_key().to_bytes(), &static_public));

    let mut responder = snow::Builder::new(PROTOCOL_NAME.parse().unwrap())
        .local_private_key(&static_secret)
        .unwrap()
        .build_responder()
        .unwrap();
    let mut client = Initiator::new(Profile::Seed, &static_public, &mut rng(9)).unwrap();
    responder
        .read_message(&client.write_first().unwrap(), &mut [0_u8; 48])
        .unwrap();
    let mut msg2 = [0_u8; 48];
    responder.write_message(&[], &mut msg2).unwrap();
    let h = responder.get_handshake_hash().to_vec();
    let mut server = responder.into_transport_mode().unwrap();
    let mut client = client.read_second(&msg2).unwrap();

    let request = client.request_attestation().unwrap();
    let mut buf = vec![0_u8; 65535];
    let n = server.read_message(&request[0], &mut buf).unwrap();
    let asked: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    assert_eq!(asked["type"], "get_attestation");

    let reply = serde_json::json!({"type": "attestation", "payload": {
        "quote_b64": base64::engine::general_purpose::STANDARD.encode(&quote),
        "intel_ta_token": null,
        "mrtd": "00",
        "measurements": {"mrtd": "00"},
        "noise_pubkey": hex::encode(static_public),
        "session_binding": {
            "session_hash": hex::encode(&h),
            "signature": hex::encode(binding.sign(&h).to_bytes()),
            "binding_pubkey": hex::encode(binding.verifying_key().to_bytes()),
        }
    }});
    let n = server
        .write_message(&serde_json::to_vec(&reply).unwrap(), &mut buf)
        .unwrap();
    let attestation = client.receive_attestation(&buf[..n]).unwrap().unwrap();
    let mut client = client.verify(&attestation, &platform.check(), NOW).unwrap();

    let frame = client.chat(&user("hello")).unwrap().remove(0);
    let n = server.read_message(&frame, &mut buf).unwrap();
    let chat: serde_json::Value = serde_json::from_slice(&buf[..n]).unwrap();
    assert_eq!(chat["payload"]["messages"][0]["content"], "hello");
}
