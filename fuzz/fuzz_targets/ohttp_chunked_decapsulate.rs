#![no_main]

mod ohttp_common;

use std::sync::OnceLock;

use attested_ohttp::{chunked::ChunkLimits, chunked::ChunkedRequestDecoder, KeyRing};
use libfuzzer_sys::fuzz_target;
use ohttp_common::{CountingRng, now, ring};

static RING: OnceLock<KeyRing> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let ring = RING.get_or_init(ring);
    // The first byte picks the read size, so that every split of the stream is explored.
    let Some((&split, body)) = data.split_first() else { return };
    let limits = ChunkLimits { max_chunk_len: 4096, max_total_len: 1 << 16, ..ChunkLimits::default() };
    let mut decoder = ChunkedRequestDecoder::new(ring, now(), limits);
    let mut out = Vec::new();
    for piece in body.chunks(usize::from(split).max(1)) {
        if decoder.push(piece, &mut out).is_err() {
            return;
        }
        assert!(decoder.buffered() <= 2 * (4096 + 1120 + 256) + 256, "decoder holds too much");
    }
    if let Ok(ctx) = decoder.finish(&mut out) {
        let _ = ctx.start(&mut CountingRng(1));
    }
});
