//! A server's quote source: a simulated platform's quotes carry the REPORTDATA asked for and
//! its spec's measurements, verify only under its own root, and are refused when tampered or
//! of another workload; configfs-tsm is refused at opening where it is not there; a simulated
//! source with a latency counts the quotes it makes at once.
#![cfg(all(feature = "sim", feature = "tsm"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_tdx::policy::{Hex, RtmrPin};
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::tsm::{ConfigfsTsm, QuoteSource, QuoteSourceError, TsmError};
use attested_tdx::{
    Collateral, Policy, TcbStatus, TdxAppraisalError, TdxAppraiser, TrustAnchor, UnixTime, Verifier,
};

const NOW: UnixTime = UnixTime(1_790_000_000);

fn source(mr_td: [u8; 48]) -> QuoteSource {
    let platform = SimPlatform::from_seed(b"quote source tests", NOW.as_secs()).unwrap();
    let spec = QuoteSpec {
        mr_td,
        td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
        ..platform.quote_spec(QuoteFormat::V4)
    };
    QuoteSource::simulated(platform, spec)
}

/// Strict platform rules pinning any of `mr_td` and the simulated RTMR3.
fn policy(mr_td: &[[u8; 48]]) -> Policy {
    let mut policy = Policy::new();
    policy.mr_td.extend(mr_td.iter().copied().map(Hex));
    let rtmr3 = RtmrPin::new(3, QuoteSpec::default().rtmrs[3]).unwrap();
    policy.expect_rtmr(rtmr3.index(), rtmr3.value()).unwrap();
    policy
}

fn appraiser(source: &QuoteSource, anchor: TrustAnchor, mr_td: &[[u8; 48]]) -> TdxAppraiser {
    let platform = source.sim_platform().unwrap();
    TdxAppraiser::new(
        Verifier::new(anchor),
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap(),
        policy(mr_td),
    )
}

fn sim_root(source: &QuoteSource) -> TrustAnchor {
    let platform = source.sim_platform().unwrap();
    TrustAnchor::from_pem(platform.root_certificate_pem().as_bytes()).unwrap()
}

#[test]
fn a_simulated_quote_verifies_and_yields_its_report_data_and_measurements() {
    let source = source([0x11; 48]);
    assert!(source.is_simulated());
    let quote = source.quote(&[0x42; 64]).unwrap();
    let accepted = appraiser(&source, sim_root(&source), &[[0x11; 48]])
        .appraise_quote(&quote, NOW)
        .unwrap();
    assert_eq!(accepted.accepted().report_data().as_bytes(), &[0x42; 64]);
    assert_eq!(accepted.accepted().measurements()["mrtd"], vec![0x11; 48]);
    assert_eq!(accepted.tcb_status(), TcbStatus::UpToDate);
    assert_eq!(source.mr_td().unwrap(), [0x11; 48]);
}

#[test]
fn another_mrtd_is_refused_by_the_policy() {
    let source = source([0x11; 48]);
    let quote = source.quote(&[0x42; 64]).unwrap();
    let error = appraiser(&source, sim_root(&source), &[[0x22; 48]])
        .appraise_quote(&quote, NOW)
        .unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Policy(_)), "{error}");
    assert!(error.to_string().contains("MRTD"), "{error}");
}

#[test]
fn intel_root_refuses_simulated_quotes() {
    let source = source([0x11; 48]);
    let quote = source.quote(&[0x42; 64]).unwrap();
    // Any workload: only the anchor can refuse.
    let platform = source.sim_platform().unwrap();
    let check = TdxAppraiser::new(
        Verifier::new(TrustAnchor::intel_sgx_root()),
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap(),
        Policy::any_workload(),
    );
    let error = check.appraise_quote(&quote, NOW).unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Verify(_)), "{error}");
}

#[test]
fn a_tampered_quote_is_refused() {
    let source = source([0x11; 48]);
    let mut quote = source.quote(&[0x42; 64]).unwrap();
    // Flip one REPORTDATA byte: the quote signature no longer covers the body.
    quote[48 + 520] ^= 1;
    let check = appraiser(&source, sim_root(&source), &[]);
    let error = check.appraise_quote(&quote, NOW).unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Verify(_)), "{error}");
    assert!(check.appraise_quote(&quote[..100], NOW).is_err());
}

#[test]
fn configfs_tsm_is_refused_at_opening_where_it_is_not_there() {
    let missing = tempfile::tempdir().unwrap().path().join("no-tsm-report");
    let error = QuoteSource::configfs_tsm(ConfigfsTsm::with_root(&missing)).unwrap_err();
    assert!(
        matches!(&error, QuoteSourceError::Tsm(TsmError::Unavailable { path }) if *path == missing),
        "{error}"
    );
}

/// The in-flight count a server's quote scheduling is tested with (the proxy makes one quote
/// at a time for the platform) sees overlapping quotes; one at a time reads 1.
#[test]
fn a_simulated_source_counts_the_quotes_made_at_once() {
    let source = source([0x11; 48]).with_simulated_latency(std::time::Duration::from_millis(300));
    assert_eq!(source.peak_quotes_in_flight(), Some(0));
    source.quote(&[1; 64]).unwrap();
    source.quote(&[2; 64]).unwrap();
    assert_eq!(
        source.peak_quotes_in_flight(),
        Some(1),
        "one after the other"
    );
    // Both threads wait at the barrier, then ask at once: each quote takes 300 ms, so they
    // overlap.
    let barrier = std::sync::Barrier::new(2);
    std::thread::scope(|scope| {
        for byte in [3, 4] {
            let (source, barrier) = (&source, &barrier);
            scope.spawn(move || {
                barrier.wait();
                source.quote(&[byte; 64]).unwrap()
            });
        }
    });
    assert_eq!(source.peak_quotes_in_flight(), Some(2));
}
