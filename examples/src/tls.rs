//! TLS for every client the examples open: rustls with ring, no OpenSSL, no aws-lc.
//!
//! Every HTTP client and WebSocket connector of the examples (and of their tests) is built here,
//! on a rustls [`ClientConfig`] whose crypto provider is ring. reqwest is built with
//! `rustls-no-provider` and tokio-tungstenite with `rustls-tls-native-roots`, so neither carries a
//! provider of its own: `reqwest::Client::new()`, `reqwest::get` and a bare
//! `tokio_tungstenite::connect_async` would panic or bypass these roots, and the workspace's
//! `clippy.toml` refuses them (`disallowed-methods`).
//!
//! - Roots by default: the platform's, through `rustls-platform-verifier`. On Linux that is the
//!   system store as `rustls-native-certs` reads it, so **`SSL_CERT_FILE` / `SSL_CERT_DIR`
//!   replace it**, exactly as they do for OpenSSL, curl and Python: that is how a private PKI or a
//!   test CA is given to every client (the tests start the programs with `SSL_CERT_FILE` naming
//!   their test CA). No flag weakens the check; a certificate from another CA is refused.
//! - A pinned root where the protocol pins one ([`pinned_http`]): the Azure KMS's service
//!   certificate is then the only root, as its receipts are verified under it too.
//! - Timeouts on every client ([`HttpTimeouts`]: 10 s to connect, 300 s for a whole exchange
//!   by default), and one way to read a body, [`read_capped`], refused past a limit: a server
//!   (or whoever answers in its place) that stalls or floods costs the client an error, not its
//!   time or memory.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;

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

/// Where every client configuration starts: ring, with rustls' safe default protocol versions.
fn ring_builder()
-> Result<rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier>, TlsSetupError> {
    ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsSetupError::Client(e.to_string()))
}

/// A client configuration that trusts the platform's roots.
pub fn platform_config() -> Result<ClientConfig, TlsSetupError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    Ok(ring_builder()?
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
    Ok(ring_builder()?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// How long an HTTP client waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpTimeouts {
    /// To open the TCP connection (and TLS).
    pub connect: Duration,
    /// For a whole exchange: from connecting until the answer's body has been read.
    pub total: Duration,
}

impl Default for HttpTimeouts {
    /// 10 s to connect, 300 s for an exchange (a long audio file's upload and transcription).
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            total: Duration::from_secs(300),
        }
    }
}

impl HttpTimeouts {
    fn apply(self, builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
        builder.connect_timeout(self.connect).timeout(self.total)
    }
}

/// An HTTP client whose only TLS roots are the certificates in `pem` (the Azure KMS: its
/// service certificate, attested-ohttp-client `ohttp-client/src/lib.rs:170-172`, which there
/// is added to the default roots; here it replaces them), with the default timeouts.
pub fn pinned_http(pem: &[u8]) -> Result<reqwest::Client, TlsSetupError> {
    build(HttpTimeouts::default().apply(builder(pinned_config(pem)?)))
}

/// An HTTP client builder with the platform's roots, for callers that add timeouts or a
/// redirect policy. TLS settings of the builder are ignored: the configuration is ring's.
pub fn http_builder() -> Result<reqwest::ClientBuilder, TlsSetupError> {
    Ok(builder(platform_config()?))
}

/// A builder for a server's own hop to its backend or target, which carries what the server
/// decrypted: as [`http_builder`], but
///
/// - never through a proxy named in the environment (`HTTP_PROXY`, `ALL_PROXY`...), which
///   would see every plaintext request and could answer in the backend's place;
/// - never following a redirect: the target's answer, a 3xx included, is what the client
///   gets, and a `Location` must not send the server (with the client's decrypted request) to
///   another host, such as a metadata service, whose answer the client would then read.
pub fn decrypted_hop_builder() -> Result<reqwest::ClientBuilder, TlsSetupError> {
    Ok(http_builder()?
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none()))
}

/// An HTTP client with the platform's roots and the default timeouts.
pub fn http() -> Result<reqwest::Client, TlsSetupError> {
    http_with(HttpTimeouts::default())
}

/// An HTTP client with the platform's roots and `timeouts`.
pub fn http_with(timeouts: HttpTimeouts) -> Result<reqwest::Client, TlsSetupError> {
    build(timeouts.apply(http_builder()?))
}

/// A response body read as it arrives, refused once it is over `max` bytes (never more than
/// `max` plus one network piece is held).
pub async fn read_capped(response: reqwest::Response, max: usize) -> Result<Vec<u8>, BodyError> {
    let mut body = Vec::new();
    let mut pieces = response.bytes_stream();
    while let Some(piece) = pieces.next().await {
        let piece = piece.map_err(|e| BodyError::Read(crate::error_chain(&e.without_url())))?;
        if body.len().saturating_add(piece.len()) > max {
            return Err(BodyError::TooLarge(max));
        }
        body.extend_from_slice(&piece);
    }
    Ok(body)
}

/// Why [`read_capped`] gave no body.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BodyError {
    /// The body is over the limit.
    #[error("answer larger than {0} bytes")]
    TooLarge(usize),
    /// Reading it failed (a timeout, a reset connection).
    #[error("reading the answer: {0}")]
    Read(String),
}

/// `GET url` with [`http`] (what `reqwest::get` is elsewhere; used by the tests).
pub async fn get(url: impl reqwest::IntoUrl) -> Result<reqwest::Response, BoxError> {
    Ok(http()?.get(url).send().await?)
}

/// The WebSocket connector for `wss://`, with the platform's roots.
pub fn ws_connector() -> Result<tokio_tungstenite::Connector, TlsSetupError> {
    Ok(tokio_tungstenite::Connector::Rustls(Arc::new(
        platform_config()?,
    )))
}

/// A WebSocket client connection to `url` (`ws://` plain, `wss://` through [`ws_connector`])
/// with `config`: what `tokio_tungstenite::connect_async_with_config` is elsewhere.
pub async fn ws_connect(
    url: &str,
    config: Option<tokio_tungstenite::tungstenite::protocol::WebSocketConfig>,
) -> Result<WsStream, tokio_tungstenite::tungstenite::Error> {
    let connector = if url.starts_with("wss://") {
        Some(ws_connector().map_err(|e| {
            tokio_tungstenite::tungstenite::Error::Io(std::io::Error::other(e.to_string()))
        })?)
    } else {
        None
    };
    let (socket, _) =
        tokio_tungstenite::connect_async_tls_with_config(url, config, false, connector).await?;
    Ok(socket)
}

/// The client side of a WebSocket, plain or TLS.
pub type WsStream =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn builder(mut config: ClientConfig) -> reqwest::ClientBuilder {
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place a reqwest client is built, with ring's configuration"
    )]
    let builder = reqwest::Client::builder();
    builder.tls_backend_preconfigured(config)
}

fn build(builder: reqwest::ClientBuilder) -> Result<reqwest::Client, TlsSetupError> {
    builder
        .build()
        .map_err(|e| TlsSetupError::Client(e.to_string()))
}
