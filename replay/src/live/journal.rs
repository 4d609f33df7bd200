//! The live daemons' journal: segment files written by the receiving thread itself, one
//! `write(2)` per receive batch, before the batch's messages are released
//! (`ticklane_feeds::journal_file`).
//!
//! Why on the receiving thread: a record must be in the kernel before the message it holds
//! reaches the books, or a `kill -9` loses what was released (a buffer flushed by another
//! thread every 100 ms lost about 2 % of a 20 k msgs/s feed). Handing the bytes to the kernel
//! is a copy into the page cache; the disk is written back later (or per the `fsync` policy),
//! so a slow disk costs the receive thread only when the kernel throttles dirty pages.
//!
//! The receive loop stages each datagram of a batch ([`LiveJournal::stage`]), commits the batch
//! ([`LiveJournal::commit`]), then walks the staged records ([`LiveJournal::staged`]) to feed
//! the arbiter, so what it releases is always already journaled; decisions (gap, request, skip,
//! end) are written on their own ([`LiveJournal::note`]) before they are applied.

use std::io;
use std::path::Path;

use ticklane_engine::clock::MonoClock;
use ticklane_feeds::journal::RecordKind;
use ticklane_feeds::journal_file::{SegmentWriter, Written};

use super::config::JournalSection;
use super::LiveError;

/// The receiving thread's journal.
pub struct LiveJournal {
    w: SegmentWriter,
    clock: MonoClock,
    commits: u64,
}

impl LiveJournal {
    /// Starts the journal `cfg` describes: a new segment after any present (or
    /// [`LiveError::JournalExists`] when the config refuses), its header marked open.
    ///
    /// # Errors
    /// [`LiveError::JournalExists`]; [`LiveError::CreateJournal`] when a file cannot be listed,
    /// created or written.
    pub fn open(cfg: &JournalSection) -> Result<Self, LiveError> {
        let clock = MonoClock::new();
        let w = SegmentWriter::create(&cfg.path, cfg.policy(), cfg.on_exists, clock.now())
            .map_err(|e| match e {
                ticklane_feeds::journal_file::JournalFileError::Exists { .. } => {
                    LiveError::JournalExists(e.to_string())
                }
                ticklane_feeds::journal_file::JournalFileError::Io { path, source } => {
                    LiveError::CreateJournal { path, source }
                }
            })?;
        Ok(LiveJournal {
            w,
            clock,
            commits: 0,
        })
    }

    /// The segment being written.
    pub fn current_path(&self) -> std::path::PathBuf {
        self.w.current_path()
    }

    /// Whether a record of `payload_len` bytes fits in the batch (commit and release first
    /// when it does not).
    #[inline]
    pub fn has_room(&self, payload_len: usize) -> bool {
        self.w.has_room(payload_len)
    }

    /// Stages one record of the current batch. Allocates nothing.
    #[inline]
    pub fn stage(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) {
        self.w.stage(kind, ts, line, payload);
    }

    /// Writes the batch (in the kernel when this returns). A failure stops the journal; it is
    /// reported at the end, and later records are counted as lost.
    #[inline]
    pub fn commit(&mut self) {
        if self.w.uncommitted() {
            self.commits += 1;
            // The error is kept by the writer and reported by `close`.
            let _ = self.w.commit(self.clock.now());
        }
    }

    /// The batch's encoded records (walk them with
    /// [`StagedRecords`](ticklane_feeds::journal_file::StagedRecords)).
    #[inline]
    pub fn staged(&self) -> &[u8] {
        self.w.staged()
    }

    /// Forgets the batch once released.
    #[inline]
    pub fn clear(&mut self) {
        self.w.clear();
    }

    /// Writes one record now (a decision, before it is applied). A batch staged and not yet
    /// released is written with it and kept for its release (its walker takes packets only).
    pub fn note(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) {
        let pending = !self.w.staged().is_empty();
        if !self.has_room(payload.len()) {
            self.commit();
        }
        self.stage(kind, ts, line, payload);
        self.commit();
        if !pending {
            self.clear();
        }
    }

    /// Records committed.
    pub fn records(&self) -> u64 {
        self.w.records()
    }

    /// Records lost because a write had failed.
    pub fn lost(&self) -> u64 {
        self.w.lost()
    }

    /// Batches written.
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// Writes what is staged, syncs, marks the segment closed.
    ///
    /// # Errors
    /// The first write error of the run, or the close's.
    pub fn close(self) -> io::Result<Written> {
        let now = self.clock.now();
        self.w.close(now)
    }
}

impl ticklane_feeds::journal::RecordSink for LiveJournal {
    /// One record written on its own (a websocket frame: the client reads one at a time).
    fn record(&mut self, kind: RecordKind, ts: u64, line: u16, payload: &[u8]) -> io::Result<()> {
        self.note(kind, ts, line, payload);
        if self.w.failed() {
            return Err(io::Error::other("the journal failed"));
        }
        Ok(())
    }
}

/// `PATH (N records, B bytes, segments a..b)` for a report.
pub fn describe(first: &Path, w: &Written) -> String {
    let segs = if w.first_segment == w.last_segment {
        format!("segment {}", w.first_segment)
    } else {
        format!("segments {}..={}", w.first_segment, w.last_segment)
    };
    format!(
        "{} ({} records, {} bytes, {segs}, last {}, closed cleanly)",
        first.display(),
        w.records,
        w.bytes,
        w.last_path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_feeds::journal::JournalReader;
    use ticklane_feeds::journal_file::StagedRecords;

    #[test]
    fn a_committed_batch_is_in_the_file_before_it_is_released_and_notes_follow() {
        let dir =
            std::env::temp_dir().join(format!("ticklane-live-journal-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let cfg: JournalSection = toml::from_str(&format!(
            "path = \"{}\"\nfsync = \"never\"\n",
            dir.join("j").display()
        ))
        .unwrap();
        let mut j = LiveJournal::open(&cfg).unwrap();
        j.stage(RecordKind::Packet, 7, 1, b"hello");
        j.stage(RecordKind::Packet, 8, 0, b"world");
        j.commit();
        // What a released packet's reader would see now: both records in the file.
        let data = std::fs::read(dir.join("j")).unwrap();
        let mut r = JournalReader::new(&data[..]).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().payload, b"hello");
        assert_eq!(r.next_record().unwrap().unwrap().payload, b"world");
        let walked: Vec<_> = StagedRecords::new(j.staged())
            .map(|r| r.3.to_vec())
            .collect();
        assert_eq!(walked, vec![b"hello".to_vec(), b"world".to_vec()]);
        // A decision while the batch is still staged: written after it, the batch kept (and
        // not written twice).
        j.note(RecordKind::Gap, 9, 0, b"g");
        let walked: Vec<_> = StagedRecords::new(j.staged()).map(|r| r.0).collect();
        assert_eq!(walked, vec![1, 1, RecordKind::Gap.code()]);
        j.clear();
        j.note(RecordKind::End, 9, 0, &[]);
        assert_eq!((j.records(), j.lost(), j.commits()), (4, 0, 3));
        let w = j.close().unwrap();
        let data = std::fs::read(dir.join("j")).unwrap();
        assert_eq!(w.bytes, data.len() as u64);
        let mut r = JournalReader::new(&data[..]).unwrap();
        let kinds: Vec<_> =
            std::iter::from_fn(|| r.next_record().map(|x| x.unwrap().kind)).collect();
        assert_eq!(
            kinds,
            vec![
                RecordKind::Packet,
                RecordKind::Packet,
                RecordKind::Gap,
                RecordKind::End
            ]
        );
        assert!(r.clean_end());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
