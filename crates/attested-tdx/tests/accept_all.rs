//! `Backend::InsecureAcceptAll` (feature `insecure-accept-all`): what fuzzers use to reach TCB
//! Info and QE Identity parsing and the TCB assessment behind the signatures. It must skip the
//! signatures and nothing else, and no default or listed backend may be it.
#![cfg(all(feature = "sim", feature = "insecure-accept-all"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_tdx::sim::{QuoteFormat, SimPlatform};
use attested_tdx::{Backend, Collateral, Quote, TrustAnchor, UnixTime, Verifier, VerifyError};

const NOW: u64 = 1_750_000_000;

#[test]
fn only_signatures_are_skipped() {
    let platform = SimPlatform::from_seed(b"accept-all", NOW).unwrap();
    let bytes = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let collateral =
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
    let anchor = TrustAnchor::from_der(platform.root_certificate_der()).unwrap();
    let accept_all = Verifier::with_backend(anchor.clone(), Backend::InsecureAcceptAll);
    let real = Verifier::with_backend(anchor, Backend::default());

    // A genuine quote: the same verdict either way.
    let quote = Quote::parse(&bytes).unwrap();
    let genuine = real.verify(&quote, &collateral, UnixTime(NOW)).unwrap();
    let skipped = accept_all
        .verify(&quote, &collateral, UnixTime(NOW))
        .unwrap();
    assert_eq!(genuine.verdict(), skipped.verdict());

    // A forged quote signature: refused by a real backend, passed by accept-all.
    // The signature data: its u32 length, then the quote signature.
    let mut forged_bytes = bytes.clone();
    forged_bytes[quote.signed_bytes().len() + 4] ^= 1;
    let forged = Quote::parse(&forged_bytes).unwrap();
    assert!(matches!(
        real.verify(&forged, &collateral, UnixTime(NOW)),
        Err(VerifyError::BadSignature { .. })
    ));
    assert!(
        accept_all
            .verify(&forged, &collateral, UnixTime(NOW))
            .is_ok()
    );

    // Everything that is not a signature is still checked: time windows...
    assert!(matches!(
        accept_all.verify(&quote, &collateral, UnixTime(NOW + 10 * 365 * 86_400)),
        Err(VerifyError::OutsideValidity { .. })
    ));

    // ...and the listed and default backends never include it.
    assert!(!Backend::all().contains(&Backend::InsecureAcceptAll));
    assert_ne!(Backend::default(), Backend::InsecureAcceptAll);
}
