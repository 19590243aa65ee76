//! Helpers shared by the integration tests: robustness checks for the parser and loading the
//! real collateral. Each test binary uses only some of them.
#![allow(dead_code)]

use attested_tdx::{Collateral, PcsCollateral, Quote, UnixTime};

/// An RFC 3339 time from a test's table.
pub(crate) fn at(text: &str) -> UnixTime {
    UnixTime::parse_rfc3339(text).unwrap()
}

/// go-tdx-guest's Intel PCS collateral (PCS response bodies, issuer chains and CRLs).
pub(crate) fn go_tdx_guest_pcs_collateral() -> Option<Collateral> {
    let read = |name: &str| attested_testdata::read(&format!("tdx/go-tdx-guest/{name}"));
    let parts = [
        read("sample_tcbInfo_response")?,
        read("tcb_info_issuer_chain.pem")?,
        read("sample_qeIdentity_response")?,
        read("qe_identity_issuer_chain.pem")?,
        read("pckcrl")?,
        read("pck_crl_issuer_chain.pem")?,
        read("rootcrl.der")?,
    ];
    Some(
        Collateral::from_pcs(PcsCollateral {
            tcb_info_response: &parts[0],
            tcb_info_issuer_chain: &parts[1],
            qe_identity_response: &parts[2],
            qe_identity_issuer_chain: &parts[3],
            pck_crl: &parts[4],
            pck_crl_issuer_chain: &parts[5],
            root_ca_crl: &parts[6],
        })
        .unwrap(),
    )
}

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
