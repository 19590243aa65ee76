//! NVIDIA Remote Attestation Service (NRAS) results: the detached EAT bundle
//! `[["JWT", overall], {"GPU-n": jwt, ...}]`, ES384-signed; the verifier, the policy, and the
//! [`NrasAppraiser`] that composes them.
//!
//! # Why NRAS has no [`Appraiser`](attested_types::Appraiser)
//!
//! The vocabulary's `Accepted` value is evidence's REPORTDATA, the 64 bytes a TEE signed for
//! its caller, which a protocol compares with the keys it must bind. An NRAS result binds no
//! such value: NRAS appraised the GPUs' own evidence against NVIDIA's reference values and
//! says so for the `eat_nonce` it was given, and no claim of it names a key. Padding the nonce
//! to 64 bytes would make an `Accepted` whose REPORTDATA no GPU ever signed. So an NRAS result
//! is a companion check beside a CPU TEE's evidence, which binds the keys:
//! [`NrasAppraiser::appraise_bundle`] verifies a bundle and requires the caller's nonce (one
//! it sent fresh, or one the CPU evidence's REPORTDATA binds, tying the GPUs to that TEE) in
//! the overall token and in every GPU token.

use std::collections::BTreeMap;

use attested_types::UnixTime;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::error::{AppraiserError, Error, malformed};
use crate::jwt::{Jwks, JwtVerifier, KeySet};
use crate::limits::{self, Limits};
use crate::x509::TrustRoots;

/// The `iss` of NRAS tokens.
pub const NRAS_ISSUER: &str = "https://nras.attestation.nvidia.com";

/// The most GPU entries a bundle may carry.
pub const MAX_GPUS: usize = 64;

#[derive(Deserialize)]
struct RawBundle((String, String), Entries<String>);

/// A JSON object kept as its entries in document order, so that a repeated key is seen
/// (a map type would keep only the last value: a bundle could then carry a GPU twice, once
/// signed and digested, once not, and which one counts would be up to the parser).
struct Entries<V>(Vec<(String, V)>);

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Entries<V> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> serde::de::Visitor<'de> for Visitor<V> {
            type Value = Entries<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    // One more than the cap is enough for the caller to refuse the count.
                    if entries.len() > MAX_GPUS {
                        return Err(serde::de::Error::custom(format!("over {MAX_GPUS} entries")));
                    }
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(Visitor(std::marker::PhantomData))
    }
}

impl<V> Entries<V> {
    /// The entries by name, refusing a name that appears twice.
    fn into_unique(self) -> Result<BTreeMap<String, V>, Error> {
        let mut map = BTreeMap::new();
        for (name, value) in self.0 {
            if map.contains_key(&name) {
                return Err(Error::DuplicateGpu { gpu: name });
            }
            map.insert(name, value);
        }
        Ok(map)
    }
}

#[derive(Deserialize)]
struct RawOverall {
    #[serde(rename = "x-nvidia-overall-att-result")]
    overall_result: Option<bool>,
    #[serde(rename = "x-nvidia-ver")]
    version: Option<String>,
    eat_nonce: Option<String>,
    #[serde(default = "no_submods")]
    submods: Entries<(String, (String, String))>,
}

fn no_submods() -> Entries<(String, (String, String))> {
    Entries(Vec::new())
}

/// Claims of one GPU's token.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct GpuClaims {
    /// The bundle's name for the GPU (`GPU-0`, ...).
    #[serde(skip)]
    pub name: String,
    /// `measres`: `success` when the measurements matched NVIDIA's reference values.
    pub measres: Option<String>,
    /// `hwmodel` (for example `GH100`).
    pub hwmodel: Option<String>,
    /// `ueid`: the GPU's unique id.
    pub ueid: Option<String>,
    /// `dbgstat` (`disabled` in production).
    pub dbgstat: Option<String>,
    /// `secboot`.
    pub secboot: Option<bool>,
    /// `eat_nonce`, hex.
    pub eat_nonce: Option<String>,
    /// Driver version.
    #[serde(rename = "x-nvidia-gpu-driver-version")]
    pub driver_version: Option<String>,
    /// VBIOS version.
    #[serde(rename = "x-nvidia-gpu-vbios-version")]
    pub vbios_version: Option<String>,
    /// Present when NRAS could not appraise the GPU: its error code and message.
    #[serde(rename = "x-nvidia-error-details")]
    pub error_details: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A verified NRAS bundle: the overall token and every GPU token, each signature, time and
/// digest checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NrasResult {
    /// `x-nvidia-overall-att-result`.
    pub overall_result: bool,
    /// `x-nvidia-ver`.
    pub version: Option<String>,
    /// `eat_nonce` of the overall token, hex.
    pub eat_nonce: Option<String>,
    /// Each GPU's claims, in name order.
    pub gpus: Vec<GpuClaims>,
}

/// Verifies NRAS bundles against a key set (the NRAS JWKS chained to a pinned NVIDIA root).
#[derive(Debug, Clone)]
pub struct NrasVerifier {
    jwt: JwtVerifier,
    limits: Limits,
}

impl NrasVerifier {
    /// Keys of `jwks` whose x5c chains lead to `roots`.
    pub fn new(jwks: &Jwks, roots: &TrustRoots) -> Self {
        Self::with_keys(KeySet::chained(jwks, roots))
    }

    /// A verifier over a key set built some other way.
    pub fn with_keys(keys: KeySet) -> Self {
        NrasVerifier {
            jwt: JwtVerifier::new(keys).issuer(NRAS_ISSUER),
            limits: Limits::default(),
        }
    }

    forward_jwt_options!(time);

    /// Sets the size caps (the whole bundle is held to the token cap).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.jwt = self.jwt.limits(limits);
        self.limits = limits;
        self
    }

    /// Verifies a bundle (the NRAS response body) at `now`.
    pub fn verify(&self, bundle: &[u8], now: UnixTime) -> Result<NrasResult, Error> {
        limits::check("NRAS bundle", bundle.len(), self.limits.token)?;
        let RawBundle((kind, overall_token), gpu_tokens) =
            serde_json::from_slice(bundle).map_err(|e| malformed("NRAS bundle", e))?;
        if kind != "JWT" {
            return Err(malformed(
                "NRAS bundle",
                format!("first entry is {kind:?}, not \"JWT\""),
            ));
        }
        let gpu_tokens = gpu_tokens.into_unique()?;
        if gpu_tokens.len() > MAX_GPUS {
            return Err(malformed(
                "NRAS bundle",
                format!("{} GPU tokens, over {MAX_GPUS}", gpu_tokens.len()),
            ));
        }
        let overall = self
            .jwt
            .verify_named(&overall_token, now, "the overall NRAS token")?;
        let overall: RawOverall = serde_json::from_slice(&overall.payload)
            .map_err(|e| malformed("NRAS overall claims", e))?;
        let submods = overall.submods.into_unique()?;
        if submods.len() != gpu_tokens.len() {
            return Err(Error::GpuSet {
                detail: format!(
                    "overall token lists {} GPUs, bundle carries {}",
                    submods.len(),
                    gpu_tokens.len()
                ),
            });
        }
        let mut gpus = Vec::with_capacity(gpu_tokens.len());
        for (name, token) in &gpu_tokens {
            let (kind, (hash, digest)) = submods.get(name).ok_or_else(|| Error::GpuSet {
                detail: format!("{name} is not listed in the overall token"),
            })?;
            if kind != "DIGEST" || hash != "SHA-256" {
                return Err(malformed("NRAS submods", format!("{name}: {kind} {hash}")));
            }
            let actual = Sha256::digest(token.as_bytes());
            let expected = hex::decode(digest).map_err(|e| malformed("NRAS submods digest", e))?;
            if actual.as_slice() != expected.as_slice() {
                return Err(Error::DigestMismatch { gpu: name.clone() });
            }
            let verified = self
                .jwt
                .verify_named(token, now, &format!("the NRAS {name} token"))?;
            let mut claims: GpuClaims = serde_json::from_slice(&verified.payload)
                .map_err(|e| malformed("NRAS GPU claims", e))?;
            claims.name = name.clone();
            gpus.push(claims);
        }
        Ok(NrasResult {
            overall_result: overall.overall_result.unwrap_or(false),
            version: overall.version,
            eat_nonce: overall.eat_nonce,
            gpus,
        })
    }
}

/// What a verified NRAS result must say: overall result true, every GPU measured `success`
/// with debug disabled, the expected nonce and (optionally) GPU count.
#[derive(Debug, Clone, Default)]
pub struct NrasPolicy {
    gpu_count: Option<usize>,
    nonce: Option<Vec<u8>>,
}

impl NrasPolicy {
    /// The default policy.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requires exactly `count` GPUs.
    pub fn expect_gpu_count(mut self, count: usize) -> Self {
        self.gpu_count = Some(count);
        self
    }

    /// Requires this `eat_nonce` in the overall token and every GPU token.
    pub fn expect_nonce(mut self, nonce: &[u8]) -> Self {
        self.nonce = Some(nonce.to_vec());
        self
    }

    /// Checks `result` against the policy.
    pub fn appraise(&self, result: &NrasResult) -> Result<(), Error> {
        if !result.overall_result {
            return Err(Error::ResultFalse {
                claim: "x-nvidia-overall-att-result".into(),
            });
        }
        if let Some(count) = self.gpu_count
            && count != result.gpus.len()
        {
            return Err(Error::GpuSet {
                detail: format!("{} GPUs, expected {count}", result.gpus.len()),
            });
        }
        if result.gpus.is_empty() {
            return Err(Error::GpuSet {
                detail: "no GPU".into(),
            });
        }
        let check_nonce = |field: String, nonce: Option<&String>| -> Result<(), Error> {
            let Some(expected) = &self.nonce else {
                return Ok(());
            };
            let found = nonce.map(String::as_str).unwrap_or_default();
            let same = hex::decode(found)
                .ok()
                .is_some_and(|found| crate::hexbytes::ct_eq(&found, expected));
            if !same {
                return Err(Error::Mismatch {
                    field,
                    expected: hex::encode(expected),
                    found: found.to_owned(),
                });
            }
            Ok(())
        };
        check_nonce("eat_nonce".into(), result.eat_nonce.as_ref())?;
        for gpu in &result.gpus {
            if gpu.measres.as_deref() != Some("success") {
                return Err(Error::Mismatch {
                    field: format!("{} measres", gpu.name),
                    expected: "success".into(),
                    found: gpu.measres.clone().unwrap_or_default(),
                });
            }
            if gpu.dbgstat.as_deref() != Some("disabled") {
                return Err(Error::Debug("a GPU's dbgstat is not \"disabled\""));
            }
            check_nonce(format!("{} eat_nonce", gpu.name), gpu.eat_nonce.as_ref())?;
        }
        Ok(())
    }
}

/// An NRAS bundle that verified and met the policy for the caller's nonce: the GPUs NRAS
/// vouches for, bound to that nonce. Not the vocabulary's `Accepted`: see the module docs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct AppraisedGpus {
    nonce: Vec<u8>,
    result: NrasResult,
}

impl AppraisedGpus {
    /// The nonce every token of the bundle carries.
    pub fn nonce(&self) -> &[u8] {
        &self.nonce
    }

    /// Each GPU's verified claims, in name order.
    pub fn gpus(&self) -> &[GpuClaims] {
        &self.result.gpus
    }

    /// The whole verified result.
    pub fn result(&self) -> &NrasResult {
        &self.result
    }
}

/// Appraises NRAS bundles as the companion of a CPU TEE's evidence: [`NrasVerifier`] at `now`,
/// then the [`NrasPolicy`] with the nonce of each call required
/// ([`NrasAppraiser::appraise_bundle`]). Not an [`Appraiser`](attested_types::Appraiser): an
/// NRAS result binds no REPORTDATA (the module docs say why).
#[derive(Debug, Clone)]
pub struct NrasAppraiser {
    verifier: NrasVerifier,
    policy: NrasPolicy,
}

impl NrasAppraiser {
    /// Verifies with `verifier`, then appraises with `policy` (whose own nonce, if any, each
    /// call's replaces).
    pub fn new(verifier: NrasVerifier, policy: NrasPolicy) -> Self {
        Self { verifier, policy }
    }

    /// The policy bundles are appraised with.
    pub fn policy(&self) -> &NrasPolicy {
        &self.policy
    }

    /// Verifies `bundle` at `now` and appraises it, requiring `nonce` as the `eat_nonce` of the
    /// overall token and of every GPU token. An empty nonce binds nothing and is refused before
    /// the bundle is verified.
    pub fn appraise_bundle(
        &self,
        bundle: &[u8],
        nonce: &[u8],
        now: UnixTime,
    ) -> Result<AppraisedGpus, AppraiserError> {
        if nonce.is_empty() {
            return Err(AppraiserError::NoBinding(
                "an empty nonce binds the GPU evidence to nothing",
            ));
        }
        let result = self
            .verifier
            .verify(bundle, now)
            .map_err(AppraiserError::Verify)?;
        self.policy
            .clone()
            .expect_nonce(nonce)
            .appraise(&result)
            .map_err(AppraiserError::Policy)?;
        Ok(AppraisedGpus {
            nonce: nonce.to_vec(),
            result,
        })
    }
}
