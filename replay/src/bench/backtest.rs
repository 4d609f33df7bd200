//! The replay loop of a backtest (decode, book, strategy, execution simulator, ledger, digest)
//! against the same loop without a strategy, alternating in one process: what
//! `ticklane bench backtest` measures.
//!
//! Each variant runs on an engine built once and reset before every run (what a user running
//! many backtests over data in memory sees: [`ItchEngine`]); the reset, building the strategy
//! and a cold one-shot run (stages built per run, as a replay does) are timed and reported
//! separately. The digest of every run must equal a one-shot run's.

use std::fmt;
use std::time::Instant;

use ticklane_engine::strategy::{NoStrategy, Strategy};
use ticklane_feeds::itch::framing::FrameReader;

use crate::backtest::BacktestOptions;
use crate::{replay_itch, replay_itch_with, ItchEngine, ItchReplayOptions, ReplayError};

/// Why the bench stopped.
#[derive(Debug, thiserror::Error)]
pub enum BacktestBenchError {
    /// A replay failed.
    #[error(transparent)]
    Replay(#[from] ReplayError),
    /// A reused engine's run gave another digest than the one-shot run: the reset is broken.
    #[error("the digest of {what} differs from a one-shot run's: {want} then {got}")]
    DigestChanged {
        /// Which run.
        what: &'static str,
        /// The one-shot run's digest.
        want: String,
        /// This run's.
        got: String,
    },
}

/// What [`run`] measured; its `Display` is the report `ticklane bench backtest` prints after
/// the input line.
#[derive(Clone, Debug)]
pub struct BacktestBench {
    /// The strategy's name.
    pub strategy: String,
    /// Events per run.
    pub events: u64,
    /// Timed runs of each variant.
    pub runs: u32,
    /// The backtest loop, seconds: median and best.
    pub backtest_s: (f64, f64),
    /// The loop without a strategy, seconds: median and best.
    pub bare_s: (f64, f64),
    /// Building both engines once, seconds.
    pub built_s: f64,
    /// Resetting an engine before a run, seconds (median).
    pub reset_s: f64,
    /// Building the strategy for a run, seconds (median).
    pub strategy_s: f64,
    /// The cold one-shot run's loop, seconds.
    pub cold_loop_s: f64,
    /// The cold one-shot run in all (stages built first), seconds.
    pub cold_total_s: f64,
    /// The digest every backtest run gave.
    pub digest: String,
}

/// Times `runs` runs of the backtest of `build()`'s strategy (named `strategy` in the report)
/// with `options` over `data` (an ITCH 5.0 BinaryFILE in memory) and as many without a
/// strategy, alternating, after a cold one-shot run of each whose digests every later run must
/// give.
///
/// # Errors
/// [`BacktestBenchError::Replay`] when a replay fails; [`BacktestBenchError::DigestChanged`]
/// when a reused engine's run differs from the one-shot run.
pub fn run<S: Strategy>(
    data: &[u8],
    strategy: &str,
    options: &BacktestOptions,
    runs: u32,
    mut build: impl FnMut() -> S,
) -> Result<BacktestBench, BacktestBenchError> {
    let changed = |what, want: &str, got: &str| BacktestBenchError::DigestChanged {
        what,
        want: want.to_owned(),
        got: got.to_owned(),
    };
    // A cold one-shot run first: stages built, tables touched for the first time.
    let t = Instant::now();
    let cold = replay_itch_with(
        FrameReader::new(data),
        ItchReplayOptions {
            backtest: Some(options.clone()),
            ..Default::default()
        },
        build(),
    )?;
    let cold_total_s = t.elapsed().as_secs_f64();
    let events = cold.messages;
    let digest = cold.digest.clone();
    let bare_digest = replay_itch(FrameReader::new(data), Default::default())?.digest;

    let t = Instant::now();
    let mut engine = ItchEngine::new(build(), Some(options.clone()));
    let mut bare = ItchEngine::new(NoStrategy, None);
    let built_s = t.elapsed().as_secs_f64();

    let runs = runs.max(1);
    let (mut with, mut without) = (Vec::new(), Vec::new());
    let (mut resets, mut strategy_s) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        let t = Instant::now();
        let s = build();
        strategy_s.push(t.elapsed().as_secs_f64());
        let r = engine.run(s, FrameReader::new(data))?;
        resets.push(engine.setup_s);
        with.push(r.loop_s);
        if r.digest != digest {
            return Err(changed("a reused engine's run", &digest, &r.digest));
        }
        let r = bare.run(NoStrategy, FrameReader::new(data))?;
        without.push(r.loop_s);
        if r.digest != bare_digest {
            return Err(changed(
                "a reused engine's run without a strategy",
                &bare_digest,
                &r.digest,
            ));
        }
    }
    let stat = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[0])
    };
    Ok(BacktestBench {
        strategy: strategy.to_owned(),
        events,
        runs,
        backtest_s: stat(&mut with),
        bare_s: stat(&mut without),
        built_s,
        reset_s: stat(&mut resets).0,
        strategy_s: stat(&mut strategy_s).0,
        cold_loop_s: cold.loop_s,
        cold_total_s,
        digest,
    })
}

impl fmt::Display for BacktestBench {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rate = |s: f64| self.events as f64 / s;
        let ((wm, wb), (om, ob)) = (self.backtest_s, self.bare_s);
        writeln!(
            f,
            "backtest:   {:>12.0} events/s median, {:>12.0} best  ({} + execution simulator, ledger)",
            rate(wm),
            rate(wb),
            self.strategy
        )?;
        writeln!(
            f,
            "no strategy:{:>12.0} events/s median, {:>12.0} best  (decode, book, digest)",
            rate(om),
            rate(ob)
        )?;
        writeln!(
            f,
            "ratio:      {:.2}x the loop time of the replay without a strategy (median)",
            wm / om
        )?;
        writeln!(
            f,
            "setup:      engines built once in {:.1} ms (tables of both); per run, outside the loop: reset {:.1} us, strategy built {:.1} us (medians)",
            self.built_s * 1e3,
            self.reset_s * 1e6,
            self.strategy_s * 1e6
        )?;
        writeln!(
            f,
            "cold run:   {:>12.0} events/s in the loop of a one-shot replay (stages built first: {:.1} ms in all)",
            rate(self.cold_loop_s),
            self.cold_total_s * 1e3
        )?;
        writeln!(
            f,
            "digest: {} (every run equal to the one-shot run)",
            self.digest
        )
    }
}
