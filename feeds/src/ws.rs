//! A blocking websocket client for the crypto venues: connect with timeouts, send the venue's
//! subscribe messages, keep the connection alive (answer pings, send our own on a heartbeat),
//! treat a silent connection as dead, and reconnect with capped exponential backoff and a
//! deterministic, seeded jitter. Every frame is handed to the caller with its receive time from
//! the live clock, taken right after the read returned.
//!
//! Why blocking and one thread: a venue connection carries hundreds of messages a second, and
//! the caller (the live runner) does its work (decode, book, journal, and the occasional REST
//! snapshot fetch) on the same thread between reads. While it fetches a snapshot, frames queue
//! in the socket's receive buffer, which is exactly the "buffer the stream while you fetch the
//! snapshot" step the venues document.
//!
//! `wss://` goes through rustls (ring provider, webpki roots); `ws://` is plain TCP, for local
//! tests against `ticklane serve ws`.
//!
//! Allocation: tungstenite allocates one buffer per message it returns (`Bytes`/`Utf8Bytes`).
//! That is accepted here: websocket feeds run at hundreds of messages a second, far from where
//! an allocation per message matters; everything downstream of the frame reuses its buffers.

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::CloseFrame;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The live clock: nanoseconds since the Unix epoch, read from the wall clock once and advanced
/// by the monotonic clock after that (so receive stamps never go backwards).
#[derive(Clone, Debug)]
pub struct WallClock {
    base_ns: u64,
    start: Instant,
}

impl Default for WallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl WallClock {
    /// Reads the wall clock once.
    pub fn new() -> Self {
        // The live clock is the one place that reads wall time (receive stamps of live data).
        #[allow(clippy::disallowed_methods)]
        let now = std::time::SystemTime::now();
        let base_ns = now
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        WallClock {
            base_ns,
            start: Instant::now(),
        }
    }

    /// Nanoseconds since the Unix epoch.
    #[inline]
    pub fn now_ns(&self) -> u64 {
        self.base_ns + self.start.elapsed().as_nanos() as u64
    }
}

/// Connection settings.
#[derive(Clone, Debug)]
pub struct WsClientConfig {
    /// `ws://host:port/path` or `wss://host:port/path`.
    pub url: String,
    /// Text messages sent right after every (re)connect, in order (the venue's subscribe).
    pub subscribe: Vec<String>,
    /// TCP connect and websocket handshake timeout.
    pub connect_timeout: Duration,
    /// Send a ping after this long without sending anything.
    pub heartbeat: Duration,
    /// No frame (data, ping or pong) for this long: the connection is dead.
    pub silence_timeout: Duration,
    /// First reconnect delay.
    pub backoff_initial: Duration,
    /// Largest reconnect delay (jitter included).
    pub backoff_max: Duration,
    /// Seed of the reconnect jitter.
    pub jitter_seed: u64,
    /// Give up after this many consecutive failed connects (0: never).
    pub max_attempts: u32,
}

impl Default for WsClientConfig {
    fn default() -> Self {
        WsClientConfig {
            url: String::new(),
            subscribe: Vec::new(),
            connect_timeout: Duration::from_secs(10),
            heartbeat: Duration::from_secs(15),
            silence_timeout: Duration::from_secs(30),
            backoff_initial: Duration::from_millis(250),
            backoff_max: Duration::from_secs(30),
            jitter_seed: 1,
            max_attempts: 0,
        }
    }
}

/// Why a connection ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Disconnect {
    /// The server closed it (close frame code, 1005 when it sent none).
    #[error("closed by the server (code {0})")]
    Closed(u16),
    /// The TCP connection ended without a close frame.
    #[error("connection reset")]
    Reset,
    /// Nothing arrived within the silence timeout.
    #[error("silent for longer than the timeout")]
    Silent,
    /// A read or write failed.
    #[error("I/O error: {0}")]
    Io(io::ErrorKind),
    /// The peer broke the websocket protocol.
    #[error("websocket protocol error")]
    Protocol,
    /// The connect or handshake failed.
    #[error("connect failed: {0}")]
    Connect(ConnectError),
    /// We were asked to stop, or the caller asked for a reconnect.
    #[error("stopped by the caller")]
    Stopped,
}

/// Why a connect failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// The URL is not a `ws://` or `wss://` URL with a host.
    #[error("bad URL")]
    Url,
    /// The host did not resolve.
    #[error("host did not resolve")]
    Resolve,
    /// TCP connect failed or timed out.
    #[error("TCP connect: {0}")]
    Tcp(io::ErrorKind),
    /// The TLS or websocket handshake failed (or the server refused the upgrade).
    #[error("handshake failed")]
    Handshake,
}

/// What the client reports to its caller.
#[derive(Debug)]
pub enum WsEvent<'a> {
    /// Connected and subscribed; `connection` counts from 0.
    Connected {
        /// Which connection this is (0 the first, 1 after the first reconnect, ...).
        connection: u32,
    },
    /// A data frame (text or binary) received at `ts_recv` (live clock, ns since the epoch).
    Frame {
        /// Receive time.
        ts_recv: u64,
        /// The frame's bytes.
        bytes: &'a [u8],
    },
    /// The connection ended.
    Disconnected {
        /// Why.
        reason: Disconnect,
    },
    /// No frame within the poll interval (about 50 ms): a chance to do timed work.
    Idle,
    /// Waiting `delay` before connect attempt `attempt`.
    Reconnecting {
        /// Consecutive attempt number: 1 after a lost connection, n + 1 after n failed
        /// connects in a row.
        attempt: u32,
        /// How long we wait first.
        delay: Duration,
    },
}

/// What the caller wants after an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Keep going.
    Continue,
    /// Drop this connection and reconnect (after the backoff).
    Reconnect,
    /// Stop the client.
    Stop,
}

/// Capped exponential backoff with a deterministic jitter: attempt `n` (from 1) waits
/// `min(max, initial * 2^(n-1) * (1 + j))` with `j` in `[0, 0.5)` drawn from the seed.
///
/// ```
/// use std::time::Duration;
/// use ticklane_feeds::ws::Backoff;
/// let b = Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 7);
/// let d1 = b.delay(1);
/// assert!(d1 >= Duration::from_millis(100) && d1 < Duration::from_millis(150));
/// assert!(b.delay(3) >= Duration::from_millis(400));
/// assert_eq!(b.delay(30), Duration::from_secs(1));
/// assert_eq!(b.delay(2), Backoff::new(Duration::from_millis(100), Duration::from_secs(1), 7).delay(2));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    seed: u64,
}

/// splitmix64: a well-mixed 64-bit value of `x`.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Backoff {
    /// A backoff from `initial` doubling up to `max`, jitter seeded by `seed`.
    pub fn new(initial: Duration, max: Duration, seed: u64) -> Self {
        Backoff { initial, max, seed }
    }

    /// The delay before attempt `attempt` (1 = first retry).
    pub fn delay(&self, attempt: u32) -> Duration {
        let base = self.initial.as_nanos() as u64;
        let shift = attempt.saturating_sub(1).min(40);
        let exp = base.saturating_mul(1u64 << shift);
        // Jitter fraction in [0, 0.5): 53 random bits scaled.
        let r = mix(self.seed ^ u64::from(attempt).wrapping_mul(0xa24b_aed4_963e_e407)) >> 11;
        let jitter = (exp as u128 * r as u128 / (1u128 << 54)) as u64;
        let d = exp.saturating_add(jitter);
        Duration::from_nanos(d.min(self.max.as_nanos() as u64))
    }
}

type Socket = WebSocket<MaybeTlsStream<TcpStream>>;

/// How often a blocked read wakes up to check the stop flag and the heartbeat.
const POLL: Duration = Duration::from_millis(50);

/// The client. [`run`](Self::run) owns the connection loop.
pub struct WsClient {
    cfg: WsClientConfig,
    clock: WallClock,
    backoff: Backoff,
}

fn io_kind(e: &tungstenite::Error) -> Option<io::ErrorKind> {
    match e {
        tungstenite::Error::Io(e) => Some(e.kind()),
        _ => None,
    }
}

fn is_timeout(e: &tungstenite::Error) -> bool {
    matches!(
        io_kind(e),
        Some(io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)
    )
}

fn disconnect_of(e: &tungstenite::Error) -> Disconnect {
    match e {
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            Disconnect::Closed(1005)
        }
        tungstenite::Error::Io(e)
            if matches!(
                e.kind(),
                io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
            ) =>
        {
            Disconnect::Reset
        }
        tungstenite::Error::Io(e) => Disconnect::Io(e.kind()),
        tungstenite::Error::Protocol(
            tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
        ) => Disconnect::Reset,
        _ => Disconnect::Protocol,
    }
}

fn set_read_timeout(ws: &mut Socket, d: Duration) -> io::Result<()> {
    match ws.get_mut() {
        MaybeTlsStream::Plain(s) => s.set_read_timeout(Some(d)),
        MaybeTlsStream::Rustls(s) => s.sock.set_read_timeout(Some(d)),
        _ => Ok(()),
    }
}

impl WsClient {
    /// A client for `cfg`, stamping frames with `clock`.
    pub fn new(cfg: WsClientConfig, clock: WallClock) -> Self {
        let backoff = Backoff::new(cfg.backoff_initial, cfg.backoff_max, cfg.jitter_seed);
        WsClient {
            cfg,
            clock,
            backoff,
        }
    }

    /// The clock frames are stamped with.
    pub fn clock(&self) -> &WallClock {
        &self.clock
    }

    /// Opens one connection and sends the subscribe messages.
    fn connect(&self) -> Result<Socket, ConnectError> {
        let req = self
            .cfg
            .url
            .as_str()
            .into_client_request()
            .map_err(|_| ConnectError::Url)?;
        let uri = req.uri();
        let host = uri.host().ok_or(ConnectError::Url)?;
        let tls = match uri.scheme_str() {
            Some("wss") => true,
            Some("ws") => false,
            _ => return Err(ConnectError::Url),
        };
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs: Vec<_> = (host, port)
            .to_socket_addrs()
            .map_err(|_| ConnectError::Resolve)?
            .collect();
        let mut last = ConnectError::Resolve;
        let mut tcp = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, self.cfg.connect_timeout) {
                Ok(s) => {
                    tcp = Some(s);
                    break;
                }
                Err(e) => last = ConnectError::Tcp(e.kind()),
            }
        }
        let tcp = tcp.ok_or(last)?;
        let _ = tcp.set_nodelay(true);
        tcp.set_read_timeout(Some(self.cfg.connect_timeout))
            .and_then(|()| tcp.set_write_timeout(Some(self.cfg.connect_timeout)))
            .map_err(|e| ConnectError::Tcp(e.kind()))?;
        let (mut ws, _resp) = tungstenite::client_tls_with_config(req, tcp, None, None)
            .map_err(|_| ConnectError::Handshake)?;
        for m in &self.cfg.subscribe {
            ws.send(Message::text(m.clone()))
                .map_err(|_| ConnectError::Handshake)?;
        }
        set_read_timeout(&mut ws, POLL.min(self.cfg.heartbeat))
            .map_err(|e| ConnectError::Tcp(e.kind()))?;
        Ok(ws)
    }

    /// Sleeps `d` in short steps; false if `stop` was set meanwhile.
    fn nap(stop: &AtomicBool, d: Duration) -> bool {
        let end = Instant::now() + d;
        loop {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            let now = Instant::now();
            if now >= end {
                return true;
            }
            std::thread::sleep((end - now).min(Duration::from_millis(10)));
        }
    }

    /// Connects, reads and reconnects until `stop` is set, `on` returns [`Flow::Stop`], or
    /// `max_attempts` consecutive connects failed. Returns the number of reconnects (connections
    /// opened after the first).
    pub fn run(&mut self, stop: &AtomicBool, mut on: impl FnMut(WsEvent<'_>) -> Flow) -> u32 {
        let mut connection = 0u32;
        let mut failures = 0u32;
        loop {
            if stop.load(Ordering::Relaxed) {
                return connection.saturating_sub(1);
            }
            if failures > 0 || connection > 0 {
                let attempt = failures + 1;
                if self.cfg.max_attempts > 0 && failures >= self.cfg.max_attempts {
                    return connection.saturating_sub(1);
                }
                let delay = self.backoff.delay(attempt);
                if on(WsEvent::Reconnecting { attempt, delay }) == Flow::Stop
                    || !Self::nap(stop, delay)
                {
                    return connection.saturating_sub(1);
                }
            }
            let mut ws = match self.connect() {
                Ok(ws) => ws,
                Err(e) => {
                    failures += 1;
                    if on(WsEvent::Disconnected {
                        reason: Disconnect::Connect(e),
                    }) == Flow::Stop
                    {
                        return connection.saturating_sub(1);
                    }
                    continue;
                }
            };
            failures = 0;
            let this = connection;
            connection += 1;
            if on(WsEvent::Connected { connection: this }) == Flow::Stop {
                let _ = ws.close(None);
                return connection - 1;
            }
            let (reason, flow) = self.read_loop(&mut ws, stop, &mut on);
            if !matches!(reason, Disconnect::Closed(_) | Disconnect::Reset) {
                // Tell the server we are leaving; ignore failures, the socket is dropped next.
                let _ = ws.close(Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "".into(),
                }));
                let _ = ws.flush();
            }
            drop(ws);
            if flow == Flow::Stop || on(WsEvent::Disconnected { reason }) == Flow::Stop {
                return connection - 1;
            }
        }
    }

    fn read_loop(
        &self,
        ws: &mut Socket,
        stop: &AtomicBool,
        on: &mut impl FnMut(WsEvent<'_>) -> Flow,
    ) -> (Disconnect, Flow) {
        let mut last_rx = Instant::now();
        let mut last_tx = Instant::now();
        loop {
            if stop.load(Ordering::Relaxed) {
                return (Disconnect::Stopped, Flow::Stop);
            }
            match ws.read() {
                Ok(msg) => {
                    let ts_recv = self.clock.now_ns();
                    last_rx = Instant::now();
                    let bytes: &[u8] = match &msg {
                        Message::Text(t) => t.as_bytes(),
                        Message::Binary(b) => b,
                        Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {
                            // tungstenite queued the pong for a ping; send it now.
                            if let Err(e) = ws.flush() {
                                return (disconnect_of(&e), Flow::Continue);
                            }
                            continue;
                        }
                        Message::Close(f) => {
                            let code = f.as_ref().map_or(1005, |f| u16::from(f.code));
                            let _ = ws.flush();
                            return (Disconnect::Closed(code), Flow::Continue);
                        }
                    };
                    match on(WsEvent::Frame { ts_recv, bytes }) {
                        Flow::Continue => {}
                        Flow::Reconnect => return (Disconnect::Stopped, Flow::Reconnect),
                        Flow::Stop => return (Disconnect::Stopped, Flow::Stop),
                    }
                }
                Err(e) if is_timeout(&e) => match on(WsEvent::Idle) {
                    Flow::Continue => {}
                    Flow::Reconnect => return (Disconnect::Stopped, Flow::Reconnect),
                    Flow::Stop => return (Disconnect::Stopped, Flow::Stop),
                },
                Err(e) => return (disconnect_of(&e), Flow::Continue),
            }
            if last_rx.elapsed() >= self.cfg.silence_timeout {
                return (Disconnect::Silent, Flow::Continue);
            }
            if last_tx.elapsed() >= self.cfg.heartbeat {
                last_tx = Instant::now();
                if let Err(e) = ws
                    .send(Message::Ping(Vec::new().into()))
                    .and_then(|()| ws.flush())
                {
                    if !is_timeout(&e) {
                        return (disconnect_of(&e), Flow::Continue);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_jitters_within_half_and_caps() {
        let b = Backoff::new(Duration::from_millis(100), Duration::from_millis(2000), 42);
        let mut prev_base = 0u64;
        for n in 1..=4u32 {
            let base = 100u64 << (n - 1);
            let d = b.delay(n).as_millis() as u64;
            assert!(
                d >= base && d < base + base / 2 + 1,
                "attempt {n}: {d} ms, base {base}"
            );
            assert!(base > prev_base);
            prev_base = base;
        }
        // 100 * 2^5 = 3200 > 2000: capped.
        assert_eq!(b.delay(6), Duration::from_millis(2000));
        // Deterministic per seed, different across seeds.
        let other = Backoff::new(Duration::from_millis(100), Duration::from_millis(2000), 43);
        assert_eq!(b.delay(2), b.delay(2));
        assert!((1..=4).any(|n| other.delay(n) != b.delay(n)));
    }

    /// A local server: each connection is answered by `serve(conn index, socket)`.
    fn server(
        conns: usize,
        serve: impl Fn(usize, &mut WebSocket<TcpStream>) + Send + 'static,
    ) -> (u16, std::thread::JoinHandle<()>) {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let h = std::thread::spawn(move || {
            for i in 0..conns {
                let (s, _) = l.accept().unwrap();
                let mut ws = tungstenite::accept(s).unwrap();
                serve(i, &mut ws);
            }
        });
        (port, h)
    }

    #[test]
    fn subscribes_answers_pings_and_drops_a_silent_connection() {
        // Connection 0: check the subscribe, ping us, send two frames, then go silent (no
        // reads, so our pings get no pong). Connection 1: one frame, then a normal close.
        let (port, h) = server(2, |i, ws| {
            let sub = ws.read().unwrap();
            assert_eq!(sub, Message::text("SUB"));
            if i == 0 {
                ws.send(Message::Ping(b"p".to_vec().into())).unwrap();
                // The pong to our ping comes back before anything else we read.
                loop {
                    match ws.read().unwrap() {
                        Message::Pong(p) => {
                            assert_eq!(&p[..], b"p");
                            break;
                        }
                        Message::Ping(_) => {}
                        other => panic!("expected a pong, got {other:?}"),
                    }
                }
                ws.send(Message::text("one")).unwrap();
                ws.send(Message::binary(b"two".to_vec())).unwrap();
                std::thread::sleep(Duration::from_millis(1500));
            } else {
                ws.send(Message::text("three")).unwrap();
                ws.close(None).unwrap();
                // Read until the close handshake completes.
                while ws.read().is_ok() {}
            }
        });
        let cfg = WsClientConfig {
            url: format!("ws://127.0.0.1:{port}/ws"),
            subscribe: vec!["SUB".into()],
            // The server accepts the second connection only after its silent spell (~1 s).
            connect_timeout: Duration::from_secs(5),
            heartbeat: Duration::from_millis(100),
            silence_timeout: Duration::from_millis(500),
            backoff_initial: Duration::from_millis(10),
            backoff_max: Duration::from_millis(20),
            ..WsClientConfig::default()
        };
        let mut c = WsClient::new(cfg, WallClock::new());
        let stop = AtomicBool::new(false);
        let mut log = Vec::new();
        let mut last_ts = 0;
        let t0 = Instant::now();
        let reconnects = c.run(&stop, |e| {
            assert!(t0.elapsed() < Duration::from_secs(10), "bounded");
            match e {
                WsEvent::Connected { connection } => log.push(format!("connected {connection}")),
                WsEvent::Frame { ts_recv, bytes } => {
                    assert!(ts_recv >= last_ts);
                    last_ts = ts_recv;
                    log.push(String::from_utf8_lossy(bytes).into_owned());
                }
                WsEvent::Disconnected { reason } => {
                    log.push(format!("{reason:?}"));
                    if matches!(reason, Disconnect::Closed(_)) {
                        return Flow::Stop;
                    }
                }
                WsEvent::Reconnecting { attempt, .. } => log.push(format!("retry {attempt}")),
                WsEvent::Idle => {}
            }
            Flow::Continue
        });
        h.join().unwrap();
        assert_eq!(
            log,
            [
                "connected 0",
                "one",
                "two",
                "Silent",
                "retry 1",
                "connected 1",
                "three",
                "Closed(1005)"
            ]
        );
        assert_eq!(reconnects, 1);
        // Receive stamps are wall time: after 2020-01-01.
        assert!(last_ts > 1_577_836_800_000_000_000);
    }

    #[test]
    fn connect_to_nothing_fails_fast_and_counts_attempts() {
        // A port nobody listens on: bind, learn the port, close.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let cfg = WsClientConfig {
            url: format!("ws://127.0.0.1:{port}/ws"),
            connect_timeout: Duration::from_millis(500),
            backoff_initial: Duration::from_millis(1),
            backoff_max: Duration::from_millis(5),
            max_attempts: 3,
            ..WsClientConfig::default()
        };
        let mut c = WsClient::new(cfg, WallClock::new());
        let stop = AtomicBool::new(false);
        let (mut fails, mut retries) = (0, Vec::new());
        c.run(&stop, |e| {
            match e {
                WsEvent::Disconnected {
                    reason: Disconnect::Connect(ConnectError::Tcp(_)),
                } => fails += 1,
                WsEvent::Reconnecting { attempt, .. } => retries.push(attempt),
                other => panic!("unexpected {other:?}"),
            }
            Flow::Continue
        });
        assert_eq!(fails, 3);
        assert_eq!(retries, vec![2, 3]);
        let mut bad = WsClient::new(
            WsClientConfig {
                url: "http://x".into(),
                max_attempts: 1,
                ..WsClientConfig::default()
            },
            WallClock::new(),
        );
        let mut seen = None;
        bad.run(&stop, |e| {
            if let WsEvent::Disconnected { reason } = e {
                seen = Some(reason);
            }
            Flow::Continue
        });
        assert_eq!(seen, Some(Disconnect::Connect(ConnectError::Url)));
    }
}
