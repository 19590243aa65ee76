//! Certificate constraints of both Intel chains (issue 12): KeyUsage, pathLenConstraint,
//! unknown critical extensions and revocation, each refused with a named error, on every
//! backend. The certificates come from the simulated PKI with one deliberate defect each.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::error::Item;
use attested_tdx::sim::{CertDefect, QuoteFormat, SimCert, SimConfig, SimPlatform};
use attested_tdx::{Backend, Collateral, TrustAnchor, UnixTime, Verifier, VerifyError};

const NOW: u64 = 1_750_000_000;

/// Cold verification of a quote of a platform made with `config`, on every backend (the
/// errors must agree).
fn verify(config: SimConfig) -> Result<(), VerifyError> {
    let platform = SimPlatform::with_config(b"x509 constraints", NOW, config).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let collateral = Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap();
    let anchor = TrustAnchor::from_der(platform.root_certificate_der()).unwrap();
    let mut results = Backend::all().iter().map(|backend| {
        Verifier::with_backend(anchor.clone(), *backend)
            .verify_bytes(&quote, &collateral, UnixTime(NOW))
            .map(|_| ())
    });
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first);
    }
    first
}

fn with_defect(defect: CertDefect) -> Result<(), VerifyError> {
    verify(SimConfig {
        cert_defects: vec![defect],
        ..SimConfig::default()
    })
}

fn assert_constraint(result: Result<(), VerifyError>, item: Item, needle: &str) {
    match result {
        Err(VerifyError::Constraint {
            item: got,
            constraint,
        }) => {
            assert_eq!(got, item, "{constraint}");
            assert!(constraint.contains(needle), "{constraint}");
        }
        other => panic!("expected a {item} constraint error naming {needle}, got {other:?}"),
    }
}

#[test]
fn the_unaltered_platform_verifies() {
    verify(SimConfig::default()).unwrap();
}

#[test]
fn a_pck_ca_without_key_cert_sign_is_refused() {
    assert_constraint(
        with_defect(CertDefect::NoKeyCertSign(SimCert::PckPlatformCa)),
        Item::PckCrlIssuer,
        "keyCertSign",
    );
}

#[test]
fn a_pck_ca_without_crl_sign_is_refused() {
    assert_constraint(
        with_defect(CertDefect::NoCrlSign(SimCert::PckPlatformCa)),
        Item::PckCrlIssuer,
        "cRLSign",
    );
}

#[test]
fn a_root_without_key_cert_sign_is_refused() {
    assert_constraint(
        with_defect(CertDefect::NoKeyCertSign(SimCert::Root)),
        Item::RootCa,
        "keyCertSign",
    );
}

#[test]
fn a_tcb_signer_without_digital_signature_is_refused() {
    assert_constraint(
        with_defect(CertDefect::NoDigitalSignature(SimCert::TcbSigning)),
        Item::TcbInfoSigner,
        "digitalSignature",
    );
}

#[test]
fn a_pck_leaf_without_digital_signature_is_refused() {
    assert_constraint(
        with_defect(CertDefect::NoDigitalSignature(SimCert::PckLeaf)),
        Item::PckLeaf,
        "digitalSignature",
    );
}

#[test]
fn a_pck_ca_below_a_root_with_path_len_zero_is_refused() {
    assert_constraint(
        with_defect(CertDefect::RootPathLenZero),
        Item::RootCa,
        "pathLenConstraint",
    );
}

#[test]
fn an_unknown_critical_extension_is_refused_on_every_certificate() {
    for (cert, item) in [
        (SimCert::PckPlatformCa, Item::PckCrlIssuer),
        (SimCert::PckLeaf, Item::PckLeaf),
        (SimCert::TcbSigning, Item::TcbInfoSigner),
    ] {
        assert_constraint(
            with_defect(CertDefect::UnknownCriticalExtension(cert)),
            item,
            "critical",
        );
    }
}

#[test]
fn a_tcb_signer_revoked_by_the_root_ca_crl_is_refused() {
    let err = verify(SimConfig {
        revoke_tcb_signing: true,
        ..SimConfig::default()
    })
    .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Revoked {
                item: Item::TcbInfoSigner,
                crl: Item::RootCaCrl,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_pck_leaf_revoked_by_the_pck_crl_is_refused() {
    let err = verify(SimConfig {
        revoke_pck: true,
        ..SimConfig::default()
    })
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
        "{err:?}"
    );
}
