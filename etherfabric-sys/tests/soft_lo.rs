// Software backend on the loopback interface of the test's own network namespace: a VI
// receives datagrams kernel UDP sockets send, frames other VIs send, spreads flows over a VI
// set. (Frames a VI sends to a kernel socket over `lo` are in soft_netns.rs: the kernel
// accepts frames with local source addresses arriving on `lo` only with the `accept_local` and
// `route_localnet` sysctls, which that test sets in a namespace of its own.)
// Each test runs in a network namespace of its own (a private `lo`): as root, or unprivileged
// in a user namespace the binary enters at start (see testkit); a test that cannot prints
// `SKIPPED <name>: <reason>` on the terminal.
#![cfg(soft_backend)]

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::os::raw::c_int;
use std::time::Duration;

use common::*;
use etherfabric_sys::*;

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

#[test]
fn lo_udp_filter_receives_kernel_datagrams() {
    if !can_run("lo_udp_filter_receives_kernel_datagrams") {
        return;
    }
    let port = free_udp_port(LO);
    let other = free_udp_port(LO);
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI on lo");
    assert_eq!(t.q_id, 0);
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_vi_receive_prefix_len(t.vi()) }, 0);
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_vi_receive_capacity(t.vi()) }, 511);
    t.add_filter(&udp_local(LO, port)).expect("filter");
    t.post(0..32);
    let tx = UdpSocket::bind((LO, 0)).unwrap();
    // A datagram to another port must not arrive.
    tx.send_to(b"not for the VI", (LO, other)).unwrap();
    for i in 0..5u8 {
        tx.send_to(&[i; 100], (LO, port)).unwrap();
    }
    let evs = t.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 5);
    let rx = rx_events(&evs);
    assert_eq!(rx.len(), 5, "five RX events, got {}", rx.len());
    for (i, e) in rx.iter().enumerate() {
        // SAFETY: polled events are initialised.
        unsafe {
            assert_eq!(EF_EVENT_TYPE(e), EF_EVENT_TYPE_RX);
            assert_eq!(EF_EVENT_RX_Q_ID(e), 0);
            assert_eq!(
                EF_EVENT_RX_RQ_ID(e),
                i as u32,
                "buffers complete in posting order"
            );
            assert_ne!(EF_EVENT_RX_SOP(e), 0);
            assert_eq!(EF_EVENT_RX_CONT(e), 0);
            assert_eq!(EF_EVENT_RX_BYTES(e), 42 + 100);
        }
        let f = t.buf(i);
        assert_eq!(&f[34..36], &tx.local_addr().unwrap().port().to_be_bytes());
        assert_eq!(&f[36..38], &port.to_be_bytes());
        assert!(f[42..142].iter().all(|&b| b == i as u8));
        // The kernel leaves lo checksums to "hardware": the backend completes them.
        assert!(udp_checksum_ok(f, 100), "received UDP checksum is correct");
    }
    // Fill level went down by five.
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_vi_receive_fill_level(t.vi()) }, 27);
    // Nothing else arrives (the datagram to the other port was not steered here).
    let more = t.poll_until(Duration::from_millis(200), |_| false);
    assert!(rx_events(&more).is_empty());
}

#[test]
fn lo_frame_longer_than_rx_buffer_arrives_as_sop_and_cont() {
    if !can_run("lo_frame_longer_than_rx_buffer_arrives_as_sop_and_cont") {
        return;
    }
    let port = free_udp_port(LO);
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI on lo");
    // SAFETY: the VI is live.
    let buf_len = unsafe { ef_vi_receive_buffer_len(t.vi()) } as usize;
    assert_eq!(buf_len, 1792);
    t.add_filter(&udp_local(LO, port)).unwrap();
    t.post(0..16);
    let payload: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let frame_len = 42 + payload.len();
    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(&payload, (LO, port))
        .unwrap();
    let evs = t.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 2);
    let rx = rx_events(&evs);
    assert_eq!(rx.len(), 2);
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TYPE(&rx[0]), EF_EVENT_TYPE_RX);
        assert_ne!(EF_EVENT_RX_SOP(&rx[0]), 0);
        assert_ne!(EF_EVENT_RX_CONT(&rx[0]), 0);
        assert_eq!(
            EF_EVENT_RX_BYTES(&rx[0]) as usize,
            buf_len,
            "first buffer full"
        );
        assert_eq!(EF_EVENT_RX_SOP(&rx[1]), 0);
        assert_eq!(EF_EVENT_RX_CONT(&rx[1]), 0);
        assert_eq!(
            EF_EVENT_RX_BYTES(&rx[1]) as usize,
            frame_len,
            "bytes so far, cumulative"
        );
        assert_eq!(EF_EVENT_RX_RQ_ID(&rx[0]), 0);
        assert_eq!(EF_EVENT_RX_RQ_ID(&rx[1]), 1);
    }
    let mut whole = t.buf(0)[..buf_len].to_vec();
    whole.extend_from_slice(&t.buf(1)[..frame_len - buf_len]);
    assert_eq!(&whole[42..], &payload[..]);

    // Smaller buffers: the same datagram spans three.
    // SAFETY: the VI is live.
    unsafe { ef_vi_receive_set_buffer_len(t.vi(), 1024) };
    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(&payload, (LO, port))
        .unwrap();
    let evs = t.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 3);
    let rx = rx_events(&evs);
    assert_eq!(rx.len(), 3);
    let flags: Vec<(u32, u32, u32)> = rx
        .iter()
        // SAFETY: polled events are initialised.
        .map(|e| unsafe {
            (
                EF_EVENT_RX_SOP(e),
                EF_EVENT_RX_CONT(e),
                EF_EVENT_RX_BYTES(e),
            )
        })
        .collect();
    assert_eq!(
        flags,
        vec![
            (EF_EVENT_FLAG_SOP, EF_EVENT_FLAG_CONT, 1024),
            (0, EF_EVENT_FLAG_CONT, 2048),
            (0, 0, frame_len as u32)
        ]
    );
}

#[test]
fn lo_bad_checksums_give_rx_discard() {
    if !can_run("lo_bad_checksums_give_rx_discard") {
        return;
    }
    let (mut rxv, port) = TestVi::lo_udp_receiver(16);
    // A sender without checksum offload, so that the frames keep what we put in them.
    let mut txv = TestVi::open(
        "lo",
        0,
        -1,
        ef_vi_flags_EF_VI_TX_IP_CSUM_DIS | ef_vi_flags_EF_VI_TX_TCPUDP_CSUM_DIS,
    )
    .expect("TX VI");
    let mut f = udp_frame([0; 6], [0; 6], (LO, 40002), (LO, port), &[0x5a; 64]);
    fix_checksums(&mut f);
    f[41] ^= 0x55; // wrong UDP checksum
    txv.send_frame(0, &f);
    let rx = rxv.one_rx();
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TYPE(&rx), EF_EVENT_TYPE_RX_DISCARD);
        assert_eq!(EF_EVENT_RX_DISCARD_TYPE(&rx), EF_EVENT_RX_DISCARD_CSUM_BAD);
        assert_eq!(EF_EVENT_RX_DISCARD_RQ_ID(&rx), 0);
        assert_ne!(EF_EVENT_RX_DISCARD_SOP(&rx), 0);
        assert_eq!(EF_EVENT_RX_DISCARD_BYTES(&rx) as usize, f.len());
    }
    assert_eq!(
        &rxv.buf(0)[..f.len()],
        &f[..],
        "the frame is delivered as it was"
    );

    // A bad IP header checksum is a discard too.
    let mut g = udp_frame([0; 6], [0; 6], (LO, 40003), (LO, port), &[0x33; 20]);
    fix_checksums(&mut g);
    g[24] ^= 0x01;
    txv.send_frame(1, &g);
    let rx = rxv.one_rx();
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TYPE(&rx), EF_EVENT_TYPE_RX_DISCARD);
        assert_eq!(EF_EVENT_RX_DISCARD_TYPE(&rx), EF_EVENT_RX_DISCARD_CSUM_BAD);
    }

    // With checksum errors masked out of the discard set, the same frame is a plain RX.
    // SAFETY: the VI is live.
    unsafe {
        assert_eq!(ef_vi_receive_set_discards(rxv.vi(), 0), 0);
        assert_eq!(ef_vi_receive_get_discards(rxv.vi()), 0);
    }
    txv.send_and_complete(0, f.len());
    let rx = rxv.one_rx();
    assert_eq!(ev_type(&rx), EF_EVENT_TYPE_RX);

    // Correct checksums: a plain RX as well, with the discard mask back to the default.
    // SAFETY: the VI is live.
    unsafe {
        ef_vi_receive_set_discards(
            rxv.vi(),
            ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR,
        )
    };
    let mut h = udp_frame([0; 6], [0; 6], (LO, 40004), (LO, port), &[1, 2, 3]);
    fix_checksums(&mut h);
    txv.send_frame(2, &h);
    let rx = rxv.one_rx();
    assert_eq!(ev_type(&rx), EF_EVENT_TYPE_RX);
}

#[test]
fn lo_timestamps_prefix_and_blocking_wait() {
    if !can_run("lo_timestamps_prefix_and_blocking_wait") {
        return;
    }
    let port = free_udp_port(LO);
    let mut t = TestVi::open(
        "lo",
        -1,
        -1,
        ef_vi_flags_EF_VI_RX_TIMESTAMPS | ef_vi_flags_EF_VI_TX_TIMESTAMPS,
    )
    .expect("VI");
    // SAFETY: the VI is live.
    let prefix = unsafe { ef_vi_receive_prefix_len(t.vi()) } as usize;
    assert!(prefix > 0);
    t.add_filter(&udp_local(LO, port)).unwrap();
    t.post(0..8);
    // Nothing yet: a bounded wait times out.
    let tv = timeval {
        tv_sec: 0,
        tv_usec: 50_000,
    };
    let dh = t.dh;
    // SAFETY: the VI is live.
    let cur = unsafe { ef_eventq_current(t.vi()) };
    assert_eq!(
        // SAFETY: as above.
        unsafe { ef_eventq_wait(t.vi(), dh, cur, &tv) },
        -libc::ETIMEDOUT
    );
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        UdpSocket::bind((LO, 0))
            .unwrap()
            .send_to(b"stamp me", (LO, port))
            .unwrap();
    });
    let tv = timeval {
        tv_sec: 5,
        tv_usec: 0,
    };
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_eventq_wait(t.vi(), dh, cur, &tv) }, 0);
    sender.join().unwrap();
    let rx = t.one_rx();
    assert_eq!(
        // SAFETY: polled events are initialised.
        unsafe { EF_EVENT_RX_BYTES(&rx) } as usize,
        prefix + 42 + 8
    );
    assert_eq!(&t.buf(0)[prefix + 42..prefix + 50], b"stamp me");
    let mut ts = ef_precisetime::default();
    let pkt = t.buf(0).as_ptr();
    assert_eq!(
        // SAFETY: `pkt` is the first buffer of the packet just received.
        unsafe { ef_vi_receive_get_precise_timestamp(t.vi(), pkt.cast(), &mut ts) },
        0
    );
    let got = Duration::new(ts.tv_sec as u64, ts.tv_nsec);
    assert!(got >= before - Duration::from_secs(1) && got <= before + Duration::from_secs(10));
    assert_ne!(u32::from(ts.tv_flags) & EF_VI_SYNC_FLAG_CLOCK_SET, 0);

    // TX timestamps: a TX_WITH_TIMESTAMP event carrying the id.
    let f = udp_frame([0; 6], [0; 6], (LO, 40005), (LO, port), b"tx ts");
    t.buf_mut(20)[..f.len()].copy_from_slice(&f);
    let a = t.addr(20);
    assert_eq!(
        // SAFETY: the VI is live.
        unsafe { ef_vi_transmit(t.vi(), a, f.len() as c_int, 20) },
        0
    );
    let evs = t.poll_until(Duration::from_secs(5), |e| {
        e.iter()
            .any(|e| ev_type(e) == EF_EVENT_TYPE_TX_WITH_TIMESTAMP)
    });
    let e = evs
        .iter()
        .find(|e| ev_type(e) == EF_EVENT_TYPE_TX_WITH_TIMESTAMP)
        .expect("TX timestamp event");
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(e), 20);
        assert!(u64::from(EF_EVENT_TX_WITH_TIMESTAMP_SEC(e)) >= before.as_secs());
        assert_ne!(EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(e), 0);
    }
}

#[test]
fn filter_specs_follow_the_sdk_rules() {
    // No packet socket needed: spec building and the errors of incompatible kinds.
    let mut fs = spec();
    // SAFETY: `fs` is an initialised spec in all calls below.
    unsafe {
        assert_eq!(
            ef_filter_spec_set_ip4_local(&mut fs, libc::IPPROTO_UDP, 0x0100007f, 0x1234),
            0
        );
        assert_eq!(ef_filter_spec_set_vlan(&mut fs, 5), 0);
        assert_eq!(
            ef_filter_spec_set_unicast_all(&mut fs),
            -libc::EPROTONOSUPPORT
        );
        let mut m = spec();
        assert_eq!(ef_filter_spec_set_multicast_all(&mut m), 0);
        assert_eq!(ef_filter_spec_set_vlan(&mut m, 1), -libc::EPROTONOSUPPORT);
        let mut e = spec();
        assert_eq!(ef_filter_spec_set_eth_type(&mut e, 0x88f7u16.to_be()), 0);
        assert_eq!(
            ef_filter_spec_set_eth_local(
                &mut e,
                EF_FILTER_VLAN_ID_ANY,
                [2u8, 0, 0, 0, 0, 1].as_ptr().cast()
            ),
            0
        );
        assert_eq!(
            ef_filter_spec_set_ip_proto(&mut e, 1),
            -libc::EPROTONOSUPPORT
        );
        let mut b = spec();
        assert_eq!(ef_filter_spec_set_block_kernel(&mut b), 0);
    }
}

#[test]
fn lo_filter_add_query_del_and_unsupported_kinds() {
    if !can_run("lo_filter_add_query_del_and_unsupported_kinds") {
        return;
    }
    let port = free_udp_port(LO);
    let mut t = TestVi::open("lo", -1, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let c = t.add_filter(&udp_local(LO, port)).unwrap();
    assert_eq!(
        t.add_filter(&udp_local(LO, port)).err(),
        Some(-libc::EEXIST)
    );
    let mut info = ef_filter_info::default();
    let dh = t.dh;
    // SAFETY: the VI is live; `info` writable.
    let rc = unsafe {
        ef_vi_filter_query(
            t.vi(),
            dh,
            &c,
            &mut info,
            std::mem::size_of::<ef_filter_info>(),
        )
    };
    assert_eq!(rc, 0);
    assert_eq!(info.filter_id as i32, c.filter_id);
    let both =
        ef_filter_info_fields_EF_FILTER_FIELD_ID | ef_filter_info_fields_EF_FILTER_FIELD_QUEUE;
    assert_eq!(info.valid_fields, u64::from(both));
    // SAFETY: the VI is live.
    assert_eq!(info.q_id, unsafe { ef_vi_instance(t.vi()) });
    assert_eq!(info.flags, 0);
    let mut b = spec();
    // SAFETY: `b` is initialised.
    unsafe { ef_filter_spec_set_block_kernel(&mut b) };
    assert_eq!(t.add_filter(&b).err(), Some(-libc::EOPNOTSUPP));
    let mut c2 = c;
    // SAFETY: the VI is live; the cookie came from ef_vi_filter_add.
    assert_eq!(unsafe { ef_vi_filter_del(t.vi(), dh, &mut c2) }, 0);
    assert_eq!(
        // SAFETY: as above.
        unsafe { ef_vi_filter_del(t.vi(), dh, &mut c2) },
        -libc::ENOENT
    );
    let mut v = 0;
    // SAFETY: `v` writable.
    unsafe {
        assert_eq!(
            ef_vi_capabilities_get(
                dh,
                1,
                ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL,
                &mut v
            ),
            0
        );
        assert_eq!(v, 1);
        assert_eq!(
            ef_vi_capabilities_get(dh, 1, ef_vi_capability_EF_VI_CAP_PACKED_STREAM, &mut v),
            0
        );
        assert_eq!(v, 0);
        let name =
            std::ffi::CStr::from_ptr(ef_vi_capabilities_name(ef_vi_capability_EF_VI_CAP_CTPIO));
        assert_eq!(name.to_str().unwrap(), "EF_VI_CAP_CTPIO");
        let ver = std::ffi::CStr::from_ptr(ef_vi_version_str())
            .to_str()
            .unwrap();
        // The release whose ABI the backend implements, then what it is.
        assert!(
            ver.starts_with("10.0.0 ") && ver.contains("software backend"),
            "{ver}"
        );
        assert_eq!(
            Some(ver.split(' ').next().unwrap()),
            etherfabric_sys::BINDINGS_SDK_RELEASE
        );
    }
}

#[test]
fn lo_vi_set_spreads_flows_by_hash() {
    const FLOWS: usize = 16;
    if !can_run("lo_vi_set_spreads_flows_by_hash") {
        return;
    }
    let port = free_udp_port(LO);
    let mut dh: ef_driver_handle = -1;
    // SAFETY: `dh` is writable.
    assert_eq!(unsafe { ef_driver_open(&mut dh) }, 0);
    // SAFETY: plain C data.
    let mut pd: Box<ef_pd> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: as above.
    let mut set: Box<ef_vi_set> = Box::new(unsafe { std::mem::zeroed() });
    let mut vis: Vec<Box<ef_vi>> = Vec::new();
    let map = AnonMap::new(BUF * NBUF);
    let (mem, len) = (map.as_void(), map.len());
    let mut mr = ef_memreg::default();
    // SAFETY: every pointer below is valid; resources are freed in order at the end.
    unsafe {
        assert_eq!(ef_pd_alloc_by_name(&mut *pd, dh, c"lo".as_ptr(), 0), 0);
        assert_eq!(ef_vi_set_alloc_from_pd(&mut *set, dh, &mut *pd, dh, 2), 0);
        assert_eq!(ef_memreg_alloc(&mut mr, dh, &mut *pd, dh, mem, len), 0);
        for i in 0..2 {
            let mut vi: Box<ef_vi> = Box::new(std::mem::zeroed());
            assert_eq!(alloc_from_set(&mut *vi, dh, &mut *set), 0);
            // Room for all 32 datagrams on either VI: the hash may send most flows to one.
            for b in 0..32 {
                let id = i * 32 + b;
                assert_eq!(
                    ef_vi_receive_init(
                        &mut *vi,
                        ef_memreg_dma_addr(&mr, id * BUF),
                        id as ef_request_id
                    ),
                    0
                );
            }
            ef_vi_receive_push(&mut *vi);
            vis.push(vi);
        }
        // The set is full now.
        let mut extra: Box<ef_vi> = Box::new(std::mem::zeroed());
        assert_eq!(alloc_from_set(&mut *extra, dh, &mut *set), -libc::EBUSY);
        let fs = udp_local(LO, port);
        let mut cookie = ef_filter_cookie::default();
        assert_eq!(ef_vi_set_filter_add(&mut *set, dh, &fs, &mut cookie), 0);
    }
    // Sixteen flows (source sockets), two datagrams each: with random source ports all of
    // them land on one VI once in 2^15 runs (ten flows did once in 512).
    let socks: Vec<UdpSocket> = (0..FLOWS)
        .map(|_| UdpSocket::bind((LO, 0)).unwrap())
        .collect();
    for s in &socks {
        for _ in 0..2 {
            s.send_to(b"rss", (LO, port)).unwrap();
        }
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut per_vi: Vec<Vec<u16>> = vec![Vec::new(), Vec::new()];
    while per_vi.iter().map(Vec::len).sum::<usize>() < 2 * FLOWS
        && std::time::Instant::now() < deadline
    {
        for (k, vi) in vis.iter_mut().enumerate() {
            let mut evs = [ef_event::default(); 16];
            // SAFETY: the VI is live.
            let n = unsafe { ef_eventq_poll(&mut **vi, evs.as_mut_ptr(), 16) };
            for e in &evs[..n.max(0) as usize] {
                if ev_type(e) == EF_EVENT_TYPE_RX {
                    // SAFETY: polled events are initialised; the buffer is in the mapping.
                    let src = unsafe {
                        let b = (mem as *const u8).add(EF_EVENT_RX_RQ_ID(e) as usize * BUF);
                        u16::from_be_bytes([*b.add(34), *b.add(35)])
                    };
                    per_vi[k].push(src);
                }
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        per_vi[0].len() + per_vi[1].len(),
        2 * FLOWS,
        "every datagram reached exactly one VI"
    );
    assert!(
        !per_vi[0].is_empty() && !per_vi[1].is_empty(),
        "both VIs got flows"
    );
    for s in &socks {
        let p = s.local_addr().unwrap().port();
        let on0 = per_vi[0].iter().filter(|&&x| x == p).count();
        let on1 = per_vi[1].iter().filter(|&&x| x == p).count();
        assert!(
            (on0, on1) == (2, 0) || (on0, on1) == (0, 2),
            "a flow stays on one VI"
        );
    }
    // SAFETY: freeing in order: VIs, memory, set, PD, handle.
    unsafe {
        for vi in &mut vis {
            assert_eq!(ef_vi_free(&mut **vi, dh), 0);
        }
        assert_eq!(ef_memreg_free(&mut mr, dh), 0);
        assert_eq!(ef_vi_set_free(&mut *set, dh), 0);
        assert_eq!(ef_pd_free(&mut *pd, dh), 0);
        ef_driver_close(dh);
    }
}

/// `ef_vi_alloc_from_set` with the next free slot (`-1`), queue sizes by default.
///
/// # Safety
///
/// `vi` is writable; `set` is a live set of handle `dh`.
unsafe fn alloc_from_set(vi: *mut ef_vi, dh: ef_driver_handle, set: *mut ef_vi_set) -> c_int {
    // SAFETY: per the caller.
    unsafe { vi_alloc_from_set(vi, dh, set, -1, 0) }
}

#[test]
fn lo_vi_set_slots_taken_concurrently_are_distinct() {
    if !can_run("lo_vi_set_slots_taken_concurrently_are_distinct") {
        return;
    }
    const N: usize = 4;
    let mut dh: ef_driver_handle = -1;
    // SAFETY: `dh` is writable.
    assert_eq!(unsafe { ef_driver_open(&mut dh) }, 0);
    // SAFETY: plain C data.
    let mut pd: Box<ef_pd> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: as above.
    let mut set: Box<ef_vi_set> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: valid out pointers and handle.
    unsafe {
        assert_eq!(ef_pd_alloc_by_name(&mut *pd, dh, c"lo".as_ptr(), 0), 0);
        assert_eq!(
            ef_vi_set_alloc_from_pd(&mut *set, dh, &mut *pd, dh, N as c_int),
            0
        );
    }
    let set_addr = &mut *set as *mut ef_vi_set as usize;
    for round in 0..20 {
        // One thread per VI, all allocating at once, as RSS applications do.
        let barrier = std::sync::Barrier::new(N);
        let vis: Vec<usize> = std::thread::scope(|sc| {
            let hs: Vec<_> = (0..N)
                .map(|_| {
                    sc.spawn(|| {
                        // SAFETY: plain C data, leaked to the main thread as an address.
                        let vi: &mut ef_vi = Box::leak(Box::new(unsafe { std::mem::zeroed() }));
                        barrier.wait();
                        // SAFETY: the set outlives the scope; `vi` is writable.
                        let rc = unsafe { alloc_from_set(vi, dh, set_addr as *mut ef_vi_set) };
                        assert_eq!(rc, 0, "round {round}");
                        vi as *mut ef_vi as usize
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Every slot is taken once: the set is full.
        // SAFETY: plain C data.
        let mut extra: Box<ef_vi> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: the set is live; `extra` is writable.
        let rc = unsafe { alloc_from_set(&mut *extra, dh, &mut *set) };
        assert_eq!(rc, -libc::EBUSY, "round {round}: a slot was given twice");
        for v in vis {
            // SAFETY: the VIs allocated above, freed once and then deallocated.
            unsafe {
                assert_eq!(ef_vi_free(v as *mut ef_vi, dh), 0);
                drop(Box::from_raw(v as *mut ef_vi));
            }
        }
    }
    // SAFETY: freeing in order: set, PD, handle.
    unsafe {
        assert_eq!(ef_vi_set_free(&mut *set, dh), 0);
        assert_eq!(ef_pd_free(&mut *pd, dh), 0);
        ef_driver_close(dh);
    }
}

#[test]
fn lo_event_merge_unbundles_batches() {
    if !can_run("lo_event_merge_unbundles_batches") {
        return;
    }
    let port = free_udp_port(LO);
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_RX_EVENT_MERGE).expect("VI");
    // SAFETY: the VI is live.
    let prefix = unsafe { ef_vi_receive_prefix_len(t.vi()) } as usize;
    assert!(prefix > 0);
    let mut layout: *const ef_vi_layout_entry = std::ptr::null();
    let mut n = 0;
    assert_eq!(
        // SAFETY: the VI is live; outputs writable.
        unsafe { ef_vi_receive_query_layout(t.vi(), &mut layout, &mut n) },
        0
    );
    // SAFETY: the layout has `n` entries and lives as long as the VI.
    let layout = unsafe { std::slice::from_raw_parts(layout, n as usize) };
    let len_off = layout
        .iter()
        .find(|l| l.evle_type == ef_vi_layout_type_EF_VI_LAYOUT_PACKET_LENGTH)
        .expect("packet length in the prefix")
        .evle_offset as usize;
    assert!(
        layout
            .iter()
            .any(|l| l.evle_type == ef_vi_layout_type_EF_VI_LAYOUT_FRAME
                && l.evle_offset as usize == prefix)
    );
    t.add_filter(&udp_local(LO, port)).unwrap();
    t.post(0..32);
    let s = UdpSocket::bind((LO, 0)).unwrap();
    for i in 0..5usize {
        s.send_to(&vec![i as u8; 10 + i], (LO, port)).unwrap();
    }
    let mut got: Vec<(usize, u16)> = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while got.len() < 5 && std::time::Instant::now() < deadline {
        let evs = t.poll_until(Duration::from_millis(100), |e| !e.is_empty());
        for e in &evs {
            assert_eq!(ev_type(e), EF_EVENT_TYPE_RX_MULTI);
            // SAFETY: polled events are initialised.
            unsafe {
                assert_ne!(EF_EVENT_RX_MULTI_SOP(e), 0);
                assert_eq!(EF_EVENT_RX_MULTI_CONT(e), 0);
            }
            let mut ids = [0 as ef_request_id; EF_VI_RECEIVE_BATCH as usize];
            // SAFETY: the event is for this VI.
            let k = unsafe { ef_vi_receive_unbundle(t.vi(), e, ids.as_mut_ptr()) };
            assert!(k >= 1);
            for &id in &ids[..k as usize] {
                let b = t.buf(id as usize).to_vec();
                let p = t.buf(id as usize).as_ptr();
                let mut bytes = 0u16;
                assert_eq!(
                    // SAFETY: `p` is the first buffer of a received packet.
                    unsafe { ef_vi_receive_get_bytes(t.vi(), p.cast(), &mut bytes) },
                    0
                );
                assert_eq!(u16::from_le_bytes([b[len_off], b[len_off + 1]]), bytes);
                got.push((id as usize, bytes));
            }
        }
    }
    assert_eq!(got.len(), 5);
    for (i, (id, bytes)) in got.iter().enumerate() {
        assert_eq!(*id, i);
        assert_eq!(*bytes as usize, 42 + 10 + i);
        assert_eq!(t.buf(*id)[prefix + 42], i as u8);
    }
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_vi_receive_fill_level(t.vi()) }, 27);
}

#[test]
fn lo_shared_event_queue_and_software_events() {
    if !can_run("lo_shared_event_queue_and_software_events") {
        return;
    }
    let (mut a, port) = TestVi::lo_udp_receiver(16);
    let dh = a.dh;
    // A TX-only VI reporting to a's event queue.
    // SAFETY: plain C data.
    let mut b: Box<ef_vi> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: `b` is boxed; a's VI owns an event queue; a's PD is allocated.
    let q = unsafe { ef_vi_alloc_from_pd(&mut *b, dh, &mut *a.pd, dh, 0, 0, -1, a.vi(), dh, 0) };
    assert_eq!(q, 1, "second queue on the event queue");
    assert_eq!(
        // SAFETY: a's VI is live.
        unsafe { ef_vi_get_vi_from_q_id(a.vi(), 1) },
        &mut *b as *mut ef_vi
    );
    let mut f = udp_frame([0; 6], [0; 6], (LO, 40010), (LO, port), b"via a shared evq");
    fix_checksums(&mut f);
    a.buf_mut(40)[..f.len()].copy_from_slice(&f);
    let addr = a.addr(40);
    assert_eq!(
        // SAFETY: b is live; the buffer is registered with the same PD.
        unsafe { ef_vi_transmit(&mut *b, addr, f.len() as i32, 40) },
        0
    );
    let evs = a.poll_until(Duration::from_secs(5), |e| {
        e.iter().any(|e| ev_type(e) == EF_EVENT_TYPE_TX) && !rx_events(e).is_empty()
    });
    let tx = evs
        .iter()
        .find(|e| ev_type(e) == EF_EVENT_TYPE_TX)
        .expect("TX on the shared queue");
    // SAFETY: polled events are initialised.
    assert_eq!(unsafe { EF_EVENT_TX_Q_ID(tx) }, 1);
    let mut ids = [0 as ef_request_id; EF_VI_TRANSMIT_BATCH as usize];
    // SAFETY: the TX event is for b.
    let n = unsafe { ef_vi_transmit_unbundle(&mut *b, tx, ids.as_mut_ptr()) };
    assert_eq!(&ids[..n as usize], &[40]);
    let rx = rx_events(&evs);
    assert_eq!(
        rx.len(),
        1,
        "the frame b sent came back to a's filter on lo"
    );
    assert_eq!(&a.buf(0)[42..58], b"via a shared evq");

    // Blocking on the driver handle: ef_vi_prime, then a software event from another thread.
    // SAFETY: a's VI is live.
    let cur = unsafe { ef_eventq_current(a.vi()) };
    // SAFETY: as above.
    assert_eq!(unsafe { ef_vi_prime(a.vi(), dh, cur) }, 0);
    let res = a.vi.vi_resource_id;
    let putter = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        // SAFETY: any thread may put an event.
        assert_eq!(unsafe { ef_eventq_put(res, dh, 0x1234) }, 0);
    });
    let mut pfd = libc::pollfd {
        fd: dh,
        events: libc::POLLIN,
        revents: 0,
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut got_sw = false;
    while !got_sw && std::time::Instant::now() < deadline {
        // SAFETY: polling one valid pollfd.
        let r = unsafe { libc::poll(&mut pfd, 1, 1000) };
        assert!(r >= 0);
        for e in a.poll_until(Duration::from_millis(1), |_| true) {
            if ev_type(&e) == EF_EVENT_TYPE_SW {
                // SAFETY: polled events are initialised.
                assert_eq!(unsafe { EF_EVENT_SW_DATA(&e) }, 0x1234);
                got_sw = true;
            }
        }
        // SAFETY: as above.
        unsafe { ef_vi_prime(a.vi(), dh, ef_eventq_current(a.vi())) };
    }
    putter.join().unwrap();
    assert!(
        got_sw,
        "the software event woke the driver handle and was polled"
    );
    // SAFETY: (bad bits) only the low 16 bits may be used.
    assert_eq!(unsafe { ef_eventq_put(res, dh, 0x10000) }, -libc::EINVAL);
    // SAFETY: b is live; freed before a (whose event queue it uses).
    assert_eq!(unsafe { ef_vi_free(&mut *b, dh) }, 0);
}

#[test]
fn lo_allocation_rules() {
    if !can_run("lo_allocation_rules") {
        return;
    }
    let mut t = TestVi::open("lo", 100, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    // Ring sizes are rounded up to what the "adapter" supports (at least 512).
    // SAFETY: the VI is live.
    unsafe {
        assert_eq!(ef_vi_receive_capacity(t.vi()), 511);
        assert_eq!(ef_vi_transmit_capacity(t.vi()), 0);
        assert_eq!(
            ef_eventq_capacity(t.vi()),
            510,
            "512-entry queue, as the SDK computes it"
        );
    }
    let dh = t.dh;
    let mut mr = ef_memreg::default();
    // SAFETY: the registrations below are refused before memory is touched.
    unsafe {
        assert_eq!(
            ef_memreg_alloc(&mut mr, dh, &mut *t.pd, dh, t.mem.add(64).cast(), 4096),
            -libc::EINVAL,
            "not 4 KiB aligned"
        );
        assert_eq!(
            ef_memreg_alloc(&mut mr, dh, &mut *t.pd, dh, t.mem.cast(), 1000),
            -libc::EINVAL,
            "not a multiple of 2048"
        );
        assert_eq!(
            ef_memreg_alloc(&mut mr, dh, &mut *t.pd, dh, t.mem.cast(), 0),
            -libc::EINVAL
        );
    }
    // The protection domain knows its interface; one can also be made from an ifindex.
    // SAFETY: the PD is allocated; the name it returns lives as long as the PD.
    let name = unsafe { std::ffi::CStr::from_ptr(ef_pd_interface_name(&mut *t.pd)) };
    assert_eq!(name.to_str().unwrap(), "lo");
    // SAFETY: plain C data.
    let mut pd2: ef_pd = unsafe { std::mem::zeroed() };
    // SAFETY: `c"lo"` is a C string.
    let lo_index = unsafe { libc::if_nametoindex(c"lo".as_ptr()) } as c_int;
    // SAFETY: `pd2` is writable; freed right after.
    unsafe {
        assert_eq!(ef_pd_alloc(&mut pd2, dh, lo_index, 0), 0);
        assert_eq!(ef_pd_free(&mut pd2, dh), 0);
        assert_eq!(ef_pd_alloc(&mut pd2, dh, 0, 0), -libc::ENODEV);
        assert_eq!(
            ef_pd_alloc_by_name(&mut pd2, dh, c"no-such-if0".as_ptr(), 0),
            -libc::ENODEV
        );
    }
    // Registered memory: each 4 KiB page's DMA address is its address.
    assert_eq!(t.addr(3), t.mem as u64 + 3 * BUF as u64);
    // A descriptor outside registered memory fails the transmit queue with TX_ERROR.
    let mut u = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("TX VI");
    let bogus = [0u8; 128];
    assert_eq!(
        // SAFETY: the VI is live; the backend checks the address before reading.
        unsafe { ef_vi_transmit(u.vi(), bogus.as_ptr() as u64, 60, 9) },
        0
    );
    let evs = u.poll_until(Duration::from_secs(2), |e| !e.is_empty());
    assert_eq!(evs.len(), 1);
    assert_eq!(ev_type(&evs[0]), EF_EVENT_TYPE_TX_ERROR);
    assert_eq!(
        // SAFETY: polled events are initialised.
        unsafe { EF_EVENT_TX_ERROR_TYPE(&evs[0]) },
        EF_EVENT_TX_ERROR_BUS
    );
    let mut failed = Vec::new();
    // SAFETY: the VI is live and used by this thread only.
    unsafe {
        ef_vi_for_each_tx_error_failed_transmit(u.vi(), |id| failed.push(id));
        assert_eq!(ef_vi_reinit_txq_post_error(u.vi()), 0);
    }
    assert_eq!(failed, vec![9]);
    // The queue works again.
    let f = udp_frame([0; 6], [0; 6], (LO, 1), (LO, 9), b"ok");
    u.send_frame(0, &f);
    // Unsupported options.
    // SAFETY: plain C data.
    let mut v: Box<ef_vi> = Box::new(unsafe { std::mem::zeroed() });
    let pd: *mut ef_pd = &mut *t.pd;
    let mut alloc = |rxq: c_int, flags: ef_vi_flags| {
        // SAFETY: `v` is boxed, the PD allocated.
        unsafe {
            ef_vi_alloc_from_pd(
                &mut *v,
                dh,
                pd,
                dh,
                -1,
                rxq,
                -1,
                std::ptr::null_mut(),
                -1,
                flags,
            )
        }
    };
    assert_eq!(
        alloc(-1, ef_vi_flags_EF_VI_RX_PACKED_STREAM),
        -libc::EOPNOTSUPP
    );
    assert_eq!(alloc(8192, 0), -libc::EINVAL, "RX ring larger than 4096");
}

/// The RX events whose frame (in the buffers at `mem`) carries `marker` at the start of its
/// UDP payload.
fn marked(mem: usize, evs: &[ef_event], marker: &[u8]) -> usize {
    rx_events(evs)
        .iter()
        .filter(|e| {
            // SAFETY: polled events are initialised; the buffer lies in the test's mapping.
            let f = unsafe {
                let i = EF_EVENT_RX_RQ_ID(e) as usize;
                std::slice::from_raw_parts((mem as *const u8).add(i * BUF), BUF)
            };
            f[42..].starts_with(marker)
        })
        .count()
}

#[test]
fn lo_pio_and_ctpio_sends() {
    if !can_run("lo_pio_and_ctpio_sends") {
        return;
    }
    let (mut rx, port) = TestVi::lo_udp_receiver(32);
    let mut tx = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_TX_CTPIO).expect("TX VI");
    let dh = tx.dh;
    // PIO: allocate, link, copy and send.
    let mut pio = ef_pio::default();
    // SAFETY: `pio` writable; the PD and VI are live.
    unsafe {
        assert_eq!(ef_pio_alloc(&mut pio, dh, &mut *tx.pd, u32::MAX, dh), 0);
        assert_eq!(ef_pio_link_vi(&mut pio, dh, tx.vi(), dh), 0);
        assert_eq!(ef_vi_get_pio_size(tx.vi()), 2048);
    }
    let f = udp_frame([0; 6], [0; 6], (LO, 40020), (LO, port), b"PIO frame");
    // SAFETY: the PIO region is linked; `f` is readable.
    let rc = unsafe { ef_vi_transmit_copy_pio(tx.vi(), 0, f.as_ptr().cast(), f.len() as c_int, 5) };
    assert_eq!(rc, 0);
    let evs = tx.poll_until(Duration::from_secs(5), |e| !e.is_empty());
    assert_eq!(ev_type(&evs[0]), EF_EVENT_TYPE_TX);
    assert_eq!(tx.unbundle(&evs[0]), [5]);
    // Misaligned PIO offsets are refused.
    // SAFETY: as above.
    let rc = unsafe { ef_vi_transmit_pio(tx.vi(), 3, 60, 6) };
    assert_eq!(rc, -libc::EINVAL);

    // CTPIO: the frame goes out at once; the fallback only completes, flagged CTPIO.
    let g = udp_frame([0; 6], [0; 6], (LO, 40021), (LO, port), b"CTPIO frame");
    let mut g2 = g.clone();
    fix_checksums(&mut g2); // no checksum offload on the cut-through path
    tx.buf_mut(7)[..g2.len()].copy_from_slice(&g2);
    let a = tx.addr(7);
    // SAFETY: `g2` is readable; the fallback buffer is registered.
    unsafe {
        ef_vi_transmit_ctpio(
            tx.vi(),
            g2.as_ptr().cast(),
            g2.len(),
            EF_VI_CTPIO_CT_THRESHOLD_SNF,
        );
        assert_eq!(ef_vi_transmit_ctpio_fallback(tx.vi(), a, g2.len(), 7), 0);
    }
    let evs = tx.poll_until(Duration::from_secs(5), |e| !e.is_empty());
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TYPE(&evs[0]), EF_EVENT_TYPE_TX);
        assert_ne!(EF_EVENT_TX_CTPIO(&evs[0]), 0);
    }
    assert_eq!(tx.unbundle(&evs[0]), [7]);
    let rx_mem = rx.mem as usize;
    let evs = rx.poll_until(Duration::from_secs(5), |e| {
        marked(rx_mem, e, b"PIO frame") == 1 && marked(rx_mem, e, b"CTPIO frame") == 1
    });
    assert_eq!(marked(rx_mem, &evs, b"PIO frame"), 1);
    assert_eq!(
        marked(rx_mem, &evs, b"CTPIO frame"),
        1,
        "sent once, not again by the fallback"
    );
    // SAFETY: unlink before free; the VI is live.
    unsafe {
        assert_eq!(ef_pio_free(&mut pio, dh), -libc::EBUSY);
        assert_eq!(ef_pio_unlink_vi(&mut pio, dh, tx.vi(), dh), 0);
        assert_eq!(ef_pio_free(&mut pio, dh), 0);
    }
}

#[test]
fn lo_rx_ring_running_dry_mid_frame_gives_no_desc_trunc() {
    if !can_run("lo_rx_ring_running_dry_mid_frame_gives_no_desc_trunc") {
        return;
    }
    let (mut t, port) = TestVi::lo_udp_receiver(1);
    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(&[7u8; 3000], (LO, port))
        .unwrap();
    let evs = t.poll_until(Duration::from_secs(5), |e| e.len() >= 2);
    assert_eq!(evs.len(), 2);
    // SAFETY: polled events are initialised.
    unsafe {
        assert_eq!(EF_EVENT_TYPE(&evs[0]), EF_EVENT_TYPE_RX);
        assert_ne!(EF_EVENT_RX_SOP(&evs[0]), 0);
        assert_ne!(EF_EVENT_RX_CONT(&evs[0]), 0);
        assert_eq!(EF_EVENT_TYPE(&evs[1]), EF_EVENT_TYPE_RX_NO_DESC_TRUNC);
        assert_eq!(EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(&evs[1]), 0);
    }
    // With no buffer at all the frame is dropped and counted.
    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(b"dropped", (LO, port))
        .unwrap();
    let more = t.poll_until(Duration::from_millis(300), |_| false);
    assert!(more.is_empty());
    let mut layout: *const ef_vi_stats_layout = std::ptr::null();
    let dh = t.dh;
    let mut data = [0u8; 64];
    // SAFETY: the VI is live; outputs writable; the layout is static.
    let names: Vec<(String, u32)> = unsafe {
        assert_eq!(ef_vi_stats_query_layout(t.vi(), &mut layout), 0);
        assert!(((*layout).evsl_data_size as usize) <= data.len());
        assert_eq!(
            ef_vi_stats_query(t.vi(), dh, data.as_mut_ptr().cast(), 1),
            0
        );
        let fields = std::slice::from_raw_parts(
            (*layout).evsl_fields.as_ptr(),
            (*layout).evsl_fields_num as usize,
        );
        fields
            .iter()
            .map(|f| {
                let name = std::ffi::CStr::from_ptr(f.evsfl_name)
                    .to_string_lossy()
                    .into_owned();
                let o = f.evsfl_offset as usize;
                (name, u32::from_ne_bytes(data[o..o + 4].try_into().unwrap()))
            })
            .collect()
    };
    let get = |n: &str| names.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
    assert_eq!(
        get("rx_nodesc_drops"),
        Some(2),
        "the truncated jumbo and the dropped datagram"
    );
    assert_eq!(get("rx_frames"), Some(2));
}

#[test]
fn lo_tx_sniff_sees_outgoing_frames() {
    if !can_run("lo_tx_sniff_sees_outgoing_frames") {
        return;
    }
    let port = free_udp_port(LO);
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let mut fs = spec();
    // SAFETY: `fs` is initialised.
    assert_eq!(unsafe { ef_filter_spec_set_tx_port_sniff(&mut fs) }, 0);
    let c = t.add_filter(&fs).unwrap();
    assert_eq!(c.filter_id, -1, "sniff filters have no filter id");
    t.post(0..32);
    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(b"sniffed on the way out", (LO, port))
        .unwrap();
    let t_mem = t.mem as usize;
    let evs = t.poll_until(Duration::from_secs(5), |e| {
        marked(t_mem, e, b"sniffed") >= 1
    });
    // The outgoing copy only: the incoming copy of lo is not matched by a TX sniff filter.
    assert_eq!(marked(t_mem, &evs, b"sniffed"), 1);
}

#[test]
fn lo_unicast_mismatch_and_unicast_all_rank_below_specific_filters() {
    if !can_run("lo_unicast_mismatch_and_unicast_all_rank_below_specific_filters") {
        return;
    }
    let (p, q) = (free_udp_port(LO), free_udp_port(LO));
    let mut specific = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let mut mis = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    specific.add_filter(&udp_local(LO, p)).unwrap();
    let mut fs = spec();
    // SAFETY: `fs` is initialised.
    assert_eq!(unsafe { ef_filter_spec_set_unicast_mismatch(&mut fs) }, 0);
    mis.add_filter(&fs).unwrap();
    specific.post(0..32);
    mis.post(0..32);
    let s = UdpSocket::bind((LO, 0)).unwrap();
    s.send_to(b"MATCHED", (LO, p)).unwrap();
    s.send_to(b"UNMATCHED", (LO, q)).unwrap();
    let (sm, mm) = (specific.mem as usize, mis.mem as usize);
    let evs = mis.poll_until(Duration::from_secs(5), |e| marked(mm, e, b"UNMATCHED") >= 1);
    assert_eq!(
        marked(mm, &evs, b"UNMATCHED"),
        1,
        "the mismatch filter gets the unmatched one"
    );
    assert_eq!(
        marked(mm, &evs, b"MATCHED"),
        0,
        "but not the one a filter took"
    );
    let evs = specific.poll_until(Duration::from_secs(5), |e| marked(sm, e, b"MATCHED") >= 1);
    assert_eq!(marked(sm, &evs, b"MATCHED"), 1);

    // Unicast-all outranks mismatch.
    let mut all = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let mut fs = spec();
    // SAFETY: `fs` is initialised.
    assert_eq!(unsafe { ef_filter_spec_set_unicast_all(&mut fs) }, 0);
    all.add_filter(&fs).unwrap();
    all.post(0..32);
    let am = all.mem as usize;
    s.send_to(b"SECOND MATCHED", (LO, p)).unwrap();
    s.send_to(b"SECOND UNMATCHED", (LO, q)).unwrap();
    let evs = all.poll_until(Duration::from_secs(5), |e| {
        marked(am, e, b"SECOND UNMATCHED") >= 1
    });
    assert_eq!(marked(am, &evs, b"SECOND UNMATCHED"), 1);
    assert_eq!(marked(am, &evs, b"SECOND MATCHED"), 0);
    let evs = specific.poll_until(Duration::from_secs(5), |e| {
        marked(sm, e, b"SECOND MATCHED") >= 1
    });
    assert_eq!(marked(sm, &evs, b"SECOND MATCHED"), 1);
    let evs = mis.poll_until(Duration::from_millis(300), |_| false);
    assert_eq!(
        marked(mm, &evs, b"SECOND"),
        0,
        "nothing is left for the mismatch filter"
    );
}

#[test]
fn lo_ipv6_udp_filter() {
    if !can_run("lo_ipv6_udp_filter") {
        return;
    }
    let lo6 = std::net::Ipv6Addr::LOCALHOST;
    let Ok(probe) = UdpSocket::bind((lo6, 0)) else {
        println!("lo_ipv6_udp_filter: skipped: IPv6 is not available on lo");
        return;
    };
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let mut fs = spec();
    let addr = lo6.octets();
    // SAFETY: `fs` is initialised; `addr` is a 16-byte in6_addr.
    let rc = unsafe {
        ef_filter_spec_set_ip6_local(
            &mut fs,
            libc::IPPROTO_UDP,
            addr.as_ptr().cast(),
            c_int::from(port.to_be()),
        )
    };
    assert_eq!(rc, 0);
    t.add_filter(&fs).unwrap();
    t.post(0..8);
    UdpSocket::bind((lo6, 0))
        .unwrap()
        .send_to(b"over IPv6", (lo6, port))
        .unwrap();
    let rx = t.one_rx();
    assert_eq!(ev_type(&rx), EF_EVENT_TYPE_RX);
    let f = t.buf(0);
    assert_eq!(&f[12..14], &[0x86, 0xdd]);
    assert_eq!(&f[62..71], b"over IPv6");
    assert!(udp_checksum_ok(f, 9), "the IPv6 UDP checksum was completed");
}

#[test]
fn lo_rx_filter_id_reports_the_matching_filter() {
    if !can_run("lo_rx_filter_id_reports_the_matching_filter") {
        return;
    }
    let (p1, p2) = (free_udp_port(LO), free_udp_port(LO));
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_RX_FILTER_ID).expect("VI");
    let c1 = t.add_filter(&udp_local(LO, p1)).unwrap();
    let c2 = t.add_filter(&udp_local(LO, p2)).unwrap();
    assert_ne!(c1.filter_id, c2.filter_id);
    t.post(0..8);
    let s = UdpSocket::bind((LO, 0)).unwrap();
    s.send_to(b"one", (LO, p1)).unwrap();
    s.send_to(b"two", (LO, p2)).unwrap();
    let evs = t.poll_until(Duration::from_secs(5), |e| rx_events(e).len() >= 2);
    let rx = rx_events(&evs);
    assert_eq!(rx.len(), 2);
    let mut ids = Vec::new();
    for e in &rx {
        // SAFETY: polled events are initialised.
        let i = unsafe { EF_EVENT_RX_RQ_ID(e) } as usize;
        let pkt = t.buf(i).as_ptr();
        // SAFETY: `pkt` is the first buffer of the packet of `e`.
        ids.push(unsafe { ef_vi_receive_get_filter_id(t.vi(), e, pkt.cast()) });
    }
    assert_eq!(ids, vec![c1.filter_id, c2.filter_id]);
}

#[test]
fn lo_tx_completions_are_batched_and_unbundled_in_order() {
    if !can_run("lo_tx_completions_are_batched_and_unbundled_in_order") {
        return;
    }
    let mut t = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    // Frames of a local experimental EtherType: nothing on the host processes them.
    let mut f = vec![0u8; 64];
    f[12..14].copy_from_slice(&0x88b5u16.to_be_bytes());
    t.buf_mut(0)[..64].copy_from_slice(&f);
    let a = t.addr(0);
    for id in 0..100 {
        // SAFETY: the VI is live; the buffer is registered.
        assert_eq!(unsafe { ef_vi_transmit(t.vi(), a, 64, id) }, 0);
    }
    // SAFETY: the VI is live.
    assert_eq!(unsafe { ef_vi_transmit_fill_level(t.vi()) }, 100);
    let mut evs = [ef_event::default(); 16];
    // SAFETY: the VI is live; `evs` has room for 16 events.
    let n = unsafe { ef_eventq_poll(t.vi(), evs.as_mut_ptr(), 16) };
    assert_eq!(
        n, 2,
        "100 completions in batches of at most EF_VI_TRANSMIT_BATCH"
    );
    let mut all = Vec::new();
    for e in &evs[..2] {
        assert_eq!(ev_type(e), EF_EVENT_TYPE_TX);
        all.extend(t.unbundle(e));
    }
    assert_eq!(all, (0..100).collect::<Vec<_>>());
    // SAFETY: the VI is live.
    unsafe {
        assert_eq!(ef_vi_transmit_fill_level(t.vi()), 0);
        assert_eq!(ef_vi_transmit_space(t.vi()), 511);
    }
}

/// Capabilities the SDK's sample programs act on: a page-sized minimum buffer (they align
/// their allocations to it, failing outright on an error), and no RX_POLL/RX_REF (with RX_POLL
/// they expect RX_REF events, which this backend does not produce).
#[test]
fn capabilities_the_sample_programs_rely_on() {
    if !can_run("capabilities_the_sample_programs_rely_on") {
        return;
    }
    let mut tv = TestVi::open("lo", -1, -1, 0).expect("VI on lo");
    let dh = tv.dh;
    let cap = |tv: &mut TestVi, c: ef_vi_capability| -> (c_int, u64) {
        let mut v: std::os::raw::c_ulong = 0xdead;
        // SAFETY: live PD and handle; `v` is writable.
        let rc = unsafe { ef_pd_capabilities_get(dh, &mut *tv.pd, dh, c, &mut v) };
        (rc, v as u64)
    };
    assert_eq!(
        cap(&mut tv, ef_vi_capability_EF_VI_CAP_MIN_BUFFER_MODE_SIZE),
        (0, 4096)
    );
    assert_eq!(cap(&mut tv, ef_vi_capability_EF_VI_CAP_RX_POLL), (0, 0));
    assert_eq!(cap(&mut tv, ef_vi_capability_EF_VI_CAP_RX_REF), (0, 0));
    // TX alternatives are there (see soft_tx_alt.rs).
    assert_eq!(
        cap(&mut tv, ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES),
        (0, 1)
    );
    assert_eq!(
        cap(&mut tv, ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_VFIFOS),
        (0, 8)
    );
    assert_eq!(cap(&mut tv, ef_vi_capability_EF_VI_CAP_CTPIO), (0, 1));
    // The query by interface index agrees with the PD's.
    let lo = std::ffi::CString::new("lo").unwrap();
    // SAFETY: a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(lo.as_ptr()) } as c_int;
    let mut v: std::os::raw::c_ulong = 0;
    // SAFETY: live handle; `v` is writable.
    let rc = unsafe {
        ef_vi_capabilities_get(
            dh,
            ifindex,
            ef_vi_capability_EF_VI_CAP_MIN_BUFFER_MODE_SIZE,
            &mut v,
        )
    };
    assert_eq!((rc, v), (0, 4096));
}
