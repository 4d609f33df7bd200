//! The three capture containers a crypto replay reads, told apart line by line:
//!
//! - cryptofeed raw files (`.ws.`: `t: <frame>`, `URL <- t: <sent>`, `URL <-> t`; `.http.`:
//!   `URL -> t: <body>`), `t` in seconds with a fraction;
//! - `<receive ns> <frame JSON>` lines (hftbacktest's collector);
//! - our JSON lines, one frame a line, keys in this order:
//!   `{"ts_recv":1700000000123456789,"venue":"binance","stream":"btcusdt@depth@100ms","data":{...}}`;
//!   a REST response (a depth snapshot) is a line of its own whose `stream` is the request URL
//!   (it starts with `http`).
//!
//! Lines are classified without parsing the frame itself, so the venue decoder still sees the
//! frame bytes exactly as received.

use ticklane_feeds::binance::split_capture_line;
use ticklane_feeds::cryptofeed::{parse_line, Line};

/// Which container a line came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Container {
    /// cryptofeed raw capture.
    Cryptofeed,
    /// `<ns> <json>` lines.
    NsLines,
    /// Our JSON lines.
    Jsonl,
}

impl Container {
    /// Short name for summaries.
    pub fn name(self) -> &'static str {
        match self {
            Container::Cryptofeed => "cryptofeed",
            Container::NsLines => "ns-lines",
            Container::Jsonl => "jsonl",
        }
    }
}

/// One capture line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureLine<'a> {
    /// A websocket frame received at `ts_ns`.
    Frame {
        /// Receive time, ns since the epoch.
        ts_ns: u64,
        /// The frame.
        json: &'a [u8],
        /// Container.
        container: Container,
    },
    /// A REST response (a depth snapshot, say) received at `ts_ns`.
    Rest {
        /// Receive time.
        ts_ns: u64,
        /// Request URL.
        url: &'a [u8],
        /// Body.
        json: &'a [u8],
        /// Container.
        container: Container,
    },
    /// A connection header or a message the client sent: nothing to replay.
    Meta {
        /// Container.
        container: Container,
    },
}

fn find(h: &[u8], needle: &[u8]) -> Option<usize> {
    h.windows(needle.len()).position(|w| w == needle)
}

/// The string value right after `key` (`"key":"value"`), without unescaping.
fn str_after<'a>(line: &'a [u8], key: &[u8]) -> Option<&'a [u8]> {
    let p = find(line, key)? + key.len();
    let rest = line.get(p..)?.strip_prefix(b"\"")?;
    let end = rest.iter().position(|&c| c == b'"')?;
    Some(&rest[..end])
}

/// Parses one of our JSON lines: `ts_recv` first, `data` last (as our writer lays them out).
fn jsonl(line: &[u8]) -> Option<CaptureLine<'_>> {
    let rest = line.strip_prefix(b"{\"ts_recv\":")?;
    let n = rest.iter().position(|c| !c.is_ascii_digit())?;
    let ts_ns = std::str::from_utf8(&rest[..n]).ok()?.parse().ok()?;
    let d = find(line, b",\"data\":")? + 8;
    let body = line.get(d..)?.trim_ascii_end().strip_suffix(b"}")?;
    if body.is_empty() {
        return None;
    }
    let stream = str_after(line, b"\"stream\":").unwrap_or(b"");
    Some(if stream.starts_with(b"http") {
        CaptureLine::Rest {
            ts_ns,
            url: stream,
            json: body,
            container: Container::Jsonl,
        }
    } else {
        CaptureLine::Frame {
            ts_ns,
            json: body,
            container: Container::Jsonl,
        }
    })
}

impl CaptureLine<'_> {
    /// The receive time of a frame or REST response (`None` for header and meta lines).
    pub fn ts_ns(&self) -> Option<u64> {
        match *self {
            CaptureLine::Frame { ts_ns, .. } | CaptureLine::Rest { ts_ns, .. } => Some(ts_ns),
            CaptureLine::Meta { .. } => None,
        }
    }

    /// The container the line belongs to.
    pub fn container(&self) -> Container {
        match *self {
            CaptureLine::Frame { container, .. }
            | CaptureLine::Rest { container, .. }
            | CaptureLine::Meta { container } => container,
        }
    }
}

/// Classifies one line (without its newline); `None` for an empty line or one that is no
/// container's.
///
/// ```
/// use ticklane_replay::venue::capture::{classify, CaptureLine, Container};
/// let l = classify(b"{\"ts_recv\":5,\"venue\":\"kraken\",\"stream\":\"book\",\"data\":[1,2]}").unwrap();
/// assert_eq!(l, CaptureLine::Frame { ts_ns: 5, json: b"[1,2]", container: Container::Jsonl });
/// let l = classify(b"1618677817.5: {\"type\":\"heartbeat\"}").unwrap();
/// assert!(matches!(l, CaptureLine::Frame { ts_ns: 1_618_677_817_500_000_000, container: Container::Cryptofeed, .. }));
/// let l = classify(b"1723161253937085768 {\"a\":1}").unwrap();
/// assert!(matches!(l, CaptureLine::Frame { ts_ns: 1_723_161_253_937_085_768, container: Container::NsLines, .. }));
/// ```
pub fn classify(line: &[u8]) -> Option<CaptureLine<'_>> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    if line[0] == b'{' {
        return jsonl(line);
    }
    // `<ns> <json>`: digits, one space, a JSON value.
    let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 0 && line.get(digits) == Some(&b' ') {
        let (ts_ns, json) = split_capture_line(line)?;
        return Some(CaptureLine::Frame {
            ts_ns,
            json,
            container: Container::NsLines,
        });
    }
    let container = Container::Cryptofeed;
    Some(match parse_line(line)? {
        Line::Received { ts_ns, json } => CaptureLine::Frame {
            ts_ns,
            json,
            container,
        },
        Line::Http { url, ts_ns, body } => CaptureLine::Rest {
            ts_ns,
            url,
            json: body,
            container,
        },
        Line::Header { .. } | Line::Sent { .. } => CaptureLine::Meta { container },
    })
}

/// Remembers which containers a run has seen, for the summary.
#[derive(Default, Clone, Copy)]
pub struct SeenContainers(u8);

impl SeenContainers {
    /// Records `c`.
    pub fn add(&mut self, c: Container) {
        self.0 |= 1 << c as u8;
    }

    /// `cryptofeed`, `ns-lines`, `jsonl`, `mixed`, or `none`.
    pub fn name(self) -> &'static str {
        match self.0 {
            0 => "none",
            1 => Container::Cryptofeed.name(),
            2 => Container::NsLines.name(),
            4 => Container::Jsonl.name(),
            _ => "mixed",
        }
    }
}

/// Longest capture line read whole, bytes (a Binance depth-5000 REST snapshot is ~300 KB).
/// Longer lines are skipped and counted bad, so memory is bounded whatever the input holds
/// (a file without newlines, `/dev/zero`).
pub const MAX_LINE_BYTES: usize = 16 << 20;

/// Reads the next line (newline included) into `line` as `BufRead::read_until` does, but
/// keeps at most [`MAX_LINE_BYTES`]: a longer line is consumed to its end and handed back as
/// a single NUL byte, which no container accepts, so the caller counts it as a bad line.
/// Returns the bytes consumed (0 at the end of the input).
///
/// # Errors
/// Reading failed.
pub fn read_line(input: &mut impl std::io::BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    line.clear();
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let buf = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if !too_long {
            if line.len() + take > MAX_LINE_BYTES {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(&buf[..take]);
            }
        }
        input.consume(take);
        consumed += take;
        if done {
            break;
        }
    }
    if too_long {
        line.clear();
        line.push(0);
    }
    Ok(consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overlong_line_is_skipped_whole_and_the_next_one_read() {
        let mut text = vec![b'x'; MAX_LINE_BYTES + 10];
        text.extend_from_slice(b"\n{\"ts_recv\":5}\nlast");
        let mut r = std::io::BufReader::with_capacity(4096, &text[..]);
        let mut line = Vec::new();
        assert_eq!(read_line(&mut r, &mut line).unwrap(), MAX_LINE_BYTES + 11);
        assert_eq!(line, [0]);
        assert!(classify(&line).is_none());
        assert!(line.capacity() <= 2 * MAX_LINE_BYTES);
        read_line(&mut r, &mut line).unwrap();
        assert_eq!(line, b"{\"ts_recv\":5}\n");
        read_line(&mut r, &mut line).unwrap();
        assert_eq!(line, b"last");
        assert_eq!(read_line(&mut r, &mut line).unwrap(), 0);
        assert!(line.is_empty());
    }

    #[test]
    fn each_container_and_rest_lines() {
        let rest = br#"{"ts_recv":7,"venue":"binance","stream":"https://api.binance.com/api/v3/depth?symbol=BTCUSDT","data":{"lastUpdateId":1,"bids":[],"asks":[]}}"#;
        assert_eq!(
            classify(rest),
            Some(CaptureLine::Rest {
                ts_ns: 7,
                url: b"https://api.binance.com/api/v3/depth?symbol=BTCUSDT",
                json: br#"{"lastUpdateId":1,"bids":[],"asks":[]}"#,
                container: Container::Jsonl
            })
        );
        let http = b"https://api.binance.com/api/v3/depth?symbol=NKNUSDT&limit=1000 -> 1633998512.320639: {\"lastUpdateId\":1}";
        assert!(matches!(
            classify(http),
            Some(CaptureLine::Rest {
                ts_ns: 1_633_998_512_320_639_000,
                json: b"{\"lastUpdateId\":1}",
                container: Container::Cryptofeed,
                ..
            })
        ));
        assert_eq!(
            classify(b"wss://ws.kraken.com <-> 1618678132.368463"),
            Some(CaptureLine::Meta {
                container: Container::Cryptofeed
            })
        );
        for bad in [
            &b""[..],
            b"garbage",
            b"{\"ts_recv\":x}",
            b"{\"ts_recv\":1,\"data\":}",
            b"{\"other\":1}",
            b"12 ",
        ] {
            assert_eq!(classify(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        let mut seen = SeenContainers::default();
        assert_eq!(seen.name(), "none");
        seen.add(Container::Jsonl);
        assert_eq!(seen.name(), "jsonl");
        seen.add(Container::NsLines);
        assert_eq!(seen.name(), "mixed");
    }
}
