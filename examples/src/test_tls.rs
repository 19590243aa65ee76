//! TLS servers for tests and stand-ins: a test CA made with rcgen, server certificates it issues
//! for loopback, and the loops that serve an axum app (or forward raw bytes) over TLS. **Test
//! keys only.** Clients are given the CA as a user gives a private PKI: `SSL_CERT_FILE` naming
//! [`TestCa::pem`] (see [`crate::tls`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};

/// Why a test TLS server could not be set up.
pub type TestTlsError = Box<dyn std::error::Error + Send + Sync>;

/// A self-signed test CA.
pub struct TestCa {
    pem: String,
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new CA whose common name is `name`.
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
            issuer: rcgen::Issuer::new(params, key),
        })
    }

    /// The CA certificate (PEM), what `SSL_CERT_FILE` names.
    pub fn pem(&self) -> &str {
        &self.pem
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
    cert: rustls_pki_types::CertificateDer<'static>,
    key: Vec<u8>,
) -> Result<rustls::ServerConfig, TestTlsError> {
    let key = rustls_pki_types::PrivateKeyDer::try_from(key)?;
    Ok(rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)?)
}

/// A loopback listener on a free port.
pub async fn loopback() -> Result<(TcpListener, SocketAddr), TestTlsError> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    let addr = listener.local_addr()?;
    Ok((listener, addr))
}

/// Serves `app` over TLS with `config` on `listener`. A client that refuses the certificate
/// never gets a request to `app`.
pub async fn serve_tls(listener: TcpListener, config: rustls::ServerConfig, app: Router) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        let app = app.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper_util::service::TowerToHyperService::new(app);
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
        });
    }
}

/// Terminates TLS with `config` on `listener` and forwards each connection's bytes to the plain
/// server at `backend` (a TLS front for a server that speaks only plain HTTP). A connection whose
/// handshake fails is dropped before the backend is dialled; `forwarded` counts the others.
pub async fn forward_tls(
    listener: TcpListener,
    config: rustls::ServerConfig,
    backend: SocketAddr,
    forwarded: Arc<std::sync::atomic::AtomicUsize>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    while let Ok((tcp, _)) = listener.accept().await {
        let acceptor = acceptor.clone();
        let forwarded = forwarded.clone();
        tokio::spawn(async move {
            let Ok(mut tls) = acceptor.accept(tcp).await else {
                return;
            };
            forwarded.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let Ok(mut plain) = TcpStream::connect(backend).await else {
                return;
            };
            let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
        });
    }
}
