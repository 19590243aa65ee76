//! The vocabulary's `Appraiser` for ITA tokens and Nitro documents, on the simulated issuer.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_token::sim::{SimEnclave, SimIssuer, SimTd};
use attested_token::{
    Appraiser, AppraiserError, Evidence, ItaAppraiser, ItaPolicy, ItaVerifier, Jwks,
    NitroAppraiser, NitroPolicy, NitroVerifier, UnixTime, Workload,
};

const NOW: u64 = 1_750_000_000;

fn ita(policy: ItaPolicy) -> (SimIssuer, ItaAppraiser) {
    let issuer = SimIssuer::new([42; 32]).unwrap();
    let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
    let appraiser = ItaAppraiser::new(ItaVerifier::new(&jwks, &issuer.roots()), policy);
    (issuer, appraiser)
}

#[test]
fn an_ita_token_is_accepted_with_its_claims_and_what_the_policy_pinned() {
    let td = SimTd::default();
    let (issuer, appraiser) = ita(ItaPolicy::new().expect_mrtd(td.mrtd));
    let token = issuer.ita_token(&td, NOW, 300);
    let accepted = appraiser
        .appraise(&Evidence::platform_token(&token), UnixTime(NOW))
        .unwrap();
    assert_eq!(accepted.report_data(), &td.report_data);
    assert_eq!(accepted.measurement("mrtd"), Some(&td.mrtd[..]));
    assert_eq!(accepted.measurement("rtmr3"), Some(&td.rtmrs[3][..]));
    assert_eq!(accepted.workload(), &Workload::Pinned(vec!["mrtd".into()]));

    let (issuer, any) = ita(ItaPolicy::new());
    let token = issuer.ita_token(&td, NOW, 300);
    let accepted = any
        .appraise(&Evidence::platform_token(&token), UnixTime(NOW))
        .unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
}

#[test]
fn an_ita_token_is_refused_when_expired_at_the_callers_now_or_off_policy() {
    let td = SimTd::default();
    let (issuer, appraiser) = ita(ItaPolicy::new().expect_mrtd([0x99; 48]));
    let token = issuer.ita_token(&td, NOW, 300);
    let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
    assert!(matches!(error, AppraiserError::Policy(_)), "{error}");

    let (issuer, appraiser) = ita(ItaPolicy::new());
    let token = issuer.ita_token(&td, NOW, 300);
    assert!(appraiser.appraise_token(&token, UnixTime(NOW)).is_ok());
    let error = appraiser
        .appraise_token(&token, UnixTime(NOW + 3600))
        .unwrap_err();
    assert!(matches!(error, AppraiserError::Verify(_)), "{error}");
    let error = appraiser
        .appraise(&Evidence::session_quote(b"quote"), UnixTime(NOW))
        .unwrap_err();
    assert!(
        error.to_string().contains("platform tokens only"),
        "{error}"
    );
}

#[test]
fn a_nitro_document_is_accepted_only_with_its_binding_nonce_and_pcrs() {
    let issuer = SimIssuer::new([7; 32]).unwrap();
    let enclave = SimEnclave {
        public_key: Some(vec![0x42; 64]),
        nonce: Some(b"nonce".to_vec()),
        ..SimEnclave::default()
    };
    let document = issuer.nitro_document(&enclave, NOW * 1000);
    let pcr0 = enclave.pcrs[&0].clone();
    let appraiser = NitroAppraiser::new(
        NitroVerifier::new(&issuer.roots()),
        NitroPolicy::new().expect_pcr(0, &pcr0),
    );
    let accepted = appraiser
        .expecting_nonce(b"nonce")
        .appraise(&Evidence::platform_quote(&document), UnixTime(NOW))
        .unwrap();
    assert_eq!(accepted.report_data(), &[0x42; 64]);
    assert_eq!(accepted.measurement("pcr0"), Some(&pcr0[..]));
    assert_eq!(accepted.workload(), &Workload::Pinned(vec!["pcr0".into()]));

    let error = appraiser
        .expecting_nonce(b"other")
        .appraise_document(&document, UnixTime(NOW))
        .unwrap_err();
    assert!(matches!(error, AppraiserError::Policy(_)), "{error}");

    let unbound = issuer.nitro_document(
        &SimEnclave {
            public_key: Some(vec![1; 32]),
            ..SimEnclave::default()
        },
        NOW * 1000,
    );
    let error = appraiser
        .appraise_document(&unbound, UnixTime(NOW))
        .unwrap_err();
    assert!(matches!(error, AppraiserError::NoBinding(_)), "{error}");
    let error = appraiser
        .appraise(&Evidence::platform_token("t"), UnixTime(NOW))
        .unwrap_err();
    assert!(error.to_string().contains("Nitro"), "{error}");
}
