//! The OpenAI-compatible backend a proxy forwards a session's `chat` to, sans-IO: the chat
//! completion request to send ([`completion_request`]), and its answer read back, whole
//! ([`completion_answer`]) or streamed as server-sent events ([`StreamedAnswer`]), as the
//! session messages to send (`chat_response`, or `chat_chunk`s and a `chat_done`).
//!
//! What is decided here rather than in each proxy: a streamed answer is complete only when the
//! backend says so (`data: [DONE]`); a broken, oversized or non-UTF-8 stream is
//! [`AnswerBroken`], which the proxy answers with
//! [`ServerSession::answer_interrupted`](crate::ServerSession::answer_interrupted) (an `error`,
//! never a `chat_done`), so that a client never takes a truncated answer for a whole one. Text
//! is decoded only a whole line at a time, so a character split across network pieces arrives
//! intact.
//!
//! ```
//! use attested_noise::backend::{AnswerEvent, StreamedAnswer};
//!
//! let mut answer = StreamedAnswer::new("mock");
//! // "é" (0xc3 0xa9) split across two network pieces.
//! answer.push(b"data: {\"choices\":[{\"delta\":{\"content\":\"caf\xc3").unwrap();
//! answer.push(b"\xa9\"}}]}\n\ndata: [DONE]\n\n").unwrap();
//! let Some(Ok(AnswerEvent::Chunk(chunk))) = answer.next_event() else { panic!() };
//! assert_eq!(chunk.delta, "café");
//! let Some(Ok(AnswerEvent::Done(done))) = answer.next_event() else { panic!() };
//! assert_eq!((done.model.as_str(), done.completion_tokens), ("mock", 1));
//! ```

use serde::{Deserialize, Serialize};

use crate::message::{ChatChunk, ChatDone, ChatMessage, ChatRequest, ChatResponse};

/// The most a backend answer may hold: a whole (not streamed) answer, or one line of a
/// streamed one. An answer must fit in one session message anyway.
pub const MAX_BACKEND_ANSWER: usize = 4 << 20;

/// The chat completion request body (JSON) for `request`: its messages and temperature, its
/// model or else `default_model`, and `stream` (the proxy streams only where the session's
/// profile has `chat_chunk`s).
pub fn completion_request(request: &ChatRequest, default_model: &str, stream: bool) -> Vec<u8> {
    #[derive(Serialize)]
    struct Body<'a> {
        model: &'a str,
        messages: &'a [ChatMessage],
        stream: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        temperature: Option<f64>,
    }
    let body = Body {
        model: request.model.as_deref().unwrap_or(default_model),
        messages: &request.messages,
        stream,
        temperature: request.temperature,
    };
    // Serializing strings, numbers and a slice of plain structs into a Vec cannot fail; a
    // non-finite temperature (which JSON cannot carry) becomes `null`.
    serde_json::to_vec(&body).unwrap_or_default()
}

/// Why a backend's answer cannot be passed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AnswerBroken {
    /// A whole answer, or a line of a streamed one, is over [`MAX_BACKEND_ANSWER`].
    #[error("backend answer over {MAX_BACKEND_ANSWER} bytes")]
    TooLong,
    /// A line of the streamed answer is not UTF-8.
    #[error("backend answer is not UTF-8")]
    NotUtf8,
    /// A whole answer is not a chat completion (`choices[0].message`, `model`, `usage`).
    #[error("backend answer is not a chat completion: {0}")]
    Malformed(String),
    /// The stream ended (or broke) before the backend's `data: [DONE]`.
    #[error("backend stream ended before [DONE]")]
    Unfinished,
}

/// The `chat_response` of a backend's whole (not streamed) answer `body`.
pub fn completion_answer(body: &[u8]) -> Result<ChatResponse, AnswerBroken> {
    #[derive(Deserialize)]
    struct Completion {
        choices: Vec<Choice>,
        model: String,
        usage: Usage,
    }
    #[derive(Deserialize)]
    struct Choice {
        message: ChatMessage,
    }
    #[derive(Deserialize)]
    struct Usage {
        prompt_tokens: u64,
        completion_tokens: u64,
    }
    if body.len() > MAX_BACKEND_ANSWER {
        return Err(AnswerBroken::TooLong);
    }
    let completion: Completion =
        serde_json::from_slice(body).map_err(|error| AnswerBroken::Malformed(error.to_string()))?;
    let message = completion
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| AnswerBroken::Malformed("no choices".into()))?
        .message;
    Ok(ChatResponse {
        message,
        model: completion.model,
        prompt_tokens: completion.usage.prompt_tokens,
        completion_tokens: completion.usage.completion_tokens,
    })
}

/// What a streamed answer yields, in order: `chat_chunk`s, then one `chat_done`.
/// Exhaustive on purpose: a proxy must handle every event, and there is nothing else to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerEvent {
    /// The next piece of text.
    Chunk(ChatChunk),
    /// The backend said `[DONE]`: the answer is whole. Nothing follows.
    Done(ChatDone),
}

/// A backend's streamed answer (`text/event-stream`), fed as it arrives from the network
/// ([`push`](Self::push)) and read back as session events ([`next_event`](Self::next_event)).
///
/// Each complete `data:` line is one OpenAI chunk, `{"choices":[{"delta":{"content":...}}]}`;
/// a chunk without text (the role-only first one) or that is not such JSON is skipped, as
/// OpenAI's own clients do; `data: [DONE]` ends the answer. Other lines (comments, `event:`,
/// `id:`, blank separators) are ignored.
#[derive(Debug)]
pub struct StreamedAnswer {
    /// Bytes after the last complete line.
    pending: Vec<u8>,
    /// Where in `pending` the next line starts.
    start: usize,
    model: String,
    completion_tokens: u64,
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Streaming,
    /// `[DONE]` read; its event not yet handed out.
    Finished,
    /// The `chat_done` was handed out.
    Done,
    Broken(AnswerBroken),
}

impl StreamedAnswer {
    /// An answer whose `chat_done` will name `model` (the model the request asked for).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            pending: Vec::new(),
            start: 0,
            model: model.into(),
            completion_tokens: 0,
            state: State::Streaming,
        }
    }

    /// Adds the next piece of the stream. Refused once the answer is broken, and when a line
    /// would grow over [`MAX_BACKEND_ANSWER`] (which breaks the answer). Pieces after `[DONE]`
    /// are ignored.
    ///
    /// What is held is the lines pushed and not yet read by [`next_event`](Self::next_event)
    /// (read them all after each push) and one unfinished line of at most
    /// [`MAX_BACKEND_ANSWER`] bytes.
    pub fn push(&mut self, piece: &[u8]) -> Result<(), AnswerBroken> {
        match &self.state {
            State::Streaming => {}
            State::Finished | State::Done => return Ok(()),
            State::Broken(why) => return Err(why.clone()),
        }
        // Drop what has been read so far, so that `pending` holds at most one partial line.
        self.pending.drain(..self.start);
        self.start = 0;
        let unfinished = self
            .pending
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(self.pending.len(), |end| self.pending.len() - end - 1);
        // The piece's first line continues the unfinished one; the others are new lines.
        let (first, rest) = piece.split_at(
            piece
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or(piece.len()),
        );
        if unfinished.saturating_add(first.len()) > MAX_BACKEND_ANSWER
            || longest_line(rest) > MAX_BACKEND_ANSWER
        {
            return Err(self.break_off(AnswerBroken::TooLong));
        }
        self.pending.extend_from_slice(piece);
        Ok(())
    }

    /// The next event the stream has completed; `None` until more is pushed (or after the
    /// `chat_done`); `Some(Err)` once the answer is broken.
    pub fn next_event(&mut self) -> Option<Result<AnswerEvent, AnswerBroken>> {
        loop {
            match &self.state {
                State::Streaming => {}
                State::Finished => {
                    self.state = State::Done;
                    return Some(Ok(AnswerEvent::Done(ChatDone {
                        model: self.model.clone(),
                        prompt_tokens: 0,
                        completion_tokens: self.completion_tokens,
                    })));
                }
                State::Done => return None,
                State::Broken(why) => return Some(Err(why.clone())),
            }
            let rest = self.pending.get(self.start..).unwrap_or_default();
            let end = rest.iter().position(|&b| b == b'\n')?;
            let line = rest.get(..end).unwrap_or_default();
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            self.start += end + 1;
            let Ok(line) = std::str::from_utf8(line) else {
                return Some(Err(self.break_off(AnswerBroken::NotUtf8)));
            };
            // "data:" then an optional space (the event-stream format).
            let Some(data) = line.strip_prefix("data:") else {
                continue;
            };
            let data = data.strip_prefix(' ').unwrap_or(data);
            if data.trim() == "[DONE]" {
                self.state = State::Finished;
                continue;
            }
            if let Some(delta) = delta_text(data) {
                self.completion_tokens += 1;
                return Some(Ok(AnswerEvent::Chunk(ChatChunk { delta })));
            }
        }
    }

    /// The backend's stream ended (cleanly or not): the answer is whole only if `[DONE]`
    /// was read.
    pub fn end(&mut self) -> Result<(), AnswerBroken> {
        match &self.state {
            State::Finished | State::Done => Ok(()),
            State::Broken(why) => Err(why.clone()),
            State::Streaming => Err(self.break_off(AnswerBroken::Unfinished)),
        }
    }

    fn break_off(&mut self, why: AnswerBroken) -> AnswerBroken {
        self.pending = Vec::new();
        self.start = 0;
        self.state = State::Broken(why.clone());
        why
    }
}

/// The longest line of `bytes`, counting an unfinished last line.
fn longest_line(bytes: &[u8]) -> usize {
    bytes
        .split(|&b| b == b'\n')
        .map(<[u8]>::len)
        .max()
        .unwrap_or(0)
}

/// The text of one OpenAI streamed chunk, `choices[0].delta.content`.
fn delta_text(data: &str) -> Option<String> {
    #[derive(Deserialize)]
    struct Chunk {
        choices: Vec<Choice>,
    }
    #[derive(Deserialize)]
    struct Choice {
        delta: Delta,
    }
    #[derive(Deserialize)]
    struct Delta {
        content: Option<String>,
    }
    let chunk: Chunk = serde_json::from_str(data).ok()?;
    chunk.choices.into_iter().next()?.delta.content
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn event(delta: &str) -> Vec<u8> {
        let chunk = serde_json::json!({"choices": [{"index": 0, "delta": {"content": delta}}]});
        format!("data: {chunk}\n\n").into_bytes()
    }

    /// Every event `pieces` give, and how the stream ends.
    fn read(pieces: &[&[u8]]) -> (Vec<AnswerEvent>, Result<(), AnswerBroken>) {
        let mut answer = StreamedAnswer::new("m");
        let mut events = Vec::new();
        for piece in pieces {
            if let Err(why) = answer.push(piece) {
                return (events, Err(why));
            }
            while let Some(event) = answer.next_event() {
                match event {
                    Ok(event) => events.push(event),
                    Err(why) => return (events, Err(why)),
                }
            }
        }
        (events, answer.end())
    }

    fn chunk(delta: &str) -> AnswerEvent {
        AnswerEvent::Chunk(ChatChunk {
            delta: delta.into(),
        })
    }

    fn done(completion_tokens: u64) -> AnswerEvent {
        AnswerEvent::Done(ChatDone {
            model: "m".into(),
            prompt_tokens: 0,
            completion_tokens,
        })
    }

    #[test]
    fn a_stream_is_whole_only_with_done() {
        let (a, b) = (event("Hel"), event("lo"));
        let (events, end) = read(&[&a, &b, b"data: [DONE]\n\n"]);
        assert_eq!(events, [chunk("Hel"), chunk("lo"), done(2)]);
        assert_eq!(end, Ok(()));
        let (events, end) = read(&[&a, &b]);
        assert_eq!(events, [chunk("Hel"), chunk("lo")]);
        assert_eq!(end, Err(AnswerBroken::Unfinished));
    }

    #[test]
    fn every_split_of_a_stream_gives_the_same_events() {
        let stream = [
            &b": comment\r\n"[..],
            b"data:{\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\r\n\r\n",
            &event("caf\u{e9} \u{1f600}"),
            b"event: x\ndata: not json\n\n",
            &event("!"),
            b"data: [DONE]\n\ndata: ignored\n\n",
        ]
        .concat();
        let whole = read(&[&stream]);
        assert_eq!(whole.0, [chunk("caf\u{e9} \u{1f600}"), chunk("!"), done(2)]);
        for cut in 0..stream.len() {
            let (a, b) = stream.split_at(cut);
            assert_eq!(read(&[a, b]), whole, "cut at {cut}");
        }
        let bytes: Vec<&[u8]> = stream.chunks(1).collect();
        assert_eq!(read(&bytes), whole);
    }

    #[test]
    fn a_line_that_is_not_utf8_breaks_the_answer() {
        let (events, end) = read(&[&event("a"), b"data: \xff\n", &event("b")]);
        assert_eq!(events, [chunk("a")]);
        assert_eq!(end, Err(AnswerBroken::NotUtf8));
    }

    #[test]
    fn a_line_over_the_limit_breaks_the_answer_before_it_is_held() {
        let half = vec![b'x'; MAX_BACKEND_ANSWER / 2 + 1];
        let mut answer = StreamedAnswer::new("m");
        answer.push(b"data: ").unwrap();
        answer.push(&half).unwrap();
        assert_eq!(answer.push(&half), Err(AnswerBroken::TooLong));
        assert!(answer.pending.capacity() < MAX_BACKEND_ANSWER);
        assert_eq!(answer.next_event(), Some(Err(AnswerBroken::TooLong)));
        // A whole line at the limit passes; in one piece over it is refused too.
        let mut answer = StreamedAnswer::new("m");
        let line = vec![b'x'; MAX_BACKEND_ANSWER];
        answer.push(&[&line[..], b"\n"].concat()).unwrap();
        assert_eq!(answer.next_event(), None);
        let mut answer = StreamedAnswer::new("m");
        let over = [&b"\n"[..], &line, b"x"].concat();
        assert_eq!(answer.push(&over), Err(AnswerBroken::TooLong));
        // Many short lines in one large piece are fine: the limit is per line.
        let mut answer = StreamedAnswer::new("m");
        let many = event("y").repeat(MAX_BACKEND_ANSWER / 40);
        assert!(many.len() > MAX_BACKEND_ANSWER);
        answer.push(&many).unwrap();
        assert!(matches!(
            answer.next_event(),
            Some(Ok(AnswerEvent::Chunk(_)))
        ));
    }

    #[test]
    fn the_request_carries_the_model_stream_and_temperature() {
        let mut request = ChatRequest {
            messages: vec![ChatMessage {
                role: "user".into(),
                content: "hi".into(),
            }],
            ..Default::default()
        };
        let body: serde_json::Value =
            serde_json::from_slice(&completion_request(&request, "default", true)).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"model": "default", "stream": true,
                "messages": [{"role": "user", "content": "hi"}]})
        );
        request.model = Some("asked".into());
        request.temperature = Some(0.5);
        let body: serde_json::Value =
            serde_json::from_slice(&completion_request(&request, "default", false)).unwrap();
        assert_eq!(body["model"], "asked");
        assert_eq!(body["temperature"], 0.5);
        assert_eq!(body["stream"], false);
    }

    #[test]
    fn a_whole_answer_needs_a_choice_a_model_and_usage() {
        let answer = br#"{"id":"x","model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"}}],
            "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#;
        assert_eq!(
            completion_answer(answer),
            Ok(ChatResponse {
                message: ChatMessage {
                    role: "assistant".into(),
                    content: "hi".into()
                },
                model: "m".into(),
                prompt_tokens: 3,
                completion_tokens: 1,
            })
        );
        for malformed in [
            &br#"{"model":"m","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#[..],
            br#"{"choices":[{"message":{"role":"a","content":"b"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#,
            br#"{"model":"m","choices":[{"message":{"role":"a","content":"b"}}]}"#,
            b"not json",
        ] {
            assert!(
                matches!(completion_answer(malformed), Err(AnswerBroken::Malformed(_))),
                "{}",
                String::from_utf8_lossy(malformed)
            );
        }
        let huge = vec![b' '; MAX_BACKEND_ANSWER + 1];
        assert_eq!(completion_answer(&huge), Err(AnswerBroken::TooLong));
    }
}
