//! What Onload knows of a file descriptor, and per-descriptor requests: `fd_stat`,
//! feature checks, moving a socket between stacks, TCP details, timestamping, and sockets
//! that Onload leaves (partly) alone.

use crate::error::{Result, check_open, check_socket, minus_one_errno, neg_errno};
use onload_sys as ffi;
use std::ffi::{CStr, c_int};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What Onload reports for an accelerated descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OnloadStat {
    /// Number of the stack that holds the socket.
    pub stack_id: i32,
    /// Name of that stack (`None` when it has none).
    pub stack_name: Option<String>,
    /// Number of the socket within its stack (as `onload_stackdump` shows it).
    pub endpoint_id: i32,
    /// Onload's internal state of the socket (its encoding may change between releases).
    pub endpoint_state: i32,
}

/// The answer of [`fd_stat`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdStat {
    /// Onload does not accelerate the descriptor (always the answer without Onload).
    NotAccelerated,
    /// Onload accelerates it; here are its details.
    Accelerated(OnloadStat),
}

impl FdStat {
    /// True when Onload accelerates the descriptor.
    pub fn is_accelerated(&self) -> bool {
        matches!(self, FdStat::Accelerated(_))
    }

    /// The details, when accelerated.
    pub fn stat(&self) -> Option<&OnloadStat> {
        match self {
            FdStat::Accelerated(s) => Some(s),
            FdStat::NotAccelerated => None,
        }
    }
}

/// Whether Onload accelerates `fd`, and if so in which stack.
///
/// Works on anything with a descriptor (`std::net` sockets, pipes, files, a raw fd).
///
/// * **Under Onload:** [`FdStat::Accelerated`] with the stack's id and name for an Onload
///   socket, [`FdStat::NotAccelerated`] for anything else.
/// * **Without Onload:** always [`FdStat::NotAccelerated`].
///
/// A descriptor that is not open is an [`Error::BadFd`](crate::Error::BadFd) in both cases.
///
/// ```
/// let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// match onload_ext::fd_stat(&sock)? {
///     onload_ext::FdStat::Accelerated(s) => println!("stack {} ({:?})", s.stack_id, s.stack_name),
///     onload_ext::FdStat::NotAccelerated => println!("kernel socket"),
/// }
/// # Ok::<(), onload_ext::Error>(())
/// ```
pub fn fd_stat<F: AsRawFd + ?Sized>(fd: &F) -> Result<FdStat> {
    const CALL: &str = "onload_fd_stat";
    let fd = fd.as_raw_fd();
    check_open(CALL, fd)?;
    let mut st = ffi::onload_stat::default();
    // SAFETY: `st` is a valid onload_stat to fill; the stub leaves it untouched.
    let rc = unsafe { ffi::onload_fd_stat(fd, &mut st) };
    // Onload allocates the name for us whatever the result; take it first so it is freed.
    let name = take_c_string(st.stack_name);
    match neg_errno(CALL, rc)? {
        0 => Ok(FdStat::NotAccelerated),
        _ => Ok(FdStat::Accelerated(OnloadStat {
            stack_id: st.stack_id,
            stack_name: name,
            endpoint_id: st.endpoint_id,
            endpoint_state: st.endpoint_state,
        })),
    }
}

/// Copies and frees a `malloc`ed C string (NULL gives `None`).
fn take_c_string(p: *mut std::ffi::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: Onload sets `stack_name` to a NUL-terminated string it allocated with malloc for
    // the caller, who owns it from now on.
    let s = unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    // SAFETY: allocated with malloc (above), freed once, here.
    unsafe { libc::free(p.cast()) };
    Some(s)
}

/// Features [`check_feature`] can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Feature {
    /// The socket supports `ONLOAD_MSG_WARM` (on a socket that does not, warm sends really
    /// send).
    MsgWarm,
    /// UDP transmit timestamps can carry the packet headers.
    UdpTxTsHdr,
    /// Transmit timestamps can carry `IP_PKTINFO`.
    TxScmTsPktinfo,
}

impl Feature {
    fn raw(self) -> ffi::onload_fd_feature {
        match self {
            Feature::MsgWarm => ffi::onload_fd_feature_ONLOAD_FD_FEAT_MSG_WARM,
            Feature::UdpTxTsHdr => ffi::onload_fd_feature_ONLOAD_FD_FEAT_UDP_TX_TS_HDR,
            Feature::TxScmTsPktinfo => ffi::onload_fd_feature_ONLOAD_FD_FEAT_TX_SCM_TS_PKTINFO,
        }
    }
}

/// The answer of [`check_feature`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureSupport {
    /// The descriptor has the feature.
    Supported,
    /// It does not.
    NotSupported,
    /// This Onload cannot tell (`-EOPNOTSUPP`): treat as not supported.
    Unknown,
}

/// Whether socket `fd` has `feature`.
///
/// * **Under Onload:** [`FeatureSupport::Supported`] / [`FeatureSupport::NotSupported`], or
///   [`FeatureSupport::Unknown`] when this Onload cannot tell.
/// * **Without Onload:** [`Error::Unsupported`](crate::Error::Unsupported) (the stub returns `-ENOSYS`).
///
/// `fd` must be an open socket ([`Error::BadFd`](crate::Error::BadFd), [`Error::NotASocket`](crate::Error::NotASocket)).
pub fn check_feature<F: AsRawFd + ?Sized>(fd: &F, feature: Feature) -> Result<FeatureSupport> {
    const CALL: &str = "onload_fd_check_feature";
    let fd = fd.as_raw_fd();
    check_socket(CALL, fd)?;
    // SAFETY: plain integers.
    let rc = unsafe { ffi::onload_fd_check_feature(fd, feature.raw()) };
    if rc == -libc::EOPNOTSUPP {
        return Ok(FeatureSupport::Unknown);
    }
    Ok(match neg_errno(CALL, rc)? {
        0 => FeatureSupport::NotSupported,
        _ => FeatureSupport::Supported,
    })
}

/// Moves accelerated TCP socket `fd` to the calling thread's current stack (see
/// [`crate::StackNameGuard`]), e.g. an accepted connection to a stack of its own.
///
/// * **Under Onload:** only sockets that have not sent, and whose receive queue is untouched,
///   can move; otherwise [`Error::Os`](crate::Error::Os). Either way the socket keeps working.
/// * **Without Onload:** `Ok(())`: the stub reports success although nothing moves.
///
/// `fd` must be an open socket ([`Error::BadFd`](crate::Error::BadFd), [`Error::NotASocket`](crate::Error::NotASocket)).
pub fn move_fd<F: AsRawFd + ?Sized>(fd: &F) -> Result<()> {
    const CALL: &str = "onload_move_fd";
    let fd = fd.as_raw_fd();
    check_socket(CALL, fd)?;
    // SAFETY: plain integer.
    minus_one_errno(CALL, unsafe { ffi::onload_move_fd(fd) }).map(|_| ())
}

/// Onload's view of a TCP connection ([`get_tcp_info`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TcpInfo {
    /// Receive buffer size, as `getsockopt(SO_RCVBUF)`.
    pub so_recvbuf: i32,
    /// Bytes of the receive buffer in use.
    pub rcvbuf_used: i32,
    /// Receive window advertised to the peer.
    pub rcv_window: i32,
    /// Send buffer size, as `getsockopt(SO_SNDBUF)`.
    pub so_sndbuf: i32,
    /// Send buffer size in packets.
    pub so_sndbuf_pkts: i32,
    /// Packets of the send buffer still free.
    pub sndbuf_pkts_avail: i32,
    /// Maximum segment size for sending.
    pub snd_mss: i32,
    /// Send window offered by the peer.
    pub snd_window: i32,
    /// Congestion window.
    pub cong_window: i32,
    /// How many bytes of the structure this Onload filled (older releases fill fewer; the
    /// rest read 0).
    pub filled_len: usize,
}

/// Onload's details of accelerated TCP socket `fd`.
///
/// * **Under Onload:** the details, or [`Error::Os`](crate::Error::Os) (`EINVAL`) for a socket Onload does not
///   accelerate.
/// * **Without Onload:** [`Error::Os`](crate::Error::Os) with `EINVAL` (the stub's `-1`/`EINVAL`).
///
/// `fd` must be an open socket ([`Error::BadFd`](crate::Error::BadFd), [`Error::NotASocket`](crate::Error::NotASocket)).
pub fn get_tcp_info<F: AsRawFd + ?Sized>(fd: &F) -> Result<TcpInfo> {
    const CALL: &str = "onload_get_tcp_info";
    let fd = fd.as_raw_fd();
    check_socket(CALL, fd)?;
    let mut info = ffi::onload_tcp_info::default();
    let mut len = std::mem::size_of::<ffi::onload_tcp_info>() as c_int;
    // SAFETY: `info` is writable for `len` bytes; `len` is a valid int to update.
    minus_one_errno(CALL, unsafe {
        ffi::onload_get_tcp_info(fd, &mut info, &mut len)
    })?;
    Ok(TcpInfo {
        so_recvbuf: info.so_recvbuf,
        rcvbuf_used: info.rcvbuf_used,
        rcv_window: info.rcv_window,
        so_sndbuf: info.so_sndbuf,
        so_sndbuf_pkts: info.so_sndbuf_pkts,
        sndbuf_pkts_avail: info.sndbuf_pkts_avail,
        snd_mss: info.snd_mss,
        snd_window: info.snd_window,
        cong_window: info.cong_window,
        filled_len: usize::try_from(len).unwrap_or(0),
    })
}

/// Which timestamps [`timestamping_request`] asks for (combine with `|`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimestampingFlags(u32);

impl TimestampingFlags {
    /// Adapter timestamps of sent packets.
    pub const TX_NIC: Self = Self(ffi::onload_timestamping_flags_ONLOAD_TIMESTAMPING_FLAG_TX_NIC);
    /// Adapter timestamps of received packets.
    pub const RX_NIC: Self = Self(ffi::onload_timestamping_flags_ONLOAD_TIMESTAMPING_FLAG_RX_NIC);
    /// Receive timestamps taken from a cPacket trailer.
    pub const RX_CPACKET: Self =
        Self(ffi::onload_timestamping_flags_ONLOAD_TIMESTAMPING_FLAG_RX_CPACKET);

    /// The C flag bits.
    pub fn bits(self) -> u32 {
        self.0
    }
}

impl std::ops::BitOr for TimestampingFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// Asks Onload to timestamp socket `fd`'s packets (the first timestamping extension;
/// timestamps then arrive as control messages).
///
/// * **Under Onload:** `Ok(())`, or [`Error::Os`](crate::Error::Os) with `ENOTTY` (not accelerated) or
///   `EOPNOTSUPP` (this Onload has no timestamping).
/// * **Without Onload:** [`Error::Unsupported`](crate::Error::Unsupported) (the stub returns `-ENOSYS`).
///
/// `fd` must be an open socket ([`Error::BadFd`](crate::Error::BadFd), [`Error::NotASocket`](crate::Error::NotASocket)).
pub fn timestamping_request<F: AsRawFd + ?Sized>(fd: &F, flags: TimestampingFlags) -> Result<()> {
    const CALL: &str = "onload_timestamping_request";
    let fd = fd.as_raw_fd();
    check_socket(CALL, fd)?;
    // SAFETY: plain integers.
    neg_errno(CALL, unsafe {
        ffi::onload_timestamping_request(fd, flags.0)
    })
    .map(|_| ())
}

/// Builds an owned socket with one of the `*_nonaccel` calls.
fn nonaccel(
    call: &'static str,
    f: unsafe extern "C" fn(c_int, c_int, c_int) -> c_int,
    domain: c_int,
    ty: c_int,
    protocol: c_int,
) -> Result<OwnedFd> {
    // SAFETY: socket(2)-style integers; the function returns a new descriptor or -1.
    let fd = minus_one_errno(call, unsafe {
        f(domain, ty | libc::SOCK_CLOEXEC, protocol)
    })?;
    // SAFETY: `fd` is a descriptor just created for us, owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A socket Onload does not accelerate at all (for example to hold a port for ef_vi without
/// Onload installing filters). Arguments are `socket(2)`'s (`libc::AF_INET`,
/// `libc::SOCK_DGRAM`, ...); `SOCK_CLOEXEC` is added, as `std` does. Turn the result into a
/// `std` socket with `UdpSocket::from(fd)` and the like.
///
/// * **Under Onload:** a kernel socket Onload leaves alone.
/// * **Without Onload:** a plain kernel socket (the stub calls `socket()`).
///
/// `socket()` errors are [`Error::Os`](crate::Error::Os).
pub fn socket_nonaccel(domain: c_int, ty: c_int, protocol: c_int) -> Result<OwnedFd> {
    nonaccel(
        "onload_socket_nonaccel",
        ffi::onload_socket_nonaccel,
        domain,
        ty,
        protocol,
    )
}

/// A socket of which Onload accelerates multicast only (unicast reaches it through the
/// kernel); arguments as [`socket_nonaccel`].
///
/// * **Under Onload:** accelerated for multicast receive only.
/// * **Without Onload:** a plain kernel socket.
pub fn socket_unicast_nonaccel(domain: c_int, ty: c_int, protocol: c_int) -> Result<OwnedFd> {
    nonaccel(
        "onload_socket_unicast_nonaccel",
        ffi::onload_socket_unicast_nonaccel,
        domain,
        ty,
        protocol,
    )
}

/// A socket whose receive path Onload does not accelerate (it still accelerates sending);
/// arguments as [`socket_nonaccel`].
///
/// * **Under Onload:** accelerated for transmit only.
/// * **Without Onload:** a plain kernel socket.
pub fn socket_rx_nonaccel(domain: c_int, ty: c_int, protocol: c_int) -> Result<OwnedFd> {
    nonaccel(
        "onload_socket_rx_nonaccel",
        ffi::onload_socket_rx_nonaccel,
        domain,
        ty,
        protocol,
    )
}

/// Checks that a borrowed descriptor is a socket, for the calls that need one; returns it raw.
pub(crate) fn socket_fd(call: &'static str, fd: std::os::fd::BorrowedFd<'_>) -> Result<c_int> {
    let raw = fd.as_raw_fd();
    check_socket(call, raw)?;
    Ok(raw)
}
