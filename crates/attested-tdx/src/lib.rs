//! Intel TDX quotes: parsing, binding, verification, generation and simulation.
