#![no_main]

use attested_ohttp::{keys::KeyConfig, keys::decode_key_config_list, keys::encode_key_config_list};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(configs) = decode_key_config_list(data) {
        // What decodes re-encodes to something that decodes to the same configurations.
        let again = encode_key_config_list(&configs);
        assert_eq!(decode_key_config_list(&again).ok(), Some(configs));
    }
    let _ = KeyConfig::decode(data);
});
