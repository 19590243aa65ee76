#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Gateway hygiene: nothing inner reaches the outer response; strict media types; limits.

mod common;

use std::io::Cursor;

use attested_ohttp::bhttp::{Message, Mode, StatusCode};
use attested_ohttp::{
    Suite, chunked::ChunkLimits, chunked::Dialect, client::PendingResponse, gateway::GatewayPolicy,
    gateway::Inbound, gateway::MEDIA_TYPE_CHUNKED_RESPONSE, gateway::MEDIA_TYPE_RESPONSE,
    gateway::OuterResponse, gateway::TargetError,
};
use common::{gateway_and_client, now, os_rng};

fn request(authority: &str) -> Vec<u8> {
    let mut m = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        authority.as_bytes().to_vec(),
        b"/v1/audio/transcriptions".to_vec(),
    );
    m.put_header("content-type", "multipart/form-data; boundary=x");
    m.write_content(b"audio bytes");
    let mut out = Vec::new();
    m.write_bhttp(Mode::KnownLength, &mut out).unwrap();
    out
}

fn secret_response() -> Message {
    let mut m = Message::response(StatusCode::try_from(404u16).unwrap());
    m.put_header("x-internal-secret", "do-not-leak");
    m.put_header("set-cookie", "session=abc");
    m.write_content(b"inner error text");
    m
}

fn open(pending: PendingResponse, outer: &OuterResponse) -> Message {
    assert_eq!(outer.status, 200);
    let inner = pending.decapsulate(&outer.body).unwrap();
    Message::read_bhttp(&mut Cursor::new(&inner[..])).unwrap()
}

fn forward(inbound: Inbound) -> Box<attested_ohttp::gateway::Forward> {
    match inbound {
        Inbound::Forward(f) => f,
        Inbound::Answer(a) => panic!("answered {a:?}"),
    }
}

fn answer(inbound: Inbound) -> OuterResponse {
    match inbound {
        Inbound::Answer(a) => a,
        Inbound::Forward(_) => panic!("forwarded"),
    }
}

#[test]
fn inner_status_headers_and_body_never_reach_the_outer_response() {
    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy::default(),
    );
    let (enc, pending) = client
        .encapsulate(&request("whisper.internal:8080"), &mut os_rng())
        .unwrap();
    let fwd = forward(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
    assert_eq!(fwd.target.path(), "/v1/audio/transcriptions");
    assert_eq!(fwd.target.authority(), "whisper.internal:8080");
    assert_eq!(fwd.content, b"audio bytes");
    let outer = fwd
        .reply
        .respond(Ok(secret_response()), &mut os_rng())
        .unwrap();
    assert_eq!(outer.status, 200);
    assert_eq!(outer.content_type, Some(MEDIA_TYPE_RESPONSE));
    for needle in [
        &b"do-not-leak"[..],
        b"session=abc",
        b"inner error text",
        b"x-internal-secret",
    ] {
        assert!(!outer.body.windows(needle.len()).any(|w| w == needle));
    }
    let inner = open(pending, &outer);
    assert_eq!(inner.control().status().map(StatusCode::code), Some(404));
    assert_eq!(
        inner.header().get(b"x-internal-secret"),
        Some(&b"do-not-leak"[..])
    );
}

#[test]
fn target_errors_and_refusals_travel_inside_the_ciphertext() {
    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy::default(),
    );
    let (enc, pending) = client
        .encapsulate(&request("whisper.internal:8080"), &mut os_rng())
        .unwrap();
    let fwd = forward(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
    let outer = fwd
        .reply
        .respond(Err(TargetError::Unavailable), &mut os_rng())
        .unwrap();
    assert_eq!(
        open(pending, &outer)
            .control()
            .status()
            .map(StatusCode::code),
        Some(502)
    );

    let (enc, pending) = client
        .encapsulate(&request("169.254.169.254"), &mut os_rng())
        .unwrap();
    let outer = answer(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
    assert_eq!(
        open(pending, &outer)
            .control()
            .status()
            .map(StatusCode::code),
        Some(403)
    );

    let (enc, pending) = client.encapsulate(b"\x05not bhttp", &mut os_rng()).unwrap();
    let outer = answer(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
    assert_eq!(
        open(pending, &outer)
            .control()
            .status()
            .map(StatusCode::code),
        Some(400)
    );
}

#[test]
fn strict_media_types_limits_and_bare_errors() {
    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy {
            max_request_len: 600,
            ..GatewayPolicy::default()
        },
    );
    let (enc, _) = client
        .encapsulate(&request("whisper.internal:8080"), &mut os_rng())
        .unwrap();
    let bare = |status| OuterResponse {
        status,
        content_type: None,
        body: Vec::new(),
    };
    for ct in [
        "message/ohttp-req; charset=utf-8",
        "application/octet-stream",
        "",
        "message/ohttp-res",
    ] {
        assert_eq!(
            answer(gw.inbound(ct, &enc, now(), &mut os_rng())),
            bare(415),
            "{ct}"
        );
    }
    assert!(matches!(
        gw.inbound("MESSAGE/OHTTP-REQ", &enc, now(), &mut os_rng()),
        Inbound::Forward(_)
    ));
    // Draft chunked requests must use the streaming decoder.
    assert_eq!(
        answer(gw.inbound("message/ohttp-chunked-req", &enc, now(), &mut os_rng())),
        bare(415)
    );
    let (big, _) = client.encapsulate(&[0u8; 700], &mut os_rng()).unwrap();
    assert_eq!(
        answer(gw.inbound("message/ohttp-req", &big, now(), &mut os_rng())),
        bare(413)
    );
    let mut tampered = enc.clone();
    *tampered.last_mut().unwrap() ^= 1;
    assert_eq!(
        answer(gw.inbound("message/ohttp-req", &tampered, now(), &mut os_rng())),
        bare(400)
    );
    assert_eq!(
        answer(gw.inbound("message/ohttp-req", b"\x01", now(), &mut os_rng())),
        bare(400)
    );
}

#[test]
fn responses_are_padded_when_asked() {
    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy {
            pad_responses_to: 256,
            ..GatewayPolicy::default()
        },
    );
    for content in [&b"short"[..], &[7u8; 300][..]] {
        let (enc, pending) = client
            .encapsulate(&request("whisper.internal:8080"), &mut os_rng())
            .unwrap();
        let fwd = forward(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
        let mut m = Message::response(StatusCode::OK);
        m.write_content(content);
        let outer = fwd.reply.respond(Ok(m), &mut os_rng()).unwrap();
        let nonce_and_tag = 32 + 16;
        assert_eq!((outer.body.len() - nonce_and_tag) % 256, 0);
        assert_eq!(open(pending, &outer).content(), content);
    }
}

#[test]
fn azure_and_draft_chunked_requests_through_the_gateway() {
    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy {
            chunked_dialect: Dialect::Azure,
            response_chunk_len: 10,
            ..GatewayPolicy::default()
        },
    );
    let (enc, pending) = client
        .encapsulate(&request("whisper.internal:8080"), &mut os_rng())
        .unwrap();
    let fwd = forward(gw.inbound("message/ohttp-chunked-req", &enc, now(), &mut os_rng()));
    let mut m = Message::response(StatusCode::OK);
    m.write_content(b"{\"text\": \"a transcript longer than one chunk\"}");
    let outer = fwd.reply.respond(Ok(m), &mut os_rng()).unwrap();
    assert_eq!(outer.content_type, Some(MEDIA_TYPE_CHUNKED_RESPONSE));
    let mut decoder = pending.into_azure_chunked(ChunkLimits::default());
    let mut inner = Vec::new();
    decoder.push(&outer.body, &mut inner).unwrap();
    decoder.finish(&mut inner).unwrap();
    let inner = Message::read_bhttp(&mut Cursor::new(&inner[..])).unwrap();
    assert_eq!(
        inner.content(),
        b"{\"text\": \"a transcript longer than one chunk\"}"
    );

    let (gw, client) = gateway_and_client(
        Suite::P384_AES256GCM,
        "whisper.internal:8080",
        GatewayPolicy::default(),
    );
    assert!(gw.chunked_decoder("message/ohttp-req", now()).is_err());
    let mut decoder = gw
        .chunked_decoder("message/ohttp-chunked-req", now())
        .unwrap();
    let (head, sealer, mut response_decoder) = client
        .encapsulate_chunked(ChunkLimits::default(), &mut os_rng())
        .unwrap();
    let mut wire = head;
    attested_ohttp::gateway::seal_in_chunks(
        sealer,
        &request("whisper.internal:8080"),
        7,
        &mut wire,
    )
    .unwrap();
    let mut inner = Vec::new();
    decoder.push(&wire, &mut inner).unwrap();
    let context = decoder.finish(&mut inner).unwrap();
    let fwd = forward(gw.inbound_chunked(&inner, context, now(), &mut os_rng()));
    let outer = fwd
        .reply
        .respond(Ok(secret_response()), &mut os_rng())
        .unwrap();
    assert_eq!(outer.content_type, Some(MEDIA_TYPE_CHUNKED_RESPONSE));
    let mut inner = Vec::new();
    response_decoder.push(&outer.body, &mut inner).unwrap();
    response_decoder.finish(&mut inner).unwrap();
    let inner = Message::read_bhttp(&mut Cursor::new(&inner[..])).unwrap();
    assert_eq!(inner.control().status().map(StatusCode::code), Some(404));
}
