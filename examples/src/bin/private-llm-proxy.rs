//! `private-llm-proxy --listen ADDR --backend URL --tee sim|tdx [--profile seed|v1]
//! [--ita-url https://... --ita-api-key-file FILE] [--max-sessions N] [--handshake-timeout-ms MS]
//! [--idle-timeout-ms MS] [--answer-timeout-ms MS] [--max-session-lifetime-ms MS]
//! [--max-attestations-per-session N]`: an LLM proxy that clients reach
//! over a Noise session bound to the TEE's attestation, optionally with an Intel Trust Authority
//! token for its quote.
//!
//! The ITA URL must be `https://` (the API key and the quote go there; the roots are the
//! platform's, or `SSL_CERT_FILE`/`SSL_CERT_DIR`): `http://` is a usage error (exit 2) unless
//! `--ita-allow-plain-http`, which exists for tests against a local stand-in only.
//!
//! Limits (attested-noise's `ServerLimits`, defaults in parentheses): sessions at once (1024),
//! one more is answered `503 too many sessions` before the WebSocket upgrade; time to the first
//! handshake frame (10 s) and between client frames (300 s), then the session is closed;
//! `get_attestation` requests a session (4), later ones get an `error`; WebSocket frames and
//! messages of at most 65,535 bytes (one Noise message), larger ones refused from the header.
//!
//! - `GET /health`: `{"status": "ok", "noise_pubkey": hex, "profile": ...}`
//! - `GET /attestation`: `noise_pubkey`, `binding_pubkey`, `mrtd`, `tee_type`, `profile`
//! - `GET /sim/root` (`--tee sim` only): the simulated root (PEM) a client must trust explicitly
//! - `GET /collateral` (`--tee sim` only): the simulated platform's collateral (dcap-qvl JSON)
//! - `GET /ws/noise`: the WebSocket; every frame binary, one Noise message each
//!
//! Chat requests go to the OpenAI-compatible `POST {backend}/v1/chat/completions`. Errors never
//! leave in clear: a failed session is closed with an empty close reason.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use attested_examples::ita_evidence::ItaClient;
use attested_examples::llm_proxy::{self, ProxyOptions};
use attested_examples::tdx_evidence::{SIM_MRTD, Tee, quote_source};
use attested_noise::Profile;
use attested_noise::limits::ServerLimits;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "private-llm-proxy",
    version,
    about = "An LLM proxy behind a Noise session bound to TEE attestation"
)]
struct Args {
    /// Address to listen on, for example 127.0.0.1:8080 (port 0: any free port).
    #[arg(long)]
    listen: String,
    /// The OpenAI-compatible backend, for example http://127.0.0.1:11434.
    #[arg(long)]
    backend: String,
    /// Where the evidence comes from.
    #[arg(long, value_enum)]
    tee: Tee,
    /// The wire profile: seed (the Python proxy's) or v1.
    #[arg(long, default_value = "v1")]
    profile: Profile,
    /// v1: add per-session evidence binding each handshake to every attestation.
    #[arg(long)]
    session_evidence: bool,
    /// The model to ask the backend for when the client names none.
    #[arg(long, default_value = "mock")]
    model: String,
    /// `--tee sim`: the MRTD the simulated platform reports (hex).
    #[arg(long, default_value = SIM_MRTD)]
    sim_mrtd: attested_tdx::policy::Hex<48>,
    /// Intel Trust Authority's API URL (for example `https://api.trustauthority.intel.com`): every
    /// attestation then also carries an ITA token for the quote.
    #[arg(long, requires = "ita_api_key_file")]
    ita_url: Option<String>,
    /// Tests only: accept an `http://` ITA URL (the API key then travels in clear).
    #[arg(long, requires = "ita_url", hide = true)]
    ita_allow_plain_http: bool,
    /// The file holding the ITA attestation API key.
    #[arg(long, requires = "ita_url")]
    ita_api_key_file: Option<PathBuf>,
    /// Sessions open at once; one more is refused with 503 before the WebSocket upgrade.
    #[arg(long, default_value_t = ServerLimits::default().sessions())]
    max_sessions: usize,
    /// Milliseconds a client has from connecting to its first handshake frame.
    #[arg(long, default_value_t = millis(ServerLimits::default().handshake_deadline()))]
    handshake_timeout_ms: u64,
    /// Milliseconds a session may go without a frame from its client.
    #[arg(long, default_value_t = millis(ServerLimits::default().idle_deadline()))]
    idle_timeout_ms: u64,
    /// Milliseconds the backend may take over one chat request, its whole answer included.
    #[arg(long, default_value_t = millis(ServerLimits::default().answer_deadline()))]
    answer_timeout_ms: u64,
    /// Milliseconds a session may last, however busy; then it is closed between messages.
    #[arg(long, default_value_t = millis(ServerLimits::default().session_lifetime()))]
    max_session_lifetime_ms: u64,
    /// `get_attestation` requests one session may make.
    #[arg(long, default_value_t = ServerLimits::default().attestations_per_session())]
    max_attestations_per_session: u32,
    /// Connection limits of the HTTP server.
    #[command(flatten)]
    connections: attested_examples::serve::ConnectionArgs,
}

fn millis(duration: std::time::Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[tokio::main]
async fn main() -> Result<(), attested_noise::BoxError> {
    let args = Args::parse();
    if let Some(url) = &args.ita_url {
        let scheme_ok = url.starts_with("https://")
            || (args.ita_allow_plain_http && url.starts_with("http://"));
        if !scheme_ok {
            use clap::CommandFactory as _;
            Args::command()
                .error(
                    clap::error::ErrorKind::ValueValidation,
                    format!(
                        "--ita-url {url}: Intel Trust Authority is reached over https:// only \
                         (the API key and the quote travel there)"
                    ),
                )
                .exit();
        }
    }
    if args.session_evidence && args.profile == Profile::Seed {
        use clap::CommandFactory as _;
        Args::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                "--session-evidence needs --profile v1 (the seed profile has no session evidence)",
            )
            .exit();
    }
    let source = Arc::new(quote_source(args.tee, args.sim_mrtd.0, SystemTime::now())?);
    if args.tee == Tee::Sim {
        eprintln!("WARNING: --tee sim: simulated TDX platform, NOT a TEE (tests and demos only)");
    }
    let ita = match (&args.ita_url, &args.ita_api_key_file) {
        (Some(url), Some(key_file)) => {
            eprintln!("attestations carry Intel Trust Authority tokens from {url}");
            Some(ItaClient::with_key_file(url, key_file)?)
        }
        _ => None,
    };
    let app = llm_proxy::router_with_ita(
        source,
        ProxyOptions {
            profile: args.profile,
            session_evidence: args.session_evidence,
            backend: args.backend,
            model: args.model,
            limits: ServerLimits::new()
                .max_sessions(args.max_sessions)
                .handshake_timeout(Duration::from_millis(args.handshake_timeout_ms))
                .idle_timeout(Duration::from_millis(args.idle_timeout_ms))
                .answer_timeout(Duration::from_millis(args.answer_timeout_ms))
                .max_session_lifetime(Duration::from_millis(args.max_session_lifetime_ms))
                .max_attestations_per_session(args.max_attestations_per_session),
            noise_key: None,
        },
        ita,
    )?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    let addr: SocketAddr = listener.local_addr()?;
    println!("listening on {addr}");
    attested_examples::serve::serve(listener, app, args.connections.limits()).await?;
    Ok(())
}
