#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The committed seeds of the `noise_*` fuzz targets: inputs in the targets' framing (a mode
//! byte, then frames each a little-endian u16 length and its bytes) made from this crate's
//! messages, and for `noise_initiator` a genuine attestation for the target's fixed keys and
//! ephemerals. This test checks that they are up to date, byte for byte, and that each seed,
//! run as its target runs it, gets where it is meant to; `ATTESTED_WRITE_FUZZ_SEEDS=1`
//! rewrites them (the one variable of every crate's fuzz-seed test).

#[allow(missing_docs, unreachable_pub)]
#[path = "../../../fuzz/fuzz_targets/noise_common.rs"]
mod noise_common;

use attested_noise::message::{
    Attestation, ChatChunk, ChatDone, ChatMessage, ChatRequest, ChatResponse, ErrorMessage,
    Message, SessionBinding,
};
use attested_noise::{Error, Initiator, Profile, Received, Responder, UnixTime};

/// The mode byte: bit 0 v1 (else seed), bit 1 a genuine handshake with the target's bare peer
/// (else the first frame is the handshake frame under test).
const SEED: u8 = 0;
const V1: u8 = 1;
const GENUINE: u8 = 2;

/// The v1 flags byte that trails a frame's body: another chunk of the message follows; the
/// sender rekeys after this frame.
const MORE: u8 = 0x01;
const REKEY: u8 = 0x02;
/// No flag the v1 profile defines: the receiver closes the session.
const UNKNOWN_FLAG: u8 = 0x04;
const LAST: u8 = 0;

/// A fuzz input: the mode byte, then each frame behind its little-endian u16 length.
fn input(mode: u8, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut out = vec![mode];
    for frame in frames {
        out.extend_from_slice(&u16::try_from(frame.len()).unwrap().to_le_bytes());
        out.extend_from_slice(frame);
    }
    out
}

/// A frame the target's bare peer encrypts (selector byte 1): a seed-profile message.
fn sealed(plaintext: &[u8]) -> Vec<u8> {
    [&[1][..], plaintext].concat()
}

/// A frame the bare peer encrypts: one v1 chunk, its body and its flags byte.
fn sealed_v1(body: &[u8], flags: u8) -> Vec<u8> {
    [&[1][..], body, &[flags]].concat()
}

/// `message` as this crate encodes it.
fn encoded(message: &Message) -> Vec<u8> {
    message.encode().unwrap()
}

/// `message` as the Python proxy and its client send it (`json.dumps`, whose separators are
/// `", "` and `": "`): this crate's encoding with a space after each `,` and `:` outside
/// strings (the encoding has no other whitespace).
fn as_python_sends(message: &Message) -> Vec<u8> {
    let (mut in_string, mut escaped) = (false, false);
    let mut out = Vec::new();
    for byte in encoded(message) {
        out.push(byte);
        match byte {
            _ if escaped => escaped = false,
            b'\\' if in_string => escaped = true,
            b'"' => in_string = !in_string,
            b',' | b':' if !in_string => out.push(b' '),
            _ => {}
        }
    }
    out
}

/// An attestation whose every field is well formed and none is genuine.
fn placeholder_attestation() -> Message {
    Message::Attestation(Box::new(Attestation {
        quote_b64: Some("AAAA".into()),
        intel_ta_token: None,
        mrtd: Some("00".into()),
        measurements: serde_json::json!({"rtmr0": "00"}),
        noise_pubkey: "0".repeat(64),
        session_binding: SessionBinding {
            session_hash: "1".repeat(64),
            signature: "2".repeat(128),
            binding_pubkey: "3".repeat(64),
        },
        session_quote_b64: Some("BBBB".into()),
    }))
}

/// Hands out its 32 bytes as the only randomness there is: the ephemeral key of the bare server in
/// `noise_initiator`.
struct FixedEphemeral([u8; 32]);

impl rand_core::TryRng for FixedEphemeral {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unreachable!("the handshake draws 32 bytes")
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unreachable!("the handshake draws 32 bytes")
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        dst.copy_from_slice(&self.0);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for FixedEphemeral {}

/// The attestation this crate's server sends in `noise_initiator`'s genuine handshake: the
/// target's server keys and config, its initiator's seeded randomness and its bare server's
/// fixed ephemeral, so the same handshake hash the target's session gets.
fn genuine_attestation(profile: Profile) -> Message {
    let mut initiator = Initiator::with_config(
        noise_common::config(profile),
        &noise_common::server_public(),
        &mut noise_common::rng(),
    )
    .unwrap();
    let mut responder = Responder::new(
        noise_common::identity(profile),
        &mut FixedEphemeral(noise_common::SERVER_EPHEMERAL),
    )
    .unwrap();
    responder
        .read_first(&initiator.write_first().unwrap())
        .unwrap();
    let (second, server) = responder.write_second().unwrap();
    let client = initiator.read_second(&second).unwrap();
    assert_eq!(client.handshake_hash(), server.handshake_hash());
    Message::Attestation(Box::new(server.attestation_message(None).unwrap()))
}

fn chat() -> Message {
    Message::Chat(ChatRequest {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: "hi".into(),
        }],
        model: Some("m".into()),
        temperature: Some(0.2),
        stream: Some(true),
    })
}

fn chat_response() -> Message {
    Message::ChatResponse(ChatResponse {
        message: ChatMessage {
            role: "assistant".into(),
            content: "4".into(),
        },
        model: "m".into(),
        prompt_tokens: 1,
        completion_tokens: 2,
    })
}

fn chat_chunk() -> Message {
    Message::ChatChunk(ChatChunk { delta: "d".into() })
}

fn chat_done() -> Message {
    Message::ChatDone(ChatDone {
        model: "m".into(),
        prompt_tokens: 1,
        completion_tokens: 1,
    })
}

fn error() -> Message {
    Message::Error(ErrorMessage { error: "e".into() })
}

/// A message type the schema does not have.
const UNKNOWN_TYPE: &[u8] = br#"{"type": "sudo", "payload": {}}"#;
/// A `ping` without its (empty) payload, which the decoder takes as empty.
const PING_WITHOUT_PAYLOAD: &[u8] = br#"{"type": "ping"}"#;
/// A handshake frame of the right length whose ephemeral key and tag are nobody's.
fn raw_handshake_frame() -> Vec<u8> {
    (0..48).collect()
}

/// A target's seeds: each file name and its bytes.
type Seeds = Vec<(&'static str, Vec<u8>)>;

/// The seeds of each target.
fn seeds() -> Vec<(&'static str, Seeds)> {
    let v1_attestation = encoded(&genuine_attestation(Profile::V1));
    let (attestation_head, attestation_tail) = v1_attestation.split_at(50);
    let v1_chat = encoded(&chat());
    let (chat_head, chat_tail) = v1_chat.split_at(20);
    vec![
        (
            "noise_message",
            vec![
                (
                    "seed-attestation",
                    as_python_sends(&placeholder_attestation()),
                ),
                ("seed-chat", as_python_sends(&chat())),
                ("seed-chat-response", as_python_sends(&chat_response())),
                ("seed-chunk", as_python_sends(&chat_chunk())),
                ("seed-done", as_python_sends(&chat_done())),
                ("seed-error", as_python_sends(&error())),
                (
                    "seed-get-attestation",
                    as_python_sends(&Message::GetAttestation),
                ),
                ("seed-ping", PING_WITHOUT_PAYLOAD.to_vec()),
                ("seed-unknown", UNKNOWN_TYPE.to_vec()),
            ],
        ),
        (
            "noise_initiator",
            vec![
                // The server's second handshake frame, raw.
                ("seed-raw-handshake", input(SEED, &[raw_handshake_frame()])),
                // The server answers get_attestation with an error.
                (
                    "seed-error-reply",
                    input(SEED | GENUINE, &[sealed(&as_python_sends(&error()))]),
                ),
                // The Python proxy's answers: the attestation (which verifies), then a session.
                (
                    "seed-profile-seed",
                    input(
                        SEED | GENUINE,
                        &[
                            sealed(&as_python_sends(&genuine_attestation(Profile::Seed))),
                            sealed(&as_python_sends(&chat_response())),
                            sealed(&as_python_sends(&Message::Pong)),
                            sealed(&as_python_sends(&error())),
                        ],
                    ),
                ),
                // This crate's v1 answers: the attestation in two chunks, a streamed answer
                // whose last frame rekeys.
                (
                    "seed-profile-v1",
                    input(
                        V1 | GENUINE,
                        &[
                            sealed_v1(attestation_head, MORE),
                            sealed_v1(attestation_tail, LAST),
                            sealed_v1(&encoded(&chat_chunk()), LAST),
                            sealed_v1(&encoded(&chat_done()), REKEY),
                        ],
                    ),
                ),
            ],
        ),
        (
            "noise_responder",
            vec![
                // The client's first handshake frame, raw, and a frame after it.
                (
                    "seed-raw-handshake",
                    input(V1, &[raw_handshake_frame(), vec![0; 20]]),
                ),
                // The Python client's requests, an unknown type, and a raw frame too short
                // for a tag.
                (
                    "seed-profile-seed",
                    input(
                        SEED | GENUINE,
                        &[
                            sealed(&as_python_sends(&Message::GetAttestation)),
                            sealed(&as_python_sends(&chat())),
                            sealed(UNKNOWN_TYPE),
                            sealed(PING_WITHOUT_PAYLOAD),
                            b"\0garbage".to_vec(),
                        ],
                    ),
                ),
                // This crate's v1 requests, the chat in two chunks, then a frame with a flag
                // v1 does not define and a ping the closed session refuses.
                (
                    "seed-profile-v1",
                    input(
                        V1 | GENUINE,
                        &[
                            sealed_v1(&encoded(&Message::GetAttestation), LAST),
                            sealed_v1(chat_head, MORE),
                            sealed_v1(chat_tail, LAST),
                            sealed_v1(b"x", UNKNOWN_FLAG),
                            sealed_v1(&encoded(&Message::Ping), LAST),
                        ],
                    ),
                ),
            ],
        ),
    ]
}

#[test]
fn committed_fuzz_seeds_are_current() {
    for (target, seeds) in seeds() {
        attested_testdata::check_or_write_fuzz_seeds(target, &seeds);
    }
}

/// `noise_initiator`'s run of `data`, step by step.
fn run_initiator(data: &[u8]) -> Vec<String> {
    let (profile, genuine, frames) = noise_common::parse(data).unwrap();
    let mut steps = Vec::new();
    let mut frames = frames.into_iter();
    let mut initiator = Initiator::with_config(
        noise_common::config(profile),
        &noise_common::server_public(),
        &mut noise_common::rng(),
    )
    .unwrap();
    let first = initiator.write_first().unwrap();
    let mut server = None;
    let second = if genuine {
        let mut hs = noise_common::bare_builder(profile)
            .local_private_key(&noise_common::SERVER_SECRET)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&noise_common::SERVER_EPHEMERAL)
            .build_responder()
            .unwrap();
        hs.read_message(&first, &mut [0_u8; 48]).unwrap();
        let mut second = vec![0_u8; 48];
        hs.write_message(&[], &mut second).unwrap();
        server = Some(hs.into_transport_mode().unwrap());
        second
    } else {
        frames.next().unwrap_or_default().to_vec()
    };
    let mut session = match initiator.read_second(&second) {
        Ok(session) => session,
        Err(error) => {
            steps.push(format!("handshake: {error}"));
            return steps;
        }
    };
    let mut next = |frame: &[u8]| match server.as_mut() {
        Some(peer) => noise_common::frame_for(peer, frame),
        None => frame.to_vec(),
    };
    session.request_attestation().unwrap();
    let attestation = loop {
        let Some(frame) = frames.next() else {
            return steps;
        };
        match session.receive_attestation(&next(frame)) {
            Ok(Some(attestation)) => break attestation,
            Ok(None) => steps.push("attestation: partial".into()),
            Err(error) => {
                steps.push(format!("attestation: {error}"));
                if error.closes_session() {
                    return steps;
                }
            }
        }
    };
    let mut session = match session.verify(
        &attestation,
        &noise_common::PrefixCheck,
        UnixTime(1_750_000_000),
    ) {
        Ok(session) => session,
        Err(error) => {
            steps.push(format!("verify: {error}"));
            return steps;
        }
    };
    steps.push("verified".into());
    for frame in frames {
        steps.push(match session.receive(&next(frame)) {
            Ok(Some(message)) => message.type_name().into(),
            Ok(None) => "partial".into(),
            Err(error) => {
                assert_eq!(error.closes_session(), session.is_closed());
                format!("{error}")
            }
        });
    }
    steps
}

/// `noise_responder`'s run of `data`, step by step.
fn run_responder(data: &[u8]) -> Vec<String> {
    let (profile, genuine, frames) = noise_common::parse(data).unwrap();
    let mut steps = Vec::new();
    let mut frames = frames.into_iter();
    let mut responder =
        Responder::new(noise_common::identity(profile), &mut noise_common::rng()).unwrap();
    let mut client = None;
    if genuine {
        let mut hs = noise_common::bare_builder(profile)
            .remote_public_key(&noise_common::server_public())
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut first = [0_u8; 48];
        hs.write_message(&[], &mut first).unwrap();
        responder.read_first(&first).unwrap();
        client = Some(hs);
    } else if let Err(error) = responder.read_first(frames.next().unwrap_or_default()) {
        steps.push(format!("handshake: {error}"));
        return steps;
    }
    let (second, mut session) = responder.write_second().unwrap();
    let mut client = client.map(|mut hs| {
        hs.read_message(&second, &mut [0_u8; 48]).unwrap();
        hs.into_transport_mode().unwrap()
    });
    for frame in frames {
        let frame = match client.as_mut() {
            Some(peer) => noise_common::frame_for(peer, frame),
            None => frame.to_vec(),
        };
        steps.push(match session.receive(&frame) {
            Ok(Received::AttestationRequested) => {
                let evidence = session.session_report_data().map(|rd| rd.to_vec());
                session.attestation(evidence.as_deref()).unwrap();
                "attestation requested".into()
            }
            Ok(Received::Chat(request)) => {
                assert_eq!(Message::Chat(request), chat());
                "chat".into()
            }
            Ok(Received::Reply(_)) => "reply".into(),
            Ok(Received::Partial) => "partial".into(),
            Ok(other) => format!("{other:?}"),
            Err(error) => {
                assert_eq!(error.closes_session(), session.is_closed());
                format!("{error}")
            }
        });
    }
    steps
}

fn seed(target: &str, name: &str) -> Vec<u8> {
    let (_, seeds) = seeds().into_iter().find(|(t, _)| *t == target).unwrap();
    seeds.into_iter().find(|(n, _)| *n == name).unwrap().1
}

#[test]
fn initiator_seeds_get_where_they_are_meant_to() {
    let run = |name| run_initiator(&seed("noise_initiator", name));
    assert_eq!(
        run("seed-raw-handshake"),
        ["handshake: Noise handshake failed"]
    );
    assert_eq!(
        run("seed-error-reply"),
        ["attestation: peer reported an error: e"]
    );
    // The attestations verify: the fuzzer starts past `verify`.
    assert_eq!(
        run("seed-profile-seed"),
        ["verified", "chat_response", "pong", "error"]
    );
    assert_eq!(
        run("seed-profile-v1"),
        [
            "attestation: partial",
            "verified",
            "chat_chunk",
            "chat_done"
        ]
    );
}

#[test]
fn responder_seeds_get_where_they_are_meant_to() {
    let run = |name| run_responder(&seed("noise_responder", name));
    assert_eq!(
        run("seed-raw-handshake"),
        ["handshake: Noise handshake failed"]
    );
    assert_eq!(
        run("seed-profile-seed"),
        [
            "attestation requested".to_owned(),
            "chat".into(),
            "reply".into(),
            "reply".into(),
            Error::FrameLength(8).to_string(),
        ]
    );
    assert_eq!(
        run("seed-profile-v1"),
        [
            "attestation requested".to_owned(),
            "partial".into(),
            "chat".into(),
            Error::FrameHeader.to_string(),
            Error::Closed.to_string(),
        ]
    );
}

#[test]
fn message_seeds_decode_and_the_unknown_type_is_named() {
    for (name, bytes) in seeds().remove(0).1 {
        match Message::decode(&bytes) {
            Ok(message) => assert_ne!(name, "seed-unknown", "{message:?}"),
            Err(Error::UnknownMessageType(kind)) => {
                assert_eq!((name, kind.as_str()), ("seed-unknown", "sudo"));
            }
            Err(error) => panic!("{name}: {error}"),
        }
    }
}
