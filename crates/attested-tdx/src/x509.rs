//! X.509 certificates and CRLs of Intel's DCAP PKI: ECDSA P-256 / SHA-256 only.
//!
//! Two paths are validated by `rustls-webpki` ([`verify_end_entity`]): the TCB signing
//! certificate under the root with the root CA CRL, and the PCK leaf under the (verified) PCK
//! CA. What webpki does not do is done here: KeyUsage (webpki ignores it for path building),
//! the trust anchor's own KeyUsage and pathLenConstraint (webpki keeps only its name and key),
//! and the PCK CA under the root with the PCK CRL it signs (webpki refuses a CA as end entity
//! and checks no certificate or CRL outside a path), with the same constraints webpki applies:
//! [`Cert::check_ca_constraints`]. Why the split is where it is, with its measurement:
//! "Certificate chains" in the crate's README.
//!
//! `x509-cert` decodes the structures; the signed `tbsCertificate` / `tbsCertList` bytes are
//! taken verbatim from the input (never re-encoded), so that a signature is checked over exactly
//! what the issuer signed.

use std::sync::OnceLock;

use der::{Decode as _, Header, Reader as _, SliceReader, Tag};
use rustls_pki_types::CertificateDer;
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::name::Name;

use crate::crypto::{EcdsaSig, Signatures};
use crate::errors::{Item, VerifyError, check_window};
use crate::time::{self, UnixTime};

const ECDSA_WITH_SHA256: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const EC_PUBLIC_KEY: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const PRIME256V1: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

const BASIC_CONSTRAINTS: der::oid::ObjectIdentifier =
    der::oid::ObjectIdentifier::new_unwrap("2.5.29.19");
const KEY_USAGE: der::oid::ObjectIdentifier = der::oid::ObjectIdentifier::new_unwrap("2.5.29.15");

/// Certificates in one PEM chain: Intel's have 2 or 3; more is refused before any parsing.
pub(crate) const MAX_CHAIN_LEN: usize = 5;

/// A decoded certificate with the raw bytes its signature covers.
#[derive(Clone, Debug)]
pub(crate) struct Cert {
    pub(crate) der: Vec<u8>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
    pub(crate) cert: Certificate,
    pub(crate) public_key: Vec<u8>,
    pub(crate) not_before: UnixTime,
    pub(crate) not_after: UnixTime,
    /// The DER as canonical base64, made on first use (only for the trust anchor and the
    /// verified PCK CA, whose PEM blocks are compared as text).
    der_base64: OnceLock<String>,
}

impl Cert {
    /// Decodes `der`, requiring ECDSA-with-SHA256 and a P-256 key.
    pub(crate) fn from_der(der: Vec<u8>, item: Item) -> Result<Cert, VerifyError> {
        let cert = Certificate::from_der(&der).map_err(|e| VerifyError::malformed(item, e))?;
        let (tbs, signature) = split_signed(&der).map_err(|e| VerifyError::malformed(item, e))?;
        if cert.signature_algorithm().oid != ECDSA_WITH_SHA256
            || cert.tbs_certificate().signature().oid != ECDSA_WITH_SHA256
        {
            return Err(VerifyError::malformed(
                item,
                "signature algorithm is not ecdsa-with-SHA256",
            ));
        }
        let spki = cert.tbs_certificate().subject_public_key_info();
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<der::oid::ObjectIdentifier>().ok());
        if spki.algorithm.oid != EC_PUBLIC_KEY || curve != Some(PRIME256V1) {
            return Err(VerifyError::malformed(
                item,
                "public key is not ECDSA P-256",
            ));
        }
        let public_key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| {
                VerifyError::malformed(item, "public key bit string is not whole bytes")
            })?
            .to_vec();
        let validity = cert.tbs_certificate().validity();
        let not_before = time::from_x509(validity.not_before);
        let not_after = time::from_x509(validity.not_after);
        Ok(Cert {
            tbs: tbs.to_vec(),
            signature: signature.to_vec(),
            der,
            public_key,
            not_before,
            not_after,
            cert,
            der_base64: OnceLock::new(),
        })
    }

    /// The DER as canonical base64: what a PEM block of this certificate holds, whitespace
    /// aside.
    pub(crate) fn der_base64(&self) -> &str {
        self.der_base64.get_or_init(|| {
            base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &self.der)
        })
    }

    pub(crate) fn subject(&self) -> &Name {
        self.cert.tbs_certificate().subject()
    }

    /// Checks the certificate's role in Intel's PKI by its subject common name, as QVL does
    /// (`commonNameContains` with the phrases of `X509Constants.cpp:126-129`): the CN must
    /// contain one of `phrases`. A certificate of one role (a PCK CA) is then never accepted
    /// in another (the TCB Info signer), even though the same root issued both.
    pub(crate) fn check_role(
        &self,
        item: Item,
        phrases: &[&str],
        role: &'static str,
    ) -> Result<(), VerifyError> {
        let common_name = self.subject().common_name().ok().flatten();
        let fits = common_name
            .as_ref()
            .is_some_and(|cn| phrases.iter().any(|phrase| cn.value().contains(phrase)));
        if fits {
            return Ok(());
        }
        Err(VerifyError::Role {
            item,
            role,
            common_name: common_name.map(|cn| cn.value().into_owned()),
        })
    }

    pub(crate) fn issuer(&self) -> &Name {
        self.cert.tbs_certificate().issuer()
    }

    pub(crate) fn serial(&self) -> &[u8] {
        self.cert.tbs_certificate().serial_number().as_bytes()
    }

    /// Checks the validity period at `now`.
    pub(crate) fn check_validity(&self, item: Item, now: UnixTime) -> Result<(), VerifyError> {
        check_window(item, self.not_before, self.not_after, now)
    }

    /// Whether the basic constraints mark this certificate as a CA.
    pub(crate) fn is_ca(&self) -> bool {
        matches!(
            self.cert
                .tbs_certificate()
                .get_extension::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        )
    }

    /// Checks that a KeyUsage extension, where present, allows `usage` (RFC 5280 §4.2.1.3: no
    /// extension is no restriction, as webpki and QVL treat it).
    pub(crate) fn check_key_usage(
        &self,
        item: Item,
        usage: impl Into<der::flagset::FlagSet<KeyUsages>>,
        constraint: &'static str,
    ) -> Result<(), VerifyError> {
        let usage = usage.into();
        match self.cert.tbs_certificate().get_extension::<KeyUsage>() {
            Ok(None) => Ok(()),
            Ok(Some((_, KeyUsage(flags)))) if flags.contains(usage) => Ok(()),
            Ok(Some(_)) => Err(VerifyError::Constraint { item, constraint }),
            Err(e) => Err(VerifyError::malformed(item, format!("KeyUsage: {e}"))),
        }
    }

    /// Checks that this CA may have `below` more CA certificates under it in the path
    /// (pathLenConstraint, RFC 5280 §4.2.1.9): for the trust anchor and the PCK CA, which
    /// webpki never sees as intermediates.
    pub(crate) fn check_path_len(&self, item: Item, below: u8) -> Result<(), VerifyError> {
        match self
            .cert
            .tbs_certificate()
            .get_extension::<BasicConstraints>()
        {
            Ok(Some((_, constraints)))
                if constraints
                    .path_len_constraint
                    .is_some_and(|max| below > max) =>
            {
                Err(VerifyError::Constraint {
                    item,
                    constraint: "its pathLenConstraint (too many CAs below it)",
                })
            }
            Ok(_) => Ok(()),
            Err(e) => Err(VerifyError::malformed(
                item,
                format!("BasicConstraints: {e}"),
            )),
        }
    }

    /// What webpki checks of a CA in a path, for the PCK CA that this crate validates itself:
    /// no critical extension other than the two it processes (basicConstraints, KeyUsage),
    /// basicConstraints cA (checked by [`Cert::check_issued_by`] on whatever it issues), and
    /// KeyUsage `keyCertSign` and `cRLSign` (it signs the PCK leaves and the PCK CRL).
    pub(crate) fn check_ca_constraints(&self, item: Item) -> Result<(), VerifyError> {
        let known = [BASIC_CONSTRAINTS, KEY_USAGE];
        let unknown = self
            .cert
            .tbs_certificate()
            .extensions()
            .into_iter()
            .flatten()
            .any(|e| e.critical && !known.contains(&e.extn_id));
        if unknown {
            return Err(VerifyError::Constraint {
                item,
                constraint: "the extensions it may mark critical (an unknown one is critical)",
            });
        }
        self.check_key_usage(
            item,
            KeyUsages::KeyCertSign | KeyUsages::CRLSign,
            "its KeyUsage (a CA needs keyCertSign and cRLSign)",
        )
    }

    /// Checks that `issuer` issued this certificate: names match, the issuer is a CA, and the
    /// signature verifies under the issuer's key.
    pub(crate) fn check_issued_by(
        &self,
        item: Item,
        issuer: &Issuer<'_>,
        ecdsa: &Signatures,
    ) -> Result<(), VerifyError> {
        if self.issuer() != issuer.subject {
            return Err(VerifyError::Chain {
                item,
                issuer: issuer.item,
                reason: "issuer name differs from the issuer's subject",
            });
        }
        if !issuer.is_ca {
            return Err(VerifyError::Chain {
                item,
                issuer: issuer.item,
                reason: "the issuer is not a CA (basic constraints)",
            });
        }
        if !ecdsa.verify(issuer.public_key, &self.tbs, EcdsaSig::Der(&self.signature)) {
            return Err(VerifyError::BadSignature { item });
        }
        Ok(())
    }
}

/// What a certificate or CRL is checked against: its issuer's name, key and CA flag.
#[derive(Clone, Copy)]
pub(crate) struct Issuer<'a> {
    pub(crate) item: Item,
    pub(crate) subject: &'a Name,
    pub(crate) public_key: &'a [u8],
    pub(crate) is_ca: bool,
}

impl Cert {
    pub(crate) fn as_issuer(&self, item: Item) -> Issuer<'_> {
        Issuer {
            item,
            subject: self.subject(),
            public_key: &self.public_key,
            is_ca: self.is_ca(),
        }
    }
}

/// A decoded CRL with the raw bytes its signature covers.
#[derive(Clone, Debug)]
pub(crate) struct Crl {
    pub(crate) issuer: Name,
    pub(crate) this_update: UnixTime,
    pub(crate) next_update: UnixTime,
    revoked: Vec<Vec<u8>>,
    tbs: Vec<u8>,
    signature: Vec<u8>,
}

impl Crl {
    /// Decodes a DER CRL. A CRL without nextUpdate is refused: it could never expire.
    ///
    /// Intel's PCK CRLs list thousands of serials: decoding each entry into `x509-cert` types
    /// would dominate cold verification, so the TBS is walked here and only the serials kept.
    pub(crate) fn from_der(der: &[u8], item: Item) -> Result<Crl, VerifyError> {
        let bad = |e: der::Error| VerifyError::malformed(item, e);
        let (tbs, signature, algorithm) = split_signed_with_algorithm(der).map_err(bad)?;
        let parsed = parse_tbs_cert_list(tbs).map_err(bad)?;
        if algorithm != ECDSA_WITH_SHA256_ALGORITHM
            || parsed.algorithm != ECDSA_WITH_SHA256_ALGORITHM
        {
            return Err(VerifyError::malformed(
                item,
                "signature algorithm is not ecdsa-with-SHA256",
            ));
        }
        let next_update = parsed
            .next_update
            .ok_or_else(|| VerifyError::malformed(item, "no nextUpdate"))?;
        let mut revoked = parsed.revoked;
        revoked.sort_unstable();
        Ok(Crl {
            issuer: parsed.issuer,
            this_update: time::from_x509(parsed.this_update),
            next_update: time::from_x509(next_update),
            revoked,
            tbs: tbs.to_vec(),
            signature: signature.to_vec(),
        })
    }

    /// Checks issuer name, signature and the thisUpdate..nextUpdate window at `now`.
    pub(crate) fn check(
        &self,
        item: Item,
        issuer: &Issuer<'_>,
        ecdsa: &Signatures,
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        self.check_issuer_name(item, issuer)?;
        if !ecdsa.verify(issuer.public_key, &self.tbs, EcdsaSig::Der(&self.signature)) {
            return Err(VerifyError::BadSignature { item });
        }
        check_window(item, self.this_update, self.next_update, now)
    }

    /// Checks the issuer name and the thisUpdate..nextUpdate window at `now`, for a CRL whose
    /// signature webpki verifies (the root CA CRL, on the TCB signing path).
    pub(crate) fn check_unsigned_parts(
        &self,
        item: Item,
        issuer: &Issuer<'_>,
        now: UnixTime,
    ) -> Result<(), VerifyError> {
        self.check_issuer_name(item, issuer)?;
        check_window(item, self.this_update, self.next_update, now)
    }

    fn check_issuer_name(&self, item: Item, issuer: &Issuer<'_>) -> Result<(), VerifyError> {
        if &self.issuer != issuer.subject {
            return Err(VerifyError::Chain {
                item,
                issuer: issuer.item,
                reason: "CRL issuer name differs from the issuer's subject",
            });
        }
        Ok(())
    }

    /// `Err(Revoked)` when the CRL lists `cert`'s serial number.
    pub(crate) fn check_not_revoked(
        &self,
        crl_item: Item,
        cert: &Cert,
        cert_item: Item,
    ) -> Result<(), VerifyError> {
        let serial = cert.serial();
        if self
            .revoked
            .binary_search_by(|s| s.as_slice().cmp(serial))
            .is_ok()
        {
            return Err(VerifyError::Revoked {
                item: cert_item,
                crl: crl_item,
                serial: hex::encode(serial),
            });
        }
        Ok(())
    }
}

/// A trust anchor for webpki: the name and key of `cert`, a CA this crate pins or verified.
pub(crate) fn webpki_anchor(
    cert: &Cert,
    item: Item,
) -> Result<rustls_pki_types::TrustAnchor<'static>, VerifyError> {
    webpki::anchor_from_trusted_cert(&CertificateDer::from(cert.der.as_slice()))
        .map(|anchor| anchor.to_owned())
        .map_err(|e| VerifyError::malformed(item, format!("as a trust anchor: {e}")))
}

/// A CRL for webpki's revocation check (borrowed: nothing is copied).
pub(crate) fn webpki_crl(
    der: &[u8],
    item: Item,
) -> Result<webpki::CertRevocationList<'_>, VerifyError> {
    webpki::BorrowedCertRevocationList::from_der(der)
        .map(Into::into)
        .map_err(|e| VerifyError::malformed(item, e))
}

/// One end-entity path for `rustls-webpki`, and the names its refusals map to.
pub(crate) struct EndEntityPath<'a> {
    /// The end-entity certificate (already decoded, its role and validity checked).
    pub(crate) cert: &'a Cert,
    pub(crate) item: Item,
    /// Its issuer, webpki's only trust anchor.
    pub(crate) issuer: &'a rustls_pki_types::TrustAnchor<'a>,
    pub(crate) issuer_item: Item,
    /// The issuer's CRL, checked by webpki (its signature by the issuer's key, its scope, the
    /// serial), or `None` where the caller looks the serial up in a CRL it verified itself.
    pub(crate) crl: Option<(&'a webpki::CertRevocationList<'a>, Item)>,
}

/// Validates `path` with `rustls-webpki` at `now`: the signature by the anchor's key, the
/// issuer name, basicConstraints (a CA is refused as end entity), unknown critical extensions,
/// the validity period, and revocation by the given CRL (its signature by the anchor's key;
/// a CRL that does not cover the certificate is a refusal). Then KeyUsage `digitalSignature`,
/// which webpki ignores.
///
/// When it returns `Ok` with a CRL, that CRL's signature verified under the anchor's key.
pub(crate) fn verify_end_entity(
    path: &EndEntityPath<'_>,
    algorithms: &[&dyn rustls_pki_types::SignatureVerificationAlgorithm],
    now: UnixTime,
) -> Result<(), VerifyError> {
    let item = path.item;
    let der = CertificateDer::from(path.cert.der.as_slice());
    let end_entity = webpki::EndEntityCert::try_from(&der).map_err(|e| path_error(path, &e))?;
    let crls;
    let revocation = match &path.crl {
        Some((crl, _)) => {
            crls = [*crl];
            webpki::RevocationOptionsBuilder::new(&crls)
                .ok()
                .map(|builder| {
                    builder
                        .with_depth(webpki::RevocationCheckDepth::Chain)
                        .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                        // thisUpdate..nextUpdate is checked by the caller, with named errors.
                        .with_expiration_policy(webpki::ExpirationPolicy::Ignore)
                        .build()
                })
        }
        None => None,
    };
    let time = rustls_pki_types::UnixTime::since_unix_epoch(core::time::Duration::from_secs(
        now.as_secs(),
    ));
    end_entity
        .verify_for_usage(
            algorithms,
            core::slice::from_ref(path.issuer),
            &[],
            time,
            AnyExtendedKeyUsage,
            revocation,
            None,
        )
        .map_err(|e| path_error(path, &e))?;
    path.cert.check_key_usage(
        item,
        KeyUsages::DigitalSignature,
        "its KeyUsage (a signer needs digitalSignature)",
    )
}

/// Intel's signing certificates carry no extended key usage; none is required.
struct AnyExtendedKeyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, _iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

/// webpki's refusal, named after the checked items.
fn path_error(path: &EndEntityPath<'_>, error: &webpki::Error) -> VerifyError {
    use webpki::Error as W;
    let item = path.item;
    let crl_item = path
        .crl
        .as_ref()
        .map_or(Item::Collateral, |(_, item)| *item);
    #[allow(deprecated)]
    match error {
        W::InvalidSignatureForPublicKey
        | W::UnsupportedSignatureAlgorithm
        | W::UnsupportedSignatureAlgorithmContext(_)
        | W::UnsupportedSignatureAlgorithmForPublicKey
        | W::UnsupportedSignatureAlgorithmForPublicKeyContext(_)
        | W::SignatureAlgorithmMismatch => VerifyError::BadSignature { item },
        W::InvalidCrlSignatureForPublicKey
        | W::UnsupportedCrlSignatureAlgorithm
        | W::UnsupportedCrlSignatureAlgorithmContext(_)
        | W::UnsupportedCrlSignatureAlgorithmForPublicKey
        | W::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_) => {
            VerifyError::BadSignature { item: crl_item }
        }
        W::CertRevoked => VerifyError::Revoked {
            item,
            crl: crl_item,
            serial: hex::encode(path.cert.serial()),
        },
        W::UnknownRevocationStatus => VerifyError::Chain {
            item: crl_item,
            issuer: path.issuer_item,
            reason: "the CRL does not cover the certificate (issuer or distribution point)",
        },
        W::UnknownIssuer => VerifyError::Chain {
            item,
            issuer: path.issuer_item,
            reason: "issuer name differs from the issuer's subject",
        },
        W::UnsupportedCriticalExtension => VerifyError::Constraint {
            item,
            constraint: "the extensions it may mark critical (an unknown one is critical)",
        },
        W::CaUsedAsEndEntity => VerifyError::Constraint {
            item,
            constraint: "its role: it is a CA (basicConstraints cA) where a signer is expected",
        },
        W::PathLenConstraintViolated => VerifyError::Constraint {
            item,
            constraint: "a pathLenConstraint",
        },
        W::IssuerNotCrlSigner => VerifyError::Constraint {
            item: path.issuer_item,
            constraint: "its KeyUsage (a CA needs keyCertSign and cRLSign)",
        },
        other => VerifyError::malformed(item, other),
    }
}

/// DER of `AlgorithmIdentifier { ecdsa-with-SHA256 }` (no parameters).
const ECDSA_WITH_SHA256_ALGORITHM: &[u8] = &[
    0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
];

struct TbsCertList<'a> {
    algorithm: &'a [u8],
    issuer: Name,
    this_update: x509_cert::time::Time,
    next_update: Option<x509_cert::time::Time>,
    revoked: Vec<Vec<u8>>,
}

fn parse_tbs_cert_list(tbs: &[u8]) -> der::Result<TbsCertList<'_>> {
    use der::Decode as _;
    let mut reader = SliceReader::new(tbs)?;
    let header = Header::decode(&mut reader)?;
    header.tag().assert_eq(Tag::Sequence)?;
    let list = reader.read_nested(header.length(), |r| {
        if Tag::peek(r)? == Tag::Integer {
            let version = u8::decode(r)?;
            if version != 1 {
                return Err(der::Error::from(der::ErrorKind::Value {
                    tag: Tag::Integer,
                }));
            }
        }
        let algorithm = r.tlv_bytes()?;
        let issuer = Name::decode(r)?;
        let this_update = x509_cert::time::Time::decode(r)?;
        let next_update = match Tag::peek(r) {
            Ok(Tag::UtcTime | Tag::GeneralizedTime) => Some(x509_cert::time::Time::decode(r)?),
            _ => None,
        };
        let mut revoked = Vec::new();
        if !r.is_finished() && Tag::peek(r)? == Tag::Sequence {
            let entries = Header::decode(r)?;
            r.read_nested(entries.length(), |r| {
                while !r.is_finished() {
                    let entry = Header::decode(r)?;
                    entry.tag().assert_eq(Tag::Sequence)?;
                    r.read_nested(entry.length(), |r| {
                        let serial = Header::decode(r)?;
                        serial.tag().assert_eq(Tag::Integer)?;
                        revoked.push(r.read_slice(serial.length())?.to_vec());
                        // revocationDate and entry extensions: not needed.
                        let rest = r.remaining_len();
                        r.drain(rest)
                    })?;
                }
                Ok::<_, der::Error>(())
            })?;
        }
        // crlExtensions ([0] EXPLICIT): not needed.
        let rest = r.remaining_len();
        r.drain(rest)?;
        Ok::<_, der::Error>(TbsCertList {
            algorithm,
            issuer,
            this_update,
            next_update,
            revoked,
        })
    })?;
    reader.finish()?;
    Ok(list)
}

/// Splits `SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }` into the raw `tbs` TLV
/// and the signature bytes.
fn split_signed(der: &[u8]) -> der::Result<(&[u8], &[u8])> {
    split_signed_with_algorithm(der).map(|(tbs, signature, _)| (tbs, signature))
}

/// [`split_signed`], also returning the raw `signatureAlgorithm` TLV.
fn split_signed_with_algorithm(der: &[u8]) -> der::Result<(&[u8], &[u8], &[u8])> {
    let mut reader = SliceReader::new(der)?;
    let outer = Header::decode(&mut reader)?;
    outer.tag().assert_eq(Tag::Sequence)?;
    let parts = reader.read_nested(outer.length(), |inner| {
        let tbs = inner.tlv_bytes()?;
        let algorithm = inner.tlv_bytes()?;
        let signature = der::asn1::BitStringRef::decode(inner)?;
        Ok::<_, der::Error>((tbs, signature, algorithm))
    })?;
    reader.finish()?;
    let (tbs, signature, algorithm) = parts;
    let signature = signature
        .as_bytes()
        .ok_or_else(|| der::Error::from(der::ErrorKind::Failed))?;
    Ok((tbs, signature, algorithm))
}

/// The DER certificates of a PEM chain (any text around the blocks is ignored).
///
/// Blocks of certificates the caller already holds (the trust anchor, the verified PCK CA)
/// are compared as text with their canonical base64 instead of being decoded: equal text
/// decodes to exactly their DER (canonical base64 has one encoding per byte string), and any
/// other text is decoded as usual.
pub(crate) fn pem_chain(
    text: &[u8],
    item: Item,
    known: &[&Cert],
) -> Result<Vec<Vec<u8>>, VerifyError> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = find(rest, BEGIN) {
        let after_begin = rest.get(start..).unwrap_or_default();
        let end = find(after_begin, END)
            .ok_or_else(|| VerifyError::malformed(item, "unterminated PEM certificate"))?;
        let block_len = end + END.len();
        let block = after_begin.get(..block_len).unwrap_or_default();
        if out.len() == MAX_CHAIN_LEN {
            return Err(VerifyError::malformed(
                item,
                "too many certificates in the PEM chain",
            ));
        }
        let body = block
            .get(BEGIN.len()..block.len() - END.len())
            .unwrap_or_default();
        if let Some(cert) = known
            .iter()
            .find(|cert| same_ignoring_whitespace(body, cert.der_base64().as_bytes()))
        {
            out.push(cert.der.clone());
        } else {
            // Certificates are public: the fast (not constant-time) base64 decoder is fine.
            let mut text = Vec::with_capacity(body.len());
            text.extend(body.iter().copied().filter(|b| !b.is_ascii_whitespace()));
            let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &text)
                .map_err(|e| VerifyError::malformed(item, format!("PEM certificate: {e}")))?;
            out.push(der);
        }
        rest = after_begin.get(block_len..).unwrap_or_default();
    }
    if out.is_empty() {
        return Err(VerifyError::malformed(item, "no PEM certificate"));
    }
    Ok(out)
}

/// Whether `text` is `expected` once its ASCII whitespace is dropped.
fn same_ignoring_whitespace(text: &[u8], expected: &[u8]) -> bool {
    let mut expected = expected.iter();
    text.iter()
        .filter(|b| !b.is_ascii_whitespace())
        .all(|b| expected.next() == Some(b))
        && expected.next().is_none()
}

/// The first occurrence of `needle`. PEM armor starts with `-`, which base64 never contains,
/// so scanning for the first byte and comparing only there is linear in practice (comparing
/// every window made this the largest non-signature cost of cold verification).
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    let first = *needle.first()?;
    let mut from = 0;
    loop {
        let start = from + haystack.get(from..)?.iter().position(|&b| b == first)?;
        if haystack.get(start..start.checked_add(needle.len())?) == Some(needle) {
            return Some(start);
        }
        from = start + 1;
    }
}

#[cfg(test)]
mod tests {
    use super::find;

    #[test]
    fn whitespace_is_all_that_text_comparison_ignores() {
        use super::same_ignoring_whitespace as same;
        assert!(same(b"QU\r\nFB \tQQ==\n", b"QUFBQQ=="));
        assert!(!same(b"QUFBQQ=", b"QUFBQQ=="));
        assert!(!same(b"QUFBQQ===", b"QUFBQQ=="));
        assert!(!same(b"QUFBQq==", b"QUFBQQ=="));
        assert!(same(b" ", b""));
    }

    #[test]
    fn find_locates_the_first_whole_occurrence() {
        assert_eq!(find(b"--a---BEGIN--BEGIN", b"-BEGIN"), Some(5));
        assert_eq!(find(b"-BEGIN", b"-BEGIN"), Some(0));
        assert_eq!(find(b"x-BEGI", b"-BEGIN"), None);
        assert_eq!(find(b"", b"-"), None);
        assert_eq!(find(b"abc", b""), None);
    }
}
