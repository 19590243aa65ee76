//! TDX evidence for the example servers and clients, shared by the Noise and OHTTP examples.
//!
//! Servers get quotes with the REPORTDATA they need from a [`TdxEvidenceSource`]: `--tee sim`
//! is `attested-tdx`'s simulated platform (a test PKI of its own, NOT a TEE), `--tee tdx` is
//! Linux configfs-tsm on real hardware. A simulated server also serves its root certificate
//! (`GET /sim/root`, PEM) and, either way when known, the collateral (`GET /collateral`,
//! dcap-qvl JSON); see [`trust_routes`].
//!
//! Clients check quotes with a [`TdxCheck`]: DCAP verification with [`attested_tdx::Verifier`]
//! against a trust anchor (Intel's SGX root by default; a simulated root only when the user
//! names its file with `--trust-sim-root`) and collateral (a file, or fetched from the server:
//! collateral is signed under the same anchor, so where it comes from does not matter), then
//! appraisal with a [`Policy`]. REPORTDATA and measurements come from the verified quote only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use attested_tdx::policy::Hex;
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimError, SimPlatform};
use attested_tdx::tsm::{ConfigfsTsm, TsmError};
use attested_tdx::{
    AcceptedQuote, AppraisalError, Collateral, ParseError, Policy, Quote, TcbStatus,
    TdxAppraisalError, TdxAppraiser, TrustAnchor, UnixTime, Verifier, VerifyError,
};
use attested_types::{Accepted, Appraiser, Evidence, Measurements};

/// Where a server's quotes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Tee {
    /// `attested-tdx`'s simulated TDX platform: a test PKI, NOT a TEE. Clients must be told
    /// explicitly to trust its root (`--trust-sim-root FILE`).
    Sim,
    /// Intel TDX through Linux configfs-tsm (real hardware).
    Tdx,
}

/// Why evidence could not be produced or was refused. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TdxEvidenceError {
    /// The simulated platform failed.
    #[error("simulated TDX platform: {0}")]
    Sim(#[from] SimError),
    /// configfs-tsm failed.
    #[error("configfs-tsm: {0}")]
    Tsm(#[from] TsmError),
    /// configfs-tsm is not there.
    #[error("--tee tdx: configfs-tsm is not available on this machine")]
    TsmUnavailable,
    /// The attestation carries no quote.
    #[error("the attestation carries no TDX quote")]
    MissingQuote,
    /// The quote does not parse.
    #[error("quote does not parse: {0}")]
    Parse(#[from] ParseError),
    /// The collateral does not parse or cannot be read.
    #[error("collateral: {0}")]
    Collateral(String),
    /// The trust anchor cannot be read.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// DCAP verification failed (signature, certificate, CRL, TCB, time bound...).
    #[error("DCAP verification failed ({check}): {0}", check = .0.check())]
    Verify(#[from] VerifyError),
    /// The verified quote does not meet the policy (MRTD, debug, TCB status...).
    #[error("policy refused the verified quote: {0}")]
    Policy(#[from] AppraisalError),
    /// A command-line value is malformed.
    #[error("{0}")]
    Usage(String),
}

/// The MRTD the example servers' simulated platforms report by default (hex).
pub const SIM_MRTD: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// The MRTD `ohttp-gateway --tee sim` reports (hex).
pub const GATEWAY_SIM_MRTD: &str = "6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f6f";

/// RTMR3 of every simulated platform's quotes (hex): with the MRTD, what identifies a
/// simulated workload (`--expect-rtmr 3=SIM_RTMR3`).
pub const SIM_RTMR3: &str = "131313131313131313131313131313131313131313131313131313131313131313131313131313131313131313131313";

/// The simulated platform's seed: fixed, so that a demo's MRTD and root are reproducible.
const SIM_SEED: &[u8] = b"attested-examples simulated TDX platform";

enum Platform {
    Sim {
        platform: Box<SimPlatform>,
        spec: Box<QuoteSpec>,
    },
    Tdx(ConfigfsTsm),
}

/// A server's source of TDX quotes.
pub struct TdxEvidenceSource {
    platform: Platform,
}

impl TdxEvidenceSource {
    /// A simulated platform (certificates and collateral valid around `now`) whose quotes
    /// carry `mr_td`.
    pub fn sim(mr_td: [u8; 48], now: SystemTime) -> Result<Self, TdxEvidenceError> {
        let platform = SimPlatform::from_seed(SIM_SEED, unix_seconds(now))?;
        let spec = QuoteSpec {
            mr_td,
            td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
            ..platform.quote_spec(QuoteFormat::V4)
        };
        Ok(Self {
            platform: Platform::Sim {
                platform: Box::new(platform),
                spec: Box::new(spec),
            },
        })
    }

    /// Real hardware through configfs-tsm.
    pub fn tdx() -> Result<Self, TdxEvidenceError> {
        let tsm = ConfigfsTsm::new();
        if !tsm.is_available() {
            return Err(TdxEvidenceError::TsmUnavailable);
        }
        Ok(Self {
            platform: Platform::Tdx(tsm),
        })
    }

    /// The source `--tee` names; a simulated platform reports `sim_mr_td` and is valid around
    /// `now`. Simulated platforms made at the same `now` share one root, so a client trusts
    /// them all through one anchor.
    pub fn from_tee(
        tee: Tee,
        sim_mr_td: [u8; 48],
        now: SystemTime,
    ) -> Result<Self, TdxEvidenceError> {
        match tee {
            Tee::Sim => Self::sim(sim_mr_td, now),
            Tee::Tdx => Self::tdx(),
        }
    }

    /// A quote whose REPORTDATA is `report_data`.
    pub fn quote(&self, report_data: &[u8; 64]) -> Result<Vec<u8>, TdxEvidenceError> {
        match &self.platform {
            Platform::Sim { platform, spec } => Ok(platform.quote(&QuoteSpec {
                report_data: *report_data,
                ..(**spec).clone()
            })?),
            Platform::Tdx(tsm) => Ok(tsm.generate_quote(report_data)?.quote),
        }
    }

    /// What servers report as their `tee_type`.
    pub fn tee_type(&self) -> &'static str {
        match self.platform {
            Platform::Sim { .. } => "tdx-sim (simulated platform, NOT a TEE)",
            Platform::Tdx(_) => "tdx",
        }
    }

    /// The MRTD of the quotes, as the quote states it (informative, unverified).
    pub fn mrtd(&self) -> Result<[u8; 48], TdxEvidenceError> {
        let quote = self.quote(&[0; 64])?;
        Ok(*Quote::parse_allowing_trailing_data(&quote)?
            .report()
            .mr_td())
    }

    /// The simulated root certificate (PEM) a client must be told to trust; `None` on
    /// hardware, whose quotes chain to Intel's root.
    pub fn sim_root_pem(&self) -> Option<&str> {
        match &self.platform {
            Platform::Sim { platform, .. } => Some(platform.root_certificate_pem()),
            Platform::Tdx(_) => None,
        }
    }

    /// Collateral for the quotes (dcap-qvl JSON), when the source has it. On hardware the
    /// client fetches it from Intel PCS itself.
    pub fn collateral_json(&self) -> Option<&str> {
        match &self.platform {
            Platform::Sim { platform, .. } => Some(platform.collateral_dcap_qvl_json()),
            Platform::Tdx(_) => None,
        }
    }
}

/// `GET /sim/root` (PEM) and `GET /collateral` (JSON), 404 where the source has none. Merge
/// into a server's router.
pub fn trust_routes(source: Arc<TdxEvidenceSource>) -> axum::Router {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let root = source.clone();
    axum::Router::new()
        .route(
            "/sim/root",
            axum::routing::get(move || async move {
                match root.sim_root_pem() {
                    Some(pem) => (
                        [(header::CONTENT_TYPE, "application/x-pem-file")],
                        pem.to_owned(),
                    )
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .route(
            "/collateral",
            axum::routing::get(move || async move {
                match source.collateral_json() {
                    Some(json) => (
                        [(header::CONTENT_TYPE, "application/json")],
                        json.to_owned(),
                    )
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
}

/// What a verified and accepted quote vouches for (attested-tdx's [`AcceptedQuote`]).
#[derive(Clone, Debug)]
pub struct VerifiedTdx(AcceptedQuote);

impl VerifiedTdx {
    /// REPORTDATA of the verified quote.
    pub fn report_data(&self) -> &[u8; 64] {
        self.0.accepted().report_data().as_bytes()
    }

    /// `mrtd`, `rtmr0`..`rtmr3`, `mrconfigid`, `mrowner`, `mrownerconfig` of the verified quote.
    pub fn measurements(&self) -> &Measurements {
        self.0.accepted().measurements()
    }

    /// The platform's TCB status.
    pub fn tcb_status(&self) -> TcbStatus {
        self.0.tcb_status()
    }

    /// The vocabulary's accepted value, for a protocol.
    pub fn accepted(&self) -> &Accepted {
        self.0.accepted()
    }
}

impl AsRef<Accepted> for VerifiedTdx {
    fn as_ref(&self) -> &Accepted {
        self.0.accepted()
    }
}

impl From<TdxAppraisalError> for TdxEvidenceError {
    fn from(error: TdxAppraisalError) -> Self {
        match error {
            TdxAppraisalError::MissingQuote => Self::MissingQuote,
            TdxAppraisalError::Parse(e) => Self::Parse(e),
            TdxAppraisalError::Verify(e) => Self::Verify(e),
            TdxAppraisalError::Policy(e) => Self::Policy(e),
            other => Self::Usage(other.to_string()),
        }
    }
}

/// A client's TDX quote check: attested-tdx's [`TdxAppraiser`] and a description of the anchor
/// for reports. As an [`Appraiser`] it takes `now` from each call; [`TdxCheck::verify`] uses
/// the `now` it was built with (a one-shot client's convenience).
pub struct TdxCheck {
    appraiser: TdxAppraiser,
    now: UnixTime,
    anchor_description: String,
}

impl TdxCheck {
    /// Verifies against `anchor` and `collateral`, then appraises with `policy`; `now` is the
    /// time of [`verify`](Self::verify).
    pub fn new(
        anchor: TrustAnchor,
        collateral: Collateral,
        policy: Policy,
        now: SystemTime,
    ) -> Self {
        Self {
            appraiser: TdxAppraiser::new(Verifier::new(anchor), collateral, policy),
            now: now.into(),
            anchor_description: "the given root".to_owned(),
        }
    }

    /// The policy quotes are appraised with.
    pub fn policy(&self) -> &Policy {
        self.appraiser.policy()
    }

    /// Which root the quotes must chain to, for reports.
    pub fn anchor_description(&self) -> &str {
        &self.anchor_description
    }

    /// Names the trust anchor in reports (default: "the given root").
    pub fn with_anchor_description(mut self, description: impl Into<String>) -> Self {
        self.anchor_description = description.into();
        self
    }

    /// Parses, verifies and appraises `quote` at the check's `now`.
    pub fn verify(&self, quote: &[u8]) -> Result<VerifiedTdx, TdxEvidenceError> {
        Ok(VerifiedTdx(self.appraiser.appraise_quote(quote, self.now)?))
    }
}

impl Appraiser for TdxCheck {
    fn appraise(
        &self,
        evidence: &Evidence<'_>,
        now: UnixTime,
    ) -> Result<Accepted, attested_types::BoxError> {
        self.appraiser.appraise(evidence, now)
    }
}

/// The clients' verification options.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TrustArgs {
    /// Trust the SIMULATED TDX root certificate (PEM) in FILE instead of Intel's SGX root. A
    /// simulated platform proves nothing: for tests and demos only.
    #[arg(long)]
    pub trust_sim_root: Option<PathBuf>,
    /// The collateral (dcap-qvl `QuoteCollateralV3` JSON); default: the server's
    /// `GET /collateral` (its signatures are verified under the trust anchor either way).
    #[arg(long)]
    pub collateral: Option<PathBuf>,
    /// The appraisal policy (attested-tdx's JSON or TOML): reference values and TCB rules. It
    /// must identify the workload, or say `any_workload`. The flags below narrow it.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Refuse any MRTD but this one (hex; may be repeated: any of them). Alone it does not
    /// identify the workload: on a cloud TD, MRTD is the provider's firmware.
    #[arg(long, value_name = "HEX")]
    pub expect_mrtd: Vec<String>,
    /// Refuse any RTMR N but this value (N 0 to 3; repeatable for different N).
    #[arg(long, value_name = "N=HEX")]
    pub expect_rtmr: Vec<String>,
    /// Refuse any MRCONFIGID but this one (hex).
    #[arg(long, value_name = "HEX")]
    pub expect_mrconfigid: Option<String>,
    /// Accept ANY workload on a genuine platform (whoever's code it runs; its quote binds its
    /// own keys). Only for demos: without it, the client refuses unless reference values
    /// (MRTD with an RTMR, MRCONFIGID, or a policy file) identify the workload.
    #[arg(long)]
    pub allow_any_workload: bool,
}

impl TrustArgs {
    /// Builds the check, fetching the collateral from `{server}/collateral` when no file was given.
    pub async fn check(
        &self,
        server: &str,
        http: &reqwest::Client,
    ) -> Result<TdxCheck, TdxEvidenceError> {
        let (anchor, description) = match &self.trust_sim_root {
            Some(path) => (
                TrustAnchor::from_pem(&read(path).map_err(TdxEvidenceError::Anchor)?)
                    .map_err(|e| TdxEvidenceError::Anchor(format!("{}: {e}", path.display())))?,
                format!("SIMULATED root from {} (not a TEE)", path.display()),
            ),
            None => (
                TrustAnchor::intel_sgx_root(),
                "Intel SGX Root CA".to_owned(),
            ),
        };
        let policy = self.policy()?;
        let collateral = load_collateral(server, http, self.collateral.as_deref()).await?;
        Ok(TdxCheck::new(anchor, collateral, policy, SystemTime::now())
            .with_anchor_description(description))
    }

    /// The `--expect-mrtd` values.
    pub fn expected_mrtds(&self) -> Result<Vec<[u8; 48]>, TdxEvidenceError> {
        self.expect_mrtd
            .iter()
            .map(|text| hex48(text, "--expect-mrtd"))
            .collect()
    }

    /// The `--expect-rtmr N=HEX` values.
    pub fn expected_rtmrs(&self) -> Result<Vec<(usize, [u8; 48])>, TdxEvidenceError> {
        self.expect_rtmr
            .iter()
            .map(|text| rtmr_pin(text))
            .collect::<Result<_, _>>()
    }

    /// The appraisal policy the options ask for: the `--policy` file (or strict platform rules),
    /// narrowed by the `--expect-*` values. Refused, naming what is missing, unless it
    /// identifies the workload (attested-tdx's rule: MRTD with an RTMR, or MRCONFIGID) or
    /// `--allow-any-workload` was given, which is announced on stderr.
    pub fn policy(&self) -> Result<Policy, TdxEvidenceError> {
        let usage = |e: attested_tdx::AppraisalError| TdxEvidenceError::Usage(e.to_string());
        let mut policy = match &self.policy {
            Some(path) => {
                let text = read(path).map_err(TdxEvidenceError::Usage)?;
                let text = String::from_utf8(text).map_err(|_| {
                    TdxEvidenceError::Usage(format!("{}: not UTF-8", path.display()))
                })?;
                Policy::from_text(&text).map_err(|e| {
                    TdxEvidenceError::Usage(format!("--policy {}: {e}", path.display()))
                })?
            }
            None => Policy::new(),
        };
        policy
            .expect_mr_td(&self.expected_mrtds()?)
            .map_err(usage)?;
        for (index, value) in self.expected_rtmrs()? {
            policy.expect_rtmr(index, value).map_err(usage)?;
        }
        if let Some(text) = &self.expect_mrconfigid {
            policy
                .expect_mr_config_id(hex48(text, "--expect-mrconfigid")?)
                .map_err(usage)?;
        }
        if self.allow_any_workload {
            policy.any_workload = true;
        }
        if !policy.any_workload
            && let Err(missing) = policy.identifies_workload()
        {
            return Err(TdxEvidenceError::Usage(format!(
                "{missing}; give --expect-mrtd with --expect-rtmr N=HEX, --expect-mrconfigid, \
                 --policy FILE, or --allow-any-workload"
            )));
        }
        Ok(policy)
    }
}

/// What a client checks before it connects anywhere: the reference values identify the
/// workload (`Err`: a usage error naming what is missing, exit 2), and an any-workload
/// opt-out is announced on stderr. `token` is the ITA-token path, where `--expect-mrtd` with
/// `--expect-rtmr` (the token's claims) identify the workload.
pub fn require_workload(trust: &TrustArgs, token: bool) -> Result<(), TdxEvidenceError> {
    let any = if token {
        if !trust.allow_any_workload
            && (trust.expect_mrtd.is_empty() || trust.expect_rtmr.is_empty())
        {
            return Err(TdxEvidenceError::Usage(
                "the token's workload is not identified: give --expect-mrtd with --expect-rtmr \
                 N=HEX, or --allow-any-workload"
                    .to_owned(),
            ));
        }
        if trust.policy.is_some() || trust.expect_mrconfigid.is_some() {
            return Err(TdxEvidenceError::Usage(
                "--policy and --expect-mrconfigid apply to quotes, not to --token-jwks".to_owned(),
            ));
        }
        trust.allow_any_workload
    } else {
        let policy = trust.policy()?;
        policy.any_workload && policy.identifies_workload().is_err()
    };
    if any {
        eprintln!(
            "WARNING: accepting ANY workload on a genuine TDX platform (--allow-any-workload or \
             the policy's any_workload): whoever's code the TD runs gets the data"
        );
    }
    Ok(())
}

/// One `--expect-rtmr N=HEX` value: N from 0 to 3, 48 bytes of hex.
pub fn rtmr_pin(text: &str) -> Result<(usize, [u8; 48]), TdxEvidenceError> {
    let (index, value) = text
        .split_once('=')
        .ok_or_else(|| TdxEvidenceError::Usage(format!("--expect-rtmr {text}: not N=HEX")))?;
    let index = index
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|i| *i <= 3)
        .ok_or_else(|| TdxEvidenceError::Usage(format!("--expect-rtmr {text}: N is 0 to 3")))?;
    Ok((index, hex48(value, "--expect-rtmr")?))
}

fn hex48(text: &str, flag: &str) -> Result<[u8; 48], TdxEvidenceError> {
    let mut value = [0; 48];
    hex::decode_to_slice(text.trim(), &mut value)
        .map_err(|_| TdxEvidenceError::Usage(format!("{flag} {text}: not 48 bytes of hex")))?;
    Ok(value)
}

/// The policy of a client that knows a simulated server's MRTD (any of `mr_td`): that and the
/// simulated RTMR3, which identify the simulated workload.
pub fn sim_policy(mr_td: &[[u8; 48]]) -> Policy {
    policy_expecting(mr_td, &[(3, QuoteSpec::default().rtmrs[3])])
}

/// Strict platform rules pinning any of `mr_td` and exactly `rtmrs`: the policy of a client
/// that knows its servers' simulated measurements (mock servers, the pipeline demo).
pub fn policy_expecting(mr_td: &[[u8; 48]], rtmrs: &[(usize, [u8; 48])]) -> Policy {
    let mut policy = Policy::new();
    policy.mr_td.extend(mr_td.iter().copied().map(Hex));
    for (index, value) in rtmrs {
        // Distinct indices 0..=3 from the caller's constants: nothing to refuse.
        let _ = policy.expect_rtmr(*index, *value);
    }
    policy
}

/// Collateral from `file`, or else from `{server}/collateral`.
pub async fn load_collateral(
    server: &str,
    http: &reqwest::Client,
    file: Option<&std::path::Path>,
) -> Result<Collateral, TdxEvidenceError> {
    let json = match file {
        Some(path) => read(path).map_err(TdxEvidenceError::Collateral)?,
        None => fetch_collateral(server, http)
            .await
            .map_err(TdxEvidenceError::Collateral)?,
    };
    Collateral::from_qvl_json(&json).map_err(|e| TdxEvidenceError::Collateral(e.to_string()))
}

fn read(path: &std::path::Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

async fn fetch_collateral(server: &str, http: &reqwest::Client) -> Result<Vec<u8>, String> {
    let url = format!("{}/collateral", server.trim_end_matches('/'));
    let response = http
        .get(&url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| {
            // The whole chain: a refused TLS certificate is named, not only "error sending".
            format!(
                "{url}: {} (give --collateral FILE)",
                crate::error_chain(&e.without_url())
            )
        })?;
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("{url}: {}", crate::error_chain(&e.without_url())))?;
    Ok(body.to_vec())
}

fn unix_seconds(time: SystemTime) -> u64 {
    UnixTime::from(time).as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sim_constants_are_the_sim_quotes_values() {
        let mut rtmr3 = [0; 48];
        hex::decode_to_slice(SIM_RTMR3, &mut rtmr3).unwrap();
        assert_eq!(rtmr3, QuoteSpec::default().rtmrs[3]);
        let mut mrtd = [0; 48];
        hex::decode_to_slice(GATEWAY_SIM_MRTD, &mut mrtd).unwrap();
        assert_eq!(mrtd, [0x6f; 48]);
    }

    fn sim_check(source: &TdxEvidenceSource, mr_td: &[[u8; 48]]) -> TdxCheck {
        let root = source.sim_root_pem().unwrap_or_default();
        let collateral = source.collateral_json().unwrap_or_default();
        TdxCheck::new(
            TrustAnchor::from_pem(root.as_bytes()).unwrap(),
            Collateral::from_qvl_json(collateral.as_bytes()).unwrap(),
            policy_expecting(mr_td, &[(3, QuoteSpec::default().rtmrs[3])]),
            SystemTime::now(),
        )
    }

    #[test]
    fn a_simulated_quote_verifies_and_yields_its_report_data_and_measurements() {
        let source = TdxEvidenceSource::sim([0x11; 48], SystemTime::now()).unwrap();
        let quote = source.quote(&[0x42; 64]).unwrap();
        let verified = sim_check(&source, &[[0x11; 48]]).verify(&quote).unwrap();
        assert_eq!(verified.report_data(), &[0x42; 64]);
        assert_eq!(verified.measurements()["mrtd"], vec![0x11; 48]);
        assert_eq!(verified.tcb_status(), TcbStatus::UpToDate);
        assert_eq!(source.mrtd().unwrap(), [0x11; 48]);
    }

    #[test]
    fn platforms_made_at_one_instant_are_trusted_through_one_root() {
        // Whole seconds apart, as two servers started around a second boundary would be.
        let started = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_790_000_000_999);
        let gateway = TdxEvidenceSource::from_tee(Tee::Sim, [0x11; 48], started).unwrap();
        let proxy = TdxEvidenceSource::from_tee(Tee::Sim, [0x22; 48], started).unwrap();
        let later = started + std::time::Duration::from_millis(1);
        let late_proxy = TdxEvidenceSource::from_tee(Tee::Sim, [0x22; 48], later).unwrap();
        assert_eq!(gateway.sim_root_pem(), proxy.sim_root_pem());
        assert_ne!(gateway.sim_root_pem(), late_proxy.sim_root_pem());

        let check_with_gateway_root = |source: &TdxEvidenceSource, mr_td: [u8; 48]| {
            let root = gateway.sim_root_pem().unwrap_or_default();
            let collateral = source.collateral_json().unwrap_or_default();
            let check = TdxCheck::new(
                TrustAnchor::from_pem(root.as_bytes()).unwrap(),
                Collateral::from_qvl_json(collateral.as_bytes()).unwrap(),
                policy_expecting(&[mr_td], &[(3, QuoteSpec::default().rtmrs[3])]),
                later,
            );
            check.verify(&source.quote(&[0x42; 64]).unwrap())
        };
        assert!(check_with_gateway_root(&proxy, [0x22; 48]).is_ok());
        assert!(check_with_gateway_root(&late_proxy, [0x22; 48]).is_err());
    }

    #[test]
    fn another_mrtd_is_refused_by_the_policy() {
        let source = TdxEvidenceSource::sim([0x11; 48], SystemTime::now()).unwrap();
        let quote = source.quote(&[0x42; 64]).unwrap();
        let error = sim_check(&source, &[[0x22; 48]])
            .verify(&quote)
            .unwrap_err();
        assert!(matches!(error, TdxEvidenceError::Policy(_)), "{error}");
        assert!(error.to_string().contains("MRTD"), "{error}");
    }

    #[test]
    fn intel_root_refuses_simulated_quotes() {
        let source = TdxEvidenceSource::sim([0x11; 48], SystemTime::now()).unwrap();
        let quote = source.quote(&[0x42; 64]).unwrap();
        let check = TdxCheck::new(
            TrustAnchor::intel_sgx_root(),
            Collateral::from_qvl_json(source.collateral_json().unwrap_or_default().as_bytes())
                .unwrap(),
            Policy::any_workload(),
            SystemTime::now(),
        );
        let error = check.verify(&quote).unwrap_err();
        assert!(matches!(error, TdxEvidenceError::Verify(_)), "{error}");
    }

    #[test]
    fn a_tampered_quote_is_refused() {
        let source = TdxEvidenceSource::sim([0x11; 48], SystemTime::now()).unwrap();
        let mut quote = source.quote(&[0x42; 64]).unwrap();
        // Flip one REPORTDATA byte: the quote signature no longer covers the body.
        quote[48 + 520] ^= 1;
        let error = sim_check(&source, &[]).verify(&quote).unwrap_err();
        assert!(matches!(error, TdxEvidenceError::Verify(_)), "{error}");
        assert!(sim_check(&source, &[]).verify(&quote[..100]).is_err());
    }
}
