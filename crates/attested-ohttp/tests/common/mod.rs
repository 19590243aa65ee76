#![allow(dead_code, unreachable_pub, missing_docs)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Helpers shared by the integration tests.

use std::time::Duration;

use attested_ohttp::{
    Accepted, Appraiser, BoxError, Client, Evidence, Gateway, KeyPair, KeyRing, Measurements,
    ReportData, Suite, UnixTime, Validity, Workload, gateway::GatewayPolicy, key_config_binding,
    rand_core,
};

/// Hands out fixed bytes (then fails the test): reproduces published nonces.
pub struct FixedRng(pub Vec<u8>);

impl rand_core::TryRng for FixedRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        unimplemented!("only fill_bytes is expected")
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        unimplemented!("only fill_bytes is expected")
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        assert!(dst.len() <= self.0.len(), "FixedRng ran out of bytes");
        let rest = self.0.split_off(dst.len());
        dst.copy_from_slice(&self.0);
        self.0 = rest;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for FixedRng {}

/// The operating system RNG.
pub fn os_rng() -> impl rand_core::CryptoRng {
    rand::rng()
}

/// Stands in for appraised TEE evidence with the given REPORTDATA.
#[allow(non_snake_case)]
pub fn TestEvidence(report_data: ReportData) -> Accepted {
    Accepted::assertion(report_data, Measurements::new(), Workload::Any)
}

/// An appraiser that refuses, as a failed quote verification would.
pub struct RefusingEvidence;

impl Appraiser for RefusingEvidence {
    fn appraise(&self, _: &Evidence<'_>, _: UnixTime) -> Result<Accepted, BoxError> {
        Err("quote signature invalid".into())
    }
}

pub fn json(relative: &str) -> Option<serde_json::Value> {
    let bytes = attested_testdata::read(relative)?;
    Some(serde_json::from_slice(&bytes).unwrap())
}

pub fn hex_field(v: &serde_json::Value, key: &str) -> Vec<u8> {
    hex::decode(v[key].as_str().unwrap_or_else(|| panic!("missing {key}"))).unwrap()
}

/// The tests' fixed `now` (2027-01-15).
pub fn now() -> UnixTime {
    UnixTime::from_secs(1_800_000_000)
}

/// A ring with one fresh `suite` key valid for a minute from [`now`], and a client that
/// trusts its key list as if verified evidence bound it.
pub fn ring_and_client(suite: Suite) -> (KeyRing, Client) {
    let pair = KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut os_rng()).unwrap();
    let ring = ring_of(pair);
    let list = ring.encoded_list(now());
    let client = Client::new(&list, &TestEvidence(key_config_binding(&list))).unwrap();
    (ring, client)
}

/// A ring holding `pair`, valid for a minute from [`now`].
pub fn ring_of(pair: KeyPair) -> KeyRing {
    let mut ring = KeyRing::new();
    ring.insert(
        pair,
        Validity::new(now(), Duration::from_secs(60), Duration::ZERO),
    )
    .unwrap();
    ring
}

/// A gateway over [`ring_and_client`]'s ring that forwards only to `target`, and its client.
pub fn gateway_and_client(suite: Suite, target: &str, policy: GatewayPolicy) -> (Gateway, Client) {
    let (ring, client) = ring_and_client(suite);
    let policy = GatewayPolicy {
        allowed_targets: vec![target.into()],
        ..policy
    };
    (Gateway::new(ring, policy), client)
}

/// The flood, scaled: a known-length inner request whose header section is `lines`
/// 3-byte field lines.
pub fn field_flood(lines: u32) -> Vec<u8> {
    let mut flood = vec![0u8, 4, b'P', b'O', b'S', b'T', 5];
    flood.extend_from_slice(b"https\x07whisper\x01/");
    let block_len: u32 = 3 * lines;
    flood.extend_from_slice(&(block_len | 0x8000_0000).to_be_bytes());
    for _ in 0..lines {
        flood.extend_from_slice(&[1, b'a', 0]);
    }
    flood
}
