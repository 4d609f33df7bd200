//! ITCH 5.0: the BinaryFILE framers, the decoder, the encoder and the normalizer.
//!
//! The input is a BinaryFILE. [`FrameReader`] (streaming, fed a few bytes per read so its
//! buffer refills mid-frame) and [`SliceFrames`] (in memory) must yield the same frames and
//! errors at the same offsets; every frame that decodes must re-encode to a message of the same
//! length that decodes to the same value.

use std::io::{self, Read};

use ticklane_engine::{Nanos, SourceId};
use ticklane_feeds::itch::decode::decode;
use ticklane_feeds::itch::encode::encode;
use ticklane_feeds::itch::framing::{FrameError, FrameReader, SliceFrames};
use ticklane_feeds::itch::normalize::Normalizer;

/// A reader handing out at most `step` bytes per call.
pub(crate) struct Trickle<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.data.len());
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// A frame or a framing error, owned, for comparing the two framers.
type Owned = Result<(u64, Vec<u8>), FrameError>;

/// The harness.
pub fn run(data: &[u8]) {
    // The read size varies with the input, so refills land at different places.
    let step = 1 + data.len() % 61;
    let mut streaming = FrameReader::with_capacity(Trickle { data, step }, 0);
    let mut in_memory = SliceFrames::new(data);
    let mut normalizer = Normalizer::new(SourceId(1));
    let mut buf = Vec::with_capacity(64);
    let mut seq = 0u64;
    while let Some(s) = streaming.next_frame() {
        let s: Owned = s.map(|f| (f.offset, f.bytes.to_vec()));
        let m: Option<Owned> = in_memory
            .next()
            .map(|r| r.map(|f| (f.offset, f.bytes.to_vec())));
        assert_eq!(Some(&s), m.as_ref(), "FrameReader and SliceFrames disagree");
        let Ok((_, bytes)) = s else { continue };
        seq += 1;
        check_message(&bytes, &mut buf);
        if let Ok(msg) = decode(&bytes) {
            let _ = normalizer.normalize(&msg, seq, Nanos(seq));
        }
    }
    let rest: Option<Owned> = in_memory
        .next()
        .map(|r| r.map(|f| (f.offset, f.bytes.to_vec())));
    assert_eq!(rest, None, "SliceFrames has frames FrameReader does not");
}

/// decode → encode → decode gives the same message, in the same number of bytes.
pub(crate) fn check_message(bytes: &[u8], buf: &mut Vec<u8>) {
    let Ok(msg) = decode(bytes) else { return };
    buf.clear();
    encode(&msg, buf);
    assert_eq!(buf.len(), bytes.len(), "re-encoded length of {msg:?}");
    assert_eq!(decode(buf), Ok(msg), "decode(encode(m)) != m");
}
