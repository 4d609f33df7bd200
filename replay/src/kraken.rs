//! Replay of a Kraken spot capture (websocket v2 or v1; any of the three capture containers,
//! plain or gzip) through one L2 book per pair, with the CRC32 checksum verified after every
//! book message that carries one.
//!
//! Sync as Kraken documents it: a snapshot replaces the book and syncs it; every update's levels
//! are applied (qty 0 removes a level), then the book is truncated to the subscribed depth (the
//! venue sends no removal for levels that fall out of it), then the checksum is compared with
//! [`book_checksum`] of our book. A mismatch marks the book invalid (counted as a resync, the
//! book emptied); it stays so until the next snapshot, which is what resubscribing gives a live
//! client. Updates while unsynced are counted and kept out of the book unless
//! `accept_unsynced`.
//!
//! The checksum needs the pair's price and quantity decimals as written on the wire: v1 strings
//! carry them (taken from the snapshot), v2 numbers do not, so v2 pairs need them from
//! `wire_precision`; without them checksums are counted as not verifiable.

use std::io::BufRead;
use std::time::Instant;

use ticklane_feeds::json::Precision;
use ticklane_feeds::kraken::{book_checksum, KrakenDecoder, KrakenMsg};

use crate::capture::{CaptureLine, SeenContainers};
use crate::l2state::{for_each_line, CryptoReplayError, CryptoReplayOptions, L2State, L2Summary};

/// Replays a Kraken capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_kraken(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    let started = Instant::now();
    let mut s = L2Summary {
        format: "kraken".into(),
        ..L2Summary::default()
    };
    let mut st = L2State::new(opts.accept_unsynced, opts.bbo_csv)
        .map_err(CryptoReplayError::Output)?
        .with_backtest(opts.backtest)?;
    let mut dec = KrakenDecoder::new();
    let mut levels = Vec::with_capacity(4096);
    let mut trades = Vec::with_capacity(256);
    let mut frame = Vec::with_capacity(1 << 16);
    // Per instrument: wire decimals for the checksum.
    let mut wire: Vec<Option<Precision>> = Vec::new();
    let mut seen = SeenContainers::default();
    // Frames this venue's decoder understood (control frames included, capture headers not).
    let mut decoded = 0u64;
    let default_depth = opts.book_depth.unwrap_or(10);
    for_each_line(input, &mut seen, &mut s, |l, s| {
        let (ts, json) = match l {
            CaptureLine::Frame { ts_ns, json, .. } => (ts_ns, json),
            CaptureLine::Rest { .. } => {
                s.unknown += 1;
                return Ok(());
            }
            CaptureLine::Meta { .. } => {
                s.control += 1;
                return Ok(());
            }
        };
        st.at(ts);
        frame.clear();
        frame.extend_from_slice(json);
        let msg = match dec.decode(&mut frame, &mut levels, &mut trades) {
            Ok(m) => {
                decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return Ok(());
            }
        };
        let symbol = match msg {
            KrakenMsg::Book { symbol, .. }
            | KrakenMsg::Trades { symbol }
            | KrakenMsg::Ticker { symbol, .. } => symbol,
            KrakenMsg::Control => {
                s.control += 1;
                return Ok(());
            }
        };
        s.messages += 1;
        let i = st.instr(symbol);
        if wire.len() <= i {
            let configured = opts
                .wire_precision
                .iter()
                .find(|(sym, _)| sym == symbol)
                .map(|&(_, p)| p);
            wire.resize(i + 1, None);
            wire[i] = configured;
        }
        match msg {
            KrakenMsg::Book {
                snapshot,
                checksum,
                depth,
                wire: seen_wire,
                ..
            } => {
                let depth = depth.unwrap_or(default_depth);
                if wire[i].is_none() {
                    wire[i] = seen_wire;
                }
                let synced = st.is_synced(i);
                if snapshot {
                    st.book(i).clear();
                    st.stats[i].snapshots += 1;
                } else if synced {
                    st.stats[i].updates += 1;
                } else {
                    st.stats[i].before_snapshot += 1;
                    if !opts.accept_unsynced {
                        return Ok(());
                    }
                }
                if snapshot {
                    st.apply_snapshot(i, &levels);
                } else {
                    st.apply(i, &levels);
                }
                st.book(i).truncate(depth);
                if snapshot {
                    st.set_synced(i, true);
                }
                if let (Some(c), true) = (checksum, st.is_synced(i)) {
                    match wire[i] {
                        None => st.stats[i].checksum_unverified += 1,
                        Some(w) if book_checksum(st.book(i), w) == c => {
                            st.stats[i].checksum_ok += 1;
                        }
                        Some(_) => {
                            st.stats[i].checksum_bad += 1;
                            st.set_synced(i, false);
                            if !opts.accept_unsynced {
                                st.book(i).clear();
                            }
                        }
                    }
                }
            }
            KrakenMsg::Trades { .. } => {
                for t in &trades {
                    // The taker bought: the resting order was a sell.
                    st.trade(i, t.px, t.qty, t.buy);
                }
            }
            KrakenMsg::Ticker { bid, ask, .. } => {
                st.stats[i].tickers += 1;
                if st.is_synced(i) {
                    let top = st.book(i).top();
                    st.stats[i].tickers_compared += 1;
                    if (top.bid.map(|l| l.px.0), top.ask.map(|l| l.px.0))
                        == (Some(bid.0), Some(ask.0))
                    {
                        st.stats[i].tickers_equal += 1;
                    }
                }
            }
            KrakenMsg::Control => {}
        }
        st.report(i).map_err(CryptoReplayError::Output)
    })?;
    s.container = seen.name().into();
    if decoded == 0 && s.lines > 0 {
        return Err(CryptoReplayError::WrongVenue {
            venue: "Kraken",
            bad: s.bad_total(),
        });
    }
    st.finish(&mut s).map_err(CryptoReplayError::Output)?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}
