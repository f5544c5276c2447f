// Software backend across network namespaces the tests create (as root or unprivileged): a VI on `lo` of a
// fresh namespace sends to a kernel UDP socket; VIs on one end of a veth pair exchange
// unicast and multicast frames with kernel UDP sockets on the other end. Addresses are in
// 10.213.0.0/16 inside the namespaces only; the namespaces are deleted afterwards.
#![cfg(soft_backend)]

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use common::*;
use etherfabric_sys::*;

#[test]
fn netns_lo_vi_transmit_reaches_udp_socket() {
    let test = "netns_lo_vi_transmit_reaches_udp_socket";
    if !can_run(test) {
        return;
    }
    let Some(ns) = Netns::create(test) else {
        return;
    };
    // Frames arriving on lo with a local (127/8) source are martians unless these are set.
    ns.sysctl("net.ipv4.conf.all.route_localnet", "1");
    ns.sysctl("net.ipv4.conf.lo.route_localnet", "1");
    ns.sysctl("net.ipv4.conf.all.accept_local", "1");
    ns.sysctl("net.ipv4.conf.lo.accept_local", "1");
    run_in(&ns, || {
        let lo = Ipv4Addr::LOCALHOST;
        let rx = UdpSocket::bind((lo, 0)).unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let port = rx.local_addr().unwrap().port();
        let mut t = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI on lo");
        let mut mac = [0xffu8; 6];
        let dh = t.dh;
        assert_eq!(
            // SAFETY: the VI is live; `mac` has 6 bytes.
            unsafe { ef_vi_get_mac(t.vi(), dh, mac.as_mut_ptr().cast()) },
            0
        );
        assert_eq!(mac, [0; 6], "lo has an all-zero MAC");
        // SAFETY: the VI is live.
        assert!(unsafe { ef_vi_mtu(t.vi(), dh) } > 1500);
        // Checksums left zero: the TX offload fills them in.
        let f = udp_frame(mac, mac, (lo, 40000), (lo, port), b"hello from ef_vi");
        t.send_frame(3, &f);
        let mut got = [0u8; 100];
        let (n, from) = rx.recv_from(&mut got).expect("datagram from the VI");
        assert_eq!(&got[..n], b"hello from ef_vi");
        assert_eq!(from.port(), 40000);

        // transmitv: header and payload in two buffers.
        let f = udp_frame(mac, mac, (lo, 40001), (lo, port), b"two pieces");
        t.buf_mut(4)[..42].copy_from_slice(&f[..42]);
        t.buf_mut(5)[..f.len() - 42].copy_from_slice(&f[42..]);
        let iov = [
            ef_iovec {
                iov_base: t.addr(4),
                iov_len: 42,
            },
            ef_iovec {
                iov_base: t.addr(5),
                iov_len: (f.len() - 42) as u32,
            },
        ];
        // SAFETY: the VI is live and the buffers registered.
        assert_eq!(unsafe { ef_vi_transmitv(t.vi(), iov.as_ptr(), 2, 77) }, 0);
        let ev = t.wait_tx();
        assert_eq!(
            t.unbundle(&ev),
            [77],
            "only the last descriptor of a packet carries its id"
        );
        // SAFETY: the VI is live.
        assert_eq!(unsafe { ef_vi_transmit_fill_level(t.vi()) }, 0);
        let (n, _) = rx.recv_from(&mut got).expect("datagram from transmitv");
        assert_eq!(&got[..n], b"two pieces");
    })
    .join()
    .expect("test thread");
}

#[test]
fn veth_unicast_both_ways_with_kernel_sockets() {
    let test = "veth_unicast_both_ways_with_kernel_sockets";
    let Some(pair) = veth_pair(test, 2) else {
        return;
    };
    let (ip_a, ip_b) = (pair.ip_a, pair.ip_b);
    let port_b = 31001;
    // The peer in namespace A: sends three datagrams to B, then waits for one back.
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let peer = run_in(&pair.ns_a, move || {
        let s = UdpSocket::bind((ip_a, 31002)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("VI ready");
        for i in 0..3u8 {
            s.send_to(&[i; 32], (ip_b, port_b)).unwrap();
        }
        let mut buf = [0u8; 64];
        let (n, from) = s.recv_from(&mut buf).expect("reply from the VI");
        (buf[..n].to_vec(), from)
    });
    let if_b = pair.if_b.clone();
    let vi_side = run_in(&pair.ns_b, move || {
        let mut t =
            TestVi::open(&if_b, -1, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI on veth");
        t.add_filter(&udp_local(ip_b, port_b)).expect("filter");
        t.post(0..16);
        ready_tx.send(()).unwrap();
        // ARP traffic also crosses the veth: only the three datagrams are steered here.
        let evs = t.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 3);
        let rx = rx_events(&evs);
        assert_eq!(rx.len(), 3);
        for (i, e) in rx.iter().enumerate() {
            assert_eq!(ev_type(e), EF_EVENT_TYPE_RX);
            // SAFETY: polled events are initialised.
            assert_eq!(unsafe { EF_EVENT_RX_BYTES(e) }, 42 + 32);
            assert_eq!(&t.buf(i)[42..74], &[i as u8; 32]);
        }
        let peer_mac: [u8; 6] = t.buf(0)[6..12].try_into().unwrap();
        let mut mac = [0u8; 6];
        let dh = t.dh;
        assert_eq!(
            // SAFETY: the VI is live; `mac` has 6 bytes.
            unsafe { ef_vi_get_mac(t.vi(), dh, mac.as_mut_ptr().cast()) },
            0
        );
        assert_eq!(
            &t.buf(0)[..6],
            &mac,
            "frames were addressed to the veth's MAC"
        );
        let f = udp_frame(
            peer_mac,
            mac,
            (ip_b, port_b),
            (ip_a, 31002),
            b"reply from ef_vi",
        );
        t.send_frame(40, &f);
    });
    vi_side.join().expect("VI thread");
    let (data, from) = peer.join().expect("peer thread");
    assert_eq!(data, b"reply from ef_vi");
    assert_eq!(from, (ip_b, port_b).into());
}

#[test]
fn veth_multicast_filters_replicate_and_rank() {
    let test = "veth_multicast_filters_replicate_and_rank";
    let Some(pair) = veth_pair(test, 3) else {
        return;
    };
    let ip_a = pair.ip_a;
    let group = Ipv4Addr::new(239, 10, 20, 30);
    let other = Ipv4Addr::new(239, 10, 20, 31);
    let port = 31003;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let peer = run_in(&pair.ns_a, move || {
        let s = UdpSocket::bind((ip_a, 0)).unwrap();
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("VIs ready");
        for _ in 0..2 {
            s.send_to(b"to the group", (group, port)).unwrap();
        }
        s.send_to(b"to another group", (other, port)).unwrap();
    });
    let if_b = pair.if_b.clone();
    run_in(&pair.ns_b, move || {
        // Two VIs with the same multicast filter: both get every datagram (replication).
        let mut v1 = TestVi::open(&if_b, -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI 1");
        let mut v2 = TestVi::open(&if_b, -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI 2");
        // A third with multicast-all gets only what no more specific filter takes.
        let mut v3 = TestVi::open(&if_b, -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI 3");
        v1.add_filter(&udp_local(group, port)).expect("filter 1");
        v2.add_filter(&udp_local(group, port)).expect("filter 2");
        let mut all = spec();
        // SAFETY: `all` is initialised.
        assert_eq!(unsafe { ef_filter_spec_set_multicast_all(&mut all) }, 0);
        v3.add_filter(&all).expect("multicast-all");
        for v in [&mut v1, &mut v2, &mut v3] {
            v.post(0..16);
        }
        ready_tx.send(()).unwrap();
        // The datagrams for the group.
        let is_data = |t: &TestVi, e: &ef_event| {
            // SAFETY: polled events are initialised.
            let i = unsafe { EF_EVENT_RX_RQ_ID(e) } as usize;
            t.buf(i)[12..14] == [0x08, 0x00] && t.buf(i)[23] == 17
        };
        for v in [&mut v1, &mut v2] {
            let evs = v.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 2);
            let rx = rx_events(&evs);
            assert_eq!(
                rx.len(),
                2,
                "each VI with the group filter gets both datagrams"
            );
            for e in &rx {
                assert!(is_data(v, e));
                // SAFETY: polled events are initialised.
                let flags = unsafe { e.rx.flags() };
                assert_ne!(flags & EF_EVENT_FLAG_MULTICAST, 0);
                // SAFETY: as above.
                let i = unsafe { EF_EVENT_RX_RQ_ID(e) } as usize;
                assert_eq!(&v.buf(i)[30..34], &group.octets());
                assert_eq!(&v.buf(i)[42..54], b"to the group");
            }
        }
        // v3: only the datagram to the other group (IGMP reports etc. may come too).
        let evs = v3.poll_until(Duration::from_secs(5), |e| {
            e.iter().any(|e| {
                // SAFETY: polled events are initialised.
                ev_type(e) == EF_EVENT_TYPE_RX && unsafe { EF_EVENT_RX_BYTES(e) } == 42 + 16
            })
        });
        let mut seen_other = 0;
        for e in rx_events(&evs) {
            // SAFETY: polled events are initialised.
            let i = unsafe { EF_EVENT_RX_RQ_ID(&e) } as usize;
            let f = v3.buf(i);
            if f[12..14] == [0x08, 0x00] && f[23] == 17 {
                assert_eq!(
                    &f[30..34],
                    &other.octets(),
                    "group traffic went to the specific filters"
                );
                seen_other += 1;
            }
        }
        assert_eq!(seen_other, 1);
    })
    .join()
    .expect("VI thread");
    peer.join().expect("peer thread");
}

#[test]
fn veth_vlan_tagged_frames_and_eth_local_filters() {
    let test = "veth_vlan_tagged_frames_and_eth_local_filters";
    let Some(pair) = veth_pair(test, 4) else {
        return;
    };
    let target: [u8; 6] = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let if_a = pair.if_a.clone();
    let sender = run_in(&pair.ns_a, move || {
        let mut t = TestVi::open(&if_a, 0, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("TX VI");
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("RX ready");
        for (i, vid) in [42u16, 43, 42].iter().enumerate() {
            let mut f = Vec::new();
            f.extend_from_slice(&target);
            f.extend_from_slice(&[0x02, 0, 0, 0, 0, 1]);
            f.extend_from_slice(&0x8100u16.to_be_bytes());
            f.extend_from_slice(&vid.to_be_bytes());
            f.extend_from_slice(&0x88b5u16.to_be_bytes()); // local experimental EtherType
            f.extend_from_slice(&[i as u8; 50]);
            t.send_frame(i, &f);
        }
    });
    let if_b = pair.if_b.clone();
    run_in(&pair.ns_b, move || {
        let mut v42 = TestVi::open(&if_b, -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
        let mut any = TestVi::open(&if_b, -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
        let mut fs = spec();
        // SAFETY: `fs` is initialised; `target` has 6 bytes.
        let rc = unsafe { ef_filter_spec_set_eth_local(&mut fs, 42, target.as_ptr().cast()) };
        assert_eq!(rc, 0);
        v42.add_filter(&fs).unwrap();
        let mut fs = spec();
        // SAFETY: as above.
        let rc = unsafe {
            ef_filter_spec_set_eth_local(&mut fs, EF_FILTER_VLAN_ID_ANY, target.as_ptr().cast())
        };
        assert_eq!(rc, 0);
        any.add_filter(&fs).unwrap();
        v42.post(0..16);
        any.post(0..16);
        ready_tx.send(()).unwrap();
        // Same rank: the frames of VLAN 42 go to both, VLAN 43 only to the any-VLAN filter.
        let evs = v42.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 2);
        let rx = rx_events(&evs);
        assert_eq!(rx.len(), 2);
        for (k, e) in rx.iter().enumerate() {
            // SAFETY: polled events are initialised.
            let i = unsafe { EF_EVENT_RX_RQ_ID(e) } as usize;
            let f = v42.buf(i);
            assert_eq!(&f[..6], &target);
            assert_eq!(
                &f[12..16],
                &[0x81, 0x00, 0x00, 42],
                "the VLAN tag is in the frame"
            );
            assert_eq!(f[18], if k == 0 { 0 } else { 2 });
            // SAFETY: as above.
            assert_eq!(unsafe { EF_EVENT_RX_BYTES(e) }, 18 + 50);
        }
        let evs = any.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 3);
        assert_eq!(rx_events(&evs).len(), 3);
        assert_eq!(&any.buf(1)[12..16], &[0x81, 0x00, 0x00, 43]);
    })
    .join()
    .expect("RX thread");
    sender.join().expect("TX thread");
}

/// Prepares a test on a veth pair: [`can_run`], then namespaces A and B joined by veth pair
/// number `n`; `None` (the reason reported on the terminal) when the test cannot run here.
fn veth_pair(test: &str, n: u8) -> Option<NetnsPair> {
    if !can_run(test) {
        return None;
    }
    NetnsPair::create(test, n)
}
