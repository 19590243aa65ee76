//! The simulated issuer end to end, and attacks that need a key we hold.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_token::ita::{ItaPolicy, ItaVerifier};
use attested_token::jwt::{Jwks, KeySet};
use attested_token::maa::{MaaPolicy, MaaVerifier};
use attested_token::nitro::{NitroPolicy, NitroVerifier};
use attested_token::sim::{SimEnclave, SimIssuer, SimTd};
use attested_token::x509::TrustRoots;
use attested_token::{Backend, Error, UnixTime};

const IAT: u64 = 1_750_000_000;

fn at(s: u64) -> UnixTime {
    UnixTime(s)
}

fn issuer(seed: u8) -> SimIssuer {
    SimIssuer::new([seed; 32]).unwrap()
}

fn jwks(issuer: &SimIssuer) -> Jwks {
    Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap()
}

#[test]
fn simulated_ita_token_verifies_and_appraises_with_every_backend() {
    let sim = issuer(1);
    let td = SimTd {
        nonce: Some(b"fresh nonce".to_vec()),
        ..SimTd::default()
    };
    let token = sim.ita_token(&td, IAT, 300);
    for &backend in Backend::all() {
        let keys = KeySet::chained_with_backend(&jwks(&sim), &sim.roots(), backend);
        let claims = ItaVerifier::with_keys(keys)
            .verify(&token, at(IAT + 1))
            .unwrap();
        ItaPolicy::new()
            .expect_mrtd(td.mrtd)
            .expect_rtmr(2, td.rtmrs[2])
            .expect_report_data(td.report_data)
            .expect_nonce(b"fresh nonce")
            .appraise(&claims)
            .unwrap();
    }
    // Not against Intel's root.
    let err = ItaVerifier::new(&jwks(&sim), &TrustRoots::intel_trust_authority())
        .verify(&token, at(IAT))
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedKey { .. }), "{err}");
}

#[test]
fn simulated_token_times() {
    let sim = issuer(2);
    let token = sim.ita_token(&SimTd::default(), IAT, 300);
    let v = ItaVerifier::new(&jwks(&sim), &sim.roots());
    assert!(matches!(
        v.verify(&token, at(IAT + 361)),
        Err(Error::Expired { .. })
    ));
    assert!(matches!(
        v.verify(&token, at(IAT - 61)),
        Err(Error::NotYetValid { .. })
    ));
    let mut claims = sim.ita_claims(&SimTd::default(), IAT, 300);
    claims["nbf"] = serde_json::Value::from(IAT - 100);
    claims["iat"] = serde_json::Value::from(IAT + 200);
    assert!(matches!(
        v.verify(&sim.sign_jwt(&claims), at(IAT)),
        Err(Error::IssuedInFuture { .. })
    ));
    claims.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        v.verify(&sim.sign_jwt(&claims), at(IAT)),
        Err(Error::MissingClaim("exp"))
    );
}

#[test]
fn kid_of_another_trusted_key_does_not_verify() {
    let (a, b) = (issuer(3), issuer(4));
    let mut both: serde_json::Value = serde_json::from_str(&a.jwks_json()).unwrap();
    let other: serde_json::Value = serde_json::from_str(&b.jwks_json()).unwrap();
    both["keys"]
        .as_array_mut()
        .unwrap()
        .push(other["keys"][0].clone());
    let both = Jwks::from_json(&serde_json::to_vec(&both).unwrap()).unwrap();
    let roots = a.roots().merged(&b.roots());
    let claims = a.ita_claims(&SimTd::default(), IAT, 300);
    let lying = a.sign_jwt_with_header(
        &serde_json::json!({"alg": "ES384", "kid": b.kid()}),
        &claims,
    );
    for &backend in Backend::all() {
        let v = ItaVerifier::with_keys(KeySet::chained_with_backend(&both, &roots, backend));
        assert!(
            v.verify(&a.ita_token(&SimTd::default(), IAT, 300), at(IAT))
                .is_ok()
        );
        assert!(matches!(
            v.verify(&lying, at(IAT)),
            Err(Error::BadSignature { .. })
        ));
    }
    // ES256 under an ES384 kid: the key set has no such (kid, alg).
    let es256 = a.sign_jwt_with_header(
        &serde_json::json!({"alg": "ES256", "kid": a.kid()}),
        &claims,
    );
    let v = ItaVerifier::new(&both, &roots);
    assert!(matches!(
        v.verify(&es256, at(IAT)),
        Err(Error::KeyAlgorithmMismatch { alg: "ES256", .. })
    ));
    // No kid, crit headers, jku pointing elsewhere.
    let no_kid = a.sign_jwt_with_header(&serde_json::json!({"alg": "ES384"}), &claims);
    assert_eq!(v.verify(&no_kid, at(IAT)), Err(Error::MissingKid));
    let crit = a.sign_jwt_with_header(
        &serde_json::json!({"alg": "ES384", "kid": a.kid(), "crit": ["b64"]}),
        &claims,
    );
    assert!(matches!(
        v.verify(&crit, at(IAT)),
        Err(Error::CriticalHeader(_))
    ));
    let jku = a.sign_jwt_with_header(
        &serde_json::json!({"alg": "ES384", "kid": "elsewhere", "jku": "https://attacker.example/certs"}),
        &claims,
    );
    assert!(matches!(
        v.verify(&jku, at(IAT)),
        Err(Error::UnknownKey { .. })
    ));
}

#[test]
fn x5c_chain_to_another_simulated_root_is_refused() {
    let (a, b) = (issuer(5), issuer(6));
    let token = a.ita_token(&SimTd::default(), IAT, 300);
    let err = ItaVerifier::new(&jwks(&a), &b.roots())
        .verify(&token, at(IAT))
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedKey { .. }), "{err}");
}

#[test]
fn chains_longer_than_ten_are_refused() {
    let sim = issuer(7);
    let mut value: serde_json::Value = serde_json::from_str(&sim.jwks_json()).unwrap();
    let root = value["keys"][0]["x5c"][1].clone();
    for _ in 0..10 {
        value["keys"][0]["x5c"]
            .as_array_mut()
            .unwrap()
            .push(root.clone());
    }
    let long = Jwks::from_json(&serde_json::to_vec(&value).unwrap()).unwrap();
    let err = ItaVerifier::new(&long, &sim.roots())
        .verify(&sim.ita_token(&SimTd::default(), IAT, 300), at(IAT))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. } if matches!(**reason, Error::ChainTooLong { len: 12, max: 10 })),
        "{err}"
    );
}

#[test]
fn simulated_nitro_documents() {
    let sim = issuer(8);
    let ts = IAT * 1000 + 123;
    let enclave = SimEnclave {
        nonce: Some(vec![9; 32]),
        user_data: Some(b"binding".to_vec()),
        public_key: Some(vec![1; 32]),
        ..SimEnclave::default()
    };
    let doc = sim.nitro_document(&enclave, ts);
    for &backend in Backend::all() {
        let verified = NitroVerifier::new(&sim.roots())
            .backend(backend)
            .verify(&doc, at(IAT + 1))
            .unwrap();
        assert_eq!(verified.timestamp_ms, ts);
        NitroPolicy::new()
            .expect_pcr(0, &enclave.pcrs[&0])
            .expect_nonce(&[9; 32])
            .expect_user_data(b"binding")
            .expect_public_key(&[1; 32])
            .appraise(&verified)
            .unwrap();
    }
    let verifier = NitroVerifier::new(&sim.roots());
    assert!(matches!(
        verifier.verify(&doc, at(IAT - 61)),
        Err(Error::IssuedInFuture { .. })
    ));
    assert!(matches!(
        verifier.verify(&doc, at(IAT + 361)),
        Err(Error::TooOld { .. })
    ));
    assert!(matches!(
        NitroVerifier::new(&TrustRoots::aws_nitro()).verify(&doc, at(IAT)),
        Err(Error::UntrustedRoot { .. })
    ));
    let err = NitroPolicy::new()
        .expect_nonce(&[8; 32])
        .appraise(&verifier.verify(&doc, at(IAT)).unwrap());
    assert!(matches!(&err, Err(Error::Mismatch { field, .. }) if field == "nonce"));
    let mut debug = SimEnclave::default();
    for i in 0..3 {
        debug.pcrs.insert(i, vec![0; 48]);
    }
    let verified = verifier
        .verify(&sim.nitro_document(&debug, ts), at(IAT))
        .unwrap();
    assert!(matches!(
        NitroPolicy::new().appraise(&verified),
        Err(Error::Debug(_))
    ));
}

#[test]
fn simulated_maa_token() {
    let sim = issuer(9);
    let issuer_url = "https://sim.attest.azure.net";
    let report_data = [0xab; 32];
    let claims = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "azurevm",
        "x-ms-isolation-tee": {
            "x-ms-attestation-type": "sevsnpvm",
            "x-ms-compliance-status": "azure-compliant-cvm",
            "x-ms-sevsnpvm-is-debuggable": false,
            "x-ms-sevsnpvm-reportdata": format!("{}{}", hex::encode(report_data), "00".repeat(32)),
        },
    });
    let token = sim.sign_jwt(&claims);
    let verifier = MaaVerifier::new(KeySet::chained(&jwks(&sim), &sim.roots()), issuer_url);
    let verified = verifier.verify(&token, at(IAT)).unwrap();
    MaaPolicy::new()
        .expect_attestation_type("sevsnpvm")
        .expect_report_data(&report_data)
        .appraise(&verified)
        .unwrap();
    let err = MaaPolicy::new()
        .expect_attestation_type("tdxvm")
        .appraise(&verified)
        .unwrap_err();
    assert!(matches!(&err, Error::Mismatch { field, .. } if field == "x-ms-attestation-type"));
    let err = MaaPolicy::new()
        .expect_report_data(&[0xac; 32])
        .appraise(&verified)
        .unwrap_err();
    assert!(matches!(&err, Error::Mismatch { .. }));
    let other = MaaVerifier::new(
        KeySet::chained(&jwks(&sim), &sim.roots()),
        "https://other.attest.azure.net",
    );
    assert!(matches!(
        other.verify(&token, at(IAT)),
        Err(Error::WrongIssuer { .. })
    ));
    let mut debug = claims.clone();
    debug["x-ms-isolation-tee"]["x-ms-sevsnpvm-is-debuggable"] = true.into();
    let verified = verifier.verify(&sim.sign_jwt(&debug), at(IAT)).unwrap();
    assert!(matches!(
        MaaPolicy::new().appraise(&verified),
        Err(Error::Debug(_))
    ));
    let mut no_tee = claims;
    no_tee.as_object_mut().unwrap().remove("x-ms-isolation-tee");
    assert_eq!(
        verifier.verify(&sim.sign_jwt(&no_tee), at(IAT)),
        Err(Error::MissingClaim("x-ms-isolation-tee"))
    );
}

#[test]
fn simulated_nras_bundle() {
    use sha2::Digest as _;
    let sim = issuer(10);
    let gpu = sim.sign_jwt(&serde_json::json!({
        "iss": attested_token::nras::NRAS_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 3600,
        "measres": "success", "dbgstat": "disabled", "eat_nonce": "aa",
    }));
    let overall = sim.sign_jwt(&serde_json::json!({
        "iss": attested_token::nras::NRAS_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 3600,
        "x-nvidia-overall-att-result": true, "eat_nonce": "aa",
        "submods": {"GPU-0": ["DIGEST", ["SHA-256", hex::encode(sha2::Sha256::digest(gpu.as_bytes()))]]},
    }));
    let bundle =
        serde_json::to_vec(&serde_json::json!([["JWT", overall], {"GPU-0": gpu}])).unwrap();
    let result = attested_token::nras::NrasVerifier::new(&jwks(&sim), &sim.roots())
        .verify(&bundle, at(IAT))
        .unwrap();
    attested_token::nras::NrasPolicy::new()
        .expect_nonce(&[0xaa])
        .appraise(&result)
        .unwrap();
}

/// ITA marks a debug TD in several claims; any one of them is enough to refuse the token by
/// default. Each variant below sets exactly one mark on an otherwise accepted token.
#[test]
fn ita_debug_marks_each_refuse_by_default() {
    let sim = issuer(31);
    let verifier = ItaVerifier::with_keys(KeySet::chained(&jwks(&sim), &sim.roots()));
    let base = sim.ita_claims(&SimTd::default(), IAT, 300);
    let mut clean = base.clone();
    clean["tdx_td_attributes"] = "0000001000000000".into();
    clean["tdx_td_attributes_debug"] = false.into();
    let claims = verifier.verify(&sim.sign_jwt(&clean), at(IAT)).unwrap();
    ItaPolicy::new().appraise(&claims).unwrap();
    let marks: [(&str, serde_json::Value); 4] = [
        ("dbgstat", "enabled".into()),
        ("tdx_td_attributes_debug", true.into()),
        ("tdx_td_attributes", "0100000000000000".into()),
        ("tdx_is_debuggable", true.into()),
    ];
    for (claim, value) in marks {
        let mut marked = clean.clone();
        marked[claim] = value;
        let claims = verifier.verify(&sim.sign_jwt(&marked), at(IAT)).unwrap();
        let err = ItaPolicy::new().appraise(&claims).unwrap_err();
        assert!(
            matches!(&err, Error::Debug(reason) if reason.contains(claim)),
            "{claim}: {err}"
        );
        ItaPolicy::new().allow_debug().appraise(&claims).unwrap();
    }
    // A v2 token whose tdx section says dbgstat differently from the top level is refused.
    let mut v2 = serde_json::json!({
        "ver": "2.0.0", "iss": base["iss"], "iat": IAT, "nbf": IAT, "exp": IAT + 300,
        "dbgstat": "disabled", "attester_tcb_status": "UpToDate",
    });
    let mut tdx = clean.clone();
    tdx["dbgstat"] = "enabled".into();
    v2["tdx"] = tdx;
    let err = verifier.verify(&sim.sign_jwt(&v2), at(IAT)).unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx.dbgstat"),
        "{err}"
    );
}

/// MAA marks a debug TD with `tdx_td_attributes_debug`, bit 0 of `tdx_td_attributes` or
/// `dbgstat` (its TDX EAT profile; it does not emit `tdx_is_debuggable`): each alone refuses.
#[test]
fn maa_tdx_debug_marks_each_refuse_by_default() {
    let sim = issuer(32);
    let issuer_url = "https://sim.attest.azure.net";
    let verifier = MaaVerifier::new(KeySet::chained(&jwks(&sim), &sim.roots()), issuer_url);
    let clean = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "azurevm",
        "x-ms-isolation-tee": {
            "x-ms-attestation-type": "tdxvm",
            "x-ms-compliance-status": "azure-compliant-cvm",
            "tdx_td_attributes": "0000001000000000",
            "tdx_td_attributes_debug": false,
            "dbgstat": "disabled",
        },
    });
    let claims = verifier.verify(&sim.sign_jwt(&clean), at(IAT)).unwrap();
    MaaPolicy::new().appraise(&claims).unwrap();
    let marks: [(&str, serde_json::Value); 4] = [
        ("tdx_td_attributes_debug", true.into()),
        ("tdx_td_attributes", "0100000000000000".into()),
        ("tdx_td_attributes", "not hex".into()),
        ("dbgstat", "enabled".into()),
    ];
    for (claim, value) in marks {
        let mut marked = clean.clone();
        marked["x-ms-isolation-tee"][claim] = value;
        let claims = verifier.verify(&sim.sign_jwt(&marked), at(IAT)).unwrap();
        let err = MaaPolicy::new().appraise(&claims).unwrap_err();
        assert!(
            matches!(&err, Error::Debug(reason) if reason.contains(claim)),
            "{claim}: {err}"
        );
        MaaPolicy::new().allow_debug().appraise(&claims).unwrap();
    }
}

/// MAA's TDX and SEV-SNP attestation tokens carry their claims at top level: they parse as
/// their own kinds and are appraised (type, debug marks, REPORTDATA), not refused for lacking
/// `x-ms-isolation-tee`.
#[test]
fn maa_top_level_tdx_and_sevsnp_tokens_have_their_own_claims() {
    use attested_token::maa::MaaToken;
    let sim = issuer(33);
    let issuer_url = "https://sim.attest.azure.net";
    let verifier = MaaVerifier::new(KeySet::chained(&jwks(&sim), &sim.roots()), issuer_url);
    let report_data = [0x5a; 32];
    let report_hex = format!("{}{}", hex::encode(report_data), "00".repeat(32));
    let tdx = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "tdxvm",
        "attester_tcb_status": "UpToDate",
        "dbgstat": "disabled",
        "tdx_mrtd": "11".repeat(48),
        "tdx_report_data": report_hex,
        "tdx_td_attributes": "0000001000000000",
        "tdx_td_attributes_debug": false,
    });
    let token = verifier.verify_token(&sim.sign_jwt(&tdx), at(IAT)).unwrap();
    let MaaToken::Tdx(claims) = &token else {
        panic!("{token:?}")
    };
    assert_eq!(claims.tee.attestation_type, "tdxvm");
    assert_eq!(claims.tcb_status.as_deref(), Some("UpToDate"));
    assert_eq!(claims.tee.tdx_mrtd, Some("11".repeat(48)));
    MaaPolicy::new()
        .expect_attestation_type("tdxvm")
        .expect_report_data(&report_data)
        .appraise_token(&token)
        .unwrap();
    let err = MaaPolicy::new()
        .expect_report_data(&[0x5b; 32])
        .appraise_token(&token)
        .unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err}");
    let err = MaaPolicy::new()
        .expect_attestation_type("sevsnpvm")
        .appraise_token(&token)
        .unwrap_err();
    assert!(matches!(err, Error::Mismatch { .. }), "{err}");
    // The guest-only entry point still says what it lacks.
    assert_eq!(
        verifier.verify(&sim.sign_jwt(&tdx), at(IAT)),
        Err(Error::MissingClaim("x-ms-isolation-tee"))
    );
    let mut debug = tdx.clone();
    debug["tdx_td_attributes"] = "0100000000000000".into();
    let token = verifier
        .verify_token(&sim.sign_jwt(&debug), at(IAT))
        .unwrap();
    assert!(matches!(
        MaaPolicy::new().appraise_token(&token),
        Err(Error::Debug(_))
    ));

    let snp = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "sevsnpvm",
        "x-ms-sevsnpvm-is-debuggable": false,
        "x-ms-sevsnpvm-reportdata": report_hex,
        "x-ms-sevsnpvm-launchmeasurement": "22".repeat(48),
    });
    let token = verifier.verify_token(&sim.sign_jwt(&snp), at(IAT)).unwrap();
    assert!(matches!(token, MaaToken::SevSnp(_)), "{token:?}");
    MaaPolicy::new()
        .expect_attestation_type("sevsnpvm")
        .expect_report_data(&report_data)
        .appraise_token(&token)
        .unwrap();
    let mut debug = snp.clone();
    debug["x-ms-sevsnpvm-is-debuggable"] = true.into();
    let token = verifier
        .verify_token(&sim.sign_jwt(&debug), at(IAT))
        .unwrap();
    assert!(matches!(
        MaaPolicy::new().appraise_token(&token),
        Err(Error::Debug(_))
    ));
    // Neither layout: named as the missing guest claim.
    let mut neither = snp;
    neither["x-ms-attestation-type"] = "azurevm".into();
    assert_eq!(
        verifier.verify_token(&sim.sign_jwt(&neither), at(IAT)),
        Err(Error::MissingClaim("x-ms-isolation-tee"))
    );
    // A guest token comes back as Guest through the same entry point.
    let guest = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-attestation-type": "azurevm",
        "x-ms-isolation-tee": {
            "x-ms-attestation-type": "sevsnpvm",
            "x-ms-compliance-status": "azure-compliant-cvm",
            "x-ms-sevsnpvm-is-debuggable": false,
        },
    });
    let token = verifier
        .verify_token(&sim.sign_jwt(&guest), at(IAT))
        .unwrap();
    assert!(matches!(token, MaaToken::Guest(_)), "{token:?}");
    MaaPolicy::new().appraise_token(&token).unwrap();
}

/// A v2 composite token (TDX plus the NRAS claims ITA copies under `nvgpu`): the GPU section is
/// appraised, and an attester status given both at top level and in a section must agree.
#[test]
fn ita_v2_composite_nvgpu_is_appraised_and_statuses_agree() {
    let sim = issuer(34);
    let verifier = ItaVerifier::with_keys(KeySet::chained(&jwks(&sim), &sim.roots()));
    let v1 = sim.ita_claims(&SimTd::default(), IAT, 300);
    let mut tdx = serde_json::Map::new();
    let mut top = serde_json::Map::new();
    for (key, value) in v1.as_object().unwrap() {
        if key.starts_with("tdx_") || key.starts_with("attester_") {
            tdx.insert(key.clone(), value.clone());
        } else {
            top.insert(key.clone(), value.clone());
        }
    }
    top.insert("ver".into(), "2.0.0".into());
    top.insert("tdx".into(), tdx.into());
    top.insert(
        "nvgpu".into(),
        serde_json::json!({
            "iss": "https://nras.attestation.nvidia.com",
            "attester_type": "NVGPU",
            "measres": "success",
            "dbgstat": "disabled",
            "secboot": true,
        }),
    );
    let good = serde_json::Value::Object(top);
    let verify = |claims: &serde_json::Value| verifier.verify(&sim.sign_jwt(claims), at(IAT));
    ItaPolicy::new().appraise(&verify(&good).unwrap()).unwrap();

    let mut failed = good.clone();
    failed["nvgpu"]["measres"] = "fail".into();
    let err = ItaPolicy::new()
        .appraise(&verify(&failed).unwrap())
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "nvgpu.measres"),
        "{err}"
    );
    let mut unmeasured = good.clone();
    unmeasured["nvgpu"]
        .as_object_mut()
        .unwrap()
        .remove("measres");
    assert_eq!(
        ItaPolicy::new().appraise(&verify(&unmeasured).unwrap()),
        Err(Error::MissingClaim("nvgpu.measres"))
    );
    let mut debug_gpu = good.clone();
    debug_gpu["nvgpu"]["dbgstat"] = "enabled".into();
    let claims = verify(&debug_gpu).unwrap();
    assert!(matches!(
        ItaPolicy::new().appraise(&claims),
        Err(Error::Debug(_))
    ));
    ItaPolicy::new().allow_debug().appraise(&claims).unwrap();
    let mut overall_false = good.clone();
    overall_false["nvgpu"]["x-nvidia-overall-att-result"] = false.into();
    assert!(matches!(
        ItaPolicy::new().appraise(&verify(&overall_false).unwrap()),
        Err(Error::ResultFalse { .. })
    ));

    // The TCB status at top level and in the tdx section: equal is fine, different refused.
    let mut same = good.clone();
    same["attester_tcb_status"] = "UpToDate".into();
    ItaPolicy::new().appraise(&verify(&same).unwrap()).unwrap();
    let mut contradicting = good;
    contradicting["attester_tcb_status"] = "OutOfDate".into();
    let err = verify(&contradicting).unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx.attester_tcb_status"),
        "{err}"
    );
}

/// MAA's TDX profile carries `tdx_mrtd` and `tdx_rtmr0`..`tdx_rtmr3`: a policy can pin them, in
/// either layout, and a token without them (SEV-SNP) or with a value that is not 48 bytes of
/// hex is refused, not passed.
#[test]
fn maa_policy_pins_mrtd_and_rtmrs() {
    use attested_token::maa::MaaToken;
    let sim = issuer(33);
    let issuer_url = "https://sim.attest.azure.net";
    let verifier = MaaVerifier::new(KeySet::chained(&jwks(&sim), &sim.roots()), issuer_url);
    let tee = serde_json::json!({
        "x-ms-attestation-type": "tdxvm",
        "x-ms-compliance-status": "azure-compliant-cvm",
        "tdx_mrtd": hex::encode([0x11; 48]),
        "tdx_rtmr0": hex::encode([0x20; 48]),
        "tdx_rtmr1": hex::encode([0x21; 48]),
        "tdx_rtmr2": hex::encode([0x22; 48]),
        "tdx_rtmr3": hex::encode([0x23; 48]),
        "tdx_report_data": hex::encode([0x55; 64]),
        "dbgstat": "disabled",
    });
    let guest = serde_json::json!({
        "iss": issuer_url, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-attestation-type": "azurevm",
        "x-ms-isolation-tee": tee,
    });
    let claims = verifier.verify(&sim.sign_jwt(&guest), at(IAT)).unwrap();
    let pinned = MaaPolicy::new()
        .expect_mrtd([0x11; 48])
        .expect_rtmr(0, [0x20; 48])
        .expect_rtmr(3, [0x23; 48]);
    pinned.appraise(&claims).unwrap();
    let err = MaaPolicy::new()
        .expect_mrtd([0x12; 48])
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx_mrtd"),
        "{err}"
    );
    let err = MaaPolicy::new()
        .expect_rtmr(2, [0x21; 48])
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx_rtmr2"),
        "{err}"
    );
    // The top-level TDX layout carries the same claims.
    let mut top = tee.clone();
    for (key, value) in [
        ("iss", issuer_url.into()),
        ("iat", IAT.into()),
        ("nbf", IAT.into()),
        ("exp", (IAT + 600).into()),
    ] {
        top[key] = value;
    }
    let token = verifier.verify_token(&sim.sign_jwt(&top), at(IAT)).unwrap();
    assert!(matches!(token, MaaToken::Tdx(_)), "{token:?}");
    pinned.appraise_token(&token).unwrap();
    // Missing: a SEV-SNP VM has no MRTD; a TD token without RTMR1.
    let mut snp = guest.clone();
    snp["x-ms-isolation-tee"] = serde_json::json!({
        "x-ms-attestation-type": "sevsnpvm",
        "x-ms-compliance-status": "azure-compliant-cvm",
        "x-ms-sevsnpvm-is-debuggable": false,
    });
    let claims = verifier.verify(&sim.sign_jwt(&snp), at(IAT)).unwrap();
    assert_eq!(
        MaaPolicy::new().expect_mrtd([0x11; 48]).appraise(&claims),
        Err(Error::MissingClaim("tdx_mrtd"))
    );
    let mut no_rtmr1 = guest.clone();
    no_rtmr1["x-ms-isolation-tee"]
        .as_object_mut()
        .unwrap()
        .remove("tdx_rtmr1");
    let claims = verifier.verify(&sim.sign_jwt(&no_rtmr1), at(IAT)).unwrap();
    assert_eq!(
        MaaPolicy::new()
            .expect_rtmr(1, [0x21; 48])
            .appraise(&claims),
        Err(Error::MissingClaim("tdx_rtmr1"))
    );
    // A pin on an RTMR that does not exist refuses every token instead of being dropped.
    let claims_all = verifier.verify(&sim.sign_jwt(&guest), at(IAT)).unwrap();
    assert_eq!(
        MaaPolicy::new()
            .expect_rtmr(4, [0x20; 48])
            .appraise(&claims_all),
        Err(Error::MissingClaim("tdx_rtmr (index over 3)"))
    );
    // A short MRTD is malformed, not a mismatch and not a pass.
    let mut short = guest;
    short["x-ms-isolation-tee"]["tdx_mrtd"] = hex::encode([0x11; 47]).into();
    let claims = verifier.verify(&sim.sign_jwt(&short), at(IAT)).unwrap();
    let err = MaaPolicy::new()
        .expect_mrtd([0x11; 48])
        .appraise(&claims)
        .unwrap_err();
    assert!(matches!(&err, Error::Malformed { .. }), "{err}");
}
