//! A caller's own signature algorithms (an HSM, a FIPS module) check every signature of DCAP
//! verification: `Verifier::with_algorithms` takes a set of the vocabulary's
//! `SignatureVerificationAlgorithm`s, and nothing bypasses it.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use attested_tdx::error::Item;
use attested_tdx::sim::{QuoteFormat, SimPlatform};
use attested_tdx::verify::MissingP256Sha256;
use attested_tdx::{Backend, Collateral, TrustAnchor, UnixTime, Verifier, VerifyError};
use attested_types::signature::{
    AlgorithmIdentifier, Algorithms, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};

const NOW: u64 = 1_750_000_000;

/// The default backend's P-256 / SHA-256, counting its calls and able to refuse everything:
/// what a caller's HSM adapter looks like to the verifier.
#[derive(Debug)]
struct Counting;

static CALLS: AtomicUsize = AtomicUsize::new(0);
static REFUSE: AtomicBool = AtomicBool::new(false);

impl SignatureVerificationAlgorithm for Counting {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        CALLS.fetch_add(1, Ordering::SeqCst);
        if REFUSE.load(Ordering::SeqCst) {
            return Err(InvalidSignature);
        }
        inner().verify_signature(public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_P256
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::ECDSA_SHA256
    }
}

fn inner() -> &'static dyn SignatureVerificationAlgorithm {
    Backend::default()
        .algorithms()
        .iter()
        .copied()
        .find(|alg| {
            alg.public_key_alg_id() == alg_id::ECDSA_P256
                && alg.signature_alg_id() == alg_id::ECDSA_SHA256
        })
        .unwrap()
}

static COUNTING: Counting = Counting;
static CALLER_SET: Algorithms = &[&COUNTING];

fn platform() -> (SimPlatform, Vec<u8>, Collateral, TrustAnchor) {
    let platform = SimPlatform::from_seed(b"caller algorithms", NOW).unwrap();
    let quote = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let collateral = Collateral::from_pcs(platform.collateral_pcs().responses()).unwrap();
    let anchor = TrustAnchor::from_der(platform.root_certificate_der()).unwrap();
    (platform, quote, collateral, anchor)
}

/// One test, as the counters are process-wide: cold, hot and refusing in turn.
#[test]
fn the_callers_algorithm_checks_every_signature() {
    let (_platform, quote, collateral, anchor) = platform();
    let verifier = Verifier::with_algorithms(anchor.clone(), CALLER_SET).unwrap();

    // Cold: the PCK CA, PCK CRL, TCB signer, root CA CRL, TCB Info, QE Identity, PCK leaf, QE
    // report and quote: nine signatures, each through the caller's algorithm.
    let before = CALLS.load(Ordering::SeqCst);
    verifier
        .verify_bytes(&quote, &collateral, UnixTime(NOW))
        .unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst) - before, 9, "cold");

    // Hot: the collateral and the platform are remembered; the quote's own signature is not.
    let before = CALLS.load(Ordering::SeqCst);
    verifier
        .verify_bytes(&quote, &collateral, UnixTime(NOW))
        .unwrap();
    assert_eq!(CALLS.load(Ordering::SeqCst) - before, 1, "hot");

    // The caller's algorithm says no: cold and hot verification both fail on a signature.
    REFUSE.store(true, Ordering::SeqCst);
    let err = verifier
        .verify_bytes(&quote, &collateral, UnixTime(NOW))
        .unwrap_err();
    assert_eq!(
        err,
        VerifyError::BadSignature {
            item: Item::QuoteBody
        }
    );
    let cold = Verifier::with_algorithms(anchor, CALLER_SET).unwrap();
    let err = cold
        .verify_bytes(&quote, &collateral, UnixTime(NOW))
        .unwrap_err();
    assert!(
        matches!(err, VerifyError::BadSignature { .. }),
        "cold: {err:?}"
    );
    REFUSE.store(false, Ordering::SeqCst);
}

#[test]
fn a_set_that_cannot_check_dcap_signatures_is_refused() {
    let (_, _, _, anchor) = platform();
    let p384_only: Algorithms = Vec::leak(
        Backend::default()
            .algorithms()
            .iter()
            .copied()
            .filter(|alg| alg.public_key_alg_id() != alg_id::ECDSA_P256)
            .collect(),
    );
    assert!(matches!(
        Verifier::with_algorithms(anchor.clone(), p384_only),
        Err(MissingP256Sha256 { .. })
    ));
    assert!(matches!(
        Verifier::with_algorithms(anchor, &[]),
        Err(MissingP256Sha256 { .. })
    ));
}
