//! Replay of a Coinbase Exchange capture (`snapshot`, `l2update`, `match`, `ticker`; any of the
//! three capture containers, plain or gzip) through one L2 book per product.
//!
//! Sync, as Coinbase's level2 channel works: the channel sends a full `snapshot` of a product's
//! book on subscribing, then `l2update`s that set a level's size (0 removes it). A product's book
//! is unsynced until its snapshot; updates before it are counted and kept out of the book unless
//! `accept_unsynced`. (The level2 channel carries no sequence numbers, so there is no gap to
//! detect; a crossed book after an update is counted.)
//!
//! Cross-check: each `ticker` carries the best bid and ask as of its `time`. It is compared with
//! our book only where the two are aligned: the book is synced, has applied an update stamped at
//! or before the ticker's time, and the next update for that product is stamped after it, so the
//! book then holds exactly the updates up to the ticker's instant. The comparison is made just
//! before that next update is applied; tickers never followed by an update are not compared.
//!
//! Products get dense instrument indices in first-seen order; prices and sizes are kept at 8
//! decimals.

use std::io::BufRead;
use std::time::Instant;

use ticklane_engine::book::L2Book;
use ticklane_feeds::coinbase::{CoinbaseDecoder, CoinbaseMsg};
use ticklane_feeds::json::{LevelUpdate, Precision};

use crate::capture::{CaptureLine, SeenContainers};
use crate::l2state::{for_each_line, L2State, L2Summary, SymbolSummary, DECIMALS};
pub use crate::l2state::{CryptoReplayError, CryptoReplayOptions};

#[derive(Clone, Copy)]
struct PendingTicker {
    time: u64,
    bid: i64,
    ask: i64,
}

#[derive(Default)]
struct Align {
    last_update_time: Option<u64>,
    pending: Vec<PendingTicker>,
}

const P: Precision = Precision {
    px: DECIMALS,
    qty: DECIMALS,
};

/// The Coinbase sync state machine, one frame at a time: the file replay feeds it capture
/// lines, the live runner websocket frames, so both apply the identical decode → sync → book →
/// digest code.
pub struct CoinbaseSync<'a> {
    accept_unsynced: bool,
    st: L2State<'a>,
    dec: CoinbaseDecoder,
    levels: Vec<LevelUpdate>,
    frame: Vec<u8>,
    align: Vec<Align>,
    // Frames this venue's decoder understood (control frames included, capture headers not).
    decoded: u64,
}

impl<'a> CoinbaseSync<'a> {
    /// A state with no products yet (the BBO CSV header is written here).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV header.
    pub fn new(opts: CryptoReplayOptions<'a>) -> Result<Self, CryptoReplayError> {
        Ok(CoinbaseSync {
            accept_unsynced: opts.accept_unsynced,
            st: L2State::new(opts.accept_unsynced, opts.bbo_csv, opts.max_time_jump_ns)
                .map_err(CryptoReplayError::Output)?
                .with_backtest(opts.backtest, |s| {
                    crate::consolidated::asset_of(crate::consolidated::VenueFormat::Coinbase, s)
                        .map(|(_, quote)| quote)
                })?,
            dec: CoinbaseDecoder::new(),
            levels: Vec::with_capacity(4096),
            frame: Vec::with_capacity(1 << 16),
            align: Vec::new(),
            decoded: 0,
        })
    }

    /// A summary to count into, named for this venue.
    pub fn new_summary() -> L2Summary {
        L2Summary {
            format: "coinbase".into(),
            ..L2Summary::default()
        }
    }

    /// One classified capture line (already counted in `s.lines`).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_line(
        &mut self,
        l: CaptureLine<'_>,
        s: &mut L2Summary,
    ) -> Result<(), CryptoReplayError> {
        match l {
            CaptureLine::Frame { ts_ns, json, .. } => self.apply_frame(s, ts_ns, json),
            CaptureLine::Rest { .. } => {
                // Coinbase's REST book has no place in a level2 websocket replay.
                s.unknown += 1;
                Ok(())
            }
            CaptureLine::Meta { .. } => {
                s.control += 1;
                Ok(())
            }
        }
    }

    /// One websocket frame received at `ts`; counted as a line.
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_frame(
        &mut self,
        s: &mut L2Summary,
        ts: u64,
        json: &[u8],
    ) -> Result<(), CryptoReplayError> {
        s.lines += 1;
        self.apply_frame(s, ts, json)
    }

    /// The connection was lost at `ts`: every product's book is cleared and unsynced (each
    /// counts a resync) until the venue sends a new snapshot after the re-subscribe.
    pub fn lose_sync(&mut self, ts: u64) {
        self.st.at(ts);
        for i in 0..self.st.stats.len() {
            self.st.book(i).clear();
            self.st.set_synced(i, false);
        }
        for a in &mut self.align {
            a.last_update_time = None;
            a.pending.clear();
        }
    }

    /// Products seen, in instrument order.
    pub fn products(&self) -> impl Iterator<Item = &str> + '_ {
        self.st.stats.iter().map(|s| s.symbol.as_str())
    }

    /// Whether every product seen has a synced book (false before any).
    pub fn all_synced(&self) -> bool {
        !self.st.stats.is_empty()
            && (0..self.st.stats.len()).all(|i| self.st.book_ref(i).is_some_and(|b| b.is_synced()))
    }

    /// The book of `product`, if seen.
    pub fn book(&self, product: &str) -> Option<&L2Book> {
        self.st.book_ref(self.st.find(product)?)
    }

    /// Per-product counters so far.
    pub fn stats(&self) -> &[SymbolSummary] {
        &self.st.stats
    }

    fn apply_frame(
        &mut self,
        s: &mut L2Summary,
        ts: u64,
        json: &[u8],
    ) -> Result<(), CryptoReplayError> {
        let st = &mut self.st;
        let levels = &mut self.levels;
        st.at(ts);
        self.frame.clear();
        self.frame.extend_from_slice(json);
        let msg = match self.dec.decode(&mut self.frame, P, levels) {
            Ok(m) => {
                self.decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return Ok(());
            }
        };
        let product = match msg {
            CoinbaseMsg::Snapshot { product }
            | CoinbaseMsg::L2Update { product, .. }
            | CoinbaseMsg::Match { product, .. }
            | CoinbaseMsg::Ticker { product, .. } => product,
            CoinbaseMsg::Control => {
                s.control += 1;
                return Ok(());
            }
        };
        s.messages += 1;
        let i = st.instr(product);
        if self.align.len() <= i {
            self.align.resize_with(i + 1, Align::default);
        }
        let a = &mut self.align[i];
        match msg {
            CoinbaseMsg::Snapshot { .. } => {
                st.apply_snapshot(i, levels);
                st.stats[i].snapshots += 1;
                st.set_synced(i, true);
                a.last_update_time = None;
                a.pending.clear();
            }
            CoinbaseMsg::L2Update { time_ns, .. } => {
                if st.is_synced(i) {
                    if let Some(u) = time_ns {
                        // Tickers stamped before this update saw exactly the book as it is now.
                        let top = st.book(i).top();
                        let ours = (top.bid.map(|l| l.px.0), top.ask.map(|l| l.px.0));
                        let stats = &mut st.stats[i];
                        a.pending.retain(|t| {
                            if t.time < u {
                                stats.tickers_compared += 1;
                                if ours == (Some(t.bid), Some(t.ask)) {
                                    stats.tickers_equal += 1;
                                }
                                false
                            } else {
                                true
                            }
                        });
                    }
                    a.last_update_time = time_ns;
                    st.apply(i, levels);
                    st.stats[i].updates += 1;
                } else {
                    st.stats[i].before_snapshot += 1;
                    if self.accept_unsynced {
                        st.apply(i, levels);
                    }
                }
            }
            CoinbaseMsg::Match {
                px,
                qty,
                maker_sell,
                ..
            } => st.trade(i, px, qty, maker_sell),
            CoinbaseMsg::Ticker {
                best_bid,
                best_ask,
                time_ns,
                ..
            } => {
                st.stats[i].tickers += 1;
                if let (true, Some(t), Some(u)) = (st.is_synced(i), time_ns, a.last_update_time) {
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
        st.report(i).map_err(CryptoReplayError::Output)
    }

    /// Ends the run: totals and the digest into `s`.
    ///
    /// # Errors
    /// [`CryptoReplayError::WrongVenue`] when lines were read but none decoded;
    /// [`CryptoReplayError::Output`] flushing the CSV.
    pub fn finish(self, s: &mut L2Summary) -> Result<(), CryptoReplayError> {
        if self.decoded == 0 && s.lines > 0 {
            return Err(CryptoReplayError::WrongVenue {
                venue: "Coinbase",
                bad: s.bad_total(),
            });
        }
        self.st.finish(s).map_err(CryptoReplayError::Output)
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
    let started = Instant::now();
    let mut s = CoinbaseSync::new_summary();
    let mut sync = CoinbaseSync::new(opts)?;
    let mut seen = SeenContainers::default();
    for_each_line(input, &mut seen, &mut s, |l, s| sync.on_line(l, s))?;
    s.container = seen.name().into();
    sync.finish(&mut s)?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}
