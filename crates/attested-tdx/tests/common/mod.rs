//! Helpers shared by the integration tests: robustness checks for the parser and loading the
//! real collateral. Each test binary uses only some of them.
#![allow(dead_code)]

use attested_tdx::collateral::PcsCollateral;
use attested_tdx::{Collateral, Quote, UnixTime};

/// An RFC 3339 time from a test's table.
pub(crate) fn at(text: &str) -> UnixTime {
    UnixTime::parse_rfc3339(text).unwrap()
}

/// go-tdx-guest's Intel PCS collateral files: PCS response bodies, issuer chains and DER CRLs.
pub(crate) struct GoPcsFiles {
    /// TCB Info body, its chain, QE Identity body, its chain, PCK CRL, its chain, root CA CRL.
    pub(crate) parts: [Vec<u8>; 7],
}

impl GoPcsFiles {
    pub(crate) fn load() -> Option<GoPcsFiles> {
        let read = |name: &str| attested_testdata::read(&format!("tdx/go-tdx-guest/{name}"));
        Some(GoPcsFiles {
            parts: [
                read("sample_tcbInfo_response")?,
                read("tcb_info_issuer_chain.pem")?,
                read("sample_qeIdentity_response")?,
                read("qe_identity_issuer_chain.pem")?,
                read("pckcrl")?,
                read("pck_crl_issuer_chain.pem")?,
                read("rootcrl.der")?,
            ],
        })
    }

    pub(crate) fn pcs(&self) -> PcsCollateral<'_> {
        let [tcb, tcb_chain, qe, qe_chain, pck_crl, pck_chain, root_crl] = &self.parts;
        PcsCollateral {
            tcb_info_response: tcb,
            tcb_info_issuer_chain: tcb_chain,
            qe_identity_response: qe,
            qe_identity_issuer_chain: qe_chain,
            pck_crl,
            pck_crl_issuer_chain: pck_chain,
            root_ca_crl: root_crl,
        }
    }
}

/// go-tdx-guest's Intel PCS collateral as [`Collateral`].
pub(crate) fn go_tdx_guest_pcs_collateral() -> Option<Collateral> {
    Some(Collateral::from_pcs(GoPcsFiles::load()?.pcs()).unwrap())
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
