//! The ITCH daemon's sockets: line A and line B joined to their multicast groups and the
//! request socket bound on the same interface, each with the senders it accepts. The receive
//! backend over them (`recv`) is the library's (`ticklane_replay::live::recv::Receiver::open`).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

use anyhow::Context;
use socket2::{Domain, Protocol, Socket, Type};
use ticklane_feeds::arbiter::{LINE_A, LINE_B, LINE_RETRANS};
use ticklane_replay::live::config::ItchSource;
use ticklane_replay::live::itch::ItchSockets;
use ticklane_replay::live::recv::{Accept, LineSocket, Receiver};

use crate::Failure;

/// Opens `src`'s sockets and sets up its receive backend.
pub(crate) fn open(src: &ItchSource) -> Result<ItchSockets, Failure> {
    let line_a = multicast_socket(src.group, src.interface, src.recv_buffer)
        .with_context(|| format!("joining line A {} on {}", src.group, src.interface))?;
    let line_b = match src.line_b {
        Some(b) => Some(
            multicast_socket(b, src.interface, src.recv_buffer)
                .with_context(|| format!("joining line B {b} on {}", src.interface))?,
        ),
        None => None,
    };
    let req = request_socket(src.interface, src.recv_buffer)
        .with_context(|| format!("opening the request socket on {}", src.interface))?;
    // Retransmissions are taken only from the request server's address and port; without
    // one, nothing is expected on the request socket.
    let accept_req = match src.request_server {
        Some(SocketAddr::V4(a)) => Accept::From(a),
        Some(SocketAddr::V6(a)) => {
            return Err(Failure {
                code: 2,
                err: anyhow::anyhow!(
                    "request_server = \"{a}\": the request socket is IPv4; give an IPv4 address"
                ),
            })
        }
        None => Accept::Nobody,
    };
    let line = |line, s: &UdpSocket, accept| LineSocket {
        line,
        fd: s.as_raw_fd(),
        accept,
    };
    let mut fds = vec![line(LINE_A, &line_a, Accept::Any)];
    if let Some(b) = &line_b {
        fds.push(line(LINE_B, b, Accept::Any));
    }
    fds.push(line(LINE_RETRANS, &req, accept_req));

    let (receiver, backend_note) = Receiver::open(src.recv, &fds, src.batch, src.max_datagram)?;
    Ok(ItchSockets {
        receiver,
        backend_note,
        req,
        lines: std::iter::once(line_a).chain(line_b).collect(),
    })
}

/// A socket joined to a multicast group on `interface`, bound to the group's port (shared with
/// other receivers through SO_REUSEADDR/SO_REUSEPORT), non-blocking.
pub(crate) fn multicast_socket(
    group: SocketAddrV4,
    interface: Ipv4Addr,
    recv_buffer: usize,
) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_reuse_address(true)?;
    s.set_reuse_port(true)?;
    s.set_recv_buffer_size(recv_buffer)?;
    // Bound to the group address, the socket only gets that group's datagrams for the port.
    s.bind(&SocketAddr::V4(group).into())?;
    s.join_multicast_v4(group.ip(), &interface)?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

/// The socket requests are sent from and retransmissions arrive on, bound to an ephemeral port
/// on `interface` (the interface the lines are joined on).
pub(crate) fn request_socket(interface: Ipv4Addr, recv_buffer: usize) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    s.set_recv_buffer_size(recv_buffer)?;
    s.bind(&SocketAddr::from((interface, 0)).into())?;
    s.set_nonblocking(true)?;
    Ok(s.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_socket_is_bound_on_the_interface() {
        let lo = Ipv4Addr::LOCALHOST;
        let s = request_socket(lo, 1 << 20).unwrap();
        let a = s.local_addr().unwrap();
        assert_eq!(a.ip(), lo, "bound to the interface");
        assert_ne!(a.port(), 0, "an ephemeral port");
    }
}
