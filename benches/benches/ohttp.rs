//! attested-ohttp against its peers, in the same run: the RFC 9458 round trip against bare
//! `ohttp` (same suite), and a 25 MB chunked upload through the gateway core against raw
//! AES-128-GCM over the same chunks.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::Aes128Gcm;
use attested_ohttp::{
    Accepted, Client, KeyPair, KeyRing, ReportData, Suite, Validity, Workload,
    chunked::ChunkLimits, chunked::ChunkedRequestDecoder, key_config_binding,
};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

// For the bare `ohttp` server the load drivers compare with too. Its other helpers, for the
// drivers, treat a failed run (a child that cannot start, an unreadable /proc file) as a panic.
#[allow(
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]
mod load_common;

const REQUEST: &[u8] = b"\x00\x03GET\x05https\x0bexample.com\x01/";
const RESPONSE: &[u8] = b"\x01\x40\xc8";
const UPLOAD: usize = 25_000_000;
const CHUNK: usize = 64 * 1024;
const READ: usize = 64 * 1024;

/// Stands in for appraised evidence whose REPORTDATA is `report_data`.
#[allow(non_snake_case)]
fn Bound(report_data: ReportData) -> Accepted {
    Accepted::assertion(report_data, Default::default(), Workload::Any)
}

fn now() -> attested_ohttp::UnixTime {
    attested_ohttp::UnixTime::from_secs(1_800_000_000)
}

fn ours(suite: Suite) -> (KeyRing, Client) {
    let pair = KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut rand::rng()).unwrap();
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(now(), Duration::from_secs(3600), Duration::ZERO),
    )
    .unwrap();
    let list = ring.encoded_list(now());
    let client = Client::new(&list, &Bound(key_config_binding(&list))).unwrap();
    (ring, client)
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("ohttp_round_trip");
    for (name, suite) in [
        ("x25519_aes128gcm", Suite::X25519_AES128GCM),
        ("p384_aes256gcm", Suite::P384_AES256GCM),
    ] {
        let (ring, client) = ours(suite);
        let mut rng = rand::rng();
        group.bench_function(format!("attested_ohttp/{name}"), |b| {
            b.iter(|| {
                let (enc, pending) = client.encapsulate(black_box(REQUEST), &mut rng).unwrap();
                let (inner, ctx) = ring.decapsulate(&enc, now()).unwrap();
                let sealed = ctx.encapsulate(black_box(RESPONSE), &mut rng).unwrap();
                black_box((inner, pending.decapsulate(&sealed).unwrap()))
            })
        });
    }

    let (server, encoded) = load_common::bare_ohttp_server();
    group.bench_function("ohttp/x25519_aes128gcm", |b| {
        b.iter(|| {
            let client = ohttp::ClientRequest::from_encoded_config(&encoded).unwrap();
            let (enc, pending) = client.encapsulate(black_box(REQUEST)).unwrap();
            let (inner, response) = server.decapsulate(&enc).unwrap();
            let sealed = response.encapsulate(black_box(RESPONSE)).unwrap();
            black_box((inner, pending.decapsulate(&sealed).unwrap()))
        })
    });
    group.finish();
}

fn chunked_upload(c: &mut Criterion) {
    let (ring, client) = ours(Suite::X25519_AES128GCM);
    let limits = ChunkLimits {
        max_chunk_len: CHUNK + 16,
        max_total_len: UPLOAD as u64,
        ..ChunkLimits::default()
    };
    let body: Vec<u8> = (0..UPLOAD).map(|i| i.to_le_bytes()[0]).collect();
    let (mut wire, sealer, _) = client
        .encapsulate_chunked(limits, &mut rand::rng())
        .unwrap();
    attested_ohttp::gateway::seal_in_chunks(sealer, &body, CHUNK, &mut wire).unwrap();

    // Peak memory of the gateway core over the whole upload, fed in network-sized reads.
    let mut decoder = ChunkedRequestDecoder::new(&ring, now(), limits);
    let (mut sink, mut peak, mut received) = (Vec::new(), 0, 0);
    for piece in wire.chunks(READ) {
        decoder.push(piece, &mut sink).unwrap();
        received += sink.len();
        sink.clear();
        peak = peak.max(decoder.buffered() + sink.capacity());
    }
    decoder.finish(&mut sink).unwrap();
    assert_eq!(received + sink.len(), UPLOAD);
    eprintln!(
        "chunked upload: {UPLOAD} bytes, gateway core peak buffer {peak} bytes (chunk {CHUNK}, read {READ})"
    );

    // The peer: AES-128-GCM opening the same chunks with no framing or HPKE.
    let aead = Aes128Gcm::new_from_slice(&[7u8; 16]).unwrap();
    let nonce = [0u8; 12].into();
    let mut raw: Vec<(Vec<u8>, [u8; 16])> = body
        .chunks(CHUNK)
        .map(|chunk| {
            let mut buf = chunk.to_vec();
            let tag = aead
                .encrypt_inout_detached(&nonce, b"", InOutBuf::from(&mut buf[..]))
                .unwrap();
            (buf, tag.into())
        })
        .collect();

    let mut group = c.benchmark_group("chunked_upload_25MB");
    group.throughput(Throughput::Bytes(UPLOAD as u64));
    group.sample_size(10);
    group.bench_function("attested_ohttp_gateway_core", |b| {
        b.iter(|| {
            let mut decoder = ChunkedRequestDecoder::new(&ring, now(), limits);
            let mut sink = Vec::with_capacity(CHUNK + READ);
            let mut n = 0;
            for piece in wire.chunks(READ) {
                decoder.push(piece, &mut sink).unwrap();
                n += sink.len();
                sink.clear();
            }
            decoder.finish(&mut sink).unwrap();
            black_box(n + sink.len())
        })
    });
    group.bench_function("raw_aes128gcm_open", |b| {
        b.iter(|| {
            let mut n = 0;
            for (ct, tag) in &mut raw {
                // Decrypt a copy (the ciphertext is reused), as the core decrypts its own buffer.
                let mut buf = ct.clone();
                aead.decrypt_inout_detached(
                    &nonce,
                    b"",
                    InOutBuf::from(&mut buf[..]),
                    &(*tag).into(),
                )
                .unwrap();
                n += buf.len();
            }
            black_box(n)
        })
    });
    group.finish();
}

criterion_group!(benches, round_trip, chunked_upload);
criterion_main!(benches);
