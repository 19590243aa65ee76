//! Load driver for the Azure suite and dialect, outside the servers: our `ohttp-gateway
//! --azure-compat` (DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM, `--tee sim`) and, with
//! `--ms-server PATH`, Microsoft's attested-ohttp-server (its `ohttp-server` binary) beside it,
//! in the same run, against one `mock-whisper` started as a child process on 127.0.0.1.
//!
//! Microsoft's server runs with `--local-key` (a fresh P-384 key as KID 0, offered with
//! HKDF-SHA384/AES-256-GCM first; `ohttp-server/src/cache.rs:31-56`) and `--target` the mock:
//! it forwards the decapsulated inner request's method, header fields and content to
//! `--target` with the path set to the inner request's path (or an outer `enginetarget`
//! header's), over an HTTP client built for each request (`ohttp-server/src/lib.rs:61-119`,
//! the client at `lib.rs:103`). The inner path here is `/v1/audio/transcriptions`, which our
//! gateway forwards unchanged too (an empty authority goes to `--default-authority`), so both
//! reach the mock's only route and the mock needs no flag. Microsoft's answer is the target's
//! raw body in its chunk stream, status and headers in clear (`lib.rs:276-308`); our
//! `--azure-compat` answers the same way.
//!
//! For each server in turn (ours first; Microsoft's first with `--ms-first`, so that runs can
//! alternate on a machine whose load drifts) it reads the key list from `GET /discover` (hex, as
//! Microsoft's local-key mode serves it, `lib.rs:311-347`), makes one warm-up request, then runs
//! `--clients` tasks (default 32) for `--secs` seconds (default 15): each sends fresh 16 KiB
//! transcription requests encapsulated with our Microsoft-dialect client (`attested_ohttp`, the
//! request as Microsoft's client builds it: empty authority, plain RFC 9458 under
//! `message/ohttp-chunked-req` to `POST /score`), each over its own keep-alive HTTP/1.1
//! connection. With `--requests N` (default 8,000; 0 encapsulates during the run instead) the
//! N requests are encapsulated before the clock starts, N / clients per task, and the run ends
//! when they are all answered or at `--secs`: the client's P-384 encapsulation costs as much
//! CPU as the server's decapsulation, so encapsulating during the run on the same 2 cores
//! measures the driver as much as the server. Every answer is decrypted and checked that the decrypted chunk stream is the mock's transcript of exactly
//! that request (its length, SHA-256 and a per-request model name); every error and wrong
//! answer is counted. It reports, per server, requests/s, p50/p99 latency, peak RSS (VmHWM),
//! CPU seconds (and the mock's and the driver's own, which share the cores), and the ratios
//! ours/theirs of requests/s, peak RSS and requests per server CPU second, with the machine's
//! load average before and after each.
//!
//! Microsoft's server is not part of this repository: build it from its source outside it
//! (README, "Benchmarks"). Without `--ms-server` only ours is measured.
//!
//! Bounded: at most 256 clients, 120 s of load per server, every request with a 30 s timeout,
//! every server given 30 s to come up.
//! Run: `cargo build --release -p attested-examples --bins` then
//! `cargo bench -p attested-benches --bench azure_load [-- --clients N --secs S --ms-server PATH
//! --ms-first]`
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
use std::time::{Duration, Instant};

use attested_examples::whisper_client::{azure_transcription_request, post_azure_encapsulated};
use attested_ohttp::client::PendingResponse;
use attested_ohttp::{Accepted, Client, Measurements, Suite, Workload, key_config_binding};
use load_common::{
    Counts, Expected, MAX_CLIENTS, MAX_SECS, Outcome, Server, free_loopback_addr, load_average,
};

/// At most this many requests are encapsulated ahead (16.5 KB each: about 165 MB).
const MAX_REQUESTS: u64 = 10_000;
const OURS: &str = "ours (ohttp-gateway --azure-compat)";
const THEIRS: &str = "theirs (attested-ohttp-server --local-key)";
/// The path both servers forward the inner request to: the mock's route.
const INNER_PATH: &str = "/v1/audio/transcriptions";

/// A client for the server's `/discover` key list, which must offer the Azure suite.
///
/// Microsoft's `--local-key` mode has no evidence to appraise, so the list is taken as it
/// comes from our own child (the binding is asserted, not verified), for both servers alike:
/// attestation is `gateway_load`'s and the tests' subject, not this driver's.
async fn discover(base: &str) -> Client {
    let answer = attested_examples::tls::get(format!("{base}/discover"))
        .await
        .unwrap();
    assert!(answer.status().is_success(), "{base}/discover");
    let list = hex::decode(answer.text().await.unwrap().trim()).unwrap();
    let accepted = Accepted::assertion(
        key_config_binding(&list),
        Measurements::new(),
        Workload::Any,
    );
    let client = Client::new(&list, &accepted).unwrap();
    assert_eq!(client.suite(), Suite::P384_AES256GCM, "{base}: suite");
    client
}

/// Request `seq` of task `task`, encapsulated, with what its answer must say.
struct Prepared {
    enc: Vec<u8>,
    pending: PendingResponse,
    expected: Expected,
}

fn prepare(client: &Client, task: u64, seq: u64) -> Prepared {
    let (audio, model, expected) = Expected::request(task, seq);
    let inner = azure_transcription_request(&audio, "load.wav", &model, INNER_PATH).unwrap();
    let (enc, pending) = client.encapsulate(&inner, &mut rand::rng()).unwrap();
    Prepared {
        enc,
        pending,
        expected,
    }
}

/// One request: post, decrypt the chunk stream, check. `Err` names what went wrong, `true`
/// for an answer that came but was wrong.
async fn one(http: &reqwest::Client, url: &str, prepared: Prepared) -> Outcome {
    let answer = post_azure_encapsulated(http, url, &[], prepared.enc, prepared.pending)
        .await
        // A transport error is an error; a 2xx answer that did not decrypt is a wrong one.
        .map_err(|e| (e.downcast_ref::<reqwest::Error>().is_none(), e.to_string()))?;
    if answer.status != 200 || !answer.decrypted {
        return Err((
            false,
            format!(
                "answered {} ({}): {}",
                answer.status,
                if answer.decrypted {
                    "decrypted"
                } else {
                    "in clear"
                },
                String::from_utf8_lossy(&answer.body)
            ),
        ));
    }
    prepared.expected.check(&answer.body)
}

/// What one server did under the load.
struct Measured {
    ok: u64,
    rate: f64,
    peak_kib: u64,
    cpu: f64,
}

/// How the load is made.
#[derive(Clone, Copy)]
struct Load {
    clients: u64,
    secs: u64,
    /// Requests encapsulated before the clock starts (0: during the run).
    requests: u64,
}

/// Drives `server` (`POST {url}/score`) as `load` says and prints its figures.
async fn drive(name: &str, server: &Server, mock: &Server, load: Load) -> Measured {
    let Load {
        clients,
        secs,
        requests,
    } = load;
    let client = Arc::new(discover(&server.url).await);
    let url = Arc::new(format!("{}/score", server.url));
    // Warm: one checked answer before the clock starts.
    let http = attested_examples::tls::http().unwrap();
    one(&http, &url, prepare(&client, 0, 0))
        .await
        .unwrap_or_else(|(_, e)| panic!("{name}: warm-up request: {e}"));
    let per_task = requests.div_ceil(clients);
    let mut prepared: Vec<Vec<Prepared>> = (1..=clients)
        .map(|task| {
            (1..=per_task)
                .rev()
                .map(|seq| prepare(&client, task, seq))
                .collect()
        })
        .collect();

    let load_before = load_average();
    let rss_idle = server.status_kib("VmRSS:");
    let counts = Arc::new(Counts::default());
    let cpu_before = server.cpu();
    let mock_cpu_before = mock.cpu();
    let driver_cpu_before = load_common::cpu_time(std::process::id());
    let started = Instant::now();
    let deadline = started + Duration::from_secs(secs);
    let clients = (1..=clients).map(|task| {
        let (url, client) = (url.clone(), client.clone());
        let mut queue = prepared.pop().unwrap_or_default();
        let encapsulate_live = queue.is_empty();
        let http = load_common::task_http();
        move |seq| {
            let request = if encapsulate_live {
                prepare(&client, task, seq)
            } else {
                queue.pop()?
            };
            let (http, url) = (http.clone(), url.clone());
            Some(async move { one(&http, &url, request).await })
        }
    });
    let mut latencies = load_common::run_clients(clients, &counts, deadline, 1).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = (server.cpu() - cpu_before).as_secs_f64();
    let mock_cpu = (mock.cpu() - mock_cpu_before).as_secs_f64();
    let driver_cpu = (load_common::cpu_time(std::process::id()) - driver_cpu_before).as_secs_f64();
    latencies.sort();

    let (ok, _, _) = counts.totals();
    let peak_kib = server.status_kib("VmHWM:");
    println!(
        "  {name}: {wall:.1} s, load average {load_before} (before), {} (after)",
        load_average()
    );
    let rate = counts.print("    ", wall, &latencies);
    println!(
        "    server CPU {cpu:.1} s ({:.2} cores, {:.0} req per CPU second), mock-whisper CPU {mock_cpu:.1} s, driver CPU {driver_cpu:.1} s; RSS {rss_idle} KiB idle, peak {peak_kib} KiB",
        cpu / wall,
        ok as f64 / cpu.max(f64::EPSILON)
    );
    Measured {
        ok,
        rate,
        peak_kib,
        cpu,
    }
}

#[tokio::main]
async fn main() {
    let flags = load_common::Flags::from_env();
    let clients = flags.number("clients", 32, MAX_CLIENTS).max(1);
    let secs = flags.number("secs", 15, MAX_SECS).max(1);
    let requests = flags.number("requests", 8_000, MAX_REQUESTS);
    let load = Load {
        clients,
        secs,
        requests,
    };
    let dir = flags
        .text("bin-dir")
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../target/release").to_owned());
    let ms_server = flags.text("ms-server");
    let ms_first = std::env::args().any(|a| a == "--ms-first");
    if ms_server.is_some() && std::env::var_os("RUST_LOG").is_some() {
        eprintln!(
            "azure_load: RUST_LOG is set; Microsoft's server logs by it, which costs it time"
        );
    }

    let mock = Server::start(&format!("{dir}/mock-whisper"), &["--listen", "127.0.0.1:0"]);
    println!(
        "azure_load: P-384/HKDF-SHA384/AES-256-GCM, Microsoft's dialect (POST /score, chunked answer), 16 KiB requests, {clients} clients, {secs} s per server at most, {}",
        if requests == 0 {
            "encapsulated during the run".to_owned()
        } else {
            format!("{requests} requests encapsulated before the clock")
        }
    );
    let gateway = Server::start(
        &format!("{dir}/ohttp-gateway"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--target",
            &mock.url,
            "--suite",
            "p384-aes256gcm",
            "--tee",
            "sim",
            "--azure-compat",
        ],
    );
    let Some(ms_server) = ms_server else {
        drive(OURS, &gateway, &mock, load).await;
        println!("  Microsoft's server not measured (no --ms-server PATH)");
        return;
    };
    // Started before either is driven; the other one idles while one is.
    let addr = free_loopback_addr();
    let theirs_server = Server::start_polled(
        &ms_server,
        &["--address", &addr, "--target", &mock.url, "--local-key"],
        &addr,
        "/discover",
    )
    .await;
    let (ours, theirs) = if ms_first {
        let theirs = drive(THEIRS, &theirs_server, &mock, load).await;
        (drive(OURS, &gateway, &mock, load).await, theirs)
    } else {
        let ours = drive(OURS, &gateway, &mock, load).await;
        (ours, drive(THEIRS, &theirs_server, &mock, load).await)
    };
    let per_cpu = |m: &Measured| m.ok as f64 / m.cpu.max(f64::EPSILON);
    println!(
        "  ours/theirs: req/s {:.2}x; peak RSS {:.2}x; req per CPU second {:.2}x",
        ours.rate / theirs.rate.max(f64::EPSILON),
        ours.peak_kib as f64 / theirs.peak_kib.max(1) as f64,
        per_cpu(&ours) / per_cpu(&theirs).max(f64::EPSILON)
    );
}
