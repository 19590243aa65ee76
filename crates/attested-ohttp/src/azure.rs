//! Microsoft's Azure confidential inference answer ([`AnswerDialect::AzureRawBody`]), for
//! interoperating with Microsoft's attested-ohttp server and clients (`pyohttp`, `ohttpy`).
//!
//! The request is a plain RFC 9458 request sent as `message/ohttp-chunked-req`; the answer is
//! the Azure chunk framing ([`Dialect::Azure`](crate::chunked::Dialect::Azure)) around the **raw target body**, with the
//! target's status as the outer status and its headers (filtered,
//! [`azure_copies_response_header`]) as outer headers. Everything here is cited from
//! microsoft/attested-ohttp-server `ohttp-server/src/lib.rs` and microsoft/ohttp
//! `ohttp/src/lib.rs` (commit 6347bf9, the one `ohttpy` 0.1a13 links).
//!
//! This dialect shows the target's status and headers to every relay and network observer;
//! [`AnswerDialect::BinaryHttp`], the default, keeps them inside the ciphertext.

use hpke::rand_core::CryptoRng;

use crate::chunked::{ChunkLimits, ChunkSealer, ChunkedResponseDecoder};
use crate::client::PendingResponse;
use crate::error::{Error, Result, within_limit};
use crate::gateway::{OuterResponse, TargetError};
use crate::key_config::MAX_KEY_LIST_LEN;
use crate::key_ring::ResponseContext;
use crate::target::Target;

/// What a chunked response carries, and where the target's status travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum AnswerDialect {
    /// The default: the stream holds a binary HTTP response (status, headers and body); the
    /// outer response is `200` with only the media type. A relay learns sizes and timing.
    #[default]
    BinaryHttp,
    /// Microsoft's server: the stream holds the raw target body (`ohttp-server/src/lib.rs:
    /// 301-308`); the outer status is the target's (`lib.rs:112-118`, `262-271`) and the
    /// target's headers are outer headers (`lib.rs:285-299`). A relay learns all of them.
    AzureRawBody,
}

/// The route of Microsoft's server for encapsulated requests (`ohttp-server/src/main.rs:33`).
pub const AZURE_SCORE_PATH: &str = "/score";
/// The route of Microsoft's server (local-key mode) for the hex key list
/// (`ohttp-server/src/main.rs:50`, `lib.rs:324-331`).
pub const AZURE_DISCOVER_PATH: &str = "/discover";
/// The longest `GET /discover` answer a client reads: the hex of a
/// [`MAX_KEY_LIST_LEN`] list and a line end.
pub const AZURE_MAX_DISCOVER_LEN: usize = 2 * MAX_KEY_LIST_LEN + 2;

/// The `GET /discover` body for the encoded key configuration list `key_list`: its hex, as
/// Microsoft's server answers in local-key mode (`ohttp-server/src/lib.rs:324-331`).
pub fn azure_discover_body(key_list: &[u8]) -> String {
    hex::encode(key_list)
}

/// The encoded key configuration list in a `GET /discover` body: hex (either case),
/// surrounding whitespace ignored, at most [`AZURE_MAX_DISCOVER_LEN`] bytes.
pub fn azure_parse_discover(body: &[u8]) -> Result<Vec<u8>> {
    within_limit(
        "/discover body",
        body.len() as u64,
        AZURE_MAX_DISCOVER_LEN as u64,
    )?;
    hex::decode(body.trim_ascii()).map_err(|_| Error::Encoding {
        what: "/discover body",
        encoding: "hex",
    })
}

/// The outer request header that names the target path in Microsoft's server
/// (`ohttp-server/src/lib.rs:243`, `89-96`).
pub const AZURE_ENGINE_TARGET_HEADER: &str = "enginetarget";
/// The outer response header carrying the request id (`ohttp-server/src/lib.rs:171-172`).
pub const AZURE_REQUEST_ID_HEADER: &str = "x-ms-client-request-id";
/// The outer request id header Azure API Management sets (`ohttp-server/src/main.rs:40-44`).
pub const AZURE_APIM_REQUEST_ID_HEADER: &str = "apim-request-id";
/// The outer request header asking for the attestation token back, and the response header
/// carrying it (`ohttp-server/src/lib.rs:170`, `278-283`).
pub const AZURE_ATTESTATION_TOKEN_HEADER: &str = "x-attestation-token";

/// The most of a failed target's error text sealed into the Azure error answer; the rest is
/// cut, so that a target's long (or endless) error body costs the gateway at most this much.
pub const AZURE_ERROR_TEXT_MAX: usize = 64 * 1024;

/// Whether the Azure answer streams the target's body ([`ResponseContext::into_azure_answer`]):
/// a `2xx` status. For any other status the gateway reads at most [`AZURE_ERROR_TEXT_MAX`]
/// bytes of the target's body and answers [`ResponseContext::azure_target_error`], as
/// Microsoft's server answers a target error with its text (`ohttp-server/src/lib.rs:
/// 143-158`, `262-271`).
pub fn azure_streams_target_answer(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Hop-by-hop fields (RFC 9110 §7.6.1, and those RFC 2616 §13.5.1 listed), never forwarded.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "proxy-connection",
    "keep-alive",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// Whether a target response header is copied to the outer response in the Azure answer:
/// Microsoft's server drops `content-type` and `content-length` (`FILTERED_RESPONSE_HEADERS`,
/// `ohttp-server/src/lib.rs:25`, compared case-insensitively at `288-290`); we also drop the
/// hop-by-hop fields, which its HTTP stack regenerates rather than copies.
pub fn azure_copies_response_header(name: &str) -> bool {
    !(name.eq_ignore_ascii_case("content-type")
        || name.eq_ignore_ascii_case("content-length")
        || HOP_BY_HOP.iter().any(|h| h.eq_ignore_ascii_case(name)))
}

/// The `x-ms-client-request-id` to answer with: the client's own, if it sent one in UUID text
/// form; else Azure API Management's `apim-request-id`, as Microsoft's server takes it
/// (`ohttp-server/src/main.rs:40-44`); else a fresh random (version 4) UUID.
pub fn azure_request_id(
    client_request_id: Option<&[u8]>,
    apim_request_id: Option<&[u8]>,
    rng: &mut (impl CryptoRng + ?Sized),
) -> String {
    for candidate in [client_request_id, apim_request_id].into_iter().flatten() {
        if is_uuid_text(candidate) {
            // Checked: ASCII hex digits and hyphens only.
            return String::from_utf8_lossy(candidate).to_ascii_lowercase();
        }
    }
    let mut b = [0u8; 16];
    rng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    )
}

/// The canonical 8-4-4-4-12 hex text of a UUID. Only compared, never decoded into a value, so
/// a shape check suffices where a UUID parser would add a dependency to the core.
fn is_uuid_text(s: &[u8]) -> bool {
    s.len() == 36
        && s.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

impl ResponseContext {
    /// Starts Microsoft's raw-body answer to a plain RFC 9458 request: returns the response
    /// nonce to send first and the sealer for the target's body. The target's status and
    /// headers go on the outer response ([`AnswerDialect::AzureRawBody`]).
    pub fn into_azure_answer(
        self,
        chunk_len: usize,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Vec<u8>, AzureBodySealer)> {
        let (nonce, sealer) = self.into_azure_chunked(rng)?;
        Ok((
            nonce,
            AzureBodySealer {
                sealer,
                chunk_len: chunk_len.max(1),
            },
        ))
    }

    /// Microsoft's answer to a failed target: the response nonce and one sealed final chunk
    /// holding the error text (`handle_error`, `ohttp-server/src/lib.rs:143-158`). The caller
    /// puts the target's status (or 502/504 when it could not be reached) on the outer
    /// response, with no target headers.
    pub fn azure_error_body(
        self,
        text: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<u8>> {
        let (mut out, sealer) = self.into_azure_chunked(rng)?;
        sealer.seal_final(text, &mut out)?;
        Ok(out)
    }

    /// The whole Azure answer to a request the gateway refused after opening it
    /// ([`AzureInbound::Refuse`]): `status` outside, a fixed text sealed.
    pub fn azure_refused(
        self,
        status: u16,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        self.azure_target_error(status, b"the gateway refused the request", rng)
    }

    /// The whole Azure answer to a target that answered `status` (not `2xx`) with `text`:
    /// `status` outside (a status outside `100..=599` becomes `502`), no target fields, and
    /// the first [`AZURE_ERROR_TEXT_MAX`] bytes of `text` sealed ([`azure_error_body`](Self::azure_error_body)).
    pub fn azure_target_error(
        self,
        status: u16,
        text: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        let text = text.get(..AZURE_ERROR_TEXT_MAX).unwrap_or(text);
        let status = if (100..=599).contains(&status) {
            status
        } else {
            502
        };
        Ok(OuterResponse {
            status,
            content_type: None,
            body: self.azure_error_body(text, rng)?,
        })
    }

    /// The whole Azure answer to a target that gave no answer: `504` when it did not answer
    /// in time, `502` when it could not be reached or its answer was too long, each with a
    /// fixed text sealed (the same statuses the binary HTTP dialect puts inside, [`Reply::respond`](crate::gateway::Reply::respond)).
    pub fn azure_target_failed(
        self,
        error: TargetError,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<OuterResponse> {
        let (status, text): (u16, &[u8]) = match error {
            TargetError::Timeout => (504, b"the target did not answer in time"),
            TargetError::Unavailable => (502, b"the target could not be reached"),
            TargetError::TooLarge => (502, b"the target's answer is too long"),
        };
        self.azure_target_error(status, text, rng)
    }
}

/// Seals a target's raw body in Microsoft's chunk framing, as it arrives.
pub struct AzureBodySealer {
    sealer: ChunkSealer,
    chunk_len: usize,
}

impl core::fmt::Debug for AzureBodySealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AzureBodySealer")
            .field("chunk_len", &self.chunk_len)
            .finish_non_exhaustive()
    }
}

impl AzureBodySealer {
    /// Seals the next piece of the body as non-final chunks of at most `chunk_len` bytes
    /// (`LEB128(len) || ct`, AAD empty: microsoft/ohttp `ohttp/src/lib.rs:339-356`), appended
    /// to `out`. An empty piece adds nothing.
    pub fn push(&mut self, body: &[u8], out: &mut Vec<u8>) -> Result<()> {
        for piece in body.chunks(self.chunk_len) {
            self.sealer.seal_chunk(piece, out)?;
        }
        Ok(())
    }

    /// Ends the body with an empty final chunk (`0x00 || LEB128(len) || ct`, AAD "final":
    /// `ohttp/src/lib.rs:357-374`). Microsoft's server seals its last body chunk as the final
    /// one and sends the nonce alone for an empty body; an empty final chunk is what its
    /// decoder reads the same way, and it lets our clients tell a complete answer from a cut
    /// one.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        self.sealer.seal_final(b"", out)
    }
}

impl PendingResponse {
    /// The decoder for Microsoft's raw-body answer to this (plain RFC 9458) request, whose
    /// outer status was `outer_status`: the decrypted stream is the target's body, and a
    /// stream of the nonce alone is an empty body (`ohttp/src/lib.rs:333-334`).
    ///
    /// Microsoft's framing cannot tell an empty body from an answer cut right after the
    /// nonce; a cut after any chunk is refused (the final chunk is required then).
    pub fn into_azure_answer(self, outer_status: u16, limits: ChunkLimits) -> AzureAnswerDecoder {
        AzureAnswerDecoder {
            status: outer_status,
            decoder: self.into_azure_chunked(limits).with_empty_complete(),
        }
    }
}

/// The client's decoder for Microsoft's raw-body answer.
#[derive(Debug)]
pub struct AzureAnswerDecoder {
    status: u16,
    decoder: ChunkedResponseDecoder,
}

impl AzureAnswerDecoder {
    /// The target's status, as the outer response carried it. It is not authenticated: any
    /// relay could have changed it.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Takes the next bytes of the outer body and appends the body bytes they complete.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.decoder.push(input, out)
    }

    /// Ends the answer: the final chunk must have arrived (or nothing after the nonce).
    pub fn finish(self, out: &mut Vec<u8>) -> Result<()> {
        self.decoder.finish(out)
    }

    /// The bytes held for the chunk in progress.
    pub fn buffered(&self) -> usize {
        self.decoder.buffered()
    }
}

/// Where an inner request from one of Microsoft's clients goes: resolved by
/// [`AzureInnerRules::resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureTarget {
    /// The target authority (`host` or `host:port`), still to be checked against the
    /// gateway's allow-list.
    pub authority: String,
    /// The target path in origin form.
    pub path: String,
}

/// How a gateway in Azure compatibility mode reads what Microsoft's clients put inside.
///
/// Their inner requests come from HTTP/1.1 text (`POST {path} HTTP/1.1`, attested-ohttp-client
/// `ohttp-client/src/lib.rs:45-48`) turned into binary HTTP, which gives origin form with an
/// **empty authority** and header names as typed (`Content-Type`, `Host`; microsoft/ohttp
/// `bhttp/src/lib.rs:457-466`); `pyohttp` posts to path **`/`** (`pyohttp/src/lib.rs:146`);
/// Microsoft's server takes the target path from the outer `enginetarget` header when present
/// (`ohttp-server/src/lib.rs:89-101`, `243`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureInnerRules {
    /// The authority used when neither the inner authority nor a `Host` field names one.
    pub default_authority: String,
    /// The path used when the inner path is empty or `/`.
    pub default_path: String,
    /// The paths `enginetarget` may name; any other value is refused with 403.
    pub allowed_engine_targets: Vec<String>,
}

/// The first field named `name` (any case) in an inner request's header section.
pub fn header_ignore_case<'m>(message: &'m bhttp::Message, name: &str) -> Option<&'m [u8]> {
    message
        .header()
        .fields()
        .iter()
        .find(|f| f.name().eq_ignore_ascii_case(name.as_bytes()))
        .map(bhttp::Field::value)
}

impl AzureTarget {
    /// The inner request head with this authority and path (method, scheme and fields
    /// kept), for the gateway's ordinary admission.
    pub(crate) fn rewrite(&self, head: &bhttp::Message) -> bhttp::Message {
        let control = head.control();
        let mut m = bhttp::Message::request(
            control.method().unwrap_or_default().to_vec(),
            control.scheme().unwrap_or_default().to_vec(),
            self.authority.as_bytes().to_vec(),
            self.path.as_bytes().to_vec(),
        );
        for field in head.header().fields() {
            m.put_header(field.name(), field.value());
        }
        m
    }
}

/// What to do with a request to `/score` ([`Gateway::inbound_azure`](crate::Gateway::inbound_azure)).
#[derive(Debug)]
pub enum AzureInbound {
    /// Send the inner request to its target; answer with
    /// [`ResponseContext::into_azure_answer`] (or [`ResponseContext::azure_error_body`] for a
    /// failed target).
    Forward(Box<AzureForward>),
    /// Decrypted but refused (malformed, too large, not allowed): answer with `status` as the
    /// outer status and [`ResponseContext::azure_error_body`], as Microsoft's server answers
    /// its errors (`ohttp-server/src/lib.rs:143-158`).
    Refuse {
        /// The status to refuse with.
        status: u16,
        /// The context to seal the error text with.
        context: ResponseContext,
    },
    /// Answer at once, in clear (undecryptable, unknown key, replay, too large).
    Answer(OuterResponse),
}

/// An admitted request to `/score`.
pub struct AzureForward {
    /// Where the request goes, already admitted.
    pub target: Target,
    /// The inner request's content.
    pub content: Vec<u8>,
    /// How to answer it.
    pub context: ResponseContext,
}

impl core::fmt::Debug for AzureForward {
    /// The inner request is the client's secret: it is never printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AzureForward")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl AzureInnerRules {
    /// Resolves an inner request's target; `Err` holds the inner status to refuse it with
    /// (400: not a request, or a path not in origin form; 403: `enginetarget` not allowed).
    ///
    /// Authority: the inner authority, else a `Host` field in any case, else
    /// [`default_authority`](Self::default_authority). Path: `enginetarget` (outer header) if
    /// it is one of [`allowed_engine_targets`](Self::allowed_engine_targets), else the inner
    /// path, with empty or `/` meaning [`default_path`](Self::default_path).
    pub fn resolve(
        &self,
        message: &bhttp::Message,
        engine_target: Option<&[u8]>,
    ) -> core::result::Result<AzureTarget, u16> {
        let control = message.control();
        if !control.is_request() {
            return Err(400);
        }
        let authority = match control.authority() {
            Some(a) if !a.is_empty() => a,
            _ => header_ignore_case(message, "host").unwrap_or_default(),
        };
        let authority = if authority.is_empty() {
            self.default_authority.clone()
        } else {
            String::from_utf8(authority.to_vec()).map_err(|_| 400u16)?
        };
        let path = match engine_target {
            Some(t) => {
                let allowed = self
                    .allowed_engine_targets
                    .iter()
                    .find(|p| p.as_bytes() == t)
                    .ok_or(403u16)?;
                allowed.clone()
            }
            None => match control.path().unwrap_or_default() {
                b"" | b"/" => self.default_path.clone(),
                p if p.starts_with(b"/") => String::from_utf8(p.to_vec()).map_err(|_| 400u16)?,
                _ => return Err(400),
            },
        };
        Ok(AzureTarget { authority, path })
    }
}
