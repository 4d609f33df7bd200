//! Order books.
//!
//! - [`l3`]: order-by-order books for every instrument at once (ITCH, LOBSTER).
//! - [`l2`]: price-level books with a synchronized flag (crypto diff streams, snapshots).
pub mod l2;
pub mod l3;

pub use l2::{L2Book, L2Books};
pub use l3::{Applied, Book, BookError, L3Books, Level, OrderTable, RestingOrder, Top};

use crate::{Px, Side};

/// Read access to one instrument's aggregated price levels, whatever kind of book holds them:
/// what strategies (through their book view) and the execution simulator need of a book.
pub trait LevelView {
    /// Levels of `side`, sorted worst first, so the best is the last.
    fn side_levels(&self, side: Side) -> &[Level];
    /// The level at `px` on `side`, if any.
    fn level_at(&self, side: Side, px: Px) -> Option<Level>;
    /// Best level of `side`.
    #[inline]
    fn best_level(&self, side: Side) -> Option<Level> {
        self.side_levels(side).last().copied()
    }
}

impl LevelView for Book {
    #[inline]
    fn side_levels(&self, side: Side) -> &[Level] {
        self.side_slice(side)
    }
    #[inline]
    fn level_at(&self, side: Side, px: Px) -> Option<Level> {
        self.level(side, px)
    }
}

impl LevelView for L2Book {
    #[inline]
    fn side_levels(&self, side: Side) -> &[Level] {
        self.side_slice(side)
    }
    #[inline]
    fn level_at(&self, side: Side, px: Px) -> Option<Level> {
        self.level(side, px)
    }
}
