//! The composition the crate docs show (each crate depends on no other protocol crate, so
//! their snippets cannot compile there): here they compile and run against the simulated TDX
//! platform. Each test marks the crate doc's lines with "the doc's lines".
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::time::Duration;

use attested_ohttp::{Client, Evidence, KeyPair, KeyRing, Suite, UnixTime, Validity};
use attested_tdx::quote::TdAttributes;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::{Collateral, TrustAnchor, Verifier};

/// The MRTD of the simulated TD.
const MR_TD: [u8; 48] = [0x6f; 48];

/// A simulated platform and the spec of its TD's quotes (any REPORTDATA still to be set).
fn simulated_td() -> (SimPlatform, QuoteSpec) {
    let platform = SimPlatform::from_seed(b"composition", 1_790_000_000).unwrap();
    let spec = QuoteSpec {
        mr_td: MR_TD,
        td_attributes: TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE),
        ..platform.quote_spec(QuoteFormat::V4)
    };
    (platform, spec)
}

/// What the doc's `TdxAppraiser::new` takes for `platform`: a verifier under its root, its
/// collateral, and the policy pinning the simulated workload.
fn appraiser_parts(platform: &SimPlatform) -> (Verifier, Collateral, attested_tdx::Policy) {
    let verifier =
        Verifier::new(TrustAnchor::from_pem(platform.root_certificate_pem().as_bytes()).unwrap());
    let collateral =
        Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
    (
        verifier,
        collateral,
        attested_examples::tdx_evidence::sim_policy(&[MR_TD]),
    )
}

/// The key list of a gateway with one fresh X25519 key valid for an hour from `start`.
fn fresh_key_list(start: UnixTime) -> Vec<u8> {
    let suite = Suite::X25519_AES128GCM;
    let pair = KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut rand::rng()).unwrap();
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(start, Duration::from_secs(3600), Duration::ZERO),
    )
    .unwrap();
    ring.encoded_list(start)
}

/// attested-ohttp's crate-doc composition: a gateway's key list and a simulated TD's quote
/// over it give a client; a list the quote does not bind is refused.
#[test]
fn tdx_evidence_builds_an_ohttp_client_as_attested_ohttps_doc_shows() {
    let (platform, spec) = simulated_td();
    let now = UnixTime(platform.now());
    let key_list = fresh_key_list(now);
    let quote = platform
        .quote(&QuoteSpec {
            report_data: *attested_ohttp::key_config_binding(&key_list).as_bytes(),
            ..spec
        })
        .unwrap();
    let (verifier, collateral, policy) = appraiser_parts(&platform);

    // The doc's lines (with the time the simulated collateral is valid at for `now`).
    let appraiser = attested_tdx::TdxAppraiser::new(verifier, collateral, policy);
    let (client, accepted) = Client::appraise(
        &key_list,
        &Evidence::platform_quote(&quote),
        &appraiser,
        now,
    )
    .unwrap();

    assert_eq!(client.suite(), Suite::X25519_AES128GCM);
    assert_eq!(accepted.measurement("mrtd"), Some(&MR_TD[..]));
    // Another list than the one the quote binds is refused.
    let other_list = fresh_key_list(now);
    assert!(
        Client::appraise(
            &other_list,
            &Evidence::platform_quote(&quote),
            &appraiser,
            now
        )
        .is_err()
    );
}

/// attested-noise's crate-doc composition: a session whose server's quote (simulated TDX)
/// binds its keys is verified with a `TdxAppraiser`; the same session against a quote over
/// other keys is refused before any prompt can be sent.
#[test]
fn tdx_evidence_verifies_a_noise_session_as_attested_noises_doc_shows() {
    use attested_noise::{
        Config, Initiator, NoiseStaticKey, PlatformEvidence, Profile, Received, Responder,
        ServerIdentity,
    };
    use std::sync::Arc;
    let (platform, spec) = simulated_td();
    let now = attested_noise::UnixTime(platform.now());
    let mut rng = rand::rng();
    for binds_the_keys in [true, false] {
        let noise_key = NoiseStaticKey::generate(&mut rng);
        let binding_key = attested_noise::ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let other_key = attested_noise::ed25519_dalek::SigningKey::from_bytes(&rand::random());
        let quoted_key = if binds_the_keys {
            &binding_key
        } else {
            &other_key
        };
        let report_data = ServerIdentity::report_data(Profile::V1, &noise_key, quoted_key);
        let quote = platform
            .quote(&QuoteSpec {
                report_data: *report_data.as_bytes(),
                ..spec.clone()
            })
            .unwrap();
        let server_key = *noise_key.public_key();
        let identity = Arc::new(ServerIdentity::new(
            Config::new(Profile::V1),
            noise_key,
            binding_key,
            PlatformEvidence::from_quote(quote),
        ));
        let mut client = Initiator::new(Profile::V1, &server_key, &mut rng).unwrap();
        let mut server = Responder::new(identity, &mut rng).unwrap();
        server.read_first(&client.write_first().unwrap()).unwrap();
        let (msg2, mut server) = server.write_second().unwrap();
        let mut unverified = client.read_second(&msg2).unwrap();
        let mut attestation = None;
        for frame in unverified.request_attestation().unwrap() {
            assert!(matches!(
                server.receive(&frame).unwrap(),
                Received::AttestationRequested
            ));
            for frame in server.attestation(None).unwrap() {
                attestation = unverified.receive_attestation(&frame).unwrap();
            }
        }
        let attestation = attestation.unwrap();
        let (verifier, collateral, policy) = appraiser_parts(&platform);

        // The doc's lines (the simulated root instead of Intel's, the simulated time).
        let appraiser = attested_tdx::TdxAppraiser::new(verifier, collateral, policy);
        let session = unverified.verify(&attestation, &appraiser, now);

        match session {
            Ok(_) => assert!(binds_the_keys),
            Err(e) => {
                assert!(!binds_the_keys, "{e}");
                assert!(e.to_string().contains("REPORTDATA does not bind"), "{e}");
            }
        }
    }
}
