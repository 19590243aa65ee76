//! Collateral verification with Intel's real collateral, at the edges of each window given in
//! the test data's SOURCES.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{GoPcsFiles, at, go_tdx_guest_pcs_collateral};

use attested_tdx::collateral::CollateralFormat;
use attested_tdx::error::{Item, TimeBound};
use attested_tdx::{Backend, Collateral, TrustAnchor, UnixTime, Verifier, VerifyError};

fn qvl(name: &str) -> Option<Collateral> {
    let json = attested_testdata::read(&format!("tdx/dcap-qvl/{name}"))?;
    Some(Collateral::from_qvl_json(&json).unwrap())
}

/// (collateral, window start, window end) from SOURCES.md.
fn samples() -> Vec<(&'static str, Collateral, &'static str, &'static str)> {
    let mut out = Vec::new();
    for (name, from, until) in [
        (
            "tdx_quote_collateral.json",
            "2025-06-19T10:32:27Z",
            "2025-07-19T10:00:35Z",
        ),
        (
            "tdx_quote_td15ex_collateral.json",
            "2026-10-08T00:28:26Z",
            "2026-11-06T23:45:11Z",
        ),
        (
            "tdx_quote_outdated_collateral.json",
            "2026-02-18T10:58:51Z",
            "2026-03-20T10:41:15Z",
        ),
        (
            "near_gas_test_quote_collateral.json",
            "2025-09-02T07:41:59Z",
            "2025-10-02T07:03:51Z",
        ),
    ] {
        if let Some(c) = qvl(name) {
            out.push((name, c, from, until));
        }
    }
    if let Some(c) = go_tdx_guest_pcs_collateral() {
        out.push((
            "go-tdx-guest PCS",
            c,
            "2023-06-18T08:42:58Z",
            "2023-07-08T07:24:59Z",
        ));
    }
    out
}

#[test]
fn real_collateral_verifies_exactly_inside_its_window() {
    for backend in Backend::all() {
        for (name, collateral, from, until) in samples() {
            let verifier = Verifier::with_backend(TrustAnchor::intel_sgx_root(), *backend);
            let validity = verifier
                .verify_collateral(&collateral, at(from))
                .unwrap_or_else(|e| panic!("{name} at {from}: {e}"));
            assert_eq!(
                (validity.from, validity.until),
                (at(from), at(until)),
                "{name}"
            );
            verifier.verify_collateral(&collateral, at(until)).unwrap();

            let cold = Verifier::with_backend(TrustAnchor::intel_sgx_root(), *backend);
            let before = UnixTime(at(from).0 - 1);
            let after = UnixTime(at(until).0 + 1);
            for (now, bound) in [
                (before, TimeBound::NotYetValid),
                (after, TimeBound::Expired),
            ] {
                for v in [&verifier, &cold] {
                    match v.verify_collateral(&collateral, now) {
                        Err(VerifyError::OutsideValidity {
                            bound: b, now: n, ..
                        }) => {
                            assert_eq!((b, n), (bound, now), "{name}")
                        }
                        other => panic!("{name} at {now}: {other:?}"),
                    }
                }
            }
        }
    }
}

#[test]
fn expiry_errors_name_the_item_and_its_bound() {
    let Some(collateral) = qvl("tdx_quote_collateral.json") else {
        return;
    };
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    let err = verifier
        .verify_collateral(&collateral, at("2025-07-19T10:00:36Z"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::OutsideValidity {
                bound: TimeBound::Expired,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.item().is_some());
    let text = err.to_string();
    assert!(
        text.contains("expired") && text.contains("2025-07-19T10:00:35Z"),
        "{text}"
    );
}

#[test]
fn altered_collateral_is_refused_naming_what_was_altered() {
    let Some(json) = attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json") else {
        return;
    };
    let now = at("2025-07-01T00:00:00Z");
    let original: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    verifier
        .verify_collateral(&Collateral::from_qvl_json(&json).unwrap(), now)
        .unwrap();

    let altered = |field: &str, edit: &dyn Fn(&str) -> String| {
        let mut value = original.clone();
        let text = value[field].as_str().unwrap().to_owned();
        value[field] = serde_json::Value::String(edit(&text));
        Collateral::from_qvl_json(value.to_string().as_bytes()).unwrap()
    };
    let flip_hex = |text: &str, at: usize| {
        let mut bytes = hex::decode(text).unwrap();
        bytes[at] ^= 1;
        hex::encode(bytes)
    };
    let cases: Vec<(Collateral, Item)> = vec![
        (
            altered("tcb_info", &|t| {
                t.replacen(
                    "\"tcbEvaluationDataNumber\":17",
                    "\"tcbEvaluationDataNumber\":18",
                    1,
                )
            }),
            Item::TcbInfo,
        ),
        (
            altered("qe_identity", &|t| {
                t.replacen("\"isvprodid\":2", "\"isvprodid\":3", 1)
            }),
            Item::QeIdentity,
        ),
        (
            altered("tcb_info_signature", &|t| flip_hex(t, 5)),
            Item::TcbInfo,
        ),
        (
            altered("qe_identity_signature", &|t| flip_hex(t, 40)),
            Item::QeIdentity,
        ),
        (
            altered("root_ca_crl", &|t| {
                let n = hex::decode(t).unwrap().len();
                flip_hex(t, n - 3)
            }),
            Item::RootCaCrl,
        ),
        (
            altered("pck_crl", &|t| {
                let n = hex::decode(t).unwrap().len();
                flip_hex(t, n - 3)
            }),
            Item::PckCrl,
        ),
    ];
    for (collateral, item) in cases {
        let err = verifier.verify_collateral(&collateral, now).unwrap_err();
        assert_eq!(err, VerifyError::BadSignature { item }, "{item}");
    }
}

#[test]
fn collateral_from_another_root_is_refused() {
    let Some(collateral) = qvl("tdx_quote_collateral.json") else {
        return;
    };
    // A root that did not sign anything here: the TCB signing certificate as "anchor".
    let json = attested_testdata::read("tdx/dcap-qvl/tdx_quote_collateral.json").unwrap();
    let value: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let chain = value["tcb_info_issuer_chain"]
        .as_str()
        .unwrap()
        .as_bytes()
        .to_vec();
    let end = b"-----END CERTIFICATE-----";
    let first = chain.windows(end.len()).position(|w| w == end).unwrap() + end.len();
    let other = TrustAnchor::from_pem(&chain[..first]).unwrap();
    let err = Verifier::new(other)
        .verify_collateral(&collateral, at("2025-07-01T00:00:00Z"))
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::Chain { .. } | VerifyError::BadSignature { .. }
        ),
        "{err}"
    );
}

#[test]
fn qvl_json_round_trips() {
    for (name, collateral, ..) in samples() {
        let again = Collateral::from_qvl_json(collateral.to_qvl_json().as_bytes()).unwrap();
        assert_eq!(again, collateral, "{name}");
    }
}

/// Percent-encodes as PCS does for its issuer-chain headers.
fn url_encoded(text: &[u8]) -> String {
    text.iter()
        .map(|&b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[test]
fn pcs_bundles_carry_the_real_pcs_collateral() {
    let Some(files) = GoPcsFiles::load() else {
        return;
    };
    let direct = Collateral::from_pcs(files.pcs()).unwrap();

    // Bodies embedded verbatim as JSON objects, chains URL-encoded (as PCS headers), CRLs as
    // hex: written by hand, not by the library.
    let [tcb, tcb_chain, qe, qe_chain, pck_crl, pck_chain, root_crl] = &files.parts;
    let body = |bytes: &[u8]| std::str::from_utf8(bytes).unwrap().trim_end().to_owned();
    let string = |text: String| serde_json::to_string(&text).unwrap();
    let embedded = format!(
        r#"{{"tcb_info_response": {}, "tcb_info_issuer_chain": {}, "qe_identity_response": {}, "qe_identity_issuer_chain": {}, "pck_crl": "{}", "pck_crl_issuer_chain": {}, "root_ca_crl": "{}"}}"#,
        body(tcb),
        string(url_encoded(tcb_chain)),
        body(qe),
        string(url_encoded(qe_chain)),
        hex::encode(pck_crl),
        string(String::from_utf8(pck_chain.clone()).unwrap()),
        hex::encode_upper(root_crl),
    );
    // The library's writer: bodies as JSON strings.
    let written = files.pcs().to_bundle_json();
    let verifier = Verifier::new(TrustAnchor::intel_sgx_root());
    for bundle in [&embedded, &written] {
        assert_eq!(
            CollateralFormat::detect(bundle.as_bytes()).unwrap(),
            CollateralFormat::PcsBundle
        );
        let collateral = Collateral::from_json(bundle.as_bytes()).unwrap();
        assert!(
            collateral == direct,
            "the bundle differs from the PCS files"
        );
        verifier
            .verify_collateral(&collateral, at("2023-07-01T01:00:00Z"))
            .unwrap();
    }

    // A re-indented embedded body no longer carries the signed bytes: refused by signature.
    let reindented = embedded.replacen(r#""id":"TDX""#, r#""id": "TDX""#, 1);
    assert_ne!(reindented, embedded);
    let err = Verifier::new(TrustAnchor::intel_sgx_root())
        .verify_collateral(
            &Collateral::from_json(reindented.as_bytes()).unwrap(),
            at("2023-07-01T01:00:00Z"),
        )
        .unwrap_err();
    assert!(
        matches!(
            err,
            VerifyError::BadSignature {
                item: Item::TcbInfo
            }
        ),
        "{err}"
    );
}

#[test]
fn both_json_forms_are_told_apart_and_carry_the_same_collateral() {
    for (name, collateral, _, _) in samples() {
        let qvl = collateral.to_qvl_json();
        let bundle = collateral.to_pcs_bundle_json();
        assert_eq!(
            CollateralFormat::detect(qvl.as_bytes()).unwrap(),
            CollateralFormat::DcapQvl,
            "{name}"
        );
        assert_eq!(
            CollateralFormat::detect(bundle.as_bytes()).unwrap(),
            CollateralFormat::PcsBundle,
            "{name}"
        );
        for json in [&qvl, &bundle] {
            assert!(
                Collateral::from_json(json.as_bytes()).unwrap() == collateral,
                "{name}"
            );
        }
    }
    for bad in [
        "{}",
        r#"{"tcb_info_response":"{}","tcb_info_signature":"00"}"#,
        "[1]",
        "not json",
    ] {
        assert!(
            matches!(
                Collateral::from_json(bad.as_bytes()),
                Err(VerifyError::Malformed {
                    item: Item::Collateral,
                    ..
                })
            ),
            "{bad}"
        );
    }
    // A bundle with an unknown key (a typo) is refused rather than half read.
    let Some((_, collateral, _, _)) = samples().into_iter().next() else {
        return;
    };
    let mut bundle: serde_json::Value =
        serde_json::from_str(&collateral.to_pcs_bundle_json()).unwrap();
    bundle["root_crl"] = bundle["root_ca_crl"].clone();
    assert!(Collateral::from_json(bundle.to_string().as_bytes()).is_err());
}
