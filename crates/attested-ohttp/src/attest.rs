//! Attested key configurations: the gateway's evidence binds the exact key configuration list.

use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::config::{KeyConfig, decode_key_config_list};
use crate::error::{Error, Result};

/// The 64 bytes that TEE evidence carries for the user (TDX REPORTDATA, or the token claim
/// that mirrors it).
pub type ReportData = [u8; 64];

/// The error an [`EvidenceCheck`] reports: any error type, kept as its message.
pub type EvidenceError = Box<dyn std::error::Error + Send + Sync>;

/// Verifies a gateway's TEE evidence and hands back what it binds.
///
/// Implementations verify the evidence fully (signature chain to a pinned root, measurement
/// policy, freshness) before returning its REPORTDATA; this crate then checks the binding.
/// The `attested-examples` crate implements it with `attested-tdx` and `attested-token`.
pub trait EvidenceCheck {
    /// The REPORTDATA of the verified evidence, or why the evidence was refused.
    fn verified_report_data(&self) -> core::result::Result<ReportData, EvidenceError>;
}

/// What the gateway puts in REPORTDATA: SHA-512 of the encoded `application/ohttp-keys` list.
pub fn key_config_binding(encoded_list: &[u8]) -> ReportData {
    Sha512::digest(encoded_list).into()
}

/// Key configurations whose binding to verified evidence (or a verified KMS receipt) has been
/// checked. Only this type can build a [`Client`](crate::Client).
#[derive(Debug, Clone)]
pub struct VerifiedKeyConfigs {
    configs: Vec<KeyConfig>,
}

impl VerifiedKeyConfigs {
    /// Verifies that `check`'s evidence binds `encoded_list`, then decodes the list.
    pub fn from_evidence(
        encoded_list: &[u8],
        check: &(impl EvidenceCheck + ?Sized),
    ) -> Result<Self> {
        let report_data = check
            .verified_report_data()
            .map_err(|e| Error::EvidenceRejected(e.to_string()))?;
        let expected = key_config_binding(encoded_list);
        if !bool::from(report_data.ct_eq(&expected)) {
            return Err(Error::KeyConfigsNotBound);
        }
        Ok(Self {
            configs: decode_key_config_list(encoded_list)?,
        })
    }

    pub(crate) fn from_checked(configs: Vec<KeyConfig>) -> Self {
        Self { configs }
    }

    /// The verified configurations.
    pub fn configs(&self) -> &[KeyConfig] {
        &self.configs
    }
}
