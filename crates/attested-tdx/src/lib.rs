//! Intel TDX quotes: parsing, binding, verification, generation and simulation.

mod collateral;
mod crypto;
mod pck;
mod tcb;
mod time;
mod verify;
mod x509;

pub use collateral::{Collateral, PcsCollateral};
pub use crypto::Backend;
pub use pck::PckExtension;
pub use tcb::{TcbStatus, UnknownTcbStatus};
pub use time::UnixTime;
pub use verify::{Item, TimeBound, TrustAnchor, Validity, Verdict, Verifier, VerifyError};
