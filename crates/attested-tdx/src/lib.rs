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
//! use attested_tdx::policy::Hex;
//! use attested_tdx::{Collateral, Policy, Quote, TrustAnchor, UnixTime, Verifier};
//!
//! // A simulated platform stands in for TDX hardware and Intel PCS; in production the anchor
//! // is `TrustAnchor::intel_sgx_root()` and the collateral comes from PCS or a PCCS
//! // (`collateral::CollateralCache`, `collateral::PcsClient` with feature `fetch`).
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
//! The root holds that main path, its errors, [`TdxAppraiser`] (the three steps as the
//! vocabulary's `Appraiser`, which `attested-noise` and `attested-ohttp` take) and the
//! vocabulary types (REPORTDATA binding: [`ReportData`], SHA-512 of the bound value or SHA-256
//! zero-padded, compared in constant time). The rest is grouped by what it holds:
//!
//! - [`quote`]: the parsed quote's parts (header, TD report 1.0/1.5, signature, QE report,
//!   certification data, PEM chain), its layout constants, and its measurements as the
//!   vocabulary names them ([`quote::td_measurements`]).
//! - [`collateral`]: collateral formats (Intel PCS, dcap-qvl JSON), the caller-owned
//!   [`collateral::CollateralCache`], and fetching from Intel PCS or a PCCS (feature `fetch`).
//! - [`policy`]: the policy's values ([`policy::Hex`], [`policy::RtmrPin`], both with
//!   `FromStr` for command lines) and TCB profiles.
//! - [`verify`]: what verification reports beside the verified quote (validity window,
//!   verdict), Intel's root certificate, the PCK certificate's SGX extensions.
//! - [`error`]: the parts of the errors (which item failed, which time bound) and the small
//!   errors beside them (REPORTDATA mismatch, unknown TCB status name).
//! - [`rtmr`]: RTMR replay from the CCEL event log.
//! - [`tsm`] (feature `tsm`): quote generation through Linux configfs-tsm, and a server's
//!   [`tsm::QuoteSource`] (configfs-tsm, or a simulated platform with feature `sim`).
//! - [`sim`] (feature `sim`): a simulated TDX platform for tests and demos.
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

pub mod collateral;
pub mod error;
pub mod policy;
pub mod quote;
pub mod rtmr;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "tsm")]
pub mod tsm;
pub mod verify;

// The implementation; the modules above name what it offers.
mod appraisal;
mod appraiser;
mod attributes;
mod collateral_data;
#[cfg(feature = "tsm")]
mod configfs;
mod crypto;
mod dcap;
mod errors;
mod fetch;
mod parse;
mod pck;
#[cfg(feature = "tsm")]
mod quote_source;
mod reader;
mod tcb;
mod time;
mod x509;

pub use appraisal::{AppraisalError, AppraisedQuote, Policy};
pub use appraiser::{AcceptedQuote, TdxAppraisalError, TdxAppraiser};
pub use attested_types::{
    Accepted, Appraiser, Evidence, EvidenceKind, ReportData, UnixTime, Workload,
};
pub use collateral_data::Collateral;
pub use crypto::Backend;
pub use dcap::{TrustAnchor, VerifiedQuote, Verifier};
pub use errors::{ParseError, VerifyError};
pub use parse::Quote;
pub use tcb::TcbStatus;
