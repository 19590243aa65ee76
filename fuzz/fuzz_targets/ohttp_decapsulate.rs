#![no_main]

mod ohttp_common;

use std::sync::OnceLock;

use attested_ohttp::{Gateway, gateway::GatewayPolicy, gateway::Inbound, KeyRing};
use libfuzzer_sys::fuzz_target;
use ohttp_common::{CountingRng, now, ring};

static GATEWAY: OnceLock<Gateway> = OnceLock::new();

fuzz_target!(|data: &[u8]| {
    let gateway = GATEWAY.get_or_init(|| {
        let policy = GatewayPolicy { allowed_targets: vec!["example.com".into()], ..GatewayPolicy::default() };
        Gateway::new(ring(), policy)
    });
    let ring: &KeyRing = gateway.ring();
    if let Ok((_, ctx)) = ring.decapsulate(data, now()) {
        let _ = ctx.encapsulate(b"response", &mut CountingRng(1));
    }
    if let Inbound::Forward(forward) = gateway.inbound("message/ohttp-req", data, now(), &mut CountingRng(2)) {
        let _ = forward.reply.respond(Err(attested_ohttp::gateway::TargetError::Unavailable), &mut CountingRng(3));
    }
});
