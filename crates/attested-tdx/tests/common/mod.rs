//! Robustness checks shared by the real-quote and simulated-quote tests.

use attested_tdx::Quote;

/// Truncating a quote anywhere before its padding is an error whose offset lies inside the
/// truncated input; truncating inside the padding leaves a valid quote.
pub(crate) fn assert_truncation_is_an_error(name: &str, bytes: &[u8]) {
    let end = bytes.len() - Quote::parse(bytes).unwrap().trailing_padding();
    for len in 0..end {
        let err = Quote::parse(&bytes[..len])
            .map(|_| ())
            .expect_err(&format!("{name} truncated to {len} bytes parsed"));
        assert!(
            err.offset() <= len,
            "{name}: error offset {} past {len}",
            err.offset()
        );
    }
    for len in end..bytes.len() {
        assert_eq!(
            Quote::parse(&bytes[..len]).unwrap().trailing_padding(),
            len - end
        );
    }
}

/// Every value of every header and v5 descriptor byte parses or fails without a panic, and a
/// change to a field the parser interprets (version, key type, tee_type, descriptor) fails.
pub(crate) fn assert_header_changes_are_handled(name: &str, bytes: &[u8]) {
    let end = if bytes[0] == 5 { 54 } else { 48 };
    let mut copy = bytes.to_vec();
    for offset in 0..end {
        for value in 0..=255u8 {
            copy[offset] = value;
            let result = Quote::parse(&copy);
            if value != bytes[offset] && matches!(offset, 0..=7 | 48..=53) {
                assert!(
                    result.is_err(),
                    "{name}: byte {offset} = {value:#x} accepted"
                );
            }
        }
        copy[offset] = bytes[offset];
    }
}
