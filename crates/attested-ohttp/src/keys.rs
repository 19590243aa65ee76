//! Key configurations (RFC 9458 §3) and the gateway's keys: the suites, the configurations a
//! gateway advertises as `application/ohttp-keys`, the key pairs behind them, the [`KeyRing`]
//! that routes requests by key id with activation, expiry, grace and [`Rotation`], and
//! [`key_config_binding`], the REPORTDATA a TEE's evidence carries for its key list.

pub use crate::attest::key_config_binding;
pub use crate::key_config::{
    KeyConfig, KeyId, KeyPair, MAX_KEY_LIST_LEN, decode_key_config_list, encode_key_config_list,
};
pub use crate::key_ring::{KeyRing, Rotation, Validity};
pub use crate::suite::{Aead, Kdf, Kem, Suite, SymmetricSuite};
