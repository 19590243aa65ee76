//! Verification of attestation tokens: Intel Trust Authority JWTs, NVIDIA NRAS, Azure
//! Attestation and AWS Nitro attestation documents.
//!
//! Every verifier takes the bytes, pinned trust (roots for x5c chains) and an explicit `now`,
//! and returns typed claims or an [`Error`] naming what failed:
//!
//! - JWS tokens are accepted only with RS256, PS384, ES256 or ES384; `none` and HMAC are refused
//!   before any key is looked at; keys are chosen by kid and algorithm together; `jku` is never
//!   followed.
//! - A JWKS is trusted through its `x5c` chains to pinned roots ([`TrustRoots`]), and each JWK
//!   must equal its leaf certificate's key. Trusting a fetched JWKS without chains is the
//!   explicit [`KeySet::unchained_trusting_transport`].
//! - Chain signatures are checked once, when a key set is built; verifying a token costs one
//!   signature plus comparisons.
//! - Sizes are capped ([`Limits`]), chains hold at most [`MAX_CHAIN_LEN`] certificates.
//!
//! | evidence | verifier | policy |
//! |---|---|---|
//! | Intel Trust Authority JWT (v1, v2) | [`ItaVerifier`] | [`ItaPolicy`] |
//! | NVIDIA NRAS bundle | [`NrasVerifier`] | [`NrasPolicy`] |
//! | Azure Attestation JWT | [`MaaVerifier`] | [`MaaPolicy`] |
//! | AWS Nitro COSE_Sign1 document | [`NitroVerifier`] | [`NitroPolicy`] |
//!
//! Signatures go through `ring` by default, or pure-Rust RustCrypto crates with feature
//! `rustcrypto` ([`Backend`]). Feature `fetch` adds an HTTP [`JwksFetcher`] for the sans-IO
//! [`JwksCache`]; feature `sim` adds a simulated issuer for tests and demos.
//!
//! # Certificate chains in the workspace
//!
//! Every X.509 chain the workspace verifies, and what validates it (pathLen, KeyUsage,
//! critical extensions and CRLs enforced on each):
//!
//! - ITA (RSA), NVIDIA NRAS (P-384), AWS Nitro: this crate, with `rustls-webpki`;
//! - the KMS (CCF) service certificate: `attested-ohttp`, with `rustls-webpki`;
//! - Intel's TCB signing chain (root CA CRL) and the PCK leaf: `attested-tdx`, with
//!   `rustls-webpki`; the PCK CA and the PCK CRL: `attested-tdx`'s own code, since webpki
//!   cannot validate a CA as end entity (see that crate's README, "Certificate chains").
//!
//! # Caches
//!
//! The crate holds two caches, both following the workspace's one pattern
//! (`docs/ARCHITECTURE.md`, "Caches"):
//!
//! - [`JwksCache`] is a *store* of fetched inputs whose freshness decides verdicts. It is
//!   sans-IO: [`JwksCache::should_fetch`] says when to fetch, the caller fetches and hands the
//!   bytes to [`JwksCache::accept`]; methods that change it take `&mut self`. The caller owns
//!   it and, to share it between threads, puts it behind its own lock. A clone is an independent
//!   copy. [`JwksCache::refresh`] is a convenience that runs a [`JwksFetcher`] the caller passes
//!   for that call; the crate itself never performs I/O (feature `fetch`'s fetcher is the
//!   caller's to pass).
//! - [`NitroVerifier`] keeps a *memo* of verified certificate chains: a pure function of the
//!   certificates' bytes, so a hit gives the verdict a miss would (each certificate's window is
//!   still checked at every `now`). The verifier owns it behind a lock held only to look up or
//!   insert, so `verify` takes `&self` and one `Arc<NitroVerifier>` serves many threads. A clone
//!   starts with a copy of the memo and shares nothing after; sharing is spelled `Arc`, as
//!   [`NitroAppraiser::new`] takes it.
//!
//! Key sets ([`KeySet`]) and CRLs are immutable once built; their clones share them by `Arc`.
//!
//! # Example
//!
//! Verify an ITA token and appraise it (here from the simulator, so that the example runs;
//! with real tokens, use the ITA JWKS and [`TrustRoots::intel_trust_authority`]):
//!
//! ```
//! # #[cfg(feature = "sim")] fn main() -> Result<(), attested_token::Error> {
//! use attested_token::sim::{SimIssuer, SimTd};
//! use attested_token::{ItaPolicy, ItaVerifier, Jwks};
//! use std::time::{Duration, UNIX_EPOCH};
//!
//! let issuer = SimIssuer::new([42; 32])?; // tests and demos only
//! let now = UNIX_EPOCH + Duration::from_secs(1_750_000_000);
//! let token = issuer.ita_token(&SimTd::default(), 1_750_000_000, 300);
//!
//! let jwks = Jwks::from_json(issuer.jwks_json().as_bytes())?;
//! let claims = ItaVerifier::new(&jwks, &issuer.roots()).verify(&token, now)?;
//! ItaPolicy::new()
//!     .expect_mrtd([0x11; 48])
//!     .expect_report_data([0x55; 64])
//!     .appraise(&claims)?;
//! # Ok(()) }
//! # #[cfg(not(feature = "sim"))] fn main() {}
//! ```

/// The time and size options that every JWT-based verifier forwards to its inner
/// `JwtVerifier` (a field named `jwt`), written once.
macro_rules! forward_jwt_options {
    (time) => {
        /// Sets the allowed clock skew (default 60 s).
        pub fn skew(mut self, skew: std::time::Duration) -> Self {
            self.jwt = self.jwt.skew(skew);
            self
        }

        /// Refuses tokens issued longer ago than `max_age`.
        pub fn max_age(mut self, max_age: std::time::Duration) -> Self {
            self.jwt = self.jwt.max_age(max_age);
            self
        }
    };
    (time_and_limits) => {
        forward_jwt_options!(time);

        /// Sets the size caps.
        pub fn limits(mut self, limits: crate::Limits) -> Self {
            self.jwt = self.jwt.limits(limits);
            self
        }
    };
}

mod appraiser;
mod backend;
mod cache;
mod error;
#[cfg(feature = "fetch")]
mod fetch;
mod hexbytes;
mod ita;
mod jwt;
mod limits;
mod maa;
mod nitro;
mod nras;
#[cfg(feature = "sim")]
pub mod sim;
mod time;
mod x509;

pub use appraiser::{AppraiserError, ItaAppraiser, NitroAppraiser};
pub use attested_types::{Accepted, Appraiser, Evidence, EvidenceKind, UnixTime, Workload};
pub use backend::Backend;
pub use cache::DEFAULT_MAX_STALENESS;
pub use cache::{JwksCache, JwksFetcher};
pub use error::{CertificateProblem, Error};
#[cfg(feature = "fetch")]
pub use fetch::HttpFetcher;
pub use ita::{
    ITA_ISSUER, ItaClaims, ItaPolicy, ItaTokenVersion, ItaVerifier, SgxClaims, TdxClaims,
    VerifierNonce,
};
pub use jwt::SkippedKey;
pub use jwt::{Algorithm, Jwks, JwtVerifier, KeySet, VerifiedJwt, token_kid};
pub use limits::Limits;
pub use maa::{IsolationTee, MaaClaims, MaaPolicy, MaaTeeClaims, MaaToken, MaaVerifier};
pub use nitro::{
    CoseSign1, NITRO_CHAIN_CACHE, NITRO_DEFAULT_MAX_AGE, NITRO_DIGEST, NITRO_MAX_CERT_LEN,
    NITRO_MAX_NONCE_LEN, NITRO_MAX_PUBLIC_KEY_LEN, NITRO_MAX_USER_DATA_LEN, NitroDocument,
    NitroPolicy, NitroVerifier,
};
pub use nras::{GpuClaims, MAX_GPUS, NRAS_ISSUER, NrasPolicy, NrasResult, NrasVerifier};
pub use time::{DEFAULT_SKEW, NumericDate, TimeRules};
pub use x509::{Crls, MAX_CRLS};
pub use x509::{MAX_CHAIN_LEN, TrustRoots};
