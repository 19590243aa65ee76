//! Times: the vocabulary's [`UnixTime`] (whole seconds since the epoch), and the conversion of
//! X.509 times into it.

pub(crate) use attested_types::UnixTime;

/// An X.509 time (UTCTime or GeneralizedTime) as a [`UnixTime`].
pub(crate) fn from_x509(time: x509_cert::time::Time) -> UnixTime {
    UnixTime(time.to_unix_duration().as_secs())
}
