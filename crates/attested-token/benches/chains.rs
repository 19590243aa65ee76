//! Chain validation cost on the real chains: ITA (RSA-3072, key set built = chain validated),
//! AWS Nitro (P-384, a cold verifier per document), and - as an evaluation of rustls-webpki for
//! attested-tdx, which keeps its own validator - the Intel PCK chain with the root CA and PCK
//! CRLs and the TCB signing chain with the root CA CRL, from dcap-qvl's collateral. Compare with
//! `cargo bench -p attested-benches --bench tdx_verify` in the same run.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use attested_token::Backend;
use attested_token::ita::ItaVerifier;
use attested_token::jwt::{Jwks, KeySet};
use attested_token::nitro::NitroVerifier;
use attested_token::x509::TrustRoots;
use criterion::{Criterion, criterion_group, criterion_main};
use rustls_pki_types::{CertificateDer, UnixTime};

const ITA_TOKEN: &str = "tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt";
const ITA_JWKS: &str = "tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json";
const ITA_AT: u64 = 1_701_734_951;
const NITRO_DOC: &str = "tokens/nitro/libsignal/test_cose_sign1_02.dat";
const NITRO_AT: u64 = 1_684_948_068;

fn tokens(c: &mut Criterion) {
    let mut group = c.benchmark_group("chains");
    if let (Some(token), Some(jwks)) = (
        attested_testdata::read(ITA_TOKEN),
        attested_testdata::read(ITA_JWKS),
    ) {
        let token = String::from_utf8(token).unwrap().trim().to_owned();
        let jwks = Jwks::from_json(&jwks).unwrap();
        let roots = TrustRoots::intel_trust_authority();
        let now = attested_token::UnixTime(ITA_AT);
        for &backend in Backend::all() {
            group.bench_function(format!("ita_keyset_cold_{backend:?}"), |b| {
                b.iter(|| KeySet::chained_with_backend(black_box(&jwks), &roots, backend))
            });
            let verifier =
                ItaVerifier::with_keys(KeySet::chained_with_backend(&jwks, &roots, backend));
            verifier.verify(&token, now).unwrap();
            group.bench_function(format!("ita_verify_warm_{backend:?}"), |b| {
                b.iter(|| verifier.verify(black_box(&token), now).unwrap())
            });
        }
    }
    if let Some(doc) = attested_testdata::read(NITRO_DOC) {
        let roots = TrustRoots::aws_nitro();
        let now = attested_token::UnixTime(NITRO_AT);
        for &backend in Backend::all() {
            group.bench_function(format!("nitro_verify_cold_{backend:?}"), |b| {
                b.iter(|| {
                    NitroVerifier::new(&roots)
                        .backend(backend)
                        .verify(black_box(&doc), now)
                        .unwrap()
                })
            });
        }
    }
    group.finish();
}

/// PEM certificates inside a byte string (the quote's certification data, an issuer chain).
fn pem_certs(bytes: &[u8]) -> Vec<Vec<u8>> {
    // The quote's certification data may end in padding after the last PEM block.
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let end = bytes
        .windows(END.len())
        .rposition(|w| w == END)
        .map_or(bytes.len(), |i| i + END.len());
    x509_cert::Certificate::load_pem_chain(&bytes[..end])
        .unwrap()
        .iter()
        .map(|c| der::Encode::to_der(c).unwrap())
        .collect()
}

fn intel(c: &mut Criterion) {
    let (Some(quote), Some(json)) = (
        attested_testdata::read("tdx/dcap-qvl/tdx_quote"),
        attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json"),
    ) else {
        return;
    };
    let collateral: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let hex_field = |name: &str| hex::decode(collateral[name].as_str().unwrap()).unwrap();
    let begin = quote.windows(11).position(|w| w == b"-----BEGIN ").unwrap();
    let pck_chain = pem_certs(&quote[begin..]);
    let tcb_chain = pem_certs(
        collateral["tcb_info_issuer_chain"]
            .as_str()
            .unwrap()
            .as_bytes(),
    );
    let root_crl = webpki::CertRevocationList::from(
        webpki::OwnedCertRevocationList::from_der(&hex_field("root_ca_crl")).unwrap(),
    );
    let pck_crl = webpki::CertRevocationList::from(
        webpki::OwnedCertRevocationList::from_der(&hex_field("pck_crl")).unwrap(),
    );
    let root_der = attested_testdata::read("tdx/dcap-qvl/TrustedRootCA.der").unwrap();
    let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(root_der.as_slice()))
        .unwrap()
        .to_owned();
    // 2025-07-01T00:00:00Z, the time tdx_verify uses (inside the PCK CRL's window).
    let time = UnixTime::since_unix_epoch(Duration::from_secs(1_751_328_000));
    let algs = &[
        webpki::ring::ECDSA_P256_SHA256,
        webpki::ring::ECDSA_P256_SHA384,
    ];

    struct AnyEku;
    impl webpki::ExtendedKeyUsageValidator for AnyEku {
        fn validate(&self, _: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
            Ok(())
        }
    }
    let validate = |chain: &[Vec<u8>], crls: &[&webpki::CertRevocationList<'_>]| {
        let leaf = CertificateDer::from(chain[0].as_slice());
        let intermediates: Vec<_> = chain[1..]
            .iter()
            .map(|d| CertificateDer::from(d.as_slice()))
            .collect();
        let revocation = webpki::RevocationOptionsBuilder::new(crls)
            .unwrap()
            .with_depth(webpki::RevocationCheckDepth::Chain)
            .with_status_policy(webpki::UnknownStatusPolicy::Deny)
            .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
            .build();
        webpki::EndEntityCert::try_from(&leaf)
            .unwrap()
            .verify_for_usage(
                algs,
                std::slice::from_ref(&anchor),
                &intermediates,
                time,
                AnyEku,
                Some(revocation),
                None,
            )
            .map(|_| ())
    };
    // Evaluation results, asserted so that the figures below are of successful validations.
    validate(&pck_chain, &[&root_crl, &pck_crl]).unwrap();
    validate(&tcb_chain, &[&root_crl]).unwrap();

    let mut group = c.benchmark_group("chains/intel_webpki_ring");
    group.bench_function("pck_chain_with_root_and_pck_crls", |b| {
        b.iter(|| validate(black_box(&pck_chain), &[&root_crl, &pck_crl]).unwrap())
    });
    group.bench_function("tcb_signing_chain_with_root_crl", |b| {
        b.iter(|| validate(black_box(&tcb_chain), &[&root_crl]).unwrap())
    });
    group.bench_function("crls_parse", |b| {
        b.iter(|| {
            (
                webpki::OwnedCertRevocationList::from_der(black_box(&hex_field("root_ca_crl")))
                    .unwrap(),
                webpki::OwnedCertRevocationList::from_der(black_box(&hex_field("pck_crl")))
                    .unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, tokens, intel);
criterion_main!(benches);
