#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Published vectors: RFC 9458 Appendix A, RFC 9180 (every suite we implement), RFC 9292, the
//! chunked OHTTP draft's example. They need fixed ephemeral keys: feature `test-vectors`.

mod common;

use std::time::Duration;

use attested_ohttp::{
    Client, KeyPair, KeyRing, Suite, UnixTime, Validity, client::Preference,
    client::VerifiedKeyConfigs, hpke_base_receiver_for_vectors, hpke_base_sender_for_vectors,
    key_config_binding, keys::Aead, keys::Kdf, keys::Kem, keys::KeyConfig, keys::SymmetricSuite,
    keys::decode_key_config_list, keys::encode_key_config_list,
};
use common::{FixedRng, TestEvidence, hex_field, json};

fn now() -> UnixTime {
    UnixTime::from_secs(1_800_000_000)
}

fn ring_with(pair: KeyPair) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(now(), Duration::from_secs(3600), Duration::ZERO),
    )
    .unwrap();
    ring
}

/// The key of RFC 9458 Appendix A and the chunked draft's example: key id 1, X25519, HKDF-SHA256
/// with AES-128-GCM or ChaCha20-Poly1305, the vector's `server_skR`.
fn published_key_pair(v: &serde_json::Value) -> KeyPair {
    let symmetric = vec![
        SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
        SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
    ];
    KeyPair::import(1, Kem::X25519Sha256, symmetric, &hex_field(v, "server_skR")).unwrap()
}

#[test]
fn rfc9458_appendix_a_byte_for_byte() {
    let Some(v) = json("ohttp/rfc9458-appendix-a.json") else {
        return;
    };
    let pair = published_key_pair(&v);
    assert_eq!(pair.config().public_key(), hex_field(&v, "server_pkR"));
    assert_eq!(pair.config().encode(), hex_field(&v, "key_config"));
    let ring = ring_with(pair);
    let list = ring.encoded_list(now());
    assert_eq!(list, hex_field(&v, "application_ohttp_keys_list"));

    // The example uses AES-128-GCM; the default preference would pick ChaCha20-Poly1305.
    let verified =
        VerifiedKeyConfigs::from_accepted(&list, &TestEvidence(key_config_binding(&list))).unwrap();
    let preference = Preference {
        aeads: vec![Aead::Aes128Gcm],
        ..Preference::default()
    };
    let client = Client::from_verified(&verified, &preference).unwrap();
    assert_eq!(client.suite(), Suite::X25519_AES128GCM);

    let request = hex_field(&v, "request_bhttp");
    let sk_e: [u8; 32] = hex_field(&v, "client_skE").try_into().unwrap();
    let (encapsulated, pending) = client
        .encapsulate_with_fixed_ephemeral(&request, &sk_e)
        .unwrap();
    assert_eq!(encapsulated, hex_field(&v, "encapsulated_request"));

    let (inner, context) = ring.decapsulate(&encapsulated, now()).unwrap();
    assert_eq!(inner, request);
    let response = hex_field(&v, "response_bhttp");
    let sealed = context
        .encapsulate(&response, &mut FixedRng(hex_field(&v, "response_nonce")))
        .unwrap();
    assert_eq!(sealed, hex_field(&v, "encapsulated_response"));
    assert_eq!(pending.decapsulate(&sealed).unwrap(), response);
}

#[test]
fn rfc9458_list_decodes_and_reencodes() {
    let Some(v) = json("ohttp/rfc9458-appendix-a.json") else {
        return;
    };
    let list = hex_field(&v, "application_ohttp_keys_list");
    let configs = decode_key_config_list(&list).unwrap();
    assert_eq!(configs.len(), 1);
    assert_eq!(configs[0].key_id(), 1);
    assert_eq!(configs[0].kem(), Kem::X25519Sha256);
    assert_eq!(encode_key_config_list(&configs), list);
    assert_eq!(
        KeyConfig::decode(&hex_field(&v, "key_config")).unwrap(),
        configs[0]
    );
}

fn suite_of(kem: u64, kdf: u64, aead: u64) -> Option<Suite> {
    Some(Suite::new(
        Kem::from_id(u16::try_from(kem).ok()?).ok()?,
        Kdf::from_id(u16::try_from(kdf).ok()?).ok()?,
        Aead::from_id(u16::try_from(aead).ok()?).ok()?,
    ))
}

/// Runs every base-mode vector whose suite we implement; returns the suites covered.
fn run_hpke_vectors(vectors: &[serde_json::Value]) -> Vec<Suite> {
    let mut covered = Vec::new();
    for v in vectors {
        if v["mode"].as_u64() != Some(0) {
            continue;
        }
        let Some(suite) = suite_of(
            v["kem_id"].as_u64().unwrap(),
            v["kdf_id"].as_u64().unwrap(),
            v["aead_id"].as_u64().unwrap(),
        ) else {
            continue;
        };
        let pair =
            KeyPair::derive(0, suite.kem, vec![suite.symmetric()], &hex_field(v, "ikmR")).unwrap();
        assert_eq!(
            pair.config().public_key(),
            hex_field(v, "pkRm"),
            "{suite:?} pkRm"
        );
        let imported =
            KeyPair::import(0, suite.kem, vec![suite.symmetric()], &hex_field(v, "skRm")).unwrap();
        assert_eq!(
            imported.config().public_key(),
            hex_field(v, "pkRm"),
            "{suite:?} import"
        );

        let encryptions: Vec<(Vec<u8>, Vec<u8>, Vec<u8>)> = v["encryptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (hex_field(e, "aad"), hex_field(e, "pt"), hex_field(e, "ct")))
            .collect();
        let messages: Vec<(&[u8], &[u8])> = encryptions
            .iter()
            .map(|(a, p, _)| (&a[..], &p[..]))
            .collect();
        let exports: Vec<(Vec<u8>, usize, Vec<u8>)> = v["exports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    hex_field(e, "exporter_context"),
                    usize::try_from(e["L"].as_u64().unwrap()).unwrap(),
                    hex_field(e, "exported_value"),
                )
            })
            .collect();
        let export_req: Vec<(&[u8], usize)> =
            exports.iter().map(|(c, l, _)| (&c[..], *l)).collect();
        let info = hex_field(v, "info");
        let (enc, cts, outs) = hpke_base_sender_for_vectors(
            suite,
            &hex_field(v, "pkRm"),
            &info,
            &hex_field(v, "ikmE"),
            &messages,
            &export_req,
        )
        .unwrap();
        assert_eq!(enc, hex_field(v, "enc"), "{suite:?} enc");
        for ((_, _, ct), got) in encryptions.iter().zip(&cts) {
            assert_eq!(got, ct, "{suite:?} ciphertext");
        }
        for ((_, _, value), got) in exports.iter().zip(&outs) {
            assert_eq!(got, value, "{suite:?} export");
        }
        let opened: Vec<(&[u8], &[u8])> = encryptions
            .iter()
            .map(|(a, _, c)| (&a[..], &c[..]))
            .collect();
        let pts =
            hpke_base_receiver_for_vectors(suite, &hex_field(v, "skRm"), &enc, &info, &opened)
                .unwrap();
        for ((_, pt, _), got) in encryptions.iter().zip(&pts) {
            assert_eq!(got, pt, "{suite:?} plaintext");
        }
        covered.push(suite);
    }
    covered
}

#[test]
fn rfc9180_vectors_for_every_supported_classical_suite() {
    let Some(v) = json("ohttp/hpke/rfc9180-test-vectors.json") else {
        return;
    };
    let covered = run_hpke_vectors(v.as_array().unwrap());
    // RFC 9180 has vectors for P-256 and X25519 with HKDF-SHA256/512 and all three AEADs.
    for kem in [Kem::P256Sha256, Kem::X25519Sha256] {
        for kdf in [Kdf::HkdfSha256, Kdf::HkdfSha512] {
            for aead in Aead::ALL {
                let suite = Suite::new(kem, kdf, aead);
                if covered.contains(&suite) {
                    continue;
                }
                // Not every combination is published; check the ones that are.
                let published = v.as_array().unwrap().iter().any(|x| {
                    x["mode"] == 0
                        && x["kem_id"] == kem.id()
                        && x["kdf_id"] == kdf.id()
                        && x["aead_id"] == aead.id()
                });
                assert!(!published, "{suite:?} published but not run");
            }
        }
    }
    assert!(covered.len() >= 6, "only {} suites covered", covered.len());
}

#[test]
fn xwing_vectors() {
    let Some(v) = json("ohttp/hpke/pq-6433c8f.json") else {
        return;
    };
    let covered = run_hpke_vectors(v.as_array().unwrap());
    assert!(
        covered.iter().any(|s| s.kem == Kem::XWing),
        "no X-Wing vector ran"
    );
}

#[test]
fn rfc9292_examples_round_trip_through_bhttp() {
    let Some(v) = json("ohttp/rfc9292-bhttp-examples.json") else {
        return;
    };
    for vector in v["vectors"].as_array().unwrap() {
        let name = vector["name"].as_str().unwrap();
        let bytes = hex_field(vector, "bhttp_hex");
        let message = bhttp::Message::read_bhttp(&mut std::io::Cursor::new(&bytes[..]))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mode = if bytes[0] >= 2 {
            bhttp::Mode::IndeterminateLength
        } else {
            bhttp::Mode::KnownLength
        };
        let mut again = Vec::new();
        message.write_bhttp(mode, &mut again).unwrap();
        // Trailing empty sections may be truncated and padding is dropped (RFC 9292 §3.8), so
        // the two encodings agree up to trailing zero bytes.
        let trim = |b: &[u8]| b[..b.iter().rposition(|&x| x != 0).map_or(0, |i| i + 1)].to_vec();
        assert_eq!(trim(&again), trim(&bytes), "{name}");
        let reparsed = bhttp::Message::read_bhttp(&mut std::io::Cursor::new(&again[..])).unwrap();
        assert_eq!(reparsed.content(), message.content(), "{name}");
        if name.starts_with("rfc9292-5.1") {
            assert_eq!(message.control().method(), Some(&b"GET"[..]));
            assert_eq!(message.control().path(), Some(&b"/hello.txt"[..]));
            assert_eq!(message.header().get(b"host"), Some(&b"www.example.com"[..]));
        }
    }
}

/// The chunked OHTTP draft's example, byte for byte.
#[test]
fn draft_example_byte_for_byte() {
    let Some(v) = json("ohttp/chunked-ohttp-draft-example.json") else {
        return;
    };
    let pair = published_key_pair(&v);
    assert_eq!(pair.config().encode(), hex_field(&v, "key_config"));
    let ring = common::ring_of(pair);
    let list = ring.encoded_list(now());
    let verified =
        VerifiedKeyConfigs::from_accepted(&list, &TestEvidence(key_config_binding(&list))).unwrap();
    let preference = Preference {
        aeads: vec![Aead::Aes128Gcm],
        ..Preference::default()
    };
    let client = Client::from_verified(&verified, &preference).unwrap();

    let parts: Vec<Vec<u8>> = v["encapsulated_request_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| hex::decode(p.as_str().unwrap()).unwrap())
        .collect();
    let request = hex_field(&v, "request_bhttp");
    let sk_e: [u8; 32] = hex_field(&v, "client_skE").try_into().unwrap();
    let (head, mut sealer, mut response_decoder) = client
        .encapsulate_chunked_with_fixed_ephemeral(
            attested_ohttp::chunked::ChunkLimits::default(),
            &sk_e,
        )
        .unwrap();
    assert_eq!(head, [parts[0].clone(), parts[1].clone()].concat());
    let mut chunk = Vec::new();
    sealer.seal_chunk(&request[..12], &mut chunk).unwrap();
    assert_eq!(chunk, parts[2]);
    let mut chunk2 = Vec::new();
    sealer.seal_chunk(&request[12..25], &mut chunk2).unwrap();
    assert_eq!(chunk2, parts[3]);
    let mut last = Vec::new();
    sealer.seal_final(&request[25..], &mut last).unwrap();
    assert_eq!(last, parts[4]);
    let wire = [head, chunk, chunk2, last].concat();
    assert_eq!(wire, hex_field(&v, "encapsulated_request"));

    // The gateway, fed one byte at a time.
    let mut decoder = attested_ohttp::chunked::ChunkedRequestDecoder::new(
        &ring,
        now(),
        attested_ohttp::chunked::ChunkLimits::default(),
    );
    let mut inner = Vec::new();
    for b in &wire {
        decoder.push(std::slice::from_ref(b), &mut inner).unwrap();
    }
    let context = decoder.finish(&mut inner).unwrap();
    assert_eq!(inner, request);

    let rparts: Vec<Vec<u8>> = v["encapsulated_response_parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| hex::decode(p.as_str().unwrap()).unwrap())
        .collect();
    let response = hex_field(&v, "response_bhttp");
    let (nonce, mut rsealer) = context
        .start(&mut FixedRng(hex_field(&v, "response_nonce")))
        .unwrap();
    assert_eq!(nonce, rparts[0]);
    let mut r1 = Vec::new();
    rsealer.seal_chunk(&response[..1], &mut r1).unwrap();
    assert_eq!(r1, rparts[1]);
    let mut r2 = Vec::new();
    rsealer.seal_chunk(&response[1..3], &mut r2).unwrap();
    assert_eq!(r2, rparts[2]);
    let mut r3 = Vec::new();
    rsealer.seal_final(&response[3..], &mut r3).unwrap();
    assert_eq!(r3, rparts[3]);
    let rwire = [nonce, r1, r2, r3].concat();
    assert_eq!(rwire, hex_field(&v, "encapsulated_response"));

    let mut out = Vec::new();
    response_decoder.push(&rwire, &mut out).unwrap();
    response_decoder.finish(&mut out).unwrap();
    assert_eq!(out, response);
}
