//! The packet socket through which a VI exchanges frames with its interface, and the
//! interface queries made on sockets.
//!
//! Each VI has an `AF_PACKET` raw socket bound to its interface. Where an adapter hands the
//! VI the frame as it was on the wire, the kernel gives the socket a frame with the VLAN tag
//! taken out and the checksum status on the side (`PACKET_AUXDATA`), and the receive time
//! (`SO_TIMESTAMPNS`); [`PacketSocket::recv`] puts the tag back and returns the rest. Those
//! two options are required: a socket the kernel refuses them on is an error, since without
//! them VLAN tags and checksum status would be silently lost. Bypassing the qdisc and a
//! larger receive buffer are only wanted: refused, they cost speed, not behaviour.

use core::ffi::{CStr, c_char, c_int, c_void};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use super::filter_table::Matcher;
use super::{errno, frame, no_cap_net_raw};

/// Largest frame read from a socket (lo has a 64 KiB MTU).
pub(super) const MAX_FRAME: usize = 65536 + 64;
/// Room a receive buffer leaves in front of the frame, to put back a VLAN tag.
pub(super) const VLAN_HEADROOM: usize = 4;

/// `ETH_P_ALL` in network order: every protocol.
const ALL_PROTOCOLS: u16 = 0x0003u16.to_be();
const PACKET_OUTGOING: u8 = 4;
const PACKET_AUXDATA: c_int = 8;
const PACKET_QDISC_BYPASS: c_int = 20;
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
const TP_STATUS_CSUM_VALID: u32 = 1 << 7;

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct AuxData {
    status: u32,
    len: u32,
    snaplen: u32,
    mac: u16,
    net: u16,
    vlan_tci: u16,
    vlan_tpid: u16,
}

/// A frame [`PacketSocket::recv`] read.
#[derive(Debug, Clone, Copy)]
pub(super) struct Received {
    /// Where the frame starts in the buffer (0 when a VLAN tag was put back, else
    /// [`VLAN_HEADROOM`]).
    pub start: usize,
    /// The frame's length in the buffer.
    pub len: usize,
    /// The frame was longer than [`MAX_FRAME`] and was cut.
    pub truncated: bool,
    /// Sent from this host (a copy `lo` or the kernel loops back to packet sockets).
    pub outgoing: bool,
    /// The kernel left the L4 checksum for "hardware" to fill in (loopback, veth offload).
    pub csum_not_ready: bool,
    /// The kernel (or the device) already verified the L4 checksum.
    pub csum_valid: bool,
    /// When the kernel received the frame.
    pub time: Option<libc::timespec>,
}

/// What became of a frame given to [`PacketSocket::send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Sent {
    /// The kernel took it.
    Done,
    /// The socket has no room now: try again later.
    Full,
    /// The kernel refused it (the errno, positive).
    Refused(c_int),
}

/// A VI's `AF_PACKET` socket on one interface.
#[derive(Debug)]
pub(crate) struct PacketSocket {
    fd: OwnedFd,
    ifindex: c_int,
    /// The protocol it is bound to (network order; 0: none, transmit only).
    proto: AtomicU16,
}

/// Creates a raw packet socket (bound to nothing).
fn raw_socket(who: &str, flags: c_int) -> Result<OwnedFd, c_int> {
    // SAFETY: plain socket creation (protocol 0: nothing is received before bind).
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | flags, 0) };
    if fd < 0 {
        let e = errno();
        return Err(if e == libc::EPERM || e == libc::EACCES {
            no_cap_net_raw(who)
        } else {
            -e
        });
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Sets an integer socket option.
fn set_int(fd: BorrowedFd<'_>, level: c_int, opt: c_int, v: c_int) -> Result<(), c_int> {
    // SAFETY: setting an int option from a valid int on a socket we hold.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            opt,
            (&v as *const c_int).cast(),
            core::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 { Err(-errno()) } else { Ok(()) }
}

/// Binds a packet socket to `proto` (network order) on `ifindex`.
fn bind(fd: BorrowedFd<'_>, ifindex: c_int, proto: u16) -> Result<(), c_int> {
    // SAFETY: sockaddr_ll is plain data; all zeroes is valid.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = ifindex;
    // SAFETY: binding a socket we hold to a valid sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 { Err(-errno()) } else { Ok(()) }
}

impl PacketSocket {
    /// Checks that packet sockets can be opened (`-EPERM`, reported once, without
    /// `CAP_NET_RAW`).
    pub(super) fn probe() -> Result<(), c_int> {
        raw_socket("ef_driver_open", libc::SOCK_CLOEXEC).map(drop)
    }

    /// Opens a VI's socket on `ifindex`: receiving every frame when `rx`, else transmit-only.
    pub(super) fn open(ifindex: c_int, rx: bool) -> Result<PacketSocket, c_int> {
        let fd = raw_socket(
            "ef_vi_alloc_from_pd",
            libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
        )?;
        let b = fd.as_fd();
        // Wanted only: without it frames pass the qdisc, as other packet sockets' do.
        let _ = set_int(b, libc::SOL_PACKET, PACKET_QDISC_BYPASS, 1);
        if rx {
            set_int(b, libc::SOL_PACKET, PACKET_AUXDATA, 1)?;
            set_int(b, libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1)?;
            // Wanted only: a smaller buffer drops more frames between polls.
            if set_int(b, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20).is_err() {
                let _ = set_int(b, libc::SOL_SOCKET, libc::SO_RCVBUF, 8 << 20);
            }
        }
        let proto = if rx { ALL_PROTOCOLS } else { 0 };
        bind(b, ifindex, proto)?;
        Ok(PacketSocket {
            fd,
            ifindex,
            proto: AtomicU16::new(proto),
        })
    }

    /// The descriptor, to wait on.
    pub(super) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Re-binds the socket to `proto` (network order) unless it is bound to it already.
    /// Frames already queued stay. On failure the socket goes back to every protocol rather
    /// than miss frames.
    pub(super) fn narrow_to(&self, proto: u16) {
        if self.proto.swap(proto, Ordering::Relaxed) == proto {
            return;
        }
        if bind(self.fd(), self.ifindex, proto).is_err() {
            let _ = bind(self.fd(), self.ifindex, ALL_PROTOCOLS);
            self.proto.store(ALL_PROTOCOLS, Ordering::Relaxed);
        }
    }

    /// Sends one frame without blocking.
    pub(super) fn send(&self, f: &[u8]) -> Sent {
        // SAFETY: sending from a valid buffer on our socket.
        let rc = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                f.as_ptr().cast(),
                f.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if rc >= 0 {
            return Sent::Done;
        }
        match errno() {
            libc::EAGAIN | libc::ENOBUFS => Sent::Full,
            e => Sent::Refused(e),
        }
    }

    /// Reads one frame without blocking into `buf` (at least `VLAN_HEADROOM + MAX_FRAME + 4`
    /// bytes), putting back the VLAN tag the kernel took out. `None` when no frame is waiting.
    pub(super) fn recv(&self, buf: &mut [u8]) -> Option<Received> {
        assert!(buf.len() >= VLAN_HEADROOM + MAX_FRAME + 4);
        // SAFETY: sockaddr_ll is plain data; all zeroes is valid.
        let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
        let mut cbuf = [0u64; 32];
        let mut iov = libc::iovec {
            iov_base: buf[VLAN_HEADROOM..].as_mut_ptr().cast::<c_void>(),
            iov_len: MAX_FRAME,
        };
        // SAFETY: msghdr is plain data; all zeroes is valid.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = core::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = core::mem::size_of_val(&cbuf);
        // SAFETY: `msg` describes valid buffers: MAX_FRAME bytes of `buf` after the headroom,
        // the control buffer and the address.
        let n = unsafe {
            libc::recvmsg(
                self.fd.as_raw_fd(),
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return None;
        }
        let mut len = n as usize;
        let truncated = len > MAX_FRAME || msg.msg_flags & libc::MSG_TRUNC != 0;
        len = len.min(MAX_FRAME);
        let mut aux = AuxData::default();
        let mut time = None;
        // SAFETY: walking the control messages the kernel wrote into `cbuf`; each data
        // pointer is read unaligned with the type its level and type announce.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                    aux = data.cast::<AuxData>().read_unaligned();
                } else if (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == libc::SCM_TIMESTAMPNS
                {
                    time = Some(data.cast::<libc::timespec>().read_unaligned());
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let mut start = VLAN_HEADROOM;
        if aux.status & TP_STATUS_VLAN_VALID != 0 && len >= 12 {
            let tpid = if aux.status & TP_STATUS_VLAN_TPID_VALID != 0 && aux.vlan_tpid != 0 {
                aux.vlan_tpid
            } else {
                frame::ETH_P_8021Q
            };
            buf.copy_within(VLAN_HEADROOM..VLAN_HEADROOM + 12, 0);
            buf[12..14].copy_from_slice(&tpid.to_be_bytes());
            buf[14..16].copy_from_slice(&aux.vlan_tci.to_be_bytes());
            start = 0;
            len += 4;
        }
        Some(Received {
            start,
            len,
            truncated,
            outgoing: sll.sll_pkttype == PACKET_OUTGOING,
            csum_not_ready: aux.status & TP_STATUS_CSUMNOTREADY != 0,
            csum_valid: aux.status & TP_STATUS_CSUM_VALID != 0,
            time,
        })
    }

    /// Adds or drops one packet membership (`struct packet_mreq`).
    fn membership(&self, req: &PacketMreq, add: bool) -> Result<(), c_int> {
        let opt = if add {
            PACKET_ADD_MEMBERSHIP
        } else {
            PACKET_DROP_MEMBERSHIP
        };
        // SAFETY: `req` is a valid packet_mreq.
        let rc = unsafe {
            libc::setsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                opt,
                (req as *const PacketMreq).cast(),
                core::mem::size_of::<PacketMreq>() as libc::socklen_t,
            )
        };
        if rc < 0 { Err(-errno()) } else { Ok(()) }
    }
}

/// A minimal `struct ifreq`.
#[repr(C)]
struct Ifreq {
    name: [c_char; 16],
    data: [u8; 24],
}

/// Runs an interface ioctl on `fd` (any socket of the right network namespace) and returns
/// the data part of the `ifreq`.
pub(super) fn if_ioctl(
    fd: BorrowedFd<'_>,
    name: &CStr,
    req: libc::c_ulong,
) -> Result<[u8; 24], c_int> {
    let mut r = Ifreq {
        name: [0; 16],
        data: [0; 24],
    };
    for (d, s) in r.name.iter_mut().zip(name.to_bytes().iter().take(15)) {
        *d = *s as c_char;
    }
    // SAFETY: `r` is a properly sized ifreq for these requests.
    if unsafe { libc::ioctl(fd.as_raw_fd(), req as _, &mut r as *mut Ifreq) } < 0 {
        return Err(-errno());
    }
    Ok(r.data)
}

/// Runs an interface ioctl on a temporary datagram socket of the calling thread's namespace.
pub(super) fn if_ioctl_tmp(name: &CStr, req: libc::c_ulong) -> Result<[u8; 24], c_int> {
    // SAFETY: plain socket creation.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(-errno());
    }
    // SAFETY: `fd` is a new descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    if_ioctl(fd.as_fd(), name, req)
}

/// `struct packet_mreq`.
#[repr(C)]
struct PacketMreq {
    ifindex: c_int,
    kind: u16,
    alen: u16,
    address: [u8; 8],
}

const PACKET_ADD_MEMBERSHIP: c_int = 1;
const PACKET_DROP_MEMBERSHIP: c_int = 2;
const PACKET_MR_MULTICAST: u16 = 0;
const PACKET_MR_PROMISC: u16 = 1;
const PACKET_MR_ALLMULTI: u16 = 2;

/// The membership the interface needs to accept the frames of a filter (a multicast MAC, all
/// multicast, or promiscuous mode), if any.
fn membership_for(ifindex: c_int, m: &Matcher) -> Option<PacketMreq> {
    let (kind, mac) = match m {
        Matcher::MulticastAll | Matcher::MulticastMismatch { .. } => (PACKET_MR_ALLMULTI, None),
        Matcher::PortSniff { promisc: true } => (PACKET_MR_PROMISC, None),
        _ => (PACKET_MR_MULTICAST, Some(m.multicast_mac()?)),
    };
    let mut req = PacketMreq {
        ifindex,
        kind,
        alen: 0,
        address: [0; 8],
    };
    if let Some(mac) = mac {
        req.alen = 6;
        req.address[..6].copy_from_slice(&mac);
    }
    Some(req)
}

/// Makes the interface accept the frames filter `m` needs, on each of `socks`. When one
/// socket refuses, the memberships already added are dropped again and the error returned.
pub(super) fn add_memberships(socks: &[Arc<PacketSocket>], m: &Matcher) -> Result<(), c_int> {
    for (i, s) in socks.iter().enumerate() {
        let Some(req) = membership_for(s.ifindex, m) else {
            return Ok(());
        };
        if let Err(e) = s.membership(&req, true) {
            for done in &socks[..i] {
                let _ = done.membership(&req, false);
            }
            return Err(e);
        }
    }
    Ok(())
}

/// Drops what [`add_memberships`] added for filter `m` on each of `socks`.
pub(super) fn drop_memberships(socks: &[Arc<PacketSocket>], m: &Matcher) {
    for s in socks {
        if let Some(req) = membership_for(s.ifindex, m) {
            // Nothing to do about a failure: the interface accepts more frames than needed.
            let _ = s.membership(&req, false);
        }
    }
}
