//! Intel TDX quotes: zero-copy parsing, REPORTDATA binding, quote generation through Linux
//! configfs-tsm (feature `tsm`) and a simulated platform for tests and demos (feature `sim`).
//!
//! Parsing checks structure only. A parsed [`Quote`] tells what a TD *claims*; only DCAP
//! verification against Intel's collateral makes those claims evidence.
//!
//! ```
//! use attested_tdx::{Quote, ParseError, ReportData};
//!
//! fn inspect(bytes: &[u8]) -> Result<(), ParseError> {
//!     let quote = Quote::parse(bytes)?;
//!     let report = quote.report();
//!     println!("MRTD {}", hex::encode(report.mr_td()));
//!     println!("debug TD: {}", report.td_attributes().debug());
//!     let expected = ReportData::sha512(b"the server's binding public key");
//!     println!("binds our key: {}", expected.verify(report.report_data()).is_ok());
//!     Ok(())
//! }
//!
//! // An SGX quote is refused by name.
//! let mut sgx = vec![0u8; 48];
//! sgx[0] = 3;
//! assert!(matches!(Quote::parse(&sgx), Err(ParseError::NotTdx { tee_type: 0 })));
//! # let _ = inspect;
//! ```

mod attributes;
mod error;
mod quote;
mod reader;
mod report_data;
#[cfg(feature = "tsm")]
mod tsm;

pub use attributes::TdAttributes;
pub use error::{Item, ParseError, TimeBound, VerifyError};
pub use quote::{
    ATTESTATION_KEY_TYPE_ECDSA_P256, CERTIFICATION_TYPE_PCK_CHAIN, CERTIFICATION_TYPE_QE_REPORT,
    CertificationData, ENCLAVE_REPORT_LEN, EnclaveReport, HEADER_LEN, Header, INTEL_QE_VENDOR_ID,
    PckCertChain, PemBlock, PemCertificates, Quote, QuoteSignature, QuoteVersion, SGX_TEE_TYPE,
    TD_REPORT10_LEN, TD_REPORT15_EXT_LEN, TD_REPORT15_LEN, TDX_TEE_TYPE, TdReport, TdReport10,
    TdReport15, TdReport15Ext,
};
pub use report_data::{ReportData, ReportDataError};
#[cfg(feature = "tsm")]
pub use tsm::{ConfigfsTsm, DEFAULT_TSM_REPORT_ROOT, GeneratedQuote, TDX_PROVIDER, TsmError};

#[cfg(feature = "sim")]
pub mod sim;

mod appraiser;
mod collateral;
mod crypto;
mod fetch;
mod pck;
mod policy;
mod rtmr;
mod tcb;
mod time;
mod verify;
mod x509;

pub use appraiser::{AcceptedQuote, TdxAppraisalError, TdxAppraiser, td_measurements};
pub use attested_types::{Accepted, Appraiser, Evidence, EvidenceKind, Workload};
pub use collateral::{Collateral, CollateralFormat, PcsCollateral};
pub use crypto::Backend;
pub use fetch::{COLLATERAL_CACHE_ENTRIES, CollateralCache, CollateralSource, FetchError, PckCa};
#[cfg(feature = "fetch")]
pub use fetch::{INTEL_PCS, INTEL_ROOT_CA_CRL, PcsClient};
pub use pck::PckExtension;
pub use policy::{AppraisalError, Hex, Policy, Profile};
pub use rtmr::{CcelEvent, RtmrError, RtmrReplay, replay_ccel};
pub use tcb::{TcbStatus, UnknownTcbStatus};
pub use time::UnixTime;
pub use verify::anchor::INTEL_SGX_ROOT_CA_PEM;
pub use verify::{TrustAnchor, Validity, Verdict, VerifiedQuote, Verifier};
