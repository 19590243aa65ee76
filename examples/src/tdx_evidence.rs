//! TDX evidence for the example servers and clients, shared by the Noise and OHTTP examples.
//!
//! Servers get quotes with the REPORTDATA they need from attested-tdx's [`QuoteSource`]:
//! `--tee sim` is `attested-tdx`'s simulated platform (a test PKI of its own, NOT a TEE),
//! `--tee tdx` is Linux configfs-tsm on real hardware ([`quote_source`]). A simulated server
//! also serves its root certificate (`GET /sim/root`, PEM) and, either way when known, the
//! collateral (`GET /collateral`, dcap-qvl JSON); see [`trust_routes`].
//!
//! Clients check quotes with attested-tdx's [`TdxAppraiser`] ([`TrustArgs::appraiser`]): DCAP
//! verification against a trust anchor (Intel's SGX root by default; a simulated root only when
//! the user names its file with `--trust-sim-root`) and collateral (a file, or fetched from the
//! server: collateral is signed under the same anchor, so where it comes from does not
//! matter), then appraisal with a [`Policy`]. REPORTDATA and measurements come from the
//! verified quote only.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

use attested_tdx::policy::{Hex, RtmrPin};
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::tsm::{ConfigfsTsm, QuoteSource, QuoteSourceError};
use attested_tdx::{Collateral, Policy, TdxAppraiser, TrustAnchor, UnixTime, Verifier};

/// Where a server's quotes come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Tee {
    /// `attested-tdx`'s simulated TDX platform: a test PKI, NOT a TEE. Clients must be told
    /// explicitly to trust its root (`--trust-sim-root FILE`).
    Sim,
    /// Intel TDX through Linux configfs-tsm (real hardware).
    Tdx,
}

/// Why evidence could not be produced or checked. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TdxEvidenceError {
    /// The quote source (simulated platform or configfs-tsm) failed.
    #[error("{0}")]
    Source(#[from] QuoteSourceError),
    /// The collateral does not parse or cannot be read.
    #[error("collateral: {0}")]
    Collateral(String),
    /// The trust anchor cannot be read.
    #[error("trust anchor: {0}")]
    Anchor(String),
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

/// The largest collateral answer read from a server: Intel's collateral for one platform
/// (TCB Info, QE Identity, two CRLs and their chains, in JSON) is tens of kilobytes.
const MAX_COLLATERAL_LEN: usize = 4 << 20;

/// A simulated platform (certificates and collateral valid around `now`) whose quotes carry
/// `mr_td`. Simulated platforms made at the same `now` (to the second) share one root, so a
/// client trusts them all through one anchor.
pub fn sim_quote_source(mr_td: [u8; 48], now: SystemTime) -> Result<QuoteSource, TdxEvidenceError> {
    let platform = SimPlatform::from_seed(SIM_SEED, UnixTime::from(now).as_secs())
        .map_err(QuoteSourceError::from)?;
    let spec = QuoteSpec {
        mr_td,
        td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
        ..platform.quote_spec(QuoteFormat::V4)
    };
    Ok(QuoteSource::simulated(platform, spec))
}

/// The source `--tee` names; a simulated platform reports `sim_mr_td` and is valid around `now`
/// ([`sim_quote_source`]).
pub fn quote_source(
    tee: Tee,
    sim_mr_td: [u8; 48],
    now: SystemTime,
) -> Result<QuoteSource, TdxEvidenceError> {
    match tee {
        Tee::Sim => sim_quote_source(sim_mr_td, now),
        Tee::Tdx => Ok(QuoteSource::configfs_tsm(ConfigfsTsm::new())?),
    }
}

/// What servers report as their `tee_type`.
pub fn tee_type(source: &QuoteSource) -> &'static str {
    if source.is_simulated() {
        "tdx-sim (simulated platform, NOT a TEE)"
    } else {
        "tdx"
    }
}

/// `GET /sim/root` (PEM) and `GET /collateral` (JSON), 404 where the source has none (on
/// hardware, quotes chain to Intel's root and clients fetch collateral from Intel PCS). Merge
/// into a server's router.
pub fn trust_routes(source: Arc<QuoteSource>) -> axum::Router {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let root = source.clone();
    axum::Router::new()
        .route(
            "/sim/root",
            axum::routing::get(move || async move {
                match root.sim_platform() {
                    Some(platform) => (
                        [(header::CONTENT_TYPE, "application/x-pem-file")],
                        platform.root_certificate_pem().to_owned(),
                    )
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
        .route(
            "/collateral",
            axum::routing::get(move || async move {
                match source.sim_platform() {
                    Some(platform) => (
                        [(header::CONTENT_TYPE, "application/json")],
                        platform.collateral_dcap_qvl_json().to_owned(),
                    )
                        .into_response(),
                    None => StatusCode::NOT_FOUND.into_response(),
                }
            }),
        )
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
    /// identify the workload (MRTD with an RTMR, MRCONFIGID, or a policy file; for a Nitro
    /// document PCR0, PCR2 or PCR8).
    #[arg(long)]
    pub allow_any_workload: bool,
}

impl TrustArgs {
    /// The appraiser for `policy` (resolved once by [`require_workload`]) under the trust
    /// anchor the options name, and a description of the anchor (for reports), fetching the
    /// collateral from `{server}/collateral` when no file was given.
    pub async fn appraiser(
        &self,
        policy: Policy,
        server: &str,
        http: &reqwest::Client,
    ) -> Result<(TdxAppraiser, String), TdxEvidenceError> {
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
        let collateral = load_collateral(server, http, self.collateral.as_deref()).await?;
        let appraiser = TdxAppraiser::new(Verifier::new(anchor), collateral, policy);
        Ok((appraiser, description))
    }

    /// The `--expect-mrtd` values.
    pub fn expected_mrtds(&self) -> Result<Vec<[u8; 48]>, TdxEvidenceError> {
        self.expect_mrtd
            .iter()
            .map(|text| measurement(text, "--expect-mrtd"))
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
    fn policy(&self) -> Result<Policy, TdxEvidenceError> {
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
                .expect_mr_config_id(measurement(text, "--expect-mrconfigid")?)
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

/// What a client appraises the server with, resolved once from its options.
#[derive(Clone, Debug)]
pub enum ClientPolicy {
    /// Quotes, verified by DCAP under the options' trust anchor ([`TrustArgs::appraiser`]).
    Quote(Box<Policy>),
    /// ITA tokens (`--token-jwks`), verified by attested-token.
    Token(Box<attested_token::ita::ItaPolicy>),
}

/// What a client checks before it connects anywhere, and the policy it then appraises with:
/// the reference values identify the workload (`Err`: a usage error naming what is missing,
/// exit 2), and an any-workload opt-out is announced on stderr. `token` is the ITA-token
/// path, where the token policy built from `--expect-mrtd` and `--expect-rtmr` must identify
/// the workload (attested-token's rule,
/// [`attested_token::ita::ItaPolicy::identifies_workload`]). The files and values are read
/// here only.
pub fn require_workload(trust: &TrustArgs, token: bool) -> Result<ClientPolicy, TdxEvidenceError> {
    let (any, policy) = if token {
        if trust.policy.is_some() || trust.expect_mrconfigid.is_some() {
            return Err(TdxEvidenceError::Usage(
                "--policy and --expect-mrconfigid apply to quotes, not to --token-jwks".to_owned(),
            ));
        }
        let policy = crate::ita_evidence::token_policy(
            &trust.expected_mrtds()?,
            &trust.expected_rtmrs()?,
            trust.allow_any_workload,
        );
        let identified = policy.identifies_workload();
        if let Err(missing) = &identified
            && !policy.accepts_any_workload()
        {
            return Err(TdxEvidenceError::Usage(format!(
                "ITA token: {missing}; give --expect-mrtd with --expect-rtmr N=HEX, or \
                 --allow-any-workload"
            )));
        }
        (identified.is_err(), ClientPolicy::Token(Box::new(policy)))
    } else {
        let policy = trust.policy()?;
        let any = policy.any_workload && policy.identifies_workload().is_err();
        (any, ClientPolicy::Quote(Box::new(policy)))
    };
    if any {
        eprintln!(
            "WARNING: accepting ANY workload on a genuine TDX platform (--allow-any-workload or \
             the policy's any_workload): whoever's code the TD runs gets the data"
        );
    }
    Ok(policy)
}

/// One `--expect-rtmr N=HEX` value: N from 0 to 3, 48 bytes of hex (attested-tdx's
/// [`RtmrPin`]).
pub fn rtmr_pin(text: &str) -> Result<(usize, [u8; 48]), TdxEvidenceError> {
    let pin: RtmrPin = text
        .parse()
        .map_err(|e| TdxEvidenceError::Usage(format!("--expect-rtmr {text}: {e}")))?;
    Ok((pin.index(), pin.value()))
}

/// One 48-byte measurement given as hex to `flag`.
fn measurement(text: &str, flag: &str) -> Result<[u8; 48], TdxEvidenceError> {
    let value: Hex<48> = text
        .parse()
        .map_err(|e| TdxEvidenceError::Usage(format!("{flag} {text}: {e}")))?;
    Ok(value.0)
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
    crate::tls::read_capped(response, MAX_COLLATERAL_LEN)
        .await
        .map_err(|e| format!("{url}: {e}"))
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

    /// An appraiser trusting `root_of`'s simulated root with `source`'s collateral, expecting
    /// any of `mr_td` and the simulated RTMR3 ([`sim_policy`]).
    fn sim_appraiser(
        root_of: &QuoteSource,
        source: &QuoteSource,
        mr_td: &[[u8; 48]],
    ) -> TdxAppraiser {
        let root = root_of.sim_platform().unwrap().root_certificate_pem();
        let collateral = source.sim_platform().unwrap().collateral_dcap_qvl_json();
        TdxAppraiser::new(
            Verifier::new(TrustAnchor::from_pem(root.as_bytes()).unwrap()),
            Collateral::from_qvl_json(collateral.as_bytes()).unwrap(),
            sim_policy(mr_td),
        )
    }

    #[test]
    fn the_example_servers_simulated_quotes_pass_the_sim_policy() {
        let now = SystemTime::now();
        let source = quote_source(Tee::Sim, [0x11; 48], now).unwrap();
        assert_eq!(tee_type(&source), "tdx-sim (simulated platform, NOT a TEE)");
        let quote = source.quote(&[0x42; 64]).unwrap();
        let accepted = sim_appraiser(&source, &source, &[[0x11; 48]])
            .appraise_quote(&quote, now.into())
            .unwrap();
        assert_eq!(accepted.accepted().report_data().as_bytes(), &[0x42; 64]);
        assert!(
            sim_appraiser(&source, &source, &[[0x22; 48]])
                .appraise_quote(&quote, now.into())
                .is_err()
        );
    }

    #[test]
    fn platforms_made_at_one_instant_are_trusted_through_one_root() {
        // Whole seconds apart, as two servers started around a second boundary would be.
        let started = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(1_790_000_000_999);
        let gateway = quote_source(Tee::Sim, [0x11; 48], started).unwrap();
        let proxy = quote_source(Tee::Sim, [0x22; 48], started).unwrap();
        let later = started + std::time::Duration::from_millis(1);
        let late_proxy = quote_source(Tee::Sim, [0x22; 48], later).unwrap();
        let root = |source: &QuoteSource| {
            source
                .sim_platform()
                .unwrap()
                .root_certificate_pem()
                .to_owned()
        };
        assert_eq!(root(&gateway), root(&proxy));
        assert_ne!(root(&gateway), root(&late_proxy));

        let check_with_gateway_root = |source: &QuoteSource, mr_td: [u8; 48]| {
            sim_appraiser(&gateway, source, &[mr_td])
                .appraise_quote(&source.quote(&[0x42; 64]).unwrap(), later.into())
        };
        assert!(check_with_gateway_root(&proxy, [0x22; 48]).is_ok());
        assert!(check_with_gateway_root(&late_proxy, [0x22; 48]).is_err());
    }

    #[test]
    fn command_line_values_name_their_flag() {
        let hex48 = "11".repeat(48);
        assert_eq!(rtmr_pin(&format!("2={hex48}")).unwrap(), (2, [0x11; 48]));
        for (text, expected) in [
            (hex48.clone(), format!("--expect-rtmr {hex48}: not N=HEX")),
            (
                format!("4={hex48}"),
                format!("--expect-rtmr 4={hex48}: N is 0 to 3"),
            ),
            (
                "1=abcd".to_owned(),
                "--expect-rtmr 1=abcd: not 48 bytes of hex".to_owned(),
            ),
        ] {
            assert_eq!(rtmr_pin(&text).unwrap_err().to_string(), expected);
        }
        assert_eq!(
            measurement("abcd", "--expect-mrtd")
                .unwrap_err()
                .to_string(),
            "--expect-mrtd abcd: not 48 bytes of hex"
        );
    }
}
