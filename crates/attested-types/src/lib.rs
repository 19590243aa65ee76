//! The vocabulary the `attested` crates share, in the spirit of `rustls-pki-types`: types only,
//! no protocol logic, no dependency on any other `attested` crate.
//!
//! - [`ReportData`]: the 64 bytes a TEE report carries for the user, its two binding
//!   conventions and a constant-time comparison.
//! - [`UnixTime`]: the one time type. Verification never reads a clock: callers pass `now`.
//! - [`signature`]: the signature algorithms X.509 chains are checked with (rustls-webpki's
//!   interface), `ring` or RustCrypto, pluggable.
//! - [`Evidence`], [`Appraiser`], [`Accepted`]: what a protocol carries, the trait that
//!   verifies and appraises it, and the appraised value a protocol accepts. `attested-tdx` and
//!   `attested-token` implement [`Appraiser`]; `attested-noise` and `attested-ohttp` take one.
//!
//! A protocol crate never needs to know which TEE produced the evidence:
//!
//! ```
//! use attested_types::{Accepted, Appraiser, BoxError, Evidence, ReportData, UnixTime, Workload};
//!
//! /// A stand-in for a real appraiser (attested-tdx's `TdxAppraiser`, attested-token's
//! /// `ItaAppraiser`...): it "verifies" a quote that is its own REPORTDATA.
//! struct QuoteIsReportData;
//!
//! impl Appraiser for QuoteIsReportData {
//!     fn appraise(&self, evidence: &Evidence<'_>, _now: UnixTime) -> Result<Accepted, BoxError> {
//!         let report_data = ReportData::try_from(evidence.quote.ok_or("no quote")?)?;
//!         Ok(Accepted::assertion(report_data, Default::default(), Workload::Any))
//!     }
//! }
//!
//! let bound = ReportData::sha512(b"the server's key");
//! let accepted = QuoteIsReportData
//!     .appraise(&Evidence::platform_quote(bound.as_bytes()), UnixTime::from_secs(1_800_000_000))
//!     .unwrap();
//! assert_eq!(accepted.report_data(), &bound);
//! assert!(!accepted.workload().is_pinned());
//! ```

#![forbid(unsafe_code)]

mod evidence;
mod report_data;
pub mod signature;
mod time;

pub use evidence::{Accepted, Appraiser, BoxError, Evidence, EvidenceKind, Measurements, Workload};
pub use report_data::{REPORT_DATA_LEN, ReportData, ReportDataError, WrongLength};
pub use time::UnixTime;
