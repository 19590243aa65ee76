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

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::nitro_evidence::NitroSimSource;
use crate::tdx_evidence::{TdxEvidenceSource, trust_routes};
use attested_ohttp::bhttp::{Message, StatusCode as InnerStatus};
use attested_ohttp::{
    ChunkedRequestDecoder, ChunkedResponseContext, Dialect, Forward, Gateway, GatewayPolicy,
    Inbound, InnerRequestDecoder, KeyPair, KeyRing, MEDIA_TYPE_CHUNKED_RESPONSE, MEDIA_TYPE_KEYS,
    OuterResponse, Reply, RequestKind, Suite, TargetError, Validity, key_config_binding,
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
    with_outer_headers(
        (status, response.body).into_response(),
        response.content_type,
    )
}

/// The outer response's only headers: its media type and no caching by relays.
fn with_outer_headers(mut r: Response, content_type: Option<&'static str>) -> Response {
    if let Some(ct) = content_type {
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

/// The request to the target for an inner request head (its body is added by the caller).
fn target_request(st: &AppState, head: &Message) -> Result<reqwest::RequestBuilder, TargetError> {
    let control = head.control();
    let method = reqwest::Method::from_bytes(control.method().unwrap_or(b"GET"))
        .map_err(|_| TargetError::Unavailable)?;
    let path = String::from_utf8_lossy(control.path().unwrap_or(b"/")).into_owned();
    let mut request = st.http.request(
        method,
        format!("{}{}", st.target.trim_end_matches('/'), path),
    );
    for field in head.header().fields() {
        if forwardable(field.name()) {
            request = request.header(field.name(), field.value());
        }
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

/// Encapsulates a whole inner answer, or the inner status for a target error.
fn respond(reply: Reply, answer: Result<Message, TargetError>) -> Response {
    match reply.respond(answer, &mut rand::rng()) {
        Ok(o) => outer(o),
        Err(_) => bare(500),
    }
}

/// Refuses the inner request with the inner status `status`, inside the ciphertext.
fn refuse(reply: Reply, status: u16) -> Response {
    let status = InnerStatus::try_from(status).unwrap_or(InnerStatus::OK);
    respond(reply, Ok(Message::response(status)))
}

/// Encapsulates the target's answer: streamed chunk by chunk when the reply is chunked,
/// whole when it is one RFC 9458 message.
async fn deliver(reply: Reply, sent: Result<reqwest::Response, reqwest::Error>) -> Response {
    let response = match sent {
        Ok(response) => response,
        Err(e) => return respond(reply, Err(target_error(&e))),
    };
    let Ok(status) = InnerStatus::try_from(response.status().as_u16()) else {
        return respond(reply, Err(TargetError::Unavailable));
    };
    let fields: Vec<(Vec<u8>, Vec<u8>)> = response
        .headers()
        .iter()
        .filter(|(name, _)| forwardable(name.as_str().as_bytes()))
        .map(|(name, value)| (name.as_str().as_bytes().to_vec(), value.as_bytes().to_vec()))
        .collect();
    if !reply.streams() {
        let Ok(body) = response.bytes().await else {
            return respond(reply, Err(TargetError::Unavailable));
        };
        let mut inner = Message::response(status);
        for (name, value) in fields {
            inner.put_header(name, value);
        }
        inner.write_content(&body);
        return respond(reply, Ok(inner));
    }
    let started = reply.stream(
        status.code(),
        fields.iter().map(|(n, v)| (&n[..], &v[..])),
        &mut rand::rng(),
    );
    let Ok((first, sealer)) = started else {
        return bare(500);
    };
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
                // The client sees a response without its final chunk: truncated, not complete.
                Some(Err(e)) => Some((Err(std::io::Error::other(e)), None)),
                None => match sealer.finish(&mut out) {
                    Ok(()) => Some((Ok(out), None)),
                    Err(e) => Some((Err(std::io::Error::other(e)), None)),
                },
            }
        },
    );
    let body = futures_util::stream::once(async { Ok(first) }).chain(rest);
    with_outer_headers(
        Response::new(Body::from_stream(body)),
        Some(MEDIA_TYPE_CHUNKED_RESPONSE),
    )
}

async fn answer(st: &AppState, inbound: Inbound) -> Response {
    match inbound {
        Inbound::Answer(o) => outer(o),
        Inbound::Forward(fwd) => {
            let Forward { message, reply } = *fwd;
            let request = match target_request(st, &message) {
                Ok(request) => request,
                Err(e) => return respond(reply, Err(e)),
            };
            let sent = request.body(message.content().to_vec()).send().await;
            drop(message);
            deliver(reply, sent).await
        }
    }
}

/// The outer status for a chunked request that cannot be opened.
fn outer_status(e: &attested_ohttp::Error) -> u16 {
    match e {
        attested_ohttp::Error::LimitExceeded { .. } => 413,
        _ => 400,
    }
}

/// Content on its way to the target; an `Err` makes the target see an aborted request
/// rather than a complete one.
type ContentSender = tokio::sync::mpsc::Sender<Result<Vec<u8>, std::io::Error>>;

/// How a streamed chunked request ended, once its final chunk opened.
enum Ended {
    /// The inner request was well formed; answer with the target's response.
    Complete(ChunkedResponseContext),
    /// The inner request was refused with this inner status; answer inside the ciphertext.
    Refused(ChunkedResponseContext, u16),
}

/// A chunked request opened as it streams in: outer chunks, inner binary HTTP, content.
/// Holds at most one chunk and one body frame.
struct Upload<'a, S> {
    frames: S,
    outer: ChunkedRequestDecoder<'a>,
    inner: InnerRequestDecoder,
    plain: Vec<u8>,
    /// Set once the inner request is refused; the rest is only opened, not decoded.
    refused: Option<u16>,
}

impl<S> Upload<'_, S>
where
    S: futures_util::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    /// Opens the next body frame, appending the content it completes; `Ok(false)` at the end
    /// of the body, `Err` with the outer status when the request cannot be opened.
    async fn read_frame(&mut self, content: &mut Vec<u8>) -> Result<bool, u16> {
        match self.frames.next().await {
            None => Ok(false),
            Some(Err(_)) => Err(400),
            Some(Ok(frame)) => {
                self.outer
                    .push(&frame, &mut self.plain)
                    .map_err(|e| outer_status(&e))?;
                self.decode_inner(content);
                Ok(true)
            }
        }
    }

    fn decode_inner(&mut self, content: &mut Vec<u8>) {
        if self.refused.is_none() && self.inner.push(&self.plain, content).is_err() {
            self.refused = Some(400);
        }
        self.plain.clear();
    }

    /// The inner request head, once it has arrived and passed the gateway's policy; `None`
    /// when the inner request is refused (the status is in `refused`).
    async fn head(
        &mut self,
        gateway: &Gateway,
        content: &mut Vec<u8>,
    ) -> Result<Option<Message>, u16> {
        loop {
            if let Some(head) = self.inner.take_head() {
                return Ok(match gateway.admit(&head) {
                    Ok(()) => Some(head),
                    Err(status) => {
                        self.refused = Some(status);
                        None
                    }
                });
            }
            if self.refused.is_some() {
                return Ok(None);
            }
            if !self.read_frame(content).await? {
                self.refused = Some(400);
                return Ok(None);
            }
        }
    }

    /// Opens the rest of the request, sending its content to `to` (if any) as it comes.
    async fn pump(
        mut self,
        mut content: Vec<u8>,
        mut to: Option<ContentSender>,
    ) -> Result<Ended, u16> {
        loop {
            if self.refused.is_some() {
                abort(&mut to).await;
            }
            send_content(&mut to, core::mem::take(&mut content)).await;
            match self.read_frame(&mut content).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(status) => {
                    abort(&mut to).await;
                    return Err(status);
                }
            }
        }
        let Self {
            outer,
            mut inner,
            mut plain,
            mut refused,
            ..
        } = self;
        let context = match outer.finish(&mut plain) {
            Ok(context) => context,
            Err(e) => {
                abort(&mut to).await;
                return Err(outer_status(&e));
            }
        };
        if refused.is_none()
            && (inner.push(&plain, &mut content).is_err() || inner.finish().is_err())
        {
            refused = Some(400);
        }
        if let Some(status) = refused {
            abort(&mut to).await;
            return Ok(Ended::Refused(context, status));
        }
        send_content(&mut to, content).await;
        Ok(Ended::Complete(context))
    }
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
async fn chunked(st: &AppState, content_type: &str, body: Body) -> Response {
    let Ok(outer) = st.gateway.chunked_decoder(content_type, SystemTime::now()) else {
        return bare(415);
    };
    let mut upload = Upload {
        frames: body.into_data_stream(),
        outer,
        inner: st.gateway.inner_decoder(),
        plain: Vec::new(),
        refused: None,
    };
    let mut content = Vec::new();
    let head = match upload.head(&st.gateway, &mut content).await {
        Ok(head) => head,
        Err(status) => return bare(status),
    };
    // A refused request is opened to its end all the same, to answer inside the ciphertext.
    let request = match &head {
        Some(head) => target_request(st, head),
        None => Err(TargetError::Unavailable),
    };
    drop(head);
    let Ok(request) = request else {
        let ended = upload.pump(content, None).await;
        return match ended {
            Err(status) => bare(status),
            Ok(Ended::Refused(context, status)) => {
                refuse(st.gateway.chunked_reply(context), status)
            }
            Ok(Ended::Complete(context)) => respond(
                st.gateway.chunked_reply(context),
                Err(TargetError::Unavailable),
            ),
        };
    };
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    let body = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    });
    let (ended, sent) = tokio::join!(
        upload.pump(content, Some(sender)),
        request.body(reqwest::Body::wrap_stream(body)).send()
    );
    match ended {
        Err(status) => bare(status),
        Ok(Ended::Refused(context, status)) => refuse(st.gateway.chunked_reply(context), status),
        Ok(Ended::Complete(context)) => deliver(st.gateway.chunked_reply(context), sent).await,
    }
}

async fn gateway(State(st): State<Arc<AppState>>, headers: HeaderMap, body: Body) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let policy = st.gateway.policy();
    match (
        RequestKind::from_content_type(content_type),
        policy.chunked_dialect,
    ) {
        (Err(_), _) => bare(415),
        (Ok(RequestKind::Chunked), Dialect::Draft) => chunked(&st, content_type, body).await,
        // One HPKE message: buffered, within the size limit.
        _ => {
            let Ok(bytes) = axum::body::to_bytes(body, policy.max_request_len).await else {
                return bare(413);
            };
            let inbound =
                st.gateway
                    .inbound(content_type, &bytes, SystemTime::now(), &mut rand::rng());
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
