//! NASDAQ TotalView-ITCH 5.0: every message type of the public spec, decoded zero-copy.
//!
//! - [`msg`]: the typed messages.
//! - [`decode`]: bytes of one message (without its length prefix) to a [`msg::Message`].
//! - [`encode`]: the inverse, for tests, converters and the synthetic generator.
//! - [`framing`]: BinaryFILE streams (2-byte big-endian length prefix), plain or gzip.
//! - [`normalize`]: ITCH messages to engine [`ticklane_engine::Event`]s plus the symbol table.
//! - [`synth`]: a seeded multi-symbol order-flow generator for benchmarks.

pub mod decode;
pub mod encode;
pub mod framing;
pub mod msg;
pub mod normalize;
pub mod synth;

pub use decode::{decode, DecodeError};
pub use msg::Message;
