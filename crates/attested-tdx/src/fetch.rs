//! Collateral sources: where [`Collateral`] comes from, and a cache that refreshes it when its
//! earliest nextUpdate passes. The HTTP source for Intel PCS or a PCCS is behind the `fetch`
//! feature; verification never fetches anything itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::collateral::Collateral;
use crate::time::UnixTime;
use crate::verify::error::VerifyError;

/// Which PCK CA issued the platform's PCK certificate (selects the PCK CRL).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PckCa {
    /// Intel SGX PCK Platform CA (multi-package platforms, every TDX server).
    Platform,
    /// Intel SGX PCK Processor CA.
    Processor,
}

impl PckCa {
    /// The `ca` query value of the PCK CRL endpoint.
    pub fn as_str(self) -> &'static str {
        match self {
            PckCa::Platform => "platform",
            PckCa::Processor => "processor",
        }
    }
}

/// Why collateral could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The transport failed or the server answered with an error status.
    #[error("GET {url}: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// What went wrong.
        reason: String,
    },
    /// The URL is not `https` (plain `http` needs [`PcsClient::allow_plain_http_for_tests`]).
    #[error("GET {url}: only https URLs are fetched")]
    NotHttps {
        /// The URL.
        url: String,
    },
    /// A response lacks a required header.
    #[error("GET {url}: no {header} header")]
    MissingHeader {
        /// The URL.
        url: String,
        /// The header name.
        header: &'static str,
    },
    /// The responses do not make valid collateral.
    #[error("collateral: {0}")]
    Collateral(#[from] VerifyError),
}

/// Something that provides collateral for a platform.
pub trait CollateralSource {
    /// The current collateral for `fmspc`, PCK CRL of `ca`.
    fn collateral(&self, fmspc: &[u8; 6], ca: PckCa) -> Result<Collateral, FetchError>;
}

/// Cached collateral with its earliest nextUpdate.
type Cached = (Arc<Collateral>, UnixTime);

/// A [`CollateralSource`] with a cache: collateral is reused until its earliest nextUpdate,
/// then fetched again. A failed refresh is an error (stale collateral is never served).
#[derive(Debug)]
pub struct CachedSource<S> {
    source: S,
    cache: Mutex<HashMap<([u8; 6], PckCa), Cached>>,
}

impl<S: CollateralSource> CachedSource<S> {
    /// Wraps `source`.
    pub fn new(source: S) -> Self {
        CachedSource {
            source,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The collateral for `fmspc` at `now`: cached while `now` is not past its nextUpdate.
    pub fn get(
        &self,
        fmspc: &[u8; 6],
        ca: PckCa,
        now: UnixTime,
    ) -> Result<Arc<Collateral>, FetchError> {
        let key = (*fmspc, ca);
        if let Ok(cache) = self.cache.lock()
            && let Some((collateral, next_update)) = cache.get(&key)
            && now <= *next_update
        {
            return Ok(Arc::clone(collateral));
        }
        let collateral = Arc::new(self.source.collateral(fmspc, ca)?);
        let next_update = collateral.next_update()?;
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(key, (Arc::clone(&collateral), next_update));
        }
        Ok(collateral)
    }

    /// The wrapped source.
    pub fn source(&self) -> &S {
        &self.source
    }
}

#[cfg(feature = "fetch")]
pub use http::{INTEL_PCS, INTEL_ROOT_CA_CRL, PcsClient};

#[cfg(feature = "fetch")]
mod http {
    use super::{CollateralSource, FetchError, PckCa};
    use crate::collateral::{Collateral, PcsCollateral};

    /// Intel's Provisioning Certification Service.
    pub const INTEL_PCS: &str = "https://api.trustedservices.intel.com";
    /// Where Intel publishes the SGX Root CA CRL (PCS itself does not serve it).
    pub const INTEL_ROOT_CA_CRL: &str =
        "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

    /// Fetches collateral from Intel PCS or a PCCS (API v4) over HTTPS. TLS roots: webpki's
    /// (Mozilla's) by default, or exactly the caller's with [`PcsClient::with_roots`] (a PCCS
    /// under a private CA, pinned without environment variables). Plain `http` URLs are refused
    /// ([`FetchError::NotHttps`]) unless [`PcsClient::allow_plain_http_for_tests`].
    #[derive(Debug, Clone)]
    pub struct PcsClient {
        base_url: String,
        root_ca_crl_url: String,
        agent: ureq::Agent,
        allow_plain_http: bool,
    }

    fn agent(roots: ureq::tls::RootCerts) -> ureq::Agent {
        ureq::Agent::config_builder()
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .http_status_as_error(false)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
            .build()
            .into()
    }

    struct Response {
        body: Vec<u8>,
        issuer_chain: Option<Vec<u8>>,
    }

    impl PcsClient {
        /// A client of Intel PCS.
        pub fn intel() -> PcsClient {
            PcsClient::new(INTEL_PCS, INTEL_ROOT_CA_CRL)
        }

        /// A client of a PCCS at `base_url`, which also serves the root CA CRL.
        pub fn pccs(base_url: &str) -> PcsClient {
            let base = base_url.trim_end_matches('/');
            PcsClient::new(base, &format!("{base}/sgx/certification/v4/rootcacrl"))
        }

        /// A client with explicit service and root CA CRL URLs.
        pub fn new(base_url: &str, root_ca_crl_url: &str) -> PcsClient {
            PcsClient {
                base_url: base_url.trim_end_matches('/').to_owned(),
                root_ca_crl_url: root_ca_crl_url.to_owned(),
                agent: agent(ureq::tls::RootCerts::WebPki),
                allow_plain_http: false,
            }
        }

        /// Trusts exactly `roots` (DER certificates) for TLS, instead of webpki's roots: a
        /// PCCS whose certificate a private CA issued. Any other server certificate is refused
        /// before a request is sent.
        #[must_use]
        pub fn with_roots(mut self, roots: &[rustls_pki_types::CertificateDer<'_>]) -> PcsClient {
            let roots: Vec<_> = roots
                .iter()
                .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
                .collect();
            self.agent = agent(ureq::tls::RootCerts::new_with_certs(&roots));
            self
        }

        /// **Tests only**: also fetches `http://` URLs (a loopback server in a test).
        #[must_use]
        pub fn allow_plain_http_for_tests(mut self) -> PcsClient {
            self.allow_plain_http = true;
            self
        }

        fn get(
            &self,
            url: &str,
            issuer_header: Option<&'static str>,
        ) -> Result<Response, FetchError> {
            let http = |reason: String| FetchError::Http {
                url: url.to_owned(),
                reason,
            };
            let https = url
                .get(..8)
                .is_some_and(|s| s.eq_ignore_ascii_case("https://"));
            let plain = url
                .get(..7)
                .is_some_and(|s| s.eq_ignore_ascii_case("http://"));
            if !(https || (plain && self.allow_plain_http)) {
                return Err(FetchError::NotHttps {
                    url: url.to_owned(),
                });
            }
            let mut response = self
                .agent
                .get(url)
                .call()
                .map_err(|e| http(e.to_string()))?;
            if !response.status().is_success() {
                return Err(http(format!("status {}", response.status())));
            }
            let issuer_chain = match issuer_header {
                None => None,
                Some(header) => Some(
                    response
                        .headers()
                        .get(header)
                        .map(|v| v.as_bytes().to_vec())
                        .ok_or_else(|| FetchError::MissingHeader {
                            url: url.to_owned(),
                            header,
                        })?,
                ),
            };
            let body = response
                .body_mut()
                .with_config()
                .limit(crate::collateral::MAX_PART_LEN as u64)
                .read_to_vec()
                .map_err(|e| http(e.to_string()))?;
            Ok(Response { body, issuer_chain })
        }
    }

    impl CollateralSource for PcsClient {
        fn collateral(&self, fmspc: &[u8; 6], ca: PckCa) -> Result<Collateral, FetchError> {
            let base = &self.base_url;
            let tcb = self.get(
                &format!(
                    "{base}/tdx/certification/v4/tcb?fmspc={}",
                    hex::encode_upper(fmspc)
                ),
                Some("TCB-Info-Issuer-Chain"),
            )?;
            let qe = self.get(
                &format!("{base}/tdx/certification/v4/qe/identity"),
                Some("SGX-Enclave-Identity-Issuer-Chain"),
            )?;
            let crl = self.get(
                &format!(
                    "{base}/sgx/certification/v4/pckcrl?ca={}&encoding=der",
                    ca.as_str()
                ),
                Some("SGX-PCK-CRL-Issuer-Chain"),
            )?;
            let root = self.get(&self.root_ca_crl_url, None)?;
            Ok(Collateral::from_pcs(PcsCollateral {
                tcb_info_response: &tcb.body,
                tcb_info_issuer_chain: tcb.issuer_chain.as_deref().unwrap_or_default(),
                qe_identity_response: &qe.body,
                qe_identity_issuer_chain: qe.issuer_chain.as_deref().unwrap_or_default(),
                pck_crl: &crl.body,
                pck_crl_issuer_chain: crl.issuer_chain.as_deref().unwrap_or_default(),
                root_ca_crl: &root.body,
            })?)
        }
    }
}
