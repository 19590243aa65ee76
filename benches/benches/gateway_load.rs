//! Load driver for `ohttp-gateway`, outside the gateway: it starts the gateway (X25519,
//! AES-128-GCM, `--tee sim`) and `mock-whisper` as child processes on 127.0.0.1, then
//!
//! 1. measures the ceiling: the bare `ohttp` crate's server operations (decapsulate the 16 KiB
//!    request, encapsulate the gateway's answer to it) per CPU second of one thread (its own
//!    CPU time, so that a busy machine does not lower it), while the gateway is idle;
//! 2. runs `--clients` tasks (default 32) for `--secs` seconds (default 20): each encapsulates
//!    a fresh 16 KiB transcription request with the bare `ohttp` crate (the independent peer;
//!    each one fresh, since the gateway refuses a replayed encapsulation), POSTs
//!    it over its own keep-alive HTTP/1.1 connection and checks that the answer decrypts to
//!    the mock's transcript of exactly that request (its length, SHA-256 and a per-request
//!    model name); every error and wrong answer is counted;
//! 3. reports requests/s, p50/p99 latency, the gateway's peak RSS and CPU seconds, and its
//!    requests/s per gateway CPU core against the ceiling, with the machine's load average.
//!
//! With `--requests N` (at most 40,000) N requests a round are encapsulated before its clock
//! starts, as a wrk script would send bodies built beforehand (the round ends early if they run
//! out): the driver then leaves the gateway more of the two cores.
//!
//! The load comes in `--rounds` (default 5) equal parts, each followed by a second of the
//! ceiling: this shared machine's speed drifts by ±15 % within a minute, so each round's ratio
//! compares the gateway with the ceiling measured right after it, and the median of the rounds'
//! ratios is the figure.
//!
//! `--soak SECS` (default off, at most 3,600) runs the same load for SECS seconds instead, with
//! the gateway's RSS sampled every 10 s, and reports the samples and their max/min ratio.
//!
//! Instructions per request, where a timed ratio is too noisy to decide between two builds:
//! give `--bin-dir` a directory whose `ohttp-gateway` is a script that starts the real one under
//! `valgrind --tool=callgrind` in the background, records its pid and `wait`s (the driver kills
//! the script, not valgrind); run `-- --clients 2 --rounds 1 --secs S` for two values of S,
//! `kill -TERM` the valgrind'd gateway after each so that callgrind writes its totals, and divide
//! the difference of the totals by the difference of the answered counts (startup cancels out).
//! Under valgrind SHA-256 and AES run their portable code (it hides SHA-NI and VAES), so these
//! counts compare the HTTP path, not the crypto.
//!
//! Bounded: at most 256 clients, 120 s of load (or the soak), every request with a 30 s timeout.
//! Run: `cargo build --release -p attested-examples --bins` then
//! `cargo bench -p attested-benches --bench gateway_load [-- --clients N --secs S --rounds R
//! --requests N --soak S]`
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
    Counts, Expected, MAX_CLIENTS, MAX_SECS, Outcome, RssSamples, SOAK_SAMPLE, Server, audio,
    load_average, median,
};

const MAX_SOAK_SECS: u64 = 3600;
const MAX_ROUNDS: u64 = 20;
/// At most this many requests are encapsulated ahead per round (16.7 KB each: about 670 MB).
const MAX_REQUESTS: u64 = 40_000;
/// Each round's ceiling measurement.
const CEILING_TIME: Duration = Duration::from_secs(1);

/// Request `seq` of client `task`, encapsulated with the bare `ohttp` crate, with what its
/// answer must say.
struct Prepared {
    enc: Vec<u8>,
    pending: ohttp::ClientResponse,
    expected: Expected,
}

fn prepare(keys: &[u8], task: u64, seq: u64) -> Result<Prepared, (bool, String)> {
    let (audio, model, expected) = Expected::request(task, seq);
    let inner = transcription_request(&audio, "load.wav", &model, "whisper")
        .map_err(|e| (false, e.to_string()))?;
    let client =
        ohttp::ClientRequest::from_encoded_config_list(keys).map_err(|e| (false, e.to_string()))?;
    let (enc, pending) = client
        .encapsulate(&inner)
        .map_err(|e| (false, e.to_string()))?;
    Ok(Prepared {
        enc,
        pending,
        expected,
    })
}

/// One request: post, decapsulate, check. `Err` names what went wrong.
async fn one(http: &reqwest::Client, url: &str, prepared: Prepared) -> Outcome {
    let reply = http
        .post(url)
        .header("content-type", "message/ohttp-req")
        .body(prepared.enc)
        .send()
        .await
        .map_err(|e| (false, e.to_string()))?;
    let status = reply.status();
    let body = reply.bytes().await.map_err(|e| (false, e.to_string()))?;
    if !status.is_success() {
        return Err((false, format!("gateway answered {status}")));
    }
    let plain = prepared
        .pending
        .decapsulate(&body)
        .map_err(|e| (true, e.to_string()))?;
    let content = transcription_response(&plain).map_err(|e| (true, e.to_string()))?;
    prepared.expected.check(&content)
}

/// The bare `ohttp` crate's server operations: decapsulate a 16 KiB request and encapsulate
/// the gateway's answer to one.
struct Ceiling {
    server: ohttp::Server,
    /// Encapsulated beforehand, so that only the server's work is timed.
    requests: Vec<Vec<u8>>,
    response: Vec<u8>,
}

impl Ceiling {
    fn new(response: Vec<u8>) -> Self {
        let (server, encoded) = load_common::bare_ohttp_server();
        let inner = transcription_request(&audio(0, 0), "load.wav", "load-0-0", "whisper").unwrap();
        let requests = (0..512)
            .map(|_| {
                ohttp::ClientRequest::from_encoded_config(&encoded)
                    .unwrap()
                    .encapsulate(&inner)
                    .unwrap()
                    .0
            })
            .collect();
        Self {
            server,
            requests,
            response,
        }
    }

    /// Operations per CPU second of this thread, run for `CEILING_TIME`.
    fn per_cpu_second(&self) -> f64 {
        let cpu_before = load_common::this_thread_cpu_time();
        let started = Instant::now();
        let mut done = 0u64;
        while started.elapsed() < CEILING_TIME {
            for enc in &self.requests {
                let (plain, reply) = self.server.decapsulate(enc).unwrap();
                std::hint::black_box(plain);
                std::hint::black_box(reply.encapsulate(&self.response).unwrap());
                done += 1;
            }
        }
        // Per CPU second, as the gateway's figure is: on a busy machine the thread also waits
        // for a core, and wall time would count the wait against the ceiling.
        let cpu = load_common::this_thread_cpu_time() - cpu_before;
        done as f64 / cpu.as_secs_f64().max(0.01)
    }
}

/// What one client task needs: its keep-alive connection and where to send.
struct LoadClient {
    task: u64,
    http: reqwest::Client,
    url: Arc<String>,
    keys: Arc<Vec<u8>>,
}

/// Runs every client until `deadline`, request numbers starting at `first_seq` (so that no
/// two requests of a run are alike); returns the answered requests' latencies. With `queues`
/// (one per client, taken from the end) a client sends those requests, encapsulated before the
/// clock started, and stops when its queue is empty; without, it encapsulates each as it goes.
async fn load(
    clients: &[Arc<LoadClient>],
    queues: Option<Vec<Vec<Prepared>>>,
    counts: &Arc<Counts>,
    deadline: Instant,
    first_seq: u64,
) -> Vec<Duration> {
    let mut queues = queues.map(Vec::into_iter);
    let clients: Vec<_> = clients
        .iter()
        .map(|client| {
            let client = client.clone();
            let mut queue = queues.as_mut().map(|q| q.next().unwrap_or_default());
            move |seq| {
                let request = match &mut queue {
                    Some(queue) => Ok(queue.pop()?),
                    None => prepare(&client.keys, client.task, seq),
                };
                let client = client.clone();
                Some(async move { one(&client.http, &client.url, request?).await })
            }
        })
        .collect();
    load_common::run_clients(clients, counts, deadline, first_seq).await
}

/// `per_client` requests for each of `clients`, numbered from `first_seq`, encapsulated on a
/// blocking thread; each queue is in reverse, for `pop`.
async fn prepare_queues(
    clients: &[Arc<LoadClient>],
    per_client: u64,
    first_seq: u64,
) -> Vec<Vec<Prepared>> {
    let tasks: Vec<(Arc<Vec<u8>>, u64)> =
        clients.iter().map(|c| (c.keys.clone(), c.task)).collect();
    tokio::task::spawn_blocking(move || {
        tasks
            .iter()
            .map(|(keys, task)| {
                (first_seq..first_seq + per_client)
                    .rev()
                    .map(|seq| {
                        prepare(keys, *task, seq)
                            .unwrap_or_else(|(_, e)| panic!("encapsulating: {e}"))
                    })
                    .collect()
            })
            .collect()
    })
    .await
    .unwrap()
}

#[tokio::main]
async fn main() {
    let flags = load_common::Flags::from_env();
    let clients = flags.number("clients", 32, MAX_CLIENTS).max(1);
    let secs = flags.number("secs", 20, MAX_SECS).max(1);
    let rounds = flags.number("rounds", 5, MAX_ROUNDS).clamp(1, secs);
    let requests = flags.number("requests", 0, MAX_REQUESTS);
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
    one(&http, &url, prepare(&keys, 0, 0).unwrap())
        .await
        .unwrap();
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
    let ceiling = Arc::new(
        tokio::task::spawn_blocking(move || Ceiling::new(response))
            .await
            .unwrap(),
    );
    let ceiling_now = || {
        let ceiling = ceiling.clone();
        async move {
            tokio::task::spawn_blocking(move || ceiling.per_cpu_second())
                .await
                .unwrap()
        }
    };

    let rss_idle = gateway.status_kib("VmRSS:");
    let load_clients: Vec<Arc<LoadClient>> = (1..=clients)
        .map(|task| {
            Arc::new(LoadClient {
                task,
                http: load_common::task_http(),
                url: url.clone(),
                keys: keys.clone(),
            })
        })
        .collect();
    let counts = Arc::new(Counts::default());
    if soak > 0 {
        let started = Instant::now();
        let deadline = started + Duration::from_secs(soak);
        let cpu_before = gateway.cpu();
        let running = {
            let (load_clients, counts) = (load_clients.clone(), counts.clone());
            tokio::spawn(async move { load(&load_clients, None, &counts, deadline, 1).await })
        };
        let mut samples = RssSamples::new();
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
        let mut latencies = running.await.unwrap();
        let wall = started.elapsed().as_secs_f64();
        let cpu = (gateway.cpu() - cpu_before).as_secs_f64();
        latencies.sort();
        println!(
            "gateway_load soak: X25519/AES-128-GCM, 16 KiB requests, {clients} clients, {wall:.1} s, load average {} (after)",
            load_average()
        );
        counts.print("  ", wall, &latencies);
        println!(
            "  gateway CPU {cpu:.1} s ({:.2} cores); gateway RSS {rss_idle} KiB idle, peak {} KiB",
            cpu / wall,
            gateway.status_kib("VmHWM:")
        );
        samples.print_summary();
        return;
    }

    let phase = Duration::from_secs_f64(secs as f64 / rounds as f64);
    let mut latencies = Vec::new();
    let mut ratios = Vec::new();
    let (mut wall, mut cpu, mut mock_cpu, mut answered) = (0.0, 0.0, 0.0, 0);
    for round in 0..rounds {
        let first_seq = 1 + round * (1 << 32);
        let queues = if requests > 0 {
            Some(prepare_queues(&load_clients, requests.div_ceil(clients), first_seq).await)
        } else {
            None
        };
        let ok_before = counts.ok.load(Ordering::Relaxed);
        let (cpu_before, mock_cpu_before) = (gateway.cpu(), mock.cpu());
        let started = Instant::now();
        latencies.extend(load(&load_clients, queues, &counts, started + phase, first_seq).await);
        let round_wall = started.elapsed().as_secs_f64();
        let round_cpu = (gateway.cpu() - cpu_before).as_secs_f64();
        let round_ok = counts.ok.load(Ordering::Relaxed) - ok_before;
        let per_core = round_ok as f64 / round_cpu.max(f64::EPSILON);
        let ceiling = ceiling_now().await;
        println!(
            "  round {}: {round_ok} answered in {round_wall:.1} s, gateway {round_cpu:.2} CPU s, {per_core:.0} req/s per core; ceiling {ceiling:.0}/s; ratio {:.2}x",
            round + 1,
            per_core / ceiling
        );
        ratios.push(per_core / ceiling);
        wall += round_wall;
        cpu += round_cpu;
        mock_cpu += (mock.cpu() - mock_cpu_before).as_secs_f64();
        answered += round_ok;
    }
    latencies.sort();
    println!(
        "gateway_load: X25519/AES-128-GCM, 16 KiB requests, {clients} clients, {wall:.1} s of load in {rounds} rounds, load average {} (after)",
        load_average()
    );
    counts.print("  ", wall, &latencies);
    println!(
        "  gateway CPU {cpu:.1} s ({:.2} cores), mock-whisper CPU {mock_cpu:.1} s; gateway RSS {rss_idle} KiB idle, peak {} KiB",
        cpu / wall,
        gateway.status_kib("VmHWM:")
    );
    println!(
        "  per gateway CPU core: {:.0} req/s overall; ratio to the bare ohttp server operations on one core, median of {rounds} rounds: {:.2}x",
        answered as f64 / cpu.max(f64::EPSILON),
        median(&mut ratios)
    );
}
