//! Collateral verification with Intel's real collateral, at the edges of each window given in
//! the test data's SOURCES.md.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::{at, go_tdx_guest_pcs_collateral};

use attested_tdx::{
    Backend, Collateral, Item, TimeBound, TrustAnchor, UnixTime, Verifier, VerifyError,
};

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
