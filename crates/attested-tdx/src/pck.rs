//! The Intel SGX extension of PCK certificates (OID 1.2.840.113741.1.13.1).
//!
//! ```text
//! SGXExtensions ::= SEQUENCE OF SEQUENCE { id OBJECT IDENTIFIER, value ANY }
//!   .1 PPID OCTET STRING (16)        .2 TCB SEQUENCE OF { .2.1..16 INTEGER, .2.17 PCESVN INTEGER, .2.18 CPUSVN OCTET STRING (16) }
//!   .3 PCE-ID OCTET STRING (2)       .4 FMSPC OCTET STRING (6)        .5 SGX Type ENUMERATED
//!   .6 Platform Instance ID (opt.)   .7 Configuration SEQUENCE (opt.)
//! ```

use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use der::{Decode as _, Sequence};

use crate::errors::{Item, VerifyError};
use crate::x509::Cert;

const SGX_EXTENSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");
const PPID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.1");
const TCB: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2");
const PCE_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.3");
const FMSPC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.4");
const SGX_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.5");

/// What a PCK certificate says about its platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PckExtension {
    /// Platform Provisioning ID (16 bytes).
    pub ppid: Vec<u8>,
    /// The 16 SGX TCB component SVNs.
    pub sgx_tcb_components: [u8; 16],
    /// PCE security version number.
    pub pce_svn: u16,
    /// Raw CPUSVN (16 bytes).
    pub cpu_svn: [u8; 16],
    /// PCE identifier (2 bytes).
    pub pce_id: [u8; 2],
    /// Family-Model-Stepping-Platform-CustomSKU (6 bytes).
    pub fmspc: [u8; 6],
    /// SGX type (0 standard, 1 scalable, 2 scalable with integrity).
    pub sgx_type: u32,
}

#[derive(Sequence)]
struct Entry<'a> {
    id: ObjectIdentifier,
    value: AnyRef<'a>,
}

impl PckExtension {
    /// Reads the SGX extension of a PCK leaf certificate.
    pub(crate) fn from_cert(cert: &Cert) -> Result<PckExtension, VerifyError> {
        let bad = |reason: &str| {
            VerifyError::malformed(Item::PckLeaf, format!("SGX extension: {reason}"))
        };
        let extension = cert
            .cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .find(|e| e.extn_id == SGX_EXTENSION)
            .ok_or_else(|| bad("missing"))?;
        let entries: Vec<Entry<'_>> = Vec::from_der(extension.extn_value.as_bytes())
            .map_err(|e: der::Error| bad(&e.to_string()))?;
        let find = |oid: ObjectIdentifier, name: &str| {
            let mut matching = entries.iter().filter(|e| e.id == oid);
            match (matching.next(), matching.next()) {
                (Some(entry), None) => Ok(entry.value),
                (None, _) => Err(bad(&format!("{name} missing"))),
                (Some(_), Some(_)) => Err(bad(&format!("{name} repeated"))),
            }
        };
        let octets = |oid, name: &str| -> Result<Vec<u8>, VerifyError> {
            find(oid, name)?
                .decode_as::<&OctetStringRef>()
                .map(|o| o.as_bytes().to_vec())
                .map_err(|e| bad(&format!("{name}: {e}")))
        };

        let ppid = octets(PPID, "PPID")?;
        let pce_id: [u8; 2] = octets(PCE_ID, "PCE-ID")?
            .try_into()
            .map_err(|_| bad("PCE-ID has the wrong length"))?;
        let fmspc: [u8; 6] = octets(FMSPC, "FMSPC")?
            .try_into()
            .map_err(|_| bad("FMSPC has the wrong length"))?;
        let sgx_type = find(SGX_TYPE, "SGX Type")?;
        if sgx_type.header().tag() != der::Tag::Enumerated {
            return Err(bad("SGX Type is not ENUMERATED"));
        }
        let sgx_type = AnyRef::new(der::Tag::Integer, sgx_type.value())
            .and_then(|v| v.decode_as::<u32>())
            .map_err(|e| bad(&format!("SGX Type: {e}")))?;

        let tcb: Vec<Entry<'_>> = find(TCB, "TCB")?
            .decode_as()
            .map_err(|e| bad(&format!("TCB: {e}")))?;
        let mut components = [None::<u8>; 16];
        let mut pce_svn = None;
        let mut cpu_svn = None;
        // TCB entries are `.2.N`: the TCB OID's encoding plus one byte, N < 128 (compared as
        // bytes rather than decoding every arc of 18 OIDs).
        let tcb_prefix = TCB.as_bytes();
        for entry in &tcb {
            let id = entry.id.as_bytes();
            let index = match id.split_last() {
                Some((&last, prefix)) if prefix == tcb_prefix && last < 0x80 => u32::from(last),
                _ => return Err(bad("TCB entry with a foreign OID")),
            };
            let slot = match index {
                1..=16 => components.get_mut(usize::try_from(index - 1).unwrap_or(usize::MAX)),
                _ => None,
            };
            match (index, slot) {
                (_, Some(slot)) => {
                    let svn = entry
                        .value
                        .decode_as::<u8>()
                        .map_err(|e| bad(&format!("TCB component {index}: {e}")))?;
                    if slot.replace(svn).is_some() {
                        return Err(bad("TCB component repeated"));
                    }
                }
                (17, None) => {
                    let svn = entry
                        .value
                        .decode_as::<u16>()
                        .map_err(|e| bad(&format!("PCESVN: {e}")))?;
                    if pce_svn.replace(svn).is_some() {
                        return Err(bad("PCESVN repeated"));
                    }
                }
                (18, None) => {
                    let raw = entry
                        .value
                        .decode_as::<&OctetStringRef>()
                        .map_err(|e| bad(&format!("CPUSVN: {e}")))?;
                    let raw: [u8; 16] = raw
                        .as_bytes()
                        .try_into()
                        .map_err(|_| bad("CPUSVN has the wrong length"))?;
                    if cpu_svn.replace(raw).is_some() {
                        return Err(bad("CPUSVN repeated"));
                    }
                }
                _ => return Err(bad("unknown TCB entry")),
            }
        }
        let mut sgx_tcb_components = [0u8; 16];
        for (out, component) in sgx_tcb_components.iter_mut().zip(components) {
            *out = component.ok_or_else(|| bad("TCB component missing"))?;
        }
        Ok(PckExtension {
            ppid,
            sgx_tcb_components,
            pce_svn: pce_svn.ok_or_else(|| bad("PCESVN missing"))?,
            cpu_svn: cpu_svn.ok_or_else(|| bad("CPUSVN missing"))?,
            pce_id,
            fmspc,
            sgx_type,
        })
    }
}
