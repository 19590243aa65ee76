//! The vocabulary's `Appraiser` for TDX quotes, on the simulated platform: what it accepts,
//! what it records of the policy, and that `now` comes from each call.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_tdx::policy::Hex;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::{
    Appraiser, Collateral, Evidence, Policy, TdxAppraisalError, TdxAppraiser, TrustAnchor,
    UnixTime, Verifier, Workload,
};

const NOW: UnixTime = UnixTime(1_750_000_000);

fn platform() -> (SimPlatform, QuoteSpec, Vec<u8>) {
    let platform = SimPlatform::from_seed(b"appraiser tests", NOW.as_secs()).unwrap();
    let spec = QuoteSpec {
        report_data: [0x42; 64],
        ..platform.quote_spec(QuoteFormat::V4)
    };
    let quote = platform.quote(&spec).unwrap();
    (platform, spec, quote)
}

fn appraiser(platform: &SimPlatform, policy: Policy) -> TdxAppraiser {
    TdxAppraiser::new(
        Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap()),
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap(),
        policy,
    )
}

#[test]
fn an_accepted_quote_carries_its_report_data_measurements_and_pins() {
    let (platform, spec, quote) = platform();
    let mut policy = Policy::any_workload();
    policy.mr_td.push(Hex(spec.mr_td));
    policy.rtmr2 = Some(Hex(spec.rtmrs[2]));
    let accepted = appraiser(&platform, policy)
        .appraise(&Evidence::platform_quote(&quote), NOW)
        .unwrap();
    assert_eq!(accepted.report_data(), &[0x42; 64]);
    assert_eq!(accepted.measurement("mrtd"), Some(&spec.mr_td[..]));
    assert_eq!(accepted.measurement("rtmr3"), Some(&spec.rtmrs[3][..]));
    assert_eq!(
        accepted.workload(),
        &Workload::Pinned(vec!["mrtd".into(), "rtmr2".into()])
    );
}

#[test]
fn a_policy_that_pins_nothing_says_so_in_the_accepted_value() {
    let (platform, _, quote) = platform();
    let accepted = appraiser(&platform, Policy::any_workload())
        .appraise(&Evidence::platform_quote(&quote), NOW)
        .unwrap();
    assert_eq!(accepted.workload(), &Workload::Any);
}

#[test]
fn refusals_name_the_step_and_now_is_the_callers() {
    let (platform, spec, quote) = platform();
    let mut policy = Policy::any_workload();
    policy.mr_td.push(Hex([0x99; 48]));
    let refusing = appraiser(&platform, policy);
    let error = refusing.appraise_quote(&quote, NOW).unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Policy(_)), "{error}");

    let mut policy = Policy::any_workload();
    policy.mr_td.push(Hex(spec.mr_td));
    let accepting = appraiser(&platform, policy);
    assert!(accepting.appraise_quote(&quote, NOW).is_ok());
    // Ten years on, the collateral has expired: the same appraiser refuses at that `now`.
    let later = UnixTime(NOW.as_secs() + 10 * 365 * 86_400);
    let error = accepting.appraise_quote(&quote, later).unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Verify(_)), "{error}");

    let error = accepting
        .appraise(&Evidence::platform_token("a token"), NOW)
        .unwrap_err();
    assert!(
        matches!(
            error.downcast_ref::<TdxAppraisalError>(),
            Some(TdxAppraisalError::MissingQuote)
        ),
        "{error}"
    );
    let error = accepting.appraise_quote(&quote[..100], NOW).unwrap_err();
    assert!(matches!(error, TdxAppraisalError::Parse(_)), "{error}");
}
