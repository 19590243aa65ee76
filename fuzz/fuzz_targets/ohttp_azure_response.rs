#![no_main]

mod ohttp_common;

use std::sync::OnceLock;

use attested_ohttp::{chunked::ChunkLimits, Client};
use libfuzzer_sys::fuzz_target;
use ohttp_common::{EPHEMERAL, ring, x25519_client};

static CLIENT: OnceLock<Option<Client>> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let Some(client) = CLIENT.get_or_init(|| x25519_client(&ring())) else { return };
    let Some((&mode, body)) = data.split_first() else { return };
    let limits = ChunkLimits { max_chunk_len: 4096, max_total_len: 1 << 16, ..ChunkLimits::default() };
    let mut out = Vec::new();
    if mode & 1 == 0 {
        // The Azure dialect decoder, for a plain request.
        let Ok((_, pending)) = client.encapsulate_with_fixed_ephemeral(b"request", &EPHEMERAL) else { return };
        let mut decoder = pending.into_azure_chunked(limits);
        for piece in body.chunks(usize::from(mode >> 1).max(1)) {
            if decoder.push(piece, &mut out).is_err() {
                return;
            }
        }
        let _ = decoder.finish(&mut out);
    } else {
        // The draft chunked response decoder, and the one-shot response.
        let Ok((_, _, mut decoder)) = client.encapsulate_chunked_with_fixed_ephemeral(limits, &EPHEMERAL) else {
            return;
        };
        if decoder.push(body, &mut out).is_ok() {
            let _ = decoder.finish(&mut out);
        }
        if let Ok((_, pending)) = client.encapsulate_with_fixed_ephemeral(b"request", &EPHEMERAL) {
            let _ = pending.decapsulate(body);
        }
    }
});
