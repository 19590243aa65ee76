//! The committed seeds of the `token_*` fuzz targets come from the simulated issuer of the
//! targets (seed `[0x5e; 32]`, tokens issued at 1,750,000,000), so they cannot go stale
//! unnoticed: each still verifies (or, for the refused shapes, is refused) where the targets
//! verify, at 1,750,000,100, and the COSE ones are byte for byte what the issuer makes today.
//!
//! Regenerate them with (the one variable of every crate's fuzz-seed test)
//! `ATTESTED_WRITE_FUZZ_SEEDS=1 cargo test -p attested-token --features sim --test fuzz_seeds`.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attested_token::UnixTime;
use attested_token::ita::ItaVerifier;
use attested_token::jwt::Jwks;
use attested_token::nitro::NitroVerifier;
use attested_token::nras::NrasVerifier;
use attested_token::sim::{SimEnclave, SimIssuer, SimTd};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

const IAT: u64 = 1_750_000_000;

fn issuer() -> SimIssuer {
    SimIssuer::new([0x5e; 32]).unwrap()
}

/// The v1 claims of the targets' TD (with a verifier nonce), regrouped as a v2 token: the
/// TDX claims in a `tdx` section, `ver` 2.0.0.
fn ita_v2_claims(issuer: &SimIssuer, td: &SimTd) -> Value {
    let v1 = issuer.ita_claims(td, IAT, 300);
    let mut top = serde_json::Map::new();
    let mut tdx = serde_json::Map::new();
    for (name, value) in v1.as_object().unwrap() {
        match name.as_str() {
            "dbgstat" | "exp" | "iat" | "iss" | "nbf" | "verifier_nonce" => {
                top.insert(name.clone(), value.clone());
            }
            "ver" => {}
            _ => {
                tdx.insert(name.clone(), value.clone());
            }
        }
    }
    top.insert("ver".into(), json!("2.0.0"));
    top.insert("tdx".into(), Value::Object(tdx));
    Value::Object(top)
}

fn jws_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let issuer = issuer();
    let td = SimTd {
        nonce: Some(vec![1, 2, 3]),
        ..SimTd::default()
    };
    let v2 = ita_v2_claims(&issuer, &td);
    vec![
        (
            "seed-alg-none",
            b"eyJhbGciOiJub25lIiwia2lkIjoicDM4NCJ9.eyJleHAiOjF9.".to_vec(),
        ),
        ("seed-ita-v1", issuer.ita_token(&td, IAT, 300).into_bytes()),
        ("seed-ita-v2", issuer.sign_jwt(&v2).into_bytes()),
        ("seed-ita-v2-claims", v2.to_string().into_bytes()),
        ("seed-jwks-x5c", issuer.jwks_json().into_bytes()),
    ]
}

/// An NRAS bundle: the overall token, whose `submods` digest each GPU token (SHA-256 of its
/// text), and the GPU tokens by name.
fn nras_bundle(issuer: &SimIssuer, gpus: &[(&str, Value)]) -> Vec<u8> {
    let mut submods = serde_json::Map::new();
    let mut tokens = serde_json::Map::new();
    for (name, claims) in gpus {
        let token = issuer.sign_jwt(claims);
        let digest = hex::encode(Sha256::digest(token.as_bytes()));
        submods.insert((*name).into(), json!(["DIGEST", ["SHA-256", digest]]));
        tokens.insert((*name).into(), json!(token));
    }
    let overall = issuer.sign_jwt(&json!({
        "eat_nonce": "aa",
        "exp": IAT + 3600,
        "iat": IAT,
        "iss": "https://nras.attestation.nvidia.com",
        "submods": submods,
        "x-nvidia-overall-att-result": true,
    }));
    json!([["JWT", overall], tokens]).to_string().into_bytes()
}

fn nras_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let issuer = issuer();
    let gpu = json!({
        "dbgstat": "disabled",
        "eat_nonce": "aa",
        "exp": IAT + 3600,
        "iat": IAT,
        "iss": "https://nras.attestation.nvidia.com",
        "measres": "success",
    });
    vec![
        ("seed-empty", br#"[["JWT",""],{}]"#.to_vec()),
        ("seed-one-gpu", nras_bundle(&issuer, &[("GPU-0", gpu)])),
    ]
}

fn cose_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let issuer = issuer();
    let with = SimEnclave {
        public_key: Some(vec![0x42; 64]),
        user_data: Some(b"user data".to_vec()),
        nonce: Some(vec![0xaa; 16]),
        ..SimEnclave::default()
    };
    vec![
        ("seed-nitro", issuer.nitro_document(&with, IAT * 1000)),
        (
            "seed-nitro-no-optionals",
            issuer.nitro_document(&SimEnclave::default(), IAT * 1000),
        ),
    ]
}

/// The committed seeds under `fuzz/corpus/TARGET`, by name.
fn committed(target: &str, names: &[&str]) -> Vec<(String, Vec<u8>)> {
    names
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                attested_testdata::committed_fuzz_seed(target, name),
            )
        })
        .collect()
}

/// The JSON seeds (JWS tokens, claims, key sets, NRAS bundles) are not compared byte for
/// byte: serde_json orders object keys by insertion when a crate of the build turns on
/// `preserve_order` (the examples do, so a workspace build does) and alphabetically
/// otherwise, so the simulator's bytes depend on the build. What the fuzz targets need is
/// that each committed seed still verifies (or is refused) where the targets verify; that is
/// checked. `ATTESTED_WRITE_FUZZ_SEEDS=1` rewrites them from the simulator first.
#[test]
fn the_committed_json_seeds_verify_where_the_targets_verify() {
    let write = std::env::var_os("ATTESTED_WRITE_FUZZ_SEEDS").is_some();
    if write {
        attested_testdata::check_or_write_fuzz_seeds("token_jws", &jws_seeds());
        attested_testdata::check_or_write_fuzz_seeds("token_nras", &nras_seeds());
    }
    let issuer = issuer();
    let at = UnixTime(IAT + 100);
    let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
    let ita = ItaVerifier::new(&jwks, &issuer.roots());
    let names: Vec<&str> = jws_seeds().iter().map(|(name, _)| *name).collect();
    for (name, seed) in committed("token_jws", &names) {
        let text = std::str::from_utf8(&seed).unwrap();
        let verified = ita.verify(text, at);
        let signed = name.starts_with("seed-ita-v") && !name.ends_with("claims");
        assert_eq!(verified.is_ok(), signed, "{name}: {verified:?}");
        if name.ends_with("claims") || name.ends_with("x5c") {
            serde_json::from_str::<Value>(text).unwrap();
        }
    }
    assert!(Jwks::from_json(&committed("token_jws", &["seed-jwks-x5c"])[0].1).is_ok());
    let nras = NrasVerifier::new(&jwks, &issuer.roots());
    for (name, seed) in committed("token_nras", &["seed-empty", "seed-one-gpu"]) {
        let verified = nras.verify(&seed, at);
        assert_eq!(
            verified.is_ok(),
            name == "seed-one-gpu",
            "{name}: {verified:?}"
        );
    }
}

/// The COSE seeds are CBOR the simulator lays out itself: compared byte for byte.
#[test]
fn committed_cose_seeds_are_current_and_verify() {
    attested_testdata::check_or_write_fuzz_seeds("token_cose", &cose_seeds());
    let nitro = NitroVerifier::new(&issuer().roots()).max_age(None);
    let at = UnixTime(IAT + 100);
    for (name, seed) in cose_seeds() {
        assert!(nitro.verify(&seed, at).is_ok(), "{name}");
    }
}
