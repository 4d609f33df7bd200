//! The signal sink: one record per strategy signal, as JSON lines (default) or CSV.
//!
//! Fields: `ts_exch_ns`, `symbol`, `strategy`, `kind` (take, quote, exit, alert), `side` (buy,
//! sell or empty), `value`.

use std::io::{self, BufWriter, Write};

use ticklane_engine::strategy::Signal;
use ticklane_engine::{Nanos, Side};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignalFormat {
    /// One JSON object per line.
    JsonLines,
    /// CSV with a header.
    Csv,
}

/// Writes signal records.
pub struct SignalSink<'w> {
    out: BufWriter<Box<dyn Write + 'w>>,
    format: SignalFormat,
    strategy: &'static str,
    header_done: bool,
}

fn side(s: Option<Side>) -> &'static str {
    match s {
        Some(Side::Bid) => "buy",
        Some(Side::Ask) => "sell",
        None => "",
    }
}

impl<'w> SignalSink<'w> {
    /// A sink for `strategy`'s signals.
    pub fn new(out: Box<dyn Write + 'w>, format: SignalFormat, strategy: &'static str) -> Self {
        SignalSink {
            out: BufWriter::with_capacity(1 << 16, out),
            format,
            strategy,
            header_done: false,
        }
    }

    /// Writes one record.
    ///
    /// # Errors
    /// I/O errors of the sink.
    pub fn write(&mut self, ts: Nanos, symbol: &str, s: &Signal) -> io::Result<()> {
        match self.format {
            SignalFormat::JsonLines => writeln!(
                self.out,
                r#"{{"ts_exch_ns":{},"symbol":"{}","strategy":"{}","kind":"{}","side":"{}","value":{}}}"#,
                ts.0,
                symbol,
                self.strategy,
                s.kind.as_str(),
                side(s.side),
                if s.value.is_finite() { s.value } else { 0.0 }
            ),
            SignalFormat::Csv => {
                if !self.header_done {
                    self.header_done = true;
                    writeln!(self.out, "ts_exch_ns,symbol,strategy,kind,side,value")?;
                }
                writeln!(
                    self.out,
                    "{},{},{},{},{},{}",
                    ts.0,
                    symbol,
                    self.strategy,
                    s.kind.as_str(),
                    side(s.side),
                    s.value
                )
            }
        }
    }

    /// Flushes.
    ///
    /// # Errors
    /// I/O errors of the sink.
    pub fn flush(&mut self) -> io::Result<()> {
        if self.format == SignalFormat::Csv && !self.header_done {
            self.header_done = true;
            writeln!(self.out, "ts_exch_ns,symbol,strategy,kind,side,value")?;
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_engine::strategy::SignalKind;

    #[test]
    fn json_and_csv_records() {
        let s = Signal {
            kind: SignalKind::Take,
            side: Some(Side::Ask),
            value: 0.25,
        };
        let mut buf = Vec::new();
        {
            let mut w = SignalSink::new(Box::new(&mut buf), SignalFormat::JsonLines, "obi");
            w.write(Nanos(5), "AAPL", &s).unwrap();
            w.flush().unwrap();
        }
        let line = String::from_utf8(buf).unwrap();
        let v: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
        assert_eq!(
            (v["side"].as_str(), v["kind"].as_str(), v["value"].as_f64()),
            (Some("sell"), Some("take"), Some(0.25))
        );
        let mut buf = Vec::new();
        {
            let mut w = SignalSink::new(Box::new(&mut buf), SignalFormat::Csv, "obi");
            w.write(Nanos(5), "AAPL", &s).unwrap();
            w.flush().unwrap();
        }
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            "ts_exch_ns,symbol,strategy,kind,side,value\n5,AAPL,obi,take,sell,0.25\n"
        );
    }
}
