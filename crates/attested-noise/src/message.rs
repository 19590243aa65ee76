//! Messages: the JSON schema carried inside a session, `{"type": T, "payload": {...}}`
//! ([`Message`] and its payloads), and [`Plaintext`], an encoded message's bytes as a
//! session's `open` returns them, erased when dropped.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::Error;

pub use crate::plaintext::Plaintext;

/// One message of the session schema.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// Client → server: send your attestation.
    GetAttestation,
    /// Server → client: evidence and the session binding.
    Attestation(Box<Attestation>),
    /// Client → server: a chat completion request.
    Chat(ChatRequest),
    /// Server → client: the whole answer.
    ChatResponse(ChatResponse),
    /// Client → server: liveness.
    Ping,
    /// Server → client: the answer to `ping`.
    Pong,
    /// Either way: a request could not be served. The text never leaves the encrypted session.
    Error(ErrorMessage),
    /// Server → client (v1): one piece of a streamed answer.
    ChatChunk(ChatChunk),
    /// Server → client (v1): the end of a streamed answer.
    ChatDone(ChatDone),
}

/// The `attestation` payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    /// The platform quote, base64.
    #[serde(default)]
    pub quote_b64: Option<String>,
    /// An attestation token (Intel Trust Authority JWT), if the server has one.
    #[serde(default)]
    pub intel_ta_token: Option<String>,
    /// MRTD as the server reports it: informative only, never trusted.
    #[serde(default)]
    pub mrtd: Option<String>,
    /// Measurements as the server reports them: informative only, never trusted.
    #[serde(default)]
    pub measurements: serde_json::Value,
    /// The server's Noise static key, hex.
    pub noise_pubkey: String,
    /// The signature binding this session's handshake to the binding key.
    pub session_binding: SessionBinding,
    /// v1: evidence made for this session, whose REPORTDATA binds the handshake hash; base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_quote_b64: Option<String>,
}

/// The `session_binding` object of an attestation.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionBinding {
    /// The handshake hash h, hex.
    pub session_hash: String,
    /// Ed25519 signature of the profile's binding message over h, hex.
    pub signature: String,
    /// The Ed25519 binding public key, hex.
    pub binding_pubkey: String,
}

/// One chat message (OpenAI shape).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

/// The `chat` payload.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The conversation so far.
    pub messages: Vec<ChatMessage>,
    /// The model to use; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// v1: answer with `chat_chunk` messages and a `chat_done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// The `chat_response` payload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The answer.
    pub message: ChatMessage,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    #[serde(default)]
    pub completion_tokens: u64,
}

/// The `chat_chunk` payload (v1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// The next piece of the answer's text.
    pub delta: String,
}

/// The `chat_done` payload (v1).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatDone {
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// Tokens in the prompt.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Tokens in the answer.
    #[serde(default)]
    pub completion_tokens: u64,
}

/// The `error` payload.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    /// A short, generic description.
    pub error: String,
}

/// The envelope, read without building a tree: the type borrowed (owned only when it holds
/// escapes), the payload kept as the raw JSON text it is, parsed once the type is known straight
/// into its typed struct. Unknown fields are skipped without being stored.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    payload: Option<&'a RawValue>,
}

/// Which messages a decoder accepts: a server reads only what clients send, and never spends
/// work on the payload of a message it would refuse anyway.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Any message of the schema (clients, tools).
    Any,
    /// Client → server only: `get_attestation`, `chat`, `ping`.
    Requests,
}

/// The longest message type echoed in [`Error::UnknownMessageType`].
const MAX_ECHOED_TYPE: usize = 64;

#[derive(Serialize)]
struct EnvelopeOut<'a, P: Serialize> {
    #[serde(rename = "type")]
    kind: &'static str,
    payload: &'a P,
}

#[derive(Serialize)]
struct Empty {}

impl Message {
    /// The wire name of this message's type.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::GetAttestation => "get_attestation",
            Self::Attestation(_) => "attestation",
            Self::Chat(_) => "chat",
            Self::ChatResponse(_) => "chat_response",
            Self::Ping => "ping",
            Self::Pong => "pong",
            Self::Error(_) => "error",
            Self::ChatChunk(_) => "chat_chunk",
            Self::ChatDone(_) => "chat_done",
        }
    }

    /// The message as JSON bytes.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        fn out<P: Serialize>(kind: &'static str, payload: &P) -> Result<Vec<u8>, Error> {
            serde_json::to_vec(&EnvelopeOut { kind, payload }).map_err(Error::InvalidMessage)
        }
        let kind = self.type_name();
        match self {
            Self::GetAttestation | Self::Ping | Self::Pong => out(kind, &Empty {}),
            Self::Attestation(p) => out(kind, p),
            Self::Chat(p) => out(kind, p),
            Self::ChatResponse(p) => out(kind, p),
            Self::Error(p) => out(kind, p),
            Self::ChatChunk(p) => out(kind, p),
            Self::ChatDone(p) => out(kind, p),
        }
    }

    /// Parses JSON bytes. A well-formed message of an unknown type is
    /// [`Error::UnknownMessageType`], so that a server can answer it with an `error`.
    ///
    /// The payload is parsed straight into its typed struct: no `serde_json::Value` tree is
    /// built first, so memory stays proportional to the fields kept, not to the JSON nodes
    /// sent.
    pub fn decode(bytes: &[u8]) -> Result<Self, Error> {
        Self::decode_from(bytes, Direction::Any)
    }

    pub(crate) fn decode_from(bytes: &[u8], direction: Direction) -> Result<Self, Error> {
        let envelope: Envelope<'_> =
            serde_json::from_slice(bytes).map_err(Error::InvalidMessage)?;
        let payload = envelope.payload;
        fn parse<P: serde::de::DeserializeOwned>(payload: Option<&RawValue>) -> Result<P, Error> {
            let text = payload.map_or("{}", RawValue::get);
            // `null` stands for an empty payload, as an absent one does.
            let text = if text == "null" { "{}" } else { text };
            serde_json::from_str(text).map_err(Error::InvalidMessage)
        }
        let message = match envelope.kind.as_ref() {
            "get_attestation" => Self::GetAttestation,
            "chat" => Self::Chat(parse(payload)?),
            "ping" => Self::Ping,
            "attestation" | "chat_response" | "pong" | "error" | "chat_chunk" | "chat_done"
                if direction == Direction::Requests =>
            {
                return Err(Error::UnexpectedMessage {
                    expected: "a request",
                    got: known_type_name(&envelope.kind),
                });
            }
            "attestation" => Self::Attestation(Box::new(parse(payload)?)),
            "chat_response" => Self::ChatResponse(parse(payload)?),
            "pong" => Self::Pong,
            "error" => Self::Error(parse(payload)?),
            "chat_chunk" => Self::ChatChunk(parse(payload)?),
            "chat_done" => Self::ChatDone(parse(payload)?),
            other => {
                let mut end = other.len().min(MAX_ECHOED_TYPE);
                while !other.is_char_boundary(end) {
                    end -= 1;
                }
                return Err(Error::UnknownMessageType(
                    other.get(..end).unwrap_or_default().to_owned(),
                ));
            }
        };
        Ok(message)
    }
}

/// The static name of a known message type (for [`Error::UnexpectedMessage`]).
fn known_type_name(kind: &str) -> &'static str {
    match kind {
        "attestation" => "attestation",
        "chat_response" => "chat_response",
        "pong" => "pong",
        "error" => "error",
        "chat_chunk" => "chat_chunk",
        "chat_done" => "chat_done",
        _ => "unknown",
    }
}

/// A client's reading of the answer to one `chat`, from the messages that follow it: a
/// `chat_response` is the whole answer; `chat_chunk`s are pieces, whole only at `chat_done`
/// (an answer that breaks off ends with an `error` instead, which is never taken for a whole
/// one); the pieces are held to `max_len` bytes, so a server that streams forever gets an
/// error, not the client's memory.
#[derive(Debug)]
pub struct AnswerReader {
    text: String,
    max_len: usize,
}

/// One step of an [`AnswerReader`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerPart {
    /// The next piece of a streamed answer (already added to the answer).
    Delta(String),
    /// The whole answer: nothing more belongs to it.
    Whole(String),
}

impl AnswerReader {
    /// Reads an answer of at most `max_len` bytes.
    pub fn new(max_len: usize) -> Self {
        Self {
            text: String::new(),
            max_len,
        }
    }

    /// Takes the next message received after the `chat`. An `error` message is
    /// [`Error::Remote`]; pieces over the limit are [`Error::AnswerTooLong`]; any other message
    /// is [`Error::UnexpectedMessage`].
    pub fn read(&mut self, message: Message) -> Result<AnswerPart, Error> {
        match message {
            Message::ChatResponse(response) => Ok(AnswerPart::Whole(response.message.content)),
            Message::ChatChunk(chunk) => {
                if self.text.len().saturating_add(chunk.delta.len()) > self.max_len {
                    return Err(Error::AnswerTooLong { max: self.max_len });
                }
                self.text.push_str(&chunk.delta);
                Ok(AnswerPart::Delta(chunk.delta))
            }
            Message::ChatDone(_) => Ok(AnswerPart::Whole(std::mem::take(&mut self.text))),
            Message::Error(error) => Err(Error::Remote(error.error)),
            other => Err(Error::UnexpectedMessage {
                expected: "chat_response, chat_chunk or chat_done",
                got: other.type_name(),
            }),
        }
    }
}

impl Error {
    /// A short, generic text for an `error` reply to a message that could not be served; it
    /// never echoes the peer's input.
    pub(crate) fn reply_text(&self) -> &'static str {
        match self {
            Self::UnknownMessageType(_) => "unknown message type",
            Self::InvalidMessage(_) => "invalid message",
            Self::UnexpectedMessage { .. } => "unexpected message",
            Self::MessageTooLarge { .. } => "message too large",
            _ => "request failed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_is_whole_at_chat_response_or_chat_done_only() {
        let chunk = |delta: &str| {
            Message::ChatChunk(ChatChunk {
                delta: delta.into(),
            })
        };
        let mut reader = AnswerReader::new(5);
        assert_eq!(
            reader.read(chunk("Hel")).unwrap(),
            AnswerPart::Delta("Hel".into())
        );
        assert_eq!(
            reader.read(chunk("lo")).unwrap(),
            AnswerPart::Delta("lo".into())
        );
        assert!(matches!(
            reader.read(chunk("!")),
            Err(Error::AnswerTooLong { max: 5 })
        ));
        let done = Message::ChatDone(ChatDone::default());
        assert_eq!(
            reader.read(done).unwrap(),
            AnswerPart::Whole("Hello".into())
        );
        let mut reader = AnswerReader::new(5);
        reader.read(chunk("Hel")).unwrap();
        let interrupted = Message::Error(ErrorMessage {
            error: "answer interrupted".into(),
        });
        assert!(
            matches!(reader.read(interrupted), Err(Error::Remote(text)) if text == "answer interrupted")
        );
        let whole = Message::ChatResponse(ChatResponse {
            message: ChatMessage {
                role: "assistant".into(),
                content: "hi".into(),
            },
            ..ChatResponse::default()
        });
        assert_eq!(
            AnswerReader::new(0).read(whole).unwrap(),
            AnswerPart::Whole("hi".into())
        );
        assert!(matches!(
            AnswerReader::new(5).read(Message::Pong),
            Err(Error::UnexpectedMessage { got: "pong", .. })
        ));
    }

    #[test]
    fn round_trips_every_type() {
        let messages = [
            Message::GetAttestation,
            Message::Attestation(Box::new(Attestation {
                quote_b64: Some("AAAA".into()),
                noise_pubkey: "00".repeat(32),
                session_binding: SessionBinding {
                    session_hash: "11".repeat(32),
                    signature: "22".repeat(64),
                    binding_pubkey: "33".repeat(32),
                },
                session_quote_b64: Some("BBBB".into()),
                ..Attestation::default()
            })),
            Message::Chat(ChatRequest {
                messages: vec![ChatMessage {
                    role: "user".into(),
                    content: "hi".into(),
                }],
                model: Some("m".into()),
                temperature: Some(0.5),
                stream: Some(true),
            }),
            Message::ChatResponse(ChatResponse {
                model: "m".into(),
                prompt_tokens: 3,
                completion_tokens: 4,
                ..ChatResponse::default()
            }),
            Message::Ping,
            Message::Pong,
            Message::Error(ErrorMessage { error: "e".into() }),
            Message::ChatChunk(ChatChunk { delta: "d".into() }),
            Message::ChatDone(ChatDone::default()),
        ];
        for message in messages {
            let bytes = message.encode().unwrap();
            assert_eq!(Message::decode(&bytes).unwrap(), message, "{message:?}");
        }
    }

    #[test]
    fn accepts_the_python_shapes() {
        assert_eq!(
            Message::decode(br#"{"type":"ping"}"#).unwrap(),
            Message::Ping
        );
        assert_eq!(
            Message::decode(br#"{"type":"get_attestation","payload":{}}"#).unwrap(),
            Message::GetAttestation
        );
        let a = br#"{"type":"attestation","payload":{"quote_b64":"AA==","intel_ta_token":null,
            "mrtd":"ab","measurements":{"rtmr0":"00"},"noise_pubkey":"cd",
            "session_binding":{"session_hash":"01","signature":"02","binding_pubkey":"03"}}}"#;
        let Message::Attestation(a) = Message::decode(a).unwrap() else {
            panic!("not an attestation")
        };
        assert_eq!(a.intel_ta_token, None);
        assert_eq!(a.session_binding.binding_pubkey, "03");
    }

    #[test]
    fn names_unknown_types_and_refuses_malformed_ones() {
        assert!(matches!(
            Message::decode(br#"{"type":"sudo","payload":{}}"#),
            Err(Error::UnknownMessageType(t)) if t == "sudo"
        ));
        assert!(matches!(
            Message::decode(br#"{"type":"chat","payload":{"messages":3}}"#),
            Err(Error::InvalidMessage(_))
        ));
        assert!(matches!(
            Message::decode(b"\xff"),
            Err(Error::InvalidMessage(_))
        ));
    }
}
