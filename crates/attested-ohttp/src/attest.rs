//! Attested key configurations: the gateway's evidence binds the exact key configuration list.

use attested_types::{Accepted, Appraiser, Evidence, ReportData, UnixTime};

use crate::error::{Error, Result};
use crate::key_config::{KeyConfig, decode_key_config_list};

/// What the gateway puts in REPORTDATA: SHA-512 of the encoded `application/ohttp-keys` list.
pub fn key_config_binding(encoded_list: &[u8]) -> ReportData {
    ReportData::sha512(encoded_list)
}

/// Key configurations whose binding to appraised evidence (or a verified KMS receipt) has been
/// checked. Only this type can build a [`Client`](crate::Client).
#[derive(Debug, Clone)]
pub struct VerifiedKeyConfigs {
    configs: Vec<KeyConfig>,
}

impl VerifiedKeyConfigs {
    /// Checks that `accepted` (evidence an [`Appraiser`] verified and appraised) binds exactly
    /// `encoded_list`, then decodes the list.
    pub fn from_accepted(encoded_list: &[u8], accepted: &Accepted) -> Result<Self> {
        if accepted.report_data() != &key_config_binding(encoded_list) {
            return Err(Error::KeyConfigsNotBound);
        }
        Ok(Self {
            configs: decode_key_config_list(encoded_list)?,
        })
    }

    /// Has `appraiser` verify and appraise the gateway's `evidence` at `now`, then checks that
    /// it binds exactly `encoded_list`. Returns the configurations and the accepted evidence.
    pub fn appraise(
        encoded_list: &[u8],
        evidence: &Evidence<'_>,
        appraiser: &(impl Appraiser + ?Sized),
        now: UnixTime,
    ) -> Result<(Self, Accepted)> {
        let accepted = appraiser
            .appraise(evidence, now)
            .map_err(|e| Error::EvidenceRejected(e.to_string()))?;
        Ok((Self::from_accepted(encoded_list, &accepted)?, accepted))
    }

    pub(crate) fn from_checked(configs: Vec<KeyConfig>) -> Self {
        Self { configs }
    }

    /// The verified configurations.
    pub fn configs(&self) -> &[KeyConfig] {
        &self.configs
    }
}
