//! Order books.
//!
//! - [`l3`]: order-by-order books for every instrument at once (ITCH, LOBSTER).
pub mod l3;

pub use l3::{L3Books, Level, Top};
