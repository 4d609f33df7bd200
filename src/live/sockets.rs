//! The ITCH daemon's sockets: line A and line B joined to their multicast groups, the request
//! socket bound on the same interface. The receive backends that read them are the library's
//! (`ticklane_replay::live::recv`).

use std::io;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};

use socket2::{Domain, Protocol, Socket, Type};

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
