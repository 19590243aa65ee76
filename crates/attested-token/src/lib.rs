//! Verification of attestation tokens: Intel Trust Authority JWTs, NVIDIA NRAS, Azure Attestation and AWS Nitro attestation documents.
//!
//! This crate is being built; see the workspace README for its status.
