#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The committed seeds of the `ohttp_*` fuzz targets: valid inputs for the targets' fixed keys.
//! This test checks that they are up to date; `ATTESTED_WRITE_FUZZ_SEEDS=1` rewrites them (the
//! one variable of every crate's fuzz-seed test).

#[allow(missing_docs, unreachable_pub)]
#[path = "../../../fuzz/fuzz_targets/ohttp_common.rs"]
mod ohttp_common;

use attested_ohttp::bhttp::{Message, Mode, StatusCode};
use attested_ohttp::{Suite, chunked::ChunkLimits, gateway::seal_in_chunks};
use ohttp_common::{CountingRng, EPHEMERAL, now, ring, x25519_client};

fn bhttp_request() -> Vec<u8> {
    let mut m = Message::request(
        b"GET".to_vec(),
        b"https".to_vec(),
        b"example.com".to_vec(),
        b"/".to_vec(),
    );
    m.put_header("accept", "*/*");
    let mut out = Vec::new();
    m.write_bhttp(Mode::KnownLength, &mut out).unwrap();
    out
}

fn bhttp_indeterminate_request() -> Vec<u8> {
    let mut m = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        b"whisper".to_vec(),
        b"/v1/audio/transcriptions".to_vec(),
    );
    m.put_header("content-type", "multipart/form-data; boundary=x");
    m.write_content(b"--x\r\n\r\naudio\r\n--x--\r\n");
    let mut out = Vec::new();
    m.write_bhttp(Mode::IndeterminateLength, &mut out).unwrap();
    out
}

fn bhttp_response() -> Vec<u8> {
    let mut m = Message::response(StatusCode::OK);
    m.put_header("content-type", "application/json");
    m.write_content(b"{\"text\":\"hello\"}");
    let mut out = Vec::new();
    m.write_bhttp(Mode::IndeterminateLength, &mut out).unwrap();
    out
}

fn seeds() -> Vec<(&'static str, Vec<Vec<u8>>)> {
    let ring = ring();
    let client = x25519_client(&ring).unwrap();
    let limits = ChunkLimits {
        max_chunk_len: 4096,
        max_total_len: 1 << 16,
        ..ChunkLimits::default()
    };
    let list = ring.encoded_list(now());

    let (one_shot, _) = client
        .encapsulate_with_fixed_ephemeral(&bhttp_request(), &EPHEMERAL)
        .unwrap();
    let p384_list = attested_ohttp::keys::encode_key_config_list(
        ring.advertised(now())
            .filter(|c| c.kem() != Suite::X25519_AES128GCM.kem),
    );
    let p384 = attested_ohttp::Client::from_verified(
        &attested_ohttp::client::VerifiedKeyConfigs::from_accepted(
            &p384_list,
            &Always(attested_ohttp::key_config_binding(&p384_list)),
        )
        .unwrap(),
        &attested_ohttp::client::Preference::default(),
    )
    .unwrap();
    let (p384_request, _) = p384
        .encapsulate(&bhttp_request(), &mut CountingRng(5))
        .unwrap();

    let (head, sealer, _) = client
        .encapsulate_chunked_with_fixed_ephemeral(limits, &EPHEMERAL)
        .unwrap();
    let mut chunked = vec![7u8];
    chunked.extend_from_slice(&head);
    seal_in_chunks(sealer, &bhttp_request(), 9, &mut chunked).unwrap();

    let (_, context) = ring.decapsulate(&one_shot, now()).unwrap();
    let (nonce, sealer) = context.into_azure_chunked(&mut CountingRng(9)).unwrap();
    let mut azure = vec![6u8];
    azure.extend_from_slice(&nonce);
    seal_in_chunks(sealer, &bhttp_response(), 11, &mut azure).unwrap();

    let mut decoder = attested_ohttp::chunked::ChunkedRequestDecoder::new(&ring, now(), limits);
    let mut sink = Vec::new();
    decoder.push(&chunked[1..], &mut sink).unwrap();
    let (nonce, sealer) = decoder
        .finish(&mut sink)
        .unwrap()
        .start(&mut CountingRng(10))
        .unwrap();
    let mut draft_response = vec![1u8];
    draft_response.extend_from_slice(&nonce);
    seal_in_chunks(sealer, &bhttp_response(), 5, &mut draft_response).unwrap();

    vec![
        (
            "ohttp_key_config_list",
            vec![list.clone(), list[..list.len() / 2].to_vec()],
        ),
        ("ohttp_decapsulate", vec![one_shot, p384_request]),
        ("ohttp_chunked_decapsulate", vec![chunked]),
        ("ohttp_azure_response", vec![azure, draft_response]),
        ("ohttp_bhttp", vec![bhttp_request(), bhttp_response()]),
        (
            "ohttp_inner_request",
            vec![
                [&[2u8][..], &bhttp_request()].concat(),
                [&[13u8][..], &bhttp_indeterminate_request()].concat(),
            ],
        ),
    ]
}

#[allow(non_snake_case)]
fn Always(report_data: attested_ohttp::ReportData) -> attested_ohttp::Accepted {
    attested_ohttp::Accepted::assertion(
        report_data,
        attested_ohttp::Measurements::new(),
        attested_ohttp::Workload::Any,
    )
}

#[test]
fn committed_fuzz_seeds_are_current() {
    for (target, inputs) in seeds() {
        let named: Vec<(String, Vec<u8>)> = inputs
            .into_iter()
            .enumerate()
            .map(|(i, input)| (format!("seed-{i}"), input))
            .collect();
        attested_testdata::check_or_write_fuzz_seeds(target, &named);
    }
}
