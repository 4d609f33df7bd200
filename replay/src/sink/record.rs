//! Published records: one fixed-size little-endian binary record per output, and its JSON
//! rendering. A message-bus sink (Kafka) sends these bytes as record values; a columnar sink can
//! decode the same records. Nothing here knows a transport, so the encoding is tested on its own
//! and the layout table in `docs/kafka.md` is the contract for consumers in other languages.
//!
//! Layout version 1 ([`SCHEMA_VERSION`]), [`RECORD_LEN`] = 128 bytes, every integer
//! little-endian:
//!
//! | offset | type | field |
//! |---|---|---|
//! | 0 | u16 | schema version (1) |
//! | 2 | u8 | record type ([`RecordType`]: 1 bbo, 2 trade, 3 status, 4 signal, 5 fill, 6 order) |
//! | 3 | u8 | venue ([`Venue`]: 1 itch, 2 lobster, 3 binance, 4 coinbase, 5 kraken) |
//! | 4 | u32 | instrument index (dense, per run) |
//! | 8 | u64 | source sequence number of the input message that caused it |
//! | 16 | u64 | exchange time, ns (as the venue gives it) |
//! | 24 | u64 | receive time, ns (0: not carried by the output stream) |
//! | 32 | i8 | price exponent: price = px × 10^exp |
//! | 33 | i8 | quantity exponent: quantity = qty × 10^exp |
//! | 34 | u8 | symbol length (0..=24) |
//! | 35 | u8 | reserved (0) |
//! | 36 | [u8; 24] | symbol, ASCII, zero padded |
//! | 60 | u32 | reserved (0) |
//! | 64 | 64 bytes | body, by record type (below); unused bytes are 0 |
//!
//! Bodies (offsets from the record's start):
//!
//! - bbo: 64 i64 bid px, 72 u64 bid qty, 80 i64 ask px, 88 u64 ask qty (qty 0: empty side)
//! - trade: 64 i64 px, 72 u64 qty, 80 u8 kind (1 execute, 2 execute at price, 3 non-displayed,
//!   4 cross, 5 print), 81 u8 printable (kind 2), 82 u8 resting side (kind 5: 1 bid, 2 ask)
//! - status: 64 u8 kind (1 system, 2 trading, 3 operational halt, 4 circuit breaker,
//!   5 Reg SHO), 65 u8 the venue's code (ASCII)
//! - signal: 64 u8 kind (1 take, 2 quote, 3 exit, 4 alert), 65 u8 side (0 none, 1 buy,
//!   2 sell), 72 f64 value
//! - fill: 64 u64 client id, 72 i64 px, 80 u64 qty, 88 u64 queue wait ns, 96 u32 response
//!   latency ns, 100 u8 side (1 buy, 2 sell), 101 u8 liquidity (1 maker, 2 taker)
//! - order: 64 u64 client id, 72 u64 leaves qty, 80 u8 status code, 81 u8 side (1 buy, 2 sell)

use std::fmt::Write as _;

use ticklane_engine::event::StatusKind;
use ticklane_engine::exec::Liquidity;
use ticklane_engine::strategy::SignalKind;
use ticklane_engine::Side;

use crate::stages::output::{Output, OutputKind, TradeKind};

/// The layout version written at offset 0 and in the `ticklane.schema` header.
pub const SCHEMA_VERSION: u16 = 1;

/// Bytes of one binary record.
pub const RECORD_LEN: usize = 128;

/// Longest symbol a record carries.
pub const SYMBOL_LEN: usize = 24;

/// The data type of a record, which also names its topic (`PREFIX.<topic>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u8)]
pub enum RecordType {
    /// A best bid/ask change.
    Bbo = 1,
    /// A trade.
    Trade = 2,
    /// A status change.
    Status = 3,
    /// A strategy's signal.
    Signal = 4,
    /// A fill of one of the strategy's orders.
    Fill = 5,
    /// Another change of one of the strategy's orders.
    Order = 6,
}

impl RecordType {
    /// Every record type.
    pub const ALL: [RecordType; 6] = [
        RecordType::Bbo,
        RecordType::Trade,
        RecordType::Status,
        RecordType::Signal,
        RecordType::Fill,
        RecordType::Order,
    ];

    /// The record type of a code.
    pub fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == c)
    }

    /// Lower-case name (the JSON `type`).
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::Bbo => "bbo",
            RecordType::Trade => "trade",
            RecordType::Status => "status",
            RecordType::Signal => "signal",
            RecordType::Fill => "fill",
            RecordType::Order => "order",
        }
    }

    /// The topic suffix: fills and order updates share `fill` (the strategy's order
    /// lifecycle, in order per instrument).
    pub fn topic(self) -> &'static str {
        match self {
            RecordType::Order => "fill",
            t => t.as_str(),
        }
    }

    /// Whether a newer record of this type for the same instrument replaces an older one
    /// (state, not events): only the best bid/ask.
    pub fn is_state(self) -> bool {
        self == RecordType::Bbo
    }
}

/// The venue a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Venue {
    /// Not known.
    Unknown = 0,
    /// NASDAQ TotalView-ITCH 5.0 (also its journals).
    Itch = 1,
    /// A LOBSTER message file.
    Lobster = 2,
    /// Binance.
    Binance = 3,
    /// Coinbase Exchange.
    Coinbase = 4,
    /// Kraken.
    Kraken = 5,
    /// Coinbase Advanced Trade.
    CoinbaseAdvanced = 6,
}

impl Venue {
    /// The venue of a code.
    pub fn from_code(c: u8) -> Self {
        match c {
            1 => Venue::Itch,
            2 => Venue::Lobster,
            3 => Venue::Binance,
            4 => Venue::Coinbase,
            5 => Venue::Kraken,
            6 => Venue::CoinbaseAdvanced,
            _ => Venue::Unknown,
        }
    }

    /// Whether the venue's outputs are stamped with the receive time (price-level venues:
    /// the capture's or the websocket client's clock) rather than the exchange's.
    pub fn stamps_receive_time(self) -> bool {
        matches!(
            self,
            Venue::Binance | Venue::Coinbase | Venue::CoinbaseAdvanced | Venue::Kraken
        )
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Venue::Unknown => "unknown",
            Venue::Itch => "itch",
            Venue::Lobster => "lobster",
            Venue::Binance => "binance",
            Venue::Coinbase => "coinbase",
            Venue::Kraken => "kraken",
            Venue::CoinbaseAdvanced => "coinbase-advanced",
        }
    }
}

/// What the records of one run share: the venue and its units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Source {
    /// The venue.
    pub venue: Venue,
    /// Price exponent (-4: prices in 1/10000, ITCH and LOBSTER; -8: crypto).
    pub px_exp: i8,
    /// Quantity exponent (0: whole shares; -8: crypto sizes in 1e-8 units).
    pub qty_exp: i8,
}

/// One encoded record.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RecordBuf(pub [u8; RECORD_LEN]);

impl std::fmt::Debug for RecordBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("RecordBuf").field(&&self.0[..]).finish()
    }
}

impl RecordBuf {
    /// The record type (valid in every record [`encode`] made).
    pub fn record_type(&self) -> Option<RecordType> {
        RecordType::from_code(self.0[2])
    }

    /// The instrument index.
    pub fn instrument(&self) -> u32 {
        u32::from_le_bytes([self.0[4], self.0[5], self.0[6], self.0[7]])
    }

    /// The symbol bytes.
    pub fn symbol(&self) -> &[u8] {
        let n = usize::from(self.0[34]).min(SYMBOL_LEN);
        &self.0[36..36 + n]
    }

    /// The record key: the symbol, or (for an instrument without one, such as ITCH's
    /// market-wide locate 0) `#` and the instrument index, written into `scratch`.
    pub fn key<'a>(&'a self, scratch: &'a mut [u8; 11]) -> &'a [u8] {
        let s = self.symbol();
        if !s.is_empty() {
            return s;
        }
        let mut n = self.instrument();
        let mut i = scratch.len();
        loop {
            i -= 1;
            scratch[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        i -= 1;
        scratch[i] = b'#';
        &scratch[i..]
    }
}

fn put<const N: usize>(b: &mut [u8; RECORD_LEN], at: usize, v: [u8; N]) {
    b[at..at + N].copy_from_slice(&v);
}

fn side_code(s: Side) -> u8 {
    match s {
        Side::Bid => 1,
        Side::Ask => 2,
    }
}

fn status_code(k: StatusKind) -> u8 {
    match k {
        StatusKind::System => 1,
        StatusKind::Trading => 2,
        StatusKind::OperationalHalt => 3,
        StatusKind::CircuitBreaker => 4,
        StatusKind::RegSho => 5,
    }
}

/// Encodes an output of `symbol` (its first [`SYMBOL_LEN`] bytes) as a record. `None` for
/// outputs that are not published (instrument definitions, pipeline bookkeeping).
#[inline]
pub fn encode(o: &Output, symbol: &str, src: Source) -> Option<RecordBuf> {
    let mut b = [0u8; RECORD_LEN];
    let ty = match o.kind {
        OutputKind::Bbo([(bp, bq), (ap, aq)]) => {
            put(&mut b, 64, bp.to_le_bytes());
            put(&mut b, 72, bq.to_le_bytes());
            put(&mut b, 80, ap.to_le_bytes());
            put(&mut b, 88, aq.to_le_bytes());
            RecordType::Bbo
        }
        OutputKind::Trade { px, qty, kind } => {
            put(&mut b, 64, px.0.to_le_bytes());
            put(&mut b, 72, qty.0.to_le_bytes());
            b[80] = kind.code() as u8;
            match kind {
                TradeKind::ExecuteAtPx { printable } => b[81] = u8::from(printable),
                TradeKind::Print { resting } => b[82] = side_code(resting),
                _ => {}
            }
            RecordType::Trade
        }
        OutputKind::Status { kind, code } => {
            b[64] = status_code(kind);
            b[65] = code;
            RecordType::Status
        }
        OutputKind::Signal(s) => {
            b[64] = s.kind as u8;
            b[65] = s.side.map_or(0, side_code);
            put(&mut b, 72, s.value.to_le_bytes());
            RecordType::Signal
        }
        OutputKind::Fill {
            client_id,
            px,
            qty,
            queue_wait,
            response,
            side,
            liquidity,
        } => {
            put(&mut b, 64, client_id.to_le_bytes());
            put(&mut b, 72, px.0.to_le_bytes());
            put(&mut b, 80, qty.0.to_le_bytes());
            put(&mut b, 88, queue_wait.to_le_bytes());
            put(&mut b, 96, response.to_le_bytes());
            b[100] = side_code(side);
            b[101] = match liquidity {
                Liquidity::Maker => 1,
                Liquidity::Taker => 2,
            };
            RecordType::Fill
        }
        OutputKind::Order {
            client_id,
            leaves,
            code,
            side,
        } => {
            put(&mut b, 64, client_id.to_le_bytes());
            put(&mut b, 72, leaves.0.to_le_bytes());
            b[80] = code;
            b[81] = side_code(side);
            RecordType::Order
        }
        OutputKind::Instrument(_) | OutputKind::Symbol(_) | OutputKind::Watermark => return None,
    };
    put(&mut b, 0, SCHEMA_VERSION.to_le_bytes());
    b[2] = ty as u8;
    b[3] = src.venue as u8;
    put(&mut b, 4, o.instr.0.to_le_bytes());
    put(&mut b, 8, o.seq.to_le_bytes());
    // ITCH and LOBSTER outputs carry the exchange's time; a price-level venue's outputs carry
    // the capture's (or the daemon's) receive time, and no exchange time.
    let offset = if src.venue.stamps_receive_time() {
        24
    } else {
        16
    };
    put(&mut b, offset, o.ts.0.to_le_bytes());
    b[32] = src.px_exp as u8;
    b[33] = src.qty_exp as u8;
    let sym = &symbol.as_bytes()[..symbol.len().min(SYMBOL_LEN)];
    b[34] = sym.len() as u8;
    b[36..36 + sym.len()].copy_from_slice(sym);
    Some(RecordBuf(b))
}

/// A record that could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// Not [`RECORD_LEN`] bytes.
    #[error("a record is {RECORD_LEN} bytes, this one {have}")]
    Length {
        /// Bytes given.
        have: usize,
    },
    /// A layout this code does not read.
    #[error("schema version {0} (this build reads {SCHEMA_VERSION})")]
    Version(u16),
    /// An unknown record type.
    #[error("unknown record type {0}")]
    Type(u8),
    /// A price or quantity exponent outside -18..=0.
    #[error("exponent {0} outside -18..=0")]
    Exponent(i8),
}

/// A decoded record.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Record {
    /// Layout version.
    pub version: u16,
    /// Data type.
    pub ty: RecordType,
    /// Venue.
    pub venue: Venue,
    /// Instrument index.
    pub instrument: u32,
    /// Source sequence number.
    pub seq: u64,
    /// Exchange time, ns.
    pub ts_exch: u64,
    /// Receive time, ns (0: not known).
    pub ts_recv: u64,
    /// Price exponent.
    pub px_exp: i8,
    /// Quantity exponent.
    pub qty_exp: i8,
    /// Symbol length and bytes.
    pub symbol: ([u8; SYMBOL_LEN], u8),
    /// The body, as encoded (interpreted by [`Record::write_json`]).
    pub body: [u8; 64],
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

/// Decodes a binary record.
///
/// # Errors
/// A wrong length, schema version or record type.
pub fn decode(b: &[u8]) -> Result<Record, RecordError> {
    if b.len() != RECORD_LEN {
        return Err(RecordError::Length { have: b.len() });
    }
    let version = u16::from_le_bytes([b[0], b[1]]);
    if version != SCHEMA_VERSION {
        return Err(RecordError::Version(version));
    }
    let ty = RecordType::from_code(b[2]).ok_or(RecordError::Type(b[2]))?;
    for e in [b[32] as i8, b[33] as i8] {
        if !(-18..=0).contains(&e) {
            return Err(RecordError::Exponent(e));
        }
    }
    let mut symbol = [0u8; SYMBOL_LEN];
    symbol.copy_from_slice(&b[36..60]);
    let mut body = [0u8; 64];
    body.copy_from_slice(&b[64..128]);
    Ok(Record {
        version,
        ty,
        venue: Venue::from_code(b[3]),
        instrument: u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        seq: u64_at(b, 8),
        ts_exch: u64_at(b, 16),
        ts_recv: u64_at(b, 24),
        px_exp: b[32] as i8,
        qty_exp: b[33] as i8,
        symbol: (symbol, b[34].min(SYMBOL_LEN as u8)),
        body,
    })
}

fn side_name(c: u8) -> &'static str {
    match c {
        1 => "buy",
        2 => "sell",
        _ => "",
    }
}

impl Record {
    /// The symbol as text (non-UTF-8 bytes replaced).
    pub fn symbol_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.symbol.0[..usize::from(self.symbol.1)])
    }

    fn body_u64(&self, at: usize) -> u64 {
        u64_at(&self.body, at - 64)
    }

    /// Appends the record as one JSON object (no newline): prices and quantities in the
    /// venue's units as JSON numbers (`585.3300`), an empty BBO side as `null`; `strategy`
    /// names the strategy on signals.
    pub fn write_json(&self, out: &mut String, strategy: &str) {
        let px = |v: i64| fixed(i128::from(v), self.px_exp);
        let qty = |v: u64| fixed(i128::from(v), self.qty_exp);
        let _ = write!(
            out,
            r#"{{"schema":{},"type":"{}","venue":"{}","symbol":""#,
            self.version,
            self.ty.as_str(),
            self.venue.as_str()
        );
        json_escape(out, &self.symbol_str());
        let _ = write!(
            out,
            r#"","instrument":{},"seq":{},"ts_exch_ns":{},"ts_recv_ns":{}"#,
            self.instrument, self.seq, self.ts_exch, self.ts_recv
        );
        let b = &self.body;
        match self.ty {
            RecordType::Bbo => {
                for (name, at) in [("bid", 64), ("ask", 80)] {
                    let (p, q) = (self.body_u64(at) as i64, self.body_u64(at + 8));
                    if q == 0 {
                        let _ = write!(out, r#","{name}_px":null,"{name}_qty":null"#);
                    } else {
                        let _ = write!(out, r#","{name}_px":{},"{name}_qty":{}"#, px(p), qty(q));
                    }
                }
            }
            RecordType::Trade => {
                let kind = match b[16] {
                    1 => "execute",
                    2 => "execute_at_px",
                    3 => "non_displayed",
                    4 => "cross",
                    _ => "print",
                };
                let _ = write!(
                    out,
                    r#","px":{},"qty":{},"kind":"{}","printable":{},"resting":"{}""#,
                    px(self.body_u64(64) as i64),
                    qty(self.body_u64(72)),
                    kind,
                    b[16] != 2 || b[17] != 0,
                    match b[18] {
                        1 => "bid",
                        2 => "ask",
                        _ => "",
                    }
                );
            }
            RecordType::Status => {
                let kind = match b[0] {
                    1 => "system",
                    2 => "trading",
                    3 => "operational_halt",
                    4 => "circuit_breaker",
                    _ => "reg_sho",
                };
                let code = if b[1].is_ascii_graphic() && b[1] != b'"' && b[1] != b'\\' {
                    char::from(b[1]).to_string()
                } else {
                    format!("\\u{:04x}", b[1])
                };
                let _ = write!(out, r#","kind":"{kind}","code":"{code}""#);
            }
            RecordType::Signal => {
                let kind = match b[0] {
                    1 => SignalKind::Take,
                    2 => SignalKind::Quote,
                    3 => SignalKind::Exit,
                    _ => SignalKind::Alert,
                };
                let v = f64::from_bits(self.body_u64(72));
                let _ = write!(out, r#","strategy":""#);
                json_escape(out, strategy);
                let _ = write!(
                    out,
                    r#"","kind":"{}","side":"{}","value":{}"#,
                    kind.as_str(),
                    side_name(b[1]),
                    if v.is_finite() { v } else { 0.0 }
                );
            }
            RecordType::Fill => {
                let _ = write!(
                    out,
                    r#","client_id":{},"px":{},"qty":{},"queue_wait_ns":{},"response_ns":{},"side":"{}","liquidity":"{}""#,
                    self.body_u64(64),
                    px(self.body_u64(72) as i64),
                    qty(self.body_u64(80)),
                    self.body_u64(88),
                    u32::from_le_bytes([b[32], b[33], b[34], b[35]]),
                    side_name(b[36]),
                    if b[37] == 1 { "maker" } else { "taker" }
                );
            }
            RecordType::Order => {
                let _ = write!(
                    out,
                    r#","client_id":{},"leaves":{},"status":{},"side":"{}""#,
                    self.body_u64(64),
                    qty(self.body_u64(72)),
                    b[16],
                    side_name(b[17])
                );
            }
        }
        out.push('}');
    }
}

/// `v` × 10^`exp` written with `-exp` decimals (`exp` in -18..=0, as [`decode`] checks).
fn fixed(v: i128, exp: i8) -> String {
    let d = u32::from(exp.unsigned_abs()).min(18);
    if d == 0 {
        return v.to_string();
    }
    let scale = 10u128.pow(d);
    let a = v.unsigned_abs();
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:0w$}", a / scale, a % scale, w = d as usize)
}

fn json_escape(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ticklane_engine::strategy::Signal;
    use ticklane_engine::{InstrumentIdx, Nanos, Px, Qty};

    const ITCH: Source = Source {
        venue: Venue::Itch,
        px_exp: -4,
        qty_exp: 0,
    };

    fn out(kind: OutputKind) -> Output {
        Output {
            seq: 77,
            ts: Nanos(34_200_004_241_176),
            instr: InstrumentIdx(13),
            kind,
            stamp: 99,
        }
    }

    #[test]
    fn a_bbo_record_has_the_documented_layout() {
        let r = encode(
            &out(OutputKind::Bbo([(5_853_300, 18), (0, 0)])),
            "AAPL",
            ITCH,
        )
        .unwrap();
        let b = &r.0;
        assert_eq!(&b[0..2], &[1, 0]);
        assert_eq!(b[2], 1);
        assert_eq!(b[3], 1);
        assert_eq!(&b[4..8], &13u32.to_le_bytes());
        assert_eq!(&b[8..16], &77u64.to_le_bytes());
        assert_eq!(&b[16..24], &34_200_004_241_176u64.to_le_bytes());
        assert_eq!(&b[24..32], &[0; 8]);
        assert_eq!(b[32] as i8, -4);
        assert_eq!(b[34], 4);
        assert_eq!(&b[36..40], b"AAPL");
        assert_eq!(&b[64..72], &5_853_300i64.to_le_bytes());
        assert_eq!(&b[72..80], &18u64.to_le_bytes());
        assert_eq!(&b[80..96], &[0; 16]);
        let mut s = String::new();
        decode(b).unwrap().write_json(&mut s, "");
        let v: serde_json::Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v["type"], "bbo");
        assert_eq!(v["symbol"], "AAPL");
        assert_eq!(v["seq"], 77);
        assert_eq!(v["bid_px"].as_f64(), Some(585.33));
        assert_eq!(v["bid_qty"], 18);
        assert!(v["ask_px"].is_null());
        assert!(s.contains(r#""bid_px":585.3300"#), "{s}");
    }

    #[test]
    fn every_published_kind_round_trips_to_valid_json() {
        let kinds = [
            OutputKind::Trade {
                px: Px(-5),
                qty: Qty(3),
                kind: TradeKind::Print { resting: Side::Ask },
            },
            OutputKind::Status {
                kind: StatusKind::Trading,
                code: b'"',
            },
            OutputKind::Signal(Signal {
                kind: SignalKind::Take,
                side: Some(Side::Bid),
                value: f64::NAN,
            }),
            OutputKind::Fill {
                client_id: 9,
                px: Px(100),
                qty: Qty(2),
                queue_wait: 5,
                response: 7,
                side: Side::Ask,
                liquidity: Liquidity::Maker,
            },
            OutputKind::Order {
                client_id: 9,
                leaves: Qty(1),
                code: 3,
                side: Side::Bid,
            },
        ];
        for k in kinds {
            let r = encode(&out(k), "BTC\"USDT", ITCH).unwrap();
            let d = decode(&r.0).unwrap();
            assert_eq!(
                (d.seq, d.instrument, d.ts_exch),
                (77, 13, 34_200_004_241_176)
            );
            let mut s = String::new();
            d.write_json(&mut s, "x");
            let v: serde_json::Value =
                serde_json::from_str(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(v["symbol"], "BTC\"USDT");
            assert_eq!(v["type"], d.ty.as_str());
        }
        assert!(encode(&out(OutputKind::Watermark), "", ITCH).is_none());
    }

    #[test]
    fn bad_records_are_errors_not_panics() {
        assert_eq!(decode(&[0; 3]), Err(RecordError::Length { have: 3 }));
        let mut b = [0u8; RECORD_LEN];
        assert_eq!(decode(&b), Err(RecordError::Version(0)));
        b[0] = 1;
        b[2] = 200;
        assert_eq!(decode(&b), Err(RecordError::Type(200)));
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// decode(encode(x)) = x for the header, the BBO body, and any symbol; any bytes of
        /// the right length decode or are refused, never a panic, and render as valid JSON.
        #[test]
        fn bbo_round_trips(
            seq in any::<u64>(), ts in any::<u64>(), instr in any::<u32>(),
            bp in any::<i64>(), bq in any::<u64>(), ap in any::<i64>(), aq in any::<u64>(),
            sym in "[A-Za-z0-9./-]{0,30}",
        ) {
            let o = Output {
                seq,
                ts: Nanos(ts),
                instr: InstrumentIdx(instr),
                kind: OutputKind::Bbo([(bp, bq), (ap, aq)]),
                stamp: 0,
            };
            let src = Source { venue: Venue::Binance, px_exp: -8, qty_exp: -8 };
            let r = encode(&o, &sym, src).unwrap();
            let d = decode(&r.0).unwrap();
            // A price-level venue's time is its receive time; its exchange time is unknown.
            prop_assert_eq!((d.seq, d.ts_recv, d.ts_exch, d.instrument), (seq, ts, 0, instr));
            prop_assert_eq!((d.px_exp, d.qty_exp, d.venue), (-8, -8, Venue::Binance));
            let n = sym.len().min(SYMBOL_LEN);
            prop_assert_eq!(d.symbol_str(), &sym[..n]);
            prop_assert_eq!(&r.0[64..72], &bp.to_le_bytes());
            prop_assert_eq!(&r.0[72..80], &bq.to_le_bytes());
            prop_assert_eq!(&r.0[80..88], &ap.to_le_bytes());
            prop_assert_eq!(&r.0[88..96], &aq.to_le_bytes());
            let mut j = String::new();
            d.write_json(&mut j, "s");
            prop_assert!(serde_json::from_str::<serde_json::Value>(&j).is_ok(), "{}", j);
        }

        #[test]
        fn any_bytes_decode_or_are_refused(mut b in prop::collection::vec(any::<u8>(), RECORD_LEN), ty in 0u8..8) {
            b[0] = 1;
            b[1] = 0;
            b[2] = ty;
            if let Ok(d) = decode(&b) {
                let mut j = String::new();
                d.write_json(&mut j, "s");
                prop_assert!(serde_json::from_str::<serde_json::Value>(&j).is_ok(), "{}", j);
            }
        }
    }

    #[test]
    fn keys_are_symbols_or_the_instrument_index() {
        let mut scratch = [0u8; 11];
        let r = encode(&out(OutputKind::Bbo([(1, 1), (2, 1)])), "MSFT", ITCH).unwrap();
        assert_eq!(r.key(&mut scratch), b"MSFT");
        let r = encode(&out(OutputKind::Bbo([(1, 1), (2, 1)])), "", ITCH).unwrap();
        assert_eq!(r.key(&mut scratch), b"#13");
        let long = "A".repeat(40);
        let r = encode(&out(OutputKind::Bbo([(1, 1), (2, 1)])), &long, ITCH).unwrap();
        assert_eq!(r.symbol().len(), SYMBOL_LEN);
    }
}
