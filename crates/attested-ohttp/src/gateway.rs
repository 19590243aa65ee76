//! The gateway side: a key ring routed by key id, and request decapsulation.

use std::time::{Duration, SystemTime};

use hpke::rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::client::{request_header, request_info};
use crate::config::{KeyConfig, KeyId, KeyPair, encode_key_config_list};
use crate::error::{Error, Result};
use crate::glue::{self, ReceiverContext};
use crate::reader::Reader;
use crate::response::ResponseAead;
use crate::suite::{Aead, Kdf, Kem, Suite};
use crate::{LABEL_REQUEST, LABEL_RESPONSE};

/// When a key may be used. The gateway advertises a key in `[not_before, not_after)` and still
/// accepts requests to it for `grace` afterwards, so that clients holding a cached key list
/// keep working across a rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The activation time.
    pub not_before: SystemTime,
    /// The end of advertisement.
    pub not_after: SystemTime,
    /// How long after `not_after` requests are still accepted.
    pub grace: Duration,
}

impl Validity {
    /// A window from `not_before` for `lifetime`, accepted `grace` longer.
    pub fn new(not_before: SystemTime, lifetime: Duration, grace: Duration) -> Self {
        let not_after = not_before.checked_add(lifetime).unwrap_or(not_before);
        Self {
            not_before,
            not_after,
            grace,
        }
    }

    fn accept_until(&self) -> Option<SystemTime> {
        self.not_after.checked_add(self.grace)
    }

    fn advertised_at(&self, now: SystemTime) -> bool {
        self.not_before <= now && now < self.not_after
    }

    fn accepts_at(&self, key_id: KeyId, now: SystemTime) -> Result<()> {
        if now < self.not_before {
            return Err(Error::KeyNotYetActive { key_id });
        }
        match self.accept_until() {
            Some(until) if now >= until => Err(Error::KeyExpired { key_id }),
            _ => Ok(()),
        }
    }

    fn overlaps(&self, other: &Validity) -> bool {
        let end = |v: &Validity| v.accept_until();
        let starts_before_end =
            |a: &Validity, b: &Validity| end(b).is_none_or(|e| a.not_before < e);
        starts_before_end(self, other) && starts_before_end(other, self)
    }
}

#[derive(Debug, Clone)]
struct Entry {
    pair: KeyPair,
    validity: Validity,
}

/// The gateway's keys, routed by key id. Two keys may share an id only if their acceptance
/// windows do not overlap, so every request names exactly one key.
#[derive(Debug, Clone, Default)]
pub struct KeyRing {
    entries: Vec<Entry>,
}

impl KeyRing {
    /// An empty key ring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key. Refused if its window is empty or overlaps a key with the same id.
    pub fn insert(&mut self, pair: KeyPair, validity: Validity) -> Result<()> {
        let key_id = pair.config().key_id();
        if validity.not_after < validity.not_before {
            return Err(Error::InvalidValidity { key_id });
        }
        if self
            .entries
            .iter()
            .any(|e| e.pair.config().key_id() == key_id && e.validity.overlaps(&validity))
        {
            return Err(Error::DuplicateKeyId { key_id });
        }
        self.entries.push(Entry { pair, validity });
        Ok(())
    }

    /// Drops keys whose grace period has passed.
    pub fn prune(&mut self, now: SystemTime) {
        self.entries
            .retain(|e| e.validity.accept_until().is_none_or(|until| now < until));
    }

    /// The configurations to advertise at `now`.
    pub fn advertised(&self, now: SystemTime) -> impl Iterator<Item = &KeyConfig> {
        self.entries
            .iter()
            .filter(move |e| e.validity.advertised_at(now))
            .map(|e| e.pair.config())
    }

    /// The `application/ohttp-keys` body to serve at `now`.
    pub fn encoded_list(&self, now: SystemTime) -> Vec<u8> {
        encode_key_config_list(self.advertised(now))
    }

    fn lookup(&self, key_id: KeyId, now: SystemTime) -> Result<&KeyPair> {
        let mut last_error = Error::UnknownKeyId(key_id);
        for entry in self
            .entries
            .iter()
            .filter(|e| e.pair.config().key_id() == key_id)
        {
            match entry.validity.accepts_at(key_id, now) {
                Ok(()) => return Ok(&entry.pair),
                Err(e) => last_error = e,
            }
        }
        Err(last_error)
    }

    /// Decapsulates an RFC 9458 request at `now`. Returns the binary HTTP request and the
    /// context that encapsulates the response.
    pub fn decapsulate(
        &self,
        encapsulated: &[u8],
        now: SystemTime,
    ) -> Result<(Vec<u8>, ResponseContext)> {
        let mut r = Reader::new(encapsulated);
        let (suite, mut context, enc) = self.open_header(&mut r, LABEL_REQUEST, now)?;
        let mut buf = r.rest().to_vec();
        context.open_in_place(&mut buf, 0, b"", "encapsulated request")?;
        let secret = export_response_secret(&*context, suite, LABEL_RESPONSE)?;
        Ok((buf, ResponseContext { suite, enc, secret }))
    }

    /// Reads the header and the encapsulated key, and sets up the HPKE receiver.
    pub(crate) fn open_header(
        &self,
        r: &mut Reader<'_>,
        label: &[u8],
        now: SystemTime,
    ) -> Result<(Suite, Box<dyn ReceiverContext>, Vec<u8>)> {
        let key_id = r.u8("key id")?;
        let kem_id = r.u16("KEM id")?;
        let kdf_id = r.u16("KDF id")?;
        let aead_id = r.u16("AEAD id")?;
        let pair = self.lookup(key_id, now)?;
        let config = pair.config();
        if kem_id != config.kem().id() {
            return Err(Error::KemMismatch {
                key_id,
                request: kem_id,
            });
        }
        let not_offered = Error::SuiteNotOffered {
            key_id,
            kdf: kdf_id,
            aead: aead_id,
        };
        let suite = Suite::new(
            config.kem(),
            Kdf::from_id(kdf_id).map_err(|_| not_offered.clone())?,
            Aead::from_id(aead_id).map_err(|_| not_offered.clone())?,
        );
        if !config.offers(suite) {
            return Err(not_offered);
        }
        let enc = r.take(Kem::enc_len(suite.kem), "encapsulated key")?;
        let info = request_info(label, &request_header(key_id, suite));
        let context = glue::setup_receiver(suite, pair.private_key(), enc, &info)?;
        Ok((suite, context, enc.to_vec()))
    }
}

/// The gateway's state for answering one request.
pub struct ResponseContext {
    suite: Suite,
    enc: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for ResponseContext {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseContext")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl ResponseContext {
    /// The suite the client chose.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Encapsulates a binary HTTP response (RFC 9458 §4.4) with a fresh nonce from `rng`.
    pub fn encapsulate(
        self,
        response: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<Vec<u8>> {
        let mut out = vec![0u8; self.suite.response_nonce_len()];
        rng.fill_bytes(&mut out);
        let mut aead = ResponseAead::new(self.suite, &self.secret, &self.enc, &out)?;
        let mut buf = Vec::with_capacity(response.len() + self.suite.aead.tag_len());
        buf.extend_from_slice(response);
        aead.seal_in_place(&mut buf, b"")?;
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub(crate) fn into_parts(self) -> (Suite, Vec<u8>, Zeroizing<Vec<u8>>) {
        (self.suite, self.enc, self.secret)
    }
}

pub(crate) fn export_response_secret(
    context: &dyn ReceiverContext,
    suite: Suite,
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let mut secret = Zeroizing::new(vec![0u8; suite.response_nonce_len()]);
    context.export(label, &mut secret)?;
    Ok(secret)
}
