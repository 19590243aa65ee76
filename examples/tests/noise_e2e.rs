//! End to end over real WebSockets on loopback: mock-llm, private-llm-proxy and verified-chat,
//! both profiles, verifying the quote or (against a mock Intel Trust Authority) the ITA token.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};
use std::sync::Arc;
use std::time::Duration;

use attested_examples::mock_ita::{self, Misissue, MockIta};
use attested_tdx::{Collateral, TrustAnchor};
use attested_tdx::{TdxAppraiser, Verifier};
use attested_token::sim::SimIssuer;
use sha2::{Digest, Sha256};

mod common;

use common::Running;

struct Setup {
    mock: Running,
    proxy: Running,
    root: tempfile::NamedTempFile,
}

async fn setup(proxy_args: &[&str]) -> Setup {
    setup_with_env(proxy_args, &[]).await
}

async fn setup_with_env(proxy_args: &[&str], env: &[(&str, &std::path::Path)]) -> Setup {
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
    let proxy = Running::start_with_env(env!("CARGO_BIN_EXE_private-llm-proxy"), &args, env);
    // The test trusts the simulated root explicitly, as a user would, by saving it to a file.
    let root_pem = attested_examples::tls::get(format!("{}/sim/root", proxy.url()))
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
        .args(common::sim_workload(args, SIM_MRTD))
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
    let health: serde_json::Value =
        attested_examples::tls::get(format!("{}/health", setup.proxy.url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    assert_eq!(health["noise_pubkey"].as_str().unwrap().len(), 64);
    let attestation: serde_json::Value =
        attested_examples::tls::get(format!("{}/attestation", setup.proxy.url()))
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
        .args(common::sim_workload(&[], SIM_MRTD))
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

/// A mock Intel Trust Authority in this process (it must be told the proxy's simulated TDX
/// root after the proxy starts), the proxy asking it for tokens, and the mock's JWKS and root
/// saved to files as a user would save ITA's. The mock is served over TLS under a test CA, the
/// proxy's only root (`SSL_CERT_FILE`, an empty `SSL_CERT_DIR`).
struct ItaSetup {
    setup: Setup,
    _ca: common::CaFiles,
    _api_key: tempfile::NamedTempFile,
    jwks: tempfile::NamedTempFile,
    token_root: tempfile::NamedTempFile,
}

const ITA_API_KEY: &str = "test-attestation-api-key";

async fn ita_setup(profile: &str, misissue: Option<Misissue>) -> ItaSetup {
    let mut mock = MockIta::new([9; 32], ITA_API_KEY, Duration::from_secs(300)).unwrap();
    if let Some(misissue) = misissue {
        mock = mock.misissuing(misissue);
    }
    let mock = Arc::new(mock);
    let ca = common::CaFiles::new("ITA");
    let ita_url = common::serve_tls(&ca, mock_ita::router(mock.clone())).await;

    let api_key = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(api_key.path(), format!("{ITA_API_KEY}\n")).unwrap();
    let setup = setup_with_env(
        &[
            "--profile",
            profile,
            "--ita-url",
            &ita_url,
            "--ita-api-key-file",
            api_key.path().to_str().unwrap(),
        ],
        &ca.env(),
    )
    .await;
    // The mock verifies quotes under the proxy's simulated root, as ITA does under Intel's.
    let collateral = attested_examples::tls::get(format!("{}/collateral", setup.proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    mock.trust_quotes_with(TdxAppraiser::new(
        Verifier::new(TrustAnchor::from_pem(&std::fs::read(setup.root.path()).unwrap()).unwrap()),
        Collateral::from_qvl_json(collateral.as_bytes()).unwrap(),
        attested_tdx::Policy::any_workload(),
    ));

    let jwks = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(jwks.path(), mock.jwks_json()).unwrap();
    let token_root = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(token_root.path(), mock.root_pem()).unwrap();
    ItaSetup {
        setup,
        _ca: ca,
        _api_key: api_key,
        jwks,
        token_root,
    }
}

impl ItaSetup {
    /// verified-chat trusting the mock's JWKS chained to its root, with `args`. It is given no
    /// TDX trust anchor: the token is all it verifies the platform by.
    fn chat(&self, args: &[&str], prompt: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_verified-chat"))
            .args(["--url", &self.setup.proxy.url()])
            .args(["--token-jwks", self.jwks.path().to_str().unwrap()])
            .args(["--token-root", self.token_root.path().to_str().unwrap()])
            .args(args)
            .args(common::sim_workload(args, SIM_MRTD))
            .arg(prompt)
            .output()
            .unwrap()
    }

    fn assert_refused(&self, args: &[&str], names: &[&str]) {
        let prompt = "a secret prompt";
        let output = self.chat(args, prompt);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        for name in names {
            assert!(stderr.contains(name), "{name}: {stderr}");
        }
        assert!(!String::from_utf8_lossy(&output.stdout).contains(&expected_answer(prompt)));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ita_token_path_end_to_end_both_profiles() {
    for profile in ["seed", "v1"] {
        let ita = ita_setup(profile, None).await;
        let prompt = format!("Which token vouches for this {profile} proxy?");
        let output = ita.chat(&["--profile", profile, "--expect-mrtd", SIM_MRTD], &prompt);
        assert_answered(&output, &prompt);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("Intel Trust Authority token"), "{stdout}");
        assert!(stdout.contains(&format!("mrtd: {SIM_MRTD}")), "{stdout}");

        // The token's claims are the policy's input: another MRTD is refused.
        ita.assert_refused(
            &["--profile", profile, "--expect-mrtd", &"00".repeat(48)],
            &["policy refused the verified claims", "tdx_mrtd"],
        );
        // Keys that chain to another root are not trusted.
        let other = SimIssuer::new([3; 32]).unwrap();
        let other_root = other.root_pem();
        std::fs::write(ita.token_root.path(), other_root).unwrap();
        ita.assert_refused(
            &["--profile", profile],
            &["verification failed", "certificate"],
        );
        assert_eq!(ita.setup.mock.stop().matches("answered").count(), 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ita_token_binding_another_key_is_refused() {
    for profile in ["seed", "v1"] {
        let ita = ita_setup(profile, Some(Misissue::ReportDataOfAnotherKey)).await;
        ita.assert_refused(&["--profile", profile], &["REPORTDATA does not bind"]);
        assert_eq!(ita.setup.mock.stop().matches("answered").count(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ita_token_signed_by_another_issuer_is_refused() {
    let ita = ita_setup("v1", Some(Misissue::OtherSigner)).await;
    ita.assert_refused(&[], &["verification failed", "signature"]);
    assert_eq!(ita.setup.mock.stop().matches("answered").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_ita_token_is_refused() {
    let ita = ita_setup("v1", Some(Misissue::Expired)).await;
    ita.assert_refused(&[], &["verification failed", "expired"]);
    assert_eq!(ita.setup.mock.stop().matches("answered").count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_path_refuses_a_proxy_without_ita() {
    let setup = setup(&["--profile", "v1"]).await;
    let issuer = SimIssuer::new([9; 32]).unwrap();
    let jwks = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(jwks.path(), issuer.jwks_json()).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_verified-chat"))
        .args(["--url", &setup.proxy.url()])
        .args([
            "--token-jwks",
            jwks.path().to_str().unwrap(),
            "--token-unchained",
        ])
        .args(common::sim_workload(&[], SIM_MRTD))
        .arg("a secret prompt")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains("carries no Intel Trust Authority token"),
        "{stderr}"
    );
    assert_eq!(setup.mock.stop().matches("answered").count(), 0);
}

/// Issue 11's attack: a genuine TD on the same platform, same firmware (same MRTD), running
/// another workload. A client told nothing that identifies the workload refuses before it
/// connects; one pinning another RTMR3 refuses the genuine TD and keeps the prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_never_trusts_an_unidentified_workload() {
    // (a) No reference values: usage error, and not even a TCP connection to the server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("ws://{}", listener.local_addr().unwrap());
    for args in [&[][..], &["--expect-mrtd", SIM_MRTD][..]] {
        let output = Command::new(env!("CARGO_BIN_EXE_verified-chat"))
            .args(["--url", &url])
            .args(args)
            .arg("a secret prompt")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("identifies no workload"), "{stderr}");
        assert!(stderr.contains("--expect-rtmr"), "{stderr}");
    }
    assert!(listener.accept().is_err(), "the client connected");

    let setup = setup(&["--profile", "v1"]).await;
    let prompt = "a secret prompt";
    // (b) Pinned to our workload's RTMR3, the genuine TD running another one is refused.
    let output = chat(
        &setup,
        &[
            "--expect-mrtd",
            SIM_MRTD,
            "--expect-rtmr",
            &format!("3={}", "a7".repeat(48)),
        ],
        prompt,
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("RTMR3"), "{stderr}");
    // (c) The right reference values: answered.
    assert_answered(&chat(&setup, &[], prompt), prompt);
    // (d) The explicit opt-out works, and says so loudly.
    let output = chat(&setup, &["--allow-any-workload"], prompt);
    assert_answered(&output, prompt);
    assert!(String::from_utf8_lossy(&output.stderr).contains("WARNING: accepting ANY workload"));
    // Only (c) and (d) reached the model.
    assert_eq!(setup.mock.stop().matches("answered").count(), 2);
}
