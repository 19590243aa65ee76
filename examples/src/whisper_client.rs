//! The client side of `whisper-client`: verify an attested OHTTP gateway, build the
//! OpenAI-style transcription request, read the answer.

use std::io::Cursor;

use attested_ohttp::bhttp::{Message, Mode};
use attested_ohttp::{Client, EvidenceCheck};

use crate::tdx_evidence::{TdxCheck, VerifiedTdx};

/// Why a transcription failed.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Fetches the gateway's key configuration list and attestation, verifies the quote with
/// `check`, and returns an OHTTP client for keys that the verified quote binds.
pub async fn verified_gateway(
    http: &reqwest::Client,
    base: &str,
    check: &TdxCheck,
) -> Result<(Client, VerifiedTdx), BoxError> {
    verified_gateway_with(http, base, "", |attestation| {
        let quote = attestation
            .pointer("/evidence/quote")
            .and_then(|q| q.as_str())
            .ok_or("the gateway's attestation carries no TDX quote")?;
        let quote = hex::decode(quote).map_err(|_| "the gateway's quote is not hex")?;
        check
            .verify(&quote)
            .map_err(|e| format!("gateway quote refused: {e}").into())
    })
    .await
}

/// Fetches the gateway's key configuration list and `GET /attestation{query}`, verifies the
/// attestation with `verify`, and returns an OHTTP client for keys that the verified evidence
/// binds.
pub async fn verified_gateway_with<E: EvidenceCheck>(
    http: &reqwest::Client,
    base: &str,
    query: &str,
    verify: impl FnOnce(&serde_json::Value) -> Result<E, BoxError>,
) -> Result<(Client, E), BoxError> {
    let base = base.trim_end_matches('/');
    let keys = http
        .get(format!("{base}/ohttp-keys"))
        .send()
        .await?
        .error_for_status()?
        .bytes()
        .await?;
    let attestation: serde_json::Value = http
        .get(format!("{base}/attestation{query}"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let verified = verify(&attestation)?;
    let client = Client::new(&keys, &verified)
        .map_err(|e| format!("gateway key configuration refused: {e}"))?;
    Ok((client, verified))
}

/// The binary HTTP `POST /v1/audio/transcriptions` request (multipart) for `audio`.
pub fn transcription_request(
    audio: &[u8],
    file_name: &str,
    model: &str,
    authority: &str,
) -> Result<Vec<u8>, BoxError> {
    let boundary = format!("attested-{}", hex::encode(rand::random::<[u8; 8]>()));
    let mut request = Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        authority.as_bytes().to_vec(),
        b"/v1/audio/transcriptions".to_vec(),
    );
    request.put_header(
        "content-type",
        format!("multipart/form-data; boundary={boundary}"),
    );
    request.write_content(multipart(audio, file_name, model, &boundary));
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
    if status != 200 {
        return Err(format!(
            "transcription service answered {status}: {}",
            String::from_utf8_lossy(message.content())
        )
        .into());
    }
    Ok(message.content().to_vec())
}

/// Sends `inner` one-shot (RFC 9458) to `url` and returns the transcription service's answer.
pub async fn transcribe_one_shot(
    http: &reqwest::Client,
    url: &str,
    client: &Client,
    inner: &[u8],
) -> Result<Vec<u8>, BoxError> {
    let (enc, pending) = client.encapsulate(inner, &mut rand::rng())?;
    let reply = http
        .post(url)
        .header("content-type", attested_ohttp::MEDIA_TYPE_REQUEST)
        .body(enc)
        .send()
        .await?;
    let status = reply.status();
    let bytes = reply.bytes().await?;
    if !status.is_success() {
        return Err(format!("gateway answered {status}").into());
    }
    transcription_response(&pending.decapsulate(&bytes)?)
}

fn multipart(audio: &[u8], file_name: &str, model: &str, boundary: &str) -> Vec<u8> {
    let mut body = Vec::with_capacity(audio.len() + 512);
    let text_part = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    body.extend_from_slice(text_part("model", model).as_bytes());
    body.extend_from_slice(text_part("response_format", "json").as_bytes());
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(audio);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}
