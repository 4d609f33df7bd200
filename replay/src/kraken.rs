//! Replay of a Kraken spot capture (websocket v2 or v1; any of the three capture containers,
//! plain or gzip) through one L2 book per pair, with the CRC32 checksum verified after every
//! book message that carries one.
//!
//! Sync as Kraken documents it: a snapshot replaces the book and syncs it; every update's levels
//! are applied (qty 0 removes a level), then the book is truncated to the subscribed depth (the
//! venue sends no removal for levels that fall out of it), then the checksum is compared with
//! [`book_checksum`] of our book. A mismatch marks the book invalid (counted as a resync, the
//! book emptied); it stays so until the next snapshot, which is what resubscribing gives a live
//! client. Updates while unsynced are counted and kept out of the book unless
//! `accept_unsynced`.
//!
//! The checksum needs the pair's price and quantity decimals as written on the wire: v1 strings
//! carry them (taken from the snapshot), v2 numbers do not, so v2 pairs need them from
//! `wire_precision`; without them checksums are counted as not verifiable.

use std::io::BufRead;
use std::time::Instant;

use ticklane_engine::book::L2Book;
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::{book_checksum, KrakenDecoder, KrakenMsg, KrakenTrade};

use crate::capture::{CaptureLine, SeenContainers};
use crate::l2state::{for_each_line, CryptoReplayError, CryptoReplayOptions, L2State, L2Summary};

/// The Kraken sync state machine, one classified capture line at a time (the file replay and
/// the consolidated multi-venue replay both feed it, so both apply the identical decode → sync
/// → checksum → book → digest code).
pub struct KrakenSync<'a> {
    accept_unsynced: bool,
    st: L2State<'a>,
    dec: KrakenDecoder,
    levels: Vec<LevelUpdate>,
    trades: Vec<KrakenTrade>,
    frame: Vec<u8>,
    // Configured wire decimals, and per instrument the ones used for the checksum.
    wire_precision: Vec<(String, Precision)>,
    wire: Vec<Option<Precision>>,
    default_depth: usize,
    // Frames this venue's decoder understood (control frames included, capture headers not).
    decoded: u64,
}

impl<'a> KrakenSync<'a> {
    /// A state with no pairs yet (the BBO CSV header is written here).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV header; [`CryptoReplayError::Backtest`].
    pub fn new(opts: CryptoReplayOptions<'a>) -> Result<Self, CryptoReplayError> {
        Ok(KrakenSync {
            accept_unsynced: opts.accept_unsynced,
            st: L2State::new(opts.accept_unsynced, opts.bbo_csv, opts.max_time_jump_ns)
                .map_err(CryptoReplayError::Output)?
                .with_backtest(opts.backtest, |s| {
                    crate::consolidated::asset_of(crate::consolidated::VenueFormat::Kraken, s)
                        .map(|(_, quote)| quote)
                })?,
            dec: KrakenDecoder::new(),
            levels: Vec::with_capacity(4096),
            trades: Vec::with_capacity(256),
            frame: Vec::with_capacity(1 << 16),
            wire_precision: opts.wire_precision,
            wire: Vec::new(),
            default_depth: opts.book_depth.unwrap_or(10),
            decoded: 0,
        })
    }

    /// A summary to count into, named for this venue.
    pub fn new_summary() -> L2Summary {
        L2Summary {
            format: "kraken".into(),
            ..L2Summary::default()
        }
    }

    /// Pairs seen, in instrument order.
    pub fn products(&self) -> impl Iterator<Item = &str> + '_ {
        self.st.stats.iter().map(|s| s.symbol.as_str())
    }

    /// The book of `pair`, if seen.
    pub fn book(&self, pair: &str) -> Option<&L2Book> {
        self.st.book_ref(self.st.find(pair)?)
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
        let st = &mut self.st;
        let (ts, json) = match l {
            CaptureLine::Frame { ts_ns, json, .. } => (ts_ns, json),
            CaptureLine::Rest { .. } => {
                s.unknown += 1;
                return Ok(());
            }
            CaptureLine::Meta { .. } => {
                s.control += 1;
                return Ok(());
            }
        };
        st.at(ts);
        self.frame.clear();
        self.frame.extend_from_slice(json);
        let msg = match self
            .dec
            .decode(&mut self.frame, &mut self.levels, &mut self.trades)
        {
            Ok(m) => {
                self.decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return Ok(());
            }
        };
        let symbol = match msg {
            KrakenMsg::Book { symbol, .. }
            | KrakenMsg::Trades { symbol }
            | KrakenMsg::Ticker { symbol, .. } => symbol,
            KrakenMsg::Control => {
                s.control += 1;
                return Ok(());
            }
        };
        s.messages += 1;
        let i = st.instr(symbol);
        let wire = &mut self.wire;
        if wire.len() <= i {
            let configured = self
                .wire_precision
                .iter()
                .find(|(sym, _)| sym == symbol)
                .map(|&(_, p)| p);
            wire.resize(i + 1, None);
            wire[i] = configured;
        }
        let levels = &self.levels;
        match msg {
            KrakenMsg::Book {
                snapshot,
                checksum,
                depth,
                wire: seen_wire,
                ..
            } => {
                let depth = depth.unwrap_or(self.default_depth);
                if wire[i].is_none() {
                    wire[i] = seen_wire;
                }
                let synced = st.is_synced(i);
                if snapshot {
                    st.book(i).clear();
                    st.stats[i].snapshots += 1;
                } else if synced {
                    st.stats[i].updates += 1;
                } else {
                    st.stats[i].before_snapshot += 1;
                    if !self.accept_unsynced {
                        return Ok(());
                    }
                }
                if snapshot {
                    st.apply_snapshot(i, levels);
                } else {
                    st.apply(i, levels);
                }
                st.book(i).truncate(depth);
                if snapshot {
                    st.set_synced(i, true);
                }
                if let (Some(c), true) = (checksum, st.is_synced(i)) {
                    match wire[i] {
                        None => st.stats[i].checksum_unverified += 1,
                        Some(w) if book_checksum(st.book(i), w) == c => {
                            st.stats[i].checksum_ok += 1;
                        }
                        Some(_) => {
                            st.stats[i].checksum_bad += 1;
                            st.set_synced(i, false);
                            if !self.accept_unsynced {
                                st.book(i).clear();
                            }
                        }
                    }
                }
            }
            KrakenMsg::Trades { .. } => {
                for t in &self.trades {
                    // The taker bought: the resting order was a sell.
                    st.trade(i, t.px, t.qty, t.buy);
                }
            }
            KrakenMsg::Ticker { bid, ask, .. } => {
                st.stats[i].tickers += 1;
                if st.is_synced(i) {
                    let top = st.book(i).top();
                    st.stats[i].tickers_compared += 1;
                    if (top.bid.map(|l| l.px.0), top.ask.map(|l| l.px.0))
                        == (Some(bid.0), Some(ask.0))
                    {
                        st.stats[i].tickers_equal += 1;
                    }
                }
            }
            KrakenMsg::Control => {}
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
                venue: "Kraken",
                bad: s.bad_total(),
            });
        }
        self.st.finish(s).map_err(CryptoReplayError::Output)
    }
}

/// Replays a Kraken capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_kraken(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    let started = Instant::now();
    let mut s = KrakenSync::new_summary();
    let mut sync = KrakenSync::new(opts)?;
    let mut seen = SeenContainers::default();
    for_each_line(input, &mut seen, &mut s, |l, s| sync.on_line(l, s))?;
    s.container = seen.name().into();
    sync.finish(&mut s)?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}
