//! MoldUDP64 A/B line arbitration and gap recovery: packets from the A and B lines and from the
//! retransmission server go in, in any order and with copies; messages come out strictly in
//! sequence, each exactly once.
//!
//! Why one structure for all three sources: they share one sequence space, so "first copy wins"
//! is just "release the next sequence number, buffer what is ahead, count what is behind". The
//! buffer is a fixed window of slots indexed by sequence number (allocated once; nothing
//! allocates per packet). Messages ahead of the window are dropped and counted; they are
//! requested again once the window reaches them.
//!
//! A copy is compared with the first one while the window still remembers it: a buffered
//! message by its bytes (they are in the slot), a released one by a 64-bit hash of its bytes
//! kept per sequence number for the last window's worth of releases (16 bytes a message, written
//! as it is released; no allocation). A copy whose bytes differ is a *conflict*, not a duplicate:
//! the first copy stays, the conflict is counted ([`ArbiterStats::conflicts`]) and handed to the
//! caller to journal ([`Arbiter::take_conflicts`]). Older copies can only be counted as
//! duplicates. The hash finds accidents (a publisher that numbers a packet wrongly, a line
//! carrying another session's data), not forgeries: a forger who can choose bytes can choose
//! them to collide.
//!
//! Time enters only through [`Arbiter::poll`], which decides when to ask for a missing range
//! (after a short grace for reordering, then with exponential backoff) and when to give up on
//! it (after a capped number of attempts). Giving up is a [`Poll::Skip`] the caller journals,
//! and a replay applies the same skip with [`Arbiter::skip`]: packets and skips in journal
//! order release exactly the messages the live run released.

use ticklane_engine::config::{Range, RangeError};

use crate::moldudp64::{parse, PacketKind};

/// Bytes a buffered message may have (every ITCH 5.0 message fits; longer ones are not
/// buffered but still released when they arrive in sequence).
pub const SLOT_BYTES: usize = 64;

/// Lines packets arrive on.
pub const LINE_A: u16 = 0;
/// The B line.
pub const LINE_B: u16 = 1;
/// Retransmissions from the request server.
pub const LINE_RETRANS: u16 = 2;
/// Lines counted separately.
pub const LINES: usize = 3;

/// How gaps are recovered. Each key's valid range is the associated constant of its name in
/// capitals; [`validate`](Self::validate) checks them (the live daemon does at load).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArbiterConfig {
    /// Messages the reorder window holds (rounded up to a power of two)
    /// ([`WINDOW`](Self::WINDOW): 16..=1048576, 80 bytes a message).
    pub window: usize,
    /// Wait this long after a gap appears before the first request (the other line or a
    /// reordered packet usually fills it first) ([`REQUEST_DELAY_NS`](Self::REQUEST_DELAY_NS):
    /// 0..=10 s).
    pub request_delay_ns: u64,
    /// First retransmission timeout; doubles on each retry
    /// ([`REQUEST_TIMEOUT_NS`](Self::REQUEST_TIMEOUT_NS): 0.1 ms..=60 s).
    pub request_timeout_ns: u64,
    /// Cap on the backed-off timeout ([`MAX_TIMEOUT_NS`](Self::MAX_TIMEOUT_NS): 0.1 ms..=300 s).
    pub max_timeout_ns: u64,
    /// Requests for one gap before it is given up (skipped)
    /// ([`MAX_ATTEMPTS`](Self::MAX_ATTEMPTS): 0..=100; 0 gives up after the delay).
    pub max_attempts: u32,
    /// Most messages asked for in one request ([`MAX_REQUEST`](Self::MAX_REQUEST): 1..=65535).
    pub max_request: u16,
}

impl ArbiterConfig {
    /// Valid `window`. The window is allocated once, rounded up to a power of two, at
    /// [`SLOT_BYTES`] + 16 = 80 bytes a message: 16 messages cost 1.25 KiB, the default 65,536
    /// cost 5 MiB, the largest, 1,048,576, cost 80 MiB.
    pub const WINDOW: Range<usize> = Range::new(16, 1 << 20, "messages the reorder window holds");
    /// Valid `request_delay_ns`: up to 10 s.
    pub const REQUEST_DELAY_NS: Range<u64> = Range::new(
        0,
        10_000_000_000,
        "grace before the first request for a gap, ns",
    );
    /// Valid `request_timeout_ns`: 0.1 ms to 60 s.
    pub const REQUEST_TIMEOUT_NS: Range<u64> =
        Range::new(100_000, 60_000_000_000, "first retransmission timeout, ns");
    /// Valid `max_timeout_ns`: 0.1 ms to 5 minutes.
    pub const MAX_TIMEOUT_NS: Range<u64> = Range::new(
        100_000,
        300_000_000_000,
        "cap on the backed-off timeout, ns",
    );
    /// Valid `max_attempts`.
    pub const MAX_ATTEMPTS: Range<u32> =
        Range::new(0, 100, "requests for one gap before it is given up");
    /// Valid `max_request`.
    pub const MAX_REQUEST: Range<u16> =
        Range::new(1, u16::MAX, "most messages asked for in one request");

    /// Checks every key against its range, so that the window's memory and every deadline
    /// (`now` plus a delay or timeout) stay bounded.
    ///
    /// # Errors
    /// The first key out of range.
    pub fn validate(&self) -> Result<(), RangeError> {
        Self::WINDOW.check("window", self.window)?;
        Self::REQUEST_DELAY_NS.check("request_delay_ns", self.request_delay_ns)?;
        Self::REQUEST_TIMEOUT_NS.check("request_timeout_ns", self.request_timeout_ns)?;
        Self::MAX_TIMEOUT_NS.check("max_timeout_ns", self.max_timeout_ns)?;
        Self::MAX_ATTEMPTS.check("max_attempts", self.max_attempts)?;
        Self::MAX_REQUEST.check("max_request", self.max_request)?;
        Ok(())
    }
}

#[cfg(test)]
mod config_tests {
    use super::*;

    #[test]
    fn a_slot_costs_what_the_window_range_says() {
        assert_eq!(std::mem::size_of::<Slot>(), SLOT_BYTES + 16);
    }

    #[test]
    fn every_key_is_range_checked_and_the_default_is_valid() {
        let d = ArbiterConfig::default();
        d.validate().unwrap();
        let bad: [(ArbiterConfig, &str); 10] = [
            (
                ArbiterConfig { window: 15, ..d },
                "window = 15 is out of range 16..=1048576",
            ),
            (
                ArbiterConfig {
                    window: usize::MAX,
                    ..d
                },
                "window = 18446744073709551615",
            ),
            (
                ArbiterConfig {
                    request_delay_ns: u64::MAX,
                    ..d
                },
                "request_delay_ns = 18446744073709551615",
            ),
            (
                ArbiterConfig {
                    request_timeout_ns: 0,
                    ..d
                },
                "request_timeout_ns = 0 is out of range 100000..=",
            ),
            (
                ArbiterConfig {
                    request_timeout_ns: u64::MAX,
                    ..d
                },
                "request_timeout_ns = 18446744073709551615",
            ),
            (
                ArbiterConfig {
                    max_timeout_ns: 0,
                    ..d
                },
                "max_timeout_ns = 0 is out of range 100000..=",
            ),
            (
                ArbiterConfig {
                    max_timeout_ns: 300_000_000_001,
                    ..d
                },
                "max_timeout_ns = 300000000001",
            ),
            (
                ArbiterConfig {
                    max_attempts: 101,
                    ..d
                },
                "max_attempts = 101 is out of range 0..=100",
            ),
            (
                ArbiterConfig {
                    max_attempts: u32::MAX,
                    ..d
                },
                "max_attempts = 4294967295",
            ),
            (
                ArbiterConfig {
                    max_request: 0,
                    ..d
                },
                "max_request = 0 is out of range 1..=65535",
            ),
        ];
        for (cfg, want) in bad {
            let e = cfg.validate().unwrap_err().to_string();
            assert!(e.starts_with(want), "{e}");
        }
        let lo = ArbiterConfig {
            window: 16,
            request_delay_ns: 0,
            request_timeout_ns: 100_000,
            max_timeout_ns: 100_000,
            max_attempts: 0,
            max_request: 1,
        };
        let hi = ArbiterConfig {
            window: 1 << 20,
            request_delay_ns: 10_000_000_000,
            request_timeout_ns: 60_000_000_000,
            max_timeout_ns: 300_000_000_000,
            max_attempts: 100,
            max_request: u16::MAX,
        };
        lo.validate().unwrap();
        hi.validate().unwrap();
    }
}

impl Default for ArbiterConfig {
    fn default() -> Self {
        ArbiterConfig {
            window: 1 << 16,
            request_delay_ns: 2_000_000,
            request_timeout_ns: 20_000_000,
            max_timeout_ns: 500_000_000,
            max_attempts: 8,
            max_request: 1000,
        }
    }
}

/// Counters, per line where it matters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ArbiterStats {
    /// Packets received per line.
    pub packets: [u64; LINES],
    /// Bytes received per line.
    pub bytes: [u64; LINES],
    /// Messages released whose first copy came on each line.
    pub won: [u64; LINES],
    /// Message copies that arrived after the first (on any line), with the same bytes.
    pub duplicates: u64,
    /// Message copies that arrived with the sequence number of a message still buffered or
    /// released within the last window, but with different bytes (the first copy is kept).
    pub conflicts: u64,
    /// Heartbeats.
    pub heartbeats: u64,
    /// Packets that do not parse, or whose message blocks are cut short.
    pub malformed: u64,
    /// Packets of another session than the first one seen.
    pub wrong_session: u64,
    /// Messages too far ahead for the window (dropped; requested later).
    pub out_of_window: u64,
    /// Messages too long to buffer out of order (dropped; requested later).
    pub oversize: u64,
    /// Gaps seen (a sequence number arrived ahead of the next one to release).
    pub gaps: u64,
    /// Retransmission requests decided.
    pub requests: u64,
    /// Messages released that had been missing when a gap was seen (filled by a late packet on
    /// either line or by a retransmission).
    pub recovered: u64,
    /// Messages given up on.
    pub skipped: u64,
    /// Messages released.
    pub released: u64,
}

/// What [`Arbiter::poll`] wants done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing now.
    Idle,
    /// Send a retransmission request for `count` messages from `seq`.
    Request {
        /// First sequence number.
        seq: u64,
        /// How many.
        count: u16,
    },
    /// The range was given up on; [`Arbiter::skip`] has *not* been applied yet: journal it,
    /// then apply it.
    Skip {
        /// First sequence number.
        seq: u64,
        /// How many.
        count: u64,
    },
}

#[derive(Clone, Copy)]
struct Slot {
    seq: u64,
    len: u8,
    data: [u8; SLOT_BYTES],
}

const EMPTY: u64 = u64::MAX;

/// What is remembered of a released message: its sequence number and the hash of its bytes.
#[derive(Clone, Copy)]
struct Released {
    seq: u64,
    hash: u64,
}

/// A 64-bit hash of a message's bytes, eight at a time (a multiply-xorshift mix; not
/// cryptographic, see the module doc). Deterministic across runs and builds.
#[inline]
fn msg_hash(m: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(K).rotate_left(29);
    let mut h = (m.len() as u64).wrapping_mul(K);
    let mut chunks = m.chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut w = [0u8; 8];
        w[..tail.len()].copy_from_slice(tail);
        h = mix(h, u64::from_le_bytes(w));
    }
    h ^= h >> 32;
    h = h.wrapping_mul(K);
    h ^ (h >> 29)
}

#[derive(Clone, Copy, Debug)]
struct GapState {
    from: u64,
    next_action: u64,
    attempts: u32,
    timeout: u64,
}

/// The arbiter of one MoldUDP64 session.
pub struct Arbiter {
    cfg: ArbiterConfig,
    session: Option<[u8; 10]>,
    next: u64,
    highest: u64,
    /// Messages below this were missing once a gap was seen; releasing them counts as recovered.
    gap_top: u64,
    eos: Option<u64>,
    slots: Vec<Slot>,
    /// The last window's releases, indexed like `slots`.
    released: Vec<Released>,
    /// Conflicts since the caller last took them: first sequence number and how many.
    pending_conflicts: Option<(u64, u64)>,
    mask: u64,
    gap: Option<GapState>,
    in_gap: bool,
    /// Counters.
    pub stats: ArbiterStats,
}

impl Arbiter {
    /// A fresh arbiter expecting sequence number 1 (MoldUDP64 sessions start there).
    ///
    /// The window is held to [`ArbiterConfig::WINDOW`] (a configuration loaded from a file is
    /// checked with [`ArbiterConfig::validate`] first, which names a bad value), so a library
    /// caller's bad window cannot allocate without bound either.
    pub fn new(cfg: ArbiterConfig) -> Self {
        let w = cfg
            .window
            .clamp(ArbiterConfig::WINDOW.min, ArbiterConfig::WINDOW.max)
            .next_power_of_two();
        Arbiter {
            cfg,
            session: None,
            next: 1,
            highest: 1,
            gap_top: 0,
            eos: None,
            slots: vec![
                Slot {
                    seq: EMPTY,
                    len: 0,
                    data: [0; SLOT_BYTES]
                };
                w
            ],
            released: vec![
                Released {
                    seq: EMPTY,
                    hash: 0
                };
                w
            ],
            pending_conflicts: None,
            mask: (w - 1) as u64,
            gap: None,
            in_gap: false,
            stats: ArbiterStats::default(),
        }
    }

    /// The session id, once a packet has been seen.
    pub fn session(&self) -> Option<[u8; 10]> {
        self.session
    }

    /// The next sequence number to release.
    pub fn next_seq(&self) -> u64 {
        self.next
    }

    /// One past the highest sequence number known to exist.
    pub fn highest(&self) -> u64 {
        self.highest
    }

    /// Messages known to exist but not released yet.
    pub fn missing(&self) -> u64 {
        self.highest - self.next
    }

    /// The end of session has been seen and everything before it released.
    pub fn finished(&self) -> bool {
        self.eos.is_some_and(|e| self.next >= e)
    }

    /// The end of session has been seen.
    pub fn end_seen(&self) -> bool {
        self.eos.is_some()
    }

    /// Takes one packet from `line` and releases, in sequence, every message it makes
    /// releasable, as `(seq, bytes)`.
    #[inline]
    pub fn on_packet(&mut self, line: u16, pkt: &[u8], out: &mut impl FnMut(u64, &[u8])) {
        let li = usize::from(line).min(LINES - 1);
        self.stats.packets[li] += 1;
        self.stats.bytes[li] += pkt.len() as u64;
        let Ok(p) = parse(pkt) else {
            self.stats.malformed += 1;
            return;
        };
        match self.session {
            None => self.session = Some(p.session),
            Some(s) if s != p.session => {
                self.stats.wrong_session += 1;
                return;
            }
            Some(_) => {}
        }
        match p.kind() {
            PacketKind::Heartbeat => {
                self.stats.heartbeats += 1;
                self.note_highest(p.seq);
                self.note_gap();
                return;
            }
            PacketKind::EndOfSession => {
                self.eos = Some(self.eos.map_or(p.seq, |e| e.max(p.seq)));
                self.note_highest(p.seq);
                self.note_gap();
                return;
            }
            PacketKind::Data => {}
        }
        self.note_highest(p.next_seq());
        for m in p.messages() {
            let Ok((seq, msg)) = m else {
                self.stats.malformed += 1;
                break;
            };
            if seq == EMPTY {
                // The vacant-slot marker is no message's number: the session cannot reach it.
                self.stats.out_of_window += 1;
            } else if seq < self.next {
                let r = self.released[(seq & self.mask) as usize];
                if r.seq == seq && r.hash != msg_hash(msg) {
                    self.conflict(seq);
                } else {
                    self.stats.duplicates += 1;
                }
            } else if seq == self.next {
                self.release(li, seq, msg, out);
                self.drain(out);
            } else {
                self.store(seq, msg);
            }
        }
        self.note_gap();
    }

    /// Counts a conflicting copy of `seq` and notes it for [`Arbiter::take_conflicts`].
    #[cold]
    fn conflict(&mut self, seq: u64) {
        self.stats.conflicts += 1;
        self.pending_conflicts = Some(match self.pending_conflicts {
            Some((first, n)) => (first, n + 1),
            None => (seq, 1),
        });
    }

    /// Conflicts counted since the last call, as (first conflicting sequence number, how
    /// many), for the caller to journal; `None` when there were none. Cheap enough to call
    /// after every packet.
    #[inline]
    pub fn take_conflicts(&mut self) -> Option<(u64, u64)> {
        self.pending_conflicts.take()
    }

    /// Remembers a released message's hash for comparing later copies.
    #[inline]
    fn remember(&mut self, seq: u64, msg: &[u8]) {
        self.released[(seq & self.mask) as usize] = Released {
            seq,
            hash: msg_hash(msg),
        };
    }

    fn note_highest(&mut self, upto: u64) {
        self.highest = self.highest.max(upto);
    }

    /// Counts a gap when, after a packet, something is missing that was not before.
    fn note_gap(&mut self) {
        let open = self.highest > self.next;
        if open && !self.in_gap {
            self.stats.gaps += 1;
        }
        self.in_gap = open;
    }

    #[inline]
    fn release(&mut self, li: usize, seq: u64, msg: &[u8], out: &mut impl FnMut(u64, &[u8])) {
        out(seq, msg);
        self.remember(seq, msg);
        if seq < self.gap_top {
            self.stats.recovered += 1;
        }
        self.stats.won[li] += 1;
        self.stats.released += 1;
        self.next = seq + 1;
    }

    fn store(&mut self, seq: u64, msg: &[u8]) {
        if seq - self.next > self.mask {
            self.stats.out_of_window += 1;
            return;
        }
        // Everything between next and this one is missing right now.
        self.gap_top = self.gap_top.max(seq);
        let i = (seq & self.mask) as usize;
        if self.slots[i].seq == seq {
            let held = &self.slots[i];
            if held.data[..usize::from(held.len)] == *msg {
                self.stats.duplicates += 1;
            } else {
                self.conflict(seq);
            }
            return;
        }
        let slot = &mut self.slots[i];
        if msg.len() > SLOT_BYTES {
            self.stats.oversize += 1;
            return;
        }
        slot.seq = seq;
        slot.len = msg.len() as u8;
        slot.data[..msg.len()].copy_from_slice(msg);
    }

    /// Releases buffered messages that are now next. A slot keeps no line, so these count in
    /// `released` only; `won` counts messages released straight from a packet of that line.
    fn drain(&mut self, out: &mut impl FnMut(u64, &[u8])) {
        loop {
            let i = (self.next & self.mask) as usize;
            // A vacant slot holds EMPTY: once a skip has moved `next` there, nothing follows.
            if self.next == EMPTY || self.slots[i].seq != self.next {
                return;
            }
            let s = self.slots[i];
            self.slots[i].seq = EMPTY;
            let msg = &s.data[..usize::from(s.len)];
            out(s.seq, msg);
            self.remember(s.seq, msg);
            self.stats.released += 1;
            self.next = s.seq + 1;
        }
    }

    /// Length of the missing run starting at the next sequence number, up to `cap`.
    ///
    /// Only the window's worth of sequence numbers from the next one can be buffered
    /// ([`store`](Self::store) drops the rest), so the scan stops at the window's end and
    /// everything past it counts as missing: the cost is bounded by the window however far
    /// ahead a packet or heartbeat says the session is.
    fn missing_run(&self, cap: u64) -> u64 {
        let end = self.highest.min(self.next.saturating_add(cap));
        let scan_end = end.min(self.next.saturating_add(self.mask + 1));
        let mut s = self.next;
        while s < scan_end && self.slots[(s & self.mask) as usize].seq != s {
            s += 1;
        }
        if s == scan_end {
            end - self.next
        } else {
            s - self.next
        }
    }

    /// Decides what to do about a gap at monotonic time `now` (ns). Call it after every batch
    /// of packets and when idle.
    pub fn poll(&mut self, now: u64) -> Poll {
        if self.highest <= self.next {
            self.gap = None;
            return Poll::Idle;
        }
        let g = match self.gap {
            Some(g) if g.from == self.next => g,
            _ => {
                let g = GapState {
                    from: self.next,
                    next_action: now + self.cfg.request_delay_ns,
                    attempts: 0,
                    timeout: self.cfg.request_timeout_ns,
                };
                self.gap = Some(g);
                g
            }
        };
        if now < g.next_action {
            return Poll::Idle;
        }
        let run = self.missing_run(u64::from(self.cfg.max_request).max(1));
        if run == 0 {
            return Poll::Idle;
        }
        if g.attempts >= self.cfg.max_attempts {
            // Give up on the whole missing run, not just one request's worth.
            let run = self.missing_run(self.highest - self.next);
            self.gap = None;
            return Poll::Skip {
                seq: self.next,
                count: run,
            };
        }
        self.stats.requests += 1;
        self.gap = Some(GapState {
            from: g.from,
            next_action: now + g.timeout,
            attempts: g.attempts + 1,
            timeout: (g.timeout.saturating_mul(2)).min(self.cfg.max_timeout_ns),
        });
        Poll::Request {
            seq: self.next,
            count: run as u16,
        }
    }

    /// Gives up on `count` messages from `seq` (a [`Poll::Skip`], or a journaled one) and
    /// releases whatever buffered messages follow them.
    pub fn skip(&mut self, seq: u64, count: u64, out: &mut impl FnMut(u64, &[u8])) {
        if seq != self.next || count == 0 {
            return;
        }
        // Sequence numbers cannot pass u64::MAX; only a window's worth from `seq` can be
        // buffered, so only those slots need clearing (a journaled skip may be any length).
        let end = seq.saturating_add(count);
        for s in seq..end.min(seq.saturating_add(self.mask + 1)) {
            let i = (s & self.mask) as usize;
            if self.slots[i].seq == s {
                self.slots[i].seq = EMPTY;
            }
        }
        self.stats.skipped = self.stats.skipped.saturating_add(end - seq);
        self.next = end;
        self.highest = self.highest.max(self.next);
        self.drain(out);
        self.note_gap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::moldudp64::{end_of_session, heartbeat, PacketBuilder};

    const S: [u8; 10] = *b"TESTSESS01";

    /// A packet of messages `first..first+n`, message k being the 3 bytes `[k, k, k]` (low byte).
    fn pkt(first: u64, n: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(S, first, 1400);
        for k in first..first + n {
            assert!(b.push(&mut buf, &[k as u8; 3]));
        }
        b.finish(&mut buf);
        buf
    }

    fn run(a: &mut Arbiter, line: u16, p: &[u8], got: &mut Vec<u64>) {
        a.on_packet(line, p, &mut |seq, m| {
            assert_eq!(m, &[seq as u8; 3], "message {seq} carries its own bytes");
            got.push(seq);
        });
    }

    #[test]
    fn in_order_duplicates_and_reordering() {
        let mut a = Arbiter::new(ArbiterConfig::default());
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(1, 3), &mut got); // 1..=3
        run(&mut a, LINE_B, &pkt(1, 3), &mut got); // copies
        run(&mut a, LINE_A, &pkt(7, 2), &mut got); // 7, 8 ahead: gap 4..=6
        assert_eq!(got, vec![1, 2, 3]);
        assert_eq!((a.missing(), a.stats.gaps), (5, 1), "4..=8 not released");
        run(&mut a, LINE_B, &pkt(4, 3), &mut got); // fills 4..=6, then 7, 8 drain
        assert_eq!(got, (1..=8).collect::<Vec<_>>());
        // Copies: 3 from B's first packet. Recovered: 4, 5, 6 were missing when 7 arrived.
        assert_eq!(a.stats.duplicates, 3);
        assert_eq!(a.stats.recovered, 3);
        assert_eq!(
            a.stats.won,
            [3, 3, 0],
            "A won 1..=3, B won 4..=6; 7, 8 drained"
        );
        assert_eq!(a.stats.released, 8);
        assert_eq!(a.poll(0), Poll::Idle);
    }

    /// A packet of messages `first..first+n` whose bytes are not the ones [`pkt`] numbers them
    /// with: `[k, k, k ^ 0xff]`.
    fn forged(first: u64, n: u64) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(S, first, 1400);
        for k in first..first + n {
            assert!(b.push(&mut buf, &[k as u8, k as u8, !(k as u8)]));
        }
        b.finish(&mut buf);
        buf
    }

    #[test]
    fn a_copy_with_other_bytes_is_a_conflict_not_a_duplicate() {
        let mut a = Arbiter::new(ArbiterConfig::default());
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(1, 3), &mut got); // 1..=3 released
        run(&mut a, LINE_A, &pkt(6, 2), &mut got); // 6, 7 buffered
        assert_eq!(a.take_conflicts(), None);
        // Same numbers, other bytes: 2, 3 just released; 6 buffered; 4 is new.
        run(&mut a, LINE_B, &forged(2, 2), &mut got);
        assert_eq!(a.take_conflicts(), Some((2, 2)));
        assert_eq!(a.take_conflicts(), None, "taken once");
        run(&mut a, LINE_B, &forged(6, 1), &mut got);
        assert_eq!((a.stats.conflicts, a.stats.duplicates), (3, 0));
        assert_eq!(a.take_conflicts(), Some((6, 1)));
        // Exact copies are still plain duplicates, released or buffered.
        run(&mut a, LINE_B, &pkt(1, 3), &mut got);
        run(&mut a, LINE_B, &pkt(6, 2), &mut got);
        assert_eq!((a.stats.conflicts, a.stats.duplicates), (3, 5));
        assert_eq!(a.take_conflicts(), None);
        // The first copy stays: 6 and 7 come out with their own bytes (`run` checks).
        run(&mut a, LINE_A, &pkt(4, 2), &mut got);
        assert_eq!(got, (1..=7).collect::<Vec<_>>());
        // 6 was released from its slot: a changed copy of it is still caught.
        run(&mut a, LINE_RETRANS, &forged(6, 2), &mut got);
        assert_eq!(a.stats.conflicts, 5);
        assert_eq!(a.take_conflicts(), Some((6, 2)));
    }

    #[test]
    fn conflicts_are_remembered_for_a_window_of_releases() {
        let mut a = Arbiter::new(ArbiterConfig {
            window: 16,
            ..ArbiterConfig::default()
        });
        let mut got = Vec::new();
        for s in 1..=40 {
            run(&mut a, LINE_A, &pkt(s, 1), &mut got);
        }
        // 25..=40 are the last 16 released: remembered; 24 and older are not.
        run(&mut a, LINE_B, &forged(25, 1), &mut got);
        run(&mut a, LINE_B, &forged(24, 1), &mut got);
        assert_eq!((a.stats.conflicts, a.stats.duplicates), (1, 1));
    }

    #[test]
    fn the_message_hash_tells_bytes_and_lengths_apart() {
        let m = [7u8; 36];
        let mut n = m;
        for i in 0..m.len() {
            n[i] ^= 1;
            assert_ne!(msg_hash(&m), msg_hash(&n), "byte {i} flipped");
            n[i] ^= 1;
        }
        assert_ne!(msg_hash(&[0; 8]), msg_hash(&[0; 9]));
        assert_ne!(msg_hash(&[]), msg_hash(&[0]));
        assert_eq!(msg_hash(&m), msg_hash(&n));
    }

    #[test]
    fn gap_is_requested_after_the_grace_then_backs_off_then_skipped() {
        let cfg = ArbiterConfig {
            request_delay_ns: 10,
            request_timeout_ns: 100,
            max_timeout_ns: 250,
            max_attempts: 3,
            max_request: 2,
            ..ArbiterConfig::default()
        };
        let mut a = Arbiter::new(cfg);
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(1, 1), &mut got);
        run(&mut a, LINE_A, &pkt(5, 1), &mut got); // 2, 3, 4 missing
        assert_eq!(a.poll(1000), Poll::Idle, "grace starts at the first poll");
        assert_eq!(a.poll(1009), Poll::Idle);
        // max_request 2 caps the first request at 2 of the 3 missing.
        assert_eq!(a.poll(1010), Poll::Request { seq: 2, count: 2 });
        assert_eq!(
            a.poll(1109),
            Poll::Idle,
            "timeout 100 after the request at 1010"
        );
        assert_eq!(a.poll(1110), Poll::Request { seq: 2, count: 2 });
        // Backoff doubled to 200 (cap 250).
        assert_eq!(a.poll(1309), Poll::Idle);
        assert_eq!(a.poll(1310), Poll::Request { seq: 2, count: 2 });
        // Third attempt made: next time (timeout min(400, 250)) gives up on all 3.
        assert_eq!(a.poll(1559), Poll::Idle);
        assert_eq!(a.poll(1560), Poll::Skip { seq: 2, count: 3 });
        a.skip(2, 3, &mut |s, _| got.push(s));
        assert_eq!(got, vec![1, 5]);
        assert_eq!((a.stats.requests, a.stats.skipped), (3, 3));
    }

    #[test]
    fn retransmission_fills_and_end_of_session_finishes() {
        let mut a = Arbiter::new(ArbiterConfig::default());
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(1, 2), &mut got);
        // Heartbeat announcing 6: 3..=5 were lost on both lines.
        run(&mut a, LINE_B, &heartbeat(S, 6), &mut got);
        run(&mut a, LINE_A, &end_of_session(S, 6), &mut got);
        assert!(a.end_seen() && !a.finished());
        assert_eq!(a.missing(), 3);
        run(&mut a, LINE_RETRANS, &pkt(3, 3), &mut got);
        assert!(a.finished());
        assert_eq!(got, (1..=5).collect::<Vec<_>>());
        assert_eq!(a.stats.won, [2, 0, 3]);
        assert_eq!(a.stats.heartbeats, 1);
    }

    #[test]
    fn bad_packets_are_counted() {
        let mut a = Arbiter::new(ArbiterConfig::default());
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(1, 1), &mut got);
        run(&mut a, LINE_A, b"short", &mut got);
        let mut other = pkt(2, 1);
        other[..10].copy_from_slice(b"OTHERSESS0");
        run(&mut a, LINE_A, &other, &mut got);
        let mut cut = pkt(2, 2);
        cut.truncate(cut.len() - 1); // second block cut short
        run(&mut a, LINE_A, &cut, &mut got);
        assert_eq!(got, vec![1, 2], "the block before the cut is released");
        assert_eq!((a.stats.malformed, a.stats.wrong_session), (2, 1));
    }

    /// `i64::MAX` as a window once panicked with "capacity overflow"; 2^32 asked for 343 GB.
    #[test]
    fn a_window_out_of_range_is_held_to_the_range_by_new() {
        for window in [usize::MAX, 1 << 32, 0] {
            let a = Arbiter::new(ArbiterConfig {
                window,
                ..ArbiterConfig::default()
            });
            assert!(a.slots.len() <= ArbiterConfig::WINDOW.max, "{window}");
            assert!(a.slots.len() >= ArbiterConfig::WINDOW.min, "{window}");
        }
    }

    #[test]
    fn window_overflow_is_counted_and_recovered_by_request() {
        let cfg = ArbiterConfig {
            window: 16,
            request_delay_ns: 0,
            ..ArbiterConfig::default()
        };
        let mut a = Arbiter::new(cfg);
        let mut got = Vec::new();
        run(&mut a, LINE_A, &pkt(2, 1), &mut got); // in window
        run(&mut a, LINE_A, &pkt(40, 1), &mut got); // 40 - 1 > 15: out of window
        assert_eq!(a.stats.out_of_window, 1);
        assert_eq!(a.poll(0), Poll::Request { seq: 1, count: 1 });
        run(&mut a, LINE_RETRANS, &pkt(1, 1), &mut got);
        assert_eq!(got, vec![1, 2]);
        // 3..=40 still missing (highest is 41).
        assert_eq!(a.missing(), 38);
    }

    #[test]
    fn seeded_shuffle_with_copies_releases_everything_in_order() {
        // 2000 messages in packets of 1..=5, sent on A and B, each line shuffled locally and
        // with a few packets dropped, by a fixed-seed generator; every message is on at least
        // one line, so all must come out, once, in order.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut rnd = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut packets = Vec::new();
        let mut s = 1;
        while s <= 2000 {
            let n = (rnd() % 5 + 1).min(2001 - s);
            packets.push(pkt(s, n));
            s += n;
        }
        let mut lines: [Vec<Vec<u8>>; 2] = [packets.clone(), packets.clone()];
        for (li, l) in lines.iter_mut().enumerate() {
            for i in 1..l.len() {
                if rnd() % 4 == 0 {
                    l.swap(i - 1, i);
                }
            }
            // Line A drops every 7th packet, line B every 11th (never both the same one:
            // indices are into differently shuffled lists, so check by content below).
            let m = if li == 0 { 7 } else { 11 };
            let mut k = 0;
            l.retain(|_| {
                k += 1;
                k % m != 0
            });
        }
        // Whatever both lines dropped goes through the retransmission line.
        let mut a = Arbiter::new(ArbiterConfig::default());
        let mut got = Vec::new();
        let longest = lines[0].len().max(lines[1].len());
        for i in 0..longest {
            for (li, l) in lines.iter().enumerate() {
                if let Some(p) = l.get(i) {
                    run(&mut a, li as u16, p, &mut got);
                }
            }
        }
        // The end of session tells the arbiter how far the session goes, even if the last
        // packet was lost on both lines.
        run(&mut a, LINE_A, &end_of_session(S, 2001), &mut got);
        let mut t = 0;
        while a.missing() > 0 {
            t += 1_000_000_000;
            assert!(t < 1_000_000_000_000, "recovery loop did not converge");
            match a.poll(t) {
                Poll::Request { seq, count } => {
                    run(&mut a, LINE_RETRANS, &pkt(seq, u64::from(count)), &mut got)
                }
                Poll::Skip { .. } => panic!("nothing should be given up"),
                Poll::Idle => {}
            }
        }
        assert!(a.finished());
        assert_eq!(got, (1..=2000).collect::<Vec<_>>());
        assert_eq!(a.stats.released, 2000);
    }

    /// Runs `f` on another thread and fails if it does not return within 10 s: a scan over the
    /// whole sequence space never would.
    fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(f()));
        rx.recv_timeout(std::time::Duration::from_secs(10))
            .expect("the arbiter hung")
    }

    /// Found by fuzzing (fuzz/regressions/moldudp64): a heartbeat announcing a sequence
    /// number far ahead made giving up on the gap scan every sequence number up to it, and
    /// the skip clear a slot for each.
    #[test]
    fn giving_up_on_a_huge_gap_is_bounded_by_the_window() {
        let (got, poll, a) = bounded(|| {
            let cfg = ArbiterConfig {
                max_attempts: 0,
                request_delay_ns: 0,
                ..ArbiterConfig::default()
            };
            let mut a = Arbiter::new(cfg);
            let mut got = Vec::new();
            run(&mut a, LINE_A, &pkt(1, 2), &mut got);
            run(&mut a, LINE_A, &pkt(5, 1), &mut got);
            run(&mut a, LINE_B, &heartbeat(S, 1 << 62), &mut got);
            let poll = a.poll(0);
            if let Poll::Skip { seq, count } = poll {
                a.skip(seq, count, &mut |s, _| got.push(s));
            }
            (got, poll, a)
        });
        // 3 and 4 are missing, 5 is buffered: the first run ends at 5 as before.
        assert_eq!(poll, Poll::Skip { seq: 3, count: 2 });
        assert_eq!(got, vec![1, 2, 5]);
        // Everything after 5 up to the heartbeat's number is missing, beyond the window.
        let (poll, a) = bounded(move || {
            let mut a = a;
            let poll = a.poll(0);
            if let Poll::Skip { seq, count } = poll {
                a.skip(seq, count, &mut |_, _| {});
            }
            (poll, a)
        });
        assert_eq!(
            poll,
            Poll::Skip {
                seq: 6,
                count: (1 << 62) - 6
            }
        );
        assert_eq!(a.next_seq(), 1 << 62);
        assert_eq!(a.stats.skipped, 2 + (1 << 62) - 6);
    }

    /// A journaled skip of any length (a damaged or forged journal) returns at once, and one
    /// past the end of the sequence space stops at its end.
    #[test]
    fn a_skip_of_any_length_is_bounded() {
        let a = bounded(|| {
            let mut a = Arbiter::new(ArbiterConfig::default());
            a.skip(1, u64::MAX, &mut |_, _| panic!("nothing is buffered"));
            a
        });
        assert_eq!(a.next_seq(), u64::MAX);
        assert_eq!(a.stats.skipped, u64::MAX - 1);
        // u64::MAX marks a vacant slot: it is never released, even when it is next.
        let mut a = a;
        let mut got = Vec::new();
        run(&mut a, LINE_A, &heartbeat(S, u64::MAX), &mut got);
        assert_eq!(a.poll(0), Poll::Idle);
        assert!(got.is_empty());
    }
}
