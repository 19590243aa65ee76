//! attested-tdx DCAP verification against dcap-qvl, side by side in one run, on the same quote
//! and collateral: cold (a fresh verifier, nothing cached), warm (collateral verification
//! cached), and the floor: the P-256 verifications each must do (cold 9, warm 3).
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use attested_tdx::{Backend, Collateral, Quote, TrustAnchor, UnixTime, Verifier};
use criterion::{Criterion, criterion_group, criterion_main};

const NOW: &str = "2025-07-01T00:00:00Z";

fn verify(c: &mut Criterion) {
    let (Some(quote), Some(json)) = (
        attested_testdata::read("tdx/dcap-qvl/tdx_quote"),
        attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json"),
    ) else {
        return;
    };
    let now = UnixTime::parse_rfc3339(NOW).unwrap();
    let collateral = Collateral::from_qvl_json(&json).unwrap();
    let qvl_collateral: dcap_qvl::QuoteCollateralV3 = serde_json::from_slice(&json).unwrap();
    let anchor = TrustAnchor::intel_sgx_root();

    let mut group = c.benchmark_group("tdx_verify/v4_td10");
    for backend in Backend::all() {
        group.bench_function(format!("attested_tdx_cold_{backend:?}"), |b| {
            b.iter(|| {
                let verifier = Verifier::with_backend(anchor.clone(), *backend);
                let quote = Quote::parse(black_box(&quote)).unwrap();
                verifier
                    .verify(&quote, black_box(&collateral), now)
                    .unwrap()
                    .tcb_status()
            })
        });
        let warm = Verifier::with_backend(anchor.clone(), *backend);
        warm.verify_bytes(&quote, &collateral, now).unwrap();
        group.bench_function(format!("attested_tdx_warm_{backend:?}"), |b| {
            b.iter(|| {
                let quote = Quote::parse(black_box(&quote)).unwrap();
                warm.verify(&quote, black_box(&collateral), now)
                    .unwrap()
                    .tcb_status()
            })
        });
    }
    group.bench_function("dcap_qvl", |b| {
        b.iter(|| {
            dcap_qvl::verify::verify(black_box(&quote), black_box(&qvl_collateral), now.as_secs())
                .unwrap()
                .status
        })
    });

    // The floor: one ring P-256 / SHA-256 verification of the quote signature.
    let parsed = Quote::parse(&quote).unwrap();
    let mut key = vec![4u8];
    key.extend_from_slice(parsed.signature().attestation_key());
    let signed = parsed.signed_bytes();
    let signature = parsed.signature().quote_signature();
    group.bench_function("ring_p256_verify_x1", |b| {
        b.iter(|| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                black_box(&key),
            )
            .verify(signed, signature)
            .is_ok()
        })
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
