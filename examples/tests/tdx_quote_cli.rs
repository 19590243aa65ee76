//! `tdx-quote` as a user runs it: exit codes and the JSON it prints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::process::Command;

fn tdx_quote(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tdx-quote"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn inspects_a_simulated_quote() {
    let (code, stdout) = tdx_quote(&["inspect", "--simulated"]);
    assert_eq!(code, 0);
    let view: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view["parsed"], true);
    assert_eq!(view["verified"], false);
    assert_eq!(view["version"], 5);
    assert_eq!(view["body_type"], 3);
    assert_eq!(view["mr_td"], hex::encode([0xd7; 48]));
    assert_eq!(view["td_attributes"]["debug"], false);
    assert_eq!(view["certification"]["certificates"], 3);
}

#[test]
fn inspects_a_real_hex_quote() {
    let Some(path) = attested_testdata::path("tdx/dcap-qvl/quote-from-tappd.hex") else {
        return;
    };
    let (code, stdout) = tdx_quote(&["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    let view: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view["version"], 4);
}

#[test]
fn refuses_what_is_not_a_quote_and_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0x81u8; 100]).unwrap();
    let (code, stdout) = tdx_quote(&["inspect", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    let view: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view["parsed"], false);
    assert!(view["error"].as_str().unwrap().contains("not a TDX quote"));

    assert_eq!(tdx_quote(&[]).0, 2);
    assert_eq!(tdx_quote(&["inspect", "/nonexistent/quote"]).0, 2);
}
