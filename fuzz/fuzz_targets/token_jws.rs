#![no_main]
//! JWS compact parsing, key selection, signature and claims paths, and JWKS parsing.
//! The committed seeds are signed by the simulated issuer below, so they reach the claims.

use std::sync::OnceLock;

use attested_token::UnixTime;
use attested_token::ita::{ItaClaims, ItaVerifier};
use attested_token::jwt::{Jwks, token_kid};
use attested_token::sim::SimIssuer;
use libfuzzer_sys::fuzz_target;

fn verifier() -> Option<&'static ItaVerifier> {
    static VERIFIER: OnceLock<Option<ItaVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let sim = SimIssuer::new([0x5e; 32]).ok()?;
            let jwks = Jwks::from_json(sim.jwks_json().as_bytes()).ok()?;
            Some(ItaVerifier::new(&jwks, &sim.roots()))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let _ = Jwks::from_json(data);
    let _ = ItaClaims::from_payload(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = token_kid(text);
    if let Some(verifier) = verifier() {
        let _ = verifier.verify(text, UnixTime(1_750_000_100));
    }
});
