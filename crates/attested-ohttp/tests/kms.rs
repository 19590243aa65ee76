#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Azure KMS mode: a receipt fixture built here (test PKI from `make_kms_fixture.py`), and
//! mutations of it, each refused with its own error.

mod common;

use attested_ohttp::{
    Client, KeyPair, Suite, UnixTime, client::Preference, kms::ClaimsDigestFormula,
    kms::KMS_PENDING_RETRIES, kms::KmsError, kms::KmsTrust, kms::ListPubKeysStatus,
    kms::MAX_LISTPUBKEYS_LEN,
};
use base64::Engine as _;
use p384::ecdsa::{Signature, SigningKey, signature::hazmat::PrehashSigner};
use sha2::{Digest, Sha256};

const SERVICE: &str = include_str!("data/kms/service_cert.pem");
const OTHER_SERVICE: &str = include_str!("data/kms/other_service_cert.pem");
const NODE: &str = include_str!("data/kms/node_cert.pem");
const NODE_OTHER_ISSUER: &str = include_str!("data/kms/node_cert_other_issuer.pem");
const NODE_EXPIRED: &str = include_str!("data/kms/node_cert_expired.pem");
const NODE_FUTURE: &str = include_str!("data/kms/node_cert_future.pem");
const NODE_KEY: &str = include_str!("data/kms/node_key.hex");
const SERVICE_NOT_CA: &str = include_str!("data/kms/service_cert_not_ca.pem");
const NODE_BY_NOT_CA: &str = include_str!("data/kms/node_cert_by_not_ca.pem");
const SERVICE_CRITICAL: &str = include_str!("data/kms/service_cert_critical.pem");
const NODE_CRITICAL: &str = include_str!("data/kms/node_cert_critical.pem");
const NODE_CA: &str = include_str!("data/kms/node_cert_ca.pem");
const NODE_KEY_USAGE: &str = include_str!("data/kms/node_cert_key_usage.pem");
const SERVICE_RENEWED: &str = include_str!("data/kms/service_cert_renewed.pem");

fn now() -> UnixTime {
    UnixTime::from_secs(1_800_000_000) // 2027
}

struct Fixture {
    key_config_hex: String,
    write_set: [u8; 32],
    commit_evidence: String,
    claims: [u8; 32],
    proof: Vec<(bool, [u8; 32])>,
    cert: &'static str,
    state_root: bool,
}

/// What azure-transparent-kms hashes, written out independently of the crate: the JWK
/// coordinates as base64url text (`src/endpoints/refreshEndpoint.ts:47` on main: `keyItem.x`;
/// `src/inference/refreshEndpoint.ts:42` on the inference branch: `keyItem.x + keyItem.y`).
fn kms_claims(pair: &KeyPair, with_y: bool) -> [u8; 32] {
    let pk = pair.config().public_key();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut claims = b64.encode(&pk[1..49]);
    if with_y {
        claims.push_str(&b64.encode(&pk[49..97]));
    }
    Sha256::digest(claims.as_bytes()).into()
}

impl Fixture {
    fn new(pair: &KeyPair) -> Self {
        Self {
            key_config_hex: hex::encode(pair.config().encode()),
            write_set: [0x11; 32],
            commit_evidence: "ce:2.40:0123456789abcdef".into(),
            claims: kms_claims(pair, true),
            proof: vec![(true, [0x22; 32]), (false, [0x33; 32]), (true, [0x44; 32])],
            cert: NODE,
            state_root: false,
        }
    }

    fn root(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.write_set);
        h.update(Sha256::digest(self.commit_evidence.as_bytes()));
        h.update(self.claims);
        let mut root: [u8; 32] = h.finalize().into();
        for (left, sibling) in &self.proof {
            let mut h = Sha256::new();
            if *left {
                h.update(sibling);
                h.update(root);
            } else {
                h.update(root);
                h.update(sibling);
            }
            root = h.finalize().into();
        }
        root
    }

    fn sign(root: &[u8; 32]) -> String {
        let key = SigningKey::from_slice(&hex::decode(NODE_KEY.trim()).unwrap()).unwrap();
        let sig: Signature = key.sign_prehash(root).unwrap();
        base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes())
    }

    /// The receipt JSON, signed over `signed_root` (normally the true root).
    fn receipt(&self, signed_root: &[u8; 32], stated_root: Option<[u8; 32]>) -> serde_json::Value {
        let proof: Vec<serde_json::Value> = self
            .proof
            .iter()
            .map(|(left, s)| serde_json::json!({ if *left { "left" } else { "right" }: hex::encode(s) }))
            .collect();
        let mut receipt = serde_json::json!({
            "cert": self.cert,
            "is_signature_transaction": false,
            "leaf_components": {
                "claims_digest": hex::encode(self.claims),
                "commit_evidence": self.commit_evidence,
                "write_set_digest": hex::encode(self.write_set),
            },
            "node_id": "00",
            "proof": proof,
            "signature": Self::sign(signed_root),
        });
        if let Some(root) = stated_root {
            receipt["root"] = serde_json::json!(hex::encode(root));
        }
        receipt
    }

    /// The list entry, its receipt as a JSON string as the KMS sends it
    /// (`JSON.stringify(states[0].receipt)`, `src/repositories/LastestItemStore.ts:59`).
    fn entry(&self) -> serde_json::Value {
        let root = self.root();
        let receipt = self.receipt(&root, self.state_root.then_some(root));
        serde_json::json!({ "publicKey": self.key_config_hex, "receipt": receipt.to_string() })
    }

    fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!([self.entry()])).unwrap()
    }
}

fn p384_pair() -> KeyPair {
    let suite = Suite::P384_AES256GCM;
    KeyPair::generate(1, suite.kem, vec![suite.symmetric()], &mut common::os_rng()).unwrap()
}

fn trust() -> KmsTrust {
    KmsTrust::from_pem(SERVICE.as_bytes()).unwrap()
}

#[test]
fn valid_receipt_verifies_and_builds_a_client() {
    let pair = p384_pair();
    let fixture = Fixture::new(&pair);
    let verified = trust().verify_listpubkeys(&fixture.body(), now()).unwrap();
    assert_eq!(verified.configs(), [pair.config().clone()]);
    let client = Client::from_verified(&verified, &Preference::default()).unwrap();
    assert_eq!(client.suite(), Suite::P384_AES256GCM);

    // The same receipt as a JSON string, and with its root stated, also verifies.
    let root = fixture.root();
    let as_string = serde_json::json!([{
        "publicKey": fixture.key_config_hex,
        "receipt": fixture.receipt(&root, Some(root)).to_string(),
    }]);
    trust()
        .verify_listpubkeys(&serde_json::to_vec(&as_string).unwrap(), now())
        .unwrap();
}

#[test]
fn both_published_claims_digest_formulas_verify_and_are_named() {
    for (with_y, formula) in [
        (false, ClaimsDigestFormula::X),
        (true, ClaimsDigestFormula::XThenY),
    ] {
        let pair = p384_pair();
        let mut fixture = Fixture::new(&pair);
        fixture.claims = kms_claims(&pair, with_y);
        let key = trust().last_verified(&fixture.body(), now()).unwrap();
        assert_eq!(key.formula(), formula);
        assert_eq!(key.index(), 0);
        assert_eq!(key.config(), pair.config());
        assert_eq!(key.verified().configs(), [pair.config().clone()]);
        trust().verify_listpubkeys(&fixture.body(), now()).unwrap();
    }
}

#[test]
fn unpublished_claims_digest_formulas_are_refused() {
    // SHA-256 of the raw x coordinate (what this crate once expected), of base64url y alone,
    // and of the standard-base64 text: none of them is what the KMS records. The standard
    // text differs from the base64url one only when x's encoding holds a '+' or '/' (for
    // about 13% of random keys it holds neither, and the two formulas coincide), so the key
    // is drawn until it does.
    let std_b64 = base64::engine::general_purpose::STANDARD;
    let url_b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (pair, pk) = std::iter::repeat_with(|| {
        let pair = p384_pair();
        let pk = pair.config().public_key().to_vec();
        (pair, pk)
    })
    .find(|(_, pk)| std_b64.encode(&pk[1..49]) != url_b64.encode(&pk[1..49]))
    .unwrap();
    for claims in [
        Sha256::digest(&pk[1..49]).into(),
        Sha256::digest(url_b64.encode(&pk[49..97]).as_bytes()).into(),
        Sha256::digest(std_b64.encode(&pk[1..49]).as_bytes()).into(),
    ] {
        let mut fixture = Fixture::new(&pair);
        fixture.claims = claims;
        assert_eq!(
            trust().last_verified(&fixture.body(), now()).unwrap_err(),
            KmsError::ClaimsDigest { index: 0 }
        );
    }
}

#[test]
fn the_last_verified_entry_is_used() {
    let (a, b) = (p384_pair(), p384_pair());
    let good_a = Fixture::new(&a).entry();
    let good_b = Fixture::new(&b).entry();
    let mut bad = Fixture::new(&b);
    bad.claims = kms_claims(&a, true); // binds another key
    let bad = bad.entry();
    let list = |entries: &[&serde_json::Value]| serde_json::to_vec(&entries).unwrap();

    let key = trust()
        .last_verified(&list(&[&good_a, &good_b]), now())
        .unwrap();
    assert_eq!((key.index(), key.config()), (1, b.config()));
    // A last entry that fails is never used; an earlier verified one is.
    let key = trust()
        .last_verified(&list(&[&good_a, &bad]), now())
        .unwrap();
    assert_eq!((key.index(), key.config()), (0, a.config()));
    let key = trust()
        .last_verified(&list(&[&bad, &good_a]), now())
        .unwrap();
    assert_eq!((key.index(), key.config()), (1, a.config()));
    // None verifies: the last entry's error.
    assert_eq!(
        trust()
            .last_verified(&list(&[&bad, &bad]), now())
            .unwrap_err(),
        KmsError::ClaimsDigest { index: 1 }
    );
    // The whole-list check refuses a list with any bad entry.
    assert_eq!(
        trust()
            .verify_listpubkeys(&list(&[&good_a, &bad]), now())
            .unwrap_err(),
        KmsError::ClaimsDigest { index: 1 }
    );
}

#[test]
fn an_expired_node_certificate_still_vouches_for_its_receipt() {
    let mut fixture = Fixture::new(&p384_pair());
    fixture.cert = NODE_EXPIRED;
    // The node certificate expired in 2026; `now` is 2027; the receipt verifies.
    trust().last_verified(&fixture.body(), now()).unwrap();
    // A node certificate issued after `now` is refused.
    fixture.cert = NODE_FUTURE;
    assert_eq!(
        trust().last_verified(&fixture.body(), now()).unwrap_err(),
        KmsError::CertificateTime {
            index: 0,
            which: "node"
        }
    );
}

#[test]
fn listpubkeys_status_and_size_are_decided_without_io() {
    assert_eq!(
        ListPubKeysStatus::classify(200, 0).unwrap(),
        ListPubKeysStatus::Ready
    );
    for retries in 0..KMS_PENDING_RETRIES {
        assert_eq!(
            ListPubKeysStatus::classify(202, retries).unwrap(),
            ListPubKeysStatus::Pending
        );
    }
    assert_eq!(
        ListPubKeysStatus::classify(202, KMS_PENDING_RETRIES).unwrap_err(),
        KmsError::StillPending(KMS_PENDING_RETRIES)
    );
    for status in [201, 204, 301, 401, 404, 500] {
        assert_eq!(
            ListPubKeysStatus::classify(status, 0).unwrap_err(),
            KmsError::Status(status)
        );
    }
    // A body past the limit is refused before it is parsed.
    let mut huge = vec![b' '; MAX_LISTPUBKEYS_LEN + 1];
    huge[0] = b'[';
    assert_eq!(
        trust().last_verified(&huge, now()).unwrap_err(),
        KmsError::TooLarge {
            limit: MAX_LISTPUBKEYS_LEN,
            actual: MAX_LISTPUBKEYS_LEN + 1
        }
    );
}

#[test]
fn bad_signature_is_refused() {
    let fixture = Fixture::new(&p384_pair());
    let body = serde_json::json!([{
        "publicKey": fixture.key_config_hex,
        "receipt": fixture.receipt(&[0x55; 32], None),
    }]);
    assert_eq!(
        trust()
            .verify_listpubkeys(&serde_json::to_vec(&body).unwrap(), now())
            .unwrap_err(),
        KmsError::ReceiptSignature { index: 0 }
    );
}

#[test]
fn wrong_claims_digest_is_refused() {
    // A correctly signed receipt whose claims_digest binds another key.
    let mut fixture = Fixture::new(&p384_pair());
    fixture.claims = Fixture::new(&p384_pair()).claims;
    assert_eq!(
        trust()
            .verify_listpubkeys(&fixture.body(), now())
            .unwrap_err(),
        KmsError::ClaimsDigest { index: 0 }
    );
}

#[test]
fn wrong_merkle_path_is_refused() {
    let fixture = Fixture::new(&p384_pair());
    let root = fixture.root();
    let mut bent = Fixture::new(&p384_pair());
    bent.key_config_hex = fixture.key_config_hex.clone();
    bent.claims = fixture.claims;
    bent.proof[1].0 = true; // right sibling presented as left
    // With the root stated, the mismatch is reported as such.
    let body = serde_json::json!([{ "publicKey": bent.key_config_hex, "receipt": bent.receipt(&root, Some(root)) }]);
    assert_eq!(
        trust()
            .verify_listpubkeys(&serde_json::to_vec(&body).unwrap(), now())
            .unwrap_err(),
        KmsError::MerkleRoot { index: 0 }
    );
    // Without it, the signature cannot verify over the bent root.
    let body = serde_json::json!([{ "publicKey": bent.key_config_hex, "receipt": bent.receipt(&root, None) }]);
    assert_eq!(
        trust()
            .verify_listpubkeys(&serde_json::to_vec(&body).unwrap(), now())
            .unwrap_err(),
        KmsError::ReceiptSignature { index: 0 }
    );
}

#[test]
fn certificate_from_another_issuer_is_refused() {
    let mut fixture = Fixture::new(&p384_pair());
    fixture.cert = NODE_OTHER_ISSUER;
    assert_eq!(
        trust()
            .verify_listpubkeys(&fixture.body(), now())
            .unwrap_err(),
        KmsError::NodeCertificateSignature { index: 0 }
    );
    let other = KmsTrust::from_pem(OTHER_SERVICE.as_bytes()).unwrap();
    assert_eq!(
        other
            .verify_listpubkeys(&Fixture::new(&p384_pair()).body(), now())
            .unwrap_err(),
        KmsError::NodeCertificateSignature { index: 0 }
    );
}

#[test]
fn expired_certificates_and_malformed_bodies_are_refused() {
    let fixture = Fixture::new(&p384_pair());
    let late = UnixTime::from_secs(2_100_000_000); // 2036
    assert_eq!(
        trust()
            .verify_listpubkeys(&fixture.body(), late)
            .unwrap_err(),
        KmsError::CertificateTime {
            index: 0,
            which: "service"
        }
    );
    assert_eq!(
        trust().verify_listpubkeys(b"[]", now()).unwrap_err(),
        KmsError::Empty
    );
    assert!(matches!(
        trust().verify_listpubkeys(b"{", now()).unwrap_err(),
        KmsError::Json(_)
    ));
    let x25519 = KeyPair::generate(
        1,
        Suite::X25519_AES128GCM.kem,
        vec![Suite::X25519_AES128GCM.symmetric()],
        &mut common::os_rng(),
    )
    .unwrap();
    let mut wrong_kem = Fixture::new(&p384_pair());
    wrong_kem.key_config_hex = hex::encode(x25519.config().encode());
    assert_eq!(
        trust()
            .verify_listpubkeys(&wrong_kem.body(), now())
            .unwrap_err(),
        KmsError::UnbindableKem {
            index: 0,
            kem: 0x20
        }
    );
    assert!(KmsTrust::from_pem(b"not a certificate").is_err());
}

/// The chain properties rustls-webpki enforces (and KeyUsage, which it leaves to us), each
/// refused with the check it names; the receipt itself is correct every time.
#[test]
fn chain_properties_are_enforced() {
    let refused = |trust: &KmsTrust, cert: &'static str| {
        let mut fixture = Fixture::new(&p384_pair());
        fixture.cert = cert;
        trust.last_verified(&fixture.body(), now()).unwrap_err()
    };
    let chain = |check: &'static str| KmsError::CertificateChain { index: 0, check };

    // A self-signed CA:false certificate pinned as the service: it may not issue.
    let not_ca = KmsTrust::from_pem(SERVICE_NOT_CA.as_bytes()).unwrap();
    assert_eq!(
        refused(&not_ca, NODE_BY_NOT_CA),
        chain("the pinned service certificate is not a CA (basicConstraints)")
    );
    // A node certificate with an unknown critical extension.
    assert_eq!(
        refused(&trust(), NODE_CRITICAL),
        chain("unknown critical extension")
    );
    // A node certificate that is itself a CA.
    assert_eq!(
        refused(&trust(), NODE_CA),
        chain("the node certificate is a CA (basicConstraints)")
    );
    // A node certificate whose KeyUsage does not allow signing (keyCertSign only).
    assert_eq!(
        refused(&trust(), NODE_KEY_USAGE),
        chain("node certificate's KeyUsage lacks digitalSignature")
    );
    // A service certificate with an unknown critical extension is refused when pinned.
    assert_eq!(
        KmsTrust::from_pem(SERVICE_CRITICAL.as_bytes()).unwrap_err(),
        KmsError::ServiceCertificate("unknown critical extension")
    );
    // A node certificate is not self-signed: it cannot be pinned as the service.
    assert!(matches!(
        KmsTrust::from_pem(NODE.as_bytes()).unwrap_err(),
        KmsError::ServiceCertificate(_)
    ));
}

/// The chain is validated at the node certificate's issuance (its notBefore, or the service's
/// if later): a node certificate that had expired before the pinned service certificate began
/// was never endorsed by it, while the same node certificate under the original service
/// certificate verifies.
#[test]
fn a_node_certificate_never_valid_with_the_pinned_service_is_refused() {
    let mut fixture = Fixture::new(&p384_pair());
    fixture.cert = NODE_EXPIRED;
    trust().last_verified(&fixture.body(), now()).unwrap();
    let renewed = KmsTrust::from_pem(SERVICE_RENEWED.as_bytes()).unwrap();
    assert!(matches!(
        renewed.last_verified(&fixture.body(), now()).unwrap_err(),
        KmsError::CertificateChain { index: 0, .. }
    ));
    // The renewed certificate itself serves node certificates valid in its window.
    renewed
        .last_verified(&Fixture::new(&p384_pair()).body(), now())
        .unwrap();
}
