//! LOBSTER: real NASDAQ order flow reconstructed by the LOBSTER project, as CSV.
//!
//! A LOBSTER sample is a pair: a *message* file, `time,type,order_id,size,price,direction` per
//! event, and an *order-book* file holding the top N levels after every message (ask px, ask size,
//! bid px, bid size per level). Times are seconds after midnight with up to nanosecond decimals,
//! prices 1/10000 USD (the same ticks as ITCH). The message file only holds events that changed
//! the requested number of levels, so an order added deeper appears first when it is touched.
//!
//! Parsing is exact (no floats) and does not allocate per line.

pub mod to_itch;

use std::io::BufRead;

/// LOBSTER event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LobsterKind {
    /// 1: a new limit order.
    Submit,
    /// 2: partial cancellation.
    Cancel,
    /// 3: total deletion.
    Delete,
    /// 4: execution of a visible order.
    ExecuteVisible,
    /// 5: execution of a hidden order.
    ExecuteHidden,
    /// 6: cross trade (auction).
    Cross,
    /// 7: trading halt indicator (price -1 halt, 0 quoting, 1 resume).
    Halt,
}

impl LobsterKind {
    fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            1 => Self::Submit,
            2 => Self::Cancel,
            3 => Self::Delete,
            4 => Self::ExecuteVisible,
            5 => Self::ExecuteHidden,
            6 => Self::Cross,
            7 => Self::Halt,
            _ => return None,
        })
    }
}

/// One message-file row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LobsterMsg {
    /// Nanoseconds after midnight.
    pub ts_ns: u64,
    /// Event type.
    pub kind: LobsterKind,
    /// Order id.
    pub order_id: u64,
    /// Shares.
    pub size: u64,
    /// Price in 1/10000 USD (-1, 0, 1 for halts).
    pub price: i64,
    /// 1 buy order, -1 sell order.
    pub direction: i8,
}

impl LobsterMsg {
    /// Whether the order is a buy (bid).
    pub fn is_buy(&self) -> bool {
        self.direction > 0
    }
}

/// Why a row could not be parsed (1-based line numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LobsterError {
    /// Wrong number of columns.
    #[error("line {line}: expected {want} columns, found {have}")]
    WrongColumnCount {
        /// Line number.
        line: u64,
        /// Columns found.
        have: usize,
        /// Columns expected.
        want: usize,
    },
    /// A field is not a number of the expected form.
    #[error("line {line}: column {column} is not a valid number")]
    BadField {
        /// Line number.
        line: u64,
        /// 1-based column.
        column: usize,
    },
    /// Unknown event type code.
    #[error("line {line}: unknown LOBSTER event type {ty}")]
    UnknownType {
        /// Line number.
        line: u64,
        /// The code.
        ty: i64,
    },
    /// Direction other than 1 or -1.
    #[error("line {line}: direction {dir} is neither 1 nor -1")]
    BadDirection {
        /// Line number.
        line: u64,
        /// The value.
        dir: i64,
    },
    /// Reading failed.
    #[error("line {line}: read error: {kind}")]
    Io {
        /// Line number.
        line: u64,
        /// What failed.
        kind: std::io::ErrorKind,
    },
}

fn int(f: &[u8]) -> Option<i64> {
    let f = f.trim_ascii();
    let (neg, digits) = match f.first()? {
        b'-' => (true, &f[1..]),
        b'+' => (false, &f[1..]),
        _ => (false, f),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(if neg { -v } else { v })
}

/// `seconds[.fraction]` to nanoseconds, exactly (fractions beyond 9 digits are truncated).
fn seconds_ns(f: &[u8]) -> Option<u64> {
    let f = f.trim_ascii();
    let (s, frac) = match f.iter().position(|&c| c == b'.') {
        Some(p) => (&f[..p], &f[p + 1..]),
        None => (f, &f[..0]),
    };
    let secs = u64::try_from(int(s)?).ok()?;
    let mut ns = 0u64;
    for i in 0..9 {
        let d = match frac.get(i) {
            Some(c) if c.is_ascii_digit() => u64::from(c - b'0'),
            Some(_) => return None,
            None => 0,
        };
        ns = ns * 10 + d;
    }
    if frac.iter().skip(9).any(|c| !c.is_ascii_digit()) {
        return None;
    }
    secs.checked_mul(1_000_000_000)?.checked_add(ns)
}

/// Parses one message-file line (no newline).
///
/// ```
/// use ticklane_feeds::lobster::{parse_message_line, LobsterKind};
/// let m = parse_message_line(b"34200.004241176,1,16113575,18,5853300,1", 1).unwrap();
/// assert_eq!(m.ts_ns, 34_200_004_241_176);
/// assert_eq!((m.kind, m.order_id, m.size, m.price, m.direction), (LobsterKind::Submit, 16113575, 18, 5853300, 1));
/// ```
///
/// # Errors
/// [`LobsterError`] naming the line and column.
pub fn parse_message_line(line: &[u8], line_no: u64) -> Result<LobsterMsg, LobsterError> {
    let mut cols = [&line[..0]; 6];
    let mut n = 0;
    for f in line.split(|&c| c == b',') {
        if n < 6 {
            cols[n] = f;
        }
        n += 1;
    }
    if n != 6 {
        return Err(LobsterError::WrongColumnCount {
            line: line_no,
            have: n,
            want: 6,
        });
    }
    let bad = |column| LobsterError::BadField {
        line: line_no,
        column,
    };
    let ts_ns = seconds_ns(cols[0]).ok_or(bad(1))?;
    let ty = int(cols[1]).ok_or(bad(2))?;
    let kind = u8::try_from(ty)
        .ok()
        .and_then(LobsterKind::from_code)
        .ok_or(LobsterError::UnknownType { line: line_no, ty })?;
    let order_id = int(cols[2])
        .and_then(|v| u64::try_from(v).ok())
        .ok_or(bad(3))?;
    let size = int(cols[3])
        .and_then(|v| u64::try_from(v).ok())
        .ok_or(bad(4))?;
    let price = int(cols[4]).ok_or(bad(5))?;
    let dir = int(cols[5]).ok_or(bad(6))?;
    let direction = match dir {
        1 => 1,
        -1 => -1,
        _ => return Err(LobsterError::BadDirection { line: line_no, dir }),
    };
    Ok(LobsterMsg {
        ts_ns,
        kind,
        order_id,
        size,
        price,
        direction,
    })
}

/// Streams message-file rows from a reader; bad rows are errors the caller counts, and parsing
/// goes on with the next line.
pub struct MessageReader<R> {
    r: R,
    line: Vec<u8>,
    line_no: u64,
}

impl<R: BufRead> MessageReader<R> {
    /// Reads rows from `r`.
    pub fn new(r: R) -> Self {
        MessageReader {
            r,
            line: Vec::with_capacity(128),
            line_no: 0,
        }
    }

    /// Lines read so far.
    pub fn line_no(&self) -> u64 {
        self.line_no
    }
}

impl<R: BufRead> Iterator for MessageReader<R> {
    type Item = Result<LobsterMsg, LobsterError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.line.clear();
            match self.r.read_until(b'\n', &mut self.line) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(LobsterError::Io {
                        line: self.line_no + 1,
                        kind: e.kind(),
                    }))
                }
            }
            self.line_no += 1;
            let l = self.line.trim_ascii();
            if l.is_empty() {
                continue;
            }
            return Some(parse_message_line(l, self.line_no));
        }
    }
}

/// LOBSTER's price for an empty bid level.
pub const EMPTY_BID_PX: i64 = -9_999_999_999;
/// LOBSTER's price for an empty ask level.
pub const EMPTY_ASK_PX: i64 = 9_999_999_999;

/// One order-book-file row: levels best first, `(price, size)`, empty levels dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BookRow {
    /// Levels per side in the file (columns / 4), empty ones included.
    pub depth: usize,
    /// Ask levels, best (lowest) first.
    pub asks: Vec<(i64, u64)>,
    /// Bid levels, best (highest) first.
    pub bids: Vec<(i64, u64)>,
}

/// Parses one order-book-file line into `row` (cleared first; no allocation once `row` has
/// capacity).
///
/// # Errors
/// [`LobsterError`] naming the line and column.
pub fn parse_orderbook_line(
    line: &[u8],
    line_no: u64,
    row: &mut BookRow,
) -> Result<(), LobsterError> {
    row.asks.clear();
    row.bids.clear();
    let mut n = 0usize;
    let mut px = 0i64;
    for (i, f) in line.trim_ascii().split(|&c| c == b',').enumerate() {
        n += 1;
        let v = int(f).ok_or(LobsterError::BadField {
            line: line_no,
            column: i + 1,
        })?;
        match i % 4 {
            0 | 2 => px = v,
            _ => {
                let size = u64::try_from(v).map_err(|_| LobsterError::BadField {
                    line: line_no,
                    column: i + 1,
                })?;
                let empty = size == 0 || px == EMPTY_ASK_PX || px == EMPTY_BID_PX;
                if !empty {
                    if i % 4 == 1 {
                        row.asks.push((px, size));
                    } else {
                        row.bids.push((px, size));
                    }
                }
            }
        }
    }
    if n == 0 || !n.is_multiple_of(4) {
        return Err(LobsterError::WrongColumnCount {
            line: line_no,
            have: n,
            want: 4 * n.div_ceil(4).max(1),
        });
    }
    row.depth = n / 4;
    Ok(())
}

/// What a LOBSTER file name says: `TICKER_YYYY-MM-DD_start_end_{message|orderbook}_N.csv`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LobsterFileName {
    /// Ticker.
    pub symbol: String,
    /// Trading day, `YYYY-MM-DD`.
    pub date: String,
    /// Start of the window, ms after midnight.
    pub start_ms: u64,
    /// End of the window, ms after midnight.
    pub end_ms: u64,
    /// `true` for a message file, `false` for an order-book file.
    pub is_message: bool,
    /// Number of levels.
    pub levels: u32,
}

/// Parses a LOBSTER file name (without directories).
///
/// ```
/// use ticklane_feeds::lobster::parse_file_name;
/// let f = parse_file_name("AAPL_2012-06-21_34200000_57600000_message_10.csv").unwrap();
/// assert_eq!((f.symbol.as_str(), f.date.as_str(), f.levels, f.is_message), ("AAPL", "2012-06-21", 10, true));
/// ```
pub fn parse_file_name(name: &str) -> Option<LobsterFileName> {
    let stem = name.strip_suffix(".gz").unwrap_or(name);
    let stem = stem.strip_suffix(".csv")?;
    let parts: Vec<&str> = stem.split('_').collect();
    let [symbol, date, start, end, kind, levels] = parts.as_slice() else {
        return None;
    };
    let is_message = match *kind {
        "message" => true,
        "orderbook" => false,
        _ => return None,
    };
    let d = date.as_bytes();
    let date_ok = d.len() == 10
        && d[4] == b'-'
        && d[7] == b'-'
        && d.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if symbol.is_empty() || !date_ok {
        return None;
    }
    Some(LobsterFileName {
        symbol: (*symbol).to_owned(),
        date: (*date).to_owned(),
        start_ms: start.parse().ok()?,
        end_ms: end.parse().ok()?,
        is_message,
        levels: levels.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_exact() {
        assert_eq!(seconds_ns(b"34200.00426064"), Some(34_200_004_260_640));
        assert_eq!(seconds_ns(b"34200"), Some(34_200_000_000_000));
        assert_eq!(seconds_ns(b"0.000000001"), Some(1));
        assert_eq!(seconds_ns(b"1.1234567899"), Some(1_123_456_789));
        assert_eq!(seconds_ns(b"1.2x"), None);
        assert_eq!(seconds_ns(b"-1.5"), None);
    }

    #[test]
    fn bad_rows_name_line_and_column() {
        assert_eq!(
            parse_message_line(b"34200.1,1,2,3,4", 7),
            Err(LobsterError::WrongColumnCount {
                line: 7,
                have: 5,
                want: 6
            })
        );
        assert_eq!(
            parse_message_line(b"34200.1,9,2,3,4,1", 8),
            Err(LobsterError::UnknownType { line: 8, ty: 9 })
        );
        assert_eq!(
            parse_message_line(b"34200.1,1,x,3,4,1", 9),
            Err(LobsterError::BadField { line: 9, column: 3 })
        );
        assert_eq!(
            parse_message_line(b"34200.1,1,2,3,4,0", 10),
            Err(LobsterError::BadDirection { line: 10, dir: 0 })
        );
        let halt = parse_message_line(b"36023,7,0,0,-1,-1", 11).unwrap();
        assert_eq!((halt.kind, halt.price), (LobsterKind::Halt, -1));
    }

    #[test]
    fn reader_counts_lines_and_goes_on_after_errors() {
        let data = b"34200.1,1,2,3,4,1\ngarbage\n\n34200.2,3,2,3,4,1\n";
        let rows: Vec<_> = MessageReader::new(&data[..]).collect();
        assert_eq!(rows.len(), 3);
        assert!(rows[0].is_ok() && rows[1].is_err() && rows[2].is_ok());
        assert!(matches!(
            rows[1],
            Err(LobsterError::WrongColumnCount { line: 2, .. })
        ));
    }

    #[test]
    fn orderbook_rows_drop_dummy_levels() {
        let mut row = BookRow::default();
        parse_orderbook_line(
            b"5859400,200,5853300,18,9999999999,0,-9999999999,0",
            1,
            &mut row,
        )
        .unwrap();
        assert_eq!(row.asks, vec![(5_859_400, 200)]);
        assert_eq!(row.bids, vec![(5_853_300, 18)]);
        assert!(parse_orderbook_line(b"1,2,3", 2, &mut row).is_err());
        assert!(parse_orderbook_line(b"1,2,3,x", 3, &mut row).is_err());
    }

    #[test]
    fn real_sample_parses_completely() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_message_10.csv"
        );
        let f = std::io::BufReader::new(std::fs::File::open(path).unwrap());
        let rows: Vec<_> = MessageReader::new(f).collect::<Result<_, _>>().unwrap();
        assert!(rows.len() > 900);
        assert!(rows.windows(2).all(|w| w[0].ts_ns <= w[1].ts_ns));
        assert_eq!(rows[0].order_id, 16_113_575);
        let ob = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../shared/data/lobster/AAPL_2012-06-21_34200000_57600000_orderbook_10.csv"
        );
        let text = std::fs::read_to_string(ob).unwrap();
        let mut row = BookRow::default();
        for (i, l) in text.lines().enumerate() {
            parse_orderbook_line(l.as_bytes(), i as u64 + 1, &mut row).unwrap();
            assert_eq!(row.asks.len(), 10);
            assert!(row.bids.first().unwrap().0 < row.asks.first().unwrap().0);
        }
    }

    proptest::proptest! {
        /// Arbitrary bytes never panic either parser.
        #[test]
        fn parsers_never_panic(line in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let _ = parse_message_line(&line, 1);
            let mut row = BookRow::default();
            let _ = parse_orderbook_line(&line, 1, &mut row);
        }

        /// Mutating one byte of a real row is a typed error or a valid row, never a panic.
        #[test]
        fn mutated_real_rows(pos in 0usize..40, byte in proptest::prelude::any::<u8>()) {
            let mut line = b"34200.004241176,1,16113575,18,5853300,1".to_vec();
            let p = pos % line.len();
            line[p] = byte;
            let _ = parse_message_line(&line, 1);
        }
    }

    #[test]
    fn file_names() {
        let f = parse_file_name("GOOG_2012-06-21_34200000_57600000_orderbook_1.csv").unwrap();
        assert_eq!(
            (f.start_ms, f.end_ms, f.is_message, f.levels),
            (34_200_000, 57_600_000, false, 1)
        );
        assert!(parse_file_name("GOOG.csv").is_none());
        assert!(parse_file_name("GOOG_2012-6-21_1_2_message_1.csv").is_none());
    }
}
