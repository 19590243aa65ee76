//! Evidence as a protocol carries it, the trait that appraises it, and the appraised value.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::report_data::ReportData;
use crate::time::UnixTime;

/// The error an [`Appraiser`] reports: any error type, so that each appraiser keeps its own
/// typed errors (callers may downcast).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Named measurements of appraised evidence: `mrtd`, `rtmr0`..`rtmr3`, `mrconfigid`,
/// `mrowner`, `mrownerconfig` for a TD; `pcr0`, `pcr1`... for a Nitro enclave.
pub type Measurements = BTreeMap<String, Vec<u8>>;

/// Which evidence of an attestation this is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EvidenceKind {
    /// The platform evidence, whose REPORTDATA binds the server's long-term keys.
    Platform,
    /// Per-session evidence, whose REPORTDATA binds one session (a handshake hash), and which
    /// refreshes the platform evidence: it must carry the same measurements.
    Session,
}

/// Evidence as received, before any check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Evidence<'a> {
    /// Which evidence this is.
    pub kind: EvidenceKind,
    /// Binary evidence: a TEE quote (a TDX quote) or attestation document (an AWS Nitro
    /// COSE_Sign1 document).
    pub quote: Option<&'a [u8]>,
    /// An attestation token (an Intel Trust Authority JWT, for example).
    pub token: Option<&'a str>,
}

impl<'a> Evidence<'a> {
    /// Evidence of `kind` made of a quote and/or a token.
    pub const fn new(kind: EvidenceKind, quote: Option<&'a [u8]>, token: Option<&'a str>) -> Self {
        Self { kind, quote, token }
    }

    /// Platform evidence made of a quote (or a binary document) alone.
    pub const fn platform_quote(quote: &'a [u8]) -> Self {
        Self::new(EvidenceKind::Platform, Some(quote), None)
    }

    /// Platform evidence made of a token alone.
    pub const fn platform_token(token: &'a str) -> Self {
        Self::new(EvidenceKind::Platform, None, Some(token))
    }

    /// Per-session evidence made of a quote alone.
    pub const fn session_quote(quote: &'a [u8]) -> Self {
        Self::new(EvidenceKind::Session, Some(quote), None)
    }
}

/// What the appraising policy pinned of the workload.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Workload {
    /// Nothing: the policy was built to accept any workload (for example
    /// `attested_tdx::Policy::any_workload()`). A genuine TEE running anyone's code passes.
    Any,
    /// The names of the measurements the policy compared with reference values (for example
    /// `mrtd`, `rtmr0`..`rtmr3`, or `mrconfigid`; `pcr0`).
    Pinned(Vec<String>),
}

impl Workload {
    /// Whether the policy identified the workload by reference values.
    pub fn is_pinned(&self) -> bool {
        matches!(self, Self::Pinned(names) if !names.is_empty())
    }
}

/// Evidence that has been verified (signatures, chain to a pinned root, freshness) and
/// appraised (the policy accepted it): its REPORTDATA, its measurements, and what the policy
/// pinned. Every value here comes from the verified evidence, never from fields a server
/// merely states.
///
/// Protocols (`attested-noise`, `attested-ohttp`) take this value, or an [`Appraiser`] that
/// produces it, and check the binding of REPORTDATA themselves.
#[derive(Clone, Debug, PartialEq, Eq)]
#[must_use]
pub struct Accepted {
    report_data: ReportData,
    measurements: Measurements,
    workload: Workload,
}

impl Accepted {
    /// Asserts that evidence with this REPORTDATA and these measurements has been verified and
    /// appraised, `workload` saying what the policy pinned.
    ///
    /// Only an appraiser that has verified and appraised the evidence builds this (as only a
    /// certificate verifier builds rustls's `ServerCertVerified::assertion()`). Building it
    /// from anything else makes every protocol check that follows meaningless.
    pub fn assertion(
        report_data: ReportData,
        measurements: Measurements,
        workload: Workload,
    ) -> Self {
        Self {
            report_data,
            measurements,
            workload,
        }
    }

    /// The appraised REPORTDATA.
    pub fn report_data(&self) -> &ReportData {
        &self.report_data
    }

    /// The appraised measurements, by name.
    pub fn measurements(&self) -> &Measurements {
        &self.measurements
    }

    /// One measurement, by name (`mrtd`, `rtmr0`, `pcr0`...).
    pub fn measurement(&self, name: &str) -> Option<&[u8]> {
        self.measurements.get(name).map(Vec::as_slice)
    }

    /// What the policy pinned of the workload ([`Workload::Any`] when nothing).
    pub fn workload(&self) -> &Workload {
        &self.workload
    }
}

/// So that code generic over "something that carries an accepted value" (an appraiser's
/// richer result, or the value itself) takes a plain [`Accepted`] too.
impl AsRef<Accepted> for Accepted {
    fn as_ref(&self) -> &Accepted {
        self
    }
}

/// Verifies and appraises evidence at `now`: signature chain to a pinned root, freshness, the
/// policy's reference values. Returns the [`Accepted`] value, or why the evidence is refused.
///
/// `attested-tdx` implements it for TDX quotes, `attested-token` for tokens and Nitro
/// documents; the protocols then check what REPORTDATA binds and need know nothing of TEEs.
pub trait Appraiser {
    /// Verifies and appraises `evidence` at `now`.
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError>;
}

impl<T: Appraiser + ?Sized> Appraiser for &T {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        (**self).appraise(evidence, now)
    }
}

impl<T: Appraiser + ?Sized> Appraiser for Box<T> {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        (**self).appraise(evidence, now)
    }
}

impl<T: Appraiser + ?Sized> Appraiser for Arc<T> {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        (**self).appraise(evidence, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Refuses;
    impl Appraiser for Refuses {
        fn appraise(&self, _: &Evidence<'_>, _: UnixTime) -> Result<Accepted, BoxError> {
            Err("refused".into())
        }
    }

    struct Expires(UnixTime);
    impl Appraiser for Expires {
        fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
            if now > self.0 {
                return Err("expired".into());
            }
            let report_data = ReportData::try_from(evidence.quote.ok_or("no quote")?)?;
            let pinned = Workload::Pinned(vec!["mrtd".into()]);
            Ok(Accepted::assertion(
                report_data,
                Measurements::new(),
                pinned,
            ))
        }
    }

    #[test]
    fn appraisers_compose_through_references_boxes_and_arcs() {
        let quote = [7u8; 64];
        let evidence = Evidence::platform_quote(&quote);
        let at = UnixTime(100);
        let boxed: Box<dyn Appraiser> = Box::new(Expires(at));
        let shared: Arc<dyn Appraiser> = Arc::new(Expires(at));
        for appraiser in [&boxed as &dyn Appraiser, &shared, &&Expires(at)] {
            let accepted = appraiser.appraise(&evidence, at).unwrap();
            assert_eq!(accepted.report_data(), &quote);
            assert!(accepted.workload().is_pinned());
            assert!(appraiser.appraise(&evidence, UnixTime(101)).is_err());
        }
        assert!(Refuses.appraise(&evidence, at).is_err());
        assert!(
            Expires(at)
                .appraise(&Evidence::platform_token("t"), at)
                .is_err()
        );
    }

    #[test]
    fn an_empty_pin_list_pins_nothing() {
        assert!(!Workload::Any.is_pinned());
        assert!(!Workload::Pinned(Vec::new()).is_pinned());
        assert!(Workload::Pinned(vec!["mrconfigid".into()]).is_pinned());
    }

    #[test]
    fn evidence_constructors_name_their_kind() {
        assert_eq!(Evidence::session_quote(b"q").kind, EvidenceKind::Session);
        assert_eq!(Evidence::platform_token("t").token, Some("t"));
        assert_eq!(Evidence::platform_quote(b"q").token, None);
    }
}
