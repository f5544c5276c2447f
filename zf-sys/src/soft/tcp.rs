//! TCP zockets (`zft_*`) and listening zockets (`zftl_*`) over non-blocking kernel TCP
//! sockets. Data is moved between the kernel and the zocket's queues only by the reactor.

use std::collections::VecDeque;
use std::mem::size_of;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::{c_int, c_uint, c_void};

use super::stack::{Kind, Stack, TAG_LISTEN, TAG_TCP, Waitable, waitable_handle};
use super::util::{self, SockIn};

// TCP state numbers (netinet/tcp.h), as zft_state() reports them.
pub(crate) const ESTABLISHED: c_int = 1;
pub(crate) const SYN_SENT: c_int = 2;
pub(crate) const FIN_WAIT1: c_int = 4;
pub(crate) const FIN_WAIT2: c_int = 5;
pub(crate) const TIME_WAIT: c_int = 6;
pub(crate) const CLOSED: c_int = 7;
pub(crate) const CLOSE_WAIT: c_int = 8;
pub(crate) const LAST_ACK: c_int = 9;
pub(crate) const CLOSING: c_int = 11;

/// Bytes a zocket's receive queue may hold before the reactor stops reading its socket.
const RX_LIMIT: usize = 256 * 1024;
/// Send queue size reported by `zft_send_space` (the kernel socket gets twice this).
pub(crate) const SNDBUF: usize = 128 * 1024;
/// Ethernet + IPv4 + TCP header bytes of every segment.
pub(crate) const HEADER_SIZE: u32 = 14 + 20 + 20;
const MAX_REPORTS: usize = 1024;
/// Sends up to this size go straight to the kernel without a queue-space query.
const SMALL_SEND: usize = 16384;

/// One received buffer (a zero-length one marks end of stream).
#[derive(Debug)]
pub(crate) struct RxBuf {
    pub buf: Box<[u8]>,
    pub off: usize,
    pub len: usize,
    pub ts: libc::timespec,
}

/// The object behind `struct zft*` and `struct zft_handle*` (the same pointer). `stack`
/// outlives it; `listener` is null or the listener that accepted it, which lives while it
/// has accepted zockets alive. Its socket closes when it drops.
#[derive(Debug)]
pub(crate) struct Tcp {
    pub w: Box<Waitable>,
    pub stack: *mut Stack,
    pub fd: OwnedFd,
    pub state: c_int,
    pub error: c_int,
    /// Connected (or accepted): no longer a handle.
    pub initialised: bool,
    pub bound: bool,
    pub laddr: SockIn,
    pub raddr: SockIn,
    pub rxq: VecDeque<RxBuf>,
    pub rx_bytes: usize,
    pub eof: bool,
    /// Buffers handed out by the last zft_zc_recv.
    pub release_n: usize,
    pub ep_reg: bool,
    pub ep_mask: u32,
    pub connecting: bool,
    pub connect_error: c_int,
    pub tx_blocked: bool,
    /// Blocked on the backend's send-queue limit ([`SNDBUF`]) while the kernel socket, whose
    /// buffer is larger, may still be writable: the reactor watches the queue instead of
    /// asking epoll for EPOLLOUT (which the kernel would report at once, every time).
    pub space_wait: bool,
    pub shut_wr: bool,
    pub user_freed: bool,
    pub deadline: u64,
    pub listener: *mut Listen,
    /// Bytes accepted for sending (stream offset for timestamps and sequence numbers).
    pub tx_bytes: u64,
    pub rx_total: u64,
    pub isn: u32,
    pub irs: u32,
    pub ds_reserved: usize,
    pub reports: VecDeque<crate::zf_pkt_report>,
    pub reports_dropped: bool,
    pub mss: c_int,
}

/// The object behind `struct zftl*`. `stack` outlives it; the zockets of `acceptq` are live
/// zockets of that stack not yet handed to the application. Its socket closes when it drops.
#[derive(Debug)]
pub(crate) struct Listen {
    pub w: Box<Waitable>,
    pub stack: *mut Stack,
    pub fd: OwnedFd,
    pub laddr: SockIn,
    pub acceptq: VecDeque<*mut Tcp>,
    /// Accepted zockets not yet freed by the application.
    pub children: usize,
    pub user_freed: bool,
}

fn tcp_ptr(t: &mut Tcp) -> u64 {
    (t as *mut Tcp as u64) | TAG_TCP
}

impl Tcp {
    fn new(st: *mut Stack, fd: OwnedFd) -> Box<Tcp> {
        let mut t = Box::new(Tcp {
            w: Waitable::new(st, Kind::Tcp),
            stack: st,
            fd,
            state: CLOSED,
            error: 0,
            initialised: false,
            bound: false,
            laddr: util::sin_any(),
            raddr: util::sin_any(),
            rxq: VecDeque::new(),
            rx_bytes: 0,
            eof: false,
            release_n: 0,
            ep_reg: false,
            ep_mask: 0,
            connecting: false,
            connect_error: 0,
            tx_blocked: false,
            space_wait: false,
            shut_wr: false,
            user_freed: false,
            deadline: 0,
            listener: std::ptr::null_mut(),
            tx_bytes: 0,
            rx_total: 0,
            isn: 0,
            irs: 0,
            ds_reserved: 0,
            reports: VecDeque::new(),
            reports_dropped: false,
            mss: 536,
        });
        let p: *mut Tcp = &mut *t;
        t.w.owner = p.cast();
        t
    }

    /// Sendable states.
    pub(crate) fn can_send(&self) -> bool {
        (self.state == ESTABLISHED || self.state == CLOSE_WAIT) && !self.shut_wr
    }

    /// Registered only to receive (so reading it directly sees everything epoll would).
    pub(crate) fn plain_reader(&self) -> bool {
        !self.connecting && !self.tx_blocked && self.ep_mask & libc::EPOLLIN as u32 != 0
    }

    /// Whether the zocket holds exactly one received buffer, of data, that no zero-copy
    /// receive holds: the one packet an overlapped receive can hand out (TCPDirect reports
    /// overlapped receive only for in-order data on an established connection without a
    /// backlog).
    pub(crate) fn overlapped_candidate(&self) -> bool {
        self.state == ESTABLISHED
            && self.release_n == 0
            && self.rxq.len() == 1
            && self.rxq.front().is_some_and(|b| b.len > 0)
    }

    /// Readiness for the muxer.
    pub(crate) fn readiness(&self) -> u32 {
        let mut r = 0;
        if !self.rxq.is_empty() {
            r |= libc::EPOLLIN as u32;
        }
        if !self.initialised {
            // An unconnected handle, like an unconnected socket.
            r |= (libc::EPOLLOUT | libc::EPOLLHUP) as u32;
        } else if self.state == CLOSED {
            r |= (libc::EPOLLOUT | libc::EPOLLHUP) as u32;
            if self.error != 0 {
                r |= libc::EPOLLERR as u32;
            }
        } else {
            if self.can_send() && !self.tx_blocked && self.ds_reserved == 0 {
                r |= libc::EPOLLOUT as u32;
            }
            if self.eof && self.shut_wr {
                r |= libc::EPOLLHUP as u32;
            }
        }
        if !self.reports.is_empty() {
            // As in TCPDirect: transmit reports wait to be taken by zft_get_tx_timestamps.
            r |= libc::EPOLLERR as u32;
        }
        r
    }

    fn add_report(&mut self, start: u64, bytes: usize, flags: u16) {
        if self.reports.len() >= MAX_REPORTS {
            self.reports_dropped = true;
            return;
        }
        let ts = util::realtime();
        let mut fl =
            flags | crate::ZF_PKT_REPORT_CLOCK_SET as u16 | crate::ZF_PKT_REPORT_IN_SYNC as u16;
        if self.reports_dropped {
            fl |= crate::ZF_PKT_REPORT_DROPPED as u16;
            self.reports_dropped = false;
        }
        self.reports.push_back(crate::zf_pkt_report {
            timestamp: crate::timespec {
                tv_sec: ts.tv_sec,
                tv_nsec: ts.tv_nsec,
            },
            start: start as u32,
            bytes: bytes.min(0xffff) as u16,
            flags: fl,
        });
    }
}

/// Sets the epoll interest of a TCP zocket from its state; deregisters once nothing more can
/// arrive.
pub(crate) fn update_interest(st: &mut Stack, t: &mut Tcp) {
    let done = t.user_freed || (t.initialised && t.state == CLOSED) || (t.eof && t.shut_wr);
    if done || !t.initialised {
        if t.ep_reg {
            util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &t.fd, 0, 0);
            t.ep_reg = false;
        }
        return;
    }
    let mut m = 0u32;
    if !t.eof && t.rx_bytes < RX_LIMIT {
        m |= (libc::EPOLLIN | libc::EPOLLRDHUP) as u32;
    }
    if t.connecting || (t.tx_blocked && !t.space_wait) {
        m |= libc::EPOLLOUT as u32;
    }
    let data = tcp_ptr(t);
    if !t.ep_reg {
        if util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_ADD, &t.fd, m, data) == 0 {
            t.ep_reg = true;
            t.ep_mask = m;
        }
    } else if t.ep_mask != m {
        util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_MOD, &t.fd, m, data);
        t.ep_mask = m;
    }
}

fn queue_eof(t: &mut Tcp) {
    if !t.eof {
        t.eof = true;
        t.rxq.push_back(RxBuf {
            buf: Box::new([]),
            off: 0,
            len: 0,
            ts: util::realtime(),
        });
    }
}

/// The connection is gone (`err` = 0 for an orderly close).
fn set_closed(st: &mut Stack, t: &mut Tcp, err: c_int) {
    if t.state != CLOSED {
        t.state = CLOSED;
        t.error = err;
    }
    t.connecting = false;
    queue_eof(t);
    t.w.pending |= (libc::EPOLLIN | libc::EPOLLHUP | libc::EPOLLOUT) as u32;
    if err != 0 {
        t.w.pending |= libc::EPOLLERR as u32;
    }
    update_interest(st, t);
}

fn sync_mss(st: &Stack, t: &mut Tcp) {
    let cap = st.mtu - 40;
    t.mss = match util::getsockopt_int(&t.fd, libc::IPPROTO_TCP, libc::TCP_MAXSEG) {
        Ok(m) if m > 0 => m.min(cap),
        _ => cap,
    };
}

/// A new connection (connected or accepted) starts here.
fn set_established(st: &mut Stack, t: &mut Tcp) {
    t.state = ESTABLISHED;
    t.connecting = false;
    sync_mss(st, t);
    // Sequence numbers the kernel chose cannot be read without CAP_NET_ADMIN; the backend
    // keeps its own, derived from the addresses, for delegated-send headers.
    let mix = |a: &SockIn, b: &SockIn| {
        (util::sin_ip(a) ^ u32::from(util::sin_port(a)).rotate_left(16)).wrapping_mul(0x9e37_79b1)
            ^ util::sin_ip(b).rotate_left(7)
            ^ u32::from(util::sin_port(b))
    };
    t.isn = mix(&t.laddr, &t.raddr);
    t.irs = mix(&t.raddr, &t.laddr);
    if st.tx_ts {
        t.add_report(0, 0, crate::ZF_PKT_REPORT_TCP_SYN as u16);
    }
    t.w.pending |= libc::EPOLLOUT as u32;
    update_interest(st, t);
}

/// Direct-poll entry of the reactor: reads `t`'s socket without an epoll event.
pub(crate) fn poll_read(st: &mut Stack, t: &mut Tcp) -> c_int {
    do_read(st, t)
}

/// Reads what the kernel has for `t` into its receive queue. Returns 1 if anything changed.
fn do_read(st: &mut Stack, t: &mut Tcp) -> c_int {
    let mut changed = 0;
    while !t.eof && t.rx_bytes < RX_LIMIT {
        let mut buf = st.tcp_buf();
        // SAFETY: `buf` is a writable buffer of the length passed.
        let n = unsafe {
            libc::recv(
                t.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n > 0 {
            let n = n as usize;
            let ts = if st.rx_ts {
                util::realtime()
            } else {
                libc::timespec {
                    tv_sec: 0,
                    tv_nsec: 0,
                }
            };
            t.rxq.push_back(RxBuf {
                buf,
                off: 0,
                len: n,
                ts,
            });
            t.rx_bytes += n;
            t.rx_total += n as u64;
            t.w.pending |= libc::EPOLLIN as u32;
            changed = 1;
            if n < TCP_BUF_LEN {
                // Short read: the socket is drained for now; epoll reports any more.
                break;
            }
        } else if n == 0 {
            st.put_buf(buf);
            on_fin(st, t);
            return 1;
        } else {
            st.put_buf(buf);
            let e = util::errno();
            if e == libc::EAGAIN || e == libc::EINTR {
                break;
            }
            let err = if t.eof || e == libc::EPIPE {
                libc::EPIPE
            } else {
                e
            };
            set_closed(st, t, err);
            return 1;
        }
    }
    update_interest(st, t);
    changed
}

const TCP_BUF_LEN: usize = super::stack::TCP_BUF;

/// The peer's FIN has been read.
fn on_fin(st: &mut Stack, t: &mut Tcp) {
    queue_eof(t);
    t.state = match t.state {
        ESTABLISHED => CLOSE_WAIT,
        FIN_WAIT1 => CLOSING,
        FIN_WAIT2 => {
            t.deadline = util::mono_ns() + st.timewait_ns;
            TIME_WAIT
        }
        s => s,
    };
    t.w.pending |= libc::EPOLLIN as u32;
    if t.shut_wr {
        t.w.pending |= libc::EPOLLHUP as u32;
        st.timer_work = true;
    }
    update_interest(st, t);
}

/// Handles epoll events of a TCP zocket's socket.
pub(crate) fn on_event(st: &mut Stack, t: &mut Tcp, ev: u32) -> c_int {
    let errish = (libc::EPOLLERR | libc::EPOLLHUP) as u32;
    if t.connecting {
        if ev & (libc::EPOLLOUT as u32 | errish) != 0 {
            let err = util::getsockopt_int(&t.fd, libc::SOL_SOCKET, libc::SO_ERROR)
                .unwrap_or(libc::ECONNREFUSED);
            if err == 0 && ev & errish == 0 {
                set_established(st, t);
            } else {
                set_closed(st, t, if err == 0 { libc::ECONNREFUSED } else { err });
            }
            return 1;
        }
        return 0;
    }
    let mut progress = 0;
    if ev & (libc::EPOLLIN | libc::EPOLLRDHUP) as u32 | errish != 0 && !t.eof {
        progress += do_read(st, t);
    }
    if t.state != CLOSED && ev & libc::EPOLLERR as u32 != 0 {
        let err = util::getsockopt_int(&t.fd, libc::SOL_SOCKET, libc::SO_ERROR)
            .unwrap_or(libc::ECONNRESET);
        if err != 0 {
            let err = if t.eof && err == libc::ECONNRESET {
                libc::EPIPE
            } else {
                err
            };
            set_closed(st, t, err);
            progress += 1;
        }
    }
    if t.state != CLOSED && t.eof && !t.shut_wr && ev & libc::EPOLLHUP as u32 != 0 {
        // Both directions are finished although this side never shut down: the connection
        // was reset after its end of stream was read (or after a call took the kernel's
        // report of the reset, so that reading saw only an end of stream).
        let err = match util::getsockopt_int(&t.fd, libc::SOL_SOCKET, libc::SO_ERROR) {
            Ok(e) if e != 0 => e,
            _ => libc::ECONNRESET,
        };
        set_closed(st, t, err);
        progress += 1;
    }
    if ev & libc::EPOLLOUT as u32 != 0 && t.tx_blocked {
        if send_space(t) > 0 {
            t.tx_blocked = false;
            t.w.pending |= libc::EPOLLOUT as u32;
            progress += 1;
        } else {
            // The kernel has room, the backend's queue has not.
            wait_for_space(st, t);
        }
    }
    if t.eof && t.shut_wr && t.state != CLOSED {
        st.timer_work = true;
    }
    update_interest(st, t);
    progress
}

/// Accepts queued connections of a listening zocket.
pub(crate) fn on_listen_event(st: &mut Stack, l: &mut Listen) -> c_int {
    let mut progress = 0;
    let stp: *mut Stack = st;
    for _ in 0..64 {
        let mut peer = util::sin_any();
        let mut plen = size_of::<SockIn>() as libc::socklen_t;
        // SAFETY: out pointers are valid for the sizes given.
        // The new descriptor is owned by its `OwnedFd` from here on.
        let fd = match util::owned(unsafe {
            libc::accept4(
                l.fd.as_raw_fd(),
                (&mut peer as *mut SockIn).cast(),
                &mut plen,
                libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            )
        }) {
            Ok(fd) => fd,
            Err(_) => break,
        };
        if l.user_freed || st.tcps.len() >= st.max_tcp || tune_socket(&fd) < 0 {
            // Refused: the peer sees a reset when `fd` drops.
            let _ = util::reset_on_close(&fd);
            continue;
        }
        let laddr = util::sockname(&fd, false).unwrap_or(l.laddr);
        let mut t = Tcp::new(stp, fd);
        t.initialised = true;
        t.bound = true;
        t.raddr = peer;
        t.laddr = laddr;
        t.listener = l;
        let tp = Box::into_raw(t);
        // SAFETY: just created; uniquely owned by the stack's list from here.
        let t = unsafe { &mut *tp };
        set_established(st, t);
        st.tcps.push(tp);
        l.children += 1;
        l.acceptq.push_back(tp);
        l.w.pending |= libc::EPOLLIN as u32;
        progress += 1;
    }
    progress
}

/// Whether `t` keeps the stack from being quiescent.
pub(crate) fn is_quiet(st: &Stack, t: &Tcp) -> bool {
    if !t.initialised {
        return true;
    }
    match t.state {
        CLOSED => true,
        TIME_WAIT => !st.wait_time_wait,
        _ => false,
    }
}

/// Frees a Tcp object for good: unlists it, closes its fd (if still open), leaves its muxer
/// and returns its buffers to the pool.
///
/// # Safety
///
/// `tp` must be a live zocket of `st` (listed in `st.tcps`); it is freed here, so no reference to
/// it may be used afterwards.
unsafe fn destroy(st: &mut Stack, tp: *mut Tcp) {
    st.tcps.retain(|&x| x != tp);
    for a in st.alts.iter_mut() {
        if a.tcp == tp {
            a.clear();
        }
    }
    // SAFETY: `tp` is a live Tcp that is now unlisted; freed exactly once here.
    let mut t = unsafe { Box::from_raw(tp) };
    if t.ep_reg {
        util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &t.fd, 0, 0);
    }
    super::muxer::detach(st, &mut t.w);
    for b in t.rxq.drain(..) {
        st.put_buf(b.buf);
    }
}

/// Timer processing: closing handshakes, TIME_WAIT, and connections the application freed.
pub(crate) fn run_timers(st: &mut Stack) -> c_int {
    let now = util::mono_ns();
    let mut progress = 0;
    let mut more = false;
    for tp in st.tcps.clone() {
        // SAFETY: every pointer in `tcps` is a live Tcp owned by this stack.
        let t = unsafe { &mut *tp };
        if t.user_freed {
            if linger_step(st, t, now) {
                // SAFETY: a zocket of this stack, not used after this.
                unsafe { destroy(st, tp) };
            } else {
                more = true;
            }
            continue;
        }
        if t.connecting && t.connect_error != 0 {
            let e = t.connect_error;
            set_closed(st, t, e);
            progress += 1;
            continue;
        }
        if t.space_wait {
            if !t.tx_blocked || !t.can_send() {
                t.space_wait = false;
            } else if send_space(t) > 0 {
                t.space_wait = false;
                t.tx_blocked = false;
                t.w.pending |= libc::EPOLLOUT as u32;
                update_interest(st, t);
                progress += 1;
            } else {
                more = true;
            }
        }
        match t.state {
            FIN_WAIT1 | FIN_WAIT2 | CLOSING | LAST_ACK => {
                let k = util::tcp_info_state(&t.fd).map(c_int::from);
                if matches!(
                    k,
                    Some(TIME_WAIT) | Some(CLOSING) | Some(7) | Some(CLOSE_WAIT) | Some(LAST_ACK)
                ) && !t.eof
                {
                    progress += do_read(st, t);
                }
                let before = t.state;
                match (t.state, k) {
                    (FIN_WAIT1, Some(FIN_WAIT2)) => t.state = FIN_WAIT2,
                    // A socket the application still holds reports CLOSE once its TIME_WAIT
                    // has been handed to the kernel's timewait table.
                    (FIN_WAIT1 | CLOSING | FIN_WAIT2, Some(TIME_WAIT | 7)) if t.eof => {
                        t.state = TIME_WAIT;
                        t.deadline = now + st.timewait_ns;
                    }
                    (LAST_ACK, Some(7)) => {
                        set_closed(st, t, 0);
                    }
                    (_, None) => set_closed(st, t, 0),
                    _ => {}
                }
                if t.state != before {
                    t.w.pending |= libc::EPOLLHUP as u32;
                    progress += 1;
                }
                if t.state != CLOSED {
                    more = true;
                }
            }
            TIME_WAIT => {
                if now >= t.deadline {
                    set_closed(st, t, 0);
                    progress += 1;
                } else {
                    more = true;
                }
            }
            _ => {}
        }
    }
    st.timer_work = more;
    progress
}

/// One step of a connection the application has freed; true when it is finished.
fn linger_step(st: &mut Stack, t: &mut Tcp, now: u64) -> bool {
    // Discard anything the peer still sends so that the final close is orderly.
    loop {
        // SAFETY: the scratch buffer is writable for its length.
        let n = unsafe {
            libc::recv(
                t.fd.as_raw_fd(),
                st.scratch.as_mut_ptr().cast(),
                st.scratch.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if n <= 0 {
            break;
        }
    }
    match util::tcp_info_state(&t.fd).map(c_int::from) {
        None | Some(7) => true,
        Some(TIME_WAIT) => !st.wait_time_wait || now >= t.deadline,
        Some(FIN_WAIT2) => st.finwait_ns == 0 || now >= t.deadline,
        _ => now >= t.deadline,
    }
}

/// Options every TCP socket of the backend needs: no Nagle delay (TCPDirect sends at once),
/// and a send buffer that keeps `zft_send_space`'s promise. 0 or the `-errno` of a refusal.
fn tune_socket(fd: &OwnedFd) -> c_int {
    let rc = util::setsockopt_int(fd, libc::IPPROTO_TCP, libc::TCP_NODELAY, 1);
    if rc < 0 {
        return rc;
    }
    util::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, SNDBUF as c_int)
}

/// The Tcp behind a `zft` pointer.
///
/// # Safety
///
/// `p` must be null or a live zocket/handle of this backend.
pub(crate) unsafe fn tcp_mut<'a>(p: *mut crate::zft) -> Option<&'a mut Tcp> {
    // SAFETY: per the caller.
    unsafe { p.cast::<Tcp>().as_mut() }
}

/// The Tcp and its stack.
///
/// # Safety
///
/// As [`tcp_mut`]; the stack must be live (zockets never outlive it).
pub(crate) unsafe fn with_stack<'a>(p: *mut crate::zft) -> Option<(&'a mut Stack, &'a mut Tcp)> {
    // SAFETY: per the caller.
    let t = unsafe { tcp_mut(p) }?;
    // SAFETY: a live zocket's stack is live; Stack and Tcp are separate allocations.
    let st = unsafe { &mut *t.stack };
    Some((st, t))
}

// ------------------------------------------------------------------------------------------
// Passive open
// ------------------------------------------------------------------------------------------

/// Listens on a single local address (not INADDR_ANY).
///
/// # Safety
///
/// * `st` must be null or a live stack;
/// * `laddr` must be null or readable for `laddrlen` bytes;
/// * `tl_out` must be null or writable for one `*mut zftl`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zftl_listen(
    st: *mut crate::zf_stack,
    laddr: *const crate::sockaddr,
    laddrlen: crate::socklen_t,
    _attr: *const crate::zf_attr,
    tl_out: *mut *mut crate::zftl,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(s) = (unsafe { super::stack::stack_mut(st) }) else {
        return -libc::EINVAL;
    };
    if tl_out.is_null() {
        return -libc::EFAULT;
    }
    // SAFETY: the application's address buffer of `laddrlen` bytes.
    let la = match unsafe { util::read_sin(laddr, laddrlen) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    if la.sin_addr.s_addr == 0 {
        return -libc::EOPNOTSUPP;
    }
    let live = s.listeners.iter().filter(|&&l| {
        // SAFETY: listeners in the list are live.
        !unsafe { &*l }.user_freed
    });
    if live.count() >= s.max_listen {
        return -libc::ENOBUFS;
    }
    // A freed listener whose accepted zockets live on still owns its address.
    let taken = s.listeners.iter().any(|&l| {
        // SAFETY: listeners in the list are live.
        let l = unsafe { &*l };
        la.sin_port != 0
            && l.laddr.sin_port == la.sin_port
            && l.laddr.sin_addr.s_addr == la.sin_addr.s_addr
    });
    if taken {
        return -libc::EADDRINUSE;
    }
    let fd = match util::socket(libc::SOCK_STREAM) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    // Like a NIC-backed stack, the listener may reuse a port that connections in TIME_WAIT
    // still hold.
    let rc = util::setsockopt_int(&fd, libc::SOL_SOCKET, libc::SO_REUSEADDR, 1);
    if rc < 0 {
        return rc;
    }
    let rc = util::bind(&fd, &la);
    if rc < 0 {
        return rc;
    }
    // SAFETY: plain system call on our socket.
    if unsafe { libc::listen(fd.as_raw_fd(), s.backlog) } < 0 {
        return -util::errno();
    }
    let laddr = util::sockname(&fd, false).unwrap_or(la);
    let stp: *mut Stack = s;
    let mut l = Box::new(Listen {
        w: Waitable::new(stp, Kind::Listen),
        stack: stp,
        fd,
        laddr,
        acceptq: VecDeque::new(),
        children: 0,
        user_freed: false,
    });
    let lp: *mut Listen = &mut *l;
    l.w.owner = lp.cast();
    let rc = util::epoll_ctl(
        &s.epfd,
        libc::EPOLL_CTL_ADD,
        &l.fd,
        libc::EPOLLIN as u32,
        lp as u64 | TAG_LISTEN,
    );
    if rc < 0 {
        // Dropping the listener closes its descriptor.
        return rc;
    }
    let lp = Box::into_raw(l);
    s.listeners.push(lp);
    // SAFETY: non-null out pointer.
    unsafe { *tl_out = lp.cast() };
    0
}

/// Takes the next established connection, or `-EAGAIN`.
///
/// # Safety
///
/// * `tl` must be null or a live listening zocket;
/// * `ts_out` must be null or writable for one `*mut zft`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zftl_accept(tl: *mut crate::zftl, ts_out: *mut *mut crate::zft) -> c_int {
    // SAFETY: a live listener per the API contract.
    let Some(l) = (unsafe { tl.cast::<Listen>().as_mut() }) else {
        return -libc::EINVAL;
    };
    if ts_out.is_null() {
        return -libc::EFAULT;
    }
    let Some(t) = l.acceptq.pop_front() else {
        return -libc::EAGAIN;
    };
    if !l.acceptq.is_empty() {
        // More connections wait: each is news of its own, as each completed handshake is in
        // TCPDirect. Report the listener again and make `zf_stack_has_pending_work` say so,
        // or an application that accepts one connection per event (and polls only when
        // there is work) would leave the rest unaccepted.
        l.w.pending |= libc::EPOLLIN as u32;
        // SAFETY: a live listener's stack is live; separate allocation.
        unsafe { &*l.stack }.wake();
    }
    // SAFETY: non-null out pointer.
    unsafe { *ts_out = t.cast() };
    0
}

/// The listener's waitable (EPOLLIN when a connection can be accepted).
///
/// # Safety
///
/// `tl` must be null or a live listening zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zftl_to_waitable(tl: *mut crate::zftl) -> *mut crate::zf_waitable {
    // SAFETY: a live listener per the API contract.
    waitable_handle(unsafe { tl.cast::<Listen>().as_mut() }.map(|l| &mut *l.w))
}

/// The listener's local address.
///
/// # Safety
///
/// * `tl` must be null or a live listening zocket;
/// * `laddrlen` must be null or readable and writable, and `laddr_out` null or writable for
///   `*laddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zftl_getname(
    tl: *mut crate::zftl,
    laddr_out: *mut crate::sockaddr,
    laddrlen: *mut crate::socklen_t,
) {
    // SAFETY: a live listener per the API contract.
    if let Some(l) = unsafe { tl.cast::<Listen>().as_mut() } {
        // SAFETY: application buffers per the API contract.
        unsafe { util::write_sin(laddr_out, laddrlen, &l.laddr) };
    }
}

/// Drops a listener that no longer has accepted zockets alive.
///
/// # Safety
///
/// `lp` must be a live listener of `st` (listed in `st.listeners`), with no reference to it in use;
/// it may be freed here.
pub(crate) unsafe fn listener_release(st: &mut Stack, lp: *mut Listen) {
    // SAFETY: `lp` is a live listener of this stack.
    let l = unsafe { &mut *lp };
    if l.user_freed && l.children == 0 {
        st.listeners.retain(|&x| x != lp);
        // SAFETY: unlisted now; freed exactly once.
        let mut l = unsafe { Box::from_raw(lp) };
        super::muxer::detach(st, &mut l.w);
        // Dropping `l` closes its socket.
    }
}

/// Stops listening; connections not yet accepted are reset. The port stays reserved until the
/// accepted zockets are freed.
///
/// # Safety
///
/// `tl` must be null or a live listening zocket; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zftl_free(tl: *mut crate::zftl) -> c_int {
    let lp = tl.cast::<Listen>();
    // SAFETY: a live listener per the API contract.
    let Some(l) = (unsafe { lp.as_mut() }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live listener's stack is live; separate allocation.
    let st = unsafe { &mut *l.stack };
    super::muxer::detach(st, &mut l.w);
    util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &l.fd, 0, 0);
    l.user_freed = true;
    for tp in std::mem::take(&mut l.acceptq) {
        // SAFETY: queued zockets are live and have not been handed to the application.
        let t = unsafe { &mut *tp };
        util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &t.fd, 0, 0);
        t.ep_reg = false;
        let _ = util::reset_on_close(&t.fd);
        l.children -= 1;
        // SAFETY: a zocket of this stack, not used after this; its socket closes (with a
        // reset) as it drops.
        unsafe { destroy(st, tp) };
    }
    // Keep the port bound (but refusing connections) while accepted zockets live.
    let _ = util::disconnect(&l.fd);
    // SAFETY: a listener of this stack, no reference to it used after this.
    unsafe { listener_release(st, lp) };
    0
}

// ------------------------------------------------------------------------------------------
// Active open
// ------------------------------------------------------------------------------------------

/// The TCP zocket's waitable.
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_to_waitable(ts: *mut crate::zft) -> *mut crate::zf_waitable {
    // SAFETY: a live zocket per the API contract.
    waitable_handle(unsafe { tcp_mut(ts) }.map(|t| &mut *t.w))
}

/// Allocates an unconnected TCP zocket handle (`-ENOBUFS` when the stack has no room).
///
/// # Safety
///
/// * `st` must be null or a live stack;
/// * `handle_out` must be null or writable for one `*mut zft_handle`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_alloc(
    st: *mut crate::zf_stack,
    _attr: *const crate::zf_attr,
    handle_out: *mut *mut crate::zft_handle,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(s) = (unsafe { super::stack::stack_mut(st) }) else {
        return -libc::EINVAL;
    };
    if handle_out.is_null() {
        return -libc::EFAULT;
    }
    if s.rx_disabled || s.tx_disabled {
        return -libc::EINVAL;
    }
    if s.tcps.len() >= s.max_tcp {
        return -libc::ENOBUFS;
    }
    let fd = match util::socket(libc::SOCK_STREAM) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    let rc = tune_socket(&fd);
    if rc < 0 {
        return rc;
    }
    let tp = Box::into_raw(Tcp::new(s, fd));
    s.tcps.push(tp);
    // SAFETY: non-null out pointer.
    unsafe { *handle_out = tp.cast() };
    0
}

/// Frees a handle that was never connected.
///
/// # Safety
///
/// `handle` must be null or a live TCP handle, not yet connected; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_handle_free(handle: *mut crate::zft_handle) -> c_int {
    // SAFETY: forwarded; a handle and a zocket are the same object.
    unsafe { zft_free(handle.cast()) }
}

/// The handle's bound local address.
///
/// # Safety
///
/// * `ts` must be null or a live TCP handle, not yet connected;
/// * `laddrlen` must be null or readable and writable, and `laddr_out` null or writable for
///   `*laddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_handle_getname(
    ts: *mut crate::zft_handle,
    laddr_out: *mut crate::sockaddr,
    laddrlen: *mut crate::socklen_t,
) {
    // SAFETY: a live handle per the API contract.
    if let Some(t) = unsafe { tcp_mut(ts.cast()) } {
        // SAFETY: application buffers per the API contract.
        unsafe { util::write_sin(laddr_out, laddrlen, &t.laddr) };
    }
}

/// Binds the handle to a local address (port 0: an ephemeral port).
///
/// # Safety
///
/// * `handle` must be null or a live TCP handle, not yet connected;
/// * `laddr` must be null or readable for `laddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_addr_bind(
    handle: *mut crate::zft_handle,
    laddr: *const crate::sockaddr,
    laddrlen: crate::socklen_t,
    flags: c_int,
) -> c_int {
    // SAFETY: a live handle per the API contract.
    let Some(t) = (unsafe { tcp_mut(handle.cast()) }) else {
        return -libc::EINVAL;
    };
    if flags != 0 || t.bound || t.initialised {
        return -libc::EINVAL;
    }
    // SAFETY: the application's address buffer.
    let la = match unsafe { util::read_sin(laddr, laddrlen) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    let rc = util::bind(&t.fd, &la);
    if rc < 0 {
        return rc;
    }
    t.bound = true;
    t.laddr = util::sockname(&t.fd, false).unwrap_or(la);
    0
}

/// Starts connecting; the zocket is returned in SYN_SENT and completes in the reactor.
///
/// # Safety
///
/// * `handle` must be null or a live TCP handle, not yet connected;
/// * `raddr` must be null or readable for `raddrlen` bytes;
/// * `ts_out` must be null or writable for one `*mut zft`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_connect(
    handle: *mut crate::zft_handle,
    raddr: *const crate::sockaddr,
    raddrlen: crate::socklen_t,
    ts_out: *mut *mut crate::zft,
) -> c_int {
    // SAFETY: a live handle per the API contract.
    let Some((st, t)) = (unsafe { with_stack(handle.cast()) }) else {
        return -libc::EINVAL;
    };
    if ts_out.is_null() {
        return -libc::EFAULT;
    }
    if t.initialised {
        return -libc::EINVAL;
    }
    // SAFETY: the application's address buffer.
    let ra = match unsafe { util::read_sin(raddr, raddrlen) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    if ra.sin_addr.s_addr == 0 || ra.sin_port == 0 || util::ip_is_multicast(util::sin_ip(&ra)) {
        return -libc::EINVAL;
    }
    let rc = util::connect(&t.fd, &ra);
    let mut deferred = 0;
    match -rc {
        0 | libc::EINPROGRESS => {}
        libc::ECONNREFUSED => deferred = libc::ECONNREFUSED,
        libc::ENETUNREACH | libc::EHOSTUNREACH => return -libc::EHOSTUNREACH,
        libc::EADDRINUSE | libc::EADDRNOTAVAIL => return -libc::EADDRINUSE,
        e => return -e,
    }
    t.raddr = ra;
    t.laddr = util::sockname(&t.fd, false).unwrap_or(t.laddr);
    t.bound = true;
    t.initialised = true;
    t.state = SYN_SENT;
    t.connecting = true;
    t.connect_error = deferred;
    if deferred != 0 {
        st.timer_work = true;
    }
    update_interest(st, t);
    // SAFETY: non-null out pointer.
    unsafe { *ts_out = handle.cast() };
    0
}

/// Sends FIN after the queued data (`-ENOTCONN` when not connected or already shut down).
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_shutdown_tx(ts: *mut crate::zft) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -libc::EINVAL;
    };
    if t.ds_reserved > 0 {
        return -libc::EBUSY;
    }
    if !t.initialised || !t.can_send() {
        return -libc::ENOTCONN;
    }
    // SAFETY: plain system call on our socket.
    if unsafe { libc::shutdown(t.fd.as_raw_fd(), libc::SHUT_WR) } < 0 {
        return -libc::ENOTCONN;
    }
    t.shut_wr = true;
    t.state = if t.state == CLOSE_WAIT {
        LAST_ACK
    } else {
        FIN_WAIT1
    };
    if st.tx_ts {
        t.add_report(t.tx_bytes, 0, crate::ZF_PKT_REPORT_TCP_FIN as u16);
    }
    st.timer_work = true;
    update_interest(st, t);
    0
}

/// Releases the zocket: unread data → reset; otherwise an orderly close that carries on in
/// the stack (see `zf_stack_is_quiescent`).
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_free(ts: *mut crate::zft) -> c_int {
    let tp = ts.cast::<Tcp>();
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -libc::EINVAL;
    };
    super::muxer::detach(st, &mut t.w);
    if !t.initialised {
        // SAFETY: a zocket of this stack, not used after this.
        unsafe { destroy(st, tp) };
        return 0;
    }
    let lp = t.listener;
    t.listener = std::ptr::null_mut();
    let unread = t.rx_bytes > 0 || util::ioctl_int(&t.fd, libc::FIONREAD).unwrap_or(0) > 0;
    if t.state == CLOSED || t.state == SYN_SENT || t.state == TIME_WAIT {
        // SAFETY: a zocket of this stack, not used after this.
        unsafe { destroy(st, tp) };
    } else if unread || t.ds_reserved > 0 {
        if t.ep_reg {
            util::epoll_ctl(&st.epfd, libc::EPOLL_CTL_DEL, &t.fd, 0, 0);
            t.ep_reg = false;
        }
        let _ = util::reset_on_close(&t.fd);
        // SAFETY: a zocket of this stack, not used after this; its socket closes (with a
        // reset) as it drops.
        unsafe { destroy(st, tp) };
    } else {
        if !t.shut_wr {
            // SAFETY: plain system call on our socket.
            unsafe { libc::shutdown(t.fd.as_raw_fd(), libc::SHUT_WR) };
            t.shut_wr = true;
        }
        t.user_freed = true;
        t.deadline = util::mono_ns() + st.finwait_ns.max(st.timewait_ns).max(1_000_000_000);
        for b in t.rxq.drain(..) {
            st.put_buf(b.buf);
        }
        t.rx_bytes = 0;
        update_interest(st, t);
        st.timer_work = true;
    }
    if !lp.is_null() {
        // SAFETY: a listener outlives its accepted zockets.
        let l = unsafe { &mut *lp };
        l.children = l.children.saturating_sub(1);
        // SAFETY: a listener of this stack, no reference to it used after this.
        unsafe { listener_release(st, lp) };
    }
    0
}

/// TCP state (`TCP_*` numbers of netinet/tcp.h).
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_state(ts: *mut crate::zft) -> c_int {
    // SAFETY: a live zocket per the API contract.
    unsafe { tcp_mut(ts) }.map_or(CLOSED, |t| t.state)
}

/// Pending error, like SO_ERROR (ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE) or 0.
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_error(ts: *mut crate::zft) -> c_int {
    // SAFETY: a live zocket per the API contract.
    unsafe { tcp_mut(ts) }.map_or(0, |t| t.error)
}

/// Local and/or remote address of the connection (either output may be null).
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `laddrlen` must be null or readable and writable, and `laddr_out` null or writable for
///   `*laddrlen` bytes;
/// * `raddrlen` must be null or readable and writable, and `raddr_out` null or writable for
///   `*raddrlen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_getname(
    ts: *mut crate::zft,
    laddr_out: *mut crate::sockaddr,
    laddrlen: *mut crate::socklen_t,
    raddr_out: *mut crate::sockaddr,
    raddrlen: *mut crate::socklen_t,
) {
    // SAFETY: a live zocket per the API contract.
    if let Some(t) = unsafe { tcp_mut(ts) } {
        // SAFETY: application buffers per the API contract.
        unsafe {
            util::write_sin(laddr_out, laddrlen, &t.laddr);
            util::write_sin(raddr_out, raddrlen, &t.raddr);
        }
    }
}

// ------------------------------------------------------------------------------------------
// Receive
// ------------------------------------------------------------------------------------------

/// Pointer to the iovec array that follows a message header.
///
/// # Safety
///
/// `msg` must be valid; the array is the caller's.
unsafe fn msg_iov(msg: *mut crate::zft_msg) -> *mut crate::iovec {
    // SAFETY: computing a field address of a valid pointer.
    unsafe { std::ptr::addr_of_mut!((*msg).iov).cast::<crate::iovec>() }
}

/// Zero-copy receive: fills `msg->iov` with the queued buffers (a final zero-length one at end
/// of stream). The buffers stay valid until `zft_zc_recv_done(_some)`. With
/// `ZF_OVERLAPPED_WAIT` or `ZF_OVERLAPPED_COMPLETE`, the steps of an overlapped receive (see
/// [`overlapped_recv`]).
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `msg` must be null or a message with room after it for `iovcnt` iovecs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_zc_recv(ts: *mut crate::zft, msg: *mut crate::zft_msg, flags: c_int) {
    if msg.is_null() {
        return;
    }
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        // SAFETY: valid msg.
        unsafe { (*msg).iovcnt = 0 };
        return;
    };
    // SAFETY: `msg` is valid and followed by `iovcnt` iovecs, per the API contract.
    let mut cap = unsafe { (*msg).iovcnt }.max(0) as usize;
    if flags != 0 {
        // SAFETY: as above.
        match unsafe { overlapped_recv(t, msg, flags) } {
            Some(c) => cap = c,
            None => return,
        }
    }
    let n = cap.min(t.rxq.len());
    // SAFETY: as above.
    let iov = unsafe { msg_iov(msg) };
    for (i, b) in t.rxq.iter_mut().take(n).enumerate() {
        // SAFETY: i < iovcnt entries provided by the caller.
        unsafe {
            *iov.add(i) = crate::iovec {
                iov_base: b.buf.as_mut_ptr().add(b.off).cast::<c_void>(),
                iov_len: b.len,
            };
        }
    }
    t.release_n = n;
    // SAFETY: valid msg.
    unsafe {
        (*msg).iovcnt = n as c_int;
        (*msg).pkts_left = (t.rxq.len() - n) as c_int;
    }
}

/// The overlapped steps of `zft_zc_recv`, for the packet the muxer reported with
/// `ZF_EPOLLIN_OVERLAPPED` (the zocket's only queued buffer; see `soft/mod.rs`):
///
/// * `ZF_OVERLAPPED_WAIT`: `iov[0]` gets the first `iov[0].iov_len` bytes of the payload (all
///   of it, if shorter), `iovcnt` 1; nothing is held, and the step may be repeated;
/// * `ZF_OVERLAPPED_COMPLETE`: the packet has arrived (the backend's always arrive whole and
///   good), so the overlapped receive ends and the call goes on as a plain zero-copy receive
///   of that one packet (returns `Some(1)`, the room to fill).
///
/// Without such a packet (no `ZF_EPOLLIN_OVERLAPPED` reported for this zocket, or the muxer
/// has been waited on since: the packet was then reported as plain `EPOLLIN`), or with other
/// flags, `iovcnt` is 0: "abandoned" for a wait, "nothing to release" for a completion; the
/// data stays queued for a plain receive.
///
/// # Safety
///
/// `msg` must be a message with room after it for `iovcnt` iovecs.
#[cold]
unsafe fn overlapped_recv(t: &mut Tcp, msg: *mut crate::zft_msg, flags: c_int) -> Option<usize> {
    use super::muxer::{OverlappedStep, overlapped_step};
    // SAFETY: valid msg per the caller.
    let holds_it = unsafe { (*msg).iovcnt } >= 1 && t.overlapped_candidate();
    match overlapped_step(&mut t.w, flags, holds_it) {
        OverlappedStep::Complete => return Some(1),
        OverlappedStep::Wait => {
            if let Some(b) = t.rxq.front_mut() {
                // SAFETY: the caller's message has at least one iovec (checked above); the
                // buffer is the zocket's, valid until it is consumed.
                unsafe {
                    let iov = msg_iov(msg);
                    *iov = crate::iovec {
                        iov_base: b.buf.as_mut_ptr().add(b.off).cast::<c_void>(),
                        iov_len: (*iov).iov_len.min(b.len),
                    };
                    (*msg).iovcnt = 1;
                }
                return None;
            }
        }
        OverlappedStep::Nothing => {}
    }
    // SAFETY: valid msg per the caller.
    unsafe { (*msg).iovcnt = 0 };
    None
}

/// Consumes `len` bytes of the buffers handed out (the EOF marker is never consumed). Returns
/// what `zft_zc_recv_done` returns.
fn recv_done(st: &mut Stack, t: &mut Tcp, mut len: usize, count: usize) -> c_int {
    let count = count.min(t.release_n).min(t.rxq.len());
    t.release_n = 0;
    let mut eof = false;
    let mut i = 0;
    while i < count {
        let Some(b) = t.rxq.front_mut() else { break };
        if b.len == 0 {
            eof = true;
            break;
        }
        if len >= b.len {
            len -= b.len;
            t.rx_bytes -= b.len;
            if let Some(b) = t.rxq.pop_front() {
                st.put_buf(b.buf);
            }
            i += 1;
        } else {
            b.off += len;
            b.len -= len;
            t.rx_bytes -= len;
            break;
        }
    }
    if !eof && i < count && t.rxq.front().is_some_and(|b| b.len == 0) && len == 0 {
        eof = true;
    }
    if t.rx_bytes < RX_LIMIT && !t.eof {
        update_interest(st, t);
    }
    if eof {
        if t.state == CLOSED { -t.error } else { 0 }
    } else {
        1
    }
}

/// Releases all buffers of the last `zft_zc_recv`.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `msg` must be null or the message the last zero-copy receive on this zocket filled in.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_zc_recv_done(ts: *mut crate::zft, msg: *mut crate::zft_msg) -> c_int {
    // SAFETY: the same contract; no limit releases all the message holds.
    unsafe { zft_zc_recv_done_some(ts, msg, usize::MAX) }
}

/// Releases the first `len` bytes of the last `zft_zc_recv`; the rest is returned again.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `msg` must be null or the message the last zero-copy receive on this zocket filled in.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_zc_recv_done_some(
    ts: *mut crate::zft,
    msg: *mut crate::zft_msg,
    len: usize,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -libc::EINVAL;
    };
    if msg.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `msg` as filled by zft_zc_recv.
    let n = unsafe { (*msg).iovcnt }.max(0) as usize;
    let n = n.min(t.release_n);
    let total: usize = t.rxq.iter().take(n).map(|b| b.len).sum();
    recv_done(st, t, len.min(total), n)
}

/// Copying receive: bytes copied, 0 at end of stream, `-EAGAIN` when nothing is queued, or
/// the connection's error.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `iov` must be null or an array of `iovcnt` iovecs, each naming memory writable for its
///   `iov_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_recv(
    ts: *mut crate::zft,
    iov: *const crate::iovec,
    iovcnt: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -libc::EINVAL;
    };
    if iov.is_null() || iovcnt <= 0 || flags != 0 {
        return -libc::EINVAL;
    }
    if t.rxq.is_empty() {
        return -libc::EAGAIN;
    }
    let mut copied = 0usize;
    let mut eof = false;
    'outer: for i in 0..iovcnt as usize {
        // SAFETY: `iov` has `iovcnt` entries per the API contract.
        let d = unsafe { *iov.add(i) };
        let mut doff = 0usize;
        while doff < d.iov_len {
            let Some(b) = t.rxq.front_mut() else {
                break 'outer;
            };
            if b.len == 0 {
                eof = true;
                break 'outer;
            }
            let n = b.len.min(d.iov_len - doff);
            // SAFETY: source is n readable bytes of our buffer; destination is the caller's
            // buffer with at least n bytes left.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    b.buf.as_ptr().add(b.off),
                    d.iov_base.cast::<u8>().add(doff),
                    n,
                );
            }
            b.off += n;
            b.len -= n;
            doff += n;
            copied += n;
            t.rx_bytes -= n;
            if b.len == 0 {
                if let Some(b) = t.rxq.pop_front() {
                    st.put_buf(b.buf);
                }
            }
        }
    }
    if !eof && t.rxq.front().is_some_and(|b| b.len == 0) {
        eof = true;
    }
    t.release_n = 0;
    if !t.eof && t.rx_bytes < RX_LIMIT {
        update_interest(st, t);
    }
    if copied > 0 {
        copied.min(c_int::MAX as usize) as c_int
    } else if eof && t.state == CLOSED && t.error != 0 {
        -t.error
    } else {
        0
    }
}

/// Receive timestamp of a packet from the last `zft_zc_recv` (needs `rx_timestamping`).
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `msg` must be null or the message the last zero-copy receive on this zocket filled in;
/// * `ts_out` must be null or writable for one `timespec`;
/// * `flags` must be null or writable for one `c_uint`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_pkt_get_timestamp(
    ts: *mut crate::zft,
    msg: *const crate::zft_msg,
    ts_out: *mut crate::timespec,
    pktind: c_int,
    flags: *mut c_uint,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    if msg.is_null() || ts_out.is_null() || pktind < 0 || pktind as usize >= t.release_n {
        return -libc::EINVAL;
    }
    let Some(b) = t.rxq.get(pktind as usize) else {
        return -libc::EINVAL;
    };
    if b.ts.tv_sec == 0 && b.ts.tv_nsec == 0 {
        return -libc::ENODATA;
    }
    // SAFETY: non-null out pointers.
    unsafe {
        *ts_out = crate::timespec {
            tv_sec: b.ts.tv_sec,
            tv_nsec: b.ts.tv_nsec,
        };
        if !flags.is_null() {
            *flags = crate::ZF_PKT_REPORT_CLOCK_SET | crate::ZF_PKT_REPORT_IN_SYNC;
        }
    }
    0
}

// ------------------------------------------------------------------------------------------
// Send
// ------------------------------------------------------------------------------------------

/// Sends through the kernel socket; shared by the send calls.
pub(crate) fn send_iov(st: &mut Stack, t: &mut Tcp, iov: &[libc::iovec], flags: c_int) -> isize {
    if t.ds_reserved > 0 {
        return -(libc::EBUSY as isize);
    }
    if t.initialised && t.state == SYN_SENT {
        // As in TCPDirect: the connection is on its way, the data can go once it is up.
        return -(libc::EAGAIN as isize);
    }
    if !t.initialised || !t.can_send() {
        return -(libc::ENOTCONN as isize);
    }
    let mut total: usize = iov.iter().map(|v| v.iov_len).sum();
    // Large sends are limited to the free send-queue space (as zft_send_space reports it), so
    // that a send of at most that much is always accepted whole. Small sends skip the query.
    let mut trimmed: Vec<libc::iovec> = Vec::new();
    let mut iov = iov;
    if total > SMALL_SEND {
        let space = send_space(t);
        if space == 0 {
            t.tx_blocked = true;
            wait_for_space(st, t);
            return -(libc::EAGAIN as isize);
        }
        if space < total {
            let mut left = space;
            for v in iov {
                if left == 0 {
                    break;
                }
                let n = v.iov_len.min(left);
                trimmed.push(libc::iovec {
                    iov_base: v.iov_base,
                    iov_len: n,
                });
                left -= n;
            }
            iov = &trimmed;
            total = space;
        }
    }
    // SAFETY: msghdr is plain old data.
    let mut mh: libc::msghdr = unsafe { std::mem::zeroed() };
    mh.msg_iov = iov.as_ptr().cast_mut();
    mh.msg_iovlen = iov.len();
    // SAFETY: the iovecs describe the caller's readable buffers.
    let n = unsafe {
        libc::sendmsg(
            t.fd.as_raw_fd(),
            &mh,
            libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL | (flags & libc::MSG_MORE),
        )
    };
    if n < 0 {
        let e = util::errno();
        return match e {
            libc::EAGAIN | libc::ENOBUFS => {
                t.tx_blocked = true;
                update_interest(st, t);
                -(libc::EAGAIN as isize)
            }
            libc::EMSGSIZE | libc::EINVAL => -(libc::EINVAL as isize),
            libc::ECONNRESET | libc::EPIPE => {
                // The peer reset the connection and this call took the kernel's report of it
                // (EPIPE: an earlier call did, and the kernel's read side may now look like
                // an orderly end of stream): record it, as the reactor would have.
                let err = if t.eof && e == libc::EPIPE {
                    libc::EPIPE
                } else {
                    libc::ECONNRESET
                };
                set_closed(st, t, err);
                -(libc::ENOTCONN as isize)
            }
            _ => -(libc::ENOTCONN as isize),
        };
    }
    let n = n as usize;
    if st.tx_ts && n > 0 {
        t.add_report(t.tx_bytes, n, 0);
    }
    t.tx_bytes += n as u64;
    if n < total {
        t.tx_blocked = true;
        update_interest(st, t);
    }
    n as isize
}

/// Sends the data of `iov` (flags 0 or MSG_MORE); may accept only part of it.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `iov` must be null or an array of `iov_cnt` iovecs, each naming memory readable for its
///   `iov_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_send(
    ts: *mut crate::zft,
    iov: *const crate::iovec,
    iov_cnt: c_int,
    flags: c_int,
) -> isize {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -(libc::EINVAL as isize);
    };
    if iov.is_null() || iov_cnt <= 0 || iov_cnt > 1024 || flags & !libc::MSG_MORE != 0 {
        return -(libc::EINVAL as isize);
    }
    // SAFETY: `iov` has `iov_cnt` entries; crate::iovec and libc::iovec have the same layout.
    let v = unsafe { std::slice::from_raw_parts(iov.cast::<libc::iovec>(), iov_cnt as usize) };
    send_iov(st, t, v, flags)
}

/// Sends one buffer (flags 0 or MSG_MORE); may accept only part of it.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `buf` must be null or readable for `buflen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_send_single(
    ts: *mut crate::zft,
    buf: *const c_void,
    buflen: usize,
    flags: c_int,
) -> isize {
    // SAFETY: a live zocket per the API contract.
    let Some((st, t)) = (unsafe { with_stack(ts) }) else {
        return -(libc::EINVAL as isize);
    };
    if buf.is_null() || flags & !libc::MSG_MORE != 0 {
        return -(libc::EINVAL as isize);
    }
    let v = [libc::iovec {
        iov_base: buf.cast_mut(),
        iov_len: buflen,
    }];
    send_iov(st, t, &v, flags)
}

/// Checks that a send of `buflen` bytes could go out now, without sending.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `buf` must be null or readable for `buflen` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_send_single_warm(
    ts: *mut crate::zft,
    buf: *const c_void,
    buflen: usize,
) -> isize {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -(libc::EINVAL as isize);
    };
    if buf.is_null() {
        return -(libc::EINVAL as isize);
    }
    if !t.initialised || !t.can_send() {
        return -(libc::ENOTCONN as isize);
    }
    if buflen > t.mss as usize {
        return -(libc::EMSGSIZE as isize);
    }
    if t.tx_blocked || t.ds_reserved > 0 {
        return -(libc::EAGAIN as isize);
    }
    buflen as isize
}

/// Free space in the send queue, in bytes.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `space` must be null or writable for one `usize`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_send_space(ts: *mut crate::zft, space: *mut usize) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    if space.is_null() {
        return -libc::EINVAL;
    }
    if !t.initialised || !t.can_send() {
        return -libc::ENOTCONN;
    }
    // SAFETY: non-null out pointer.
    unsafe { *space = send_space(t) };
    0
}

/// Free space in the backend's send queue: [`SNDBUF`] less what the kernel still holds.
fn send_space(t: &Tcp) -> usize {
    let outq = util::ioctl_int(&t.fd, libc::TIOCOUTQ).unwrap_or(0).max(0) as usize;
    SNDBUF.saturating_sub(outq)
}

/// A send found no space in the backend's queue: the reactor's timer pass watches it until
/// there is some (see [`Tcp::space_wait`]), and EPOLLOUT stays unreported meanwhile.
fn wait_for_space(st: &mut Stack, t: &mut Tcp) {
    t.space_wait = true;
    st.timer_work = true;
    update_interest(st, t);
}

/// Maximum segment size of the connection.
///
/// # Safety
///
/// `ts` must be null or a live TCP zocket.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_get_mss(ts: *mut crate::zft) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    if !t.initialised || t.state == SYN_SENT || t.state == CLOSED {
        return -libc::ENOTCONN;
    }
    t.mss
}

/// Ethernet + IP + TCP header bytes of each segment.
#[unsafe(no_mangle)]
pub extern "C" fn zft_get_header_size(_ts: *mut crate::zft) -> c_uint {
    HEADER_SIZE
}

/// Transmit timestamp reports (needs `tx_timestamping`); `*count_in_out` is the array size on
/// entry and the number returned on exit.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `count_in_out` must be null or readable and writable, and `reports` writable for that many
///   reports.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_get_tx_timestamps(
    ts: *mut crate::zft,
    reports: *mut crate::zf_pkt_report,
    count_in_out: *mut c_int,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: the caller's report array of *count_in_out entries.
    unsafe { drain_reports(&mut t.reports, reports, count_in_out) }
}

/// Moves up to `*count` reports out of `q` into `out`.
///
/// # Safety
///
/// `count` must be valid; `out` writable for `*count` entries.
pub(crate) unsafe fn drain_reports(
    q: &mut VecDeque<crate::zf_pkt_report>,
    out: *mut crate::zf_pkt_report,
    count: *mut c_int,
) -> c_int {
    if count.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: valid per the caller.
    let cap = unsafe { *count }.max(0) as usize;
    if cap > 0 && out.is_null() {
        return -libc::EINVAL;
    }
    let n = cap.min(q.len());
    for i in 0..n {
        if let Some(r) = q.pop_front() {
            // SAFETY: i < cap entries.
            unsafe { *out.add(i) = r };
        }
    }
    // SAFETY: valid per the caller.
    unsafe { *count = n as c_int };
    0
}
