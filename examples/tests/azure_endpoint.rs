#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `whisper-client --azure --endpoint` against a stand-in that behaves as Microsoft's server
//! and KMS do (`attested_examples::mock_azure`): the KMS over TLS under its pinned service
//! certificate, with 202s first and a CCF receipt for each published `claims_digest` formula;
//! `api-key` checked on the outer request; the raw target body in the encrypted stream and
//! the target's status outside. Receipt faults and a foreign TLS root are refused.

use std::io::Write as _;
use std::process::Output;

use attested_examples::mock_azure::{self, KmsBranch, MockAzure, MockAzureConfig, ReceiptFault};

const API_KEY: &str = "test-api-key-0123";
const TRANSCRIPT: &str = "Ask not what your country can do for you";

fn config(branch: KmsBranch, fault: Option<ReceiptFault>) -> MockAzureConfig {
    MockAzureConfig {
        api_key: API_KEY.into(),
        branch,
        fault,
        pending_answers: 0,
        transcript: TRANSCRIPT.into(),
    }
}

struct Files {
    cert: tempfile::NamedTempFile,
    audio: tempfile::NamedTempFile,
}

fn files(cert_pem: &str) -> Files {
    let mut cert = tempfile::NamedTempFile::new().unwrap();
    cert.write_all(cert_pem.as_bytes()).unwrap();
    let mut audio = tempfile::NamedTempFile::new().unwrap();
    audio
        .write_all(&[0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 0])
        .unwrap();
    audio.write_all(&vec![0x5a; 40_000]).unwrap();
    Files { cert, audio }
}

async fn whisper_client(mock: &MockAzure, files: &Files, extra: &[&str]) -> Output {
    let mut args = vec![
        "--azure".to_owned(),
        "--endpoint".to_owned(),
        mock.endpoint.clone(),
        "--kms-url".to_owned(),
        mock.kms_url.clone(),
        "--kms-cert".to_owned(),
        files.cert.path().display().to_string(),
        "--file".to_owned(),
        files.audio.path().display().to_string(),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    tokio::process::Command::new(env!("CARGO_BIN_EXE_whisper-client"))
        .args(&args)
        .output()
        .await
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const WITH_KEY: &[&str] = &["--outer-header", "api-key: test-api-key-0123"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcribes_with_keys_from_the_kms_for_both_claims_digest_formulas() {
    for (branch, named) in [(KmsBranch::Main, "X"), (KmsBranch::Inference, "XThenY")] {
        let mock = mock_azure::start(MockAzureConfig {
            pending_answers: 2, // two 202s before the list, retried
            ..config(branch, None)
        })
        .await
        .unwrap();
        let files = files(&mock.service_cert_pem);
        let out = whisper_client(&mock, &files, WITH_KEY).await;
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert!(out.status.success(), "{branch:?}: {stderr}");
        assert!(
            stderr.contains(&format!("claims_digest {named}")),
            "{stderr}"
        );
        assert!(stderr.contains("endpoint answered 200"), "{stderr}");
        // The raw target body: the transcript JSON itself, not binary HTTP.
        let json: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        assert_eq!(json["text"], TRANSCRIPT);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_errors_are_decrypted_and_shown_with_the_outer_status() {
    let mock = mock_azure::start(config(KmsBranch::Inference, None))
        .await
        .unwrap();
    let files = files(&mock.service_cert_pem);
    let out = whisper_client(
        &mock,
        &files,
        &[WITH_KEY, &["--inner-path", "/v1/audio/nowhere"]].concat(),
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("endpoint answered 404 (decrypted): {\"detail\":\"Not Found\"}"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_api_key_is_shown_as_the_401_it_is() {
    let mock = mock_azure::start(config(KmsBranch::Main, None))
        .await
        .unwrap();
    let files = files(&mock.service_cert_pem);
    let out = whisper_client(&mock, &files, &[]).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("endpoint answered 401 (not encrypted to us"),
        "{stderr}"
    );
    assert!(stderr.contains("missing subscription key"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_receipts_are_refused_before_anything_is_sent() {
    for (fault, expected) in [
        (
            ReceiptFault::ClaimsOfAnotherKey,
            "claims_digest binds another key",
        ),
        (
            ReceiptFault::ForeignNode,
            "node certificate issuer is not the pinned service",
        ),
        (
            ReceiptFault::TamperedPath,
            "receipt signature does not verify over the Merkle root",
        ),
    ] {
        let mock = mock_azure::start(config(KmsBranch::Inference, Some(fault)))
            .await
            .unwrap();
        let files = files(&mock.service_cert_pem);
        let out = whisper_client(&mock, &files, WITH_KEY).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{fault:?}: {stderr}");
        assert!(stderr.contains(expected), "{fault:?}: {stderr}");
        assert!(!stderr.contains("endpoint answered"), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_service_certificate_is_the_only_tls_root_for_the_kms() {
    let mock = mock_azure::start(config(KmsBranch::Main, None))
        .await
        .unwrap();
    let other = mock_azure::start(config(KmsBranch::Main, None))
        .await
        .unwrap();
    // Pinning another service's certificate: the KMS's TLS certificate does not chain to it.
    let files = files(&other.service_cert_pem);
    let out = whisper_client(&mock, &files, WITH_KEY).await;
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("certificate") || stderr.contains("error sending request"),
        "{stderr}"
    );
    assert!(!stderr.contains("KMS receipt verified"), "{stderr}");
}
