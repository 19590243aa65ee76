//! Every single-bit flip in the signed parts of a real quote is rejected: QE report, QE report
//! signature, quote signature and attestation key exhaustively, and 2,048 bits spread evenly
//! over the signed body (header and TD report).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_tdx::{Collateral, Quote, TrustAnchor, UnixTime, Verifier, VerifyError};

struct Fixture {
    quote: Vec<u8>,
    collateral: Collateral,
    now: UnixTime,
}

fn fixture() -> Option<Fixture> {
    let quote = attested_testdata::read("tdx/dcap-qvl/tdx_quote")?;
    let json = attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json")?;
    Some(Fixture {
        quote,
        collateral: Collateral::from_qvl_json(&json).unwrap(),
        now: UnixTime::parse_rfc3339("2025-07-01T00:00:00Z").unwrap(),
    })
}

/// Offsets (in the quote) of the signature data parts, found from the parsed quote itself.
struct Layout {
    signed: std::ops::Range<usize>,
    quote_signature: std::ops::Range<usize>,
    attestation_key: std::ops::Range<usize>,
    qe_report: std::ops::Range<usize>,
    qe_report_signature: std::ops::Range<usize>,
}

fn offset_of(whole: &[u8], part: &[u8]) -> std::ops::Range<usize> {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    start..start + part.len()
}

fn layout(bytes: &[u8]) -> Layout {
    let quote = Quote::parse(bytes).unwrap();
    let signature = quote.signature();
    Layout {
        signed: offset_of(bytes, quote.signed_bytes()),
        quote_signature: offset_of(bytes, signature.quote_signature()),
        attestation_key: offset_of(bytes, signature.attestation_key()),
        qe_report: offset_of(bytes, signature.qe_report().as_bytes()),
        qe_report_signature: offset_of(bytes, signature.qe_report_signature()),
    }
}

/// Verifies `bytes` with one bit flipped; returns the error (panics if it verified).
fn flipped(verifier: &Verifier, fixture: &Fixture, bit: usize) -> VerifyError {
    let mut bytes = fixture.quote.clone();
    bytes[bit / 8] ^= 1 << (bit % 8);
    match verifier.verify_bytes(&bytes, &fixture.collateral, fixture.now) {
        Ok(_) => panic!(
            "bit {bit} (byte {}) flipped and the quote still verified",
            bit / 8
        ),
        Err(e) => e,
    }
}

fn every_bit(range: &std::ops::Range<usize>) -> std::ops::Range<usize> {
    range.start * 8..range.end * 8
}

#[test]
fn every_bit_flip_in_the_signature_data_is_rejected() {
    let Some(fixture) = fixture() else { return };
    let layout = layout(&fixture.quote);
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    verifier
        .verify_bytes(&fixture.quote, &fixture.collateral, fixture.now)
        .unwrap();
    let mut count = 0;
    for range in [
        &layout.qe_report,
        &layout.qe_report_signature,
        &layout.quote_signature,
        &layout.attestation_key,
    ] {
        for bit in every_bit(range) {
            flipped(&verifier, &fixture, bit);
            count += 1;
        }
    }
    assert_eq!(count, (384 + 64 + 64 + 64) * 8);
}

#[test]
fn sampled_bit_flips_in_the_signed_body_are_rejected() {
    let Some(fixture) = fixture() else { return };
    let layout = layout(&fixture.quote);
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    let bits = every_bit(&layout.signed);
    // A non-integer stride (about 2.5 bits) lands on every bit position within a byte.
    let sampled: Vec<usize> = (0..2048)
        .map(|i| bits.start + i * bits.len() / 2048)
        .collect();
    assert!((0..8).all(|position| sampled.iter().any(|bit| bit % 8 == position)));
    for bit in sampled {
        flipped(&verifier, &fixture, bit);
    }
}

#[test]
fn flips_are_reported_against_the_right_signature() {
    use attested_tdx::error::Item;
    let Some(fixture) = fixture() else { return };
    let layout = layout(&fixture.quote);
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    // A TD report field (MRTD byte 0, far from any length or type field).
    let mr_td = layout.signed.start + 48 + 16 + 48 + 48 + 8 + 8 + 8;
    assert_eq!(
        flipped(&verifier, &fixture, mr_td * 8),
        VerifyError::BadSignature {
            item: Item::QuoteBody
        }
    );
    assert_eq!(
        flipped(&verifier, &fixture, layout.qe_report.start * 8 + 3),
        VerifyError::BadSignature {
            item: Item::QeReport
        }
    );
    assert!(matches!(
        flipped(&verifier, &fixture, layout.attestation_key.start * 8),
        VerifyError::QeBinding(_)
    ));
}
