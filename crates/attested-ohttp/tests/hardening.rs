#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! The gateway core against the attacks of issue 14: SSRF through the inner path, memory
//! amplification through header fields, replays, and a gateway whose only key expires.

mod common;

use std::io::Cursor;
use std::time::Duration;

use attested_ohttp::UnixTime;

use attested_ohttp::bhttp::{Message, Mode, StatusCode};
use attested_ohttp::{
    Client, Gateway, KeyRing, Suite,
    chunked::{ChunkLimits, ChunkedResponseDecoder},
    client::{PendingResponse, date_problem},
    gateway::{
        Finished, GatewayPolicy, Inbound, OuterResponse, PROBLEM_TYPE_OHTTP_KEY, ReplayLimits,
        seal_in_chunks,
    },
    key_config_binding,
    keys::Rotation,
};
use common::{TestEvidence, field_flood, gateway_and_client, now, os_rng};

fn request(authority: &str, path: &[u8], fields: &[(&str, &str)]) -> Vec<u8> {
    let mut m = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        authority.as_bytes().to_vec(),
        path.to_vec(),
    );
    for (n, v) in fields {
        m.put_header(*n, *v);
    }
    m.write_content(b"audio");
    let mut out = Vec::new();
    m.write_bhttp(Mode::KnownLength, &mut out).unwrap();
    out
}

fn inner_status(pending: PendingResponse, outer: &OuterResponse) -> u16 {
    status_of(&inner_response(pending, outer))
}

fn inner_response(pending: PendingResponse, outer: &OuterResponse) -> Message {
    assert_eq!(outer.status, 200, "{outer:?}");
    let inner = pending.decapsulate(&outer.body).unwrap();
    Message::read_bhttp(&mut Cursor::new(&inner[..])).unwrap()
}

fn status_of(m: &Message) -> u16 {
    m.control().status().map(StatusCode::code).unwrap()
}

/// How a draft chunked request fared through [`Gateway::streamed`], driven frame by frame
/// as the example gateway drives it.
struct Streamed {
    /// Whether the admitted target was handed out (the example would connect to it).
    target_taken: bool,
    /// How many content bytes were handed out for the target.
    content_handed_out: usize,
    /// The gateway's answer, when it answers at once (refused, or the request was whole
    /// before its head could be taken); `None` when the target's answer would stream.
    answer: Option<Message>,
}

/// Sends `inner` as a draft chunked request sealed in 16 KiB chunks, pushed in frames of
/// `frame_len` bytes, at `at`.
fn stream_through(gw: &Gateway, client: &Client, inner: &[u8], at: UnixTime) -> Streamed {
    let (mut wire, sealer, decoder) = client
        .encapsulate_chunked(ChunkLimits::default(), &mut os_rng())
        .unwrap();
    seal_in_chunks(sealer, inner, 16 << 10, &mut wire).unwrap();
    let mut upload = gw.streamed("message/ohttp-chunked-req", at).unwrap();
    let (mut content, mut handed_out, mut target_taken) = (Vec::new(), 0, false);
    for frame in wire.chunks(8 << 10) {
        upload.push(frame, &mut content).unwrap();
        target_taken |= upload.take_target().is_some();
        handed_out += content.len();
        content.clear();
    }
    let answer = match upload.finish(&mut content, &mut os_rng()).unwrap() {
        Finished::Inbound(Inbound::Answer(outer)) => Some(chunked_answer(decoder, &outer)),
        Finished::Inbound(Inbound::Forward(f)) => {
            target_taken = true;
            handed_out += f.content.len();
            None
        }
        Finished::Streamed(_) => None,
        _ => unreachable!("Finished has no other variant today"),
    };
    handed_out += content.len();
    Streamed {
        target_taken,
        content_handed_out: handed_out,
        answer,
    }
}

fn chunked_answer(mut decoder: ChunkedResponseDecoder, outer: &OuterResponse) -> Message {
    assert_eq!(outer.status, 200, "{outer:?}");
    let mut plain = Vec::new();
    decoder.push(&outer.body, &mut plain).unwrap();
    decoder.finish(&mut plain).unwrap();
    Message::read_bhttp(&mut Cursor::new(&plain[..])).unwrap()
}

/// One more field than the default count limit (128), well within the head size.
fn too_many_fields() -> Vec<u8> {
    let many: Vec<(String, String)> = (0..129).map(|i| (format!("x{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    request("whisper", b"/", &many)
}

fn refused(inbound: Inbound) -> OuterResponse {
    match inbound {
        Inbound::Answer(a) => a,
        Inbound::Forward(f) => panic!("forwarded to {:?} {}", f.target, f.target.path()),
    }
}

/// The SSRF paths, and others that change the host or port a naively joined URL
/// names, are refused inside the ciphertext; an origin-form path is admitted.
#[test]
fn paths_that_are_not_origin_form_never_become_a_target() {
    let (gw, client) = gateway_and_client(Suite::X25519_AES128GCM, "whisper", Default::default());
    for path in [
        &b"@127.0.0.1:18002/latest/meta-data/iam"[..],
        b".evil.tld/",
        b"0/",
        b":18002/",
        b"//127.0.0.1:18002/",
        b"http://127.0.0.1:18002/",
        b"/@127.0.0.1:18002/",
        b"\\@127.0.0.1",
        b"/../../etc/passwd",
        b"/%2e%2e/admin",
        b"/a#@evil",
        b"/a b",
        b"/a\r\nHost: 127.0.0.1",
        b"",
    ] {
        let (enc, pending) = client
            .encapsulate(&request("whisper", path, &[]), &mut os_rng())
            .unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
        assert_eq!(
            inner_status(pending, &outer),
            400,
            "{}",
            String::from_utf8_lossy(path)
        );
    }
    let (enc, _) = client
        .encapsulate(
            &request("whisper", b"/v1/audio/transcriptions?x=1", &[]),
            &mut os_rng(),
        )
        .unwrap();
    let Inbound::Forward(f) = gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()) else {
        panic!("refused an origin-form request");
    };
    assert_eq!(
        (f.target.authority(), f.target.path(), f.target.query()),
        ("whisper", "/v1/audio/transcriptions", Some("x=1"))
    );
}

/// A one-shot request that is all header fields is refused by the field-count and head
/// limits, with the same incremental decoder the streamed path uses.
#[test]
fn a_field_flood_is_refused_by_the_head_and_field_limits() {
    let (gw, client) = gateway_and_client(
        Suite::X25519_AES128GCM,
        "whisper",
        GatewayPolicy {
            max_request_len: 8 << 20,
            ..GatewayPolicy::default()
        },
    );
    // 2 million 3-byte field lines (6 MB): the flood, scaled to the body cap.
    let flood = field_flood(2_000_000);
    for (inner, expected) in [(too_many_fields(), 413), (flood, 413)] {
        let (enc, pending) = client.encapsulate(&inner, &mut os_rng()).unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
        assert_eq!(inner_status(pending, &outer), expected);
    }
}

/// The same floods through the streamed path (`Gateway::streamed`, draft chunked requests):
/// refused inside the ciphertext with 413 before the head is complete, so no target is
/// handed out and no content reaches one.
#[test]
fn a_streamed_field_flood_is_refused_before_any_target() {
    let (gw, client) = gateway_and_client(Suite::X25519_AES128GCM, "whisper", Default::default());
    for inner in [too_many_fields(), field_flood(2_000_000)] {
        let streamed = stream_through(&gw, &client, &inner, now());
        assert!(!streamed.target_taken);
        assert_eq!(streamed.content_handed_out, 0);
        assert_eq!(status_of(&streamed.answer.unwrap()), 413);
    }
    // The control: a request within the limits reaches its target with all its content.
    let streamed = stream_through(&gw, &client, &request("whisper", b"/", &[]), now());
    assert!(streamed.target_taken);
    assert_eq!(streamed.content_handed_out, b"audio".len());
}

/// RFC 9458 §6.5.2: a client whose clock is ten minutes off (behind or ahead) is refused
/// with inner 400, the `date` problem type and the gateway's own `Date`, one-shot and
/// streamed; its retry, freshly encapsulated and dated at the gateway's time, is served.
/// Other refusals carry no date problem.
#[test]
fn a_client_clock_ten_minutes_off_learns_the_gateways_date_and_its_retry_is_served() {
    let (gw, client) = replay_gateway();
    // The gateway's clock has whole seconds: an HTTP date carries no fraction.
    let gateway_now = now();
    for client_clock in [
        gateway_now.checked_sub(Duration::from_secs(600)).unwrap(),
        gateway_now.saturating_add(Duration::from_secs(600)),
    ] {
        let dated = |t| request("whisper", b"/", &[("date", &httpdate_of(t))]);
        let (enc, pending) = client
            .encapsulate(&dated(client_clock), &mut os_rng())
            .unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, gateway_now, &mut os_rng()));
        let answer = inner_response(pending, &outer);
        assert_eq!(status_of(&answer), 400);
        let problem: serde_json::Value = serde_json::from_slice(answer.content()).unwrap();
        assert_eq!(problem["type"], attested_ohttp::gateway::PROBLEM_TYPE_DATE);
        assert_eq!(date_problem(&answer), Some(gateway_now));
        let (retry, _) = client
            .encapsulate(&dated(gateway_now), &mut os_rng())
            .unwrap();
        let at = gateway_now.saturating_add(Duration::from_secs(1));
        assert!(matches!(
            gw.inbound("message/ohttp-req", &retry, at, &mut os_rng()),
            Inbound::Forward(_)
        ));

        let streamed = stream_through(&gw, &client, &dated(client_clock), gateway_now);
        assert!(!streamed.target_taken);
        assert_eq!(date_problem(&streamed.answer.unwrap()), Some(gateway_now));
        let streamed = stream_through(&gw, &client, &dated(gateway_now), at);
        assert!(streamed.target_taken && streamed.answer.is_none());
    }
    // Two Date fields are malformed, not a clock to correct; nor is a refused target.
    let now_text = httpdate_of(gateway_now);
    for inner in [
        request("whisper", b"/", &[("date", &now_text), ("date", &now_text)]),
        request("evil", b"/", &[("date", &now_text)]),
    ] {
        let (enc, pending) = client.encapsulate(&inner, &mut os_rng()).unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, gateway_now, &mut os_rng()));
        let answer = inner_response(pending, &outer);
        assert!(matches!(status_of(&answer), 400 | 403));
        assert_eq!(date_problem(&answer), None);
    }
}

/// RFC 9458 §6.5: the same encapsulated request is served once inside the window; an inner
/// `Date` outside the window is refused, so a replay after the window fails too.
#[test]
fn a_replayed_request_is_refused() {
    let (gw, client) = replay_gateway();
    let date = httpdate_of(now());
    let (enc, pending) = client
        .encapsulate(&request("whisper", b"/", &[("date", &date)]), &mut os_rng())
        .unwrap();
    assert!(matches!(
        gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()),
        Inbound::Forward(_)
    ));
    assert_eq!(gw.replay_window_len(), 1);
    for later in [1, 29, 37] {
        let at = now().saturating_add(Duration::from_secs(later));
        assert_eq!(
            refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng())),
            OuterResponse::bare(400),
            "replayed after {later} s"
        );
    }
    // Once forgotten (after the window and its quarter, 37.5 s) its Date is too old: refused
    // inside the ciphertext (the key is still valid for the test ring's minute).
    let late = now().saturating_add(Duration::from_secs(38));
    let outer = refused(gw.inbound("message/ohttp-req", &enc, late, &mut os_rng()));
    assert_eq!(inner_status(pending, &outer), 400);
    // A fresh request with a stale Date, or one further ahead than a quarter of the window,
    // is refused.
    for stale in [
        now().checked_sub(Duration::from_secs(31)).unwrap(),
        now().saturating_add(Duration::from_secs(8)),
        now().saturating_add(Duration::from_secs(31)),
    ] {
        let (enc, pending) = client
            .encapsulate(
                &request("whisper", b"/", &[("Date", &httpdate_of(stale))]),
                &mut os_rng(),
            )
            .unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
        assert_eq!(inner_status(pending, &outer), 400);
    }
}

/// The attack on a window that remembers requests only for as long as a `Date` may be old: a
/// request dated ahead (a fast client clock, or a relay that holds it) is forgotten while its
/// `Date` is still acceptable, and a relay replays it then. Every replay is refused, at every
/// later time: while remembered as seen (bare 400), once forgotten for its `Date` (inner 400).
#[test]
fn a_request_dated_ahead_is_never_served_twice() {
    let (gw, client) = replay_gateway();
    let ahead = httpdate_of(now().saturating_add(Duration::from_secs(7)));
    let (enc, pending) = client
        .encapsulate(
            &request("whisper", b"/", &[("date", &ahead)]),
            &mut os_rng(),
        )
        .unwrap();
    assert!(matches!(
        gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()),
        Inbound::Forward(_)
    ));
    // Never forwarded again (`refused` panics on a forward), inside the key's minute of
    // validity: remembered until 37.5 s (the window and its quarter) and refused as seen...
    for later in [1, 29, 31, 36, 37] {
        let at = now().saturating_add(Duration::from_secs(later));
        let outer = refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng()));
        assert_eq!(outer, OuterResponse::bare(400), "replayed after {later} s");
    }
    // ...then refused inside the ciphertext for its Date, 31 s old (and remembered again, so
    // the next replays are refused as seen).
    let at = now().saturating_add(Duration::from_secs(38));
    let outer = refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng()));
    assert_eq!(inner_status(pending, &outer), 400);
    for later in [39, 45, 59] {
        let at = now().saturating_add(Duration::from_secs(later));
        let outer = refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng()));
        assert_eq!(outer, OuterResponse::bare(400), "replayed after {later} s");
    }
}

/// A gateway remembering requests over a 30-second window (and its quarter), and a client.
fn replay_gateway() -> (attested_ohttp::Gateway, Client) {
    gateway_and_client(
        Suite::X25519_AES128GCM,
        "whisper",
        GatewayPolicy {
            replay: ReplayLimits {
                window: Duration::from_secs(30),
                capacity: 1000,
            },
            ..GatewayPolicy::default()
        },
    )
}

fn httpdate_of(t: UnixTime) -> String {
    httpdate::fmt_http_date(t.into())
}

/// 30 hours of simulated key lifetime: the gateway rotates on its schedule (24 h keys, the
/// next from 2 h before, 1 h grace), re-advertising each time, and a client that refetches
/// the list when its cache lifetime runs out, or once on the RFC 9458 §5.3 key problem,
/// keeps working throughout. A client that never refetches gets the key problem once its
/// key is gone.
#[test]
fn thirty_hours_of_rotation_keep_clients_working() {
    let rotation = Rotation::default();
    let suite = Suite::X25519_AES128GCM;
    let start = now();
    let mut ring = KeyRing::new();
    assert!(ring.rotate(start, &rotation, suite, &mut os_rng()).unwrap());
    let policy = GatewayPolicy {
        allowed_targets: vec!["whisper".into()],
        ..GatewayPolicy::default()
    };
    let mut gateway = attested_ohttp::Gateway::new(ring.clone(), policy);
    let client_of =
        |list: &[u8]| Client::new(list, &TestEvidence(key_config_binding(list))).unwrap();
    let first_list = ring.encoded_list(start);
    let stale = client_of(&first_list);
    let mut cached = (start, first_list.clone(), client_of(&first_list));
    let mut lists = vec![first_list];
    let (mut key_problems, mut stale_refused_at) = (0, None);
    let step = Duration::from_secs(5 * 60);
    // The client caches the list as long as the served `Cache-Control: max-age` allows.
    let fields = rotation.key_list_fields();
    assert_eq!(
        fields[0],
        ("content-type", "application/ohttp-keys".to_owned())
    );
    let max_age = fields[1]
        .1
        .strip_prefix("max-age=")
        .and_then(|secs| secs.parse().ok())
        .map(Duration::from_secs)
        .unwrap_or_else(|| panic!("{fields:?}"));
    assert_eq!(fields[1].0, "cache-control");
    let mut t = start;
    while t <= start.saturating_add(Duration::from_secs(30 * 3600)) {
        if ring.rotate(t, &rotation, suite, &mut os_rng()).unwrap() {
            gateway = gateway.with_ring(ring.clone());
        }
        let list = ring.encoded_list(t);
        if lists.last() != Some(&list) {
            lists.push(list);
        }
        if t.duration_since(cached.0).unwrap() >= max_age {
            let list = ring.encoded_list(t);
            cached = (t, list.clone(), client_of(&list));
        }
        let mut served = false;
        for _attempt in 0..2 {
            let (enc, pending) = cached
                .2
                .encapsulate(&request("whisper", b"/", &[]), &mut os_rng())
                .unwrap();
            match gateway.inbound("message/ohttp-req", &enc, t, &mut os_rng()) {
                Inbound::Forward(f) => {
                    let outer = f.reply.refuse(200, &mut os_rng());
                    assert_eq!(inner_status(pending, &outer), 200);
                    served = true;
                    break;
                }
                Inbound::Answer(a) if a.is_key_problem() => {
                    key_problems += 1;
                    let list = ring.encoded_list(t);
                    cached = (t, list.clone(), client_of(&list));
                }
                Inbound::Answer(a) => panic!("at {:?}: {a:?}", t.duration_since(start)),
            }
        }
        assert!(served, "client failed at {:?}", t.duration_since(start));
        if stale_refused_at.is_none() {
            let (enc, _) = stale
                .encapsulate(&request("whisper", b"/", &[]), &mut os_rng())
                .unwrap();
            if let Inbound::Answer(a) = gateway.inbound("message/ohttp-req", &enc, t, &mut os_rng())
            {
                assert!(a.is_key_problem(), "{a:?}");
                let problem: serde_json::Value = serde_json::from_slice(&a.body).unwrap();
                assert_eq!(problem["type"], PROBLEM_TYPE_OHTTP_KEY);
                assert_eq!(
                    a.fields().collect::<Vec<_>>(),
                    [
                        ("content-type", "application/problem+json"),
                        ("cache-control", "no-store")
                    ]
                );
                stale_refused_at = Some(t.duration_since(start).unwrap());
            }
        }
        t = t.saturating_add(step);
    }
    // Lists: key 1; keys 1 and 2 (from 22 h); key 2 alone (from 24 h).
    assert_eq!(lists.len(), 3, "{lists:?}");
    // Clients refreshing on the served max-age never needed the key problem.
    assert_eq!(key_problems, 0);
    // The first key was accepted through its grace hour, and not after it.
    assert_eq!(stale_refused_at, Some(Duration::from_secs(25 * 3600)));
    // The ring holds only the second key now: the first was pruned.
    assert_eq!(gateway.ring().advertised(t).count(), 1);
}

/// A target (or whatever answers in its place) that sends a huge one-shot answer: the core
/// seals at most `max_response_len` bytes of it whole, and refuses more with an inner 502,
/// which the caller decides by reading the body up to `Reply::max_answer_len`.
#[test]
fn a_one_shot_answer_over_the_cap_becomes_an_inner_502() {
    let (gw, client) = gateway_and_client(
        Suite::X25519_AES128GCM,
        "whisper",
        GatewayPolicy {
            max_response_len: 1000,
            ..GatewayPolicy::default()
        },
    );
    for (len, expected) in [(1000, 200), (1001, 502)] {
        let (enc, pending) = client
            .encapsulate(&request("whisper", b"/", &[]), &mut os_rng())
            .unwrap();
        let Inbound::Forward(forward) = gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng())
        else {
            panic!("refused")
        };
        assert_eq!(forward.reply.max_answer_len(), 1000);
        let outer = forward
            .reply
            .answer(200, [], &vec![0x61; len], &mut os_rng())
            .unwrap();
        assert_eq!(inner_status(pending, &outer), expected, "{len} bytes");
    }
}

/// How a body is read is the core's decision: a draft chunked request streams, one HPKE
/// message (one-shot, or chunked in the Azure dialect) is buffered under the policy's
/// `max_request_len`, refused with 413 the moment it would pass it (holding nothing more),
/// and other media types are 415.
#[test]
fn bodies_are_read_as_the_core_decides_and_buffered_within_the_limit() {
    use attested_ohttp::gateway::ReadAs;
    let policy = GatewayPolicy {
        max_request_len: 100,
        upload_idle_timeout: Duration::from_secs(7),
        ..GatewayPolicy::default()
    };
    let (draft, _) = gateway_and_client(Suite::X25519_AES128GCM, "whisper", policy.clone());
    assert_eq!(
        draft.read_as("message/ohttp-chunked-req"),
        Ok(ReadAs::Streamed)
    );
    assert_eq!(draft.read_as("Message/OHTTP-req"), Ok(ReadAs::Buffered));
    for refused in ["application/json", "message/ohttp-req; x=1", ""] {
        assert_eq!(draft.read_as(refused), Err(OuterResponse::bare(415)));
    }
    let (azure, _) = gateway_and_client(
        Suite::X25519_AES128GCM,
        "whisper",
        GatewayPolicy {
            chunked_dialect: attested_ohttp::chunked::Dialect::Azure,
            ..policy
        },
    );
    assert_eq!(
        azure.read_as("message/ohttp-chunked-req"),
        Ok(ReadAs::Buffered)
    );

    let mut body = draft.buffered_body();
    assert_eq!(body.idle_timeout(), Duration::from_secs(7));
    body.push(&[1; 60]).unwrap();
    body.push(&[2; 40]).unwrap();
    assert_eq!(body.bytes().len(), 100);
    assert_eq!(body.push(&[3]), Err(OuterResponse::bare(413)));
    assert!(body.bytes().is_empty(), "nothing is held once refused");
    assert_eq!(body.timed_out(), OuterResponse::bare(408));
}
