#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Chunked OHTTP: round trips in both dialects, limits (the draft's example byte for byte is
//! in `vectors.rs`).

mod common;

use attested_ohttp::{
    Client, Error, KeyRing, Suite, chunked::ChunkLimits, chunked::ChunkedRequestDecoder,
    keys::Aead, keys::Kdf, keys::Kem,
};
use common::{now, os_rng, ring_and_client};

/// Seals `body` in `chunk`-byte chunks (the last one final) with the given sealer.
fn seal_all(
    mut sealer: attested_ohttp::chunked::ChunkSealer,
    body: &[u8],
    chunk: usize,
    out: &mut Vec<u8>,
) {
    let mut pieces = body.chunks(chunk).peekable();
    while let Some(piece) = pieces.next() {
        if pieces.peek().is_some() {
            sealer.seal_chunk(piece, out).unwrap();
        } else {
            sealer.seal_final(piece, out).unwrap();
            return;
        }
    }
    sealer.seal_final(b"", out).unwrap();
}

fn body(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from(i * 31 % 251).unwrap())
        .collect()
}

#[test]
fn draft_round_trip_p384_in_odd_reads() {
    let (ring, client) = ring_and_client(Suite::P384_AES256GCM);
    let request = body(100_000);
    let (head, sealer, mut response_decoder) = client
        .encapsulate_chunked(ChunkLimits::default(), &mut os_rng())
        .unwrap();
    let mut wire = head;
    seal_all(sealer, &request, 4093, &mut wire);

    let mut decoder = ChunkedRequestDecoder::new(&ring, now(), ChunkLimits::default());
    let mut inner = Vec::new();
    for piece in wire.chunks(777) {
        decoder.push(piece, &mut inner).unwrap();
    }
    let context = decoder.finish(&mut inner).unwrap();
    assert_eq!(inner, request);

    let response = body(50_000);
    let (nonce, sealer) = context.start(&mut os_rng()).unwrap();
    let mut rwire = nonce;
    seal_all(sealer, &response, 1000, &mut rwire);
    let mut out = Vec::new();
    for piece in rwire.chunks(333) {
        response_decoder.push(piece, &mut out).unwrap();
    }
    response_decoder.finish(&mut out).unwrap();
    assert_eq!(out, response);
}

#[test]
fn azure_dialect_round_trip() {
    for suite in [
        Suite::P384_AES256GCM,
        Suite::new(Kem::P384Sha384, Kdf::HkdfSha256, Aead::Aes128Gcm),
        Suite::new(Kem::P384Sha384, Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
    ] {
        let (ring, client) = ring_and_client(suite);
        let (enc, pending) = client
            .encapsulate(b"multipart audio upload", &mut os_rng())
            .unwrap();
        let (inner, context) = ring.decapsulate(&enc, now()).unwrap();
        assert_eq!(inner, b"multipart audio upload");
        let response = body(20_000);
        let (nonce, sealer) = context.into_azure_chunked(&mut os_rng()).unwrap();
        let mut rwire = nonce;
        seal_all(sealer, &response, 300, &mut rwire);
        let mut decoder = pending.into_azure_chunked(ChunkLimits::default());
        let mut out = Vec::new();
        for piece in rwire.chunks(97) {
            decoder.push(piece, &mut out).unwrap();
        }
        decoder.finish(&mut out).unwrap();
        assert_eq!(out, response);
    }
}

#[test]
fn azure_dialect_refuses_data_after_final_and_missing_final() {
    let (ring, client) = ring_and_client(Suite::P384_AES256GCM);
    let (enc, pending) = client.encapsulate(b"x", &mut os_rng()).unwrap();
    let (_, context) = ring.decapsulate(&enc, now()).unwrap();
    let (nonce, mut sealer) = context.into_azure_chunked(&mut os_rng()).unwrap();
    let mut wire = nonce;
    sealer.seal_chunk(b"hello", &mut wire).unwrap();
    let before_final = wire.len();
    sealer.seal_final(b"world", &mut wire).unwrap();

    let mut extra = wire.clone();
    extra.push(0);
    let mut decoder = pending.into_azure_chunked(ChunkLimits::default());
    assert_eq!(
        decoder.push(&extra, &mut Vec::new()).unwrap_err(),
        Error::Chunking("data after the final chunk")
    );

    let (enc, pending) = client.encapsulate(b"x", &mut os_rng()).unwrap();
    let (_, context) = ring.decapsulate(&enc, now()).unwrap();
    let (nonce, mut sealer) = context.into_azure_chunked(&mut os_rng()).unwrap();
    let mut wire = nonce;
    sealer.seal_chunk(b"hello", &mut wire).unwrap();
    let mut decoder = pending.into_azure_chunked(ChunkLimits::default());
    let mut out = Vec::new();
    decoder.push(&wire, &mut out).unwrap();
    assert_eq!(out, b"hello");
    assert!(matches!(
        decoder.finish(&mut out).unwrap_err(),
        Error::Truncated { .. }
    ));
    assert!(before_final > 0);
}

fn chunked_request_wire(
    client: &Client,
    pieces: &[&[u8]],
    final_piece: &[u8],
) -> (Vec<u8>, Vec<Vec<u8>>) {
    let (head, mut sealer, _) = client
        .encapsulate_chunked(ChunkLimits::default(), &mut os_rng())
        .unwrap();
    let mut chunks = vec![head];
    for p in pieces {
        let mut c = Vec::new();
        sealer.seal_chunk(p, &mut c).unwrap();
        chunks.push(c);
    }
    let mut c = Vec::new();
    sealer.seal_final(final_piece, &mut c).unwrap();
    chunks.push(c);
    (chunks.concat(), chunks)
}

fn decode(ring: &KeyRing, wire: &[u8], limits: ChunkLimits) -> Result<Vec<u8>, Error> {
    let mut decoder = ChunkedRequestDecoder::new(ring, now(), limits);
    let mut out = Vec::new();
    decoder.push(wire, &mut out)?;
    decoder.finish(&mut out)?;
    Ok(out)
}

#[test]
fn chunked_request_limits_and_tampering_are_refused() {
    let (ring, client) = ring_and_client(Suite::X25519_AES128GCM);
    let (wire, chunks) = chunked_request_wire(&client, &[b"aaaa", b"bbbb", b"cccc"], b"dd");
    assert_eq!(
        decode(&ring, &wire, ChunkLimits::default()).unwrap(),
        b"aaaabbbbccccdd"
    );

    let small = ChunkLimits {
        max_chunk_len: 19,
        max_total_len: 1 << 20,
        ..ChunkLimits::default()
    };
    assert!(matches!(
        decode(&ring, &wire, small).unwrap_err(),
        Error::LimitExceeded {
            what: "chunk length",
            limit: 19,
            actual: 20
        }
    ));
    // Four chunks (three plus the final one): a limit of three refuses the message.
    let three = ChunkLimits {
        max_chunks: 3,
        ..ChunkLimits::default()
    };
    assert_eq!(
        decode(&ring, &wire, three).unwrap_err(),
        Error::LimitExceeded {
            what: "chunks",
            limit: 3,
            actual: 4
        }
    );
    let four = ChunkLimits {
        max_chunks: 4,
        ..ChunkLimits::default()
    };
    assert_eq!(decode(&ring, &wire, four).unwrap(), b"aaaabbbbccccdd");
    let total = ChunkLimits {
        max_chunk_len: 1 << 20,
        max_total_len: 10,
        ..ChunkLimits::default()
    };
    assert!(matches!(
        decode(&ring, &wire, total).unwrap_err(),
        Error::LimitExceeded {
            what: "total message length",
            ..
        }
    ));

    // Dropped, swapped or replayed chunks break the sequence; a missing final is truncation.
    let dropped = [&chunks[0][..], &chunks[1], &chunks[3], &chunks[4]].concat();
    assert_eq!(
        decode(&ring, &dropped, ChunkLimits::default()).unwrap_err(),
        Error::Decryption {
            what: "request chunk"
        }
    );
    let swapped = [
        &chunks[0][..],
        &chunks[2],
        &chunks[1],
        &chunks[3],
        &chunks[4],
    ]
    .concat();
    assert_eq!(
        decode(&ring, &swapped, ChunkLimits::default()).unwrap_err(),
        Error::Decryption {
            what: "request chunk"
        }
    );
    let no_final = [&chunks[0][..], &chunks[1], &chunks[2], &chunks[3]].concat();
    assert!(matches!(
        decode(&ring, &no_final, ChunkLimits::default()).unwrap_err(),
        Error::Truncated { .. }
    ));
    // A non-final chunk cannot pass as the final one: the AAD differs.
    let mut fake_final = [&chunks[0][..], &chunks[1]].concat();
    fake_final.push(0);
    fake_final.extend_from_slice(&chunks[2][1..]);
    assert_eq!(
        decode(&ring, &fake_final, ChunkLimits::default()).unwrap_err(),
        Error::Decryption {
            what: "request chunk"
        }
    );
    // A one-shot request is not a chunked one: the HPKE info label differs.
    let (one_shot, _) = client.encapsulate(b"aaaa", &mut os_rng()).unwrap();
    let mut as_chunked = one_shot[..7 + 32].to_vec();
    as_chunked.push(0);
    as_chunked.extend_from_slice(&one_shot[7 + 32..]);
    assert_eq!(
        decode(&ring, &as_chunked, ChunkLimits::default()).unwrap_err(),
        Error::Decryption {
            what: "request chunk"
        }
    );
    assert!(matches!(
        decode(&ring, &wire[..20], ChunkLimits::default()).unwrap_err(),
        Error::Truncated { .. }
    ));
}

#[test]
fn large_upload_streams_with_memory_bounded_by_the_chunk() {
    // 4 MiB keeps the debug-build test fast; the bench runs 25 MB.
    let (ring, client) = ring_and_client(Suite::X25519_AES128GCM);
    let chunk = 64 * 1024;
    let read = 16 * 1024;
    let total = 4 << 20;
    let limits = ChunkLimits {
        max_chunk_len: chunk + 16,
        max_total_len: total as u64,
        ..ChunkLimits::default()
    };
    let (head, mut sealer, _) = client.encapsulate_chunked(limits, &mut os_rng()).unwrap();
    let mut decoder = ChunkedRequestDecoder::new(&ring, now(), limits);
    let mut sink = Vec::new();
    let mut received = 0usize;
    let mut peak = 0usize;
    let mut feed = |bytes: &[u8], decoder: &mut ChunkedRequestDecoder<'_>| {
        for piece in bytes.chunks(read) {
            decoder.push(piece, &mut sink).unwrap();
            received += sink.len();
            sink.clear();
            peak = peak.max(decoder.buffered());
        }
    };
    feed(&head, &mut decoder);
    let block = body(chunk);
    let mut wire = Vec::new();
    for _ in 0..total / chunk - 1 {
        wire.clear();
        sealer.seal_chunk(&block, &mut wire).unwrap();
        feed(&wire, &mut decoder);
    }
    wire.clear();
    sealer.seal_final(&block, &mut wire).unwrap();
    feed(&wire, &mut decoder);
    let mut last = Vec::new();
    decoder.finish(&mut last).unwrap();
    assert_eq!(received + last.len(), total);
    assert!(peak <= 2 * (chunk + 16 + read), "decoder held {peak} bytes");
}
