//! Limits: what a server facing anonymous clients allows each of them, and the sizes frames
//! and messages are held to.
//!
//! [`ServerLimits`] decides here rather than in each server how many sessions at once, how long
//! a handshake or a silence may last, how many attestations one session may ask for, and the
//! frame limit for the transport. The core holds no clock and no socket: timeouts are values the
//! caller applies to its reads, and the session count is a counter whose [`SessionPermit`] the
//! caller keeps for the life of the connection.
//!
//! The sizes: both handshake frames are [`HANDSHAKE_FRAME_LEN`] bytes; a transport frame is at
//! most [`MAX_FRAME_LEN`] bytes, one Noise message, carrying at most [`MAX_FRAME_PLAINTEXT`]
//! bytes; a v1 message, chunked over frames, is at most
//! [`Config::max_message_len`](crate::Config::max_message_len) bytes,
//! [`DEFAULT_MAX_MESSAGE_LEN`] unless configured.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Both NK handshake frames with empty payloads: an ephemeral key and a tag. A handshake frame of
/// any other length is refused before it is read.
pub const HANDSHAKE_FRAME_LEN: usize = 32 + 16;

/// The largest Noise message (65535 bytes) less the AEAD tag: the largest plaintext one frame
/// can carry.
pub const MAX_FRAME_PLAINTEXT: usize = 65535 - 16;

/// The largest frame either profile sends or accepts: one Noise message, 65535 bytes. The
/// seed profile carries one JSON message per frame; v1 chunks longer messages into frames of
/// this size. Give it to the WebSocket layer as both its frame and its message limit (one
/// Noise message per WebSocket message), so that a larger frame is refused from its header,
/// before it is buffered.
pub const MAX_FRAME_LEN: usize = MAX_FRAME_PLAINTEXT + 16;

/// The default largest v1 message (after reassembly of chunks), sent or accepted: 1 MiB. A
/// receiver refuses a message growing past it before buffering the frame that would exceed
/// it, so a peer's message costs at most this much memory (plus one frame).
pub const DEFAULT_MAX_MESSAGE_LEN: usize = 1 << 20;

/// A server's limits on its clients. [`Default`] gives values fit for a public endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    max_sessions: usize,
    handshake_timeout: Duration,
    idle_timeout: Duration,
    answer_timeout: Duration,
    max_session_lifetime: Duration,
    max_attestations_per_session: u32,
}

impl Default for ServerLimits {
    /// 1,024 sessions at once; 10 s for the handshake; 5 minutes of silence; 5 minutes for
    /// the backend's whole answer to one request; an hour for a session; 4 attestations a
    /// session (each may cost a fresh quote with per-session evidence).
    fn default() -> Self {
        Self {
            max_sessions: 1024,
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            answer_timeout: Duration::from_secs(300),
            max_session_lifetime: Duration::from_secs(3600),
            max_attestations_per_session: 4,
        }
    }
}

impl ServerLimits {
    /// The defaults (see [`Default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// At most this many sessions at once (at least 1); one more is refused by
    /// [`ServerIdentity::admit`](crate::ServerIdentity::admit) before any handshake work.
    #[must_use]
    pub fn max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions.max(1);
        self
    }

    /// The time a client has from connecting to its first handshake frame.
    #[must_use]
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// The longest a session may go without a frame from its client (a streamed answer being
    /// sent does not count as silence).
    #[must_use]
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The longest the backend may take over one chat request, from sending it to the last
    /// piece of its answer. A streamed answer being relayed does not count as the client's
    /// silence, so without this a backend that stalls mid-answer would hold the session (one
    /// of [`ServerLimits::sessions`]) for ever; past it the session ends the answer with an
    /// `error` ([`ServerSession::answer_interrupted`](crate::ServerSession::answer_interrupted)).
    #[must_use]
    pub fn answer_timeout(mut self, timeout: Duration) -> Self {
        self.answer_timeout = timeout;
        self
    }

    /// The longest a session may last, however busy: without it, clients that keep talking
    /// hold every one of [`ServerLimits::sessions`] for ever and nobody else gets in. Past it
    /// the session is closed between messages (an answer in progress is finished, within the
    /// answer timeout); the client reconnects and attests again.
    #[must_use]
    pub fn max_session_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_session_lifetime = lifetime;
        self
    }

    /// How many `get_attestation` requests one session may make; later ones get an `error`.
    #[must_use]
    pub fn max_attestations_per_session(mut self, count: u32) -> Self {
        self.max_attestations_per_session = count;
        self
    }

    /// The session limit.
    pub fn sessions(&self) -> usize {
        self.max_sessions
    }

    /// The handshake timeout: close the connection when the first frame has not arrived by then.
    pub fn handshake_deadline(&self) -> Duration {
        self.handshake_timeout
    }

    /// The idle timeout: close the session when no frame has arrived for this long.
    pub fn idle_deadline(&self) -> Duration {
        self.idle_timeout
    }

    /// The answer timeout: stop waiting for the backend's answer to one request after this.
    pub fn answer_deadline(&self) -> Duration {
        self.answer_timeout
    }

    /// The session lifetime: close the session once it has lasted this long.
    pub fn session_lifetime(&self) -> Duration {
        self.max_session_lifetime
    }

    /// How long to wait for the next frame of a session that has lasted `age`: the idle
    /// timeout, cut to what is left of the lifetime; `None` once the lifetime is over (close
    /// the session).
    pub fn next_frame_within(&self, age: Duration) -> Option<Duration> {
        let left = self.max_session_lifetime.checked_sub(age)?;
        (!left.is_zero()).then(|| left.min(self.idle_timeout))
    }

    /// The attestation limit of one session.
    pub fn attestations_per_session(&self) -> u32 {
        self.max_attestations_per_session
    }

    /// The limit to give the WebSocket layer for one frame (tungstenite's `max_frame_size`)
    /// and for one message (`max_message_size`): one Noise message, [`MAX_FRAME_LEN`] bytes,
    /// in both profiles (v1 chunks longer messages into frames of this size). With it, a larger
    /// frame is refused from its header, before its payload is buffered.
    pub fn max_websocket_frame(&self) -> usize {
        MAX_FRAME_LEN
    }
}

/// The count of a server's open sessions, shared by the permits it hands out.
#[derive(Debug, Default)]
pub(crate) struct SessionCount(AtomicUsize);

impl SessionCount {
    /// A permit for one more session, or `None` when `max` are open.
    pub(crate) fn admit(self: &Arc<Self>, max: usize) -> Option<SessionPermit> {
        self.0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .ok()
            .map(|_| SessionPermit {
                count: self.clone(),
            })
    }

    fn release(&self) {
        let _ = self
            .0
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                open.checked_sub(1)
            });
    }

    pub(crate) fn open(&self) -> usize {
        self.0.load(Ordering::Acquire)
    }
}

/// One admitted session's place under [`ServerLimits::sessions`]; the place is freed when the
/// permit is dropped, so keep it as long as the connection lives.
#[derive(Debug)]
pub struct SessionPermit {
    count: Arc<SessionCount>,
}

impl Drop for SessionPermit {
    fn drop(&mut self) {
        self.count.release();
    }
}

#[cfg(test)]
mod lifetime_tests {
    use super::*;

    #[test]
    fn the_next_frame_waits_for_the_idle_timeout_cut_to_the_lifetime_left() {
        let limits = ServerLimits::new()
            .idle_timeout(Duration::from_secs(10))
            .max_session_lifetime(Duration::from_secs(60));
        let at = |secs| limits.next_frame_within(Duration::from_secs(secs));
        assert_eq!(at(0), Some(Duration::from_secs(10)));
        assert_eq!(at(50), Some(Duration::from_secs(10)));
        assert_eq!(at(55), Some(Duration::from_secs(5)));
        assert_eq!(at(59), Some(Duration::from_secs(1)));
        assert_eq!(at(60), None);
        assert_eq!(at(61), None);
        assert_eq!(
            ServerLimits::default().session_lifetime(),
            Duration::from_secs(3600)
        );
    }
}
