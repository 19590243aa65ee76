//! A simulated issuer (feature `sim`), **for tests and demos only**: a test root, a JWKS with
//! x5c, ITA-, MAA- and NRAS-shaped tokens and Nitro-shaped COSE documents, all ES384 and all
//! deterministic from a seed. Its output verifies only against its own root ([`SimIssuer::roots`]), never
//! against Intel's or AWS's.

use std::collections::BTreeMap;
use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value;
use der::Encode as _;
use p384::ecdsa::{Signature, SigningKey, signature::Signer as _};
use sha2::{Digest as _, Sha384};
use x509_cert::builder::{Builder as _, CertificateBuilder, profile::BuilderProfile};
use x509_cert::ext::pkix::BasicConstraints;
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use crate::error::{Error, malformed};
use crate::ita::ITA_ISSUER;
use crate::nras::NRAS_ISSUER;
use crate::x509::TrustRoots;

/// The `iss` of the simulator's MAA-shaped tokens (an attestation provider's URL in form).
pub const SIM_MAA_ISSUER: &str = "https://attested-sim.eus2.attest.azure.net";

/// Certificates of the simulator are valid 2020-01-01 .. 2049-12-31.
const NOT_BEFORE: u64 = 1_577_836_800;
const NOT_AFTER: u64 = 2_524_607_999;

struct SimProfile {
    subject: Name,
    issuer: Name,
    ca: bool,
}

impl BuilderProfile for SimProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &x509_cert::TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let constraints = BasicConstraints {
            ca: self.ca,
            path_len_constraint: None,
        };
        Ok(vec![constraints.to_extension(tbs.subject(), &[])?])
    }
}

fn sim_err(e: impl std::fmt::Display) -> Error {
    malformed("simulated issuer", e)
}

fn derive_key(seed: &[u8; 32], label: &str) -> Result<SigningKey, Error> {
    // A hash that lands outside the scalar range is astronomically unlikely; try a few counters.
    for counter in 0u8..8 {
        let bytes = Sha384::new()
            .chain_update(b"attested-token sim ")
            .chain_update(label)
            .chain_update([counter])
            .chain_update(seed)
            .finalize();
        if let Ok(key) = SigningKey::from_slice(&bytes) {
            return Ok(key);
        }
    }
    Err(sim_err("cannot derive a key"))
}

fn certificate(
    subject: &str,
    issuer: &str,
    ca: bool,
    serial: u32,
    key: &SigningKey,
    signer: &SigningKey,
) -> Result<Vec<u8>, Error> {
    let time = |s: u64| {
        Time::try_from(std::time::UNIX_EPOCH + std::time::Duration::from_secs(s)).map_err(sim_err)
    };
    let profile = SimProfile {
        subject: Name::from_str(subject).map_err(sim_err)?,
        issuer: Name::from_str(issuer).map_err(sim_err)?,
        ca,
    };
    let spki = SubjectPublicKeyInfo::from_key(key.verifying_key()).map_err(sim_err)?;
    let validity = Validity::new(time(NOT_BEFORE)?, time(NOT_AFTER)?);
    let builder = CertificateBuilder::new(profile, SerialNumber::from(serial), validity, spki)
        .map_err(sim_err)?;
    let cert = builder
        .build::<_, p384::ecdsa::DerSignature>(signer)
        .map_err(sim_err)?;
    cert.to_der().map_err(sim_err)
}

/// A simulated TD as an ITA token would describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimTd {
    /// MRTD.
    pub mrtd: [u8; 48],
    /// RTMR0..3.
    pub rtmrs: [[u8; 48]; 4],
    /// REPORTDATA.
    pub report_data: [u8; 64],
    /// `attester_tcb_status`.
    pub tcb_status: String,
    /// The verifier nonce (`verifier_nonce.val` before base64).
    pub nonce: Option<Vec<u8>>,
}

impl SimTd {
    /// The measurement claims, hex, as ITA and MAA's TDX profile name them: `tdx_mrtd`,
    /// `tdx_rtmr0` to `tdx_rtmr3`, `tdx_report_data`.
    pub fn tdx_claims(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut claims = serde_json::Map::new();
        claims.insert("tdx_mrtd".into(), hex::encode(self.mrtd).into());
        for (index, rtmr) in self.rtmrs.iter().enumerate() {
            claims.insert(format!("tdx_rtmr{index}"), hex::encode(rtmr).into());
        }
        claims.insert(
            "tdx_report_data".into(),
            hex::encode(self.report_data).into(),
        );
        claims
    }
}

impl Default for SimTd {
    fn default() -> Self {
        SimTd {
            mrtd: [0x11; 48],
            rtmrs: [[0x22; 48], [0x33; 48], [0x44; 48], [0; 48]],
            report_data: [0x55; 64],
            tcb_status: "UpToDate".into(),
            nonce: None,
        }
    }
}

/// A simulated enclave as a Nitro document would describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEnclave {
    /// PCRs (48 bytes each; PCR0..2 all zero is what debug mode looks like).
    pub pcrs: BTreeMap<u8, Vec<u8>>,
    /// `public_key`.
    pub public_key: Option<Vec<u8>>,
    /// `user_data`.
    pub user_data: Option<Vec<u8>>,
    /// `nonce`.
    pub nonce: Option<Vec<u8>>,
}

impl Default for SimEnclave {
    fn default() -> Self {
        let pcrs = (0u8..16)
            .map(|i| (i, if i < 3 { vec![i + 1; 48] } else { vec![0; 48] }))
            .collect();
        SimEnclave {
            pcrs,
            public_key: None,
            user_data: None,
            nonce: None,
        }
    }
}

/// A simulated GPU as an NRAS token would describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGpu {
    /// `measres` (`success` when NRAS matched its measurements to NVIDIA's reference values).
    pub measres: String,
    /// `dbgstat` (`disabled` in production).
    pub dbgstat: String,
}

impl Default for SimGpu {
    fn default() -> Self {
        SimGpu {
            measres: "success".into(),
            dbgstat: "disabled".into(),
        }
    }
}

/// A simulated issuer: **for tests and demos only**.
///
/// ```
/// use attested_token::sim::{SimIssuer, SimTd};
/// use attested_token::ita::{ItaPolicy, ItaVerifier};
/// use attested_token::jwt::Jwks;
/// use attested_token::UnixTime;
///
/// let issuer = SimIssuer::new([7; 32]).unwrap();
/// let iat = 1_750_000_000;
/// let token = issuer.ita_token(&SimTd::default(), iat, 300);
/// let jwks = Jwks::from_json(issuer.jwks_json().as_bytes()).unwrap();
/// let claims = ItaVerifier::new(&jwks, &issuer.roots())
///     .verify(&token, UnixTime(iat + 10))
///     .unwrap();
/// ItaPolicy::new().expect_mrtd([0x11; 48]).appraise(&claims).unwrap();
/// ```
#[derive(Clone)]
pub struct SimIssuer {
    signer: SigningKey,
    root_der: Vec<u8>,
    leaf_der: Vec<u8>,
    kid: String,
}

impl std::fmt::Debug for SimIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimIssuer")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl SimIssuer {
    /// An issuer whose root and signing keys derive from `seed`.
    pub fn new(seed: [u8; 32]) -> Result<Self, Error> {
        let root = derive_key(&seed, "root")?;
        let signer = derive_key(&seed, "signer")?;
        let root_name = "CN=attested-token simulated root (TEST ONLY),O=attested";
        let root_der = certificate(root_name, root_name, true, 1, &root, &root)?;
        let leaf_der = certificate(
            "CN=attested-token simulated signer (TEST ONLY),O=attested",
            root_name,
            false,
            2,
            &signer,
            &root,
        )?;
        let point = signer.verifying_key().to_sec1_point(false);
        let kid = hex::encode(Sha384::digest(point.as_bytes()));
        Ok(SimIssuer {
            signer,
            root_der,
            leaf_der,
            kid,
        })
    }

    /// The simulated root, the only anchor its output verifies against.
    pub fn roots(&self) -> TrustRoots {
        TrustRoots::empty()
            .with_der(&self.root_der)
            .unwrap_or_default()
    }

    /// The root certificate (DER).
    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    /// The root certificate (PEM), as a relying party is told to trust it.
    pub fn root_pem(&self) -> String {
        der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, &self.root_der)
            .unwrap_or_default()
    }

    /// The kid of the signing key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The JWKS: the signing key (ES384) with its x5c chain, leaf then root.
    pub fn jwks_json(&self) -> String {
        let point = self.signer.verifying_key().to_sec1_point(false);
        let coordinate = |c: Option<&[u8]>| URL_SAFE_NO_PAD.encode(c.unwrap_or_default());
        serde_json::json!({
            "keys": [{
                "kty": "EC",
                "crv": "P-384",
                "alg": "ES384",
                "use": "sig",
                "kid": self.kid,
                "x": coordinate(point.x().map(|x| x.as_slice())),
                "y": coordinate(point.y().map(|y| y.as_slice())),
                "x5c": [STANDARD.encode(&self.leaf_der), STANDARD.encode(&self.root_der)],
            }]
        })
        .to_string()
    }

    /// Signs `claims` as an ES384 JWS with this issuer's kid.
    pub fn sign_jwt(&self, claims: &serde_json::Value) -> String {
        self.sign_jwt_with_header(
            &serde_json::json!({"alg": "ES384", "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    /// Signs `claims` with ES384 under any header (for attack tests: the header may lie).
    pub fn sign_jwt_with_header(
        &self,
        header: &serde_json::Value,
        claims: &serde_json::Value,
    ) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature: Signature = self.signer.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    /// The claims of an ITA-shaped v1 token for `td`, issued at `iat`, valid `ttl` seconds.
    pub fn ita_claims(&self, td: &SimTd, iat: u64, ttl: u64) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "tdx_is_debuggable": false,
            "attester_tcb_status": td.tcb_status,
            "attester_type": "TDX",
            "dbgstat": "disabled",
            "ver": "1.0.0",
            "iss": ITA_ISSUER,
            "iat": iat,
            "nbf": iat,
            "exp": iat + ttl,
        });
        if let Some(map) = claims.as_object_mut() {
            map.extend(td.tdx_claims());
        }
        if let (Some(nonce), Some(map)) = (&td.nonce, claims.as_object_mut()) {
            map.insert(
                "verifier_nonce".into(),
                serde_json::json!({"val": STANDARD.encode(nonce), "iat": STANDARD.encode(iat.to_string())}),
            );
        }
        claims
    }

    /// A signed ITA-shaped v1 token.
    pub fn ita_token(&self, td: &SimTd, iat: u64, ttl: u64) -> String {
        self.sign_jwt(&self.ita_claims(td, iat, ttl))
    }

    /// The claims of an MAA-shaped TDX token for `td` (MAA's TDX EAT profile, claims at the top
    /// level, `x-ms-attestation-type` `tdxvm`), from [`SIM_MAA_ISSUER`], issued at `iat`,
    /// valid `ttl` seconds.
    pub fn maa_tdx_claims(&self, td: &SimTd, iat: u64, ttl: u64) -> serde_json::Value {
        let mut claims = serde_json::json!({
            "x-ms-attestation-type": "tdxvm",
            "x-ms-ver": "1.0",
            "attester_tcb_status": td.tcb_status,
            "dbgstat": "disabled",
            "eat_profile": "https://aka.ms/maa-eat-profile-tdxvm",
            "tdx_td_attributes": "0000000000000000",
            "tdx_td_attributes_debug": false,
            "iss": SIM_MAA_ISSUER,
            "iat": iat,
            "nbf": iat,
            "exp": iat + ttl,
        });
        if let Some(map) = claims.as_object_mut() {
            map.extend(td.tdx_claims());
        }
        claims
    }

    /// A signed MAA-shaped TDX token ([`SimIssuer::maa_tdx_claims`]).
    pub fn maa_tdx_token(&self, td: &SimTd, iat: u64, ttl: u64) -> String {
        self.sign_jwt(&self.maa_tdx_claims(td, iat, ttl))
    }

    /// An NRAS-shaped detached EAT bundle (`[["JWT", overall], {"GPU-0": jwt, ...}]`) for
    /// `gpus`, every token carrying `nonce` as its `eat_nonce` and the overall result true,
    /// issued at `iat`, valid `ttl` seconds.
    pub fn nras_bundle(&self, gpus: &[SimGpu], nonce: &[u8], iat: u64, ttl: u64) -> String {
        let times = |mut claims: serde_json::Value| {
            if let Some(map) = claims.as_object_mut() {
                map.insert("iss".into(), NRAS_ISSUER.into());
                map.insert("iat".into(), iat.into());
                map.insert("nbf".into(), iat.into());
                map.insert("exp".into(), (iat + ttl).into());
                map.insert("eat_nonce".into(), hex::encode(nonce).into());
            }
            claims
        };
        let mut tokens = serde_json::Map::new();
        let mut submods = serde_json::Map::new();
        for (index, gpu) in gpus.iter().enumerate() {
            let name = format!("GPU-{index}");
            let token = self.sign_jwt(&times(serde_json::json!({
                "measres": gpu.measres,
                "dbgstat": gpu.dbgstat,
                "hwmodel": "GH100 A01 GSP BROM",
                "ueid": format!("{index:040}"),
                "secboot": true,
                "x-nvidia-gpu-driver-version": "550.90.07",
                "x-nvidia-gpu-vbios-version": "96.00.9F.00.04",
            })));
            let digest = hex::encode(sha2::Sha256::digest(token.as_bytes()));
            submods.insert(
                name.clone(),
                serde_json::json!(["DIGEST", ["SHA-256", digest]]),
            );
            tokens.insert(name, token.into());
        }
        let overall = self.sign_jwt(&times(serde_json::json!({
            "x-nvidia-overall-att-result": true,
            "x-nvidia-ver": "2.0",
            "submods": submods,
        })));
        serde_json::json!([["JWT", overall], tokens]).to_string()
    }

    /// A Nitro-shaped COSE_Sign1 (ES384) document for `enclave`, stamped `timestamp_ms`.
    pub fn nitro_document(&self, enclave: &SimEnclave, timestamp_ms: u64) -> Vec<u8> {
        let optional = |v: &Option<Vec<u8>>| v.clone().map_or(Value::Null, Value::Bytes);
        let text = |s: &str| Value::Text(s.into());
        let payload = Value::Map(vec![
            (text("module_id"), text("i-sim-enc0000000000000")),
            (text("digest"), text("SHA384")),
            (text("timestamp"), Value::Integer(timestamp_ms.into())),
            (
                text("pcrs"),
                Value::Map(
                    enclave
                        .pcrs
                        .iter()
                        .map(|(i, v)| (Value::Integer((*i).into()), Value::Bytes(v.clone())))
                        .collect(),
                ),
            ),
            (text("certificate"), Value::Bytes(self.leaf_der.clone())),
            (
                text("cabundle"),
                Value::Array(vec![Value::Bytes(self.root_der.clone())]),
            ),
            (text("public_key"), optional(&enclave.public_key)),
            (text("user_data"), optional(&enclave.user_data)),
            (text("nonce"), optional(&enclave.nonce)),
        ]);
        self.cose_sign1(&encode(&payload))
    }

    /// Signs `payload` as an untagged COSE_Sign1 with ES384 under the given encoded headers,
    /// taken verbatim: `protected` is the bstr's content, `unprotected` the map's encoding
    /// (tests build hostile headers and encodings with it).
    pub fn cose_sign1_with_headers(
        &self,
        protected: &[u8],
        unprotected: &[u8],
        payload: &[u8],
    ) -> Vec<u8> {
        let to_be_signed = encode(&Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected.to_vec()),
            Value::Bytes(Vec::new()),
            Value::Bytes(payload.to_vec()),
        ]));
        let signature: Signature = self.signer.sign(&to_be_signed);
        let mut out = vec![0x84];
        out.extend(encode(&Value::Bytes(protected.to_vec())));
        out.extend_from_slice(unprotected);
        out.extend(encode(&Value::Bytes(payload.to_vec())));
        out.extend(encode(&Value::Bytes(signature.to_bytes().to_vec())));
        out
    }

    /// Signs `payload` as an untagged COSE_Sign1 with ES384.
    pub fn cose_sign1(&self, payload: &[u8]) -> Vec<u8> {
        let protected = encode(&Value::Map(vec![(
            Value::Integer(1.into()),
            Value::Integer((-35).into()),
        )]));
        let to_be_signed = encode(&Value::Array(vec![
            Value::Text("Signature1".into()),
            Value::Bytes(protected.clone()),
            Value::Bytes(Vec::new()),
            Value::Bytes(payload.to_vec()),
        ]));
        let signature: Signature = self.signer.sign(&to_be_signed);
        encode(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload.to_vec()),
            Value::Bytes(signature.to_bytes().to_vec()),
        ]))
    }
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = ciborium::ser::into_writer(value, &mut out);
    out
}
