//! Coinbase Advanced Trade websocket market data: the `l2_data` channel (`level2`
//! subscription; `snapshot` and `update` events) and `market_trades`, decoded with `simd-json`
//! into typed records with integer prices and sizes, like the Exchange decoder.
//!
//! Messages are `{"channel":..,"timestamp":..,"sequence_num":N,"events":[..]}`; `sequence_num`
//! counts every message on the connection, so a caller detects a gap as a jump in it.
//! `subscriptions` and `heartbeats` channels are [`AdvancedMsg::Control`]. Level2 and trade
//! messages are read by a one-pass scanner (the crate's `json_scan`) that hands anything
//! outside its subset to the tape path, which decides: the same value or the same error. A
//! message's events must all concern one product (what the venue sends for a level2 event; a `market_trades`
//! message mixing products is rejected as a field error, counted by the caller).

use simd_json::prelude::*;

use crate::isotime::{parse_utc_ns, parse_utc_ns_bytes};
use crate::json::{decimal, LevelUpdate, Precision, TapeParser, V};
use crate::json_scan::{Cursor, Scalar};

/// A decoded message; levels and trades go to the caller's buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdvancedMsg<'a> {
    /// Level changes (`new_quantity` 0 removes a level) or a full book for `product`.
    Level2 {
        /// Product id.
        product: &'a str,
        /// A `snapshot` event (the book is replaced) rather than `update`.
        snapshot: bool,
        /// Connection-wide message sequence number.
        sequence_num: u64,
        /// Message `timestamp`, ns since the epoch.
        time_ns: u64,
    },
    /// Trades for `product` (in the trade buffer).
    Trades {
        /// Product id.
        product: &'a str,
        /// A `snapshot` event: recent trades the venue replays on subscribing, not new ones.
        snapshot: bool,
        /// Connection-wide message sequence number.
        sequence_num: u64,
    },
    /// Subscriptions acknowledgements and heartbeats.
    Control {
        /// Connection-wide message sequence number.
        sequence_num: u64,
    },
}

/// One trade from `market_trades`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdvancedTrade {
    /// Price, ticks.
    pub px: i64,
    /// Size, lots.
    pub qty: i64,
    /// `side` was `BUY`.
    pub buy: bool,
}

/// Why a message could not be decoded.
pub type AdvancedError = crate::json::MsgError;

/// The decoder: owns simd-json's buffers and tape, reused for every message.
pub struct AdvancedDecoder {
    parser: TapeParser,
}

impl Default for AdvancedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl AdvancedDecoder {
    /// A decoder with empty buffers.
    pub fn new() -> Self {
        AdvancedDecoder {
            parser: TapeParser::new(),
        }
    }

    /// Decodes one frame (parsed in place); `levels` and `trades` are cleared first.
    ///
    /// # Errors
    /// [`AdvancedError`].
    pub fn decode<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<AdvancedTrade>,
    ) -> Result<AdvancedMsg<'i>, AdvancedError> {
        levels.clear();
        trades.clear();
        if let Some(m) = scan(frame, p, levels, trades) {
            let frame: &'i [u8] = frame;
            // The scanner admits only printable ASCII in strings, so this cannot fail.
            let product = std::str::from_utf8(&frame[m.product.0..m.product.1])
                .map_err(|_| AdvancedError::Field("product_id"))?;
            return Ok(match m.level2 {
                Some((snapshot, time_ns)) => AdvancedMsg::Level2 {
                    product,
                    snapshot,
                    sequence_num: m.sequence_num,
                    time_ns,
                },
                None => AdvancedMsg::Trades {
                    product,
                    snapshot: m.snapshot,
                    sequence_num: m.sequence_num,
                },
            });
        }
        self.decode_tape(frame, p, levels, trades)
    }

    /// [`decode`](Self::decode) through simd-json's tape alone, for any frame: what `decode`
    /// falls back to for frames its one-pass path does not take, and what it must agree with
    /// on every frame.
    ///
    /// # Errors
    /// [`AdvancedError`].
    pub fn decode_tape<'i>(
        &mut self,
        frame: &'i mut [u8],
        p: Precision,
        levels: &mut Vec<LevelUpdate>,
        trades: &mut Vec<AdvancedTrade>,
    ) -> Result<AdvancedMsg<'i>, AdvancedError> {
        levels.clear();
        trades.clear();
        self.parser
            .parse(frame, AdvancedError::Json, |v| walk(v, p, levels, trades))
    }
}

/// A message read by [`scan`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Scanned {
    /// The product's byte range in the frame.
    product: (usize, usize),
    sequence_num: u64,
    /// `l2_data`: (a snapshot, the message time); `None` for `market_trades`.
    level2: Option<(bool, u64)>,
    /// The events are snapshots (either channel).
    snapshot: bool,
}

/// The one-pass path for `l2_data` and `market_trades` messages, levels and trades appended to
/// the buffers in document order as the tape path appends them, the full JSON grammar checked.
/// The message's members may come in any order, but `channel` before `events` (what the venue
/// sends), and each level or trade object is first tried in the venue's key order. `None` for
/// every other frame (control channels, errors, repeated keys, anything outside
/// [`crate::json_scan`]'s subset): the tape path decides those, and on the frames this accepts
/// both give the same result.
fn scan(
    frame: &[u8],
    p: Precision,
    levels: &mut Vec<LevelUpdate>,
    trades: &mut Vec<AdvancedTrade>,
) -> Option<Scanned> {
    let mut c = Cursor::new(frame);
    // The venue's own header first; any other order or spacing goes through the member loop.
    if let Some((channel, timestamp, sequence_num)) = usual_header(&mut c) {
        let events = events(&mut c, channel, p, levels, trades)?;
        c.expect(b"}")?;
        return finish(&mut c, Some(timestamp), Some(sequence_num), Some(events));
    }
    levels.clear();
    trades.clear();
    c = Cursor::new(frame);
    if c.open_object()? {
        return None;
    }
    let (mut channel, mut timestamp, mut sequence_num) = (None, None, None);
    // (product, level2, snapshot) of the events, once read.
    let mut read = None::<Events>;
    loop {
        match c.key()? {
            b"channel" if channel.is_none() => {
                let (s, e) = c.string()?;
                channel = Some(&frame[s..e]);
            }
            b"timestamp" if timestamp.is_none() => timestamp = Some(c.value()?),
            b"sequence_num" if sequence_num.is_none() => sequence_num = Some(c.value()?),
            b"events" if read.is_none() => {
                read = Some(events(&mut c, channel?, p, levels, trades)?);
            }
            b"channel" | b"timestamp" | b"sequence_num" | b"events" => return None,
            _ => {
                c.value()?;
            }
        }
        if !c.more(b'}')? {
            break;
        }
    }
    finish(&mut c, timestamp, sequence_num, read)
}

/// `{"channel":"…","client_id":"…","timestamp":"…","sequence_num":N,"events":` as the venue
/// lays it out, keys and punctuation matched as whole byte strings: the channel, timestamp and
/// sequence number. `None` as soon as anything differs.
#[inline(always)]
fn usual_header<'a>(c: &mut Cursor<'a>) -> Option<(&'a [u8], Scalar, Scalar)> {
    c.expect(b"{\"channel\":")?;
    let (s, e) = c.string()?;
    c.expect(b",\"client_id\":")?;
    c.string()?;
    c.expect(b",\"timestamp\":")?;
    let (ts, te) = c.string()?;
    c.expect(b",\"sequence_num\":")?;
    let sequence_num = c.uint()?;
    c.expect(b",\"events\":")?;
    Some((
        &c.bytes()[s..e],
        Scalar::Str(ts, te),
        Scalar::UInt(sequence_num),
    ))
}

/// What an `events` array held: the product's byte range, whether the channel is `l2_data`
/// (else `market_trades`), whether the events are snapshots.
type Events = ((usize, usize), bool, bool);

/// The `events` array of a `channel` message.
fn events(
    c: &mut Cursor<'_>,
    channel: &[u8],
    p: Precision,
    levels: &mut Vec<LevelUpdate>,
    trades: &mut Vec<AdvancedTrade>,
) -> Option<Events> {
    match channel {
        b"l2_data" => {
            let (product, snapshot) = l2_events(c, p, levels)?;
            Some((product, true, snapshot))
        }
        b"market_trades" => {
            let (product, snapshot) = trade_events(c, p, trades)?;
            Some((product, false, snapshot))
        }
        _ => None,
    }
}

/// The end of the message (nothing after its `}`) and the members read: the result.
fn finish(
    c: &mut Cursor<'_>,
    timestamp: Option<Scalar>,
    sequence_num: Option<Scalar>,
    events: Option<Events>,
) -> Option<Scanned> {
    let frame = c.bytes();
    if !c.at_end() {
        return None;
    }
    let Some(Scalar::UInt(sequence_num)) = sequence_num else {
        return None;
    };
    let (product, l2, snapshot) = events?;
    let level2 = if l2 {
        let Some(Scalar::Str(s, e)) = timestamp else {
            return None;
        };
        Some((snapshot, parse_utc_ns_bytes(&frame[s..e])?))
    } else {
        None
    };
    Some(Scanned {
        product,
        sequence_num,
        level2,
        snapshot,
    })
}

/// Keeps the first product seen in `product`; `None` if `next` is another one.
fn same(frame: &[u8], product: &mut Option<(usize, usize)>, next: (usize, usize)) -> Option<()> {
    match *product {
        Some((s, e)) if frame[s..e] != frame[next.0..next.1] => None,
        Some(_) => Some(()),
        None => {
            *product = Some(next);
            Some(())
        }
    }
}

/// An `l2_data` message's `events` array: the product and whether the events are snapshots
/// (all of one product and one type, at least one event, as the tape path requires).
fn l2_events(
    c: &mut Cursor<'_>,
    p: Precision,
    out: &mut Vec<LevelUpdate>,
) -> Option<((usize, usize), bool)> {
    let frame = c.bytes();
    c.eat(b'[')?;
    let (mut product, mut snapshot) = (None, None::<bool>);
    loop {
        // The venue's `{"type":"update"|"snapshot","product_id":"…","updates":[…]}` first.
        let usual = if c.lit(b"{\"type\":\"update\",\"product_id\":") {
            Some(false)
        } else if c.lit(b"{\"type\":\"snapshot\",\"product_id\":") {
            Some(true)
        } else {
            None
        };
        if let Some(snap) = usual {
            let prod = c.string()?;
            c.expect(b",\"updates\":")?;
            l2_updates(c, p, out)?;
            c.expect(b"}")?;
            if snapshot.is_some_and(|x| x != snap) {
                return None;
            }
            snapshot = Some(snap);
            same(frame, &mut product, prod)?;
            if !c.more(b']')? {
                break;
            }
            continue;
        }
        if c.open_object()? {
            return None;
        }
        let (mut kind, mut prod, mut updates) = (None, None, false);
        loop {
            match c.key()? {
                b"type" if kind.is_none() => kind = Some(c.string()?),
                b"product_id" if prod.is_none() => prod = Some(c.string()?),
                b"updates" if !updates => {
                    updates = true;
                    l2_updates(c, p, out)?;
                }
                b"type" | b"product_id" | b"updates" => return None,
                _ => {
                    c.value()?;
                }
            }
            if !c.more(b'}')? {
                break;
            }
        }
        let (s, e) = kind?;
        let snap = match &frame[s..e] {
            b"snapshot" => true,
            b"update" => false,
            _ => return None,
        };
        if snapshot.is_some_and(|x| x != snap) || !updates {
            return None;
        }
        snapshot = Some(snap);
        same(frame, &mut product, prod?)?;
        if !c.more(b']')? {
            break;
        }
    }
    Some((product?, snapshot?))
}

/// `[{"side":..,"event_time":..,"price_level":..,"new_quantity":..}, ...]` into `out`.
fn l2_updates(c: &mut Cursor<'_>, p: Precision, out: &mut Vec<LevelUpdate>) -> Option<()> {
    c.eat(b'[')?;
    if c.peek()? == b']' {
        return c.eat(b']');
    }
    loop {
        let at = c.clone();
        let level = match l2_update_usual(c, p) {
            Some(l) => l,
            None => {
                *c = at;
                l2_update_any_order(c, p)?
            }
        };
        out.push(level);
        if !c.more(b']')? {
            return Some(());
        }
    }
}

/// One level in the venue's layout, keys and punctuation matched as whole byte strings.
#[inline(always)]
fn l2_update_usual(c: &mut Cursor<'_>, p: Precision) -> Option<LevelUpdate> {
    let bid = if c.lit(b"{\"side\":\"bid\",\"event_time\":") {
        true
    } else if c.lit(b"{\"side\":\"offer\",\"event_time\":") {
        false
    } else {
        return None;
    };
    c.string()?;
    c.expect(b",\"price_level\":")?;
    let px = c.decimal(p.px)?;
    c.expect(b",\"new_quantity\":")?;
    let qty = c.decimal(p.qty)?;
    c.expect(b"}")?;
    Some(LevelUpdate { bid, px, qty })
}

/// One level with its members in any order and any whitespace.
fn l2_update_any_order(c: &mut Cursor<'_>, p: Precision) -> Option<LevelUpdate> {
    if c.open_object()? {
        return None;
    }
    let (mut side, mut px, mut qty) = (None, None, None);
    loop {
        match c.key()? {
            b"side" if side.is_none() => {
                let (s, e) = c.string()?;
                side = Some(match &c.bytes()[s..e] {
                    b"bid" => true,
                    b"offer" | b"ask" => false,
                    _ => return None,
                });
            }
            b"price_level" if px.is_none() => px = Some(c.decimal(p.px)?),
            b"new_quantity" if qty.is_none() => qty = Some(c.decimal(p.qty)?),
            b"side" | b"price_level" | b"new_quantity" => return None,
            _ => {
                c.value()?;
            }
        }
        if !c.more(b'}')? {
            break;
        }
    }
    Some(LevelUpdate {
        bid: side?,
        px: px?,
        qty: qty?,
    })
}

/// A `market_trades` message's `events` array, trades into `out`: the one product of all the
/// trades (at least one trade, as the tape path requires) and whether the events are snapshots
/// (all of one type, as the tape path requires).
fn trade_events(
    c: &mut Cursor<'_>,
    p: Precision,
    out: &mut Vec<AdvancedTrade>,
) -> Option<((usize, usize), bool)> {
    let frame = c.bytes();
    c.eat(b'[')?;
    let mut product = None;
    let mut snapshot = None::<bool>;
    let mut kind = |snap: bool| -> Option<()> {
        if snapshot.is_some_and(|x| x != snap) {
            return None;
        }
        snapshot = Some(snap);
        Some(())
    };
    loop {
        // The venue's `{"type":"snapshot"|"update","trades":[…]}` first.
        let usual = if c.lit(b"{\"type\":\"update\",\"trades\":") {
            Some(false)
        } else if c.lit(b"{\"type\":\"snapshot\",\"trades\":") {
            Some(true)
        } else {
            None
        };
        if let Some(snap) = usual {
            kind(snap)?;
            trade_list(c, p, out, &mut product)?;
            c.expect(b"}")?;
            if !c.more(b']')? {
                break;
            }
            continue;
        }
        if c.open_object()? {
            return None;
        }
        let (mut ty, mut listed) = (None, false);
        loop {
            match c.key()? {
                b"type" if ty.is_none() => ty = Some(c.string()?),
                b"trades" if !listed => {
                    listed = true;
                    trade_list(c, p, out, &mut product)?;
                }
                b"type" | b"trades" => return None,
                _ => {
                    c.value()?;
                }
            }
            if !c.more(b'}')? {
                break;
            }
        }
        let (s, e) = ty?;
        match &frame[s..e] {
            b"snapshot" if listed => kind(true)?,
            b"update" if listed => kind(false)?,
            _ => return None,
        }
        if !c.more(b']')? {
            break;
        }
    }
    Some((product?, snapshot?))
}

/// `[{"trade_id":..,"product_id":..,"price":..,"size":..,"side":..,"time":..}, ...]` into
/// `out`, members in any order.
fn trade_list(
    c: &mut Cursor<'_>,
    p: Precision,
    out: &mut Vec<AdvancedTrade>,
    product: &mut Option<(usize, usize)>,
) -> Option<()> {
    let frame = c.bytes();
    c.eat(b'[')?;
    if c.peek()? == b']' {
        return c.eat(b']');
    }
    loop {
        let at = c.clone();
        if let Some((prod, trade)) = trade_usual(c, p) {
            same(frame, product, prod)?;
            out.push(trade);
            if !c.more(b']')? {
                return Some(());
            }
            continue;
        }
        *c = at;
        if c.open_object()? {
            return None;
        }
        let (mut prod, mut buy, mut px, mut qty) = (None, None, None, None);
        loop {
            match c.key()? {
                b"product_id" if prod.is_none() => prod = Some(c.string()?),
                b"side" if buy.is_none() => {
                    let (s, e) = c.string()?;
                    buy = Some(match &frame[s..e] {
                        b"BUY" => true,
                        b"SELL" => false,
                        _ => return None,
                    });
                }
                b"price" if px.is_none() => px = Some(c.decimal(p.px)?),
                b"size" if qty.is_none() => qty = Some(c.decimal(p.qty)?),
                b"product_id" | b"side" | b"price" | b"size" => return None,
                _ => {
                    c.value()?;
                }
            }
            if !c.more(b'}')? {
                break;
            }
        }
        same(frame, product, prod?)?;
        out.push(AdvancedTrade {
            px: px?,
            qty: qty?,
            buy: buy?,
        });
        if !c.more(b']')? {
            return Some(());
        }
    }
}

/// One trade in the venue's layout, keys and punctuation matched as whole byte strings: its
/// product's byte range and the trade.
#[inline(always)]
fn trade_usual(c: &mut Cursor<'_>, p: Precision) -> Option<((usize, usize), AdvancedTrade)> {
    c.expect(b"{\"trade_id\":")?;
    c.string()?;
    c.expect(b",\"product_id\":")?;
    let product = c.string()?;
    c.expect(b",\"price\":")?;
    let px = c.decimal(p.px)?;
    c.expect(b",\"size\":")?;
    let qty = c.decimal(p.qty)?;
    let buy = if c.lit(b",\"side\":\"BUY\"") {
        true
    } else {
        c.expect(b",\"side\":\"SELL\"")?;
        false
    };
    c.expect(b",\"time\":")?;
    c.string()?;
    c.expect(b"}")?;
    Some((product, AdvancedTrade { px, qty, buy }))
}

fn s<'i>(v: &V<'_, 'i>, key: &'static str) -> Result<&'i str, AdvancedError> {
    v.get(key)
        .and_then(|x| x.into_string())
        .ok_or(AdvancedError::Field(key))
}

fn walk<'i>(
    v: V<'_, 'i>,
    p: Precision,
    levels: &mut Vec<LevelUpdate>,
    trades: &mut Vec<AdvancedTrade>,
) -> Result<AdvancedMsg<'i>, AdvancedError> {
    let channel = s(&v, "channel")?;
    let sequence_num = v
        .get("sequence_num")
        .and_then(|x| x.as_u64())
        .ok_or(AdvancedError::Field("sequence_num"))?;
    match channel {
        "subscriptions" | "heartbeats" => return Ok(AdvancedMsg::Control { sequence_num }),
        "l2_data" | "market_trades" => {}
        _ => return Err(AdvancedError::Unknown),
    }
    let events = v
        .get("events")
        .and_then(|x| x.into_array())
        .ok_or(AdvancedError::Field("events"))?;
    let mut product: Option<&'i str> = None;
    let mut same = |p: &'i str| -> Result<(), AdvancedError> {
        match product {
            Some(q) if q != p => Err(AdvancedError::Field("product_id")),
            _ => {
                product = Some(p);
                Ok(())
            }
        }
    };
    if channel == "l2_data" {
        let time_ns = parse_utc_ns(s(&v, "timestamp")?).ok_or(AdvancedError::Field("timestamp"))?;
        let mut snapshot = None;
        for e in events.iter() {
            let snap = match s(&e, "type")? {
                "snapshot" => true,
                "update" => false,
                _ => return Err(AdvancedError::Unknown),
            };
            if snapshot.is_some_and(|x| x != snap) {
                return Err(AdvancedError::Field("type"));
            }
            snapshot = Some(snap);
            same(s(&e, "product_id")?)?;
            let ups = e
                .get("updates")
                .and_then(|x| x.into_array())
                .ok_or(AdvancedError::Field("updates"))?;
            for u in ups.iter() {
                let bid = match s(&u, "side")? {
                    "bid" => true,
                    "offer" | "ask" => false,
                    _ => return Err(AdvancedError::Field("side")),
                };
                levels.push(LevelUpdate {
                    bid,
                    px: decimal(s(&u, "price_level")?, "price_level", p.px)?,
                    qty: decimal(s(&u, "new_quantity")?, "new_quantity", p.qty)?,
                });
            }
        }
        return Ok(AdvancedMsg::Level2 {
            product: product.ok_or(AdvancedError::Field("events"))?,
            snapshot: snapshot.unwrap_or(false),
            sequence_num,
            time_ns,
        });
    }
    let mut snapshot = None;
    for e in events.iter() {
        let snap = match s(&e, "type")? {
            "snapshot" => true,
            "update" => false,
            _ => return Err(AdvancedError::Unknown),
        };
        if snapshot.is_some_and(|x| x != snap) {
            return Err(AdvancedError::Field("type"));
        }
        snapshot = Some(snap);
        let ts = e
            .get("trades")
            .and_then(|x| x.into_array())
            .ok_or(AdvancedError::Field("trades"))?;
        for t in ts.iter() {
            same(s(&t, "product_id")?)?;
            let buy = match s(&t, "side")? {
                "BUY" => true,
                "SELL" => false,
                _ => return Err(AdvancedError::Field("side")),
            };
            trades.push(AdvancedTrade {
                px: decimal(s(&t, "price")?, "price", p.px)?,
                qty: decimal(s(&t, "size")?, "size", p.qty)?,
                buy,
            });
        }
    }
    Ok(AdvancedMsg::Trades {
        product: product.ok_or(AdvancedError::Field("trades"))?,
        snapshot: snapshot.unwrap_or(false),
        sequence_num,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Precision = Precision { px: 2, qty: 8 };

    fn dec(
        s: &str,
    ) -> (
        Result<String, AdvancedError>,
        Vec<LevelUpdate>,
        Vec<AdvancedTrade>,
    ) {
        let mut d = AdvancedDecoder::new();
        let (mut lv, mut tr) = (Vec::new(), Vec::new());
        let mut b = s.as_bytes().to_vec();
        let r = d
            .decode(&mut b, P, &mut lv, &mut tr)
            .map(|m| format!("{m:?}"));
        (r, lv, tr)
    }

    /// Trades of an `update` event are new; a message mixing snapshot and update events is a
    /// field error on both paths.
    #[test]
    fn trade_updates_and_mixed_types() {
        let t = r#"{"trade_id":"1","product_id":"ETH-USD","price":"1.00","size":"2","side":"SELL","time":"2023-02-09T20:19:35Z"}"#;
        let one = |ty: &str| format!(r#"{{"type":"{ty}","trades":[{t}]}}"#);
        let msg = |events: String| {
            format!(
                r#"{{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35Z","sequence_num":7,"events":[{events}]}}"#
            )
        };
        let (r, _, tr) = dec(&msg(one("update")));
        assert_eq!(
            r.unwrap(),
            "Trades { product: \"ETH-USD\", snapshot: false, sequence_num: 7 }"
        );
        assert_eq!(tr.len(), 1);
        let mixed = msg(format!("{},{}", one("snapshot"), one("update")));
        assert_eq!(dec(&mixed).0, Err(AdvancedError::Field("type")));
        let mut b = mixed.into_bytes();
        let (mut lv, mut tr) = (Vec::new(), Vec::new());
        let tape = AdvancedDecoder::new().decode_tape(&mut b, P, &mut lv, &mut tr);
        assert_eq!(tape.map(|_| ()), Err(AdvancedError::Field("type")));
    }

    /// Shapes as Coinbase's Advanced Trade websocket channel docs show them.
    #[test]
    fn documented_shapes() {
        let (r, lv, _) = dec(
            r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":0,"events":[{"type":"snapshot","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"1970-01-01T00:00:00Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"1970-01-01T00:00:00Z","price_level":"21921.74","new_quantity":"0.5"}]}]}"#,
        );
        // 2023-02-09T20:32:50Z = 1675974770 s (python's datetime(...).timestamp()).
        assert_eq!(
            r.unwrap(),
            "Level2 { product: \"BTC-USD\", snapshot: true, sequence_num: 0, time_ns: 1675974770714964855 }"
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: true,
                    px: 2_192_173,
                    qty: 6_317_902
                },
                LevelUpdate {
                    bid: false,
                    px: 2_192_174,
                    qty: 50_000_000
                },
            ]
        );
        let (r, _, tr) = dec(
            r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":3,"events":[{"type":"snapshot","trades":[{"trade_id":"000000000","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"}]}]}"#,
        );
        assert_eq!(
            r.unwrap(),
            "Trades { product: \"ETH-USD\", snapshot: true, sequence_num: 3 }"
        );
        assert_eq!(
            tr,
            vec![AdvancedTrade {
                px: 126_001,
                qty: 30_000_000,
                buy: true
            }]
        );
        let (r, _, _) = dec(
            r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":5,"events":[{"current_time":"2023-06-23 20:31:56.121961769 +0000 UTC m=+91717.525857105","heartbeat_counter":3049}]}"#,
        );
        assert_eq!(r.unwrap(), "Control { sequence_num: 5 }");
        assert_eq!(
            dec(r#"{"channel":"candles","sequence_num":1,"events":[]}"#).0,
            Err(AdvancedError::Unknown)
        );
        assert_eq!(
            dec(r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"up","price_level":"1","new_quantity":"1"}]}]}"#).0,
            Err(AdvancedError::Field("side"))
        );
        assert_eq!(
            dec(r#"{"channel":"market_trades","sequence_num":1,"events":[{"type":"update","trades":[{"product_id":"A","price":"1","size":"1","side":"BUY"},{"product_id":"B","price":"1","size":"1","side":"SELL"}]}]}"#).0,
            Err(AdvancedError::Field("product_id"))
        );
        assert_eq!(dec("{").0, Err(AdvancedError::Json));
    }

    /// Both paths on one frame: results, levels and trades (as text).
    fn both(frame: &[u8]) -> [String; 2] {
        let mut d = AdvancedDecoder::new();
        let (mut a, mut b) = (frame.to_vec(), frame.to_vec());
        let (mut la, mut ta) = (
            vec![LevelUpdate {
                bid: true,
                px: 1,
                qty: 1,
            }],
            Vec::new(),
        );
        let (mut lb, mut tb) = (Vec::new(), Vec::new());
        let ra = d.decode(&mut a, P, &mut la, &mut ta);
        let ra = format!("{ra:?} {la:?} {ta:?}");
        let rb = d.decode_tape(&mut b, P, &mut lb, &mut tb);
        let rb = format!("{rb:?} {lb:?} {tb:?}");
        [ra, rb]
    }

    const L2_UPDATE: &str = r#"{"channel":"l2_data","client_id":"","timestamp":"2023-02-09T20:32:50.714964855Z","sequence_num":7,"events":[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73","new_quantity":"0.06317902"},{"side":"offer","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.74","new_quantity":"0"}]}]}"#;
    const TRADES: &str = r#"{"channel":"market_trades","client_id":"","timestamp":"2023-02-09T20:19:35.39625135Z","sequence_num":3,"events":[{"type":"update","trades":[{"trade_id":"1","product_id":"ETH-USD","price":"1260.01","size":"0.3","side":"BUY","time":"2019-08-14T20:42:27.265Z"},{"trade_id":"2","product_id":"ETH-USD","price":"1260.00","size":"1","side":"SELL","time":"2019-08-14T20:42:27.266Z"}]}]}"#;

    #[test]
    fn one_pass_path_reads_level2_and_trades() {
        let (mut lv, mut tr) = (Vec::new(), Vec::new());
        let m = scan(L2_UPDATE.as_bytes(), P, &mut lv, &mut tr).unwrap();
        assert_eq!(&L2_UPDATE[m.product.0..m.product.1], "BTC-USD");
        // 2023-02-09T20:32:50Z = 1675974770 s (python's datetime(...).timestamp()).
        assert_eq!(
            (m.sequence_num, m.level2),
            (7, Some((false, 1_675_974_770_714_964_855)))
        );
        assert_eq!(
            lv,
            vec![
                LevelUpdate {
                    bid: true,
                    px: 2_192_173,
                    qty: 6_317_902
                },
                LevelUpdate {
                    bid: false,
                    px: 2_192_174,
                    qty: 0
                },
            ]
        );
        lv.clear();
        let m = scan(TRADES.as_bytes(), P, &mut lv, &mut tr).unwrap();
        assert_eq!(&TRADES[m.product.0..m.product.1], "ETH-USD");
        assert_eq!((m.sequence_num, m.level2), (3, None));
        assert_eq!(
            tr,
            vec![
                AdvancedTrade {
                    px: 126_001,
                    qty: 30_000_000,
                    buy: true
                },
                AdvancedTrade {
                    px: 126_000,
                    qty: 100_000_000,
                    buy: false
                },
            ]
        );
        // Another member order and whitespace inside a level and a trade, a snapshot of two
        // events, the "ask" side spelling: taken, and the same through both paths.
        let spaced = L2_UPDATE.replacen(
            r#"{"side":"bid","event_time":"2023-02-09T20:32:50.714964855Z","price_level":"21921.73""#,
            r#"{ "price_level" : "21921.73", "side":"bid""#,
            1,
        );
        let two = r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"snapshot","product_id":"X","updates":[{"side":"ask","price_level":"1","new_quantity":"2"}]},{"product_id":"X","type":"snapshot","updates":[]}]}"#;
        let trades = TRADES.replacen(
            r#"{"trade_id":"1","product_id":"ETH-USD","#,
            r#"{"product_id":"ETH-USD", "trade_id":"1","#,
            1,
        );
        for s in [L2_UPDATE, TRADES, spaced.as_str(), two, trades.as_str()] {
            lv.clear();
            tr.clear();
            assert!(scan(s.as_bytes(), P, &mut lv, &mut tr).is_some(), "{s}");
            let [a, b] = both(s.as_bytes());
            assert_eq!(a, b, "{s}");
        }
    }

    #[test]
    fn one_pass_path_hands_over_what_it_does_not_take() {
        for s in [
            // Control channels, events before the channel, no events, mixed products, mixed
            // types, a repeated key, an unknown side, a bad timestamp, an escape, an unknown
            // event type, trailing bytes.
            r#"{"channel":"heartbeats","client_id":"","timestamp":"2023-06-23T20:31:26.122969572Z","sequence_num":5,"events":[{"current_time":"x","heartbeat_counter":3049}]}"#,
            r#"{"events":[{"type":"update","product_id":"X","updates":[]}],"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1}"#,
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[]}"#,
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","product_id":"X","updates":[]},{"type":"update","product_id":"Y","updates":[]}]}"#,
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","product_id":"X","updates":[]},{"type":"snapshot","product_id":"X","updates":[]}]}"#,
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"sequence_num":2,"events":[{"type":"update","product_id":"X","updates":[]}]}"#,
            r#"{"channel":"l2_data","timestamp":"2023-02-09T20:32:50Z","sequence_num":1,"events":[{"type":"update","product_id":"X","updates":[{"side":"up","price_level":"1","new_quantity":"1"}]}]}"#,
            r#"{"channel":"l2_data","timestamp":"today","sequence_num":1,"events":[{"type":"update","product_id":"X","updates":[]}]}"#,
            r#"{"channel":"market_trades","sequence_num":1,"events":[{"type":"update","trades":[{"product_id":"\u0041","price":"1","size":"1","side":"BUY"}]}]}"#,
            r#"{"channel":"market_trades","sequence_num":1,"events":[{"type":"other","trades":[{"product_id":"A","price":"1","size":"1","side":"BUY"}]}]}"#,
            r#"{"channel":"market_trades","sequence_num":1,"events":[{"type":"update","trades":[{"product_id":"A","price":"1","size":"1","side":"BUY"}]}]} x"#,
        ] {
            let (mut lv, mut tr) = (Vec::new(), Vec::new());
            assert!(scan(s.as_bytes(), P, &mut lv, &mut tr).is_none(), "{s}");
            let [a, b] = both(s.as_bytes());
            assert_eq!(a, b, "{s}");
        }
    }

    proptest::proptest! {
        /// Mutated documented frames: both paths agree on the result, levels and trades.
        #[test]
        fn one_pass_path_equals_tape_path_on_mutations(
            which in 0usize..2,
            edits in proptest::collection::vec((0usize..400, 0u8..16, 0usize..30), 1..4),
        ) {
            const PUNCT: &[u8; 16] = b"{}[]\",:0-.e\\ 9ax";
            let mut b = [L2_UPDATE, TRADES][which].as_bytes().to_vec();
            for (at, what, n) in edits {
                if b.is_empty() {
                    break;
                }
                let k = at % b.len();
                match n % 3 {
                    0 => b[k] = PUNCT[usize::from(what)],
                    1 => b.insert(k, PUNCT[usize::from(what)]),
                    _ => {
                        let end = (k + n).min(b.len());
                        let span = b[k..end].to_vec();
                        b.splice(k..k, span);
                    }
                }
            }
            let [a, t] = both(&b);
            proptest::prop_assert_eq!(a, t, "{}", String::from_utf8_lossy(&b));
        }
    }
}
