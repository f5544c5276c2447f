//! TCP zockets against kernel peers (std::net) on 127.0.0.1: bulk transfer both ways,
//! accept + echo, connection refused, peer reset, the muxer, the waitable fd, bad input.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddrV4, TcpListener, TcpStream};
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use common::*;
use zf_sys::*;

const MIB: usize = 1 << 20;

#[test]
fn client_exchanges_1mib_each_way_and_closes() {
    isolated!("client_exchanges_1mib_each_way_and_closes");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // The peer closes its side once our FIN has arrived.
    let peer = testkit::pattern_peer(listener, MIB, 7, testkit::PeerFin::AfterReceiving);

    let z = connect(st, a, lo(port));
    // The zocket's addresses.
    let mut l = sin(lo(0));
    let mut r = sin(lo(0));
    let mut ll = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
    let mut rl = ll;
    // SAFETY: live zocket, valid buffers.
    unsafe {
        zft_getname(
            z,
            (&mut l as *mut libc::sockaddr_in).cast(),
            &mut ll,
            (&mut r as *mut libc::sockaddr_in).cast(),
            &mut rl,
        )
    };
    assert_eq!(from_sin(&r), lo(port));
    assert_eq!(*from_sin(&l).ip(), *lo(0).ip());
    // SAFETY: live zocket.
    let mss = unsafe { zft_get_mss(z) };
    assert!(mss > 0 && mss <= 1460, "mss {mss}");
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_get_header_size(z) }, 54);

    let out: Vec<u8> = (0..MIB).map(|i| pat(3, i)).collect();
    let mut sent = 0usize;
    let mut recvd = Vec::with_capacity(MIB);
    let mut eof = false;
    let mut partial_seen = false;
    let mut msg = TcpMsg::<8>::new();
    let t0 = Instant::now();
    while sent < MIB || recvd.len() < MIB {
        assert!(
            t0.elapsed() < LIMIT,
            "transfer timed out: sent {sent}, received {}",
            recvd.len()
        );
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
        if sent < MIB {
            let mut space = 0usize;
            // SAFETY: live zocket, valid out pointer.
            assert_eq!(unsafe { zft_send_space(z, &mut space) }, 0);
            let chunk = &out[sent..(sent + 200_000).min(MIB)];
            // SAFETY: live zocket; the buffer is valid for its length.
            let n = unsafe { zft_send_single(z, chunk.as_ptr().cast(), chunk.len(), 0) };
            if n > 0 {
                if (n as usize) < chunk.len() {
                    partial_seen = true;
                }
                // What zft_send_space promised is accepted.
                assert!(
                    n as usize >= space.min(chunk.len()),
                    "sent {n} < space {space}"
                );
                sent += n as usize;
            } else {
                assert_eq!(n, -(libc::EAGAIN as isize));
                assert_eq!(space, 0, "-EAGAIN only when the queue is full");
            }
        }
        // SAFETY: live zocket; msg has 8 iovecs.
        unsafe { zft_zc_recv(z, msg.ptr(), 0) };
        let n = msg.m.iovcnt as usize;
        if n > 0 {
            for v in &msg.iov[..n] {
                // SAFETY: the buffers stay valid until zft_zc_recv_done.
                recvd.extend_from_slice(unsafe {
                    std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
                });
            }
            // SAFETY: msg as filled by zft_zc_recv.
            let rc = unsafe { zft_zc_recv_done(z, &mut msg.m) };
            assert!(rc > 0, "still open: {rc}");
        }
    }
    assert!(
        partial_seen,
        "a 200 kB send should have been accepted only in part at least once"
    );
    assert_eq!(recvd.len(), MIB);
    assert!(
        recvd.iter().enumerate().all(|(i, &b)| b == pat(7, i)),
        "received data intact"
    );

    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_shutdown_tx(z) }, 0);
    // SAFETY: live zocket.
    assert!(matches!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_state(z) },
        TCP_FIN_WAIT1 | TCP_FIN_WAIT2
    ));
    // SAFETY: live zocket.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_shutdown_tx(z) },
        -libc::ENOTCONN,
        "second shutdown"
    );
    let one = [1u8];
    // SAFETY: live zocket, valid buffer.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_send_single(z, one.as_ptr().cast(), 1, 0) },
        -(libc::ENOTCONN as isize)
    );
    // Wait for the peer's FIN: a zero-length iovec, and done returns 0.
    poll_until(st, "EOF", || {
        // SAFETY: live zocket; msg has 8 iovecs.
        unsafe { zft_zc_recv(z, msg.ptr(), 0) };
        if msg.m.iovcnt > 0 {
            assert_eq!(msg.m.iovcnt, 1);
            assert_eq!(msg.iov[0].iov_len, 0, "EOF is a zero-length iovec");
            // SAFETY: msg as filled by zft_zc_recv.
            assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 0);
            eof = true;
        }
        eof
    });
    // EOF stays: zft_recv keeps returning 0.
    let mut b = [0u8; 16];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 16,
    };
    // SAFETY: live zocket, one valid iovec.
    assert_eq!(unsafe { zft_recv(z, &v, 1, 0) }, 0);
    // SAFETY: live zocket.
    poll_until(st, "TIME_WAIT", || unsafe { zft_state(z) } == TCP_TIME_WAIT);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_error(z) }, 0);
    let got = peer.join().unwrap();
    assert_eq!(got.len(), MIB);
    assert!(got == out, "peer received our data intact");
    // SAFETY: live zocket; freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_stack_is_quiescent(st) }, 1);
    free_stack(st, a);
}

#[test]
fn listener_accepts_kernel_client_and_echoes() {
    isolated!("listener_accepts_kernel_client_and_echoes");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (tl, port) = listen_lo(st, a);
    assert_ne!(port, 0);
    let mut z = std::ptr::null_mut();
    // SAFETY: live listener.
    assert_eq!(unsafe { zftl_accept(tl, &mut z) }, -libc::EAGAIN);

    // Muxer with the listener.
    // SAFETY: a live zocket's waitable.
    let mux = muxer_with(st, unsafe { zftl_to_waitable(tl) }, libc::EPOLLIN as u32, 1);
    let ev = epoll_event {
        events: libc::EPOLLIN as u32,
        data: epoll_data { u64_: 1 },
    };
    // SAFETY: as above.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zf_muxer_add(mux, zftl_to_waitable(tl), &ev) },
        -libc::EALREADY
    );

    let client = std::thread::spawn(move || {
        let mut s =
            TcpStream::connect(SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, port)).unwrap();
        s.set_read_timeout(Some(LIMIT)).unwrap();
        let msg: Vec<u8> = (0..200_000).map(|i| pat(9, i)).collect();
        s.write_all(&msg).unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        assert_eq!(back, msg, "echoed intact");
    });

    let mut evs = [epoll_event::default(); 4];
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < LIMIT);
        // SAFETY: live muxer; evs has 4 entries.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 100_000_000) };
        if n > 0 {
            assert_eq!(n, 1);
            let e = evs[0];
            assert_eq!({ e.events }, libc::EPOLLIN as u32);
            // SAFETY: union of plain integers.
            assert_eq!(unsafe { e.data.u64_ }, 1);
            break;
        }
    }
    // SAFETY: live listener.
    assert_eq!(unsafe { zftl_accept(tl, &mut z) }, 0);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_state(z) }, TCP_ESTABLISHED);
    let ev2 = epoll_event {
        events: (libc::EPOLLIN | libc::EPOLLHUP) as u32,
        data: epoll_data { u64_: 2 },
    };
    // SAFETY: live muxer and waitable.
    assert_eq!(unsafe { zf_muxer_add(mux, zft_to_waitable(z), &ev2) }, 0);
    // SAFETY: live waitable in a set.
    let back = unsafe { &*zf_waitable_event(zft_to_waitable(z)) };
    let (be, we) = (back.events, ev2.events);
    assert_eq!(be, we);

    let mut pending: Vec<u8> = Vec::new();
    let mut total = 0usize;
    let mut wakeups = 0;
    let mut eof = false;
    let t0 = Instant::now();
    while !eof || !pending.is_empty() {
        assert!(t0.elapsed() < LIMIT, "echo timed out");
        // SAFETY: live muxer.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 10_000_000) };
        if n > 0 {
            wakeups += 1;
            // SAFETY: union of plain integers.
            assert_eq!(unsafe { evs[0].data.u64_ }, 2);
        }
        let mut buf = vec![0u8; 32768];
        let v = iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        loop {
            // SAFETY: live zocket, one valid iovec.
            let r = unsafe { zft_recv(z, &v, 1, 0) };
            if r > 0 {
                pending.extend_from_slice(&buf[..r as usize]);
                total += r as usize;
            } else if r == 0 {
                eof = true;
                break;
            } else {
                assert_eq!(r, -libc::EAGAIN);
                break;
            }
        }
        if !pending.is_empty() {
            // SAFETY: live zocket; buffer valid for its length.
            let s = unsafe { zft_send_single(z, pending.as_ptr().cast(), pending.len(), 0) };
            if s > 0 {
                pending.drain(..s as usize);
            }
        }
    }
    assert_eq!(total, 200_000);
    assert!(wakeups >= 1, "the muxer woke for the data");
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_state(z) }, TCP_CLOSE_WAIT);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_shutdown_tx(z) }, 0);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_state(z) }, TCP_LAST_ACK);
    // SAFETY: live zocket.
    poll_until(st, "CLOSED", || unsafe { zft_state(z) } == TCP_CLOSE);
    client.join().unwrap();
    // SAFETY: live objects, each freed once.
    unsafe {
        assert_eq!(zft_free(z), 0);
        assert_eq!(zftl_free(tl), 0);
        assert_eq!(zf_stack_is_quiescent(st), 1);
        zf_muxer_free(mux);
    }
    free_stack(st, a);
}

#[test]
fn connection_refused_is_reported_through_recv_and_error() {
    isolated!("connection_refused_is_reported_through_recv_and_error");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut h = std::ptr::null_mut();
    // SAFETY: live stack.
    assert_eq!(unsafe { zft_alloc(st, a, &mut h) }, 0);
    let r = sin(lo(port));
    let (p, l) = sa(&r);
    let mut z = std::ptr::null_mut();
    // SAFETY: valid handle, address and out pointer.
    assert_eq!(unsafe { zft_connect(h, p, l, &mut z) }, 0);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_state(z) }, TCP_SYN_SENT);
    let mut b = [0u8; 8];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 8,
    };
    // SAFETY: live zocket, valid iovec.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_recv(z, &v, 1, 0) },
        -libc::EAGAIN,
        "nothing yet in SYN_SENT"
    );
    // SAFETY: live zocket, valid buffer.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_send_single(z, b.as_ptr().cast(), 8, 0) },
        -(libc::EAGAIN as isize),
        "SYN_SENT: try again later, as TCPDirect says"
    );

    // SAFETY: a live zocket's waitable.
    let mux = muxer_with(
        st,
        unsafe { zft_to_waitable(z) },
        (libc::EPOLLIN | libc::EPOLLERR | libc::EPOLLHUP) as u32,
        5,
    );
    let mut evs = [epoll_event::default(); 2];
    // SAFETY: live muxer.
    let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 5_000_000_000) };
    assert_eq!(n, 1);
    let got = evs[0].events;
    assert_eq!(
        got & (libc::EPOLLERR | libc::EPOLLHUP | libc::EPOLLIN) as u32,
        (libc::EPOLLERR | libc::EPOLLHUP | libc::EPOLLIN) as u32
    );
    // SAFETY: live zocket.
    unsafe {
        assert_eq!(zft_state(z), TCP_CLOSE);
        assert_eq!(zft_error(z), libc::ECONNREFUSED);
    }
    let mut msg = TcpMsg::<4>::new();
    // SAFETY: live zocket, msg with 4 iovecs.
    unsafe { zft_zc_recv(z, msg.ptr(), 0) };
    assert_eq!(msg.m.iovcnt, 1);
    assert_eq!(msg.iov[0].iov_len, 0);
    // SAFETY: msg as filled.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_zc_recv_done(z, &mut msg.m) },
        -libc::ECONNREFUSED
    );
    // SAFETY: live zocket, valid iovec.
    assert_eq!(unsafe { zft_recv(z, &v, 1, 0) }, -libc::ECONNREFUSED);
    // Edge-triggered: nothing new to report now.
    // SAFETY: live muxer.
    assert_eq!(unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 0) }, 0);
    // Re-arming reports the (still true) readiness again.
    // SAFETY: live waitable in a set.
    unsafe { zf_muxer_mod(zft_to_waitable(z), zf_waitable_event(zft_to_waitable(z))) };
    // SAFETY: live muxer.
    assert_eq!(unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 0) }, 1);
    // SAFETY: live objects, freed once (zocket first: the muxer memory waits for it).
    unsafe {
        zf_muxer_free(mux);
        assert_eq!(zft_free(z), 0);
    }
    free_stack(st, a);
}

#[test]
fn peer_reset_gives_econnreset() {
    isolated!("peer_reset_gives_econnreset");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, s) = connected_pair(st, a);
    linger_zero(&s);
    drop(s);
    // SAFETY: live zocket.
    poll_until(st, "reset", || unsafe { zft_state(z) } == TCP_CLOSE);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_error(z) }, libc::ECONNRESET);
    let mut b = [0u8; 8];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 8,
    };
    // SAFETY: live zocket, valid iovec.
    assert_eq!(unsafe { zft_recv(z, &v, 1, 0) }, -libc::ECONNRESET);
    // SAFETY: live zocket, valid buffer.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_send_single(z, b.as_ptr().cast(), 8, 0) },
        -(libc::ENOTCONN as isize)
    );
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    free_stack(st, a);
}

#[test]
fn waitable_fd_and_stack_waitable() {
    isolated!("waitable_fd_and_stack_waitable");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut s) = connected_pair(st, a);

    let mut fd: c_int = -1;
    // SAFETY: live stack, valid out pointer.
    assert_eq!(unsafe { zf_waitable_fd_get(st, &mut fd) }, 0);
    assert!(fd >= 0);
    // SAFETY: plain system calls on a new epoll set watching the stack's fd.
    let ep = unsafe { libc::epoll_create1(0) };
    let mut e = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 9,
    };
    // SAFETY: valid fds and event.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut e) },
        0
    );
    // Let the reactor settle, prime, and check the fd is quiet while nothing happens.
    reactor_passes(st, 10);
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_waitable_fd_prime(st) }, 0);
    let mut out = [libc::epoll_event { events: 0, u64: 0 }; 1];
    // SAFETY: valid epoll fd and output array.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 1, 50) },
        0,
        "quiet fd"
    );
    s.write_all(b"ping").unwrap();
    // SAFETY: valid epoll fd and output array.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { libc::epoll_wait(ep, out.as_mut_ptr(), 1, 5000) },
        1,
        "fd readable on data"
    );
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_stack_has_pending_work(st) }, 1);
    let mut mux = std::ptr::null_mut();
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_muxer_alloc(st, &mut mux) }, 0);
    let ev = epoll_event {
        events: libc::EPOLLIN as u32,
        data: epoll_data { u64_: 3 },
    };
    let sev = epoll_event {
        events: EPOLLSTACKHUP,
        data: epoll_data { u64_: 4 },
    };
    // SAFETY: live muxer and waitables.
    unsafe {
        assert_eq!(zf_muxer_add(mux, zft_to_waitable(z), &ev), 0);
        assert_eq!(zf_muxer_add(mux, zf_stack_to_waitable(st), &sev), 0);
    }
    let mut evs = [epoll_event::default(); 4];
    // SAFETY: live muxer.
    let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 1_000_000_000) };
    assert_eq!(n, 1, "only the zocket: the stack is not quiescent");
    // SAFETY: union of plain integers.
    assert_eq!(unsafe { evs[0].data.u64_ }, 3);
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_stack_is_quiescent(st) }, 0);
    // Orderly close from both sides; freeing the zocket lets the stack become quiescent.
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_shutdown_tx(z) }, 0);
    let mut buf = [0u8; 16];
    // Read the ping then EOF on the peer.
    let mut got = 0;
    loop {
        // SAFETY: live stack (drive our FIN out).
        unsafe { zf_reactor_perform(st) };
        let n = s.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got += n;
        assert!(got < 100);
    }
    drop(s);
    let mut b = [0u8; 16];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 16,
    };
    // SAFETY: live zocket.
    poll_until(
        st,
        "data then EOF",
        || unsafe { zft_recv(z, &v, 1, 0) } == 0,
    );
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    let t0 = Instant::now();
    let mut hup = false;
    while !hup && t0.elapsed() < LIMIT {
        // SAFETY: live muxer.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 10_000_000) };
        for e in &evs[..n.max(0) as usize] {
            // SAFETY: union of plain integers.
            if unsafe { e.data.u64_ } == 4 {
                assert_eq!({ e.events }, EPOLLSTACKHUP);
                hup = true;
            }
        }
    }
    assert!(hup, "EPOLLSTACKHUP once quiescent");
    // SAFETY: valid fd; the stack's own fd is not closed by us.
    unsafe { libc::close(ep) };
    // SAFETY: live muxer (its remaining member is the stack's waitable, freed with the stack).
    unsafe { zf_muxer_del(zf_stack_to_waitable(st)) };
    // SAFETY: live muxer, freed once.
    unsafe { zf_muxer_free(mux) };
    free_stack(st, a);
}

#[test]
fn bad_input_gives_errors_not_crashes() {
    isolated!("bad_input_gives_errors_not_crashes");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("max_tcp_endpoints", 2)]);
    let any = sin(SocketAddrV4::new(std::net::Ipv4Addr::UNSPECIFIED, 0));
    let (pa, la) = sa(&any);
    let mut tl = std::ptr::null_mut();
    let good = sin(lo(0));
    let (pg, lg) = sa(&good);
    let mut v6 = good;
    v6.sin_family = libc::AF_INET6 as libc::sa_family_t;
    let (p6, l6) = sa(&v6);
    // SAFETY: every pointer is valid or deliberately null.
    unsafe {
        assert_eq!(zftl_listen(st, pa, la, a, &mut tl), -libc::EOPNOTSUPP);
        assert_eq!(
            zftl_listen(st, std::ptr::null(), lg, a, &mut tl),
            -libc::EFAULT
        );
        assert_eq!(zftl_listen(st, pg, 4, a, &mut tl), -libc::EINVAL);
        assert_eq!(zftl_listen(st, p6, l6, a, &mut tl), -libc::EAFNOSUPPORT);
        assert_eq!(
            zftl_listen(std::ptr::null_mut(), pg, lg, a, &mut tl),
            -libc::EINVAL
        );
        assert_eq!(
            zftl_accept(std::ptr::null_mut(), std::ptr::null_mut()),
            -libc::EINVAL
        );
        assert_eq!(
            zft_send(std::ptr::null_mut(), std::ptr::null(), 1, 0),
            -(libc::EINVAL as isize)
        );
        assert_eq!(
            zft_recv(std::ptr::null_mut(), std::ptr::null(), 1, 0),
            -libc::EINVAL
        );
        assert_eq!(zft_free(std::ptr::null_mut()), -libc::EINVAL);
        zft_zc_recv(std::ptr::null_mut(), std::ptr::null_mut(), 0);
        assert!(zft_to_waitable(std::ptr::null_mut()).is_null());
        assert_eq!(
            zf_muxer_add(std::ptr::null_mut(), std::ptr::null_mut(), std::ptr::null()),
            -libc::EINVAL
        );
        assert_eq!(zf_muxer_del(std::ptr::null_mut()), -libc::EINVAL);
        assert_eq!(
            zf_muxer_wait(std::ptr::null_mut(), std::ptr::null_mut(), 1, 0),
            0
        );

        // Handles: bind errors, limits, flags, free.
        let mut h1 = std::ptr::null_mut();
        let mut h2 = std::ptr::null_mut();
        let mut h3 = std::ptr::null_mut();
        assert_eq!(zft_alloc(st, a, &mut h1), 0);
        assert_eq!(zft_alloc(st, a, &mut h2), 0);
        assert_eq!(
            zft_alloc(st, a, &mut h3),
            -libc::ENOBUFS,
            "max_tcp_endpoints=2"
        );
        assert_eq!(
            zft_addr_bind(h1, pg, lg, 1),
            -libc::EINVAL,
            "flags must be 0"
        );
        assert_eq!(zft_addr_bind(h1, p6, l6, 0), -libc::EAFNOSUPPORT);
        assert_eq!(zft_addr_bind(h1, pg, lg, 0), 0);
        assert_eq!(zft_addr_bind(h1, pg, lg, 0), -libc::EINVAL, "already bound");
        let mut b = sin(lo(0));
        let mut bl = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
        zft_handle_getname(h1, (&mut b as *mut libc::sockaddr_in).cast(), &mut bl);
        assert_ne!(from_sin(&b).port(), 0);
        // Another handle cannot bind the same address.
        let (pb, lb) = sa(&b);
        assert_eq!(zft_addr_bind(h2, pb, lb, 0), -libc::EADDRINUSE);
        let mut z = std::ptr::null_mut();
        assert_eq!(
            zft_connect(h2, p6, l6, &mut z),
            -libc::EAFNOSUPPORT,
            "handle still valid after failure"
        );
        // Operations on an unconnected handle.
        let mut space = 0usize;
        assert_eq!(zft_send_space(h2.cast(), &mut space), -libc::ENOTCONN);
        assert_eq!(zft_get_mss(h2.cast()), -libc::ENOTCONN);
        assert_eq!(zft_state(h2.cast()), TCP_CLOSE);
        assert_eq!(zft_handle_free(h1), 0);
        assert_eq!(zft_handle_free(h2), 0);
    }
    // An interface that does not exist, and no interface at all.
    let mut bad = std::ptr::null_mut();
    // SAFETY: valid out pointers and C strings.
    unsafe {
        assert_eq!(zf_attr_alloc(&mut bad), 0);
        let mut s2 = std::ptr::null_mut();
        assert_eq!(zf_stack_alloc(bad, &mut s2), -libc::EINVAL, "no interface");
        assert_eq!(
            zf_attr_set_str(bad, c"interface".as_ptr(), c"nosuchif0".as_ptr()),
            0
        );
        assert_eq!(zf_stack_alloc(bad, &mut s2), -libc::ENODEV);
        assert_eq!(zf_stack_alloc(std::ptr::null_mut(), &mut s2), -libc::EINVAL);
        zf_attr_free(bad);
    }
    free_stack(st, a);
}

#[test]
fn zero_copy_buffers_stay_until_done_and_done_some_keeps_the_rest() {
    isolated!("zero_copy_buffers_stay_until_done_and_done_some_keeps_the_rest");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("rx_timestamping", 1), ("tx_timestamping", 1)]);
    let (z, mut s) = connected_pair(st, a);
    s.write_all(b"hello world").unwrap();
    let mut msg = TcpMsg::<4>::new();
    poll_until(st, "data", || {
        // SAFETY: live zocket; msg with 4 iovecs.
        unsafe { zft_zc_recv(z, msg.ptr(), 0) };
        if msg.m.iovcnt > 0 {
            return true;
        }
        false
    });
    let first = msg.iov[0];
    // SAFETY: the buffer is valid until done.
    let text =
        unsafe { std::slice::from_raw_parts(first.iov_base as *const u8, first.iov_len) }.to_vec();
    assert!(text.starts_with(b"hello"));
    // More data arriving while the buffer is held does not disturb it.
    s.write_all(b"!!").unwrap();
    std::thread::sleep(Duration::from_millis(20));
    reactor_passes(st, 10);
    // SAFETY: still held.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { std::slice::from_raw_parts(first.iov_base as *const u8, first.iov_len) },
        &text[..]
    );
    let mut tsv = timespec::default();
    let mut flags = 0u32;
    // SAFETY: live zocket, msg as filled, valid outs.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_pkt_get_timestamp(z, &msg.m, &mut tsv, 0, &mut flags) },
        0
    );
    assert!(tsv.tv_sec > 0);
    // Consume 6 bytes only ("hello "); the rest comes back first next time.
    // SAFETY: msg as filled.
    assert_eq!(unsafe { zft_zc_recv_done_some(z, &mut msg.m, 6) }, 1);
    let mut got = Vec::new();
    poll_until(st, "rest", || {
        // SAFETY: live zocket; msg with 4 iovecs.
        unsafe { zft_zc_recv(z, msg.ptr(), 0) };
        for v in &msg.iov[..msg.m.iovcnt as usize] {
            // SAFETY: valid until done.
            got.extend_from_slice(unsafe {
                std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
            });
        }
        if msg.m.iovcnt > 0 {
            // SAFETY: msg as filled.
            unsafe { zft_zc_recv_done(z, &mut msg.m) };
        }
        got.len() >= 7
    });
    assert_eq!(&got[..], b"world!!");
    // TX timestamps: SYN plus one report per send.
    // SAFETY: live zocket, valid buffer.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_send_single(z, b"abc".as_ptr().cast(), 3, 0) },
        3
    );
    let mut reps = [zf_pkt_report::default(); 8];
    let mut cnt: c_int = 8;
    // SAFETY: live zocket, array of cnt entries.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zft_get_tx_timestamps(z, reps.as_mut_ptr(), &mut cnt) },
        0
    );
    assert_eq!(cnt, 2);
    assert_ne!(reps[0].flags as u32 & ZF_PKT_REPORT_TCP_SYN, 0);
    assert_eq!((reps[1].start, reps[1].bytes), (0, 3));
    // Freeing a zocket with unread data resets the connection.
    s.write_all(b"unread").unwrap();
    // Wait until it is queued (and keep the buffers held: freeing then is allowed too).
    poll_until(st, "unread data", || {
        // SAFETY: live zocket; msg with 4 iovecs.
        unsafe { zft_zc_recv(z, msg.ptr(), 0) };
        msg.m.iovcnt > 0
    });
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut sink = [0u8; 64];
    let mut reset = false;
    for _ in 0..10 {
        match s.read(&mut sink) {
            Ok(0) => break,
            Ok(_) => continue,
            Err(e) => {
                assert_eq!(e.raw_os_error(), Some(libc::ECONNRESET));
                reset = true;
                break;
            }
        }
    }
    assert!(reset, "peer saw a reset");
    free_stack(st, a);
}

#[test]
fn freed_listener_keeps_its_port_until_accepted_zockets_go() {
    isolated!("freed_listener_keeps_its_port_until_accepted_zockets_go");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let la = sin(lo(port));
    let (p, l) = sa(&la);
    let mut tl = std::ptr::null_mut();
    // SAFETY: live stack, valid arguments.
    assert_eq!(unsafe { zftl_listen(st, p, l, a, &mut tl) }, 0);
    let mut tl2 = std::ptr::null_mut();
    // SAFETY: as above.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zftl_listen(st, p, l, a, &mut tl2) },
        -libc::EADDRINUSE
    );
    let client = TcpStream::connect(lo(port)).unwrap();
    let mut z = std::ptr::null_mut();
    // SAFETY: live listener.
    poll_until(st, "accept", || unsafe { zftl_accept(tl, &mut z) } == 0);
    // SAFETY: live listener, freed once.
    assert_eq!(unsafe { zftl_free(tl) }, 0);
    // The port is still held, and new connections are refused.
    // SAFETY: live stack, valid arguments.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zftl_listen(st, p, l, a, &mut tl2) },
        -libc::EADDRINUSE
    );
    let refused = TcpStream::connect(lo(port));
    assert!(refused.is_err(), "no new connections after zftl_free");
    // The accepted zocket still works.
    let mut c = client;
    c.write_all(b"still here").unwrap();
    let mut b = [0u8; 32];
    let v = iovec {
        iov_base: b.as_mut_ptr().cast(),
        iov_len: 32,
    };
    let mut n = 0;
    // SAFETY: live zocket, valid iovec.
    poll_until(st, "data", || {
        // SAFETY: live objects and valid buffers created by this test.
        n = unsafe { zft_recv(z, &v, 1, 0) };
        n > 0
    });
    assert_eq!(&b[..n as usize], b"still here");
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    // SAFETY: live stack, valid arguments.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zftl_listen(st, p, l, a, &mut tl2) },
        0,
        "port free again"
    );
    // SAFETY: live listener, freed once.
    assert_eq!(unsafe { zftl_free(tl2) }, 0);
    drop(c);
    free_stack(st, a);
}

#[test]
fn time_wait_counts_only_with_tcp_wait_for_time_wait() {
    isolated!("time_wait_counts_only_with_tcp_wait_for_time_wait");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("tcp_wait_for_time_wait", 1), ("tcp_timewait_ms", 300)]);
    let (z, mut s) = connected_pair(st, a);
    // SAFETY: live zocket.
    assert_eq!(unsafe { zft_shutdown_tx(z) }, 0);
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut b = [0u8; 8];
    // Drive our FIN out, then the peer closes too.
    let t0 = Instant::now();
    loop {
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
        s.set_nonblocking(true).unwrap();
        match s.read(&mut b) {
            Ok(0) => break,
            Ok(_) => panic!("no data expected"),
            Err(_) => assert!(t0.elapsed() < LIMIT),
        }
    }
    drop(s);
    // SAFETY: live zocket.
    poll_until(st, "TIME_WAIT", || unsafe { zft_state(z) } == TCP_TIME_WAIT);
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_stack_is_quiescent(st) }, 0, "TIME_WAIT counts");
    let t1 = Instant::now();
    // SAFETY: live zocket.
    poll_until(
        st,
        "TIME_WAIT expiry",
        || unsafe { zft_state(z) } == TCP_CLOSE,
    );
    assert!(
        t1.elapsed() >= Duration::from_millis(200),
        "tcp_timewait_ms honoured"
    );
    // SAFETY: live stack.
    assert_eq!(unsafe { zf_stack_is_quiescent(st) }, 1);
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zft_free(z) }, 0);
    free_stack(st, a);
}
