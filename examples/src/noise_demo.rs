//! Shared by `private-llm-proxy` and `verified-chat`: where the proxy's evidence comes from, how
//! the client checks it, and the OpenAI-compatible backend call.
//!
//! The TDX quote production and verification will come from `attested-tdx` (simulated platform,
//! configfs-tsm, DCAP verification). Until it is available, both sides go through the two small
//! seams below, [`EvidenceSource`] and [`attested_noise::EvidenceCheck`], and the only
//! implementation is [`TestOnlySimulatedTee`]: NOT a TEE, a stand-in whose "quotes" are signed
//! by a throwaway key that the client must be told to trust explicitly. Plugging `attested-tdx`
//! in means one more `EvidenceSource` (sim platform or configfs-tsm) and one more
//! `EvidenceCheck` (DCAP verification with a pinned root and collateral), chosen by `--tee`.

use std::collections::BTreeMap;

use attested_noise::ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use attested_noise::{BoxError, Evidence, EvidenceCheck, ReportData, VerifiedEvidence};
use subtle::ConstantTimeEq;

/// Where a proxy gets quotes whose REPORTDATA it chooses.
pub trait EvidenceSource: Send + Sync {
    /// The `tee_type` the proxy reports at `GET /attestation`.
    fn tee_type(&self) -> &'static str;
    /// A quote carrying `report_data`.
    fn quote(&self, report_data: &ReportData) -> Result<Vec<u8>, BoxError>;
    /// The MRTD the quotes carry (informative in `GET /attestation`).
    fn mrtd(&self) -> [u8; 48];
    /// What a client must be told to trust, explicitly, to accept simulated quotes (served at
    /// `GET /sim/root`); `None` for real hardware.
    fn trust_root(&self) -> Option<String>;
}

const SIM_MAGIC: &[u8; 16] = b"TEST-ONLY-NO-TEE";
const SIM_QUOTE_LEN: usize = 16 + 64 + 48 + 64;

/// NOT A TEE: a test stand-in for `attested-tdx`'s simulated platform. A "quote" is a magic
/// string, REPORTDATA, an MRTD and an Ed25519 signature over them by a key made at start-up.
pub struct TestOnlySimulatedTee {
    key: SigningKey,
    mrtd: [u8; 48],
}

impl TestOnlySimulatedTee {
    /// A simulated platform with a fresh key, reporting `mrtd`.
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(rng: &mut R, mrtd: [u8; 48]) -> Self {
        let mut secret = zeroize::Zeroizing::new([0_u8; 32]);
        rng.fill_bytes(secret.as_mut_slice());
        Self {
            key: SigningKey::from_bytes(&secret),
            mrtd,
        }
    }
}

impl EvidenceSource for TestOnlySimulatedTee {
    fn tee_type(&self) -> &'static str {
        "sim (test only, no TEE)"
    }

    fn quote(&self, report_data: &ReportData) -> Result<Vec<u8>, BoxError> {
        let mut quote = Vec::with_capacity(SIM_QUOTE_LEN);
        quote.extend_from_slice(SIM_MAGIC);
        quote.extend_from_slice(report_data);
        quote.extend_from_slice(&self.mrtd);
        let signature = self.key.sign(&quote);
        quote.extend_from_slice(&signature.to_bytes());
        Ok(quote)
    }

    fn mrtd(&self) -> [u8; 48] {
        self.mrtd
    }

    fn trust_root(&self) -> Option<String> {
        Some(hex::encode(self.key.verifying_key().to_bytes()))
    }
}

/// Why a simulated quote was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimQuoteError {
    /// No quote in the attestation.
    #[error("no quote")]
    Missing,
    /// Not a test-only simulated quote.
    #[error("quote is not a test-only simulated quote (wrong length or magic)")]
    Format,
    /// The signature is not by the trusted simulated root.
    #[error("quote signature does not verify under the trusted simulated root")]
    Signature,
    /// MRTD is not the expected one.
    #[error("MRTD {got} differs from the expected {expected}")]
    Mrtd {
        /// The MRTD in the quote, hex.
        got: String,
        /// The expected MRTD, hex.
        expected: String,
    },
}

/// Checks [`TestOnlySimulatedTee`] quotes against an explicitly trusted root key, and MRTD
/// against an expected value.
pub struct TestOnlySimulatedTeeCheck {
    root: VerifyingKey,
    expect_mrtd: Option<[u8; 48]>,
}

impl TestOnlySimulatedTeeCheck {
    /// Trusts quotes signed by `root` (the hex text served at `/sim/root`).
    pub fn new(root_hex: &str, expect_mrtd: Option<[u8; 48]>) -> Result<Self, BoxError> {
        let mut root = [0_u8; 32];
        hex::decode_to_slice(root_hex.trim(), &mut root)?;
        Ok(Self {
            root: VerifyingKey::from_bytes(&root)?,
            expect_mrtd,
        })
    }
}

impl EvidenceCheck for TestOnlySimulatedTeeCheck {
    fn check(&self, evidence: &Evidence<'_>) -> Result<VerifiedEvidence, BoxError> {
        let quote = evidence.quote.ok_or(SimQuoteError::Missing)?;
        if quote.len() != SIM_QUOTE_LEN || !quote.starts_with(SIM_MAGIC) {
            return Err(SimQuoteError::Format.into());
        }
        let (body, signature) = quote.split_at(SIM_QUOTE_LEN - 64);
        let signature = Signature::from_slice(signature).map_err(|_| SimQuoteError::Format)?;
        self.root
            .verify_strict(body, &signature)
            .map_err(|_| SimQuoteError::Signature)?;
        let (_, rest) = body.split_at(SIM_MAGIC.len());
        let (report_data, mrtd) = rest.split_at(64);
        if let Some(expected) = &self.expect_mrtd
            && !bool::from(expected.as_slice().ct_eq(mrtd))
        {
            return Err(SimQuoteError::Mrtd {
                got: hex::encode(mrtd),
                expected: hex::encode(expected),
            }
            .into());
        }
        let report_data: ReportData = report_data.try_into()?;
        Ok(VerifiedEvidence::new(
            report_data,
            BTreeMap::from([("mrtd".to_owned(), mrtd.to_vec())]),
        ))
    }
}

/// The OpenAI-compatible chat completion request the proxy sends to its backend.
pub fn backend_request(request: &attested_noise::ChatRequest, model: &str) -> serde_json::Value {
    let mut body = serde_json::json!({
        "model": request.model.as_deref().unwrap_or(model),
        "messages": request.messages,
        "stream": request.stream.unwrap_or(false),
    });
    if let (Some(t), Some(map)) = (request.temperature, body.as_object_mut()) {
        map.insert("temperature".into(), t.into());
    }
    body
}

/// The `chat_response` of a backend's non-streamed answer, or `None` if it is malformed.
pub fn chat_response(body: &serde_json::Value) -> Option<attested_noise::ChatResponse> {
    let message = body.get("choices")?.get(0)?.get("message")?;
    Some(attested_noise::ChatResponse {
        message: serde_json::from_value(message.clone()).ok()?,
        model: body.get("model")?.as_str()?.to_owned(),
        prompt_tokens: body.pointer("/usage/prompt_tokens")?.as_u64()?,
        completion_tokens: body.pointer("/usage/completion_tokens")?.as_u64()?,
    })
}

/// The text delta of one server-sent-events `data:` payload of a streamed answer.
pub fn stream_delta(data: &str) -> Option<String> {
    let event: serde_json::Value = serde_json::from_str(data).ok()?;
    Some(
        event
            .pointer("/choices/0/delta/content")?
            .as_str()?
            .to_owned(),
    )
}
