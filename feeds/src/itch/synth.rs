//! A seeded, realistic multi-symbol ITCH 5.0 order-flow generator, for benchmarks and load.
//!
//! Real order flow is what benchmarks must look like: most activity at or near the touch, many
//! more adds and deletes than executions, a few very busy symbols and a long tail of quiet ones.
//! The generator keeps its own book per symbol, so every message references a live order, adds
//! never cross the opposite side, and executions hit the best level, as on a real venue. Its
//! PRNG (xorshift64*, seeded through splitmix64) is defined here, so the same seed writes the same
//! bytes on every machine.
//!
//! Message mix (of order-flow messages, by construction): add 45 %, delete 35 %, execute 8 %,
//! replace 5 %, partial cancel 5 %, execute-with-price 1 %, non-displayed trade 1 %; a few
//! trading-action (`H`) halts and resumes, plus the `S` system events and one `R` per symbol.
//! The file ends, as NASDAQ's do, with a zero-length end-of-session frame.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::encode::encode_frame;
use super::framing::END_OF_SESSION;
use super::msg::*;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SynthConfig {
    /// PRNG seed.
    pub seed: u64,
    /// Number of symbols (locates 1..=symbols).
    pub symbols: u16,
    /// Number of order-flow messages (system events and the directory come on top).
    pub messages: u64,
    /// Time of the first message, ns since midnight (default 09:30).
    pub start_ns: u64,
    /// Time span the messages are spread over, ns (default 6.5 hours).
    pub span_ns: u64,
}

impl Default for SynthConfig {
    fn default() -> Self {
        SynthConfig {
            seed: 1,
            symbols: 100,
            messages: 1_000_000,
            start_ns: 34_200 * 1_000_000_000,
            span_ns: 23_400 * 1_000_000_000,
        }
    }
}

/// What was generated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SynthStats {
    /// Messages written, by type (spec order, types written only).
    pub by_type: Vec<(char, u64)>,
    /// Total messages written.
    pub messages: u64,
    /// Bytes written.
    pub bytes: u64,
}

impl std::fmt::Display for SynthStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} messages, {} bytes (", self.messages, self.bytes)?;
        for (i, (t, n)) in self.by_type.iter().enumerate() {
            write!(f, "{}{t}={n}", if i > 0 { " " } else { "" })?;
        }
        write!(f, ")")
    }
}

/// xorshift64* seeded through splitmix64: tiny, fast, and defined here so output never changes.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
    /// True with probability `pct` percent.
    fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
    /// Geometric-ish: 0 most likely, each next value about half as likely, capped.
    fn depth(&mut self, cap: u64) -> u64 {
        (self.next().trailing_zeros() as u64).min(cap)
    }
}

const TICK: i64 = 100; // one cent in Price(4) units
const MAX_LIVE: usize = 120;

#[derive(Clone, Copy)]
struct Live {
    order_ref: u64,
    bid: bool,
    px: i64,
    shares: u32,
}

struct Sym {
    locate: u16,
    stock: Stock,
    mid: i64,
    live: Vec<Live>,
    bids: BTreeMap<i64, u32>,
    asks: BTreeMap<i64, u32>,
    halted: bool,
}

impl Sym {
    fn best_bid(&self) -> Option<i64> {
        self.bids.keys().next_back().copied()
    }
    fn best_ask(&self) -> Option<i64> {
        self.asks.keys().next().copied()
    }
    fn level(&mut self, bid: bool, px: i64, delta: i32) {
        let side = if bid { &mut self.bids } else { &mut self.asks };
        let e = side.entry(px).or_insert(0);
        *e = (*e as i32 + delta) as u32;
        if *e == 0 {
            side.remove(&px);
        }
    }
    fn add_live(&mut self, l: Live) {
        self.level(l.bid, l.px, 1);
        self.live.push(l);
    }
    fn remove_live(&mut self, i: usize) -> Live {
        let l = self.live.swap_remove(i);
        self.level(l.bid, l.px, -1);
        l
    }
}

/// A pronounceable ticker for symbol `i`: consonant-vowel-consonant, plus a vowel beyond 2205.
fn ticker(i: usize) -> Stock {
    const C: &[u8] = b"BCDFGHJKLMNPQRSTVWXYZ";
    const V: &[u8] = b"AEIOU";
    let mut s = [b' '; 8];
    s[0] = C[i % 21];
    s[1] = V[(i / 21) % 5];
    s[2] = C[(i / 105) % 21];
    let mut rest = i / 2205;
    let mut k = 3;
    while rest > 0 && k < 8 {
        s[k] = V[rest % 5];
        rest /= 5;
        k += 1;
    }
    s
}

struct Out<'w, W: Write> {
    w: &'w mut W,
    buf: Vec<u8>,
    counts: [u64; MESSAGE_TYPES.len()],
    bytes: u64,
}

impl<W: Write> Out<'_, W> {
    fn put(&mut self, m: &Message) -> io::Result<()> {
        encode_frame(m, &mut self.buf);
        if let Some(i) = type_index(m.type_byte()) {
            self.counts[i] += 1;
        }
        if self.buf.len() >= 1 << 16 {
            self.flush()?;
        }
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }
}

/// Writes a generated ITCH 5.0 BinaryFILE to `out`.
///
/// ```
/// use ticklane_feeds::itch::synth::{generate, SynthConfig};
/// let cfg = SynthConfig { seed: 3, symbols: 5, messages: 1000, ..SynthConfig::default() };
/// let (mut a, mut b) = (Vec::new(), Vec::new());
/// generate(&cfg, &mut a).unwrap();
/// generate(&cfg, &mut b).unwrap();
/// assert_eq!(a, b);
/// ```
///
/// # Errors
/// Errors of `out`.
pub fn generate<W: Write>(cfg: &SynthConfig, out: &mut W) -> io::Result<SynthStats> {
    let mut rng = Rng::new(cfg.seed);
    let n_sym = usize::from(cfg.symbols.max(1));
    let mut o = Out {
        w: out,
        buf: Vec::with_capacity(1 << 17),
        counts: [0; MESSAGE_TYPES.len()],
        bytes: 0,
    };
    let mut ts = cfg.start_ns.saturating_sub(1_000_000_000);
    let common = |locate: u16, ts: u64| Common {
        stock_locate: locate,
        tracking: 0,
        timestamp: ts,
    };
    let sys = |ts: u64, code: u8| {
        Message::SystemEvent(SystemEvent {
            common: common(0, ts),
            event_code: code,
        })
    };

    o.put(&sys(ts, b'O'))?;
    o.put(&sys(ts, b'S'))?;
    let mut syms: Vec<Sym> = (0..n_sym)
        .map(|i| {
            // $5 .. $505, on a whole-cent grid.
            let mid = (5 + (rng.below(500) as i64)) * 10_000 + rng.below(100) as i64 * TICK;
            Sym {
                locate: (i + 1) as u16,
                stock: ticker(i),
                mid,
                live: Vec::with_capacity(MAX_LIVE + 8),
                bids: BTreeMap::new(),
                asks: BTreeMap::new(),
                halted: false,
            }
        })
        .collect();
    for s in &syms {
        o.put(&Message::StockDirectory(StockDirectory::common_stock(
            common(s.locate, ts),
            s.stock,
        )))?;
    }
    ts = cfg.start_ns;
    o.put(&sys(ts, b'Q'))?;

    // Zipf-like activity: symbol i has weight 1/(i+1).
    let mut cum = Vec::with_capacity(n_sym);
    let mut total = 0u64;
    for i in 0..n_sym {
        total += 1_000_000 / (i as u64 + 1);
        cum.push(total);
    }
    let step = (cfg.span_ns / cfg.messages.max(1)).max(1);
    let mut next_ref = 1u64;
    let mut next_match = 1u64;

    let mut written = 0u64;
    while written < cfg.messages {
        ts += rng.below(2 * step);
        let r = rng.below(total);
        let si = cum.partition_point(|&c| c <= r);
        let s = &mut syms[si];
        let c = common(s.locate, ts);

        // Now and then a halt, and its resume a little later.
        if rng.below(200_000) == 0 || (s.halted && rng.pct(2)) {
            s.halted = !s.halted;
            let state = if s.halted { b'H' } else { b'T' };
            o.put(&Message::StockTradingAction(StockTradingAction {
                common: c,
                stock: s.stock,
                trading_state: state,
                reserved: b' ',
                reason: if s.halted { *b"LUDP" } else { *b"    " },
            }))?;
            written += 1;
            continue;
        }

        let roll = rng.below(100);
        let action = if s.live.len() < 4 || (roll < 45 && s.live.len() < MAX_LIVE) {
            0 // add
        } else if roll < 80 || s.live.len() >= MAX_LIVE {
            1 // delete
        } else if roll < 85 {
            2 // partial cancel
        } else if roll < 93 {
            3 // execute
        } else if roll < 94 {
            4 // execute with price
        } else if roll < 99 {
            5 // replace
        } else {
            6 // non-displayed trade
        };
        let msg = match action {
            0 => {
                let bid = rng.pct(50);
                let px = place(s, bid, &mut rng);
                let shares = lot(&mut rng);
                let order_ref = next_ref;
                next_ref += 1;
                s.add_live(Live {
                    order_ref,
                    bid,
                    px,
                    shares,
                });
                let attribution = if rng.pct(3) { Some(*b"TLSM") } else { None };
                Message::AddOrder(AddOrder {
                    common: c,
                    order_ref,
                    side: if bid { b'B' } else { b'S' },
                    shares,
                    stock: s.stock,
                    price: px as u32,
                    attribution,
                })
            }
            1 => {
                // Mostly random; when the book is deep, the order farthest from the touch, so
                // books stay concentrated near the mid.
                let i = if s.live.len() >= MAX_LIVE {
                    farthest(s)
                } else {
                    rng.below(s.live.len() as u64) as usize
                };
                let l = s.remove_live(i);
                Message::OrderDelete(OrderDelete {
                    common: c,
                    order_ref: l.order_ref,
                })
            }
            2 => {
                let i = rng.below(s.live.len() as u64) as usize;
                if s.live[i].shares < 2 {
                    let l = s.remove_live(i);
                    Message::OrderDelete(OrderDelete {
                        common: c,
                        order_ref: l.order_ref,
                    })
                } else {
                    let cancel = 1 + rng.below(u64::from(s.live[i].shares) - 1) as u32;
                    s.live[i].shares -= cancel;
                    Message::OrderCancel(OrderCancel {
                        common: c,
                        order_ref: s.live[i].order_ref,
                        cancelled_shares: cancel,
                    })
                }
            }
            3 | 4 => {
                // Hit the best level of a random side (the oldest order there: FIFO).
                let bid = rng.pct(50);
                let best = if bid { s.best_bid() } else { s.best_ask() };
                let Some(best) = best.or_else(|| if bid { s.best_ask() } else { s.best_bid() })
                else {
                    continue;
                };
                let Some(i) = s
                    .live
                    .iter()
                    .position(|l| l.px == best && (l.bid == bid || !side_has(s, bid)))
                else {
                    continue;
                };
                let full = rng.pct(60);
                let l = s.live[i];
                let shares = if full || l.shares < 2 {
                    l.shares
                } else {
                    1 + rng.below(u64::from(l.shares) - 1) as u32
                };
                if shares == l.shares {
                    s.remove_live(i);
                } else {
                    s.live[i].shares -= shares;
                }
                let match_number = next_match;
                next_match += 1;
                s.mid = l.px;
                if action == 3 {
                    Message::OrderExecuted(OrderExecuted {
                        common: c,
                        order_ref: l.order_ref,
                        executed_shares: shares,
                        match_number,
                    })
                } else {
                    Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
                        common: c,
                        order_ref: l.order_ref,
                        executed_shares: shares,
                        match_number,
                        printable: if rng.pct(90) { b'Y' } else { b'N' },
                        execution_price: l.px as u32,
                    })
                }
            }
            5 => {
                let i = rng.below(s.live.len() as u64) as usize;
                let old = s.remove_live(i);
                let px = place(s, old.bid, &mut rng);
                let shares = lot(&mut rng);
                let new_ref = next_ref;
                next_ref += 1;
                s.add_live(Live {
                    order_ref: new_ref,
                    bid: old.bid,
                    px,
                    shares,
                });
                Message::OrderReplace(OrderReplace {
                    common: c,
                    original_ref: old.order_ref,
                    new_ref,
                    shares,
                    price: px as u32,
                })
            }
            _ => {
                let (b, a) = (
                    s.best_bid().unwrap_or(s.mid - TICK),
                    s.best_ask().unwrap_or(s.mid + TICK),
                );
                let px = (b + a) / 2;
                let match_number = next_match;
                next_match += 1;
                Message::Trade(Trade {
                    common: c,
                    order_ref: 0,
                    side: if rng.pct(50) { b'B' } else { b'S' },
                    shares: lot(&mut rng),
                    stock: s.stock,
                    price: px as u32,
                    match_number,
                })
            }
        };
        o.put(&msg)?;
        written += 1;
    }
    o.put(&sys(ts, b'M'))?;
    o.put(&sys(ts, b'E'))?;
    o.put(&sys(ts, b'C'))?;
    // The zero-length end-of-session frame a NASDAQ day file ends with (not a message).
    o.buf.extend_from_slice(&END_OF_SESSION);
    o.flush()?;
    o.w.flush()?;
    let by_type: Vec<(char, u64)> = MESSAGE_TYPES
        .iter()
        .zip(o.counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(t, _), n)| (t as char, n))
        .collect();
    let messages = by_type.iter().map(|(_, n)| n).sum();
    Ok(SynthStats {
        by_type,
        messages,
        bytes: o.bytes,
    })
}

fn side_has(s: &Sym, bid: bool) -> bool {
    if bid {
        !s.bids.is_empty()
    } else {
        !s.asks.is_empty()
    }
}

/// A price for a new order on one side: usually at or a few ticks behind the touch, sometimes
/// improving it by a tick, never crossing the other side.
fn place(s: &Sym, bid: bool, rng: &mut Rng) -> i64 {
    let (own, other) = if bid {
        (s.best_bid(), s.best_ask())
    } else {
        (s.best_ask(), s.best_bid())
    };
    let dir = if bid { -1 } else { 1 }; // away from the other side
    let base = own.unwrap_or_else(|| other.map_or(s.mid, |o| o + dir * TICK));
    let mut px = if rng.pct(12) {
        base - dir * TICK
    } else {
        base + dir * TICK * rng.depth(12) as i64
    };
    if let Some(o) = other {
        if bid && px >= o {
            px = o - TICK;
        }
        if !bid && px <= o {
            px = o + TICK;
        }
    }
    px.max(TICK)
}

/// Order size: mostly round lots, some odd lots.
fn lot(rng: &mut Rng) -> u32 {
    if rng.pct(15) {
        1 + rng.below(99) as u32
    } else {
        100 * (1 + rng.depth(5) as u32 + rng.below(3) as u32)
    }
}

fn farthest(s: &Sym) -> usize {
    let (bb, ba) = (s.best_bid().unwrap_or(s.mid), s.best_ask().unwrap_or(s.mid));
    let dist = |l: &Live| if l.bid { bb - l.px } else { l.px - ba };
    let mut best = 0;
    for (i, l) in s.live.iter().enumerate() {
        if dist(l) > dist(&s.live[best]) {
            best = i;
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::itch::decode;
    use crate::itch::framing::SliceFrames;
    use std::collections::{BTreeMap, HashMap};

    fn gen(seed: u64, symbols: u16, messages: u64) -> Vec<u8> {
        let cfg = SynthConfig {
            seed,
            symbols,
            messages,
            ..SynthConfig::default()
        };
        let mut v = Vec::new();
        generate(&cfg, &mut v).unwrap();
        v
    }

    #[test]
    fn deterministic_per_seed() {
        assert_eq!(gen(1, 20, 5000), gen(1, 20, 5000));
        assert_ne!(gen(1, 20, 5000), gen(2, 20, 5000));
    }

    #[test]
    fn a_day_ends_with_the_end_of_session_frame() {
        let data = gen(3, 5, 2000);
        assert_eq!(data[data.len() - 2..], END_OF_SESSION);
        let mut frames = SliceFrames::new(&data);
        assert!(frames.by_ref().all(|f| f.is_ok()));
        assert!(frames.end_of_session());
        let mut sink = Vec::new();
        let stats = generate(
            &SynthConfig {
                seed: 3,
                symbols: 5,
                messages: 2000,
                ..SynthConfig::default()
            },
            &mut sink,
        )
        .unwrap();
        assert_eq!(stats.bytes, data.len() as u64);
    }

    #[test]
    fn tickers_are_unique() {
        let set: std::collections::BTreeSet<_> = (0..20_000).map(ticker).collect();
        assert_eq!(set.len(), 20_000);
    }

    /// Replays the generated stream through a separate, naive book: every reference is to a
    /// live order, no book is ever crossed, timestamps never go back, and the mix is as
    /// documented.
    #[test]
    #[allow(clippy::type_complexity)] // a throwaway reference book, spelled out on purpose
    fn stream_is_consistent_and_never_crosses() {
        let data = gen(9, 30, 200_000);
        let mut orders: HashMap<u64, (u16, bool, u32, u32)> = HashMap::new();
        let mut books: HashMap<u16, (BTreeMap<u32, u64>, BTreeMap<u32, u64>)> = HashMap::new();
        let mut last_ts = 0;
        let mut counts: BTreeMap<char, u64> = BTreeMap::new();
        let touch = |books: &mut HashMap<u16, (BTreeMap<u32, u64>, BTreeMap<u32, u64>)>,
                     loc: u16,
                     bid: bool,
                     px: u32,
                     d: i64| {
            let b = books.entry(loc).or_default();
            let side = if bid { &mut b.0 } else { &mut b.1 };
            let e = side.entry(px).or_insert(0);
            *e = (*e as i64 + d) as u64;
            if *e == 0 {
                side.remove(&px);
            }
        };
        for f in SliceFrames::new(&data) {
            let m = decode(f.unwrap().bytes).unwrap();
            *counts.entry(m.type_byte() as char).or_default() += 1;
            let ts = m.common().timestamp;
            assert!(ts >= last_ts, "time went back");
            last_ts = ts;
            let loc = m.common().stock_locate;
            match m {
                Message::AddOrder(a) => {
                    assert!(orders
                        .insert(a.order_ref, (loc, a.side == b'B', a.price, a.shares))
                        .is_none());
                    touch(
                        &mut books,
                        loc,
                        a.side == b'B',
                        a.price,
                        i64::from(a.shares),
                    );
                }
                Message::OrderDelete(d) => {
                    let (l, bid, px, sh) =
                        orders.remove(&d.order_ref).expect("delete of a live order");
                    assert_eq!(l, loc);
                    touch(&mut books, loc, bid, px, -i64::from(sh));
                }
                Message::OrderCancel(x) => {
                    let o = orders
                        .get_mut(&x.order_ref)
                        .expect("cancel of a live order");
                    assert!(x.cancelled_shares < o.3, "a partial cancel leaves shares");
                    o.3 -= x.cancelled_shares;
                    let (bid, px) = (o.1, o.2);
                    touch(&mut books, loc, bid, px, -i64::from(x.cancelled_shares));
                }
                Message::OrderExecuted(OrderExecuted {
                    order_ref,
                    executed_shares,
                    ..
                })
                | Message::OrderExecutedWithPrice(OrderExecutedWithPrice {
                    order_ref,
                    executed_shares,
                    ..
                }) => {
                    let o = *orders.get(&order_ref).expect("execution of a live order");
                    assert!(executed_shares <= o.3);
                    // Executions hit the best level of their side.
                    let b = &books[&loc];
                    let best = if o.1 {
                        b.0.keys().next_back()
                    } else {
                        b.1.keys().next()
                    };
                    assert_eq!(best, Some(&o.2), "execution away from the touch");
                    touch(&mut books, loc, o.1, o.2, -i64::from(executed_shares));
                    if executed_shares == o.3 {
                        orders.remove(&order_ref);
                    } else if let Some(x) = orders.get_mut(&order_ref) {
                        x.3 -= executed_shares;
                    }
                }
                Message::OrderReplace(u) => {
                    let (l, bid, px, sh) = orders
                        .remove(&u.original_ref)
                        .expect("replace of a live order");
                    touch(&mut books, l, bid, px, -i64::from(sh));
                    assert!(orders
                        .insert(u.new_ref, (l, bid, u.price, u.shares))
                        .is_none());
                    touch(&mut books, l, bid, u.price, i64::from(u.shares));
                }
                _ => {}
            }
            if let Some((b, a)) = books.get(&loc) {
                if let (Some(bb), Some(ba)) = (b.keys().next_back(), a.keys().next()) {
                    assert!(bb < ba, "crossed book for locate {loc}: {bb} >= {ba}");
                }
            }
        }
        let flow: u64 = ['A', 'F', 'D', 'X', 'E', 'C', 'U', 'P', 'H']
            .iter()
            .map(|c| counts.get(c).copied().unwrap_or(0))
            .sum();
        assert_eq!(flow, 200_000);
        let share = |c: char| counts.get(&c).copied().unwrap_or(0) as f64 / flow as f64;
        assert!(
            share('A') + share('F') > 0.35
                && share('D') > 0.25
                && share('E') > 0.03
                && share('U') > 0.02,
            "{counts:?}"
        );
        assert_eq!(counts[&'R'], 30);
    }
}
