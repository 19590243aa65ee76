//! `ohttp-gateway --listen ADDR --target URL [--suite ...] [--tee sim|tdx|nitro-sim]`: an attested
//! Oblivious HTTP gateway in front of a transcription service.
//!
//! - `GET /ohttp-keys` and `GET /.well-known/ohttp-gateway`: the key configuration list.
//! - `GET /attestation`: TEE evidence whose REPORTDATA is SHA-512 of that list.
//! - `POST /gateway` (and `POST /.well-known/ohttp-gateway`): one-shot or chunked requests.
//!
//! Inner requests are admitted only in origin form under an `--allow`ed authority; one-shot
//! requests are bounded by `--max-request` (default 8 MiB), chunked uploads by `--max-upload`
//! (default 1 GiB, streamed in bounded memory). Keys rotate every `--key-lifetime` seconds
//! (default 24 h) with overlap and grace, the list re-quoted each time; a replayed request is
//! refused within a 60-second window.
//!
//! `--azure-compat` adds Microsoft's routes, `POST /score` and `GET /discover`, so that
//! Microsoft's clients (`ohttpy`, `pyohttp`, attested-ohttp-client) can use the gateway; see
//! the flag's help for what it shows to relays.
//!
//! The evidence is a TDX quote from `attested_examples::tdx_evidence`: `--tee sim` is the
//! simulated platform (NOT a TEE; it also serves `GET /sim/root` and `GET /collateral` for
//! clients told to trust it explicitly), `--tee tdx` is configfs-tsm on real hardware.
//! `--tee nitro-sim` serves AWS-Nitro-shaped documents from a simulated issuer (NOT a TEE;
//! root at `GET /nitro-sim/root`) from `attested_examples::nitro_evidence`.

use std::sync::Arc;
use std::time::SystemTime;

use attested_examples::nitro_evidence::NitroSimSource;
use attested_examples::ohttp_gateway::{self, GatewayEvidence, GatewayOptions};
use attested_examples::tdx_evidence::{Tee, quote_source};
use attested_ohttp::{Suite, azure::AzureInnerRules, chunked::Dialect, keys::Rotation};
use clap::{Parser, ValueEnum};

#[derive(Clone, Copy, ValueEnum)]
enum SuiteArg {
    X25519Aes128gcm,
    P384Aes256gcm,
    Xwing,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TeeArg {
    /// Simulated TDX platform (NOT a TEE).
    Sim,
    /// Intel TDX through configfs-tsm.
    Tdx,
    /// AWS-Nitro-shaped documents from a simulated issuer (NOT a TEE).
    NitroSim,
}

#[derive(Clone, Copy, ValueEnum)]
enum DialectArg {
    Draft,
    Azure,
}

#[derive(Parser)]
#[command(
    name = "ohttp-gateway",
    version,
    about = "Attested Oblivious HTTP gateway"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: String,
    /// Base URL of the target service (plain HTTP on a private network).
    #[arg(long, value_parser = target_arg)]
    target: String,
    /// HPKE suite of the gateway key.
    #[arg(long, value_enum, default_value = "p384-aes256gcm")]
    suite: SuiteArg,
    /// Where the attestation evidence comes from.
    #[arg(long, value_enum, default_value = "sim")]
    tee: TeeArg,
    /// Inner request authorities that may be forwarded to the target.
    #[arg(long = "allow", default_value = "whisper")]
    allowed: Vec<String>,
    /// How `message/ohttp-chunked-req` bodies are framed.
    #[arg(long, value_enum, default_value = "draft")]
    chunked_dialect: DialectArg,
    /// Largest accepted one-shot request, in bytes. One-shot requests are buffered (the
    /// body, then its decryption): 8 MiB holds minutes of 16 kHz audio; larger uploads
    /// stream as chunked requests.
    #[arg(long, default_value_t = 8 << 20)]
    max_request: u64,
    /// Milliseconds an upload may go without a byte before it is refused with 408.
    #[arg(long, value_name = "MS", default_value_t = 30_000)]
    upload_idle_timeout_ms: u64,
    /// Largest accepted chunked upload, in bytes; it streams in bounded memory.
    #[arg(long, default_value_t = 1 << 30)]
    max_upload: u64,
    /// Also serve Microsoft's Azure confidential inference routes: `POST /score` (a plain
    /// RFC 9458 request under message/ohttp-chunked-req) and `GET /discover` (the key list in
    /// hex). Their answers are Microsoft's: the target's raw body in the encrypted chunk
    /// stream, and the target's STATUS AND HEADERS IN CLEAR on the outer response, so every
    /// relay and network observer sees them (whether the transcription worked, its headers,
    /// its error texts' sizes). The default routes keep status and headers inside the
    /// ciphertext (binary HTTP), so a relay sees only sizes and timing; use this mode only for
    /// clients that cannot speak that. The key suite stays --suite (default
    /// p384-aes256gcm: DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM, which Microsoft's
    /// keys use).
    #[arg(long)]
    azure_compat: bool,
    /// With --azure-compat: the authority of inner requests that name none (Microsoft's
    /// clients send an empty one); it must still be --allow'ed.
    #[arg(long, default_value = "whisper")]
    default_authority: String,
    /// With --azure-compat: the target path of inner requests to `/` (as pyohttp sends).
    #[arg(long, default_value = "/v1/audio/transcriptions")]
    default_path: String,
    /// With --azure-compat: the paths an outer `enginetarget` header may name (others are
    /// refused with 403).
    #[arg(long = "engine-target", default_value = "/v1/audio/transcriptions")]
    engine_targets: Vec<String>,
    /// How long each key is advertised, in seconds; its successor appears a twelfth of
    /// that before, and requests to it are accepted a twenty-fourth longer.
    #[arg(long, default_value_t = 24 * 3600)]
    key_lifetime: u64,
    /// Connection limits of the HTTP server.
    #[command(flatten)]
    connections: attested_examples::serve::ConnectionArgs,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let suite = match args.suite {
        SuiteArg::X25519Aes128gcm => Suite::X25519_AES128GCM,
        SuiteArg::P384Aes256gcm => Suite::P384_AES256GCM,
        SuiteArg::Xwing => Suite::XWING_AES256GCM,
    };
    let source = match args.tee {
        TeeArg::NitroSim => {
            let source = NitroSimSource::new()?;
            eprintln!(
                "WARNING: --tee nitro-sim: simulated Nitro issuer, NOT a TEE (tests and demos only); PCR0 {}",
                hex::encode(source.pcr0())
            );
            GatewayEvidence::NitroSim(Arc::new(source))
        }
        TeeArg::Sim | TeeArg::Tdx => {
            let tee = if args.tee == TeeArg::Sim {
                Tee::Sim
            } else {
                Tee::Tdx
            };
            if tee == Tee::Sim {
                eprintln!(
                    "WARNING: --tee sim: simulated TDX platform, NOT a TEE (tests and demos only)"
                );
            }
            GatewayEvidence::Tdx(Arc::new(quote_source(tee, [0x6f; 48], SystemTime::now())?))
        }
    };

    let lifetime = std::time::Duration::from_secs(args.key_lifetime.max(24));
    let rotation = Rotation {
        lifetime,
        overlap: lifetime / 12,
        grace: lifetime / 24,
    };
    let azure = args.azure_compat.then(|| AzureInnerRules {
        default_authority: args.default_authority.clone(),
        default_path: args.default_path.clone(),
        allowed_engine_targets: args.engine_targets.clone(),
    });
    let app = ohttp_gateway::router_azure(
        source,
        GatewayOptions {
            target: args.target.clone(),
            suite,
            allowed: args.allowed,
            chunked_dialect: match args.chunked_dialect {
                DialectArg::Draft => Dialect::Draft,
                DialectArg::Azure => Dialect::Azure,
            },
            max_request: args.max_request,
            upload_idle_timeout: std::time::Duration::from_millis(args.upload_idle_timeout_ms),
        },
        rotation,
        args.max_upload,
        azure,
    )
    .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!(
        "ohttp-gateway listening on {} -> {}",
        listener.local_addr()?,
        args.target
    );
    attested_examples::serve::serve(listener, app, args.connections.limits()).await?;
    Ok(())
}

/// `--target`, refused as a usage error (exit 2) unless it is a base URL the gateway can use.
fn target_arg(text: &str) -> Result<String, String> {
    ohttp_gateway::target_base(text).map(|_| text.to_owned())
}
