//! Flags several commands share: the pipeline layout, range-checked numbers, durations.

use clap::Args;
use ticklane_engine::config::{Bound, Range};
use ticklane_engine::wait::WaitStrategy;
use ticklane_replay::stages::pipeline::PipelineConfig;

/// How the threaded pipeline is laid out (shared by `replay` and `bench latency`).
#[derive(Args)]
pub(crate) struct LayoutArgs {
    /// Book shards for the threaded pipeline (instruments are split by locate modulo N); 1..=64.
    #[arg(long, default_value_t = 1, value_parser = in_range("--shards", PipelineConfig::SHARDS))]
    pub(crate) shards: u16,
    /// Cores to pin the stages to, in order: decode, shard 0..N-1, output. E.g. --cores 2,3,4
    /// (each 0..=1023).
    #[arg(long, value_delimiter = ',', value_parser = in_range("--cores", PipelineConfig::CORE))]
    pub(crate) cores: Vec<usize>,
    /// How stages wait on rings: spin (only on dedicated cores), yield (spin then yield), park.
    #[arg(long, default_value = "yield", ignore_case = true, value_parser = wait_strategy())]
    pub(crate) wait: WaitStrategy,
}

/// The parser of `--wait`: one of its names (listed by `--help` and in the error for any other
/// value), parsed by [`WaitStrategy`]'s own `FromStr`.
fn wait_strategy() -> impl clap::builder::TypedValueParser<Value = WaitStrategy> {
    use clap::builder::{PossibleValue, TypedValueParser};
    clap::builder::PossibleValuesParser::new([
        PossibleValue::new("spin")
            .alias("busy-spin")
            .help("spin on the ring (only on dedicated cores)"),
        PossibleValue::new("yield")
            .alias("spin-then-yield")
            .help("spin, then yield the core"),
        PossibleValue::new("park").help("spin, yield, then nap (stages that may idle for long)"),
    ])
    .try_map(|s| s.parse::<WaitStrategy>())
}

/// A clap value parser for a numeric flag that accepts `range`'s values only: out of range, the
/// error names the flag, the value and the range, as a config key's does.
pub(crate) fn in_range<T>(
    flag: &'static str,
    range: Range<T>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: Bound + std::str::FromStr + Send + Sync + 'static,
    T::Err: std::fmt::Display,
{
    move |s: &str| {
        let v = s.parse::<T>().map_err(|e| e.to_string())?;
        range.check(flag, v).map_err(|e| e.to_string())
    }
}

/// `--max-time-jump`: a duration with a unit (ms, s, m, h, d), in nanoseconds, within
/// [`ticklane_engine::event_time::MAX_TIME_JUMP_RANGE_NS`].
pub(crate) fn parse_time_jump(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a duration such as 90s, 30m, 6h or 2d"))?;
    let scale: u64 = match unit {
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(format!("{s:?} needs a unit: ms, s, m, h or d (e.g. 6h)")),
    };
    let range = ticklane_engine::event_time::MAX_TIME_JUMP_RANGE_NS;
    match n.checked_mul(scale) {
        Some(ns) if range.contains(&ns) => Ok(ns),
        _ => Err(format!("{s} is out of range 1ms..=400d")),
    }
}
