//! Same-stack group: both ends of every exchange on one TCPDirect stack (as TCPDirect's own
//! emulator runs its unit tests). Attributes come from `ZF_ATTR` when set; nothing here relies
//! on what only the software backend does. Each test runs in a network namespace of its own.

mod common;

use std::io::{IoSlice, Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use tcpdirect::{Error, Event, Readiness, Stack, StackEvents, TcpState};

const MIB: usize = 1 << 20;

#[test]
fn connect_and_exchange_1mib_each_way() {
    in_netns("connect_and_exchange_1mib_each_way", || {
        let mut st = stack("");
        let (l, c, s) = connected_pair(&mut st, 5001);
        assert_eq!(st.listener_addr(l).unwrap().port(), 5001);
        let (cl, cp) = st.tcp_ref(c).unwrap().addrs();
        let (sl, sp) = st.tcp_ref(s).unwrap().addrs();
        assert_eq!(std::net::SocketAddr::V4(cp), lo(5001));
        assert_eq!(sl, cp);
        assert_eq!(sp, cl);
        let t = st.tcp_ref(c).unwrap();
        let mss = t.mss().unwrap();
        assert!(mss > 0 && mss <= 65495, "mss {mss}");
        assert!(t.header_size() >= 54, "header size {}", t.header_size());
        assert!(t.send_space().unwrap() > 0);
        assert!(t.error().is_none());

        let up: Vec<u8> = (0..MIB).map(|i| pat(1, i)).collect();
        let down: Vec<u8> = (0..MIB).map(|i| pat(2, i)).collect();
        assert!(
            transfer(&mut st, c, s, &up) == up,
            "client to server intact"
        );
        assert!(
            transfer(&mut st, s, c, &down) == down,
            "server to client intact"
        );
    });
}

#[test]
fn copy_receive_read_write_and_vectored_send() {
    in_netns("copy_receive_read_write_and_vectored_send", || {
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5002);
        // Nothing yet: WouldBlock.
        let mut buf = [0u8; 64];
        let e = st.tcp(s).unwrap().recv(&mut buf).unwrap_err();
        assert!(e.is_would_block(), "{e}");
        let e = st.tcp(s).unwrap().read(&mut buf).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::WouldBlock);

        st.tcp_ref(c).unwrap().write_all(b"hello ").unwrap();
        let n = st
            .tcp_ref(c)
            .unwrap()
            .send_vectored(&[IoSlice::new(b"vec"), IoSlice::new(b"tored")], false)
            .unwrap();
        assert_eq!(n, 8);
        assert!(
            st.tcp_ref(c)
                .unwrap()
                .send_vectored(&[IoSlice::new(b"")], false)
                .is_err(),
            "empty iovec refused"
        );
        let got = recv_at_least(&mut st, s, 14, "14 bytes");
        assert_eq!(got, b"hello vectored");
    });
}

#[test]
fn zero_copy_partial_release_then_rest() {
    in_netns("zero_copy_partial_release_then_rest", || {
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5003);
        let data: Vec<u8> = (0..100).map(|i| pat(3, i)).collect();
        assert_eq!(st.tcp_ref(c).unwrap().send(&data).unwrap(), 100);
        let mut first = Vec::new();
        poll_until(&mut st, "data", |st| {
            let mut t = st.tcp(s).unwrap();
            match t.zc_recv() {
                Some(m) => {
                    assert!(m.packets() >= 1 && !m.is_eof());
                    first = m.iter().flatten().copied().collect();
                    assert!(m.release_some(10).unwrap(), "still open");
                    true
                }
                None => false,
            }
        });
        assert_eq!(first[..], data[..first.len()]);
        // The unreleased bytes come again, from offset 10.
        let mut rest = Vec::new();
        poll_until(&mut st, "rest", |st| {
            if let Some(m) = st.tcp(s).unwrap().zc_recv() {
                rest.extend(m.iter().flatten().copied());
            }
            rest.len() >= 90
        });
        assert_eq!(rest[..], data[10..]);
    });
}

#[test]
fn shutdown_eof_close_and_quiescence() {
    in_netns("shutdown_eof_close_and_quiescence", || {
        let mut st = stack("tcp_wait_for_time_wait=0");
        let (l, c, s) = connected_pair(&mut st, 5004);
        assert!(!st.is_quiescent(), "open connections: not quiescent");
        st.tcp_ref(c).unwrap().send(b"last words").unwrap();
        st.tcp_ref(c).unwrap().shutdown_tx().unwrap();
        assert!(matches!(
            st.tcp_ref(c).unwrap().state(),
            TcpState::FinWait1 | TcpState::FinWait2
        ));
        assert!(
            st.tcp_ref(c).unwrap().send(b"x").is_err(),
            "send after shutdown"
        );
        // The server reads the data, then EOF: a zero-length packet, done() false.
        let mut got = Vec::new();
        let mut eof = false;
        poll_until(&mut st, "EOF", |st| {
            let mut t = st.tcp(s).unwrap();
            if let Some(m) = t.zc_recv() {
                got.extend(m.iter().flatten().copied());
                if m.is_eof() {
                    eof = true;
                    assert!(!m.done().unwrap(), "done() says EOF");
                }
            }
            eof
        });
        assert_eq!(got, b"last words");
        let mut b = [0u8; 8];
        assert_eq!(st.tcp(s).unwrap().recv(&mut b).unwrap(), 0, "EOF stays");
        assert_eq!(st.tcp_ref(s).unwrap().state(), TcpState::CloseWait);
        // The server may still send; then it closes too.
        st.tcp_ref(s).unwrap().send(b"bye").unwrap();
        st.tcp_ref(s).unwrap().shutdown_tx().unwrap();
        let mut got = Vec::new();
        poll_until(&mut st, "client EOF", |st| {
            let mut t = st.tcp(c).unwrap();
            match t.recv(&mut b) {
                Ok(0) => return true,
                Ok(n) => got.extend_from_slice(&b[..n]),
                Err(e) => assert!(e.is_would_block(), "{e}"),
            }
            false
        });
        assert_eq!(got, b"bye");
        st.free(c).unwrap();
        st.free(s).unwrap();
        st.free(l).unwrap();
        assert!(matches!(st.tcp_ref(c), Err(Error::StaleKey { .. })));
        poll_until(&mut st, "quiescence", |st| st.is_quiescent());
        assert_eq!(st.object_count(), 0);
    });
}

#[test]
fn free_with_unread_data_resets_the_peer() {
    in_netns("free_with_unread_data_resets_the_peer", || {
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5005);
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &s, Readiness::IN, 7).unwrap();
        st.tcp_ref(c).unwrap().send(b"never read").unwrap();
        let mut ev = [Event::default(); 4];
        let t0 = Instant::now();
        loop {
            assert!(t0.elapsed() < LIMIT, "no EPOLLIN");
            let got = st
                .muxer_wait(mux, &mut ev, Some(Duration::from_millis(10)))
                .unwrap();
            if got
                .iter()
                .any(|e| e.data() == 7 && e.readiness().contains(Readiness::IN))
            {
                break;
            }
        }
        // Unread data at free: the connection is aborted with a RST, which the client's
        // waitable reports as an error and a hang-up.
        st.muxer_add(mux, &c, Readiness::ERR | Readiness::HUP, 8)
            .unwrap();
        st.free(s).unwrap();
        let t0 = Instant::now();
        loop {
            assert!(t0.elapsed() < LIMIT, "no EPOLLERR|EPOLLHUP");
            let got = st
                .muxer_wait(mux, &mut ev, Some(Duration::from_millis(10)))
                .unwrap();
            if got
                .iter()
                .any(|e| e.data() == 8 && e.readiness().contains(Readiness::ERR | Readiness::HUP))
            {
                break;
            }
        }
        poll_until(&mut st, "reset seen by the client", |st| {
            st.tcp_ref(c).unwrap().state() == TcpState::Closed
        });
        let e = st.tcp_ref(c).unwrap().error().expect("an error");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
        let mut b = [0u8; 4];
        let e = st.tcp(c).unwrap().recv(&mut b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    });
}

#[test]
fn muxer_reports_each_readiness() {
    in_netns("muxer_reports_each_readiness", || {
        let mut st = stack("tcp_wait_for_time_wait=0");
        let mux = st.muxer().unwrap();
        let l = st.listen(lo(5006)).unwrap();
        st.muxer_add(mux, &l, Readiness::IN, 1).unwrap();
        let c = st.tcp_connect(lo(5006)).unwrap();
        let mut ev = [Event::default(); 8];
        let wait_for = |st: &Stack, ev: &mut [Event], data: u64, r: Readiness| {
            let t0 = Instant::now();
            loop {
                assert!(t0.elapsed() < LIMIT, "no {r:?} for {data}");
                let got = st
                    .muxer_wait(mux, ev, Some(Duration::from_millis(5)))
                    .unwrap();
                if got
                    .iter()
                    .any(|e| e.data() == data && e.readiness().intersects(r))
                {
                    return;
                }
            }
        };
        // A connection to accept.
        wait_for(&st, &mut ev, 1, Readiness::IN);
        let mut s = None;
        poll_until(&mut st, "accept", |st| {
            s = st.accept(l).unwrap();
            s.is_some()
        });
        let s = s.unwrap();
        poll_until(&mut st, "established", |st| {
            st.tcp_ref(c).unwrap().state() == TcpState::Established
        });
        // Send space.
        st.muxer_add(mux, &c, Readiness::OUT, 2).unwrap();
        wait_for(&st, &mut ev, 2, Readiness::OUT);
        // Data to receive.
        st.muxer_add(mux, &s, Readiness::IN | Readiness::HUP, 3)
            .unwrap();
        st.tcp_ref(c).unwrap().send(b"ping").unwrap();
        wait_for(&st, &mut ev, 3, Readiness::IN);
        let mut b = [0u8; 8];
        assert_eq!(st.tcp(s).unwrap().recv(&mut b).unwrap(), 4);
        // Modified data, re-armed.
        st.muxer_modify(&c, Readiness::IN, 4).unwrap();
        st.tcp_ref(s).unwrap().send(b"pong").unwrap();
        wait_for(&st, &mut ev, 4, Readiness::IN);
        // Deleted: no more events for it.
        st.muxer_delete(&c).unwrap();
        st.tcp_ref(s).unwrap().send(b"more").unwrap();
        for _ in 0..50 {
            let got = st
                .muxer_wait(mux, &mut ev, Some(Duration::from_millis(1)))
                .unwrap();
            assert!(
                got.iter().all(|e| e.data() != 4),
                "event after delete: {got:?}"
            );
        }
        // End of stream and hang-up on the server side.
        st.tcp_ref(c).unwrap().shutdown_tx().unwrap();
        wait_for(&st, &mut ev, 3, Readiness::IN);
        // The stack itself: STACK_HUP once everything has closed.
        st.muxer_add(mux, &StackEvents, Readiness::STACK_HUP, 9)
            .unwrap();
        st.tcp_ref(s).unwrap().shutdown_tx().unwrap();
        st.free(c).unwrap();
        st.free(s).unwrap();
        st.free(l).unwrap();
        wait_for(&st, &mut ev, 9, Readiness::STACK_HUP);
        assert!(st.is_quiescent());
        // Stale keys cannot be added.
        assert!(matches!(
            st.muxer_add(mux, &c, Readiness::IN, 0),
            Err(Error::StaleKey { .. })
        ));
    });
}

#[test]
fn alternatives_send_cancel_and_space() {
    in_netns("alternatives_send_cancel_and_space", || {
        let mut st = stack("alt_count=2;alt_buf_size=40960");
        let (_l, c, s) = connected_pair(&mut st, 5007);
        let a1 = st.alternative().unwrap();
        let a2 = st.alternative().unwrap();
        let space0 = st.alt_free_space(a1).unwrap();
        assert!(space0 > 0);
        let o = st.tcp_ref(c).unwrap().alt_overhead().unwrap();
        assert!(o.usage(100) >= 100, "{o:?}");
        st.alt_queue(a1, c, b"choice one").unwrap();
        st.alt_queue(a2, c, b"choice two").unwrap();
        assert!(st.alt_free_space(a1).unwrap() < space0);
        st.alt_send(a1).unwrap();
        st.alt_cancel(a2).unwrap();
        let got = recv_at_least(&mut st, s, 10, "the alternative's bytes");
        assert_eq!(got, b"choice one");
        let mut b = [0u8; 64];
        // A normal send after the alternatives goes through.
        poll_until(&mut st, "send after alternatives", |st| {
            st.tcp_ref(c).unwrap().send(b"!").is_ok()
        });
        poll_until(
            &mut st,
            "normal byte",
            |st| matches!(st.tcp(s).unwrap().recv(&mut b), Ok(1) if b[0] == b'!'),
        );
        st.free(a1).unwrap();
        st.free(a2).unwrap();
        // Without alt_count, no alternatives.
        let mut plain = stack("");
        assert!(plain.alternative().is_err());
    });
}

#[test]
fn udp_both_ways_with_headers() {
    in_netns("udp_both_ways_with_headers", || {
        let mut st = stack("");
        let (a, b) = (lo(6001), lo(6002));
        let (ra, bound_a) = st.udp_bind(a, None).unwrap();
        let (rb, _) = st.udp_bind(b, None).unwrap();
        assert_eq!(std::net::SocketAddr::V4(bound_a), a);
        let ta = st.udp_sender(a, b).unwrap();
        let tb = st.udp_sender(b, a).unwrap();
        let tx = st.udp_tx(ta).unwrap();
        assert!(tx.mss().unwrap() >= 1472, "mss");
        assert_eq!(tx.header_size(), 42);
        tx.send(b"a to b").unwrap();
        // b receives, and answers while still holding the datagram.
        poll_until(&mut st, "a to b", |st| {
            let mut rx = st.udp_rx(rb).unwrap();
            let Some(m) = rx.zc_recv() else { return false };
            assert_eq!(m.data(), b"a to b");
            let h = m.headers().unwrap();
            assert_eq!(std::net::SocketAddr::V4(h.source()), a);
            assert_eq!(std::net::SocketAddr::V4(h.destination()), b);
            assert_eq!(h.udp_len() as usize, 8 + 6);
            m.stack().udp_tx(tb).unwrap().send(m.data()).unwrap();
            true
        });
        poll_until(&mut st, "echo to a", |st| {
            let mut rx = st.udp_rx(ra).unwrap();
            let Some(m) = rx.zc_recv() else { return false };
            assert_eq!(m.data(), b"a to b");
            true
        });
        // A datagram from several buffers.
        let n = st
            .udp_tx(ta)
            .unwrap()
            .send_vectored(&[IoSlice::new(b"gath"), IoSlice::new(b"ered")], false)
            .unwrap();
        assert_eq!(n, 8);
        let mut buf = [0u8; 16];
        let mut got = None;
        poll_until(&mut st, "gathered", |st| {
            got = st.udp_rx(rb).unwrap().recv(&mut buf);
            got.is_some()
        });
        assert_eq!(&buf[..got.unwrap()], b"gathered");
        // Unbound: nothing more arrives on b.
        st.udp_rx(rb).unwrap().unbind(b, None).unwrap();
        st.udp_tx(ta).unwrap().send(b"gone").unwrap();
        for _ in 0..200 {
            st.reactor_perform();
            assert!(
                st.udp_rx(rb).unwrap().zc_recv().is_none(),
                "datagram after unbind"
            );
        }
    });
}

#[test]
fn keys_are_checked_and_bad_input_is_an_error() {
    in_netns("keys_are_checked_and_bad_input_is_an_error", || {
        let mut st = stack("");
        let mut other = stack("");
        let (_l, c, _s) = connected_pair(&mut st, 5009);
        // Stack queries answer without error.
        st.has_feature(tcpdirect::Feature::Pio).unwrap();
        st.has_feature(tcpdirect::Feature::Ctpio).unwrap();
        let _ = st.has_pending_events();
        let mut spin = attr();
        spin.set_reactor_spin_count(1).unwrap();
        let _ = st.reactor_perform_with(&spin);
        // A key from another stack names nothing there.
        assert!(matches!(
            other.tcp(c),
            Err(Error::StaleKey { kind: "TCP zocket" })
        ));
        // IPv6 is refused with a clear error.
        let v6: std::net::SocketAddr = "[::1]:5000".parse().unwrap();
        let e = st.listen(v6).unwrap_err();
        assert!(e.to_string().contains("IPv4"), "{e}");
        // A failed connect gives the handle back.
        let h = st.tcp_handle().unwrap();
        st.bind_tcp_handle(&h, lo(5999)).unwrap();
        assert_eq!(st.tcp_handle_addr(&h).unwrap().port(), 5999);
        let back = st.connect(h, v6).unwrap_err();
        assert!(matches!(back.error, Error::Ipv6Unsupported { .. }));
        st.free_tcp_handle(back.handle).unwrap();
        // Freed keys are stale, also for a second free.
        st.free(c).unwrap();
        assert!(matches!(st.free(c), Err(Error::StaleKey { .. })));
        // Slot reuse does not revive an old key.
        let c2 = st.tcp_connect(lo(5009)).unwrap();
        assert_ne!(c, c2);
        assert!(st.tcp_ref(c).is_err());
        assert!(st.tcp_ref(c2).is_ok());
    });
}

/// The SDK's zftcpmtpong shape: the stack under one mutex, a sender thread locking it, the
/// I/O thread checking for work without the lock.
#[test]
fn stack_under_a_mutex_and_on_another_thread() {
    in_netns("stack_under_a_mutex_and_on_another_thread", || {
        struct App {
            stack: Stack,
            client: tcpdirect::TcpKey,
            server: tcpdirect::TcpKey,
        }
        let mut st = stack("");
        let (_l, client, server) = connected_pair(&mut st, 5010);
        let probe = st.pending_work_probe();
        let app = Arc::new(Mutex::new(App {
            stack: st,
            client,
            server,
        }));
        let sender = {
            let app = app.clone();
            std::thread::spawn(move || {
                for i in 0..100u8 {
                    loop {
                        let a = app.lock().unwrap();
                        match a.stack.tcp_ref(a.client).unwrap().send(&[i]) {
                            Ok(1) => break,
                            Ok(n) => panic!("sent {n}"),
                            Err(e) => assert!(e.is_would_block(), "{e}"),
                        }
                    }
                }
            })
        };
        let mut got = Vec::new();
        let t0 = Instant::now();
        while got.len() < 100 {
            assert!(t0.elapsed() < LIMIT, "got {}", got.len());
            let _ = probe.has_pending_work(); // no lock needed
            let mut a = app.lock().unwrap();
            let App { stack, server, .. } = &mut *a;
            stack.reactor_perform();
            let mut b = [0u8; 100];
            if let Ok(n) = stack.tcp(*server).unwrap().recv(&mut b) {
                got.extend_from_slice(&b[..n]);
            }
        }
        sender.join().unwrap();
        assert_eq!(got, (0..100u8).collect::<Vec<_>>());
        // The whole app moves to another thread and keeps working there.
        let app = Arc::try_unwrap(app).ok().unwrap().into_inner().unwrap();
        std::thread::spawn(move || {
            let App {
                mut stack,
                client,
                server,
            } = app;
            assert_eq!(transfer(&mut stack, client, server, b"moved"), b"moved");
        })
        .join()
        .unwrap();
    });
}

#[test]
fn waitable_fd_becomes_readable() {
    in_netns("waitable_fd_becomes_readable", || {
        use std::os::fd::AsRawFd;
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5011);
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &s, Readiness::IN, 1).unwrap();
        let fd = st.waitable_fd().unwrap().as_raw_fd();
        st.tcp_ref(c).unwrap().send(b"wake").unwrap();
        let t0 = Instant::now();
        // As zfsink -w does: prime, sleep in poll(2), then run the reactor.
        loop {
            assert!(t0.elapsed() < LIMIT, "waitable fd never readable");
            st.waitable_fd().unwrap().prime().unwrap();
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            if unsafe { libc::poll(&mut p, 1, 100) } == 1 {
                break;
            }
            st.reactor_perform();
        }
        let mut ev = [Event::default(); 2];
        let got = st
            .muxer_wait(mux, &mut ev, Some(Duration::from_secs(5)))
            .unwrap();
        assert!(got.iter().any(|e| e.data() == 1));
    });
}

#[test]
fn delegated_send_prepare_and_cancel() {
    in_netns("delegated_send_prepare_and_cancel", || {
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5012);
        let mut hdr = [0u8; 128];
        {
            let t = st.tcp_ref(c).unwrap();
            let mut ds = t.delegated_send(&mut hdr, 1000, 0).expect("prepare");
            assert!(ds.headers().len() >= 54, "{ds:?}");
            assert!(ds.mss() > 0);
            assert!(ds.delegated_window() > 0);
            ds.update(10, true).unwrap();
            ds.advance(10).unwrap();
            ds.cancel().unwrap();
            let mut tiny = [0u8; 8];
            match t.delegated_send(&mut tiny, 1000, 0) {
                Err(tcpdirect::DelegatedSendError::SmallHeader { needed }) => assert!(needed > 8),
                other => panic!("small header: {other:?}"),
            }
        }
        // Normal sending resumes after the cancel.
        assert_eq!(transfer(&mut st, c, s, b"normal again"), b"normal again");
    });
}

#[test]
fn overlapped_receive_keeps_the_byte_stream_exact() {
    in_netns("overlapped_receive_keeps_the_byte_stream_exact", || {
        let mut st = stack("");
        let (_l, c, s) = connected_pair(&mut st, 5012);
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &s, Readiness::IN | Readiness::IN_OVERLAPPED, 1)
            .unwrap();
        let msgs: Vec<Vec<u8>> = (0..200).map(overlapped_message).collect();
        let expected = msgs.concat();
        let run = overlapped_receive(&mut st, mux, s, expected.len(), |st, i| {
            let Some(m) = msgs.get(i) else { return 0 };
            let mut off = 0;
            poll_until(st, "send", |st| {
                match st.tcp_ref(c).unwrap().send(&m[off..]) {
                    Ok(n) => off += n,
                    Err(e) => assert!(e.is_would_block(), "{e}"),
                }
                off == m.len()
            });
            m.len()
        });
        check_overlapped_run(
            "same_stack::overlapped_receive_keeps_the_byte_stream_exact",
            &run,
            &expected,
        );
    });
}

#[test]
fn udp_overlapped_receive_delivers_every_datagram_exactly() {
    in_netns(
        "udp_overlapped_receive_delivers_every_datagram_exactly",
        || {
            let mut st = stack("");
            let (a, b) = (lo(6011), lo(6012));
            let (rb, _) = st.udp_bind(b, None).unwrap();
            let ta = st.udp_sender(a, b).unwrap();
            let mux = st.muxer().unwrap();
            st.muxer_add(mux, &rb, Readiness::IN | Readiness::IN_OVERLAPPED, 2)
                .unwrap();
            let mut ev = [Event::default(); 4];
            let (mut events, mut completed, mut failed) = (0, 0, 0);
            for i in 0..50 {
                let m = overlapped_message(i);
                st.udp_tx(ta).unwrap().send(&m).unwrap();
                let t0 = Instant::now();
                let d = loop {
                    assert!(t0.elapsed() < LIMIT, "datagram {i} timed out");
                    let r = st
                        .muxer_wait(mux, &mut ev, Some(Duration::from_millis(1)))
                        .unwrap()
                        .first()
                        .map(Event::readiness);
                    let mut rx = st.udp_rx(rb).unwrap();
                    if r.is_some_and(|r| r.contains(Readiness::IN_OVERLAPPED)) {
                        assert_eq!(r, Some(Readiness::IN_OVERLAPPED), "reported alone");
                        events += 1;
                        let Some(early) = rx.zc_recv_overlapped(2) else {
                            continue;
                        };
                        let first = early.data().to_vec();
                        assert!(first.len() <= 2);
                        match early.complete() {
                            Some(d) => {
                                assert!(d.data().starts_with(&first));
                                completed += 1;
                                break Some(d.data().to_vec());
                            }
                            // Dropped by the NIC; UDP does not send it again.
                            None => {
                                failed += 1;
                                break None;
                            }
                        }
                    }
                    // Plain IN, or a timeout (drained either way).
                    if let Some(d) = rx.zc_recv() {
                        break Some(d.data().to_vec());
                    }
                };
                if let Some(d) = d {
                    assert_eq!(d, m, "datagram {i} exact");
                }
            }
            eprintln!(
                "udp_overlapped_receive_delivers_every_datagram_exactly: {events} overlapped \
             events, {completed} completed, {failed} failed verification"
            );
            if tcpdirect::ffi::SOFTWARE_BACKEND {
                assert!(
                    completed > 0,
                    "the software backend reports overlapped receive"
                );
                assert_eq!(failed, 0, "the software backend's packets always verify");
            } else if events == 0 {
                eprintln!(
                    "NOTE udp_overlapped_receive_delivers_every_datagram_exactly: the overlapped \
                 path was NOT taken (this backend never reported IN_OVERLAPPED); the plain \
                 path delivered every datagram"
                );
            }
        },
    );
}
