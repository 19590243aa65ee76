//! whisper-client against a "gateway" (or a relay in its place) that floods or stalls: it gets
//! an error naming the limit, not the client's memory or time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Output;
use std::time::Duration;

/// Runs whisper-client against `gateway` with a small audio file, past the workload rule
/// (`--allow-any-workload`: the refusal under test comes before any evidence is judged).
async fn whisper_client(gateway: &str, extra: &[&str]) -> Output {
    let audio = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(audio.path(), [0x5a; 1000]).unwrap();
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_whisper-client"))
        .args(["--gateway", gateway, "--allow-any-workload", "--file"])
        .arg(audio.path())
        .args(extra)
        .kill_on_drop(true)
        .output();
    // The client must end on its own well before this.
    tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("whisper-client did not give up")
        .unwrap()
}

/// Every path answers with an endless body (1 MiB pieces, as fast as the client reads):
/// the collateral, fetched first on the TDX path, and the key list, first on the Nitro path.
/// Before, the client read it all (`reply.bytes()`), growing without bound; now it stops at
/// its cap for what it reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_answer_is_refused_at_the_cap() {
    let (gateway, sent) = attested_examples::hostile::serve_endless_answers()
        .await
        .unwrap();
    for (path, extra, cap) in [
        ("/collateral", &[][..], 4 << 20),
        (
            "/ohttp-keys",
            &["--nitro"][..],
            attested_ohttp::keys::MAX_KEY_LIST_LEN,
        ),
    ] {
        let output = whisper_client(&gateway, extra).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{path}: {stderr}");
        assert!(
            stderr.contains(&format!("answer larger than {cap} bytes")),
            "{path}: {stderr}"
        );
    }
    // The server got ahead of the client by what the socket buffers hold, no more: the
    // client stopped reading at the caps.
    let sent = sent.load(std::sync::atomic::Ordering::Relaxed);
    assert!(sent < 64 << 20, "the client read on: {sent} bytes sent");
}

/// A server that accepts connections and never answers: the client gives up after
/// `--timeout`, where before it waited forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_never_answers_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let gateway = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket); // read nothing, answer nothing, close nothing
        }
    });
    // `whisper_client` fails the test if the client is still waiting after 60 s.
    let output = whisper_client(&gateway, &["--timeout", "2"]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("timed out"), "{stderr}");
}
