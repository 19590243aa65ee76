//! `tdx-quote verify` end to end: JSON verdicts and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

fn run(args: &[&str]) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_tdx-quote"))
        .args(args)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap(), json)
}

#[test]
fn verifies_accepts_and_rejects_with_exit_codes() {
    let (Some(quote), Some(collateral)) = (
        attested_testdata::path("tdx/dcap-qvl/tdx_quote"),
        attested_testdata::path("tdx/dcap-qvl/tdx_quote_collateral.json"),
    ) else {
        return;
    };
    let (quote, collateral) = (quote.to_str().unwrap(), collateral.to_str().unwrap());
    let base = [
        "verify",
        quote,
        "--collateral",
        collateral,
        "--at",
        "2025-07-01T00:00:00Z",
    ];

    let (code, v) = run(&base);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (v["verified"].as_bool(), v["accepted"].as_bool()),
        (Some(true), Some(true))
    );
    assert_eq!(v["tcb_status"], "UpToDate");
    assert_eq!(v["fmspc"], "b0c06f000000");
    assert!(
        v["earliest_expiry"]
            .as_str()
            .unwrap()
            .starts_with("2025-07-19")
    );

    let wrong_mrtd = "00".repeat(48);
    let (code, v) = run(&[&base[..], &["--expect-mrtd", &wrong_mrtd]].concat());
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        (v["verified"].as_bool(), v["failed_check"].as_str()),
        (Some(true), Some("policy"))
    );

    let (code, v) = run(&[
        "verify",
        quote,
        "--collateral",
        collateral,
        "--at",
        "2025-07-19T10:00:36Z",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failed_check"], "validity_period");
    assert!(v["error"].as_str().unwrap().contains("expired"));

    assert_eq!(run(&["verify", quote]).0, 2);
    assert_eq!(run(&[&base[..], &["--at", "yesterday"]].concat()).0, 2);
    assert_eq!(run(&[&base[..], &["--bogus"]].concat()).0, 2);
}
