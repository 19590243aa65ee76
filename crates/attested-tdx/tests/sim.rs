//! Quotes of the simulated platform verify against its root, never against Intel's, and the
//! failure modes it can stage are each refused by name.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::error::Item;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimConfig, SimPlatform, TcbLevelStatus};
use attested_tdx::{Backend, Collateral, TcbStatus, TrustAnchor, UnixTime, Verifier, VerifyError};

const NOW: u64 = 1_750_000_000;

fn collateral(platform: &SimPlatform) -> Collateral {
    Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap()
}

fn sim_verifier(platform: &SimPlatform, backend: Backend) -> Verifier {
    Verifier::with_backend(
        TrustAnchor::from_der(platform.root_certificate_der()).unwrap(),
        backend,
    )
}

#[test]
fn every_quote_format_verifies_against_the_simulated_root_on_every_backend() {
    let platform = SimPlatform::from_seed(b"verify", NOW).unwrap();
    let collateral = collateral(&platform);
    let qvl = Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
    assert_eq!(
        qvl.digest(),
        collateral.digest(),
        "both formats carry the same bytes"
    );
    for backend in Backend::all() {
        let verifier = sim_verifier(&platform, *backend);
        for format in [
            QuoteFormat::V4,
            QuoteFormat::V5Td10,
            QuoteFormat::V5Td15,
            QuoteFormat::V5Td15Ext,
        ] {
            let spec = QuoteSpec {
                mr_td: [0xaa; 48],
                report_data: [0x42; 64],
                ..platform.quote_spec(format)
            };
            let quote = platform.quote(&spec).unwrap();
            let verified = verifier
                .verify_bytes(&quote, &collateral, UnixTime(NOW))
                .unwrap_or_else(|e| panic!("{format:?} {backend:?}: {e}"));
            assert_eq!(verified.tcb_status(), TcbStatus::UpToDate);
            assert_eq!(verified.report().td10().mr_td(), &[0xaa; 48]);
            assert_eq!(verified.fmspc(), &platform.config().fmspc);
        }
    }
}

#[test]
fn simulated_quotes_fail_against_intel_root() {
    let platform = SimPlatform::from_seed(b"verify", NOW).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify_bytes(&quote, &collateral(&platform), UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Chain { .. } | VerifyError::BadSignature { .. }
        ),
        "{err}"
    );
}

#[test]
fn a_revoked_pck_certificate_is_refused_by_the_pck_crl() {
    let config = SimConfig {
        revoke_pck: true,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"verify", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = sim_verifier(&platform, Backend::default())
        .verify_bytes(&quote, &collateral(&platform), UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Revoked {
                item: Item::PckLeaf,
                crl: Item::PckCrl,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn statuses_and_advisories_come_from_the_collateral() {
    let config = SimConfig {
        tcb_status: TcbLevelStatus::SWHardeningNeeded,
        advisory_ids: vec!["INTEL-SA-00001".into()],
        qe_tcb_status: TcbLevelStatus::OutOfDate,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"verify", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let verified = sim_verifier(&platform, Backend::default())
        .verify_bytes(&quote, &collateral(&platform), UnixTime(NOW))
        .unwrap();
    // The QE's OutOfDate converges a SWHardeningNeeded platform to OutOfDate.
    assert_eq!(verified.tcb_status(), TcbStatus::OutOfDate);
    assert_eq!(verified.advisory_ids(), ["INTEL-SA-00001"]);
}

#[test]
fn a_revoked_tcb_level_is_refused() {
    let config = SimConfig {
        tcb_status: TcbLevelStatus::Revoked,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"verify", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = sim_verifier(&platform, Backend::default())
        .verify_bytes(&quote, &collateral(&platform), UnixTime(NOW))
        .unwrap_err();
    assert_eq!(err, VerifyError::TcbRevoked(Item::TcbInfo));
}

#[test]
fn collateral_of_another_platform_is_refused() {
    let a = SimPlatform::from_seed(b"verify", NOW).unwrap();
    let b = SimPlatform::with_config(
        b"verify",
        NOW,
        SimConfig {
            fmspc: [1, 2, 3, 4, 5, 6],
            ..SimConfig::default()
        },
    )
    .unwrap();
    let quote = a.quote(&a.quote_spec(QuoteFormat::V4)).unwrap();
    let err = sim_verifier(&a, Backend::default())
        .verify_bytes(&quote, &collateral(&b), UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::PlatformMismatch { field: "FMSPC", .. }),
        "{err}"
    );
}

#[test]
fn a_foreign_tdx_module_signer_is_refused() {
    let platform = SimPlatform::from_seed(b"verify", NOW).unwrap();
    let spec = QuoteSpec {
        mr_signer_seam: [7; 48],
        ..platform.quote_spec(QuoteFormat::V4)
    };
    let quote = platform.quote(&spec).unwrap();
    let err = sim_verifier(&platform, Backend::default())
        .verify_bytes(&quote, &collateral(&platform), UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::TdxModule(ref m) if m.contains("MRSIGNERSEAM")),
        "{err}"
    );
}
