//! A stand-in for Azure confidential Whisper, for tests: Microsoft's OHTTP server
//! (microsoft/attested-ohttp-server `ohttp-server/src/lib.rs`, 4b57bc8e) with its Whisper target
//! behind it and Azure API Management's `api-key` check in front, and the confidential KMS
//! (microsoft/azure-transparent-kms) serving `GET /listpubkeys` over TLS under its CCF service
//! certificate, each key with a CCF-style receipt. **Not Azure**: test keys and a test CA.
//!
//! Written from Microsoft's code, with the lines it follows cited; the OHTTP cryptography is
//! this workspace's (`attested-ohttp`), the framing follows `ohttp/src/lib.rs:314-381` of
//! microsoft/ohttp chunk for chunk (the last body chunk sealed as the final one, the nonce
//! alone for an empty body).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use attested_ohttp::bhttp::Message;
use attested_ohttp::{KeyPair, KeyRing, Suite, UnixTime, Validity};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use p384::ecdsa::signature::hazmat::PrehashSigner as _;
use rustls_pki_types::pem::PemObject as _;
use sha2::{Digest as _, Sha256};
use tokio::net::TcpListener;

/// How the stand-in KMS computes `claims_digest` (azure-transparent-kms, two branches).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KmsBranch {
    /// main: `SHA-256(base64url(x))` (`src/endpoints/refreshEndpoint.ts:47`).
    Main,
    /// inference: `SHA-256(base64url(x) || base64url(y))` (`src/inference/refreshEndpoint.ts:42`).
    Inference,
}

/// A deliberately bad receipt, for refusal tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReceiptFault {
    /// `claims_digest` binds another key (correctly signed).
    ClaimsOfAnotherKey,
    /// Signed by a node whose certificate another service issued.
    ForeignNode,
    /// A Merkle path step moved to the other side.
    TamperedPath,
}

/// The stand-in's settings.
#[derive(Clone, Debug)]
pub struct MockAzureConfig {
    /// The `api-key` the endpoint requires.
    pub api_key: String,
    /// The KMS's `claims_digest` formula.
    pub branch: KmsBranch,
    /// A bad receipt, if any.
    pub fault: Option<ReceiptFault>,
    /// How many `202 Accepted` answers `/listpubkeys` gives before the list.
    pub pending_answers: u32,
    /// The transcript the Whisper target answers with.
    pub transcript: String,
}

/// A running stand-in.
#[derive(Debug)]
pub struct MockAzure {
    /// The KMS base URL (`https://127.0.0.1:PORT`).
    pub kms_url: String,
    /// The KMS service certificate (PEM): the TLS root and the receipts' root.
    pub service_cert_pem: String,
    /// The inference endpoint (`http://127.0.0.1:PORT/score`).
    pub endpoint: String,
}

struct Ledger {
    node_cert_pem: String,
    node_key: p384::ecdsa::SigningKey,
}

fn p384_key() -> Result<(rcgen::KeyPair, p384::ecdsa::SigningKey), rcgen::Error> {
    use p384::pkcs8::DecodePrivateKey as _;
    let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384)?;
    let signing = p384::ecdsa::SigningKey::from_pkcs8_der(&pair.serialize_der())
        .map_err(|_| rcgen::Error::CouldNotParseKeyPair)?;
    Ok((pair, signing))
}

/// A CCF-like service: a self-signed P-384 service certificate (CA) and a node certificate
/// it issues, also the KMS's TLS server certificate for 127.0.0.1.
fn new_ledger(name: &str) -> Result<(Ledger, String, rcgen::KeyPair), rcgen::Error> {
    let (service_key, _) = p384_key()?;
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} CCF Service"));
    let service_cert = params.self_signed(&service_key)?;
    let service_pem = service_cert.pem();
    let service = rcgen::Issuer::new(params, service_key);
    let (node_pair, node_key) = p384_key()?;
    let mut node_params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
    node_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{name} CCF Node"));
    let node_cert = node_params.signed_by(&node_pair, &service)?;
    Ok((
        Ledger {
            node_cert_pem: node_cert.pem(),
            node_key,
        },
        service_pem,
        node_pair,
    ))
}

/// The CCF receipt of the transaction that stored `config` (the shape of
/// `ccf.historical.getStateRange(...)[0].receipt`, read by attested-ohttp-client
/// `verifier/src/lib.rs:16-35`): leaf = SHA-256(write_set_digest || SHA-256(commit_evidence) ||
/// claims_digest), the proof up to the root, the node's ECDSA signature over the root.
fn receipt(
    ledger: &Ledger,
    foreign: &Ledger,
    public_key: &[u8],
    claims_key: &[u8],
    branch: KmsBranch,
    fault: Option<ReceiptFault>,
) -> Result<String, String> {
    // The JWK coordinates as base64url text, hashed as `ccf.strToBuf(claims)`
    // (`src/repositories/KeyStore.ts:29`).
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let coordinates = |point: &[u8]| match (point.get(1..49), point.get(49..97)) {
        (Some(x), Some(y)) => Ok((b64.encode(x), b64.encode(y))),
        _ => Err("not an uncompressed P-384 point".to_owned()),
    };
    let (x, y) = coordinates(if fault == Some(ReceiptFault::ClaimsOfAnotherKey) {
        claims_key
    } else {
        public_key
    })?;
    let claims = match branch {
        KmsBranch::Main => x,
        KmsBranch::Inference => x + &y,
    };
    let claims_digest = Sha256::digest(claims.as_bytes());
    let write_set = Sha256::digest(b"write set");
    let commit_evidence = "ce:2.1234:8a7f6c2e4b1d0f3a";
    let mut leaf = Sha256::new();
    leaf.update(write_set);
    leaf.update(Sha256::digest(commit_evidence.as_bytes()));
    leaf.update(claims_digest);
    let mut root = leaf.finalize();
    let proof = [
        (true, Sha256::digest(b"left 1")),
        (false, Sha256::digest(b"right 2")),
        (true, Sha256::digest(b"left 3")),
    ];
    for (left, sibling) in &proof {
        let mut h = Sha256::new();
        if *left {
            h.update(sibling);
            h.update(root);
        } else {
            h.update(root);
            h.update(sibling);
        }
        root = h.finalize();
    }
    let signer = if fault == Some(ReceiptFault::ForeignNode) {
        foreign
    } else {
        ledger
    };
    let signature: p384::ecdsa::Signature = signer
        .node_key
        .sign_prehash(&root)
        .map_err(|e| e.to_string())?;
    let proof: Vec<serde_json::Value> = proof
        .iter()
        .enumerate()
        .map(|(i, (left, sibling))| {
            // TamperedPath: the middle step presented on the other side.
            let left = if fault == Some(ReceiptFault::TamperedPath) && i == 1 {
                !left
            } else {
                *left
            };
            serde_json::json!({ if left { "left" } else { "right" }: hex::encode(sibling) })
        })
        .collect();
    Ok(serde_json::json!({
        "cert": signer.node_cert_pem,
        "is_signature_transaction": false,
        "leaf_components": {
            "claims_digest": hex::encode(claims_digest),
            "commit_evidence": commit_evidence,
            "write_set_digest": hex::encode(write_set),
        },
        "node_id": hex::encode(Sha256::digest(signer.node_cert_pem.as_bytes())),
        "proof": proof,
        "signature": base64::engine::general_purpose::STANDARD.encode(signature.to_der()),
    })
    .to_string())
}

struct KmsState {
    body: Vec<u8>,
    pending: AtomicU32,
}

/// `GET /listpubkeys`: 202 while the receipt is pending (`src/inference/publickeyEndpoint.ts:
/// 50-57`), then `[{"publicKey": hex, "receipt": string}]` (`:63-73`).
async fn listpubkeys(State(state): State<Arc<KmsState>>) -> Response {
    if state
        .pending
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return StatusCode::ACCEPTED.into_response();
    }
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        state.body.clone(),
    )
        .into_response()
}

struct ScoreState {
    ring: KeyRing,
    api_key: String,
    transcript: String,
}

fn bytes_response(status: u16, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> Response {
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in headers {
        if let Ok(v) = HeaderValue::from_str(&value) {
            response.headers_mut().append(name, v);
        }
    }
    response
}

/// The Whisper target behind the server: a transcript for a multipart upload to
/// `/v1/audio/transcriptions`, 404 for any other path, 400 without a file part.
fn whisper_target(
    inner: &Message,
    transcript: &str,
) -> (u16, Vec<(&'static str, String)>, Vec<u8>) {
    let path = inner.control().path().unwrap_or_default();
    if path != b"/v1/audio/transcriptions" {
        return (404, vec![], b"{\"detail\":\"Not Found\"}".to_vec());
    }
    let content = inner.content();
    if !content
        .windows(b"name=\"file\"".len())
        .any(|w| w == b"name=\"file\"")
    {
        return (400, vec![], b"{\"detail\":\"file is required\"}".to_vec());
    }
    (
        200,
        vec![
            ("content-type", "application/json".to_owned()),
            ("x-whisper-model", "large-v3".to_owned()),
        ],
        serde_json::json!({ "text": transcript })
            .to_string()
            .into_bytes(),
    )
}

/// `POST /score` (`ohttp-server/src/lib.rs:160-309`), behind API Management's `api-key`.
async fn score(State(state): State<Arc<ScoreState>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = "6f1c2e8a-0b9d-4c3e-9a51-3f2d7e8b1c04".to_owned();
    let id = || vec![("x-ms-client-request-id", request_id.clone())];
    // API Management answers 401 in clear without the right key.
    let key_ok = headers
        .get("api-key")
        .is_some_and(|k| k.as_bytes() == state.api_key.as_bytes());
    if !key_ok {
        return bytes_response(
            401,
            vec![("content-type", "application/json".to_owned())],
            br#"{"statusCode": 401, "message": "Access denied due to missing subscription key."}"#
                .to_vec(),
        );
    }
    // The key id is the first byte (`lib.rs:173-181`); the server then decapsulates, and a
    // failure is 422 with the error in clear (`lib.rs:228-236`).
    if body.is_empty() {
        return bytes_response(500, id(), b"No key found in request.".to_vec());
    }
    let Ok((inner, ctx)) = state.ring.decapsulate(&body, UnixTime::now()) else {
        return bytes_response(422, id(), b"Error: Crypto(Aead)".to_vec());
    };
    let Ok(inner) = Message::read_bhttp(&mut std::io::Cursor::new(&inner[..])) else {
        return bytes_response(400, id(), b"Request error.".to_vec());
    };
    let (status, target_headers, target_body) = whisper_target(&inner, &state.transcript);
    let mut rng = rand::rng();
    let Ok((mut out, mut sealer)) = ctx.into_azure_chunked(&mut rng) else {
        return bytes_response(500, id(), Vec::new());
    };
    if !(200..300).contains(&status) {
        // `handle_error` (`lib.rs:143-158`): the target's status, one final chunk of its text.
        if sealer.seal_final(&target_body, &mut out).is_err() {
            return bytes_response(500, id(), Vec::new());
        }
        return bytes_response(status, id(), out);
    }
    // Success (`lib.rs:274-308`): content type, the target's headers but content-type and
    // content-length, the body in the chunks the target sent (here: two, the last final).
    let mut outer = id();
    outer.push(("content-type", "message/ohttp-chunked-res".to_owned()));
    outer.extend(target_headers.into_iter().filter(|(n, _)| {
        !["content-type", "content-length"]
            .iter()
            .any(|f| f.eq_ignore_ascii_case(n))
    }));
    let split = target_body.len() / 2;
    let (first, last) = target_body.split_at(split);
    let sealed = (|| {
        if !first.is_empty() {
            sealer.seal_chunk(first, &mut out)?;
        }
        if last.is_empty() {
            // Empty body: the nonce alone (microsoft/ohttp `ohttp/src/lib.rs:333-334`).
            return Ok::<(), attested_ohttp::Error>(());
        }
        sealer.seal_final(last, &mut out)
    })();
    if sealed.is_err() {
        return bytes_response(500, id(), Vec::new());
    }
    bytes_response(status, outer, out)
}

/// Starts the stand-in on loopback: the KMS over TLS, the endpoint over plain HTTP.
pub async fn start(config: MockAzureConfig) -> Result<MockAzure, Box<dyn std::error::Error>> {
    let (ledger, service_pem, node_pair) = new_ledger("Test")?;
    let (foreign, _, _) = new_ledger("Foreign")?;
    // The KMS's HPKE key: DHKEM(P-384) with HKDF-SHA384/AES-256-GCM
    // (`src/inference/OhttpPublicKey.ts:38-66`), key id 1.
    let suite = Suite::P384_AES256GCM;
    let mut rng = rand::rng();
    let pair = KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut rng)?;
    let other = KeyPair::generate(2, suite.kem, vec![suite.symmetric()], &mut rng)?;
    let receipt = receipt(
        &ledger,
        &foreign,
        pair.config().public_key(),
        other.config().public_key(),
        config.branch,
        config.fault,
    )?;
    let list = serde_json::json!([{
        "publicKey": hex::encode(pair.config().encode()),
        "receipt": receipt,
    }]);
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(
            UnixTime::now()
                .checked_sub(Duration::from_secs(60))
                .unwrap_or(UnixTime(0)),
            Duration::from_secs(3600),
            Duration::ZERO,
        ),
    )?;

    // The KMS: TLS under the node certificate the service issued.
    let node_der =
        rustls_pki_types::CertificateDer::from_pem_slice(ledger.node_cert_pem.as_bytes())?;
    let tls = crate::test_tls::server_config(node_der, node_pair.serialize_der())
        .map_err(|e| e.to_string())?;
    let kms = Router::new()
        .route("/listpubkeys", get(listpubkeys))
        .with_state(Arc::new(KmsState {
            body: serde_json::to_vec(&list)?,
            pending: AtomicU32::new(config.pending_answers),
        }));
    let kms_listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let kms_url = format!("https://{}", kms_listener.local_addr()?);
    tokio::spawn(crate::test_tls::serve_tls(kms_listener, tls, kms));

    let app = Router::new()
        .route("/score", post(score))
        .with_state(Arc::new(ScoreState {
            ring,
            api_key: config.api_key,
            transcript: config.transcript,
        }));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let endpoint = format!("http://{}/score", listener.local_addr()?);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(MockAzure {
        kms_url,
        service_cert_pem: service_pem,
        endpoint,
    })
}
