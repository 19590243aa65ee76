//! What a hostile host or load balancer in front of an attested server can do, made runnable so
//! that `confidential-pipeline --tamper` and the tests can show the client refusing it.
//!
//! Nothing here weakens a server or a client: each piece is an outside party on the path.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

struct Relay {
    upstream: String,
    substitute_keys: Bytes,
    http: reqwest::Client,
}

/// Serves on loopback, and returns the URL of, a relay in front of the OHTTP gateway at
/// `upstream` that forwards every `GET` (the genuine attestation, collateral and roots, query
/// strings included) but answers `GET /ohttp-keys` with the keys of the gateway at
/// `keys_from`: keys the host holds, under the genuine gateway's evidence. A client that
/// checks the binding refuses those keys before anything is encrypted to them.
pub async fn serve_key_swapping_relay(
    upstream: &str,
    keys_from: &str,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    let substitute_keys =
        crate::tls::get(format!("{}/ohttp-keys", keys_from.trim_end_matches('/')))
            .await?
            .error_for_status()?
            .bytes()
            .await?;
    Ok(crate::pipeline::serve_on_loopback(key_swapping_relay(
        upstream,
        substitute_keys,
        crate::tls::http()?,
    ))
    .await?)
}

fn key_swapping_relay(upstream: &str, substitute_keys: Bytes, http: reqwest::Client) -> Router {
    let relay = std::sync::Arc::new(Relay {
        upstream: upstream.trim_end_matches('/').to_owned(),
        substitute_keys,
        http,
    });
    Router::new()
        .route(
            "/ohttp-keys",
            get(|State(relay): State<std::sync::Arc<Relay>>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        attested_ohttp::gateway::MEDIA_TYPE_KEYS,
                    )],
                    relay.substitute_keys.clone(),
                )
            }),
        )
        .fallback(get(forward))
        .with_state(relay)
}

async fn forward(
    State(relay): State<std::sync::Arc<Relay>>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let upstream = match relay
        .http
        .get(format!("{}{path}", relay.upstream))
        .send()
        .await
    {
        Ok(response) => response,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let status =
        StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let content_type = upstream
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .cloned();
    let Ok(body) = upstream.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = (status, body).into_response();
    if let Some(value) =
        content_type.and_then(|v| header::HeaderValue::from_bytes(v.as_bytes()).ok())
    {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
}

/// A host that holds the proxy's Noise static key (it runs the machine) but not its binding key
/// (which never leaves the TEE), answering sessions itself with an attestation the genuine
/// proxy gave an earlier session.
struct ReplayingHost {
    genuine: String,
    profile: attested_noise::Profile,
    identity: std::sync::Arc<attested_noise::ServerIdentity>,
    recorded: tokio::sync::Mutex<Option<attested_noise::message::Attestation>>,
}

/// Serves on loopback, and returns the URL of, a host in front of the private-LLM proxy at
/// `genuine` that completes each client's Noise handshake with the proxy's own `noise_key` and
/// answers `get_attestation` with the attestation the genuine proxy gave an earlier session
/// (the host's own, recorded once). Its binding signature is over that session's handshake
/// hash, so a client that checks the binding refuses it before sending a prompt.
pub async fn serve_attestation_replaying_host(
    genuine: &str,
    noise_key: attested_noise::NoiseStaticKey,
    profile: attested_noise::Profile,
) -> Result<String, Box<dyn std::error::Error + Send + Sync>> {
    use attested_noise::{Config, PlatformEvidence, ServerIdentity, ed25519_dalek::SigningKey};
    // The host's own binding key, never used: it has no evidence binding it, and it replays.
    let identity = ServerIdentity::new(
        Config::new(profile),
        noise_key,
        SigningKey::from_bytes(&rand::random()),
        PlatformEvidence::from_quote(Vec::new()),
    );
    let host = std::sync::Arc::new(ReplayingHost {
        genuine: genuine.trim_end_matches('/').to_owned(),
        profile,
        identity: std::sync::Arc::new(identity),
        recorded: tokio::sync::Mutex::new(None),
    });
    let app = Router::new()
        .route(
            "/health",
            get(
                |State(host): State<std::sync::Arc<ReplayingHost>>| async move {
                    axum::Json(serde_json::json!({
                        "status": "ok",
                        "noise_pubkey": hex::encode(host.identity.noise_key().public_key()),
                    }))
                },
            ),
        )
        .route(
            "/ws/noise",
            get(
                |State(host): State<std::sync::Arc<ReplayingHost>>,
                 upgrade: axum::extract::ws::WebSocketUpgrade| async move {
                    upgrade.on_upgrade(move |socket| replay_session(socket, host))
                },
            ),
        )
        .with_state(host);
    Ok(crate::pipeline::serve_on_loopback(app).await?)
}

/// One client session of the replaying host: handshake, then the recorded attestation.
async fn replay_session(
    mut socket: axum::extract::ws::WebSocket,
    host: std::sync::Arc<ReplayingHost>,
) {
    use attested_noise::message::Message;
    use attested_noise::{Received, Responder};
    use axum::extract::ws::Message as WsMessage;
    use futures_util::StreamExt as _;
    let Ok(mut responder) = Responder::new(host.identity.clone(), &mut rand::rng()) else {
        return;
    };
    let Some(Ok(WsMessage::Binary(first))) = socket.next().await else {
        return;
    };
    let Ok((second, mut session)) = responder
        .read_first(&first)
        .and_then(|()| responder.write_second())
    else {
        return;
    };
    if socket.send(WsMessage::Binary(second.into())).await.is_err() {
        return;
    }
    while let Some(Ok(WsMessage::Binary(frame))) = socket.next().await {
        let Ok(Received::AttestationRequested) = session.receive(&frame) else {
            continue;
        };
        let Ok(recorded) = host.recorded_attestation().await else {
            return;
        };
        let Ok(frames) = session.send(&Message::Attestation(Box::new(recorded))) else {
            return;
        };
        for frame in frames {
            if socket.send(WsMessage::Binary(frame.into())).await.is_err() {
                return;
            }
        }
    }
}

impl ReplayingHost {
    /// The attestation of the host's own earlier session with the genuine proxy, made once.
    async fn recorded_attestation(
        &self,
    ) -> Result<attested_noise::message::Attestation, Box<dyn std::error::Error + Send + Sync>>
    {
        use attested_noise::{Config, Initiator};
        use futures_util::{SinkExt as _, StreamExt as _};
        use tokio_tungstenite::tungstenite::Message as WsMessage;
        let mut recorded = self.recorded.lock().await;
        if let Some(attestation) = recorded.as_ref() {
            return Ok(attestation.clone());
        }
        let url = format!(
            "ws://{}/ws/noise",
            self.genuine
                .strip_prefix("http://")
                .unwrap_or(&self.genuine)
        );
        let mut socket = crate::tls::ws_connect(&url, None).await?;
        let mut initiator = Initiator::with_config(
            Config::new(self.profile),
            self.identity.noise_key().public_key(),
            &mut rand::rng(),
        )?;
        socket
            .send(WsMessage::Binary(initiator.write_first()?.into()))
            .await?;
        let second = match socket.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => bytes.to_vec(),
            _ => return Err("the genuine proxy closed".into()),
        };
        let mut session = initiator.read_second(&second)?;
        for frame in session.request_attestation()? {
            socket.send(WsMessage::Binary(frame.into())).await?;
        }
        let attestation = loop {
            let frame = match socket.next().await {
                Some(Ok(WsMessage::Binary(bytes))) => bytes.to_vec(),
                _ => return Err("the genuine proxy closed".into()),
            };
            if let Some(attestation) = session.receive_attestation(&frame)? {
                break attestation;
            }
        };
        let _ = socket.close(None).await;
        Ok(recorded.insert(attestation).clone())
    }
}

/// A server (a target, a gateway, a relay in its place) that answers every request with an
/// endless body, 1 MiB pieces as fast as they are read, on loopback: its URL and the count of
/// bytes it has sent (what the reader took, plus what the socket buffers hold).
pub async fn serve_endless_answers()
-> std::io::Result<(String, std::sync::Arc<std::sync::atomic::AtomicUsize>)> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let sent = std::sync::Arc::new(AtomicUsize::new(0));
    let counter = sent.clone();
    let app = Router::new().fallback(move || {
        let counter = counter.clone();
        async move {
            let piece = Bytes::from(vec![0x61; 1 << 20]);
            let pieces = futures_util::stream::repeat_with(move || {
                counter.fetch_add(piece.len(), Ordering::Relaxed);
                Ok::<_, std::io::Error>(piece.clone())
            });
            axum::body::Body::from_stream(pieces)
        }
    });
    Ok((crate::pipeline::serve_on_loopback(app).await?, sent))
}
