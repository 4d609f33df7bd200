//! The JSON venue decoders. Each has a one-pass scanner for the messages that matter and
//! simd-json's tape for everything else; on every frame `decode` (scanner first) and
//! `decode_tape` must give the same result, the same levels and the same trades, as the unit
//! tests "one-pass == tape" check on real and mutated frames.
//!
//! Input layout: for Binance, Coinbase and Coinbase Advanced, one byte choosing the price and
//! quantity decimals (px = b % 9, qty = b / 9 % 9; `P`, 80, is 8 and 8), then the frame;
//! Kraken's frames carry their own precision, so its input is the frame.

use ticklane_feeds::binance::BinanceDecoder;
use ticklane_feeds::coinbase::CoinbaseDecoder;
use ticklane_feeds::coinbase_advanced::AdvancedDecoder;
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::KrakenDecoder;

/// A level the decoders must clear before appending.
const STALE: LevelUpdate = LevelUpdate {
    bid: true,
    px: 1,
    qty: 1,
};

/// The precision byte and the frame.
fn split(data: &[u8]) -> Option<(Precision, &[u8])> {
    let (&b, frame) = data.split_first()?;
    let p = Precision {
        px: u32::from(b % 9),
        qty: u32::from(b / 9 % 9),
    };
    Some((p, frame))
}

/// Binance.
pub fn binance(data: &[u8]) {
    let Some((p, frame)) = split(data) else {
        return;
    };
    let mut d = BinanceDecoder::new();
    let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
    let (mut la, mut lb) = (vec![STALE], vec![STALE]);
    let ra = format!("{:?}", d.decode(&mut a, p, &mut la));
    let rb = format!("{:?}", d.decode_tape(&mut b, p, &mut lb));
    assert_eq!((ra, la), (rb, lb), "one-pass != tape");
}

/// Coinbase Exchange.
pub fn coinbase(data: &[u8]) {
    let Some((p, frame)) = split(data) else {
        return;
    };
    let mut d = CoinbaseDecoder::new();
    let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
    let (mut la, mut lb) = (vec![STALE], vec![STALE]);
    let ra = format!("{:?}", d.decode(&mut a, p, &mut la));
    let rb = format!("{:?}", d.decode_tape(&mut b, p, &mut lb));
    assert_eq!((ra, la), (rb, lb), "one-pass != tape");
}

/// Coinbase Advanced Trade.
pub fn coinbase_advanced(data: &[u8]) {
    let Some((p, frame)) = split(data) else {
        return;
    };
    let mut d = AdvancedDecoder::new();
    let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
    let (mut la, mut lb) = (vec![STALE], vec![STALE]);
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let ra = format!("{:?}", d.decode(&mut a, p, &mut la, &mut ta));
    let rb = format!("{:?}", d.decode_tape(&mut b, p, &mut lb, &mut tb));
    assert_eq!((ra, la, ta), (rb, lb, tb), "one-pass != tape");
}

/// Kraken (v1 arrays and v2 objects).
pub fn kraken(data: &[u8]) {
    let mut d = KrakenDecoder::new();
    let (mut a, mut b) = (data.to_vec(), data.to_vec());
    let (mut la, mut lb) = (vec![STALE], vec![STALE]);
    let (mut ta, mut tb) = (Vec::new(), Vec::new());
    let ra = format!("{:?}", d.decode(&mut a, &mut la, &mut ta));
    let rb = format!("{:?}", d.decode_tape(&mut b, &mut lb, &mut tb));
    assert_eq!((ra, la, ta), (rb, lb, tb), "one-pass != tape");
}
