//! `tdx-quote`: inspect TDX quotes.
//!
//! ```text
//! tdx-quote inspect FILE          a quote file, binary or hex text
//! tdx-quote inspect --simulated   a quote from the simulated TDX platform (tests and demos only)
//! tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] [--policy FILE] ...
//! ```
//!
//! `verify` takes dcap-qvl `QuoteCollateralV3` JSON or a PCS collateral bundle (Intel PCS/PCCS
//! responses in one JSON file), told apart by content; `tdx-quote` alone prints both forms.
//! `inspect` parses only: it prints what the quote *claims*. Exit 0 when the quote parses,
//! 1 when it does not, 2 on usage errors.

use std::process::ExitCode;

use std::time::{SystemTime, UNIX_EPOCH};

use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimError, SimPlatform};
use attested_tdx::{CertificationData, Quote, QuoteVersion, ReportData};
use serde_json::json;

const USAGE: &str = "usage: tdx-quote inspect (FILE | --simulated)\n       tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] [--policy FILE] [--expect-mrtd HEX ...]";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["inspect", "--simulated"] => match simulated_quote() {
            Ok(bytes) => inspect(&bytes, "simulated TDX platform (tests and demos only)"),
            Err(err) => {
                eprintln!("tdx-quote: simulated platform: {err}");
                ExitCode::from(1)
            }
        },
        ["inspect", path] => match read_quote_file(path) {
            Ok(bytes) => inspect(&bytes, path),
            Err(err) => {
                eprintln!("tdx-quote: {path}: {err}");
                ExitCode::from(2)
            }
        },
        ["verify", rest @ ..] => attested_examples::tdx_verify_cli::run(rest),
        _ => {
            eprintln!(
                "{USAGE}\n{}\n{}",
                attested_examples::tdx_verify_cli::USAGE,
                attested_examples::tdx_verify_cli::COLLATERAL_HELP
            );
            ExitCode::from(2)
        }
    }
}

/// Reads a quote file: raw bytes, or hex text (with or without `0x`).
fn read_quote_file(path: &str) -> std::io::Result<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    let text: String = String::from_utf8_lossy(&bytes).split_whitespace().collect();
    let text = text.strip_prefix("0x").unwrap_or(&text);
    Ok(hex::decode(text).unwrap_or(bytes))
}

/// A v5 TD 1.5 quote from the simulated platform, binding a demo key in REPORTDATA.
fn simulated_quote() -> Result<Vec<u8>, SimError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let platform = SimPlatform::from_seed(b"attested tdx-quote demo", now)?;
    let mut rtmrs = [[0u8; 48]; 4];
    for (index, rtmr) in (0u8..).zip(rtmrs.iter_mut()) {
        rtmr.fill(0x10 + index);
    }
    platform.quote(&QuoteSpec {
        mr_td: [0xd7; 48],
        rtmrs,
        report_data: *ReportData::sha512(b"demo binding public key").as_bytes(),
        ..platform.quote_spec(QuoteFormat::V5Td15)
    })
}

fn inspect(bytes: &[u8], source: &str) -> ExitCode {
    let quote = match Quote::parse_allowing_trailing_data(bytes) {
        Ok(quote) => quote,
        Err(err) => {
            println!(
                "{}",
                json!({ "source": source, "parsed": false, "error": err.to_string() })
            );
            return ExitCode::from(1);
        }
    };
    let report = quote.report();
    let attributes = report.td_attributes();
    let signature = quote.signature();
    let pck_chain = match signature.certification() {
        CertificationData::PckCertChain(chain) => json!({
            "type": 5,
            "certificates": chain.certificates().count(),
        }),
        other => json!({ "type": format!("{other:?}") }),
    };
    let view = json!({
        "source": source,
        "parsed": true,
        "verified": false,
        "note": "parsed only: nothing here is trusted until DCAP verification",
        "version": match quote.version() { QuoteVersion::V4 => 4, _ => 5 },
        "body_type": report.body_type(),
        "intel_qe": quote.header().is_intel_qe(),
        "tee_tcb_svn": hex::encode(report.tee_tcb_svn()),
        "tee_tcb_svn2": report.tee_tcb_svn2().map(hex::encode),
        "mr_seam": hex::encode(report.mr_seam()),
        "td_attributes": {
            "hex": hex::encode(report.td_attributes_raw()),
            "debug": attributes.debug(),
            "sept_ve_disable": attributes.sept_ve_disable(),
            "pks": attributes.pks(),
            "kl": attributes.kl(),
            "perfmon": attributes.perfmon(),
        },
        "xfam": hex::encode(report.xfam()),
        "mr_td": hex::encode(report.mr_td()),
        "mr_config_id": hex::encode(report.mr_config_id()),
        "mr_owner": hex::encode(report.mr_owner()),
        "mr_owner_config": hex::encode(report.mr_owner_config()),
        "rtmrs": report.rtmrs().map(hex::encode),
        "report_data": hex::encode(report.report_data()),
        "attestation_key": hex::encode(signature.attestation_key()),
        "qe_isv_svn": signature.qe_report().isv_svn(),
        "certification": pck_chain,
        "trailing_bytes": quote.trailing_padding(),
        "trailing_bytes_zero": quote.trailing_data().iter().all(|b| *b == 0),
    });
    match serde_json::to_string_pretty(&view) {
        Ok(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("tdx-quote: {err}");
            ExitCode::from(1)
        }
    }
}
