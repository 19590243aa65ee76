//! A sans-IO JWKS cache: it decides when to fetch, the caller (or a [`JwksFetcher`]) fetches.
//!
//! Keys are refreshed after a TTL, and when a token names a kid the cache does not hold; every
//! fetch attempt starts a cooldown, so that tokens with random kids cannot cause a fetch flood.
//! An offline snapshot never fetches.
//!
//! The caller owns the cache (a plain value, `&mut self` to change it; behind the caller's
//! lock when threads share it) and does the I/O; a clone is an independent copy.

use std::time::Duration;

use attested_types::UnixTime;
use attested_types::signature::Algorithms;

use crate::Backend;
use crate::error::Error;
use crate::jwt::{Jwks, KeySet};
use crate::limits::Limits;
use crate::x509::TrustRoots;

/// Gets the bytes of a JWKS (for example over HTTPS from the issuer's pinned URL).
pub trait JwksFetcher {
    /// Fetches the current JWKS document, at most `max_len` bytes.
    fn fetch(&mut self, max_len: usize) -> Result<Vec<u8>, Error>;
}

/// How long past its TTL a key set is still served while refreshing fails (default of
/// [`JwksCache::max_staleness`]).
pub const DEFAULT_MAX_STALENESS: Duration = Duration::from_secs(24 * 3600);

/// How a fetched JWKS becomes trusted.
#[derive(Debug, Clone)]
enum Trust {
    Chained(TrustRoots),
    UnchainedTrustingTransport,
}

/// A JWKS cache with TTL, refetch-on-unknown-kid with a cooldown, and an offline mode.
#[derive(Debug, Clone)]
pub struct JwksCache {
    trust: Trust,
    ttl: Duration,
    cooldown: Duration,
    limits: Limits,
    offline: bool,
    max_staleness: Duration,
    algorithms: Algorithms,
    keys: Option<KeySet>,
    fetched_at: Option<u64>,
    last_attempt: Option<u64>,
}

impl JwksCache {
    /// A cache whose key sets must chain to `roots`; TTL 1 hour, cooldown 5 minutes.
    pub fn new(roots: TrustRoots) -> Self {
        Self::with_trust(Trust::Chained(roots))
    }

    /// **Explicit opt-in**: a cache that trusts fetched keys without chains, because of how they
    /// were fetched (see [`KeySet::unchained_trusting_transport`]).
    pub fn unchained_trusting_transport() -> Self {
        Self::with_trust(Trust::UnchainedTrustingTransport)
    }

    fn with_trust(trust: Trust) -> Self {
        JwksCache {
            trust,
            ttl: Duration::from_secs(3600),
            cooldown: Duration::from_secs(300),
            limits: Limits::default(),
            offline: false,
            max_staleness: DEFAULT_MAX_STALENESS,
            algorithms: Backend::default().algorithms(),
            keys: None,
            fetched_at: None,
            last_attempt: None,
        }
    }

    /// An offline snapshot: these keys only, never refreshed, never fetched.
    pub fn offline_snapshot(jwks: &[u8], roots: TrustRoots) -> Result<Self, Error> {
        let mut cache = Self::new(roots);
        cache.offline = true;
        cache.accept(jwks, UnixTime(0))?;
        Ok(cache)
    }

    /// Sets how long a fetched key set is fresh.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Sets the minimum time between two fetch attempts.
    pub fn cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Sets how long past its TTL a key set is still served when refreshing fails (default
    /// [`DEFAULT_MAX_STALENESS`]); after that, [`JwksCache::keys_at`] and
    /// [`JwksCache::refresh`] fail with [`Error::StaleKeys`]. An offline snapshot never goes
    /// stale.
    pub fn max_staleness(mut self, max_staleness: Duration) -> Self {
        self.max_staleness = max_staleness;
        self
    }

    /// Sets the signature algorithms the key sets it builds check their chains and tokens with
    /// (default [`Backend::default`]'s; a caller's own, an HSM or a FIPS module, as
    /// [`KeySet::chained_with_algorithms`] takes them). Keys taken in before keep theirs.
    pub fn algorithms(mut self, algorithms: Algorithms) -> Self {
        self.algorithms = algorithms;
        self
    }

    /// Sets the size caps (the JWKS cap applies to fetched documents).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether the caller should fetch now: the cache is empty or stale, or `kid` is unknown;
    /// and no attempt was made within the cooldown. Always false for an offline snapshot.
    pub fn should_fetch(&self, kid: Option<&str>, now: UnixTime) -> bool {
        if self.offline {
            return false;
        }
        let now = now.as_secs();
        let cooled = self
            .last_attempt
            .is_none_or(|last| now >= last.saturating_add(self.cooldown.as_secs()));
        let stale = self
            .fetched_at
            .is_none_or(|at| now >= at.saturating_add(self.ttl.as_secs()));
        let unknown = match (kid, &self.keys) {
            (Some(kid), Some(keys)) => !keys.contains_kid(kid),
            (_, None) => true,
            (None, Some(_)) => false,
        };
        cooled && (stale || unknown)
    }

    /// Records that a fetch starts now (this starts the cooldown, whether or not it succeeds).
    pub fn fetch_started(&mut self, now: UnixTime) {
        self.last_attempt = Some(now.as_secs());
    }

    /// Takes in a fetched JWKS: parses it, checks every chain, and replaces the keys if at
    /// least one key is usable. A set that does not parse, or none of whose keys is usable (all
    /// chains fail, or no key at all), is an error and the previous keys stay.
    pub fn accept(&mut self, jwks: &[u8], now: UnixTime) -> Result<(), Error> {
        let parsed = Jwks::from_json_with_limit(jwks, self.limits.jwks)?;
        let keys = match &self.trust {
            Trust::Chained(roots) => KeySet::chained_with_algorithms(
                &parsed,
                roots,
                &crate::x509::Crls::none(),
                self.algorithms,
            ),
            Trust::UnchainedTrustingTransport => {
                KeySet::unchained_trusting_transport_with_algorithms(&parsed, self.algorithms)
            }
        };
        keys.any_trusted()?;
        self.keys = Some(keys);
        self.fetched_at = Some(now.as_secs());
        Ok(())
    }

    /// The current keys (possibly stale if refreshing failed; their chains are still checked
    /// against each token's time).
    pub fn keys(&self) -> Option<&KeySet> {
        self.keys.as_ref()
    }

    /// The current keys at `now`: refused with [`Error::StaleKeys`] once they are older than
    /// TTL + maximum staleness (refreshing kept failing).
    pub fn keys_at(&self, now: UnixTime) -> Result<&KeySet, Error> {
        let keys = self
            .keys
            .as_ref()
            .ok_or_else(|| Error::Fetch("no key set yet".into()))?;
        if let (false, Some(fetched_at)) = (self.offline, self.fetched_at) {
            let now = now.as_secs();
            let limit = fetched_at
                .saturating_add(self.ttl.as_secs())
                .saturating_add(self.max_staleness.as_secs());
            if now > limit {
                return Err(Error::StaleKeys {
                    fetched_at,
                    stale_after: limit,
                    now,
                });
            }
        }
        Ok(keys)
    }

    /// Fetches through `fetcher` if [`JwksCache::should_fetch`] says so, then returns the keys.
    /// A failed fetch with keys still held returns those keys, until they are past the
    /// maximum staleness ([`Error::StaleKeys`]).
    pub fn refresh<F: JwksFetcher + ?Sized>(
        &mut self,
        fetcher: &mut F,
        kid: Option<&str>,
        now: UnixTime,
    ) -> Result<KeySet, Error> {
        if self.should_fetch(kid, now) {
            self.fetch_started(now);
            let fetched = fetcher
                .fetch(self.limits.jwks)
                .and_then(|bytes| self.accept(&bytes, now));
            if let Err(err) = fetched
                && self.keys.is_none()
            {
                return Err(err);
            }
        }
        if self.keys.is_none() {
            return Err(Error::Fetch("no key set yet (fetch in cooldown)".into()));
        }
        self.keys_at(now).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counting {
        body: Vec<u8>,
        calls: usize,
    }

    impl JwksFetcher for Counting {
        fn fetch(&mut self, _max_len: usize) -> Result<Vec<u8>, Error> {
            self.calls += 1;
            Ok(self.body.clone())
        }
    }

    fn at(s: u64) -> UnixTime {
        UnixTime(s)
    }

    const EMPTY: &[u8] = br#"{"keys":[]}"#;

    /// A set of one usable (unchained) RSA key.
    fn one() -> Vec<u8> {
        use base64::Engine as _;
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xc1; 256]);
        format!(r#"{{"keys":[{{"kty":"RSA","kid":"one","n":"{n}","e":"AQAB"}}]}}"#).into_bytes()
    }

    #[cfg(feature = "sim")]
    #[test]
    fn fetched_key_sets_check_their_chains_with_the_caches_algorithms() {
        let sim = crate::sim::SimIssuer::new([9; 32]).unwrap();
        let jwks = sim.jwks_json();
        let mut cache = JwksCache::new(sim.roots());
        cache.accept(jwks.as_bytes(), at(1)).unwrap();
        let default = Backend::default().algorithms();
        assert!(std::ptr::eq(cache.keys().unwrap().algorithms(), default));
        // No algorithm at all: the chain cannot verify, the set is refused, nothing replaced.
        let mut none = JwksCache::new(sim.roots()).algorithms(&[]);
        assert!(matches!(
            none.accept(jwks.as_bytes(), at(1)),
            Err(Error::UntrustedKey { .. })
        ));
        assert!(none.keys().is_none());
        let mut unchained = JwksCache::unchained_trusting_transport().algorithms(default);
        unchained.accept(jwks.as_bytes(), at(1)).unwrap();
        assert!(std::ptr::eq(
            unchained.keys().unwrap().algorithms(),
            default
        ));
    }

    #[test]
    fn unknown_kids_fetch_at_most_once_per_cooldown() {
        let mut fetcher = Counting {
            body: one(),
            calls: 0,
        };
        let mut cache = JwksCache::unchained_trusting_transport().cooldown(Duration::from_secs(60));
        for i in 0..1000u64 {
            let kid = format!("random-{i}");
            let _ = cache.refresh(&mut fetcher, Some(&kid), at(1000 + i / 100));
        }
        assert_eq!(fetcher.calls, 1);
        cache
            .refresh(&mut fetcher, Some("again"), at(1060))
            .unwrap();
        assert_eq!(fetcher.calls, 2);
    }

    #[test]
    fn ttl_expiry_refetches_and_known_kids_do_not() {
        let mut fetcher = Counting {
            body: one(),
            calls: 0,
        };
        let mut cache = JwksCache::unchained_trusting_transport()
            .ttl(Duration::from_secs(600))
            .cooldown(Duration::from_secs(10));
        cache.refresh(&mut fetcher, None, at(0)).unwrap();
        cache.refresh(&mut fetcher, None, at(599)).unwrap();
        assert_eq!(fetcher.calls, 1);
        cache.refresh(&mut fetcher, None, at(600)).unwrap();
        assert_eq!(fetcher.calls, 2);
    }

    #[test]
    fn failed_fetch_keeps_previous_keys_and_offline_never_fetches() {
        struct Failing;
        impl JwksFetcher for Failing {
            fn fetch(&mut self, _: usize) -> Result<Vec<u8>, Error> {
                Err(Error::Fetch("down".into()))
            }
        }
        let mut cache = JwksCache::unchained_trusting_transport().ttl(Duration::from_secs(1));
        assert!(matches!(
            cache.refresh(&mut Failing, None, at(0)),
            Err(Error::Fetch(_))
        ));
        cache.accept(&one(), at(0)).unwrap();
        assert!(cache.refresh(&mut Failing, None, at(1000)).is_ok());
        // A snapshot none of whose keys chains is refused.
        assert!(JwksCache::offline_snapshot(&one(), TrustRoots::empty()).is_err());
        let Some(ita) =
            attested_testdata::read("tokens/ita/ita-prod-jwks-kid79d80711-2023-09.json")
        else {
            return;
        };
        let offline =
            JwksCache::offline_snapshot(&ita, TrustRoots::intel_trust_authority()).unwrap();
        assert!(!offline.should_fetch(Some("x"), at(1 << 40)));
        assert!(offline.keys().is_some());
        assert!(offline.keys_at(at(1 << 40)).is_ok());
    }

    #[test]
    fn a_set_with_no_usable_key_keeps_the_previous_keys_and_is_an_error() {
        let mut cache = JwksCache::unchained_trusting_transport();
        cache.accept(&one(), at(0)).unwrap();
        assert!(cache.accept(EMPTY, at(10)).is_err());
        assert!(cache.keys().unwrap().contains_kid("one"));
        // Chained: a key whose x5c does not chain to the pinned (empty) roots.
        let mut chained = JwksCache::new(TrustRoots::empty());
        assert!(matches!(
            chained.accept(&one(), at(0)),
            Err(Error::UntrustedKey { .. })
        ));
        assert!(chained.keys().is_none());
    }

    #[test]
    fn keys_are_refused_past_ttl_plus_maximum_staleness() {
        struct Failing;
        impl JwksFetcher for Failing {
            fn fetch(&mut self, _: usize) -> Result<Vec<u8>, Error> {
                Err(Error::Fetch("down".into()))
            }
        }
        let mut cache = JwksCache::unchained_trusting_transport()
            .ttl(Duration::from_secs(100))
            .cooldown(Duration::from_secs(1))
            .max_staleness(Duration::from_secs(1000));
        cache.accept(&one(), at(0)).unwrap();
        assert!(cache.refresh(&mut Failing, None, at(1100)).is_ok());
        assert_eq!(
            cache.refresh(&mut Failing, None, at(1101)).unwrap_err(),
            Error::StaleKeys {
                fetched_at: 0,
                stale_after: 1100,
                now: 1101
            }
        );
        assert!(matches!(
            cache.keys_at(at(5000)),
            Err(Error::StaleKeys { .. })
        ));
        // A successful fetch makes them fresh again.
        cache.accept(&one(), at(5000)).unwrap();
        assert!(cache.keys_at(at(5001)).is_ok());
    }

    #[test]
    fn oversize_fetched_jwks_is_refused() {
        let mut cache = JwksCache::unchained_trusting_transport().limits(Limits {
            jwks: 4,
            ..Limits::default()
        });
        assert!(matches!(
            cache.accept(EMPTY, at(0)),
            Err(Error::TooLarge { .. })
        ));
        assert!(cache.keys().is_none());
    }
}
