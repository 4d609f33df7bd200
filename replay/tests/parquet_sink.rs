//! The Parquet sink, read back by the `parquet` crate's own reader: every BBO change of the
//! BBO CSV of the same run, in order, with its exact integers and its decimals; trades with
//! their counts; several row groups when asked; bad options refused.

use std::path::{Path, PathBuf};

use parquet::basic::{ConvertedType, LogicalType};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::sink::parquet::{Clock, ParquetOptions, ParquetSink};
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions};
use ticklane_replay::venue::VenueFormat;
use ticklane_replay::{replay_itch, ItchReplayOptions};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ticklane-pq-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn rows(path: &Path) -> (Vec<Row>, usize) {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let groups = r.metadata().num_row_groups();
    let rows = r.get_row_iter(None).unwrap().map(Result::unwrap).collect();
    (rows, groups)
}

fn get<'r>(row: &'r Row, name: &str) -> &'r Field {
    row.get_column_iter()
        .find(|(n, _)| n.as_str() == name)
        .map(|(_, f)| f)
        .unwrap_or_else(|| panic!("no column {name}"))
}

fn int(row: &Row, name: &str) -> Option<i64> {
    match get(row, name) {
        Field::Long(v) => Some(*v),
        Field::Null => None,
        Field::TimestampMicros(_) | Field::TimestampMillis(_) => panic!("{name}: not ns"),
        other => panic!("{name}: {other:?}"),
    }
}

/// A DECIMAL column's unscaled value.
fn unscaled(row: &Row, name: &str) -> Option<i64> {
    match get(row, name) {
        Field::Decimal(d) => {
            let b = d.data();
            let mut v = if b.first().is_some_and(|x| x & 0x80 != 0) {
                -1i64
            } else {
                0
            };
            for x in b {
                v = (v << 8) | i64::from(*x);
            }
            Some(v)
        }
        Field::Null => None,
        other => panic!("{name}: {other:?}"),
    }
}

fn text(row: &Row, name: &str) -> String {
    match get(row, name) {
        Field::Str(s) => s.clone(),
        other => panic!("{name}: {other:?}"),
    }
}

/// `px` as a decimal with `d` digits, written here (not by the CSV writer).
fn dec(px: i64, d: u32) -> String {
    let s = 10i64.pow(d);
    format!("{}.{:0w$}", px / s, px % s, w = d as usize)
}

/// The BBO CSV rows of a run as the Parquet rows should print them.
fn csv_rows(csv: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(csv)
        .lines()
        .skip(1)
        .map(str::to_owned)
        .collect()
}

/// Rows as the BBO CSV writes them: prices as decimals, sizes as integers in lots.
fn bbo_as_csv(rows: &[Row], px_dec: u32) -> Vec<String> {
    rows.iter()
        .map(|r| {
            let mut line = format!("{},{}", int(r, "ts_ns").unwrap(), text(r, "symbol"));
            for side in ["bid", "ask"] {
                let px = int(r, &format!("{side}_px"));
                let qty = int(r, &format!("{side}_qty"));
                // The decimal columns hold the same integers with their scale.
                assert_eq!(unscaled(r, &format!("{side}_price")), px);
                assert_eq!(unscaled(r, &format!("{side}_size")), qty);
                match (px, qty) {
                    (Some(p), Some(q)) => line += &format!(",{},{q}", dec(p, px_dec)),
                    (None, None) => line += ",,",
                    _ => panic!("half a side: {r:?}"),
                }
            }
            line
        })
        .collect()
}

fn logical(path: &Path, column: &str) -> (Option<LogicalType>, ConvertedType) {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = r.metadata().file_metadata().schema_descr_ptr();
    let c = (0..schema.num_columns())
        .map(|i| schema.column(i))
        .find(|c| c.name() == column)
        .unwrap();
    (c.logical_type_ref().cloned(), c.converted_type())
}

#[test]
fn itch_bbo_and_trades_read_back_equal_to_the_csv() {
    let dir = tmp("itch");
    let bytes = std::fs::read(root().join("data/AAPL_2012-06-21_lobster10.itch")).unwrap();
    let sink = ParquetSink::create(
        &dir,
        &ParquetOptions {
            venue: "itch".into(),
            clock: Clock::TimeOfDay,
            px_decimals: 4,
            qty_decimals: 0,
            row_group_rows: 100,
        },
    )
    .unwrap();
    let mut csv = Vec::new();
    let s = replay_itch(
        FrameReader::new(&bytes[..]),
        ItchReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            sinks: vec![Box::new(sink)],
            ..Default::default()
        },
    )
    .unwrap();
    let (bbo, groups) = rows(&dir.join("bbo.parquet"));
    let want = csv_rows(&csv);
    assert!(want.len() > 400, "{}", want.len());
    assert_eq!(bbo.len() as u64, s.bbo_changes);
    assert_eq!(groups as u64, s.bbo_changes.div_ceil(100), "100-row groups");
    assert_eq!(bbo_as_csv(&bbo, 4), want);
    // Sequence numbers grow; `ts` is the time of day, `ts_ns` the same integer.
    assert!(bbo
        .windows(2)
        .all(|w| int(&w[0], "seq") < int(&w[1], "seq")));
    assert!(matches!(
        logical(&dir.join("bbo.parquet"), "ts").0,
        Some(LogicalType::Time(_))
    ));
    let (trades, _) = rows(&dir.join("trades.parquet"));
    assert_eq!(trades.len() as u64, s.trades);
    for t in &trades {
        assert_eq!(unscaled(t, "price"), int(t, "px"));
        assert!(int(t, "qty").unwrap() > 0);
        assert!(text(t, "kind").starts_with("execute") || text(t, "kind") == "non_displayed");
    }
    // No strategy ran: the signal and fill files exist, empty.
    assert_eq!(rows(&dir.join("signals.parquet")).0.len(), 0);
    assert_eq!(rows(&dir.join("fills.parquet")).0.len(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn binance_bbo_reads_back_with_utc_timestamps_and_eight_decimals() {
    let dir = tmp("binance");
    let sink = ParquetSink::create(
        &dir,
        &ParquetOptions {
            venue: "binance".into(),
            clock: Clock::Utc,
            px_decimals: 8,
            qty_decimals: 8,
            row_group_rows: ticklane_replay::sink::parquet::ROW_GROUP_ROWS,
        },
    )
    .unwrap();
    let mut csv = Vec::new();
    let input =
        ticklane_replay::run::input::open(&root().join("data/binance_nknusdt.cryptofeed")).unwrap();
    let s = replay_l2(
        VenueFormat::Binance,
        std::io::BufReader::new(input.reader),
        CryptoReplayOptions {
            bbo_csv: Some(Box::new(&mut csv)),
            sinks: vec![Box::new(sink)],
            ..Default::default()
        },
    )
    .unwrap();
    let (bbo, groups) = rows(&dir.join("bbo.parquet"));
    assert_eq!((bbo.len() as u64, groups), (s.bbo_changes, 1));
    assert_eq!(s.bbo_changes, 38);
    assert_eq!(bbo_as_csv(&bbo, 8), csv_rows(&csv));
    match logical(&dir.join("bbo.parquet"), "ts").0 {
        Some(LogicalType::Timestamp(t)) if t.is_adjusted_to_u_t_c => {}
        other => panic!("ts: {other:?}"),
    }
    // Receive times are 2020s instants in ns.
    let ts = int(&bbo[0], "ts_ns").unwrap();
    assert!(
        (1_577_836_800_000_000_000..2_000_000_000_000_000_000).contains(&ts),
        "{ts}"
    );
    let (trades, _) = rows(&dir.join("trades.parquet"));
    assert_eq!(trades.len() as u64, s.trades);
    for t in &trades {
        assert_eq!(text(t, "kind"), "print");
        assert!(matches!(text(t, "maker_side").as_str(), "bid" | "ask"));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn bad_options_are_refused_before_any_file_is_made() {
    let dir = tmp("bad");
    for (rows, px) in [(0, 4), (1 << 25, 4), (10, 19)] {
        let e = ParquetSink::create(
            &dir,
            &ParquetOptions {
                venue: "itch".into(),
                clock: Clock::TimeOfDay,
                px_decimals: px,
                qty_decimals: 0,
                row_group_rows: rows,
            },
        )
        .err()
        .unwrap();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput, "{e}");
        assert!(!dir.exists());
    }
}
