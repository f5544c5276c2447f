//! UDP zockets (`zfur_*` receive, `zfut_*` transmit) over non-blocking kernel UDP sockets.
//!
//! Kernel sockets are per local address and port ("ports"), shared by the stack's receive
//! bindings and transmit zockets on that address, so a zfur and a zfut can use the same local
//! port (as the ping-pong samples do). Receive filtering by remote address is done in software.

use std::collections::VecDeque;
use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint, c_void};

use super::ring::{self, Frame};
use super::stack::{Kind, Stack, TAG_UDP, UDP_BUF, Waitable, waitable_handle};
use super::tcp::drain_reports;
use super::util::{self, SockIn};

/// IPv4 + UDP header bytes kept in front of each datagram's payload.
const HDR: usize = 28;
/// Datagrams a zfur may queue; more are dropped (like a full receive ring).
const RXQ_MAX: usize = 512;
/// Largest UDP payload.
const MAX_DGRAM: usize = 65507;
const MAX_REPORTS: usize = 1024;

/// The senders a receive binding accepts (addresses in host order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remote {
    /// Any sender.
    Any,
    /// Any port of one host.
    Host(u32),
    /// One host and port.
    Exact(u32, u16),
}

impl Remote {
    /// The filter for a remote address as the API gives it: port 0 stands for any port.
    fn of(ip: u32, port: u16) -> Remote {
        if port == 0 {
            Remote::Host(ip)
        } else {
            Remote::Exact(ip, port)
        }
    }

    /// The sending host, when the filter names one.
    fn host(self) -> Option<u32> {
        match self {
            Remote::Any => None,
            Remote::Host(ip) | Remote::Exact(ip, _) => Some(ip),
        }
    }

    /// The one host and port the filter accepts, when it accepts only one.
    fn exact(self) -> Option<(u32, u16)> {
        match self {
            Remote::Exact(ip, port) => Some((ip, port)),
            Remote::Any | Remote::Host(_) => None,
        }
    }
}

/// One receive binding of a zfur on a port, with the senders it accepts.
#[derive(Debug, Clone, Copy)]
struct Bind {
    ur: *mut UdpRx,
    raddr: Remote,
}

/// A kernel UDP socket bound to one local address and port; the socket closes when it drops.
#[derive(Debug)]
pub(crate) struct UdpPort {
    pub fd: OwnedFd,
    ip: u32,
    port: u16,
    binds: Vec<Bind>,
    /// The remote address of each zfut sending from this port.
    tx_remotes: Vec<(u32, u16)>,
    /// The remote the kernel socket is connected to, if any (see [`refresh_connection`]).
    connected: Option<(u32, u16)>,
    /// The local port was named by the application rather than picked by the kernel.
    explicit_port: bool,
    /// The port has receive bindings: the reactor reads it.
    pub registered: bool,
    /// The socket is in the stack's epoll set (see [`super::stack::arm_epoll`]).
    pub in_epoll: bool,
    /// How many reads in a row found a datagram (a burst is read in batches).
    streak: u8,
    /// The socket gets only empty stubs of the datagrams the stack's ring can carry
    /// ([`ring::stub_small`]); reads discard them.
    pub filtered: bool,
    /// The stack's ring delivers this port's datagrams (see [`refresh_ring`]).
    pub ring_served: bool,
    /// Large datagrams read from a ring-served socket ahead of their doorbell (see
    /// [`on_doorbell`]), in arrival order.
    held: VecDeque<Held>,
    /// Datagrams the ring delivered since the socket was last read: as many stubs may wait
    /// in it (see [`drain_ring_port`]).
    stubs: u32,
    /// Reads in a row that found the socket empty although a stub was announced (see
    /// [`read_stubs`]).
    stub_misses: u8,
    mcast: Vec<(u32, Option<u32>)>,
}

/// A large datagram read from a ring-served socket, waiting for its place in the order of
/// arrival, and the (source address, source port, payload length) its doorbell will name.
#[derive(Debug)]
struct Held {
    d: Dgram,
    key: (u32, u16, usize),
}

/// Ring deliveries to a port after which its socket is read to discard the stubs even though
/// the ring has not gone idle (see [`poll_ring`]; well within the default receive buffer even
/// if the enlargement in [`get_port`] failed).
const STUB_BATCH: u32 = 32;
/// Idle passes in a row that look for an announced stub not yet in its socket before it is
/// given up for lost (see [`read_stubs`]).
const STUB_PATIENCE: u8 = 8;
/// Receive buffer asked for a ring-served socket: room for the stubs of a full ring.
const STUB_RCVBUF: c_int = 4 << 20;

/// A received datagram: headers at 0..28, payload from 28.
#[derive(Debug)]
struct Dgram {
    buf: Box<[u8]>,
    len: usize,
    ts: Option<libc::timespec>,
    /// Header work left until the application asks for the headers (`zfur_pkt_get_header`),
    /// which saves a checksum over the payload of every datagram whose headers nobody
    /// looks at.
    hdr: Lazy,
}

/// What [`Dgram::write_headers`] still has to do.
#[derive(Debug, Clone, Copy)]
enum Lazy {
    /// The headers are in place.
    Done,
    /// Read from a socket: the headers are to be written from these fields.
    Fields(HdrFields),
    /// Through the ring, sent by this host with the UDP checksum left to the device: the
    /// checksum is to be finished, as a datagram on the wire carries it.
    Checksum,
}

/// The header fields of a datagram read from a socket: the sender's TTL and TOS as the kernel
/// reported them, the addresses, and whether it arrived unfragmented.
#[derive(Debug, Clone, Copy)]
struct HdrFields {
    src: (u32, u16),
    dst: (u32, u16),
    ttl: u8,
    tos: u8,
    df: bool,
}

impl Dgram {
    /// Writes the IPv4 and UDP headers (with their checksums) in front of the payload.
    fn write_headers(&mut self) {
        let (buf, len) = (&mut self.buf, self.len);
        let h = match std::mem::replace(&mut self.hdr, Lazy::Done) {
            Lazy::Done => return,
            Lazy::Fields(h) => h,
            Lazy::Checksum => {
                let be32 =
                    |i: usize| u32::from_be_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
                let (src, dst) = (be32(12), be32(16));
                let (hdr, payload) = buf[20..HDR + len].split_at(8);
                let c = util::udp_checksum(src, dst, hdr, payload);
                buf[26..28].copy_from_slice(&c.to_be_bytes());
                return;
            }
        };
        util::write_ip_header(
            &mut buf[..20],
            (HDR + len).min(0xffff) as u16,
            0,
            h.df,
            h.ttl,
            h.tos,
            libc::IPPROTO_UDP as u8,
            h.src.0,
            h.dst.0,
        );
        buf[20..22].copy_from_slice(&h.src.1.to_be_bytes());
        buf[22..24].copy_from_slice(&h.dst.1.to_be_bytes());
        buf[24..26].copy_from_slice(&((8 + len).min(0xffff) as u16).to_be_bytes());
        buf[26..28].copy_from_slice(&[0, 0]);
        let (hdr, payload) = buf[20..HDR + len].split_at(8);
        let c = util::udp_checksum(h.src.0, h.dst.0, hdr, payload);
        buf[26..28].copy_from_slice(&c.to_be_bytes());
    }
}

/// The object behind `struct zfur*`. `stack` outlives it; the ports of `binds` are live while
/// bound.
#[derive(Debug)]
pub(crate) struct UdpRx {
    pub w: Box<Waitable>,
    stack: *mut Stack,
    /// (port, remote filter, local address as bound) per zfur_addr_bind.
    binds: Vec<(*mut UdpPort, Remote, SockIn)>,
    q: VecDeque<Dgram>,
    locked: bool,
}

/// The object behind `struct zfut*`. `stack` outlives it; `port` is live while the zocket is
/// (it is among the port's `tx_remotes`).
#[derive(Debug)]
pub(crate) struct UdpTx {
    pub w: Box<Waitable>,
    stack: *mut Stack,
    port: *mut UdpPort,
    raddr: SockIn,
    ttl: c_int,
    sent: u32,
    reports: VecDeque<crate::zf_pkt_report>,
    dropped: bool,
}

impl UdpRx {
    pub(crate) fn readiness(&self) -> u32 {
        if self.q.is_empty() {
            0
        } else {
            libc::EPOLLIN as u32
        }
    }
}

impl UdpTx {
    pub(crate) fn readiness(&self) -> u32 {
        if self.reports.is_empty() {
            libc::EPOLLOUT as u32
        } else {
            // As in TCPDirect: transmit reports wait to be taken by zfut_get_tx_timestamps.
            (libc::EPOLLOUT | libc::EPOLLERR) as u32
        }
    }
}

fn find_port(st: &Stack, ip: u32, port: u16) -> Option<*mut UdpPort> {
    st.ports.iter().copied().find(|&p| {
        // SAFETY: ports in the list are live.
        let p = unsafe { &*p };
        p.ip == ip && p.port == port
    })
}

/// Finds or creates the kernel socket for a local address (port 0: a new ephemeral port).
fn get_port(st: &mut Stack, la: &SockIn) -> Result<*mut UdpPort, c_int> {
    let (ip, port) = (util::sin_ip(la), util::sin_port(la));
    if port != 0 {
        if let Some(p) = find_port(st, ip, port) {
            return Ok(p);
        }
    }
    let fd = util::socket(libc::SOCK_DGRAM)?;
    // Options the zockets rely on: a refusal is an error, not a silent loss (`fd` closes as it
    // drops on every early return).
    let need = |rc: c_int| if rc < 0 { Err(rc) } else { Ok(()) };
    if util::ip_is_multicast(ip) {
        // Several stacks may receive one group on one port, as with TCPDirect.
        need(util::setsockopt_int(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            1,
        ))?;
    }
    // With a ring, a port on a unicast address of this host leaves the datagrams the ring
    // carries to the ring from the start (until it has receive bindings, nobody would read them
    // anyway). Broadcast and multicast datagrams, which can arrive without a frame addressed to
    // this host (looped back by the kernel), stay with the socket.
    let filtered = match &st.ring {
        Some(r) if util::is_local_unicast(ip) => {
            need(ring::stub_small(&fd, r.small()))?;
            // Stubs take receive-buffer space until read: make room for a ring's worth (as
            // root beyond `rmem_max`; otherwise as much as it allows, which is all this asks).
            if util::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, STUB_RCVBUF) < 0 {
                let _ = util::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, STUB_RCVBUF);
            }
            true
        }
        _ => false,
    };
    need(util::bind(&fd, la))?;
    // The destination address is only unknown for a wildcard bind.
    if ip == 0 {
        need(util::setsockopt_int(
            &fd,
            libc::IPPROTO_IP,
            libc::IP_PKTINFO,
            1,
        ))?;
    }
    // TTL and TOS make the headers `zfur_pkt_get_header` returns for socket-read datagrams.
    need(util::setsockopt_int(
        &fd,
        libc::IPPROTO_IP,
        libc::IP_RECVTTL,
        1,
    ))?;
    need(util::setsockopt_int(
        &fd,
        libc::IPPROTO_IP,
        libc::IP_RECVTOS,
        1,
    ))?;
    // Large datagrams go out as IP fragments, as TCPDirect sends them.
    need(util::setsockopt_int(
        &fd,
        libc::IPPROTO_IP,
        libc::IP_MTU_DISCOVER,
        libc::IP_PMTUDISC_DONT,
    ))?;
    if st.rx_ts {
        need(util::setsockopt_int(
            &fd,
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            1,
        ))?;
    }
    let bound = util::sockname(&fd, false).unwrap_or(*la);
    let p = Box::into_raw(Box::new(UdpPort {
        fd,
        ip,
        port: util::sin_port(&bound),
        binds: Vec::new(),
        tx_remotes: Vec::new(),
        connected: None,
        explicit_port: port != 0,
        registered: false,
        in_epoll: false,
        streak: 0,
        filtered,
        ring_served: false,
        held: VecDeque::new(),
        stubs: 0,
        stub_misses: 0,
        mcast: Vec::new(),
    }));
    st.ports.push(p);
    Ok(p)
}

/// Connects the kernel socket when every zfur binding and every zfut of the port names the same
/// single unicast remote, and disconnects it otherwise. A connected socket receives exactly
/// what the software filter would deliver, and sends without a route lookup per datagram: on
/// `lo` this is the difference between the software backend and a plain connected socket.
///
/// Only ports bound to a port number the application chose take part: dissolving the
/// association of a socket whose port the kernel picked also releases that port.
fn refresh_connection(p: &mut UdpPort) {
    if !p.explicit_port {
        return;
    }
    let mut remotes = p
        .binds
        .iter()
        .map(|b| b.raddr.exact())
        .chain(p.tx_remotes.iter().map(|&r| Some(r)));
    let first = remotes.next().flatten();
    let want = first.filter(|&(ip, port)| {
        ip != 0 && port != 0 && !util::ip_is_multicast(ip) && !util::ip_is_multicast(p.ip)
    });
    let want = want.filter(|&r| remotes.all(|x| x == Some(r)));
    if want == p.connected {
        return;
    }
    let rc = match want {
        Some((ip, port)) => {
            let mut sa = util::sin_any();
            sa.sin_addr.s_addr = ip.to_be();
            sa.sin_port = port.to_be();
            util::connect(&p.fd, &sa)
        }
        None => util::disconnect(&p.fd),
    };
    // On failure the socket stays unconnected and sends name their destination.
    p.connected = if rc == 0 { want } else { None };
}

/// Puts a port's socket in the stack's epoll set.
pub(crate) fn epoll_add(st: &Stack, p: &mut UdpPort) -> c_int {
    let data = p as *mut UdpPort as u64 | TAG_UDP;
    let rc = util::epoll_ctl(
        &st.epfd,
        libc::EPOLL_CTL_ADD,
        &p.fd,
        libc::EPOLLIN as u32,
        data,
    );
    p.in_epoll = rc == 0;
    rc
}

/// Closes a port nobody uses any more.
///
/// # Safety
///
/// `pp` must be a live port of `st` (listed in `st.ports`), with no reference to it in use; it may
/// be freed here.
unsafe fn release_port(st: &mut Stack, pp: *mut UdpPort) {
    // SAFETY: `pp` is a live port of this stack.
    let p = unsafe { &mut *pp };
    if p.binds.is_empty() && p.registered {
        if p.in_epoll {
            util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &p.fd, 0, 0);
        }
        p.registered = false;
        p.in_epoll = false;
    }
    if p.binds.is_empty() && p.tx_remotes.is_empty() {
        st.ports.retain(|&x| x != pp);
        // SAFETY: unlisted; freed exactly once.
        // Dropping the port closes its socket.
        drop(unsafe { Box::from_raw(pp) });
    }
}

/// Datagrams read per `recvmmsg` call.
pub(crate) const BATCH: usize = 8;
/// Datagrams read per `recvmmsg` call when a ring-served socket is drained (a stub batch in
/// one call).
pub(crate) const DRAIN_BATCH: usize = STUB_BATCH as usize;
/// Overflow space per batch slot for datagrams larger than a pool buffer.
pub(crate) const OVERFLOW: usize = 65536;

/// Reads datagrams from a port (in batches, one system call each) and delivers them to the
/// matching zfur queues.
pub(crate) fn on_port_event(st: &mut Stack, p: &mut UdpPort) -> c_int {
    // Most polls find nothing or one datagram: read one. Only a burst (two reads in a row that
    // each found a datagram) is worth a batch: preparing one costs more than a single read,
    // and in request/response traffic it would be spent just when the answer is due.
    if p.streak >= 2 {
        let (n, progress) = recv_batch::<BATCH>(st, p, false);
        if n < BATCH {
            p.streak = 0;
        }
        return progress;
    }
    let (n, progress) = recv_batch::<1>(st, p, false);
    p.streak = if n == 1 { p.streak + 1 } else { 0 };
    progress
}

/// One `recvmmsg` of up to `N` datagrams; returns (datagrams read, datagrams delivered).
/// Stubs (see [`UdpPort::filtered`]) are discarded; with `hold` the other datagrams go to the
/// port's held queue instead of their zfurs.
fn recv_batch<const N: usize>(st: &mut Stack, p: &mut UdpPort, hold: bool) -> (usize, c_int) {
    let mut bufs: [Option<Box<[u8]>>; N] = std::array::from_fn(|_| None);
    // SAFETY: these are plain old data; zero is a valid initial value.
    let mut srcs: [SockIn; N] = unsafe { zeroed() };
    let mut cbufs = [[0u64; 16]; N];
    // SAFETY: as above.
    let mut iovs: [[libc::iovec; 2]; N] = unsafe { zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; N] = unsafe { zeroed() };
    let over = st.scratch.as_mut_ptr();
    for i in 0..N {
        let b = bufs[i].insert(st.udp_buf());
        iovs[i][0] = libc::iovec {
            iov_base: b[HDR..].as_mut_ptr().cast(),
            iov_len: UDP_BUF - HDR,
        };
        // SAFETY: the scratch area holds DRAIN_BATCH * OVERFLOW bytes and N <= DRAIN_BATCH.
        let slot = unsafe { over.add(i * OVERFLOW) };
        iovs[i][1] = libc::iovec {
            iov_base: slot.cast(),
            iov_len: OVERFLOW,
        };
        let mh = &mut hdrs[i].msg_hdr;
        if let Some((ip, port)) = p.connected {
            // A connected socket only receives from its remote: no need to ask for the name.
            srcs[i].sin_family = libc::AF_INET as libc::sa_family_t;
            srcs[i].sin_addr.s_addr = ip.to_be();
            srcs[i].sin_port = port.to_be();
        } else {
            mh.msg_name = (&mut srcs[i] as *mut SockIn).cast();
            mh.msg_namelen = size_of::<SockIn>() as libc::socklen_t;
        }
        mh.msg_iov = iovs[i].as_mut_ptr();
        mh.msg_iovlen = 2;
        mh.msg_control = cbufs[i].as_mut_ptr().cast();
        mh.msg_controllen = size_of::<[u64; 16]>();
    }
    let n = if N == 1 {
        // One datagram: recvmsg costs less than recvmmsg.
        // SAFETY: every pointer in the header refers to a live buffer of the length given.
        let len =
            unsafe { libc::recvmsg(p.fd.as_raw_fd(), &mut hdrs[0].msg_hdr, libc::MSG_DONTWAIT) };
        if len >= 0 {
            hdrs[0].msg_len = len as c_uint;
        }
        isize::from(len >= 0)
    } else {
        // SAFETY: every pointer in `hdrs` refers to a live buffer of the length given.
        (unsafe {
            libc::recvmmsg(
                p.fd.as_raw_fd(),
                hdrs.as_mut_ptr(),
                N as c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        }) as isize
    };
    let n = if n < 0 { 0 } else { n as usize };
    let mut progress = 0;
    for i in 0..N {
        let Some(buf) = bufs[i].take() else { continue };
        if i >= n {
            st.put_buf(buf);
            continue;
        }
        let len = hdrs[i].msg_len as usize;
        if p.filtered && len == 0 {
            // A stub: the ring has (or had) this datagram.
            st.put_buf(buf);
            continue;
        }
        let (d, from) = build(st, p, buf, len, &hdrs[i].msg_hdr, &srcs[i], i);
        if hold {
            p.held.push_back(Held {
                key: (from.0, from.1, d.len),
                d,
            });
        } else {
            progress += enqueue(st, p, from, d);
        }
    }
    (n, progress)
}

/// Gives one datagram read from a socket its IP and UDP headers; returns it and its sender.
fn build(
    st: &mut Stack,
    p: &mut UdpPort,
    mut buf: Box<[u8]>,
    len: usize,
    mh: &libc::msghdr,
    src: &SockIn,
    slot: usize,
) -> (Dgram, (u32, u16)) {
    // Control messages: destination address, TTL, TOS, timestamp.
    let mut dst = p.ip;
    let mut ttl = 64u8;
    let mut tos = 0u8;
    let mut ts = None;
    // SAFETY: walking the control buffer the kernel filled, with the libc macros.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(mh);
        while !c.is_null() {
            let d = libc::CMSG_DATA(c);
            match ((*c).cmsg_level, (*c).cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let pi: libc::in_pktinfo = std::ptr::read_unaligned(d.cast());
                    dst = u32::from_be(pi.ipi_addr.s_addr);
                }
                (libc::IPPROTO_IP, libc::IP_TTL) => {
                    ttl = std::ptr::read_unaligned(d.cast::<c_int>()) as u8
                }
                (libc::IPPROTO_IP, libc::IP_TOS) => tos = *d,
                (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) => {
                    ts = Some(std::ptr::read_unaligned(d.cast::<libc::timespec>()))
                }
                _ => {}
            }
            c = libc::CMSG_NXTHDR(mh, c);
        }
    }
    if len > UDP_BUF - HDR {
        let len = len.min(UDP_BUF - HDR + OVERFLOW);
        let mut big = vec![0u8; HDR + len].into_boxed_slice();
        big[HDR..UDP_BUF].copy_from_slice(&buf[HDR..]);
        let extra = len - (UDP_BUF - HDR);
        big[UDP_BUF..].copy_from_slice(&st.scratch[slot * OVERFLOW..slot * OVERFLOW + extra]);
        st.put_buf(buf);
        buf = big;
    }
    let df = len <= (st.mtu as usize).saturating_sub(HDR);
    let (sip, sport) = (util::sin_ip(src), util::sin_port(src));
    let hdr = HdrFields {
        src: (sip, sport),
        dst: (dst, p.port),
        ttl,
        tos,
        df,
    };
    let d = Dgram {
        buf,
        len,
        ts,
        hdr: Lazy::Fields(hdr),
    };
    (d, (sip, sport))
}

/// Queues a datagram (headers in place) on the zfur whose binding on `p` matches its sender,
/// or recycles it when none does or that zfur's queue is full. Returns 1 when queued.
fn enqueue(st: &mut Stack, p: &UdpPort, (sip, sport): (u32, u16), d: Dgram) -> c_int {
    // Exact remote match first, then wildcard-port, then any sender.
    let target = p
        .binds
        .iter()
        .find(|b| b.raddr == Remote::Exact(sip, sport))
        .or_else(|| p.binds.iter().find(|b| b.raddr == Remote::Host(sip)))
        .or_else(|| p.binds.iter().find(|b| b.raddr == Remote::Any))
        .map(|b| b.ur);
    let Some(ur) = target else {
        st.put_buf(d.buf);
        return 0;
    };
    // SAFETY: bound zfurs are live while bound.
    let ur = unsafe { &mut *ur };
    if ur.q.len() >= RXQ_MAX {
        st.put_buf(d.buf);
        return 0;
    }
    ur.q.push_back(d);
    ur.w.pending |= libc::EPOLLIN as u32;
    1
}

/// Frames handled per [`poll_ring`] call, so that one call stays short under a flood.
const RING_BUDGET: usize = 64;

/// Handles the frames waiting in the stack's ring: queues whole datagrams on their zfurs and,
/// for doorbells, reads the datagram from its port's socket. Returns the datagrams queued.
pub(crate) fn poll_ring(st: &mut Stack) -> c_int {
    poll_ring_pass(st).0
}

/// Reactor passes of a directly polled stack (see `stack::process`) between looks at the
/// sockets of ring-served ports for datagrams that have no ring frame: datagrams reassembled
/// from fragments, and large ones whose doorbell overtook them. Ports that get small
/// datagrams are read with their stubs anyway (see [`read_stubs`]); this bounds the wait on
/// the others. Each look is a system call per port, and one that coincides with a datagram's
/// arrival delays it, so looks are rare and taken in idle passes.
pub(crate) const SWEEP_EVERY: u32 = 1 << 14;

/// [`poll_ring`] for a stack polled directly (its sockets are not in its epoll set, which
/// would report datagrams waiting in them): also looks at the ring-served sockets every
/// [`SWEEP_EVERY`] passes.
pub(crate) fn poll_ring_direct(st: &mut Stack) -> c_int {
    let (mut progress, idle) = poll_ring_pass(st);
    st.sweep_in = st.sweep_in.saturating_sub(1);
    if idle && st.sweep_in == 0 {
        st.sweep_in = SWEEP_EVERY;
        for i in 0..st.ports.len() {
            let pp = st.ports[i];
            // SAFETY: listed ports are live; reading does not change the list.
            if unsafe { (*pp).ring_served } {
                // SAFETY: a listed port, no reference to it in use.
                progress += unsafe { read_stubs(st, pp) };
            }
        }
    }
    progress
}

/// One pass over the ring, and the socket reads it calls for; returns the datagrams queued
/// and whether the pass was idle (no frame, no socket read).
fn poll_ring_pass(st: &mut Stack) -> (c_int, bool) {
    let pass = ring_pass(st);
    let mut progress = pass.queued;
    if pass.lost {
        // Doorbells may have been among the frames the kernel could not place.
        progress += sweep_ring_ports(st);
    } else if st.ring_drain {
        // Ports with fewer stubs are left to the next idle pass.
        st.ring_drain = false;
        progress += drain_stubs(st, stub_limit(st));
    } else if pass.frames == 0 && st.stubs_waiting {
        // An idle pass: the application has had what the ring delivered, and nothing new has
        // come. Reading the stubs now keeps that read out of the way of the next delivery
        // (in request/response traffic the answer cannot come before the request it answers
        // has gone out), where a batch read once every so many datagrams would delay that
        // datagram by the whole batch.
        st.stubs_waiting = false;
        progress += drain_stubs(st, 1);
    } else {
        return (progress, pass.frames == 0);
    }
    (progress, false)
}

/// Stubs a ring-served socket may hold before it is read. Once the stack's sockets are in its
/// epoll set, none: a stub of a datagram already delivered would make the set (and so
/// `zf_waitable_fd_get`'s fd and `zf_stack_has_pending_events`) report work that is not
/// there.
fn stub_limit(st: &Stack) -> u32 {
    if st.armed() { 1 } else { STUB_BATCH }
}

/// Reads the stubs of the ring-served ports with at least `limit` of them waiting (see
/// [`read_stubs`]); returns the datagrams queued.
pub(crate) fn drain_stubs(st: &mut Stack, limit: u32) -> c_int {
    let mut progress = 0;
    for i in 0..st.ports.len() {
        let pp = st.ports[i];
        // SAFETY: listed ports are live; draining does not change the list.
        if unsafe { (*pp).ring_served && (*pp).stubs >= limit } {
            // SAFETY: a listed port, no reference to it in use.
            progress += unsafe { read_stubs(st, pp) };
        }
    }
    progress
}

/// What one [`ring_pass`] did.
#[derive(Debug, Clone, Copy)]
struct RingPass {
    /// Datagrams queued on zfurs.
    queued: c_int,
    /// The kernel reported frames it could not place in the ring.
    lost: bool,
    /// The pass stopped at an empty slot (rather than at its budget).
    empty: bool,
    /// Frames the pass handled.
    frames: usize,
}

/// Up to [`RING_BUDGET`] frames of the ring.
fn ring_pass(st: &mut Stack) -> RingPass {
    let Some(mut r) = st.ring.take() else {
        return RingPass {
            queued: 0,
            lost: false,
            empty: true,
            frames: 0,
        };
    };
    let mut progress = 0;
    let mut lost = false;
    let mut empty = false;
    let mut frames = 0;
    while frames < RING_BUDGET {
        let Some(f) = r.peek() else {
            empty = true;
            break;
        };
        lost |= f.losing;
        progress += on_frame(st, &f);
        r.release();
        frames += 1;
    }
    st.ring = Some(r);
    RingPass {
        queued: progress,
        lost,
        empty,
        frames,
    }
}

/// Reads every ring-served port's socket (large datagrams whose doorbell was lost, datagrams
/// reassembled from fragments, which have none, and stubs).
pub(crate) fn sweep_ring_ports(st: &mut Stack) -> c_int {
    let mut progress = 0;
    for i in 0..st.ports.len() {
        let pp = st.ports[i];
        // SAFETY: listed ports are live; draining does not change the list.
        if unsafe { (*pp).ring_served } {
            // SAFETY: a listed port, no reference to it in use.
            progress += unsafe { drain_ring_port(st, pp) };
        }
    }
    progress
}

/// Most `recvmmsg` calls of one [`drain_ring_port`], and ring passes after them.
const DRAIN_ROUNDS: usize = 64;

/// Reads everything a ring-served port's socket holds: stubs are discarded, large datagrams
/// held. Then the ring is processed up to where it was when the socket was read (every frame
/// reaches the ring before its datagram reaches the socket), so that each held datagram goes
/// out at its doorbell, in order; what is still held after that has no doorbell to come (a
/// datagram reassembled from fragments, or one whose doorbell arrived before the datagram
/// did) and goes out now. Returns the datagrams queued.
///
/// # Safety
///
/// `pp` must be a live port of `st` (listed in `st.ports`), with no reference to it in use.
pub(crate) unsafe fn drain_ring_port(st: &mut Stack, pp: *mut UdpPort) -> c_int {
    for _ in 0..DRAIN_ROUNDS {
        // SAFETY: `pp` is a live port of this stack; no other reference to it is in use.
        let (n, _) = recv_batch::<DRAIN_BATCH>(st, unsafe { &mut *pp }, true);
        if n < DRAIN_BATCH {
            break;
        }
    }
    // SAFETY: as above.
    unsafe {
        (*pp).stubs = 0;
        (*pp).stub_misses = 0;
    }
    // SAFETY: as above.
    unsafe { settle_held(st, pp) }
}

/// Reads the stubs a ring-served port's socket holds, and anything else it holds, as
/// [`drain_ring_port`] does, but starting with a single read when at most one stub is counted
/// (the usual case with stubs read as they come, see [`poll_ring`], and when a port is looked
/// at in case a datagram without a ring frame waits, see [`poll_ring_direct`]): one read costs
/// less than a batch. Only if that read finds more than was announced (a large datagram, or
/// an uncounted stub) is the rest of the socket read at once; if it finds nothing, the stub
/// is looked for again in the next idle passes, up to [`STUB_PATIENCE`] times. Returns the
/// datagrams queued.
///
/// # Safety
///
/// `pp` must be a live port of `st` (listed in `st.ports`), with no reference to it in use.
unsafe fn read_stubs(st: &mut Stack, pp: *mut UdpPort) -> c_int {
    // SAFETY: `pp` is a live port of this stack; no other reference to it is in use.
    let p = unsafe { &mut *pp };
    if p.stubs <= 1 {
        let held = p.held.len();
        let (n, _) = recv_batch::<1>(st, p, true);
        if n == 0 && p.stubs == 1 && p.stub_misses < STUB_PATIENCE {
            // The ring has each frame before the IP layer has queued its stub (see `ring.rs`):
            // on another CPU it may still be on its way. Look again in the next idle pass.
            p.stub_misses += 1;
            st.stubs_waiting = true;
            return 0;
        }
        if n == 0 || (p.stubs == 1 && p.held.len() == held) {
            // The socket held nothing (the stub never came: the IP layer dropped the datagram
            // after the ring had it), or the one stub announced.
            p.stubs = 0;
            p.stub_misses = 0;
            // SAFETY: as above.
            return unsafe { settle_held(st, pp) };
        }
    }
    // SAFETY: as above.
    unsafe { drain_ring_port(st, pp) }
}

/// After a read of a ring-served port's socket: processes the ring up to where it was when
/// the socket was read, so that each held datagram goes out at its doorbell, and sends out
/// what is still held (see [`drain_ring_port`]). Returns the datagrams queued.
///
/// # Safety
///
/// `pp` must be a live port of `st` (listed in `st.ports`), with no reference to it in use.
unsafe fn settle_held(st: &mut Stack, pp: *mut UdpPort) -> c_int {
    let mut progress = 0;
    for _ in 0..DRAIN_ROUNDS {
        let pass = ring_pass(st);
        progress += pass.queued;
        // SAFETY: as above.
        if pass.empty || unsafe { (*pp).held.is_empty() } {
            break;
        }
    }
    // SAFETY: as above.
    progress + release_held(st, unsafe { &mut *pp }, usize::MAX)
}

/// Queues the first `n` held datagrams of a port on their zfurs.
fn release_held(st: &mut Stack, p: &mut UdpPort, n: usize) -> c_int {
    let mut progress = 0;
    for _ in 0..n {
        let Some(h) = p.held.pop_front() else { break };
        progress += enqueue(st, p, (h.key.0, h.key.1), h.d);
    }
    progress
}

/// How long a doorbell waits for its datagram to reach the port's socket. The ring gets each
/// frame before the IP layer queues its datagram (see `ring.rs`), and that may be happening on
/// another CPU: a few microseconds. Waiting keeps the large datagram ahead of the ring frames
/// that follow it; only a datagram the IP layer drops after the ring had it (a bad checksum, a
/// full receive buffer) uses the whole wait.
const DOORBELL_PATIENCE: std::time::Duration = std::time::Duration::from_micros(200);

/// A doorbell for a large datagram (`key`: source address, source port, payload length):
/// it goes out now, with any held datagram that arrived before it. If it is not held yet it is
/// read from the socket (stubs discarded; later datagrams read meanwhile are held), waiting up
/// to [`DOORBELL_PATIENCE`] for it to get there.
fn on_doorbell(st: &mut Stack, p: &mut UdpPort, key: (u32, u16, usize)) -> c_int {
    let mut rounds = 0;
    let mut since: Option<std::time::Instant> = None;
    loop {
        if let Some(i) = p.held.iter().position(|h| h.key == key) {
            return release_held(st, p, i + 1);
        }
        let before = p.held.len();
        let (n, _) = recv_batch::<DRAIN_BATCH>(st, p, true);
        if n == DRAIN_BATCH || p.held.len() != before {
            // More to read, or something new held: look again, up to DRAIN_ROUNDS reads.
            rounds += 1;
            if rounds == DRAIN_ROUNDS {
                return 0;
            }
            continue;
        }
        // The socket has nothing more for now.
        if since.get_or_insert_with(std::time::Instant::now).elapsed() >= DOORBELL_PATIENCE {
            // Gone (dropped by the IP layer), or very late: if it comes, it goes out when the
            // socket is next drained.
            return 0;
        }
        std::hint::spin_loop();
    }
}

/// One ring frame: a whole datagram or a doorbell.
fn on_frame(st: &mut Stack, f: &Frame<'_>) -> c_int {
    let ip = f.ip;
    if ip.len() < 28 || ip[0] >> 4 != 4 {
        return 0;
    }
    let ihl = usize::from(ip[0] & 0xf) * 4;
    if ihl < 20 || ip.len() < ihl + 8 {
        return 0;
    }
    let at = |i: usize| u16::from_be_bytes([ip[i], ip[i + 1]]);
    let be32 = |i: usize| u32::from_be_bytes([ip[i], ip[i + 1], ip[i + 2], ip[i + 3]]);
    let (sip, dip) = (be32(12), be32(16));
    let (sport, dport, ulen) = (at(ihl), at(ihl + 2), usize::from(at(ihl + 4)));
    let Some(pp) = find_port(st, dip, dport) else {
        return 0;
    };
    // SAFETY: listed ports are live.
    let p = unsafe { &mut *pp };
    if !p.ring_served {
        return 0;
    }
    if f.doorbell {
        if ulen < 8 {
            return 0;
        }
        return on_doorbell(st, p, (sip, sport, ulen - 8));
    }
    if ulen < 8 || ihl + ulen > ip.len() || usize::from(at(2)) < ihl + ulen {
        return 0;
    }
    if !f.csum_ok && !ring::checksums_ok(&ip[..ihl + ulen]) {
        // The kernel would have dropped it.
        return 0;
    }
    let len = ulen - 8;
    let mut buf = st.udp_buf();
    // The IP header as it arrived, with any options left out (the zfur's headers are 20 + 8
    // bytes, as on the wire without options).
    buf[..20].copy_from_slice(&ip[..20]);
    if ihl > 20 {
        buf[0] = 0x45;
        buf[2..4].copy_from_slice(&((HDR + len) as u16).to_be_bytes());
        buf[10..12].copy_from_slice(&[0, 0]);
        let c = util::ip_checksum(&buf[..20]);
        buf[10..12].copy_from_slice(&c.to_be_bytes());
    }
    buf[20..HDR].copy_from_slice(&ip[ihl..ihl + 8]);
    buf[HDR..HDR + len].copy_from_slice(&ip[ihl + 8..ihl + ulen]);
    // Sent by this host with the checksum left to the device: finished when asked for.
    let lazy = if f.csum_partial && buf[26..28] != [0, 0] {
        Lazy::Checksum
    } else {
        Lazy::Done
    };
    let ts = st.rx_ts.then_some(f.ts);
    // Its stub waits in the socket.
    p.stubs += 1;
    st.stubs_waiting = true;
    if p.stubs >= stub_limit(st) {
        st.ring_drain = true;
    }
    let d = Dgram {
        buf,
        len,
        ts,
        hdr: lazy,
    };
    enqueue(st, p, (sip, sport), d)
}

/// Sets which ports the stack's ring serves: the unicast ports with receive bindings whose
/// sockets leave small datagrams to the ring, up to [`ring::MAX_PORTS`]. A port beyond that
/// stops filtering and is read through its socket. If the ring cannot take the new list, the
/// stack gives up its ring and every port goes back to its socket.
pub(crate) fn refresh_ring(st: &mut Stack) {
    if st.ring.is_none() {
        return;
    }
    let mut list = Vec::new();
    for i in 0..st.ports.len() {
        let pp = st.ports[i];
        // SAFETY: listed ports are live.
        let p = unsafe { &mut *pp };
        p.ring_served = false;
        if p.binds.is_empty() || !p.filtered {
            continue;
        }
        if list.len() < ring::MAX_PORTS {
            list.push((p.ip, p.port));
            p.ring_served = true;
        } else {
            // SAFETY: a listed port, no reference to it in use.
            unsafe { settle_stubs(st, pp) };
            // SAFETY: as above.
            let p = unsafe { &mut *pp };
            if ring::unfilter(&p.fd) == 0 {
                p.filtered = false;
            }
        }
    }
    if st.ring.as_mut().is_some_and(|r| r.set_ports(&list) < 0) {
        drop_ring(st);
    }
}

/// Before a port's socket stops getting stubs: what is held, and what the socket holds
/// (stubs discarded), goes to the zfurs.
///
/// # Safety
///
/// `pp` must be a live port of `st` (listed in `st.ports`), with no reference to it in use.
unsafe fn settle_stubs(st: &mut Stack, pp: *mut UdpPort) {
    // SAFETY: `pp` is a live port of this stack; no other reference to it is in use.
    let p = unsafe { &mut *pp };
    release_held(st, p, usize::MAX);
    for _ in 0..DRAIN_ROUNDS {
        if recv_batch::<DRAIN_BATCH>(st, p, false).0 < DRAIN_BATCH {
            break;
        }
    }
    p.stubs = 0;
    p.stub_misses = 0;
}

/// Stops using the stack's ring: every socket receives all its datagrams again.
pub(crate) fn drop_ring(st: &mut Stack) {
    for i in 0..st.ports.len() {
        let pp = st.ports[i];
        // SAFETY: listed ports are live.
        if unsafe { (*pp).filtered } {
            // SAFETY: a listed port, no reference to it in use.
            unsafe { settle_stubs(st, pp) };
        }
        // SAFETY: as above.
        let p = unsafe { &mut *pp };
        if p.filtered {
            let _ = ring::unfilter(&p.fd);
        }
        p.filtered = false;
        p.ring_served = false;
    }
    if let Some(r) = st.ring.take() {
        if st.armed() {
            util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &r.fd, 0, 0);
        }
    }
}

/// The zocket behind a `zfur` pointer.
///
/// # Safety
///
/// `p` must be null or a live zfur from `zfur_alloc`, with no other live reference to it for
/// `'a`.
unsafe fn ur_mut<'a>(p: *mut crate::zfur) -> Option<&'a mut UdpRx> {
    // SAFETY: per the caller.
    unsafe { p.cast::<UdpRx>().as_mut() }
}

/// The zocket behind a `zfut` pointer.
///
/// # Safety
///
/// `p` must be null or a live zfut from `zfut_alloc`, with no other live reference to it for
/// `'a`.
unsafe fn ut_mut<'a>(p: *mut crate::zfut) -> Option<&'a mut UdpTx> {
    // SAFETY: per the caller.
    unsafe { p.cast::<UdpTx>().as_mut() }
}

/// Allocates a UDP receive zocket.
///
/// # Safety
///
/// * `us_out` must be null or writable for one `*mut zfur`;
/// * `st` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_alloc(
    us_out: *mut *mut crate::zfur,
    st: *mut crate::zf_stack,
    _attr: *const crate::zf_attr,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(s) = (unsafe { super::stack::stack_mut(st) }) else {
        return -libc::EINVAL;
    };
    if us_out.is_null() {
        return -libc::EFAULT;
    }
    if s.rx_disabled {
        return -libc::EINVAL;
    }
    if s.urs.len() >= s.max_urx {
        return -libc::ENOBUFS;
    }
    let sp: *mut Stack = s;
    let mut u = Box::new(UdpRx {
        w: Waitable::new(sp, Kind::UdpRx),
        stack: sp,
        binds: Vec::new(),
        q: VecDeque::new(),
        locked: false,
    });
    let up: *mut UdpRx = &mut *u;
    u.w.owner = up.cast();
    let up = Box::into_raw(u);
    s.urs.push(up);
    // SAFETY: non-null out pointer.
    unsafe { *us_out = up.cast() };
    0
}

/// Removes one binding of `ur` (index `i`), leaving multicast groups and closing the port when
/// unused.
fn unbind_at(st: &mut Stack, ur: &mut UdpRx, i: usize) {
    let (pp, raddr, la) = ur.binds.remove(i);
    let urp: *mut UdpRx = ur;
    // SAFETY: bound ports are live.
    let p = unsafe { &mut *pp };
    p.binds.retain(|b| !(b.ur == urp && b.raddr == raddr));
    refresh_connection(p);
    let gip = util::sin_ip(&la);
    if util::ip_is_multicast(gip) {
        let src = raddr.host().filter(|&s| s != 0);
        if let Some(k) = p.mcast.iter().position(|&m| m == (gip, src)) {
            p.mcast.remove(k);
            let _ = mcast_membership(st, &p.fd, gip, src, false);
        }
    }
    let served = p.ring_served && p.binds.is_empty();
    // SAFETY: a port of this stack, no reference to it in use.
    unsafe { release_port(st, pp) };
    if served {
        refresh_ring(st);
    }
}

/// Frees a UDP receive zocket.
///
/// # Safety
///
/// `us` must be null or a live UDP receive zocket; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_free(us: *mut crate::zfur) -> c_int {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &mut *ur.stack };
    while !ur.binds.is_empty() {
        unbind_at(st, ur, 0);
    }
    super::muxer::detach(st, &mut ur.w);
    let up = us.cast::<UdpRx>();
    st.urs.retain(|&x| x != up);
    // SAFETY: unlisted; freed exactly once.
    let ur = unsafe { Box::from_raw(up) };
    for d in ur.q {
        st.put_buf(d.buf);
    }
    0
}

fn mcast_membership(st: &Stack, fd: impl AsFd, group: u32, src: Option<u32>, join: bool) -> c_int {
    match src {
        None => {
            let m = libc::ip_mreqn {
                imr_multiaddr: libc::in_addr {
                    s_addr: group.to_be(),
                },
                imr_address: libc::in_addr { s_addr: 0 },
                imr_ifindex: st.ifindex as c_int,
            };
            let op = if join {
                libc::IP_ADD_MEMBERSHIP
            } else {
                libc::IP_DROP_MEMBERSHIP
            };
            util::setsockopt_val(fd, libc::IPPROTO_IP, op, &m)
        }
        Some(s) => {
            let m = libc::ip_mreq_source {
                imr_multiaddr: libc::in_addr {
                    s_addr: group.to_be(),
                },
                imr_interface: libc::in_addr { s_addr: 0 },
                imr_sourceaddr: libc::in_addr { s_addr: s.to_be() },
            };
            let op = if join {
                libc::IP_ADD_SOURCE_MEMBERSHIP
            } else {
                libc::IP_DROP_SOURCE_MEMBERSHIP
            };
            util::setsockopt_val(fd, libc::IPPROTO_IP, op, &m)
        }
    }
}

/// Receives datagrams sent to `laddr` (not INADDR_ANY; port 0 allocates one and writes it
/// back), from `raddr` only when given. A multicast `laddr` joins the group.
///
/// # Safety
///
/// * `us` must be null or a live UDP receive zocket;
/// * `laddr` must be null or readable and writable for `laddrlen` bytes;
/// * `raddr` must be null or readable for `raddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_addr_bind(
    us: *mut crate::zfur,
    laddr: *mut crate::sockaddr,
    laddrlen: crate::socklen_t,
    raddr: *const crate::sockaddr,
    raddrlen: crate::socklen_t,
    flags: c_int,
) -> c_int {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return -libc::EINVAL;
    };
    if flags != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: the application's address buffer.
    let la = match unsafe { util::read_sin(laddr, laddrlen) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    if la.sin_addr.s_addr == 0 {
        return -libc::EINVAL;
    }
    let ra = if raddr.is_null() {
        None
    } else {
        // SAFETY: the application's address buffer.
        match unsafe { util::read_sin(raddr, raddrlen) } {
            Ok(a) => Some(a),
            Err(e) => return e,
        }
    };
    let gip = util::sin_ip(&la);
    let mcast = util::ip_is_multicast(gip);
    let rfilter = match ra {
        None => Remote::Any,
        Some(r) if r.sin_addr.s_addr == 0 && mcast => Remote::Any,
        Some(r) => {
            if r.sin_port == 0 && !mcast {
                return -libc::EINVAL;
            }
            Remote::of(util::sin_ip(&r), util::sin_port(&r))
        }
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &mut *ur.stack };
    let pp = match get_port(st, &la) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // SAFETY: live port.
    let p = unsafe { &mut *pp };
    if p.binds.iter().any(|b| b.raddr == rfilter) {
        // SAFETY: a port of this stack, no reference to it in use.
        unsafe { release_port(st, pp) };
        return -libc::EADDRINUSE;
    }
    if mcast {
        let src = rfilter.host().filter(|&s| s != 0);
        if !p.mcast.contains(&(gip, src)) {
            let rc = mcast_membership(st, &p.fd, gip, src, true);
            if rc < 0 {
                // SAFETY: a port of this stack, no reference to it in use.
                unsafe { release_port(st, pp) };
                return rc;
            }
            p.mcast.push((gip, src));
        }
    }
    if !p.registered {
        if st.armed() {
            let rc = epoll_add(st, p);
            if rc < 0 {
                // SAFETY: a port of this stack, no reference to it in use.
                unsafe { release_port(st, pp) };
                return rc;
            }
        }
        p.registered = true;
    }
    let urp: *mut UdpRx = ur;
    p.binds.push(Bind {
        ur: urp,
        raddr: rfilter,
    });
    refresh_connection(p);
    if p.filtered && !p.ring_served {
        refresh_ring(st);
    }
    let mut bound = la;
    bound.sin_port = p.port.to_be();
    ur.binds.push((pp, rfilter, bound));
    if la.sin_port == 0 {
        // SAFETY: `laddr` is writable for sizeof(sockaddr_in) per the API (checked length).
        unsafe { (*laddr.cast::<SockIn>()).sin_port = p.port.to_be() };
    }
    0
}

/// Removes bindings matching `laddr`/`raddr` (null matches any); `-EINVAL` if none matched.
///
/// # Safety
///
/// * `us` must be null or a live UDP receive zocket;
/// * `laddr` must be null or readable for `laddrlen` bytes;
/// * `raddr` must be null or readable for `raddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_addr_unbind(
    us: *mut crate::zfur,
    laddr: *const crate::sockaddr,
    laddrlen: crate::socklen_t,
    raddr: *const crate::sockaddr,
    raddrlen: crate::socklen_t,
    flags: c_int,
) -> c_int {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return -libc::EINVAL;
    };
    if flags != 0 {
        return -libc::EINVAL;
    }
    let la = if laddr.is_null() {
        None
    } else {
        // SAFETY: the application's address buffer.
        match unsafe { util::read_sin(laddr, laddrlen) } {
            Ok(a) => Some((util::sin_ip(&a), util::sin_port(&a))),
            Err(e) => return e,
        }
    };
    let ra = if raddr.is_null() {
        None
    } else {
        // SAFETY: the application's address buffer.
        match unsafe { util::read_sin(raddr, raddrlen) } {
            Ok(a) => Some((util::sin_ip(&a), util::sin_port(&a))),
            Err(e) => return e,
        }
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &mut *ur.stack };
    let mut removed = false;
    let mut i = 0;
    while i < ur.binds.len() {
        let (_, rf, bl) = ur.binds[i];
        let lok = la.is_none_or(|(ip, port)| {
            ip == util::sin_ip(&bl) && (port == 0 || port == util::sin_port(&bl))
        });
        let rok = ra
            .is_none_or(|(ip, port)| rf == Remote::of(ip, port) || (rf == Remote::Any && ip == 0));
        if lok && rok {
            unbind_at(st, ur, i);
            removed = true;
        } else {
            i += 1;
        }
    }
    if removed { 0 } else { -libc::EINVAL }
}

/// Pointer to the iovec array that follows a message header.
///
/// # Safety
///
/// `msg` must be a valid message pointer; the array is the caller's.
unsafe fn msg_iov(msg: *mut crate::zfur_msg) -> *mut crate::iovec {
    // SAFETY: computing a field address of a valid pointer (per the caller).
    unsafe { std::ptr::addr_of_mut!((*msg).iov).cast::<crate::iovec>() }
}

/// Whether `ur` holds exactly one datagram, not held by a zero-copy receive: the one an
/// overlapped receive can hand out (TCPDirect reports it only without a backlog).
pub(crate) fn overlapped_candidate(ur: &UdpRx) -> bool {
    ur.q.len() == 1 && !ur.locked
}

/// The overlapped steps of `zfur_zc_recv` (as `zft_zc_recv`'s in `tcp.rs`): a wait hands out
/// the first `iov[0].iov_len` bytes of the datagram the muxer reported with
/// `ZF_EPOLLIN_OVERLAPPED`; a completion ends the overlapped receive and returns true, for a
/// plain receive of it. Otherwise (no such datagram, other flags) `iovcnt` is 0.
///
/// # Safety
///
/// `msg` must be a message with room after it for `iovcnt` iovecs.
#[cold]
unsafe fn overlapped_recv(ur: &mut UdpRx, msg: *mut crate::zfur_msg, flags: c_int) -> bool {
    use super::muxer::{OverlappedStep, overlapped_step};
    // SAFETY: valid msg per the caller.
    let holds_it = unsafe { (*msg).iovcnt } >= 1 && overlapped_candidate(ur);
    match overlapped_step(&mut ur.w, flags, holds_it) {
        OverlappedStep::Complete => return true,
        OverlappedStep::Wait => {
            if let Some(d) = ur.q.front_mut() {
                // SAFETY: the caller's message has at least one iovec (checked above); the
                // payload is ours.
                unsafe {
                    let iov = msg_iov(msg);
                    *iov = crate::iovec {
                        iov_base: d.buf.as_mut_ptr().add(HDR).cast::<c_void>(),
                        iov_len: (*iov).iov_len.min(d.len),
                    };
                    (*msg).iovcnt = 1;
                }
                return false;
            }
        }
        OverlappedStep::Nothing => {}
    }
    // SAFETY: valid msg per the caller.
    unsafe { (*msg).iovcnt = 0 };
    false
}

/// Zero-copy receive of one datagram; it stays valid until `zfur_zc_recv_done`.
///
/// # Safety
///
/// * `us` must be null or a live UDP receive zocket;
/// * `msg` must be null or a message with room after it for `iovcnt` iovecs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_zc_recv(
    us: *mut crate::zfur,
    msg: *mut crate::zfur_msg,
    flags: c_int,
) {
    if msg.is_null() {
        return;
    }
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        // SAFETY: valid msg.
        unsafe { (*msg).iovcnt = 0 };
        return;
    };
    // SAFETY: valid msg per the API contract.
    let cap = unsafe { (*msg).iovcnt };
    // SAFETY: as above.
    if flags != 0 && !unsafe { overlapped_recv(ur, msg, flags) } {
        return;
    }
    if cap < 1 || ur.q.is_empty() {
        ur.locked = false;
        // SAFETY: valid msg.
        unsafe {
            (*msg).iovcnt = 0;
            (*msg).dgrams_left = ur.q.len() as c_int;
        }
        return;
    }
    let left = ur.q.len() - 1;
    let Some(d) = ur.q.front_mut() else { return };
    // SAFETY: the caller provides at least one iovec after msg; the payload is in our buffer.
    unsafe {
        *msg_iov(msg) = crate::iovec {
            iov_base: d.buf.as_mut_ptr().add(HDR).cast::<c_void>(),
            iov_len: d.len,
        };
        (*msg).iovcnt = 1;
        (*msg).dgrams_left = left as c_int;
    }
    ur.locked = true;
}

/// Releases the datagram of the last `zfur_zc_recv`.
///
/// # Safety
///
/// `us` must be null or a live UDP receive zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_zc_recv_done(us: *mut crate::zfur, _msg: *mut crate::zfur_msg) {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return;
    };
    if !ur.locked {
        return;
    }
    ur.locked = false;
    if let Some(d) = ur.q.pop_front() {
        // SAFETY: a live zocket's stack is live.
        let st = unsafe { &mut *ur.stack };
        st.put_buf(d.buf);
    }
}

/// The IP and UDP headers of the datagram of the last `zfur_zc_recv` (`pktind` 0).
///
/// # Safety
///
/// * `us` must be null or a live UDP receive zocket;
/// * `msg` must be null or the message the last zero-copy receive on this zocket filled in;
/// * `iphdr` must be null or writable for one `*const iphdr`;
/// * `udphdr` must be null or writable for one `*const udphdr`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_pkt_get_header(
    us: *mut crate::zfur,
    msg: *const crate::zfur_msg,
    iphdr: *mut *const crate::iphdr,
    udphdr: *mut *const crate::udphdr,
    pktind: c_int,
) -> c_int {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return -libc::EINVAL;
    };
    if msg.is_null() || iphdr.is_null() || udphdr.is_null() || pktind != 0 || !ur.locked {
        return -libc::EINVAL;
    }
    let Some(d) = ur.q.front_mut() else {
        return -libc::EINVAL;
    };
    d.write_headers();
    // SAFETY: non-null out pointers; the headers live in the locked buffer.
    unsafe {
        *iphdr = d.buf.as_ptr().cast();
        *udphdr = d.buf.as_ptr().add(20).cast();
    }
    0
}

/// Receive timestamp of the datagram of the last `zfur_zc_recv` (needs `rx_timestamping`).
///
/// # Safety
///
/// * `us` must be null or a live UDP receive zocket;
/// * `msg` must be null or the message the last zero-copy receive on this zocket filled in;
/// * `ts_out` must be null or writable for one `timespec`;
/// * `flags` must be null or writable for one `c_uint`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_pkt_get_timestamp(
    us: *mut crate::zfur,
    msg: *const crate::zfur_msg,
    ts_out: *mut crate::timespec,
    pktind: c_int,
    flags: *mut c_uint,
) -> c_int {
    // SAFETY: null or a live zfur, per this function's contract.
    let Some(ur) = (unsafe { ur_mut(us) }) else {
        return -libc::EINVAL;
    };
    if msg.is_null() || ts_out.is_null() || pktind != 0 || !ur.locked {
        return -libc::EINVAL;
    }
    let Some(d) = ur.q.front() else {
        return -libc::EINVAL;
    };
    let Some(ts) = d.ts else {
        return -libc::ENODATA;
    };
    // SAFETY: non-null out pointers.
    unsafe {
        *ts_out = crate::timespec {
            tv_sec: ts.tv_sec,
            tv_nsec: ts.tv_nsec,
        };
        if !flags.is_null() {
            *flags = crate::ZF_PKT_REPORT_CLOCK_SET | crate::ZF_PKT_REPORT_IN_SYNC;
        }
    }
    0
}

/// The zfur's waitable (EPOLLIN when a datagram is queued).
///
/// # Safety
///
/// `us` must be null or a live UDP receive zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfur_to_waitable(us: *mut crate::zfur) -> *mut crate::zf_waitable {
    // SAFETY: null or a live zfur, per this function's contract.
    waitable_handle(unsafe { ur_mut(us) }.map(|u| &mut *u.w))
}

/// Allocates a UDP transmit zocket from `laddr` (INADDR_ANY: chosen by route; port must then
/// be non-zero) to `raddr`.
///
/// # Safety
///
/// * `us_out` must be null or writable for one `*mut zfut`;
/// * `st` must be null or a live stack;
/// * `laddr` must be null or readable for `laddrlen` bytes;
/// * `raddr` must be null or readable for `raddrlen` bytes;
/// * `attr` must be null or a live attribute object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_alloc(
    us_out: *mut *mut crate::zfut,
    st: *mut crate::zf_stack,
    laddr: *const crate::sockaddr,
    laddrlen: crate::socklen_t,
    raddr: *const crate::sockaddr,
    raddrlen: crate::socklen_t,
    flags: c_int,
    attr: *const crate::zf_attr,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(s) = (unsafe { super::stack::stack_mut(st) }) else {
        return -libc::EINVAL;
    };
    if us_out.is_null() {
        return -libc::EFAULT;
    }
    if flags != 0 || s.tx_disabled {
        return -libc::EINVAL;
    }
    // SAFETY: the application's address buffers.
    let (mut la, ra) = match unsafe {
        (
            util::read_sin(laddr, laddrlen),
            util::read_sin(raddr, raddrlen),
        )
    } {
        (Ok(l), Ok(r)) => (l, r),
        (Err(e), _) | (_, Err(e)) => {
            return if e == -libc::EAFNOSUPPORT {
                -libc::EINVAL
            } else {
                e
            };
        }
    };
    if ra.sin_addr.s_addr == 0 || ra.sin_port == 0 {
        return -libc::EINVAL;
    }
    if s.uts.len() >= s.max_utx {
        return -libc::ENOBUFS;
    }
    if la.sin_addr.s_addr == 0 {
        if la.sin_port == 0 {
            return -libc::EINVAL;
        }
        match util::route_source(&ra) {
            Ok(ip) => la.sin_addr.s_addr = ip.to_be(),
            Err(_) => return -libc::EHOSTUNREACH,
        }
    }
    // SAFETY: null or a live attribute object.
    let zattr = unsafe { super::attr::attr_ref(attr) };
    let ttl = zattr
        .map_or_else(|| s.attr.int("udp_ttl"), |a| a.int("udp_ttl"))
        .clamp(1, 255) as c_int;
    let pp = match get_port(s, &la) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // SAFETY: live port.
    let p = unsafe { &mut *pp };
    p.tx_remotes.push((util::sin_ip(&ra), util::sin_port(&ra)));
    refresh_connection(p);
    if util::ip_is_multicast(util::sin_ip(&ra)) {
        // The zocket's TTL and the stack's interface: a refusal is an error.
        let m = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr { s_addr: 0 },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: s.ifindex as c_int,
        };
        let mut rc = util::setsockopt_int(&p.fd, libc::IPPROTO_IP, libc::IP_MULTICAST_TTL, ttl);
        if rc == 0 {
            rc = util::setsockopt_val(&p.fd, libc::IPPROTO_IP, libc::IP_MULTICAST_IF, &m);
        }
        if rc < 0 {
            p.tx_remotes.pop();
            refresh_connection(p);
            // SAFETY: a port of this stack, no reference to it in use after this.
            unsafe { release_port(s, pp) };
            return rc;
        }
    }
    let sp: *mut Stack = s;
    let mut u = Box::new(UdpTx {
        w: Waitable::new(sp, Kind::UdpTx),
        stack: sp,
        port: pp,
        raddr: ra,
        ttl,
        sent: 0,
        reports: VecDeque::new(),
        dropped: false,
    });
    let up: *mut UdpTx = &mut *u;
    u.w.owner = up.cast();
    let up = Box::into_raw(u);
    s.uts.push(up);
    // SAFETY: non-null out pointer.
    unsafe { *us_out = up.cast() };
    0
}

/// Frees a UDP transmit zocket.
///
/// # Safety
///
/// `us` must be null or a live UDP transmit zocket; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_free(us: *mut crate::zfut) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &mut *ut.stack };
    super::muxer::detach(st, &mut ut.w);
    let pp = ut.port;
    let remote = (util::sin_ip(&ut.raddr), util::sin_port(&ut.raddr));
    let up = us.cast::<UdpTx>();
    st.uts.retain(|&x| x != up);
    // SAFETY: unlisted; freed exactly once.
    drop(unsafe { Box::from_raw(up) });
    // SAFETY: the zocket's port is live.
    let p = unsafe { &mut *pp };
    if let Some(i) = p.tx_remotes.iter().position(|&r| r == remote) {
        p.tx_remotes.swap_remove(i);
    }
    refresh_connection(p);
    // SAFETY: a port of this stack, no reference to it in use.
    unsafe { release_port(st, pp) };
    0
}

/// Largest payload `zfut_send_single` takes (interface MTU minus IP and UDP headers).
///
/// # Safety
///
/// `us` must be null or a live UDP transmit zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_get_mss(us: *mut crate::zfut) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &*ut.stack };
    st.mtu - HDR as c_int
}

fn do_send(ut: &mut UdpTx, iov: &[libc::iovec], total: usize) -> c_int {
    // SAFETY: a live zocket's port is live.
    let fd = unsafe { (*ut.port).fd.as_raw_fd() };
    // SAFETY: msghdr is plain old data.
    let mut mh: libc::msghdr = unsafe { zeroed() };
    let mut dst = ut.raddr;
    // SAFETY: a live zocket's port is live.
    let connected = unsafe { (*ut.port).connected }.is_some();
    if !connected {
        mh.msg_name = (&mut dst as *mut SockIn).cast();
        mh.msg_namelen = size_of::<SockIn>() as libc::socklen_t;
    }
    mh.msg_iov = iov.as_ptr().cast_mut();
    mh.msg_iovlen = iov.len();
    let mut cbuf = [0u64; 4];
    if ut.ttl != 64 && !util::ip_is_multicast(util::sin_ip(&ut.raddr)) {
        mh.msg_control = cbuf.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE is a pure computation.
        mh.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<c_int>() as u32) } as usize;
        // SAFETY: the control buffer is large enough for one int cmsg.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&mh);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_TTL;
            (*c).cmsg_len = libc::CMSG_LEN(size_of::<c_int>() as u32) as usize;
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast::<c_int>(), ut.ttl);
        }
    }
    let flags = libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL;
    // A connected socket with nothing to say in a control message and one buffer takes the
    // plain `send`, which the kernel handles with less work than `sendmsg`.
    let plain = connected && mh.msg_controllen == 0 && iov.len() == 1;
    let send = || {
        if plain {
            // SAFETY: the one iovec describes a buffer valid for its length.
            unsafe { libc::send(fd, iov[0].iov_base, iov[0].iov_len, flags) }
        } else {
            // SAFETY: all pointers in `mh` are valid for the lengths given.
            unsafe { libc::sendmsg(fd, &mh, flags) }
        }
    };
    let mut n = send();
    if n < 0 && connected && util::errno() == libc::ECONNREFUSED {
        // A connected UDP socket reports an earlier ICMP port-unreachable on the next call;
        // TCPDirect has no such error. Reporting it consumed it: send again.
        n = send();
    }
    if n < 0 {
        let e = util::errno();
        return match e {
            libc::EAGAIN => -libc::EAGAIN,
            libc::ENOBUFS | libc::ENOMEM => -libc::ENOBUFS,
            libc::EMSGSIZE => -libc::EMSGSIZE,
            e => -e,
        };
    }
    // SAFETY: a live zocket's stack is live.
    let tx_ts = unsafe { (*ut.stack).tx_ts };
    if tx_ts {
        if ut.reports.len() >= MAX_REPORTS {
            ut.dropped = true;
        } else {
            let ts = util::realtime();
            let mut fl = (crate::ZF_PKT_REPORT_CLOCK_SET | crate::ZF_PKT_REPORT_IN_SYNC) as u16;
            if ut.dropped {
                fl |= crate::ZF_PKT_REPORT_DROPPED as u16;
                ut.dropped = false;
            }
            ut.reports.push_back(crate::zf_pkt_report {
                timestamp: crate::timespec {
                    tv_sec: ts.tv_sec,
                    tv_nsec: ts.tv_nsec,
                },
                start: ut.sent,
                bytes: total.min(0xffff) as u16,
                flags: fl,
            });
        }
    }
    ut.sent = ut.sent.wrapping_add(1);
    total as c_int
}

/// Sends one datagram of at most `zfut_get_mss` bytes.
///
/// # Safety
///
/// * `us` must be null or a live UDP transmit zocket;
/// * `buf` must be null or readable for `buflen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_send_single(
    us: *mut crate::zfut,
    buf: *const c_void,
    buflen: usize,
) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    if buf.is_null() && buflen > 0 {
        return -libc::EINVAL;
    }
    // SAFETY: a live zocket's stack is live.
    let mss = unsafe { (*ut.stack).mtu } as usize - HDR;
    if buflen > mss {
        return -libc::EMSGSIZE;
    }
    let v = [libc::iovec {
        iov_base: buf.cast_mut(),
        iov_len: buflen,
    }];
    do_send(ut, &v, buflen)
}

/// Checks that `zfut_send_single(buflen)` could run now, without sending.
///
/// # Safety
///
/// `us` must be null or a live UDP transmit zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_send_single_warm(
    us: *mut crate::zfut,
    _buf: *const c_void,
    buflen: usize,
) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live zocket's stack is live.
    let mss = unsafe { (*ut.stack).mtu } as usize - HDR;
    if buflen > mss {
        return -libc::EMSGSIZE;
    }
    buflen as c_int
}

/// Sends one datagram gathered from `iov`; with `ZFUT_FLAG_DONT_FRAGMENT` it must fit the MSS,
/// otherwise it may be fragmented (up to 65507 bytes).
///
/// # Safety
///
/// * `us` must be null or a live UDP transmit zocket;
/// * `iov` must be null or an array of `iov_cnt` iovecs, each naming memory readable for its
///   `iov_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_send(
    us: *mut crate::zfut,
    iov: *const crate::iovec,
    iov_cnt: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    if iov_cnt < 0 || (iov.is_null() && iov_cnt > 0) || iov_cnt > 1024 {
        return -libc::EINVAL;
    }
    if flags & !(crate::ZFUT_FLAG_DONT_FRAGMENT as c_int) != 0 {
        return -libc::EINVAL;
    }
    let v: &[libc::iovec] = if iov_cnt == 0 {
        &[]
    } else {
        // SAFETY: `iov_cnt` entries per the API contract; the iovec layouts are identical.
        unsafe { std::slice::from_raw_parts(iov.cast::<libc::iovec>(), iov_cnt as usize) }
    };
    let total: usize = v.iter().map(|x| x.iov_len).sum();
    // SAFETY: a live zocket's stack is live.
    let mss = unsafe { (*ut.stack).mtu } as usize - HDR;
    let limit = if flags & crate::ZFUT_FLAG_DONT_FRAGMENT as c_int != 0 {
        mss
    } else {
        MAX_DGRAM
    };
    if total > limit {
        return -libc::EMSGSIZE;
    }
    do_send(ut, v, total)
}

/// Transmit timestamp reports (needs `tx_timestamping`).
///
/// # Safety
///
/// * `us` must be null or a live UDP transmit zocket;
/// * `count_in_out` must be null or readable and writable, and `reports` writable for that many
///   reports.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_get_tx_timestamps(
    us: *mut crate::zfut,
    reports: *mut crate::zf_pkt_report,
    count_in_out: *mut c_int,
) -> c_int {
    // SAFETY: null or a live zfut, per this function's contract.
    let Some(ut) = (unsafe { ut_mut(us) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: the caller's array of *count_in_out entries.
    unsafe { drain_reports(&mut ut.reports, reports, count_in_out) }
}

/// The zfut's waitable (always ready for EPOLLOUT; for EPOLLERR while reports wait).
///
/// # Safety
///
/// `us` must be null or a live UDP transmit zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zfut_to_waitable(us: *mut crate::zfut) -> *mut crate::zf_waitable {
    // SAFETY: null or a live zfut, per this function's contract.
    waitable_handle(unsafe { ut_mut(us) }.map(|u| &mut *u.w))
}

/// Ethernet + IPv4 + UDP header bytes of each datagram.
#[unsafe(no_mangle)]
pub extern "C" fn zfut_get_header_size(_us: *mut crate::zfut) -> c_uint {
    14 + HDR as c_uint
}
