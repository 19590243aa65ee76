#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The public API: round trips for every suite, attestation binding, key ring, interop with
//! the `ohttp` crate, and refusal of altered input.

mod common;

use std::time::Duration;

use attested_ohttp::{
    Client, Error, KeyPair, KeyRing, Suite, UnixTime, Validity, client::Preference,
    client::VerifiedKeyConfigs, key_config_binding, keys::Aead, keys::Kdf, keys::Kem,
    keys::KeyConfig, keys::SymmetricSuite, keys::decode_key_config_list,
    keys::encode_key_config_list,
};
use common::{RefusingEvidence, TestEvidence, os_rng};

const HOUR: Duration = Duration::from_secs(3600);

fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(1_800_000_000 + secs)
}

fn ring_for(suites: &[Suite]) -> KeyRing {
    let mut ring = KeyRing::new();
    for (i, suite) in suites.iter().enumerate() {
        let pair = KeyPair::generate(
            u8::try_from(i).unwrap(),
            suite.kem,
            vec![suite.symmetric()],
            &mut os_rng(),
        )
        .unwrap();
        ring.insert(pair, Validity::new(t(0), HOUR, HOUR)).unwrap();
    }
    ring
}

fn attested_client(list: &[u8]) -> Client {
    Client::new(list, &TestEvidence(key_config_binding(list))).unwrap()
}

fn round_trip(ring: &KeyRing, client: &Client, now: UnixTime) {
    let request = b"\x00\x03GET\x05https\x0bexample.com\x01/";
    let (enc, pending) = client.encapsulate(request, &mut os_rng()).unwrap();
    let (inner, ctx) = ring.decapsulate(&enc, now).unwrap();
    assert_eq!(inner, request);
    assert_eq!(ctx.suite(), client.suite());
    let response = ctx.encapsulate(b"\x01\x40\xc8", &mut os_rng()).unwrap();
    assert_eq!(pending.decapsulate(&response).unwrap(), b"\x01\x40\xc8");

    // Opened where it lies: the same request after the untouched key header and encapsulated
    // key (the replay window names a request by them), and a context that answers the client.
    let (enc, pending) = client.encapsulate(request, &mut os_rng()).unwrap();
    let mut opened = enc.clone();
    let (offset, ctx) = ring.decapsulate_in_place(&mut opened, now).unwrap();
    assert_eq!(
        offset + request.len() + 16,
        enc.len(),
        "offset past the header and key"
    );
    assert_eq!(opened.get(..offset), enc.get(..offset));
    assert_eq!(opened.get(offset..), Some(&request[..]));
    let response = ctx.encapsulate(b"\x01\x40\xc8", &mut os_rng()).unwrap();
    assert_eq!(pending.decapsulate(&response).unwrap(), b"\x01\x40\xc8");
}

#[test]
fn every_kem_kdf_aead_combination_round_trips() {
    for kem in Kem::ALL {
        for kdf in Kdf::ALL {
            for aead in Aead::ALL {
                let suite = Suite::new(kem, kdf, aead);
                let ring = ring_for(&[suite]);
                let client = attested_client(&ring.encoded_list(t(1)));
                assert_eq!(client.suite(), suite);
                round_trip(&ring, &client, t(1));
            }
        }
    }
}

#[test]
fn client_refuses_unbound_or_unverified_key_configs() {
    let ring = ring_for(&[Suite::X25519_AES128GCM]);
    let list = ring.encoded_list(t(1));
    let other = ring_for(&[Suite::X25519_AES128GCM]).encoded_list(t(1));
    assert_eq!(
        Client::new(&list, &TestEvidence(key_config_binding(&other))).unwrap_err(),
        Error::KeyConfigsNotBound
    );
    let mut flipped = key_config_binding(&list).to_bytes();
    flipped[63] ^= 1;
    assert_eq!(
        Client::new(&list, &TestEvidence(flipped.into())).unwrap_err(),
        Error::KeyConfigsNotBound
    );
    assert!(matches!(
        Client::appraise(&list, &attested_ohttp::Evidence::platform_quote(b"quote"), &RefusingEvidence, attested_ohttp::UnixTime(0)).unwrap_err(),
        Error::EvidenceRejected(msg) if msg.contains("quote signature")
    ));
}

#[test]
fn preference_picks_the_best_mutual_suite_not_the_first() {
    let x25519 = KeyPair::generate(
        1,
        Kem::X25519Sha256,
        vec![
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes256Gcm),
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
        ],
        &mut os_rng(),
    )
    .unwrap();
    let p384 = KeyPair::generate(
        2,
        Kem::P384Sha384,
        vec![
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
            SymmetricSuite::new(Kdf::HkdfSha384, Aead::Aes256Gcm),
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
        ],
        &mut os_rng(),
    )
    .unwrap();
    let mut ring = KeyRing::new();
    ring.insert(x25519, Validity::new(t(0), HOUR, HOUR))
        .unwrap();
    ring.insert(p384, Validity::new(t(0), HOUR, HOUR)).unwrap();
    let list = ring.encoded_list(t(1));
    let client = attested_client(&list);
    assert_eq!(client.suite(), Suite::P384_AES256GCM);
    assert_eq!(client.key_config().key_id(), 2);
    round_trip(&ring, &client, t(1));

    let verified =
        VerifiedKeyConfigs::from_accepted(&list, &TestEvidence(key_config_binding(&list))).unwrap();
    let x25519_only = Preference {
        kems: vec![Kem::X25519Sha256],
        ..Preference::default()
    };
    let client = Client::from_verified(&verified, &x25519_only).unwrap();
    assert_eq!(
        client.suite(),
        Suite::new(Kem::X25519Sha256, Kdf::HkdfSha256, Aead::Aes256Gcm)
    );
    round_trip(&ring, &client, t(1));

    let nothing = Preference {
        kems: vec![Kem::P256Sha256],
        ..Preference::default()
    };
    assert_eq!(
        Client::from_verified(&verified, &nothing).unwrap_err(),
        Error::NoSupportedSuite
    );
}

#[test]
fn key_ring_activation_expiry_grace_and_routing() {
    let mut ring = KeyRing::new();
    let suite = Suite::X25519_AES128GCM;
    let old = KeyPair::generate(7, suite.kem, vec![suite.symmetric()], &mut os_rng()).unwrap();
    let new = KeyPair::generate(8, suite.kem, vec![suite.symmetric()], &mut os_rng()).unwrap();
    ring.insert(old.clone(), Validity::new(t(0), HOUR, HOUR))
        .unwrap();
    ring.insert(new.clone(), Validity::new(t(3600), HOUR, HOUR))
        .unwrap();

    // Same id, overlapping acceptance window: refused. Empty window: refused.
    let clash = KeyPair::generate(7, suite.kem, vec![suite.symmetric()], &mut os_rng()).unwrap();
    assert_eq!(
        ring.insert(clash.clone(), Validity::new(t(7000), HOUR, HOUR))
            .unwrap_err(),
        Error::DuplicateKeyId { key_id: 7 }
    );
    let backwards = Validity {
        not_before: t(10),
        not_after: t(5),
        grace: Duration::ZERO,
    };
    assert_eq!(
        ring.insert(clash.clone(), backwards).unwrap_err(),
        Error::InvalidValidity { key_id: 7 }
    );
    // Same id after the old key's grace period: accepted, and routed by time.
    ring.insert(clash, Validity::new(t(7200), HOUR, HOUR))
        .unwrap();

    let old_list = ring.encoded_list(t(10));
    assert_eq!(
        decode_key_config_list(&old_list).unwrap(),
        vec![old.config().clone()]
    );
    let client = attested_client(&old_list);
    let (enc, _) = client.encapsulate(b"x", &mut os_rng()).unwrap();

    assert_eq!(ring.decapsulate(&enc, t(10)).unwrap().0, b"x");
    // After expiry, within grace: still accepted, but no longer advertised.
    assert_eq!(ring.decapsulate(&enc, t(5000)).unwrap().0, b"x");
    assert_eq!(
        decode_key_config_list(&ring.encoded_list(t(5000))).unwrap(),
        vec![new.config().clone()]
    );
    // After grace, the id routes to the successor key, which cannot open it.
    assert_eq!(
        ring.decapsulate(&enc, t(7300)).unwrap_err(),
        Error::Decryption {
            what: "encapsulated request"
        }
    );

    let mut early = KeyRing::new();
    early
        .insert(old.clone(), Validity::new(t(100), HOUR, HOUR))
        .unwrap();
    assert_eq!(
        early.decapsulate(&enc, t(99)).unwrap_err(),
        Error::KeyNotYetActive { key_id: 7 }
    );
    assert_eq!(
        early.decapsulate(&enc, t(100 + 7200)).unwrap_err(),
        Error::KeyExpired { key_id: 7 }
    );
    early.prune(t(100 + 7200));
    assert_eq!(
        early.decapsulate(&enc, t(100 + 7200)).unwrap_err(),
        Error::UnknownKeyId(7)
    );
}

#[test]
fn altered_or_truncated_messages_are_refused() {
    let ring = ring_for(&[Suite::P384_AES256GCM]);
    let client = attested_client(&ring.encoded_list(t(1)));
    let (enc, pending) = client.encapsulate(b"request", &mut os_rng()).unwrap();

    for i in 0..enc.len() {
        let mut bad = enc.clone();
        bad[i] ^= 0x01;
        assert!(
            ring.decapsulate(&bad, t(1)).is_err(),
            "flip at {i} accepted"
        );
        assert!(
            ring.decapsulate_in_place(&mut bad, t(1)).is_err(),
            "flip at {i} accepted in place"
        );
    }
    for len in 0..enc.len() {
        assert!(
            ring.decapsulate(&enc[..len], t(1)).is_err()
                && ring
                    .decapsulate_in_place(&mut enc[..len].to_vec(), t(1))
                    .is_err(),
            "truncation to {len} accepted"
        );
    }
    let mut header = enc.clone();
    header[0] = 9;
    assert_eq!(
        ring.decapsulate(&header, t(1)).unwrap_err(),
        Error::UnknownKeyId(9)
    );
    let mut kem = enc.clone();
    kem[2] = 0x20;
    assert_eq!(
        ring.decapsulate(&kem, t(1)).unwrap_err(),
        Error::KemMismatch {
            key_id: 0,
            request: 0x0020
        }
    );
    let mut aead = enc.clone();
    aead[6] = 1;
    assert_eq!(
        ring.decapsulate(&aead, t(1)).unwrap_err(),
        Error::SuiteNotOffered {
            key_id: 0,
            kdf: 2,
            aead: 1
        }
    );

    let (_, ctx) = ring.decapsulate(&enc, t(1)).unwrap();
    let response = ctx.encapsulate(b"response", &mut os_rng()).unwrap();
    let mut bad = response.clone();
    *bad.last_mut().unwrap() ^= 1;
    assert_eq!(
        pending.decapsulate(&bad).unwrap_err(),
        Error::Decryption {
            what: "encapsulated response"
        }
    );
}

#[test]
fn key_config_lists_skip_unknown_kems_and_refuse_bad_framing() {
    let ring = ring_for(&[Suite::X25519_AES128GCM]);
    let list = ring.encoded_list(t(1));
    // An unknown KEM 0x9999 with a 3-byte key: skipped, the known config survives.
    let mut with_unknown = vec![
        0x00, 0x0c, 0x05, 0x99, 0x99, 1, 2, 3, 0x00, 0x04, 0, 1, 0, 1,
    ];
    with_unknown.truncate(2 + 12);
    with_unknown.extend_from_slice(&list);
    let configs = decode_key_config_list(&with_unknown).unwrap();
    assert_eq!(encode_key_config_list(&configs), list);

    assert!(matches!(
        decode_key_config_list(&list[..list.len() - 1]),
        Err(Error::Truncated { .. })
    ));
    let single = &list[2..];
    let mut trailing = single.to_vec();
    trailing.push(0);
    assert!(matches!(
        KeyConfig::decode(&trailing),
        Err(Error::TrailingBytes { .. })
    ));
    let mut odd = single.to_vec();
    let sym_len_at = single.len() - 6;
    odd[sym_len_at + 1] = 3;
    assert!(KeyConfig::decode(&odd).is_err());
    // An invalid X25519 key length cannot be built; an invalid P-384 point is refused.
    let p384 = ring_for(&[Suite::P384_AES256GCM]).encoded_list(t(1));
    let mut bad_point = p384[2..].to_vec();
    bad_point[4] ^= 0xff;
    assert!(matches!(
        KeyConfig::decode(&bad_point),
        Err(Error::InvalidPublicKey { .. })
    ));
}

#[test]
fn interop_with_the_ohttp_crate_both_directions() {
    use ohttp::hpke::{Aead as OAead, Kdf as OKdf, Kem as OKem};
    // Their server, our client.
    let their_config = ohttp::KeyConfig::new(
        3,
        OKem::X25519Sha256,
        vec![ohttp::SymmetricSuite::new(
            OKdf::HkdfSha256,
            OAead::Aes128Gcm,
        )],
    )
    .unwrap();
    let server = ohttp::Server::new(their_config).unwrap();
    let list = ohttp::KeyConfig::encode_list(&[server.config()]).unwrap();
    let client = attested_client(&list);
    let (enc, pending) = client.encapsulate(b"to ohttp", &mut os_rng()).unwrap();
    let (inner, their_response) = server.decapsulate(&enc).unwrap();
    assert_eq!(inner, b"to ohttp");
    let response = their_response.encapsulate(b"from ohttp").unwrap();
    assert_eq!(pending.decapsulate(&response).unwrap(), b"from ohttp");

    // Their client, our gateway.
    let ring = ring_for(&[Suite::X25519_AES128GCM]);
    let our_list = ring.encoded_list(t(1));
    let their_client = ohttp::ClientRequest::from_encoded_config_list(&our_list).unwrap();
    let (enc, their_pending) = their_client.encapsulate(b"to us").unwrap();
    let (inner, ctx) = ring.decapsulate(&enc, t(1)).unwrap();
    assert_eq!(inner, b"to us");
    let response = ctx.encapsulate(b"from us", &mut os_rng()).unwrap();
    assert_eq!(their_pending.decapsulate(&response).unwrap(), b"from us");
}

#[test]
fn key_pair_debug_never_prints_the_private_key() {
    let pair = KeyPair::import(
        1,
        Kem::X25519Sha256,
        vec![Suite::X25519_AES128GCM.symmetric()],
        &[0x42; 32],
    )
    .unwrap();
    let printed = format!("{pair:?}");
    assert!(!printed.contains(&"42".repeat(32)), "{printed}");
    assert!(printed.contains(&hex::encode(pair.config().public_key())));
}

#[test]
fn a_key_list_longer_than_the_cap_is_refused_and_no_ring_can_serve_one() {
    use attested_ohttp::keys::MAX_KEY_LIST_LEN;
    // The gateway side: X-Wing configurations (1,227 bytes each in the list) until the ring
    // refuses the one that would take the list of all its keys past the cap.
    let mut ring = KeyRing::new();
    let mut refused = None;
    for key_id in 0..=255u8 {
        let pair = KeyPair::generate(
            key_id,
            Kem::XWing,
            vec![Suite::XWING_AES256GCM.symmetric()],
            &mut os_rng(),
        )
        .unwrap();
        if let Err(e) = ring.insert(pair, Validity::new(t(0), HOUR, HOUR)) {
            refused = Some((key_id, e));
            break;
        }
    }
    let (key_id, error) = refused.expect("256 X-Wing keys exceed the cap");
    assert!(
        matches!(
            error,
            Error::LimitExceeded {
                what: "key configuration list",
                ..
            }
        ),
        "{error}"
    );
    let list = ring.encoded_list(t(0));
    assert_eq!(ring.advertised(t(0)).count(), usize::from(key_id));
    assert!(list.len() <= MAX_KEY_LIST_LEN);
    assert!(list.len() + list.len() / usize::from(key_id) > MAX_KEY_LIST_LEN);
    assert_eq!(
        decode_key_config_list(&list).unwrap().len(),
        usize::from(key_id)
    );

    // The client side: a hostile list one byte over the cap (a valid list and one byte of
    // padding, which would otherwise be a framing error) is refused for its length, before
    // any configuration is parsed, and no client is built from it.
    let mut long = list.clone();
    long.resize(MAX_KEY_LIST_LEN + 1, 0);
    assert_eq!(
        decode_key_config_list(&long).unwrap_err(),
        Error::LimitExceeded {
            what: "key configuration list",
            limit: MAX_KEY_LIST_LEN as u64,
            actual: MAX_KEY_LIST_LEN as u64 + 1,
        }
    );
    assert!(Client::new(&long, &TestEvidence(key_config_binding(&long))).is_err());
    assert!(Client::new(&list, &TestEvidence(key_config_binding(&list))).is_ok());
}

#[test]
fn discover_bodies_round_trip_and_are_bounded() {
    use attested_ohttp::azure::{
        AZURE_MAX_DISCOVER_LEN, azure_discover_body, azure_parse_discover,
    };
    let ring = ring_for(&[Suite::P384_AES256GCM, Suite::X25519_AES128GCM]);
    let list = ring.encoded_list(t(0));
    let body = azure_discover_body(&list);
    assert_eq!(azure_parse_discover(body.as_bytes()).unwrap(), list);
    let padded = format!("  {}\r\n", body.to_uppercase());
    assert_eq!(azure_parse_discover(padded.as_bytes()).unwrap(), list);
    assert!(matches!(
        azure_parse_discover(b"not hex"),
        Err(Error::Encoding {
            encoding: "hex",
            ..
        })
    ));
    let endless = vec![b'0'; AZURE_MAX_DISCOVER_LEN + 1];
    assert!(matches!(
        azure_parse_discover(&endless),
        Err(Error::LimitExceeded { .. })
    ));
}
