//! Verification of attestation tokens: Intel Trust Authority JWTs, NVIDIA NRAS, Azure
//! Attestation and AWS Nitro attestation documents.
//!
//! Every verifier takes the bytes, pinned trust (roots for x5c chains) and an explicit `now`
//! (the vocabulary's [`UnixTime`], whole seconds, as `attested-tdx` takes it), and returns typed
//! claims or an [`Error`] naming what failed:
//!
//! - JWS tokens are accepted only with RS256, PS384, ES256 or ES384; `none` and HMAC are refused
//!   before any key is looked at; keys are chosen by kid and algorithm together; `jku` is never
//!   followed.
//! - A JWKS is trusted through its `x5c` chains to pinned roots ([`x509::TrustRoots`]), and each
//!   JWK must equal its leaf certificate's key. Trusting a fetched JWKS without chains is the
//!   explicit [`jwt::KeySet::unchained_trusting_transport`].
//! - Chain signatures are checked once, when a key set is built; verifying a token costs one
//!   signature plus comparisons.
//! - Sizes are capped ([`Limits`]), chains hold at most [`x509::MAX_CHAIN_LEN`] certificates.
//!
//! The root holds what every user needs ([`Error`], [`AppraiserError`], [`Limits`],
//! [`Backend`] and the vocabulary types of `attested-types`); the rest is grouped by what it
//! holds, one module per kind of evidence:
//!
//! | evidence | module | verifier | policy | appraiser |
//! |---|---|---|---|---|
//! | Intel Trust Authority JWT (v1, v2) | [`ita`] | [`ita::ItaVerifier`] | [`ita::ItaPolicy`] | [`ita::ItaAppraiser`] |
//! | NVIDIA NRAS bundle | [`nras`] | [`nras::NrasVerifier`] | [`nras::NrasPolicy`] | [`nras::NrasAppraiser`] (a companion check, not an [`Appraiser`]: no REPORTDATA) |
//! | Azure Attestation JWT | [`maa`] | [`maa::MaaVerifier`] | [`maa::MaaPolicy`] | [`maa::MaaAppraiser`] |
//! | AWS Nitro COSE_Sign1 document | [`nitro`] | [`nitro::NitroVerifier`] | [`nitro::NitroPolicy`] | [`nitro::NitroAppraiser`] |
//!
//! and the parts they share:
//!
//! - [`jwt`]: JWS compact tokens and key sets ([`jwt::Jwks`] as received, [`jwt::KeySet`] once
//!   trusted), the generic [`jwt::JwtVerifier`], and what may be read before verification
//!   ([`jwt::token_kid`], [`jwt::unverified_expiry`]).
//! - [`jwks_cache`]: the sans-IO [`jwks_cache::JwksCache`] and its fetchers.
//! - [`x509`]: the pinned roots ([`x509::TrustRoots`]), revocation lists ([`x509::Crls`]) and
//!   chain bounds.
//! - [`time`]: the `exp`/`nbf`/`iat` rules and the default clock skew.
//!
//! Every signature (a JWS's, a COSE document's, each certificate's of a chain) is checked by
//! an algorithm of one set of the vocabulary's `attested_types::signature` algorithms, chosen
//! by the verifier: `ring`'s by default, pure-Rust RustCrypto's with feature `rustcrypto`
//! ([`Backend::algorithms`]), or the caller's own (an HSM, a FIPS module:
//! [`jwt::KeySet::chained_with_algorithms`], [`nitro::NitroVerifier::algorithms`]). Feature `fetch` adds an HTTP [`jwks_cache::HttpFetcher`] for the
//! sans-IO [`jwks_cache::JwksCache`]; feature `sim` adds a simulated issuer for tests and demos.
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
//! - [`jwks_cache::JwksCache`] is a *store* of fetched inputs whose freshness decides verdicts.
//!   It is sans-IO: [`JwksCache::should_fetch`](jwks_cache::JwksCache::should_fetch) says when
//!   to fetch, the caller fetches and hands the bytes to
//!   [`JwksCache::accept`](jwks_cache::JwksCache::accept); methods that change it take
//!   `&mut self`. The caller owns it and, to share it between threads, puts it behind its own
//!   lock. A clone is an independent copy. [`JwksCache::refresh`](jwks_cache::JwksCache::refresh)
//!   is a convenience that runs a [`jwks_cache::JwksFetcher`] the caller passes for that call;
//!   the crate itself never performs I/O (feature `fetch`'s fetcher is the caller's to pass).
//! - [`nitro::NitroVerifier`] keeps a *memo* of verified certificate chains: a pure function of
//!   the certificates' bytes, so a hit gives the verdict a miss would (each certificate's window
//!   is still checked at every `now`). The verifier owns it behind a lock held only to look up
//!   or insert, so `verify` takes `&self` and one `Arc<NitroVerifier>` serves many threads. A
//!   clone starts with a copy of the memo and shares nothing after; sharing is spelled `Arc`, as
//!   [`nitro::NitroAppraiser::new`] takes it.
//!
//! Key sets ([`jwt::KeySet`]) and CRLs are immutable once built; their clones share them by
//! `Arc`.
//!
//! # Example
//!
//! Verify an ITA token and appraise it (here from the simulator, so that the example runs;
//! with real tokens, use the ITA JWKS and [`x509::TrustRoots::intel_trust_authority`]). The
//! appraiser's policy identifies the workload (MRTD and an RTMR), or it refuses every token:
//!
//! ```
//! # #[cfg(feature = "sim")] fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use attested_token::ita::{ItaAppraiser, ItaPolicy, ItaVerifier};
//! use attested_token::jwt::Jwks;
//! use attested_token::sim::{SimIssuer, SimTd};
//! use attested_token::{UnixTime, Workload};
//!
//! let issuer = SimIssuer::new([42; 32])?; // tests and demos only
//! let td = SimTd::default();
//! let token = issuer.ita_token(&td, 1_750_000_000, 300);
//!
//! let jwks = Jwks::from_json(issuer.jwks_json().as_bytes())?;
//! let verifier = ItaVerifier::new(&jwks, &issuer.roots());
//! let policy = ItaPolicy::new()
//!     .expect_mrtd(td.mrtd)
//!     .expect_rtmr(3, td.rtmrs[3])
//!     .expect_report_data(td.report_data);
//! let appraiser = ItaAppraiser::new(verifier, policy);
//! let (accepted, claims) = appraiser.appraise_token(&token, UnixTime(1_750_000_001))?;
//! assert_eq!(accepted.report_data().as_bytes(), &td.report_data);
//! assert!(matches!(accepted.workload(), Workload::Pinned(_)));
//! assert_eq!(claims.tcb_status.as_deref(), Some("UpToDate"));
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

mod backend;
mod cache;
mod error;
#[cfg(feature = "fetch")]
mod fetch;
mod hexbytes;
pub mod ita;
pub mod jwt;
mod limits;
pub mod maa;
pub mod nitro;
pub mod nras;
#[cfg(feature = "sim")]
pub mod sim;
pub mod time;
pub mod x509;

pub mod jwks_cache {
    //! Fetched key sets kept fresh: the sans-IO [`JwksCache`] (the caller fetches when it says
    //! so), the [`JwksFetcher`] that [`JwksCache::refresh`] runs, and, with feature `fetch`,
    //! the HTTPS `HttpFetcher`.

    pub use crate::cache::{DEFAULT_MAX_STALENESS, JwksCache, JwksFetcher};
    #[cfg(feature = "fetch")]
    pub use crate::fetch::HttpFetcher;
}

pub use attested_types::{Accepted, Appraiser, Evidence, EvidenceKind, UnixTime, Workload};
pub use backend::Backend;
pub use error::{AppraiserError, CertificateProblem, Error};
pub use limits::Limits;
