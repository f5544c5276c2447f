//! The cost of the safe API: the round-trip loop of `zfudppingpong` / `zftcppingpong`
//! (zero-copy receive, reply sent from the received buffer, release) written once on
//! `tcpdirect` and once on raw `zf-sys`, for instruction counts under callgrind.
//!
//! Both ends run in one thread, one stack each, taking turns (send, run the other stack's
//! reactor until the message is there, reply, ...), so no instructions are spent spinning
//! while waiting for another thread and the counts are repeatable. The instructions per
//! round trip are the difference between two runs divided by the difference in round trips
//! (that removes set-up and tear-down):
//!
//! ```text
//! cargo bench -p tcpdirect --bench callgrind_pingpong --no-run     # prints the binary path
//! for mode in safe-udp raw-udp safe-tcp raw-tcp; do for n in 2000 12000; do
//!   valgrind --tool=callgrind --callgrind-out-file=/dev/null BINARY $mode $n 2>&1 | grep refs
//! done; done
//! ```
//!
//! Without valgrind it prints the wall-clock time per round trip of each mode.

use std::ffi::c_int;
use std::net::SocketAddr;
use std::time::Instant;

use tcpdirect::{Attr, Stack, TcpState};
use zf_sys as ffi;

const SIZE: usize = 12;

fn attr() -> Attr {
    let mut a = Attr::from_env().expect("ZF_ATTR");
    if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
        a.set_interface("lo").unwrap();
    }
    a
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

// ----- UDP -----

fn safe_udp(n: usize) {
    let (a, b) = (addr("127.0.0.1:32101"), addr("127.0.0.1:32102"));
    let mut sa = Stack::new(&attr()).unwrap();
    let mut sb = Stack::new(&attr()).unwrap();
    let (ra, _) = sa.udp_bind(a, Some(b)).unwrap();
    let ta = sa.udp_sender(a, b).unwrap();
    let (rb, _) = sb.udp_bind(b, Some(a)).unwrap();
    let tb = sb.udp_sender(b, a).unwrap();
    let buf = [0u8; SIZE];
    // Views made once, kept across the loop: the reactor is reached through them.
    let mut rx_a = sa.udp_rx(ra).unwrap();
    let tx_a = rx_a.stack().udp_tx(ta).unwrap();
    let mut rx_b = sb.udp_rx(rb).unwrap();
    let tx_b = rx_b.stack().udp_tx(tb).unwrap();
    for _ in 0..n {
        tx_a.send(&buf).unwrap();
        loop {
            rx_b.stack().reactor_perform();
            if let Some(m) = rx_b.zc_recv() {
                tx_b.send(m.data()).unwrap();
                break;
            }
        }
        loop {
            rx_a.stack().reactor_perform();
            if rx_a.zc_recv().is_some() {
                break;
            }
        }
    }
}

fn sin(a: SocketAddr) -> libc::sockaddr_in {
    let SocketAddr::V4(a) = a else { unreachable!() };
    testkit::sin(a)
}

const SALEN: ffi::socklen_t = std::mem::size_of::<libc::sockaddr_in>() as ffi::socklen_t;

fn raw_udp(n: usize) {
    let at = attr();
    let (a, b) = (sin(addr("127.0.0.1:32103")), sin(addr("127.0.0.1:32104")));
    // SAFETY: the calls follow TCPDirect's rules: objects are allocated before use and
    // freed once, children first; each message has room for its iovec and is released
    // before the next receive on its zocket.
    unsafe {
        let (mut sa, mut sb) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert_eq!(ffi::zf_stack_alloc(at.as_ptr(), &mut sa), 0);
        assert_eq!(ffi::zf_stack_alloc(at.as_ptr(), &mut sb), 0);
        let mk = |st, l: &libc::sockaddr_in, r: &libc::sockaddr_in| {
            let (mut ur, mut ut) = (std::ptr::null_mut(), std::ptr::null_mut());
            let mut l2 = *l;
            assert_eq!(ffi::zfur_alloc(&mut ur, st, at.as_ptr()), 0);
            assert_eq!(
                ffi::zfur_addr_bind(
                    ur,
                    (&mut l2 as *mut libc::sockaddr_in).cast(),
                    SALEN,
                    (r as *const libc::sockaddr_in).cast(),
                    SALEN,
                    0
                ),
                0
            );
            assert_eq!(
                ffi::zfut_alloc(
                    &mut ut,
                    st,
                    (l as *const libc::sockaddr_in).cast(),
                    SALEN,
                    (r as *const libc::sockaddr_in).cast(),
                    SALEN,
                    0,
                    at.as_ptr()
                ),
                0
            );
            (ur, ut)
        };
        let (ra, ta) = mk(sa, &a, &b);
        let (rb, tb) = mk(sb, &b, &a);
        let buf = [0u8; SIZE];
        let mut msg = ffi::UdpMsg::<1>::new();
        for _ in 0..n {
            assert_eq!(
                ffi::zfut_send_single(ta, buf.as_ptr().cast(), SIZE),
                SIZE as c_int
            );
            loop {
                ffi::zf_reactor_perform(sb);
                msg.m.iovcnt = 1;
                ffi::zfur_zc_recv(rb, &mut msg.m, 0);
                if msg.m.iovcnt > 0 {
                    let rc = ffi::zfut_send_single(tb, msg.iov[0].iov_base, msg.iov[0].iov_len);
                    assert_eq!(rc, SIZE as c_int);
                    ffi::zfur_zc_recv_done(rb, &mut msg.m);
                    break;
                }
            }
            loop {
                ffi::zf_reactor_perform(sa);
                msg.m.iovcnt = 1;
                ffi::zfur_zc_recv(ra, &mut msg.m, 0);
                if msg.m.iovcnt > 0 {
                    ffi::zfur_zc_recv_done(ra, &mut msg.m);
                    break;
                }
            }
        }
        for z in [ra, rb] {
            ffi::zfur_free(z);
        }
        for z in [ta, tb] {
            ffi::zfut_free(z);
        }
        ffi::zf_stack_free(sa);
        ffi::zf_stack_free(sb);
    }
}

// ----- TCP -----

fn safe_tcp(n: usize) {
    let l = addr("127.0.0.1:32105");
    let mut sa = Stack::new(&attr()).unwrap();
    let mut sb = Stack::new(&attr()).unwrap();
    let lk = sb.listen(l).unwrap();
    let za = sa.tcp_connect(l).unwrap();
    let zb = loop {
        sa.reactor_perform();
        sb.reactor_perform();
        if let Some(k) = sb.accept(lk).unwrap() {
            break k;
        }
    };
    while sa.tcp_ref(za).unwrap().state() != TcpState::Established {
        sa.reactor_perform();
    }
    let buf = [0u8; SIZE];
    // Views made once, kept across the loop.
    let mut ta = sa.tcp(za).unwrap();
    let mut tb = sb.tcp(zb).unwrap();
    for _ in 0..n {
        ta.send(&buf).unwrap();
        for (t, reply) in [(&mut tb, true), (&mut ta, false)] {
            let mut left = SIZE;
            while left > 0 {
                t.stack().reactor_perform();
                if let Some(m) = t.zc_recv_max(1) {
                    left -= m.len();
                    if left == 0 && reply {
                        m.zocket().send(&buf).unwrap();
                    }
                    assert!(m.done().unwrap());
                }
            }
        }
    }
}

fn raw_tcp(n: usize) {
    let at = attr();
    let l = sin(addr("127.0.0.1:32106"));
    // SAFETY: as in raw_udp.
    unsafe {
        let (mut sa, mut sb) = (std::ptr::null_mut(), std::ptr::null_mut());
        assert_eq!(ffi::zf_stack_alloc(at.as_ptr(), &mut sa), 0);
        assert_eq!(ffi::zf_stack_alloc(at.as_ptr(), &mut sb), 0);
        let mut tl = std::ptr::null_mut();
        assert_eq!(
            ffi::zftl_listen(
                sb,
                (&l as *const libc::sockaddr_in).cast(),
                SALEN,
                at.as_ptr(),
                &mut tl
            ),
            0
        );
        let mut h = std::ptr::null_mut();
        assert_eq!(ffi::zft_alloc(sa, at.as_ptr(), &mut h), 0);
        let mut za = std::ptr::null_mut();
        assert_eq!(
            ffi::zft_connect(h, (&l as *const libc::sockaddr_in).cast(), SALEN, &mut za),
            0
        );
        let mut zb = std::ptr::null_mut();
        loop {
            ffi::zf_reactor_perform(sa);
            ffi::zf_reactor_perform(sb);
            if ffi::zftl_accept(tl, &mut zb) == 0 {
                break;
            }
        }
        while ffi::zft_state(za) != 1
        /* TCP_ESTABLISHED */
        {
            ffi::zf_reactor_perform(sa);
        }
        let buf = [0u8; SIZE];
        let mut msg = ffi::TcpMsg::<1>::new();
        for _ in 0..n {
            assert_eq!(
                ffi::zft_send_single(za, buf.as_ptr().cast(), SIZE, 0),
                SIZE as isize
            );
            for (st, z, reply) in [(sb, zb, true), (sa, za, false)] {
                let mut left = SIZE;
                while left > 0 {
                    ffi::zf_reactor_perform(st);
                    msg.m.iovcnt = 1;
                    ffi::zft_zc_recv(z, &mut msg.m, 0);
                    if msg.m.iovcnt > 0 {
                        left -= msg.iov[0].iov_len;
                        if left == 0 && reply {
                            assert_eq!(
                                ffi::zft_send_single(z, buf.as_ptr().cast(), SIZE, 0),
                                SIZE as isize
                            );
                        }
                        assert_eq!(ffi::zft_zc_recv_done(z, &mut msg.m), 1);
                    }
                }
            }
        }
        ffi::zft_free(za);
        ffi::zft_free(zb);
        ffi::zftl_free(tl);
        ffi::zf_stack_free(sa);
        ffi::zf_stack_free(sb);
    }
}

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| a != "--bench");
    let mode = args.next();
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    tcpdirect::init().unwrap();
    let modes: Vec<&str> = match mode.as_deref() {
        Some(m) => vec![m],
        None => vec!["safe-udp", "raw-udp", "safe-tcp", "raw-tcp"],
    };
    for m in modes {
        let t0 = Instant::now();
        match m {
            "safe-udp" => safe_udp(n),
            "raw-udp" => raw_udp(n),
            "safe-tcp" => safe_tcp(n),
            "raw-tcp" => raw_tcp(n),
            other => panic!("unknown mode {other:?} (safe-udp, raw-udp, safe-tcp, raw-tcp)"),
        }
        println!(
            "{m}: {n} round trips, {:.0} ns each",
            t0.elapsed().as_nanos() as f64 / n as f64
        );
    }
}
