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
        SIM_MRTD, TdxCheck, TdxEvidenceSource, load_collateral, policy_expecting,
    };
    use attested_examples::whisper_client::verified_gateway;
    use std::sync::Arc;

    let source =
        Arc::new(TdxEvidenceSource::sim([0x5a; 48], std::time::SystemTime::now()).unwrap());
    let options = GatewayOptions {
        target: "http://127.0.0.1:9".to_owned(),
        suite: attested_ohttp::Suite::X25519_AES128GCM,
        allowed: vec!["whisper".to_owned()],
        chunked_dialect: attested_ohttp::Dialect::Draft,
        max_request: 1 << 20,
    };
    let honest = serve_on_loopback(ohttp_gateway::router(source.clone(), options.clone()).unwrap())
        .await
        .unwrap();
    let other = serve_on_loopback(ohttp_gateway::router(source.clone(), options).unwrap())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let relay = serve_key_swapping_relay(&honest, &other).await.unwrap();

    let mrtd: [u8; 48] = hex::decode(SIM_MRTD).unwrap().try_into().unwrap();
    let check = TdxCheck::new(
        attested_tdx::TrustAnchor::from_pem(source.sim_root_pem().unwrap().as_bytes()).unwrap(),
        load_collateral(&honest, &http, None).await.unwrap(),
        policy_expecting(&[mrtd]),
        std::time::SystemTime::now(),
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
