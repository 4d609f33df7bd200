//! Every digest encoding in one place: the words each output adds to a run's digest.
//!
//! A digest is a hash over the ordered stream of outputs (see [`ticklane_engine::Digest`]). The
//! encodings below are frozen: a change moves every pinned digest (goldens, tests, the README's
//! sample) and is made only through `scripts/update-goldens.sh`, saying why.
//!
//! - ITCH / LOBSTER / journal replays: [`itch_bbo`], [`itch_trade`], [`itch_status`];
//! - price-level venues: [`l2_bbo`], [`l2_trade`], by [`L2Encoding`] (Binance keeps the layout
//!   it shipped with, the others share one);
//! - every replay: strategy signals, simulated fills and order updates, [`exec`].

use ticklane_engine::event::StatusKind;
use ticklane_engine::exec::Liquidity;
use ticklane_engine::{Digest, InstrumentIdx, Nanos, Px, Qty, Side};

use crate::stages::output::{Output, OutputKind};

/// How the digest encodes a price-level replay's outputs (one per venue family).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L2Encoding {
    /// Coinbase, Kraken and the consolidated replays.
    Levels,
    /// Binance (its own tag layout, kept so its digests stay those pinned since it shipped).
    Binance,
}

/// A top-of-book change of an ITCH-family replay.
#[inline]
pub fn itch_bbo(d: &mut Digest, instr: InstrumentIdx, ts: Nanos, key: [(i64, u64); 2]) {
    d.word(1 | u64::from(instr.0) << 16);
    d.word(ts.0);
    d.iword(key[0].0);
    d.word(key[0].1);
    d.iword(key[1].0);
    d.word(key[1].1);
}

/// A trade of an ITCH-family replay (`code`: the trade kind's code).
#[inline]
pub fn itch_trade(d: &mut Digest, instr: InstrumentIdx, ts: Nanos, code: u64, px: Px, qty: Qty) {
    d.word(2 | code << 8 | u64::from(instr.0) << 16);
    d.word(ts.0);
    d.iword(px.0);
    d.word(qty.0);
}

/// A status change of an ITCH-family replay.
#[inline]
pub fn itch_status(d: &mut Digest, instr: InstrumentIdx, ts: Nanos, kind: StatusKind, code: u8) {
    d.word(3 | (kind as u64) << 8 | u64::from(instr.0) << 16);
    d.word(ts.0);
    d.word(u64::from(code));
}

/// A top-of-book change of a price-level venue.
#[inline]
pub fn l2_bbo(
    d: &mut Digest,
    enc: L2Encoding,
    instr: InstrumentIdx,
    ts: Nanos,
    k: [(i64, u64); 2],
) {
    let i = u64::from(instr.0);
    d.word(match enc {
        L2Encoding::Levels => 1 | i << 8,
        L2Encoding::Binance => 1 | i << 16,
    });
    d.word(ts.0);
    d.iword(k[0].0);
    d.word(k[0].1);
    d.iword(k[1].0);
    d.word(k[1].1);
}

/// A trade print of a price-level venue (`resting`: the maker's side).
#[inline]
pub fn l2_trade(
    d: &mut Digest,
    enc: L2Encoding,
    instr: InstrumentIdx,
    ts: Nanos,
    px: Px,
    qty: Qty,
    resting: Side,
) {
    let i = u64::from(instr.0);
    d.word(match enc {
        L2Encoding::Levels => 2 | u64::from(resting == Side::Ask) << 1 | i << 8,
        L2Encoding::Binance => 2 | u64::from(resting == Side::Bid) << 8 | i << 16,
    });
    d.word(ts.0);
    d.iword(px.0);
    d.iword(qty.0 as i64);
}

/// The digest words of a signal, fill or order update (nothing for other outputs): one
/// encoding for every replay, ITCH or L2, so their digests mean the same thing.
pub fn exec(d: &mut Digest, o: &Output) {
    match o.kind {
        OutputKind::Signal(sig) => {
            d.word(4 | (sig.kind as u64) << 8 | u64::from(o.instr.0) << 16);
            d.word(o.ts.0);
            d.word(match sig.side {
                None => 0,
                Some(Side::Bid) => 1,
                Some(Side::Ask) => 2,
            });
            d.word(sig.value.to_bits());
        }
        OutputKind::Fill {
            client_id,
            px,
            qty,
            side,
            liquidity,
            ..
        } => {
            d.word(
                5 | u64::from(liquidity == Liquidity::Taker) << 8
                    | (side.index() as u64) << 9
                    | u64::from(o.instr.0) << 16,
            );
            d.word(o.ts.0);
            d.word(client_id);
            d.iword(px.0);
            d.word(qty.0);
        }
        OutputKind::Order {
            client_id,
            leaves,
            code,
            side,
        } => {
            d.word(6 | u64::from(code) << 8 | u64::from(o.instr.0) << 16);
            d.word(o.ts.0);
            d.word(client_id);
            d.word(leaves.0 << 1 | side.index() as u64);
        }
        _ => {}
    }
}
