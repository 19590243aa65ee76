//! Shared by `private-llm-proxy` and `verified-chat`: the OpenAI-compatible backend call. The
//! evidence on both sides is in [`crate::tdx_evidence`].

use attested_noise::message::{ChatRequest, ChatResponse};

/// The OpenAI-compatible chat completion request the proxy sends to its backend.
pub fn backend_request(request: &ChatRequest, model: &str) -> serde_json::Value {
    let mut body = serde_json::json!({
        "model": request.model.as_deref().unwrap_or(model),
        "messages": request.messages,
        "stream": request.stream.unwrap_or(false),
    });
    if let (Some(t), Some(map)) = (request.temperature, body.as_object_mut()) {
        map.insert("temperature".into(), t.into());
    }
    body
}

/// The `chat_response` of a backend's non-streamed answer, or `None` if it is malformed.
pub fn chat_response(body: &serde_json::Value) -> Option<ChatResponse> {
    let message = body.get("choices")?.get(0)?.get("message")?;
    Some(ChatResponse {
        message: serde_json::from_value(message.clone()).ok()?,
        model: body.get("model")?.as_str()?.to_owned(),
        prompt_tokens: body.pointer("/usage/prompt_tokens")?.as_u64()?,
        completion_tokens: body.pointer("/usage/completion_tokens")?.as_u64()?,
    })
}

/// The text delta of one server-sent-events `data:` payload of a streamed answer.
pub fn stream_delta(data: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(data).ok()?;
    Some(
        event
            .pointer("/choices/0/delta/content")?
            .as_str()?
            .to_owned(),
    )
}
