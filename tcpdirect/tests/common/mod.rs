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

/// What [`overlapped_receive`] saw.
#[derive(Debug, Default)]
pub struct OverlappedRun {
    /// The bytes received, in order.
    pub got: Vec<u8>,
    /// `IN_OVERLAPPED` events.
    pub events: usize,
    /// Overlapped receives completed good (the packet's bytes are in `got`).
    pub completed: usize,
    /// Overlapped receives abandoned at the first wait (the data came as plain `IN`).
    pub abandoned: usize,
    /// Packets that failed verification (TCP sends them again).
    pub failed: usize,
    /// Plain zero-copy receives.
    pub plain: usize,
}

/// The `i`th message of an overlapped test: 1 to 1200 bytes (one segment each), patterned.
pub fn overlapped_message(i: usize) -> Vec<u8> {
    let len = 1 + (i * 397) % 1200;
    (0..len).map(|k| pat(i as u8, k)).collect()
}

/// Receives `total` bytes on `to`, which is in muxer `mux` for `IN | IN_OVERLAPPED`, waiting
/// on the muxer only, and taking the overlapped path whenever the muxer reports it: the
/// first bytes, a second, longer wait, then the completion. `feed(stack, i)` sends the `i`th
/// message and returns its length; it is called once everything sent before has arrived, so
/// each message reaches an empty receive queue. Also drains with plain zero-copy receives
/// after every event and timeout, so it works on a backend that never reports overlapped
/// receive.
pub fn overlapped_receive(
    stack: &mut Stack,
    mux: tcpdirect::MuxerKey,
    to: TcpKey,
    total: usize,
    mut feed: impl FnMut(&mut Stack, usize) -> usize,
) -> OverlappedRun {
    use tcpdirect::{Event, Readiness};
    let mut run = OverlappedRun::default();
    let (mut sent, mut next) = (0, 0);
    let mut ev = [Event::default(); 4];
    let t0 = Instant::now();
    while run.got.len() < total {
        assert!(
            t0.elapsed() < LIMIT,
            "overlapped receive timed out: {} of {total} bytes, {run:?}",
            run.got.len()
        );
        if run.got.len() == sent {
            sent += feed(stack, next);
            next += 1;
        }
        let got = stack
            .muxer_wait(mux, &mut ev, Some(std::time::Duration::from_millis(1)))
            .unwrap()
            .to_vec();
        for e in &got {
            if !e.readiness().contains(Readiness::IN_OVERLAPPED) {
                continue;
            }
            assert_eq!(e.readiness(), Readiness::IN_OVERLAPPED, "reported alone");
            run.events += 1;
            let mut t = stack.tcp(to).unwrap();
            let Some(early) = t.zc_recv_overlapped(4) else {
                run.abandoned += 1;
                continue;
            };
            let first = early.data().to_vec();
            assert!(first.len() <= 4, "waited for 4 bytes, got {}", first.len());
            // A second wait, for more of the packet, may be abandoned too.
            let Some(more) = early.wait(64) else {
                run.abandoned += 1;
                continue;
            };
            let second = more.data().to_vec();
            assert!(second.starts_with(&first) && second.len() <= 64);
            match more.complete() {
                Some(m) => {
                    let bytes: Vec<u8> = m.iter().flatten().copied().collect();
                    assert!(
                        bytes.starts_with(&second),
                        "the completed packet starts with the bytes seen early"
                    );
                    run.got.extend_from_slice(&bytes);
                    run.completed += 1;
                    assert!(m.done().unwrap(), "connection still open");
                }
                None => run.failed += 1,
            }
        }
        // Whatever else is queued (plain IN, or data behind the overlapped packet).
        loop {
            let mut t = stack.tcp(to).unwrap();
            let Some(m) = t.zc_recv() else { break };
            assert!(!m.is_eof(), "unexpected EOF");
            run.got.extend(m.iter().flatten().copied());
            run.plain += 1;
            assert!(m.done().unwrap(), "connection still open");
        }
    }
    run
}

/// Checks an [`overlapped_receive`] run: the byte stream exact; on the software backend the
/// overlapped path taken (it emulates it); elsewhere, if it never was, says so on stderr.
pub fn check_overlapped_run(test: &str, run: &OverlappedRun, expected: &[u8]) {
    assert!(run.got == expected, "byte stream exact ({run:?})");
    let summary = format!(
        "{test}: {} overlapped events, {} completed, {} abandoned, {} failed verification, {} plain receives",
        run.events, run.completed, run.abandoned, run.failed, run.plain
    );
    if tcpdirect::ffi::SOFTWARE_BACKEND {
        assert!(
            run.completed > 0 && run.failed == 0,
            "the software backend reports overlapped receive, and its packets always verify: \
             {summary}"
        );
    } else if run.events == 0 {
        eprintln!(
            "NOTE {test}: the overlapped path was NOT taken (this backend never reported \
             IN_OVERLAPPED); the plain path delivered every byte"
        );
    }
    eprintln!("{summary}");
}
