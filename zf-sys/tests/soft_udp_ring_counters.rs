//! Datagrams a stack receives through its shared-memory ring (as root) must not show up as
//! kernel UDP receive errors: a user's monitoring of `/proc/net/snmp` must not see errors
//! that did not happen. The counters are per network namespace, so the test runs in one of
//! its own, where nothing else receives UDP.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::*;
use zf_sys::*;

/// Datagrams sent in each phase; every 100th is too large for the ring to carry whole.
const COUNT: usize = 2000;
/// How far the sender may run ahead of the receiver.
const WINDOW: usize = 32;

/// A field of the `Udp:` lines of this thread's namespace's `/proc/net/snmp`.
fn udp_counter(name: &str) -> u64 {
    // /proc/thread-self: the namespace this thread entered, not the process's.
    let text = std::fs::read_to_string("/proc/thread-self/net/snmp").unwrap();
    let mut lines = text.lines().filter(|l| l.starts_with("Udp:"));
    let (names, values) = (lines.next().unwrap(), lines.next().unwrap());
    let i = names
        .split_whitespace()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no Udp {name} in /proc/net/snmp"));
    values.split_whitespace().nth(i).unwrap().parse().unwrap()
}

/// Packet sockets open in this thread's namespace.
fn packet_sockets_here() -> usize {
    let t = std::fs::read_to_string("/proc/thread-self/net/packet").unwrap();
    t.lines().count().saturating_sub(1)
}

fn payload(k: usize) -> Vec<u8> {
    let n = if k % 100 == 99 { 3000 } else { 16 + k % 200 };
    (0..n).map(|i| pat(k as u8, i)).collect()
}

/// Sends COUNT datagrams to `port`, pacing itself by `received`; receives them on `ur` by
/// running `pass` (one reactor pass or muxer wait) and checks order and content.
fn burst(st: *mut zf_stack, ur: *mut zfur, port: u16, mut pass: impl FnMut()) {
    let received = Arc::new(AtomicUsize::new(0));
    let seen = received.clone();
    let sender = std::thread::spawn(move || {
        let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let t0 = Instant::now();
        for k in 0..COUNT {
            while k >= seen.load(Ordering::Acquire) + WINDOW {
                assert!(t0.elapsed() < LIMIT, "receiver stalled");
                std::hint::spin_loop();
            }
            tx.send_to(&payload(k), (Ipv4Addr::LOCALHOST, port))
                .unwrap();
        }
    });
    let mut msg = UdpMsg::<1>::new();
    let mut k = 0;
    let t0 = Instant::now();
    while k < COUNT {
        assert!(
            t0.elapsed() < LIMIT,
            "only {k} of {COUNT} datagrams arrived"
        );
        pass();
        loop {
            // SAFETY: live zocket; the message has room for the one iovec it announces.
            unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
            if msg.m.iovcnt == 0 {
                break;
            }
            let v = msg.iov[0];
            // SAFETY: the datagram is held until zfur_zc_recv_done.
            let got = unsafe { std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len) };
            assert!(got == payload(k), "datagram {k}: order and content");
            // SAFETY: the message zfur_zc_recv filled.
            unsafe { zfur_zc_recv_done(ur, msg.ptr()) };
            k += 1;
            received.store(k, Ordering::Release);
        }
    }
    sender.join().unwrap();
    let _ = st;
}

#[test]
fn ring_served_datagrams_count_no_kernel_receive_errors() {
    isolated!("ring_served_datagrams_count_no_kernel_receive_errors");
    skip_unless_soft!();
    let test = "ring_served_datagrams_count_no_kernel_receive_errors";
    if !testkit::is_root() {
        println!("{test}: skipped: the receive ring needs CAP_NET_RAW (root)");
        return;
    }
    testkit::in_netns(test, || {
        let (st, a) = stack_with(&[]);
        assert_eq!(packet_sockets_here(), 1, "the stack has its receive ring");
        let (ur, port) = bound_zfur(st, a);
        let errors0 = (udp_counter("InErrors"), udp_counter("RcvbufErrors"));

        // Polled directly, then through the stack's epoll set (a muxer wait).
        burst(st, ur, port, || {
            // SAFETY: live stack.
            unsafe { zf_reactor_perform(st) };
        });
        let direct = (udp_counter("InErrors"), udp_counter("RcvbufErrors"));
        // SAFETY: a live zocket's waitable.
        let mux = muxer_with(st, unsafe { zfur_to_waitable(ur) }, libc::EPOLLIN as u32, 1);
        let mut fd = -1;
        // SAFETY: live stack, valid out pointer (this completes the epoll set).
        assert_eq!(unsafe { zf_waitable_fd_get(st, &mut fd) }, 0);
        let mut out = [epoll_event::default(); 1];
        burst(st, ur, port, || {
            // SAFETY: live muxer; room for one event.
            unsafe { zf_muxer_wait(mux, out.as_mut_ptr(), 1, 1_000_000) };
        });
        // Anything left in the sockets is read in the next passes.
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_millis(100) {
            // SAFETY: live stack.
            unsafe { zf_reactor_perform(st) };
        }
        let after = (udp_counter("InErrors"), udp_counter("RcvbufErrors"));
        eprintln!(
            "Udp InErrors/RcvbufErrors: before {errors0:?}, after {COUNT} polled {direct:?}, \
             after {COUNT} more through epoll {after:?}"
        );
        assert_eq!(after, errors0, "no kernel UDP receive errors");
        // SAFETY: freed once, zockets before their stack.
        unsafe {
            zf_muxer_free(mux);
            assert_eq!(zfur_free(ur), 0);
        }
        free_stack(st, a);
    });
}
