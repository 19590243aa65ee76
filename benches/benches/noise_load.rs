//! Load driver for `private-llm-proxy`, outside the proxy: it starts the proxy (and mock-llm)
//! as child processes on 127.0.0.1, opens `NOISE_LOAD_SESSIONS` (default 1,000) concurrent
//! Noise v1 sessions, each verified as `verified-chat` verifies one (DCAP under the simulated
//! root, REPORTDATA and session bindings), holds them idle, and reports:
//!
//! - the proxy's resident set before and while holding them, and the cost per idle session;
//! - verified sessions set up per second (handshake + attestation + the client's DCAP check);
//! - every held session still answers a chat afterwards (nothing lost).
//!
//! Bounded: at most 4,096 sessions, 64 setting up at once, 120 s in all.
//! Run: `cargo build -p attested-examples --release --bins` then
//! `NOISE_LOAD_BIN_DIR=target/release cargo bench -p attested-benches --bench noise_load`
//! (the directory holding `private-llm-proxy` and `mock-llm`; default `target/release`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use attested_examples::chat_client::VerifiedChat;
use attested_examples::tdx_evidence::TdxCheck;
use attested_noise::{Config, Profile};
use attested_tdx::{Collateral, TrustAnchor};

const MAX_SESSIONS: usize = 4096;
const SETTING_UP_AT_ONCE: usize = 64;
const TIME_LIMIT: Duration = Duration::from_secs(180);

struct Server {
    child: Child,
    url: String,
}

impl Server {
    fn start(bin: &str, args: &[&str]) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e}"));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .split_once("listening on ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{bin} printed {line:?}"))
            .to_owned();
        // Keep reading its output so that it never blocks on a full pipe.
        std::thread::spawn(move || for _ in stdout.lines() {});
        Self {
            child,
            url: format!("http://{addr}"),
        }
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::main]
async fn main() {
    let sessions: usize = std::env::var("NOISE_LOAD_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
        .min(MAX_SESSIONS);
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
    let check = Arc::new(TdxCheck::new(
        TrustAnchor::from_pem(get("/sim/root").await.as_bytes()).unwrap(),
        Collateral::from_qvl_json(get("/collateral").await.as_bytes()).unwrap(),
        attested_tdx::Policy::any_workload(),
        SystemTime::now(),
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
    for chat in held {
        chat.close().await;
    }
}
