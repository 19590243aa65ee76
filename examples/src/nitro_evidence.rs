//! AWS Nitro attestation documents for the OHTTP examples (the BlindAI shape).
//!
//! A gateway started with `--tee nitro-sim` signs Nitro-shaped documents with
//! `attested-token`'s simulated issuer (a test PKI of its own, NOT a TEE): each document's
//! `public_key` is SHA-512 of the gateway's encoded key configuration list (what a TDX quote
//! carries in REPORTDATA) and its `nonce` is the client's, so a document is made per request
//! (`GET /attestation?nonce=HEX`). The simulated root is served at `GET /nitro-sim/root` (PEM)
//! for clients told explicitly to trust it.
//!
//! Clients check documents with attested-token's [`NitroAppraiser`]: COSE signature and
//! certificate chain with [`NitroVerifier`] (the pinned AWS Nitro root by default; a simulated
//! root only when the user names its file with `--trust-nitro-sim-root`), freshness (a maximum
//! age), then a [`NitroPolicy`] (PCRs, no debug mode, the client's nonce). The key binding
//! comes from the verified document only.

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attested_token::nitro::{
    NITRO_MAX_NONCE_LEN, NitroAppraiser, NitroPolicy, NitroVerifier, PcrPin, PcrPinError,
};
use attested_token::sim::{SimEnclave, SimIssuer};
use attested_token::x509::TrustRoots;
use attested_types::{Accepted, UnixTime};

use crate::whisper_client::{BoxError, verified_gateway_with};

/// The simulated issuer's seed: fixed, so that a demo's root is reproducible.
const SIM_SEED: [u8; 32] = *b"attested-examples nitro-sim root";

/// Why a document could not be produced or was refused. Each variant names the failed step.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NitroEvidenceError {
    /// The simulated issuer could not be built.
    #[error("simulated Nitro issuer: {0}")]
    Sim(attested_token::Error),
    /// The attestation carries no document, or it is not hex.
    #[error("the attestation carries no hex Nitro document")]
    MissingDocument,
    /// The nonce asked for is not hex or longer than a Nitro document holds.
    #[error("nonce: not hex or longer than {NITRO_MAX_NONCE_LEN} bytes")]
    Nonce,
    /// The trust anchor cannot be read.
    #[error("trust anchor: {0}")]
    Anchor(String),
    /// A command-line value is malformed.
    #[error("{0}")]
    Usage(String),
}

/// A gateway's source of simulated Nitro documents.
pub struct NitroSimSource {
    issuer: SimIssuer,
    enclave: SimEnclave,
}

impl NitroSimSource {
    /// The example gateways' simulated enclave (PCR0..2 non-zero: not debug mode).
    pub fn new() -> Result<Self, NitroEvidenceError> {
        Self::with_seed(SIM_SEED)
    }

    /// A simulated enclave signed by an issuer derived from `seed`.
    pub fn with_seed(seed: [u8; 32]) -> Result<Self, NitroEvidenceError> {
        Ok(Self {
            issuer: SimIssuer::new(seed).map_err(NitroEvidenceError::Sim)?,
            enclave: SimEnclave::default(),
        })
    }

    /// What servers report as their `tee_type`.
    pub fn tee_type(&self) -> &'static str {
        "nitro-sim (simulated issuer, NOT a TEE)"
    }

    /// PCR0 of the documents (informative).
    pub fn pcr0(&self) -> Vec<u8> {
        self.pcr(0)
    }

    /// PCR `index` of the documents (informative; empty when the enclave has none).
    pub fn pcr(&self, index: u8) -> Vec<u8> {
        self.enclave.pcrs.get(&index).cloned().unwrap_or_default()
    }

    /// A document binding `key_list` (SHA-512 in `public_key`) with `nonce`, stamped `now`.
    pub fn document(&self, key_list: &[u8], nonce: Option<&[u8]>, now: SystemTime) -> Vec<u8> {
        let enclave = SimEnclave {
            public_key: Some(attested_ohttp::key_config_binding(key_list).to_vec()),
            nonce: nonce.map(<[u8]>::to_vec),
            ..self.enclave.clone()
        };
        let ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.issuer.nitro_document(&enclave, ms)
    }

    /// The `GET /attestation` answer for the raw query string `query` (`nonce=HEX`).
    pub fn attestation_json(
        &self,
        key_list: &[u8],
        query: Option<&str>,
        now: SystemTime,
    ) -> Result<serde_json::Value, NitroEvidenceError> {
        let nonce = query
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("nonce="))
            .map(|text| hex::decode(text).map_err(|_| NitroEvidenceError::Nonce))
            .transpose()?;
        if nonce
            .as_ref()
            .is_some_and(|n| n.len() > NITRO_MAX_NONCE_LEN)
        {
            return Err(NitroEvidenceError::Nonce);
        }
        let document = self.document(key_list, nonce.as_deref(), now);
        Ok(serde_json::json!({
            "evidence": {
                "type": "nitro-document",
                "tee_type": self.tee_type(),
                "document": hex::encode(document),
            },
            "key_config_list": hex::encode(key_list),
        }))
    }

    /// The simulated root certificate (PEM) a client must be told to trust.
    pub fn root_pem(&self) -> String {
        self.issuer.root_pem()
    }
}

/// `GET /nitro-sim/root` (PEM). Merge into a server's router.
pub fn trust_routes(source: &NitroSimSource) -> axum::Router {
    let pem = source.root_pem();
    axum::Router::new().route(
        "/nitro-sim/root",
        axum::routing::get(move || async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/x-pem-file")],
                pem,
            )
        }),
    )
}

/// Fetches the gateway's keys and a document for a fresh nonce, appraises the document with
/// `appraiser` (expecting that nonce) at the current time, and returns an OHTTP client for keys
/// that the verified document binds, with what the appraiser accepted (its measurements are
/// the document's PCRs).
pub async fn verified_nitro_gateway(
    http: &reqwest::Client,
    base: &str,
    appraiser: &NitroAppraiser,
) -> Result<(attested_ohttp::Client, Accepted), BoxError> {
    let nonce: [u8; 32] = rand::random();
    let query = format!("?nonce={}", hex::encode(nonce));
    verified_gateway_with(http, base, &query, |attestation| {
        let document = attestation
            .pointer("/evidence/document")
            .and_then(|d| d.as_str())
            .and_then(|d| hex::decode(d).ok())
            .ok_or(NitroEvidenceError::MissingDocument)?;
        appraiser
            .expecting_nonce(&nonce)
            .appraise_document(&document, UnixTime::now())
            .map(|(accepted, _)| accepted)
            .map_err(|e| format!("gateway Nitro document refused: {e}").into())
    })
    .await
}

/// The clients' Nitro verification options.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct NitroTrustArgs {
    /// Expect an AWS Nitro attestation document (implied by the other Nitro options).
    #[arg(long)]
    pub nitro: bool,
    /// Trust the SIMULATED Nitro root certificate (PEM) in FILE instead of the AWS Nitro root.
    /// A simulated issuer proves nothing: for tests and demos only.
    #[arg(long)]
    pub trust_nitro_sim_root: Option<PathBuf>,
    /// Refuse any PCR0 (enclave image) but this one (hex); short for `--expect-pcr 0=HEX`.
    #[arg(long)]
    pub expect_pcr0: Option<String>,
    /// Refuse documents whose PCR `INDEX` is not `HEX` (`INDEX=HEX`, repeatable): 0 enclave
    /// image, 1 kernel and bootstrap, 2 application, 3 IAM role, 4 instance ID, 8 signing
    /// certificate.
    #[arg(long, value_name = "INDEX=HEX")]
    pub expect_pcr: Vec<String>,
    /// Refuse documents older than this many seconds.
    #[arg(long, default_value_t = 300)]
    pub nitro_max_age: u64,
}

impl NitroTrustArgs {
    /// Whether the user asked for the Nitro path.
    pub fn enabled(&self) -> bool {
        self.nitro
            || self.trust_nitro_sim_root.is_some()
            || self.expect_pcr0.is_some()
            || !self.expect_pcr.is_empty()
    }

    /// The policy the options ask for: the pinned PCRs, or any enclave with `allow_any_workload`
    /// (the clients' `--allow-any-workload`). A usage error, naming what is
    /// missing, unless the PCRs identify the enclave's code (attested-token's rule,
    /// [`NitroPolicy::identifies_workload`]) or the opt-out was given.
    pub fn policy(&self, allow_any_workload: bool) -> Result<NitroPolicy, NitroEvidenceError> {
        let mut policy = if allow_any_workload {
            NitroPolicy::any_workload()
        } else {
            NitroPolicy::new()
        };
        for pin in self.expected_pcrs()? {
            policy = policy.expect_pcr_pin(&pin);
        }
        match policy.identifies_workload() {
            Err(missing) if !policy.accepts_any_workload() => {
                Err(NitroEvidenceError::Usage(format!(
                    "Nitro document: {missing}; give --expect-pcr0 HEX, --expect-pcr 2=HEX or \
                     8=HEX, or --allow-any-workload"
                )))
            }
            _ => Ok(policy),
        }
    }

    /// What a client checks before it connects anywhere: [`NitroTrustArgs::policy`], with an
    /// any-enclave opt-out announced on stderr. The policy is the one to appraise with.
    pub fn require_workload(
        &self,
        allow_any_workload: bool,
    ) -> Result<NitroPolicy, NitroEvidenceError> {
        let policy = self.policy(allow_any_workload)?;
        if policy.identifies_workload().is_err() {
            eprintln!(
                "WARNING: accepting ANY Nitro enclave (--allow-any-workload): whoever's code it \
                 runs gets the data"
            );
        }
        Ok(policy)
    }

    /// The appraiser the options ask for, with a description of its trust anchor for reports.
    pub fn appraiser(
        &self,
        policy: NitroPolicy,
    ) -> Result<(NitroAppraiser, String), NitroEvidenceError> {
        let (roots, description) = match &self.trust_nitro_sim_root {
            Some(path) => {
                let pem = std::fs::read_to_string(path)
                    .map_err(|e| NitroEvidenceError::Anchor(format!("{}: {e}", path.display())))?;
                let roots = TrustRoots::empty()
                    .with_pem(&pem)
                    .map_err(|e| NitroEvidenceError::Anchor(format!("{}: {e}", path.display())))?;
                (
                    roots,
                    format!("SIMULATED Nitro root from {} (not a TEE)", path.display()),
                )
            }
            None => (
                TrustRoots::aws_nitro(),
                "AWS Nitro Enclaves root".to_owned(),
            ),
        };
        let verifier =
            NitroVerifier::new(&roots).max_age(Some(Duration::from_secs(self.nitro_max_age)));
        Ok((NitroAppraiser::new(verifier, policy), description))
    }
}

impl NitroTrustArgs {
    /// The PCRs `--expect-pcr0` and `--expect-pcr` name (attested-token's [`PcrPin`]).
    fn expected_pcrs(&self) -> Result<Vec<PcrPin>, NitroEvidenceError> {
        let usage =
            |text: &str, why: PcrPinError| NitroEvidenceError::Usage(format!("{text}: {why}"));
        let pcr0 = self
            .expect_pcr0
            .iter()
            .map(|text| PcrPin::from_hex(0, text).map_err(|e| usage(text, e)));
        let named = self
            .expect_pcr
            .iter()
            .map(|text| text.parse::<PcrPin>().map_err(|e| usage(text, e)));
        pcr0.chain(named).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use attested_ohttp::{KeyPair, KeyRing, Suite, Validity};
    use attested_token::AppraiserError;

    fn key_list() -> Vec<u8> {
        let now = SystemTime::now();
        let suite = Suite::X25519_AES128GCM;
        let pair =
            KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut rand::rng()).unwrap();
        let mut ring = KeyRing::new();
        ring.insert(
            pair,
            Validity::new(
                now.into(),
                Duration::from_secs(3600),
                Duration::from_secs(60),
            ),
        )
        .unwrap();
        ring.encoded_list(now.into())
    }

    fn appraiser(roots: &TrustRoots, policy: NitroPolicy) -> NitroAppraiser {
        let verifier = NitroVerifier::new(roots).max_age(Some(Duration::from_secs(60)));
        NitroAppraiser::new(verifier, policy)
    }

    /// The simulated enclave's PCR0 pinned: what identifies it.
    fn pinned(source: &NitroSimSource) -> NitroPolicy {
        NitroPolicy::new().expect_pcr(0, &source.pcr0())
    }

    fn sim_appraiser(source: &NitroSimSource, policy: NitroPolicy) -> NitroAppraiser {
        appraiser(
            &TrustRoots::empty().with_pem(&source.root_pem()).unwrap(),
            policy,
        )
    }

    /// `appraiser` at `now`, expecting `nonce`.
    fn appraise(
        appraiser: &NitroAppraiser,
        document: &[u8],
        nonce: &[u8],
        now: SystemTime,
    ) -> Result<Accepted, AppraiserError> {
        appraiser
            .expecting_nonce(nonce)
            .appraise_document(document, now.into())
            .map(|(accepted, _)| accepted)
    }

    #[test]
    fn a_document_verifies_and_binds_exactly_its_key_list() {
        let source = NitroSimSource::new().unwrap();
        let (list, other) = (key_list(), key_list());
        let now = SystemTime::now();
        let document = source.document(&list, Some(b"nonce"), now);
        let accepted = appraise(
            &sim_appraiser(&source, pinned(&source)),
            &document,
            b"nonce",
            now,
        )
        .unwrap();
        assert_eq!(
            accepted.report_data(),
            &attested_ohttp::key_config_binding(&list)
        );
        assert!(attested_ohttp::Client::new(&list, &accepted).is_ok());
        assert!(attested_ohttp::Client::new(&other, &accepted).is_err());
    }

    #[test]
    fn another_nonce_a_stale_document_and_another_pcr0_are_refused() {
        let source = NitroSimSource::new().unwrap();
        let now = SystemTime::now();
        let document = source.document(&key_list(), Some(b"nonce"), now);
        let check = sim_appraiser(&source, pinned(&source));
        let error = appraise(&check, &document, b"other", now).unwrap_err();
        assert!(matches!(error, AppraiserError::Policy(_)), "{error}");
        assert!(error.to_string().contains("nonce"), "{error}");
        let later = now + Duration::from_secs(3600);
        let error = appraise(&check, &document, b"nonce", later).unwrap_err();
        assert!(matches!(error, AppraiserError::Verify(_)), "{error}");
        let pcr0 = sim_appraiser(&source, NitroPolicy::new().expect_pcr(0, &[0; 48]));
        let pcr0 = appraise(&pcr0, &document, b"nonce", now).unwrap_err();
        assert!(pcr0.to_string().contains("PCR0"), "{pcr0}");
    }

    #[test]
    fn the_aws_root_and_other_simulated_roots_refuse_simulated_documents() {
        let source = NitroSimSource::new().unwrap();
        let now = SystemTime::now();
        let document = source.document(&key_list(), Some(b"n"), now);
        let aws = appraiser(&TrustRoots::aws_nitro(), pinned(&source));
        let other = sim_appraiser(
            &NitroSimSource::with_seed([9; 32]).unwrap(),
            pinned(&source),
        );
        for check in [aws, other] {
            let error = appraise(&check, &document, b"n", now).unwrap_err();
            assert!(matches!(error, AppraiserError::Verify(_)), "{error}");
        }
    }

    #[test]
    fn a_tampered_document_is_refused() {
        let source = NitroSimSource::new().unwrap();
        let now = SystemTime::now();
        let mut document = source.document(&key_list(), Some(b"n"), now);
        let last = document.len() - 1;
        document[last] ^= 1;
        let check = sim_appraiser(&source, pinned(&source));
        assert!(appraise(&check, &document, b"n", now).is_err());
        assert!(appraise(&check, &document[..40], b"n", now).is_err());
    }

    #[test]
    fn the_attestation_answer_carries_the_asked_nonce_and_refuses_bad_ones() {
        let source = NitroSimSource::new().unwrap();
        let list = key_list();
        let now = SystemTime::now();
        let json = source
            .attestation_json(&list, Some("nonce=0a0b"), now)
            .unwrap();
        let document = hex::decode(json["evidence"]["document"].as_str().unwrap()).unwrap();
        let check = sim_appraiser(&source, pinned(&source));
        assert!(appraise(&check, &document, &[0x0a, 0x0b], now).is_ok());
        let long = format!("nonce={}", "00".repeat(NITRO_MAX_NONCE_LEN + 1));
        for query in ["nonce=zz", long.as_str()] {
            assert!(matches!(
                source.attestation_json(&list, Some(query), now),
                Err(NitroEvidenceError::Nonce)
            ));
        }
    }

    #[test]
    fn expected_pcrs_come_from_both_flags_and_bad_ones_are_usage_errors() {
        let args = |pcr0: Option<&str>, pcrs: &[&str]| NitroTrustArgs {
            expect_pcr0: pcr0.map(str::to_owned),
            expect_pcr: pcrs.iter().map(|p| (*p).to_owned()).collect(),
            ..NitroTrustArgs::default()
        };
        let (aa, bb, cc) = ("aa".repeat(48), "bb".repeat(32), "cc".repeat(64));
        let pcrs = args(Some(&aa), &[&format!("8={bb}"), &format!(" 2 = {cc} ")])
            .expected_pcrs()
            .unwrap();
        let pins: Vec<(u8, Vec<u8>)> = pcrs
            .iter()
            .map(|p| (p.index(), p.value().to_vec()))
            .collect();
        assert_eq!(
            pins,
            vec![
                (0, vec![0xaa; 48]),
                (8, vec![0xbb; 32]),
                (2, vec![0xcc; 64])
            ]
        );
        assert!(args(None, &["2=01"]).enabled());
        let short = format!("1={}", "00".repeat(20));
        for bad in ["2", "32=00", "x=00", "1=zz", short.as_str()] {
            let error = args(None, &[bad]).expected_pcrs().unwrap_err();
            assert!(
                matches!(error, NitroEvidenceError::Usage(_)),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn the_options_must_identify_the_enclave_or_opt_out() {
        let args = |pcrs: &[&str]| NitroTrustArgs {
            nitro: true,
            expect_pcr: pcrs.iter().map(|p| (*p).to_owned()).collect(),
            ..NitroTrustArgs::default()
        };
        let pin = |index: u8| format!("{index}={}", "00".repeat(48));
        let (p0, p1, p2, p3, p4, p8) = (pin(0), pin(1), pin(2), pin(3), pin(4), pin(8));
        for pcrs in [&[][..], &[p1.as_str()][..], &[p3.as_str(), p4.as_str()][..]] {
            let error = args(pcrs).policy(false).unwrap_err();
            assert!(matches!(error, NitroEvidenceError::Usage(_)), "{error}");
            assert!(
                error.to_string().contains("--allow-any-workload"),
                "{error}"
            );
        }
        for pcrs in [
            &[p0.as_str()][..],
            &[p2.as_str()][..],
            &[p8.as_str(), p1.as_str()][..],
        ] {
            assert!(!args(pcrs).policy(false).unwrap().accepts_any_workload());
        }
        assert!(args(&[]).policy(true).unwrap().accepts_any_workload());
    }

    #[test]
    fn every_expected_pcr_is_checked() {
        let source = NitroSimSource::new().unwrap();
        let now = SystemTime::now();
        let document = source.document(&key_list(), Some(b"nonce"), now);
        let expecting = |pcr1: &[u8]| {
            let policy = NitroPolicy::new()
                .expect_pcr(0, &source.pcr0())
                .expect_pcr(1, pcr1);
            appraise(&sim_appraiser(&source, policy), &document, b"nonce", now)
        };
        assert!(expecting(&source.pcr(1)).is_ok());
        let error = expecting(&[0; 48]).unwrap_err();
        assert!(error.to_string().contains("PCR1"), "{error}");
    }
}
