//! `confidential-pipeline` run as a whole: the digests the mock backends report prove that the
//! audio and the transcript arrived intact; a wrong MRTD, keys the gateway evidence does not
//! bind and a replayed proxy binding each stop it before the data leaves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::{Command, Output};

use attested_examples::pipeline::demo_wav;
use sha2::{Digest, Sha256};

fn pipeline(args: &[&str]) -> (Output, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_confidential-pipeline"))
        .args(args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn line_after<'a>(stdout: &'a str, prefix: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} line in {stdout}"))
}

#[test]
fn the_pipeline_transcribes_and_answers_with_intact_digests() {
    let (output, stdout) = pipeline(&[]);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // mock-whisper saw exactly the bundled audio.
    let audio = demo_wav();
    let audio_digest = hex::encode(Sha256::digest(&audio));
    let seen = line_after(&stdout, "transcribed ");
    assert_eq!(seen, format!("{} bytes sha256 {audio_digest}", audio.len()));
    // mock-llm saw exactly the transcript, and the answer came back unaltered.
    let transcript = line_after(&stdout, "transcript: ");
    assert!(transcript.contains(&audio_digest), "{transcript}");
    let expected_answer = format!("sha256:{}", hex::encode(Sha256::digest(transcript)));
    assert_eq!(line_after(&stdout, "answered "), expected_answer);
    assert_eq!(line_after(&stdout, "answer: "), expected_answer);
    for check in ["gateway: TDX quote verified", "proxy: Noise v1 handshake"] {
        assert!(stdout.contains(&format!("[ok]     {check}")), "{stdout}");
    }
    assert!(stdout.contains("per-session evidence binds this handshake: ok"));
    assert!(stdout.ends_with("all checks passed\n"), "{stdout}");
}

#[test]
fn another_mrtd_than_the_policy_expects_stops_the_pipeline_before_the_audio_leaves() {
    let (output, stdout) = pipeline(&["--expect-mrtd", &"00".repeat(48)]);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED: gateway"), "{stdout}");
    assert!(stdout.contains("MRTD"), "{stdout}");
    assert!(!stdout.contains("transcribed "), "{stdout}");
    assert!(!stdout.contains("answered "), "{stdout}");
}

/// Issue 11's attack: the same genuine platform and MRTD, another workload (its RTMR3 is not
/// the pinned one). The pipeline stops before the audio leaves; `--allow-any-workload`
/// accepts it, loudly; a policy file that identifies no workload is a usage error.
#[test]
fn another_workload_on_the_same_platform_stops_the_pipeline() {
    let (output, stdout) = pipeline(&["--expect-rtmr", &format!("3={}", "a7".repeat(48))]);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAILED: gateway"), "{stdout}");
    assert!(stdout.contains("RTMR3"), "{stdout}");
    assert!(!stdout.contains("transcribed "), "{stdout}");
    let dir = tempfile::tempdir().unwrap();
    let unpinned = dir.path().join("policy.toml");
    std::fs::write(&unpinned, "profile = \"strict\"\n").unwrap();
    let (output, stdout) = pipeline(&["--policy", unpinned.to_str().unwrap()]);
    assert_ne!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("identifies no workload"), "{stdout}");
    assert!(!stdout.contains("transcribed "), "{stdout}");
}

/// Runs the pipeline with `--tamper attack` and checks that it stops at `failed_step`, naming
/// `reason`, and that no backend saw anything from then on.
fn assert_tampering_refused(attack: &str, failed_step: &str, reason: &str, reached: &[&str]) {
    let (output, stdout) = pipeline(&["--tamper", attack]);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let failure = line_after(&stdout, "FAILED: ");
    assert!(failure.starts_with(failed_step), "{failure}");
    assert!(failure.contains(reason), "{failure}");
    for line in ["transcribed ", "answered "] {
        assert_eq!(
            stdout.contains(line),
            reached.contains(&line),
            "{line:?} in {stdout}"
        );
    }
}

#[test]
fn a_gateway_key_the_evidence_does_not_bind_stops_the_pipeline_before_the_audio_leaves() {
    assert_tampering_refused(
        "gateway-key",
        "gateway:",
        "does not bind the key configuration list",
        &[],
    );
}

#[test]
fn a_proxy_binding_signed_for_another_session_stops_the_pipeline_before_the_prompt_leaves() {
    assert_tampering_refused(
        "proxy-replay",
        "proxy:",
        "session binding is for another handshake hash",
        &["transcribed "],
    );
}
