//! `attest-token`: verify an attestation token or document and print its claims as JSON.
//!
//! ```text
//! attest-token verify FILE --kind ita|nras|maa|nitro [--jwks FILE] [--root PEM] [--at RFC3339]
//!     [--expect-nonce HEX] [--expect-report-data HEX] [--accept-tcb STATUS]... [--issuer URL]
//! ```
//! Exit 0: accepted (claims on stdout). Exit 1: rejected, one line naming the failed check.
//! Exit 2: usage error.

use std::process::ExitCode;
use std::str::FromStr as _;
use std::time::SystemTime;

use attested_token::{
    Error, ItaClaims, ItaPolicy, ItaVerifier, Jwks, KeySet, MaaClaims, MaaPolicy, MaaVerifier,
    NitroDocument, NitroPolicy, NitroVerifier, NrasPolicy, NrasResult, NrasVerifier, TrustRoots,
};
use base64::Engine as _;
use serde_json::{Value, json};

const USAGE: &str = "usage: attest-token verify FILE --kind ita|nras|maa|nitro [--jwks FILE] [--root PEM] \
[--at RFC3339] [--expect-nonce HEX] [--expect-report-data HEX] [--accept-tcb STATUS]... [--issuer URL]";

#[derive(Default)]
struct Args {
    file: String,
    kind: String,
    jwks: Option<String>,
    root: Option<String>,
    at: Option<SystemTime>,
    nonce: Option<Vec<u8>>,
    report_data: Option<Vec<u8>>,
    accept_tcb: Vec<String>,
    issuer: Option<String>,
}

/// A usage problem (exit 2) or a rejection (exit 1).
#[derive(Debug)]
enum Failure {
    Usage(String),
    Rejected(String),
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure::Rejected(err.to_string())
    }
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

fn parse_time(text: &str) -> Result<SystemTime, Failure> {
    // RFC 3339 in UTC: drop a fractional part, which the DER time parser does not take.
    let whole = match (text.find('.'), text.strip_suffix('Z')) {
        (Some(dot), Some(_)) => format!("{}Z", text.get(..dot).unwrap_or_default()),
        _ => text.to_owned(),
    };
    der::DateTime::from_str(&whole)
        .map(|t| t.to_system_time())
        .map_err(|_| {
            usage(format!(
                "--at {text}: expected RFC 3339 UTC like 2023-12-05T00:10:00Z"
            ))
        })
}

fn hex_arg(name: &str, text: &str) -> Result<Vec<u8>, Failure> {
    hex::decode(text).map_err(|e| usage(format!("{name}: {e}")))
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Args, Failure> {
    if args.next().as_deref() != Some("verify") {
        return Err(usage("the only command is `verify`"));
    }
    let mut parsed = Args::default();
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .ok_or_else(|| usage(format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--kind" => parsed.kind = value()?,
            "--jwks" => parsed.jwks = Some(value()?),
            "--root" => parsed.root = Some(value()?),
            "--at" => parsed.at = Some(parse_time(&value()?)?),
            "--expect-nonce" => parsed.nonce = Some(hex_arg("--expect-nonce", &value()?)?),
            "--expect-report-data" => {
                parsed.report_data = Some(hex_arg("--expect-report-data", &value()?)?)
            }
            "--accept-tcb" => parsed.accept_tcb.push(value()?),
            "--issuer" => parsed.issuer = Some(value()?),
            flag if flag.starts_with("--") => return Err(usage(format!("unknown option {flag}"))),
            file if parsed.file.is_empty() => parsed.file = file.to_owned(),
            extra => return Err(usage(format!("unexpected argument {extra}"))),
        }
    }
    if parsed.file.is_empty() {
        return Err(usage("no FILE"));
    }
    if !["ita", "nras", "maa", "nitro"].contains(&parsed.kind.as_str()) {
        return Err(usage("--kind must be ita, nras, maa or nitro"));
    }
    Ok(parsed)
}

fn read(path: &str) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| usage(format!("{path}: {e}")))
}

fn jwks(args: &Args) -> Result<Jwks, Failure> {
    let path = args
        .jwks
        .as_deref()
        .ok_or_else(|| usage(format!("--kind {} needs --jwks", args.kind)))?;
    Ok(Jwks::from_json(&read(path)?)?)
}

fn roots(args: &Args, default: Option<TrustRoots>) -> Result<TrustRoots, Failure> {
    match (&args.root, default) {
        (Some(path), _) => {
            let pem = String::from_utf8(read(path)?)
                .map_err(|_| usage(format!("{path} is not PEM text")))?;
            TrustRoots::empty()
                .with_pem(&pem)
                .map_err(|e| usage(format!("{path}: {e}")))
        }
        (None, Some(default)) => Ok(default),
        (None, None) => Err(usage(format!(
            "--kind {} needs --root (no built-in root)",
            args.kind
        ))),
    }
}

fn fixed<const N: usize>(name: &str, bytes: &[u8]) -> Result<[u8; N], Failure> {
    bytes
        .try_into()
        .map_err(|_| usage(format!("{name} must be {N} bytes")))
}

fn token_text(bytes: Vec<u8>) -> Result<String, Failure> {
    String::from_utf8(bytes)
        .map(|s| s.trim().to_owned())
        .map_err(|_| Failure::Rejected("malformed token: not UTF-8".into()))
}

fn ita(args: &Args, now: SystemTime) -> Result<Value, Failure> {
    let token = token_text(read(&args.file)?)?;
    let verifier = ItaVerifier::new(
        &jwks(args)?,
        &roots(args, Some(TrustRoots::intel_trust_authority()))?,
    );
    let claims = verifier.verify(&token, now)?;
    let mut policy = ItaPolicy::new();
    if !args.accept_tcb.is_empty() {
        policy = policy.accept_tcb_statuses(args.accept_tcb.clone());
    }
    if let Some(nonce) = &args.nonce {
        policy = policy.expect_nonce(nonce);
    }
    if let Some(report_data) = &args.report_data {
        policy = policy.expect_report_data(fixed("--expect-report-data", report_data)?);
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

fn nras(args: &Args, now: SystemTime) -> Result<Value, Failure> {
    let bundle = read(&args.file)?;
    let result = NrasVerifier::new(&jwks(args)?, &roots(args, None)?).verify(&bundle, now)?;
    let mut policy = NrasPolicy::new();
    if let Some(nonce) = &args.nonce {
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

fn maa(args: &Args, now: SystemTime) -> Result<Value, Failure> {
    let token = token_text(read(&args.file)?)?;
    let issuer = args
        .issuer
        .clone()
        .ok_or_else(|| usage("--kind maa needs --issuer URL"))?;
    let keys = KeySet::chained(&jwks(args)?, &roots(args, None)?);
    let claims = MaaVerifier::new(keys, issuer).verify(&token, now)?;
    let mut policy = MaaPolicy::new();
    if let Some(report_data) = &args.report_data {
        policy = policy.expect_report_data(report_data);
    }
    policy.appraise(&claims)?;
    Ok(maa_json(&claims))
}

fn maa_json(claims: &MaaClaims) -> Value {
    let tee = &claims.isolation_tee;
    json!({
        "kind": "maa",
        "issuer": claims.issuer,
        "expires_at": claims.expires_at,
        "attestation_type": claims.attestation_type,
        "isolation_tee": {
            "attestation_type": tee.attestation_type,
            "compliance_status": tee.compliance_status,
            "report_data": tee.sevsnp_report_data.as_ref().or(tee.tdx_report_data.as_ref()),
            "debuggable": tee.is_debuggable(),
        },
        "runtime": claims.runtime,
    })
}

fn nitro(args: &Args, now: SystemTime) -> Result<Value, Failure> {
    let mut document = read(&args.file)?;
    // Documents are often stored as base64 text.
    let text: Vec<u8> = document
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    if let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(&text) {
        document = decoded;
    }
    let verifier = NitroVerifier::new(&roots(args, Some(TrustRoots::aws_nitro()))?);
    let doc = verifier.verify(&document, now)?;
    let mut policy = NitroPolicy::new();
    if let Some(nonce) = &args.nonce {
        policy = policy.expect_nonce(nonce);
    }
    if let Some(user_data) = &args.report_data {
        policy = policy.expect_user_data(user_data);
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

fn run() -> Result<Value, Failure> {
    let args = parse_args(std::env::args().skip(1))?;
    let now = args.at.unwrap_or_else(SystemTime::now);
    match args.kind.as_str() {
        "ita" => ita(&args, now),
        "nras" => nras(&args, now),
        "maa" => maa(&args, now),
        _ => nitro(&args, now),
    }
}

fn main() -> ExitCode {
    match run() {
        Ok(claims) => {
            println!(
                "{}",
                serde_json::to_string_pretty(&claims).unwrap_or_default()
            );
            ExitCode::SUCCESS
        }
        Err(Failure::Rejected(reason)) => {
            eprintln!("rejected: {reason}");
            ExitCode::from(1)
        }
        Err(Failure::Usage(problem)) => {
            eprintln!("attest-token: {problem}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn args(list: &[&str]) -> Result<Args, Failure> {
        parse_args(list.iter().map(|s| (*s).to_owned()))
    }

    fn data(relative: &str) -> Option<String> {
        attested_testdata::path(relative).map(|p| p.display().to_string())
    }

    #[test]
    fn rfc3339_times_parse_with_and_without_fractions() {
        let expected = UNIX_EPOCH + Duration::from_secs(1_701_735_000);
        assert!(matches!(parse_time("2023-12-05T00:10:00Z"), Ok(t) if t == expected));
        assert!(matches!(parse_time("2023-12-05T00:10:00.750Z"), Ok(t) if t == expected));
        assert!(matches!(
            parse_time("2023-12-05 00:10"),
            Err(Failure::Usage(_))
        ));
    }

    #[test]
    fn usage_errors_are_usage() {
        for bad in [
            &["check", "f", "--kind", "ita"][..],
            &["verify", "--kind", "ita"],
            &["verify", "f", "--kind", "jwt"],
            &["verify", "f", "--kind", "ita", "--bogus"],
            &["verify", "f", "--kind", "ita", "--expect-nonce", "zz"],
            &["verify", "f", "g", "--kind", "ita"],
        ] {
            assert!(matches!(args(bad), Err(Failure::Usage(_))), "{bad:?}");
        }
    }

    #[test]
    fn ita_production_token_accepted_then_rejected_on_tcb_and_time() {
        let (Some(token), Some(jwks)) = (
            data("tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt"),
            data("tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json"),
        ) else {
            return;
        };
        let base = [
            "verify",
            &token,
            "--kind",
            "ita",
            "--jwks",
            &jwks,
            "--at",
            "2023-12-05T00:10:00Z",
        ];
        let parsed = args(&[&base[..], &["--accept-tcb", "OutOfDate"]].concat()).unwrap();
        let claims = ita(&parsed, parsed.at.unwrap()).ok().unwrap();
        assert_eq!(claims["tcb_status"], "OutOfDate");
        let parsed = args(&base).unwrap();
        assert!(
            matches!(ita(&parsed, parsed.at.unwrap()), Err(Failure::Rejected(r)) if r.contains("TCB status"))
        );
        let late = args(&[
            "verify",
            &token,
            "--kind",
            "ita",
            "--jwks",
            &jwks,
            "--at",
            "2023-12-05T00:20:00Z",
        ])
        .unwrap();
        assert!(
            matches!(ita(&late, late.at.unwrap()), Err(Failure::Rejected(r)) if r.contains("expired"))
        );
    }

    #[test]
    fn nitro_document_in_base64_and_debug_refusal() {
        let Some(doc) = data("tokens/nitro/evervault/test-data/valid-attestation-doc-base64")
        else {
            return;
        };
        let parsed = args(&[
            "verify",
            &doc,
            "--kind",
            "nitro",
            "--at",
            "2023-09-18T15:04:00Z",
        ])
        .unwrap();
        assert!(
            matches!(nitro(&parsed, parsed.at.unwrap()), Err(Failure::Rejected(r)) if r.contains("debug"))
        );
    }
}
