//! `confidential-pipeline [--audio FILE] [--llm-backend URL] [--whisper-backend URL]
//! [--tee sim|tdx] [--expect-mrtd HEX] [--collateral FILE]`: the whole system in one process, on loopback.
//!
//! It starts an attested OHTTP gateway in front of a transcription service and the private-LLM
//! proxy in front of a chat service (the deterministic mocks unless real URLs are given), each on
//! its own TDX platform (simulated by default: NOT a TEE). Then, as the client, it verifies both
//! quotes (DCAP under the printed trust anchor and policy), transcribes the audio through
//! attested OHTTP, sends the transcript to the LLM over a verified v1 Noise session, and prints
//! each check, the measurements, the transcript, the answer and timings. Any failed check stops
//! the run with the check's name and exit status 1.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use attested_examples::chat_client::{VerifiedChat, decode_hex, quote_evidence_line};
use attested_examples::llm_proxy::{self, ProxyOptions};
use attested_examples::ohttp_gateway::{self, GatewayOptions};
use attested_examples::pipeline::{demo_wav, serve_on_loopback};
use attested_examples::tdx_evidence::{SIM_RTMR3, Tee, load_collateral, quote_source, rtmr_pin};
use attested_examples::whisper_client::{
    transcribe_one_shot, transcription_request, verified_gateway,
};
use attested_examples::{error_chain, hostile, mock_llm, mock_whisper};
use attested_noise::{BoxError, Config, NoiseStaticKey, Profile};
use attested_ohttp::{Suite, chunked::Dialect};
use attested_tdx::{TdxAppraiser, TrustAnchor, Verifier};
use clap::Parser;

/// MRTDs of the two simulated platforms (what their "firmware and kernel" measure to).
const GATEWAY_SIM_MRTD: [u8; 48] = [0x6f; 48];
const PROXY_SIM_MRTD: [u8; 48] = [0x5a; 48];

#[derive(Parser)]
#[command(
    name = "confidential-pipeline",
    version,
    about = "Attested transcription and chat, end to end, in one process"
)]
struct Args {
    /// Audio to transcribe (default: a generated one-second WAV).
    #[arg(long)]
    audio: Option<std::path::PathBuf>,
    /// An OpenAI-compatible chat backend (for example Ollama); default: the mock.
    #[arg(long)]
    llm_backend: Option<String>,
    /// The model to ask the chat backend for.
    #[arg(long, default_value = "mock")]
    llm_model: String,
    /// A Whisper-style transcription backend; default: the mock.
    #[arg(long)]
    whisper_backend: Option<String>,
    /// Where the servers' quotes come from.
    #[arg(long, value_enum, default_value = "sim")]
    tee: Tee,
    /// Expect this MRTD (hex) from both servers instead of the simulated platforms' own.
    #[arg(long)]
    expect_mrtd: Option<String>,
    /// Expect RTMR N = HEX from both servers (repeatable; default with `--tee sim`: the
    /// simulated platforms' RTMR3). MRTD with an RTMR identifies the workload.
    #[arg(long, value_name = "N=HEX")]
    expect_rtmr: Vec<String>,
    /// Accept ANY workload on a genuine platform (announced loudly); without it, the servers'
    /// quotes must match reference values that identify the workload.
    #[arg(long)]
    allow_any_workload: bool,
    /// Expect this MRCONFIGID (hex) from both servers.
    #[arg(long, value_name = "HEX")]
    expect_mrconfigid: Option<String>,
    /// The appraisal policy for both servers (attested-tdx's JSON or TOML); the `--expect-*`
    /// values narrow it.
    #[arg(long, value_name = "FILE")]
    policy: Option<std::path::PathBuf>,
    /// Collateral for the quotes (dcap-qvl JSON; with `--tee tdx`, fetched from Intel PCS for
    /// this platform); default: the servers' `GET /collateral` (simulated platforms only).
    #[arg(long)]
    collateral: Option<std::path::PathBuf>,
    /// Show a refusal: put an attack on the path and watch the client stop before any data
    /// leaves.
    #[arg(long, value_enum)]
    tamper: Option<Tamper>,
}

/// The attacks `--tamper` stages.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Tamper {
    /// The host answers `GET /ohttp-keys` with keys of its own, under the gateway's genuine
    /// quote.
    GatewayKey,
    /// The proxy's host, holding its Noise key, answers the client itself with the attestation
    /// the proxy gave an earlier session: its binding signature is over another handshake.
    ProxyReplay,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            println!("FAILED: {error}");
            println!("the pipeline stopped; nothing was sent past the failed check");
            ExitCode::FAILURE
        }
    }
}

/// Runs `step`, printing its name, result and duration; a failure names the step.
async fn step<T>(
    name: &str,
    timings: &mut Vec<(String, Duration)>,
    step: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    let start = Instant::now();
    let result = step.await;
    let elapsed = start.elapsed();
    timings.push((name.to_owned(), elapsed));
    match result {
        Ok(value) => {
            println!("[ok]     {name} ({:.1} ms)", elapsed.as_secs_f64() * 1e3);
            Ok(value)
        }
        Err(error) => Err(format!("{name}: {}", error_chain(error.as_ref())).into()),
    }
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let mut timings = Vec::new();
    let http = attested_examples::tls::http()?;
    if args.tee == Tee::Sim {
        println!("NOTE: --tee sim: simulated TDX platforms, NOT a TEE; this run proves nothing");
        println!("      about hardware and exists to show the protocol end to end.");
    }

    // The servers.
    let whisper = match &args.whisper_backend {
        Some(url) => url.clone(),
        None => serve_on_loopback(mock_whisper::router()).await?,
    };
    let llm = match &args.llm_backend {
        Some(url) => url.clone(),
        None => serve_on_loopback(mock_llm::router()).await?,
    };
    // One `now` for both platforms: simulated platforms made at different seconds would have
    // different roots, and the client trusts one.
    let started = SystemTime::now();
    let gateway_source = Arc::new(quote_source(args.tee, GATEWAY_SIM_MRTD, started)?);
    let proxy_source = Arc::new(quote_source(args.tee, PROXY_SIM_MRTD, started)?);
    let gateway_options = GatewayOptions {
        target: whisper.clone(),
        suite: Suite::P384_AES256GCM,
        allowed: vec!["whisper".to_owned()],
        chunked_dialect: Dialect::Draft,
        max_request: 64 << 20,
        upload_idle_timeout: attested_ohttp::gateway::GatewayPolicy::default().upload_idle_timeout,
    };
    let gateway = serve_on_loopback(ohttp_gateway::router(
        gateway_source.clone(),
        gateway_options.clone(),
    )?)
    .await?;
    // The host runs the machine, so it can hold the proxy's Noise key (not its binding key,
    // which stays in the TEE): under --tamper proxy-replay it keeps a copy.
    let proxy_noise_key = NoiseStaticKey::generate(&mut rand::rng());
    let proxy = serve_on_loopback(llm_proxy::router(
        proxy_source.clone(),
        ProxyOptions {
            session_evidence: true,
            model: args.llm_model.clone(),
            noise_key: Some(proxy_noise_key.clone()),
            ..ProxyOptions::new(Profile::V1, llm.clone())
        },
    )?)
    .await?;
    println!("servers on loopback:");
    println!("  OHTTP gateway {gateway} -> transcription {whisper}");
    println!("  private-LLM proxy {proxy} -> chat {llm}");
    let chat_url = match args.tamper {
        Some(Tamper::ProxyReplay) => {
            let host =
                hostile::serve_attestation_replaying_host(&proxy, proxy_noise_key, Profile::V1)
                    .await?;
            println!("  TAMPER: the client reaches the proxy through its host {host}, which");
            println!("          holds the proxy's Noise key and answers with the attestation of");
            println!("          an earlier session");
            host
        }
        _ => proxy.clone(),
    };
    let gateway = match args.tamper {
        Some(Tamper::GatewayKey) => {
            // The host's own gateway, whose keys it hands out under the genuine quote.
            let own = serve_on_loopback(ohttp_gateway::router(
                gateway_source.clone(),
                gateway_options.clone(),
            )?)
            .await?;
            let relay = hostile::serve_key_swapping_relay(&gateway, &own).await?;
            println!("  TAMPER: the client reaches the gateway through {relay}, which swaps in");
            println!("          the host's own OHTTP keys");
            relay
        }
        Some(Tamper::ProxyReplay) | None => gateway,
    };

    // The client's trust: explicit, out of band, never taken from the servers.
    let (anchor, anchor_name) = match gateway_source.sim_platform() {
        Some(platform) => (
            TrustAnchor::from_pem(platform.root_certificate_pem().as_bytes())?,
            "the SIMULATED root of this run's platforms (explicitly trusted; not a TEE)",
        ),
        None => (TrustAnchor::intel_sgx_root(), "Intel SGX Root CA"),
    };
    let expected = |own: [u8; 48]| -> Result<Vec<[u8; 48]>, BoxError> {
        match (&args.expect_mrtd, args.tee) {
            (Some(text), _) => Ok(vec![decode_hex(text, "--expect-mrtd")?]),
            (None, Tee::Sim) => Ok(vec![own]),
            (None, Tee::Tdx) => Ok(Vec::new()),
        }
    };
    let mut rtmrs = args
        .expect_rtmr
        .iter()
        .map(|text| rtmr_pin(text))
        .collect::<Result<Vec<_>, _>>()?;
    if rtmrs.is_empty() && args.tee == Tee::Sim {
        rtmrs.push((3, decode_hex::<48>(SIM_RTMR3, "SIM_RTMR3")?));
    }
    let base = match &args.policy {
        Some(path) => attested_tdx::Policy::from_text(
            &std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?,
        )
        .map_err(|e| format!("--policy {}: {e}", path.display()))?,
        None => attested_tdx::Policy::new(),
    };
    let mrconfigid = args
        .expect_mrconfigid
        .as_deref()
        .map(|text| decode_hex::<48>(text, "--expect-mrconfigid"))
        .transpose()?;
    let policy_for = |own: [u8; 48]| -> Result<attested_tdx::Policy, BoxError> {
        let mut policy = base.clone();
        policy.expect_mr_td(&expected(own)?)?;
        for (index, value) in &rtmrs {
            policy.expect_rtmr(*index, *value)?;
        }
        if let Some(value) = mrconfigid {
            policy.expect_mr_config_id(value)?;
        }
        policy.any_workload |= args.allow_any_workload;
        Ok(policy)
    };
    let gateway_policy = policy_for(GATEWAY_SIM_MRTD)?;
    let proxy_policy = policy_for(PROXY_SIM_MRTD)?;
    if gateway_policy.any_workload || proxy_policy.any_workload {
        println!(
            "WARNING: accepting ANY workload on a genuine platform: whoever's code gets the data"
        );
    }
    for policy in [&gateway_policy, &proxy_policy] {
        if !policy.any_workload
            && let Err(missing) = policy.identifies_workload()
        {
            eprintln!(
                "usage: {missing} (give --expect-mrtd and --expect-rtmr, --expect-mrconfigid, \
                 --policy FILE, or --allow-any-workload)"
            );
            std::process::exit(2);
        }
    }
    println!("policy:");
    println!(
        "  quotes must chain to {anchor_name}, with valid collateral (signatures, CRLs, dates)"
    );
    println!(
        "  TCB status one of {:?}; no debug TD; SEPT_VE_DISABLE required (strict profile)",
        gateway_policy
            .accepted_tcb_statuses
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    for (index, value) in &rtmrs {
        println!("  both servers' RTMR{index}: {}", hex::encode(value));
    }
    for (who, policy) in [("gateway", &gateway_policy), ("proxy", &proxy_policy)] {
        let mrtds: Vec<String> = policy.mr_td.iter().map(|m| hex::encode(m.0)).collect();
        println!(
            "  {who} MRTD: {}",
            if mrtds.is_empty() {
                "any (give --expect-mrtd and --expect-rtmr)".to_owned()
            } else {
                mrtds.join(" or ")
            }
        );
    }
    println!("  the gateway's quote binds its OHTTP key list; the proxy's binds its Noise and");
    println!("  binding keys, and per-session evidence binds the handshake");
    println!();

    // Transcription through attested OHTTP.
    let audio = match &args.audio {
        Some(path) => std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?,
        None => demo_wav(),
    };
    let collateral = load_collateral(&gateway, &http, args.collateral.as_deref()).await?;
    let gateway_check =
        TdxAppraiser::new(Verifier::new(anchor.clone()), collateral, gateway_policy);
    let (client, verified) = step(
        "gateway: TDX quote verified (DCAP + policy), key list bound by REPORTDATA",
        &mut timings,
        async { verified_gateway(&http, &gateway, &gateway_check).await },
    )
    .await?;
    println!("         TCB status {}", verified.tcb_status());
    for (name, value) in verified.accepted().measurements() {
        println!("         {name}: {}", hex::encode(value));
    }
    let inner = transcription_request(&audio, "audio.wav", "whisper-1", "whisper")?;
    let answer = step(
        &format!(
            "transcription of {} bytes through attested OHTTP",
            audio.len()
        ),
        &mut timings,
        async { transcribe_one_shot(&http, &format!("{gateway}/gateway"), &client, &inner).await },
    )
    .await?;
    let transcript = serde_json::from_slice::<serde_json::Value>(&answer)
        .ok()
        .and_then(|v| v.get("text")?.as_str().map(str::to_owned))
        .ok_or("transcription answer has no text")?;
    println!("transcript: {transcript}");
    println!();

    // Chat over a verified Noise session.
    let collateral = load_collateral(&proxy, &http, args.collateral.as_deref()).await?;
    let proxy_check = TdxAppraiser::new(Verifier::new(anchor), collateral, proxy_policy);
    let config = Config::new(Profile::V1).require_session_evidence(true);
    let mut chat = step(
        "proxy: Noise v1 handshake, TDX quote verified, bindings checked",
        &mut timings,
        async { VerifiedChat::connect(&chat_url, config, None, &proxy_check).await },
    )
    .await?;
    for line in chat.report(&quote_evidence_line(anchor_name)) {
        println!("         {line}");
    }
    let reply = step("chat over the verified session", &mut timings, async {
        chat.ask(&transcript, false, |_| {}).await
    })
    .await?;
    chat.close().await;
    println!("answer: {reply}");
    println!();
    println!("timings:");
    for (name, elapsed) in &timings {
        println!("  {:>8.1} ms  {name}", elapsed.as_secs_f64() * 1e3);
    }
    println!("all checks passed");
    Ok(())
}
