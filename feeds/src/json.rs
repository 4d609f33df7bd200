//! What every venue's JSON decoder shares: simd-json's tape with buffers reused across messages
//! (so a warm decoder allocates nothing), typed field readers, exact decimal conversion, and
//! `[["price","size"], ...]` level arrays into the caller's reusable buffer.

use simd_json::prelude::*;
use simd_json::{Buffers, Tape};

use crate::decimal::{parse_fixed, DecimalError};

/// Decimal places of an instrument's prices and quantities: a price string becomes
/// `price × 10^px` ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precision {
    /// Decimals of prices.
    pub px: u32,
    /// Decimals of quantities.
    pub qty: u32,
}

impl Precision {
    /// Binance's REST and websocket strings carry 8 decimals for spot; this keeps every digit.
    pub const SPOT_STRINGS: Precision = Precision { px: 8, qty: 8 };
}

/// One price level from a depth message: `qty == 0` removes the level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelUpdate {
    /// `true` for a bid, `false` for an ask.
    pub bid: bool,
    /// Price in ticks.
    pub px: i64,
    /// Quantity in lots.
    pub qty: i64,
}

/// Why a venue message could not be decoded: the error of every JSON venue decoder whose
/// failures are malformed JSON, an unknown message type, or a bad field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MsgError {
    /// Not valid JSON.
    #[error("malformed JSON")]
    Json,
    /// Valid JSON of a channel, type or shape the decoder does not know.
    #[error("unknown message type")]
    Unknown,
    /// A field is missing, of the wrong type, or not a decimal at the instrument's precision.
    #[error("missing or invalid field {0:?}")]
    Field(&'static str),
}

impl From<FieldError> for MsgError {
    fn from(e: FieldError) -> Self {
        MsgError::Field(e.field)
    }
}

/// A field that is missing, of the wrong type, or not a decimal at the instrument's precision.
/// Each venue's error type converts from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct FieldError {
    pub field: &'static str,
    pub decimal: Option<DecimalError>,
}

pub(crate) fn missing(field: &'static str) -> FieldError {
    FieldError {
        field,
        decimal: None,
    }
}

/// A tape value borrowing the tape `'t` and the input `'i`.
pub(crate) type V<'t, 'i> = simd_json::tape::Value<'t, 'i>;

/// simd-json's buffers and tape, kept between messages.
pub(crate) struct TapeParser {
    buffers: Buffers,
    tape: Option<Tape<'static>>,
}

impl TapeParser {
    pub(crate) fn new() -> Self {
        TapeParser {
            buffers: Buffers::default(),
            tape: Some(Tape::null()),
        }
    }

    /// Parses `frame` in place and hands the root value to `walk`; `json` is the error for
    /// input that is not JSON.
    pub(crate) fn parse<'i, T, E>(
        &mut self,
        frame: &'i mut [u8],
        json: E,
        walk: impl FnOnce(V<'_, 'i>) -> Result<T, E>,
    ) -> Result<T, E> {
        let mut tape: Tape<'i> = self.tape.take().unwrap_or_else(Tape::null).reset();
        let r = match simd_json::fill_tape(frame, &mut self.buffers, &mut tape) {
            Ok(()) => walk(tape.as_value()),
            Err(_) => Err(json),
        };
        self.tape = Some(tape.reset());
        r
    }
}

/// The members of an object in document order (none for any other value), each key with its
/// value, without building anything: decoders walk this once and keep the first value of each
/// key they know (what a `get` per key would find, in one pass instead of one per key).
#[inline]
pub(crate) fn members<'t, 'i>(v: &V<'t, 'i>) -> impl Iterator<Item = (&'i str, V<'t, 'i>)> {
    v.as_object().into_iter().flat_map(|o| o.iter())
}

/// Keeps `x` in `slot` unless a value is already there (the first occurrence of a key wins).
#[inline]
pub(crate) fn first<'t, 'i>(slot: &mut Option<V<'t, 'i>>, x: V<'t, 'i>) {
    if slot.is_none() {
        *slot = Some(x);
    }
}

/// A string member found by [`members`]; `key` names it in the error.
#[inline]
pub(crate) fn str_of<'i>(x: Option<V<'_, 'i>>, key: &'static str) -> Result<&'i str, FieldError> {
    x.and_then(|x| x.into_string()).ok_or(missing(key))
}

/// An unsigned integer member found by [`members`].
#[inline]
pub(crate) fn u64_of(x: Option<V<'_, '_>>, key: &'static str) -> Result<u64, FieldError> {
    x.and_then(|x| x.as_u64()).ok_or(missing(key))
}

/// A decimal string member found by [`members`], parsed exactly at `decimals`.
#[inline]
pub(crate) fn decimal_of(
    x: Option<V<'_, '_>>,
    key: &'static str,
    decimals: u32,
) -> Result<i64, FieldError> {
    let x = x.ok_or(missing(key))?;
    decimal(x.as_str().ok_or(missing(key))?, key, decimals)
}

/// Appends a `[["px","qty"], ...]` member found by [`members`] to `out`, on side `bid`.
pub(crate) fn levels_of(
    x: Option<V<'_, '_>>,
    key: &'static str,
    bid: bool,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Result<(), FieldError> {
    let arr = x.and_then(|x| x.into_array()).ok_or(missing(key))?;
    for lv in arr.iter() {
        let pair = lv.into_array().ok_or(missing(key))?;
        let mut it = pair.iter();
        let (Some(a), Some(b)) = (it.next(), it.next()) else {
            return Err(missing(key));
        };
        let (Some(px), Some(qty)) = (a.as_str(), b.as_str()) else {
            return Err(missing(key));
        };
        out.push(LevelUpdate {
            bid,
            px: decimal(px, key, p.px)?,
            qty: decimal(qty, key, p.qty)?,
        });
    }
    Ok(())
}

/// A decimal string parsed exactly at `decimals`.
pub(crate) fn decimal(s: &str, field: &'static str, decimals: u32) -> Result<i64, FieldError> {
    parse_fixed(s.as_bytes(), decimals).map_err(|err| FieldError {
        field,
        decimal: Some(err),
    })
}
