//! What the TDX verification benches share: the real quote and its collateral (dcap-qvl's test
//! data, verified at one fixed time) and the floor they compare with, the nine ring P-256
//! verifications a cold verification must do at least, over messages as long as the real
//! signed items.

use attested_tdx::{Collateral, Quote, TrustAnchor, UnixTime};

/// A time inside the collateral's validity window (and the PCK CRL's).
const NOW: &str = "2025-07-01T00:00:00Z";

/// The quote, its collateral (raw `QuoteCollateralV3` JSON and parsed), the time and Intel's
/// root it verifies under.
pub(crate) struct Fixture {
    pub(crate) quote: Vec<u8>,
    pub(crate) json: Vec<u8>,
    pub(crate) collateral: Collateral,
    pub(crate) now: UnixTime,
    pub(crate) anchor: TrustAnchor,
}

/// The fixture, or `None` when the test data is absent (the bench then measures nothing).
pub(crate) fn load() -> Option<Fixture> {
    let quote = attested_testdata::read("tdx/dcap-qvl/tdx_quote")?;
    let json = attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json")?;
    Some(Fixture {
        collateral: Collateral::from_qvl_json(&json).unwrap(),
        now: UnixTime::parse_rfc3339(NOW).unwrap(),
        anchor: TrustAnchor::intel_sgx_root(),
        quote,
        json,
    })
}

/// Byte lengths of the collateral's signed items, read from its `QuoteCollateralV3` JSON: root
/// CA CRL, PCK CA certificate, PCK CRL, TCB signing certificate, TCB Info, QE Identity. CRLs
/// and certificates count as their whole DER (their TBS is a few dozen bytes shorter).
fn qvl_json_lengths(json: &[u8]) -> [usize; 6] {
    let value: serde_json::Value = serde_json::from_slice(json).unwrap();
    let text = |key: &str| value[key].as_str().unwrap().to_owned();
    // The first PEM block's DER length: 3 bytes per 4 base64 characters, less the padding.
    let first_pem_der_len = |pem: String| {
        let body: String = pem
            .split("-----")
            .nth(2)
            .unwrap()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        body.len() / 4 * 3 - body.chars().filter(|c| *c == '=').count()
    };
    [
        text("root_ca_crl").len() / 2,
        first_pem_der_len(text("pck_crl_issuer_chain")),
        text("pck_crl").len() / 2,
        first_pem_der_len(text("tcb_info_issuer_chain")),
        text("tcb_info").len(),
        text("qe_identity").len(),
    ]
}

/// Nine real ECDSA P-256 signatures by one generated key over messages as long as the items a
/// cold verification checks, in its order: root CA CRL, PCK CA, PCK CRL, TCB signer, TCB Info,
/// QE Identity, PCK leaf, QE report, quote (a warm verification checks the last three).
pub(crate) struct SignatureSet {
    public_key: Vec<u8>,
    pub(crate) items: Vec<(Vec<u8>, Vec<u8>)>,
}

impl SignatureSet {
    pub(crate) fn new(collateral_json: &[u8], quote: &Quote<'_>) -> SignatureSet {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let leaf_len = quote
            .signature()
            .certification()
            .pck_cert_chain()
            .unwrap()
            .der_certificates()
            .unwrap()[0]
            .len();
        let mut lengths = qvl_json_lengths(collateral_json).to_vec();
        lengths.extend([leaf_len, 384, quote.signed_bytes().len()]);
        let items = lengths
            .into_iter()
            .map(|len| {
                let message = vec![0x5a; len];
                let signature = pair.sign(&rng, &message).unwrap().as_ref().to_vec();
                (message, signature)
            })
            .collect();
        SignatureSet {
            public_key: pair.public_key().as_ref().to_vec(),
            items,
        }
    }

    /// Verifies `items` (all of them, or a warm path's last three) with ring.
    pub(crate) fn verify(&self, items: &[(Vec<u8>, Vec<u8>)]) -> bool {
        items.iter().all(|(message, signature)| {
            ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                &self.public_key,
            )
            .verify(message, signature)
            .is_ok()
        })
    }
}
