//! Overlapped receive on the software backend (see `soft/mod.rs`): a packet that a muxer
//! wait reads into an empty zocket watched for `ZF_EPOLLIN_OVERLAPPED` is reported with that
//! event alone; `ZF_OVERLAPPED_WAIT` hands out its first bytes, `ZF_OVERLAPPED_COMPLETE`
//! the whole packet for a plain release. Kernel peers on 127.0.0.1.

mod common;

use std::io::Write;
use std::net::UdpSocket;
use std::os::raw::c_int;
use std::time::Instant;

use common::*;
use zf_sys::*;

const OVL: u32 = ZF_EPOLLIN_OVERLAPPED;
const IN: u32 = libc::EPOLLIN as u32;
const WAIT: c_int = zf_zc_flags_ZF_OVERLAPPED_WAIT as c_int;
const COMPLETE: c_int = zf_zc_flags_ZF_OVERLAPPED_COMPLETE as c_int;

/// Waits on `mux` until it reports something (at most LIMIT); returns the events.
fn wait_event(mux: *mut zf_muxer_set) -> epoll_event {
    let mut ev = [epoll_event::default(); 4];
    let t0 = Instant::now();
    loop {
        assert!(t0.elapsed() < LIMIT, "no muxer event");
        // SAFETY: live muxer; `ev` has room for 4 events.
        let n = unsafe { zf_muxer_wait(mux, ev.as_mut_ptr(), 4, 10_000_000) };
        if n > 0 {
            assert_eq!(n, 1, "one zocket, one event");
            return ev[0];
        }
    }
}

/// The event bits (the struct is packed).
fn bits(e: &epoll_event) -> u32 {
    // SAFETY: reading a field of a packed struct by value, unaligned.
    unsafe { std::ptr::addr_of!(e.events).read_unaligned() }
}

/// `zft_zc_recv` with `flags` and room for one iovec whose `iov_len` is `want`; returns
/// `iovcnt` and the bytes `iov[0]` names.
fn tcp_step(z: *mut zft, msg: &mut TcpMsg<1>, flags: c_int, want: usize) -> (c_int, Vec<u8>) {
    msg.m.iovcnt = 1;
    msg.iov[0].iov_len = want;
    // SAFETY: live zocket; the message has room for its one iovec.
    unsafe { zft_zc_recv(z, &mut msg.m, flags) };
    (msg.m.iovcnt, iov_bytes(&msg.iov[0], msg.m.iovcnt))
}

fn udp_step(ur: *mut zfur, msg: &mut UdpMsg<1>, flags: c_int, want: usize) -> (c_int, Vec<u8>) {
    msg.m.iovcnt = 1;
    msg.iov[0].iov_len = want;
    // SAFETY: live zocket; the message has room for its one iovec.
    unsafe { zfur_zc_recv(ur, &mut msg.m, flags) };
    (msg.m.iovcnt, iov_bytes(&msg.iov[0], msg.m.iovcnt))
}

fn iov_bytes(v: &iovec, iovcnt: c_int) -> Vec<u8> {
    if iovcnt <= 0 || v.iov_len == 0 {
        return Vec::new();
    }
    // SAFETY: the backend points iov[0] at a buffer it keeps until release (or, after a
    // wait, until the packet is received); copied out at once.
    unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len) }.to_vec()
}

#[test]
fn tcp_packet_is_reported_overlapped_then_waited_and_completed() {
    isolated!("tcp_packet_is_reported_overlapped_then_waited_and_completed");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut peer) = connected_pair(st, a);
    // SAFETY: live zocket.
    let mux = muxer_with(st, unsafe { zft_to_waitable(z) }, IN | OVL, 42);
    peer.write_all(b"hello overlapped").unwrap();

    let ev = wait_event(mux);
    assert_eq!(bits(&ev), OVL, "ZF_EPOLLIN_OVERLAPPED alone");
    // SAFETY: the union's u64 covers its 8 bytes; read unaligned from the packed struct.
    let data = unsafe { std::ptr::addr_of!(ev.data.u64_).read_unaligned() };
    assert_eq!(data, 42, "the data the zocket was added with");

    let mut msg = TcpMsg::<1>::new();
    // The first 5 bytes, then (repeated) all of them.
    assert_eq!(tcp_step(z, &mut msg, WAIT, 5), (1, b"hello".to_vec()));
    assert_eq!(
        tcp_step(z, &mut msg, WAIT, 1000),
        (1, b"hello overlapped".to_vec())
    );
    // Complete: the packet as a plain zero-copy receive, released as usual.
    msg.m.iovcnt = 1;
    // SAFETY: live zocket; the message as the wait left it.
    unsafe { zft_zc_recv(z, &mut msg.m, COMPLETE) };
    assert_eq!(msg.m.iovcnt, 1, "the packet passed verification");
    assert_eq!(iov_bytes(&msg.iov[0], 1), b"hello overlapped");
    // SAFETY: live zocket; the message as the completion filled it.
    assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 1);

    // No EPOLLIN for that packet afterwards, and nothing left.
    let mut evs = [epoll_event::default(); 2];
    // SAFETY: live muxer, room for 2 events.
    assert_eq!(unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 0) }, 0);
    assert_eq!(recv(z), -libc::EAGAIN);

    // The next packet is overlapped again (the queue is empty once more).
    peer.write_all(b"second").unwrap();
    assert_eq!(bits(&wait_event(mux)), OVL);
    assert_eq!(tcp_step(z, &mut msg, WAIT, 6), (1, b"second".to_vec()));
    msg.m.iovcnt = 1;
    // SAFETY: as above.
    unsafe { zft_zc_recv(z, &mut msg.m, COMPLETE) };
    assert_eq!(iov_bytes(&msg.iov[0], msg.m.iovcnt), b"second");
    // SAFETY: as above.
    assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 1);

    // SAFETY: live objects, freed once (zocket first: the muxer memory waits for it).
    unsafe {
        zf_muxer_free(mux);
        zft_free(z);
    }
    free_stack(st, a);
}

#[test]
fn tcp_without_the_overlapped_bit_gets_plain_epollin_and_the_steps_do_nothing() {
    isolated!("tcp_without_the_overlapped_bit_gets_plain_epollin_and_the_steps_do_nothing");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut peer) = connected_pair(st, a);
    // SAFETY: live zocket.
    let mux = muxer_with(st, unsafe { zft_to_waitable(z) }, IN, 1);
    peer.write_all(b"plain").unwrap();
    assert_eq!(bits(&wait_event(mux)), IN);
    let mut msg = TcpMsg::<1>::new();
    // Neither step acts without an overlapped packet; the data stays queued.
    assert_eq!(tcp_step(z, &mut msg, WAIT, 5).0, 0, "wait abandoned");
    assert_eq!(
        tcp_step(z, &mut msg, COMPLETE, 5).0,
        0,
        "nothing to complete"
    );
    assert_eq!(tcp_step(z, &mut msg, 0, 0), (1, b"plain".to_vec()));
    // SAFETY: live zocket; the message as the receive filled it.
    assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 1);
    // SAFETY: live objects, freed once.
    unsafe {
        zf_muxer_free(mux);
        zft_free(z);
    }
    free_stack(st, a);
}

#[test]
fn tcp_data_already_arrived_or_backlogged_is_plain_epollin() {
    isolated!("tcp_data_already_arrived_or_backlogged_is_plain_epollin");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut peer) = connected_pair(st, a);
    // SAFETY: live zocket.
    let mux = muxer_with(st, unsafe { zft_to_waitable(z) }, IN | OVL, 1);
    // Read into the zocket by the reactor before the muxer wait: it has arrived already.
    peer.write_all(b"early").unwrap();
    poll_until(st, "data queued", || {
        let mut m = TcpMsg::<1>::new();
        // SAFETY: live zocket; room for one iovec.
        unsafe { zft_zc_recv(z, m.ptr(), 0) };
        let got = m.m.iovcnt > 0;
        if got {
            // SAFETY: as filled; releases none of it, so it stays queued.
            unsafe { zft_zc_recv_done_some(z, &mut m.m, 0) };
        }
        got
    });
    assert_eq!(bits(&wait_event(mux)), IN, "already arrived: plain EPOLLIN");
    // A second packet behind unread data (a backlog) is plain too.
    peer.write_all(b"late").unwrap();
    let mut got = Vec::new();
    let t0 = Instant::now();
    while got.len() < 9 {
        assert!(t0.elapsed() < LIMIT, "data timed out: {got:?}");
        let mut evs = [epoll_event::default(); 2];
        // SAFETY: live muxer, room for 2 events.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 1_000_000) };
        if n > 0 {
            assert_eq!(bits(&evs[0]), IN, "backlogged: plain EPOLLIN");
        }
        if n > 0 || got.is_empty() {
            let mut msg = TcpMsg::<4>::new();
            // SAFETY: live zocket; room for 4 iovecs.
            unsafe { zft_zc_recv(z, msg.ptr(), 0) };
            for v in msg.iovs() {
                got.extend(iov_bytes(v, 1));
            }
            if msg.m.iovcnt > 0 {
                // SAFETY: as filled.
                unsafe { zft_zc_recv_done(z, &mut msg.m) };
            }
        }
    }
    assert_eq!(got, b"earlylate");
    // SAFETY: live objects, freed once.
    unsafe {
        zf_muxer_free(mux);
        zft_free(z);
    }
    free_stack(st, a);
}

#[test]
fn tcp_overlapped_packet_not_completed_is_reported_as_epollin_by_the_next_wait() {
    isolated!("tcp_overlapped_packet_not_completed_is_reported_as_epollin_by_the_next_wait");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut peer) = connected_pair(st, a);
    // SAFETY: live zocket.
    let mux = muxer_with(st, unsafe { zft_to_waitable(z) }, IN | OVL, 1);
    peer.write_all(b"abandoned").unwrap();
    assert_eq!(bits(&wait_event(mux)), OVL);
    let mut msg = TcpMsg::<1>::new();
    assert_eq!(tcp_step(z, &mut msg, WAIT, 3), (1, b"aba".to_vec()));
    // Back to the muxer without completing: the packet is plain EPOLLIN now.
    assert_eq!(bits(&wait_event(mux)), IN);
    assert_eq!(
        tcp_step(z, &mut msg, COMPLETE, 0).0,
        0,
        "no overlapped packet now"
    );
    assert_eq!(tcp_step(z, &mut msg, 0, 0), (1, b"abandoned".to_vec()));
    // SAFETY: as filled.
    assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 1);

    // Removing the zocket from the muxer ends an overlapped receive too.
    peer.write_all(b"x").unwrap();
    assert_eq!(bits(&wait_event(mux)), OVL);
    // SAFETY: live waitable in the muxer.
    assert_eq!(unsafe { zf_muxer_del(zft_to_waitable(z)) }, 0);
    assert_eq!(tcp_step(z, &mut msg, WAIT, 1).0, 0);
    assert_eq!(tcp_step(z, &mut msg, 0, 0), (1, b"x".to_vec()));
    // SAFETY: as filled.
    assert_eq!(unsafe { zft_zc_recv_done(z, &mut msg.m) }, 1);
    // SAFETY: live objects, freed once.
    unsafe {
        zf_muxer_free(mux);
        zft_free(z);
    }
    free_stack(st, a);
}

#[test]
fn udp_datagram_is_reported_overlapped_then_waited_and_completed() {
    isolated!("udp_datagram_is_reported_overlapped_then_waited_and_completed");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (ur, port) = bound_zfur(st, a);
    // SAFETY: live zocket.
    let mux = muxer_with(st, unsafe { zfur_to_waitable(ur) }, IN | OVL, 7);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"datagram payload", lo(port)).unwrap();

    assert_eq!(bits(&wait_event(mux)), OVL, "ZF_EPOLLIN_OVERLAPPED alone");
    let mut msg = UdpMsg::<1>::new();
    assert_eq!(udp_step(ur, &mut msg, WAIT, 8), (1, b"datagram".to_vec()));
    assert_eq!(
        udp_step(ur, &mut msg, WAIT, 100),
        (1, b"datagram payload".to_vec())
    );
    msg.m.iovcnt = 1;
    // SAFETY: live zocket; the message as the wait left it.
    unsafe { zfur_zc_recv(ur, &mut msg.m, COMPLETE) };
    assert_eq!(msg.m.iovcnt, 1, "the datagram passed verification");
    assert_eq!(iov_bytes(&msg.iov[0], 1), b"datagram payload");
    // SAFETY: live zocket; the message as filled.
    unsafe { zfur_zc_recv_done(ur, &mut msg.m) };
    let mut evs = [epoll_event::default(); 2];
    // SAFETY: live muxer, room for 2 events.
    assert_eq!(unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 2, 0) }, 0);
    assert_eq!(udp_step(ur, &mut msg, 0, 0).0, 0, "nothing left");

    // Without the overlapped bit: plain EPOLLIN, and the wait step does nothing.
    let ev = epoll_event {
        events: IN,
        data: epoll_data { u64_: 7 },
    };
    // SAFETY: live waitable in the muxer; valid event.
    assert_eq!(unsafe { zf_muxer_mod(zfur_to_waitable(ur), &ev) }, 0);
    tx.send_to(b"plain", lo(port)).unwrap();
    assert_eq!(bits(&wait_event(mux)), IN);
    assert_eq!(udp_step(ur, &mut msg, WAIT, 5).0, 0);
    assert_eq!(udp_step(ur, &mut msg, 0, 0), (1, b"plain".to_vec()));
    // SAFETY: as filled.
    unsafe { zfur_zc_recv_done(ur, &mut msg.m) };
    // SAFETY: live objects, freed once.
    unsafe {
        zf_muxer_free(mux);
        zfur_free(ur);
    }
    free_stack(st, a);
}
