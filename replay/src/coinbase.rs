//! Replay of a Coinbase Exchange capture (`snapshot`, `l2update`, `match`, `ticker`; any of the
//! three capture containers, plain or gzip) through one L2 book per product.
//!
//! Sync, as Coinbase's level2 channel works: the channel sends a full `snapshot` of a product's
//! book on subscribing, then `l2update`s that set a level's size (0 removes it). A product's book
//! is unsynced until its snapshot; updates before it are counted and kept out of the book unless
//! `accept_unsynced`. (The level2 channel carries no sequence numbers, so there is no gap to
//! detect; a crossed book after an update is counted.)
//!
//! Cross-check: each `ticker` carries the best bid and ask as of its `time`. It is compared with
//! our book only where the two are aligned: the book is synced, has applied an update stamped at
//! or before the ticker's time, and the next update for that product is stamped after it, so the
//! book then holds exactly the updates up to the ticker's instant. The comparison is made just
//! before that next update is applied; tickers never followed by an update are not compared.
//!
//! Products get dense instrument indices in first-seen order; prices and sizes are kept at 8
//! decimals.

use std::io::BufRead;
use std::time::Instant;

use ticklane_feeds::coinbase::{CoinbaseDecoder, CoinbaseMsg};
use ticklane_feeds::json::Precision;

use crate::capture::{CaptureLine, SeenContainers};
use crate::l2state::{for_each_line, L2State, L2Summary, DECIMALS};
pub use crate::l2state::{CryptoReplayError, CryptoReplayOptions};

#[derive(Clone, Copy)]
struct PendingTicker {
    time: u64,
    bid: i64,
    ask: i64,
}

#[derive(Default)]
struct Align {
    last_update_time: Option<u64>,
    pending: Vec<PendingTicker>,
}

const P: Precision = Precision {
    px: DECIMALS,
    qty: DECIMALS,
};

/// Replays a Coinbase Exchange capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_coinbase(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    let started = Instant::now();
    let mut s = L2Summary {
        format: "coinbase".into(),
        ..L2Summary::default()
    };
    let mut st = L2State::new(opts.accept_unsynced, opts.bbo_csv)
        .map_err(CryptoReplayError::Output)?
        .with_backtest(opts.backtest)?;
    let mut dec = CoinbaseDecoder::new();
    let mut levels = Vec::with_capacity(4096);
    let mut frame = Vec::with_capacity(1 << 16);
    let mut align: Vec<Align> = Vec::new();
    let mut seen = SeenContainers::default();
    // Frames this venue's decoder understood (control frames included, capture headers not).
    let mut decoded = 0u64;
    for_each_line(input, &mut seen, &mut s, |l, s| {
        let (ts, json) = match l {
            CaptureLine::Frame { ts_ns, json, .. } => (ts_ns, json),
            CaptureLine::Rest { .. } => {
                // Coinbase's REST book has no place in a level2 websocket replay.
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
        let msg = match dec.decode(&mut frame, P, &mut levels) {
            Ok(m) => {
                decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return Ok(());
            }
        };
        let product = match msg {
            CoinbaseMsg::Snapshot { product }
            | CoinbaseMsg::L2Update { product, .. }
            | CoinbaseMsg::Match { product, .. }
            | CoinbaseMsg::Ticker { product, .. } => product,
            CoinbaseMsg::Control => {
                s.control += 1;
                return Ok(());
            }
        };
        s.messages += 1;
        let i = st.instr(product);
        if align.len() <= i {
            align.resize_with(i + 1, Align::default);
        }
        let a = &mut align[i];
        match msg {
            CoinbaseMsg::Snapshot { .. } => {
                st.apply_snapshot(i, &levels);
                st.stats[i].snapshots += 1;
                st.set_synced(i, true);
                a.last_update_time = None;
                a.pending.clear();
            }
            CoinbaseMsg::L2Update { time_ns, .. } => {
                if st.is_synced(i) {
                    if let Some(u) = time_ns {
                        // Tickers stamped before this update saw exactly the book as it is now.
                        let top = st.book(i).top();
                        let ours = (top.bid.map(|l| l.px.0), top.ask.map(|l| l.px.0));
                        let stats = &mut st.stats[i];
                        a.pending.retain(|t| {
                            if t.time < u {
                                stats.tickers_compared += 1;
                                if ours == (Some(t.bid), Some(t.ask)) {
                                    stats.tickers_equal += 1;
                                }
                                false
                            } else {
                                true
                            }
                        });
                    }
                    a.last_update_time = time_ns;
                    st.apply(i, &levels);
                    st.stats[i].updates += 1;
                } else {
                    st.stats[i].before_snapshot += 1;
                    if opts.accept_unsynced {
                        st.apply(i, &levels);
                    }
                }
            }
            CoinbaseMsg::Match {
                px,
                qty,
                maker_sell,
                ..
            } => st.trade(i, px, qty, maker_sell),
            CoinbaseMsg::Ticker {
                best_bid,
                best_ask,
                time_ns,
                ..
            } => {
                st.stats[i].tickers += 1;
                if let (true, Some(t), Some(u)) = (st.is_synced(i), time_ns, a.last_update_time) {
                    if u <= t {
                        a.pending.push(PendingTicker {
                            time: t,
                            bid: best_bid,
                            ask: best_ask,
                        });
                    }
                }
            }
            CoinbaseMsg::Control => {}
        }
        st.report(i).map_err(CryptoReplayError::Output)
    })?;
    s.container = seen.name().into();
    if decoded == 0 && s.lines > 0 {
        return Err(CryptoReplayError::WrongVenue {
            venue: "Coinbase",
            bad: s.bad_total(),
        });
    }
    st.finish(&mut s).map_err(CryptoReplayError::Output)?;
    s.elapsed_s = started.elapsed().as_secs_f64();
    Ok(s)
}
