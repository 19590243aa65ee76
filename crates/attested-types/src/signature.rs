//! Signature verification, pluggable: the algorithms the workspace checks X.509 chains (and
//! CRLs) with, as `rustls-pki-types`' [`SignatureVerificationAlgorithm`], the interface
//! rustls-webpki takes.
//!
//! Each set is a `&'static [&'static dyn SignatureVerificationAlgorithm]`
//! ([`Algorithms`]), so a caller can plug in its own implementation (an HSM, a FIPS module)
//! by implementing the trait for a `static` and listing it. Two implementations come with the
//! crate, giving the same answers:
//!
//! - [`ring::ALL`] (feature `ring`): rustls-webpki's own algorithms over `ring`;
//! - [`rustcrypto::ALL`] (feature `rustcrypto`): the pure-Rust `p256`, `p384`, `rsa` and
//!   `sha2` crates, for targets without a C compiler.
//!
//! Both accept ECDSA P-256 and P-384 with SHA-256 or SHA-384 (DER signatures), and RSA
//! PKCS#1 v1.5 and RSA-PSS with SHA-256, SHA-384 or SHA-512 over 2048- to 8192-bit keys: what
//! Intel's PCS, Intel Trust Authority, NVIDIA NRAS, AWS Nitro and Azure's CCF sign their
//! certificates and tokens with (Intel Trust Authority signs its tokens PS384).
//!
//! # One set for chains and tokens
//!
//! A verifier checks every signature it meets with one set: the certificates of a chain and
//! the token or document the chain's leaf signed. RSA-PSS is in the set for the tokens (JWS
//! `PS384`), and so a certificate may be PSS-signed too. That widens nothing that matters: an
//! algorithm verifies only under a key of its own type, every chain still has to reach a pinned
//! root, so a PSS signature is accepted only from an RSA key the root's holder certified, which
//! could equally sign PKCS#1 v1.5. The PSS identifiers are the exact DER rustls-webpki compares
//! (RFC 4055: MGF1 with the same hash, salt the hash's length), so no parameters are parsed;
//! and webpki's own default set, which rustls uses for every TLS certificate, lists them too.
//! Two sets (one for chains, one for tokens) would make a caller with an HSM build and keep
//! both, for no signer refused.
//!
//! Feature `insecure-accept-all` adds [`accept_all::ALL`], which accepts **every** signature:
//! for fuzzers only, so that they reach the parsing and appraisal behind the signatures.

pub use rustls_pki_types::{
    AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};

/// A set of signature algorithms a verifier accepts.
pub type Algorithms = &'static [&'static dyn SignatureVerificationAlgorithm];

/// The longest DER `Ecdsa-Sig-Value` of P-256 or P-384: two INTEGERs of 48 bytes plus a sign
/// byte each, with their tags and lengths and the SEQUENCE's.
pub const MAX_ECDSA_DER_SIG_LEN: usize = 2 + 2 * (2 + 49);

/// The `Ecdsa-Sig-Value` of RFC 3279 §2.2.3, the DER form every ECDSA
/// [`SignatureVerificationAlgorithm`] takes.
#[derive(der::Sequence)]
struct EcdsaSigValue<'a> {
    r: der::asn1::UintRef<'a>,
    s: der::asn1::UintRef<'a>,
}

/// Which of the sets that come with this crate a verifier uses, for callers that pick one by
/// name (the verifiers of attested-tdx and attested-token take it, or a set of the caller's
/// own). Its variants are the features enabled on this crate, by whichever crate enabled them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// [`ring::ALL`] (feature `ring`).
    #[cfg(feature = "ring")]
    Ring,
    /// [`rustcrypto::ALL`] (feature `rustcrypto`): no C compiler needed.
    #[cfg(feature = "rustcrypto")]
    RustCrypto,
    /// [`accept_all::ALL`] (feature `insecure-accept-all`): accepts **every** signature, for
    /// fuzzers only. Never in [`Backend::all`], never the default.
    #[cfg(feature = "insecure-accept-all")]
    InsecureAcceptAll,
}

#[cfg(any(feature = "ring", feature = "rustcrypto"))]
impl Default for Backend {
    /// `ring` when it is compiled in (the faster), RustCrypto otherwise.
    fn default() -> Self {
        #[cfg(feature = "ring")]
        return Backend::Ring;
        #[cfg(not(feature = "ring"))]
        return Backend::RustCrypto;
    }
}

impl Backend {
    /// Every verifying backend compiled in (for running one test suite over each of them).
    pub fn all() -> &'static [Backend] {
        &[
            #[cfg(feature = "ring")]
            Backend::Ring,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto,
        ]
    }

    /// This backend's set.
    pub fn algorithms(self) -> Algorithms {
        match self {
            #[cfg(feature = "ring")]
            Backend::Ring => ring::ALL,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => rustcrypto::ALL,
            #[cfg(feature = "insecure-accept-all")]
            Backend::InsecureAcceptAll => accept_all::ALL,
        }
    }

    /// This backend's ECDSA P-256 with SHA-256, alone: what Intel's DCAP PKI signs everything
    /// with, so a quote verifier needs no lookup by identifier.
    pub fn ecdsa_p256_sha256(self) -> &'static dyn SignatureVerificationAlgorithm {
        match self {
            #[cfg(feature = "ring")]
            Backend::Ring => ring::ECDSA_P256_SHA256,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto => rustcrypto::ECDSA_P256_SHA256,
            #[cfg(feature = "insecure-accept-all")]
            Backend::InsecureAcceptAll => accept_all::ECDSA_P256_SHA256,
        }
    }
}

/// Re-encodes a fixed-width ECDSA signature `r || s` (JWS, COSE, DCAP quotes: 64 bytes for
/// P-256, 96 for P-384) as the DER `Ecdsa-Sig-Value` the algorithms of a set take, in `buf`.
///
/// The encoding is minimal DER (leading zeros dropped, a sign byte added where the high bit is
/// set), the only form ring accepts. `None` for any other length: the width of the curve is the
/// caller's to require (a 96-byte signature for a P-256 key is not a P-256 signature).
pub fn ecdsa_fixed_to_der<'b>(
    fixed: &[u8],
    buf: &'b mut [u8; MAX_ECDSA_DER_SIG_LEN],
) -> Option<&'b [u8]> {
    if fixed.len() != 64 && fixed.len() != 96 {
        return None;
    }
    let (r, s) = fixed.split_at(fixed.len() / 2);
    let value = EcdsaSigValue {
        r: der::asn1::UintRef::new(r).ok()?,
        s: der::asn1::UintRef::new(s).ok()?,
    };
    der::Encode::encode_to_slice(&value, buf)
        .ok()
        .map(|der| -> &[u8] { der })
}

/// rustls-webpki's algorithms over `ring`.
#[cfg(feature = "ring")]
pub mod ring {
    use super::{Algorithms, SignatureVerificationAlgorithm};

    /// ECDSA P-256 with SHA-256 (DER signatures): what Intel's DCAP PKI signs everything with.
    pub static ECDSA_P256_SHA256: &dyn SignatureVerificationAlgorithm =
        webpki::ring::ECDSA_P256_SHA256;

    /// ECDSA P-256/P-384 with SHA-256/SHA-384, RSA PKCS#1 v1.5 and RSA-PSS with
    /// SHA-256/384/512 (PSS: why it is here, in the module docs).
    pub static ALL: Algorithms = &[
        webpki::ring::ECDSA_P256_SHA256,
        webpki::ring::ECDSA_P256_SHA384,
        webpki::ring::ECDSA_P384_SHA256,
        webpki::ring::ECDSA_P384_SHA384,
        webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        webpki::ring::RSA_PKCS1_2048_8192_SHA384,
        webpki::ring::RSA_PKCS1_2048_8192_SHA512,
        // `LEGACY_KEY`: the key is an rsaEncryption key (every RSA key we meet), not an
        // id-RSASSA-PSS one.
        webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        webpki::ring::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        webpki::ring::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
    ];
}

/// The same algorithms over the pure-Rust RustCrypto crates.
#[cfg(feature = "rustcrypto")]
pub mod rustcrypto {
    use der::Decode as _;
    use der::asn1::UintRef;
    use rsa::{BoxedUint, RsaPublicKey};
    use rustls_pki_types::{
        AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
    };
    use sha2::{Digest as _, Sha256, Sha384, Sha512};

    use super::Algorithms;

    #[derive(Debug, Clone, Copy)]
    enum Hash {
        Sha256,
        Sha384,
        Sha512,
    }

    #[derive(Debug, Clone, Copy)]
    enum Key {
        P256,
        P384,
        /// PKCS#1 v1.5.
        Rsa,
        /// RSASSA-PSS, MGF1 with the same hash, salt the hash's length (RFC 4055 §3.1).
        RsaPss,
    }

    /// One algorithm: a key type and a hash.
    #[derive(Debug)]
    struct Alg {
        key: Key,
        hash: Hash,
        key_alg: AlgorithmIdentifier,
        sig_alg: AlgorithmIdentifier,
    }

    fn prehash(hash: Hash, message: &[u8]) -> Vec<u8> {
        match hash {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => Sha512::digest(message).to_vec(),
        }
    }

    /// An RSA public key (RFC 8017 `RSAPublicKey`, the subjectPublicKey of an X.509 RSA key).
    #[derive(der::Sequence)]
    struct RsaPublicKeyDer<'a> {
        modulus: UintRef<'a>,
        public_exponent: UintRef<'a>,
    }

    /// The key, of 2048 to 8192 bits: the range `ring` accepts, so both sets agree.
    fn rsa_key(public_key: &[u8]) -> Option<RsaPublicKey> {
        let parsed = RsaPublicKeyDer::from_der(public_key).ok()?;
        let n = BoxedUint::from_be_slice_vartime(parsed.modulus.as_bytes());
        let e = BoxedUint::from_be_slice_vartime(parsed.public_exponent.as_bytes());
        RsaPublicKey::new_with_size_limits(n, e, 2048..=8192).ok()
    }

    fn rsa_verify(key: RsaPublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        use rsa::signature::Verifier as _;
        let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else {
            return false;
        };
        match hash {
            Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
                .verify(message, &signature)
                .is_ok(),
            Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key)
                .verify(message, &signature)
                .is_ok(),
            Hash::Sha512 => rsa::pkcs1v15::VerifyingKey::<Sha512>::new(key)
                .verify(message, &signature)
                .is_ok(),
        }
    }

    /// `pss::VerifyingKey::new` takes the salt to be the hash's length, and MGF1 over the same
    /// hash: what the RFC 4055 identifiers of the set (and ring's PSS algorithms) mean.
    fn rsa_pss_verify(key: RsaPublicKey, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        use rsa::signature::Verifier as _;
        let Ok(signature) = rsa::pss::Signature::try_from(signature) else {
            return false;
        };
        match hash {
            Hash::Sha256 => rsa::pss::VerifyingKey::<Sha256>::new(key)
                .verify(message, &signature)
                .is_ok(),
            Hash::Sha384 => rsa::pss::VerifyingKey::<Sha384>::new(key)
                .verify(message, &signature)
                .is_ok(),
            Hash::Sha512 => rsa::pss::VerifyingKey::<Sha512>::new(key)
                .verify(message, &signature)
                .is_ok(),
        }
    }

    impl SignatureVerificationAlgorithm for Alg {
        fn verify_signature(
            &self,
            public_key: &[u8],
            message: &[u8],
            signature: &[u8],
        ) -> Result<(), InvalidSignature> {
            let verified = match self.key {
                Key::P256 => {
                    use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
                    use p256::ecdsa::{Signature, VerifyingKey};
                    match (
                        VerifyingKey::from_sec1_bytes(public_key),
                        Signature::from_der(signature),
                    ) {
                        (Ok(key), Ok(signature)) => key
                            .verify_prehash(&prehash(self.hash, message), &signature)
                            .is_ok(),
                        _ => false,
                    }
                }
                Key::P384 => {
                    use p384::ecdsa::signature::hazmat::PrehashVerifier as _;
                    use p384::ecdsa::{Signature, VerifyingKey};
                    match (
                        VerifyingKey::from_sec1_bytes(public_key),
                        Signature::from_der(signature),
                    ) {
                        (Ok(key), Ok(signature)) => key
                            .verify_prehash(&prehash(self.hash, message), &signature)
                            .is_ok(),
                        _ => false,
                    }
                }
                Key::Rsa => rsa_key(public_key)
                    .is_some_and(|key| rsa_verify(key, self.hash, message, signature)),
                Key::RsaPss => rsa_key(public_key)
                    .is_some_and(|key| rsa_pss_verify(key, self.hash, message, signature)),
            };
            if verified {
                Ok(())
            } else {
                Err(InvalidSignature)
            }
        }

        fn public_key_alg_id(&self) -> AlgorithmIdentifier {
            self.key_alg
        }

        fn signature_alg_id(&self) -> AlgorithmIdentifier {
            self.sig_alg
        }
    }

    const fn ecdsa(key: Key, hash: Hash, sig_alg: AlgorithmIdentifier) -> Alg {
        Alg {
            key,
            hash,
            key_alg: match key {
                Key::P256 => alg_id::ECDSA_P256,
                Key::P384 => alg_id::ECDSA_P384,
                Key::Rsa | Key::RsaPss => alg_id::RSA_ENCRYPTION,
            },
            sig_alg,
        }
    }

    const fn rsa(key: Key, hash: Hash, sig_alg: AlgorithmIdentifier) -> Alg {
        Alg {
            key,
            hash,
            key_alg: alg_id::RSA_ENCRYPTION,
            sig_alg,
        }
    }

    static P256_SHA256: Alg = ecdsa(Key::P256, Hash::Sha256, alg_id::ECDSA_SHA256);
    static P256_SHA384: Alg = ecdsa(Key::P256, Hash::Sha384, alg_id::ECDSA_SHA384);
    static P384_SHA256: Alg = ecdsa(Key::P384, Hash::Sha256, alg_id::ECDSA_SHA256);
    static P384_SHA384: Alg = ecdsa(Key::P384, Hash::Sha384, alg_id::ECDSA_SHA384);
    static RSA_PKCS1_SHA256: Alg = rsa(Key::Rsa, Hash::Sha256, alg_id::RSA_PKCS1_SHA256);
    static RSA_PKCS1_SHA384: Alg = rsa(Key::Rsa, Hash::Sha384, alg_id::RSA_PKCS1_SHA384);
    static RSA_PKCS1_SHA512: Alg = rsa(Key::Rsa, Hash::Sha512, alg_id::RSA_PKCS1_SHA512);
    static RSA_PSS_SHA256: Alg = rsa(Key::RsaPss, Hash::Sha256, alg_id::RSA_PSS_SHA256);
    static RSA_PSS_SHA384: Alg = rsa(Key::RsaPss, Hash::Sha384, alg_id::RSA_PSS_SHA384);
    static RSA_PSS_SHA512: Alg = rsa(Key::RsaPss, Hash::Sha512, alg_id::RSA_PSS_SHA512);

    /// ECDSA P-256 with SHA-256 (DER signatures): what Intel's DCAP PKI signs everything with.
    pub static ECDSA_P256_SHA256: &dyn SignatureVerificationAlgorithm = &P256_SHA256;

    /// ECDSA P-256/P-384 with SHA-256/SHA-384, RSA PKCS#1 v1.5 and RSA-PSS with
    /// SHA-256/384/512: the algorithms of `ring::ALL`, in its order.
    pub static ALL: Algorithms = &[
        &P256_SHA256,
        &P256_SHA384,
        &P384_SHA256,
        &P384_SHA384,
        &RSA_PKCS1_SHA256,
        &RSA_PKCS1_SHA384,
        &RSA_PKCS1_SHA512,
        &RSA_PSS_SHA256,
        &RSA_PSS_SHA384,
        &RSA_PSS_SHA512,
    ];
}

/// Algorithms that accept every signature. **Never** for verification: fuzzers only.
#[cfg(feature = "insecure-accept-all")]
pub mod accept_all {
    use rustls_pki_types::{
        AlgorithmIdentifier, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
    };

    use super::Algorithms;

    #[derive(Debug)]
    struct AcceptAll {
        key_alg: AlgorithmIdentifier,
        sig_alg: AlgorithmIdentifier,
    }

    impl SignatureVerificationAlgorithm for AcceptAll {
        fn verify_signature(&self, _: &[u8], _: &[u8], _: &[u8]) -> Result<(), InvalidSignature> {
            Ok(())
        }

        fn public_key_alg_id(&self) -> AlgorithmIdentifier {
            self.key_alg
        }

        fn signature_alg_id(&self) -> AlgorithmIdentifier {
            self.sig_alg
        }
    }

    macro_rules! accept {
        ($name:ident, $key:ident, $sig:ident) => {
            static $name: AcceptAll = AcceptAll {
                key_alg: alg_id::$key,
                sig_alg: alg_id::$sig,
            };
        };
    }
    accept!(P256_SHA256, ECDSA_P256, ECDSA_SHA256);
    accept!(P256_SHA384, ECDSA_P256, ECDSA_SHA384);
    accept!(P384_SHA256, ECDSA_P384, ECDSA_SHA256);
    accept!(P384_SHA384, ECDSA_P384, ECDSA_SHA384);
    accept!(RSA_SHA256, RSA_ENCRYPTION, RSA_PKCS1_SHA256);
    accept!(RSA_SHA384, RSA_ENCRYPTION, RSA_PKCS1_SHA384);
    accept!(RSA_SHA512, RSA_ENCRYPTION, RSA_PKCS1_SHA512);
    accept!(RSA_PSS_SHA256, RSA_ENCRYPTION, RSA_PSS_SHA256);
    accept!(RSA_PSS_SHA384, RSA_ENCRYPTION, RSA_PSS_SHA384);
    accept!(RSA_PSS_SHA512, RSA_ENCRYPTION, RSA_PSS_SHA512);

    /// ECDSA P-256 with SHA-256's identifiers, accepting every signature.
    pub static ECDSA_P256_SHA256: &dyn SignatureVerificationAlgorithm = &P256_SHA256;

    /// The algorithm identifiers of the other sets, each accepting every signature.
    pub static ALL: Algorithms = &[
        &P256_SHA256,
        &P256_SHA384,
        &P384_SHA256,
        &P384_SHA384,
        &RSA_SHA256,
        &RSA_SHA384,
        &RSA_SHA512,
        &RSA_PSS_SHA256,
        &RSA_PSS_SHA384,
        &RSA_PSS_SHA512,
    ];
}

#[cfg(all(test, feature = "ring", feature = "rustcrypto"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use ::ring::rand::SystemRandom;
    use ::ring::signature::{
        ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, EcdsaKeyPair, KeyPair,
    };

    use super::*;

    fn find(set: Algorithms, key: AlgorithmIdentifier, sig: AlgorithmIdentifier) -> usize {
        set.iter()
            .position(|a| a.public_key_alg_id() == key && a.signature_alg_id() == sig)
            .unwrap()
    }

    #[test]
    fn both_sets_list_the_same_algorithms_in_the_same_order() {
        assert_eq!(ring::ALL.len(), rustcrypto::ALL.len());
        for (a, b) in ring::ALL.iter().zip(rustcrypto::ALL) {
            assert_eq!(a.public_key_alg_id(), b.public_key_alg_id());
            assert_eq!(a.signature_alg_id(), b.signature_alg_id());
        }
    }

    #[test]
    fn both_sets_accept_real_ecdsa_signatures_and_refuse_tampered_ones() {
        let rng = SystemRandom::new();
        for (signing, key, sig) in [
            (
                &ECDSA_P256_SHA256_ASN1_SIGNING,
                alg_id::ECDSA_P256,
                alg_id::ECDSA_SHA256,
            ),
            (
                &ECDSA_P384_SHA384_ASN1_SIGNING,
                alg_id::ECDSA_P384,
                alg_id::ECDSA_SHA384,
            ),
        ] {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
            let message = b"tbsCertificate";
            let signature = pair.sign(&rng, message).unwrap();
            let public = pair.public_key().as_ref();
            let index = find(ring::ALL, key, sig);
            for set in [ring::ALL, rustcrypto::ALL] {
                let alg = set[index];
                assert!(
                    alg.verify_signature(public, message, signature.as_ref())
                        .is_ok()
                );
                assert!(
                    alg.verify_signature(public, b"tbsCertificatf", signature.as_ref())
                        .is_err()
                );
                assert!(
                    alg.verify_signature(&public[1..], message, signature.as_ref())
                        .is_err()
                );
                assert!(
                    alg.verify_signature(public, message, &signature.as_ref()[1..])
                        .is_err()
                );
            }
        }
    }

    #[test]
    fn each_named_p256_sha256_is_its_sets_entry() {
        for (set, named) in [
            (ring::ALL, ring::ECDSA_P256_SHA256),
            (rustcrypto::ALL, rustcrypto::ECDSA_P256_SHA256),
        ] {
            assert_eq!(named.public_key_alg_id(), alg_id::ECDSA_P256);
            assert_eq!(named.signature_alg_id(), alg_id::ECDSA_SHA256);
            let entry = set[find(set, alg_id::ECDSA_P256, alg_id::ECDSA_SHA256)];
            assert!(std::ptr::addr_eq(entry, named));
        }
    }

    #[test]
    fn both_sets_hold_rsa_pss_under_rfc_4055s_identifiers() {
        for set in [ring::ALL, rustcrypto::ALL] {
            for sig in [
                alg_id::RSA_PSS_SHA256,
                alg_id::RSA_PSS_SHA384,
                alg_id::RSA_PSS_SHA512,
            ] {
                find(set, alg_id::RSA_ENCRYPTION, sig);
            }
        }
    }

    #[test]
    fn fixed_ecdsa_signatures_become_the_der_both_sets_verify() {
        use ::ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING};
        let rng = SystemRandom::new();
        for (signing, key, sig, width) in [
            (
                &ECDSA_P256_SHA256_FIXED_SIGNING,
                alg_id::ECDSA_P256,
                alg_id::ECDSA_SHA256,
                64,
            ),
            (
                &ECDSA_P384_SHA384_FIXED_SIGNING,
                alg_id::ECDSA_P384,
                alg_id::ECDSA_SHA384,
                96,
            ),
        ] {
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(signing, &rng).unwrap();
            let pair = EcdsaKeyPair::from_pkcs8(signing, pkcs8.as_ref(), &rng).unwrap();
            let public = pair.public_key().as_ref();
            let index = find(ring::ALL, key, sig);
            // Enough messages that some r or s has a leading zero byte or its high bit set.
            for i in 0u32..64 {
                let message = i.to_be_bytes();
                let fixed = pair.sign(&rng, &message).unwrap();
                assert_eq!(fixed.as_ref().len(), width);
                let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
                let der = ecdsa_fixed_to_der(fixed.as_ref(), &mut buf).unwrap();
                for set in [ring::ALL, rustcrypto::ALL] {
                    assert!(set[index].verify_signature(public, &message, der).is_ok());
                    assert!(set[index].verify_signature(public, b"other", der).is_err());
                }
            }
        }
    }

    #[test]
    fn fixed_to_der_is_minimal_and_refuses_other_widths() {
        // r = 5 (31 leading zero bytes dropped), s = 0x80 00.. (a sign byte added).
        let mut fixed = [0u8; 64];
        fixed[31] = 5;
        fixed[32] = 0x80;
        let mut expected = vec![0x30, 38, 2, 1, 5, 2, 33, 0, 0x80];
        expected.extend([0; 31]);
        let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
        assert_eq!(ecdsa_fixed_to_der(&fixed, &mut buf), Some(&expected[..]));
        // The longest P-384 value fills the buffer exactly.
        let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
        let der = ecdsa_fixed_to_der(&[0xff; 96], &mut buf).unwrap();
        assert_eq!(der.len(), MAX_ECDSA_DER_SIG_LEN);
        assert_eq!(&der[..5], &[0x30, 102, 2, 49, 0]);
        for len in [0, 1, 32, 63, 65, 95, 97, 132] {
            let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
            assert_eq!(ecdsa_fixed_to_der(&vec![1; len], &mut buf), None, "{len}");
        }
    }

    #[cfg(feature = "insecure-accept-all")]
    #[test]
    fn accept_all_lists_the_identifiers_of_the_other_sets() {
        assert_eq!(accept_all::ALL.len(), ring::ALL.len());
        for (a, b) in ring::ALL.iter().zip(accept_all::ALL) {
            assert_eq!(a.public_key_alg_id(), b.public_key_alg_id());
            assert_eq!(a.signature_alg_id(), b.signature_alg_id());
        }
    }

    #[test]
    fn garbage_keys_and_signatures_never_verify() {
        for set in [ring::ALL, rustcrypto::ALL] {
            for alg in set {
                for (key, sig) in [
                    (&[][..], &[][..]),
                    (&[4; 65][..], &[0x30, 0][..]),
                    (&[0; 300][..], &[1; 256][..]),
                ] {
                    assert!(alg.verify_signature(key, b"m", sig).is_err());
                }
            }
        }
    }
}
