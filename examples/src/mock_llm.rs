//! The mock of `mock-llm`: a deterministic OpenAI-compatible chat endpoint for tests.
//!
//! `POST /v1/chat/completions` answers `sha256:<hex>`, the SHA-256 of the last message's
//! content, so that a test can check that the prompt arrived intact. With `"stream": true` it
//! answers with server-sent events, the same text in three pieces. Prints
//! `answered <answer>` for every request.

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The answer to `request` (`sha256:` of the last message) and its prompt token count.
pub fn answer(request: &Value) -> (String, u64) {
    let messages = request["messages"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let prompt = messages
        .last()
        .and_then(|m| m["content"].as_str())
        .unwrap_or_default();
    let words = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .map(|c| c.split_whitespace().count() as u64)
        .sum();
    (
        format!("sha256:{}", hex::encode(Sha256::digest(prompt))),
        words,
    )
}

async fn completions(Json(request): Json<Value>) -> Response {
    let (content, prompt_tokens) = answer(&request);
    // One line per answered request, so that a test can tell whether a prompt ever arrived.
    println!("answered {content}");
    let model = request
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("mock")
        .to_owned();
    if request.get("stream").and_then(Value::as_bool) == Some(true) {
        let (head, rest) = content.split_at(7);
        let (middle, tail) = rest.split_at(32);
        let pieces = [head, middle, tail];
        let mut body = String::new();
        for piece in pieces {
            let event =
                json!({"model": model, "choices": [{"index": 0, "delta": {"content": piece}}]});
            body.push_str(&format!("data: {event}\n\n"));
        }
        body.push_str("data: [DONE]\n\n");
        return ([("content-type", "text/event-stream")], body).into_response();
    }
    Json(json!({
        "id": "mock-1",
        "object": "chat.completion",
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": 1, "total_tokens": prompt_tokens + 1},
    }))
    .into_response()
}

/// The mock's routes: `GET /health`, `POST /v1/chat/completions`.
pub fn router() -> Router {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/v1/chat/completions", post(completions))
}
