//! Cross-check: dcap-qvl, an independent DCAP verifier, accepts the simulated platform's quotes
//! with its dcap-qvl-shaped collateral when given the simulated root as trust anchor, and
//! rejects them where real DCAP verification must.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimConfig, SimPlatform, TcbLevelStatus};
use dcap_qvl::QuoteCollateralV3;
use dcap_qvl::verify::{QuoteVerifier, VerifiedReport};

const NOW: u64 = 1_750_000_000;

fn verify(platform: &SimPlatform, quote: &[u8], now: u64) -> Result<VerifiedReport, String> {
    let collateral: QuoteCollateralV3 =
        serde_json::from_str(platform.collateral_dcap_qvl_json()).expect("collateral JSON");
    QuoteVerifier::new(platform.root_certificate_der().to_vec())
        .verify(quote, &collateral, now)
        .map_err(|e| format!("{e:#}"))
}

#[test]
fn dcap_qvl_accepts_every_quote_layout() {
    let platform = SimPlatform::from_seed(b"dcap-qvl cross-check", NOW).unwrap();
    for format in QuoteFormat::ALL {
        let spec = QuoteSpec {
            mr_td: [0xa5; 48],
            report_data: [0x42; 64],
            trailing_zeros: 17,
            ..platform.quote_spec(format)
        };
        let quote = platform.quote(&spec).unwrap();
        let report = verify(&platform, &quote, NOW)
            .unwrap_or_else(|e| panic!("{format:?}: dcap-qvl rejected the quote: {e}"));
        assert_eq!(report.status, "UpToDate", "{format:?}");
        assert!(report.advisory_ids.is_empty(), "{format:?}");
        let td10 = report.report.as_td10().expect("TD report");
        assert_eq!(td10.mr_td, spec.mr_td, "{format:?}");
        assert_eq!(td10.report_data, spec.report_data, "{format:?}");
    }
}

#[test]
fn dcap_qvl_accepts_at_both_ends_of_the_validity_window_only() {
    let platform = SimPlatform::from_seed(b"window", NOW).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    verify(&platform, &quote, platform.valid_from()).unwrap();
    verify(&platform, &quote, platform.valid_until()).unwrap();
    assert!(verify(&platform, &quote, platform.valid_from() - 1).is_err());
    assert!(verify(&platform, &quote, platform.valid_until() + 1).is_err());
}

#[test]
fn dcap_qvl_rejects_against_intel_root_and_other_sim_roots() {
    let platform = SimPlatform::from_seed(b"root", NOW).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let collateral: QuoteCollateralV3 =
        serde_json::from_str(platform.collateral_dcap_qvl_json()).unwrap();
    assert!(
        QuoteVerifier::new_prod()
            .verify(&quote, &collateral, NOW)
            .is_err()
    );
    let other = SimPlatform::from_seed(b"another seed", NOW).unwrap();
    assert!(
        QuoteVerifier::new(other.root_certificate_der().to_vec())
            .verify(&quote, &collateral, NOW)
            .is_err()
    );
}

#[test]
fn dcap_qvl_rejects_tampered_quotes() {
    let platform = SimPlatform::from_seed(b"tamper", NOW).unwrap();
    for format in QuoteFormat::ALL {
        let quote = platform.quote(&platform.quote_spec(format)).unwrap();
        let signed_len = format.signed_len();
        // A byte of REPORTDATA (signed range), a byte of the QE report, a byte of the PCK PEM.
        let report_data_at = format.body_offset() + 520;
        let qe_report_at = signed_len + 4 + 64 + 64 + 6 + 100;
        for at in [report_data_at, qe_report_at] {
            let mut bad = quote.clone();
            bad[at] ^= 1;
            assert!(
                verify(&platform, &bad, NOW).is_err(),
                "{format:?} byte {at}"
            );
        }
    }
}

#[test]
fn dcap_qvl_rejects_a_revoked_pck() {
    let config = SimConfig {
        revoke_pck: true,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"revoked", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let err = verify(&platform, &quote, NOW).unwrap_err();
    assert!(err.to_lowercase().contains("revoked"), "{err}");
}

#[test]
fn dcap_qvl_reports_the_configured_tcb_status() {
    let config = SimConfig {
        tcb_status: TcbLevelStatus::SWHardeningNeeded,
        advisory_ids: vec!["INTEL-SA-00615".to_owned()],
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"status", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V5Td15))
        .unwrap();
    let report = verify(&platform, &quote, NOW).unwrap();
    assert_eq!(report.status, "SWHardeningNeeded");
    assert_eq!(report.advisory_ids, ["INTEL-SA-00615"]);
}

#[test]
fn dcap_qvl_finds_an_older_tee_tcb_svn_out_of_date() {
    let platform = SimPlatform::from_seed(b"old module", NOW).unwrap();
    let mut spec = platform.quote_spec(QuoteFormat::V4);
    // The late microcode SVN below the current level: only the SVN-0 level matches.
    spec.tee_tcb_svn[2] -= 1;
    let quote = platform.quote(&spec).unwrap();
    let report = verify(&platform, &quote, NOW).unwrap();
    assert_eq!(report.status, "OutOfDate");
}

#[test]
fn platforms_of_one_seed_share_a_pki_so_collateral_can_be_mismatched() {
    let platform = SimPlatform::from_seed(b"shared", NOW).unwrap();
    let other = SimPlatform::with_config(
        b"shared",
        NOW,
        SimConfig {
            fmspc: [0x00, 0x80, 0x6f, 0x05, 0x00, 0x00],
            ..SimConfig::default()
        },
    )
    .unwrap();
    assert_eq!(
        platform.root_certificate_der(),
        other.root_certificate_der()
    );
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    // The other platform's collateral verifies under the shared root, but its FMSPC differs.
    let err = verify(&other, &quote, NOW).unwrap_err();
    assert!(err.contains("Fmspc mismatch"), "{err}");
    verify(&platform, &quote, NOW).unwrap();
}

/// The certificate defects of `tests/x509_constraints.rs` (all refused by attested-tdx), as
/// dcap-qvl 0.7 judges them: it refuses unknown critical extensions and a TCB signer revoked by
/// the root CA CRL, and accepts the KeyUsage and root pathLenConstraint defects (its webpki
/// ignores KeyUsage and keeps only the anchor's name and key). attested-tdx is the stricter.
#[test]
fn dcap_qvl_on_the_certificate_defects_attested_tdx_refuses() {
    use attested_tdx::sim::{CertDefect, SimCert};
    let judged = |config: SimConfig| {
        let platform = SimPlatform::with_config(b"x509 constraints", NOW, config).unwrap();
        let quote = platform
            .quote(&platform.quote_spec(QuoteFormat::V4))
            .unwrap();
        verify(&platform, &quote, NOW).map(|_| ())
    };
    let defect = |defect| SimConfig {
        cert_defects: vec![defect],
        ..SimConfig::default()
    };
    for cert in [
        SimCert::PckPlatformCa,
        SimCert::PckLeaf,
        SimCert::TcbSigning,
    ] {
        let err = judged(defect(CertDefect::UnknownCriticalExtension(cert))).unwrap_err();
        assert!(
            err.contains("UnsupportedCriticalExtension"),
            "{cert:?}: {err}"
        );
    }
    let err = judged(SimConfig {
        revoke_tcb_signing: true,
        ..SimConfig::default()
    })
    .unwrap_err();
    assert!(err.contains("CertRevoked"), "{err}");
    for lenient in [
        CertDefect::NoKeyCertSign(SimCert::PckPlatformCa),
        CertDefect::NoDigitalSignature(SimCert::TcbSigning),
        CertDefect::NoDigitalSignature(SimCert::PckLeaf),
        CertDefect::RootPathLenZero,
    ] {
        assert_eq!(judged(defect(lenient)), Ok(()), "{lenient:?}");
    }
}
