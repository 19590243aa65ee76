//! The caller-supplied evidence check, and what the server presents.

use std::collections::BTreeMap;

use crate::error::BoxError;
use crate::profile::ReportData;

/// Which evidence of an attestation is being checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// The platform evidence, whose REPORTDATA binds the server's keys.
    Platform,
    /// v1: the per-session evidence, whose REPORTDATA binds the handshake hash.
    Session,
}

/// Evidence as received, before any check.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct Evidence<'a> {
    /// Which evidence this is.
    pub kind: EvidenceKind,
    /// A TEE quote (for example a TDX quote), decoded from base64.
    pub quote: Option<&'a [u8]>,
    /// An attestation token (for example an Intel Trust Authority JWT).
    pub token: Option<&'a str>,
}

/// What a successful evidence check vouches for: REPORTDATA and measurements taken from the
/// verified evidence itself, never from fields the server merely states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedEvidence {
    report_data: ReportData,
    measurements: BTreeMap<String, Vec<u8>>,
}

impl VerifiedEvidence {
    /// REPORTDATA and named measurements (for example `mrtd`, `rtmr0`) from verified evidence.
    pub fn new(report_data: ReportData, measurements: BTreeMap<String, Vec<u8>>) -> Self {
        Self {
            report_data,
            measurements,
        }
    }

    /// The verified REPORTDATA.
    pub fn report_data(&self) -> &ReportData {
        &self.report_data
    }

    /// The verified measurements, by name.
    pub fn measurements(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.measurements
    }
}

/// Verifies evidence (signature chain, freshness, measurement policy) and returns what it
/// vouches for. The crate then checks that REPORTDATA binds the session; the check itself need
/// not know anything about Noise.
///
/// This crate carries no implementation: `attested-tdx` (quotes) and `attested-token` (tokens)
/// provide them in the examples, and tests provide their own.
pub trait EvidenceCheck {
    /// Verifies `evidence` and returns its REPORTDATA and measurements, or why it is refused.
    fn check(&self, evidence: &Evidence<'_>) -> Result<VerifiedEvidence, BoxError>;
}

impl<T: EvidenceCheck + ?Sized> EvidenceCheck for &T {
    fn check(&self, evidence: &Evidence<'_>) -> Result<VerifiedEvidence, BoxError> {
        (**self).check(evidence)
    }
}

/// The platform evidence a server presents in every `attestation` message.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PlatformEvidence {
    /// The quote, whose REPORTDATA is [`Profile::report_data`](crate::Profile::report_data) of
    /// the server's keys.
    pub quote: Option<Vec<u8>>,
    /// An attestation token over the same REPORTDATA.
    pub token: Option<String>,
    /// MRTD, hex, for the seed's informative `mrtd` field.
    pub mrtd: Option<String>,
    /// Measurements for the seed's informative `measurements` field.
    pub measurements: serde_json::Value,
}

impl PlatformEvidence {
    /// Evidence made of a quote alone.
    pub fn from_quote(quote: Vec<u8>) -> Self {
        Self {
            quote: Some(quote),
            ..Self::default()
        }
    }

    /// Adds a token.
    #[must_use]
    pub fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// Adds the informative `mrtd` and `measurements` fields of the seed's attestation message.
    #[must_use]
    pub fn with_stated_measurements(
        mut self,
        mrtd: Option<String>,
        measurements: serde_json::Value,
    ) -> Self {
        self.mrtd = mrtd;
        self.measurements = measurements;
        self
    }
}
