//! Deterministic derivation of every key and identifier of a simulated platform from its seed.

use p256::ecdsa::SigningKey;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Domain separation for every value derived from a simulation seed.
const DOMAIN: &[u8] = b"attested-tdx/sim/v1";

/// Derives `N` bytes for `label` from `seed` (SHA-256 in counter mode).
pub(crate) fn derive_bytes<const N: usize>(seed: &[u8], label: &str) -> [u8; N] {
    let mut out = [0u8; N];
    for (counter, chunk) in (0u32..).zip(out.chunks_mut(32)) {
        let block = block(seed, label, counter);
        for (dst, src) in chunk.iter_mut().zip(block.iter()) {
            *dst = *src;
        }
    }
    out
}

/// Derives the P-256 signing key for `label` from `seed`. A hash output that is not a valid
/// scalar (probability about 2^-128) moves on to the next counter.
pub(crate) fn derive_signing_key(seed: &[u8], label: &str) -> SigningKey {
    let mut counter = 0u32;
    loop {
        let candidate = block(seed, label, counter);
        if let Ok(key) = SigningKey::from_slice(candidate.as_slice()) {
            return key;
        }
        counter = counter.wrapping_add(1);
    }
}

/// A 20-byte positive certificate serial number for `label`, as Intel's PKI uses.
pub(crate) fn derive_serial(seed: &[u8], label: &str) -> [u8; 20] {
    let mut serial = derive_bytes::<20>(seed, label);
    // Positive and exactly 20 octets long once DER-encoded.
    serial[0] = (serial[0] & 0x7f) | 0x01;
    serial
}

fn block(seed: &[u8], label: &str, counter: u32) -> Zeroizing<[u8; 32]> {
    let mut hasher = Sha256::new();
    hasher.update(DOMAIN);
    hasher.update((seed.len() as u64).to_be_bytes());
    hasher.update(seed);
    hasher.update((label.len() as u64).to_be_bytes());
    hasher.update(label.as_bytes());
    hasher.update(counter.to_be_bytes());
    Zeroizing::new(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_depends_on_seed_and_label() {
        let a = derive_bytes::<48>(b"seed", "a");
        assert_eq!(a, derive_bytes::<48>(b"seed", "a"));
        assert_ne!(a, derive_bytes::<48>(b"seed", "b"));
        assert_ne!(a, derive_bytes::<48>(b"seeD", "a"));
        // The second block differs from the first.
        assert_ne!(a[..16], a[32..48]);
    }

    #[test]
    fn serial_is_positive_and_nonzero() {
        for label in ["root", "pck", "x", "y", "z"] {
            let serial = derive_serial(b"seed", label);
            assert!(serial[0] & 0x80 == 0 && serial[0] != 0);
        }
    }
}
