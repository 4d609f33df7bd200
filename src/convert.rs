//! `ticklane convert lobster` and `ticklane gen itch`: making ITCH 5.0 files from LOBSTER's real
//! order flow and from the seeded synthetic generator.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context};
use clap::Args;
use flate2::write::GzEncoder;
use ticklane_engine::config::Range;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_feeds::lobster::parse_file_name;
use ticklane_feeds::lobster::to_itch::{convert, ConvertOptions};

use crate::{create, in_range, input_failure, Failure};

/// Valid `--locate`.
const LOCATE: Range<u16> = Range::new(1, u16::MAX, "stock locate");
/// Valid `--symbols` of the generators.
pub(crate) const SYMBOLS: Range<u16> = Range::new(1, 10_000, "generated symbols");
/// Valid `gen itch --messages`.
const MESSAGES: Range<u64> = Range::new(1, 10_000_000_000, "generated messages");

#[derive(Args)]
pub struct LobsterArgs {
    /// LOBSTER message file: TICKER_YYYY-MM-DD_start_end_message_N.csv (plain or gzip).
    message: PathBuf,
    /// The matching LOBSTER order-book file. It seeds the orders resting before the first
    /// message and the depth LOBSTER's message file never mentions (liquidity deeper than its
    /// levels that scrolls into view), as anonymous orders, so the re-encoded book matches
    /// LOBSTER's at every row. Without it the book starts empty.
    #[arg(long, value_name = "ORDERBOOK.csv")]
    orderbook: Option<PathBuf>,
    /// Symbol to use (default: from the file name).
    #[arg(long)]
    symbol: Option<String>,
    /// Stock locate (instrument index) to give the symbol (1..=65535).
    #[arg(long, default_value_t = 1, value_parser = in_range("--locate", LOCATE))]
    locate: u16,
    /// Output ITCH 5.0 BinaryFILE; gzip-compressed when the name ends in .gz.
    #[arg(short, long, value_name = "OUT.itch")]
    output: PathBuf,
}

#[derive(Args)]
pub struct GenItchArgs {
    /// Seed: the same seed always writes the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Number of symbols (activity is skewed: a few are much busier than the rest); 1..=10000.
    #[arg(long, default_value_t = 500, value_parser = in_range("--symbols", SYMBOLS))]
    symbols: u16,
    /// Number of order-flow messages (written as they are made: 1..=10000000000).
    #[arg(long, default_value_t = 10_000_000, value_parser = in_range("--messages", MESSAGES))]
    messages: u64,
    /// Output ITCH 5.0 BinaryFILE; gzip-compressed when the name ends in .gz.
    #[arg(short, long, value_name = "OUT.itch")]
    output: PathBuf,
}

fn open_text(path: &Path) -> Result<Box<dyn BufRead>, Failure> {
    let input = ticklane_replay::run::input::open(path).map_err(input_failure)?;
    Ok(Box::new(BufReader::with_capacity(1 << 16, input.reader)))
}

/// A sink that gzips when the path ends in `.gz`.
fn sink(path: &Path) -> anyhow::Result<Box<dyn Write>> {
    let w = create(path)?;
    if path.extension().is_some_and(|e| e == "gz") {
        Ok(Box::new(GzEncoder::new(w, flate2::Compression::default())))
    } else {
        Ok(Box::new(w))
    }
}

fn finish(mut w: Box<dyn Write>, path: &Path) -> anyhow::Result<()> {
    w.flush()
        .with_context(|| format!("writing {}", path.display()))
}

pub fn lobster(a: LobsterArgs) -> Result<u8, Failure> {
    let file_name = a
        .message
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let meta = parse_file_name(file_name);
    let symbol = match (&a.symbol, &meta) {
        (Some(s), _) => s.clone(),
        (None, Some(m)) => m.symbol.clone(),
        (None, None) => {
            return Err(input_failure(anyhow!(
                "{}: cannot tell the symbol from the file name (expected TICKER_YYYY-MM-DD_start_end_message_N.csv); pass --symbol",
                a.message.display()
            )))
        }
    };
    let mut orderbook = match &a.orderbook {
        Some(p) => Some(open_text(p)?),
        None => None,
    };
    let opts = ConvertOptions {
        symbol,
        locate: a.locate,
        resync: false,
    };
    let mut out = sink(&a.output)?;
    let stats = convert(
        open_text(&a.message)?,
        orderbook.as_mut().map(|b| &mut **b as &mut dyn BufRead),
        &opts,
        &mut out,
    )
    .map_err(|e| input_failure(anyhow!("{}: {e}", a.message.display())))?;
    finish(out, &a.output)?;
    eprintln!("wrote {}: {stats}", a.output.display());
    Ok(0)
}

pub fn gen_itch(a: GenItchArgs) -> Result<u8, Failure> {
    let cfg = SynthConfig {
        seed: a.seed,
        symbols: a.symbols,
        messages: a.messages,
        ..SynthConfig::default()
    };
    let mut out = sink(&a.output)?;
    let stats =
        generate(&cfg, &mut out).with_context(|| format!("writing {}", a.output.display()))?;
    finish(out, &a.output)?;
    eprintln!("wrote {}: {stats}", a.output.display());
    Ok(0)
}
