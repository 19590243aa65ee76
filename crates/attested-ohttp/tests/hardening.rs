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
use std::time::{Duration, SystemTime};

use attested_ohttp::bhttp::{Message, Mode, StatusCode};
use attested_ohttp::{
    Client, KeyRing, Suite, client::PendingResponse, gateway::GatewayPolicy, gateway::Inbound,
    gateway::OuterResponse, gateway::PROBLEM_TYPE_OHTTP_KEY, gateway::ReplayLimits,
    key_config_binding, keys::Rotation,
};
use common::{TestEvidence, gateway_and_client, now, os_rng};

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
    assert_eq!(outer.status, 200, "{outer:?}");
    let inner = pending.decapsulate(&outer.body).unwrap();
    let m = Message::read_bhttp(&mut Cursor::new(&inner[..])).unwrap();
    m.control().status().map(StatusCode::code).unwrap()
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
    // 129 fields: one more than the default count limit, well within the head size.
    let many: Vec<(String, String)> = (0..129).map(|i| (format!("x{i}"), "v".into())).collect();
    let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (&n[..], &v[..])).collect();
    // 2 million 3-byte field lines (6 MB): the flood, scaled to the body cap.
    let mut flood = vec![0u8, 4, b'P', b'O', b'S', b'T', 5];
    flood.extend_from_slice(b"https\x07whisper\x01/");
    let block_len: u32 = 3 * 2_000_000;
    flood.extend_from_slice(&(block_len | 0x8000_0000).to_be_bytes());
    for _ in 0..2_000_000 {
        flood.extend_from_slice(&[1, b'a', 0]);
    }
    for (inner, expected) in [(request("whisper", b"/", &many), 413), (flood, 413)] {
        let (enc, pending) = client.encapsulate(&inner, &mut os_rng()).unwrap();
        let outer = refused(gw.inbound("message/ohttp-req", &enc, now(), &mut os_rng()));
        assert_eq!(inner_status(pending, &outer), expected);
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
        let at = now() + Duration::from_secs(later);
        assert_eq!(
            refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng())),
            OuterResponse::bare(400),
            "replayed after {later} s"
        );
    }
    // Once forgotten (after the window and its quarter, 37.5 s) its Date is too old: refused
    // inside the ciphertext (the key is still valid for the test ring's minute).
    let late = now() + Duration::from_secs(38);
    let outer = refused(gw.inbound("message/ohttp-req", &enc, late, &mut os_rng()));
    assert_eq!(inner_status(pending, &outer), 400);
    // A fresh request with a stale Date, or one further ahead than a quarter of the window,
    // is refused.
    for stale in [
        now() - Duration::from_secs(31),
        now() + Duration::from_secs(8),
        now() + Duration::from_secs(31),
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
    let ahead = httpdate_of(now() + Duration::from_secs(7));
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
        let at = now() + Duration::from_secs(later);
        let outer = refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng()));
        assert_eq!(outer, OuterResponse::bare(400), "replayed after {later} s");
    }
    // ...then refused inside the ciphertext for its Date, 31 s old (and remembered again, so
    // the next replays are refused as seen).
    let at = now() + Duration::from_secs(38);
    let outer = refused(gw.inbound("message/ohttp-req", &enc, at, &mut os_rng()));
    assert_eq!(inner_status(pending, &outer), 400);
    for later in [39, 45, 59] {
        let at = now() + Duration::from_secs(later);
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

fn httpdate_of(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
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
    let mut t = start;
    while t <= start + Duration::from_secs(30 * 3600) {
        if ring.rotate(t, &rotation, suite, &mut os_rng()).unwrap() {
            gateway = gateway.with_ring(ring.clone());
        }
        let list = ring.encoded_list(t);
        if lists.last() != Some(&list) {
            lists.push(list);
        }
        if t.duration_since(cached.0).unwrap() >= rotation.cache_lifetime() {
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
                assert_eq!(a.content_type, Some("application/problem+json"));
                stale_refused_at = Some(t.duration_since(start).unwrap());
            }
        }
        t += step;
    }
    // Lists: key 1; keys 1 and 2 (from 22 h); key 2 alone (from 24 h).
    assert_eq!(lists.len(), 3, "{lists:?}");
    // Clients refreshing on the cache lifetime never needed the key problem.
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
