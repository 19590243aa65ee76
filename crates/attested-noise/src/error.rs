//! The errors of this crate. Every verification failure names what failed.

use attested_types::BoxError;

/// What went wrong in a handshake, a session or the verification of an attestation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A key had the wrong length or form.
    #[error("invalid {which} key")]
    InvalidKey {
        /// Which key: "Noise static", "binding public", ...
        which: &'static str,
    },
    /// A handshake frame had the wrong length (both NK handshake frames are 48 bytes).
    #[error("handshake frame is {got} bytes, expected {expected}")]
    HandshakeFrameLength {
        /// The length NK requires.
        expected: usize,
        /// The length received.
        got: usize,
    },
    /// The Noise handshake failed (authentication of a handshake frame, or a DH).
    #[error("Noise handshake failed")]
    Handshake,
    /// A handshake method was called out of order.
    #[error("handshake step out of order: {0}")]
    OutOfOrder(&'static str),
    /// A transport frame did not decrypt; the session is closed.
    #[error("frame failed to decrypt; session closed")]
    Decrypt,
    /// A transport frame was shorter than a tag or longer than a Noise message; the session is
    /// closed.
    #[error("frame of {0} bytes is not a valid Noise transport message; session closed")]
    FrameLength(usize),
    /// A decrypted v1 frame had an empty body or unknown flag bits; the session is closed.
    #[error("malformed v1 frame header; session closed")]
    FrameHeader,
    /// The session was closed by an earlier error and carries no more traffic.
    #[error("session is closed")]
    Closed,
    /// A message was too large to send in this profile; nothing was encrypted and the session is
    /// still usable.
    #[error("message of {len} bytes exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The encoded message length.
        len: usize,
        /// The largest message the profile or configuration allows.
        max: usize,
    },
    /// A received chunked message grew over the configured limit; the session is closed.
    #[error("received message exceeds the limit of {max} bytes; session closed")]
    ReceivedTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// A message was not valid JSON of the schema.
    #[error("invalid message: {0}")]
    InvalidMessage(#[source] serde_json::Error),
    /// A message had a type this crate does not know.
    #[error("unknown message type {0:?}")]
    UnknownMessageType(String),
    /// A message of another type arrived where a specific one was expected.
    #[error("expected a {expected} message, got {got}")]
    UnexpectedMessage {
        /// The type expected.
        expected: &'static str,
        /// The type received.
        got: &'static str,
    },
    /// A streamed answer's pieces grew over the reader's limit
    /// ([`AnswerReader`](crate::message::AnswerReader)).
    #[error("streamed answer over {max} bytes")]
    AnswerTooLong {
        /// The reader's limit.
        max: usize,
    },
    /// The peer answered with an `error` message.
    #[error("peer reported an error: {0}")]
    Remote(String),
    /// A field of the attestation message was malformed (hex, base64, length).
    #[error("attestation field {0} is malformed")]
    MalformedField(&'static str),
    /// The attestation names a Noise static key other than the one this session's handshake
    /// authenticated: a relay with its own key is forwarding someone else's attestation.
    #[error("attestation is for another Noise static key than this session's")]
    NoiseKeyMismatch,
    /// The caller's evidence check refused the evidence.
    #[error("evidence check failed")]
    Evidence(#[source] BoxError),
    /// The attestation carried no evidence (neither quote nor token).
    #[error("attestation carries no evidence")]
    NoEvidence,
    /// REPORTDATA of the verified evidence does not bind the attestation's binding key (and, in
    /// v1, the Noise static key).
    #[error("REPORTDATA does not bind the binding key{}", if *.profile == crate::Profile::V1 { " and the Noise static key" } else { "" })]
    ReportDataMismatch {
        /// The profile whose binding rule was applied.
        profile: crate::Profile,
    },
    /// REPORTDATA is SHA-256 of the binding key padded with zeros, where SHA-512 is required.
    #[error("REPORTDATA is SHA-256 of the binding key, but the binding requires SHA-512")]
    ReportDataWrongHash,
    /// The session binding was made for another handshake (replayed from another session).
    #[error("session binding is for another handshake hash (replayed from another session)")]
    SessionHashMismatch,
    /// The session binding's Ed25519 signature does not verify under the binding key.
    #[error("session binding signature does not verify under the binding key")]
    BindingSignature,
    /// The per-session evidence required by the configuration is absent.
    #[error("per-session evidence is required but absent")]
    SessionEvidenceMissing,
    /// The caller's evidence check refused the per-session evidence.
    #[error("per-session evidence check failed")]
    SessionEvidence(#[source] BoxError),
    /// REPORTDATA of the per-session evidence does not bind this handshake.
    #[error("REPORTDATA of the per-session evidence does not bind this handshake hash")]
    SessionEvidenceMismatch,
    /// The per-session evidence's measurements are not exactly those of the platform evidence
    /// it refreshes (another TD, or the same TD after a measured change, answered).
    #[error(
        "per-session evidence measurements differ from the platform evidence's ({names})",
        names = .differing.join(", ")
    )]
    SessionEvidenceMeasurements {
        /// The measurements that differ or that only one of the two carries.
        differing: Vec<String>,
    },
    /// The per-session evidence was offered in the seed profile, which has no place for it.
    #[error("per-session evidence is not part of the seed profile")]
    SessionEvidenceUnsupported,
    /// The server already has as many sessions open as its limits allow.
    #[error("too many sessions (limit {max})")]
    TooManySessions {
        /// The configured limit.
        max: usize,
    },
    /// Producing a signature or evidence on the server side failed.
    #[error("the server could not produce its attestation")]
    Attest(#[source] BoxError),
}

impl Error {
    /// Whether this error closed the session (any further use returns [`Error::Closed`]).
    pub fn closes_session(&self) -> bool {
        matches!(
            self,
            Self::Decrypt
                | Self::FrameLength(_)
                | Self::FrameHeader
                | Self::Closed
                | Self::ReceivedTooLarge { .. }
        )
    }
}
