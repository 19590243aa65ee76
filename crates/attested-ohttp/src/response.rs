//! The response key schedule of RFC 9458 §4.4, shared by one-shot and chunked responses.

use aead::{AeadInOut, KeyInit, inout::InOutBuf};
use aes_gcm::{Aes128Gcm, Aes256Gcm};
use chacha20poly1305::ChaCha20Poly1305;
use hkdf::Hkdf;
use sha2::{Sha256, Sha384, Sha512};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::suite::{Aead, Kdf, Suite};

const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

enum Engine {
    Aes128(Box<Aes128Gcm>),
    Aes256(Box<Aes256Gcm>),
    ChaCha(Box<ChaCha20Poly1305>),
}

/// The response AEAD: a key and a base nonce, with a chunk counter XORed into the nonce's tail
/// (the one-shot response uses counter 0 only).
pub(crate) struct ResponseAead {
    engine: Engine,
    base_nonce: [u8; NONCE_LEN],
    counter: u64,
}

impl ResponseAead {
    /// `prk = Extract(enc || response_nonce, secret)`, `key = Expand(prk, "key", Nk)`,
    /// `nonce = Expand(prk, "nonce", Nn)`.
    pub(crate) fn new(
        suite: Suite,
        secret: &[u8],
        enc: &[u8],
        response_nonce: &[u8],
    ) -> Result<Self> {
        let mut salt = Vec::with_capacity(enc.len() + response_nonce.len());
        salt.extend_from_slice(enc);
        salt.extend_from_slice(response_nonce);
        let mut key = Zeroizing::new([0u8; 32]);
        let key = key
            .get_mut(..suite.aead.key_len())
            .ok_or(Error::Encryption {
                what: "response key",
            })?;
        let mut base_nonce = [0u8; NONCE_LEN];
        let expand = |out_key: &mut [u8], out_nonce: &mut [u8]| -> Result<()> {
            let bad = |_| Error::Encryption {
                what: "response key derivation",
            };
            match suite.kdf {
                Kdf::HkdfSha256 => {
                    let h = Hkdf::<Sha256>::new(Some(&salt), secret);
                    h.expand(b"key", out_key).map_err(bad)?;
                    h.expand(b"nonce", out_nonce).map_err(bad)
                }
                Kdf::HkdfSha384 => {
                    let h = Hkdf::<Sha384>::new(Some(&salt), secret);
                    h.expand(b"key", out_key).map_err(bad)?;
                    h.expand(b"nonce", out_nonce).map_err(bad)
                }
                Kdf::HkdfSha512 => {
                    let h = Hkdf::<Sha512>::new(Some(&salt), secret);
                    h.expand(b"key", out_key).map_err(bad)?;
                    h.expand(b"nonce", out_nonce).map_err(bad)
                }
            }
        };
        expand(key, &mut base_nonce)?;
        let bad_key = |_| Error::Encryption {
            what: "response key",
        };
        let engine = match suite.aead {
            Aead::Aes128Gcm => {
                Engine::Aes128(Box::new(Aes128Gcm::new_from_slice(key).map_err(bad_key)?))
            }
            Aead::Aes256Gcm => {
                Engine::Aes256(Box::new(Aes256Gcm::new_from_slice(key).map_err(bad_key)?))
            }
            Aead::ChaCha20Poly1305 => Engine::ChaCha(Box::new(
                ChaCha20Poly1305::new_from_slice(key).map_err(bad_key)?,
            )),
        };
        Ok(Self {
            engine,
            base_nonce,
            counter: 0,
        })
    }

    fn next_nonce(&mut self) -> Result<[u8; NONCE_LEN]> {
        let mut nonce = self.base_nonce;
        for (n, c) in nonce
            .iter_mut()
            .rev()
            .zip(self.counter.to_be_bytes().iter().rev())
        {
            *n ^= c;
        }
        self.counter = self.counter.checked_add(1).ok_or(Error::LimitExceeded {
            what: "response chunks",
            limit: u64::MAX,
            actual: u64::MAX,
        })?;
        Ok(nonce)
    }

    /// Encrypts `buf` in place with the next nonce and appends the tag.
    pub(crate) fn seal_in_place(&mut self, buf: &mut Vec<u8>, aad: &[u8]) -> Result<()> {
        let nonce = self.next_nonce()?;
        let bad = |_| Error::Encryption { what: "response" };
        let pt = InOutBuf::from(buf.as_mut_slice());
        let tag: [u8; TAG_LEN] = match &self.engine {
            Engine::Aes128(e) => e
                .encrypt_inout_detached(&nonce.into(), aad, pt)
                .map_err(bad)?
                .into(),
            Engine::Aes256(e) => e
                .encrypt_inout_detached(&nonce.into(), aad, pt)
                .map_err(bad)?
                .into(),
            Engine::ChaCha(e) => e
                .encrypt_inout_detached(&nonce.into(), aad, pt)
                .map_err(bad)?
                .into(),
        };
        buf.extend_from_slice(&tag);
        Ok(())
    }

    /// Decrypts `buf[start..]` (ciphertext || tag) in place with the next nonce and removes
    /// the tag.
    pub(crate) fn open_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
        aad: &[u8],
        what: &'static str,
    ) -> Result<()> {
        let ct_len = buf
            .len()
            .checked_sub(TAG_LEN)
            .filter(|&n| n >= start)
            .ok_or(Error::Truncated { what })?;
        let nonce = self.next_nonce()?;
        let (head, tag) = buf.split_at_mut(ct_len);
        let ct = head.get_mut(start..).ok_or(Error::Truncated { what })?;
        let tag: [u8; TAG_LEN] = (&*tag).try_into().map_err(|_| Error::Truncated { what })?;
        let bad = |_| Error::Decryption { what };
        let ct = InOutBuf::from(ct);
        match &self.engine {
            Engine::Aes128(e) => e
                .decrypt_inout_detached(&nonce.into(), aad, ct, &tag.into())
                .map_err(bad)?,
            Engine::Aes256(e) => e
                .decrypt_inout_detached(&nonce.into(), aad, ct, &tag.into())
                .map_err(bad)?,
            Engine::ChaCha(e) => e
                .decrypt_inout_detached(&nonce.into(), aad, ct, &tag.into())
                .map_err(bad)?,
        }
        buf.truncate(ct_len);
        Ok(())
    }
}
