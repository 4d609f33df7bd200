//! The replay summary: what was read, what the books did, and the digest. Printed for people
//! and serialized as JSON for machines (`--summary-json`).

use std::fmt;

use serde::Serialize;
use ticklane_engine::Px;

/// Where a file ended in the middle of a frame.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct Truncated {
    /// Byte offset (in the decompressed stream) of the incomplete frame.
    pub offset: u64,
    /// Bytes that frame needed.
    pub need: u64,
    /// Bytes that were there.
    pub have: u64,
}

/// Bad input, counted by kind. Nothing here stops a replay.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct ErrorCounts {
    /// Regions of bytes that were not valid frames and were skipped to resynchronize.
    pub garbage_regions: u64,
    /// Bytes skipped in those regions.
    pub garbage_bytes: u64,
    /// Frames whose message could not be decoded.
    pub decode: u64,
    /// The first decode error, for the person reading the summary.
    pub first_decode: Option<String>,
    /// Events naming an order that was not resting.
    pub unknown_order: u64,
    /// Adds reusing a resting order's id.
    pub duplicate_order: u64,
    /// Reductions larger than the order's remaining quantity.
    pub overfill: u64,
    /// Events for an instrument index beyond the book array.
    pub instrument_out_of_range: u64,
    /// Times ahead of the previous message's by more than the allowed jump (held back to it).
    pub time_jump_forward: u64,
    /// Times behind the previous message's by more than the allowed jump (held to it).
    pub time_jump_backward: u64,
    /// The input ended in the middle of a frame.
    pub truncated_tail: Option<Truncated>,
    /// The input could not be read to the end.
    pub io: Option<String>,
}

impl ErrorCounts {
    /// Total count of bad records (a truncated tail or read error counts as one).
    pub fn total(&self) -> u64 {
        self.garbage_regions
            + self.decode
            + self.unknown_order
            + self.duplicate_order
            + self.overfill
            + self.instrument_out_of_range
            + self.time_jump_forward
            + self.time_jump_backward
            + u64::from(self.truncated_tail.is_some())
            + u64::from(self.io.is_some())
    }
}

/// Final top of book of one symbol.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BboLine {
    /// Symbol.
    pub symbol: String,
    /// Stock locate (instrument index).
    pub locate: u16,
    /// Book events and trades seen for it.
    pub events: u64,
    /// Best bid (price in ticks, qty), if any.
    pub bid: Option<(i64, u64)>,
    /// Best ask (price in ticks, qty), if any.
    pub ask: Option<(i64, u64)>,
}

/// Everything a replay reports.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Input format.
    pub format: String,
    /// Messages framed (decoded or not).
    pub messages: u64,
    /// Messages by ITCH type byte, in spec order, types seen only.
    pub by_type: Vec<(String, u64)>,
    /// Symbols in the stock directory.
    pub symbols: u64,
    /// The `--symbols` filter, if any.
    pub selected_symbols: Option<Vec<String>>,
    /// The symbols of the `--symbols` filter that the input never defined (so nothing of
    /// theirs is in the output). Written only when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmatched_symbols: Vec<String>,
    /// Events applied to books.
    pub book_events: u64,
    /// Orders still resting at the end.
    pub resting_orders: u64,
    /// Executions, non-displayed trades and crosses of selected symbols.
    pub trades: u64,
    /// Shares executed (printable executions and non-displayed trades).
    pub volume: u64,
    /// Shares matched in crosses.
    pub cross_volume: u64,
    /// Best bid/ask changes of selected symbols.
    pub bbo_changes: u64,
    /// System and trading-state changes (market-wide ones, and those of selected symbols).
    pub status_changes: u64,
    /// The strategy that ran, if any.
    pub strategy: Option<String>,
    /// Signals it emitted (selected symbols).
    pub signals: u64,
    /// Order intents it asked for.
    pub order_intents: u64,
    /// Actions that did not fit the strategy's fixed action buffer (dropped, counted).
    pub dropped_actions: u64,
    /// Fills of the strategy's orders (selected symbols).
    pub fills: u64,
    /// Other order status changes (accepted, modified, cancelled, rejected).
    pub order_updates: u64,
    /// Backtest results, when one ran.
    pub backtest: Option<crate::backtest::BacktestSummary>,
    /// The backtest's trade log and equity curve (not serialized with the summary).
    #[serde(skip)]
    pub backtest_data: Option<crate::backtest::BacktestData>,
    /// Exchange time of the last event, ns since midnight.
    pub last_ts_exch_ns: u64,
    /// Final top of book of the most active selected symbols.
    pub top_symbols: Vec<BboLine>,
    /// Bad input, counted.
    pub errors: ErrorCounts,
    /// Input bytes read (decompressed).
    pub bytes: u64,
    /// The input ended with the exchange's end-of-session frame (a zero-length frame, the last
    /// two bytes of a NASDAQ day file): it is complete, not cut off. Written only when set.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub end_of_session: bool,
    /// Wall time of the whole replay, set-up included, seconds (not part of the digest).
    pub elapsed_s: f64,
    /// Wall time of the replay loop alone (stages built before it starts), seconds.
    pub loop_s: f64,
    /// Messages per second.
    pub msgs_per_sec: f64,
    /// The run digest: a hash over the ordered BBO changes, trades and status changes of
    /// selected symbols (market-wide status changes always).
    pub digest: String,
}

fn side(f: &mut fmt::Formatter<'_>, l: Option<(i64, u64)>) -> fmt::Result {
    match l {
        Some((px, qty)) => write!(
            f,
            "{:>7} @ {:<11}",
            qty,
            Px(px).display_decimals(4).to_string()
        ),
        None => write!(f, "{:>7}   {:<11}", "-", "-"),
    }
}

fn hms(ns: u64) -> String {
    let s = ns / 1_000_000_000;
    format!(
        "{:02}:{:02}:{:02}.{:09}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ns % 1_000_000_000
    )
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "format:        {}", self.format)?;
        writeln!(f, "messages:      {} ({} bytes)", self.messages, self.bytes)?;
        write!(f, "by type:      ")?;
        for (i, (ty, n)) in self.by_type.iter().enumerate() {
            if i > 0 && i % 8 == 0 {
                write!(f, "\n              ")?;
            }
            write!(f, " {ty}={n}")?;
        }
        writeln!(f)?;
        write!(f, "symbols:       {}", self.symbols)?;
        if let Some(sel) = &self.selected_symbols {
            write!(f, " (output restricted to {})", sel.join(","))?;
        }
        writeln!(f)?;
        writeln!(
            f,
            "book events:   {} ({} orders resting at end)",
            self.book_events, self.resting_orders
        )?;
        writeln!(
            f,
            "trades:        {} (volume {} shares, cross volume {} shares)",
            self.trades, self.volume, self.cross_volume
        )?;
        writeln!(f, "bbo changes:   {}", self.bbo_changes)?;
        writeln!(f, "status events: {}", self.status_changes)?;
        if let Some(st) = &self.strategy {
            writeln!(
                f,
                "strategy:      {st}: {} signals, {} order intents",
                self.signals, self.order_intents
            )?;
            if let Some(b) = &self.backtest {
                writeln!(
                    f,
                    "backtest:      {} orders ({} accepted, {} rejected, {} cancelled), {} cancels and {} modifies sent",
                    b.orders_submitted, b.orders_accepted, b.rejected, b.cancelled, b.cancels_sent, b.modifies_sent
                )?;
                writeln!(
                    f,
                    "               {} fills, {} lots; position {}; PnL {:.2} after {:.2} fees (queue model {})",
                    b.fills, b.filled_qty, b.position, b.pnl, b.fees, b.queue_model
                )?;
                writeln!(
                    f,
                    "               {:.0} events/s in the replay loop ({} events, {:.6} s)",
                    b.events_per_sec, b.events, b.loop_s
                )?;
            }
            if self.dropped_actions > 0 {
                writeln!(
                    f,
                    "               {} actions dropped: the action buffer was full",
                    self.dropped_actions
                )?;
            }
        }
        writeln!(f, "last event:    {}", hms(self.last_ts_exch_ns))?;
        if self.end_of_session {
            writeln!(
                f,
                "input end:     end of session (the zero-length frame that ends a day file)"
            )?;
        }
        let e = &self.errors;
        if e.total() == 0 {
            writeln!(f, "errors:        none")?;
        } else {
            writeln!(
                f,
                "errors:        {} (garbage regions {} / {} bytes, decode {}, unknown order {}, duplicate order {}, overfill {}, bad instrument {}, time jumps {} ahead / {} back, truncated tail {}, read error {})",
                e.total(),
                e.garbage_regions,
                e.garbage_bytes,
                e.decode,
                e.unknown_order,
                e.duplicate_order,
                e.overfill,
                e.instrument_out_of_range,
                e.time_jump_forward,
                e.time_jump_backward,
                u64::from(e.truncated_tail.is_some()),
                u64::from(e.io.is_some())
            )?;
            if let Some(d) = &e.first_decode {
                writeln!(f, "               first decode error: {d}")?;
            }
            if let Some(t) = e.truncated_tail {
                writeln!(
                    f,
                    "               truncated tail at byte {}: the frame needs {} bytes, the file has {}",
                    t.offset, t.need, t.have
                )?;
            }
            if let Some(io) = &e.io {
                writeln!(f, "               read error: {io}")?;
            }
        }
        if !self.top_symbols.is_empty() {
            writeln!(
                f,
                "final BBO of the {} most active symbols:",
                self.top_symbols.len()
            )?;
            writeln!(
                f,
                "  {:<8} {:>9}  {:>7}   {:<11}  {:>7}   {:<11}",
                "symbol", "events", "bid qty", "bid", "ask qty", "ask"
            )?;
            for l in &self.top_symbols {
                write!(f, "  {:<8} {:>9}  ", l.symbol, l.events)?;
                side(f, l.bid)?;
                write!(f, "  ")?;
                side(f, l.ask)?;
                writeln!(f)?;
            }
        }
        writeln!(f, "elapsed:       {:.3} s", self.elapsed_s)?;
        writeln!(f, "throughput:    {:.0} msgs/s", self.msgs_per_sec)?;
        write!(f, "digest: {}", self.digest)
    }
}

impl Summary {
    /// The backtest report's view of this run (`None` when no backtest ran).
    pub fn report_input(&self) -> Option<crate::report::ReportInput<'_>> {
        Some(
            self.backtest_data
                .as_ref()?
                .report_input(self.messages, &self.digest),
        )
    }
}
