//! Socket addresses and options the tests hand to C APIs, and ports nothing uses.

use std::net::{Ipv4Addr, SocketAddrV4};

/// A `sockaddr_in` for `a`.
pub fn sin(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data; zeroes are valid.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

/// The address in a `sockaddr_in`.
pub fn from_sin(s: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
        u16::from_be(s.sin_port),
    )
}

/// A UDP port of `ip` nothing is bound to right now.
pub fn free_udp_port(ip: Ipv4Addr) -> u16 {
    let s = std::net::UdpSocket::bind((ip, 0)).expect("bind a UDP socket to find a free port");
    s.local_addr().expect("local address").port()
}

/// Makes a kernel TCP socket's close send a reset (`SO_LINGER` with a zero timeout).
pub fn linger_zero(s: &std::net::TcpStream) {
    let lg = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid socket and an option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&lg as *const libc::linger).cast::<std::os::raw::c_void>(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_LINGER: {}", std::io::Error::last_os_error());
}

/// When a [`pattern_peer`] ends its sending side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerFin {
    /// Right after its data (`shutdown(SHUT_WR)`): the peer closes first.
    AfterSending,
    /// Only once the other end's FIN has arrived (then it closes the socket): the other end
    /// closes first.
    AfterReceiving,
}

/// A kernel TCP peer on a thread: accepts one connection on `listener`, sends `len` bytes of
/// [`pat`](crate::pat)`(seed, i)` while it reads everything the other end sends until end of
/// stream, ends its side as `fin` says, and returns what it read. Reads time out after
/// [`LIMIT`](crate::LIMIT).
pub fn pattern_peer(
    listener: std::net::TcpListener,
    len: usize,
    seed: u8,
    fin: PeerFin,
) -> std::thread::JoinHandle<Vec<u8>> {
    use std::io::{Read as _, Write as _};
    std::thread::spawn(move || {
        let (mut s, _) = listener.accept().expect("accept the connection");
        s.set_read_timeout(Some(crate::LIMIT))
            .expect("read timeout");
        let mut w = s.try_clone().expect("clone the socket");
        let writer = std::thread::spawn(move || {
            let data: Vec<u8> = (0..len).map(|i| crate::pat(seed, i)).collect();
            w.write_all(&data).expect("send the data");
            if fin == PeerFin::AfterSending {
                w.shutdown(std::net::Shutdown::Write).expect("shutdown");
            }
        });
        let mut got = Vec::with_capacity(len);
        s.read_to_end(&mut got)
            .expect("receive until end of stream");
        writer.join().expect("writer thread");
        got
    })
}
