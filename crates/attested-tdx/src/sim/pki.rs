//! The simulated PKI: root CA, PCK platform CA, PCK leaf with the Intel SGX extensions, TCB
//! signing certificate, and the two CRLs, all shaped like Intel's.

use core::str::FromStr;
use core::time::Duration;

use der::asn1::{Any, BitString, Ia5String, ObjectIdentifier, OctetString};
use der::pem::LineEnding;
use der::referenced::OwnedToRef as _;
use der::{Decode, Encode, EncodePem, Sequence, Tag};
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::{TbsCertificate, Version};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::crl::dp::DistributionPoint;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, CrlDistributionPoints, CrlNumber, CrlReason,
    KeyUsage, KeyUsages, SubjectKeyIdentifier,
};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned, SubjectPublicKeyInfoRef,
};
use x509_cert::time::{Time, Validity};

use super::keys::{derive_bytes, derive_serial, derive_signing_key};
use super::{CertDefect, SimCert, SimError};

/// Distinguished names of the simulated PKI. Intel's names with "attested simulated" in place of
/// "Intel", so that nobody mistakes a simulated certificate for a real one.
const ROOT_CA_CN: &str = "attested simulated SGX Root CA";
const PLATFORM_CA_CN: &str = "attested simulated SGX PCK Platform CA";
const PCK_CN: &str = "attested simulated SGX PCK Certificate";
const TCB_SIGNING_CN: &str = "attested simulated SGX TCB Signing";
const ORGANIZATION: &str = "attested simulation (not Intel)";

/// CRL distribution points. The `.invalid` top-level domain never resolves.
const ROOT_CRL_URI: &str = "https://attested.invalid/sgx/IntelSGXRootCA.der";
const PCK_CRL_URI: &str =
    "https://attested.invalid/sgx/certification/v4/pckcrl?ca=platform&encoding=der";

/// An extension OID nobody processes (under the attested test arc), for refusal tests.
const UNKNOWN_EXTENSION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1.1");

/// `ecdsa-with-SHA256`, the only signature algorithm of Intel's SGX PKI.
const ECDSA_WITH_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");

/// The Intel SGX extension of PCK certificates and its members.
mod oid {
    use der::asn1::ObjectIdentifier;

    /// SGX extensions (1.2.840.113741.1.13.1).
    pub(crate) const SGX_EXTENSIONS: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1");
    /// PPID, OCTET STRING (16).
    pub(crate) const PPID: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.1");
    /// TCB, SEQUENCE of the 16 SGX TCB components, PCESVN and CPUSVN.
    pub(crate) const TCB: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2");
    /// SGX TCB components 01..16, INTEGER each.
    pub(crate) const TCB_COMPONENTS: [ObjectIdentifier; 16] = [
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.1"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.2"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.3"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.4"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.5"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.6"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.7"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.8"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.9"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.10"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.11"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.12"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.13"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.14"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.15"),
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.16"),
    ];
    /// PCESVN, INTEGER.
    pub(crate) const PCESVN: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.17");
    /// CPUSVN, OCTET STRING (16).
    pub(crate) const CPUSVN: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.2.18");
    /// PCE-ID, OCTET STRING (2).
    pub(crate) const PCE_ID: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.3");
    /// FMSPC, OCTET STRING (6).
    pub(crate) const FMSPC: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.4");
    /// SGX type, ENUMERATED (0 Standard, 1 Scalable, 2 Scalable with integrity).
    pub(crate) const SGX_TYPE: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.5");
    /// Platform instance ID, OCTET STRING (16); Platform CA certificates only.
    pub(crate) const PLATFORM_INSTANCE_ID: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.6");
    /// Configuration, SEQUENCE of three BOOLEANs; Platform CA certificates only.
    pub(crate) const CONFIGURATION: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.7");
    /// Dynamic platform, BOOLEAN.
    pub(crate) const DYNAMIC_PLATFORM: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.7.1");
    /// Cached keys, BOOLEAN.
    pub(crate) const CACHED_KEYS: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.7.2");
    /// SMT enabled, BOOLEAN.
    pub(crate) const SMT_ENABLED: ObjectIdentifier =
        ObjectIdentifier::new_unwrap("1.2.840.113741.1.13.1.7.3");
}

/// SGX type "Scalable", what Intel's Platform CA issues for TDX-capable servers.
const SGX_TYPE_SCALABLE: u8 = 1;

/// One `SEQUENCE { OID, value }` member of the Intel SGX extension.
#[derive(Sequence)]
struct SgxMember {
    id: ObjectIdentifier,
    value: Any,
}

impl SgxMember {
    fn new<T: der::EncodeValue + der::Tagged>(
        id: ObjectIdentifier,
        value: &T,
    ) -> der::Result<Self> {
        Ok(Self {
            id,
            value: Any::encode_from(value)?,
        })
    }

    fn octets(id: ObjectIdentifier, bytes: &[u8]) -> der::Result<Self> {
        Self::new(id, &OctetString::new(bytes)?)
    }
}

/// The platform values that the PCK leaf certifies.
pub(crate) struct PckFields<'a> {
    pub(crate) ppid: &'a [u8; 16],
    pub(crate) cpu_svn: &'a [u8; 16],
    pub(crate) pce_svn: u16,
    pub(crate) pce_id: &'a [u8; 2],
    pub(crate) fmspc: &'a [u8; 6],
    pub(crate) platform_instance_id: &'a [u8; 16],
}

/// Encodes the Intel SGX extension value exactly as Intel's Platform CA does: PPID, TCB (16
/// components, PCESVN, CPUSVN), PCE-ID, FMSPC, SGX type, platform instance ID, configuration.
fn sgx_extension(fields: &PckFields<'_>) -> der::Result<Vec<u8>> {
    let mut tcb = Vec::with_capacity(18);
    for (id, svn) in oid::TCB_COMPONENTS.iter().zip(fields.cpu_svn) {
        tcb.push(SgxMember::new(*id, svn)?);
    }
    tcb.push(SgxMember::new(oid::PCESVN, &fields.pce_svn)?);
    tcb.push(SgxMember::octets(oid::CPUSVN, fields.cpu_svn)?);

    let configuration = vec![
        SgxMember::new(oid::DYNAMIC_PLATFORM, &true)?,
        SgxMember::new(oid::CACHED_KEYS, &false)?,
        SgxMember::new(oid::SMT_ENABLED, &true)?,
    ];

    let members = vec![
        SgxMember::octets(oid::PPID, fields.ppid)?,
        SgxMember::new(oid::TCB, &tcb)?,
        SgxMember::octets(oid::PCE_ID, fields.pce_id)?,
        SgxMember::octets(oid::FMSPC, fields.fmspc)?,
        SgxMember {
            id: oid::SGX_TYPE,
            value: Any::new(Tag::Enumerated, [SGX_TYPE_SCALABLE])?,
        },
        SgxMember::octets(oid::PLATFORM_INSTANCE_ID, fields.platform_instance_id)?,
        SgxMember::new(oid::CONFIGURATION, &configuration)?,
    ];
    members.to_der()
}

/// What a certificate is for, which decides its key usage and basic constraints.
#[derive(Clone, Copy)]
enum Role {
    /// A CA certificate with the given path length constraint.
    Ca { path_len: u8 },
    /// An end-entity signing certificate (PCK leaf, TCB signing).
    Signer,
}

/// A certificate profile that lays out extensions in Intel's order: authority key identifier,
/// CRL distribution points, subject key identifier, key usage, basic constraints, then the SGX
/// extension on a PCK leaf.
struct IntelShapedProfile {
    subject: Name,
    issuer: Name,
    role: Role,
    crl_uri: &'static str,
    sgx_extension: Option<Vec<u8>>,
    /// The defects of this certificate.
    defects: Vec<CertDefect>,
    which: SimCert,
}

impl BuilderProfile for IntelShapedProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        _tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let (usage, constraints) = match self.role {
            Role::Ca { path_len } => (
                KeyUsages::KeyCertSign | KeyUsages::CRLSign,
                BasicConstraints {
                    ca: true,
                    path_len_constraint: Some(path_len),
                },
            ),
            Role::Signer => (
                KeyUsages::DigitalSignature | KeyUsages::NonRepudiation,
                BasicConstraints {
                    ca: false,
                    path_len_constraint: None,
                },
            ),
        };
        let (mut usage, mut constraints) = (usage, constraints);
        let mut unknown_critical = false;
        for defect in &self.defects {
            match *defect {
                CertDefect::NoKeyCertSign(c) if c == self.which => {
                    usage -= KeyUsages::KeyCertSign;
                }
                CertDefect::NoCrlSign(c) if c == self.which => usage -= KeyUsages::CRLSign,
                CertDefect::NoDigitalSignature(c) if c == self.which => {
                    usage -= KeyUsages::DigitalSignature;
                }
                CertDefect::RootPathLenZero if self.which == SimCert::Root => {
                    constraints.path_len_constraint = Some(0);
                }
                CertDefect::UnknownCriticalExtension(c) if c == self.which => {
                    unknown_critical = true;
                }
                _ => {}
            }
        }
        let mut extensions = vec![
            extension(&authority_key_id(issuer_spk)?, false)?,
            extension(&crl_distribution_point(self.crl_uri)?, false)?,
            extension(&SubjectKeyIdentifier::try_from(spk)?, false)?,
            extension(&KeyUsage(usage), true)?,
            extension(&constraints, true)?,
        ];
        if unknown_critical {
            extensions.push(Extension {
                extn_id: UNKNOWN_EXTENSION,
                critical: true,
                extn_value: OctetString::new([0x05, 0x00])?,
            });
        }
        if let Some(sgx) = &self.sgx_extension {
            extensions.push(Extension {
                extn_id: oid::SGX_EXTENSIONS,
                critical: false,
                extn_value: OctetString::new(sgx.as_slice())?,
            });
        }
        Ok(extensions)
    }
}

fn extension<T: der::oid::AssociatedOid + Encode>(
    value: &T,
    critical: bool,
) -> der::Result<Extension> {
    Ok(Extension {
        extn_id: T::OID,
        critical,
        extn_value: OctetString::new(value.to_der()?)?,
    })
}

fn authority_key_id(
    issuer_spk: SubjectPublicKeyInfoRef<'_>,
) -> der::Result<AuthorityKeyIdentifier> {
    Ok(AuthorityKeyIdentifier {
        key_identifier: Some(SubjectKeyIdentifier::try_from(issuer_spk)?.0),
        authority_cert_issuer: None,
        authority_cert_serial_number: None,
    })
}

fn crl_distribution_point(uri: &str) -> der::Result<CrlDistributionPoints> {
    Ok(CrlDistributionPoints(vec![DistributionPoint {
        distribution_point: Some(DistributionPointName::FullName(vec![
            GeneralName::UniformResourceIdentifier(Ia5String::new(uri)?),
        ])),
        reasons: None,
        crl_issuer: None,
    }]))
}

/// A distinguished name laid out like Intel's: CN, O, C (in encoding order).
fn name(common_name: &str) -> Result<Name, SimError> {
    // RFC 4514 strings list the last RDN first.
    Name::from_str(&format!("C=US,O={ORGANIZATION},CN={common_name}")).map_err(|source| {
        SimError::Der {
            what: "distinguished name",
            source,
        }
    })
}

/// An X.509 time (UTCTime until 2049, GeneralizedTime after) from Unix seconds.
pub(crate) fn x509_time(unix_secs: u64) -> Result<Time, SimError> {
    der::DateTime::from_unix_duration(Duration::from_secs(unix_secs))
        .map(Time::from)
        .map_err(|_| SimError::TimeOutOfRange(unix_secs))
}

#[derive(Sequence)]
struct RawValidity {
    not_before: Time,
    not_after: Time,
}

fn validity(not_before: u64, not_after: u64) -> Result<Validity, SimError> {
    let raw = RawValidity {
        not_before: x509_time(not_before)?,
        not_after: x509_time(not_after)?,
    };
    raw.to_der()
        .and_then(|der| Validity::from_der(&der))
        .map_err(|source| SimError::Der {
            what: "certificate validity",
            source,
        })
}

fn spki(key: &SigningKey) -> Result<SubjectPublicKeyInfoOwned, SimError> {
    SubjectPublicKeyInfoOwned::from_key(key.verifying_key()).map_err(|_| SimError::Signing {
        what: "public key encoding",
    })
}

/// One issued certificate with its key.
pub(crate) struct Issued {
    pub(crate) key: SigningKey,
    pub(crate) der: Vec<u8>,
    pub(crate) pem: String,
    pub(crate) serial: [u8; 20],
    pub(crate) name: Name,
}

struct Template<'a> {
    label: &'static str,
    common_name: &'a str,
    role: Role,
    crl_uri: &'static str,
    not_before: u64,
    not_after: u64,
    sgx_extension: Option<Vec<u8>>,
    /// The issuer, or `None` for the self-signed root.
    issuer: Option<&'a Issued>,
    which: SimCert,
    defects: &'a [CertDefect],
}

fn issue(seed: &[u8], template: Template<'_>) -> Result<Issued, SimError> {
    let what = template.label;
    let key = derive_signing_key(seed, &format!("{what} key"));
    let serial = derive_serial(seed, &format!("{what} serial"));
    let subject = name(template.common_name)?;
    let (issuer_name, issuer_key) = match template.issuer {
        Some(issuer) => (issuer.name.clone(), &issuer.key),
        None => (subject.clone(), &key),
    };
    let profile = IntelShapedProfile {
        subject: subject.clone(),
        issuer: issuer_name,
        role: template.role,
        crl_uri: template.crl_uri,
        sgx_extension: template.sgx_extension,
        defects: template.defects.to_vec(),
        which: template.which,
    };
    let serial_number =
        SerialNumber::new(&serial).map_err(|source| SimError::Der { what, source })?;
    let builder = CertificateBuilder::new(
        profile,
        serial_number,
        validity(template.not_before, template.not_after)?,
        spki(&key)?,
    )
    .map_err(|source| SimError::Certificate { what, source })?;
    let certificate = builder
        .build::<_, DerSignature>(issuer_key)
        .map_err(|source| SimError::Certificate { what, source })?;
    let der = certificate
        .to_der()
        .map_err(|source| SimError::Der { what, source })?;
    let pem = certificate
        .to_pem(LineEnding::LF)
        .map_err(|source| SimError::Der { what, source })?;
    Ok(Issued {
        key,
        der,
        pem,
        serial,
        name: subject,
    })
}

/// Signs a CRL shaped like Intel's: v2, CRL number 1, authority key identifier, and revoked
/// entries with reason "key compromise".
fn crl(
    issuer: &Issued,
    this_update: u64,
    next_update: u64,
    revoked: &[[u8; 20]],
    what: &'static str,
) -> Result<Vec<u8>, SimError> {
    let der_err = |source| SimError::Der { what, source };
    let algorithm = AlgorithmIdentifierOwned {
        oid: ECDSA_WITH_SHA256,
        parameters: None,
    };
    let issuer_spki = spki(&issuer.key)?;
    let aki = authority_key_id(issuer_spki.owned_to_ref()).map_err(der_err)?;
    let crl_number = CrlNumber::try_from(1u128).map_err(der_err)?;
    let this_update = x509_time(this_update)?;
    let mut entries: Vec<RevokedCert> = Vec::with_capacity(revoked.len());
    for serial in revoked {
        entries.push(RevokedCert {
            serial_number: SerialNumber::new(serial).map_err(der_err)?,
            revocation_date: this_update,
            crl_entry_extensions: Some(vec![
                extension(&CrlReason::KeyCompromise, false).map_err(der_err)?,
            ]),
        });
    }
    let tbs = TbsCertList {
        version: Version::V2,
        signature: algorithm.clone(),
        issuer: issuer.name.clone(),
        this_update,
        next_update: Some(x509_time(next_update)?),
        revoked_certificates: (!entries.is_empty()).then_some(entries),
        crl_extensions: Some(vec![
            extension(&crl_number, false).map_err(der_err)?,
            extension(&aki, false).map_err(der_err)?,
        ]),
    };
    let tbs_der = tbs.to_der().map_err(der_err)?;
    let signature: DerSignature = issuer
        .key
        .try_sign(&tbs_der)
        .map_err(|_| SimError::Signing { what })?;
    let list = CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(signature.as_bytes()).map_err(der_err)?,
    };
    list.to_der().map_err(der_err)
}

/// Validity periods relative to the caller's `now`, all in seconds.
pub(crate) const DAY: u64 = 86_400;
const YEAR: u64 = 365 * DAY;
/// Every certificate starts 30 days before `now`.
const CERT_BACKDATE: u64 = 30 * DAY;
/// CRLs, TCB Info and QE Identity were issued one day before `now`...
pub(crate) const COLLATERAL_BACKDATE: u64 = DAY;
/// ...and the PCK CRL, TCB Info and QE Identity expire 30 days after `now`, as Intel's do.
pub(crate) const COLLATERAL_LIFETIME: u64 = 30 * DAY;

/// Which certificates the CRLs list.
pub(crate) struct Revocations {
    pub(crate) pck: bool,
    pub(crate) root: bool,
    pub(crate) tcb_signing: bool,
}

/// The whole simulated PKI.
pub(crate) struct Pki {
    pub(crate) root: Issued,
    pub(crate) platform_ca: Issued,
    pub(crate) pck: Issued,
    pub(crate) tcb_signing: Issued,
    pub(crate) root_crl: Vec<u8>,
    pub(crate) pck_crl: Vec<u8>,
}

impl Pki {
    pub(crate) fn new(
        seed: &[u8],
        now: u64,
        pck_fields: &PckFields<'_>,
        revocations: &Revocations,
        pck_common_name: Option<&str>,
        defects: &[CertDefect],
    ) -> Result<Self, SimError> {
        let start = now.saturating_sub(CERT_BACKDATE);
        let root = issue(
            seed,
            Template {
                label: "root CA",
                common_name: ROOT_CA_CN,
                role: Role::Ca { path_len: 1 },
                crl_uri: ROOT_CRL_URI,
                not_before: start,
                not_after: now.saturating_add(25 * YEAR),
                sgx_extension: None,
                issuer: None,
                which: SimCert::Root,
                defects,
            },
        )?;
        let platform_ca = issue(
            seed,
            Template {
                label: "PCK platform CA",
                common_name: PLATFORM_CA_CN,
                role: Role::Ca { path_len: 0 },
                crl_uri: ROOT_CRL_URI,
                not_before: start,
                not_after: now.saturating_add(15 * YEAR),
                sgx_extension: None,
                issuer: Some(&root),
                which: SimCert::PckPlatformCa,
                defects,
            },
        )?;
        let sgx = sgx_extension(pck_fields).map_err(|source| SimError::Der {
            what: "SGX extension",
            source,
        })?;
        let pck = issue(
            seed,
            Template {
                label: "PCK leaf",
                common_name: pck_common_name.unwrap_or(PCK_CN),
                role: Role::Signer,
                crl_uri: PCK_CRL_URI,
                not_before: start,
                not_after: now.saturating_add(7 * YEAR),
                sgx_extension: Some(sgx),
                issuer: Some(&platform_ca),
                which: SimCert::PckLeaf,
                defects,
            },
        )?;
        let tcb_signing = issue(
            seed,
            Template {
                label: "TCB signing",
                common_name: TCB_SIGNING_CN,
                role: Role::Signer,
                crl_uri: ROOT_CRL_URI,
                not_before: start,
                not_after: now.saturating_add(7 * YEAR),
                sgx_extension: None,
                issuer: Some(&root),
                which: SimCert::TcbSigning,
                defects,
            },
        )?;
        let issued_at = now.saturating_sub(COLLATERAL_BACKDATE);
        let mut revoked_root = Vec::new();
        if revocations.root {
            revoked_root.push(root.serial);
        }
        if revocations.tcb_signing {
            revoked_root.push(tcb_signing.serial);
        }
        let root_crl = crl(
            &root,
            issued_at,
            now.saturating_add(YEAR),
            &revoked_root,
            "root CA CRL",
        )?;
        let revoked: &[[u8; 20]] = if revocations.pck { &[pck.serial] } else { &[] };
        let pck_crl = crl(
            &platform_ca,
            issued_at,
            now.saturating_add(COLLATERAL_LIFETIME),
            revoked,
            "PCK CRL",
        )?;
        Ok(Self {
            root,
            platform_ca,
            pck,
            tcb_signing,
            root_crl,
            pck_crl,
        })
    }
}

/// The PPID and platform instance ID of a seed.
pub(crate) fn platform_ids(seed: &[u8]) -> ([u8; 16], [u8; 16]) {
    (
        derive_bytes(seed, "PPID"),
        derive_bytes(seed, "platform instance ID"),
    )
}
