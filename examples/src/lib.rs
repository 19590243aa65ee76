//! Programs that compose the attested crates. Each binary under `src/bin/` is one tool.

pub mod noise_demo;
pub mod tdx_evidence;
pub mod tdx_verify_cli;
