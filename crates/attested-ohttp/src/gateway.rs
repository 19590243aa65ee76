//! The gateway's HTTP-facing core, without IO: media types, size limits, target allow-list,
//! and the rule that nothing about the inner exchange shows on the outer response.
//!
//! The outer response is either `200` with an encapsulated body, or a bare status with an
//! empty body when the request cannot be decapsulated at all. The target's status, headers
//! and errors travel inside the ciphertext.

pub use crate::key_ring::ResponseContext;
pub use crate::target::{Target, forwardable_field};

use std::borrow::Cow;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use attested_types::UnixTime;

use hpke::rand_core::CryptoRng;

use crate::azure::{AzureForward, AzureInbound, AzureInnerRules};
use crate::chunked::{
    ChunkLimits, ChunkSealer, ChunkedRequestDecoder, ChunkedResponseContext, Dialect,
};
use crate::error::{Error, Result};
use crate::key_ring::KeyRing;
use crate::message::{
    InnerLimits, InnerRequestDecoder, encode_content_chunk, encode_content_end,
    encode_response_head,
};
pub use crate::replay::{Replay, ReplayLimits, ReplayWindow};
use crate::suite::Kem;
use crate::target::Admission;

/// `application/ohttp-keys`: a key configuration list.
pub const MEDIA_TYPE_KEYS: &str = "application/ohttp-keys";
/// `message/ohttp-req`: an RFC 9458 request.
pub const MEDIA_TYPE_REQUEST: &str = "message/ohttp-req";
/// `message/ohttp-res`: an RFC 9458 response.
pub const MEDIA_TYPE_RESPONSE: &str = "message/ohttp-res";
/// `message/ohttp-chunked-req`: a chunked request (or, in the Azure dialect, a plain one).
pub const MEDIA_TYPE_CHUNKED_REQUEST: &str = "message/ohttp-chunked-req";
/// `message/ohttp-chunked-res`: a chunked response.
pub const MEDIA_TYPE_CHUNKED_RESPONSE: &str = "message/ohttp-chunked-res";
/// `application/problem+json` (RFC 9457): the media type of a key problem (RFC 9458 §5.3).
pub const MEDIA_TYPE_PROBLEM: &str = "application/problem+json";
/// The RFC 9458 §5.3 problem type: the request's key configuration is unknown or expired;
/// the client should fetch the key configuration (and its evidence) again.
pub const PROBLEM_TYPE_OHTTP_KEY: &str =
    "https://iana.org/assignments/http-problem-types#ohttp-key";
/// The RFC 9458 §6.5.2 problem type: the inner request's `Date` is outside the range the
/// gateway accepts; the inner response carries the gateway's own `Date`.
pub const PROBLEM_TYPE_DATE: &str = "https://iana.org/assignments/http-problem-types#date";

/// Why the gateway refused an inner request it could open: the answer travels inside the
/// ciphertext ([`Reply::refuse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// A bodiless inner status: `400` malformed, `403` a target not on the allow-list, `413`
    /// over a limit.
    Status(u16),
    /// The one inner `Date` is outside the replay window, or not an HTTP date (RFC 9458
    /// §6.5.2): inner `400` with the [`PROBLEM_TYPE_DATE`] problem and `Date: gateway_time`,
    /// so that a client whose clock is off can retry, freshly encapsulated, with the
    /// gateway's time.
    Date {
        /// The gateway's `now` when it refused the request.
        gateway_time: UnixTime,
    },
}

impl Refusal {
    /// The inner status the refusal answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::Status(status) => *status,
            Self::Date { .. } => 400,
        }
    }

    /// The inner response that says it.
    fn message(&self) -> bhttp::Message {
        match self {
            Self::Status(status) => status_message(*status),
            Self::Date { gateway_time } => {
                let mut message = status_message(400);
                let date = crate::message::http_date(*gateway_time);
                message.put_header("date", date.as_bytes());
                message.put_header("content-type", MEDIA_TYPE_PROBLEM);
                let body = serde_json::json!({
                    "type": PROBLEM_TYPE_DATE,
                    "title": "date field in request outside of acceptable range",
                });
                message.write_content(body.to_string());
                message
            }
        }
    }
}

impl From<u16> for Refusal {
    fn from(status: u16) -> Self {
        Self::Status(status)
    }
}

/// What a request's media type says it is. Parameters are not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RequestKind {
    /// `message/ohttp-req`.
    OneShot,
    /// `message/ohttp-chunked-req`.
    Chunked,
}

impl RequestKind {
    /// Classifies a `Content-Type` value strictly: exact type, case-insensitive, no parameters.
    pub fn from_content_type(content_type: &str) -> Result<Self> {
        let t = content_type.trim();
        if t.eq_ignore_ascii_case(MEDIA_TYPE_REQUEST) {
            Ok(RequestKind::OneShot)
        } else if t.eq_ignore_ascii_case(MEDIA_TYPE_CHUNKED_REQUEST) {
            Ok(RequestKind::Chunked)
        } else {
            Err(Error::MediaType {
                expected: "message/ohttp-req or message/ohttp-chunked-req",
            })
        }
    }
}

/// How the body of a request is read ([`Gateway::read_as`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReadAs {
    /// Frame by frame through [`Gateway::streamed`]: a draft chunked request, whose content
    /// goes to the target as it is opened.
    Streamed,
    /// Whole, into a [`BufferedBody`], then [`Gateway::inbound`]: one HPKE message.
    Buffered,
}

/// The body of a request that is one HPKE message (a one-shot request, Azure's requests),
/// read frame by frame under the policy's size limit and upload idle timeout; the outer
/// answer to each way the upload can fail is decided here.
#[derive(Debug)]
pub struct BufferedBody {
    max_len: usize,
    idle_timeout: Duration,
    bytes: Vec<u8>,
}

impl BufferedBody {
    /// Appends a body frame; `Err` is the outer `413` once the body would pass the policy's
    /// `max_request_len` (what was held is freed; read no more).
    pub fn push(&mut self, frame: &[u8]) -> core::result::Result<(), OuterResponse> {
        if self.bytes.len().saturating_add(frame.len()) > self.max_len {
            self.bytes = Vec::new();
            return Err(OuterResponse::bare(413));
        }
        self.bytes.extend_from_slice(frame);
        Ok(())
    }

    /// How long to wait for the next body frame: the policy's `upload_idle_timeout`.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The outer answer when no frame came within [`idle_timeout`](Self::idle_timeout), as
    /// for a streamed upload: [`OuterResponse::upload_timed_out`].
    pub fn timed_out(self) -> OuterResponse {
        OuterResponse::upload_timed_out()
    }

    /// The whole body, once the last frame has been pushed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The whole body, to hand to [`Gateway::inbound`] or [`Gateway::inbound_azure`], which
    /// open it where it lies.
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

/// The gateway's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GatewayPolicy {
    /// The largest one-shot encapsulated request accepted.
    pub max_request_len: usize,
    /// Limits on chunked requests.
    pub chunk_limits: ChunkLimits,
    /// How `message/ohttp-chunked-req` is framed.
    pub chunked_dialect: Dialect,
    /// Chunk size for chunked responses.
    pub response_chunk_len: usize,
    /// Pad inner responses with zeros to a multiple of this many bytes (RFC 9292 §3.8);
    /// `0` or `1` means no padding.
    pub pad_responses_to: usize,
    /// Target authorities (`host` or `host:port`) requests may go to; empty allows none.
    pub allowed_targets: Vec<String>,
    /// The authority of an inner request that names none (neither in its control data nor
    /// in `Host`); it must still be allowed. `None` refuses such requests.
    pub default_authority: Option<String>,
    /// The path of an inner request whose path is empty. `None` refuses such requests.
    pub default_path: Option<String>,
    /// Limits on every inner request (head, field count, content); the content limit of a
    /// one-shot request is also bounded by `max_request_len`, of a chunked one by
    /// `chunk_limits.max_total_len`.
    pub inner_limits: InnerLimits,
    /// Replay protection (RFC 9458 §6.5).
    pub replay: ReplayLimits,
    /// The largest target answer sealed whole as one RFC 9458 message (a one-shot request's):
    /// the caller reads the target's body up to [`Reply::max_answer_len`], and a longer
    /// answer becomes an inner 502. Streamed (chunked) answers are sealed piece by piece and
    /// never held.
    pub max_response_len: usize,
    /// The longest an upload (a one-shot body or a streamed request) may go without a byte
    /// from the client: the caller waits at most this for the next piece of the body, and
    /// then answers [`Gateway::upload_timed_out`] (and aborts what went to the target).
    /// Without it, a client that sends part of a body and stops holds its connection, and a
    /// streamed request's target connection, for as long as it likes.
    pub upload_idle_timeout: Duration,
}

impl Default for GatewayPolicy {
    fn default() -> Self {
        Self {
            max_request_len: 1 << 20,
            chunk_limits: ChunkLimits::default(),
            chunked_dialect: Dialect::Draft,
            response_chunk_len: 16 * 1024,
            pad_responses_to: 0,
            allowed_targets: Vec::new(),
            default_authority: None,
            default_path: None,
            inner_limits: InnerLimits::default(),
            replay: ReplayLimits::default(),
            max_response_len: 8 << 20,
            upload_idle_timeout: Duration::from_secs(30),
        }
    }
}

/// The outer `Cache-Control` of every gateway answer: an encapsulated answer belongs to one
/// client's one request, so no relay or shared cache may store it or serve it again.
pub const OUTER_CACHE_CONTROL: &str = "no-store";

/// The header fields of an outer answer whose body has media type `content_type` (none for
/// an empty body): the media type and `Cache-Control:` [`OUTER_CACHE_CONTROL`], and nothing
/// else: the target's fields travel inside the ciphertext. (The Azure dialect adds the
/// target's copied fields, [`azure_copies_response_header`](crate::azure::azure_copies_response_header).)
pub fn outer_fields(
    content_type: Option<&'static str>,
) -> impl Iterator<Item = (&'static str, &'static str)> {
    content_type
        .map(|media_type| ("content-type", media_type))
        .into_iter()
        .chain([("cache-control", OUTER_CACHE_CONTROL)])
}

/// The outer HTTP response: all a relay or network observer sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OuterResponse {
    /// The outer status.
    pub status: u16,
    /// The outer `Content-Type`, if there is a body.
    pub content_type: Option<&'static str>,
    /// The outer body: ciphertext, or empty.
    pub body: Vec<u8>,
}

impl OuterResponse {
    /// A bare status with an empty body.
    pub fn bare(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            body: Vec::new(),
        }
    }

    /// RFC 9458 §5.3: `400` with the `ohttp-key` problem type, which tells the client to
    /// fetch the key configuration again. Says nothing else about the request.
    pub fn key_problem() -> Self {
        let body = serde_json::json!({
            "type": PROBLEM_TYPE_OHTTP_KEY,
            "title": "key identifier unknown or expired",
        });
        Self {
            status: 400,
            content_type: Some(MEDIA_TYPE_PROBLEM),
            body: body.to_string().into_bytes(),
        }
    }

    /// The outer answer to a request that cannot be opened: the key problem for an unknown,
    /// expired or not yet active key, `413` for a request over a limit, `400` otherwise
    /// (RFC 9458 §5.2: no detail about why decapsulation failed).
    pub fn refusal(error: &Error) -> Self {
        match error {
            Error::UnknownKeyId(_) | Error::KeyExpired { .. } | Error::KeyNotYetActive { .. } => {
                Self::key_problem()
            }
            Error::LimitExceeded { .. } => Self::bare(413),
            _ => Self::bare(400),
        }
    }

    /// The outer answer to an upload that stopped for longer than the policy's
    /// `upload_idle_timeout`: a bare `408` (the request was never opened, so there is nothing
    /// to answer inside the ciphertext).
    pub fn upload_timed_out() -> Self {
        Self::bare(408)
    }

    /// The outer answer to a body that broke off (the client's transport failed mid-body): a
    /// bare `400`.
    pub fn upload_broken() -> Self {
        Self::bare(400)
    }

    /// The outer header fields to send with it ([`outer_fields`]).
    pub fn fields(&self) -> impl Iterator<Item = (&'static str, &'static str)> {
        outer_fields(self.content_type)
    }

    /// Whether this is the RFC 9458 §5.3 key problem.
    pub fn is_key_problem(&self) -> bool {
        self.content_type == Some(MEDIA_TYPE_PROBLEM)
    }
}

/// The inner status for an inner request the decoder refused: 413 over a limit, else 400.
fn inner_status(error: &Error) -> u16 {
    match error {
        Error::LimitExceeded { .. } => 413,
        _ => 400,
    }
}

/// Why the target could not answer; the client sees only the inner status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TargetError {
    /// The target could not be reached or failed (inner 502).
    Unavailable,
    /// The target did not answer in time (inner 504).
    Timeout,
    /// The target's answer is longer than [`Reply::max_answer_len`] (inner 502).
    TooLarge,
}

/// A decapsulated request that passed the policy: send `content` to `target`, then answer
/// with `reply`.
pub struct Forward {
    /// Where the request goes, already admitted.
    pub target: Target,
    /// The inner request's content.
    pub content: Vec<u8>,
    /// How to answer it.
    pub reply: Reply,
}

impl core::fmt::Debug for Forward {
    /// The inner request is the client's secret: it is never printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Forward")
            .field("reply", &self.reply)
            .finish_non_exhaustive()
    }
}

/// What to do with an inbound one-shot request.
#[derive(Debug)]
pub enum Inbound {
    /// Send the inner request to its target.
    Forward(Box<Forward>),
    /// Answer at once (refused by policy, bad media type, undecryptable).
    Answer(OuterResponse),
}

/// How to encapsulate the answer to one request.
#[derive(Debug)]
pub struct Reply {
    context: ReplyContext,
    pad_to: usize,
    chunk_len: usize,
    max_answer_len: usize,
}

#[derive(Debug)]
enum ReplyContext {
    OneShot(ResponseContext),
    AzureChunked(ResponseContext),
    Chunked(ChunkedResponseContext),
}

impl Reply {
    /// Encapsulates the target's answer as an inner response with `status`, the forwardable
    /// ones of `fields` (hop-by-hop fields are dropped) and `content`.
    /// Content longer than [`Reply::max_answer_len`] is refused with an inner 502
    /// ([`TargetError::TooLarge`]).
    pub fn answer<'f>(
        self,
        status: u16,
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        content: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        if content.len() > self.max_answer_len {
            return self.respond(Err(TargetError::TooLarge), rng);
        }
        let status = bhttp::StatusCode::try_from(status)
            .map_err(|_| Error::Bhttp("not a final status".into()))?;
        let mut message = bhttp::Message::response(status);
        for (name, value) in fields {
            if forwardable_field(name) {
                message.put_header(name, value);
            }
        }
        message.write_content(content);
        self.respond(Ok(message), rng)
    }

    /// Refuses the request inside the ciphertext (a bodiless inner status, or the §6.5.2
    /// date problem); a bare outer `500` if even that fails.
    pub fn refuse(
        self,
        refusal: impl Into<Refusal>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> OuterResponse {
        self.respond(Ok(refusal.into().message()), rng)
            .unwrap_or_else(|_| OuterResponse::bare(500))
    }

    /// Encapsulates the target's answer (or an inner error status) as the outer response.
    pub fn respond(
        self,
        answer: core::result::Result<bhttp::Message, TargetError>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        let message = answer.unwrap_or_else(|e| {
            status_message(match e {
                TargetError::Unavailable | TargetError::TooLarge => 502,
                TargetError::Timeout => 504,
            })
        });
        let mut inner = Vec::new();
        message
            .write_bhttp(bhttp::Mode::KnownLength, &mut inner)
            .map_err(|e| Error::Bhttp(e.to_string()))?;
        if self.pad_to > 1 {
            let rem = inner.len() % self.pad_to;
            if rem != 0 {
                inner.resize(inner.len() + self.pad_to - rem, 0);
            }
        }
        let (content_type, body) = match self.context {
            ReplyContext::OneShot(ctx) => (MEDIA_TYPE_RESPONSE, ctx.encapsulate(&inner, rng)?),
            ReplyContext::AzureChunked(ctx) => {
                let (mut out, sealer) = ctx.into_azure_chunked(rng)?;
                seal_in_chunks(sealer, &inner, self.chunk_len, &mut out)?;
                (MEDIA_TYPE_CHUNKED_RESPONSE, out)
            }
            ReplyContext::Chunked(ctx) => {
                let (mut out, sealer) = ctx.start(rng)?;
                seal_in_chunks(sealer, &inner, self.chunk_len, &mut out)?;
                (MEDIA_TYPE_CHUNKED_RESPONSE, out)
            }
        };
        Ok(OuterResponse {
            status: 200,
            content_type: Some(content_type),
            body,
        })
    }
}

impl Reply {
    /// Whether the answer can stream ([`stream`](Self::stream)): chunked responses can,
    /// one-shot ones are a single HPKE message.
    pub fn streams(&self) -> bool {
        !matches!(self.context, ReplyContext::OneShot(_))
    }

    /// The most content [`answer`](Self::answer) seals (the policy's `max_response_len`):
    /// read the target's body up to this many bytes, and answer
    /// [`TargetError::TooLarge`] past it rather than hold more.
    pub fn max_answer_len(&self) -> usize {
        self.max_answer_len
    }

    /// Starts streaming the target's answer as an indeterminate-length inner response with
    /// `status` and the forwardable ones of `fields`. Returns the outer body's first bytes (response nonce and the
    /// sealed head) and the stream for the content.
    pub fn stream<'f>(
        self,
        status: u16,
        fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Vec<u8>, ResponseStream)> {
        let (mut out, mut sealer) = match self.context {
            ReplyContext::OneShot(_) => {
                return Err(Error::State("a one-shot response cannot stream"));
            }
            ReplyContext::AzureChunked(ctx) => ctx.into_azure_chunked(rng)?,
            ReplyContext::Chunked(ctx) => ctx.start(rng)?,
        };
        let mut head = Vec::new();
        encode_response_head(
            status,
            fields
                .into_iter()
                .filter(|(name, _)| forwardable_field(name)),
            &mut head,
        );
        sealer.seal_chunk(&head, &mut out)?;
        let stream = ResponseStream {
            sealer,
            chunk_len: self.chunk_len.max(1),
            pad_to: self.pad_to,
            written: head.len(),
            plaintext: Vec::new(),
        };
        Ok((out, stream))
    }
}

/// The content of a streamed inner response, sealed chunk by chunk.
pub struct ResponseStream {
    sealer: ChunkSealer,
    chunk_len: usize,
    pad_to: usize,
    written: usize,
    plaintext: Vec<u8>,
}

impl core::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("chunk_len", &self.chunk_len)
            .finish_non_exhaustive()
    }
}

impl ResponseStream {
    /// Seals `content` as content chunks of at most the policy's chunk length, appended to
    /// `out`.
    pub fn push(&mut self, content: &[u8], out: &mut Vec<u8>) -> Result<()> {
        for piece in content.chunks(self.chunk_len) {
            self.plaintext.clear();
            encode_content_chunk(piece, &mut self.plaintext);
            self.written = self.written.saturating_add(self.plaintext.len());
            self.sealer.seal_chunk(&self.plaintext, out)?;
        }
        Ok(())
    }

    /// Ends the content and seals the final chunk (with padding, if the policy asks for it).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        self.plaintext.clear();
        encode_content_end(&mut self.plaintext);
        if self.pad_to > 1 {
            let total = self.written.saturating_add(self.plaintext.len());
            let rem = total % self.pad_to;
            if rem != 0 {
                let padded = self.plaintext.len() + self.pad_to - rem;
                self.plaintext.resize(padded, 0);
            }
        }
        self.sealer.seal_final(&self.plaintext, out)
    }
}

/// Seals `body` in chunks of `chunk_len` bytes, the last one final.
pub fn seal_in_chunks(
    mut sealer: ChunkSealer,
    body: &[u8],
    chunk_len: usize,
    out: &mut Vec<u8>,
) -> Result<()> {
    let mut rest = body;
    while rest.len() > chunk_len.max(1) {
        let (head, tail) = rest.split_at(chunk_len.max(1));
        sealer.seal_chunk(head, out)?;
        rest = tail;
    }
    sealer.seal_final(rest, out)
}

/// A bodiless inner response with `status`.
fn status_message(status: u16) -> bhttp::Message {
    bhttp::Message::response(bhttp::StatusCode::try_from(status).unwrap_or(bhttp::StatusCode::OK))
}

/// The gateway core: a key ring, a policy, and the requests seen inside the replay window.
///
/// Clones share the replay window; [`with_ring`](Self::with_ring) swaps in a rotated ring
/// and keeps it.
#[derive(Debug, Clone)]
pub struct Gateway {
    ring: KeyRing,
    policy: GatewayPolicy,
    replay: Arc<Mutex<ReplayWindow>>,
}

impl Gateway {
    /// A gateway.
    pub fn new(ring: KeyRing, policy: GatewayPolicy) -> Self {
        let replay = Arc::new(Mutex::new(ReplayWindow::new(policy.replay)));
        Self {
            ring,
            policy,
            replay,
        }
    }

    /// The same gateway over another key ring (after a rotation), sharing the replay window.
    pub fn with_ring(&self, ring: KeyRing) -> Self {
        Self {
            ring,
            policy: self.policy.clone(),
            replay: self.replay.clone(),
        }
    }

    /// The key ring.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The outer answer to an upload that stopped for longer than the policy's
    /// `upload_idle_timeout`: [`OuterResponse::upload_timed_out`].
    pub fn upload_timed_out(&self) -> OuterResponse {
        OuterResponse::upload_timed_out()
    }

    /// How to read the body of a request posted as `content_type`: a draft chunked request
    /// streams (when the policy's dialect is the draft's), anything else this gateway takes
    /// is one HPKE message, read whole. `Err` is the outer `415` for any other media type.
    pub fn read_as(&self, content_type: &str) -> core::result::Result<ReadAs, OuterResponse> {
        match (
            RequestKind::from_content_type(content_type),
            self.policy.chunked_dialect,
        ) {
            (Err(_), _) => Err(OuterResponse::bare(415)),
            (Ok(RequestKind::Chunked), Dialect::Draft) => Ok(ReadAs::Streamed),
            (Ok(_), _) => Ok(ReadAs::Buffered),
        }
    }

    /// An empty body of one HPKE message, bounded by the policy, to fill and hand to
    /// [`inbound`](Self::inbound) or [`inbound_azure`](Self::inbound_azure).
    pub fn buffered_body(&self) -> BufferedBody {
        BufferedBody {
            max_len: self.policy.max_request_len,
            idle_timeout: self.policy.upload_idle_timeout,
            bytes: Vec::new(),
        }
    }

    /// The policy.
    pub fn policy(&self) -> &GatewayPolicy {
        &self.policy
    }

    /// How many requests the replay window holds.
    pub fn replay_window_len(&self) -> usize {
        self.replay
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Records a decrypted request (named by its key header and encapsulated key), or gives
    /// the outer answer refusing it: `400` for a replay, `503` when the window is full.
    pub(crate) fn remember(
        &self,
        header_and_enc: &[u8],
        now: UnixTime,
    ) -> core::result::Result<(), OuterResponse> {
        let mut window = self.replay.lock().unwrap_or_else(PoisonError::into_inner);
        window.admit(header_and_enc, now).map_err(|e| match e {
            Replay::Seen => OuterResponse::bare(400),
            Replay::Full => OuterResponse::bare(503),
        })
    }

    /// Opens a one-shot request within the size limit, in place (a borrowed body is copied
    /// once, and only after the size check), and admits it to the replay window. The binary
    /// HTTP request is `opened[offset..]`; `Err` is the outer refusal.
    fn open_one_shot(
        &self,
        body: Cow<'_, [u8]>,
        now: UnixTime,
    ) -> core::result::Result<(Vec<u8>, usize, ResponseContext), OuterResponse> {
        if body.len() > self.policy.max_request_len {
            return Err(OuterResponse::bare(413));
        }
        let mut opened = body.into_owned();
        let (offset, context) = self
            .ring
            .decapsulate_in_place(&mut opened, now)
            .map_err(|e| OuterResponse::refusal(&e))?;
        // The key header and encapsulated key, left as they came, name the request.
        let named = opened.get(..HEADER_LEN + Kem::enc_len(context.suite().kem));
        self.remember(named.unwrap_or_default(), now)?;
        Ok((opened, offset, context))
    }

    /// Handles a one-shot request (or, in the Azure dialect, a `message/ohttp-chunked-req`
    /// request, whose body is a plain RFC 9458 request).
    ///
    /// The request is opened where it lies when `body` is an owned `Vec` (such as
    /// [`BufferedBody::into_bytes`]); a borrowed body is copied once first.
    pub fn inbound<'b>(
        &self,
        content_type: &str,
        body: impl Into<Cow<'b, [u8]>>,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        let kind = match RequestKind::from_content_type(content_type) {
            Ok(kind) => kind,
            Err(_) => return Inbound::Answer(OuterResponse::bare(415)),
        };
        let azure = match (kind, self.policy.chunked_dialect) {
            (RequestKind::OneShot, _) => false,
            (RequestKind::Chunked, Dialect::Azure) => true,
            // Draft chunked requests stream: use `streamed`.
            (RequestKind::Chunked, _) => return Inbound::Answer(OuterResponse::bare(415)),
        };
        let (opened, offset, context) = match self.open_one_shot(body.into(), now) {
            Ok(opened) => opened,
            Err(refused) => return Inbound::Answer(refused),
        };
        let inner = opened.get(offset..).unwrap_or_default();
        let context = if azure {
            ReplyContext::AzureChunked(context)
        } else {
            ReplyContext::OneShot(context)
        };
        let limit = u64::try_from(self.policy.max_request_len).unwrap_or(u64::MAX);
        self.screen(inner, context, limit, now, rng)
    }

    /// Handles a request of one of Microsoft's clients to `/score`: a plain RFC 9458 request,
    /// whatever media type it came under, to be answered in
    /// [`AnswerDialect::AzureRawBody`](crate::azure::AnswerDialect::AzureRawBody). The inner request
    /// is resolved by `rules` (empty authority, path `/`, the outer `enginetarget`) and then
    /// admitted like any other ([`admit`](Self::admit): allow-list, origin form, fields,
    /// `Date`); the size limit and the replay window apply as to [`inbound`](Self::inbound).
    pub fn inbound_azure<'b>(
        &self,
        body: impl Into<Cow<'b, [u8]>>,
        engine_target: Option<&[u8]>,
        rules: &AzureInnerRules,
        now: UnixTime,
    ) -> AzureInbound {
        let (opened, offset, context) = match self.open_one_shot(body.into(), now) {
            Ok(opened) => opened,
            Err(refused) => return AzureInbound::Answer(refused),
        };
        let inner = opened.get(offset..).unwrap_or_default();
        let limit = u64::try_from(self.policy.max_request_len).unwrap_or(u64::MAX);
        let mut decoder = self.inner_decoder_within(limit);
        let mut content = Vec::new();
        let refuse = |status, context| AzureInbound::Refuse { status, context };
        if let Err(e) = decoder.push(inner, &mut content) {
            return refuse(inner_status(&e), context);
        }
        let head = decoder.take_head();
        if let Err(e) = decoder.finish() {
            return refuse(inner_status(&e), context);
        }
        let Some(head) = head else {
            return refuse(400, context);
        };
        let resolved = match rules.resolve(&head, engine_target) {
            Ok(resolved) => resolved,
            Err(status) => return refuse(status, context),
        };
        // Microsoft's clients read no problem types: a refusal is its outer status and text.
        match self.admit(&resolved.rewrite(&head), now) {
            Ok(target) => AzureInbound::Forward(Box::new(AzureForward {
                target,
                content,
                context,
            })),
            Err(refusal) => refuse(refusal.status(), context),
        }
    }

    /// A streamed draft chunked request, after checking its media type; the error is the
    /// outer answer.
    pub fn streamed(
        &self,
        content_type: &str,
        now: UnixTime,
    ) -> core::result::Result<StreamedRequest<'_>, OuterResponse> {
        let outer = self
            .chunked_decoder(content_type, now)
            .map_err(|_| OuterResponse::bare(415))?;
        Ok(StreamedRequest::new(self, outer, now))
    }

    /// A streaming decoder for a draft chunked request, after checking its media type.
    /// [`streamed`](Self::streamed) adds the inner decoder, admission and replay checks.
    pub fn chunked_decoder(
        &self,
        content_type: &str,
        now: UnixTime,
    ) -> Result<ChunkedRequestDecoder<'_>> {
        match (
            RequestKind::from_content_type(content_type)?,
            self.policy.chunked_dialect,
        ) {
            (RequestKind::Chunked, Dialect::Draft) => Ok(ChunkedRequestDecoder::new(
                &self.ring,
                now,
                self.policy.chunk_limits,
            )),
            _ => Err(Error::MediaType {
                expected: MEDIA_TYPE_CHUNKED_REQUEST,
            }),
        }
    }

    /// A decoder for the inner request of a streamed chunked request, bounded by the policy.
    pub fn inner_decoder(&self) -> InnerRequestDecoder {
        self.inner_decoder_within(self.policy.chunk_limits.max_total_len)
    }

    pub(crate) fn inner_decoder_within(&self, content_limit: u64) -> InnerRequestDecoder {
        let limits = self.policy.inner_limits;
        InnerRequestDecoder::with_limits(InnerLimits {
            max_content_len: limits.max_content_len.min(content_limit),
            ..limits
        })
    }

    /// Admits an inner request head at `now` against the policy: an allowed authority, an
    /// origin-form path, valid header fields and, if it has one, a `Date` inside the replay
    /// window (RFC 9458 §6.5.1). `Err` is how to refuse it: [`Refusal::Date`] for a `Date`
    /// outside the window, a bodiless status otherwise.
    pub fn admit(
        &self,
        head: &bhttp::Message,
        now: UnixTime,
    ) -> core::result::Result<Target, Refusal> {
        let admission = Admission {
            allowed: &self.policy.allowed_targets,
            default_authority: self.policy.default_authority.as_deref(),
            default_path: self.policy.default_path.as_deref(),
        };
        let target = admission.admit(head)?;
        let mut dates = head
            .header()
            .fields()
            .iter()
            .filter(|f| f.name().eq_ignore_ascii_case(b"date"));
        match (dates.next(), dates.next()) {
            (None, _) => {}
            (Some(date), None) if self.policy.replay.date_acceptable(date.value(), now) => {}
            (Some(_), None) => return Err(Refusal::Date { gateway_time: now }),
            (Some(_), Some(_)) => return Err(Refusal::Status(400)),
        }
        Ok(target)
    }

    /// How to answer a streamed draft chunked request whose decoder has finished.
    pub fn chunked_reply(&self, context: ChunkedResponseContext) -> Reply {
        self.reply(ReplyContext::Chunked(context))
    }

    fn reply(&self, context: ReplyContext) -> Reply {
        Reply {
            context,
            pad_to: self.policy.pad_responses_to,
            chunk_len: self.policy.response_chunk_len,
            max_answer_len: self.policy.max_response_len,
        }
    }

    /// Screens a fully received draft chunked request (its decoder has finished).
    pub fn inbound_chunked(
        &self,
        inner: &[u8],
        context: ChunkedResponseContext,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        let limit = self.policy.chunk_limits.max_total_len;
        self.screen(inner, ReplyContext::Chunked(context), limit, now, rng)
    }

    /// Decodes a whole inner request with the incremental decoder, under the policy's head,
    /// field and content limits, and admits it.
    fn screen(
        &self,
        inner: &[u8],
        context: ReplyContext,
        content_limit: u64,
        now: UnixTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        let reply = self.reply(context);
        let mut decoder = self.inner_decoder_within(content_limit);
        let mut content = Vec::new();
        if let Err(e) = decoder.push(inner, &mut content) {
            return Inbound::Answer(reply.refuse(inner_status(&e), rng));
        }
        let head = decoder.take_head();
        if let Err(e) = decoder.finish() {
            return Inbound::Answer(reply.refuse(inner_status(&e), rng));
        }
        let Some(head) = head else {
            return Inbound::Answer(reply.refuse(400, rng));
        };
        match self.admit(&head, now) {
            Ok(target) => Inbound::Forward(Box::new(Forward {
                target,
                content,
                reply,
            })),
            Err(refusal) => Inbound::Answer(reply.refuse(refusal, rng)),
        }
    }
}

/// The RFC 9458 request header: key id, KEM, KDF and AEAD ids.
const HEADER_LEN: usize = 7;

/// A draft chunked request opened as its body arrives, without IO: each outer chunk opened,
/// the inner binary HTTP request decoded incrementally, the head admitted once complete,
/// then its content handed out as it comes. Holds at most one chunk and one body frame.
///
/// Drive it with [`push`](Self::push) for each body frame; once
/// [`take_target`](Self::take_target) yields the admitted target, send the content `push`
/// hands out to it; if [`refused`](Self::refused) turns `Some`, abort what went to the
/// target. End with [`finish`](Self::finish).
pub struct StreamedRequest<'g> {
    gateway: &'g Gateway,
    now: UnixTime,
    /// `None` once finished.
    outer: Option<ChunkedRequestDecoder<'g>>,
    inner: InnerRequestDecoder,
    plain: Vec<u8>,
    /// The request's first bytes (key header and encapsulated key), which name it in the
    /// replay window once a chunk has opened.
    header: Vec<u8>,
    remembered: bool,
    refused: Option<Refusal>,
    head_seen: bool,
    target: Option<Target>,
}

impl core::fmt::Debug for StreamedRequest<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StreamedRequest")
            .field("refused", &self.refused)
            .field("head_seen", &self.head_seen)
            .finish_non_exhaustive()
    }
}

/// How a streamed request ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Finished {
    /// The admitted target was taken and its content handed out as it came: answer with the
    /// target's response.
    Streamed(Reply),
    /// Forward (the whole request arrived before its head could be taken) or answer at once,
    /// as for a one-shot request.
    Inbound(Inbound),
}

impl<'g> StreamedRequest<'g> {
    fn new(gateway: &'g Gateway, outer: ChunkedRequestDecoder<'g>, now: UnixTime) -> Self {
        Self {
            gateway,
            now,
            outer: Some(outer),
            inner: gateway.inner_decoder(),
            plain: Vec::new(),
            header: Vec::new(),
            remembered: false,
            refused: None,
            head_seen: false,
            target: None,
        }
    }

    /// Whether the inner head is still to come (not yet decoded, nor refused).
    pub fn head_pending(&self) -> bool {
        !self.head_seen && self.refused.is_none()
    }

    /// The admitted target, once, when the head has arrived and passed the policy.
    pub fn take_target(&mut self) -> Option<Target> {
        self.target.take()
    }

    /// The inner status the request is refused with, once refused; the rest of the body is
    /// still opened (to answer inside the ciphertext) but no more content is handed out.
    pub fn refused(&self) -> Option<u16> {
        self.refused.as_ref().map(Refusal::status)
    }

    /// How long to wait for the next body frame: the policy's `upload_idle_timeout`.
    pub fn idle_timeout(&self) -> Duration {
        self.gateway.policy.upload_idle_timeout
    }

    /// The client stopped sending for longer than [`StreamedRequest::idle_timeout`]: the
    /// request is refused and no more of it is opened; this is the outer answer
    /// ([`Gateway::upload_timed_out`]). Abort whatever content already went to the target.
    pub fn timed_out(&mut self) -> OuterResponse {
        self.outer = None;
        self.refused = Some(Refusal::Status(408));
        self.gateway.upload_timed_out()
    }

    /// Opens the next body frame, appending the content it completes to `content`; `Err` is
    /// the outer answer when the request cannot be opened (or is a replay).
    pub fn push(
        &mut self,
        frame: &[u8],
        content: &mut Vec<u8>,
    ) -> core::result::Result<(), OuterResponse> {
        self.keep_header(frame);
        let outer = self.outer.as_mut().ok_or(OuterResponse::bare(400))?;
        outer
            .push(frame, &mut self.plain)
            .map_err(|e| OuterResponse::refusal(&e))?;
        self.decode(content)
    }

    /// Ends the request: the final chunk must have arrived. `Err` is the outer answer when
    /// the request cannot be opened.
    pub fn finish(
        mut self,
        content: &mut Vec<u8>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> core::result::Result<Finished, OuterResponse> {
        let context = self
            .outer
            .take()
            .ok_or(OuterResponse::bare(400))?
            .finish(&mut self.plain)
            .map_err(|e| OuterResponse::refusal(&e))?;
        self.decode(content)?;
        if self.refused.is_none()
            && let Err(e) = self.inner.finish()
        {
            self.refused = Some(inner_status(&e).into());
        }
        if self.refused.is_none() && !self.head_seen {
            self.refused = Some(Refusal::Status(400));
        }
        let reply = self.gateway.chunked_reply(context);
        if let Some(refusal) = self.refused {
            content.clear();
            return Ok(Finished::Inbound(Inbound::Answer(
                reply.refuse(refusal, rng),
            )));
        }
        Ok(match self.target.take() {
            // The head came with the final chunk: the whole request is in `content`.
            Some(target) => Finished::Inbound(Inbound::Forward(Box::new(Forward {
                target,
                content: core::mem::take(content),
                reply,
            }))),
            None => Finished::Streamed(reply),
        })
    }

    /// Keeps the key header and encapsulated key from the first frames.
    fn keep_header(&mut self, frame: &[u8]) {
        let wanted = match self.header.get(1..3) {
            Some(&[hi, lo]) => Kem::from_id(u16::from_be_bytes([hi, lo]))
                .map_or(HEADER_LEN, |kem| HEADER_LEN + Kem::enc_len(kem)),
            _ => HEADER_LEN,
        };
        let missing = wanted.saturating_sub(self.header.len());
        if missing > 0 {
            let take = missing.min(frame.len());
            self.header
                .extend_from_slice(frame.get(..take).unwrap_or_default());
            if take < frame.len() && self.header.len() == HEADER_LEN {
                // The KEM is known now: the encapsulated key may be in the same frame.
                let rest = frame.get(take..).unwrap_or_default();
                self.keep_header(rest);
            }
        }
    }

    fn decode(&mut self, content: &mut Vec<u8>) -> core::result::Result<(), OuterResponse> {
        if self.plain.is_empty() {
            return Ok(());
        }
        // A chunk opened: the request is genuine; nothing reaches the target before this.
        if !self.remembered {
            self.gateway.remember(&self.header, self.now)?;
            self.remembered = true;
        }
        if self.refused.is_none()
            && let Err(e) = self.inner.push(&self.plain, content)
        {
            self.refused = Some(inner_status(&e).into());
        }
        self.plain.clear();
        if !self.head_seen
            && let Some(head) = self.inner.take_head()
        {
            self.head_seen = true;
            match self.gateway.admit(&head, self.now) {
                Ok(target) => self.target = Some(target),
                Err(refusal) => self.refused = Some(refusal),
            }
        }
        if self.refused.is_some() {
            content.clear();
        }
        Ok(())
    }
}
