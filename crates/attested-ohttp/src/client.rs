//! The client side: key lists that appraised evidence binds ([`VerifiedKeyConfigs`]), the
//! suite preference, and requests encapsulated to those keys only.

pub use crate::attest::VerifiedKeyConfigs;
pub use crate::suite::Preference;

use hpke::rand_core::CryptoRng;
use zeroize::Zeroizing;

use attested_types::{Accepted, Appraiser, Evidence, UnixTime};

use crate::error::{Error, Result};
use crate::hpke_dispatch::{self, Ephemeral, SenderSetup};
use crate::key_config::KeyConfig;
use crate::response::ResponseAead;
use crate::suite::Suite;
use crate::{LABEL_REQUEST, LABEL_RESPONSE};

/// An OHTTP client bound to one attested key configuration and its best mutual suite.
#[derive(Debug, Clone)]
pub struct Client {
    config: KeyConfig,
    suite: Suite,
}

impl Client {
    /// A client for the key configuration list `encoded_list`, refused unless `accepted`
    /// (evidence an appraiser verified and appraised) binds exactly this list.
    pub fn new(encoded_list: &[u8], accepted: &Accepted) -> Result<Self> {
        Self::from_verified(
            &VerifiedKeyConfigs::from_accepted(encoded_list, accepted)?,
            &Preference::default(),
        )
    }

    /// A client for `encoded_list`, refused unless `appraiser` accepts the gateway's
    /// `evidence` at `now` and it binds exactly this list. Returns the accepted evidence too.
    pub fn appraise(
        encoded_list: &[u8],
        evidence: &Evidence<'_>,
        appraiser: &(impl Appraiser + ?Sized),
        now: UnixTime,
    ) -> Result<(Self, Accepted)> {
        let (verified, accepted) =
            VerifiedKeyConfigs::appraise(encoded_list, evidence, appraiser, now)?;
        Ok((
            Self::from_verified(&verified, &Preference::default())?,
            accepted,
        ))
    }

    /// A client for the best suite that `verified` offers under `preference`.
    pub fn from_verified(verified: &VerifiedKeyConfigs, preference: &Preference) -> Result<Self> {
        let (config, suite) = verified
            .configs()
            .iter()
            .flat_map(|c| c.suites().map(move |s| (c, s)))
            .filter_map(|(c, s)| preference.score(s).map(|rank| (rank, c, s)))
            .min_by_key(|(rank, _, _)| *rank)
            .map(|(_, c, s)| (c.clone(), s))
            .ok_or(Error::NoSupportedSuite)?;
        Ok(Self { config, suite })
    }

    /// The chosen key configuration.
    pub fn key_config(&self) -> &KeyConfig {
        &self.config
    }

    /// The chosen suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Encapsulates a binary HTTP request (RFC 9458 §4.3). Returns the encapsulated request
    /// and the state that opens the response.
    pub fn encapsulate(
        &self,
        request: &[u8],
        rng: &mut (impl CryptoRng + ?Sized),
    ) -> Result<(Vec<u8>, PendingResponse)> {
        self.encapsulate_with(request, Ephemeral::Rng(rng))
    }

    /// Like [`encapsulate`](Self::encapsulate), with a fixed X25519 ephemeral secret. Only for
    /// reproducing published test vectors: a fixed ephemeral key breaks confidentiality.
    #[cfg(feature = "test-vectors")]
    #[doc(hidden)]
    pub fn encapsulate_with_fixed_ephemeral(
        &self,
        request: &[u8],
        x25519_secret: &[u8; 32],
    ) -> Result<(Vec<u8>, PendingResponse)> {
        self.encapsulate_with(request, Ephemeral::<NoRng>::FixedX25519(x25519_secret))
    }

    pub(crate) fn start_request<R: CryptoRng + ?Sized>(
        &self,
        label: &[u8],
        ephemeral: Ephemeral<'_, R>,
    ) -> Result<(Vec<u8>, SenderSetup)> {
        start_request(&self.config, self.suite, label, ephemeral)
    }

    fn encapsulate_with<R: CryptoRng + ?Sized>(
        &self,
        request: &[u8],
        ephemeral: Ephemeral<'_, R>,
    ) -> Result<(Vec<u8>, PendingResponse)> {
        let (mut out, mut setup) =
            start_request(&self.config, self.suite, LABEL_REQUEST, ephemeral)?;
        let mut ct = Vec::with_capacity(request.len() + self.suite.aead.tag_len());
        ct.extend_from_slice(request);
        setup.context.seal_in_place(&mut ct, b"")?;
        out.extend_from_slice(&ct);
        let secret = export_response_secret(&*setup.context, self.suite, LABEL_RESPONSE)?;
        Ok((
            out,
            PendingResponse {
                suite: self.suite,
                enc: setup.enc,
                secret,
            },
        ))
    }
}

/// The state a client keeps to open the response to one request.
pub struct PendingResponse {
    suite: Suite,
    enc: Vec<u8>,
    secret: Zeroizing<Vec<u8>>,
}

impl core::fmt::Debug for PendingResponse {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("PendingResponse")
            .field("suite", &self.suite)
            .finish_non_exhaustive()
    }
}

impl PendingResponse {
    /// Opens an encapsulated response (RFC 9458 §4.4).
    pub fn decapsulate(self, encapsulated: &[u8]) -> Result<Vec<u8>> {
        let nonce_len = self.suite.response_nonce_len();
        if encapsulated.len() < nonce_len + self.suite.aead.tag_len() {
            return Err(Error::Truncated {
                what: "encapsulated response",
            });
        }
        let (nonce, ct) = encapsulated.split_at(nonce_len);
        let mut aead = ResponseAead::new(self.suite, &self.secret, &self.enc, nonce)?;
        let mut buf = ct.to_vec();
        aead.open_in_place(&mut buf, 0, b"", "encapsulated response")?;
        Ok(buf)
    }

    pub(crate) fn into_parts(self) -> (Suite, Vec<u8>, Zeroizing<Vec<u8>>) {
        (self.suite, self.enc, self.secret)
    }
}

/// The request header (RFC 9458 §4.1): key id, KEM, KDF and AEAD identifiers.
pub(crate) fn request_header(key_id: u8, suite: Suite) -> [u8; 7] {
    let [k0, k1] = suite.kem.id().to_be_bytes();
    let [d0, d1] = suite.kdf.id().to_be_bytes();
    let [a0, a1] = suite.aead.id().to_be_bytes();
    [key_id, k0, k1, d0, d1, a0, a1]
}

/// `info = label || 0x00 || header`.
pub(crate) fn request_info(label: &[u8], header: &[u8; 7]) -> Vec<u8> {
    let mut info = Vec::with_capacity(label.len() + 1 + header.len());
    info.extend_from_slice(label);
    info.push(0);
    info.extend_from_slice(header);
    info
}

fn start_request<R: CryptoRng + ?Sized>(
    config: &KeyConfig,
    suite: Suite,
    label: &[u8],
    ephemeral: Ephemeral<'_, R>,
) -> Result<(Vec<u8>, SenderSetup)> {
    let header = request_header(config.key_id(), suite);
    let info = request_info(label, &header);
    let setup = hpke_dispatch::setup_sender(suite, config.public_key(), &info, ephemeral)?;
    let mut out = Vec::with_capacity(header.len() + setup.enc.len());
    out.extend_from_slice(&header);
    out.extend_from_slice(&setup.enc);
    Ok((out, setup))
}

pub(crate) fn export_response_secret(
    context: &dyn hpke_dispatch::SenderContext,
    suite: Suite,
    label: &[u8],
) -> Result<Zeroizing<Vec<u8>>> {
    let mut secret = Zeroizing::new(vec![0u8; suite.response_nonce_len()]);
    context.export(label, &mut secret)?;
    Ok(secret)
}

/// A type that stands for "no RNG" where the ephemeral key is fixed.
#[cfg(feature = "test-vectors")]
pub(crate) enum NoRng {}

#[cfg(feature = "test-vectors")]
impl hpke::rand_core::TryRng for NoRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> core::result::Result<u32, Self::Error> {
        match *self {}
    }
    fn try_next_u64(&mut self) -> core::result::Result<u64, Self::Error> {
        match *self {}
    }
    fn try_fill_bytes(&mut self, _: &mut [u8]) -> core::result::Result<(), Self::Error> {
        match *self {}
    }
}

#[cfg(feature = "test-vectors")]
impl hpke::rand_core::TryCryptoRng for NoRng {}

/// Whether an outer response is RFC 9458 §5.3's key problem: `400` with an
/// `application/problem+json` body of type [`PROBLEM_TYPE_OHTTP_KEY`]. The gateway no longer
/// (or does not yet) hold the key configuration the request used, as after a rotation: fetch
/// the key configuration and the evidence binding it again, and retry once. Media type
/// parameters and case are ignored; any other answer is not the key problem.
///
/// [`PROBLEM_TYPE_OHTTP_KEY`]: crate::gateway::PROBLEM_TYPE_OHTTP_KEY
pub fn is_key_problem(status: u16, content_type: Option<&str>, body: &[u8]) -> bool {
    is_problem(
        status,
        content_type,
        body,
        crate::gateway::PROBLEM_TYPE_OHTTP_KEY,
    )
}

/// RFC 9458 §6.5.2: when the decapsulated inner `response` is the gateway's date problem
/// (`400`, `application/problem+json` of type [`PROBLEM_TYPE_DATE`]), the gateway's time
/// from its one `Date` field. The request's `Date` was outside the gateway's window (the
/// client's clock is off): retry once, freshly encapsulated (a new HPKE context, as §6.5.2
/// requires), with the request dated at this time. `None` for any other response, and for a
/// date problem without exactly one valid HTTP date.
///
/// [`PROBLEM_TYPE_DATE`]: crate::gateway::PROBLEM_TYPE_DATE
pub fn date_problem(response: &bhttp::Message) -> Option<UnixTime> {
    let fields = response.header().fields();
    let named = |name: &'static [u8]| {
        let mut values = fields
            .iter()
            .filter(move |f| f.name().eq_ignore_ascii_case(name))
            .map(bhttp::Field::value);
        match (values.next(), values.next()) {
            (Some(value), None) => core::str::from_utf8(value).ok(),
            _ => None,
        }
    };
    let status = response.control().status().map(|s| s.code())?;
    if !is_problem(
        status,
        named(b"content-type"),
        response.content(),
        crate::gateway::PROBLEM_TYPE_DATE,
    ) {
        return None;
    }
    crate::message::parse_http_date(named(b"date")?.as_bytes())
}

/// Whether an answer is a `400` RFC 9457 problem of type `wanted` (media type parameters
/// and case ignored).
fn is_problem(status: u16, content_type: Option<&str>, body: &[u8], wanted: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Problem<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    let media_type = content_type
        .and_then(|value| value.split(';').next())
        .map(str::trim);
    status == 400
        && media_type.is_some_and(|t| t.eq_ignore_ascii_case(crate::gateway::MEDIA_TYPE_PROBLEM))
        && serde_json::from_slice::<Problem<'_>>(body)
            .is_ok_and(|problem| problem.kind.as_deref() == Some(wanted))
}

#[cfg(test)]
mod key_problem_tests {
    use super::is_key_problem;
    use crate::gateway::{MEDIA_TYPE_PROBLEM, OuterResponse};

    #[test]
    fn the_gateways_key_problem_is_recognized_and_nothing_else() {
        let problem = OuterResponse::key_problem();
        let body = &problem.body[..];
        assert!(is_key_problem(problem.status, problem.content_type, body));
        assert!(is_key_problem(
            400,
            Some("Application/Problem+JSON; charset=utf-8"),
            body
        ));
        assert!(!is_key_problem(401, problem.content_type, body));
        assert!(!is_key_problem(400, Some("application/json"), body));
        assert!(!is_key_problem(400, None, body));
        let other = br#"{"type": "https://example.com/other"}"#;
        assert!(!is_key_problem(400, Some(MEDIA_TYPE_PROBLEM), other));
        assert!(!is_key_problem(400, Some(MEDIA_TYPE_PROBLEM), b"not json"));
        assert!(!is_key_problem(400, Some(MEDIA_TYPE_PROBLEM), b"{}"));
    }
}
