//! `whisper-client` through a relay (issue 14's client items): a client given only the relay
//! never connects to the gateway, yet verifies it and transcribes (RFC 9458 §6.1, §7); its
//! inner requests are dated (§6.5.1); and on the gateway's §5.3 key problem it fetches the
//! keys and evidence again once, and only once.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use attested_ohttp::UnixTime;

use common::{Running, WhisperSetup};

/// The address `mock-relay`'s connections to the gateway come from in these tests; the
/// clients connect from 127.0.0.1.
const RELAY_OUTBOUND: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

/// A TCP front in front of `target` that records the peer of every connection it accepts:
/// everything the gateway behind it sees of the network.
async fn counting_front(target: &str) -> (String, Arc<Mutex<Vec<SocketAddr>>>) {
    let target: SocketAddr = target.trim_start_matches("http://").parse().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let peers = Arc::new(Mutex::new(Vec::new()));
    let seen = peers.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, peer)) = listener.accept().await {
            seen.lock().unwrap().push(peer);
            tokio::spawn(async move {
                if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (format!("http://{addr}"), peers)
}

fn mock_relay(gateway: &str) -> Running {
    Running::start(
        env!("CARGO_BIN_EXE_mock-relay"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--gateway",
            gateway,
            "--outbound-from",
            &RELAY_OUTBOUND.to_string(),
        ],
    )
}

/// Runs `whisper-client` with `args` off the async workers (the in-process servers keep
/// running).
async fn transcribe(setup: &Arc<WhisperSetup>, args: &[&str]) -> std::process::Output {
    let setup = setup.clone();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        setup.transcribe_with(&args)
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_given_only_the_relay_never_connects_to_the_gateway() {
    let setup = Arc::new(WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await);
    let (front, peers) = counting_front(&setup.gateway.url()).await;
    let relay = mock_relay(&front);
    let relay_url = relay.url();
    for transport in [&[][..], &["--chunked", "--chunk-size", "4096"][..]] {
        let mut args = vec!["--relay", &relay_url];
        args.extend_from_slice(transport);
        let output = transcribe(&setup, &args).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{transport:?}: {stdout}\n{stderr}");
        assert!(stderr.contains("gateway TDX quote verified"), "{stderr}");
        assert!(stdout.contains(&setup.audio_digest()), "{stdout}");

        // The inner request was dated (RFC 9458 §6.5.1): the gateway admitted it and passed
        // the Date on to mock-whisper, which echoes it.
        let answer: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        let date = answer["date"]
            .as_str()
            .unwrap_or_else(|| panic!("{answer}"));
        let date = httpdate::parse_http_date(date).unwrap();
        let skew = SystemTime::now()
            .duration_since(date)
            .unwrap_or_else(|e| e.duration());
        assert!(skew < Duration::from_secs(3600), "{answer}");
    }
    // Everything the gateway saw came from the relay's address; the clients connected from
    // 127.0.0.1, to the relay only.
    let seen = peers.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|peer| peer.ip() == RELAY_OUTBOUND),
        "the gateway saw {seen:?}"
    );
    let log = relay.stop();
    for forwarded in [
        "GET /ohttp-keys for 127.0.0.1:",
        "GET /attestation for 127.0.0.1:",
        "GET /collateral for 127.0.0.1:",
        "POST /gateway for 127.0.0.1:",
    ] {
        assert!(log.contains(forwarded), "{forwarded} not in {log}");
    }
}

/// A Nitro gateway makes a document per request for the client's nonce
/// (`/attestation?nonce=HEX`): through the relay the query must survive, the document must be
/// verified for that nonce, and the gateway still sees only the relay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nitro_gateway_behind_the_relay_is_verified_with_the_clients_nonce() {
    let setup = Arc::new(
        WhisperSetup::start("nitro-sim", "/nitro-sim/root", "--trust-nitro-sim-root").await,
    );
    let (front, peers) = counting_front(&setup.gateway.url()).await;
    let relay = mock_relay(&front);
    let relay_url = relay.url();
    let pcr0 = hex::encode(
        attested_examples::nitro_evidence::NitroSimSource::new()
            .unwrap()
            .pcr0(),
    );
    let output = transcribe(&setup, &["--relay", &relay_url, "--expect-pcr0", &pcr0]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("gateway Nitro document verified"),
        "{stderr}"
    );
    assert!(stdout.contains(&setup.audio_digest()), "{stdout}");
    let seen = peers.lock().unwrap().clone();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|peer| peer.ip() == RELAY_OUTBOUND),
        "the gateway saw {seen:?}"
    );
    let log = relay.stop();
    assert!(log.contains("GET /attestation for 127.0.0.1:"), "{log}");
    assert!(log.contains("POST /gateway for 127.0.0.1:"), "{log}");
    // No TDX collateral for a Nitro gateway.
    assert!(!log.contains("GET /collateral"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_url_beside_the_relay_is_refused_before_any_connection() {
    let setup = Arc::new(WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await);
    let (front, peers) = counting_front(&setup.gateway.url()).await;
    let relay = mock_relay(&front);
    // The keys would come from the gateway itself: refused as a usage error.
    let output = transcribe(&setup, &["--relay", &relay.url(), "--gateway", &front]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--gateway"), "{stderr}");
    assert!(peers.lock().unwrap().is_empty());
    assert!(!relay.stop().contains("forwarding"));
}

/// A dated request outside the gateway's 60-second window is refused inside the ciphertext
/// with the RFC 9458 §6.5.2 date problem, end to end, with the client's own request builder;
/// `transcribe_file` with a clock ten minutes off (behind or ahead, one-shot and chunked)
/// learns the gateway's time from it and its one retry is served, dated then.
#[tokio::test]
async fn a_client_clock_outside_the_window_is_corrected_by_the_gateways_date() {
    use attested_examples::tdx_evidence::{load_collateral, sim_policy};
    use attested_examples::whisper_client::{
        DateProblem, Transcription, Transport, transcribe_file, transcribe_one_shot,
        transcription_request_at, verified_gateway,
    };
    use attested_tdx::{TdxAppraiser, Verifier};
    let (_whisper, gateway) = common::gateway_before_mock_whisper(&[]);
    let url = gateway.url();
    let http = attested_examples::tls::http().unwrap();
    let root = attested_examples::tls::get(format!("{url}/sim/root"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let check = TdxAppraiser::new(
        Verifier::new(attested_tdx::TrustAnchor::from_pem(root.as_bytes()).unwrap()),
        load_collateral(&url, &http, None).await.unwrap(),
        sim_policy(&[[0x6f; 48]]),
    );
    let (client, _) = verified_gateway(&http, &url, &check).await.unwrap();
    let endpoint = format!("{url}/gateway");
    let dated = |now| transcription_request_at(b"audio", "a.wav", "whisper-1", "whisper", now);
    let now = UnixTime::now();
    let answer = transcribe_one_shot(&http, &endpoint, &client, &dated(now).unwrap())
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&answer).contains("\"bytes\":5"));
    let close_to_now = |t: UnixTime| {
        let off = t.duration_since(now).or_else(|| now.duration_since(t));
        off.is_some_and(|off| off < Duration::from_secs(30))
    };
    let audio = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(audio.path(), b"audio").unwrap();
    let job = Transcription {
        file: audio.path(),
        model: "whisper-1",
        authority: "whisper",
    };
    for stale in [
        now.checked_sub(Duration::from_secs(600)).unwrap(),
        now.checked_add(Duration::from_secs(600)).unwrap(),
    ] {
        let error = transcribe_one_shot(&http, &endpoint, &client, &dated(stale).unwrap())
            .await
            .unwrap_err();
        let problem = error
            .downcast_ref::<DateProblem>()
            .unwrap_or_else(|| panic!("{error}"));
        assert!(close_to_now(problem.gateway_time), "{error}");
        for transport in [Transport::OneShot, Transport::Chunked { chunk_size: 2 }] {
            let answer =
                transcribe_file(&http, &endpoint, &client, &job, transport, stale, |_, _| {})
                    .await
                    .unwrap();
            let answer: serde_json::Value = serde_json::from_slice(&answer).unwrap();
            let date = httpdate::parse_http_date(answer["date"].as_str().unwrap()).unwrap();
            assert!(close_to_now(date.into()), "{transport:?}: {answer}");
            assert_eq!(answer["bytes"], 5, "{answer}");
        }
    }
}

/// A relay that serves a recorded (stale) key list and attestation for the first `stale`
/// fetches of each, and forwards everything else to the gateway; it counts what it serves.
struct StaleRelay {
    gateway: String,
    keys: Vec<u8>,
    attestation: Vec<u8>,
    stale: usize,
    key_fetches: AtomicUsize,
    attestation_fetches: AtomicUsize,
    posts: AtomicUsize,
}

async fn serve_stale_relay(relay: Arc<StaleRelay>) -> String {
    use axum::body::Bytes;
    use axum::extract::{OriginalUri, State};
    use axum::http::{HeaderMap, header};
    use axum::routing::{get, post};
    async fn forward(relay: &StaleRelay, path: &str, post: Option<(HeaderMap, Bytes)>) -> Vec<u8> {
        let http = attested_examples::tls::http().unwrap();
        let url = format!("{}{path}", relay.gateway);
        let request = match post {
            None => http.get(url),
            Some((headers, body)) => http
                .post(url)
                .header("content-type", headers[header::CONTENT_TYPE].as_bytes())
                .body(body),
        };
        request
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap()
            .to_vec()
    }
    let app = axum::Router::new()
        .route(
            "/ohttp-keys",
            get(|State(r): State<Arc<StaleRelay>>| async move {
                if r.key_fetches.fetch_add(1, Ordering::SeqCst) < r.stale {
                    return r.keys.clone();
                }
                forward(&r, "/ohttp-keys", None).await
            }),
        )
        .route(
            "/attestation",
            get(|State(r): State<Arc<StaleRelay>>| async move {
                let body = if r.attestation_fetches.fetch_add(1, Ordering::SeqCst) < r.stale {
                    r.attestation.clone()
                } else {
                    forward(&r, "/attestation", None).await
                };
                ([(header::CONTENT_TYPE, "application/json")], body)
            }),
        )
        .route(
            "/collateral",
            get(
                |State(r): State<Arc<StaleRelay>>, OriginalUri(uri): OriginalUri| async move {
                    forward(&r, uri.path(), None).await
                },
            ),
        )
        .route(
            "/",
            post(
                |State(r): State<Arc<StaleRelay>>, headers: HeaderMap, body: Bytes| async move {
                    r.posts.fetch_add(1, Ordering::SeqCst);
                    let url = format!("{}/gateway", r.gateway);
                    let reply = attested_examples::tls::http()
                        .unwrap()
                        .post(url)
                        .header("content-type", headers[header::CONTENT_TYPE].as_bytes())
                        .body(body)
                        .send()
                        .await
                        .unwrap();
                    let status = reply.status().as_u16();
                    let kind = reply
                        .headers()
                        .get(header::CONTENT_TYPE.as_str())
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    let body = reply.bytes().await.unwrap().to_vec();
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [(header::CONTENT_TYPE, kind)],
                        body,
                    )
                },
            ),
        )
        .with_state(relay);
    attested_examples::pipeline::serve_on_loopback(app)
        .await
        .unwrap()
}

/// The client holds keys the gateway has rotated away (24-second keys, 1 s of grace: the
/// relay serves the list and quote recorded at start after the old key's grace has passed).
/// Its first request gets the RFC 9458 §5.3 key problem; it fetches keys and evidence once
/// more and succeeds. When the relay goes on serving the stale keys, the second problem is
/// an error (exit 1), after exactly one refetch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_refetches_once_on_the_key_problem() {
    let setup = Arc::new(
        WhisperSetup::start_with(
            "sim",
            "/sim/root",
            "--trust-sim-root",
            &["--key-lifetime", "24"],
        )
        .await,
    );
    let started = Instant::now();
    let gateway = setup.gateway.url();
    let fetch = |path: &'static str| {
        let url = format!("{gateway}{path}");
        async move {
            attested_examples::tls::get(url)
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap()
        }
    };
    let keys = fetch("/ohttp-keys").await.to_vec();
    let attestation = fetch("/attestation").await.to_vec();
    // The key the recorded list names is gone 25 s after start.
    tokio::time::sleep(Duration::from_millis(27_000).saturating_sub(started.elapsed())).await;
    assert_ne!(fetch("/ohttp-keys").await.to_vec(), keys);

    for stale in [1, usize::MAX] {
        let relay = Arc::new(StaleRelay {
            gateway: gateway.clone(),
            keys: keys.clone(),
            attestation: attestation.clone(),
            stale,
            key_fetches: AtomicUsize::new(0),
            attestation_fetches: AtomicUsize::new(0),
            posts: AtomicUsize::new(0),
        });
        let url = serve_stale_relay(relay.clone()).await;
        let output = transcribe(&setup, &["--relay", &url]).await;
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("ohttp-key problem); fetching the gateway's keys and evidence again"),
            "{stderr}"
        );
        if stale == 1 {
            assert!(output.status.success(), "{stdout}\n{stderr}");
            assert!(stdout.contains(&setup.audio_digest()), "{stdout}");
        } else {
            assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
            assert!(
                stderr.contains("refused: the gateway does not hold the key configuration"),
                "{stderr}"
            );
        }
        // One refetch, never a loop.
        assert_eq!(relay.key_fetches.load(Ordering::SeqCst), 2);
        assert_eq!(relay.attestation_fetches.load(Ordering::SeqCst), 2);
        assert_eq!(relay.posts.load(Ordering::SeqCst), 2);
    }
}
