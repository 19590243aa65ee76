//! The parts of the crate's errors: which signature, certificate, CRL, field or date failed
//! verification ([`Item`]) and which end of a validity window a time fell outside
//! ([`TimeBound`]); the vocabulary's REPORTDATA mismatch; an unknown TCB status name. The
//! errors themselves ([`ParseError`](crate::ParseError), [`VerifyError`](crate::VerifyError),
//! [`AppraisalError`](crate::AppraisalError), [`TdxAppraisalError`](crate::TdxAppraisalError))
//! are at the root.

pub use crate::errors::{Item, TimeBound};
pub use crate::tcb::UnknownTcbStatus;
pub use attested_types::ReportDataError;
