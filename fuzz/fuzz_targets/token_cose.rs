#![no_main]
//! COSE_Sign1 and Nitro document (CBOR) parsing, chain building and appraisal. The committed
//! seeds are signed by the simulated issuer below; real documents come from the test data.

use std::sync::OnceLock;

use attested_token::{Limits, UnixTime};
use attested_token::nitro::{CoseSign1, NitroDocument, NitroPolicy, NitroVerifier};
use attested_token::sim::SimIssuer;
use attested_token::x509::TrustRoots;
use libfuzzer_sys::fuzz_target;

fn verifier() -> Option<&'static NitroVerifier> {
    static VERIFIER: OnceLock<Option<NitroVerifier>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| {
            let sim = SimIssuer::new([0x5e; 32]).ok()?;
            Some(NitroVerifier::new(&sim.roots().merged(&TrustRoots::aws_nitro())).max_age(None))
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
    if let Some(verifier) = verifier() {
        let _ = verifier.verify(data, UnixTime(1_750_000_100));
    }
});
