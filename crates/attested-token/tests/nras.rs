//! NVIDIA NRAS bundles: the real passing and failing responses and their JWKS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_token::jwt::{Jwks, KeySet};
use attested_token::nras::{NrasPolicy, NrasVerifier};
use attested_token::x509::TrustRoots;
use attested_token::{Backend, Error, Limits, UnixTime};
use base64::Engine as _;
use sha2::Digest as _;

const JWKS: &str = "tokens/nras/teep/nras-jwks-captured-2026-06-29.json";
const PASSING: &str = "tokens/nras/teep/tinfoil_v3_direct_gemma4-31b_20260629_020805__0007_nras.attestation.nvidia.com_v3_attest_gpu.body";
const EIGHT_GPUS: &str = "tokens/nras/teep/chutes_zai-org_glm-5-tee_20260629_020725__0007_nras.attestation.nvidia.com_v3_attest_gpu.body";
/// iat of the passing and of the 8-GPU bundle (SOURCES.md: 02:08:03Z and 02:07:12Z on 2026-06-29).
const PASSING_IAT: u64 = 1_782_698_883;
const EIGHT_IAT: u64 = 1_782_698_832;

fn at(seconds: u64) -> UnixTime {
    UnixTime(seconds)
}

/// NVIDIA's root is not published with the JWKS; the tests pin the intermediate the JWKS
/// names ("NVIDIA Attestation Service GPU Intermediate 004"), so every leaf signature and
/// leaf-key match is still checked.
fn keys(backend: Backend) -> Option<KeySet> {
    let json = attested_testdata::read(JWKS)?;
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let intermediate = base64::engine::general_purpose::STANDARD
        .decode(value["keys"][0]["x5c"][1].as_str().unwrap())
        .unwrap();
    let roots = TrustRoots::empty().with_der(&intermediate).unwrap();
    Some(KeySet::chained_with_backend(
        &Jwks::from_json(&json).unwrap(),
        &roots,
        backend,
    ))
}

#[test]
fn passing_bundle_verifies_and_appraises() {
    let Some(bundle) = attested_testdata::read(PASSING) else {
        return;
    };
    for &backend in Backend::all() {
        let result = NrasVerifier::with_keys(keys(backend).unwrap())
            .verify(&bundle, at(PASSING_IAT + 5))
            .unwrap();
        assert!(result.overall_result);
        assert_eq!(result.gpus.len(), 1);
        assert_eq!(result.gpus[0].name, "GPU-0");
        assert_eq!(result.gpus[0].measres.as_deref(), Some("success"));
        let nonce = hex::decode(result.eat_nonce.as_ref().unwrap()).unwrap();
        NrasPolicy::new()
            .expect_gpu_count(1)
            .expect_nonce(&nonce)
            .appraise(&result)
            .unwrap();
        let err = NrasPolicy::new()
            .expect_gpu_count(2)
            .appraise(&result)
            .unwrap_err();
        assert!(matches!(err, Error::GpuSet { .. }), "{err}");
        let err = NrasPolicy::new()
            .expect_nonce(&[0; 32])
            .appraise(&result)
            .unwrap_err();
        assert!(
            matches!(&err, Error::Mismatch { field, .. } if field == "eat_nonce"),
            "{err}"
        );
    }
}

#[test]
fn eight_gpu_bundle_verifies_and_fails_appraisal() {
    let Some(bundle) = attested_testdata::read(EIGHT_GPUS) else {
        return;
    };
    let result = NrasVerifier::with_keys(keys(Backend::default()).unwrap())
        .verify(&bundle, at(EIGHT_IAT + 5))
        .unwrap();
    assert_eq!(result.gpus.len(), 8);
    assert!(!result.overall_result);
    assert!(result.gpus.iter().all(|g| g.error_details.is_some()));
    assert_eq!(
        NrasPolicy::new().appraise(&result),
        Err(Error::ResultFalse {
            claim: "x-nvidia-overall-att-result".into()
        })
    );
}

/// A bundle signed under a kid the JWKS does not hold (NVIDIA rotated its keys; the JWKS is
/// older than the token) is refused as an unknown key, never verified with another key.
#[test]
fn a_bundle_whose_kid_is_not_in_the_jwks_is_an_unknown_key() {
    let (Some(bundle), Some(json)) = (
        attested_testdata::read(PASSING),
        attested_testdata::read(JWKS),
    ) else {
        return;
    };
    let value: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let overall_kid = attested_token::jwt::token_kid(value[0][1].as_str().unwrap()).unwrap();
    let mut jwks: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let intermediate = base64::engine::general_purpose::STANDARD
        .decode(jwks["keys"][0]["x5c"][1].as_str().unwrap())
        .unwrap();
    let keys = jwks["keys"].as_array_mut().unwrap();
    let before = keys.len();
    keys.retain(|key| key["kid"].as_str() != Some(overall_kid.as_str()));
    assert_eq!(
        keys.len(),
        before - 1,
        "the JWKS held the bundle's kid once"
    );
    let roots = TrustRoots::empty().with_der(&intermediate).unwrap();
    let keys = KeySet::chained_with_backend(
        &Jwks::from_json(&serde_json::to_vec(&jwks).unwrap()).unwrap(),
        &roots,
        Backend::default(),
    );
    let err = NrasVerifier::with_keys(keys)
        .verify(&bundle, at(PASSING_IAT + 5))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownKey { .. }), "{err}");
}

fn edit(bundle: &[u8], f: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let mut value: serde_json::Value = serde_json::from_slice(bundle).unwrap();
    f(&mut value);
    serde_json::to_vec(&value).unwrap()
}

#[test]
fn gpu_token_must_match_its_digest_and_the_gpu_set() {
    let (Some(bundle), Some(keys)) = (
        attested_testdata::read(EIGHT_GPUS),
        keys(Backend::default()),
    ) else {
        return;
    };
    let verifier = NrasVerifier::with_keys(keys);
    let now = at(EIGHT_IAT + 5);
    // Swap two GPUs' tokens: each is validly signed, but the digests no longer match.
    let swapped = edit(&bundle, |v| {
        let gpu0 = v[1]["GPU-0"].clone();
        v[1]["GPU-0"] = v[1]["GPU-1"].clone();
        v[1]["GPU-1"] = gpu0;
    });
    let err = verifier.verify(&swapped, now).unwrap_err();
    assert!(
        matches!(&err, Error::DigestMismatch { gpu } if gpu == "GPU-0"),
        "{err}"
    );
    // Drop one GPU: the count differs from the overall token's submods.
    let dropped = edit(&bundle, |v| {
        v[1].as_object_mut().unwrap().remove("GPU-7");
    });
    assert!(matches!(
        verifier.verify(&dropped, now),
        Err(Error::GpuSet { .. })
    ));
    // Rename one: not listed.
    let renamed = edit(&bundle, |v| {
        let gpu = v[1].as_object_mut().unwrap().remove("GPU-7").unwrap();
        v[1]["GPU-8"] = gpu;
    });
    assert!(matches!(
        verifier.verify(&renamed, now),
        Err(Error::GpuSet { .. })
    ));
    // The digests really are SHA-256 of the token strings.
    let value: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let token = value[1]["GPU-3"].as_str().unwrap();
    let overall = value[0][1].as_str().unwrap().split('.').nth(1).unwrap();
    let overall: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(overall)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        overall["submods"]["GPU-3"][1][1].as_str().unwrap(),
        hex::encode(sha2::Sha256::digest(token.as_bytes()))
    );
}

#[test]
fn bundle_times_and_size_are_checked() {
    let (Some(bundle), Some(keys)) = (attested_testdata::read(PASSING), keys(Backend::default()))
    else {
        return;
    };
    let verifier = NrasVerifier::with_keys(keys);
    // exp is iat + 1 h.
    assert!(matches!(
        verifier.verify(&bundle, at(PASSING_IAT + 3600 + 61)),
        Err(Error::Expired { .. })
    ));
    let small = verifier.clone().limits(Limits {
        token: bundle.len() - 1,
        ..Limits::default()
    });
    assert!(matches!(
        small.verify(&bundle, at(PASSING_IAT)),
        Err(Error::TooLarge { .. })
    ));
    assert!(matches!(
        verifier.verify(b"[[\"CBOR\", \"x\"], {}]", at(PASSING_IAT)),
        Err(Error::Malformed { .. })
    ));
}

#[test]
fn nras_keys_against_another_root_are_untrusted() {
    let (Some(bundle), Some(json)) = (
        attested_testdata::read(PASSING),
        attested_testdata::read(JWKS),
    ) else {
        return;
    };
    let jwks = Jwks::from_json(&json).unwrap();
    let err = NrasVerifier::new(&jwks, &TrustRoots::intel_trust_authority())
        .verify(&bundle, at(PASSING_IAT))
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedKey { .. }), "{err}");
}

/// A bundle that names the same GPU twice is refused, not read as its last entry: a JSON map
/// keeps one value per key, so the second entry (which the overall token's digest need not
/// cover in a parser that keeps the first) would otherwise be silently dropped or preferred.
#[test]
fn a_gpu_named_twice_in_the_bundle_is_refused() {
    let (Some(bundle), Some(keys)) = (attested_testdata::read(PASSING), keys(Backend::default()))
    else {
        return;
    };
    let verifier = NrasVerifier::with_keys(keys);
    let now = at(PASSING_IAT + 5);
    let value: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    let token = value[1]["GPU-0"].as_str().unwrap();
    let overall = value[0][1].as_str().unwrap();
    let once = format!(r#"[["JWT","{overall}"],{{"GPU-0":"{token}"}}]"#);
    // The rebuilt bundle verifies: only the repetition below differs.
    verifier.verify(once.as_bytes(), now).unwrap();
    let twice = format!(r#"[["JWT","{overall}"],{{"GPU-0":"{token}","GPU-0":"{token}"}}]"#);
    assert_eq!(
        verifier.verify(twice.as_bytes(), now),
        Err(Error::DuplicateGpu {
            gpu: "GPU-0".into()
        })
    );
    let other = format!(r#"[["JWT","{overall}"],{{"GPU-0":"{token}","GPU-0":"x.y.z"}}]"#);
    assert_eq!(
        verifier.verify(other.as_bytes(), now),
        Err(Error::DuplicateGpu {
            gpu: "GPU-0".into()
        })
    );
}
