//! Replay of a Coinbase Exchange capture (`snapshot`, `l2update`, `match`, `ticker`; any of the
//! three capture containers, plain or gzip) through one L2 book per product: the
//! [`crate::venue::coinbase`] machine's events through the price-level book stage.
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

use crate::l2state::{replay_l2, L2Summary};
pub use crate::l2state::{CryptoReplayError, CryptoReplayOptions};
use crate::venue::VenueFormat;

/// Replays a Coinbase Exchange capture.
///
/// # Errors
/// [`CryptoReplayError`].
pub fn replay_coinbase(
    input: impl BufRead,
    opts: CryptoReplayOptions<'_>,
) -> Result<L2Summary, CryptoReplayError> {
    replay_l2(VenueFormat::Coinbase, input, opts)
}
