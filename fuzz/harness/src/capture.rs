//! Capture lines: the classifier every L2 replay reads lines through (JSONL records,
//! `<ns> <json>` lines, cryptofeed's text format), cryptofeed's own line parser and Binance's
//! `<ns> <json>` splitter.
//!
//! Input layout: capture lines, newline separated.
//!
//! Checked: what a line is classified as borrows from that line; the `<ns> <json>` form gives
//! the splitter's time and frame.

use ticklane_feeds::binance::split_capture_line;
use ticklane_feeds::cryptofeed::parse_line;
use ticklane_replay::venue::capture::{classify, CaptureLine, Container, SeenContainers};

/// The harness.
pub fn run(data: &[u8]) {
    let mut seen = SeenContainers::default();
    for line in data.split(|&b| b == b'\n') {
        let _ = parse_line(line);
        let split = split_capture_line(line.trim_ascii());
        let Some(c) = classify(line) else { continue };
        let within = |s: &[u8]| {
            let r = line.as_ptr_range();
            s.is_empty() || (r.start <= s.as_ptr() && s.as_ptr_range().end <= r.end)
        };
        match c {
            CaptureLine::Frame {
                ts_ns,
                json,
                container,
            } => {
                assert!(within(json), "frame outside its line");
                if container == Container::NsLines {
                    assert_eq!(split, Some((ts_ns, json)), "ns line != split_capture_line");
                }
                seen.add(container);
            }
            CaptureLine::Rest {
                url,
                json,
                container,
                ..
            } => {
                assert!(within(url) && within(json), "REST parts outside their line");
                seen.add(container);
            }
            CaptureLine::Meta { container } => seen.add(container),
        }
    }
    let _ = seen.name();
}
