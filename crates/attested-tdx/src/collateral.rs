//! Where [`Collateral`](crate::Collateral) comes from: the formats it is read in (Intel PCS or
//! PCCS responses, [`PcsCollateral`]; single-file JSON, [`CollateralFormat`]), a caller-owned
//! [`CollateralCache`] that says when its earliest nextUpdate has passed, and (feature `fetch`)
//! the HTTP source for Intel PCS or a PCCS, [`PcsClient`]. Verification never fetches anything
//! itself.

pub use crate::collateral_data::{CollateralFormat, PcsCollateral};
pub use crate::fetch::{
    COLLATERAL_CACHE_ENTRIES, CollateralCache, CollateralSource, FetchError, PckCa,
};
#[cfg(feature = "fetch")]
pub use crate::fetch::{INTEL_PCS, INTEL_ROOT_CA_CRL, PcsClient};
