//! A Noise NK session bound to a TEE's attestation, wire-compatible with the Python private-LLM proxy.
//!
//! This crate is being built; see the workspace README for its status.
