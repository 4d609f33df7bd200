//! LOBSTER: message-file and order-book-file lines, file names, and the conversion to ITCH
//! (with and without an order-book file to seed and check against).
//!
//! Input layout: one flag byte (bit 0: resynchronize from the order-book file), then the
//! message file; after the first NUL byte, if any, the order-book file.
//!
//! Checked: what the conversion writes is a valid ITCH BinaryFILE, every frame of which
//! decodes and re-encodes to itself.

use ticklane_feeds::itch::framing::SliceFrames;
use ticklane_feeds::lobster::to_itch::{convert, ConvertOptions};
use ticklane_feeds::lobster::{
    parse_file_name, parse_message_line, parse_orderbook_line, BookRow, MessageReader,
};

/// The harness.
pub fn run(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let (messages, orderbook) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], Some(&rest[i + 1..])),
        None => (rest, None),
    };
    let mut row = BookRow::default();
    for (i, line) in rest.split(|&b| b == b'\n').enumerate() {
        let _ = parse_message_line(line, i as u64 + 1);
        let _ = parse_orderbook_line(line, i as u64 + 1, &mut row);
        if let Ok(name) = std::str::from_utf8(line) {
            let _ = parse_file_name(name);
        }
    }
    for m in MessageReader::new(messages) {
        let _ = m;
    }
    let opts = ConvertOptions {
        resync: flags & 1 == 1,
        ..ConvertOptions::default()
    };
    let mut ob = orderbook;
    let mut out = Vec::new();
    let ob_reader = ob.as_mut().map(|r| r as &mut dyn std::io::BufRead);
    if convert(messages, ob_reader, &opts, &mut out).is_err() {
        return;
    }
    let mut buf = Vec::new();
    for f in SliceFrames::new(&out) {
        let f = f.expect("the converter writes valid frames");
        assert!(
            ticklane_feeds::itch::decode::decode(f.bytes).is_ok(),
            "the converter writes a message that does not decode"
        );
        crate::itch::check_message(f.bytes, &mut buf);
    }
}
