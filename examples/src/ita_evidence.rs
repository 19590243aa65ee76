//! Intel Trust Authority (ITA) evidence for the Noise examples.
//!
//! A server sends its quote to ITA with an [`ItaClient`], and serves the token in its
//! attestation next to the quote. What is sent and how the answer is read are attested-token's
//! sans-IO [`AttestRequest`] and [`parse_attest_answer`] (`POST {url}/appraisal/v1/attest`,
//! header `x-api-key`, body `{"quote": base64}`, answer `{"token": JWT}`); the client only
//! carries them over HTTPS. A client that trusts ITA rather than its own DCAP
//! verification checks the token with attested-token's [`ItaAppraiser`]: signature under a
//! JWKS key (chained to a pinned root, or trusted unchained by explicit choice), issuer and
//! times, then the [`ItaPolicy`], which must identify the workload. REPORTDATA and
//! measurements come from the verified token's claims only, and `attested-noise` then checks
//! that REPORTDATA binds the session's keys.

use std::path::PathBuf;

use attested_token::ita::{
    AttestRequest, HeldToken, ItaAppraiser, ItaPolicy, ItaVerifier, MAX_ATTEST_ANSWER_LEN,
    parse_attest_answer,
};
use attested_token::jwt::{Jwks, KeySet};
use attested_token::x509::TrustRoots;
use zeroize::Zeroizing;

/// Why a token could not be obtained or was refused. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ItaEvidenceError {
    /// The JWKS or the root given for the token's keys is unusable.
    #[error("ITA token keys: {0}")]
    Keys(#[from] attested_token::Error),
    /// ITA (or what answers at its URL) did not issue a token.
    #[error("Intel Trust Authority attest request failed: {0}")]
    Attest(String),
    /// A file or command-line value is unusable.
    #[error("{0}")]
    Usage(String),
    /// The HTTPS client could not be configured.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsSetupError),
}

/// A server's client of the ITA attestation API.
pub struct ItaClient {
    attest_url: String,
    api_key: Zeroizing<String>,
    http: reqwest::Client,
}

impl std::fmt::Debug for ItaClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItaClient")
            .field("attest_url", &self.attest_url)
            .finish_non_exhaustive()
    }
}

impl ItaClient {
    /// A client of the ITA API at `url` (for example `https://api.trustauthority.intel.com`).
    pub fn new(url: &str, api_key: Zeroizing<String>) -> Result<Self, ItaEvidenceError> {
        Ok(Self {
            attest_url: AttestRequest::url(url),
            api_key,
            http: crate::tls::http()?,
        })
    }

    /// A client whose attestation API key is the content of `file` (surrounding whitespace
    /// ignored).
    pub fn with_key_file(url: &str, file: &std::path::Path) -> Result<Self, ItaEvidenceError> {
        let key = Zeroizing::new(std::fs::read_to_string(file).map_err(|e| {
            ItaEvidenceError::Usage(format!("--ita-api-key-file {}: {e}", file.display()))
        })?);
        let key = Zeroizing::new(key.trim().to_owned());
        if key.is_empty() {
            return Err(ItaEvidenceError::Usage(format!(
                "--ita-api-key-file {}: empty",
                file.display()
            )));
        }
        Self::new(url, key)
    }

    /// Asks ITA to appraise `quote` and returns the token it issues, with its expiry.
    pub async fn attest(&self, quote: &[u8]) -> Result<HeldToken, ItaEvidenceError> {
        let attest = |e: reqwest::Error| ItaEvidenceError::Attest(e.without_url().to_string());
        let request = AttestRequest::new(quote);
        let headers = request.headers(self.api_key.as_str());
        let response = headers
            .into_iter()
            .fold(self.http.post(&self.attest_url), |post, (name, value)| {
                post.header(name, value)
            })
            .body(request.into_body())
            .send()
            .await
            .map_err(attest)?
            .error_for_status()
            .map_err(attest)?;
        let body = crate::tls::read_capped(response, MAX_ATTEST_ANSWER_LEN)
            .await
            .map_err(|e| ItaEvidenceError::Attest(e.to_string()))?;
        parse_attest_answer(&body).map_err(|e| ItaEvidenceError::Attest(e.to_string()))
    }
}

/// The clients' ITA token options.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct TokenTrustArgs {
    /// Verify the server's Intel Trust Authority token (not its quote) with the keys of this
    /// JWKS file (ITA publishes it at `https://portal.trustauthority.intel.com/certs`).
    #[arg(long)]
    pub token_jwks: Option<PathBuf>,
    /// The root (PEM) the JWKS keys' x5c chains must lead to; default: Intel Trust Authority's.
    #[arg(long, requires = "token_jwks", conflicts_with = "token_unchained")]
    pub token_root: Option<PathBuf>,
    /// Trust the JWKS keys WITHOUT certificate chains (only for a JWKS fetched over a
    /// transport you trust).
    #[arg(long, requires = "token_jwks")]
    pub token_unchained: bool,
}

/// The token policy a client's reference values ask for: any of `mr_td` and exactly `rtmrs`;
/// `any_workload` is the explicit opt-out (`--allow-any-workload`). Whether it identifies the
/// workload is attested-token's rule ([`ItaPolicy::identifies_workload`]), which its
/// [`ItaAppraiser`] enforces.
pub fn token_policy(
    mr_td: &[[u8; 48]],
    rtmrs: &[(usize, [u8; 48])],
    any_workload: bool,
) -> ItaPolicy {
    let policy = if any_workload {
        ItaPolicy::any_workload()
    } else {
        ItaPolicy::new()
    };
    let policy = mr_td
        .iter()
        .fold(policy, |policy, mrtd| policy.expect_mrtd(*mrtd));
    rtmrs.iter().fold(policy, |policy, (index, value)| {
        policy.expect_rtmr(*index, *value)
    })
}

impl TokenTrustArgs {
    /// The token appraiser the options ask for, with a description of how its keys are trusted
    /// for reports (`None`: verify the quote instead), with the policy of [`token_policy`].
    pub fn appraiser(
        &self,
        policy: ItaPolicy,
    ) -> Result<Option<(ItaAppraiser, String)>, ItaEvidenceError> {
        let Some(path) = &self.token_jwks else {
            return Ok(None);
        };
        let read = |path: &std::path::Path| {
            std::fs::read(path)
                .map_err(|e| ItaEvidenceError::Usage(format!("{}: {e}", path.display())))
        };
        let jwks = Jwks::from_json(&read(path)?)?;
        let (keys, description) = if self.token_unchained {
            (
                KeySet::unchained_trusting_transport(&jwks),
                format!("UNCHAINED keys of {}", path.display()),
            )
        } else {
            let (roots, name) = match &self.token_root {
                Some(root) => {
                    let pem = String::from_utf8(read(root)?).map_err(|_| {
                        ItaEvidenceError::Usage(format!("{}: not PEM", root.display()))
                    })?;
                    (
                        TrustRoots::empty().with_pem(&pem)?,
                        format!("the root in {}", root.display()),
                    )
                }
                None => (
                    TrustRoots::intel_trust_authority(),
                    "Intel Trust Authority's root".to_owned(),
                ),
            };
            (
                KeySet::chained(&jwks, &roots),
                format!("keys of {} chained to {name}", path.display()),
            )
        };
        Ok(Some((
            ItaAppraiser::new(ItaVerifier::with_keys(keys), policy),
            description,
        )))
    }
}
