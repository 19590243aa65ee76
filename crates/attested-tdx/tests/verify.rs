//! Full DCAP verification of real quotes with Intel's real collateral, at fixed times inside
//! (and one second outside) the windows given in the test data's SOURCES.md, cross-checked
//! against dcap-qvl.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{at, go_tdx_guest_pcs_collateral};

use attested_tdx::error::{Item, TimeBound};
use attested_tdx::{
    Backend, Collateral, Quote, TcbStatus, TrustAnchor, UnixTime, Verifier, VerifyError,
};

struct Sample {
    name: &'static str,
    quote: Vec<u8>,
    collateral: Collateral,
    /// dcap-qvl's form of the same collateral, for the cross-check.
    qvl_json: String,
    now: UnixTime,
}

impl Sample {
    /// The go-tdx-guest quote carries 39 non-zero bytes after its signature data, which no
    /// signature covers: that fixture is parsed leniently, every other strictly.
    fn parse(&self) -> Quote<'_> {
        if self.name.starts_with("go-tdx-guest") {
            Quote::parse_allowing_trailing_data(&self.quote).unwrap()
        } else {
            Quote::parse(&self.quote).unwrap()
        }
    }
}

fn qvl_sample(
    name: &'static str,
    quote: &str,
    hex: bool,
    collateral: &str,
    now: &str,
) -> Option<Sample> {
    let quote = if hex {
        attested_testdata::read_hex(&format!("tdx/dcap-qvl/{quote}"))?
    } else {
        attested_testdata::read(&format!("tdx/dcap-qvl/{quote}"))?
    };
    let json = attested_testdata::read(&format!("tdx/dcap-qvl/{collateral}"))?;
    Some(Sample {
        name,
        quote,
        collateral: Collateral::from_qvl_json(&json).unwrap(),
        qvl_json: String::from_utf8(json).unwrap(),
        now: at(now),
    })
}

fn go_sample() -> Option<Sample> {
    let collateral = go_tdx_guest_pcs_collateral()?;
    Some(Sample {
        name: "go-tdx-guest tdx_prod_quote_SPR_E4",
        quote: attested_testdata::read("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")?,
        qvl_json: collateral.to_qvl_json(),
        collateral,
        now: at("2023-07-01T01:00:00Z"),
    })
}

/// The samples that verify, with the status SOURCES.md and the quotes' producers expect.
fn accepted() -> Vec<(Sample, TcbStatus)> {
    [
        (
            qvl_sample(
                "tdx_quote",
                "tdx_quote",
                false,
                "tdx_quote_collateral.json",
                "2025-07-01T00:00:00Z",
            ),
            TcbStatus::UpToDate,
        ),
        (
            qvl_sample(
                "tdx_quote_td15ex",
                "tdx_quote_td15ex",
                false,
                "tdx_quote_td15ex_collateral.json",
                "2026-10-20T00:00:00Z",
            ),
            TcbStatus::UpToDate,
        ),
        (
            qvl_sample(
                "near_gas",
                "near_gas_test_quote_hex.txt",
                true,
                "near_gas_test_quote_collateral.json",
                "2025-09-15T00:00:00Z",
            ),
            TcbStatus::UpToDate,
        ),
    ]
    .into_iter()
    .filter_map(|(s, status)| Some((s?, status)))
    .collect()
}

fn outdated() -> Option<Sample> {
    qvl_sample(
        "tdx_quote_outdated",
        "tdx_quote_outdated",
        false,
        "tdx_quote_outdated_collateral.json",
        "2026-03-01T00:00:00Z",
    )
}

#[test]
fn real_quotes_verify_with_their_expected_status_on_every_backend() {
    let samples = accepted();
    for backend in Backend::all() {
        let verifier = Verifier::with_backend(TrustAnchor::intel_sgx_root(), *backend);
        for (sample, status) in &samples {
            let quote = sample.parse();
            let verified = verifier
                .verify(&quote, &sample.collateral, sample.now)
                .unwrap_or_else(|e| panic!("{} ({backend:?}): {e}", sample.name));
            assert_eq!(verified.tcb_status(), *status, "{}", sample.name);
            assert!(
                verified.advisory_ids().is_empty(),
                "{}: {:?}",
                sample.name,
                verified.advisory_ids()
            );
            assert_eq!(
                verified.report().td10().mr_td(),
                quote.report().td10().mr_td()
            );
            let pck = &verified.verdict().pck;
            assert_eq!(verified.fmspc(), &pck.fmspc);
            assert!(verified.earliest_expiry() >= sample.now);
        }
    }
}

#[test]
fn fmspcs_match_the_sources() {
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    let expected = [
        ("tdx_quote", "b0c06f000000"),
        ("tdx_quote_td15ex", "b0c06f000000"),
        ("near_gas", "20a06f000000"),
        ("go-tdx-guest tdx_prod_quote_SPR_E4", "50806f000000"),
    ];
    for (sample, _) in accepted() {
        let fmspc = expected.iter().find(|(n, _)| *n == sample.name).unwrap().1;
        let verified = verifier
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .unwrap();
        assert_eq!(hex::encode(verified.fmspc()), fmspc, "{}", sample.name);
    }
}

#[test]
fn the_outdated_platform_matches_no_tcb_level() {
    let Some(sample) = outdated() else { return };
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify(&sample.parse(), &sample.collateral, sample.now)
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::NoMatchingTcbLevel { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("matches no TCB level"), "{err}");
}

/// go-tdx-guest's production quote with the PCS collateral of its tests (the only TCB Info for
/// its FMSPC 50806f000000 in the test data, evaluation 15): every signature, chain, CRL and date
/// verifies, but the PCK certificate's SGX TCB components (03 03 02 02 02 01 00 02 ..., PCESVN
/// 11) are below both TCB levels (05 05 02 02 03 01 00 03 ..., PCESVN 11 UpToDate and 5
/// OutOfDate) in components 0, 1, 4 and 7, and TEE_TCB_SVN 03 00 04 .. is below their TDX
/// components 03 00 05 .. in component 2. So Intel's TCB level matching refuses it, as
/// dcap-qvl does (see the cross-check) and as go-tdx-guest itself does: its
/// `TestNegativeRawQuoteVerifyWithCollateral` expects "no matching TCB level found" for this
/// quote and collateral at 2023-07-01T01:00:00Z, and its positive tests either skip the
/// collateral or zero the TCB Info's SVNs.
#[test]
fn the_go_tdx_guest_quote_passes_every_check_but_tcb_level_matching() {
    let Some(sample) = go_sample() else { return };
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify(&sample.parse(), &sample.collateral, sample.now)
        .unwrap_err();
    match &err {
        VerifyError::NoMatchingTcbLevel {
            fmspc,
            evaluation,
            detail,
        } => {
            assert_eq!((fmspc.as_str(), *evaluation), ("50806f000000", 15));
            assert!(
                detail.contains("03030202020100020000000000000000"),
                "{detail}"
            );
            assert!(
                detail.ends_with(
                    "below it in SGX component 0 (3 < 5), SGX component 1 (3 < 5), \
                     SGX component 4 (2 < 3), SGX component 7 (2 < 3), TDX component 2 (4 < 5)"
                ),
                "{detail}"
            );
        }
        other => panic!("{other}"),
    }
}

/// Refused samples fail for the window first: one second outside the collateral window.
#[test]
fn refused_samples_fail_one_second_outside_their_window() {
    let cases = [
        (go_sample(), "2023-06-18T08:42:58Z", "2023-07-08T07:24:59Z"),
        (outdated(), "2026-02-18T10:58:51Z", "2026-03-20T10:41:15Z"),
    ];
    for (sample, from, until) in cases {
        let Some(sample) = sample else { continue };
        let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
        for (now, bound, edge) in [
            (UnixTime(at(from).0 - 1), TimeBound::NotYetValid, at(from)),
            (UnixTime(at(until).0 + 1), TimeBound::Expired, at(until)),
        ] {
            let err = verifier
                .verify(&sample.parse(), &sample.collateral, now)
                .unwrap_err();
            assert!(
                matches!(err, VerifyError::OutsideValidity { bound: b, at, .. } if b == bound && at == edge),
                "{}: {err}",
                sample.name
            );
        }
        for now in [at(from), at(until)] {
            let err = verifier
                .verify(&sample.parse(), &sample.collateral, now)
                .unwrap_err();
            assert!(
                matches!(err, VerifyError::NoMatchingTcbLevel { .. }),
                "{}: {err}",
                sample.name
            );
        }
    }
}

#[test]
fn the_sgx_quote_is_refused_by_the_tdx_path() {
    let Some(quote) = attested_testdata::read("tdx/dcap-qvl/sgx_quote") else {
        return;
    };
    let json = attested_testdata::read("tdx/dcap-qvl/sgx_quote_collateral.json").unwrap();
    let collateral = Collateral::from_qvl_json(&json).unwrap();
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify_bytes(&quote, &collateral, at("2025-07-01T00:00:00Z"))
        .unwrap_err();
    assert!(matches!(err, VerifyError::UnsupportedQuote(_)), "{err}");
    assert!(err.to_string().contains("not TDX"), "{err}");
}

#[test]
fn every_sample_fails_one_second_outside_its_window_naming_the_bound() {
    for (sample, _) in accepted() {
        let warm = Verifier::new(TrustAnchor::intel_sgx_root());
        let verdict = warm
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .unwrap()
            .verdict()
            .clone();
        // Both ends verify, warm and cold.
        for now in [verdict.valid_from, verdict.earliest_expiry] {
            warm.verify(&sample.parse(), &sample.collateral, now)
                .unwrap();
            Verifier::new(TrustAnchor::intel_sgx_root())
                .verify(&sample.parse(), &sample.collateral, now)
                .unwrap();
        }
        let cases = [
            (
                UnixTime(verdict.valid_from.0 - 1),
                TimeBound::NotYetValid,
                verdict.valid_from,
            ),
            (
                UnixTime(verdict.earliest_expiry.0 + 1),
                TimeBound::Expired,
                verdict.earliest_expiry,
            ),
        ];
        for (now, bound, edge) in cases {
            for verifier in [&warm, &Verifier::new(TrustAnchor::intel_sgx_root())] {
                let err = verifier
                    .verify(&sample.parse(), &sample.collateral, now)
                    .unwrap_err();
                match &err {
                    VerifyError::OutsideValidity {
                        item,
                        bound: b,
                        at,
                        now: n,
                    } => {
                        assert_eq!((*b, *at, *n), (bound, edge, now), "{}: {err}", sample.name);
                        assert!(err.to_string().contains(&item.to_string()));
                        assert!(err.to_string().contains(&edge.to_string()));
                    }
                    other => panic!("{}: {other}", sample.name),
                }
            }
        }
    }
}

#[test]
fn collateral_windows_are_those_of_the_sources() {
    // The quote's window is the collateral's, narrowed by the PCK certificates.
    for (sample, (from, until)) in accepted().into_iter().map(|(s, _)| s).zip([
        ("2025-06-19T10:32:27Z", "2025-07-19T10:00:35Z"),
        ("2026-10-08T00:28:26Z", "2026-11-06T23:45:11Z"),
        ("2025-09-02T07:41:59Z", "2025-10-02T07:03:51Z"),
    ]) {
        let verified = Verifier::new(TrustAnchor::intel_sgx_root())
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .unwrap();
        assert!(verified.verdict().valid_from >= at(from), "{}", sample.name);
        assert!(verified.earliest_expiry() <= at(until), "{}", sample.name);
    }
}

#[test]
fn collateral_for_another_fmspc_is_refused() {
    let (Some(quote), Some(other)) = (
        attested_testdata::read("tdx/dcap-qvl/tdx_quote"),
        qvl_sample(
            "near_gas",
            "near_gas_test_quote_hex.txt",
            true,
            "near_gas_test_quote_collateral.json",
            "2025-09-15T00:00:00Z",
        ),
    ) else {
        return;
    };
    // The near_gas collateral is for FMSPC 20a06f000000; the quote is b0c06f000000. Its
    // window does not overlap the quote's PCK chain validity problems, so FMSPC is what fails.
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify_bytes(&quote, &other.collateral, other.now)
        .unwrap_err();
    assert!(
        matches!(&err, VerifyError::PlatformMismatch { field: "FMSPC", pck, tcb_info } if pck == "b0c06f000000" && tcb_info == "20a06f000000"),
        "{err}"
    );
}

#[test]
fn warm_verification_equals_cold_at_every_probe_time() {
    for (sample, _) in accepted() {
        let warm = Verifier::new(TrustAnchor::intel_sgx_root());
        let first = warm
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .unwrap();
        let (from, until) = (first.verdict().valid_from.0, first.earliest_expiry().0);
        let probes = [
            0,
            from - 86_400,
            from - 1,
            from,
            from + 1,
            sample.now.0,
            until - 1,
            until,
            until + 1,
            until + 86_400,
            u64::MAX,
        ];
        for now in probes.map(UnixTime) {
            let cold = Verifier::new(TrustAnchor::intel_sgx_root()).verify_bytes(
                &sample.quote,
                &sample.collateral,
                now,
            );
            let hot = warm.verify(&sample.parse(), &sample.collateral, now);
            assert_eq!(
                hot.as_ref().map(|v| v.verdict().clone()),
                cold.as_ref().map(|v| v.verdict().clone()),
                "{} at {now}",
                sample.name
            );
        }
    }
}

#[test]
fn the_trust_anchor_is_pinned() {
    for (sample, _) in accepted().into_iter().take(1) {
        let chain_root = sample.collateral.to_qvl_json();
        let value: serde_json::Value = serde_json::from_str(&chain_root).unwrap();
        // Any other root (here: the PCK CRL issuer CA, a real Intel CA) refuses everything.
        let pem = value["pck_crl_issuer_chain"].as_str().unwrap();
        let end = pem.find("-----END CERTIFICATE-----").unwrap() + 25;
        let other = TrustAnchor::from_pem(&pem.as_bytes()[..end]).unwrap();
        let err = Verifier::new(other)
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .unwrap_err();
        assert!(
            matches!(
                err,
                VerifyError::Chain { .. } | VerifyError::BadSignature { .. }
            ),
            "{err}"
        );
    }
}

/// dcap-qvl's verdict on the same quote and collateral: `Ok(status)` or `Err`.
fn dcap_qvl(sample: &Sample) -> Result<String, String> {
    let collateral: dcap_qvl::QuoteCollateralV3 = serde_json::from_str(&sample.qvl_json).unwrap();
    dcap_qvl::verify::verify(&sample.quote, &collateral, sample.now.0)
        .map(|report| report.status)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn verdicts_and_statuses_match_dcap_qvl() {
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    let mut compared = 0;
    for sample in accepted()
        .into_iter()
        .map(|(s, _)| s)
        .chain(outdated())
        .chain(go_sample())
    {
        let ours = verifier
            .verify(&sample.parse(), &sample.collateral, sample.now)
            .map(|v| v.tcb_status().to_string())
            .map_err(|e| e.to_string());
        let theirs = dcap_qvl(&sample);
        assert_eq!(
            ours.is_ok(),
            theirs.is_ok(),
            "{}: ours {ours:?}, dcap-qvl {theirs:?}",
            sample.name
        );
        if let (Ok(a), Ok(b)) = (&ours, &theirs) {
            assert_eq!(a, b, "{}", sample.name);
        }
        compared += 1;
    }
    if !accepted().is_empty() {
        assert!(compared >= 5);
    }
}

#[test]
fn errors_name_the_item() {
    let Some((sample, _)) = accepted().into_iter().next() else {
        return;
    };
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    let quote = Quote::parse(&sample.quote).unwrap();
    let signed = quote.signed_bytes().len();
    let mut bad = sample.quote.clone();
    bad[signed + 4] ^= 1; // first byte of the quote signature
    let err = verifier
        .verify_bytes(&bad, &sample.collateral, sample.now)
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::BadSignature {
            item: Item::QuoteBody
        }
    );
    assert!(err.to_string().contains("attestation key"));
}
