//! Coinbase Exchange (`snapshot`, `l2update`, `match`, `ticker`) as events.
//!
//! Sync, as Coinbase's level2 channel works: the channel sends a full `snapshot` of a product's
//! book on subscribing, then `l2update`s that set a level's size (0 removes it). A product's book
//! is unsynced until its snapshot (the book stage keeps updates before it out of the book unless
//! unsynced books are accepted). The level2 channel carries no sequence numbers, so there is no
//! gap to detect; a lost connection makes every book stale until the next snapshot.
//!
//! Cross-check: each `ticker` carries the best bid and ask as of its `time`. It is compared with
//! the book only where the two are aligned: the book is synced, has applied an update stamped at
//! or before the ticker's time, and the next update for that product is stamped after it, so the
//! book then holds exactly the updates up to the ticker's instant. The comparison
//! ([`ticklane_engine::Body::TopCheck`]) is written just before that next update; tickers never
//! followed by an update are not compared.

use ticklane_engine::Side;
use ticklane_feeds::coinbase::{CoinbaseDecoder, CoinbaseMsg};
use ticklane_feeds::json::{LevelUpdate, Precision};

use std::io::BufRead;

pub use super::{CryptoReplayError, CryptoReplayOptions};
use super::{L2Summary, DECIMALS};

use super::{EventBuf, VenueFormat, VenueSync};

#[derive(Clone, Copy)]
struct PendingTicker {
    time: u64,
    bid: i64,
    ask: i64,
}

#[derive(Default)]
struct Align {
    synced: bool,
    last_update_time: Option<u64>,
    pending: Vec<PendingTicker>,
    tickers: u64,
}

const P: Precision = Precision {
    px: DECIMALS,
    qty: DECIMALS,
};

/// The Coinbase machine.
pub struct Coinbase {
    dec: CoinbaseDecoder,
    levels: Vec<LevelUpdate>,
    frame: Vec<u8>,
    align: Vec<Align>,
    // Frames this venue's decoder understood (control frames included, capture headers not).
    decoded: u64,
}

impl Coinbase {
    /// A machine with no products yet.
    pub fn new(_opts: &CryptoReplayOptions<'_>) -> Self {
        Coinbase {
            dec: CoinbaseDecoder::new(),
            levels: Vec::with_capacity(4096),
            frame: Vec::with_capacity(1 << 16),
            align: Vec::new(),
            decoded: 0,
        }
    }
}

impl VenueSync for Coinbase {
    fn format(&self) -> VenueFormat {
        VenueFormat::Coinbase
    }

    fn on_frame(&mut self, ts: u64, json: &[u8], s: &mut L2Summary, out: &mut EventBuf) {
        out.at(ts);
        self.frame.clear();
        self.frame.extend_from_slice(json);
        let levels = &mut self.levels;
        let msg = match self.dec.decode(&mut self.frame, P, levels) {
            Ok(m) => {
                self.decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return;
            }
        };
        let product = match msg {
            CoinbaseMsg::Snapshot { product }
            | CoinbaseMsg::L2Update { product, .. }
            | CoinbaseMsg::Match { product, .. }
            | CoinbaseMsg::Ticker { product, .. } => product,
            CoinbaseMsg::Control => {
                s.control += 1;
                return;
            }
        };
        s.messages += 1;
        let i = out.instrument(product);
        if self.align.len() <= i.get() {
            self.align.resize_with(i.get() + 1, Align::default);
        }
        let a = &mut self.align[i.get()];
        match msg {
            CoinbaseMsg::Snapshot { .. } => {
                out.snapshot(i, levels);
                a.synced = true;
                a.last_update_time = None;
                a.pending.clear();
            }
            CoinbaseMsg::L2Update { time_ns, .. } => {
                if a.synced {
                    if let Some(u) = time_ns {
                        // Tickers stamped before this update saw exactly the book as it is now.
                        let mut k = 0;
                        while k < a.pending.len() {
                            let t = a.pending[k];
                            if t.time < u {
                                out.top_check(i, (t.bid, None), (t.ask, None));
                                out.end_message();
                                a.pending.remove(k);
                            } else {
                                k += 1;
                            }
                        }
                    }
                    a.last_update_time = time_ns;
                }
                out.levels(i, levels);
            }
            CoinbaseMsg::Match {
                px,
                qty,
                maker_sell,
                ..
            } => out.trade(i, px, qty, if maker_sell { Side::Ask } else { Side::Bid }),
            CoinbaseMsg::Ticker {
                best_bid,
                best_ask,
                time_ns,
                ..
            } => {
                a.tickers += 1;
                if let (true, Some(t), Some(u)) = (a.synced, time_ns, a.last_update_time) {
                    if u <= t {
                        a.pending.push(PendingTicker {
                            time: t,
                            bid: best_bid,
                            ask: best_ask,
                        });
                    }
                }
            }
            CoinbaseMsg::Control => {}
        }
    }

    fn lose_sync(&mut self, ts: u64, out: &mut EventBuf) {
        for a in &mut self.align {
            a.synced = false;
            a.last_update_time = None;
            a.pending.clear();
        }
        out.lose_all(ts);
    }

    fn finish(&mut self, s: &mut L2Summary) -> Result<(), u64> {
        super::finish_tickers(self.decoded, self.align.iter().map(|a| a.tickers), s)
    }
}

/// Replays a Coinbase Exchange capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_coinbase(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    crate::stages::l2::replay_l2(VenueFormat::Coinbase, input, opts)
}
