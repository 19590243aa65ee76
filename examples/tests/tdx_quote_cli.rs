//! `tdx-quote` as a user runs it: exit codes, `sim`, and the JSON `inspect` prints.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

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

fn inspect(path: &Path) -> Value {
    let (code, stdout) = tdx_quote(&["inspect", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}");
    serde_json::from_str(&stdout).unwrap()
}

/// The keys the foundation issue names for `inspect`, always present.
const INSPECT_KEYS: [&str; 23] = [
    "version",
    "tee_type",
    "body_type",
    "tee_tcb_svn",
    "mrseam",
    "mrsignerseam",
    "seam_attributes",
    "td_attributes",
    "xfam",
    "mrtd",
    "mrconfigid",
    "mrowner",
    "mrownerconfig",
    "rtmr0",
    "rtmr1",
    "rtmr2",
    "rtmr3",
    "report_data",
    "qe_vendor_id",
    "attestation_key",
    "pck_chain",
    "trailing_bytes",
    "source",
];

/// The fields of a quote read straight from the documented offsets (Intel TDX DCAP Quote
/// Library API, appendix A: header 48 bytes; v5 adds a 2-byte body type and a 4-byte body
/// size; TD report 1.0 fields in order, 584 bytes; TD 1.5 appends TEE_TCB_SVN2 and
/// MRSERVICETD), independently of the parser.
fn fields_at_offsets(quote: &[u8]) -> Vec<(&'static str, String)> {
    let version = u16::from_le_bytes([quote[0], quote[1]]);
    let (body, body_type) = match version {
        4 => (48, 2),
        _ => (54, u16::from_le_bytes([quote[48], quote[49]])),
    };
    let hex_at = |start: usize, len: usize| hex::encode(&quote[start..start + len]);
    let b = body;
    let mut fields = vec![
        ("version", version.to_string()),
        ("body_type", body_type.to_string()),
        (
            "tee_type",
            format!(
                "{:08x}",
                u32::from_le_bytes(quote[4..8].try_into().unwrap())
            ),
        ),
        ("qe_vendor_id", hex_at(12, 16)),
        ("tee_tcb_svn", hex_at(b, 16)),
        ("mrseam", hex_at(b + 16, 48)),
        ("mrsignerseam", hex_at(b + 64, 48)),
        ("seam_attributes", hex_at(b + 112, 8)),
        ("td_attributes", hex_at(b + 120, 8)),
        ("xfam", hex_at(b + 128, 8)),
        ("mrtd", hex_at(b + 136, 48)),
        ("mrconfigid", hex_at(b + 184, 48)),
        ("mrowner", hex_at(b + 232, 48)),
        ("mrownerconfig", hex_at(b + 280, 48)),
        ("rtmr0", hex_at(b + 328, 48)),
        ("rtmr1", hex_at(b + 376, 48)),
        ("rtmr2", hex_at(b + 424, 48)),
        ("rtmr3", hex_at(b + 472, 48)),
        ("report_data", hex_at(b + 520, 64)),
    ];
    let body_len = match body_type {
        2 => 584,
        3 => 648,
        _ => 885,
    };
    if body_type >= 3 {
        fields.push(("tee_tcb_svn2", hex_at(b + 584, 16)));
        fields.push(("mr_servicetd", hex_at(b + 600, 48)));
    }
    let signed_len = b + body_len;
    let signature_data_len =
        u32::from_le_bytes(quote[signed_len..signed_len + 4].try_into().unwrap()) as usize;
    // Signature data: quote signature (64), then the attestation key (64).
    fields.push(("attestation_key", hex_at(signed_len + 4 + 64, 64)));
    let trailing = quote.len() - (signed_len + 4 + signature_data_len);
    fields.push(("trailing_bytes", trailing.to_string()));
    fields
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn assert_fields_match_offsets(view: &Value, quote: &[u8]) {
    for key in INSPECT_KEYS {
        assert!(view.get(key).is_some(), "{key} missing from {view}");
    }
    let fields = fields_at_offsets(quote);
    for (key, expected) in &fields {
        assert_eq!(&as_text(&view[key]), expected, "{key}");
    }
    let td15 = fields.iter().any(|(key, _)| *key == "mr_servicetd");
    assert_eq!(view.get("mr_servicetd").is_some(), td15, "{view}");
    assert_eq!(view.get("tee_tcb_svn2").is_some(), td15, "{view}");
}

#[test]
fn help_and_version_exit_0_and_usage_errors_exit_2() {
    for args in [
        &["--help"][..],
        &["inspect", "--help"],
        &["sim", "--help"],
        &["verify", "--help"],
        &["help", "verify"],
    ] {
        let (code, stdout) = tdx_quote(args);
        assert_eq!(code, 0, "{args:?}");
        assert!(stdout.contains("Usage: tdx-quote"), "{args:?}: {stdout}");
    }
    let (code, stdout) = tdx_quote(&["--version"]);
    assert_eq!(
        (code, stdout.trim()),
        (0, concat!("tdx-quote ", env!("CARGO_PKG_VERSION")))
    );
    assert_eq!(tdx_quote(&["verify", "--version"]).0, 0);

    let mrtd = "ab".repeat(48);
    let report_data = "01".repeat(64);
    let sim = ["sim", "--mrtd", &mrtd, "--report-data", &report_data];
    for args in [
        &[][..],
        &["bogus"],
        &["inspect"],
        &["inspect", "a", "b"],
        &["inspect", "--simulated", "file"],
        &sim,
        &[
            "sim",
            "--mrtd",
            "abcd",
            "--report-data",
            &report_data,
            "--out",
            "x",
        ],
        &[&sim[..], &["--out", "x", "--quote-version", "3"]].concat(),
        &[&sim[..], &["--out", "x", "--rtmr", &format!("4={mrtd}")]].concat(),
        &[&sim[..], &["--out", "x", "--rtmr", &mrtd]].concat(),
        &[
            &sim[..],
            &[
                "--out",
                "x",
                "--rtmr",
                &format!("1={mrtd}"),
                "--rtmr",
                &format!("1={mrtd}"),
            ],
        ]
        .concat(),
    ] {
        assert_eq!(tdx_quote(args).0, 2, "{args:?}");
    }
}

#[test]
fn inspects_a_simulated_quote() {
    let (code, stdout) = tdx_quote(&["inspect", "--simulated"]);
    assert_eq!(code, 0);
    let view: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view["parsed"], true);
    assert_eq!(view["verified"], false);
    assert_eq!(view["version"], 5);
    assert_eq!(view["body_type"], 3);
    assert_eq!(view["mrtd"], hex::encode([0xd7; 48]));
    assert_eq!(view["td_attribute_flags"]["debug"], false);
    assert_eq!(view["pck_chain"].as_array().unwrap().len(), 3);
}

/// Every field under its foundation name, on real v4, v5 TD 1.5 and v5 TD 1.5 extended
/// quotes, equal to the bytes at the documented offsets; the PCK chain by subject name.
#[test]
fn inspect_prints_every_field_of_real_quotes() {
    for (name, version, body_type) in [
        ("tdx/dcap-qvl/tdx_quote", 4, 2),
        ("tdx/dcap-qvl/tdx_quote_outdated", 5, 3),
        ("tdx/go-tdx-guest/quote_v5_sample.dat", 5, 3),
        ("tdx/trustee/tdx_quote_5.dat", 5, 3),
        ("tdx/dcap-qvl/tdx_quote_td15ex", 5, 4),
        ("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat", 4, 2),
    ] {
        let Some(path) = attested_testdata::path(name) else {
            return;
        };
        let bytes = std::fs::read(&path).unwrap();
        let view = inspect(&path);
        assert_eq!(
            (view["version"].clone(), view["body_type"].clone()),
            (version.into(), body_type.into()),
            "{name}"
        );
        assert_eq!(view["tee_type"], "00000081", "{name}");
        assert_eq!(
            view["qe_vendor_id"], "939a7233f79c4ca9940a0db3957f0607",
            "{name}"
        );
        assert_fields_match_offsets(&view, &bytes);
        let chain: Vec<&str> = view["pck_chain"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap())
            .collect();
        assert_eq!(chain.len(), 3, "{name}: {chain:?}");
        assert_eq!(chain[0], "Intel SGX PCK Certificate", "{name}");
        assert!(
            ["Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA"].contains(&chain[1]),
            "{name}: {chain:?}"
        );
        assert_eq!(chain[2], "Intel SGX Root CA", "{name}");
    }
}

#[test]
fn inspects_a_real_hex_quote() {
    let Some(path) = attested_testdata::path("tdx/dcap-qvl/quote-from-tappd.hex") else {
        return;
    };
    let view = inspect(&path);
    assert_eq!(view["version"], 4);
    let text = std::fs::read_to_string(&path).unwrap();
    let bytes = hex::decode(text.trim().trim_start_matches("0x")).unwrap();
    assert_fields_match_offsets(&view, &bytes);
}

/// `sim` writes v4 and v5 quotes with the values given, which `inspect` reads back.
#[test]
fn sim_writes_quotes_that_inspect_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let mrtd = hex::encode([0x5e; 48]);
    let report_data = hex::encode([0x77; 64]);
    let rtmr1 = hex::encode([0x11; 48]);
    let rtmr3 = hex::encode([0x33; 48]);
    for version in ["4", "5"] {
        let out = dir.path().join(format!("quote-v{version}.dat"));
        let (code, stdout) = tdx_quote(&[
            "sim",
            "--mrtd",
            &mrtd,
            "--report-data",
            &report_data,
            "--quote-version",
            version,
            "--rtmr",
            &format!("1={rtmr1}"),
            "--rtmr",
            &format!("3={rtmr3}"),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{stdout}");
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(summary["simulated"], true);
        let bytes = std::fs::read(&out).unwrap();
        let view = inspect(&out);
        assert_fields_match_offsets(&view, &bytes);
        assert_eq!(view["version"].to_string(), version);
        assert_eq!(view["mrtd"], mrtd);
        assert_eq!(view["report_data"], report_data);
        assert_eq!(view["rtmr0"], "00".repeat(48));
        assert_eq!(view["rtmr1"], rtmr1);
        assert_eq!(view["rtmr2"], "00".repeat(48));
        assert_eq!(view["rtmr3"], rtmr3);
        assert_eq!(view["tee_type"], "00000081");
        assert_eq!(view.get("mr_servicetd").is_some(), version == "5", "{view}");
        assert_eq!(
            view["pck_chain"],
            serde_json::json!([
                "attested simulated SGX PCK Certificate",
                "attested simulated SGX PCK Platform CA",
                "attested simulated SGX Root CA"
            ])
        );
    }
}

#[test]
fn refuses_what_is_not_a_quote_and_bad_usage() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.bin");
    std::fs::write(&junk, [0x81u8; 100]).unwrap();
    let (code, stdout) = tdx_quote(&["inspect", junk.to_str().unwrap()]);
    assert_eq!(code, 1);
    let view: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(view["parsed"], false);
    assert!(view["error"].as_str().unwrap().contains("not a TDX quote"));

    assert_eq!(tdx_quote(&[]).0, 2);
    assert_eq!(tdx_quote(&["inspect", "/nonexistent/quote"]).0, 2);
}
