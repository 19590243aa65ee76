//! The one time type: whole seconds since the Unix epoch.
//!
//! A newtype rather than a re-export of `rustls_pki_types::UnixTime`, because the TDX
//! verifier builds and compares times by their seconds everywhere (`UnixTime(secs)`), and
//! pki-types' type has no public constructor from seconds nor a field to match on. The two
//! convert losslessly both ways (`From`), as do [`SystemTime`] and this type.
//!
//! Calendar arithmetic is left to `der::DateTime`; this module only splits RFC 3339 text.

use core::fmt;
use core::time::Duration;
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time, in whole seconds since 1970-01-01T00:00:00Z. Verification never reads a
/// clock: the caller passes `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub u64);

impl UnixTime {
    /// `secs` seconds after the epoch.
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    /// The system clock's time, for callers (libraries take `now` as an argument). A clock set
    /// before 1970 reads as the epoch.
    pub fn now() -> Self {
        SystemTime::now().into()
    }

    /// Seconds since the epoch.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// This time `duration` later (its whole seconds), or `None` past `u64::MAX` seconds.
    pub const fn checked_add(self, duration: Duration) -> Option<Self> {
        match self.0.checked_add(duration.as_secs()) {
            Some(secs) => Some(Self(secs)),
            None => None,
        }
    }

    /// This time `duration` later (its whole seconds), stopping at the last representable
    /// second: for horizons such as "valid until", where the far future is as good as never.
    pub const fn saturating_add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration.as_secs()))
    }

    /// This time `duration` earlier (its whole seconds), or `None` before the epoch.
    pub const fn checked_sub(self, duration: Duration) -> Option<Self> {
        match self.0.checked_sub(duration.as_secs()) {
            Some(secs) => Some(Self(secs)),
            None => None,
        }
    }

    /// How long after `earlier` this time is, or `None` when it is before `earlier`.
    pub const fn duration_since(self, earlier: Self) -> Option<Duration> {
        match self.0.checked_sub(earlier.0) {
            Some(secs) => Some(Duration::from_secs(secs)),
            None => None,
        }
    }

    /// Parses an RFC 3339 UTC time such as `2025-06-19T10:16:03Z` (fractional seconds are
    /// truncated; only the `Z` or `+00:00` offsets are accepted, as Intel always uses UTC).
    pub fn parse_rfc3339(text: &str) -> Option<UnixTime> {
        let text = text
            .strip_suffix('Z')
            .or_else(|| text.strip_suffix('z'))
            .or_else(|| text.strip_suffix("+00:00"))?;
        let (date, time) = text.split_once(['T', 't', ' '])?;
        let time = time.split_once('.').map_or(time, |(whole, fraction)| {
            if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                ""
            } else {
                whole
            }
        });
        let mut date_parts = date.split('-');
        let mut time_parts = time.split(':');
        let year = number(date_parts.next()?, 4)?;
        let month = number(date_parts.next()?, 2)?;
        let day = number(date_parts.next()?, 2)?;
        let hour = number(time_parts.next()?, 2)?;
        let minute = number(time_parts.next()?, 2)?;
        let second = number(time_parts.next()?, 2)?;
        if date_parts.next().is_some() || time_parts.next().is_some() {
            return None;
        }
        let datetime = der::DateTime::new(
            u16::try_from(year).ok()?,
            u8::try_from(month).ok()?,
            u8::try_from(day).ok()?,
            u8::try_from(hour).ok()?,
            u8::try_from(minute).ok()?,
            u8::try_from(second).ok()?,
        )
        .ok()?;
        Some(UnixTime(datetime.unix_duration().as_secs()))
    }
}

impl From<SystemTime> for UnixTime {
    /// Whole seconds; a time before the epoch is the epoch.
    fn from(time: SystemTime) -> Self {
        Self(time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
    }
}

impl From<UnixTime> for SystemTime {
    fn from(time: UnixTime) -> Self {
        UNIX_EPOCH + Duration::from_secs(time.0)
    }
}

impl From<rustls_pki_types::UnixTime> for UnixTime {
    fn from(time: rustls_pki_types::UnixTime) -> Self {
        Self(time.as_secs())
    }
}

impl From<UnixTime> for rustls_pki_types::UnixTime {
    fn from(time: UnixTime) -> Self {
        rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(time.0))
    }
}

impl From<der::asn1::UtcTime> for UnixTime {
    fn from(value: der::asn1::UtcTime) -> Self {
        UnixTime(value.to_unix_duration().as_secs())
    }
}

impl From<der::DateTime> for UnixTime {
    fn from(value: der::DateTime) -> Self {
        UnixTime(value.unix_duration().as_secs())
    }
}

impl fmt::Display for UnixTime {
    /// RFC 3339 (`2025-06-19T10:16:03Z`), or the raw number of seconds past year 9999.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match der::DateTime::from_unix_duration(Duration::from_secs(self.0)) {
            Ok(t) => write!(
                f,
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                t.year(),
                t.month(),
                t.day(),
                t.hour(),
                t.minutes(),
                t.seconds()
            ),
            Err(_) => write!(f, "{}s after the epoch", self.0),
        }
    }
}

fn number(text: &str, digits: usize) -> Option<u32> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_intel_dates_and_prints_them_back() {
        for text in [
            "2025-06-19T10:16:03Z",
            "1970-01-01T00:00:00Z",
            "2049-12-31T23:59:59Z",
        ] {
            let t = UnixTime::parse_rfc3339(text).unwrap();
            assert_eq!(t.to_string(), text);
        }
        assert_eq!(
            UnixTime::parse_rfc3339("1970-01-02T00:00:01Z"),
            Some(UnixTime(86401))
        );
        assert_eq!(
            UnixTime::parse_rfc3339("2023-02-15T00:00:00.123Z"),
            UnixTime::parse_rfc3339("2023-02-15T00:00:00Z")
        );
        assert_eq!(
            UnixTime::parse_rfc3339("2023-02-15T00:00:00+00:00"),
            UnixTime::parse_rfc3339("2023-02-15T00:00:00Z")
        );
    }

    #[test]
    fn rejects_malformed_dates() {
        for text in [
            "",
            "2025-06-19",
            "2025-06-19T10:16:03",
            "2025-06-19T10:16:03+01:00",
            "2025-13-19T10:16:03Z",
            "2025-06-19T25:16:03Z",
            "25-06-19T10:16:03Z",
            "2025-06-19T10:16:03:00Z",
            "2025-06-19T10:16:+3Z",
            "2025-06-19T10:16:03.Z",
        ] {
            assert_eq!(UnixTime::parse_rfc3339(text), None, "{text}");
        }
    }

    #[test]
    fn arithmetic_is_in_whole_seconds_and_never_wraps() {
        let t = UnixTime(100);
        assert_eq!(
            t.checked_add(Duration::from_millis(2_999)),
            Some(UnixTime(102))
        );
        assert_eq!(UnixTime(u64::MAX).checked_add(Duration::from_secs(1)), None);
        assert_eq!(
            UnixTime(u64::MAX - 1).saturating_add(Duration::from_secs(5)),
            UnixTime(u64::MAX)
        );
        assert_eq!(t.checked_sub(Duration::from_secs(100)), Some(UnixTime(0)));
        assert_eq!(t.checked_sub(Duration::from_secs(101)), None);
        assert_eq!(
            t.duration_since(UnixTime(40)),
            Some(Duration::from_secs(60))
        );
        assert_eq!(UnixTime(40).duration_since(t), None);
    }

    #[test]
    fn converts_losslessly_with_pki_types_and_system_time() {
        let t = UnixTime::from_secs(1_750_000_123);
        let pki: rustls_pki_types::UnixTime = t.into();
        assert_eq!(pki.as_secs(), 1_750_000_123);
        assert_eq!(UnixTime::from(pki), t);
        let system: SystemTime = t.into();
        assert_eq!(UnixTime::from(system), t);
        assert_eq!(
            UnixTime::from(UNIX_EPOCH - Duration::from_secs(5)),
            UnixTime(0)
        );
        assert_eq!(
            UnixTime::from(system + Duration::from_millis(999)),
            t,
            "fractions are truncated"
        );
    }
}
