//! What a price-level replay reports: per-symbol counters (the venue machine's and the book
//! stage's) and the run's totals, and how they print.

use ticklane_engine::Px;

use super::DECIMALS;

/// Per-symbol results.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct SymbolSummary {
    /// Symbol / product id as the venue spells it.
    pub symbol: String,
    /// Snapshots applied.
    pub snapshots: u64,
    /// Level updates (messages) applied.
    pub updates: u64,
    /// Updates that arrived while the book was unsynced (before its first snapshot, or after
    /// it lost sync; kept out of the book unless `accept_unsynced`).
    pub before_snapshot: u64,
    /// Trades.
    pub trades: u64,
    /// Ticker messages.
    pub tickers: u64,
    /// Depth diffs decoded (venues that number their diffs: Binance).
    pub depth: u64,
    /// Of those, applied to the book (in a snapshot's replay of buffered diffs included).
    pub applied: u64,
    /// Diffs dropped as older than the book's snapshot.
    pub stale_dropped: u64,
    /// Tickers aligned with the book and compared with its top.
    pub tickers_compared: u64,
    /// Of those, equal.
    pub tickers_equal: u64,
    /// Checksums that matched the book.
    pub checksum_ok: u64,
    /// Checksums that did not (each one marks the book invalid and counts a resync).
    pub checksum_bad: u64,
    /// Checksums that could not be verified (the pair's wire decimals are unknown).
    pub checksum_unverified: u64,
    /// Times the book lost sync.
    pub resyncs: u64,
    /// Updates after which the book was crossed.
    pub crossed: u64,
    /// Receive time spent unsynced, ns (from the symbol's first message).
    pub unsynced_ns: u64,
    /// Whether the book ended synced.
    pub synced_at_end: bool,
    /// Reported top-of-book changes.
    pub bbo_changes: u64,
    /// Final best bid (px, qty) in 1e-8 units.
    pub bid: Option<(i64, i64)>,
    /// Final best ask.
    pub ask: Option<(i64, i64)>,
}

/// What a crypto L2 replay reports.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct L2Summary {
    /// Venue format (`coinbase`, `kraken`).
    pub format: String,
    /// Container format of the file (`cryptofeed`, `ns-lines`, `jsonl`, or `mixed`).
    pub container: String,
    /// Lines read.
    pub lines: u64,
    /// Frames decoded into a book, trade or ticker message.
    pub messages: u64,
    /// Control frames (subscriptions, heartbeats, status) and capture header/sent lines. Every
    /// line is counted once: `lines == messages + control + bad_total()`.
    pub control: u64,
    /// Lines that are not a capture line of any known container.
    pub bad_lines: u64,
    /// Frames that are not JSON.
    pub bad_json: u64,
    /// JSON frames of an unknown type.
    pub unknown: u64,
    /// Frames with a missing or invalid field.
    pub bad_fields: u64,
    /// Frames whose receive time was ahead of the previous frame's by more than the allowed
    /// jump (applied at the previous frame's time; see [`ticklane_engine::event_time`]).
    pub time_jump_forward: u64,
    /// Frames whose receive time was behind the previous frame's by more than the allowed jump.
    pub time_jump_backward: u64,
    /// Totals over all symbols.
    pub snapshots: u64,
    /// Updates applied, all symbols.
    pub updates: u64,
    /// Trades, all symbols.
    pub trades: u64,
    /// Resyncs, all symbols.
    pub resyncs: u64,
    /// Checksums verified equal, all symbols.
    pub checksum_ok: u64,
    /// Checksum mismatches, all symbols.
    pub checksum_bad: u64,
    /// Checksums not verifiable (wire decimals unknown), all symbols.
    pub checksum_unverified: u64,
    /// Tickers compared with the book, all symbols.
    pub tickers_compared: u64,
    /// Of those, equal.
    pub tickers_equal: u64,
    /// Reported top-of-book changes, all symbols.
    pub bbo_changes: u64,
    /// Ticker messages, all symbols.
    pub tickers: u64,
    /// Numbered depth diffs decoded, all symbols (venues that number them: Binance).
    pub depth: u64,
    /// Of those, applied to the books.
    pub applied: u64,
    /// Diffs dropped as older than their book's snapshot, all symbols.
    pub stale_dropped: u64,
    /// Receive time the books spent unsynced, ns, summed over symbols.
    pub unsynced_ns: u64,
    /// Whether every book ended synced (false with no symbol).
    pub synced_at_end: bool,
    /// Per symbol, in first-seen (instrument index) order.
    pub symbols: Vec<SymbolSummary>,
    /// The strategy backtested, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Its signals.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<u64>,
    /// Backtest results, when the strategy sent orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<crate::backtest::BacktestSummary>,
    /// The backtest's trade log and equity curve (not serialized with the summary).
    #[serde(skip)]
    pub backtest_data: Option<crate::backtest::BacktestData>,
    /// Wall time, s (not in the digest).
    pub elapsed_s: f64,
    /// Digest over the ordered BBO changes and trades of all symbols.
    pub digest: String,
}

impl L2Summary {
    /// Counts a frame a decoder refused.
    pub fn count_error(&mut self, e: ticklane_feeds::json::MsgError) {
        use ticklane_feeds::json::MsgError;
        match e {
            MsgError::Json => self.bad_json += 1,
            MsgError::Unknown => self.unknown += 1,
            MsgError::Field(_) => self.bad_fields += 1,
        }
    }

    /// Totals of the per-symbol counts the venue machine adds at the end (diffs, tickers,
    /// unsynced time): called once the rows are complete.
    pub fn total_symbols(&mut self) {
        let sum = |f: fn(&SymbolSummary) -> u64| self.symbols.iter().map(f).sum::<u64>();
        self.tickers = sum(|x| x.tickers);
        self.depth = sum(|x| x.depth);
        self.applied = sum(|x| x.applied);
        self.stale_dropped = sum(|x| x.stale_dropped);
        self.unsynced_ns = sum(|x| x.unsynced_ns);
        self.synced_at_end =
            !self.symbols.is_empty() && self.symbols.iter().all(|x| x.synced_at_end);
    }

    /// The first symbol's row (the only one of a single-symbol capture).
    pub fn first(&self) -> Option<&SymbolSummary> {
        self.symbols.first()
    }

    /// Frames or lines that could not be used.
    pub fn bad_total(&self) -> u64 {
        self.bad_lines + self.bad_json + self.unknown + self.bad_fields
    }

    /// Frames with an impossible receive time (used, at the previous frame's time).
    pub fn time_jumps(&self) -> u64 {
        self.time_jump_forward + self.time_jump_backward
    }

    /// The backtest report's view of this run (`None` when no backtest ran or it sent no
    /// orders).
    pub fn report_input(&self) -> Option<crate::report::ReportInput<'_>> {
        Some(
            self.backtest_data
                .as_ref()?
                .report_input(self.lines, &self.digest),
        )
    }
}

impl std::fmt::Display for L2Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let px = |v: Option<(i64, i64)>| {
            v.map_or_else(
                || "-".to_owned(),
                |(p, q)| {
                    format!(
                        "{} @ {}",
                        Px(q).display_decimals(DECIMALS),
                        Px(p).display_decimals(DECIMALS)
                    )
                },
            )
        };
        let n = self.symbols.len();
        writeln!(
            f,
            "format:        {} ({} capture, {n} symbol{})",
            self.format,
            self.container,
            if n == 1 { "" } else { "s" }
        )?;
        writeln!(
            f,
            "lines:         {} ({} messages, {} control, bad: {} lines, {} JSON, {} unknown type, {} fields)",
            self.lines, self.messages, self.control, self.bad_lines, self.bad_json, self.unknown, self.bad_fields
        )?;
        if self.time_jumps() > 0 {
            writeln!(
                f,
                "time jumps:    {} ahead, {} back (bad receive times; those frames were applied at the previous frame's time)",
                self.time_jump_forward, self.time_jump_backward
            )?;
        }
        writeln!(
            f,
            "book:          {} snapshots, {} updates applied, {} trades, {} resyncs, {} at end",
            self.snapshots,
            self.updates,
            self.trades,
            self.resyncs,
            if self.synced_at_end {
                "synced"
            } else {
                "UNSYNCED"
            }
        )?;
        if self.checksum_ok + self.checksum_bad + self.checksum_unverified > 0 {
            writeln!(
                f,
                "checksums:     {} verified equal, {} mismatched, {} not verifiable (decimals unknown)",
                self.checksum_ok, self.checksum_bad, self.checksum_unverified
            )?;
        }
        if self.depth > 0 {
            writeln!(
                f,
                "diffs:         {} decoded, {} applied, {} stale dropped (older than the snapshot)",
                self.depth, self.applied, self.stale_dropped
            )?;
        }
        writeln!(
            f,
            "tickers:       {} received, {} aligned with the book compared, {} equal",
            self.tickers, self.tickers_compared, self.tickers_equal
        )?;
        writeln!(f, "bbo changes:   {}", self.bbo_changes)?;
        writeln!(f, "per symbol:")?;
        writeln!(
            f,
            "  {:<12} {:>6} {:>5} {:>7} {:>9} {:>9}  {:<28} ask",
            "symbol", "updates", "resync", "unsync s", "tick cmp", "tick eq", "bid"
        )?;
        for s in &self.symbols {
            writeln!(
                f,
                "  {:<12} {:>6} {:>5} {:>7.3}{} {:>9} {:>9}  {:<28} {}",
                s.symbol,
                s.updates,
                s.resyncs,
                s.unsynced_ns as f64 / 1e9,
                if s.synced_at_end { " " } else { "!" },
                s.tickers_compared,
                s.tickers_equal,
                px(s.bid),
                px(s.ask)
            )?;
        }
        writeln!(f, "  (! = book unsynced at end)")?;
        crate::backtest::l2::fmt_summary_lines(
            f,
            self.strategy.as_deref(),
            self.signals,
            self.backtest.as_ref(),
        )?;
        writeln!(f, "elapsed:       {:.3} s", self.elapsed_s)?;
        write!(f, "digest: {}", self.digest)
    }
}
