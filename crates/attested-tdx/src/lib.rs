//! Intel TDX quotes for Rust: parse, verify, appraise.
//!
//! A client that receives a quote decides what it is worth in three steps, each a type:
//!
//! 1. [`Quote::parse`]: structure only, zero-copy. A [`Quote`] tells what a TD *claims*.
//! 2. [`Verifier::verify`]: DCAP, against a pinned root and Intel's collateral at a
//!    caller-given `now` (never the clock). A [`VerifiedQuote`] is genuine TDX hardware at a
//!    known TCB level.
//! 3. [`Policy::appraise`]: the caller's reference values and TCB rules. Only this step says
//!    the quote comes from the workload the caller expects.
//!
//! ```
//! # #[cfg(feature = "sim")] {
//! use attested_tdx::sim::{QuoteFormat, SimPlatform};
//! use attested_tdx::{Collateral, Hex, Policy, Quote, TrustAnchor, UnixTime, Verifier};
//!
//! // A simulated platform stands in for TDX hardware and Intel PCS; in production the anchor
//! // is `TrustAnchor::intel_sgx_root()` and the collateral comes from PCS or a PCCS
//! // (`CollateralCache`, `PcsClient` with feature `fetch`).
//! let now = UnixTime(1_750_000_000);
//! let platform = SimPlatform::from_seed(b"lead", now.as_secs()).unwrap();
//! let bytes = platform.quote(&platform.quote_spec(QuoteFormat::V4)).unwrap();
//! let collateral = Collateral::from_qvl_json(platform.collateral_dcap_qvl_json().as_bytes()).unwrap();
//!
//! // 1. Parse: what the TD claims.
//! let quote = Quote::parse(&bytes).unwrap();
//! let mr_td = *quote.report().mr_td();
//!
//! // 2. Verify: genuine TDX, at `now`.
//! let verifier = Verifier::new(TrustAnchor::from_der(platform.root_certificate_der()).unwrap());
//! let verified = verifier.verify(&quote, &collateral, now).unwrap();
//!
//! // 3. Appraise: the workload we expect (MRTD with an RTMR, or MRCONFIGID).
//! let mut policy = Policy::new();
//! policy.mr_td = vec![Hex(mr_td)];
//! policy.rtmr3 = Some(Hex(*quote.report().td10().rtmrs()[3]));
//! let appraised = policy.appraise(&verified, now).unwrap();
//! assert!(appraised.workload().is_pinned());
//!
//! // Another workload on the same genuine platform is refused, naming the measurement.
//! policy.mr_td = vec![Hex([0; 48])];
//! let refused = policy.appraise(&verified, now).unwrap_err();
//! assert!(refused.to_string().contains("MRTD"), "{refused}");
//! # }
//! ```
//!
//! The rest of the crate: REPORTDATA binding helpers ([`ReportData`]), RTMR replay from the
//! CCEL event log ([`replay_ccel`]), quote generation through Linux configfs-tsm (feature
//! `tsm`), collateral from Intel PCS or a PCCS (feature `fetch`), and a simulated TDX platform
//! for tests and demos (feature `sim`). [`TdxAppraiser`] wraps the three steps as the
//! vocabulary's `Appraiser`, which `attested-noise` and `attested-ohttp` take.
//!
//! Certificate chains: the TCB signing chain (with the root CA CRL) and the PCK leaf are
//! validated by `rustls-webpki`; the PCK CA and the PCK CRL by this crate, with the same
//! constraints (KeyUsage, pathLenConstraint, critical extensions), so that cold verification
//! keeps its nine signature checks. The decision and its measurement: the README's
//! "Certificate chains".
//!
//! Parsing alone, for inspection:
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
pub use policy::{AppraisalError, AppraisedQuote, Hex, Policy, Profile};
pub use rtmr::{CcelEvent, RtmrError, RtmrReplay, replay_ccel};
pub use tcb::{TcbStatus, UnknownTcbStatus};
pub use time::UnixTime;
pub use verify::anchor::INTEL_SGX_ROOT_CA_PEM;
pub use verify::{TrustAnchor, Validity, Verdict, VerifiedQuote, Verifier};
