//! The private-LLM proxy of `private-llm-proxy`: a Noise responder bound to TDX evidence in
//! front of an OpenAI-compatible backend.
//!
//! - `GET /health`: `{"status": "ok", "noise_pubkey": hex, "profile": ...}`
//! - `GET /attestation`: `noise_pubkey`, `binding_pubkey`, `mrtd`, `tee_type`, `profile`
//! - `GET /sim/root`, `GET /collateral`: see [`crate::tdx_evidence::trust_routes`]
//! - `GET /ws/noise`: the WebSocket; every frame binary, one Noise message each
//!
//! Chat requests go to the OpenAI-compatible `POST {backend}/v1/chat/completions`. Errors never
//! leave in clear: a failed session is closed with an empty close reason.
//!
//! With an [`ItaClient`] ([`router_with_ita`]), every attestation also carries an Intel Trust
//! Authority token for the platform quote, asked for on first use and again once the one held
//! is about to expire.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::ita_evidence::{ItaClient, ItaEvidenceError};
use crate::tdx_evidence::{tee_type, trust_routes};
use attested_noise::backend::{self, AnswerEvent, StreamedAnswer};
use attested_noise::ed25519_dalek::SigningKey;
use attested_noise::limits::{ServerLimits, SessionPermit};
use attested_noise::message::{ChatRequest, Message};
use attested_noise::{
    Config, NoiseStaticKey, PlatformEvidence, Profile, Received, Responder, ServerIdentity,
    ServerSession,
};
use attested_tdx::tsm::QuoteSource;
use attested_token::UnixTime;
use attested_token::ita::HeldToken;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use futures_util::StreamExt;
use serde_json::json;

/// What the proxy serves besides its evidence.
#[derive(Clone, Debug)]
pub struct ProxyOptions {
    /// The wire profile.
    pub profile: Profile,
    /// v1: add per-session evidence binding each handshake to every attestation.
    pub session_evidence: bool,
    /// The OpenAI-compatible backend's base URL.
    pub backend: String,
    /// The model to ask the backend for when the client names none.
    pub model: String,
    /// What each client is allowed (sessions at once, timeouts, attestations a session); the
    /// values are attested-noise's decisions, the proxy applies them to its sockets.
    pub limits: ServerLimits,
    /// The Noise static key to serve under (for clients that pin it); a fresh one when `None`.
    pub noise_key: Option<NoiseStaticKey>,
}

impl ProxyOptions {
    /// Options for `backend` under `profile`: model `mock`, no per-session evidence, default
    /// limits, a fresh Noise key.
    pub fn new(profile: Profile, backend: impl Into<String>) -> Self {
        Self {
            profile,
            session_evidence: false,
            backend: backend.into(),
            model: "mock".to_owned(),
            limits: ServerLimits::default(),
            noise_key: None,
        }
    }
}

/// The WebSocket read buffer of a session.
const WS_READ_BUFFER: usize = 4 << 10;
/// How long the backend may take to accept a connection.
const BACKEND_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The proxy's routes, with fresh Noise and binding keys whose REPORTDATA `source` quotes.
pub fn router(
    source: Arc<QuoteSource>,
    options: ProxyOptions,
) -> Result<Router, attested_noise::BoxError> {
    router_with_ita(source, options, None)
}

/// As [`router`]; with `ita`, every attestation also carries an ITA token for the quote.
pub fn router_with_ita(
    source: Arc<QuoteSource>,
    options: ProxyOptions,
    ita: Option<ItaClient>,
) -> Result<Router, attested_noise::BoxError> {
    if options.session_evidence && options.profile == Profile::Seed {
        return Err("session evidence needs the v1 profile".into());
    }
    let noise_key = options
        .noise_key
        .unwrap_or_else(|| NoiseStaticKey::generate(&mut rand::rng()));
    let binding_key = SigningKey::from_bytes(&zeroize::Zeroizing::new(rand::random()));
    let report_data = ServerIdentity::report_data(options.profile, &noise_key, &binding_key);
    let mrtd = hex::encode(source.mr_td()?);
    let quote = source.quote(&report_data)?;
    let ita = ita.map(|client| ItaTokens {
        client,
        quote: quote.clone(),
        held: Mutex::new(None),
    });
    let evidence = PlatformEvidence::from_quote(quote)
        .with_stated_measurements(Some(mrtd.clone()), json!({ "mrtd": mrtd.clone() }));
    let identity = Arc::new(
        ServerIdentity::new(
            Config::new(options.profile),
            noise_key,
            binding_key,
            evidence,
        )
        .with_limits(options.limits),
    );
    let state = Arc::new(AppState {
        identity,
        source: source.clone(),
        mrtd,
        session_evidence: options.session_evidence,
        ita,
        backend: options.backend.trim_end_matches('/').to_owned(),
        model: options.model,
        http: crate::tls::decrypted_hop_builder()?
            .connect_timeout(BACKEND_CONNECT_TIMEOUT)
            .build()?,
        quoting: tokio::sync::Semaphore::new(1),
    });
    Ok(Router::new()
        .route("/health", get(health))
        .route("/attestation", get(attestation))
        .route("/ws/noise", get(ws))
        .with_state(state)
        .merge(trust_routes(source)))
}

struct AppState {
    identity: Arc<ServerIdentity>,
    source: Arc<QuoteSource>,
    /// As the quotes state it (informative).
    mrtd: String,
    session_evidence: bool,
    ita: Option<ItaTokens>,
    backend: String,
    model: String,
    http: reqwest::Client,
    /// One quote in flight for the platform: configfs-tsm makes one report at a time, and a
    /// flood of `get_attestation` must queue here rather than take every blocking thread.
    quoting: tokio::sync::Semaphore,
}

/// The ITA token for the platform quote, renewed when it is about to expire (when to renew is
/// attested-token's [`HeldToken::fresh_at`]).
struct ItaTokens {
    client: ItaClient,
    quote: Vec<u8>,
    held: Mutex<Option<HeldToken>>,
}

impl ItaTokens {
    async fn current(&self) -> Result<String, ItaEvidenceError> {
        let now = UnixTime::now();
        let held = self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|held| held.fresh_at(now))
            .map(|held| held.token().to_owned());
        if let Some(token) = held {
            return Ok(token);
        }
        let held = self.client.attest(&self.quote).await?;
        let token = held.token().to_owned();
        *self.held.lock().unwrap_or_else(PoisonError::into_inner) = Some(held);
        Ok(token)
    }
}

async fn health(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "noise_pubkey": hex::encode(state.identity.noise_key().public_key()),
        "profile": state.identity.config().profile().name(),
    }))
}

async fn attestation(State(state): State<Arc<AppState>>) -> Json<serde_json::Value> {
    Json(json!({
        "noise_pubkey": hex::encode(state.identity.noise_key().public_key()),
        "binding_pubkey": hex::encode(state.identity.binding_public_key()),
        "mrtd": state.mrtd,
        "tee_type": tee_type(&state.source),
        "profile": state.identity.config().profile().name(),
    }))
}

async fn ws(State(state): State<Arc<AppState>>, upgrade: WebSocketUpgrade) -> Response {
    // Refused before the upgrade, in plain HTTP, so that a client knows to come back later.
    let Ok(permit) = state.identity.admit() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many sessions\n").into_response();
    };
    // One Noise message per WebSocket message: a larger frame is refused from its header.
    let limit = state.identity.limits().max_websocket_frame();
    // Small socket buffers: tungstenite's defaults (128 KiB to read, 128 KiB to write) were
    // most of an idle session's 142 KiB; a frame larger than the read buffer still reads, in
    // more steps.
    upgrade
        .max_frame_size(limit)
        .max_message_size(limit)
        .read_buffer_size(WS_READ_BUFFER)
        .write_buffer_size(0)
        .on_upgrade(move |socket| serve_session(socket, state, permit))
}

/// Closes without a reason text: what went wrong stays on this side.
async fn close(mut socket: WebSocket, code: u16) {
    let _ = socket
        .send(WsMessage::Close(Some(CloseFrame {
            code,
            reason: "".into(),
        })))
        .await;
}

const POLICY_VIOLATION: u16 = 1008;
/// The session has lasted its lifetime (RFC 6455 §7.4.1: the endpoint is going away).
const GOING_AWAY: u16 = 1001;
const INTERNAL_ERROR: u16 = 1011;

async fn send_frames(socket: &mut WebSocket, frames: Vec<Vec<u8>>) -> bool {
    for frame in frames {
        if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
            return false;
        }
    }
    true
}

async fn next_binary(socket: &mut WebSocket) -> Option<Result<Vec<u8>, ()>> {
    loop {
        return match socket.next().await? {
            Ok(WsMessage::Binary(bytes)) => Some(Ok(bytes.to_vec())),
            Ok(WsMessage::Ping(_) | WsMessage::Pong(_)) => continue,
            Ok(WsMessage::Close(_)) | Err(_) => None,
            Ok(WsMessage::Text(_)) => Some(Err(())),
        };
    }
}

/// The next binary frame, or `None` when none came within `timeout`.
async fn next_binary_within(
    socket: &mut WebSocket,
    timeout: Duration,
) -> Option<Result<Vec<u8>, ()>> {
    tokio::time::timeout(timeout, next_binary(socket))
        .await
        .ok()
        .flatten()
}

async fn serve_session(mut socket: WebSocket, state: Arc<AppState>, _permit: SessionPermit) {
    let limits = state.identity.limits().clone();
    let Ok(mut responder) = Responder::new(state.identity.clone(), &mut rand::rng()) else {
        return close(socket, INTERNAL_ERROR).await;
    };
    let Some(Ok(msg1)) = next_binary_within(&mut socket, limits.handshake_deadline()).await else {
        return close(socket, POLICY_VIOLATION).await;
    };
    if responder.read_first(&msg1).is_err() {
        return close(socket, POLICY_VIOLATION).await;
    }
    let Ok((msg2, mut session)) = responder.write_second() else {
        return close(socket, INTERNAL_ERROR).await;
    };
    if !send_frames(&mut socket, vec![msg2]).await {
        return;
    }
    let opened = tokio::time::Instant::now();
    loop {
        // Idle, or at the end of the session's lifetime: closed either way.
        let Some(within) = limits.next_frame_within(opened.elapsed()) else {
            return close(socket, GOING_AWAY).await;
        };
        let Some(frame) = next_binary_within(&mut socket, within).await else {
            if limits.next_frame_within(opened.elapsed()).is_none() {
                return close(socket, GOING_AWAY).await;
            }
            break;
        };
        let Ok(frame) = frame else {
            return close(socket, POLICY_VIOLATION).await;
        };
        let frames = match session.receive(&frame) {
            Ok(Received::Partial) => continue,
            Ok(Received::Reply(frames)) => Ok(frames),
            Ok(Received::AttestationRequested) => attest(&state, &mut session).await,
            Ok(Received::Chat(request)) => {
                match chat(&state, &mut session, &mut socket, &request).await {
                    Ok(true) => continue,
                    Ok(false) => return,
                    Err(()) => return close(socket, INTERNAL_ERROR).await,
                }
            }
            Ok(_) => continue,
            Err(_) => return close(socket, POLICY_VIOLATION).await,
        };
        let Ok(frames) = frames else {
            return close(socket, INTERNAL_ERROR).await;
        };
        if !send_frames(&mut socket, frames).await {
            return;
        }
    }
}

async fn attest(state: &AppState, session: &mut ServerSession) -> Result<Vec<Vec<u8>>, ()> {
    let session_quote = match session.session_report_data() {
        Some(report_data) if state.session_evidence => {
            Some(session_quote(state, *report_data).await?)
        }
        _ => None,
    };
    let frames = match &state.ita {
        Some(ita) => {
            let token = ita.current().await.map_err(|error| {
                eprintln!("no ITA token: {error}");
            })?;
            session.attestation_with_token(session_quote.as_deref(), &token)
        }
        None => session.attestation(session_quote.as_deref()),
    };
    frames.map_err(|_| ())
}

/// A quote over `report_data`, made on a blocking thread (configfs-tsm is file I/O that can
/// take tens of milliseconds) and one at a time for the platform.
async fn session_quote(state: &AppState, report_data: [u8; 64]) -> Result<Vec<u8>, ()> {
    let _turn = state.quoting.acquire().await.map_err(|_| ())?;
    let source = state.source.clone();
    tokio::task::spawn_blocking(move || source.quote(&report_data))
        .await
        .map_err(|_| ())?
        .map_err(|_| ())
}

/// Serves one chat request. `Ok(true)`: go on; `Ok(false)`: the socket is gone; `Err`: the
/// session cannot go on.
async fn chat(
    state: &AppState,
    session: &mut ServerSession,
    socket: &mut WebSocket,
    request: &ChatRequest,
) -> Result<bool, ()> {
    let stream = request.stream == Some(true) && state.identity.config().profile() == Profile::V1;
    let body = backend::completion_request(request, &state.model, stream);
    let url = format!("{}/v1/chat/completions", state.backend);
    // The core's answer deadline covers the whole answer, its body included (reqwest's
    // per-request timeout): a backend that stalls mid-answer ends it with an `error`.
    let deadline = state.identity.limits().answer_deadline();
    let response = match state
        .http
        .post(&url)
        .timeout(deadline)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(response) if response.status().is_success() => response,
        _ => {
            let frames = session.error("backend unavailable").map_err(|_| ())?;
            return Ok(send_frames(socket, frames).await);
        }
    };
    if !stream {
        let message = match crate::tls::read_capped(response, backend::MAX_BACKEND_ANSWER)
            .await
            .ok()
            .and_then(|body| backend::completion_answer(&body).ok())
        {
            Some(answer) => Message::ChatResponse(answer),
            None => Message::Error(attested_noise::message::ErrorMessage {
                error: "backend answer malformed".into(),
            }),
        };
        let frames = session.send(&message).map_err(|_| ())?;
        return Ok(send_frames(socket, frames).await);
    }
    let model = request.model.clone().unwrap_or_else(|| state.model.clone());
    let mut answer = StreamedAnswer::new(model);
    let mut bytes = response.bytes_stream();
    // attested-noise decides when the answer is whole: only after the backend's `[DONE]`.
    // Anything else (a broken connection, an oversized or non-UTF-8 line) ends it with the
    // core's `error`, never with a `chat_done`.
    'read: while let Some(Ok(piece)) = bytes.next().await {
        if answer.push(&piece).is_err() {
            break;
        }
        while let Some(event) = answer.next_event() {
            let message = match event {
                Ok(AnswerEvent::Chunk(chunk)) => Message::ChatChunk(chunk),
                Ok(AnswerEvent::Done(done)) => {
                    let frames = session.send(&Message::ChatDone(done)).map_err(|_| ())?;
                    return Ok(send_frames(socket, frames).await);
                }
                Err(_) => break 'read,
            };
            let frames = session.send(&message).map_err(|_| ())?;
            if !send_frames(socket, frames).await {
                return Ok(false);
            }
        }
    }
    // The stream ended or broke before `[DONE]`, or a line of it was refused.
    let frames = session.answer_interrupted().map_err(|_| ())?;
    Ok(send_frames(socket, frames).await)
}
