//! No input makes the parser panic: every layout from the simulated platform, truncated at
//! every length and with every header and descriptor byte changed. Needs no outside data.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
use attested_tdx::{ParseError, Quote};

const FORMATS: [QuoteFormat; 4] = [
    QuoteFormat::V4,
    QuoteFormat::V5Td10,
    QuoteFormat::V5Td15,
    QuoteFormat::V5Td15Ext,
];

fn quotes() -> Vec<Vec<u8>> {
    let platform = SimPlatform::from_seed(b"robustness", 1_750_000_000).unwrap();
    FORMATS
        .iter()
        .map(|format| {
            platform.quote(&QuoteSpec {
                report_data: [9; 64],
                ..platform.quote_spec(*format)
            })
        })
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn simulated_quotes_round_trip() {
    for (bytes, body_type) in quotes().iter().zip([2, 2, 3, 4]) {
        let quote = Quote::parse(bytes).unwrap();
        assert_eq!(quote.report().body_type(), body_type);
        assert_eq!(quote.report().report_data(), &[9; 64]);
    }
}

#[test]
fn truncation_at_every_length_is_an_error() {
    for (bytes, format) in quotes().iter().zip(FORMATS) {
        common::assert_truncation_is_an_error(&format!("{format:?}"), bytes);
    }
}

#[test]
fn every_header_and_descriptor_byte_change_is_handled() {
    for (bytes, format) in quotes().iter().zip(FORMATS) {
        common::assert_header_changes_are_handled(&format!("{format:?}"), bytes);
    }
}

#[test]
fn length_fields_that_lie_are_refused_by_name() {
    let bytes = &quotes()[0];
    // The signature data length at 632 (v4), one byte too long and one too short.
    let declared = u32::from_le_bytes(bytes[632..636].try_into().unwrap());
    let mut longer = bytes.clone();
    longer[632..636].copy_from_slice(&(declared + 1).to_le_bytes());
    assert!(matches!(
        Quote::parse(&longer),
        Err(ParseError::Truncated {
            field: "signature data",
            offset: 636,
            ..
        })
    ));
    let mut shorter = bytes.clone();
    shorter[632..636].copy_from_slice(&(declared - 1).to_le_bytes());
    assert!(Quote::parse(&shorter).is_err());

    // The outer certification data type at 636 + 128 must be 6.
    let mut other_type = bytes.clone();
    other_type[764] = 5;
    assert_eq!(
        Quote::parse(&other_type).unwrap_err(),
        ParseError::UnexpectedCertificationType {
            offset: 764,
            found: 5,
            expected: 6
        }
    );
}

#[test]
fn a_v5_descriptor_must_match_its_body_type() {
    let bytes = &quotes()[2]; // v5, TD 1.5
    let mut wrong_size = bytes.clone();
    wrong_size[50..54].copy_from_slice(&584u32.to_le_bytes());
    assert_eq!(
        Quote::parse(&wrong_size).unwrap_err(),
        ParseError::BodySizeMismatch {
            body_type: 3,
            declared: 584,
            expected: 648
        }
    );
    let mut unknown = bytes.clone();
    unknown[48] = 1;
    assert_eq!(
        Quote::parse(&unknown).unwrap_err(),
        ParseError::UnsupportedBodyType { body_type: 1 }
    );
}

#[test]
fn garbage_in_the_pck_chain_is_reported_lazily() {
    let bytes = quotes().remove(0);
    let quote = Quote::parse(&bytes).unwrap();
    let chain = quote.signature().certification().pck_cert_chain().unwrap();
    assert_eq!(chain.der_certificates().unwrap().len(), 3);
    // Corrupt one base64 character of the leaf: the quote still parses, the DER does not.
    let pem_offset = bytes.len() - quote.trailing_padding() - chain.pem().len();
    let mut corrupted = bytes.clone();
    corrupted[pem_offset + 40] = b'!';
    let quote = Quote::parse(&corrupted).unwrap();
    let chain = quote.signature().certification().pck_cert_chain().unwrap();
    assert!(matches!(
        chain.der_certificates(),
        Err(ParseError::InvalidPckChain { .. })
    ));
}
