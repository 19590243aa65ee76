#![no_main]
//! The incremental binary HTTP request decoder: fed in pieces of a size taken from the first
//! byte, it never panics, and whatever both it and the `bhttp` crate accept, they read alike.

use std::io::Cursor;

use attested_ohttp::message::InnerRequestDecoder;
use attested_ohttp::bhttp::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&step, message)) = data.split_first() else {
        return;
    };
    let mut decoder = InnerRequestDecoder::new(4096);
    let mut content = Vec::new();
    let mut head = None;
    for piece in message.chunks(usize::from(step % 64) + 1) {
        if decoder.push(piece, &mut content).is_err() {
            return;
        }
        head = head.or_else(|| decoder.take_head());
    }
    if decoder.finish().is_err() {
        return;
    }
    let head = head.expect("an accepted request has a head");
    if let Ok(whole) = Message::read_bhttp(&mut Cursor::new(message)) {
        assert_eq!(whole.content(), &content[..]);
        assert_eq!(whole.control().method(), head.control().method());
        assert_eq!(whole.control().authority(), head.control().authority());
        assert_eq!(whole.control().path(), head.control().path());
    }
});
