//! The mock of `mock-relay`: a test stand-in for an Oblivious HTTP relay (RFC 9458 §4.1) in
//! front of one `ohttp-gateway`. NOT a production relay: no rate limits, no client
//! authentication, and it prints every client address it forwards for, so that a test can
//! show which peers each party saw.
//!
//! The relay resource is the relay's base URL; it exposes the gateway's resources under it,
//! and nothing else:
//!
//! - `POST /` is forwarded to the gateway's `POST /gateway`, body and answer streamed (one-shot
//!   and chunked requests alike), with only `content-type` copied each way (and the answer's
//!   `cache-control`): no client address, cookie or other header reaches the gateway.
//! - `GET /ohttp-keys`, `GET /attestation` (query string kept: Nitro nonces) and
//!   `GET /collateral` are forwarded to the same paths of the gateway, so that a client given
//!   only the relay (`whisper-client --relay URL`) fetches the keys, the evidence that binds
//!   them and the collateral without ever connecting to the gateway (RFC 9458 §6.1, §7). The
//!   evidence binds the keys, so a relay that swaps either is caught by the client's check
//!   (see [`crate::hostile`]).
//!
//! Every other route is 404. The gateway sees only the relay's connections, from
//! `outbound_from` when given (a test can bind it to another loopback address and tell the
//! relay's connections from the client's).

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;

/// The gateway's resources the relay forwards `GET`s of.
pub const FORWARDED_RESOURCES: [&str; 3] = ["/ohttp-keys", "/attestation", "/collateral"];

/// How the relay is set up.
#[derive(Clone, Debug)]
pub struct RelayOptions {
    /// The gateway's base URL (it serves `/gateway`, `/ohttp-keys`, `/attestation`,
    /// `/collateral`).
    pub gateway: String,
    /// The local address the relay's connections to the gateway come from.
    pub outbound_from: Option<IpAddr>,
}

struct Relay {
    gateway: reqwest::Url,
    http: reqwest::Client,
}

/// The gateway's base URL from `text` (no query, usable as a base).
pub fn gateway_base(text: &str) -> Result<reqwest::Url, String> {
    match reqwest::Url::parse(text) {
        Ok(url) if !url.cannot_be_a_base() && url.query().is_none() => Ok(url),
        _ => Err(format!("--gateway must be a base URL, not {text}")),
    }
}

/// The relay's routes. Serve them with `into_make_service_with_connect_info::<SocketAddr>()`:
/// the relay prints each client's address.
pub fn router(options: &RelayOptions) -> Result<Router, Box<dyn std::error::Error + Send + Sync>> {
    let gateway = gateway_base(&options.gateway)?;
    let mut http = crate::tls::http_builder()?
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(300));
    if let Some(from) = options.outbound_from {
        http = http.local_address(from);
    }
    let relay = Arc::new(Relay {
        gateway,
        http: http.build()?,
    });
    let mut routes = Router::new().route("/", post(forward_request));
    for resource in FORWARDED_RESOURCES {
        routes = routes.route(resource, get(forward_resource));
    }
    Ok(routes.with_state(relay))
}

/// The gateway URL for `path` (one of the relay's own routes) and `query`.
fn upstream(relay: &Relay, path: &str, query: Option<&str>) -> reqwest::Url {
    let mut url = relay.gateway.clone();
    let base = url.path().trim_end_matches('/').to_owned();
    url.set_path(&format!("{base}{path}"));
    url.set_query(query);
    url
}

async fn forward_request(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    println!("mock-relay: forwarding POST /gateway for {peer}");
    let mut request = relay
        .http
        .post(upstream(&relay, "/gateway", None))
        .body(reqwest::Body::wrap_stream(body.into_data_stream()));
    if let Some(content_type) = headers.get(header::CONTENT_TYPE) {
        request = request.header(header::CONTENT_TYPE, content_type.as_bytes());
    }
    relay_answer(request.send().await)
}

async fn forward_resource(
    State(relay): State<Arc<Relay>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    OriginalUri(uri): OriginalUri,
) -> Response {
    println!("mock-relay: forwarding GET {} for {peer}", uri.path());
    let url = upstream(&relay, uri.path(), uri.query());
    relay_answer(relay.http.request(Method::GET, url).send().await)
}

/// The gateway's answer as the client gets it: status, `content-type`, `cache-control` and
/// the body, streamed.
fn relay_answer(sent: Result<reqwest::Response, reqwest::Error>) -> Response {
    let Ok(answer) = sent else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = StatusCode::from_u16(answer.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let copied: Vec<(header::HeaderName, HeaderValue)> =
        [header::CONTENT_TYPE, header::CACHE_CONTROL]
            .into_iter()
            .filter_map(|name| {
                let value = answer.headers().get(name.as_str())?;
                Some((name, HeaderValue::from_bytes(value.as_bytes()).ok()?))
            })
            .collect();
    let body = answer
        .bytes_stream()
        .map(|frame| frame.map_err(std::io::Error::other));
    let mut response = Response::new(Body::from_stream(body));
    *response.status_mut() = status;
    response.headers_mut().extend(copied);
    response
}
