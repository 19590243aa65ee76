//! attested-tdx against dcap-qvl, side by side in one run: quote parsing.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};

const QUOTES: &[(&str, &str)] = &[
    ("v4_td10", "tdx/dcap-qvl/tdx_quote"),
    ("v5_td15", "tdx/dcap-qvl/tdx_quote_outdated"),
    ("v5_td15ext", "tdx/dcap-qvl/tdx_quote_td15ex"),
];

fn parse(c: &mut Criterion) {
    for (name, path) in QUOTES {
        let Some(bytes) = attested_testdata::read(path) else {
            continue;
        };
        let mut group = c.benchmark_group(format!("tdx_parse/{name}"));
        group.bench_function("attested_tdx", |b| {
            b.iter(|| {
                attested_tdx::Quote::parse(black_box(&bytes))
                    .unwrap()
                    .report()
                    .mr_td()[0]
            })
        });
        group.bench_function("dcap_qvl", |b| {
            b.iter(|| {
                dcap_qvl::quote::Quote::parse(black_box(&bytes))
                    .unwrap()
                    .header
                    .version
            })
        });
        group.finish();
    }
}

criterion_group!(benches, parse);
criterion_main!(benches);
