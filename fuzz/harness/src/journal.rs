//! Journals: the record reader, the replay of an ITCH-over-MoldUDP64 journal (arbiter, skips,
//! books, digest) and the replay of a websocket journal.
//!
//! Input layout: one mode byte, then a journal file. With an odd mode byte every whole record's
//! CRC is recomputed before reading, so mutations reach the record contents instead of stopping
//! at the checksum; with an even one the bytes are read as they are.
//!
//! Checked: the reader's offset only grows and never passes the input; it stops after an error
//! it calls final; a journal replays to the same digest twice.

use ticklane_engine::strategy::NoStrategy;
use ticklane_feeds::journal::{
    JournalError, JournalReader, BODY_FIXED, HEADER_LEN, MAX_BODY, RECORD_PREFIX,
};
use ticklane_replay::l3::journal::replay_journal_with;
use ticklane_replay::live::session::{replay_ws_journal, ws_journal_venue, WsCounters};
use ticklane_replay::ItchReplayOptions;

/// The harness.
pub fn run(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        fix_crcs(&mut bytes);
    }
    read_all(&bytes);
    let digest = |b: &[u8]| {
        replay_journal_with(b, ItchReplayOptions::default(), NoStrategy)
            .ok()
            .map(|(s, _)| s.digest)
    };
    assert_eq!(digest(&bytes), digest(&bytes), "journal replay digest");
    if ws_journal_venue(&bytes[..]).is_some() {
        let counters = WsCounters::default();
        let _ = replay_ws_journal(&bytes[..], mode & 2 == 2, None, &counters, None);
    }
}

/// Every record, with the reader's own promises checked.
fn read_all(bytes: &[u8]) {
    let Ok(mut r) = JournalReader::new(bytes) else {
        return;
    };
    let mut offset = r.offset();
    let mut stopped = false;
    while let Some(rec) = r.next_record() {
        assert!(!stopped, "a record after a final error");
        match rec {
            Ok(rec) => {
                let _ = rec.range();
            }
            Err(JournalError::BadLength { .. } | JournalError::Io(_)) => stopped = true,
            Err(_) => {}
        }
        assert!(r.offset() >= offset, "the offset went back");
        offset = r.offset();
        assert!(offset <= bytes.len() as u64, "the offset passed the end");
    }
}

/// Recomputes the CRC of every whole record after the header, in place.
pub fn fix_crcs(bytes: &mut [u8]) {
    let mut at = HEADER_LEN;
    while at + RECORD_PREFIX <= bytes.len() {
        let len = u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
        let len = len as usize;
        let body = at + RECORD_PREFIX;
        if !(BODY_FIXED..=MAX_BODY).contains(&len) || body + len > bytes.len() {
            return;
        }
        let crc = crc32fast::hash(&bytes[body..body + len]);
        bytes[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
        at = body + len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_feeds::journal::{JournalWriter, RecordKind};

    #[test]
    fn fixed_crcs_are_the_writers() {
        let mut w = JournalWriter::new(Vec::new(), 0).unwrap();
        w.append(RecordKind::Packet, 5, 1, b"datagram").unwrap();
        w.append(RecordKind::End, 6, 0, b"").unwrap();
        let good = w.finish().unwrap();
        let mut bad = good.clone();
        bad[HEADER_LEN + 4] ^= 0xff;
        // The second record's CRC (the first record is 8 + 11 + 8 bytes).
        bad[HEADER_LEN + RECORD_PREFIX + BODY_FIXED + 8 + 4] ^= 0xff;
        assert_ne!(bad, good);
        fix_crcs(&mut bad);
        assert_eq!(bad, good);
    }
}
