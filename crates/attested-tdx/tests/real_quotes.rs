//! Every real quote in the shared test data, parsed, with fields checked against the documented
//! offsets (DESIGN §3) read straight from the bytes, independently of the parser.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_tdx::quote::{CertificationData, QuoteVersion};
use attested_tdx::{ParseError, Quote};

struct Sample {
    path: &'static str,
    hex: bool,
    /// The sample carries non-zero bytes after its signature data.
    trailing_data: bool,
    version: QuoteVersion,
    body_type: u16,
}

const fn sample(path: &'static str, version: QuoteVersion, body_type: u16) -> Sample {
    Sample {
        path,
        hex: false,
        trailing_data: false,
        version,
        body_type,
    }
}

const fn hex_sample(path: &'static str) -> Sample {
    Sample {
        path,
        hex: true,
        trailing_data: false,
        version: QuoteVersion::V4,
        body_type: 2,
    }
}

const SAMPLES: &[Sample] = &[
    sample("tdx/dcap-qvl/tdx_quote", QuoteVersion::V4, 2),
    sample("tdx/dcap-qvl/tdx_quote_outdated", QuoteVersion::V5, 3),
    sample("tdx/dcap-qvl/tdx_quote_td15ex", QuoteVersion::V5, 4),
    hex_sample("tdx/dcap-qvl/tdx-quote.hex"),
    hex_sample("tdx/dcap-qvl/quote-from-tappd.hex"),
    hex_sample("tdx/dcap-qvl/near_gas_test_quote_hex.txt"),
    // go-tdx-guest appended "extra bytes(only for testing purpose)" to this one.
    Sample {
        path: "tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat",
        hex: false,
        trailing_data: true,
        version: QuoteVersion::V4,
        body_type: 2,
    },
    sample("tdx/go-tdx-guest/quote_v5_sample.dat", QuoteVersion::V5, 3),
    sample(
        "tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat",
        QuoteVersion::V4,
        2,
    ),
    sample("tdx/trustee/tdx_quote_4.dat", QuoteVersion::V4, 2),
    sample("tdx/trustee/tdx_quote_5.dat", QuoteVersion::V5, 3),
    sample("tdx/trustee/tdx_quote_6.dat", QuoteVersion::V4, 2),
    sample("tdx/trustee/az-tdx-vtpm/td-quote.bin", QuoteVersion::V4, 2),
    sample("tdx/tdx-quote/known_pck_quote_1.dat", QuoteVersion::V4, 2),
    sample("tdx/tdx-quote/known_pck_quote_2.dat", QuoteVersion::V4, 2),
    sample("tdx/tdx-quote/v4_quote.dat", QuoteVersion::V4, 2),
];

fn load(sample: &Sample) -> Option<Vec<u8>> {
    if sample.hex {
        attested_testdata::read_hex(sample.path)
    } else {
        attested_testdata::read(sample.path)
    }
}

fn parse<'a>(sample: &Sample, bytes: &'a [u8]) -> Result<Quote<'a>, ParseError> {
    if sample.trailing_data {
        Quote::parse_allowing_trailing_data(bytes)
    } else {
        Quote::parse(bytes)
    }
}

/// The zero-padded samples, for tests that change bytes and expect `Quote::parse` to object.
fn strict_samples() -> Vec<(&'static str, Vec<u8>)> {
    SAMPLES
        .iter()
        .filter(|s| !s.trailing_data)
        .filter_map(|s| load(s).map(|bytes| (s.path, bytes)))
        .collect()
}

fn u16_at(bytes: &[u8], offset: usize) -> u16 {
    u16::from_le_bytes(bytes[offset..offset + 2].try_into().unwrap())
}

fn u32_at(bytes: &[u8], offset: usize) -> usize {
    u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap()) as usize
}

/// Checks every field of the parsed quote against the bytes at its documented offset.
fn check_fields_at_documented_offsets(name: &str, bytes: &[u8], quote: &Quote<'_>) {
    let body = match quote.version() {
        QuoteVersion::V4 => 48,
        _ => 54,
    };
    let at = |offset: usize, len: usize| &bytes[body + offset..body + offset + len];
    let report = quote.report();
    assert_eq!(report.tee_tcb_svn(), at(0, 16), "{name} TEE_TCB_SVN");
    assert_eq!(report.mr_seam(), at(16, 48), "{name} MRSEAM");
    assert_eq!(report.mr_signer_seam(), at(64, 48), "{name} MRSIGNERSEAM");
    assert_eq!(
        report.seam_attributes(),
        at(112, 8),
        "{name} SEAMATTRIBUTES"
    );
    assert_eq!(
        report.td_attributes_raw(),
        at(120, 8),
        "{name} TDATTRIBUTES"
    );
    assert_eq!(report.xfam(), at(128, 8), "{name} XFAM");
    assert_eq!(report.mr_td(), at(136, 48), "{name} MRTD");
    assert_eq!(report.mr_config_id(), at(184, 48), "{name} MRCONFIGID");
    assert_eq!(report.mr_owner(), at(232, 48), "{name} MROWNER");
    assert_eq!(
        report.mr_owner_config(),
        at(280, 48),
        "{name} MROWNERCONFIG"
    );
    for i in 0..4 {
        assert_eq!(
            report.rtmr(i).unwrap(),
            at(328 + 48 * i, 48),
            "{name} RTMR{i}"
        );
    }
    assert!(report.rtmr(4).is_none());
    assert_eq!(report.report_data(), at(520, 64), "{name} REPORTDATA");
    if quote.version() == QuoteVersion::V4 {
        assert_eq!(
            &bytes[568..632],
            report.report_data(),
            "{name}: REPORTDATA at 568 (v4)"
        );
    }
    if let Some(td15) = report.td15() {
        assert_eq!(td15.tee_tcb_svn2(), at(584, 16), "{name} TEE_TCB_SVN2");
        assert_eq!(td15.mr_service_td(), at(600, 48), "{name} MR_SERVICETD");
    }
    if let Some(ext) = report.td15_ext() {
        assert_eq!(ext.vmid(), at(648, 1)[0], "{name} VMID");
        assert_eq!(ext.td_id(), at(649, 32), "{name} TD_ID");
        assert_eq!(ext.dev_info(), at(681, 48), "{name} DEV_INFO");
        assert_eq!(ext.init_service_td_hash(), at(729, 48));
        assert_eq!(ext.init_service_td_attributes(), at(777, 8));
        assert_eq!(ext.init_cpu_svn(), at(785, 16));
        assert_eq!(ext.init_tee_tcb_svn(), at(801, 16));
        assert_eq!(ext.init_tee_fmspc(), at(817, 12));
        assert_eq!(ext.cur_service_td_hash(), at(829, 48));
        assert_eq!(ext.cur_service_td_attributes(), at(877, 8));
    }

    // Signed range and signature data.
    let body_len = match quote.version() {
        QuoteVersion::V4 => 584,
        _ => u32_at(bytes, 50),
    };
    let signed_len = body + body_len;
    assert_eq!(
        quote.signed_bytes(),
        &bytes[..signed_len],
        "{name} signed range"
    );
    let sig_len = u32_at(bytes, signed_len);
    let sig = signed_len + 4;
    let signature = quote.signature();
    assert_eq!(
        signature.quote_signature(),
        &bytes[sig..sig + 64],
        "{name} quote signature"
    );
    assert_eq!(
        signature.attestation_key(),
        &bytes[sig + 64..sig + 128],
        "{name} attestation key"
    );
    assert_eq!(
        u16_at(bytes, sig + 128),
        6,
        "{name}: outer certification data type"
    );
    let qe = sig + 134;
    let qe_report = signature.qe_report();
    assert_eq!(
        qe_report.as_bytes(),
        &bytes[qe..qe + 384],
        "{name} QE report"
    );
    assert_eq!(
        qe_report.report_data(),
        &bytes[qe + 320..qe + 384],
        "{name} QE REPORTDATA"
    );
    assert_eq!(
        qe_report.mr_signer(),
        &bytes[qe + 128..qe + 160],
        "{name} QE MRSIGNER"
    );
    assert_eq!(
        qe_report.isv_svn(),
        u16_at(bytes, qe + 258),
        "{name} QE ISVSVN"
    );
    assert_eq!(signature.qe_report_signature(), &bytes[qe + 384..qe + 448]);
    let auth_len = usize::from(u16_at(bytes, qe + 448));
    assert_eq!(
        signature.qe_auth_data(),
        &bytes[qe + 450..qe + 450 + auth_len]
    );
    let cert = qe + 450 + auth_len;
    assert_eq!(
        u16_at(bytes, cert),
        5,
        "{name}: inner certification data type"
    );
    let pem_len = u32_at(bytes, cert + 2);
    assert_eq!(
        sig + sig_len,
        cert + 6 + pem_len,
        "{name}: signature data length"
    );
    assert_eq!(
        quote.trailing_padding(),
        bytes.len() - (sig + sig_len),
        "{name} padding"
    );

    let CertificationData::PckCertChain(chain) = signature.certification() else {
        panic!("{name}: no PCK chain");
    };
    assert_eq!(chain.pem(), &bytes[cert + 6..cert + 6 + pem_len]);
    let ders = chain.der_certificates().unwrap();
    assert_eq!(
        ders.len(),
        3,
        "{name}: PCK leaf, platform/processor CA, root"
    );
    for der in &ders {
        assert_eq!(der[0], 0x30, "{name}: a DER certificate is a SEQUENCE");
    }
}

#[test]
fn every_real_quote_parses_with_its_version_and_body_type() {
    let mut parsed = 0;
    for sample in SAMPLES {
        let Some(bytes) = load(sample) else { continue };
        let quote = parse(sample, &bytes).unwrap_or_else(|e| panic!("{}: {e}", sample.path));
        assert_eq!(quote.version(), sample.version, "{}", sample.path);
        assert_eq!(
            quote.report().body_type(),
            sample.body_type,
            "{}",
            sample.path
        );
        assert!(quote.header().is_intel_qe(), "{}", sample.path);
        check_fields_at_documented_offsets(sample.path, &bytes, &quote);
        parsed += 1;
    }
    if parsed > 0 {
        assert_eq!(parsed, SAMPLES.len());
    }
}

#[test]
fn documented_sample_values() {
    // Values stated in testdata/tdx/SOURCES.md.
    if let Some(bytes) = attested_testdata::read("tdx/dcap-qvl/tdx_quote") {
        let quote = Quote::parse(&bytes).unwrap();
        assert_eq!(bytes.len(), 5006);
        assert_eq!(quote.trailing_padding(), 70);
        assert_eq!(hex::encode(&quote.report().tee_tcb_svn()[..4]), "06010300");
        assert_eq!(
            hex::encode(quote.report().td_attributes_raw()),
            "0000001000000000"
        );
        let attributes = quote.report().td_attributes();
        assert!(attributes.sept_ve_disable() && !attributes.debug());
    }
    if let Some(bytes) = attested_testdata::read("tdx/dcap-qvl/tdx_quote_outdated") {
        let quote = Quote::parse(&bytes).unwrap();
        assert_eq!(hex::encode(&quote.report().tee_tcb_svn()[..4]), "07010300");
        assert_eq!(
            hex::encode(&quote.report().tee_tcb_svn2().unwrap()[..4]),
            "0d010300"
        );
        assert_eq!(quote.report().mr_service_td().unwrap(), &[0u8; 48]);
    }
    if let Some(bytes) = attested_testdata::read("tdx/dcap-qvl/tdx_quote_td15ex") {
        let quote = Quote::parse(&bytes).unwrap();
        // VMID 0 and a TD_ID, then zero service-TD and initial-TCB fields (no SERVTD_EXT).
        let ext = quote.report().td15_ext().unwrap();
        assert_eq!(ext.vmid(), 0);
        assert_eq!(hex::encode(&ext.td_id()[..4]), "e1f3ee82");
        assert_eq!(ext.init_tee_fmspc(), &[0u8; 12]);
        assert_eq!(ext.cur_service_td_attributes(), &[0u8; 8]);
    }
    if let Some(bytes) = attested_testdata::read("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat") {
        assert_eq!(
            Quote::parse(&bytes).unwrap_err(),
            ParseError::TrailingData {
                offset: 4935,
                len: 39
            }
        );
        let quote = Quote::parse_allowing_trailing_data(&bytes).unwrap();
        assert_eq!(quote.trailing_padding(), 39);
        assert_eq!(
            quote.trailing_data(),
            b"\nextra bytes(only for testing purpose)\n"
        );
        let attributes = quote.report().td_attributes();
        assert!(attributes.pks() && !attributes.sept_ve_disable() && !attributes.debug());
    }
    if let Some(bytes) = attested_testdata::read("tdx/trustee/tdx_quote_4.dat") {
        assert!(
            Quote::parse(&bytes)
                .unwrap()
                .report()
                .td_attributes()
                .debug()
        );
    }
    if let Some(bytes) = attested_testdata::read("tdx/trustee/az-tdx-vtpm/td-quote.bin") {
        assert_eq!(
            Quote::parse(&bytes)
                .unwrap()
                .report()
                .td_attributes()
                .bits(),
            0
        );
    }
    if let (Some(bytes), Some(nonce)) = (
        attested_testdata::read("tdx/go-tdx-guest/ccel/cos-113-tdx-quote.dat"),
        attested_testdata::read("tdx/go-tdx-guest/ccel/nonce.dat"),
    ) {
        let quote = Quote::parse(&bytes).unwrap();
        assert_eq!(
            &quote.report().report_data()[..nonce.len().min(64)],
            &nonce[..nonce.len().min(64)]
        );
    }
}

#[test]
fn an_sgx_quote_is_not_a_tdx_quote() {
    let Some(bytes) = attested_testdata::read("tdx/dcap-qvl/sgx_quote") else {
        return;
    };
    let err = Quote::parse(&bytes).unwrap_err();
    assert_eq!(err, ParseError::NotTdx { tee_type: 0 });
    assert!(err.to_string().contains("not a TDX quote"));
}

#[test]
fn truncation_at_every_length_is_an_error_never_a_panic() {
    for (name, bytes) in strict_samples() {
        common::assert_truncation_is_an_error(name, &bytes);
    }
}

#[test]
fn every_single_byte_change_of_header_and_descriptor_never_panics() {
    for (name, bytes) in strict_samples() {
        common::assert_header_changes_are_handled(name, &bytes);
    }
}

#[test]
fn non_zero_bytes_after_the_signature_data_are_refused() {
    let Some(bytes) = attested_testdata::read("tdx/dcap-qvl/tdx_quote") else {
        return;
    };
    let quote = Quote::parse(&bytes).unwrap();
    let end = bytes.len() - quote.trailing_padding();
    let mut tampered = bytes.clone();
    *tampered.last_mut().unwrap() = 1;
    assert_eq!(
        Quote::parse(&tampered).unwrap_err(),
        ParseError::TrailingData {
            offset: end,
            len: bytes.len() - end
        }
    );
}
