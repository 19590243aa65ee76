//! The client side of `verified-chat`: a Noise session to a private-LLM proxy that is verified
//! (TDX quote or ITA token, REPORTDATA binding, session binding) before any prompt can be sent.

use std::time::Duration;

use attested_noise::limits::{DEFAULT_MAX_MESSAGE_LEN, MAX_FRAME_LEN};
use attested_noise::message::{AnswerPart, AnswerReader, ChatMessage, ChatRequest};
use attested_noise::{Appraiser, BoxError, Config, Initiator, Profile, UnixTime, VerifiedSession};
use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message as WsMessage;

/// The report's first line for a TDX quote verified under `anchor` (the trusted root).
pub fn quote_evidence_line(anchor: &str) -> String {
    format!("TDX quote: DCAP verification under {anchor} and policy ok")
}

/// The report's first line for an Intel Trust Authority token whose keys are trusted as
/// `anchor` says.
pub fn token_evidence_line(anchor: &str) -> String {
    format!("Intel Trust Authority token: signature under {anchor}, issuer, times and policy ok")
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long the client waits and how much it reads: a proxy (or whoever answers in its place)
/// that stalls or floods gets an error, not the client's memory or time.
#[derive(Clone, Debug)]
pub struct ClientLimits {
    /// TCP connect plus WebSocket upgrade (and `GET /health`).
    pub connect_timeout: Duration,
    /// From connecting to a verified session.
    pub setup_timeout: Duration,
    /// From sending a prompt to the whole answer.
    pub answer_timeout: Duration,
    /// The longest answer accumulated from `chat_chunk`s (a whole answer is one message, under
    /// the session's message limit).
    pub max_answer: usize,
}

impl Default for ClientLimits {
    /// 10 s to connect, 30 s to a verified session, 300 s for an answer, answers up to 1 MiB.
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            setup_timeout: Duration::from_secs(30),
            answer_timeout: Duration::from_secs(300),
            max_answer: DEFAULT_MAX_MESSAGE_LEN,
        }
    }
}

/// The largest `GET /health` body read.
const MAX_HEALTH_BODY: usize = 64 << 10;

/// A verified Noise session to a private-LLM proxy.
pub struct VerifiedChat {
    socket: Socket,
    session: VerifiedSession,
    server_key: [u8; 32],
    limits: ClientLimits,
}

/// `future`, or an error naming `what` once `limit` has passed.
async fn within<T>(
    limit: Duration,
    what: &str,
    future: impl Future<Output = Result<T, BoxError>>,
) -> Result<T, BoxError> {
    tokio::time::timeout(limit, future)
        .await
        .map_err(|_| format!("{what} timed out after {limit:?}"))?
}

/// `N` bytes from hex `text`, or an error naming `what`.
pub fn decode_hex<const N: usize>(text: &str, what: &str) -> Result<[u8; N], BoxError> {
    let mut out = [0_u8; N];
    hex::decode_to_slice(text.trim(), &mut out)
        .map_err(|_| format!("{what} is not {N} bytes of hex"))?;
    Ok(out)
}

impl VerifiedChat {
    /// Connects to the proxy at `url` (its Noise key pinned, or taken from `GET /health`),
    /// completes the handshake and verifies the attestation with `check`.
    pub async fn connect<C: Appraiser + ?Sized>(
        url: &str,
        config: Config,
        noise_pubkey: Option<[u8; 32]>,
        check: &C,
    ) -> Result<Self, BoxError> {
        Self::connect_with_limits(url, config, noise_pubkey, check, ClientLimits::default()).await
    }

    /// As [`connect`](Self::connect), under `limits`.
    pub async fn connect_with_limits<C: Appraiser + ?Sized>(
        url: &str,
        config: Config,
        noise_pubkey: Option<[u8; 32]>,
        check: &C,
        limits: ClientLimits,
    ) -> Result<Self, BoxError> {
        let setup_timeout = limits.setup_timeout;
        within(
            setup_timeout,
            "session setup",
            Self::connect_inner(url, config, noise_pubkey, check, limits),
        )
        .await
    }

    async fn connect_inner<C: Appraiser + ?Sized>(
        url: &str,
        config: Config,
        noise_pubkey: Option<[u8; 32]>,
        check: &C,
        limits: ClientLimits,
    ) -> Result<Self, BoxError> {
        let base = url.trim_end_matches('/');
        let server_key = match noise_pubkey {
            Some(key) => key,
            None => {
                let http = crate::tls::http_builder()?
                    .connect_timeout(limits.connect_timeout)
                    .build()?;
                let body = within(limits.connect_timeout, "GET /health", async {
                    let response = http
                        .get(format!("{base}/health"))
                        .send()
                        .await?
                        .error_for_status()?;
                    Ok(crate::tls::read_capped(response, MAX_HEALTH_BODY).await?)
                })
                .await?;
                let health: serde_json::Value = serde_json::from_slice(&body)?;
                let key = health
                    .get("noise_pubkey")
                    .and_then(serde_json::Value::as_str)
                    .ok_or("/health has no noise_pubkey")?;
                decode_hex(key, "noise_pubkey of /health")?
            }
        };
        let ws_url = if let Some(rest) = base.strip_prefix("https://") {
            format!("wss://{rest}/ws/noise")
        } else {
            format!(
                "ws://{}/ws/noise",
                base.strip_prefix("http://").unwrap_or(base)
            )
        };
        // One Noise message per WebSocket message: a larger frame is refused from its header.
        let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .max_frame_size(Some(MAX_FRAME_LEN))
            .max_message_size(Some(MAX_FRAME_LEN));
        // `wss://` with the platform's roots (crate::tls); `ws://` stays plain.
        let connector = if ws_url.starts_with("wss://") {
            Some(crate::tls::ws_connector()?)
        } else {
            None
        };
        let (mut socket, _) = within(limits.connect_timeout, "connecting", async {
            Ok(tokio_tungstenite::connect_async_tls_with_config(
                ws_url.as_str(),
                Some(ws_config),
                false,
                connector,
            )
            .await?)
        })
        .await?;
        let mut initiator = Initiator::with_config(config, &server_key, &mut rand::rng())?;
        send(&mut socket, vec![initiator.write_first()?]).await?;
        let mut session = initiator.read_second(&receive(&mut socket).await?)?;
        let request = session.request_attestation()?;
        send(&mut socket, request).await?;
        let attestation = loop {
            if let Some(attestation) = session.receive_attestation(&receive(&mut socket).await?)? {
                break attestation;
            }
        };
        let session = session.verify(&attestation, &check, UnixTime::now())?;
        Ok(Self {
            socket,
            session,
            server_key,
            limits,
        })
    }

    /// The verified session.
    pub fn session(&self) -> &VerifiedSession {
        &self.session
    }

    /// What was verified, one line per check, after `evidence_line` (what the appraiser
    /// verified, [`quote_evidence_line`] or [`token_evidence_line`]).
    pub fn report(&self, evidence_line: &str) -> Vec<String> {
        let session = &self.session;
        let mut lines = vec![
            evidence_line.to_owned(),
            format!(
                "REPORTDATA binds binding key {}{}",
                hex::encode(session.binding_key()),
                if session.profile() == Profile::V1 {
                    format!(" and Noise key {}", hex::encode(self.server_key))
                } else {
                    String::new()
                }
            ),
            format!(
                "session binding signature over handshake hash {}: ok",
                hex::encode(session.handshake_hash())
            ),
        ];
        if session.session_evidence().is_some() {
            lines.push("per-session evidence binds this handshake: ok".to_owned());
        }
        for (name, value) in session.evidence().measurements() {
            lines.push(format!("{name}: {}", hex::encode(value)));
        }
        lines
    }

    /// Sends `prompt` and returns the answer; streamed pieces also go to `on_delta`.
    pub async fn ask(
        &mut self,
        prompt: &str,
        stream: bool,
        mut on_delta: impl FnMut(&str),
    ) -> Result<String, BoxError> {
        let request = ChatRequest {
            messages: vec![ChatMessage {
                role: "user".into(),
                content: prompt.to_owned(),
            }],
            stream: stream.then_some(true),
            ..ChatRequest::default()
        };
        let frames = self.session.chat(&request)?;
        let (limit, max_answer) = (self.limits.answer_timeout, self.limits.max_answer);
        within(limit, "the answer", async {
            send(&mut self.socket, frames).await?;
            self.read_answer(max_answer, &mut on_delta).await
        })
        .await
    }

    async fn read_answer(
        &mut self,
        max_answer: usize,
        on_delta: &mut impl FnMut(&str),
    ) -> Result<String, BoxError> {
        // attested-noise decides when the answer is whole and holds it to `max_answer`.
        let mut reader = AnswerReader::new(max_answer);
        loop {
            let frame = receive(&mut self.socket).await?;
            let Some(message) = self.session.receive(&frame)? else {
                continue;
            };
            match reader.read(message)? {
                AnswerPart::Delta(delta) => on_delta(&delta),
                AnswerPart::Whole(answer) => return Ok(answer),
            }
        }
    }

    /// Closes the WebSocket.
    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

async fn send(socket: &mut Socket, frames: Vec<Vec<u8>>) -> Result<(), BoxError> {
    for frame in frames {
        socket.send(WsMessage::Binary(frame.into())).await?;
    }
    Ok(())
}

async fn receive(socket: &mut Socket) -> Result<Vec<u8>, BoxError> {
    loop {
        match socket.next().await {
            Some(Ok(WsMessage::Binary(bytes))) => return Ok(bytes.to_vec()),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => {}
            Some(Ok(WsMessage::Close(_))) | None => {
                return Err("server closed the connection".into());
            }
            Some(Ok(_)) => return Err("server sent a non-binary frame".into()),
            Some(Err(error)) => return Err(error.into()),
        }
    }
}
