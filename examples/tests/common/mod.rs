//! Running the example servers as child processes, shared by the end-to-end tests.
#![allow(dead_code)] // each test binary uses only part of it

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdout, Command, Stdio};

/// A server started as a child process, killed when dropped.
pub(crate) struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Running {
    /// Starts `bin` and waits for the `... listening on ADDR ...` line it prints first.
    pub(crate) fn start(bin: &str, args: &[&str]) -> Self {
        Self::start_with_env(bin, args, &[])
    }

    /// As [`Running::start`], with `env` added to the child's environment.
    pub(crate) fn start_with_env(
        bin: &str,
        args: &[&str],
        env: &[(&str, &std::path::Path)],
    ) -> Self {
        let mut child = Command::new(bin)
            .args(args)
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .split_once("listening on ")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{bin} printed {line:?}"))
            .to_owned();
        Self {
            child,
            stdout,
            addr,
        }
    }

    /// The address it listens on.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// The server's base URL.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The server's peak resident set so far (`VmHWM`), in KiB.
    #[cfg(target_os = "linux")]
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no VmHWM in {status}"))
    }

    /// Stops the server and returns the rest of its standard output.
    pub(crate) fn stop(mut self) -> String {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        rest
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// mock-whisper behind an `ohttp-gateway`, the gateway's simulated root saved to a file (as a
/// user would trust it explicitly), and an audio file for `whisper-client` to upload.
pub(crate) struct WhisperSetup {
    pub(crate) whisper: Running,
    pub(crate) gateway: Running,
    root: tempfile::NamedTempFile,
    audio: tempfile::NamedTempFile,
    trust_flag: &'static str,
}

impl WhisperSetup {
    /// Starts both servers with `--tee tee`, fetches the root from `root_route` and remembers
    /// `trust_flag` as the client option that names it.
    pub(crate) async fn start(tee: &str, root_route: &str, trust_flag: &'static str) -> Self {
        Self::start_with(tee, root_route, trust_flag, &[]).await
    }

    /// As [`Self::start`], with `gateway_args` added to the gateway's command line.
    pub(crate) async fn start_with(
        tee: &str,
        root_route: &str,
        trust_flag: &'static str,
        gateway_args: &[&str],
    ) -> Self {
        let whisper = Running::start(
            env!("CARGO_BIN_EXE_mock-whisper"),
            &["--listen", "127.0.0.1:0"],
        );
        let target = whisper.url();
        let mut args = vec!["--listen", "127.0.0.1:0", "--target", &target, "--tee", tee];
        args.extend_from_slice(gateway_args);
        let gateway = Running::start(env!("CARGO_BIN_EXE_ohttp-gateway"), &args);
        let root_pem = attested_examples::tls::get(format!("{}{root_route}", gateway.url()))
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        let root = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(root.path(), root_pem).unwrap();
        let setup = Self {
            whisper,
            gateway,
            root,
            audio: tempfile::NamedTempFile::new().unwrap(),
            trust_flag,
        };
        setup.write_audio(20_000);
        setup
    }

    /// Replaces the audio with `len` bytes of a fixed pattern.
    pub(crate) fn write_audio(&self, len: usize) {
        let samples: Vec<u8> = (0..len)
            .map(|i| u8::try_from(i * 7 % 251).unwrap())
            .collect();
        std::fs::write(self.audio.path(), samples).unwrap();
    }

    /// Runs `whisper-client` against the gateway, trusting the saved root, with `args`.
    pub(crate) fn transcribe(&self, args: &[&str]) -> std::process::Output {
        let gateway = self.gateway.url();
        let mut all = vec!["--gateway", &gateway];
        all.extend_from_slice(args);
        self.transcribe_with(&all)
    }

    /// Runs `whisper-client` on the audio, trusting the saved root, with only `args` to say
    /// where to go (no `--gateway`).
    pub(crate) fn transcribe_with(&self, args: &[&str]) -> std::process::Output {
        self.client_command(args).output().unwrap()
    }

    /// The `whisper-client` command of [`Self::transcribe_with`], to spawn.
    pub(crate) fn client_command(&self, args: &[&str]) -> Command {
        let workload = if self.trust_flag == "--trust-sim-root" {
            sim_workload(args, attested_examples::tdx_evidence::GATEWAY_SIM_MRTD)
        } else {
            Vec::new()
        };
        let mut command = Command::new(env!("CARGO_BIN_EXE_whisper-client"));
        command
            .args(["--file", self.audio.path().to_str().unwrap()])
            .args([self.trust_flag, self.root.path().to_str().unwrap()])
            .args(args)
            .args(workload);
        command
    }

    /// Asserts that `whisper-client` with `args` succeeds, says `verified` on stderr and
    /// prints the audio's digest; returns its stderr.
    pub(crate) fn assert_transcribes(&self, args: &[&str], verified: &str) -> String {
        let output = self.transcribe(args);
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        assert!(stderr.contains(verified), "{stderr}");
        assert!(stdout.contains(&self.audio_digest()), "{stdout}");
        stderr.into_owned()
    }

    /// Asserts that `whisper-client` with `args` fails and names `check` on stderr.
    pub(crate) fn assert_refused(&self, args: &[&str], check: &str) {
        let output = self.transcribe(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(check), "{stderr}");
    }

    /// The saved root file, which a test may overwrite with another root.
    pub(crate) fn root_path(&self) -> &std::path::Path {
        self.root.path()
    }

    /// The SHA-256 of the audio, as mock-whisper reports it.
    pub(crate) fn audio_digest(&self) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(
            std::fs::read(self.audio.path()).unwrap(),
        ))
    }
}

/// mock-whisper on loopback and an `ohttp-gateway --tee sim` in front of it, started with
/// `extra` flags; returns (mock-whisper, gateway).
pub(crate) fn gateway_before_mock_whisper(extra: &[&str]) -> (Running, Running) {
    let whisper = Running::start(
        env!("CARGO_BIN_EXE_mock-whisper"),
        &["--listen", "127.0.0.1:0"],
    );
    let gateway = gateway_before(&whisper.url(), extra);
    (whisper, gateway)
}

/// An `ohttp-gateway` (simulated TDX) in front of `target`, with `extra` flags.
pub(crate) fn gateway_before(target: &str, extra: &[&str]) -> Running {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--target",
        target,
        "--tee",
        "sim",
    ];
    args.extend_from_slice(extra);
    Running::start(env!("CARGO_BIN_EXE_ohttp-gateway"), &args)
}

/// A test CA saved to a file for `SSL_CERT_FILE`, and an empty directory for `SSL_CERT_DIR`, so
/// that a child trusts exactly this CA (and no system root) as a user with a private PKI would.
pub(crate) struct CaFiles {
    pub(crate) ca: attested_examples::test_tls::TestCa,
    file: tempfile::NamedTempFile,
    empty_dir: tempfile::TempDir,
}

impl CaFiles {
    pub(crate) fn new(name: &str) -> Self {
        let ca = attested_examples::test_tls::TestCa::new(name).unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), ca.pem()).unwrap();
        Self {
            ca,
            file,
            empty_dir: tempfile::tempdir().unwrap(),
        }
    }

    /// The environment that makes this CA a child's only TLS root.
    pub(crate) fn env(&self) -> [(&'static str, &std::path::Path); 2] {
        [
            ("SSL_CERT_FILE", self.file.path()),
            ("SSL_CERT_DIR", self.empty_dir.path()),
        ]
    }
}

/// Serves `app` over TLS under a certificate `ca` issues for 127.0.0.1; its `https://` URL.
pub(crate) async fn serve_tls(ca: &CaFiles, app: axum::Router) -> String {
    let (listener, addr) = attested_examples::test_tls::loopback().await.unwrap();
    tokio::spawn(attested_examples::test_tls::serve_tls(
        listener,
        ca.ca.server_config().unwrap(),
        app,
    ));
    format!("https://{addr}")
}

/// The reference values that identify a simulated server's workload (its MRTD and the
/// simulated RTMR3), as a client is told them, less what `args` already says (a test's own
/// `--expect-mrtd` or `--expect-rtmr` replaces that value; `--allow-any-workload` or `--policy` replace both).
#[allow(dead_code)]
pub(crate) fn sim_workload(args: &[&str], mrtd: &str) -> Vec<String> {
    if args
        .iter()
        .any(|a| *a == "--allow-any-workload" || *a == "--policy")
    {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !args.contains(&"--expect-rtmr") {
        out.extend([
            "--expect-rtmr".to_owned(),
            format!("3={}", attested_examples::tdx_evidence::SIM_RTMR3),
        ]);
    }
    if !args.contains(&"--expect-mrtd") {
        out.extend(["--expect-mrtd".to_owned(), mrtd.to_owned()]);
    }
    out
}
