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
    let set = SignatureSet::new(&qvl_json_lengths(&json), &parsed);
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

/// Byte lengths of the collateral's signed items, read from its `QuoteCollateralV3` JSON: root
/// CA CRL, PCK CA certificate, PCK CRL, TCB signing certificate, TCB Info, QE Identity. CRLs
/// and certificates count as their whole DER (their TBS is a few dozen bytes shorter).
fn qvl_json_lengths(json: &[u8]) -> [usize; 6] {
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    let text = |key: &str| value[key].as_str().unwrap().to_owned();
    // The first PEM block's DER length: 3 bytes per 4 base64 characters, less the padding.
    let first_pem_der_len = |pem: String| {
        let body: String = pem
            .split("-----")
            .nth(2)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        body.len() / 4 * 3 - body.chars().filter(|c| *c == '=').count()
    };
    [
        text("root_ca_crl").len() / 2,
        first_pem_der_len(text("pck_crl_issuer_chain")),
        text("pck_crl").len() / 2,
        first_pem_der_len(text("tcb_info_issuer_chain")),
        text("tcb_info").len(),
        text("qe_identity").len(),
    ]
}

/// Nine real ECDSA P-256 signatures by one generated key over messages of the given lengths.
struct SignatureSet {
    public_key: Vec<u8>,
    items: Vec<(Vec<u8>, Vec<u8>)>,
}

impl SignatureSet {
    fn new(collateral_lengths: &[usize; 6], quote: &Quote<'_>) -> SignatureSet {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let leaf_len = quote
            .signature()
            .certification()
            .pck_cert_chain()
            .unwrap()
            .der_certificates()
            .unwrap()[0]
            .len();
        let mut lengths = collateral_lengths.to_vec();
        lengths.extend([leaf_len, 384, quote.signed_bytes().len()]);
        let items = lengths
            .into_iter()
            .map(|len| {
                let message = vec![0x5a; len];
                let signature = pair.sign(&rng, &message).unwrap().as_ref().to_vec();
                (message, signature)
            })
            .collect();
        SignatureSet {
            public_key: pair.public_key().as_ref().to_vec(),
            items,
        }
    }

    fn verify(&self, items: &[(Vec<u8>, Vec<u8>)]) -> bool {
        items.iter().all(|(message, signature)| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                &self.public_key,
            )
            .verify(message, signature)
            .is_ok()
        })
    }
}
