#![no_main]
//! NRAS bundle parsing: the outer JSON, digests, the GPU set and each token. The committed
//! seeds are signed by the simulated issuer below.

use std::sync::OnceLock;

use attested_token::UnixTime;
use attested_token::jwt::Jwks;
use attested_token::nras::{NrasPolicy, NrasVerifier};
use attested_token::sim::SimIssuer;
use libfuzzer_sys::fuzz_target;

fn verifier() -> Option<&'static NrasVerifier> {
    static VERIFIER: OnceLock<Option<NrasVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let sim = SimIssuer::new([0x5e; 32]).ok()?;
            let jwks = Jwks::from_json(sim.jwks_json().as_bytes()).ok()?;
            Some(NrasVerifier::new(&jwks, &sim.roots()))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(verifier) = verifier() else { return };
    if let Ok(result) = verifier.verify(data, UnixTime(1_750_000_100)) {
        let _ = NrasPolicy::new().expect_gpu_count(1).appraise(&result);
    }
});
