//! `mock-llm --listen ADDR`: a deterministic OpenAI-compatible chat endpoint for tests.
//!
//! `POST /v1/chat/completions` answers `sha256:<hex>`, the SHA-256 of the last message's
//! content, so that a test can check that the prompt arrived intact. With `"stream": true` it
//! answers with server-sent events, the same text in three pieces. Prints `listening on ADDR`
//! once bound (use port 0 for any free port), then `answered <answer>` for every request.

use attested_examples::mock_llm;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "mock-llm",
    version,
    about = "A deterministic OpenAI-compatible chat endpoint for tests"
)]
struct Args {
    /// Address to listen on, for example 127.0.0.1:0.
    #[arg(long)]
    listen: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, mock_llm::router()).await?;
    Ok(())
}
