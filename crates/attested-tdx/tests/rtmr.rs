//! RTMR replay of the GCP CCEL event log against the quote taken with it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::Quote;
use attested_tdx::rtmr::{RtmrError, replay_ccel};

fn inputs() -> Option<(Vec<u8>, Vec<u8>)> {
    Some((
        attested_testdata::read("tdx/go-tdx-guest/ccel/ccel_data.dat")?,
        attested_testdata::read("tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat")?,
    ))
}

#[test]
fn the_ccel_log_replays_to_the_quote_rtmrs() {
    let Some((log, quote)) = inputs() else { return };
    let quote = Quote::parse_allowing_trailing_data(&quote).unwrap();
    let replay = replay_ccel(&log).unwrap();
    assert!(replay.events.len() > 10);
    replay.check(quote.report()).unwrap();
    // The log measures RTMR0..2 at least; a replay of nothing would be all zero.
    assert!(replay.rtmrs[..3].iter().all(|r| r != &[0; 48]));
}

#[test]
fn a_changed_event_digest_is_caught_naming_the_rtmr() {
    let Some((log, quote)) = inputs() else { return };
    let quote = Quote::parse_allowing_trailing_data(&quote).unwrap();
    let replay = replay_ccel(&log).unwrap();
    let event = replay.events.iter().find(|e| e.mr_index == 2).unwrap();
    let offset = event.sha384.as_ptr() as usize - log.as_ptr() as usize;
    let mut altered = log.clone();
    altered[offset] ^= 1;
    let err = replay_ccel(&altered)
        .unwrap()
        .check(quote.report())
        .unwrap_err();
    assert!(matches!(err, RtmrError::Mismatch { index: 1, .. }), "{err}");
}

#[test]
fn truncated_logs_are_malformed_not_panics() {
    let Some((log, _)) = inputs() else { return };
    let replay = replay_ccel(&log).unwrap();
    let last = replay.events.last().unwrap();
    let end = last.data.as_ptr() as usize - log.as_ptr() as usize + last.data.len();
    for cut in [0, 3, 10, 40, 100, end - 1] {
        assert!(
            matches!(replay_ccel(&log[..cut]), Err(RtmrError::Malformed { .. })),
            "cut {cut}"
        );
    }
}
