#![no_main]
//! JWS compact parsing, key selection, signature and claims paths, and JWKS parsing.
//! The committed seeds are signed by the simulated issuer below, so they reach the claims with
//! the real signature set; with the accept-all set (`attested_types::signature::accept_all`,
//! plugged into the same key set's constructor) every mutation of them does too: the time and
//! issuer checks and the ITA claims behind the signature.

use std::sync::OnceLock;

use attested_token::UnixTime;
use attested_token::ita::{ItaClaims, ItaVerifier};
use attested_token::jwt::{Jwks, KeySet, token_kid};
use attested_token::sim::SimIssuer;
use attested_token::x509::Crls;
use attested_types::signature::accept_all;
use libfuzzer_sys::fuzz_target;

/// The verifier with real signatures, and one whose every signature is accepted.
fn verifiers() -> Option<&'static (ItaVerifier, ItaVerifier)> {
    static VERIFIERS: OnceLock<Option<(ItaVerifier, ItaVerifier)>> = OnceLock::new();
    VERIFIERS
        .get_or_init(|| {
            let sim = SimIssuer::new([0x5e; 32]).ok()?;
            let jwks = Jwks::from_json(sim.jwks_json().as_bytes()).ok()?;
            let real = ItaVerifier::new(&jwks, &sim.roots());
            let keys =
                KeySet::chained_with_algorithms(&jwks, &sim.roots(), &Crls::none(), accept_all::ALL);
            Some((real, ItaVerifier::with_keys(keys)))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let _ = Jwks::from_json(data);
    let _ = ItaClaims::from_payload(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = token_kid(text);
    if let Some((real, accept_all)) = verifiers() {
        let _ = real.verify(text, UnixTime(1_750_000_100));
        let _ = accept_all.verify(text, UnixTime(1_750_000_100));
    }
});
