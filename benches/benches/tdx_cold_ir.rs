//! One cold DCAP verification (a fresh verifier, nothing cached) and the nine ring P-256
//! verifications it must do at least, each in its own function, for instruction counts that
//! the machine's load does not change:
//!
//! ```text
//! cargo bench -p attested-benches --bench tdx_cold_ir --no-run
//! valgrind --tool=callgrind --toggle-collect='*measured_cold*' target/release/deps/tdx_cold_ir-*
//! valgrind --tool=callgrind --toggle-collect='*measured_ring_x9*' target/release/deps/tdx_cold_ir-*
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

const NOW: &str = "2025-07-01T00:00:00Z";

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

/// Nine ring P-256 / SHA-256 verifications over messages as long as the quote's signed body.
fn ring_x9(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    (0..9).all(|_| {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_FIXED, key)
            .verify(black_box(message), black_box(signature))
            .is_ok()
    })
}

#[inline(never)]
fn measured_ring_x9(key: &[u8], message: &[u8], signature: &[u8]) -> bool {
    ring_x9(key, message, signature)
}

/// rustls-webpki (ring) on the quote's PCK chain (leaf -> PCK CA -> root) with the root CA CRL
/// and the PCK CRL (`RevocationCheckDepth::Chain`, unknown status denied), CRLs parsed here.
fn webpki_pck_chain(chain: &[Vec<u8>], root: &[u8], root_crl: &[u8], pck_crl: &[u8], now: u64) {
    use rustls_pki_types::{CertificateDer, UnixTime};
    let root = CertificateDer::from(root);
    let anchor = webpki::anchor_from_trusted_cert(&root).unwrap();
    let crls: Vec<webpki::CertRevocationList<'_>> = [root_crl, pck_crl]
        .iter()
        .map(|der| {
            webpki::BorrowedCertRevocationList::from_der(der)
                .unwrap()
                .into()
        })
        .collect();
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs)
        .unwrap()
        .with_depth(webpki::RevocationCheckDepth::Chain)
        .with_status_policy(webpki::UnknownStatusPolicy::Deny)
        .build();
    let leaf = CertificateDer::from(chain[0].as_slice());
    let intermediates: Vec<CertificateDer<'_>> = chain[1..]
        .iter()
        .map(|c| CertificateDer::from(c.as_slice()))
        .collect();
    webpki::EndEntityCert::try_from(&leaf)
        .unwrap()
        .verify_for_usage(
            &[webpki::ring::ECDSA_P256_SHA256],
            &[anchor],
            &intermediates,
            UnixTime::since_unix_epoch(std::time::Duration::from_secs(now)),
            webpki::KeyUsage::client_auth(),
            Some(revocation),
            None,
        )
        // Intel's PCK leaf has no EKU, which webpki's `client_auth` accepts.
        .unwrap();
}

#[inline(never)]
fn measured_webpki_pck_chain(
    chain: &[Vec<u8>],
    root: &[u8],
    root_crl: &[u8],
    pck_crl: &[u8],
    now: u64,
) {
    webpki_pck_chain(chain, root, root_crl, pck_crl, now);
}

fn main() {
    let (Some(quote), Some(json)) = (
        attested_testdata::read("tdx/dcap-qvl/tdx_quote"),
        attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json"),
    ) else {
        return;
    };
    let now = UnixTime::parse_rfc3339(NOW).unwrap();
    let collateral = Collateral::from_qvl_json(&json).unwrap();
    let anchor = TrustAnchor::intel_sgx_root();
    let parsed = Quote::parse(&quote).unwrap();
    let mut key = vec![4u8];
    key.extend_from_slice(parsed.signature().attestation_key());
    let signed = parsed.signed_bytes();
    let signature = parsed.signature().quote_signature();

    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let hex_field = |key: &str| hex::decode(value[key].as_str().unwrap()).unwrap();
    let (root_crl, pck_crl) = (hex_field("root_ca_crl"), hex_field("pck_crl"));
    let chain: Vec<Vec<u8>> = parsed
        .signature()
        .certification()
        .pck_cert_chain()
        .unwrap()
        .der_certificates()
        .unwrap()
        .into_iter()
        .map(|c| c.to_vec())
        .collect();
    let root = anchor.der().unwrap().to_vec();
    let webpki_chain = &chain[..2];
    webpki_pck_chain(webpki_chain, &root, &root_crl, &pck_crl, now.as_secs());

    // Once unmeasured (lazy initialization), then once measured.
    for backend in [Backend::Ring, Backend::RustCrypto] {
        cold(&anchor, backend, &quote, &collateral, now);
    }
    assert!(ring_x9(&key, signed, signature));
    let ring = measured_cold_ring(&anchor, &quote, &collateral, now);
    let rustcrypto = measured_cold_rustcrypto(&anchor, &quote, &collateral, now);
    assert_eq!(ring, rustcrypto);
    assert!(measured_ring_x9(&key, signed, signature));
    measured_webpki_pck_chain(webpki_chain, &root, &root_crl, &pck_crl, now.as_secs());
    println!("cold verification: {ring:?}");
}
