//! What a hostile host or load balancer in front of an attested server can do, made runnable so
//! that `confidential-pipeline --tamper` and the tests can show the client refusing it.
//!
//! Nothing here weakens a server or a client: each piece is an outside party on the path.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Relay {
    upstream: String,
    substitute_keys: Bytes,
    http: reqwest::Client,
}

/// Serves on loopback, and returns the URL of, a relay in front of the OHTTP gateway at
/// `upstream` that forwards every `GET` (the genuine attestation, collateral and roots, query
/// strings included) but answers `GET /ohttp-keys` with the keys of the gateway at
/// `keys_from`: keys the host holds, under the genuine gateway's evidence. A client that
/// checks the binding refuses those keys before anything is encrypted to them.
pub async fn serve_key_swapping_relay(
    upstream: &str,
    keys_from: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let substitute_keys = reqwest::get(format!("{}/ohttp-keys", keys_from.trim_end_matches('/')))
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    Ok(crate::pipeline::serve_on_loopback(key_swapping_relay(upstream, substitute_keys)).await?)
}

fn key_swapping_relay(upstream: &str, substitute_keys: Bytes) -> Router {
    let relay = std::sync::Arc::new(Relay {
        upstream: upstream.trim_end_matches('/').to_owned(),
        substitute_keys,
        http: reqwest::Client::new(),
    });
    Router::new()
        .route(
            "/ohttp-keys",
            get(|State(relay): State<std::sync::Arc<Relay>>| async move {
                (
                    [(header::CONTENT_TYPE, attested_ohttp::MEDIA_TYPE_KEYS)],
                    relay.substitute_keys.clone(),
                )
            }),
        )
        .fallback(get(forward))
        .with_state(relay)
}

async fn forward(
    State(relay): State<std::sync::Arc<Relay>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let upstream = match relay
        .http
        .get(format!("{}{path}", relay.upstream))
        .send()
        .await
    {
        Ok(response) => response,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = upstream
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .cloned();
    let Ok(body) = upstream.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = (status, body).into_response();
    if let Some(value) =
        content_type.and_then(|v| header::HeaderValue::from_bytes(v.as_bytes()).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}
