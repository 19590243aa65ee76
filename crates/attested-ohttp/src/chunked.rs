//! Chunked OHTTP (draft-ietf-ohai-chunked-ohttp) and the Azure response dialect.
//!
//! Both are sans-IO state machines: the sender seals one chunk at a time; the receiver takes
//! bytes as they arrive and yields plaintext chunk by chunk, holding at most one chunk.

use attested_types::UnixTime;

use hpke::rand_core::CryptoRng;
use zeroize::Zeroizing;

#[cfg(feature = "test-vectors")]
use crate::client::NoRng;
use crate::client::{Client, PendingResponse, export_response_secret as export_sender};
use crate::error::{Error, Result, within_limit};
use crate::hpke_dispatch::{Ephemeral, ReceiverContext, SenderContext};
use crate::key_ring::{KeyRing, ResponseContext, export_response_secret as export_receiver};
use crate::reader::Reader;
use crate::response::ResponseAead;
use crate::suite::{Kem, Suite};

/// The HPKE info label of a chunked request.
const LABEL_CHUNKED_REQUEST: &[u8] = b"message/bhttp chunked request";
/// The export label of a chunked response.
const LABEL_CHUNKED_RESPONSE: &[u8] = b"message/bhttp chunked response";
/// The AAD of the final chunk; other chunks use an empty AAD.
const FINAL_AAD: &[u8] = b"final";
/// The request header: key id, KEM, KDF, AEAD.
const HEADER_LEN: usize = 7;

/// How chunks are framed on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Dialect {
    /// draft-ietf-ohai-chunked-ohttp: QUIC varint lengths; a zero length, then the final chunk
    /// running to the end of the stream.
    Draft,
    /// The Azure confidential inference response: LEB128 lengths; a `0x00` marker, then the
    /// final chunk with its own length. Its request is a plain RFC 9458 request and the
    /// response key is exported with the RFC 9458 label `message/bhttp response`.
    Azure,
}

/// Bounds on what a receiver accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// The largest sealed chunk (ciphertext and tag) accepted.
    pub max_chunk_len: usize,
    /// The most plaintext accepted over the whole message.
    pub max_total_len: u64,
    /// The most chunks accepted, the final one included.
    pub max_chunks: u64,
}

impl Default for ChunkLimits {
    /// 1 MiB chunks, 64 MiB and 65536 chunks in total: room for a 25 MB audio upload.
    fn default() -> Self {
        Self {
            max_chunk_len: 1 << 20,
            max_total_len: 64 << 20,
            max_chunks: 1 << 16,
        }
    }
}

/// The largest length either encoding can carry here (QUIC varints stop at 2^62 - 1).
const MAX_VARINT: u64 = (1 << 62) - 1;

fn encode_len(dialect: Dialect, len: usize, out: &mut Vec<u8>) -> Result<()> {
    let too_long = || Error::LimitExceeded {
        what: "chunk length",
        limit: MAX_VARINT,
        actual: len as u64,
    };
    let n = u64::try_from(len).map_err(|_| too_long())?;
    match dialect {
        Dialect::Draft => {
            let (size, tag) = match n {
                0..=0x3f => (1, 0x00),
                0x40..=0x3fff => (2, 0x40),
                0x4000..=0x3fff_ffff => (4, 0x80),
                0x4000_0000..=MAX_VARINT => (8, 0xc0),
                _ => return Err(too_long()),
            };
            let bytes = n.to_be_bytes();
            let mut tail = bytes.iter().skip(8 - size);
            if let Some(first) = tail.next() {
                out.push(first | tag);
            }
            out.extend(tail);
        }
        Dialect::Azure => {
            let mut v = n;
            loop {
                let byte = v.to_le_bytes()[0] & 0x7f;
                v >>= 7;
                if v == 0 {
                    out.push(byte);
                    break;
                }
                out.push(byte | 0x80);
            }
        }
    }
    Ok(())
}

/// Decodes a length at the start of `buf`: `Ok(None)` when more bytes are needed.
fn decode_len(dialect: Dialect, buf: &[u8]) -> Result<Option<(u64, usize)>> {
    match dialect {
        Dialect::Draft => {
            let Some(&first) = buf.first() else {
                return Ok(None);
            };
            let size = 1usize << (first >> 6);
            let Some(bytes) = buf.get(..size) else {
                return Ok(None);
            };
            let mut v = u64::from(first & 0x3f);
            for b in bytes.iter().skip(1) {
                v = (v << 8) | u64::from(*b);
            }
            Ok(Some((v, size)))
        }
        Dialect::Azure => {
            let mut v: u64 = 0;
            for (i, b) in buf.iter().enumerate() {
                // Ten 7-bit groups cover u64; longer or overflowing encodings are malformed.
                if i >= 10 || (i == 9 && *b > 1) {
                    return Err(Error::Chunking("LEB128 length overflows 64 bits"));
                }
                v |= u64::from(b & 0x7f) << (7 * i);
                if b & 0x80 == 0 {
                    return Ok(Some((v, i + 1)));
                }
            }
            Ok(None)
        }
    }
}

/// A chunk cipher: the HPKE context (requests) or the response AEAD (responses).
enum Cipher {
    Seal(Box<dyn SenderContext>),
    Open(Box<dyn ReceiverContext>),
    Response(ResponseAead),
}

impl Cipher {
    fn seal(&mut self, buf: &mut Vec<u8>, aad: &[u8]) -> Result<()> {
        match self {
            Cipher::Seal(c) => c.seal_in_place(buf, aad),
            Cipher::Response(c) => c.seal_in_place(buf, aad),
            Cipher::Open(_) => Err(Error::State("a receiving context cannot seal")),
        }
    }

    /// Opens `buf[start..]` in place.
    fn open(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
        aad: &[u8],
        what: &'static str,
    ) -> Result<()> {
        match self {
            Cipher::Open(c) => c.open_in_place(buf, start, aad, what),
            Cipher::Response(c) => c.open_in_place(buf, start, aad, what),
            Cipher::Seal(_) => Err(Error::State("a sending context cannot open")),
        }
    }
}

/// Seals chunks of one message (a chunked request, or a chunked response).
pub struct ChunkSealer {
    dialect: Dialect,
    cipher: Cipher,
}

impl core::fmt::Debug for ChunkSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkSealer")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl ChunkSealer {
    /// Seals a non-final chunk and appends its framing and ciphertext to `out`. Empty chunks
    /// are refused: a zero length marks the final chunk.
    pub fn seal_chunk(&mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if plaintext.is_empty() {
            return Err(Error::Chunking("a non-final chunk must not be empty"));
        }
        let mut buf = Vec::with_capacity(plaintext.len() + 16);
        buf.extend_from_slice(plaintext);
        self.cipher.seal(&mut buf, b"")?;
        encode_len(self.dialect, buf.len(), out)?;
        out.extend_from_slice(&buf);
        Ok(())
    }

    /// Seals the final chunk (possibly empty) and appends it to `out`; the message is complete.
    pub fn seal_final(mut self, plaintext: &[u8], out: &mut Vec<u8>) -> Result<()> {
        let mut buf = Vec::with_capacity(plaintext.len() + 16);
        buf.extend_from_slice(plaintext);
        self.cipher.seal(&mut buf, FINAL_AAD)?;
        encode_len(self.dialect, 0, out)?;
        if self.dialect == Dialect::Azure {
            encode_len(self.dialect, buf.len(), out)?;
        }
        out.extend_from_slice(&buf);
        Ok(())
    }
}

enum Phase {
    Chunks,
    /// Draft: the final chunk runs to the end of the stream.
    FinalToEnd,
    /// Azure: the final chunk's length is next.
    FinalLength,
    FinalExact(usize),
    Done,
}

/// Opens the chunks of one message as bytes arrive, holding at most one chunk.
struct Deframer {
    dialect: Dialect,
    limits: ChunkLimits,
    cipher: Cipher,
    phase: Phase,
    pending: Vec<u8>,
    total: u64,
    chunks: u64,
    what: &'static str,
    /// Whether a message of no chunks at all is complete (an empty body in Microsoft's
    /// raw-body answer, which sends the nonce alone: microsoft/ohttp `ohttp/src/lib.rs:333-334`).
    empty_is_complete: bool,
}

impl Deframer {
    fn new(dialect: Dialect, limits: ChunkLimits, cipher: Cipher, what: &'static str) -> Self {
        Self {
            dialect,
            limits,
            cipher,
            phase: Phase::Chunks,
            pending: Vec::new(),
            total: 0,
            chunks: 0,
            what,
            empty_is_complete: false,
        }
    }

    fn check_chunk_len(&self, len: u64) -> Result<usize> {
        let limit = self.limits.max_chunk_len;
        match usize::try_from(len) {
            Ok(n) if n <= limit => Ok(n),
            _ => Err(Error::LimitExceeded {
                what: "chunk length",
                limit: limit as u64,
                actual: len,
            }),
        }
    }

    /// Opens a sealed chunk straight into `out`: one copy, no allocation.
    fn open_chunk(&mut self, sealed: &[u8], aad: &[u8], out: &mut Vec<u8>) -> Result<()> {
        self.chunks = self.chunks.saturating_add(1);
        within_limit("chunks", self.chunks, self.limits.max_chunks)?;
        let start = out.len();
        out.extend_from_slice(sealed);
        if let Err(e) = self.cipher.open(out, start, aad, self.what) {
            out.truncate(start);
            return Err(e);
        }
        self.total = self.total.saturating_add((out.len() - start) as u64);
        within_limit(
            "total message length",
            self.total,
            self.limits.max_total_len,
        )
    }

    fn push(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if matches!(self.phase, Phase::Done) && !input.is_empty() {
            return Err(Error::Chunking("data after the final chunk"));
        }
        if self.pending.is_empty() {
            // Whole chunks are opened straight from the input; only a partial one is kept.
            let used = self.consume(input, out)?;
            self.pending
                .extend_from_slice(input.get(used..).unwrap_or_default());
        } else {
            self.pending.extend_from_slice(input);
            let pending = core::mem::take(&mut self.pending);
            let used = self.consume(&pending, out);
            self.pending = pending;
            self.pending.drain(..used?);
        }
        if matches!(self.phase, Phase::FinalToEnd) {
            // The final chunk (tag included) is opened at `finish`; bound it meanwhile.
            self.check_chunk_len(self.pending.len() as u64)?;
        }
        Ok(())
    }

    /// Runs the state machine over `buf`; returns how many bytes it consumed.
    fn consume(&mut self, buf: &[u8], out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = 0;
        loop {
            let rest = buf.get(pos..).unwrap_or_default();
            match self.phase {
                Phase::Chunks => {
                    let Some((len, used)) = decode_len(self.dialect, rest)? else {
                        return Ok(pos);
                    };
                    if len == 0 {
                        pos += used;
                        self.phase = match self.dialect {
                            Dialect::Draft => Phase::FinalToEnd,
                            Dialect::Azure => Phase::FinalLength,
                        };
                        continue;
                    }
                    let len = self.check_chunk_len(len)?;
                    let Some(sealed) = rest.get(used..used + len) else {
                        return Ok(pos);
                    };
                    self.open_chunk(sealed, b"", out)?;
                    pos += used + len;
                }
                Phase::FinalToEnd | Phase::Done => return Ok(pos),
                Phase::FinalLength => {
                    let Some((len, used)) = decode_len(self.dialect, rest)? else {
                        return Ok(pos);
                    };
                    let len = self.check_chunk_len(len)?;
                    pos += used;
                    self.phase = Phase::FinalExact(len);
                }
                Phase::FinalExact(len) => {
                    let Some(sealed) = rest.get(..len) else {
                        return Ok(pos);
                    };
                    if rest.len() > len {
                        return Err(Error::Chunking("data after the final chunk"));
                    }
                    self.open_chunk(sealed, FINAL_AAD, out)?;
                    self.phase = Phase::Done;
                    return Ok(pos + len);
                }
            }
        }
    }

    fn finish(&mut self, out: &mut Vec<u8>) -> Result<()> {
        match self.phase {
            Phase::FinalToEnd => {
                let sealed = core::mem::take(&mut self.pending);
                self.open_chunk(&sealed, FINAL_AAD, out)?;
                self.phase = Phase::Done;
                Ok(())
            }
            Phase::Done => Ok(()),
            Phase::Chunks
                if self.empty_is_complete && self.chunks == 0 && self.pending.is_empty() =>
            {
                Ok(())
            }
            _ => Err(Error::Truncated {
                what: "chunked message (no final chunk)",
            }),
        }
    }

    fn buffered(&self) -> usize {
        self.pending.capacity()
    }
}

impl Client {
    /// Starts a chunked request (draft-ietf-ohai-chunked-ohttp). Returns the header and
    /// encapsulated key to send first, the sealer for the body chunks, and the decoder for
    /// the chunked response.
    pub fn encapsulate_chunked(
        &self,
        limits: ChunkLimits,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Vec<u8>, ChunkSealer, ChunkedResponseDecoder)> {
        self.chunked_with(limits, Ephemeral::Rng(rng))
    }

    /// Like [`encapsulate_chunked`](Self::encapsulate_chunked) with a fixed X25519 ephemeral
    /// secret. Only for reproducing published test vectors.
    #[cfg(feature = "test-vectors")]
    #[doc(hidden)]
    pub fn encapsulate_chunked_with_fixed_ephemeral(
        &self,
        limits: ChunkLimits,
        x25519_secret: &[u8; 32],
    ) -> Result<(Vec<u8>, ChunkSealer, ChunkedResponseDecoder)> {
        self.chunked_with(limits, Ephemeral::<NoRng>::FixedX25519(x25519_secret))
    }

    fn chunked_with<R: CryptoRng + ?Sized>(
        &self,
        limits: ChunkLimits,
        ephemeral: Ephemeral<'_, R>,
    ) -> Result<(Vec<u8>, ChunkSealer, ChunkedResponseDecoder)> {
        let (head, setup) = self.start_request(LABEL_CHUNKED_REQUEST, ephemeral)?;
        let secret = export_sender(&*setup.context, self.suite(), LABEL_CHUNKED_RESPONSE)?;
        let response =
            ChunkedResponseDecoder::new(self.suite(), setup.enc, secret, Dialect::Draft, limits);
        Ok((
            head,
            ChunkSealer {
                dialect: Dialect::Draft,
                cipher: Cipher::Seal(setup.context),
            },
            response,
        ))
    }
}

impl PendingResponse {
    /// The decoder for an Azure-dialect chunked response to this (plain RFC 9458) request.
    pub fn into_azure_chunked(self, limits: ChunkLimits) -> ChunkedResponseDecoder {
        let (suite, enc, secret) = self.into_parts();
        ChunkedResponseDecoder::new(suite, enc, secret, Dialect::Azure, limits)
    }
}

impl ResponseContext {
    /// Starts an Azure-dialect chunked response to a plain RFC 9458 request. Returns the
    /// response nonce to send first and the sealer for the chunks.
    pub fn into_azure_chunked(
        self,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Vec<u8>, ChunkSealer)> {
        let (suite, enc, secret) = self.into_parts();
        start_response(suite, &enc, &secret, Dialect::Azure, rng)
    }
}

pub(crate) fn start_response(
    suite: Suite,
    enc: &[u8],
    secret: &[u8],
    dialect: Dialect,
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<(Vec<u8>, ChunkSealer)> {
    let mut nonce = vec![0u8; suite.response_nonce_len()];
    rng.fill_bytes(&mut nonce);
    let aead = ResponseAead::new(suite, secret, enc, &nonce)?;
    Ok((
        nonce,
        ChunkSealer {
            dialect,
            cipher: Cipher::Response(aead),
        },
    ))
}

/// The client's decoder for a chunked response: the response nonce, then the chunks.
pub struct ChunkedResponseDecoder {
    suite: Suite,
    enc: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
    dialect: Dialect,
    limits: ChunkLimits,
    nonce: Vec<u8>,
    deframer: Option<Deframer>,
    empty_is_complete: bool,
}

impl core::fmt::Debug for ChunkedResponseDecoder {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkedResponseDecoder")
            .field("dialect", &self.dialect)
            .finish_non_exhaustive()
    }
}

impl ChunkedResponseDecoder {
    fn new(
        suite: Suite,
        enc: Vec<u8>,
        secret: Zeroizing<Vec<u8>>,
        dialect: Dialect,
        limits: ChunkLimits,
    ) -> Self {
        Self {
            suite,
            enc,
            secret,
            dialect,
            limits,
            nonce: Vec::new(),
            deframer: None,
            empty_is_complete: false,
        }
    }

    /// Treats a response of the nonce alone as complete and empty (Microsoft's raw-body
    /// answer to an empty target body).
    pub(crate) fn with_empty_complete(mut self) -> Self {
        self.empty_is_complete = true;
        self
    }

    /// Takes the next bytes of the response and appends any plaintext they complete to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.deframer.is_none() {
            let need = self.suite.response_nonce_len() - self.nonce.len();
            let (head, tail) = input.split_at(need.min(input.len()));
            self.nonce.extend_from_slice(head);
            input = tail;
            if self.nonce.len() < self.suite.response_nonce_len() {
                return Ok(());
            }
            let aead = ResponseAead::new(self.suite, &self.secret, &self.enc, &self.nonce)?;
            let mut deframer = Deframer::new(
                self.dialect,
                self.limits,
                Cipher::Response(aead),
                "response chunk",
            );
            deframer.empty_is_complete = self.empty_is_complete;
            self.deframer = Some(deframer);
        }
        match &mut self.deframer {
            Some(d) => d.push(input, out),
            None => Ok(()),
        }
    }

    /// Ends the response: opens the final chunk (draft) or checks that it arrived (Azure).
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<()> {
        match &mut self.deframer {
            Some(d) => d.finish(out),
            None => Err(Error::Truncated {
                what: "response nonce",
            }),
        }
    }

    /// The bytes held for the chunk in progress.
    pub fn buffered(&self) -> usize {
        self.deframer
            .as_ref()
            .map_or(self.nonce.len(), Deframer::buffered)
    }
}

struct RequestState {
    suite: Suite,
    enc: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
    deframer: Deframer,
}

/// The gateway's decoder for a chunked request: header and encapsulated key, then chunks.
pub struct ChunkedRequestDecoder<'a> {
    ring: &'a KeyRing,
    now: UnixTime,
    limits: ChunkLimits,
    head: Vec<u8>,
    state: Option<RequestState>,
}

impl core::fmt::Debug for ChunkedRequestDecoder<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkedRequestDecoder")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl<'a> ChunkedRequestDecoder<'a> {
    /// A decoder that opens requests with `ring`'s keys at `now`.
    pub fn new(ring: &'a KeyRing, now: UnixTime, limits: ChunkLimits) -> Self {
        Self {
            ring,
            now,
            limits,
            head: Vec::new(),
            state: None,
        }
    }

    /// Takes the next bytes of the request and appends any plaintext they complete to `out`.
    pub fn push(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<()> {
        if self.state.is_none() {
            // The fixed header first; it names the KEM, which fixes the encapsulated key length.
            loop {
                let target = match self.head.get(1..3) {
                    Some(&[a, b]) => {
                        HEADER_LEN + Kem::from_id(u16::from_be_bytes([a, b]))?.enc_len()
                    }
                    _ => HEADER_LEN,
                };
                if self.head.len() >= target {
                    break;
                }
                if input.is_empty() {
                    return Ok(());
                }
                let (head, tail) = input.split_at((target - self.head.len()).min(input.len()));
                self.head.extend_from_slice(head);
                input = tail;
            }
            let mut r = Reader::new(&self.head);
            let (suite, context, enc) =
                self.ring
                    .open_header(&mut r, LABEL_CHUNKED_REQUEST, self.now)?;
            r.finish("chunked request header")?;
            let secret = export_receiver(&*context, suite, LABEL_CHUNKED_RESPONSE)?;
            let deframer = Deframer::new(
                Dialect::Draft,
                self.limits,
                Cipher::Open(context),
                "request chunk",
            );
            self.state = Some(RequestState {
                suite,
                enc,
                secret,
                deframer,
            });
        }
        match &mut self.state {
            Some(state) => state.deframer.push(input, out),
            None => Ok(()),
        }
    }

    /// Ends the request: opens the final chunk and returns the context for the response.
    pub fn finish(mut self, out: &mut Vec<u8>) -> Result<ChunkedResponseContext> {
        match self.state.take() {
            Some(mut state) => {
                state.deframer.finish(out)?;
                Ok(ChunkedResponseContext {
                    suite: state.suite,
                    enc: state.enc,
                    secret: state.secret,
                })
            }
            None => Err(Error::Truncated {
                what: "chunked request header",
            }),
        }
    }

    /// The bytes held for the chunk in progress.
    pub fn buffered(&self) -> usize {
        self.state
            .as_ref()
            .map_or(self.head.len(), |state| state.deframer.buffered())
    }
}

/// The gateway's state for answering one chunked request.
pub struct ChunkedResponseContext {
    suite: Suite,
    enc: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for ChunkedResponseContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ChunkedResponseContext")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl ChunkedResponseContext {
    /// Starts the chunked response: returns the response nonce to send first and the sealer.
    pub fn start(self, rng: &mut (impl CryptoRng + ?Sized)) -> Result<(Vec<u8>, ChunkSealer)> {
        start_response(self.suite, &self.enc, &self.secret, Dialect::Draft, rng)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_at_every_encoding_boundary() {
        let values = [
            0usize,
            1,
            0x3f,
            0x40,
            0x3fff,
            0x4000,
            0x3fff_ffff,
            0x4000_0000,
            127,
            128,
            16_383,
            16_384,
        ];
        for dialect in [Dialect::Draft, Dialect::Azure] {
            for &v in &values {
                let mut out = Vec::new();
                encode_len(dialect, v, &mut out).unwrap();
                assert_eq!(
                    decode_len(dialect, &out).unwrap(),
                    Some((v as u64, out.len())),
                    "{dialect:?} {v}"
                );
                // Every strict prefix asks for more bytes.
                for cut in 0..out.len() {
                    assert_eq!(
                        decode_len(dialect, &out[..cut]).unwrap(),
                        None,
                        "{dialect:?} {v} cut {cut}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_encodings() {
        let enc = |d, v| {
            let mut out = Vec::new();
            encode_len(d, v, &mut out).unwrap();
            out
        };
        // RFC 9000 §16 and the LEB128 definition.
        assert_eq!(enc(Dialect::Draft, 37), [0x25]);
        assert_eq!(enc(Dialect::Draft, 15_293), [0x7b, 0xbd]);
        assert_eq!(enc(Dialect::Draft, 494_878_333), [0x9d, 0x7f, 0x3e, 0x7d]);
        assert_eq!(enc(Dialect::Azure, 624_485), [0xe5, 0x8e, 0x26]);
        assert_eq!(
            decode_len(
                Dialect::Draft,
                &[0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c]
            )
            .unwrap(),
            Some((151_288_809_941_952_652, 8))
        );
    }

    #[test]
    fn overlong_leb128_is_refused() {
        assert!(decode_len(Dialect::Azure, &[0xff; 11]).is_err());
        assert!(
            decode_len(
                Dialect::Azure,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]
            )
            .is_err()
        );
        assert_eq!(
            decode_len(
                Dialect::Azure,
                &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
            )
            .unwrap(),
            Some((u64::MAX, 10))
        );
    }
}
