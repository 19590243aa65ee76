//! Verification of attestation tokens: Intel Trust Authority JWTs, NVIDIA NRAS, Azure
//! Attestation and AWS Nitro attestation documents.
//!
//! Every verifier takes the bytes, pinned trust (roots for x5c chains) and an explicit `now`,
//! and returns typed claims or an [`Error`] naming what failed. JWS tokens are accepted only with
//! RS256, PS384, ES256 or ES384; `none` and HMAC are refused before any key is looked at; keys
//! are chosen by kid and algorithm together; `jku` is never followed.

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
mod time;
mod x509;

pub use backend::Backend;
pub use cache::{JwksCache, JwksFetcher};
pub use error::{CertificateProblem, Error};
#[cfg(feature = "fetch")]
pub use fetch::HttpFetcher;
pub use ita::{
    ITA_ISSUER, ItaClaims, ItaPolicy, ItaTokenVersion, ItaVerifier, SgxClaims, TdxClaims,
    VerifierNonce,
};
pub use jwt::{Algorithm, Jwks, JwtVerifier, KeySet, VerifiedJwt, token_kid};
pub use limits::Limits;
pub use maa::{IsolationTee, MaaClaims, MaaPolicy, MaaVerifier};
pub use nitro::{CoseSign1, NITRO_DEFAULT_MAX_AGE, NitroDocument, NitroPolicy, NitroVerifier};
pub use nras::{GpuClaims, MAX_GPUS, NRAS_ISSUER, NrasPolicy, NrasResult, NrasVerifier};
pub use time::{DEFAULT_SKEW, NumericDate, TimeRules};
pub use x509::{MAX_CHAIN_LEN, TrustRoots};
