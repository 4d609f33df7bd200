//! ticklane-feeds: exchange decoders and framing.
//!
//! Decoders read big-endian wire bytes with `from_be_bytes`, borrow from the input buffer, never
//! allocate and never panic on bad input: every problem is a typed error the caller counts, and
//! decoding resumes at the next frame.
#![forbid(unsafe_code)]

pub mod arbiter;
pub mod binance;
pub mod coinbase;
pub mod coinbase_advanced;
pub mod cryptofeed;
pub mod decimal;
pub mod isotime;
pub mod itch;
pub mod journal;
pub mod journal_file;
pub mod json;
mod json_scan;
pub mod kraken;
pub mod lobster;
pub mod moldudp64;
pub mod rest;
pub mod ws;
