//! Intel Trust Authority tokens: typed claims (token v1 and v2), the verifier, the appraisal
//! policy and the [`ItaAppraiser`] that composes them into the vocabulary's [`Appraiser`].
//!
//! An appraiser's policy must identify the workload: MRTD together with at least one RTMR (the
//! token carries no MRCONFIGID claim). MRTD alone does not: on a cloud TD it measures the
//! provider's firmware, which every tenant shares, so a genuine TD running anyone's code would
//! pass. An [`ItaAppraiser`] whose policy identifies no workload refuses every token
//! ([`Error::NoWorkload`]) unless the policy says so explicitly ([`ItaPolicy::any_workload`]),
//! as `attested-tdx`'s `Policy` does for quotes.
//!
//! A server that serves an ITA token for its own quote gets it through the sans-IO exchange
//! here: [`AttestRequest`] is the request to send (path, headers, body), [`parse_attest_answer`]
//! reads the answer (at most [`MAX_ATTEST_ANSWER_LEN`] bytes) into a [`HeldToken`], and
//! [`HeldToken::fresh_at`] says when to ask again ([`DEFAULT_RENEWAL_MARGIN`] before `exp`).

use attested_types::{
    Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, ReportData, UnixTime,
    Workload,
};
use serde::Deserialize;

use crate::error::{AppraiserError, Error, malformed};
use crate::hexbytes::{self, ct_eq, show};
use crate::jwt::{Jwks, JwtVerifier, KeySet};
use crate::x509::{Crls, TrustRoots};

mod exchange;

pub use exchange::{
    API_KEY_HEADER, ATTEST_PATH, AttestAnswerError, AttestRequest, DEFAULT_RENEWAL_MARGIN,
    HeldToken, MAX_ATTEST_ANSWER_LEN, parse_attest_answer,
};

/// The `iss` of every Intel Trust Authority token.
pub const ITA_ISSUER: &str = "Intel Trust Authority";

/// TDX measurements and attributes from an ITA token (`tdx_*` claims).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct TdxClaims {
    /// MRTD: the initial TD measurement.
    #[serde(rename = "tdx_mrtd", deserialize_with = "hexbytes::fixed")]
    pub mrtd: [u8; 48],
    /// RTMR0.
    #[serde(rename = "tdx_rtmr0", deserialize_with = "hexbytes::fixed")]
    pub rtmr0: [u8; 48],
    /// RTMR1.
    #[serde(rename = "tdx_rtmr1", deserialize_with = "hexbytes::fixed")]
    pub rtmr1: [u8; 48],
    /// RTMR2.
    #[serde(rename = "tdx_rtmr2", deserialize_with = "hexbytes::fixed")]
    pub rtmr2: [u8; 48],
    /// RTMR3.
    #[serde(rename = "tdx_rtmr3", deserialize_with = "hexbytes::fixed")]
    pub rtmr3: [u8; 48],
    /// REPORTDATA (64 bytes).
    #[serde(rename = "tdx_report_data", deserialize_with = "hexbytes::fixed")]
    pub report_data: [u8; 64],
    /// MRSEAM.
    #[serde(
        rename = "tdx_mrseam",
        default,
        deserialize_with = "hexbytes::fixed_opt"
    )]
    pub mrseam: Option<[u8; 48]>,
    /// MRCONFIGID.
    #[serde(
        rename = "tdx_mrconfigid",
        default,
        deserialize_with = "hexbytes::fixed_opt"
    )]
    pub mrconfigid: Option<[u8; 48]>,
    /// MROWNER.
    #[serde(
        rename = "tdx_mrowner",
        default,
        deserialize_with = "hexbytes::fixed_opt"
    )]
    pub mrowner: Option<[u8; 48]>,
    /// MROWNERCONFIG.
    #[serde(
        rename = "tdx_mrownerconfig",
        default,
        deserialize_with = "hexbytes::fixed_opt"
    )]
    pub mrownerconfig: Option<[u8; 48]>,
    /// TD attributes (8 bytes as in the quote).
    #[serde(
        rename = "tdx_td_attributes",
        default,
        deserialize_with = "hexbytes::fixed_opt"
    )]
    pub td_attributes: Option<[u8; 8]>,
    /// XFAM.
    #[serde(rename = "tdx_xfam", default, deserialize_with = "hexbytes::fixed_opt")]
    pub xfam: Option<[u8; 8]>,
    /// Whether ITA judged the TD debuggable.
    #[serde(rename = "tdx_is_debuggable", default)]
    pub is_debuggable: Option<bool>,
    /// `tdx_td_attributes_debug`: the TD attributes' DEBUG bit as a boolean.
    #[serde(rename = "tdx_td_attributes_debug", default)]
    pub td_attributes_debug: Option<bool>,
}

/// Bit 0 of TDATTRIBUTES (TUD.DEBUG, Intel TDX DCAP Quoting Library API A.3.4): the host
/// VMM can read and write the TD's CPU state and private memory.
pub(crate) fn td_attributes_debug_bit(attributes: &[u8; 8]) -> bool {
    attributes[0] & 1 == 1
}

/// Whether an EAT `dbgstat` value (RFC 9711 section 4.2.9, as text in JSON) leaves debug
/// facilities possibly enabled: every value but the `disabled` family does, including values
/// this crate does not know.
pub(crate) fn dbgstat_is_debug(dbgstat: &str) -> bool {
    !matches!(
        dbgstat,
        "disabled"
            | "disabled-since-boot"
            | "disabled-permanently"
            | "disabled-fully-and-permanently"
    )
}

impl TdxClaims {
    /// Why these claims mark the TD as debuggable, if any does: `tdx_is_debuggable`,
    /// `tdx_td_attributes_debug` or bit 0 of `tdx_td_attributes`.
    pub fn debug_reason(&self) -> Option<&'static str> {
        if self.is_debuggable == Some(true) {
            Some("tdx_is_debuggable is true")
        } else if self.td_attributes_debug == Some(true) {
            Some("tdx_td_attributes_debug is true")
        } else if self
            .td_attributes
            .as_ref()
            .is_some_and(td_attributes_debug_bit)
        {
            Some("bit 0 (DEBUG) of tdx_td_attributes is set")
        } else {
            None
        }
    }
}

/// SGX enclave identity from an ITA token (`sgx_*` claims).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SgxClaims {
    /// MRENCLAVE.
    #[serde(rename = "sgx_mrenclave", deserialize_with = "hexbytes::fixed")]
    pub mrenclave: [u8; 32],
    /// MRSIGNER.
    #[serde(rename = "sgx_mrsigner", deserialize_with = "hexbytes::fixed")]
    pub mrsigner: [u8; 32],
    /// REPORTDATA (64 bytes).
    #[serde(rename = "sgx_report_data", deserialize_with = "hexbytes::fixed")]
    pub report_data: [u8; 64],
    /// ISV product id.
    #[serde(rename = "sgx_isvprodid", default)]
    pub isvprodid: Option<u16>,
    /// ISV SVN.
    #[serde(rename = "sgx_isvsvn", default)]
    pub isvsvn: Option<u16>,
    /// Whether the enclave is debuggable.
    #[serde(rename = "sgx_is_debuggable", default)]
    pub is_debuggable: Option<bool>,
}

/// The verifier nonce ITA embeds (`verifier_nonce`): base64 `val` and `iat`, and ITA's signature.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct VerifierNonce {
    /// The nonce value, base64 as ITA sends it.
    pub val: String,
    /// The nonce issue time, base64 as ITA sends it.
    pub iat: String,
    /// ITA's signature over val||iat, base64.
    #[serde(default)]
    pub signature: Option<String>,
}

/// Claims about the attester that v1 puts at top level and v2 inside `tdx`/`sgx`.
#[derive(Debug, Clone, Default, Deserialize)]
struct AttesterClaims {
    attester_tcb_status: Option<String>,
    #[serde(default)]
    attester_advisory_ids: Vec<String>,
    attester_held_data: Option<String>,
}

#[derive(Deserialize)]
struct NestedTdx {
    #[serde(flatten)]
    tdx: TdxClaims,
    #[serde(flatten)]
    attester: AttesterClaims,
    dbgstat: Option<String>,
}

#[derive(Deserialize)]
struct NestedSgx {
    #[serde(flatten)]
    sgx: SgxClaims,
    #[serde(flatten)]
    attester: AttesterClaims,
}

#[derive(Deserialize)]
struct RawItaClaims {
    ver: Option<String>,
    iss: Option<String>,
    exp: Option<crate::time::NumericDate>,
    iat: Option<crate::time::NumericDate>,
    jti: Option<String>,
    attester_type: Option<String>,
    dbgstat: Option<String>,
    verifier_nonce: Option<VerifierNonce>,
    tdx_mrtd: Option<serde::de::IgnoredAny>,
    sgx_mrenclave: Option<serde::de::IgnoredAny>,
    tdx: Option<NestedTdx>,
    sgx: Option<NestedSgx>,
    nvgpu: Option<serde_json::Map<String, serde_json::Value>>,
    #[serde(flatten)]
    attester: AttesterClaims,
}

/// Which layout the token used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ItaTokenVersion {
    /// Claims at top level (`ver` 1.x).
    V1,
    /// Claims nested under `tdx`, `sgx`, `nvgpu` (`ver` 2.x).
    V2,
}

/// The verified claims of an ITA token, the same shape for token v1 and v2.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ItaClaims {
    /// Layout of the token.
    pub version: ItaTokenVersion,
    /// `ver` as sent.
    pub ver: Option<String>,
    /// `iss`.
    pub issuer: String,
    /// `iat`, seconds since the Unix epoch.
    pub issued_at: Option<u64>,
    /// `exp`, seconds since the Unix epoch.
    pub expires_at: u64,
    /// `jti`.
    pub token_id: Option<String>,
    /// `attester_type` (`TDX`, `SGX`, ...).
    pub attester_type: Option<String>,
    /// TCB status ITA gave the attester (`UpToDate`, `OutOfDate`, ...).
    pub tcb_status: Option<String>,
    /// Intel security advisories that apply.
    pub advisory_ids: Vec<String>,
    /// Data the attester bound into REPORTDATA, base64 as sent.
    pub attester_held_data: Option<String>,
    /// `dbgstat`.
    pub dbgstat: Option<String>,
    /// The verifier nonce.
    pub verifier_nonce: Option<VerifierNonce>,
    /// TDX claims, when the attester is a TD.
    pub tdx: Option<TdxClaims>,
    /// SGX claims, when the attester is an enclave.
    pub sgx: Option<SgxClaims>,
    /// NVIDIA GPU claims (v2), kept as the JSON object ITA sends: their schema is NVIDIA's.
    pub nvgpu: Option<serde_json::Map<String, serde_json::Value>>,
}

impl ItaClaims {
    /// Parses the claims of a verified token payload.
    pub fn from_payload(payload: &[u8]) -> Result<Self, Error> {
        let raw: RawItaClaims =
            serde_json::from_slice(payload).map_err(|e| malformed("ITA claims", e))?;
        let v2 = raw.tdx.is_some() || raw.sgx.is_some() || raw.nvgpu.is_some();
        let mut dbgstat = raw.dbgstat;
        let (tdx, sgx, attester) = if v2 {
            let mut attester = raw.attester;
            if let Some(nested) = raw.tdx.as_ref().and_then(|n| n.dbgstat.as_ref()) {
                match &dbgstat {
                    Some(top) if top != nested => {
                        return Err(Error::Mismatch {
                            field: "tdx.dbgstat".into(),
                            expected: top.clone(),
                            found: nested.clone(),
                        });
                    }
                    _ => dbgstat = Some(nested.clone()),
                }
            }
            let tdx = match raw.tdx {
                Some(n) => {
                    merge(&mut attester, n.attester, "tdx")?;
                    Some(n.tdx)
                }
                None => None,
            };
            let sgx = match raw.sgx {
                Some(n) => {
                    merge(&mut attester, n.attester, "sgx")?;
                    Some(n.sgx)
                }
                None => None,
            };
            (tdx, sgx, attester)
        } else {
            let tdx = match raw.tdx_mrtd {
                Some(_) => Some(
                    serde_json::from_slice::<TdxClaims>(payload)
                        .map_err(|e| malformed("ITA TDX claims", e))?,
                ),
                None => None,
            };
            let sgx = match raw.sgx_mrenclave {
                Some(_) => Some(
                    serde_json::from_slice::<SgxClaims>(payload)
                        .map_err(|e| malformed("ITA SGX claims", e))?,
                ),
                None => None,
            };
            (tdx, sgx, raw.attester)
        };
        Ok(ItaClaims {
            version: if v2 {
                ItaTokenVersion::V2
            } else {
                ItaTokenVersion::V1
            },
            ver: raw.ver,
            issuer: raw.iss.unwrap_or_default(),
            issued_at: raw.iat.map(|t| t.0),
            expires_at: raw.exp.map(|t| t.0).unwrap_or_default(),
            token_id: raw.jti,
            attester_type: raw.attester_type,
            tcb_status: attester.attester_tcb_status,
            advisory_ids: attester.attester_advisory_ids,
            attester_held_data: attester.attester_held_data,
            dbgstat,
            verifier_nonce: raw.verifier_nonce,
            tdx,
            sgx,
            nvgpu: raw.nvgpu,
        })
    }

    /// Why the token marks the TD or enclave as debuggable, if any claim does: `dbgstat` other
    /// than disabled, or the TDX ([`TdxClaims::debug_reason`]) or SGX debug claims.
    pub fn debug_reason(&self) -> Option<&'static str> {
        if self.dbgstat.as_deref().is_some_and(dbgstat_is_debug) {
            return Some("dbgstat is not disabled");
        }
        if let Some(reason) = self.tdx.as_ref().and_then(TdxClaims::debug_reason) {
            return Some(reason);
        }
        if self.sgx.as_ref().and_then(|s| s.is_debuggable) == Some(true) {
            return Some("sgx_is_debuggable is true");
        }
        None
    }

    /// REPORTDATA of the TD or enclave.
    pub fn report_data(&self) -> Option<&[u8; 64]> {
        self.tdx
            .as_ref()
            .map(|t| &t.report_data)
            .or(self.sgx.as_ref().map(|s| &s.report_data))
    }
}

/// Folds a nested section's attester claims into the token's. A status or held data given in
/// two places must be the same: otherwise which one counts would depend on the order read.
fn merge(into: &mut AttesterClaims, from: AttesterClaims, section: &str) -> Result<(), Error> {
    let agree =
        |into: &mut Option<String>, from: Option<String>, name: &str| match (into.as_ref(), from) {
            (Some(have), Some(other)) if *have != other => Err(Error::Mismatch {
                field: format!("{section}.{name}"),
                expected: have.clone(),
                found: other,
            }),
            (None, from) => {
                *into = from;
                Ok(())
            }
            _ => Ok(()),
        };
    agree(
        &mut into.attester_tcb_status,
        from.attester_tcb_status,
        "attester_tcb_status",
    )?;
    agree(
        &mut into.attester_held_data,
        from.attester_held_data,
        "attester_held_data",
    )?;
    into.attester_advisory_ids
        .extend(from.attester_advisory_ids);
    Ok(())
}

/// Verifies Intel Trust Authority tokens: key from a JWKS chained to pinned roots, issuer
/// `Intel Trust Authority`, times, then typed claims.
///
/// ```no_run
/// # fn main() -> Result<(), attested_token::Error> {
/// use attested_token::ita::ItaVerifier;
/// use attested_token::jwt::Jwks;
/// use attested_token::x509::TrustRoots;
/// use attested_token::UnixTime;
/// let jwks = Jwks::from_json(&std::fs::read("ita-jwks.json").unwrap())?;
/// let token = std::fs::read_to_string("token.jwt").unwrap();
/// let claims = ItaVerifier::new(&jwks, &TrustRoots::intel_trust_authority())
///     .verify(token.trim(), UnixTime::now())?;
/// println!("MRTD {:02x?}", claims.tdx.map(|t| t.mrtd));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct ItaVerifier {
    jwt: JwtVerifier,
}

impl ItaVerifier {
    /// Keys of `jwks` whose x5c chains lead to `roots` (normally
    /// [`TrustRoots::intel_trust_authority`]).
    pub fn new(jwks: &Jwks, roots: &TrustRoots) -> Self {
        Self::with_keys(KeySet::chained(jwks, roots))
    }

    /// As [`ItaVerifier::new`], with the signing chain also checked against ITA's CRLs, passed
    /// in as bytes like any collateral: the ATS signing CA's
    /// (`https://portal.trustauthority.intel.com/crl/ats-ca-crl.der`, covering the
    /// token-signing certificate) and the root CA's (`.../crl/root-ca-crl.der`, covering the
    /// ATS signing CA), the two the ITA Go client checks. A revoked signer is refused, a chain
    /// certificate no CRL covers is refused, and a CRL past its `nextUpdate` at `now` fails
    /// verification ([`Error::CrlExpired`]).
    ///
    /// Without CRLs ([`ItaVerifier::new`]) a caller loses revocation: a token-signing key or
    /// signing CA that Intel revoked keeps verifying until its certificate expires (the
    /// token-signing certificate lives a year).
    pub fn with_crls(jwks: &Jwks, roots: &TrustRoots, crls: &Crls) -> Self {
        Self::with_keys(KeySet::chained_with_crls(
            jwks,
            roots,
            crls,
            crate::Backend::default(),
        ))
    }

    /// A verifier over a key set built some other way (a chosen backend, an unchained opt-in).
    pub fn with_keys(keys: KeySet) -> Self {
        ItaVerifier {
            jwt: JwtVerifier::new(keys).issuer(ITA_ISSUER),
        }
    }

    /// Requires another issuer (a pre-production environment, the simulator).
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.jwt = self.jwt.issuer(issuer);
        self
    }

    forward_jwt_options!(time_and_limits);

    /// Verifies `token` at `now` and returns its typed claims.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<ItaClaims, Error> {
        let verified = self.jwt.verify(token, now)?;
        ItaClaims::from_payload(&verified.payload)
    }
}

/// What an ITA token must say to be accepted: measurements, REPORTDATA, nonce, TCB status.
/// Pinned values are compared in constant time.
///
/// By default only `UpToDate` is accepted and debuggable TDs or enclaves are refused. A v2
/// composite token's `nvgpu` section is appraised too: `measres` must be `success`, `dbgstat`
/// disabled, and `x-nvidia-overall-att-result` not false.
///
/// [`ItaPolicy::appraise`] compares what is pinned; an [`ItaAppraiser`] also requires that the
/// pins identify the workload ([`ItaPolicy::identifies_workload`]), or the explicit opt-out
/// [`ItaPolicy::any_workload`].
#[derive(Debug, Clone)]
pub struct ItaPolicy {
    mrtd: Vec<[u8; 48]>,
    rtmrs: [Option<[u8; 48]>; 4],
    /// A pin on an RTMR index over 3: kept so that appraisal fails closed instead of dropping it.
    rtmr_out_of_range: bool,
    report_data: Option<[u8; 64]>,
    nonce: Option<Vec<u8>>,
    tcb_statuses: Vec<String>,
    allow_debug: bool,
    any_workload: bool,
}

impl Default for ItaPolicy {
    fn default() -> Self {
        ItaPolicy {
            mrtd: Vec::new(),
            rtmrs: [None; 4],
            rtmr_out_of_range: false,
            report_data: None,
            nonce: None,
            tcb_statuses: vec!["UpToDate".into()],
            allow_debug: false,
            any_workload: false,
        }
    }
}

impl ItaPolicy {
    /// A policy accepting `UpToDate` and checking nothing else until told. An [`ItaAppraiser`]
    /// refuses every token with it until MRTD and an RTMR are pinned.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy accepting **any workload**: an [`ItaAppraiser`] with it accepts every genuine
    /// TD on an accepted platform, whoever's code it runs, and the accepted value says so
    /// ([`Workload::Any`]). Only for demos and for callers that identify the workload
    /// otherwise. Measurements pinned afterwards are still compared.
    pub fn any_workload() -> Self {
        ItaPolicy {
            any_workload: true,
            ..Self::default()
        }
    }

    /// Whether the pinned measurements identify a workload: MRTD with at least one RTMR.
    /// `Err` ([`Error::NoWorkload`]) names what is missing.
    pub fn identifies_workload(&self) -> Result<(), Error> {
        crate::error::tdx_workload_identified(
            !self.mrtd.is_empty(),
            self.rtmrs.iter().any(Option::is_some),
        )
    }

    /// Whether the policy accepts tokens whose workload it does not identify
    /// ([`ItaPolicy::any_workload`]).
    pub fn accepts_any_workload(&self) -> bool {
        self.any_workload
    }

    /// Accepts this MRTD (may be called several times: any of them).
    pub fn expect_mrtd(mut self, mrtd: [u8; 48]) -> Self {
        self.mrtd.push(mrtd);
        self
    }

    /// Requires RTMR `index` (0..=3) to equal `value`. An index over 3 names no RTMR: every
    /// token is then refused (a pin is never dropped silently).
    pub fn expect_rtmr(mut self, index: usize, value: [u8; 48]) -> Self {
        match self.rtmrs.get_mut(index) {
            Some(slot) => *slot = Some(value),
            None => self.rtmr_out_of_range = true,
        }
        self
    }

    /// Requires this REPORTDATA.
    pub fn expect_report_data(mut self, report_data: [u8; 64]) -> Self {
        self.report_data = Some(report_data);
        self
    }

    /// Requires the verifier nonce (`verifier_nonce.val`, base64-decoded) to equal `nonce`.
    pub fn expect_nonce(mut self, nonce: &[u8]) -> Self {
        self.nonce = Some(nonce.to_vec());
        self
    }

    /// Replaces the accepted TCB statuses.
    pub fn accept_tcb_statuses<S: Into<String>>(
        mut self,
        statuses: impl IntoIterator<Item = S>,
    ) -> Self {
        self.tcb_statuses = statuses.into_iter().map(Into::into).collect();
        self
    }

    /// Accepts debuggable TDs and enclaves (never in production).
    pub fn allow_debug(mut self) -> Self {
        self.allow_debug = true;
        self
    }

    /// The measurements this policy compares with reference values (`mrtd`, `rtmr0`..).
    fn pinned_measurements(&self) -> Vec<String> {
        let rtmrs = (0..4).filter(|&i| self.rtmrs.get(i).is_some_and(Option::is_some));
        let mrtd = (!self.mrtd.is_empty()).then(|| "mrtd".to_owned());
        mrtd.into_iter()
            .chain(rtmrs.map(|i| format!("rtmr{i}")))
            .collect()
    }

    /// What an accepted value records: the pinned measurements, or [`Workload::Any`] when the
    /// policy opted out; `Err` when it identifies no workload and did not opt out.
    fn workload(&self) -> Result<Workload, Error> {
        crate::error::accepted_workload(self.identifies_workload(), self.any_workload, || {
            self.pinned_measurements()
        })
    }

    /// Checks `claims` against the policy; the error names the first claim that differs.
    pub fn appraise(&self, claims: &ItaClaims) -> Result<(), Error> {
        if self.rtmr_out_of_range {
            return Err(Error::MissingClaim("tdx_rtmr (index over 3)"));
        }
        let status = claims.tcb_status.clone().unwrap_or_default();
        if !self.tcb_statuses.contains(&status) {
            return Err(Error::TcbStatusNotAccepted(status));
        }
        if let Some(reason) = claims.debug_reason()
            && !self.allow_debug
        {
            return Err(Error::Debug(reason));
        }
        if let Some(nvgpu) = &claims.nvgpu {
            self.appraise_nvgpu(nvgpu)?;
        }
        if !self.mrtd.is_empty() || self.rtmrs.iter().any(Option::is_some) {
            let tdx = claims.tdx.as_ref().ok_or(Error::MissingClaim("tdx_mrtd"))?;
            // Every candidate is compared (no early exit), each in constant time.
            let any_mrtd = self
                .mrtd
                .iter()
                .fold(false, |found, m| ct_eq(m, &tdx.mrtd) | found);
            if !self.mrtd.is_empty() && !any_mrtd {
                return Err(mismatch(
                    "tdx_mrtd",
                    &self
                        .mrtd
                        .iter()
                        .map(|m| show(m))
                        .collect::<Vec<_>>()
                        .join(" or "),
                    &tdx.mrtd,
                ));
            }
            let found = [&tdx.rtmr0, &tdx.rtmr1, &tdx.rtmr2, &tdx.rtmr3];
            for (index, (expected, found)) in self.rtmrs.iter().zip(found).enumerate() {
                if let Some(expected) = expected
                    && !ct_eq(expected, found)
                {
                    return Err(mismatch(
                        &format!("tdx_rtmr{index}"),
                        &show(expected),
                        found,
                    ));
                }
            }
        }
        if let Some(expected) = &self.report_data {
            let found = claims
                .report_data()
                .ok_or(Error::MissingClaim("tdx_report_data"))?;
            if !ct_eq(expected, found) {
                return Err(mismatch("report_data", &show(expected), found));
            }
        }
        if let Some(expected) = &self.nonce {
            let nonce = claims
                .verifier_nonce
                .as_ref()
                .ok_or(Error::MissingClaim("verifier_nonce"))?;
            use base64::Engine as _;
            let found = base64::engine::general_purpose::STANDARD
                .decode(&nonce.val)
                .map_err(|e| malformed("verifier_nonce.val", e))?;
            if !ct_eq(expected, &found) {
                return Err(mismatch("verifier_nonce", &show(expected), &found));
            }
        }
        Ok(())
    }
}

impl ItaPolicy {
    /// The `nvgpu` section of a v2 composite token holds the NRAS claims ITA copied (Intel
    /// Trust Authority docs, composite attestation): it is appraised as [`crate::nras::NrasPolicy`]
    /// appraises a GPU, so a token whose GPU failed is not accepted on the strength of its TD.
    fn appraise_nvgpu(
        &self,
        nvgpu: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), Error> {
        let text = |name: &str| nvgpu.get(name).and_then(serde_json::Value::as_str);
        if nvgpu.get("x-nvidia-overall-att-result") == Some(&serde_json::Value::Bool(false)) {
            return Err(Error::ResultFalse {
                claim: "nvgpu.x-nvidia-overall-att-result".into(),
            });
        }
        match text("measres") {
            Some("success") => {}
            Some(other) => {
                return Err(Error::Mismatch {
                    field: "nvgpu.measres".into(),
                    expected: "success".into(),
                    found: other.into(),
                });
            }
            None => return Err(Error::MissingClaim("nvgpu.measres")),
        }
        if !self.allow_debug && text("dbgstat").is_none_or(dbgstat_is_debug) {
            return Err(Error::Debug("nvgpu dbgstat is not disabled"));
        }
        Ok(())
    }
}

/// Appraises Intel Trust Authority tokens (platform evidence): [`ItaVerifier`] at `now`, then
/// the [`ItaPolicy`], which must identify the workload (or opt out,
/// [`ItaPolicy::any_workload`]). Measurements: `mrtd`, `rtmr0`..`rtmr3` of the token's TDX
/// claims.
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

    /// The policy tokens are appraised with.
    pub fn policy(&self) -> &ItaPolicy {
        &self.policy
    }

    /// Verifies and appraises `token` at `now`; returns the accepted value and the claims.
    /// A policy that identifies no workload refuses every token, before it is verified.
    pub fn appraise_token(
        &self,
        token: &str,
        now: UnixTime,
    ) -> Result<(Accepted, ItaClaims), AppraiserError> {
        let workload = self.policy.workload().map_err(AppraiserError::Policy)?;
        let claims = self
            .verifier
            .verify(token, now)
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
            workload,
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

pub(crate) fn mismatch(field: &str, expected: &str, found: &[u8]) -> Error {
    Error::Mismatch {
        field: field.to_owned(),
        expected: expected.to_owned(),
        found: show(found),
    }
}
