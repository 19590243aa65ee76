//! What DCAP verification reports beside the [`VerifiedQuote`](crate::VerifiedQuote): the
//! window in which the verdict holds ([`Validity`]) and the [`Verdict`] itself; Intel's SGX
//! root certificate ([`INTEL_SGX_ROOT_CA_PEM`], the default
//! [`TrustAnchor`](crate::TrustAnchor)); and the PCK certificate's SGX extensions
//! ([`PckExtension`]).

pub use crate::dcap::anchor::INTEL_SGX_ROOT_CA_PEM;
pub use crate::dcap::{Validity, Verdict};
pub use crate::pck::PckExtension;
