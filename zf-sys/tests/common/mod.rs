//! Helpers shared by the integration tests that call zf-sys: stacks on the loopback interface,
//! zockets and bounded reactor loops. The generic ones come from `testkit`.
#![allow(dead_code)]

use std::ffi::CString;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::raw::c_int;
use zf_sys::*;

// Generic test support, used through `common::*` by the tests.
#[allow(unused_imports)]
pub use testkit::{LIMIT, checksum_ok, free_udp_port, from_sin, linger_zero, pat, sin};

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
        testkit::skip_unless!(
            zf_sys::SOFTWARE_BACKEND,
            "needs the software backend (kernel peers on 127.0.0.1)"
        )
    };
}

/// `testkit::isolated!`, by the name the tests use without importing it.
#[macro_export]
macro_rules! isolated {
    ($test:literal) => {
        testkit::isolated!($test)
    };
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
    if !testkit::zf_attr_names_interface() {
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
    testkit::poll_until(what, LIMIT, || {
        if done() {
            return true;
        }
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
        false
    });
}

/// Allocates a zocket and starts connecting it to `to`, without a reactor pass.
pub fn start_connect(st: *mut zf_stack, a: *mut zf_attr, to: SocketAddrV4) -> *mut zft {
    let mut h = std::ptr::null_mut();
    // SAFETY: live stack and attributes; valid out pointer.
    assert_eq!(unsafe { zft_alloc(st, a, &mut h) }, 0);
    let r = sin(to);
    let (p, l) = sa(&r);
    let mut z = std::ptr::null_mut();
    // SAFETY: valid handle, address and out pointer.
    assert_eq!(unsafe { zft_connect(h, p, l, &mut z) }, 0);
    z
}

/// Runs `n` reactor passes of `st`.
pub fn reactor_passes(st: *mut zf_stack, n: usize) {
    for _ in 0..n {
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
    }
}

/// Connects a new zocket to `to` and drives it to ESTABLISHED.
pub fn connect(st: *mut zf_stack, a: *mut zf_attr, to: SocketAddrV4) -> *mut zft {
    let z = start_connect(st, a, to);
    assert_eq!(state(z), TCP_SYN_SENT, "connect returns in SYN_SENT");
    poll_until(st, "ESTABLISHED", || state(z) == TCP_ESTABLISHED);
    z
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

/// A zfur bound to local address `local` (port 0: an ephemeral one) and, with `remote`, only
/// to datagrams from there; returns it and the local port the bind wrote back.
pub fn bind_zfur(
    st: *mut zf_stack,
    a: *mut zf_attr,
    local: SocketAddrV4,
    remote: Option<SocketAddrV4>,
) -> (*mut zfur, u16) {
    let mut ur = std::ptr::null_mut();
    // SAFETY: live stack and attributes, valid out pointer.
    assert_eq!(unsafe { zfur_alloc(&mut ur, st, a) }, 0, "zfur_alloc");
    let mut la = sin(local);
    let ra = remote.map(sin);
    let (pr, lr) = ra.as_ref().map_or((std::ptr::null(), 0), sa);
    let len = size_of::<libc::sockaddr_in>() as socklen_t;
    // SAFETY: live zocket; `la` is writable and `ra` (if any) valid for the lengths given.
    let rc = unsafe {
        zfur_addr_bind(
            ur,
            (&mut la as *mut libc::sockaddr_in).cast(),
            len,
            pr,
            lr,
            0,
        )
    };
    assert_eq!(rc, 0, "zfur_addr_bind");
    (ur, from_sin(&la).port())
}

/// A zfur bound to 127.0.0.1 on an ephemeral port; returns it and the port.
pub fn bound_zfur(st: *mut zf_stack, a: *mut zf_attr) -> (*mut zfur, u16) {
    bind_zfur(st, a, lo(0), None)
}

/// A new muxer of stack `st` with one member, `w`, waiting for `events` and reported with
/// `data` as its `u64`.
pub fn muxer_with(
    st: *mut zf_stack,
    w: *mut zf_waitable,
    events: u32,
    data: u64,
) -> *mut zf_muxer_set {
    let mut mux = std::ptr::null_mut();
    // SAFETY: live stack, valid out pointer.
    assert_eq!(unsafe { zf_muxer_alloc(st, &mut mux) }, 0, "zf_muxer_alloc");
    let ev = epoll_event {
        events,
        data: epoll_data { u64_: data },
    };
    // SAFETY: live muxer and waitable; the event is read during the call only.
    assert_eq!(unsafe { zf_muxer_add(mux, w, &ev) }, 0, "zf_muxer_add");
    mux
}

/// A listener on 127.0.0.1, on an ephemeral port; returns it and the port it got.
pub fn listen_lo(st: *mut zf_stack, a: *mut zf_attr) -> (*mut zftl, u16) {
    let la = sin(lo(0));
    let (p, l) = sa(&la);
    let mut tl = std::ptr::null_mut();
    // SAFETY: live stack and attributes, valid address and out pointer.
    let rc = unsafe { zftl_listen(st, p, l, a, &mut tl) };
    assert_eq!(rc, 0, "zftl_listen");
    let mut bound = sin(lo(0));
    let mut bl = size_of::<libc::sockaddr_in>() as socklen_t;
    // SAFETY: live listener, writable buffer of the length given.
    unsafe { zftl_getname(tl, (&mut bound as *mut libc::sockaddr_in).cast(), &mut bl) };
    (tl, from_sin(&bound).port())
}
