//! Zero-copy TDX quote parsing (quote versions 4 and 5; TD report bodies 1.0, 1.5 and 1.5-extended).
//!
//! Layout (little-endian), after Intel's `sgx_quote_4.h` / `sgx_quote_5.h`:
//!
//! ```text
//! v4: header 48 | TD report 1.0 (584)                           | sig len u32 | signature data
//! v5: header 48 | body type u16, body size u32 | TD report body | sig len u32 | signature data
//! signature data: quote sig 64 | attestation key 64 | cert type u16 (6) | size u32 |
//!     QE report 384 | QE report sig 64 | QE auth data (u16 len) | cert type u16 (5) | size u32 | PEM
//! ```
//!
//! The signed range is everything before the signature length: `[0, 632)` for v4 and
//! `[0, 54 + body size)` for v5, which includes the 6-byte body descriptor.

use crate::attributes::TdAttributes;
use crate::errors::ParseError;
use crate::reader::Reader;

/// `tee_type` of a TDX quote.
pub const TDX_TEE_TYPE: u32 = 0x81;
/// `tee_type` of an SGX quote.
pub const SGX_TEE_TYPE: u32 = 0;
/// The only attestation key type DCAP defines: ECDSA with P-256.
pub const ATTESTATION_KEY_TYPE_ECDSA_P256: u16 = 2;
/// The QE vendor ID of Intel's quoting enclaves.
pub const INTEL_QE_VENDOR_ID: [u8; 16] = [
    0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
];

/// Certification data type 5: the PCK certificate chain as PEM, leaf first.
pub const CERTIFICATION_TYPE_PCK_CHAIN: u16 = 5;
/// Certification data type 6: the QE report certification data that wraps the PCK chain.
pub const CERTIFICATION_TYPE_QE_REPORT: u16 = 6;

/// Length of the quote header.
pub const HEADER_LEN: usize = 48;
/// Length of a TD 1.0 report body.
pub const TD_REPORT10_LEN: usize = 584;
/// Length of a TD 1.5 report body.
pub const TD_REPORT15_LEN: usize = 648;
/// Length of a TD 1.5-extended report body (v5 body type 4).
pub const TD_REPORT15_EXT_LEN: usize = 885;
/// Length of the QE report (an SGX report body).
pub const ENCLAVE_REPORT_LEN: usize = 384;

/// The quote format version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum QuoteVersion {
    /// Version 4: always a TD 1.0 report body.
    V4,
    /// Version 5: a body descriptor (type and size) before the body.
    V5,
}

/// A parsed TDX quote: a view over the caller's bytes, which it borrows and never copies.
///
/// Parsing checks structure only: lengths, types and versions. Nothing in a `Quote` is trusted
/// until a verifier has checked its signatures against collateral.
#[derive(Debug, Clone)]
pub struct Quote<'a> {
    bytes: &'a [u8],
    header: Header<'a>,
    version: QuoteVersion,
    report: TdReport<'a>,
    signed_len: usize,
    signature: QuoteSignature<'a>,
    trailing_padding: usize,
}

impl<'a> Quote<'a> {
    /// Parses a TDX quote (v4 or v5) from `bytes`.
    ///
    /// Zero bytes after the signature data are accepted as padding (real quotes carry them) and
    /// reported by [`Quote::trailing_padding`]; any other trailing byte is an error.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let quote = Self::parse_allowing_trailing_data(bytes)?;
        let trailing = quote.trailing_data();
        // An OR-fold vectorizes; `any` would stop early but test byte by byte.
        if trailing.iter().fold(0, |acc, byte| acc | byte) != 0 {
            return Err(ParseError::TrailingData {
                offset: bytes.len() - trailing.len(),
                len: trailing.len(),
            });
        }
        Ok(quote)
    }

    /// Parses a TDX quote like [`Quote::parse`], but accepts any bytes after the signature data
    /// and reports them by [`Quote::trailing_data`]. Neither the quote signature nor the QE
    /// report covers them: use this only for producers known to append data (some test
    /// fixtures do), and never read meaning into those bytes.
    pub fn parse_allowing_trailing_data(bytes: &'a [u8]) -> Result<Self, ParseError> {
        let mut reader = Reader::new(bytes);
        let header = Header::read(&mut reader)?;
        let (version, report) = match header.version {
            4 => (
                QuoteVersion::V4,
                TdReport::Td10(TdReport10::read(&mut reader)?),
            ),
            _ => (QuoteVersion::V5, TdReport::read_v5(&mut reader)?),
        };
        let signed_len = reader.offset();
        let signature_base = signed_len + 4;
        let signature_bytes = reader.u32_prefixed("signature data")?;
        let signature = QuoteSignature::read(Reader::at(signature_bytes, signature_base))?;
        Ok(Self {
            bytes,
            header,
            version,
            report,
            signed_len,
            signature,
            trailing_padding: reader.remaining().len(),
        })
    }

    /// The quote header.
    pub fn header(&self) -> &Header<'a> {
        &self.header
    }

    /// The quote format version.
    pub fn version(&self) -> QuoteVersion {
        self.version
    }

    /// The TD report: the measurements and REPORTDATA of the TD.
    pub fn report(&self) -> &TdReport<'a> {
        &self.report
    }

    /// The bytes the quote signature covers: header and body (with the v5 body descriptor).
    pub fn signed_bytes(&self) -> &'a [u8] {
        self.bytes.get(..self.signed_len).unwrap_or_default()
    }

    /// The ECDSA signature data: signatures, attestation key, QE report and certification data.
    pub fn signature(&self) -> &QuoteSignature<'a> {
        &self.signature
    }

    /// The number of bytes after the signature data (zero padding, unless parsed with
    /// [`Quote::parse_allowing_trailing_data`]).
    pub fn trailing_padding(&self) -> usize {
        self.trailing_padding
    }

    /// The bytes after the signature data. Nothing signs them.
    pub fn trailing_data(&self) -> &'a [u8] {
        self.bytes
            .get(self.bytes.len() - self.trailing_padding..)
            .unwrap_or_default()
    }

    /// The whole input, padding included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// The 48-byte quote header.
#[derive(Debug, Clone, Copy)]
pub struct Header<'a> {
    bytes: &'a [u8; HEADER_LEN],
    version: u16,
    attestation_key_type: u16,
    tee_type: u32,
    qe_svn: u16,
    pce_svn: u16,
    qe_vendor_id: &'a [u8; 16],
    user_data: &'a [u8; 20],
}

impl<'a> Header<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        let bytes = reader.array::<HEADER_LEN>("header")?;
        let mut fields = Reader::at(bytes, 0);
        let header = Self {
            bytes,
            version: fields.u16("version")?,
            attestation_key_type: fields.u16("attestation key type")?,
            tee_type: fields.u32("tee_type")?,
            qe_svn: fields.u16("QE SVN")?,
            pce_svn: fields.u16("PCE SVN")?,
            qe_vendor_id: fields.array("QE vendor ID")?,
            user_data: fields.array("user data")?,
        };
        // The tee_type decides first, so an SGX quote of any version says plainly what it is.
        if header.tee_type != TDX_TEE_TYPE {
            return Err(ParseError::NotTdx {
                tee_type: header.tee_type,
            });
        }
        if !matches!(header.version, 4 | 5) {
            return Err(ParseError::UnsupportedVersion {
                version: header.version,
            });
        }
        if header.attestation_key_type != ATTESTATION_KEY_TYPE_ECDSA_P256 {
            return Err(ParseError::UnsupportedAttestationKeyType {
                key_type: header.attestation_key_type,
            });
        }
        Ok(header)
    }

    /// The raw 48 bytes.
    pub fn as_bytes(&self) -> &'a [u8; HEADER_LEN] {
        self.bytes
    }

    /// The quote version (4 or 5).
    pub fn version(&self) -> u16 {
        self.version
    }

    /// The attestation key type (always 2, ECDSA P-256, once parsed).
    pub fn attestation_key_type(&self) -> u16 {
        self.attestation_key_type
    }

    /// The TEE type (always 0x81, TDX, once parsed).
    pub fn tee_type(&self) -> u32 {
        self.tee_type
    }

    /// Bytes 8..10: the QE SVN in SGX quotes, reserved in TDX quotes.
    pub fn qe_svn(&self) -> u16 {
        self.qe_svn
    }

    /// Bytes 10..12: the PCE SVN in SGX quotes, reserved in TDX quotes.
    pub fn pce_svn(&self) -> u16 {
        self.pce_svn
    }

    /// The quoting enclave's vendor.
    pub fn qe_vendor_id(&self) -> &'a [u8; 16] {
        self.qe_vendor_id
    }

    /// Whether the quoting enclave is Intel's.
    pub fn is_intel_qe(&self) -> bool {
        *self.qe_vendor_id == INTEL_QE_VENDOR_ID
    }

    /// Custom data of the quoting enclave (the first bytes hold the QE's platform ID hint).
    pub fn user_data(&self) -> &'a [u8; 20] {
        self.user_data
    }
}

/// The TD report of a quote, by body type.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum TdReport<'a> {
    /// TDX 1.0 report (v4 quotes, v5 body type 2).
    Td10(TdReport10<'a>),
    /// TDX 1.5 report (v5 body type 3).
    Td15(TdReport15<'a>),
    /// TDX 1.5 report with the extension (v5 body type 4).
    Td15Ext(TdReport15Ext<'a>),
}

impl<'a> TdReport<'a> {
    fn read_v5(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        let body_type = reader.u16("body type")?;
        let declared = reader.u32("body size")?;
        let expected = match body_type {
            2 => TD_REPORT10_LEN,
            3 => TD_REPORT15_LEN,
            4 => TD_REPORT15_EXT_LEN,
            _ => return Err(ParseError::UnsupportedBodyType { body_type }),
        };
        let expected_u32 = u32::try_from(expected).unwrap_or(u32::MAX);
        if declared != expected_u32 {
            return Err(ParseError::BodySizeMismatch {
                body_type,
                declared,
                expected: expected_u32,
            });
        }
        let base = reader.offset();
        let mut body = Reader::at(reader.take(expected, "TD report body")?, base);
        let report = match body_type {
            2 => Self::Td10(TdReport10::read(&mut body)?),
            3 => Self::Td15(TdReport15::read(&mut body)?),
            _ => Self::Td15Ext(TdReport15Ext::read(&mut body)?),
        };
        body.finish("TD report body")?;
        Ok(report)
    }

    /// The fields every TD report has (the TDX 1.0 layout).
    pub fn td10(&self) -> &TdReport10<'a> {
        match self {
            Self::Td10(report) => report,
            Self::Td15(report) => &report.base,
            Self::Td15Ext(report) => &report.base.base,
        }
    }

    /// The TDX 1.5 fields, for 1.5 and 1.5-extended reports.
    pub fn td15(&self) -> Option<&TdReport15<'a>> {
        match self {
            Self::Td10(_) => None,
            Self::Td15(report) => Some(report),
            Self::Td15Ext(report) => Some(&report.base),
        }
    }

    /// The extension fields of a 1.5-extended report.
    pub fn td15_ext(&self) -> Option<&TdReport15Ext<'a>> {
        match self {
            Self::Td15Ext(report) => Some(report),
            Self::Td10(_) | Self::Td15(_) => None,
        }
    }

    /// The v5 body type this report has (2, 3 or 4); v4 quotes carry a type-2 body.
    pub fn body_type(&self) -> u16 {
        match self {
            Self::Td10(_) => 2,
            Self::Td15(_) => 3,
            Self::Td15Ext(_) => 4,
        }
    }

    /// TEE_TCB_SVN2 (TDX 1.5 and later).
    pub fn tee_tcb_svn2(&self) -> Option<&'a [u8; 16]> {
        self.td15().map(|report| report.tee_tcb_svn2)
    }

    /// MR_SERVICETD (TDX 1.5 and later).
    pub fn mr_service_td(&self) -> Option<&'a [u8; 48]> {
        self.td15().map(|report| report.mr_service_td)
    }
}

impl<'a> core::ops::Deref for TdReport<'a> {
    type Target = TdReport10<'a>;

    fn deref(&self) -> &TdReport10<'a> {
        self.td10()
    }
}

/// The TDX 1.0 TD report (584 bytes): the fields every TD report has.
#[derive(Debug, Clone, Copy)]
pub struct TdReport10<'a> {
    tee_tcb_svn: &'a [u8; 16],
    mr_seam: &'a [u8; 48],
    mr_signer_seam: &'a [u8; 48],
    seam_attributes: &'a [u8; 8],
    td_attributes: &'a [u8; 8],
    xfam: &'a [u8; 8],
    mr_td: &'a [u8; 48],
    mr_config_id: &'a [u8; 48],
    mr_owner: &'a [u8; 48],
    mr_owner_config: &'a [u8; 48],
    rtmrs: [&'a [u8; 48]; 4],
    report_data: &'a [u8; 64],
}

impl<'a> TdReport10<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        Ok(Self {
            tee_tcb_svn: reader.array("TEE_TCB_SVN")?,
            mr_seam: reader.array("MRSEAM")?,
            mr_signer_seam: reader.array("MRSIGNERSEAM")?,
            seam_attributes: reader.array("SEAMATTRIBUTES")?,
            td_attributes: reader.array("TDATTRIBUTES")?,
            xfam: reader.array("XFAM")?,
            mr_td: reader.array("MRTD")?,
            mr_config_id: reader.array("MRCONFIGID")?,
            mr_owner: reader.array("MROWNER")?,
            mr_owner_config: reader.array("MROWNERCONFIG")?,
            rtmrs: [
                reader.array("RTMR0")?,
                reader.array("RTMR1")?,
                reader.array("RTMR2")?,
                reader.array("RTMR3")?,
            ],
            report_data: reader.array("REPORTDATA")?,
        })
    }

    /// TEE_TCB_SVN: the TDX module's security version numbers.
    pub fn tee_tcb_svn(&self) -> &'a [u8; 16] {
        self.tee_tcb_svn
    }

    /// MRSEAM: the measurement of the TDX module.
    pub fn mr_seam(&self) -> &'a [u8; 48] {
        self.mr_seam
    }

    /// MRSIGNERSEAM: the signer of the TDX module (zero for Intel's).
    pub fn mr_signer_seam(&self) -> &'a [u8; 48] {
        self.mr_signer_seam
    }

    /// SEAMATTRIBUTES: the TDX module's attributes.
    pub fn seam_attributes(&self) -> &'a [u8; 8] {
        self.seam_attributes
    }

    /// TDATTRIBUTES, decoded.
    pub fn td_attributes(&self) -> TdAttributes {
        TdAttributes::from_le_bytes(*self.td_attributes)
    }

    /// TDATTRIBUTES as the 8 bytes of the report.
    pub fn td_attributes_raw(&self) -> &'a [u8; 8] {
        self.td_attributes
    }

    /// XFAM: the extended features the TD may use.
    pub fn xfam(&self) -> &'a [u8; 8] {
        self.xfam
    }

    /// MRTD: the measurement of the TD's initial contents (its firmware).
    pub fn mr_td(&self) -> &'a [u8; 48] {
        self.mr_td
    }

    /// MRCONFIGID: software-defined configuration ID.
    pub fn mr_config_id(&self) -> &'a [u8; 48] {
        self.mr_config_id
    }

    /// MROWNER: software-defined ID of the TD's owner.
    pub fn mr_owner(&self) -> &'a [u8; 48] {
        self.mr_owner
    }

    /// MROWNERCONFIG: software-defined owner configuration ID.
    pub fn mr_owner_config(&self) -> &'a [u8; 48] {
        self.mr_owner_config
    }

    /// RTMR `index` (0 to 3), or `None` for another index.
    pub fn rtmr(&self, index: usize) -> Option<&'a [u8; 48]> {
        self.rtmrs.get(index).copied()
    }

    /// RTMR0 to RTMR3.
    pub fn rtmrs(&self) -> [&'a [u8; 48]; 4] {
        self.rtmrs
    }

    /// REPORTDATA: the 64 bytes the TD bound to this report.
    pub fn report_data(&self) -> &'a [u8; 64] {
        self.report_data
    }
}

/// The TDX 1.5 TD report (648 bytes).
#[derive(Debug, Clone, Copy)]
pub struct TdReport15<'a> {
    /// The TDX 1.0 fields.
    pub base: TdReport10<'a>,
    tee_tcb_svn2: &'a [u8; 16],
    mr_service_td: &'a [u8; 48],
}

impl<'a> TdReport15<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        Ok(Self {
            base: TdReport10::read(reader)?,
            tee_tcb_svn2: reader.array("TEE_TCB_SVN2")?,
            mr_service_td: reader.array("MR_SERVICETD")?,
        })
    }

    /// TEE_TCB_SVN2: the TDX module's SVNs after a TD-preserving update.
    pub fn tee_tcb_svn2(&self) -> &'a [u8; 16] {
        self.tee_tcb_svn2
    }

    /// MR_SERVICETD: the hash of the service TDs bound to this TD.
    pub fn mr_service_td(&self) -> &'a [u8; 48] {
        self.mr_service_td
    }
}

/// The TDX 1.5-extended TD report (v5 body type 4, 885 bytes).
#[derive(Debug, Clone, Copy)]
pub struct TdReport15Ext<'a> {
    /// The TDX 1.5 fields.
    pub base: TdReport15<'a>,
    vmid: u8,
    td_id: &'a [u8; 32],
    dev_info: &'a [u8; 48],
    init_service_td_hash: &'a [u8; 48],
    init_service_td_attributes: &'a [u8; 8],
    init_cpu_svn: &'a [u8; 16],
    init_tee_tcb_svn: &'a [u8; 16],
    init_tee_fmspc: &'a [u8; 12],
    cur_service_td_hash: &'a [u8; 48],
    cur_service_td_attributes: &'a [u8; 8],
}

impl<'a> TdReport15Ext<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        Ok(Self {
            base: TdReport15::read(reader)?,
            vmid: reader.u8("VMID")?,
            td_id: reader.array("TD_ID")?,
            dev_info: reader.array("DEV_INFO")?,
            init_service_td_hash: reader.array("INIT_SERVTD_HASH")?,
            init_service_td_attributes: reader.array("INIT_SERVTD_ATTRIBUTES")?,
            init_cpu_svn: reader.array("INIT_CPUSVN")?,
            init_tee_tcb_svn: reader.array("INIT_TEE_TCB_SVN")?,
            init_tee_fmspc: reader.array("INIT_TEE_FMSPC")?,
            cur_service_td_hash: reader.array("CUR_SERVTD_HASH")?,
            cur_service_td_attributes: reader.array("CUR_SERVTD_ATTRIBUTES")?,
        })
    }

    /// The VM index: 0 for an unpartitioned TD or the L1 VMM, 1 to 3 for TD VMs.
    pub fn vmid(&self) -> u8 {
        self.vmid
    }

    /// The TD instance's statistically unique ID.
    pub fn td_id(&self) -> &'a [u8; 32] {
        self.td_id
    }

    /// The hash of the device information.
    pub fn dev_info(&self) -> &'a [u8; 48] {
        self.dev_info
    }

    /// SERVTD_HASH of the service TDs bound when the TD was created.
    pub fn init_service_td_hash(&self) -> &'a [u8; 48] {
        self.init_service_td_hash
    }

    /// Attributes of the service TD bound when the TD was created.
    pub fn init_service_td_attributes(&self) -> &'a [u8; 8] {
        self.init_service_td_attributes
    }

    /// The TD's CPUSVN at creation.
    pub fn init_cpu_svn(&self) -> &'a [u8; 16] {
        self.init_cpu_svn
    }

    /// The TD's TEE_TCB_SVN at creation.
    pub fn init_tee_tcb_svn(&self) -> &'a [u8; 16] {
        self.init_tee_tcb_svn
    }

    /// The FMSPC of the platform the TD was created on (6 bytes, zero padded).
    pub fn init_tee_fmspc(&self) -> &'a [u8; 12] {
        self.init_tee_fmspc
    }

    /// SERVTD_HASH of the currently bound service TDs.
    pub fn cur_service_td_hash(&self) -> &'a [u8; 48] {
        self.cur_service_td_hash
    }

    /// Attributes of the currently bound service TD.
    pub fn cur_service_td_attributes(&self) -> &'a [u8; 8] {
        self.cur_service_td_attributes
    }
}

/// The ECDSA P-256 signature data of a quote.
#[derive(Debug, Clone)]
pub struct QuoteSignature<'a> {
    quote_signature: &'a [u8; 64],
    attestation_key: &'a [u8; 64],
    qe_report: EnclaveReport<'a>,
    qe_report_signature: &'a [u8; 64],
    qe_auth_data: &'a [u8],
    certification: CertificationData<'a>,
}

impl<'a> QuoteSignature<'a> {
    fn read(mut reader: Reader<'a>) -> Result<Self, ParseError> {
        let quote_signature = reader.array("quote signature")?;
        let attestation_key = reader.array("attestation key")?;
        let type_offset = reader.offset();
        let outer_type = reader.u16("certification data type")?;
        if outer_type != CERTIFICATION_TYPE_QE_REPORT {
            return Err(ParseError::UnexpectedCertificationType {
                offset: type_offset,
                found: outer_type,
                expected: CERTIFICATION_TYPE_QE_REPORT,
            });
        }
        let qe_data_base = reader.offset() + 4;
        let mut qe_data = Reader::at(
            reader.u32_prefixed("QE report certification data")?,
            qe_data_base,
        );
        reader.finish("signature data")?;

        let qe_report = EnclaveReport::read(&mut qe_data)?;
        let qe_report_signature = qe_data.array("QE report signature")?;
        let qe_auth_data = qe_data.u16_prefixed("QE authentication data")?;
        let certification = CertificationData::read(&mut qe_data)?;
        qe_data.finish("QE report certification data")?;
        Ok(Self {
            quote_signature,
            attestation_key,
            qe_report,
            qe_report_signature,
            qe_auth_data,
            certification,
        })
    }

    /// The quote signature: ECDSA P-256 `r || s` over [`Quote::signed_bytes`].
    pub fn quote_signature(&self) -> &'a [u8; 64] {
        self.quote_signature
    }

    /// The attestation key: the uncompressed P-256 point `x || y`, without the 0x04 prefix.
    pub fn attestation_key(&self) -> &'a [u8; 64] {
        self.attestation_key
    }

    /// The quoting enclave's report, which binds the attestation key.
    pub fn qe_report(&self) -> &EnclaveReport<'a> {
        &self.qe_report
    }

    /// The PCK's ECDSA P-256 `r || s` signature over the QE report.
    pub fn qe_report_signature(&self) -> &'a [u8; 64] {
        self.qe_report_signature
    }

    /// The QE authentication data, hashed with the attestation key into the QE report.
    pub fn qe_auth_data(&self) -> &'a [u8] {
        self.qe_auth_data
    }

    /// The certification data that identifies the PCK (normally its certificate chain).
    pub fn certification(&self) -> &CertificationData<'a> {
        &self.certification
    }
}

/// An SGX enclave report body (384 bytes): here, the quoting enclave's report.
#[derive(Debug, Clone, Copy)]
pub struct EnclaveReport<'a> {
    bytes: &'a [u8; ENCLAVE_REPORT_LEN],
    cpu_svn: &'a [u8; 16],
    misc_select: u32,
    attributes: &'a [u8; 16],
    mr_enclave: &'a [u8; 32],
    mr_signer: &'a [u8; 32],
    isv_prod_id: u16,
    isv_svn: u16,
    report_data: &'a [u8; 64],
}

impl<'a> EnclaveReport<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        let base = reader.offset();
        let bytes = reader.array::<ENCLAVE_REPORT_LEN>("QE report")?;
        let mut fields = Reader::at(bytes, base);
        let cpu_svn = fields.array("QE report CPUSVN")?;
        let misc_select = fields.u32("QE report MISCSELECT")?;
        fields.take(28, "QE report reserved")?;
        let attributes = fields.array("QE report ATTRIBUTES")?;
        let mr_enclave = fields.array("QE report MRENCLAVE")?;
        fields.take(32, "QE report reserved")?;
        let mr_signer = fields.array("QE report MRSIGNER")?;
        fields.take(96, "QE report reserved")?;
        let isv_prod_id = fields.u16("QE report ISVPRODID")?;
        let isv_svn = fields.u16("QE report ISVSVN")?;
        fields.take(60, "QE report reserved")?;
        let report_data = fields.array("QE report REPORTDATA")?;
        fields.finish("QE report")?;
        Ok(Self {
            bytes,
            cpu_svn,
            misc_select,
            attributes,
            mr_enclave,
            mr_signer,
            isv_prod_id,
            isv_svn,
            report_data,
        })
    }

    /// The raw 384 bytes (what the QE report signature covers).
    pub fn as_bytes(&self) -> &'a [u8; ENCLAVE_REPORT_LEN] {
        self.bytes
    }

    /// CPUSVN.
    pub fn cpu_svn(&self) -> &'a [u8; 16] {
        self.cpu_svn
    }

    /// MISCSELECT.
    pub fn misc_select(&self) -> u32 {
        self.misc_select
    }

    /// ATTRIBUTES.
    pub fn attributes(&self) -> &'a [u8; 16] {
        self.attributes
    }

    /// MRENCLAVE.
    pub fn mr_enclave(&self) -> &'a [u8; 32] {
        self.mr_enclave
    }

    /// MRSIGNER.
    pub fn mr_signer(&self) -> &'a [u8; 32] {
        self.mr_signer
    }

    /// ISVPRODID.
    pub fn isv_prod_id(&self) -> u16 {
        self.isv_prod_id
    }

    /// ISVSVN.
    pub fn isv_svn(&self) -> u16 {
        self.isv_svn
    }

    /// REPORTDATA: for a QE report, SHA-256(attestation key || QE auth data) then 32 zero bytes.
    pub fn report_data(&self) -> &'a [u8; 64] {
        self.report_data
    }
}

/// The certification data inside the QE report certification data.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum CertificationData<'a> {
    /// Type 5: the PCK certificate chain, PEM, leaf first.
    PckCertChain(PckCertChain<'a>),
    /// Any other type (1 to 4: PPID forms; 7: platform manifest): kept opaque.
    Other {
        /// The certification data type.
        cert_type: u16,
        /// The certification data.
        data: &'a [u8],
    },
}

impl<'a> CertificationData<'a> {
    fn read(reader: &mut Reader<'a>) -> Result<Self, ParseError> {
        let cert_type = reader.u16("certification data type")?;
        let base = reader.offset() + 4;
        let data = reader.u32_prefixed("certification data")?;
        Ok(match cert_type {
            CERTIFICATION_TYPE_PCK_CHAIN => Self::PckCertChain(PckCertChain { pem: data, base }),
            _ => Self::Other { cert_type, data },
        })
    }

    /// The PCK certificate chain, when this is type 5.
    pub fn pck_cert_chain(&self) -> Option<&PckCertChain<'a>> {
        match self {
            Self::PckCertChain(chain) => Some(chain),
            Self::Other { .. } => None,
        }
    }
}

/// The PCK certificate chain of certification data type 5: PEM certificates, leaf first.
///
/// The certificates are split lazily, so parsing a quote costs nothing for them.
#[derive(Debug, Clone, Copy)]
pub struct PckCertChain<'a> {
    pem: &'a [u8],
    base: usize,
}

const PEM_BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
const PEM_END: &[u8] = b"-----END CERTIFICATE-----";

impl<'a> PckCertChain<'a> {
    /// The PEM text as the quote carries it (it may end with NUL bytes).
    pub fn pem(&self) -> &'a [u8] {
        self.pem
    }

    /// The PEM blocks, leaf first, each from `-----BEGIN CERTIFICATE-----` to
    /// `-----END CERTIFICATE-----`.
    pub fn certificates(&self) -> PemCertificates<'a> {
        PemCertificates {
            rest: self.pem,
            offset: self.base,
        }
    }

    /// The DER certificates, leaf first.
    pub fn der_certificates(&self) -> Result<Vec<Vec<u8>>, ParseError> {
        self.certificates()
            .map(|block| block.and_then(PemBlock::to_der))
            .collect()
    }
}

/// One PEM certificate block of a [`PckCertChain`].
#[derive(Debug, Clone, Copy)]
pub struct PemBlock<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> PemBlock<'a> {
    /// The block's text, BEGIN and END lines included.
    pub fn as_str(&self) -> &'a str {
        self.text
    }

    /// The absolute offset of the block in the quote.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The certificate's DER bytes.
    pub fn to_der(self) -> Result<Vec<u8>, ParseError> {
        use base64::Engine as _;
        let invalid = |reason| ParseError::InvalidPckChain {
            offset: self.offset,
            reason,
        };
        let body = self
            .text
            .as_bytes()
            .get(PEM_BEGIN.len()..self.text.len().saturating_sub(PEM_END.len()))
            .ok_or_else(|| invalid("PEM block shorter than its markers"))?;
        let base64: Vec<u8> = body
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        base64::engine::general_purpose::STANDARD
            .decode(base64)
            .map_err(|_| invalid("PEM certificate is not valid base64"))
    }
}

/// Iterator over the PEM blocks of a [`PckCertChain`].
#[derive(Debug, Clone)]
pub struct PemCertificates<'a> {
    rest: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for PemCertificates<'a> {
    type Item = Result<PemBlock<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        let Some(begin) = find(self.rest, PEM_BEGIN) else {
            // What follows the last certificate may only be white space and NUL padding.
            let junk = self
                .rest
                .iter()
                .any(|b| !b.is_ascii_whitespace() && *b != 0);
            let offset = self.offset;
            self.rest = &[];
            return junk.then_some(Err(ParseError::InvalidPckChain {
                offset,
                reason: "data outside the PEM certificate blocks",
            }));
        };
        let before = self.rest.get(..begin).unwrap_or_default();
        if before.iter().any(|b| !b.is_ascii_whitespace()) {
            return self.fail("data outside the PEM certificate blocks");
        }
        let from_begin = self.rest.get(begin..).unwrap_or_default();
        let Some(end) = find(from_begin, PEM_END).map(|end| end + PEM_END.len()) else {
            return self.fail("PEM certificate without an END line");
        };
        let (block, rest) = from_begin.split_at_checked(end).unwrap_or_default();
        let Ok(text) = core::str::from_utf8(block) else {
            return self.fail("PEM certificate is not text");
        };
        let item = PemBlock {
            text,
            offset: self.offset + begin,
        };
        self.offset += begin + end;
        self.rest = rest;
        Some(Ok(item))
    }
}

impl PemCertificates<'_> {
    fn fail<T>(&mut self, reason: &'static str) -> Option<Result<T, ParseError>> {
        self.rest = &[];
        Some(Err(ParseError::InvalidPckChain {
            offset: self.offset,
            reason,
        }))
    }
}

/// The first occurrence of `needle` (which starts with `-`, rare inside base64) in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let mut start = 0;
    loop {
        let rest = haystack.get(start..)?;
        let candidate = start + rest.iter().position(|&byte| byte == b'-')?;
        if haystack.get(candidate..)?.starts_with(needle) {
            return Some(candidate);
        }
        start = candidate + 1;
    }
}
