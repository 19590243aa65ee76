//! Size caps, checked before any parsing.

/// Largest inputs accepted. The defaults fit every real token and document seen (ITA tokens are
/// about 6 KB, an 8-GPU NRAS bundle 8 KB, the NRAS JWKS 90 KB, Nitro documents 5 KB) with room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A JWS compact token or an NRAS bundle.
    pub token: usize,
    /// A JWKS document.
    pub jwks: usize,
    /// A COSE_Sign1 attestation document.
    pub document: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            token: 64 * 1024,
            jwks: 256 * 1024,
            document: 32 * 1024,
        }
    }
}

pub(crate) fn check(what: &'static str, len: usize, max: usize) -> Result<(), crate::Error> {
    if len > max {
        Err(crate::Error::TooLarge { what, len, max })
    } else {
        Ok(())
    }
}
