//! The gateway's HTTP-facing core, without IO: media types, size limits, target allow-list,
//! and the rule that nothing about the inner exchange shows on the outer response.
//!
//! The outer response is either `200` with an encapsulated body, or a bare status with an
//! empty body when the request cannot be decapsulated at all. The target's status, headers
//! and errors travel inside the ciphertext.

use std::io::Cursor;
use std::time::SystemTime;

use hpke::rand_core::CryptoRng;

use crate::chunked::{
    ChunkLimits, ChunkSealer, ChunkedRequestDecoder, ChunkedResponseContext, Dialect,
};
use crate::error::{Error, Result};
use crate::gateway::{KeyRing, ResponseContext};
use crate::inner::{
    InnerRequestDecoder, encode_content_chunk, encode_content_end, encode_response_head,
};

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
    /// The longest inner head (control data and header fields) or trailer of a streamed
    /// request.
    pub max_head_len: usize,
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
            max_head_len: 64 * 1024,
        }
    }
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
    fn bare(status: u16) -> Self {
        Self {
            status,
            content_type: None,
            body: Vec::new(),
        }
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
}

/// A decapsulated request that passed the policy: forward `message`, then answer with
/// `reply`.
pub struct Forward {
    /// The inner request.
    pub message: bhttp::Message,
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
}

#[derive(Debug)]
enum ReplyContext {
    OneShot(ResponseContext),
    AzureChunked(ResponseContext),
    Chunked(ChunkedResponseContext),
}

impl Reply {
    /// Encapsulates the target's answer (or an inner error status) as the outer response.
    pub fn respond(
        self,
        answer: core::result::Result<bhttp::Message, TargetError>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        let message = answer.unwrap_or_else(|e| {
            status_message(match e {
                TargetError::Unavailable => 502,
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

    /// Starts streaming the target's answer as an indeterminate-length inner response with
    /// `status` and `fields`. Returns the outer body's first bytes (response nonce and the
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
        encode_response_head(status, fields, &mut head);
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

/// The gateway core: a key ring and a policy.
#[derive(Debug, Clone)]
pub struct Gateway {
    ring: KeyRing,
    policy: GatewayPolicy,
}

impl Gateway {
    /// A gateway.
    pub fn new(ring: KeyRing, policy: GatewayPolicy) -> Self {
        Self { ring, policy }
    }

    /// The key ring.
    pub fn ring(&self) -> &KeyRing {
        &self.ring
    }

    /// The policy.
    pub fn policy(&self) -> &GatewayPolicy {
        &self.policy
    }

    /// Handles a one-shot request (or, in the Azure dialect, a `message/ohttp-chunked-req`
    /// request, whose body is a plain RFC 9458 request).
    pub fn inbound(
        &self,
        content_type: &str,
        body: &[u8],
        now: SystemTime,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        let kind = match RequestKind::from_content_type(content_type) {
            Ok(kind) => kind,
            Err(_) => return Inbound::Answer(OuterResponse::bare(415)),
        };
        let azure = match (kind, self.policy.chunked_dialect) {
            (RequestKind::OneShot, _) => false,
            (RequestKind::Chunked, Dialect::Azure) => true,
            // Draft chunked requests stream: use `chunked_decoder`.
            (RequestKind::Chunked, _) => return Inbound::Answer(OuterResponse::bare(415)),
        };
        if body.len() > self.policy.max_request_len {
            return Inbound::Answer(OuterResponse::bare(413));
        }
        let Ok((inner, context)) = self.ring.decapsulate(body, now) else {
            // RFC 9458 §5.2: no detail about why decapsulation failed.
            return Inbound::Answer(OuterResponse::bare(400));
        };
        let context = if azure {
            ReplyContext::AzureChunked(context)
        } else {
            ReplyContext::OneShot(context)
        };
        self.screen(&inner, context, rng)
    }

    /// A streaming decoder for a draft chunked request, after checking its media type.
    pub fn chunked_decoder(
        &self,
        content_type: &str,
        now: SystemTime,
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
        InnerRequestDecoder::new(self.policy.max_head_len)
    }

    /// Checks a streamed inner request's head against the policy; `Err` holds the inner
    /// status to refuse it with.
    pub fn admit(&self, head: &bhttp::Message) -> core::result::Result<(), u16> {
        if !head.control().is_request() {
            return Err(400);
        }
        let authority = head.control().authority().unwrap_or_default();
        let host = head.header().get(b"host").unwrap_or_default();
        let target = if authority.is_empty() {
            host
        } else {
            authority
        };
        if self
            .policy
            .allowed_targets
            .iter()
            .any(|t| t.as_bytes().eq_ignore_ascii_case(target))
        {
            Ok(())
        } else {
            Err(403)
        }
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
        }
    }

    /// Screens a fully received draft chunked request (its decoder has finished).
    pub fn inbound_chunked(
        &self,
        inner: &[u8],
        context: ChunkedResponseContext,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        self.screen(inner, ReplyContext::Chunked(context), rng)
    }

    fn screen(
        &self,
        inner: &[u8],
        context: ReplyContext,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Inbound {
        let reply = self.reply(context);
        let refuse = |reply: Reply, status: u16, rng: &mut _| match reply
            .respond(Ok(status_message(status)), rng)
        {
            Ok(outer) => Inbound::Answer(outer),
            Err(_) => Inbound::Answer(OuterResponse::bare(500)),
        };
        let message = match bhttp::Message::read_bhttp(&mut Cursor::new(inner)) {
            Ok(m) => m,
            _ => return refuse(reply, 400, rng),
        };
        if let Err(status) = self.admit(&message) {
            return refuse(reply, status, rng);
        }
        Inbound::Forward(Box::new(Forward { message, reply }))
    }
}
