//! Load driver for `private-llm-proxy`, outside the proxy: it starts the proxy (and mock-llm)
//! as child processes on 127.0.0.1, opens `NOISE_LOAD_SESSIONS` (default 1,000) concurrent
//! Noise v1 sessions, each verified as `verified-chat` verifies one (DCAP under the simulated
//! root, REPORTDATA and session bindings), holds them idle, and reports:
//!
//! - the proxy's resident set before and while holding them, and the cost per idle session;
//! - verified sessions set up per second (handshake + attestation + the client's DCAP check);
//! - every held session still answers a chat afterwards (nothing lost).
//!
//! `--soak SECS` (default off, at most 3,600): then, for SECS seconds, 32 workers take turns
//! over the held sessions, each asking and checking the answer, with the proxy's RSS sampled
//! every 10 s; reports the samples and their max/min ratio, errors and wrong answers.
//!
//! Bounded: at most 4,096 sessions, 64 setting up at once, 180 s to set up and check them.
//! Run: `cargo build -p attested-examples --release --bins` then
//! `NOISE_LOAD_BIN_DIR=target/release cargo bench -p attested-benches --bench noise_load [-- --soak 600]`
//! (the directory holding `private-llm-proxy` and `mock-llm`; default `target/release`).
// A driver of our own children on loopback: a failure to read their /proc files or to reach them
// is a failed run, so it panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation
)]

mod load_common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use attested_examples::chat_client::VerifiedChat;
use attested_noise::{Config, Profile};
use attested_tdx::{Collateral, TrustAnchor};
use attested_tdx::{TdxAppraiser, Verifier};
use load_common::{RssSamples, SOAK_SAMPLE, Server, load_average};
use sha2::{Digest, Sha256};

const MAX_SESSIONS: usize = 4096;
const SETTING_UP_AT_ONCE: usize = 64;
const TIME_LIMIT: Duration = Duration::from_secs(180);
const MAX_SOAK_SECS: u64 = 3600;
const SOAK_WORKERS: usize = 32;

#[tokio::main]
async fn main() {
    let flags = load_common::Flags::from_env();
    let sessions: usize = std::env::var("NOISE_LOAD_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .min(MAX_SESSIONS);
    let soak = flags.number("soak", 0, MAX_SOAK_SECS);
    let dir = std::env::var("NOISE_LOAD_BIN_DIR")
        .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release").to_owned());
    let mock = Server::start(&format!("{dir}/mock-llm"), &["--listen", "127.0.0.1:0"]);
    let max = (sessions + 16).to_string();
    let proxy = Server::start(
        &format!("{dir}/private-llm-proxy"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--backend",
            &mock.url,
            "--tee",
            "sim",
            "--max-sessions",
            &max,
        ],
    );
    let get = |path: &str| {
        let url = format!("{}{path}", proxy.url);
        async move {
            attested_examples::tls::get(url)
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    let check = Arc::new(TdxAppraiser::new(
        Verifier::new(TrustAnchor::from_pem(get("/sim/root").await.as_bytes()).unwrap()),
        Collateral::from_qvl_json(get("/collateral").await.as_bytes()).unwrap(),
        attested_tdx::Policy::any_workload(),
    ));
    let url = proxy.url.clone();
    let connect = {
        let (url, check) = (url.clone(), check.clone());
        move || {
            let (url, check) = (url.clone(), check.clone());
            async move {
                VerifiedChat::connect(&url, Config::new(Profile::V1), None, check.as_ref()).await
            }
        }
    };
    // Warm up the proxy with one session, so that the baseline holds what any session costs.
    let mut warm = connect().await.unwrap();
    warm.ask("warm up", false, |_| {}).await.unwrap();
    warm.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let rss_before = proxy.status_kib("VmRSS:");

    let deadline = Instant::now() + TIME_LIMIT;
    let started = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(SETTING_UP_AT_ONCE));
    let mut tasks = Vec::with_capacity(sessions);
    for _ in 0..sessions {
        let gate = gate.clone();
        let connect = connect.clone();
        tasks.push(tokio::spawn(async move {
            let _turn = gate.acquire_owned().await.unwrap();
            tokio::time::timeout_at(deadline.into(), connect()).await
        }));
    }
    let mut held = Vec::with_capacity(sessions);
    let mut failed = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Ok(chat)) => held.push(chat),
            _ => failed += 1,
        }
    }
    let setup = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_held = proxy.status_kib("VmRSS:");
    let per_session = (rss_held.saturating_sub(rss_before) as f64) / held.len().max(1) as f64;

    // Nothing lost: every held session still answers.
    let mut answered = 0;
    for chat in &mut held {
        if Instant::now() > deadline {
            break;
        }
        if chat.ask("still there?", false, |_| {}).await.is_ok() {
            answered += 1;
        }
    }
    println!("noise_load: {} sessions held, {failed} failed", held.len());
    println!(
        "  verified sessions set up: {:.0}/s ({} in {:.2} s, {SETTING_UP_AT_ONCE} at once)",
        held.len() as f64 / setup.as_secs_f64(),
        held.len(),
        setup.as_secs_f64()
    );
    println!(
        "  proxy RSS: {rss_before} KiB idle, {rss_held} KiB holding them: {per_session:.1} KiB per idle session"
    );
    println!("  answered afterwards: {answered} of {}", held.len());
    println!("  proxy peak RSS: {} KiB", proxy.status_kib("VmHWM:"));
    println!("  load average {}", load_average());
    if soak > 0 {
        held = soak_sessions(&proxy, held, Duration::from_secs(soak)).await;
    }
    for chat in held {
        chat.close().await;
    }
}

/// Steady load for `time`: `SOAK_WORKERS` workers take turns over the held sessions, each
/// asking and checking the answer (mock-llm answers the prompt's SHA-256), with the proxy's
/// RSS sampled every `SOAK_SAMPLE`. Returns the sessions.
async fn soak_sessions(
    proxy: &Server,
    held: Vec<VerifiedChat>,
    time: Duration,
) -> Vec<VerifiedChat> {
    let count = held.len();
    let mut shares: Vec<Vec<VerifiedChat>> = (0..SOAK_WORKERS).map(|_| Vec::new()).collect();
    for (i, chat) in held.into_iter().enumerate() {
        shares[i % SOAK_WORKERS].push(chat);
    }
    let started = Instant::now();
    let deadline = started + time;
    let cpu_before = proxy.cpu();
    let mut workers = Vec::new();
    for (worker, mut share) in shares.into_iter().enumerate() {
        workers.push(tokio::spawn(async move {
            let (mut ok, mut failed, mut wrong, mut round) = (0u64, 0u64, 0u64, 0u64);
            let mut first_error = None;
            while Instant::now() < deadline && !share.is_empty() {
                for chat in &mut share {
                    let prompt = format!("soak {worker} {round}");
                    let expected = format!("sha256:{}", hex::encode(Sha256::digest(&prompt)));
                    match chat.ask(&prompt, false, |_| {}).await {
                        Ok(answer) if answer == expected => ok += 1,
                        Ok(answer) => {
                            wrong += 1;
                            first_error.get_or_insert(format!("wrong answer {answer}"));
                        }
                        Err(e) => {
                            failed += 1;
                            first_error.get_or_insert(e.to_string());
                        }
                    }
                    if Instant::now() >= deadline {
                        break;
                    }
                }
                round += 1;
            }
            (share, ok, failed, wrong, first_error)
        }));
    }
    let mut samples = RssSamples::new();
    samples.push(Duration::ZERO, proxy.status_kib("VmRSS:"));
    while Instant::now() + SOAK_SAMPLE <= deadline {
        tokio::time::sleep(SOAK_SAMPLE).await;
        samples.push(started.elapsed(), proxy.status_kib("VmRSS:"));
        eprintln!(
            "  {:>4.0} s: proxy RSS {} KiB, load {}",
            started.elapsed().as_secs_f64(),
            proxy.status_kib("VmRSS:"),
            load_average()
        );
    }
    let (mut held, mut ok, mut failed, mut wrong, mut first_error) = (Vec::new(), 0, 0, 0, None);
    for worker in workers {
        let (share, o, f, w, e) = worker.await.unwrap();
        held.extend(share);
        (ok, failed, wrong) = (ok + o, failed + f, wrong + w);
        first_error = first_error.or(e);
    }
    let wall = started.elapsed().as_secs_f64();
    println!(
        "noise_load soak: {count} sessions, {SOAK_WORKERS} asking at once, {wall:.0} s, load average {} (after)",
        load_average()
    );
    println!(
        "  answered and checked: {ok} ({:.0}/s); errors {failed}; wrong answers {wrong}; proxy CPU {:.1} s",
        ok as f64 / wall,
        (proxy.cpu() - cpu_before).as_secs_f64()
    );
    if let Some(e) = first_error {
        println!("  first error: {e}");
    }
    samples.print_summary();
    held
}
