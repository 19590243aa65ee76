//! An HTTP(S) JWKS fetcher (feature `fetch`): the only network code of the crate.

use std::io::Read as _;
use std::time::Duration;

use crate::cache::JwksFetcher;
use crate::error::Error;

/// Fetches a JWKS with `GET` from one fixed URL (the issuer's documented key URL, never a `jku`
/// taken from a token). Redirects are not followed. Only `https` URLs are fetched; plain
/// `http` needs the explicit [`HttpFetcher::allow_plain_http_for_tests`]. TLS roots: webpki's
/// (Mozilla's) by default, or exactly the caller's with [`HttpFetcher::with_roots`] (a private
/// CA, pinned without environment variables).
#[derive(Debug)]
pub struct HttpFetcher {
    url: String,
    agent: ureq::Agent,
    allow_plain_http: bool,
}

impl HttpFetcher {
    /// A fetcher for `url` with a 10 s timeout.
    pub fn new(url: impl Into<String>) -> Self {
        HttpFetcher {
            url: url.into(),
            agent: agent(ureq::tls::RootCerts::WebPki),
            allow_plain_http: false,
        }
    }

    /// Trusts exactly `roots` (DER certificates) for the TLS connection, instead of webpki's
    /// roots: a JWKS served under a private CA. A server certificate from any other CA is
    /// refused before a request is sent.
    pub fn with_roots(mut self, roots: &[rustls_pki_types::CertificateDer<'_>]) -> Self {
        let roots: Vec<_> = roots
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der).to_owned())
            .collect();
        self.agent = agent(ureq::tls::RootCerts::new_with_certs(&roots));
        self
    }

    /// **Tests only**: also fetches `http://` URLs (a loopback server in a test). A JWKS
    /// trusted through its transport is worthless over plain HTTP.
    pub fn allow_plain_http_for_tests(mut self) -> Self {
        self.allow_plain_http = true;
        self
    }
}

fn agent(roots: ureq::tls::RootCerts) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .max_redirects(0)
        .http_status_as_error(true)
        .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build())
        .build()
        .into()
}

impl JwksFetcher for HttpFetcher {
    fn fetch(&mut self, max_len: usize) -> Result<Vec<u8>, Error> {
        let fail = |e: &dyn std::fmt::Display| Error::Fetch(format!("{}: {e}", self.url));
        let uri: ureq::http::Uri = self.url.parse().map_err(|e| fail(&e))?;
        match uri.scheme_str() {
            Some("https") => {}
            Some("http") if self.allow_plain_http => {}
            other => {
                return Err(fail(&format!(
                    "scheme {:?} refused: only https",
                    other.unwrap_or("")
                )));
            }
        }
        let response = self.agent.get(&self.url).call().map_err(|e| fail(&e))?;
        let mut body = Vec::new();
        let limit = u64::try_from(max_len).unwrap_or(u64::MAX).saturating_add(1);
        response
            .into_body()
            .into_reader()
            .take(limit)
            .read_to_end(&mut body)
            .map_err(|e| fail(&e))?;
        crate::limits::check("fetched JWKS", body.len(), max_len)?;
        Ok(body)
    }
}
