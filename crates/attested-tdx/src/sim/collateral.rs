//! Collateral of the simulated platform in Intel PCS format (TCB Info v3 for TDX, QE Identity
//! v2 for TD_QE, issuer chains, CRLs) and in dcap-qvl's `QuoteCollateralV3` JSON shape.

use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use serde::Serialize;

use super::pki::DAY;
use super::{SimConfig, SimError};

/// A TCB status as Intel's TCB Info and QE Identity spell it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum TcbLevelStatus {
    /// The platform is up to date.
    #[default]
    UpToDate,
    /// Up to date, but software hardening is needed.
    SWHardeningNeeded,
    /// Up to date, but the platform configuration is needed.
    ConfigurationNeeded,
    /// Configuration and software hardening are needed.
    ConfigurationAndSWHardeningNeeded,
    /// The TCB is out of date.
    OutOfDate,
    /// Out of date, and the platform configuration is needed.
    OutOfDateConfigurationNeeded,
    /// The TCB is revoked.
    Revoked,
}

impl TcbLevelStatus {
    /// The status as it appears in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::UpToDate => "UpToDate",
            Self::SWHardeningNeeded => "SWHardeningNeeded",
            Self::ConfigurationNeeded => "ConfigurationNeeded",
            Self::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            Self::OutOfDate => "OutOfDate",
            Self::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            Self::Revoked => "Revoked",
        }
    }
}

/// The simulated platform's collateral as Intel PCS serves it: the JSON response bodies, the
/// issuer chains (PCS sends them URL-encoded in response headers; here plain PEM, leaf first)
/// and the DER CRLs.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct PcsCollateral {
    /// `GET /tdx/certification/v4/tcb` body: `{"tcbInfo":{...},"signature":"<hex r||s>"}`.
    pub tcb_info_json: String,
    /// The exact `tcbInfo` object bytes inside [`tcb_info_json`](Self::tcb_info_json) that the
    /// signature covers.
    pub tcb_info: String,
    /// The TCB Info signature, raw r||s.
    pub tcb_info_signature: [u8; 64],
    /// `TCB-Info-Issuer-Chain`: TCB signing certificate, then root CA (PEM).
    pub tcb_info_issuer_chain: String,
    /// `GET /tdx/certification/v4/qe/identity` body:
    /// `{"enclaveIdentity":{...},"signature":"<hex r||s>"}`.
    pub qe_identity_json: String,
    /// The exact `enclaveIdentity` object bytes that the signature covers.
    pub qe_identity: String,
    /// The QE Identity signature, raw r||s.
    pub qe_identity_signature: [u8; 64],
    /// `SGX-Enclave-Identity-Issuer-Chain`: TCB signing certificate, then root CA (PEM).
    pub qe_identity_issuer_chain: String,
    /// Root CA CRL (DER), issued by the root CA.
    pub root_ca_crl: Vec<u8>,
    /// PCK CRL for `ca=platform` (DER), issued by the PCK platform CA.
    pub pck_crl: Vec<u8>,
    /// `SGX-PCK-CRL-Issuer-Chain`: PCK platform CA, then root CA (PEM).
    pub pck_crl_issuer_chain: String,
}

impl PcsCollateral {
    /// The collateral in dcap-qvl's `QuoteCollateralV3` JSON shape: CRLs and signatures as
    /// lowercase hex, TCB Info and QE Identity as the signed JSON object strings, issuer chains
    /// as PEM.
    pub fn to_dcap_qvl_json(&self) -> Result<String, SimError> {
        let shape = DcapQvlCollateral {
            pck_crl_issuer_chain: &self.pck_crl_issuer_chain,
            root_ca_crl: hex::encode(&self.root_ca_crl),
            pck_crl: hex::encode(&self.pck_crl),
            tcb_info_issuer_chain: &self.tcb_info_issuer_chain,
            tcb_info: &self.tcb_info,
            tcb_info_signature: hex::encode(self.tcb_info_signature),
            qe_identity_issuer_chain: &self.qe_identity_issuer_chain,
            qe_identity: &self.qe_identity,
            qe_identity_signature: hex::encode(self.qe_identity_signature),
        };
        Ok(serde_json::to_string(&shape)?)
    }

    /// The PCS responses as the verifier's [`PcsCollateral`](crate::collateral::PcsCollateral) reads them.
    pub fn responses(&self) -> crate::collateral_data::PcsCollateral<'_> {
        crate::collateral_data::PcsCollateral {
            tcb_info_response: self.tcb_info_json.as_bytes(),
            tcb_info_issuer_chain: self.tcb_info_issuer_chain.as_bytes(),
            qe_identity_response: self.qe_identity_json.as_bytes(),
            qe_identity_issuer_chain: self.qe_identity_issuer_chain.as_bytes(),
            pck_crl: &self.pck_crl,
            pck_crl_issuer_chain: self.pck_crl_issuer_chain.as_bytes(),
            root_ca_crl: &self.root_ca_crl,
        }
    }
}

#[derive(Serialize)]
struct DcapQvlCollateral<'a> {
    pck_crl_issuer_chain: &'a str,
    root_ca_crl: String,
    pck_crl: String,
    tcb_info_issuer_chain: &'a str,
    tcb_info: &'a str,
    tcb_info_signature: String,
    qe_identity_issuer_chain: &'a str,
    qe_identity: &'a str,
    qe_identity_signature: String,
}

// The JSON structures, fields in Intel's order (serde_json writes them in declaration order).

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TcbInfo {
    id: &'static str,
    version: u32,
    issue_date: String,
    next_update: String,
    fmspc: String,
    pce_id: String,
    tcb_type: u32,
    tcb_evaluation_data_number: u32,
    tdx_module: TdxModule,
    tdx_module_identities: Vec<TdxModuleIdentity>,
    tcb_levels: Vec<TcbLevel>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TdxModule {
    mrsigner: String,
    attributes: String,
    attributes_mask: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TdxModuleIdentity {
    id: String,
    mrsigner: String,
    attributes: String,
    attributes_mask: String,
    tcb_levels: Vec<IsvSvnLevel>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IsvSvnLevel {
    tcb: IsvSvn,
    tcb_date: String,
    tcb_status: TcbLevelStatus,
    #[serde(rename = "advisoryIDs", skip_serializing_if = "Vec::is_empty")]
    advisory_ids: Vec<String>,
}

#[derive(Serialize)]
struct IsvSvn {
    isvsvn: u16,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TcbLevel {
    tcb: Tcb,
    tcb_date: String,
    tcb_status: TcbLevelStatus,
    #[serde(rename = "advisoryIDs", skip_serializing_if = "Vec::is_empty")]
    advisory_ids: Vec<String>,
}

#[derive(Serialize)]
struct Tcb {
    sgxtcbcomponents: Vec<Svn>,
    pcesvn: u16,
    tdxtcbcomponents: Vec<Svn>,
}

#[derive(Serialize)]
struct Svn {
    svn: u8,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct QeIdentity {
    id: &'static str,
    version: u32,
    issue_date: String,
    next_update: String,
    tcb_evaluation_data_number: u32,
    miscselect: &'static str,
    miscselect_mask: &'static str,
    attributes: &'static str,
    attributes_mask: &'static str,
    mrsigner: String,
    isvprodid: u16,
    tcb_levels: Vec<IsvSvnLevel>,
}

/// The QE values that the QE Identity pins.
pub(crate) struct QeValues<'a> {
    pub(crate) mr_signer: &'a [u8; 32],
    pub(crate) isv_prod_id: u16,
}

/// Dates of one collateral issue.
pub(crate) struct Dates {
    pub(crate) issued: u64,
    pub(crate) next_update: u64,
    pub(crate) now: u64,
}

/// A TCB level as old as this is out of date in the simulated TCB Info.
const OLD_LEVEL_AGE: u64 = 365 * DAY;
/// The current TCB level dates from this long before `now`.
const CURRENT_LEVEL_AGE: u64 = 30 * DAY;

pub(crate) fn tcb_info(config: &SimConfig, dates: &Dates) -> Result<String, SimError> {
    let current_date = midnight(dates.now.saturating_sub(CURRENT_LEVEL_AGE))?;
    let old_date = midnight(dates.now.saturating_sub(OLD_LEVEL_AGE))?;
    let svns = |bytes: &[u8; 16]| bytes.iter().map(|&svn| Svn { svn }).collect::<Vec<_>>();
    let module_svn = config.tee_tcb_svn[0];
    let module_mrsigner = hex::encode_upper(config.mr_signer_seam);
    let module_attributes = hex::encode_upper(config.seam_attributes.to_le_bytes());
    let attributes_mask = "FFFFFFFFFFFFFFFF";
    let info = TcbInfo {
        id: "TDX",
        version: 3,
        issue_date: rfc3339(dates.issued)?,
        next_update: rfc3339(dates.next_update)?,
        fmspc: hex::encode(config.fmspc),
        pce_id: hex::encode(config.pce_id),
        tcb_type: 0,
        tcb_evaluation_data_number: config.tcb_evaluation_data_number,
        tdx_module: TdxModule {
            mrsigner: module_mrsigner.clone(),
            attributes: module_attributes.clone(),
            attributes_mask: attributes_mask.to_owned(),
        },
        tdx_module_identities: module_identity_ids(config)
            .into_iter()
            .map(|id| TdxModuleIdentity {
                id,
                mrsigner: module_mrsigner.clone(),
                attributes: module_attributes.clone(),
                attributes_mask: attributes_mask.to_owned(),
                tcb_levels: vec![
                    IsvSvnLevel {
                        tcb: IsvSvn {
                            isvsvn: module_svn.into(),
                        },
                        tcb_date: current_date.clone(),
                        tcb_status: TcbLevelStatus::UpToDate,
                        advisory_ids: Vec::new(),
                    },
                    IsvSvnLevel {
                        tcb: IsvSvn { isvsvn: 0 },
                        tcb_date: old_date.clone(),
                        tcb_status: TcbLevelStatus::OutOfDate,
                        advisory_ids: Vec::new(),
                    },
                ],
            })
            .collect(),
        tcb_levels: vec![
            TcbLevel {
                tcb: Tcb {
                    sgxtcbcomponents: svns(&config.cpu_svn),
                    pcesvn: config.pce_svn,
                    tdxtcbcomponents: svns(&config.tee_tcb_svn),
                },
                tcb_date: current_date,
                tcb_status: config.tcb_status,
                advisory_ids: config.advisory_ids.clone(),
            },
            // Every platform that is not even at SVN 0 is out of date.
            TcbLevel {
                tcb: Tcb {
                    sgxtcbcomponents: svns(&[0; 16]),
                    pcesvn: 0,
                    tdxtcbcomponents: svns(&[0; 16]),
                },
                tcb_date: old_date,
                tcb_status: TcbLevelStatus::OutOfDate,
                advisory_ids: Vec::new(),
            },
        ],
    };
    Ok(serde_json::to_string(&info)?)
}

/// The `id`s of the module identities: the configured ones, or `TDX_hh` of the module version.
fn module_identity_ids(config: &SimConfig) -> Vec<String> {
    if config.tdx_module_identity_ids.is_empty() {
        vec![format!("TDX_{:02X}", config.tee_tcb_svn[1])]
    } else {
        config.tdx_module_identity_ids.clone()
    }
}

pub(crate) fn qe_identity(
    config: &SimConfig,
    qe: &QeValues<'_>,
    dates: &Dates,
) -> Result<String, SimError> {
    let current_date = midnight(dates.now.saturating_sub(CURRENT_LEVEL_AGE))?;
    let old_date = midnight(dates.now.saturating_sub(OLD_LEVEL_AGE))?;
    let identity = QeIdentity {
        id: "TD_QE",
        version: 2,
        issue_date: rfc3339(dates.issued)?,
        next_update: rfc3339(dates.next_update)?,
        tcb_evaluation_data_number: config
            .qe_tcb_evaluation_data_number
            .unwrap_or(config.tcb_evaluation_data_number),
        miscselect: "00000000",
        miscselect_mask: "FFFFFFFF",
        attributes: "11000000000000000000000000000000",
        attributes_mask: "FBFFFFFFFFFFFFFF0000000000000000",
        mrsigner: hex::encode_upper(qe.mr_signer),
        isvprodid: qe.isv_prod_id,
        tcb_levels: vec![
            IsvSvnLevel {
                tcb: IsvSvn {
                    isvsvn: config.qe_svn,
                },
                tcb_date: current_date,
                tcb_status: config.qe_tcb_status,
                advisory_ids: Vec::new(),
            },
            IsvSvnLevel {
                tcb: IsvSvn { isvsvn: 0 },
                tcb_date: old_date,
                tcb_status: TcbLevelStatus::OutOfDate,
                advisory_ids: Vec::new(),
            },
        ],
    };
    Ok(serde_json::to_string(&identity)?)
}

/// Signs the exact bytes of a JSON object and wraps it in a PCS response body
/// `{"<field>":<object>,"signature":"<hex r||s>"}`.
pub(crate) fn sign_json(
    key: &SigningKey,
    field: &str,
    object: &str,
) -> Result<(String, [u8; 64]), SimError> {
    let signature: Signature = key
        .try_sign(object.as_bytes())
        .map_err(|_| SimError::Signing { what: "collateral" })?;
    let raw: [u8; 64] = signature.to_bytes().into();
    let body = format!(
        r#"{{"{field}":{object},"signature":"{}"}}"#,
        hex::encode(raw)
    );
    Ok((body, raw))
}

/// `YYYY-MM-DDThh:mm:ssZ`, as Intel's collateral writes dates.
pub(crate) fn rfc3339(unix_secs: u64) -> Result<String, SimError> {
    let t = super::pki::x509_time(unix_secs)?.to_date_time();
    Ok(format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minutes(),
        t.seconds()
    ))
}

/// The start of the day of `unix_secs`, as Intel's `tcbDate` values are.
fn midnight(unix_secs: u64) -> Result<String, SimError> {
    rfc3339(unix_secs - unix_secs % DAY)
}
