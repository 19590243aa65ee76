//! Key configurations (RFC 9458 §3) and `application/ohttp-keys` lists (§3.2).

use core::fmt;

use hpke::rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::error::{Error, Result, within_limit};
use crate::hpke_dispatch;
use crate::reader::Reader;
use crate::suite::{Aead, Kdf, Kem, Suite, SymmetricSuite};

/// The key identifier of a key configuration.
pub type KeyId = u8;

/// A gateway's public key configuration: key id, KEM, public key and the symmetric suites it
/// accepts. Only suites this crate implements are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyConfig {
    key_id: KeyId,
    kem: Kem,
    public_key: Vec<u8>,
    symmetric: Vec<SymmetricSuite>,
}

impl fmt::Debug for KeyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyConfig")
            .field("key_id", &self.key_id)
            .field("kem", &self.kem)
            .field("public_key", &hex::encode(&self.public_key))
            .field("symmetric", &self.symmetric)
            .finish()
    }
}

impl KeyConfig {
    /// A key configuration, after checking the public key and that `symmetric` is not empty.
    pub fn new(
        key_id: KeyId,
        kem: Kem,
        public_key: &[u8],
        symmetric: Vec<SymmetricSuite>,
    ) -> Result<Self> {
        if symmetric.is_empty() {
            return Err(Error::InvalidSymmetricList {
                key_id,
                reason: "empty",
            });
        }
        if symmetric.len() > usize::from(u16::MAX / 4) {
            return Err(Error::InvalidSymmetricList {
                key_id,
                reason: "too long",
            });
        }
        if public_key.len() != kem.public_key_len() {
            return Err(Error::InvalidPublicKey { kem: kem.name() });
        }
        hpke_dispatch::check_public_key(kem, public_key)?;
        Ok(Self {
            key_id,
            kem,
            public_key: public_key.to_vec(),
            symmetric,
        })
    }

    /// The key identifier.
    pub fn key_id(&self) -> KeyId {
        self.key_id
    }

    /// The KEM.
    pub fn kem(&self) -> Kem {
        self.kem
    }

    /// The encoded public key.
    pub fn public_key(&self) -> &[u8] {
        &self.public_key
    }

    /// The symmetric suites, in the gateway's order.
    pub fn symmetric_suites(&self) -> &[SymmetricSuite] {
        &self.symmetric
    }

    /// Whether this configuration accepts `suite`.
    pub fn offers(&self, suite: Suite) -> bool {
        suite.kem == self.kem && self.symmetric.contains(&suite.symmetric())
    }

    /// The full suites this configuration accepts.
    pub fn suites(&self) -> impl Iterator<Item = Suite> + '_ {
        self.symmetric
            .iter()
            .map(|s| Suite::new(self.kem, s.kdf, s.aead))
    }

    /// The RFC 9458 §3.1 encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + self.public_key.len() + 4 * self.symmetric.len());
        self.encode_into(&mut out);
        out
    }

    fn encode_into(&self, out: &mut Vec<u8>) {
        out.push(self.key_id);
        out.extend_from_slice(&self.kem.id().to_be_bytes());
        out.extend_from_slice(&self.public_key);
        // Bounded by `new`: at most u16::MAX / 4 suites.
        let len = u16::try_from(self.symmetric.len() * 4).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        for s in &self.symmetric {
            out.extend_from_slice(&s.kdf.id().to_be_bytes());
            out.extend_from_slice(&s.aead.id().to_be_bytes());
        }
    }

    /// Decodes exactly one key configuration. Unknown symmetric algorithms are skipped; an
    /// unknown KEM or a configuration with no known suite is an error.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let mut r = Reader::new(bytes);
        let config = Self::read(&mut r)?;
        r.finish("key configuration")?;
        Ok(config)
    }

    fn read(r: &mut Reader<'_>) -> Result<Self> {
        let key_id = r.u8("key id")?;
        let kem = Kem::from_id(r.u16("KEM id")?)?;
        let public_key = r.take(kem.public_key_len(), "public key")?;
        let sym_len = usize::from(r.u16("symmetric algorithms length")?);
        if sym_len == 0 || sym_len % 4 != 0 {
            return Err(Error::InvalidSymmetricList {
                key_id,
                reason: "length is zero or not a multiple of 4",
            });
        }
        let mut sym = Reader::new(r.take(sym_len, "symmetric algorithms")?);
        let mut symmetric = Vec::with_capacity(sym_len / 4);
        while !sym.is_empty() {
            let kdf = sym.u16("KDF id")?;
            let aead = sym.u16("AEAD id")?;
            // Future algorithms must not make the whole configuration unusable.
            if let (Ok(kdf), Ok(aead)) = (Kdf::from_id(kdf), Aead::from_id(aead)) {
                symmetric.push(SymmetricSuite::new(kdf, aead));
            }
        }
        if symmetric.is_empty() {
            return Err(Error::InvalidSymmetricList {
                key_id,
                reason: "no supported suite",
            });
        }
        Self::new(key_id, kem, public_key, symmetric)
    }
}

/// Encodes an `application/ohttp-keys` list: each configuration prefixed with its u16 length.
pub fn encode_key_config_list<'a>(configs: impl IntoIterator<Item = &'a KeyConfig>) -> Vec<u8> {
    let mut out = Vec::new();
    for config in configs {
        let encoded = config.encode();
        // A configuration is far below 64 KiB: 5 bytes, a public key of at most 1216 bytes and
        // at most u16::MAX bytes of suites, which `new` bounds.
        let len = u16::try_from(encoded.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&encoded);
    }
    out
}

/// The longest `application/ohttp-keys` list: what a client reads from `/ohttp-keys` (and
/// [`decode_key_config_list`] accepts) and what a [`KeyRing`](crate::keys::KeyRing) can ever
/// advertise (it refuses a key that would take the list of all its keys past this). 64 KiB
/// holds about 600 X25519 or 50 X-Wing configurations; a gateway advertises two or three.
pub const MAX_KEY_LIST_LEN: usize = 64 << 10;

/// Decodes an `application/ohttp-keys` list of at most [`MAX_KEY_LIST_LEN`] bytes. Configurations with an unknown KEM or no known
/// suite are skipped (RFC 9458 §3.2 lets clients ignore them); malformed framing is an error.
pub fn decode_key_config_list(bytes: &[u8]) -> Result<Vec<KeyConfig>> {
    within_limit(
        "key configuration list",
        bytes.len() as u64,
        MAX_KEY_LIST_LEN as u64,
    )?;
    let mut r = Reader::new(bytes);
    let mut configs = Vec::new();
    while !r.is_empty() {
        let len = usize::from(r.u16("key configuration length")?);
        let item = r.take(len, "key configuration")?;
        match KeyConfig::decode(item) {
            Ok(config) => configs.push(config),
            Err(
                Error::UnsupportedKem(_)
                | Error::InvalidSymmetricList {
                    reason: "no supported suite",
                    ..
                },
            ) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(configs)
}

/// A gateway key pair: its public configuration and the private key (zeroized on drop, never
/// printed).
#[derive(Clone)]
pub struct KeyPair {
    config: KeyConfig,
    private_key: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key pair from `rng`.
    pub fn generate(
        key_id: KeyId,
        kem: Kem,
        symmetric: Vec<SymmetricSuite>,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Self> {
        let (private_key, public_key) = hpke_dispatch::generate(kem, rng);
        Ok(Self {
            config: KeyConfig::new(key_id, kem, &public_key, symmetric)?,
            private_key,
        })
    }

    /// A key pair derived from input keying material (RFC 9180 `DeriveKeyPair`).
    pub fn derive(
        key_id: KeyId,
        kem: Kem,
        symmetric: Vec<SymmetricSuite>,
        ikm: &[u8],
    ) -> Result<Self> {
        let (private_key, public_key) = hpke_dispatch::derive(kem, ikm);
        Ok(Self {
            config: KeyConfig::new(key_id, kem, &public_key, symmetric)?,
            private_key,
        })
    }

    /// Imports an existing private key (its KEM's `SerializePrivateKey` encoding).
    pub fn import(
        key_id: KeyId,
        kem: Kem,
        symmetric: Vec<SymmetricSuite>,
        private_key: &[u8],
    ) -> Result<Self> {
        let public_key = hpke_dispatch::public_from_private(kem, private_key)?;
        Ok(Self {
            config: KeyConfig::new(key_id, kem, &public_key, symmetric)?,
            private_key: Zeroizing::new(private_key.to_vec()),
        })
    }

    /// The public configuration.
    pub fn config(&self) -> &KeyConfig {
        &self.config
    }

    pub(crate) fn private_key(&self) -> &[u8] {
        &self.private_key
    }
}
