//! A sink a caller adds gets the ordered output stream, the same in every layout, without any
//! change to the stages: the seam the next outputs (a message bus, a columnar file) plug into.

use std::io::BufReader;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ticklane_engine::wait::WaitStrategy;
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_replay::sink::Sink;
use ticklane_replay::stages::l2::{replay_l2, CryptoReplayOptions};
use ticklane_replay::stages::output::{Output, OutputKind};
use ticklane_replay::stages::pipeline::{replay_itch_threaded, replay_l2_threaded, PipelineConfig};
use ticklane_replay::venue::VenueFormat;
use ticklane_replay::{replay_itch, ItchReplayOptions};

/// One output as the test sink saw it: kind, instrument, sequence number, symbol.
type Seen = (&'static str, u32, u64, String);

/// Records every output it is given.
#[derive(Clone, Default)]
struct Recording(Arc<Mutex<Vec<Seen>>>);

impl Sink for Recording {
    fn on_output(&mut self, o: &Output, symbol: &str) -> std::io::Result<()> {
        let kind = match o.kind {
            OutputKind::Bbo(_) => "bbo",
            OutputKind::Trade { .. } => "trade",
            OutputKind::Status { .. } => "status",
            OutputKind::Signal(_) => "signal",
            _ => return Ok(()),
        };
        self.0
            .lock()
            .unwrap()
            .push((kind, o.instr.0, o.seq, symbol.to_owned()));
        Ok(())
    }

    fn finish(&mut self) -> std::io::Result<()> {
        self.0.lock().unwrap().push(("end", 0, 0, String::new()));
        Ok(())
    }
}

impl Recording {
    fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data")
        .join(name)
}

fn cfg(shards: usize) -> PipelineConfig {
    PipelineConfig {
        shards,
        wait: WaitStrategy::Park,
        epoch: 64,
        ..PipelineConfig::default()
    }
}

#[test]
fn an_itch_sink_sees_every_top_of_book_change_in_input_order_in_every_layout() {
    let bytes = std::fs::read(data("AAPL_2012-06-21_lobster10.itch")).unwrap();
    let rec = Recording::default();
    let s = replay_itch(
        FrameReader::new(&bytes[..]),
        ItchReplayOptions {
            sinks: vec![Box::new(rec.clone())],
            ..Default::default()
        },
    )
    .unwrap();
    let inline = rec.take();
    let bbo = inline.iter().filter(|r| r.0 == "bbo").count() as u64;
    assert_eq!(bbo, s.bbo_changes);
    assert!(bbo > 0);
    assert!(inline
        .iter()
        .filter(|r| r.0 == "bbo")
        .all(|r| r.3 == "AAPL"));
    assert!(inline
        .windows(2)
        .all(|w| w[0].2 <= w[1].2 || w[1].0 == "end"));
    assert_eq!(inline.last().unwrap().0, "end");
    for shards in [1, 2] {
        let run = replay_itch_threaded(
            FrameReader::new(std::io::Cursor::new(bytes.clone())),
            ItchReplayOptions {
                sinks: vec![Box::new(rec.clone())],
                ..Default::default()
            },
            &cfg(shards),
        )
        .unwrap();
        assert_eq!(run.summary.digest, s.digest);
        assert_eq!(rec.take(), inline, "{shards} shards");
    }
}

#[test]
fn a_crypto_sink_sees_the_same_stream_inline_and_threaded() {
    let path = data("coinbase_skl-gbp.jsonl");
    let open = || ticklane_replay::run::input::open(&path).unwrap().reader;
    let rec = Recording::default();
    let s = replay_l2(
        VenueFormat::Coinbase,
        BufReader::new(open()),
        CryptoReplayOptions {
            sinks: vec![Box::new(rec.clone())],
            ..Default::default()
        },
    )
    .unwrap();
    let inline = rec.take();
    assert_eq!(
        inline.iter().filter(|r| r.0 == "bbo").count() as u64,
        s.bbo_changes
    );
    assert!(inline
        .iter()
        .filter(|r| r.0 == "bbo")
        .all(|r| r.3 == "SKL-GBP"));
    let none: Option<(ticklane_engine::strategy::NoStrategy, _)> = None;
    let (t, _) = replay_l2_threaded(
        VenueFormat::Coinbase,
        open(),
        CryptoReplayOptions {
            sinks: vec![Box::new(rec.clone())],
            ..Default::default()
        },
        none,
        &cfg(2),
    )
    .unwrap();
    assert_eq!(t.digest, s.digest);
    assert_eq!(rec.take(), inline);
}
