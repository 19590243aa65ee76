//! Intel Trust Authority tokens: the real production token and JWKS, and the attack matrix.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::Duration;

use attested_token::ita::{ItaPolicy, ItaTokenVersion, ItaVerifier};
use attested_token::jwt::{Jwks, KeySet};
use attested_token::x509::TrustRoots;
use attested_token::{Backend, CertificateProblem, Error, Limits, UnixTime};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

const PROD_TOKEN: &str = "tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt";
const PROD_JWKS: &str = "tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json";
const PILOT_TOKEN: &str = "tokens/ita/trustauthority-kbs__tdxToken_pilot_2024-02-01.jwt";
const DEV_JWKS: &str = "tokens/ita/go-client-fixtures/amber-dev-jwks.json";
const JOHN_DOE: &str = "tokens/ita/go-client-fixtures/token_johndoe_ps384.jwt";

/// iat/nbf and exp of the production token (SOURCES.md: 2023-12-05T00:09:10Z .. 00:14:10Z).
const PROD_IAT: u64 = 1_701_734_950;
const PROD_EXP: u64 = 1_701_735_250;

fn at(seconds: u64) -> UnixTime {
    UnixTime(seconds)
}

fn text(relative: &str) -> Option<String> {
    attested_testdata::read(relative).map(|b| String::from_utf8(b).unwrap().trim().to_owned())
}

struct Prod {
    token: String,
    jwks: Jwks,
    jwks_json: String,
}

fn prod() -> Option<Prod> {
    let token = text(PROD_TOKEN)?;
    let jwks_json = text(PROD_JWKS)?;
    Some(Prod {
        token,
        jwks: Jwks::from_json(jwks_json.as_bytes()).unwrap(),
        jwks_json,
    })
}

fn verifier(jwks: &Jwks, backend: Backend) -> ItaVerifier {
    ItaVerifier::with_keys(KeySet::chained_with_backend(
        jwks,
        &TrustRoots::intel_trust_authority(),
        backend,
    ))
}

fn part(token: &str, index: usize) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.split('.').nth(index).unwrap())
        .unwrap()
}

fn with_header(token: &str, header: &serde_json::Value) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    parts[0] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap());
    parts.join(".")
}

fn header(token: &str) -> serde_json::Value {
    serde_json::from_slice(&part(token, 0)).unwrap()
}

#[test]
fn production_token_verifies_inside_its_window_with_every_backend() {
    let Some(prod) = prod() else { return };
    for &backend in Backend::all() {
        let claims = verifier(&prod.jwks, backend)
            .verify(&prod.token, at(PROD_IAT + 10))
            .unwrap();
        assert_eq!(claims.version, ItaTokenVersion::V1);
        assert_eq!(claims.issuer, "Intel Trust Authority");
        assert_eq!(claims.tcb_status.as_deref(), Some("OutOfDate"));
        let tdx = claims.tdx.as_ref().unwrap();
        let payload: serde_json::Value = serde_json::from_slice(&part(&prod.token, 1)).unwrap();
        assert_eq!(hex::encode(tdx.mrtd), payload["tdx_mrtd"].as_str().unwrap());
        assert_eq!(
            hex::encode(tdx.report_data),
            payload["tdx_report_data"].as_str().unwrap()
        );
        assert_eq!(claims.expires_at, PROD_EXP);
    }
}

#[test]
fn production_token_window_edges_follow_the_skew() {
    let Some(prod) = prod() else { return };
    let v = verifier(&prod.jwks, Backend::default());
    assert!(v.verify(&prod.token, at(PROD_EXP + 60)).is_ok());
    assert!(matches!(
        v.verify(&prod.token, at(PROD_EXP + 61)),
        Err(Error::Expired {
            exp: PROD_EXP,
            skew: 60,
            ..
        })
    ));
    assert!(v.verify(&prod.token, at(PROD_IAT - 60)).is_ok());
    assert!(matches!(
        v.verify(&prod.token, at(PROD_IAT - 61)),
        Err(Error::NotYetValid { nbf: PROD_IAT, .. })
    ));
    let strict = verifier(&prod.jwks, Backend::default()).skew(Duration::ZERO);
    assert!(matches!(
        strict.verify(&prod.token, at(PROD_EXP + 1)),
        Err(Error::Expired { .. })
    ));
    let young = verifier(&prod.jwks, Backend::default()).max_age(Duration::from_secs(30));
    assert!(young.verify(&prod.token, at(PROD_IAT + 90)).is_ok());
    assert!(matches!(
        young.verify(&prod.token, at(PROD_IAT + 91)),
        Err(Error::TooOld { max_age: 30, .. })
    ));
}

#[test]
fn jsonwebtoken_accepts_the_same_token() {
    let Some(prod) = prod() else { return };
    let jwks: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
    let key = &jwks["keys"][0];
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS384);
    // jsonwebtoken reads the system clock: compare signatures only, our side checks times.
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let theirs =
        jsonwebtoken::decode::<serde_json::Value>(&prod.token, &decoding, &validation).unwrap();
    let ours = verifier(&prod.jwks, Backend::default())
        .verify(&prod.token, at(PROD_IAT))
        .unwrap();
    assert_eq!(
        theirs.claims["tdx_mrtd"].as_str().unwrap(),
        hex::encode(ours.tdx.unwrap().mrtd)
    );
}

#[test]
fn pilot_token_is_an_unknown_key() {
    let (Some(prod), Some(pilot)) = (prod(), text(PILOT_TOKEN)) else {
        return;
    };
    let kid = header(&pilot)["kid"].as_str().unwrap().to_owned();
    let err = verifier(&prod.jwks, Backend::default())
        .verify(&pilot, at(1_706_769_520))
        .unwrap_err();
    assert_eq!(err, Error::UnknownKey { kid });
}

#[test]
fn john_doe_fixture_fails_on_its_signature() {
    let (Some(jwks), Some(token)) = (text(DEV_JWKS), text(JOHN_DOE)) else {
        return;
    };
    let jwks = Jwks::from_json(jwks.as_bytes()).unwrap();
    for &backend in Backend::all() {
        let keys = KeySet::unchained_trusting_transport_with_backend(&jwks, backend);
        let err = ItaVerifier::with_keys(keys)
            .verify(&token, at(1_700_000_000))
            .unwrap_err();
        assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    }
    // Chained to the fixture's own root (valid 2023-07..2024-07): still the signature.
    let root = serde_json::from_str::<serde_json::Value>(&text(DEV_JWKS).unwrap()).unwrap()["keys"]
        [0]["x5c"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .as_str()
        .unwrap()
        .to_owned();
    let roots = TrustRoots::empty()
        .with_der(
            &base64::engine::general_purpose::STANDARD
                .decode(root)
                .unwrap(),
        )
        .unwrap();
    let err = ItaVerifier::new(&jwks, &roots)
        .verify(&token, at(1_700_000_000))
        .unwrap_err();
    assert!(matches!(err, Error::BadSignature { .. }), "{err}");
}

#[test]
fn alg_none_is_forbidden() {
    let Some(prod) = prod() else { return };
    let mut h = header(&prod.token);
    h["alg"] = "none".into();
    let unsigned = format!(
        "{}.",
        with_header(&prod.token, &h).rsplit_once('.').unwrap().0
    );
    let err = verifier(&prod.jwks, Backend::default())
        .verify(&unsigned, at(PROD_IAT))
        .unwrap_err();
    assert_eq!(err, Error::ForbiddenAlgorithm("none".into()));
}

#[test]
fn hs256_signed_with_the_rsa_public_key_is_forbidden() {
    let Some(prod) = prod() else { return };
    let mut h = header(&prod.token);
    h["alg"] = "HS256".into();
    let relabelled = with_header(&prod.token, &h);
    let signing_input = relabelled.rsplit_once('.').unwrap().0;
    let jwks: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
    let secret = jwks["keys"][0]["n"].as_str().unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let tag = ring::hmac::sign(&key, signing_input.as_bytes());
    let forged = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(tag.as_ref()));
    let err = verifier(&prod.jwks, Backend::default())
        .verify(&forged, at(PROD_IAT))
        .unwrap_err();
    assert_eq!(err, Error::ForbiddenAlgorithm("HS256".into()));
    // Refused before key lookup: even with an unknown kid.
    h["kid"] = "nobody".into();
    let err = verifier(&prod.jwks, Backend::default())
        .verify(&with_header(&forged, &h), at(PROD_IAT))
        .unwrap_err();
    assert_eq!(err, Error::ForbiddenAlgorithm("HS256".into()));
}

#[test]
fn ps384_signature_relabelled_rs256_does_not_verify() {
    let Some(prod) = prod() else { return };
    let mut h = header(&prod.token);
    h["alg"] = "RS256".into();
    let relabelled = with_header(&prod.token, &h);
    for &backend in Backend::all() {
        let err = verifier(&prod.jwks, backend)
            .verify(&relabelled, at(PROD_IAT))
            .unwrap_err();
        assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    }
    // An algorithm the key set does not list for that kid is refused before any signature.
    h["alg"] = "ES384".into();
    let err = verifier(&prod.jwks, Backend::default())
        .verify(&with_header(&prod.token, &h), at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(err, Error::KeyAlgorithmMismatch { alg: "ES384", .. }),
        "{err}"
    );
}

#[test]
fn kid_pointing_at_another_key() {
    let (Some(prod), Some(dev)) = (prod(), text(DEV_JWKS)) else {
        return;
    };
    let mut both: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
    let dev: serde_json::Value = serde_json::from_str(&dev).unwrap();
    both["keys"]
        .as_array_mut()
        .unwrap()
        .push(dev["keys"][0].clone());
    let both = Jwks::from_json(&serde_json::to_vec(&both).unwrap()).unwrap();
    let mut h = header(&prod.token);
    h["kid"] = dev["keys"][0]["kid"].clone();
    let pointed = with_header(&prod.token, &h);
    // Chained: the other key does not lead to the ITA root.
    let err = verifier(&both, Backend::default())
        .verify(&pointed, at(PROD_IAT))
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedKey { .. }), "{err}");
    // Unchained by opt-in: the other key does not verify the signature.
    for &backend in Backend::all() {
        let keys = KeySet::unchained_trusting_transport_with_backend(&both, backend);
        let err = ItaVerifier::with_keys(keys)
            .verify(&pointed, at(PROD_IAT))
            .unwrap_err();
        assert!(matches!(err, Error::BadSignature { .. }), "{err}");
    }
}

fn flip(token: &str, part_index: usize) -> String {
    let mut parts: Vec<Vec<u8>> = token
        .split('.')
        .map(|p| URL_SAFE_NO_PAD.decode(p).unwrap())
        .collect();
    let middle = parts[part_index].len() / 2;
    parts[part_index][middle] ^= 0x01;
    parts
        .iter()
        .map(|p| URL_SAFE_NO_PAD.encode(p))
        .collect::<Vec<_>>()
        .join(".")
}

#[test]
fn payload_and_signature_bit_flips_do_not_verify() {
    let Some(prod) = prod() else { return };
    for &backend in Backend::all() {
        let v = verifier(&prod.jwks, backend);
        for index in [1, 2] {
            let err = v
                .verify(&flip(&prod.token, index), at(PROD_IAT))
                .unwrap_err();
            assert!(
                matches!(err, Error::BadSignature { .. }),
                "part {index}: {err}"
            );
        }
    }
}

#[test]
fn wrong_issuer_is_refused() {
    let Some(prod) = prod() else { return };
    let err = verifier(&prod.jwks, Backend::default())
        .issuer("Intel Trust Authority Pilot")
        .verify(&prod.token, at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(err, Error::WrongIssuer { ref found, .. } if found == "Intel Trust Authority"),
        "{err}"
    );
}

#[test]
fn x5c_chain_to_another_root_is_refused() {
    let (Some(prod), Some(dev)) = (prod(), text(DEV_JWKS)) else {
        return;
    };
    let err = ItaVerifier::new(&prod.jwks, &TrustRoots::aws_nitro())
        .verify(&prod.token, at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. } if matches!(**reason, Error::UntrustedRoot { .. })),
        "{err}"
    );
    // The development JWKS (its own root) against the production root.
    let dev = Jwks::from_json(dev.as_bytes()).unwrap();
    let mut h = header(&prod.token);
    h["kid"] = "3fd751f2e0d0f52846c0ecd4972c6e99dfc642051cd339dd9b04381af8c0ddb804514a7a1fee4673ac844fd5db7f15fb".into();
    let err = verifier(&dev, Backend::default())
        .verify(&with_header(&prod.token, &h), at(1_700_000_000))
        .unwrap_err();
    assert!(matches!(err, Error::UntrustedKey { .. }), "{err}");
}

#[test]
fn chain_times_are_checked_at_now() {
    let Some(prod) = prod() else { return };
    // The signing leaf expired 2024-09-11; a token replayed later with a clock that does not
    // check exp is still refused on the chain.
    let late = at(1_760_000_000);
    let err = verifier(&prod.jwks, Backend::default())
        .skew(Duration::from_secs(1 << 40))
        .verify(&prod.token, late)
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. }
            if matches!(**reason, Error::Certificate { index: 0, problem: CertificateProblem::Expired { .. }, .. })),
        "{err}"
    );
}

#[test]
fn jwk_key_must_equal_the_x5c_leaf_key() {
    let (Some(prod), Some(dev)) = (prod(), text(DEV_JWKS)) else {
        return;
    };
    let mut jwks: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
    let dev: serde_json::Value = serde_json::from_str(&dev).unwrap();
    for key in jwks["keys"].as_array_mut().unwrap() {
        key["n"] = dev["keys"][0]["n"].clone();
    }
    let jwks = Jwks::from_json(&serde_json::to_vec(&jwks).unwrap()).unwrap();
    let err = verifier(&jwks, Backend::default())
        .verify(&prod.token, at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. } if matches!(**reason, Error::LeafKeyMismatch { .. })),
        "{err}"
    );
}

#[test]
fn unchained_keys_need_the_opt_in() {
    let Some(prod) = prod() else { return };
    let mut jwks: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
    for key in jwks["keys"].as_array_mut().unwrap() {
        key.as_object_mut().unwrap().remove("x5c");
    }
    let jwks = Jwks::from_json(&serde_json::to_vec(&jwks).unwrap()).unwrap();
    let err = verifier(&jwks, Backend::default())
        .verify(&prod.token, at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. } if matches!(**reason, Error::MissingX5c { .. })),
        "{err}"
    );
    let opted_in = ItaVerifier::with_keys(KeySet::unchained_trusting_transport(&jwks));
    assert!(opted_in.verify(&prod.token, at(PROD_IAT)).is_ok());
}

#[test]
fn oversize_token_and_jwks_are_refused() {
    let Some(prod) = prod() else { return };
    let limits = Limits {
        token: prod.token.len() - 1,
        ..Limits::default()
    };
    let err = verifier(&prod.jwks, Backend::default())
        .limits(limits)
        .verify(&prod.token, at(PROD_IAT))
        .unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { what: "token", .. }),
        "{err}"
    );
    let err = Jwks::from_json_with_limit(prod.jwks_json.as_bytes(), prod.jwks_json.len() - 1)
        .unwrap_err();
    assert!(matches!(err, Error::TooLarge { what: "JWKS", .. }), "{err}");
    let huge = vec![b' '; Limits::default().jwks + 1];
    assert!(matches!(
        Jwks::from_json(&huge),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn policy_checks_measurements_report_data_nonce_and_tcb_status() {
    let Some(prod) = prod() else { return };
    let claims = verifier(&prod.jwks, Backend::default())
        .verify(&prod.token, at(PROD_IAT))
        .unwrap();
    let tdx = claims.tdx.clone().unwrap();
    // The production token's TCB is OutOfDate: the default policy refuses it.
    assert_eq!(
        ItaPolicy::new().appraise(&claims),
        Err(Error::TcbStatusNotAccepted("OutOfDate".into()))
    );
    let nonce = base64::engine::general_purpose::STANDARD
        .decode(&claims.verifier_nonce.as_ref().unwrap().val)
        .unwrap();
    let policy = ItaPolicy::new()
        .accept_tcb_statuses(["UpToDate", "OutOfDate"])
        .expect_mrtd(tdx.mrtd)
        .expect_rtmr(0, tdx.rtmr0)
        .expect_report_data(tdx.report_data)
        .expect_nonce(&nonce);
    policy.appraise(&claims).unwrap();
    let mut other = tdx.mrtd;
    other[0] ^= 1;
    let err = policy
        .clone()
        .expect_rtmr(3, other)
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx_rtmr3"),
        "{err}"
    );
    // A pin on an RTMR that does not exist refuses the token instead of being dropped.
    assert_eq!(
        policy.clone().expect_rtmr(4, tdx.rtmr0).appraise(&claims),
        Err(Error::MissingClaim("tdx_rtmr (index over 3)"))
    );
    let err = ItaPolicy::new()
        .accept_tcb_statuses(["OutOfDate"])
        .expect_mrtd(other)
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "tdx_mrtd"),
        "{err}"
    );
    let err = ItaPolicy::new()
        .accept_tcb_statuses(["OutOfDate"])
        .expect_report_data([0; 64])
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "report_data"),
        "{err}"
    );
    let err = ItaPolicy::new()
        .accept_tcb_statuses(["OutOfDate"])
        .expect_nonce(b"other")
        .appraise(&claims)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "verifier_nonce"),
        "{err}"
    );
}

#[test]
fn sgx_and_pilot_claims_parse() {
    let Some(sgx) = text("tokens/ita/trustauthority-kbs__sgxToken_amber-poc_2023-12-16.jwt") else {
        return;
    };
    let claims = attested_token::ita::ItaClaims::from_payload(&part(&sgx, 1)).unwrap();
    assert!(claims.tdx.is_none());
    assert_eq!(claims.tcb_status.as_deref(), Some("OUT_OF_DATE"));
    let payload: serde_json::Value = serde_json::from_slice(&part(&sgx, 1)).unwrap();
    assert_eq!(
        hex::encode(claims.sgx.unwrap().mrenclave),
        payload["sgx_mrenclave"].as_str().unwrap()
    );
    let Some(pilot) = text(PILOT_TOKEN) else {
        return;
    };
    let claims = attested_token::ita::ItaClaims::from_payload(&part(&pilot, 1)).unwrap();
    let payload: serde_json::Value = serde_json::from_slice(&part(&pilot, 1)).unwrap();
    assert_eq!(
        hex::encode(claims.tdx.unwrap().rtmr2),
        payload["tdx_rtmr2"].as_str().unwrap()
    );
}

#[test]
fn v2_nested_claims_parse() {
    let Some(prod) = prod() else { return };
    let v1: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&part(&prod.token, 1)).unwrap();
    let (tdx, rest): (Vec<_>, Vec<_>) = v1
        .into_iter()
        .partition(|(k, _)| k.starts_with("tdx_") || k.starts_with("attester_"));
    let mut v2: serde_json::Map<String, serde_json::Value> = rest.into_iter().collect();
    v2.insert(
        "tdx".into(),
        serde_json::Value::Object(tdx.into_iter().collect()),
    );
    v2.insert("ver".into(), "2.0.0".into());
    v2.insert(
        "nvgpu".into(),
        serde_json::json!({"x-nvidia-overall-att-result": true}),
    );
    let claims =
        attested_token::ita::ItaClaims::from_payload(&serde_json::to_vec(&v2).unwrap()).unwrap();
    assert_eq!(claims.version, ItaTokenVersion::V2);
    assert_eq!(claims.tcb_status.as_deref(), Some("OutOfDate"));
    let v1 = attested_token::ita::ItaClaims::from_payload(&part(&prod.token, 1)).unwrap();
    assert_eq!(claims.tdx, v1.tdx);
    assert_eq!(claims.advisory_ids, v1.advisory_ids);
}

#[test]
fn production_chain_refuses_a_crl_not_signed_by_intel() {
    let Some(prod) = prod() else { return };
    // A CRL naming the ATS signing CA as issuer, empty, but not signed by Intel: it cannot
    // vouch for the signer, so the chain's revocation status is unknown and it is refused.
    let leaf_der = {
        let json: serde_json::Value = serde_json::from_str(&prod.jwks_json).unwrap();
        use base64::engine::general_purpose::STANDARD;
        STANDARD
            .decode(json["keys"][0]["x5c"][0].as_str().unwrap())
            .unwrap()
    };
    // The leaf's issuer name, as DER, is reused verbatim by building the CRL by hand.
    let crl = forged_crl_for_issuer_of(&leaf_der);
    let crls = attested_token::x509::Crls::none().with_der(&crl).unwrap();
    let err = ItaVerifier::with_crls(&prod.jwks, &TrustRoots::intel_trust_authority(), &crls)
        .verify(&prod.token, at(PROD_IAT + 1))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UntrustedKey { reason, .. } if matches!(**reason, Error::Chain { .. })),
        "{err}"
    );
    // Without CRLs the production token verifies.
    ItaVerifier::new(&prod.jwks, &TrustRoots::intel_trust_authority())
        .verify(&prod.token, at(PROD_IAT + 1))
        .unwrap();
}

/// An empty CRL whose issuer is the issuer of `cert_der`, signed by a P-384 key of ours.
fn forged_crl_for_issuer_of(cert_der: &[u8]) -> Vec<u8> {
    use der::{Decode as _, Encode as _};
    use p384::ecdsa::{DerSignature, SigningKey, signature::Signer as _};
    let cert = x509_cert::Certificate::from_der(cert_der).unwrap();
    let algorithm = x509_cert::spki::AlgorithmIdentifierOwned {
        oid: der::asn1::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3"),
        parameters: None,
    };
    let time =
        |s: u64| x509_cert::time::Time::try_from(std::time::SystemTime::from(at(s))).unwrap();
    let tbs = x509_cert::crl::TbsCertList::<x509_cert::certificate::Rfc5280> {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: cert.tbs_certificate().issuer().clone(),
        this_update: time(PROD_IAT - 1000),
        next_update: Some(time(PROD_IAT + 100_000)),
        revoked_certificates: None,
        crl_extensions: Some(vec![x509_cert::ext::Extension {
            extn_id: der::asn1::ObjectIdentifier::new_unwrap("2.5.29.20"),
            critical: false,
            extn_value: der::asn1::OctetString::new(vec![0x02, 0x01, 0x01]).unwrap(),
        }]),
    };
    let signature: DerSignature = SigningKey::from_slice(&[5; 48])
        .unwrap()
        .sign(&tbs.to_der().unwrap());
    x509_cert::crl::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: der::asn1::BitString::from_bytes(signature.to_bytes().as_ref()).unwrap(),
    }
    .to_der()
    .unwrap()
}
