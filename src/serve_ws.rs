//! `ticklane serve ws`: a local websocket venue that replays a Binance or Coinbase capture, so the
//! live websocket runner can be tested end to end on one host.
//!
//! One listener on 127.0.0.1 takes both websocket clients and, for Binance, REST depth
//! snapshots (`GET /api/v3/depth` and `/fapi/v1/depth`), told apart by the request head. The
//! server keeps its own book from the capture with the same sync state machines the replays
//! use, so a snapshot reflects the book at the replay's current position. Capture lines that
//! are REST responses (Binance depth snapshots) or answers to the recording client's own
//! subscribe (Coinbase `subscriptions` and `snapshot`) update that book but are not sent as
//! frames: a client gets its Coinbase snapshot built from the server's book after it subscribes,
//! and fetches its Binance snapshot over REST.
//!
//! A client that reconnects continues from the current position, having missed what was sent
//! while it was away, as on a real venue.

use std::io::{BufRead, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, ValueEnum};
use ticklane_engine::book::L2Book;
use ticklane_engine::config::Range;
use ticklane_engine::{Px, Side};
use ticklane_replay::stages::l2::CryptoReplayOptions;
use ticklane_replay::venue::capture::{classify, CaptureLine};
use ticklane_replay::venue::{L2Sync, VenueFormat};
use tungstenite::{Message, WebSocket};

use crate::serve::Rate;
use crate::{in_range, input_failure, Failure};

/// Valid `--disconnect-after`.
const FRAMES: Range<u64> = Range::new(1, 1_000_000_000_000, "frames before the disconnect");
/// Valid `--disconnect-jitter`.
const JITTER: Range<f64> = Range::new(0.0, 1.0, "fraction N varies by");
/// Valid `--snapshot-hold-ms`.
const HOLD_MS: Range<u64> = Range::new(0, 600_000, "wait for a snapshot fetch, ms");
/// Valid `--wait-client-ms` and `--linger-ms`: up to an hour.
const WAIT_MS: Range<u64> = Range::new(0, 3_600_000, "wait, ms");

/// The venue a capture is served as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum WsFormat {
    /// Binance: `<ns> <frame JSON>` lines (combined-stream frames) or our JSONL; depth
    /// snapshots over REST.
    Binance,
    /// Coinbase Exchange: our JSONL, cryptofeed or `<ns> <json>` lines; snapshots over the
    /// websocket after a subscribe.
    Coinbase,
}

/// The long `--help` of `serve ws`.
pub(crate) const LONG_ABOUT: &str = "Serve a Binance or Coinbase capture as a local websocket venue.\n\n\
    Listens on 127.0.0.1:--port (0 picks a free port) and prints `serve ws: listening on \
    127.0.0.1:PORT` on stderr. Each websocket client sends the venue's subscribe message \
    (Binance: {\"method\":\"SUBSCRIBE\",\"params\":[\"btcusdt@depth@100ms\",...],\"id\":1}; \
    Coinbase: {\"type\":\"subscribe\",\"product_ids\":[..],\"channels\":[..]}), is answered as \
    the venue answers, and then receives the capture's frames for its subscription from the \
    current position on. The replay starts when the first client has subscribed (or after \
    --wait-client-ms).\n\n\
    The server keeps its own book from the capture. Binance: GET \
    /api/v3/depth?symbol=BTCUSDT&limit=1000 (or /fapi/v1/depth) on the same port answers \
    {\"lastUpdateId\":..,\"bids\":[[px,qty],..],\"asks\":..} from it (503 until the capture's \
    own snapshot has given it a book); when the replay reaches a REST snapshot recorded in the \
    capture it waits up to --snapshot-hold-ms for a client to fetch one, so a client syncs \
    where the recording client did. Coinbase: after a subscribe the client gets a `snapshot` \
    message per product built from the book, as soon as the server has one.\n\n\
    Faults: --disconnect-after N drops a client's TCP connection after N frames (jittered by \
    --disconnect-jitter, seeded by --seed): only the first connection, or with \
    --disconnect-repeat every connection; a reconnecting client continues from the current position. --bad-every N \
    adds a malformed frame (garbage or truncated JSON, seeded) after every Nth frame.\n\n\
    At the end of the capture the server keeps answering for --linger-ms, closes every \
    connection with a normal close, prints a `serve ws: done:` line and exits 0.";

/// Arguments of `serve ws`.
#[derive(Args)]
pub(crate) struct ServeWsArgs {
    /// The capture (plain or gzip).
    capture: PathBuf,
    /// Venue the capture is served as.
    #[arg(long, value_enum)]
    format: WsFormat,
    /// Port on 127.0.0.1 (0: pick a free one; the bound port is printed on stderr).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Pace: 1x or 10x (the capture's receive timestamps, sped up), max, or frames per second.
    #[arg(long, default_value = "max")]
    rate: Rate,
    /// Drop the first connection's TCP stream after this many frames sent to it (every
    /// connection's with --disconnect-repeat).
    #[arg(long, value_name = "N", value_parser = in_range("--disconnect-after", FRAMES))]
    disconnect_after: Option<u64>,
    /// With --disconnect-after: drop every connection after N frames, not only each client's
    /// first one.
    #[arg(long, requires = "disconnect_after")]
    disconnect_repeat: bool,
    /// With --disconnect-after: vary N by up to this fraction either way (seeded); 0..=1.
    #[arg(long, default_value_t = 0.0, value_parser = in_range("--disconnect-jitter", JITTER))]
    disconnect_jitter: f64,
    /// Add a malformed frame (garbage or truncated JSON) after every Nth frame (0: never).
    #[arg(long, default_value_t = 0, value_name = "N")]
    bad_every: u64,
    /// Seed of the fault draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Binance: at a REST snapshot recorded in the capture, wait this long for a client to
    /// fetch a snapshot before going on (0: don't wait); 0..=600000.
    #[arg(long, default_value_t = 5000, value_parser = in_range("--snapshot-hold-ms", HOLD_MS))]
    snapshot_hold_ms: u64,
    /// Wait this long for the first client to subscribe before starting anyway; 0..=3600000.
    #[arg(long, default_value_t = 30_000, value_parser = in_range("--wait-client-ms", WAIT_MS))]
    wait_client_ms: u64,
    /// After the last frame, keep serving (REST, reconnects) this long before closing, ms;
    /// 0..=3600000.
    #[arg(long, default_value_t = 1000, value_parser = in_range("--linger-ms", WAIT_MS))]
    linger_ms: u64,
}

/// splitmix64 stream for the fault draws.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The server's book, advanced by the replay thread and read by REST and subscribe handlers.
type Venue = L2Sync<'static>;

enum Out {
    Frame(Arc<str>),
    /// Drop the TCP connection (a fault).
    Drop,
    /// Close normally (end of capture).
    Close,
}

struct Client {
    tx: SyncSender<Out>,
    /// Binance stream names (lower case) or Coinbase product ids.
    subs: Vec<String>,
    /// Coinbase channels.
    channels: Vec<String>,
    /// Coinbase products still waiting for their snapshot.
    pending: Vec<String>,
    sent: u64,
    drop_at: Option<u64>,
}

/// What the connection threads ask of the replay thread, which alone owns the book and the
/// client list (so a snapshot and the stream a client gets after it are always consistent).
enum Req {
    /// A REST request target (`/api/v3/depth?...`); the answer goes back on `reply`.
    Rest {
        target: String,
        reply: SyncSender<(u16, String)>,
    },
    /// A client that has subscribed.
    Subscribe(Client),
}

/// Counters and settings the connection threads share.
struct Shared {
    format: WsFormat,
    connections: AtomicU64,
    done: AtomicBool,
}

/// The replay thread's state.
struct State {
    format: WsFormat,
    venue: Venue,
    clients: Vec<Client>,
    subscribers: u64,
    snapshots_served: u64,
    disconnects: u64,
    bad_sent: u64,
    frames_sent: u64,
    fault: Rng,
    disconnect_after: Option<u64>,
    disconnect_repeat: bool,
    disconnect_jitter: f64,
}

fn dec(v: i64) -> String {
    Px(v).display_decimals(8).to_string()
}

fn levels_json(book: &L2Book, side: Side, limit: usize) -> String {
    let mut s = String::from("[");
    for (i, l) in book.levels(side).take(limit).enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            "[\"{}\",\"{}\"]",
            dec(l.px.0),
            dec(l.qty.0 as i64)
        ));
    }
    s.push(']');
    s
}

fn coinbase_snapshot(product: &str, book: &L2Book) -> String {
    format!(
        r#"{{"type":"snapshot","product_id":"{product}","bids":{},"asks":{}}}"#,
        levels_json(book, Side::Bid, usize::MAX),
        levels_json(book, Side::Ask, usize::MAX)
    )
}

/// The string value of `"key":"..."` in `json`, unescaped only trivially (venue names and ids
/// never need escapes).
fn str_field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!("\"{key}\":\"");
    let at = json.find(&pat)? + pat.len();
    let end = json[at..].find('"')?;
    Some(&json[at..at + end])
}

/// Whether a capture frame goes to `c`.
fn wanted(format: WsFormat, c: &Client, json: &str) -> bool {
    match format {
        WsFormat::Binance => match str_field(json, "stream") {
            Some(stream) => c.subs.iter().any(|s| s.eq_ignore_ascii_case(stream)),
            None => true,
        },
        WsFormat::Coinbase => {
            let product_ok = match str_field(json, "product_id") {
                Some(p) => c.subs.iter().any(|s| s == p),
                None => true,
            };
            let channel = match str_field(json, "type") {
                Some("l2update") => Some("level2"),
                Some("match" | "last_match") => Some("matches"),
                Some("ticker") => Some("ticker"),
                _ => None,
            };
            product_ok && channel.is_none_or(|ch| c.channels.iter().any(|c| c == ch))
        }
    }
}

/// A capture line that answered the recording client rather than streamed to it.
enum Line<'a> {
    /// Send to subscribers (and apply to the server's book).
    Frame(u64, &'a [u8]),
    /// Apply to the server's book only: a REST snapshot (Binance) or a subscribe answer
    /// (Coinbase `snapshot`, `subscriptions`).
    BookOnly(u64, &'a [u8], bool),
    /// Nothing to do.
    Skip,
}

fn sort_line(format: WsFormat, line: &[u8]) -> Line<'_> {
    match classify(line) {
        Some(CaptureLine::Frame { ts_ns, json, .. }) => {
            let head = &json[..json.len().min(64)];
            let has = |n: &[u8]| head.windows(n.len()).any(|w| w == n);
            match format {
                WsFormat::Binance if json.starts_with(b"{\"lastUpdateId\"") => {
                    Line::BookOnly(ts_ns, json, true)
                }
                WsFormat::Coinbase
                    if has(b"\"type\":\"snapshot\"") || has(b"\"type\":\"subscriptions\"") =>
                {
                    Line::BookOnly(ts_ns, json, false)
                }
                _ => Line::Frame(ts_ns, json),
            }
        }
        Some(CaptureLine::Rest { ts_ns, json, .. }) if format == WsFormat::Binance => {
            Line::BookOnly(ts_ns, json, true)
        }
        _ => Line::Skip,
    }
}

impl State {
    fn apply(&mut self, ts: u64, json: &[u8]) {
        // Bad lines in the capture are counted by the state machine; CSV output is off, so
        // nothing here can fail.
        let _ = self.venue.on_frame(ts, json);
    }

    fn drop_threshold(&mut self) -> Option<u64> {
        let n = self.disconnect_after?;
        let j = self.disconnect_jitter.clamp(0.0, 1.0);
        let f = 1.0 + j * (2.0 * self.fault.unit() - 1.0);
        Some(((n as f64 * f).round() as u64).max(1))
    }

    /// Sends the Coinbase snapshots `c` still waits for, where the server has a synced book.
    fn send_pending(venue: &Venue, c: &mut Client) -> bool {
        let mut ok = true;
        c.pending.retain(|p| match venue.book_of(p) {
            Some(b) if b.is_synced() => {
                ok &=
                    c.tx.try_send(Out::Frame(coinbase_snapshot(p, b).into()))
                        .is_ok();
                false
            }
            _ => true,
        });
        ok
    }

    /// Pushes `frame` to every client that wants it; drops slow clients and those at their
    /// disconnect threshold.
    fn broadcast(&mut self, frame: &str, bad: Option<&str>) {
        let format = self.format;
        let (mut sent, mut bad_sent, mut dropped) = (0, 0, 0);
        self.clients.retain_mut(|c| {
            if !wanted(format, c, frame) {
                return true;
            }
            let mut ok = c.tx.try_send(Out::Frame(frame.into())).is_ok();
            c.sent += 1;
            sent += 1;
            if let (true, Some(b)) = (ok, bad) {
                ok = c.tx.try_send(Out::Frame(b.into())).is_ok();
                bad_sent += 1;
            }
            // A client that cannot keep up is dropped, as venues do; so is one at its fault
            // threshold.
            if !ok || c.drop_at.is_some_and(|n| c.sent >= n) {
                let _ = c.tx.try_send(Out::Drop);
                dropped += 1;
                return false;
            }
            true
        });
        self.frames_sent += sent;
        self.bad_sent += bad_sent;
        self.disconnects += dropped;
    }

    fn after_book_only(&mut self) {
        let venue = &self.venue;
        self.clients.retain_mut(|c| Self::send_pending(venue, c));
    }

    /// Answers every queued request.
    fn serve(&mut self, rx: &Receiver<Req>, done: bool) {
        while let Ok(r) = rx.try_recv() {
            match r {
                Req::Rest { target, reply } => {
                    let a = self.rest(&target);
                    if a.0 == 200 {
                        self.snapshots_served += 1;
                    }
                    let _ = reply.try_send(a);
                }
                Req::Subscribe(mut c) => {
                    let n = self.subscribers;
                    self.subscribers += 1;
                    c.drop_at = if n == 0 || self.disconnect_repeat {
                        self.drop_threshold()
                    } else {
                        None
                    };
                    if done {
                        let _ = c.tx.try_send(Out::Close);
                    } else if Self::send_pending(&self.venue, &mut c) {
                        self.clients.push(c);
                    }
                }
            }
        }
    }

    /// Answers a REST request: Binance depth snapshots from the server's book.
    fn rest(&self, target: &str) -> (u16, String) {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let b = &self.venue;
        if self.format != WsFormat::Binance || !matches!(path, "/api/v3/depth" | "/fapi/v1/depth") {
            return (404, r#"{"code":-1,"msg":"not found"}"#.into());
        }
        let param = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(k).and_then(|v| v.strip_prefix('=')))
        };
        let Some(symbol) = param("symbol") else {
            return (400, r#"{"code":-1102,"msg":"symbol is required"}"#.into());
        };
        let limit = match param("limit").map(str::parse::<usize>) {
            None => 100,
            Some(Ok(n)) if n > 0 => n.min(5000),
            Some(_) => return (400, r#"{"code":-1100,"msg":"bad limit"}"#.into()),
        };
        // The book of the capture's (first) symbol.
        let ours = b.products().next().unwrap_or("");
        if !ours.is_empty() && !ours.eq_ignore_ascii_case(symbol) {
            return (400, r#"{"code":-1121,"msg":"Invalid symbol."}"#.into());
        }
        let (Some(id), Some(book)) = (b.last_update_id(), b.book_at(0)) else {
            return (503, r#"{"code":-1,"msg":"no book yet"}"#.into());
        };
        let body = format!(
            r#"{{"lastUpdateId":{id},"bids":{},"asks":{}}}"#,
            levels_json(book, Side::Bid, limit),
            levels_json(book, Side::Ask, limit)
        );
        (200, body)
    }
}

/// Sleeps about `d` while answering requests.
fn wait_serving(
    st: &mut State,
    rx: &Receiver<Req>,
    d: Duration,
    done: bool,
    until: impl Fn(&State) -> bool,
) {
    let t = Instant::now();
    while t.elapsed() < d && !until(st) {
        st.serve(rx, done);
        std::thread::sleep(Duration::from_millis(1));
    }
    st.serve(rx, done);
}

pub(crate) fn ws(a: ServeWsArgs) -> Result<u8, Failure> {
    let input = ticklane_replay::run::input::open(&a.capture)
        .with_context(|| format!("cannot open {}", a.capture.display()))
        .map_err(input_failure)?;
    let mut reader = std::io::BufReader::with_capacity(1 << 16, input.reader);
    let format = match a.format {
        WsFormat::Binance => VenueFormat::Binance,
        WsFormat::Coinbase => VenueFormat::Coinbase,
    };
    let venue = L2Sync::new(format, CryptoReplayOptions::default())?;
    let listener = TcpListener::bind(("127.0.0.1", a.port))
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", a.port))?;
    let addr = listener.local_addr()?;
    eprintln!(
        "serve ws: listening on {addr} (format {:?}, capture {})",
        a.format,
        a.capture.display()
    );
    let shared = Arc::new(Shared {
        format: a.format,
        connections: AtomicU64::new(0),
        done: AtomicBool::new(false),
    });
    let (req_tx, req_rx) = std::sync::mpsc::channel::<Req>();
    {
        let shared = shared.clone();
        std::thread::spawn(move || accept_loop(listener, shared, req_tx));
    }
    let mut st = State {
        format: a.format,
        venue,
        clients: Vec::new(),
        subscribers: 0,
        snapshots_served: 0,
        disconnects: 0,
        bad_sent: 0,
        frames_sent: 0,
        fault: Rng(a.seed ^ 0x5eed),
        disconnect_after: a.disconnect_after,
        disconnect_repeat: a.disconnect_repeat,
        disconnect_jitter: a.disconnect_jitter,
    };
    // Wait for the first subscriber.
    wait_serving(
        &mut st,
        &req_rx,
        Duration::from_millis(a.wait_client_ms),
        false,
        |st| st.subscribers > 0,
    );
    let mut rng = Rng(a.seed ^ 0xbad);
    let mut line = Vec::with_capacity(1 << 16);
    let started = Instant::now();
    let mut first_ts: Option<u64> = None;
    let mut frames = 0u64;
    let mut lines = 0u64;
    let mut prev_frame: Vec<u8> = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                return Err(input_failure(
                    anyhow::Error::new(e).context(format!("reading {}", a.capture.display())),
                ))
            }
        }
        lines += 1;
        st.serve(&req_rx, false);
        match sort_line(a.format, &line) {
            Line::Skip => {}
            Line::BookOnly(ts, json, rest) => {
                st.apply(ts, json);
                st.after_book_only();
                if rest && a.snapshot_hold_ms > 0 && !st.clients.is_empty() {
                    // Let a client sync where the recording client did.
                    let served = st.snapshots_served;
                    wait_serving(
                        &mut st,
                        &req_rx,
                        Duration::from_millis(a.snapshot_hold_ms),
                        false,
                        |st| st.snapshots_served > served,
                    );
                }
            }
            Line::Frame(ts, json) => {
                // Pace.
                let due = match a.rate {
                    Rate::Max => None,
                    Rate::PerSec(n) => Some(Duration::from_secs_f64(frames as f64 / n)),
                    Rate::Speed(x) => {
                        let t0 = *first_ts.get_or_insert(ts);
                        Some(Duration::from_secs_f64(
                            ts.saturating_sub(t0) as f64 / 1e9 / x,
                        ))
                    }
                };
                if let Some(d) = due {
                    let el = started.elapsed();
                    if d > el {
                        wait_serving(&mut st, &req_rx, d - el, false, |_| false);
                    }
                }
                frames += 1;
                let Ok(text) = std::str::from_utf8(json) else {
                    continue;
                };
                let bad = (a.bad_every > 0 && frames.is_multiple_of(a.bad_every)).then(|| {
                    if rng.next().is_multiple_of(2) || prev_frame.len() < 4 {
                        "garbage: not a JSON frame".to_owned()
                    } else {
                        // Truncated JSON: the first half of the previous frame.
                        String::from_utf8_lossy(&prev_frame[..prev_frame.len() / 2]).into_owned()
                    }
                });
                st.apply(ts, json);
                st.broadcast(text, bad.as_deref());
                prev_frame.clear();
                prev_frame.extend_from_slice(json);
            }
        }
    }
    // Linger: REST and reconnects still answered from the final book.
    wait_serving(
        &mut st,
        &req_rx,
        Duration::from_millis(a.linger_ms),
        false,
        |_| false,
    );
    shared.done.store(true, Ordering::Relaxed);
    // Writers close once they have sent what is queued (see `writer`); a full queue cannot
    // block this thread.
    for c in st.clients.drain(..) {
        let _ = c.tx.try_send(Out::Close);
    }
    // Give writers a moment to send their close frames (late subscribers are closed too).
    wait_serving(&mut st, &req_rx, Duration::from_millis(300), true, |_| {
        false
    });
    eprintln!(
        "serve ws: done: {lines} lines, {frames} capture frames, {} frames sent, {} bad frames sent, {} disconnects, {} connections, {} snapshots served",
        st.frames_sent,
        st.bad_sent,
        st.disconnects,
        shared.connections.load(Ordering::Relaxed),
        st.snapshots_served,
    );
    Ok(0)
}

fn accept_loop(listener: TcpListener, shared: Arc<Shared>, req: std::sync::mpsc::Sender<Req>) {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let shared = shared.clone();
        let req = req.clone();
        std::thread::spawn(move || {
            let _ = handle(stream, &shared, &req);
        });
    }
}

/// Peeks the request head (without consuming it) until its blank line, up to 8 KB and 2 s.
fn peek_head(stream: &TcpStream) -> Option<String> {
    let mut buf = [0u8; 8192];
    let t = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(100)))
        .ok()?;
    while t.elapsed() < Duration::from_secs(2) {
        let n = match stream.peek(&mut buf) {
            Ok(0) => return None,
            Ok(n) => n,
            Err(_) => continue,
        };
        let head = &buf[..n];
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&head[..end + 4]).into_owned());
        }
        if n == buf.len() {
            return None;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    None
}

fn handle(
    mut stream: TcpStream,
    shared: &Shared,
    req: &std::sync::mpsc::Sender<Req>,
) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    if shared.done.load(Ordering::Relaxed) {
        // Closing down: refuse, as a venue that went away would.
        return Ok(());
    }
    let Some(head) = peek_head(&stream) else {
        return Ok(());
    };
    if head.to_ascii_lowercase().contains("upgrade: websocket") {
        return websocket(stream, shared, req);
    }
    // Plain HTTP: consume the head, answer, close.
    let mut consumed = vec![0u8; head.len()];
    stream.read_exact(&mut consumed)?;
    let target = head
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("GET "))
        .and_then(|l| l.split(' ').next())
        .unwrap_or("");
    let (tx, rx) = sync_channel(1);
    let answer = req
        .send(Req::Rest {
            target: target.to_owned(),
            reply: tx,
        })
        .ok()
        .and_then(|()| rx.recv_timeout(Duration::from_secs(10)).ok());
    let (status, body) = answer.unwrap_or((503, r#"{"code":-1,"msg":"server busy"}"#.into()));
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Service Unavailable",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()?;
    let _ = stream.shutdown(Shutdown::Write);
    Ok(())
}

/// Parses a subscribe message: Binance `(streams, [])`, Coinbase `(products, channels)` and
/// the reply to send.
fn subscribe(format: WsFormat, msg: &str) -> Result<(Vec<String>, Vec<String>, String), String> {
    let v: serde_json::Value =
        serde_json::from_str(msg).map_err(|e| format!("subscribe is not JSON: {e}"))?;
    let strings = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(|p| p.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    match format {
        WsFormat::Binance => {
            if v.get("method").and_then(|m| m.as_str()) != Some("SUBSCRIBE") {
                return Err("expected {\"method\":\"SUBSCRIBE\",...}".into());
            }
            let params = strings("params");
            if params.is_empty() {
                return Err("SUBSCRIBE without params".into());
            }
            let id = v.get("id").cloned().unwrap_or(serde_json::Value::Null);
            Ok((
                params,
                Vec::new(),
                format!(r#"{{"result":null,"id":{id}}}"#),
            ))
        }
        WsFormat::Coinbase => {
            if v.get("type").and_then(|m| m.as_str()) != Some("subscribe") {
                return Err("expected {\"type\":\"subscribe\",...}".into());
            }
            let products = strings("product_ids");
            let channels = strings("channels");
            if products.is_empty() || channels.is_empty() {
                return Err("subscribe needs product_ids and channels".into());
            }
            let chans: Vec<String> = channels
                .iter()
                .map(|c| {
                    format!(
                        r#"{{"name":{},"product_ids":{}}}"#,
                        serde_json::Value::from(c.as_str()),
                        serde_json::to_string(&products).unwrap_or_default()
                    )
                })
                .collect();
            let reply = format!(
                r#"{{"type":"subscriptions","channels":[{}]}}"#,
                chans.join(",")
            );
            Ok((products, channels, reply))
        }
    }
}

fn websocket(
    stream: TcpStream,
    shared: &Shared,
    req: &std::sync::mpsc::Sender<Req>,
) -> std::io::Result<()> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let Ok(mut ws) = tungstenite::accept(stream) else {
        return Ok(());
    };
    shared.connections.fetch_add(1, Ordering::Relaxed);
    // The first text message must be the subscribe.
    let msg = loop {
        match ws.read() {
            Ok(Message::Text(t)) => break t.as_str().to_owned(),
            Ok(Message::Ping(_) | Message::Pong(_)) => continue,
            _ => return Ok(()),
        }
    };
    let (subs, channels, reply) = match subscribe(shared.format, &msg) {
        Ok(x) => x,
        Err(e) => {
            let err = match shared.format {
                WsFormat::Binance => format!(
                    r#"{{"error":{{"code":2,"msg":{}}},"id":null}}"#,
                    serde_json::Value::from(e)
                ),
                WsFormat::Coinbase => format!(
                    r#"{{"type":"error","message":{}}}"#,
                    serde_json::Value::from(e)
                ),
            };
            let _ = ws.send(Message::text(err));
            let _ = ws.close(None);
            let _ = ws.flush();
            return Ok(());
        }
    };
    if shared.done.load(Ordering::Relaxed) || ws.send(Message::text(reply)).is_err() {
        return Ok(());
    }
    let (tx, rx) = sync_channel(1 << 16);
    let pending = if shared.format == WsFormat::Coinbase {
        subs.clone()
    } else {
        Vec::new()
    };
    let c = Client {
        tx,
        pending,
        subs,
        channels,
        sent: 0,
        drop_at: None,
    };
    if shared.done.load(Ordering::Relaxed) || req.send(Req::Subscribe(c)).is_err() {
        let _ = ws.close(None);
        let _ = ws.flush();
        return Ok(());
    }
    writer(ws, rx, shared);
    Ok(())
}

/// Sends a client its frames; answers its pings; ends on a fault, the end (after the queued
/// frames) or its close.
fn writer(mut ws: WebSocket<TcpStream>, rx: Receiver<Out>, shared: &Shared) {
    let _ = ws
        .get_mut()
        .set_read_timeout(Some(Duration::from_millis(1)));
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(o) => Some(o),
            Err(RecvTimeoutError::Timeout) if shared.done.load(Ordering::Relaxed) => {
                Some(Out::Close)
            }
            Err(RecvTimeoutError::Timeout) => None,
            // The replay thread let go of this client at the end: close normally.
            Err(RecvTimeoutError::Disconnected) if shared.done.load(Ordering::Relaxed) => {
                Some(Out::Close)
            }
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut next = first;
        while let Some(o) = next {
            match o {
                Out::Frame(f) => {
                    if ws.write(Message::text(f.as_ref())).is_err() {
                        return;
                    }
                }
                Out::Drop => {
                    let _ = ws.get_mut().shutdown(Shutdown::Both);
                    return;
                }
                Out::Close => {
                    let _ = ws.flush();
                    let _ = ws.close(None);
                    let _ = ws.flush();
                    // Read until the client's close answer (or a short timeout).
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_millis(500) {
                        match ws.read() {
                            Err(tungstenite::Error::Io(_)) => {}
                            Err(_) => return,
                            Ok(_) => {}
                        }
                    }
                    return;
                }
            }
            next = rx.try_recv().ok();
        }
        if ws.flush().is_err() {
            return;
        }
        match ws.read() {
            Ok(Message::Close(_)) => {
                let _ = ws.flush();
                return;
            }
            Ok(_) => {}
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}
