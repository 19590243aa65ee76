//! Appraisal at least as strict as Intel's QVL and dcap-qvl, on inputs the simulated platform
//! stages. Each test gives QVL's verdict (file:line of QVL,
//! github.com/intel/SGX-TDX-DCAP-QuoteVerificationLibrary `Src/AttestationLibrary/src/...`),
//! asks dcap-qvl (the dev-dependency, 0.7.1) for its own, and checks ours. Where dcap-qvl
//! differs from QVL, the test records dcap-qvl's verdict and says why ours follows QVL.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::error::Item;
use attested_tdx::policy::Hex;
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{
    CollateralSigner, QuoteFormat, QuoteSpec, SimConfig, SimPlatform, TcbLevelStatus,
};
use attested_tdx::{
    AppraisalError, Collateral, Policy, Quote, TcbStatus, TrustAnchor, UnixTime, Verifier,
    VerifyError,
};
use dcap_qvl::QuoteCollateralV3;
use dcap_qvl::verify::QuoteVerifier;

const NOW: u64 = 1_750_000_000;

fn platform(config: SimConfig) -> SimPlatform {
    SimPlatform::with_config(b"qvl parity", NOW, config).unwrap()
}

fn ours(platform: &SimPlatform, quote: &[u8]) -> Result<TcbStatus, VerifyError> {
    let collateral = Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap();
    Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap())
        .verify_bytes(quote, &collateral, UnixTime(NOW))
        .map(|verified| verified.tcb_status())
}

/// dcap-qvl's status, or its error text.
fn dcap_qvl_with(
    platform: &SimPlatform,
    quote: &[u8],
    allow_service_td: bool,
) -> Result<String, String> {
    let collateral: QuoteCollateralV3 =
        serde_json::from_str(platform.collateral_dcap_qvl_json()).unwrap();
    QuoteVerifier::new(platform.root_certificate_der().to_vec())
        .allow_service_td(allow_service_td)
        .verify(quote, &collateral, NOW)
        .map(|report| report.status)
        .map_err(|e| format!("{e:#}"))
}

fn dcap_qvl(platform: &SimPlatform, quote: &[u8]) -> Result<String, String> {
    dcap_qvl_with(platform, quote, false)
}

fn appraise(platform: &SimPlatform, quote: &[u8], policy: &Policy) -> Result<(), AppraisalError> {
    let collateral = Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap();
    let verifier = Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap());
    let quote = Quote::parse(quote).unwrap();
    let verified = verifier.verify(&quote, &collateral, UnixTime(NOW)).unwrap();
    policy.appraise(&verified, UnixTime(NOW)).map(|_| ())
}

// --- QE Identity levels ------------------------------------------------------------------------

/// QVL `EnclaveReportVerifier.cpp:92-103`: a QE level other than UpToDate (and Revoked) is
/// `ISVSVN_OUT_OF_DATE`, which `convergeTcbStatusWithQeTcbStatus` (`TcbLevelCheck.cpp:85-98`)
/// turns into OutOfDate. dcap-qvl 0.7.1 converges only an OutOfDate or Revoked QE
/// (`tcb_info.rs:290-300`) and reports UpToDate: ours follows QVL.
#[test]
fn a_qe_level_needing_configuration_makes_the_quote_out_of_date() {
    for qe_status in [
        TcbLevelStatus::ConfigurationNeeded,
        TcbLevelStatus::OutOfDateConfigurationNeeded,
    ] {
        let platform = platform(SimConfig {
            qe_tcb_status: qe_status,
            ..SimConfig::default()
        });
        let quote = platform
            .quote(&platform.quote_spec(QuoteFormat::V4))
            .unwrap();
        assert_eq!(
            ours(&platform, &quote),
            Ok(TcbStatus::OutOfDate),
            "{qe_status:?}"
        );
        assert_eq!(dcap_qvl(&platform, &quote).as_deref(), Ok("UpToDate"));
        assert_eq!(
            appraise(&platform, &quote, &Policy::any_workload()),
            Err(AppraisalError::TcbStatus(TcbStatus::OutOfDate))
        );
    }
}

/// A Revoked QE level is the QE Identity's, not the TCB Info's (QVL
/// `EnclaveReportVerifier.cpp:95-99` `ISVSVN_REVOKED`); dcap-qvl refuses it too.
#[test]
fn a_revoked_qe_level_is_reported_as_the_qe_identitys() {
    let platform = platform(SimConfig {
        qe_tcb_status: TcbLevelStatus::Revoked,
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    assert_eq!(
        ours(&platform, &quote),
        Err(VerifyError::TcbRevoked(Item::QeIdentity))
    );
    let err = dcap_qvl(&platform, &quote).unwrap_err();
    assert!(err.contains("Revoked"), "{err}");
}

// --- TD 1.5 relaunch (QVL `TDRelaunchCheck.cpp:52-143`) ------------------------------------------

fn td15_spec(platform: &SimPlatform) -> QuoteSpec {
    platform.quote_spec(QuoteFormat::V5Td15)
}

/// Launched on an out-of-date TDX module, currently on the latest one: TDRelaunchAdvised
/// (`TDRelaunchCheck.cpp:74` module OutOfDate, `:120-135` SVN2 meets the latest module level).
#[test]
fn a_td_launched_on_an_old_module_is_advised_to_relaunch() {
    let platform = platform(SimConfig::default());
    for format in [QuoteFormat::V5Td15, QuoteFormat::V5Td15Ext] {
        let mut spec = platform.quote_spec(format);
        spec.tee_tcb_svn[0] -= 1;
        let quote = platform.quote(&spec).unwrap();
        assert_eq!(
            ours(&platform, &quote),
            Ok(TcbStatus::TDRelaunchAdvised),
            "{format:?}"
        );
        assert_eq!(
            dcap_qvl(&platform, &quote).as_deref(),
            Ok("TDRelaunchAdvised")
        );
    }
}

/// Out of date because of TDX component 2 (not the module): QVL consults SVN2 only when the
/// module level is OutOfDate (`TDRelaunchCheck.cpp:74`), so the quote stays OutOfDate. dcap-qvl
/// 0.7.1 assesses SVN2 in full and says TDRelaunchAdvised; ours follows QVL.
#[test]
fn a_td_out_of_date_for_another_reason_than_its_module_stays_out_of_date() {
    let platform = platform(SimConfig::default());
    let mut spec = td15_spec(&platform);
    spec.tee_tcb_svn[2] -= 1;
    let quote = platform.quote(&spec).unwrap();
    assert_eq!(ours(&platform, &quote), Ok(TcbStatus::OutOfDate));
    assert_eq!(
        dcap_qvl(&platform, &quote).as_deref(),
        Ok("TDRelaunchAdvised")
    );
}

/// An up-to-date TD whose SVN2 names a module version the TCB Info does not know: QVL never
/// reads SVN2 for an UpToDate launch (`TDRelaunchCheck.cpp:71-72`) and says UpToDate.
/// dcap-qvl 0.7.1 refuses the quote (it assesses SVN2 in full).
#[test]
fn an_up_to_date_td_is_not_refused_for_its_svn2() {
    let platform = platform(SimConfig::default());
    let mut spec = td15_spec(&platform);
    spec.tee_tcb_svn2[1] = 0x05;
    let quote = platform.quote(&spec).unwrap();
    assert_eq!(ours(&platform, &quote), Ok(TcbStatus::UpToDate));
    assert!(dcap_qvl(&platform, &quote).is_err());
}

/// An out-of-date QE rules the relaunch out (`TDRelaunchCheck.cpp:61-64`): OutOfDate, as in
/// dcap-qvl.
#[test]
fn an_out_of_date_qe_rules_a_relaunch_out() {
    let platform = platform(SimConfig {
        qe_tcb_status: TcbLevelStatus::OutOfDate,
        ..SimConfig::default()
    });
    let mut spec = td15_spec(&platform);
    spec.tee_tcb_svn[0] -= 1;
    let quote = platform.quote(&spec).unwrap();
    assert_eq!(ours(&platform, &quote), Ok(TcbStatus::OutOfDate));
    assert_eq!(dcap_qvl(&platform, &quote).as_deref(), Ok("OutOfDate"));
}

/// SVN2 still below the latest module level: no relaunch would help, OutOfDate
/// (`TDRelaunchCheck.cpp:124`), as in dcap-qvl.
#[test]
fn a_current_module_still_old_gets_no_relaunch_advice() {
    let platform = platform(SimConfig::default());
    let mut spec = td15_spec(&platform);
    spec.tee_tcb_svn[0] -= 1;
    spec.tee_tcb_svn2[0] -= 1;
    let quote = platform.quote(&spec).unwrap();
    assert_eq!(ours(&platform, &quote), Ok(TcbStatus::OutOfDate));
    assert_eq!(dcap_qvl(&platform, &quote).as_deref(), Ok("OutOfDate"));
}

// --- TDX module identity ids (QVL `TdxModuleCheck.cpp:38-51`) -----------------------------------

/// QVL upper-cases each id before comparing it with `TDX_hh`: `tdx_01` is TDX_01, and ids of
/// other shapes are skipped instead of making the TCB Info malformed.
#[test]
fn module_identity_ids_are_matched_as_qvl_matches_them() {
    for ids in [
        vec!["tdx_01"],
        vec!["TDX_1", "TDX-01", "TDX_0001", "TDX_01"],
    ] {
        let platform = platform(SimConfig {
            tdx_module_identity_ids: ids.iter().map(|id| (*id).to_owned()).collect(),
            ..SimConfig::default()
        });
        let quote = platform
            .quote(&platform.quote_spec(QuoteFormat::V4))
            .unwrap();
        assert_eq!(ours(&platform, &quote), Ok(TcbStatus::UpToDate), "{ids:?}");
        let theirs = dcap_qvl(&platform, &quote);
        println!("dcap-qvl on {ids:?}: {theirs:?}");
    }
    // Without any id naming module version 1: QVL's `STATUS_TDX_MODULE_MISMATCH`
    // (`QuoteVerifier.cpp:171-175`), with the TCB Info named.
    let platform = platform(SimConfig {
        tdx_module_identity_ids: vec!["TDX-01".to_owned(), "TDX_1".to_owned()],
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = ours(&platform, &quote).unwrap_err();
    assert!(matches!(err, VerifyError::TdxModule(_)), "{err}");
    assert_eq!(err.item(), Some(Item::TcbInfo));
    assert!(dcap_qvl(&platform, &quote).is_err());
}

// --- Roles of certificates ---------------------------------------------------------------------

/// TCB Info and QE Identity signed by the PCK platform CA (a certificate of the same root):
/// QVL `TCBSigningChain.cpp:83-88` requires the "SGX TCB Signing" CN.
#[test]
fn collateral_signed_by_a_pck_ca_is_refused() {
    let platform = platform(SimConfig {
        collateral_signer: CollateralSigner::PckPlatformCa,
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = ours(&platform, &quote).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Role {
                item: Item::TcbInfoSigner,
                ..
            }
        ),
        "{err}"
    );
    println!("dcap-qvl: {:?}", dcap_qvl(&platform, &quote));
}

/// A PCK leaf whose CN is not a PCK certificate's: QVL `QuoteVerifier.cpp:65-68` and
/// `PckCertVerifier.cpp:92-95` require "SGX PCK Certificate".
#[test]
fn a_pck_leaf_without_the_pck_role_is_refused() {
    let platform = platform(SimConfig {
        pck_common_name: Some("attested simulated SGX TCB Signing".to_owned()),
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = ours(&platform, &quote).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Role {
                item: Item::PckLeaf,
                ..
            }
        ),
        "{err}"
    );
    println!("dcap-qvl: {:?}", dcap_qvl(&platform, &quote));
}

/// The trust anchor listed in the root CA CRL: dcap-qvl 0.7.1 `verify.rs:1308-1310` refuses.
#[test]
fn a_revoked_trust_anchor_is_refused() {
    let platform = platform(SimConfig {
        revoke_root: true,
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = ours(&platform, &quote).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Revoked {
                item: Item::RootCa,
                crl: Item::RootCaCrl,
                ..
            }
        ),
        "{err}"
    );
    assert!(dcap_qvl(&platform, &quote).is_err());
}

// --- Policy ------------------------------------------------------------------------------------

/// A TCB Info of the current evaluation number with a QE Identity of an older one: the
/// minimum applies to both.
#[test]
fn the_minimum_evaluation_number_applies_to_the_qe_identity_too() {
    let platform = platform(SimConfig {
        tcb_evaluation_data_number: 18,
        qe_tcb_evaluation_data_number: Some(16),
        ..SimConfig::default()
    });
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let policy = Policy {
        min_tcb_evaluation_data_number: Some(17),
        ..Policy::any_workload()
    };
    assert_eq!(
        appraise(&platform, &quote, &policy),
        Err(AppraisalError::EvaluationDataNumber {
            item: Item::QeIdentity,
            actual: 16,
            minimum: 17
        })
    );
    let older = Policy {
        min_tcb_evaluation_data_number: Some(16),
        ..Policy::any_workload()
    };
    appraise(&platform, &quote, &older).unwrap();
}

/// A TD bound to a service TD: refused unless allowed, as dcap-qvl 0.7.1 does
/// (`verify.rs:1620-1623`).
#[test]
fn a_service_td_binding_is_refused_unless_allowed() {
    let platform = platform(SimConfig::default());
    let spec = QuoteSpec {
        mr_service_td: [0x5e; 48],
        ..td15_spec(&platform)
    };
    let quote = platform.quote(&spec).unwrap();
    let err = appraise(&platform, &quote, &Policy::any_workload()).unwrap_err();
    assert!(
        matches!(
            err,
            AppraisalError::Measurement {
                field: "MR_SERVICETD",
                ..
            }
        ),
        "{err}"
    );
    assert!(dcap_qvl(&platform, &quote).is_err());
    // Allowed: by listing it here, by `allow_service_td` in dcap-qvl.
    let allowing = Policy {
        mr_service_td: vec![Hex([0x5e; 48])],
        ..Policy::any_workload()
    };
    appraise(&platform, &quote, &allowing).unwrap();
    assert_eq!(
        dcap_qvl_with(&platform, &quote, true).as_deref(),
        Ok("UpToDate")
    );
    // No service TD: accepted by both by default.
    let plain = platform.quote(&td15_spec(&platform)).unwrap();
    appraise(&platform, &plain, &Policy::any_workload()).unwrap();
    assert_eq!(dcap_qvl(&platform, &plain).as_deref(), Ok("UpToDate"));
}

/// Reserved TD attribute bits (TDX module ABI 348551-008US table 3.23): refused, as dcap-qvl
/// 0.7.1 does (`quote.rs:162-165`, `verify.rs:1606-1608`); the allowed bits next to them pass.
#[test]
fn reserved_td_attribute_bits_are_refused() {
    let platform = platform(SimConfig::default());
    let base = platform.quote_spec(QuoteFormat::V4);
    for bit in [1, 3, 7, 15, 23, 26, 32, 61] {
        let spec = QuoteSpec {
            td_attributes: TdAttributes::from_bits(base.td_attributes.bits() | 1 << bit),
            ..base.clone()
        };
        let quote = platform.quote(&spec).unwrap();
        assert_eq!(
            appraise(&platform, &quote, &Policy::any_workload()),
            Err(AppraisalError::ReservedAttributes(1 << bit)),
            "bit {bit}"
        );
        assert!(dcap_qvl(&platform, &quote).is_err(), "bit {bit}");
    }
    for bit in [30, 31] {
        let spec = QuoteSpec {
            td_attributes: TdAttributes::from_bits(base.td_attributes.bits() | 1 << bit),
            ..base.clone()
        };
        let quote = platform.quote(&spec).unwrap();
        appraise(&platform, &quote, &Policy::any_workload()).unwrap();
        assert_eq!(dcap_qvl(&platform, &quote).as_deref(), Ok("UpToDate"));
    }
}
