//! Fixed keys and a deterministic RNG shared by the `ohttp_*` fuzz targets. The seeds in
//! `fuzz/corpus/ohttp_*` are encrypted to these keys (see the crate's `fuzz_seeds` test).

#![allow(dead_code)]

use std::time::Duration;

use attested_ohttp::{
    Accepted, Client, KeyPair, KeyRing, Measurements, ReportData, Suite, UnixTime, Validity,
    Workload, key_config_binding, keys::Aead, keys::Kdf, keys::Kem, keys::SymmetricSuite,
    rand_core,
};

pub const X25519_IKM: [u8; 32] = [0x11; 32];
pub const P384_IKM: [u8; 48] = [0x22; 48];
pub const EPHEMERAL: [u8; 32] = [0x33; 32];

pub fn now() -> UnixTime {
    UnixTime::from_secs(1_800_000_000)
}

pub fn ring() -> KeyRing {
    let mut ring = KeyRing::new();
    let validity = Validity::new(now(), Duration::from_secs(3600), Duration::ZERO);
    let x = KeyPair::derive(
        1,
        Kem::X25519Sha256,
        vec![
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::Aes128Gcm),
            SymmetricSuite::new(Kdf::HkdfSha256, Aead::ChaCha20Poly1305),
        ],
        &X25519_IKM,
    );
    let p = KeyPair::derive(
        2,
        Kem::P384Sha384,
        vec![Suite::P384_AES256GCM.symmetric()],
        &P384_IKM,
    );
    if let (Ok(x), Ok(p)) = (x, p) {
        let _ = ring.insert(x, validity);
        let _ = ring.insert(p, validity);
    }
    ring
}

/// Stands in for appraised evidence whose REPORTDATA is `report_data`.
#[allow(non_snake_case)]
fn Bound(report_data: ReportData) -> Accepted {
    Accepted::assertion(report_data, Measurements::new(), Workload::Any)
}

/// A client for the X25519 key only (so that the fixed ephemeral secret applies).
pub fn x25519_client(ring: &KeyRing) -> Option<Client> {
    let configs: Vec<_> = ring
        .advertised(now())
        .filter(|c| c.kem() == Kem::X25519Sha256)
        .cloned()
        .collect();
    let list = attested_ohttp::keys::encode_key_config_list(&configs);
    Client::new(&list, &Bound(key_config_binding(&list))).ok()
}

/// A deterministic RNG: fuzzing only.
pub struct CountingRng(pub u64);

impl rand_core::TryRng for CountingRng {
    type Error = core::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()?.to_le_bytes()[0].into())
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for b in dst {
            *b = self.try_next_u64()?.to_le_bytes()[7];
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for CountingRng {}
