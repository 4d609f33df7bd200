//! Conversions of our inputs to other tools' formats, through the same decode and book path a
//! replay runs (so what another tool is given is what ticklane saw): [`hftbacktest`]'s
//! market-by-order event array.

pub mod hftbacktest;
