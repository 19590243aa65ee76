#![no_main]
//! COSE_Sign1 and Nitro document (CBOR) parsing, chain building and appraisal. The committed
//! seeds are signed by the simulated issuer below; real documents come from the test data. A
//! second verifier accepts every signature (`attested_types::signature::accept_all`), so that
//! mutated documents still reach the chain's structure checks, the time rules and the fields
//! behind the COSE signature.

use std::sync::OnceLock;

use attested_token::{Limits, UnixTime};
use attested_token::nitro::{CoseSign1, NitroDocument, NitroPolicy, NitroVerifier};
use attested_token::sim::SimIssuer;
use attested_token::x509::TrustRoots;
use attested_types::signature::accept_all;
use libfuzzer_sys::fuzz_target;

/// The verifier with real signatures, and one whose every signature is accepted.
fn verifiers() -> Option<&'static (NitroVerifier, NitroVerifier)> {
    static VERIFIERS: OnceLock<Option<(NitroVerifier, NitroVerifier)>> = OnceLock::new();
    VERIFIERS
        .get_or_init(|| {
            let sim = SimIssuer::new([0x5e; 32]).ok()?;
            let real = NitroVerifier::new(&sim.roots().merged(&TrustRoots::aws_nitro())).max_age(None);
            let accept_all = real.clone().algorithms(accept_all::ALL);
            Some((real, accept_all))
        })
        .as_ref()
}

fuzz_target!(|data: &[u8]| {
    if let Ok(cose) = CoseSign1::parse(data, Limits::default().document) {
        let _ = cose.to_be_signed();
        if let Ok(doc) = NitroDocument::from_payload(cose.payload()) {
            let _ = NitroPolicy::new().appraise(&doc);
        }
    }
    if let Some((real, accept_all)) = verifiers() {
        let _ = real.verify(data, UnixTime(1_750_000_100));
        let _ = accept_all.verify(data, UnixTime(1_750_000_100));
    }
});
