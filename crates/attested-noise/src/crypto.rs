//! The primitives snow runs on: X25519 from `x25519-dalek`, ChaCha20-Poly1305 from
//! `chacha20poly1305`, SHA-256 from `sha2`.
//!
//! Two reasons for our own resolver rather than snow's default one: the ephemeral key comes from
//! randomness the caller supplies (no global RNG in the core), and the private keys and cipher
//! keys live in zeroizing storage (snow's default primitives keep them in plain arrays).
//!
//! After the handshake, the transport phase runs on [`CipherState`] here rather than on snow's
//! `TransportState`: snow encrypts from one buffer into another, which costs a copy of every
//! frame on top of the AEAD; ours encrypts and decrypts in place in the buffer that carries the
//! frame. It is Noise's CipherState over the same AEAD, checked against snow's transport and the
//! cacophony vectors in the tests.

use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Tag};
use sha2::Digest as _;
use snow::params::{CipherChoice, DHChoice, HashChoice};
use snow::resolvers::CryptoResolver;
use snow::types::{Cipher, Dh, Hash, Random};
use zeroize::Zeroizing;

const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;

/// Resolves the primitives of `Noise_NK_25519_ChaChaPoly_SHA256`; its "RNG" hands out the 32
/// bytes of ephemeral-key randomness drawn from the caller's RNG before the handshake started.
pub(crate) struct Resolver {
    ephemeral_seed: Zeroizing<[u8; KEY_LEN]>,
}

impl Resolver {
    pub(crate) fn new(ephemeral_seed: Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self { ephemeral_seed }
    }
}

impl CryptoResolver for Resolver {
    fn resolve_rng(&self) -> Option<Box<dyn Random>> {
        Some(Box::new(OneShotRandom {
            bytes: Some(self.ephemeral_seed.clone()),
        }))
    }

    fn resolve_dh(&self, choice: &DHChoice) -> Option<Box<dyn Dh>> {
        matches!(choice, DHChoice::Curve25519).then(|| Box::new(X25519::default()) as Box<dyn Dh>)
    }

    fn resolve_hash(&self, choice: &HashChoice) -> Option<Box<dyn Hash>> {
        matches!(choice, HashChoice::SHA256).then(|| Box::new(Sha256::default()) as Box<dyn Hash>)
    }

    fn resolve_cipher(&self, choice: &CipherChoice) -> Option<Box<dyn Cipher>> {
        matches!(choice, CipherChoice::ChaChaPoly)
            .then(|| Box::new(ChaChaPoly::default()) as Box<dyn Cipher>)
    }
}

/// Yields the pre-drawn 32 bytes once; a second request (which NK never makes) fails.
struct OneShotRandom {
    bytes: Option<Zeroizing<[u8; KEY_LEN]>>,
}

impl Random for OneShotRandom {
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), snow::Error> {
        match self.bytes.take() {
            Some(bytes) if dest.len() == KEY_LEN => {
                dest.copy_from_slice(bytes.as_slice());
                Ok(())
            }
            _ => Err(snow::Error::Rng),
        }
    }
}

#[derive(Default)]
struct X25519 {
    secret: Option<x25519_dalek::StaticSecret>,
    public: [u8; KEY_LEN],
}

impl Dh for X25519 {
    fn name(&self) -> &'static str {
        "25519"
    }

    fn pub_len(&self) -> usize {
        KEY_LEN
    }

    fn priv_len(&self) -> usize {
        KEY_LEN
    }

    fn set(&mut self, privkey: &[u8]) {
        // snow checks the length before calling; a wrong one leaves the key unset, and every DH
        // with an unset key fails.
        let Ok(bytes) = <[u8; KEY_LEN]>::try_from(privkey).map(Zeroizing::new) else {
            self.secret = None;
            return;
        };
        let secret = x25519_dalek::StaticSecret::from(*bytes);
        self.public = x25519_dalek::PublicKey::from(&secret).to_bytes();
        self.secret = Some(secret);
    }

    fn generate(&mut self, rng: &mut dyn Random) -> Result<(), snow::Error> {
        let mut bytes = Zeroizing::new([0_u8; KEY_LEN]);
        rng.try_fill_bytes(bytes.as_mut_slice())?;
        self.set(bytes.as_slice());
        Ok(())
    }

    fn pubkey(&self) -> &[u8] {
        &self.public
    }

    fn privkey(&self) -> &[u8] {
        self.secret
            .as_ref()
            .map_or(&[], |s| s.as_bytes().as_slice())
    }

    fn dh(&self, pubkey: &[u8], out: &mut [u8]) -> Result<(), snow::Error> {
        let secret = self.secret.as_ref().ok_or(snow::Error::Dh)?;
        // snow passes its whole key buffer, longer than any one curve's keys.
        let public = pubkey
            .get(..KEY_LEN)
            .and_then(|p| <[u8; KEY_LEN]>::try_from(p).ok())
            .ok_or(snow::Error::Dh)?;
        let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(public));
        out.get_mut(..KEY_LEN)
            .ok_or(snow::Error::Dh)?
            .copy_from_slice(shared.as_bytes());
        Ok(())
    }
}

#[derive(Default)]
struct ChaChaPoly {
    key: Zeroizing<[u8; KEY_LEN]>,
}

/// Noise's ChaChaPoly nonce: 32 bits of zeros, then the counter little-endian.
fn nonce(counter: u64) -> chacha20poly1305::Nonce {
    let mut nonce = [0_u8; 12];
    nonce[4..].copy_from_slice(&counter.to_le_bytes());
    nonce.into()
}

/// Noise's REKEY: the first 32 bytes of encrypting 32 zeros under nonce 2^64-1, written into
/// zeroizing storage.
fn rekeyed(cipher: &ChaCha20Poly1305) -> Option<Zeroizing<[u8; KEY_LEN]>> {
    let mut key = Zeroizing::new([0_u8; KEY_LEN]);
    cipher
        .encrypt_in_place_detached(&nonce(u64::MAX), &[], key.as_mut_slice())
        .ok()?;
    Some(key)
}

/// One direction of the transport phase: Noise's CipherState (a key and a counter nonce) over
/// ChaCha20-Poly1305, encrypting and decrypting in place. The key is erased when dropped.
pub(crate) struct CipherState {
    cipher: ChaCha20Poly1305,
    nonce: u64,
}

/// The nonce ran out (2^64-1 messages) or the AEAD refused: no frame was produced.
#[derive(Debug)]
pub(crate) struct SealFailed;

/// The frame did not authenticate.
#[derive(Debug)]
pub(crate) struct OpenFailed;

impl CipherState {
    pub(crate) fn new(key: &Zeroizing<[u8; KEY_LEN]>) -> Self {
        Self {
            cipher: ChaCha20Poly1305::new(key.as_ref().into()),
            nonce: 0,
        }
    }

    /// The nonce for the next message; Noise reserves 2^64-1 (for REKEY).
    fn next_nonce(&mut self) -> Option<chacha20poly1305::Nonce> {
        let counter = self.nonce;
        if counter == u64::MAX {
            return None;
        }
        self.nonce = counter + 1;
        Some(nonce(counter))
    }

    /// Encrypts `frame[start..]` in place and appends the tag.
    pub(crate) fn seal(&mut self, frame: &mut Vec<u8>, start: usize) -> Result<(), SealFailed> {
        let nonce = self.next_nonce().ok_or(SealFailed)?;
        let body = frame.get_mut(start..).ok_or(SealFailed)?;
        let tag = self
            .cipher
            .encrypt_in_place_detached(&nonce, &[], body)
            .map_err(|_| SealFailed)?;
        frame.extend_from_slice(&tag);
        Ok(())
    }

    /// Decrypts `body` in place if `tag` authenticates it; on failure `body` is left as the
    /// ciphertext it was (the tag is checked before anything is decrypted).
    pub(crate) fn open(&mut self, body: &mut [u8], tag: &[u8]) -> Result<(), OpenFailed> {
        let tag = <[u8; TAG_LEN]>::try_from(tag).map_err(|_| OpenFailed)?;
        let nonce = self.next_nonce().ok_or(OpenFailed)?;
        self.cipher
            .decrypt_in_place_detached(&nonce, &[], body, &Tag::from(tag))
            .map_err(|_| OpenFailed)
    }

    /// Noise's REKEY of this direction; the nonce carries on.
    pub(crate) fn rekey(&mut self) {
        if let Some(key) = rekeyed(&self.cipher) {
            self.cipher = ChaCha20Poly1305::new(key.as_ref().into());
        }
    }
}

impl Cipher for ChaChaPoly {
    fn name(&self) -> &'static str {
        "ChaChaPoly"
    }

    fn set(&mut self, key: &[u8; KEY_LEN]) {
        self.key.copy_from_slice(key);
    }

    /// Noise's REKEY (the first 32 bytes of encrypting zeros under nonce 2^64-1), as snow's
    /// default does, but leaving no copy of the new key behind.
    fn rekey(&mut self) {
        if let Some(key) = rekeyed(&ChaCha20Poly1305::new(self.key.as_ref().into())) {
            self.key = key;
        }
    }

    fn encrypt(&self, nonce: u64, authtext: &[u8], plaintext: &[u8], out: &mut [u8]) -> usize {
        let len = plaintext.len();
        // snow sizes `out` for plaintext and tag; should that ever not hold, writing nothing
        // makes the peer's decryption fail rather than sending anything unauthenticated.
        let Some((body, tail)) = out.get_mut(..len + TAG_LEN).map(|o| o.split_at_mut(len)) else {
            return 0;
        };
        body.copy_from_slice(plaintext);
        let cipher = ChaCha20Poly1305::new(self.key.as_ref().into());
        match cipher.encrypt_in_place_detached(&self::nonce(nonce), authtext, body) {
            Ok(tag) => {
                tail.copy_from_slice(&tag);
                len + TAG_LEN
            }
            Err(_) => 0,
        }
    }

    fn decrypt(
        &self,
        nonce: u64,
        authtext: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize, snow::Error> {
        let len = ciphertext
            .len()
            .checked_sub(TAG_LEN)
            .ok_or(snow::Error::Decrypt)?;
        let (body, tag) = ciphertext.split_at(len);
        let tag: [u8; TAG_LEN] = tag.try_into().map_err(|_| snow::Error::Decrypt)?;
        let out = out.get_mut(..len).ok_or(snow::Error::Decrypt)?;
        out.copy_from_slice(body);
        let cipher = ChaCha20Poly1305::new(self.key.as_ref().into());
        cipher
            .decrypt_in_place_detached(&self::nonce(nonce), authtext, out, &Tag::from(tag))
            .map_err(|_| {
                // Leave no unauthenticated plaintext behind in the caller's buffer.
                out.fill(0);
                snow::Error::Decrypt
            })?;
        Ok(len)
    }
}

#[derive(Default)]
struct Sha256 {
    hasher: sha2::Sha256,
}

impl Hash for Sha256 {
    fn name(&self) -> &'static str {
        "SHA256"
    }

    fn block_len(&self) -> usize {
        64
    }

    fn hash_len(&self) -> usize {
        32
    }

    fn reset(&mut self) {
        self.hasher = sha2::Sha256::default();
    }

    fn input(&mut self, data: &[u8]) {
        self.hasher.update(data);
    }

    fn result(&mut self, out: &mut [u8]) {
        let digest = self.hasher.finalize_reset();
        if let Some(out) = out.get_mut(..digest.len()) {
            out.copy_from_slice(&digest);
        }
    }
}
