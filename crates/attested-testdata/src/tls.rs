//! A test PKI for TLS tests (feature `tls`): a self-signed CA made with rcgen and ring server
//! configurations under certificates it issues for `127.0.0.1`. **Test keys only.**

use std::sync::Arc;

use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Why a test CA or server configuration could not be made.
pub type TestTlsError = Box<dyn std::error::Error + Send + Sync>;

/// A self-signed test CA.
pub struct TestCa {
    pem: String,
    der: CertificateDer<'static>,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA whose common name is `name` followed by "test CA".
    pub fn new(name: &str) -> Result<Self, TestTlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("{name} test CA"));
        let cert = params.self_signed(&key)?;
        Ok(Self {
            pem: cert.pem(),
            der: cert.der().clone(),
            issuer: rcgen::Issuer::new(params, key),
        })
    }

    /// The CA certificate (PEM), what `SSL_CERT_FILE` names.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The CA certificate (DER), what a caller-given root set holds.
    pub fn der(&self) -> CertificateDer<'static> {
        self.der.clone()
    }

    /// A ring server configuration whose certificate this CA issues for `127.0.0.1`.
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TestTlsError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])?;
        let cert = params.signed_by(&key, &self.issuer)?;
        server_config(cert.der().clone(), key.serialize_der())
    }
}

/// A ring server configuration presenting `cert` with `key` (PKCS#8 DER).
pub fn server_config(
    cert: CertificateDer<'static>,
    key: Vec<u8>,
) -> Result<rustls::ServerConfig, TestTlsError> {
    let key = PrivateKeyDer::try_from(key)?;
    Ok(rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)?)
}
