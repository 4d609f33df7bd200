//! The raw capture journal: everything the live daemon received, with receive timestamps, so a
//! bad minute can be replayed later through the identical code path.
//!
//! Why a format of our own rather than pcap: the journal also records the daemon's decisions
//! that change what reaches the books (a gap given up on, a websocket reconnect and resync), and
//! each record carries a CRC so a damaged disk block is found and counted instead of decoded as
//! market data.
//!
//! Layout (all integers little-endian):
//!
//! ```text
//! header  : magic "TLJOURNL" (8) | version u16 | flags u16 | segment u32          = 16 bytes
//! record  : body_len u32 | crc32(body) u32 | body
//! body    : kind u8 | ts_recv_ns u64 | line u16 | payload (body_len - 11 bytes)
//! ```
//!
//! Version 2 (written now) gives the header's last six bytes a meaning; version 1 (zeros there)
//! is read as before. `flags` bit 0 ([`FLAG_OPEN`]) is set while a daemon writes the segment
//! and cleared when it closes it cleanly; bit 1 ([`FLAG_CONTINUES`]) says the segment continues
//! the previous one's run (a roll by size or age) rather than starting a new run (a restart).
//! `segment` is the segment's number: 0 for the journal's own path, N for `PATH.N` (see
//! `journal_file`). A segment still marked open (or a version 1 journal whose last record is
//! not [`RecordKind::End`]) was not closed by its daemon: [`JournalReader::clean_end`] says so.
//!
//! A journal cut short (the daemon killed mid-write) reads back to its last whole record; the
//! cut is reported, not an error. A record whose CRC does not match is a counted
//! [`JournalError::Corrupt`] and reading goes on at the next record; a length that cannot be
//! right (over [`MAX_BODY`] or under the fixed part) stops the read, since nothing after it can
//! be framed.

use std::io::{self, Read, Write};

/// The first 8 bytes of every journal.
pub const MAGIC: [u8; 8] = *b"TLJOURNL";
/// The format version this code writes (it reads [`VERSION_1`] too).
pub const VERSION: u16 = 2;
/// The first format version: the header's flags and segment number are zero.
pub const VERSION_1: u16 = 1;
/// Header flag: the segment is being written; cleared when its daemon closes it cleanly.
pub const FLAG_OPEN: u16 = 1;
/// Header flag: the segment continues the previous segment's run (rolled by size or age), so
/// a replay keeps the arbiter's state across the boundary; without it the segment starts a
/// new run (a restarted daemon).
pub const FLAG_CONTINUES: u16 = 2;
/// Bytes of the file header.
pub const HEADER_LEN: usize = 16;
/// Bytes before a record's body: length and CRC.
pub const RECORD_PREFIX: usize = 8;
/// Fixed bytes of a body before the payload: kind, timestamp, line.
pub const BODY_FIXED: usize = 11;
/// Largest body accepted (a datagram or websocket frame fits many times over).
pub const MAX_BODY: usize = 1 << 24;

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordKind {
    /// A datagram as received (MoldUDP64 packet); `line` says which socket.
    Packet,
    /// A websocket data frame as received; `line` is the connection number (0 the first,
    /// modulo 65 536).
    Frame,
    /// A sequence gap was detected: payload `from u64 | count u64` (informational).
    Gap,
    /// A retransmission request was sent: payload `from u64 | count u64` (informational).
    Request,
    /// Messages given up on: payload `from u64 | count u64`. Replays skip the same messages.
    Skip,
    /// The source reconnected (websocket).
    Reconnect,
    /// The source's book was resynchronized from a snapshot.
    Resync,
    /// The session ended (MoldUDP64 end of session, or shutdown).
    End,
    /// A REST response the source used (a depth snapshot body, as received).
    Rest,
    /// What the journal's frames are: the venue name (`binance`, `binance-futures`,
    /// `coinbase`); the first record of a websocket journal.
    Source,
    /// Copies of messages arrived with a known sequence number but other bytes than the first
    /// copy (which was kept): payload `from u64 | count u64`, the first such sequence number
    /// in the packet before this record and how many of its messages conflicted
    /// (informational: a replay of the packets counts the same conflicts).
    Conflict,
}

impl RecordKind {
    /// The byte written for this kind.
    pub fn code(self) -> u8 {
        match self {
            RecordKind::Packet => 1,
            RecordKind::Frame => 2,
            RecordKind::Gap => 3,
            RecordKind::Request => 4,
            RecordKind::Skip => 5,
            RecordKind::Reconnect => 6,
            RecordKind::Resync => 7,
            RecordKind::End => 8,
            RecordKind::Rest => 9,
            RecordKind::Source => 10,
            RecordKind::Conflict => 11,
        }
    }

    /// The kind for a byte, if it names one.
    pub fn from_code(b: u8) -> Option<Self> {
        Some(match b {
            1 => RecordKind::Packet,
            2 => RecordKind::Frame,
            3 => RecordKind::Gap,
            4 => RecordKind::Request,
            5 => RecordKind::Skip,
            6 => RecordKind::Reconnect,
            7 => RecordKind::Resync,
            8 => RecordKind::End,
            9 => RecordKind::Rest,
            10 => RecordKind::Source,
            11 => RecordKind::Conflict,
            _ => return None,
        })
    }
}

/// One record, borrowing its payload from the reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// What it is.
    pub kind: RecordKind,
    /// Receive time, nanoseconds since the Unix epoch (the live clock).
    pub ts_recv: u64,
    /// Which line or socket it came from (0 = A, 1 = B, 2 = retransmissions, ...).
    pub line: u16,
    /// The bytes.
    pub payload: &'a [u8],
}

impl Record<'_> {
    /// For [`RecordKind::Gap`], [`RecordKind::Request`], [`RecordKind::Skip`] and
    /// [`RecordKind::Conflict`]: `(from, count)`.
    pub fn range(&self) -> Option<(u64, u64)> {
        if self.payload.len() != 16 {
            return None;
        }
        let mut a = [0u8; 8];
        let mut b = [0u8; 8];
        a.copy_from_slice(&self.payload[..8]);
        b.copy_from_slice(&self.payload[8..]);
        Some((u64::from_le_bytes(a), u64::from_le_bytes(b)))
    }
}

/// The payload of a range record (`from`, `count`).
pub fn range_payload(from: u64, count: u64) -> [u8; 16] {
    let mut p = [0u8; 16];
    p[..8].copy_from_slice(&from.to_le_bytes());
    p[8..].copy_from_slice(&count.to_le_bytes());
    p
}

/// Why a journal, or a record in it, could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JournalError {
    /// The file does not start with [`MAGIC`].
    #[error("not a ticklane journal (no TLJOURNL magic)")]
    NotJournal,
    /// A version this build does not read.
    #[error(
        "journal format version {version} is not supported (this build reads versions 1 and {VERSION})"
    )]
    UnsupportedVersion {
        /// The file's version.
        version: u16,
    },
    /// The record at `offset` failed its CRC; it was skipped.
    #[error("journal record at byte {offset} is corrupt (CRC mismatch); skipped")]
    Corrupt {
        /// Byte offset of the record.
        offset: u64,
    },
    /// The record at `offset` has a kind byte this build does not know; it was skipped.
    #[error("journal record at byte {offset} has unknown kind {kind}; skipped")]
    UnknownKind {
        /// Byte offset of the record.
        offset: u64,
        /// The kind byte.
        kind: u8,
    },
    /// The record at `offset` claims an impossible length; nothing after it can be framed.
    #[error("journal record at byte {offset} claims a body of {len} bytes; reading stops there")]
    BadLength {
        /// Byte offset of the record.
        offset: u64,
        /// The claimed length.
        len: u32,
    },
    /// Reading failed.
    #[error("reading the journal: {0}")]
    Io(io::ErrorKind),
}

/// Where a journal cut short ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cut {
    /// Byte offset of the incomplete record.
    pub offset: u64,
    /// Bytes of it present.
    pub have: u64,
}

/// True when `head` starts with the journal magic (for format auto-detection).
pub fn is_journal(head: &[u8]) -> bool {
    head.starts_with(&MAGIC)
}

/// Encodes a record's length, CRC and fixed body part into `out`; the payload follows.
pub fn encode_prefix(
    kind: RecordKind,
    ts_recv: u64,
    line: u16,
    payload: &[u8],
) -> [u8; RECORD_PREFIX + BODY_FIXED] {
    let mut p = [0u8; RECORD_PREFIX + BODY_FIXED];
    let body_len = (BODY_FIXED + payload.len()) as u32;
    p[0..4].copy_from_slice(&body_len.to_le_bytes());
    p[8] = kind.code();
    p[9..17].copy_from_slice(&ts_recv.to_le_bytes());
    p[17..19].copy_from_slice(&line.to_le_bytes());
    let mut h = crc32fast::Hasher::new();
    h.update(&p[8..]);
    h.update(payload);
    p[4..8].copy_from_slice(&h.finalize().to_le_bytes());
    p
}

/// The header of a journal written as a whole (no flags, segment 0).
pub fn header() -> [u8; HEADER_LEN] {
    segment_header(0, 0)
}

/// The header of segment number `segment` with `flags` ([`FLAG_OPEN`], [`FLAG_CONTINUES`]).
pub fn segment_header(segment: u32, flags: u16) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h[10..12].copy_from_slice(&flags.to_le_bytes());
    h[12..16].copy_from_slice(&segment.to_le_bytes());
    h
}

/// Byte offset of the header's flags (a daemon rewrites them in place when it closes a
/// segment).
pub const FLAGS_OFFSET: u64 = 10;

/// A journal's (or segment's) header, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SegmentHeader {
    /// The format version ([`VERSION_1`] or [`VERSION`]).
    pub version: u16,
    /// [`FLAG_OPEN`], [`FLAG_CONTINUES`] (0 in version 1).
    pub flags: u16,
    /// The segment's number (0 in version 1).
    pub segment: u32,
}

impl SegmentHeader {
    /// Parses and checks a header.
    ///
    /// # Errors
    /// [`JournalError::NotJournal`], [`JournalError::UnsupportedVersion`].
    pub fn parse(h: &[u8; HEADER_LEN]) -> Result<Self, JournalError> {
        if h[..8] != MAGIC {
            return Err(JournalError::NotJournal);
        }
        let version = u16::from_le_bytes([h[8], h[9]]);
        if version != VERSION && version != VERSION_1 {
            return Err(JournalError::UnsupportedVersion { version });
        }
        Ok(SegmentHeader {
            version,
            flags: u16::from_le_bytes([h[10], h[11]]),
            segment: u32::from_le_bytes([h[12], h[13], h[14], h[15]]),
        })
    }

    /// The daemon writing it had not closed it (version 2).
    pub fn open(&self) -> bool {
        self.version >= VERSION && self.flags & FLAG_OPEN != 0
    }

    /// It continues the previous segment's run (version 2).
    pub fn continues(&self) -> bool {
        self.version >= VERSION && self.flags & FLAG_CONTINUES != 0
    }
}

/// Where records go as a live source produces them: a [`JournalWriter`] (buffered, for
/// journals written as a whole), or the live daemon's journal over segment files
/// (`journal_file`), which has each record in the kernel when `record` returns.
pub trait RecordSink {
    /// Writes one record.
    ///
    /// # Errors
    /// Writing failed.
    fn record(
        &mut self,
        kind: RecordKind,
        ts_recv: u64,
        line: u16,
        payload: &[u8],
    ) -> io::Result<()>;
}

impl<W: Write> RecordSink for JournalWriter<W> {
    fn record(
        &mut self,
        kind: RecordKind,
        ts_recv: u64,
        line: u16,
        payload: &[u8],
    ) -> io::Result<()> {
        self.append(kind, ts_recv, line, payload)
    }
}

/// Appends records to a journal and flushes on a time policy.
///
/// ```
/// use ticklane_feeds::journal::{JournalReader, JournalWriter, RecordKind};
/// let mut w = JournalWriter::new(Vec::new(), 1_000_000).unwrap();
/// w.append(RecordKind::Packet, 5, 1, b"datagram").unwrap();
/// let bytes = w.finish().unwrap();
/// let mut r = JournalReader::new(&bytes[..]).unwrap();
/// let rec = r.next_record().unwrap().unwrap();
/// assert_eq!((rec.kind, rec.ts_recv, rec.line, rec.payload), (RecordKind::Packet, 5, 1, &b"datagram"[..]));
/// assert!(r.next_record().is_none());
/// ```
pub struct JournalWriter<W: Write> {
    out: io::BufWriter<W>,
    flush_every_ns: u64,
    last_flush: u64,
    records: u64,
    bytes: u64,
}

impl<W: Write> JournalWriter<W> {
    /// Writes the header; later [`maybe_flush`](Self::maybe_flush) calls flush at most every
    /// `flush_every_ns`.
    ///
    /// # Errors
    /// Writing the header failed.
    pub fn new(out: W, flush_every_ns: u64) -> io::Result<Self> {
        let mut out = io::BufWriter::with_capacity(1 << 20, out);
        out.write_all(&header())?;
        Ok(JournalWriter {
            out,
            flush_every_ns,
            last_flush: 0,
            records: 0,
            bytes: HEADER_LEN as u64,
        })
    }

    /// Appends one record.
    ///
    /// # Errors
    /// Writing failed.
    pub fn append(
        &mut self,
        kind: RecordKind,
        ts_recv: u64,
        line: u16,
        payload: &[u8],
    ) -> io::Result<()> {
        let p = encode_prefix(kind, ts_recv, line, payload);
        self.append_raw(&p)?;
        self.append_raw(payload)?;
        self.records += 1;
        Ok(())
    }

    /// Appends bytes already encoded as records (by [`encode_prefix`] + payload, from a ring).
    ///
    /// # Errors
    /// Writing failed.
    pub fn append_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.bytes += bytes.len() as u64;
        self.out.write_all(bytes)
    }

    /// Counts a record appended through [`append_raw`](Self::append_raw).
    pub fn count_record(&mut self) {
        self.records += 1;
    }

    /// Flushes if `flush_every_ns` has passed since the last flush (`now` in any monotonic ns).
    ///
    /// # Errors
    /// Flushing failed.
    pub fn maybe_flush(&mut self, now: u64) -> io::Result<bool> {
        if now.saturating_sub(self.last_flush) >= self.flush_every_ns {
            self.last_flush = now;
            self.out.flush()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Records written.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes written, header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the inner writer.
    ///
    /// # Errors
    /// Flushing failed.
    pub fn finish(self) -> io::Result<W> {
        self.out.into_inner().map_err(|e| e.into_error())
    }
}

/// What [`JournalReader::advance`] counts over a journal's segments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SegmentCounts {
    /// Segments after the first that were read.
    pub segments: u32,
    /// Segments that could not be opened or had no journal header (skipped).
    pub bad: u32,
    /// Segments before the last that ended without their end record.
    pub unclosed: u32,
    /// The last segment ended without its end record: the daemon did not stop cleanly.
    pub no_end_record: bool,
}

/// Reads a journal record by record, reusing one buffer.
pub struct JournalReader<R: Read> {
    inner: R,
    buf: Vec<u8>,
    offset: u64,
    cut: Option<Cut>,
    stopped: bool,
    header: SegmentHeader,
    last_kind: Option<RecordKind>,
    /// Records read whole and valid.
    pub records: u64,
    /// Records skipped for a CRC mismatch.
    pub corrupt: u64,
    /// Records skipped for an unknown kind.
    pub unknown_kind: u64,
}

impl<R: Read> JournalReader<R> {
    /// Reads and checks the header.
    ///
    /// # Errors
    /// [`JournalError::NotJournal`], [`JournalError::UnsupportedVersion`], or I/O.
    pub fn new(mut inner: R) -> Result<Self, JournalError> {
        let header = read_header(&mut inner)?;
        Ok(JournalReader {
            inner,
            buf: Vec::with_capacity(2048),
            offset: HEADER_LEN as u64,
            cut: None,
            stopped: false,
            header,
            last_kind: None,
            records: 0,
            corrupt: 0,
            unknown_kind: 0,
        })
    }

    /// Goes on with the next segment of the same journal (once this one has ended): reads and
    /// checks its header; the counts go on, the cut and the offset start again.
    ///
    /// # Errors
    /// As [`new`](Self::new); the reader then stays at the end of the previous segment.
    pub fn next_segment(&mut self, mut inner: R) -> Result<SegmentHeader, JournalError> {
        let header = read_header(&mut inner)?;
        self.inner = inner;
        self.header = header;
        self.offset = HEADER_LEN as u64;
        self.cut = None;
        self.stopped = false;
        self.last_kind = None;
        Ok(header)
    }

    /// At the end of a segment: goes on with the next of `segments` that opens and has a
    /// journal header, counting the others in `counts.bad` and this segment's end in `counts`
    /// (closed cleanly or not). `None` when there is no next segment; `counts.no_end_record`
    /// then says whether the journal's last segment ended without its end record.
    pub fn advance(
        &mut self,
        segments: &mut impl Iterator<Item = std::io::Result<R>>,
        counts: &mut SegmentCounts,
    ) -> Option<SegmentHeader> {
        let clean = self.clean_end();
        let next = loop {
            match segments.next() {
                None => break None,
                Some(Ok(r)) => match self.next_segment(r) {
                    Ok(h) => break Some(h),
                    Err(_) => counts.bad += 1,
                },
                Some(Err(_)) => counts.bad += 1,
            }
        };
        match next {
            None => counts.no_end_record = !clean,
            Some(_) => {
                counts.unclosed += u32::from(!clean);
                counts.segments += 1;
            }
        }
        next
    }

    /// The current segment's header.
    pub fn header(&self) -> SegmentHeader {
        self.header
    }

    /// Whether the segment read so far ended as a daemon that stopped cleanly leaves it: a
    /// version 2 segment not marked open, a version 1 journal whose last whole record is the
    /// end record. Meaningful once [`next_record`](Self::next_record) returned `None`.
    pub fn clean_end(&self) -> bool {
        if self.header.version >= VERSION {
            !self.header.open()
        } else {
            self.last_kind == Some(RecordKind::End)
        }
    }

    /// The next record; `None` at the end (clean, or cut short: see [`cut`](Self::cut)). An
    /// `Err` is counted and reading may go on, except after [`JournalError::BadLength`] and
    /// I/O errors, which end it.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, JournalError>> {
        if self.stopped {
            return None;
        }
        let at = self.offset;
        let mut prefix = [0u8; RECORD_PREFIX];
        let got = match read_full(&mut self.inner, &mut prefix) {
            Ok(n) => n,
            Err(e) => {
                self.stopped = true;
                return Some(Err(JournalError::Io(e.kind())));
            }
        };
        if got == 0 {
            self.stopped = true;
            return None;
        }
        if got < RECORD_PREFIX {
            self.stopped = true;
            self.cut = Some(Cut {
                offset: at,
                have: got as u64,
            });
            return None;
        }
        let len = u32::from_le_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]);
        let crc = u32::from_le_bytes([prefix[4], prefix[5], prefix[6], prefix[7]]);
        if (len as usize) < BODY_FIXED || len as usize > MAX_BODY {
            self.stopped = true;
            return Some(Err(JournalError::BadLength { offset: at, len }));
        }
        self.buf.resize(len as usize, 0);
        let got = match read_full(&mut self.inner, &mut self.buf) {
            Ok(n) => n,
            Err(e) => {
                self.stopped = true;
                return Some(Err(JournalError::Io(e.kind())));
            }
        };
        if got < len as usize {
            self.stopped = true;
            self.cut = Some(Cut {
                offset: at,
                have: (RECORD_PREFIX + got) as u64,
            });
            return None;
        }
        self.offset += (RECORD_PREFIX + len as usize) as u64;
        if crc32fast::hash(&self.buf) != crc {
            self.corrupt += 1;
            return Some(Err(JournalError::Corrupt { offset: at }));
        }
        let Some(kind) = RecordKind::from_code(self.buf[0]) else {
            self.unknown_kind += 1;
            return Some(Err(JournalError::UnknownKind {
                offset: at,
                kind: self.buf[0],
            }));
        };
        let mut ts = [0u8; 8];
        ts.copy_from_slice(&self.buf[1..9]);
        self.records += 1;
        self.last_kind = Some(kind);
        Some(Ok(Record {
            kind,
            ts_recv: u64::from_le_bytes(ts),
            line: u16::from_le_bytes([self.buf[9], self.buf[10]]),
            payload: &self.buf[BODY_FIXED..],
        }))
    }

    /// Where the journal was cut short, if it was.
    pub fn cut(&self) -> Option<Cut> {
        self.cut
    }

    /// Bytes consumed through the last whole record.
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

/// Reads and checks a header.
fn read_header(inner: &mut impl Read) -> Result<SegmentHeader, JournalError> {
    let mut h = [0u8; HEADER_LEN];
    let got = read_full(inner, &mut h).map_err(|e| JournalError::Io(e.kind()))?;
    if got < 8 || h[..8] != MAGIC {
        return Err(JournalError::NotJournal);
    }
    if got < HEADER_LEN {
        return Err(JournalError::Io(io::ErrorKind::UnexpectedEof));
    }
    SegmentHeader::parse(&h)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    type Rec = (RecordKind, u64, u16, Vec<u8>);

    /// A small journal: three packets of different sizes, a skip and an end record.
    fn sample() -> (Vec<u8>, Vec<Rec>) {
        let recs = vec![
            (RecordKind::Packet, 100, 0, b"first packet".to_vec()),
            (RecordKind::Packet, 200, 1, vec![]),
            (RecordKind::Skip, 250, 0, range_payload(7, 3).to_vec()),
            (RecordKind::Packet, 300, 2, vec![0xAB; 40]),
            (RecordKind::End, 400, 0, vec![]),
        ];
        let mut w = JournalWriter::new(Vec::new(), 0).unwrap();
        for (k, t, l, p) in &recs {
            w.append(*k, *t, *l, p).unwrap();
        }
        assert_eq!(w.records(), 5);
        (w.finish().unwrap(), recs)
    }

    fn read_all(bytes: &[u8]) -> (Vec<Rec>, Vec<JournalError>, Option<Cut>) {
        let mut r = JournalReader::new(bytes).unwrap();
        let (mut ok, mut errs) = (Vec::new(), Vec::new());
        while let Some(rec) = r.next_record() {
            match rec {
                Ok(rec) => ok.push((rec.kind, rec.ts_recv, rec.line, rec.payload.to_vec())),
                Err(e) => errs.push(e),
            }
        }
        (ok, errs, r.cut())
    }

    #[test]
    fn round_trip_and_layout() {
        let (bytes, recs) = sample();
        // 16-byte header, then each record is 8 (len+crc) + 11 (kind, ts, line) + payload:
        // 12 + 0 + 16 + 40 + 0 payload bytes over 5 records = 5 * 19 + 68 = 163.
        assert_eq!(bytes.len(), 16 + 163);
        assert_eq!(&bytes[..8], b"TLJOURNL");
        assert_eq!(&bytes[8..10], &[2, 0], "version 2, little-endian");
        assert_eq!(&bytes[10..16], &[0; 6], "no flags, segment 0");
        // First record: body length 11 + 12 = 23.
        assert_eq!(&bytes[16..20], &23u32.to_le_bytes());
        let (ok, errs, cut) = read_all(&bytes);
        assert_eq!(ok, recs);
        assert!(errs.is_empty() && cut.is_none());
        assert_eq!(
            Record {
                kind: RecordKind::Skip,
                ts_recv: 0,
                line: 0,
                payload: &range_payload(7, 3)
            }
            .range(),
            Some((7, 3))
        );
    }

    #[test]
    fn cut_at_every_offset_reads_back_to_the_last_whole_record() {
        let (bytes, recs) = sample();
        // Record end offsets, computed from the layout: 16 + cumulative (19 + payload len).
        let mut ends = Vec::new();
        let mut at = 16;
        for (_, _, _, p) in &recs {
            at += 19 + p.len();
            ends.push(at);
        }
        for cut_at in 16..=bytes.len() {
            let (ok, errs, cut) = read_all(&bytes[..cut_at]);
            let whole = ends.iter().filter(|&&e| e <= cut_at).count();
            assert_eq!(ok, recs[..whole].to_vec(), "cut at {cut_at}");
            assert!(errs.is_empty(), "cut at {cut_at}: {errs:?}");
            let last_end = if whole == 0 { 16 } else { ends[whole - 1] };
            if cut_at == last_end {
                assert_eq!(cut, None, "cut at a record boundary is a clean end");
            } else {
                assert_eq!(
                    cut,
                    Some(Cut {
                        offset: last_end as u64,
                        have: (cut_at - last_end) as u64
                    }),
                    "cut at {cut_at}"
                );
            }
        }
        // Shorter than the header: not even a journal header.
        for cut_at in 0..16 {
            assert!(JournalReader::new(&bytes[..cut_at]).is_err());
        }
    }

    #[test]
    fn corrupt_record_is_counted_and_skipped() {
        let (mut bytes, recs) = sample();
        // Flip a payload byte of the first record (offset 16 + 19 = its payload start).
        bytes[16 + 19] ^= 0xFF;
        let mut r = JournalReader::new(&bytes[..]).unwrap();
        let first = r.next_record().unwrap();
        assert_eq!(first, Err(JournalError::Corrupt { offset: 16 }));
        let mut rest = Vec::new();
        while let Some(rec) = r.next_record() {
            let rec = rec.unwrap();
            rest.push((rec.kind, rec.ts_recv, rec.line, rec.payload.to_vec()));
        }
        assert_eq!(rest, recs[1..].to_vec());
        assert_eq!((r.corrupt, r.records), (1, 4));
    }

    #[test]
    fn bad_length_stops_and_bad_header_is_named() {
        let (mut bytes, _) = sample();
        bytes[16..20].copy_from_slice(&u32::MAX.to_le_bytes());
        let (ok, errs, _) = read_all(&bytes);
        assert!(ok.is_empty());
        assert_eq!(
            errs,
            vec![JournalError::BadLength {
                offset: 16,
                len: u32::MAX
            }]
        );
        assert!(matches!(
            JournalReader::new(&b"NOTAJOURNAL_____"[..]),
            Err(JournalError::NotJournal)
        ));
        let mut v3 = header();
        v3[8] = 3;
        assert!(matches!(
            JournalReader::new(&v3[..]),
            Err(JournalError::UnsupportedVersion { version: 3 })
        ));
    }

    #[test]
    fn kind_codes_are_fixed_and_round_trip() {
        // Codes are the on-disk format: written out by hand, not derived.
        let all = [
            (RecordKind::Packet, 1),
            (RecordKind::Frame, 2),
            (RecordKind::Gap, 3),
            (RecordKind::Request, 4),
            (RecordKind::Skip, 5),
            (RecordKind::Reconnect, 6),
            (RecordKind::Resync, 7),
            (RecordKind::End, 8),
            (RecordKind::Rest, 9),
            (RecordKind::Source, 10),
            (RecordKind::Conflict, 11),
        ];
        for (k, c) in all {
            assert_eq!(k.code(), c);
            assert_eq!(RecordKind::from_code(c), Some(k));
        }
        assert_eq!(RecordKind::from_code(0), None);
        assert_eq!(RecordKind::from_code(12), None);
    }

    #[test]
    fn version_1_journals_read_the_same_and_their_end_record_is_checked() {
        let (bytes, recs) = sample();
        // A version 1 journal: the same records behind a header with version 1 and zeros.
        let mut v1 = bytes.clone();
        v1[8..16].copy_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]);
        let (ok, errs, cut) = read_all(&v1);
        assert_eq!(ok, recs);
        assert!(errs.is_empty() && cut.is_none());
        let mut r = JournalReader::new(&v1[..]).unwrap();
        while r.next_record().is_some() {}
        assert_eq!(r.header().version, 1);
        assert!(r.clean_end(), "the last record is the end record");
        // Without its end record (the sample's last record is 19 bytes): not a clean end.
        let mut r = JournalReader::new(&v1[..v1.len() - 19]).unwrap();
        while r.next_record().is_some() {}
        assert!(!r.clean_end());
    }

    #[test]
    fn segments_carry_their_number_and_flags_and_read_on() {
        let rec = |kind, payload: &[u8]| {
            let mut v = encode_prefix(kind, 9, 0, payload).to_vec();
            v.extend_from_slice(payload);
            v
        };
        let mut a = segment_header(0, FLAG_OPEN).to_vec();
        a.extend(rec(RecordKind::Packet, b"one"));
        let mut b = segment_header(1, FLAG_CONTINUES).to_vec();
        b.extend(rec(RecordKind::Packet, b"two"));
        b.extend(rec(RecordKind::End, b""));
        assert_eq!(&a[10..16], &[1, 0, 0, 0, 0, 0]);
        assert_eq!(&b[10..16], &[2, 0, 1, 0, 0, 0]);
        let mut r = JournalReader::new(&a[..]).unwrap();
        assert_eq!(r.next_record().unwrap().unwrap().payload, b"one");
        assert!(r.next_record().is_none());
        assert!(r.header().open() && !r.header().continues());
        assert!(
            !r.clean_end(),
            "still marked open: its daemon did not close it"
        );
        let h = r.next_segment(&b[..]).unwrap();
        assert_eq!((h.segment, h.continues(), h.open()), (1, true, false));
        assert_eq!(r.next_record().unwrap().unwrap().payload, b"two");
        assert_eq!(r.next_record().unwrap().unwrap().kind, RecordKind::End);
        assert!(r.next_record().is_none());
        assert!(r.clean_end());
        assert_eq!(r.records, 3);
        // A segment with a bad header is refused and the reader stays where it was.
        assert_eq!(
            r.next_segment(&b"garbage garbage!"[..]),
            Err(JournalError::NotJournal)
        );
        assert!(r.next_record().is_none());
    }

    #[test]
    fn unknown_kind_is_counted() {
        let mut w = JournalWriter::new(Vec::new(), 0).unwrap();
        w.append(RecordKind::Packet, 1, 0, b"x").unwrap();
        let mut bytes = w.finish().unwrap();
        // Change the kind byte and fix the CRC so only the kind is wrong.
        bytes[24] = 99;
        let crc = crc32fast::hash(&bytes[24..]);
        bytes[20..24].copy_from_slice(&crc.to_le_bytes());
        let (ok, errs, _) = read_all(&bytes);
        assert!(ok.is_empty());
        assert_eq!(
            errs,
            vec![JournalError::UnknownKind {
                offset: 16,
                kind: 99
            }]
        );
    }
}
