//! `verified-chat --url URL [--profile seed|v1] [--trust-sim-root FILE] [--collateral FILE]
//! [--expect-mrtd HEX] [--token-jwks FILE [--token-root PEM | --token-unchained]] PROMPT`:
//! connects to a private-LLM proxy over Noise, verifies its TDX quote (DCAP, against Intel's root
//! or an explicitly trusted simulated root) or, with `--token-jwks`, its Intel Trust Authority
//! token, and the session binding, prints a short verification report, and only then sends the
//! prompt and prints the answer.
//!
//! Any failed check ends the program before the prompt leaves, with the check that failed.

use std::process::ExitCode;

use attested_examples::chat_client::{
    VerifiedChat, decode_hex, quote_evidence_line, token_evidence_line,
};
use attested_examples::error_chain;
use attested_examples::ita_evidence::TokenTrustArgs;
use attested_examples::tdx_evidence::{ClientPolicy, TrustArgs, require_workload};
use attested_noise::{Appraiser, BoxError, Config, Profile};
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "verified-chat",
    version,
    about = "Chat with a private-LLM proxy after verifying its attestation"
)]
struct Args {
    /// The proxy, for example http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// The wire profile: seed (the Python proxy's) or v1.
    #[arg(long, default_value = "v1")]
    profile: Profile,
    /// How the proxy's quote is verified.
    #[command(flatten)]
    trust: TrustArgs,
    /// How the proxy's ITA token is verified, when it is the token rather than the quote.
    #[command(flatten)]
    token: TokenTrustArgs,
    /// Pin the server's Noise static key (hex) instead of taking it from /health.
    #[arg(long)]
    noise_pubkey: Option<String>,
    /// v1: require per-session evidence binding this handshake.
    #[arg(long)]
    require_session_evidence: bool,
    /// v1: ask for a streamed answer.
    #[arg(long)]
    stream: bool,
    /// The prompt.
    prompt: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Before any connection: the reference values must identify the workload; the policy is
    // resolved here, once.
    let policy = match require_workload(&args.trust, args.token.token_jwks.is_some()) {
        Ok(policy) => policy,
        Err(error) => {
            eprintln!("usage: {error}");
            return ExitCode::from(2);
        }
    };
    match run(&args, policy).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("refused: {}", error_chain(error.as_ref()));
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &Args, policy: ClientPolicy) -> Result<(), BoxError> {
    let base = args.url.trim_end_matches('/');
    let (check, evidence_line): (Box<dyn Appraiser>, String) = match policy {
        ClientPolicy::Token(policy) => {
            let (appraiser, anchor) = args
                .token
                .appraiser(*policy)?
                .ok_or("--token-jwks is required for a token policy")?;
            (Box::new(appraiser), token_evidence_line(&anchor))
        }
        ClientPolicy::Quote(policy) => {
            let (appraiser, anchor) = args
                .trust
                .appraiser(*policy, base, &attested_examples::tls::http()?)
                .await?;
            (Box::new(appraiser), quote_evidence_line(&anchor))
        }
    };
    let noise_pubkey = args
        .noise_pubkey
        .as_deref()
        .map(|key| decode_hex(key, "--noise-pubkey"))
        .transpose()?;
    let config = Config::new(args.profile).require_session_evidence(args.require_session_evidence);
    let mut chat = VerifiedChat::connect(base, config, noise_pubkey, check.as_ref()).await?;
    println!("verified ({} profile):", chat.session().profile());
    for line in chat.report(&evidence_line) {
        println!("  {line}");
    }
    println!("answer:");
    let answer = chat
        .ask(&args.prompt, args.stream, |delta| print!("{delta}"))
        .await?;
    if args.stream {
        println!();
    } else {
        println!("{answer}");
    }
    chat.close().await;
    Ok(())
}
