//! attested-noise against bare snow.
//!
//! - handshake: our handshake plus attestation request, signed binding, and its verification
//!   (both sides, with a trivial evidence check), against a bare snow NK handshake plus one
//!   Ed25519 sign and verify (the verify including the key's decoding, as a client must).
//!   Target: at most 1.15x.
//! - transport: one 64 KiB message sealed and opened, against bare snow carrying the same bytes
//!   in the fewest Noise messages. Target: at least 0.95x the throughput. For information: the
//!   JSON encoding and decoding of a `chat_chunk` on top, and bare snow with the buffer
//!   allocation and plaintext erasure that a safe API pays.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use attested_noise::ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use attested_noise::limits::MAX_FRAME_PLAINTEXT;
use attested_noise::message::{ChatChunk, Message};
use attested_noise::profile::PROTOCOL_NAME;
use attested_noise::{
    Accepted, Appraiser, BoxError, Config, Evidence, Initiator, NoiseStaticKey, PlatformEvidence,
    Profile, Received, ReportData, Responder, ServerIdentity, ServerSession, UnixTime,
    VerifiedSession, Workload,
};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use rand::SeedableRng;
use rand::rngs::StdRng;

const MESSAGE: usize = 64 * 1024;

struct QuoteIsReportData;

impl Appraiser for QuoteIsReportData {
    fn appraise(&self, evidence: &Evidence<'_>, _: UnixTime) -> Result<Accepted, BoxError> {
        let report_data = ReportData::try_from(evidence.quote.ok_or("no quote")?)?;
        Ok(Accepted::assertion(
            report_data,
            BTreeMap::new(),
            Workload::Any,
        ))
    }
}

fn identity(profile: Profile) -> Arc<ServerIdentity> {
    let noise_key = NoiseStaticKey::from_bytes([1; 32]);
    let binding_key = SigningKey::from_bytes(&[2; 32]);
    let report_data = ServerIdentity::report_data(profile, &noise_key, &binding_key);
    Arc::new(ServerIdentity::new(
        Config::new(profile),
        noise_key,
        binding_key,
        PlatformEvidence::from_quote(report_data.to_vec()),
    ))
}

fn attested_session(
    identity: &Arc<ServerIdentity>,
    rng: &mut StdRng,
) -> (VerifiedSession, ServerSession) {
    let profile = identity.config().profile();
    let mut client = Initiator::new(profile, identity.noise_key().public_key(), rng).unwrap();
    let mut server = Responder::new(identity.clone(), rng).unwrap();
    server.read_first(&client.write_first().unwrap()).unwrap();
    let (msg2, mut server) = server.write_second().unwrap();
    let mut client = client.read_second(&msg2).unwrap();
    let mut attestation = None;
    for frame in client.request_attestation().unwrap() {
        assert!(matches!(
            server.receive(&frame).unwrap(),
            Received::AttestationRequested
        ));
    }
    for frame in server.attestation(None).unwrap() {
        attestation = client.receive_attestation(&frame).unwrap();
    }
    let client = client
        .verify(
            &attestation.unwrap(),
            &QuoteIsReportData,
            UnixTime(1_750_000_000),
        )
        .unwrap();
    (client, server)
}

fn bare_handshake(
    server_secret: &[u8; 32],
    server_public: &[u8; 32],
    binding: &SigningKey,
    binding_public: &[u8; 32],
) -> (snow::TransportState, snow::TransportState) {
    let params: snow::params::NoiseParams = PROTOCOL_NAME.parse().unwrap();
    let mut client = snow::Builder::new(params.clone())
        .remote_public_key(server_public)
        .unwrap()
        .build_initiator()
        .unwrap();
    let mut server = snow::Builder::new(params)
        .local_private_key(server_secret)
        .unwrap()
        .build_responder()
        .unwrap();
    let mut msg = [0_u8; 48];
    let mut payload = [0_u8; 48];
    client.write_message(&[], &mut msg).unwrap();
    server.read_message(&msg, &mut payload).unwrap();
    server.write_message(&[], &mut msg).unwrap();
    client.read_message(&msg, &mut payload).unwrap();
    let signature = binding.sign(server.get_handshake_hash()).to_bytes();
    VerifyingKey::from_bytes(binding_public)
        .unwrap()
        .verify(
            client.get_handshake_hash(),
            &Signature::from_bytes(&signature),
        )
        .unwrap();
    (
        client.into_transport_mode().unwrap(),
        server.into_transport_mode().unwrap(),
    )
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("noise_handshake");
    let mut rng = StdRng::seed_from_u64(1);
    for profile in [Profile::Seed, Profile::V1] {
        let identity = identity(profile);
        group.bench_function(BenchmarkId::new("attested_noise", profile.name()), |b| {
            b.iter(|| black_box(attested_session(&identity, &mut rng)))
        });
    }
    let server_secret = [1_u8; 32];
    let server_public = *NoiseStaticKey::from_bytes(server_secret).public_key();
    let binding = SigningKey::from_bytes(&[2; 32]);
    let binding_public = binding.verifying_key().to_bytes();
    group.bench_function("bare_snow_plus_ed25519", |b| {
        b.iter(|| {
            black_box(bare_handshake(
                &server_secret,
                &server_public,
                &binding,
                &binding_public,
            ))
        })
    });
    group.finish();
}

fn transport(c: &mut Criterion) {
    let mut group = c.benchmark_group("noise_transport_64k");
    group.throughput(Throughput::Bytes(MESSAGE as u64));
    let mut rng = StdRng::seed_from_u64(2);
    let payload = vec![b'a'; MESSAGE];

    let (mut client, mut server) = attested_session(&identity(Profile::V1), &mut rng);
    group.bench_function("attested_noise_v1_seal_open", |b| {
        b.iter(|| {
            let mut opened = None;
            for frame in client.seal(&payload).unwrap() {
                opened = server.open(&frame).unwrap();
            }
            black_box(opened.unwrap())
        })
    });

    let chunk = Message::ChatChunk(ChatChunk {
        delta: String::from_utf8(payload.clone()).unwrap(),
    });
    group.bench_function("attested_noise_v1_chat_chunk_json", |b| {
        b.iter(|| {
            let mut received = None;
            for frame in server.send(&chunk).unwrap() {
                received = client.receive(&frame).unwrap();
            }
            black_box(received.unwrap())
        })
    });

    let binding = SigningKey::from_bytes(&[2; 32]);
    let server_secret = [1_u8; 32];
    let server_public = *NoiseStaticKey::from_bytes(server_secret).public_key();
    let (mut bare_client, mut bare_server) = bare_handshake(
        &server_secret,
        &server_public,
        &binding,
        &binding.verifying_key().to_bytes(),
    );
    let mut frame = vec![0_u8; 65535];
    let mut opened = vec![0_u8; MESSAGE];
    group.bench_function("bare_snow", |b| {
        b.iter(|| {
            let mut at = 0;
            for piece in payload.chunks(MAX_FRAME_PLAINTEXT) {
                let n = bare_client.write_message(piece, &mut frame).unwrap();
                at += bare_server
                    .read_message(&frame[..n], &mut opened[at..])
                    .unwrap();
            }
            black_box(&opened[..at]);
        })
    });
    // The same bare snow, with the hygiene of an API that hands out buffers and erases
    // plaintext: a fresh frame per message and the opened plaintext wiped after use.
    group.bench_function("bare_snow_alloc_and_wipe", |b| {
        b.iter(|| {
            let mut at = 0;
            for piece in payload.chunks(MAX_FRAME_PLAINTEXT) {
                let mut frame = vec![0_u8; piece.len() + 16];
                let n = bare_client.write_message(piece, &mut frame).unwrap();
                at += bare_server
                    .read_message(&frame[..n], &mut opened[at..])
                    .unwrap();
            }
            black_box(&opened[..at]);
            opened.fill(0);
            black_box(&opened);
        })
    });
    group.finish();
}

criterion_group!(benches, handshake, transport);
criterion_main!(benches);
