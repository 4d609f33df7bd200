//! Price-level (L2) books, for venues that publish levels rather than orders (crypto diff
//! streams, snapshots).
//!
//! Same layout as the L3 book: a dense array of books by instrument, each side a vector of levels
//! sorted so the best is at the end. A level update sets a price's total quantity (0 removes it).
//! Each book also carries whether it is *synchronized*: a book built from diffs without a
//! snapshot, or after a sequence gap, is marked unsynced so strategies and reports can tell a
//! trustworthy book from a guess.

use crate::book::{Level, Top};
use crate::{InstrumentIdx, Px, Qty, Side};

/// One instrument's L2 book.
#[derive(Clone, Debug, Default)]
pub struct L2Book {
    /// Bids ascending (best = last); asks descending (best = last).
    sides: [Vec<Level>; 2],
    synced: bool,
}

#[inline]
fn better(side: Side, a: Px, b: Px) -> bool {
    match side {
        Side::Bid => a > b,
        Side::Ask => a < b,
    }
}

impl L2Book {
    /// An empty, unsynced book.
    pub fn new() -> Self {
        L2Book {
            sides: [Vec::with_capacity(64), Vec::with_capacity(64)],
            synced: false,
        }
    }

    /// Sets the quantity at `px` on `side` (0 removes the level). Returns whether the best level
    /// of that side may have changed.
    #[inline]
    pub fn set(&mut self, side: Side, px: Px, qty: Qty) -> bool {
        let v = &mut self.sides[side.index()];
        // Search from the best end: most updates are near the touch.
        let pos = v.partition_point(|l| better(side, px, l.px));
        let found = pos < v.len() && v[pos].px == px;
        let at_top = pos + usize::from(found) == v.len() || (!found && pos == v.len());
        match (found, qty.0) {
            (true, 0) => {
                v.remove(pos);
            }
            (true, _) => v[pos].qty = qty,
            (false, 0) => return false,
            (false, _) => v.insert(pos, Level { px, qty, orders: 0 }),
        }
        at_top
    }

    /// Keeps only the best `depth` levels of each side (venues that publish a fixed depth, such
    /// as Kraken, stop sending updates for levels that fall out of it).
    pub fn truncate(&mut self, depth: usize) {
        for v in &mut self.sides {
            let n = v.len().saturating_sub(depth);
            v.drain(..n);
        }
    }

    /// Empties both sides (a snapshot follows, or the book is being reset).
    pub fn clear(&mut self) {
        self.sides[0].clear();
        self.sides[1].clear();
    }

    /// Whether the book is known to be complete and current.
    pub fn is_synced(&self) -> bool {
        self.synced
    }

    /// Marks the book synchronized (after a snapshot) or not (after a gap).
    pub fn set_synced(&mut self, synced: bool) {
        self.synced = synced;
    }

    /// Best bid and offer.
    #[inline]
    pub fn top(&self) -> Top {
        Top {
            bid: self.sides[0].last().copied(),
            ask: self.sides[1].last().copied(),
        }
    }

    /// Levels of `side`, best first.
    pub fn levels(&self, side: Side) -> impl ExactSizeIterator<Item = &Level> + '_ {
        self.sides[side.index()].iter().rev()
    }

    /// Levels of `side`, worst first (the best is the last).
    #[inline]
    pub fn side_slice(&self, side: Side) -> &[Level] {
        &self.sides[side.index()]
    }

    /// The level at `px` on `side`, if any.
    #[inline]
    pub fn level(&self, side: Side, px: Px) -> Option<Level> {
        let v = &self.sides[side.index()];
        let pos = v.partition_point(|l| better(side, px, l.px));
        (pos < v.len() && v[pos].px == px).then(|| v[pos])
    }

    /// Whether the best bid is at or above the best ask (a sign of a missed update).
    pub fn is_crossed(&self) -> bool {
        matches!((self.sides[0].last(), self.sides[1].last()), (Some(b), Some(a)) if b.px >= a.px)
    }
}

/// L2 books for every instrument, by dense index.
#[derive(Clone, Debug, Default)]
pub struct L2Books {
    books: Vec<L2Book>,
}

impl L2Books {
    /// No books yet (created on first use).
    pub fn new() -> Self {
        Self::default()
    }

    /// The book of `instr`, created empty and unsynced on first use.
    pub fn book_mut(&mut self, instr: InstrumentIdx) -> &mut L2Book {
        if self.books.len() <= instr.get() {
            self.books.resize_with(instr.get() + 1, L2Book::new);
        }
        &mut self.books[instr.get()]
    }

    /// The book of `instr`, if it exists.
    pub fn book(&self, instr: InstrumentIdx) -> Option<&L2Book> {
        self.books.get(instr.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[test]
    fn set_update_remove_and_sync_flag() {
        let mut b = L2Book::new();
        assert!(!b.is_synced());
        assert!(b.set(Side::Bid, Px(100), Qty(5)));
        assert!(
            b.set(Side::Bid, Px(101), Qty(3)),
            "a better bid is a new top"
        );
        assert!(!b.set(Side::Bid, Px(99), Qty(1)), "a deeper level is not");
        assert!(b.set(Side::Bid, Px(101), Qty(7)));
        assert!(
            !b.set(Side::Ask, Px(105), Qty(0)),
            "removing an absent level changes nothing"
        );
        b.set(Side::Ask, Px(104), Qty(2));
        assert_eq!(b.top().bid.map(|l| (l.px, l.qty)), Some((Px(101), Qty(7))));
        assert!(b.set(Side::Bid, Px(101), Qty(0)));
        assert_eq!(b.top().bid.map(|l| l.px), Some(Px(100)));
        let bids: Vec<i64> = b.levels(Side::Bid).map(|l| l.px.0).collect();
        assert_eq!(bids, vec![100, 99]);
        assert!(!b.is_crossed());
        b.set(Side::Bid, Px(104), Qty(1));
        assert!(b.is_crossed());
        // Bids 104, 100, 99 and one ask: keep the best two of each side.
        b.truncate(2);
        let bids: Vec<i64> = b.levels(Side::Bid).map(|l| l.px.0).collect();
        assert_eq!(bids, vec![104, 100]);
        assert_eq!(b.levels(Side::Ask).len(), 1);
        b.set_synced(true);
        b.clear();
        assert_eq!(b.top(), Top::default());
    }

    #[test]
    fn books_are_per_instrument_and_created_unsynced() {
        let mut books = L2Books::new();
        assert!(books.book(InstrumentIdx(3)).is_none());
        books
            .book_mut(InstrumentIdx(3))
            .set(Side::Ask, Px(10), Qty(1));
        books.book_mut(InstrumentIdx(1)).set_synced(true);
        assert_eq!(
            books
                .book(InstrumentIdx(3))
                .unwrap()
                .top()
                .ask
                .map(|l| l.px),
            Some(Px(10))
        );
        assert!(!books.book(InstrumentIdx(3)).unwrap().is_synced());
        assert!(books.book(InstrumentIdx(1)).unwrap().is_synced());
        assert_eq!(books.book(InstrumentIdx(2)).unwrap().top(), Top::default());
    }

    proptest! {
        /// Any sequence of level sets matches a map of price → quantity, side by side.
        #[test]
        fn matches_a_map(ops in proptest::collection::vec((any::<bool>(), 0i64..40, 0u64..5), 0..300)) {
            let mut b = L2Book::new();
            let mut m: [BTreeMap<i64, u64>; 2] = [BTreeMap::new(), BTreeMap::new()];
            for (bid, px, q) in ops {
                let side = if bid { Side::Bid } else { Side::Ask };
                let before = b.top();
                let hint = b.set(side, Px(px), Qty(q));
                if q == 0 { m[side.index()].remove(&px); } else { m[side.index()].insert(px, q); }
                let bids: Vec<(i64, u64)> = m[0].iter().rev().map(|(&p, &q)| (p, q)).collect();
                let asks: Vec<(i64, u64)> = m[1].iter().map(|(&p, &q)| (p, q)).collect();
                prop_assert_eq!(b.levels(Side::Bid).map(|l| (l.px.0, l.qty.0)).collect::<Vec<_>>(), bids);
                prop_assert_eq!(b.levels(Side::Ask).map(|l| (l.px.0, l.qty.0)).collect::<Vec<_>>(), asks);
                // The hint never misses a change of the top.
                let after = b.top();
                let changed = match side { Side::Bid => before.bid != after.bid, Side::Ask => before.ask != after.ask };
                prop_assert!(!changed || hint, "top changed without the hint");
            }
        }
    }
}
