//! MoldUDP64: NASDAQ's UDP framing for ITCH.
//!
//! A downstream packet is a 20-byte header — session (10 ASCII bytes), sequence number of the
//! first message (u64), message count (u16) — then `count` blocks of `[u16 length][message]`.
//! Count 0 is a heartbeat, 0xFFFF the end of the session. A request packet (client → request
//! server) is the same 20-byte header asking for `count` messages from `sequence`.
//!
//! Parsing borrows the packet and never allocates; a block cut short is an error delivered after
//! the messages before it.

/// Bytes of the packet header.
pub const HEADER_LEN: usize = 20;
/// Message count meaning "end of session".
pub const END_OF_SESSION: u16 = 0xFFFF;

/// Why a packet could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MoldError {
    /// Shorter than the 20-byte header.
    #[error("MoldUDP64 packet shorter than its 20-byte header ({have} bytes)")]
    TruncatedHeader {
        /// Bytes present.
        have: usize,
    },
    /// Message block `index` is cut short.
    #[error("MoldUDP64 message block {index} truncated: needs {need} bytes, {have} remain")]
    TruncatedBlock {
        /// Index of the block in the packet.
        index: u16,
        /// Bytes needed.
        need: usize,
        /// Bytes remaining.
        have: usize,
    },
}

/// What a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketKind {
    /// Carries messages.
    Data,
    /// No messages; tells the next expected sequence number.
    Heartbeat,
    /// The session has ended.
    EndOfSession,
}

/// A parsed downstream packet, borrowing its bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Packet<'a> {
    /// Session id.
    pub session: [u8; 10],
    /// Sequence number of the first message (the next expected one for a heartbeat).
    pub seq: u64,
    /// Message count field.
    pub count: u16,
    body: &'a [u8],
}

/// Parses a downstream packet header.
///
/// ```
/// use ticklane_feeds::moldudp64::{parse, PacketBuilder, PacketKind};
/// let mut buf = Vec::new();
/// let mut b = PacketBuilder::new(*b"SESSION001", 41, 1400);
/// assert!(b.push(&mut buf, b"hello"));
/// b.finish(&mut buf);
/// let p = parse(&buf).unwrap();
/// assert_eq!((p.seq, p.count, p.kind()), (41, 1, PacketKind::Data));
/// let msgs: Vec<_> = p.messages().map(Result::unwrap).collect();
/// assert_eq!(msgs, vec![(41, &b"hello"[..])]);
/// ```
///
/// # Errors
/// [`MoldError::TruncatedHeader`].
pub fn parse(pkt: &[u8]) -> Result<Packet<'_>, MoldError> {
    if pkt.len() < HEADER_LEN {
        return Err(MoldError::TruncatedHeader { have: pkt.len() });
    }
    let (session, seq, count) = header(pkt);
    Ok(Packet {
        session,
        seq,
        count,
        body: &pkt[HEADER_LEN..],
    })
}

fn header(pkt: &[u8]) -> ([u8; 10], u64, u16) {
    let mut session = [0u8; 10];
    session.copy_from_slice(&pkt[..10]);
    let mut s = [0u8; 8];
    s.copy_from_slice(&pkt[10..18]);
    (
        session,
        u64::from_be_bytes(s),
        u16::from_be_bytes([pkt[18], pkt[19]]),
    )
}

impl<'a> Packet<'a> {
    /// Data, heartbeat or end of session.
    pub fn kind(&self) -> PacketKind {
        match self.count {
            0 => PacketKind::Heartbeat,
            END_OF_SESSION => PacketKind::EndOfSession,
            _ => PacketKind::Data,
        }
    }

    /// The sequence number after this packet's messages.
    pub fn next_seq(&self) -> u64 {
        match self.kind() {
            // Saturating: a forged header near u64::MAX must not overflow.
            PacketKind::Data => self.seq.saturating_add(u64::from(self.count)),
            _ => self.seq,
        }
    }

    /// The messages with their sequence numbers; stops after the first error.
    pub fn messages(&self) -> Messages<'a> {
        let count = if self.kind() == PacketKind::Data {
            self.count
        } else {
            0
        };
        Messages {
            rest: self.body,
            seq: self.seq,
            index: 0,
            count,
            failed: false,
        }
    }
}

/// Iterator over a packet's message blocks.
pub struct Messages<'a> {
    rest: &'a [u8],
    seq: u64,
    index: u16,
    count: u16,
    failed: bool,
}

impl<'a> Iterator for Messages<'a> {
    type Item = Result<(u64, &'a [u8]), MoldError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.index >= self.count {
            return None;
        }
        let index = self.index;
        if self.rest.len() < 2 {
            self.failed = true;
            return Some(Err(MoldError::TruncatedBlock {
                index,
                need: 2,
                have: self.rest.len(),
            }));
        }
        let len = usize::from(u16::from_be_bytes([self.rest[0], self.rest[1]]));
        if self.rest.len() < 2 + len {
            self.failed = true;
            return Some(Err(MoldError::TruncatedBlock {
                index,
                need: 2 + len,
                have: self.rest.len(),
            }));
        }
        let msg = &self.rest[2..2 + len];
        self.rest = &self.rest[2 + len..];
        let seq = self.seq;
        // Wrapping: a forged first number near u64::MAX numbers the rest from 0 (stale to any
        // receiver), as a release build always did, instead of overflowing.
        self.seq = self.seq.wrapping_add(1);
        self.index += 1;
        Some(Ok((seq, msg)))
    }
}

/// Encodes a retransmission request for `count` messages from `seq`.
pub fn encode_request(session: [u8; 10], seq: u64, count: u16) -> [u8; HEADER_LEN] {
    let mut out = [0u8; HEADER_LEN];
    out[..10].copy_from_slice(&session);
    out[10..18].copy_from_slice(&seq.to_be_bytes());
    out[18..].copy_from_slice(&count.to_be_bytes());
    out
}

/// Parses a retransmission request: `(session, seq, count)`.
///
/// # Errors
/// [`MoldError::TruncatedHeader`] when shorter than 20 bytes.
pub fn parse_request(pkt: &[u8]) -> Result<([u8; 10], u64, u16), MoldError> {
    if pkt.len() < HEADER_LEN {
        return Err(MoldError::TruncatedHeader { have: pkt.len() });
    }
    Ok(header(pkt))
}

/// A heartbeat packet (count 0) announcing `next_seq`.
pub fn heartbeat(session: [u8; 10], next_seq: u64) -> [u8; HEADER_LEN] {
    encode_request(session, next_seq, 0)
}

/// An end-of-session packet.
pub fn end_of_session(session: [u8; 10], next_seq: u64) -> [u8; HEADER_LEN] {
    encode_request(session, next_seq, END_OF_SESSION)
}

/// Builds one data packet into a caller's buffer, up to a maximum packet size.
pub struct PacketBuilder {
    session: [u8; 10],
    first_seq: u64,
    max_len: usize,
    count: u16,
    start: Option<usize>,
}

impl PacketBuilder {
    /// A builder for a packet of messages starting at `first_seq`, at most `max_len` bytes.
    pub fn new(session: [u8; 10], first_seq: u64, max_len: usize) -> Self {
        PacketBuilder {
            session,
            first_seq,
            max_len: max_len.max(HEADER_LEN + 2),
            count: 0,
            start: None,
        }
    }

    /// Appends a message block; `false` (nothing written) if it would exceed the packet size or
    /// the count limit.
    pub fn push(&mut self, buf: &mut Vec<u8>, msg: &[u8]) -> bool {
        let start = *self.start.get_or_insert_with(|| {
            let s = buf.len();
            buf.extend_from_slice(&encode_request(self.session, self.first_seq, 0));
            s
        });
        let Ok(len) = u16::try_from(msg.len()) else {
            return false;
        };
        if buf.len() - start + 2 + msg.len() > self.max_len || self.count == END_OF_SESSION - 1 {
            return false;
        }
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(msg);
        self.count += 1;
        true
    }

    /// Messages in the packet so far.
    pub fn count(&self) -> u16 {
        self.count
    }

    /// Writes the final count into the header; returns the sequence number after the packet.
    pub fn finish(self, buf: &mut [u8]) -> u64 {
        if let Some(s) = self.start {
            buf[s + 18..s + 20].copy_from_slice(&self.count.to_be_bytes());
        }
        self.first_seq + u64::from(self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: [u8; 10] = *b"0000012345";

    #[test]
    fn hand_built_packet_with_three_messages() {
        let mut p = Vec::new();
        p.extend_from_slice(b"0000012345");
        p.extend_from_slice(&1000u64.to_be_bytes());
        p.extend_from_slice(&3u16.to_be_bytes());
        for m in [&b"abc"[..], b"", b"xyzw"] {
            p.extend_from_slice(&(m.len() as u16).to_be_bytes());
            p.extend_from_slice(m);
        }
        let pk = parse(&p).unwrap();
        assert_eq!(
            (pk.session, pk.seq, pk.count, pk.kind(), pk.next_seq()),
            (S, 1000, 3, PacketKind::Data, 1003)
        );
        let got: Vec<_> = pk.messages().collect();
        assert_eq!(
            got,
            vec![
                Ok((1000, &b"abc"[..])),
                Ok((1001, &b""[..])),
                Ok((1002, &b"xyzw"[..]))
            ]
        );
    }

    /// Found by fuzzing: a data packet whose numbers run past u64::MAX overflowed (a panic in
    /// debug builds) in `next_seq` and in the message iterator.
    #[test]
    fn numbers_past_the_end_of_the_sequence_space_do_not_overflow() {
        let mut p = Vec::new();
        p.extend_from_slice(&S);
        p.extend_from_slice(&(u64::MAX - 1).to_be_bytes());
        p.extend_from_slice(&3u16.to_be_bytes());
        for m in [&b"a"[..], b"b", b"c"] {
            p.extend_from_slice(&(m.len() as u16).to_be_bytes());
            p.extend_from_slice(m);
        }
        let pk = parse(&p).unwrap();
        assert_eq!(pk.next_seq(), u64::MAX);
        let seqs: Vec<u64> = pk.messages().map(|m| m.unwrap().0).collect();
        assert_eq!(seqs, vec![u64::MAX - 1, u64::MAX, 0]);
    }

    #[test]
    fn heartbeat_and_end_of_session() {
        let hb_bytes = heartbeat(S, 77);
        let hb = parse(&hb_bytes).unwrap();
        assert_eq!(
            (hb.kind(), hb.next_seq(), hb.messages().count()),
            (PacketKind::Heartbeat, 77, 0)
        );
        let eos_bytes = end_of_session(S, 78);
        let eos = parse(&eos_bytes).unwrap();
        assert_eq!(
            (eos.kind(), eos.next_seq(), eos.messages().count()),
            (PacketKind::EndOfSession, 78, 0)
        );
    }

    #[test]
    fn truncated_block_delivers_what_precedes_it() {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(S, 5, 1400);
        assert!(b.push(&mut buf, b"one"));
        assert!(b.push(&mut buf, b"two!"));
        b.finish(&mut buf);
        buf.truncate(buf.len() - 2);
        let pk = parse(&buf).unwrap();
        let got: Vec<_> = pk.messages().collect();
        assert_eq!(got[0], Ok((5, &b"one"[..])));
        assert_eq!(
            got[1],
            Err(MoldError::TruncatedBlock {
                index: 1,
                need: 6,
                have: 4
            })
        );
        assert_eq!(got.len(), 2);
        assert_eq!(
            parse(&buf[..19]),
            Err(MoldError::TruncatedHeader { have: 19 })
        );
    }

    #[test]
    fn builder_respects_max_size_and_request_round_trips() {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(S, 1, 20 + 2 * (2 + 10));
        assert!(b.push(&mut buf, &[1; 10]));
        assert!(b.push(&mut buf, &[2; 10]));
        assert!(!b.push(&mut buf, &[3; 1]), "packet is full");
        assert_eq!(b.finish(&mut buf), 3);
        assert_eq!(buf.len(), 44);
        let req = encode_request(S, 123_456_789_012, 42);
        assert_eq!(parse_request(&req), Ok((S, 123_456_789_012, 42)));
        assert!(parse_request(&req[..5]).is_err());
    }

    #[test]
    fn random_packets_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for len in 0..300usize {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    (x >> 56) as u8
                })
                .collect();
            if let Ok(p) = parse(&bytes) {
                let _ = p.messages().count();
            }
        }
    }
}
