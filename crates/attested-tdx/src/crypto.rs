//! ECDSA P-256 / SHA-256 signature verification, behind one small internal trait.
//!
//! Intel's DCAP PKI signs everything (certificates, CRLs, TCB Info, QE Identity, QE reports,
//! quotes) with ECDSA P-256 over SHA-256, so this is the only algorithm the verifier needs.
//! `ring` is the default; the `rustcrypto` feature adds a pure-Rust backend (p256).

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

/// Verification of ECDSA P-256 / SHA-256 signatures.
pub(crate) trait EcdsaP256: Sync {
    /// Whether `signature` over `message` verifies under `public_key`, an uncompressed SEC1
    /// point (`0x04 || x || y`, 65 bytes).
    fn verify(&self, public_key: &[u8], message: &[u8], signature: EcdsaSig<'_>) -> bool;
}

/// The signature backend a [`Verifier`](crate::Verifier) uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Backend {
    /// `ring` (the default; fastest).
    #[cfg(feature = "ring")]
    #[default]
    Ring,
    /// Pure-Rust `p256`, for targets without a C compiler.
    #[cfg(feature = "rustcrypto")]
    #[cfg_attr(not(feature = "ring"), default)]
    RustCrypto,
    /// Accepts **every** signature (feature `insecure-accept-all`): for fuzzers only, so that
    /// they reach TCB Info and QE Identity parsing and the TCB assessment behind the
    /// signatures. Never part of [`Backend::all`], never the default.
    #[cfg(feature = "insecure-accept-all")]
    InsecureAcceptAll,
}

impl Backend {
    /// Every backend compiled into this build (tests run each of them).
    pub fn all() -> &'static [Backend] {
        &[
            #[cfg(feature = "ring")]
            Backend::Ring,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto,
        ]
    }

    pub(crate) fn ecdsa(self) -> &'static dyn EcdsaP256 {
        match self {
            #[cfg(feature = "ring")]
            Backend::Ring => &RingBackend,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => &RustCryptoBackend,
            #[cfg(feature = "insecure-accept-all")]
            Backend::InsecureAcceptAll => &AcceptAllBackend,
        }
    }

    /// The vocabulary's X.509 signature algorithm set of this backend (for rustls-webpki).
    pub(crate) fn x509_algorithms(self) -> attested_types::signature::Algorithms {
        match self {
            #[cfg(feature = "ring")]
            Backend::Ring => attested_types::signature::ring::ALL,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => attested_types::signature::rustcrypto::ALL,
            #[cfg(feature = "insecure-accept-all")]
            Backend::InsecureAcceptAll => attested_types::signature::accept_all::ALL,
        }
    }
}

#[cfg(feature = "insecure-accept-all")]
struct AcceptAllBackend;

#[cfg(feature = "insecure-accept-all")]
impl EcdsaP256 for AcceptAllBackend {
    fn verify(&self, _: &[u8], _: &[u8], _: EcdsaSig<'_>) -> bool {
        true
    }
}

#[cfg(feature = "ring")]
struct RingBackend;

#[cfg(feature = "ring")]
impl EcdsaP256 for RingBackend {
    fn verify(&self, public_key: &[u8], message: &[u8], signature: EcdsaSig<'_>) -> bool {
        use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};
        match signature {
            EcdsaSig::Fixed(sig) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_key)
                .verify(message, sig)
                .is_ok(),
            EcdsaSig::Der(sig) => UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, public_key)
                .verify(message, sig)
                .is_ok(),
        }
    }
}

#[cfg(feature = "rustcrypto")]
struct RustCryptoBackend;

#[cfg(feature = "rustcrypto")]
impl EcdsaP256 for RustCryptoBackend {
    fn verify(&self, public_key: &[u8], message: &[u8], signature: EcdsaSig<'_>) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        use p256::ecdsa::{Signature, VerifyingKey};
        // Only uncompressed points, as ring accepts: both backends must agree on every input.
        if public_key.len() != 65 || public_key.first() != Some(&0x04) {
            return false;
        }
        let Ok(key) = VerifyingKey::from_sec1_bytes(public_key) else {
            return false;
        };
        let sig = match signature {
            EcdsaSig::Fixed(sig) => Signature::from_slice(sig),
            EcdsaSig::Der(sig) => Signature::from_der(sig),
        };
        sig.is_ok_and(|sig| key.verify(message, &sig).is_ok())
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

    /// A key pair made from a fixed scalar, and an RFC 6979 (deterministic) signature.
    fn vector() -> (Vec<u8>, Vec<u8>, [u8; 64]) {
        use p256::ecdsa::signature::Signer as _;
        let signing = p256::ecdsa::SigningKey::from_slice(&[0x42; 32]).unwrap();
        let key = signing
            .verifying_key()
            .to_sec1_point(false)
            .as_bytes()
            .to_vec();
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
            let ecdsa = backend.ecdsa();
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
            let ecdsa = backend.ecdsa();
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
    fn sha256_of_parts_is_sha256_of_concatenation() {
        use sha2::Digest as _;
        let whole: [u8; 32] = sha2::Sha256::digest(b"abcdef").into();
        assert_eq!(sha256(&[b"ab", b"", b"cdef"]), whole);
    }
}
