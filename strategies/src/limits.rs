//! Ranges of the order-size keys every built-in shares (`size`, `max_position`), so the same
//! key means and accepts the same in each.
//!
//! Lots are the data's own: a share on ITCH and LOBSTER, 1e-8 of a coin on the L2 crypto
//! captures (so 1e12 lots is 10,000 BTC there). The bounds keep `size` and the position arithmetic
//! far from `i64` overflow.

use ticklane_engine::config::Range;

/// Valid `size`: lots per order (0 would send nothing; `max_position = 0` is the way to trade
/// signals only).
pub const SIZE: Range<u64> = Range::new(1, 1_000_000_000_000, "lots per order");

/// Valid `max_position`: the largest absolute position, lots (0: signals only).
pub const MAX_POSITION: Range<i64> = Range::new(
    0,
    1_000_000_000_000_000,
    "largest absolute position, lots (0: signals only)",
);
