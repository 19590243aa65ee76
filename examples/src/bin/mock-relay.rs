//! `mock-relay --listen ADDR --gateway URL [--outbound-from IP]`: a test stand-in for an
//! Oblivious HTTP relay (RFC 9458 §4.1) in front of one `ohttp-gateway`, NOT a production
//! relay. `POST /` goes to the gateway's `/gateway`; `GET /ohttp-keys`, `/attestation` and
//! `/collateral` to the same gateway paths, so that `whisper-client --relay URL` never
//! connects to the gateway. It prints each client address it forwards for. See
//! `attested_examples::mock_relay`.

use std::net::{IpAddr, SocketAddr};

use attested_examples::mock_relay::{self, RelayOptions};
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "mock-relay",
    version,
    about = "Test stand-in for an OHTTP relay in front of one gateway (NOT production)"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8444")]
    listen: String,
    /// The gateway's base URL.
    #[arg(long, value_parser = |text: &str| mock_relay::gateway_base(text).map(|_| text.to_owned()))]
    gateway: String,
    /// The local address of the relay's connections to the gateway.
    #[arg(long)]
    outbound_from: Option<IpAddr>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let app = mock_relay::router(&RelayOptions {
        gateway: args.gateway.clone(),
        outbound_from: args.outbound_from,
    })
    .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!(
        "mock-relay listening on {} -> {}",
        listener.local_addr()?,
        args.gateway
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
