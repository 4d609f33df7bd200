//! A strategy written outside ticklane: buy when the spread is at its narrowest (one price step)
//! with more size on the bid than the ask, sell on the mirror image. It implements
//! `ticklane_engine::strategy::Strategy` and runs a replay of an ITCH file from its own `main`.

use std::process::ExitCode;

use ticklane_engine::strategy::{Ctx, Signal, SignalKind, Strategy};
use ticklane_engine::Side;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::{input, replay_itch_with, ItchReplayOptions};

/// Tight-spread pressure: the signal fires when the state changes, per instrument.
#[derive(Default)]
struct TightSpreadPressure {
    /// Last state per instrument: -1 sell, 0 none, 1 buy.
    last: Vec<i8>,
}

impl Strategy for TightSpreadPressure {
    fn name(&self) -> &'static str {
        "tight_spread_pressure"
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let top = ctx.book.top();
        let (Some(b), Some(a)) = (top.bid, top.ask) else {
            return;
        };
        // ITCH prices are 1/10000 USD: one cent is 100 ticks.
        let state: i8 = if a.px.0 - b.px.0 > 100 {
            0
        } else if b.qty > a.qty {
            1
        } else if a.qty > b.qty {
            -1
        } else {
            0
        };
        let i = ctx.instr.get();
        if self.last.len() <= i {
            self.last.resize(i + 1, 0);
        }
        if state != 0 && state != self.last[i] {
            let side = if state > 0 { Side::Bid } else { Side::Ask };
            ctx.signal(Signal {
                kind: SignalKind::Take,
                side: Some(side),
                value: (b.qty.0 as f64 - a.qty.0 as f64),
            });
        }
        self.last[i] = state;
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: ticklane-plugin-example FILE.itch");
        return ExitCode::from(2);
    };
    let inp = match input::open(path.as_ref()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(3);
        }
    };
    match replay_itch_with(
        FrameReader::new(inp.reader),
        ItchReplayOptions::default(),
        TightSpreadPressure::default(),
    ) {
        Ok(summary) => {
            println!("{summary}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}
