//! REPORTDATA binding: the vocabulary's [`ReportData`], re-exported so that a TDX user needs
//! only this crate. Two conventions: SHA-512 of the bound value ([`ReportData::sha512`]) and
//! SHA-256 zero-padded ([`ReportData::sha256_zero_padded`]); comparison is constant time.

pub use attested_types::{ReportData, ReportDataError};
