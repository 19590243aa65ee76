//! What DCAP verification reports beside the [`VerifiedQuote`](crate::VerifiedQuote): the
//! window in which the verdict holds ([`Validity`]) and the [`Verdict`] itself; Intel's SGX
//! root certificate ([`INTEL_SGX_ROOT_CA_PEM`], the default
//! [`TrustAnchor`](crate::TrustAnchor)); and the PCK certificate's SGX extensions
//! ([`PckExtension`]). [`MissingP256Sha256`] refuses a caller's signature algorithm set
//! ([`Verifier::with_algorithms`](crate::Verifier::with_algorithms)) that cannot check DCAP's
//! signatures.

pub use crate::crypto::MissingP256Sha256;
pub use crate::dcap::anchor::INTEL_SGX_ROOT_CA_PEM;
pub use crate::dcap::{Validity, Verdict};
pub use crate::pck::PckExtension;
