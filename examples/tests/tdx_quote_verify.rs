//! `tdx-quote verify` end to end: JSON verdicts and exit codes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;
use std::process::Command;

use attested_tdx::Collateral;
use attested_tdx::collateral::PcsCollateral;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};

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
    // The pinned Intel SGX Root CA, by the fingerprint Intel publishes for it.
    assert_eq!(v["trust_anchor"]["kind"], "intel", "{v}");
    assert_eq!(v["trust_anchor"]["subject"], "Intel SGX Root CA", "{v}");
    assert_eq!(
        v["trust_anchor"]["sha256"],
        "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
    );
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

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// go-tdx-guest's real PCS collateral (response bodies, issuer-chain headers, DER CRLs) for
/// its production SPR quote, bundled into one file.
#[test]
fn reads_a_pcs_collateral_bundle_of_real_pcs_responses() {
    let read = |name: &str| attested_testdata::read(&format!("tdx/go-tdx-guest/{name}"));
    let (Some(quote), Some(tcb), Some(tcb_chain), Some(qe), Some(qe_chain)) = (
        attested_testdata::path("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat"),
        read("sample_tcbInfo_response"),
        read("tcb_info_issuer_chain.pem"),
        read("sample_qeIdentity_response"),
        read("qe_identity_issuer_chain.pem"),
    ) else {
        return;
    };
    let (pck_crl, pck_chain, root_crl) = (
        read("pckcrl").unwrap(),
        read("pck_crl_issuer_chain.pem").unwrap(),
        read("rootcrl.der").unwrap(),
    );
    let bundle = PcsCollateral {
        tcb_info_response: &tcb,
        tcb_info_issuer_chain: &tcb_chain,
        qe_identity_response: &qe,
        qe_identity_issuer_chain: &qe_chain,
        pck_crl: &pck_crl,
        pck_crl_issuer_chain: &pck_chain,
        root_ca_crl: &root_crl,
    }
    .to_bundle_json();
    let dir = tempfile::tempdir().unwrap();
    let collateral = write(dir.path(), "pcs.json", bundle);
    let quote = quote.to_str().unwrap();
    let verify_at = |at: &str| {
        run(&[
            "verify",
            quote,
            "--collateral",
            &collateral,
            "--profile",
            "azure",
            "--at",
            at,
            "--allow-trailing-data",
        ])
    };

    // The quote ends with 39 bytes that are not zero padding ("extra bytes(only for testing
    // purpose)"): refused unless asked for, as `Quote::parse` refuses them.
    let (code, v) = run(&[
        "verify",
        quote,
        "--collateral",
        &collateral,
        "--at",
        "2023-07-01T01:00:00Z",
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failed_check"], "parse", "{v}");
    assert!(v["error"].as_str().unwrap().contains("39 bytes"), "{v}");

    // Inside the window every signature, chain, CRL and date of the PCS collateral verifies;
    // the platform's TCB matches no level of its TCB Info (see attested-tdx's verify tests).
    let (code, v) = verify_at("2023-07-01T01:00:00Z");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["collateral_format"], "pcs-bundle");
    assert_eq!(v["failed_check"], "tcb_level", "{v}");
    let error = v["error"].as_str().unwrap();
    assert!(
        error.contains("50806f000000") && error.contains("SGX component 0 (3 < 5)"),
        "{error}"
    );

    // One second after the window (QE Identity and PCK CRL nextUpdate), the expiry comes first.
    let (code, v) = verify_at("2023-07-08T07:25:00Z");
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failed_check"], "validity_period", "{v}");
    assert!(v["error"].as_str().unwrap().contains("expired"), "{v}");
}

/// Intel's real collateral for dcap-qvl's sample, rewritten as a PCS bundle: the same verdict
/// as from the dcap-qvl form.
#[test]
fn both_collateral_forms_give_the_same_verdict() {
    let (Some(quote), Some(json)) = (
        attested_testdata::path("tdx/dcap-qvl/tdx_quote"),
        attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json"),
    ) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let qvl = write(dir.path(), "qvl.json", &json);
    let bundle = write(
        dir.path(),
        "pcs.json",
        Collateral::from_qvl_json(&json)
            .unwrap()
            .to_pcs_bundle_json(),
    );
    let quote = quote.to_str().unwrap();
    let verdicts: Vec<serde_json::Value> = [&qvl, &bundle]
        .into_iter()
        .map(|collateral| {
            let (code, v) = run(&[
                "verify",
                quote,
                "--collateral",
                collateral,
                "--at",
                "2025-07-01T00:00:00Z",
            ]);
            assert_eq!(code, 0, "{v}");
            v
        })
        .collect();
    assert_eq!(verdicts[0]["collateral_format"], "dcap-qvl");
    assert_eq!(verdicts[1]["collateral_format"], "pcs-bundle");
    assert_eq!(verdicts[1]["tcb_status"], "UpToDate");
    let without_format = |v: &serde_json::Value| {
        let mut v = v.clone();
        v.as_object_mut().unwrap().remove("collateral_format");
        v
    };
    assert_eq!(without_format(&verdicts[0]), without_format(&verdicts[1]));

    // Neither form: a refusal naming the collateral and both forms.
    let junk = write(dir.path(), "junk.json", r#"{"tcb_info":"{}"}"#);
    let out = Command::new(env!("CARGO_BIN_EXE_tdx-quote"))
        .args(["verify", quote, "--collateral", &junk])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tcb_info_response") && stderr.contains("tcb_info_signature"),
        "{stderr}"
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["failed_check"], "collateral", "{v}");
    assert!(v["error"].as_str().unwrap().contains(&junk), "{v}");
}

/// A simulated TDX 1.5 platform's PCS responses as a bundle, against its own root.
#[test]
fn verifies_a_simulated_v5_quote_with_its_pcs_bundle() {
    let now = 1_750_000_000;
    let platform = SimPlatform::from_seed(b"tdx-quote verify pcs", now).unwrap();
    let quote = platform
        .quote(&QuoteSpec {
            mr_td: [0x3d; 48],
            ..platform.quote_spec(QuoteFormat::V5Td15)
        })
        .unwrap();
    let bundle = platform.collateral_pcs().responses().to_bundle_json();
    let dir = tempfile::tempdir().unwrap();
    let (quote, collateral, root) = (
        write(dir.path(), "quote.dat", quote),
        write(dir.path(), "pcs.json", bundle),
        write(dir.path(), "root.pem", platform.root_certificate_pem()),
    );
    let at = attested_tdx::UnixTime(now).to_string();
    let base = ["verify", &quote, "--collateral", &collateral, "--at", &at];
    let (code, v) = run(&[
        &base[..],
        &["--root", &root, "--expect-mrtd", &"3d".repeat(48)],
    ]
    .concat());
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["collateral_format"], "pcs-bundle");
    assert_eq!(v["tcb_status"], "UpToDate");
    assert!(v["mr_service_td"].is_string(), "{v}");
    // The same files against Intel's root: refused.
    let (code, v) = run(&base);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["verified"], false);
}

/// `tdx-quote sim` output, written to `dir`: (quote, collateral, root) paths.
fn sim_files(dir: &Path, name: &str, mrtd: &str, version: &str, rtmrs: &[String]) -> [String; 3] {
    let paths = ["quote.dat", "collateral.json", "root.pem"].map(|file| {
        dir.join(format!("{name}-{file}"))
            .to_str()
            .unwrap()
            .to_owned()
    });
    let report_data = "42".repeat(64);
    let mut args = vec![
        "sim",
        "--mrtd",
        mrtd,
        "--report-data",
        &report_data,
        "--quote-version",
        version,
        "--out",
        &paths[0],
        "--collateral-out",
        &paths[1],
        "--root-out",
        &paths[2],
    ];
    for rtmr in rtmrs {
        args.extend(["--rtmr", rtmr]);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_tdx-quote"))
        .args(&args)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    paths
}

/// What `sim` writes verifies under the root it writes and reports the measurements given;
/// under Intel's root the same files are refused.
#[test]
fn sim_output_verifies_under_its_root_and_not_under_intels() {
    let dir = tempfile::tempdir().unwrap();
    let mrtd = "c4".repeat(48);
    let (rtmr0, rtmr2) = ("a0".repeat(48), "a2".repeat(48));
    for version in ["4", "5"] {
        let [quote, collateral, root] = sim_files(
            dir.path(),
            &format!("v{version}"),
            &mrtd,
            version,
            &[format!("0={rtmr0}"), format!("2={rtmr2}")],
        );
        let (code, v) = run(&[
            "verify",
            &quote,
            "--collateral",
            &collateral,
            "--root",
            &root,
        ]);
        assert_eq!(code, 0, "{v}");
        assert_eq!(
            (v["verified"].as_bool(), v["accepted"].as_bool()),
            (Some(true), Some(true))
        );
        assert_eq!(v["mr_td"], mrtd);
        assert_eq!(
            v["rtmrs"],
            serde_json::json!([rtmr0, "00".repeat(48), rtmr2, "00".repeat(48)])
        );
        assert_eq!(v["report_data"], "42".repeat(64));
        assert_eq!(v["mr_service_td"].is_string(), version == "5", "{v}");
        assert_eq!(v["trust_anchor"]["kind"], "root_file", "{v}");
        assert_eq!(v["trust_anchor"]["path"], root.as_str());
        assert_eq!(
            v["trust_anchor"]["subject"],
            "attested simulated SGX Root CA"
        );

        let (code, v) = run(&["verify", &quote, "--collateral", &collateral]);
        assert_eq!(code, 1, "{v}");
        assert_eq!(v["verified"], false, "{v}");
        assert_eq!(v["trust_anchor"]["kind"], "intel", "{v}");
    }
}

/// `--expect-mrtd` narrows the policy's list: with a policy allowing A and B,
/// `--expect-mrtd B` accepts B and refuses A (it used to add to the list, accepting both).
#[test]
fn expect_mrtd_narrows_the_policy_list() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = ("aa".repeat(48), "bb".repeat(48));
    let policy = write(
        dir.path(),
        "policy.json",
        format!(
            r#"{{"mr_td": ["{a}", "{b}"], "rtmr3": "{}"}}"#,
            "13".repeat(48)
        ),
    );
    let rtmr3 = [format!("3={}", "13".repeat(48))];
    let quote_a = sim_files(dir.path(), "a", &a, "4", &rtmr3);
    let quote_b = sim_files(dir.path(), "b", &b, "4", &rtmr3);
    let verify = |[quote, collateral, root]: &[String; 3], expect: &[&str]| {
        let mut args = vec![
            "verify",
            quote.as_str(),
            "--collateral",
            collateral,
            "--root",
            root,
            "--policy",
            &policy,
        ];
        for mrtd in expect {
            args.extend(["--expect-mrtd", mrtd]);
        }
        run(&args)
    };
    // The policy alone accepts both.
    assert_eq!(verify(&quote_a, &[]).0, 0);
    assert_eq!(verify(&quote_b, &[]).0, 0);
    // Narrowed to B: B accepted, A refused by the policy.
    let (code, v) = verify(&quote_b, &[&b]);
    assert_eq!(code, 0, "{v}");
    let (code, v) = verify(&quote_a, &[&b]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(
        (v["verified"].as_bool(), v["failed_check"].as_str()),
        (Some(true), Some("policy"))
    );
    assert!(v["error"].as_str().unwrap().contains(&a), "{v}");
    // A value the policy does not list accepts nothing (not everything).
    let c = "cc".repeat(48);
    let (code, v) = verify(&quote_b, &[&c]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failed_check"], "policy", "{v}");
}

/// Malformed collateral, policy and root files are refusals naming the item (exit 1);
/// files that cannot be read are usage errors (exit 2).
#[test]
fn malformed_files_exit_1_naming_the_item() {
    let dir = tempfile::tempdir().unwrap();
    let [quote, collateral, root] = sim_files(dir.path(), "m", &"3e".repeat(48), "5", &[]);
    let garbage = write(dir.path(), "garbage.txt", "not JSON, not PEM");
    let unknown_field = write(dir.path(), "policy.json", r#"{"mr_tdd": []}"#);
    let base = [
        "verify",
        quote.as_str(),
        "--collateral",
        &collateral,
        "--root",
        &root,
    ];
    for (args, item) in [
        (
            vec!["verify", &quote, "--collateral", &garbage, "--root", &root],
            "collateral",
        ),
        (
            vec![
                "verify",
                &quote,
                "--collateral",
                &collateral,
                "--root",
                &garbage,
            ],
            "root",
        ),
        (
            vec![
                "verify",
                &quote,
                "--collateral",
                &collateral,
                "--root",
                &collateral,
            ],
            "root",
        ),
        ([&base[..], &["--policy", &garbage]].concat(), "policy"),
        (
            [&base[..], &["--policy", &unknown_field]].concat(),
            "policy",
        ),
    ] {
        let (code, v) = run(&args);
        assert_eq!(code, 1, "{args:?}: {v}");
        assert_eq!(v["failed_check"], item, "{args:?}: {v}");
        assert_eq!(v["accepted"], false, "{v}");
        assert!(
            v["error"]
                .as_str()
                .unwrap()
                .contains(dir.path().to_str().unwrap()),
            "{v}"
        );
    }
    let (code, v) = run(&base);
    assert_eq!(code, 0, "{v}");
    for missing in ["--collateral", "--root", "--policy"] {
        let mut args = base.to_vec();
        match args.iter().position(|a| *a == missing) {
            Some(i) => args[i + 1] = "/nonexistent/file",
            None => args.extend([missing, "/nonexistent/file"]),
        }
        assert_eq!(run(&args).0, 2, "{args:?}");
    }
    assert_eq!(
        run(&["verify", "/nonexistent/quote", "--collateral", &collateral]).0,
        2
    );
}

/// Zero padding after the signature data is accepted; any non-zero trailing byte is refused,
/// as `Quote::parse` refuses it (no signature covers those bytes).
#[test]
fn trailing_non_zero_bytes_are_refused_as_the_library_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let [quote, collateral, root] = sim_files(dir.path(), "t", &"3f".repeat(48), "4", &[]);
    let bytes = std::fs::read(&quote).unwrap();
    let padded = write(dir.path(), "padded.dat", [&bytes[..], &[0u8; 16]].concat());
    let (code, v) = run(&[
        "verify",
        &padded,
        "--collateral",
        &collateral,
        "--root",
        &root,
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["trailing_bytes"], 16);

    let mut tail = [0u8; 16];
    tail[9] = 0x01;
    let appended = [&bytes[..], &tail].concat();
    assert!(attested_tdx::Quote::parse(&appended).is_err());
    let dirty = write(dir.path(), "dirty.dat", appended);
    let (code, v) = run(&[
        "verify",
        &dirty,
        "--collateral",
        &collateral,
        "--root",
        &root,
    ]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["failed_check"], "parse", "{v}");
    assert!(
        v["error"].as_str().unwrap().contains("trailing data"),
        "{v}"
    );
}
