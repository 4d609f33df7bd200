//! MoldUDP64 packets and the arbiter that merges lines A and B and the retransmissions.
//!
//! Input layout (see [`crate::cursor`]): one byte choosing the reorder window, one byte the
//! retry limits, then records of `op` (line = op % 3), `dt` (the fake clock advances by
//! dt × 100 µs) and a length-prefixed packet. After every packet the arbiter is polled, and a
//! [`Poll::Skip`] is applied as the live daemon applies it. Every packet also goes through
//! [`parse`] and [`parse_request`] on its own.
//!
//! Checked: messages come out in sequence, each exactly once (a skip moves the sequence on by
//! its count, up to u64::MAX); a request asks for the next missing message and at most `max_request` of them.

use ticklane_feeds::arbiter::{Arbiter, ArbiterConfig, Poll};
use ticklane_feeds::moldudp64::{parse, parse_request, PacketKind};

use crate::cursor::Cursor;

/// Packets per input at most (the window and timeouts make longer inputs no more interesting).
const MAX_PACKETS: usize = 4096;

/// The harness.
pub fn run(data: &[u8]) {
    let mut c = Cursor::new(data);
    let w = c.u8();
    let r = c.u8();
    let cfg = ArbiterConfig {
        window: 16 << (w % 4),
        request_delay_ns: 100_000 * u64::from(w >> 4),
        request_timeout_ns: 1_000_000,
        max_timeout_ns: 8_000_000,
        max_attempts: u32::from(r % 4),
        max_request: 1 + u16::from(r >> 2),
    };
    let mut arb = Arbiter::new(cfg);
    let expect = std::cell::Cell::new(1u64);
    let mut now = 0u64;
    let mut packets = 0;
    while !c.is_empty() && packets < MAX_PACKETS {
        packets += 1;
        let op = c.u8();
        now += u64::from(c.u8()) * 100_000;
        let pkt = c.chunk();
        check_packet(pkt);
        let mut out = |seq: u64, _msg: &[u8]| {
            assert_eq!(seq, expect.get(), "released out of sequence");
            expect.set(seq.wrapping_add(1));
        };
        arb.on_packet(u16::from(op % 3), pkt, &mut out);
        match arb.poll(now) {
            Poll::Idle => {}
            Poll::Request { seq, count } => {
                assert_eq!(seq, arb.next_seq(), "request not at the next message");
                assert!(count >= 1 && count <= cfg.max_request, "request of {count}");
            }
            Poll::Skip { seq, count } => {
                assert_eq!(seq, arb.next_seq(), "skip not at the next message");
                assert!(count >= 1, "empty skip");
                expect.set(seq.saturating_add(count));
                arb.skip(seq, count, &mut out);
            }
        }
        assert!(
            arb.next_seq() <= arb.highest().max(1),
            "released past the highest"
        );
    }
}

/// One packet on its own: the parse, its messages and the request parse.
fn check_packet(pkt: &[u8]) {
    let _ = parse_request(pkt);
    let Ok(p) = parse(pkt) else { return };
    let (mut n, mut seq) = (0u64, p.seq);
    for m in p.messages() {
        let Ok((s, _)) = m else { break };
        assert_eq!(s, seq, "message sequence numbers");
        seq = seq.wrapping_add(1);
        n += 1;
    }
    if p.kind() == PacketKind::Data {
        assert!(n <= u64::from(p.count), "more messages than the count");
    }
}
