//! Time rules: the caller's `now`, a clock skew and an optional maximum age.

use std::time::Duration;

use serde::Deserialize;

use crate::Error;

/// Default clock skew allowed between issuer and verifier.
pub const DEFAULT_SKEW: Duration = Duration::from_secs(60);

/// How `exp`, `nbf` and `iat` (or a document's timestamp) are checked against `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRules {
    /// Tolerance for clocks that disagree (default 60 s).
    pub skew: Duration,
    /// Refuse evidence issued longer ago than this (default: no limit beyond `exp`).
    pub max_age: Option<Duration>,
}

impl Default for TimeRules {
    fn default() -> Self {
        TimeRules {
            skew: DEFAULT_SKEW,
            max_age: None,
        }
    }
}

impl TimeRules {
    /// Checks the registered time claims. `exp` is required; `iat` is required when a maximum
    /// age is set.
    pub(crate) fn check(&self, times: &TimeClaims, now: u64) -> Result<(), Error> {
        let skew = self.skew.as_secs();
        let exp = times.exp.ok_or(Error::MissingClaim("exp"))?.0;
        if now > exp.saturating_add(skew) {
            return Err(Error::Expired { exp, now, skew });
        }
        if let Some(NumericDate(nbf)) = times.nbf
            && nbf > now.saturating_add(skew)
        {
            return Err(Error::NotYetValid { nbf, now, skew });
        }
        match (times.iat, self.max_age) {
            (Some(NumericDate(iat)), max_age) => self.check_issued(iat, now, max_age),
            (None, Some(_)) => Err(Error::MissingClaim("iat")),
            (None, None) => Ok(()),
        }
    }

    /// Checks an issue time against the skew and the maximum age.
    pub(crate) fn check_issued(
        &self,
        iat: u64,
        now: u64,
        max_age: Option<Duration>,
    ) -> Result<(), Error> {
        let skew = self.skew.as_secs();
        if iat > now.saturating_add(skew) {
            return Err(Error::IssuedInFuture { iat, now, skew });
        }
        if let Some(max_age) = max_age {
            let max_age = max_age.as_secs();
            if now.saturating_sub(iat) > max_age.saturating_add(skew) {
                return Err(Error::TooOld { iat, now, max_age });
            }
        }
        Ok(())
    }
}

/// A JWT NumericDate, in whole seconds (fractions are truncated).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NumericDate(pub u64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        if let Some(seconds) = number.as_u64() {
            return Ok(NumericDate(seconds));
        }
        match number.as_f64() {
            Some(f) if f.is_finite() && (0.0..1.0e15).contains(&f) =>
            {
                #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                Ok(NumericDate(f as u64))
            }
            _ => Err(serde::de::Error::custom("NumericDate out of range")),
        }
    }
}

/// The registered time claims and issuer of a JWT payload.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct TimeClaims {
    pub(crate) exp: Option<NumericDate>,
    pub(crate) nbf: Option<NumericDate>,
    pub(crate) iat: Option<NumericDate>,
    pub(crate) iss: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_dates_accept_integers_and_fractions_only() {
        let parse = |s: &str| serde_json::from_str::<NumericDate>(s).map(|d| d.0).ok();
        assert_eq!(parse("1701735250"), Some(1_701_735_250));
        assert_eq!(parse("1701735250.9"), Some(1_701_735_250));
        assert_eq!(parse("-1"), None);
        assert_eq!(parse("\"1701735250\""), None);
        assert_eq!(parse("1e300"), None);
    }

    #[test]
    fn exp_is_required_and_iat_when_a_maximum_age_is_set() {
        let rules = TimeRules::default();
        assert_eq!(
            rules.check(&TimeClaims::default(), 0),
            Err(Error::MissingClaim("exp"))
        );
        let times = TimeClaims {
            exp: Some(NumericDate(100)),
            ..TimeClaims::default()
        };
        assert!(rules.check(&times, 50).is_ok());
        let aged = TimeRules {
            max_age: Some(Duration::from_secs(10)),
            ..rules
        };
        assert_eq!(aged.check(&times, 50), Err(Error::MissingClaim("iat")));
    }
}
