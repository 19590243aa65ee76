//! Load driver for `ohttp-gateway`, outside the gateway: it starts the gateway (X25519,
//! AES-128-GCM, `--tee sim`) and `mock-whisper` as child processes on 127.0.0.1, then
//!
//! 1. measures the ceiling: the bare `ohttp` crate's server operations (decapsulate the 16 KiB
//!    request, encapsulate the gateway's answer to it) per CPU second of one thread (its own
//!    CPU time, so that a busy machine does not lower it), while the gateway is idle;
//! 2. runs `--clients` tasks (default 32) for `--secs` seconds (default 15): each encapsulates
//!    a fresh 16 KiB transcription request with the bare `ohttp` crate (the independent peer;
//!    nothing is pre-encapsulated, since the gateway refuses a replayed encapsulation), POSTs
//!    it over its own keep-alive HTTP/1.1 connection and checks that the answer decrypts to
//!    the mock's transcript of exactly that request (its length, SHA-256 and a per-request
//!    model name); every error and wrong answer is counted;
//! 3. reports requests/s, p50/p99 latency, the gateway's peak RSS and CPU seconds, and its
//!    requests/s per gateway CPU core against the ceiling, with the machine's load average.
//!
//! `--soak SECS` (default off, at most 3,600) runs the same load for SECS seconds instead, with
//! the gateway's RSS sampled every 10 s, and reports the samples and their max/min ratio.
//!
//! Bounded: at most 256 clients, 120 s of load (or the soak), every request with a 30 s timeout.
//! Run: `cargo build --release -p attested-examples --bins` then
//! `cargo bench -p attested-benches --bench gateway_load [-- --clients N --secs S --soak S]`
//! (`--bin-dir DIR` names the directory holding `ohttp-gateway` and `mock-whisper`; default
//! `target/release`).
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
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use attested_examples::whisper_client::{transcription_request, transcription_response};
use load_common::{
    AUDIO_LEN, Counts, MAX_CLIENTS, MAX_SECS, RssSamples, SOAK_SAMPLE, Server, audio, load_average,
};
use ohttp::hpke::{Aead, Kdf, Kem};
use sha2::{Digest, Sha256};

const MAX_SOAK_SECS: u64 = 3600;
const CEILING_TIME: Duration = Duration::from_secs(3);

/// One request: encapsulate, post, decapsulate, check. `Err` names what went wrong.
async fn one(
    http: &reqwest::Client,
    url: &str,
    keys: &[u8],
    task: u64,
    seq: u64,
) -> Result<(), (bool, String)> {
    let audio = audio(task, seq);
    let model = format!("load-{task}-{seq}");
    let inner = transcription_request(&audio, "load.wav", &model, "whisper")
        .map_err(|e| (false, e.to_string()))?;
    let client =
        ohttp::ClientRequest::from_encoded_config_list(keys).map_err(|e| (false, e.to_string()))?;
    let (enc, pending) = client
        .encapsulate(&inner)
        .map_err(|e| (false, e.to_string()))?;
    let reply = http
        .post(url)
        .header("content-type", "message/ohttp-req")
        .body(enc)
        .send()
        .await
        .map_err(|e| (false, e.to_string()))?;
    let status = reply.status();
    let body = reply.bytes().await.map_err(|e| (false, e.to_string()))?;
    if !status.is_success() {
        return Err((false, format!("gateway answered {status}")));
    }
    let plain = pending
        .decapsulate(&body)
        .map_err(|e| (true, e.to_string()))?;
    let content = transcription_response(&plain).map_err(|e| (true, e.to_string()))?;
    let answer: serde_json::Value =
        serde_json::from_slice(&content).map_err(|e| (true, e.to_string()))?;
    let digest = hex::encode(Sha256::digest(&audio));
    if answer["bytes"] != AUDIO_LEN
        || answer["sha256"].as_str() != Some(digest.as_str())
        || answer["model"].as_str() != Some(model.as_str())
    {
        return Err((true, format!("wrong answer {answer}")));
    }
    Ok(())
}

/// The bare `ohttp` crate's server operations per second on this thread: decapsulate the
/// 16 KiB request and encapsulate `response` (the gateway's answer to one), for `CEILING_TIME`.
fn ceiling(response: &[u8]) -> f64 {
    let config = ohttp::KeyConfig::new(
        1,
        Kem::X25519Sha256,
        vec![ohttp::SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm)],
    )
    .unwrap();
    let server = ohttp::Server::new(config).unwrap();
    let encoded = server.config().encode().unwrap();
    let inner = transcription_request(&audio(0, 0), "load.wav", "load-0-0", "whisper").unwrap();
    // Encapsulated beforehand, so that only the server's work is timed.
    let requests: Vec<Vec<u8>> = (0..512)
        .map(|_| {
            ohttp::ClientRequest::from_encoded_config(&encoded)
                .unwrap()
                .encapsulate(&inner)
                .unwrap()
                .0
        })
        .collect();
    let cpu_before = load_common::this_thread_cpu_time();
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < CEILING_TIME {
        for enc in &requests {
            let (plain, reply) = server.decapsulate(enc).unwrap();
            std::hint::black_box(plain);
            std::hint::black_box(reply.encapsulate(response).unwrap());
            done += 1;
        }
    }
    // Per CPU second, as the gateway's figure is: on a busy machine the thread also waits for
    // a core, and wall time would count the wait against the ceiling.
    let cpu = load_common::this_thread_cpu_time() - cpu_before;
    done as f64 / cpu.as_secs_f64().max(0.01)
}

#[tokio::main]
async fn main() {
    let flags = load_common::Flags::from_env();
    let clients = flags.number("clients", 32, MAX_CLIENTS).max(1);
    let secs = flags.number("secs", 15, MAX_SECS).max(1);
    let soak = flags.number("soak", 0, MAX_SOAK_SECS);
    let dir = flags
        .text("bin-dir")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release").to_owned());

    let mock = Server::start(&format!("{dir}/mock-whisper"), &["--listen", "127.0.0.1:0"]);
    let gateway = Server::start(
        &format!("{dir}/ohttp-gateway"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--target",
            &mock.url,
            "--suite",
            "x25519-aes128gcm",
            "--tee",
            "sim",
        ],
    );
    let keys = attested_examples::tls::get(format!("{}/ohttp-keys", gateway.url))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    let keys = Arc::new(keys);
    let url = Arc::new(format!("{}/gateway", gateway.url));

    // One answer through the gateway, so that the ceiling encapsulates a response of the size
    // the gateway does, and the gateway is warm.
    let http = attested_examples::tls::http().unwrap();
    one(&http, &url, &keys, 0, 0).await.unwrap();
    let response = {
        let inner = transcription_request(&audio(0, 1), "load.wav", "load-0-1", "whisper").unwrap();
        let (enc, pending) = ohttp::ClientRequest::from_encoded_config_list(&keys)
            .unwrap()
            .encapsulate(&inner)
            .unwrap();
        let reply = http
            .post(url.as_str())
            .header("content-type", "message/ohttp-req")
            .body(enc)
            .send()
            .await
            .unwrap();
        pending.decapsulate(&reply.bytes().await.unwrap()).unwrap()
    };
    let ceiling = tokio::task::spawn_blocking(move || ceiling(&response))
        .await
        .unwrap();

    let rss_idle = gateway.status_kib("VmRSS:");
    let load_time = Duration::from_secs(if soak > 0 { soak } else { secs });
    let counts = Arc::new(Counts::default());
    let cpu_before = gateway.cpu();
    let mock_cpu_before = mock.cpu();
    let started = Instant::now();
    let deadline = started + load_time;
    let mut tasks = Vec::new();
    for task in 1..=clients {
        let (url, keys, counts) = (url.clone(), keys.clone(), counts.clone());
        tasks.push(tokio::spawn(async move {
            let http = load_common::task_http();
            let mut latencies = Vec::new();
            let mut seq = 0;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let outcome = one(&http, &url, &keys, task, seq).await;
                if outcome.is_ok() {
                    latencies.push(sent.elapsed());
                }
                counts.record(outcome);
                seq += 1;
            }
            latencies
        }));
    }
    let mut samples = RssSamples::new();
    if soak > 0 {
        samples.push(Duration::ZERO, gateway.status_kib("VmRSS:"));
        while Instant::now() + SOAK_SAMPLE <= deadline {
            tokio::time::sleep(SOAK_SAMPLE).await;
            samples.push(started.elapsed(), gateway.status_kib("VmRSS:"));
            let ok = counts.ok.load(Ordering::Relaxed);
            eprintln!(
                "  {:>4.0} s: gateway RSS {} KiB, {ok} answered, load {}",
                started.elapsed().as_secs_f64(),
                gateway.status_kib("VmRSS:"),
                load_average()
            );
        }
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    let wall = started.elapsed().as_secs_f64();
    let cpu = (gateway.cpu() - cpu_before).as_secs_f64();
    let mock_cpu = (mock.cpu() - mock_cpu_before).as_secs_f64();
    latencies.sort();

    let (ok, _, _) = counts.totals();
    let per_core = ok as f64 / cpu.max(f64::EPSILON);
    println!(
        "gateway_load: X25519/AES-128-GCM, 16 KiB requests, {clients} clients, {wall:.1} s, load average {} (after)",
        load_average()
    );
    counts.print("  ", wall, &latencies);
    println!(
        "  gateway CPU {cpu:.1} s ({:.2} cores), mock-whisper CPU {mock_cpu:.1} s; gateway RSS {rss_idle} KiB idle, peak {} KiB",
        cpu / wall,
        gateway.status_kib("VmHWM:")
    );
    println!(
        "  per gateway CPU core: {per_core:.0} req/s; bare ohttp server operations on one core: {ceiling:.0}/s; ratio {:.2}x",
        per_core / ceiling
    );
    if soak > 0 {
        samples.print_summary();
    }
}
