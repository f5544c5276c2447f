//! Small safe wrappers around the system calls the software backend makes, and helpers for
//! socket addresses and clocks.

use std::mem::{size_of, zeroed};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::raw::{c_int, c_void};

/// The calling thread's `errno`.
#[inline]
pub(crate) fn errno() -> c_int {
    std::io::Error::last_os_error()
        .raw_os_error()
        .unwrap_or(libc::EIO)
}

/// A `sockaddr_in` as the backend keeps it (network byte order inside).
pub(crate) type SockIn = libc::sockaddr_in;

/// An all-zero `AF_INET` address.
pub(crate) fn sin_any() -> SockIn {
    // SAFETY: sockaddr_in is plain old data; all-zero is a valid value.
    let mut s: SockIn = unsafe { zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s
}

/// Host-order IPv4 address of `s`.
#[inline]
pub(crate) fn sin_ip(s: &SockIn) -> u32 {
    u32::from_be(s.sin_addr.s_addr)
}

/// Host-order port of `s`.
#[inline]
pub(crate) fn sin_port(s: &SockIn) -> u16 {
    u16::from_be(s.sin_port)
}

/// True when `ip` (host order) is a multicast address.
#[inline]
pub(crate) fn ip_is_multicast(ip: u32) -> bool {
    (ip >> 28) == 0xe
}

/// Reads an `AF_INET` address given by the application, with TCPDirect's checks:
/// null → `-EFAULT`, too short → `-EINVAL`, other family → `-EAFNOSUPPORT`.
///
/// # Safety
///
/// When non-null, `p` must be readable for `len` bytes.
pub(crate) unsafe fn read_sin(
    p: *const crate::sockaddr,
    len: crate::socklen_t,
) -> Result<SockIn, c_int> {
    if p.is_null() {
        return Err(-libc::EFAULT);
    }
    if (len as usize) < size_of::<SockIn>() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: non-null and at least sizeof(sockaddr_in) readable bytes, per the caller.
    let s: SockIn = unsafe { std::ptr::read_unaligned(p.cast::<SockIn>()) };
    if c_int::from(s.sin_family) != libc::AF_INET {
        return Err(-libc::EAFNOSUPPORT);
    }
    Ok(s)
}

/// Writes `s` to an application buffer the way `getsockname` does: truncated to `*len`, with
/// `*len` set to the full size. Does nothing when either pointer is null.
///
/// # Safety
///
/// When non-null, `len` must be valid for reads and writes and `out` writable for `*len` bytes.
pub(crate) unsafe fn write_sin(out: *mut crate::sockaddr, len: *mut crate::socklen_t, s: &SockIn) {
    if out.is_null() || len.is_null() {
        return;
    }
    // SAFETY: `len` is valid per the caller.
    let avail = unsafe { *len } as usize;
    let n = avail.min(size_of::<SockIn>());
    // SAFETY: `out` is writable for `avail >= n` bytes per the caller; `s` is n readable bytes.
    unsafe {
        std::ptr::copy_nonoverlapping((s as *const SockIn).cast::<u8>(), out.cast::<u8>(), n);
        *len = size_of::<SockIn>() as crate::socklen_t;
    }
}

/// `CLOCK_REALTIME` now.
pub(crate) fn realtime() -> libc::timespec {
    // SAFETY: timespec is plain old data.
    let mut ts: libc::timespec = unsafe { zeroed() };
    // SAFETY: valid clock id and a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts
}

/// `CLOCK_MONOTONIC` now, in nanoseconds.
pub(crate) fn mono_ns() -> u64 {
    // SAFETY: timespec is plain old data.
    let mut ts: libc::timespec = unsafe { zeroed() };
    // SAFETY: valid clock id and a valid out pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// Takes ownership of a descriptor a system call just returned, or gives `-errno` when it
/// failed (`fd < 0`).
pub(crate) fn owned(fd: c_int) -> Result<OwnedFd, c_int> {
    if fd < 0 {
        Err(-errno())
    } else {
        // SAFETY: a new descriptor from the kernel, owned by nobody else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

/// A new non-blocking, close-on-exec socket, or `-errno`.
pub(crate) fn socket(ty: c_int) -> Result<OwnedFd, c_int> {
    // SAFETY: plain system call with constant arguments.
    let fd = unsafe {
        libc::socket(
            libc::AF_INET,
            ty | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    owned(fd)
}

/// `setsockopt` with an integer value; returns 0 or `-errno`.
pub(crate) fn setsockopt_int(fd: impl AsFd, level: c_int, name: c_int, val: c_int) -> c_int {
    // SAFETY: `val` outlives the call and its size is passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            (&val as *const c_int).cast::<c_void>(),
            size_of::<c_int>() as libc::socklen_t,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// `setsockopt` with an arbitrary plain-old-data value.
pub(crate) fn setsockopt_val<T>(fd: impl AsFd, level: c_int, name: c_int, val: &T) -> c_int {
    // SAFETY: `val` is a valid reference of the size passed.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            (val as *const T).cast::<c_void>(),
            size_of::<T>() as libc::socklen_t,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// `getsockopt` with an integer value.
pub(crate) fn getsockopt_int(fd: impl AsFd, level: c_int, name: c_int) -> Result<c_int, c_int> {
    let mut v: c_int = 0;
    let mut l = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: out pointers are valid for the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            level,
            name,
            (&mut v as *mut c_int).cast::<c_void>(),
            &mut l,
        )
    };
    if rc < 0 { Err(-errno()) } else { Ok(v) }
}

/// The kernel's TCP state of `fd` (`TCP_*` from netinet/tcp.h), or `None`.
pub(crate) fn tcp_info_state(fd: impl AsFd) -> Option<u8> {
    tcp_info(fd).map(|ti| ti.tcpi_state)
}

/// The kernel's `tcp_info` for `fd`.
pub(crate) fn tcp_info(fd: impl AsFd) -> Option<libc::tcp_info> {
    // SAFETY: tcp_info is plain old data.
    let mut ti: libc::tcp_info = unsafe { zeroed() };
    let mut l = size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: out pointers valid for the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&mut ti as *mut libc::tcp_info).cast::<c_void>(),
            &mut l,
        )
    };
    if rc < 0 { None } else { Some(ti) }
}

/// `ioctl(fd, req, &int)` returning the integer, for SIOCOUTQ and friends.
pub(crate) fn ioctl_int(fd: impl AsFd, req: libc::Ioctl) -> Result<c_int, c_int> {
    let mut v: c_int = 0;
    // SAFETY: the requests used take an int out-parameter.
    let rc = unsafe { libc::ioctl(fd.as_fd().as_raw_fd(), req, &mut v as *mut c_int) };
    if rc < 0 { Err(-errno()) } else { Ok(v) }
}

/// `bind` to an `AF_INET` address; 0 or `-errno`.
pub(crate) fn bind(fd: impl AsFd, s: &SockIn) -> c_int {
    // SAFETY: `s` is a valid sockaddr_in of the size passed.
    let rc = unsafe {
        libc::bind(
            fd.as_fd().as_raw_fd(),
            (s as *const SockIn).cast::<libc::sockaddr>(),
            size_of::<SockIn>() as libc::socklen_t,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// `connect` to an `AF_INET` address; 0 or `-errno` (including `-EINPROGRESS`).
pub(crate) fn connect(fd: impl AsFd, s: &SockIn) -> c_int {
    // SAFETY: `s` is a valid sockaddr_in of the size passed.
    let rc = unsafe {
        libc::connect(
            fd.as_fd().as_raw_fd(),
            (s as *const SockIn).cast::<libc::sockaddr>(),
            size_of::<SockIn>() as libc::socklen_t,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// Dissolves a connection/listen state with `connect(AF_UNSPEC)`. The bound port survives
/// only if it was bound explicitly (a kernel-chosen UDP port is released).
pub(crate) fn disconnect(fd: impl AsFd) -> c_int {
    // SAFETY: sockaddr is plain old data.
    let mut s: libc::sockaddr = unsafe { zeroed() };
    s.sa_family = libc::AF_UNSPEC as libc::sa_family_t;
    // SAFETY: valid sockaddr of the size passed.
    let rc = unsafe {
        libc::connect(
            fd.as_fd().as_raw_fd(),
            &s,
            size_of::<libc::sockaddr>() as libc::socklen_t,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// `getsockname` / `getpeername` as an `AF_INET` address.
pub(crate) fn sockname(fd: impl AsFd, peer: bool) -> Result<SockIn, c_int> {
    let mut s = sin_any();
    let mut l = size_of::<SockIn>() as libc::socklen_t;
    let p = (&mut s as *mut SockIn).cast::<libc::sockaddr>();
    let fd = fd.as_fd().as_raw_fd();
    // SAFETY: out pointers valid for the sizes given.
    let rc = unsafe {
        if peer {
            libc::getpeername(fd, p, &mut l)
        } else {
            libc::getsockname(fd, p, &mut l)
        }
    };
    if rc < 0 { Err(-errno()) } else { Ok(s) }
}

/// Makes the closing of `fd` (when its owner drops it) send the peer a reset: `SO_LINGER`
/// with a zero timeout. A refusal leaves an orderly close, so it is only reported.
pub(crate) fn reset_on_close(fd: impl AsFd) -> c_int {
    let lg = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    setsockopt_val(fd, libc::SOL_SOCKET, libc::SO_LINGER, &lg)
}

/// Thin wrapper over an epoll instance.
pub(crate) fn epoll_ctl(
    epfd: impl AsFd,
    op: c_int,
    fd: impl AsFd,
    events: u32,
    data: u64,
) -> c_int {
    let mut ev = libc::epoll_event { events, u64: data };
    // SAFETY: valid epoll_event pointer.
    let rc = unsafe {
        libc::epoll_ctl(
            epfd.as_fd().as_raw_fd(),
            op,
            fd.as_fd().as_raw_fd(),
            &mut ev,
        )
    };
    if rc < 0 { -errno() } else { 0 }
}

/// The local IPv4 address the kernel would use to reach `dst` (host order), via a throwaway
/// connected UDP socket.
pub(crate) fn route_source(dst: &SockIn) -> Result<u32, c_int> {
    let fd = socket(libc::SOCK_DGRAM)?;
    let mut d = *dst;
    if d.sin_port == 0 {
        d.sin_port = 9u16.to_be();
    }
    let rc = connect(&fd, &d);
    if rc < 0 {
        Err(rc)
    } else {
        sockname(&fd, false).map(|s| sin_ip(&s))
    }
}

/// Internet checksum (RFC 1071) of `data`, folded, complemented.
pub(crate) fn ip_checksum(data: &[u8]) -> u16 {
    checksum_fold(&[data])
}

/// Internet checksum of the concatenation of `parts` (each but the last of even length),
/// folded, complemented: zero over data that includes a correct checksum.
pub(crate) fn checksum_fold(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for data in parts {
        let mut chunks = data.chunks_exact(2);
        for c in &mut chunks {
            sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        if let [b] = chunks.remainder() {
            sum += u64::from(*b) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The UDP checksum (never 0, which means "none") of a datagram from `src` to `dst` (host
/// order), over its header with the checksum field taken as zero and its payload.
pub(crate) fn udp_checksum(src: u32, dst: u32, udp_hdr: &[u8], payload: &[u8]) -> u16 {
    let mut pseudo = [0u8; 12];
    pseudo[..4].copy_from_slice(&src.to_be_bytes());
    pseudo[4..8].copy_from_slice(&dst.to_be_bytes());
    pseudo[9] = libc::IPPROTO_UDP as u8;
    pseudo[10..12].copy_from_slice(&udp_hdr[4..6]);
    // The header up to the checksum field; the field itself counts as zero.
    match checksum_fold(&[&pseudo, &udp_hdr[..6], payload]) {
        0 => 0xffff,
        c => c,
    }
}

/// Writes a 20-byte IPv4 header (no options) into `out`, checksum included.
pub(crate) fn write_ip_header(
    out: &mut [u8],
    tot_len: u16,
    id: u16,
    df: bool,
    ttl: u8,
    tos: u8,
    proto: u8,
    src: u32,
    dst: u32,
) {
    out[0] = 0x45;
    out[1] = tos;
    out[2..4].copy_from_slice(&tot_len.to_be_bytes());
    out[4..6].copy_from_slice(&id.to_be_bytes());
    let frag: u16 = if df { 0x4000 } else { 0 };
    out[6..8].copy_from_slice(&frag.to_be_bytes());
    out[8] = ttl;
    out[9] = proto;
    out[10..12].copy_from_slice(&[0, 0]);
    out[12..16].copy_from_slice(&src.to_be_bytes());
    out[16..20].copy_from_slice(&dst.to_be_bytes());
    let c = ip_checksum(&out[..20]);
    out[10..12].copy_from_slice(&c.to_be_bytes());
}

/// Reads a sysctl file under /proc/sys holding one unsigned integer.
pub(crate) fn sysctl_u32(path: &str) -> Option<u32> {
    std::fs::read_to_string(format!("/proc/sys/{path}"))
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Index, MTU and MAC address of a network interface, or `-ENODEV`.
pub(crate) fn interface_info(name: &std::ffi::CStr) -> Result<(u32, i32, [u8; 6]), c_int> {
    // SAFETY: `name` is a valid NUL-terminated string.
    let idx = unsafe { libc::if_nametoindex(name.as_ptr()) };
    if idx == 0 {
        return Err(-libc::ENODEV);
    }
    let bytes = name.to_bytes();
    if bytes.len() >= libc::IFNAMSIZ {
        return Err(-libc::ENODEV);
    }
    let fd = socket(libc::SOCK_DGRAM)?;
    // SAFETY: ifreq is plain old data.
    let mut ifr: libc::ifreq = unsafe { zeroed() };
    for (d, s) in ifr.ifr_name.iter_mut().zip(bytes) {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFMTU fills ifr_ifru.ifru_mtu of a valid ifreq.
    let mtu = if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU, &mut ifr) } == 0 {
        // SAFETY: the kernel filled the mtu member.
        unsafe { ifr.ifr_ifru.ifru_mtu }
    } else {
        1500
    };
    let mut mac = [0u8; 6];
    // SAFETY: SIOCGIFHWADDR fills ifr_ifru.ifru_hwaddr of a valid ifreq.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut ifr) } == 0 {
        // SAFETY: the kernel filled the hwaddr member.
        let hw = unsafe { ifr.ifr_ifru.ifru_hwaddr };
        for (d, s) in mac.iter_mut().zip(hw.sa_data.iter()) {
            *d = *s as u8;
        }
    }
    Ok((idx, mtu, mac))
}

/// Whether `ip` (host order) is a unicast address of this host: in 127.0.0.0/8 or assigned to
/// one of its interfaces (not a broadcast or multicast address, which datagrams may reach
/// along paths other than a frame addressed to this host).
pub(crate) fn is_local_unicast(ip: u32) -> bool {
    if ip >> 24 == 127 {
        return true;
    }
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: valid out pointer; the list is freed below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return false;
    }
    let mut found = false;
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*cur };
        let a = ifa.ifa_addr;
        // SAFETY: `a` is null or a valid address of the node; an AF_INET address is a
        // sockaddr_in.
        let v4 = unsafe {
            match a.as_ref() {
                Some(sa) if c_int::from(sa.sa_family) == libc::AF_INET => {
                    Some(sin_ip(&*a.cast::<SockIn>()))
                }
                _ => None,
            }
        };
        if v4 == Some(ip) {
            found = true;
            break;
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: the list from getifaddrs, freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}
