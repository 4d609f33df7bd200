//! ITCH BinaryFILE framing: each message preceded by a 2-byte big-endian length.
//!
//! A frame is valid when its length equals the fixed length of its type byte. After an invalid
//! frame the reader resynchronizes: it scans forward byte by byte for the first offset where three
//! valid frames follow one another (or valid frames run to the end of the input), counts the bytes
//! it skipped, and goes on. A frame cut off by the end of the input is reported once with its
//! offset. NASDAQ day files end with a zero-length frame, the end-of-session marker (two zero
//! bytes): at the very end of the input it ends the stream cleanly (see
//! [`FrameReader::end_of_session`]); anywhere else it is not a valid frame. [`FrameReader`] streams from any [`Read`] through one reused buffer (no allocation per
//! frame); [`SliceFrames`] walks bytes already in memory, zero-copy. Both share the same rules.

use std::io::{self, Read};

use super::msg::message_len;

/// One framed message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Byte offset of the frame's length prefix in the (decompressed) stream.
    pub offset: u64,
    /// The message: type byte first, no length prefix.
    pub bytes: &'a [u8],
}

/// Problems in the byte stream. After `Garbage` the stream goes on; after `TruncatedTail` and
/// `Io` it ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// `skipped` bytes from `offset` were not valid frames and were skipped.
    #[error("{skipped} bytes of garbage at byte {offset}")]
    Garbage {
        /// Where the garbage starts.
        offset: u64,
        /// How many bytes were skipped.
        skipped: u64,
    },
    /// The input ends inside the frame at `offset`.
    #[error("input ends inside the frame at byte {offset}: it needs {need} bytes, {have} remain")]
    TruncatedTail {
        /// Offset of the incomplete frame.
        offset: u64,
        /// Bytes the frame needs (length prefix included).
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// Reading failed.
    #[error("read error: {0}")]
    Io(io::ErrorKind),
}

/// What the bytes at the start of a buffer are.
enum Step {
    /// A valid frame of `total` bytes (prefix included) is fully present.
    Frame { total: usize },
    /// Not enough bytes to tell; read more.
    NeedMore,
    /// The input ends inside a valid-looking frame.
    Truncated { need: usize, have: usize },
    /// The input ends with the zero-length end-of-session frame.
    EndOfSession,
    /// Not a valid frame.
    Invalid,
}

#[inline]
fn header_ok(b: &[u8]) -> Option<usize> {
    let len = usize::from(u16::from_be_bytes([b[0], b[1]]));
    (message_len(b[2]) == Some(len)).then_some(len + 2)
}

#[inline]
fn step(b: &[u8], eof: bool) -> Step {
    if b.len() < 3 {
        return if !eof {
            Step::NeedMore
        } else if b.len() < 2 {
            Step::Truncated {
                need: 2,
                have: b.len(),
            }
        } else if b == END_OF_SESSION {
            Step::EndOfSession
        } else {
            let need = 2 + usize::from(u16::from_be_bytes([b[0], b[1]]));
            Step::Truncated {
                need,
                have: b.len(),
            }
        };
    }
    match header_ok(b) {
        None => Step::Invalid,
        Some(total) if total <= b.len() => Step::Frame { total },
        Some(_) if !eof => Step::NeedMore,
        Some(total) => Step::Truncated {
            need: total,
            have: b.len(),
        },
    }
}

/// The zero-length frame a NASDAQ BinaryFILE ends with.
pub const END_OF_SESSION: [u8; 2] = [0, 0];

/// Frames needed in a row to accept a resynchronization point.
const CONFIRM: usize = 3;

/// Whether offset `k` of `b` starts a run of valid frames: `Some(true)` if [`CONFIRM`] frames
/// (or frames up to the end of the input) follow, `Some(false)` if not, `None` if more bytes are
/// needed to tell.
fn confirms(b: &[u8], k: usize, eof: bool) -> Option<bool> {
    let mut p = k;
    let mut n = 0;
    while n < CONFIRM {
        let rest = &b[p..];
        if rest.is_empty() {
            return if eof { Some(n > 0) } else { None };
        }
        match step(rest, eof) {
            Step::Frame { total } => {
                p += total;
                n += 1;
            }
            Step::NeedMore => return None,
            // The end-of-session frame ends the input: a run of valid frames.
            Step::EndOfSession => return Some(true),
            // A valid header whose body the input cuts off: a truncated tail right after garbage.
            Step::Truncated { .. } => return Some(rest.len() >= 3 && header_ok(rest).is_some()),
            Step::Invalid => return Some(false),
        }
    }
    Some(true)
}

/// Where the next synchronization point after offset 0 of `b` is.
enum Sync {
    /// At offset `k`.
    Found(usize),
    /// Offsets below `k` are certainly garbage; read more to look further.
    NeedMore(usize),
}

fn find_sync(b: &[u8], eof: bool) -> Sync {
    for k in 1..b.len() {
        match confirms(b, k, eof) {
            Some(true) => return Sync::Found(k),
            Some(false) => {}
            None => return Sync::NeedMore(k),
        }
    }
    if eof {
        Sync::Found(b.len())
    } else {
        Sync::NeedMore(b.len())
    }
}

/// A streaming BinaryFILE reader over any [`Read`], with one reused buffer.
///
/// ```
/// use ticklane_feeds::itch::framing::FrameReader;
/// let bytes = [0u8, 12, b'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'O'];
/// let mut r = FrameReader::new(&bytes[..]);
/// let f = r.next_frame().unwrap().unwrap();
/// assert_eq!((f.offset, f.bytes[0]), (0, b'S'));
/// assert!(r.next_frame().is_none());
/// ```
pub struct FrameReader<R> {
    src: R,
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    /// Stream offset of `buf[start]`.
    offset: u64,
    eof: bool,
    done: bool,
    frames: u64,
    garbage: u64,
    /// Garbage being skipped: (offset where it started, bytes skipped so far).
    skipping: Option<(u64, u64)>,
    end_of_session: bool,
}

/// Default buffer size.
pub const DEFAULT_BUFFER: usize = 1 << 20;

impl<R: Read> FrameReader<R> {
    /// A reader with a 1 MiB buffer.
    pub fn new(src: R) -> Self {
        Self::with_capacity(src, DEFAULT_BUFFER)
    }

    /// A reader with a buffer of `cap` bytes (at least 64 KiB, so any frame fits).
    pub fn with_capacity(src: R, cap: usize) -> Self {
        FrameReader {
            src,
            buf: vec![0u8; cap.max(1 << 16)].into_boxed_slice(),
            start: 0,
            end: 0,
            offset: 0,
            eof: false,
            done: false,
            frames: 0,
            garbage: 0,
            skipping: None,
            end_of_session: false,
        }
    }

    /// Decompressed bytes consumed so far (framed or skipped).
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Valid frames returned so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes skipped as garbage so far.
    pub fn garbage_bytes(&self) -> u64 {
        self.garbage
    }

    /// Whether the input ended with the zero-length end-of-session frame (which
    /// [`FrameReader::next_frame`] does not return: the stream just ends there).
    pub fn end_of_session(&self) -> bool {
        self.end_of_session
    }

    /// Moves unconsumed bytes to the front and reads more. Returns an I/O error kind if reading
    /// failed.
    fn fill(&mut self) -> Result<(), io::ErrorKind> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        while self.end < self.buf.len() {
            match self.src.read(&mut self.buf[self.end..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.end += n;
                    // One successful read is enough to make progress.
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.kind()),
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.offset += n as u64;
    }

    /// The next frame, a problem in the stream, or `None` at the end.
    pub fn next_frame(&mut self) -> Option<Result<Frame<'_>, FrameError>> {
        if self.done {
            return None;
        }
        loop {
            let eof = self.eof;
            let avail = &self.buf[self.start..self.end];
            if let Some((at, skipped)) = self.skipping {
                match find_sync_from0(avail, eof) {
                    Sync::Found(k) => {
                        self.consume(k);
                        self.skipping = None;
                        let skipped = skipped + k as u64;
                        self.garbage += skipped;
                        return Some(Err(FrameError::Garbage {
                            offset: at,
                            skipped,
                        }));
                    }
                    Sync::NeedMore(k) => {
                        self.consume(k);
                        self.skipping = Some((at, skipped + k as u64));
                        if let Err(kind) = self.fill() {
                            self.done = true;
                            return Some(Err(FrameError::Io(kind)));
                        }
                        continue;
                    }
                }
            }
            if avail.is_empty() && eof {
                self.done = true;
                return None;
            }
            match step(avail, eof) {
                Step::Frame { total } => {
                    let s = self.start;
                    let offset = self.offset;
                    self.consume(total);
                    self.frames += 1;
                    return Some(Ok(Frame {
                        offset,
                        bytes: &self.buf[s + 2..s + total],
                    }));
                }
                Step::NeedMore => {
                    if let Err(kind) = self.fill() {
                        self.done = true;
                        return Some(Err(FrameError::Io(kind)));
                    }
                }
                Step::Truncated { need, have } => {
                    self.done = true;
                    return Some(Err(FrameError::TruncatedTail {
                        offset: self.offset,
                        need,
                        have,
                    }));
                }
                Step::EndOfSession => {
                    self.consume(END_OF_SESSION.len());
                    self.done = true;
                    self.end_of_session = true;
                    return None;
                }
                Step::Invalid => {
                    // Byte 0 is certainly garbage; look for the next sync point from byte 1.
                    self.skipping = Some((self.offset, 1));
                    self.consume(1);
                }
            }
        }
    }
}

/// [`find_sync`] but offset 0 may itself be the sync point (used while skipping).
fn find_sync_from0(b: &[u8], eof: bool) -> Sync {
    match confirms(b, 0, eof) {
        Some(true) => Sync::Found(0),
        None if !b.is_empty() => Sync::NeedMore(0),
        _ if b.is_empty() => {
            if eof {
                Sync::Found(0)
            } else {
                Sync::NeedMore(0)
            }
        }
        _ => match find_sync(b, eof) {
            Sync::Found(k) => Sync::Found(k),
            Sync::NeedMore(k) => Sync::NeedMore(k),
        },
    }
}

/// Frames of a BinaryFILE already in memory, zero-copy, with the same resynchronization rules
/// as [`FrameReader`].
///
/// ```
/// use ticklane_feeds::itch::framing::SliceFrames;
/// let bytes = [0u8, 12, b'S', 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, b'O'];
/// assert_eq!(SliceFrames::new(&bytes).count(), 1);
/// ```
pub struct SliceFrames<'a> {
    data: &'a [u8],
    pos: usize,
    done: bool,
    end_of_session: bool,
}

impl<'a> SliceFrames<'a> {
    /// Frames of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        SliceFrames {
            data,
            pos: 0,
            done: false,
            end_of_session: false,
        }
    }

    /// Whether the input ended with the zero-length end-of-session frame (not returned as a
    /// frame).
    pub fn end_of_session(&self) -> bool {
        self.end_of_session
    }
}

impl<'a> Iterator for SliceFrames<'a> {
    type Item = Result<Frame<'a>, FrameError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let rest = &self.data[self.pos..];
        let offset = self.pos as u64;
        match step(rest, true) {
            Step::Frame { total } => {
                self.pos += total;
                Some(Ok(Frame {
                    offset,
                    bytes: &rest[2..total],
                }))
            }
            Step::Truncated { need, have } => {
                self.done = true;
                Some(Err(FrameError::TruncatedTail { offset, need, have }))
            }
            Step::EndOfSession => {
                self.pos += END_OF_SESSION.len();
                self.done = true;
                self.end_of_session = true;
                None
            }
            Step::NeedMore | Step::Invalid => {
                let k = match find_sync(rest, true) {
                    Sync::Found(k) | Sync::NeedMore(k) => k,
                };
                self.pos += k;
                Some(Err(FrameError::Garbage {
                    offset,
                    skipped: k as u64,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::encode::encode_frame;
    use crate::itch::msg::*;
    use std::io::Write;

    const SAMPLE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/itch/nasdaq-first-1000.itch"
    );

    fn frames(n: u64) -> Vec<u8> {
        let mut out = Vec::new();
        for i in 0..n {
            let c = Common {
                stock_locate: (i % 7) as u16,
                tracking: 0,
                timestamp: i,
            };
            let m = match i % 3 {
                0 => Message::OrderDelete(OrderDelete {
                    common: c,
                    order_ref: i,
                }),
                1 => Message::SystemEvent(SystemEvent {
                    common: c,
                    event_code: b'O',
                }),
                _ => Message::OrderCancel(OrderCancel {
                    common: c,
                    order_ref: i,
                    cancelled_shares: 5,
                }),
            };
            encode_frame(&m, &mut out);
        }
        out
    }

    fn stream_all(data: &[u8], cap: usize) -> (Vec<(u64, Vec<u8>)>, Vec<FrameError>) {
        // A reader that hands out at most 7 bytes per read, to exercise every refill path.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = buf.len().min(7).min(self.0.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut r = FrameReader::with_capacity(Trickle(data), cap);
        let (mut ok, mut errs) = (Vec::new(), Vec::new());
        while let Some(f) = r.next_frame() {
            match f {
                Ok(f) => ok.push((f.offset, f.bytes.to_vec())),
                Err(e) => errs.push(e),
            }
        }
        (ok, errs)
    }

    fn slice_all(data: &[u8]) -> (Vec<(u64, Vec<u8>)>, Vec<FrameError>) {
        let (mut ok, mut errs) = (Vec::new(), Vec::new());
        for f in SliceFrames::new(data) {
            match f {
                Ok(f) => ok.push((f.offset, f.bytes.to_vec())),
                Err(e) => errs.push(e),
            }
        }
        (ok, errs)
    }

    #[test]
    fn real_sample_has_1000_frames_that_all_decode() {
        let data = std::fs::read(SAMPLE).unwrap();
        let (ok, errs) = stream_all(&data, 1 << 16);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(ok.len(), 1000);
        let mut counts = std::collections::BTreeMap::new();
        for (_, b) in &ok {
            let m = crate::itch::decode(b).unwrap();
            *counts.entry(m.type_byte() as char).or_insert(0) += 1;
        }
        assert_eq!(counts.values().sum::<i32>(), 1000);
        // Independent reading (hexdump): `000c 5300 0000 000a 11ea 0e8c 434f`.
        let Message::SystemEvent(s) = crate::itch::decode(&ok[0].1).unwrap() else {
            panic!()
        };
        assert_eq!((s.event_code, s.common.timestamp), (b'O', 0x0a11_ea0e_8c43));
        let Message::StockDirectory(r) = crate::itch::decode(&ok[1].1).unwrap() else {
            panic!()
        };
        assert_eq!(&r.stock, b"A       ");
        assert_eq!(r.common.stock_locate, 1);
        assert_eq!(
            ok[1].0, 14,
            "second frame starts after the 12-byte S and its prefix"
        );
        assert_eq!(slice_all(&data), (ok, errs));
    }

    #[test]
    fn garbage_is_skipped_counted_and_everything_after_it_read() {
        let clean = frames(50);
        let cut = SliceFrames::new(&clean).nth(20).unwrap().unwrap().offset as usize;
        for garbage in [
            &[0xFFu8; 1][..],
            &[0xFF; 37],
            &[0, 0, 0],
            &[b'S'; 5],
            &[0x00, 0x0c, b'Z', 1, 2],
        ] {
            let mut bad = clean[..cut].to_vec();
            bad.extend_from_slice(garbage);
            bad.extend_from_slice(&clean[cut..]);
            for (ok, errs) in [stream_all(&bad, 1 << 16), slice_all(&bad)] {
                assert_eq!(ok.len(), 50, "garbage {garbage:?}");
                assert_eq!(
                    errs,
                    vec![FrameError::Garbage {
                        offset: cut as u64,
                        skipped: garbage.len() as u64
                    }],
                    "garbage {garbage:?}"
                );
            }
        }
    }

    #[test]
    fn truncated_tail_reports_offset() {
        let clean = frames(10);
        let last = SliceFrames::new(&clean).last().unwrap().unwrap().offset;
        for keep in [1usize, 2, 3, 10] {
            let data = &clean[..last as usize + keep];
            for (ok, errs) in [stream_all(data, 1 << 16), slice_all(data)] {
                assert_eq!(ok.len(), 9);
                match errs.as_slice() {
                    [FrameError::TruncatedTail { offset, have, .. }] => {
                        assert_eq!((*offset, *have), (last, keep));
                    }
                    other => panic!("keep {keep}: {other:?}"),
                }
            }
        }
    }

    #[test]
    fn a_zero_length_frame_at_the_end_ends_the_session() {
        let clean = frames(10);
        let mut data = clean.clone();
        data.extend_from_slice(&END_OF_SESSION);
        for (ok, errs) in [stream_all(&data, 1 << 16), slice_all(&data)] {
            assert_eq!((ok.len(), errs), (10, vec![]));
        }
        let mut r = FrameReader::new(&data[..]);
        while r.next_frame().is_some() {}
        assert!(r.end_of_session());
        assert_eq!(r.bytes_read(), data.len() as u64);
        let mut s = SliceFrames::new(&data);
        assert_eq!(s.by_ref().count(), 10);
        assert!(s.end_of_session());
        // Without it: no end of session, nothing wrong either.
        let mut r = FrameReader::new(&clean[..]);
        while r.next_frame().is_some() {}
        assert!(!r.end_of_session());

        // Anywhere else a zero-length frame is not a frame.
        let cut = SliceFrames::new(&clean).nth(5).unwrap().unwrap().offset as usize;
        let mut mid = clean[..cut].to_vec();
        mid.extend_from_slice(&END_OF_SESSION);
        mid.extend_from_slice(&clean[cut..]);
        for (ok, errs) in [stream_all(&mid, 1 << 16), slice_all(&mid)] {
            assert_eq!(ok.len(), 10);
            assert_eq!(
                errs,
                vec![FrameError::Garbage {
                    offset: cut as u64,
                    skipped: 2
                }]
            );
        }
        // After garbage at the end, it still ends the session.
        let mut tail = clean.clone();
        tail.extend_from_slice(&[0xFF; 5]);
        tail.extend_from_slice(&END_OF_SESSION);
        for (ok, errs) in [stream_all(&tail, 1 << 16), slice_all(&tail)] {
            assert_eq!(ok.len(), 10);
            assert_eq!(
                errs,
                vec![FrameError::Garbage {
                    offset: clean.len() as u64,
                    skipped: 5
                }]
            );
        }
        // Zero bytes past the marker are not a marker.
        let mut more = data.clone();
        more.push(0);
        let (ok, errs) = slice_all(&more);
        assert_eq!(ok.len(), 10);
        assert!(!errs.is_empty());
    }

    #[test]
    fn text_is_all_garbage() {
        let text = b"time,type,order_id,size,price,direction\n34200.1,1,2,3,4,1\n";
        let (ok, errs) = slice_all(text);
        assert!(ok.is_empty());
        assert_eq!(
            errs.first(),
            Some(&FrameError::Garbage {
                offset: 0,
                skipped: text.len() as u64
            })
        );
        let (ok, errs) = stream_all(text, 1 << 16);
        assert!(ok.is_empty());
        assert!(matches!(
            errs.first(),
            Some(FrameError::Garbage { offset: 0, .. })
        ));
    }

    #[test]
    fn gzip_stream_reads_the_same_frames() {
        let clean = frames(300);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&clean).unwrap();
        let gz = gz.finish().unwrap();
        let mut r = FrameReader::new(flate2::read::MultiGzDecoder::new(&gz[..]));
        let mut n = 0;
        while let Some(f) = r.next_frame() {
            f.unwrap();
            n += 1;
        }
        assert_eq!(n, 300);
        assert_eq!(r.bytes_read(), clean.len() as u64);
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut x = 0x1234_5678_9abc_def0u64;
        for round in 0..200 {
            let len = (round * 37) % 700;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    x as u8
                })
                .collect();
            let (a, b) = (slice_all(&data), stream_all(&data, 1 << 16));
            let count = |v: &[FrameError]| {
                v.iter()
                    .filter(|e| matches!(e, FrameError::Garbage { .. }))
                    .count()
            };
            assert_eq!(a.0, b.0);
            assert_eq!(count(&a.1), count(&b.1));
        }
    }
}
