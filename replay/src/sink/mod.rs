//! What the ordered output stream goes to: the digest (every encoding in [`digest`]), the BBO
//! CSV, signal records. The backtest's recorder ([`crate::backtest::Recorder`]) and the report
//! are sinks of the same stream.

pub mod bbo_csv;
pub mod digest;
pub mod signals;
