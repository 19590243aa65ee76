use thiserror::Error;

/// Everything that can go wrong in this crate. Each variant names what failed.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The input ended before `what` was complete.
    #[error("truncated input: {what} is incomplete")]
    Truncated {
        /// The field that was being read.
        what: &'static str,
    },
    /// Bytes were left over after `what`.
    #[error("{count} trailing bytes after {what}")]
    TrailingBytes {
        /// The structure that should have ended.
        what: &'static str,
        /// How many bytes were left.
        count: usize,
    },
    /// A KEM identifier this crate does not implement.
    #[error("unsupported KEM 0x{0:04x}")]
    UnsupportedKem(u16),
    /// A KDF identifier this crate does not implement.
    #[error("unsupported KDF 0x{0:04x}")]
    UnsupportedKdf(u16),
    /// An AEAD identifier this crate does not implement.
    #[error("unsupported AEAD 0x{0:04x}")]
    UnsupportedAead(u16),
    /// A public key that is not a valid encoding for its KEM.
    #[error("invalid public key for {kem}")]
    InvalidPublicKey {
        /// The KEM the key was meant for.
        kem: &'static str,
    },
    /// A private key that is not a valid encoding for its KEM.
    #[error("invalid private key for {kem}")]
    InvalidPrivateKey {
        /// The KEM the key was meant for.
        kem: &'static str,
    },
    /// A key configuration whose symmetric algorithm list is malformed or empty.
    #[error("key configuration {key_id}: invalid symmetric algorithm list ({reason})")]
    InvalidSymmetricList {
        /// The key identifier of the configuration.
        key_id: u8,
        /// What is wrong with the list.
        reason: &'static str,
    },
    /// No key configuration offers a KEM and symmetric suite that both sides support.
    #[error("no mutually supported key configuration and suite")]
    NoSupportedSuite,
    /// A request for a key identifier the gateway does not hold.
    #[error("unknown key identifier {0}")]
    UnknownKeyId(u8),
    /// A request whose KEM does not match the key configuration it names.
    #[error("key {key_id}: request KEM 0x{request:04x} does not match the key's KEM")]
    KemMismatch {
        /// The key identifier named by the request.
        key_id: u8,
        /// The KEM identifier in the request.
        request: u16,
    },
    /// A request uses a symmetric suite its key configuration does not offer.
    #[error("key {key_id}: symmetric suite (KDF 0x{kdf:04x}, AEAD 0x{aead:04x}) is not offered")]
    SuiteNotOffered {
        /// The key identifier named by the request.
        key_id: u8,
        /// The KDF identifier in the request.
        kdf: u16,
        /// The AEAD identifier in the request.
        aead: u16,
    },
    /// A key used before its activation time.
    #[error("key {key_id} is not active yet")]
    KeyNotYetActive {
        /// The key identifier.
        key_id: u8,
    },
    /// A key used after its expiry and grace period.
    #[error("key {key_id} has expired (expiry and grace period passed)")]
    KeyExpired {
        /// The key identifier.
        key_id: u8,
    },
    /// A key ring entry that conflicts with another (same key identifier, overlapping time).
    #[error("key {key_id}: overlaps another key with the same identifier")]
    DuplicateKeyId {
        /// The key identifier.
        key_id: u8,
    },
    /// A validity window that ends before it starts.
    #[error("key {key_id}: validity window ends before it starts")]
    InvalidValidity {
        /// The key identifier.
        key_id: u8,
    },
    /// HPKE key encapsulation failed (for example a low-order point).
    #[error("HPKE encapsulation failed")]
    Encapsulation,
    /// HPKE key decapsulation failed (for example an invalid encapsulated key).
    #[error("HPKE decapsulation failed")]
    Decapsulation,
    /// Authenticated decryption of `what` failed: wrong key, or the bytes were altered.
    #[error("decryption of {what} failed")]
    Decryption {
        /// Which message or chunk failed to decrypt.
        what: &'static str,
    },
    /// Encryption failed (message limit reached or a length beyond the AEAD's bounds).
    #[error("encryption of {what} failed")]
    Encryption {
        /// Which message or chunk failed to encrypt.
        what: &'static str,
    },
    /// A configured limit was exceeded.
    #[error("limit exceeded: {what} ({actual} > {limit})")]
    LimitExceeded {
        /// Which limit.
        what: &'static str,
        /// The limit.
        limit: u64,
        /// The value that exceeded it (or a lower bound of it).
        actual: u64,
    },
    /// A chunked message that is malformed (for example data after the final chunk).
    #[error("malformed chunked message: {0}")]
    Chunking(&'static str),
    /// A stream state machine was used out of order (for example after it finished).
    #[error("invalid state: {0}")]
    State(&'static str),
    /// The evidence check refused the gateway's evidence.
    #[error("evidence rejected: {0}")]
    EvidenceRejected(String),
    /// The verified evidence does not bind this key configuration list.
    #[error("the verified evidence does not bind the key configuration list (REPORTDATA mismatch)")]
    KeyConfigsNotBound,
    /// Binary HTTP encoding or decoding failed.
    #[error("binary HTTP: {0}")]
    Bhttp(String),
    /// A media type other than the one the endpoint requires.
    #[error("unexpected media type (expected {expected})")]
    MediaType {
        /// The media type that was required.
        expected: &'static str,
    },
    /// A text encoding that does not decode (for example a `/discover` body that is not hex).
    #[error("{what} is not valid {encoding}")]
    Encoding {
        /// What was being decoded.
        what: &'static str,
        /// The encoding it should have had.
        encoding: &'static str,
    },
}

/// The result type of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

/// `Ok` when `actual` is at most `limit`, else the [`Error::LimitExceeded`] naming `what`.
pub(crate) fn within_limit(what: &'static str, actual: u64, limit: u64) -> Result<()> {
    if actual > limit {
        return Err(Error::LimitExceeded {
            what,
            limit,
            actual,
        });
    }
    Ok(())
}
