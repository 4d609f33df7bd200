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

use crate::l2state::{replay_l2, L2Summary};
pub use crate::l2state::{CryptoReplayError, CryptoReplayOptions};
use crate::venue::VenueFormat;
pub use ticklane_feeds::kraken::book_checksum;

/// Replays a Kraken capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_kraken(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    replay_l2(VenueFormat::Kraken, input, opts)
}
