//! Binary HTTP (RFC 9292) in pieces: an incremental request decoder and an indeterminate-length
//! encoder, so that a gateway forwards a body as it arrives and answers as the target answers.
//!
//! The `bhttp` crate parses whole messages; these hold at most one field section (bounded)
//! and pass content through.

use attested_types::UnixTime;

use crate::error::{Error, Result, within_limit};

/// The value of a `Date` field for `time`, as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37
/// GMT`, RFC 9110 §5.6.7). A client dates its inner request with it (RFC 9458 §6.5.1) so that
/// the gateway can refuse it once the request could have been forgotten; the gateway dates
/// its date problem with it (§6.5.2).
pub fn http_date(time: UnixTime) -> String {
    httpdate::fmt_http_date(time.into())
}

/// A `Date` field value as a time: any of the three HTTP-date formats (RFC 9110 §5.6.7),
/// surrounding whitespace ignored. `None` for anything else.
pub fn parse_http_date(value: &[u8]) -> Option<UnixTime> {
    let text = core::str::from_utf8(value).ok()?;
    httpdate::parse_http_date(text.trim())
        .ok()
        .map(UnixTime::from)
}

/// RFC 9292 §3.3 framing indicators.
const KNOWN_LENGTH_REQUEST: u64 = 0;
const INDETERMINATE_REQUEST: u64 = 2;
const INDETERMINATE_RESPONSE: u64 = 3;

/// Reads a QUIC varint (RFC 9000 §16) at `*pos`; `None` when more bytes are needed.
fn varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
    let rest = buf.get(*pos..)?;
    let &first = rest.first()?;
    let size = 1usize << (first >> 6);
    let bytes = rest.get(..size)?;
    let v = bytes
        .iter()
        .skip(1)
        .fold(u64::from(first & 0x3f), |v, b| (v << 8) | u64::from(*b));
    *pos += size;
    Some(v)
}

/// Reads a varint-length-prefixed byte string no longer than `max`; `Ok(None)` when more
/// bytes are needed.
fn string<'a>(
    buf: &'a [u8],
    pos: &mut usize,
    max: usize,
    what: &'static str,
) -> Result<Option<&'a [u8]>> {
    let mut at = *pos;
    let Some(len) = varint(buf, &mut at) else {
        return Ok(None);
    };
    let len = bounded(len, max, what)?;
    let Some(bytes) = buf.get(at..at + len) else {
        return Ok(None);
    };
    *pos = at + len;
    Ok(Some(bytes))
}

fn bounded(len: u64, max: usize, what: &'static str) -> Result<usize> {
    match usize::try_from(len) {
        Ok(n) if n <= max => Ok(n),
        _ => Err(Error::LimitExceeded {
            what,
            limit: max as u64,
            actual: len,
        }),
    }
}

fn write_varint(v: u64, out: &mut Vec<u8>) {
    let (size, tag) = match v {
        0..=0x3f => (1, 0x00),
        0x40..=0x3fff => (2, 0x40),
        0x4000..=0x3fff_ffff => (4, 0x80),
        _ => (8, 0xc0),
    };
    let bytes = (v & ((1 << 62) - 1)).to_be_bytes();
    let mut tail = bytes.iter().skip(8 - size);
    if let Some(first) = tail.next() {
        out.push(first | tag);
    }
    out.extend(tail);
}

fn write_string(bytes: &[u8], out: &mut Vec<u8>) {
    write_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn write_fields<'f>(fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>, out: &mut Vec<u8>) {
    for (name, value) in fields {
        write_string(name, out);
        write_string(value, out);
    }
    // The field section terminator.
    write_varint(0, out);
}

/// Appends the head of an indeterminate-length request (RFC 9292 §3.2): framing, control data
/// and header fields. Content chunks ([`encode_content_chunk`]) and [`encode_content_end`]
/// follow.
pub fn encode_request_head<'f>(
    method: &[u8],
    scheme: &[u8],
    authority: &[u8],
    path: &[u8],
    fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
    out: &mut Vec<u8>,
) {
    write_varint(INDETERMINATE_REQUEST, out);
    for part in [method, scheme, authority, path] {
        write_string(part, out);
    }
    write_fields(fields, out);
}

/// Appends the head of an indeterminate-length final response: framing, status, header fields.
pub fn encode_response_head<'f>(
    status: u16,
    fields: impl IntoIterator<Item = (&'f [u8], &'f [u8])>,
    out: &mut Vec<u8>,
) {
    write_varint(INDETERMINATE_RESPONSE, out);
    write_varint(u64::from(status), out);
    write_fields(fields, out);
}

/// Appends one content chunk of an indeterminate-length message; nothing for empty `data`,
/// since a zero length ends the content.
pub fn encode_content_chunk(data: &[u8], out: &mut Vec<u8>) {
    if !data.is_empty() {
        write_string(data, out);
    }
}

/// Appends the end of an indeterminate-length message: the content terminator and an empty
/// trailer section.
pub fn encode_content_end(out: &mut Vec<u8>) {
    write_varint(0, out);
    write_varint(0, out);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Framing,
    Control,
    /// Known-length mode: the header section as one length-prefixed block.
    KnownFields,
    /// Indeterminate mode: field lines up to a zero-length name.
    Fields,
    /// Where the content starts; the message may end here (RFC 9292 §3.8).
    ContentStart,
    Content {
        remaining: u64,
    },
    /// Indeterminate mode: the next chunk length (zero ends the content).
    ChunkLength,
    /// Where the trailer starts; the message may end here.
    TrailerStart,
    Trailer,
    Padding,
}

impl Phase {
    /// Whether the phase reads a bounded section (the head, or a trailer).
    fn in_section(self) -> bool {
        matches!(
            self,
            Phase::Framing | Phase::Control | Phase::KnownFields | Phase::Fields | Phase::Trailer
        )
    }
}

/// Decodes a binary HTTP request (RFC 9292) as its bytes arrive: the head (control data and
/// header fields) once complete, then the content, passed through chunk by chunk.
///
/// Memory stays bounded by [`InnerLimits`]: the longest head or trailer section, the number of
/// header fields and the content length accepted, plus the bytes of the latest
/// [`push`](Self::push). Every inner request a [`Gateway`](crate::Gateway) reads, one-shot,
/// Azure or streamed, goes through this decoder.
pub struct InnerRequestDecoder {
    phase: Phase,
    known_length: bool,
    max_section: usize,
    max_fields: usize,
    max_content: u64,
    /// Content bytes passed through so far.
    content_len: u64,
    /// Bytes of the section in progress (head or trailer).
    section: usize,
    /// Field lines of the section in progress.
    section_fields: usize,
    pending: Vec<u8>,
    control: Vec<Vec<u8>>,
    fields: Vec<(Vec<u8>, Vec<u8>)>,
    head: Option<bhttp::Message>,
}

impl core::fmt::Debug for InnerRequestDecoder {
    /// The request is the client's secret: only the phase is printed.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("InnerRequestDecoder")
            .field("phase", &self.phase)
            .finish_non_exhaustive()
    }
}

/// The bounds of one inner request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InnerLimits {
    /// The longest head (control data and header fields) or trailer section, in bytes.
    pub max_head_len: usize,
    /// The most header (or trailer) fields in one section.
    pub max_fields: usize,
    /// The most content bytes.
    pub max_content_len: u64,
}

impl Default for InnerLimits {
    /// 64 KiB of head, 128 fields, 64 MiB of content.
    fn default() -> Self {
        Self {
            max_head_len: 64 * 1024,
            max_fields: 128,
            max_content_len: 64 << 20,
        }
    }
}

impl InnerRequestDecoder {
    /// A decoder refusing head and trailer sections longer than `max_section` bytes, with the
    /// default field and content limits.
    pub fn new(max_section: usize) -> Self {
        Self::with_limits(InnerLimits {
            max_head_len: max_section,
            ..InnerLimits::default()
        })
    }

    /// A decoder bounded by `limits`.
    pub fn with_limits(limits: InnerLimits) -> Self {
        Self {
            phase: Phase::Framing,
            known_length: false,
            max_section: limits.max_head_len,
            max_fields: limits.max_fields,
            max_content: limits.max_content_len,
            content_len: 0,
            section: 0,
            section_fields: 0,
            pending: Vec::new(),
            control: Vec::with_capacity(4),
            fields: Vec::new(),
            head: None,
        }
    }

    /// The request head (control data and header fields, no content), once, when complete.
    pub fn take_head(&mut self) -> Option<bhttp::Message> {
        self.head.take()
    }

    /// Takes the next bytes of the request and appends the content they carry to `content`.
    pub fn push(&mut self, input: &[u8], content: &mut Vec<u8>) -> Result<()> {
        if self.pending.is_empty() {
            // Parsed in place: a whole one-shot request is never copied, and only an
            // incomplete tail within the section limit is kept.
            let used = self.advance(input, content)?;
            let rest = input.get(used..).unwrap_or_default();
            self.check_held(rest.len())?;
            self.pending.extend_from_slice(rest);
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let buf = core::mem::take(&mut self.pending);
        let used = self.advance(&buf, content)?;
        self.pending = buf;
        self.pending.drain(..used.min(self.pending.len()));
        self.check_held(self.pending.len())
    }

    /// Refuses to hold `pending` more bytes of a section beyond the section limit.
    fn check_held(&self, pending: usize) -> Result<()> {
        if !self.phase.in_section() {
            return Ok(());
        }
        let held = self.section.saturating_add(pending);
        within_limit(
            "binary HTTP field section",
            held as u64,
            self.max_section as u64,
        )
    }

    /// Ends the request: refuses it unless it ended at a point RFC 9292 allows.
    pub fn finish(self) -> Result<()> {
        match self.phase {
            Phase::ContentStart | Phase::TrailerStart | Phase::Padding => Ok(()),
            Phase::Framing | Phase::Control | Phase::KnownFields | Phase::Fields => {
                Err(Error::Truncated {
                    what: "binary HTTP request head",
                })
            }
            Phase::Content { .. } | Phase::ChunkLength => Err(Error::Truncated {
                what: "binary HTTP request content",
            }),
            Phase::Trailer => Err(Error::Truncated {
                what: "binary HTTP request trailer",
            }),
        }
    }

    fn section_grew(&mut self, by: usize) -> Result<()> {
        self.section = self.section.saturating_add(by);
        within_limit(
            "binary HTTP field section",
            self.section as u64,
            self.max_section as u64,
        )
    }

    /// Parses as much of `buf` as is complete; returns how many bytes were used.
    fn advance(&mut self, buf: &[u8], content: &mut Vec<u8>) -> Result<usize> {
        let max = self.max_section;
        let mut pos = 0;
        loop {
            let start = pos;
            let counted = self.phase.in_section();
            match self.phase {
                Phase::Framing => {
                    let Some(framing) = varint(buf, &mut pos) else {
                        return Ok(start);
                    };
                    self.known_length = match framing {
                        KNOWN_LENGTH_REQUEST => true,
                        INDETERMINATE_REQUEST => false,
                        _ => {
                            return Err(Error::Bhttp(format!(
                                "framing indicator {framing} is not a request"
                            )));
                        }
                    };
                    self.phase = Phase::Control;
                }
                Phase::Control => {
                    let Some(part) = string(buf, &mut pos, max, "binary HTTP control data")? else {
                        return Ok(start);
                    };
                    self.control.push(part.to_vec());
                    if self.control.len() == 4 {
                        self.phase = if self.known_length {
                            Phase::KnownFields
                        } else {
                            Phase::Fields
                        };
                    }
                }
                Phase::KnownFields => {
                    let Some(block) = string(buf, &mut pos, max, "binary HTTP field section")?
                    else {
                        return Ok(start);
                    };
                    parse_field_block(block, self.max_fields, &mut self.fields)?;
                    self.end_head()?;
                }
                Phase::Fields | Phase::Trailer => {
                    let mut at = pos;
                    let Some(name) = string(buf, &mut at, max, "binary HTTP field name")? else {
                        return Ok(start);
                    };
                    if name.is_empty() {
                        pos = at;
                        if self.phase == Phase::Fields {
                            self.end_head()?;
                        } else {
                            self.phase = Phase::Padding;
                        }
                    } else {
                        let Some(value) = string(buf, &mut at, max, "binary HTTP field value")?
                        else {
                            return Ok(start);
                        };
                        self.section_fields = self.section_fields.saturating_add(1);
                        if self.section_fields > self.max_fields {
                            return Err(too_many_fields(self.max_fields, self.section_fields));
                        }
                        if self.phase == Phase::Fields {
                            self.fields.push((name.to_vec(), value.to_vec()));
                        }
                        pos = at;
                    }
                }
                Phase::ContentStart | Phase::ChunkLength => {
                    let Some(len) = varint(buf, &mut pos) else {
                        return Ok(start);
                    };
                    self.phase = match len {
                        0 => Phase::TrailerStart,
                        remaining => {
                            self.content_grew(remaining)?;
                            Phase::Content { remaining }
                        }
                    };
                }
                Phase::Content { remaining } => {
                    let available = buf.get(pos..).unwrap_or_default();
                    if available.is_empty() {
                        return Ok(pos);
                    }
                    let take = usize::try_from(remaining)
                        .unwrap_or(usize::MAX)
                        .min(available.len());
                    content.extend_from_slice(available.get(..take).unwrap_or_default());
                    pos += take;
                    let remaining = remaining - take as u64;
                    self.phase = match (remaining, self.known_length) {
                        (0, true) => Phase::TrailerStart,
                        (0, false) => Phase::ChunkLength,
                        (remaining, _) => Phase::Content { remaining },
                    };
                }
                Phase::TrailerStart => {
                    if self.known_length {
                        let Some(block) =
                            string(buf, &mut pos, max, "binary HTTP trailer section")?
                        else {
                            return Ok(start);
                        };
                        parse_field_block(block, self.max_fields, &mut Vec::new())?;
                        self.phase = Phase::Padding;
                    } else if buf.get(pos..).is_some_and(|rest| !rest.is_empty()) {
                        self.phase = Phase::Trailer;
                    } else {
                        return Ok(pos);
                    }
                }
                Phase::Padding => {
                    let rest = buf.get(pos..).unwrap_or_default();
                    if rest.iter().any(|b| *b != 0) {
                        return Err(Error::Bhttp("non-zero padding after the request".into()));
                    }
                    return Ok(buf.len());
                }
            }
            if counted {
                self.section_grew(pos - start)?;
                if !self.phase.in_section() {
                    self.section = 0;
                    self.section_fields = 0;
                }
            }
        }
    }

    /// Counts `len` more content bytes, announced by a length prefix, against the limit
    /// before any of them is read.
    fn content_grew(&mut self, len: u64) -> Result<()> {
        self.content_len = self.content_len.saturating_add(len);
        within_limit(
            "binary HTTP request content",
            self.content_len,
            self.max_content,
        )
    }

    fn end_head(&mut self) -> Result<()> {
        let mut parts = core::mem::take(&mut self.control).into_iter();
        let mut next = || parts.next().unwrap_or_default();
        let (method, scheme, authority, path) = (next(), next(), next(), next());
        let mut head = bhttp::Message::request(method, scheme, authority, path);
        for (name, value) in core::mem::take(&mut self.fields) {
            head.put_header(name, value);
        }
        self.head = Some(head);
        self.phase = Phase::ContentStart;
        Ok(())
    }
}

fn too_many_fields(limit: usize, actual: usize) -> Error {
    Error::LimitExceeded {
        what: "binary HTTP header fields",
        limit: limit as u64,
        actual: actual as u64,
    }
}

/// Parses the field lines of a known-length field section into `fields`, at most
/// `max_fields` of them.
fn parse_field_block(
    block: &[u8],
    max_fields: usize,
    fields: &mut Vec<(Vec<u8>, Vec<u8>)>,
) -> Result<()> {
    let mut pos = 0;
    let mut count = 0usize;
    while pos < block.len() {
        count += 1;
        if count > max_fields {
            return Err(too_many_fields(max_fields, count));
        }
        let name = string(block, &mut pos, block.len(), "binary HTTP field name")?;
        let value = string(block, &mut pos, block.len(), "binary HTTP field value")?;
        match (name, value) {
            (Some(name), Some(value)) if !name.is_empty() => {
                fields.push((name.to_vec(), value.to_vec()));
            }
            (Some(_), Some(_)) => return Err(Error::Bhttp("empty field name".into())),
            _ => {
                return Err(Error::Truncated {
                    what: "binary HTTP field line",
                });
            }
        }
    }
    Ok(())
}
