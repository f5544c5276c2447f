//! Shared by the integration tests: stack attributes from `ZF_ATTR`, a network namespace per
//! test, bounded reactor loops and connected pairs.
#![allow(dead_code)]

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use tcpdirect::{Attr, Stack, TcpKey, TcpState};

/// How long any test loop may run before the test fails.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Attributes from `ZF_ATTR`, with `interface=lo` unless `ZF_ATTR` names an interface.
pub fn attr() -> Attr {
    let mut a = Attr::from_env().expect("ZF_ATTR");
    if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
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

/// Runs `f` on a thread in a network namespace of its own (a private `lo`, up), and returns
/// what it returns; `None`, after reporting why on the terminal, when this machine cannot
/// make one.
pub fn in_netns<T: Send + 'static>(
    test: &str,
    _tag: u8,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let test = test.to_owned();
    let r = std::thread::spawn(move || match testkit::isolate_thread_network() {
        Ok(()) => Some(f()),
        Err(why) => {
            testkit::skip(&test, &why);
            None
        }
    })
    .join();
    match r {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Returns from the calling test (with a note) unless this build uses the software backend:
/// kernel peers on 127.0.0.1 cannot reach a NIC-backed TCPDirect stack.
#[macro_export]
macro_rules! skip_unless_soft {
    () => {
        if !tcpdirect::ffi::SOFTWARE_BACKEND {
            testkit::skip(
                module_path!(),
                "kernel peers on 127.0.0.1 need the software backend",
            );
            return;
        }
    };
}

/// 127.0.0.1:`port`.
pub fn lo(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// Runs the reactor until `done()` holds; panics after [`LIMIT`].
pub fn poll_until(stack: &mut Stack, what: &str, mut done: impl FnMut(&mut Stack) -> bool) {
    let t0 = Instant::now();
    while !done(stack) {
        assert!(t0.elapsed() < LIMIT, "timed out waiting for {what}");
        stack.reactor_perform();
    }
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

/// A data pattern byte at stream offset `i` (seeded).
pub fn pat(seed: u8, i: usize) -> u8 {
    (i as u64)
        .wrapping_mul(2654435761)
        .wrapping_add(u64::from(seed))
        .to_le_bytes()[1]
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
