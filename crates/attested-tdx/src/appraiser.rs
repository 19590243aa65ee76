//! The TDX implementation of the vocabulary's [`Appraiser`]: parse, DCAP verification against
//! a pinned root and collateral, then a [`Policy`], at the `now` of the call.

use attested_types::{Accepted, Appraiser, BoxError, Evidence, Measurements, UnixTime};

use crate::appraisal::{AppraisalError, Policy};
use crate::collateral_data::Collateral;
use crate::dcap::Verifier;
use crate::errors::ParseError;
use crate::errors::VerifyError;
use crate::parse::{Quote, TdReport};
use crate::tcb::TcbStatus;

/// Why a TDX quote was refused. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TdxAppraisalError {
    /// The evidence carries no quote.
    #[error("the evidence carries no TDX quote")]
    MissingQuote,
    /// The quote does not parse.
    #[error("quote does not parse: {0}")]
    Parse(#[from] ParseError),
    /// DCAP verification failed (signature, certificate, CRL, TCB, time bound...).
    #[error("DCAP verification failed ({check}): {0}", check = .0.check())]
    Verify(#[from] VerifyError),
    /// The verified quote does not meet the policy (measurements, debug, TCB status...).
    #[error("policy refused the verified quote: {0}")]
    Policy(#[from] AppraisalError),
}

/// A TDX quote that verified and that the policy accepted: the vocabulary's [`Accepted`] value
/// (REPORTDATA, measurements, what the policy pinned) and the platform's TCB status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedQuote {
    accepted: Accepted,
    tcb_status: TcbStatus,
}

impl AcceptedQuote {
    /// REPORTDATA, measurements and what the policy pinned.
    pub fn accepted(&self) -> &Accepted {
        &self.accepted
    }

    /// The platform's converged TCB status.
    pub fn tcb_status(&self) -> TcbStatus {
        self.tcb_status
    }

    /// The vocabulary's value, for a protocol.
    pub fn into_accepted(self) -> Accepted {
        self.accepted
    }
}

impl AsRef<Accepted> for AcceptedQuote {
    fn as_ref(&self) -> &Accepted {
        &self.accepted
    }
}

/// Appraises TDX quotes: [`Verifier`] (pinned root, verified-collateral cache), the
/// [`Collateral`] to verify under, and the [`Policy`] to appraise with. `now` comes from each
/// call, never from the appraiser.
///
/// ```
/// # #[cfg(feature = "sim")] {
/// use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
/// use attested_tdx::{Collateral, Policy, ReportData, TdxAppraiser, TrustAnchor, UnixTime, Verifier};
/// use attested_types::{Appraiser, Evidence};
///
/// let now = UnixTime(1_750_000_000);
/// let platform = SimPlatform::from_seed(b"doc", now.as_secs()).unwrap(); // tests only
/// let bound = ReportData::sha512(b"the server's key");
/// let spec = QuoteSpec { report_data: bound.to_bytes(), ..platform.quote_spec(QuoteFormat::V4) };
/// let quote = platform.quote(&spec).unwrap();
///
/// let mut policy = Policy::new();
/// policy.mr_td.push(attested_tdx::policy::Hex(spec.mr_td));
/// policy.rtmr3 = Some(attested_tdx::policy::Hex(spec.rtmrs[3]));
/// let appraiser = TdxAppraiser::new(
///     Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap()),
///     Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap(),
///     policy,
/// );
/// let accepted = appraiser.appraise(&Evidence::platform_quote(&quote), now).unwrap();
/// assert_eq!(accepted.report_data(), &bound);
/// assert_eq!(accepted.measurement("mrtd"), Some(&spec.mr_td[..]));
/// assert!(accepted.workload().is_pinned());
/// # }
/// ```
#[derive(Debug)]
pub struct TdxAppraiser {
    verifier: Verifier,
    collateral: Collateral,
    policy: Policy,
}

impl TdxAppraiser {
    /// Verifies with `verifier` under `collateral`, then appraises with `policy`.
    pub fn new(verifier: Verifier, collateral: Collateral, policy: Policy) -> Self {
        Self {
            verifier,
            collateral,
            policy,
        }
    }

    /// The policy quotes are appraised with.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The verifier (its trust anchor, its cache).
    pub fn verifier(&self) -> &Verifier {
        &self.verifier
    }

    /// Parses, verifies and appraises `quote` at `now`. Bytes after the signature data (which
    /// configfs-tsm may append) are covered by no signature and ignored.
    pub fn appraise_quote(
        &self,
        quote: &[u8],
        now: UnixTime,
    ) -> Result<AcceptedQuote, TdxAppraisalError> {
        let quote = Quote::parse_allowing_trailing_data(quote)?;
        let verified = self.verifier.verify(&quote, &self.collateral, now)?;
        let appraised = self.policy.appraise(&verified, now)?;
        let report = appraised.report();
        Ok(AcceptedQuote {
            accepted: Accepted::assertion(
                (*report.report_data()).into(),
                td_measurements(report),
                appraised.workload().clone(),
            ),
            tcb_status: verified.tcb_status(),
        })
    }
}

impl Appraiser for TdxAppraiser {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        let quote = evidence.quote.ok_or(TdxAppraisalError::MissingQuote)?;
        Ok(self.appraise_quote(quote, now)?.into_accepted())
    }
}

/// A TD report's measurements under the vocabulary's names: `mrtd`, `rtmr0`..`rtmr3`,
/// `mrconfigid`, `mrowner`, `mrownerconfig`, and `mrservicetd` for TDX 1.5 reports.
pub fn td_measurements(report: &TdReport<'_>) -> Measurements {
    let td = report.td10();
    let mut measurements = Measurements::from([("mrtd".to_owned(), td.mr_td().to_vec())]);
    for (index, rtmr) in td.rtmrs().iter().enumerate() {
        measurements.insert(format!("rtmr{index}"), rtmr.to_vec());
    }
    measurements.extend([
        ("mrconfigid".to_owned(), td.mr_config_id().to_vec()),
        ("mrowner".to_owned(), td.mr_owner().to_vec()),
        ("mrownerconfig".to_owned(), td.mr_owner_config().to_vec()),
    ]);
    if let Some(service_td) = report.mr_service_td() {
        measurements.insert("mrservicetd".to_owned(), service_td.to_vec());
    }
    measurements
}
