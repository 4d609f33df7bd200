//! The live daemon's receive loop allocates nothing once warm: a per-thread counting global
//! allocator watches the loop's own thread while it receives a generated multi-symbol session
//! on two lines (every packet twice), journals it and runs the books inline, with both receive
//! backends (io_uring where the kernel has multishot receive).
//!
//! The daemon is set up as the command line sets it up (`ItchDaemon::new` from a config), over
//! loopback sockets this test opens; the sender keeps a bounded number of packets ahead of the
//! loop, so no socket buffer overflows and every message is released in sequence.
// A global allocator can only be written with `unsafe impl GlobalAlloc`; every block below has
// its SAFETY comment.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use ticklane_engine::strategy::{NoStrategy, Strategy};
use ticklane_feeds::arbiter::{LINE_A, LINE_B, LINE_RETRANS};
use ticklane_feeds::itch::framing::FrameReader;
use ticklane_feeds::itch::synth::{generate, SynthConfig};
use ticklane_feeds::moldudp64::{end_of_session, PacketBuilder};
use ticklane_replay::live::config::LiveConfig;
use ticklane_replay::live::itch::{ItchDaemon, ItchSockets};
use ticklane_replay::live::recv::{
    probe_io_uring, Accept, LineSocket, MmsgReceiver, Receiver, UringReceiver,
};

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

/// Allocations (and reallocations) made by this thread so far.
fn allocs() -> u64 {
    ALLOCS.with(Cell::get)
}

/// Forwards to the system allocator and counts, per thread, so the test watches its own
/// thread while the sender, journal and metrics threads run.
struct Counting;

fn count() {
    // A const-initialized thread local without destructor: no allocation, no registration.
    let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: forwards every call unchanged to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const SESSION: [u8; 10] = *b"NOALLOC001";

/// Synthetic multi-symbol ITCH packed into MoldUDP64 packets; returns them and the message
/// count.
fn packets(messages: u64) -> (Vec<Vec<u8>>, u64) {
    let cfg = SynthConfig {
        seed: 17,
        symbols: 100,
        messages,
        ..SynthConfig::default()
    };
    let mut data = Vec::new();
    generate(&cfg, &mut data).unwrap();
    let mut msgs = Vec::new();
    let mut r = FrameReader::new(&data[..]);
    while let Some(f) = r.next_frame() {
        msgs.push(f.unwrap().bytes.to_vec());
    }
    let mut out = Vec::new();
    let (mut seq, mut i) = (1u64, 0usize);
    while i < msgs.len() {
        let mut buf = Vec::new();
        let mut b = PacketBuilder::new(SESSION, seq, 1400);
        while i < msgs.len() && b.push(&mut buf, &msgs[i]) {
            i += 1;
        }
        seq = b.finish(&mut buf);
        out.push(buf);
    }
    out.push(end_of_session(SESSION, seq).to_vec());
    (out, msgs.len() as u64)
}

/// A non-blocking UDP socket on an ephemeral loopback port with an 8 MiB receive buffer.
fn socket() -> UdpSocket {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)).unwrap();
    s.set_recv_buffer_size(8 << 20).unwrap();
    s.bind(&SocketAddr::from((Ipv4Addr::LOCALHOST, 0)).into())
        .unwrap();
    s.set_nonblocking(true).unwrap();
    s.into()
}

/// The daemon's config: an ITCH source of session [`SESSION`] (its group is never joined:
/// the test opens the sockets), inline books, a journal in `dir`, no metrics endpoint.
fn config(backend: &str, dir: &std::path::Path) -> LiveConfig {
    let journal = dir.join(format!("{backend}.journal"));
    let text = format!(
        "[[source]]\nkind = \"itch\"\ngroup = \"239.255.0.1:31001\"\nsession = \"{}\"\n\
         [journal]\npath = \"{}\"\nfsync = {{ interval_ms = 5 }}\n[metrics]\nenabled = false\n",
        std::str::from_utf8(&SESSION).unwrap(),
        journal.display()
    );
    LiveConfig::parse(&text, "no-alloc.toml").unwrap()
}

/// Line A and B sockets (any sender), the request socket (nobody), the backend over them.
fn sockets(backend: &str) -> (ItchSockets, [SocketAddr; 2]) {
    let (a, b, req) = (socket(), socket(), socket());
    let addrs = [a.local_addr().unwrap(), b.local_addr().unwrap()];
    let line = |line, s: &UdpSocket, accept| LineSocket {
        line,
        fd: s.as_raw_fd(),
        accept,
    };
    let fds = [
        line(LINE_A, &a, Accept::Any),
        line(LINE_B, &b, Accept::Any),
        line(LINE_RETRANS, &req, Accept::Nobody),
    ];
    let receiver = if backend == "io_uring" {
        Receiver::Uring(UringReceiver::new(&fds, 64, 2048).unwrap())
    } else {
        Receiver::Mmsg(MmsgReceiver::new(&fds, 64, 2048).unwrap())
    };
    let sockets = ItchSockets {
        receiver,
        backend_note: String::new(),
        req,
        lines: vec![a, b],
    };
    (sockets, addrs)
}

#[test]
fn the_receive_loop_allocates_nothing_once_warm() {
    let (pkts, total) = packets(500_000);
    let pkts = Arc::new(pkts);
    let dir = std::env::temp_dir().join(format!("ticklane-noalloc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for backend in ["recvmmsg", "io_uring"] {
        if backend == "io_uring" {
            if let Err(why) = probe_io_uring() {
                eprintln!("skipping io_uring: {why}");
                continue;
            }
        }
        let cfg = config(backend, &dir);
        let (sockets, addrs) = sockets(backend);
        let strategy: Box<dyn Strategy + Send> = Box::new(NoStrategy);
        let daemon =
            ItchDaemon::new(&cfg, sockets, strategy, Box::new(|| Box::new(NoStrategy))).unwrap();
        // Drain published latency as the metrics endpoint does between scrapes.
        let registry = daemon.metrics();
        std::thread::spawn(move || {
            for _ in 0..3000 {
                registry.tick();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let mut lp = daemon.start();
        // The sender keeps at most 512 packets ahead of what the daemon has received on
        // line B, so nothing overflows a socket buffer.
        let got = Arc::new(AtomicU64::new(0));
        let sender = {
            let (pkts, got) = (pkts.clone(), got.clone());
            std::thread::spawn(move || {
                let s = UdpSocket::bind("127.0.0.1:0").unwrap();
                for (i, p) in pkts.iter().enumerate() {
                    let t = Instant::now();
                    while i as u64 > got.load(Ordering::Relaxed) + 512 {
                        assert!(t.elapsed() < Duration::from_secs(30), "receiver stalled");
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    s.send_to(p, addrs[0]).unwrap();
                    s.send_to(p, addrs[1]).unwrap();
                }
            })
        };
        let started = Instant::now();
        let mut warm_allocs = None;
        while !lp.arbiter().finished() {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "{:?}",
                lp.arbiter().stats
            );
            if let Err(e) = lp.step(Duration::from_millis(5)) {
                panic!("step failed: {e}");
            }
            got.store(lp.arbiter().stats.packets[1], Ordering::Relaxed);
            if warm_allocs.is_none() && lp.arbiter().stats.released >= total * 3 / 5 {
                warm_allocs = Some(allocs());
            }
        }
        let after = allocs();
        sender.join().unwrap();
        let st = lp.arbiter().stats;
        assert_eq!(st.released, total);
        assert_eq!(st.skipped, 0);
        assert!(st.duplicates >= total / 2, "line B repeated A: {st:?}");
        let warm = warm_allocs.unwrap();
        assert_eq!(
            after - warm,
            0,
            "{backend}: {} allocations on the receive thread over the last {} messages",
            after - warm,
            total - total * 3 / 5
        );
        let report = lp.finish("end of session").unwrap();
        assert!(report.journal_error.is_none(), "{}", report.journal);
        assert_eq!(report.summary.messages, total, "{}", report.summary);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
