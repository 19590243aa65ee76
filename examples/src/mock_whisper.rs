//! The mock of `mock-whisper`: a deterministic stand-in for an OpenAI-style transcription
//! endpoint. `POST /v1/audio/transcriptions` (multipart, field `file`) answers with the
//! audio's length and SHA-256, so that a test can check the audio arrived intact, and with
//! the request's `Date` header (`null` without one), so that a test can see that the gateway
//! admitted a dated inner request.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};

/// The named parts of a `multipart/form-data` body: (name, content).
fn multipart_parts<'a>(body: &'a [u8], boundary: &str) -> Vec<(String, &'a [u8])> {
    let delimiter = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    while let Some(start) = find(rest, delimiter.as_bytes()) {
        let after = rest.get(start + delimiter.len()..).unwrap_or_default();
        let Some(after) = after.strip_prefix(b"\r\n") else {
            break;
        };
        let Some(headers_end) = find(after, b"\r\n\r\n") else {
            break;
        };
        let headers =
            String::from_utf8_lossy(after.get(..headers_end).unwrap_or_default()).into_owned();
        let content_start = after.get(headers_end + 4..).unwrap_or_default();
        let Some(end) = find(content_start, format!("\r\n{delimiter}").as_bytes()) else {
            break;
        };
        let name = headers
            .split(';')
            .find_map(|p| {
                p.trim()
                    .strip_prefix("name=\"")
                    .and_then(|n| n.split('"').next())
            })
            .unwrap_or_default()
            .to_string();
        parts.push((name, content_start.get(..end).unwrap_or_default()));
        rest = content_start.get(end + 2..).unwrap_or_default();
    }
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

async fn transcribe(headers: HeaderMap, body: Bytes) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = content_type
        .split("boundary=")
        .nth(1)
        .map(|b| b.trim_matches('"').to_string())
    else {
        return (StatusCode::BAD_REQUEST, "expected multipart/form-data").into_response();
    };
    let parts = multipart_parts(&body, &boundary);
    let Some((_, audio)) = parts.iter().find(|(name, _)| name == "file") else {
        return (StatusCode::BAD_REQUEST, "missing file part").into_response();
    };
    let model = parts
        .iter()
        .find(|(name, _)| name == "model")
        .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
        .unwrap_or_else(|| "whisper-1".into());
    let digest = hex::encode(Sha256::digest(audio));
    let date = headers
        .get(header::DATE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // One line per transcription, so that a test can tell whether audio ever arrived.
    println!("transcribed {} bytes sha256 {digest}", audio.len());
    let answer = serde_json::json!({
        "text": format!("mock transcript of {} bytes, sha256 {digest}", audio.len()),
        "bytes": audio.len(),
        "sha256": digest,
        "model": model,
        "date": date,
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        answer.to_string(),
    )
        .into_response()
}

/// The mock's route: `POST /v1/audio/transcriptions`.
pub fn router() -> Router {
    Router::new()
        .route("/v1/audio/transcriptions", post(transcribe))
        .layer(axum::extract::DefaultBodyLimit::max(64 << 20))
}
