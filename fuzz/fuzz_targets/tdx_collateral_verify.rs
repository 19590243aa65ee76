//! Collateral parsing and full verification with the time taken from the input.
//!
//! Input: `now` (u64 LE) || flags (bit 0: trust the simulated root instead of Intel's) ||
//! quote length (u16 LE) || quote || collateral (JSON, either form: dcap-qvl
//! `QuoteCollateralV3` or a PCS collateral bundle). Parsing and verification must return, never
//! panic; both JSON forms must round-trip; a warm verifier (collateral cached) and a hot one (the
//! quote's platform seen before, at the seed corpus's time) must agree with a cold one at `now`;
//! with every signature accepted (`Backend::InsecureAcceptAll`) the input's TCB Info and QE
//! Identity are parsed and assessed even when mutations broke their signatures.
#![no_main]

use std::sync::OnceLock;

use attested_tdx::sim::SimPlatform;
use attested_tdx::{Backend, Collateral, Quote, TrustAnchor, UnixTime, Verifier};
use libfuzzer_sys::fuzz_target;

/// The seed corpus's simulated platform (seed "fuzz", now 1_750_000_000).
fn sim_root() -> &'static TrustAnchor {
    static ROOT: OnceLock<TrustAnchor> = OnceLock::new();
    ROOT.get_or_init(|| {
        let platform = SimPlatform::from_seed(b"fuzz", 1_750_000_000).expect("simulated platform");
        TrustAnchor::from_der(platform.root_certificate_der()).expect("simulated root")
    })
}

/// The time at which the seed corpus's quotes verify.
const SEED_NOW: UnixTime = UnixTime(1_750_000_000);

fn anchor_for(flags: u8) -> TrustAnchor {
    if flags & 1 == 1 { sim_root().clone() } else { TrustAnchor::intel_sgx_root() }
}

fuzz_target!(|data: &[u8]| {
    let Some((now, rest)) = data.split_first_chunk::<8>() else { return };
    let Some((flags, rest)) = rest.split_first() else { return };
    let Some((len, rest)) = rest.split_first_chunk::<2>() else { return };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (quote, collateral) = rest.split_at(len);
    let now = UnixTime(u64::from_le_bytes(*now));
    let anchor = anchor_for(*flags);

    let Ok(collateral) = Collateral::from_json(collateral) else { return };
    let _ = Collateral::from_qvl_json(collateral.to_qvl_json().as_bytes()).map(|again| {
        assert_eq!(again.digest(), collateral.digest(), "QuoteCollateralV3 round trip");
    });
    let _ = Collateral::from_json(collateral.to_pcs_bundle_json().as_bytes()).map(|again| {
        assert_eq!(again.digest(), collateral.digest(), "PCS bundle round trip");
    });
    let warm = Verifier::new(anchor.clone());
    let _ = warm.verify_collateral(&collateral, now);
    let Ok(quote) = Quote::parse_allowing_trailing_data(quote) else { return };
    let first = warm.verify(&quote, &collateral, now).map(|v| v.verdict().clone());
    let again = warm.verify(&quote, &collateral, now).map(|v| v.verdict().clone());
    let cold = Verifier::new(anchor).verify(&quote, &collateral, now).map(|v| v.verdict().clone());
    assert_eq!(first, again, "warm verification changed its verdict");
    assert_eq!(first, cold, "warm and cold verification disagree");
    // Hot: the platform's PCK leaf and QE report were checked at the corpus time, where the
    // seed quotes verify; at the input's `now` only validity and revocation may differ.
    let hot = Verifier::new(anchor_for(*flags));
    let _ = hot.verify(&quote, &collateral, SEED_NOW);
    let hot = hot.verify(&quote, &collateral, now).map(|v| v.verdict().clone());
    assert_eq!(hot, cold, "hot and cold verification disagree");
    // Past the signatures: with every signature accepted (mutated TCB Info and QE Identity
    // bodies no longer stop at their signature), parsing and the TCB assessment run on whatever
    // the input holds. Skipping signatures may only turn refusals into verdicts: what verifies
    // with real signatures gets the same verdict.
    let unsigned = Verifier::with_backend(anchor_for(*flags), Backend::InsecureAcceptAll)
        .verify(&quote, &collateral, now)
        .map(|v| v.verdict().clone());
    if let Ok(verdict) = &cold {
        assert_eq!(unsigned.as_ref(), Ok(verdict), "skipping signatures changed a verdict");
    }
});
