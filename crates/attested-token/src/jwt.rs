//! JWS compact tokens: parsing, key sets (JWKS) with x5c chains, and the signature and time
//! checks every JWT-based kind shares.

use std::time::Duration;

use attested_types::UnixTime;
use attested_types::signature::Algorithms;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;

use crate::backend::{self, Backend, Curve, PublicKey, Scheme};
use crate::error::{Error, malformed};
use crate::limits::{self, Limits};
use crate::time::{TimeClaims, TimeRules};
use crate::x509::{Crls, MAX_CHAIN_LEN, ParsedCert, TrustRoots, VerifiedChain, verify_chain};

/// A JWS algorithm this crate verifies. Everything else is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Algorithm {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PSS with SHA-384 (ITA's choice).
    Ps384,
    /// ECDSA P-256 with SHA-256.
    Es256,
    /// ECDSA P-384 with SHA-384 (NRAS's choice).
    Es384,
}

impl Algorithm {
    /// Parses a JWS `alg`; `none` and HMAC are forbidden, anything else unknown is unsupported.
    pub fn parse(alg: &str) -> Result<Self, Error> {
        match alg {
            "RS256" => Ok(Algorithm::Rs256),
            "PS384" => Ok(Algorithm::Ps384),
            "ES256" => Ok(Algorithm::Es256),
            "ES384" => Ok(Algorithm::Es384),
            other
                if other.eq_ignore_ascii_case("none")
                    || other.to_ascii_uppercase().starts_with("HS") =>
            {
                Err(Error::ForbiddenAlgorithm(other.to_owned()))
            }
            other => Err(Error::UnsupportedAlgorithm(other.to_owned())),
        }
    }

    /// The JWS name.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Rs256 => "RS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
        }
    }

    /// The identifiers of the set's algorithm that checks it, and its signature encoding.
    fn scheme(self) -> Scheme {
        match self {
            Algorithm::Rs256 => Scheme::RS256,
            Algorithm::Ps384 => Scheme::PS384,
            Algorithm::Es256 => Scheme::ES256,
            Algorithm::Es384 => Scheme::ES384,
        }
    }

    /// Whether `key` is of the type and curve this algorithm needs.
    fn fits(self, key: &PublicKey) -> bool {
        self.scheme().fits(key)
    }
}

#[derive(Deserialize)]
struct RawHeader {
    alg: String,
    kid: Option<String>,
    crit: Option<Vec<String>>,
    // `jku`, `x5u`, `jwk` and `x5c` in a token header are ignored on purpose: keys come only
    // from the key set the caller pinned.
}

/// A parsed, not yet verified, JWS compact token.
#[derive(Debug, Clone)]
pub(crate) struct Jws<'a> {
    pub(crate) alg: Algorithm,
    pub(crate) kid: String,
    signing_input: &'a [u8],
    pub(crate) payload: Vec<u8>,
    signature: Vec<u8>,
}

fn b64url(what: &'static str, text: &str) -> Result<Vec<u8>, Error> {
    URL_SAFE_NO_PAD.decode(text).map_err(|e| malformed(what, e))
}

impl<'a> Jws<'a> {
    /// Splits and decodes a compact token. The algorithm is judged first, before the kid or
    /// anything else is looked at.
    pub(crate) fn parse(token: &'a str, max_len: usize) -> Result<Self, Error> {
        limits::check("token", token.len(), max_len)?;
        let mut parts = token.split('.');
        let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("token", "not three dot-separated parts"));
        };
        let header: RawHeader = serde_json::from_slice(&b64url("JWS header", header_b64)?)
            .map_err(|e| malformed("JWS header", e))?;
        let alg = Algorithm::parse(&header.alg)?;
        if let Some(crit) = header.crit {
            return Err(Error::CriticalHeader(crit));
        }
        let kid = header.kid.ok_or(Error::MissingKid)?;
        let signing_len = header_b64.len() + 1 + payload_b64.len();
        let signing_input = token
            .as_bytes()
            .get(..signing_len)
            .ok_or_else(|| malformed("token", "length"))?;
        Ok(Jws {
            alg,
            kid,
            signing_input,
            payload: b64url("JWS payload", payload_b64)?,
            signature: b64url("JWS signature", signature_b64)?,
        })
    }
}

#[derive(Deserialize)]
struct RawJwks {
    keys: Vec<RawJwk>,
}

#[derive(Deserialize)]
struct RawJwk {
    kty: String,
    kid: Option<String>,
    alg: Option<String>,
    #[serde(rename = "use")]
    use_: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
    y: Option<String>,
    x5c: Option<Vec<String>>,
}

/// One key of a JWKS, parsed but not yet trusted.
#[derive(Debug, Clone)]
struct Jwk {
    kid: Option<String>,
    alg: Option<String>,
    key: PublicKey,
    x5c: Vec<Vec<u8>>,
}

/// A JSON Web Key Set as received: parsed, size-checked, not yet trusted. Trust comes from
/// [`KeySet::chained`] (x5c chains to pinned roots) or the explicit
/// [`KeySet::unchained_trusting_transport`].
#[derive(Debug, Clone)]
pub struct Jwks {
    keys: Vec<Jwk>,
    skipped: Vec<SkippedKey>,
}

/// A JWKS member this crate cannot use, skipped (RFC 7517 §5) rather than failing the set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedKey {
    /// Its kid, if it had one.
    pub kid: Option<String>,
    /// Why it cannot be used.
    pub reason: Error,
}

impl Jwks {
    /// Parses a JWKS with the default size cap.
    pub fn from_json(bytes: &[u8]) -> Result<Self, Error> {
        Self::from_json_with_limit(bytes, Limits::default().jwks)
    }

    /// Parses a JWKS of at most `max_len` bytes. Keys that are not signature keys or of a type
    /// this crate does not verify (for example `OKP`) are skipped, and so are keys it cannot use
    /// (an RSA key under 2048 bits, a malformed coordinate, a line-wrapped `x5c`): RFC 7517 §5
    /// says to ignore such members rather than fail the set. Each skipped key is reported by
    /// [`Jwks::skipped`]. A document that is not a JWKS at all is an error.
    pub fn from_json_with_limit(bytes: &[u8], max_len: usize) -> Result<Self, Error> {
        limits::check("JWKS", bytes.len(), max_len)?;
        let raw: RawJwks = serde_json::from_slice(bytes).map_err(|e| malformed("JWKS", e))?;
        let mut keys = Vec::with_capacity(raw.keys.len());
        let mut skipped = Vec::new();
        for jwk in raw.keys {
            let kid = jwk.kid.clone();
            match Self::usable(jwk) {
                Ok(Some(key)) => keys.push(key),
                Ok(None) => {}
                Err(reason) => skipped.push(SkippedKey { kid, reason }),
            }
        }
        Ok(Jwks { keys, skipped })
    }

    /// One member: `Ok(None)` when it is not for us (not `sig`, another key type).
    fn usable(jwk: RawJwk) -> Result<Option<Jwk>, Error> {
        if jwk.use_.as_deref().is_some_and(|u| u != "sig") {
            return Ok(None);
        }
        let field = |value: &Option<String>, name: &'static str| -> Result<Vec<u8>, Error> {
            let text = value
                .as_deref()
                .ok_or_else(|| malformed("JWK", format!("no {name}")))?;
            b64url("JWK", text)
        };
        let key = match (jwk.kty.as_str(), jwk.crv.as_deref()) {
            ("RSA", _) => PublicKey::rsa(&field(&jwk.n, "n")?, &field(&jwk.e, "e")?)?,
            ("EC", Some("P-256")) => {
                PublicKey::ec(Curve::P256, &field(&jwk.x, "x")?, &field(&jwk.y, "y")?)?
            }
            ("EC", Some("P-384")) => {
                PublicKey::ec(Curve::P384, &field(&jwk.x, "x")?, &field(&jwk.y, "y")?)?
            }
            _ => return Ok(None),
        };
        let x5c = jwk
            .x5c
            .unwrap_or_default()
            .iter()
            .map(|cert| STANDARD.decode(cert).map_err(|e| malformed("JWK x5c", e)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(Jwk {
            kid: jwk.kid,
            alg: jwk.alg,
            key,
            x5c,
        }))
    }

    /// The keys that were skipped as unusable, with the reason of each.
    pub fn skipped(&self) -> &[SkippedKey] {
        &self.skipped
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key was usable.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Whether some key carries this kid.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }
}

/// A key with the verdict on its chain, reached once when the key set was built.
#[derive(Debug, Clone)]
struct TrustedKey {
    kid: Option<String>,
    alg: Option<String>,
    key: PublicKey,
    /// `Ok(None)`: unchained by explicit opt-in.
    chain: Result<Option<VerifiedChain>, Error>,
}

/// Keys ready for verification: every chain signature already checked, so that verifying a
/// token costs one signature plus time comparisons.
///
/// The key set holds the signature algorithms (the vocabulary's
/// [`Algorithms`]) that checked its chains and that check every token verified with it:
/// [`Backend::default`]'s unless built with another [`Backend`] or a caller's own set
/// ([`KeySet::chained_with_algorithms`]). A token's algorithm is looked up in the set by its
/// key's and signature's identifiers; a set without it refuses the token
/// ([`Error::AlgorithmNotInSet`]).
#[derive(Debug, Clone)]
pub struct KeySet {
    // Shared: a cache hands the same verified keys to many verifiers.
    keys: std::sync::Arc<[TrustedKey]>,
    algorithms: Algorithms,
}

impl KeySet {
    /// Keys whose x5c chain leads to one of `roots` and whose JWK equals the x5c leaf key. A key
    /// that fails is kept with its reason, which a token naming it gets as its error.
    pub fn chained(jwks: &Jwks, roots: &TrustRoots) -> Self {
        Self::chained_with_backend(jwks, roots, Backend::default())
    }

    /// As [`KeySet::chained`], with a chosen signature backend.
    pub fn chained_with_backend(jwks: &Jwks, roots: &TrustRoots, backend: Backend) -> Self {
        Self::chained_with_crls(jwks, roots, &Crls::none(), backend)
    }

    /// As [`KeySet::chained`], with every chain also checked against `crls` (see [`Crls`] for
    /// what that adds) and a chosen signature backend.
    pub fn chained_with_crls(
        jwks: &Jwks,
        roots: &TrustRoots,
        crls: &Crls,
        backend: Backend,
    ) -> Self {
        Self::chained_with_algorithms(jwks, roots, crls, backend.algorithms())
    }

    /// As [`KeySet::chained_with_crls`], with the caller's own signature algorithms (an HSM, a
    /// FIPS module): they check every certificate of the chains now and every token later.
    ///
    /// ```
    /// # #[cfg(feature = "sim")] fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use attested_token::jwt::{Jwks, JwtVerifier, KeySet};
    /// use attested_token::sim::{SimIssuer, SimTd};
    /// use attested_token::x509::Crls;
    /// use attested_token::{Backend, UnixTime};
    ///
    /// let issuer = SimIssuer::new([1; 32])?;
    /// let jwks = Jwks::from_json(issuer.jwks_json().as_bytes())?;
    /// let algorithms = Backend::default().algorithms(); // or the caller's own set
    /// let keys = KeySet::chained_with_algorithms(&jwks, &issuer.roots(), &Crls::none(), algorithms);
    /// let token = issuer.ita_token(&SimTd::default(), 1_750_000_000, 300);
    /// JwtVerifier::new(keys).verify(&token, UnixTime(1_750_000_001))?;
    /// # Ok(()) }
    /// # #[cfg(not(feature = "sim"))] fn main() {}
    /// ```
    pub fn chained_with_algorithms(
        jwks: &Jwks,
        roots: &TrustRoots,
        crls: &Crls,
        algorithms: Algorithms,
    ) -> Self {
        let keys = jwks
            .keys
            .iter()
            .map(|jwk| TrustedKey {
                kid: jwk.kid.clone(),
                alg: jwk.alg.clone(),
                key: jwk.key.clone(),
                chain: trust_chain(jwk, roots, crls, algorithms).map(Some),
            })
            .collect::<Vec<_>>()
            .into();
        KeySet { keys, algorithms }
    }

    /// **Explicit opt-in**: trusts every key of `jwks` without any chain, only because of how it
    /// was obtained (for example over TLS from the issuer's URL). Use only where the issuer
    /// publishes no chain to a root you can pin.
    pub fn unchained_trusting_transport(jwks: &Jwks) -> Self {
        Self::unchained_trusting_transport_with_backend(jwks, Backend::default())
    }

    /// As [`KeySet::unchained_trusting_transport`], with a chosen signature backend.
    pub fn unchained_trusting_transport_with_backend(jwks: &Jwks, backend: Backend) -> Self {
        Self::unchained_trusting_transport_with_algorithms(jwks, backend.algorithms())
    }

    /// As [`KeySet::unchained_trusting_transport`], with the caller's own signature algorithms.
    pub fn unchained_trusting_transport_with_algorithms(
        jwks: &Jwks,
        algorithms: Algorithms,
    ) -> Self {
        let keys = jwks
            .keys
            .iter()
            .map(|jwk| TrustedKey {
                kid: jwk.kid.clone(),
                alg: jwk.alg.clone(),
                key: jwk.key.clone(),
                chain: Ok(None),
            })
            .collect::<Vec<_>>()
            .into();
        KeySet { keys, algorithms }
    }

    /// How many keys are usable for verification (chained to a root, or unchained by opt-in).
    pub fn trusted_len(&self) -> usize {
        self.keys.iter().filter(|k| k.chain.is_ok()).count()
    }

    /// `Ok` when at least one key is usable; otherwise why not (the first key's chain error,
    /// or that the set is empty).
    pub(crate) fn any_trusted(&self) -> Result<(), Error> {
        if self.trusted_len() > 0 {
            return Ok(());
        }
        match self
            .keys
            .iter()
            .find_map(|k| k.chain.as_ref().err().map(|e| (k, e)))
        {
            Some((key, reason)) => Err(Error::UntrustedKey {
                kid: key.kid.clone().unwrap_or_default(),
                reason: Box::new(reason.clone()),
            }),
            None => Err(malformed("JWKS", "no usable key")),
        }
    }

    /// The signature algorithms that check this set's tokens (and checked its chains).
    pub fn algorithms(&self) -> Algorithms {
        self.algorithms
    }

    /// Whether a key with this kid is present.
    pub fn contains_kid(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid.as_deref() == Some(kid))
    }

    /// Chooses the key by kid and algorithm together: a JWK with an `alg` must name this one,
    /// a JWK without must be of the right type and curve.
    fn select(&self, kid: &str, alg: Algorithm) -> Result<&TrustedKey, Error> {
        let mut same_kid = self
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid))
            .peekable();
        if same_kid.peek().is_none() {
            return Err(Error::UnknownKey {
                kid: kid.to_owned(),
            });
        }
        same_kid
            .find(|k| k.alg.as_deref().is_none_or(|a| a == alg.name()) && alg.fits(&k.key))
            .ok_or_else(|| Error::KeyAlgorithmMismatch {
                kid: kid.to_owned(),
                alg: alg.name(),
            })
    }

    /// Verifies the signature of `jws` and the chain of its key at `now`.
    pub(crate) fn verify_signature(
        &self,
        jws: &Jws<'_>,
        now: u64,
        what: &str,
    ) -> Result<(), Error> {
        let key = self.select(&jws.kid, jws.alg)?;
        match &key.chain {
            Err(reason) => {
                return Err(Error::UntrustedKey {
                    kid: jws.kid.clone(),
                    reason: Box::new(reason.clone()),
                });
            }
            Ok(Some(chain)) => chain
                .check_time(now)
                .map_err(|reason| Error::UntrustedKey {
                    kid: jws.kid.clone(),
                    reason: Box::new(reason),
                })?,
            Ok(None) => {}
        }
        backend::verify(
            self.algorithms,
            jws.alg.scheme(),
            &key.key,
            jws.signing_input,
            &jws.signature,
            what,
        )
    }
}

fn trust_chain(
    jwk: &Jwk,
    roots: &TrustRoots,
    crls: &Crls,
    algorithms: Algorithms,
) -> Result<VerifiedChain, Error> {
    let kid = jwk.kid.clone().unwrap_or_default();
    if jwk.x5c.is_empty() {
        return Err(Error::MissingX5c { kid });
    }
    if jwk.x5c.len() > MAX_CHAIN_LEN {
        return Err(Error::ChainTooLong {
            len: jwk.x5c.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let certs = jwk
        .x5c
        .iter()
        .enumerate()
        .map(|(index, der)| ParsedCert::parse(der, index))
        .collect::<Result<Vec<_>, _>>()?;
    let chain = verify_chain(&certs, roots, crls, algorithms)?;
    if chain.leaf_key != jwk.key {
        return Err(Error::LeafKeyMismatch { kid });
    }
    Ok(chain)
}

/// A token whose signature, key chain, times and issuer verified; its payload is still bytes,
/// for the typed claims of each kind.
#[derive(Debug, Clone)]
pub struct VerifiedJwt {
    /// The algorithm that verified.
    pub alg: Algorithm,
    /// The kid of the key that verified.
    pub kid: String,
    /// The payload JSON.
    pub payload: Vec<u8>,
}

/// Verifies JWS compact tokens against a [`KeySet`]: algorithm, key, signature, chain times,
/// `exp`/`nbf`/`iat` and (when set) the issuer.
#[derive(Debug, Clone)]
pub struct JwtVerifier {
    keys: KeySet,
    time: TimeRules,
    issuer: Option<String>,
    limits: Limits,
}

impl JwtVerifier {
    /// A verifier over `keys` with default time rules and limits and no issuer check.
    pub fn new(keys: KeySet) -> Self {
        JwtVerifier {
            keys,
            time: TimeRules::default(),
            issuer: None,
            limits: Limits::default(),
        }
    }

    /// Requires this `iss`.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the allowed clock skew (default 60 s).
    pub fn skew(mut self, skew: Duration) -> Self {
        self.time.skew = skew;
        self
    }

    /// Refuses tokens whose `iat` is older than `max_age`.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.time.max_age = Some(max_age);
        self
    }

    /// Sets the size caps.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The key set.
    pub fn keys(&self) -> &KeySet {
        &self.keys
    }

    /// Verifies one token at `now`.
    pub fn verify(&self, token: &str, now: UnixTime) -> Result<VerifiedJwt, Error> {
        self.verify_named(token, now, "token")
    }

    pub(crate) fn verify_named(
        &self,
        token: &str,
        now: UnixTime,
        what: &str,
    ) -> Result<VerifiedJwt, Error> {
        let now = now.as_secs();
        let jws = Jws::parse(token, self.limits.token)?;
        self.keys.verify_signature(&jws, now, what)?;
        let times: TimeClaims =
            serde_json::from_slice(&jws.payload).map_err(|e| malformed("JWT claims", e))?;
        self.time.check(&times, now)?;
        if let Some(expected) = &self.issuer {
            let found = times.iss.unwrap_or_default();
            if &found != expected {
                return Err(Error::WrongIssuer {
                    expected: expected.clone(),
                    found,
                });
            }
        }
        Ok(VerifiedJwt {
            alg: jws.alg,
            kid: jws.kid,
            payload: jws.payload,
        })
    }
}

/// The kid a token names, after its algorithm passed (for choosing or refreshing a key set
/// before verification). Nothing of the token is trusted by this.
pub fn token_kid(token: &str) -> Result<String, Error> {
    Ok(Jws::parse(token, Limits::default().token)?.kid)
}

/// The `exp` a token states (seconds since the Unix epoch), read WITHOUT verifying anything:
/// only for a holder of its own token to know when to ask for a new one, never to decide
/// whether to trust it. The token is parsed as verification would parse it (at most
/// [`Limits::token`] bytes by default, three parts, an accepted algorithm and a kid) before its
/// payload is decoded.
pub fn unverified_expiry(token: &str) -> Result<u64, Error> {
    let jws = Jws::parse(token, Limits::default().token)?;
    let times: TimeClaims =
        serde_json::from_slice(&jws.payload).map_err(|e| malformed("JWT claims", e))?;
    Ok(times.exp.ok_or(Error::MissingClaim("exp"))?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_four_algorithms_are_accepted() {
        for ok in ["RS256", "PS384", "ES256", "ES384"] {
            assert_eq!(Algorithm::parse(ok).map(Algorithm::name), Ok(ok));
        }
        for forbidden in ["none", "None", "NONE", "HS256", "hs384", "HS512"] {
            assert_eq!(
                Algorithm::parse(forbidden),
                Err(Error::ForbiddenAlgorithm(forbidden.into()))
            );
        }
        for unsupported in ["RS384", "PS256", "ES512", "EdDSA", ""] {
            assert_eq!(
                Algorithm::parse(unsupported),
                Err(Error::UnsupportedAlgorithm(unsupported.into()))
            );
        }
    }

    #[test]
    fn unverified_expiry_reads_exp_of_a_bounded_well_formed_token_only() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES384","kid":"k"}"#);
        let claims = |json: &[u8]| URL_SAFE_NO_PAD.encode(json);
        let token = format!("{header}.{}.AA", claims(br#"{"exp":1750000300,"iat":1}"#));
        assert_eq!(unverified_expiry(&token), Ok(1_750_000_300));
        let no_exp = format!("{header}.{}.AA", claims(br#"{"iat":1}"#));
        assert_eq!(unverified_expiry(&no_exp), Err(Error::MissingClaim("exp")));
        let none = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","kid":"k"}"#);
        let forbidden = format!("{none}.{}.AA", claims(br#"{"exp":1}"#));
        assert!(matches!(
            unverified_expiry(&forbidden),
            Err(Error::ForbiddenAlgorithm(_))
        ));
        for bad in [
            format!("{header}.e30"),
            format!("{header}.{}.AA", claims(b"[1]")),
        ] {
            assert!(matches!(
                unverified_expiry(&bad),
                Err(Error::Malformed { .. })
            ));
        }
        let padding = "A".repeat(Limits::default().token);
        let huge = format!("{header}.{}.{padding}", claims(br#"{"exp":1}"#));
        assert!(matches!(
            unverified_expiry(&huge),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn compact_form_is_strict() {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"ES384","kid":"k"}"#);
        assert!(Jws::parse(&format!("{header}.e30.AA"), 1024).is_ok());
        for bad in [
            format!("{header}.e30"),
            format!("{header}.e30.AA.AA"),
            format!("{header}.e30=.AA"),
            format!("{header}.e30.A+"),
            format!("{header}x.e30.AA"),
        ] {
            assert!(
                matches!(Jws::parse(&bad, 1024), Err(Error::Malformed { .. })),
                "{bad}"
            );
        }
        assert!(matches!(
            Jws::parse(&format!("{header}.e30.AA"), 8),
            Err(Error::TooLarge { .. })
        ));
    }

    #[test]
    fn jwks_skips_foreign_keys_silently_and_unusable_ones_with_a_report() {
        let jwks = Jwks::from_json(br#"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"AA"},{"kty":"RSA","use":"enc","n":"AA","e":"AQAB"}]}"#)
            .unwrap();
        assert!(jwks.is_empty());
        assert!(jwks.skipped().is_empty());
        // An RSA-1024 key, a short EC coordinate and a line-wrapped x5c next to a usable key:
        // the usable key stays, the others are reported (RFC 7517 §5).
        let good = format!(
            r#"{{"kty":"RSA","kid":"good","n":"{}","e":"AQAB"}}"#,
            URL_SAFE_NO_PAD.encode([0xc1; 256])
        );
        let rsa1024 = format!(
            r#"{{"kty":"RSA","kid":"small","n":"{}","e":"AQAB"}}"#,
            URL_SAFE_NO_PAD.encode([0xc1; 128])
        );
        let wrapped = format!(
            r#"{{"kty":"RSA","kid":"wrapped","n":"{}","e":"AQAB","x5c":["MIIB\nAAAA"]}}"#,
            URL_SAFE_NO_PAD.encode([0xc1; 256])
        );
        let short_ec = r#"{"kty":"EC","kid":"ec","crv":"P-256","x":"AA","y":"AA"}"#;
        let json = format!(r#"{{"keys":[{rsa1024},{good},{wrapped},{short_ec}]}}"#);
        let jwks = Jwks::from_json(json.as_bytes()).unwrap();
        assert_eq!(jwks.len(), 1);
        assert!(jwks.contains_kid("good"));
        let skipped: Vec<_> = jwks.skipped().iter().map(|s| s.kid.as_deref()).collect();
        assert_eq!(skipped, [Some("small"), Some("wrapped"), Some("ec")]);
        assert!(
            jwks.skipped()
                .iter()
                .all(|s| matches!(s.reason, Error::Malformed { .. }))
        );
        assert!(Jwks::from_json(br#"{"keys":{}}"#).is_err());
    }
}
