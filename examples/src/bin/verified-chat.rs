//! `verified-chat --url URL [--profile seed|v1] [--trust-sim-root FILE] [--collateral FILE]
//! [--expect-mrtd HEX] PROMPT`: connects to a private-LLM proxy over Noise, verifies its TDX quote
//! (DCAP, against Intel's root or an explicitly trusted simulated root) and the session binding,
//! prints a short verification report, and only then sends the prompt and prints the answer.
//!
//! Any failed check ends the program before the prompt leaves, with the check that failed.

use std::process::ExitCode;

use attested_examples::tdx_evidence::{TdxCheck, TrustArgs};
use attested_noise::{
    BoxError, ChatMessage, ChatRequest, Config, Initiator, Message, Profile, VerifiedSession,
};
use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

#[derive(Parser)]
#[command(about = "Chat with a private-LLM proxy after verifying its attestation")]
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

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprint!("refused: {error}");
            let mut source = error.source();
            while let Some(cause) = source {
                eprint!(": {cause}");
                source = cause.source();
            }
            eprintln!();
            ExitCode::FAILURE
        }
    }
}

fn decode_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], BoxError> {
    let mut out = [0_u8; N];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|_| format!("{what} is not {N} bytes of hex"))?;
    Ok(out)
}

async fn run(args: &Args) -> Result<(), BoxError> {
    let base = args.url.trim_end_matches('/');
    let check = args.trust.check(base, &reqwest::Client::new()).await?;
    let server_key: [u8; 32] = match &args.noise_pubkey {
        Some(key) => decode_hex(key, "--noise-pubkey")?,
        None => {
            let health: serde_json::Value = reqwest::get(format!("{base}/health"))
                .await?
                .error_for_status()?
                .json()
                .await?;
            let key = health
                .get("noise_pubkey")
                .and_then(serde_json::Value::as_str)
                .ok_or("/health has no noise_pubkey")?;
            decode_hex(key, "noise_pubkey of /health")?
        }
    };
    let ws_url = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}/ws/noise")
    } else {
        format!(
            "ws://{}/ws/noise",
            base.strip_prefix("http://").unwrap_or(base)
        )
    };
    let (mut socket, _) = tokio_tungstenite::connect_async(ws_url.as_str()).await?;

    let config = Config::new(args.profile).require_session_evidence(args.require_session_evidence);
    let mut initiator = Initiator::with_config(config, &server_key, &mut rand::rng())?;
    send(&mut socket, vec![initiator.write_first()?]).await?;
    let mut session = initiator.read_second(&receive(&mut socket).await?)?;
    let request = session.request_attestation()?;
    send(&mut socket, request).await?;
    let attestation = loop {
        if let Some(attestation) = session.receive_attestation(&receive(&mut socket).await?)? {
            break attestation;
        }
    };
    let mut session = session.verify(&attestation, &check)?;
    report(&session, &check, &server_key);

    let request = ChatRequest {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: args.prompt.clone(),
        }],
        stream: args.stream.then_some(true),
        ..ChatRequest::default()
    };
    let frames = session.chat(&request)?;
    send(&mut socket, frames).await?;
    loop {
        let Some(message) = session.receive(&receive(&mut socket).await?)? else {
            continue;
        };
        match message {
            Message::ChatResponse(response) => {
                println!("{}", response.message.content);
                break;
            }
            Message::ChatChunk(chunk) => print!("{}", chunk.delta),
            Message::ChatDone(_) => {
                println!();
                break;
            }
            Message::Error(error) => return Err(format!("server error: {}", error.error).into()),
            other => return Err(format!("unexpected {} message", other.type_name()).into()),
        }
    }
    let _ = socket.close(None).await;
    Ok(())
}

fn report(session: &VerifiedSession, check: &TdxCheck, server_key: &[u8; 32]) {
    println!("verified ({} profile):", session.profile());
    println!(
        "  TDX quote: DCAP verification under {} and policy ok",
        check.anchor_description()
    );
    for (name, value) in session.evidence().measurements() {
        println!("  {name}: {}", hex::encode(value));
    }
    println!(
        "  REPORTDATA binds binding key {}{}",
        hex::encode(session.binding_key()),
        if session.profile() == Profile::V1 {
            format!(" and Noise key {}", hex::encode(server_key))
        } else {
            String::new()
        }
    );
    println!(
        "  session binding signature over handshake hash {}: ok",
        hex::encode(session.handshake_hash())
    );
    if session.session_evidence().is_some() {
        println!("  per-session evidence binds this handshake: ok");
    }
    println!("answer:");
}

async fn send(socket: &mut Socket, frames: Vec<Vec<u8>>) -> Result<(), BoxError> {
    for frame in frames {
        socket.send(WsMessage::Binary(frame.into())).await?;
    }
    Ok(())
}

async fn receive(socket: &mut Socket) -> Result<Vec<u8>, BoxError> {
    loop {
        match socket.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => return Ok(bytes.to_vec()),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
            Some(Ok(WsMessage::Close(_))) | None => {
                return Err("server closed the connection".into());
            }
            Some(Ok(_)) => return Err("server sent a non-binary frame".into()),
            Some(Err(error)) => return Err(error.into()),
        }
    }
}
