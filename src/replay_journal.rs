//! `ticklane replay JOURNAL`: a capture journal (told by its magic bytes) replayed through the
//! live feed's arbiter and the replay stages (ITCH), or through the websocket runner's session
//! (a journal whose first record names a websocket venue); prints the same summary and digest
//! as the run that recorded it.

use std::io::Read;
use std::path::Path;

use anyhow::Context;

use crate::{input_failure, Failure};

/// True when the file at `path` starts with the journal magic (plain, not gzip).
pub(crate) fn is_journal(path: &Path) -> bool {
    let mut head = [0u8; 8];
    std::fs::File::open(path)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && ticklane_feeds::journal::is_journal(&head)
}

/// Replays the journal at `path`, with `strategy` when given.
pub(crate) fn replay(path: &Path, strategy: Option<&str>, strict: bool) -> Result<u8, Failure> {
    let ws = std::fs::File::open(path)
        .ok()
        .and_then(|f| ticklane_replay::live_ws::ws_journal_venue(std::io::BufReader::new(f)));
    if ws.is_some() {
        return replay_ws(path, strict);
    }
    let input = ticklane_replay::input::open(path).map_err(input_failure)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let opts = ticklane_replay::ItchReplayOptions::default();
    let run = match strategy {
        Some(name) => {
            let s = ticklane_strategies::build(name, None).map_err(|e| Failure {
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

/// Replays a websocket journal through the live runner's session.
fn replay_ws(path: &Path, strict: bool) -> Result<u8, Failure> {
    let input = ticklane_replay::input::open(path).map_err(input_failure)?;
    let reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let counters = ticklane_replay::live_ws::WsCounters::default();
    let (summary, stats) =
        ticklane_replay::live_ws::replay_ws_journal(reader, false, None, &counters)
            .with_context(|| format!("{}", path.display()))
            .map_err(input_failure)?;
    println!("journal:       {stats}");
    println!("{summary}");
    let bad = stats.corrupt + stats.unknown_kind + u64::from(stats.stopped_early.is_some());
    if strict && bad > 0 {
        return Ok(crate::exit::DATA);
    }
    Ok(0)
}
