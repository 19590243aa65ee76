//! The simulated inputs committed as fuzz seeds in `fuzz/corpus/tdx_quote_parse/seed-sim-*` and
//! `fuzz/corpus/tdx_collateral_verify/seed-sim-*` are exactly what the simulator makes today, so
//! they cannot go stale unnoticed.
//!
//! Regenerate them with (the one variable of every crate's fuzz-seed test)
//! `ATTESTED_WRITE_FUZZ_SEEDS=1 cargo test -p attested-tdx --features sim --test sim_fuzz_seeds`.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use attested_tdx::Quote;
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};

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

/// Seeds of `tdx_collateral_verify`: `now` (u64 LE) || flags (1: the simulated root) ||
/// quote length (u16 LE) || quote || collateral JSON, on the platform the target trusts
/// (seed "fuzz", now 1_750_000_000; see `fuzz/fuzz_targets/tdx_collateral_verify.rs`).
fn collateral_seeds() -> Vec<(&'static str, Vec<u8>)> {
    let platform = SimPlatform::from_seed(b"fuzz", NOW).unwrap();
    let input = |format, collateral: &[u8]| {
        let mut rtmrs = [[0u8; 48]; 4];
        for (index, rtmr) in (0x10u8..).zip(rtmrs.iter_mut()) {
            rtmr.fill(index);
        }
        let quote = platform
            .quote(&QuoteSpec {
                mr_td: [0x01; 48],
                rtmrs,
                ..platform.quote_spec(format)
            })
            .unwrap();
        let len = u16::try_from(quote.len()).unwrap();
        [
            &NOW.to_le_bytes()[..],
            &[1],
            &len.to_le_bytes(),
            &quote,
            collateral,
        ]
        .concat()
    };
    let qvl = platform.collateral_dcap_qvl_json().as_bytes();
    let bundle = platform.collateral_pcs().responses().to_bundle_json();
    vec![
        ("seed-sim-v4", input(QuoteFormat::V4, qvl)),
        ("seed-sim-v5-td15", input(QuoteFormat::V5Td15, qvl)),
        (
            "seed-sim-v4-pcs-bundle",
            input(QuoteFormat::V4, bundle.as_bytes()),
        ),
    ]
}

#[test]
fn committed_sim_fuzz_seeds_are_current() {
    for (name, bytes) in seeds() {
        Quote::parse(&bytes).unwrap_or_else(|e| panic!("{name} does not parse: {e}"));
    }
    attested_testdata::check_or_write_fuzz_seeds("tdx_quote_parse", &seeds());
}

#[test]
fn committed_collateral_fuzz_seeds_are_current() {
    attested_testdata::check_or_write_fuzz_seeds("tdx_collateral_verify", &collateral_seeds());
}
