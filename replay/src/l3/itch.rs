//! Replay of an ITCH 5.0 BinaryFILE through the decoder and the L3 books, inline on the calling
//! thread: frame → decode → normalize → book → outputs (digest, BBO changes, trades).
//!
//! Bad frames, undecodable messages and book inconsistencies are counted by kind and the stream
//! goes on; only an input that is not ITCH at all, or an output that cannot be written, stops it.

use std::io::{Read, Write};
use std::time::Instant;

use ticklane_engine::InstrumentIdx;
use ticklane_feeds::itch::framing::{FrameError, FrameReader};
use ticklane_feeds::itch::msg::MESSAGE_TYPES;

use crate::l3::summary::{BboLine, ErrorCounts, Summary, Truncated};
use crate::stages::{BookStage, DecodeStage, OutputStage};
use ticklane_engine::strategy::{NoStrategy, Strategy};

/// What to replay and what to write besides the summary.
#[derive(Default)]
pub struct ItchReplayOptions<'a> {
    /// Restrict outputs (digest, BBO CSV, trades, top symbols) to these symbols; decoding and
    /// the books still cover everything. Empty = all symbols.
    pub symbols: Vec<String>,
    /// Write every change of a selected symbol's best bid/ask price or size here.
    pub bbo_csv: Option<Box<dyn Write + 'a>>,
    /// Called every 64Ki frames with the number of input bytes consumed so far.
    pub progress: Option<Box<dyn FnMut(u64) + 'a>>,
    /// How many of the most active symbols the summary lists (default 10 when 0).
    pub top_n: usize,
    /// Write the strategy's signals here.
    pub signals: Option<Box<dyn Write + 'a>>,
    /// Format of `signals`.
    pub signal_format: Option<crate::sink::signals::SignalFormat>,
    /// Run the strategy's orders through the execution simulator with these options and keep
    /// accounts, a trade log and an equity curve (`None`: orders are still simulated, with the
    /// default simulator, but not accounted).
    pub backtest: Option<crate::backtest::BacktestOptions>,
    /// Largest jump of exchange time between two messages, ns; a larger one is counted as bad
    /// input and held back (see [`ticklane_engine::event_time`]). `None`: the default, 6 hours.
    pub max_time_jump_ns: Option<u64>,
    /// More outputs: every output of a selected instrument reaches each of these, in input
    /// order, whatever the pipeline layout (see [`crate::sink`]).
    pub sinks: Vec<Box<dyn crate::sink::Sink + 'a>>,
}

impl<'a> ItchReplayOptions<'a> {
    /// A decoder holding times to these options' bound.
    pub(crate) fn decoder(&self) -> DecodeStage {
        self.max_time_jump_ns
            .map_or_else(DecodeStage::new, DecodeStage::with_max_time_jump)
    }

    /// The output stage these options describe, for a strategy named `strategy`.
    pub(crate) fn output_stage(
        &mut self,
        strategy: &'static str,
    ) -> Result<OutputStage<'a>, ReplayError> {
        let out = OutputStage::new(&self.symbols, self.bbo_csv.take()).map_err(csv_err)?;
        let sink = self.signals.take().map(|w| {
            crate::sink::signals::SignalSink::new(
                w,
                self.signal_format
                    .unwrap_or(crate::sink::signals::SignalFormat::JsonLines),
                strategy,
            )
        });
        Ok(out
            .with_signals(sink)
            .with_sinks(std::mem::take(&mut self.sinks))
            .with_backtest(self.backtest.as_ref()))
    }

    /// The simulator configuration for the book stages.
    pub(crate) fn sim_config(&self) -> ticklane_engine::exec::sim::SimConfig {
        self.backtest
            .as_ref()
            .map(|b| b.sim.clone())
            .unwrap_or_default()
    }
}

/// Why a replay could not run at all (as opposed to bad records inside it, which are counted).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The input is not an ITCH 5.0 BinaryFILE.
    #[error("not an ITCH 5.0 BinaryFILE: {0}")]
    NotItch(String),
    /// A pipeline stage failed (panicked or could not start).
    #[error("pipeline stage failed: {0}")]
    Stage(String),
    /// Writing an output failed.
    #[error("writing {what}: {source}")]
    Output {
        /// Which output.
        what: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// What a replay loop does after a framing problem.
pub(crate) enum FrameFlow {
    /// Counted; go on with the next frame.
    Skip,
    /// Counted; the input ends here.
    Stop,
    /// Nothing was ITCH: the input is of another format.
    NotItch(String),
}

impl ErrorCounts {
    /// Counts a framing problem met after `messages` good frames and says how to go on. Shared
    /// by the inline loop and the pipeline's decode stage.
    pub(crate) fn frame_error(&mut self, e: FrameError, messages: u64) -> FrameFlow {
        match e {
            FrameError::Garbage { offset, skipped } => {
                if messages == 0 && offset == 0 {
                    return FrameFlow::NotItch(
                        "the first bytes are not a length-prefixed ITCH 5.0 message".into(),
                    );
                }
                self.garbage_regions += 1;
                self.garbage_bytes += skipped;
                FrameFlow::Skip
            }
            FrameError::TruncatedTail { offset, need, have } => {
                if messages == 0 {
                    return FrameFlow::NotItch(format!(
                        "no complete message: the first frame needs {need} bytes, the input has {have}"
                    ));
                }
                self.truncated_tail = Some(Truncated {
                    offset,
                    need: need as u64,
                    have: have as u64,
                });
                FrameFlow::Stop
            }
            FrameError::Io(kind) => {
                self.io = Some(kind.to_string());
                FrameFlow::Stop
            }
        }
    }
}

pub(crate) fn csv_err(source: std::io::Error) -> ReplayError {
    ReplayError::Output {
        what: "the outputs (BBO CSV, signals, sinks)",
        source,
    }
}

/// Replays ITCH frames from `reader` and returns the summary.
///
/// # Errors
/// [`ReplayError::NotItch`] when the first frame is not ITCH; [`ReplayError::Output`] when an
/// output cannot be written. Bad records inside the stream are counted in the summary instead.
pub fn replay_itch<R: Read>(
    reader: FrameReader<R>,
    opts: ItchReplayOptions<'_>,
) -> Result<Summary, ReplayError> {
    replay_itch_with(reader, opts, NoStrategy)
}

/// [`replay_itch`] running `strategy` on every book update and trade; its signals go into the
/// digest and the signal sink.
///
/// # Errors
/// As [`replay_itch`].
pub fn replay_itch_with<R: Read, S: Strategy>(
    mut reader: FrameReader<R>,
    mut opts: ItchReplayOptions<'_>,
    strategy: S,
) -> Result<Summary, ReplayError> {
    let started = Instant::now();
    let mut decoder = opts.decoder();
    let name = strategy.name();
    let mut book = BookStage::with_strategy_and_sim(strategy, opts.sim_config());
    let mut output = opts.output_stage(name)?;
    let mut errors = ErrorCounts::default();
    let loop_started = Instant::now();
    frame_loop(
        &mut reader,
        &mut decoder,
        &mut book,
        &mut output,
        &mut errors,
        opts.progress.as_mut(),
    )?;
    let loop_s = loop_started.elapsed().as_secs_f64();
    if let Some(p) = opts.progress.as_mut() {
        p(reader.bytes_read());
    }
    output.finish().map_err(csv_err)?;
    errors.add_decoder(&decoder);
    errors.add_book(&book.errors);
    let mut summary = summarize(
        &decoder,
        &[&book],
        &output,
        errors,
        &opts.symbols,
        opts.top_n,
        reader.bytes_read(),
        started,
    );
    summary.end_of_session = reader.end_of_session();
    summary.strategy = (name != "none").then(|| name.to_owned());
    summary.loop_s = loop_s;
    finish_backtest(
        &mut summary,
        &mut output,
        &[&book],
        opts.backtest.take(),
        loop_s,
    );
    Ok(summary)
}

/// The replay loop over every frame of `reader`: decode, book, strategy and simulator,
/// outputs. Framing problems are counted in `errors`.
#[inline]
fn frame_loop<R: Read, S: Strategy>(
    reader: &mut FrameReader<R>,
    decoder: &mut DecodeStage,
    book: &mut BookStage<S>,
    output: &mut OutputStage<'_>,
    errors: &mut ErrorCounts,
    mut progress: Option<&mut Box<dyn FnMut(u64) + '_>>,
) -> Result<(), ReplayError> {
    let mut io_error: Option<std::io::Error> = None;
    while let Some(frame) = reader.next_frame() {
        let frame = match frame {
            Ok(f) => f,
            Err(e) => match errors.frame_error(e, decoder.messages) {
                FrameFlow::Skip => continue,
                FrameFlow::Stop => break,
                FrameFlow::NotItch(why) => return Err(ReplayError::NotItch(why)),
            },
        };
        let ev = decoder.on_frame(frame.bytes);
        if decoder.messages & 0xFFFF == 0 {
            if let Some(p) = progress.as_mut() {
                p(reader.bytes_read());
            }
        }
        let Some(ev) = ev else { continue };
        book.on_event(&ev, &mut |o| {
            if io_error.is_none() {
                if let Err(e) = output.on_output(&o) {
                    io_error = Some(e);
                }
            }
        });
        if let Some(e) = io_error.take() {
            return Err(csv_err(e));
        }
    }
    Ok(())
}

/// A backtest engine kept across runs, for running many backtests (parameter sweeps,
/// benchmarks) over inputs already in memory: its stages are built once, and each run starts
/// from a reset that gives exactly the state of new stages (same summary, same digest) while
/// keeping their memory, so a run does not pay for building and touching the order table again.
/// No BBO CSV, signal sink or symbol selection: the summary and the backtest results only.
pub struct ItchEngine<S: Strategy> {
    book: BookStage<S>,
    output: OutputStage<'static>,
    backtest: Option<crate::backtest::BacktestOptions>,
    /// Seconds the last [`ItchEngine::run`] spent resetting the stages before its loop.
    pub setup_s: f64,
}

impl<S: Strategy> ItchEngine<S> {
    /// An engine for strategies like `strategy` (each run takes its own instance), backtested with `backtest` (`None`: orders are simulated
    /// with the default simulator but not accounted, as in [`replay_itch_with`]).
    pub fn new(strategy: S, backtest: Option<crate::backtest::BacktestOptions>) -> Self {
        let sim = backtest.as_ref().map(|b| b.sim.clone()).unwrap_or_default();
        let output = OutputStage::without_sinks(&[]).with_backtest(backtest.as_ref());
        ItchEngine {
            book: BookStage::with_strategy_and_sim(strategy, sim),
            output,
            backtest,
            setup_s: 0.0,
        }
    }

    /// Replays `reader` with `strategy` (a fresh instance: strategies keep state), resetting
    /// the stages first when they have run before. The summary is what [`replay_itch_with`]
    /// gives for the same input, strategy and options; `loop_s` times the replay loop alone.
    ///
    /// # Errors
    /// As [`replay_itch`].
    pub fn run<R: Read>(
        &mut self,
        strategy: S,
        mut reader: FrameReader<R>,
    ) -> Result<Summary, ReplayError> {
        let started = Instant::now();
        // Cheap on a new engine (nothing used yet); on a used one, it clears what the last
        // run touched.
        self.book.reset(strategy);
        self.output.reset(self.backtest.as_ref());
        self.setup_s = started.elapsed().as_secs_f64();
        let mut decoder = DecodeStage::new();
        let mut errors = ErrorCounts::default();
        let loop_started = Instant::now();
        let r = self.frame_loop(&mut reader, &mut decoder, &mut errors);
        let loop_s = loop_started.elapsed().as_secs_f64();
        r?;
        errors.add_decoder(&decoder);
        errors.add_book(&self.book.errors);
        let name = self.book.runner.strategy.name();
        let mut summary = summarize(
            &decoder,
            &[&self.book],
            &self.output,
            errors,
            &[],
            0,
            reader.bytes_read(),
            started,
        );
        summary.end_of_session = reader.end_of_session();
        summary.strategy = (name != "none").then(|| name.to_owned());
        summary.loop_s = loop_s;
        finish_backtest(
            &mut summary,
            &mut self.output,
            &[&self.book],
            self.backtest.clone(),
            loop_s,
        );
        Ok(summary)
    }

    /// The loop, kept out of line so that profiles can single it out.
    #[inline(never)]
    fn frame_loop<R: Read>(
        &mut self,
        reader: &mut FrameReader<R>,
        decoder: &mut DecodeStage,
        errors: &mut ErrorCounts,
    ) -> Result<(), ReplayError> {
        frame_loop(
            reader,
            decoder,
            &mut self.book,
            &mut self.output,
            errors,
            None,
        )
    }
}

/// Closes the backtest's books and puts its results into `summary`.
pub(crate) fn finish_backtest<S: Strategy>(
    summary: &mut Summary,
    output: &mut OutputStage<'_>,
    shards: &[&BookStage<S>],
    opts: Option<crate::backtest::BacktestOptions>,
    loop_s: f64,
) {
    let counts = crate::backtest::sum_counts(shards.iter().map(|s| &s.sim.counts));
    summary.fills = output.counts.fills;
    summary.order_updates = output.counts.order_updates;
    let (Some(opts), Some(mut rec)) = (opts, output.backtest.take()) else {
        return;
    };
    if counts.submitted == 0 {
        // A signal-only strategy: nothing was traded, so there is no backtest to report.
        return;
    }
    rec.finish(output.last_ts);
    summary.backtest = Some(crate::backtest::BacktestSummary::from_run(
        summary.messages,
        loop_s,
        &counts,
        &rec,
        &opts,
    ));
    summary.backtest_data = Some(rec.take_data(opts, counts));
}

/// Builds the summary from the stages' state (shared by the inline and threaded runs).
#[allow(clippy::too_many_arguments)] // every argument is a distinct piece of the finished run
pub fn summarize<S: Strategy>(
    decoder: &DecodeStage,
    shards: &[&BookStage<S>],
    output: &OutputStage<'_>,
    errors: ErrorCounts,
    symbols: &[String],
    top_n: usize,
    bytes: u64,
    started: Instant,
) -> Summary {
    let top_n = if top_n == 0 { 10 } else { top_n };
    // The most active selected symbols, ties broken by locate so the list is deterministic.
    let mut active: Vec<(u64, usize, usize)> = Vec::new();
    for (si, shard) in shards.iter().enumerate() {
        for (i, &n) in shard.activity.iter().enumerate() {
            if n > 0 && output.is_selected(InstrumentIdx(i as u32)) {
                active.push((n, i, si));
            }
        }
    }
    active.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let top_symbols = active
        .iter()
        .take(top_n)
        .map(|&(events, i, si)| {
            let instr = InstrumentIdx(i as u32);
            let t = shards[si].books.top(instr);
            BboLine {
                symbol: output
                    .symbol(instr)
                    .map_or_else(|| format!("#{i}"), str::to_owned),
                locate: i as u16,
                events,
                bid: t.bid.map(|l| (l.px.0, l.qty.0)),
                ask: t.ask.map(|l| (l.px.0, l.qty.0)),
            }
        })
        .collect();
    let elapsed = started.elapsed().as_secs_f64();
    let by_type = MESSAGE_TYPES
        .iter()
        .zip(decoder.counts)
        .filter(|(_, n)| *n > 0)
        .map(|(&(ty, _), n)| ((ty as char).to_string(), n))
        .collect();
    Summary {
        format: "itch5".into(),
        messages: decoder.messages,
        by_type,
        symbols: decoder.symbols() as u64,
        selected_symbols: if symbols.is_empty() {
            None
        } else {
            Some(symbols.to_vec())
        },
        unmatched_symbols: output.unmatched(),
        book_events: shards.iter().map(|s| s.book_events).sum(),
        resting_orders: shards.iter().map(|s| s.books.orders().len()).sum(),
        trades: output.counts.trades,
        volume: output.counts.volume,
        cross_volume: output.counts.cross_volume,
        bbo_changes: output.counts.bbo_changes,
        status_changes: output.counts.status_changes,
        strategy: None,
        signals: output.counts.signals,
        order_intents: shards.iter().map(|s| s.order_intents()).sum(),
        dropped_actions: shards.iter().map(|s| s.dropped_actions()).sum(),
        fills: 0,
        order_updates: 0,
        backtest: None,
        backtest_data: None,
        last_ts_exch_ns: output.last_ts.0,
        top_symbols,
        errors,
        bytes,
        end_of_session: false,
        elapsed_s: elapsed,
        loop_s: elapsed,
        msgs_per_sec: if elapsed > 0.0 {
            decoder.messages as f64 / elapsed
        } else {
            0.0
        },
        digest: output.digest.hex(),
    }
}
