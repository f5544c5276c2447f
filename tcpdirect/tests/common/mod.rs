//! Shared by the integration tests: stack attributes from `ZF_ATTR`, bounded reactor loops and
//! connected pairs. The generic helpers (a network namespace per test, data patterns) come
//! from `testkit`.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Instant;

use tcpdirect::{Attr, Stack, TcpKey, TcpState};
// Generic test support, used through `common::*` by the tests.
#[allow(unused_imports)]
pub use testkit::{LIMIT, in_netns, pat};

/// Attributes from `ZF_ATTR`, with `interface=lo` unless `ZF_ATTR` names an interface.
pub fn attr() -> Attr {
    let mut a = Attr::from_env().expect("ZF_ATTR");
    if !testkit::zf_attr_names_interface() {
        a.set_interface("lo").unwrap();
    }
    a
}

/// A stack from [`attr`] plus `extra` (`name=value;...`).
pub fn stack(extra: &str) -> Stack {
    let mut a = attr();
    a.apply(extra).unwrap();
    Stack::new(&a).expect("zf_stack_alloc")
}

// Unprivileged runs enter a user namespace of their own before the harness starts threads, so
// that `in_netns` can give each test a network namespace of its own.
testkit::enter_user_namespace_at_start!();

/// Returns from the calling test (with a note) unless this build uses the software backend:
/// kernel peers on 127.0.0.1 cannot reach a NIC-backed TCPDirect stack.
#[macro_export]
macro_rules! skip_unless_soft {
    () => {
        testkit::skip_unless!(
            tcpdirect::ffi::SOFTWARE_BACKEND,
            "kernel peers on 127.0.0.1 need the software backend"
        )
    };
}

/// 127.0.0.1:`port`.
pub fn lo(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Runs the reactor until `done()` holds; panics after [`LIMIT`].
pub fn poll_until(stack: &mut Stack, what: &str, mut done: impl FnMut(&mut Stack) -> bool) {
    testkit::poll_until(what, LIMIT, || {
        if done(stack) {
            return true;
        }
        stack.reactor_perform();
        false
    });
}

/// A listener on `port` and a client connected to it, both on `stack`: (listener, client,
/// server side).
pub fn connected_pair(stack: &mut Stack, port: u16) -> (tcpdirect::ListenerKey, TcpKey, TcpKey) {
    let l = stack.listen(lo(port)).expect("listen");
    let c = stack.tcp_connect(lo(port)).expect("connect");
    let mut server = None;
    poll_until(stack, "accept and ESTABLISHED", |st| {
        if server.is_none() {
            server = st.accept(l).unwrap();
        }
        server.is_some() && st.tcp_ref(c).unwrap().state() == TcpState::Established
    });
    (l, c, server.unwrap())
}

/// Sends all of `data` from `from` and receives all of it on `to` (zero-copy), running the
/// reactor; returns what arrived.
pub fn transfer(stack: &mut Stack, from: TcpKey, to: TcpKey, data: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    let mut got = Vec::with_capacity(data.len());
    let t0 = Instant::now();
    while got.len() < data.len() {
        assert!(
            t0.elapsed() < LIMIT,
            "transfer timed out: sent {sent}, received {}",
            got.len()
        );
        stack.reactor_perform();
        if sent < data.len() {
            match stack.tcp_ref(from).unwrap().send(&data[sent..]) {
                Ok(n) => sent += n,
                Err(e) if e.is_would_block() => {}
                Err(e) => panic!("send: {e}"),
            }
        }
        let mut t = stack.tcp(to).unwrap();
        if let Some(m) = t.zc_recv() {
            for p in m.iter() {
                got.extend_from_slice(p);
            }
            assert!(!m.is_eof(), "unexpected EOF");
            assert!(m.done().unwrap(), "connection still open");
        }
    }
    got
}

/// Copying receives on `z` (running the reactor) until at least `n` bytes have arrived;
/// returns them.
pub fn recv_at_least(stack: &mut Stack, z: TcpKey, n: usize, what: &str) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    poll_until(stack, what, |st| {
        match st.tcp(z).unwrap().recv(&mut buf) {
            Ok(k) => got.extend_from_slice(&buf[..k]),
            Err(e) => assert!(e.is_would_block(), "{e}"),
        }
        got.len() >= n
    });
    got
}
