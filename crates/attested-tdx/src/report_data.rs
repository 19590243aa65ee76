//! REPORTDATA binding: the 64 bytes a TD puts in its report to bind a key, a nonce or a
//! transcript to its attestation.
//!
//! Two conventions are common: SHA-512 of the bound value filling all 64 bytes (the Noise proxy,
//! OHTTP key configs), and SHA-256 followed by 32 zero bytes (Azure's HCL, many demos). Naming the
//! convention at the call site avoids the confusion attack where a SHA-256 value is accepted as
//! the prefix of a SHA-512 one.

use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// An expected REPORTDATA value, compared with a quote's in constant time.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ReportData([u8; 64]);

/// Why a quote's REPORTDATA does not bind what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReportDataError {
    /// The quote's REPORTDATA is all zero: it binds nothing.
    #[error("REPORTDATA is all zero: the quote binds nothing")]
    AllZero,
    /// The quote's REPORTDATA differs from the expected value.
    #[error("REPORTDATA does not match the expected binding")]
    Mismatch,
}

impl ReportData {
    /// The raw 64 bytes, for values computed elsewhere.
    pub const fn from_bytes(bytes: [u8; 64]) -> Self {
        Self(bytes)
    }

    /// SHA-512 of `bound`, filling all 64 bytes.
    pub fn sha512(bound: &[u8]) -> Self {
        Self(Sha512::digest(bound).into())
    }

    /// SHA-256 of `bound` in the first 32 bytes, then 32 zero bytes.
    pub fn sha256_zero_padded(bound: &[u8]) -> Self {
        let mut bytes = [0u8; 64];
        let (digest, _) = bytes.split_at_mut(32);
        digest.copy_from_slice(&Sha256::digest(bound));
        Self(bytes)
    }

    /// The 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; 64] {
        &self.0
    }

    /// Whether the 64 bytes are all zero, in constant time.
    pub fn is_all_zero(&self) -> bool {
        self.0.ct_eq(&[0u8; 64]).into()
    }

    /// Checks, in constant time, that `actual` (a quote's REPORTDATA) equals this value.
    /// All-zero REPORTDATA is refused even when it is what was expected: it binds nothing.
    pub fn verify(&self, actual: &[u8; 64]) -> Result<(), ReportDataError> {
        if ReportData::from_bytes(*actual).is_all_zero() {
            return Err(ReportDataError::AllZero);
        }
        if bool::from(self.0.ct_eq(actual)) {
            Ok(())
        } else {
            Err(ReportDataError::Mismatch)
        }
    }
}

impl core::fmt::Debug for ReportData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "ReportData({})", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // SHA-512("abc") and SHA-256("abc") from FIPS 180-2, Appendix C and B.
    const SHA512_ABC: &str = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
                              2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn bindings_follow_their_conventions() {
        assert_eq!(
            hex::encode(ReportData::sha512(b"abc").as_bytes()),
            SHA512_ABC
        );
        let padded = ReportData::sha256_zero_padded(b"abc");
        assert_eq!(hex::encode(&padded.as_bytes()[..32]), SHA256_ABC);
        assert_eq!(padded.as_bytes()[32..], [0u8; 32]);
    }

    #[test]
    fn verify_accepts_only_the_exact_value() {
        let expected = ReportData::sha512(b"binding key");
        expected.verify(expected.as_bytes()).unwrap();
        for bit in [0, 7, 255, 511] {
            let mut other = *expected.as_bytes();
            other[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(expected.verify(&other), Err(ReportDataError::Mismatch));
        }
    }

    #[test]
    fn sha256_and_sha512_conventions_never_confuse() {
        let key = b"binding key";
        let long = ReportData::sha512(key);
        let short = ReportData::sha256_zero_padded(key);
        assert_eq!(
            long.verify(short.as_bytes()),
            Err(ReportDataError::Mismatch)
        );
        assert_eq!(
            short.verify(long.as_bytes()),
            Err(ReportDataError::Mismatch)
        );
    }

    #[test]
    fn all_zero_report_data_is_refused_even_when_expected() {
        let zero = ReportData::from_bytes([0; 64]);
        assert!(zero.is_all_zero());
        assert_eq!(zero.verify(&[0; 64]), Err(ReportDataError::AllZero));
        assert_eq!(
            ReportData::sha512(b"k").verify(&[0; 64]),
            Err(ReportDataError::AllZero)
        );
    }
}
