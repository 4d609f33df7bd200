//! ticklane-engine: the types every other crate speaks, the order books and the run digest.
//!
//! Prices are integer ticks ([`Px`]), quantities integer lots ([`Qty`]), time integer
//! nanoseconds ([`Nanos`]). Instruments are dense indices ([`InstrumentIdx`]) so books live in
//! flat arrays. Floats appear only inside indicators; nothing here reads wall time.
#![forbid(unsafe_code)]

pub mod backpressure;
pub mod book;
pub mod clock;
pub mod config;
pub mod digest;
pub mod event;
pub mod event_time;
pub mod exec;
pub mod indicators;
pub mod instrument;
pub mod ring;
pub mod runner;
pub mod side;
pub mod strategy;
pub mod units;
pub mod wait;

pub use digest::Digest;
pub use event::{Body, Event, Header, SourceId};
pub use instrument::InstrumentIdx;
pub use side::Side;
pub use units::{Nanos, OrderId, Px, Qty};
