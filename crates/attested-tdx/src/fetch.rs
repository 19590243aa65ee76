//! Collateral sources: where [`Collateral`] comes from, and a caller-owned cache that says when
//! its earliest nextUpdate has passed. The HTTP source for Intel PCS or a PCCS is behind the `fetch`
//! feature; verification never fetches anything itself.

use std::collections::HashMap;
use std::sync::Arc;

use crate::collateral_data::Collateral;
use crate::errors::VerifyError;
use crate::time::UnixTime;

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
    /// The URL is not `https` (plain `http` needs feature `test-http` and
    /// `PcsClient::allow_plain_http_for_tests`).
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

/// How many (FMSPC, PCK CA) entries a [`CollateralCache`] holds; past it, the entry due first
/// is dropped. Intel lists a few hundred FMSPCs, and an entry exists only for collateral the
/// caller fetched, so a fleet's platforms fit while the memory stays bounded.
pub const COLLATERAL_CACHE_ENTRIES: usize = 256;

/// A store of fetched collateral, reused until its earliest nextUpdate.
///
/// It follows the workspace's cache pattern for fetched inputs (`docs/ARCHITECTURE.md`,
/// "Caches"), like attested-token's `JwksCache`: the caller owns it (a plain value; methods that
/// change it take `&mut self`, so threads share it behind the caller's lock), and the caller does
/// the I/O: [`CollateralCache::fresh`] answers from the store or says a fetch is due,
/// [`CollateralCache::accept`] stores what the caller fetched. [`CollateralCache::get_or_fetch`]
/// runs a [`CollateralSource`] the caller passes for that one call. A clone is an independent
/// copy (the collateral itself is shared by `Arc` and immutable). Stale collateral is never
/// served: past its nextUpdate an entry is due, and a failed fetch is the caller's error.
#[derive(Debug, Clone, Default)]
pub struct CollateralCache {
    entries: HashMap<([u8; 6], PckCa), (Arc<Collateral>, UnixTime)>,
}

impl CollateralCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }

    /// The cached collateral for `fmspc` and `ca` while `now` is not past its earliest
    /// nextUpdate; `None` when it is missing or due, and the caller should fetch.
    pub fn fresh(&self, fmspc: &[u8; 6], ca: PckCa, now: UnixTime) -> Option<Arc<Collateral>> {
        self.entries
            .get(&(*fmspc, ca))
            .filter(|(_, next_update)| now <= *next_update)
            .map(|(collateral, _)| Arc::clone(collateral))
    }

    /// Stores collateral the caller fetched for `fmspc` and `ca`, replacing the entry, and
    /// returns it shared. Refused (and nothing stored) when its nextUpdate cannot be read.
    pub fn accept(
        &mut self,
        fmspc: &[u8; 6],
        ca: PckCa,
        collateral: Collateral,
    ) -> Result<Arc<Collateral>, FetchError> {
        let next_update = collateral.next_update()?;
        let collateral = Arc::new(collateral);
        let key = (*fmspc, ca);
        if !self.entries.contains_key(&key) && self.entries.len() >= COLLATERAL_CACHE_ENTRIES {
            let due_first = self
                .entries
                .iter()
                .min_by_key(|(_, (_, next_update))| *next_update)
                .map(|(key, _)| *key);
            if let Some(due_first) = due_first {
                self.entries.remove(&due_first);
            }
        }
        self.entries
            .insert(key, (Arc::clone(&collateral), next_update));
        Ok(collateral)
    }

    /// The fresh collateral at `now`, or else collateral fetched now from `source` (the
    /// caller's I/O, for this call) and stored.
    pub fn get_or_fetch<S: CollateralSource + ?Sized>(
        &mut self,
        source: &S,
        fmspc: &[u8; 6],
        ca: PckCa,
        now: UnixTime,
    ) -> Result<Arc<Collateral>, FetchError> {
        match self.fresh(fmspc, ca, now) {
            Some(collateral) => Ok(collateral),
            None => self.accept(fmspc, ca, source.collateral(fmspc, ca)?),
        }
    }

    /// How many entries the cache holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(feature = "fetch")]
pub use http::{INTEL_PCS, INTEL_ROOT_CA_CRL, PcsClient};

#[cfg(feature = "fetch")]
mod http {
    use super::{CollateralSource, FetchError, PckCa};
    use crate::collateral_data::{Collateral, PcsCollateral};

    /// Intel's Provisioning Certification Service.
    pub const INTEL_PCS: &str = "https://api.trustedservices.intel.com";
    /// Where Intel publishes the SGX Root CA CRL (PCS itself does not serve it).
    pub const INTEL_ROOT_CA_CRL: &str =
        "https://certificates.trustedservices.intel.com/IntelSGXRootCA.der";

    /// Fetches collateral from Intel PCS or a PCCS (API v4) over HTTPS. TLS roots: webpki's
    /// (Mozilla's) by default, or exactly the caller's with [`PcsClient::with_roots`] (a PCCS
    /// under a private CA, pinned without environment variables). Plain `http` URLs are refused
    /// ([`FetchError::NotHttps`]) unless `allow_plain_http_for_tests` (feature `test-http`).
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
        #[cfg(feature = "test-http")]
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
                .limit(crate::collateral_data::MAX_PART_LEN as u64)
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

#[cfg(all(test, feature = "sim"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::cell::Cell;

    use super::*;
    use crate::sim::SimPlatform;

    const NOW: u64 = 1_750_000_000;

    /// Serves one platform's collateral for any FMSPC, counting fetches, or fails when told.
    struct Counting {
        json: String,
        fetches: Cell<usize>,
        fail: bool,
    }

    impl CollateralSource for Counting {
        fn collateral(&self, _: &[u8; 6], _: PckCa) -> Result<Collateral, FetchError> {
            self.fetches.set(self.fetches.get() + 1);
            if self.fail {
                return Err(FetchError::Http {
                    url: "https://pccs.test/".into(),
                    reason: "503".into(),
                });
            }
            Ok(Collateral::from_qvl_json(self.json.as_bytes())?)
        }
    }

    fn source(fail: bool) -> Counting {
        let platform = SimPlatform::from_seed(b"cache", NOW).unwrap();
        Counting {
            json: platform.collateral_dcap_qvl_json().to_owned(),
            fetches: Cell::new(0),
            fail,
        }
    }

    #[test]
    fn the_store_is_bounded_and_drops_the_entry_due_first() {
        let source = source(false);
        let mut cache = CollateralCache::new();
        for i in 0..=COLLATERAL_CACHE_ENTRIES {
            let [.., high, low] = u32::try_from(i).unwrap().to_be_bytes();
            let fmspc = [0, 0, 0, 0, high, low];
            cache
                .get_or_fetch(&source, &fmspc, PckCa::Platform, UnixTime(NOW))
                .unwrap();
        }
        assert_eq!(cache.len(), COLLATERAL_CACHE_ENTRIES);
        assert_eq!(source.fetches.get(), COLLATERAL_CACHE_ENTRIES + 1);
    }

    #[test]
    fn a_failed_fetch_is_the_callers_error_and_stores_nothing() {
        let mut cache = CollateralCache::new();
        let err = cache
            .get_or_fetch(&source(true), &[1; 6], PckCa::Platform, UnixTime(NOW))
            .unwrap_err();
        assert!(matches!(err, FetchError::Http { .. }), "{err}");
        assert!(cache.is_empty());
    }

    #[test]
    fn a_clone_is_independent() {
        let source = source(false);
        let mut cache = CollateralCache::new();
        let copy = cache.clone();
        cache
            .get_or_fetch(&source, &[2; 6], PckCa::Platform, UnixTime(NOW))
            .unwrap();
        assert!(
            copy.fresh(&[2; 6], PckCa::Platform, UnixTime(NOW))
                .is_none()
        );
        assert!(
            cache
                .fresh(&[2; 6], PckCa::Platform, UnixTime(NOW))
                .is_some()
        );
        assert!(
            cache
                .fresh(&[2; 6], PckCa::Processor, UnixTime(NOW))
                .is_none()
        );
    }
}
