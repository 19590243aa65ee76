//! Replay protection (RFC 9458 §6.5): the gateway remembers the encapsulated requests it
//! served inside a window, and refuses inner requests whose `Date` is outside it (§6.5.1),
//! so that a request replayed after the window is refused as well.
//!
//! A `Date` may be up to [`ReplayLimits::window`] old and up to a quarter of it ahead (a
//! client clock running fast); a request is remembered for the window plus that quarter. So
//! a dated request is refused at every later time: as a replay while it is remembered, and
//! for its `Date`, which is then older than the window, once it is forgotten. (Remembering
//! it only for the window would let a request dated ahead be replayed once it is forgotten,
//! while its `Date` is still acceptable.) A request without a `Date` can be replayed after
//! it is forgotten: clients that want that closed send a `Date`, as `whisper-client` does.
//!
//! A request is named by its key header and HPKE encapsulated key, which the client draws
//! fresh for every request: a replay repeats them, and a request that changes them is a new
//! HPKE context the replayer cannot open. Only requests that decrypted are remembered.
//!
//! Memory is bounded by [`ReplayLimits::capacity`]. Each entry costs a 16-byte digest in a
//! hash set (about 17 bytes a slot, 1 to 2 slots an entry with the set's load factor and
//! power-of-two growth) and a 32-byte (time, digest) record in a queue (up to 2 slots an
//! entry with doubling): 49 to 98 bytes, about 64 on average. The default 524,288 entries
//! are at most about 51 MiB (about 32 MiB typically), reached only at 6,990 requests/s
//! sustained over the 75 seconds a request is remembered (the 60-second window and its
//! quarter); memory is allocated as requests come, not up front. When the window is full
//! the gateway refuses (503) rather than forget a request early.

use std::collections::{HashSet, VecDeque};
use std::time::Duration;

use attested_types::UnixTime;

use sha2::{Digest, Sha256};

/// How long and how many requests the gateway remembers. The window counts in whole seconds,
/// as every time the gateway takes is a [`UnixTime`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayLimits {
    /// How old an inner `Date` may be. A `Date` may also be a quarter of this ahead of `now`
    /// ([`ReplayLimits::future_skew`]), and a request is remembered for both
    /// ([`ReplayLimits::retention`]).
    pub window: Duration,
    /// The most requests remembered at once.
    pub capacity: usize,
}

impl Default for ReplayLimits {
    /// 60 seconds, 524,288 requests.
    fn default() -> Self {
        Self {
            window: Duration::from_secs(60),
            capacity: 1 << 19,
        }
    }
}

impl ReplayLimits {
    /// How far ahead of `now` an inner `Date` may be: a quarter of the window.
    pub fn future_skew(&self) -> Duration {
        self.window / 4
    }

    /// How long a request is remembered: the window and the future skew, so that a request
    /// dated as far ahead as accepted is remembered until its `Date` is too old.
    pub fn retention(&self) -> Duration {
        self.window.saturating_add(self.future_skew())
    }

    /// Whether an inner `Date` value (an HTTP-date) is acceptable at `now`: at most the
    /// window old and at most [`ReplayLimits::future_skew`] ahead. An unparsable date is
    /// refused. (A rule of the limits alone: no window of remembered requests is needed.)
    pub fn date_acceptable(&self, date: &[u8], now: UnixTime) -> bool {
        let Some(date) = crate::message::parse_http_date(date) else {
            return false;
        };
        match now.duration_since(date) {
            Some(age) => age <= self.window,
            None => date
                .duration_since(now)
                .is_some_and(|ahead| ahead <= self.future_skew()),
        }
    }
}

/// Why a request was refused as a possible replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Replay {
    /// The same encapsulated request was served inside the window.
    Seen,
    /// The window holds its capacity of requests; none can be admitted safely.
    Full,
}

/// The requests served inside the window.
#[derive(Debug, Default)]
pub struct ReplayWindow {
    limits: ReplayLimits,
    seen: HashSet<[u8; 16]>,
    order: VecDeque<(UnixTime, [u8; 16])>,
}

impl ReplayWindow {
    /// An empty window.
    pub fn new(limits: ReplayLimits) -> Self {
        Self {
            limits,
            seen: HashSet::new(),
            order: VecDeque::new(),
        }
    }

    /// The limits.
    pub fn limits(&self) -> ReplayLimits {
        self.limits
    }

    /// How many requests are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Records the request named by `header_and_enc` at `now`, or refuses it.
    pub fn admit(&mut self, header_and_enc: &[u8], now: UnixTime) -> Result<(), Replay> {
        self.expire(now);
        let digest = name(header_and_enc);
        if self.seen.contains(&digest) {
            return Err(Replay::Seen);
        }
        if self.order.len() >= self.limits.capacity {
            return Err(Replay::Full);
        }
        self.seen.insert(digest);
        self.order.push_back((now, digest));
        Ok(())
    }

    fn expire(&mut self, now: UnixTime) {
        let horizon = now.checked_sub(self.limits.retention());
        while let Some(&(at, digest)) = self.order.front() {
            // A clock that went back keeps entries longer, never shorter.
            if horizon.is_some_and(|h| at < h) {
                self.order.pop_front();
                self.seen.remove(&digest);
            } else {
                break;
            }
        }
    }
}

fn name(header_and_enc: &[u8]) -> [u8; 16] {
    let digest = Sha256::digest(header_and_enc);
    let mut out = [0u8; 16];
    for (o, d) in out.iter_mut().zip(digest.iter()) {
        *o = *d;
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_request_is_refused_inside_the_window_and_forgotten_after_it() {
        let t0 = UnixTime::from_secs(1_800_000_000);
        let mut w = ReplayWindow::new(ReplayLimits {
            window: Duration::from_secs(60),
            capacity: 2,
        });
        assert_eq!(w.admit(b"a", t0), Ok(()));
        assert_eq!(
            w.admit(b"a", t0.saturating_add(Duration::from_secs(59))),
            Err(Replay::Seen)
        );
        assert_eq!(
            w.admit(b"b", t0.saturating_add(Duration::from_secs(1))),
            Ok(())
        );
        assert_eq!(
            w.admit(b"c", t0.saturating_add(Duration::from_secs(2))),
            Err(Replay::Full)
        );
        // Remembered for the window and its quarter: 75 s.
        assert_eq!(
            w.admit(b"a", t0.saturating_add(Duration::from_secs(75))),
            Err(Replay::Seen)
        );
        assert_eq!(
            w.admit(b"c", t0.saturating_add(Duration::from_secs(76))),
            Ok(())
        );
        // `a` was forgotten, `b` and `c` fill the window.
        assert_eq!(w.len(), 2);
        assert_eq!(
            w.admit(b"a", t0.saturating_add(Duration::from_secs(76))),
            Err(Replay::Full)
        );
        assert_eq!(
            w.admit(b"a", t0.saturating_add(Duration::from_secs(77))),
            Ok(())
        );
    }

    /// Every `Date` accepted at admission is too old by the time its request is forgotten.
    #[test]
    fn a_request_is_remembered_until_every_acceptable_date_is_too_old() {
        for window in [1, 30, 60, 3600].map(Duration::from_secs) {
            let limits = ReplayLimits {
                window,
                capacity: 1,
            };
            let t0 = UnixTime::from_secs(1_800_000_000);
            let furthest = t0.saturating_add(limits.future_skew());
            let date = crate::message::http_date(furthest).into_bytes();
            assert!(limits.date_acceptable(&date, t0));
            // Whole seconds: an HTTP-date has no fraction.
            let forgotten = t0.saturating_add(limits.retention() + Duration::from_secs(1));
            assert!(!limits.date_acceptable(&date, forgotten), "{window:?}");
        }
    }

    #[test]
    fn dates_outside_the_window_are_refused() {
        let t0 = UnixTime::from_secs(1_800_000_000);
        let w = ReplayLimits::default();
        let date = |t: UnixTime| crate::message::http_date(t).into_bytes();
        assert!(w.date_acceptable(&date(t0), t0));
        assert!(w.date_acceptable(&date(t0.checked_sub(Duration::from_secs(60)).unwrap()), t0));
        assert!(!w.date_acceptable(&date(t0.checked_sub(Duration::from_secs(61)).unwrap()), t0));
        assert!(w.date_acceptable(&date(t0.saturating_add(Duration::from_secs(15))), t0));
        assert!(!w.date_acceptable(&date(t0.saturating_add(Duration::from_secs(16))), t0));
        assert!(!w.date_acceptable(&date(t0.saturating_add(Duration::from_secs(61))), t0));
        assert!(!w.date_acceptable(b"yesterday", t0));
    }
}
