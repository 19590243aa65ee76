//! Sessions after the handshake: the client's unverified and verified phases, and the server's.

use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use subtle::ConstantTimeEq;

use attested_types::{Accepted, Appraiser, Evidence, EvidenceKind, ReportData, UnixTime};

use crate::Error;
use crate::channel::Channel;
use crate::evidence::PlatformEvidence;
use crate::keys::NoiseStaticKey;
use crate::limits::{ServerLimits, SessionCount, SessionPermit};
use crate::message::{Attestation, ChatRequest, ErrorMessage, Message, SessionBinding};
use crate::plaintext::Plaintext;
use crate::profile::{Config, Profile, sha256_padded};

/// The client's session after the handshake, before the server has proven what it is.
///
/// All it can send is the attestation request; [`verify`](Self::verify) is the only way to a
/// [`VerifiedSession`], which can send prompts.
pub struct UnverifiedSession {
    channel: Channel,
    handshake_hash: [u8; 32],
    server_static_key: [u8; 32],
}

impl UnverifiedSession {
    pub(crate) fn new(
        channel: Channel,
        handshake_hash: [u8; 32],
        server_static_key: [u8; 32],
    ) -> Self {
        Self {
            channel,
            handshake_hash,
            server_static_key,
        }
    }

    /// The handshake hash h that the server must sign.
    pub fn handshake_hash(&self) -> &[u8; 32] {
        &self.handshake_hash
    }

    /// The frames of a `get_attestation` request.
    pub fn request_attestation(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.send(&Message::GetAttestation)
    }

    /// Reads one frame of the server's answer: the attestation once complete, `None` while a
    /// chunked message is still arriving.
    pub fn receive_attestation(&mut self, frame: &[u8]) -> Result<Option<Attestation>, Error> {
        match self.channel.receive(frame)? {
            None => Ok(None),
            Some(Message::Attestation(attestation)) => Ok(Some(*attestation)),
            Some(Message::Error(ErrorMessage { error })) => Err(Error::Remote(error)),
            Some(other) => Err(Error::UnexpectedMessage {
                expected: "attestation",
                got: other.type_name(),
            }),
        }
    }

    /// Verifies `attestation` at `now` and, only if every check passes, returns the verified
    /// session.
    ///
    /// In order: the attestation names this handshake's Noise static key; `appraiser`
    /// verifies and appraises the platform evidence at `now`; its REPORTDATA is the profile's
    /// binding of the binding key (v1: and the Noise static key); the binding names this
    /// handshake's hash h; the binding signature verifies; v1: the per-session evidence, when
    /// present or required, is appraised, its REPORTDATA binds h, and its measurements are
    /// exactly those of the platform evidence it refreshes.
    pub fn verify(
        self,
        attestation: &Attestation,
        appraiser: &dyn Appraiser,
        now: UnixTime,
    ) -> Result<VerifiedSession, Error> {
        let profile = self.channel.config().profile;
        let stated_noise_key: [u8; 32] = decode_hex(&attestation.noise_pubkey, "noise_pubkey")?;
        if !bool::from(stated_noise_key.ct_eq(&self.server_static_key)) {
            return Err(Error::NoiseKeyMismatch);
        }
        let binding = &attestation.session_binding;
        let binding_key_bytes: [u8; 32] =
            decode_hex(&binding.binding_pubkey, "session_binding.binding_pubkey")?;
        let binding_key = VerifyingKey::from_bytes(&binding_key_bytes)
            .map_err(|_| Error::MalformedField("session_binding.binding_pubkey"))?;
        let session_hash: [u8; 32] =
            decode_hex(&binding.session_hash, "session_binding.session_hash")?;
        let signature: [u8; 64] = decode_hex(&binding.signature, "session_binding.signature")?;

        let quote = decode_base64(attestation.quote_b64.as_deref(), "quote_b64")?;
        let token = attestation
            .intel_ta_token
            .as_deref()
            .filter(|t| !t.is_empty());
        if quote.is_none() && token.is_none() {
            return Err(Error::NoEvidence);
        }
        let evidence = appraiser
            .appraise(
                &Evidence::new(EvidenceKind::Platform, quote.as_deref(), token),
                now,
            )
            .map_err(Error::Evidence)?;

        let expected = profile.report_data(&binding_key_bytes, &self.server_static_key);
        if evidence.report_data() != &expected {
            return Err(
                if evidence.report_data() == &sha256_padded(&binding_key_bytes) {
                    Error::ReportDataWrongHash
                } else {
                    Error::ReportDataMismatch { profile }
                },
            );
        }
        if !bool::from(session_hash.ct_eq(&self.handshake_hash)) {
            return Err(Error::SessionHashMismatch);
        }
        binding_key
            .verify_strict(
                &profile.binding_message(&self.handshake_hash),
                &ed25519_dalek::Signature::from_bytes(&signature),
            )
            .map_err(|_| Error::BindingSignature)?;

        let session_evidence =
            self.verify_session_evidence(attestation, &evidence, appraiser, now)?;
        Ok(VerifiedSession {
            channel: self.channel,
            handshake_hash: self.handshake_hash,
            binding_key: binding_key_bytes,
            evidence,
            session_evidence,
        })
    }

    fn verify_session_evidence(
        &self,
        attestation: &Attestation,
        platform: &Accepted,
        appraiser: &dyn Appraiser,
        now: UnixTime,
    ) -> Result<Option<Accepted>, Error> {
        let config = self.channel.config();
        let quote = decode_base64(
            attestation.session_quote_b64.as_deref(),
            "session_quote_b64",
        )?;
        let (Some(quote), Some(expected)) = (
            quote,
            config.profile.session_report_data(&self.handshake_hash),
        ) else {
            return if config.require_session_evidence {
                Err(Error::SessionEvidenceMissing)
            } else {
                Ok(None)
            };
        };
        let evidence = appraiser
            .appraise(&Evidence::session_quote(&quote), now)
            .map_err(Error::SessionEvidence)?;
        if evidence.report_data() != &expected {
            return Err(Error::SessionEvidenceMismatch);
        }
        // Fresh evidence from another TD (or from this one after a measured change) would
        // otherwise bind this session to a workload the platform evidence never vouched for.
        let differing = differing_measurements(platform, &evidence);
        if !differing.is_empty() {
            return Err(Error::SessionEvidenceMeasurements { differing });
        }
        Ok(Some(evidence))
    }
}

impl std::fmt::Debug for UnverifiedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnverifiedSession")
            .field("profile", &self.channel.config().profile)
            .field("handshake_hash", &hex::encode(self.handshake_hash))
            .finish_non_exhaustive()
    }
}

/// The names of the measurements that differ between two appraised values, or that only one
/// of them carries.
fn differing_measurements(platform: &Accepted, session: &Accepted) -> Vec<String> {
    let (a, b) = (platform.measurements(), session.measurements());
    a.keys()
        .chain(b.keys().filter(|name| !a.contains_key(*name)))
        .filter(|name| a.get(*name) != b.get(*name))
        .cloned()
        .collect()
}

fn decode_hex<const N: usize>(text: &str, field: &'static str) -> Result<[u8; N], Error> {
    let mut out = [0_u8; N];
    hex::decode_to_slice(text, &mut out).map_err(|_| Error::MalformedField(field))?;
    Ok(out)
}

fn decode_base64(text: Option<&str>, field: &'static str) -> Result<Option<Vec<u8>>, Error> {
    match text.filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(text) => BASE64
            .decode(text)
            .map(Some)
            .map_err(|_| Error::MalformedField(field)),
    }
}

/// The client's session once the server's attestation has verified: it can send prompts.
pub struct VerifiedSession {
    channel: Channel,
    handshake_hash: [u8; 32],
    binding_key: [u8; 32],
    evidence: Accepted,
    session_evidence: Option<Accepted>,
}

impl VerifiedSession {
    /// The profile of this session.
    pub fn profile(&self) -> Profile {
        self.channel.config().profile
    }

    /// The handshake hash h the server signed.
    pub fn handshake_hash(&self) -> &[u8; 32] {
        &self.handshake_hash
    }

    /// The server's verified Ed25519 binding key.
    pub fn binding_key(&self) -> &[u8; 32] {
        &self.binding_key
    }

    /// What the platform evidence vouched for, as the appraiser accepted it.
    pub fn evidence(&self) -> &Accepted {
        &self.evidence
    }

    /// What the per-session evidence vouched for, when the server sent one (v1).
    pub fn session_evidence(&self) -> Option<&Accepted> {
        self.session_evidence.as_ref()
    }

    /// Whether an earlier error closed the session.
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// The frames of `message`, in order. A message over the limit is refused before any
    /// encryption, and the session stays usable.
    pub fn send(&mut self, message: &Message) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.send(message)
    }

    /// The frames of a `chat` request.
    pub fn chat(&mut self, request: &ChatRequest) -> Result<Vec<Vec<u8>>, Error> {
        self.send(&Message::Chat(request.clone()))
    }

    /// Reads one frame: a complete message, or `None` while a chunked one is still arriving.
    /// A frame that fails to decrypt closes the session.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Option<Message>, Error> {
        self.channel.receive(frame)
    }

    /// The frames of an already encoded message (for a schema of your own over the verified
    /// session; the peer reads it with `open`). Limits as for [`send`](Self::send).
    pub fn seal(&mut self, encoded: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.seal(encoded)
    }

    /// Reads one frame without decoding: the complete encoded message, or `None` while a
    /// chunked one is still arriving. A frame that fails to decrypt closes the session.
    pub fn open(&mut self, frame: &[u8]) -> Result<Option<Plaintext>, Error> {
        self.channel.open(frame)
    }
}

impl std::fmt::Debug for VerifiedSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSession")
            .field("profile", &self.channel.config().profile)
            .field("handshake_hash", &hex::encode(self.handshake_hash))
            .field("binding_key", &hex::encode(self.binding_key))
            .finish_non_exhaustive()
    }
}

/// What a server is: its settings, keys and platform evidence, shared by all its sessions.
pub struct ServerIdentity {
    config: Config,
    noise_key: NoiseStaticKey,
    binding_key: SigningKey,
    evidence: PlatformEvidence,
    limits: ServerLimits,
    sessions: Arc<SessionCount>,
}

impl ServerIdentity {
    /// A server identity. `evidence` must carry REPORTDATA =
    /// [`Profile::report_data`] of the two public keys (see [`Self::report_data`]).
    pub fn new(
        config: Config,
        noise_key: NoiseStaticKey,
        binding_key: SigningKey,
        evidence: PlatformEvidence,
    ) -> Self {
        Self {
            config,
            noise_key,
            binding_key,
            evidence,
            limits: ServerLimits::default(),
            sessions: Arc::default(),
        }
    }

    /// This identity with `limits` in place of [`ServerLimits::default`].
    #[must_use]
    pub fn with_limits(mut self, limits: ServerLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The limits its sessions run under.
    pub fn limits(&self) -> &ServerLimits {
        &self.limits
    }

    /// Admits one more session, or refuses it with [`Error::TooManySessions`] when
    /// [`ServerLimits::sessions`] are open: call it before the handshake (before a WebSocket
    /// upgrade, so that the refusal is a plain HTTP answer) and keep the permit for the life of
    /// the connection.
    pub fn admit(&self) -> Result<SessionPermit, Error> {
        let max = self.limits.sessions();
        self.sessions
            .admit(max)
            .ok_or(Error::TooManySessions { max })
    }

    /// How many admitted sessions are open.
    pub fn open_sessions(&self) -> usize {
        self.sessions.open()
    }

    /// The REPORTDATA the platform evidence of these keys must carry under `profile`.
    pub fn report_data(
        profile: Profile,
        noise_key: &NoiseStaticKey,
        binding_key: &SigningKey,
    ) -> ReportData {
        profile.report_data(
            &binding_key.verifying_key().to_bytes(),
            noise_key.public_key(),
        )
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The Noise static key.
    pub fn noise_key(&self) -> &NoiseStaticKey {
        &self.noise_key
    }

    /// The Ed25519 binding public key.
    pub fn binding_public_key(&self) -> [u8; 32] {
        self.binding_key.verifying_key().to_bytes()
    }

    /// The platform evidence.
    pub fn evidence(&self) -> &PlatformEvidence {
        &self.evidence
    }
}

impl std::fmt::Debug for ServerIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerIdentity")
            .field("profile", &self.config.profile)
            .field("noise_key", &self.noise_key)
            .field("binding_key", &hex::encode(self.binding_public_key()))
            .finish_non_exhaustive()
    }
}

/// What a frame received by the server asks of the application.
#[derive(Debug)]
#[non_exhaustive]
pub enum Received {
    /// Part of a chunked message: nothing to do yet.
    Partial,
    /// The session answered by itself (`pong`, or an `error` for an unknown or malformed
    /// message): send these frames.
    Reply(Vec<Vec<u8>>),
    /// The client asked for the attestation: answer with [`ServerSession::attestation`],
    /// adding per-session evidence over [`ServerSession::session_report_data`] if you make it.
    AttestationRequested,
    /// A chat request to serve.
    Chat(ChatRequest),
}

/// The server's side of one session.
pub struct ServerSession {
    channel: Channel,
    handshake_hash: [u8; 32],
    identity: Arc<ServerIdentity>,
    attestations: u32,
}

/// The `error` texts the server core sends; generic, never echoing the client's input.
pub(crate) mod reply {
    /// A `get_attestation` over [`ServerLimits::attestations_per_session`](crate::limits::ServerLimits).
    pub(crate) const ATTESTATION_LIMIT: &str = "attestation limit reached";
    /// The answer being streamed broke off: what was sent is not the whole answer.
    pub(crate) const ANSWER_INTERRUPTED: &str = "answer interrupted";
}

impl ServerSession {
    pub(crate) fn new(
        channel: Channel,
        handshake_hash: [u8; 32],
        identity: Arc<ServerIdentity>,
    ) -> Self {
        Self {
            channel,
            handshake_hash,
            identity,
            attestations: 0,
        }
    }

    /// The handshake hash h.
    pub fn handshake_hash(&self) -> &[u8; 32] {
        &self.handshake_hash
    }

    /// v1: the REPORTDATA that per-session evidence for this session must carry.
    pub fn session_report_data(&self) -> Option<ReportData> {
        self.identity
            .config
            .profile
            .session_report_data(&self.handshake_hash)
    }

    /// Whether an earlier error closed the session.
    pub fn is_closed(&self) -> bool {
        self.channel.is_closed()
    }

    /// Reads one frame from the client. Malformed or unknown messages are answered with an
    /// `error` (inside the session); a frame that fails to decrypt closes the session.
    pub fn receive(&mut self, frame: &[u8]) -> Result<Received, Error> {
        let message = match self.channel.receive_request(frame) {
            Ok(Some(message)) => message,
            Ok(None) => return Ok(Received::Partial),
            Err(error) if error.closes_session() => return Err(error),
            Err(error) => return self.reply_error(&error),
        };
        match message {
            Message::GetAttestation
                if self.attestations >= self.identity.limits.attestations_per_session() =>
            {
                self.error(reply::ATTESTATION_LIMIT).map(Received::Reply)
            }
            Message::GetAttestation => {
                self.attestations = self.attestations.saturating_add(1);
                Ok(Received::AttestationRequested)
            }
            Message::Chat(request) => Ok(Received::Chat(request)),
            Message::Ping => Ok(Received::Reply(self.channel.send(&Message::Pong)?)),
            other => self.reply_error(&Error::UnexpectedMessage {
                expected: "a request",
                got: other.type_name(),
            }),
        }
    }

    fn reply_error(&mut self, error: &Error) -> Result<Received, Error> {
        self.error(error.reply_text()).map(Received::Reply)
    }

    /// The frames to send when the answer being streamed (`chat_chunk`s) breaks off, for
    /// example because the backend's stream failed: an `error`, never a `chat_done`, so that
    /// the client does not take a truncated answer for a whole one.
    pub fn answer_interrupted(&mut self) -> Result<Vec<Vec<u8>>, Error> {
        self.error(reply::ANSWER_INTERRUPTED)
    }

    /// The frames of an `error` message with a short, generic text.
    pub fn error(&mut self, text: &str) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.send(&Message::Error(ErrorMessage {
            error: text.to_owned(),
        }))
    }

    /// The frames of the `attestation` answer: platform evidence and the signed session
    /// binding, plus (v1) `session_quote`, evidence whose REPORTDATA is
    /// [`Self::session_report_data`].
    pub fn attestation(&mut self, session_quote: Option<&[u8]>) -> Result<Vec<Vec<u8>>, Error> {
        let attestation = self.attestation_message(session_quote)?;
        self.channel
            .send(&Message::Attestation(Box::new(attestation)))
    }

    /// As [`attestation`](Self::attestation), with `token` in place of the identity's token:
    /// tokens expire, so a server renews its token (for the same platform evidence) over the
    /// life of its identity.
    pub fn attestation_with_token(
        &mut self,
        session_quote: Option<&[u8]>,
        token: &str,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let attestation = self.attestation_carrying(session_quote, Some(token.to_owned()))?;
        self.channel
            .send(&Message::Attestation(Box::new(attestation)))
    }

    /// The `attestation` answer of [`Self::attestation`] as a message, unsent (to log it, or to
    /// send it within a schema of your own through [`Self::seal`]).
    pub fn attestation_message(&self, session_quote: Option<&[u8]>) -> Result<Attestation, Error> {
        self.attestation_carrying(session_quote, self.identity.evidence.token.clone())
    }

    fn attestation_carrying(
        &self,
        session_quote: Option<&[u8]>,
        token: Option<String>,
    ) -> Result<Attestation, Error> {
        let identity = &self.identity;
        let profile = identity.config.profile;
        if session_quote.is_some() && profile == Profile::Seed {
            return Err(Error::SessionEvidenceUnsupported);
        }
        let signature = identity
            .binding_key
            .sign(&profile.binding_message(&self.handshake_hash));
        let evidence = &identity.evidence;
        Ok(Attestation {
            quote_b64: evidence.quote.as_deref().map(|q| BASE64.encode(q)),
            intel_ta_token: token,
            mrtd: evidence.mrtd.clone(),
            measurements: evidence.measurements.clone(),
            noise_pubkey: hex::encode(identity.noise_key.public_key()),
            session_binding: SessionBinding {
                session_hash: hex::encode(self.handshake_hash),
                signature: hex::encode(signature.to_bytes()),
                binding_pubkey: hex::encode(identity.binding_public_key()),
            },
            session_quote_b64: session_quote.map(|q| BASE64.encode(q)),
        })
    }

    /// The frames of any message (`chat_response`, `chat_chunk`, `chat_done`, ...). A message
    /// over the limit is refused before any encryption, and the session stays usable.
    pub fn send(&mut self, message: &Message) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.send(message)
    }

    /// The frames of an already encoded message (for a schema of your own).
    pub fn seal(&mut self, encoded: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        self.channel.seal(encoded)
    }

    /// Reads one frame without decoding or answering it (for a schema of your own): the
    /// complete encoded message, or `None` while a chunked one is still arriving.
    pub fn open(&mut self, frame: &[u8]) -> Result<Option<Plaintext>, Error> {
        self.channel.open(frame)
    }
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("profile", &self.identity.config.profile)
            .field("handshake_hash", &hex::encode(self.handshake_hash))
            .finish_non_exhaustive()
    }
}
