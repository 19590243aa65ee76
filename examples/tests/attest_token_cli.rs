//! `attest-token` as a user runs it, on the simulated issuer of attested-token (`sim`): every
//! flag applies to the kind or is a usage error, the pins, `--at` offsets, size caps, malformed
//! inputs, a broken stdout pipe, and clap's help and usage errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use attested_token::nras::NRAS_ISSUER;
use attested_token::sim::{SimEnclave, SimIssuer, SimTd};
use sha2::Digest as _;

/// Issue time of every simulated token (2025-06-15T15:06:40Z).
const IAT: u64 = 1_750_000_000;
/// IAT + 10 s: inside every token's validity.
const AT: &str = "2025-06-15T15:06:50Z";
const MAA_ISSUER: &str = "https://sim.attest.azure.net";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_attest-token"))
        .args(args)
        .output()
        .unwrap()
}

fn code(output: &Output) -> i32 {
    output.status.code().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Simulated evidence of every kind, written to a temporary folder.
struct Fixture {
    _dir: tempfile::TempDir,
    dir: PathBuf,
    sim: SimIssuer,
    jwks: String,
    root: String,
    ita: String,
    maa: String,
    nras: String,
    nitro: String,
}

/// The TD of the ITA and MAA tokens.
fn td() -> SimTd {
    SimTd {
        nonce: Some(vec![0x6e; 16]),
        ..SimTd::default()
    }
}

fn enclave() -> SimEnclave {
    SimEnclave {
        nonce: Some(vec![0x6e; 16]),
        user_data: Some(vec![0x75; 32]),
        ..SimEnclave::default()
    }
}

impl Fixture {
    fn new() -> Fixture {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path().to_path_buf();
        let sim = SimIssuer::new([77; 32]).unwrap();
        let write = |name: &str, bytes: &[u8]| {
            let path = dir.join(name);
            std::fs::write(&path, bytes).unwrap();
            path.display().to_string()
        };
        let td = td();
        let maa = sim.sign_jwt(&serde_json::json!({
            "iss": MAA_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
            "x-ms-ver": "1.0",
            "x-ms-attestation-type": "azurevm",
            "x-ms-isolation-tee": {
                "x-ms-attestation-type": "tdxvm",
                "x-ms-compliance-status": "azure-compliant-cvm",
                "tdx_mrtd": hex::encode(td.mrtd),
                "tdx_rtmr0": hex::encode(td.rtmrs[0]),
                "tdx_rtmr1": hex::encode(td.rtmrs[1]),
                "tdx_rtmr2": hex::encode(td.rtmrs[2]),
                "tdx_rtmr3": hex::encode(td.rtmrs[3]),
                "tdx_report_data": format!("{}{}", "ab".repeat(32), "00".repeat(32)),
                "tdx_td_attributes_debug": false,
            },
        }));
        let gpu = sim.sign_jwt(&serde_json::json!({
            "iss": NRAS_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 3600,
            "measres": "success", "dbgstat": "disabled", "eat_nonce": "6e".repeat(16),
        }));
        let overall = sim.sign_jwt(&serde_json::json!({
            "iss": NRAS_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 3600,
            "x-nvidia-overall-att-result": true, "eat_nonce": "6e".repeat(16),
            "submods": {"GPU-0": ["DIGEST", ["SHA-256", hex::encode(sha2::Sha256::digest(gpu.as_bytes()))]]},
        }));
        let nras =
            serde_json::to_vec(&serde_json::json!([["JWT", overall], {"GPU-0": gpu}])).unwrap();
        Fixture {
            jwks: write("jwks.json", sim.jwks_json().as_bytes()),
            root: write("root.pem", sim.root_pem().as_bytes()),
            ita: write("ita.jwt", sim.ita_token(&td, IAT, 300).as_bytes()),
            maa: write("maa.jwt", maa.as_bytes()),
            nras: write("nras.json", &nras),
            nitro: write("nitro.cose", &sim.nitro_document(&enclave(), IAT * 1000)),
            sim,
            dir,
            _dir: temp,
        }
    }

    fn write(&self, name: &str, bytes: &[u8]) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    }

    /// The arguments that verify `kind`'s simulated evidence and accept it.
    fn base(&self, kind: &str) -> Vec<String> {
        let mut args = vec!["verify".to_owned()];
        let rest: Vec<&str> = match kind {
            "ita" => vec![&self.ita, "--jwks", &self.jwks, "--root", &self.root],
            "maa" => vec![
                &self.maa, "--jwks", &self.jwks, "--root", &self.root, "--issuer", MAA_ISSUER,
            ],
            "nras" => vec![&self.nras, "--jwks", &self.jwks, "--root", &self.root],
            "nitro" => vec![&self.nitro, "--root", &self.root],
            other => panic!("kind {other}"),
        };
        args.extend(rest.into_iter().map(str::to_owned));
        args.extend(["--kind", kind, "--at", AT].map(str::to_owned));
        args
    }

    fn run(&self, kind: &str, extra: &[&str]) -> Output {
        self.run_at(kind, AT, extra)
    }

    /// As [`Fixture::run`], verifying at `at`.
    fn run_at(&self, kind: &str, at: &str, extra: &[&str]) -> Output {
        let mut args = self.base(kind);
        if let Some(last) = args.last_mut() {
            at.clone_into(last);
        }
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args)
    }
}

#[test]
fn simulated_evidence_of_every_kind_is_accepted_with_its_json_keys() {
    let f = Fixture::new();
    let keys: [(&str, &[&str]); 4] = [
        (
            "ita",
            &[
                "kind",
                "version",
                "issuer",
                "issued_at",
                "expires_at",
                "attester_type",
                "tcb_status",
                "advisory_ids",
                "verifier_nonce",
                "tdx",
                "sgx",
                "nvgpu",
            ],
        ),
        (
            "maa",
            &[
                "kind",
                "issuer",
                "expires_at",
                "attestation_type",
                "isolation_tee",
                "runtime",
            ],
        ),
        (
            "nras",
            &["kind", "overall_result", "version", "eat_nonce", "gpus"],
        ),
        (
            "nitro",
            &[
                "kind",
                "module_id",
                "digest",
                "timestamp_ms",
                "pcrs",
                "public_key",
                "user_data",
                "nonce",
            ],
        ),
    ];
    for (kind, keys) in keys {
        let output = f.run(kind, &[]);
        assert_eq!(code(&output), 0, "{kind}: {}", stderr(&output));
        let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(json["kind"], kind);
        for key in keys {
            assert!(json.get(key).is_some(), "{kind}: no key {key} in {json}");
        }
    }
}

/// Each flag given to a kind it does not apply to is a usage error naming the flag and the
/// kind. The old binary ignored `--issuer` (ita, nras, nitro), `--accept-tcb` (nras, maa,
/// nitro), `--expect-nonce` (maa), `--expect-report-data` (nras) and `--jwks` (nitro), and did
/// not know the pins.
#[test]
fn every_flag_a_kind_does_not_take_is_a_usage_error() {
    let f = Fixture::new();
    let hex48 = "11".repeat(48);
    let rtmr = format!("0={hex48}");
    let refused: [(&str, &[&str]); 8] = [
        ("--jwks", &["nitro"]),
        ("--issuer", &["nras", "nitro"]),
        ("--accept-tcb", &["nras", "maa", "nitro"]),
        ("--expect-nonce", &["maa"]),
        ("--expect-report-data", &["nras"]),
        ("--expect-mrtd", &["nras", "nitro"]),
        ("--expect-rtmr", &["nras", "nitro"]),
        ("--expect-pcr", &["ita", "nras", "maa"]),
    ];
    for (flag, kinds) in refused {
        let value = match flag {
            "--jwks" => f.jwks.clone(),
            "--issuer" => "https://other.example".to_owned(),
            "--accept-tcb" => "UpToDate".to_owned(),
            "--expect-nonce" => "6e".repeat(16),
            "--expect-report-data" => "55".repeat(64),
            "--expect-mrtd" => hex48.clone(),
            _ => rtmr.clone(),
        };
        for kind in kinds {
            let output = f.run(kind, &[flag, &value]);
            let err = stderr(&output);
            assert_eq!(code(&output), 2, "{flag} with {kind}: {err}");
            assert!(
                err.contains(flag) && err.contains(&format!("--kind {kind}")),
                "{flag} with {kind}: {err}"
            );
        }
    }
}

#[test]
fn required_flags_are_usage_errors_when_missing() {
    let f = Fixture::new();
    let cases: [(&str, &str, &str); 5] = [
        ("ita", "--jwks", "jwks"),
        ("nras", "--jwks", "jwks"),
        ("nras", "--root", "root"),
        ("maa", "--root", "root"),
        ("maa", "--issuer", "issuer"),
    ];
    for (kind, flag, _) in cases {
        let mut args = f.base(kind);
        let at = args.iter().position(|a| a == flag).unwrap();
        args.drain(at..at + 2);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args);
        let err = stderr(&output);
        assert_eq!(code(&output), 2, "{kind} without {flag}: {err}");
        assert!(err.contains(flag), "{kind} without {flag}: {err}");
    }
}

/// Right value: exit 0; wrong value: exit 1, naming the claim.
#[test]
fn pins_accept_the_workload_and_refuse_another() {
    let f = Fixture::new();
    let td = td();
    let rtmr = |i: usize, v: &[u8]| format!("{i}={}", hex::encode(v));
    let pcr = |i: u8| format!("{i}={}", hex::encode(&enclave().pcrs[&i]));
    // (kind, flag, right, wrong, a word of the refusal)
    let cases: Vec<(&str, &str, String, String, &str)> = vec![
        (
            "ita",
            "--expect-mrtd",
            hex::encode(td.mrtd),
            "12".repeat(48),
            "tdx_mrtd",
        ),
        (
            "ita",
            "--expect-rtmr",
            rtmr(2, &td.rtmrs[2]),
            rtmr(2, &[0x45; 48]),
            "tdx_rtmr2",
        ),
        (
            "ita",
            "--expect-report-data",
            hex::encode(td.report_data),
            "56".repeat(64),
            "report_data",
        ),
        (
            "ita",
            "--expect-nonce",
            "6e".repeat(16),
            "6f".repeat(16),
            "verifier_nonce",
        ),
        (
            "maa",
            "--expect-mrtd",
            hex::encode(td.mrtd),
            "12".repeat(48),
            "tdx_mrtd",
        ),
        (
            "maa",
            "--expect-rtmr",
            rtmr(1, &td.rtmrs[1]),
            rtmr(1, &[0x34; 48]),
            "tdx_rtmr1",
        ),
        // MAA: a prefix, the rest of the 64 bytes zero.
        (
            "maa",
            "--expect-report-data",
            "ab".repeat(32),
            "ab".repeat(31),
            "report data",
        ),
        (
            "nras",
            "--expect-nonce",
            "6e".repeat(16),
            "6f".repeat(16),
            "eat_nonce",
        ),
        (
            "nitro",
            "--expect-pcr",
            pcr(1),
            format!("1={}", "03".repeat(48)),
            "PCR1",
        ),
        (
            "nitro",
            "--expect-nonce",
            "6e".repeat(16),
            "6f".repeat(16),
            "nonce",
        ),
        (
            "nitro",
            "--expect-report-data",
            "75".repeat(32),
            "76".repeat(32),
            "user_data",
        ),
    ];
    for (kind, flag, right, wrong, word) in cases {
        let output = f.run(kind, &[flag, &right]);
        assert_eq!(
            code(&output),
            0,
            "{kind} {flag} {right}: {}",
            stderr(&output)
        );
        let output = f.run(kind, &[flag, &wrong]);
        let err = stderr(&output);
        assert_eq!(code(&output), 1, "{kind} {flag} {wrong}: {err}");
        assert!(err.contains(word), "{kind} {flag} {wrong}: {err}");
    }
    // Several pins at once: all must hold.
    let output = f.run(
        "ita",
        &[
            "--expect-mrtd",
            &hex::encode(td.mrtd),
            "--expect-rtmr",
            &rtmr(0, &td.rtmrs[0]),
            "--expect-rtmr",
            &rtmr(3, &[0x01; 48]),
        ],
    );
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    let output = f.run("nitro", &["--expect-pcr", &pcr(0), "--expect-pcr", &pcr(2)]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

#[test]
fn pin_values_that_cannot_name_a_measurement_are_usage_errors() {
    let f = Fixture::new();
    let hex48 = "11".repeat(48);
    for (kind, flag, value) in [
        ("ita", "--expect-rtmr", format!("4={hex48}")),
        ("ita", "--expect-rtmr", hex48.clone()),
        ("ita", "--expect-mrtd", "11".repeat(47)),
        ("ita", "--expect-report-data", "55".repeat(32)),
        ("nitro", "--expect-pcr", format!("x={hex48}")),
        ("nitro", "--expect-pcr", "1=11".to_owned()),
    ] {
        let output = f.run(kind, &[flag, &value]);
        assert_eq!(
            code(&output),
            2,
            "{kind} {flag} {value}: {}",
            stderr(&output)
        );
    }
    // One RTMR pinned twice is ambiguous.
    let output = f.run(
        "ita",
        &[
            "--expect-rtmr",
            &format!("1={hex48}"),
            "--expect-rtmr",
            &format!("1={}", "22".repeat(48)),
        ],
    );
    assert_eq!(code(&output), 2, "{}", stderr(&output));
}

/// The same instant written with +05:30 and with Z gives the same verdict, inside the token's
/// validity and after it (the old binary refused every offset but Z as a usage error).
#[test]
fn at_takes_any_rfc3339_offset() {
    let f = Fixture::new();
    for (utc, india, expected) in [
        ("2025-06-15T15:06:50Z", "2025-06-15T20:36:50+05:30", 0),
        (
            "2025-06-15T15:06:50.250Z",
            "2025-06-15T20:36:50.250+05:30",
            0,
        ),
        ("2025-06-15T15:13:20Z", "2025-06-15T20:43:20+05:30", 1),
    ] {
        for at in [utc, india] {
            let output = f.run_at("ita", at, &[]);
            assert_eq!(code(&output), expected, "--at {at}: {}", stderr(&output));
        }
    }
    // Read as UTC, the +05:30 local time would be hours after expiry: the offset is applied.
    let output = f.run_at("ita", "2025-06-15T15:06:50+00:00", &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    for bad in ["2025-06-15 15:06:50", "2025-06-15T15:06:50", "yesterday"] {
        let output = f.run_at("ita", bad, &[]);
        assert_eq!(code(&output), 2, "--at {bad}: {}", stderr(&output));
    }
}

/// A file over its cap is refused (exit 1, naming the cap). The old binary read any size:
/// a token padded with whitespace and a root file of repeated certificates were accepted.
#[test]
fn oversize_files_are_refused_naming_the_cap() {
    let f = Fixture::new();
    let token = std::fs::read_to_string(&f.ita).unwrap();
    let padded = f.write(
        "padded.jwt",
        format!("{token}{}", "\n".repeat(64 * 1024)).as_bytes(),
    );
    let pem = f.sim.root_pem();
    let roots = f.write(
        "roots.pem",
        pem.repeat(64 * 1024 / pem.len() + 1).as_bytes(),
    );
    let jwks = f.write(
        "big-jwks.json",
        format!("{}{}", f.sim.jwks_json(), " ".repeat(256 * 1024)).as_bytes(),
    );
    let nitro = std::fs::read(&f.nitro).unwrap();
    let mut big_doc = nitro.clone();
    big_doc.resize(64 * 1024 + 1, 0);
    let big_doc = f.write("big.cose", &big_doc);
    let cases: [(Vec<String>, &str); 4] = [
        (
            [
                "verify", &padded, "--kind", "ita", "--jwks", &f.jwks, "--root", &f.root, "--at",
                AT,
            ]
            .map(str::to_owned)
            .to_vec(),
            "64 KiB",
        ),
        (
            [
                "verify", &f.ita, "--kind", "ita", "--jwks", &f.jwks, "--root", &roots, "--at", AT,
            ]
            .map(str::to_owned)
            .to_vec(),
            "64 KiB",
        ),
        (
            [
                "verify", &f.ita, "--kind", "ita", "--jwks", &jwks, "--root", &f.root, "--at", AT,
            ]
            .map(str::to_owned)
            .to_vec(),
            "256 KiB",
        ),
        (
            [
                "verify", &big_doc, "--kind", "nitro", "--root", &f.root, "--at", AT,
            ]
            .map(str::to_owned)
            .to_vec(),
            "64 KiB",
        ),
    ];
    for (args, cap) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args);
        let err = stderr(&output);
        assert_eq!(code(&output), 1, "{args:?}: {err}");
        assert!(err.contains(cap), "{args:?}: {err}");
    }
}

/// Malformed inputs are refusals (exit 1) that say what is wrong, like any other rejection.
#[test]
fn malformed_inputs_exit_1_with_the_error() {
    let f = Fixture::new();
    let token = std::fs::read_to_string(&f.ita).unwrap();
    let truncated = f.write("truncated.jwt", &token.as_bytes()[..token.len() / 2]);
    let not_utf8 = f.write("binary.jwt", &[0xff, 0xfe, 0x00, 0x2e]);
    let bad_json = f.write("bad.json", b"{\"keys\": [");
    let bad_pem = f.write(
        "bad.pem",
        b"-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n",
    );
    let bad_base64 = f.write("bad.b64", b"hQBMoRE4Ig==%%%");
    let with = |file: &str, jwks: &str, root: &str| {
        [
            "verify", file, "--kind", "ita", "--jwks", jwks, "--root", root, "--at", AT,
        ]
        .map(str::to_owned)
        .to_vec()
    };
    let cases: [Vec<String>; 6] = [
        with(&truncated, &f.jwks, &f.root),
        with(&not_utf8, &f.jwks, &f.root),
        with(&f.ita, &bad_json, &f.root),
        // The old binary called a root file that is not a certificate a usage error (exit 2).
        with(&f.ita, &f.jwks, &bad_pem),
        [
            "verify",
            &bad_base64,
            "--kind",
            "nitro",
            "--root",
            &f.root,
            "--at",
            AT,
        ]
        .map(str::to_owned)
        .to_vec(),
        [
            "verify", &f.ita, "--kind", "nitro", "--root", &f.root, "--at", AT,
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for args in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = run(&args);
        let err = stderr(&output);
        assert_eq!(code(&output), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("rejected: ") && err.len() > 12,
            "{args:?}: {err}"
        );
    }
}

/// A Nitro document stored as base64 text verifies like the binary one; base64 that does not
/// decode is refused naming base64.
#[test]
fn nitro_documents_as_base64_text() {
    use base64::Engine as _;
    let f = Fixture::new();
    let doc = std::fs::read(&f.nitro).unwrap();
    let text = base64::engine::general_purpose::STANDARD.encode(&doc);
    let wrapped: String = text
        .as_bytes()
        .chunks(76)
        .map(|c| format!("{}\n", String::from_utf8_lossy(c)))
        .collect();
    let good = f.write("nitro.b64", wrapped.as_bytes());
    let output = run(&[
        "verify", &good, "--kind", "nitro", "--root", &f.root, "--at", AT,
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let bad = f.write(
        "nitro-bad.b64",
        format!("{}*{}", &text[..40], &text[40..]).as_bytes(),
    );
    let output = run(&[
        "verify", &bad, "--kind", "nitro", "--root", &f.root, "--at", AT,
    ]);
    let err = stderr(&output);
    assert_eq!(code(&output), 1, "{err}");
    assert!(err.contains("base64"), "{err}");
}

/// `attest-token ... | head -c1`: stdout's reader is gone before the claims are written. The
/// old binary panicked in `println!` (exit 101, "failed printing to stdout").
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let f = Fixture::new();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let args = f.base("ita");
    let output = Command::new(env!("CARGO_BIN_EXE_attest-token"))
        .args(&args)
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let err = stderr(&output);
    assert_ne!(output.status.code(), Some(101), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(output.status.code(), Some(0), "{err}");
}

/// clap's convention, as `tdx-quote`: help and version exit 0, usage errors 2.
#[test]
fn help_version_and_usage_errors() {
    for args in [
        &["--help"][..],
        &["--version"],
        &["verify", "--help"],
        &["help", "verify"],
    ] {
        let output = run(args);
        assert_eq!(code(&output), 0, "{args:?}: {}", stderr(&output));
        assert!(!output.stdout.is_empty(), "{args:?}");
    }
    let help = String::from_utf8(run(&["verify", "--help"]).stdout).unwrap();
    for word in [
        "tdx_report_data",
        "user_data",
        "rest",
        "zero",
        "eat_nonce",
        "verifier_nonce",
    ] {
        assert!(
            help.contains(word),
            "verify --help does not mention {word}:\n{help}"
        );
    }
    let f = Fixture::new();
    for extra in [&["--bogus"][..], &["--kind", "jwt"], &["second-file"]] {
        let output = f.run("ita", extra);
        assert_eq!(code(&output), 2, "{extra:?}: {}", stderr(&output));
    }
    assert_eq!(code(&run(&[])), 2);
    assert_eq!(code(&run(&["check", &f.ita])), 2);
    // A file that cannot be read is a usage error, as in tdx-quote.
    let missing = Path::new(&f.ita).with_extension("missing");
    let output = run(&[
        "verify",
        missing.to_str().unwrap(),
        "--kind",
        "nitro",
        "--at",
        AT,
    ]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
}

/// A production ITA token (Intel's root pinned by default): accepted when its TCB status is
/// accepted, refused on TCB status otherwise, and refused once expired.
#[test]
fn production_ita_token_tcb_and_time() {
    let (Some(token), Some(jwks)) = (
        attested_testdata::path("tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt"),
        attested_testdata::path("tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json"),
    ) else {
        return;
    };
    let (token, jwks) = (token.to_str().unwrap(), jwks.to_str().unwrap());
    let base = ["verify", token, "--kind", "ita", "--jwks", jwks, "--at"];
    let with = |at: &str, extra: &[&str]| run(&[&base[..], &[at], extra].concat());
    let output = with("2023-12-05T05:40:00+05:30", &["--accept-tcb", "OutOfDate"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["tcb_status"], "OutOfDate");
    let output = with("2023-12-05T00:10:00Z", &[]);
    assert_eq!(code(&output), 1);
    assert!(
        stderr(&output).contains("TCB status"),
        "{}",
        stderr(&output)
    );
    let output = with("2023-12-05T00:20:00Z", &["--accept-tcb", "OutOfDate"]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("expired"), "{}", stderr(&output));
}

/// evervault's Nitro test document, base64 text, verifies to AWS's pinned root and is refused
/// as a debug enclave (PCR0..2 zero).
#[test]
fn evervault_nitro_document_is_refused_as_debug() {
    let Some(doc) =
        attested_testdata::path("tokens/nitro/evervault/test-data/valid-attestation-doc-base64")
    else {
        return;
    };
    let output = run(&[
        "verify",
        doc.to_str().unwrap(),
        "--kind",
        "nitro",
        "--at",
        "2023-09-18T15:04:00Z",
    ]);
    assert_eq!(code(&output), 1);
    assert!(stderr(&output).contains("debug"), "{}", stderr(&output));
}

/// `--issuer` applies to ita: another issuer refuses Intel Trust Authority's token, the
/// simulator's issuer accepts a token it names (the old binary ignored `--issuer` for ita).
#[test]
fn issuer_applies_to_ita() {
    let f = Fixture::new();
    let output = f.run("ita", &["--issuer", "https://other.example"]);
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("issuer"), "{}", stderr(&output));
    let mut claims = f.sim.ita_claims(&td(), IAT, 300);
    claims["iss"] = "https://sim.trustauthority.example".into();
    let token = f.write("other-iss.jwt", f.sim.sign_jwt(&claims).as_bytes());
    let args = [
        "verify", &token, "--kind", "ita", "--jwks", &f.jwks, "--root", &f.root, "--at", AT,
    ];
    assert_eq!(code(&run(&args)), 1);
    let output = run(&[
        &args[..],
        &["--issuer", "https://sim.trustauthority.example"],
    ]
    .concat());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
}

/// An MAA TDX token with its claims at top level (attest/TdxVm) verifies, and its MRTD and
/// RTMRs can be pinned (the old binary refused it: "x-ms-isolation-tee is missing").
#[test]
fn maa_tdx_token_with_top_level_claims_takes_pins() {
    let f = Fixture::new();
    let td = td();
    let mut claims = serde_json::json!({
        "iss": MAA_ISSUER, "iat": IAT, "nbf": IAT, "exp": IAT + 600,
        "x-ms-ver": "1.0",
        "x-ms-attestation-type": "tdxvm",
        "attester_tcb_status": "UpToDate",
        "tdx_td_attributes": "0000001000000000",
        "dbgstat": "disabled",
    });
    claims.as_object_mut().unwrap().extend(td.tdx_claims());
    let token = f.sim.sign_jwt(&claims);
    let file = f.write("maa-tdx.jwt", token.as_bytes());
    let args = [
        "verify", &file, "--kind", "maa", "--jwks", &f.jwks, "--root", &f.root, "--issuer",
        MAA_ISSUER, "--at", AT,
    ];
    let mrtd = hex::encode(td.mrtd);
    let rtmr = format!("0={}", hex::encode(td.rtmrs[0]));
    let output = run(&[&args[..], &["--expect-mrtd", &mrtd, "--expect-rtmr", &rtmr]].concat());
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["layout"], "tdx");
    assert_eq!(json["isolation_tee"]["mrtd"], mrtd.as_str());
    let output = run(&[&args[..], &["--expect-mrtd", &"12".repeat(48)]].concat());
    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(stderr(&output).contains("tdx_mrtd"), "{}", stderr(&output));
}
