#![no_main]
//! The JSON message decoder: never panics, and what it accepts re-encodes to an equal message.

use attested_noise::message::Message;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = Message::decode(data) {
        let encoded = message.encode().unwrap();
        assert_eq!(Message::decode(&encoded).unwrap(), message);
    }
});
