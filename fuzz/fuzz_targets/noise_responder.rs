#![no_main]
//! The responder fed arbitrary frames in every state: as the first handshake frame, and after a
//! genuine handshake as raw frames or as arbitrary plaintext the client encrypted.

#[path = "noise_common.rs"]
mod common;

use attested_noise::message::{ChatResponse, Message};
use attested_noise::{Received, Responder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((profile, genuine, frames)) = common::parse(data) else {
        return;
    };
    let mut frames = frames.into_iter();
    let mut responder = Responder::new(common::identity(profile), &mut common::rng()).unwrap();
    let mut client = None;
    if genuine {
        let mut hs = common::bare_builder(profile)
            .remote_public_key(&common::server_public())
            .unwrap()
            .build_initiator()
            .unwrap();
        let mut msg1 = [0_u8; 48];
        hs.write_message(&[], &mut msg1).unwrap();
        responder.read_first(&msg1).unwrap();
        client = Some(hs);
    } else if responder.read_first(frames.next().unwrap_or_default()).is_err() {
        return;
    }
    let Ok((msg2, mut session)) = responder.write_second() else {
        return;
    };
    let mut client = client.map(|mut hs| {
        hs.read_message(&msg2, &mut [0_u8; 48]).unwrap();
        hs.into_transport_mode().unwrap()
    });
    for frame in frames {
        let frame = match client.as_mut() {
            Some(peer) => common::frame_for(peer, frame),
            None => frame.to_vec(),
        };
        match session.receive(&frame) {
            Ok(Received::AttestationRequested) => {
                let evidence = session.session_report_data().map(|rd| rd.to_vec());
                session.attestation(evidence.as_deref()).unwrap();
            }
            Ok(Received::Chat(request)) => {
                let answer = Message::ChatResponse(ChatResponse {
                    message: request.messages.into_iter().next().unwrap_or_default(),
                    ..ChatResponse::default()
                });
                let _ = session.send(&answer);
            }
            Ok(_) => {}
            Err(error) => assert_eq!(error.closes_session(), session.is_closed()),
        }
    }
});
