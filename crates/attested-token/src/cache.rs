//! A sans-IO JWKS cache: it decides when to fetch, the caller (or a [`JwksFetcher`]) fetches.
//!
//! Keys are refreshed after a TTL, and when a token names a kid the cache does not hold; every
//! fetch attempt starts a cooldown, so that tokens with random kids cannot cause a fetch flood.
//! An offline snapshot never fetches.

use std::time::{Duration, SystemTime};

use crate::error::Error;
use crate::jwt::{Jwks, KeySet};
use crate::limits::Limits;
use crate::time::unix_seconds;
use crate::x509::TrustRoots;

/// Gets the bytes of a JWKS (for example over HTTPS from the issuer's pinned URL).
pub trait JwksFetcher {
    /// Fetches the current JWKS document, at most `max_len` bytes.
    fn fetch(&mut self, max_len: usize) -> Result<Vec<u8>, Error>;
}

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
            keys: None,
            fetched_at: None,
            last_attempt: None,
        }
    }

    /// An offline snapshot: these keys only, never refreshed, never fetched.
    pub fn offline_snapshot(jwks: &[u8], roots: TrustRoots) -> Result<Self, Error> {
        let mut cache = Self::new(roots);
        cache.offline = true;
        cache.accept(jwks, SystemTime::UNIX_EPOCH)?;
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

    /// Sets the size caps (the JWKS cap applies to fetched documents).
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Whether the caller should fetch now: the cache is empty or stale, or `kid` is unknown;
    /// and no attempt was made within the cooldown. Always false for an offline snapshot.
    pub fn should_fetch(&self, kid: Option<&str>, now: SystemTime) -> bool {
        if self.offline {
            return false;
        }
        let now = unix_seconds(now);
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
    pub fn fetch_started(&mut self, now: SystemTime) {
        self.last_attempt = Some(unix_seconds(now));
    }

    /// Takes in a fetched JWKS: parses it, checks every chain, and replaces the keys.
    /// On error the previous keys stay.
    pub fn accept(&mut self, jwks: &[u8], now: SystemTime) -> Result<(), Error> {
        let parsed = Jwks::from_json_with_limit(jwks, self.limits.jwks)?;
        let keys = match &self.trust {
            Trust::Chained(roots) => KeySet::chained(&parsed, roots),
            Trust::UnchainedTrustingTransport => KeySet::unchained_trusting_transport(&parsed),
        };
        self.keys = Some(keys);
        self.fetched_at = Some(unix_seconds(now));
        Ok(())
    }

    /// The current keys (possibly stale if refreshing failed; their chains are still checked
    /// against each token's time).
    pub fn keys(&self) -> Option<&KeySet> {
        self.keys.as_ref()
    }

    /// Fetches through `fetcher` if [`JwksCache::should_fetch`] says so, then returns the keys.
    /// A failed fetch with keys still held returns those keys.
    pub fn refresh<F: JwksFetcher + ?Sized>(
        &mut self,
        fetcher: &mut F,
        kid: Option<&str>,
        now: SystemTime,
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
        self.keys
            .clone()
            .ok_or_else(|| Error::Fetch("no key set yet (fetch in cooldown)".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

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

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    const EMPTY: &[u8] = br#"{"keys":[]}"#;

    #[test]
    fn unknown_kids_fetch_at_most_once_per_cooldown() {
        let mut fetcher = Counting {
            body: EMPTY.to_vec(),
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
            body: EMPTY.to_vec(),
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
        cache.accept(EMPTY, at(0)).unwrap();
        assert!(cache.refresh(&mut Failing, None, at(1000)).is_ok());
        let offline = JwksCache::offline_snapshot(EMPTY, TrustRoots::empty()).unwrap();
        assert!(!offline.should_fetch(Some("x"), at(1 << 40)));
        assert!(offline.keys().is_some());
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
