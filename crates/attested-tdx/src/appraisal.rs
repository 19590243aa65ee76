//! Appraisal policy: what a verified quote must show to be accepted.
//!
//! Verification answers "is this a genuine TDX quote, and how patched is its platform?";
//! appraisal answers "is it the TD I expect, on a platform I accept?". Policies are built in
//! code or loaded from JSON or TOML.
//!
//! A policy must identify the workload: MRCONFIGID, or MRTD together with at least one RTMR.
//! MRTD alone does not: on a cloud TD it measures the provider's firmware, which every tenant
//! shares, so a genuine TD running anyone's code (whose quote binds its own keys) would pass.
//! A policy that identifies no workload refuses every quote ([`AppraisalError::NoWorkload`]),
//! and a policy file that identifies none does not load, unless it says so explicitly:
//! [`Policy::any_workload`] in code, `any_workload = true` in a file. The appraised value
//! records what was pinned ([`AppraisedQuote::workload`]).
//!
//! ```toml
//! profile = "azure"                        # strict (default), azure or gcp
//! mr_td = ["<96 hex digits>", "<96 hex digits>"]   # any of
//! rtmr1 = "<96 hex digits>"                # MRTD + an RTMR (or MRCONFIGID) identify the workload
//! mr_service_td = ["<96 hex digits>"]      # any of; TDX 1.5 (v5) reports only
//! rtmr2 = "<96 hex digits>"
//! accepted_tcb_statuses = ["UpToDate", "SWHardeningNeeded"]
//! denied_advisories = ["INTEL-SA-00837"]
//! min_tcb_evaluation_data_number = 17
//! out_of_date_grace_period_secs = 2592000
//! ```

use core::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq as _;

use crate::attributes::TdAttributes;
use crate::dcap::VerifiedQuote;
use crate::errors::Item;
use crate::parse::TdReport;
use crate::tcb::TcbStatus;
use crate::time::UnixTime;
use attested_types::Workload;

/// A field name, the policy's expected value (if any) and the report's value.
type Expectation<'a> = (&'static str, Option<&'a [u8]>, &'a [u8]);

/// Platform profiles: which TD attributes the platform's TDs are known to run with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Profile {
    /// Bare-metal TDX and well-configured clouds: SEPT_VE_DISABLE required.
    #[default]
    Strict,
    /// Azure confidential VMs run TDs with SEPT_VE_DISABLE clear.
    Azure,
    /// Google Cloud confidential VMs run TDs with SEPT_VE_DISABLE clear.
    Gcp,
}

/// Fixed-size bytes written as hex in policy files.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Hex<const N: usize>(pub [u8; N]);

impl<const N: usize> fmt::Debug for Hex<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl<const N: usize> Serialize for Hex<N> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex::encode(self.0))
    }
}

impl<'de, const N: usize> Deserialize<'de> for Hex<N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let mut out = [0u8; N];
        hex::decode_to_slice(text.trim(), &mut out)
            .map_err(|e| serde::de::Error::custom(format!("expected {} hex digits: {e}", N * 2)))?;
        Ok(Hex(out))
    }
}

/// Hex digits (surrounding whitespace ignored) as `N` bytes: a measurement given on a command
/// line or in a configuration file.
impl<const N: usize> core::str::FromStr for Hex<N> {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let mut out = [0u8; N];
        hex::decode_to_slice(text.trim(), &mut out).map_err(|_| ValueError::NotHex { len: N })?;
        Ok(Hex(out))
    }
}

/// An expected RTMR value, written `N=HEX` (N from 0 to 3, 48 bytes of hex): what a client's
/// `--expect-rtmr` pins with [`Policy::expect_rtmr`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtmrPin {
    index: usize,
    value: Hex<48>,
}

impl RtmrPin {
    /// RTMR`index` is `value`; `index` must be 0 to 3.
    pub fn new(index: usize, value: [u8; 48]) -> Result<Self, ValueError> {
        if index > 3 {
            return Err(ValueError::RtmrIndex);
        }
        Ok(Self {
            index,
            value: Hex(value),
        })
    }

    /// Which RTMR, 0 to 3.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The expected value.
    pub fn value(&self) -> [u8; 48] {
        self.value.0
    }
}

impl core::str::FromStr for RtmrPin {
    type Err = ValueError;

    fn from_str(text: &str) -> Result<Self, ValueError> {
        let (index, value) = text.split_once('=').ok_or(ValueError::NotRtmrPin)?;
        let index = index
            .trim()
            .parse::<usize>()
            .map_err(|_| ValueError::RtmrIndex)?;
        let value: Hex<48> = value.parse()?;
        Self::new(index, value.0)
    }
}

/// Why a text is not a policy value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// Not exactly `len` bytes of hex.
    #[error("not {len} bytes of hex")]
    NotHex {
        /// The expected number of bytes.
        len: usize,
    },
    /// Not `N=HEX`.
    #[error("not N=HEX")]
    NotRtmrPin,
    /// The RTMR index is not a number from 0 to 3.
    #[error("N is 0 to 3")]
    RtmrIndex,
}

/// What a verified quote must show. [`Policy::new`] accepts only `UpToDate` platforms, refuses
/// debug TDs and TDs without SEPT_VE_DISABLE, and refuses every quote until the fields pin a
/// workload (see the module docs); [`Policy::any_workload`] is the explicit opt-out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default = "Policy::new", deny_unknown_fields)]
pub struct Policy {
    /// The platform profile (decides whether SEPT_VE_DISABLE is required, unless set below).
    pub profile: Profile,
    /// Accepted MRTDs (any of them); empty accepts any. Alone, it does not identify a workload.
    pub mr_td: Vec<Hex<48>>,
    /// Accepted MR_SERVICETDs (any of them; TDX 1.5 reports, v5 body type 3 or 4). Empty
    /// accepts only a TD bound to no service TD (MR_SERVICETD all zero, or a TDX 1.0 report),
    /// as dcap-qvl does unless `allow_service_td` is set. When set, a TDX 1.0 report (which
    /// has none) is refused.
    pub mr_service_td: Vec<Hex<48>>,
    /// Expected RTMR0.
    pub rtmr0: Option<Hex<48>>,
    /// Expected RTMR1.
    pub rtmr1: Option<Hex<48>>,
    /// Expected RTMR2.
    pub rtmr2: Option<Hex<48>>,
    /// Expected RTMR3.
    pub rtmr3: Option<Hex<48>>,
    /// Expected MRCONFIGID.
    pub mr_config_id: Option<Hex<48>>,
    /// Expected MROWNER.
    pub mr_owner: Option<Hex<48>>,
    /// Expected MROWNERCONFIG.
    pub mr_owner_config: Option<Hex<48>>,
    /// Expected XFAM.
    pub xfam: Option<Hex<8>>,
    /// Expected REPORTDATA (compared in constant time).
    pub report_data: Option<Hex<64>>,
    /// Accept debug TDs (never in production).
    pub allow_debug: bool,
    /// Require SEPT_VE_DISABLE; `None` follows the profile.
    pub require_sept_ve_disable: Option<bool>,
    /// Accepted TCB statuses.
    pub accepted_tcb_statuses: Vec<TcbStatus>,
    /// Advisories that refuse a quote whatever its status.
    pub denied_advisories: Vec<String>,
    /// Minimum TCB evaluation data number of the TCB Info.
    pub min_tcb_evaluation_data_number: Option<u32>,
    /// Accept `OutOfDate` (and `OutOfDateConfigurationNeeded` when it or
    /// `ConfigurationNeeded` is accepted) only strictly before the matched TCB level's date
    /// plus this many seconds. When set, this bound also applies to those statuses when they
    /// are listed in `accepted_tcb_statuses`.
    pub out_of_date_grace_period_secs: Option<u64>,
    /// Accept a policy that identifies no workload: every genuine TD on an accepted platform
    /// passes, whoever's code it runs. Only for demos and for callers that identify the
    /// workload otherwise; the appraised value records [`Workload::Any`].
    pub any_workload: bool,
}

impl Policy {
    /// Strict platform rules (only `UpToDate`, no debug TD, SEPT_VE_DISABLE required) and no
    /// workload yet: pin MRCONFIGID, or MRTD and at least one RTMR, before appraising with it.
    #[expect(
        clippy::new_without_default,
        reason = "no Default: a policy is never built silently (issue 11)"
    )]
    pub fn new() -> Self {
        Policy {
            profile: Profile::Strict,
            mr_td: Vec::new(),
            mr_service_td: Vec::new(),
            rtmr0: None,
            rtmr1: None,
            rtmr2: None,
            rtmr3: None,
            mr_config_id: None,
            mr_owner: None,
            mr_owner_config: None,
            xfam: None,
            report_data: None,
            allow_debug: false,
            require_sept_ve_disable: None,
            accepted_tcb_statuses: vec![TcbStatus::UpToDate],
            denied_advisories: Vec::new(),
            min_tcb_evaluation_data_number: None,
            out_of_date_grace_period_secs: None,
            any_workload: false,
        }
    }

    /// Strict platform rules, accepting **any workload**: every genuine TD on an up-to-date
    /// platform passes, whoever's code it runs. The appraised value says so
    /// ([`Workload::Any`]). Measurements set afterwards are still compared.
    pub fn any_workload() -> Self {
        Policy {
            any_workload: true,
            ..Policy::new()
        }
    }

    /// Whether the pinned measurements identify a workload: MRCONFIGID, or MRTD with at least
    /// one RTMR. `Err` names what is missing.
    pub fn identifies_workload(&self) -> Result<(), AppraisalError> {
        let rtmr = [&self.rtmr0, &self.rtmr1, &self.rtmr2, &self.rtmr3]
            .iter()
            .any(|r| r.is_some());
        if self.mr_config_id.is_some() || (!self.mr_td.is_empty() && rtmr) {
            return Ok(());
        }
        Err(AppraisalError::NoWorkload(if self.mr_td.is_empty() {
            "nothing that identifies it is pinned: pin MRCONFIGID, or MRTD and an RTMR"
        } else {
            "MRTD is pinned without an RTMR (MRTD alone is the platform's firmware, shared by \
             every tenant): pin an RTMR, or MRCONFIGID"
        }))
    }

    /// Narrows the accepted MRTDs to `values` (a client's `--expect-mrtd`): set when the policy
    /// lists none, else the values it lists too. Never widens: values outside the policy's list
    /// are refused here rather than leaving a list that accepts nothing.
    pub fn expect_mr_td(&mut self, values: &[[u8; 48]]) -> Result<(), AppraisalError> {
        if values.is_empty() {
            return Ok(());
        }
        let expected = values.iter().copied().map(Hex);
        if self.mr_td.is_empty() {
            self.mr_td = expected.collect();
            return Ok(());
        }
        let narrowed: Vec<Hex<48>> = expected.filter(|m| self.mr_td.contains(m)).collect();
        if narrowed.is_empty() {
            return Err(AppraisalError::Conflict(format!(
                "no expected MRTD is among the policy's mr_td {:?}, so none would be accepted",
                self.mr_td
            )));
        }
        self.mr_td = narrowed;
        Ok(())
    }

    /// Pins RTMR`index` (0 to 3) to `value`; refused when the policy pins another value.
    pub fn expect_rtmr(&mut self, index: usize, value: [u8; 48]) -> Result<(), AppraisalError> {
        let slot = match index {
            0 => &mut self.rtmr0,
            1 => &mut self.rtmr1,
            2 => &mut self.rtmr2,
            3 => &mut self.rtmr3,
            _ => {
                return Err(AppraisalError::Conflict(format!(
                    "RTMR{index} does not exist (RTMR0 to RTMR3)"
                )));
            }
        };
        pin(slot, value, "RTMR")
    }

    /// Pins MRCONFIGID to `value`; refused when the policy pins another value.
    pub fn expect_mr_config_id(&mut self, value: [u8; 48]) -> Result<(), AppraisalError> {
        pin(&mut self.mr_config_id, value, "MRCONFIGID")
    }

    /// What the appraised value records: the pinned measurements, or [`Workload::Any`].
    fn workload(&self) -> Result<Workload, AppraisalError> {
        match self.identifies_workload() {
            Ok(()) => Ok(Workload::Pinned(
                self.pinned_measurements()
                    .into_iter()
                    .map(str::to_owned)
                    .collect(),
            )),
            Err(_) if self.any_workload => Ok(Workload::Any),
            Err(missing) => Err(missing),
        }
    }
}

/// Why a policy refused a quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppraisalError {
    /// A measurement differs from the expected value.
    #[error("{field} {actual} is not the expected {expected}")]
    Measurement {
        /// MRTD, MR_SERVICETD, RTMR0..3, MRCONFIGID, MROWNER, MROWNERCONFIG, XFAM or
        /// REPORTDATA.
        field: &'static str,
        /// Expected value(s), hex.
        expected: String,
        /// Actual value, hex.
        actual: String,
    },
    /// The TD is a debug TD.
    #[error("the TD is a debug TD (TDATTRIBUTES.DEBUG set)")]
    Debug,
    /// SEPT_VE_DISABLE is clear but required.
    #[error("TDATTRIBUTES.SEPT_VE_DISABLE is clear (allowed only by the azure and gcp profiles)")]
    SeptVeDisable,
    /// The TCB status is not accepted.
    #[error("TCB status {0} is not accepted")]
    TcbStatus(TcbStatus),
    /// The OutOfDate grace period is over (or the status does not qualify for it).
    #[error(
        "TCB status {status} is accepted only before {until} (matched TCB level date {tcb_date} \
         + grace period {grace_secs} s), and now is {now}"
    )]
    GracePeriodOver {
        /// The status.
        status: TcbStatus,
        /// The matched TCB level's date (the oldest of platform, TDX module and QE levels).
        tcb_date: UnixTime,
        /// The policy's grace period.
        grace_secs: u64,
        /// End of the grace period: the first second at which the status is refused.
        until: UnixTime,
        /// Appraisal time.
        now: UnixTime,
    },
    /// An advisory on the deny-list applies.
    #[error("advisory {0} is denied")]
    Advisory(String),
    /// TD attribute bits that the TDX module ABI reserves (must be zero) are set.
    #[error("reserved TDATTRIBUTES bits {0:#018x} are set")]
    ReservedAttributes(u64),
    /// The TCB evaluation data number of the TCB Info or the QE Identity is too old.
    #[error("TCB evaluation data number {actual} of the {item} is below the minimum {minimum}")]
    EvaluationDataNumber {
        /// The TCB Info or the QE Identity.
        item: Item,
        /// Its number.
        actual: u32,
        /// The policy's minimum.
        minimum: u32,
    },
    /// The policy file does not parse.
    #[error("policy: {0}")]
    Load(String),
    /// The policy identifies no workload and does not say it accepts any
    /// ([`Policy::any_workload`]); the text says what is missing.
    #[error("the policy identifies no workload: {0}")]
    NoWorkload(&'static str),
    /// Reference values given beside the policy contradict it.
    #[error("reference values contradict the policy: {0}")]
    Conflict(String),
}

fn pin(slot: &mut Option<Hex<48>>, value: [u8; 48], field: &str) -> Result<(), AppraisalError> {
    match slot {
        Some(pinned) if pinned.0 != value => Err(AppraisalError::Conflict(format!(
            "{field} {} is not the policy's {}",
            hex::encode(value),
            hex::encode(pinned.0)
        ))),
        _ => {
            *slot = Some(Hex(value));
            Ok(())
        }
    }
}

/// A verified quote the policy accepted, recording what of the workload it pinned. Only
/// [`Policy::appraise`] makes one.
#[derive(Debug, Clone)]
pub struct AppraisedQuote<'a> {
    verified: VerifiedQuote<'a>,
    workload: Workload,
}

impl<'a> AppraisedQuote<'a> {
    /// The verified quote.
    pub fn verified(&self) -> &VerifiedQuote<'a> {
        &self.verified
    }

    /// The TD report (MRTD, RTMRs, REPORTDATA...).
    pub fn report(&self) -> &TdReport<'a> {
        self.verified.report()
    }

    /// What the policy pinned of the workload ([`Workload::Any`] for an any-workload policy).
    pub fn workload(&self) -> &Workload {
        &self.workload
    }
}

impl Policy {
    /// [`Policy::new`] with the Azure profile (SEPT_VE_DISABLE may be clear).
    pub fn azure() -> Policy {
        Policy {
            profile: Profile::Azure,
            ..Policy::new()
        }
    }

    /// [`Policy::new`] with the GCP profile (SEPT_VE_DISABLE may be clear).
    pub fn gcp() -> Policy {
        Policy {
            profile: Profile::Gcp,
            ..Policy::new()
        }
    }

    /// Parses a JSON policy. Refused when it identifies no workload and does not say
    /// `"any_workload": true`.
    pub fn from_json(text: &str) -> Result<Policy, AppraisalError> {
        let policy: Policy =
            serde_json::from_str(text).map_err(|e| AppraisalError::Load(e.to_string()))?;
        policy.workload()?;
        Ok(policy)
    }

    /// Parses a TOML policy. Refused when it identifies no workload and does not say
    /// `any_workload = true`.
    pub fn from_toml(text: &str) -> Result<Policy, AppraisalError> {
        let policy: Policy =
            toml::from_str(text).map_err(|e| AppraisalError::Load(e.to_string()))?;
        policy.workload()?;
        Ok(policy)
    }

    /// Parses a policy file's text: JSON when it starts with `{`, TOML otherwise.
    pub fn from_text(text: &str) -> Result<Policy, AppraisalError> {
        if text.trim_start().starts_with('{') {
            Policy::from_json(text)
        } else {
            Policy::from_toml(text)
        }
    }

    /// The measurements this policy compares with reference values, under the vocabulary's
    /// names (`mrtd`, `mrservicetd`, `rtmr0`..`rtmr3`, `mrconfigid`, `mrowner`,
    /// `mrownerconfig`). Empty: the policy identifies no workload, and accepts a genuine TD
    /// running anyone's code.
    pub fn pinned_measurements(&self) -> Vec<&'static str> {
        let pinned = [
            ("mrtd", !self.mr_td.is_empty()),
            ("mrservicetd", !self.mr_service_td.is_empty()),
            ("rtmr0", self.rtmr0.is_some()),
            ("rtmr1", self.rtmr1.is_some()),
            ("rtmr2", self.rtmr2.is_some()),
            ("rtmr3", self.rtmr3.is_some()),
            ("mrconfigid", self.mr_config_id.is_some()),
            ("mrowner", self.mr_owner.is_some()),
            ("mrownerconfig", self.mr_owner_config.is_some()),
        ];
        pinned
            .into_iter()
            .filter_map(|(name, set)| set.then_some(name))
            .collect()
    }

    fn sept_ve_disable_required(&self) -> bool {
        self.require_sept_ve_disable
            .unwrap_or(matches!(self.profile, Profile::Strict))
    }

    /// Appraises a verified quote at `now`: the workload rule, measurements, attributes and
    /// the platform's TCB. The accepted value records what was pinned.
    pub fn appraise<'a>(
        &self,
        verified: &VerifiedQuote<'a>,
        now: UnixTime,
    ) -> Result<AppraisedQuote<'a>, AppraisalError> {
        let workload = self.workload()?;
        self.check_report_unverified(verified.report())?;
        let verdict = verified.verdict();
        // Both collateral items carry the number of the TCB recovery they belong to: a current
        // TCB Info with an old QE Identity is old collateral too.
        if let Some(minimum) = self.min_tcb_evaluation_data_number {
            for (item, actual) in [
                (Item::TcbInfo, verdict.tcb_evaluation_data_number),
                (Item::QeIdentity, verdict.qe_evaluation_data_number),
            ] {
                if actual < minimum {
                    return Err(AppraisalError::EvaluationDataNumber {
                        item,
                        actual,
                        minimum,
                    });
                }
            }
        }
        if let Some(denied) = verdict.advisory_ids.iter().find(|id| {
            self.denied_advisories
                .iter()
                .any(|d| d.eq_ignore_ascii_case(id))
        }) {
            return Err(AppraisalError::Advisory(denied.clone()));
        }
        self.appraise_tcb_status(verdict.tcb_status, verdict.tcb_date, now)?;
        Ok(AppraisedQuote {
            verified: verified.clone(),
            workload,
        })
    }

    /// The TCB status rule. A status outside the OutOfDate family is accepted when listed. An
    /// OutOfDate-family status is, with a grace period set, accepted only strictly before the
    /// matched TCB level's date plus the grace period, whether it is listed or not (the bound
    /// is the more specific rule): `OutOfDate` always qualifies for the grace period,
    /// `OutOfDateConfigurationNeeded` when it or `ConfigurationNeeded` is listed. Without a
    /// grace period it is accepted only when listed, with no time bound.
    fn appraise_tcb_status(
        &self,
        status: TcbStatus,
        tcb_date: UnixTime,
        now: UnixTime,
    ) -> Result<(), AppraisalError> {
        let listed = self.accepted_tcb_statuses.contains(&status);
        let bounded = match status {
            TcbStatus::OutOfDate => true,
            TcbStatus::OutOfDateConfigurationNeeded => {
                listed
                    || self
                        .accepted_tcb_statuses
                        .contains(&TcbStatus::ConfigurationNeeded)
            }
            _ => false,
        };
        match self.out_of_date_grace_period_secs {
            Some(grace_secs) if bounded => {
                let until = UnixTime(tcb_date.0.saturating_add(grace_secs));
                if now < until {
                    Ok(())
                } else {
                    Err(AppraisalError::GracePeriodOver {
                        status,
                        tcb_date,
                        grace_secs,
                        until,
                        now,
                    })
                }
            }
            _ if listed => Ok(()),
            _ => Err(AppraisalError::TcbStatus(status)),
        }
    }

    /// The measurement and attribute checks alone, on a report **nobody verified**: on its own
    /// this proves nothing (the report may be forged), and it does not apply the workload rule.
    /// Use [`Policy::appraise`] on verified quotes.
    pub fn check_report_unverified(&self, report: &TdReport<'_>) -> Result<(), AppraisalError> {
        let td = report.td10();
        let attributes: TdAttributes = td.td_attributes();
        if attributes.debug() && !self.allow_debug {
            return Err(AppraisalError::Debug);
        }
        if !attributes.sept_ve_disable() && self.sept_ve_disable_required() {
            return Err(AppraisalError::SeptVeDisable);
        }
        let reserved = attributes.bits() & TD_ATTRIBUTES_RESERVED;
        if reserved != 0 {
            return Err(AppraisalError::ReservedAttributes(reserved));
        }
        any_of("MRTD", &self.mr_td, Some(td.mr_td()))?;
        if self.mr_service_td.is_empty() {
            // dcap-qvl 0.7.1 `verify.rs:1620-1623`: a service-TD-bound TD only when allowed.
            if let Some(have) = report.mr_service_td()
                && have != &[0u8; 48]
            {
                return Err(AppraisalError::Measurement {
                    field: "MR_SERVICETD",
                    expected: "all zero (no service TD; list accepted ones in mr_service_td)"
                        .to_owned(),
                    actual: hex::encode(have),
                });
            }
        } else {
            any_of("MR_SERVICETD", &self.mr_service_td, report.mr_service_td())?;
        }
        let [rtmr0, rtmr1, rtmr2, rtmr3] = td.rtmrs();
        let expected: [Expectation<'_>; 8] = [
            ("RTMR0", self.rtmr0.as_ref().map(|h| &h.0[..]), rtmr0),
            ("RTMR1", self.rtmr1.as_ref().map(|h| &h.0[..]), rtmr1),
            ("RTMR2", self.rtmr2.as_ref().map(|h| &h.0[..]), rtmr2),
            ("RTMR3", self.rtmr3.as_ref().map(|h| &h.0[..]), rtmr3),
            (
                "MRCONFIGID",
                self.mr_config_id.as_ref().map(|h| &h.0[..]),
                td.mr_config_id(),
            ),
            (
                "MROWNER",
                self.mr_owner.as_ref().map(|h| &h.0[..]),
                td.mr_owner(),
            ),
            (
                "MROWNERCONFIG",
                self.mr_owner_config.as_ref().map(|h| &h.0[..]),
                td.mr_owner_config(),
            ),
            ("XFAM", self.xfam.as_ref().map(|h| &h.0[..]), td.xfam()),
        ];
        for (field, want, have) in expected {
            if let Some(want) = want
                && want != have
            {
                return Err(AppraisalError::Measurement {
                    field,
                    expected: hex::encode(want),
                    actual: hex::encode(have),
                });
            }
        }
        if let Some(want) = &self.report_data
            && !bool::from(want.0.ct_eq(td.report_data()))
        {
            return Err(AppraisalError::Measurement {
                field: "REPORTDATA",
                expected: hex::encode(want.0),
                actual: hex::encode(td.report_data()),
            });
        }
        Ok(())
    }
}

/// TDATTRIBUTES bits the TDX module ABI reserves as must-be-zero (Intel TDX Module ABI
/// Specification 348551-008US, table 3.23), as dcap-qvl 0.7.1 refuses them (`quote.rs:162-165`,
/// `verify.rs:1606-1608`): bits 1-3, 7-15, 23-26 and 32-61.
const TD_ATTRIBUTES_RESERVED: u64 = ones(1, 3) | ones(7, 15) | ones(23, 26) | ones(32, 61);

/// Bits `low..=high` set.
const fn ones(low: u32, high: u32) -> u64 {
    (u64::MAX << low) & (u64::MAX >> (63 - high))
}

/// An any-of measurement: `accepted` empty accepts anything; otherwise `actual` must be one of
/// them, and a report without the field (`None`) is refused.
fn any_of(
    field: &'static str,
    accepted: &[Hex<48>],
    actual: Option<&[u8; 48]>,
) -> Result<(), AppraisalError> {
    if accepted.is_empty() || actual.is_some_and(|have| accepted.iter().any(|m| &m.0 == have)) {
        return Ok(());
    }
    Err(AppraisalError::Measurement {
        field,
        expected: accepted
            .iter()
            .map(|m| hex::encode(m.0))
            .collect::<Vec<_>>()
            .join(" or "),
        actual: actual.map_or_else(|| "absent (TDX 1.0 report)".to_owned(), hex::encode),
    })
}
