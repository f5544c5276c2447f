//! Helpers shared by the integration tests: stacks on the loopback interface, socket address
//! conversion and bounded polling loops.
#![allow(dead_code)]

use std::ffi::CString;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use zf_sys::*;

// TCP states (netinet/tcp.h), as zft_state() returns them.
pub const TCP_ESTABLISHED: c_int = 1;
pub const TCP_SYN_SENT: c_int = 2;
pub const TCP_FIN_WAIT1: c_int = 4;
pub const TCP_FIN_WAIT2: c_int = 5;
pub const TCP_TIME_WAIT: c_int = 6;
pub const TCP_CLOSE: c_int = 7;
pub const TCP_CLOSE_WAIT: c_int = 8;
pub const TCP_LAST_ACK: c_int = 9;

// Unprivileged runs enter a user namespace of their own before the harness starts threads, so
// that `isolated!` can give each test a network namespace of its own.
testkit::enter_user_namespace_at_start!();

/// Returns from the calling test (reporting it as skipped on the terminal) unless this build
/// uses the software backend: these tests run kernel peers on 127.0.0.1, which a NIC-backed
/// TCPDirect stack cannot reach.
#[macro_export]
macro_rules! skip_unless_soft {
    () => {
        if !zf_sys::SOFTWARE_BACKEND {
            testkit::skip(
                module_path!(),
                "needs the software backend (kernel peers on 127.0.0.1)",
            );
            return;
        }
    };
}

/// Moves the calling test thread into a network namespace of its own (a private `lo`), or
/// returns from the test, reporting why on the terminal, when that is not possible here.
/// Call it first: sockets made before it live in the machine's namespace.
#[macro_export]
macro_rules! isolated {
    ($test:literal) => {
        if let Err(why) = testkit::isolate_thread_network() {
            testkit::skip($test, &why);
            return;
        }
    };
}

/// How long any test loop may run before the test fails.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A `sockaddr_in` for `a`.
pub fn sin(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

/// The address of a `sockaddr_in`.
pub fn from_sin(s: &libc::sockaddr_in) -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
        u16::from_be(s.sin_port),
    )
}

/// `(pointer, length)` arguments for an API call taking `const struct sockaddr*`.
pub fn sa(s: &libc::sockaddr_in) -> (*const sockaddr, socklen_t) {
    (
        (s as *const libc::sockaddr_in).cast(),
        size_of::<libc::sockaddr_in>() as socklen_t,
    )
}

/// Loopback address with port `p`.
pub fn lo(p: u16) -> SocketAddrV4 {
    SocketAddrV4::new(Ipv4Addr::LOCALHOST, p)
}

/// Attributes from `ZF_ATTR`, with `interface=lo` unless `ZF_ATTR` names one.
pub fn attr() -> *mut zf_attr {
    let mut a = std::ptr::null_mut();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { zf_attr_alloc(&mut a) }, 0);
    if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
        // SAFETY: valid attribute object and C strings.
        assert_eq!(
            // SAFETY: live objects and valid buffers created by this test.
            unsafe { zf_attr_set_str(a, c"interface".as_ptr(), c"lo".as_ptr()) },
            0
        );
    }
    a
}

/// Sets an integer attribute.
pub fn set_int(a: *mut zf_attr, name: &str, v: i64) {
    let n = CString::new(name).unwrap();
    // SAFETY: valid attribute object and C string.
    assert_eq!(unsafe { zf_attr_set_int(a, n.as_ptr(), v) }, 0, "{name}");
}

/// A stack on lo (plus extra integer attributes); returns (stack, attr).
pub fn stack_with(extra: &[(&str, i64)]) -> (*mut zf_stack, *mut zf_attr) {
    // SAFETY: zf_init may be called before anything else.
    unsafe { zf_init() };
    let a = attr();
    for (n, v) in extra {
        set_int(a, n, *v);
    }
    let mut st = std::ptr::null_mut();
    // SAFETY: valid attribute object and out pointer.
    let rc = unsafe { zf_stack_alloc(a, &mut st) };
    assert_eq!(rc, 0, "zf_stack_alloc");
    (st, a)
}

/// Frees a stack and its attributes.
pub fn free_stack(st: *mut zf_stack, a: *mut zf_attr) {
    // SAFETY: live objects from stack_with.
    unsafe {
        assert_eq!(zf_stack_free(st), 0);
        zf_attr_free(a);
    }
}

/// Runs the reactor until `done()` holds; panics after LIMIT.
pub fn poll_until(st: *mut zf_stack, what: &str, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < LIMIT, "timed out waiting for {what}");
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
    }
}

/// A `zft_msg` with room for `N` iovecs, as the C samples declare it.
#[repr(C)]
pub struct TcpMsg<const N: usize> {
    pub m: zft_msg,
    pub iov: [iovec; N],
}

impl<const N: usize> TcpMsg<N> {
    pub fn new() -> Self {
        TcpMsg {
            m: zft_msg::default(),
            iov: [iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; N],
        }
    }
    pub fn ptr(&mut self) -> *mut zft_msg {
        self.m.iovcnt = N as c_int;
        &mut self.m
    }
}

/// A `zfur_msg` with room for `N` iovecs.
#[repr(C)]
pub struct UdpMsg<const N: usize> {
    pub m: zfur_msg,
    pub iov: [iovec; N],
}

impl<const N: usize> UdpMsg<N> {
    pub fn new() -> Self {
        UdpMsg {
            m: zfur_msg::default(),
            iov: [iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }; N],
        }
    }
    pub fn ptr(&mut self) -> *mut zfur_msg {
        self.m.iovcnt = N as c_int;
        &mut self.m
    }
}

/// Connects a new zocket to `to` and drives it to ESTABLISHED.
pub fn connect(st: *mut zf_stack, a: *mut zf_attr, to: SocketAddrV4) -> *mut zft {
    let mut h = std::ptr::null_mut();
    // SAFETY: live stack and attributes; valid out pointer.
    assert_eq!(unsafe { zft_alloc(st, a, &mut h) }, 0);
    let r = sin(to);
    let (p, l) = sa(&r);
    let mut z = std::ptr::null_mut();
    // SAFETY: valid handle, address and out pointer.
    assert_eq!(unsafe { zft_connect(h, p, l, &mut z) }, 0);
    // SAFETY: live zocket.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_state(z) },
        TCP_SYN_SENT,
        "connect returns in SYN_SENT"
    );
    // SAFETY: live zocket.
    poll_until(
        st,
        "ESTABLISHED",
        || unsafe { zft_state(z) } == TCP_ESTABLISHED,
    );
    z
}

/// Whether data that includes its RFC 1071 checksum sums to all ones (an even length).
pub fn checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// A data pattern byte at stream offset `i` (seeded).
pub fn pat(seed: u8, i: usize) -> u8 {
    (i as u64)
        .wrapping_mul(2654435761)
        .wrapping_add(u64::from(seed))
        .to_le_bytes()[1]
}

/// Runs `f` on a thread inside a network namespace of its own (a private `lo`); reports the
/// test as skipped on the terminal where no namespace can be made.
pub fn in_netns(test: &str, _tag: u8, f: impl FnOnce() + Send + 'static) {
    let test = test.to_owned();
    let body = std::thread::spawn(move || {
        if let Err(why) = testkit::isolate_thread_network() {
            testkit::skip(&test, &why);
            return;
        }
        f();
    });
    body.join().expect("test body");
}

/// Makes a kernel socket's close send a reset.
pub fn linger_zero(s: &std::net::TcpStream) {
    let lg = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: valid socket and option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            std::os::fd::AsRawFd::as_raw_fd(s),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&lg as *const libc::linger).cast::<std::os::raw::c_void>(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0);
}

/// `zft_send_single` of `data`.
pub fn send(z: *mut zft, data: &[u8]) -> isize {
    // SAFETY: live zocket; buffer valid for its length.
    unsafe { zft_send_single(z, data.as_ptr().cast(), data.len(), 0) }
}

/// `zft_recv` into a small buffer.
pub fn recv(z: *mut zft) -> c_int {
    let mut b = [0u8; 64];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: b.len(),
    };
    // SAFETY: live zocket, one valid iovec.
    unsafe { zft_recv(z, &v, 1, 0) }
}

/// `zft_state`.
pub fn state(z: *mut zft) -> c_int {
    // SAFETY: live zocket.
    unsafe { zft_state(z) }
}

/// `zft_error`.
pub fn error(z: *mut zft) -> c_int {
    // SAFETY: live zocket.
    unsafe { zft_error(z) }
}

/// A connected zocket and the kernel end of it.
pub fn connected_pair(st: *mut zf_stack, a: *mut zf_attr) -> (*mut zft, std::net::TcpStream) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let z = connect(st, a, lo(port));
    let (s, _) = listener.accept().unwrap();
    (z, s)
}
