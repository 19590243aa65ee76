//! The PCS/PCCS client against a local HTTP server serving a simulated platform's collateral,
//! and the refresh-by-nextUpdate cache.
#![cfg(all(feature = "test-http", feature = "sim"))]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use attested_tdx::collateral::{CollateralCache, CollateralSource, FetchError, PckCa, PcsClient};
use attested_tdx::sim::{QuoteFormat, SimPlatform};
use attested_tdx::{TcbStatus, TrustAnchor, UnixTime, Verifier};

const NOW: u64 = 1_750_000_000;

/// Serves PCCS-style responses on 127.0.0.1 for at most `max_requests` requests; records paths.
struct Server {
    base: String,
    paths: Arc<Mutex<Vec<String>>>,
    served: Arc<AtomicUsize>,
}

fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

trait Stream: std::io::Read + std::io::Write {}
impl<T: std::io::Read + std::io::Write> Stream for T {}

fn serve(platform: &SimPlatform, max_requests: usize) -> Server {
    serve_with(platform, max_requests, None)
}

/// As [`serve`], over TLS with `tls` when given (a connection whose handshake fails is dropped
/// unserved).
fn serve_with(
    platform: &SimPlatform,
    max_requests: usize,
    tls: Option<rustls::ServerConfig>,
) -> Server {
    let pcs = platform.collateral_pcs().clone();
    let fmspc = hex::encode_upper(platform.config().fmspc);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let tls = tls.map(Arc::new);
    let base = format!("{scheme}://{}", listener.local_addr().unwrap());
    let paths = Arc::new(Mutex::new(Vec::new()));
    let served = Arc::new(AtomicUsize::new(0));
    let (paths2, served2) = (Arc::clone(&paths), Arc::clone(&served));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(max_requests) {
            let tcp = stream.unwrap();
            let mut stream: Box<dyn Stream> = match &tls {
                Some(config) => Box::new(rustls::StreamOwned::new(
                    rustls::ServerConnection::new(config.clone()).unwrap(),
                    tcp,
                )),
                None => Box::new(tcp),
            };
            let mut reader = BufReader::new(&mut stream);
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue; // the client refused the handshake
            }
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
            }
            drop(reader);
            let path = request_line
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let (status, header, body): (&str, Option<(&str, String)>, Vec<u8>) =
                match path.as_str() {
                    p if p == format!("/tdx/certification/v4/tcb?fmspc={fmspc}") => (
                        "200 OK",
                        Some((
                            "TCB-Info-Issuer-Chain",
                            url_encode(&pcs.tcb_info_issuer_chain),
                        )),
                        pcs.tcb_info_json.clone().into_bytes(),
                    ),
                    "/tdx/certification/v4/qe/identity" => (
                        "200 OK",
                        Some((
                            "SGX-Enclave-Identity-Issuer-Chain",
                            url_encode(&pcs.qe_identity_issuer_chain),
                        )),
                        pcs.qe_identity_json.clone().into_bytes(),
                    ),
                    "/sgx/certification/v4/pckcrl?ca=platform&encoding=der" => (
                        "200 OK",
                        Some((
                            "SGX-PCK-CRL-Issuer-Chain",
                            url_encode(&pcs.pck_crl_issuer_chain),
                        )),
                        pcs.pck_crl.clone(),
                    ),
                    // PCCS serves the root CA CRL as hex text.
                    "/sgx/certification/v4/rootcacrl" => {
                        ("200 OK", None, hex::encode(&pcs.root_ca_crl).into_bytes())
                    }
                    _ => ("404 Not Found", None, b"no such collateral".to_vec()),
                };
            paths2.lock().unwrap().push(path);
            let mut head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n",
                body.len()
            );
            if let Some((name, value)) = header {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            // Counted before the answer goes out: the client may read it and return before
            // this thread runs again, so counting after writing raced with the assertions.
            served2.fetch_add(1, Ordering::SeqCst);
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
            stream.flush().unwrap();
        }
    });
    Server {
        base,
        paths,
        served,
    }
}

#[test]
fn fetched_collateral_verifies_a_simulated_quote() {
    let platform = SimPlatform::from_seed(b"fetch", NOW).unwrap();
    let server = serve(&platform, 4);
    let client = PcsClient::pccs(&server.base).allow_plain_http_for_tests();
    let collateral = client
        .collateral(&platform.config().fmspc, PckCa::Platform)
        .unwrap();
    assert_eq!(server.served.load(Ordering::SeqCst), 4);
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let verifier = Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap());
    let verified = verifier
        .verify_bytes(&quote, &collateral, UnixTime(NOW))
        .unwrap();
    assert_eq!(verified.tcb_status(), TcbStatus::UpToDate);
}

#[test]
fn the_cache_refetches_only_after_next_update() {
    let platform = SimPlatform::from_seed(b"fetch", NOW).unwrap();
    let server = serve(&platform, 8);
    let pccs = PcsClient::pccs(&server.base).allow_plain_http_for_tests();
    let mut cache = CollateralCache::new();
    let fmspc = platform.config().fmspc;
    assert!(
        cache
            .fresh(&fmspc, PckCa::Platform, UnixTime(NOW))
            .is_none()
    );
    let first = cache
        .get_or_fetch(&pccs, &fmspc, PckCa::Platform, UnixTime(NOW))
        .unwrap();
    let next_update = first.next_update().unwrap();
    assert!(next_update > UnixTime(NOW));
    let again = cache
        .get_or_fetch(&pccs, &fmspc, PckCa::Platform, next_update)
        .unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    assert_eq!(
        server.paths.lock().unwrap().len(),
        4,
        "served from the cache"
    );
    assert!(
        cache
            .fresh(&fmspc, PckCa::Platform, UnixTime(next_update.0 + 1))
            .is_none(),
        "due after nextUpdate"
    );
    cache
        .get_or_fetch(&pccs, &fmspc, PckCa::Platform, UnixTime(next_update.0 + 1))
        .unwrap();
    assert_eq!(
        server.paths.lock().unwrap().len(),
        8,
        "refetched after nextUpdate"
    );
}

#[test]
fn an_unknown_fmspc_is_an_http_error_naming_the_url() {
    let platform = SimPlatform::from_seed(b"fetch", NOW).unwrap();
    let server = serve(&platform, 1);
    let err = PcsClient::pccs(&server.base)
        .allow_plain_http_for_tests()
        .collateral(&[0xff; 6], PckCa::Platform)
        .unwrap_err();
    match err {
        FetchError::Http { url, reason } => {
            assert!(url.ends_with("fmspc=FFFFFFFFFFFF"), "{url}");
            assert!(reason.contains("404"), "{reason}");
        }
        other => panic!("{other}"),
    }
}

/// A CA made by the test (the workspace's test PKI) and a server configuration under a
/// certificate it issues for 127.0.0.1.
fn test_ca(
    name: &str,
) -> (
    rustls_pki_types::CertificateDer<'static>,
    rustls::ServerConfig,
) {
    let ca = attested_testdata::tls::TestCa::new(name).unwrap();
    (ca.der(), ca.server_config().unwrap())
}

#[test]
fn https_collateral_under_the_given_roots_only() {
    let platform = SimPlatform::from_seed(b"fetch", NOW).unwrap();
    let (ca, config) = test_ca("PCCS");
    let (foreign, _) = test_ca("foreign");
    let server = serve_with(&platform, 12, Some(config));
    PcsClient::pccs(&server.base)
        .with_roots(std::slice::from_ref(&ca))
        .collateral(&platform.config().fmspc, PckCa::Platform)
        .unwrap();
    assert_eq!(server.served.load(Ordering::SeqCst), 4);
    // The root CA CRL URL is held to https too: the PCCS parts come, the CRL is not asked for.
    let crl = format!("{}/sgx/certification/v4/rootcacrl", server.base).replace("https:", "http:");
    let err = PcsClient::new(&server.base, &crl)
        .with_roots(&[ca])
        .collateral(&platform.config().fmspc, PckCa::Platform)
        .unwrap_err();
    assert!(
        matches!(err, FetchError::NotHttps { ref url } if *url == crl),
        "{err}"
    );
    assert_eq!(server.served.load(Ordering::SeqCst), 7);
    // Another CA, and webpki's roots (the default): refused in the handshake, nothing served.
    for client in [
        PcsClient::pccs(&server.base).with_roots(&[foreign]),
        PcsClient::pccs(&server.base),
    ] {
        match client.collateral(&platform.config().fmspc, PckCa::Platform) {
            Err(FetchError::Http { reason, .. }) => {
                assert!(reason.contains("invalid peer certificate"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(server.served.load(Ordering::SeqCst), 7);
}

#[test]
fn plain_http_is_refused_without_the_test_opt_in() {
    let platform = SimPlatform::from_seed(b"fetch", NOW).unwrap();
    let server = serve(&platform, 1);
    for base in [server.base.as_str(), "ftp://127.0.0.1:1", "127.0.0.1:1"] {
        let err = PcsClient::pccs(base)
            .collateral(&platform.config().fmspc, PckCa::Platform)
            .unwrap_err();
        assert!(matches!(err, FetchError::NotHttps { .. }), "{err}");
    }
    assert!(server.paths.lock().unwrap().is_empty());
}
