//! Algorithm identifiers (RFC 9180 §7) and the client's suite preference.

use crate::error::{Error, Result};

/// A key encapsulation mechanism this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kem {
    /// DHKEM(P-256, HKDF-SHA256), 0x0010.
    P256Sha256,
    /// DHKEM(P-384, HKDF-SHA384), 0x0011 (used by Azure confidential inference).
    P384Sha384,
    /// DHKEM(X25519, HKDF-SHA256), 0x0020.
    X25519Sha256,
    /// X-Wing (ML-KEM-768 + X25519), 0x647a.
    XWing,
}

impl Kem {
    /// Every KEM this crate implements.
    pub const ALL: [Kem; 4] = [
        Kem::P256Sha256,
        Kem::P384Sha384,
        Kem::X25519Sha256,
        Kem::XWing,
    ];

    /// The IANA identifier.
    pub const fn id(self) -> u16 {
        match self {
            Kem::P256Sha256 => 0x0010,
            Kem::P384Sha384 => 0x0011,
            Kem::X25519Sha256 => 0x0020,
            Kem::XWing => 0x647a,
        }
    }

    /// The KEM for an IANA identifier.
    pub fn from_id(id: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.id() == id)
            .ok_or(Error::UnsupportedKem(id))
    }

    /// The length of an encapsulated key (`Nenc`).
    pub const fn enc_len(self) -> usize {
        match self {
            Kem::P256Sha256 => 65,
            Kem::P384Sha384 => 97,
            Kem::X25519Sha256 => 32,
            Kem::XWing => 1120,
        }
    }

    /// The length of an encoded public key (`Npk`).
    pub const fn public_key_len(self) -> usize {
        match self {
            Kem::P256Sha256 => 65,
            Kem::P384Sha384 => 97,
            Kem::X25519Sha256 => 32,
            Kem::XWing => 1216,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
        match self {
            Kem::P256Sha256 => "DHKEM(P-256, HKDF-SHA256)",
            Kem::P384Sha384 => "DHKEM(P-384, HKDF-SHA384)",
            Kem::X25519Sha256 => "DHKEM(X25519, HKDF-SHA256)",
            Kem::XWing => "X-Wing",
        }
    }
}

/// A key derivation function this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kdf {
    /// HKDF-SHA256, 0x0001.
    HkdfSha256,
    /// HKDF-SHA384, 0x0002.
    HkdfSha384,
    /// HKDF-SHA512, 0x0003.
    HkdfSha512,
}

impl Kdf {
    /// Every KDF this crate implements.
    pub const ALL: [Kdf; 3] = [Kdf::HkdfSha256, Kdf::HkdfSha384, Kdf::HkdfSha512];

    /// The IANA identifier.
    pub const fn id(self) -> u16 {
        match self {
            Kdf::HkdfSha256 => 1,
            Kdf::HkdfSha384 => 2,
            Kdf::HkdfSha512 => 3,
        }
    }

    /// The KDF for an IANA identifier.
    pub fn from_id(id: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|k| k.id() == id)
            .ok_or(Error::UnsupportedKdf(id))
    }
}

/// An AEAD this crate implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Aead {
    /// AES-128-GCM, 0x0001.
    Aes128Gcm,
    /// AES-256-GCM, 0x0002.
    Aes256Gcm,
    /// ChaCha20-Poly1305, 0x0003.
    ChaCha20Poly1305,
}

impl Aead {
    /// Every AEAD this crate implements.
    pub const ALL: [Aead; 3] = [Aead::Aes128Gcm, Aead::Aes256Gcm, Aead::ChaCha20Poly1305];

    /// The IANA identifier.
    pub const fn id(self) -> u16 {
        match self {
            Aead::Aes128Gcm => 1,
            Aead::Aes256Gcm => 2,
            Aead::ChaCha20Poly1305 => 3,
        }
    }

    /// The AEAD for an IANA identifier.
    pub fn from_id(id: u16) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.id() == id)
            .ok_or(Error::UnsupportedAead(id))
    }

    /// The key length (`Nk`).
    pub const fn key_len(self) -> usize {
        match self {
            Aead::Aes128Gcm => 16,
            Aead::Aes256Gcm | Aead::ChaCha20Poly1305 => 32,
        }
    }

    /// The nonce length (`Nn`).
    pub const fn nonce_len(self) -> usize {
        12
    }

    /// The tag length (`Nt`).
    pub const fn tag_len(self) -> usize {
        16
    }
}

/// A (KDF, AEAD) pair offered by a key configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SymmetricSuite {
    /// The key derivation function.
    pub kdf: Kdf,
    /// The AEAD.
    pub aead: Aead,
}

impl SymmetricSuite {
    /// A symmetric suite.
    pub const fn new(kdf: Kdf, aead: Aead) -> Self {
        Self { kdf, aead }
    }
}

/// A full HPKE suite: KEM, KDF and AEAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Suite {
    /// The key encapsulation mechanism.
    pub kem: Kem,
    /// The key derivation function.
    pub kdf: Kdf,
    /// The AEAD.
    pub aead: Aead,
}

impl Suite {
    /// A suite.
    pub const fn new(kem: Kem, kdf: Kdf, aead: Aead) -> Self {
        Self { kem, kdf, aead }
    }

    /// DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM: RFC 9458 Appendix A.
    pub const X25519_AES128GCM: Suite =
        Suite::new(Kem::X25519Sha256, Kdf::HkdfSha256, Aead::Aes128Gcm);
    /// DHKEM(P-384, HKDF-SHA384), HKDF-SHA384, AES-256-GCM: the Azure suite.
    pub const P384_AES256GCM: Suite = Suite::new(Kem::P384Sha384, Kdf::HkdfSha384, Aead::Aes256Gcm);
    /// X-Wing, HKDF-SHA256, AES-256-GCM: post-quantum hybrid.
    pub const XWING_AES256GCM: Suite = Suite::new(Kem::XWing, Kdf::HkdfSha256, Aead::Aes256Gcm);

    /// The symmetric part.
    pub const fn symmetric(self) -> SymmetricSuite {
        SymmetricSuite::new(self.kdf, self.aead)
    }

    /// `max(Nn, Nk)`: the length of the response secret and response nonce (RFC 9458 §4.4).
    pub(crate) const fn response_nonce_len(self) -> usize {
        let (n, k) = (self.aead.nonce_len(), self.aead.key_len());
        if n > k { n } else { k }
    }
}

/// The client's ranking of algorithms, strongest first. The client picks the best suite that
/// a key configuration offers, whatever the order in which the gateway lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preference {
    /// KEMs, most preferred first. KEMs not listed are never chosen.
    pub kems: Vec<Kem>,
    /// AEADs, most preferred first. AEADs not listed are never chosen.
    pub aeads: Vec<Aead>,
    /// KDFs, most preferred first. KDFs not listed are never chosen.
    pub kdfs: Vec<Kdf>,
}

impl Default for Preference {
    /// Post-quantum first, then the larger classical groups; 256-bit AEAD keys first.
    fn default() -> Self {
        Self {
            kems: vec![
                Kem::XWing,
                Kem::P384Sha384,
                Kem::X25519Sha256,
                Kem::P256Sha256,
            ],
            aeads: vec![Aead::Aes256Gcm, Aead::ChaCha20Poly1305, Aead::Aes128Gcm],
            kdfs: vec![Kdf::HkdfSha384, Kdf::HkdfSha512, Kdf::HkdfSha256],
        }
    }
}

impl Preference {
    fn rank<T: PartialEq>(list: &[T], item: &T) -> Option<usize> {
        list.iter().position(|x| x == item)
    }

    /// The rank of a suite (lower is better), or `None` if it is not acceptable. KEM strength
    /// comes first, then the AEAD, then the KDF.
    pub(crate) fn score(&self, suite: Suite) -> Option<(usize, usize, usize)> {
        Some((
            Self::rank(&self.kems, &suite.kem)?,
            Self::rank(&self.aeads, &suite.aead)?,
            Self::rank(&self.kdfs, &suite.kdf)?,
        ))
    }
}
