//! Microsoft Azure Attestation (MAA) tokens: RS256 JWTs whose TEE claims sit under
//! `x-ms-isolation-tee` (guest attestation) or at the top level (TDX and SEV-SNP attestation);
//! the verifier, the policy, and the [`MaaAppraiser`] that composes them into the vocabulary's
//! [`Appraiser`].
//!
//! As for ITA tokens, an appraiser's policy must identify the workload: MRTD together with at
//! least one RTMR. MAA vouches that a genuine TEE produced the evidence, and MRTD alone is the
//! cloud's firmware, the same for every tenant's TD. An [`MaaAppraiser`] whose policy
//! identifies no workload refuses every token ([`Error::NoWorkload`]) unless the policy says so
//! explicitly ([`MaaPolicy::any_workload`]).

use attested_types::{
    Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, ReportData, UnixTime,
    Workload,
};
use serde::Deserialize;

use crate::error::{AppraiserError, Error, malformed};
use crate::hexbytes::{ct_eq, show};
use crate::jwt::{JwtVerifier, KeySet};

#[derive(Deserialize)]
struct RawMaaClaims {
    iss: Option<String>,
    exp: Option<crate::time::NumericDate>,
    #[serde(rename = "x-ms-ver")]
    ver: Option<String>,
    #[serde(rename = "x-ms-attestation-type")]
    attestation_type: Option<String>,
    #[serde(rename = "x-ms-isolation-tee")]
    isolation_tee: Option<IsolationTee>,
    #[serde(rename = "x-ms-runtime")]
    runtime: Option<serde_json::Map<String, serde_json::Value>>,
}

/// The TEE evidence MAA appraised (`x-ms-isolation-tee`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct IsolationTee {
    /// `sevsnpvm` or `tdxvm`.
    #[serde(rename = "x-ms-attestation-type")]
    pub attestation_type: String,
    /// For example `azure-compliant-cvm`.
    #[serde(rename = "x-ms-compliance-status")]
    pub compliance_status: Option<String>,
    /// SEV-SNP REPORT_DATA, hex.
    #[serde(rename = "x-ms-sevsnpvm-reportdata")]
    pub sevsnp_report_data: Option<String>,
    /// SEV-SNP launch measurement, hex.
    #[serde(rename = "x-ms-sevsnpvm-launchmeasurement")]
    pub sevsnp_launch_measurement: Option<String>,
    /// Whether the SEV-SNP VM is debuggable.
    #[serde(rename = "x-ms-sevsnpvm-is-debuggable")]
    pub sevsnp_is_debuggable: Option<bool>,
    /// TDX REPORTDATA, hex.
    #[serde(rename = "tdx_report_data")]
    pub tdx_report_data: Option<String>,
    /// TDX MRTD, hex.
    #[serde(rename = "tdx_mrtd")]
    pub tdx_mrtd: Option<String>,
    /// TDX RTMR0, hex (MAA's TDX EAT profile: `tdx_rtmr0`..`tdx_rtmr3`, 48 bytes each).
    #[serde(rename = "tdx_rtmr0")]
    pub tdx_rtmr0: Option<String>,
    /// TDX RTMR1, hex.
    #[serde(rename = "tdx_rtmr1")]
    pub tdx_rtmr1: Option<String>,
    /// TDX RTMR2, hex.
    #[serde(rename = "tdx_rtmr2")]
    pub tdx_rtmr2: Option<String>,
    /// TDX RTMR3, hex.
    #[serde(rename = "tdx_rtmr3")]
    pub tdx_rtmr3: Option<String>,
    /// Whether the TD is debuggable (an ITA claim; MAA's TDX profile does not define it, but a
    /// token that says so is still refused).
    #[serde(rename = "tdx_is_debuggable")]
    pub tdx_is_debuggable: Option<bool>,
    /// `tdx_td_attributes`: TDATTRIBUTES, 8 bytes hex (MicrosoftDocs azure-docs,
    /// articles/attestation/trust-domain-extensions-eat-profile.md).
    #[serde(rename = "tdx_td_attributes")]
    pub tdx_td_attributes: Option<String>,
    /// `tdx_td_attributes_debug`: whether the TD runs in TD debug mode (same profile).
    #[serde(rename = "tdx_td_attributes_debug")]
    pub tdx_td_attributes_debug: Option<bool>,
    /// `dbgstat` (EAT): `disabled` when debug facilities are off.
    pub dbgstat: Option<String>,
    /// Runtime data the guest bound into REPORTDATA (keys, client payload), as MAA sends it.
    #[serde(rename = "x-ms-runtime")]
    pub runtime: Option<serde_json::Map<String, serde_json::Value>>,
}

impl IsolationTee {
    /// REPORTDATA from the TEE report, whichever TEE it is.
    pub fn report_data(&self) -> Result<Option<Vec<u8>>, Error> {
        self.sevsnp_report_data
            .as_ref()
            .or(self.tdx_report_data.as_ref())
            .map(|text| hex::decode(text).map_err(|e| malformed("MAA report data", e)))
            .transpose()
    }

    /// MRTD (`tdx_mrtd`), if the TEE is a TD; a value that is not 48 bytes of hex is malformed.
    pub fn mrtd(&self) -> Result<Option<[u8; 48]>, Error> {
        measurement("tdx_mrtd", self.tdx_mrtd.as_deref())
    }

    /// RTMR `index` (`tdx_rtmr0`..`tdx_rtmr3`), if the TEE is a TD and MAA sent it; `None` for
    /// an index over 3.
    pub fn rtmr(&self, index: usize) -> Result<Option<[u8; 48]>, Error> {
        let (name, value) = match index {
            0 => ("tdx_rtmr0", &self.tdx_rtmr0),
            1 => ("tdx_rtmr1", &self.tdx_rtmr1),
            2 => ("tdx_rtmr2", &self.tdx_rtmr2),
            3 => ("tdx_rtmr3", &self.tdx_rtmr3),
            _ => return Ok(None),
        };
        measurement(name, value.as_deref())
    }

    /// The SEV-SNP launch measurement (`x-ms-sevsnpvm-launchmeasurement`), if the TEE is a
    /// SEV-SNP VM; a value that is not 48 bytes of hex is malformed.
    pub fn sevsnp_launch_measurement(&self) -> Result<Option<[u8; 48]>, Error> {
        measurement(
            "x-ms-sevsnpvm-launchmeasurement",
            self.sevsnp_launch_measurement.as_deref(),
        )
    }

    /// Whether MAA says the VM is debuggable (any one claim that marks it is enough, and
    /// `tdx_td_attributes` that is not 8 bytes of hex counts as debug: it cannot be shown off).
    pub fn is_debuggable(&self) -> bool {
        self.debug_reason().is_some()
    }

    /// Which claim marks the VM as debuggable, if any: `x-ms-sevsnpvm-is-debuggable`,
    /// `tdx_td_attributes_debug`, bit 0 of `tdx_td_attributes`, `dbgstat` or
    /// `tdx_is_debuggable`.
    pub fn debug_reason(&self) -> Option<&'static str> {
        tdx_debug_reason(
            self.tdx_td_attributes.as_deref(),
            self.tdx_td_attributes_debug,
            self.dbgstat.as_deref(),
        )
        .or(if self.sevsnp_is_debuggable == Some(true) {
            Some("x-ms-sevsnpvm-is-debuggable is true")
        } else if self.tdx_is_debuggable == Some(true) {
            Some("tdx_is_debuggable is true")
        } else {
            None
        })
    }
}

/// A 48-byte TDX measurement claim, hex.
fn measurement(name: &'static str, text: Option<&str>) -> Result<Option<[u8; 48]>, Error> {
    text.map(|text| {
        let mut out = [0u8; 48];
        hex::decode_to_slice(text, &mut out).map_err(|e| malformed(name, e))?;
        Ok(out)
    })
    .transpose()
}

/// The debug marks of MAA's TDX EAT profile (MicrosoftDocs azure-docs,
/// articles/attestation/trust-domain-extensions-eat-profile.md): `tdx_td_attributes_debug`
/// (boolean), bit 0 of `tdx_td_attributes` (16 hex characters, TDATTRIBUTES as in the quote)
/// and `dbgstat` (EAT text).
fn tdx_debug_reason(
    td_attributes: Option<&str>,
    td_attributes_debug: Option<bool>,
    dbgstat: Option<&str>,
) -> Option<&'static str> {
    if td_attributes_debug == Some(true) {
        return Some("tdx_td_attributes_debug is true");
    }
    if let Some(text) = td_attributes {
        let mut attributes = [0u8; 8];
        if hex::decode_to_slice(text, &mut attributes).is_err() {
            return Some("tdx_td_attributes is not 8 bytes of hex");
        }
        if crate::ita::td_attributes_debug_bit(&attributes) {
            return Some("bit 0 (DEBUG) of tdx_td_attributes is set");
        }
    }
    if dbgstat.is_some_and(crate::ita::dbgstat_is_debug) {
        return Some("dbgstat is not disabled");
    }
    None
}

/// The verified claims of an MAA token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaaClaims {
    /// `iss`: the attestation provider's URL.
    pub issuer: String,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: u64,
    /// `x-ms-ver`.
    pub ver: Option<String>,
    /// `x-ms-attestation-type` at top level (`azurevm` for guest attestation).
    pub attestation_type: Option<String>,
    /// The TEE evidence MAA appraised.
    pub isolation_tee: IsolationTee,
    /// Top-level runtime claims (`client-payload`, keys), as MAA sends them.
    pub runtime: Option<serde_json::Map<String, serde_json::Value>>,
}

impl MaaClaims {
    /// Parses the claims of a verified token payload; `x-ms-isolation-tee` is required.
    pub fn from_payload(payload: &[u8]) -> Result<Self, Error> {
        let raw: RawMaaClaims =
            serde_json::from_slice(payload).map_err(|e| malformed("MAA claims", e))?;
        Ok(MaaClaims {
            issuer: raw.iss.unwrap_or_default(),
            expires_at: raw.exp.map(|t| t.0).unwrap_or_default(),
            ver: raw.ver,
            attestation_type: raw.attestation_type,
            isolation_tee: raw
                .isolation_tee
                .ok_or(Error::MissingClaim("x-ms-isolation-tee"))?,
            runtime: raw.runtime,
        })
    }
}

/// The claims of an MAA token from TDX or SEV-SNP attestation (`attest/TdxVm`,
/// `attest/SevSnpVm`): the TEE claims sit at the top level, not under `x-ms-isolation-tee`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MaaTeeClaims {
    /// `iss`: the attestation provider's URL.
    pub issuer: String,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: u64,
    /// `x-ms-ver`.
    pub ver: Option<String>,
    /// The TEE claims, read from the top level (`x-ms-attestation-type` is `tdxvm` or
    /// `sevsnpvm`; `x-ms-runtime` is the top-level one).
    pub tee: IsolationTee,
    /// `attester_tcb_status` (TDX profile), as MAA sends it.
    pub tcb_status: Option<String>,
}

/// An MAA token of any of the layouts MAA issues.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MaaToken {
    /// Guest attestation (`x-ms-isolation-tee` present).
    Guest(MaaClaims),
    /// TDX attestation, claims at top level (`x-ms-attestation-type` `tdxvm`).
    Tdx(MaaTeeClaims),
    /// SEV-SNP attestation, claims at top level (`x-ms-attestation-type` `sevsnpvm`).
    SevSnp(MaaTeeClaims),
}

#[derive(Deserialize)]
struct RawTopLevel {
    #[serde(rename = "x-ms-isolation-tee")]
    isolation_tee: Option<serde::de::IgnoredAny>,
    #[serde(rename = "x-ms-attestation-type")]
    attestation_type: Option<String>,
    attester_tcb_status: Option<String>,
}

impl MaaToken {
    /// Parses the claims of a verified token payload, whichever layout it has.
    pub fn from_payload(payload: &[u8]) -> Result<Self, Error> {
        let top: RawTopLevel =
            serde_json::from_slice(payload).map_err(|e| malformed("MAA claims", e))?;
        if top.isolation_tee.is_some() {
            return MaaClaims::from_payload(payload).map(MaaToken::Guest);
        }
        let kind = match top.attestation_type.as_deref() {
            Some("tdxvm") => MaaToken::Tdx,
            Some("sevsnpvm") => MaaToken::SevSnp,
            _ => return Err(Error::MissingClaim("x-ms-isolation-tee")),
        };
        let raw: RawMaaClaims =
            serde_json::from_slice(payload).map_err(|e| malformed("MAA claims", e))?;
        let tee: IsolationTee =
            serde_json::from_slice(payload).map_err(|e| malformed("MAA TEE claims", e))?;
        Ok(kind(MaaTeeClaims {
            issuer: raw.iss.unwrap_or_default(),
            expires_at: raw.exp.map(|t| t.0).unwrap_or_default(),
            ver: raw.ver,
            tee,
            tcb_status: top.attester_tcb_status,
        }))
    }

    /// The TEE claims, whichever layout carried them.
    pub fn tee(&self) -> &IsolationTee {
        match self {
            MaaToken::Guest(claims) => &claims.isolation_tee,
            MaaToken::Tdx(claims) | MaaToken::SevSnp(claims) => &claims.tee,
        }
    }
}

/// Verifies MAA tokens. MAA signs with self-signed certificates listed in the provider's
/// `/certs`: pin them as roots ([`KeySet::chained`]) or opt in to trusting the fetched key set.
#[derive(Debug, Clone)]
pub struct MaaVerifier {
    jwt: JwtVerifier,
}

impl MaaVerifier {
    /// A verifier for tokens from the attestation provider `issuer`
    /// (for example `https://sharedeus2.eus2.attest.azure.net`).
    pub fn new(keys: KeySet, issuer: impl Into<String>) -> Self {
        MaaVerifier {
            jwt: JwtVerifier::new(keys).issuer(issuer),
        }
    }

    forward_jwt_options!(time_and_limits);

    /// Verifies a guest-attestation `token` at `now` and returns its typed claims (a token
    /// without `x-ms-isolation-tee` is refused: see [`MaaVerifier::verify_token`]).
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<MaaClaims, Error> {
        let verified = self.jwt.verify(token, now)?;
        MaaClaims::from_payload(&verified.payload)
    }

    /// Verifies a `token` of any MAA layout at `now`: guest attestation, or TDX or SEV-SNP
    /// attestation with the claims at top level.
    pub fn verify_token(&self, token: &str, now: UnixTime) -> Result<MaaToken, Error> {
        let verified = self.jwt.verify(token, now)?;
        MaaToken::from_payload(&verified.payload)
    }
}

/// What an MAA token must say: by default `azure-compliant-cvm` and not debuggable. Pinned
/// values (REPORTDATA, MRTD, RTMRs) are compared in constant time.
///
/// [`MaaPolicy::appraise_token`] compares what is pinned; an [`MaaAppraiser`] also requires
/// that the pins identify the workload ([`MaaPolicy::identifies_workload`]: MRTD with an RTMR),
/// or the explicit opt-out [`MaaPolicy::any_workload`].
#[derive(Debug, Clone)]
pub struct MaaPolicy {
    attestation_type: Option<String>,
    compliance_status: Option<String>,
    report_data: Option<Vec<u8>>,
    mrtd: Option<[u8; 48]>,
    /// (index, value): an index over 3 is kept, so appraisal fails closed on it.
    rtmrs: Vec<(usize, [u8; 48])>,
    allow_debug: bool,
    any_workload: bool,
}

impl Default for MaaPolicy {
    fn default() -> Self {
        MaaPolicy {
            attestation_type: None,
            compliance_status: Some("azure-compliant-cvm".into()),
            report_data: None,
            mrtd: None,
            rtmrs: Vec::new(),
            allow_debug: false,
            any_workload: false,
        }
    }
}

impl MaaPolicy {
    /// The default policy. An [`MaaAppraiser`] refuses every token with it until MRTD and an
    /// RTMR are pinned.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy accepting **any workload**: an [`MaaAppraiser`] with it accepts every genuine
    /// TEE MAA vouches for, whoever's code it runs, and the accepted value says so
    /// ([`Workload::Any`]). Only for demos and for callers that identify the workload
    /// otherwise. Values pinned afterwards are still compared.
    pub fn any_workload() -> Self {
        MaaPolicy {
            any_workload: true,
            ..Self::default()
        }
    }

    /// Whether the pinned measurements identify a workload: MRTD with at least one of RTMR0
    /// to RTMR3. `Err` ([`Error::NoWorkload`]) names what is missing.
    pub fn identifies_workload(&self) -> Result<(), Error> {
        let rtmr = self.rtmrs.iter().any(|(index, _)| *index <= 3);
        crate::error::tdx_workload_identified(self.mrtd.is_some(), rtmr)
    }

    /// Whether the policy accepts tokens whose workload it does not identify
    /// ([`MaaPolicy::any_workload`]).
    pub fn accepts_any_workload(&self) -> bool {
        self.any_workload
    }

    /// The measurements this policy compares with reference values (`mrtd`, `rtmr0`..).
    fn pinned_measurements(&self) -> Vec<String> {
        let mut rtmrs: Vec<usize> = self
            .rtmrs
            .iter()
            .map(|(index, _)| *index)
            .filter(|index| *index <= 3)
            .collect();
        rtmrs.sort_unstable();
        let mrtd = self.mrtd.is_some().then(|| "mrtd".to_owned());
        mrtd.into_iter()
            .chain(rtmrs.into_iter().map(|i| format!("rtmr{i}")))
            .collect()
    }

    /// What an accepted value records: the pinned measurements, or [`Workload::Any`] when the
    /// policy opted out; `Err` when it identifies no workload and did not opt out.
    fn workload(&self) -> Result<Workload, Error> {
        crate::error::accepted_workload(self.identifies_workload(), self.any_workload, || {
            self.pinned_measurements()
        })
    }

    /// Requires this TEE type (`sevsnpvm`, `tdxvm`).
    pub fn expect_attestation_type(mut self, tee: impl Into<String>) -> Self {
        self.attestation_type = Some(tee.into());
        self
    }

    /// Requires this compliance status (`None`: any).
    pub fn expect_compliance_status(mut self, status: Option<String>) -> Self {
        self.compliance_status = status;
        self
    }

    /// Requires REPORTDATA to start with `prefix` (SEV-SNP and TDX carry 64 bytes; guests
    /// often bind a 32-byte hash and leave the rest zero, so the rest must be zero).
    pub fn expect_report_data(mut self, prefix: &[u8]) -> Self {
        self.report_data = Some(prefix.to_vec());
        self
    }

    /// Requires the TD's MRTD (`tdx_mrtd`) to equal `mrtd`; a token without one (a SEV-SNP VM)
    /// is refused.
    pub fn expect_mrtd(mut self, mrtd: [u8; 48]) -> Self {
        self.mrtd = Some(mrtd);
        self
    }

    /// Requires the TD's RTMR `index` (`tdx_rtmr0`..`tdx_rtmr3`) to equal `value`; a token
    /// without that claim is refused. An index over 3 names no RTMR: every token is then refused
    /// (a pin is never dropped silently).
    pub fn expect_rtmr(mut self, index: usize, value: [u8; 48]) -> Self {
        self.rtmrs.retain(|(pinned, _)| *pinned != index);
        self.rtmrs.push((index, value));
        self
    }

    /// Accepts debuggable VMs (never in production).
    pub fn allow_debug(mut self) -> Self {
        self.allow_debug = true;
        self
    }

    /// Checks `claims` against the policy.
    pub fn appraise(&self, claims: &MaaClaims) -> Result<(), Error> {
        self.appraise_tee(&claims.isolation_tee, true)
    }

    /// Checks a token of any layout against the policy. The compliance status is checked on
    /// guest-attestation tokens, the only ones MAA gives an `x-ms-compliance-status`; the TEE
    /// type, debug marks, REPORTDATA, MRTD and RTMRs on every token.
    pub fn appraise_token(&self, token: &MaaToken) -> Result<(), Error> {
        match token {
            MaaToken::Guest(claims) => self.appraise(claims),
            MaaToken::Tdx(claims) | MaaToken::SevSnp(claims) => {
                self.appraise_tee(&claims.tee, false)
            }
        }
    }

    fn appraise_tee(&self, tee: &IsolationTee, check_compliance: bool) -> Result<(), Error> {
        let check = |field: &str, expected: &Option<String>, found: &Option<String>| match expected
        {
            Some(e) if Some(e) != found.as_ref() => Err(Error::Mismatch {
                field: field.into(),
                expected: e.clone(),
                found: found.clone().unwrap_or_default(),
            }),
            _ => Ok(()),
        };
        check(
            "x-ms-attestation-type",
            &self.attestation_type,
            &Some(tee.attestation_type.clone()),
        )?;
        if check_compliance {
            check(
                "x-ms-compliance-status",
                &self.compliance_status,
                &tee.compliance_status,
            )?;
        }
        if let Some(reason) = tee.debug_reason()
            && !self.allow_debug
        {
            return Err(Error::Debug(reason));
        }
        if let Some(prefix) = &self.report_data {
            let found = tee
                .report_data()?
                .ok_or(Error::MissingClaim("report data"))?;
            // The expected value zero-padded to the claim's length, compared in constant time.
            let mut padded = prefix.clone();
            padded.resize(found.len().max(prefix.len()), 0);
            let matches = found.len() >= prefix.len() && ct_eq(&padded, &found);
            if !matches {
                return Err(Error::Mismatch {
                    field: "report data".into(),
                    expected: show(prefix),
                    found: show(&found),
                });
            }
        }
        if let Some(expected) = &self.mrtd {
            let found = tee.mrtd()?.ok_or(Error::MissingClaim("tdx_mrtd"))?;
            if !ct_eq(expected, &found) {
                return Err(Error::Mismatch {
                    field: "tdx_mrtd".into(),
                    expected: show(expected),
                    found: show(&found),
                });
            }
        }
        const RTMR_CLAIMS: [&str; 4] = ["tdx_rtmr0", "tdx_rtmr1", "tdx_rtmr2", "tdx_rtmr3"];
        for (index, expected) in &self.rtmrs {
            let name = RTMR_CLAIMS
                .get(*index)
                .copied()
                .unwrap_or("tdx_rtmr (index over 3)");
            let found = tee.rtmr(*index)?.ok_or(Error::MissingClaim(name))?;
            if !ct_eq(expected, &found) {
                return Err(Error::Mismatch {
                    field: name.into(),
                    expected: show(expected),
                    found: show(&found),
                });
            }
        }
        Ok(())
    }
}

/// Appraises Azure Attestation tokens (platform evidence, the evidence's `token`):
/// [`MaaVerifier::verify_token`] at `now` (any of MAA's layouts), then
/// [`MaaPolicy::appraise_token`], whose policy must identify the workload (MRTD with an RTMR)
/// or opt out ([`MaaPolicy::any_workload`]).
///
/// REPORTDATA is the TEE's, as MAA read it from the report it appraised (`tdx_report_data`, or
/// `x-ms-sevsnpvm-reportdata`), and must be 64 bytes. Measurements are those the token
/// carries: `mrtd` and `rtmr0`..`rtmr3` of a TD, `launch_measurement` of a SEV-SNP VM.
#[derive(Debug)]
pub struct MaaAppraiser {
    verifier: MaaVerifier,
    policy: MaaPolicy,
}

impl MaaAppraiser {
    /// Verifies with `verifier`, then appraises with `policy`.
    pub fn new(verifier: MaaVerifier, policy: MaaPolicy) -> Self {
        Self { verifier, policy }
    }

    /// The policy tokens are appraised with.
    pub fn policy(&self) -> &MaaPolicy {
        &self.policy
    }

    /// Verifies and appraises `token` at `now`; returns the accepted value and the claims.
    /// A policy that identifies no workload refuses every token, before it is verified.
    pub fn appraise_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<(Accepted, MaaToken), AppraiserError> {
        let workload = self.policy.workload().map_err(AppraiserError::Policy)?;
        let claims = self
            .verifier
            .verify_token(token, now)
            .map_err(AppraiserError::Verify)?;
        self.policy
            .appraise_token(&claims)
            .map_err(AppraiserError::Policy)?;
        let tee = claims.tee();
        let report_data = tee
            .report_data()
            .map_err(AppraiserError::Verify)?
            .and_then(|bytes| ReportData::try_from(bytes.as_slice()).ok())
            .ok_or(AppraiserError::NoBinding(
                "the verified MAA token carries no 64-byte report data",
            ))?;
        let accepted = Accepted::assertion(report_data, measurements(tee)?, workload);
        Ok((accepted, claims))
    }
}

/// The measurements an MAA token carries, by the vocabulary's names.
fn measurements(tee: &IsolationTee) -> Result<Measurements, AppraiserError> {
    let mut measurements = Measurements::new();
    if let Some(mrtd) = tee.mrtd().map_err(AppraiserError::Verify)? {
        measurements.insert("mrtd".to_owned(), mrtd.to_vec());
    }
    for index in 0..4 {
        if let Some(rtmr) = tee.rtmr(index).map_err(AppraiserError::Verify)? {
            measurements.insert(format!("rtmr{index}"), rtmr.to_vec());
        }
    }
    if let Some(launch) = tee
        .sevsnp_launch_measurement()
        .map_err(AppraiserError::Verify)?
    {
        measurements.insert("launch_measurement".to_owned(), launch.to_vec());
    }
    Ok(measurements)
}

impl Appraiser for MaaAppraiser {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        if evidence.kind != EvidenceKind::Platform {
            return Err(AppraiserError::Unsupported(
                "the MAA token appraiser judges platform tokens only, not per-session quotes",
            )
            .into());
        }
        let token = evidence
            .token
            .ok_or(AppraiserError::Missing("Azure Attestation token"))?;
        Ok(self.appraise_token(token, now)?.0)
    }
}
