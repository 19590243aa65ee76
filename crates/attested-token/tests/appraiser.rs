//! The vocabulary's `Appraiser` for ITA and MAA tokens and Nitro documents, and the NRAS
//! companion check, on the simulated issuer.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_token::ita::{ItaAppraiser, ItaPolicy, ItaVerifier};
use attested_token::jwt::{Jwks, KeySet};
use attested_token::maa::{MaaAppraiser, MaaPolicy, MaaToken, MaaVerifier};
use attested_token::nitro::{NitroAppraiser, NitroPolicy, NitroVerifier};
use attested_token::nras::{NrasAppraiser, NrasPolicy, NrasVerifier};
use attested_token::sim::{SIM_MAA_ISSUER, SimEnclave, SimGpu, SimIssuer, SimTd};
use attested_token::{Appraiser, AppraiserError, Error, Evidence, UnixTime, Workload};

const NOW: u64 = 1_750_000_000;

fn ita(policy: ItaPolicy) -> (SimIssuer, ItaAppraiser) {
    let issuer = SimIssuer::new([42; 32]).unwrap();
    let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
    let appraiser = ItaAppraiser::new(ItaVerifier::new(&jwks, &issuer.roots()), policy);
    (issuer, appraiser)
}

/// Appraises `token` now and checks that the accepted value carries `td`'s REPORTDATA, MRTD
/// and every RTMR.
fn accepted_td(appraiser: &impl Appraiser, token: &str, td: &SimTd) -> attested_token::Accepted {
    let accepted = appraiser
        .appraise(&Evidence::platform_token(token), UnixTime(NOW))
        .unwrap();
    assert_eq!(accepted.report_data(), &td.report_data);
    assert_eq!(accepted.measurement("mrtd"), Some(&td.mrtd[..]));
    for (index, rtmr) in td.rtmrs.iter().enumerate() {
        assert_eq!(
            accepted.measurement(&format!("rtmr{index}")),
            Some(&rtmr[..])
        );
    }
    accepted
}

#[test]
fn an_ita_token_is_accepted_with_its_claims_and_what_the_policy_pinned() {
    let td = SimTd::default();
    let (issuer, appraiser) = ita(ItaPolicy::new()
        .expect_mrtd(td.mrtd)
        .expect_rtmr(2, td.rtmrs[2]));
    let token = issuer.ita_token(&td, NOW, 300);
    let accepted = accepted_td(&appraiser, &token, &td);
    assert_eq!(
        accepted.workload(),
        &Workload::Pinned(vec!["mrtd".into(), "rtmr2".into()])
    );

    let (issuer, any) = ita(ItaPolicy::any_workload());
    let token = issuer.ita_token(&td, NOW, 300);
    let accepted = any
        .appraise(&Evidence::platform_token(&token), UnixTime(NOW))
        .unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
}

/// MRTD alone is the platform's firmware, shared by every tenant: an appraiser whose policy
/// pins nothing else refuses every token (before verifying it), unless the policy opts out.
#[test]
fn an_ita_policy_that_identifies_no_workload_refuses_every_token() {
    let td = SimTd::default();
    for (policy, missing) in [
        (ItaPolicy::new(), "nothing that identifies it"),
        (ItaPolicy::new().expect_mrtd(td.mrtd), "without an RTMR"),
        (ItaPolicy::new().expect_rtmr(3, td.rtmrs[3]), "nothing"),
    ] {
        assert!(policy.identifies_workload().is_err());
        let (issuer, appraiser) = ita(policy);
        let token = issuer.ita_token(&td, NOW, 300);
        for now in [NOW, NOW + 3600] {
            let error = appraiser.appraise_token(&token, UnixTime(now)).unwrap_err();
            assert!(
                matches!(&error, AppraiserError::Policy(Error::NoWorkload(why)) if why.contains(missing)),
                "{error}"
            );
        }
    }
    let pinned = ItaPolicy::new()
        .expect_mrtd(td.mrtd)
        .expect_rtmr(0, td.rtmrs[0]);
    assert!(pinned.identifies_workload().is_ok());
    let opted_out = ItaPolicy::any_workload().expect_mrtd(td.mrtd);
    assert!(opted_out.accepts_any_workload() && opted_out.identifies_workload().is_err());
    let (issuer, appraiser) = ita(opted_out);
    let token = issuer.ita_token(&td, NOW, 300);
    let (accepted, _) = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
    // The opt-out still compares what is pinned.
    let (issuer, appraiser) = ita(ItaPolicy::any_workload().expect_mrtd([0x99; 48]));
    let token = issuer.ita_token(&td, NOW, 300);
    let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
    assert!(
        matches!(error, AppraiserError::Policy(Error::Mismatch { .. })),
        "{error}"
    );
}

#[test]
fn an_ita_token_is_refused_when_expired_at_the_callers_now_or_off_policy() {
    let td = SimTd::default();
    let (issuer, appraiser) = ita(ItaPolicy::new()
        .expect_mrtd([0x99; 48])
        .expect_rtmr(3, td.rtmrs[3]));
    let token = issuer.ita_token(&td, NOW, 300);
    let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
    assert!(matches!(error, AppraiserError::Policy(_)), "{error}");

    let (issuer, appraiser) = ita(ItaPolicy::any_workload());
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

/// The attack: any AWS customer runs an enclave of their own, whose document chains to the
/// same AWS root and binds the attacker's keys. An appraiser that pins no PCR of the enclave's
/// code cannot tell it from the real service, so it refuses every document (before verifying
/// it); PCR1, PCR3 and PCR4 do not identify the code; PCR0, PCR2 or PCR8 do, and
/// `any_workload` is the named opt-out.
#[test]
fn a_nitro_appraiser_refuses_every_enclave_until_a_pcr_identifies_its_code() {
    let issuer = SimIssuer::new([7; 32]).unwrap();
    let service = SimEnclave {
        public_key: Some(vec![0x42; 64]),
        ..SimEnclave::default()
    };
    let mut attacker = SimEnclave {
        public_key: Some(vec![0x66; 64]),
        ..SimEnclave::default()
    };
    for index in [0, 2, 8] {
        attacker.pcrs.insert(index, vec![0xad; 48]);
    }
    let attackers = issuer.nitro_document(&attacker, NOW * 1000);
    let appraise = |policy: NitroPolicy, document: &[u8]| {
        NitroAppraiser::new(NitroVerifier::new(&issuer.roots()), policy)
            .appraise_document(document, UnixTime(NOW))
            .map(|(accepted, _)| accepted)
    };

    // Nothing that identifies the code: refused, naming what to pin.
    let pcr = |index: u8| service.pcrs[&index].clone();
    for policy in [
        NitroPolicy::new(),
        NitroPolicy::new().expect_pcr(1, &attacker.pcrs[&1]),
        NitroPolicy::new()
            .expect_pcr(3, &[0; 48])
            .expect_pcr(4, &[0; 48]),
    ] {
        assert!(policy.identifies_workload().is_err());
        let error = appraise(policy, &attackers).unwrap_err();
        assert!(
            matches!(error, AppraiserError::Policy(Error::NoWorkload(_))),
            "{error}"
        );
        assert!(error.to_string().contains("PCR0"), "{error}");
    }

    // Each identifying PCR alone tells the service from the attacker.
    let documents = issuer.nitro_document(&service, NOW * 1000);
    for index in [0u8, 2, 8] {
        let policy = NitroPolicy::new().expect_pcr(index, &pcr(index));
        assert!(policy.identifies_workload().is_ok(), "PCR{index}");
        let accepted = appraise(policy.clone(), &documents).unwrap();
        assert_eq!(
            accepted.workload(),
            &Workload::Pinned(vec![format!("pcr{index}")])
        );
        let error = appraise(policy, &attackers).unwrap_err();
        assert!(
            error.to_string().contains(&format!("PCR{index}")),
            "{error}"
        );
    }

    // The opt-out accepts the attacker's enclave too, and the accepted value says so.
    let accepted = appraise(NitroPolicy::any_workload(), &attackers).unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
    assert_eq!(accepted.report_data(), &[0x66; 64]);
}

fn maa(policy: MaaPolicy) -> (SimIssuer, MaaAppraiser) {
    let issuer = SimIssuer::new([43; 32]).unwrap();
    let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
    let keys = KeySet::chained(&jwks, &issuer.roots());
    let appraiser = MaaAppraiser::new(MaaVerifier::new(keys, SIM_MAA_ISSUER), policy);
    (issuer, appraiser)
}

/// A TD unlike the default one in every measurement, so that each comes from its own claim.
fn maa_td() -> SimTd {
    SimTd {
        mrtd: [0xa0; 48],
        rtmrs: [[0xa1; 48], [0xa2; 48], [0xa3; 48], [0xa4; 48]],
        report_data: core::array::from_fn(|i| u8::try_from(i).unwrap()),
        ..SimTd::default()
    }
}

#[test]
fn an_maa_tdx_token_is_accepted_with_its_report_data_and_measurements() {
    let td = maa_td();
    let (issuer, appraiser) = maa(MaaPolicy::new()
        .expect_mrtd(td.mrtd)
        .expect_rtmr(1, td.rtmrs[1]));
    let token = issuer.maa_tdx_token(&td, NOW, 300);
    let accepted = accepted_td(&appraiser, &token, &td);
    assert_eq!(accepted.measurements().len(), 5);
    assert_eq!(
        accepted.workload(),
        &Workload::Pinned(vec!["mrtd".into(), "rtmr1".into()])
    );
    let (_, claims) = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap();
    assert!(matches!(claims, MaaToken::Tdx(_)), "{claims:?}");
}

#[test]
fn an_maa_token_with_another_measurement_is_refused_naming_it() {
    let td = maa_td();
    let (issuer, appraiser) = maa(MaaPolicy::new()
        .expect_mrtd(td.mrtd)
        .expect_rtmr(1, [0x99; 48]));
    let token = issuer.maa_tdx_token(&td, NOW, 300);
    let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
    assert!(
        matches!(&error, AppraiserError::Policy(Error::Mismatch { field, .. }) if field == "tdx_rtmr1"),
        "{error}"
    );
    let (issuer, appraiser) = maa(MaaPolicy::new()
        .expect_mrtd([0x99; 48])
        .expect_rtmr(1, td.rtmrs[1]));
    let token = issuer.maa_tdx_token(&td, NOW, 300);
    let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
    assert!(
        matches!(&error, AppraiserError::Policy(Error::Mismatch { field, .. }) if field == "tdx_mrtd"),
        "{error}"
    );
}

/// As for ITA: MRTD alone is the cloud's firmware. A policy that identifies no workload refuses
/// every token before it is verified (a string that is no token at all gets the same answer),
/// unless it opts out.
#[test]
fn an_maa_policy_that_identifies_no_workload_refuses_every_token_before_verifying_it() {
    let td = maa_td();
    for (policy, missing) in [
        (MaaPolicy::new(), "nothing that identifies it"),
        (MaaPolicy::new().expect_mrtd(td.mrtd), "without an RTMR"),
        (MaaPolicy::new().expect_rtmr(0, td.rtmrs[0]), "nothing"),
        (
            MaaPolicy::new()
                .expect_mrtd(td.mrtd)
                .expect_rtmr(4, [0; 48]),
            "without an RTMR",
        ),
    ] {
        assert!(policy.identifies_workload().is_err());
        let (issuer, appraiser) = maa(policy);
        for token in [issuer.maa_tdx_token(&td, NOW, 300), "not a token".into()] {
            let error = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap_err();
            assert!(
                matches!(&error, AppraiserError::Policy(Error::NoWorkload(why)) if why.contains(missing)),
                "{error}"
            );
        }
    }
    let opted_out = MaaPolicy::any_workload();
    assert!(opted_out.accepts_any_workload() && opted_out.identifies_workload().is_err());
    let (issuer, appraiser) = maa(opted_out);
    let token = issuer.maa_tdx_token(&td, NOW, 300);
    let (accepted, _) = appraiser.appraise_token(&token, UnixTime(NOW)).unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
    assert_eq!(accepted.report_data(), &td.report_data);
}

#[test]
fn an_maa_appraiser_needs_a_platform_token_fresh_at_the_callers_now() {
    let td = maa_td();
    let (issuer, appraiser) = maa(MaaPolicy::any_workload());
    let error = appraiser
        .appraise(&Evidence::platform_quote(b"quote"), UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<AppraiserError>(),
            Some(AppraiserError::Missing("Azure Attestation token"))
        ),
        "{error}"
    );
    let error = appraiser
        .appraise(&Evidence::session_quote(b"quote"), UnixTime(NOW))
        .unwrap_err();
    assert!(
        error.to_string().contains("platform tokens only"),
        "{error}"
    );
    let token = issuer.maa_tdx_token(&td, NOW, 300);
    let error = appraiser
        .appraise_token(&token, UnixTime(NOW + 3600))
        .unwrap_err();
    assert!(
        matches!(error, AppraiserError::Verify(Error::Expired { .. })),
        "{error}"
    );
    // Another provider's token (the issuer is pinned by the verifier).
    let foreign = issuer.sign_jwt(&{
        let mut claims = issuer.maa_tdx_claims(&td, NOW, 300);
        claims["iss"] = "https://other.attest.azure.net".into();
        claims
    });
    let error = appraiser
        .appraise_token(&foreign, UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(error, AppraiserError::Verify(Error::WrongIssuer { .. })),
        "{error}"
    );
}

fn nras(policy: NrasPolicy) -> (SimIssuer, NrasAppraiser) {
    let issuer = SimIssuer::new([44; 32]).unwrap();
    let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
    let appraiser = NrasAppraiser::new(NrasVerifier::new(&jwks, &issuer.roots()), policy);
    (issuer, appraiser)
}

#[test]
fn an_nras_bundle_is_appraised_for_the_callers_nonce_in_every_token() {
    let nonce = [0x3c; 32];
    let (issuer, appraiser) = nras(NrasPolicy::new().expect_gpu_count(2));
    let bundle = issuer.nras_bundle(&[SimGpu::default(), SimGpu::default()], &nonce, NOW, 300);
    let gpus = appraiser
        .appraise_bundle(bundle.as_bytes(), &nonce, UnixTime(NOW))
        .unwrap();
    assert_eq!(gpus.nonce(), &nonce);
    let names: Vec<_> = gpus.gpus().iter().map(|gpu| gpu.name.as_str()).collect();
    assert_eq!(names, ["GPU-0", "GPU-1"]);
    assert!(gpus.result().overall_result);
    assert_eq!(
        gpus.result().eat_nonce.as_deref(),
        Some(&*hex::encode(nonce))
    );

    // Another nonce: refused on the overall token's eat_nonce.
    let error = appraiser
        .appraise_bundle(bundle.as_bytes(), &[0x3d; 32], UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(&error, AppraiserError::Policy(Error::Mismatch { field, .. }) if field == "eat_nonce"),
        "{error}"
    );
    // The call's nonce replaces one the policy was built with.
    let (issuer, appraiser) = nras(NrasPolicy::new().expect_nonce(&[0x3d; 32]));
    let bundle = issuer.nras_bundle(&[SimGpu::default()], &nonce, NOW, 300);
    assert!(
        appraiser
            .appraise_bundle(bundle.as_bytes(), &nonce, UnixTime(NOW))
            .is_ok()
    );
}

#[test]
fn an_nras_bundle_is_refused_for_a_failed_gpu_an_empty_nonce_or_out_of_time() {
    let nonce = [0x3c; 32];
    let (issuer, appraiser) = nras(NrasPolicy::new());
    let failed = SimGpu {
        measres: "fail".into(),
        ..SimGpu::default()
    };
    let bundle = issuer.nras_bundle(&[SimGpu::default(), failed], &nonce, NOW, 300);
    let error = appraiser
        .appraise_bundle(bundle.as_bytes(), &nonce, UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(&error, AppraiserError::Policy(Error::Mismatch { field, .. }) if field == "GPU-1 measres"),
        "{error}"
    );
    // An empty nonce binds nothing: refused before the bundle is even parsed.
    let error = appraiser
        .appraise_bundle(b"not a bundle", &[], UnixTime(NOW))
        .unwrap_err();
    assert!(matches!(error, AppraiserError::NoBinding(_)), "{error}");
    let bundle = issuer.nras_bundle(&[SimGpu::default()], &nonce, NOW, 300);
    let error = appraiser
        .appraise_bundle(bundle.as_bytes(), &nonce, UnixTime(NOW + 3600))
        .unwrap_err();
    assert!(
        matches!(error, AppraiserError::Verify(Error::Expired { .. })),
        "{error}"
    );
}
