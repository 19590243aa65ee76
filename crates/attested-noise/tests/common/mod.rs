//! A test platform: "quotes" are REPORTDATA and an MRTD signed by a test platform key, and the
//! evidence check verifies that signature, as a real check verifies a quote's chain.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;
use std::sync::Arc;

use attested_noise::ed25519_dalek::{Signer, SigningKey, Verifier};
use attested_noise::limits::ServerLimits;
use attested_noise::message::{Attestation, ChatMessage, ChatRequest};
use attested_noise::*;
use rand::{SeedableRng, rngs::StdRng};

pub const MRTD: [u8; 48] = [0x5a; 48];

/// The `now` of every verification in these tests (the test platform's quotes never expire).
pub const NOW: UnixTime = UnixTime(1_750_000_000);

pub struct TestPlatform {
    key: SigningKey,
    mrtd: [u8; 48],
}

impl TestPlatform {
    pub fn new(seed: u8) -> Self {
        Self {
            key: SigningKey::from_bytes(&[seed; 32]),
            mrtd: MRTD,
        }
    }

    /// The same platform (same key) running a TD whose MRTD is `mrtd`.
    pub fn with_mrtd(&self, mrtd: [u8; 48]) -> Self {
        Self {
            key: self.key.clone(),
            mrtd,
        }
    }

    /// A quote: REPORTDATA (64) || MRTD (48) || platform signature (64).
    pub fn quote(&self, report_data: &ReportData) -> Vec<u8> {
        let mut body = report_data.to_vec();
        body.extend_from_slice(&self.mrtd);
        let signature = self.key.sign(&body);
        body.extend_from_slice(&signature.to_bytes());
        body
    }

    pub fn check(&self) -> TestCheck {
        TestCheck {
            key: self.key.verifying_key(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("test quote: {0}")]
pub struct TestQuoteError(&'static str);

pub struct TestCheck {
    key: attested_noise::ed25519_dalek::VerifyingKey,
}

impl Appraiser for TestCheck {
    fn appraise(&self, evidence: &Evidence<'_>, _now: UnixTime) -> Result<Accepted, BoxError> {
        let quote = evidence.quote.ok_or(TestQuoteError("missing"))?;
        if quote.len() != 64 + 48 + 64 {
            return Err(TestQuoteError("length").into());
        }
        let (body, signature) = quote.split_at(112);
        let signature = attested_noise::ed25519_dalek::Signature::from_slice(signature)?;
        self.key
            .verify(body, &signature)
            .map_err(|_| TestQuoteError("signature"))?;
        let report_data: ReportData = body[..64].try_into()?;
        let measurements = BTreeMap::from([("mrtd".to_owned(), body[64..].to_vec())]);
        Ok(Accepted::assertion(
            report_data,
            measurements,
            Workload::Pinned(vec!["mrtd".into()]),
        ))
    }
}

pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

pub struct Server {
    pub identity: Arc<ServerIdentity>,
    pub platform: TestPlatform,
}

impl Server {
    /// A server whose quote binds its keys as `profile` requires.
    pub fn new(config: Config, seed: u8) -> Self {
        let profile = config.profile();
        Self::with_report_data(config, seed, |noise, binding| {
            ServerIdentity::report_data(profile, noise, binding)
        })
    }

    /// A server whose quote carries whatever REPORTDATA `report_data` makes of its keys.
    pub fn with_report_data(
        config: Config,
        seed: u8,
        report_data: impl FnOnce(&NoiseStaticKey, &SigningKey) -> ReportData,
    ) -> Self {
        let platform = TestPlatform::new(0xee);
        let noise_key = NoiseStaticKey::from_bytes([seed; 32]);
        let binding_key = SigningKey::from_bytes(&[seed.wrapping_add(1); 32]);
        let quote = platform.quote(&report_data(&noise_key, &binding_key));
        let identity = Arc::new(ServerIdentity::new(
            config,
            noise_key,
            binding_key,
            PlatformEvidence::from_quote(quote),
        ));
        Self { identity, platform }
    }

    pub fn public_key(&self) -> [u8; 32] {
        *self.identity.noise_key().public_key()
    }

    pub fn check(&self) -> TestCheck {
        self.platform.check()
    }
}

/// Runs the handshake between `client` and a fresh responder of `server`.
pub fn handshake(
    mut client: Initiator,
    server: &Server,
    rng_seed: u64,
) -> (UnverifiedSession, ServerSession) {
    let mut responder = Responder::new(server.identity.clone(), &mut rng(rng_seed)).unwrap();
    responder
        .read_first(&client.write_first().unwrap())
        .unwrap();
    let (msg2, server_session) = responder.write_second().unwrap();
    (client.read_second(&msg2).unwrap(), server_session)
}

/// Asks for the attestation and collects it, with `session_quote` made by `make_session_quote`.
pub fn fetch_attestation(
    client: &mut UnverifiedSession,
    server: &mut ServerSession,
    session_quote: Option<Vec<u8>>,
) -> Attestation {
    let mut attestation = None;
    for frame in client.request_attestation().unwrap() {
        match server.receive(&frame).unwrap() {
            Received::AttestationRequested => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    for frame in server.attestation(session_quote.as_deref()).unwrap() {
        attestation = client.receive_attestation(&frame).unwrap();
    }
    attestation.expect("complete attestation")
}

/// A verified pair for `config` on both sides.
pub fn verified_pair(config: Config, seed: u8) -> (VerifiedSession, ServerSession) {
    let server = Server::new(config.clone(), seed);
    let client =
        Initiator::with_config(config, &server.public_key(), &mut rng(u64::from(seed))).unwrap();
    let (mut client, mut server_session) = handshake(client, &server, 1000 + u64::from(seed));
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    (
        client.verify(&attestation, &server.check(), NOW).unwrap(),
        server_session,
    )
}

pub fn user(content: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage {
            role: "user".into(),
            content: content.into(),
        }],
        ..ChatRequest::default()
    }
}

/// As [`verified_pair`], with the server under `server_config` and `limits` and the client
/// under `client_config` (to send what the server must refuse).
pub fn verified_pair_with(
    server_config: Config,
    limits: ServerLimits,
    client_config: Config,
    seed: u8,
) -> (VerifiedSession, ServerSession, Server) {
    let mut server = Server::new(server_config, seed);
    let identity = std::mem::replace(
        &mut server.identity,
        Arc::new(ServerIdentity::new(
            Config::default(),
            NoiseStaticKey::from_bytes([0; 32]),
            SigningKey::from_bytes(&[0; 32]),
            PlatformEvidence::from_quote(Vec::new()),
        )),
    );
    let identity = Arc::try_unwrap(identity).unwrap_or_else(|_| panic!("identity shared"));
    server.identity = Arc::new(identity.with_limits(limits));
    let client = Initiator::with_config(client_config, &server.public_key(), &mut rng(7)).unwrap();
    let (mut client, mut server_session) = handshake(client, &server, 1000 + u64::from(seed));
    let attestation = fetch_attestation(&mut client, &mut server_session, None);
    let client = client.verify(&attestation, &server.check(), NOW).unwrap();
    (client, server_session, server)
}
