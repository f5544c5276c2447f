//! UDP zockets against a kernel UdpSocket on 127.0.0.1: zfut → peer → zfur, real headers,
//! the muxer, timestamps, unbind, errors.

mod common;

use std::net::UdpSocket;
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use common::*;
use zf_sys::*;

#[test]
fn zfut_to_kernel_and_back_into_zfur_with_headers() {
    isolated!("zfut_to_kernel_and_back_into_zfur_with_headers");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("rx_timestamping", 1), ("tx_timestamping", 1)]);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(LIMIT)).unwrap();
    let pport = peer.local_addr().unwrap().port();

    // zfur on an ephemeral port: the port is written back.
    let (ur, myport) = bound_zfur(st, a);
    assert_ne!(myport, 0, "ephemeral port written back");
    let la = sin(lo(myport));

    // zfut from the same local port to the peer (shares the port with the zfur).
    let mut ut = std::ptr::null_mut();
    let ra = sin(lo(pport));
    let (pl, ll) = sa(&la);
    let (pr, lr) = sa(&ra);
    // SAFETY: live stack, valid addresses and out pointer.
    assert_eq!(unsafe { zfut_alloc(&mut ut, st, pl, ll, pr, lr, 0, a) }, 0);
    // SAFETY: live zocket.
    let mss = unsafe { zfut_get_mss(ut) };
    assert_eq!(mss, 1500 - 28, "MTU of emu_mtu (1500) on lo");
    // SAFETY: live zocket.
    assert_eq!(unsafe { zfut_get_header_size(ut) }, 42);
    let big = vec![0u8; mss as usize + 1];
    // SAFETY: live zocket, valid buffers.
    unsafe {
        assert_eq!(
            zfut_send_single(ut, big.as_ptr().cast(), big.len()),
            -libc::EMSGSIZE
        );
        assert_eq!(zfut_send_single_warm(ut, big.as_ptr().cast(), 10), 10);
        assert_eq!(zfut_send_single(ut, b"ping".as_ptr().cast(), 4), 4);
    }
    let mut buf = [0u8; 2048];
    let (n, from) = peer.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"ping");
    assert_eq!(from.port(), myport, "sent from the zocket's local port");
    // A fragmented send with zfut_send (bigger than the MSS, no DONT_FRAGMENT).
    let large: Vec<u8> = (0..4000).map(|i| pat(1, i)).collect();
    let v = [
        iovec {
            iov_base: large.as_ptr() as *mut _,
            iov_len: 1000,
        },
        iovec {
            iov_base: large[1000..].as_ptr() as *mut _,
            iov_len: 3000,
        },
    ];
    // SAFETY: live zocket, two valid iovecs.
    unsafe {
        assert_eq!(
            zfut_send(ut, v.as_ptr(), 2, ZFUT_FLAG_DONT_FRAGMENT as c_int),
            -libc::EMSGSIZE
        );
        assert_eq!(zfut_send(ut, v.as_ptr(), 2, 0), 4000);
    }
    let mut bbuf = vec![0u8; 8000];
    let (n, _) = peer.recv_from(&mut bbuf).unwrap();
    assert_eq!(&bbuf[..n], &large[..]);
    let mut reps = [zf_pkt_report::default(); 4];
    let mut cnt: c_int = 4;
    // SAFETY: live zocket, array of cnt entries.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zfut_get_tx_timestamps(ut, reps.as_mut_ptr(), &mut cnt) },
        0
    );
    assert_eq!(cnt, 2);
    assert_eq!(
        (reps[0].start, reps[0].bytes, reps[1].start, reps[1].bytes),
        (0, 4, 1, 4000)
    );
    assert!(reps[0].timestamp.tv_sec > 0);

    // Muxer wakes for the zfur when the peer answers.
    let mut mux = std::ptr::null_mut();
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_muxer_alloc(st, &mut mux) }, 0);
    let ev = epoll_event {
        events: libc::EPOLLIN as u32,
        data: epoll_data { u64_: 11 },
    };
    let evo = epoll_event {
        events: libc::EPOLLOUT as u32,
        data: epoll_data { u64_: 12 },
    };
    // SAFETY: live muxer and waitables.
    unsafe {
        assert_eq!(zf_muxer_add(mux, zfur_to_waitable(ur), &ev), 0);
        assert_eq!(zf_muxer_add(mux, zfut_to_waitable(ut), &evo), 0);
    }
    let mut evs = [epoll_event::default(); 4];
    // The zfut is writable at once; the zfur has nothing yet.
    // SAFETY: live muxer.
    let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 0) };
    assert_eq!(n, 1);
    // SAFETY: plain integer union.
    assert_eq!(unsafe { evs[0].data.u64_ }, 12);
    for i in 0..3u8 {
        peer.send_to(&[b'a' + i; 5], la_addr(myport)).unwrap();
    }
    let t0 = Instant::now();
    let mut woke = 0;
    let mut msg = UdpMsg::<2>::new();
    let mut got = Vec::new();
    while got.len() < 3 {
        assert!(t0.elapsed() < LIMIT);
        // SAFETY: live muxer.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 100_000_000) };
        if n > 0 {
            woke += 1;
            // SAFETY: plain integer union.
            assert_eq!(unsafe { evs[0].data.u64_ }, 11);
        }
        loop {
            // SAFETY: live zocket; msg with 2 iovecs.
            unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
            if msg.m.iovcnt == 0 {
                break;
            }
            assert_eq!(msg.m.iovcnt, 1);
            // SAFETY: valid until done.
            let data = unsafe {
                std::slice::from_raw_parts(msg.iov[0].iov_base as *const u8, msg.iov[0].iov_len)
            }
            .to_vec();
            let mut ip: *const iphdr = std::ptr::null();
            let mut udp: *const udphdr = std::ptr::null();
            // SAFETY: live zocket; msg as filled.
            assert_eq!(
                // SAFETY: live objects and valid buffers created by this test.
                unsafe { zfur_pkt_get_header(ur, &msg.m, &mut ip, &mut udp, 0) },
                0
            );
            // SAFETY: 20 + 8 header bytes valid until done.
            let (iph, udph) = unsafe {
                (
                    std::slice::from_raw_parts(ip.cast::<u8>(), 20),
                    std::slice::from_raw_parts(udp.cast::<u8>(), 8),
                )
            };
            assert_eq!(iph[0], 0x45);
            assert_eq!(
                u16::from_be_bytes([iph[2], iph[3]]) as usize,
                28 + data.len()
            );
            assert_eq!(iph[9], libc::IPPROTO_UDP as u8);
            assert!(iph[8] > 0, "ttl");
            assert_eq!(&iph[12..16], &[127, 0, 0, 1], "saddr");
            assert_eq!(&iph[16..20], &[127, 0, 0, 1], "daddr");
            assert!(checksum_ok(iph), "IP header checksum");
            assert_eq!(u16::from_be_bytes([udph[0], udph[1]]), pport, "source port");
            assert_eq!(u16::from_be_bytes([udph[2], udph[3]]), myport, "dest port");
            assert_eq!(
                u16::from_be_bytes([udph[4], udph[5]]) as usize,
                8 + data.len()
            );
            let mut tsv = timespec::default();
            let mut fl = 0u32;
            // SAFETY: live zocket; msg as filled; valid outs.
            assert_eq!(
                // SAFETY: live objects and valid buffers created by this test.
                unsafe { zfur_pkt_get_timestamp(ur, &msg.m, &mut tsv, 0, &mut fl) },
                0
            );
            assert!(tsv.tv_sec > 0);
            assert!(
                (0..=2 - got.len() as c_int).contains(&msg.m.dgrams_left),
                "dgrams_left"
            );
            got.push(data);
            // SAFETY: msg as filled.
            unsafe { zfur_zc_recv_done(ur, &mut msg.m) };
        }
    }
    assert!(woke >= 1);
    assert_eq!(
        got,
        vec![b"aaaaa".to_vec(), b"bbbbb".to_vec(), b"ccccc".to_vec()]
    );
    // Edge-triggered: nothing more to report.
    // SAFETY: live muxer.
    assert_eq!(unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 0) }, 0);

    // After unbinding nothing more arrives; unbinding twice fails.
    // SAFETY: live zocket.
    unsafe {
        assert_eq!(
            zfur_addr_unbind(ur, std::ptr::null(), 0, std::ptr::null(), 0, 0),
            0
        );
        assert_eq!(
            zfur_addr_unbind(ur, std::ptr::null(), 0, std::ptr::null(), 0, 0),
            -libc::EINVAL
        );
    }
    // SAFETY: live objects, each freed once.
    unsafe {
        assert_eq!(zf_muxer_del(zfur_to_waitable(ur)), 0);
        assert_eq!(zf_muxer_del(zfur_to_waitable(ur)), -libc::EINVAL);
        assert_eq!(zfur_free(ur), 0);
        assert_eq!(zfut_free(ut), 0);
        zf_muxer_free(mux);
    }
    free_stack(st, a);
}

fn la_addr(p: u16) -> std::net::SocketAddr {
    std::net::SocketAddr::V4(lo(p))
}

#[test]
fn remote_filter_and_errors() {
    isolated!("remote_filter_and_errors");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let good = UdpSocket::bind("127.0.0.1:0").unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    let gport = good.local_addr().unwrap().port();
    let (ur, port) = bind_zfur(st, a, lo(0), Some(lo(gport)));
    // The same binding again, for the errors below.
    let mut la = sin(lo(port));
    let ra = sin(lo(gport));
    let len = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
    let (pr, lr) = sa(&ra);
    other.send_to(b"nope", la_addr(port)).unwrap();
    good.send_to(b"yes", la_addr(port)).unwrap();
    let mut msg = UdpMsg::<1>::new();
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < LIMIT);
        // SAFETY: live stack and zocket.
        unsafe {
            zf_reactor_perform(st);
            zfur_zc_recv(ur, msg.ptr(), 0);
        }
        if msg.m.iovcnt > 0 {
            break;
        }
    }
    // SAFETY: valid until done.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { std::slice::from_raw_parts(msg.iov[0].iov_base as *const u8, msg.iov[0].iov_len) },
        b"yes",
        "only the bound remote"
    );
    // SAFETY: msg as filled.
    unsafe { zfur_zc_recv_done(ur, &mut msg.m) };
    std::thread::sleep(Duration::from_millis(20));
    // SAFETY: live stack and zocket.
    unsafe {
        zf_reactor_perform(st);
        zfur_zc_recv(ur, msg.ptr(), 0);
    }
    assert_eq!(msg.m.iovcnt, 0);
    let mut ip: *const iphdr = std::ptr::null();
    let mut udp: *const udphdr = std::ptr::null();
    // SAFETY: nothing held: an error, not a crash.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zfur_pkt_get_header(ur, &msg.m, &mut ip, &mut udp, 0) },
        -libc::EINVAL
    );

    // Errors.
    let any = sin(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::UNSPECIFIED,
        0,
    ));
    let mut anym = any;
    let mut ut = std::ptr::null_mut();
    let (pa, l) = sa(&any);
    let mut v6 = sin(lo(5));
    v6.sin_family = libc::AF_INET6 as libc::sa_family_t;
    let (p6, l6) = sa(&v6);
    // `zfur_addr_bind` of `ur` to `local` (`local_len` bytes) and remote `(pr, lr)`.
    let bind = |local: *mut libc::sockaddr_in, local_len, pr, lr| {
        // SAFETY: live zocket; `local` is null or writable for `local_len` bytes, which is
        // what the calls below check the library for; `pr` is null or valid for `lr`.
        unsafe { zfur_addr_bind(ur, local.cast(), local_len, pr, lr, 0) }
    };
    let none = std::ptr::null();
    assert_eq!(bind(&mut anym, len, none, 0), -libc::EINVAL, "INADDR_ANY");
    assert_eq!(bind(std::ptr::null_mut(), len, none, 0), -libc::EFAULT);
    assert_eq!(bind(&mut la, 3, none, 0), -libc::EINVAL);
    assert_eq!(
        bind(&mut la, len, pr, lr),
        -libc::EADDRINUSE,
        "same filter twice"
    );
    // SAFETY: valid or deliberately bad arguments.
    unsafe {
        assert_eq!(
            zfut_alloc(&mut ut, st, pa, l, pa, l, 0, a),
            -libc::EINVAL,
            "no remote"
        );
        assert_eq!(
            zfut_alloc(&mut ut, st, pa, l, pr, lr, 0, a),
            -libc::EINVAL,
            "INADDR_ANY needs a port"
        );
        assert_eq!(zfut_alloc(&mut ut, st, p6, l6, pr, lr, 0, a), -libc::EINVAL);
        assert_eq!(
            zfut_send_single(std::ptr::null_mut(), std::ptr::null(), 0),
            -libc::EINVAL
        );
        assert_eq!(zfur_free(std::ptr::null_mut()), -libc::EINVAL);
        zfur_zc_recv(std::ptr::null_mut(), std::ptr::null_mut(), 0);
        zfur_zc_recv_done(std::ptr::null_mut(), std::ptr::null_mut());
    }
    // INADDR_ANY local with a port: the source address comes from the route.
    let la2 = sin(std::net::SocketAddrV4::new(
        std::net::Ipv4Addr::UNSPECIFIED,
        port.wrapping_add(1).max(1024),
    ));
    let (pl2, ll2) = sa(&la2);
    // SAFETY: valid arguments.
    let rc = unsafe { zfut_alloc(&mut ut, st, pl2, ll2, pr, lr, 0, a) };
    if rc == 0 {
        // SAFETY: live zocket, valid buffer.
        assert_eq!(unsafe { zfut_send_single(ut, b"x".as_ptr().cast(), 1) }, 1);
        good.set_read_timeout(Some(LIMIT)).unwrap();
        let mut b = [0u8; 8];
        let (_, from) = good.recv_from(&mut b).unwrap();
        assert_eq!(from, la_addr(from_sin(&la2).port()));
        // SAFETY: live zocket, freed once.
        assert_eq!(unsafe { zfut_free(ut) }, 0);
    } else {
        assert_eq!(rc, -libc::EADDRINUSE, "port taken by another process");
    }
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zfur_free(ur) }, 0);
    free_stack(st, a);
}

/// Polls `st` until `ur` holds a datagram; returns its payload (and releases it).
fn recv_one(st: *mut zf_stack, ur: *mut zfur) -> Vec<u8> {
    let mut msg = UdpMsg::<1>::new();
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < LIMIT, "no datagram");
        // SAFETY: live stack and zocket; the message has room for one iovec.
        unsafe {
            zf_reactor_perform(st);
            zfur_zc_recv(ur, msg.ptr(), 0);
        }
        if msg.m.iovcnt > 0 {
            break;
        }
    }
    // SAFETY: the iovec is valid until zfur_zc_recv_done.
    let data =
        unsafe { std::slice::from_raw_parts(msg.iov[0].iov_base as *const u8, msg.iov[0].iov_len) }
            .to_vec();
    // SAFETY: msg as filled by zfur_zc_recv.
    unsafe { zfur_zc_recv_done(ur, &mut msg.m) };
    data
}

/// Nothing arrives on `ur` within 50 ms of polling.
fn assert_quiet(st: *mut zf_stack, ur: *mut zfur) {
    let mut msg = UdpMsg::<1>::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_millis(50) {
        // SAFETY: live stack and zocket.
        unsafe {
            zf_reactor_perform(st);
            zfur_zc_recv(ur, msg.ptr(), 0);
        }
        assert_eq!(msg.m.iovcnt, 0, "unexpected datagram");
    }
}

/// The software backend connects a port's kernel socket while every zfur binding and zfut on
/// it names one remote (so sends skip a route lookup): what is delivered and sent must be the
/// same as with an unconnected socket, whatever the order of binds, unbinds and frees.
#[test]
fn port_with_one_remote_behaves_as_unconnected() {
    isolated!("port_with_one_remote_behaves_as_unconnected");
    skip_unless_soft!();
    // A port the application names, and one the kernel picks.
    let named = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    one_remote_then_many(named);
    one_remote_then_many(0);
}

fn one_remote_then_many(local_port: u16) {
    let (st, a) = stack_with(&[]);
    let good = UdpSocket::bind("127.0.0.1:0").unwrap();
    let other = UdpSocket::bind("127.0.0.1:0").unwrap();
    good.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let gaddr = lo(good.local_addr().unwrap().port());
    let g = sin(gaddr);

    // zfur bound to (127.0.0.1:ephemeral, good) and a zfut on the same pair.
    let (ur1, port) = bind_zfur(st, a, lo(local_port), Some(gaddr));
    let la = sin(lo(port));
    assert!(local_port == 0 || port == local_port);
    let mut ut = std::ptr::null_mut();
    // SAFETY: as above.
    unsafe {
        let (pl, ll) = sa(&la);
        let (pr, lr) = sa(&g);
        assert_eq!(zfut_alloc(&mut ut, st, pl, ll, pr, lr, 0, a), 0);
    }
    let send = |ut: *mut zfut, b: &[u8]| {
        // SAFETY: live zocket; valid buffer.
        let rc = unsafe { zfut_send_single(ut, b.as_ptr().cast(), b.len()) };
        assert_eq!(rc, b.len() as i32, "zfut_send_single");
    };
    send(ut, b"to good");
    let mut buf = [0u8; 64];
    let (n, from) = good.recv_from(&mut buf).unwrap();
    assert_eq!((&buf[..n], from.port()), (&b"to good"[..], port));
    other.send_to(b"from other", la_addr(port)).unwrap();
    good.send_to(b"from good", la_addr(port)).unwrap();
    assert_eq!(recv_one(st, ur1), b"from good");
    assert_quiet(st, ur1);

    // A second zfur on the same port for any remote: datagrams from others now arrive there,
    // and the exact binding still wins for `good`.
    let (ur2, _) = bind_zfur(st, a, lo(port), None);
    other.send_to(b"other again", la_addr(port)).unwrap();
    assert_eq!(recv_one(st, ur2), b"other again");
    good.send_to(b"good again", la_addr(port)).unwrap();
    assert_eq!(recv_one(st, ur1), b"good again");
    send(ut, b"still sending");
    let (n, _) = good.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"still sending");

    // Free the wildcard zfur: back to one remote; others are filtered again.
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zfur_free(ur2) }, 0);
    other.send_to(b"dropped", la_addr(port)).unwrap();
    good.send_to(b"kept", la_addr(port)).unwrap();
    assert_eq!(recv_one(st, ur1), b"kept");
    assert_quiet(st, ur1);
    send(ut, b"after free");
    let (n, _) = good.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"after free");

    // Sending to a closed port: the kernel's ICMP error never surfaces as a send error.
    let closed_addr = lo(UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port());
    let closed = sin(closed_addr);
    let mut ut2 = std::ptr::null_mut();
    // A named local port, so that the port's kernel socket is connected to the closed port.
    let named3 = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (ur3, _) = bind_zfur(st, a, lo(named3), Some(closed_addr));
    let la3 = sin(lo(named3));
    // SAFETY: live stack; valid addresses and out pointer.
    unsafe {
        let (pr, lr) = sa(&closed);
        let (pl, ll) = sa(&la3);
        assert_eq!(zfut_alloc(&mut ut2, st, pl, ll, pr, lr, 0, a), 0);
    }
    // Without polling in between, so that the kernel's pending error meets the next send.
    for _ in 0..5 {
        send(ut2, b"into the void");
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_quiet(st, ur3);

    // SAFETY: live zockets, each freed once, before the stack.
    unsafe {
        assert_eq!(zfut_free(ut2), 0);
        assert_eq!(zfur_free(ur3), 0);
        assert_eq!(zfut_free(ut), 0);
        assert_eq!(zfur_free(ur1), 0);
    }
    free_stack(st, a);
}
