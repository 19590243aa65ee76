//! What a hostile client's message costs the server in memory, measured: the process's peak
//! resident set (`VmHWM`, reset through `/proc/self/clear_refs`) while the server core reads
//! frames the test made beforehand. One test in this binary, so nothing else allocates beside
//! it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use attested_noise::limits::ServerLimits;
use attested_noise::*;
use common::*;

/// `VmRSS` or `VmHWM` of this process, in KiB.
fn status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or_else(|| panic!("no {field} in {status}"))
}

/// How far the peak resident set rises above the current one while `work` runs, in KiB.
fn peak_growth_kib(work: impl FnOnce()) -> u64 {
    // Writing 5 resets the peak to the current resident set (Linux >= 4.0).
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let before = status_kib("VmRSS:");
    work();
    status_kib("VmHWM:").saturating_sub(before)
}

#[test]
#[cfg(target_os = "linux")]
fn hostile_messages_cost_the_server_bounded_memory() {
    // 1. A 16 MiB chat message (a client configured to send it): the server refuses it at
    // its 1 MiB limit, before buffering the rest.
    let huge = Config::new(Profile::V1).max_message_len(32 << 20);
    let (mut client, mut server, _keep) =
        verified_pair_with(Config::new(Profile::V1), ServerLimits::new(), huge, 1);
    let frames = client.chat(&user(&"z".repeat(16 << 20))).unwrap();
    let mut outcome = None;
    let growth = peak_growth_kib(|| {
        for frame in &frames {
            match server.receive(frame) {
                Ok(Received::Partial) => {}
                other => {
                    outcome = Some(other);
                    break;
                }
            }
        }
    });
    drop(frames);
    println!("16 MiB chat message: server peak grew by {growth} KiB");
    assert!(
        matches!(outcome, Some(Err(Error::ReceivedTooLarge { .. }))),
        "{outcome:?}"
    );
    // The 1 MiB buffer and its last growth step; 16 MiB if the message were buffered.
    assert!(growth < 4 << 10, "grew by {growth} KiB");

    // 2. A message under the limit made of JSON nodes: 1 MiB of empty arrays in a field the
    // schema ignores. A `serde_json::Value` tree would hold every node (32 to 72 bytes each,
    // over 10 MiB for this message); the typed decoder skips them.
    let (mut client, mut server) = verified_pair(Config::new(Profile::V1), 2);
    let mut nodes = br#"{"type":"chat","payload":{"messages":[],"padding":["#.to_vec();
    while nodes.len() < (1 << 20) - 64 {
        nodes.extend_from_slice(b"[],");
    }
    nodes.extend_from_slice(b"[]]}}");
    let frames = client.seal(&nodes).unwrap();
    let mut chats = 0;
    let growth = peak_growth_kib(|| {
        for frame in &frames {
            if let Received::Chat(_) = server.receive(frame).unwrap() {
                chats += 1;
            }
        }
    });
    println!("1 MiB of JSON nodes: server peak grew by {growth} KiB");
    assert_eq!(chats, 1);
    assert!(growth < 4 << 10, "grew by {growth} KiB");
}
