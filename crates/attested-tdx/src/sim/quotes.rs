//! Simulated TDX quotes: layouts, the chosen TD report fields, and the byte encoding.

use sha2::{Digest, Sha256};

use super::SimError;

use crate::attributes::TdAttributes;
use crate::parse::{
    ATTESTATION_KEY_TYPE_ECDSA_P256, CERTIFICATION_TYPE_PCK_CHAIN, CERTIFICATION_TYPE_QE_REPORT,
    ENCLAVE_REPORT_LEN, HEADER_LEN, INTEL_QE_VENDOR_ID, TD_REPORT10_LEN, TD_REPORT15_EXT_LEN,
    TD_REPORT15_LEN, TDX_TEE_TYPE,
};

/// Length of the v5 body descriptor (body type u16, body size u32).
const V5_DESCRIPTOR_LEN: usize = 6;

/// The layout of a simulated quote: its version and TD report body type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuoteFormat {
    /// Quote v4 with a TD 1.0 report body (584 bytes at offset 48).
    #[default]
    V4,
    /// Quote v5, body type 2: TD 1.0 report body (584 bytes at offset 54).
    V5Td10,
    /// Quote v5, body type 3: TD 1.5 report body (648 bytes at offset 54).
    V5Td15,
    /// Quote v5, body type 4: TD 1.5 extended report body (885 bytes at offset 54).
    V5Td15Ext,
}

impl QuoteFormat {
    /// Every layout, for tests that cover them all.
    pub const ALL: [QuoteFormat; 4] = [Self::V4, Self::V5Td10, Self::V5Td15, Self::V5Td15Ext];

    /// The quote version in the header: 4 or 5.
    pub fn version(self) -> u16 {
        match self {
            Self::V4 => 4,
            Self::V5Td10 | Self::V5Td15 | Self::V5Td15Ext => 5,
        }
    }

    /// The v5 body type (2, 3 or 4), or `None` for a v4 quote, which has no body descriptor.
    pub fn body_type(self) -> Option<u16> {
        match self {
            Self::V4 => None,
            Self::V5Td10 => Some(2),
            Self::V5Td15 => Some(3),
            Self::V5Td15Ext => Some(4),
        }
    }

    /// The length of the TD report body.
    pub fn body_len(self) -> usize {
        match self {
            Self::V4 | Self::V5Td10 => TD_REPORT10_LEN,
            Self::V5Td15 => TD_REPORT15_LEN,
            Self::V5Td15Ext => TD_REPORT15_EXT_LEN,
        }
    }

    /// The offset of the TD report body: 48 for v4, 54 for v5.
    pub fn body_offset(self) -> usize {
        match self {
            Self::V4 => HEADER_LEN,
            _ => HEADER_LEN + V5_DESCRIPTOR_LEN,
        }
    }

    /// The length of the range the quote signature covers: header, v5 descriptor and body.
    pub fn signed_len(self) -> usize {
        self.body_offset() + self.body_len()
    }

    /// The layout for a quote version and, for v5, a body type.
    pub fn from_version(version: u16, body_type: Option<u16>) -> Option<Self> {
        match (version, body_type) {
            (4, None) => Some(Self::V4),
            (5, Some(2)) => Some(Self::V5Td10),
            (5, Some(3)) => Some(Self::V5Td15),
            (5, Some(4)) => Some(Self::V5Td15Ext),
            _ => None,
        }
    }
}

/// The TD report fields of a simulated quote.
///
/// Start from [`SimPlatform::quote_spec`](super::SimPlatform::quote_spec), which fills the
/// platform's own values (TEE_TCB_SVN, MRSIGNERSEAM, SEAMATTRIBUTES, ...) so that the quote
/// matches the platform's collateral, then set what the test is about:
///
/// ```
/// # use attested_tdx::sim::{QuoteFormat, QuoteSpec, SimPlatform};
/// # let platform = SimPlatform::from_seed(b"doc", 1_750_000_000).unwrap();
/// let spec = QuoteSpec {
///     mr_td: [0x11; 48],
///     report_data: [0x22; 64],
///     ..platform.quote_spec(QuoteFormat::V5Td15)
/// };
/// let quote = platform.quote(&spec).unwrap();
/// # assert_eq!(u16::from_le_bytes([quote[0], quote[1]]), 5);
/// ```
///
/// Multi-byte attribute fields hold the value as the TD report stores it, little-endian on the
/// wire. Fields of a body the [`format`](Self::format) does not have are ignored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuoteSpec {
    /// Quote version and body type.
    pub format: QuoteFormat,
    /// TEE_TCB_SVN: byte 0 the TDX module SVN, byte 1 its major version, byte 2 the late
    /// microcode SVN. Must meet a TCB level of the collateral for the quote to verify.
    pub tee_tcb_svn: [u8; 16],
    /// MRSEAM: measurement of the TDX module.
    pub mr_seam: [u8; 48],
    /// MRSIGNERSEAM: signer of the TDX module (all zero for Intel's).
    pub mr_signer_seam: [u8; 48],
    /// SEAMATTRIBUTES.
    pub seam_attributes: u64,
    /// TDATTRIBUTES, e.g. `TdAttributes::from_bits(TdAttributes::DEBUG)` for a debug TD.
    pub td_attributes: TdAttributes,
    /// XFAM.
    pub xfam: u64,
    /// MRTD: the initial TD measurement.
    pub mr_td: [u8; 48],
    /// MRCONFIGID.
    pub mr_config_id: [u8; 48],
    /// MROWNER.
    pub mr_owner: [u8; 48],
    /// MROWNERCONFIG.
    pub mr_owner_config: [u8; 48],
    /// RTMR0..3.
    pub rtmrs: [[u8; 48]; 4],
    /// REPORTDATA.
    pub report_data: [u8; 64],
    /// TD 1.5: TEE_TCB_SVN2, the current TCB after a TD-preserving module update.
    pub tee_tcb_svn2: [u8; 16],
    /// TD 1.5: MRSERVICETD.
    pub mr_service_td: [u8; 48],
    /// TD 1.5 extended: VMID.
    pub vmid: u8,
    /// TD 1.5 extended: TD_ID.
    pub td_id: [u8; 32],
    /// TD 1.5 extended: hash of the device information.
    pub dev_info: [u8; 48],
    /// TD 1.5 extended: service TD hash at TD creation.
    pub init_service_td_hash: [u8; 48],
    /// TD 1.5 extended: service TD attributes at TD creation.
    pub init_service_td_attributes: u64,
    /// TD 1.5 extended: CPUSVN at TD creation.
    pub init_cpu_svn: [u8; 16],
    /// TD 1.5 extended: TEE_TCB_SVN at TD creation.
    pub init_tee_tcb_svn: [u8; 16],
    /// TD 1.5 extended: FMSPC of the platform at TD creation (12-byte field).
    pub init_tee_fmspc: [u8; 12],
    /// TD 1.5 extended: currently bound service TD hash.
    pub cur_service_td_hash: [u8; 48],
    /// TD 1.5 extended: currently bound service TD attributes.
    pub cur_service_td_attributes: u64,
    /// Zero bytes appended after the signature data, as some real quotes carry.
    pub trailing_zeros: usize,
}

/// TDATTRIBUTES with only SEPT_VE_DISABLE set, what a production TD on bare metal runs with.
const DEFAULT_TD_ATTRIBUTES: TdAttributes = TdAttributes::from_bits(TdAttributes::SEPT_VE_DISABLE);
/// XFAM of a typical production TD (x87, SSE, AVX, AVX-512, PKRU, AMX state).
const DEFAULT_XFAM: u64 = 0x0006_02e7;

impl Default for QuoteSpec {
    /// A v4 quote of the default simulated platform with distinct, recognisable measurements:
    /// each 48-byte register is filled with one byte (MRTD 0x01, RTMR0..3 0x10..0x13, ...) and
    /// REPORTDATA is zero.
    fn default() -> Self {
        let platform = super::SimConfig::default();
        let tee_tcb_svn = platform.tee_tcb_svn;
        Self {
            format: QuoteFormat::V4,
            tee_tcb_svn,
            mr_seam: [0x5e; 48],
            mr_signer_seam: platform.mr_signer_seam,
            seam_attributes: platform.seam_attributes,
            td_attributes: DEFAULT_TD_ATTRIBUTES,
            xfam: DEFAULT_XFAM,
            mr_td: [0x01; 48],
            mr_config_id: [0; 48],
            mr_owner: [0; 48],
            mr_owner_config: [0; 48],
            rtmrs: [[0x10; 48], [0x11; 48], [0x12; 48], [0x13; 48]],
            report_data: [0; 64],
            tee_tcb_svn2: tee_tcb_svn,
            mr_service_td: [0; 48],
            vmid: 0,
            td_id: [0x7d; 32],
            dev_info: [0; 48],
            init_service_td_hash: [0; 48],
            init_service_td_attributes: 0,
            init_cpu_svn: platform.cpu_svn,
            init_tee_tcb_svn: tee_tcb_svn,
            init_tee_fmspc: fmspc_field(&platform.fmspc),
            cur_service_td_hash: [0; 48],
            cur_service_td_attributes: 0,
            trailing_zeros: 0,
        }
    }
}

/// The 12-byte INIT_TEE_FMSPC field: the 6-byte FMSPC, zero-padded.
pub(crate) fn fmspc_field(fmspc: &[u8; 6]) -> [u8; 12] {
    let mut field = [0u8; 12];
    for (dst, src) in field.iter_mut().zip(fmspc) {
        *dst = *src;
    }
    field
}

/// The quote header: version, ECDSA-P256 key type, TDX, reserved, Intel QE vendor, user data
/// (the QE ID followed by four zero bytes, as Intel's QE writes it).
pub(crate) fn encode_header(format: QuoteFormat, qe_id: &[u8; 16], out: &mut Vec<u8>) {
    out.extend_from_slice(&format.version().to_le_bytes());
    out.extend_from_slice(&ATTESTATION_KEY_TYPE_ECDSA_P256.to_le_bytes());
    out.extend_from_slice(&TDX_TEE_TYPE.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&INTEL_QE_VENDOR_ID);
    out.extend_from_slice(qe_id);
    out.extend_from_slice(&[0; 4]);
}

/// The v5 descriptor (if any) and the TD report body.
pub(crate) fn encode_body(spec: &QuoteSpec, out: &mut Vec<u8>) -> Result<(), SimError> {
    let format = spec.format;
    if let Some(body_type) = format.body_type() {
        out.extend_from_slice(&body_type.to_le_bytes());
        out.extend_from_slice(&le_u32(format.body_len(), "body size")?);
    }
    out.extend_from_slice(&spec.tee_tcb_svn);
    out.extend_from_slice(&spec.mr_seam);
    out.extend_from_slice(&spec.mr_signer_seam);
    out.extend_from_slice(&spec.seam_attributes.to_le_bytes());
    out.extend_from_slice(&spec.td_attributes.to_le_bytes());
    out.extend_from_slice(&spec.xfam.to_le_bytes());
    out.extend_from_slice(&spec.mr_td);
    out.extend_from_slice(&spec.mr_config_id);
    out.extend_from_slice(&spec.mr_owner);
    out.extend_from_slice(&spec.mr_owner_config);
    for rtmr in &spec.rtmrs {
        out.extend_from_slice(rtmr);
    }
    out.extend_from_slice(&spec.report_data);
    if matches!(format, QuoteFormat::V5Td15 | QuoteFormat::V5Td15Ext) {
        out.extend_from_slice(&spec.tee_tcb_svn2);
        out.extend_from_slice(&spec.mr_service_td);
    }
    if format == QuoteFormat::V5Td15Ext {
        out.push(spec.vmid);
        out.extend_from_slice(&spec.td_id);
        out.extend_from_slice(&spec.dev_info);
        out.extend_from_slice(&spec.init_service_td_hash);
        out.extend_from_slice(&spec.init_service_td_attributes.to_le_bytes());
        out.extend_from_slice(&spec.init_cpu_svn);
        out.extend_from_slice(&spec.init_tee_tcb_svn);
        out.extend_from_slice(&spec.init_tee_fmspc);
        out.extend_from_slice(&spec.cur_service_td_hash);
        out.extend_from_slice(&spec.cur_service_td_attributes.to_le_bytes());
    }
    Ok(())
}

/// The fields of the quoting enclave's own SGX report.
pub(crate) struct QeReportFields<'a> {
    pub(crate) cpu_svn: &'a [u8; 16],
    pub(crate) mr_enclave: &'a [u8; 32],
    pub(crate) mr_signer: &'a [u8; 32],
    pub(crate) isv_prod_id: u16,
    pub(crate) isv_svn: u16,
}

/// QE ATTRIBUTES as Intel's TD QE reports them: INIT | MODE64BIT | PROVISIONKEY, XFRM 0xe7.
pub(crate) const QE_ATTRIBUTES: [u8; 16] = [0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7, 0, 0, 0, 0, 0, 0, 0];
/// Intel's QE authentication data: the 32 bytes 0x00..0x1f.
pub(crate) const QE_AUTH_DATA: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
];

/// The 384-byte SGX report body of the QE. REPORTDATA binds the attestation key:
/// SHA-256(attestation key || QE auth data) followed by 32 zero bytes.
pub(crate) fn encode_qe_report(
    fields: &QeReportFields<'_>,
    attestation_key: &[u8; 64],
    auth_data: &[u8],
) -> Vec<u8> {
    let mut report = Vec::with_capacity(ENCLAVE_REPORT_LEN);
    report.extend_from_slice(fields.cpu_svn); // CPUSVN @0
    report.extend_from_slice(&0u32.to_le_bytes()); // MISCSELECT @16
    report.extend_from_slice(&[0; 28]); // reserved, ISVEXTPRODID @20
    report.extend_from_slice(&QE_ATTRIBUTES); // ATTRIBUTES @48
    report.extend_from_slice(fields.mr_enclave); // MRENCLAVE @64
    report.extend_from_slice(&[0; 32]); // reserved @96
    report.extend_from_slice(fields.mr_signer); // MRSIGNER @128
    report.extend_from_slice(&[0; 96]); // reserved, CONFIGID @160
    report.extend_from_slice(&fields.isv_prod_id.to_le_bytes()); // ISVPRODID @256
    report.extend_from_slice(&fields.isv_svn.to_le_bytes()); // ISVSVN @258
    report.extend_from_slice(&[0; 60]); // CONFIGSVN, reserved, ISVFAMILYID @260
    let binding = Sha256::new()
        .chain_update(attestation_key)
        .chain_update(auth_data)
        .finalize();
    report.extend_from_slice(&binding); // REPORTDATA @320
    report.extend_from_slice(&[0; 32]);
    report
}

/// Everything of the ECDSA signature data after the quote signature: the attestation key and
/// certification data type 6 (QE report, its signature by the PCK key, QE auth data, and the
/// inner type 5 PEM chain).
pub(crate) fn encode_signature_tail(
    attestation_key: &[u8; 64],
    qe_report: &[u8],
    qe_report_signature: &[u8; 64],
    auth_data: &[u8],
    pck_chain_pem: &[u8],
) -> Result<Vec<u8>, SimError> {
    let mut qe_certification = Vec::with_capacity(ENCLAVE_REPORT_LEN + 128 + pck_chain_pem.len());
    qe_certification.extend_from_slice(qe_report);
    qe_certification.extend_from_slice(qe_report_signature);
    let auth_len = u16::try_from(auth_data.len()).map_err(|_| SimError::TooLarge {
        what: "QE auth data",
    })?;
    qe_certification.extend_from_slice(&auth_len.to_le_bytes());
    qe_certification.extend_from_slice(auth_data);
    qe_certification.extend_from_slice(&CERTIFICATION_TYPE_PCK_CHAIN.to_le_bytes());
    qe_certification.extend_from_slice(&le_u32(pck_chain_pem.len(), "PCK chain")?);
    qe_certification.extend_from_slice(pck_chain_pem);

    let mut tail = Vec::with_capacity(64 + 6 + qe_certification.len());
    tail.extend_from_slice(attestation_key);
    tail.extend_from_slice(&CERTIFICATION_TYPE_QE_REPORT.to_le_bytes());
    tail.extend_from_slice(&le_u32(qe_certification.len(), "certification data")?);
    tail.extend_from_slice(&qe_certification);
    Ok(tail)
}

pub(crate) fn le_u32(len: usize, what: &'static str) -> Result<[u8; 4], SimError> {
    u32::try_from(len)
        .map(u32::to_le_bytes)
        .map_err(|_| SimError::TooLarge { what })
}
