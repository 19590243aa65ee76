//! The token and document implementations of the vocabulary's [`Appraiser`]: verification
//! (signature, chain, times at the `now` of the call), then the policy. REPORTDATA and
//! measurements come from the verified claims only.

use std::sync::Arc;
use std::time::SystemTime;

use attested_types::{
    Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, ReportData, UnixTime,
    Workload,
};

use crate::error::Error;
use crate::ita::{ItaClaims, ItaPolicy, ItaVerifier};
use crate::nitro::{NitroDocument, NitroPolicy, NitroVerifier};

/// Why an appraiser refused evidence. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppraiserError {
    /// The evidence carries no token (ITA) or no document (Nitro).
    #[error("the evidence carries no {0}")]
    Missing(&'static str),
    /// The evidence is of a kind this appraiser does not judge.
    #[error("{0}")]
    Unsupported(&'static str),
    /// Verification (signature, key, chain, issuer, times) failed.
    #[error("verification failed: {0}")]
    Verify(Error),
    /// The verified claims do not meet the policy.
    #[error("policy refused the verified claims: {0}")]
    Policy(Error),
    /// The verified claims describe no TD (ITA) or bind no 64-byte value (Nitro `public_key`).
    #[error("{0}")]
    NoBinding(&'static str),
}

fn workload(pinned: Vec<String>) -> Workload {
    if pinned.is_empty() {
        Workload::Any
    } else {
        Workload::Pinned(pinned)
    }
}

/// Appraises Intel Trust Authority tokens (platform evidence): [`ItaVerifier`] at `now`, then
/// the [`ItaPolicy`]. Measurements: `mrtd`, `rtmr0`..`rtmr3` of the token's TDX claims.
#[derive(Debug)]
pub struct ItaAppraiser {
    verifier: ItaVerifier,
    policy: ItaPolicy,
}

impl ItaAppraiser {
    /// Verifies with `verifier`, then appraises with `policy`.
    pub fn new(verifier: ItaVerifier, policy: ItaPolicy) -> Self {
        Self { verifier, policy }
    }

    /// Verifies and appraises `token` at `now`; returns the accepted value and the claims.
    pub fn appraise_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<(Accepted, ItaClaims), AppraiserError> {
        let claims = self
            .verifier
            .verify(token, SystemTime::from(now))
            .map_err(AppraiserError::Verify)?;
        self.policy
            .appraise(&claims)
            .map_err(AppraiserError::Policy)?;
        let tdx = claims.tdx.as_ref().ok_or(AppraiserError::NoBinding(
            "the ITA token carries no TDX claims",
        ))?;
        let mut measurements = Measurements::from([("mrtd".to_owned(), tdx.mrtd.to_vec())]);
        for (index, rtmr) in [&tdx.rtmr0, &tdx.rtmr1, &tdx.rtmr2, &tdx.rtmr3]
            .into_iter()
            .enumerate()
        {
            measurements.insert(format!("rtmr{index}"), rtmr.to_vec());
        }
        let accepted = Accepted::assertion(
            ReportData::from_bytes(tdx.report_data),
            measurements,
            workload(self.policy.pinned_measurements()),
        );
        Ok((accepted, claims))
    }
}

impl Appraiser for ItaAppraiser {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        if evidence.kind != EvidenceKind::Platform {
            return Err(AppraiserError::Unsupported(
                "the ITA token appraiser judges platform tokens only, not per-session quotes",
            )
            .into());
        }
        let token = evidence
            .token
            .ok_or(AppraiserError::Missing("Intel Trust Authority token"))?;
        Ok(self.appraise_token(token, now)?.0)
    }
}

/// Appraises AWS Nitro attestation documents (the evidence's `quote` bytes): [`NitroVerifier`]
/// at `now`, then the [`NitroPolicy`]. REPORTDATA is the document's 64-byte `public_key` (the
/// BlindAI binding); measurements are `pcr0`, `pcr1`...
///
/// The appraiser holds its verifier by `Arc`, so that the per-request appraisers of
/// [`NitroAppraiser::expecting_nonce`] (and clones) share one verifier and its chain memo: the
/// sharing is the caller's choice, visible in [`NitroAppraiser::new`]'s argument, never a
/// side effect of cloning a [`NitroVerifier`].
#[derive(Debug, Clone)]
pub struct NitroAppraiser {
    verifier: Arc<NitroVerifier>,
    policy: NitroPolicy,
}

impl NitroAppraiser {
    /// Verifies with `verifier`, then appraises with `policy`. Pass an `Arc<NitroVerifier>` to
    /// share one verifier (and its chain memo) with other appraisers.
    pub fn new(verifier: impl Into<Arc<NitroVerifier>>, policy: NitroPolicy) -> Self {
        Self {
            verifier: verifier.into(),
            policy,
        }
    }

    /// The same appraiser, also requiring `nonce` in the document (the client's, per request).
    /// It shares this appraiser's verifier and chain memo (the same `Arc`).
    pub fn expecting_nonce(&self, nonce: &[u8]) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            policy: self.policy.clone().expect_nonce(nonce),
        }
    }

    /// Verifies and appraises `document` at `now`; returns the accepted value and the document.
    pub fn appraise_document(
        &self,
        document: &[u8],
        now: UnixTime,
    ) -> Result<(Accepted, NitroDocument), AppraiserError> {
        let document = self
            .verifier
            .verify(document, SystemTime::from(now))
            .map_err(AppraiserError::Verify)?;
        self.policy
            .appraise(&document)
            .map_err(AppraiserError::Policy)?;
        let report_data = document
            .public_key
            .as_deref()
            .and_then(|key| ReportData::try_from(key).ok())
            .ok_or(AppraiserError::NoBinding(
                "the verified Nitro document binds no key list (public_key is not 64 bytes)",
            ))?;
        let measurements = document
            .pcrs
            .iter()
            .map(|(index, value)| (format!("pcr{index}"), value.clone()))
            .collect();
        let accepted = Accepted::assertion(
            report_data,
            measurements,
            workload(self.policy.pinned_measurements()),
        );
        Ok((accepted, document))
    }
}

impl Appraiser for NitroAppraiser {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        let document = evidence
            .quote
            .ok_or(AppraiserError::Missing("AWS Nitro attestation document"))?;
        Ok(self.appraise_document(document, now)?.0)
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use crate::sim::{SimEnclave, SimIssuer};

    #[test]
    fn per_request_appraisers_share_one_verifier_and_its_chain_memo() {
        let sim = SimIssuer::new([5; 32]).unwrap();
        let enclave = SimEnclave {
            public_key: Some(vec![3; 64]),
            nonce: Some(vec![9; 16]),
            ..SimEnclave::default()
        };
        let doc = sim.nitro_document(&enclave, 1_750_000_000_000);
        let verifier = Arc::new(NitroVerifier::new(&sim.roots()));
        let appraiser = NitroAppraiser::new(Arc::clone(&verifier), NitroPolicy::new());
        let per_request = appraiser.expecting_nonce(&[9; 16]);
        assert!(Arc::ptr_eq(&per_request.verifier, &verifier));
        let (_, document) = per_request
            .appraise_document(&doc, UnixTime(1_750_000_001))
            .unwrap();
        assert_eq!(document.nonce, Some(vec![9; 16]));
        assert_eq!(verifier.remembered_chains(), 1);
    }
}
