//! End to end on loopback: mock-whisper, ohttp-gateway on the simulated TDX platform, and
//! whisper-client verifying the gateway's quote with DCAP before it sends any audio.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::WhisperSetup;

#[tokio::test]
async fn verified_gateway_transcribes_the_audio_intact() {
    let setup = WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await;
    let digest = setup.audio_digest();
    for args in [&[][..], &["--chunked"][..]] {
        setup.assert_transcribes(args, "gateway TDX quote verified");
    }
    assert_eq!(setup.whisper.stop().matches(&digest).count(), 2);
}

/// Azure's dialect through the binaries: a one-shot request under the chunked media type, the
/// answer in chunks; a draft-chunked upload to that gateway is not read as Azure's.
#[tokio::test]
async fn the_azure_dialect_transcribes_the_audio_intact() {
    let setup = WhisperSetup::start_with(
        "sim",
        "/sim/root",
        "--trust-sim-root",
        &["--chunked-dialect", "azure"],
    )
    .await;
    let digest = setup.audio_digest();
    setup.assert_transcribes(&["--azure"], "gateway TDX quote verified");
    assert!(!setup.transcribe(&["--chunked"]).status.success());
    assert_eq!(setup.whisper.stop().matches(&digest).count(), 1);
}

/// A 25 MB chunked upload streams through the gateway: its peak resident set grows by a
/// small fraction of the upload, where the gateway that buffered the decrypted request grew
/// by about twice the upload.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_25_mb_chunked_upload_streams_through_the_gateway_in_bounded_memory() {
    const UPLOAD: usize = 25_000_000;
    let setup = WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await;
    // A small exchange first, so that the baseline includes the gateway's connection pools.
    setup.assert_transcribes(&["--chunked"], "gateway TDX quote verified");
    let baseline = setup.gateway.peak_rss_kib();
    setup.write_audio(UPLOAD);
    let digest = setup.audio_digest();
    let stderr = setup.assert_transcribes(&["--chunked"], "gateway TDX quote verified");
    // The progress bar reached the whole file, counted from bytes sent.
    assert!(stderr.contains("25.0/25.0 MB"), "{stderr}");
    let peak = setup.gateway.peak_rss_kib();
    let growth = peak.saturating_sub(baseline);
    println!(
        "gateway peak RSS (VmHWM): {baseline} KiB after a 20 kB upload, {peak} KiB after a \
         25 MB chunked upload (+{growth} KiB)"
    );
    assert!(
        growth < (UPLOAD / 1024) as u64,
        "the gateway grew by {growth} KiB for a {UPLOAD} byte upload"
    );
    assert_eq!(setup.whisper.stop().matches(&digest).count(), 1);
}

#[tokio::test]
async fn a_gateway_with_another_mrtd_never_gets_the_audio() {
    let setup = WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await;
    setup.assert_refused(&["--expect-mrtd", &"00".repeat(48)], "MRTD");
    // A simulated root other than the gateway's.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let other = attested_tdx::sim::SimPlatform::from_seed(b"another platform", now).unwrap();
    std::fs::write(setup.root_path(), other.root_certificate_pem()).unwrap();
    setup.assert_refused(&[], "DCAP verification failed");
    assert_eq!(setup.whisper.stop().matches("transcribed").count(), 0);
}

/// A relay that forwards one gateway's attestation but serves another gateway's keys: the client
/// refuses the keys, since the verified quote binds another key configuration list.
#[tokio::test]
async fn keys_the_verified_quote_does_not_bind_are_refused() {
    use attested_examples::hostile::serve_key_swapping_relay;
    use attested_examples::ohttp_gateway::{self, GatewayOptions};
    use attested_examples::pipeline::serve_on_loopback;
    use attested_examples::tdx_evidence::{
        SIM_MRTD, load_collateral, sim_policy, sim_quote_source,
    };
    use attested_examples::whisper_client::verified_gateway;
    use attested_tdx::{TdxAppraiser, Verifier};
    use std::sync::Arc;

    let source = Arc::new(sim_quote_source([0x5a; 48], std::time::SystemTime::now()).unwrap());
    let options = GatewayOptions {
        target: "http://127.0.0.1:9".to_owned(),
        suite: attested_ohttp::Suite::X25519_AES128GCM,
        allowed: vec!["whisper".to_owned()],
        chunked_dialect: attested_ohttp::chunked::Dialect::Draft,
        max_request: 1 << 20,
        upload_idle_timeout: attested_ohttp::gateway::GatewayPolicy::default().upload_idle_timeout,
    };
    let honest = serve_on_loopback(ohttp_gateway::router(source.clone(), options.clone()).unwrap())
        .await
        .unwrap();
    let other = serve_on_loopback(ohttp_gateway::router(source.clone(), options).unwrap())
        .await
        .unwrap();
    let http = attested_examples::tls::http().unwrap();
    let relay = serve_key_swapping_relay(&honest, &other).await.unwrap();

    let mrtd: [u8; 48] = hex::decode(SIM_MRTD).unwrap().try_into().unwrap();
    let check = TdxAppraiser::new(
        Verifier::new(
            attested_tdx::TrustAnchor::from_pem(
                source
                    .sim_platform()
                    .unwrap()
                    .root_certificate_pem()
                    .as_bytes(),
            )
            .unwrap(),
        ),
        load_collateral(&honest, &http, None).await.unwrap(),
        sim_policy(&[mrtd]),
    );
    // The honest gateway passes; the relay's substituted keys do not.
    assert!(verified_gateway(&http, &honest, &check).await.is_ok());
    let error = verified_gateway(&http, &relay, &check)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("gateway key configuration refused"),
        "{error}"
    );
}

/// The gateway's size and chunk-count limits hold while it streams: an upload over either is
/// refused with 413 and the target never receives a complete request, while one within them
/// arrives whole.
#[tokio::test]
async fn streamed_uploads_over_the_size_or_chunk_limit_never_reach_the_target_whole() {
    use attested_examples::ohttp_gateway::{self, GatewayOptions};
    use attested_examples::pipeline::serve_on_loopback;
    use attested_examples::tdx_evidence::sim_quote_source;
    use attested_ohttp::{
        Accepted, Client, Measurements, Workload, chunked::ChunkLimits,
        gateway::MEDIA_TYPE_CHUNKED_REQUEST, key_config_binding, message::encode_content_chunk,
        message::encode_content_end, message::encode_request_head,
    };
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const MAX_REQUEST: usize = 256 * 1024;
    // Counts the request bodies that arrived complete.
    let complete = Arc::new(AtomicUsize::new(0));
    let counter = complete.clone();
    let target = axum::Router::new().route(
        "/v1/audio/transcriptions",
        axum::routing::post(move |body: axum::body::Bytes| async move {
            counter.fetch_add(1, Ordering::SeqCst);
            format!("{} bytes", body.len())
        }),
    );
    let target = serve_on_loopback(target).await.unwrap();
    let source = Arc::new(sim_quote_source([0x5a; 48], std::time::SystemTime::now()).unwrap());
    let options = GatewayOptions {
        target,
        suite: attested_ohttp::Suite::X25519_AES128GCM,
        allowed: vec!["whisper".to_owned()],
        chunked_dialect: attested_ohttp::chunked::Dialect::Draft,
        max_request: MAX_REQUEST as u64,
        upload_idle_timeout: attested_ohttp::gateway::GatewayPolicy::default().upload_idle_timeout,
    };
    let gateway = serve_on_loopback(ohttp_gateway::router(source, options).unwrap())
        .await
        .unwrap();
    let http = attested_examples::tls::http().unwrap();
    let keys = http
        .get(format!("{gateway}/ohttp-keys"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let client = Client::new(
        &keys,
        &Accepted::assertion(
            key_config_binding(&keys),
            Measurements::new(),
            Workload::Any,
        ),
    )
    .unwrap();

    // `chunks` content chunks of `chunk` bytes, each sealed on its own.
    let upload = |chunks: usize, chunk: usize| {
        let (mut wire, mut sealer, _) = client
            .encapsulate_chunked(ChunkLimits::default(), &mut rand::rng())
            .unwrap();
        let mut head = Vec::new();
        encode_request_head(
            b"POST",
            b"https",
            b"whisper",
            b"/v1/audio/transcriptions",
            [],
            &mut head,
        );
        sealer.seal_chunk(&head, &mut wire).unwrap();
        let mut plaintext = Vec::new();
        for _ in 0..chunks {
            plaintext.clear();
            encode_content_chunk(&vec![0x61; chunk], &mut plaintext);
            sealer.seal_chunk(&plaintext, &mut wire).unwrap();
        }
        plaintext.clear();
        encode_content_end(&mut plaintext);
        sealer.seal_final(&plaintext, &mut wire).unwrap();
        let http = http.clone();
        let url = format!("{gateway}/gateway");
        async move {
            // Sent in pieces, so that the gateway streams rather than seeing one frame.
            let pieces: Vec<Result<Vec<u8>, std::io::Error>> =
                wire.chunks(8192).map(|p| Ok(p.to_vec())).collect();
            http.post(url)
                .header("content-type", MEDIA_TYPE_CHUNKED_REQUEST)
                .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
                    pieces,
                )))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };

    assert_eq!(upload(10, 10_000).await, 200);
    assert_eq!(complete.load(Ordering::SeqCst), 1);
    // More content than the gateway accepts.
    assert_eq!(upload(30, 10_000).await, 413);
    // More chunks than the gateway accepts (65536 by default), each well within the size.
    assert_eq!(upload(1 << 16, 1).await, 413);
    assert_eq!(complete.load(Ordering::SeqCst), 1);
}

/// whisper-client told nothing that identifies the gateway's workload refuses before it
/// connects (exit 2); `--allow-any-workload` is the loud opt-out.
#[tokio::test]
async fn whisper_client_never_sends_audio_to_an_unidentified_workload() {
    let setup = WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_whisper-client"))
        .args(["--gateway", &url, "--file", "/dev/null"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("identifies no workload"), "{stderr}");
    assert!(listener.accept().is_err(), "the client connected");
    let output = setup.transcribe(&["--allow-any-workload"]);
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("WARNING: accepting ANY workload"));
    setup.assert_refused(
        &["--expect-rtmr", &format!("3={}", "a7".repeat(48))],
        "RTMR3",
    );
}

/// `--policy` is read once, before any connection, and appraised with from then on: given
/// as a FIFO that a writer fills exactly once, whisper-client transcribes. A client that
/// read the file again (to build its appraiser, or on a retry) would wait on the FIFO for a
/// writer that never comes, and be killed at the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_file_is_read_once() {
    use std::time::{Duration, Instant};
    let setup = WhisperSetup::start("sim", "/sim/root", "--trust-sim-root").await;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("policy.json");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let mut mrtd = [0u8; 48];
    hex::decode_to_slice(attested_examples::tdx_evidence::GATEWAY_SIM_MRTD, &mut mrtd).unwrap();
    let policy =
        serde_json::to_string(&attested_examples::tdx_evidence::sim_policy(&[mrtd])).unwrap();
    let writer = {
        let fifo = fifo.clone();
        // Opening a FIFO for writing waits for its reader: this writes the policy once.
        std::thread::spawn(move || std::fs::write(fifo, policy).unwrap())
    };
    let gateway = setup.gateway.url();
    let mut client = setup
        .client_command(&["--gateway", &gateway, "--policy", fifo.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while client.try_wait().unwrap().is_none() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    if client.try_wait().unwrap().is_none() {
        client.kill().unwrap();
    }
    let output = client.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&setup.audio_digest()),
        "{stderr}"
    );
    writer.join().unwrap();
}
