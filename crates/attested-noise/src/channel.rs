//! The transport phase: one Noise message per frame, v1 chunking and rekeying, and closing on
//! the first bad frame.
//!
//! A v1 frame's plaintext starts with one flags byte: [`MORE`] (another chunk of the same
//! message follows) and [`REKEY`] (the sender rekeys its direction after this frame). The
//! receiver follows the flag, so each side's rekey threshold is its own setting.

use crate::Error;
use crate::message::Message;
use crate::profile::{Config, MAX_FRAME_PLAINTEXT, Profile};

const TAG_LEN: usize = 16;
const MAX_FRAME: usize = MAX_FRAME_PLAINTEXT + TAG_LEN;
const MORE: u8 = 0x01;
const REKEY: u8 = 0x02;
const V1_CHUNK: usize = MAX_FRAME_PLAINTEXT - 1;

/// Decrypted or to-be-encrypted bytes, erased when dropped.
///
/// Erasure is a plain memset behind [`zeroize::optimization_barrier`]: `Zeroizing<Vec<u8>>`
/// writes byte by byte with volatile stores, which costs more than the AEAD on 64 KiB frames.
/// The buffers this crate fills never grow in place (see `append`), so no copy of the bytes is
/// left in freed memory or spare capacity.
pub struct Plaintext(Vec<u8>);

impl Plaintext {
    fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes, moved out; erasing them becomes the caller's business.
    pub fn into_vec(mut self) -> Vec<u8> {
        std::mem::take(&mut self.0)
    }
}

/// Zeroes `bytes` in a way the optimizer cannot remove.
fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    zeroize::optimization_barrier(bytes);
}

/// Appends `body` to `buffer`, reserving `extra` more bytes when it must grow; growing moves the
/// bytes to a new allocation and wipes the old one (a `Vec` reallocation would leave them behind).
fn append(buffer: &mut Vec<u8>, body: &[u8], extra: usize) {
    let needed = buffer.len() + body.len();
    if buffer.capacity() < needed {
        let mut grown = Vec::with_capacity(needed + extra);
        grown.extend_from_slice(buffer);
        wipe(buffer);
        *buffer = grown;
    }
    buffer.extend_from_slice(body);
}

impl Drop for Plaintext {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl std::ops::Deref for Plaintext {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for Plaintext {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Plaintext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Plaintext({} bytes)", self.0.len())
    }
}

pub(crate) struct Channel {
    /// `None` once closed: a session that saw one bad frame carries nothing more.
    transport: Option<snow::TransportState>,
    config: Config,
    sent_since_rekey: u64,
    /// The chunks of a v1 message still arriving.
    inbound: Plaintext,
    /// One frame's plaintext on its way in or out (v1): allocated once at full frame size, and
    /// the part used wiped after each frame.
    scratch: Plaintext,
}

impl Channel {
    pub(crate) fn new(transport: snow::TransportState, config: Config) -> Self {
        Self {
            transport: Some(transport),
            config,
            sent_since_rekey: 0,
            inbound: Plaintext::new(Vec::new()),
            scratch: Plaintext::new(Vec::new()),
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
        let profile = self.config.profile;
        let rekey_after = self.config.rekey_after;
        let transport = self.transport.as_mut().ok_or(Error::Closed)?;
        if profile == Profile::Seed {
            return Ok(vec![encrypt(transport, plaintext)?]);
        }
        // An empty message still takes one frame.
        let pieces: Vec<&[u8]> = if plaintext.is_empty() {
            vec![plaintext]
        } else {
            plaintext.chunks(V1_CHUNK).collect()
        };
        let last = pieces.len() - 1;
        let mut frames = Vec::with_capacity(pieces.len());
        let scratch = scratch_buffer(&mut self.scratch);
        let mut result = Ok(());
        for (index, chunk) in pieces.into_iter().enumerate() {
            let mut flags = if index < last { MORE } else { 0 };
            self.sent_since_rekey = self.sent_since_rekey.saturating_add(chunk.len() as u64);
            let rekey = self.sent_since_rekey >= rekey_after;
            if rekey {
                flags |= REKEY;
            }
            let Some(used) = scratch.get_mut(..chunk.len() + 1) else {
                result = Err(Error::Closed);
                break;
            };
            let (header, body) = used.split_at_mut(1);
            header.fill(flags);
            body.copy_from_slice(chunk);
            let sealed = encrypt(transport, used);
            wipe(used);
            match sealed {
                Ok(frame) => frames.push(frame),
                Err(error) => {
                    result = Err(error);
                    break;
                }
            }
            if rekey {
                transport.rekey_outgoing();
                self.sent_since_rekey = 0;
            }
        }
        result.map(|()| frames)
    }

    /// Decrypts one frame. Returns the complete encoded message, or `None` while a chunked v1
    /// message is still arriving. Any failure closes the channel.
    pub(crate) fn open(&mut self, frame: &[u8]) -> Result<Option<Plaintext>, Error> {
        let transport = self.transport.as_mut().ok_or(Error::Closed)?;
        if !(TAG_LEN..=MAX_FRAME).contains(&frame.len()) {
            return Err(self.close(Error::FrameLength(frame.len())));
        }
        if self.config.profile == Profile::Seed {
            let mut plaintext = Plaintext::new(vec![0_u8; frame.len() - TAG_LEN]);
            return match transport.read_message(frame, &mut plaintext.0) {
                Ok(len) => {
                    plaintext.0.truncate(len);
                    Ok(Some(plaintext))
                }
                Err(_) => Err(self.close(Error::Decrypt)),
            };
        }
        let max = self.config.message_limit();
        let scratch = scratch_buffer(&mut self.scratch);
        let Some(buffer) = scratch.get_mut(..frame.len() - TAG_LEN) else {
            return Err(self.close(Error::FrameLength(frame.len())));
        };
        let outcome = match transport.read_message(frame, buffer) {
            Err(_) => Err(Error::Decrypt),
            Ok(len) => match buffer.get(..len).and_then(<[u8]>::split_first) {
                None => Err(Error::FrameHeader),
                Some((&flags, _)) if flags & !(MORE | REKEY) != 0 => Err(Error::FrameHeader),
                Some((&flags, body)) => {
                    let inbound = &mut self.inbound.0;
                    if inbound.len() + body.len() > max {
                        Err(Error::ReceivedTooLarge { max })
                    } else {
                        let more = flags & MORE != 0;
                        append(inbound, body, if more { V1_CHUNK } else { 0 });
                        if flags & REKEY != 0 {
                            transport.rekey_incoming();
                        }
                        Ok(!more)
                    }
                }
            },
        };
        wipe(buffer);
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
        match self.open(frame)? {
            Some(plaintext) => Message::decode(&plaintext).map(Some),
            None => Ok(None),
        }
    }
}

/// The scratch buffer at full frame size, allocated on first use.
fn scratch_buffer(scratch: &mut Plaintext) -> &mut [u8] {
    if scratch.0.len() < MAX_FRAME_PLAINTEXT {
        scratch.0 = vec![0_u8; MAX_FRAME_PLAINTEXT];
    }
    &mut scratch.0
}

fn encrypt(transport: &mut snow::TransportState, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
    let mut frame = vec![0_u8; plaintext.len() + TAG_LEN];
    // The length was checked against the Noise limit, and the nonce cannot run out before
    // 2^64 frames: a failure here is an internal fault, reported as a closed session.
    let len = transport
        .write_message(plaintext, &mut frame)
        .map_err(|_| Error::Closed)?;
    frame.truncate(len);
    Ok(frame)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Resolver;
    use zeroize::Zeroizing;

    fn transports(profile: Profile) -> (snow::TransportState, snow::TransportState) {
        transports_with(profile, false)
    }

    /// Initiator and responder transports; with `snow_responder`, the responder runs on snow's
    /// own primitives (an independent implementation of the same Noise operations).
    fn transports_with(
        profile: Profile,
        snow_responder: bool,
    ) -> (snow::TransportState, snow::TransportState) {
        let server_secret = [7_u8; 32];
        let server_public =
            x25519_dalek::PublicKey::from(&x25519_dalek::StaticSecret::from(server_secret))
                .to_bytes();
        let build = |initiator: bool, seed: u8| {
            let params = crate::profile::PROTOCOL_NAME.parse().unwrap();
            let builder = if !initiator && snow_responder {
                snow::Builder::new(params)
            } else {
                snow::Builder::with_resolver(
                    params,
                    Box::new(Resolver::new(Zeroizing::new([seed; 32]))),
                )
            }
            .prologue(profile.prologue())
            .unwrap();
            if initiator {
                builder
                    .remote_public_key(&server_public)
                    .unwrap()
                    .build_initiator()
            } else {
                builder
                    .local_private_key(&server_secret)
                    .unwrap()
                    .build_responder()
            }
            .unwrap()
        };
        let (mut i, mut r) = (build(true, 1), build(false, 2));
        let mut buf = [0_u8; 64];
        let n = i.write_message(&[], &mut buf).unwrap();
        r.read_message(&buf[..n], &mut [0_u8; 64]).unwrap();
        let n = r.write_message(&[], &mut buf).unwrap();
        i.read_message(&buf[..n], &mut [0_u8; 64]).unwrap();
        (
            i.into_transport_mode().unwrap(),
            r.into_transport_mode().unwrap(),
        )
    }

    #[test]
    fn rekey_flag_is_set_and_the_key_changes() {
        let (sender, mut raw_receiver) = transports(Profile::V1);
        let mut sender = Channel::new(sender, Config::new(Profile::V1).rekey_after(10));
        let mut out = vec![0_u8; 65535];

        let frame = sender.seal(b"0123456789").unwrap().remove(0);
        let n = raw_receiver.read_message(&frame, &mut out).unwrap();
        assert_eq!(out[0], REKEY);
        assert_eq!(&out[1..n], b"0123456789");

        // A receiver that ignores the flag no longer decrypts: the sender really rekeyed.
        let frame = sender.seal(b"x").unwrap().remove(0);
        assert!(raw_receiver.read_message(&frame, &mut out).is_err());
    }

    #[test]
    fn our_rekey_is_snows_rekey() {
        let (sender, mut snow_receiver) = transports_with(Profile::V1, true);
        let mut sender = Channel::new(sender, Config::new(Profile::V1).rekey_after(1));
        let mut out = vec![0_u8; 65535];
        for round in 0..3_u8 {
            let frame = sender.seal(&[round]).unwrap().remove(0);
            let n = snow_receiver.read_message(&frame, &mut out).unwrap();
            assert_eq!(&out[..n], &[REKEY, round]);
            snow_receiver.rekey_incoming();
        }
    }

    #[test]
    fn below_the_threshold_no_rekey_flag() {
        let (sender, mut raw_receiver) = transports(Profile::V1);
        let mut sender = Channel::new(sender, Config::new(Profile::V1).rekey_after(1000));
        let mut out = vec![0_u8; 65535];
        for _ in 0..3 {
            let frame = sender.seal(b"abc").unwrap().remove(0);
            raw_receiver.read_message(&frame, &mut out).unwrap();
            assert_eq!(out[0], 0);
        }
    }

    #[test]
    fn unknown_flags_and_empty_v1_frames_close_the_channel() {
        for plaintext in [&[0x04_u8, b'x'][..], &[][..]] {
            let (mut raw_sender, receiver) = transports(Profile::V1);
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
    fn seed_frames_carry_the_message_alone() {
        let (sender, mut raw_receiver) = transports(Profile::Seed);
        let mut sender = Channel::new(sender, Config::new(Profile::Seed));
        let frame = sender.send(&Message::Ping).unwrap().remove(0);
        let mut out = vec![0_u8; 65535];
        let n = raw_receiver.read_message(&frame, &mut out).unwrap();
        assert_eq!(&out[..n], br#"{"type":"ping","payload":{}}"#);
    }
}
