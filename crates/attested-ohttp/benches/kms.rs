//! The cost of one Azure KMS receipt verification: a `listpubkeys` body with one entry (the
//! shape the KMS serves), its node certificate issued by the pinned P-384 service certificate
//! (the test PKI of `tests/make_kms_fixture.py`), verified by `KmsTrust::last_verified`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use attested_ohttp::{KeyPair, Suite, UnixTime, kms::KmsTrust};
use base64::Engine as _;
use criterion::{Criterion, criterion_group, criterion_main};
use p384::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use sha2::{Digest, Sha256};

const SERVICE: &str = include_str!("../tests/data/kms/service_cert.pem");
const NODE: &str = include_str!("../tests/data/kms/node_cert.pem");
const NODE_KEY: &str = include_str!("../tests/data/kms/node_key.hex");

/// One entry whose receipt binds `pair` (claims_digest = SHA-256(base64url x || base64url y)).
fn body(pair: &KeyPair) -> Vec<u8> {
    let pk = pair.config().public_key();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claims: [u8; 32] = Sha256::digest(format!(
        "{}{}",
        b64.encode(&pk[1..49]),
        b64.encode(&pk[49..97])
    ))
    .into();
    let write_set = [0x11; 32];
    let commit_evidence = "ce:2.40:0123456789abcdef";
    let proof = [(true, [0x22; 32]), (false, [0x33; 32]), (true, [0x44; 32])];
    let mut h = Sha256::new();
    h.update(write_set);
    h.update(Sha256::digest(commit_evidence));
    h.update(claims);
    let mut root: [u8; 32] = h.finalize().into();
    for (left, sibling) in &proof {
        let mut h = Sha256::new();
        if *left {
            h.update(sibling);
            h.update(root);
        } else {
            h.update(root);
            h.update(sibling);
        }
        root = h.finalize().into();
    }
    let key = SigningKey::from_slice(&hex::decode(NODE_KEY.trim()).unwrap()).unwrap();
    let signature: Signature = key.sign_prehash(&root).unwrap();
    let proof: Vec<_> = proof
        .iter()
        .map(
            |(left, s)| serde_json::json!({ if *left { "left" } else { "right" }: hex::encode(s) }),
        )
        .collect();
    let receipt = serde_json::json!({
        "cert": NODE,
        "leaf_components": {
            "claims_digest": hex::encode(claims),
            "commit_evidence": commit_evidence,
            "write_set_digest": hex::encode(write_set),
        },
        "node_id": "00",
        "proof": proof,
        "signature": base64::engine::general_purpose::STANDARD.encode(signature.to_der().as_bytes()),
    });
    serde_json::to_vec(&serde_json::json!([{
        "publicKey": hex::encode(pair.config().encode()),
        "receipt": receipt.to_string(),
    }]))
    .unwrap()
}

fn kms(c: &mut Criterion) {
    let suite = Suite::P384_AES256GCM;
    let pair = KeyPair::derive(1, suite.kem, vec![suite.symmetric()], &[7; 48]).unwrap();
    let body = body(&pair);
    let trust = KmsTrust::from_pem(SERVICE.as_bytes()).unwrap();
    let now = UnixTime::from_secs(1_800_000_000);
    trust.last_verified(&body, now).unwrap();
    c.bench_function("kms_receipt_verify", |b| {
        b.iter(|| trust.last_verified(black_box(&body), now).unwrap())
    });
}

criterion_group!(benches, kms);
criterion_main!(benches);
