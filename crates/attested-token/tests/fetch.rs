//! The HTTP fetcher against a local server on 127.0.0.1 started by the test.
#![cfg(feature = "fetch")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use attested_token::jwks_cache::{HttpFetcher, JwksCache, JwksFetcher};
use attested_token::{Error, Limits, UnixTime};

/// Serves `status` and `body` to every request until the test ends; counts requests.
fn serve(status: &'static str, body: Vec<u8>) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/certs", listener.local_addr().unwrap());
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap() > 2 {
                line.clear();
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            stream.write_all(head.as_bytes()).unwrap();
            stream.write_all(&body).unwrap();
        }
    });
    (url, count)
}

fn at(s: u64) -> UnixTime {
    UnixTime(s)
}

#[test]
fn cache_fetches_over_http_once_per_cooldown() {
    let jwks = br#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}]}"#;
    let (url, count) = serve("200 OK", jwks.to_vec());
    let mut fetcher = HttpFetcher::new(url).allow_plain_http_for_tests();
    let mut cache = JwksCache::unchained_trusting_transport().cooldown(Duration::from_secs(30));
    let keys = cache.refresh(&mut fetcher, Some("k1"), at(100)).unwrap();
    assert!(keys.contains_kid("k1"));
    for i in 0..20 {
        let _ = cache.refresh(&mut fetcher, Some(&format!("unknown-{i}")), at(101 + i));
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
    let _ = cache
        .refresh(&mut fetcher, Some("unknown"), at(131))
        .unwrap();
    assert_eq!(count.load(Ordering::SeqCst), 2);
}

#[test]
fn http_errors_and_oversize_bodies_are_refused() {
    let (url, _) = serve("404 Not Found", b"{}".to_vec());
    assert!(matches!(
        HttpFetcher::new(url)
            .allow_plain_http_for_tests()
            .fetch(1024),
        Err(Error::Fetch(_))
    ));
    let (url, _) = serve("200 OK", vec![b' '; 5000]);
    assert!(matches!(
        HttpFetcher::new(url)
            .allow_plain_http_for_tests()
            .fetch(4096),
        Err(Error::TooLarge { .. })
    ));
    let mut cache = JwksCache::unchained_trusting_transport().limits(Limits {
        jwks: 4096,
        ..Limits::default()
    });
    let (url, _) = serve("200 OK", vec![b' '; 5000]);
    assert!(matches!(
        cache.refresh(
            &mut HttpFetcher::new(url).allow_plain_http_for_tests(),
            None,
            at(0)
        ),
        Err(Error::TooLarge { .. })
    ));
}

#[test]
fn plain_http_is_refused_without_the_test_opt_in() {
    let (url, count) = serve("200 OK", b"{\"keys\":[]}".to_vec());
    let err = HttpFetcher::new(url.clone()).fetch(1024).unwrap_err();
    assert!(
        matches!(&err, Error::Fetch(detail) if detail.contains("only https")),
        "{err}"
    );
    for other in [
        "ftp://127.0.0.1/certs",
        "file:///etc/passwd",
        "127.0.0.1/certs",
    ] {
        assert!(matches!(
            HttpFetcher::new(other).fetch(1024),
            Err(Error::Fetch(_))
        ));
    }
    // Nothing reached the server.
    assert_eq!(count.load(Ordering::SeqCst), 0);
    assert!(
        HttpFetcher::new(url)
            .allow_plain_http_for_tests()
            .fetch(1024)
            .is_ok()
    );
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

/// Serves `body` over TLS with `config`; counts requests that got past the handshake.
fn serve_tls(config: rustls::ServerConfig, body: &'static [u8]) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/certs", listener.local_addr().unwrap());
    let config = Arc::new(config);
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let connection = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(connection, stream.unwrap());
            let mut reader = BufReader::new(&mut tls);
            let mut line = String::new();
            let mut handshake_ok = true;
            loop {
                line.clear();
                match reader.read_line(&mut line) {
                    Ok(n) if n > 2 => {}
                    Ok(_) => break,
                    Err(_) => {
                        handshake_ok = false;
                        break;
                    }
                }
            }
            if !handshake_ok {
                continue;
            }
            seen.fetch_add(1, Ordering::SeqCst);
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            let _ = tls.write_all(head.as_bytes());
            let _ = tls.write_all(body);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    (url, count)
}

#[test]
fn https_under_the_given_roots_only() {
    let (ca, config) = test_ca("JWKS");
    let (foreign, _) = test_ca("foreign");
    let (url, count) = serve_tls(config, b"{\"keys\":[]}");
    let body = HttpFetcher::new(url.clone())
        .with_roots(&[ca])
        .fetch(1024)
        .unwrap();
    assert_eq!(body, b"{\"keys\":[]}");
    assert_eq!(count.load(Ordering::SeqCst), 1);
    // Another CA, and webpki's roots (the default): refused in the handshake, no request.
    for fetcher in [
        HttpFetcher::new(url.clone()).with_roots(&[foreign]),
        HttpFetcher::new(url),
    ] {
        let mut fetcher = fetcher;
        let err = fetcher.fetch(1024).unwrap_err();
        assert!(
            matches!(&err, Error::Fetch(detail) if detail.contains("invalid peer certificate")),
            "{err}"
        );
    }
    assert_eq!(count.load(Ordering::SeqCst), 1);
}
