//! The parts of a parsed [`Quote`](crate::Quote): header, TD report (1.0, 1.5 and its
//! extension), quote signature, QE report, certification data and the PEM PCK chain it carries,
//! all zero-copy views; the layout constants they are read with; and the vocabulary's
//! measurements of a TD report ([`td_measurements`]).

pub use crate::appraiser::td_measurements;
pub use crate::attributes::TdAttributes;
pub use crate::parse::{
    ATTESTATION_KEY_TYPE_ECDSA_P256, CERTIFICATION_TYPE_PCK_CHAIN, CERTIFICATION_TYPE_QE_REPORT,
    CertificationData, ENCLAVE_REPORT_LEN, EnclaveReport, HEADER_LEN, Header, INTEL_QE_VENDOR_ID,
    PckCertChain, PemBlock, PemCertificates, QuoteSignature, QuoteVersion, SGX_TEE_TYPE,
    TD_REPORT10_LEN, TD_REPORT15_EXT_LEN, TD_REPORT15_LEN, TDX_TEE_TYPE, TdReport, TdReport10,
    TdReport15, TdReport15Ext,
};
