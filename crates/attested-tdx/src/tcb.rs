//! TCB Info (v3, TDX) and QE Identity (TD_QE): parsing and TCB level matching, after Intel's
//! QVL (levels ordered by their components, TDX module identities selected by the module
//! version in TEE_TCB_SVN[1], statuses converged with the QE and the module).

use core::fmt;
use core::str::FromStr;

use std::borrow::Cow;

use serde::Deserialize;

use crate::errors::{Item, VerifyError};
use crate::time::UnixTime;

/// A TCB status as Intel's collateral and QVL name it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, Deserialize,
)]
#[non_exhaustive]
pub enum TcbStatus {
    /// The platform is patched to the latest TCB.
    UpToDate,
    /// Up to date, but software hardening is needed against some advisories.
    SWHardeningNeeded,
    /// Up to date, but the platform configuration needs changes.
    ConfigurationNeeded,
    /// Both of the above.
    ConfigurationAndSWHardeningNeeded,
    /// The TCB is out of date.
    OutOfDate,
    /// Out of date, and the configuration needs changes.
    OutOfDateConfigurationNeeded,
    /// TD 1.5: launched on an out-of-date TCB, but the current TCB is not out of date.
    TDRelaunchAdvised,
    /// TD 1.5: as above, and configuration is needed.
    TDRelaunchAdvisedConfigurationNeeded,
    /// The platform's keys are revoked.
    Revoked,
}

impl TcbStatus {
    /// Every status, for parsing and listing.
    pub const ALL: [TcbStatus; 9] = [
        TcbStatus::UpToDate,
        TcbStatus::SWHardeningNeeded,
        TcbStatus::ConfigurationNeeded,
        TcbStatus::ConfigurationAndSWHardeningNeeded,
        TcbStatus::OutOfDate,
        TcbStatus::OutOfDateConfigurationNeeded,
        TcbStatus::TDRelaunchAdvised,
        TcbStatus::TDRelaunchAdvisedConfigurationNeeded,
        TcbStatus::Revoked,
    ];

    /// Intel's name of the status.
    pub fn as_str(self) -> &'static str {
        match self {
            TcbStatus::UpToDate => "UpToDate",
            TcbStatus::SWHardeningNeeded => "SWHardeningNeeded",
            TcbStatus::ConfigurationNeeded => "ConfigurationNeeded",
            TcbStatus::ConfigurationAndSWHardeningNeeded => "ConfigurationAndSWHardeningNeeded",
            TcbStatus::OutOfDate => "OutOfDate",
            TcbStatus::OutOfDateConfigurationNeeded => "OutOfDateConfigurationNeeded",
            TcbStatus::TDRelaunchAdvised => "TDRelaunchAdvised",
            TcbStatus::TDRelaunchAdvisedConfigurationNeeded => {
                "TDRelaunchAdvisedConfigurationNeeded"
            }
            TcbStatus::Revoked => "Revoked",
        }
    }

    /// Converges a platform status with a QE or TDX module status (QVL's
    /// `convergeTcbStatuses`): only an `OutOfDate` or `Revoked` component changes it.
    pub(crate) fn converge_with(self, component: TcbStatus) -> TcbStatus {
        use TcbStatus::*;
        match (component, self) {
            (Revoked, _) => Revoked,
            (OutOfDate, UpToDate | SWHardeningNeeded) => OutOfDate,
            (OutOfDate, ConfigurationNeeded | ConfigurationAndSWHardeningNeeded) => {
                OutOfDateConfigurationNeeded
            }
            _ => self,
        }
    }

    /// What a QE Identity level counts for in convergence. QVL's `EnclaveReportVerifier::verify`
    /// (`EnclaveReportVerifier.cpp:92-103`) reports any QE level that is not `UpToDate` as
    /// `ISVSVN_OUT_OF_DATE` (only `Revoked` keeps its own code), so a QE level of
    /// `ConfigurationNeeded` or `OutOfDateConfigurationNeeded` makes the quote `OutOfDate`.
    pub(crate) fn as_qe_component(self) -> TcbStatus {
        match self {
            TcbStatus::UpToDate => TcbStatus::UpToDate,
            TcbStatus::Revoked => TcbStatus::Revoked,
            _ => TcbStatus::OutOfDate,
        }
    }

    /// QVL's `isConfigurationNeeded` (`TDRelaunchCheck.cpp:39-50`).
    fn needs_configuration(self) -> bool {
        matches!(
            self,
            TcbStatus::ConfigurationNeeded
                | TcbStatus::OutOfDateConfigurationNeeded
                | TcbStatus::ConfigurationAndSWHardeningNeeded
                | TcbStatus::TDRelaunchAdvisedConfigurationNeeded
        )
    }
}

impl fmt::Display for TcbStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TcbStatus {
    type Err = UnknownTcbStatus;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        TcbStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == s)
            .ok_or_else(|| UnknownTcbStatus(s.to_owned()))
    }
}

/// A TCB status name that Intel does not define.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TCB status {0:?}")]
pub struct UnknownTcbStatus(pub String);

/// Rejects a status that Intel's QVL does not allow in the collateral structure it came from.
fn check_status(
    status: TcbStatus,
    allowed: &[TcbStatus],
    item: Item,
    structure: &str,
) -> Result<(), VerifyError> {
    if allowed.contains(&status) {
        return Ok(());
    }
    Err(VerifyError::WrongCollateral {
        item,
        reason: format!("TCB status {status} is not valid in {structure}"),
    })
}

const PLATFORM_STATUSES: &[TcbStatus] = &[
    TcbStatus::UpToDate,
    TcbStatus::SWHardeningNeeded,
    TcbStatus::ConfigurationNeeded,
    TcbStatus::ConfigurationAndSWHardeningNeeded,
    TcbStatus::OutOfDate,
    TcbStatus::OutOfDateConfigurationNeeded,
    TcbStatus::Revoked,
];
const MODULE_STATUSES: &[TcbStatus] = &[
    TcbStatus::UpToDate,
    TcbStatus::OutOfDate,
    TcbStatus::Revoked,
];
const QE_STATUSES: &[TcbStatus] = &[
    TcbStatus::UpToDate,
    TcbStatus::ConfigurationNeeded,
    TcbStatus::OutOfDate,
    TcbStatus::OutOfDateConfigurationNeeded,
    TcbStatus::Revoked,
];

/// A status with the advisories that explain it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Assessed {
    pub(crate) status: TcbStatus,
    pub(crate) advisory_ids: Vec<String>,
    pub(crate) tcb_date: UnixTime,
}

impl Assessed {
    /// Converges with a QE or TDX module level: status, advisories, and the older date (the
    /// date that dates the whole TCB is that of its oldest part, as QVL's `tcbLevelDateTag`).
    fn merge(&mut self, other: &Assessed) {
        self.status = self.status.converge_with(other.status);
        self.tcb_date = self.tcb_date.min(other.tcb_date);
        for id in &other.advisory_ids {
            if !self.advisory_ids.contains(id) {
                self.advisory_ids.push(id.clone());
            }
        }
    }
}

/// The matched platform level: the TDX level converged with the TDX module, plus what QVL's
/// `checkForRelaunch` reads besides it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PlatformLevel {
    pub(crate) assessed: Assessed,
    /// The status of the SGX level (the first whose SGX components and PCESVN are met).
    sgx_status: TcbStatus,
    /// The TDX module level's status; `None` for module version 0 (QVL: `STATUS_OK`).
    module_status: Option<TcbStatus>,
}

// ---------------------------------------------------------------------------------------------
// JSON models (only the fields verification uses; Intel adds descriptive ones freely).

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TcbInfoJson<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    version: u32,
    #[serde(borrow)]
    issue_date: Cow<'a, str>,
    #[serde(borrow)]
    next_update: Cow<'a, str>,
    #[serde(borrow)]
    fmspc: Cow<'a, str>,
    #[serde(borrow)]
    pce_id: Cow<'a, str>,
    tcb_evaluation_data_number: u32,
    #[serde(borrow, default)]
    tdx_module: Option<ModuleJson<'a>>,
    #[serde(borrow, default)]
    tdx_module_identities: Vec<ModuleIdentityJson<'a>>,
    #[serde(borrow)]
    tcb_levels: Vec<TcbLevelJson<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModuleJson<'a> {
    #[serde(borrow)]
    mrsigner: Cow<'a, str>,
    #[serde(borrow)]
    attributes: Cow<'a, str>,
    #[serde(borrow)]
    attributes_mask: Cow<'a, str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ModuleIdentityJson<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    mrsigner: Cow<'a, str>,
    #[serde(borrow)]
    attributes: Cow<'a, str>,
    #[serde(borrow)]
    attributes_mask: Cow<'a, str>,
    #[serde(borrow)]
    tcb_levels: Vec<IsvLevelJson<'a>>,
}

#[derive(Deserialize)]
struct Svn {
    svn: u8,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TcbJson {
    sgxtcbcomponents: Vec<Svn>,
    pcesvn: u16,
    #[serde(default)]
    tdxtcbcomponents: Vec<Svn>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TcbLevelJson<'a> {
    tcb: TcbJson,
    #[serde(borrow)]
    tcb_date: Cow<'a, str>,
    tcb_status: TcbStatus,
    #[serde(rename = "advisoryIDs", default)]
    advisory_ids: Vec<String>,
}

#[derive(Deserialize)]
struct IsvSvn {
    isvsvn: u16,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IsvLevelJson<'a> {
    tcb: IsvSvn,
    #[serde(borrow)]
    tcb_date: Cow<'a, str>,
    tcb_status: TcbStatus,
    #[serde(rename = "advisoryIDs", default)]
    advisory_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QeIdentityJson<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    version: u32,
    #[serde(borrow)]
    issue_date: Cow<'a, str>,
    #[serde(borrow)]
    next_update: Cow<'a, str>,
    tcb_evaluation_data_number: u32,
    #[serde(borrow)]
    miscselect: Cow<'a, str>,
    #[serde(borrow)]
    miscselect_mask: Cow<'a, str>,
    #[serde(borrow)]
    attributes: Cow<'a, str>,
    #[serde(borrow)]
    attributes_mask: Cow<'a, str>,
    #[serde(borrow)]
    mrsigner: Cow<'a, str>,
    isvprodid: u16,
    #[serde(borrow)]
    tcb_levels: Vec<IsvLevelJson<'a>>,
}

// ---------------------------------------------------------------------------------------------
// Validated forms.

/// A TCB level of the TCB Info.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcbLevel {
    sgx: [u8; 16],
    pce_svn: u16,
    tdx: [u8; 16],
    assessed: Assessed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct IsvLevel {
    isv_svn: u16,
    assessed: Assessed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ModuleIdentity {
    mr_signer: [u8; 48],
    attributes: [u8; 8],
    attributes_mask: [u8; 8],
    /// Module version this identity covers (`TDX_NN`); `None` for the base `tdxModule`.
    version: Option<u8>,
    levels: Vec<IsvLevel>,
}

/// A TDX TCB Info, v3.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcbInfo {
    pub(crate) issue_date: UnixTime,
    pub(crate) next_update: UnixTime,
    pub(crate) fmspc: [u8; 6],
    pub(crate) pce_id: [u8; 2],
    pub(crate) evaluation_data_number: u32,
    module: ModuleIdentity,
    module_identities: Vec<ModuleIdentity>,
    levels: Vec<TcbLevel>,
}

/// A TD_QE QE Identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct QeIdentity {
    pub(crate) issue_date: UnixTime,
    pub(crate) next_update: UnixTime,
    pub(crate) evaluation_data_number: u32,
    miscselect: [u8; 4],
    miscselect_mask: [u8; 4],
    attributes: [u8; 16],
    attributes_mask: [u8; 16],
    mr_signer: [u8; 32],
    isv_prod_id: u16,
    levels: Vec<IsvLevel>,
}

fn hex_array<const N: usize>(text: &str, item: Item, field: &str) -> Result<[u8; N], VerifyError> {
    let mut out = [0u8; N];
    hex::decode_to_slice(text, &mut out)
        .map_err(|e| VerifyError::malformed(item, format!("{field}: {e}")))?;
    Ok(out)
}

fn date(text: &str, item: Item, field: &str) -> Result<UnixTime, VerifyError> {
    UnixTime::parse_rfc3339(text).ok_or_else(|| {
        VerifyError::malformed(
            item,
            format!("{field} is not an RFC 3339 UTC time: {text:?}"),
        )
    })
}

fn isv_levels(levels: Vec<IsvLevelJson<'_>>, item: Item) -> Result<Vec<IsvLevel>, VerifyError> {
    let mut out = levels
        .into_iter()
        .map(|level| {
            Ok(IsvLevel {
                isv_svn: level.tcb.isvsvn,
                assessed: Assessed {
                    status: level.tcb_status,
                    advisory_ids: level.advisory_ids,
                    tcb_date: date(&level.tcb_date, item, "tcbDate")?,
                },
            })
        })
        .collect::<Result<Vec<_>, VerifyError>>()?;
    out.sort_by_key(|level| core::cmp::Reverse(level.isv_svn));
    Ok(out)
}

fn module_identity(
    json: ModuleJson<'_>,
    version: Option<u8>,
    levels: Vec<IsvLevel>,
) -> Result<ModuleIdentity, VerifyError> {
    Ok(ModuleIdentity {
        mr_signer: hex_array(&json.mrsigner, Item::TcbInfo, "tdxModule mrsigner")?,
        attributes: hex_array(&json.attributes, Item::TcbInfo, "tdxModule attributes")?,
        attributes_mask: hex_array(
            &json.attributes_mask,
            Item::TcbInfo,
            "tdxModule attributesMask",
        )?,
        version,
        levels,
    })
}

fn svns(components: &[Svn], item: Item, what: &str) -> Result<[u8; 16], VerifyError> {
    if components.len() != 16 {
        return Err(VerifyError::malformed(
            item,
            format!("{what} has {} components, not 16", components.len()),
        ));
    }
    let mut out = [0u8; 16];
    for (o, c) in out.iter_mut().zip(components) {
        *o = c.svn;
    }
    Ok(out)
}

/// The module version a `tdxModuleIdentities[].id` names: `TDX_hh` in any case, two hex digits.
fn module_version_of_id(id: &str) -> Option<u8> {
    let upper = id.to_ascii_uppercase();
    let digits = upper.strip_prefix("TDX_")?;
    if digits.len() != 2 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u8::from_str_radix(digits, 16).ok()
}

/// Refuses collateral of another kind or version than the one this verifier understands.
fn expect_kind(
    item: Item,
    id: &str,
    version: u32,
    expected_id: &str,
    expected_version: u32,
) -> Result<(), VerifyError> {
    if id == expected_id && version == expected_version {
        return Ok(());
    }
    Err(VerifyError::WrongCollateral {
        item,
        reason: format!(
            "id {id:?} version {version}, expected id {expected_id:?} version {expected_version}"
        ),
    })
}

impl TcbInfo {
    /// Parses the signed `tcbInfo` JSON object. Refuses anything but a v3 TDX TCB Info.
    pub(crate) fn parse(json: &[u8]) -> Result<TcbInfo, VerifyError> {
        let item = Item::TcbInfo;
        let raw: TcbInfoJson<'_> =
            serde_json::from_slice(json).map_err(|e| VerifyError::malformed(item, e))?;
        expect_kind(item, &raw.id, raw.version, "TDX", 3)?;
        let module = raw
            .tdx_module
            .ok_or_else(|| VerifyError::malformed(item, "tdxModule missing"))?;
        let module = module_identity(module, None, Vec::new())?;
        // QVL's `findTdxModuleIdentity` (`TdxModuleCheck.cpp:38-51`) upper-cases each id and
        // compares it with `TDX_` + the module version in upper-case hex: an id of another shape
        // is never selected, and does not make the TCB Info malformed. Such identities are
        // still parsed (QVL's parser, `TdxModuleIdentity.cpp:47-89`, refuses bad fields in
        // every identity) but kept out of selection.
        let module_identities = raw
            .tdx_module_identities
            .into_iter()
            .map(|identity| {
                let version = module_version_of_id(&identity.id);
                let levels = isv_levels(identity.tcb_levels, item)?;
                module_identity(
                    ModuleJson {
                        mrsigner: identity.mrsigner,
                        attributes: identity.attributes,
                        attributes_mask: identity.attributes_mask,
                    },
                    version,
                    levels,
                )
            })
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .filter(|identity| identity.version.is_some())
            .collect();
        let mut levels = raw
            .tcb_levels
            .into_iter()
            .map(|level| {
                Ok(TcbLevel {
                    sgx: svns(&level.tcb.sgxtcbcomponents, item, "sgxtcbcomponents")?,
                    pce_svn: level.tcb.pcesvn,
                    tdx: svns(&level.tcb.tdxtcbcomponents, item, "tdxtcbcomponents")?,
                    assessed: Assessed {
                        status: level.tcb_status,
                        advisory_ids: level.advisory_ids,
                        tcb_date: date(&level.tcb_date, item, "tcbDate")?,
                    },
                })
            })
            .collect::<Result<Vec<_>, VerifyError>>()?;
        // QVL does not trust the JSON order: highest SGX components, then PCESVN, then TDX first.
        levels.sort_by(|a, b| {
            b.sgx
                .cmp(&a.sgx)
                .then(b.pce_svn.cmp(&a.pce_svn))
                .then(b.tdx.cmp(&a.tdx))
        });
        Ok(TcbInfo {
            issue_date: date(&raw.issue_date, item, "issueDate")?,
            next_update: date(&raw.next_update, item, "nextUpdate")?,
            fmspc: hex_array(&raw.fmspc, item, "fmspc")?,
            pce_id: hex_array(&raw.pce_id, item, "pceId")?,
            evaluation_data_number: raw.tcb_evaluation_data_number,
            module,
            module_identities,
            levels,
        })
    }

    /// The TDX module identity for a TEE_TCB_SVN: the `TDX_NN` entry for module version
    /// `tee_tcb_svn[1]`, or the base `tdxModule` for version 0.
    fn module_for(&self, tee_tcb_svn: &[u8; 16]) -> Result<&ModuleIdentity, VerifyError> {
        let version = tee_tcb_svn[1];
        if version == 0 {
            return Ok(&self.module);
        }
        self.module_identities
            .iter()
            .find(|m| m.version == Some(version))
            .ok_or_else(|| {
                VerifyError::TdxModule(format!(
                    "the TCB Info has no TDX module identity TDX_{version:02X}"
                ))
            })
    }

    /// Checks MRSIGNERSEAM and SEAMATTRIBUTES against the module identity of TEE_TCB_SVN.
    pub(crate) fn check_module(
        &self,
        tee_tcb_svn: &[u8; 16],
        mr_signer_seam: &[u8; 48],
        seam_attributes: &[u8; 8],
    ) -> Result<(), VerifyError> {
        let module = self.module_for(tee_tcb_svn)?;
        if mr_signer_seam != &module.mr_signer {
            return Err(VerifyError::TdxModule(format!(
                "MRSIGNERSEAM {} differs from the TCB Info's {}",
                hex::encode(mr_signer_seam),
                hex::encode(module.mr_signer)
            )));
        }
        for ((have, want), mask) in seam_attributes
            .iter()
            .zip(module.attributes)
            .zip(module.attributes_mask)
        {
            if have & mask != want & mask || have & !mask != 0 {
                return Err(VerifyError::TdxModule(format!(
                    "SEAMATTRIBUTES {} do not match {} under mask {}",
                    hex::encode(seam_attributes),
                    hex::encode(module.attributes),
                    hex::encode(module.attributes_mask)
                )));
            }
        }
        Ok(())
    }

    /// The platform TCB level of SGX components + PCESVN (from the PCK certificate) and
    /// TEE_TCB_SVN, converged with the TDX module's level, as QVL's `checkTcbLevel`
    /// (`TcbLevelCheck.cpp:183-244`): the SGX level is the first whose SGX components and
    /// PCESVN the platform meets, the TDX level the first that the TDX components meet too.
    pub(crate) fn assess(
        &self,
        sgx: &[u8; 16],
        pce_svn: u16,
        tee_tcb_svn: &[u8; 16],
    ) -> Result<PlatformLevel, VerifyError> {
        // With a module version, TDX components 0 and 1 (module SVN and version) are judged by
        // the module identity instead of the platform level.
        let skip = if tee_tcb_svn[1] > 0 { 2 } else { 0 };
        let meets_sgx = |level: &&TcbLevel| {
            sgx.iter().zip(&level.sgx).all(|(have, need)| have >= need) && pce_svn >= level.pce_svn
        };
        let meets_tdx = |level: &&TcbLevel| {
            tee_tcb_svn
                .iter()
                .zip(&level.tdx)
                .skip(skip)
                .all(|(have, need)| have >= need)
        };
        let (Some(sgx_level), Some(level)) = (
            self.levels.iter().find(meets_sgx),
            self.levels.iter().filter(meets_sgx).find(meets_tdx),
        ) else {
            return Err(self.no_level(sgx, pce_svn, tee_tcb_svn));
        };
        for status in [sgx_level.assessed.status, level.assessed.status] {
            check_status(status, PLATFORM_STATUSES, Item::TcbInfo, "a TCB level")?;
        }
        let mut assessed = level.assessed.clone();
        let mut module_status = None;
        if tee_tcb_svn[1] > 0 {
            let module = self.module_for(tee_tcb_svn)?;
            let module_level = module
                .levels
                .iter()
                .find(|l| u16::from(tee_tcb_svn[0]) >= l.isv_svn)
                .ok_or_else(|| {
                    VerifyError::TdxModule(format!(
                        "TDX module SVN {} is below every level of TDX_{:02X}",
                        tee_tcb_svn[0], tee_tcb_svn[1]
                    ))
                })?;
            check_status(
                module_level.assessed.status,
                MODULE_STATUSES,
                Item::TcbInfo,
                "a TDX module TCB level",
            )?;
            assessed.merge(&module_level.assessed);
            module_status = Some(module_level.assessed.status);
        }
        Ok(PlatformLevel {
            assessed,
            sgx_status: sgx_level.assessed.status,
            module_status,
        })
    }

    /// QVL's `checkForRelaunch` (`TDRelaunchCheck.cpp:52-143`), literally: for a TD 1.5 report
    /// (body type 3) whose launch TCB is out of date because of its TDX module, TEE_TCB_SVN2
    /// (the current TCB) is compared with the latest TCB level and the latest level of the
    /// TDX module identity of SVN2's module version; when it meets them, a relaunch would
    /// bring the TD up to date. Returns the TDX status to converge with the QE.
    pub(crate) fn check_for_relaunch(
        &self,
        tee_tcb_svn2: &[u8; 16],
        platform: &PlatformLevel,
        qe_status: TcbStatus,
    ) -> Result<TcbStatus, VerifyError> {
        use TcbStatus::*;
        let tdx_status = platform.assessed.status;
        // `qeTcbStatus` is QVL's mapped QE status: anything but UpToDate counts as out of date.
        if qe_status.as_qe_component() != UpToDate
            || !matches!(
                platform.sgx_status,
                UpToDate
                    | SWHardeningNeeded
                    | ConfigurationNeeded
                    | ConfigurationAndSWHardeningNeeded
            )
            || !matches!(tdx_status, OutOfDate | OutOfDateConfigurationNeeded)
            || platform.module_status != Some(OutOfDate)
        {
            return Ok(tdx_status);
        }
        let latest = self.levels.first().ok_or_else(|| {
            VerifyError::malformed(Item::TcbInfo, "the TCB Info has no TCB levels")
        })?;
        // SVN2[0] against the latest level's TDX component 0 (module version 0) or the latest
        // level of the module identity of SVN2[1]; SVN2[2] against the latest level's
        // component 2 either way.
        let module_current = if tee_tcb_svn2[1] == 0 {
            tee_tcb_svn2[0] >= latest.tdx[0]
        } else {
            let module = self.module_for(tee_tcb_svn2)?;
            let latest_module = module.levels.first().ok_or_else(|| {
                VerifyError::TdxModule(format!(
                    "TDX module identity TDX_{:02X} has no TCB levels",
                    tee_tcb_svn2[1]
                ))
            })?;
            u16::from(tee_tcb_svn2[0]) >= latest_module.isv_svn
        };
        if !(module_current && tee_tcb_svn2[2] >= latest.tdx[2]) {
            return Ok(tdx_status);
        }
        Ok(
            if platform.sgx_status.needs_configuration() || tdx_status.needs_configuration() {
                TDRelaunchAdvisedConfigurationNeeded
            } else {
                TDRelaunchAdvised
            },
        )
    }

    fn no_level(&self, sgx: &[u8; 16], pce_svn: u16, tee_tcb_svn: &[u8; 16]) -> VerifyError {
        let detail = match self.levels.last() {
            None => "the TCB Info has no TCB levels".to_owned(),
            Some(lowest) => {
                // Name every SVN below the lowest level: what the platform lacks for any level.
                let skip = if tee_tcb_svn[1] > 0 { 2 } else { 0 };
                let mut short: Vec<String> = Vec::new();
                for (index, (have, need)) in sgx.iter().zip(&lowest.sgx).enumerate() {
                    if have < need {
                        short.push(format!("SGX component {index} ({have} < {need})"));
                    }
                }
                if pce_svn < lowest.pce_svn {
                    short.push(format!("PCESVN ({pce_svn} < {})", lowest.pce_svn));
                }
                for (index, (have, need)) in tee_tcb_svn.iter().zip(&lowest.tdx).enumerate() {
                    if index >= skip && have < need {
                        short.push(format!("TDX component {index} ({have} < {need})"));
                    }
                }
                format!(
                    "SGX components {} PCESVN {} TEE_TCB_SVN {} against the lowest level's {} / {} / {}: below it in {}",
                    hex::encode(sgx),
                    pce_svn,
                    hex::encode(tee_tcb_svn),
                    hex::encode(lowest.sgx),
                    lowest.pce_svn,
                    hex::encode(lowest.tdx),
                    short.join(", ")
                )
            }
        };
        VerifyError::NoMatchingTcbLevel {
            fmspc: hex::encode(self.fmspc),
            evaluation: self.evaluation_data_number,
            detail,
        }
    }
}

/// The QE report fields a QE Identity is matched against.
pub(crate) struct QeReportFields<'a> {
    pub(crate) misc_select: u32,
    pub(crate) attributes: &'a [u8; 16],
    pub(crate) mr_signer: &'a [u8; 32],
    pub(crate) isv_prod_id: u16,
    pub(crate) isv_svn: u16,
}

impl QeIdentity {
    /// Parses the signed `enclaveIdentity` JSON object. Refuses anything but TD_QE v2.
    pub(crate) fn parse(json: &[u8]) -> Result<QeIdentity, VerifyError> {
        let item = Item::QeIdentity;
        let raw: QeIdentityJson<'_> =
            serde_json::from_slice(json).map_err(|e| VerifyError::malformed(item, e))?;
        expect_kind(item, &raw.id, raw.version, "TD_QE", 2)?;
        Ok(QeIdentity {
            issue_date: date(&raw.issue_date, item, "issueDate")?,
            next_update: date(&raw.next_update, item, "nextUpdate")?,
            evaluation_data_number: raw.tcb_evaluation_data_number,
            miscselect: hex_array(&raw.miscselect, item, "miscselect")?,
            miscselect_mask: hex_array(&raw.miscselect_mask, item, "miscselectMask")?,
            attributes: hex_array(&raw.attributes, item, "attributes")?,
            attributes_mask: hex_array(&raw.attributes_mask, item, "attributesMask")?,
            mr_signer: hex_array(&raw.mrsigner, item, "mrsigner")?,
            isv_prod_id: raw.isvprodid,
            levels: isv_levels(raw.tcb_levels, item)?,
        })
    }

    /// Matches the QE report; returns the QE's TCB level.
    pub(crate) fn assess(&self, qe: &QeReportFields<'_>) -> Result<Assessed, VerifyError> {
        let mismatch = |field, expected: String, actual: String| VerifyError::QeIdentityMismatch {
            field,
            expected,
            actual,
        };
        if qe.mr_signer != &self.mr_signer {
            return Err(mismatch(
                "MRSIGNER",
                hex::encode(self.mr_signer),
                hex::encode(qe.mr_signer),
            ));
        }
        if qe.isv_prod_id != self.isv_prod_id {
            return Err(mismatch(
                "ISVPRODID",
                self.isv_prod_id.to_string(),
                qe.isv_prod_id.to_string(),
            ));
        }
        let mask = u32::from_le_bytes(self.miscselect_mask);
        let want = u32::from_le_bytes(self.miscselect) & mask;
        if qe.misc_select & mask != want {
            return Err(mismatch(
                "MISCSELECT",
                format!("{want:08x}"),
                format!("{:08x}", qe.misc_select & mask),
            ));
        }
        let masked = |bytes: &[u8; 16]| -> [u8; 16] {
            let mut out = *bytes;
            for (o, m) in out.iter_mut().zip(self.attributes_mask) {
                *o &= m;
            }
            out
        };
        if masked(qe.attributes) != masked(&self.attributes) {
            return Err(mismatch(
                "ATTRIBUTES",
                hex::encode(masked(&self.attributes)),
                hex::encode(masked(qe.attributes)),
            ));
        }
        let level = self
            .levels
            .iter()
            .find(|level| qe.isv_svn >= level.isv_svn)
            .ok_or(VerifyError::QeTcbNotMatched {
                isv_svn: qe.isv_svn,
            })?;
        check_status(
            level.assessed.status,
            QE_STATUSES,
            Item::QeIdentity,
            "a QE Identity TCB level",
        )?;
        Ok(level.assessed.clone())
    }
}

/// Converges the platform level with the QE level (statuses and advisories), the QE level
/// counting as QVL counts it ([`TcbStatus::as_qe_component`]).
pub(crate) fn converge(mut platform: Assessed, qe: &Assessed) -> Assessed {
    let qe = Assessed {
        status: qe.status.as_qe_component(),
        advisory_ids: qe.advisory_ids.clone(),
        tcb_date: qe.tcb_date,
    };
    platform.merge(&qe);
    platform
}

#[cfg(test)]
mod tests {
    use super::TcbStatus::*;

    #[test]
    fn convergence_follows_qvl() {
        for (platform, component, expected) in [
            (UpToDate, OutOfDate, OutOfDate),
            (SWHardeningNeeded, OutOfDate, OutOfDate),
            (
                ConfigurationAndSWHardeningNeeded,
                OutOfDate,
                OutOfDateConfigurationNeeded,
            ),
            (ConfigurationNeeded, Revoked, Revoked),
            (UpToDate, ConfigurationNeeded, UpToDate),
            (SWHardeningNeeded, UpToDate, SWHardeningNeeded),
        ] {
            assert_eq!(
                platform.converge_with(component),
                expected,
                "{platform} + {component}"
            );
        }
        // QVL: any QE level but UpToDate and Revoked counts as OutOfDate.
        for (qe, expected) in [
            (UpToDate, UpToDate),
            (ConfigurationNeeded, OutOfDate),
            (OutOfDateConfigurationNeeded, OutOfDate),
            (OutOfDate, OutOfDate),
            (Revoked, Revoked),
        ] {
            assert_eq!(qe.as_qe_component(), expected, "{qe}");
        }
    }

    #[test]
    fn the_converged_level_is_dated_by_its_oldest_part() {
        use super::{Assessed, converge};
        use crate::time::UnixTime;
        let level = |status, date, advisory: &str| Assessed {
            status,
            advisory_ids: vec![advisory.to_owned()],
            tcb_date: UnixTime(date),
        };
        let platform = level(UpToDate, 2_000, "INTEL-SA-1");
        let qe = level(OutOfDate, 1_000, "INTEL-SA-2");
        let converged = converge(platform.clone(), &qe);
        assert_eq!(converged.status, OutOfDate);
        assert_eq!(converged.tcb_date, qe.tcb_date);
        assert_eq!(converged.advisory_ids, ["INTEL-SA-1", "INTEL-SA-2"]);
        let newer_qe = level(UpToDate, 3_000, "INTEL-SA-1");
        let converged = converge(platform.clone(), &newer_qe);
        assert_eq!(converged.tcb_date, platform.tcb_date);
        assert_eq!(converged.advisory_ids, ["INTEL-SA-1"]);
    }

    #[test]
    fn statuses_outside_their_structure_are_refused() {
        use super::{MODULE_STATUSES, PLATFORM_STATUSES, QE_STATUSES, check_status};
        use crate::errors::Item;
        assert!(
            check_status(
                TDRelaunchAdvised,
                PLATFORM_STATUSES,
                Item::TcbInfo,
                "a TCB level"
            )
            .is_err()
        );
        assert!(
            check_status(
                SWHardeningNeeded,
                MODULE_STATUSES,
                Item::TcbInfo,
                "a module level"
            )
            .is_err()
        );
        assert!(
            check_status(
                SWHardeningNeeded,
                QE_STATUSES,
                Item::QeIdentity,
                "a QE level"
            )
            .is_err()
        );
        for status in [UpToDate, OutOfDate, Revoked] {
            for allowed in [PLATFORM_STATUSES, MODULE_STATUSES, QE_STATUSES] {
                check_status(status, allowed, Item::TcbInfo, "any").unwrap();
            }
        }
    }

    #[test]
    fn status_names_round_trip() {
        for status in super::TcbStatus::ALL {
            assert_eq!(status.as_str().parse::<super::TcbStatus>(), Ok(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert!("Fine".parse::<super::TcbStatus>().is_err());
    }
}
