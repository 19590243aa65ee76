//! A Noise NK session bound to a TEE's attestation, wire-compatible with the Python private-LLM
//! proxy.
//!
//! The client knows the server's Noise static key, runs `Noise_NK_25519_ChaChaPoly_SHA256`, and
//! then asks for the server's attestation: evidence (a TDX quote, a token) whose REPORTDATA binds
//! an Ed25519 binding key, and that key's signature over this handshake's hash. Only when the
//! evidence is verified and appraised (by an [`Appraiser`] the caller supplies, from the
//! shared `attested-types` vocabulary), REPORTDATA
//! binds the key and the signature binds this very handshake does the [`UnverifiedSession`]
//! become a [`VerifiedSession`], the only type that can send a prompt.
//!
//! Two [`Profile`]s: [`Profile::Seed`] speaks the Python proxy's wire format byte for byte;
//! [`Profile::V1`] (the default) labels what it hashes and signs, binds the Noise static key in
//! REPORTDATA, can bind fresh per-session evidence, chunks large messages, streams chat and
//! rekeys.
//!
//! The crate is sans-IO: it turns frames (one Noise message each, a binary WebSocket message in
//! the proxy) into messages and back, and takes its randomness from the caller.
//!
//! The root holds the main use: the client's typestates ([`Initiator`] → [`UnverifiedSession`]
//! → [`VerifiedSession`]), the server's ([`ServerIdentity`], made of a [`NoiseStaticKey`], an
//! Ed25519 binding key and [`PlatformEvidence`]; [`Responder`] → [`ServerSession`], whose frames
//! come out as [`Received`]), the settings ([`Config`], [`Profile`]), the [`Error`], the
//! vocabulary types and `ed25519_dalek` for the binding key. The rest is grouped by what it
//! holds:
//!
//! - [`message`]: the JSON schema inside a session ([`message::Message`], the chat requests,
//!   answers and streamed pieces, the [`message::Attestation`] and its
//!   [`message::SessionBinding`]), [`message::Plaintext`], encoded bytes erased when dropped,
//!   and [`message::AnswerReader`], a client's reading of one answer (whole only at
//!   `chat_response` or `chat_done`, held to a size).
//! - [`limits`]: what a server allows each anonymous client ([`limits::ServerLimits`], the
//!   [`limits::SessionPermit`] of one admitted session) and the sizes frames and messages are
//!   held to ([`limits::MAX_FRAME_LEN`] for the WebSocket layer, [`limits::MAX_FRAME_PLAINTEXT`],
//!   [`limits::HANDSHAKE_FRAME_LEN`], [`limits::DEFAULT_MAX_MESSAGE_LEN`]).
//! - [`profile`]: the two wire profiles and what each binds, the Noise protocol both run
//!   ([`profile::PROTOCOL_NAME`]), the session settings and [`profile::UnknownProfile`].
//! - [`backend`]: the OpenAI-compatible backend a proxy forwards `chat` to, sans-IO: the
//!   request body, and the answer read back whole or streamed ([`backend::StreamedAnswer`]:
//!   whole only after `[DONE]`, a character split across network pieces intact).
//!
//! # Secrets in memory
//!
//! Erased when dropped: the Noise static private key ([`NoiseStaticKey`], an
//! `x25519_dalek::StaticSecret`), the Ed25519 binding key (`ed25519_dalek::SigningKey`), the
//! ephemeral key's randomness and the ephemeral and static keys as snow's DH objects hold them
//! (the crate runs snow on its own resolver so that they live in zeroizing types), our copy of
//! every DH output (`x25519_dalek::SharedSecret`), the handshake's cipher keys, the
//! two transport keys (taken out of snow at Split into our own cipher states, whose
//! `ChaCha20Poly1305` erases its key) and every decrypted or to-be-encrypted buffer
//! ([`message::Plaintext`]).
//!
//! Not erased, because they live inside snow, which has no zeroization and gives no access to
//! them: the handshake's chaining key and its running hash in snow's `SymmetricState`, freed
//! with the handshake state after Split; the HKDF and HMAC intermediates and the DH output
//! buffers snow keeps on its stack while mixing keys (the DH outputs it is handed among them);
//! its copy of the Split output. The chaining
//! key is a secret (it derives the transport keys); it is freed, not overwritten, when the
//! handshake ends. The handshake hash h is not a secret (it is signed and sent in the
//! attestation) and the sessions keep it in plain arrays.
//!
//! Nor are the messages' contents once they leave [`message::Plaintext`]: `serde_json` grows
//! its output while encoding a message (freeing the smaller buffers unwiped), and decoded
//! messages ([`message::ChatRequest`], [`message::ChatResponse`], ...) hold plain `String`s that
//! are the application's to handle.
//!
//! # Example
//!
//! Composing real evidence into a session takes an appraiser from the crate that owns the
//! evidence, and the time (this crate depends on neither `attested-tdx` nor `attested-token`,
//! so these lines cannot compile here; they compile and run against the simulated TDX platform
//! in the workspace's `examples/tests/composition.rs`):
//!
//! ```ignore
//! let appraiser = attested_tdx::TdxAppraiser::new(
//!     attested_tdx::Verifier::new(attested_tdx::TrustAnchor::intel_sgx_root()),
//!     collateral,                                  // from Intel PCS or a PCCS
//!     policy,                                      // reference values of the workload
//! );
//! let session = unverified.verify(&attestation, &appraiser, UnixTime::now())?;
//! // or attested_token::ita::ItaAppraiser for an Intel Trust Authority token
//! ```
//!
//! A full handshake and verification in memory, with a stand-in appraiser that trusts a
//! "quote" which is just REPORTDATA:
//!
//! ```
//! use std::sync::Arc;
//! use attested_noise::message::{ChatMessage, ChatRequest};
//! use attested_noise::*;
//!
//! struct TrustReportDataAsQuote;
//! impl Appraiser for TrustReportDataAsQuote {
//!     fn appraise(&self, evidence: &Evidence<'_>, _now: UnixTime) -> Result<Accepted, BoxError> {
//!         let report_data = ReportData::try_from(evidence.quote.ok_or("no quote")?)?;
//!         // Only an appraiser that verified and appraised the evidence asserts this.
//!         Ok(Accepted::assertion(report_data, Measurements::new(), Workload::Any))
//!     }
//! }
//!
//! # fn main() -> Result<(), Error> {
//! let mut rng = rand::rng();
//! // The server: keys, and evidence that binds them.
//! let noise_key = NoiseStaticKey::generate(&mut rng);
//! let binding_key = ed25519_dalek::SigningKey::from_bytes(&rand::random());
//! let report_data = ServerIdentity::report_data(Profile::V1, &noise_key, &binding_key);
//! let server_key = *noise_key.public_key();
//! let identity = Arc::new(ServerIdentity::new(
//!     Config::new(Profile::V1),
//!     noise_key,
//!     binding_key,
//!     PlatformEvidence::from_quote(report_data.to_vec()),
//! ));
//!
//! // The handshake.
//! let mut client = Initiator::new(Profile::V1, &server_key, &mut rng)?;
//! let mut server = Responder::new(identity, &mut rng)?;
//! server.read_first(&client.write_first()?)?;
//! let (msg2, mut server) = server.write_second()?;
//! let mut client = client.read_second(&msg2)?;
//!
//! // Attestation, then verification: only now can the client send a prompt.
//! let mut attestation = None;
//! for frame in client.request_attestation()? {
//!     assert!(matches!(server.receive(&frame)?, Received::AttestationRequested));
//!     for frame in server.attestation(None)? {
//!         attestation = client.receive_attestation(&frame)?;
//!     }
//! }
//! let now = UnixTime::from_secs(1_750_000_000);
//! let mut client = client.verify(&attestation.unwrap(), &TrustReportDataAsQuote, now)?;
//!
//! let prompt = ChatRequest {
//!     messages: vec![ChatMessage { role: "user".into(), content: "Hello".into() }],
//!     ..ChatRequest::default()
//! };
//! for frame in client.chat(&prompt)? {
//!     let Received::Chat(request) = server.receive(&frame)? else { panic!() };
//!     assert_eq!(request, prompt);
//! }
//! # Ok(())
//! # }
//! ```

pub mod backend;
pub mod limits;
pub mod message;
pub mod profile;

// The implementation; the root and the modules above name what it offers.
mod channel;
mod crypto;
mod error;
mod evidence;
mod handshake;
mod keys;
mod plaintext;
mod session;

pub use attested_types::{
    Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, ReportData, UnixTime,
    Workload,
};
pub use ed25519_dalek;
pub use error::Error;
pub use evidence::PlatformEvidence;
pub use handshake::{Initiator, Responder};
pub use keys::NoiseStaticKey;
pub use profile::{Config, Profile};
pub use session::{Received, ServerIdentity, ServerSession, UnverifiedSession, VerifiedSession};
