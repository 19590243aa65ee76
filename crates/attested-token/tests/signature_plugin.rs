//! A caller's own signature algorithms (an HSM, a FIPS module) check every signature of token
//! and document verification: a key set and a Nitro verifier take a set of the vocabulary's
//! `SignatureVerificationAlgorithm`s, and nothing bypasses it.
//!
//! The set here wraps each algorithm of the default set with a counter and a switch that makes
//! it refuse everything: what a caller's HSM adapter looks like to the verifiers. What is
//! counted is every call of an algorithm: one per certificate signature webpki checks (it never
//! checks a pinned anchor's own self-signature) and one per JWS or COSE signature.
#![cfg(feature = "sim")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use attested_token::ita::ItaVerifier;
use attested_token::jwt::{Jwks, JwtVerifier, KeySet};
use attested_token::nitro::NitroVerifier;
use attested_token::sim::{SimEnclave, SimIssuer, SimTd};
use attested_token::x509::{Crls, TrustRoots};
use attested_token::{Backend, CertificateProblem, Error, UnixTime};
use attested_types::signature::{
    AlgorithmIdentifier, Algorithms, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};

const IAT: u64 = 1_750_000_000;
const TS_MS: u64 = IAT * 1000;

/// What the caller's algorithms saw: how many calls, the signature algorithm of the last one,
/// and whether they refuse.
#[derive(Debug, Default)]
struct Counter {
    calls: AtomicUsize,
    last: Mutex<Option<AlgorithmIdentifier>>,
    refuse: AtomicBool,
}

impl Counter {
    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn last(&self) -> Option<AlgorithmIdentifier> {
        *self.last.lock().unwrap()
    }

    fn refuse(&self, refuse: bool) {
        self.refuse.store(refuse, Ordering::SeqCst);
    }
}

/// One algorithm of the default set, counted and switchable.
#[derive(Debug)]
struct Counting {
    inner: &'static dyn SignatureVerificationAlgorithm,
    counter: &'static Counter,
}

impl SignatureVerificationAlgorithm for Counting {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        self.counter.calls.fetch_add(1, Ordering::SeqCst);
        *self.counter.last.lock().unwrap() = Some(self.inner.signature_alg_id());
        if self.counter.refuse.load(Ordering::SeqCst) {
            return Err(InvalidSignature);
        }
        self.inner.verify_signature(public_key, message, signature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.public_key_alg_id()
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.inner.signature_alg_id()
    }
}

/// The default set, each algorithm wrapped, with a counter of its own (tests run in parallel).
fn counting_set() -> (Algorithms, &'static Counter) {
    let counter: &'static Counter = Box::leak(Box::default());
    let set: Vec<&'static dyn SignatureVerificationAlgorithm> = Backend::default()
        .algorithms()
        .iter()
        .map(|&inner| -> &'static dyn SignatureVerificationAlgorithm {
            Box::leak(Box::new(Counting { inner, counter }))
        })
        .collect();
    (Vec::leak(set), counter)
}

fn sim() -> (SimIssuer, Jwks, String) {
    let sim = SimIssuer::new([0x51; 32]).unwrap();
    let jwks = Jwks::from_json(sim.jwks_json().as_bytes()).unwrap();
    let token = sim.ita_token(&SimTd::default(), IAT, 300);
    (sim, jwks, token)
}

#[test]
fn a_jwt_key_set_checks_its_chain_once_and_each_token_with_the_callers_set() {
    let (sim, jwks, token) = sim();
    let (set, counter) = counting_set();

    // The simulated JWKS holds one key whose x5c is [leaf, root], the root pinned: the leaf's
    // signature by the root is the chain's only signature.
    let keys = KeySet::chained_with_algorithms(&jwks, &sim.roots(), &Crls::none(), set);
    assert_eq!(counter.calls(), 1, "the chain");
    assert_eq!(counter.last(), Some(alg_id::ECDSA_SHA384));
    assert!(std::ptr::eq(keys.algorithms(), set));

    // Each token costs its JWS signature (ES384), nothing more.
    let verifier = JwtVerifier::new(keys.clone());
    verifier.verify(&token, UnixTime(IAT + 1)).unwrap();
    assert_eq!(counter.calls(), 2, "chain + one token");
    assert_eq!(counter.last(), Some(alg_id::ECDSA_SHA384));
    let ita = ItaVerifier::with_keys(keys);
    ita.verify(&token, UnixTime(IAT + 1)).unwrap();
    assert_eq!(counter.calls(), 3, "chain + two tokens");
}

#[test]
fn a_refusing_set_fails_jwt_verification_on_the_signature() {
    let (sim, jwks, token) = sim();
    let (set, counter) = counting_set();

    // Warm: the chain was accepted; the token's signature is refused.
    let keys = KeySet::chained_with_algorithms(&jwks, &sim.roots(), &Crls::none(), set);
    counter.refuse(true);
    let before = counter.calls();
    let err = JwtVerifier::new(keys)
        .verify(&token, UnixTime(IAT + 1))
        .unwrap_err();
    assert_eq!(
        err,
        Error::BadSignature {
            what: "token".into()
        }
    );
    assert_eq!(counter.calls() - before, 1);

    // Cold: the chain itself is refused on its signature, so the key is not trusted.
    let keys = KeySet::chained_with_algorithms(&jwks, &sim.roots(), &Crls::none(), set);
    let err = JwtVerifier::new(keys)
        .verify(&token, UnixTime(IAT + 1))
        .unwrap_err();
    let Error::UntrustedKey { reason, .. } = err else {
        panic!("{err:?}");
    };
    assert!(
        matches!(
            *reason,
            Error::Chain {
                problem: CertificateProblem::BadSignature,
                ..
            }
        ),
        "{reason:?}"
    );
}

#[test]
fn a_set_without_the_tokens_algorithm_refuses_it_by_name() {
    let (_, jwks, token) = sim();
    let no_es384: Algorithms = Vec::leak(
        Backend::default()
            .algorithms()
            .iter()
            .copied()
            .filter(|alg| alg.signature_alg_id() != alg_id::ECDSA_SHA384)
            .collect(),
    );
    let keys = KeySet::unchained_trusting_transport_with_algorithms(&jwks, no_es384);
    assert_eq!(
        JwtVerifier::new(keys)
            .verify(&token, UnixTime(IAT + 1))
            .unwrap_err(),
        Error::AlgorithmNotInSet { alg: "ES384" }
    );
}

#[test]
fn a_nitro_verifier_checks_chain_and_document_with_the_callers_set() {
    let sim = SimIssuer::new([0x52; 32]).unwrap();
    let doc = sim.nitro_document(&SimEnclave::default(), TS_MS);
    let (set, counter) = counting_set();
    let verifier = NitroVerifier::new(&sim.roots()).algorithms(set);

    // Cold: the certificate's signature by the root (cabundle holds only the pinned root) and
    // the COSE_Sign1's ES384.
    verifier.verify(&doc, UnixTime(IAT + 1)).unwrap();
    assert_eq!(counter.calls(), 2, "cold: chain + document");
    assert_eq!(counter.last(), Some(alg_id::ECDSA_SHA384));

    // Warm: the chain is remembered, the document's signature is not.
    verifier.verify(&doc, UnixTime(IAT + 1)).unwrap();
    assert_eq!(counter.calls(), 3, "warm: document only");

    // Refusing: warm, the document's signature fails; cold, the chain's.
    counter.refuse(true);
    assert_eq!(
        verifier.verify(&doc, UnixTime(IAT + 1)).unwrap_err(),
        Error::BadSignature {
            what: "the Nitro attestation document".into()
        }
    );
    assert_eq!(counter.calls(), 4);
    let cold = NitroVerifier::new(&sim.roots()).algorithms(set);
    let err = cold.verify(&doc, UnixTime(IAT + 1)).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Chain {
                problem: CertificateProblem::BadSignature,
                ..
            }
        ),
        "{err:?}"
    );
}

/// The real Intel Trust Authority token is PS384 under RSA-3072 keys: RSA-PSS goes through the
/// caller's set too.
#[test]
fn the_real_ita_token_checks_its_rsa_pss_signature_with_the_callers_set() {
    let (Some(token), Some(jwks)) = (
        attested_testdata::read("tokens/ita/trustauthority-kbs__tdxToken_prod_2023-12-05.jwt"),
        attested_testdata::read("tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json"),
    ) else {
        return;
    };
    let token = String::from_utf8(token).unwrap();
    let jwks = Jwks::from_json(&jwks).unwrap();
    let (set, counter) = counting_set();
    let keys = KeySet::chained_with_algorithms(
        &jwks,
        &TrustRoots::intel_trust_authority(),
        &Crls::none(),
        set,
    );
    // Two keys (PS384 and RS256, one kid), each with x5c [leaf, intermediate, root] and the
    // root pinned: the leaf's and the intermediate's signatures, sha512WithRSA, twice.
    assert_eq!(jwks.len(), 2);
    assert_eq!(counter.calls(), 4, "two chains of two signatures");
    assert_eq!(counter.last(), Some(alg_id::RSA_PKCS1_SHA512));

    ItaVerifier::with_keys(keys)
        .verify(token.trim(), UnixTime(1_701_734_950))
        .unwrap();
    assert_eq!(counter.calls(), 5);
    assert_eq!(counter.last(), Some(alg_id::RSA_PSS_SHA384));
}
