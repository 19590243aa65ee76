#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]
//! Binary HTTP in pieces: the incremental request decoder against the `bhttp` crate's
//! encoder, the indeterminate-length encoder against its decoder, and a streamed chunked
//! exchange through the gateway core.

mod common;

use std::io::Cursor;

use attested_ohttp::bhttp::{Message, Mode, StatusCode};
use attested_ohttp::{
    Error, Suite, chunked::ChunkLimits, chunked::Dialect, gateway::GatewayPolicy, gateway::Inbound,
    gateway::MEDIA_TYPE_CHUNKED_REQUEST, gateway::MEDIA_TYPE_REQUEST, gateway::Reply,
    gateway::seal_in_chunks, message::InnerRequestDecoder, message::encode_content_chunk,
    message::encode_content_end, message::encode_request_head,
};
use common::{gateway_and_client, now, os_rng};

const MAX_SECTION: usize = 4096;

fn sample(content: &[u8]) -> Message {
    let mut m = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        b"whisper".to_vec(),
        b"/v1/audio/transcriptions".to_vec(),
    );
    m.put_header("content-type", "multipart/form-data; boundary=x");
    m.put_header("x-long", "v".repeat(300));
    m.write_content(content);
    m
}

fn encoded(m: &Message, mode: Mode) -> Vec<u8> {
    let mut out = Vec::new();
    m.write_bhttp(mode, &mut out).unwrap();
    out
}

/// Decodes `wire` fed in pieces of `step` bytes; returns the head and the content.
fn decode_in_steps(wire: &[u8], step: usize) -> Result<(Message, Vec<u8>), Error> {
    let mut decoder = InnerRequestDecoder::new(MAX_SECTION);
    let mut content = Vec::new();
    let mut head = None;
    for piece in wire.chunks(step) {
        decoder.push(piece, &mut content)?;
        if let Some(h) = decoder.take_head() {
            assert!(head.is_none(), "the head is handed out once");
            head = Some(h);
        }
    }
    decoder.finish()?;
    Ok((head.expect("a complete request has a head"), content))
}

fn assert_same_head(head: &Message, expected: &Message) {
    assert_eq!(head.control().method(), expected.control().method());
    assert_eq!(head.control().scheme(), expected.control().scheme());
    assert_eq!(head.control().authority(), expected.control().authority());
    assert_eq!(head.control().path(), expected.control().path());
    let fields = |m: &Message| {
        m.header()
            .fields()
            .iter()
            .map(|f| (f.name().to_vec(), f.value().to_vec()))
            .collect::<Vec<_>>()
    };
    assert_eq!(fields(head), fields(expected));
}

#[test]
fn requests_the_bhttp_crate_writes_decode_in_any_split() {
    let content: Vec<u8> = (0..1000u32).map(|i| (i * 31 % 256) as u8).collect();
    for m in [sample(&content), sample(b"")] {
        for mode in [Mode::KnownLength, Mode::IndeterminateLength] {
            let wire = encoded(&m, mode);
            for step in [1, 2, 3, 7, 64, 333, wire.len()] {
                let (head, got) = decode_in_steps(&wire, step).unwrap();
                assert_same_head(&head, &m);
                assert!(head.content().is_empty());
                assert_eq!(got, m.content(), "{mode:?} step {step}");
            }
            // Zero padding is accepted; anything else after the message is not.
            let mut padded = wire.clone();
            padded.extend_from_slice(&[0; 17]);
            assert!(decode_in_steps(&padded, 5).is_ok());
            padded.push(1);
            assert!(matches!(decode_in_steps(&padded, 5), Err(Error::Bhttp(_))));
        }
    }
}

#[test]
fn the_indeterminate_encoder_is_read_back_by_the_bhttp_crate() {
    let m = sample(b"abc");
    let mut wire = Vec::new();
    let fields: Vec<(&[u8], &[u8])> = m
        .header()
        .fields()
        .iter()
        .map(|f| (f.name(), f.value()))
        .collect();
    encode_request_head(
        b"POST",
        b"https",
        b"whisper",
        b"/v1/audio/transcriptions",
        fields,
        &mut wire,
    );
    for piece in [&b"a"[..], b"", b"bc"] {
        encode_content_chunk(piece, &mut wire);
    }
    encode_content_end(&mut wire);
    let read = Message::read_bhttp(&mut Cursor::new(&wire[..])).unwrap();
    assert_same_head(&read, &m);
    assert_eq!(read.content(), b"abc");
    let (head, content) = decode_in_steps(&wire, 3).unwrap();
    assert_same_head(&head, &m);
    assert_eq!(content, b"abc");
}

#[test]
fn truncated_requests_are_refused_where_rfc_9292_forbids_it() {
    let m = sample(b"0123456789");
    let wire = encoded(&m, Mode::IndeterminateLength);
    let head_len = {
        let mut decoder = InnerRequestDecoder::new(MAX_SECTION);
        (1..wire.len())
            .find(|&cut| {
                decoder = InnerRequestDecoder::new(MAX_SECTION);
                decoder.push(&wire[..cut], &mut Vec::new()).unwrap();
                decoder.take_head().is_some()
            })
            .unwrap()
    };
    for cut in 0..wire.len() {
        let mut decoder = InnerRequestDecoder::new(MAX_SECTION);
        decoder.push(&wire[..cut], &mut Vec::new()).unwrap();
        let result = decoder.finish();
        // Ending right after the head means empty content and no trailer, right after the
        // content terminator an omitted (empty) trailer; any other cut loses part of the
        // head or of the content.
        if cut == head_len || cut == wire.len() - 1 {
            assert!(result.is_ok(), "cut {cut}");
        } else {
            assert!(
                matches!(result, Err(Error::Truncated { .. })),
                "cut {cut}: {result:?}"
            );
        }
    }
}

#[test]
fn oversized_heads_and_response_framing_are_refused() {
    let mut big = sample(b"x");
    big.put_header("x-huge", "h".repeat(MAX_SECTION));
    for mode in [Mode::KnownLength, Mode::IndeterminateLength] {
        let wire = encoded(&big, mode);
        for step in [1, 100, wire.len()] {
            assert!(
                matches!(
                    decode_in_steps(&wire, step),
                    Err(Error::LimitExceeded { .. })
                ),
                "{mode:?} step {step}"
            );
        }
    }
    // A field name claiming 2^30 bytes is refused at once, not waited for.
    let mut wire = Vec::new();
    encode_request_head(b"GET", b"https", b"w", b"/", [], &mut wire);
    let fields_at = wire.len() - 1;
    wire.truncate(fields_at);
    wire.extend_from_slice(&[0xbf, 0xff, 0xff, 0xff]);
    let mut decoder = InnerRequestDecoder::new(MAX_SECTION);
    assert!(matches!(
        decoder.push(&wire, &mut Vec::new()),
        Err(Error::LimitExceeded { .. })
    ));
    let response = encoded(
        &Message::response(StatusCode::try_from(200u16).unwrap()),
        Mode::IndeterminateLength,
    );
    let mut decoder = InnerRequestDecoder::new(MAX_SECTION);
    assert!(matches!(
        decoder.push(&response, &mut Vec::new()),
        Err(Error::Bhttp(_))
    ));
}

/// Streams `answer` as the reply's content in pieces of 30 bytes; returns the outer body.
fn stream_answer(reply: Reply, answer: &[u8]) -> Vec<u8> {
    assert!(reply.streams());
    let (mut outer, mut stream) = reply
        .stream(
            200,
            [(&b"content-type"[..], &b"application/json"[..])],
            &mut os_rng(),
        )
        .unwrap();
    for piece in answer.chunks(30) {
        stream.push(piece, &mut outer).unwrap();
    }
    stream.finish(&mut outer).unwrap();
    outer
}

fn assert_answer(response: &[u8], answer: &[u8]) {
    let message = Message::read_bhttp(&mut Cursor::new(response)).unwrap();
    assert_eq!(message.control().status().map(StatusCode::code), Some(200));
    assert_eq!(
        message.header().get(b"content-type"),
        Some(&b"application/json"[..])
    );
    assert_eq!(message.content(), answer);
}

const ANSWER: &[u8] =
    b"{\"text\": \"a transcript several response chunks long, and then some more\"}";

#[test]
fn a_streamed_chunked_exchange_holds_one_chunk_at_a_time() {
    let (gateway, client) = gateway_and_client(
        Suite::X25519_AES128GCM,
        "whisper",
        GatewayPolicy {
            response_chunk_len: 100,
            pad_responses_to: 64,
            ..GatewayPolicy::default()
        },
    );

    let content: Vec<u8> = (0..50_000u32).map(|i| (i % 253) as u8).collect();
    let (mut wire, sealer, mut response_decoder) = client
        .encapsulate_chunked(ChunkLimits::default(), &mut os_rng())
        .unwrap();
    seal_in_chunks(
        sealer,
        &encoded(&sample(&content), Mode::IndeterminateLength),
        1000,
        &mut wire,
    )
    .unwrap();

    let mut decoder = gateway
        .chunked_decoder("message/ohttp-chunked-req", now())
        .unwrap();
    let mut inner = gateway.inner_decoder();
    let (mut plain, mut received) = (Vec::new(), Vec::new());
    let mut head = None;
    for frame in wire.chunks(4096) {
        decoder.push(frame, &mut plain).unwrap();
        inner.push(&plain, &mut received).unwrap();
        plain.clear();
        head = head.or_else(|| inner.take_head());
        // At most one frame and one sealed chunk in progress.
        assert!(
            decoder.buffered() <= 4096 + 2 * 1024,
            "{}",
            decoder.buffered()
        );
    }
    let context = decoder.finish(&mut plain).unwrap();
    inner.push(&plain, &mut received).unwrap();
    inner.finish().unwrap();
    assert_eq!(received, content);
    let head = head.unwrap();
    assert!(gateway.admit(&head, now()).is_ok());
    let other = Message::request(
        b"GET".to_vec(),
        b"https".to_vec(),
        b"evil".to_vec(),
        b"/".to_vec(),
    );
    assert_eq!(
        gateway.admit(&other, now()),
        Err(attested_ohttp::gateway::Refusal::Status(403))
    );

    let outer = stream_answer(gateway.chunked_reply(context), ANSWER);
    let mut response = Vec::new();
    response_decoder.push(&outer, &mut response).unwrap();
    response_decoder.finish(&mut response).unwrap();
    assert_eq!(response.len() % 64, 0, "padded to the policy's multiple");
    assert_answer(&response, ANSWER);
}

#[test]
fn azure_replies_stream_and_one_shot_replies_do_not() {
    let request = encoded(&sample(b"audio"), Mode::KnownLength);
    for (dialect, content_type) in [
        (Dialect::Azure, MEDIA_TYPE_CHUNKED_REQUEST),
        (Dialect::Draft, MEDIA_TYPE_REQUEST),
    ] {
        let (gateway, client) = gateway_and_client(
            Suite::X25519_AES128GCM,
            "whisper",
            GatewayPolicy {
                chunked_dialect: dialect,
                ..GatewayPolicy::default()
            },
        );
        let (enc, pending) = client.encapsulate(&request, &mut os_rng()).unwrap();
        let Inbound::Forward(forward) = gateway.inbound(content_type, &enc, now(), &mut os_rng())
        else {
            panic!("{dialect:?} request not forwarded");
        };
        assert_eq!(forward.content, b"audio");
        if dialect == Dialect::Draft {
            assert!(!forward.reply.streams());
            assert!(matches!(
                forward.reply.stream(200, [], &mut os_rng()),
                Err(Error::State(_))
            ));
            continue;
        }
        let outer = stream_answer(forward.reply, ANSWER);
        let mut decoder = pending.into_azure_chunked(ChunkLimits::default());
        let mut response = Vec::new();
        decoder.push(&outer, &mut response).unwrap();
        decoder.finish(&mut response).unwrap();
        assert_answer(&response, ANSWER);
    }
}

/// The fuzz target's property over byte mutations of valid requests: no panic, and whatever
/// both this decoder and the `bhttp` crate accept, they read alike.
#[test]
fn mutated_requests_read_alike_wherever_both_decoders_accept() {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let (mut accepted, mut compared) = (0, 0);
    for mode in [Mode::KnownLength, Mode::IndeterminateLength] {
        let wire = encoded(&sample(b"--x\r\n\r\naudio\r\n--x--\r\n"), mode);
        for _ in 0..3000 {
            let mut input = wire.clone();
            for _ in 0..=(next() % 3) {
                let at = (next() % input.len() as u64) as usize;
                input[at] = (next() % 256) as u8;
            }
            input.truncate(input.len() - (next() % 4) as usize);
            let step = (next() % 64) as usize + 1;
            let Ok((head, content)) = decode_in_steps(&input, step) else {
                continue;
            };
            accepted += 1;
            if let Ok(whole) = Message::read_bhttp(&mut Cursor::new(&input[..])) {
                compared += 1;
                assert_eq!(whole.content(), &content[..]);
                assert_eq!(whole.control().method(), head.control().method());
                assert_eq!(whole.control().path(), head.control().path());
            }
        }
    }
    assert!(
        compared > 0 && accepted >= compared,
        "{accepted} {compared}"
    );
}
