//! Kernel-peer group: the other end is a `std::net` socket on 127.0.0.1 in the test's own
//! network namespace. These need the software backend (a NIC-backed stack cannot reach the
//! kernel's loopback); they say so and return on the SDK.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use tcpdirect::{Error, Event, Readiness, Stack, TcpKey, TcpState};

const MIB: usize = 1 << 20;

/// Connects to `to` and drives the connection to ESTABLISHED.
fn connect(st: &mut Stack, to: std::net::SocketAddr) -> TcpKey {
    let c = st.tcp_connect(to).unwrap();
    assert_eq!(
        st.tcp_ref(c).unwrap().state(),
        TcpState::SynSent,
        "connect returns in SYN_SENT"
    );
    poll_until(st, "ESTABLISHED", |st| {
        st.tcp_ref(c).unwrap().state() == TcpState::Established
    });
    c
}

/// Receives until EOF; returns the bytes.
fn recv_to_eof(st: &mut Stack, k: TcpKey) -> Vec<u8> {
    let mut got = Vec::new();
    let mut eof = false;
    poll_until(st, "EOF", |st| {
        let mut t = st.tcp(k).unwrap();
        if let Some(m) = t.zc_recv() {
            got.extend(m.iter().flatten().copied());
            eof = m.is_eof();
        }
        eof
    });
    got
}

#[test]
fn client_exchanges_1mib_each_way_with_kernel_listener() {
    skip_unless_soft!();
    in_netns(
        "client_exchanges_1mib_each_way_with_kernel_listener",
        || {
            let listener = TcpListener::bind("127.0.0.1:7001").unwrap();
            let peer = testkit::pattern_peer(listener, MIB, 7, testkit::PeerFin::AfterSending);
            let mut st = stack("");
            let c = connect(&mut st, lo(7001));
            let out: Vec<u8> = (0..MIB).map(|i| pat(3, i)).collect();
            let mut sent = 0;
            let mut got = Vec::new();
            let mut eof = false;
            let t0 = Instant::now();
            while sent < MIB || !eof {
                assert!(t0.elapsed() < LIMIT, "sent {sent}, got {}", got.len());
                st.reactor_perform();
                if sent < MIB {
                    match st.tcp_ref(c).unwrap().send(&out[sent..]) {
                        Ok(n) => sent += n,
                        Err(e) => assert!(e.is_would_block(), "{e}"),
                    }
                    if sent == MIB {
                        st.tcp_ref(c).unwrap().shutdown_tx().unwrap();
                    }
                }
                if let Some(m) = st.tcp(c).unwrap().zc_recv() {
                    got.extend(m.iter().flatten().copied());
                    eof = m.is_eof();
                }
            }
            assert_eq!(got.len(), MIB);
            assert!(
                got.iter().enumerate().all(|(i, &b)| b == pat(7, i)),
                "received intact"
            );
            assert!(peer.join().unwrap() == out, "peer received intact");
            poll_until(&mut st, "closed", |st| {
                matches!(
                    st.tcp_ref(c).unwrap().state(),
                    TcpState::TimeWait | TcpState::Closed
                )
            });
            assert!(st.tcp_ref(c).unwrap().error().is_none());
        },
    );
}

#[test]
fn listener_serves_kernel_client() {
    skip_unless_soft!();
    in_netns("listener_serves_kernel_client", || {
        let mut st = stack("");
        let l = st.listen(lo(7002)).unwrap();
        let client = std::thread::spawn(|| {
            let mut s = TcpStream::connect("127.0.0.1:7002").unwrap();
            s.set_read_timeout(Some(LIMIT)).unwrap();
            s.write_all(b"hello zocket").unwrap();
            s.shutdown(std::net::Shutdown::Write).unwrap();
            let mut back = Vec::new();
            s.read_to_end(&mut back).unwrap();
            back
        });
        let mut s = None;
        poll_until(&mut st, "accept", |st| {
            s = st.accept(l).unwrap();
            s.is_some()
        });
        let s = s.unwrap();
        let got = recv_to_eof(&mut st, s);
        assert_eq!(got, b"hello zocket");
        st.tcp_ref(s).unwrap().write_all(&got).unwrap();
        st.tcp_ref(s).unwrap().shutdown_tx().unwrap();
        let t0 = Instant::now();
        while !client.is_finished() {
            assert!(t0.elapsed() < LIMIT);
            st.reactor_perform();
        }
        assert_eq!(client.join().unwrap(), b"hello zocket");
    });
}

#[test]
fn connection_refused() {
    skip_unless_soft!();
    in_netns("connection_refused", || {
        let mut st = stack("");
        let c = st.tcp_connect(lo(7003)).unwrap();
        poll_until(&mut st, "refusal", |st| {
            st.tcp_ref(c).unwrap().state() == TcpState::Closed
        });
        let e = st.tcp_ref(c).unwrap().error().expect("error set");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
        let mut b = [0u8; 4];
        let e = st.tcp(c).unwrap().recv(&mut b).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}");
        assert!(matches!(
            e,
            Error::Call {
                call: "zft_recv",
                ..
            }
        ));
    });
}

/// Closes a kernel socket with a RST (SO_LINGER 0).
fn reset(s: TcpStream) {
    testkit::linger_zero(&s);
    drop(s);
}

/// Connects to a kernel peer on 127.0.0.1:`port` that resets the connection at once; runs
/// `after_reset` before any reactor pass, then checks that the zocket ends CLOSED with a
/// connection-reset error. Returns the stack and the zocket.
fn reset_by_peer(port: u16, after_reset: impl FnOnce(&mut Stack, TcpKey)) -> (Stack, TcpKey) {
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let mut st = stack("");
    let c = connect(&mut st, lo(port));
    let (s, _) = listener.accept().unwrap();
    reset(s);
    after_reset(&mut st, c);
    poll_until(&mut st, "reset", |st| {
        st.tcp_ref(c).unwrap().state() == TcpState::Closed
    });
    let e = st.tcp_ref(c).unwrap().error().expect("error set");
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset, "{e}");
    (st, c)
}

#[test]
fn peer_reset() {
    skip_unless_soft!();
    in_netns("peer_reset", || {
        let (st, c) = reset_by_peer(7004, |_, _| {});
        let e = st.tcp_ref(c).unwrap().send(b"x").unwrap_err();
        assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::NotConnected
            ),
            "{e}"
        );
    });
}

#[test]
fn peer_reset_seen_first_by_a_send() {
    skip_unless_soft!();
    in_netns("peer_reset_seen_first_by_a_send", || {
        reset_by_peer(7010, |st, c| {
            std::thread::sleep(Duration::from_millis(50));
            let _ = st.tcp_ref(c).unwrap().send(b"into the void");
        });
    });
}

#[test]
fn peer_close_gives_data_then_eof() {
    skip_unless_soft!();
    in_netns("peer_close_gives_data_then_eof", || {
        let listener = TcpListener::bind("127.0.0.1:7005").unwrap();
        let mut st = stack("");
        let c = connect(&mut st, lo(7005));
        let (mut s, _) = listener.accept().unwrap();
        s.write_all(b"goodbye").unwrap();
        drop(s);
        assert_eq!(recv_to_eof(&mut st, c), b"goodbye");
        assert_eq!(st.tcp_ref(c).unwrap().state(), TcpState::CloseWait);
        assert!(st.tcp_ref(c).unwrap().error().is_none());
        st.tcp_ref(c).unwrap().shutdown_tx().unwrap();
        poll_until(&mut st, "closed", |st| {
            st.tcp_ref(c).unwrap().state() == TcpState::Closed
        });
    });
}

#[test]
fn send_while_connecting_would_block() {
    skip_unless_soft!();
    in_netns("send_while_connecting_would_block", || {
        let _listener = TcpListener::bind("127.0.0.1:7006").unwrap();
        let mut st = stack("");
        let c = st.tcp_connect(lo(7006)).unwrap();
        assert_eq!(st.tcp_ref(c).unwrap().state(), TcpState::SynSent);
        let e = st.tcp_ref(c).unwrap().send(b"early").unwrap_err();
        assert!(e.is_would_block(), "{e}");
    });
}

#[test]
fn sixty_four_clients_connect_at_once() {
    skip_unless_soft!();
    in_netns("sixty_four_clients_connect_at_once", || {
        const N: usize = 64;
        let mut st = stack("max_tcp_endpoints=64");
        let l = st.listen(lo(7007)).unwrap();
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &l, Readiness::IN, u64::MAX).unwrap();
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(N));
        let clients: Vec<_> = (0..N)
            .map(|i| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    b.wait();
                    let mut s = TcpStream::connect("127.0.0.1:7007").unwrap();
                    s.set_read_timeout(Some(LIMIT)).unwrap();
                    s.write_all(&[i as u8]).unwrap();
                    let mut r = [0u8; 1];
                    s.read_exact(&mut r).unwrap();
                    r[0]
                })
            })
            .collect();
        let mut conns = Vec::new();
        let mut served = 0;
        let mut ev = [Event::default(); 16];
        let t0 = Instant::now();
        while served < N {
            assert!(
                t0.elapsed() < LIMIT,
                "accepted {}, served {served}",
                conns.len()
            );
            let got = st
                .muxer_wait(mux, &mut ev, Some(Duration::from_millis(10)))
                .unwrap()
                .to_vec();
            for e in got {
                if e.data() == u64::MAX {
                    while let Some(k) = st.accept(l).unwrap() {
                        st.muxer_add(mux, &k, Readiness::IN, conns.len() as u64)
                            .unwrap();
                        conns.push(k);
                    }
                } else {
                    let k = conns[e.data() as usize];
                    let mut b = [0u8; 1];
                    if let Ok(1) = st.tcp(k).unwrap().recv(&mut b) {
                        st.tcp_ref(k)
                            .unwrap()
                            .send(&[b[0].wrapping_add(1)])
                            .unwrap();
                        served += 1;
                    }
                }
            }
        }
        for (i, c) in clients.into_iter().enumerate() {
            while !c.is_finished() {
                st.reactor_perform();
            }
            assert_eq!(c.join().unwrap(), (i as u8).wrapping_add(1));
        }
        assert_eq!(conns.len(), N);
    });
}

#[test]
fn udp_with_kernel_peer_both_ways() {
    skip_unless_soft!();
    in_netns("udp_with_kernel_peer_both_ways", || {
        let peer = UdpSocket::bind("127.0.0.1:8001").unwrap();
        peer.set_read_timeout(Some(LIMIT)).unwrap();
        let mut st = stack("");
        let (rx, _) = st.udp_bind(lo(8002), None).unwrap();
        let tx = st.udp_sender(lo(8002), lo(8001)).unwrap();
        peer.send_to(b"from the kernel", "127.0.0.1:8002").unwrap();
        poll_until(&mut st, "datagram", |st| {
            let mut r = st.udp_rx(rx).unwrap();
            let Some(m) = r.zc_recv() else { return false };
            assert_eq!(m.data(), b"from the kernel");
            assert_eq!(std::net::SocketAddr::V4(m.source().unwrap()), lo(8001));
            assert!(m.headers().unwrap().ttl() > 0);
            m.stack()
                .udp_tx(tx)
                .unwrap()
                .send(b"from the zocket")
                .unwrap();
            true
        });
        let mut b = [0u8; 4000];
        let (n, from) = peer.recv_from(&mut b).unwrap();
        assert_eq!(&b[..n], b"from the zocket");
        assert_eq!(from, lo(8002));
        // Larger than the MSS, gathered: sent as IP fragments, arrives whole.
        let big: Vec<u8> = (0..3000).map(|i| pat(9, i)).collect();
        let t = st.udp_tx(tx).unwrap();
        assert!(t.mss().unwrap() < big.len());
        let n = t
            .send_vectored(
                &[
                    std::io::IoSlice::new(&big[..1000]),
                    std::io::IoSlice::new(&big[1000..]),
                ],
                false,
            )
            .unwrap();
        assert_eq!(n, big.len());
        let (n, _) = peer.recv_from(&mut b).unwrap();
        assert!(b[..n] == big[..], "fragmented datagram intact");
        // Don't-fragment refuses it.
        assert!(
            t.send_vectored(&[std::io::IoSlice::new(&big)], true)
                .is_err()
        );
    });
}

#[test]
fn udp_send_larger_than_mss_fragments() {
    skip_unless_soft!();
    in_netns("udp_send_larger_than_mss_fragments", || {
        let peer = UdpSocket::bind("127.0.0.1:8003").unwrap();
        peer.set_read_timeout(Some(LIMIT)).unwrap();
        let mut st = stack("");
        let tx = st.udp_sender(lo(8004), lo(8003)).unwrap();
        let big: Vec<u8> = (0..3000).map(|i| pat(5, i)).collect();
        let t = st.udp_tx(tx).unwrap();
        assert!(big.len() > t.mss().unwrap());
        assert_eq!(t.send(&big).unwrap(), big.len());
        // Warming covers the single-frame path only.
        let e = t.send_warm(&big).unwrap_err();
        assert_eq!(e.raw_os_error(), Some(libc::EMSGSIZE), "{e}");
        let mut b = [0u8; 4000];
        let (n, _) = peer.recv_from(&mut b).unwrap();
        assert!(b[..n] == big[..]);
    });
}

#[test]
fn tx_reports_and_rx_timestamps() {
    skip_unless_soft!();
    in_netns("tx_reports_and_rx_timestamps", || {
        let listener = TcpListener::bind("127.0.0.1:7011").unwrap();
        let mut st = stack("tx_timestamping=1;rx_timestamping=1");
        let c = connect(&mut st, lo(7011));
        let (mut s, _) = listener.accept().unwrap();
        st.tcp_ref(c).unwrap().send(b"stamped").unwrap();
        let mut reports = [tcpdirect::PacketReport::default(); 8];
        let mut bytes = 0;
        poll_until(&mut st, "a TX report", |st| {
            let t = st.tcp_ref(c).unwrap();
            for r in t.tx_timestamps(&mut reports).unwrap() {
                assert!(!r.timestamp().is_zero(), "{r:?}");
                bytes += r.bytes() as usize;
            }
            bytes >= 7
        });
        s.write_all(b"back").unwrap();
        poll_until(&mut st, "an RX timestamp", |st| {
            let mut t = st.tcp(c).unwrap();
            let Some(m) = t.zc_recv() else { return false };
            let ts = m.timestamp(0).unwrap();
            assert!(!ts.time.is_zero());
            true
        });
        // UDP: a report per datagram.
        let peer = UdpSocket::bind("127.0.0.1:8011").unwrap();
        let tx = st.udp_sender(lo(8012), lo(8011)).unwrap();
        st.udp_tx(tx).unwrap().send(b"dgram").unwrap();
        poll_until(&mut st, "a UDP TX report", |st| {
            let got = st
                .udp_tx(tx)
                .unwrap()
                .tx_timestamps(&mut reports)
                .unwrap()
                .len();
            got > 0 && reports[0].bytes() == 5
        });
        drop(peer);
    });
}

#[test]
fn overlapped_receive_from_kernel_peer_keeps_the_byte_stream_exact() {
    skip_unless_soft!();
    in_netns(
        "overlapped_receive_from_kernel_peer_keeps_the_byte_stream_exact",
        || {
            let listener = TcpListener::bind("127.0.0.1:7012").unwrap();
            let mut st = stack("");
            let c = connect(&mut st, lo(7012));
            let (mut peer, _) = listener.accept().unwrap();
            peer.set_nodelay(true).unwrap();
            let mux = st.muxer().unwrap();
            st.muxer_add(mux, &c, Readiness::IN | Readiness::IN_OVERLAPPED, 1)
                .unwrap();
            let msgs: Vec<Vec<u8>> = (0..200).map(overlapped_message).collect();
            let expected = msgs.concat();
            let run = overlapped_receive(&mut st, mux, c, expected.len(), |_, i| {
                let Some(m) = msgs.get(i) else { return 0 };
                peer.write_all(m).unwrap();
                m.len()
            });
            check_overlapped_run(
                "kernel_peer::overlapped_receive_from_kernel_peer_keeps_the_byte_stream_exact",
                &run,
                &expected,
            );
        },
    );
}

#[test]
fn udp_overlapped_receive_from_kernel_peer() {
    skip_unless_soft!();
    in_netns("udp_overlapped_receive_from_kernel_peer", || {
        let mut st = stack("");
        let (rx, local) = st.udp_bind(lo(7013), None).unwrap();
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &rx, Readiness::IN | Readiness::IN_OVERLAPPED, 5)
            .unwrap();
        let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut ev = [Event::default(); 4];
        let (mut overlapped, mut got) = (0, Vec::new());
        for i in 0..50 {
            let m = overlapped_message(i);
            peer.send_to(&m, std::net::SocketAddr::V4(local)).unwrap();
            let t0 = Instant::now();
            let d = loop {
                assert!(t0.elapsed() < LIMIT, "datagram {i} timed out");
                let e = st
                    .muxer_wait(mux, &mut ev, Some(Duration::from_millis(1)))
                    .unwrap()
                    .first()
                    .map(Event::readiness);
                let mut r = st.udp_rx(rx).unwrap();
                if e == Some(Readiness::IN_OVERLAPPED) {
                    let Some(early) = r.zc_recv_overlapped(3) else {
                        continue;
                    };
                    let first = early.data().to_vec();
                    assert!(first.len() <= 3 && m.starts_with(&first));
                    if let Some(d) = early.complete() {
                        overlapped += 1;
                        break d.data().to_vec();
                    }
                } else if let Some(d) = r.zc_recv() {
                    break d.data().to_vec();
                }
            };
            assert_eq!(d, m, "datagram {i} exact");
            got.push(d);
        }
        assert_eq!(got.len(), 50);
        // Each datagram reached an empty zocket in a muxer wait: the backend's emulation
        // reports all of them overlapped.
        assert_eq!(overlapped, 50, "overlapped receives");
    });
}

#[test]
fn overlapped_receive_abandoned_or_dropped() {
    skip_unless_soft!();
    in_netns("overlapped_receive_abandoned_or_dropped", || {
        let listener = TcpListener::bind("127.0.0.1:7014").unwrap();
        let mut st = stack("");
        let c = connect(&mut st, lo(7014));
        let (mut peer, _) = listener.accept().unwrap();
        let mux = st.muxer().unwrap();
        st.muxer_add(mux, &c, Readiness::IN | Readiness::IN_OVERLAPPED, 3)
            .unwrap();
        let mut ev = [Event::default(); 4];
        let mut next = |st: &Stack| {
            let t0 = Instant::now();
            loop {
                assert!(t0.elapsed() < LIMIT, "no muxer event");
                let got = st
                    .muxer_wait(mux, &mut ev, Some(Duration::from_millis(1)))
                    .unwrap();
                if let Some(e) = got.first() {
                    assert_eq!(e.data(), 3);
                    return e.readiness();
                }
            }
        };
        // Abandoned: the muxer is waited on again before the overlapped receive starts; the
        // packet then comes as plain IN.
        peer.write_all(b"first").unwrap();
        assert_eq!(next(&st), Readiness::IN_OVERLAPPED);
        assert_eq!(next(&st), Readiness::IN);
        let mut t = st.tcp(c).unwrap();
        assert!(
            t.zc_recv_overlapped(4).is_none(),
            "no overlapped receive now"
        );
        let m = t.zc_recv().unwrap();
        assert_eq!(m.packet(0).unwrap(), b"first");
        assert!(m.done().unwrap());

        // Dropped unfinished: completed and released, as a dropped message is.
        peer.write_all(b"second").unwrap();
        assert_eq!(next(&st), Readiness::IN_OVERLAPPED);
        let mut t = st.tcp(c).unwrap();
        let early = t.zc_recv_overlapped(3).unwrap();
        assert_eq!(early.data(), b"sec");
        assert_eq!(early.len(), 3);
        drop(early);
        assert!(t.zc_recv().is_none(), "the dropped packet was released");

        // Completed and released in part: the rest is received normally.
        peer.write_all(b"third packet").unwrap();
        assert_eq!(next(&st), Readiness::IN_OVERLAPPED);
        let mut t = st.tcp(c).unwrap();
        let m = t.zc_recv_overlapped(100).unwrap().complete().unwrap();
        assert_eq!(m.len(), 12);
        assert!(m.release_some(6).unwrap());
        let m = t.zc_recv().unwrap();
        assert_eq!(m.packet(0).unwrap(), b"packet");
        assert!(m.done().unwrap());
    });
}
