#![no_main]
//! The initiator fed arbitrary frames in every state: as the second handshake frame, as the
//! attestation (raw or arbitrary plaintext the server encrypted), and after verification.

#[path = "noise_common.rs"]
mod common;

use attested_noise::Initiator;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((profile, genuine, frames)) = common::parse(data) else {
        return;
    };
    let mut frames = frames.into_iter();
    let mut initiator =
        Initiator::with_config(common::config(profile), &common::server_public(), &mut common::rng())
            .unwrap();
    let msg1 = initiator.write_first().unwrap();
    let mut server = None;
    let msg2 = if genuine {
        let mut hs = common::bare_builder(profile)
            .local_private_key(&common::SERVER_SECRET)
            .unwrap()
            .fixed_ephemeral_key_for_testing_only(&common::SERVER_EPHEMERAL)
            .build_responder()
            .unwrap();
        hs.read_message(&msg1, &mut [0_u8; 48]).unwrap();
        let mut msg2 = vec![0_u8; 48];
        hs.write_message(&[], &mut msg2).unwrap();
        server = Some(hs);
        msg2
    } else {
        frames.next().unwrap_or_default().to_vec()
    };
    let Ok(mut session) = initiator.read_second(&msg2) else {
        return;
    };
    let mut server = server.map(|hs| hs.into_transport_mode().unwrap());
    let mut next = |frame: &[u8]| match server.as_mut() {
        Some(peer) => common::frame_for(peer, frame),
        None => frame.to_vec(),
    };
    let _ = session.request_attestation();
    let attestation = loop {
        let Some(frame) = frames.next() else { return };
        match session.receive_attestation(&next(frame)) {
            Ok(Some(attestation)) => break attestation,
            Ok(None) => {}
            Err(error) if error.closes_session() => return,
            Err(_) => {}
        }
    };
    let Ok(mut session) = session.verify(&attestation, &common::PrefixCheck, attested_noise::UnixTime(1_750_000_000)) else {
        return;
    };
    for frame in frames {
        if let Err(error) = session.receive(&next(frame)) {
            assert_eq!(error.closes_session(), session.is_closed());
        }
    }
});
