//! RSA through both sets: signatures that ring makes (PKCS#1 v1.5 and PSS, SHA-256/384/512)
//! under a 2048-bit key made for this test only (`data/rsa-2048-test-only.p8`: `openssl genpkey
//! -algorithm RSA -pkeyopt rsa_keygen_bits:2048`, then `openssl pkcs8 -topk8 -nocrypt -outform
//! DER`), verified by ring's and RustCrypto's algorithms alike, each signature by its own
//! algorithm only.
#![cfg(all(feature = "ring", feature = "rustcrypto"))]
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use attested_types::signature::{AlgorithmIdentifier, alg_id, ring as ring_set, rustcrypto};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, KeyPair as _, RsaEncoding, RsaKeyPair};

const KEY: &[u8] = include_bytes!("data/rsa-2048-test-only.p8");

const PADDINGS: [(&dyn RsaEncoding, AlgorithmIdentifier); 6] = [
    (&sig::RSA_PKCS1_SHA256, alg_id::RSA_PKCS1_SHA256),
    (&sig::RSA_PKCS1_SHA384, alg_id::RSA_PKCS1_SHA384),
    (&sig::RSA_PKCS1_SHA512, alg_id::RSA_PKCS1_SHA512),
    (&sig::RSA_PSS_SHA256, alg_id::RSA_PSS_SHA256),
    (&sig::RSA_PSS_SHA384, alg_id::RSA_PSS_SHA384),
    (&sig::RSA_PSS_SHA512, alg_id::RSA_PSS_SHA512),
];

#[test]
fn each_rsa_signature_verifies_under_its_own_algorithm_in_both_sets_and_no_other() {
    let pair = RsaKeyPair::from_pkcs8(KEY).unwrap();
    // The DER RSAPublicKey, as an X.509 RSA key's subjectPublicKey carries it.
    let public = pair.public_key().as_ref();
    let rng = SystemRandom::new();
    let message = b"header.payload";
    for (padding, signed_with) in PADDINGS {
        let mut signature = vec![0; pair.public().modulus_len()];
        pair.sign(padding, &rng, message, &mut signature).unwrap();
        let mut altered = signature.clone();
        altered[100] ^= 1;
        for set in [ring_set::ALL, rustcrypto::ALL] {
            let rsa: Vec<_> = set
                .iter()
                .filter(|alg| alg.public_key_alg_id() == alg_id::RSA_ENCRYPTION)
                .collect();
            assert_eq!(rsa.len(), 6);
            for alg in rsa {
                let own = alg.signature_alg_id() == signed_with;
                assert_eq!(
                    alg.verify_signature(public, message, &signature).is_ok(),
                    own,
                    "{alg:?} on a {signed_with:?} signature"
                );
                assert!(
                    alg.verify_signature(public, b"header.payloae", &signature)
                        .is_err()
                );
                assert!(alg.verify_signature(public, message, &altered).is_err());
            }
        }
    }
}
