//! `mock-whisper --listen ADDR`: a deterministic stand-in for an OpenAI-style transcription
//! endpoint. `POST /v1/audio/transcriptions` (multipart, field `file`) answers with the
//! audio's length and SHA-256, so that a test can check the audio arrived intact.

use attested_examples::mock_whisper;
use clap::Parser;

#[derive(Parser)]
#[command(
    name = "mock-whisper",
    version,
    about = "Deterministic mock of a Whisper transcription endpoint"
)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:9000")]
    listen: String,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(&args.listen).await?;
    println!("mock-whisper listening on {}", listener.local_addr()?);
    axum::serve(listener, mock_whisper::router()).await?;
    Ok(())
}
