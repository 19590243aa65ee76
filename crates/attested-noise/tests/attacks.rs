//! Attacks on the binding and the transport, each refused with its own error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_noise::message::{Attestation, ChatMessage, ChatRequest, ChatResponse, Message};
use attested_noise::*;
use common::*;
use sha2::{Digest, Sha256};

const PROFILES: [Profile; 2] = [Profile::Seed, Profile::V1];

/// A relay with its own Noise key sits between client and server. The client handshakes with the
/// relay (it was told the relay's key), the relay handshakes with the genuine server and forwards
/// the genuine attestation.
fn relay_attestation(profile: Profile) -> (UnverifiedSession, Attestation, Server, Server) {
    let genuine = Server::new(Config::new(profile), 1);
    let relay = Server::new(Config::new(profile), 66);
    let client = Initiator::new(profile, &relay.public_key(), &mut rng(1)).unwrap();
    let (client, _relay_session) = handshake(client, &relay, 2);
    let relay_as_client = Initiator::new(profile, &genuine.public_key(), &mut rng(3)).unwrap();
    let (mut relay_client, mut genuine_session) = handshake(relay_as_client, &genuine, 4);
    let attestation = fetch_attestation(&mut relay_client, &mut genuine_session, None);
    (client, attestation, genuine, relay)
}

#[test]
fn relay_forwarding_a_genuine_attestation_is_refused() {
    for profile in PROFILES {
        let (client, attestation, genuine, _) = relay_attestation(profile);
        let err = client
            .verify(&attestation, &genuine.check(), NOW)
            .unwrap_err();
        assert!(matches!(err, Error::NoiseKeyMismatch), "{profile}: {err}");
    }
}

#[test]
fn relay_that_also_rewrites_the_noise_key_is_refused() {
    for profile in PROFILES {
        let (client, mut attestation, genuine, relay) = relay_attestation(profile);
        attestation.noise_pubkey = hex::encode(relay.public_key());
        let err = client
            .verify(&attestation, &genuine.check(), NOW)
            .unwrap_err();
        match profile {
            // v1 REPORTDATA binds the Noise static key: the relay's is not the one attested.
            Profile::V1 => assert!(
                matches!(
                    err,
                    Error::ReportDataMismatch {
                        profile: Profile::V1
                    }
                ),
                "{err}"
            ),
            // The seed binds the key only through h, which differs between the two handshakes.
            _ => assert!(matches!(err, Error::SessionHashMismatch), "{err}"),
        }
    }
}

#[test]
fn session_binding_replayed_from_another_session_is_refused() {
    for profile in PROFILES {
        let server = Server::new(Config::new(profile), 1);
        let (mut other, mut other_server) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(10)).unwrap(),
            &server,
            11,
        );
        let replayed = fetch_attestation(&mut other, &mut other_server, None);
        let (client, _) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(12)).unwrap(),
            &server,
            13,
        );
        let err = client.verify(&replayed, &server.check(), NOW).unwrap_err();
        assert!(
            matches!(err, Error::SessionHashMismatch),
            "{profile}: {err}"
        );
    }
}

#[test]
fn replayed_signature_under_this_sessions_hash_is_refused() {
    for profile in PROFILES {
        let server = Server::new(Config::new(profile), 1);
        let (mut other, mut other_server) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(10)).unwrap(),
            &server,
            11,
        );
        let mut replayed = fetch_attestation(&mut other, &mut other_server, None);
        let (client, _) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(12)).unwrap(),
            &server,
            13,
        );
        replayed.session_binding.session_hash = hex::encode(client.handshake_hash());
        let err = client.verify(&replayed, &server.check(), NOW).unwrap_err();
        assert!(matches!(err, Error::BindingSignature), "{profile}: {err}");
    }
}

#[test]
fn report_data_of_another_binding_key_is_refused() {
    for profile in PROFILES {
        let other_binding = [0x77; 32];
        let server = Server::with_report_data(Config::new(profile), 1, |noise, _| {
            profile.report_data(&other_binding, noise.public_key())
        });
        let (mut client, mut server_session) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(1)).unwrap(),
            &server,
            2,
        );
        let attestation = fetch_attestation(&mut client, &mut server_session, None);
        let err = client
            .verify(&attestation, &server.check(), NOW)
            .unwrap_err();
        assert!(
            matches!(err, Error::ReportDataMismatch { profile: p } if p == profile),
            "{profile}: {err}"
        );
    }
}

#[test]
fn sha256_report_data_is_refused_as_hash_confusion() {
    for profile in PROFILES {
        let server = Server::with_report_data(Config::new(profile), 1, |_, binding| {
            let mut rd = [0_u8; 64];
            rd[..32].copy_from_slice(&Sha256::digest(binding.verifying_key().to_bytes()));
            ReportData::from_bytes(rd)
        });
        let (mut client, mut server_session) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(1)).unwrap(),
            &server,
            2,
        );
        let attestation = fetch_attestation(&mut client, &mut server_session, None);
        let err = client
            .verify(&attestation, &server.check(), NOW)
            .unwrap_err();
        assert!(
            matches!(err, Error::ReportDataWrongHash),
            "{profile}: {err}"
        );
    }
}

#[test]
fn seed_report_data_is_refused_by_a_v1_client() {
    let server = Server::with_report_data(Config::new(Profile::V1), 1, |noise, binding| {
        Profile::Seed.report_data(&binding.verifying_key().to_bytes(), noise.public_key())
    });
    let (mut client, mut server_session) = handshake(
        Initiator::new(Profile::V1, &server.public_key(), &mut rng(1)).unwrap(),
        &server,
        2,
    );
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::ReportDataMismatch { .. }), "{err}");
}

#[test]
fn evidence_from_another_platform_is_refused() {
    for profile in PROFILES {
        let server = Server::new(Config::new(profile), 1);
        let (mut client, mut server_session) = handshake(
            Initiator::new(profile, &server.public_key(), &mut rng(1)).unwrap(),
            &server,
            2,
        );
        let attestation = fetch_attestation(&mut client, &mut server_session, None);
        let err = client
            .verify(&attestation, &TestPlatform::new(0x01).check(), NOW)
            .unwrap_err();
        assert!(matches!(err, Error::Evidence(_)), "{profile}: {err}");
    }
}

#[test]
fn attestation_without_evidence_is_refused() {
    let server = Server::new(Config::new(Profile::Seed), 1);
    let (mut client, mut server_session) = handshake(
        Initiator::new(Profile::Seed, &server.public_key(), &mut rng(1)).unwrap(),
        &server,
        2,
    );
    let mut attestation = fetch_attestation(&mut client, &mut server_session, None);
    attestation.quote_b64 = None;
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::NoEvidence), "{err}");
}

#[test]
fn per_session_evidence_is_checked_against_this_handshake() {
    let config = Config::new(Profile::V1).require_session_evidence(true);
    let server = Server::new(config.clone(), 1);

    // Absent although required.
    let (mut client, mut server_session) = handshake(
        Initiator::with_config(config.clone(), &server.public_key(), &mut rng(1)).unwrap(),
        &server,
        2,
    );
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::SessionEvidenceMissing), "{err}");

    // Made for another session.
    let (mut client, mut server_session) = handshake(
        Initiator::with_config(config.clone(), &server.public_key(), &mut rng(3)).unwrap(),
        &server,
        4,
    );
    let stale = server
        .platform
        .quote(&Profile::V1.session_report_data(&[9; 32]).unwrap());
    let attestation = fetch_attestation(&mut client, &mut server_session, Some(stale));
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::SessionEvidenceMismatch), "{err}");

    // Forged.
    let (mut client, mut server_session) = handshake(
        Initiator::with_config(config.clone(), &server.public_key(), &mut rng(5)).unwrap(),
        &server,
        6,
    );
    let forged = TestPlatform::new(1).quote(&server_session.session_report_data().unwrap());
    let attestation = fetch_attestation(&mut client, &mut server_session, Some(forged));
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    assert!(matches!(err, Error::SessionEvidence(_)), "{err}");

    // Genuine and fresh.
    let (mut client, mut server_session) = handshake(
        Initiator::with_config(config, &server.public_key(), &mut rng(7)).unwrap(),
        &server,
        8,
    );
    let fresh = server
        .platform
        .quote(&server_session.session_report_data().unwrap());
    let attestation = fetch_attestation(&mut client, &mut server_session, Some(fresh));
    let session = client.verify(&attestation, &server.check(), NOW).unwrap();
    assert_eq!(
        session.session_evidence().unwrap().report_data(),
        &Profile::V1
            .session_report_data(session.handshake_hash())
            .unwrap()
    );
}

/// The attack: a server whose platform evidence is the expected TD answers with fresh
/// per-session evidence from another TD on the same genuine platform (same signing key, other
/// MRTD). The session quote verifies and binds the handshake, so only the comparison of
/// measurements refuses it.
#[test]
fn per_session_evidence_from_another_td_is_refused() {
    let config = Config::new(Profile::V1).require_session_evidence(true);
    let server = Server::new(config.clone(), 1);
    let (mut client, mut server_session) = handshake(
        Initiator::with_config(config, &server.public_key(), &mut rng(9)).unwrap(),
        &server,
        10,
    );
    let other_td = server.platform.with_mrtd([0x66; 48]);
    let fresh = other_td.quote(&server_session.session_report_data().unwrap());
    let attestation = fetch_attestation(&mut client, &mut server_session, Some(fresh));
    let err = client
        .verify(&attestation, &server.check(), NOW)
        .unwrap_err();
    match err {
        Error::SessionEvidenceMeasurements { differing } => {
            assert_eq!(differing, vec!["mrtd".to_owned()]);
        }
        other => panic!("expected a measurement refusal, got {other}"),
    }
}

#[test]
fn seed_server_cannot_send_per_session_evidence() {
    let server = Server::new(Config::new(Profile::Seed), 1);
    let (_, mut server_session) = handshake(
        Initiator::new(Profile::Seed, &server.public_key(), &mut rng(1)).unwrap(),
        &server,
        2,
    );
    assert!(matches!(
        server_session.attestation(Some(b"quote")),
        Err(Error::SessionEvidenceUnsupported)
    ));
}

/// A chat request whose JSON encoding is exactly `len` bytes.
fn request_of_encoded_len(len: usize) -> ChatRequest {
    let base = Message::Chat(user("")).encode().unwrap().len();
    let request = user(&"a".repeat(len - base));
    assert_eq!(Message::Chat(request.clone()).encode().unwrap().len(), len);
    request
}

#[test]
fn seed_refuses_65520_bytes_before_encryption_and_stays_in_step() {
    let (mut client, mut server) = verified_pair(Config::new(Profile::Seed), 1);
    let err = client.chat(&request_of_encoded_len(65520)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::MessageTooLarge {
                len: 65520,
                max: 65519
            }
        ),
        "{err}"
    );
    assert!(!client.is_closed());
    // Nothing was encrypted: the next message (the largest allowed) decrypts on the server.
    let largest = request_of_encoded_len(65519);
    let frames = client.chat(&largest).unwrap();
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].len(), 65535);
    match server.receive(&frames[0]).unwrap() {
        Received::Chat(request) => assert_eq!(request, largest),
        other => panic!("{other:?}"),
    }
    // The server side refuses the same way.
    let big = Message::ChatResponse(ChatResponse {
        message: ChatMessage {
            role: "assistant".into(),
            content: "b".repeat(70_000),
        },
        ..ChatResponse::default()
    });
    assert!(matches!(
        server.send(&big),
        Err(Error::MessageTooLarge { max: 65519, .. })
    ));
    let pong = server.send(&Message::Pong).unwrap();
    assert_eq!(client.receive(&pong[0]).unwrap(), Some(Message::Pong));
}

#[test]
fn v1_refuses_messages_over_its_limit_before_encryption() {
    let (mut client, mut server) =
        verified_pair(Config::new(Profile::V1).max_message_len(100_000), 2);
    let err = client.chat(&user(&"x".repeat(100_000))).unwrap_err();
    assert!(
        matches!(err, Error::MessageTooLarge { max: 100_000, .. }),
        "{err}"
    );
    for frame in client.send(&Message::Ping).unwrap() {
        assert!(matches!(
            server.receive(&frame).unwrap(),
            Received::Reply(_)
        ));
    }
}

fn assert_closed_after(mut tamper: impl FnMut(&mut Vec<u8>), expect: fn(&Error) -> bool) {
    for profile in PROFILES {
        let (mut client, mut server) = verified_pair(Config::new(profile), 3);
        let mut frame = client.chat(&user("hello")).unwrap().remove(0);
        tamper(&mut frame);
        let err = server.receive(&frame).unwrap_err();
        assert!(expect(&err), "{profile}: {err}");
        assert!(err.closes_session());
        assert!(server.is_closed());
        // Even a genuine frame is refused now.
        let next = client.chat(&user("again")).unwrap().remove(0);
        assert!(matches!(server.receive(&next), Err(Error::Closed)));
        assert!(matches!(server.send(&Message::Pong), Err(Error::Closed)));

        // The same on the client side.
        let (mut client, mut server) = verified_pair(Config::new(profile), 4);
        let mut frame = server.send(&Message::Pong).unwrap().remove(0);
        tamper(&mut frame);
        let err = client.receive(&frame).unwrap_err();
        assert!(expect(&err), "{profile}: {err}");
        assert!(client.is_closed());
        assert!(matches!(client.chat(&user("x")), Err(Error::Closed)));
    }
}

#[test]
fn corrupted_frame_closes_the_session() {
    assert_closed_after(|f| f[3] ^= 0x01, |e| matches!(e, Error::Decrypt));
    assert_closed_after(
        |f| *f.last_mut().unwrap() ^= 0x80,
        |e| matches!(e, Error::Decrypt),
    );
}

#[test]
fn truncated_frame_closes_the_session() {
    assert_closed_after(|f| f.truncate(f.len() - 1), |e| matches!(e, Error::Decrypt));
    assert_closed_after(|f| f.truncate(15), |e| matches!(e, Error::FrameLength(15)));
    assert_closed_after(|f| f.clear(), |e| matches!(e, Error::FrameLength(0)));
}

#[test]
fn oversized_frame_closes_the_session() {
    assert_closed_after(
        |f| f.resize(65536, 0),
        |e| matches!(e, Error::FrameLength(65536)),
    );
}

#[test]
fn replayed_frame_closes_the_session() {
    for profile in PROFILES {
        let (mut client, mut server) = verified_pair(Config::new(profile), 5);
        let frame = client.chat(&user("once")).unwrap().remove(0);
        assert!(matches!(server.receive(&frame).unwrap(), Received::Chat(_)));
        assert!(matches!(server.receive(&frame), Err(Error::Decrypt)));
        assert!(server.is_closed());
    }
}

#[test]
fn bad_handshake_frames_are_refused() {
    for profile in PROFILES {
        let server = Server::new(Config::new(profile), 1);
        // Wrong length.
        let mut responder = Responder::new(server.identity.clone(), &mut rng(1)).unwrap();
        assert!(matches!(
            responder.read_first(&[0; 47]),
            Err(Error::HandshakeFrameLength {
                expected: 48,
                got: 47
            })
        ));
        // Made for another server key: the tag does not verify.
        let other = Server::new(Config::new(profile), 9);
        let mut initiator = Initiator::new(profile, &other.public_key(), &mut rng(2)).unwrap();
        let mut responder = Responder::new(server.identity.clone(), &mut rng(3)).unwrap();
        assert!(matches!(
            responder.read_first(&initiator.write_first().unwrap()),
            Err(Error::Handshake)
        ));
        // The other profile's prologue.
        let other_profile = if profile == Profile::Seed {
            Profile::V1
        } else {
            Profile::Seed
        };
        let mut initiator =
            Initiator::new(other_profile, &server.public_key(), &mut rng(4)).unwrap();
        let mut responder = Responder::new(server.identity.clone(), &mut rng(5)).unwrap();
        assert!(matches!(
            responder.read_first(&initiator.write_first().unwrap()),
            Err(Error::Handshake)
        ));
        // A corrupted second frame.
        let mut initiator = Initiator::new(profile, &server.public_key(), &mut rng(6)).unwrap();
        let mut responder = Responder::new(server.identity.clone(), &mut rng(7)).unwrap();
        responder
            .read_first(&initiator.write_first().unwrap())
            .unwrap();
        let (mut msg2, _) = responder.write_second().unwrap();
        msg2[40] ^= 1;
        assert!(matches!(
            initiator.read_second(&msg2),
            Err(Error::Handshake)
        ));
    }
}

#[test]
fn handshake_steps_out_of_order_are_refused() {
    let server = Server::new(Config::new(Profile::V1), 1);
    let mut initiator = Initiator::new(Profile::V1, &server.public_key(), &mut rng(1)).unwrap();
    initiator.write_first().unwrap();
    assert!(matches!(initiator.write_first(), Err(Error::OutOfOrder(_))));
    let initiator = Initiator::new(Profile::V1, &server.public_key(), &mut rng(1)).unwrap();
    assert!(matches!(
        initiator.read_second(&[0; 48]),
        Err(Error::OutOfOrder(_))
    ));
    let responder = Responder::new(server.identity.clone(), &mut rng(1)).unwrap();
    assert!(matches!(
        responder.write_second(),
        Err(Error::OutOfOrder(_))
    ));
}

#[test]
fn a_server_error_instead_of_the_attestation_is_reported() {
    let server = Server::new(Config::new(Profile::Seed), 1);
    let (mut client, mut server_session) = handshake(
        Initiator::new(Profile::Seed, &server.public_key(), &mut rng(1)).unwrap(),
        &server,
        2,
    );
    let frame = server_session.error("no attestation").unwrap().remove(0);
    assert!(matches!(
        client.receive_attestation(&frame),
        Err(Error::Remote(text)) if text == "no attestation"
    ));
    let frame = server_session.send(&Message::Pong).unwrap().remove(0);
    assert!(matches!(
        client.receive_attestation(&frame),
        Err(Error::UnexpectedMessage {
            expected: "attestation",
            got: "pong"
        })
    ));
}
