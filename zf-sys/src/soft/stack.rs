//! The stack (`zf_stack_*`), the reactor (`zf_reactor_*`), waitables and library
//! initialisation.

use std::os::fd::{AsRawFd, OwnedFd};
use std::os::raw::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use super::alts::AltSlot;
use super::attr::{Attr, attr_ref};
use super::muxer::Muxer;
use super::ring::Ring;
use super::tcp::{self, Listen, Tcp};
use super::udp::{self, UdpPort, UdpRx, UdpTx};
use super::util;

/// `EPOLLSTACKHUP` (= `EPOLLRDHUP`): the stack waitable's "quiescent" event.
pub(crate) const EPOLLSTACKHUP: u32 = libc::EPOLLRDHUP as u32;

/// Tags in the low bits of the epoll data of the stack's internal epoll set.
pub(crate) const TAG_EVFD: u64 = 0;
pub(crate) const TAG_TCP: u64 = 1;
pub(crate) const TAG_LISTEN: u64 = 2;
pub(crate) const TAG_UDP: u64 = 3;
pub(crate) const TAG_RING: u64 = 4;
const TAG_MASK: u64 = 7;

/// What a waitable stands for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    Stack,
    Tcp,
    Listen,
    UdpRx,
    UdpTx,
}

/// The object behind `struct zf_waitable*`: one per stack and per zocket, in its own heap
/// allocation so the muxer can hold it while the owner is being used.
///
/// Its pointers hold while it lives (the code that reaches through them relies on that):
/// `stack` is the stack it belongs to, which outlives it; `owner` is the live object of its
/// `kind`, which owns it (a separate allocation); `muxer` is null or the live set it is a
/// member of (a set lives while it has members).
pub(crate) struct Waitable {
    pub stack: *mut Stack,
    pub kind: Kind,
    pub owner: *mut c_void,
    pub muxer: *mut Muxer,
    pub events: u32,
    pub data: u64,
    /// Edges (new events) seen since the last report.
    pub pending: u32,
    /// Readiness when the muxer last looked, to turn level changes into edges.
    pub last: u32,
    /// What zf_waitable_event() returns (kept here so the pointer stays valid).
    pub ev: crate::epoll_event,
}

impl std::fmt::Debug for Waitable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Waitable")
            .field("kind", &self.kind)
            .field("events", &self.events)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// The C handle of the waitable an object owns (`w`), or null without an object: what the
/// `*_to_waitable` calls return.
pub(crate) fn waitable_handle(w: Option<&mut Waitable>) -> *mut crate::zf_waitable {
    w.map_or(std::ptr::null_mut(), |w| (w as *mut Waitable).cast())
}

impl Waitable {
    pub(crate) fn new(stack: *mut Stack, kind: Kind) -> Box<Waitable> {
        Box::new(Waitable {
            stack,
            kind,
            owner: std::ptr::null_mut(),
            muxer: std::ptr::null_mut(),
            events: 0,
            data: 0,
            pending: 0,
            last: 0,
            ev: crate::epoll_event {
                events: 0,
                data: crate::epoll_data { u64_: 0 },
            },
        })
    }
}

/// State other threads may read (`zf_stack_has_pending_work` may run concurrently).
#[derive(Debug)]
pub(crate) struct Shared {
    pub epfd: c_int,
    /// The stack's UDP sockets and ring are in the epoll set (see [`arm_epoll`]).
    pub armed: AtomicBool,
    /// Another thread asked for [`arm_epoll`] (through `zf_stack_has_pending_*`).
    pub arm_wanted: AtomicBool,
    /// Non-zero while timers (closing connections) need the reactor.
    pub timers: AtomicU32,
}

/// Buffer sizes of the stack's pools.
pub(crate) const TCP_BUF: usize = 16384;
pub(crate) const UDP_BUF: usize = 2048;
const POOL_MAX: usize = 1024;
/// Kernel events gathered per reactor pass.
const EVENTS: usize = 64;
/// Most sockets a stack polls directly rather than through epoll.
const DIRECT_POLL_FDS: usize = 2;

/// Gives the stack a shared-memory UDP receive ring when the process may have one; without
/// (no `CAP_NET_RAW`, or the kernel refuses) every datagram comes through its socket.
fn open_ring(st: &mut Stack) {
    let small = (st.mtu - 20).max(0) as u32;
    st.ring = Ring::open(st.ifindex, small).ok();
}

/// Puts the stack's UDP sockets and ring into its epoll set, where blocking waits, the epoll
/// reactor pass, `zf_waitable_fd_get` and `zf_stack_has_pending_*` look for events.
///
/// A stack that is only ever polled directly keeps them out: a socket or ring with an epoll
/// watcher makes the kernel take the epoll lock for every datagram it receives and every
/// send it completes, which costs a busy-polling ping-pong several percent.
pub(crate) fn arm_epoll(st: &mut Stack) {
    if st.armed() {
        return;
    }
    for i in 0..st.ports.len() {
        // SAFETY: listed ports are live.
        let p = unsafe { &mut *st.ports[i] };
        if p.registered && !p.in_epoll {
            let _ = udp::epoll_add(st, p);
        }
    }
    if let Some(r) = &st.ring {
        if util::epoll_ctl(
            &st.epfd,
            libc::EPOLL_CTL_ADD,
            &r.fd,
            libc::EPOLLIN as u32,
            TAG_RING,
        ) < 0
        {
            // Without the ring in the set, blocking waits would miss its datagrams.
            udp::drop_ring(st);
        }
    }
    // Stubs of datagrams the ring has delivered would make the set look busy.
    udp::drain_stubs(st, 1);
    // Only now: another thread that sees the set as complete may rely on it.
    // SAFETY: `shared` is owned by the stack and live until zf_stack_free.
    unsafe { &*st.shared }.armed.store(true, Ordering::Release);
}

/// The object behind `struct zf_stack*`.
///
/// It owns every object in its lists (`tcps`, `listeners`, `urs`, `uts`, `ports`, `muxers`):
/// each was boxed when it was made, is listed once, and is unlisted when it is freed before
/// the stack; dropping the stack frees the rest. Each of those objects' `stack` pointer is
/// this stack, so it stays valid for their lives.
#[derive(Debug)]
pub(crate) struct Stack {
    pub w: Box<Waitable>,
    pub attr: Attr,
    /// Owned; freed when the stack is dropped (`zf_stack_free`).
    pub shared: *mut Shared,
    pub epfd: OwnedFd,
    pub evfd: OwnedFd,
    /// The eventfd was made readable by [`Stack::wake`] and not yet read.
    pub woken: std::cell::Cell<bool>,
    pub ifindex: u32,
    pub mtu: i32,
    pub mac: [u8; 6],
    pub tcps: Vec<*mut Tcp>,
    pub listeners: Vec<*mut Listen>,
    pub urs: Vec<*mut UdpRx>,
    pub uts: Vec<*mut UdpTx>,
    pub ports: Vec<*mut UdpPort>,
    /// The shared-memory UDP receive path, when the process may open one (`CAP_NET_RAW`).
    pub ring: Option<Ring>,
    /// Reactor passes until ring-served sockets are next read without a doorbell.
    pub sweep_in: u32,
    /// Some ring-served socket has enough stubs waiting to be worth a read (see `udp.rs`).
    pub ring_drain: bool,
    /// Some ring-served socket may have stubs waiting: the next idle ring pass reads them
    /// (see `udp::poll_ring`).
    pub stubs_waiting: bool,
    pub muxers: Vec<*mut Muxer>,
    pub alts: Vec<AltSlot>,
    pub tcp_pool: Vec<Box<[u8]>>,
    pub udp_pool: Vec<Box<[u8]>>,
    pub scratch: Box<[u8]>,
    pub evbuf: Vec<libc::epoll_event>,
    /// Some TCP zocket needs timer processing (closing handshakes, TIME_WAIT, lingering).
    pub timer_work: bool,
    pub wait_time_wait: bool,
    pub timewait_ns: u64,
    pub finwait_ns: u64,
    pub rx_ts: bool,
    pub tx_ts: bool,
    pub max_tcp: usize,
    pub max_listen: usize,
    pub max_urx: usize,
    pub max_utx: usize,
    pub backlog: c_int,
    pub rx_disabled: bool,
    pub tx_disabled: bool,
}

impl Stack {
    /// A TCP receive buffer from the pool.
    pub(crate) fn tcp_buf(&mut self) -> Box<[u8]> {
        self.tcp_pool
            .pop()
            .unwrap_or_else(|| vec![0u8; TCP_BUF].into_boxed_slice())
    }
    /// A UDP receive buffer from the pool.
    pub(crate) fn udp_buf(&mut self) -> Box<[u8]> {
        self.udp_pool
            .pop()
            .unwrap_or_else(|| vec![0u8; UDP_BUF].into_boxed_slice())
    }
    /// Returns a buffer to the matching pool (other sizes are dropped).
    pub(crate) fn put_buf(&mut self, b: Box<[u8]>) {
        match b.len() {
            TCP_BUF if self.tcp_pool.len() < POOL_MAX => self.tcp_pool.push(b),
            UDP_BUF if self.udp_pool.len() < POOL_MAX => self.udp_pool.push(b),
            _ => {}
        }
    }

    /// Whether the stack is quiescent (see `zf_stack_is_quiescent`).
    pub(crate) fn quiescent(&self) -> bool {
        self.tcps.iter().all(|&t| {
            // SAFETY: every pointer in `tcps` is a live Tcp owned by this stack.
            let t = unsafe { &*t };
            tcp::is_quiet(self, t)
        })
    }

    /// Whether the stack's UDP sockets and ring are in its epoll set (see [`arm_epoll`]).
    pub(crate) fn armed(&self) -> bool {
        // SAFETY: `shared` is owned by the stack and live until zf_stack_free.
        unsafe { &*self.shared }.armed.load(Ordering::Relaxed)
    }

    /// Makes the stack's epoll set readable until the next reactor pass, so that
    /// `zf_stack_has_pending_work` (and a thread sleeping on the waitable fd) sees that the
    /// application has something to collect.
    pub(crate) fn wake(&self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes to the stack's eventfd (non-blocking; a full counter only
        // means it is readable already).
        unsafe { libc::write(self.evfd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        self.woken.set(true);
    }

    /// Reads the eventfd (the reactor pass that [`Stack::wake`] asked for has come).
    pub(crate) fn unwake(&self) {
        let mut v: u64 = 0;
        // SAFETY: reading 8 bytes from the stack's eventfd into `v` (non-blocking).
        unsafe { libc::read(self.evfd.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
        self.woken.set(false);
    }

    fn set_timer_hint(&self) {
        // SAFETY: `shared` is owned by the stack and live until zf_stack_free.
        unsafe { &*self.shared }
            .timers
            .store(u32::from(self.timer_work), Ordering::Relaxed);
    }
}

/// Frees every object of one of a stack's lists and empties it.
///
/// # Safety
///
/// Each pointer in `list` must come from `Box::into_raw`, be listed once and nowhere else
/// owned, and not be used after this call.
unsafe fn free_all<T>(list: &mut Vec<*mut T>) {
    for p in std::mem::take(list) {
        // SAFETY: per the caller; unlisted here, so freed once.
        drop(unsafe { Box::from_raw(p) });
    }
}

impl Drop for Stack {
    /// Frees the muxers, zockets and ports the stack owns (their descriptors close as they
    /// drop), then the shared state; the stack's own descriptors and ring close after this.
    fn drop(&mut self) {
        // SAFETY: the stack owns every object in its lists (each boxed when it was made,
        // listed once, unlisted when freed earlier); nothing uses them after the stack.
        unsafe {
            free_all(&mut self.muxers);
            free_all(&mut self.tcps);
            free_all(&mut self.listeners);
            free_all(&mut self.urs);
            free_all(&mut self.uts);
            free_all(&mut self.ports);
        }
        // SAFETY: allocated with Box::into_raw in zf_stack_alloc, freed once here.
        drop(unsafe { Box::from_raw(self.shared) });
    }
}

/// The stack behind a `zf_stack` pointer.
///
/// # Safety
///
/// `p` must be null or a live stack from `zf_stack_alloc`, with no other live reference.
pub(crate) unsafe fn stack_mut<'a>(p: *mut crate::zf_stack) -> Option<&'a mut Stack> {
    // SAFETY: per the caller.
    unsafe { p.cast::<Stack>().as_mut() }
}

/// Whether [`process`] may read the stack's sockets directly instead of asking epoll.
fn direct_poll_ok(st: &Stack) -> bool {
    if !st.listeners.is_empty() {
        return false;
    }
    let mut n = 0;
    for &pp in &st.ports {
        // SAFETY: listed ports are live.
        let p = unsafe { &*pp };
        n += usize::from(p.registered && !p.ring_served);
    }
    for &tp in &st.tcps {
        // SAFETY: listed zockets are live.
        let t = unsafe { &*tp };
        if t.ep_reg {
            if !t.plain_reader() {
                return false;
            }
            n += 1;
        }
    }
    n <= DIRECT_POLL_FDS
}

/// Runs one pass of the reactor without waiting: gathers kernel socket and ring events and
/// runs timers. Returns how many things happened that the application may see.
pub(crate) fn process(st: &mut Stack) -> c_int {
    let mut progress = 0;
    // Stacks with few sockets, all in plain receiving states, poll them directly: one system
    // call per socket instead of epoll_wait followed by a read. (Sockets waiting for connection
    // completion or send space, or not reading, need epoll and switch this off.)
    let direct = direct_poll_ok(st);
    // SAFETY: `shared` is owned by the stack and live until zf_stack_free.
    if !st.armed() && (!direct || unsafe { &*st.shared }.arm_wanted.load(Ordering::Relaxed)) {
        arm_epoll(st);
    }
    if direct {
        if st.woken.get() {
            // Without epoll_wait here, nothing else would read it.
            st.unwake();
        }
        if st.ring.is_some() {
            progress += udp::poll_ring_direct(st);
        }
        for i in 0..st.ports.len() {
            let pp = st.ports[i];
            // SAFETY: listed ports are live; reading does not change the list.
            let p = unsafe { &mut *pp };
            if p.registered && !p.ring_served {
                progress += udp::on_port_event(st, p);
            }
        }
        for i in 0..st.tcps.len() {
            let tp = st.tcps[i];
            // SAFETY: listed zockets are live; reading does not change the list.
            let t = unsafe { &mut *tp };
            if t.ep_reg {
                progress += tcp::poll_read(st, t);
            }
        }
        if st.timer_work {
            progress += tcp::run_timers(st);
        }
        st.set_timer_hint();
        return progress;
    }
    let cap = st.evbuf.capacity().min(EVENTS) as c_int;
    // SAFETY: evbuf has room for `cap` events; epfd is the stack's epoll fd.
    let n = unsafe { libc::epoll_wait(st.epfd.as_raw_fd(), st.evbuf.as_mut_ptr(), cap, 0) };
    if n > 0 {
        // SAFETY: the kernel initialised the first n entries.
        unsafe { st.evbuf.set_len(n as usize) };
        let mut evs = [(0u32, 0u64); EVENTS];
        for (d, e) in evs.iter_mut().zip(st.evbuf.iter()) {
            *d = (e.events, e.u64);
        }
        st.evbuf.clear();
        for &(events, data) in &evs[..n as usize] {
            let ptr = (data & !TAG_MASK) as *mut c_void;
            match data & TAG_MASK {
                TAG_EVFD => st.unwake(),
                TAG_TCP => {
                    // SAFETY: the tag says `ptr` is a live Tcp registered by this stack; it is
                    // removed from the epoll set before it is freed.
                    let t = unsafe { &mut *ptr.cast::<Tcp>() };
                    progress += tcp::on_event(st, t, events);
                }
                TAG_LISTEN => {
                    // SAFETY: as above, for a listening zocket.
                    let l = unsafe { &mut *ptr.cast::<Listen>() };
                    progress += tcp::on_listen_event(st, l);
                }
                TAG_UDP => {
                    let pp = ptr.cast::<UdpPort>();
                    // SAFETY: as above, for a UDP port (read, no reference kept).
                    if unsafe { (*pp).ring_served } {
                        // Stubs, or a large datagram, in the order of the ring's frames.
                        // SAFETY: a listed port, no reference to it in use.
                        progress += unsafe { udp::drain_ring_port(st, pp) };
                    } else {
                        // SAFETY: as above.
                        let p = unsafe { &mut *pp };
                        progress += udp::on_port_event(st, p);
                    }
                }
                TAG_RING => progress += udp::poll_ring(st),
                _ => {}
            }
        }
    }
    if st.timer_work {
        progress += tcp::run_timers(st);
    }
    st.set_timer_hint();
    progress
}

/// Library initialisation: nothing to do in the software backend.
#[unsafe(no_mangle)]
pub extern "C" fn zf_init() -> c_int {
    0
}

/// Library teardown: nothing to do in the software backend.
#[unsafe(no_mangle)]
pub extern "C" fn zf_deinit() -> c_int {
    0
}

static VERSION: &std::ffi::CStr = c"TCPDirect Library version: 9.2.1 (zf-sys software backend)";
static VERSION_SHORT: &std::ffi::CStr = c"9.2.1";

/// Name and version of the library.
#[unsafe(no_mangle)]
pub extern "C" fn zf_version() -> *const c_char {
    VERSION.as_ptr()
}

/// TCPDirect version.
#[unsafe(no_mangle)]
pub extern "C" fn zf_version_short() -> *const c_char {
    VERSION_SHORT.as_ptr()
}

/// Onload version the library was built against (none: the software backend).
#[unsafe(no_mangle)]
pub extern "C" fn onload_version_short() -> *const c_char {
    c"none (software backend)".as_ptr()
}

/// Prints the version to stderr and exits the process, as the real library does.
#[unsafe(no_mangle)]
pub extern "C" fn zf_print_version() {
    eprintln!("{}", VERSION.to_string_lossy());
    std::process::exit(0);
}

/// Creates a stack on the interface named by the `interface` attribute.
///
/// Errors: `-EINVAL` (null attr, no interface, bad endpoint counts), `-ENODEV` (no such
/// interface), or the negative errno of a failing system call.
///
/// # Safety
///
/// * `attr` must be null or a live attribute object;
/// * `stack_out` must be null or writable for one `*mut zf_stack`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_alloc(
    attr: *mut crate::zf_attr,
    stack_out: *mut *mut crate::zf_stack,
) -> c_int {
    if stack_out.is_null() {
        return -libc::EFAULT;
    }
    // SAFETY: a valid attribute object per the API contract.
    let Some(a) = (unsafe { attr_ref(attr) }) else {
        return -libc::EINVAL;
    };
    let Some(ifname) = a.str("interface").map(|s| s.to_owned()) else {
        return -libc::EINVAL;
    };
    let (ifindex, ifmtu, mac) = match util::interface_info(&ifname) {
        Ok(v) => v,
        Err(e) => return e,
    };
    let count = |n: &str| -> Option<usize> {
        let v = a.int(n);
        (0..=64).contains(&v).then_some(v as usize)
    };
    let (Some(max_tcp), Some(max_listen), Some(max_urx), Some(max_utx)) = (
        count("max_tcp_endpoints"),
        count("max_tcp_listen_endpoints"),
        count("max_udp_rx_endpoints"),
        count("max_udp_tx_endpoints"),
    ) else {
        return -libc::EINVAL;
    };
    let emu_mtu = a.int("emu_mtu").clamp(576, 65535) as i32;
    // SAFETY: plain system calls; each descriptor is owned by its `OwnedFd` from here on.
    let epfd = match util::owned(unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) }) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    // SAFETY: as above.
    let evfd =
        match util::owned(unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) }) {
            Ok(fd) => fd,
            Err(e) => return e,
        };
    let rc = util::epoll_ctl(
        &epfd,
        libc::EPOLL_CTL_ADD,
        &evfd,
        libc::EPOLLIN as u32,
        TAG_EVFD,
    );
    if rc < 0 {
        return rc;
    }
    let ms = |n: &str| a.int(n).max(0) as u64 * 1_000_000;
    let mut st = Box::new(Stack {
        w: Waitable::new(std::ptr::null_mut(), Kind::Stack),
        attr: a.clone(),
        shared: Box::into_raw(Box::new(Shared {
            epfd: epfd.as_raw_fd(),
            armed: AtomicBool::new(false),
            arm_wanted: AtomicBool::new(false),
            timers: AtomicU32::new(0),
        })),
        epfd,
        evfd,
        woken: std::cell::Cell::new(false),
        ifindex,
        mtu: ifmtu.min(emu_mtu),
        mac,
        tcps: Vec::new(),
        listeners: Vec::new(),
        urs: Vec::new(),
        uts: Vec::new(),
        ports: Vec::new(),
        ring: None,
        sweep_in: udp::SWEEP_EVERY,
        ring_drain: false,
        stubs_waiting: false,
        muxers: Vec::new(),
        alts: (0..a.int("alt_count").clamp(0, 64))
            .map(|_| AltSlot::default())
            .collect(),
        tcp_pool: Vec::new(),
        udp_pool: Vec::new(),
        scratch: vec![0u8; udp::DRAIN_BATCH * udp::OVERFLOW].into_boxed_slice(),
        evbuf: Vec::with_capacity(EVENTS),
        timer_work: false,
        wait_time_wait: a.int("tcp_wait_for_time_wait") != 0,
        timewait_ns: ms("tcp_timewait_ms"),
        finwait_ns: ms("tcp_finwait_ms"),
        rx_ts: a.int("rx_timestamping") != 0,
        tx_ts: a.int("tx_timestamping") != 0,
        max_tcp,
        max_listen,
        max_urx,
        max_utx,
        backlog: a.int("max_tcp_syn_backlog").clamp(1, 65535) as c_int,
        rx_disabled: a.int("rx_ring_max") == 0,
        tx_disabled: a.int("tx_ring_max") == 0,
    });
    if !st.rx_disabled {
        open_ring(&mut st);
    }
    let p = Box::into_raw(st);
    // SAFETY: `p` was just created and is uniquely owned here.
    unsafe {
        (*p).w.stack = p;
        (*p).w.owner = p.cast();
        *stack_out = p.cast();
    }
    0
}

/// Frees a stack and every zocket, muxer and alternative still in it.
///
/// # Safety
///
/// `stack` must be null or a live stack; it, and everything allocated in it, are dead after this
/// call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_free(stack: *mut crate::zf_stack) -> c_int {
    if stack.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `stack` came from zf_stack_alloc (Box::into_raw) and is freed once, here; its
    // Drop frees what it owns.
    drop(unsafe { Box::from_raw(stack.cast::<Stack>()) });
    0
}

/// The stack's waitable: ready for `EPOLLSTACKHUP` when the stack is quiescent.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_to_waitable(
    stack: *mut crate::zf_stack,
) -> *mut crate::zf_waitable {
    // SAFETY: a live stack per the API contract.
    waitable_handle(unsafe { stack_mut(stack) }.map(|st| &mut *st.w))
}

/// 1 when no TCP connection is open (nor in TIME_WAIT, with `tcp_wait_for_time_wait`).
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_is_quiescent(stack: *mut crate::zf_stack) -> c_int {
    // SAFETY: a live stack per the API contract.
    match unsafe { stack_mut(stack) } {
        Some(st) => c_int::from(st.quiescent()),
        None => 0,
    }
}

/// Neither PIO nor CTPIO exists in the software backend: 0 for both, `-ENOENT` otherwise.
#[unsafe(no_mangle)]
pub extern "C" fn zf_stack_query_feature(
    stack: *mut crate::zf_stack,
    feature: crate::zf_stack_feature,
) -> c_int {
    if stack.is_null() {
        return -libc::EINVAL;
    }
    match feature {
        crate::zf_stack_feature_CTPIO | crate::zf_stack_feature_PIO => 0,
        _ => -libc::ENOENT,
    }
}

/// Processes pending network events and timers. Returns > 0 when something the application
/// may care about happened.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_reactor_perform(stack: *mut crate::zf_stack) -> c_int {
    // SAFETY: a live stack per the API contract.
    match unsafe { stack_mut(stack) } {
        Some(st) => process(st),
        None => 0,
    }
}

/// As `zf_reactor_perform`; the spin count of `attr` has no effect (the software backend
/// never spins inside the reactor).
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_reactor_perform_attr(
    stack: *mut crate::zf_stack,
    _attr: *const crate::zf_attr,
) -> c_int {
    // SAFETY: forwarded unchanged.
    unsafe { zf_reactor_perform(stack) }
}

/// Whether the kernel sockets of the stack have events, without processing them.
fn epoll_readable(epfd: c_int) -> bool {
    let mut p = libc::pollfd {
        fd: epfd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd, zero timeout.
    let n = unsafe { libc::poll(&mut p, 1, 0) };
    n > 0 && (p.revents & libc::POLLIN) != 0
}

/// Non-zero when `zf_reactor_perform` has work (events or timers). Safe to call from any thread
/// concurrently with other calls on the stack: it reads only the epoll fd and an atomic.
///
/// # Safety
///
/// `stack` must be null or a live stack; this call may run on any thread, at the same time as
/// others on the stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_has_pending_work(stack: *const crate::zf_stack) -> c_int {
    if stack.is_null() {
        return 0;
    }
    // SAFETY: `shared` is written once at allocation and only read afterwards; the field is
    // read through a raw pointer, creating no reference to the (possibly borrowed) stack, and
    // the Shared it points to lives until zf_stack_free.
    let sh = unsafe { &*std::ptr::addr_of!((*stack.cast::<Stack>()).shared).read() };
    c_int::from(sh.timers.load(Ordering::Relaxed) != 0 || events_pending(sh))
}

/// Non-zero when network events are waiting (timers are not considered).
///
/// # Safety
///
/// `stack` must be null or a live stack; this call may run on any thread, at the same time as
/// others on the stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_stack_has_pending_events(stack: *const crate::zf_stack) -> c_int {
    if stack.is_null() {
        return 0;
    }
    // SAFETY: as in zf_stack_has_pending_work.
    let sh = unsafe { &*std::ptr::addr_of!((*stack.cast::<Stack>()).shared).read() };
    c_int::from(events_pending(sh))
}

/// Whether the stack's kernel sockets or ring have events. Until the stack's epoll set is
/// complete ([`arm_epoll`]) the answer is a conservative yes, and the owning thread is asked
/// to complete it at its next reactor pass.
fn events_pending(sh: &Shared) -> bool {
    if !sh.armed.load(Ordering::Acquire) {
        sh.arm_wanted.store(true, Ordering::Relaxed);
        return true;
    }
    epoll_readable(sh.epfd)
}
