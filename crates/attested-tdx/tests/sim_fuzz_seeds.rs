//! The simulated quotes committed as fuzz seeds in `fuzz/corpus/tdx_quote_parse/seed-sim-*`
//! are exactly what the simulator makes today, so they cannot go stale unnoticed.
//!
//! Regenerate them with
//! `ATTESTED_WRITE_FUZZ_SEEDS=1 cargo test -p attested-tdx --features sim --test sim_fuzz_seeds`.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::{Quote, TdAttributes};

/// A fixed `now` (2025-06-15), so that the seeds never change by themselves.
const NOW: u64 = 1_750_000_000;

fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    let platform = SimPlatform::from_seed(b"attested fuzz seeds", NOW).unwrap();
    let quote = |spec: QuoteSpec| platform.quote(&spec).unwrap();
    let spec = |format| QuoteSpec {
        mr_td: [0x3c; 48],
        report_data: [0x5a; 64],
        ..platform.quote_spec(format)
    };
    vec![
        ("seed-sim-v4", quote(spec(QuoteFormat::V4))),
        ("seed-sim-v5-td10", quote(spec(QuoteFormat::V5Td10))),
        ("seed-sim-v5-td15", quote(spec(QuoteFormat::V5Td15))),
        ("seed-sim-v5-td15ext", quote(spec(QuoteFormat::V5Td15Ext))),
        (
            "seed-sim-v4-debug-padded",
            quote(QuoteSpec {
                td_attributes: TdAttributes::from_bits(TdAttributes::DEBUG),
                trailing_zeros: 64,
                ..spec(QuoteFormat::V4)
            }),
        ),
    ]
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus/tdx_quote_parse")
}

#[test]
fn committed_sim_fuzz_seeds_are_current() {
    let dir = corpus_dir();
    let write = std::env::var_os("ATTESTED_WRITE_FUZZ_SEEDS").is_some();
    if write {
        std::fs::create_dir_all(&dir).unwrap();
    }
    for (name, bytes) in seeds() {
        Quote::parse(&bytes).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
        let path = dir.join(name);
        if write {
            std::fs::write(&path, &bytes).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; regenerate with ATTESTED_WRITE_FUZZ_SEEDS=1",
                path.display()
            )
        });
        assert!(
            committed == bytes,
            "{} is stale; regenerate with ATTESTED_WRITE_FUZZ_SEEDS=1",
            path.display()
        );
    }
}
