//! Intel TDX quotes: parsing, binding, verification, generation and simulation.

#[cfg(feature = "sim")]
pub mod sim;
