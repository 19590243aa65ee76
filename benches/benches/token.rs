//! attested-token benchmarks: ITA token verification side by side with `jsonwebtoken` on the
//! same production token and key, and AWS Nitro document verification.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use attested_token::ita::ItaVerifier;
use attested_token::jwt::{Jwks, KeySet};
use attested_token::nitro::NitroVerifier;
use attested_token::x509::TrustRoots;
use attested_token::{Backend, UnixTime};
use criterion::{Criterion, criterion_group, criterion_main};

const PROD_TOKEN: &str = "tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt";
const PROD_JWKS: &str = "tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json";
const NITRO_DOC: &str = "tokens/nitro/libsignal/test_cose_sign1_01.dat";

fn ita(c: &mut Criterion) {
    let (Some(token), Some(jwks_json)) = (
        attested_testdata::read(PROD_TOKEN),
        attested_testdata::read(PROD_JWKS),
    ) else {
        return;
    };
    let token = String::from_utf8(token).unwrap().trim().to_owned();
    let now = UnixTime(1_701_734_960);
    let jwks = Jwks::from_json(&jwks_json).unwrap();
    let mut group = c.benchmark_group("ita_token_verify_ps384");
    for &backend in Backend::all() {
        let keys =
            KeySet::chained_with_backend(&jwks, &TrustRoots::intel_trust_authority(), backend);
        let verifier = ItaVerifier::with_keys(keys);
        verifier.verify(&token, now).unwrap();
        group.bench_function(format!("attested_token_{backend:?}"), |b| {
            b.iter(|| verifier.verify(black_box(&token), now).unwrap())
        });
    }
    // jsonwebtoken with the same key, signature only (it reads the system clock, so time
    // checks are off; ours does exp/nbf/iat, issuer, chain windows and typed claims on top).
    let value: serde_json::Value = serde_json::from_slice(&jwks_json).unwrap();
    let key = &value["keys"][0];
    let decoding = jsonwebtoken::DecodingKey::from_rsa_components(
        key["n"].as_str().unwrap(),
        key["e"].as_str().unwrap(),
    )
    .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::PS384);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
    group.bench_function("jsonwebtoken_rust_crypto", |b| {
        b.iter(|| {
            jsonwebtoken::decode::<serde_json::Value>(black_box(&token), &decoding, &validation)
                .unwrap()
        })
    });
    group.finish();
}

fn nitro(c: &mut Criterion) {
    let Some(doc) = attested_testdata::read(NITRO_DOC) else {
        return;
    };
    let now = UnixTime(1_684_358_520);
    let mut group = c.benchmark_group("nitro_document_verify");
    for &backend in Backend::all() {
        let verifier = NitroVerifier::new(&TrustRoots::aws_nitro()).backend(backend);
        verifier.verify(&doc, now).unwrap();
        group.bench_function(format!("warm_{backend:?}"), |b| {
            b.iter(|| verifier.verify(black_box(&doc), now).unwrap())
        });
        group.bench_function(format!("cold_{backend:?}"), |b| {
            b.iter(|| {
                NitroVerifier::new(&TrustRoots::aws_nitro())
                    .backend(backend)
                    .verify(black_box(&doc), now)
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = ita, nitro
}
criterion_main!(benches);
