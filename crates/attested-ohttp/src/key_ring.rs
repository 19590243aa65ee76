//! The gateway side: a key ring routed by key id, and request decapsulation.

use std::time::Duration;

use attested_types::UnixTime;

use hpke::rand_core::CryptoRng;
use zeroize::Zeroizing;

use crate::client::{request_header, request_info};
use crate::error::{Error, Result, within_limit};
use crate::hpke_dispatch::{self, ReceiverContext};
use crate::key_config::{KeyConfig, KeyId, KeyPair, MAX_KEY_LIST_LEN, encode_key_config_list};
use crate::reader::Reader;
use crate::response::ResponseAead;
use crate::suite::{Aead, Kdf, Kem, Suite};
use crate::{LABEL_REQUEST, LABEL_RESPONSE};

/// When a key may be used. The gateway advertises a key in `[not_before, not_after)` and still
/// accepts requests to it for `grace` afterwards, so that clients holding a cached key list
/// keep working across a rotation.
///
/// Times are [`UnixTime`]s, so durations count in whole seconds (a fraction is dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    /// The activation time.
    pub not_before: UnixTime,
    /// The end of advertisement.
    pub not_after: UnixTime,
    /// How long after `not_after` requests are still accepted.
    pub grace: Duration,
}

impl Validity {
    /// A window from `not_before` for `lifetime`, accepted `grace` longer.
    pub fn new(not_before: UnixTime, lifetime: Duration, grace: Duration) -> Self {
        let not_after = not_before.checked_add(lifetime).unwrap_or(not_before);
        Self {
            not_before,
            not_after,
            grace,
        }
    }

    fn accept_until(&self) -> Option<UnixTime> {
        self.not_after.checked_add(self.grace)
    }

    fn advertised_at(&self, now: UnixTime) -> bool {
        self.not_before <= now && now < self.not_after
    }

    fn accepts_at(&self, key_id: KeyId, now: UnixTime) -> Result<()> {
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

/// When the gateway rotates its keys: each key is advertised for `lifetime`, its successor
/// appears `overlap` before that ends (both are advertised meanwhile), and requests to a key
/// are accepted `grace` after it stops being advertised.
///
/// Durations count in whole seconds, as in [`Validity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// How long a key is advertised.
    pub lifetime: Duration,
    /// How long before the end of its advertisement a key's successor is advertised too.
    pub overlap: Duration,
    /// How long requests to a key are accepted after it stops being advertised.
    pub grace: Duration,
}

impl Default for Rotation {
    /// Keys advertised 24 hours, the next one from 2 hours before, accepted 1 hour after.
    fn default() -> Self {
        Self {
            lifetime: Duration::from_secs(24 * 3600),
            overlap: Duration::from_secs(2 * 3600),
            grace: Duration::from_secs(3600),
        }
    }
}

impl Rotation {
    /// How long a client may cache the key list: a quarter of the overlap, so that a client
    /// whose cached list lacks the newest key refetches long before the key it uses stops
    /// being accepted.
    pub fn cache_lifetime(&self) -> Duration {
        self.overlap / 4
    }

    /// The header fields of the key list answer (`GET /ohttp-keys`): its media type
    /// (RFC 9458 §3.2) and `Cache-Control: max-age` of the [`cache_lifetime`](Self::cache_lifetime)
    /// in whole seconds, so that clients and relays refetch in time to see the next key.
    pub fn key_list_fields(&self) -> [(&'static str, String); 2] {
        [
            ("content-type", crate::gateway::MEDIA_TYPE_KEYS.to_owned()),
            (
                "cache-control",
                format!("max-age={}", self.cache_lifetime().as_secs()),
            ),
        ]
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

    /// Adds a key. Refused if its window is empty, overlaps a key with the same id, or the
    /// list of every key the ring would hold is longer than [`MAX_KEY_LIST_LEN`] (so no list
    /// it advertises is too long for a client to read).
    pub fn insert(&mut self, pair: KeyPair, validity: Validity) -> Result<()> {
        let key_id = pair.config().key_id();
        if validity.not_after < validity.not_before {
            return Err(Error::InvalidValidity { key_id });
        }
        let all_keys = encode_key_config_list(
            self.entries
                .iter()
                .map(|e| e.pair.config())
                .chain([pair.config()]),
        );
        within_limit(
            "key configuration list",
            all_keys.len() as u64,
            MAX_KEY_LIST_LEN as u64,
        )?;
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

    /// Rotates at `now`: drops keys whose grace period has passed, and adds a key for `suite`
    /// (from `rng`, under a key id no remaining key uses) when no advertised key outlives
    /// `now + overlap`. Returns whether a key was added; the advertised list also changes
    /// when a key's advertisement ends, so compare [`encoded_list`](Self::encoded_list) to
    /// decide when to re-quote it.
    pub fn rotate(
        &mut self,
        now: UnixTime,
        rotation: &Rotation,
        suite: Suite,
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<bool> {
        self.prune(now);
        let horizon = now.checked_add(rotation.overlap).unwrap_or(now);
        let newest = self
            .entries
            .iter()
            .filter(|e| e.validity.advertised_at(now))
            .max_by_key(|e| e.validity.not_after);
        if newest.is_some_and(|e| e.validity.not_after > horizon) {
            return Ok(false);
        }
        let after = newest.map_or(0, |e| e.pair.config().key_id());
        let key_id = (1..=256u16)
            .filter_map(|step| u8::try_from((u16::from(after) + step) % 256).ok())
            .find(|id| self.entries.iter().all(|e| e.pair.config().key_id() != *id))
            .ok_or(Error::LimitExceeded {
                what: "key ring entries",
                limit: 256,
                actual: 256,
            })?;
        let pair = KeyPair::generate(key_id, suite.kem, vec![suite.symmetric()], rng)?;
        self.insert(pair, Validity::new(now, rotation.lifetime, rotation.grace))?;
        Ok(true)
    }

    /// Drops keys whose grace period has passed.
    pub fn prune(&mut self, now: UnixTime) {
        self.entries
            .retain(|e| e.validity.accept_until().is_none_or(|until| now < until));
    }

    /// The configurations to advertise at `now`.
    pub fn advertised(&self, now: UnixTime) -> impl Iterator<Item = &KeyConfig> {
        self.entries
            .iter()
            .filter(move |e| e.validity.advertised_at(now))
            .map(|e| e.pair.config())
    }

    /// The `application/ohttp-keys` body to serve at `now`: the newest key first, so that a
    /// client taking the first mutually supported configuration moves to a new key as soon
    /// as it is advertised, not when the old one expires.
    pub fn encoded_list(&self, now: UnixTime) -> Vec<u8> {
        let mut entries: Vec<&Entry> = self
            .entries
            .iter()
            .filter(|e| e.validity.advertised_at(now))
            .collect();
        entries.sort_by_key(|e| core::cmp::Reverse(e.validity.not_before));
        encode_key_config_list(entries.into_iter().map(|e| e.pair.config()))
    }

    fn lookup(&self, key_id: KeyId, now: UnixTime) -> Result<&KeyPair> {
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
        now: UnixTime,
    ) -> Result<(Vec<u8>, ResponseContext)> {
        let mut r = Reader::new(encapsulated);
        let (suite, context, enc) = self.open_header(&mut r, LABEL_REQUEST, now)?;
        let mut buf = r.rest().to_vec();
        let context = open_request(context, suite, enc, &mut buf, 0)?;
        Ok((buf, context))
    }

    /// [`decapsulate`](Self::decapsulate) without a copy: the ciphertext in `request` is
    /// opened where it lies, and the binary HTTP request is `request[offset..]` for the
    /// returned offset; the key header and encapsulated key before it stay as they came. On an
    /// error `request` may hold part of a decryption and must not be read.
    pub fn decapsulate_in_place(
        &self,
        request: &mut Vec<u8>,
        now: UnixTime,
    ) -> Result<(usize, ResponseContext)> {
        let (suite, context, enc, offset) = {
            let mut r = Reader::new(request);
            let (suite, context, enc) = self.open_header(&mut r, LABEL_REQUEST, now)?;
            let offset = request.len().saturating_sub(r.rest().len());
            (suite, context, enc, offset)
        };
        let context = open_request(context, suite, enc, request, offset)?;
        Ok((offset, context))
    }

    /// Reads the header and the encapsulated key, and sets up the HPKE receiver.
    pub(crate) fn open_header(
        &self,
        r: &mut Reader<'_>,
        label: &[u8],
        now: UnixTime,
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
        let context = hpke_dispatch::setup_receiver_with_public(
            suite,
            pair.private_key(),
            pair.config().public_key(),
            enc,
            &info,
        )?;
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

/// Opens the ciphertext of a request, `buf[start..]`, in place with the receiver `context`, and
/// derives the context that encapsulates its response.
fn open_request(
    mut context: Box<dyn ReceiverContext>,
    suite: Suite,
    enc: Vec<u8>,
    buf: &mut Vec<u8>,
    start: usize,
) -> Result<ResponseContext> {
    context.open_in_place(buf, start, b"", "encapsulated request")?;
    let secret = export_response_secret(&*context, suite, LABEL_RESPONSE)?;
    Ok(ResponseContext { suite, enc, secret })
}
