//! cryptofeed's raw capture files, as its `raw_data_collection` writes them.
//!
//! - `.ws.` files: a header `URL <-> t`, then `URL <- t: <sent JSON>` for what the client sent and
//!   `t: <frame JSON>` for every frame received;
//! - `.http.` files: `URL -> t: <body>` for each REST response (Binance depth snapshots, say).
//!
//! `t` is seconds since the Unix epoch with a fraction; it becomes integer nanoseconds, exactly.

use crate::decimal::parse_fixed;

/// One line of a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// `URL <-> t`: the connection was opened.
    Header {
        /// Websocket URL.
        url: &'a [u8],
        /// When, ns since the epoch.
        ts_ns: u64,
    },
    /// `URL <- t: JSON`: the client sent this.
    Sent {
        /// Websocket URL.
        url: &'a [u8],
        /// When.
        ts_ns: u64,
        /// The message.
        json: &'a [u8],
    },
    /// `t: JSON`: a frame was received.
    Received {
        /// When.
        ts_ns: u64,
        /// The frame.
        json: &'a [u8],
    },
    /// `URL -> t: body`: a REST response.
    Http {
        /// Request URL.
        url: &'a [u8],
        /// When.
        ts_ns: u64,
        /// The body.
        body: &'a [u8],
    },
}

fn ts(t: &[u8]) -> Option<u64> {
    u64::try_from(parse_fixed(t.trim_ascii(), 9).ok()?).ok()
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// Parses one line (without its newline); `None` for an empty or unrecognized line.
///
/// ```
/// use ticklane_feeds::cryptofeed::{parse_line, Line};
/// let l = parse_line(b"1618677817.1295161: {\"type\":\"match\"}").unwrap();
/// assert_eq!(l, Line::Received { ts_ns: 1_618_677_817_129_516_100, json: b"{\"type\":\"match\"}" });
/// ```
pub fn parse_line(line: &[u8]) -> Option<Line<'_>> {
    let line = line.trim_ascii_end();
    if line.is_empty() {
        return None;
    }
    if let Some(p) = find(line, b" <-> ") {
        return Some(Line::Header {
            url: &line[..p],
            ts_ns: ts(&line[p + 5..])?,
        });
    }
    for (arrow, sent) in [(&b" <- "[..], true), (&b" -> "[..], false)] {
        if let Some(p) = find(line, arrow) {
            let rest = &line[p + 4..];
            let c = find(rest, b": ")?;
            let (t, body) = (ts(&rest[..c])?, &rest[c + 2..]);
            return Some(if sent {
                Line::Sent {
                    url: &line[..p],
                    ts_ns: t,
                    json: body,
                }
            } else {
                Line::Http {
                    url: &line[..p],
                    ts_ns: t,
                    body,
                }
            });
        }
    }
    let c = find(line, b": ")?;
    Some(Line::Received {
        ts_ns: ts(&line[..c])?,
        json: &line[c + 2..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_kind() {
        assert_eq!(
            parse_line(b"wss://ws-feed.pro.coinbase.com <-> 1618677816.8434298"),
            Some(Line::Header {
                url: b"wss://ws-feed.pro.coinbase.com",
                ts_ns: 1_618_677_816_843_429_800
            })
        );
        assert_eq!(
            parse_line(b"wss://ws.kraken.com <- 1618678132.83097: {\"event\":\"subscribe\"}"),
            Some(Line::Sent {
                url: b"wss://ws.kraken.com",
                ts_ns: 1_618_678_132_830_970_000,
                json: b"{\"event\":\"subscribe\"}"
            })
        );
        let http = b"https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: {\"lastUpdateId\":1}";
        assert!(matches!(
            parse_line(http),
            Some(Line::Http {
                ts_ns: 1_633_998_512_320_639_000,
                ..
            })
        ));
        assert_eq!(parse_line(b""), None);
        assert_eq!(parse_line(b"garbage"), None);
        assert_eq!(parse_line(b"abc: {}"), None);
    }

    #[test]
    fn real_files_parse_line_by_line() {
        for (name, min) in [
            ("COINBASE.ws.28.0", 9_900),
            ("KRAKEN.ws.48.0", 10),
            ("BINANCE.http.0.0", 1),
        ] {
            let path = format!(
                "{}/../../shared/data/cryptofeed/{name}",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read(path).unwrap();
            let mut n = 0;
            let mut last = 0;
            for raw in text
                .split(|&c| c == b'\n')
                .filter(|l| !l.trim_ascii().is_empty())
            {
                let l = parse_line(raw).unwrap_or_else(|| {
                    panic!(
                        "{name}: {}",
                        String::from_utf8_lossy(&raw[..raw.len().min(80)])
                    )
                });
                let t = match l {
                    Line::Header { ts_ns, .. }
                    | Line::Sent { ts_ns, .. }
                    | Line::Received { ts_ns, .. }
                    | Line::Http { ts_ns, .. } => ts_ns,
                };
                assert!(t > 1_600_000_000_000_000_000, "{name}: timestamp {t}");
                last = t;
                n += 1;
            }
            assert!(n >= min && last > 0, "{name}: {n} lines");
        }
    }
}
