//! Interop with the seed's own library, `noiseprotocol` 0.3.1 (installed by `.ci/run` from
//! `.ci/requirements.txt`): a Python seed client against our proxy, and our client against a
//! Python seed server. Skipped with a notice when the Python packages are missing, except under
//! `CI=true`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use sha2::{Digest, Sha256, Sha512};

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../crates/attested-noise/tests/interop")
}

fn python_ready() -> bool {
    let ok = Command::new("python3")
        .args(["-c", "import noise, websockets, cryptography"])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        let in_ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        assert!(
            !in_ci,
            "CI: python3 with noiseprotocol and websockets is required (.ci/requirements.txt)"
        );
        eprintln!("notice: skipping, python3 with noiseprotocol and websockets is missing");
    }
    ok
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a program and returns it with the first `lines` lines it printed.
fn start(command: &mut Command, lines: usize) -> (Killed, Vec<String>) {
    let mut child = command.stdout(Stdio::piped()).spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut out = Vec::new();
    for _ in 0..lines {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        out.push(line.trim().to_owned());
    }
    // Keep the pipe open (and drained) for the child's lifetime.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    (Killed(child), out)
}

fn listening(line: &str) -> String {
    format!("http://{}", line.strip_prefix("listening on ").unwrap())
}

fn answer(prompt: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(prompt)))
}

#[test]
fn python_seed_client_against_our_proxy() {
    if !python_ready() {
        return;
    }
    let (_mock, lines) = start(
        Command::new(env!("CARGO_BIN_EXE_mock-llm")).args(["--listen", "127.0.0.1:0"]),
        1,
    );
    let backend = listening(&lines[0]);
    let (_proxy, lines) = start(
        Command::new(env!("CARGO_BIN_EXE_private-llm-proxy")).args([
            "--listen",
            "127.0.0.1:0",
            "--backend",
            &backend,
            "--tee",
            "sim",
            "--profile",
            "seed",
        ]),
        1,
    );
    let proxy = listening(&lines[0]);

    let prompt = "Bonjour from noiseprotocol 0.3.1";
    let output = Command::new("python3")
        .arg(interop_dir().join("seed_client.py"))
        .arg(&proxy)
        .arg(prompt)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    // The MRTD the Python client read from the quote is the proxy's simulated platform's.
    let mrtd = attested_examples::tdx_evidence::SIM_MRTD;
    assert!(
        stdout.contains(&format!("verified: mrtd {mrtd}")),
        "{stdout}"
    );
    assert!(stdout.contains(&answer(prompt)), "{stdout}");
}

#[test]
fn our_client_against_a_python_seed_server() {
    if !python_ready() {
        return;
    }
    // The server is handed a quote from a simulated TDX platform binding its binding key.
    let mut child = Command::new("python3")
        .arg(interop_dir().join("seed_server.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let _server = Killed(child);
    let mut read_line = |prefix: &str| {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        line.trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("expected {prefix:?}, got {line:?}"))
            .to_owned()
    };
    let noise_key = read_line("noise_pubkey ");
    let binding_key = hex::decode(read_line("binding_pubkey ")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let platform = SimPlatform::from_seed(b"python seed server", now).unwrap();
    let quote = platform
        .quote(&QuoteSpec {
            mr_td: [0x5a; 48],
            report_data: Sha512::digest(&binding_key).into(),
            td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
            ..platform.quote_spec(QuoteFormat::V4)
        })
        .unwrap();
    writeln!(stdin, "{}", hex::encode(&quote)).unwrap();
    let url = format!("http://{}", read_line("listening on "));
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let noise_key = noise_key.as_str();
    let root_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(root_file.path(), platform.root_certificate_pem()).unwrap();
    let collateral_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(collateral_file.path(), platform.collateral_dcap_qvl_json()).unwrap();

    let prompt = "Hello from attested-noise";
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_verified-chat"))
            .args([
                "--url",
                &url,
                "--profile",
                "seed",
                "--noise-pubkey",
                noise_key,
            ])
            .arg("--trust-sim-root")
            .arg(root_file.path())
            .arg("--collateral")
            .arg(collateral_file.path())
            .args(extra)
            // The Python server's simulated TD: its workload is any this test builds.
            .arg("--allow-any-workload")
            .arg(prompt)
            .output()
            .unwrap()
    };
    let output = run(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("verified (seed profile)"), "{stdout}");
    assert!(stdout.contains(&answer(prompt)), "{stdout}");

    // The same server refused when its MRTD is not the expected one.
    let output = run(&["--expect-mrtd", &"00".repeat(48)]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("MRTD"));
}
