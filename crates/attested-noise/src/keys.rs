//! The server's keys.

use rand_core::CryptoRng;
use zeroize::{Zeroize as _, Zeroizing};

/// A Noise (X25519) static key pair. The private half is zeroized on drop and never printed.
#[derive(Clone)]
pub struct NoiseStaticKey {
    secret: x25519_dalek::StaticSecret,
    public: [u8; 32],
}

impl NoiseStaticKey {
    /// A fresh key from `rng`.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = Zeroizing::new([0_u8; 32]);
        rng.fill_bytes(bytes.as_mut_slice());
        Self::from_bytes(*bytes)
    }

    /// The key whose private half is `secret` (this copy of it is erased).
    pub fn from_bytes(mut secret: [u8; 32]) -> Self {
        let key = x25519_dalek::StaticSecret::from(secret);
        secret.zeroize();
        let secret = key;
        let public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        Self { secret, public }
    }

    /// The public key, which clients must know before the handshake (NK).
    pub fn public_key(&self) -> &[u8; 32] {
        &self.public
    }

    pub(crate) fn secret_bytes(&self) -> &[u8; 32] {
        self.secret.as_bytes()
    }
}

impl std::fmt::Debug for NoiseStaticKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NoiseStaticKey")
            .field("public", &hex::encode(self.public))
            .finish_non_exhaustive()
    }
}

pub(crate) fn random_seed<R: CryptoRng + ?Sized>(rng: &mut R) -> Zeroizing<[u8; 32]> {
    let mut seed = Zeroizing::new([0_u8; 32]);
    rng.fill_bytes(seed.as_mut_slice());
    seed
}
