//! The client side of `whisper-client`: verify an attested OHTTP gateway, build the
//! OpenAI-style transcription request, read the answer.

use std::io::{Cursor, Read};
use std::path::Path;

use attested_ohttp::bhttp::{Message, Mode};
use attested_ohttp::{
    Accepted, Client, chunked::ChunkLimits, chunked::ChunkSealer, chunked::ChunkedResponseDecoder,
    client::PendingResponse, gateway::MEDIA_TYPE_CHUNKED_REQUEST, gateway::MEDIA_TYPE_REQUEST,
    message::encode_content_chunk, message::encode_content_end, message::encode_request_head,
};
use futures_util::StreamExt;

use attested_tdx::{AcceptedQuote, TdxAppraiser, UnixTime};

use crate::tls::read_capped;

/// The largest `/attestation` answer read: a hex quote with its certification data (about
/// 10 KB) or a Nitro document (about 10 KB), and a token, in JSON.
pub const MAX_ATTESTATION_LEN: usize = 1 << 20;

/// The most of an outer error body read (it is shown, never parsed).
const MAX_ERROR_BODY_LEN: usize = 64 << 10;

/// Why a transcription failed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The gateway answered with the RFC 9458 §5.3 `ohttp-key` problem: it no longer (or not
/// yet) holds the key the request used. Fetch the keys and evidence again, and retry once.
#[derive(Debug, thiserror::Error)]
#[error("the gateway does not hold the key configuration used (RFC 9458 §5.3 ohttp-key problem)")]
pub struct KeyProblem;

/// The gateway refused the request's inner `Date` with the RFC 9458 §6.5.2 date problem:
/// this client's clock is off. [`transcribe_file`] retries once, dated at `gateway_time`.
#[derive(Debug, thiserror::Error)]
#[error("the gateway's clock reads {} (RFC 9458 §6.5.2 date problem)", .gateway_time)]
pub struct DateProblem {
    /// The gateway's `Date`.
    pub gateway_time: UnixTime,
}

/// Whether `error` is the gateway's [`KeyProblem`].
pub fn is_key_problem(error: &(dyn std::error::Error + 'static)) -> bool {
    error.downcast_ref::<KeyProblem>().is_some()
}

/// Refuses an unsuccessful outer response, as a [`KeyProblem`] when it is one.
fn refuse_outer(status: reqwest::StatusCode, content_type: Option<&str>, body: &[u8]) -> BoxError {
    if attested_ohttp::client::is_key_problem(status.as_u16(), content_type, body) {
        return Box::new(KeyProblem);
    }
    format!("gateway answered {status}").into()
}

fn content_type(reply: &reqwest::Response) -> Option<String> {
    let value = reply.headers().get(reqwest::header::CONTENT_TYPE)?;
    value.to_str().ok().map(str::to_owned)
}

/// Fetches the gateway's key configuration list and attestation, appraises the quote with
/// `appraiser` now, and returns an OHTTP client for keys that the accepted quote binds.
pub async fn verified_gateway(
    http: &reqwest::Client,
    base: &str,
    appraiser: &TdxAppraiser,
) -> Result<(Client, AcceptedQuote), BoxError> {
    verified_gateway_with(http, base, "", |attestation| {
        let quote = attestation
            .pointer("/evidence/quote")
            .and_then(|q| q.as_str())
            .ok_or("the gateway's attestation carries no TDX quote")?;
        let quote = hex::decode(quote).map_err(|_| "the gateway's quote is not hex")?;
        appraiser
            .appraise_quote(&quote, UnixTime::now())
            .map_err(|e| format!("gateway quote refused: {e}").into())
    })
    .await
}

/// Fetches the gateway's key configuration list and `GET /attestation{query}`, verifies the
/// attestation with `verify`, and returns an OHTTP client for keys that the verified evidence
/// binds.
pub async fn verified_gateway_with<E: AsRef<Accepted>>(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    verify: impl FnOnce(&serde_json::Value) -> Result<E, BoxError>,
) -> Result<(Client, E), BoxError> {
    let base = base.trim_end_matches('/');
    let keys = read_capped(
        http.get(format!("{base}/ohttp-keys"))
            .send()
            .await?
            .error_for_status()?,
        attested_ohttp::keys::MAX_KEY_LIST_LEN,
    )
    .await?;
    let attestation = fetch_attestation(http, &format!("{base}/attestation{query}")).await?;
    let verified = verify(&attestation)?;
    let client = Client::new(&keys, verified.as_ref())
        .map_err(|e| format!("gateway key configuration refused: {e}"))?;
    Ok((client, verified))
}

/// `GET url`: the gateway's attestation JSON, read under [`MAX_ATTESTATION_LEN`].
async fn fetch_attestation(
    http: &reqwest::Client,
    url: &str,
) -> Result<serde_json::Value, BoxError> {
    let body = read_capped(
        http.get(url).send().await?.error_for_status()?,
        MAX_ATTESTATION_LEN,
    )
    .await?;
    Ok(serde_json::from_slice(&body)?)
}

/// The path of OpenAI-style transcription endpoints.
const TRANSCRIPTIONS: &[u8] = b"/v1/audio/transcriptions";

/// How the audio travels to the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// One RFC 9458 message (the file is read whole).
    OneShot,
    /// The Azure dialect: a plain RFC 9458 request answered with a chunked response.
    Azure,
    /// draft-ietf-ohai-chunked-ohttp: the file streams from disk in chunks of this many bytes.
    Chunked {
        /// Audio bytes per chunk.
        chunk_size: usize,
    },
}

/// An audio file and what to ask of the transcription service.
#[derive(Clone, Copy, Debug)]
pub struct Transcription<'a> {
    /// The audio file.
    pub file: &'a Path,
    /// The transcription model.
    pub model: &'a str,
    /// The inner request authority (on the gateway's allow-list).
    pub authority: &'a str,
}

impl Transcription<'_> {
    fn file_name(&self) -> &str {
        self.file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("audio")
    }
}

/// Limits on the gateway's chunked answer.
fn response_limits() -> ChunkLimits {
    ChunkLimits {
        max_chunk_len: 1 << 20,
        max_total_len: 64 << 20,
        ..ChunkLimits::default()
    }
}

/// Transcribes `job.file` through the gateway at `url` (or a relay to it) and returns the
/// transcription service's answer. `progress(sent, total)` follows the audio bytes handed to
/// the connection. The inner request is dated `now` (RFC 9458 §6.5.1); on the gateway's
/// [`DateProblem`] (`now` is off) it is sent once more, freshly encapsulated and dated at the
/// gateway's time (§6.5.2).
pub async fn transcribe_file(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    job: &Transcription<'_>,
    transport: Transport,
    now: UnixTime,
    progress: impl FnMut(u64, u64) + Send + 'static,
) -> Result<Vec<u8>, BoxError> {
    // Both attempts report to the caller's one `progress`.
    let progress = std::sync::Arc::new(std::sync::Mutex::new(progress));
    let first = transcribe_file_dated(http, url, client, job, transport, now, follow(&progress));
    match first.await {
        Err(e) => match e.downcast_ref::<DateProblem>() {
            Some(problem) => {
                let date = problem.gateway_time;
                transcribe_file_dated(http, url, client, job, transport, date, follow(&progress))
                    .await
            }
            None => Err(e),
        },
        done => done,
    }
}

/// A progress callback that calls the shared `progress`.
fn follow<P: FnMut(u64, u64) + Send + 'static>(
    progress: &std::sync::Arc<std::sync::Mutex<P>>,
) -> impl FnMut(u64, u64) + Send + 'static {
    let progress = std::sync::Arc::clone(progress);
    move |sent, total| {
        let mut progress = progress
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (*progress)(sent, total);
    }
}

/// [`transcribe_file`] with the inner request dated `date`.
async fn transcribe_file_dated(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    job: &Transcription<'_>,
    transport: Transport,
    date: UnixTime,
    mut progress: impl FnMut(u64, u64) + Send + 'static,
) -> Result<Vec<u8>, BoxError> {
    let chunk_size = match transport {
        Transport::Chunked { chunk_size } => chunk_size.max(1),
        Transport::OneShot | Transport::Azure => {
            let audio = std::fs::read(job.file)?;
            let total = audio.len() as u64;
            let inner =
                transcription_request_at(&audio, job.file_name(), job.model, job.authority, date)?;
            drop(audio);
            let answer = if transport == Transport::Azure {
                transcribe_azure(http, url, client, &inner).await
            } else {
                transcribe_one_shot(http, url, client, &inner).await
            };
            progress(total, total);
            return answer;
        }
    };
    let file = std::fs::File::open(job.file)?;
    let total = file.metadata()?.len();
    let boundary = new_boundary();
    let (prefix, suffix) = multipart_frame(job.file_name(), job.model, &boundary);
    let content_type = multipart_content_type(&boundary);
    let date = attested_ohttp::message::http_date(date);
    let mut first = Vec::new();
    encode_request_head(
        b"POST",
        b"https",
        job.authority.as_bytes(),
        TRANSCRIPTIONS,
        [
            (&b"content-type"[..], content_type.as_bytes()),
            (&b"date"[..], date.as_bytes()),
        ],
        &mut first,
    );
    encode_content_chunk(&prefix, &mut first);
    let (mut head, mut sealer, decoder) =
        client.encapsulate_chunked(response_limits(), &mut rand::rng())?;
    sealer.seal_chunk(&first, &mut head)?;
    let upload = FileUpload {
        file: Some(file),
        sealer: Some(sealer),
        chunk_size,
        suffix,
        in_flight: 0,
        sent: 0,
    };
    // Hyper asks for the next frame once it has written the previous one, so progress is
    // counted a frame late: bytes sent, not bytes sealed.
    let frames = futures_util::stream::unfold(upload, move |mut upload| {
        let moved = std::mem::take(&mut upload.in_flight);
        if moved > 0 {
            upload.sent += moved;
            progress(upload.sent, total);
        }
        async move {
            let frame = upload.next_frame().await?;
            Some((frame, upload))
        }
    });
    let body = futures_util::stream::once(async { Ok(head) }).chain(frames);
    let reply = http
        .post(url)
        .header("content-type", MEDIA_TYPE_CHUNKED_REQUEST)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await?;
    read_chunked_answer(reply, decoder).await
}

/// The audio file as chunks of an indeterminate-length inner request, sealed one by one.
struct FileUpload {
    file: Option<std::fs::File>,
    sealer: Option<ChunkSealer>,
    chunk_size: usize,
    suffix: Vec<u8>,
    /// Audio bytes in the frame handed out last.
    in_flight: u64,
    sent: u64,
}

impl FileUpload {
    /// The next sealed frame; `None` after the final chunk (or an error).
    async fn next_frame(&mut self) -> Option<Result<Vec<u8>, std::io::Error>> {
        let file = self.file.take()?;
        let chunk_size = self.chunk_size;
        let read = tokio::task::spawn_blocking(move || {
            let mut audio = vec![0; chunk_size];
            let n = read_up_to(&file, &mut audio)?;
            audio.truncate(n);
            Ok::<_, std::io::Error>((file, audio))
        })
        .await
        .map_err(std::io::Error::other)
        .and_then(|read| read);
        let (file, audio) = match read {
            Ok(read) => read,
            Err(e) => return Some(Err(e)),
        };
        let mut plaintext = Vec::with_capacity(audio.len() + 8);
        let mut out = Vec::with_capacity(audio.len() + 32);
        let sealed = if audio.is_empty() {
            encode_content_chunk(&self.suffix, &mut plaintext);
            encode_content_end(&mut plaintext);
            self.sealer.take()?.seal_final(&plaintext, &mut out)
        } else {
            encode_content_chunk(&audio, &mut plaintext);
            self.file = Some(file);
            self.in_flight = audio.len() as u64;
            self.sealer.as_mut()?.seal_chunk(&plaintext, &mut out)
        };
        Some(sealed.map(|()| out).map_err(std::io::Error::other))
    }
}

/// Fills `buf` from `file` unless the file ends first; returns how many bytes were read.
fn read_up_to(mut file: &std::fs::File, buf: &mut [u8]) -> Result<usize, std::io::Error> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match file.read(rest)? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

/// Reads a chunked answer as it arrives and returns the transcription service's answer.
async fn read_chunked_answer(
    reply: reqwest::Response,
    mut decoder: ChunkedResponseDecoder,
) -> Result<Vec<u8>, BoxError> {
    let status = reply.status();
    if !status.is_success() {
        let kind = content_type(&reply);
        let body = read_capped(reply, MAX_ERROR_BODY_LEN)
            .await
            .unwrap_or_default();
        return Err(refuse_outer(status, kind.as_deref(), &body));
    }
    let mut plain = Vec::new();
    let mut bytes = reply.bytes_stream();
    while let Some(frame) = bytes.next().await {
        decoder.push(&frame?, &mut plain)?;
    }
    decoder.finish(&mut plain)?;
    transcription_response(&plain)
}

fn new_boundary() -> String {
    format!("attested-{}", hex::encode(rand::random::<[u8; 8]>()))
}

fn multipart_content_type(boundary: &str) -> String {
    format!("multipart/form-data; boundary={boundary}")
}

/// The binary HTTP `POST /v1/audio/transcriptions` request (multipart) for `audio`, dated
/// now: [`transcription_request_at`] with the system clock.
pub fn transcription_request(
    audio: &[u8],
    file_name: &str,
    model: &str,
    authority: &str,
) -> Result<Vec<u8>, BoxError> {
    transcription_request_at(audio, file_name, model, authority, UnixTime::now())
}

/// The binary HTTP `POST /v1/audio/transcriptions` request (multipart) for `audio`, with the
/// inner `Date: now` of RFC 9458 §6.5.1: the gateway refuses it outside its replay window,
/// so that it cannot be replayed once the gateway has forgotten it.
pub fn transcription_request_at(
    audio: &[u8],
    file_name: &str,
    model: &str,
    authority: &str,
    now: UnixTime,
) -> Result<Vec<u8>, BoxError> {
    multipart_request(
        audio,
        file_name,
        model,
        authority.as_bytes(),
        TRANSCRIPTIONS,
        Some(now),
    )
}

/// A binary HTTP `POST path` to `authority` (empty: none) carrying `audio` as the
/// `multipart/form-data` upload the transcription endpoints take, dated `date` if given.
fn multipart_request(
    audio: &[u8],
    file_name: &str,
    model: &str,
    authority: &[u8],
    path: &[u8],
    date: Option<UnixTime>,
) -> Result<Vec<u8>, BoxError> {
    let boundary = new_boundary();
    let mut request = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        authority.to_vec(),
        path.to_vec(),
    );
    request.put_header("content-type", multipart_content_type(&boundary));
    if let Some(date) = date {
        request.put_header("date", attested_ohttp::message::http_date(date));
    }
    let (prefix, suffix) = multipart_frame(file_name, model, &boundary);
    let mut body = Vec::with_capacity(prefix.len() + audio.len() + suffix.len());
    for part in [&prefix[..], audio, &suffix] {
        body.extend_from_slice(part);
    }
    request.write_content(body);
    let mut inner = Vec::new();
    request.write_bhttp(Mode::KnownLength, &mut inner)?;
    Ok(inner)
}

/// The content of a decapsulated binary HTTP response, refused unless its status is 200.
pub fn transcription_response(response: &[u8]) -> Result<Vec<u8>, BoxError> {
    let message = Message::read_bhttp(&mut Cursor::new(response))?;
    let status = message
        .control()
        .status()
        .map(|s| s.code())
        .unwrap_or_default();
    if let Some(gateway_time) = attested_ohttp::client::date_problem(&message) {
        return Err(Box::new(DateProblem { gateway_time }));
    }
    if status != 200 {
        return Err(format!(
            "transcription service answered {status}: {}",
            String::from_utf8_lossy(message.content())
        )
        .into());
    }
    Ok(message.content().to_vec())
}

/// Encapsulates `inner` in one HPKE message and posts it to `url` as `media_type`.
async fn post_encapsulated(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    inner: &[u8],
    media_type: &'static str,
) -> Result<(reqwest::Response, PendingResponse), BoxError> {
    let (enc, pending) = client.encapsulate(inner, &mut rand::rng())?;
    let reply = http
        .post(url)
        .header("content-type", media_type)
        .body(enc)
        .send()
        .await?;
    Ok((reply, pending))
}

/// Sends `inner` one-shot (RFC 9458) to `url` and returns the transcription service's answer.
pub async fn transcribe_one_shot(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    inner: &[u8],
) -> Result<Vec<u8>, BoxError> {
    let (reply, pending) = post_encapsulated(http, url, client, inner, MEDIA_TYPE_REQUEST).await?;
    let status = reply.status();
    let kind = content_type(&reply);
    if !status.is_success() {
        let body = read_capped(reply, MAX_ERROR_BODY_LEN)
            .await
            .unwrap_or_default();
        return Err(refuse_outer(status, kind.as_deref(), &body));
    }
    // A one-shot answer is one sealed message: as large as the chunked answers read.
    let limit = usize::try_from(response_limits().max_total_len).unwrap_or(usize::MAX);
    let bytes = read_capped(reply, limit.saturating_add(1 << 10)).await?;
    transcription_response(&pending.decapsulate(&bytes)?)
}

/// Sends `inner` in the Azure dialect (a plain request under the chunked media type) and
/// reads the chunked answer.
pub async fn transcribe_azure(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    inner: &[u8],
) -> Result<Vec<u8>, BoxError> {
    let (reply, pending) =
        post_encapsulated(http, url, client, inner, MEDIA_TYPE_CHUNKED_REQUEST).await?;
    read_chunked_answer(reply, pending.into_azure_chunked(response_limits())).await
}

/// The multipart body around the audio: the text fields and the file part's header, then
/// the closing delimiter.
fn multipart_frame(file_name: &str, model: &str, boundary: &str) -> (Vec<u8>, Vec<u8>) {
    let text_part = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let prefix = format!(
        "{}{}--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n",
        text_part("model", model),
        text_part("response_format", "json"),
    );
    let suffix = format!("\r\n--{boundary}--\r\n");
    (prefix.into_bytes(), suffix.into_bytes())
}

/// One outer header from `NAME: VALUE`, split at the first `:` with the value trimmed, as
/// Microsoft's client reads `-O` (attested-ohttp-client `ohttp-client/src/lib.rs:286-293`).
pub fn parse_outer_header(line: &str) -> Result<(String, String), String> {
    let (name, value) = line
        .split_once(':')
        .ok_or_else(|| format!("--outer-header {line:?}: expected NAME: VALUE"))?;
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("--outer-header {line:?}: empty name"));
    }
    Ok((name.to_owned(), value.trim().to_owned()))
}

/// Keys from an Azure KMS, as Microsoft's client takes them (`ohttp-client/src/lib.rs:
/// 167-240`): `GET {kms}/listpubkeys` with the pinned service certificate as the only TLS
/// root, 202 retried after a pause, any other non-200 refused, and the last entry whose CCF
/// receipt verifies (fail-closed, `claims_digest` included) used.
pub async fn kms_client(
    kms_url: &str,
    service_cert_pem: &[u8],
    now: UnixTime,
) -> Result<(Client, attested_ohttp::kms::KmsKey), BoxError> {
    use attested_ohttp::{
        kms::KMS_PENDING_PAUSE, kms::KmsTrust, kms::LISTPUBKEYS_PATH, kms::ListPubKeysStatus,
        kms::MAX_LISTPUBKEYS_LEN,
    };
    let trust = KmsTrust::from_pem(service_cert_pem)?;
    let http = crate::tls::pinned_http(service_cert_pem)?;
    let url = format!("{}{LISTPUBKEYS_PATH}", kms_url.trim_end_matches('/'));
    let mut retries = 0;
    let body = loop {
        let reply = http.get(&url).send().await?;
        match ListPubKeysStatus::classify(reply.status().as_u16(), retries)? {
            ListPubKeysStatus::Pending => {
                retries += 1;
                tokio::time::sleep(KMS_PENDING_PAUSE).await;
            }
            _ => break read_capped(reply, MAX_LISTPUBKEYS_LEN).await?,
        }
    };
    let key = trust.last_verified(&body, now)?;
    let client = Client::from_verified(
        key.verified(),
        &attested_ohttp::client::Preference::default(),
    )?;
    Ok((client, key))
}

/// Keys from `{origin}/discover` (hex of the key configuration list, as Microsoft's server
/// answers in local-key mode: `ohttp-server/src/lib.rs:324-331`), bound by the TDX evidence at
/// `{origin}/attestation` (an `ohttp-gateway --azure-compat` serves both).
pub async fn discover_client(
    http: &reqwest::Client,
    origin: &str,
    appraiser: &TdxAppraiser,
) -> Result<(Client, AcceptedQuote), BoxError> {
    let origin = origin.trim_end_matches('/');
    let hex_list = read_capped(
        http.get(format!(
            "{origin}{}",
            attested_ohttp::azure::AZURE_DISCOVER_PATH
        ))
        .send()
        .await?
        .error_for_status()?,
        attested_ohttp::azure::AZURE_MAX_DISCOVER_LEN,
    )
    .await?;
    let keys = attested_ohttp::azure::azure_parse_discover(&hex_list)?;
    let attestation = fetch_attestation(http, &format!("{origin}/attestation")).await?;
    let quote = attestation
        .pointer("/evidence/quote")
        .and_then(|q| q.as_str())
        .ok_or("the gateway's attestation carries no TDX quote")?;
    let quote = hex::decode(quote).map_err(|_| "the gateway's quote is not hex")?;
    let verified = appraiser
        .appraise_quote(&quote, UnixTime::now())
        .map_err(|e| format!("gateway quote refused: {e}"))?;
    let client = Client::new(&keys, verified.as_ref())
        .map_err(|e| format!("gateway key configuration refused: {e}"))?;
    Ok((client, verified))
}

/// The multipart transcription request as Microsoft's client builds it: origin form with an
/// empty authority (`POST {path} HTTP/1.1` turned into binary HTTP, `ohttp-client/src/lib.rs:
/// 45-48`, microsoft/ohttp `bhttp/src/lib.rs:457-466`) and the path `inner_path`.
pub fn azure_transcription_request(
    audio: &[u8],
    file_name: &str,
    model: &str,
    inner_path: &str,
) -> Result<Vec<u8>, BoxError> {
    multipart_request(audio, file_name, model, b"", inner_path.as_bytes(), None)
}

/// What Microsoft's endpoint answered.
#[derive(Debug)]
pub struct AzureAnswer {
    /// The outer status: the target's, in Microsoft's answer (not authenticated).
    pub status: u16,
    /// The decrypted body, or the outer body as it came when it was not encrypted to us
    /// (an error from the endpoint's front door or Microsoft's server, in clear).
    pub body: Vec<u8>,
    /// Whether `body` was decrypted.
    pub decrypted: bool,
}

/// The most of a clear (undecryptable) error body kept.
const CLEAR_ERROR_LIMIT: usize = 4096;

/// Posts `inner` to Microsoft's endpoint URL itself (`ohttp-client/src/lib.rs:274-303`): a plain
/// RFC 9458 request as `message/ohttp-chunked-req`, with `outer_headers` (e.g. `api-key`), and
/// reads the answer: the outer status, the body as the decrypted chunk stream.
pub async fn transcribe_azure_endpoint(
    http: &reqwest::Client,
    url: &str,
    outer_headers: &[(String, String)],
    client: &Client,
    inner: &[u8],
) -> Result<AzureAnswer, BoxError> {
    let (enc, pending) = client.encapsulate(inner, &mut rand::rng())?;
    post_azure_encapsulated(http, url, outer_headers, enc, pending).await
}

/// [`transcribe_azure_endpoint`] for a request already encapsulated (`enc`, answered through
/// `pending`): a load driver encapsulates before its clock starts.
pub async fn post_azure_encapsulated(
    http: &reqwest::Client,
    url: &str,
    outer_headers: &[(String, String)],
    enc: Vec<u8>,
    pending: PendingResponse,
) -> Result<AzureAnswer, BoxError> {
    let mut request = http
        .post(url)
        .header("content-type", MEDIA_TYPE_CHUNKED_REQUEST);
    for (name, value) in outer_headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let reply = request.body(enc).send().await?;
    let status = reply.status().as_u16();
    let limits = response_limits();
    let body = read_capped(
        reply,
        usize::try_from(limits.max_total_len)
            .unwrap_or(usize::MAX)
            .saturating_add(1 << 20),
    )
    .await?;
    let mut decoder = pending.into_azure_answer(status, limits);
    let mut plain = Vec::new();
    let decoded = decoder
        .push(&body, &mut plain)
        .and_then(|()| decoder.finish(&mut plain));
    match decoded {
        Ok(()) => Ok(AzureAnswer {
            status,
            body: plain,
            decrypted: true,
        }),
        // A success must decrypt; an error may come in clear from before the OHTTP layer.
        Err(e) if (200..300).contains(&status) => Err(e.into()),
        Err(_) => Ok(AzureAnswer {
            status,
            body: body.get(..CLEAR_ERROR_LIMIT).unwrap_or(&body).to_vec(),
            decrypted: false,
        }),
    }
}
