//! Parse errors. Each one names the field and the absolute byte offset where parsing stopped.

/// Why a byte string is not a well-formed TDX quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The input ends inside a field.
    #[error("{field} at byte {offset}: needs {needed} bytes, only {available} remain")]
    Truncated {
        /// The field being read.
        field: &'static str,
        /// Absolute offset of the field.
        offset: usize,
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left in the input (or in the enclosing length-delimited block).
        available: usize,
    },
    /// `tee_type` says this is not a TDX quote (an SGX quote has `tee_type` 0).
    #[error("not a TDX quote: tee_type at byte 4 is {tee_type:#x} (TDX is 0x81, SGX is 0x0)")]
    NotTdx {
        /// The `tee_type` found.
        tee_type: u32,
    },
    /// The quote version is not one this crate parses.
    #[error("unsupported quote version {version} at byte 0 (TDX quotes are version 4 or 5)")]
    UnsupportedVersion {
        /// The version found.
        version: u16,
    },
    /// The attestation key type is not ECDSA P-256.
    #[error(
        "unsupported attestation key type {key_type} at byte 2 (only 2, ECDSA P-256, is defined)"
    )]
    UnsupportedAttestationKeyType {
        /// The key type found.
        key_type: u16,
    },
    /// A v5 body descriptor names an unknown body type.
    #[error("unsupported v5 body type {body_type} at byte 48 (2, 3 and 4 are TD reports)")]
    UnsupportedBodyType {
        /// The body type found.
        body_type: u16,
    },
    /// A v5 body descriptor's size does not match its body type.
    #[error("v5 body type {body_type}: body size at byte 50 is {declared}, must be {expected}")]
    BodySizeMismatch {
        /// The body type.
        body_type: u16,
        /// The size the descriptor declares.
        declared: u32,
        /// The size that body type has.
        expected: u32,
    },
    /// A length-delimited block holds bytes that none of its fields account for.
    #[error("{field} at byte {offset}: {extra} bytes left over inside its declared length")]
    UnconsumedBytes {
        /// The block.
        field: &'static str,
        /// Absolute offset of the first unaccounted byte.
        offset: usize,
        /// How many bytes are unaccounted for.
        extra: usize,
    },
    /// Bytes after the signature data that are not zero padding.
    #[error(
        "trailing data at byte {offset}: {len} bytes after the signature data are not zero padding"
    )]
    TrailingData {
        /// Absolute offset of the signature data's end.
        offset: usize,
        /// Length of the trailing bytes.
        len: usize,
    },
    /// A certification data block of the wrong type.
    #[error("certification data type at byte {offset} is {found}, expected {expected}")]
    UnexpectedCertificationType {
        /// Absolute offset of the type field.
        offset: usize,
        /// The type found.
        found: u16,
        /// The type required here.
        expected: u16,
    },
    /// The PCK certificate chain (certification data type 5) is not a PEM chain.
    #[error("PCK certificate chain at byte {offset}: {reason}")]
    InvalidPckChain {
        /// Absolute offset of the chain.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl ParseError {
    /// The absolute byte offset where the error was found.
    pub fn offset(&self) -> usize {
        match self {
            Self::Truncated { offset, .. }
            | Self::UnconsumedBytes { offset, .. }
            | Self::TrailingData { offset, .. }
            | Self::UnexpectedCertificationType { offset, .. }
            | Self::InvalidPckChain { offset, .. } => *offset,
            Self::NotTdx { .. } => 4,
            Self::UnsupportedVersion { .. } => 0,
            Self::UnsupportedAttestationKeyType { .. } => 2,
            Self::UnsupportedBodyType { .. } => 48,
            Self::BodySizeMismatch { .. } => 50,
        }
    }
}
