//! Bytes that were or will be encrypted, and the two ways this crate keeps them from lingering
//! in memory: wiping them when dropped, and growing a buffer into a fresh allocation after
//! wiping the old one.

/// Decrypted or to-be-encrypted bytes, erased when dropped.
///
/// Erasure is a plain memset behind [`zeroize::optimization_barrier`]: `Zeroizing<Vec<u8>>`
/// writes byte by byte with volatile stores, which costs more than the AEAD on 64 KiB frames.
/// The buffers this crate fills never grow in place (see `append`), so no copy of the bytes is
/// left in freed memory or spare capacity.
pub struct Plaintext(pub(crate) Vec<u8>);

impl Plaintext {
    pub(crate) fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes, moved out; erasing them becomes the caller's business.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Zeroes `bytes` in a way the optimizer cannot remove.
pub(crate) fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    zeroize::optimization_barrier(bytes);
}

/// Appends `body` to `buffer`. When it must grow, the bytes move to a new allocation (at least
/// twice as large, plus `reserve`, at most `limit` unless `body` needs more) and the old one is
/// wiped: a `Vec` reallocation would leave them behind.
pub(crate) fn append(buffer: &mut Vec<u8>, body: &[u8], reserve: usize, limit: usize) {
    let needed = buffer.len() + body.len();
    if buffer.capacity() < needed {
        let capacity = (needed + reserve)
            .max(buffer.capacity().saturating_mul(2))
            .min(limit)
            .max(needed);
        let mut grown = Vec::with_capacity(capacity);
        grown.extend_from_slice(buffer);
        wipe(buffer);
        *buffer = grown;
    }
    buffer.extend_from_slice(body);
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl std::ops::Deref for Plaintext {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Plaintext {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plaintext({} bytes)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_the_inbound_buffer_keeps_the_bytes_and_at_least_doubles() {
        let mut buffer = Vec::new();
        append(&mut buffer, b"abc", 0, 1000);
        assert_eq!(buffer.capacity(), 3);
        append(&mut buffer, b"d", 0, 1000);
        assert_eq!(buffer, b"abcd");
        assert!(buffer.capacity() >= 6);
        // The limit caps growth, but never below what the bytes need.
        let mut buffer = vec![0_u8; 8];
        append(&mut buffer, &[1; 8], 100, 10);
        assert_eq!(buffer.len(), 16);
        assert!(buffer.capacity() < 100);
    }
}
