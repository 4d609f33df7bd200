//! `ticklane convert hftbacktest`: an ITCH 5.0 file as hftbacktest's native market-by-order
//! event array (an `.npz` holding one `.npy` named `data`). The conversion is the library's
//! (`ticklane_replay::convert::hftbacktest`); this is the command around it.

use std::path::PathBuf;

use anyhow::{anyhow, Context};
use clap::Args;
use ticklane_replay::convert::hftbacktest::{convert_itch, write_npz};

use crate::{create, input_failure, Failure};

/// Arguments of `ticklane convert hftbacktest`.
#[derive(Args)]
pub struct HftbacktestArgs {
    /// ITCH 5.0 BinaryFILE (plain or gzip).
    input: PathBuf,
    /// Output .npz (hftbacktest's native event array, member `data`).
    #[arg(short, long, value_name = "OUT.npz")]
    output: PathBuf,
    /// Only this symbol's book (hftbacktest backtests one book per asset). Default: every
    /// instrument, which is right for a one-symbol file.
    #[arg(long)]
    symbol: Option<String>,
}

/// Runs `ticklane convert hftbacktest`.
pub fn convert(a: HftbacktestArgs) -> Result<u8, Failure> {
    let input = ticklane_replay::run::input::open(&a.input).map_err(input_failure)?;
    let conv = convert_itch(input.reader, a.symbol.clone()).map_err(|e| {
        input_failure(anyhow::Error::new(e).context(format!("reading {}", a.input.display())))
    })?;
    if let (Some(s), false) = (&a.symbol, conv.symbol_seen()) {
        return Err(input_failure(anyhow!(
            "{}: no stock-directory message for symbol {s}; check the symbol (see `ticklane replay` for the most active ones)",
            a.input.display()
        )));
    }
    let out = create(&a.output)?;
    let file = out
        .into_inner()
        .map_err(|e| anyhow!("writing {}: {}", a.output.display(), e.error()))?;
    write_npz(file, &conv.rows).with_context(|| format!("writing {}", a.output.display()))?;
    eprintln!("wrote {}: {}", a.output.display(), conv.counts);
    Ok(0)
}
