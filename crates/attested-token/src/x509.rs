//! X.509 chains: pinned roots and chain verification for JWKS `x5c` and Nitro `cabundle`.
//!
//! Signatures are checked once, when a key set or document is taken in; the validity windows
//! are kept and checked against each verification's `now`.

use der::asn1::{ObjectIdentifier, UintRef};
use der::{Decode, Encode, Reader, SliceReader};
use x509_cert::Certificate;
use x509_cert::ext::pkix::BasicConstraints;

use crate::backend::{self, Backend, Curve, Hash, PublicKey, Scheme};
use crate::error::{CertificateProblem, Error};

/// The most certificates a chain may hold (leaf, intermediates and root together).
pub const MAX_CHAIN_LEN: usize = 10;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const SHA256_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const SHA384_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.12");
const SHA512_WITH_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.13");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");

/// Intel Trust Authority Root CA (self-signed RSA, 2023-09-12 .. 2049-12-30), SHA-256 of the DER
/// de77babfddca9f26881af28a71e37af836a11a125f2ac8a88940efa232c359ea.
const ITA_ROOT_PEM: &str = include_str!("roots/intel-trust-authority-root-ca.pem");
/// AWS Nitro Enclaves root (`CN=aws.nitro-enclaves`, P-384, 2019-10-28 .. 2049-10-28), SHA-256 of
/// the DER 641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b.
const AWS_NITRO_ROOT_PEM: &str = include_str!("roots/aws-nitro-enclaves-root.pem");

/// A certificate taken apart once: its key, names, window and the bytes its signature covers.
#[derive(Debug, Clone)]
pub(crate) struct ParsedCert {
    der: Vec<u8>,
    tbs: Vec<u8>,
    subject: x509_cert::name::Name,
    issuer: x509_cert::name::Name,
    subject_text: String,
    pub(crate) key: PublicKey,
    scheme: Result<Scheme, &'static str>,
    signature: Vec<u8>,
    is_ca: bool,
    not_before: u64,
    not_after: u64,
}

/// The bytes of the first element inside the outer SEQUENCE (the TBSCertificate as sent,
/// not as re-encoded, so that a non-canonical encoding cannot verify by accident).
fn tbs_bytes(der_bytes: &[u8]) -> der::Result<&[u8]> {
    let mut reader = SliceReader::new(der_bytes)?;
    let header = der::Header::decode(&mut reader)?;
    let body = reader.read_slice(header.length())?;
    reader.finish()?;
    let mut inner = SliceReader::new(body)?;
    inner.tlv_bytes()
}

#[derive(der::Sequence)]
struct RsaPublicKeyDer<'a> {
    modulus: UintRef<'a>,
    public_exponent: UintRef<'a>,
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

fn signature_scheme(oid: ObjectIdentifier) -> Result<Scheme, &'static str> {
    Ok(match oid {
        o if o == SHA256_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha256),
        o if o == SHA384_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha384),
        o if o == SHA512_WITH_RSA => Scheme::RsaPkcs1(Hash::Sha512),
        o if o == ECDSA_SHA256 => Scheme::EcdsaDer(Hash::Sha256),
        o if o == ECDSA_SHA384 => Scheme::EcdsaDer(Hash::Sha384),
        _ => return Err("signature algorithm"),
    })
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
        let tbs =
            tbs_bytes(der_bytes).map_err(|e| fail(CertificateProblem::Malformed(e.to_string())))?;
        let tbs_cert = cert.tbs_certificate();
        let subject_text = tbs_cert.subject().to_string();
        let fail = |problem| Error::Certificate {
            index,
            subject: subject_text.clone(),
            problem,
        };
        let key = spki_key(tbs_cert.subject_public_key_info()).map_err(fail)?;
        let scheme = if tbs_cert.signature() == cert.signature_algorithm() {
            signature_scheme(cert.signature_algorithm().oid)
        } else {
            Err("signature algorithm (inner and outer differ)")
        };
        let is_ca = matches!(
            tbs_cert.get_extension::<BasicConstraints>(),
            Ok(Some((_, BasicConstraints { ca: true, .. })))
        );
        let validity = tbs_cert.validity();
        Ok(ParsedCert {
            der: der_bytes.to_vec(),
            tbs: tbs.to_vec(),
            subject: tbs_cert.subject().clone(),
            issuer: tbs_cert.issuer().clone(),
            subject_text,
            key,
            scheme,
            signature: cert.signature().raw_bytes().to_vec(),
            is_ca,
            not_before: validity.not_before.to_unix_duration().as_secs(),
            not_after: validity.not_after.to_unix_duration().as_secs(),
        })
    }

    /// Whether `issuer` signed this certificate.
    fn check_issued_by(
        &self,
        issuer: &ParsedCert,
        backend: Backend,
    ) -> Result<(), CertificateProblem> {
        if self.issuer != issuer.subject {
            return Err(CertificateProblem::IssuerMismatch);
        }
        if !issuer.is_ca {
            return Err(CertificateProblem::IssuerNotCa);
        }
        let scheme = self.scheme.map_err(CertificateProblem::Unsupported)?;
        if backend::verify(backend, scheme, &issuer.key, &self.tbs, &self.signature) {
            Ok(())
        } else {
            Err(CertificateProblem::BadSignature)
        }
    }
}

/// Pinned root certificates that key sets and documents must chain to.
#[derive(Debug, Clone, Default)]
pub struct TrustRoots {
    roots: Vec<ParsedCert>,
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
        self.roots.push(ParsedCert::parse(der_bytes, 0)?);
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
            self.roots.push(ParsedCert::parse(&der_bytes, 0)?);
        }
        Ok(self)
    }

    /// Every anchor of `self` and `other`.
    pub fn merged(mut self, other: &TrustRoots) -> Self {
        self.roots.extend(other.roots.iter().cloned());
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

/// A chain whose signatures verified up to a pinned root; only its time windows remain to be
/// checked, against each verification's `now`.
#[derive(Debug, Clone)]
pub(crate) struct VerifiedChain {
    pub(crate) leaf_key: PublicKey,
    /// (subject, not_before, not_after), leaf first, the anchor last.
    windows: Vec<(String, u64, u64)>,
}

impl VerifiedChain {
    /// Checks every certificate of the chain (and its anchor) at `now`.
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
        Ok(())
    }
}

/// Verifies a chain given leaf first. The chain is trusted when one of its certificates is a
/// pinned anchor (byte for byte), or its last certificate is signed by one.
pub(crate) fn verify_chain(
    chain: &[ParsedCert],
    roots: &TrustRoots,
    backend: Backend,
) -> Result<VerifiedChain, Error> {
    if chain.len() > MAX_CHAIN_LEN {
        return Err(Error::ChainTooLong {
            len: chain.len(),
            max: MAX_CHAIN_LEN,
        });
    }
    let leaf = chain.first().ok_or(Error::ChainTooLong {
        len: 0,
        max: MAX_CHAIN_LEN,
    })?;
    let mut windows = Vec::with_capacity(chain.len() + 1);
    for (index, cert) in chain.iter().enumerate() {
        windows.push((cert.subject_text.clone(), cert.not_before, cert.not_after));
        if roots.roots.iter().any(|root| root.der == cert.der) {
            return Ok(VerifiedChain {
                leaf_key: leaf.key.clone(),
                windows,
            });
        }
        let fail = |problem| Error::Certificate {
            index,
            subject: cert.subject_text.clone(),
            problem,
        };
        if let Some(issuer) = chain.get(index + 1) {
            cert.check_issued_by(issuer, backend).map_err(fail)?;
            continue;
        }
        // The last certificate: it must be issued by a pinned anchor.
        let mut candidates = roots
            .roots
            .iter()
            .filter(|root| root.subject == cert.issuer)
            .peekable();
        if candidates.peek().is_none() {
            return Err(Error::UntrustedRoot {
                subject: cert.subject_text.clone(),
            });
        }
        let mut last_problem = CertificateProblem::IssuerMismatch;
        for root in candidates {
            match cert.check_issued_by(root, backend) {
                Ok(()) => {
                    windows.push((root.subject_text.clone(), root.not_before, root.not_after));
                    return Ok(VerifiedChain {
                        leaf_key: leaf.key.clone(),
                        windows,
                    });
                }
                Err(problem) => last_problem = problem,
            }
        }
        return Err(fail(last_problem));
    }
    Err(Error::UntrustedRoot {
        subject: leaf.subject_text.clone(),
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
        assert!(verify_chain(&[], &TrustRoots::aws_nitro(), Backend::default()).is_err());
    }
}
