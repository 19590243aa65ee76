//! One cold DCAP verification (a fresh verifier, nothing cached), dcap-qvl's on the same
//! input, and the nine ring P-256 verifications it must do at least (the same floor as `tdx_verify`'s
//! `ring_p256_verify_cold_set_x9`: messages as long as the real signed items), each in its own
//! function, for instruction counts that the machine's load does not change:
//!
//! ```text
//! cargo bench -p attested-benches --bench tdx_cold_ir --no-run
//! valgrind --tool=callgrind --toggle-collect='*measured_cold_ring*' target/release/deps/tdx_cold_ir-*
//! valgrind --tool=callgrind --toggle-collect='*measured_cold_set_x9*' target/release/deps/tdx_cold_ir-*
//! valgrind --tool=callgrind --toggle-collect='*measured_cold_dcap_qvl*' target/release/deps/tdx_cold_ir-*
//! ```
//!
//! Run without valgrind it only checks that both verify (each is done once before it is
//! measured, so one-time initialization is not counted).
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use attested_tdx::{Backend, Collateral, Quote, TcbStatus, TrustAnchor, UnixTime, Verifier};

mod tdx_fixture;
use tdx_fixture::{Fixture, SignatureSet};

fn cold(
    anchor: &TrustAnchor,
    backend: Backend,
    quote: &[u8],
    collateral: &Collateral,
    now: UnixTime,
) -> TcbStatus {
    let verifier = Verifier::with_backend(anchor.clone(), backend);
    let quote = Quote::parse(black_box(quote)).unwrap();
    verifier
        .verify(&quote, black_box(collateral), now)
        .unwrap()
        .tcb_status()
}

#[inline(never)]
fn measured_cold_ring(
    anchor: &TrustAnchor,
    quote: &[u8],
    collateral: &Collateral,
    now: UnixTime,
) -> TcbStatus {
    cold(anchor, Backend::Ring, quote, collateral, now)
}

#[inline(never)]
fn measured_cold_rustcrypto(
    anchor: &TrustAnchor,
    quote: &[u8],
    collateral: &Collateral,
    now: UnixTime,
) -> TcbStatus {
    cold(anchor, Backend::RustCrypto, quote, collateral, now)
}

/// The peer on the same input: dcap-qvl's whole verification (its collateral decoded
/// beforehand, as ours is).
#[inline(never)]
fn measured_cold_dcap_qvl(
    quote: &[u8],
    collateral: &dcap_qvl::QuoteCollateralV3,
    now: UnixTime,
) -> bool {
    dcap_qvl::verify::verify(black_box(quote), black_box(collateral), now.as_secs()).is_ok()
}

#[inline(never)]
fn measured_cold_set_x9(set: &SignatureSet) -> bool {
    set.verify(black_box(&set.items))
}

fn main() {
    let Some(Fixture {
        quote,
        json,
        collateral,
        now,
        anchor,
    }) = tdx_fixture::load()
    else {
        return;
    };
    let set = SignatureSet::new(&json, &Quote::parse(&quote).unwrap());
    let qvl_collateral: dcap_qvl::QuoteCollateralV3 = serde_json::from_slice(&json).unwrap();

    // Once unmeasured (lazy initialization), then once measured.
    for backend in [Backend::Ring, Backend::RustCrypto] {
        cold(&anchor, backend, &quote, &collateral, now);
    }
    assert!(set.verify(&set.items));
    assert!(dcap_qvl::verify::verify(&quote, &qvl_collateral, now.as_secs()).is_ok());
    assert!(measured_cold_dcap_qvl(&quote, &qvl_collateral, now));
    let ring = measured_cold_ring(&anchor, &quote, &collateral, now);
    let rustcrypto = measured_cold_rustcrypto(&anchor, &quote, &collateral, now);
    assert_eq!(ring, rustcrypto);
    assert!(measured_cold_set_x9(&set));
    println!("cold verification: {ring:?}");
}
