//! The journal on disk: segment files, written so that a record is in the kernel's page cache
//! before the message it holds is released, with one `write(2)` per receive batch.
//!
//! Why batched writes rather than a buffer flushed on a timer: a buffer in the process dies
//! with it, so `kill -9` lost what had been released since the last flush. Why not a memory
//! map written in place: the batch write costs one system call per receive batch (the receive
//! backends hand over tens of datagrams per call), needs no `unsafe` and no pre-allocated file,
//! and a record cut by a crash is simply the file's end, which the reader already handles.
//!
//! The caller *stages* a batch's records ([`SegmentWriter::stage`]: encoded into a buffer
//! allocated once), *commits* them ([`SegmentWriter::commit`]: one write, then the `fsync`
//! policy), and only then releases what they hold; it may walk the staged records
//! ([`SegmentWriter::staged`]) to release them, then [`SegmentWriter::clear`]s.
//!
//! Segments: the journal's path is segment 0, `PATH.1`, `PATH.2`, ... follow. A daemon never
//! truncates one: it starts after the highest number present ([`OnExists::Append`]), or refuses
//! to start ([`OnExists::Refuse`]). It rolls to the next number when a segment reaches
//! `segment_bytes` or `segment_ns` (the new one's header says it continues the run). Each
//! segment's header is marked open while it is written and closed when its daemon closes it, so
//! a replay can say that a daemon did not stop cleanly.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::journal::{
    encode_prefix, segment_header, RecordKind, BODY_FIXED, FLAGS_OFFSET, FLAG_CONTINUES, FLAG_OPEN,
    RECORD_PREFIX,
};

/// When a segment's data is forced to stable storage (it reaches the kernel at every commit
/// whatever the policy; this is about power loss).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fsync {
    /// Never (the kernel writes back on its own, typically within 30 s); a clean close still
    /// syncs.
    Never,
    /// After every commit, before its records are released.
    EveryBatch,
    /// Every this many milliseconds, on a thread of its own (the receive thread never waits).
    IntervalMs(u64),
}

impl std::fmt::Display for Fsync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fsync::Never => f.write_str("never"),
            Fsync::EveryBatch => f.write_str("every_batch"),
            Fsync::IntervalMs(ms) => write!(f, "every {ms} ms"),
        }
    }
}

/// What to do when the journal's path already exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnExists {
    /// Continue in a new segment after the last one present.
    Append,
    /// Refuse to start.
    Refuse,
}

/// How segments are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentPolicy {
    /// Roll to a new segment once one holds this many bytes.
    pub segment_bytes: u64,
    /// Roll to a new segment once one is this old (0: never by age).
    pub segment_ns: u64,
    /// When to sync.
    pub fsync: Fsync,
    /// Bytes of the staging buffer (a batch larger than it is committed in parts).
    pub stage_bytes: usize,
}

/// Why a journal could not be started.
#[derive(Debug, thiserror::Error)]
pub enum JournalFileError {
    /// The path exists and the policy says to refuse.
    #[error(
        "the journal {path} exists ({segments} segments) and [journal] on_exists = \"refuse\": move it away, or set on_exists = \"append\" to continue it in a new segment"
    )]
    Exists {
        /// The journal's path.
        path: String,
        /// Segments present.
        segments: usize,
    },
    /// A file could not be listed, created or written.
    #[error("journal {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
}

/// The path of segment `n` of the journal at `first` (`first` itself for 0, `first.n` after).
pub fn segment_path(first: &Path, n: u32) -> PathBuf {
    if n == 0 {
        return first.to_path_buf();
    }
    let mut s = first.as_os_str().to_owned();
    s.push(format!(".{n}"));
    PathBuf::from(s)
}

/// The segments of the journal at `first` present on disk, by number (`first` itself is 0;
/// `first.N` for a decimal N).
///
/// # Errors
/// The directory cannot be listed.
pub fn existing_segments(first: &Path) -> io::Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    if first.exists() {
        out.push((0, first.to_path_buf()));
    }
    let dir = match first.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(name) = first.file_name().and_then(|n| n.to_str()) else {
        return Ok(out);
    };
    let prefix = format!("{name}.");
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for e in entries {
        let e = e?;
        let Some(n) = e.file_name().to_str().and_then(|f| {
            let rest = f.strip_prefix(&prefix)?;
            if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit()) || rest.starts_with('0')
            {
                return None;
            }
            rest.parse::<u32>().ok()
        }) else {
            continue;
        };
        out.push((n, segment_path(first, n)));
    }
    out.sort();
    Ok(out)
}

/// Syncs the current segment every interval, on its own thread.
struct Syncer {
    file: Arc<Mutex<Option<File>>>,
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Syncer {
    fn start(file: &File, every: Duration) -> io::Result<Self> {
        let shared = Arc::new(Mutex::new(Some(file.try_clone()?)));
        let stop = Arc::new(AtomicBool::new(false));
        let handle = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("tl-fsync".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::park_timeout(every);
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        // A duplicate of the descriptor, so the lock is not held while syncing.
                        let f = shared
                            .lock()
                            .ok()
                            .and_then(|g| g.as_ref().and_then(|f| f.try_clone().ok()));
                        if let Some(f) = f {
                            // A failed sync shows again at the close, which syncs and reports.
                            let _ = f.sync_data();
                        }
                    }
                })?
        };
        Ok(Syncer {
            file: shared,
            stop,
            handle,
        })
    }

    fn switch(&self, file: &File) {
        if let (Ok(mut g), Ok(f)) = (self.file.lock(), file.try_clone()) {
            *g = Some(f);
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.handle.thread().unpark();
        let _ = self.handle.join();
    }
}

/// What a closed journal holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// Records committed.
    pub records: u64,
    /// Bytes written, headers included.
    pub bytes: u64,
    /// The segments written, first to last.
    pub first_segment: u32,
    /// The last segment written.
    pub last_segment: u32,
    /// The last segment's path.
    pub last_path: PathBuf,
}

/// Writes a journal as segment files (see the module docs).
pub struct SegmentWriter {
    first: PathBuf,
    file: File,
    index: u32,
    flags: u16,
    first_index: u32,
    segment_bytes: u64,
    opened_at: u64,
    staged: Vec<u8>,
    /// Bytes of `staged` already written.
    written: usize,
    staged_records: u64,
    records: u64,
    bytes: u64,
    policy: SegmentPolicy,
    syncer: Option<Syncer>,
    failed: Option<io::Error>,
    lost: u64,
    syncs: u64,
}

impl SegmentWriter {
    /// Starts the journal at `first`: segment 0 if nothing is there, else (with
    /// [`OnExists::Append`]) the segment after the last one present. `now_ns` is any
    /// monotonic clock the later calls use too.
    ///
    /// # Errors
    /// [`JournalFileError::Exists`] with [`OnExists::Refuse`] and a journal present;
    /// [`JournalFileError::Io`] when listing, creating or writing fails.
    pub fn create(
        first: &Path,
        policy: SegmentPolicy,
        on_exists: OnExists,
        now_ns: u64,
    ) -> Result<Self, JournalFileError> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| JournalFileError::Io { path, source }
        };
        let present = existing_segments(first).map_err(io(first))?;
        if !present.is_empty() && on_exists == OnExists::Refuse {
            return Err(JournalFileError::Exists {
                path: first.display().to_string(),
                segments: present.len(),
            });
        }
        let index = present.last().map_or(0, |(n, _)| n.saturating_add(1));
        let path = segment_path(first, index);
        let file = open_segment(&path, index, 0).map_err(io(&path))?;
        let syncer = match policy.fsync {
            Fsync::IntervalMs(ms) => {
                Some(Syncer::start(&file, Duration::from_millis(ms.max(1))).map_err(io(&path))?)
            }
            _ => None,
        };
        Ok(SegmentWriter {
            first: first.to_path_buf(),
            file,
            index,
            flags: 0,
            first_index: index,
            segment_bytes: crate::journal::HEADER_LEN as u64,
            opened_at: now_ns,
            staged: Vec::with_capacity(policy.stage_bytes.max(1 << 17)),
            written: 0,
            staged_records: 0,
            records: 0,
            bytes: crate::journal::HEADER_LEN as u64,
            policy,
            syncer,
            failed: None,
            lost: 0,
            syncs: 0,
        })
    }

    /// Whether a record of `payload_len` bytes fits in what is left of the staging buffer
    /// (when it does not, commit first).
    #[inline]
    pub fn has_room(&self, payload_len: usize) -> bool {
        self.staged.len() + RECORD_PREFIX + BODY_FIXED + payload_len <= self.staged.capacity()
    }

    /// Encodes a record into the staging buffer; it reaches the file at the next
    /// [`commit`](Self::commit). Allocates nothing while there is room ([`has_room`]); a
    /// record larger than the whole buffer grows it once.
    ///
    /// [`has_room`]: Self::has_room
    #[inline]
    pub fn stage(&mut self, kind: RecordKind, ts_recv: u64, line: u16, payload: &[u8]) {
        let p = encode_prefix(kind, ts_recv, line, payload);
        self.staged.extend_from_slice(&p);
        self.staged.extend_from_slice(payload);
        self.staged_records += 1;
    }

    /// The staged records, encoded (walk them with [`StagedRecords`]).
    pub fn staged(&self) -> &[u8] {
        &self.staged
    }

    /// Writes the records staged since the last commit with one `write(2)` (they are in the
    /// kernel when this returns), syncs if the policy says every batch, and rolls to a new
    /// segment if this one is full or old enough. The staged bytes stay readable until
    /// [`clear`](Self::clear).
    ///
    /// # Errors
    /// Writing or syncing failed: the journal stops there (later records are counted as lost,
    /// [`lost`](Self::lost)) and the error is returned again by [`close`](Self::close).
    pub fn commit(&mut self, now_ns: u64) -> io::Result<()> {
        if self.written == self.staged.len() {
            return Ok(());
        }
        let new = &self.staged[self.written..];
        self.written = self.staged.len();
        if self.failed.is_some() {
            self.lost += self.staged_records;
            self.staged_records = 0;
            return Err(io::Error::other("the journal failed earlier"));
        }
        let n = new.len() as u64;
        let mut res = self.file.write_all(new);
        if res.is_ok() && self.policy.fsync == Fsync::EveryBatch {
            self.syncs += 1;
            res = self.file.sync_data();
        }
        if let Err(e) = res {
            self.lost += self.staged_records;
            self.staged_records = 0;
            let kind = e.kind();
            self.failed = Some(e);
            return Err(io::Error::new(kind, "writing the journal"));
        }
        self.records += self.staged_records;
        self.staged_records = 0;
        self.bytes += n;
        self.segment_bytes += n;
        let by_age = self.policy.segment_ns > 0
            && now_ns.saturating_sub(self.opened_at) >= self.policy.segment_ns;
        if self.segment_bytes >= self.policy.segment_bytes || by_age {
            if let Err(e) = self.roll(now_ns) {
                let kind = e.kind();
                self.failed = Some(e);
                return Err(io::Error::new(kind, "rolling the journal"));
            }
        }
        Ok(())
    }

    /// Whether records were staged since the last commit.
    #[inline]
    pub fn uncommitted(&self) -> bool {
        self.written < self.staged.len()
    }

    /// Forgets the staged records (after [`commit`](Self::commit) and their release).
    #[inline]
    pub fn clear(&mut self) {
        self.staged.clear();
        self.written = 0;
        self.staged_records = 0;
    }

    /// Closes the current segment and opens the next (its header: continues the run).
    fn roll(&mut self, now_ns: u64) -> io::Result<()> {
        let next = self.index + 1;
        let path = segment_path(&self.first, next);
        let file = open_segment(&path, next, FLAG_CONTINUES)?;
        close_segment(&self.file, self.flags, self.policy.fsync)?;
        if let Some(s) = &self.syncer {
            s.switch(&file);
        }
        self.file = file;
        self.flags = FLAG_CONTINUES;
        self.index = next;
        self.segment_bytes = crate::journal::HEADER_LEN as u64;
        self.bytes += crate::journal::HEADER_LEN as u64;
        self.opened_at = now_ns;
        Ok(())
    }

    /// Records committed.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes written, headers included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Records lost because the journal had failed.
    pub fn lost(&self) -> u64 {
        self.lost
    }

    /// Whether a write failed (the journal stopped there).
    pub fn failed(&self) -> bool {
        self.failed.is_some()
    }

    /// Syncs done on the committing thread (the `every_batch` policy).
    pub fn syncs(&self) -> u64 {
        self.syncs
    }

    /// The segment being written.
    pub fn current_path(&self) -> PathBuf {
        segment_path(&self.first, self.index)
    }

    /// Commits what is staged, syncs, and marks the segment closed.
    ///
    /// # Errors
    /// The first write error of the run, or the final write, sync or header update's.
    pub fn close(mut self, now_ns: u64) -> io::Result<Written> {
        let res = self.commit(now_ns);
        if let Some(s) = self.syncer.take() {
            s.stop();
        }
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        res?;
        close_segment(&self.file, self.flags, Fsync::EveryBatch)?;
        Ok(Written {
            records: self.records,
            bytes: self.bytes,
            first_segment: self.first_index,
            last_segment: self.index,
            last_path: segment_path(&self.first, self.index),
        })
    }
}

/// Creates a segment file (never an existing one) with its header marked open.
fn open_segment(path: &Path, index: u32, flags: u16) -> io::Result<File> {
    let mut f = OpenOptions::new().write(true).create_new(true).open(path)?;
    f.write_all(&segment_header(index, flags | FLAG_OPEN))?;
    Ok(f)
}

/// Marks a segment closed: synced first (unless the policy is never), then its header's open
/// flag cleared in place.
fn close_segment(f: &File, flags: u16, fsync: Fsync) -> io::Result<()> {
    if fsync != Fsync::Never {
        f.sync_data()?;
    }
    let flags = flags & !FLAG_OPEN;
    f.write_all_at(&flags.to_le_bytes(), FLAGS_OFFSET)?;
    if fsync != Fsync::Never {
        f.sync_data()?;
    }
    Ok(())
}

/// Walks encoded records (a [`SegmentWriter::staged`] batch): `(kind byte, ts, line,
/// payload)`. Stops at the first record that is not whole.
pub struct StagedRecords<'a> {
    bytes: &'a [u8],
}

impl<'a> StagedRecords<'a> {
    /// Over `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        StagedRecords { bytes }
    }
}

impl<'a> Iterator for StagedRecords<'a> {
    type Item = (u8, u64, u16, &'a [u8]);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.bytes;
        if b.len() < RECORD_PREFIX + BODY_FIXED {
            return None;
        }
        let len = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let end = RECORD_PREFIX + len;
        if len < BODY_FIXED || b.len() < end {
            return None;
        }
        let body = &b[RECORD_PREFIX..end];
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&body[1..9]);
        self.bytes = &b[end..];
        Some((
            body[0],
            u64::from_le_bytes(ts),
            u16::from_le_bytes([body[9], body[10]]),
            &body[BODY_FIXED..],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{JournalReader, HEADER_LEN};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "ticklane-journal-file-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn policy(segment_bytes: u64) -> SegmentPolicy {
        SegmentPolicy {
            segment_bytes,
            segment_ns: 0,
            fsync: Fsync::Never,
            stage_bytes: 1 << 17,
        }
    }

    fn payloads(path: &Path) -> (Vec<Vec<u8>>, bool, u16) {
        let data = std::fs::read(path).unwrap();
        let mut r = JournalReader::new(&data[..]).unwrap();
        let mut out = Vec::new();
        while let Some(rec) = r.next_record() {
            out.push(rec.unwrap().payload.to_vec());
        }
        (out, r.clean_end(), r.header().flags)
    }

    #[test]
    fn a_commit_is_in_the_file_before_close_and_close_marks_it_clean() {
        let d = dir("commit");
        let p = d.join("j");
        let mut w = SegmentWriter::create(&p, policy(1 << 30), OnExists::Append, 0).unwrap();
        w.stage(RecordKind::Packet, 1, 0, b"alpha");
        w.stage(RecordKind::Packet, 2, 1, b"beta");
        let walked: Vec<_> = StagedRecords::new(w.staged()).collect();
        assert_eq!(
            walked,
            vec![(1, 1, 0, &b"alpha"[..]), (1, 2, 1, &b"beta"[..])]
        );
        w.commit(0).unwrap();
        // A second commit of the same batch writes nothing more; a record staged after it is
        // written by the next one.
        w.commit(0).unwrap();
        assert_eq!(w.records(), 2);
        w.clear();
        // In the file now, as another process would read it: open, not closed.
        let (got, clean, flags) = payloads(&p);
        assert_eq!(got, vec![b"alpha".to_vec(), b"beta".to_vec()]);
        assert!(!clean);
        assert_eq!(flags, FLAG_OPEN);
        w.stage(RecordKind::End, 3, 0, b"");
        let written = w.close(0).unwrap();
        assert_eq!((written.records, written.first_segment), (3, 0));
        let (got, clean, flags) = payloads(&p);
        assert_eq!(got.len(), 3);
        assert!(clean);
        assert_eq!(flags, 0);
        assert_eq!(written.bytes, std::fs::metadata(&p).unwrap().len());
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn restarts_append_segments_or_refuse_and_rolls_continue() {
        let d = dir("segments");
        let p = d.join("live.journal");
        for run in 0..2u8 {
            let mut w = SegmentWriter::create(&p, policy(1 << 30), OnExists::Append, 0).unwrap();
            w.stage(RecordKind::Packet, 1, 0, &[run]);
            w.close(0).unwrap();
        }
        assert_eq!(
            existing_segments(&p).unwrap(),
            vec![(0, p.clone()), (1, segment_path(&p, 1))]
        );
        assert_eq!(
            payloads(&p).0,
            vec![vec![0]],
            "the first run's segment is intact"
        );
        assert_eq!(payloads(&segment_path(&p, 1)).0, vec![vec![1]]);
        match SegmentWriter::create(&p, policy(1 << 30), OnExists::Refuse, 0) {
            Err(JournalFileError::Exists { segments: 2, .. }) => {}
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("refused"),
        }
        // Rolling: a segment of at most ~100 bytes, 5 records of 19 + 30 bytes each.
        let q = d.join("rolled");
        let mut w = SegmentWriter::create(&q, policy(100), OnExists::Append, 0).unwrap();
        for i in 0..5u8 {
            w.stage(RecordKind::Packet, u64::from(i), 0, &[i; 30]);
            w.commit(0).unwrap();
            w.clear();
        }
        let written = w.close(0).unwrap();
        // 16 + 49 = 65 < 100, + 49 = 114 ≥ 100: two records a segment, then a new one.
        assert_eq!(written.last_segment, 2);
        let segs = existing_segments(&q).unwrap();
        assert_eq!(segs.len(), 3);
        let mut total = 0;
        for (n, path) in &segs {
            let data = std::fs::read(path).unwrap();
            let mut r = JournalReader::new(&data[..]).unwrap();
            assert_eq!(r.header().segment, *n);
            assert_eq!(r.header().continues(), *n > 0);
            while let Some(rec) = r.next_record() {
                assert_eq!(rec.unwrap().payload, &[total as u8; 30][..]);
                total += 1;
            }
            assert!(r.clean_end(), "segment {n} closed");
        }
        assert_eq!(total, 5);
        assert_eq!(
            written.bytes,
            segs.iter()
                .map(|(_, p)| std::fs::metadata(p).unwrap().len())
                .sum::<u64>()
        );
        assert_eq!(written.bytes, 3 * HEADER_LEN as u64 + 5 * 49);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn segment_names_are_the_path_then_decimal_suffixes() {
        let d = dir("names");
        let p = d.join("j");
        for name in ["j", "j.1", "j.10", "j.2", "j.01", "j.x", "j.", "jj.3"] {
            std::fs::write(d.join(name), b"").unwrap();
        }
        let got: Vec<u32> = existing_segments(&p).unwrap().iter().map(|s| s.0).collect();
        assert_eq!(got, vec![0, 1, 2, 10]);
        assert_eq!(segment_path(&p, 10), d.join("j.10"));
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn every_batch_and_interval_policies_sync() {
        let d = dir("sync");
        for fsync in [Fsync::EveryBatch, Fsync::IntervalMs(1)] {
            let p = d.join(format!("{fsync}"));
            let mut w = SegmentWriter::create(
                &p,
                SegmentPolicy {
                    fsync,
                    ..policy(1 << 30)
                },
                OnExists::Append,
                0,
            )
            .unwrap();
            for i in 0..3u8 {
                w.stage(RecordKind::Packet, 0, 0, &[i]);
                w.commit(0).unwrap();
                w.clear();
            }
            assert_eq!(w.syncs(), if fsync == Fsync::EveryBatch { 3 } else { 0 });
            assert_eq!(w.close(0).unwrap().records, 3);
            assert_eq!(payloads(&p).0.len(), 3);
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
