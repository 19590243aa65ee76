//! The only place that touches the `hpke` crate's generic types: every suite is dispatched
//! here once, and the rest of the crate sees boxed contexts.

use hpke::{
    Deserializable, OpModeR, OpModeS, Serializable,
    aead::{AeadCtxR, AeadCtxS, AeadTag, AesGcm128, AesGcm256, ChaCha20Poly1305},
    inout::InOutBuf,
    kdf::{HkdfSha256, HkdfSha384, HkdfSha512},
    kem::{DhP256HkdfSha256, DhP384HkdfSha384, X25519HkdfSha256, XWing},
    rand_core::CryptoRng,
};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::suite::{Aead, Kdf, Kem, Suite};

/// An HPKE sender context after setup.
pub(crate) trait SenderContext: Send {
    /// Encrypts `buf` in place and appends the tag.
    fn seal_in_place(&mut self, buf: &mut Vec<u8>, aad: &[u8]) -> Result<()>;
    /// Exports `out.len()` bytes under `label`.
    fn export(&self, label: &[u8], out: &mut [u8]) -> Result<()>;
}

/// An HPKE receiver context after setup.
pub(crate) trait ReceiverContext: Send {
    /// Decrypts `buf[start..]` (ciphertext || tag) in place and removes the tag.
    fn open_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        start: usize,
        aad: &[u8],
        what: &'static str,
    ) -> Result<()>;
    /// Exports `out.len()` bytes under `label`.
    fn export(&self, label: &[u8], out: &mut [u8]) -> Result<()>;
}

const TAG_LEN: usize = 16;

impl<A, K, M> SenderContext for AeadCtxS<A, K, M>
where
    A: hpke::aead::Aead + Send,
    K: hpke::kdf::Kdf + Send,
    M: hpke::Kem + Send,
    Self: Send,
{
    fn seal_in_place(&mut self, buf: &mut Vec<u8>, aad: &[u8]) -> Result<()> {
        let tag = self
            .seal_inout_detached(InOutBuf::from(buf.as_mut_slice()), aad)
            .map_err(|_| Error::Encryption {
                what: "HPKE message",
            })?;
        buf.extend_from_slice(&tag.to_bytes());
        Ok(())
    }

    fn export(&self, label: &[u8], out: &mut [u8]) -> Result<()> {
        AeadCtxS::export(self, label, out).map_err(|_| Error::Encryption {
            what: "HPKE export",
        })
    }
}

impl<A, K, M> ReceiverContext for AeadCtxR<A, K, M>
where
    A: hpke::aead::Aead + Send,
    K: hpke::kdf::Kdf + Send,
    M: hpke::Kem + Send,
    Self: Send,
{
    fn open_in_place(
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
        let tag = AeadTag::<A>::from_bytes(buf.get(ct_len..).ok_or(Error::Truncated { what })?)
            .map_err(|_| Error::Truncated { what })?;
        let ct = buf
            .get_mut(start..ct_len)
            .ok_or(Error::Truncated { what })?;
        self.open_inout_detached(InOutBuf::from(ct), aad, &tag)
            .map_err(|_| Error::Decryption { what })?;
        buf.truncate(ct_len);
        Ok(())
    }

    fn export(&self, label: &[u8], out: &mut [u8]) -> Result<()> {
        AeadCtxR::export(self, label, out).map_err(|_| Error::Decryption {
            what: "HPKE export",
        })
    }
}

/// Calls `$f::<AEAD, KDF, KEM>($args)` for the suite's concrete types.
macro_rules! dispatch_suite {
    ($suite:expr, $f:ident ( $($arg:expr),* )) => {{
        let suite: Suite = $suite;
        match suite.kem {
            Kem::X25519Sha256 => dispatch_suite!(@kdf suite, X25519HkdfSha256, $f($($arg),*)),
            Kem::P256Sha256 => dispatch_suite!(@kdf suite, DhP256HkdfSha256, $f($($arg),*)),
            Kem::P384Sha384 => dispatch_suite!(@kdf suite, DhP384HkdfSha384, $f($($arg),*)),
            Kem::XWing => dispatch_suite!(@kdf suite, XWing, $f($($arg),*)),
        }
    }};
    (@kdf $suite:ident, $kem:ty, $f:ident ( $($arg:expr),* )) => {
        match $suite.kdf {
            Kdf::HkdfSha256 => dispatch_suite!(@aead $suite, $kem, HkdfSha256, $f($($arg),*)),
            Kdf::HkdfSha384 => dispatch_suite!(@aead $suite, $kem, HkdfSha384, $f($($arg),*)),
            Kdf::HkdfSha512 => dispatch_suite!(@aead $suite, $kem, HkdfSha512, $f($($arg),*)),
        }
    };
    (@aead $suite:ident, $kem:ty, $kdf:ty, $f:ident ( $($arg:expr),* )) => {
        match $suite.aead {
            Aead::Aes128Gcm => $f::<AesGcm128, $kdf, $kem>($($arg),*),
            Aead::Aes256Gcm => $f::<AesGcm256, $kdf, $kem>($($arg),*),
            Aead::ChaCha20Poly1305 => $f::<ChaCha20Poly1305, $kdf, $kem>($($arg),*),
        }
    };
}

/// Calls `$f::<KEM>($args)` for the KEM's concrete type.
macro_rules! dispatch_kem {
    ($kem:expr, $f:ident ( $($arg:expr),* )) => {
        match $kem {
            Kem::X25519Sha256 => $f::<X25519HkdfSha256>($($arg),*),
            Kem::P256Sha256 => $f::<DhP256HkdfSha256>($($arg),*),
            Kem::P384Sha384 => $f::<DhP384HkdfSha384>($($arg),*),
            Kem::XWing => $f::<XWing>($($arg),*),
        }
    };
}

/// Where the sender's ephemeral key comes from.
pub(crate) enum Ephemeral<'a, R: CryptoRng + ?Sized> {
    /// A fresh key from the caller's RNG.
    Rng(&'a mut R),
    /// A fixed X25519 ephemeral secret: reproduces published examples byte for byte.
    #[cfg(feature = "test-vectors")]
    FixedX25519(&'a [u8; 32]),
}

/// A sender context and the encapsulated key to send.
pub(crate) struct SenderSetup {
    pub(crate) enc: Vec<u8>,
    pub(crate) context: Box<dyn SenderContext>,
}

pub(crate) fn setup_sender<R: CryptoRng + ?Sized>(
    suite: Suite,
    public_key: &[u8],
    info: &[u8],
    ephemeral: Ephemeral<'_, R>,
) -> Result<SenderSetup> {
    match ephemeral {
        Ephemeral::Rng(rng) => {
            dispatch_suite!(suite, sender_with_rng(suite, public_key, info, rng))
        }
        #[cfg(feature = "test-vectors")]
        Ephemeral::FixedX25519(secret) => {
            if suite.kem != Kem::X25519Sha256 {
                return Err(Error::UnsupportedKem(suite.kem.id()));
            }
            dispatch_suite!(suite, sender_fixed_x25519(public_key, info, secret))
        }
    }
}

fn sender_with_rng<A, K, M>(
    suite: Suite,
    public_key: &[u8],
    info: &[u8],
    rng: &mut (impl CryptoRng + ?Sized),
) -> Result<SenderSetup>
where
    A: hpke::aead::Aead + Send + 'static,
    K: hpke::kdf::Kdf + Send + 'static,
    M: hpke::Kem + Send + 'static,
    AeadCtxS<A, K, M>: Send,
{
    let pk = M::PublicKey::from_bytes(public_key).map_err(|_| Error::InvalidPublicKey {
        kem: suite.kem.name(),
    })?;
    let (enc, context) =
        hpke::setup_sender_with_rng::<A, K, M>(&OpModeS::Base, &pk, info, &mut RngRef(rng))
            .map_err(|_| Error::Encapsulation)?;
    Ok(SenderSetup {
        enc: enc.to_bytes().to_vec(),
        context: Box::new(context),
    })
}

#[cfg(feature = "test-vectors")]
/// The DHKEM(X25519) encapsulation of RFC 9180 §4.1 with a given ephemeral secret. The `hpke`
/// crate keeps its own version of this private, so this seam uses its exported pieces: the
/// X25519 function from `x25519-dalek`, and `hpke`'s labelled ExtractAndExpand and key schedule.
fn sender_fixed_x25519<A, K, M>(
    public_key: &[u8],
    info: &[u8],
    secret: &[u8; 32],
) -> Result<SenderSetup>
where
    A: hpke::aead::Aead + Send + 'static,
    K: hpke::kdf::Kdf + Send + 'static,
    M: hpke::Kem + Send + 'static,
    AeadCtxS<A, K, M>: Send,
{
    use hpke::kdf::Kdf as _;
    let pk_r: [u8; 32] = public_key.try_into().map_err(|_| Error::InvalidPublicKey {
        kem: Kem::X25519Sha256.name(),
    })?;
    let sk_e = x25519_dalek::StaticSecret::from(*secret);
    let enc = x25519_dalek::PublicKey::from(&sk_e).to_bytes();
    let dh = sk_e.diffie_hellman(&x25519_dalek::PublicKey::from(pk_r));
    if !dh.was_contributory() {
        return Err(Error::Encapsulation);
    }
    let mut kem_context = [0u8; 64];
    kem_context[..32].copy_from_slice(&enc);
    kem_context[32..].copy_from_slice(&pk_r);
    let suite_id = [b'K', b'E', b'M', 0x00, 0x20];
    let mut shared = hpke::kem::SharedSecret::<M>::default();
    HkdfSha256::extract_and_expand(dh.as_bytes(), &suite_id, &kem_context, &mut shared.0)
        .map_err(|_| Error::Encapsulation)?;
    let context: AeadCtxS<A, K, M> = K::combine_secrets(&OpModeS::<M>::Base, shared, info).into();
    Ok(SenderSetup {
        enc: enc.to_vec(),
        context: Box::new(context),
    })
}

/// `hpke`'s own receiver: the reference the known-public path is tested against, and the
/// RFC 9180 vectors' receiver (the gateway uses [`setup_receiver_with_public`]).
#[cfg(any(test, feature = "test-vectors"))]
pub(crate) fn setup_receiver(
    suite: Suite,
    private_key: &[u8],
    enc: &[u8],
    info: &[u8],
) -> Result<Box<dyn ReceiverContext>> {
    dispatch_suite!(suite, receiver(suite, private_key, enc, info))
}

/// [`setup_receiver`] for a key pair whose public key the caller holds (a gateway's key ring):
/// the same context, without recomputing pk(skR) on every request. `hpke::setup_receiver`
/// derives the recipient's public key from its private key for the KEM context each time, a
/// fixed-base scalar multiplication that is about a third of a P-384 decapsulation. For
/// X25519 and P-384 (the suites a gateway serves at volume) the DHKEM decapsulation of RFC
/// 9180 §4.1 is composed here from the pieces `hpke` itself uses: the curve crate's DH (the
/// same `x25519-dalek` and `p384` calls, with the same refusals: a non-contributory X25519
/// result, a P-384 share that is not a valid point), `hpke`'s labelled ExtractAndExpand and
/// its key schedule. Other KEMs go through `hpke::setup_receiver`. The unit test below checks
/// that both paths give the same context on random and malformed encapsulations, and every
/// vector and interop test of the crate goes through this path.
pub(crate) fn setup_receiver_with_public(
    suite: Suite,
    private_key: &[u8],
    public_key: &[u8],
    enc: &[u8],
    info: &[u8],
) -> Result<Box<dyn ReceiverContext>> {
    dispatch_suite!(
        suite,
        receiver_known_public(suite, private_key, public_key, enc, info)
    )
}

fn receiver_known_public<A, K, M>(
    suite: Suite,
    private_key: &[u8],
    public_key: &[u8],
    enc: &[u8],
    info: &[u8],
) -> Result<Box<dyn ReceiverContext>>
where
    A: hpke::aead::Aead + Send + 'static,
    K: hpke::kdf::Kdf + Send + 'static,
    M: hpke::Kem + Send + 'static,
    AeadCtxR<A, K, M>: Send,
{
    use hpke::kdf::Kdf as _;
    let invalid_private = || Error::InvalidPrivateKey {
        kem: suite.kem.name(),
    };
    let dh: Zeroizing<Vec<u8>> = match suite.kem {
        Kem::X25519Sha256 => {
            let secret: [u8; 32] = private_key.try_into().map_err(|_| invalid_private())?;
            let share: [u8; 32] = enc.try_into().map_err(|_| Error::Decapsulation)?;
            let dh = x25519_dalek::StaticSecret::from(secret)
                .diffie_hellman(&x25519_dalek::PublicKey::from(share));
            // RFC 9180 §7.1.4, as hpke refuses it: an all-zero shared secret.
            if !dh.was_contributory() {
                return Err(Error::Decapsulation);
            }
            Zeroizing::new(dh.as_bytes().to_vec())
        }
        Kem::P384Sha384 => {
            let secret = p384::SecretKey::from_slice(private_key).map_err(|_| invalid_private())?;
            // An uncompressed point on the curve (the identity has no such encoding).
            let share = (enc.len() == Kem::enc_len(Kem::P384Sha384) && enc.first() == Some(&4))
                .then(|| p384::PublicKey::from_sec1_bytes(enc).ok())
                .flatten()
                .ok_or(Error::Decapsulation)?;
            let dh = p384::ecdh::diffie_hellman(secret.to_nonzero_scalar(), share.as_affine());
            Zeroizing::new(dh.raw_secret_bytes().to_vec())
        }
        Kem::P256Sha256 | Kem::XWing => return receiver::<A, K, M>(suite, private_key, enc, info),
    };
    let mut kem_context = Vec::with_capacity(enc.len() + public_key.len());
    kem_context.extend_from_slice(enc);
    kem_context.extend_from_slice(public_key);
    let [hi, lo] = suite.kem.id().to_be_bytes();
    let kem_suite_id = [b'K', b'E', b'M', hi, lo];
    let mut shared = hpke::kem::SharedSecret::<M>::default();
    let extract_and_expand = match suite.kem {
        Kem::P384Sha384 => HkdfSha384::extract_and_expand,
        _ => HkdfSha256::extract_and_expand,
    };
    extract_and_expand(&dh, &kem_suite_id, &kem_context, &mut shared.0)
        .map_err(|_| Error::Decapsulation)?;
    let context: AeadCtxR<A, K, M> = K::combine_secrets(&OpModeR::<M>::Base, shared, info).into();
    Ok(Box::new(context))
}

fn receiver<A, K, M>(
    suite: Suite,
    private_key: &[u8],
    enc: &[u8],
    info: &[u8],
) -> Result<Box<dyn ReceiverContext>>
where
    A: hpke::aead::Aead + Send + 'static,
    K: hpke::kdf::Kdf + Send + 'static,
    M: hpke::Kem + Send + 'static,
    AeadCtxR<A, K, M>: Send,
{
    let sk = M::PrivateKey::from_bytes(private_key).map_err(|_| Error::InvalidPrivateKey {
        kem: suite.kem.name(),
    })?;
    let enc = M::EncappedKey::from_bytes(enc).map_err(|_| Error::Decapsulation)?;
    let context = hpke::setup_receiver::<A, K, M>(&OpModeR::Base, &sk, &enc, info)
        .map_err(|_| Error::Decapsulation)?;
    Ok(Box::new(context))
}

/// A private key's bytes and its public key's bytes.
pub(crate) type KeyPairBytes = (Zeroizing<Vec<u8>>, Vec<u8>);

pub(crate) fn generate(kem: Kem, rng: &mut (impl CryptoRng + ?Sized)) -> KeyPairBytes {
    dispatch_kem!(kem, generate_for(rng))
}

fn generate_for<M: hpke::Kem>(rng: &mut (impl CryptoRng + ?Sized)) -> KeyPairBytes {
    let (sk, pk) = M::gen_keypair_with_rng(&mut RngRef(rng));
    (
        Zeroizing::new(sk.to_bytes().to_vec()),
        pk.to_bytes().to_vec(),
    )
}

pub(crate) fn derive(kem: Kem, ikm: &[u8]) -> KeyPairBytes {
    dispatch_kem!(kem, derive_for(ikm))
}

fn derive_for<M: hpke::Kem>(ikm: &[u8]) -> KeyPairBytes {
    let (sk, pk) = M::derive_keypair(ikm);
    (
        Zeroizing::new(sk.to_bytes().to_vec()),
        pk.to_bytes().to_vec(),
    )
}

/// The public key of an imported private key, after checking both encodings.
pub(crate) fn public_from_private(kem: Kem, private_key: &[u8]) -> Result<Vec<u8>> {
    dispatch_kem!(kem, public_for(kem, private_key))
}

fn public_for<M: hpke::Kem>(kem: Kem, private_key: &[u8]) -> Result<Vec<u8>> {
    let sk = M::PrivateKey::from_bytes(private_key)
        .map_err(|_| Error::InvalidPrivateKey { kem: kem.name() })?;
    Ok(M::sk_to_pk(&sk).to_bytes().to_vec())
}

/// Checks that `public_key` is a valid encoding for `kem`.
pub(crate) fn check_public_key(kem: Kem, public_key: &[u8]) -> Result<()> {
    dispatch_kem!(kem, check_public_for(kem, public_key))
}

fn check_public_for<M: hpke::Kem>(kem: Kem, public_key: &[u8]) -> Result<()> {
    M::PublicKey::from_bytes(public_key)
        .map(|_| ())
        .map_err(|_| Error::InvalidPublicKey { kem: kem.name() })
}

/// Lets a `?Sized` RNG reference stand where `hpke` wants a sized `CryptoRng`.
struct RngRef<'a, R: ?Sized>(&'a mut R);

impl<R: CryptoRng + ?Sized> hpke::rand_core::TryRng for RngRef<'_, R> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        Ok(self.0.next_u32())
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        Ok(self.0.next_u64())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        self.0.fill_bytes(dst);
        Ok(())
    }
}

impl<R: CryptoRng + ?Sized> hpke::rand_core::TryCryptoRng for RngRef<'_, R> {}

#[cfg(feature = "test-vectors")]
/// One HPKE base-mode sender run with fixed ephemeral randomness, for RFC 9180 test vectors.
/// Returns `enc`, the ciphertexts of `messages` (aad, plaintext) in sequence, and the exports.
/// Fixed randomness breaks confidentiality: never use this outside tests.
#[doc(hidden)]
#[allow(clippy::type_complexity)]
pub fn hpke_base_sender_for_vectors(
    suite: Suite,
    public_key: &[u8],
    info: &[u8],
    ikm_e: &[u8],
    messages: &[(&[u8], &[u8])],
    exports: &[(&[u8], usize)],
) -> Result<(Vec<u8>, Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    let mut rng = ReplayRng(ikm_e);
    let mut setup = setup_sender(suite, public_key, info, Ephemeral::Rng(&mut rng))?;
    let mut cts = Vec::with_capacity(messages.len());
    for (aad, pt) in messages {
        let mut buf = pt.to_vec();
        setup.context.seal_in_place(&mut buf, aad)?;
        cts.push(buf);
    }
    let mut outs = Vec::with_capacity(exports.len());
    for (ctx, len) in exports {
        let mut out = vec![0u8; *len];
        setup.context.export(ctx, &mut out)?;
        outs.push(out);
    }
    Ok((setup.enc, cts, outs))
}

#[cfg(feature = "test-vectors")]
/// Opens `ciphertexts` (aad, ct) in sequence with a receiver context, for test vectors.
#[doc(hidden)]
pub fn hpke_base_receiver_for_vectors(
    suite: Suite,
    private_key: &[u8],
    enc: &[u8],
    info: &[u8],
    ciphertexts: &[(&[u8], &[u8])],
) -> Result<Vec<Vec<u8>>> {
    let mut context = setup_receiver(suite, private_key, enc, info)?;
    let mut pts = Vec::with_capacity(ciphertexts.len());
    for (aad, ct) in ciphertexts {
        let mut buf = ct.to_vec();
        context.open_in_place(&mut buf, 0, aad, "test vector")?;
        pts.push(buf);
    }
    Ok(pts)
}

/// Hands out fixed bytes, then zeros: only for test vectors.
#[cfg(feature = "test-vectors")]
struct ReplayRng<'a>(&'a [u8]);

#[cfg(feature = "test-vectors")]
impl hpke::rand_core::TryRng for ReplayRng<'_> {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> core::result::Result<(), Self::Error> {
        let n = dst.len().min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        for (d, s) in dst
            .iter_mut()
            .zip(head.iter().chain(core::iter::repeat(&0)))
        {
            *d = *s;
        }
        self.0 = tail;
        Ok(())
    }
}

#[cfg(feature = "test-vectors")]
impl hpke::rand_core::TryCryptoRng for ReplayRng<'_> {}

#[cfg(test)]
mod known_public_tests {
    use super::*;

    /// The opened plaintext and an export of a receiver context, or `None` if it was refused.
    fn open_with(
        context: Result<Box<dyn ReceiverContext>>,
        sealed: &[u8],
    ) -> Option<(Vec<u8>, [u8; 32])> {
        let mut context = context.ok()?;
        let mut buf = sealed.to_vec();
        context.open_in_place(&mut buf, 0, b"aad", "test").ok()?;
        let mut export = [0u8; 32];
        context.export(b"label", &mut export).ok()?;
        Some((buf, export))
    }

    /// Every suite of the two KEMs with the known-public path: for fresh keys and
    /// encapsulations the context is hpke's own (same plaintext, same export), and every
    /// malformed share hpke refuses is refused too.
    #[test]
    fn the_known_public_receiver_is_hpkes_receiver() {
        let mut rng = rand::rng();
        for kem in [Kem::X25519Sha256, Kem::P384Sha384] {
            for kdf in Kdf::ALL {
                for aead in Aead::ALL {
                    let suite = Suite::new(kem, kdf, aead);
                    for _ in 0..8 {
                        let (private_key, public_key) = generate(kem, &mut rng);
                        let info = b"request info";
                        let mut setup =
                            setup_sender(suite, &public_key, info, Ephemeral::Rng(&mut rng))
                                .unwrap();
                        let mut sealed = b"the request".to_vec();
                        setup.context.seal_in_place(&mut sealed, b"aad").unwrap();
                        let ours = setup_receiver_with_public(
                            suite,
                            &private_key,
                            &public_key,
                            &setup.enc,
                            info,
                        );
                        let hpkes = setup_receiver(suite, &private_key, &setup.enc, info);
                        let opened = open_with(ours, &sealed).unwrap();
                        assert_eq!(opened.0, b"the request");
                        assert_eq!(Some(opened), open_with(hpkes, &sealed), "{suite:?}");

                        let mut shares = vec![
                            vec![0u8; setup.enc.len()],
                            setup.enc[..setup.enc.len() - 1].to_vec(),
                        ];
                        let mut flipped = setup.enc.clone();
                        *flipped.last_mut().unwrap() ^= 1;
                        shares.push(flipped);
                        // P-384: the compressed prefix (0x04 to 0x06); X25519: another share.
                        let mut compressed = setup.enc.clone();
                        compressed[0] ^= 2;
                        shares.push(compressed);
                        for share in shares {
                            let ours = setup_receiver_with_public(
                                suite,
                                &private_key,
                                &public_key,
                                &share,
                                info,
                            );
                            let hpkes = setup_receiver(suite, &private_key, &share, info);
                            let ours = open_with(ours, &sealed);
                            assert_eq!(
                                ours,
                                open_with(hpkes, &sealed),
                                "{suite:?} share {share:02x?}"
                            );
                            // Whatever a malformed share gives, it never opens the request.
                            assert!(ours.is_none(), "{suite:?} share {share:02x?}");
                        }
                    }
                }
            }
        }
    }
}
