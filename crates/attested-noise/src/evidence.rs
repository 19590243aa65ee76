//! What the server presents. The client appraises it with the vocabulary's
//! [`Appraiser`](attested_types::Appraiser), which `attested-tdx` and `attested-token`
//! implement.

/// The platform evidence a server presents in every `attestation` message.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct PlatformEvidence {
    /// The quote, whose REPORTDATA is [`Profile::report_data`](crate::Profile::report_data) of
    /// the server's keys.
    pub quote: Option<Vec<u8>>,
    /// An attestation token over the same REPORTDATA.
    pub token: Option<String>,
    /// MRTD, hex, for the seed's informative `mrtd` field.
    pub mrtd: Option<String>,
    /// Measurements for the seed's informative `measurements` field.
    pub measurements: serde_json::Value,
}

impl PlatformEvidence {
    /// Evidence made of a quote alone.
    pub fn from_quote(quote: Vec<u8>) -> Self {
        Self {
            quote: Some(quote),
            ..Self::default()
        }
    }

    /// Adds a token.
    #[must_use]
    pub fn with_token(mut self, token: String) -> Self {
        self.token = Some(token);
        self
    }

    /// Adds the informative `mrtd` and `measurements` fields of the seed's attestation message.
    #[must_use]
    pub fn with_stated_measurements(
        mut self,
        mrtd: Option<String>,
        measurements: serde_json::Value,
    ) -> Self {
        self.mrtd = mrtd;
        self.measurements = measurements;
        self
    }
}
