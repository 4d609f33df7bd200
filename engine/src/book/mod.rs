//! Order books.
//!
//! - [`l3`]: order-by-order books for every instrument at once (ITCH, LOBSTER).
pub mod l3;

pub use l3::{Applied, Book, BookError, L3Books, Level, OrderTable, Top};
