//! The attested Oblivious HTTP gateway of `ohttp-gateway`, in front of a transcription service.
//!
//! - `GET /ohttp-keys` and `GET /.well-known/ohttp-gateway`: the key configuration list.
//! - `GET /attestation`: a TDX quote whose REPORTDATA is SHA-512 of that list, or a Nitro
//!   document whose `public_key` is (see [`crate::nitro_evidence`]).
//! - `GET /sim/root`, `GET /collateral`: see [`crate::tdx_evidence::trust_routes`];
//!   `GET /nitro-sim/root`: see [`crate::nitro_evidence::trust_routes`].
//! - `POST /gateway` (and `POST /.well-known/ohttp-gateway`): one-shot or chunked requests.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::nitro_evidence::NitroSimSource;
use crate::tdx_evidence::{TdxEvidenceSource, trust_routes};
use attested_ohttp::bhttp::{Message, StatusCode as InnerStatus};
use attested_ohttp::{
    Dialect, Gateway, GatewayPolicy, Inbound, KeyPair, KeyRing, MEDIA_TYPE_KEYS, OuterResponse,
    RequestKind, Suite, TargetError, Validity, key_config_binding,
};
use axum::Router;
use axum::body::Body;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;

/// How the gateway is set up.
#[derive(Clone, Debug)]
pub struct GatewayOptions {
    /// Base URL of the target service.
    pub target: String,
    /// HPKE suite of the gateway key.
    pub suite: Suite,
    /// Inner request authorities that may be forwarded to the target.
    pub allowed: Vec<String>,
    /// How `message/ohttp-chunked-req` bodies are framed.
    pub chunked_dialect: Dialect,
    /// Largest accepted inner request, in bytes.
    pub max_request: u64,
}

/// Where the gateway's attestation comes from.
pub enum GatewayEvidence {
    /// TDX quotes (simulated or hardware).
    Tdx(Arc<TdxEvidenceSource>),
    /// Simulated Nitro documents, one per request (they carry the client's nonce).
    NitroSim(Arc<NitroSimSource>),
}

impl From<Arc<TdxEvidenceSource>> for GatewayEvidence {
    fn from(source: Arc<TdxEvidenceSource>) -> Self {
        Self::Tdx(source)
    }
}

struct AppState {
    gateway: Gateway,
    key_list: Vec<u8>,
    key_list_max_age: u64,
    attestation: serde_json::Value,
    nitro: Option<Arc<NitroSimSource>>,
    http: reqwest::Client,
    target: String,
}

fn outer(response: OuterResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = (status, response.body).into_response();
    if let Some(ct) = response.content_type {
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn bare(status: u16) -> Response {
    outer(OuterResponse {
        status,
        content_type: None,
        body: Vec::new(),
    })
}

async fn keys(State(st): State<Arc<AppState>>) -> Response {
    let mut r = st.key_list.clone().into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(MEDIA_TYPE_KEYS),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("max-age={}", st.key_list_max_age)) {
        r.headers_mut().insert(header::CACHE_CONTROL, v);
    }
    r
}

async fn attestation(State(st): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let Some(nitro) = &st.nitro else {
        return axum::Json(st.attestation.clone()).into_response();
    };
    match nitro.attestation_json(&st.key_list, query.as_deref(), SystemTime::now()) {
        Ok(json) => axum::Json(json).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// Hop-by-hop and framing fields never cross the gateway.
fn forwardable(name: &[u8]) -> bool {
    ![
        "host",
        "content-length",
        "connection",
        "transfer-encoding",
        "keep-alive",
        "upgrade",
        "te",
        "trailer",
    ]
    .iter()
    .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
}

async fn forward(st: &AppState, message: &Message) -> Result<Message, TargetError> {
    let control = message.control();
    let method = reqwest::Method::from_bytes(control.method().unwrap_or(b"GET"))
        .map_err(|_| TargetError::Unavailable)?;
    let path = String::from_utf8_lossy(control.path().unwrap_or(b"/")).into_owned();
    let mut request = st.http.request(
        method,
        format!("{}{}", st.target.trim_end_matches('/'), path),
    );
    for field in message.header().fields() {
        if forwardable(field.name()) {
            request = request.header(field.name(), field.value());
        }
    }
    let response = request
        .body(message.content().to_vec())
        .send()
        .await
        .map_err(|e| {
            if e.is_timeout() {
                TargetError::Timeout
            } else {
                TargetError::Unavailable
            }
        })?;
    let status =
        InnerStatus::try_from(response.status().as_u16()).map_err(|_| TargetError::Unavailable)?;
    let mut inner = Message::response(status);
    for (name, value) in response.headers() {
        if forwardable(name.as_str().as_bytes()) {
            inner.put_header(name.as_str(), value.as_bytes());
        }
    }
    let body = response
        .bytes()
        .await
        .map_err(|_| TargetError::Unavailable)?;
    inner.write_content(&body);
    Ok(inner)
}

async fn answer(st: &AppState, inbound: Inbound) -> Response {
    match inbound {
        Inbound::Answer(o) => outer(o),
        Inbound::Forward(fwd) => {
            let result = forward(st, &fwd.message).await;
            match fwd.reply.respond(result, &mut rand::rng()) {
                Ok(o) => outer(o),
                Err(_) => bare(500),
            }
        }
    }
}

async fn gateway(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let now = SystemTime::now();
    let policy = st.gateway.policy();
    match (
        RequestKind::from_content_type(content_type),
        policy.chunked_dialect,
    ) {
        (Err(_), _) => bare(415),
        (Ok(RequestKind::Chunked), Dialect::Draft) => {
            let Ok(mut decoder) = st.gateway.chunked_decoder(content_type, now) else {
                return bare(415);
            };
            let mut inner = Vec::new();
            let mut stream = body.into_data_stream();
            while let Some(frame) = stream.next().await {
                let Ok(frame) = frame else { return bare(400) };
                if decoder.push(&frame, &mut inner).is_err() {
                    return bare(400);
                }
            }
            let Ok(context) = decoder.finish(&mut inner) else {
                return bare(400);
            };
            let inbound = st
                .gateway
                .inbound_chunked(&inner, context, &mut rand::rng());
            // The parsed message holds its own copy of the upload.
            drop(inner);
            answer(&st, inbound).await
        }
        _ => {
            let Ok(bytes) = axum::body::to_bytes(body, policy.max_request_len).await else {
                return bare(413);
            };
            let inbound = st
                .gateway
                .inbound(content_type, &bytes, now, &mut rand::rng());
            drop(bytes);
            answer(&st, inbound).await
        }
    }
}

/// The gateway's routes, with a fresh key whose configuration list `source` quotes.
pub fn router(
    source: impl Into<GatewayEvidence>,
    options: GatewayOptions,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let now = SystemTime::now();
    let lifetime = Duration::from_secs(24 * 3600);
    let pair = KeyPair::generate(
        1,
        options.suite.kem,
        vec![options.suite.symmetric()],
        &mut rand::rng(),
    )?;
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(now, lifetime, Duration::from_secs(3600)),
    )?;
    let key_list = ring.encoded_list(now);
    let (evidence, nitro, trust) = match source.into() {
        GatewayEvidence::Tdx(source) => (
            serde_json::json!({
                "type": "tdx-quote",
                "tee_type": source.tee_type(),
                "quote": hex::encode(source.quote(&key_config_binding(&key_list))?),
            }),
            None,
            trust_routes(source),
        ),
        GatewayEvidence::NitroSim(source) => (
            serde_json::Value::Null,
            Some(source.clone()),
            crate::nitro_evidence::trust_routes(&source),
        ),
    };
    let max_request = usize::try_from(options.max_request)?;
    let policy = GatewayPolicy {
        max_request_len: max_request,
        chunk_limits: attested_ohttp::ChunkLimits {
            max_chunk_len: 1 << 20,
            max_total_len: options.max_request,
            ..attested_ohttp::ChunkLimits::default()
        },
        chunked_dialect: options.chunked_dialect,
        allowed_targets: options.allowed,
        ..GatewayPolicy::default()
    };
    let state = Arc::new(AppState {
        gateway: Gateway::new(ring, policy),
        attestation: serde_json::json!({ "evidence": evidence, "key_config_list": hex::encode(&key_list) }),
        nitro,
        key_list,
        key_list_max_age: 3600,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(300))
            .build()?,
        target: options.target,
    });
    Ok(Router::new()
        .route("/ohttp-keys", get(keys))
        .route("/.well-known/ohttp-gateway", get(keys).post(gateway))
        .route("/attestation", get(attestation))
        .route("/gateway", axum::routing::post(gateway))
        .layer(axum::extract::DefaultBodyLimit::max(
            max_request.saturating_add(1 << 20),
        ))
        .with_state(state)
        .merge(trust))
}
