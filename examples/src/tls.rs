//! TLS for every client the examples open: rustls, no OpenSSL.
//!
//! - By default the platform's roots, through `rustls-platform-verifier` (on Linux the system
//!   store as `rustls-native-certs` reads it, so `SSL_CERT_FILE` / `SSL_CERT_DIR` replace it,
//!   as they do for OpenSSL). `reqwest::Client::new()` uses the same verifier (reqwest's
//!   `rustls` feature, whose provider is aws-lc-rs: reqwest panics at `Client::new()` without
//!   one when built with `rustls-no-provider`, and every example and test builds clients that
//!   way). The configurations built here use ring explicitly.
//! - A pinned root where the protocol pins one ([`pinned_http`]): the Azure KMS's service
//!   certificate is then the only root, as its receipts are verified under it too.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

/// Why a TLS client could not be configured.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsSetupError {
    /// The pinned root is not a PEM certificate, or rustls refused it.
    #[error("pinned TLS root: {0}")]
    PinnedRoot(String),
    /// The platform verifier or the HTTP client could not be built.
    #[error("TLS client: {0}")]
    Client(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration that trusts the platform's roots.
pub fn platform_config() -> Result<ClientConfig, TlsSetupError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Client(e.to_string()))?
        .with_platform_verifier()
        .map_err(|e| TlsSetupError::Client(e.to_string()))?
        .with_no_client_auth())
}

/// A client configuration whose only roots are the certificates in `pem`.
pub fn pinned_config(pem: &[u8]) -> Result<ClientConfig, TlsSetupError> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(pem) {
        let cert = cert.map_err(|e| TlsSetupError::PinnedRoot(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| TlsSetupError::PinnedRoot(e.to_string()))?;
    }
    if roots.is_empty() {
        return Err(TlsSetupError::PinnedRoot(
            "no certificate in the PEM".into(),
        ));
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Client(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// An HTTP client whose only TLS roots are the certificates in `pem` (the Azure KMS: its
/// service certificate, attested-ohttp-client `ohttp-client/src/lib.rs:170-172`, which there
/// is added to the default roots; here it replaces them).
pub fn pinned_http(pem: &[u8]) -> Result<reqwest::Client, TlsSetupError> {
    let mut config = pinned_config(pem)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .map_err(|e| TlsSetupError::Client(e.to_string()))
}

/// An HTTP client with the platform's roots (what `reqwest::Client::new()` gives, with an
/// error instead of a panic when the platform verifier cannot start).
pub fn platform_http() -> Result<reqwest::Client, TlsSetupError> {
    let mut config = platform_config()?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .build()
        .map_err(|e| TlsSetupError::Client(e.to_string()))
}

/// The WebSocket connector for `wss://`, with the platform's roots.
pub fn ws_connector() -> Result<tokio_tungstenite::Connector, TlsSetupError> {
    Ok(tokio_tungstenite::Connector::Rustls(Arc::new(
        platform_config()?,
    )))
}
