//! TLS servers for tests and stand-ins: a test CA made with rcgen, server certificates it issues
//! for loopback, and the loops that serve an axum app (or forward raw bytes) over TLS. **Test
//! keys only.** Clients are given the CA as a user gives a private PKI: `SSL_CERT_FILE` naming
//! [`TestCa::pem`] (see [`crate::tls`]).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};

pub use attested_testdata::tls::{TestCa, TestTlsError, server_config};

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
