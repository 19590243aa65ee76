//! private-llm-proxy under hostile clients and a broken backend, over real sockets on
//! loopback: a 16 MiB message (the proxy's RSS measured from /proc), the session limit, the
//! handshake and idle timeouts, the attestation limit, a backend stream that breaks, and a
//! UTF-8 character split across the backend's pieces, quotes made one at a time, and a proxy
//! in the environment (it must see no decrypted prompt).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::future::IntoFuture as _;
use std::process::Output;
use std::time::Duration;

use attested_examples::chat_client::VerifiedChat;
use attested_noise::{Config, Error, Initiator, Profile, UnverifiedSession};
use attested_tdx::{Collateral, TrustAnchor};
use attested_tdx::{TdxAppraiser, Verifier};
use axum::body::{Body, Bytes};
use futures_util::{SinkExt as _, StreamExt as _};
use tokio_tungstenite::tungstenite::Message as WsMessage;

mod common;

use common::Running;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The proxy in front of `backend`, with `args`.
fn proxy(backend: &str, args: &[&str]) -> Running {
    proxy_with_env(backend, args, &[])
}

/// As [`proxy`], with `env` added to the proxy's environment.
fn proxy_with_env(backend: &str, args: &[&str], env: &[(&str, &std::path::Path)]) -> Running {
    let mut all = vec![
        "--listen",
        "127.0.0.1:0",
        "--backend",
        backend,
        "--tee",
        "sim",
    ];
    all.extend_from_slice(args);
    Running::start_with_env(env!("CARGO_BIN_EXE_private-llm-proxy"), &all, env)
}

fn ws_url(proxy: &str) -> String {
    format!("{}/ws/noise", proxy.replace("http://", "ws://"))
}

async fn noise_key(proxy: &str) -> [u8; 32] {
    let health: serde_json::Value = attested_examples::tls::get(format!("{proxy}/health"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut key = [0; 32];
    hex::decode_to_slice(health["noise_pubkey"].as_str().unwrap(), &mut key).unwrap();
    key
}

async fn next_binary(socket: &mut Socket) -> Option<Vec<u8>> {
    loop {
        match socket.next().await? {
            Ok(WsMessage::Binary(bytes)) => return Some(bytes.to_vec()),
            Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => {}
            _ => return None,
        }
    }
}

/// A WebSocket to the proxy at `proxy` (its base URL) and a completed v1 handshake (nothing
/// verified).
async fn handshake(proxy: &str) -> (Socket, UnverifiedSession) {
    let key = noise_key(proxy).await;
    let mut socket = attested_examples::tls::ws_connect(&ws_url(proxy), None)
        .await
        .unwrap();
    let mut initiator = Initiator::new(Profile::V1, &key, &mut rand::rng()).unwrap();
    socket
        .send(WsMessage::Binary(initiator.write_first().unwrap().into()))
        .await
        .unwrap();
    let second = next_binary(&mut socket).await.unwrap();
    (socket, initiator.read_second(&second).unwrap())
}

/// Asks for an attestation and reads the answer (received, not verified).
async fn attestation(socket: &mut Socket, session: &mut UnverifiedSession) -> Result<(), Error> {
    for frame in session.request_attestation().unwrap() {
        socket.send(WsMessage::Binary(frame.into())).await.unwrap();
    }
    loop {
        let frame = next_binary(socket).await.unwrap();
        match session.receive_attestation(&frame) {
            Ok(None) => {}
            Ok(Some(_)) => return Ok(()),
            Err(error) => return Err(error),
        }
    }
}

/// Whether the proxy ends the connection within `within`.
async fn closed_within(socket: &mut Socket, within: Duration) -> bool {
    tokio::time::timeout(within, async {
        while let Some(Ok(message)) = socket.next().await {
            if let WsMessage::Close(_) = message {
                return;
            }
        }
    })
    .await
    .is_ok()
}

/// The check a user of the simulated proxy would run: its root and collateral trusted
/// explicitly, any MRTD.
async fn check_for(proxy: &Running) -> TdxAppraiser {
    let root = attested_examples::tls::get(format!("{}/sim/root", proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let collateral = attested_examples::tls::get(format!("{}/collateral", proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    TdxAppraiser::new(
        Verifier::new(TrustAnchor::from_pem(root.as_bytes()).unwrap()),
        Collateral::from_qvl_json(collateral.as_bytes()).unwrap(),
        attested_tdx::Policy::any_workload(),
    )
}

/// A proxy whose environment names an HTTP proxy still takes decrypted prompts straight to its
/// backend: the environment's proxy would read every prompt and could answer in the backend's
/// place. Before, reqwest's default routed the backend's traffic through it.
#[tokio::test]
async fn a_proxy_in_the_environment_never_sees_a_decrypted_prompt() {
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    let stand_in = axum::Router::new().fallback(move || async move {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        "{}"
    });
    let stand_in = attested_examples::pipeline::serve_on_loopback(stand_in)
        .await
        .unwrap();
    let stand_in = std::path::Path::new(&stand_in);
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let env = [
        ("HTTP_PROXY", stand_in),
        ("http_proxy", stand_in),
        ("ALL_PROXY", stand_in),
        ("NO_PROXY", std::path::Path::new("")),
    ];
    let proxy = proxy_with_env(&mock.url(), &[], &env);
    let check = check_for(&proxy).await;
    let mut chat = VerifiedChat::connect(&proxy.url(), Config::new(Profile::V1), None, &check)
        .await
        .unwrap();
    let answer = chat.ask("hello", false, |_| {}).await;
    assert!(answer.is_ok(), "{answer:?}");
    assert_eq!(
        hits.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the environment's proxy saw the prompt"
    );
}

#[tokio::test]
#[cfg(target_os = "linux")]
async fn a_16_mib_chat_message_is_refused_before_the_proxy_buffers_it() {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let proxy = proxy(&mock.url(), &[]);
    let check = check_for(&proxy).await;
    // Warm up: one ordinary verified session, so that the baseline includes what any session
    // costs.
    let mut chat = VerifiedChat::connect(&proxy.url(), Config::new(Profile::V1), None, &check)
        .await
        .unwrap();
    chat.ask("hello", false, |_| {}).await.unwrap();
    chat.close().await;
    let before = proxy.peak_rss_kib();

    // One WebSocket frame of 16 MiB after the handshake: refused from its header.
    let (mut socket, _session) = handshake(&proxy.url()).await;
    let _ = socket
        .send(WsMessage::Binary(vec![0x42; 16 << 20].into()))
        .await;
    assert!(closed_within(&mut socket, Duration::from_secs(10)).await);

    // A verified client configured to send 16 MiB: valid Noise frames, refused at the
    // proxy's 1 MiB message limit.
    let big = Config::new(Profile::V1).max_message_len(32 << 20);
    let mut chat = VerifiedChat::connect(&proxy.url(), big, None, &check)
        .await
        .unwrap();
    let answer = chat.ask(&"a".repeat(16 << 20), false, |_| {}).await;
    assert!(answer.is_err(), "{answer:?}");

    let after = proxy.peak_rss_kib();
    println!(
        "proxy peak RSS: {before} KiB before, {after} KiB after the 16 MiB messages (+{} KiB)",
        after.saturating_sub(before)
    );
    // Before the limits: 6 MB -> 420 MB. A generous bound, far below one buffered message.
    assert!(
        after.saturating_sub(before) < 12 << 10,
        "{before} -> {after}"
    );
    // The proxy still serves.
    let mut chat = VerifiedChat::connect(&proxy.url(), Config::new(Profile::V1), None, &check)
        .await
        .unwrap();
    chat.ask("still there?", false, |_| {}).await.unwrap();
    assert_eq!(mock.stop().matches("answered").count(), 2);
}

#[tokio::test]
async fn sessions_over_max_sessions_are_refused_with_503_until_one_closes() {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let proxy = proxy(&mock.url(), &["--max-sessions", "2"]);
    let (mut first, _) = handshake(&proxy.url()).await;
    let (_second, _) = handshake(&proxy.url()).await;
    match attested_examples::tls::ws_connect(&ws_url(&proxy.url()), None).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503);
        }
        other => panic!("a third session was not refused: {:?}", other.map(|_| ())),
    }
    first.close(None).await.unwrap();
    // The place frees once the proxy sees the close.
    let mut admitted = false;
    for _ in 0..50 {
        if attested_examples::tls::ws_connect(&ws_url(&proxy.url()), None)
            .await
            .is_ok()
        {
            admitted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(admitted);
}

#[tokio::test]
async fn a_silent_client_is_closed_after_the_handshake_and_idle_timeouts() {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let proxy = proxy(
        &mock.url(),
        &["--handshake-timeout-ms", "300", "--idle-timeout-ms", "600"],
    );
    // No handshake frame at all.
    let mut socket = attested_examples::tls::ws_connect(&ws_url(&proxy.url()), None)
        .await
        .unwrap();
    assert!(closed_within(&mut socket, Duration::from_secs(5)).await);
    // A handshake, then silence.
    let (mut socket, _session) = handshake(&proxy.url()).await;
    assert!(closed_within(&mut socket, Duration::from_secs(5)).await);
}

/// A client that keeps talking cannot hold its session (one of `--max-sessions`) for ever:
/// it asks for an attestation every 100 ms, well inside the idle timeout, and is closed with
/// 1001 (going away) once the session has lasted `--max-session-lifetime-ms`; without that
/// limit (the default hour) the same client is still served after three seconds.
#[tokio::test]
async fn a_busy_client_is_closed_at_the_session_lifetime() {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let busy = [
        "--idle-timeout-ms",
        "10000",
        "--max-attestations-per-session",
        "1000",
    ];
    for lifetime in [Some("1500"), None] {
        let mut args = busy.to_vec();
        if let Some(ms) = lifetime {
            args.extend(["--max-session-lifetime-ms", ms]);
        }
        let proxy = proxy(&mock.url(), &args);
        let (mut socket, mut session) = handshake(&proxy.url()).await;
        let started = std::time::Instant::now();
        let mut closed_with = None;
        while started.elapsed() < Duration::from_secs(3) && closed_with.is_none() {
            for frame in session.request_attestation().unwrap() {
                if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                    break;
                }
            }
            loop {
                match socket.next().await {
                    Some(Ok(WsMessage::Binary(frame))) => {
                        if session.receive_attestation(&frame).unwrap().is_some() {
                            break;
                        }
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        closed_with = Some(frame.map(|f| u16::from(f.code)));
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        closed_with = Some(None);
                        break;
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        match lifetime {
            Some(_) => {
                assert_eq!(closed_with, Some(Some(1001)));
                let lasted = started.elapsed();
                assert!(lasted >= Duration::from_millis(1200), "{lasted:?}");
            }
            None => assert_eq!(closed_with, None, "closed without a lifetime limit"),
        }
    }
}

#[tokio::test]
async fn attestations_over_the_per_session_limit_get_an_error() {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let proxy = proxy(
        &mock.url(),
        &["--session-evidence", "--max-attestations-per-session", "2"],
    );
    let (mut socket, mut session) = handshake(&proxy.url()).await;
    let mut outcomes = Vec::new();
    for _ in 0..3 {
        outcomes.push(attestation(&mut socket, &mut session).await);
    }
    assert!(outcomes[0].is_ok() && outcomes[1].is_ok(), "{outcomes:?}");
    assert!(
        matches!(&outcomes[2], Err(Error::Remote(text)) if text == "attestation limit reached"),
        "{outcomes:?}"
    );
}

/// Per-session quotes are made one at a time for the platform (configfs-tsm makes one report at
/// a time): eight sessions asking at once, against a simulated platform
/// whose quotes take 100 ms each, all get their attestation, and the platform never had two
/// quotes asked of it at once. Without the proxy's queue it has eight.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_quotes_are_made_one_at_a_time_for_the_platform() {
    use attested_examples::llm_proxy::{ProxyOptions, router};
    let source =
        attested_examples::tdx_evidence::sim_quote_source([0x5a; 48], std::time::SystemTime::now())
            .unwrap()
            .with_simulated_latency(Duration::from_millis(100));
    let source = std::sync::Arc::new(source);
    let mut options = ProxyOptions::new(Profile::V1, "http://127.0.0.1:9");
    options.session_evidence = true;
    let app = router(source.clone(), options).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    let sessions = (0..8).map(|_| {
        let url = url.clone();
        tokio::spawn(async move {
            let (mut socket, mut session) = handshake(&url).await;
            attestation(&mut socket, &mut session).await
        })
    });
    for outcome in futures_util::future::join_all(sessions).await {
        outcome.unwrap().unwrap();
    }
    // The router's own start-up quotes (the platform's) were made one after the other too.
    assert_eq!(source.peak_quotes_in_flight(), Some(1));
}

/// An OpenAI-compatible backend in this process whose streamed answer is `pieces` (with a
/// pause between them, so that each arrives on its own), and then, if `break_off`, a broken
/// connection instead of the end of the stream.
async fn streaming_backend(pieces: Vec<Vec<u8>>, break_off: bool) -> String {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(move || {
            let pieces = pieces.clone();
            async move {
                let stream = futures_util::stream::iter(pieces.into_iter().map(Some))
                    .chain(futures_util::stream::iter([None]))
                    .then(move |piece| async move {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        match piece {
                            Some(bytes) => Ok(Bytes::from(bytes)),
                            None if break_off => Err(std::io::Error::other("backend died")),
                            None => Ok(Bytes::new()),
                        }
                    });
                axum::response::Response::builder()
                    .header("content-type", "text/event-stream")
                    .body(Body::from_stream(stream))
                    .unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    url
}

fn event(delta: &str) -> Vec<u8> {
    let event = serde_json::json!({"choices": [{"index": 0, "delta": {"content": delta}}]});
    format!("data: {event}\n\n").into_bytes()
}

/// verified-chat, streaming, against `proxy` (run off the runtime so the backend keeps serving).
async fn stream_chat(proxy: &Running, prompt: &str) -> Output {
    let root = tempfile::NamedTempFile::new().unwrap();
    let pem = attested_examples::tls::get(format!("{}/sim/root", proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    std::fs::write(root.path(), pem).unwrap();
    let url = proxy.url();
    let prompt = prompt.to_owned();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_verified-chat"))
            .args(["--url", &url, "--trust-sim-root"])
            .arg(root.path())
            .args(common::sim_workload(
                &[],
                attested_examples::tdx_evidence::SIM_MRTD,
            ))
            .args(["--stream", &prompt])
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_backend_stream_reaches_the_client_as_an_error_not_a_complete_answer() {
    let backend = streaming_backend(vec![event("The first half of an ans")], true).await;
    let proxy = proxy(&backend, &[]);
    let output = stream_chat(&proxy, "tell me everything").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("The first half of an ans"), "{stdout}");
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("answer interrupted"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_character_split_across_backend_pieces_arrives_intact() {
    let mut whole = event("café ünïcödé 😀");
    whole.extend_from_slice(b"data: [DONE]\n\n");
    // Split inside the two bytes of "é" and inside the four of the emoji.
    let e_acute = whole.windows(2).position(|w| w == "é".as_bytes()).unwrap() + 1;
    let emoji = whole.windows(4).position(|w| w == "😀".as_bytes()).unwrap() + 2;
    let pieces = vec![
        whole[..e_acute].to_vec(),
        whole[e_acute..emoji].to_vec(),
        whole[emoji..].to_vec(),
    ];
    let backend = streaming_backend(pieces, false).await;
    let proxy = proxy(&backend, &[]);
    let output = stream_chat(&proxy, "say it in French").await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("café ünïcödé 😀"), "{stdout}");
    assert!(!stdout.contains('\u{fffd}'), "{stdout}");
}

#[tokio::test]
async fn the_client_gives_up_on_a_server_that_never_answers() {
    use attested_examples::chat_client::ClientLimits;
    // Accepts connections and never says a word.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let limits = ClientLimits {
        connect_timeout: Duration::from_millis(300),
        ..ClientLimits::default()
    };
    // Any check will do: the client never gets as far as evidence.
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let check = check_for(&proxy(&mock.url(), &[])).await;
    for pinned in [Some([9; 32]), None] {
        let started = std::time::Instant::now();
        let outcome = VerifiedChat::connect_with_limits(
            &url,
            Config::new(Profile::V1),
            pinned,
            &check,
            limits.clone(),
        )
        .await;
        let error = outcome.err().unwrap().to_string();
        assert!(error.contains("timed out"), "{error}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_caps_a_streamed_answer_in_size_and_time() {
    use attested_examples::chat_client::ClientLimits;
    let mut pieces: Vec<Vec<u8>> = (0..20).map(|_| event(&"x".repeat(60_000))).collect();
    pieces.push(b"data: [DONE]\n\n".to_vec());
    let backend = streaming_backend(pieces, false).await;
    let proxy = proxy(&backend, &[]);
    let check = check_for(&proxy).await;

    // 1.2 MB of chunks: over the 1 MiB default.
    let mut chat = VerifiedChat::connect(&proxy.url(), Config::new(Profile::V1), None, &check)
        .await
        .unwrap();
    let mut seen = 0;
    let error = chat
        .ask("talk", true, |delta| seen += delta.len())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("streamed answer over"),
        "{error}"
    );
    assert!(seen <= 1 << 20, "{seen}");

    // The pieces come 100 ms apart: an answer timeout of 500 ms ends it.
    let limits = ClientLimits {
        answer_timeout: Duration::from_millis(500),
        max_answer: 8 << 20,
        ..ClientLimits::default()
    };
    let mut chat = VerifiedChat::connect_with_limits(
        &proxy.url(),
        Config::new(Profile::V1),
        None,
        &check,
        limits,
    )
    .await
    .unwrap();
    let error = chat.ask("talk", true, |_| {}).await.unwrap_err();
    assert!(error.to_string().contains("timed out"), "{error}");
}

/// A backend that sends the start of a streamed answer and then nothing, keeping the
/// connection open: the relayed answer does not count as the client's silence, so before
/// the core's answer deadline the session (one of `--max-sessions`) was held for ever and the
/// client waited. Now the proxy ends the answer with an `error` once the deadline passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_stalls_mid_answer_ends_it_with_an_error_at_the_deadline() {
    let app = axum::Router::new().route(
        "/v1/chat/completions",
        axum::routing::post(|| async {
            let start = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from(event(
                "The start of an",
            )))]);
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(
                    start.chain(futures_util::stream::pending()),
                ))
                .unwrap()
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(axum::serve(listener, app).into_future());
    let proxy = proxy(&backend, &["--answer-timeout-ms", "1500"]);
    let output = tokio::time::timeout(
        Duration::from_secs(60),
        stream_chat(&proxy, "tell me everything"),
    )
    .await
    .expect("the answer never ended");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.contains("The start of an"), "{stdout}");
    assert!(!output.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("answer interrupted"), "{stderr}");
}
