//! End to end on loopback: mock-whisper, ohttp-gateway with simulated AWS Nitro documents
//! (`--tee nitro-sim`), and whisper-client verifying the document before it sends any audio.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_examples::nitro_evidence::NitroSimSource;
use common::WhisperSetup;

fn gateway_pcr0() -> String {
    hex::encode(
        attested_examples::nitro_evidence::NitroSimSource::new()
            .unwrap()
            .pcr0(),
    )
}

#[tokio::test]
async fn a_verified_nitro_gateway_transcribes_the_audio_intact() {
    let setup = WhisperSetup::start("nitro-sim", "/nitro-sim/root", "--trust-nitro-sim-root").await;
    let digest = setup.audio_digest();
    let pcr0 = gateway_pcr0();
    let pcr2 = format!("2={}", hex::encode(NitroSimSource::new().unwrap().pcr(2)));
    for args in [
        &["--expect-pcr0", &pcr0][..],
        &["--chunked", "--expect-pcr", &pcr2][..],
    ] {
        setup.assert_transcribes(args, "gateway Nitro document verified");
    }
    assert_eq!(setup.whisper.stop().matches(&digest).count(), 2);
}

/// Any AWS customer's enclave has a document that chains to the AWS root: without a PCR of the
/// enclave's code the client cannot tell the service from someone else's enclave, so it stops
/// with a usage error (exit 2) before it connects; `--allow-any-workload` is the loud opt-out.
#[tokio::test]
async fn a_client_that_pins_no_enclave_code_sends_nothing_unless_it_opts_out() {
    let setup = WhisperSetup::start("nitro-sim", "/nitro-sim/root", "--trust-nitro-sim-root").await;
    let pcr1 = format!("1={}", "00".repeat(48));
    for args in [&[][..], &["--expect-pcr", &pcr1][..], &["--nitro"][..]] {
        let output = setup.transcribe(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("PCR2 or PCR8"), "{stderr}");
    }
    let stderr =
        setup.assert_transcribes(&["--allow-any-workload"], "gateway Nitro document verified");
    assert!(
        stderr.contains("WARNING: accepting ANY Nitro enclave"),
        "{stderr}"
    );
    // Only the opt-out's audio reached the model.
    assert_eq!(setup.whisper.stop().matches("transcribed").count(), 1);
}

#[tokio::test]
async fn a_nitro_gateway_with_another_pcr0_or_issuer_never_gets_the_audio() {
    let setup = WhisperSetup::start("nitro-sim", "/nitro-sim/root", "--trust-nitro-sim-root").await;
    setup.assert_refused(&["--expect-pcr0", &"00".repeat(48)], "PCR0");
    // A simulated root other than the gateway's.
    let other = attested_examples::nitro_evidence::NitroSimSource::with_seed([9; 32]).unwrap();
    std::fs::write(setup.root_path(), other.root_pem()).unwrap();
    setup.assert_refused(
        &["--expect-pcr0", &gateway_pcr0()],
        "gateway Nitro document refused: verification failed",
    );
    assert_eq!(setup.whisper.stop().matches("transcribed").count(), 0);
}

/// A relay that serves one gateway's Nitro documents with another gateway's keys: the client
/// refuses the keys, since the verified document binds another key configuration list.
#[tokio::test]
async fn keys_the_verified_document_does_not_bind_are_refused() {
    use attested_examples::hostile::serve_key_swapping_relay;
    use attested_examples::nitro_evidence::{NitroSimSource, verified_nitro_gateway};
    use attested_examples::ohttp_gateway::{self, GatewayEvidence, GatewayOptions};
    use attested_examples::pipeline::serve_on_loopback;
    use std::sync::Arc;

    let source = Arc::new(NitroSimSource::new().unwrap());
    let options = GatewayOptions {
        target: "http://127.0.0.1:9".to_owned(),
        suite: attested_ohttp::Suite::X25519_AES128GCM,
        allowed: vec!["whisper".to_owned()],
        chunked_dialect: attested_ohttp::chunked::Dialect::Draft,
        max_request: 1 << 20,
        upload_idle_timeout: attested_ohttp::gateway::GatewayPolicy::default().upload_idle_timeout,
    };
    let gateway = |options: GatewayOptions| {
        ohttp_gateway::router(GatewayEvidence::NitroSim(source.clone()), options).unwrap()
    };
    let honest = serve_on_loopback(gateway(options.clone())).await.unwrap();
    let other = serve_on_loopback(gateway(options)).await.unwrap();
    let http = attested_examples::tls::http().unwrap();
    // The relay passes the client's nonce on to the honest gateway, so the document is fresh.
    let relay = serve_key_swapping_relay(&honest, &other).await.unwrap();

    let roots = attested_token::x509::TrustRoots::empty()
        .with_pem(&source.root_pem())
        .unwrap();
    let policy = attested_token::nitro::NitroPolicy::new().expect_pcr(0, &source.pcr0());
    let verifier = attested_token::nitro::NitroVerifier::new(&roots)
        .max_age(Some(std::time::Duration::from_secs(60)));
    let check = attested_token::nitro::NitroAppraiser::new(verifier, policy);
    // The honest gateway passes; the relay's substituted keys do not.
    assert!(verified_nitro_gateway(&http, &honest, &check).await.is_ok());
    let error = verified_nitro_gateway(&http, &relay, &check)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("gateway key configuration refused"),
        "{error}"
    );
}
