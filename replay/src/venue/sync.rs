//! A price-level replay fed one capture line or one frame at a time, with its summary: what a
//! file replay, the live websocket session, the consolidated BBO and the websocket test venue
//! hold for any venue of the registry. The file replay feeds capture lines, the live runner
//! websocket frames and REST snapshot bodies, so both apply the identical decode → sync →
//! events → book → digest code ([`L2Replay`]).

use std::io::BufRead;

use ticklane_engine::book::L2Book;

use super::{CryptoReplayError, CryptoReplayOptions, L2Summary, VenueFormat};
use crate::stages::l2::L2Replay;

/// A replay of one venue's lines or frames and the summary it counts into.
pub struct L2Sync<'a> {
    r: L2Replay<'a>,
    s: L2Summary,
    // Frames came from a websocket (`on_frame`), not capture lines.
    websocket: bool,
}

/// Counts of a run so far, totals over all symbols (for a live runner's metrics).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L2Counts {
    /// Depth messages: numbered diffs decoded (Binance), or level updates received, applied or
    /// not (venues that do not number them).
    pub depth: u64,
    /// Snapshots.
    pub snapshots: u64,
    /// Trades.
    pub trades: u64,
    /// Tickers.
    pub tickers: u64,
    /// Lines or frames that could not be used.
    pub bad: u64,
    /// Control frames.
    pub control: u64,
    /// Times a book lost sync.
    pub resyncs: u64,
}

impl<'a> L2Sync<'a> {
    /// A replay of `format` with no symbols yet (the BBO CSV header is written here).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV header; [`CryptoReplayError::Backtest`].
    pub fn new(
        format: VenueFormat,
        opts: CryptoReplayOptions<'a>,
    ) -> Result<Self, CryptoReplayError> {
        let r = L2Replay::new(format, opts)?;
        let s = r.new_summary();
        Ok(L2Sync {
            r,
            s,
            websocket: false,
        })
    }

    /// One capture line, without or with its newline (see [`crate::venue::capture`]).
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_line(&mut self, line: &[u8]) -> Result<(), CryptoReplayError> {
        self.r.on_raw_line(line, &mut self.s)
    }

    /// Every line of `input`, as [`on_line`](Self::on_line).
    ///
    /// # Errors
    /// [`CryptoReplayError::Read`], [`CryptoReplayError::Output`].
    pub fn feed_lines(&mut self, input: impl BufRead) -> Result<(), CryptoReplayError> {
        self.r.feed_lines(input, &mut self.s)
    }

    /// One frame (a websocket message, or a REST snapshot body) received at `ts`; counted as a
    /// line.
    ///
    /// # Errors
    /// [`CryptoReplayError::Output`] writing the CSV.
    pub fn on_frame(&mut self, ts: u64, json: &[u8]) -> Result<(), CryptoReplayError> {
        self.websocket = true;
        self.r.on_frame(&mut self.s, ts, json)
    }

    /// A frame that is not the venue's data (a subscription reply) or a body it cannot use:
    /// counted, not decoded.
    pub fn count_control(&mut self) {
        self.s.lines += 1;
        self.s.control += 1;
    }

    /// A frame that could not be used: counted as an unknown type.
    pub fn count_unknown(&mut self) {
        self.s.lines += 1;
        self.s.unknown += 1;
    }

    /// The connection was lost at `ts` (a reconnect follows): what arrives next cannot be
    /// chained to what came before, so every book is stale until the venue's next snapshot.
    pub fn lose_sync(&mut self, ts: u64) {
        self.r.lose_sync(ts);
    }

    /// Whether every symbol seen has a synced book (false before any).
    pub fn is_synced(&self) -> bool {
        self.r.all_synced()
    }

    /// The first symbol's last applied update id, while synced (venues that number their
    /// diffs): a REST snapshot of this book would carry it as `lastUpdateId`.
    pub fn last_update_id(&self) -> Option<u64> {
        self.r.sequence(0)
    }

    /// Whether the first symbol waits for a snapshot it must ask for (Binance: unsynced,
    /// diffs buffered).
    pub fn awaiting_snapshot(&self) -> bool {
        self.r.awaiting_snapshot(0)
    }

    /// The symbols seen so far, in instrument index order.
    pub fn products(&self) -> impl Iterator<Item = &str> {
        self.r.products().filter(|s| !s.is_empty())
    }

    /// The book of `symbol` (compared ignoring case), if seen.
    pub fn book_of(&self, symbol: &str) -> Option<&L2Book> {
        let i = self
            .r
            .products()
            .position(|p| p.eq_ignore_ascii_case(symbol))?;
        self.r.book_at(i)
    }

    /// The book of instrument `i`, if seen.
    pub fn book_at(&self, i: usize) -> Option<&L2Book> {
        self.r.book_at(i)
    }

    /// Per-symbol rows so far: `(symbol, synced, book messages)` in instrument order.
    pub fn symbol_rows(&self) -> impl Iterator<Item = (&str, bool, u64)> {
        self.r.stats().iter().enumerate().map(|(i, st)| {
            let synced = self.r.book_at(i).is_some_and(L2Book::is_synced);
            (
                st.symbol.as_str(),
                synced,
                st.updates + st.before_snapshot + st.snapshots,
            )
        })
    }

    /// Counts so far, totals over all symbols.
    pub fn counts(&self) -> L2Counts {
        let mut c = L2Counts {
            bad: self.s.bad_total(),
            control: self.s.control,
            ..L2Counts::default()
        };
        let mut levels = 0;
        let mut tickers = 0;
        for x in self.r.stats() {
            c.snapshots += x.snapshots;
            c.trades += x.trades;
            c.resyncs += x.resyncs;
            levels += x.updates + x.before_snapshot;
            tickers += x.tickers;
        }
        let (depth, machine_tickers) = self.r.machine_counts();
        // Venues that number their diffs count them in the machine; others per update.
        c.depth = if depth > 0 { depth } else { levels };
        c.tickers = machine_tickers + tickers;
        c
    }

    /// Ends the run: final tops, unsynced time up to the last frame, totals, the digest.
    ///
    /// # Errors
    /// [`CryptoReplayError::WrongVenue`] when lines were read but none decoded;
    /// [`CryptoReplayError::Output`] flushing the CSV.
    pub fn finish(mut self) -> Result<L2Summary, CryptoReplayError> {
        if self.websocket {
            self.s.container = "websocket".into();
        }
        self.r.finish(&mut self.s)?;
        Ok(self.s)
    }
}
