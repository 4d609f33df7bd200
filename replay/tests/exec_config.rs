//! The backtest configuration's numeric keys: every one out of range is an error naming the key,
//! the value and the range; both ends of every range are accepted; the example file loads.

use std::path::Path;

use ticklane_replay::backtest::{
    ExecConfig, ExecConfigError, FeeConfig, LatencyConfig, QueueConfig,
};

/// `(key = bad value, what the error must say)`, for every numeric key: below and above its
/// range, NaN and infinities for floats.
const BAD: &[(&str, &str)] = &[
    (
        "capital = 0",
        "capital = 0 is out of range 1..=1000000000000 (starting capital",
    ),
    ("capital = -5", "capital = -5 is out of range"),
    ("capital = nan", "capital = nan is out of range"),
    ("capital = inf", "capital = inf is out of range"),
    ("capital = 1e13", "capital = 10000000000000 is out of range"),
    (
        "ticks_per_unit = 0",
        "ticks_per_unit = 0 is out of range 1..=1000000000",
    ),
    ("ticks_per_unit = -1", "ticks_per_unit = -1 is out of range"),
    (
        "ticks_per_unit = 9223372036854775807",
        "ticks_per_unit = 9223372036854775807",
    ),
    (
        "lots_per_unit = 0",
        "lots_per_unit = 0 is out of range 1..=1000000000",
    ),
    (
        "lots_per_unit = 1000000001",
        "lots_per_unit = 1000000001 is out of range",
    ),
    (
        "sample_interval_ns = 0",
        "sample_interval_ns = 0 is out of range 10000000..=86400000000000",
    ),
    (
        "sample_interval_ns = 1",
        "sample_interval_ns = 1 is out of range",
    ),
    (
        "sample_interval_ns = 9999999",
        "sample_interval_ns = 9999999 is out of range",
    ),
    (
        "sample_interval_ns = 86400000000001",
        "sample_interval_ns = 86400000000001 is out of range",
    ),
    (
        "periods_per_year = -1",
        "periods_per_year = -1 is out of range 0..=100000000000",
    ),
    (
        "periods_per_year = nan",
        "periods_per_year = nan is out of range",
    ),
    (
        "periods_per_year = inf",
        "periods_per_year = inf is out of range",
    ),
    (
        "feed_latency_ns = 60000000001",
        "feed_latency_ns = 60000000001 is out of range 0..=60000000000",
    ),
    (
        "feed_latency_ns = 9223372036854775807",
        "feed_latency_ns = 9223372036854775807",
    ),
    (
        "latency.entry_ns = 60000000001",
        "latency.entry_ns = 60000000001 is out of range 0..=60000000000",
    ),
    (
        "latency.response_ns = 9223372036854775807",
        "latency.response_ns = 9223372036854775807 is out",
    ),
    (
        "latency.new_ns = 60000000001",
        "latency.new_ns = 60000000001 is out of range",
    ),
    (
        "latency.cancel_ns = 60000000001",
        "latency.cancel_ns = 60000000001 is out of range",
    ),
    (
        "latency.modify_ns = 60000000001",
        "latency.modify_ns = 60000000001 is out of range",
    ),
    (
        "queue.power = 0",
        "queue.power = 0 is out of range 0.1..=10",
    ),
    ("queue.power = -3", "queue.power = -3 is out of range"),
    ("queue.power = nan", "queue.power = nan is out of range"),
    ("queue.power = 11", "queue.power = 11 is out of range"),
    (
        "fees.maker_bps = nan",
        "fees.maker_bps = nan is out of range -100..=100",
    ),
    (
        "fees.maker_bps = -101",
        "fees.maker_bps = -101 is out of range",
    ),
    (
        "fees.taker_bps = 1e9",
        "fees.taker_bps = 1000000000 is out of range -100..=100",
    ),
    (
        "fees.taker_bps = inf",
        "fees.taker_bps = inf is out of range",
    ),
    (
        "fees.maker_per_lot = -inf",
        "fees.maker_per_lot = -inf is out of range -1000000..=1000000",
    ),
    (
        "fees.maker_per_lot = -1000001",
        "fees.maker_per_lot = -1000001 is out of range",
    ),
    (
        "fees.taker_per_lot = 1e300",
        "fees.taker_per_lot = 1e300 is out of range",
    ),
    (
        "fees.taker_per_lot = nan",
        "fees.taker_per_lot = nan is out of range",
    ),
];

/// Every numeric key with its range.
fn ranges() -> Vec<(&'static str, String)> {
    vec![
        ("capital", ExecConfig::CAPITAL.to_string()),
        ("ticks_per_unit", ExecConfig::PER_UNIT.to_string()),
        ("lots_per_unit", ExecConfig::PER_UNIT.to_string()),
        (
            "sample_interval_ns",
            ExecConfig::SAMPLE_INTERVAL_NS.to_string(),
        ),
        ("periods_per_year", ExecConfig::PERIODS_PER_YEAR.to_string()),
        ("feed_latency_ns", ExecConfig::FEED_LATENCY_NS.to_string()),
        ("latency.entry_ns", LatencyConfig::LATENCY_NS.to_string()),
        ("latency.response_ns", LatencyConfig::LATENCY_NS.to_string()),
        ("latency.new_ns", LatencyConfig::LATENCY_NS.to_string()),
        ("latency.cancel_ns", LatencyConfig::LATENCY_NS.to_string()),
        ("latency.modify_ns", LatencyConfig::LATENCY_NS.to_string()),
        ("queue.power", QueueConfig::POWER.to_string()),
        ("fees.maker_bps", FeeConfig::BPS.to_string()),
        ("fees.taker_bps", FeeConfig::BPS.to_string()),
        ("fees.maker_per_lot", FeeConfig::PER_LOT.to_string()),
        ("fees.taker_per_lot", FeeConfig::PER_LOT.to_string()),
    ]
}

fn options(text: &str) -> Result<(), ExecConfigError> {
    ExecConfig::parse(text)?
        .to_options(Path::new("."))
        .map(|_| ())
}

#[test]
fn every_numeric_key_out_of_range_is_an_error_naming_key_value_and_range() {
    for (line, want) in BAD {
        let e = options(line)
            .err()
            .unwrap_or_else(|| panic!("{line} was accepted"));
        assert!(matches!(e, ExecConfigError::Range(_)), "{line}: {e}");
        let e = e.to_string();
        assert!(e.starts_with(want), "{line}: {e}");
    }
    // Every key has a case.
    for (key, _) in ranges() {
        assert!(
            BAD.iter().any(|(l, _)| l.starts_with(&format!("{key} ="))),
            "{key} has no out-of-range case"
        );
    }
}

#[test]
fn both_ends_of_every_range_are_accepted() {
    for (key, range) in ranges() {
        let (min, max) = range.split_once("..=").unwrap();
        for v in [min, max] {
            let line = format!("{key} = {v}");
            if let Err(e) = options(&line) {
                panic!("{line}: {e}");
            }
        }
    }
    // The probabilistic model with its extreme exponents, too.
    for p in ["0.1", "10"] {
        options(&format!(
            "[queue]\nmodel = \"probabilistic\"\npower = {p}\n"
        ))
        .unwrap();
    }
}

#[test]
fn the_example_and_the_defaults_load() {
    let text = include_str!("../../data/exec-example.toml");
    options(text).unwrap();
    ExecConfig::default().validate().unwrap();
    options("").unwrap();
}

#[test]
fn the_reference_documents_every_key_with_its_range() {
    let doc = include_str!("../../docs/config.md");
    for (key, range) in ranges() {
        let row = format!("| `{key}` | ");
        let line = doc.lines().find(|l| l.starts_with(&row));
        assert!(
            line.is_some_and(|l| l.contains(&format!(" | {range}"))),
            "docs/config.md: no row {row}... | {range}"
        );
    }
}
