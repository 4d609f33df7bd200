//! Order books.
//!
//! - [`l3`]: order-by-order books for every instrument at once (ITCH, LOBSTER).
//! - [`l2`]: price-level books with a synchronized flag (crypto diff streams, snapshots).
pub mod l2;
pub mod l3;

pub use l2::{L2Book, L2Books};
pub use l3::{Applied, Book, BookError, L3Books, Level, OrderTable, RestingOrder, Top};
