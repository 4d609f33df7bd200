//! Order-by-order (L3) inputs through the L3 book stage: NASDAQ ITCH 5.0 files, LOBSTER message
//! files (re-encoded as ITCH on the fly), journals of the live ITCH feed, and the summary they
//! print.

pub mod itch;
pub mod journal;
pub mod lobster;
pub mod summary;
