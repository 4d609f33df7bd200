//! Kraken spot (websocket v2 or v1) as events, with the CRC32 checksum verified after every
//! book message that carries one.
//!
//! Sync as Kraken documents it: a snapshot replaces the book and syncs it; every update's levels
//! are applied (qty 0 removes a level), then the book is truncated to the subscribed depth (the
//! venue sends no removal for levels that fall out of it: [`Body::Depth`]), then the checksum is
//! compared with the book ([`Body::Checksum`], computed by the book stage as
//! [`ticklane_feeds::kraken::book_checksum`]). A mismatch marks the book invalid (counted as a
//! resync, the book emptied); it stays so until the next snapshot, which is what resubscribing
//! gives a live client. Updates while unsynced are counted and kept out of the book unless
//! unsynced books are accepted.
//!
//! The checksum needs the pair's price and quantity decimals as written on the wire: v1 strings
//! carry them (taken from the snapshot), v2 numbers do not, so v2 pairs need them from
//! `wire_precision`; without them checksums are counted as not verifiable.

use ticklane_engine::{Body, Side};
use ticklane_feeds::json::{LevelUpdate, Precision};
use ticklane_feeds::kraken::{KrakenDecoder, KrakenMsg, KrakenTrade};

use std::io::BufRead;

use super::L2Summary;
pub use super::{CryptoReplayError, CryptoReplayOptions};
pub use ticklane_feeds::kraken::book_checksum;

use super::{EventBuf, VenueFormat, VenueSync};

/// The Kraken machine.
pub struct Kraken {
    dec: KrakenDecoder,
    levels: Vec<LevelUpdate>,
    trades: Vec<KrakenTrade>,
    frame: Vec<u8>,
    // Configured wire decimals, and per instrument the ones used for the checksum.
    wire_precision: Vec<(String, Precision)>,
    wire: Vec<Option<Precision>>,
    default_depth: usize,
    // Frames this venue's decoder understood (control frames included, capture headers not).
    decoded: u64,
    tickers: Vec<u64>,
}

impl Kraken {
    /// A machine with no pairs yet.
    pub fn new(opts: &CryptoReplayOptions<'_>) -> Self {
        Kraken {
            dec: KrakenDecoder::new(),
            levels: Vec::with_capacity(4096),
            trades: Vec::with_capacity(256),
            frame: Vec::with_capacity(1 << 16),
            wire_precision: opts.wire_precision.clone(),
            wire: Vec::new(),
            default_depth: opts.book_depth.unwrap_or(10),
            decoded: 0,
            tickers: Vec::new(),
        }
    }
}

impl VenueSync for Kraken {
    fn format(&self) -> VenueFormat {
        VenueFormat::Kraken
    }

    fn on_frame(&mut self, ts: u64, json: &[u8], s: &mut L2Summary, out: &mut EventBuf) {
        out.at(ts);
        self.frame.clear();
        self.frame.extend_from_slice(json);
        let msg = match self
            .dec
            .decode(&mut self.frame, &mut self.levels, &mut self.trades)
        {
            Ok(m) => {
                self.decoded += 1;
                m
            }
            Err(e) => {
                s.count_error(e);
                return;
            }
        };
        let symbol = match msg {
            KrakenMsg::Book { symbol, .. }
            | KrakenMsg::Trades { symbol }
            | KrakenMsg::Ticker { symbol, .. } => symbol,
            KrakenMsg::Control => {
                s.control += 1;
                return;
            }
        };
        s.messages += 1;
        let i = out.instrument(symbol);
        let n = i.get();
        if self.wire.len() <= n {
            let configured = self
                .wire_precision
                .iter()
                .find(|(sym, _)| sym == symbol)
                .map(|&(_, p)| p);
            self.wire.resize(n + 1, None);
            self.wire[n] = configured;
            self.tickers.resize(n + 1, 0);
        }
        match msg {
            KrakenMsg::Book {
                snapshot,
                checksum,
                depth,
                wire: seen_wire,
                ..
            } => {
                let depth = depth.unwrap_or(self.default_depth);
                if self.wire[n].is_none() {
                    self.wire[n] = seen_wire;
                }
                if snapshot {
                    out.push(i, Body::SnapshotBegin);
                }
                out.levels(i, &self.levels);
                out.push(
                    i,
                    Body::Depth {
                        levels: depth.min(usize::from(u16::MAX)) as u16,
                    },
                );
                if snapshot {
                    out.push(i, Body::SnapshotEnd);
                }
                if let Some(crc) = checksum {
                    match self.wire[n] {
                        None => out.push(i, Body::ChecksumUnverified),
                        Some(w) => out.push(
                            i,
                            Body::Checksum {
                                crc,
                                px_decimals: w.px.min(u32::from(u8::MAX)) as u8,
                                qty_decimals: w.qty.min(u32::from(u8::MAX)) as u8,
                            },
                        ),
                    }
                }
            }
            KrakenMsg::Trades { .. } => {
                for t in &self.trades {
                    // The taker bought: the resting order was a sell.
                    out.trade(i, t.px, t.qty, if t.buy { Side::Ask } else { Side::Bid });
                    out.end_message();
                }
            }
            KrakenMsg::Ticker { bid, ask, .. } => {
                self.tickers[n] += 1;
                out.top_check(i, (bid.0, None), (ask.0, None));
            }
            KrakenMsg::Control => {}
        }
    }

    fn lose_sync(&mut self, ts: u64, out: &mut EventBuf) {
        out.lose_all(ts);
    }

    fn finish(&mut self, s: &mut L2Summary) -> Result<(), u64> {
        super::finish_tickers(self.decoded, self.tickers.iter().copied(), s)
    }
}

/// Replays a Kraken capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_kraken(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    crate::stages::l2::replay_l2(VenueFormat::Kraken, input, opts)
}
