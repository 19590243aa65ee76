//! The attested Oblivious HTTP gateway of `ohttp-gateway`, in front of a transcription service.
//!
//! - `GET /ohttp-keys` and `GET /.well-known/ohttp-gateway`: the key configuration list.
//! - `GET /attestation`: a TDX quote whose REPORTDATA is SHA-512 of that list, or a Nitro
//!   document whose `public_key` is (see [`crate::nitro_evidence`]).
//! - `GET /sim/root`, `GET /collateral`: see [`crate::tdx_evidence::trust_routes`];
//!   `GET /nitro-sim/root`: see [`crate::nitro_evidence::trust_routes`].
//! - `POST /gateway` (and `POST /.well-known/ohttp-gateway`): one-shot requests, buffered
//!   within the size limit (one HPKE message), or chunked requests, streamed: each chunk is
//!   opened as it arrives, the inner binary HTTP request decoded incrementally, its body
//!   forwarded to the target as it comes, and the target's answer sealed chunk by chunk as it
//!   streams back. Memory stays at a few chunks whatever the upload size.
//!
//! - With `--azure-compat` ([`router_azure`] with rules), Microsoft's routes too:
//!   `POST /score` (a plain RFC 9458 request under `message/ohttp-chunked-req`, answered in
//!   [`attested_ohttp::azure::AnswerDialect::AzureRawBody`]: the raw target body in the chunk
//!   stream, the target's status and headers on the outer response) and `GET /discover`
//!   (the key list in hex). That answer shows the target's status and headers to every relay.
//!
//! Every decision is the sans-IO core's ([`attested_ohttp::Gateway`]): which requests are
//! admitted and where they go ([`attested_ohttp::gateway::Target`], turned into a URL here with the
//! `url` builder, never by joining strings), the streamed upload's state machine
//! ([`attested_ohttp::gateway::StreamedRequest`]), the limits and the statuses they map to, replay
//! refusal, and when keys rotate ([`attested_ohttp::KeyRing::rotate`]). This file is the IO:
//! sockets, the clock, the RNG, and re-quoting the key list whenever it changes.

use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, SystemTime};

use crate::nitro_evidence::NitroSimSource;
use crate::tdx_evidence::{tee_type, trust_routes};
use attested_ohttp::{
    Gateway, KeyRing, Suite, UnixTime, azure::AZURE_APIM_REQUEST_ID_HEADER,
    azure::AZURE_ATTESTATION_TOKEN_HEADER, azure::AZURE_ENGINE_TARGET_HEADER,
    azure::AZURE_ERROR_TEXT_MAX, azure::AZURE_REQUEST_ID_HEADER, azure::AzureInbound,
    azure::AzureInnerRules, azure::azure_copies_response_header, azure::azure_discover_body,
    azure::azure_request_id, azure::azure_streams_target_answer, chunked::Dialect,
    gateway::BufferedBody, gateway::Finished, gateway::Forward, gateway::GatewayPolicy,
    gateway::Inbound, gateway::MEDIA_TYPE_CHUNKED_RESPONSE, gateway::OuterResponse,
    gateway::ReadAs, gateway::Reply, gateway::ResponseContext, gateway::StreamedRequest,
    gateway::Target, gateway::TargetError, gateway::outer_fields, key_config_binding,
    keys::Rotation,
};
use attested_tdx::tsm::QuoteSource;
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
    /// The longest an upload may go without a byte (attested-ohttp's
    /// `GatewayPolicy::upload_idle_timeout`).
    pub upload_idle_timeout: Duration,
}

/// Where the gateway's attestation comes from.
pub enum GatewayEvidence {
    /// TDX quotes (simulated or hardware).
    Tdx(Arc<QuoteSource>),
    /// Simulated Nitro documents, one per request (they carry the client's nonce).
    NitroSim(Arc<NitroSimSource>),
}

impl From<Arc<QuoteSource>> for GatewayEvidence {
    fn from(source: Arc<QuoteSource>) -> Self {
        Self::Tdx(source)
    }
}

/// What the gateway serves now; replaced whole when the keys rotate.
struct Current {
    gateway: Gateway,
    key_list: Vec<u8>,
    attestation: serde_json::Value,
}

struct AppState {
    current: RwLock<Arc<Current>>,
    /// The key rotation, which also sets how long the key list may be cached.
    rotation: Rotation,
    nitro: Option<Arc<NitroSimSource>>,
    http: reqwest::Client,
    /// The target's base URL: scheme, host and port only.
    target: reqwest::Url,
    /// Microsoft's routes and how their inner requests resolve (`--azure-compat`).
    azure: Option<AzureInnerRules>,
}

impl AppState {
    fn current(&self) -> Arc<Current> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

fn outer(response: OuterResponse) -> Response {
    let status = StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    with_outer_headers(
        (status, response.body).into_response(),
        response.content_type,
    )
}

/// The outer response's headers, as the core decides them ([`outer_fields`]).
fn with_outer_headers(mut r: Response, content_type: Option<&'static str>) -> Response {
    for (name, value) in outer_fields(content_type) {
        r.headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    r
}

fn bare(status: u16) -> Response {
    outer(OuterResponse::bare(status))
}

async fn keys(State(st): State<Arc<AppState>>) -> Response {
    let mut r = st.current().key_list.clone().into_response();
    for (name, value) in st.rotation.key_list_fields() {
        if let Ok(value) = HeaderValue::try_from(value) {
            r.headers_mut().insert(name, value);
        }
    }
    r
}

async fn attestation(State(st): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let current = st.current();
    let Some(nitro) = &st.nitro else {
        return axum::Json(current.attestation.clone()).into_response();
    };
    match nitro.attestation_json(&current.key_list, query.as_deref(), SystemTime::now()) {
        Ok(json) => axum::Json(json).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    }
}

/// The request to the target for an admitted inner request (its body is added by the
/// caller). The URL is the configured base with only its path and query replaced.
fn target_request(st: &AppState, target: &Target) -> Result<reqwest::RequestBuilder, TargetError> {
    let method = reqwest::Method::from_bytes(target.method().as_bytes())
        .map_err(|_| TargetError::Unavailable)?;
    let mut url = st.target.clone();
    url.set_path(target.path());
    url.set_query(target.query());
    let mut request = st.http.request(method, url);
    for (name, value) in target.headers() {
        request = request.header(name, value);
    }
    Ok(request)
}

fn target_error(e: &reqwest::Error) -> TargetError {
    if e.is_timeout() {
        TargetError::Timeout
    } else {
        TargetError::Unavailable
    }
}

/// Encapsulates a target error as its inner status.
fn respond_error(reply: Reply, error: TargetError) -> Response {
    match reply.respond(Err(error), &mut rand::rng()) {
        Ok(o) => outer(o),
        Err(_) => bare(500),
    }
}

/// Encapsulates the target's answer: streamed chunk by chunk when the reply is chunked,
/// whole when it is one RFC 9458 message.
async fn deliver(reply: Reply, sent: Result<reqwest::Response, reqwest::Error>) -> Response {
    let response = match sent {
        Ok(response) => response,
        Err(e) => return respond_error(reply, target_error(&e)),
    };
    let status = response.status().as_u16();
    // The core drops hop-by-hop fields.
    let fields: Vec<(Vec<u8>, Vec<u8>)> = response
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str().as_bytes().to_vec(), value.as_bytes().to_vec()))
        .collect();
    let fields = fields.iter().map(|(n, v)| (&n[..], &v[..]));
    if !reply.streams() {
        let body = match crate::tls::read_capped(response, reply.max_answer_len()).await {
            Ok(body) => body,
            Err(crate::tls::BodyError::TooLarge(_)) => {
                return respond_error(reply, TargetError::TooLarge);
            }
            Err(_) => return respond_error(reply, TargetError::Unavailable),
        };
        return match reply.answer(status, fields, &body, &mut rand::rng()) {
            Ok(o) => outer(o),
            Err(_) => bare(500),
        };
    }
    let Ok((first, sealer)) = reply.stream(status, fields, &mut rand::rng()) else {
        return bare(500);
    };
    let body = sealed_answer(first, response, sealer);
    with_outer_headers(Response::new(body), Some(MEDIA_TYPE_CHUNKED_RESPONSE))
}

async fn answer(st: &AppState, inbound: Inbound) -> Response {
    match inbound {
        Inbound::Answer(o) => outer(o),
        Inbound::Forward(fwd) => {
            let Forward {
                target,
                content,
                reply,
            } = *fwd;
            let request = match target_request(st, &target) {
                Ok(request) => request,
                Err(e) => return respond_error(reply, e),
            };
            let sent = request.body(content).send().await;
            deliver(reply, sent).await
        }
    }
}

/// Content on its way to the target; an `Err` makes the target see an aborted request
/// rather than a complete one.
type ContentSender = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

/// Feeds body frames to the core's streamed request; `Ok(false)` at the end of the body.
async fn read_frame<S>(
    frames: &mut S,
    upload: &mut StreamedRequest<'_>,
    content: &mut Vec<u8>,
) -> Result<bool, OuterResponse>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    match tokio::time::timeout(upload.idle_timeout(), frames.next()).await {
        Err(_) => Err(upload.timed_out()),
        Ok(None) => Ok(false),
        Ok(Some(Err(_))) => Err(OuterResponse::upload_broken()),
        Ok(Some(Ok(frame))) => upload.push(&frame, content).map(|()| true),
    }
}

/// Opens the rest of the request, sending its content to `to` (if any) as it comes, and
/// aborting what went to the target if the core refuses the request.
async fn pump<S>(
    mut frames: S,
    mut upload: StreamedRequest<'_>,
    mut content: Vec<u8>,
    mut to: Option<ContentSender>,
) -> Result<Finished, OuterResponse>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    loop {
        if upload.refused().is_some() {
            abort(&mut to).await;
        }
        send_content(&mut to, core::mem::take(&mut content)).await;
        match read_frame(&mut frames, &mut upload, &mut content).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(refused) => {
                abort(&mut to).await;
                return Err(refused);
            }
        }
    }
    let finished = upload.finish(&mut content, &mut rand::rng());
    match &finished {
        Ok(Finished::Streamed(_)) => send_content(&mut to, content).await,
        _ => abort(&mut to).await,
    }
    finished
}

async fn send_content(to: &mut Option<ContentSender>, content: Vec<u8>) {
    if let Some(sender) = to.as_ref().filter(|_| !content.is_empty())
        && sender.send(Ok(content)).await.is_err()
    {
        // The target stopped reading; its answer (or error) says why.
        *to = None;
    }
}

async fn abort(to: &mut Option<ContentSender>) {
    if let Some(sender) = to.take() {
        let _ = sender
            .send(Err(std::io::Error::other("the OHTTP request was refused")))
            .await;
    }
}

/// A draft chunked request, streamed: the target gets the inner body as it is opened and
/// the client gets the target's answer as it arrives.
async fn chunked(st: &AppState, current: &Current, content_type: &str, body: Body) -> Response {
    let mut upload = match current.gateway.streamed(content_type, UnixTime::now()) {
        Ok(upload) => upload,
        Err(refused) => return outer(refused),
    };
    let mut frames = body.into_data_stream();
    let mut content = Vec::new();
    while upload.head_pending() {
        match read_frame(&mut frames, &mut upload, &mut content).await {
            Ok(true) => {}
            Ok(false) => break,
            Err(refused) => return outer(refused),
        }
    }
    let request = upload.take_target().map(|t| target_request(st, &t));
    let Some(Ok(request)) = request else {
        // Refused, or the head came only at the end: opened to its end all the same, to
        // answer inside the ciphertext.
        let target_failed = request.is_some();
        return match pump(frames, upload, content, None).await {
            Err(refused) => outer(refused),
            Ok(Finished::Inbound(inbound)) => answer(st, inbound).await,
            Ok(Finished::Streamed(reply)) if target_failed => {
                respond_error(reply, TargetError::Unavailable)
            }
            Ok(_) => bare(500),
        };
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let (finished, sent) = tokio::join!(
        pump(frames, upload, content, Some(sender)),
        request.body(reqwest::Body::wrap_stream(body)).send()
    );
    match finished {
        Err(refused) => outer(refused),
        Ok(Finished::Streamed(reply)) => deliver(reply, sent).await,
        Ok(Finished::Inbound(inbound)) => answer(st, inbound).await,
        Ok(_) => bare(500),
    }
}

async fn gateway(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let current = st.current();
    match current.gateway.read_as(content_type) {
        Err(refused) => outer(refused),
        Ok(ReadAs::Streamed) => chunked(&st, &current, content_type, body).await,
        // One HPKE message: buffered, within the core's size limit and idle timeout.
        Ok(_) => {
            let bytes = match read_buffered(body, current.gateway.buffered_body()).await {
                Ok(bytes) => bytes,
                Err(refused) => return outer(refused),
            };
            // Opened where it lies: the body's buffer becomes the decrypted request's.
            let inbound = current.gateway.inbound(
                content_type,
                bytes.into_bytes(),
                UnixTime::now(),
                &mut rand::rng(),
            );
            answer(&st, inbound).await
        }
    }
}

/// A whole body of one HPKE message; `Err` is the core's outer answer when it is too large,
/// stops for longer than the idle timeout, or breaks off.
async fn read_buffered(
    body: Body,
    mut buffered: BufferedBody,
) -> Result<BufferedBody, OuterResponse> {
    let mut frames = body.into_data_stream();
    loop {
        match tokio::time::timeout(buffered.idle_timeout(), frames.next()).await {
            Err(_) => return Err(buffered.timed_out()),
            Ok(None) => return Ok(buffered),
            Ok(Some(Err(_))) => return Err(OuterResponse::upload_broken()),
            Ok(Some(Ok(frame))) => buffered.push(&frame)?,
        }
    }
}

/// `GET /discover`: the key configuration list in hex, as the local-key mode of Microsoft's
/// server answers (`ohttp-server/src/lib.rs:324-331`).
async fn discover(State(st): State<Arc<AppState>>) -> Response {
    let body = azure_discover_body(&st.current().key_list);
    with_outer_headers(body.into_response(), None)
}

fn status_of(status: u16) -> StatusCode {
    StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// One of the core's whole Azure error answers, or a bare 500 if it could not be sealed.
fn azure_error(sealed: attested_ohttp::Result<OuterResponse>) -> Response {
    sealed.map_or_else(|_| bare(500), outer)
}

/// The first `max` bytes of a body, read without holding more.
async fn bounded_text(response: reqwest::Response, max: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut bytes = response.bytes_stream();
    while let Some(Ok(data)) = bytes.next().await {
        let room = max.saturating_sub(text.len());
        text.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        if text.len() >= max {
            break;
        }
    }
    text
}

/// Microsoft's answer to an admitted request: the target's status outside, its headers
/// (filtered by [`azure_copies_response_header`]) outside, its raw body sealed chunk by
/// chunk as it streams (`ohttp-server/src/lib.rs:274-308`); a failed target's status with
/// its error text sealed.
async fn azure_deliver(
    context: ResponseContext,
    chunk_len: usize,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Response {
    let response = match sent {
        Ok(response) => response,
        Err(e) => {
            return azure_error(context.azure_target_failed(target_error(&e), &mut rand::rng()));
        }
    };
    let status = response.status().as_u16();
    if !azure_streams_target_answer(status) {
        let text = bounded_text(response, AZURE_ERROR_TEXT_MAX).await;
        return azure_error(context.azure_target_error(status, &text, &mut rand::rng()));
    }
    let mut copied = HeaderMap::new();
    for (name, value) in response.headers() {
        if azure_copies_response_header(name.as_str()) {
            copied.append(name.clone(), value.clone());
        }
    }
    let Ok((first, sealer)) = context.into_azure_answer(chunk_len, &mut rand::rng()) else {
        return bare(500);
    };
    let body = sealed_answer(first, response, sealer);
    let mut r = Response::new(body);
    *r.status_mut() = status_of(status);
    *r.headers_mut() = copied;
    with_outer_headers(r, Some(MEDIA_TYPE_CHUNKED_RESPONSE))
}

/// The base64 quote to return in `x-attestation-token`, as Microsoft's server returns its
/// attestation token (`ohttp-server/src/lib.rs:170`, `278-283`): the TDX quote over the
/// current key list. Nitro documents are per request (they carry a nonce): none here.
fn attestation_token(current: &Current) -> Option<HeaderValue> {
    use base64::Engine as _;
    let quote = current
        .attestation
        .get("evidence")?
        .get("quote")?
        .as_str()?;
    let quote = hex::decode(quote).ok()?;
    HeaderValue::from_str(&base64::engine::general_purpose::STANDARD.encode(quote)).ok()
}

/// `POST /score`: a request of one of Microsoft's clients (`--azure-compat`).
async fn score(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let Some(rules) = st.azure.as_ref() else {
        return bare(404);
    };
    let request_id = azure_request_id(
        headers
            .get(AZURE_REQUEST_ID_HEADER)
            .map(HeaderValue::as_bytes),
        headers
            .get(AZURE_APIM_REQUEST_ID_HEADER)
            .map(HeaderValue::as_bytes),
        &mut rand::rng(),
    );
    let current = st.current();
    let policy = current.gateway.policy();
    let mut response = match read_buffered(body, current.gateway.buffered_body()).await {
        Err(refused) => outer(refused),
        Ok(bytes) => {
            let engine_target = headers
                .get(AZURE_ENGINE_TARGET_HEADER)
                .map(HeaderValue::as_bytes);
            let inbound = current.gateway.inbound_azure(
                bytes.into_bytes(),
                engine_target,
                rules,
                UnixTime::now(),
            );
            match inbound {
                AzureInbound::Answer(o) => outer(o),
                AzureInbound::Refuse { status, context } => {
                    azure_error(context.azure_refused(status, &mut rand::rng()))
                }
                AzureInbound::Forward(forward) => {
                    let forward = *forward;
                    match target_request(&st, &forward.target) {
                        Err(e) => {
                            azure_error(forward.context.azure_target_failed(e, &mut rand::rng()))
                        }
                        Ok(request) => {
                            let sent = request.body(forward.content).send().await;
                            azure_deliver(forward.context, policy.response_chunk_len, sent).await
                        }
                    }
                }
            }
        }
    };
    if let Ok(id) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(AZURE_REQUEST_ID_HEADER, id);
    }
    if headers.contains_key(AZURE_ATTESTATION_TOKEN_HEADER)
        && let Some(token) = attestation_token(&current)
    {
        response
            .headers_mut()
            .insert(AZURE_ATTESTATION_TOKEN_HEADER, token);
    }
    response
}

/// The evidence for a key list, and the per-request Nitro source if that is the platform.
enum Evidence {
    Tdx(Arc<QuoteSource>),
    NitroSim,
}

impl Evidence {
    /// The attestation document for `key_list`: a fresh quote over SHA-512 of the list.
    fn attest(
        &self,
        key_list: &[u8],
    ) -> Result<serde_json::Value, Box<dyn std::error::Error + Send + Sync>> {
        let evidence = match self {
            Evidence::Tdx(source) => serde_json::json!({
                "type": "tdx-quote",
                "tee_type": tee_type(source),
                "quote": hex::encode(source.quote(&key_config_binding(key_list))?),
            }),
            Evidence::NitroSim => serde_json::Value::Null,
        };
        Ok(serde_json::json!({ "evidence": evidence, "key_config_list": hex::encode(key_list) }))
    }
}

/// Rotates the keys when the core says so and re-quotes the list whenever it changes.
fn rotate(
    state: &AppState,
    evidence: &Evidence,
    rotation: &Rotation,
    suite: Suite,
    now: UnixTime,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let current = state.current();
    let mut ring = current.gateway.ring().clone();
    ring.rotate(now, rotation, suite, &mut rand::rng())?;
    let key_list = ring.encoded_list(now);
    if key_list == current.key_list {
        return Ok(());
    }
    let attestation = evidence.attest(&key_list)?;
    let next = Arc::new(Current {
        gateway: current.gateway.with_ring(ring),
        key_list,
        attestation,
    });
    *state
        .current
        .write()
        .unwrap_or_else(PoisonError::into_inner) = next;
    Ok(())
}

/// The gateway's routes, with a fresh key whose configuration list `source` quotes, rotated
/// on the default schedule.
pub fn router(
    source: impl Into<GatewayEvidence>,
    options: GatewayOptions,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let max_streamed = options.max_request;
    router_with(source, options, Rotation::default(), max_streamed)
}

/// The gateway's routes with key rotation on `rotation` (the keys are checked every minute,
/// or more often for short lifetimes) and chunked uploads of up to `max_streamed` bytes,
/// which stream in bounded memory (`options.max_request` bounds one-shot requests, which
/// are buffered). Must run inside a Tokio runtime.
pub fn router_with(
    source: impl Into<GatewayEvidence>,
    options: GatewayOptions,
    rotation: Rotation,
    max_streamed: u64,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    router_azure(source, options, rotation, max_streamed, None)
}

/// The target's base URL from `text`: `http(s)://host[:port]` with no path, query or
/// credentials (the inner request's admitted path and query replace the path; nothing of the
/// client's is ever joined to a string).
pub fn target_base(text: &str) -> Result<reqwest::Url, String> {
    let refused = || {
        format!(
            "--target must be http(s)://host[:port] with no path, query or credentials, not {text}"
        )
    };
    let target = reqwest::Url::parse(text).map_err(|_| refused())?;
    if !matches!(target.scheme(), "http" | "https")
        || target.host().is_none()
        || target.path() != "/"
        || target.query().is_some()
        || !target.username().is_empty()
        || target.password().is_some()
    {
        return Err(refused());
    }
    Ok(target)
}

/// [`router_with`], and with `azure` Microsoft's routes `POST /score` and `GET /discover`,
/// whose inner requests resolve by those rules before the ordinary admission.
pub fn router_azure(
    source: impl Into<GatewayEvidence>,
    options: GatewayOptions,
    rotation: Rotation,
    max_streamed: u64,
    azure: Option<AzureInnerRules>,
) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let now = UnixTime::now();
    let target = target_base(&options.target)?;
    let mut ring = KeyRing::new();
    ring.rotate(now, &rotation, options.suite, &mut rand::rng())?;
    let key_list = ring.encoded_list(now);
    let (evidence, nitro, trust) = match source.into() {
        GatewayEvidence::Tdx(source) => (Evidence::Tdx(source.clone()), None, trust_routes(source)),
        GatewayEvidence::NitroSim(source) => (
            Evidence::NitroSim,
            Some(source.clone()),
            crate::nitro_evidence::trust_routes(&source),
        ),
    };
    let attested = evidence.attest(&key_list)?;
    let max_request = usize::try_from(options.max_request)?;
    let policy = GatewayPolicy {
        max_request_len: max_request,
        chunk_limits: attested_ohttp::chunked::ChunkLimits {
            max_chunk_len: 1 << 20,
            max_total_len: max_streamed,
            ..attested_ohttp::chunked::ChunkLimits::default()
        },
        chunked_dialect: options.chunked_dialect,
        allowed_targets: options.allowed,
        inner_limits: attested_ohttp::message::InnerLimits {
            max_content_len: max_streamed.max(options.max_request),
            ..attested_ohttp::message::InnerLimits::default()
        },
        upload_idle_timeout: options.upload_idle_timeout,
        ..GatewayPolicy::default()
    };
    let state = Arc::new(AppState {
        current: RwLock::new(Arc::new(Current {
            gateway: Gateway::new(ring, policy),
            key_list,
            attestation: attested,
        })),
        nitro,
        rotation,
        http: crate::tls::decrypted_hop_builder()?
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(300))
            .build()?,
        target,
        azure,
    });
    let azure_routes = state.azure.is_some();
    let period = (rotation.overlap / 8).clamp(Duration::from_millis(100), Duration::from_secs(60));
    let rotating = Arc::downgrade(&state);
    let suite = options.suite;
    let evidence = Arc::new(evidence);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tick.tick().await;
            let Some(state) = rotating.upgrade() else {
                return;
            };
            // Quoting may block (configfs-tsm): off the async workers.
            let evidence = evidence.clone();
            let result = tokio::task::spawn_blocking(move || {
                rotate(&state, &evidence, &rotation, suite, UnixTime::now())
            })
            .await;
            match result {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("ohttp-gateway: key rotation failed: {e}"),
                Err(e) => eprintln!("ohttp-gateway: key rotation failed: {e}"),
            }
        }
    });
    let max_body = max_request.max(usize::try_from(max_streamed).unwrap_or(usize::MAX));
    let mut routes = Router::new();
    if azure_routes {
        routes = routes
            .route(
                attested_ohttp::azure::AZURE_SCORE_PATH,
                axum::routing::post(score),
            )
            .route(attested_ohttp::azure::AZURE_DISCOVER_PATH, get(discover));
    }
    Ok(routes
        .route("/ohttp-keys", get(keys))
        .route("/.well-known/ohttp-gateway", get(keys).post(gateway))
        .route("/attestation", get(attestation))
        .route("/gateway", axum::routing::post(gateway))
        .layer(axum::extract::DefaultBodyLimit::max(
            max_body.saturating_add(1 << 20),
        ))
        .with_state(state)
        .merge(trust))
}

/// What seals a streamed answer: our chunked response, or the Azure dialect's raw-body chunks.
trait AnswerSealer: Send + 'static {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> attested_ohttp::Result<()>;
    fn finish(self, out: &mut Vec<u8>) -> attested_ohttp::Result<()>;
}

impl AnswerSealer for attested_ohttp::gateway::ResponseStream {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> attested_ohttp::Result<()> {
        attested_ohttp::gateway::ResponseStream::push(self, data, out)
    }
    fn finish(self, out: &mut Vec<u8>) -> attested_ohttp::Result<()> {
        attested_ohttp::gateway::ResponseStream::finish(self, out)
    }
}

impl AnswerSealer for attested_ohttp::azure::AzureBodySealer {
    fn push(&mut self, data: &[u8], out: &mut Vec<u8>) -> attested_ohttp::Result<()> {
        attested_ohttp::azure::AzureBodySealer::push(self, data, out)
    }
    fn finish(self, out: &mut Vec<u8>) -> attested_ohttp::Result<()> {
        attested_ohttp::azure::AzureBodySealer::finish(self, out)
    }
}

/// The body of a streamed answer: `first` (the sealed head), then the target's body sealed
/// piece by piece as it arrives, then the final chunk. A target stream that breaks ends the
/// body with an error, so the client sees an answer without its final chunk: cut, never
/// complete.
fn sealed_answer(first: Vec<u8>, response: reqwest::Response, sealer: impl AnswerSealer) -> Body {
    let rest = futures_util::stream::unfold(
        Some((response.bytes_stream(), sealer)),
        |state| async move {
            let (mut bytes, mut sealer) = state?;
            let mut out = Vec::new();
            match bytes.next().await {
                Some(Ok(data)) => match sealer.push(&data, &mut out) {
                    Ok(()) => Some((Ok(out), Some((bytes, sealer)))),
                    Err(e) => Some((Err(std::io::Error::other(e)), None)),
                },
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
                None => match sealer.finish(&mut out) {
                    Ok(()) => Some((Ok(out), None)),
                    Err(e) => Some((Err(std::io::Error::other(e)), None)),
                },
            }
        },
    );
    Body::from_stream(futures_util::stream::once(async { Ok(first) }).chain(rest))
}
