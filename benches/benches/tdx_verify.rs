//! attested-tdx DCAP verification against dcap-qvl, side by side in one run, on the same quote
//! and collateral: cold (a fresh verifier, nothing cached), warm (collateral verification
//! cached, the platform not seen: no platform cache), hot (a fresh quote from a platform the
//! verifier has seen: PCK leaf and QE report checks memoized), and the floor: the P-256
//! verifications each must do (cold 9, warm 3, hot 1), over messages as long as the real ones.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;

use attested_tdx::{Backend, Quote, Verifier};
use criterion::{Criterion, criterion_group, criterion_main};

mod tdx_fixture;
use tdx_fixture::{Fixture, SignatureSet};

fn verify(c: &mut Criterion) {
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
    let qvl_collateral: dcap_qvl::QuoteCollateralV3 = serde_json::from_slice(&json).unwrap();

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
        let warm = Verifier::with_backend(anchor.clone(), *backend).with_platform_cache(0);
        warm.verify_bytes(&quote, &collateral, now).unwrap();
        group.bench_function(format!("attested_tdx_warm_{backend:?}"), |b| {
            b.iter(|| {
                let quote = Quote::parse(black_box(&quote)).unwrap();
                warm.verify(&quote, black_box(&collateral), now)
                    .unwrap()
                    .tcb_status()
            })
        });
        // The platform seen once; each iteration parses and verifies the quote again, as a
        // fresh quote of that platform (same PCK chain and QE report, new body) would be.
        let hot = Verifier::with_backend(anchor.clone(), *backend);
        hot.verify_bytes(&quote, &collateral, now).unwrap();
        group.bench_function(format!("attested_tdx_hot_{backend:?}"), |b| {
            b.iter(|| {
                let quote = Quote::parse(black_box(&quote)).unwrap();
                hot.verify(&quote, black_box(&collateral), now)
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

    // The floor: one ring P-256 / SHA-256 verification of the quote signature, and the exact
    // set of verifications each path must do, over messages as long as the real signed items
    // (cold: root CA CRL, PCK CA, PCK CRL, TCB signer, TCB Info, QE Identity, PCK leaf, QE
    // report, quote; warm: the last three).
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
    let set = SignatureSet::new(&json, &parsed);
    group.bench_function("ring_p256_verify_cold_set_x9", |b| {
        b.iter(|| set.verify(black_box(&set.items)))
    });
    group.bench_function("ring_p256_verify_warm_set_x3", |b| {
        b.iter(|| set.verify(black_box(&set.items[6..])))
    });
    group.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
