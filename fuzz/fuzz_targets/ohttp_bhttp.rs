#![no_main]

use std::io::Cursor;

use attested_ohttp::bhttp::{Message, Mode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::read_bhttp(&mut Cursor::new(data)) {
        let mut again = Vec::new();
        if message.write_bhttp(Mode::KnownLength, &mut again).is_ok() {
            let reparsed = Message::read_bhttp(&mut Cursor::new(&again[..]));
            assert!(reparsed.is_ok_and(|m| m.content() == message.content()));
        }
    }
});
