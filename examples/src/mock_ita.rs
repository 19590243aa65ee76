//! A mock of the Intel Trust Authority attestation API for tests and demos: it verifies the
//! quote it is sent (DCAP, against the trust anchor it was given, normally a simulated TDX
//! root) and answers with an ITA-shaped token from `attested-token`'s simulated issuer whose
//! claims (MRTD, RTMRs, REPORTDATA) come from that verified quote. **NOT Intel Trust
//! Authority**: its tokens verify only against the simulated issuer's root.
//!
//! - `POST /appraisal/v1/attest` (header `x-api-key`): `{"quote": base64, "runtime_data":
//!   base64?}` → `{"token": JWT}`
//! - `GET /certs`: the issuer's JWKS
//! - `GET /sim/root`: the issuer's root certificate (PEM)
//!
//! [`Misissue`] makes it issue the bad tokens that clients must refuse.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use attested_token::sim::{SimIssuer, SimTd};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest as _, Sha512};
use subtle::ConstantTimeEq as _;

use attested_tdx::TdxAppraiser;
use attested_types::UnixTime;

/// A deliberately bad token, for refusal tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Misissue {
    /// REPORTDATA is SHA-512 of another key rather than the quote's.
    ReportDataOfAnotherKey,
    /// Signed by another issuer's key, under the genuine issuer's kid.
    OtherSigner,
    /// Issued two hours ago, valid for one minute.
    Expired,
}

/// The mock's settings.
pub struct MockIta {
    issuer: SimIssuer,
    impostor: SimIssuer,
    api_key: String,
    ttl: Duration,
    misissue: Option<Misissue>,
    quote_check: OnceLock<TdxAppraiser>,
}

impl MockIta {
    /// A mock issuing tokens valid `ttl` to callers presenting `api_key`, its simulated issuer
    /// derived from `seed`. Quotes are refused until [`Self::trust_quotes_with`].
    pub fn new(
        seed: [u8; 32],
        api_key: &str,
        ttl: Duration,
    ) -> Result<Self, attested_token::Error> {
        let mut other = seed;
        other.iter_mut().for_each(|b| *b ^= 0xff);
        Ok(Self {
            issuer: SimIssuer::new(seed)?,
            impostor: SimIssuer::new(other)?,
            api_key: api_key.to_owned(),
            ttl,
            misissue: None,
            quote_check: OnceLock::new(),
        })
    }

    /// Issues `misissue` tokens from now on.
    #[must_use]
    pub fn misissuing(mut self, misissue: Misissue) -> Self {
        self.misissue = Some(misissue);
        self
    }

    /// Appraises the quotes it is sent with `check` (set once; later calls are ignored).
    pub fn trust_quotes_with(&self, check: TdxAppraiser) {
        let _ = self.quote_check.set(check);
    }

    /// The issuer's JWKS (its key with the x5c chain to the simulated root).
    pub fn jwks_json(&self) -> String {
        self.issuer.jwks_json()
    }

    /// The issuer's simulated root certificate (PEM).
    pub fn root_pem(&self) -> String {
        self.issuer.root_pem()
    }

    /// A token for `quote` at `now`, or why none is issued.
    pub fn token_for(
        &self,
        quote: &[u8],
        runtime_data: Option<&[u8]>,
        now: UnixTime,
    ) -> Result<String, String> {
        let check = self.quote_check.get().ok_or("no quote trust anchor yet")?;
        let verified = check
            .appraise_quote(quote, now)
            .map_err(|e| e.to_string())?;
        let measurement = |name: &str| -> [u8; 48] {
            verified
                .accepted()
                .measurements()
                .get(name)
                .and_then(|m| <[u8; 48]>::try_from(m.as_slice()).ok())
                .unwrap_or([0; 48])
        };
        let mut report_data = *verified.accepted().report_data().as_bytes();
        if self.misissue == Some(Misissue::ReportDataOfAnotherKey) {
            report_data = Sha512::digest([0x0e; 32]).into();
        }
        let td = SimTd {
            mrtd: measurement("mrtd"),
            rtmrs: [0, 1, 2, 3].map(|i| measurement(&format!("rtmr{i}"))),
            report_data,
            tcb_status: verified.tcb_status().to_string(),
            nonce: None,
        };
        let mut iat = now.as_secs();
        let mut ttl = self.ttl.as_secs();
        if self.misissue == Some(Misissue::Expired) {
            iat = iat.saturating_sub(7200);
            ttl = 60;
        }
        let mut claims = self.issuer.ita_claims(&td, iat, ttl);
        if let (Some(data), Some(map)) = (runtime_data, claims.as_object_mut()) {
            map.insert("attester_held_data".into(), BASE64.encode(data).into());
        }
        Ok(if self.misissue == Some(Misissue::OtherSigner) {
            self.impostor.sign_jwt_with_header(
                &serde_json::json!({"alg": "ES384", "kid": self.issuer.kid(), "typ": "JWT"}),
                &claims,
            )
        } else {
            self.issuer.sign_jwt(&claims)
        })
    }
}

/// The mock's routes.
pub fn router(mock: Arc<MockIta>) -> Router {
    Router::new()
        .route("/appraisal/v1/attest", post(attest))
        .route("/certs", get(certs))
        .route("/sim/root", get(root))
        .with_state(mock)
}

#[derive(serde::Deserialize)]
struct AttestRequest {
    quote: String,
    #[serde(default)]
    runtime_data: Option<String>,
}

async fn attest(
    State(mock): State<Arc<MockIta>>,
    headers: HeaderMap,
    Json(request): Json<AttestRequest>,
) -> Response {
    let key = headers
        .get("x-api-key")
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    if !bool::from(key.ct_eq(mock.api_key.as_bytes())) {
        return (StatusCode::UNAUTHORIZED, "bad x-api-key").into_response();
    }
    let decode = |text: &str| BASE64.decode(text).map_err(|_| "not base64".to_owned());
    let result = decode(&request.quote).and_then(|quote| {
        let runtime_data = request.runtime_data.as_deref().map(decode).transpose()?;
        mock.token_for(&quote, runtime_data.as_deref(), UnixTime::now())
    });
    match result {
        Ok(token) => Json(serde_json::json!({ "token": token })).into_response(),
        Err(why) => (StatusCode::BAD_REQUEST, why).into_response(),
    }
}

async fn certs(State(mock): State<Arc<MockIta>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        mock.jwks_json(),
    )
        .into_response()
}

async fn root(State(mock): State<Arc<MockIta>>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/x-pem-file")],
        mock.root_pem(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;
    use crate::tdx_evidence::sim_quote_source;
    use attested_tdx::tsm::QuoteSource;
    use attested_tdx::{Collateral, TrustAnchor, Verifier};
    use attested_token::AppraiserError;
    use attested_token::ita::{ItaAppraiser, ItaPolicy, ItaVerifier};
    use attested_token::jwt::{Jwks, KeySet};
    use attested_token::x509::TrustRoots;

    fn quote_check(source: &QuoteSource) -> TdxAppraiser {
        let platform = source.sim_platform().unwrap();
        TdxAppraiser::new(
            Verifier::new(
                TrustAnchor::from_pem(platform.root_certificate_pem().as_bytes()).unwrap(),
            ),
            Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap(),
            attested_tdx::Policy::any_workload(),
        )
    }

    fn token_appraiser(mock: &MockIta) -> ItaAppraiser {
        let jwks = Jwks::from_json(mock.jwks_json().as_bytes()).unwrap();
        let roots = TrustRoots::empty().with_pem(&mock.root_pem()).unwrap();
        ItaAppraiser::new(
            ItaVerifier::with_keys(KeySet::chained(&jwks, &roots)),
            ItaPolicy::any_workload(),
        )
    }

    #[test]
    fn the_token_carries_what_the_verified_quote_says() {
        let source = sim_quote_source([0x11; 48], SystemTime::now()).unwrap();
        let mock = MockIta::new([1; 32], "key", Duration::from_secs(60)).unwrap();
        let quote = source.quote(&[0x42; 64]).unwrap();
        assert!(mock.token_for(&quote, None, UnixTime::now()).is_err());
        mock.trust_quotes_with(quote_check(&source));
        let token = mock.token_for(&quote, None, UnixTime::now()).unwrap();

        let (verified, _) = token_appraiser(&mock)
            .appraise_token(&token, UnixTime::now())
            .unwrap();
        assert_eq!(verified.report_data(), &[0x42; 64]);
        assert_eq!(verified.measurements()["mrtd"], vec![0x11; 48]);

        // Another issuer's keys do not verify it.
        let other = MockIta::new([2; 32], "key", Duration::from_secs(60)).unwrap();
        assert!(matches!(
            token_appraiser(&other).appraise_token(&token, UnixTime::now()),
            Err(AppraiserError::Verify(_))
        ));
    }

    #[test]
    fn quotes_of_another_platform_get_no_token() {
        let source = sim_quote_source([0x11; 48], SystemTime::now()).unwrap();
        let mock = MockIta::new([1; 32], "key", Duration::from_secs(60)).unwrap();
        mock.trust_quotes_with(quote_check(&source));
        let other =
            attested_tdx::sim::SimPlatform::from_seed(b"another platform", 1_790_000_000).unwrap();
        let quote = other
            .quote(&other.quote_spec(attested_tdx::sim::QuoteFormat::V4))
            .unwrap();
        let why = mock.token_for(&quote, None, UnixTime::now()).unwrap_err();
        assert!(why.contains("DCAP verification failed"), "{why}");
    }
}
