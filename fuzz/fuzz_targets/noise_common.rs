//! Shared by the noise_* fuzz targets: input framing, a fixed server, a bare snow peer.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use attested_noise::profile::PROTOCOL_NAME;
use attested_noise::{
    Accepted, Appraiser, BoxError, Config, Evidence, NoiseStaticKey, PlatformEvidence, Profile,
    ReportData, ServerIdentity, UnixTime, Workload,
};
use rand::SeedableRng;
use rand::rngs::StdRng;

pub const SERVER_SECRET: [u8; 32] = [0x42; 32];

/// The ephemeral key of noise_initiator's bare server. Fixed, as the initiator's (from
/// [`rng`]) is, so that a genuine handshake has the same hash in every run and a seed can carry
/// an attestation that verifies, taking the fuzzer past `verify` (attested-noise's
/// tests/fuzz_seeds.rs makes that seed).
pub const SERVER_EPHEMERAL: [u8; 32] = [0x44; 32];

/// Input: one mode byte, then frames, each a little-endian u16 length and that many bytes.
/// Mode bit 0: v1 (else seed). Bit 1: run a genuine handshake (else the first frame is the
/// handshake frame under test).
pub fn parse(data: &[u8]) -> Option<(Profile, bool, Vec<&[u8]>)> {
    let (&mode, mut rest) = data.split_first()?;
    let profile = if mode & 1 == 0 {
        Profile::Seed
    } else {
        Profile::V1
    };
    let mut frames = Vec::new();
    while rest.len() >= 2 {
        let len = usize::from(u16::from_le_bytes([rest[0], rest[1]]));
        let body = &rest[2..];
        let take = len.min(body.len());
        frames.push(&body[..take]);
        rest = &body[take..];
    }
    Some((profile, mode & 2 != 0, frames))
}

pub fn rng() -> StdRng {
    StdRng::seed_from_u64(7)
}

pub fn server_public() -> [u8; 32] {
    *NoiseStaticKey::from_bytes(SERVER_SECRET).public_key()
}

/// Made once per profile: key derivation is slow under the sanitizers.
pub fn identity(profile: Profile) -> Arc<ServerIdentity> {
    static SEED: OnceLock<Arc<ServerIdentity>> = OnceLock::new();
    static V1: OnceLock<Arc<ServerIdentity>> = OnceLock::new();
    let cell = if profile == Profile::Seed { &SEED } else { &V1 };
    cell.get_or_init(|| make_identity(profile)).clone()
}

fn make_identity(profile: Profile) -> Arc<ServerIdentity> {
    let noise_key = NoiseStaticKey::from_bytes(SERVER_SECRET);
    let binding_key = attested_noise::ed25519_dalek::SigningKey::from_bytes(&[0x43; 32]);
    let report_data = ServerIdentity::report_data(profile, &noise_key, &binding_key);
    Arc::new(ServerIdentity::new(
        config(profile),
        noise_key,
        binding_key,
        PlatformEvidence::from_quote(report_data.to_vec()),
    ))
}

/// Small limits, so that the fuzzer reaches them.
pub fn config(profile: Profile) -> Config {
    Config::new(profile)
        .max_message_len(200_000)
        .rekey_after(300)
}

/// Trusts a "quote" whose first 64 bytes are REPORTDATA.
pub struct PrefixCheck;

impl Appraiser for PrefixCheck {
    fn appraise(&self, evidence: &Evidence<'_>, _: UnixTime) -> Result<Accepted, BoxError> {
        let quote = evidence.quote.ok_or("no quote")?;
        let report_data = ReportData::try_from(quote.get(..64).ok_or("short")?)?;
        Ok(Accepted::assertion(
            report_data,
            BTreeMap::new(),
            Workload::Any,
        ))
    }
}

pub fn bare_builder(profile: Profile) -> snow::Builder<'static> {
    let prologue: &'static [u8] = match profile {
        Profile::Seed => b"",
        _ => b"attested-noise/v1",
    };
    snow::Builder::new(PROTOCOL_NAME.parse().unwrap())
        .prologue(prologue)
        .unwrap()
}

/// The frame to deliver: a frame whose first byte is odd is the rest encrypted by the bare peer
/// (arbitrary plaintext through a valid channel); otherwise the frame itself, raw.
pub fn frame_for(peer: &mut snow::TransportState, frame: &[u8]) -> Vec<u8> {
    match frame.split_first() {
        Some((&selector, plaintext)) if selector & 1 == 1 => {
            let mut out = vec![0_u8; plaintext.len() + 16];
            let n = peer.write_message(plaintext, &mut out).unwrap_or(0);
            out.truncate(n);
            out
        }
        _ => frame.to_vec(),
    }
}
