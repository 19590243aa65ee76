#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! `ohttp-gateway --azure-compat` in front of mock-whisper, spoken to as Microsoft's clients
//! speak (attested-ohttp-client `ohttp-client/src/lib.rs:45-48, 114-121, 281-283`: a plain
//! RFC 9458 request under `message/ohttp-chunked-req` to `/score`, the inner request with an
//! empty authority and header names as typed; `pyohttp/src/lib.rs:146`: inner path `/`), and
//! the answer read with the crate's Azure decoder: status outside, raw target body inside.

mod common;

use attested_ohttp::{
    Accepted, Client, Measurements, Suite, Workload, chunked::ChunkLimits, client::PendingResponse,
    key_config_binding, keys::decode_key_config_list,
};
use common::Running;
use sha2::Digest as _;

const BOUNDARY: &str = "azurecompatboundary";
const REQUEST_ID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

struct Servers {
    _whisper: Running,
    gateway: Running,
}

fn start(gateway_args: &[&str]) -> Servers {
    let (whisper, gateway) = common::gateway_before_mock_whisper(gateway_args);
    Servers {
        _whisper: whisper,
        gateway,
    }
}

fn multipart(file: Option<&[u8]>) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
        )
        .as_bytes(),
    );
    if let Some(file) = file {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\
                 Content-Type: audio/wav\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(file);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// The inner request as Microsoft's client builds it: origin form, empty authority, header
/// names as typed, `Content-Length` included, known-length binary HTTP.
fn inner_request(authority: &str, path: &str, body: &[u8]) -> Vec<u8> {
    inner_request_with(authority, path, &[], body)
}

fn inner_request_with(
    authority: &str,
    path: &str,
    fields: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut m = attested_ohttp::bhttp::Message::request(
        b"POST".to_vec(),
        b"https".to_vec(),
        authority.as_bytes().to_vec(),
        path.as_bytes().to_vec(),
    );
    m.put_header(
        "Content-Type",
        format!("multipart/form-data; boundary={BOUNDARY}"),
    );
    m.put_header("Content-Length", body.len().to_string());
    for (name, value) in fields {
        m.put_header(*name, *value);
    }
    m.write_content(body);
    let mut out = Vec::new();
    m.write_bhttp(attested_ohttp::bhttp::Mode::KnownLength, &mut out)
        .unwrap();
    out
}

/// The gateway's keys from `/discover`, which must be `/ohttp-keys` in hex.
async fn discover(base: &str) -> Vec<u8> {
    let answer = attested_examples::tls::get(format!("{base}/discover"))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let list = hex::decode(answer.text().await.unwrap().trim()).unwrap();
    let raw = attested_examples::tls::get(format!("{base}/ohttp-keys"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(list, raw.to_vec());
    list
}

/// A client for the key list. The quote's verification is `ohttp_e2e`'s and
/// `tdx_quote_verify`'s subject; here the binding is asserted as the appraiser would.
fn client(list: &[u8]) -> Client {
    let accepted =
        Accepted::assertion(key_config_binding(list), Measurements::new(), Workload::Any);
    Client::new(list, &accepted).unwrap()
}

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn score(
    base: &str,
    encapsulated: Vec<u8>,
    pending: Option<PendingResponse>,
    extra: &[(&str, &str)],
) -> Answer {
    let mut request = attested_examples::tls::http()
        .unwrap()
        .post(format!("{base}/score"))
        .header("content-type", "message/ohttp-chunked-req")
        .header("x-ms-client-request-id", REQUEST_ID);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let answer = request.body(encapsulated).send().await.unwrap();
    let status = answer.status().as_u16();
    let headers = answer.headers().clone();
    let outer = answer.bytes().await.unwrap();
    let body = match pending {
        Some(pending) => {
            let mut decoder = pending.into_azure_answer(status, ChunkLimits::default());
            let mut body = Vec::new();
            decoder.push(&outer, &mut body).unwrap();
            decoder.finish(&mut body).unwrap();
            body
        }
        None => outer.to_vec(),
    };
    Answer {
        status,
        headers,
        body,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn microsofts_client_transcribes_and_sees_the_targets_status() {
    let servers = start(&["--azure-compat"]);
    let base = servers.gateway.url();
    let list = discover(&base).await;
    let configs = decode_key_config_list(&list).unwrap();
    let first = configs[0].suites().next().unwrap();
    assert_eq!(first, Suite::P384_AES256GCM);
    let client = client(&list);

    // Success: inner path `/` goes to --default-path, the empty authority to
    // --default-authority; the raw transcript JSON is the decrypted stream.
    let audio: Vec<u8> = (0..30_000u32)
        .map(|i| u8::try_from(i * 13 % 251).unwrap())
        .collect();
    let (encapsulated, pending) = client
        .encapsulate(
            &inner_request("", "/", &multipart(Some(&audio))),
            &mut rand::rng(),
        )
        .unwrap();
    let answer = score(
        &base,
        encapsulated.clone(),
        Some(pending),
        &[("x-attestation-token", "true")],
    )
    .await;
    assert_eq!(
        answer.status,
        200,
        "{}",
        String::from_utf8_lossy(&answer.body)
    );
    let json: serde_json::Value = serde_json::from_slice(&answer.body).unwrap();
    assert_eq!(json["bytes"], audio.len());
    assert_eq!(json["sha256"], hex::encode(sha2::Sha256::digest(&audio)));
    assert_eq!(answer.headers["x-ms-client-request-id"], REQUEST_ID);
    assert_eq!(answer.headers["content-type"], "message/ohttp-chunked-res");
    // The evidence comes back in x-attestation-token: the quote of `/attestation`.
    let attestation: serde_json::Value = attested_examples::tls::get(format!("{base}/attestation"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    use base64::Engine as _;
    let token = base64::engine::general_purpose::STANDARD
        .decode(answer.headers["x-attestation-token"].as_bytes())
        .unwrap();
    assert_eq!(
        hex::encode(token),
        attestation["evidence"]["quote"].as_str().unwrap()
    );

    // The same request again is a replay: refused in clear before any target sees it.
    let replayed = score(&base, encapsulated, None, &[]).await;
    assert_eq!(replayed.status, 400);

    // A failing target: its status outside, its error text sealed inside.
    let (encapsulated, pending) = client
        .encapsulate(&inner_request("", "/", &multipart(None)), &mut rand::rng())
        .unwrap();
    let answer = score(&base, encapsulated, Some(pending), &[]).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body, b"missing file part");
    assert!(answer.headers.get("x-attestation-token").is_none());
    assert_eq!(answer.headers["x-ms-client-request-id"], REQUEST_ID);

    // `enginetarget` names the path only when it is an allowed one.
    let (encapsulated, pending) = client
        .encapsulate(
            &inner_request("", "/", &multipart(Some(&audio))),
            &mut rand::rng(),
        )
        .unwrap();
    let answer = score(
        &base,
        encapsulated,
        Some(pending),
        &[("enginetarget", "/admin")],
    )
    .await;
    assert_eq!(answer.status, 403);

    // A `Host` field in any case names the authority: allowed, it is served; not allowed,
    // refused, as an inner authority of the client's choosing is.
    for (host, status) in [("WHISPER", 200), ("169.254.169.254", 403)] {
        let (encapsulated, pending) = client
            .encapsulate(
                &inner_request_with("", "/", &[("HoSt", host)], &multipart(Some(&audio))),
                &mut rand::rng(),
            )
            .unwrap();
        let answer = score(&base, encapsulated, Some(pending), &[]).await;
        assert_eq!(answer.status, status, "{host}");
    }

    // The allow-list still holds: an inner authority of the client's choosing is refused.
    let (encapsulated, pending) = client
        .encapsulate(
            &inner_request("169.254.169.254", "/latest/meta-data", b""),
            &mut rand::rng(),
        )
        .unwrap();
    let answer = score(&base, encapsulated, Some(pending), &[]).await;
    assert_eq!(answer.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_flag_there_are_no_azure_routes() {
    let servers = start(&[]);
    let base = servers.gateway.url();
    let discover = attested_examples::tls::get(format!("{base}/discover"))
        .await
        .unwrap();
    assert_eq!(discover.status(), 404);
    let score = attested_examples::tls::http()
        .unwrap()
        .post(format!("{base}/score"))
        .header("content-type", "message/ohttp-chunked-req")
        .body(vec![0u8; 8])
        .send()
        .await
        .unwrap();
    assert_eq!(score.status(), 404);
}

/// Both halves meet: our `whisper-client --azure --endpoint` (keys from `/discover`, bound by
/// the verified quote at `/attestation`) transcribes through `ohttp-gateway --azure-compat`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_azure_client_transcribes_through_the_azure_compatible_gateway() {
    let setup = common::WhisperSetup::start_with(
        "sim",
        "/sim/root",
        "--trust-sim-root",
        &["--azure-compat"],
    )
    .await;
    let audio = tempfile::NamedTempFile::new().unwrap();
    let samples: Vec<u8> = (0..20_000u32)
        .map(|i| u8::try_from(i * 11 % 251).unwrap())
        .collect();
    std::fs::write(audio.path(), &samples).unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_whisper-client"))
        .args(["--azure", "--endpoint"])
        .arg(format!("{}/score", setup.gateway.url()))
        .arg("--trust-sim-root")
        .arg(setup.root_path())
        .args(common::sim_workload(
            &[],
            attested_examples::tdx_evidence::GATEWAY_SIM_MRTD,
        ))
        .arg("--file")
        .arg(audio.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&hex::encode(sha2::Sha256::digest(&samples))),
        "{stdout}"
    );
}
