//! X.509 chains: pinned roots, revocation lists and chain validation for JWKS `x5c` and Nitro
//! `cabundle`.
//!
//! # Path validation: `rustls-webpki`
//!
//! Chains are validated by `rustls-webpki` (the rustls team's fuzzed RFC 5280 path builder):
//! signatures, basicConstraints (cA and pathLenConstraint), name constraints, unknown critical
//! extensions, and revocation against the CRLs a caller passes in ([`Crls`]). Signatures go
//! through the vocabulary's algorithm sets (`attested_types::signature`): webpki's own `ring`
//! algorithms under the default backend, the RustCrypto ones under `rustcrypto` (the
//! `rustls-rustcrypto` provider is an alpha that pins RustCrypto pre-releases other than ours,
//! so it was not taken).
//!
//! webpki deliberately ignores the KeyUsage extension for path building; this module checks it
//! on the path webpki returns: every CA certificate with a KeyUsage must allow `keyCertSign`, the
//! signing leaf with a KeyUsage must allow `digitalSignature`. webpki keeps only the name and
//! key of a trust anchor, so the anchor certificate's own pathLenConstraint and KeyUsage are
//! checked here too (a root with pathLen 0 signs leaves only). Extended key usages are not restricted: attestation-signing
//! certificates carry none or TLS ones (NRAS).
//!
//! Chains are validated once, when a key set or document is taken in, at the earliest moment
//! all their certificates are valid; each certificate's window (and each CRL's `nextUpdate`) is
//! kept and checked against every verification's `now`, so that verifying a token costs one
//! signature plus comparisons.
//!
//! Chains validated by this module: Intel Trust Authority (RSA-3072, sha512WithRSA), NVIDIA NRAS
//! (P-384) and AWS Nitro (P-384). Measured costs are in the crate's README.

use std::time::Duration;

use der::asn1::ObjectIdentifier;
use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, TrustAnchor, UnixTime};
use x509_cert::Certificate;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use attested_types::signature::Algorithms;

use crate::backend::{Curve, PublicKey, RsaPublicKeyDer};
use crate::error::{CertificateProblem, Error};

/// The most certificates a chain may hold (leaf, intermediates and root together).
pub const MAX_CHAIN_LEN: usize = 10;

/// The most CRLs one [`Crls`] holds.
pub const MAX_CRLS: usize = 16;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Intel Trust Authority Root CA (self-signed RSA, 2023-09-12 .. 2049-12-30), SHA-256 of the DER
/// de77babfddca9f26881af28a71e37af836a11a125f2ac8a88940efa232c359ea.
const ITA_ROOT_PEM: &str = include_str!("roots/intel-trust-authority-root-ca.pem");
/// AWS Nitro Enclaves root (`CN=aws.nitro-enclaves`, P-384, 2019-10-28 .. 2049-10-28), SHA-256 of
/// the DER 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b.
const AWS_NITRO_ROOT_PEM: &str = include_str!("roots/aws-nitro-enclaves-root.pem");

/// A certificate taken apart once: its key, name, window and KeyUsage.
#[derive(Debug, Clone)]
pub(crate) struct ParsedCert {
    der: Vec<u8>,
    subject_text: String,
    pub(crate) key: PublicKey,
    is_ca: bool,
    path_len: Option<u8>,
    /// `None`: no KeyUsage extension (no restriction, RFC 5280 §4.2.1.3).
    key_usage: Option<KeyUsage>,
    not_before: u64,
    not_after: u64,
}

fn spki_key(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Result<PublicKey, CertificateProblem> {
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CertificateProblem::Malformed(
            "public key bit string".into(),
        ))?;
    if spki.algorithm.oid == RSA_ENCRYPTION {
        let rsa = RsaPublicKeyDer::from_der(bits)
            .map_err(|e| CertificateProblem::Malformed(format!("RSA public key: {e}")))?;
        PublicKey::rsa(rsa.modulus.as_bytes(), rsa.public_exponent.as_bytes())
            .map_err(|_| CertificateProblem::Unsupported("RSA key size"))
    } else if spki.algorithm.oid == EC_PUBLIC_KEY {
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            .ok_or(CertificateProblem::Malformed("EC parameters".into()))?;
        let curve = if curve == SECP256R1 {
            Curve::P256
        } else if curve == SECP384R1 {
            Curve::P384
        } else {
            return Err(CertificateProblem::Unsupported("elliptic curve"));
        };
        PublicKey::ec_point(curve, bits).map_err(|e| CertificateProblem::Malformed(e.to_string()))
    } else {
        Err(CertificateProblem::Unsupported("public key algorithm"))
    }
}

impl ParsedCert {
    /// Parses one DER certificate; `index` only labels errors.
    pub(crate) fn parse(der_bytes: &[u8], index: usize) -> Result<Self, Error> {
        let fail = |problem| Error::Certificate {
            index,
            subject: "?".into(),
            problem,
        };
        let cert = Certificate::from_der(der_bytes)
            .map_err(|e| fail(CertificateProblem::Malformed(e.to_string())))?;
        let tbs_cert = cert.tbs_certificate();
        let subject_text = tbs_cert.subject().to_string();
        let fail = |problem| Error::Certificate {
            index,
            subject: subject_text.clone(),
            problem,
        };
        let key = spki_key(tbs_cert.subject_public_key_info()).map_err(fail)?;
        let constraints = tbs_cert
            .get_extension::<BasicConstraints>()
            .map_err(|e| {
                fail(CertificateProblem::Malformed(format!(
                    "BasicConstraints: {e}"
                )))
            })?
            .map(|(_, constraints)| constraints);
        let is_ca = constraints.as_ref().is_some_and(|c| c.ca);
        let path_len = constraints.and_then(|c| c.path_len_constraint);
        let key_usage = tbs_cert
            .get_extension::<KeyUsage>()
            .map_err(|e| fail(CertificateProblem::Malformed(format!("KeyUsage: {e}"))))?
            .map(|(_, usage)| usage);
        let validity = tbs_cert.validity();
        Ok(ParsedCert {
            der: der_bytes.to_vec(),
            subject_text,
            key,
            is_ca,
            path_len,
            key_usage,
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
        })
    }

    fn allows(&self, usage: KeyUsages) -> bool {
        self.key_usage
            .is_none_or(|KeyUsage(flags)| flags.contains(usage))
    }
}

/// Pinned root certificates that key sets and documents must chain to.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    roots: Vec<ParsedCert>,
    anchors: Vec<TrustAnchor<'static>>,
}

impl TrustRoots {
    /// No roots: nothing chains (use with [`TrustRoots::with_der`] or [`TrustRoots::with_pem`]).
    pub fn empty() -> Self {
        Self::default()
    }

    /// The Intel Trust Authority Root CA, which signs the ITA token-signing chain.
    pub fn intel_trust_authority() -> Self {
        Self::empty().with_pem(ITA_ROOT_PEM).unwrap_or_default()
    }

    /// The AWS Nitro Enclaves root, which signs every Nitro attestation document's chain.
    pub fn aws_nitro() -> Self {
        Self::empty()
            .with_pem(AWS_NITRO_ROOT_PEM)
            .unwrap_or_default()
    }

    /// Adds one DER certificate as a trust anchor (a root, or an intermediate you pin).
    pub fn with_der(mut self, der_bytes: &[u8]) -> Result<Self, Error> {
        let parsed = ParsedCert::parse(der_bytes, 0)?;
        let anchor = webpki::anchor_from_trusted_cert(&CertificateDer::from(der_bytes))
            .map_err(|e| Error::Certificate {
                index: 0,
                subject: parsed.subject_text.clone(),
                problem: CertificateProblem::Malformed(format!("trust anchor: {e}")),
            })?
            .to_owned();
        self.roots.push(parsed);
        self.anchors.push(anchor);
        Ok(self)
    }

    /// Adds every certificate of a PEM text as a trust anchor.
    pub fn with_pem(mut self, pem: &str) -> Result<Self, Error> {
        let certs = Certificate::load_pem_chain(pem.as_bytes())
            .map_err(|e| crate::error::malformed("PEM roots", e))?;
        if certs.is_empty() {
            return Err(crate::error::malformed("PEM roots", "no certificate"));
        }
        for cert in certs {
            let der_bytes = cert
                .to_der()
                .map_err(|e| crate::error::malformed("PEM roots", e))?;
            self = self.with_der(&der_bytes)?;
        }
        Ok(self)
    }

    /// Every anchor of `self` and `other`.
    pub fn merged(mut self, other: &TrustRoots) -> Self {
        self.roots.extend(other.roots.iter().cloned());
        self.anchors.extend(other.anchors.iter().cloned());
        self
    }

    /// How many anchors are pinned.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether no anchor is pinned.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }

    /// The DER of each anchor.
    pub fn iter_der(&self) -> impl Iterator<Item = &[u8]> {
        self.roots.iter().map(|r| r.der.as_slice())
    }
}

/// One parsed CRL with its update window.
#[derive(Debug, Clone)]
struct Crl {
    list: std::sync::Arc<webpki::CertRevocationList<'static>>,
    issuer_text: String,
    next_update: Option<u64>,
}

/// Certificate revocation lists (DER), passed in as bytes like any other collateral: the
/// caller fetches them (ITA: `https://portal.trustauthority.intel.com/crl/ats-ca-crl.der` and
/// `.../root-ca-crl.der`, named in the certificates' CRL distribution points) and this crate
/// checks them.
///
/// With CRLs, every non-anchor certificate of a chain must be covered by a CRL of its issuer
/// whose signature verifies ("unknown status" is a refusal), a listed serial is refused, and a
/// CRL past its `nextUpdate` at verification time is refused. Without CRLs (the default) a
/// revoked signing key keeps verifying until its certificate expires.
#[derive(Debug, Clone, Default)]
pub struct Crls {
    lists: Vec<Crl>,
}

impl Crls {
    /// No CRLs: no revocation checking.
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds one DER CRL (at most [`MAX_CRLS`]).
    pub fn with_der(mut self, der_bytes: &[u8]) -> Result<Self, Error> {
        crate::limits::check("CRL count", self.lists.len() + 1, MAX_CRLS)?;
        let list = webpki::OwnedCertRevocationList::from_der(der_bytes)
            .map_err(|e| crate::error::malformed("CRL", format!("{e:?}")))?;
        let parsed =
            x509_cert::crl::CertificateList::<x509_cert::certificate::Rfc5280>::from_der(der_bytes)
                .map_err(|e| crate::error::malformed("CRL", e))?;
        let tbs = &parsed.tbs_cert_list;
        self.lists.push(Crl {
            list: std::sync::Arc::new(list.into()),
            issuer_text: tbs.issuer.to_string(),
            next_update: tbs.next_update.map(|t| t.to_unix_duration().as_secs()),
        });
        Ok(self)
    }

    /// Whether no CRL was given.
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }
}

/// A chain whose signatures, constraints and revocation status were validated up to a pinned
/// root; only its time windows remain to be checked, against each verification's `now`.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedChain {
    pub(crate) leaf_key: PublicKey,
    /// (subject, not_before, not_after), leaf first, the anchor last.
    windows: Vec<(String, u64, u64)>,
    /// (issuer, nextUpdate) of each CRL the chain was checked against.
    crl_windows: Vec<(String, u64)>,
}

impl VerifiedChain {
    /// Checks every certificate of the chain (and its anchor), and every CRL used, at `now`.
    pub(crate) fn check_time(&self, now: u64) -> Result<(), Error> {
        for (index, (subject, not_before, not_after)) in self.windows.iter().enumerate() {
            let problem = if now < *not_before {
                CertificateProblem::NotYetValid {
                    not_before: *not_before,
                    now,
                }
            } else if now > *not_after {
                CertificateProblem::Expired {
                    not_after: *not_after,
                    now,
                }
            } else {
                continue;
            };
            return Err(Error::Certificate {
                index,
                subject: subject.clone(),
                problem,
            });
        }
        for (issuer, next_update) in &self.crl_windows {
            if now > *next_update {
                return Err(Error::CrlExpired {
                    issuer: issuer.clone(),
                    next_update: *next_update,
                    now,
                });
            }
        }
        Ok(())
    }
}

/// Accepts any extended key usage: attestation-signing certificates carry none, or TLS ones.
struct AnyExtendedKeyUsage;

impl webpki::ExtendedKeyUsageValidator for AnyExtendedKeyUsage {
    fn validate(&self, _iter: webpki::KeyPurposeIdIter<'_, '_>) -> Result<(), webpki::Error> {
        Ok(())
    }
}

/// What webpki's refusal means for this crate's callers.
fn path_problem(error: &webpki::Error) -> CertificateProblem {
    use webpki::Error as W;
    match error {
        W::PathLenConstraintViolated => CertificateProblem::PathLenExceeded,
        W::UnsupportedCriticalExtension => CertificateProblem::UnknownCriticalExtension,
        W::CertRevoked => CertificateProblem::Revoked,
        W::UnknownRevocationStatus => CertificateProblem::RevocationUnknown,
        W::CaUsedAsEndEntity | W::EndEntityUsedAsCa => CertificateProblem::IssuerNotCa,
        W::InvalidSignatureForPublicKey => CertificateProblem::BadSignature,
        W::CertExpired { .. } | W::CertNotValidYet { .. } | W::InvalidCertValidity => {
            CertificateProblem::NoCommonValidity
        }
        W::BadDer | W::BadDerTime | W::TrailingData(_) | W::MalformedExtensions => {
            CertificateProblem::Malformed(format!("{error:?}"))
        }
        other => CertificateProblem::Path(format!("{other:?}")),
    }
}

/// Validates `chain` (leaf first, then intermediates in any order, optionally the root) to one
/// of `roots` with webpki, checks KeyUsage on the path found, and keeps the time windows.
pub(crate) fn verify_chain(
    chain: &[ParsedCert],
    roots: &TrustRoots,
    crls: &Crls,
    algorithms: Algorithms,
) -> Result<VerifiedChain, Error> {
    let Some((leaf, rest)) = chain.split_first() else {
        return Err(Error::UntrustedRoot {
            subject: "(empty chain)".into(),
        });
    };
    if chain.len() > MAX_CHAIN_LEN {
        return Err(Error::ChainTooLong {
            len: chain.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let fail = |problem| Error::Chain {
        subject: leaf.subject_text.clone(),
        problem,
    };
    let leaf_der = CertificateDer::from(leaf.der.as_slice());
    let end_entity =
        webpki::EndEntityCert::try_from(&leaf_der).map_err(|e| fail(path_problem(&e)))?;
    let intermediates: Vec<CertificateDer<'_>> = rest
        .iter()
        .map(|c| CertificateDer::from(c.der.as_slice()))
        .collect();
    // The earliest moment every certificate is valid: the windows themselves are checked
    // against each verification's `now` (VerifiedChain::check_time).
    let reference = chain.iter().map(|c| c.not_before).max().unwrap_or_default();
    let time = UnixTime::since_unix_epoch(Duration::from_secs(reference));
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> =
        crls.lists.iter().map(|crl| &*crl.list).collect();
    let revocation = match webpki::RevocationOptionsBuilder::new(&crl_refs) {
        Ok(builder) => Some(
            builder
                .with_depth(webpki::RevocationCheckDepth::Chain)
                .with_status_policy(webpki::UnknownStatusPolicy::Deny)
                .with_expiration_policy(webpki::ExpirationPolicy::Ignore)
                .build(),
        ),
        // No CRLs given: no revocation checking (documented on `Crls`).
        Err(_) => None,
    };
    let path = end_entity
        .verify_for_usage(
            algorithms,
            &roots.anchors,
            &intermediates,
            time,
            AnyExtendedKeyUsage,
            revocation,
            None,
        )
        .map_err(|e| match e {
            webpki::Error::UnknownIssuer => Error::UntrustedRoot {
                subject: chain
                    .last()
                    .map(|c| c.subject_text.clone())
                    .unwrap_or_default(),
            },
            other => fail(path_problem(&other)),
        })?;

    // KeyUsage on the path webpki chose (it ignores KeyUsage by design).
    if !leaf.allows(KeyUsages::DigitalSignature) {
        return Err(Error::Certificate {
            index: 0,
            subject: leaf.subject_text.clone(),
            problem: CertificateProblem::KeyUsage("digitalSignature"),
        });
    }
    let mut windows = vec![(leaf.subject_text.clone(), leaf.not_before, leaf.not_after)];
    for cert in path.intermediate_certificates() {
        let der = cert.der();
        let Some((index, parsed)) = chain
            .iter()
            .enumerate()
            .find(|(_, c)| c.der.as_slice() == der.as_ref())
        else {
            continue;
        };
        if !parsed.is_ca || !parsed.allows(KeyUsages::KeyCertSign) {
            return Err(Error::Certificate {
                index,
                subject: parsed.subject_text.clone(),
                problem: CertificateProblem::KeyUsage("keyCertSign"),
            });
        }
        windows.push((
            parsed.subject_text.clone(),
            parsed.not_before,
            parsed.not_after,
        ));
    }
    let anchor_subject = path.anchor().subject.as_ref();
    if let Some(root) = roots
        .roots
        .iter()
        .zip(&roots.anchors)
        .find_map(|(root, anchor)| {
            (anchor.subject.as_ref() == anchor_subject
                && anchor.subject_public_key_info.as_ref()
                    == path.anchor().subject_public_key_info.as_ref())
            .then_some(root)
        })
    {
        let below = windows.len() - 1;
        let fail_root = |problem| Error::Certificate {
            index: windows.len(),
            subject: root.subject_text.clone(),
            problem,
        };
        if root.path_len.is_some_and(|max| below > usize::from(max)) {
            return Err(fail_root(CertificateProblem::PathLenExceeded));
        }
        if !root.allows(KeyUsages::KeyCertSign) {
            return Err(fail_root(CertificateProblem::KeyUsage("keyCertSign")));
        }
        windows.push((root.subject_text.clone(), root.not_before, root.not_after));
    }
    let crl_windows = crls
        .lists
        .iter()
        .filter_map(|crl| Some((crl.issuer_text.clone(), crl.next_update?)))
        .collect();
    Ok(VerifiedChain {
        leaf_key: leaf.key.clone(),
        windows,
        crl_windows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest as _, Sha256};

    #[test]
    fn pinned_roots_have_their_published_fingerprints() {
        let fingerprint = |roots: TrustRoots| {
            let ders: Vec<_> = roots
                .iter_der()
                .map(|d| hex::encode(Sha256::digest(d)))
                .collect();
            ders
        };
        assert_eq!(
            fingerprint(TrustRoots::intel_trust_authority()),
            ["de77babfddca9f26881af28a71e37af836a11a125f2ac8a88940efa232c359ea"]
        );
        assert_eq!(
            fingerprint(TrustRoots::aws_nitro()),
            ["641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"]
        );
    }

    #[test]
    fn garbage_certificates_are_malformed_not_panics() {
        for bytes in [
            &b""[..],
            b"\x30",
            b"\x30\x03\x02\x01\x01",
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
        ] {
            assert!(matches!(
                ParsedCert::parse(bytes, 3),
                Err(Error::Certificate {
                    index: 3,
                    problem: CertificateProblem::Malformed(_),
                    ..
                })
            ));
        }
        assert!(TrustRoots::empty().with_pem("no pem here").is_err());
    }

    #[test]
    fn empty_chain_is_refused() {
        assert!(
            verify_chain(
                &[],
                &TrustRoots::aws_nitro(),
                &Crls::none(),
                crate::Backend::default().algorithms()
            )
            .is_err()
        );
    }
}
