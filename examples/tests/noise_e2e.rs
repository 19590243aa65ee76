//! End to end over real WebSockets on loopback: mock-llm, private-llm-proxy and verified-chat,
//! both profiles.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

use sha2::{Digest, Sha256};

mod common;

use common::Running;

struct Setup {
    mock: Running,
    proxy: Running,
    root: tempfile::NamedTempFile,
}

async fn setup(proxy_args: &[&str]) -> Setup {
    let mock = Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"]);
    let backend = mock.url();
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--backend",
        &backend,
        "--tee",
        "sim",
    ];
    args.extend_from_slice(proxy_args);
    let proxy = Running::start(env!("CARGO_BIN_EXE_private-llm-proxy"), &args);
    // The test trusts the simulated root explicitly, as a user would, by saving it to a file.
    let root_pem = reqwest::get(format!("{}/sim/root", proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(root_pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let root = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(root.path(), root_pem).unwrap();
    Setup { mock, proxy, root }
}

fn chat(setup: &Setup, args: &[&str], prompt: &str) -> Output {
    let url = setup.proxy.url();
    let root = setup.root.path().to_str().unwrap();
    Command::new(env!("CARGO_BIN_EXE_verified-chat"))
        .args(["--url", &url, "--trust-sim-root", root])
        .args(args)
        .arg(prompt)
        .output()
        .unwrap()
}

/// The proxy's default simulated MRTD.
const SIM_MRTD: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn expected_answer(prompt: &str) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(prompt)))
}

fn assert_answered(output: &Output, prompt: &str) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {stderr}"
    );
    assert!(stdout.contains("verified"), "{stdout}");
    assert!(stdout.contains(&expected_answer(prompt)), "{stdout}");
}

#[tokio::test]
async fn seed_profile_end_to_end() {
    let setup = setup(&["--profile", "seed"]).await;
    let health: serde_json::Value = reqwest::get(format!("{}/health", setup.proxy.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["noise_pubkey"].as_str().unwrap().len(), 64);
    let attestation: serde_json::Value = reqwest::get(format!("{}/attestation", setup.proxy.url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in ["noise_pubkey", "binding_pubkey", "mrtd", "tee_type"] {
        assert!(attestation.get(field).is_some(), "{field}");
    }

    let prompt = "What is the capital of France? ünïcödé";
    assert_answered(&chat(&setup, &["--profile", "seed"], prompt), prompt);
    // A v1 client does not complete a handshake with a seed server.
    let output = chat(&setup, &["--profile", "v1"], prompt);
    assert!(!output.status.success());
    assert_eq!(setup.mock.stop().matches("answered").count(), 1);
}

#[tokio::test]
async fn v1_profile_end_to_end_with_session_evidence_and_streaming() {
    let setup = setup(&["--profile", "v1", "--session-evidence"]).await;
    let prompt = "Summarise the Noise protocol framework.";
    let output = chat(&setup, &["--require-session-evidence"], prompt);
    assert_answered(&output, prompt);
    assert!(String::from_utf8_lossy(&output.stdout).contains("per-session evidence"));
    // Over one frame (chunked), under the 128 KiB limit of one command-line argument.
    let long_prompt = "x".repeat(100_000);
    assert_answered(&chat(&setup, &["--stream"], &long_prompt), &long_prompt);
    assert_eq!(setup.mock.stop().matches("answered").count(), 2);
}

#[tokio::test]
async fn failed_checks_keep_the_prompt_on_the_client() {
    let setup = setup(&["--profile", "v1"]).await;
    let prompt = "a secret prompt";
    let refused = |args: &[&str], names: &str| {
        let output = chat(&setup, args, prompt);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(names), "{stderr}");
        assert!(!String::from_utf8_lossy(&output.stdout).contains(&expected_answer(prompt)));
    };
    refused(&["--expect-mrtd", &"00".repeat(48)], "MRTD");
    // The proxy's own MRTD is accepted (the refusal above is the policy's, not a failure).
    assert!(
        chat(&setup, &["--expect-mrtd", SIM_MRTD], "hi")
            .status
            .success()
    );
    refused(&["--require-session-evidence"], "per-session evidence");
    refused(&["--profile", "seed"], "closed");
    // Without --trust-sim-root the quote must chain to Intel's root, which it does not.
    let output = Command::new(env!("CARGO_BIN_EXE_verified-chat"))
        .args(["--url", &setup.proxy.url(), prompt])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("DCAP verification failed"));
    // A simulated root other than the proxy's.
    let other = attested_tdx::sim::SimPlatform::from_seed(b"another platform", now()).unwrap();
    std::fs::write(setup.root.path(), other.root_certificate_pem()).unwrap();
    refused(&[], "DCAP verification failed");
    // Only the one accepted chat above reached the backend.
    assert_eq!(setup.mock.stop().matches("answered").count(), 1);
}
