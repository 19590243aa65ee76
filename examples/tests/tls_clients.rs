//! The example clients over TLS against local servers under a test CA the test makes (rcgen),
//! given to each client as a user gives a private PKI: `SSL_CERT_FILE` naming the CA and an empty
//! `SSL_CERT_DIR` (no system root at all). The same run with another CA is refused before the
//! server's handler sees a request.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use attested_examples::mock_ita::{self, MockIta};
use attested_examples::test_tls;
use sha2::Digest as _;

mod common;

use common::{CaFiles, Running};

fn mock_llm() -> Running {
    Running::start(env!("CARGO_BIN_EXE_mock-llm"), &["--listen", "127.0.0.1:0"])
}

fn proxy(backend: &str, extra: &[&str], env: &[(&str, &Path)]) -> Running {
    let mut args = vec![
        "--listen",
        "127.0.0.1:0",
        "--backend",
        backend,
        "--tee",
        "sim",
    ];
    args.extend_from_slice(extra);
    Running::start_with_env(env!("CARGO_BIN_EXE_private-llm-proxy"), &args, env)
}

/// The proxy's simulated root saved to a file, fetched over plain HTTP from the proxy itself.
async fn sim_root(proxy: &Running) -> tempfile::NamedTempFile {
    let pem = attested_examples::tls::get(format!("{}/sim/root", proxy.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pem).unwrap();
    file
}

fn verified_chat(url: &str, args: &[&str], env: &[(&str, &Path)], prompt: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verified-chat"))
        .args(["--url", url])
        .args(args)
        .args(common::sim_workload(
            args,
            attested_examples::tdx_evidence::SIM_MRTD,
        ))
        .arg(prompt)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// verified-chat over `wss://` to private-llm-proxy behind a TLS-terminating forwarder (the proxy
/// serves plain HTTP; the forwarder is the least code that puts it behind TLS).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_chat_over_wss_trusts_only_the_given_ca() {
    let llm = mock_llm();
    let proxy = proxy(&llm.url(), &[], &[]);
    let root = sim_root(&proxy).await;
    let ca = CaFiles::new("proxy");
    let foreign = CaFiles::new("foreign");
    let (listener, addr) = test_tls::loopback().await.unwrap();
    let forwarded = Arc::new(AtomicUsize::new(0));
    tokio::spawn(test_tls::forward_tls(
        listener,
        ca.ca.server_config().unwrap(),
        proxy.addr().parse().unwrap(),
        forwarded.clone(),
    ));
    let url = format!("https://{addr}");
    let trust = ["--trust-sim-root", root.path().to_str().unwrap()];

    let prompt = "over wss, please";
    let output = verified_chat(&url, &trust, &ca.env(), prompt);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&format!(
            "sha256:{}",
            hex::encode(sha2::Sha256::digest(prompt))
        )),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    // /health (or /sim/root's check) over https and the WebSocket over wss: both forwarded.
    let reached = forwarded.load(Ordering::SeqCst);
    assert!(reached >= 2, "{reached}");

    let output = verified_chat(&url, &trust, &foreign.env(), "a secret prompt");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");
    assert_eq!(forwarded.load(Ordering::SeqCst), reached);
    assert_eq!(llm.stop().matches("answered").count(), 1);
}

const ITA_API_KEY: &str = "test-attestation-api-key";

/// The mock ITA over TLS under `ca`, its `/appraisal/v1/attest` requests counted.
async fn counted_ita(ca: &CaFiles) -> (String, Arc<MockIta>, Arc<AtomicUsize>) {
    let mock = Arc::new(MockIta::new([9; 32], ITA_API_KEY, Duration::from_secs(300)).unwrap());
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = seen.clone();
    let app = mock_ita::router(mock.clone()).layer(axum::middleware::from_fn(
        move |request: axum::extract::Request, next: axum::middleware::Next| {
            counter.fetch_add(1, Ordering::SeqCst);
            next.run(request)
        },
    ));
    (common::serve_tls(ca, app).await, mock, seen)
}

fn api_key_file() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), ITA_API_KEY).unwrap();
    file
}

/// private-llm-proxy asks the mock ITA over https with the test CA as its only root; with another
/// CA the request never reaches ITA and the client gets no token (exit 1).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_reaches_ita_over_https_only_under_the_given_ca() {
    let ca = CaFiles::new("ITA");
    let foreign = CaFiles::new("foreign");
    let (ita_url, mock, seen) = counted_ita(&ca).await;
    let key = api_key_file();
    let jwks = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(jwks.path(), mock.jwks_json()).unwrap();
    let token_args = [
        "--token-jwks",
        jwks.path().to_str().unwrap(),
        "--token-unchained",
    ];
    let ita_args = [
        "--ita-url",
        &ita_url,
        "--ita-api-key-file",
        key.path().to_str().unwrap(),
    ];
    let llm = mock_llm();

    // Under the test CA the attest request arrives (the mock, told no TDX root, then refuses to
    // issue: reaching it is what this run shows; noise_e2e runs the accepted path over TLS).
    let proxy_ok = proxy(&llm.url(), &ita_args, &ca.env());
    let output = verified_chat(&proxy_ok.url(), &token_args, &[], "hi");
    assert_eq!(output.status.code(), Some(1));
    assert!(seen.load(Ordering::SeqCst) >= 1);
    drop(proxy_ok);

    let before = seen.load(Ordering::SeqCst);
    let proxy_foreign = proxy(&llm.url(), &ita_args, &foreign.env());
    let output = verified_chat(&proxy_foreign.url(), &token_args, &[], "a secret prompt");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(seen.load(Ordering::SeqCst), before, "ITA saw a request");
    assert_eq!(llm.stop().matches("answered").count(), 0);
}

/// `--ita-url http://...` is a usage error (exit 2): the API key and the quote would travel in
/// clear. The hidden test-only `--ita-allow-plain-http` admits it.
#[test]
fn plain_http_ita_url_is_a_usage_error() {
    let key = api_key_file();
    // An address that cannot be bound: a proxy that took the URL would exit 1, not hang.
    let args = |url: &'static str, listen: &'static str| {
        vec![
            "--listen".to_owned(),
            listen.to_owned(),
            "--backend".to_owned(),
            "http://127.0.0.1:9".to_owned(),
            "--tee".to_owned(),
            "sim".to_owned(),
            "--ita-url".to_owned(),
            url.to_owned(),
            "--ita-api-key-file".to_owned(),
            key.path().to_str().unwrap().to_owned(),
        ]
    };
    for url in ["http://127.0.0.1:9", "ftp://127.0.0.1:9", "127.0.0.1:9"] {
        let output = Command::new(env!("CARGO_BIN_EXE_private-llm-proxy"))
            .args(args(url, "256.0.0.1:0"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{url}: {stderr}");
        assert!(stderr.contains("https://"), "{stderr}");
    }
    let mut opted_in = args("http://127.0.0.1:9", "127.0.0.1:0");
    opted_in.push("--ita-allow-plain-http".to_owned());
    let opted_in: Vec<&str> = opted_in.iter().map(String::as_str).collect();
    let proxy = Running::start(env!("CARGO_BIN_EXE_private-llm-proxy"), &opted_in);
    drop(proxy);
}
