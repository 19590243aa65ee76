//! `tdx-quote verify`: full DCAP verification and appraisal of a quote, with a JSON verdict.
//!
//! ```text
//! tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] [--policy FILE]
//!                       [--profile strict|azure|gcp] [--expect-mrtd HEX ...]
//! ```
//!
//! The collateral file is one of two JSON forms, told apart by its keys (see [`COLLATERAL_HELP`]
//! and `attested_tdx::Collateral::from_json`): dcap-qvl's `QuoteCollateralV3`, or a PCS
//! collateral bundle holding Intel PCS/PCCS responses. Exit 0 when the quote verifies and the
//! policy accepts it, 1 when it is rejected, 2 on usage errors.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use attested_tdx::{
    Collateral, CollateralFormat, Hex, Policy, Profile, Quote, TrustAnchor, UnixTime, Verifier,
};
use serde_json::{Value, json};

/// Usage of the subcommand.
pub const USAGE: &str = "usage: tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] \
[--policy FILE] [--profile strict|azure|gcp] [--expect-mrtd HEX ...]";

/// What `--collateral FILE` accepts.
pub const COLLATERAL_HELP: &str = r#"--collateral FILE is JSON in one of two forms, told apart by its keys:
  dcap-qvl QuoteCollateralV3 (has "tcb_info_signature"): CRLs as hex, tcb_info and qe_identity
    as the signed JSON text, their signatures as hex, issuer chains as PEM.
  PCS collateral bundle (has "tcb_info_response"): what Intel PCS/PCCS returns, in one object:
    {"tcb_info_response": "<body of GET /tdx/certification/v4/tcb?fmspc=..>",
     "tcb_info_issuer_chain": "<PEM of the TCB-Info-Issuer-Chain header>",
     "qe_identity_response": "<body of GET /tdx/certification/v4/qe/identity>",
     "qe_identity_issuer_chain": "<PEM of the SGX-Enclave-Identity-Issuer-Chain header>",
     "pck_crl": "<GET /sgx/certification/v4/pckcrl?ca=..: hex of the DER, or PEM>",
     "pck_crl_issuer_chain": "<PEM of the SGX-PCK-CRL-Issuer-Chain header>",
     "root_ca_crl": "<Intel SGX Root CA CRL: hex of the DER, or PEM>"}
    Bodies are JSON strings holding the exact response text, or the response objects embedded
    byte for byte (the signatures cover their exact bytes). Chains may stay URL-encoded."#;

struct Options {
    quote: String,
    collateral: String,
    at: Option<UnixTime>,
    root: Option<String>,
    policy: Option<String>,
    profile: Option<Profile>,
    expect_mrtd: Vec<[u8; 48]>,
}

fn parse_options(args: &[&str]) -> Result<Options, String> {
    let mut quote = None;
    let mut collateral = None;
    let mut options = Options {
        quote: String::new(),
        collateral: String::new(),
        at: None,
        root: None,
        policy: None,
        profile: None,
        expect_mrtd: Vec::new(),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .map(|v| v.to_string())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match *arg {
            "--collateral" => collateral = Some(value("--collateral")?),
            "--at" => {
                let text = value("--at")?;
                options.at = Some(
                    UnixTime::parse_rfc3339(&text)
                        .ok_or_else(|| format!("--at {text}: not an RFC 3339 UTC time"))?,
                );
            }
            "--root" => options.root = Some(value("--root")?),
            "--policy" => options.policy = Some(value("--policy")?),
            "--profile" => {
                let text = value("--profile")?;
                options.profile = Some(
                    serde_json::from_value(Value::String(text.clone()))
                        .map_err(|_| format!("--profile {text}: expected strict, azure or gcp"))?,
                );
            }
            "--expect-mrtd" => {
                let text = value("--expect-mrtd")?;
                let mut mrtd = [0u8; 48];
                hex::decode_to_slice(&text, &mut mrtd)
                    .map_err(|e| format!("--expect-mrtd {text}: {e}"))?;
                options.expect_mrtd.push(mrtd);
            }
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if quote.is_none() => quote = Some(path.to_string()),
            extra => return Err(format!("unexpected argument {extra}")),
        }
    }
    options.quote = quote.ok_or("missing quote FILE")?;
    options.collateral = collateral.ok_or("missing --collateral FILE")?;
    Ok(options)
}

/// Reads a quote file: raw bytes, or hex text (with or without `0x`).
fn read_quote(path: &str) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    let text: String = String::from_utf8_lossy(&bytes).split_whitespace().collect();
    let text = text.strip_prefix("0x").unwrap_or(&text);
    Ok(hex::decode(text).unwrap_or(bytes))
}

/// Everything the verifier and policy need, loaded from the command line's files.
struct Inputs {
    quote: Vec<u8>,
    collateral: Collateral,
    collateral_format: CollateralFormat,
    anchor: TrustAnchor,
    policy: Policy,
    now: UnixTime,
}

fn load(options: &Options) -> Result<Inputs, String> {
    let read = |path: &str| std::fs::read(path).map_err(|e| format!("{path}: {e}"));
    let quote = read_quote(&options.quote).map_err(|e| format!("{}: {e}", options.quote))?;
    let collateral_json = read(&options.collateral)?;
    let in_collateral = |e| format!("{}: {e}", options.collateral);
    let collateral_format = CollateralFormat::detect(&collateral_json).map_err(in_collateral)?;
    let collateral = Collateral::from_json(&collateral_json).map_err(in_collateral)?;
    let anchor = match &options.root {
        Some(path) => TrustAnchor::from_pem(&read(path)?).map_err(|e| format!("{path}: {e}"))?,
        None => TrustAnchor::intel_sgx_root(),
    };
    let mut policy = match &options.policy {
        Some(path) => {
            let text = String::from_utf8(read(path)?).map_err(|e| format!("{path}: {e}"))?;
            Policy::from_text(&text).map_err(|e| format!("{path}: {e}"))?
        }
        None => Policy::default(),
    };
    if let Some(profile) = options.profile {
        policy.profile = profile;
    }
    policy
        .mr_td
        .extend(options.expect_mrtd.iter().copied().map(Hex));
    let now = options.at.unwrap_or_else(|| {
        UnixTime(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    });
    Ok(Inputs {
        quote,
        collateral,
        collateral_format,
        anchor,
        policy,
        now,
    })
}

/// Runs `tdx-quote verify` with the arguments after `verify`.
pub fn run(args: &[&str]) -> ExitCode {
    let options = match parse_options(args) {
        Ok(options) => options,
        Err(err) => {
            eprintln!("tdx-quote verify: {err}\n{USAGE}\n{COLLATERAL_HELP}");
            return ExitCode::from(2);
        }
    };
    let inputs = match load(&options) {
        Ok(inputs) => inputs,
        Err(err) => {
            eprintln!("tdx-quote verify: {err}");
            return ExitCode::from(2);
        }
    };
    let (verdict, accepted) = verdict(&inputs, &options.quote);
    println!("{verdict}");
    if accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn verdict(inputs: &Inputs, source: &str) -> (Value, bool) {
    let rejected = |check: &str, error: String| {
        json!({ "source": source, "verified": false, "accepted": false, "at": inputs.now.to_string(),
                "collateral_format": inputs.collateral_format.name(),
                "failed_check": check, "error": error })
    };
    // Bytes after the signature data are covered by no signature: report them, then ignore.
    let quote = match Quote::parse_allowing_trailing_data(&inputs.quote) {
        Ok(quote) => quote,
        Err(err) => return (rejected("parse", err.to_string()), false),
    };
    let verifier = Verifier::new(inputs.anchor.clone());
    let verified = match verifier.verify(&quote, &inputs.collateral, inputs.now) {
        Ok(verified) => verified,
        Err(err) => return (rejected(err.check(), err.to_string()), false),
    };
    let v = verified.verdict();
    let report = verified.report().td10();
    let appraisal = inputs.policy.appraise(&verified, inputs.now);
    let mut out = json!({
        "source": source,
        "verified": true,
        "accepted": appraisal.is_ok(),
        "at": inputs.now.to_string(),
        "collateral_format": inputs.collateral_format.name(),
        "tcb_status": v.tcb_status.to_string(),
        "advisory_ids": v.advisory_ids,
        "fmspc": hex::encode(v.fmspc),
        "tcb_evaluation_data_number": v.tcb_evaluation_data_number,
        "earliest_expiry": v.earliest_expiry.to_string(),
        "trailing_bytes": quote.trailing_data().len(),
        "mr_td": hex::encode(report.mr_td()),
        "mr_service_td": verified.report().mr_service_td().map(hex::encode),
        "rtmrs": report.rtmrs().map(hex::encode),
        "report_data": hex::encode(report.report_data()),
        "td_attributes": hex::encode(report.td_attributes_raw()),
    });
    if let (Err(err), Some(map)) = (&appraisal, out.as_object_mut()) {
        map.insert("failed_check".into(), json!("policy"));
        map.insert("error".into(), json!(err.to_string()));
    }
    (out, appraisal.is_ok())
}
