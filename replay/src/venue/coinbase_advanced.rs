//! Coinbase Advanced Trade (`l2_data`, `market_trades`, `subscriptions`, `heartbeats`) as
//! events.
//!
//! Sync, as the Advanced Trade websocket works: a `level2` subscription sends a `snapshot` event
//! of each product's book, then `update` events that set a level's size (`new_quantity` 0
//! removes it). A product's book is unsynced until its snapshot. Every message on a connection
//! carries `sequence_num`, counting all channels' messages from 0:
//! - the next number: the message is applied;
//! - a jump ahead: messages were lost, so no book can be trusted any more: every book is stale
//!   ([`ticklane_engine::Body::Stale`], counted as a resync) until its next snapshot (which the
//!   venue sends on a new subscription or connection);
//! - 0 after a higher number: a new connection; the books are stale until its snapshots;
//! - any other number at or behind the last: a repeated or reordered message, dropped and
//!   counted (`stale_dropped` of its product; control messages are only counted as control).
//!
//! `market_trades` starts with a `snapshot` event holding recent trades from before the
//! subscription: those are history, not new trades, and are counted as control messages, not
//! replayed. `update` trades become trade events; their `side` is read as the resting (maker)
//! order's side, as Coinbase documents for the Exchange feed's matches.
//!
//! Prices and sizes keep 8 decimals (1e-8 units), like every price-level venue.

use ticklane_engine::Side;
use ticklane_feeds::coinbase_advanced::{AdvancedDecoder, AdvancedMsg, AdvancedTrade};
use ticklane_feeds::json::{LevelUpdate, Precision};

use super::{CryptoReplayOptions, EventBuf, L2Summary, VenueFormat, VenueSync, DECIMALS};

const P: Precision = Precision {
    px: DECIMALS,
    qty: DECIMALS,
};

/// The Coinbase Advanced Trade machine.
pub struct CoinbaseAdvanced {
    dec: AdvancedDecoder,
    levels: Vec<LevelUpdate>,
    trades: Vec<AdvancedTrade>,
    frame: Vec<u8>,
    // Per instrument: messages dropped as repeated or out of order.
    dropped: Vec<u64>,
    last_seq: Option<u64>,
    // Frames this venue's decoder understood (control frames included).
    decoded: u64,
}

impl CoinbaseAdvanced {
    /// A machine with no products yet.
    pub fn new(_opts: &CryptoReplayOptions<'_>) -> Self {
        CoinbaseAdvanced {
            dec: AdvancedDecoder::new(),
            levels: Vec::with_capacity(4096),
            trades: Vec::with_capacity(256),
            frame: Vec::with_capacity(1 << 16),
            dropped: Vec::new(),
            last_seq: None,
            decoded: 0,
        }
    }
}

/// Checks `seq` against the connection's count in `last_seq`: `false` for a message to drop. A
/// gap or a new connection makes every book stale first.
fn sequence(last_seq: &mut Option<u64>, ts: u64, seq: u64, out: &mut EventBuf) -> bool {
    {
        let keep = match *last_seq {
            None => true,
            Some(last) if seq == last + 1 => true,
            Some(_) if seq == 0 => {
                out.lose_all(ts);
                true
            }
            Some(last) if seq > last => {
                out.lose_all(ts);
                true
            }
            Some(_) => false,
        };
        if keep {
            *last_seq = Some(seq);
        }
        keep
    }
}

impl VenueSync for CoinbaseAdvanced {
    fn format(&self) -> VenueFormat {
        VenueFormat::CoinbaseAdvanced
    }

    fn on_frame(&mut self, ts: u64, json: &[u8], s: &mut L2Summary, out: &mut EventBuf) {
        out.at(ts);
        self.frame.clear();
        self.frame.extend_from_slice(json);
        let msg = match self
            .dec
            .decode(&mut self.frame, P, &mut self.levels, &mut self.trades)
        {
            Ok(m) => {
                self.decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return;
            }
        };
        let (product, seq) = match msg {
            AdvancedMsg::Control { sequence_num } => {
                s.control += 1;
                sequence(&mut self.last_seq, ts, sequence_num, out);
                return;
            }
            AdvancedMsg::Level2 {
                product,
                sequence_num,
                ..
            }
            | AdvancedMsg::Trades {
                product,
                sequence_num,
                ..
            } => (product, sequence_num),
        };
        let i = out.instrument(product);
        if self.dropped.len() <= i.get() {
            self.dropped.resize(i.get() + 1, 0);
        }
        if !sequence(&mut self.last_seq, ts, seq, out) {
            self.dropped[i.get()] += 1;
            s.messages += 1;
            return;
        }
        match msg {
            AdvancedMsg::Level2 { snapshot: true, .. } => {
                s.messages += 1;
                out.snapshot(i, &self.levels);
            }
            AdvancedMsg::Level2 { .. } => {
                s.messages += 1;
                out.levels(i, &self.levels);
            }
            AdvancedMsg::Trades { snapshot: true, .. } => s.control += 1,
            AdvancedMsg::Trades { .. } => {
                s.messages += 1;
                for t in &self.trades {
                    let maker = if t.buy { Side::Bid } else { Side::Ask };
                    out.trade(i, t.px, t.qty, maker);
                }
            }
            AdvancedMsg::Control { .. } => {}
        }
    }

    fn lose_sync(&mut self, ts: u64, out: &mut EventBuf) {
        // The next connection numbers its messages from 0 again.
        self.last_seq = None;
        out.lose_all(ts);
    }

    fn finish(&mut self, s: &mut L2Summary) -> Result<(), u64> {
        if self.decoded == 0 && s.lines > 0 {
            return Err(s.bad_total());
        }
        for (row, d) in s.symbols.iter_mut().zip(&self.dropped) {
            row.stale_dropped += d;
        }
        Ok(())
    }
}
