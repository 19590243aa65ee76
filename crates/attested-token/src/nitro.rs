//! AWS Nitro Enclaves attestation documents: COSE_Sign1 (ES384) over a CBOR map, signed by a
//! leaf certificate that chains through `cabundle` to the AWS Nitro root; the verifier, the
//! policy, the [`NitroAppraiser`] that composes them into the vocabulary's [`Appraiser`], and
//! the field bounds AWS states.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use attested_types::signature::Algorithms;
use attested_types::{Accepted, Appraiser, BoxError, Evidence, ReportData, UnixTime, Workload};
use ciborium::Value;
use sha2::{Digest as _, Sha256};

use crate::backend::{self, Backend, Scheme};
use crate::error::{AppraiserError, Error, malformed};
use crate::hexbytes::{ct_eq, show};
use crate::limits::{self, Limits};
use crate::time::TimeRules;
use crate::x509::{Crls, MAX_CHAIN_LEN, ParsedCert, TrustRoots, VerifiedChain, verify_chain};

/// COSE algorithm id of ES384.
const COSE_ES384: i128 = -35;
/// CBOR tag of COSE_Sign1 (optional in Nitro documents).
const COSE_SIGN1_TAG: u64 = 18;
/// Nesting deeper than this is refused while decoding (Nitro documents nest three levels).
const MAX_CBOR_DEPTH: usize = 16;
/// Nitro has at most 32 PCRs.
const MAX_PCRS: usize = 32;
/// COSE header label of `alg`.
const COSE_ALG: i128 = 1;
/// COSE header label of `crit`.
const COSE_CRIT: i128 = 2;
/// Parameters a COSE header may carry (Nitro's protected header has one, its unprotected
/// header none): bounds the pairwise duplicate checks.
const MAX_HEADER_PARAMS: usize = 16;

// Field bounds of the attestation document as AWS states them in aws-nitro-enclaves-nsm-api,
// docs/attestation_process.md, section 3.2.2.2 "Check content" (and the CDDL of section 2.2:
// `cert = bytes .size (1..1024)`).
/// Largest DER certificate of `certificate` and of each `cabundle` entry.
pub const NITRO_MAX_CERT_LEN: usize = 1024;
/// Largest `public_key` (it is 1..=1024 bytes when present).
pub const NITRO_MAX_PUBLIC_KEY_LEN: usize = 1024;
/// Largest `user_data`.
pub const NITRO_MAX_USER_DATA_LEN: usize = 512;
/// Largest `nonce`.
pub const NITRO_MAX_NONCE_LEN: usize = 512;
/// The only PCR digest algorithm AWS defines.
pub const NITRO_DIGEST: &str = "SHA384";

/// Default maximum age of a document's timestamp.
pub const NITRO_DEFAULT_MAX_AGE: Duration = Duration::from_secs(5 * 60);

/// A COSE_Sign1 structure taken apart, not yet verified.
#[derive(Debug, Clone)]
pub struct CoseSign1 {
    protected: Vec<u8>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn decode(what: &'static str, bytes: &[u8]) -> Result<Value, Error> {
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_CBOR_DEPTH)
        .map_err(|e| malformed(what, e))?;
    if !rest.is_empty() {
        return Err(malformed(what, format!("{} trailing bytes", rest.len())));
    }
    // ciborium accepts indefinite-length strings, arrays and maps and non-shortest heads; the
    // same value then has many encodings, and a signed byte string may be read differently by
    // another parser. AWS's documents use definite lengths and shortest heads, which is what
    // ciborium writes: the input must be exactly that re-encoding.
    let mut again = Vec::with_capacity(bytes.len());
    if ciborium::ser::into_writer(&value, &mut again).is_err() || again != bytes {
        return Err(malformed(
            what,
            "not in definite-length, shortest-form CBOR (indefinite lengths are refused)",
        ));
    }
    Ok(value)
}

fn label(key: &Value) -> String {
    match key {
        Value::Integer(i) => i128::from(*i).to_string(),
        Value::Text(t) => format!("{t:?}"),
        _ => "a non-integer, non-text label".into(),
    }
}

/// The parameters of a COSE header, each label once, none `crit`.
fn header_params(what: &'static str, params: &[(Value, Value)]) -> Result<(), Error> {
    if params.len() > MAX_HEADER_PARAMS {
        return Err(malformed(
            what,
            format!("{} parameters, over {MAX_HEADER_PARAMS}", params.len()),
        ));
    }
    for (index, (key, value)) in params.iter().enumerate() {
        if !matches!(key, Value::Integer(_) | Value::Text(_)) {
            return Err(malformed(what, "a label is neither integer nor text"));
        }
        if params.iter().take(index).any(|(other, _)| other == key) {
            return Err(malformed(
                what,
                format!("label {} appears twice", label(key)),
            ));
        }
        // RFC 9052 section 3.1: crit lists labels the recipient must understand; this verifier
        // understands none beyond alg, so a document that needs any is refused.
        if key.as_integer().is_some_and(|k| i128::from(k) == COSE_CRIT) {
            let labels = match value {
                Value::Array(labels) => labels.iter().map(label).collect(),
                other => vec![label(other)],
            };
            return Err(Error::CriticalHeader(labels));
        }
    }
    Ok(())
}

fn bytes_of(what: &'static str, value: Value) -> Result<Vec<u8>, Error> {
    match value {
        Value::Bytes(b) => Ok(b),
        _ => Err(malformed(what, "not a byte string")),
    }
}

impl CoseSign1 {
    /// Parses a COSE_Sign1 (tagged or not) and checks that its protected header says ES384.
    pub fn parse(document: &[u8], max_len: usize) -> Result<Self, Error> {
        limits::check("COSE document", document.len(), max_len)?;
        let mut value = decode("COSE_Sign1", document)?;
        if let Value::Tag(tag, inner) = value {
            if tag != COSE_SIGN1_TAG {
                return Err(malformed("COSE_Sign1", format!("tag {tag}")));
            }
            value = *inner;
        }
        let Value::Array(items) = value else {
            return Err(malformed("COSE_Sign1", "not an array"));
        };
        let [protected, unprotected, payload, signature]: [Value; 4] =
            items.try_into().map_err(|items: Vec<Value>| {
                malformed("COSE_Sign1", format!("{} elements, not 4", items.len()))
            })?;
        let Value::Map(unprotected) = unprotected else {
            return Err(malformed("COSE_Sign1", "unprotected header is not a map"));
        };
        let protected = bytes_of("COSE protected header", protected)?;
        let Value::Map(header) = decode("COSE protected header", &protected)? else {
            return Err(malformed("COSE protected header", "not a map"));
        };
        header_params("COSE protected header", &header)?;
        header_params("COSE unprotected header", &unprotected)?;
        // RFC 9052 section 3: a label must not appear in both buckets (which one would count
        // is the parser's choice, and only the protected one is signed).
        if let Some((key, _)) = unprotected
            .iter()
            .find(|(key, _)| header.iter().any(|(protected, _)| protected == key))
        {
            return Err(malformed(
                "COSE unprotected header",
                format!("label {} repeats a protected parameter", label(key)),
            ));
        }
        let alg = header
            .iter()
            .find(|(k, _)| k.as_integer().is_some_and(|k| i128::from(k) == COSE_ALG))
            .and_then(|(_, v)| v.as_integer())
            .map(i128::from);
        if alg != Some(COSE_ES384) {
            return Err(Error::UnsupportedAlgorithm(format!("COSE alg {alg:?}")));
        }
        Ok(CoseSign1 {
            protected,
            payload: bytes_of("COSE payload", payload)?,
            signature: bytes_of("COSE signature", signature)?,
        })
    }

    /// The COSE `Sig_structure` that the signature covers:
    /// `["Signature1", protected, h'', payload]`.
    pub fn to_be_signed(&self) -> Vec<u8> {
        let structure = Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(self.protected.clone()),
            Value::Bytes(Vec::new()),
            Value::Bytes(self.payload.clone()),
        ]);
        let mut out = Vec::with_capacity(self.payload.len() + self.protected.len() + 32);
        // Writing into a Vec cannot fail.
        let _ = ciborium::ser::into_writer(&structure, &mut out);
        out
    }

    /// The payload bytes.
    pub fn payload(&self) -> &[u8] {
        &self.payload
    }
}

/// The fields of a Nitro attestation document.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NitroDocument {
    /// The enclave's module id.
    pub module_id: String,
    /// The PCR digest algorithm (`SHA384`).
    pub digest: String,
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// PCR index to value.
    pub pcrs: BTreeMap<u8, Vec<u8>>,
    /// The signing certificate (DER).
    pub certificate: Vec<u8>,
    /// The CA bundle (DER), root first.
    pub cabundle: Vec<Vec<u8>>,
    /// The enclave's public key, if it gave one.
    pub public_key: Option<Vec<u8>>,
    /// User data, if given.
    pub user_data: Option<Vec<u8>>,
    /// The nonce, if given.
    pub nonce: Option<Vec<u8>>,
}

fn optional_bytes(what: &'static str, value: Value) -> Result<Option<Vec<u8>>, Error> {
    match value {
        Value::Null => Ok(None),
        other => bytes_of(what, other).map(Some),
    }
}

impl NitroDocument {
    /// Parses the payload map of a Nitro document.
    pub fn from_payload(payload: &[u8]) -> Result<Self, Error> {
        let Value::Map(entries) = decode("Nitro document", payload)? else {
            return Err(malformed("Nitro document", "not a map"));
        };
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        for (key, value) in entries {
            let Value::Text(key) = key else {
                return Err(malformed("Nitro document", "non-text key"));
            };
            if fields.insert(key.clone(), value).is_some() {
                return Err(malformed("Nitro document", format!("duplicate key {key}")));
            }
        }
        let mut take = |name: &'static str| fields.remove(name).ok_or(Error::MissingClaim(name));
        let text = |name: &'static str, value: Value| match value {
            Value::Text(t) => Ok(t),
            _ => Err(malformed("Nitro document", format!("{name} is not text"))),
        };
        // The checks of aws-nitro-enclaves-nsm-api docs/attestation_process.md 3.2.2.2.
        let module_id = text("module_id", take("module_id")?)?;
        if module_id.is_empty() {
            return Err(malformed("Nitro document", "module_id is empty"));
        }
        let digest = text("digest", take("digest")?)?;
        if digest != NITRO_DIGEST {
            return Err(Error::Mismatch {
                field: "digest".into(),
                expected: NITRO_DIGEST.into(),
                found: digest,
            });
        }
        let timestamp_ms = take("timestamp")?
            .as_integer()
            .and_then(|i| u64::try_from(i).ok())
            .filter(|&t| t > 0)
            .ok_or_else(|| malformed("Nitro document", "timestamp is not a positive integer"))?;
        let Value::Map(pcr_entries) = take("pcrs")? else {
            return Err(malformed("Nitro document", "pcrs is not a map"));
        };
        if pcr_entries.is_empty() {
            return Err(malformed("Nitro document", "pcrs is empty"));
        }
        if pcr_entries.len() > MAX_PCRS {
            return Err(malformed("Nitro document", "too many PCRs"));
        }
        let mut pcrs = BTreeMap::new();
        for (index, value) in pcr_entries {
            let index = index
                .as_integer()
                .and_then(|i| u8::try_from(i).ok())
                .filter(|i| usize::from(*i) < MAX_PCRS)
                .ok_or_else(|| malformed("Nitro document", "PCR index"))?;
            let value = bytes_of("Nitro PCR", value)?;
            if ![32, 48, 64].contains(&value.len()) {
                return Err(malformed(
                    "Nitro document",
                    format!("PCR{index} is {} bytes", value.len()),
                ));
            }
            if pcrs.insert(index, value).is_some() {
                return Err(malformed("Nitro document", format!("duplicate PCR{index}")));
            }
        }
        let cert_len = |what: &'static str, der: Vec<u8>| {
            if der.is_empty() || der.len() > NITRO_MAX_CERT_LEN {
                return Err(malformed(
                    what,
                    format!("{} bytes, not 1..={NITRO_MAX_CERT_LEN}", der.len()),
                ));
            }
            Ok(der)
        };
        let certificate = cert_len(
            "Nitro certificate",
            bytes_of("Nitro certificate", take("certificate")?)?,
        )?;
        let Value::Array(bundle) = take("cabundle")? else {
            return Err(malformed("Nitro document", "cabundle is not an array"));
        };
        if bundle.is_empty() {
            return Err(malformed("Nitro document", "cabundle is empty"));
        }
        if bundle.len() + 1 > MAX_CHAIN_LEN {
            return Err(Error::ChainTooLong {
                len: bundle.len() + 1,
                max: MAX_CHAIN_LEN,
            });
        }
        let cabundle = bundle
            .into_iter()
            .map(|c| cert_len("Nitro cabundle", bytes_of("Nitro cabundle", c)?))
            .collect::<Result<Vec<_>, _>>()?;
        let mut optional = |name: &'static str, min: usize, max: usize| {
            let value = match fields.remove(name) {
                None => None,
                Some(value) => optional_bytes(name, value)?,
            };
            if let Some(bytes) = &value
                && !(min..=max).contains(&bytes.len())
            {
                return Err(malformed(
                    "Nitro document",
                    format!("{name} is {} bytes, not {min}..={max}", bytes.len()),
                ));
            }
            Ok(value)
        };
        Ok(NitroDocument {
            module_id,
            digest,
            timestamp_ms,
            pcrs,
            certificate,
            cabundle,
            public_key: optional("public_key", 1, NITRO_MAX_PUBLIC_KEY_LEN)?,
            user_data: optional("user_data", 0, NITRO_MAX_USER_DATA_LEN)?,
            nonce: optional("nonce", 0, NITRO_MAX_NONCE_LEN)?,
        })
    }

    /// Whether PCR0, PCR1 and PCR2 are all zero: an enclave started in debug mode.
    pub fn is_debug(&self) -> bool {
        [0u8, 1, 2].iter().all(|i| {
            self.pcrs
                .get(i)
                .is_some_and(|pcr| pcr.iter().all(|&b| b == 0))
        })
    }
}

/// Verifies Nitro attestation documents against pinned roots (normally
/// [`TrustRoots::aws_nitro`]).
///
/// Verified chains are remembered (keyed by their certificates' bytes, at most
/// [`NITRO_CHAIN_CACHE`] of them), so that a warm verification costs one ECDSA check; every
/// certificate's window is still checked at each `now`, so a remembered chain gives the verdict
/// a fresh one would.
///
/// The memo follows the workspace's cache pattern (see the crate docs): the verifier owns it,
/// behind a lock held only to look up or insert (never while verifying), so
/// [`NitroVerifier::verify`] takes `&self` and one verifier serves many threads through an
/// `Arc<NitroVerifier>`. A clone is independent: it starts with a copy of the chains remembered
/// so far and shares nothing after that.
#[derive(Debug)]
pub struct NitroVerifier {
    roots: TrustRoots,
    time: TimeRules,
    limits: Limits,
    algorithms: Algorithms,
    chains: Mutex<HashMap<[u8; 32], VerifiedChain>>,
}

impl Clone for NitroVerifier {
    /// An independent verifier with a copy of the chains remembered so far.
    fn clone(&self) -> Self {
        NitroVerifier {
            roots: self.roots.clone(),
            time: self.time,
            limits: self.limits,
            algorithms: self.algorithms,
            chains: Mutex::new(self.chains.lock().map(|c| c.clone()).unwrap_or_default()),
        }
    }
}

/// How many verified chains a [`NitroVerifier`] remembers.
pub const NITRO_CHAIN_CACHE: usize = 64;

impl NitroVerifier {
    /// A verifier with a 60 s skew and a 5-minute maximum age of the document's timestamp.
    pub fn new(roots: &TrustRoots) -> Self {
        NitroVerifier {
            roots: roots.clone(),
            time: TimeRules {
                max_age: Some(NITRO_DEFAULT_MAX_AGE),
                ..TimeRules::default()
            },
            limits: Limits::default(),
            algorithms: Backend::default().algorithms(),
            chains: Mutex::default(),
        }
    }

    /// Sets the allowed clock skew.
    pub fn skew(mut self, skew: Duration) -> Self {
        self.time.skew = skew;
        self
    }

    /// Sets the maximum age of the document's timestamp (`None`: only the certificates' windows).
    pub fn max_age(mut self, max_age: Option<Duration>) -> Self {
        self.time.max_age = max_age;
        self
    }

    /// Sets the size caps.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Chooses the signature backend (its set of the vocabulary's algorithms).
    pub fn backend(self, backend: Backend) -> Self {
        self.algorithms(backend.algorithms())
    }

    /// Checks every signature, the chain's certificates and the document's COSE ES384, with
    /// the caller's own algorithms (an HSM, a FIPS module). The set must hold ECDSA P-384 with
    /// SHA-384 (what the Nitro PKI and documents are signed with), or every document is
    /// refused ([`Error::AlgorithmNotInSet`]). Chains remembered so far are forgotten: they were
    /// checked by other algorithms.
    pub fn algorithms(mut self, algorithms: Algorithms) -> Self {
        self.algorithms = algorithms;
        self.chains = Mutex::default();
        self
    }

    /// Verifies a document at `now`: COSE signature by the leaf, chain to a pinned root, every
    /// certificate's window, and the timestamp's age.
    pub fn verify(&self, document: &[u8], now: UnixTime) -> Result<NitroDocument, Error> {
        let cose = CoseSign1::parse(document, self.limits.document)?;
        let doc = NitroDocument::from_payload(&cose.payload)?;
        let chain = self.chain(&doc)?;
        let now_s = now.as_secs();
        // A leaf key that is not P-384 does not verify ES384 (BadSignature, not a lookup).
        backend::verify(
            self.algorithms,
            Scheme::ES384,
            &chain.leaf_key,
            &cose.to_be_signed(),
            &cose.signature,
            "the Nitro attestation document",
        )?;
        chain.check_time(now_s)?;
        self.time
            .check_issued(doc.timestamp_ms / 1000, now_s, self.time.max_age)?;
        Ok(doc)
    }

    /// How many verified chains this verifier remembers now.
    #[cfg(test)]
    pub(crate) fn remembered_chains(&self) -> usize {
        self.chains.lock().map(|c| c.len()).unwrap_or(0)
    }

    fn chain(&self, doc: &NitroDocument) -> Result<VerifiedChain, Error> {
        // Leaf first: the certificate, then the bundle from its end (the root is cabundle[0]).
        let ders = || std::iter::once(&doc.certificate).chain(doc.cabundle.iter().rev());
        let mut hasher = Sha256::new();
        for der in ders() {
            hasher.update((der.len() as u64).to_be_bytes());
            hasher.update(der);
        }
        let key: [u8; 32] = hasher.finalize().into();
        if let Some(chain) = self.chains.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(chain);
        }
        let certs = ders()
            .enumerate()
            .map(|(index, der)| ParsedCert::parse(der, index))
            .collect::<Result<Vec<_>, _>>()?;
        // AWS publishes no CRLs for the Nitro PKI: its leaf certificates live for hours.
        let chain = verify_chain(&certs, &self.roots, &Crls::none(), self.algorithms)?;
        if let Ok(mut chains) = self.chains.lock() {
            if chains.len() >= NITRO_CHAIN_CACHE {
                chains.clear();
            }
            chains.insert(key, chain.clone());
        }
        Ok(chain)
    }
}

/// The PCRs that identify an enclave's code: 0 (the enclave image file), 2 (the application)
/// and 8 (the certificate the image was signed with). PCR1 (kernel and bootstrap) is the same
/// for every enclave built with the same tools, and PCR3 and PCR4 (the parent instance's IAM
/// role and instance ID) say where an enclave runs, not what it runs.
pub const NITRO_WORKLOAD_PCRS: [u8; 3] = [0, 2, 8];

/// An expected PCR value, written `INDEX=HEX` (INDEX 0 to 31, the value 32, 48 or 64 bytes of
/// hex, as Nitro measures with SHA-256, SHA-384 or SHA-512): what a client's `--expect-pcr`
/// pins with [`NitroPolicy::expect_pcr_pin`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PcrPin {
    index: u8,
    value: Vec<u8>,
}

/// Why a text is not a [`PcrPin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PcrPinError {
    /// Not `INDEX=HEX`.
    #[error("not INDEX=HEX")]
    NotPin,
    /// The index is not a number from 0 to 31.
    #[error("the PCR index is not 0..31")]
    Index,
    /// The value is not 32, 48 or 64 bytes of hex.
    #[error("the expected PCR value is not 32, 48 or 64 bytes of hex")]
    Value,
}

impl PcrPin {
    /// PCR `index` is `value`.
    pub fn new(index: u8, value: Vec<u8>) -> Result<Self, PcrPinError> {
        if usize::from(index) >= MAX_PCRS {
            return Err(PcrPinError::Index);
        }
        if ![32, 48, 64].contains(&value.len()) {
            return Err(PcrPinError::Value);
        }
        Ok(Self { index, value })
    }

    /// PCR `index` is the value written `hex` (surrounding whitespace ignored): what a
    /// command line's `--expect-pcr0 HEX` gives.
    pub fn from_hex(index: u8, hex: &str) -> Result<Self, PcrPinError> {
        let value = hex::decode(hex.trim()).map_err(|_| PcrPinError::Value)?;
        Self::new(index, value)
    }

    /// Which PCR, 0 to 31.
    pub fn index(&self) -> u8 {
        self.index
    }

    /// The expected value.
    pub fn value(&self) -> &[u8] {
        &self.value
    }
}

impl core::str::FromStr for PcrPin {
    type Err = PcrPinError;

    fn from_str(text: &str) -> Result<Self, PcrPinError> {
        let (index, value) = text.split_once('=').ok_or(PcrPinError::NotPin)?;
        let index = index.trim().parse::<u8>().map_err(|_| PcrPinError::Index)?;
        Self::from_hex(index, value)
    }
}

/// What a verified Nitro document must say. By default debug documents (PCR0..2 all zero) are
/// refused. Pinned values (PCRs, nonce, user data, public key) are compared in constant time.
///
/// [`NitroPolicy::appraise`] compares what is pinned; a [`NitroAppraiser`] also requires that
/// the pins identify the enclave's code ([`NitroPolicy::identifies_workload`]: one of
/// [`NITRO_WORKLOAD_PCRS`]), or the explicit opt-out [`NitroPolicy::any_workload`]. Any AWS
/// customer can run an enclave whose document chains to the AWS root: the root alone says
/// only that *some* enclave made the document.
#[derive(Debug, Clone, Default)]
pub struct NitroPolicy {
    pcrs: BTreeMap<u8, Vec<u8>>,
    nonce: Option<Vec<u8>>,
    user_data: Option<Vec<u8>>,
    public_key: Option<Vec<u8>>,
    allow_debug: bool,
    any_workload: bool,
}

impl NitroPolicy {
    /// The default policy: refuses debug documents, checks nothing else until told. A
    /// [`NitroAppraiser`] refuses every document with it until a PCR of
    /// [`NITRO_WORKLOAD_PCRS`] is pinned.
    pub fn new() -> Self {
        Self::default()
    }

    /// A policy accepting **any enclave**: a [`NitroAppraiser`] with it accepts every genuine
    /// document, whoever's code the enclave runs, and the accepted value says so
    /// ([`Workload::Any`]). Only for demos and for callers that identify the enclave otherwise.
    /// PCRs pinned afterwards are still compared.
    pub fn any_workload() -> Self {
        NitroPolicy {
            any_workload: true,
            ..Self::default()
        }
    }

    /// Whether the pinned PCRs identify the enclave's code: one of [`NITRO_WORKLOAD_PCRS`].
    /// `Err` ([`Error::NoWorkload`]) names what is missing.
    pub fn identifies_workload(&self) -> Result<(), Error> {
        if NITRO_WORKLOAD_PCRS
            .iter()
            .any(|index| self.pcrs.contains_key(index))
        {
            return Ok(());
        }
        Err(Error::NoWorkload(if self.pcrs.is_empty() {
            "no PCR is pinned: pin PCR0 (the enclave image), PCR2 or PCR8"
        } else {
            "the pinned PCRs do not identify the enclave's code (PCR1 is the build tools', PCR3 \
             and PCR4 the parent instance's): pin PCR0, PCR2 or PCR8"
        }))
    }

    /// Whether the policy accepts documents whose enclave it does not identify
    /// ([`NitroPolicy::any_workload`]).
    pub fn accepts_any_workload(&self) -> bool {
        self.any_workload
    }

    /// Requires PCR `index` to equal `value`.
    pub fn expect_pcr(mut self, index: u8, value: &[u8]) -> Self {
        self.pcrs.insert(index, value.to_vec());
        self
    }

    /// Requires what `pin` says ([`NitroPolicy::expect_pcr`] with its index and value).
    pub fn expect_pcr_pin(self, pin: &PcrPin) -> Self {
        self.expect_pcr(pin.index, &pin.value)
    }

    /// Requires this nonce.
    pub fn expect_nonce(mut self, nonce: &[u8]) -> Self {
        self.nonce = Some(nonce.to_vec());
        self
    }

    /// Requires this user data.
    pub fn expect_user_data(mut self, user_data: &[u8]) -> Self {
        self.user_data = Some(user_data.to_vec());
        self
    }

    /// Requires this public key.
    pub fn expect_public_key(mut self, public_key: &[u8]) -> Self {
        self.public_key = Some(public_key.to_vec());
        self
    }

    /// Accepts debug documents (never in production: their PCRs prove nothing).
    pub fn allow_debug(mut self) -> Self {
        self.allow_debug = true;
        self
    }

    /// The PCRs this policy compares with reference values (`pcr0`, `pcr1`...).
    fn pinned_measurements(&self) -> Vec<String> {
        self.pcrs
            .keys()
            .map(|index| format!("pcr{index}"))
            .collect()
    }

    /// What an accepted value records: the pinned PCRs, or [`Workload::Any`] when the policy
    /// opted out; `Err` when it identifies no enclave and did not opt out.
    fn workload(&self) -> Result<Workload, Error> {
        crate::error::accepted_workload(self.identifies_workload(), self.any_workload, || {
            self.pinned_measurements()
        })
    }

    /// Checks `doc` against the policy.
    pub fn appraise(&self, doc: &NitroDocument) -> Result<(), Error> {
        if doc.is_debug() && !self.allow_debug {
            return Err(Error::Debug(
                "PCR0, PCR1 and PCR2 are all zero (enclave in debug mode)",
            ));
        }
        for (index, expected) in &self.pcrs {
            let found = doc.pcrs.get(index).ok_or(Error::MissingClaim("pcr"))?;
            if !ct_eq(found, expected) {
                return Err(Error::Mismatch {
                    field: format!("PCR{index}"),
                    expected: show(expected),
                    found: show(found),
                });
            }
        }
        let fields = [
            ("nonce", &self.nonce, &doc.nonce),
            ("user_data", &self.user_data, &doc.user_data),
            ("public_key", &self.public_key, &doc.public_key),
        ];
        for (name, expected, found) in fields {
            if let Some(expected) = expected {
                let found = found.as_ref().ok_or(Error::MissingClaim(name))?;
                if !ct_eq(found, expected) {
                    return Err(Error::Mismatch {
                        field: name.into(),
                        expected: show(expected),
                        found: show(found),
                    });
                }
            }
        }
        Ok(())
    }
}

/// Appraises AWS Nitro attestation documents (the evidence's `quote` bytes): [`NitroVerifier`]
/// at `now`, then the [`NitroPolicy`]. REPORTDATA is the document's 64-byte `public_key` (the
/// BlindAI binding); measurements are `pcr0`, `pcr1`...
///
/// The appraiser holds its verifier by `Arc`, so that the per-request appraisers of
/// [`NitroAppraiser::expecting_nonce`] (and clones) share one verifier and its chain memo: the
/// sharing is the caller's choice, visible in [`NitroAppraiser::new`]'s argument, never a
/// side effect of cloning a [`NitroVerifier`].
#[derive(Debug, Clone)]
pub struct NitroAppraiser {
    verifier: Arc<NitroVerifier>,
    policy: NitroPolicy,
}

impl NitroAppraiser {
    /// Verifies with `verifier`, then appraises with `policy`. Pass an `Arc<NitroVerifier>` to
    /// share one verifier (and its chain memo) with other appraisers.
    pub fn new(verifier: impl Into<Arc<NitroVerifier>>, policy: NitroPolicy) -> Self {
        Self {
            verifier: verifier.into(),
            policy,
        }
    }

    /// The same appraiser, also requiring `nonce` in the document (the client's, per request).
    /// It shares this appraiser's verifier and chain memo (the same `Arc`).
    pub fn expecting_nonce(&self, nonce: &[u8]) -> Self {
        Self {
            verifier: Arc::clone(&self.verifier),
            policy: self.policy.clone().expect_nonce(nonce),
        }
    }

    /// Verifies and appraises `document` at `now`; returns the accepted value and the document.
    /// A policy that identifies no enclave refuses every document, before it is verified.
    pub fn appraise_document(
        &self,
        document: &[u8],
        now: UnixTime,
    ) -> Result<(Accepted, NitroDocument), AppraiserError> {
        let workload = self.policy.workload().map_err(AppraiserError::Policy)?;
        let document = self
            .verifier
            .verify(document, now)
            .map_err(AppraiserError::Verify)?;
        self.policy
            .appraise(&document)
            .map_err(AppraiserError::Policy)?;
        let report_data = document
            .public_key
            .as_deref()
            .and_then(|key| ReportData::try_from(key).ok())
            .ok_or(AppraiserError::NoBinding(
                "the verified Nitro document binds no key list (public_key is not 64 bytes)",
            ))?;
        let measurements = document
            .pcrs
            .iter()
            .map(|(index, value)| (format!("pcr{index}"), value.clone()))
            .collect();
        let accepted = Accepted::assertion(report_data, measurements, workload);
        Ok((accepted, document))
    }
}

impl Appraiser for NitroAppraiser {
    fn appraise(&self, evidence: &Evidence<'_>, now: UnixTime) -> Result<Accepted, BoxError> {
        let document = evidence
            .quote
            .ok_or(AppraiserError::Missing("AWS Nitro attestation document"))?;
        Ok(self.appraise_document(document, now)?.0)
    }
}

#[cfg(all(test, feature = "sim"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::sim::{SimEnclave, SimIssuer};

    const TS_MS: u64 = 1_750_000_000_000;

    fn now() -> UnixTime {
        UnixTime(TS_MS / 1000 + 1)
    }

    #[test]
    fn pcr_pins_parse_index_and_value_and_refuse_the_rest() {
        let pin: PcrPin = format!(" 2 = {}", "ab".repeat(48)).parse().unwrap();
        assert_eq!((pin.index(), pin.value()), (2, &[0xab; 48][..]));
        for (text, error) in [
            ("2", PcrPinError::NotPin),
            ("32=00", PcrPinError::Index),
            ("x=00", PcrPinError::Index),
            ("1=zz", PcrPinError::Value),
            ("1=0011", PcrPinError::Value),
        ] {
            assert_eq!(text.parse::<PcrPin>(), Err(error), "{text}");
        }
        let sixty_four: PcrPin = format!("31={}", "00".repeat(64)).parse().unwrap();
        assert_eq!(sixty_four.index(), 31);
    }

    #[test]
    fn a_clone_copies_the_chain_memo_and_shares_nothing_after() {
        let sim = SimIssuer::new([4; 32]).unwrap();
        let doc = sim.nitro_document(&SimEnclave::default(), TS_MS);
        let original = NitroVerifier::new(&sim.roots());

        // Verifying through a clone leaves the original's memo as it was.
        let early = original.clone();
        early.verify(&doc, now()).unwrap();
        assert_eq!(early.remembered_chains(), 1);
        assert_eq!(original.remembered_chains(), 0);

        // A clone made later starts with a copy of what was remembered.
        original.verify(&doc, now()).unwrap();
        let late = original.clone();
        assert_eq!(late.remembered_chains(), 1);

        // A verifier with another backend starts empty.
        assert_eq!(
            original
                .clone()
                .backend(Backend::default())
                .remembered_chains(),
            0
        );
    }

    #[test]
    fn per_request_appraisers_share_one_verifier_and_its_chain_memo() {
        let sim = SimIssuer::new([5; 32]).unwrap();
        let enclave = SimEnclave {
            public_key: Some(vec![3; 64]),
            nonce: Some(vec![9; 16]),
            ..SimEnclave::default()
        };
        let doc = sim.nitro_document(&enclave, TS_MS);
        let verifier = Arc::new(NitroVerifier::new(&sim.roots()));
        let appraiser = NitroAppraiser::new(Arc::clone(&verifier), NitroPolicy::any_workload());
        let per_request = appraiser.expecting_nonce(&[9; 16]);
        assert!(Arc::ptr_eq(&per_request.verifier, &verifier));
        let (_, document) = per_request
            .appraise_document(&doc, UnixTime(1_750_000_001))
            .unwrap();
        assert_eq!(document.nonce, Some(vec![9; 16]));
        assert_eq!(verifier.remembered_chains(), 1);
    }
}
