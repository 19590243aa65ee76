//! The crate's one signature path. Every signature it checks, a JWS's, a COSE document's and
//! each certificate's of a chain, goes through a `SignatureVerificationAlgorithm` of the
//! verifier's set (`attested_types::signature::Algorithms`): `ring`'s by default, RustCrypto's
//! under `rustcrypto` ([`Backend`]), or the caller's own (an HSM, a FIPS module). The algorithm
//! is chosen as webpki chooses it, by the key's and the signature's algorithm identifiers.
//!
//! The algorithms take keys and signatures as X.509 carries them: an RSA key as its DER
//! `RSAPublicKey`, an EC key as its SEC1 uncompressed point, an ECDSA signature as DER. A JWK's
//! `n`/`e` are DER-encoded once, when the key set is read; a JWS's or COSE's fixed-width
//! `r || s` is re-encoded at each check by the vocabulary's `ecdsa_fixed_to_der`.

use attested_types::signature::{
    AlgorithmIdentifier, Algorithms, MAX_ECDSA_DER_SIG_LEN, alg_id, ecdsa_fixed_to_der,
};
use der::asn1::UintRef;

use crate::error::{Error, malformed};

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!("attested-token needs a signature backend: enable feature `ring` or `rustcrypto`");

/// Which of the vocabulary's algorithm sets checks signatures: the vocabulary's
/// [`Backend`](attested_types::signature::Backend).
///
/// Both give the same answers; `ring` is faster, RustCrypto needs no C compiler. A caller with
/// its own algorithms passes their set instead ([`KeySet::chained_with_algorithms`],
/// [`NitroVerifier::algorithms`]).
///
/// [`KeySet::chained_with_algorithms`]: crate::jwt::KeySet::chained_with_algorithms
/// [`NitroVerifier::algorithms`]: crate::nitro::NitroVerifier::algorithms
pub use attested_types::signature::Backend;

/// A signature algorithm of JWS or COSE: the identifiers of the set's algorithm that checks it,
/// and how the signature is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Scheme {
    /// The JWS name, for errors.
    pub(crate) name: &'static str,
    /// The one key type the algorithm is defined for (RFC 7518 §3.4 pairs each ECDSA curve
    /// with its own hash: ES256 is P-256 only).
    key_alg: AlgorithmIdentifier,
    signature_alg: AlgorithmIdentifier,
    /// `Some(width)`: a fixed-width ECDSA `r || s` of exactly that many bytes.
    fixed_width: Option<usize>,
}

impl Scheme {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    pub(crate) const RS256: Scheme = Scheme {
        name: "RS256",
        key_alg: alg_id::RSA_ENCRYPTION,
        signature_alg: alg_id::RSA_PKCS1_SHA256,
        fixed_width: None,
    };
    /// RSASSA-PSS with SHA-384, MGF1 with SHA-384, a 48-byte salt (RFC 7518 §3.5).
    pub(crate) const PS384: Scheme = Scheme {
        name: "PS384",
        key_alg: alg_id::RSA_ENCRYPTION,
        signature_alg: alg_id::RSA_PSS_SHA384,
        fixed_width: None,
    };
    /// ECDSA P-256 with SHA-256, 64-byte `r || s`.
    pub(crate) const ES256: Scheme = Scheme {
        name: "ES256",
        key_alg: alg_id::ECDSA_P256,
        signature_alg: alg_id::ECDSA_SHA256,
        fixed_width: Some(64),
    };
    /// ECDSA P-384 with SHA-384, 96-byte `r || s` (JWS ES384, COSE -35).
    pub(crate) const ES384: Scheme = Scheme {
        name: "ES384",
        key_alg: alg_id::ECDSA_P384,
        signature_alg: alg_id::ECDSA_SHA384,
        fixed_width: Some(96),
    };

    /// Whether `key` is of the type (and curve) this algorithm is defined for.
    pub(crate) fn fits(self, key: &PublicKey) -> bool {
        key.alg_id() == self.key_alg
    }
}

/// An RSA public key (RFC 8017 `RSAPublicKey`): the subjectPublicKey of an X.509 RSA key, and
/// the form the set's RSA algorithms take.
#[derive(der::Sequence)]
pub(crate) struct RsaPublicKeyDer<'a> {
    pub(crate) modulus: UintRef<'a>,
    pub(crate) public_exponent: UintRef<'a>,
}

/// A public key in the form the vocabulary's algorithms take it, normalised so that a JWK and
/// a certificate's SPKI compare equal.
#[derive(Clone, PartialEq, Eq)]
pub(crate) enum PublicKey {
    /// Minimal DER `RSAPublicKey`; `bits` is the modulus's size, for messages.
    Rsa { der: Vec<u8>, bits: usize },
    /// SEC1 uncompressed point (65 bytes).
    P256(Vec<u8>),
    /// SEC1 uncompressed point (97 bytes).
    P384(Vec<u8>),
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublicKey::Rsa { bits, .. } => write!(f, "RSA-{bits}"),
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
    /// An RSA key of 2048 to 8192 bits (the range `ring` accepts, enforced for every set) from
    /// its big-endian modulus and exponent.
    pub(crate) fn rsa(n: &[u8], e: &[u8]) -> Result<Self, Error> {
        let n = strip_zeros(n);
        let e = strip_zeros(e);
        if !(256..=1024).contains(&n.len()) {
            return Err(malformed("RSA key", format!("{}-bit modulus", n.len() * 8)));
        }
        if e.is_empty() || e.len() > 4 || e.last().is_some_and(|b| b & 1 == 0) {
            return Err(malformed("RSA key", "exponent"));
        }
        let encoding = |e: der::Error| malformed("RSA key", e);
        let key = RsaPublicKeyDer {
            modulus: UintRef::new(n).map_err(encoding)?,
            public_exponent: UintRef::new(e).map_err(encoding)?,
        };
        Ok(PublicKey::Rsa {
            der: der::Encode::to_der(&key).map_err(encoding)?,
            bits: n.len() * 8,
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

    /// The key's algorithm identifier, as an X.509 SPKI names it.
    fn alg_id(&self) -> AlgorithmIdentifier {
        match self {
            PublicKey::Rsa { .. } => alg_id::RSA_ENCRYPTION,
            PublicKey::P256(_) => alg_id::ECDSA_P256,
            PublicKey::P384(_) => alg_id::ECDSA_P384,
        }
    }

    /// The key as the algorithms take it.
    fn bytes(&self) -> &[u8] {
        match self {
            PublicKey::Rsa { der, .. } => der,
            PublicKey::P256(point) | PublicKey::P384(point) => point,
        }
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

/// Checks `signature` over `message` by `key` under `scheme` with the set's algorithm for it.
///
/// A key of another type than the scheme's does not verify ([`Error::BadSignature`], naming
/// `what`), nor does a fixed-width signature of another width; a set without the algorithm is
/// [`Error::AlgorithmNotInSet`].
pub(crate) fn verify(
    algorithms: Algorithms,
    scheme: Scheme,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
    what: &str,
) -> Result<(), Error> {
    let bad = || Error::BadSignature {
        what: what.to_owned(),
    };
    if !scheme.fits(key) {
        return Err(bad());
    }
    let algorithm = algorithms
        .iter()
        .find(|alg| {
            alg.public_key_alg_id() == scheme.key_alg
                && alg.signature_alg_id() == scheme.signature_alg
        })
        .ok_or(Error::AlgorithmNotInSet { alg: scheme.name })?;
    let mut buf = [0; MAX_ECDSA_DER_SIG_LEN];
    let signature = match scheme.fixed_width {
        None => signature,
        Some(width) if signature.len() == width => {
            ecdsa_fixed_to_der(signature, &mut buf).ok_or_else(bad)?
        }
        Some(_) => return Err(bad()),
    };
    algorithm
        .verify_signature(key.bytes(), message, signature)
        .map_err(|_| bad())
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
    fn an_rsa_key_is_the_minimal_der_of_its_modulus_and_exponent() {
        let PublicKey::Rsa { der, bits } = PublicKey::rsa(&[0xff; 256], &[1, 0, 1]).unwrap() else {
            panic!("not RSA");
        };
        assert_eq!(bits, 2048);
        // SEQUENCE (long form, 266 bytes) { INTEGER 257 bytes (a sign byte), INTEGER 65537 }.
        assert_eq!(
            &der[..9],
            &[0x30, 0x82, 0x01, 0x0a, 0x02, 0x82, 0x01, 0x01, 0x00]
        );
        assert_eq!(&der[der.len() - 5..], &[0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(der.len(), 4 + 4 + 257 + 5);
        let parsed: RsaPublicKeyDer<'_> = der::Decode::from_der(&der).unwrap();
        assert_eq!(parsed.modulus.as_bytes(), &[0xff; 256]);
    }

    #[test]
    fn wrong_key_types_and_garbage_never_verify() {
        let p256 = PublicKey::ec_point(Curve::P256, &[&[4u8][..], &[1; 64]].concat()).unwrap();
        let p384 = PublicKey::ec_point(Curve::P384, &[&[4u8][..], &[1; 96]].concat()).unwrap();
        let rsa = PublicKey::rsa(&[0xff; 256], &[1, 0, 1]).unwrap();
        let cases: [(Scheme, &PublicKey, &[u8]); 6] = [
            (Scheme::PS384, &p256, &[0; 256]),
            (Scheme::ES256, &rsa, &[0; 64]),
            (Scheme::ES256, &p256, &[0; 64]),
            (Scheme::RS256, &rsa, &[1; 256]),
            // ES256 is P-256 only, though the set holds P-384 with SHA-256.
            (Scheme::ES256, &p384, &[1; 64]),
            // A fixed-width signature of the other curve's width.
            (Scheme::ES256, &p256, &[1; 96]),
        ];
        for &backend in Backend::all() {
            for (scheme, key, signature) in cases {
                assert!(
                    matches!(
                        verify(backend.algorithms(), scheme, key, b"m", signature, "m"),
                        Err(Error::BadSignature { .. })
                    ),
                    "{scheme:?}"
                );
            }
        }
        assert!(PublicKey::ec_point(Curve::P384, &[4; 65]).is_err());
    }

    #[test]
    fn a_set_without_the_algorithm_says_so() {
        let p384 = PublicKey::ec_point(Curve::P384, &[&[4u8][..], &[1; 96]].concat()).unwrap();
        for &backend in Backend::all() {
            let without: Algorithms = Vec::leak(
                backend
                    .algorithms()
                    .iter()
                    .copied()
                    .filter(|alg| alg.signature_alg_id() != alg_id::ECDSA_SHA384)
                    .collect(),
            );
            assert_eq!(
                verify(without, Scheme::ES384, &p384, b"m", &[1; 96], "m"),
                Err(Error::AlgorithmNotInSet { alg: "ES384" })
            );
        }
    }
}
