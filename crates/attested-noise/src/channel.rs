//! The transport phase: one Noise message per frame, v1 chunking and rekeying, and closing on
//! the first bad frame.
//!
//! A v1 frame's plaintext starts with one flags byte: [`MORE`] (another chunk of the same
//! message follows) and [`REKEY`] (the sender rekeys its direction after this frame). The
//! receiver follows the flag, so each side's rekey threshold is its own setting.

use zeroize::Zeroizing;

use crate::Error;
use crate::message::Message;
use crate::profile::{Config, MAX_FRAME_PLAINTEXT, Profile};

const TAG_LEN: usize = 16;
const MAX_FRAME: usize = MAX_FRAME_PLAINTEXT + TAG_LEN;
const MORE: u8 = 0x01;
const REKEY: u8 = 0x02;
const V1_CHUNK: usize = MAX_FRAME_PLAINTEXT - 1;

pub(crate) struct Channel {
    /// `None` once closed: a session that saw one bad frame carries nothing more.
    transport: Option<snow::TransportState>,
    config: Config,
    sent_since_rekey: u64,
    inbound: Zeroizing<Vec<u8>>,
}

impl Channel {
    pub(crate) fn new(transport: snow::TransportState, config: Config) -> Self {
        Self {
            transport: Some(transport),
            config,
            sent_since_rekey: 0,
            inbound: Zeroizing::new(Vec::new()),
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
        self.inbound = Zeroizing::new(Vec::new());
        error
    }

    /// Encodes and encrypts `message` into the frames to send, in order.
    pub(crate) fn send(&mut self, message: &Message) -> Result<Vec<Vec<u8>>, Error> {
        let plaintext = Zeroizing::new(message.encode()?);
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
        match profile {
            Profile::Seed => Ok(vec![encrypt(transport, plaintext)?]),
            Profile::V1 => {
                // An empty message still takes one frame.
                let pieces: Vec<&[u8]> = if plaintext.is_empty() {
                    vec![plaintext]
                } else {
                    plaintext.chunks(V1_CHUNK).collect()
                };
                let last = pieces.len() - 1;
                let mut frames = Vec::with_capacity(pieces.len());
                let mut scratch =
                    Zeroizing::new(Vec::with_capacity(plaintext.len().min(V1_CHUNK) + 1));
                for (index, chunk) in pieces.into_iter().enumerate() {
                    let mut flags = if index < last { MORE } else { 0 };
                    self.sent_since_rekey =
                        self.sent_since_rekey.saturating_add(chunk.len() as u64);
                    let rekey = self.sent_since_rekey >= rekey_after;
                    if rekey {
                        flags |= REKEY;
                    }
                    scratch.clear();
                    scratch.push(flags);
                    scratch.extend_from_slice(chunk);
                    frames.push(encrypt(transport, &scratch)?);
                    if rekey {
                        transport.rekey_outgoing();
                        self.sent_since_rekey = 0;
                    }
                }
                Ok(frames)
            }
        }
    }

    /// Decrypts one frame. Returns the complete encoded message, or `None` while a chunked v1
    /// message is still arriving. Any failure closes the channel.
    pub(crate) fn open(&mut self, frame: &[u8]) -> Result<Option<Zeroizing<Vec<u8>>>, Error> {
        let transport = self.transport.as_mut().ok_or(Error::Closed)?;
        if !(TAG_LEN..=MAX_FRAME).contains(&frame.len()) {
            return Err(self.close(Error::FrameLength(frame.len())));
        }
        let mut plaintext = Zeroizing::new(vec![0_u8; frame.len() - TAG_LEN]);
        let len = match transport.read_message(frame, &mut plaintext) {
            Ok(len) => len,
            Err(_) => return Err(self.close(Error::Decrypt)),
        };
        plaintext.truncate(len);
        if self.config.profile == Profile::Seed {
            return Ok(Some(plaintext));
        }
        let Some((&flags, body)) = plaintext.split_first() else {
            return Err(self.close(Error::FrameHeader));
        };
        if flags & !(MORE | REKEY) != 0 {
            return Err(self.close(Error::FrameHeader));
        }
        if flags & REKEY != 0 {
            transport.rekey_incoming();
        }
        let max = self.config.message_limit();
        if self.inbound.len() + body.len() > max {
            return Err(self.close(Error::ReceivedTooLarge { max }));
        }
        if flags & MORE != 0 {
            self.inbound.extend_from_slice(body);
            return Ok(None);
        }
        if self.inbound.is_empty() {
            // The common case, one frame per message: drop the flags byte in place.
            plaintext.remove(0);
            return Ok(Some(plaintext));
        }
        self.inbound.extend_from_slice(body);
        Ok(Some(std::mem::replace(
            &mut self.inbound,
            Zeroizing::new(Vec::new()),
        )))
    }

    /// Decrypts one frame and decodes the message it completes, if any.
    pub(crate) fn receive(&mut self, frame: &[u8]) -> Result<Option<Message>, Error> {
        match self.open(frame)? {
            Some(plaintext) => Message::decode(&plaintext).map(Some),
            None => Ok(None),
        }
    }
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
