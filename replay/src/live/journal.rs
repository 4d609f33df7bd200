//! The ITCH daemon's journal: the receive thread encodes each record (packet, gap, request,
//! skip, conflict, end) into a byte ring ([`JournalTx`]); a journal thread ([`spawn`]) writes
//! the ring to the file, flushing every `flush_ms` and at the end.
//!
//! The receive thread never writes the file itself, so a slow disk costs it ring room, not
//! time; it waits for room rather than dropping a record, since what the journal misses a
//! replay cannot reproduce. Records are journaled before the arbiter sees their packet, so a
//! `kill -9` loses nothing that reached the books (see `ticklane_feeds::journal`).

use std::fs::File;
use std::thread::JoinHandle;
use std::time::Duration;

use ticklane_engine::clock::MonoClock;
use ticklane_feeds::journal::{encode_prefix, JournalWriter, RecordKind};

use super::ring::{copy_into, prefault, wait_room};

/// Bytes of the ring between the receive thread and the journal thread.
pub const JOURNAL_RING: usize = 64 << 20;

/// The receive thread's end of the journal.
pub struct JournalTx {
    tx: rtrb::Producer<u8>,
    records: u64,
    /// Records that could not be written because the journal thread had failed.
    lost: u64,
    waits: u64,
}

impl JournalTx {
    /// Appends one record (waiting for ring room if the journal thread is behind). Allocates
    /// nothing.
    #[inline]
    pub fn append(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) {
        let p = encode_prefix(kind, ts, line, payload);
        let n = p.len() + payload.len();
        let (waited, room) = wait_room(&self.tx, n);
        self.waits += u64::from(waited);
        if !room {
            self.lost += 1;
            return;
        }
        let Ok(mut chunk) = self.tx.write_chunk(n) else {
            self.lost += 1;
            return;
        };
        copy_into(chunk.as_mut_slices(), &[&p, payload]);
        chunk.commit_all();
        self.records += 1;
    }

    /// Records appended.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Records lost because the journal thread had stopped (it failed).
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Times the receive thread waited for ring room.
    pub fn waits(&self) -> u64 {
        self.waits
    }
}

/// Starts the journal thread writing to `file`, flushing every `flush_ns`; returns the
/// receive thread's end and the thread, which ends once the [`JournalTx`] is dropped and the
/// ring drained, with the bytes written (the file synced) or the write error.
///
/// # Errors
/// When the thread cannot be started.
pub fn spawn(
    file: File,
    flush_ns: u64,
) -> std::io::Result<(JournalTx, JoinHandle<std::io::Result<u64>>)> {
    let (mut tx, rx) = rtrb::RingBuffer::<u8>::new(JOURNAL_RING);
    prefault(&mut tx);
    let handle = std::thread::Builder::new()
        .name("tl-journal".into())
        .spawn(move || journal_thread(rx, file, flush_ns))?;
    Ok((
        JournalTx {
            tx,
            records: 0,
            lost: 0,
            waits: 0,
        },
        handle,
    ))
}

/// Writes what the receive thread journals, flushing every `flush_ns` and at the end.
fn journal_thread(mut rx: rtrb::Consumer<u8>, file: File, flush_ns: u64) -> std::io::Result<u64> {
    let clock = MonoClock::new();
    let mut w = JournalWriter::new(file, flush_ns)?;
    loop {
        let n = rx.slots();
        if n > 0 {
            let chunk = rx
                .read_chunk(n)
                .map_err(|e| std::io::Error::other(e.to_string()))?;
            let (a, b) = chunk.as_slices();
            w.append_raw(a)?;
            w.append_raw(b)?;
            chunk.commit_all();
        } else if rx.is_abandoned() {
            if rx.slots() == 0 {
                break;
            }
            continue;
        } else {
            std::thread::sleep(Duration::from_millis(1));
        }
        w.maybe_flush(clock.now())?;
    }
    let bytes = w.bytes();
    let f = w.finish()?;
    f.sync_data()?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_feeds::journal::JournalReader;

    #[test]
    fn what_is_appended_is_in_the_file_once_the_sender_is_dropped() {
        let path = std::env::temp_dir().join(format!(
            "ticklane-live-journal-{}.journal",
            std::process::id()
        ));
        let (mut tx, h) = spawn(File::create(&path).unwrap(), 1_000_000).unwrap();
        tx.append(RecordKind::Packet, 7, 1, b"hello");
        tx.append(RecordKind::End, 8, 0, &[]);
        assert_eq!((tx.records(), tx.lost()), (2, 0));
        drop(tx);
        let bytes = h.join().unwrap().unwrap();
        let data = std::fs::read(&path).unwrap();
        assert_eq!(bytes, data.len() as u64);
        let mut r = JournalReader::new(&data[..]).unwrap();
        let rec = r.next_record().unwrap().unwrap();
        assert_eq!(
            (rec.kind, rec.ts_recv, rec.line, rec.payload),
            (RecordKind::Packet, 7, 1, &b"hello"[..])
        );
        assert_eq!(r.next_record().unwrap().unwrap().kind, RecordKind::End);
        std::fs::remove_file(&path).unwrap();
    }
}
