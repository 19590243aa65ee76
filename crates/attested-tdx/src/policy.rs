//! The values a [`Policy`](crate::Policy) is written in: [`Hex`] measurements and the TCB
//! [`Profile`]s.

pub use crate::appraisal::{Hex, Profile};
