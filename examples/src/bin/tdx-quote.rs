//! `tdx-quote`: inspect, simulate and verify TDX quotes.
//!
//! ```text
//! tdx-quote inspect FILE          a quote file, binary or hex text
//! tdx-quote inspect --simulated   a quote from the simulated TDX platform (tests and demos only)
//! tdx-quote sim --mrtd HEX --report-data HEX [--quote-version 4|5] [--rtmr N=HEX]...
//!               --out FILE [--collateral-out FILE] [--root-out FILE]
//! tdx-quote verify FILE --collateral FILE [--at RFC3339] [--root PEM] [--policy FILE] ...
//! ```
//!
//! `inspect` parses only: it prints what the quote *claims*. `verify` takes dcap-qvl
//! `QuoteCollateralV3` JSON or a PCS collateral bundle (`tdx-quote verify --help` shows both).
//! Exit 0 on success, 1 when the input is refused (a quote that does not parse, a failed
//! verification or appraisal, a malformed file), 2 on usage errors; `--help` and `--version`
//! exit 0.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use attested_examples::tdx_verify_cli::{self, VerifyArgs};
use attested_tdx::policy::RtmrPin;
use attested_tdx::quote::PemBlock;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimError, SimPlatform};
use attested_tdx::{Quote, ReportData};
use clap::{ArgGroup, Parser, Subcommand};
use serde_json::{Map, Value, json};

#[derive(Parser)]
#[command(
    name = "tdx-quote",
    version,
    propagate_version = true,
    about = "Inspect, simulate and verify Intel TDX quotes"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print every field of a quote as JSON. Parses only: nothing printed is verified.
    Inspect(InspectArgs),
    /// Write a quote from the simulated TDX platform, with its collateral and root (tests and
    /// demos only: the root is not Intel's).
    Sim(SimArgs),
    /// Verify a quote (DCAP) and appraise it against a policy; prints a JSON verdict.
    Verify(VerifyArgs),
}

#[derive(clap::Args)]
#[command(group(ArgGroup::new("input").required(true).args(["file", "simulated"])))]
struct InspectArgs {
    /// The quote: binary, or hex text (with or without 0x).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Inspect a v5 TD 1.5 quote from the simulated platform instead of a file.
    #[arg(long)]
    simulated: bool,
}

#[derive(clap::Args)]
struct SimArgs {
    /// MRTD, 96 hex digits.
    #[arg(long, value_name = "HEX", value_parser = tdx_verify_cli::parse_mrtd)]
    mrtd: [u8; 48],
    /// REPORTDATA, 128 hex digits.
    #[arg(long = "report-data", value_name = "HEX", value_parser = parse_report_data)]
    report_data: [u8; 64],
    /// Quote version: 4 (TD 1.0 report) or 5 (TD 1.5 report, body type 3, with MR_SERVICETD).
    #[arg(long = "quote-version", default_value_t = 4, value_parser = clap::value_parser!(u8).range(4..=5))]
    quote_version: u8,
    /// An RTMR value, N in 0..=3 (repeatable; unset RTMRs are zero).
    #[arg(long, value_name = "N=HEX", value_parser = clap::value_parser!(RtmrPin))]
    rtmr: Vec<RtmrPin>,
    /// Where to write the quote (binary).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Where to write its collateral (dcap-qvl JSON, as `verify --collateral` reads it).
    #[arg(long = "collateral-out", value_name = "FILE")]
    collateral_out: Option<PathBuf>,
    /// Where to write the simulated root certificate (PEM, for `verify --root`).
    #[arg(long = "root-out", value_name = "FILE")]
    root_out: Option<PathBuf>,
}

fn parse_report_data(text: &str) -> Result<[u8; 64], String> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(text, &mut out).map_err(|e| format!("expected 128 hex digits: {e}"))?;
    Ok(out)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Inspect(args) => {
            let (bytes, source) = match (&args.file, args.simulated) {
                (Some(path), _) => match tdx_verify_cli::read_quote_file(path) {
                    Ok(bytes) => (bytes, path.display().to_string()),
                    Err(err) => {
                        eprintln!("tdx-quote: {}: {err}", path.display());
                        return ExitCode::from(2);
                    }
                },
                (None, _) => match simulated_quote() {
                    Ok(bytes) => (
                        bytes,
                        "simulated TDX platform (tests and demos only)".to_owned(),
                    ),
                    Err(err) => {
                        eprintln!("tdx-quote: simulated platform: {err}");
                        return ExitCode::from(1);
                    }
                },
            };
            inspect(&bytes, &source)
        }
        Command::Sim(args) => sim(&args),
        Command::Verify(args) => tdx_verify_cli::run(&args),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A v5 TD 1.5 quote from the simulated platform, binding a demo key in REPORTDATA.
fn simulated_quote() -> Result<Vec<u8>, SimError> {
    let platform = SimPlatform::from_seed(b"attested tdx-quote demo", unix_now())?;
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

fn sim(args: &SimArgs) -> ExitCode {
    let mut rtmrs = [[0u8; 48]; 4];
    let mut set = [false; 4];
    for pin in &args.rtmr {
        let index = pin.index();
        if let (Some(rtmr), Some(seen)) = (rtmrs.get_mut(index), set.get_mut(index)) {
            if *seen {
                eprintln!("tdx-quote sim: --rtmr {index} given twice");
                return ExitCode::from(2);
            }
            (*rtmr, *seen) = (pin.value(), true);
        }
    }
    let now = unix_now();
    let format = if args.quote_version == 4 {
        QuoteFormat::V4
    } else {
        QuoteFormat::V5Td15
    };
    let made = SimPlatform::from_seed(b"attested tdx-quote sim", now).and_then(|platform| {
        let quote = platform.quote(&QuoteSpec {
            mr_td: args.mrtd,
            rtmrs,
            report_data: args.report_data,
            ..platform.quote_spec(format)
        })?;
        Ok((platform, quote))
    });
    let (platform, quote) = match made {
        Ok(made) => made,
        Err(err) => {
            eprintln!("tdx-quote sim: simulated platform: {err}");
            return ExitCode::from(1);
        }
    };
    let mut written = vec![(&args.out, quote.as_slice())];
    if let Some(path) = &args.collateral_out {
        written.push((path, platform.collateral_dcap_qvl_json().as_bytes()));
    }
    if let Some(path) = &args.root_out {
        written.push((path, platform.root_certificate_pem().as_bytes()));
    }
    for (path, bytes) in written {
        if let Err(err) = std::fs::write(path, bytes) {
            eprintln!("tdx-quote sim: {}: {err}", path.display());
            return ExitCode::from(1);
        }
    }
    let path = |p: &Option<PathBuf>| p.as_deref().map(|p: &Path| p.display().to_string());
    let summary = json!({
        "simulated": true,
        "note": "simulated TDX platform: for tests and demos only, its root is not Intel's",
        "out": args.out.display().to_string(),
        "collateral_out": path(&args.collateral_out),
        "root_out": path(&args.root_out),
        "version": args.quote_version,
        "mrtd": hex::encode(args.mrtd),
        "valid_from": attested_tdx::UnixTime(platform.valid_from()).to_string(),
        "valid_until": attested_tdx::UnixTime(platform.valid_until()).to_string(),
    });
    println!("{summary}");
    ExitCode::SUCCESS
}

/// Subject common names of the PCK chain, leaf first (`null` for a block that does not decode).
fn pck_chain_names(quote: &Quote<'_>) -> Value {
    let Some(chain) = quote.signature().certification().pck_cert_chain() else {
        return Value::Null;
    };
    chain
        .certificates()
        .map(|block| {
            block
                .and_then(PemBlock::to_der)
                .ok()
                .and_then(|der| tdx_verify_cli::certificate_name(&der))
                .map_or(Value::Null, Value::String)
        })
        .collect()
}

/// The JSON view of a parsed quote, under the foundation issue's field names.
fn quote_view(quote: &Quote<'_>, source: &str) -> Map<String, Value> {
    let header = quote.header();
    let report = quote.report();
    let attributes = report.td_attributes();
    let signature = quote.signature();
    let mut view = Map::new();
    let mut put = |key: &str, value: Value| {
        view.insert(key.to_owned(), value);
    };
    put("source", json!(source));
    put("parsed", json!(true));
    put("verified", json!(false));
    put(
        "note",
        json!("parsed only: nothing here is trusted until DCAP verification"),
    );
    put("version", json!(header.version()));
    put("tee_type", json!(format!("{:08x}", header.tee_type())));
    put("body_type", json!(report.body_type()));
    put("tee_tcb_svn", json!(hex::encode(report.tee_tcb_svn())));
    put("mrseam", json!(hex::encode(report.mr_seam())));
    put("mrsignerseam", json!(hex::encode(report.mr_signer_seam())));
    put(
        "seam_attributes",
        json!(hex::encode(report.seam_attributes())),
    );
    put(
        "td_attributes",
        json!(hex::encode(report.td_attributes_raw())),
    );
    put(
        "td_attribute_flags",
        json!({
            "debug": attributes.debug(),
            "sept_ve_disable": attributes.sept_ve_disable(),
            "pks": attributes.pks(),
            "kl": attributes.kl(),
            "perfmon": attributes.perfmon(),
        }),
    );
    put("xfam", json!(hex::encode(report.xfam())));
    put("mrtd", json!(hex::encode(report.mr_td())));
    put("mrconfigid", json!(hex::encode(report.mr_config_id())));
    put("mrowner", json!(hex::encode(report.mr_owner())));
    put(
        "mrownerconfig",
        json!(hex::encode(report.mr_owner_config())),
    );
    for (name, rtmr) in ["rtmr0", "rtmr1", "rtmr2", "rtmr3"]
        .into_iter()
        .zip(report.rtmrs())
    {
        put(name, json!(hex::encode(rtmr)));
    }
    put("report_data", json!(hex::encode(report.report_data())));
    if let Some(svn2) = report.tee_tcb_svn2() {
        put("tee_tcb_svn2", json!(hex::encode(svn2)));
    }
    if let Some(service_td) = report.mr_service_td() {
        put("mr_servicetd", json!(hex::encode(service_td)));
    }
    put("qe_vendor_id", json!(hex::encode(header.qe_vendor_id())));
    put("intel_qe", json!(header.is_intel_qe()));
    put(
        "attestation_key",
        json!(hex::encode(signature.attestation_key())),
    );
    put("qe_isv_svn", json!(signature.qe_report().isv_svn()));
    let certification_type = match signature.certification() {
        attested_tdx::quote::CertificationData::PckCertChain(_) => {
            attested_tdx::quote::CERTIFICATION_TYPE_PCK_CHAIN
        }
        attested_tdx::quote::CertificationData::Other { cert_type, .. } => *cert_type,
        _ => 0,
    };
    put("certification_type", json!(certification_type));
    put("pck_chain", pck_chain_names(quote));
    put("trailing_bytes", json!(quote.trailing_padding()));
    put(
        "trailing_bytes_zero",
        json!(quote.trailing_data().iter().all(|b| *b == 0)),
    );
    view
}

fn inspect(bytes: &[u8], source: &str) -> ExitCode {
    let quote = match Quote::parse_allowing_trailing_data(bytes) {
        Ok(quote) => quote,
        Err(err) => {
            println!(
                "{}",
                json!({ "source": source, "parsed": false, "error": err.to_string() })
            );
            eprintln!("tdx-quote: {source}: {err}");
            return ExitCode::from(1);
        }
    };
    match serde_json::to_string_pretty(&quote_view(&quote, source)) {
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
