//! AWS Nitro attestation documents: real documents against the AWS root.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use attested_token::nitro::{CoseSign1, NitroPolicy, NitroVerifier};
use attested_token::x509::TrustRoots;
use attested_token::{Backend, Error, Limits, UnixTime};
use base64::Engine as _;

fn at(seconds: u64) -> UnixTime {
    UnixTime(seconds)
}

/// (file, timestamp in seconds from SOURCES.md, is debug)
const DOCS: &[(&str, u64, bool)] = &[
    (
        "tokens/nitro/libsignal/test_cose_sign1_01.dat",
        1_684_358_511,
        true,
    ),
    (
        "tokens/nitro/libsignal/test_cose_sign1_02.dat",
        1_684_948_068,
        false,
    ),
    (
        "tokens/nitro/evervault/test-data/beta/valid-attestation-doc-bytes",
        1_665_651_482,
        false,
    ),
    (
        "tokens/nitro/evervault/test-data/beta/debug-mode-attestation-doc-bytes",
        1_665_582_606,
        true,
    ),
];

fn evervault_base64_doc() -> Option<Vec<u8>> {
    let text =
        attested_testdata::read("tokens/nitro/evervault/test-data/valid-attestation-doc-base64")?;
    let text: Vec<u8> = text
        .into_iter()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    Some(
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .unwrap(),
    )
}

#[test]
fn every_document_verifies_at_its_time_with_every_backend() {
    for &(file, ts, debug) in DOCS {
        let Some(doc) = attested_testdata::read(file) else {
            return;
        };
        for &backend in Backend::all() {
            let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
                .backend(backend)
                .verify(&doc, at(ts + 30))
                .unwrap_or_else(|e| panic!("{file}: {e}"));
            assert_eq!(verified.timestamp_ms / 1000, ts, "{file}");
            assert_eq!(verified.is_debug(), debug, "{file}");
        }
    }
    let Some(doc) = evervault_base64_doc() else {
        return;
    };
    let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
        .verify(&doc, at(1_695_049_410 + 30))
        .unwrap();
    assert!(verified.is_debug());
    assert_eq!(verified.nonce.as_ref().unwrap().len(), 256);
}

#[test]
fn debug_documents_are_refused_by_the_default_policy() {
    for &(file, ts, debug) in DOCS {
        let Some(doc) = attested_testdata::read(file) else {
            return;
        };
        let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
            .verify(&doc, at(ts))
            .unwrap();
        let verdict = NitroPolicy::new().appraise(&verified);
        if debug {
            assert!(matches!(verdict, Err(Error::Debug(_))), "{file}");
            NitroPolicy::new()
                .allow_debug()
                .appraise(&verified)
                .unwrap();
        } else {
            verdict.unwrap();
        }
    }
}

#[test]
fn sig_structure_equals_libsignal_canonical_vector() {
    let (Some(doc), Some(expected)) = (
        attested_testdata::read("tokens/nitro/libsignal/test_cose_sign1_01.dat"),
        attested_testdata::read("tokens/nitro/libsignal/cose_sign1_canonical.dat"),
    ) else {
        return;
    };
    let cose = CoseSign1::parse(&doc, Limits::default().document).unwrap();
    assert_eq!(cose.to_be_signed(), expected);
}

#[test]
fn policy_checks_pcrs_nonce_user_data_and_public_key() {
    let Some(doc) = attested_testdata::read(DOCS[3].0) else {
        return;
    };
    let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
        .verify(&doc, at(DOCS[3].1))
        .unwrap();
    assert_eq!(verified.user_data.as_deref(), Some(&b"hello, world!"[..]));
    assert_eq!(
        verified.public_key.as_deref(),
        Some(&b"my super secret key"[..])
    );
    let policy = NitroPolicy::new()
        .allow_debug()
        .expect_pcr(0, &[0; 48])
        .expect_user_data(b"hello, world!")
        .expect_public_key(b"my super secret key");
    policy.appraise(&verified).unwrap();
    let err = policy
        .clone()
        .expect_user_data(b"hello")
        .appraise(&verified)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "user_data"),
        "{err}"
    );
    let err = policy
        .clone()
        .expect_pcr(0, &[1; 48])
        .appraise(&verified)
        .unwrap_err();
    assert!(
        matches!(&err, Error::Mismatch { field, .. } if field == "PCR0"),
        "{err}"
    );
    // This document carries no nonce.
    assert_eq!(
        policy.expect_nonce(b"n").appraise(&verified),
        Err(Error::MissingClaim("nonce"))
    );
    // The non-debug document against its published PCR8.
    let Some(doc) = attested_testdata::read(DOCS[2].0) else {
        return;
    };
    let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
        .verify(&doc, at(DOCS[2].1))
        .unwrap();
    let pcr0 = verified.pcrs[&0].clone();
    NitroPolicy::new()
        .expect_pcr(0, &pcr0)
        .appraise(&verified)
        .unwrap();
}

#[test]
fn time_rules_apply_to_timestamp_and_chain() {
    let (file, ts, _) = DOCS[0];
    let Some(doc) = attested_testdata::read(file) else {
        return;
    };
    let verifier = NitroVerifier::new(&TrustRoots::aws_nitro());
    // Default maximum age 5 minutes (plus skew).
    assert!(verifier.verify(&doc, at(ts + 360)).is_ok());
    assert!(matches!(
        verifier.verify(&doc, at(ts + 361)),
        Err(Error::TooOld { .. })
    ));
    // The leaf certificate starts 3 s before the timestamp: before that, the chain refuses.
    assert!(matches!(
        verifier.verify(&doc, at(ts - 61)),
        Err(Error::Certificate {
            index: 0,
            problem: attested_token::CertificateProblem::NotYetValid { .. },
            ..
        })
    ));
    // Without a maximum age, the leaf certificate (valid 3 hours) still bounds it.
    let lax = verifier.clone().max_age(None);
    assert!(lax.verify(&doc, at(ts + 2 * 3600)).is_ok());
    assert!(matches!(
        lax.verify(&doc, at(ts + 4 * 3600)),
        Err(Error::Certificate { index: 0, .. })
    ));
}

#[test]
fn tampered_and_foreign_documents_are_refused() {
    let (file, ts, _) = DOCS[2];
    let Some(doc) = attested_testdata::read(file) else {
        return;
    };
    let verifier = NitroVerifier::new(&TrustRoots::aws_nitro());
    // Flip a bit of the signature (the last bytes of the document).
    let mut flipped = doc.clone();
    *flipped.last_mut().unwrap() ^= 1;
    assert!(matches!(
        verifier.verify(&flipped, at(ts)),
        Err(Error::BadSignature { .. })
    ));
    // Flip a bit inside module_id (in the payload, early in the document).
    let mut flipped = doc.clone();
    let position = doc.windows(9).position(|w| w == b"module_id").unwrap() + 12;
    flipped[position] ^= 1;
    assert!(matches!(
        verifier.verify(&flipped, at(ts)),
        Err(Error::BadSignature { .. })
    ));
    // Another root.
    let err = NitroVerifier::new(&TrustRoots::intel_trust_authority())
        .verify(&doc, at(ts))
        .unwrap_err();
    assert!(
        matches!(err, Error::UntrustedRoot { .. } | Error::Certificate { .. }),
        "{err}"
    );
    // Oversize and trailing bytes.
    let small = verifier.clone().limits(Limits {
        document: doc.len() - 1,
        ..Limits::default()
    });
    assert!(matches!(
        small.verify(&doc, at(ts)),
        Err(Error::TooLarge { .. })
    ));
    let mut trailing = doc.clone();
    trailing.push(0);
    assert!(matches!(
        verifier.verify(&trailing, at(ts)),
        Err(Error::Malformed { .. })
    ));
}

/// Evervault's TLS certificates carry a hex Nitro document in their longest DNS SAN label.
fn document_in_certificate(der_bytes: &[u8]) -> Vec<u8> {
    use der::Decode as _;
    use x509_cert::ext::pkix::SubjectAltName;
    use x509_cert::ext::pkix::name::GeneralName;
    let cert = x509_cert::Certificate::from_der(der_bytes).unwrap();
    let (_, san) = cert
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .unwrap()
        .unwrap();
    let label = san
        .0
        .iter()
        .filter_map(|name| match name {
            GeneralName::DnsName(dns) => Some(dns.as_str().to_owned()),
            _ => None,
        })
        .flat_map(|dns| dns.split('.').map(str::to_owned).collect::<Vec<_>>())
        .max_by_key(String::len)
        .unwrap();
    hex::decode(label).unwrap()
}

#[test]
fn documents_embedded_in_evervault_certificates_match_their_published_pcrs() {
    let base = "tokens/nitro/evervault/";
    // (certificate, spec, a time inside the inner document's leaf window, is debug)
    let cases = [
        (
            "test-data/beta/non-debug-cert-containing-attestation-document-18-1-23.pem",
            "test-specs/beta/valid_attestation_doc_in_non_debug_mode_with_correct_pcrs_time_sensitive.json",
            1_674_047_280,
            false,
        ),
        (
            "test-data/beta/non-debug-cert-containing-attestation-document-18-1-23-der.crt",
            "test-specs/beta/valid_attestation_doc_check_pcr8_only_time_sensitive.json",
            1_674_047_280,
            false,
        ),
        (
            "test-data/beta/debug-mode-cert-containing-attestation-doc-18-1-23.pem",
            "test-specs/beta/valid_attestation_doc_in_cert_time_sensitive.json",
            1_674_054_660,
            true,
        ),
    ];
    for (cert, spec, now, debug) in cases {
        let (Some(cert_bytes), Some(spec)) = (
            attested_testdata::read(&format!("{base}{cert}")),
            attested_testdata::read(&format!("{base}{spec}")),
        ) else {
            return;
        };
        let der_bytes = if cert.ends_with(".pem") {
            let pem = String::from_utf8(cert_bytes).unwrap();
            // The first certificate of the PEM chain is the one with the document.
            let body: String = pem
                .lines()
                .skip_while(|l| !l.starts_with("-----BEGIN"))
                .skip(1)
                .take_while(|l| !l.starts_with("-----END"))
                .collect();
            base64::engine::general_purpose::STANDARD
                .decode(body)
                .unwrap()
        } else {
            cert_bytes
        };
        let doc = document_in_certificate(&der_bytes);
        let verified = NitroVerifier::new(&TrustRoots::aws_nitro())
            .max_age(None)
            .verify(&doc, at(now))
            .unwrap_or_else(|e| panic!("{cert}: {e}"));
        assert_eq!(verified.is_debug(), debug, "{cert}");
        let spec: serde_json::Value = serde_json::from_slice(&spec).unwrap();
        let mut policy = NitroPolicy::new();
        if debug {
            policy = policy.allow_debug();
        }
        for (name, value) in spec["pcrs"].as_object().unwrap() {
            let index: u8 = name.trim_start_matches("pcr").parse().unwrap();
            policy = policy.expect_pcr(index, &hex::decode(value.as_str().unwrap()).unwrap());
        }
        policy
            .appraise(&verified)
            .unwrap_or_else(|e| panic!("{cert}: {e}"));
        let mut wrong = verified.pcrs[&8].clone();
        wrong[0] ^= 1;
        assert!(matches!(
            NitroPolicy::new()
                .allow_debug()
                .expect_pcr(8, &wrong)
                .appraise(&verified),
            Err(Error::Mismatch { .. })
        ));
    }
}
