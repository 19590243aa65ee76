//! The transport phase: one Noise message per frame, v1 chunking and rekeying, and closing on
//! the first bad frame.
//!
//! A v1 frame's plaintext ends with one flags byte: [`MORE`] (another chunk of the same
//! message follows) and [`REKEY`] (the sender rekeys its direction after this frame). The
//! receiver follows the flag, so each side's rekey threshold is its own setting. The flags
//! trail the body so that both ends work in place: the sender writes the body and the flags into
//! the frame it sends and encrypts there; the receiver decrypts straight into the message it
//! reassembles and drops the last byte.
//!
//! Frames are encrypted and decrypted with [`CipherState`], in place, in the buffer that carries
//! them: one copy of the bytes per frame each way, as bare snow makes.

use crate::Error;
use crate::crypto::CipherState;
use crate::limits::{MAX_FRAME_LEN, MAX_FRAME_PLAINTEXT};
use crate::message::{Direction, Message};
use crate::plaintext::{Plaintext, append, wipe};
use crate::profile::{Config, Profile};

const TAG_LEN: usize = 16;
const MORE: u8 = 0x01;
const REKEY: u8 = 0x02;
const V1_CHUNK: usize = MAX_FRAME_PLAINTEXT - 1;
/// Room left after a full frame for the rest of a message (see `Channel::open`).
const TAIL_RESERVE: usize = 4096;

/// Both directions of a finished handshake (Noise's Split, ordered for this side).
pub(crate) struct Transport {
    pub(crate) send: CipherState,
    pub(crate) receive: CipherState,
}

impl Transport {
    pub(crate) fn new(send: CipherState, receive: CipherState) -> Self {
        Self { send, receive }
    }
}

pub(crate) struct Channel {
    /// `None` once closed: a session that saw one bad frame carries nothing more.
    transport: Option<Transport>,
    config: Config,
    sent_since_rekey: u64,
    /// The chunks of a v1 message still arriving, decrypted in place.
    inbound: Plaintext,
}

impl Channel {
    pub(crate) fn new(transport: Transport, config: Config) -> Self {
        Self {
            transport: Some(transport),
            config,
            sent_since_rekey: 0,
            inbound: Plaintext::new(Vec::new()),
        }
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.transport.is_none()
    }

    fn close(&mut self, error: Error) -> Error {
        self.transport = None;
        self.inbound = Plaintext::new(Vec::new());
        error
    }

    /// Encodes and encrypts `message` into the frames to send, in order.
    pub(crate) fn send(&mut self, message: &Message) -> Result<Vec<Vec<u8>>, Error> {
        let plaintext = Plaintext::new(message.encode()?);
        self.seal(&plaintext)
    }

    /// Encrypts one encoded message into frames. Limits are checked before anything is
    /// encrypted, so a refused message leaves both ends in step.
    pub(crate) fn seal(&mut self, plaintext: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let max = self.config.message_limit();
        if plaintext.len() > max {
            return Err(Error::MessageTooLarge {
                len: plaintext.len(),
                max,
            });
        }
        match self.seal_frames(plaintext) {
            Ok(frames) => Ok(frames),
            Err(error) => Err(self.close(error)),
        }
    }

    fn seal_frames(&mut self, plaintext: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
        let profile = self.config.profile;
        let rekey_after = self.config.rekey_after;
        let transport = self.transport.as_mut().ok_or(Error::Closed)?;
        if profile == Profile::Seed {
            return Ok(vec![seal_frame(&mut transport.send, plaintext, None)?]);
        }
        // An empty message still takes one frame.
        let pieces: Vec<&[u8]> = if plaintext.is_empty() {
            vec![plaintext]
        } else {
            plaintext.chunks(V1_CHUNK).collect()
        };
        let last = pieces.len() - 1;
        let mut frames = Vec::with_capacity(pieces.len());
        for (index, chunk) in pieces.into_iter().enumerate() {
            let mut flags = if index < last { MORE } else { 0 };
            self.sent_since_rekey = self.sent_since_rekey.saturating_add(chunk.len() as u64);
            let rekey = self.sent_since_rekey >= rekey_after;
            if rekey {
                flags |= REKEY;
            }
            frames.push(seal_frame(&mut transport.send, chunk, Some(flags))?);
            if rekey {
                transport.send.rekey();
                self.sent_since_rekey = 0;
            }
        }
        Ok(frames)
    }

    /// Decrypts one frame. Returns the complete encoded message, or `None` while a chunked v1
    /// message is still arriving. Any failure closes the channel.
    pub(crate) fn open(&mut self, frame: &[u8]) -> Result<Option<Plaintext>, Error> {
        let transport = self.transport.as_mut().ok_or(Error::Closed)?;
        let Some((ciphertext, tag)) = frame
            .split_at_checked(frame.len().wrapping_sub(TAG_LEN))
            .filter(|_| frame.len() <= MAX_FRAME_LEN)
        else {
            return Err(self.close(Error::FrameLength(frame.len())));
        };
        if self.config.profile == Profile::Seed {
            let mut plaintext = Plaintext::new(ciphertext.to_vec());
            return match transport.receive.open(&mut plaintext.0, tag) {
                Ok(()) => Ok(Some(plaintext)),
                Err(_) => Err(self.close(Error::Decrypt)),
            };
        }
        let max = self.config.message_limit();
        let inbound = &mut self.inbound.0;
        let start = inbound.len();
        // The body (all but the trailing flags byte) must fit under the limit; checked before
        // anything is buffered.
        if start + ciphertext.len().saturating_sub(1) > max {
            return Err(self.close(Error::ReceivedTooLarge { max }));
        }
        // A full frame is likely followed by more: leave room for a short tail, the common case
        // of a message a little over one frame. Longer messages grow the buffer geometrically.
        let reserve = if frame.len() == MAX_FRAME_LEN {
            TAIL_RESERVE
        } else {
            0
        };
        append(inbound, ciphertext, reserve, max + MAX_FRAME_PLAINTEXT);
        let outcome = match inbound
            .get_mut(start..)
            .map(|body| transport.receive.open(body, tag))
        {
            Some(Ok(())) if inbound.len() == start => Err(Error::FrameHeader),
            Some(Ok(())) => match inbound.pop() {
                Some(flags) if flags & !(MORE | REKEY) == 0 => {
                    if flags & REKEY != 0 {
                        transport.receive.rekey();
                    }
                    Ok(flags & MORE == 0)
                }
                _ => Err(Error::FrameHeader),
            },
            _ => Err(Error::Decrypt),
        };
        match outcome {
            Ok(true) => Ok(Some(std::mem::replace(
                &mut self.inbound,
                Plaintext::new(Vec::new()),
            ))),
            Ok(false) => Ok(None),
            Err(error) => Err(self.close(error)),
        }
    }

    /// Decrypts one frame and decodes the message it completes, if any.
    pub(crate) fn receive(&mut self, frame: &[u8]) -> Result<Option<Message>, Error> {
        self.receive_from(frame, Direction::Any)
    }

    /// As [`receive`](Self::receive), accepting only what a client sends (the server's side):
    /// the payload of any other type is never parsed.
    pub(crate) fn receive_request(&mut self, frame: &[u8]) -> Result<Option<Message>, Error> {
        self.receive_from(frame, Direction::Requests)
    }

    fn receive_from(
        &mut self,
        frame: &[u8],
        direction: Direction,
    ) -> Result<Option<Message>, Error> {
        match self.open(frame)? {
            Some(plaintext) => Message::decode_from(&plaintext, direction).map(Some),
            None => Ok(None),
        }
    }
}

/// One frame: `body` and the v1 flags byte written into the frame's own buffer and encrypted
/// there.
fn seal_frame(cipher: &mut CipherState, body: &[u8], flags: Option<u8>) -> Result<Vec<u8>, Error> {
    let mut frame = Vec::with_capacity(body.len() + 1 + TAG_LEN);
    frame.extend_from_slice(body);
    frame.extend(flags);
    match cipher.seal(&mut frame, 0) {
        Ok(()) => Ok(frame),
        // The length was checked against the Noise limit; only a nonce run out (2^64 frames)
        // gets here, before anything was encrypted: erase the plaintext and end the session.
        Err(_) => {
            wipe(&mut frame);
            Err(Error::Closed)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handshake::{build, finish};
    use zeroize::Zeroizing;

    /// Our transport (initiator) and, as its peer, a raw snow transport that shows the frames'
    /// plaintext: on snow's own primitives with `snow_primitives` (an independent
    /// implementation of the same Noise operations), else on ours.
    fn transports(profile: Profile, snow_primitives: bool) -> (Transport, snow::TransportState) {
        let server_secret = [7_u8; 32];
        let server_public =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(server_secret))
                .to_bytes();
        let mut ours = build(
            true,
            profile.prologue(),
            None,
            Some(&server_public),
            Zeroizing::new([1; 32]),
        )
        .unwrap();
        let mut raw = if snow_primitives {
            snow::Builder::new(crate::profile::PROTOCOL_NAME.parse().unwrap())
                .prologue(profile.prologue())
                .unwrap()
                .local_private_key(&server_secret)
                .unwrap()
                .build_responder()
                .unwrap()
        } else {
            build(
                false,
                profile.prologue(),
                Some(&server_secret),
                None,
                Zeroizing::new([2; 32]),
            )
            .unwrap()
        };
        let mut buf = [0_u8; 64];
        let n = ours.write_message(&[], &mut buf).unwrap();
        raw.read_message(&buf[..n], &mut [0_u8; 64]).unwrap();
        let n = raw.write_message(&[], &mut buf).unwrap();
        ours.read_message(&buf[..n], &mut [0_u8; 64]).unwrap();
        (finish(ours).unwrap().1, raw.into_transport_mode().unwrap())
    }

    #[test]
    fn rekey_flag_trails_the_body_and_the_key_changes() {
        let (sender, mut raw_receiver) = transports(Profile::V1, false);
        let mut sender = Channel::new(sender, Config::new(Profile::V1).rekey_after(10));
        let mut out = vec![0_u8; 65535];

        let frame = sender.seal(b"0123456789").unwrap().remove(0);
        let n = raw_receiver.read_message(&frame, &mut out).unwrap();
        assert_eq!(&out[..n], b"0123456789\x02");
        assert_eq!(out[n - 1], REKEY);

        // A receiver that ignores the flag no longer decrypts: the sender really rekeyed.
        let frame = sender.seal(b"x").unwrap().remove(0);
        assert!(raw_receiver.read_message(&frame, &mut out).is_err());
    }

    #[test]
    fn our_transport_is_snows_transport_and_our_rekey_is_snows_rekey() {
        let (ours, mut snow_peer) = transports(Profile::V1, true);
        let mut ours = Channel::new(ours, Config::new(Profile::V1).rekey_after(1));
        let mut out = vec![0_u8; 65535];
        for round in 0..3_u8 {
            let frame = ours.seal(&[round]).unwrap().remove(0);
            let n = snow_peer.read_message(&frame, &mut out).unwrap();
            assert_eq!(&out[..n], &[round, REKEY]);
            snow_peer.rekey_incoming();

            // And back: snow's frames, its rekey signalled by the flag, open on our side.
            let n = snow_peer
                .write_message(&[b'a', round, REKEY], &mut out)
                .unwrap();
            snow_peer.rekey_outgoing();
            let opened = ours.open(&out[..n]).unwrap().unwrap();
            assert_eq!(&opened[..], &[b'a', round]);
        }
    }

    #[test]
    fn chunks_from_snow_reassemble_and_the_flags_byte_never_shows() {
        let (ours, mut snow_peer) = transports(Profile::V1, true);
        let mut ours = Channel::new(ours, Config::new(Profile::V1));
        let message: Vec<u8> = (0..3 * V1_CHUNK + 5)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let mut frame = vec![0_u8; 65535];
        let pieces: Vec<&[u8]> = message.chunks(V1_CHUNK).collect();
        for (index, piece) in pieces.iter().enumerate() {
            let flags = if index + 1 < pieces.len() { MORE } else { 0 };
            let n = snow_peer
                .write_message(&[*piece, &[flags]].concat(), &mut frame)
                .unwrap();
            let opened = ours.open(&frame[..n]).unwrap();
            assert_eq!(opened.is_some(), flags == 0);
            if let Some(opened) = opened {
                assert_eq!(&opened[..], &message[..]);
            }
        }
    }

    #[test]
    fn below_the_threshold_no_rekey_flag() {
        let (sender, mut raw_receiver) = transports(Profile::V1, false);
        let mut sender = Channel::new(sender, Config::new(Profile::V1).rekey_after(1000));
        let mut out = vec![0_u8; 65535];
        for _ in 0..3 {
            let frame = sender.seal(b"abc").unwrap().remove(0);
            let n = raw_receiver.read_message(&frame, &mut out).unwrap();
            assert_eq!(&out[..n], b"abc\x00");
        }
    }

    #[test]
    fn unknown_flags_and_empty_v1_frames_close_the_channel() {
        for plaintext in [&[b'x', 0x04_u8][..], &[][..]] {
            let (receiver, mut raw_sender) = transports(Profile::V1, false);
            let mut receiver = Channel::new(receiver, Config::new(Profile::V1));
            let mut frame = vec![0_u8; plaintext.len() + TAG_LEN];
            let n = raw_sender.write_message(plaintext, &mut frame).unwrap();
            assert!(matches!(
                receiver.open(&frame[..n]),
                Err(Error::FrameHeader)
            ));
            assert!(receiver.is_closed());
        }
    }

    #[test]
    fn an_empty_frame_after_a_chunk_does_not_eat_the_chunk() {
        let (receiver, mut raw_sender) = transports(Profile::V1, false);
        let mut receiver = Channel::new(receiver, Config::new(Profile::V1));
        let mut frame = vec![0_u8; 65535];
        let n = raw_sender.write_message(b"abc\x01", &mut frame).unwrap();
        assert!(receiver.open(&frame[..n]).unwrap().is_none());
        let n = raw_sender.write_message(&[], &mut frame).unwrap();
        assert!(matches!(
            receiver.open(&frame[..n]),
            Err(Error::FrameHeader)
        ));
    }

    #[test]
    fn seed_frames_carry_the_message_alone() {
        let (sender, mut raw_receiver) = transports(Profile::Seed, true);
        let mut sender = Channel::new(sender, Config::new(Profile::Seed));
        let frame = sender.send(&Message::Ping).unwrap().remove(0);
        let mut out = vec![0_u8; 65535];
        let n = raw_receiver.read_message(&frame, &mut out).unwrap();
        assert_eq!(&out[..n], br#"{"type":"ping","payload":{}}"#);
    }
}
