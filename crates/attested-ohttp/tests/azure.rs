#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Microsoft's Azure answer: the framing as microsoft/ohttp `ohttp/src/lib.rs` (6347bf9) writes
//! it, parsed here by hand; its first chunk opened by the independent `ohttp` crate; the
//! raw-body decoder's edge cases; and what the gateway reads from Microsoft's clients.

mod common;

use attested_ohttp::{
    Error, Suite, azure::AZURE_ERROR_TEXT_MAX, azure::AnswerDialect, azure::AzureInnerRules,
    azure::AzureTarget, azure::azure_copies_response_header, azure::azure_request_id,
    azure::azure_streams_target_answer, azure::header_ignore_case, chunked::ChunkLimits,
    gateway::OuterResponse, gateway::TargetError,
};
use common::{now, os_rng, ring_and_client};

/// Reads a LEB128 length as microsoft/ohttp's `variant_decode` does (`ohttp/src/lib.rs:450-469`).
fn leb128(buf: &[u8]) -> (usize, usize) {
    let (mut value, mut shift) = (0usize, 0);
    for (i, b) in buf.iter().enumerate() {
        value |= usize::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return (value, i + 1);
        }
        shift += 7;
    }
    panic!("incomplete LEB128");
}

/// Splits Microsoft's chunked answer into its parts: nonce, non-final chunks, final chunk.
fn split_answer(body: &[u8], nonce_len: usize) -> (&[u8], Vec<&[u8]>, Option<&[u8]>) {
    let (nonce, mut rest) = body.split_at(nonce_len);
    let mut chunks = Vec::new();
    while !rest.is_empty() {
        let (len, used) = leb128(rest);
        if len == 0 {
            let (len, used2) = leb128(&rest[used..]);
            let start = used + used2;
            assert_eq!(rest.len(), start + len, "the final chunk ends the body");
            return (nonce, chunks, Some(&rest[start..]));
        }
        chunks.push(&rest[used..used + len]);
        rest = &rest[used + len..];
    }
    (nonce, chunks, None)
}

#[test]
fn answer_framing_matches_microsofts_and_its_first_chunk_opens_with_the_ohttp_crate() {
    // The independent `ohttp` crate as the client: Microsoft's first chunk (sequence 0, empty
    // AAD) after the nonce is exactly an RFC 9458 response, so `ohttp` must open it.
    let (ring, _) = ring_and_client(Suite::X25519_AES128GCM);
    let list = ring.encoded_list(now());
    let their_client = ohttp::ClientRequest::from_encoded_config_list(&list).unwrap();
    let (request, their_pending) = their_client.encapsulate(b"inner").unwrap();
    let (inner, ctx) = ring.decapsulate(&request, now()).unwrap();
    assert_eq!(inner, b"inner");

    let first = vec![b'a'; 300]; // 316 sealed bytes: a two-byte LEB128 length
    let (mut body, mut sealer) = ctx.into_azure_answer(300, &mut os_rng()).unwrap();
    sealer.push(&first, &mut body).unwrap();
    sealer.push(b"{\"text\":\"hi\"}", &mut body).unwrap();
    sealer.finish(&mut body).unwrap();

    // Nonce: max(Nn, Nk) = 16 bytes for AES-128-GCM (`ohttp/src/lib.rs:227-229`).
    let (nonce, chunks, last) = split_answer(&body, 16);
    assert_eq!(body[16..18], [0xbc, 0x02], "316 as LEB128");
    assert_eq!(chunks.len(), 2);
    assert_eq!(chunks[0].len(), 316);
    assert_eq!(
        last.unwrap().len(),
        16,
        "an empty final chunk is the tag alone"
    );
    let opened = their_pending
        .decapsulate(&[nonce, chunks[0]].concat())
        .unwrap();
    assert_eq!(opened, first);
}

fn answer(
    suite: Suite,
    pieces: &[&[u8]],
    finish: bool,
) -> (Vec<u8>, attested_ohttp::client::PendingResponse) {
    let (ring, client) = ring_and_client(suite);
    let (request, pending) = client.encapsulate(b"req", &mut os_rng()).unwrap();
    let (_, ctx) = ring.decapsulate(&request, now()).unwrap();
    let (mut body, mut sealer) = ctx.into_azure_answer(1000, &mut os_rng()).unwrap();
    for p in pieces {
        sealer.push(p, &mut body).unwrap();
    }
    if finish {
        sealer.finish(&mut body).unwrap();
    }
    (body, pending)
}

fn decode_in_pieces(
    pending: attested_ohttp::client::PendingResponse,
    body: &[u8],
    step: usize,
) -> Result<Vec<u8>, Error> {
    let mut decoder = pending.into_azure_answer(200, ChunkLimits::default());
    assert_eq!(decoder.status(), 200);
    let mut out = Vec::new();
    for piece in body.chunks(step) {
        decoder.push(piece, &mut out)?;
    }
    decoder.finish(&mut out)?;
    Ok(out)
}

#[test]
fn raw_body_round_trips_in_any_read_size_p384() {
    let transcript: &[u8] = b"{\"text\": \"And so my fellow Americans\"}";
    for step in [1, 7, 64, 10_000] {
        let big = vec![7u8; 2500];
        let (body, pending) = answer(Suite::P384_AES256GCM, &[transcript, &big], true);
        // 32-byte nonce for AES-256-GCM; 2500 bytes in chunks of 1000.
        let (_, chunks, last) = split_answer(&body, 32);
        assert_eq!(chunks.len(), 4);
        assert!(last.is_some());
        assert_eq!(
            decode_in_pieces(pending, &body, step).unwrap(),
            [transcript, &big[..]].concat()
        );
    }
}

#[test]
fn a_nonce_alone_is_an_empty_body_and_a_cut_after_a_chunk_is_refused() {
    // Microsoft's server sends the nonce alone for an empty target body
    // (`ohttp/src/lib.rs:333-334`).
    let (body, pending) = answer(Suite::P384_AES256GCM, &[], false);
    assert_eq!(body.len(), 32);
    assert_eq!(decode_in_pieces(pending, &body, 5).unwrap(), b"");
    // Ours sends an empty final chunk; also an empty body.
    let (body, pending) = answer(Suite::P384_AES256GCM, &[], true);
    assert_eq!(decode_in_pieces(pending, &body, 5).unwrap(), b"");
    // A body cut after a chunk (no final chunk) is refused, as is a part-nonce.
    let (body, pending) = answer(Suite::P384_AES256GCM, &[b"partial"], false);
    assert!(matches!(
        decode_in_pieces(pending, &body, 3),
        Err(Error::Truncated { .. })
    ));
    let (body, pending) = answer(Suite::P384_AES256GCM, &[b"x"], true);
    assert!(matches!(
        decode_in_pieces(pending, &body[..20], 3),
        Err(Error::Truncated { .. })
    ));
    // Data after the final chunk, and a flipped ciphertext bit, are refused.
    let (mut body, pending) = answer(Suite::P384_AES256GCM, &[b"x"], true);
    body.push(0);
    assert!(decode_in_pieces(pending, &body, 4).is_err());
    let (mut body, pending) = answer(Suite::P384_AES256GCM, &[b"x"], true);
    body[34] ^= 1;
    assert!(decode_in_pieces(pending, &body, 4).is_err());
}

#[test]
fn an_error_answer_is_one_sealed_final_chunk_of_the_error_text() {
    let (ring, client) = ring_and_client(Suite::P384_AES256GCM);
    let (request, pending) = client.encapsulate(b"req", &mut os_rng()).unwrap();
    let (_, ctx) = ring.decapsulate(&request, now()).unwrap();
    let body = ctx
        .azure_error_body(b"model not loaded", &mut os_rng())
        .unwrap();
    let (_, chunks, last) = split_answer(&body, 32);
    assert!(chunks.is_empty());
    assert_eq!(last.unwrap().len(), 16 + 16);
    let mut decoder = pending.into_azure_answer(503, ChunkLimits::default());
    assert_eq!(decoder.status(), 503);
    let mut out = Vec::new();
    decoder.push(&body, &mut out).unwrap();
    decoder.finish(&mut out).unwrap();
    assert_eq!(out, b"model not loaded");
}

/// Opens a whole Azure error answer as Microsoft's clients do: the outer status, then the
/// one sealed chunk.
fn open_error_answer(
    suite: Suite,
    seal: impl FnOnce(attested_ohttp::gateway::ResponseContext) -> OuterResponse,
) -> (OuterResponse, Vec<u8>) {
    let (ring, client) = ring_and_client(suite);
    let (request, pending) = client.encapsulate(b"req", &mut os_rng()).unwrap();
    let (_, ctx) = ring.decapsulate(&request, now()).unwrap();
    let answer = seal(ctx);
    let limits = ChunkLimits {
        max_total_len: 1 << 20,
        ..ChunkLimits::default()
    };
    let mut decoder = pending.into_azure_answer(answer.status, limits);
    let mut text = Vec::new();
    decoder.push(&answer.body, &mut text).unwrap();
    decoder.finish(&mut text).unwrap();
    (answer, text)
}

#[test]
fn a_targets_endless_error_text_costs_the_gateway_at_most_the_cap() {
    // The attack: a target (or whoever answers for it) sends a 4 MiB error page; the gateway
    // seals only the first AZURE_ERROR_TEXT_MAX bytes, so a client never receives more.
    let page = vec![b'x'; 4 << 20];
    let (answer, text) = open_error_answer(Suite::P384_AES256GCM, |ctx| {
        ctx.azure_target_error(503, &page, &mut os_rng()).unwrap()
    });
    assert_eq!(answer.status, 503);
    assert_eq!(text.len(), AZURE_ERROR_TEXT_MAX);
    assert!(
        answer.body.len() < AZURE_ERROR_TEXT_MAX + 100,
        "{}",
        answer.body.len()
    );
    assert_eq!(
        answer.fields().collect::<Vec<_>>(),
        [("cache-control", "no-store")],
        "no target field and no media type on an error answer"
    );
    // A status no HTTP stack can send becomes 502.
    let (answer, text) = open_error_answer(Suite::X25519_AES128GCM, |ctx| {
        ctx.azure_target_error(1000, b"odd", &mut os_rng()).unwrap()
    });
    assert_eq!((answer.status, &text[..]), (502, &b"odd"[..]));
}

#[test]
fn a_target_that_gave_no_answer_is_504_or_502_with_a_fixed_text() {
    for (error, status) in [
        (TargetError::Timeout, 504),
        (TargetError::Unavailable, 502),
        (TargetError::TooLarge, 502),
    ] {
        let (answer, text) = open_error_answer(Suite::P384_AES256GCM, |ctx| {
            ctx.azure_target_failed(error, &mut os_rng()).unwrap()
        });
        assert_eq!(answer.status, status, "{error:?}");
        assert!(text.starts_with(b"the target"), "{error:?}");
    }
    let (answer, text) = open_error_answer(Suite::P384_AES256GCM, |ctx| {
        ctx.azure_refused(403, &mut os_rng()).unwrap()
    });
    assert_eq!(
        (answer.status, &text[..]),
        (403, &b"the gateway refused the request"[..])
    );
    assert!(azure_streams_target_answer(200) && azure_streams_target_answer(299));
    assert!(!azure_streams_target_answer(199) && !azure_streams_target_answer(300));
}

#[test]
fn the_answer_decoder_is_bounded_by_its_limits() {
    let big = vec![1u8; 900];
    let (body, pending) = answer(Suite::P384_AES256GCM, &[&big], true);
    let limits = ChunkLimits {
        max_total_len: 899,
        ..ChunkLimits::default()
    };
    let mut decoder = pending.into_azure_answer(200, limits);
    let mut out = Vec::new();
    assert!(matches!(
        decoder.push(&body, &mut out),
        Err(Error::LimitExceeded { .. })
    ));
}

#[test]
fn response_headers_are_filtered_as_microsofts_server_does_and_hop_by_hop_too() {
    for dropped in [
        "content-type",
        "Content-Type",
        "CONTENT-LENGTH",
        "Transfer-Encoding",
        "connection",
        "Keep-Alive",
        "upgrade",
    ] {
        assert!(!azure_copies_response_header(dropped), "{dropped}");
    }
    for kept in [
        "x-request-id",
        "X-Ms-Region",
        "openai-model",
        "date",
        "server",
    ] {
        assert!(azure_copies_response_header(kept), "{kept}");
    }
    assert_eq!(AnswerDialect::default(), AnswerDialect::BinaryHttp);
}

#[test]
fn request_ids_are_echoed_only_in_uuid_form() {
    let id = b"0f8fad5b-d9cb-469f-a165-70867728950e";
    assert_eq!(
        azure_request_id(Some(id), None, &mut os_rng()),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    assert_eq!(
        azure_request_id(
            Some(b"x\r\nSet-Cookie: a"),
            Some(b"0F8FAD5B-D9CB-469F-A165-70867728950E"),
            &mut os_rng()
        ),
        "0f8fad5b-d9cb-469f-a165-70867728950e"
    );
    let fresh = azure_request_id(Some(b"not a uuid"), None, &mut os_rng());
    assert_eq!(fresh.len(), 36);
    assert_eq!(&fresh[14..15], "4", "version 4");
    assert_ne!(fresh, azure_request_id(None, None, &mut os_rng()));
}

fn rules() -> AzureInnerRules {
    AzureInnerRules {
        default_authority: "whisper:8000".into(),
        default_path: "/v1/audio/transcriptions".into(),
        allowed_engine_targets: vec!["/v1/audio/transcriptions".into(), "/score".into()],
    }
}

/// An inner request as Microsoft's client builds it: HTTP/1.1 text in origin form, header
/// names as typed (`ohttp-client/src/lib.rs:45-48`, `114-121`), read by `bhttp`.
fn microsoft_style(text: &str) -> attested_ohttp::bhttp::Message {
    let (line, headers) = text.split_once("\r\n").unwrap();
    let path = line.split(' ').nth(1).unwrap();
    let mut m = attested_ohttp::bhttp::Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        Vec::new(),
        path.as_bytes().to_vec(),
    );
    for h in headers.split("\r\n").filter(|h| !h.is_empty()) {
        let (n, v) = h.split_once(": ").unwrap();
        m.put_header(n.as_bytes().to_vec(), v.as_bytes().to_vec());
    }
    m
}

#[test]
fn inner_requests_from_microsofts_clients_are_resolved() {
    let target = |authority: &str, path: &str| AzureTarget {
        authority: authority.into(),
        path: path.into(),
    };
    // pyohttp: path `/`, no authority, no Host → the defaults.
    let m = microsoft_style("POST / HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n");
    assert_eq!(
        rules().resolve(&m, None),
        Ok(target("whisper:8000", "/v1/audio/transcriptions"))
    );
    // A `Host` field in any case names the authority.
    let m = microsoft_style("POST /v1/audio/translations HTTP/1.1\r\nHost: whisper:8000\r\n");
    assert_eq!(header_ignore_case(&m, "host"), Some(&b"whisper:8000"[..]));
    assert_eq!(
        rules().resolve(&m, None),
        Ok(target("whisper:8000", "/v1/audio/translations"))
    );
    // `enginetarget` only when it names an allowed path.
    assert_eq!(
        rules().resolve(&m, Some(b"/score")),
        Ok(target("whisper:8000", "/score"))
    );
    assert_eq!(rules().resolve(&m, Some(b"/admin")), Err(403));
    // Not origin form, or a response, is refused.
    let m = microsoft_style("POST http://evil/ HTTP/1.1\r\n");
    assert_eq!(rules().resolve(&m, None), Err(400));
    let response = attested_ohttp::bhttp::Message::response(
        attested_ohttp::bhttp::StatusCode::try_from(200u16).unwrap(),
    );
    assert_eq!(rules().resolve(&response, None), Err(400));
}

/// `Gateway::inbound_azure`: Microsoft's inner request resolved by the rules, then admitted
/// as any other; the allow-list, origin form, the size limit and the replay window hold.
#[test]
fn the_gateway_admits_microsofts_requests_under_its_ordinary_rules() {
    use attested_ohttp::{azure::AzureInbound, gateway::GatewayPolicy};
    let (gateway, client) = common::gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper:8000",
        GatewayPolicy::default(),
    );
    let seal = |m: &attested_ohttp::bhttp::Message| {
        let mut inner = Vec::new();
        m.write_bhttp(attested_ohttp::bhttp::Mode::KnownLength, &mut inner)
            .unwrap();
        client.encapsulate(&inner, &mut os_rng()).unwrap().0
    };
    let status = |inbound: AzureInbound| match inbound {
        AzureInbound::Forward(f) => (200, f.target.path().to_owned()),
        AzureInbound::Refuse { status, .. } => (status, String::new()),
        AzureInbound::Answer(o) => (o.status, "clear".to_owned()),
    };
    // pyohttp's request: path `/`, no authority → the defaults, admitted.
    let request = seal(&microsoft_style(
        "POST / HTTP/1.1\r\nContent-Type: text/plain\r\n",
    ));
    assert_eq!(
        status(gateway.inbound_azure(&request, None, &rules(), now())),
        (200, "/v1/audio/transcriptions".to_owned())
    );
    // The same bytes again: a replay, refused in clear.
    assert_eq!(
        status(gateway.inbound_azure(&request, None, &rules(), now())),
        (400, "clear".to_owned())
    );
    // `enginetarget` outside the allowed paths, a Host outside the allow-list, a Host that
    // disagrees with the inner authority, and an inner path that would leave origin form.
    let m = microsoft_style("POST / HTTP/1.1\r\n");
    assert_eq!(
        status(gateway.inbound_azure(seal(&m), Some(b"/admin"), &rules(), now())).0,
        403
    );
    let m = microsoft_style("POST / HTTP/1.1\r\nHOST: 169.254.169.254\r\n");
    assert_eq!(
        status(gateway.inbound_azure(seal(&m), None, &rules(), now())).0,
        403
    );
    let mut m = attested_ohttp::bhttp::Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        b"whisper:8000".to_vec(),
        b"/".to_vec(),
    );
    m.put_header("Host", "evil");
    assert_eq!(
        status(gateway.inbound_azure(seal(&m), None, &rules(), now())).0,
        400
    );
    let m = microsoft_style("POST @169.254.169.254/latest HTTP/1.1\r\n");
    assert_eq!(
        status(gateway.inbound_azure(seal(&m), None, &rules(), now())).0,
        400
    );
    // Over the size limit: refused before decryption.
    let big = vec![0u8; GatewayPolicy::default().max_request_len + 1];
    assert_eq!(
        status(gateway.inbound_azure(&big, None, &rules(), now())),
        (413, "clear".to_owned())
    );
}

/// Issue 14's field floods sent to `/score`: refused with 413 by the same bounded decoder
/// before the rules or the allow-list see the head, never forwarded.
#[test]
fn a_field_flood_to_score_is_refused_by_the_inner_limits() {
    use attested_ohttp::{azure::AzureInbound, gateway::GatewayPolicy};
    let (gateway, client) = common::gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper:8000",
        GatewayPolicy {
            max_request_len: 8 << 20,
            ..GatewayPolicy::default()
        },
    );
    let mut many = microsoft_style("POST / HTTP/1.1\r\n");
    for i in 0..129 {
        many.put_header(format!("x{i}"), "v");
    }
    let mut many_bytes = Vec::new();
    many.write_bhttp(attested_ohttp::bhttp::Mode::KnownLength, &mut many_bytes)
        .unwrap();
    for inner in [many_bytes, common::field_flood(2_000_000)] {
        let (request, _) = client.encapsulate(&inner, &mut os_rng()).unwrap();
        match gateway.inbound_azure(&request, None, &rules(), now()) {
            AzureInbound::Refuse { status, .. } => assert_eq!(status, 413),
            AzureInbound::Forward(f) => panic!("forwarded to {}", f.target.path()),
            AzureInbound::Answer(o) => panic!("answered in clear: {o:?}"),
        }
    }
}
