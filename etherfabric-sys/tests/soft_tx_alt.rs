// The software backend's TX alternatives: packets sent to an alternative in STOP are held
// (not on the wire) until GO sends them or DISCARD drops them, each with an
// EF_EVENT_TYPE_TX_ALT event; buffering is accounted as ef_vi_transmit_alt_usage says; the
// calls refuse what the library refuses. A receiving VI on the namespace's `lo` sees what
// goes out. Each test runs in a network namespace of its own.
#![cfg(soft_backend)]

mod common;

use std::net::Ipv4Addr;
use std::os::raw::c_int;
use std::time::Duration;

use common::*;
use etherfabric_sys::*;

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Copies a UDP frame to `port` carrying `payload` into buffer `i` of `t` and sends it with
/// request id `i` (the completion is left to the caller).
fn send(t: &mut TestVi, i: usize, port: u16, payload: &[u8]) {
    let mut f = udp_frame([0; 6], [0; 6], (LO, 40100), (LO, port), payload);
    fix_checksums(&mut f);
    t.buf_mut(i)[..f.len()].copy_from_slice(&f);
    let a = t.addr(i);
    // SAFETY: the VI is live; the buffer is registered and not reused before its completion.
    let rc = unsafe { ef_vi_transmit(t.vi(), a, f.len() as c_int, i as ef_request_id) };
    assert_eq!(rc, 0, "ef_vi_transmit");
}

/// The UDP payloads of the packets `rx` received within `ms` (frames are padded to 60 bytes:
/// the UDP length says where the payload ends).
fn received(rx: &mut TestVi, ms: u64) -> Vec<Vec<u8>> {
    let evs = rx.poll_until(Duration::from_millis(ms), |_| false);
    rx_events(&evs)
        .iter()
        .map(|e| {
            // SAFETY: polled events are initialised.
            let id = unsafe { EF_EVENT_RX_RQ_ID(e) };
            let f = rx.buf(id as usize);
            let udp_len = usize::from(u16::from_be_bytes([f[38], f[39]]));
            f[42..34 + udp_len].to_vec()
        })
        .collect()
}

/// The alternative ids of the TX_ALT events among `evs`.
fn alt_events(evs: &[ef_event]) -> Vec<u32> {
    evs.iter()
        .filter(|e| ev_type(e) == EF_EVENT_TYPE_TX_ALT)
        // SAFETY: polled events are initialised.
        .map(|e| unsafe { EF_EVENT_TX_ALT_ALT_ID(e) })
        .collect()
}

#[test]
fn alternatives_hold_send_and_discard() {
    if !can_run("alternatives_hold_send_and_discard") {
        return;
    }
    let (mut rx, port) = TestVi::lo_udp_receiver(32);
    let mut tx = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_TX_ALT).expect("VI with TX_ALT");
    let dh = tx.dh;
    let mut over = ef_vi_transmit_alt_overhead::default();
    // SAFETY: the VI is live (for every call on `tx.vi()` in this test); `over` is writable.
    unsafe {
        assert_eq!(ef_vi_transmit_alt_query_overhead(tx.vi(), &mut over), 0);
        assert_eq!(ef_vi_transmit_alt_usage(&over, 60), 96);
        let space = ef_vi_transmit_alt_query_buffering(tx.vi(), 1, dh, 2);
        assert!(space > 0);
        assert_eq!(
            ef_vi_transmit_alt_select(tx.vi(), 0),
            -libc::EINVAL,
            "none yet"
        );
        assert_eq!(ef_vi_transmit_alt_alloc(tx.vi(), dh, 2, space as usize), 0);
        assert_eq!(ef_vi_transmit_alt_num_ids(tx.vi()), 2);
        assert_eq!(
            ef_vi_transmit_alt_alloc(tx.vi(), dh, 1, 1024),
            -libc::EALREADY
        );
        assert_eq!(
            ef_vi_transmit_alt_select(tx.vi(), 2),
            -libc::EINVAL,
            "out of range"
        );
        assert_eq!(ef_vi_transmit_alt_stop(tx.vi(), 0), 0);
        assert_eq!(ef_vi_transmit_alt_stop(tx.vi(), 1), 0);
        assert_eq!(ef_vi_transmit_alt_select(tx.vi(), 0), 0);
    }
    send(&mut tx, 0, port, b"zero-a");
    send(&mut tx, 1, port, b"zero-b");
    // SAFETY: as above.
    assert_eq!(unsafe { ef_vi_transmit_alt_select(tx.vi(), 1) }, 0);
    send(&mut tx, 2, port, b"one");
    // SAFETY: as above.
    assert_eq!(unsafe { ef_vi_transmit_alt_select_normal(tx.vi()) }, 0);
    send(&mut tx, 3, port, b"direct");
    // The descriptors complete (the data has left the buffers); only the direct one is out.
    let mut done = Vec::new();
    let evs = tx.poll_until(Duration::from_secs(5), |e| {
        e.iter().filter(|e| ev_type(e) == EF_EVENT_TYPE_TX).count() > 0
    });
    for e in evs.iter().filter(|e| ev_type(e) == EF_EVENT_TYPE_TX) {
        done.extend(tx.unbundle(e));
    }
    assert_eq!(done, [0, 1, 2, 3]);
    assert!(alt_events(&evs).is_empty());
    assert_eq!(received(&mut rx, 200), [b"direct".to_vec()]);

    // GO sends alternative 0's packets in order; DISCARD drops alternative 1's.
    // SAFETY: as above.
    unsafe {
        assert_eq!(ef_vi_transmit_alt_go(tx.vi(), 0), 0);
        assert_eq!(ef_vi_transmit_alt_discard(tx.vi(), 1), 0);
    }
    let evs = tx.poll_until(Duration::from_secs(5), |e| alt_events(e).len() >= 3);
    assert_eq!(alt_events(&evs), [0, 0, 1]);
    assert_eq!(
        received(&mut rx, 300),
        [b"zero-a".to_vec(), b"zero-b".to_vec()]
    );
    // In GO, a packet goes out at once, with its event.
    // SAFETY: as above.
    assert_eq!(unsafe { ef_vi_transmit_alt_select(tx.vi(), 0) }, 0);
    send(&mut tx, 4, port, b"zero-c");
    let evs = tx.poll_until(Duration::from_secs(5), |e| !alt_events(e).is_empty());
    assert_eq!(alt_events(&evs), [0]);
    assert_eq!(received(&mut rx, 300), [b"zero-c".to_vec()]);
    // SAFETY: as above.
    unsafe {
        assert_eq!(ef_vi_transmit_alt_free(tx.vi(), dh), 0);
        assert_eq!(ef_vi_transmit_alt_free(tx.vi(), dh), -libc::EINVAL);
        assert_eq!(ef_vi_transmit_alt_go(tx.vi(), 0), -libc::EINVAL, "freed");
    }
}

#[test]
fn overflowing_the_buffering_drops_packets_silently() {
    if !can_run("overflowing_the_buffering_drops_packets_silently") {
        return;
    }
    let (mut rx, port) = TestVi::lo_udp_receiver(32);
    let mut tx = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_TX_ALT).expect("VI with TX_ALT");
    let dh = tx.dh;
    // Room for two minimum-size packets (96 bytes of buffering each).
    // SAFETY: the VI is live (for every call on `tx.vi()` in this test).
    unsafe {
        assert_eq!(ef_vi_transmit_alt_alloc(tx.vi(), dh, 1, 200), 0);
        assert_eq!(ef_vi_transmit_alt_stop(tx.vi(), 0), 0);
        assert_eq!(ef_vi_transmit_alt_select(tx.vi(), 0), 0);
    }
    for (i, p) in [&b"first"[..], b"second", b"third"].iter().enumerate() {
        send(&mut tx, i, port, p);
    }
    // SAFETY: as above.
    assert_eq!(unsafe { ef_vi_transmit_alt_go(tx.vi(), 0) }, 0);
    let evs = tx.poll_until(Duration::from_secs(5), |e| alt_events(e).len() >= 2);
    assert_eq!(alt_events(&evs), [0, 0]);
    assert_eq!(
        received(&mut rx, 300),
        [b"first".to_vec(), b"second".to_vec()]
    );
}

#[test]
fn the_calls_refuse_what_the_library_refuses() {
    if !can_run("the_calls_refuse_what_the_library_refuses") {
        return;
    }
    let mut plain = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    let dh = plain.dh;
    let mut over = ef_vi_transmit_alt_overhead::default();
    // SAFETY: the VI is live; `over` is writable.
    unsafe {
        assert_eq!(
            ef_vi_transmit_alt_alloc(plain.vi(), dh, 1, 1024),
            -libc::EINVAL
        );
        assert_eq!(
            ef_vi_transmit_alt_query_overhead(plain.vi(), &mut over),
            -libc::EINVAL
        );
        assert_eq!(
            ef_vi_transmit_alt_query_buffering(plain.vi(), 1, dh, 1),
            -libc::EINVAL
        );
        assert_eq!(ef_vi_transmit_alt_select(plain.vi(), 0), -libc::EINVAL);
    }
    // Alternatives and TX timestamps do not go together.
    assert_eq!(
        TestVi::open(
            "lo",
            0,
            -1,
            ef_vi_flags_EF_VI_TX_ALT | ef_vi_flags_EF_VI_TX_TIMESTAMPS
        )
        .err(),
        Some(-libc::EOPNOTSUPP)
    );
    let mut t = TestVi::open("lo", 0, -1, ef_vi_flags_EF_VI_TX_ALT).expect("VI with TX_ALT");
    let dh = t.dh;
    // SAFETY: the VI is live.
    unsafe {
        assert_eq!(ef_vi_transmit_alt_alloc(t.vi(), dh, 0, 1024), -libc::EINVAL);
        assert_eq!(ef_vi_transmit_alt_alloc(t.vi(), dh, 1, 0), -libc::EINVAL);
        assert_eq!(
            ef_vi_transmit_alt_alloc(t.vi(), dh, 1, 1 << 30),
            -libc::ENOMEM
        );
        assert_eq!(
            ef_vi_transmit_alt_alloc(t.vi(), dh, 1000, 1024),
            -libc::EBUSY
        );
    }
}
