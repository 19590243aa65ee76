//! The NK handshake: two 48-byte frames, then the session.

use std::sync::Arc;

use rand_core::CryptoRng;
use zeroize::{Zeroize as _, Zeroizing};

use crate::Error;
use crate::channel::{Channel, Transport};
use crate::crypto::{CipherState, Resolver};
use crate::keys::random_seed;
use crate::limits::HANDSHAKE_FRAME_LEN;
use crate::profile::{Config, PROTOCOL_NAME, Profile};
use crate::session::{ServerIdentity, ServerSession, UnverifiedSession};

/// Builds a snow handshake on our primitives. `ephemeral_seed` becomes the ephemeral private key.
pub(crate) fn build(
    initiator: bool,
    prologue: &[u8],
    local_static: Option<&[u8; 32]>,
    remote_static: Option<&[u8; 32]>,
    ephemeral_seed: Zeroizing<[u8; 32]>,
) -> Result<snow::HandshakeState, Error> {
    let params: snow::params::NoiseParams = PROTOCOL_NAME.parse().map_err(|_| Error::Handshake)?;
    let mut builder = snow::Builder::with_resolver(params, Box::new(Resolver::new(ephemeral_seed)))
        .prologue(prologue)
        .map_err(|_| Error::Handshake)?;
    if let Some(key) = local_static {
        builder = builder
            .local_private_key(key)
            .map_err(|_| Error::InvalidKey {
                which: "Noise static",
            })?;
    }
    if let Some(key) = remote_static {
        builder = builder
            .remote_public_key(key)
            .map_err(|_| Error::InvalidKey {
                which: "Noise static",
            })?;
    }
    let state = if initiator {
        builder.build_initiator()
    } else {
        builder.build_responder()
    };
    state.map_err(|_| Error::Handshake)
}

/// Takes the handshake hash h and the two transport keys (Noise's Split) from the finished
/// handshake. The keys go straight into our [`CipherState`]s, which erase them when dropped;
/// snow's own state (chaining key, handshake hash) it drops without erasing (see the crate docs).
pub(crate) fn finish(mut state: snow::HandshakeState) -> Result<([u8; 32], Transport), Error> {
    if !state.is_handshake_finished() {
        return Err(Error::Handshake);
    }
    let h = <[u8; 32]>::try_from(state.get_handshake_hash()).map_err(|_| Error::Handshake)?;
    let mut split = state.dangerously_get_raw_split();
    let initiator_to_responder = Zeroizing::new(split.0);
    let responder_to_initiator = Zeroizing::new(split.1);
    split.0.zeroize();
    split.1.zeroize();
    let (send, receive) = if state.is_initiator() {
        (initiator_to_responder, responder_to_initiator)
    } else {
        (responder_to_initiator, initiator_to_responder)
    };
    Ok((
        h,
        Transport::new(CipherState::new(&send), CipherState::new(&receive)),
    ))
}

fn check_frame_len(frame: &[u8]) -> Result<(), Error> {
    if frame.len() == HANDSHAKE_FRAME_LEN {
        Ok(())
    } else {
        Err(Error::HandshakeFrameLength {
            expected: HANDSHAKE_FRAME_LEN,
            got: frame.len(),
        })
    }
}

/// Reads one handshake frame, whose payload both profiles keep empty.
fn read_empty_frame(state: &mut snow::HandshakeState, frame: &[u8]) -> Result<(), Error> {
    check_frame_len(frame)?;
    let mut payload = [0_u8; HANDSHAKE_FRAME_LEN];
    let len = state
        .read_message(frame, &mut payload)
        .map_err(|_| Error::Handshake)?;
    if len != 0 {
        return Err(Error::Handshake);
    }
    Ok(())
}

/// The client side of the handshake. It knows the server's Noise static key beforehand (NK).
pub struct Initiator {
    config: Config,
    server_static_key: [u8; 32],
    state: snow::HandshakeState,
    wrote_first: bool,
}

impl Initiator {
    /// A handshake with default settings for `profile`; `rng` provides the ephemeral key.
    pub fn new<R: CryptoRng + ?Sized>(
        profile: Profile,
        server_static_key: &[u8; 32],
        rng: &mut R,
    ) -> Result<Self, Error> {
        Self::with_config(Config::new(profile), server_static_key, rng)
    }

    /// A handshake with explicit settings.
    pub fn with_config<R: CryptoRng + ?Sized>(
        config: Config,
        server_static_key: &[u8; 32],
        rng: &mut R,
    ) -> Result<Self, Error> {
        let state = build(
            true,
            config.profile.prologue(),
            None,
            Some(server_static_key),
            random_seed(rng),
        )?;
        Ok(Self {
            config,
            server_static_key: *server_static_key,
            state,
            wrote_first: false,
        })
    }

    /// The first handshake frame (`-> e, es`), to send to the server.
    pub fn write_first(&mut self) -> Result<Vec<u8>, Error> {
        if self.wrote_first {
            return Err(Error::OutOfOrder("write_first called twice"));
        }
        let mut frame = vec![0_u8; HANDSHAKE_FRAME_LEN];
        let len = self
            .state
            .write_message(&[], &mut frame)
            .map_err(|_| Error::Handshake)?;
        frame.truncate(len);
        self.wrote_first = true;
        Ok(frame)
    }

    /// Reads the server's frame (`<- e, ee`) and completes the handshake. The session is
    /// encrypted but not yet verified: it can only ask for and verify the attestation.
    pub fn read_second(mut self, frame: &[u8]) -> Result<UnverifiedSession, Error> {
        if !self.wrote_first {
            return Err(Error::OutOfOrder("read_second before write_first"));
        }
        read_empty_frame(&mut self.state, frame)?;
        let (h, transport) = finish(self.state)?;
        Ok(UnverifiedSession::new(
            Channel::new(transport, self.config),
            h,
            self.server_static_key,
        ))
    }
}

impl std::fmt::Debug for Initiator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Initiator")
            .field("profile", &self.config.profile)
            .field("server_static_key", &hex::encode(self.server_static_key))
            .field("wrote_first", &self.wrote_first)
            .finish_non_exhaustive()
    }
}

/// The server side of the handshake.
pub struct Responder {
    identity: Arc<ServerIdentity>,
    state: snow::HandshakeState,
    read_first: bool,
}

impl Responder {
    /// A handshake for one client; `rng` provides the ephemeral key.
    pub fn new<R: CryptoRng + ?Sized>(
        identity: Arc<ServerIdentity>,
        rng: &mut R,
    ) -> Result<Self, Error> {
        let state = build(
            false,
            identity.config().profile.prologue(),
            Some(identity.noise_key().secret_bytes()),
            None,
            random_seed(rng),
        )?;
        Ok(Self {
            identity,
            state,
            read_first: false,
        })
    }

    /// Reads the client's first frame (`-> e, es`).
    pub fn read_first(&mut self, frame: &[u8]) -> Result<(), Error> {
        if self.read_first {
            return Err(Error::OutOfOrder("read_first called twice"));
        }
        read_empty_frame(&mut self.state, frame)?;
        self.read_first = true;
        Ok(())
    }

    /// The second frame (`<- e, ee`), to send, and the server's session.
    pub fn write_second(mut self) -> Result<(Vec<u8>, ServerSession), Error> {
        if !self.read_first {
            return Err(Error::OutOfOrder("write_second before read_first"));
        }
        let mut frame = vec![0_u8; HANDSHAKE_FRAME_LEN];
        let len = self
            .state
            .write_message(&[], &mut frame)
            .map_err(|_| Error::Handshake)?;
        frame.truncate(len);
        let (h, transport) = finish(self.state)?;
        let channel = Channel::new(transport, self.identity.config().clone());
        Ok((frame, ServerSession::new(channel, h, self.identity)))
    }
}

impl std::fmt::Debug for Responder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Responder")
            .field("profile", &self.identity.config().profile)
            .field("read_first", &self.read_first)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex32(v: &serde_json::Value) -> [u8; 32] {
        hex::decode(v.as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap()
    }

    fn bytes(v: &serde_json::Value) -> Vec<u8> {
        hex::decode(v.as_str().unwrap()).unwrap()
    }

    /// Runs every `Noise_NK_25519_ChaChaPoly_SHA256` vector of `file` through `build` (our
    /// primitives, the ephemeral key fed through the caller-randomness path), checking each
    /// ciphertext, the handshake hash where the file has one, and the transport messages.
    /// Returns how many vectors ran.
    fn run_vectors(file: &str) -> Option<usize> {
        let json = attested_testdata::read(&format!("noise/{file}"))?;
        let json: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let mut count = 0;
        for v in json["vectors"].as_array().unwrap() {
            if v["protocol_name"] != PROTOCOL_NAME {
                continue;
            }
            let mut init = build(
                true,
                &bytes(&v["init_prologue"]),
                None,
                Some(&hex32(&v["init_remote_static"])),
                Zeroizing::new(hex32(&v["init_ephemeral"])),
            )
            .unwrap();
            let mut resp = build(
                false,
                &bytes(&v["resp_prologue"]),
                Some(&hex32(&v["resp_static"])),
                None,
                Zeroizing::new(hex32(&v["resp_ephemeral"])),
            )
            .unwrap();
            let messages = v["messages"].as_array().unwrap();
            let mut buf = vec![0_u8; 65535];
            let mut out = vec![0_u8; 65535];
            for (i, m) in messages.iter().take(2).enumerate() {
                let (writer, reader) = if i == 0 {
                    (&mut init, &mut resp)
                } else {
                    (&mut resp, &mut init)
                };
                let payload = bytes(&m["payload"]);
                let len = writer.write_message(&payload, &mut buf).unwrap();
                assert_eq!(&buf[..len], bytes(&m["ciphertext"]), "message {i}");
                let n = reader.read_message(&buf[..len], &mut out).unwrap();
                assert_eq!(&out[..n], payload);
            }
            if let Some(h) = v.get("handshake_hash") {
                assert_eq!(init.get_handshake_hash(), bytes(h));
            }
            let (h_init, mut init) = finish(init).unwrap();
            let (h_resp, mut resp) = finish(resp).unwrap();
            assert_eq!(h_init, h_resp);
            for (i, m) in messages.iter().enumerate().skip(2) {
                let (writer, reader) = if i % 2 == 0 {
                    (&mut init, &mut resp)
                } else {
                    (&mut resp, &mut init)
                };
                // Our in-place transport, byte for byte.
                let payload = bytes(&m["payload"]);
                let mut frame = payload.clone();
                writer.send.seal(&mut frame, 0).unwrap();
                assert_eq!(frame, bytes(&m["ciphertext"]), "message {i}");
                let (body, tag) = frame.split_at_mut(payload.len());
                reader.receive.open(body, tag).unwrap();
                assert_eq!(body, &payload[..]);
            }
            count += 1;
        }
        Some(count)
    }

    #[test]
    fn cacophony_nk_vectors() {
        if let Some(count) = run_vectors("cacophony.json") {
            assert_eq!(count, 1);
        }
        if let Some(count) = run_vectors("cacophony-NK_25519-subset.json") {
            assert_eq!(count, 1);
        }
    }

    #[test]
    fn snow_nk_vectors() {
        if let Some(count) = run_vectors("snow.json") {
            assert_eq!(count, 1);
        }
    }
}
