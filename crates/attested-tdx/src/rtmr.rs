//! RTMR replay: recompute RTMR0..3 from a TDX event log (the ACPI CCEL log area, TCG2
//! crypto-agile format) and compare them with a quote's.
//!
//! The log starts with a legacy `TCG_PCClientPCREvent` holding the "Spec ID Event03" (which
//! lists the digest sizes), followed by `TCG_PCR_EVENT2` records. For TDX the "PCR index" of
//! each record is a CC measurement register index: 0 = MRTD, 1..=4 = RTMR0..3. An RTMR is
//! extended as `RTMR = SHA-384(RTMR || digest)` from 48 zero bytes.

use sha2::{Digest as _, Sha384};

use crate::parse::TdReport;

const EV_NO_ACTION: u32 = 0x3;
const SHA384_ALG: u16 = 0x000c;
/// Events in one log: a real boot has a few hundred; this bounds work on hostile input.
const MAX_EVENTS: usize = 65_536;

/// Why a log could not be replayed or does not match.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RtmrError {
    /// The log is malformed at `offset`.
    #[error("malformed event log at byte {offset}: {reason}")]
    Malformed {
        /// Byte offset in the log.
        offset: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// A replayed RTMR differs from the quote's.
    #[error("RTMR{index} replayed from the event log is {replayed}, the quote has {quoted}")]
    Mismatch {
        /// 0..=3.
        index: usize,
        /// Hex of the replayed value.
        replayed: String,
        /// Hex of the quote's value.
        quoted: String,
    },
}

/// One measurement event of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CcelEvent<'a> {
    /// CC measurement register index (0 MRTD, 1..=4 RTMR0..3).
    pub mr_index: u32,
    /// TCG event type.
    pub event_type: u32,
    /// The SHA-384 digest extended into the register.
    pub sha384: &'a [u8; 48],
    /// The event data.
    pub data: &'a [u8],
}

/// The result of replaying a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RtmrReplay<'a> {
    /// The measurement events, in log order.
    pub events: Vec<CcelEvent<'a>>,
    /// RTMR0..3 as the events extend them.
    pub rtmrs: [[u8; 48]; 4],
}

impl RtmrReplay<'_> {
    /// Compares the replayed RTMRs with `report`'s, naming the first that differs.
    pub fn check(&self, report: &TdReport<'_>) -> Result<(), RtmrError> {
        for (index, (replayed, quoted)) in self.rtmrs.iter().zip(report.td10().rtmrs()).enumerate()
        {
            if replayed != quoted {
                return Err(RtmrError::Mismatch {
                    index,
                    replayed: hex::encode(replayed),
                    quoted: hex::encode(quoted),
                });
            }
        }
        Ok(())
    }
}

struct Cursor<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, len: usize, reason: &'static str) -> Result<&'a [u8], RtmrError> {
        let out = self
            .offset
            .checked_add(len)
            .and_then(|end| self.bytes.get(self.offset..end))
            .ok_or(RtmrError::Malformed {
                offset: self.offset,
                reason,
            })?;
        self.offset += len;
        Ok(out)
    }

    fn array<const N: usize>(&mut self, reason: &'static str) -> Result<[u8; N], RtmrError> {
        let offset = self.offset;
        <[u8; N]>::try_from(self.take(N, reason)?)
            .map_err(|_| RtmrError::Malformed { offset, reason })
    }

    fn u32(&mut self, reason: &'static str) -> Result<u32, RtmrError> {
        self.array(reason).map(u32::from_le_bytes)
    }

    fn u16(&mut self, reason: &'static str) -> Result<u16, RtmrError> {
        self.array(reason).map(u16::from_le_bytes)
    }

    fn len(&mut self, reason: &'static str) -> Result<usize, RtmrError> {
        let value = self.u32(reason)?;
        usize::try_from(value).map_err(|_| RtmrError::Malformed {
            offset: self.offset,
            reason,
        })
    }
}

/// Parses a CCEL log area and replays it to RTMR0..3. The area may be padded after the last
/// event with 0xFF or 0x00 bytes (firmware reserves more than it writes).
pub fn replay_ccel(log: &[u8]) -> Result<RtmrReplay<'_>, RtmrError> {
    let mut cursor = Cursor {
        bytes: log,
        offset: 0,
    };
    // Legacy header event: PCR index, type, SHA-1 digest, event size, Spec ID event.
    let _pcr = cursor.u32("header PCR index")?;
    if cursor.u32("header event type")? != EV_NO_ACTION {
        return Err(RtmrError::Malformed {
            offset: 4,
            reason: "the first event is not the Spec ID event",
        });
    }
    cursor.take(20, "header digest")?;
    let spec_len = cursor.len("header event size")?;
    let spec = cursor.take(spec_len, "Spec ID event")?;
    let sizes = digest_sizes(spec)?;

    let mut events = Vec::new();
    let mut rtmrs = [[0u8; 48]; 4];
    while cursor.offset < log.len() {
        let rest = log.get(cursor.offset..).unwrap_or_default();
        // End of the log: padding, or a header of all-ones/all-zero.
        let head = rest.get(..8).unwrap_or(rest);
        if head.iter().all(|b| *b == 0xff) || head.iter().all(|b| *b == 0) {
            break;
        }
        if events.len() == MAX_EVENTS {
            return Err(RtmrError::Malformed {
                offset: cursor.offset,
                reason: "too many events",
            });
        }
        let mr_index = cursor.u32("MR index")?;
        let event_type = cursor.u32("event type")?;
        let count = cursor.u32("digest count")?;
        let mut sha384 = None;
        for _ in 0..count {
            let alg = cursor.u16("digest algorithm")?;
            let size = sizes
                .iter()
                .find(|(id, _)| *id == alg)
                .map(|(_, size)| *size)
                .ok_or(RtmrError::Malformed {
                    offset: cursor.offset,
                    reason: "digest algorithm not in the Spec ID event",
                })?;
            let digest = cursor.take(usize::from(size), "digest")?;
            if alg == SHA384_ALG {
                sha384 = Some(
                    <&[u8; 48]>::try_from(digest).map_err(|_| RtmrError::Malformed {
                        offset: cursor.offset,
                        reason: "SHA-384 digest is not 48 bytes",
                    })?,
                );
            }
        }
        let data_len = cursor.len("event size")?;
        let data = cursor.take(data_len, "event data")?;
        if event_type == EV_NO_ACTION {
            continue;
        }
        let sha384 = sha384.ok_or(RtmrError::Malformed {
            offset: cursor.offset,
            reason: "event without a SHA-384 digest",
        })?;
        if let Some(rtmr) = mr_index
            .checked_sub(1)
            .and_then(|i| rtmrs.get_mut(usize::try_from(i).unwrap_or(usize::MAX)))
        {
            let mut hasher = Sha384::new();
            hasher.update(&rtmr[..]);
            hasher.update(sha384);
            rtmr.copy_from_slice(&hasher.finalize());
        } else if mr_index != 0 {
            return Err(RtmrError::Malformed {
                offset: cursor.offset,
                reason: "MR index above 4",
            });
        }
        events.push(CcelEvent {
            mr_index,
            event_type,
            sha384,
            data,
        });
    }
    Ok(RtmrReplay { events, rtmrs })
}

/// (algorithm id, digest size) pairs of a "Spec ID Event03".
fn digest_sizes(spec: &[u8]) -> Result<Vec<(u16, u16)>, RtmrError> {
    let mut cursor = Cursor {
        bytes: spec,
        offset: 0,
    };
    if cursor.take(16, "signature")? != b"Spec ID Event03\0" {
        return Err(RtmrError::Malformed {
            offset: 32,
            reason: "not a Spec ID Event03",
        });
    }
    cursor.take(4 + 1 + 1 + 1 + 1, "platform class and versions")?;
    let count = cursor.u32("algorithm count")?;
    if count > 64 {
        return Err(RtmrError::Malformed {
            offset: 32,
            reason: "too many algorithms",
        });
    }
    (0..count)
        .map(|_| Ok((cursor.u16("algorithm id")?, cursor.u16("digest size")?)))
        .collect()
}
