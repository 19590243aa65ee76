//! Oblivious HTTP (RFC 9458) with key configurations bound to a TEE's attestation.
//!
//! A gateway running in a TEE publishes its `application/ohttp-keys` list and evidence whose
//! REPORTDATA is SHA-512 of that list ([`key_config_binding`]). A [`Client`] is built only
//! from a list that appraised evidence binds (an [`Accepted`] value, or an [`Appraiser`] and
//! `now`, from the shared `attested-types` vocabulary), picks the best suite both sides
//! support, and encrypts binary HTTP requests end to end to the TEE.
//!
//! With TDX evidence, the appraiser comes from `attested-tdx` (this crate depends on no other
//! protocol crate, so these lines cannot compile here; they compile and run against the
//! simulated TDX platform in the workspace's `examples/tests/composition.rs`):
//!
//! ```ignore
//! let appraiser = attested_tdx::TdxAppraiser::new(verifier, collateral, policy);
//! let (client, accepted) =
//!     Client::appraise(&key_list, &Evidence::platform_quote(&quote), &appraiser, UnixTime::now())?;
//! ```
//!
//! The cores are sans-IO: bytes, an explicit `now` and a caller-supplied RNG in; bytes out.
//!
//! The root holds the main use ([`Client`], [`Gateway`], [`KeyRing`], [`KeyPair`], [`Suite`],
//! [`key_config_binding`], the vocabulary types); the rest is grouped by what it holds:
//!
//! - [`keys`]: RFC 9458 key configurations and suites (HPKE is the `hpke` crate, with
//!   DHKEM(P-384, HKDF-SHA384) and AES-256-GCM, the Azure suite, beside X25519, P-256 and
//!   X-Wing); the gateway's [`KeyRing`] routed by key id, with activation, expiry, grace and
//!   [`keys::Rotation`] before expiry.
//! - [`client`]: requests only to key lists that appraised evidence binds
//!   ([`client::VerifiedKeyConfigs`]), with the best mutually supported suite
//!   ([`client::Preference`]).
//! - [`gateway`]: the sans-IO gateway core: media types, limits, the target allow-list
//!   ([`gateway::Target`], origin form only), the streamed upload ([`gateway::StreamedRequest`]),
//!   RFC 9458 §6.5 replay refusal in bounded memory ([`gateway::ReplayWindow`]) and the inner
//!   `Date` check of §6.5.1 with §6.5.2's date problem ([`gateway::Refusal::Date`], read by
//!   [`client::date_problem`]), the §5.3 key problem ([`gateway::OuterResponse::key_problem`]);
//!   inner status and headers never leave the ciphertext.
//! - [`chunked`]: chunked OHTTP (draft-ietf-ohai-chunked-ohttp) and its response
//!   [`chunked::Dialect`]s, streaming in bounded memory.
//! - [`message`]: binary HTTP (RFC 9292) in pieces, so that a gateway forwards a chunked upload
//!   and streams the answer without holding either whole, under head, field and body caps.
//! - [`azure`]: Microsoft's Azure answer (raw target body in the stream, status and headers on
//!   the outer response) and what its clients send inside, for interoperating with its servers
//!   and clients.
//! - [`kms`]: Azure KMS key lists whose CCF receipts verify against a pinned service
//!   certificate ([`kms::KmsTrust`]).
//!
//! # Why not the `ohttp` crate's encapsulation
//!
//! The RFC 9458 framing here (key configurations, request header, response nonce and key
//! derivation) is our own, a few hundred lines over the `hpke` crate, while whole binary
//! HTTP messages are the `bhttp` crate's. `ohttp` 0.8 cannot carry what this crate is for:
//! its `rust-hpke` backend accepts only HKDF-SHA256 with AES-128-GCM or ChaCha20-Poly1305
//! (over X25519, P-256 or X-Wing), so not DHKEM(P-384, HKDF-SHA384) with AES-256-GCM, the
//! suite Azure uses; it has no Azure chunked dialect; and its chunked streams are `async`
//! IO over `futures` rather than a sans-IO core with the limits a gateway needs. Both use `hpke` 0.14, so the tree holds one `hpke`. The framing
//! is checked against `ohttp` itself for X25519/AES-128-GCM in both directions
//! (`tests/api.rs`, `interop_with_the_ohttp_crate_both_directions`), against RFC 9458
//! Appendix A byte for byte, and against an independent Python peer for both suites.
//!
//! ```
//! use std::time::Duration;
//! use attested_ohttp::{
//!     Accepted, Appraiser, BoxError, Client, Evidence, KeyPair, KeyRing, ReportData, Suite,
//!     UnixTime, Validity, Workload, key_config_binding, rand_core,
//! };
//!
//! # struct Rng(u64);
//! # impl rand_core::TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(self.try_next_u64()? as u32) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
//! #         self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
//! #         Ok(self.0)
//! #     }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         for b in dst { *b = self.try_next_u64()? as u8 } Ok(())
//! #     }
//! # }
//! # impl rand_core::TryCryptoRng for Rng {}
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Use a real CSPRNG (for example `rand::rngs::SysRng`); this toy one keeps the doc short.
//! let mut rng = Rng(7);
//! let now = UnixTime::from_secs(1_800_000_000);
//!
//! // Gateway: a key ring and the list it advertises.
//! let suite = Suite::P384_AES256GCM;
//! let pair = KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut rng)?;
//! let mut ring = KeyRing::new();
//! ring.insert(pair, Validity::new(now, Duration::from_secs(86_400), Duration::from_secs(3_600)))?;
//! let list = ring.encoded_list(now);
//!
//! // The TEE evidence carries the binding in REPORTDATA; a stand-in appraiser that trusts a
//! // "quote" which is just REPORTDATA takes the place of attested-tdx's TdxAppraiser here.
//! struct QuoteIsReportData;
//! impl Appraiser for QuoteIsReportData {
//!     fn appraise(&self, evidence: &Evidence<'_>, _: UnixTime) -> Result<Accepted, BoxError> {
//!         let report_data = ReportData::try_from(evidence.quote.ok_or("no quote")?)?;
//!         Ok(Accepted::assertion(report_data, Default::default(), Workload::Any))
//!     }
//! }
//! let quote = key_config_binding(&list);
//!
//! // Client: refuses any list the appraised evidence does not bind.
//! let evidence = Evidence::platform_quote(quote.as_bytes());
//! let (client, accepted) = Client::appraise(&list, &evidence, &QuoteIsReportData, now)?;
//! let (request, pending) = client.encapsulate(b"binary HTTP request", &mut rng)?;
//!
//! // Gateway: decapsulate, call the target, encapsulate the answer.
//! let (inner, response_context) = ring.decapsulate(&request, now)?;
//! assert_eq!(inner, b"binary HTTP request");
//! let response = response_context.encapsulate(b"binary HTTP response", &mut rng)?;
//!
//! assert_eq!(pending.decapsulate(&response)?, b"binary HTTP response");
//! let other = Evidence::platform_quote(&[0; 64]);
//! assert!(Client::appraise(&list, &other, &QuoteIsReportData, now).is_err());
//! assert!(Client::new(&list, &accepted).is_ok());
//! # Ok(()) }
//! ```

pub mod azure;
pub mod chunked;
pub mod client;
pub mod gateway;
pub mod keys;
pub mod kms;
pub mod message;

mod attest;
mod error;
mod hpke_dispatch;
mod key_config;
mod key_ring;
mod reader;
mod replay;
mod response;
mod suite;
mod target;

pub use attested_types::{
    Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, ReportData, UnixTime,
    Workload,
};
pub use bhttp;
pub use client::Client;
pub use error::{Error, Result};
pub use gateway::Gateway;
pub use hpke::rand_core;
#[cfg(feature = "test-vectors")]
#[doc(hidden)]
pub use hpke_dispatch::{hpke_base_receiver_for_vectors, hpke_base_sender_for_vectors};
pub use keys::{KeyPair, KeyRing, Suite, Validity, key_config_binding};

/// The HPKE info label of an RFC 9458 request.
pub(crate) const LABEL_REQUEST: &[u8] = b"message/bhttp request";
/// The export label of an RFC 9458 response.
pub(crate) const LABEL_RESPONSE: &[u8] = b"message/bhttp response";
