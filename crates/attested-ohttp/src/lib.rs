//! Oblivious HTTP (RFC 9458) with key configurations bound to a TEE's attestation.
//!
//! This crate is being built; see the workspace README for its status.
