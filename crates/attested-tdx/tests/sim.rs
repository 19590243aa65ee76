//! The simulated platform's public API: quote bytes at the DESIGN §3 offsets, every signature
//! and binding checked independently with p256 / x509-cert / serde_json, and the shape of
//! certificates and collateral compared with Intel's real ones.
#![cfg(feature = "sim")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeMap;

use attested_tdx::sim::{PcsCollateral, QuoteFormat, QuoteSpec, SimConfig, SimPlatform};
use attested_tdx::{CertificationData, Quote, QuoteVersion, TdAttributes, TdReport};
use der::asn1::{AnyRef, ObjectIdentifier};
use der::{Decode, Encode, Reader, SliceReader, Tag, Tagged};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;

const NOW: u64 = 1_750_000_000;

fn platform() -> SimPlatform {
    SimPlatform::from_seed(b"sim tests", NOW).unwrap()
}

/// A spec in which every field holds a different value, so that a misplaced field shows.
fn distinct_spec(platform: &SimPlatform, format: QuoteFormat) -> QuoteSpec {
    let fill = |b: u8| [b; 48];
    QuoteSpec {
        mr_seam: fill(0xa1),
        seam_attributes: 0x0102_0304_0506_0708,
        td_attributes: TdAttributes::from_bits(TdAttributes::DEBUG | TdAttributes::PKS),
        xfam: 0x1122_3344_5566_7788,
        mr_td: fill(0xa2),
        mr_config_id: fill(0xa3),
        mr_owner: fill(0xa4),
        mr_owner_config: fill(0xa5),
        rtmrs: [fill(0xb0), fill(0xb1), fill(0xb2), fill(0xb3)],
        report_data: [0xc4; 64],
        tee_tcb_svn2: [0xd1; 16],
        mr_service_td: fill(0xd2),
        vmid: 0xe1,
        td_id: [0xe2; 32],
        dev_info: fill(0xe3),
        init_service_td_hash: fill(0xe4),
        init_service_td_attributes: 0xe5e5_e5e5_e5e5_e5e5,
        init_cpu_svn: [0xe6; 16],
        init_tee_tcb_svn: [0xe7; 16],
        init_tee_fmspc: [0xe8; 12],
        cur_service_td_hash: fill(0xe9),
        cur_service_td_attributes: 0xeaea_eaea_eaea_eaea,
        ..platform.quote_spec(format)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> usize {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap()) as usize
}

/// The pieces of a quote's ECDSA signature data, cut at the offsets of DESIGN §3.
struct SignatureData<'a> {
    quote_signature: &'a [u8],
    attestation_key: &'a [u8],
    outer_type: u16,
    qe_report: &'a [u8],
    qe_report_signature: &'a [u8],
    qe_auth_data: &'a [u8],
    inner_type: u16,
    pem: &'a [u8],
    trailing: &'a [u8],
}

fn signature_data(quote: &[u8], signed_len: usize) -> SignatureData<'_> {
    let len = u32_at(quote, signed_len);
    let data = &quote[signed_len + 4..signed_len + 4 + len];
    let outer_size = u32_at(data, 130);
    let outer = &data[134..];
    assert_eq!(
        outer.len(),
        outer_size,
        "type 6 size is the rest of the data"
    );
    let auth_len = usize::from(u16_at(outer, 448));
    let inner_at = 450 + auth_len;
    let pem_len = u32_at(outer, inner_at + 2);
    assert_eq!(outer.len(), inner_at + 6 + pem_len, "type 5 size");
    SignatureData {
        quote_signature: &data[0..64],
        attestation_key: &data[64..128],
        outer_type: u16_at(data, 128),
        qe_report: &outer[0..384],
        qe_report_signature: &outer[384..448],
        qe_auth_data: &outer[450..inner_at],
        inner_type: u16_at(outer, inner_at),
        pem: &outer[inner_at + 6..],
        trailing: &quote[signed_len + 4 + len..],
    }
}

fn raw_key(xy: &[u8]) -> VerifyingKey {
    let mut sec1 = vec![0x04];
    sec1.extend_from_slice(xy);
    VerifyingKey::from_sec1_bytes(&sec1).unwrap()
}

fn cert_key(cert: &Certificate) -> VerifyingKey {
    let spki = cert.tbs_certificate().subject_public_key_info();
    VerifyingKey::from_sec1_bytes(spki.subject_public_key.raw_bytes()).unwrap()
}

#[test]
fn every_layout_has_its_fields_at_the_design_offsets() {
    let platform = platform();
    for format in QuoteFormat::ALL {
        let spec = QuoteSpec {
            trailing_zeros: 23,
            ..distinct_spec(&platform, format)
        };
        let q = platform.quote(&spec).unwrap();

        // Header.
        let version = u16_at(&q, 0);
        assert_eq!(version, if format == QuoteFormat::V4 { 4 } else { 5 });
        assert_eq!(u16_at(&q, 2), 2, "ECDSA-P256 attestation key");
        assert_eq!(u32_at(&q, 4), 0x81, "TDX");
        assert_eq!(
            hex::encode(&q[12..28]),
            "939a7233f79c4ca9940a0db3957f0607",
            "Intel QE vendor ID"
        );

        // Body descriptor and body start.
        let (body, body_len) = match format {
            QuoteFormat::V4 => (48, 584),
            _ => {
                let (body_type, size) = match format {
                    QuoteFormat::V5Td10 => (2, 584),
                    QuoteFormat::V5Td15 => (3, 648),
                    _ => (4, 885),
                };
                assert_eq!(u16_at(&q, 48), body_type, "{format:?}");
                assert_eq!(u32_at(&q, 50), size, "{format:?}");
                (54, size)
            }
        };
        assert_eq!(format.body_offset(), body);
        assert_eq!(format.signed_len(), body + body_len);
        let at = |off: usize, len: usize| &q[body + off..body + off + len];
        assert_eq!(at(0, 16), spec.tee_tcb_svn);
        assert_eq!(at(16, 48), spec.mr_seam);
        assert_eq!(at(64, 48), spec.mr_signer_seam);
        assert_eq!(at(112, 8), spec.seam_attributes.to_le_bytes());
        assert_eq!(at(120, 8), spec.td_attributes.to_le_bytes());
        assert_eq!(at(128, 8), spec.xfam.to_le_bytes());
        assert_eq!(at(136, 48), spec.mr_td);
        assert_eq!(at(184, 48), spec.mr_config_id);
        assert_eq!(at(232, 48), spec.mr_owner);
        assert_eq!(at(280, 48), spec.mr_owner_config);
        for (i, rtmr) in spec.rtmrs.iter().enumerate() {
            assert_eq!(at(328 + 48 * i, 48), rtmr);
        }
        assert_eq!(at(520, 64), spec.report_data);
        if format == QuoteFormat::V4 {
            assert_eq!(&q[568..632], spec.report_data, "REPORTDATA at absolute 568");
        }
        if matches!(format, QuoteFormat::V5Td15 | QuoteFormat::V5Td15Ext) {
            assert_eq!(at(584, 16), spec.tee_tcb_svn2);
            assert_eq!(at(600, 48), spec.mr_service_td);
        }
        if format == QuoteFormat::V5Td15Ext {
            assert_eq!(at(648, 1), [spec.vmid]);
            assert_eq!(at(649, 32), spec.td_id);
            assert_eq!(at(681, 48), spec.dev_info);
            assert_eq!(at(729, 48), spec.init_service_td_hash);
            assert_eq!(at(777, 8), spec.init_service_td_attributes.to_le_bytes());
            assert_eq!(at(785, 16), spec.init_cpu_svn);
            assert_eq!(at(801, 16), spec.init_tee_tcb_svn);
            assert_eq!(at(817, 12), spec.init_tee_fmspc);
            assert_eq!(at(829, 48), spec.cur_service_td_hash);
            assert_eq!(at(877, 8), spec.cur_service_td_attributes.to_le_bytes());
        }

        // Signature data right after the body; then only the requested zero padding.
        let sig = signature_data(&q, body + body_len);
        assert_eq!(sig.outer_type, 6, "QE report certification data");
        assert_eq!(sig.inner_type, 5, "PCK chain");
        assert_eq!(sig.trailing, vec![0; 23]);
        assert_eq!(sig.attestation_key, platform.attestation_public_key());
    }
}

#[test]
fn every_layout_round_trips_through_the_parser() {
    let platform = platform();
    for format in QuoteFormat::ALL {
        let spec = QuoteSpec {
            trailing_zeros: 31,
            ..distinct_spec(&platform, format)
        };
        let bytes = platform.quote(&spec).unwrap();
        let quote = Quote::parse(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));

        let header = quote.header();
        assert_eq!(header.version(), format.version());
        assert_eq!(
            quote.version(),
            match format {
                QuoteFormat::V4 => QuoteVersion::V4,
                _ => QuoteVersion::V5,
            }
        );
        assert_eq!(header.attestation_key_type(), 2);
        assert_eq!(header.tee_type(), attested_tdx::TDX_TEE_TYPE);
        assert!(header.is_intel_qe());
        assert_eq!(quote.signed_bytes(), &bytes[..format.signed_len()]);
        assert_eq!(quote.trailing_padding(), 31);
        assert_eq!(quote.as_bytes(), &bytes[..]);

        let report = quote.report();
        assert_eq!(report.body_type(), format.body_type().unwrap_or(2));
        let td = report.td10();
        assert_eq!(td.tee_tcb_svn(), &spec.tee_tcb_svn);
        assert_eq!(td.mr_seam(), &spec.mr_seam);
        assert_eq!(td.mr_signer_seam(), &spec.mr_signer_seam);
        assert_eq!(td.seam_attributes(), &spec.seam_attributes.to_le_bytes());
        assert_eq!(td.td_attributes(), spec.td_attributes);
        assert!(td.td_attributes().debug() && td.td_attributes().pks());
        assert_eq!(td.xfam(), &spec.xfam.to_le_bytes());
        assert_eq!(td.mr_td(), &spec.mr_td);
        assert_eq!(td.mr_config_id(), &spec.mr_config_id);
        assert_eq!(td.mr_owner(), &spec.mr_owner);
        assert_eq!(td.mr_owner_config(), &spec.mr_owner_config);
        for (i, rtmr) in spec.rtmrs.iter().enumerate() {
            assert_eq!(td.rtmr(i), Some(rtmr));
        }
        assert_eq!(td.report_data(), &spec.report_data);
        match (format, report) {
            (QuoteFormat::V4 | QuoteFormat::V5Td10, TdReport::Td10(_)) => {
                assert_eq!(report.tee_tcb_svn2(), None);
            }
            (QuoteFormat::V5Td15, TdReport::Td15(r)) => {
                assert_eq!(r.tee_tcb_svn2(), &spec.tee_tcb_svn2);
                assert_eq!(r.mr_service_td(), &spec.mr_service_td);
            }
            (QuoteFormat::V5Td15Ext, TdReport::Td15Ext(r)) => {
                assert_eq!(r.base.tee_tcb_svn2(), &spec.tee_tcb_svn2);
                assert_eq!(r.base.mr_service_td(), &spec.mr_service_td);
                assert_eq!(r.vmid(), spec.vmid);
                assert_eq!(r.td_id(), &spec.td_id);
                assert_eq!(r.dev_info(), &spec.dev_info);
                assert_eq!(r.init_service_td_hash(), &spec.init_service_td_hash);
                assert_eq!(
                    r.init_service_td_attributes(),
                    &spec.init_service_td_attributes.to_le_bytes()
                );
                assert_eq!(r.init_cpu_svn(), &spec.init_cpu_svn);
                assert_eq!(r.init_tee_tcb_svn(), &spec.init_tee_tcb_svn);
                assert_eq!(r.init_tee_fmspc(), &spec.init_tee_fmspc);
                assert_eq!(r.cur_service_td_hash(), &spec.cur_service_td_hash);
                assert_eq!(
                    r.cur_service_td_attributes(),
                    &spec.cur_service_td_attributes.to_le_bytes()
                );
            }
            (format, report) => panic!("{format:?} parsed as {report:?}"),
        }

        let signature = quote.signature();
        assert_eq!(
            signature.attestation_key(),
            &platform.attestation_public_key()
        );
        let key = raw_key(signature.attestation_key());
        key.verify(
            quote.signed_bytes(),
            &Signature::from_slice(signature.quote_signature()).unwrap(),
        )
        .unwrap();
        let qe = signature.qe_report();
        assert_eq!(qe.isv_prod_id(), 2);
        assert_eq!(qe.isv_svn(), platform.config().qe_svn);
        assert_eq!(qe.cpu_svn(), &platform.config().cpu_svn);
        let mut binding = Sha256::new();
        binding.update(signature.attestation_key());
        binding.update(signature.qe_auth_data());
        assert_eq!(qe.report_data()[..32], binding.finalize()[..]);
        let pck = Certificate::from_der(platform.pck_certificate_der()).unwrap();
        cert_key(&pck)
            .verify(
                qe.as_bytes(),
                &Signature::from_slice(signature.qe_report_signature()).unwrap(),
            )
            .unwrap();
        let CertificationData::PckCertChain(chain) = signature.certification() else {
            panic!("{format:?}: no PCK chain");
        };
        assert_eq!(chain.pem(), platform.pck_chain_pem().as_bytes());
        assert_eq!(
            chain.der_certificates().unwrap(),
            [
                platform.pck_certificate_der(),
                platform.platform_ca_certificate_der(),
                platform.root_certificate_der(),
            ]
        );
    }
}

#[test]
fn quote_signature_covers_header_descriptor_and_body() {
    let platform = platform();
    for format in QuoteFormat::ALL {
        let q = platform.quote(&distinct_spec(&platform, format)).unwrap();
        let signed_len = format.signed_len();
        let sig = signature_data(&q, signed_len);
        let key = raw_key(sig.attestation_key);
        let signature = Signature::from_slice(sig.quote_signature).unwrap();
        key.verify(&q[..signed_len], &signature)
            .unwrap_or_else(|_| panic!("{format:?}: quote signature"));
        // Each of: the version, the v5 body type (or, in v4, the first body byte), REPORTDATA.
        for at in [0, 48, signed_len - 1] {
            let mut bad = q[..signed_len].to_vec();
            bad[at] ^= 0x01;
            assert!(
                key.verify(&bad, &signature).is_err(),
                "{format:?} byte {at}"
            );
        }
    }
}

#[test]
fn qe_report_is_signed_by_the_pck_leaf_and_binds_the_attestation_key() {
    let config = SimConfig {
        qe_svn: 9,
        cpu_svn: [7; 16],
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"qe binding", NOW, config.clone()).unwrap();
    let q = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let sig = signature_data(&q, 632);

    let chain = Certificate::load_pem_chain(sig.pem).unwrap();
    assert_eq!(chain.len(), 3, "leaf, platform CA, root");
    assert_eq!(chain[0].to_der().unwrap(), platform.pck_certificate_der());
    assert_eq!(
        chain[1].to_der().unwrap(),
        platform.platform_ca_certificate_der()
    );
    assert_eq!(chain[2].to_der().unwrap(), platform.root_certificate_der());
    assert_eq!(sig.pem, platform.pck_chain_pem().as_bytes());

    let qe_signature = Signature::from_slice(sig.qe_report_signature).unwrap();
    cert_key(&chain[0])
        .verify(sig.qe_report, &qe_signature)
        .expect("QE report signed by the PCK leaf key");
    assert!(
        cert_key(&chain[1])
            .verify(sig.qe_report, &qe_signature)
            .is_err()
    );

    let mut hash = Sha256::new();
    hash.update(sig.attestation_key);
    hash.update(sig.qe_auth_data);
    assert_eq!(sig.qe_report[320..352], hash.finalize()[..]);
    assert_eq!(sig.qe_report[352..384], [0; 32]);
    assert_eq!(sig.qe_auth_data.len(), 32);

    assert_eq!(sig.qe_report[0..16], config.cpu_svn, "QE CPUSVN");
    assert_eq!(u16_at(sig.qe_report, 256), 2, "TD QE ISVPRODID");
    assert_eq!(u16_at(sig.qe_report, 258), 9, "QE ISVSVN");
    assert_eq!(sig.qe_report[48] & 0x02, 0, "QE is not a debug enclave");
}

/// Walks DER into `(depth, tag, OID)` lines, so that two encodings can be compared by shape.
fn der_shape(der: &[u8], depth: usize, out: &mut Vec<String>) {
    let mut reader = SliceReader::new(der).unwrap();
    while !reader.is_finished() {
        let any: AnyRef<'_> = reader.decode().unwrap();
        let line = match any.tag() {
            Tag::ObjectIdentifier => {
                format!(
                    "{depth} {}",
                    ObjectIdentifier::from_bytes(any.value()).unwrap()
                )
            }
            Tag::OctetString => format!("{depth} OCTET STRING ({} bytes)", any.value().len()),
            tag => format!("{depth} {tag:?}"),
        };
        out.push(line);
        if any.tag() == Tag::Sequence {
            der_shape(any.value(), depth + 1, out);
        }
    }
}

fn sgx_extension(cert: &Certificate) -> Vec<u8> {
    let sgx = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");
    let ext = cert
        .tbs_certificate()
        .extensions()
        .unwrap()
        .iter()
        .find(|e| e.extn_id == sgx)
        .expect("SGX extension");
    assert!(!ext.critical);
    ext.extn_value.as_bytes().to_vec()
}

/// `{OID: value}` of one level of the SGX extension.
fn sgx_members(der: &[u8]) -> BTreeMap<String, AnyRef<'_>> {
    let mut members = BTreeMap::new();
    let mut outer = SliceReader::new(der).unwrap();
    let seq: AnyRef<'_> = outer.decode().unwrap();
    assert_eq!(seq.tag(), Tag::Sequence);
    let mut reader = SliceReader::new(seq.value()).unwrap();
    while !reader.is_finished() {
        let member: AnyRef<'_> = reader.decode().unwrap();
        let mut inner = SliceReader::new(member.value()).unwrap();
        let oid: ObjectIdentifier = inner.decode().unwrap();
        let value: AnyRef<'_> = inner.decode().unwrap();
        members.insert(oid.to_string(), value);
    }
    members
}

fn integer(any: &AnyRef<'_>) -> u64 {
    assert_eq!(any.tag(), Tag::Integer);
    any.value().iter().fold(0, |n, b| (n << 8) | u64::from(*b))
}

#[test]
fn pck_leaf_extensions_decode_back() {
    let config = SimConfig {
        fmspc: [0x00, 0x80, 0x6f, 0x05, 0x00, 0x00],
        pce_id: [0x00, 0x01],
        cpu_svn: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 200],
        pce_svn: 300,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"extensions", NOW, config.clone()).unwrap();
    let cert = Certificate::from_der(platform.pck_certificate_der()).unwrap();
    let ext = sgx_extension(&cert);
    let members = sgx_members(&ext);
    let p = "1.2.840.113741.1.13.1";
    assert_eq!(members[&format!("{p}.1")].value().len(), 16, "PPID");
    assert_eq!(members[&format!("{p}.3")].value(), config.pce_id, "PCE-ID");
    assert_eq!(members[&format!("{p}.4")].value(), config.fmspc, "FMSPC");
    let sgx_type = &members[&format!("{p}.5")];
    assert_eq!(
        (sgx_type.tag(), sgx_type.value()),
        (Tag::Enumerated, &[1u8][..])
    );

    let tcb_der = members[&format!("{p}.2")].to_der().unwrap();
    let tcb = sgx_members(&tcb_der);
    for (i, svn) in config.cpu_svn.iter().enumerate() {
        assert_eq!(integer(&tcb[&format!("{p}.2.{}", i + 1)]), u64::from(*svn));
    }
    assert_eq!(integer(&tcb[&format!("{p}.2.17")]), 300, "PCESVN");
    assert_eq!(tcb[&format!("{p}.2.18")].value(), config.cpu_svn, "CPUSVN");
    assert_eq!(tcb.len(), 18);
}

#[test]
fn pck_extension_has_the_shape_of_intels() {
    let Some(real_quote) = attested_testdata::read("tdx/go-tdx-guest/tdx_prod_quote_SPR_E4.dat")
    else {
        return;
    };
    let begin = b"-----BEGIN CERTIFICATE-----";
    let start = real_quote
        .windows(begin.len())
        .position(|w| w == begin)
        .unwrap();
    let end_marker = b"-----END CERTIFICATE-----\n";
    let end = real_quote
        .windows(end_marker.len())
        .rposition(|w| w == end_marker)
        .unwrap()
        + end_marker.len();
    let real_chain = Certificate::load_pem_chain(&real_quote[start..end]).unwrap();
    assert_eq!(real_chain.len(), 3);
    let real_leaf = &real_chain[0];
    let sim_leaf = Certificate::from_der(platform().pck_certificate_der()).unwrap();

    let shape = |cert: &Certificate| {
        let mut lines = Vec::new();
        der_shape(&sgx_extension(cert), 0, &mut lines);
        lines
    };
    assert_eq!(shape(&sim_leaf), shape(real_leaf));

    // The same standard extensions in the same order with the same criticality.
    let ext_ids = |cert: &Certificate| {
        cert.tbs_certificate()
            .extensions()
            .unwrap()
            .iter()
            .map(|e| (e.extn_id, e.critical))
            .collect::<Vec<_>>()
    };
    assert_eq!(ext_ids(&sim_leaf), ext_ids(real_leaf));
    let sim_platform_ca = Certificate::from_der(platform().platform_ca_certificate_der()).unwrap();
    assert_eq!(ext_ids(&sim_platform_ca), ext_ids(&real_chain[1]));
    let sim_root = Certificate::from_der(platform().root_certificate_der()).unwrap();
    assert_eq!(ext_ids(&sim_root), ext_ids(&real_chain[2]));
}

fn common_name(name: &x509_cert::name::Name) -> String {
    name.common_name().unwrap().unwrap().value().into_owned()
}

fn verify_signed_by(tbs: &[u8], signature: &[u8], issuer: &Certificate) {
    let signature = Signature::from_der(signature).unwrap();
    cert_key(issuer).verify(tbs, &signature).unwrap();
}

#[test]
fn certificates_chain_to_the_simulated_root() {
    let platform = platform();
    let cert = |der: &[u8]| Certificate::from_der(der).unwrap();
    let root = cert(platform.root_certificate_der());
    let platform_ca = cert(platform.platform_ca_certificate_der());
    let pck = cert(platform.pck_certificate_der());
    let tcb_signing = cert(platform.tcb_signing_certificate_der());

    for (c, cn, issuer) in [
        (&root, "attested simulated SGX Root CA", &root),
        (
            &platform_ca,
            "attested simulated SGX PCK Platform CA",
            &root,
        ),
        (&pck, "attested simulated SGX PCK Certificate", &platform_ca),
        (&tcb_signing, "attested simulated SGX TCB Signing", &root),
    ] {
        let tbs = c.tbs_certificate();
        assert_eq!(common_name(tbs.subject()), cn);
        assert_eq!(tbs.issuer(), issuer.tbs_certificate().subject(), "{cn}");
        verify_signed_by(&tbs.to_der().unwrap(), c.signature().raw_bytes(), issuer);
        let validity = tbs.validity();
        assert!(validity.not_before.to_unix_duration().as_secs() <= platform.valid_from());
        assert!(validity.not_after.to_unix_duration().as_secs() > platform.valid_until());
        assert_eq!(tbs.serial_number().as_bytes().len(), 20, "{cn}");
    }
    let (_, root_constraints) = root
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .unwrap()
        .unwrap();
    assert!(root_constraints.ca);
    let (_, pck_constraints) = pck
        .tbs_certificate()
        .get_extension::<x509_cert::ext::pkix::BasicConstraints>()
        .unwrap()
        .unwrap();
    assert!(!pck_constraints.ca);
}

#[test]
fn crls_parse_and_are_signed_by_their_issuers() {
    for revoke_pck in [false, true] {
        let config = SimConfig {
            revoke_pck,
            ..SimConfig::default()
        };
        let platform = SimPlatform::with_config(b"crls", NOW, config).unwrap();
        let collateral = platform.collateral_pcs();
        let root = Certificate::from_der(platform.root_certificate_der()).unwrap();
        let platform_ca = Certificate::from_der(platform.platform_ca_certificate_der()).unwrap();
        let pck = Certificate::from_der(platform.pck_certificate_der()).unwrap();

        for (der, issuer, revoked) in [
            (&collateral.root_ca_crl, &root, false),
            (&collateral.pck_crl, &platform_ca, revoke_pck),
        ] {
            let crl = CertificateList::from_der(der).unwrap();
            let tbs = &crl.tbs_cert_list;
            assert_eq!(&tbs.issuer, issuer.tbs_certificate().subject());
            verify_signed_by(&tbs.to_der().unwrap(), crl.signature.raw_bytes(), issuer);
            let this_update = tbs.this_update.to_unix_duration().as_secs();
            let next_update = tbs.next_update.unwrap().to_unix_duration().as_secs();
            assert!(this_update <= platform.valid_from());
            assert!(next_update > platform.valid_until());
            let serials: Vec<_> = tbs
                .revoked_certificates
                .iter()
                .flatten()
                .map(|r| r.serial_number.clone())
                .collect();
            if revoked {
                assert_eq!(serials, [pck.tbs_certificate().serial_number().clone()]);
            } else {
                assert!(serials.is_empty());
            }
        }
        // The PCK CRL issuer chain is the platform CA and the root.
        let chain =
            Certificate::load_pem_chain(collateral.pck_crl_issuer_chain.as_bytes()).unwrap();
        assert_eq!(chain, [platform_ca.clone(), root.clone()]);
    }
}

/// The object between `{"<field>":` and `,"signature":"...."}`, and the signature.
fn split_signed_body<'a>(body: &'a str, field: &str) -> (&'a str, Vec<u8>) {
    let prefix = format!(r#"{{"{field}":"#);
    let rest = body
        .strip_prefix(&prefix)
        .expect("body starts with the field");
    let cut = rest.rfind(r#","signature":""#).expect("signature field");
    let signature = rest[cut..]
        .strip_prefix(r#","signature":""#)
        .and_then(|s| s.strip_suffix(r#""}"#))
        .unwrap();
    (&rest[..cut], hex::decode(signature).unwrap())
}

fn check_signed_json(
    body: &str,
    field: &str,
    issuer_chain: &str,
    root: &[u8],
) -> serde_json::Value {
    let parsed: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(
        parsed.as_object().unwrap().len(),
        2,
        "{field} and signature only"
    );
    let (object, signature) = split_signed_body(body, field);
    assert_eq!(signature.len(), 64, "raw r||s");
    let chain = Certificate::load_pem_chain(issuer_chain.as_bytes()).unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain[1].to_der().unwrap(), root);
    assert_eq!(
        common_name(chain[0].tbs_certificate().subject()),
        "attested simulated SGX TCB Signing"
    );
    let signature = Signature::from_slice(&signature).unwrap();
    cert_key(&chain[0])
        .verify(object.as_bytes(), &signature)
        .expect("signature over the exact embedded bytes");
    // One changed byte inside the object breaks it.
    let tampered = object.replacen("\"version\":", "\"version\" :", 1);
    assert!(
        cert_key(&chain[0])
            .verify(tampered.as_bytes(), &signature)
            .is_err()
    );
    serde_json::from_str(object).unwrap()
}

fn date(value: &serde_json::Value) -> u64 {
    let text = value.as_str().unwrap();
    let time: x509_cert::time::Time = text.parse().unwrap();
    time.to_unix_duration().as_secs()
}

#[test]
fn tcb_info_is_signed_over_its_exact_bytes_and_describes_the_platform() {
    let config = SimConfig {
        fmspc: [0x50, 0x80, 0x6f, 0, 0, 0],
        tcb_evaluation_data_number: 19,
        ..SimConfig::default()
    };
    let platform = SimPlatform::with_config(b"tcb info", NOW, config.clone()).unwrap();
    let c = platform.collateral_pcs();
    let info = check_signed_json(
        &c.tcb_info_json,
        "tcbInfo",
        &c.tcb_info_issuer_chain,
        platform.root_certificate_der(),
    );
    assert_eq!(split_signed_body(&c.tcb_info_json, "tcbInfo").0, c.tcb_info);
    assert_eq!(info["id"], "TDX");
    assert_eq!(info["version"], 3);
    assert_eq!(info["tcbType"], 0);
    assert_eq!(info["fmspc"], "50806f000000");
    assert_eq!(info["pceId"], "0000");
    assert_eq!(info["tcbEvaluationDataNumber"], 19);
    assert!(date(&info["issueDate"]) <= platform.valid_from());
    assert!(date(&info["nextUpdate"]) > platform.valid_until());

    let level = &info["tcbLevels"][0];
    let svns = |components: &serde_json::Value| -> Vec<u8> {
        components
            .as_array()
            .unwrap()
            .iter()
            .map(|c| u8::try_from(c["svn"].as_u64().unwrap()).unwrap())
            .collect()
    };
    assert_eq!(svns(&level["tcb"]["sgxtcbcomponents"]), config.cpu_svn);
    assert_eq!(level["tcb"]["pcesvn"], config.pce_svn);
    assert_eq!(svns(&level["tcb"]["tdxtcbcomponents"]), config.tee_tcb_svn);
    assert_eq!(level["tcbStatus"], "UpToDate");
    let identity = &info["tdxModuleIdentities"][0];
    assert_eq!(identity["id"], format!("TDX_{:02X}", config.tee_tcb_svn[1]));
    assert_eq!(
        identity["tcbLevels"][0]["tcb"]["isvsvn"],
        config.tee_tcb_svn[0]
    );
    assert_eq!(info["tdxModule"]["mrsigner"], "0".repeat(96));
}

#[test]
fn qe_identity_is_signed_over_its_exact_bytes_and_matches_the_qe_report() {
    let platform = platform();
    let c = platform.collateral_pcs();
    let identity = check_signed_json(
        &c.qe_identity_json,
        "enclaveIdentity",
        &c.qe_identity_issuer_chain,
        platform.root_certificate_der(),
    );
    assert_eq!(
        split_signed_body(&c.qe_identity_json, "enclaveIdentity").0,
        c.qe_identity
    );
    assert_eq!(identity["id"], "TD_QE");
    assert_eq!(identity["version"], 2);
    let q = platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
    let qe_report = signature_data(&q, 632).qe_report;
    assert_eq!(
        identity["mrsigner"],
        hex::encode_upper(&qe_report[128..160])
    );
    assert_eq!(identity["isvprodid"], u16_at(qe_report, 256));
    assert_eq!(
        identity["tcbLevels"][0]["tcb"]["isvsvn"],
        u16_at(qe_report, 258)
    );
    // ATTRIBUTES under the mask match the report's.
    let attributes = hex::decode(identity["attributes"].as_str().unwrap()).unwrap();
    let mask = hex::decode(identity["attributesMask"].as_str().unwrap()).unwrap();
    for i in 0..16 {
        assert_eq!(
            qe_report[48 + i] & mask[i],
            attributes[i] & mask[i],
            "byte {i}"
        );
    }
}

/// The set of key paths of a JSON value (arrays collapsed), to compare shapes.
fn key_paths(
    value: &serde_json::Value,
    prefix: &str,
    out: &mut std::collections::BTreeSet<String>,
) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}/{k}");
                out.insert(path.clone());
                key_paths(v, &path, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn paths(json: &str) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    key_paths(&serde_json::from_str(json).unwrap(), "", &mut out);
    // Optional members that real samples may or may not carry.
    out.retain(|p| {
        !p.ends_with("/advisoryIDs") && !p.ends_with("/category") && !p.ends_with("/type")
    });
    out
}

fn top_level_key_order(json: &str, field: &str) -> Vec<String> {
    // serde_json keeps insertion order only with preserve_order, so read the order from text.
    let object: serde_json::Value = serde_json::from_str(json).unwrap();
    let map = object[field].as_object().unwrap();
    let text = &json[json.find(&format!(r#""{field}":"#)).unwrap()..];
    let mut keys: Vec<(usize, String)> = map
        .keys()
        .map(|k| (text.find(&format!(r#""{k}":"#)).unwrap(), k.clone()))
        .collect();
    keys.sort();
    keys.into_iter().map(|(_, k)| k).collect()
}

#[test]
fn collateral_has_the_shape_of_intel_pcs_responses() {
    let (Some(real_tcb), Some(real_qe)) = (
        attested_testdata::read("tdx/go-tdx-guest/sample_tcbinfo_response_v5"),
        attested_testdata::read("tdx/go-tdx-guest/sample_qeIdentity_response"),
    ) else {
        return;
    };
    let real_tcb = String::from_utf8(real_tcb).unwrap();
    let real_qe = String::from_utf8(real_qe).unwrap();
    let platform = platform();
    let PcsCollateral {
        tcb_info_json,
        qe_identity_json,
        ..
    } = platform.collateral_pcs().clone();
    assert_eq!(paths(&tcb_info_json), paths(&real_tcb));
    assert_eq!(paths(&qe_identity_json), paths(&real_qe));
    assert_eq!(
        top_level_key_order(&tcb_info_json, "tcbInfo"),
        top_level_key_order(&real_tcb, "tcbInfo")
    );
    assert_eq!(
        top_level_key_order(&qe_identity_json, "enclaveIdentity"),
        top_level_key_order(&real_qe, "enclaveIdentity")
    );
}

#[test]
fn dcap_qvl_json_has_the_shape_of_dcap_qvls_samples() {
    let Some(sample) = attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json") else {
        return;
    };
    let sample: serde_json::Value = serde_json::from_slice(&sample).unwrap();
    let platform = platform();
    let ours: serde_json::Value =
        serde_json::from_str(platform.collateral_dcap_qvl_json()).unwrap();
    let keys = |v: &serde_json::Value| {
        v.as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.is_string()))
            .collect::<BTreeMap<_, _>>()
    };
    assert_eq!(keys(&ours), keys(&sample));
    let c = platform.collateral_pcs();
    assert_eq!(ours["root_ca_crl"], hex::encode(&c.root_ca_crl));
    assert_eq!(ours["pck_crl"], hex::encode(&c.pck_crl));
    assert_eq!(ours["tcb_info"], c.tcb_info.as_str());
    assert_eq!(
        ours["tcb_info_signature"],
        hex::encode(c.tcb_info_signature)
    );
    assert_eq!(ours["qe_identity"], c.qe_identity.as_str());
    assert_eq!(
        ours["qe_identity_signature"],
        hex::encode(c.qe_identity_signature)
    );
    assert_eq!(
        ours["pck_crl_issuer_chain"],
        c.pck_crl_issuer_chain.as_str()
    );
}

#[test]
fn same_seed_and_now_give_the_same_bytes() {
    let a = SimPlatform::from_seed(b"determinism", NOW).unwrap();
    let b = SimPlatform::from_seed(b"determinism", NOW).unwrap();
    let c = SimPlatform::from_seed(b"determinism!", NOW).unwrap();
    let d = SimPlatform::from_seed(b"determinism", NOW + 1).unwrap();
    let spec = a.quote_spec(QuoteFormat::V5Td15Ext);
    assert_eq!(a.quote(&spec).unwrap(), b.quote(&spec).unwrap());
    assert_eq!(a.collateral_pcs(), b.collateral_pcs());
    assert_eq!(a.root_certificate_der(), b.root_certificate_der());
    assert_ne!(a.root_certificate_der(), c.root_certificate_der());
    assert_ne!(a.attestation_public_key(), c.attestation_public_key());
    assert_ne!(a.quote(&spec).unwrap(), c.quote(&spec).unwrap());
    assert_ne!(
        a.root_certificate_der(),
        d.root_certificate_der(),
        "validity follows now"
    );
}

#[test]
fn debug_output_shows_no_keys() {
    let platform = platform();
    let debug = format!("{platform:?}");
    assert!(debug.starts_with("SimPlatform"));
    assert!(!debug.to_lowercase().contains("key"), "{debug}");
}

#[test]
fn quote_format_round_trips_through_version_and_body_type() {
    for format in QuoteFormat::ALL {
        assert_eq!(
            QuoteFormat::from_version(format.version(), format.body_type()),
            Some(format)
        );
    }
    assert_eq!(QuoteFormat::from_version(5, None), None);
    assert_eq!(QuoteFormat::from_version(4, Some(2)), None);
    assert_eq!(QuoteFormat::from_version(3, None), None);
}

#[test]
fn times_beyond_x509_and_rfc3339_are_errors_not_panics() {
    use attested_tdx::sim::SimError;
    for now in [u64::MAX, 253_402_300_800 /* 10000-01-01 */] {
        let err = SimPlatform::from_seed(b"far future", now).unwrap_err();
        assert!(matches!(err, SimError::TimeOutOfRange(_)), "{err}");
    }
    // The epoch itself works: back-dated validity saturates at 1970-01-01.
    let platform = SimPlatform::from_seed(b"epoch", 0).unwrap();
    assert_eq!(platform.valid_from(), 0);
    platform
        .quote(&platform.quote_spec(QuoteFormat::V4))
        .unwrap();
}
