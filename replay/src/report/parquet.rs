//! `trades.parquet`: the trade log with typed columns, for pandas, polars and Spark.
//!
//! Same columns as `trades.csv`: integers as `int64`, text as UTF-8 strings, prices and money
//! as `double` in currency units, `queue_wait_ns` an optional `int64` (null for fills without
//! one). Written with the low-level column writer (no Arrow), one row group, no compression
//! (no codec dependencies; the file is small next to the market data it came from).

use std::io::Write;
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::decimal::{money_f64, ratio_f64};
use super::{side_str, FillRecord, ReportError};

/// The Parquet schema of `trades.parquet`.
pub const PARQUET_SCHEMA: &str = "
message trades {
  required int64 ts_exch_ns;
  required int64 ts_local_ns;
  required binary symbol (STRING);
  required int64 client_id;
  required binary side (STRING);
  required double px;
  required int64 qty;
  required binary liquidity (STRING);
  required double fee;
  required int64 position;
  required double cash;
  required double realized_pnl;
  optional int64 queue_wait_ns;
}
";

fn pq(stage: &'static str) -> impl Fn(parquet::errors::ParquetError) -> ReportError {
    move |_| ReportError::Parquet { stage }
}

fn int64_col(
    fills: &[FillRecord],
    column: &'static str,
    get: impl Fn(&FillRecord) -> u64,
) -> Result<Vec<i64>, ReportError> {
    fills
        .iter()
        .enumerate()
        .map(|(row, f)| {
            let value = get(f);
            i64::try_from(value).map_err(|_| ReportError::OutOfRange { column, row, value })
        })
        .collect()
}

/// Writes the fills as `trades.parquet` into `sink`.
///
/// # Errors
///
/// [`ReportError::OutOfRange`] for a u64 field above `i64::MAX`; [`ReportError::Parquet`] if
/// the writer fails (an I/O failure of `sink` surfaces here too).
pub fn write_trades_parquet<W: Write + Send>(
    sink: W,
    fills: &[FillRecord],
    ticks_per_unit: i64,
    lots_per_unit: i64,
) -> Result<(), ReportError> {
    let scale = super::money_scale(ticks_per_unit, lots_per_unit);
    let schema = Arc::new(parse_message_type(PARQUET_SCHEMA).map_err(pq("parsing the schema"))?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::UNCOMPRESSED)
            .set_created_by(format!("ticklane {}", env!("CARGO_PKG_VERSION")))
            .build(),
    );
    let mut writer =
        SerializedFileWriter::new(sink, schema, props).map_err(pq("writing the header"))?;

    let ts_exch = int64_col(fills, "ts_exch_ns", |f| f.ts_exch)?;
    let ts_local = int64_col(fills, "ts_local_ns", |f| f.ts_local)?;
    let client_id = int64_col(fills, "client_id", |f| f.client_id)?;
    let qty = int64_col(fills, "qty", |f| f.qty)?;
    let symbol: Vec<ByteArray> = fills
        .iter()
        .map(|f| ByteArray::from(f.symbol_str().as_str()))
        .collect();
    let side: Vec<ByteArray> = fills
        .iter()
        .map(|f| ByteArray::from(side_str(f.side)))
        .collect();
    let liquidity: Vec<ByteArray> = fills
        .iter()
        .map(|f| ByteArray::from(f.liquidity.as_str()))
        .collect();
    let px: Vec<f64> = fills
        .iter()
        .map(|f| ratio_f64(f.px as i128, ticks_per_unit as i128))
        .collect();
    let money = |get: fn(&FillRecord) -> i128| -> Vec<f64> {
        fills.iter().map(|f| money_f64(get(f), scale)).collect()
    };
    let fee = money(|f| f.fee);
    let cash = money(|f| f.cash);
    let realized = money(|f| f.realized_pnl);
    let position: Vec<i64> = fills.iter().map(|f| f.position).collect();
    let mut wait_values = Vec::with_capacity(fills.len());
    let mut wait_defs = Vec::with_capacity(fills.len());
    for (row, f) in fills.iter().enumerate() {
        match f.queue_wait_ns {
            Some(w) => {
                wait_values.push(i64::try_from(w).map_err(|_| ReportError::OutOfRange {
                    column: "queue_wait_ns",
                    row,
                    value: w,
                })?);
                wait_defs.push(1i16);
            }
            None => wait_defs.push(0),
        }
    }

    enum Col<'a> {
        I(&'a [i64]),
        S(&'a [ByteArray]),
        D(&'a [f64]),
        OptI(&'a [i64], &'a [i16]),
    }
    let columns = [
        Col::I(&ts_exch),
        Col::I(&ts_local),
        Col::S(&symbol),
        Col::I(&client_id),
        Col::S(&side),
        Col::D(&px),
        Col::I(&qty),
        Col::S(&liquidity),
        Col::D(&fee),
        Col::I(&position),
        Col::D(&cash),
        Col::D(&realized),
        Col::OptI(&wait_values, &wait_defs),
    ];

    let mut rg = writer
        .next_row_group()
        .map_err(pq("starting the row group"))?;
    for col in &columns {
        let mut cw =
            rg.next_column()
                .map_err(pq("starting a column"))?
                .ok_or(ReportError::Parquet {
                    stage: "matching columns to the schema",
                })?;
        match col {
            Col::I(v) => cw.typed::<Int64Type>().write_batch(v, None, None).map(drop),
            Col::S(v) => cw
                .typed::<ByteArrayType>()
                .write_batch(v, None, None)
                .map(drop),
            Col::D(v) => cw
                .typed::<DoubleType>()
                .write_batch(v, None, None)
                .map(drop),
            Col::OptI(v, d) => cw
                .typed::<Int64Type>()
                .write_batch(v, Some(d), None)
                .map(drop),
        }
        .map_err(pq("writing a column"))?;
        cw.close().map_err(pq("closing a column"))?;
    }
    if rg
        .next_column()
        .map_err(pq("closing the row group"))?
        .is_some()
    {
        return Err(ReportError::Parquet {
            stage: "matching columns to the schema",
        });
    }
    rg.close().map_err(pq("closing the row group"))?;
    writer.close().map_err(pq("writing the footer"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Liquidity, MONEY_PER_TICK_LOT};
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::{Field, RowAccessor};
    use ticklane_engine::Side;

    #[test]
    fn parquet_read_back() {
        let mut fills = Vec::new();
        for i in 0..5u64 {
            fills.push(FillRecord {
                ts_exch: 1_000 + i,
                ts_local: 2_000 + i,
                symbol: crate::report::symbol_field(b"BTCUSDT"),
                instr: 0,
                client_id: 10 + i,
                side: if i % 2 == 0 { Side::Bid } else { Side::Ask },
                px: 6_500_012_345_678, // 65000.12345678 at 1e8 ticks per unit
                qty: 3 + i,
                liquidity: if i == 4 {
                    Liquidity::Taker
                } else {
                    Liquidity::Maker
                },
                // -1.5 units: 1 unit = 1e7 * 1e8 money.
                fee: -15 * MONEY_PER_TICK_LOT * 10_000_000,
                position: i as i64 - 2,
                cash: 0,
                realized_pnl: 25 * MONEY_PER_TICK_LOT * 100_000_000, // 25 units
                queue_wait_ns: (i != 4).then_some(500 * i),
            });
        }
        let mut buf = Vec::new();
        write_trades_parquet(&mut buf, &fills, 100_000_000, 1).unwrap();
        let reader = SerializedFileReader::new(bytes::Bytes::from(buf)).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 5);
        let schema = reader.metadata().file_metadata().schema_descr();
        assert_eq!(schema.num_columns(), 13);
        assert_eq!(schema.column(12).name(), "queue_wait_ns");
        let rows: Vec<_> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(rows.len(), 5);
        let r1 = &rows[1];
        assert_eq!(r1.get_long(0).unwrap(), 1_001);
        assert_eq!(r1.get_long(1).unwrap(), 2_001);
        assert_eq!(r1.get_string(2).unwrap(), "BTCUSDT");
        assert_eq!(r1.get_long(3).unwrap(), 11);
        assert_eq!(r1.get_string(4).unwrap(), "sell");
        assert!((r1.get_double(5).unwrap() - 65_000.123_456_78).abs() < 1e-9);
        assert_eq!(r1.get_long(6).unwrap(), 4);
        assert_eq!(r1.get_string(7).unwrap(), "maker");
        assert_eq!(r1.get_double(8).unwrap(), -1.5);
        assert_eq!(r1.get_long(9).unwrap(), -1);
        assert_eq!(r1.get_double(11).unwrap(), 25.0);
        assert_eq!(r1.get_long(12).unwrap(), 500);
        assert_eq!(rows[0].get_string(4).unwrap(), "buy");
        assert_eq!(rows[4].get_string(7).unwrap(), "taker");
        // The taker fill has no queue wait: null, not zero.
        let last = rows[4].get_column_iter().nth(12).unwrap().1.clone();
        assert_eq!(last, Field::Null);
    }

    #[test]
    fn u64_above_i64_max_is_a_clear_error() {
        let mut f = FillRecord {
            ts_exch: 0,
            ts_local: 0,
            symbol: crate::report::symbol_field(b"X"),
            instr: 0,
            client_id: u64::MAX,
            side: Side::Bid,
            px: 1,
            qty: 1,
            liquidity: Liquidity::Taker,
            fee: 0,
            position: 1,
            cash: 0,
            realized_pnl: 0,
            queue_wait_ns: None,
        };
        let err = write_trades_parquet(Vec::new(), &[f], 10_000, 1).unwrap_err();
        assert_eq!(
            err,
            ReportError::OutOfRange {
                column: "client_id",
                row: 0,
                value: u64::MAX
            }
        );
        f.client_id = 1;
        assert!(write_trades_parquet(Vec::new(), &[f], 10_000, 1).is_ok());
    }
}
