//! What the load drivers share: child servers on loopback, their memory and CPU time from
//! `/proc`, the machine's load average, a bounded flag parser and RSS sampling for soaks.
#![allow(dead_code)]

use sha2::Digest as _;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server started as a child process, killed when dropped.
pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Server {
    /// Starts `bin` and reads its address from the first line it prints (`... listening on
    /// ADDR ...`).
    pub(crate) fn start(bin: &str, args: &[&str]) -> Self {
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

    /// Starts `bin` that prints no address: it is told `addr` and polled at `ready_path`
    /// until it answers 200 (at most 30 s).
    pub(crate) async fn start_polled(
        bin: &str,
        args: &[&str],
        addr: &str,
        ready_path: &str,
    ) -> Self {
        let child = Command::new(bin)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{bin}: {e}"));
        let server = Self {
            child,
            url: format!("http://{addr}"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let url = format!("{}{ready_path}", server.url);
        loop {
            if let Ok(r) = attested_examples::tls::get(url.as_str()).await
                && r.status().is_success()
            {
                return server;
            }
            assert!(Instant::now() < deadline, "{bin} did not come up at {url}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A `/proc/PID/status` field in KiB (`VmRSS:`, `VmHWM:`).
    pub(crate) fn status_kib(&self, field: &str) -> u64 {
        status_kib(self.pid(), field)
    }

    /// User + system CPU time so far.
    pub(crate) fn cpu(&self) -> Duration {
        cpu_time(self.pid())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// utime + stime of `pid` from `/proc/PID/stat`, at the kernel's 100 ticks a second.
pub(crate) fn cpu_time(pid: u32) -> Duration {
    stat_cpu_time(&format!("/proc/{pid}/stat"))
}

/// utime + stime of the calling thread: what a single-threaded measurement costs in CPU,
/// whatever else the machine runs (wall time counts the time the thread waited for a core).
pub(crate) fn this_thread_cpu_time() -> Duration {
    stat_cpu_time("/proc/thread-self/stat")
}

fn stat_cpu_time(path: &str) -> Duration {
    let stat = std::fs::read_to_string(path).unwrap();
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let rest = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

/// The machine's load averages (1, 5, 15 min), as `uptime` gives them.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// A free loopback address (bound, then released) for servers that take a fixed one.
pub(crate) fn free_loopback_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// `--name VALUE` flags (other arguments, such as cargo bench's `--bench`, are ignored).
pub(crate) struct Flags(Vec<String>);

impl Flags {
    pub(crate) fn from_env() -> Self {
        Self(std::env::args().skip(1).collect())
    }

    pub(crate) fn text(&self, name: &str) -> Option<String> {
        let flag = format!("--{name}");
        self.0
            .iter()
            .position(|a| *a == flag)
            .and_then(|i| self.0.get(i + 1).cloned())
    }

    /// A number flag, `default` when absent, clamped to `max` (every load is bounded).
    pub(crate) fn number(&self, name: &str, default: u64, max: u64) -> u64 {
        self.text(name)
            .map(|v| {
                v.parse()
                    .unwrap_or_else(|_| panic!("--{name} {v}: not a number"))
            })
            .unwrap_or(default)
            .min(max)
    }
}

/// The audio of the transcription load drivers' requests: 16 KiB each.
pub(crate) const AUDIO_LEN: usize = 16 << 10;

/// The audio of request `seq` of client `task`: [`AUDIO_LEN`] bytes that differ between
/// requests.
pub(crate) fn audio(task: u64, seq: u64) -> Vec<u8> {
    let mut audio = vec![0u8; AUDIO_LEN];
    let mut state = task.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ seq;
    for chunk in audio.chunks_mut(8) {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    audio
}

/// What the mock's transcript of one load request must say: the audio's length and SHA-256,
/// and the request's own model name.
pub(crate) struct Expected {
    model: String,
    digest: String,
}

impl Expected {
    /// The audio of request `seq` of client `task` ([`audio`]), the model name it is sent with,
    /// and what its answer must say.
    pub(crate) fn request(task: u64, seq: u64) -> (Vec<u8>, String, Self) {
        let audio = audio(task, seq);
        let model = format!("load-{task}-{seq}");
        let expected = Self {
            model: model.clone(),
            digest: hex::encode(sha2::Sha256::digest(&audio)),
        };
        (audio, model, expected)
    }

    /// Checks the mock's JSON answer: `Err((true, _))` unless it is this request's transcript.
    pub(crate) fn check(&self, answer: &[u8]) -> Outcome {
        let answer: serde_json::Value =
            serde_json::from_slice(answer).map_err(|e| (true, e.to_string()))?;
        if answer["bytes"] != AUDIO_LEN
            || answer["sha256"].as_str() != Some(self.digest.as_str())
            || answer["model"].as_str() != Some(self.model.as_str())
        {
            return Err((true, format!("wrong answer {answer}")));
        }
        Ok(())
    }
}

/// The `p` quantile (0..=1) of `sorted` latencies, zero for none.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The median of `values` (sorted in place): the middle one, or the mean of the middle two.
pub(crate) fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len().is_multiple_of(2) {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// How often a soak samples the server's RSS.
pub(crate) const SOAK_SAMPLE: Duration = Duration::from_secs(10);

/// RSS samples taken every [`SOAK_SAMPLE`] during a soak.
pub(crate) struct RssSamples {
    pub(crate) samples: Vec<(Duration, u64)>,
}

impl RssSamples {
    pub(crate) fn new() -> Self {
        Self {
            samples: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, at: Duration, kib: u64) {
        self.samples.push((at, kib));
    }

    /// Prints the samples and their spread (max over min), the soak's verdict on memory.
    pub(crate) fn print_summary(&self) {
        let min = self.samples.iter().map(|s| s.1).min().unwrap_or(0);
        let max = self.samples.iter().map(|s| s.1).max().unwrap_or(0);
        let spread = max as f64 / min.max(1) as f64 - 1.0;
        let line: Vec<String> = self
            .samples
            .iter()
            .map(|(_, kib)| kib.to_string())
            .collect();
        println!(
            "  soak: RSS every {} s (KiB): {}",
            SOAK_SAMPLE.as_secs(),
            line.join(" ")
        );
        println!(
            "  soak: min {min} KiB, max {max} KiB, max/min {:.3} ({:+.1} %)",
            1.0 + spread,
            spread * 100.0
        );
    }
}

/// What one request of a driver came to: `Err((true, _))` an answer that came but was wrong,
/// `Err((false, _))` an error (as [`Counts::record`] counts them).
pub(crate) type Outcome = Result<(), (bool, String)>;

/// Runs one task per client until `deadline`, or until that client's `next` has no more
/// requests: `next(seq)` prepares request `seq` (counted from `first_seq`), which is timed from
/// when it is sent; every outcome goes into `counts`. Returns the answered requests' latencies.
pub(crate) async fn run_clients<N, F>(
    clients: impl IntoIterator<Item = N>,
    counts: &std::sync::Arc<Counts>,
    deadline: Instant,
    first_seq: u64,
) -> Vec<Duration>
where
    N: FnMut(u64) -> Option<F> + Send + 'static,
    F: std::future::Future<Output = Outcome> + Send + 'static,
{
    let mut tasks = Vec::new();
    for mut next in clients {
        let counts = counts.clone();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut seq = first_seq;
            while Instant::now() < deadline {
                let Some(request) = next(seq) else {
                    break;
                };
                let sent = Instant::now();
                let outcome = request.await;
                if outcome.is_ok() {
                    latencies.push(sent.elapsed());
                }
                counts.record(outcome);
                seq += 1;
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap());
    }
    latencies
}

/// The bare `ohttp` crate's server with a fresh X25519 / HKDF-SHA256 / AES-128-GCM key (id 1),
/// and its encoded key configuration: the independent peer the drivers and benches compare with.
pub(crate) fn bare_ohttp_server() -> (ohttp::Server, Vec<u8>) {
    use ohttp::hpke::{Aead, Kdf, Kem};
    let config = ohttp::KeyConfig::new(
        1,
        Kem::X25519Sha256,
        vec![ohttp::SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm)],
    )
    .unwrap();
    let server = ohttp::Server::new(config).unwrap();
    let encoded = server.config().encode().unwrap();
    (server, encoded)
}

/// The most clients a driver starts.
pub(crate) const MAX_CLIENTS: u64 = 256;
/// The longest load a driver makes (soaks have their own bound).
pub(crate) const MAX_SECS: u64 = 120;
/// Every request of a driver is given this long.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What the clients of a run saw: answers checked, errors, wrong answers, and the first
/// error's text. Shared by the client tasks.
#[derive(Default)]
pub(crate) struct Counts {
    pub(crate) ok: std::sync::atomic::AtomicU64,
    pub(crate) http_errors: std::sync::atomic::AtomicU64,
    pub(crate) wrong: std::sync::atomic::AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Counts {
    /// Counts one request's outcome: `Err((true, _))` is an answer that came but was wrong,
    /// `Err((false, _))` an error.
    pub(crate) fn record(&self, outcome: Outcome) {
        use std::sync::atomic::Ordering::Relaxed;
        match outcome {
            Ok(()) => {
                self.ok.fetch_add(1, Relaxed);
            }
            Err((wrong, e)) => {
                let counter = if wrong {
                    &self.wrong
                } else {
                    &self.http_errors
                };
                counter.fetch_add(1, Relaxed);
                self.first_error.lock().unwrap().get_or_insert(e);
            }
        }
    }

    /// (answers checked, errors, wrong answers).
    pub(crate) fn totals(&self) -> (u64, u64, u64) {
        use std::sync::atomic::Ordering::Relaxed;
        (
            self.ok.load(Relaxed),
            self.http_errors.load(Relaxed),
            self.wrong.load(Relaxed),
        )
    }

    /// The first error seen, if any.
    pub(crate) fn first_error(&self) -> Option<String> {
        self.first_error.lock().unwrap().clone()
    }
}

/// A client task's own HTTP client: one keep-alive connection, every request bounded by
/// [`REQUEST_TIMEOUT`].
pub(crate) fn task_http() -> reqwest::Client {
    attested_examples::tls::http_builder()
        .unwrap()
        .pool_max_idle_per_host(1)
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap()
}

impl Counts {
    /// Prints what the clients saw, `indent` deep: the counts, the first error, and the rate
    /// and latency over `wall` seconds (`latencies` sorted). Returns the requests/s.
    pub(crate) fn print(&self, indent: &str, wall: f64, latencies: &[Duration]) -> f64 {
        let (ok, http_errors, wrong) = self.totals();
        let rate = ok as f64 / wall;
        println!("{indent}answered and checked: {ok}; errors {http_errors}; wrong answers {wrong}");
        if let Some(e) = self.first_error() {
            println!("{indent}first error: {e}");
        }
        println!(
            "{indent}{rate:.0} req/s; latency p50 {:.2} ms, p99 {:.2} ms",
            percentile(latencies, 0.50).as_secs_f64() * 1e3,
            percentile(latencies, 0.99).as_secs_f64() * 1e3
        );
        rate
    }
}
