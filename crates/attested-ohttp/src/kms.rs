//! Azure KMS mode: key configurations from a confidential KMS (`GET {kms}/listpubkeys`), each
//! with a CCF receipt that must verify, fail-closed, against a pinned service certificate.
//!
//! For an entry: leaf = SHA-256(write_set_digest || SHA-256(commit_evidence) ||
//! claims_digest); the Merkle root follows from the proof; the receipt's node certificate
//! signs the root (ECDSA over the root as a SHA-256 digest) and is itself signed by the pinned
//! service certificate; and `claims_digest` binds the entry's key by one of the two formulas
//! azure-transparent-kms publishes ([`ClaimsDigestFormula`]). Microsoft's own client
//! (attested-ohttp-client `verifier/src/lib.rs`) checks the first three and discards the
//! result; nothing in it compares `claims_digest` with the key, which is what makes the key
//! the one the ledger recorded.
//!
//! # Why an expired node certificate is accepted
//!
//! A CCF receipt is signed by the node that was primary when the transaction was committed.
//! Node certificates are short-lived (CCF's documentation shows one valid for a day) and
//! renewed, while the ledger entry (and so its receipt) stays valid for as long as the key is
//! served: a key generated months ago carries a receipt whose node certificate has since
//! expired. What makes the receipt trustworthy is that the pinned service certificate endorsed
//! that node, and the node signed the Merkle root; both are checked. So the node certificate
//! must have been issued before `now`, but its `notAfter` is not checked against `now`. The
//! pinned service certificate itself must be valid at `now`.
//!
//! # The chain: rustls-webpki (decision)
//!
//! The chain node certificate -> pinned service certificate is validated by `rustls-webpki`
//! 0.103, as attested-token validates its chains: strict DER, version 3, the node's signature,
//! basicConstraints (the node is not a CA, the issuer is), pathLenConstraint, unknown critical
//! extensions, name constraints. webpki validates at one time, so the chain is validated **at
//! the node certificate's issuance**: its `notBefore`, or the service certificate's if that is
//! later. That is the moment the service endorsed the node; both certificates must be valid
//! then. The two checks webpki cannot express are one comparison each, made here against
//! `now`: the node's `notBefore` is not after `now`, and the service certificate is valid at
//! `now`. A consequence, tested: a node certificate that had expired before the pinned
//! service certificate's `notBefore` (a service certificate renewed later) was never
//! endorsed by that certificate and is refused.
//!
//! webpki keeps only a trust anchor's name and key and checks nothing else on it. So that the
//! pinned certificate gets the issuer checks too (it is a CA, its critical extensions are
//! known, it is valid, its self-signature verifies), it is passed both as the anchor and as
//! the path's one intermediate, and the direct path from the node to the anchor is refused.
//! pathLenConstraint is enforced, but with no intermediate between node and service a CCF
//! receipt cannot violate it. webpki ignores KeyUsage by design: this module checks it, the
//! service's must allow `keyCertSign` (when pinned), the node's `digitalSignature`. Extended
//! key usages are not restricted (node certificates are TLS server certificates).
//!
//! Signatures in the chain: webpki's `ring` algorithms by default (feature `ring`);
//! under `rustcrypto` alone, the RustCrypto set of the vocabulary (`attested_types::signature`,
//! the same algorithms over `p256`/`p384`). The receipt's own signature is
//! ECDSA over the Merkle root *as a digest* (CCF signs the 32-byte root without hashing it
//! again); `ring` verifies only over a message it hashes itself, so that one signature is
//! verified by `p256`/`p384` (`verify_prehash`) under either feature.
//!
//! Measured (`cargo bench -p attested-ohttp --bench kms`, one `listpubkeys` entry through
//! [`KmsTrust::last_verified`], P-384 service and node, idle 2-core machine): 0.94 ms with the
//! hand-written chain check before, 1.96 ms (`ring`) / 1.88 ms (`rustcrypto`) with webpki,
//! which verifies three chain signatures where the hand check verified one.
//!
//! # The flow, without IO
//!
//! `GET {kms}/listpubkeys` ([`LISTPUBKEYS_PATH`]) with the service certificate as the only TLS
//! root; [`ListPubKeysStatus::classify`] says whether to read the body (200), wait
//! [`KMS_PENDING_PAUSE`] and ask again (202, at most [`KMS_PENDING_RETRIES`] times), or stop;
//! [`KmsTrust::last_verified`] picks the last entry whose receipt verifies, as Microsoft's
//! client takes the last entry (`kms_configs.pop()`, attested-ohttp-client
//! `ohttp-client/src/lib.rs:227`).

use std::time::Duration;

use attested_types::UnixTime;

use base64::Engine as _;
use der::{DecodePem, Encode};
use rustls_pki_types::{CertificateDer, SignatureVerificationAlgorithm, TrustAnchor};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{KeyUsage, KeyUsages};

#[cfg(not(any(feature = "ring", feature = "rustcrypto")))]
compile_error!(
    "attested-ohttp needs a signature backend for the KMS chain: enable `ring` or `rustcrypto`"
);

use crate::attest::VerifiedKeyConfigs;
use crate::key_config::KeyConfig;
use crate::suite::Kem;

/// Why a KMS key list or one of its receipts was refused. `index` is the entry's position.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsError {
    /// The pinned service certificate could not be parsed or has no usable key.
    #[error("pinned service certificate: {0}")]
    ServiceCertificate(&'static str),
    /// The body is not the expected JSON, or an entry lacks a field.
    #[error("listpubkeys body: {0}")]
    Json(String),
    /// The list is empty.
    #[error("the KMS returned no keys")]
    Empty,
    /// An entry's `publicKey` is not a valid hex key configuration.
    #[error("entry {index}: key configuration: {error}")]
    KeyConfig {
        /// The entry.
        index: usize,
        /// What was wrong.
        error: crate::Error,
    },
    /// The key's KEM has no x coordinate to bind (only DHKEM P-256/P-384 keys are accepted).
    #[error("entry {index}: KEM 0x{kem:04x} cannot be bound by claims_digest")]
    UnbindableKem {
        /// The entry.
        index: usize,
        /// The KEM identifier.
        kem: u16,
    },
    /// A receipt field is not valid hex/base64/PEM or has the wrong length.
    #[error("entry {index}: receipt field {field} is malformed")]
    MalformedReceipt {
        /// The entry.
        index: usize,
        /// The field.
        field: &'static str,
    },
    /// The receipt's node certificate names another issuer than the pinned service.
    #[error("entry {index}: node certificate issuer is not the pinned service")]
    NodeCertificateIssuer {
        /// The entry.
        index: usize,
    },
    /// The node certificate's signature does not verify with the pinned service key.
    #[error("entry {index}: node certificate is not signed by the pinned service certificate")]
    NodeCertificateSignature {
        /// The entry.
        index: usize,
    },
    /// Path validation (rustls-webpki) refused the chain node certificate -> pinned service
    /// certificate for a reason other than the issuer's name or signature: `check` names it.
    #[error("entry {index}: certificate chain refused: {check}")]
    CertificateChain {
        /// The entry.
        index: usize,
        /// The check that failed.
        check: &'static str,
    },
    /// The node or service certificate is outside its validity period at `now`.
    #[error("entry {index}: {which} certificate is not valid at the verification time")]
    CertificateTime {
        /// The entry.
        index: usize,
        /// "node" or "service".
        which: &'static str,
    },
    /// The Merkle root computed from the proof differs from the root the receipt states.
    #[error("entry {index}: Merkle root from the proof does not match the receipt's root")]
    MerkleRoot {
        /// The entry.
        index: usize,
    },
    /// The receipt signature does not verify over the computed Merkle root.
    #[error("entry {index}: receipt signature does not verify over the Merkle root")]
    ReceiptSignature {
        /// The entry.
        index: usize,
    },
    /// `claims_digest` matches neither published formula for this key
    /// ([`ClaimsDigestFormula`]): the receipt records some other key.
    #[error(
        "entry {index}: claims_digest binds another key (neither SHA-256(base64url x) nor SHA-256(base64url x || base64url y))"
    )]
    ClaimsDigest {
        /// The entry.
        index: usize,
    },
    /// The `listpubkeys` body is larger than [`MAX_LISTPUBKEYS_LEN`].
    #[error("listpubkeys body of {actual} bytes exceeds {limit}")]
    TooLarge {
        /// The limit.
        limit: usize,
        /// The body's length.
        actual: usize,
    },
    /// The KMS answered `listpubkeys` with a status other than 200 or 202.
    #[error("listpubkeys answered HTTP {0}")]
    Status(u16),
    /// The KMS still answered 202 (receipt pending) after [`KMS_PENDING_RETRIES`] retries.
    #[error("listpubkeys still pending after {0} retries")]
    StillPending(u32),
}

/// The path of the key list under the KMS URL (attested-ohttp-client
/// `ohttp-client/src/lib.rs:177`).
pub const LISTPUBKEYS_PATH: &str = "/listpubkeys";
/// How many times a 202 answer (receipt not yet available) is retried
/// (attested-ohttp-client `ohttp-client/src/lib.rs:175`).
pub const KMS_PENDING_RETRIES: u32 = 3;
/// The pause before retrying a 202 answer (attested-ohttp-client
/// `ohttp-client/src/lib.rs:192`).
pub const KMS_PENDING_PAUSE: Duration = Duration::from_secs(1);
/// The largest `listpubkeys` body read (a real one holds one key and its receipt, ~3 KB).
pub const MAX_LISTPUBKEYS_LEN: usize = 1 << 20;

/// What to do with a `listpubkeys` answer's status, decided without IO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ListPubKeysStatus {
    /// 200: verify the body.
    Ready,
    /// 202: the receipt is not yet available; ask again after [`KMS_PENDING_PAUSE`].
    Pending,
}

impl ListPubKeysStatus {
    /// Classifies the answer's status after `retries_so_far` 202 answers: 200 is
    /// [`Ready`](Self::Ready), 202 is [`Pending`](Self::Pending) while retries remain, and
    /// anything else is refused (Microsoft's client calls `error_for_status`, then treats
    /// every other status as an error: `ohttp-client/src/lib.rs:181-205`).
    pub fn classify(status: u16, retries_so_far: u32) -> KmsResult<Self> {
        match status {
            200 => Ok(Self::Ready),
            202 if retries_so_far < KMS_PENDING_RETRIES => Ok(Self::Pending),
            202 => Err(KmsError::StillPending(retries_so_far)),
            other => Err(KmsError::Status(other)),
        }
    }
}

/// How a receipt's `claims_digest` binds the entry's key. azure-transparent-kms records
/// `SHA-256(claims)` with `ccf.rpc.setClaimsDigest` (`src/repositories/KeyStore.ts:29`,
/// `LastestItemStore.ts:40`), where `claims` is the key's JWK coordinates as base64url text
/// (no padding):
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClaimsDigestFormula {
    /// `SHA-256(base64url(x))`: the main branch (`src/endpoints/refreshEndpoint.ts:47`,
    /// `hpkeKeysMap.storeItem(keyItem.kid, keyItem, keyItem.x)`).
    X,
    /// `SHA-256(base64url(x) || base64url(y))`: the inference branch
    /// (`src/inference/refreshEndpoint.ts:42`,
    /// `hpkeKeyMap.storeItem(id, keyItem, keyItem.x + keyItem.y)`).
    XThenY,
}

impl ClaimsDigestFormula {
    /// Both formulas, in the order they are tried.
    pub const ALL: [Self; 2] = [Self::X, Self::XThenY];

    /// The claims digest this formula gives for the affine coordinates `x` and `y`.
    pub fn digest(self, x: &[u8], y: &[u8]) -> [u8; 32] {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut h = Sha256::new();
        h.update(b64.encode(x));
        if self == Self::XThenY {
            h.update(b64.encode(y));
        }
        h.finalize().into()
    }
}

/// One `listpubkeys` entry whose receipt verified.
#[derive(Debug, Clone)]
pub struct KmsKey {
    index: usize,
    formula: ClaimsDigestFormula,
    config: KeyConfig,
    verified: VerifiedKeyConfigs,
}

impl KmsKey {
    /// The entry's position in the list.
    pub fn index(&self) -> usize {
        self.index
    }

    /// Which `claims_digest` formula bound the key.
    pub fn formula(&self) -> ClaimsDigestFormula {
        self.formula
    }

    /// The key configuration, verified: builds a [`Client`](crate::Client).
    pub fn verified(&self) -> &VerifiedKeyConfigs {
        &self.verified
    }

    /// The key configuration.
    pub fn config(&self) -> &KeyConfig {
        &self.config
    }
}

type KmsResult<T> = Result<T, KmsError>;

#[derive(Deserialize)]
struct Entry {
    #[serde(rename = "publicKey")]
    public_key: String,
    receipt: serde_json::Value,
}

#[derive(Deserialize)]
struct Receipt {
    cert: String,
    leaf_components: LeafComponents,
    proof: Vec<ProofStep>,
    signature: String,
    #[serde(default)]
    root: Option<String>,
}

#[derive(Deserialize)]
struct LeafComponents {
    claims_digest: String,
    commit_evidence: String,
    write_set_digest: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProofStep {
    Left(String),
    Right(String),
}

/// The pinned CCF service certificate of a KMS.
#[derive(Debug, Clone)]
pub struct KmsTrust {
    service: Certificate,
    service_der: Vec<u8>,
    anchor: TrustAnchor<'static>,
}

impl KmsTrust {
    /// Pins a service certificate (PEM): a self-signed ECDSA P-256 or P-384 certificate, as
    /// CCF's service identity is. Refused here: a certificate that is not self-issued, has an
    /// unknown critical extension, or has a KeyUsage without `keyCertSign`; that it is a CA
    /// (basicConstraints cA) and that its self-signature verifies is checked with each receipt
    /// (see the module docs).
    pub fn from_pem(pem: &[u8]) -> KmsResult<Self> {
        let service = Certificate::from_pem(pem)
            .map_err(|_| KmsError::ServiceCertificate("not a PEM X.509 certificate"))?;
        EcKey::from_certificate(&service).ok_or(KmsError::ServiceCertificate(
            "key is not ECDSA P-256 or P-384",
        ))?;
        let tbs = service.tbs_certificate();
        if tbs.issuer() != tbs.subject() {
            return Err(KmsError::ServiceCertificate(
                "not self-issued (a CCF service certificate is self-signed)",
            ));
        }
        if !allows(&service, KeyUsages::KeyCertSign)? {
            return Err(KmsError::ServiceCertificate("KeyUsage lacks keyCertSign"));
        }
        let service_der = service
            .to_der()
            .map_err(|_| KmsError::ServiceCertificate("not DER-encodable"))?;
        let der = CertificateDer::from(service_der.as_slice());
        // webpki's strict parse: DER, version 3, known critical extensions.
        webpki::EndEntityCert::try_from(&der).map_err(|e| {
            KmsError::ServiceCertificate(match e {
                webpki::Error::UnsupportedCriticalExtension => "unknown critical extension",
                _ => "refused by rustls-webpki's certificate parser",
            })
        })?;
        let anchor = webpki::anchor_from_trusted_cert(&der)
            .map_err(|_| KmsError::ServiceCertificate("not usable as a trust anchor"))?
            .to_owned();
        Ok(Self {
            service,
            service_der,
            anchor,
        })
    }

    /// Verifies a `listpubkeys` body at `now`: every entry must verify, or the whole list is
    /// refused.
    pub fn verify_listpubkeys(&self, body: &[u8], now: UnixTime) -> KmsResult<VerifiedKeyConfigs> {
        let entries = self.entries(body, now)?;
        let mut configs = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            configs.push(self.verify_entry(index, entry, now)?.0);
        }
        Ok(VerifiedKeyConfigs::from_checked(configs))
    }

    /// The last entry of a `listpubkeys` body whose receipt verifies at `now`, as
    /// Microsoft's client uses the last entry. Entries that do not verify are never used;
    /// when none does, the last entry's error is returned.
    pub fn last_verified(&self, body: &[u8], now: UnixTime) -> KmsResult<KmsKey> {
        let entries = self.entries(body, now)?;
        let mut last_error = KmsError::Empty;
        for (index, entry) in entries.iter().enumerate().rev() {
            match self.verify_entry(index, entry, now) {
                Ok((config, formula)) => {
                    return Ok(KmsKey {
                        index,
                        formula,
                        verified: VerifiedKeyConfigs::from_checked(vec![config.clone()]),
                        config,
                    });
                }
                Err(e) if index + 1 == entries.len() => last_error = e,
                Err(_) => {}
            }
        }
        Err(last_error)
    }

    fn entries(&self, body: &[u8], now: UnixTime) -> KmsResult<Vec<Entry>> {
        if body.len() > MAX_LISTPUBKEYS_LEN {
            return Err(KmsError::TooLarge {
                limit: MAX_LISTPUBKEYS_LEN,
                actual: body.len(),
            });
        }
        let entries: Vec<Entry> =
            serde_json::from_slice(body).map_err(|e| KmsError::Json(e.to_string()))?;
        if entries.is_empty() {
            return Err(KmsError::Empty);
        }
        check_time(&self.service, now).map_err(|()| KmsError::CertificateTime {
            index: 0,
            which: "service",
        })?;
        Ok(entries)
    }

    fn verify_entry(
        &self,
        index: usize,
        entry: &Entry,
        now: UnixTime,
    ) -> KmsResult<(KeyConfig, ClaimsDigestFormula)> {
        let malformed = |field| KmsError::MalformedReceipt { index, field };
        let key_bytes = hex::decode(entry.public_key.trim()).map_err(|_| malformed("publicKey"))?;
        let config =
            KeyConfig::decode(&key_bytes).map_err(|error| KmsError::KeyConfig { index, error })?;
        // Uncompressed SEC1 point: 0x04 || x || y.
        let coordinate_len = match config.kem() {
            Kem::P256Sha256 => 32,
            Kem::P384Sha384 => 48,
            other => {
                return Err(KmsError::UnbindableKem {
                    index,
                    kem: other.id(),
                });
            }
        };
        let point = config.public_key();
        let (x, y) = match (
            point.first(),
            point.get(1..1 + coordinate_len),
            point.get(1 + coordinate_len..),
        ) {
            (Some(0x04), Some(x), Some(y)) if y.len() == coordinate_len => (x, y),
            _ => return Err(malformed("publicKey")),
        };

        // A receipt may arrive as a JSON object or as a string holding one.
        let receipt: Receipt = match &entry.receipt {
            serde_json::Value::String(s) => serde_json::from_str(s),
            v => serde_json::from_value(v.clone()),
        }
        .map_err(|e| KmsError::Json(format!("entry {index}: receipt: {e}")))?;

        let node = Certificate::from_pem(receipt.cert.as_bytes()).map_err(|_| malformed("cert"))?;
        self.check_node_certificate(index, &node, now)?;
        let node_key = EcKey::from_certificate(&node).ok_or(malformed("cert"))?;

        let lc = &receipt.leaf_components;
        let write_set = digest32(&lc.write_set_digest).ok_or(malformed("write_set_digest"))?;
        let claims = digest32(&lc.claims_digest).ok_or(malformed("claims_digest"))?;
        let mut leaf = Sha256::new();
        leaf.update(write_set);
        leaf.update(Sha256::digest(lc.commit_evidence.as_bytes()));
        leaf.update(claims);
        let mut root: [u8; 32] = leaf.finalize().into();
        for step in &receipt.proof {
            let (sibling, left) = match step {
                ProofStep::Left(h) => (h, true),
                ProofStep::Right(h) => (h, false),
            };
            let sibling = digest32(sibling).ok_or(malformed("proof"))?;
            let mut h = Sha256::new();
            if left {
                h.update(sibling);
                h.update(root);
            } else {
                h.update(root);
                h.update(sibling);
            }
            root = h.finalize().into();
        }
        if let Some(stated) = &receipt.root {
            let stated = digest32(stated).ok_or(malformed("root"))?;
            if !bool::from(subtle::ConstantTimeEq::ct_eq(&stated[..], &root[..])) {
                return Err(KmsError::MerkleRoot { index });
            }
        }
        let signature = base64::engine::general_purpose::STANDARD
            .decode(receipt.signature.trim())
            .map_err(|_| malformed("signature"))?;
        if !node_key.verify_prehash(&root, &signature) {
            return Err(KmsError::ReceiptSignature { index });
        }
        for formula in ClaimsDigestFormula::ALL {
            let expected = formula.digest(x, y);
            if bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], &claims[..])) {
                return Ok((config, formula));
            }
        }
        Err(KmsError::ClaimsDigest { index })
    }

    fn check_node_certificate(
        &self,
        index: usize,
        node: &Certificate,
        now: UnixTime,
    ) -> KmsResult<()> {
        // Issued before `now`; its expiry is not checked against `now` (see the module docs).
        let node_not_before = node.tbs_certificate().validity().not_before;
        if now < UnixTime::from(node_not_before.to_date_time()) {
            return Err(KmsError::CertificateTime {
                index,
                which: "node",
            });
        }
        let der = node.to_der().map_err(|_| KmsError::MalformedReceipt {
            index,
            field: "cert",
        })?;
        let service_not_before = self.service.tbs_certificate().validity().not_before;
        let at = node_not_before
            .to_unix_duration()
            .max(service_not_before.to_unix_duration());
        verify_chain(
            ALGORITHMS,
            &self.anchor,
            &self.service_der,
            &der,
            rustls_pki_types::UnixTime::since_unix_epoch(at),
        )
        .map_err(|e| chain_error(index, e))?;
        // webpki ignores KeyUsage by design: the node signs Merkle roots.
        if !allows(node, KeyUsages::DigitalSignature).map_err(|_| KmsError::MalformedReceipt {
            index,
            field: "cert",
        })? {
            return Err(KmsError::CertificateChain {
                index,
                check: "node certificate's KeyUsage lacks digitalSignature",
            });
        }
        Ok(())
    }
}

/// Whether `cert` may be used for `usage`: no KeyUsage extension, or one that allows it.
fn allows(cert: &Certificate, usage: KeyUsages) -> KmsResult<bool> {
    let key_usage = cert
        .tbs_certificate()
        .get_extension::<KeyUsage>()
        .map_err(|_| KmsError::ServiceCertificate("malformed KeyUsage"))?;
    Ok(key_usage.is_none_or(|(_, KeyUsage(flags))| flags.contains(usage)))
}

/// Validates `node` -> `service` -> anchor (the service certificate itself) at `at` with
/// rustls-webpki. The pinned certificate is passed as the path's one intermediate as well as
/// the anchor, and the path straight from the node to the anchor is refused, so that webpki
/// applies to the service certificate what it checks on an issuer (cA, pathLenConstraint,
/// critical extensions, validity at `at`, its self-signature) and never checks on an anchor.
fn verify_chain(
    algorithms: &[&dyn SignatureVerificationAlgorithm],
    anchor: &TrustAnchor<'static>,
    service_der: &[u8],
    node_der: &[u8],
    at: rustls_pki_types::UnixTime,
) -> Result<(), webpki::Error> {
    let node_der = CertificateDer::from(node_der);
    let node = webpki::EndEntityCert::try_from(&node_der)?;
    let intermediates = [CertificateDer::from(service_der)];
    let through_the_service = |path: &webpki::VerifiedPath<'_>| {
        if path.intermediate_certificates().count() == 1 {
            Ok(())
        } else {
            // The lowest-ranked error: any failure on the path through the service wins.
            Err(webpki::Error::UnknownIssuer)
        }
    };
    node.verify_for_usage(
        algorithms,
        std::slice::from_ref(anchor),
        &intermediates,
        at,
        AnyExtendedKeyUsage,
        None,
        Some(&through_the_service),
    )
    .map(|_| ())
}

/// What webpki's refusal means for a receipt.
fn chain_error(index: usize, error: webpki::Error) -> KmsError {
    use webpki::Error as W;
    let check = match error {
        W::UnknownIssuer => return KmsError::NodeCertificateIssuer { index },
        W::InvalidSignatureForPublicKey
        | W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => {
            return KmsError::NodeCertificateSignature { index };
        }
        W::BadDer | W::BadDerTime | W::TrailingData(_) | W::UnsupportedCertVersion => {
            return KmsError::MalformedReceipt {
                index,
                field: "cert",
            };
        }
        W::EndEntityUsedAsCa => "the pinned service certificate is not a CA (basicConstraints)",
        W::CaUsedAsEndEntity => "the node certificate is a CA (basicConstraints)",
        W::PathLenConstraintViolated => "pathLenConstraint",
        W::UnsupportedCriticalExtension => "unknown critical extension",
        W::MalformedExtensions | W::ExtensionValueInvalid => "malformed extension",
        W::CertExpired { .. } | W::CertNotValidYet { .. } | W::InvalidCertValidity => {
            "the node certificate was not valid when the service certificate was (it expired before the pinned certificate's notBefore)"
        }
        W::NameConstraintViolation => "name constraints",
        _ => "path validation",
    };
    KmsError::CertificateChain { index, check }
}

/// Accepts any extended key usage: CCF node certificates are TLS server certificates too.
struct AnyExtendedKeyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, _: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

/// The chain's signature algorithms: the vocabulary's `ring` set under `ring`, its RustCrypto
/// set otherwise (the same algorithms, so the same verdicts).
#[cfg(feature = "ring")]
static ALGORITHMS: attested_types::signature::Algorithms = attested_types::signature::ring::ALL;
#[cfg(all(not(feature = "ring"), feature = "rustcrypto"))]
static ALGORITHMS: attested_types::signature::Algorithms =
    attested_types::signature::rustcrypto::ALL;

fn check_time(cert: &Certificate, now: UnixTime) -> Result<(), ()> {
    let validity = cert.tbs_certificate().validity();
    if now < UnixTime::from(validity.not_before.to_date_time())
        || now > UnixTime::from(validity.not_after.to_date_time())
    {
        return Err(());
    }
    Ok(())
}

fn digest32(hex_str: &str) -> Option<[u8; 32]> {
    hex::decode(hex_str.trim()).ok()?.try_into().ok()
}

/// An ECDSA public key from a certificate.
#[derive(Debug, Clone)]
enum EcKey {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
}

impl EcKey {
    fn from_certificate(cert: &Certificate) -> Option<Self> {
        let point = cert
            .tbs_certificate()
            .subject_public_key_info()
            .subject_public_key
            .as_bytes()?;
        Self::from_sec1(point)
    }

    /// An uncompressed SEC1 point, its curve told by its length (65: P-256, 97: P-384).
    fn from_sec1(point: &[u8]) -> Option<Self> {
        match point.len() {
            65 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .ok()
                .map(EcKey::P256),
            97 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
                .ok()
                .map(EcKey::P384),
            _ => None,
        }
    }

    /// Verifies a DER ECDSA signature over a digest computed by the caller.
    fn verify_prehash(&self, prehash: &[u8], der_signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier;
        match self {
            EcKey::P256(k) => p256::ecdsa::Signature::from_der(der_signature)
                .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
            EcKey::P384(k) => p384::ecdsa::Signature::from_der(der_signature)
                .is_ok_and(|s| k.verify_prehash(prehash, &s).is_ok()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn der(pem: &str) -> Vec<u8> {
        Certificate::from_pem(pem.as_bytes())
            .unwrap()
            .to_der()
            .unwrap()
    }

    /// Both signature backends give the same verdicts on the chain (the integration tests run
    /// only the one the features select).
    #[test]
    fn both_backends_validate_the_same_chains() {
        let trust =
            KmsTrust::from_pem(include_bytes!("../tests/data/kms/service_cert.pem")).unwrap();
        let node = der(include_str!("../tests/data/kms/node_cert.pem"));
        let foreign = der(include_str!("../tests/data/kms/node_cert_other_issuer.pem"));
        let at = rustls_pki_types::UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
        let sets = [
            #[cfg(feature = "ring")]
            attested_types::signature::ring::ALL,
            attested_types::signature::rustcrypto::ALL,
        ];
        for algorithms in sets {
            verify_chain(algorithms, &trust.anchor, &trust.service_der, &node, at).unwrap();
            assert_eq!(
                verify_chain(algorithms, &trust.anchor, &trust.service_der, &foreign, at),
                Err(webpki::Error::InvalidSignatureForPublicKey)
            );
        }
    }
}
