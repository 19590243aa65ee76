//! The HTTP server loop of the servers that face anonymous clients (`ohttp-gateway`,
//! `private-llm-proxy`): `axum::serve` with the connection limits it lacks.
//!
//! `axum::serve` accepts every connection and waits for a request head for ever (hyper's
//! header timeout needs a timer it is not given), so a client that opens connections and
//! sends a head one byte at a time (slowloris) holds a task and a file descriptor each until
//! the process runs out. Here:
//!
//! - at most [`ConnectionLimits::max_connections`] connections are served at once; one more
//!   is closed as soon as it is accepted, before anything is read from it;
//! - a request head must arrive within [`ConnectionLimits::header_read_timeout`] of the
//!   connection's start (and of the previous request's end, on a kept-alive connection),
//!   or the connection is closed.
//!
//! An upgraded connection (a WebSocket) leaves the count once upgraded: the proxy's sessions
//! are counted by attested-noise's `ServerLimits::max_sessions` instead.
//!
//! What follows the head has its own limits, decided in the protocol cores: the gateway's
//! request sizes, the proxy's handshake and idle timeouts (attested-ohttp `GatewayPolicy`,
//! attested-noise `ServerLimits`). These two are transport limits of this HTTP server, so they
//! live with it, not in the protocol libraries, which do no HTTP serving.

use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

/// The transport limits of [`serve`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// Connections served at once.
    pub max_connections: usize,
    /// How long a connection may take to send a request head.
    pub header_read_timeout: Duration,
}

impl Default for ConnectionLimits {
    /// 4,096 connections (the proxy's 1,024 sessions and as many others), 10 s for a head.
    fn default() -> Self {
        Self {
            max_connections: 4096,
            header_read_timeout: Duration::from_secs(10),
        }
    }
}

/// The command-line options of [`ConnectionLimits`].
#[derive(Clone, Debug, clap::Args)]
pub struct ConnectionArgs {
    /// Connections served at once; more are closed as soon as they are accepted.
    #[arg(long, default_value_t = ConnectionLimits::default().max_connections)]
    pub max_connections: usize,
    /// Milliseconds a connection may take to send a request head.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,
}

impl ConnectionArgs {
    /// The limits the options give.
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections,
            header_read_timeout: Duration::from_millis(self.header_timeout_ms),
        }
    }
}

/// Serves `app` on `listener` under `limits`, until accepting fails for good.
pub async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: ConnectionLimits,
) -> std::io::Result<()> {
    let open = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // HTTP/1.1 only: the clients speak it (ALPN http/1.1), and the head timeout is HTTP/1's.
    let mut builder = Builder::new(TokioExecutor::new()).http1_only();
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let builder = Arc::new(builder);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            // Out of file descriptors or a connection reset before accept: not fatal; pause so
            // that a full descriptor table does not spin the loop.
            Err(e) if is_transient(&e) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        // Over the limit: closed before a byte is read (dropping the stream closes it).
        let Ok(permit) = open.clone().try_acquire_owned() else {
            continue;
        };
        let service = TowerToHyperService::new(app.clone());
        let builder = builder.clone();
        tokio::spawn(async move {
            let _ = builder
                .serve_connection_with_upgrades(TokioIo::new(stream), service)
                .await;
            drop(permit);
        });
    }
}

fn is_transient(error: &std::io::Error) -> bool {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionReset, Interrupted};
    matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | Interrupted
    ) || error
        .raw_os_error()
        .is_some_and(|code| code == 24 || code == 23) // EMFILE, ENFILE
}
