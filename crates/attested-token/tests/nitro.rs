//! AWS Nitro attestation documents: real documents against the AWS root.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use attested_token::{Backend, CoseSign1, Error, Limits, NitroPolicy, NitroVerifier, TrustRoots};
use base64::Engine as _;

fn at(seconds: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(seconds)
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
