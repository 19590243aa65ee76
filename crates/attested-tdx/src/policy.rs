//! The values a [`Policy`](crate::Policy) is written in: [`Hex`] measurements (with `FromStr`,
//! for command lines), expected RTMR values written `N=HEX` ([`RtmrPin`]), why a text is
//! neither ([`ValueError`]), and the TCB [`Profile`]s.

pub use crate::appraisal::{Hex, Profile, RtmrPin, ValueError};
