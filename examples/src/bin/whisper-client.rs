//! `whisper-client --azure --endpoint URL --file AUDIO [--outer-header 'NAME: VALUE' ...]
//! [--inner-path PATH] [--kms-url URL --kms-cert PEM]`: transcribes through Microsoft's Azure
//! confidential Whisper endpoint (or an `ohttp-gateway --azure-compat`), keys from its KMS or,
//! without one, from `{origin}/discover` bound by the TDX evidence at `{origin}/attestation`.
//!
//! `whisper-client (--gateway URL | --relay URL) --file AUDIO [--chunked] [--model NAME]
//! [--trust-sim-root FILE] [--collateral FILE] [--expect-mrtd HEX] [--kms-url URL --kms-cert PEM]
//! [--nitro] [--trust-nitro-sim-root FILE] [--expect-pcr0 HEX] [--expect-pcr INDEX=HEX ...] [--nitro-max-age SECONDS]
//! [--allow-any-workload]`:
//! transcribes audio through an attested Oblivious HTTP gateway.
//!
//! The client verifies the gateway's evidence before it encrypts anything: the evidence must
//! bind the exact key configuration list (REPORTDATA, or a Nitro document's `public_key` for
//! the Nitro options, = SHA-512 of it), or, in KMS mode, every
//! key must carry a CCF receipt that verifies against the pinned KMS service certificate.
//! With `--relay URL` the client never connects to the gateway (RFC 9458 §6.1, §7): the keys,
//! evidence and collateral come through the relay (`URL/ohttp-keys`, `URL/attestation`,
//! `URL/collateral`; see `attested_examples::mock_relay`) and the request is posted to `URL`.
//! Each inner request carries a `Date` header (RFC 9458 §6.5.1), so the gateway can refuse
//! one replayed after its replay window.
//!
//! The audio travels as an OpenAI-style multipart `/v1/audio/transcriptions` request inside
//! OHTTP, one-shot, chunked (draft-ietf-ohai-chunked-ohttp, streamed from disk chunk by chunk,
//! with a progress bar on stderr for files of 1 MiB or more) or in the Azure dialect. The
//! transfer is `attested_examples::whisper_client::transcribe_file`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use attested_examples::error_chain;
use attested_examples::nitro_evidence::{NitroTrustArgs, verified_nitro_gateway};
use attested_examples::tdx_evidence::{ClientPolicy, TrustArgs, require_workload};
use attested_examples::tls::HttpTimeouts;
use attested_examples::whisper_client::{
    Transcription, Transport, azure_transcription_request, discover_client, kms_client,
    parse_outer_header, transcribe_azure_endpoint, transcribe_file, verified_gateway,
};
use attested_ohttp::Client;
use attested_token::nitro::NitroPolicy;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "whisper-client",
    version,
    about = "Transcribe audio through an attested OHTTP gateway"
)]
struct Args {
    /// Gateway base URL (serves /ohttp-keys, /attestation, /collateral, /gateway).
    #[arg(long, required_unless_present_any = ["endpoint", "relay"], conflicts_with = "relay")]
    gateway: Option<String>,
    /// Microsoft's Azure inference endpoint URL (with --azure): the request is posted to this
    /// URL itself, and the answer read as Microsoft's server gives it (status on the outer
    /// response, the raw body encrypted).
    #[arg(long, requires = "azure", conflicts_with_all = ["gateway", "relay", "chunked"])]
    endpoint: Option<String>,
    /// An outer request header `NAME: VALUE` for --endpoint (repeatable), e.g.
    /// `api-key: KEY`. Every relay sees it.
    #[arg(long = "outer-header", requires = "endpoint")]
    outer_headers: Vec<String>,
    /// The inner request path for --endpoint.
    #[arg(
        long,
        default_value = "/v1/audio/transcriptions",
        requires = "endpoint"
    )]
    inner_path: String,
    /// Audio file to transcribe.
    #[arg(long)]
    file: std::path::PathBuf,
    /// Go through the OHTTP relay whose resource is URL, never to the gateway itself (so the
    /// gateway never learns this client's address; instead of --gateway): the encapsulated
    /// request is posted to URL, and the gateway's keys, evidence and collateral are fetched
    /// from `URL/ohttp-keys`, `URL/attestation` and `URL/collateral`, which the relay forwards
    /// to the gateway it fronts (as `mock-relay` does; --collateral FILE skips that fetch).
    #[arg(long, value_name = "URL")]
    relay: Option<String>,
    /// Transcription model.
    #[arg(long, default_value = "whisper-1")]
    model: String,
    /// Upload with chunked OHTTP (draft-ietf-ohai-chunked-ohttp).
    #[arg(long)]
    chunked: bool,
    /// Use the Azure dialect (plain request, chunked response), as Azure's gateways do.
    #[arg(long)]
    azure: bool,
    /// Chunk size for chunked uploads, in bytes.
    #[arg(long, default_value_t = 64 * 1024)]
    chunk_size: usize,
    /// Inner request authority (must be on the gateway's allow-list).
    #[arg(long, default_value = "whisper")]
    authority: String,
    /// How the gateway's TDX quote is verified.
    #[command(flatten)]
    trust: TrustArgs,
    /// How the gateway's AWS Nitro document is verified (instead of a TDX quote).
    #[command(flatten)]
    nitro: NitroTrustArgs,
    /// Azure KMS base URL: take keys from `{kms}/listpubkeys` with verified CCF receipts.
    #[arg(long, requires = "kms_cert")]
    kms_url: Option<String>,
    /// The KMS service certificate (PEM) to pin.
    #[arg(long)]
    kms_cert: Option<std::path::PathBuf>,
    /// Give up on any one exchange (keys, evidence, collateral, the transcription) after this
    /// many seconds; connecting gives up after 10.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    timeout: u64,
}

/// Files smaller than this upload without a progress bar.
const PROGRESS_FROM: u64 = 1 << 20;

/// A progress bar on stderr, for large files.
fn progress(sent: u64, total: u64) {
    if total < PROGRESS_FROM {
        return;
    }
    let width = 40;
    let filled = sent
        .saturating_mul(width)
        .checked_div(total)
        .unwrap_or(width)
        .min(width);
    eprint!(
        "\r[{}{}] {:.1}/{:.1} MB",
        "#".repeat(usize::try_from(filled).unwrap_or_default()),
        " ".repeat(usize::try_from(width - filled).unwrap_or_default()),
        sent as f64 / 1e6,
        total as f64 / 1e6
    );
    if sent >= total {
        eprintln!();
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Before any connection: a gateway judged by its TDX quote or its Nitro document must be
    // identified by reference values (the KMS path pins the KMS's certificate instead).
    // The policy is resolved once, here, and appraised with on every attempt.
    let identified = if let (Some(url), Some(cert)) = (&args.kms_url, &args.kms_cert) {
        Ok(GatewayCheck::Kms {
            url: url.clone(),
            cert: cert.clone(),
        })
    } else if args.nitro.enabled() {
        args.nitro
            .require_workload(args.trust.allow_any_workload)
            .map(GatewayCheck::Nitro)
            .map_err(|e| e.to_string())
    } else {
        match require_workload(&args.trust, false) {
            Ok(ClientPolicy::Quote(policy)) => Ok(GatewayCheck::Tdx(policy)),
            Ok(ClientPolicy::Token(_)) => Err("a token policy for a gateway".to_owned()),
            Err(e) => Err(e.to_string()),
        }
    };
    let check = match identified {
        Ok(policy) => policy,
        Err(error) => {
            eprintln!("usage: {error}");
            return ExitCode::from(2);
        }
    };
    match run(args, check).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("refused: {}", error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// How the gateway's keys are trusted, resolved from the options before any connection.
enum GatewayCheck {
    /// Keys from the confidential KMS at `url`, under its pinned certificate in `cert`.
    Kms {
        url: String,
        cert: std::path::PathBuf,
    },
    /// The gateway's Nitro document, with this policy.
    Nitro(NitroPolicy),
    /// The gateway's TDX quote, with this policy.
    Tdx(Box<attested_tdx::Policy>),
}

/// Transcribes; on the gateway's RFC 9458 §5.3 key problem (its keys rotated), fetches its
/// keys and evidence again and retries once.
async fn run(args: Args, check: GatewayCheck) -> Result<(), Box<dyn std::error::Error>> {
    match attempt(&args, &check).await {
        Err(e) if attested_examples::whisper_client::is_key_problem(e.as_ref()) => {
            eprintln!("{e}; fetching the gateway's keys and evidence again");
            attempt(&args, &check).await
        }
        done => done,
    }
}

/// One transcription, the gateway judged as `check` says.
async fn attempt(args: &Args, check: &GatewayCheck) -> Result<(), Box<dyn std::error::Error>> {
    let http = attested_examples::tls::http_with(HttpTimeouts {
        total: Duration::from_secs(args.timeout),
        ..HttpTimeouts::default()
    })?;
    if let Some(endpoint) = &args.endpoint {
        return run_azure_endpoint(args, check, endpoint, &http).await;
    }
    // With --relay, every fetch goes through the relay: the gateway sees only the relay.
    let base = args
        .relay
        .as_deref()
        .or(args.gateway.as_deref())
        .unwrap_or_default()
        .trim_end_matches('/');

    let client = match check {
        GatewayCheck::Kms { url, cert } => kms_keys(url, cert).await?,
        GatewayCheck::Nitro(policy) => {
            let (appraiser, anchor) = args
                .nitro
                .appraiser(policy.clone())
                .map_err(|e| e.to_string())?;
            let (client, accepted) = verified_nitro_gateway(&http, base, &appraiser)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "gateway Nitro document verified under {anchor}; PCR0 {}",
                accepted
                    .measurement("pcr0")
                    .map(hex::encode)
                    .unwrap_or_default()
            );
            eprintln!(
                "gateway document binds its key list; suite {:?}",
                client.suite()
            );
            client
        }
        GatewayCheck::Tdx(policy) => {
            let (appraiser, anchor) = args
                .trust
                .appraiser(policy.as_ref().clone(), base, &http)
                .await
                .map_err(|e| e.to_string())?;
            let (client, verified) = verified_gateway(&http, base, &appraiser)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "gateway TDX quote verified under {anchor} (TCB {}); MRTD {}",
                verified.tcb_status(),
                verified
                    .accepted()
                    .measurements()
                    .get("mrtd")
                    .map(hex::encode)
                    .unwrap_or_default()
            );
            eprintln!(
                "gateway quote binds its key list; suite {:?}",
                client.suite()
            );
            client
        }
    };

    let url = match &args.relay {
        Some(relay) => relay.clone(),
        None => format!("{base}/gateway"),
    };
    let transport = if args.chunked {
        Transport::Chunked {
            chunk_size: args.chunk_size,
        }
    } else if args.azure || args.kms_url.is_some() {
        Transport::Azure
    } else {
        Transport::OneShot
    };
    let job = Transcription {
        file: &args.file,
        model: &args.model,
        authority: &args.authority,
    };
    let now = attested_ohttp::UnixTime::now();
    let transcript = transcribe_file(&http, &url, &client, &job, transport, now, progress)
        .await
        .map_err(|e| -> Box<dyn std::error::Error> { e })?;
    let mut stdout = std::io::stdout();
    stdout.write_all(&transcript)?;
    stdout.write_all(b"\n")?;
    Ok(())
}

/// `--azure --endpoint`: Microsoft's endpoint, as its client talks to it.
async fn run_azure_endpoint(
    args: &Args,
    check: &GatewayCheck,
    endpoint: &str,
    http: &reqwest::Client,
) -> Result<(), Box<dyn std::error::Error>> {
    let outer_headers = args
        .outer_headers
        .iter()
        .map(|h| parse_outer_header(h))
        .collect::<Result<Vec<_>, _>>()?;
    let client = match check {
        GatewayCheck::Kms { url, cert } => kms_keys(url, cert).await?,
        GatewayCheck::Tdx(policy) => {
            let url = reqwest::Url::parse(endpoint)?;
            let origin = url.origin().ascii_serialization();
            let (appraiser, anchor) = args
                .trust
                .appraiser(policy.as_ref().clone(), &origin, http)
                .await
                .map_err(|e| e.to_string())?;
            let (client, verified) = discover_client(http, &origin, &appraiser)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "gateway TDX quote verified under {anchor} (TCB {}); it binds the /discover keys",
                verified.tcb_status()
            );
            client
        }
        GatewayCheck::Nitro(_) => {
            return Err("an Azure endpoint is trusted by its TDX quote or the KMS".into());
        }
    };
    let audio = std::fs::read(&args.file)?;
    let file_name = args
        .file
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("audio");
    let inner = azure_transcription_request(&audio, file_name, &args.model, &args.inner_path)
        .map_err(|e| e.to_string())?;
    drop(audio);
    let answer = transcribe_azure_endpoint(http, endpoint, &outer_headers, &client, &inner)
        .await
        .map_err(|e| -> Box<dyn std::error::Error> { e })?;
    eprintln!("endpoint answered {}", answer.status);
    if (200..300).contains(&answer.status) {
        let mut stdout = std::io::stdout();
        stdout.write_all(&answer.body)?;
        stdout.write_all(b"\n")?;
        return Ok(());
    }
    let how = if answer.decrypted {
        "decrypted"
    } else {
        "not encrypted to us: from the endpoint's front door or a relay"
    };
    Err(format!(
        "endpoint answered {} ({how}): {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    )
    .into())
}

/// Keys from the KMS at `kms` (its service certificate in the file `cert` is the only TLS root
/// and verifies the receipts), the one way both modes take them.
async fn kms_keys(kms: &str, cert: &std::path::Path) -> Result<Client, Box<dyn std::error::Error>> {
    let (client, key) = kms_client(kms, &std::fs::read(cert)?, attested_ohttp::UnixTime::now())
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "KMS receipt verified for key {} (entry {}, claims_digest {:?}); suite {:?}",
        key.config().key_id(),
        key.index(),
        key.formula(),
        client.suite()
    );
    Ok(client)
}
