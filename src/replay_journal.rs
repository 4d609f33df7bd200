//! `ticklane replay JOURNAL`: a capture journal (told by its magic bytes) replayed through the
//! live feed's arbiter and the replay stages (ITCH), or through the websocket runner's session
//! (a journal whose first record names a websocket venue); prints the same summary and digest
//! as the run that recorded it.

use std::io::Read;
use std::path::Path;

use anyhow::Context;
use ticklane_replay::live_ws::{WsBacktest, WsRunError, WsVenue};

use crate::{input_failure, Failure, ReplayArgs};

/// True when the file at `path` starts with the journal magic (plain, not gzip).
pub(crate) fn is_journal(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && ticklane_feeds::journal::is_journal(&head)
}

/// Replays the journal `a.file`, with `a.strategy` when given.
pub(crate) fn replay(a: &ReplayArgs) -> Result<u8, Failure> {
    let (path, strategy, strict) = (a.file.as_path(), a.strategy.as_deref(), a.strict);
    let ws = std::fs::File::open(path)
        .ok()
        .and_then(|f| ticklane_replay::live_ws::ws_journal_venue(std::io::BufReader::new(f)));
    if let Some(venue) = ws {
        return replay_ws(a, venue);
    }
    // The ITCH live daemon runs its strategy's orders through the default simulator, with no
    // execution config and no accounting, so its journal replays the same way: options that
    // only a backtest has are refused, not ignored.
    let refused = [
        ("--exec-config", a.exec_config.is_some()),
        ("--queue", a.queue.is_some()),
        ("--report", a.report.is_some()),
        ("--signals", a.signals.is_some()),
        ("--max-time-jump", a.max_time_jump.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(Failure {
            code: 2,
            err: anyhow::anyhow!(
                "{flag} is not available on an ITCH journal replay (it re-drives the live \
                 daemon's path: books, the strategy, the default simulator, no accounting); \
                 backtest the published file with `ticklane replay FILE --strategy NAME {flag} ...`"
            ),
        });
    }
    let input = ticklane_replay::input::open(path).map_err(input_failure)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let mut opts = ticklane_replay::ItchReplayOptions::default();
    if let Some(p) = &a.bbo_csv {
        opts.bbo_csv = Some(Box::new(crate::create(p)?));
    }
    let run = match strategy {
        Some(name) => {
            // The live run's `[strategy]` keys, as a file: the same strategy, the same digest.
            let cfg = match &a.strategy_config {
                Some(p) => Some(crate::read_config("--strategy-config", p)?),
                None => None,
            };
            let s = ticklane_strategies::build(name, cfg.as_deref()).map_err(|e| Failure {
                code: 2,
                err: e.into(),
            })?;
            ticklane_replay::journal::replay_journal_with(reader, opts, s)
        }
        None => ticklane_replay::journal::replay_journal_with(
            reader,
            opts,
            ticklane_engine::strategy::NoStrategy,
        ),
    };
    let (summary, stats) = run
        .with_context(|| format!("{}", path.display()))
        .map_err(input_failure)?;
    println!("journal:       {stats}");
    println!("{summary}");
    let bad = stats.corrupt + stats.unknown_kind + u64::from(stats.stopped_early.is_some());
    if strict && (bad > 0 || summary.errors.total() > 0) {
        return Ok(crate::exit::DATA);
    }
    Ok(0)
}

/// Replays a websocket journal through the live runner's session, with the strategy of
/// `--strategy` paper-trading as the live run's `[strategy]` did.
fn replay_ws(a: &ReplayArgs, venue: WsVenue) -> Result<u8, Failure> {
    let (path, strict) = (a.file.as_path(), a.strict);
    if a.max_time_jump.is_some() {
        return Err(Failure {
            code: 2,
            err: anyhow::anyhow!(
                "--max-time-jump is not available on a journal replay: it re-drives the live \
                 daemon's path, whose receive times are held to the default bound (6h)"
            ),
        });
    }
    if a.report.is_some() || a.signals.is_some() {
        return Err(Failure {
            code: 2,
            err: anyhow::anyhow!(
                "--report and --signals are not available on a websocket journal replay (the \
                 summary, its strategy and backtest lines and the digest are); backtest a \
                 capture with `ticklane replay --format binance|coinbase FILE --report DIR`"
            ),
        });
    }
    let plan = crate::crypto::l2_backtest(
        a,
        crate::backtest::DataPlan {
            l2_format: Some(match venue {
                WsVenue::Coinbase => "coinbase",
                WsVenue::Binance | WsVenue::BinanceFutures => "binance",
            }),
            queue: a.queue.as_deref(),
            ..Default::default()
        },
    )?;
    let backtest = plan.map(|(s, p)| -> WsBacktest<'_> { (s, p.options) });
    let input = ticklane_replay::input::open(path).map_err(input_failure)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let counters = ticklane_replay::live_ws::WsCounters::default();
    let (summary, stats) =
        ticklane_replay::live_ws::replay_ws_journal(reader, false, None, &counters, backtest)
            .map_err(|e| match e {
                WsRunError::Backtest(_) => Failure {
                    code: 2,
                    err: e.into(),
                },
                other => {
                    input_failure(anyhow::Error::new(other).context(format!("{}", path.display())))
                }
            })?;
    println!("journal:       {stats}");
    println!("{summary}");
    let bad = stats.corrupt + stats.unknown_kind + u64::from(stats.stopped_early.is_some());
    if strict && bad > 0 {
        return Ok(crate::exit::DATA);
    }
    Ok(0)
}
