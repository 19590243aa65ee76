//! One convention for every binary (issue 13, step 6): `--help` and `--version` answer on
//! stdout with exit 0, an unknown flag is a usage error with exit 2.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::process::Command;

const BINARIES: [(&str, &str); 10] = [
    ("attest-token", env!("CARGO_BIN_EXE_attest-token")),
    (
        "confidential-pipeline",
        env!("CARGO_BIN_EXE_confidential-pipeline"),
    ),
    ("mock-llm", env!("CARGO_BIN_EXE_mock-llm")),
    ("mock-relay", env!("CARGO_BIN_EXE_mock-relay")),
    ("mock-whisper", env!("CARGO_BIN_EXE_mock-whisper")),
    ("ohttp-gateway", env!("CARGO_BIN_EXE_ohttp-gateway")),
    ("private-llm-proxy", env!("CARGO_BIN_EXE_private-llm-proxy")),
    ("tdx-quote", env!("CARGO_BIN_EXE_tdx-quote")),
    ("verified-chat", env!("CARGO_BIN_EXE_verified-chat")),
    ("whisper-client", env!("CARGO_BIN_EXE_whisper-client")),
];

#[test]
fn every_binary_answers_help_and_version_and_refuses_an_unknown_flag_with_2() {
    let version = env!("CARGO_PKG_VERSION");
    for (name, path) in BINARIES {
        let run = |arg: &str| Command::new(path).arg(arg).output().unwrap();

        let out = run("--version");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name} --version");
        assert_eq!(
            stdout.trim(),
            format!("{name} {version}"),
            "{name} --version"
        );

        let out = run("--help");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name} --help");
        assert!(stdout.contains("Usage:"), "{name} --help: {stdout}");

        let out = run("--no-such-flag");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{name} --no-such-flag: {stderr}"
        );
        assert!(stderr.contains("--no-such-flag"), "{name}: {stderr}");
    }
}

/// Values clap cannot check by type are usage errors too (exit 2), refused before anything
/// starts: a target URL with a path, a simulated MRTD that is not 48 bytes of hex, session
/// evidence on the seed profile, a relay's gateway that is not a base URL.
#[test]
fn semantic_usage_errors_exit_2() {
    let proxy = |extra: &[&'static str]| {
        let mut args = vec![
            "--listen",
            "127.0.0.1:0",
            "--backend",
            "http://127.0.0.1:9",
            "--tee",
            "sim",
        ];
        args.extend_from_slice(extra);
        args
    };
    let cases: [(&str, &str, Vec<&str>); 4] = [
        (
            "ohttp-gateway",
            env!("CARGO_BIN_EXE_ohttp-gateway"),
            vec!["--target", "http://127.0.0.1:9/v1"],
        ),
        (
            "private-llm-proxy",
            env!("CARGO_BIN_EXE_private-llm-proxy"),
            proxy(&["--sim-mrtd", "zz"]),
        ),
        (
            "private-llm-proxy",
            env!("CARGO_BIN_EXE_private-llm-proxy"),
            proxy(&["--profile", "seed", "--session-evidence"]),
        ),
        (
            "mock-relay",
            env!("CARGO_BIN_EXE_mock-relay"),
            vec!["--gateway", "not a url"],
        ),
    ];
    for (name, path, args) in cases {
        let out = Command::new(path).args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name} {args:?}: {stderr}");
        assert!(stderr.contains("error:"), "{name} {args:?}: {stderr}");
    }
}
