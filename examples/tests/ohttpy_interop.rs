#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `ohttpy` (PyPI, pinned in `.ci/requirements.txt`; it links Microsoft's ohttp fork, the
//! library of Microsoft's own clients) transcribes through `ohttp-gateway --azure-compat` in
//! front of mock-whisper, with keys it fetches from `/discover` and with the bytes of
//! `/ohttp-keys`, and sees a failing target's status. Skipped with a notice when Python or
//! ohttpy is missing, except under `CI=true`, where that fails.

mod common;

use std::process::Command;

use common::Running;
use sha2::Digest as _;

const AUDIO_LEN: usize = 24_000;

fn ohttpy_available() -> bool {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let available = Command::new("python3")
        .args(["-c", "import ohttpy, httpx"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            !ci,
            "python3 with ohttpy is required under CI (see .ci/requirements.txt)"
        );
        eprintln!("notice: skipping, python3 with ohttpy is not available");
    }
    available
}

/// A loopback port free a moment ago: ohttpy puts the URL's authority in the inner request,
/// so the gateway must know its own address to `--allow` it before it starts.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn ohttpy_transcribes_through_the_azure_compatible_gateway() {
    if !ohttpy_available() {
        return;
    }
    let whisper = Running::start(
        env!("CARGO_BIN_EXE_mock-whisper"),
        &["--listen", "127.0.0.1:0"],
    );
    let target = whisper.url();
    let listen = format!("127.0.0.1:{}", free_port());
    let gateway = Running::start(
        env!("CARGO_BIN_EXE_ohttp-gateway"),
        &[
            "--listen",
            &listen,
            "--target",
            &target,
            "--tee",
            "sim",
            "--azure-compat",
            "--allow",
            &listen,
        ],
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ohttpy_peer.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(gateway.url())
        .arg(AUDIO_LEN.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let answers: Vec<serde_json::Value> = stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(answers.len(), 3, "{stdout}");

    let audio: Vec<u8> = (0..AUDIO_LEN)
        .map(|i| u8::try_from(i * 7 % 251).unwrap())
        .collect();
    let digest = hex::encode(sha2::Sha256::digest(&audio));
    for (answer, case) in answers.iter().zip(["discover", "ohttp-keys"]) {
        assert_eq!(answer["case"], case);
        assert_eq!(answer["status"], 200, "{answer}");
        // The decrypted stream is the target's raw JSON, not binary HTTP.
        let transcript: serde_json::Value =
            serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
        assert_eq!(transcript["bytes"], AUDIO_LEN);
        assert_eq!(transcript["sha256"], digest);
    }
    // mock-whisper's 400 for a body without a file part, carried on the outer status. (ohttpy
    // 0.1a13 does not decrypt the body of a non-2xx answer; `ohttp_azure_compat` checks the
    // sealed error text with our decoder.)
    assert_eq!(answers[2]["case"], "failing");
    assert_eq!(answers[2]["status"], 400, "{}", answers[2]);
    drop(gateway);
    drop(whisper);
}
