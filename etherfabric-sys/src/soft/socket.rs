//! The packet socket.

use core::ffi::{CStr, c_char, c_int};

use super::errno;
use super::filter_table::Matcher;
use super::no_cap_net_raw;

/// Largest frame read from a socket (lo has a 64 KiB MTU).
pub(super) const MAX_FRAME: usize = 65536 + 64;

pub(super) const ETH_P_ALL: u16 = 0x0003;
pub(super) const PACKET_OUTGOING: u8 = 4;
pub(super) const PACKET_AUXDATA: c_int = 8;
pub(super) const PACKET_QDISC_BYPASS: c_int = 20;
pub(super) const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
pub(super) const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
pub(super) const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
pub(super) const TP_STATUS_CSUM_VALID: u32 = 1 << 7;

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub(super) struct AuxData {
    pub(super) status: u32,
    pub(super) len: u32,
    pub(super) snaplen: u32,
    pub(super) mac: u16,
    pub(super) net: u16,
    pub(super) vlan_tci: u16,
    pub(super) vlan_tpid: u16,
}

/// Opens the VI's packet socket on `ifindex`: receiving every frame when `rx`, else
/// transmit-only.
pub(super) fn open_socket(ifindex: c_int, rx: bool) -> Result<c_int, c_int> {
    // SAFETY: plain socket creation (protocol 0: nothing is received before bind).
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        let e = errno();
        return Err(if e == libc::EPERM || e == libc::EACCES {
            no_cap_net_raw("ef_vi_alloc_from_pd")
        } else {
            -e
        });
    }
    let set = |level: c_int, opt: c_int, v: c_int| {
        // SAFETY: setting an int option on our socket.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                (&v as *const c_int).cast(),
                core::mem::size_of::<c_int>() as libc::socklen_t,
            )
        }
    };
    set(libc::SOL_PACKET, PACKET_QDISC_BYPASS, 1);
    if rx {
        set(libc::SOL_PACKET, PACKET_AUXDATA, 1);
        set(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1);
        if set(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20) < 0 {
            set(libc::SOL_SOCKET, libc::SO_RCVBUF, 8 << 20);
        }
    }
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = if rx { ETH_P_ALL.to_be() } else { 0 };
    sll.sll_ifindex = ifindex;
    // SAFETY: binding our socket to a valid sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        let e = errno();
        // SAFETY: closing our socket.
        unsafe { libc::close(fd) };
        return Err(-e);
    }
    Ok(fd)
}

/// A minimal `struct ifreq`.
#[repr(C)]
pub(super) struct Ifreq {
    pub(super) name: [c_char; 16],
    pub(super) data: [u8; 24],
}

pub(super) fn ifreq(name: &CStr) -> Ifreq {
    let mut r = Ifreq {
        name: [0; 16],
        data: [0; 24],
    };
    for (d, s) in r.name.iter_mut().zip(name.to_bytes().iter().take(15)) {
        *d = *s as c_char;
    }
    r
}

/// Runs an interface ioctl on `fd` (any socket of the right network namespace).
pub(crate) fn if_ioctl(fd: c_int, name: &CStr, req: libc::c_ulong) -> Result<[u8; 24], c_int> {
    let mut r = ifreq(name);
    // SAFETY: `r` is a properly sized ifreq for these requests.
    if unsafe { libc::ioctl(fd, req as _, &mut r as *mut Ifreq) } < 0 {
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
    let r = if_ioctl(fd, name, req);
    // SAFETY: `fd` is ours.
    unsafe { libc::close(fd) };
    r
}

/// `struct packet_mreq`.
#[repr(C)]
pub(super) struct PacketMreq {
    pub(super) ifindex: c_int,
    pub(super) kind: u16,
    pub(super) alen: u16,
    pub(super) address: [u8; 8],
}

pub(super) const PACKET_ADD_MEMBERSHIP: c_int = 1;
pub(super) const PACKET_DROP_MEMBERSHIP: c_int = 2;
pub(super) const PACKET_MR_MULTICAST: u16 = 0;
pub(super) const PACKET_MR_PROMISC: u16 = 1;
pub(super) const PACKET_MR_ALLMULTI: u16 = 2;

/// Makes the interface accept (or stop accepting) the frames a filter needs: a multicast MAC,
/// all multicast, or promiscuous mode, on each of `socks`.
pub(crate) fn apply_memberships(socks: &[c_int], ifindex: c_int, m: &Matcher, add: bool) {
    let (kind, mac) = match m {
        Matcher::MulticastAll | Matcher::MulticastMismatch { .. } => (PACKET_MR_ALLMULTI, None),
        Matcher::PortSniff { promisc: true } => (PACKET_MR_PROMISC, None),
        _ => match m.multicast_mac() {
            Some(mac) => (PACKET_MR_MULTICAST, Some(mac)),
            None => return,
        },
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
    let opt = if add {
        PACKET_ADD_MEMBERSHIP
    } else {
        PACKET_DROP_MEMBERSHIP
    };
    for &s in socks {
        // SAFETY: `req` is a valid packet_mreq; failure only means fewer frames arrive.
        unsafe {
            libc::setsockopt(
                s,
                libc::SOL_PACKET,
                opt,
                (&req as *const PacketMreq).cast(),
                core::mem::size_of::<PacketMreq>() as libc::socklen_t,
            );
        }
    }
}
