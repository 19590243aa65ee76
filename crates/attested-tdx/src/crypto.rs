//! Signature verification through the vocabulary's pluggable algorithms
//! (`attested_types::signature`).
//!
//! Intel's DCAP PKI signs everything (certificates, CRLs, TCB Info, QE Identity, QE reports,
//! quotes) with ECDSA P-256 over SHA-256. The chains webpki validates are checked with the
//! verifier's whole set; every other signature goes through the set's P-256 / SHA-256 entry,
//! fixed-width `r || s` signatures re-encoded as DER first. `ring` is the default; the
//! `rustcrypto` feature adds a pure-Rust set (p256), and a caller may pass its own.

use attested_types::signature::{
    Algorithms, MAX_ECDSA_DER_SIG_LEN, SignatureVerificationAlgorithm, alg_id, ecdsa_fixed_to_der,
};

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!("attested-tdx needs a signature backend: enable the `ring` or `rustcrypto` feature");

/// An ECDSA signature in one of the two encodings DCAP uses.
#[derive(Clone, Copy)]
pub(crate) enum EcdsaSig<'a> {
    /// Fixed-width `r || s`, 32 bytes each (quotes, QE reports, TCB Info, QE Identity).
    Fixed(&'a [u8; 64]),
    /// ASN.1 DER `SEQUENCE { r INTEGER, s INTEGER }` (certificates and CRLs).
    Der(&'a [u8]),
}

/// The caller's set has no ECDSA P-256 with SHA-256, which signs everything in Intel's DCAP
/// PKI (certificates, CRLs, TCB Info, QE Identity, QE reports and quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the signature algorithms hold no ECDSA P-256 with SHA-256, which DCAP signs with")]
#[non_exhaustive]
pub struct MissingP256Sha256;

/// The signature algorithms one verifier checks with: a set of the vocabulary's
/// [`SignatureVerificationAlgorithm`]s (webpki checks the chains it validates with the whole
/// set) and that set's ECDSA P-256 / SHA-256 entry, which checks every other DCAP signature.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Signatures {
    pub(crate) x509: Algorithms,
    p256_sha256: &'static dyn SignatureVerificationAlgorithm,
}

impl Signatures {
    /// The caller's `set`, if it holds ECDSA P-256 with SHA-256.
    pub(crate) fn new(set: Algorithms) -> Result<Signatures, MissingP256Sha256> {
        let p256_sha256 = set
            .iter()
            .copied()
            .find(|alg| {
                alg.public_key_alg_id() == alg_id::ECDSA_P256
                    && alg.signature_alg_id() == alg_id::ECDSA_SHA256
            })
            .ok_or(MissingP256Sha256)?;
        Ok(Signatures {
            x509: set,
            p256_sha256,
        })
    }

    /// Whether `signature` over `message` verifies under `public_key`, an uncompressed SEC1
    /// point (`0x04 || x || y`, 65 bytes, the subjectPublicKey of an X.509 P-256 key).
    pub(crate) fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: EcdsaSig<'_>,
    ) -> bool {
        // Only uncompressed points, whatever the algorithm would take: every set must give the
        // same answer on every input, and ring takes no other form.
        if public_key.len() != 65 || public_key.first() != Some(&0x04) {
            return false;
        }
        let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
        let der = match signature {
            EcdsaSig::Der(der) => der,
            // 64 bytes by type: the vocabulary's conversion reads it as P-256's two halves.
            EcdsaSig::Fixed(fixed) => match ecdsa_fixed_to_der(fixed, &mut buf) {
                Some(der) => der,
                None => return false,
            },
        };
        self.p256_sha256
            .verify_signature(public_key, message, der)
            .is_ok()
    }
}

/// The signature backend a [`Verifier`](crate::Verifier) uses: the vocabulary's
/// [`Backend`](attested_types::signature::Backend), one of its algorithm sets by name. A
/// caller with its own implementation (an HSM, a FIPS module) passes its set to
/// [`Verifier::with_algorithms`](crate::Verifier::with_algorithms) instead.
pub use attested_types::signature::Backend;

/// The signatures a verifier checks with `backend`: its whole set for X.509, and its P-256
/// algorithm for the quote's and the QE report's raw signatures.
pub(crate) fn signatures(backend: Backend) -> Signatures {
    Signatures {
        x509: backend.algorithms(),
        p256_sha256: backend.ecdsa_p256_sha256(),
    }
}

/// SHA-256 of the concatenation of `parts`.
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A signing key made from a fixed scalar, and its uncompressed SEC1 public key.
    fn fixed_key() -> (p256::ecdsa::SigningKey, Vec<u8>) {
        let signing = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
        let key = signing
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
        (signing, key)
    }

    /// [`fixed_key`]'s public key, and an RFC 6979 (deterministic) signature.
    fn vector() -> (Vec<u8>, Vec<u8>, [u8; 64]) {
        use p256::ecdsa::signature::Signer as _;
        let (signing, key) = fixed_key();
        let msg = b"attested-tdx backend test".to_vec();
        let sig: p256::ecdsa::Signature = signing.sign(&msg);
        (key, msg, sig.to_bytes().into())
    }

    /// DER-encodes `r || s` the way X.509 carries it, for the tests.
    fn to_der(sig: &[u8; 64]) -> Vec<u8> {
        fn int(bytes: &[u8]) -> Vec<u8> {
            let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
            let mut v = if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
                vec![0]
            } else {
                vec![]
            };
            v.extend(trimmed);
            let mut out = vec![2, u8::try_from(v.len()).unwrap()];
            out.extend(v);
            out
        }
        let body = [int(&sig[..32]), int(&sig[32..])].concat();
        let mut out = vec![0x30, u8::try_from(body.len()).unwrap()];
        out.extend(body);
        out
    }

    #[test]
    fn every_backend_accepts_a_valid_signature_in_both_encodings() {
        let (key, msg, sig) = vector();
        assert!(!Backend::all().is_empty());
        for backend in Backend::all() {
            let ecdsa = signatures(*backend);
            assert!(
                ecdsa.verify(&key, &msg, EcdsaSig::Fixed(&sig)),
                "{backend:?} fixed"
            );
            assert!(
                ecdsa.verify(&key, &msg, EcdsaSig::Der(&to_der(&sig))),
                "{backend:?} der"
            );
        }
    }

    #[test]
    fn every_backend_rejects_altered_inputs() {
        let (key, msg, sig) = vector();
        for backend in Backend::all() {
            let ecdsa = signatures(*backend);
            for bit in [0, 7, 100, 511] {
                let mut bad = sig;
                bad[bit / 8] ^= 1 << (bit % 8);
                assert!(
                    !ecdsa.verify(&key, &msg, EcdsaSig::Fixed(&bad)),
                    "{backend:?} sig bit {bit}"
                );
                assert!(
                    !ecdsa.verify(&key, &msg, EcdsaSig::Der(&to_der(&bad))),
                    "{backend:?} der bit {bit}"
                );
            }
            let mut bad_msg = msg.clone();
            bad_msg[0] ^= 1;
            assert!(!ecdsa.verify(&key, &bad_msg, EcdsaSig::Fixed(&sig)));
            let mut bad_key = key.clone();
            bad_key[10] ^= 1;
            assert!(!ecdsa.verify(&bad_key, &msg, EcdsaSig::Fixed(&sig)));
            assert!(
                !ecdsa.verify(&key[1..], &msg, EcdsaSig::Fixed(&sig)),
                "raw x||y without 0x04"
            );
            assert!(
                !ecdsa.verify(&key, &msg, EcdsaSig::Der(&sig[..])),
                "r||s is not DER"
            );
            assert!(
                !ecdsa.verify(&key, &msg, EcdsaSig::Fixed(&[0; 64])),
                "zero signature"
            );
        }
    }

    #[test]
    fn a_set_without_p256_sha256_is_refused_and_a_caller_set_with_it_is_used() {
        let (key, msg, sig) = vector();
        for backend in Backend::all() {
            let all = backend.algorithms();
            let caller = Signatures::new(all).unwrap();
            assert!(
                caller.verify(&key, &msg, EcdsaSig::Fixed(&sig)),
                "{backend:?}"
            );
            let without: Vec<_> = all
                .iter()
                .copied()
                .filter(|alg| alg.signature_alg_id() != alg_id::ECDSA_SHA256)
                .collect();
            let without: Algorithms = Vec::leak(without);
            assert_eq!(Signatures::new(without).unwrap_err(), MissingP256Sha256);
        }
        assert_eq!(Signatures::new(&[]).unwrap_err(), MissingP256Sha256);
    }

    #[test]
    fn fixed_signatures_with_leading_zeros_and_high_bits_verify() {
        // r or s with a leading zero byte (shorter DER INTEGER) or the high bit set (a sign
        // byte added): the re-encoding must be the minimal DER that ring insists on.
        let (signing, key) = fixed_key();
        let (mut zero, mut high) = (false, false);
        for i in 0u32..400 {
            use p256::ecdsa::signature::Signer as _;
            let msg = i.to_be_bytes();
            let sig: p256::ecdsa::Signature = signing.sign(&msg);
            let fixed: [u8; 64] = sig.to_bytes().into();
            zero |= fixed[0] == 0 || fixed[32] == 0;
            high |= fixed[0] & 0x80 != 0 || fixed[32] & 0x80 != 0;
            for backend in Backend::all() {
                assert!(
                    signatures(*backend).verify(&key, &msg, EcdsaSig::Fixed(&fixed)),
                    "{backend:?} message {i}"
                );
            }
        }
        assert!(zero && high, "the messages covered both edge cases");
    }

    #[test]
    fn sha256_of_parts_is_sha256_of_concatenation() {
        use sha2::Digest as _;
        let whole: [u8; 32] = sha2::Sha256::digest(b"abcdef").into();
        assert_eq!(sha256(&[b"ab", b"", b"cdef"]), whole);
    }
}
