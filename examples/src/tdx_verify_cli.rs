//! `tdx-quote verify`: full DCAP verification and appraisal of a quote, with a JSON verdict.
//!
//! ```text
//! tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] [--policy FILE]
//!                       [--profile strict|azure|gcp] [--expect-mrtd HEX ...]
//!                       [--allow-trailing-data]
//! ```
//!
//! The collateral file is one of two JSON forms, told apart by its keys (see [`COLLATERAL_HELP`]
//! and `attested_tdx::Collateral::from_json`): dcap-qvl's `QuoteCollateralV3`, or a PCS
//! collateral bundle holding Intel PCS/PCCS responses.
//!
//! Exit codes: 0 when the quote verifies and the policy accepts it; 1 when it is refused, and
//! also when the quote, collateral, policy or root file is malformed (the JSON verdict's
//! `failed_check` then names the item: `quote`, `collateral`, `policy` or `root`); 2 on usage
//! errors (unknown or missing options, values that do not parse, files that cannot be read).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use attested_tdx::collateral::CollateralFormat;
use attested_tdx::policy::Profile;
use attested_tdx::{Collateral, Policy, Quote, TrustAnchor, UnixTime, Verifier};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

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
    byte for byte (the signatures cover their exact bytes). Chains may stay URL-encoded.

Exit status: 0 accepted; 1 refused, or a malformed quote, collateral, policy or root file
(the verdict's "failed_check" names it); 2 usage error."#;

/// The arguments of `tdx-quote verify`.
#[derive(clap::Args, Debug)]
#[command(after_help = COLLATERAL_HELP)]
pub struct VerifyArgs {
    /// The quote: binary, or hex text (with or without 0x).
    #[arg(value_name = "FILE")]
    pub quote: PathBuf,
    /// The collateral: dcap-qvl QuoteCollateralV3 JSON or a PCS collateral bundle (see below).
    #[arg(long, value_name = "FILE")]
    pub collateral: PathBuf,
    /// Verification time, RFC 3339 UTC (default: now).
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub at: Option<UnixTime>,
    /// Trust this root certificate (PEM) instead of the pinned Intel SGX Root CA.
    #[arg(long, value_name = "PEM")]
    pub root: Option<PathBuf>,
    /// Appraisal policy, JSON or TOML (default: UpToDate only, no debug TD, nothing pinned).
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Platform profile, overriding the policy's.
    #[arg(long, value_parser = parse_profile)]
    pub profile: Option<Profile>,
    /// Accept only these MRTDs (repeatable). With a policy that lists MRTDs, narrows its list
    /// to these values: a value the policy does not list is accepted by neither.
    #[arg(long = "expect-mrtd", value_name = "HEX", value_parser = parse_mrtd)]
    pub expect_mrtd: Vec<[u8; 48]>,
    /// Accept non-zero bytes after the signature data (nothing signs them; some test
    /// fixtures carry them), as `Quote::parse_allowing_trailing_data` does. Without it they
    /// are refused, as `Quote::parse` refuses them; zero padding is always accepted.
    #[arg(long = "allow-trailing-data")]
    pub allow_trailing_data: bool,
}

fn parse_time(text: &str) -> Result<UnixTime, String> {
    UnixTime::parse_rfc3339(text).ok_or_else(|| "not an RFC 3339 UTC time".to_owned())
}

fn parse_profile(text: &str) -> Result<Profile, String> {
    serde_json::from_value(Value::String(text.to_owned()))
        .map_err(|_| "expected strict, azure or gcp".to_owned())
}

/// 48 bytes as 96 hex digits (an MRTD, an RTMR, ...).
pub fn parse_mrtd(text: &str) -> Result<[u8; 48], String> {
    let mut out = [0u8; 48];
    hex::decode_to_slice(text, &mut out).map_err(|e| format!("expected 96 hex digits: {e}"))?;
    Ok(out)
}

/// Reads a quote file: raw bytes, or hex text (with or without `0x`).
pub fn read_quote_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    let text: String = String::from_utf8_lossy(&bytes).split_whitespace().collect();
    let text = text.strip_prefix("0x").unwrap_or(&text);
    Ok(hex::decode(text).unwrap_or(bytes))
}

/// Why `verify` could not start: a file it cannot read (a usage error) or one whose content
/// is malformed (a refusal, naming the item).
enum LoadError {
    Unreadable(String),
    Malformed { item: &'static str, error: String },
}

/// The command line's files, read but not yet parsed (their parse errors become verdicts).
struct Files {
    quote: Vec<u8>,
    collateral: Vec<u8>,
    root: Option<Vec<u8>>,
    policy: Option<Vec<u8>>,
}

fn read_files(args: &VerifyArgs) -> Result<Files, LoadError> {
    let unreadable = |flag: &str, path: &Path, e: std::io::Error| {
        LoadError::Unreadable(format!("{flag}{}: {e}", path.display()))
    };
    let read = |flag: &str, path: &Path| std::fs::read(path).map_err(|e| unreadable(flag, path, e));
    Ok(Files {
        quote: read_quote_file(&args.quote).map_err(|e| unreadable("", &args.quote, e))?,
        collateral: read("--collateral ", &args.collateral)?,
        root: args
            .root
            .as_deref()
            .map(|p| read("--root ", p))
            .transpose()?,
        policy: args
            .policy
            .as_deref()
            .map(|p| read("--policy ", p))
            .transpose()?,
    })
}

/// The appraisal policy: the policy file's, the `--profile` override, and `--expect-mrtd`
/// narrowing the accepted MRTDs (attested-tdx's `Policy::expect_mr_td`). Without a policy file
/// this inspection tool appraises with `Policy::any_workload()` (platform rules only, plus any
/// `--expect-mrtd`): it reports on a quote, it sends nothing to the TD; clients demand more.
fn appraisal_policy(
    file: Option<Policy>,
    profile: Option<Profile>,
    expect_mrtd: &[[u8; 48]],
) -> Result<Policy, String> {
    let mut policy = file.unwrap_or_else(Policy::any_workload);
    if let Some(profile) = profile {
        policy.profile = profile;
    }
    policy
        .expect_mr_td(expect_mrtd)
        .map_err(|e| e.to_string())?;
    Ok(policy)
}

/// A certificate's subject common name (its whole subject when it has none), or `None` when
/// the DER does not parse as a certificate.
pub fn certificate_name(der: &[u8]) -> Option<String> {
    use der::Decode as _;
    let cert = x509_cert::Certificate::from_der(der).ok()?;
    let subject = cert.tbs_certificate().subject();
    match subject.common_name() {
        Ok(Some(cn)) => Some(String::from(cn)),
        _ => Some(subject.to_string()),
    }
}

/// Which root the chains were checked against, for the verdict.
fn describe_anchor(anchor: &TrustAnchor, root: Option<&Path>) -> Value {
    let der = anchor.der().unwrap_or_default();
    let subject = certificate_name(der);
    match root {
        None => {
            json!({ "kind": "intel", "subject": subject, "sha256": hex::encode(Sha256::digest(der)) })
        }
        Some(path) => json!({
            "kind": "root_file",
            "path": path.display().to_string(),
            "subject": subject,
            "sha256": hex::encode(Sha256::digest(der)),
        }),
    }
}

/// Runs `tdx-quote verify`.
pub fn run(args: &VerifyArgs) -> ExitCode {
    let now = args.at.unwrap_or_else(|| {
        UnixTime(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_secs()),
        )
    });
    let (verdict, accepted) = match read_files(args) {
        Err(LoadError::Unreadable(error)) => {
            eprintln!("tdx-quote verify: {error}");
            return ExitCode::from(2);
        }
        Err(LoadError::Malformed { item, error }) => (refusal(args, now, item, &error), false),
        Ok(files) => match verdict(args, &files, now) {
            Ok(accepted) => accepted,
            Err(LoadError::Malformed { item, error }) => (refusal(args, now, item, &error), false),
            Err(LoadError::Unreadable(error)) => {
                eprintln!("tdx-quote verify: {error}");
                return ExitCode::from(2);
            }
        },
    };
    println!("{verdict}");
    if accepted {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// The verdict for an input file that does not parse.
fn refusal(args: &VerifyArgs, now: UnixTime, item: &str, error: &str) -> Value {
    eprintln!("tdx-quote verify: {item}: {error}");
    json!({ "source": args.quote.display().to_string(), "verified": false, "accepted": false,
            "at": now.to_string(), "failed_check": item, "error": error })
}

fn verdict(args: &VerifyArgs, files: &Files, now: UnixTime) -> Result<(Value, bool), LoadError> {
    let malformed =
        |item: &'static str, path: &Path, error: &dyn std::fmt::Display| LoadError::Malformed {
            item,
            error: format!("{}: {error}", path.display()),
        };
    let collateral_format = CollateralFormat::detect(&files.collateral)
        .map_err(|e| malformed("collateral", &args.collateral, &e))?;
    let collateral = Collateral::from_json(&files.collateral)
        .map_err(|e| malformed("collateral", &args.collateral, &e))?;
    let anchor = match (&files.root, &args.root) {
        (Some(pem), Some(path)) => {
            TrustAnchor::from_pem(pem).map_err(|e| malformed("root", path, &e))?
        }
        _ => TrustAnchor::intel_sgx_root(),
    };
    let policy_file = match (&files.policy, &args.policy) {
        (Some(bytes), Some(path)) => {
            let text = std::str::from_utf8(bytes).map_err(|e| malformed("policy", path, &e))?;
            Some(Policy::from_text(text).map_err(|e| malformed("policy", path, &e))?)
        }
        _ => None,
    };
    let policy =
        appraisal_policy(policy_file, args.profile, &args.expect_mrtd).map_err(|error| {
            LoadError::Malformed {
                item: "policy",
                error,
            }
        })?;

    let source = args.quote.display().to_string();
    let trust_anchor = describe_anchor(&anchor, args.root.as_deref());
    let rejected = |check: &str, error: String| {
        json!({ "source": source, "verified": false, "accepted": false, "at": now.to_string(),
                "collateral_format": collateral_format.name(), "trust_anchor": trust_anchor,
                "failed_check": check, "error": error })
    };
    // As the library refuses them: zero padding after the signature data is accepted, any
    // other trailing byte is not (nothing signs those bytes).
    let parsed = if args.allow_trailing_data {
        Quote::parse_allowing_trailing_data(&files.quote)
    } else {
        Quote::parse(&files.quote)
    };
    let quote = match parsed {
        Ok(quote) => quote,
        Err(err) => return Ok((rejected("parse", err.to_string()), false)),
    };
    let verifier = Verifier::new(anchor.clone());
    let verified = match verifier.verify(&quote, &collateral, now) {
        Ok(verified) => verified,
        Err(err) => return Ok((rejected(err.check(), err.to_string()), false)),
    };
    let v = verified.verdict();
    let report = verified.report().td10();
    let appraisal = policy.appraise(&verified, now);
    let mut out = json!({
        "source": source,
        "verified": true,
        "accepted": appraisal.is_ok(),
        "at": now.to_string(),
        "collateral_format": collateral_format.name(),
        "trust_anchor": trust_anchor,
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
    Ok((out, appraisal.is_ok()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use attested_tdx::policy::Hex;

    const A: [u8; 48] = [0xaa; 48];
    const B: [u8; 48] = [0xbb; 48];
    const C: [u8; 48] = [0xcc; 48];

    fn listing(mr_td: &[[u8; 48]]) -> Policy {
        Policy {
            mr_td: mr_td.iter().copied().map(Hex).collect(),
            ..Policy::any_workload()
        }
    }

    #[test]
    fn expect_mrtd_narrows_a_policy_list_and_never_widens_it() {
        let narrowed = appraisal_policy(Some(listing(&[A, B])), None, &[B]);
        assert_eq!(narrowed.map(|p| p.mr_td), Ok(vec![Hex(B)]));
        let outside = appraisal_policy(Some(listing(&[A, B])), None, &[C]);
        assert!(outside.is_err(), "{outside:?}");
        let no_list = appraisal_policy(None, None, &[C]);
        assert_eq!(no_list.map(|p| p.mr_td), Ok(vec![Hex(C)]));
        let unchanged = appraisal_policy(Some(listing(&[A, B])), Some(Profile::Azure), &[]);
        assert_eq!(
            unchanged.map(|p| (p.mr_td, p.profile)),
            Ok((vec![Hex(A), Hex(B)], Profile::Azure))
        );
    }
}
