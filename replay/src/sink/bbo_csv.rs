//! The BBO change CSV: one row per change of a symbol's best bid or ask price or size.
//!
//! Header `ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty`; prices as decimals with 4 fractional
//! digits (ITCH and LOBSTER ticks are 1/10000 USD); both fields of an empty side are empty.

use std::io::{BufWriter, Write};

use ticklane_engine::{Nanos, Px};

/// The CSV header line (without newline).
pub const HEADER: &str = "ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty";

/// Buffered BBO CSV writer.
pub struct BboCsv<'a> {
    out: BufWriter<Box<dyn Write + 'a>>,
    decimals: u32,
}

impl<'a> BboCsv<'a> {
    /// Wraps a sink.
    pub fn new(out: Box<dyn Write + 'a>) -> Self {
        Self::with_decimals(out, 4)
    }

    /// Wraps a sink writing prices with `decimals` fractional digits (ticks of 10^-decimals).
    pub fn with_decimals(out: Box<dyn Write + 'a>, decimals: u32) -> Self {
        BboCsv {
            out: BufWriter::with_capacity(1 << 16, out),
            decimals,
        }
    }

    /// Writes the header line.
    ///
    /// # Errors
    /// I/O errors of the sink.
    pub fn header(&mut self) -> std::io::Result<()> {
        writeln!(self.out, "{HEADER}")
    }

    /// Writes one row; `top` is `[(bid px, bid qty), (ask px, ask qty)]` with `qty == 0` for an
    /// empty side.
    ///
    /// # Errors
    /// I/O errors of the sink.
    pub fn row(&mut self, ts: Nanos, symbol: &str, top: [(i64, u64); 2]) -> std::io::Result<()> {
        write!(self.out, "{},{}", ts.0, symbol)?;
        for (px, qty) in top {
            if qty == 0 {
                write!(self.out, ",,")?;
            } else {
                write!(
                    self.out,
                    ",{},{}",
                    Px(px).display_decimals(self.decimals),
                    qty
                )?;
            }
        }
        writeln!(self.out)
    }

    /// Flushes buffered rows.
    ///
    /// # Errors
    /// I/O errors of the sink.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_format_prices_and_empty_sides() {
        let mut buf = Vec::new();
        {
            let mut c = BboCsv::new(Box::new(&mut buf));
            c.header().unwrap();
            c.row(Nanos(34_200_004_241_176), "AAPL", [(5_853_300, 18), (0, 0)])
                .unwrap();
            c.row(Nanos(1), "X", [(0, 0), (100, 5)]).unwrap();
            c.flush().unwrap();
        }
        let s = String::from_utf8(buf).unwrap();
        assert_eq!(
            s,
            "ts_exch_ns,symbol,bid_px,bid_qty,ask_px,ask_qty\n\
             34200004241176,AAPL,585.3300,18,,\n\
             1,X,,,0.0100,5\n"
        );
    }
}
