//! A strategy written outside ticklane, with the whole ticklane command line built around it:
//! buy when the spread is at its narrowest (at most `max_spread` price ticks) with more size on
//! the bid than the ask, sell on the mirror image: a signal, and a market order of `size` lots
//! unless the position would pass `max_position` (0: signals only). It implements
//! `ticklane_engine::strategy::Strategy`, is registered by name beside the built-ins, and
//! `main` hands the registry to `ticklane::cli::main_with`:
//!
//! ```text
//! plugin replay data/AAPL_2012-06-21_lobster10.itch --strategy tight_spread_pressure
//! plugin replay FILE --strategy tight_spread_pressure --strategy-config tsp.toml --report out/
//! plugin verify out/manifest.json
//! plugin live --config live.toml        # [strategy] name = "tight_spread_pressure"
//! ```

use std::process::ExitCode;

use ticklane_engine::config::Range;
use ticklane_engine::strategy::{Ctx, OrderIntent, Signal, SignalKind, Strategy, Tif};
use ticklane_engine::{Qty, Side};
use ticklane_strategies::registry::{parse_config, KeyInfo, Registry, RegistryError, StrategyInfo};

// The binary chooses the allocator, as ticklane's own does.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The name the strategy is registered under.
const NAME: &str = "tight_spread_pressure";

/// Its configuration (`--strategy-config`, `[strategy.params]` of a live config, or
/// `[strategy.config]` of a run spec); unknown keys are an error naming them.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct TightSpreadConfig {
    /// Widest spread that counts as tight, price ticks.
    max_spread: i64,
    /// Lots per order.
    size: i64,
    /// Largest position either way, lots (0: signals only).
    max_position: i64,
}

impl TightSpreadConfig {
    /// Valid `max_spread`.
    const MAX_SPREAD: Range<i64> = Range::new(1, 1_000_000_000, "widest tight spread, price ticks");
    /// Valid `size`.
    const SIZE: Range<i64> = Range::new(1, 1_000_000_000, "lots per order");
    /// Valid `max_position`.
    const MAX_POSITION: Range<i64> = Range::new(0, 1_000_000_000, "largest position, lots");
}

impl Default for TightSpreadConfig {
    fn default() -> Self {
        TightSpreadConfig {
            // ITCH prices are 1/10000 USD: one cent is 100 ticks.
            max_spread: 100,
            size: 100,
            max_position: 500,
        }
    }
}

/// Tight-spread pressure: the signal fires when the state changes, per instrument.
struct TightSpreadPressure {
    cfg: TightSpreadConfig,
    /// Last state per instrument: -1 sell, 0 none, 1 buy.
    last: Vec<i8>,
    /// The last client order id sent.
    last_id: u64,
}

impl Strategy for TightSpreadPressure {
    fn name(&self) -> &'static str {
        NAME
    }

    fn on_book(&mut self, ctx: &mut Ctx<'_>) {
        let top = ctx.book.top();
        let (Some(b), Some(a)) = (top.bid, top.ask) else {
            return;
        };
        let state: i8 = if a.px.0 - b.px.0 > self.cfg.max_spread {
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
            let size = self.cfg.size;
            let after = ctx.position + if state > 0 { size } else { -size };
            if after.abs() <= self.cfg.max_position {
                self.last_id += 1;
                ctx.order(OrderIntent {
                    client_id: self.last_id,
                    side,
                    px: None,
                    qty: Qty(size.unsigned_abs()),
                    tif: Tif::Ioc,
                });
            }
        }
        self.last[i] = state;
    }
}

/// Builds the strategy from its configuration text (`None`: the defaults).
fn build(config: Option<&str>) -> Result<Box<dyn Strategy + Send>, RegistryError> {
    type C = TightSpreadConfig;
    let cfg: C = parse_config(NAME, config)?;
    let range = |error| RegistryError::Range { name: NAME, error };
    C::MAX_SPREAD
        .check("max_spread", cfg.max_spread)
        .map_err(range)?;
    C::SIZE.check("size", cfg.size).map_err(range)?;
    C::MAX_POSITION
        .check("max_position", cfg.max_position)
        .map_err(range)?;
    Ok(Box::new(TightSpreadPressure {
        cfg,
        last: Vec::new(),
        last_id: 0,
    }))
}

fn main() -> ExitCode {
    type C = TightSpreadConfig;
    let key = |key, default: i64, range: Range<i64>| KeyInfo {
        key,
        default: default.to_string(),
        range: range.to_string(),
        meaning: range.what,
    };
    let d = C::default();
    let info = StrategyInfo {
        name: NAME,
        about: "take when the spread is at most max_spread and one side of the top is larger",
        keys: vec![
            key("max_spread", d.max_spread, C::MAX_SPREAD),
            key("size", d.size, C::SIZE),
            key("max_position", d.max_position, C::MAX_POSITION),
        ],
    };
    let mut registry = Registry::builtins();
    if let Err(e) = registry.register(info, build) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    ticklane::cli::main_with(registry)
}
