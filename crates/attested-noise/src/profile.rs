//! Profiles: the two wire profiles, what each binds ([`Profile::report_data`],
//! [`Profile::session_report_data`]) and the Noise protocol both run ([`PROTOCOL_NAME`]); the
//! session settings ([`Config`]); [`UnknownProfile`], the error of parsing a profile's name.

use attested_types::ReportData;
use sha2::{Digest, Sha512};

use crate::limits::{DEFAULT_MAX_MESSAGE_LEN, MAX_FRAME_PLAINTEXT};

/// The Noise protocol both profiles run.
pub const PROTOCOL_NAME: &str = "Noise_NK_25519_ChaChaPoly_SHA256";

const V1_PROLOGUE: &[u8] = b"attested-noise/v1";
const V1_SESSION_BINDING_LABEL: &[u8] = b"attested-noise/v1 session-binding";
const V1_REPORT_DATA_LABEL: &[u8] = b"attested-noise/v1 report-data";
const V1_SESSION_EVIDENCE_LABEL: &[u8] = b"attested-noise/v1 session-evidence";

/// Which wire profile a session speaks. Both ends must agree.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Profile {
    /// Byte-compatible with the Python private-LLM proxy and its `noiseprotocol` client: empty
    /// prologue, REPORTDATA = SHA-512(binding key), binding signature over the raw handshake
    /// hash, one JSON message of at most 65519 bytes per frame.
    Seed,
    /// The default: labelled prologue and binding signature, REPORTDATA binding both the binding
    /// key and the Noise static key, optional per-session evidence binding the handshake hash,
    /// chunked messages, streamed chat and rekeying.
    #[default]
    V1,
}

impl Profile {
    /// The lowercase name used on command lines: `seed` or `v1`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Seed => "seed",
            Self::V1 => "v1",
        }
    }

    pub(crate) fn prologue(self) -> &'static [u8] {
        match self {
            Self::Seed => b"",
            Self::V1 => V1_PROLOGUE,
        }
    }

    /// The REPORTDATA the server's platform evidence must carry for this profile.
    ///
    /// Seed: SHA-512 of the Ed25519 binding public key. V1: SHA-512 of a label, the binding key
    /// and the Noise static key, so that the evidence vouches for the Noise key too.
    pub fn report_data(self, binding_key: &[u8; 32], noise_static_key: &[u8; 32]) -> ReportData {
        match self {
            Self::Seed => ReportData::sha512(binding_key),
            Self::V1 => ReportData::from_bytes(
                Sha512::new()
                    .chain_update(V1_REPORT_DATA_LABEL)
                    .chain_update(binding_key)
                    .chain_update(noise_static_key)
                    .finalize()
                    .into(),
            ),
        }
    }

    /// The REPORTDATA of per-session evidence for the handshake hash `h` (v1 only).
    pub fn session_report_data(self, handshake_hash: &[u8; 32]) -> Option<ReportData> {
        match self {
            Self::Seed => None,
            Self::V1 => Some(ReportData::from_bytes(
                Sha512::new()
                    .chain_update(V1_SESSION_EVIDENCE_LABEL)
                    .chain_update(PROTOCOL_NAME.as_bytes())
                    .chain_update(handshake_hash)
                    .finalize()
                    .into(),
            )),
        }
    }

    /// The bytes the binding key signs for the handshake hash `h`.
    pub(crate) fn binding_message(self, handshake_hash: &[u8; 32]) -> Vec<u8> {
        match self {
            Self::Seed => handshake_hash.to_vec(),
            Self::V1 => [
                V1_SESSION_BINDING_LABEL,
                PROTOCOL_NAME.as_bytes(),
                handshake_hash.as_slice(),
            ]
            .concat(),
        }
    }
}

/// The REPORTDATA a confused server would produce with SHA-256 instead of SHA-512 (the digest
/// padded with zeros); recognised only to name that failure precisely.
pub(crate) fn sha256_padded(binding_key: &[u8; 32]) -> ReportData {
    ReportData::sha256_zero_padded(binding_key)
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "seed" => Ok(Self::Seed),
            "v1" => Ok(Self::V1),
            _ => Err(UnknownProfile),
        }
    }
}

/// A profile name other than `seed` or `v1`.
#[derive(Debug, thiserror::Error)]
#[error("unknown profile (expected seed or v1)")]
pub struct UnknownProfile;

/// Session settings. Both sides of a session keep their own.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) profile: Profile,
    pub(crate) rekey_after: u64,
    pub(crate) max_message_len: usize,
    pub(crate) require_session_evidence: bool,
}

impl Config {
    /// Defaults: rekey every 1 GiB sent (v1), messages up to [`DEFAULT_MAX_MESSAGE_LEN`] (1 MiB,
    /// v1), per-session evidence not required.
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            rekey_after: 1 << 30,
            max_message_len: DEFAULT_MAX_MESSAGE_LEN,
            require_session_evidence: false,
        }
    }

    /// The profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// v1: rekey the sending direction after this many plaintext bytes (at least one frame's
    /// worth is always sent between rekeys). The receiver follows the sender's signal, so the
    /// two ends may choose different values.
    #[must_use]
    pub fn rekey_after(mut self, bytes: u64) -> Self {
        self.rekey_after = bytes.max(1);
        self
    }

    /// v1: the largest message (after reassembly of chunks) sent or accepted. The seed profile
    /// is always limited to one frame, [`MAX_FRAME_PLAINTEXT`] bytes.
    #[must_use]
    pub fn max_message_len(mut self, bytes: usize) -> Self {
        self.max_message_len = bytes;
        self
    }

    /// v1 client: refuse a server that sends no per-session evidence binding the handshake.
    #[must_use]
    pub fn require_session_evidence(mut self, required: bool) -> Self {
        self.require_session_evidence = required;
        self
    }

    pub(crate) fn message_limit(&self) -> usize {
        match self.profile {
            Profile::Seed => MAX_FRAME_PLAINTEXT,
            Profile::V1 => self.max_message_len,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Self::new(Profile::default())
    }
}
