//! `ticklane serve itch`: publishes an ITCH 5.0 BinaryFILE as MoldUDP64 on one or two lines
//! (UDP multicast, or unicast to a plain address) with seeded faults per line, and answers
//! retransmission requests from the whole session, so the live feed can be tested end to end on
//! one host.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Args;
use socket2::{Domain, Protocol, Socket, Type};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::moldudp64::{
    end_of_session, heartbeat, parse_request, PacketBuilder, HEADER_LEN,
};

use crate::{in_range, input_failure, Failure};
use ticklane_engine::config::Range;

/// A fault probability.
const PROBABILITY: Range<f64> = Range::new(0.0, 1.0, "probability per packet and line");
/// Datagram size: a MoldUDP64 header and a message, up to what UDP carries on loopback.
const MTU: Range<usize> = Range::new(HEADER_LEN + 64, 65_000, "largest datagram, bytes");
/// Multicast TTL.
const TTL: Range<u32> = Range::new(0, 255, "multicast TTL");
/// How long the request server keeps answering after the end of session.
const LINGER_MS: Range<u64> = Range::new(0, 3_600_000, "ms to answer requests after the end");
/// Times the file is published back to back.
const LOOPS: Range<u64> = Range::new(1, 1_000_000, "times the file is published");
/// A `--rate` speed-up.
const SPEED: Range<f64> = Range::new(1e-3, 1e6, "speed-up of the recorded pace");
/// A `--rate` in messages (frames) per second.
const PER_SEC: Range<f64> = Range::new(1e-3, 1e9, "messages per second");

/// Arguments of `serve itch`.
#[derive(Args)]
pub(crate) struct ServeItchArgs {
    /// ITCH 5.0 BinaryFILE to publish (plain or gzip).
    file: PathBuf,
    /// Line A destination, e.g. 239.192.0.1:31001 (multicast) or 127.0.0.1:31001 (unicast).
    #[arg(long)]
    group: SocketAddrV4,
    /// Line B destination (same sequence space as A, faults drawn independently).
    #[arg(long)]
    line_b: Option<SocketAddrV4>,
    /// Pace: 1x or 10x (the messages' own timestamps, sped up), max, or a number of messages
    /// per second.
    #[arg(long, default_value = "max")]
    rate: Rate,
    /// Probability in [0, 1] that a data packet is not sent on a line.
    #[arg(long, default_value_t = 0.0, value_parser = in_range("--drop", PROBABILITY))]
    drop: f64,
    /// Probability that a data packet is sent twice on a line.
    #[arg(long, default_value_t = 0.0, value_parser = in_range("--dup", PROBABILITY))]
    dup: f64,
    /// Probability that a data packet is held back and sent after the next one.
    #[arg(long, default_value_t = 0.0, value_parser = in_range("--reorder", PROBABILITY))]
    reorder: f64,
    /// Seed of the fault draws (each line has its own stream derived from it).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// UDP port on 127.0.0.1 of the retransmission request server (0: none).
    #[arg(long, default_value_t = 0)]
    request_port: u16,
    /// Largest datagram, bytes (1400 stays under a 1500-byte MTU with headers).
    #[arg(long, default_value_t = 1400, value_parser = in_range("--mtu", MTU))]
    mtu: usize,
    /// MoldUDP64 session id (10 ASCII characters).
    #[arg(long, default_value = "TICKLANE01")]
    session: String,
    /// Multicast TTL (0 keeps the traffic on this host).
    #[arg(long, default_value_t = 0, value_parser = in_range("--ttl", TTL))]
    ttl: u32,
    /// Interface address multicast is sent from.
    #[arg(long, default_value = "127.0.0.1")]
    interface: Ipv4Addr,
    /// Keep answering retransmission requests this long after the end of session, ms.
    #[arg(long, default_value_t = 3000, value_parser = in_range("--linger-ms", LINGER_MS))]
    linger_ms: u64,
    /// Publish the file this many times back to back, sequence numbers continuing (a sustained
    /// feed from a short capture, for load tests; the repeated orders are book errors to a
    /// receiver, which is fine for measuring loss, not for a digest).
    #[arg(long = "loop", default_value_t = 1, value_parser = in_range("--loop", LOOPS))]
    loops: u64,
}

/// How fast to publish.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Rate {
    /// The file's own timestamps divided by this factor.
    Speed(f64),
    /// As fast as the socket takes them.
    Max,
    /// Messages per second.
    PerSec(f64),
}

impl std::str::FromStr for Rate {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s == "max" {
            return Ok(Rate::Max);
        }
        if let Some(x) = s.strip_suffix('x') {
            return match x.parse::<f64>() {
                Ok(v) => SPEED
                    .check("--rate", v)
                    .map(Rate::Speed)
                    .map_err(|e| e.to_string()),
                _ => Err(format!("bad speed {s:?}: expected e.g. 1x or 10x")),
            };
        }
        match s.parse::<f64>() {
            Ok(v) => PER_SEC
                .check("--rate", v)
                .map(Rate::PerSec)
                .map_err(|e| e.to_string()),
            _ => Err(format!(
                "bad rate {s:?}: expected 1x, 10x, max or messages per second"
            )),
        }
    }
}

/// A small seeded generator (xorshift64*) for the fault draws: reproducible per seed.
struct Faults {
    x: u64,
    /// The packet this line holds back: its index and the sequence number it goes out with
    /// (each line holds its own, so the two lines never mix them up).
    held: Option<(usize, u64)>,
}

impl Faults {
    fn new(seed: u64, line: u64) -> Self {
        // splitmix64 of the seed and line, so streams differ and a zero seed is fine.
        let mut z = seed ^ line.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Faults {
            x: (z ^ (z >> 31)) | 1,
            held: None,
        }
    }
    fn hit(&mut self, p: f64) -> bool {
        self.x ^= self.x >> 12;
        self.x ^= self.x << 25;
        self.x ^= self.x >> 27;
        let v = self.x.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11;
        (v as f64) / ((1u64 << 53) as f64) < p
    }
}

struct Line {
    dest: SocketAddr,
    faults: Faults,
    sent: u64,
    dropped: u64,
    duplicated: u64,
    reordered: u64,
}

fn sender(interface: Ipv4Addr, ttl: u32) -> Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_multicast_if_v4(&interface)
        .context("setting IP_MULTICAST_IF")?;
    s.set_multicast_loop_v4(true)?;
    s.set_multicast_ttl_v4(ttl)?;
    s.set_send_buffer_size(4 << 20)?;
    s.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)).into())?;
    Ok(s.into())
}

/// Loads the file's messages and each one's ITCH timestamp (ns since midnight).
fn load(path: &std::path::Path) -> Result<Vec<Vec<u8>>, Failure> {
    let input = ticklane_replay::run::input::open(path).map_err(input_failure)?;
    let mut r = FrameReader::new(input.reader);
    let mut msgs = Vec::new();
    while let Some(f) = r.next_frame() {
        match f {
            Ok(f) => msgs.push(f.bytes.to_vec()),
            Err(e) if msgs.is_empty() => {
                return Err(input_failure(anyhow::anyhow!(
                    "{}: not an ITCH 5.0 BinaryFILE: {e}",
                    path.display()
                )))
            }
            Err(e) => eprintln!("serve: {}: {e}; published what precedes it", path.display()),
        }
    }
    if msgs.is_empty() {
        return Err(input_failure(anyhow::anyhow!(
            "{}: no messages",
            path.display()
        )));
    }
    Ok(msgs)
}

fn itch_ts(m: &[u8]) -> u64 {
    if m.len() < 11 {
        return 0;
    }
    let mut b = [0u8; 8];
    b[2..].copy_from_slice(&m[5..11]);
    u64::from_be_bytes(b)
}

/// Runs `serve itch`.
pub(crate) fn itch(a: ServeItchArgs) -> Result<u8, Failure> {
    let session: [u8; 10] = a.session.as_bytes().try_into().map_err(|_| Failure {
        code: 2,
        err: anyhow::anyhow!(
            "--session {:?}: a MoldUDP64 session id is exactly 10 ASCII characters",
            a.session
        ),
    })?;
    let msgs = Arc::new(load(&a.file)?);
    let sock = sender(a.interface, a.ttl).map_err(Failure::from)?;
    let stop = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicU64::new(0));
    let server = if a.request_port != 0 {
        let rs = UdpSocket::bind((Ipv4Addr::LOCALHOST, a.request_port)).with_context(|| {
            format!("binding the request server on 127.0.0.1:{}", a.request_port)
        })?;
        rs.set_read_timeout(Some(Duration::from_millis(50)))?;
        let (msgs, stop, answered, mtu) = (msgs.clone(), stop.clone(), answered.clone(), a.mtu);
        let loops = a.loops;
        Some(
            std::thread::Builder::new()
                .name("mold-requests".into())
                .spawn(move || request_server(&rs, session, &msgs, loops, mtu, &stop, &answered))?,
        )
    } else {
        None
    };
    let mut lines = vec![Line {
        dest: a.group.into(),
        faults: Faults::new(a.seed, 0),
        sent: 0,
        dropped: 0,
        duplicated: 0,
        reordered: 0,
    }];
    if let Some(b) = a.line_b {
        lines.push(Line {
            dest: b.into(),
            faults: Faults::new(a.seed, 1),
            sent: 0,
            dropped: 0,
            duplicated: 0,
            reordered: 0,
        });
    }
    // Packets: (first message index, bytes).
    let mut packets: Vec<(usize, Vec<u8>)> = Vec::new();
    let (mut seq, mut i) = (1u64, 0usize);
    while i < msgs.len() {
        let first = i;
        let mut buf = Vec::with_capacity(a.mtu);
        let mut b = PacketBuilder::new(session, seq, a.mtu);
        while i < msgs.len() && b.push(&mut buf, &msgs[i]) {
            i += 1;
        }
        if i == first {
            return Err(input_failure(anyhow::anyhow!(
                "message {} is too long for a {}-byte packet",
                i + 1,
                a.mtu
            )));
        }
        seq = b.finish(&mut buf);
        packets.push((first, buf));
    }
    let seq_one_pass = seq;
    // The capture's own time span, for --rate 1x/10x across rounds.
    let span_s = itch_ts(&msgs[msgs.len() - 1]).saturating_sub(itch_ts(&msgs[0])) as f64 / 1e9;
    eprintln!(
        "serve: {} messages in {} packets, session {}, line A {}{}, rate {:?}, requests {}",
        msgs.len(),
        packets.len(),
        a.session,
        a.group,
        a.line_b
            .map(|b| format!(", line B {b}"))
            .unwrap_or_default(),
        a.rate,
        if a.request_port == 0 {
            "off".to_string()
        } else {
            format!("127.0.0.1:{}", a.request_port)
        }
    );
    let started = Instant::now();
    let mut last_send = Instant::now();
    let t0 = itch_ts(&msgs[0]);
    let send = |dest: &SocketAddr, bytes: &[u8]| -> Result<()> {
        sock.send_to(bytes, dest)
            .with_context(|| format!("sending to {dest}"))?;
        Ok(())
    };
    let per_loop = msgs.len() as u64;
    let mut scratch = Vec::with_capacity(a.mtu);
    let mut held_buf = Vec::with_capacity(a.mtu);
    for round in 0..a.loops {
        // Sequence numbers continue across rounds: patch the header's sequence field.
        let base = round * per_loop;
        for (pi, (first, bytes)) in packets.iter().enumerate() {
            let index = base + *first as u64;
            // Pace.
            let due = match a.rate {
                Rate::Max => None,
                Rate::PerSec(r) => Some(Duration::from_secs_f64(index as f64 / r)),
                Rate::Speed(s) => Some(Duration::from_secs_f64(
                    (itch_ts(&msgs[*first]).saturating_sub(t0) as f64 / 1e9
                        + round as f64 * span_s)
                        / s,
                )),
            };
            if let Some(due) = due {
                loop {
                    let now = started.elapsed();
                    if now >= due {
                        break;
                    }
                    if last_send.elapsed() >= Duration::from_secs(1) {
                        let hb = heartbeat(session, 1 + index);
                        for l in &lines {
                            send(&l.dest, &hb)?;
                        }
                        last_send = Instant::now();
                    }
                    std::thread::sleep((due - now).min(Duration::from_millis(100)));
                }
            }
            scratch.clear();
            scratch.extend_from_slice(bytes);
            scratch[10..18].copy_from_slice(&(1 + index).to_be_bytes());
            for l in lines.iter_mut() {
                if l.faults.hit(a.drop) {
                    l.dropped += 1;
                    continue;
                }
                if l.faults.held.is_none() && l.faults.hit(a.reorder) {
                    l.faults.held = Some((pi, 1 + index));
                    l.reordered += 1;
                    continue;
                }
                send(&l.dest, &scratch)?;
                l.sent += 1;
                if l.faults.hit(a.dup) {
                    send(&l.dest, &scratch)?;
                    l.duplicated += 1;
                }
                if let Some((h, held_seq)) = l.faults.held.take() {
                    held_buf.clear();
                    held_buf.extend_from_slice(&packets[h].1);
                    held_buf[10..18].copy_from_slice(&held_seq.to_be_bytes());
                    send(&l.dest, &held_buf)?;
                }
            }
            last_send = Instant::now();
        }
    }
    for l in lines.iter_mut() {
        if let Some((h, held_seq)) = l.faults.held.take() {
            held_buf.clear();
            held_buf.extend_from_slice(&packets[h].1);
            held_buf[10..18].copy_from_slice(&held_seq.to_be_bytes());
            send(&l.dest, &held_buf)?;
        }
    }
    let seq = 1 + per_loop * a.loops;
    debug_assert!(seq == 1 + (seq_one_pass - 1) * a.loops);
    let eos = end_of_session(session, seq);
    for _ in 0..3 {
        for l in &lines {
            send(&l.dest, &eos)?;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let elapsed = started.elapsed().as_secs_f64();
    for (name, l) in ["A", "B"].iter().zip(&lines) {
        eprintln!(
            "serve: line {name}: {} packets sent, {} dropped, {} duplicated, {} reordered",
            l.sent, l.dropped, l.duplicated, l.reordered
        );
    }
    eprintln!(
        "serve: {} messages in {elapsed:.3} s ({:.0} msgs/s); end of session at seq {seq}",
        per_loop * a.loops,
        (per_loop * a.loops) as f64 / elapsed.max(1e-9)
    );
    if let Some(h) = server {
        std::thread::sleep(Duration::from_millis(a.linger_ms));
        stop.store(true, Ordering::Relaxed);
        let _ = h.join();
        eprintln!(
            "serve: answered {} retransmission requests",
            answered.load(Ordering::Relaxed)
        );
    }
    Ok(0)
}

/// Answers MoldUDP64 requests (session, sequence, count) with data packets of the asked
/// messages, sent back to the requester, until `stop`.
fn request_server(
    rs: &UdpSocket,
    session: [u8; 10],
    msgs: &[Vec<u8>],
    loops: u64,
    mtu: usize,
    stop: &AtomicBool,
    answered: &AtomicU64,
) {
    let mut buf = [0u8; 2048];
    let mut out = Vec::with_capacity(mtu);
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = rs.recv_from(&mut buf) else {
            continue;
        };
        let Ok((s, seq, count)) = parse_request(&buf[..n]) else {
            continue;
        };
        let total = msgs.len() as u64 * loops;
        if s != session || seq == 0 || seq > total {
            continue;
        }
        answered.fetch_add(1, Ordering::Relaxed);
        let end = (seq + u64::from(count)).min(total + 1);
        let mut next = seq;
        while next < end {
            out.clear();
            let mut b = PacketBuilder::new(session, next, mtu);
            let mut k = next;
            while k < end && b.push(&mut out, &msgs[((k - 1) % msgs.len() as u64) as usize]) {
                k += 1;
            }
            if k == next {
                break;
            }
            next = b.finish(&mut out);
            let _ = rs.send_to(&out, from);
        }
    }
}
