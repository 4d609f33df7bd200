//! LOBSTER replays, and `--check`: our book against LOBSTER's order-book file, row by row.
//!
//! The message file goes through the LOBSTER → ITCH conversion (in memory) and then the very
//! same normalize → L3 book → outputs path as an ITCH file. With an order-book file, the book
//! starts from its first row (message 1 undone) as anonymous resting orders, which later
//! deletes and executions of ids the message file never submitted reduce; after every row our top
//! N levels (price and size, each side) are compared with the file's.
//!
//! LOBSTER's documented quirk: its message file only carries events that changed the requested
//! N levels, so liquidity deeper than N that later scrolls into view (or vanishes while hidden)
//! is in the order-book file but in no message. Those levels cannot be reached from the messages;
//! the conversion takes them from the order-book file at the row where they appear, and the check
//! counts every such row ([`CheckReport::rows_with_reference_depth`]) instead of hiding it.

use std::fmt;
use std::io::{self, BufRead};
use std::time::Instant;

use ticklane_engine::{InstrumentIdx, Side};
use ticklane_feeds::itch::Message;
use ticklane_feeds::lobster::to_itch::{
    convert_into, ConvertError, ConvertOptions, ConvertStats, ItchSink, RowDone,
};
use ticklane_feeds::lobster::LobsterKind;

use crate::l3::itch::{summarize, ItchReplayOptions, ReplayError};
use crate::l3::summary::{ErrorCounts, Summary};
use crate::stages::{BookStage, DecodeStage, OutputStage};

/// Levels of one side, best first, as `(price, size)`.
pub type Levels = Vec<(i64, u64)>;

/// One row where our book and the reference differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// 1-based row number (message file and order-book file).
    pub row: u64,
    /// The message of that row, as LOBSTER fields.
    pub message: String,
    /// Our levels: bids best first, asks best first, `(price, size)`.
    pub ours: (Levels, Levels),
    /// The reference's levels.
    pub theirs: (Levels, Levels),
}

/// What `--check` found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckReport {
    /// Levels compared per side.
    pub levels: usize,
    /// Rows compared.
    pub rows: u64,
    /// Rows where every compared level was equal.
    pub equal: u64,
    /// Rows after which depth only the order-book file shows had to be taken from it (LOBSTER's
    /// depth quirk); they are compared like every other row.
    pub rows_with_reference_depth: u64,
    /// The first mismatches, in row order (at most [`MAX_REPORTED`]).
    pub mismatches: Vec<Mismatch>,
}

/// Mismatches kept with full context.
pub const MAX_REPORTED: usize = 5;

impl CheckReport {
    /// Whether every row was equal.
    pub fn passed(&self) -> bool {
        self.rows > 0 && self.equal == self.rows
    }
}

fn levels_text(v: &[(i64, u64)]) -> String {
    v.iter()
        .map(|(p, q)| format!("{q}@{}", ticklane_engine::Px(*p).display_decimals(4)))
        .collect::<Vec<_>>()
        .join(" ")
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "check:         {} rows compared at {} levels a side, {} equal, {} differ",
            self.rows,
            self.levels,
            self.equal,
            self.rows - self.equal
        )?;
        writeln!(
            f,
            "               {} rows needed depth only the order-book file shows (LOBSTER reports no message for liquidity below its {} levels)",
            self.rows_with_reference_depth, self.levels
        )?;
        for m in &self.mismatches {
            writeln!(f, "mismatch at row {}: message {}", m.row, m.message)?;
            writeln!(f, "  ours   bids {}", levels_text(&m.ours.0))?;
            writeln!(f, "  theirs bids {}", levels_text(&m.theirs.0))?;
            writeln!(f, "  ours   asks {}", levels_text(&m.ours.1))?;
            writeln!(f, "  theirs asks {}", levels_text(&m.theirs.1))?;
        }
        Ok(())
    }
}

struct Sink<'o> {
    decoder: DecodeStage,
    book: BookStage,
    output: OutputStage<'o>,
    instr: InstrumentIdx,
    report: Option<CheckReport>,
    io_error: Option<io::Error>,
}

impl ItchSink for Sink<'_> {
    fn put(&mut self, m: &Message) -> io::Result<()> {
        let Some(ev) = self.decoder.on_message(m) else {
            return Ok(());
        };
        let (output, err) = (&mut self.output, &mut self.io_error);
        self.book.on_event(&ev, &mut |o| {
            if err.is_none() {
                if let Err(e) = output.on_output(&o) {
                    *err = Some(e);
                }
            }
        });
        match self.io_error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn row_done(&mut self, r: &RowDone<'_>) -> io::Result<()> {
        let (Some(report), Some(reference)) = (self.report.as_mut(), r.reference) else {
            return Ok(());
        };
        let n = reference.depth;
        report.levels = n;
        report.rows += 1;
        if r.from_reference > 0 {
            report.rows_with_reference_depth += 1;
        }
        let side = |s| -> Vec<(i64, u64)> {
            self.book.books.book(self.instr).map_or_else(Vec::new, |b| {
                b.levels(s).take(n).map(|l| (l.px.0, l.qty.0)).collect()
            })
        };
        let ours = (side(Side::Bid), side(Side::Ask));
        if ours.0 == reference.bids && ours.1 == reference.asks {
            report.equal += 1;
        } else if report.mismatches.len() < MAX_REPORTED {
            let m = r.msg;
            let kind = match m.kind {
                LobsterKind::Submit => 1,
                LobsterKind::Cancel => 2,
                LobsterKind::Delete => 3,
                LobsterKind::ExecuteVisible => 4,
                LobsterKind::ExecuteHidden => 5,
                LobsterKind::Cross => 6,
                LobsterKind::Halt => 7,
            };
            report.mismatches.push(Mismatch {
                row: r.row,
                message: format!(
                    "time {}.{:09}, type {kind}, order {}, size {}, price {}, direction {}",
                    m.ts_ns / 1_000_000_000,
                    m.ts_ns % 1_000_000_000,
                    m.order_id,
                    m.size,
                    m.price,
                    m.direction
                ),
                ours,
                theirs: (reference.bids.clone(), reference.asks.clone()),
            });
        }
        Ok(())
    }
}

/// Why a LOBSTER replay could not run.
#[derive(Debug, thiserror::Error)]
pub enum LobsterReplayError {
    /// The conversion failed (no valid rows, a bad order-book row, an I/O error).
    #[error(transparent)]
    Convert(#[from] ConvertError),
    /// A replay output failed.
    #[error(transparent)]
    Replay(#[from] ReplayError),
}

/// Replays a LOBSTER message file; with `orderbook`, seeds the book from it and, when `check`,
/// compares every row.
///
/// # Errors
/// [`LobsterReplayError`].
pub fn replay_lobster(
    messages: impl BufRead,
    orderbook: Option<&mut dyn BufRead>,
    check: bool,
    convert: &ConvertOptions,
    mut opts: ItchReplayOptions<'_>,
) -> Result<(Summary, ConvertStats, Option<CheckReport>), LobsterReplayError> {
    let started = Instant::now();
    let output = opts.output_stage("none")?;
    let mut sink = Sink {
        decoder: opts.decoder(),
        book: BookStage::new(),
        output,
        instr: InstrumentIdx(u32::from(convert.locate)),
        report: (check && orderbook.is_some()).then(CheckReport::default),
        io_error: None,
    };
    let stats = convert_into(messages, orderbook, convert, &mut sink)?;
    sink.output.finish().map_err(|source| ReplayError::Output {
        what: "BBO CSV",
        source,
    })?;
    let mut errors = ErrorCounts {
        decode: stats.bad_rows,
        ..ErrorCounts::default()
    };
    errors.first_decode = stats.first_error.map(|e| e.to_string());
    errors.add_decoder(&sink.decoder);
    errors.add_book(&sink.book.errors);
    let mut summary = summarize(
        &sink.decoder,
        &[&sink.book],
        &sink.output,
        errors,
        &opts.symbols,
        opts.top_n,
        0,
        started,
    );
    summary.format = "lobster".into();
    Ok((summary, stats, sink.report))
}
