//! With `tx_timestamping=1`, a zocket that has transmit reports waiting is ready for
//! `EPOLLERR` in a muxer until `zfut_get_tx_timestamps` / `zft_get_tx_timestamps` has taken
//! them all, as in TCPDirect (the SDK's `zftcppingpong -m -t` waits for that event). Each test
//! runs in a network namespace of its own.

mod common;

use std::net::UdpSocket;
use std::os::raw::c_int;

use common::*;
use zf_sys::*;

/// A muxer of `st` holding `w` for `EPOLLERR` alone, with data `tag`.
fn muxer_for_err(st: *mut zf_stack, w: *mut zf_waitable, tag: u64) -> *mut zf_muxer_set {
    muxer_with(st, w, libc::EPOLLERR as u32, tag)
}

/// The events `zf_muxer_wait` reports within `timeout_ns` (at most one).
fn wait(mux: *mut zf_muxer_set, timeout_ns: i64) -> Option<(u32, u64)> {
    let mut out = [epoll_event::default(); 1];
    // SAFETY: live muxer; room for one event.
    let n = unsafe { zf_muxer_wait(mux, out.as_mut_ptr(), 1, timeout_ns) };
    assert!((0..=1).contains(&n), "zf_muxer_wait returned {n}");
    let e = out[0];
    if n == 0 {
        return None;
    }
    // SAFETY: the data union was written as u64_.
    Some((e.events, unsafe { e.data.u64_ }))
}

const SECOND: i64 = 1_000_000_000;
const SHORT: i64 = 50_000_000;

/// Takes every waiting report of a zfut; returns how many there were.
fn drain_udp(ut: *mut zfut) -> c_int {
    let mut reports = [zf_pkt_report::default(); 8];
    let mut count = reports.len() as c_int;
    // SAFETY: live zocket; the array has `count` entries.
    let rc = unsafe { zfut_get_tx_timestamps(ut, reports.as_mut_ptr(), &mut count) };
    assert_eq!(rc, 0, "zfut_get_tx_timestamps");
    count
}

/// Takes every waiting report of a zft; returns how many there were.
fn drain_tcp(z: *mut zft) -> c_int {
    let mut reports = [zf_pkt_report::default(); 8];
    let mut count = reports.len() as c_int;
    // SAFETY: live zocket; the array has `count` entries.
    let rc = unsafe { zft_get_tx_timestamps(z, reports.as_mut_ptr(), &mut count) };
    assert_eq!(rc, 0, "zft_get_tx_timestamps");
    count
}

#[test]
fn udp_tx_reports_make_the_zocket_ready_for_epollerr_until_taken() {
    isolated!("udp_tx_reports_make_the_zocket_ready_for_epollerr_until_taken");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("tx_timestamping", 1)]);
    let peer = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = match peer.local_addr().unwrap() {
        std::net::SocketAddr::V4(v) => v,
        other => panic!("not IPv4: {other}"),
    };
    let la = sin(lo(to.port().wrapping_add(1).max(1024)));
    let ra = sin(to);
    let (lp, ll) = sa(&la);
    let (rp, rl) = sa(&ra);
    let mut ut = std::ptr::null_mut();
    // SAFETY: live stack and attributes; valid addresses and out pointer.
    assert_eq!(unsafe { zfut_alloc(&mut ut, st, lp, ll, rp, rl, 0, a) }, 0);
    // SAFETY: live zocket.
    let mux = muxer_for_err(st, unsafe { zfut_to_waitable(ut) }, 7);
    assert_eq!(
        wait(mux, SHORT),
        None,
        "nothing sent: no report, no EPOLLERR"
    );

    let payload = b"report me";
    // SAFETY: live zocket; buffer valid for its length.
    let sent = unsafe { zfut_send_single(ut, payload.as_ptr().cast(), payload.len()) };
    assert_eq!(sent, payload.len() as c_int);
    let got = wait(mux, SECOND).expect("EPOLLERR once a transmit report waits");
    assert_eq!(got.0 & libc::EPOLLERR as u32, libc::EPOLLERR as u32);
    assert_eq!(got.1, 7, "the member's data");
    assert_eq!(drain_udp(ut), 1, "one report per datagram");
    assert_eq!(
        wait(mux, SHORT),
        None,
        "reports taken: no longer ready for EPOLLERR"
    );

    // A new report makes it ready again.
    // SAFETY: as above.
    let sent = unsafe { zfut_send_single(ut, payload.as_ptr().cast(), payload.len()) };
    assert_eq!(sent, payload.len() as c_int);
    let got = wait(mux, SECOND).expect("EPOLLERR for the second report");
    assert_eq!(got.0 & libc::EPOLLERR as u32, libc::EPOLLERR as u32);
    assert_eq!(drain_udp(ut), 1);
    assert_eq!(wait(mux, SHORT), None);

    // SAFETY: objects freed once, members before the muxer.
    unsafe {
        assert_eq!(zfut_free(ut), 0);
        zf_muxer_free(mux);
    }
    free_stack(st, a);
}

#[test]
fn tcp_tx_reports_make_the_zocket_ready_for_epollerr_until_taken() {
    isolated!("tcp_tx_reports_make_the_zocket_ready_for_epollerr_until_taken");
    skip_unless_soft!();
    let (st, a) = stack_with(&[("tx_timestamping", 1)]);
    let (z, _peer) = connected_pair(st, a);
    // SAFETY: live zocket.
    let mux = muxer_for_err(st, unsafe { zft_to_waitable(z) }, 9);
    // The connection's SYN has a report already.
    let got = wait(mux, SECOND).expect("EPOLLERR for the SYN's report");
    assert_eq!(got.0 & libc::EPOLLERR as u32, libc::EPOLLERR as u32);
    assert_eq!(got.1, 9, "the member's data");
    assert!(drain_tcp(z) >= 1, "the SYN's report");
    assert_eq!(
        wait(mux, SHORT),
        None,
        "reports taken: no longer ready for EPOLLERR"
    );

    assert_eq!(send(z, b"stamped bytes"), 13);
    let got = wait(mux, SECOND).expect("EPOLLERR once the send's report waits");
    assert_eq!(got.0 & libc::EPOLLERR as u32, libc::EPOLLERR as u32);
    assert_eq!(drain_tcp(z), 1, "one report for one send");
    assert_eq!(wait(mux, SHORT), None, "taken again");
    assert_eq!(
        error(z),
        0,
        "EPOLLERR here is about reports, not a zocket error"
    );

    // SAFETY: objects freed once, members before the muxer.
    unsafe {
        assert_eq!(zft_free(z), 0);
        zf_muxer_free(mux);
    }
    free_stack(st, a);
}
