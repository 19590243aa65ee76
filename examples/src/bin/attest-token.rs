//! `attest-token`: verify an attestation token or document and print its claims as JSON.
//!
//! ```text
//! attest-token verify FILE --kind ita|nras|maa|nitro [--jwks FILE] [--root PEM] [--at RFC3339]
//!     [--issuer URL] [--accept-tcb STATUS]... [--expect-nonce HEX] [--expect-report-data HEX]
//!     [--expect-mrtd HEX] [--expect-rtmr N=HEX]... [--expect-pcr N=HEX]...
//! ```
//!
//! Every flag applies to the kind it is given with, or is a usage error naming the flag and the
//! kind ([`FLAGS`], also printed by `attest-token verify --help`): no check the user asked for
//! is skipped. The checks themselves are attested-token's verifiers and policies; this binary
//! only reads the files (each under a size cap) and wires the flags to them.
//!
//! Exit 0: accepted (claims on stdout). Exit 1: rejected or malformed input, one line on stderr
//! naming the failed check. Exit 2: usage error (clap's convention, as `tdx-quote`: `--help` and
//! `--version` exit 0). A closed stdout (`| head -c1`) is not an error: the verdict stands.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{ErrorKind, Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use attested_token::ita::{ItaClaims, ItaPolicy, ItaVerifier};
use attested_token::jwt::{Jwks, KeySet};
use attested_token::maa::{MaaPolicy, MaaToken, MaaVerifier};
use attested_token::nitro::{NitroDocument, NitroPolicy, NitroVerifier};
use attested_token::nras::{NrasPolicy, NrasResult, NrasVerifier};
use attested_token::x509::TrustRoots;
use attested_token::{Error, UnixTime};
use base64::Engine as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use serde_json::{Value, json};

/// Largest token file (a JWS, or an NRAS bundle): attested-token's token limit.
const TOKEN_CAP: u64 = 64 * 1024;
/// Largest JWKS file: attested-token's JWKS limit.
const JWKS_CAP: u64 = 256 * 1024;
/// Largest root certificate file (PEM).
const ROOT_CAP: u64 = 64 * 1024;
/// Largest Nitro document file (binary, or base64 text of attested-token's 32 KiB document limit).
const NITRO_CAP: u64 = 64 * 1024;

#[derive(Parser)]
#[command(
    name = "attest-token",
    version,
    propagate_version = true,
    about = "Verify attestation tokens (Intel Trust Authority, NVIDIA NRAS, Azure Attestation) \
             and AWS Nitro documents, and print their claims as JSON"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Verify FILE (signature, chain to the root, time, issuer), appraise it against the
    /// expectations given, and print its claims as JSON.
    Verify(VerifyArgs),
}

/// What FILE holds.
#[derive(Clone, Copy, PartialEq, Eq, Debug, ValueEnum)]
enum Kind {
    /// An Intel Trust Authority JWT (v1 or v2).
    Ita,
    /// An NVIDIA NRAS response body (the overall token and one token per GPU).
    Nras,
    /// A Microsoft Azure Attestation JWT (guest attestation, or TDX / SEV-SNP attestation).
    Maa,
    /// An AWS Nitro attestation document (COSE_Sign1), binary or base64 text.
    Nitro,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::Ita, Kind::Nras, Kind::Maa, Kind::Nitro];

    fn name(self) -> &'static str {
        match self {
            Kind::Ita => "ita",
            Kind::Nras => "nras",
            Kind::Maa => "maa",
            Kind::Nitro => "nitro",
        }
    }
}

/// Whether a flag is required, optional or refused for a kind.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Use {
    Required,
    Optional,
    Refused,
}

use Use::{Optional, Refused, Required};

/// Each kind-dependent flag and its use for ita, nras, maa, nitro (in that order). `--root` is
/// optional where attested-token pins a root (Intel Trust Authority's, AWS Nitro's) and
/// required where it pins none (NVIDIA's and MAA's are not published as fixed roots).
const FLAGS: [(&str, [Use; 4]); 9] = [
    ("--jwks", [Required, Required, Required, Refused]),
    ("--root", [Optional, Required, Required, Optional]),
    ("--issuer", [Optional, Refused, Required, Refused]),
    ("--accept-tcb", [Optional, Refused, Refused, Refused]),
    ("--expect-nonce", [Optional, Optional, Refused, Optional]),
    (
        "--expect-report-data",
        [Optional, Refused, Optional, Optional],
    ),
    ("--expect-mrtd", [Optional, Refused, Optional, Refused]),
    ("--expect-rtmr", [Optional, Refused, Optional, Refused]),
    ("--expect-pcr", [Refused, Refused, Refused, Optional]),
];

const REPORT_DATA_HELP: &str = "What --expect-report-data compares:
  ita    REPORTDATA of the TD (tdx_report_data) or enclave (sgx_report_data): all 64 bytes, equal
  maa    REPORTDATA (tdx_report_data or x-ms-sevsnpvm-reportdata, 64 bytes) starts with HEX and
         every byte after it is zero (32 bytes pin a SHA-256 with a zero rest; 64 pin it all;
         HEX longer than the claim is refused)
  nitro  user_data of the document: equal, whatever its length
--expect-nonce compares: ita verifier_nonce.val (base64-decoded), nras eat_nonce of the overall
  token and of every GPU token, nitro the document's nonce. All pins compare in constant time.

Exit status: 0 accepted; 1 rejected or malformed input; 2 usage error.";

/// The `verify --help` epilogue: [`FLAGS`] as a table, then what the pins compare.
fn after_help() -> String {
    let mut text = String::from("Flags by kind (req required, opt optional, - refused: exit 2):\n");
    text.push_str(&format!("  {:22}", ""));
    for kind in Kind::ALL {
        text.push_str(&format!("{:>7}", kind.name()));
    }
    text.push('\n');
    for (flag, uses) in FLAGS {
        text.push_str(&format!("  {flag:22}"));
        for use_ in uses {
            let mark = match use_ {
                Required => "req",
                Optional => "opt",
                Refused => "-",
            };
            text.push_str(&format!("{mark:>7}"));
        }
        text.push('\n');
    }
    text.push('\n');
    text.push_str(REPORT_DATA_HELP);
    text
}

/// Bytes given as hex (a newtype: clap reads `Vec<u8>` as a list of values).
#[derive(Clone, Debug)]
struct HexBytes(Vec<u8>);

#[derive(clap::Args, Debug)]
struct VerifyArgs {
    /// The token, NRAS bundle or Nitro document.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// What FILE holds.
    #[arg(long, value_enum)]
    kind: Kind,
    /// The issuer's JWKS, trusted through each key's x5c chain to the root (ita, nras, maa).
    #[arg(long, value_name = "FILE")]
    jwks: Option<PathBuf>,
    /// Trust this root certificate (PEM) instead of the pinned one (ita: Intel Trust
    /// Authority's; nitro: AWS Nitro's; nras, maa: required).
    #[arg(long, value_name = "PEM")]
    root: Option<PathBuf>,
    /// Verification time, RFC 3339 with any offset (2023-12-05T00:10:00Z,
    /// 2023-12-05T05:40:00+05:30); default now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    at: Option<SystemTime>,
    /// Require this issuer (`iss`): maa the attestation provider's URL (required); ita another
    /// than "Intel Trust Authority".
    #[arg(long, value_name = "URL")]
    issuer: Option<String>,
    /// Accept this TCB status (repeatable; default UpToDate only). ita only.
    #[arg(long = "accept-tcb", value_name = "STATUS")]
    accept_tcb: Vec<String>,
    /// Require this nonce (ita verifier_nonce.val, nras eat_nonce, nitro nonce; not maa).
    #[arg(long = "expect-nonce", value_name = "HEX", value_parser = parse_hex)]
    expect_nonce: Option<HexBytes>,
    /// Require this report data (ita REPORTDATA exactly, 64 bytes; maa a REPORTDATA prefix, the
    /// rest zero; nitro user_data exactly; not nras): see below.
    #[arg(long = "expect-report-data", value_name = "HEX", value_parser = parse_hex)]
    expect_report_data: Option<HexBytes>,
    /// Require this MRTD, 96 hex digits (ita tdx_mrtd, maa tdx_mrtd).
    #[arg(long = "expect-mrtd", value_name = "HEX", value_parser = parse_48)]
    expect_mrtd: Option<[u8; 48]>,
    /// Require RTMR N (0..=3) to equal HEX, 96 hex digits (repeatable; ita, maa).
    #[arg(long = "expect-rtmr", value_name = "N=HEX", value_parser = parse_rtmr)]
    expect_rtmr: Vec<(usize, [u8; 48])>,
    /// Require PCR N (0..=31) to equal HEX, 96 hex digits (SHA-384) (repeatable; nitro).
    #[arg(long = "expect-pcr", value_name = "N=HEX", value_parser = parse_pcr)]
    expect_pcr: Vec<(u8, [u8; 48])>,
}

impl VerifyArgs {
    /// Whether each flag of [`FLAGS`] was given, in its order.
    fn given(&self) -> [bool; 9] {
        [
            self.jwks.is_some(),
            self.root.is_some(),
            self.issuer.is_some(),
            !self.accept_tcb.is_empty(),
            self.expect_nonce.is_some(),
            self.expect_report_data.is_some(),
            self.expect_mrtd.is_some(),
            !self.expect_rtmr.is_empty(),
            !self.expect_pcr.is_empty(),
        ]
    }

    /// Every flag applies to the kind or is a usage error naming both; a required flag
    /// that is missing is one too; so is a measurement pinned twice.
    fn check_flags(&self) -> Result<(), String> {
        let column = Kind::ALL
            .iter()
            .position(|k| *k == self.kind)
            .unwrap_or_default();
        let kind = self.kind.name();
        for ((flag, uses), given) in FLAGS.iter().zip(self.given()) {
            let use_ = uses.get(column).copied().unwrap_or(Refused);
            if given && use_ == Refused {
                let takers: Vec<&str> = Kind::ALL
                    .iter()
                    .zip(uses)
                    .filter(|(_, u)| **u != Refused)
                    .map(|(k, _)| k.name())
                    .collect();
                return Err(format!(
                    "{flag} does not apply to --kind {kind} (it applies to {})",
                    takers.join(", ")
                ));
            }
            if !given && use_ == Required {
                return Err(format!("--kind {kind} requires {flag}"));
            }
        }
        if let Some(index) = repeated(self.expect_rtmr.iter().map(|(i, _)| *i)) {
            return Err(format!("--expect-rtmr {index} given twice"));
        }
        if let Some(index) = repeated(self.expect_pcr.iter().map(|(i, _)| *i)) {
            return Err(format!("--expect-pcr {index} given twice"));
        }
        if self.kind == Kind::Ita
            && let Some(HexBytes(bytes)) = &self.expect_report_data
            && bytes.len() != 64
        {
            return Err(format!(
                "--expect-report-data with --kind ita must be 64 bytes (128 hex digits), not {}",
                bytes.len()
            ));
        }
        Ok(())
    }
}

fn repeated<T: Ord + Copy>(items: impl Iterator<Item = T>) -> Option<T> {
    let mut seen = BTreeSet::new();
    items.into_iter().find(|item| !seen.insert(*item))
}

fn parse_time(text: &str) -> Result<SystemTime, String> {
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map(SystemTime::from)
        .map_err(|e| format!("expected RFC 3339 like 2023-12-05T00:10:00Z or ...+05:30: {e}"))
}

fn parse_hex(text: &str) -> Result<HexBytes, String> {
    hex::decode(text)
        .map(HexBytes)
        .map_err(|e| format!("expected hex: {e}"))
}

fn parse_48(text: &str) -> Result<[u8; 48], String> {
    let mut out = [0u8; 48];
    hex::decode_to_slice(text, &mut out).map_err(|e| format!("expected 96 hex digits: {e}"))?;
    Ok(out)
}

fn parse_indexed(text: &str, what: &str, max: u8) -> Result<(u8, [u8; 48]), String> {
    let (index, value) = text.split_once('=').ok_or("expected N=HEX")?;
    let index: u8 = index
        .parse()
        .ok()
        .filter(|i| *i <= max)
        .ok_or_else(|| format!("{what} index {index}: expected 0..={max}"))?;
    Ok((index, parse_48(value)?))
}

fn parse_rtmr(text: &str) -> Result<(usize, [u8; 48]), String> {
    parse_indexed(text, "RTMR", 3).map(|(i, v)| (usize::from(i), v))
}

fn parse_pcr(text: &str) -> Result<(u8, [u8; 48]), String> {
    parse_indexed(text, "PCR", 31)
}

/// A usage problem (exit 2) or a rejection (exit 1).
enum Failure {
    Usage(String),
    Rejected(String),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Rejected(err.to_string())
    }
}

/// Reads at most `cap` bytes of `path`: a larger file is refused without being read whole.
/// A file that cannot be opened or read is a usage error, as in `tdx-quote`.
fn read_capped(what: &str, path: &Path, cap: u64) -> Result<Vec<u8>, Failure> {
    let unreadable = |e: std::io::Error| Failure::Usage(format!("{what} {}: {e}", path.display()));
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|file| file.take(cap.saturating_add(1)).read_to_end(&mut bytes))
        .map_err(unreadable)?;
    if bytes.len() as u64 > cap {
        return Err(Failure::Rejected(format!(
            "{what} {} is larger than the {} KiB cap",
            path.display(),
            cap / 1024
        )));
    }
    Ok(bytes)
}

fn jwks(args: &VerifyArgs) -> Result<Jwks, Failure> {
    let path = args
        .jwks
        .as_deref()
        .ok_or_else(|| Failure::Usage("--jwks is required".into()))?;
    let bytes = read_capped("--jwks", path, JWKS_CAP)?;
    Jwks::from_json(&bytes)
        .map_err(|e| Failure::Rejected(format!("--jwks {}: {e}", path.display())))
}

/// `--root`, or the pinned root where attested-token has one.
fn roots(args: &VerifyArgs, pinned: Option<TrustRoots>) -> Result<TrustRoots, Failure> {
    let Some(path) = args.root.as_deref() else {
        return pinned.ok_or_else(|| Failure::Usage("--root is required".into()));
    };
    let bytes = read_capped("--root", path, ROOT_CAP)?;
    let malformed = |e: String| Failure::Rejected(format!("--root {}: {e}", path.display()));
    let pem = std::str::from_utf8(&bytes).map_err(|_| malformed("not PEM text".into()))?;
    TrustRoots::empty()
        .with_pem(pem)
        .map_err(|e| malformed(e.to_string()))
}

fn token_text(args: &VerifyArgs) -> Result<String, Failure> {
    let bytes = read_capped("token", &args.file, TOKEN_CAP)?;
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| Failure::Rejected("malformed token: not UTF-8".into()))
}

fn ita(args: &VerifyArgs, now: UnixTime) -> Result<Value, Failure> {
    let token = token_text(args)?;
    let mut verifier = ItaVerifier::new(
        &jwks(args)?,
        &roots(args, Some(TrustRoots::intel_trust_authority()))?,
    );
    if let Some(issuer) = &args.issuer {
        verifier = verifier.issuer(issuer);
    }
    let claims = verifier.verify(&token, now)?;
    let mut policy = ItaPolicy::new();
    if !args.accept_tcb.is_empty() {
        policy = policy.accept_tcb_statuses(args.accept_tcb.clone());
    }
    if let Some(HexBytes(nonce)) = &args.expect_nonce {
        policy = policy.expect_nonce(nonce);
    }
    if let Some(HexBytes(report_data)) = &args.expect_report_data {
        let report_data: [u8; 64] = report_data.as_slice().try_into().map_err(|_| {
            Failure::Usage("--expect-report-data with --kind ita must be 64 bytes".into())
        })?;
        policy = policy.expect_report_data(report_data);
    }
    if let Some(mrtd) = args.expect_mrtd {
        policy = policy.expect_mrtd(mrtd);
    }
    for (index, value) in &args.expect_rtmr {
        policy = policy.expect_rtmr(*index, *value);
    }
    policy.appraise(&claims)?;
    Ok(ita_json(&claims))
}

fn ita_json(claims: &ItaClaims) -> Value {
    let tdx = claims.tdx.as_ref().map(|t| {
        json!({
            "mrtd": hex::encode(t.mrtd),
            "rtmr0": hex::encode(t.rtmr0),
            "rtmr1": hex::encode(t.rtmr1),
            "rtmr2": hex::encode(t.rtmr2),
            "rtmr3": hex::encode(t.rtmr3),
            "report_data": hex::encode(t.report_data),
        })
    });
    let sgx = claims.sgx.as_ref().map(|s| {
        json!({
            "mrenclave": hex::encode(s.mrenclave),
            "mrsigner": hex::encode(s.mrsigner),
            "report_data": hex::encode(s.report_data),
        })
    });
    json!({
        "kind": "ita",
        "version": format!("{:?}", claims.version),
        "issuer": claims.issuer,
        "issued_at": claims.issued_at,
        "expires_at": claims.expires_at,
        "attester_type": claims.attester_type,
        "tcb_status": claims.tcb_status,
        "advisory_ids": claims.advisory_ids,
        "verifier_nonce": claims.verifier_nonce.as_ref().map(|n| &n.val),
        "tdx": tdx,
        "sgx": sgx,
        "nvgpu": claims.nvgpu,
    })
}

fn nras(args: &VerifyArgs, now: UnixTime) -> Result<Value, Failure> {
    let bundle = read_capped("NRAS bundle", &args.file, TOKEN_CAP)?;
    let result = NrasVerifier::new(&jwks(args)?, &roots(args, None)?).verify(&bundle, now)?;
    let mut policy = NrasPolicy::new();
    if let Some(HexBytes(nonce)) = &args.expect_nonce {
        policy = policy.expect_nonce(nonce);
    }
    policy.appraise(&result)?;
    Ok(nras_json(&result))
}

fn nras_json(result: &NrasResult) -> Value {
    let gpus: Vec<Value> = result
        .gpus
        .iter()
        .map(|g| {
            json!({
                "name": g.name, "measres": g.measres, "hwmodel": g.hwmodel, "ueid": g.ueid,
                "dbgstat": g.dbgstat, "secboot": g.secboot, "eat_nonce": g.eat_nonce,
                "driver_version": g.driver_version, "vbios_version": g.vbios_version,
            })
        })
        .collect();
    json!({
        "kind": "nras",
        "overall_result": result.overall_result,
        "version": result.version,
        "eat_nonce": result.eat_nonce,
        "gpus": gpus,
    })
}

fn maa(args: &VerifyArgs, now: UnixTime) -> Result<Value, Failure> {
    let token = token_text(args)?;
    let issuer = args
        .issuer
        .clone()
        .ok_or_else(|| Failure::Usage("--kind maa requires --issuer".into()))?;
    let keys = KeySet::chained(&jwks(args)?, &roots(args, None)?);
    let claims = MaaVerifier::new(keys, issuer).verify_token(&token, now)?;
    let mut policy = MaaPolicy::new();
    if let Some(HexBytes(prefix)) = &args.expect_report_data {
        policy = policy.expect_report_data(prefix);
    }
    if let Some(mrtd) = args.expect_mrtd {
        policy = policy.expect_mrtd(mrtd);
    }
    for (index, value) in &args.expect_rtmr {
        policy = policy.expect_rtmr(*index, *value);
    }
    policy.appraise_token(&claims)?;
    Ok(maa_json(&claims))
}

fn maa_json(token: &MaaToken) -> Value {
    let tee = token.tee();
    let (layout, issuer, expires_at, attestation_type, runtime, tcb_status) = match token {
        MaaToken::Guest(c) => (
            "guest",
            &c.issuer,
            c.expires_at,
            c.attestation_type.as_ref(),
            c.runtime.as_ref(),
            None,
        ),
        MaaToken::Tdx(c) | MaaToken::SevSnp(c) => (
            if matches!(token, MaaToken::Tdx(_)) {
                "tdx"
            } else {
                "sevsnp"
            },
            &c.issuer,
            c.expires_at,
            Some(&tee.attestation_type),
            tee.runtime.as_ref(),
            c.tcb_status.as_ref(),
        ),
        // A layout attested-token adds later: its TEE claims still print.
        _ => ("other", &String::new(), 0, None, None, None),
    };
    json!({
        "kind": "maa",
        "layout": layout,
        "issuer": issuer,
        "expires_at": expires_at,
        "attestation_type": attestation_type,
        "isolation_tee": {
            "attestation_type": tee.attestation_type,
            "compliance_status": tee.compliance_status,
            "report_data": tee.sevsnp_report_data.as_ref().or(tee.tdx_report_data.as_ref()),
            "mrtd": tee.tdx_mrtd,
            "debuggable": tee.is_debuggable(),
        },
        "tcb_status": tcb_status,
        "runtime": runtime,
    })
}

/// A Nitro document file: binary COSE_Sign1 (its first byte is a CBOR array or tag, never a
/// base64 character), or base64 text (whitespace ignored), which must then decode.
fn nitro_document(args: &VerifyArgs) -> Result<Vec<u8>, Failure> {
    let bytes = read_capped("Nitro document", &args.file, NITRO_CAP)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    let is_text = first.is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'+' || *b == b'/');
    if !is_text {
        return Ok(bytes);
    }
    let text: Vec<u8> = bytes
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| Failure::Rejected(format!("malformed Nitro document: base64 text: {e}")))
}

fn nitro(args: &VerifyArgs, now: UnixTime) -> Result<Value, Failure> {
    let document = nitro_document(args)?;
    let verifier = NitroVerifier::new(&roots(args, Some(TrustRoots::aws_nitro()))?);
    let doc = verifier.verify(&document, now)?;
    let mut policy = NitroPolicy::new();
    if let Some(HexBytes(nonce)) = &args.expect_nonce {
        policy = policy.expect_nonce(nonce);
    }
    if let Some(HexBytes(user_data)) = &args.expect_report_data {
        policy = policy.expect_user_data(user_data);
    }
    for (index, value) in &args.expect_pcr {
        policy = policy.expect_pcr(*index, value);
    }
    policy.appraise(&doc)?;
    Ok(nitro_json(&doc))
}

fn nitro_json(doc: &NitroDocument) -> Value {
    let pcrs: serde_json::Map<String, Value> = doc
        .pcrs
        .iter()
        .map(|(i, v)| (i.to_string(), Value::from(hex::encode(v))))
        .collect();
    let opt = |v: &Option<Vec<u8>>| v.as_ref().map(hex::encode);
    json!({
        "kind": "nitro",
        "module_id": doc.module_id,
        "digest": doc.digest,
        "timestamp_ms": doc.timestamp_ms,
        "pcrs": pcrs,
        "public_key": opt(&doc.public_key),
        "user_data": opt(&doc.user_data),
        "nonce": opt(&doc.nonce),
    })
}

fn verify(args: &VerifyArgs) -> Result<Value, Failure> {
    args.check_flags().map_err(Failure::Usage)?;
    // The verifiers count whole seconds: a fraction given with --at is dropped here.
    let now = args.at.map_or_else(UnixTime::now, UnixTime::from);
    match args.kind {
        Kind::Ita => ita(args, now),
        Kind::Nras => nras(args, now),
        Kind::Maa => maa(args, now),
        Kind::Nitro => nitro(args, now),
    }
}

/// Writes the claims; a reader that went away (`| head -c1`) is not an error.
fn print(claims: &Value) -> ExitCode {
    let text = serde_json::to_string_pretty(claims).unwrap_or_default();
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "attest-token: cannot write the claims: {e}"
            );
            ExitCode::from(1)
        }
    }
}

fn main() -> ExitCode {
    let mut command = Cli::command().mut_subcommand("verify", |c| c.after_help(after_help()));
    let cli = match command
        .try_get_matches_from_mut(std::env::args_os())
        .and_then(|matches| Cli::from_arg_matches(&matches))
    {
        Ok(cli) => cli,
        // Help and version exit 0, usage errors 2 (clap ignores a closed stream).
        Err(err) => err.exit(),
    };
    let Command::Verify(args) = cli.command;
    match verify(&args) {
        Ok(claims) => print(&claims),
        Err(Failure::Rejected(reason)) => {
            let _ = writeln!(std::io::stderr(), "rejected: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(problem)) => {
            // The error shows `verify`'s usage line, as clap's own usage errors do.
            let kind = clap::error::ErrorKind::ArgumentConflict;
            match command.find_subcommand_mut("verify") {
                Some(verify) => verify.error(kind, problem).exit(),
                None => command.error(kind, problem).exit(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn rfc3339_times_with_any_offset_are_utc() {
        let expected = UNIX_EPOCH + Duration::from_secs(1_701_735_000);
        for text in [
            "2023-12-05T00:10:00Z",
            "2023-12-05T05:40:00+05:30",
            "2023-12-04T19:10:00-05:00",
            "2023-12-05T00:10:00+00:00",
        ] {
            assert_eq!(parse_time(text), Ok(expected), "{text}");
        }
        assert_eq!(
            parse_time("2023-12-05T00:10:00.750Z"),
            Ok(expected + Duration::from_millis(750))
        );
        assert!(parse_time("2023-12-05 00:10").is_err());
    }

    #[test]
    fn the_flag_table_covers_every_flag_and_every_kind_takes_its_required_flags() {
        Cli::command().debug_assert();
        let command = Cli::command();
        let verify = command.find_subcommand("verify").map(|c| {
            c.get_arguments()
                .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
                .collect::<Vec<_>>()
        });
        let longs = verify.unwrap_or_default();
        for (flag, _) in FLAGS {
            assert!(longs.contains(&flag.to_owned()), "{flag}");
        }
        // Every kind-dependent flag is in the table (only --kind and --at apply to all kinds).
        for long in longs {
            assert!(
                ["--kind", "--at", "--help"].contains(&long.as_str())
                    || FLAGS.iter().any(|(f, _)| *f == long),
                "{long} is not in FLAGS"
            );
        }
    }
}
