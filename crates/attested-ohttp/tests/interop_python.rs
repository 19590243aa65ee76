#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
//! Interop with an independent implementation: `ohttp_peer.py` on pyhpke, as client against
//! our gateway and as gateway for our client, for X25519/AES-128-GCM and P-384/AES-256-GCM.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use attested_ohttp::UnixTime;

use attested_ohttp::{Client, KeyPair, KeyRing, Suite, Validity, key_config_binding};
use common::{TestEvidence, os_rng};

struct Peer {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Peer {
    /// Starts the Python peer, or `None` (with a notice) when Python or pyhpke is missing
    /// outside CI.
    fn start(args: &[String]) -> Option<Self> {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/ohttp_peer.py");
        let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
        let available = Command::new("python3")
            .args(["-c", "import pyhpke"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !available {
            assert!(
                !ci,
                "python3 with pyhpke is required under CI (see .ci/requirements.txt)"
            );
            eprintln!("notice: skipping, python3 with pyhpke is not available");
            return None;
        }
        let mut child = Command::new("python3")
            .arg(script)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Some(Self {
            child,
            stdin,
            stdout,
        })
    }

    fn send(&mut self, bytes: &[u8]) {
        writeln!(self.stdin, "{}", hex::encode(bytes)).unwrap();
        self.stdin.flush().unwrap();
    }

    fn recv(&mut self) -> Vec<u8> {
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        hex::decode(line.trim()).unwrap_or_else(|_| panic!("peer sent {line:?}"))
    }

    fn done(mut self) {
        assert!(self.child.wait().unwrap().success(), "python peer failed");
    }
}

fn now() -> UnixTime {
    UnixTime::from_secs(1_800_000_000)
}

const SUITES: [Suite; 2] = [Suite::X25519_AES128GCM, Suite::P384_AES256GCM];

#[test]
fn python_client_against_our_gateway() {
    for suite in SUITES {
        let pair = KeyPair::generate(9, suite.kem, vec![suite.symmetric()], &mut os_rng()).unwrap();
        let mut ring = KeyRing::new();
        ring.insert(
            pair,
            Validity::new(now(), Duration::from_secs(60), Duration::ZERO),
        )
        .unwrap();
        let args = [suite.kdf.id().to_string(), suite.aead.id().to_string()];
        let Some(mut peer) = Peer::start(&[vec!["client".to_string()], args.to_vec()].concat())
        else {
            return;
        };
        peer.send(&ring.encoded_list(now()));
        peer.send(b"request from python");
        let (inner, ctx) = ring.decapsulate(&peer.recv(), now()).unwrap();
        assert_eq!(inner, b"request from python", "{suite:?}");
        peer.send(
            &ctx.encapsulate(b"response from rust", &mut os_rng())
                .unwrap(),
        );
        assert_eq!(peer.recv(), b"response from rust", "{suite:?}");
        peer.done();
    }
}

#[test]
fn our_client_against_python_gateway() {
    for suite in SUITES {
        let args = [suite.kem.id(), suite.kdf.id(), suite.aead.id()].map(|i| i.to_string());
        let Some(mut peer) = Peer::start(&[vec!["gateway".to_string()], args.to_vec()].concat())
        else {
            return;
        };
        let list = peer.recv();
        let client = Client::new(&list, &TestEvidence(key_config_binding(&list))).unwrap();
        assert_eq!(client.suite(), suite);
        let (enc, pending) = client
            .encapsulate(b"request from rust", &mut os_rng())
            .unwrap();
        peer.send(&enc);
        assert_eq!(peer.recv(), b"request from rust", "{suite:?}");
        peer.send(b"response from python");
        assert_eq!(
            pending.decapsulate(&peer.recv()).unwrap(),
            b"response from python",
            "{suite:?}"
        );
        peer.done();
    }
}
