//! The one small signature backend of the crate: `ring` by default, RustCrypto under the
//! `rustcrypto` feature. Everything above this module speaks [`PublicKey`] and [`Scheme`].

use crate::error::{Error, malformed};

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!("attested-token needs a signature backend: enable feature `ring` or `rustcrypto`");

/// Which implementation checks signatures.
///
/// Both give the same answers; `ring` is faster, RustCrypto needs no C compiler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// `ring` (feature `ring`, on by default).
    #[cfg(feature = "ring")]
    Ring,
    /// The pure-Rust `rsa`, `p256`, `p384` and `sha2` crates (feature `rustcrypto`).
    #[cfg(feature = "rustcrypto")]
    RustCrypto,
}

impl Default for Backend {
    fn default() -> Self {
        #[cfg(feature = "ring")]
        return Backend::Ring;
        #[cfg(not(feature = "ring"))]
        return Backend::RustCrypto;
    }
}

impl Backend {
    /// Every backend compiled in (for running one test suite over all of them).
    pub fn all() -> &'static [Backend] {
        &[
            #[cfg(feature = "ring")]
            Backend::Ring,
            #[cfg(feature = "rustcrypto")]
            Backend::RustCrypto,
        ]
    }
}

/// Hash function of a signature scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
}

/// How a signature is computed and encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    RsaPkcs1(Hash),
    /// PSS with MGF1 of the same hash and salt length = hash length (JWS PS384).
    RsaPss(Hash),
    /// ECDSA with r||s of fixed width (JWS, COSE).
    EcdsaFixed(Hash),
}

/// A public key, normalised so that a JWK and a certificate's SPKI compare equal.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Big-endian modulus and exponent, without leading zeros.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// SEC1 uncompressed point (65 bytes).
    P256(Vec<u8>),
    /// SEC1 uncompressed point (97 bytes).
    P384(Vec<u8>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublicKey::Rsa { n, .. } => write!(f, "RSA-{}", n.len() * 8),
            PublicKey::P256(_) => f.write_str("P-256"),
            PublicKey::P384(_) => f.write_str("P-384"),
        }
    }
}

fn strip_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    bytes.get(first..).unwrap_or_default()
}

impl PublicKey {
    /// An RSA key of 2048 to 8192 bits (the range `ring` accepts, enforced for both backends).
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        if !(256..=1024).contains(&n.len()) {
            return Err(malformed("RSA key", format!("{}-bit modulus", n.len() * 8)));
        }
        if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) {
            return Err(malformed("RSA key", "exponent"));
        }
        Ok(PublicKey::Rsa {
            n: n.to_vec(),
            e: e.to_vec(),
        })
    }

    /// An EC key from its affine coordinates (JWK `x`, `y`).
    pub(crate) fn ec(curve: Curve, x: &[u8], y: &[u8]) -> Result<Self, Error> {
        let width = curve.width();
        if x.len() != width || y.len() != width {
            return Err(malformed("EC key", "coordinate length"));
        }
        let mut point = Vec::with_capacity(1 + 2 * width);
        point.push(4);
        point.extend_from_slice(x);
        point.extend_from_slice(y);
        Self::ec_point(curve, &point)
    }

    /// An EC key from a SEC1 uncompressed point.
    pub(crate) fn ec_point(curve: Curve, point: &[u8]) -> Result<Self, Error> {
        if point.len() != 1 + 2 * curve.width() || point.first() != Some(&4) {
            return Err(malformed("EC key", "not an uncompressed point"));
        }
        Ok(match curve {
            Curve::P256 => PublicKey::P256(point.to_vec()),
            Curve::P384 => PublicKey::P384(point.to_vec()),
        })
    }
}

/// An elliptic curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Curve {
    P256,
    P384,
}

impl Curve {
    fn width(self) -> usize {
        match self {
            Curve::P256 => 32,
            Curve::P384 => 48,
        }
    }
}

/// Whether `signature` over `message` verifies with `key` under `scheme`. A key of the wrong
/// type for the scheme does not verify.
pub(crate) fn verify(
    backend: Backend,
    scheme: Scheme,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    match backend {
        #[cfg(feature = "ring")]
        Backend::Ring => ring_backend::verify(scheme, key, message, signature),
        #[cfg(feature = "rustcrypto")]
        Backend::RustCrypto => rustcrypto_backend::verify(scheme, key, message, signature),
    }
}

#[cfg(feature = "ring")]
mod ring_backend {
    use super::{Hash, PublicKey, Scheme};
    use ring::signature::{self as sig, RsaPublicKeyComponents, UnparsedPublicKey};

    pub(super) fn verify(
        scheme: Scheme,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        match (scheme, key) {
            (Scheme::RsaPkcs1(hash), PublicKey::Rsa { n, e }) => {
                let params = match hash {
                    Hash::Sha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
                    Hash::Sha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            (Scheme::RsaPss(hash), PublicKey::Rsa { n, e }) => {
                let params = match hash {
                    Hash::Sha256 => &sig::RSA_PSS_2048_8192_SHA256,
                    Hash::Sha384 => &sig::RSA_PSS_2048_8192_SHA384,
                };
                RsaPublicKeyComponents { n, e }
                    .verify(params, message, signature)
                    .is_ok()
            }
            (Scheme::EcdsaFixed(hash), PublicKey::P256(point) | PublicKey::P384(point)) => {
                let p384 = matches!(key, PublicKey::P384(_));
                let alg: &dyn sig::VerificationAlgorithm = match (p384, hash) {
                    (false, Hash::Sha256) => &sig::ECDSA_P256_SHA256_FIXED,
                    (true, Hash::Sha384) => &sig::ECDSA_P384_SHA384_FIXED,
                    // Fixed-width signatures come only from JWS and COSE, which pair each
                    // curve with its own hash.
                    _ => return false,
                };
                UnparsedPublicKey::new(alg, point)
                    .verify(message, signature)
                    .is_ok()
            }
            _ => false,
        }
    }
}

#[cfg(feature = "rustcrypto")]
mod rustcrypto_backend {
    use super::{Hash, PublicKey, Scheme};
    use rsa::signature::Verifier as _;
    use rsa::{BoxedUint, RsaPublicKey};
    use sha2::{Digest, Sha256, Sha384};

    pub(super) fn verify(
        scheme: Scheme,
        key: &PublicKey,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        match (scheme, key) {
            (Scheme::RsaPkcs1(hash) | Scheme::RsaPss(hash), PublicKey::Rsa { n, e }) => {
                let Some(key) = rsa_key(n, e) else {
                    return false;
                };
                let pss = matches!(scheme, Scheme::RsaPss(_));
                rsa_verify(key, pss, hash, message, signature)
            }
            (Scheme::EcdsaFixed(hash), PublicKey::P256(point)) => {
                use p256::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
                let Ok(key) = VerifyingKey::from_sec1_bytes(point) else {
                    return false;
                };
                let Ok(sig) = Signature::from_slice(signature) else {
                    return false;
                };
                key.verify_prehash(&prehash(hash, message), &sig).is_ok()
            }
            (Scheme::EcdsaFixed(hash), PublicKey::P384(point)) => {
                use p384::ecdsa::{Signature, VerifyingKey, signature::hazmat::PrehashVerifier};
                let Ok(key) = VerifyingKey::from_sec1_bytes(point) else {
                    return false;
                };
                let Ok(sig) = Signature::from_slice(signature) else {
                    return false;
                };
                key.verify_prehash(&prehash(hash, message), &sig).is_ok()
            }
            _ => false,
        }
    }

    fn prehash(hash: Hash, message: &[u8]) -> Vec<u8> {
        match hash {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
        }
    }

    fn rsa_key(n: &[u8], e: &[u8]) -> Option<RsaPublicKey> {
        let n = BoxedUint::from_be_slice_vartime(n);
        let e = BoxedUint::from_be_slice_vartime(e);
        RsaPublicKey::new_with_size_limits(n, e, 2048..=8192).ok()
    }

    fn rsa_verify(
        key: RsaPublicKey,
        pss: bool,
        hash: Hash,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        macro_rules! check {
            ($module:ident, $digest:ty) => {{
                let Ok(sig) = rsa::$module::Signature::try_from(signature) else {
                    return false;
                };
                rsa::$module::VerifyingKey::<$digest>::new(key)
                    .verify(message, &sig)
                    .is_ok()
            }};
        }
        match (pss, hash) {
            (false, Hash::Sha256) => check!(pkcs1v15, Sha256),
            (false, Hash::Sha384) => check!(pkcs1v15, Sha384),
            (true, Hash::Sha256) => check!(pss, Sha256),
            (true, Hash::Sha384) => check!(pss, Sha384),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rsa_keys_outside_2048_to_8192_bits_are_refused() {
        assert!(PublicKey::rsa(&[0xff; 128], &[1, 0, 1]).is_err());
        assert!(PublicKey::rsa(&[0xff; 1025], &[1, 0, 1]).is_err());
        assert!(PublicKey::rsa(&[0xff; 256], &[1, 0, 0]).is_err());
        let key = PublicKey::rsa(&[&[0, 0][..], &[0xff; 256]].concat(), &[0, 1, 0, 1]).unwrap();
        assert_eq!(key, PublicKey::rsa(&[0xff; 256], &[1, 0, 1]).unwrap());
    }

    #[test]
    fn wrong_key_types_and_garbage_never_verify() {
        let p256 = PublicKey::ec_point(Curve::P256, &[&[4u8][..], &[1; 64]].concat()).unwrap();
        let rsa = PublicKey::rsa(&[0xff; 256], &[1, 0, 1]).unwrap();
        let cases: [(Scheme, &PublicKey, &[u8]); 4] = [
            (Scheme::RsaPss(Hash::Sha384), &p256, &[0; 256]),
            (Scheme::EcdsaFixed(Hash::Sha256), &rsa, &[0; 64]),
            (Scheme::EcdsaFixed(Hash::Sha256), &p256, &[0; 64]),
            (Scheme::RsaPkcs1(Hash::Sha256), &rsa, &[1; 256]),
        ];
        for &backend in Backend::all() {
            for (scheme, key, signature) in cases {
                assert!(!verify(backend, scheme, key, b"m", signature), "{scheme:?}");
            }
        }
        assert!(PublicKey::ec_point(Curve::P384, &[4; 65]).is_err());
    }
}
