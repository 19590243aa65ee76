//! REPORTDATA: the 64 bytes a TEE report carries to bind a key, a nonce or a transcript.
//!
//! Two conventions are common: SHA-512 of the bound value filling all 64 bytes (the Noise
//! proxy, OHTTP key configurations), and SHA-256 followed by 32 zero bytes (Azure's HCL, many
//! demos). Naming the convention at the call site avoids the confusion attack where a SHA-256
//! value is accepted as the prefix of a SHA-512 one.

use core::fmt;
use core::ops::Deref;

use sha2::{Digest, Sha256, Sha512};
use subtle::ConstantTimeEq;

/// The length of a REPORTDATA field.
pub const REPORT_DATA_LEN: usize = 64;

/// A REPORTDATA value. Equality (`==`) is constant time.
#[derive(Clone, Copy)]
pub struct ReportData([u8; REPORT_DATA_LEN]);

/// Why a report's REPORTDATA does not bind what was expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportDataError {
    /// The report's REPORTDATA is all zero: it binds nothing.
    AllZero,
    /// The report's REPORTDATA differs from the expected value.
    Mismatch,
}

impl fmt::Display for ReportDataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AllZero => "REPORTDATA is all zero: the report binds nothing",
            Self::Mismatch => "REPORTDATA does not match the expected binding",
        })
    }
}

impl std::error::Error for ReportDataError {}

/// A byte string that is not 64 bytes long offered as REPORTDATA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrongLength {
    /// The length offered.
    pub len: usize,
}

impl fmt::Display for WrongLength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "REPORTDATA is {REPORT_DATA_LEN} bytes, not {}", self.len)
    }
}

impl std::error::Error for WrongLength {}

impl ReportData {
    /// The raw 64 bytes, for values computed elsewhere.
    pub const fn from_bytes(bytes: [u8; REPORT_DATA_LEN]) -> Self {
        Self(bytes)
    }

    /// SHA-512 of `bound`, filling all 64 bytes.
    pub fn sha512(bound: &[u8]) -> Self {
        Self(Sha512::digest(bound).into())
    }

    /// SHA-256 of `bound` in the first 32 bytes, then 32 zero bytes.
    pub fn sha256_zero_padded(bound: &[u8]) -> Self {
        let mut bytes = [0u8; REPORT_DATA_LEN];
        let (digest, _) = bytes.split_at_mut(32);
        digest.copy_from_slice(&Sha256::digest(bound));
        Self(bytes)
    }

    /// The 64 bytes.
    pub const fn as_bytes(&self) -> &[u8; REPORT_DATA_LEN] {
        &self.0
    }

    /// The 64 bytes, by value.
    pub const fn to_bytes(self) -> [u8; REPORT_DATA_LEN] {
        self.0
    }

    /// Whether the 64 bytes are all zero, in constant time.
    pub fn is_all_zero(&self) -> bool {
        self.0.ct_eq(&[0u8; REPORT_DATA_LEN]).into()
    }

    /// Checks, in constant time, that `actual` (a report's REPORTDATA) equals this value.
    /// All-zero REPORTDATA is refused even when it is what was expected: it binds nothing.
    pub fn verify(&self, actual: &[u8; REPORT_DATA_LEN]) -> Result<(), ReportDataError> {
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

impl ConstantTimeEq for ReportData {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for ReportData {
    /// Constant time.
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for ReportData {}

impl PartialEq<[u8; REPORT_DATA_LEN]> for ReportData {
    /// Constant time.
    fn eq(&self, other: &[u8; REPORT_DATA_LEN]) -> bool {
        self.0.ct_eq(other).into()
    }
}

impl core::hash::Hash for ReportData {
    fn hash<H: core::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl Deref for ReportData {
    type Target = [u8; REPORT_DATA_LEN];

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl AsRef<[u8]> for ReportData {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl From<[u8; REPORT_DATA_LEN]> for ReportData {
    fn from(bytes: [u8; REPORT_DATA_LEN]) -> Self {
        Self(bytes)
    }
}

impl From<&[u8; REPORT_DATA_LEN]> for ReportData {
    fn from(bytes: &[u8; REPORT_DATA_LEN]) -> Self {
        Self(*bytes)
    }
}

impl From<ReportData> for [u8; REPORT_DATA_LEN] {
    fn from(value: ReportData) -> Self {
        value.0
    }
}

impl TryFrom<&[u8]> for ReportData {
    type Error = WrongLength;

    fn try_from(bytes: &[u8]) -> Result<Self, Self::Error> {
        <[u8; REPORT_DATA_LEN]>::try_from(bytes)
            .map(Self)
            .map_err(|_| WrongLength { len: bytes.len() })
    }
}

impl fmt::Debug for ReportData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ReportData({})", hex::encode(self.0))
    }
}

impl fmt::Display for ReportData {
    /// Lowercase hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
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
    fn verify_and_eq_accept_only_the_exact_value() {
        let expected = ReportData::sha512(b"binding key");
        expected.verify(expected.as_bytes()).unwrap();
        assert_eq!(expected, ReportData::from_bytes(*expected));
        for bit in [0, 7, 255, 511] {
            let mut other = *expected.as_bytes();
            other[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(expected.verify(&other), Err(ReportDataError::Mismatch));
            assert_ne!(expected, ReportData::from(other));
            assert!(expected != other);
        }
    }

    #[test]
    fn sha256_and_sha512_conventions_never_confuse() {
        let key = b"binding key";
        let long = ReportData::sha512(key);
        let short = ReportData::sha256_zero_padded(key);
        assert_eq!(long.verify(&short), Err(ReportDataError::Mismatch));
        assert_eq!(short.verify(&long), Err(ReportDataError::Mismatch));
        assert_ne!(long, short);
    }

    #[test]
    fn all_zero_report_data_is_refused_even_when_expected() {
        let zero = ReportData::from_bytes([0; 64]);
        assert!(zero.is_all_zero());
        assert!(!ReportData::sha512(b"").is_all_zero());
        assert_eq!(zero.verify(&[0; 64]), Err(ReportDataError::AllZero));
        assert_eq!(
            ReportData::sha512(b"k").verify(&[0; 64]),
            Err(ReportDataError::AllZero)
        );
    }

    #[test]
    fn only_64_bytes_convert_and_debug_is_hex() {
        assert_eq!(
            ReportData::try_from(&[1u8; 63][..]),
            Err(WrongLength { len: 63 })
        );
        assert_eq!(
            ReportData::try_from(&[1u8; 65][..]),
            Err(WrongLength { len: 65 })
        );
        let value = ReportData::try_from(&[0xab; 64][..]).unwrap();
        assert_eq!(
            format!("{value:?}"),
            format!("ReportData({})", "ab".repeat(64))
        );
        assert_eq!(value.to_string(), "ab".repeat(64));
    }
}
