//! The attestation exchange with Intel Trust Authority, sans-IO: the request that asks ITA to
//! appraise a quote ([`AttestRequest`]), the parser of its answer ([`parse_attest_answer`]),
//! and the token a server holds and serves until it must ask again ([`HeldToken`]). The caller
//! sends the request over its own HTTPS client and hands back the answer's bytes.
//!
//! The request is ITA's v1 attest API: `POST {api url}/appraisal/v1/attest`, the API key in
//! header `x-api-key`, the JSON body `{"quote": base64}` (standard base64, padded); the answer
//! is `{"token": JWT}`.

use std::fmt;
use std::time::Duration;

use attested_types::UnixTime;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::error::Error;
use crate::jwt::unverified_expiry;

/// The path of ITA's attest API, under the API's URL (`https://api.trustauthority.intel.com`).
pub const ATTEST_PATH: &str = "/appraisal/v1/attest";

/// The header that carries the caller's ITA attestation API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// The largest attest answer parsed (and so the most a caller should read): a token with its
/// signature is a few kilobytes, a composite one with GPU claims somewhat more.
pub const MAX_ATTEST_ANSWER_LEN: usize = 1 << 20;

/// How long before its `exp` a held token is renewed by default, so that the clients it is
/// served to still have time to verify it (the default of [`HeldToken::renewal_margin`]).
pub const DEFAULT_RENEWAL_MARGIN: Duration = Duration::from_secs(30);

/// The request that asks ITA to appraise one quote: send [`AttestRequest::body`] with
/// [`AttestRequest::headers`] to [`AttestRequest::url`] (`POST`), and parse the answer with
/// [`parse_attest_answer`].
#[derive(Clone, PartialEq, Eq)]
pub struct AttestRequest {
    body: Vec<u8>,
}

impl AttestRequest {
    /// The request for `quote` (a TDX quote as the platform made it).
    pub fn new(quote: &[u8]) -> Self {
        // Standard base64 has no character JSON must escape, so the body is written directly.
        let body = format!(r#"{{"quote":"{}"}}"#, STANDARD.encode(quote)).into_bytes();
        Self { body }
    }

    /// The URL to `POST` to, under the ITA API's URL `api_url` (a trailing `/` is ignored).
    pub fn url(api_url: &str) -> String {
        format!("{}{ATTEST_PATH}", api_url.trim_end_matches('/'))
    }

    /// The headers to set, `api_key` in [`API_KEY_HEADER`]: the key is only borrowed, so that
    /// the caller's copy stays the one to zeroize.
    pub fn headers<'k>(&self, api_key: &'k str) -> [(&'static str, &'k str); 3] {
        [
            (API_KEY_HEADER, api_key),
            ("accept", "application/json"),
            ("content-type", "application/json"),
        ]
    }

    /// The JSON body, `{"quote": base64}`.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The JSON body, owned.
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

impl fmt::Debug for AttestRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AttestRequest")
            .field("body_len", &self.body.len())
            .finish()
    }
}

/// Why an attest answer gave no token to hold. Each variant names the failed check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AttestAnswerError {
    /// The answer is longer than [`MAX_ATTEST_ANSWER_LEN`].
    #[error("the ITA attest answer is {len} bytes, over the limit of {max}")]
    TooLarge {
        /// The answer's length.
        len: usize,
        /// The limit, [`MAX_ATTEST_ANSWER_LEN`].
        max: usize,
    },
    /// The answer is not the JSON object `{"token": string}`.
    #[error("the ITA attest answer is not the JSON {{\"token\": ...}}: {0}")]
    Malformed(String),
    /// The answer is JSON without a token.
    #[error("the ITA attest answer carries no token")]
    NoToken,
    /// The token's expiry cannot be read ([`HeldToken::new`]).
    #[error("the ITA token's expiry is unreadable: {0}")]
    Expiry(#[source] Error),
}

#[derive(Deserialize)]
struct AttestAnswer {
    token: Option<String>,
}

/// Parses ITA's answer `{"token": JWT}` into the token to hold. Nothing of the token is
/// verified: its `exp` is only read, to know when to renew it ([`HeldToken`]).
pub fn parse_attest_answer(body: &[u8]) -> Result<HeldToken, AttestAnswerError> {
    if body.len() > MAX_ATTEST_ANSWER_LEN {
        return Err(AttestAnswerError::TooLarge {
            len: body.len(),
            max: MAX_ATTEST_ANSWER_LEN,
        });
    }
    let answer: AttestAnswer =
        serde_json::from_slice(body).map_err(|e| AttestAnswerError::Malformed(e.to_string()))?;
    let token = answer.token.ok_or(AttestAnswerError::NoToken)?;
    HeldToken::new(token).map_err(AttestAnswerError::Expiry)
}

/// A token a server holds for its own quote and serves to clients, with the expiry it states,
/// read once when the token is stored. The expiry is read WITHOUT verifying the token
/// ([`unverified_expiry`]): it says when to ask ITA again, never whether to trust the token
/// (the clients verify it).
#[derive(Clone, PartialEq, Eq)]
pub struct HeldToken {
    token: String,
    expires_at: UnixTime,
    renewal_margin: Duration,
}

impl HeldToken {
    /// Holds `token`, renewed [`DEFAULT_RENEWAL_MARGIN`] before its `exp`. A token whose `exp`
    /// cannot be read is refused with the error of [`unverified_expiry`].
    pub fn new(token: String) -> Result<Self, Error> {
        let expires_at = UnixTime(unverified_expiry(&token)?);
        Ok(Self {
            token,
            expires_at,
            renewal_margin: DEFAULT_RENEWAL_MARGIN,
        })
    }

    /// Renews the token `margin` before its `exp` instead (whole seconds count).
    #[must_use]
    pub fn renewal_margin(mut self, margin: Duration) -> Self {
        self.renewal_margin = margin;
        self
    }

    /// Whether the token may still be served at `now`: its `exp` is more than the renewal
    /// margin after `now`. From `exp - margin` on, the holder asks for a new one.
    pub fn fresh_at(&self, now: UnixTime) -> bool {
        self.expires_at.as_secs() > now.as_secs().saturating_add(self.renewal_margin.as_secs())
    }

    /// The `exp` the token states (unverified).
    pub fn expires_at(&self) -> UnixTime {
        self.expires_at
    }

    /// The token, as ITA sent it.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The token, owned.
    pub fn into_token(self) -> String {
        self.token
    }
}

impl fmt::Debug for HeldToken {
    /// The expiry and margin only: the token is long and says nothing a log needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HeldToken")
            .field("expires_at", &self.expires_at)
            .field("renewal_margin", &self.renewal_margin)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use super::*;

    const EXP: u64 = 1_750_000_300;

    /// A token whose claims are `claims` (its signature is not checked by anything here).
    fn token(claims: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"PS384","kid":"k"}"#);
        format!("{header}.{}.AA", URL_SAFE_NO_PAD.encode(claims))
    }

    fn answer(token: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({ "token": token })).unwrap()
    }

    #[test]
    fn the_request_is_json_with_the_quote_in_standard_base64() {
        // 0xfb 0xff makes `+` and `/`, and two bytes need padding: the URL-safe or unpadded
        // alphabets would differ.
        let quote = [0xfb, 0xff, 0xbf, 0x00, 0x01];
        let request = AttestRequest::new(&quote);
        let body: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        assert_eq!(body, serde_json::json!({ "quote": "+/+/AAE=" }));
        assert_eq!(STANDARD.decode("+/+/AAE=").unwrap(), quote);
        let empty: serde_json::Value =
            serde_json::from_slice(AttestRequest::new(&[]).body()).unwrap();
        assert_eq!(empty, serde_json::json!({ "quote": "" }));
        assert_eq!(request.clone().into_body(), request.body());
    }

    #[test]
    fn the_request_goes_to_the_attest_path_with_the_key_and_json_headers() {
        for api in [
            "https://api.trustauthority.intel.com",
            "https://api.trustauthority.intel.com/",
        ] {
            assert_eq!(
                AttestRequest::url(api),
                "https://api.trustauthority.intel.com/appraisal/v1/attest"
            );
        }
        let request = AttestRequest::new(b"q");
        assert_eq!(
            request.headers("secret"),
            [
                ("x-api-key", "secret"),
                ("accept", "application/json"),
                ("content-type", "application/json"),
            ]
        );
        assert!(!format!("{request:?}").contains("quote"));
    }

    #[test]
    fn an_answer_with_a_token_is_held_with_its_expiry() {
        let jwt = token(&format!(r#"{{"exp":{EXP},"iat":1}}"#));
        let held = parse_attest_answer(&answer(&jwt)).unwrap();
        assert_eq!(held.token(), jwt);
        assert_eq!(held.expires_at(), UnixTime(EXP));
        assert!(!format!("{held:?}").contains(&jwt));
        assert_eq!(held.into_token(), jwt);
        // Fields ITA may add are ignored.
        let more = format!(r#"{{"token":"{jwt}","other":[1,2]}}"#);
        assert!(parse_attest_answer(more.as_bytes()).is_ok());
    }

    #[test]
    fn answers_without_a_readable_token_are_refused_with_the_failed_check() {
        assert_eq!(
            parse_attest_answer(br#"{"error":"quota"}"#),
            Err(AttestAnswerError::NoToken)
        );
        assert_eq!(
            parse_attest_answer(br#"{"token":null}"#),
            Err(AttestAnswerError::NoToken)
        );
        for malformed in [
            &b"not json"[..],
            b"",
            b"<html>502</html>",
            br#"{"token":5}"#,
            br#"{"token":"a","token":"b"}"#,
            br#""a token""#,
        ] {
            assert!(
                matches!(
                    parse_attest_answer(malformed),
                    Err(AttestAnswerError::Malformed(_))
                ),
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
        assert_eq!(
            parse_attest_answer(&answer(&token(r#"{"iat":1}"#))),
            Err(AttestAnswerError::Expiry(Error::MissingClaim("exp")))
        );
        assert!(matches!(
            parse_attest_answer(&answer("not.a.jwt")),
            Err(AttestAnswerError::Expiry(_))
        ));
    }

    #[test]
    fn an_answer_over_the_limit_is_refused_before_it_is_parsed() {
        let jwt = token(&format!(r#"{{"exp":{EXP}}}"#));
        let mut exactly = answer(&jwt);
        let padding = MAX_ATTEST_ANSWER_LEN - exactly.len();
        exactly.splice(1..1, std::iter::repeat_n(b' ', padding));
        assert_eq!(exactly.len(), MAX_ATTEST_ANSWER_LEN);
        assert!(parse_attest_answer(&exactly).is_ok());
        exactly.insert(1, b' ');
        assert_eq!(
            parse_attest_answer(&exactly),
            Err(AttestAnswerError::TooLarge {
                len: MAX_ATTEST_ANSWER_LEN + 1,
                max: MAX_ATTEST_ANSWER_LEN
            })
        );
    }

    #[test]
    fn a_token_is_fresh_until_the_margin_before_its_expiry() {
        let held = HeldToken::new(token(&format!(r#"{{"exp":{EXP}}}"#))).unwrap();
        let margin = DEFAULT_RENEWAL_MARGIN.as_secs();
        assert_eq!(margin, 30);
        assert!(held.fresh_at(UnixTime(0)));
        assert!(held.fresh_at(UnixTime(EXP - margin - 1)));
        assert!(!held.fresh_at(UnixTime(EXP - margin)));
        assert!(!held.fresh_at(UnixTime(EXP)));
        assert!(!held.fresh_at(UnixTime(u64::MAX)));

        let longer = held.clone().renewal_margin(Duration::from_secs(600));
        assert!(longer.fresh_at(UnixTime(EXP - 601)));
        assert!(!longer.fresh_at(UnixTime(EXP - 600)));
        let none = held.renewal_margin(Duration::ZERO);
        assert!(none.fresh_at(UnixTime(EXP - 1)));
        assert!(!none.fresh_at(UnixTime(EXP)));
    }
}
