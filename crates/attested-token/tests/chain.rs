//! X.509 path constraints and revocation, each refused with a chain built for the attack
//! (x509-cert builder, P-384 keys we hold): pathLenConstraint, KeyUsage on CAs and on the
//! signer, unknown critical extensions, CRL revocation, missing CRL coverage, stale CRLs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::str::FromStr as _;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use der::asn1::{BitString, ObjectIdentifier, OctetString};
use der::{Encode as _, flagset::FlagSet};
use p384::ecdsa::{DerSignature, Signature, SigningKey, signature::Signer as _};
use x509_cert::builder::{Builder as _, CertificateBuilder, profile::BuilderProfile};
use x509_cert::crl::{CertificateList, RevokedCert, TbsCertList};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::{Extension, ToExtension as _};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfo, SubjectPublicKeyInfoRef};
use x509_cert::time::{Time, Validity};

use attested_token::jwt::{Jwks, JwtVerifier, KeySet};
use attested_token::x509::{Crls, TrustRoots};
use attested_token::{Backend, CertificateProblem, Error, UnixTime};

const NOT_BEFORE: u64 = 1_700_000_000;
const NOT_AFTER: u64 = 1_900_000_000;
const IAT: u64 = 1_750_000_000;
const ECDSA_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.3");

fn at(s: u64) -> UnixTime {
    UnixTime(s)
}

fn time(s: u64) -> Time {
    Time::try_from(std::time::SystemTime::from(at(s))).unwrap()
}

fn key(n: u8) -> SigningKey {
    SigningKey::from_slice(&[n; 48]).unwrap()
}

/// What a certificate of a test chain says about itself.
#[derive(Clone)]
struct Spec {
    ca: bool,
    path_len: Option<u8>,
    key_usage: Option<FlagSet<KeyUsages>>,
    unknown_critical: bool,
}

impl Spec {
    fn ca() -> Self {
        Spec {
            ca: true,
            path_len: None,
            key_usage: Some(KeyUsages::KeyCertSign | KeyUsages::CRLSign),
            unknown_critical: false,
        }
    }

    fn leaf() -> Self {
        Spec {
            ca: false,
            path_len: None,
            key_usage: Some(KeyUsages::DigitalSignature.into()),
            unknown_critical: false,
        }
    }
}

struct Profile {
    subject: Name,
    issuer: Name,
    spec: Spec,
}

impl BuilderProfile for Profile {
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
        let mut extensions = vec![
            BasicConstraints {
                ca: self.spec.ca,
                path_len_constraint: self.spec.path_len,
            }
            .to_extension(tbs.subject(), &[])?,
        ];
        if let Some(usage) = self.spec.key_usage {
            extensions.push(KeyUsage(usage).to_extension(tbs.subject(), &[])?);
        }
        if self.spec.unknown_critical {
            extensions.push(Extension {
                extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.55555.1"),
                critical: true,
                extn_value: OctetString::new(vec![0x05, 0x00])?,
            });
        }
        Ok(extensions)
    }
}

fn certificate(
    subject: &str,
    issuer: &str,
    serial: u32,
    spec: Spec,
    key: &SigningKey,
    signer: &SigningKey,
) -> Vec<u8> {
    let profile = Profile {
        subject: Name::from_str(subject).unwrap(),
        issuer: Name::from_str(issuer).unwrap(),
        spec,
    };
    let spki = SubjectPublicKeyInfo::from_key(key.verifying_key()).unwrap();
    let validity = Validity::new(time(NOT_BEFORE), time(NOT_AFTER));
    CertificateBuilder::new(profile, SerialNumber::from(serial), validity, spki)
        .unwrap()
        .build::<_, DerSignature>(signer)
        .unwrap()
        .to_der()
        .unwrap()
}

/// A CRL by `issuer` (signed with `signer`) listing `revoked` serials, valid until `next_update`.
fn crl(issuer: &str, signer: &SigningKey, revoked: &[u32], next_update: u64) -> Vec<u8> {
    let algorithm = AlgorithmIdentifierOwned {
        oid: ECDSA_SHA384,
        parameters: None,
    };
    let revoked: Vec<RevokedCert> = revoked
        .iter()
        .map(|&serial| RevokedCert {
            serial_number: SerialNumber::from(serial),
            revocation_date: time(IAT - 100),
            crl_entry_extensions: None,
        })
        .collect();
    let tbs = TbsCertList {
        version: x509_cert::Version::V2,
        signature: algorithm.clone(),
        issuer: Name::from_str(issuer).unwrap(),
        this_update: time(IAT - 100),
        next_update: Some(time(next_update)),
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        // RFC 5280 §5.2.3: a conforming CRL carries its cRLNumber (webpki requires it).
        crl_extensions: Some(vec![Extension {
            extn_id: ObjectIdentifier::new_unwrap("2.5.29.20"),
            critical: false,
            extn_value: OctetString::new(vec![0x02, 0x01, 0x01]).unwrap(),
        }]),
    };
    let signature: DerSignature = signer.sign(&tbs.to_der().unwrap());
    CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm: algorithm,
        signature: BitString::from_bytes(signature.to_bytes().as_ref()).unwrap(),
    }
    .to_der()
    .unwrap()
}

const ROOT: &str = "CN=Test Root";
const CA: &str = "CN=Test Signing CA";
const LEAF: &str = "CN=Test Token Signing";
const LEAF_SERIAL: u32 = 3;

/// root -> CA -> leaf, with the specs given; the token is signed by the leaf's key.
struct Chain {
    root: Vec<u8>,
    ca: Vec<u8>,
    leaf: Vec<u8>,
}

fn chain(root: Spec, ca: Spec, leaf: Spec) -> Chain {
    Chain {
        root: certificate(ROOT, ROOT, 1, root, &key(1), &key(1)),
        ca: certificate(CA, ROOT, 2, ca, &key(2), &key(1)),
        leaf: certificate(LEAF, CA, LEAF_SERIAL, leaf, &key(3), &key(2)),
    }
}

fn token() -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES384","kid":"k"}"#),
        URL_SAFE_NO_PAD
            .encode(serde_json::json!({"iat": IAT, "nbf": IAT, "exp": IAT + 300}).to_string())
    );
    let signature: Signature = key(3).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

fn jwks(chain: &Chain) -> Jwks {
    let point = key(3).verifying_key().to_sec1_point(false);
    let json = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-384", "alg": "ES384", "kid": "k",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        "x5c": [STANDARD.encode(&chain.leaf), STANDARD.encode(&chain.ca)],
    }]});
    Jwks::from_json(json.to_string().as_bytes()).unwrap()
}

/// Verifies the token at IAT with every backend; all backends must agree.
fn verify(chain: &Chain, crls: &Crls, now: u64) -> Result<(), Error> {
    let roots = TrustRoots::empty().with_der(&chain.root).unwrap();
    let mut results = Backend::all().iter().map(|&backend| {
        let keys = KeySet::chained_with_crls(&jwks(chain), &roots, crls, backend);
        JwtVerifier::new(keys).verify(&token(), at(now)).map(|_| ())
    });
    let first = results.next().unwrap();
    for other in results {
        assert_eq!(other, first, "backends disagree");
    }
    first
}

/// The chain's refusal reason, from the key's `UntrustedKey` error.
fn refusal(result: Result<(), Error>) -> Error {
    match result {
        Err(Error::UntrustedKey { reason, .. }) => *reason,
        other => panic!("expected an untrusted key, got {other:?}"),
    }
}

fn problem(error: &Error) -> &CertificateProblem {
    match error {
        Error::Chain { problem, .. } | Error::Certificate { problem, .. } => problem,
        other => panic!("expected a certificate problem, got {other:?}"),
    }
}

#[test]
fn well_formed_chain_verifies() {
    verify(
        &chain(Spec::ca(), Spec::ca(), Spec::leaf()),
        &Crls::none(),
        IAT,
    )
    .unwrap();
}

#[test]
fn path_len_of_the_root_is_enforced() {
    // The issue's attack: root(pathLen 0) -> Sub CA -> leaf.
    let root = Spec {
        path_len: Some(0),
        ..Spec::ca()
    };
    let err = refusal(verify(
        &chain(root, Spec::ca(), Spec::leaf()),
        &Crls::none(),
        IAT,
    ));
    assert_eq!(problem(&err), &CertificateProblem::PathLenExceeded, "{err}");
    // pathLen 1 allows the one intermediate.
    let root = Spec {
        path_len: Some(1),
        ..Spec::ca()
    };
    verify(&chain(root, Spec::ca(), Spec::leaf()), &Crls::none(), IAT).unwrap();
}

#[test]
fn path_len_of_an_intermediate_is_enforced() {
    // root -> CA(pathLen 0) -> CA2 -> leaf: webpki's own check.
    let root = certificate(ROOT, ROOT, 1, Spec::ca(), &key(1), &key(1));
    let ca = certificate(
        CA,
        ROOT,
        2,
        Spec {
            path_len: Some(0),
            ..Spec::ca()
        },
        &key(2),
        &key(1),
    );
    let ca2 = certificate("CN=Test CA 2", CA, 4, Spec::ca(), &key(4), &key(2));
    let leaf = certificate(
        LEAF,
        "CN=Test CA 2",
        LEAF_SERIAL,
        Spec::leaf(),
        &key(3),
        &key(4),
    );
    let point = key(3).verifying_key().to_sec1_point(false);
    let json = serde_json::json!({"keys": [{
        "kty": "EC", "crv": "P-384", "kid": "k",
        "x": URL_SAFE_NO_PAD.encode(point.x().unwrap()),
        "y": URL_SAFE_NO_PAD.encode(point.y().unwrap()),
        "x5c": [STANDARD.encode(&leaf), STANDARD.encode(&ca2), STANDARD.encode(&ca)],
    }]});
    let jwks = Jwks::from_json(json.to_string().as_bytes()).unwrap();
    let roots = TrustRoots::empty().with_der(&root).unwrap();
    let err = JwtVerifier::new(KeySet::chained(&jwks, &roots))
        .verify(&token(), at(IAT))
        .map(|_| ());
    let err = refusal(err);
    assert_eq!(problem(&err), &CertificateProblem::PathLenExceeded, "{err}");
}

#[test]
fn a_ca_without_key_cert_sign_is_refused() {
    let ca = Spec {
        key_usage: Some(KeyUsages::DigitalSignature.into()),
        ..Spec::ca()
    };
    let err = refusal(verify(
        &chain(Spec::ca(), ca, Spec::leaf()),
        &Crls::none(),
        IAT,
    ));
    assert_eq!(
        problem(&err),
        &CertificateProblem::KeyUsage("keyCertSign"),
        "{err}"
    );
    // Nor a root whose KeyUsage lacks it.
    let root = Spec {
        key_usage: Some(KeyUsages::CRLSign.into()),
        ..Spec::ca()
    };
    let err = refusal(verify(
        &chain(root, Spec::ca(), Spec::leaf()),
        &Crls::none(),
        IAT,
    ));
    assert_eq!(
        problem(&err),
        &CertificateProblem::KeyUsage("keyCertSign"),
        "{err}"
    );
}

#[test]
fn a_signer_without_digital_signature_is_refused() {
    let leaf = Spec {
        key_usage: Some(KeyUsages::KeyCertSign.into()),
        ..Spec::leaf()
    };
    let err = refusal(verify(
        &chain(Spec::ca(), Spec::ca(), leaf),
        &Crls::none(),
        IAT,
    ));
    assert_eq!(
        problem(&err),
        &CertificateProblem::KeyUsage("digitalSignature"),
        "{err}"
    );
}

#[test]
fn unknown_critical_extensions_are_refused() {
    for (ca, leaf) in [(false, true), (true, false)] {
        let ca_spec = Spec {
            unknown_critical: ca,
            ..Spec::ca()
        };
        let leaf_spec = Spec {
            unknown_critical: leaf,
            ..Spec::leaf()
        };
        let err = refusal(verify(
            &chain(Spec::ca(), ca_spec, leaf_spec),
            &Crls::none(),
            IAT,
        ));
        assert_eq!(
            problem(&err),
            &CertificateProblem::UnknownCriticalExtension,
            "{err}"
        );
    }
}

fn crls(ders: &[Vec<u8>]) -> Crls {
    ders.iter()
        .fold(Crls::none(), |crls, der| crls.with_der(der).unwrap())
}

#[test]
fn a_revoked_signer_is_refused_with_crls() {
    let chain = chain(Spec::ca(), Spec::ca(), Spec::leaf());
    let root_crl = crl(ROOT, &key(1), &[], NOT_AFTER);
    let clean = crl(CA, &key(2), &[99], NOT_AFTER);
    verify(&chain, &crls(&[root_crl.clone(), clean]), IAT).unwrap();

    let revoking = crl(CA, &key(2), &[99, LEAF_SERIAL], NOT_AFTER);
    let err = refusal(verify(
        &chain,
        &crls(&[root_crl.clone(), revoking.clone()]),
        IAT,
    ));
    assert_eq!(problem(&err), &CertificateProblem::Revoked, "{err}");
    // Without CRLs the same revoked key verifies: what a caller loses by passing none.
    verify(&chain, &Crls::none(), IAT).unwrap();

    // A revoked intermediate, by the root's CRL.
    let root_revoking = crl(ROOT, &key(1), &[2], NOT_AFTER);
    let clean = crl(CA, &key(2), &[], NOT_AFTER);
    let err = refusal(verify(&chain, &crls(&[root_revoking, clean]), IAT));
    assert_eq!(problem(&err), &CertificateProblem::Revoked, "{err}");
}

#[test]
fn crls_must_cover_the_chain_be_signed_by_the_issuer_and_be_current() {
    let chain = chain(Spec::ca(), Spec::ca(), Spec::leaf());
    let root_crl = crl(ROOT, &key(1), &[], NOT_AFTER);
    // Only the root's CRL: the leaf's status is unknown, which is a refusal.
    let err = refusal(verify(&chain, &crls(std::slice::from_ref(&root_crl)), IAT));
    assert_eq!(
        problem(&err),
        &CertificateProblem::RevocationUnknown,
        "{err}"
    );
    // A CRL naming the CA but signed by another key does not count.
    let forged = crl(CA, &key(9), &[], NOT_AFTER);
    let err = refusal(verify(&chain, &crls(&[root_crl.clone(), forged]), IAT));
    assert!(matches!(err, Error::Chain { .. }), "{err}");
    // A CRL past its nextUpdate at verification time.
    let stale = crl(CA, &key(2), &[], IAT + 10);
    let set = crls(&[root_crl, stale]);
    verify(&chain, &set, IAT).unwrap();
    let err = refusal(verify(&chain, &set, IAT + 11));
    assert!(
        matches!(err, Error::CrlExpired { next_update, .. } if next_update == IAT + 10),
        "{err}"
    );
}

#[test]
fn garbage_crls_are_malformed() {
    assert!(matches!(
        Crls::none().with_der(b"\x30\x03\x02\x01\x01"),
        Err(Error::Malformed { .. })
    ));
}

/// An ITA-shaped token (claims from the simulator) signed by the test chain's leaf.
#[cfg(feature = "sim")]
fn ita_token() -> String {
    let sim = attested_token::sim::SimIssuer::new([7; 32]).unwrap();
    let claims = sim.ita_claims(&attested_token::sim::SimTd::default(), IAT, 300);
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"ES384","kid":"k"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature: Signature = key(3).sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

#[cfg(feature = "sim")]
#[test]
fn ita_verifier_with_crls_refuses_a_revoked_signer() {
    use attested_token::ita::ItaVerifier;
    let chain = chain(Spec::ca(), Spec::ca(), Spec::leaf());
    let roots = TrustRoots::empty().with_der(&chain.root).unwrap();
    let root_crl = crl(ROOT, &key(1), &[], NOT_AFTER);
    // The ATS-CA-shaped CRL lists the signer.
    let ats_crl = crl(CA, &key(2), &[LEAF_SERIAL], NOT_AFTER);
    let crls = Crls::none()
        .with_der(&ats_crl)
        .unwrap()
        .with_der(&root_crl)
        .unwrap();
    let err = ItaVerifier::with_crls(&jwks(&chain), &roots, &crls)
        .verify(&ita_token(), at(IAT + 1))
        .unwrap_err();
    let reason = refusal(Err(err));
    assert_eq!(problem(&reason), &CertificateProblem::Revoked, "{reason}");
    // The same token without CRLs verifies: the revocation a caller gives up.
    ItaVerifier::new(&jwks(&chain), &roots)
        .verify(&ita_token(), at(IAT + 1))
        .unwrap();
    // With clean CRLs it verifies too.
    let clean = Crls::none()
        .with_der(&crl(CA, &key(2), &[], NOT_AFTER))
        .unwrap()
        .with_der(&root_crl)
        .unwrap();
    ItaVerifier::with_crls(&jwks(&chain), &roots, &clean)
        .verify(&ita_token(), at(IAT + 1))
        .unwrap();
}
