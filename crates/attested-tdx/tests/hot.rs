//! The hot path: a verifier that has seen a platform skips the PCK leaf's and the QE report's
//! pure checks for it, and still gives exactly the verdict of cold verification at every `now`
//! and under every collateral (validity and revocation are checked on every call).
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::error::Item;
use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimConfig, SimPlatform};
use attested_tdx::verify::Verdict;
use attested_tdx::{Collateral, TrustAnchor, UnixTime, Verifier, VerifyError};

const NOW: u64 = 1_750_000_000;

fn collateral(platform: &SimPlatform) -> Collateral {
    Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap()
}

fn verifier(platform: &SimPlatform) -> Verifier {
    Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap())
}

fn verdict(
    verifier: &Verifier,
    quote: &[u8],
    collateral: &Collateral,
    now: u64,
) -> Result<Verdict, VerifyError> {
    verifier
        .verify_bytes(quote, collateral, UnixTime(now))
        .map(|v| v.verdict().clone())
}

#[test]
fn hot_verification_equals_cold_at_every_probe_time() {
    let platform = SimPlatform::from_seed(b"hot", NOW).unwrap();
    let collateral = collateral(&platform);
    let hot = verifier(&platform);
    for format in QuoteFormat::ALL {
        // A first quote makes the platform known; fresh quotes (other REPORTDATA) follow.
        let seen = platform.quote(&platform.quote_spec(format)).unwrap();
        verdict(&hot, &seen, &collateral, NOW).unwrap();
        let (from, until) = (platform.valid_from(), platform.valid_until());
        for (i, now) in (0u8..).zip([0, from - 1, from, NOW, until, until + 1, u64::MAX]) {
            let fresh = platform
                .quote(&QuoteSpec {
                    report_data: [i; 64],
                    ..platform.quote_spec(format)
                })
                .unwrap();
            let cold = verdict(&verifier(&platform), &fresh, &collateral, now);
            assert_eq!(
                verdict(&hot, &fresh, &collateral, now),
                cold,
                "{format:?} at {now}"
            );
            if [0, from - 1, u64::MAX].contains(&now) {
                assert!(cold.is_err(), "{now}");
            }
            if [from, NOW, until].contains(&now) {
                assert!(cold.is_ok(), "{now}");
            }
        }
    }
}

#[test]
fn a_seen_platform_revoked_by_a_newer_pck_crl_is_refused() {
    // One seed: the same PKI, PCK leaf and quotes; the second platform's PCK CRL lists the leaf.
    let platform = SimPlatform::from_seed(b"hot revocation", NOW).unwrap();
    let revoking = SimPlatform::with_config(
        b"hot revocation",
        NOW,
        SimConfig {
            revoke_pck: true,
            ..SimConfig::default()
        },
    )
    .unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    assert_eq!(
        quote,
        revoking
            .quote(&revoking.quote_spec(QuoteFormat::V4))
            .unwrap()
    );
    let hot = verifier(&platform);
    verdict(&hot, &quote, &collateral(&platform), NOW).unwrap();
    let err = verdict(&hot, &quote, &collateral(&revoking), NOW).unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Revoked {
                item: Item::PckLeaf,
                crl: Item::PckCrl,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        Err(err),
        verdict(&verifier(&platform), &quote, &collateral(&revoking), NOW)
    );
    // And the old CRL still accepts it: the cache holds no verdict, only the pure checks.
    verdict(&hot, &quote, &collateral(&platform), NOW).unwrap();
}

#[test]
fn a_tampered_qe_report_or_leaf_is_never_taken_for_the_seen_platform() {
    let platform = SimPlatform::from_seed(b"hot tamper", NOW).unwrap();
    let collateral = collateral(&platform);
    let hot = verifier(&platform);
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    verdict(&hot, &quote, &collateral, NOW).unwrap();
    let signed_len = QuoteFormat::V4.signed_len();
    // Attestation key, QE report, QE report signature, and a byte inside the PEM chain.
    let qe_report_at = signed_len + 4 + 64 + 64 + 6;
    for at in [
        signed_len + 4 + 64,
        qe_report_at + 100,
        qe_report_at + 384 + 10,
        quote.len() - 300,
    ] {
        let mut bad = quote.clone();
        bad[at] ^= 1;
        let hot_verdict = verdict(&hot, &bad, &collateral, NOW);
        assert!(hot_verdict.is_err(), "byte {at}");
        assert_eq!(
            hot_verdict,
            verdict(&verifier(&platform), &bad, &collateral, NOW),
            "byte {at}"
        );
    }
}

#[test]
fn clearing_the_cache_forgets_seen_platforms() {
    let platform = SimPlatform::from_seed(b"hot clear", NOW).unwrap();
    let collateral = collateral(&platform);
    let hot = verifier(&platform);
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let first = verdict(&hot, &quote, &collateral, NOW).unwrap();
    hot.clear_cache();
    assert_eq!(verdict(&hot, &quote, &collateral, NOW).unwrap(), first);
}

#[test]
fn a_verifier_without_a_platform_cache_gives_the_same_verdicts() {
    let platform = SimPlatform::from_seed(b"hot off", NOW).unwrap();
    let collateral = collateral(&platform);
    let hot = verifier(&platform);
    let warm = verifier(&platform).with_platform_cache(0);
    let one = verifier(&platform).with_platform_cache(1);
    for format in QuoteFormat::ALL {
        let quote = platform.quote(&platform.quote_spec(format)).unwrap();
        for now in [NOW, platform.valid_until() + 1] {
            let expected = verdict(&verifier(&platform), &quote, &collateral, now);
            for v in [&hot, &warm, &one] {
                assert_eq!(verdict(v, &quote, &collateral, now), expected, "{format:?}");
                assert_eq!(verdict(v, &quote, &collateral, now), expected, "{format:?}");
            }
        }
    }
}
