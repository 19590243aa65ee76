//! Collateral: CRLs, TCB Info, QE Identity and their issuer chains, as Intel PCS/PCCS serves
//! them or as dcap-qvl's `QuoteCollateralV3` JSON carries them.
//!
//! The single-file JSON forms are described on [`CollateralFormat`].
//!
//! Signatures are over the exact bytes of the `tcbInfo` / `enclaveIdentity` JSON values, so
//! those values are kept verbatim (never re-serialised).

use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

use crate::crypto::sha256;
use crate::errors::{Item, VerifyError};

/// Largest collateral part accepted (Intel's largest, the PCK CRL, is tens of kilobytes).
pub(crate) const MAX_PART_LEN: usize = 1 << 20;

/// Verification collateral for one platform (FMSPC): immutable once built, identified by the
/// SHA-256 of its contents (the key of the verifier's cache).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Collateral {
    pub(crate) root_ca_crl: Vec<u8>,
    pub(crate) pck_crl: Vec<u8>,
    pub(crate) pck_crl_issuer_chain: Vec<u8>,
    pub(crate) tcb_info: Vec<u8>,
    pub(crate) tcb_info_signature: [u8; 64],
    pub(crate) tcb_info_issuer_chain: Vec<u8>,
    pub(crate) qe_identity: Vec<u8>,
    pub(crate) qe_identity_signature: [u8; 64],
    pub(crate) qe_identity_issuer_chain: Vec<u8>,
    pub(crate) digest: [u8; 32],
}

/// The parts of Intel PCS/PCCS responses (v4 API) that make up [`Collateral`].
///
/// Bodies are passed as received. Issuer chains are the PEM text of the
/// `TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain` and `SGX-PCK-CRL-Issuer-Chain`
/// headers (URL-decoded or not). CRLs may be DER, PEM or hex.
#[derive(Clone, Copy, Debug)]
pub struct PcsCollateral<'a> {
    /// Body of `GET /tdx/certification/v4/tcb?fmspc=...`: `{"tcbInfo":{...},"signature":"..."}`.
    pub tcb_info_response: &'a [u8],
    /// Its `TCB-Info-Issuer-Chain` header.
    pub tcb_info_issuer_chain: &'a [u8],
    /// Body of `GET /tdx/certification/v4/qe/identity`: `{"enclaveIdentity":{...},"signature":"..."}`.
    pub qe_identity_response: &'a [u8],
    /// Its `SGX-Enclave-Identity-Issuer-Chain` header.
    pub qe_identity_issuer_chain: &'a [u8],
    /// Body of `GET /sgx/certification/v4/pckcrl?ca=platform|processor`.
    pub pck_crl: &'a [u8],
    /// Its `SGX-PCK-CRL-Issuer-Chain` header.
    pub pck_crl_issuer_chain: &'a [u8],
    /// The Intel SGX Root CA CRL.
    pub root_ca_crl: &'a [u8],
}

impl PcsCollateral<'_> {
    /// These responses as one PCS collateral bundle file (the form is in the
    /// [`CollateralFormat`] documentation): bodies and issuer chains as JSON strings, DER CRLs as
    /// hex (PEM or hex CRLs as they are).
    pub fn to_bundle_json(&self) -> String {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        let crl = |bytes: &[u8]| {
            if bytes.first() == Some(&0x30) {
                hex::encode(bytes)
            } else {
                text(bytes)
            }
        };
        serde_json::json!({
            "tcb_info_response": text(self.tcb_info_response),
            "tcb_info_issuer_chain": text(self.tcb_info_issuer_chain),
            "qe_identity_response": text(self.qe_identity_response),
            "qe_identity_issuer_chain": text(self.qe_identity_issuer_chain),
            "pck_crl": crl(self.pck_crl),
            "pck_crl_issuer_chain": text(self.pck_crl_issuer_chain),
            "root_ca_crl": crl(self.root_ca_crl),
        })
        .to_string()
    }
}

#[derive(Deserialize)]
struct QvlJson<'a> {
    pck_crl_issuer_chain: String,
    root_ca_crl: String,
    pck_crl: String,
    tcb_info_issuer_chain: String,
    #[serde(borrow)]
    tcb_info: std::borrow::Cow<'a, str>,
    tcb_info_signature: String,
    qe_identity_issuer_chain: String,
    #[serde(borrow)]
    qe_identity: std::borrow::Cow<'a, str>,
    qe_identity_signature: String,
}

/// The two single-file JSON forms of collateral ([`Collateral::from_json`] tells them apart by
/// their keys): dcap-qvl's `QuoteCollateralV3` (has `tcb_info_signature`) and the PCS collateral
/// bundle (has `tcb_info_response`), one JSON object holding what PCS/PCCS returns, with the
/// fields of [`PcsCollateral`]:
///
/// ```json
/// {
///   "tcb_info_response": "{\"tcbInfo\":{...},\"signature\":\"...\"}",
///   "tcb_info_issuer_chain": "-----BEGIN CERTIFICATE-----...",
///   "qe_identity_response": "{\"enclaveIdentity\":{...},\"signature\":\"...\"}",
///   "qe_identity_issuer_chain": "-----BEGIN CERTIFICATE-----...",
///   "pck_crl": "<hex of the DER CRL, or PEM>",
///   "pck_crl_issuer_chain": "-----BEGIN CERTIFICATE-----...",
///   "root_ca_crl": "<hex of the DER CRL, or PEM>"
/// }
/// ```
///
/// The two responses are the PCS bodies (`GET /tdx/certification/v4/tcb?fmspc=...` and
/// `GET /tdx/certification/v4/qe/identity`), as JSON strings holding the exact body text, or
/// embedded as JSON objects, in which case the signed `tcbInfo` / `enclaveIdentity` bytes must
/// stay exactly as PCS sent them (no re-indenting). Issuer chains are the PEM of the
/// `TCB-Info-Issuer-Chain`, `SGX-Enclave-Identity-Issuer-Chain` and `SGX-PCK-CRL-Issuer-Chain`
/// headers, URL-encoded or not. [`Collateral::to_pcs_bundle_json`] writes this form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollateralFormat {
    /// dcap-qvl's `QuoteCollateralV3` ([`Collateral::from_qvl_json`]).
    DcapQvl,
    /// The PCS collateral bundle ([`Collateral::from_pcs_bundle_json`]).
    PcsBundle,
}

impl CollateralFormat {
    /// Tells the form of a collateral JSON file from its keys: `tcb_info_response` makes a PCS
    /// bundle, `tcb_info_signature` dcap-qvl's JSON.
    pub fn detect(json: &[u8]) -> Result<CollateralFormat, VerifyError> {
        #[derive(Deserialize)]
        struct Probe {
            tcb_info_response: Option<IgnoredAny>,
            tcb_info_signature: Option<IgnoredAny>,
        }
        let item = Item::Collateral;
        check_len(json, item)?;
        let probe: Probe =
            serde_json::from_slice(json).map_err(|e| VerifyError::malformed(item, e))?;
        match (probe.tcb_info_response, probe.tcb_info_signature) {
            (Some(_), None) => Ok(CollateralFormat::PcsBundle),
            (None, Some(_)) => Ok(CollateralFormat::DcapQvl),
            (Some(_), Some(_)) => Err(VerifyError::malformed(
                item,
                "has both tcb_info_response (PCS bundle) and tcb_info_signature (dcap-qvl)",
            )),
            (None, None) => Err(VerifyError::malformed(
                item,
                "neither a PCS collateral bundle (tcb_info_response) nor dcap-qvl's \
                 QuoteCollateralV3 (tcb_info_signature)",
            )),
        }
    }

    /// A short name: `pcs-bundle` or `dcap-qvl`.
    pub fn name(self) -> &'static str {
        match self {
            CollateralFormat::DcapQvl => "dcap-qvl",
            CollateralFormat::PcsBundle => "pcs-bundle",
        }
    }
}

/// The PCS collateral bundle (see the module documentation).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PcsBundleJson<'a> {
    #[serde(borrow)]
    tcb_info_response: &'a RawValue,
    tcb_info_issuer_chain: String,
    #[serde(borrow)]
    qe_identity_response: &'a RawValue,
    qe_identity_issuer_chain: String,
    pck_crl: String,
    pck_crl_issuer_chain: String,
    root_ca_crl: String,
}

/// A PCS response body in a bundle: a JSON string holding the body, or the body itself.
fn bundled_body(raw: &RawValue, item: Item) -> Result<std::borrow::Cow<'_, str>, VerifyError> {
    let text = raw.get();
    if text.starts_with('"') {
        let body: String =
            serde_json::from_str(text).map_err(|e| VerifyError::malformed(item, e))?;
        Ok(std::borrow::Cow::Owned(body))
    } else {
        Ok(std::borrow::Cow::Borrowed(text))
    }
}

#[derive(Deserialize)]
struct PcsTcbInfo<'a> {
    #[serde(rename = "tcbInfo", borrow)]
    body: &'a RawValue,
    signature: String,
}

#[derive(Deserialize)]
struct PcsQeIdentity<'a> {
    #[serde(rename = "enclaveIdentity", borrow)]
    body: &'a RawValue,
    signature: String,
}

impl Collateral {
    /// Parses dcap-qvl's `QuoteCollateralV3` JSON (CRLs as hex, `tcb_info` / `qe_identity` as
    /// JSON text with hex signatures, PEM issuer chains).
    pub fn from_qvl_json(json: &[u8]) -> Result<Collateral, VerifyError> {
        let item = Item::Collateral;
        check_len(json, item)?;
        let raw: QvlJson<'_> =
            serde_json::from_slice(json).map_err(|e| VerifyError::malformed(item, e))?;
        Collateral::from_parts(Parts {
            root_ca_crl: crl_bytes(raw.root_ca_crl.as_bytes(), Item::RootCaCrl)?,
            pck_crl: crl_bytes(raw.pck_crl.as_bytes(), Item::PckCrl)?,
            pck_crl_issuer_chain: raw.pck_crl_issuer_chain.into_bytes(),
            tcb_info: raw.tcb_info.as_bytes().to_vec(),
            tcb_info_signature: signature(&raw.tcb_info_signature, Item::TcbInfo)?,
            tcb_info_issuer_chain: raw.tcb_info_issuer_chain.into_bytes(),
            qe_identity: raw.qe_identity.as_bytes().to_vec(),
            qe_identity_signature: signature(&raw.qe_identity_signature, Item::QeIdentity)?,
            qe_identity_issuer_chain: raw.qe_identity_issuer_chain.into_bytes(),
        })
    }

    /// Parses a single-file collateral JSON of either form, told apart by
    /// [`CollateralFormat::detect`].
    pub fn from_json(json: &[u8]) -> Result<Collateral, VerifyError> {
        match CollateralFormat::detect(json)? {
            CollateralFormat::DcapQvl => Collateral::from_qvl_json(json),
            CollateralFormat::PcsBundle => Collateral::from_pcs_bundle_json(json),
        }
    }

    /// Parses a PCS collateral bundle: Intel PCS/PCCS response bodies, issuer-chain headers and
    /// CRLs in one JSON object (the form is in the [`CollateralFormat`] documentation).
    pub fn from_pcs_bundle_json(json: &[u8]) -> Result<Collateral, VerifyError> {
        let item = Item::Collateral;
        check_len(json, item)?;
        let raw: PcsBundleJson<'_> =
            serde_json::from_slice(json).map_err(|e| VerifyError::malformed(item, e))?;
        let tcb_info = bundled_body(raw.tcb_info_response, Item::TcbInfo)?;
        let qe_identity = bundled_body(raw.qe_identity_response, Item::QeIdentity)?;
        Collateral::from_pcs(PcsCollateral {
            tcb_info_response: tcb_info.as_bytes(),
            tcb_info_issuer_chain: raw.tcb_info_issuer_chain.as_bytes(),
            qe_identity_response: qe_identity.as_bytes(),
            qe_identity_issuer_chain: raw.qe_identity_issuer_chain.as_bytes(),
            pck_crl: raw.pck_crl.as_bytes(),
            pck_crl_issuer_chain: raw.pck_crl_issuer_chain.as_bytes(),
            root_ca_crl: raw.root_ca_crl.as_bytes(),
        })
    }

    /// Builds collateral from Intel PCS/PCCS responses.
    pub fn from_pcs(pcs: PcsCollateral<'_>) -> Result<Collateral, VerifyError> {
        for (part, item) in [
            (pcs.tcb_info_response, Item::TcbInfo),
            (pcs.tcb_info_issuer_chain, Item::TcbInfoSigner),
            (pcs.qe_identity_response, Item::QeIdentity),
            (pcs.qe_identity_issuer_chain, Item::QeIdentitySigner),
            (pcs.pck_crl_issuer_chain, Item::PckCrlIssuer),
        ] {
            check_len(part, item)?;
        }
        let tcb: PcsTcbInfo<'_> = serde_json::from_slice(pcs.tcb_info_response)
            .map_err(|e| VerifyError::malformed(Item::TcbInfo, e))?;
        let qe: PcsQeIdentity<'_> = serde_json::from_slice(pcs.qe_identity_response)
            .map_err(|e| VerifyError::malformed(Item::QeIdentity, e))?;
        Collateral::from_parts(Parts {
            root_ca_crl: crl_bytes(pcs.root_ca_crl, Item::RootCaCrl)?,
            pck_crl: crl_bytes(pcs.pck_crl, Item::PckCrl)?,
            pck_crl_issuer_chain: url_decoded(pcs.pck_crl_issuer_chain),
            tcb_info: tcb.body.get().as_bytes().to_vec(),
            tcb_info_signature: signature(&tcb.signature, Item::TcbInfo)?,
            tcb_info_issuer_chain: url_decoded(pcs.tcb_info_issuer_chain),
            qe_identity: qe.body.get().as_bytes().to_vec(),
            qe_identity_signature: signature(&qe.signature, Item::QeIdentity)?,
            qe_identity_issuer_chain: url_decoded(pcs.qe_identity_issuer_chain),
        })
    }

    /// The same collateral as dcap-qvl's `QuoteCollateralV3` JSON.
    pub fn to_qvl_json(&self) -> String {
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        serde_json::json!({
            "pck_crl_issuer_chain": text(&self.pck_crl_issuer_chain),
            "root_ca_crl": hex::encode(&self.root_ca_crl),
            "pck_crl": hex::encode(&self.pck_crl),
            "tcb_info_issuer_chain": text(&self.tcb_info_issuer_chain),
            "tcb_info": text(&self.tcb_info),
            "tcb_info_signature": hex::encode(self.tcb_info_signature),
            "qe_identity_issuer_chain": text(&self.qe_identity_issuer_chain),
            "qe_identity": text(&self.qe_identity),
            "qe_identity_signature": hex::encode(self.qe_identity_signature),
        })
        .to_string()
    }

    /// The same collateral as a PCS collateral bundle (module documentation): the response
    /// bodies rebuilt around the signed bytes.
    pub fn to_pcs_bundle_json(&self) -> String {
        let body = |field: &str, object: &[u8], signature: &[u8; 64]| {
            let mut out = format!(r#"{{"{field}":"#).into_bytes();
            out.extend_from_slice(object);
            out.extend_from_slice(
                format!(r#","signature":"{}"}}"#, hex::encode(signature)).as_bytes(),
            );
            out
        };
        let tcb_info = body("tcbInfo", &self.tcb_info, &self.tcb_info_signature);
        let qe_identity = body(
            "enclaveIdentity",
            &self.qe_identity,
            &self.qe_identity_signature,
        );
        PcsCollateral {
            tcb_info_response: &tcb_info,
            tcb_info_issuer_chain: &self.tcb_info_issuer_chain,
            qe_identity_response: &qe_identity,
            qe_identity_issuer_chain: &self.qe_identity_issuer_chain,
            pck_crl: &self.pck_crl,
            pck_crl_issuer_chain: &self.pck_crl_issuer_chain,
            root_ca_crl: &self.root_ca_crl,
        }
        .to_bundle_json()
    }

    /// The earliest nextUpdate of the TCB Info, QE Identity and both CRLs: when a cache should
    /// fetch fresh collateral. Read without verifying anything (only for scheduling).
    pub fn next_update(&self) -> Result<crate::time::UnixTime, VerifyError> {
        let tcb = crate::tcb::TcbInfo::parse(&self.tcb_info)?;
        let qe = crate::tcb::QeIdentity::parse(&self.qe_identity)?;
        let root = crate::x509::Crl::from_der(&self.root_ca_crl, Item::RootCaCrl)?;
        let pck = crate::x509::Crl::from_der(&self.pck_crl, Item::PckCrl)?;
        Ok(tcb
            .next_update
            .min(qe.next_update)
            .min(root.next_update)
            .min(pck.next_update))
    }

    /// SHA-256 over every part: what the verifier's cache is keyed by.
    pub fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    /// The signed `tcbInfo` JSON text.
    pub fn tcb_info_json(&self) -> &[u8] {
        &self.tcb_info
    }

    /// The signed `enclaveIdentity` JSON text.
    pub fn qe_identity_json(&self) -> &[u8] {
        &self.qe_identity
    }

    fn from_parts(parts: Parts) -> Result<Collateral, VerifyError> {
        let Parts {
            root_ca_crl,
            pck_crl,
            pck_crl_issuer_chain,
            tcb_info,
            tcb_info_signature,
            tcb_info_issuer_chain,
            qe_identity,
            qe_identity_signature,
            qe_identity_issuer_chain,
        } = parts;
        let mut framed: Vec<&[u8]> = Vec::new();
        let lengths: Vec<[u8; 8]> = [
            &root_ca_crl,
            &pck_crl,
            &pck_crl_issuer_chain,
            &tcb_info,
            &tcb_info_issuer_chain,
            &qe_identity,
            &qe_identity_issuer_chain,
        ]
        .iter()
        .map(|part| u64::try_from(part.len()).unwrap_or(u64::MAX).to_le_bytes())
        .collect();
        let parts: [&[u8]; 9] = [
            &root_ca_crl,
            &pck_crl,
            &pck_crl_issuer_chain,
            &tcb_info,
            &tcb_info_issuer_chain,
            &qe_identity,
            &qe_identity_issuer_chain,
            &tcb_info_signature,
            &qe_identity_signature,
        ];
        // Length-prefix the variable parts so that no two collaterals share a digest by
        // moving bytes from one part to the next.
        for (index, part) in parts.iter().enumerate() {
            if let Some(len) = lengths.get(index) {
                framed.push(len);
            }
            framed.push(part);
        }
        let digest = sha256(&framed);
        Ok(Collateral {
            root_ca_crl,
            pck_crl,
            pck_crl_issuer_chain,
            tcb_info,
            tcb_info_signature,
            tcb_info_issuer_chain,
            qe_identity,
            qe_identity_signature,
            qe_identity_issuer_chain,
            digest,
        })
    }
}

struct Parts {
    root_ca_crl: Vec<u8>,
    pck_crl: Vec<u8>,
    pck_crl_issuer_chain: Vec<u8>,
    tcb_info: Vec<u8>,
    tcb_info_signature: [u8; 64],
    tcb_info_issuer_chain: Vec<u8>,
    qe_identity: Vec<u8>,
    qe_identity_signature: [u8; 64],
    qe_identity_issuer_chain: Vec<u8>,
}

fn check_len(part: &[u8], item: Item) -> Result<(), VerifyError> {
    if part.len() > MAX_PART_LEN {
        return Err(VerifyError::malformed(
            item,
            format!("larger than {MAX_PART_LEN} bytes"),
        ));
    }
    Ok(())
}

fn signature(text: &str, item: Item) -> Result<[u8; 64], VerifyError> {
    let mut out = [0u8; 64];
    hex::decode_to_slice(text.trim(), &mut out).map_err(|e| {
        VerifyError::malformed(item, format!("signature is not 64 bytes of hex: {e}"))
    })?;
    Ok(out)
}

/// A CRL as DER, whatever it arrived as: DER, PEM (`X509 CRL`) or hex text.
fn crl_bytes(bytes: &[u8], item: Item) -> Result<Vec<u8>, VerifyError> {
    check_len(bytes, item)?;
    if bytes.first() == Some(&0x30) {
        return Ok(bytes.to_vec());
    }
    let text = core::str::from_utf8(bytes)
        .map_err(|_| VerifyError::malformed(item, "neither DER, PEM nor hex"))?;
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        let (label, der) =
            der::pem::decode_vec(text.as_bytes()).map_err(|e| VerifyError::malformed(item, e))?;
        if label != "X509 CRL" {
            return Err(VerifyError::malformed(
                item,
                format!("PEM label {label:?} is not X509 CRL"),
            ));
        }
        return Ok(der);
    }
    hex::decode(text)
        .map_err(|e| VerifyError::malformed(item, format!("neither DER, PEM nor hex: {e}")))
}

/// Percent-decodes an issuer-chain header value when it is URL-encoded (PCS sends it so).
fn url_decoded(bytes: &[u8]) -> Vec<u8> {
    if !bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"%2D")) {
        return bytes.to_vec();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = bytes
            .get(i + 1..i + 3)
            .filter(|_| b == b'%')
            .and_then(|h| core::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match escaped {
            Some(decoded) => {
                out.push(decoded);
                i += 3;
            }
            None => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_decoding_only_applies_to_encoded_chains() {
        assert_eq!(url_decoded(b"-----BEGIN%20X"), b"-----BEGIN%20X");
        assert_eq!(url_decoded(b"%2D%2D%0Aab%zz"), b"--\nab%zz");
    }

    #[test]
    fn crls_arrive_in_three_encodings() {
        let der = vec![0x30, 0x03, 0x02, 0x01, 0x00];
        assert_eq!(crl_bytes(&der, Item::PckCrl).unwrap(), der);
        assert_eq!(crl_bytes(b"3003020100\n", Item::PckCrl).unwrap(), der);
        assert!(crl_bytes(b"not a crl", Item::PckCrl).is_err());
    }

    #[test]
    fn digest_separates_parts() {
        let base = || Parts {
            root_ca_crl: vec![1, 2],
            pck_crl: vec![3],
            pck_crl_issuer_chain: vec![],
            tcb_info: vec![],
            tcb_info_signature: [0; 64],
            tcb_info_issuer_chain: vec![],
            qe_identity: vec![],
            qe_identity_signature: [0; 64],
            qe_identity_issuer_chain: vec![],
        };
        let a = Collateral::from_parts(base()).unwrap();
        let mut moved = base();
        moved.root_ca_crl = vec![1];
        moved.pck_crl = vec![2, 3];
        let b = Collateral::from_parts(moved).unwrap();
        assert_ne!(a.digest(), b.digest());
        assert_eq!(a.digest(), Collateral::from_parts(base()).unwrap().digest());
    }
}
