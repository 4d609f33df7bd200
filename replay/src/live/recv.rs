//! Datagram receive for the live daemon: io_uring multishot receive into a provided buffer ring
//! where the kernel supports it (probed at start, [`probe_io_uring`]), recvmmsg(2) batches
//! otherwise. The sockets are the caller's (opened, bound, joined, non-blocking); which backend
//! runs is the caller's choice too.
//!
//! Both backends are set up once (buffers, message headers, the ring) and then read
//! into that memory: nothing allocates per datagram. Each datagram is handed to the caller as
//! `(line, receive time ns since the Unix epoch, bytes)`.
//!
//! Sources: the request socket takes retransmissions only from the configured request server
//! ([`Accept`]); a datagram from any other address or port is dropped before the journal and
//! the arbiter see it, and counted ([`RecvStats::rejected`]). Both backends read each
//! datagram's source address for that: recvmmsg through `msg_name`, io_uring by receiving on
//! that socket with a multishot `IORING_OP_RECVMSG`, whose buffers start with the address.
//! (A connected UDP socket would filter in the kernel, but silently: a forger would go
//! uncounted.) The multicast lines accept any sender; their group and port are the filter.
//!
//! Receive time: recvmmsg reads the kernel's SO_TIMESTAMPNS control message (stamped when the
//! datagram reached the socket). io_uring's multishot `IORING_OP_RECV` carries no control
//! messages, so that backend reads CLOCK_REALTIME right after each completion is reaped; the
//! difference is the completion-to-reap time, microseconds at most when the loop keeps up.
//! `Receiver::timestamps` says which one a run used.
//!
//! Unsafe code here is the system-call boundary (recvmmsg, poll, io_uring buffer-ring memory);
//! each block says why it is sound.
#![allow(unsafe_code)] // raw socket and io_uring calls; every block has a SAFETY comment

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use super::config::RecvBackend;

/// Wall-clock nanoseconds since the Unix epoch (CLOCK_REALTIME through the vDSO).
///
/// This is the live clock: the only place outside tests where the daemon reads wall time, for
/// receive timestamps that go into the journal.
#[inline]
pub fn realtime_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_REALTIME always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Which senders a socket takes datagrams from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accept {
    /// Any sender (a multicast line: its group and port are the filter).
    Any,
    /// Only this address and port (the request server); datagrams from elsewhere are dropped
    /// and counted.
    From(SocketAddrV4),
    /// Nobody (a request socket when no request server is configured): every datagram is
    /// dropped and counted.
    Nobody,
}

impl Accept {
    /// Whether a datagram from `from` (`None`: the address could not be read) is taken.
    #[inline]
    fn admits(self, from: Option<SocketAddrV4>) -> bool {
        match self {
            Accept::Any => true,
            Accept::From(a) => from == Some(a),
            Accept::Nobody => false,
        }
    }
}

/// One socket the receiver reads: the line its datagrams are on, the socket, who it accepts.
#[derive(Clone, Copy, Debug)]
pub struct LineSocket {
    /// Line number handed to the caller with each datagram.
    pub line: u16,
    /// The socket (owned by the caller, open for the receiver's lifetime).
    pub fd: RawFd,
    /// Senders accepted.
    pub accept: Accept,
}

/// Bytes of a `sockaddr_in`, the source address field both backends fill.
const NAME_LEN: usize = std::mem::size_of::<libc::sockaddr_in>();

/// The IPv4 address and port in a `sockaddr_in` as the kernel wrote it (family in host order,
/// port and address in network order); `None` if it is not one.
#[inline]
fn sockaddr_v4(b: &[u8]) -> Option<SocketAddrV4> {
    if b.len() < 8 || u16::from_ne_bytes([b[0], b[1]]) != libc::AF_INET as u16 {
        return None;
    }
    Some(SocketAddrV4::new(
        Ipv4Addr::new(b[4], b[5], b[6], b[7]),
        u16::from_be_bytes([b[2], b[3]]),
    ))
}

/// Counters the backends keep (read off the hot thread through the daemon's metrics).
#[derive(Clone, Copy, Debug, Default)]
pub struct RecvStats {
    /// Datagrams longer than the receive slot (cut; the arbiter counts them malformed).
    pub truncated: u64,
    /// Receive errors other than "nothing there".
    pub errors: u64,
    /// io_uring: multishot receives re-armed after the kernel ended them (buffers ran out).
    pub rearms: u64,
    /// Datagrams dropped because their sender is not one the socket accepts (on the request
    /// socket: not the request server).
    pub rejected: u64,
}

/// A receive backend over the daemon's sockets.
// One value per daemon, made once: boxing the larger variant would only add an indirection.
#[allow(clippy::large_enum_variant)]
pub enum Receiver {
    /// recvmmsg(2).
    Mmsg(MmsgReceiver),
    /// io_uring multishot.
    Uring(UringReceiver),
}

impl Receiver {
    /// Waits up to `timeout` for datagrams and hands each to `f`; returns how many.
    #[inline]
    pub fn recv<F: FnMut(u16, u64, &[u8])>(
        &mut self,
        timeout: Duration,
        f: &mut F,
    ) -> io::Result<usize> {
        match self {
            Receiver::Mmsg(r) => r.recv(timeout, f),
            Receiver::Uring(r) => r.recv(timeout, f),
        }
    }

    /// The backend's name for the summary.
    pub fn name(&self) -> &'static str {
        match self {
            Receiver::Mmsg(_) => "recvmmsg",
            Receiver::Uring(_) => "io_uring multishot recv (provided buffer ring)",
        }
    }

    /// Where receive timestamps come from.
    pub fn timestamps(&self) -> &'static str {
        match self {
            Receiver::Mmsg(_) => "kernel SO_TIMESTAMPNS",
            Receiver::Uring(_) => "CLOCK_REALTIME at completion",
        }
    }

    /// Counters.
    pub fn stats(&self) -> RecvStats {
        match self {
            Receiver::Mmsg(r) => r.stats,
            Receiver::Uring(r) => r.stats,
        }
    }
}

/// Why a receive backend could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum RecvSetupError {
    /// `recv = "io_uring"` where multishot receive does not work (the probe says why).
    #[error("recv = \"io_uring\": {0}")]
    Unsupported(String),
    /// Setting up the backend over the sockets failed.
    #[error("setting up {backend}")]
    Setup {
        /// `recvmmsg` or `io_uring`.
        backend: &'static str,
        /// Why.
        source: io::Error,
    },
}

impl Receiver {
    /// The backend `recv` asks for over `fds`, `batch` datagrams of up to `slot` bytes at a
    /// time. `Auto` takes io_uring when [`probe_io_uring`] passes and recvmmsg otherwise, and
    /// says why in the note it returns (` (auto: ...)`; empty in every other case).
    ///
    /// # Errors
    /// [`RecvSetupError::Unsupported`] for `IoUring` where the probe fails;
    /// [`RecvSetupError::Setup`] when the backend cannot be set up.
    pub fn open(
        recv: RecvBackend,
        fds: &[LineSocket],
        batch: usize,
        slot: usize,
    ) -> Result<(Self, String), RecvSetupError> {
        let setup = |backend| move |source| RecvSetupError::Setup { backend, source };
        let mmsg = || {
            MmsgReceiver::new(fds, batch, slot)
                .map(Receiver::Mmsg)
                .map_err(setup("recvmmsg"))
        };
        let uring = || {
            UringReceiver::new(fds, batch, slot)
                .map(Receiver::Uring)
                .map_err(setup("io_uring"))
        };
        match recv {
            RecvBackend::Recvmmsg => Ok((mmsg()?, String::new())),
            RecvBackend::IoUring => {
                probe_io_uring().map_err(RecvSetupError::Unsupported)?;
                Ok((uring()?, String::new()))
            }
            RecvBackend::Auto => match probe_io_uring() {
                Ok(()) => Ok((uring()?, String::new())),
                Err(why) => Ok((mmsg()?, format!(" (auto: {why})"))),
            },
        }
    }
}

/// Control-message space per datagram (one timespec cmsg, generously).
const CMSG_SPACE: usize = 64;

/// recvmmsg batches on every socket that poll(2) says is readable.
pub struct MmsgReceiver {
    fds: Vec<LineSocket>,
    pollfds: Vec<libc::pollfd>,
    slot: usize,
    bufs: Vec<u8>,
    ctrl: Vec<u8>,
    /// Source addresses (`msg_name`), NAME_LEN bytes per slot.
    names: Vec<u8>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
    stats: RecvStats,
}

// SAFETY: the raw pointers in `iovs`/`hdrs` point into `bufs`/`ctrl`/`names`, heap buffers owned by the
// same value and never reallocated; moving the receiver to another thread moves them together.
unsafe impl Send for MmsgReceiver {}

impl MmsgReceiver {
    /// Sets up `batch` slots of `slot` bytes over `fds` and turns on SO_TIMESTAMPNS on each
    /// socket.
    pub fn new(fds: &[LineSocket], batch: usize, slot: usize) -> io::Result<Self> {
        for &LineSocket { fd, .. } in fds {
            let on: libc::c_int = 1;
            // SAFETY: `fd` is an open socket; the option value is a valid c_int of the given size.
            let rc = unsafe {
                libc::setsockopt(
                    fd,
                    libc::SOL_SOCKET,
                    libc::SO_TIMESTAMPNS,
                    (&on as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error());
            }
        }
        let mut r = MmsgReceiver {
            fds: fds.to_vec(),
            pollfds: fds
                .iter()
                .map(|s| libc::pollfd {
                    fd: s.fd,
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect(),
            slot,
            bufs: vec![0u8; batch * slot],
            ctrl: vec![0u8; batch * CMSG_SPACE],
            names: vec![0u8; batch * NAME_LEN],
            iovs: Vec::with_capacity(batch),
            hdrs: Vec::with_capacity(batch),
            stats: RecvStats::default(),
        };
        for i in 0..batch {
            r.iovs.push(libc::iovec {
                // SAFETY: i * slot < bufs.len(): in bounds of the allocation.
                iov_base: unsafe { r.bufs.as_mut_ptr().add(i * slot) }.cast(),
                iov_len: slot,
            });
        }
        for i in 0..batch {
            // SAFETY: an all-zero mmsghdr is a valid value (null pointers, zero lengths).
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            // SAFETY: index i is within iovs (batch entries) and ctrl (batch * CMSG_SPACE bytes).
            h.msg_hdr.msg_iov = unsafe { r.iovs.as_mut_ptr().add(i) };
            h.msg_hdr.msg_iovlen = 1;
            // SAFETY: as above.
            h.msg_hdr.msg_control = unsafe { r.ctrl.as_mut_ptr().add(i * CMSG_SPACE) }.cast();
            h.msg_hdr.msg_controllen = CMSG_SPACE as _;
            // SAFETY: index i is within names (batch * NAME_LEN bytes).
            h.msg_hdr.msg_name = unsafe { r.names.as_mut_ptr().add(i * NAME_LEN) }.cast();
            h.msg_hdr.msg_namelen = NAME_LEN as _;
            r.hdrs.push(h);
        }
        Ok(r)
    }

    fn recv<F: FnMut(u16, u64, &[u8])>(
        &mut self,
        timeout: Duration,
        f: &mut F,
    ) -> io::Result<usize> {
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: pollfds is a valid array of that many pollfd structs.
        let rc = unsafe {
            libc::poll(
                self.pollfds.as_mut_ptr(),
                self.pollfds.len() as libc::nfds_t,
                ms,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(0);
            }
            return Err(e);
        }
        let mut total = 0;
        for k in 0..self.fds.len() {
            if self.pollfds[k].revents == 0 {
                continue;
            }
            let LineSocket { line, fd, accept } = self.fds[k];
            loop {
                for h in self.hdrs.iter_mut() {
                    h.msg_hdr.msg_controllen = CMSG_SPACE as _;
                    h.msg_hdr.msg_namelen = NAME_LEN as _;
                    h.msg_hdr.msg_flags = 0;
                    h.msg_len = 0;
                }
                // SAFETY: hdrs holds hdrs.len() initialized mmsghdrs whose buffers are live and
                // sized as declared; a null timeout is allowed.
                let n = unsafe {
                    libc::recvmmsg(
                        fd,
                        self.hdrs.as_mut_ptr(),
                        self.hdrs.len() as libc::c_uint,
                        libc::MSG_DONTWAIT,
                        std::ptr::null_mut(),
                    )
                };
                if n < 0 {
                    let e = io::Error::last_os_error();
                    match e.kind() {
                        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => {}
                        _ => self.stats.errors += 1,
                    }
                    break;
                }
                let n = n as usize;
                for i in 0..n {
                    let h = &self.hdrs[i];
                    if accept != Accept::Any {
                        let len = (h.msg_hdr.msg_namelen as usize).min(NAME_LEN);
                        let from = sockaddr_v4(&self.names[i * NAME_LEN..i * NAME_LEN + len]);
                        if !accept.admits(from) {
                            self.stats.rejected += 1;
                            continue;
                        }
                    }
                    if h.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
                        self.stats.truncated += 1;
                    }
                    let ts = cmsg_timestamp(&h.msg_hdr).unwrap_or_else(realtime_ns);
                    let len = (h.msg_len as usize).min(self.slot);
                    f(line, ts, &self.bufs[i * self.slot..i * self.slot + len]);
                }
                total += n;
                if n < self.hdrs.len() {
                    break;
                }
            }
        }
        Ok(total)
    }
}

/// The SCM_TIMESTAMPNS control message of a received datagram, as ns since the epoch.
fn cmsg_timestamp(m: &libc::msghdr) -> Option<u64> {
    // SAFETY: `m` was filled by recvmmsg: msg_control/msg_controllen describe the control data
    // the kernel wrote, which the CMSG_* macros walk within bounds.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(m);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            c = libc::CMSG_NXTHDR(m, c);
        }
    }
    None
}

/// Buffer group id of the daemon's provided buffer ring.
const BGID: u16 = 7;

/// Page-aligned memory for the buffer ring's entries, shared with the kernel.
struct RingMem {
    ptr: *mut io_uring::types::BufRingEntry,
    layout: std::alloc::Layout,
}

impl Drop for RingMem {
    fn drop(&mut self) {
        // SAFETY: allocated in `UringReceiver::new` with this layout, freed once, after the
        // ring was unregistered (UringReceiver::drop runs first).
        unsafe { std::alloc::dealloc(self.ptr.cast(), self.layout) };
    }
}

/// Bytes a multishot `IORING_OP_RECVMSG` writes before the payload: a `struct
/// io_uring_recvmsg_out` (four u32) and the source address field (`msg_namelen` bytes).
const RECVMSG_HEAD: usize = 16 + NAME_LEN;

/// One multishot receive per socket, completions carrying buffers from a ring the kernel picks
/// from (`IORING_REGISTER_PBUF_RING`); a buffer goes back to the ring as soon as its datagram
/// has been handed on. Sockets that accept any sender use `IORING_OP_RECV`; a socket that
/// checks its sender uses `IORING_OP_RECVMSG`, whose buffers start with the source address.
pub struct UringReceiver {
    ring: io_uring::IoUring,
    fds: Vec<LineSocket>,
    /// Per socket, the msghdr a multishot recvmsg is armed with (only its name and control
    /// lengths matter); boxed so its address stays put while the kernel may read it.
    msghdrs: Box<[libc::msghdr]>,
    mem: RingMem,
    entries: u16,
    tail: u16,
    /// Largest datagram handed on (bytes past it are cut and counted).
    slot: usize,
    /// Bytes of each ring buffer: the slot and room for a recvmsg head.
    buf_len: usize,
    bufs: Vec<u8>,
    stats: RecvStats,
    /// A completion came back with IORING_CQE_F_MORE: multishot is really in effect.
    pub multishot_seen: bool,
}

// SAFETY: the raw entry pointer is owned memory (RingMem) moved with the receiver; the ring,
// buffers and msghdrs (whose pointers are null) are owned too.
unsafe impl Send for UringReceiver {}

impl UringReceiver {
    /// Registers a ring of `batch` buffers for datagrams of up to `slot` bytes and arms a
    /// multishot receive on each of `fds`.
    pub fn new(fds: &[LineSocket], batch: usize, slot: usize) -> io::Result<Self> {
        let entries = batch.clamp(1, 32768).next_power_of_two();
        let ring = io_uring::IoUring::new((fds.len() as u32 * 2).next_power_of_two().max(8))?;
        let mut probe = io_uring::Probe::new();
        ring.submitter().register_probe(&mut probe)?;
        if !probe.is_supported(io_uring::opcode::RecvMulti::CODE) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "IORING_OP_RECV not supported",
            ));
        }
        if !probe.is_supported(io_uring::opcode::RecvMsgMulti::CODE) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "IORING_OP_RECVMSG not supported",
            ));
        }
        let layout = std::alloc::Layout::from_size_align(
            entries * std::mem::size_of::<io_uring::types::BufRingEntry>(),
            4096,
        )
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
        // SAFETY: the layout has a non-zero size.
        let ptr =
            unsafe { std::alloc::alloc_zeroed(layout) }.cast::<io_uring::types::BufRingEntry>();
        if ptr.is_null() {
            return Err(io::Error::new(
                io::ErrorKind::OutOfMemory,
                "buffer ring allocation",
            ));
        }
        let mem = RingMem { ptr, layout };
        let msghdrs = fds
            .iter()
            .map(|_| {
                // SAFETY: an all-zero msghdr is a valid value (null pointers, zero lengths).
                let mut h: libc::msghdr = unsafe { std::mem::zeroed() };
                h.msg_namelen = NAME_LEN as _;
                h
            })
            .collect();
        let buf_len = slot + RECVMSG_HEAD;
        let mut r = UringReceiver {
            ring,
            fds: fds.to_vec(),
            msghdrs,
            mem,
            entries: entries as u16,
            tail: 0,
            slot,
            buf_len,
            bufs: vec![0u8; entries * buf_len],
            stats: RecvStats::default(),
            multishot_seen: false,
        };
        // SAFETY: mem.ptr is page aligned, zeroed and holds `entries` entries; it stays
        // allocated until after unregistration (Drop).
        unsafe {
            r.ring.submitter().register_buf_ring_with_flags(
                r.mem.ptr as u64,
                r.entries,
                BGID,
                0,
            )?;
        }
        for bid in 0..r.entries {
            r.push_buffer(bid);
        }
        r.publish_tail();
        for k in 0..r.fds.len() {
            r.arm(k)?;
        }
        r.ring.submit()?;
        Ok(r)
    }

    /// Writes buffer `bid` into the ring at the local tail (not yet visible to the kernel).
    #[inline]
    fn push_buffer(&mut self, bid: u16) {
        let idx = usize::from(self.tail & (self.entries - 1));
        // SAFETY: idx < entries; the kernel only reads entries below the published tail, and
        // this one is at or past it.
        let e = unsafe { &mut *self.mem.ptr.add(idx) };
        // SAFETY: bid < entries, so the offset is within `bufs`.
        let addr = unsafe { self.bufs.as_mut_ptr().add(usize::from(bid) * self.buf_len) };
        e.set_addr(addr as u64);
        e.set_len(self.buf_len as u32);
        e.set_bid(bid);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Makes the pushed buffers visible to the kernel (release store of the ring tail).
    #[inline]
    fn publish_tail(&self) {
        // SAFETY: the tail field lives in the first entry of the ring memory, is 2-byte
        // aligned, and the kernel reads it atomically; we are its only writer.
        let tail =
            unsafe { &*io_uring::types::BufRingEntry::tail(self.mem.ptr).cast::<AtomicU16>() };
        tail.store(self.tail, Ordering::Release);
    }

    /// Arms socket `k`'s multishot receive; its completions carry `k` as user data.
    fn arm(&mut self, k: usize) -> io::Result<()> {
        let s = self.fds[k];
        let fd = io_uring::types::Fd(s.fd);
        let sqe = if s.accept == Accept::Any {
            io_uring::opcode::RecvMulti::new(fd, BGID).build()
        } else {
            io_uring::opcode::RecvMsgMulti::new(fd, &self.msghdrs[k], BGID).build()
        }
        .user_data(k as u64);
        // SAFETY: the fd, the buffer group and the msghdr outlive the operation (all owned by
        // self or its caller for self's lifetime, and the ring is dropped first; the msghdrs
        // are a boxed slice, never moved or resized).
        unsafe { self.ring.submission().push(&sqe) }
            .map_err(|_| io::Error::other("io_uring submission queue full"))?;
        Ok(())
    }

    fn recv<F: FnMut(u16, u64, &[u8])>(
        &mut self,
        timeout: Duration,
        f: &mut F,
    ) -> io::Result<usize> {
        let ts = io_uring::types::Timespec::from(timeout);
        let args = io_uring::types::SubmitArgs::new().timespec(&ts);
        match self.ring.submitter().submit_with_args(1, &args) {
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(libc::ETIME) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINTR) => {}
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => return Err(e),
        }
        let mut total = 0;
        let mut rearm = [false; 8];
        let mut returned = false;
        loop {
            let Some(cqe) = self.ring.completion().next() else {
                break;
            };
            let k = cqe.user_data() as usize;
            let Some(&LineSocket { line, accept, .. }) = self.fds.get(k) else {
                continue;
            };
            let flags = cqe.flags();
            let res = cqe.result();
            let more = io_uring::cqueue::more(flags);
            if !more {
                rearm[k.min(7)] = true;
            } else {
                self.multishot_seen = true;
            }
            if res < 0 {
                if res != -libc::ENOBUFS {
                    self.stats.errors += 1;
                }
                continue;
            }
            let Some(bid) = io_uring::cqueue::buffer_select(flags) else {
                continue;
            };
            let ts = realtime_ns();
            let off = usize::from(bid) * self.buf_len;
            let buf = &self.bufs[off..off + self.buf_len];
            let n = (res as usize).min(self.buf_len);
            let payload = if accept == Accept::Any {
                // A multishot recv reports no MSG_TRUNC: a datagram longer than the slot
                // filled the buffer past it (the arbiter then also counts its cut block as
                // malformed).
                Some(&buf[..n])
            } else {
                match io_uring::types::RecvMsgOut::parse(buf, &self.msghdrs[k]) {
                    Ok(m) if accept.admits(sockaddr_v4(m.name_data())) => {
                        if m.is_payload_truncated() {
                            self.stats.truncated += 1;
                        }
                        // The payload follows the head (no control data was asked for); the
                        // parsed view borrows `m`, so slice the buffer itself.
                        let len = m.payload_data().len();
                        Some(&buf[RECVMSG_HEAD..RECVMSG_HEAD + len])
                    }
                    _ => {
                        self.stats.rejected += 1;
                        None
                    }
                }
            };
            if let Some(p) = payload {
                if p.len() > self.slot {
                    self.stats.truncated += 1;
                }
                f(line, ts, &p[..p.len().min(self.slot)]);
                total += 1;
            }
            self.push_buffer(bid);
            returned = true;
        }
        if returned {
            self.publish_tail();
        }
        for (k, r) in rearm.iter().enumerate().take(self.fds.len()) {
            if *r {
                self.stats.rearms += 1;
                self.arm(k)?;
            }
        }
        Ok(total)
    }
}

impl Drop for UringReceiver {
    fn drop(&mut self) {
        // Stop the kernel using the buffer ring before its memory goes (RingMem drops after).
        let _ = self.ring.submitter().unregister_buf_ring(BGID);
    }
}

/// Whether io_uring multishot receive works here: a real multishot recv on one loopback socket
/// and a multishot recvmsg that checks the sender on another must each complete with their
/// datagram and IORING_CQE_F_MORE. `Err` says why not.
pub fn probe_io_uring() -> Result<(), String> {
    let run = || -> io::Result<bool> {
        let any = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let checked = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let tx = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let SocketAddr::V4(from) = tx.local_addr()? else {
            return Ok(false);
        };
        let mut r = UringReceiver::new(
            &[
                LineSocket {
                    line: 0,
                    fd: any.as_raw_fd(),
                    accept: Accept::Any,
                },
                LineSocket {
                    line: 1,
                    fd: checked.as_raw_fd(),
                    accept: Accept::From(from),
                },
            ],
            4,
            256,
        )?;
        tx.send_to(b"ticklane-probe", any.local_addr()?)?;
        tx.send_to(b"ticklane-probe", checked.local_addr()?)?;
        let mut got = [false; 2];
        for _ in 0..50 {
            r.recv(Duration::from_millis(10), &mut |line, _, b: &[u8]| {
                got[usize::from(line).min(1)] |= b == b"ticklane-probe"
            })?;
            if got == [true; 2] {
                break;
            }
        }
        Ok(got == [true; 2] && r.multishot_seen && r.stats.rejected == 0)
    };
    match run() {
        Ok(true) => Ok(()),
        Ok(false) => Err("a multishot receive did not complete as multishot".into()),
        Err(e) => Err(format!("io_uring multishot receive unavailable: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A socket that checks its sender takes the server's datagram and drops a forger's (sent
    /// from another port of the same host), counting it; a socket that accepts anyone takes
    /// both; one that accepts nobody drops everything.
    fn only_the_server_is_accepted(backend: &str) {
        let lo = Ipv4Addr::LOCALHOST;
        let server = UdpSocket::bind((lo, 0)).unwrap();
        let forger = UdpSocket::bind((lo, 0)).unwrap();
        let SocketAddr::V4(server_addr) = server.local_addr().unwrap() else {
            unreachable!("bound on 127.0.0.1")
        };
        // Sockets as the daemon's request socket is opened: an ephemeral port, non-blocking.
        let socket = || {
            let s = UdpSocket::bind((lo, 0)).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        };
        let (req, open, closed) = (socket(), socket(), socket());
        let fds = [
            LineSocket {
                line: 2,
                fd: req.as_raw_fd(),
                accept: Accept::From(server_addr),
            },
            LineSocket {
                line: 0,
                fd: open.as_raw_fd(),
                accept: Accept::Any,
            },
            LineSocket {
                line: 5,
                fd: closed.as_raw_fd(),
                accept: Accept::Nobody,
            },
        ];
        let mut r = if backend == "io_uring" {
            Receiver::Uring(UringReceiver::new(&fds, 8, 512).unwrap())
        } else {
            Receiver::Mmsg(MmsgReceiver::new(&fds, 8, 512).unwrap())
        };
        let to = |s: &UdpSocket| s.local_addr().unwrap();
        forger.send_to(b"forged", to(&req)).unwrap();
        server.send_to(b"genuine", to(&req)).unwrap();
        forger.send_to(b"anyone", to(&open)).unwrap();
        server.send_to(b"server", to(&open)).unwrap();
        server.send_to(b"unasked", to(&closed)).unwrap();
        let mut got = Vec::new();
        for _ in 0..100 {
            r.recv(Duration::from_millis(10), &mut |line, _, b: &[u8]| {
                got.push((line, b.to_vec()))
            })
            .unwrap();
            if got.len() == 3 && r.stats().rejected == 2 {
                break;
            }
        }
        got.sort();
        assert_eq!(
            got,
            vec![
                (0, b"anyone".to_vec()),
                (0, b"server".to_vec()),
                (2, b"genuine".to_vec())
            ],
            "{backend}"
        );
        assert_eq!(r.stats().rejected, 2, "{backend}");
    }

    #[test]
    fn recvmmsg_takes_retransmissions_only_from_the_request_server() {
        only_the_server_is_accepted("recvmmsg");
    }

    #[test]
    fn io_uring_takes_retransmissions_only_from_the_request_server() {
        if let Err(why) = probe_io_uring() {
            eprintln!("skipping io_uring: {why}");
            return;
        }
        only_the_server_is_accepted("io_uring");
    }

    #[test]
    fn the_configured_backend_is_opened_and_auto_says_why_it_fell_back() {
        let s = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        s.set_nonblocking(true).unwrap();
        let fds = [LineSocket {
            line: 0,
            fd: s.as_raw_fd(),
            accept: Accept::Any,
        }];
        let (r, note) = Receiver::open(RecvBackend::Recvmmsg, &fds, 4, 256).unwrap();
        assert_eq!((r.name(), note.as_str()), ("recvmmsg", ""));
        let (r, note) = Receiver::open(RecvBackend::Auto, &fds, 4, 256).unwrap();
        match probe_io_uring() {
            Ok(()) => assert!(matches!(r, Receiver::Uring(_)) && note.is_empty(), "{note}"),
            Err(why) => {
                assert!(matches!(r, Receiver::Mmsg(_)));
                assert_eq!(note, format!(" (auto: {why})"));
                let e = Receiver::open(RecvBackend::IoUring, &fds, 4, 256)
                    .err()
                    .unwrap();
                assert_eq!(e.to_string(), format!("recv = \"io_uring\": {why}"));
            }
        }
    }

    #[test]
    fn a_sockaddr_in_is_read_from_its_bytes() {
        let mut b = [0u8; NAME_LEN];
        b[..2].copy_from_slice(&(libc::AF_INET as u16).to_ne_bytes());
        b[2..4].copy_from_slice(&31009u16.to_be_bytes());
        b[4..8].copy_from_slice(&[127, 0, 0, 1]);
        assert_eq!(sockaddr_v4(&b), Some("127.0.0.1:31009".parse().unwrap()));
        assert_eq!(sockaddr_v4(&b[..6]), None, "cut short");
        b[..2].copy_from_slice(&(libc::AF_INET6 as u16).to_ne_bytes());
        assert_eq!(sockaddr_v4(&b), None, "not IPv4");
    }
}
