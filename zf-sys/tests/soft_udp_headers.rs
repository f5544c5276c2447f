//! `zfur_pkt_get_header` gives each datagram's own headers, as it arrived: the sender's TTL and
//! TOS (from the first datagram on), lengths and checksums, whether or not the headers of
//! earlier datagrams were asked for, and the same answer when asked twice. Run through the
//! kernel socket path (as an unprivileged user) and, as root, through the receive ring too,
//! in a network namespace of its own.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;

use common::*;
use zf_sys::*;

const CHILD_ENV: &str = "ZF_SOFT_HEADERS_CHILD";
const NAME: &str = "headers_are_each_datagrams_own_on_both_receive_paths";

fn set_ip_opt(s: &UdpSocket, opt: c_int, v: c_int) {
    // SAFETY: an int option value of the size given.
    let rc = unsafe {
        libc::setsockopt(
            s.as_raw_fd(),
            libc::IPPROTO_IP,
            opt,
            (&v as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "setsockopt {opt}");
}

/// Whether the UDP checksum of `udp` (header and payload) from `ip`'s addresses is right.
fn udp_checksum_ok(ip: &[u8], udp: &[u8]) -> bool {
    let mut all = Vec::with_capacity(12 + udp.len() + 1);
    all.extend_from_slice(&ip[12..20]);
    all.extend_from_slice(&[0, 17]);
    all.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    all.extend_from_slice(udp);
    if all.len() % 2 == 1 {
        all.push(0);
    }
    u16::from_be_bytes([udp[6], udp[7]]) != 0 && checksum_ok(&all)
}

/// Receives one datagram; with `look`, checks its headers (twice) against the expected TTL,
/// TOS, ports and payload.
fn take(st: *mut zf_stack, ur: *mut zfur, look: Option<(u8, u8, u16, u16)>, payload: &[u8]) {
    let mut msg = UdpMsg::<1>::new();
    poll_until(st, "a datagram", || {
        // SAFETY: live zocket; the message has room for the one iovec it announces.
        unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
        msg.m.iovcnt == 1
    });
    let v = msg.iov[0];
    // SAFETY: the datagram is held until zfur_zc_recv_done.
    let got = unsafe { std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len) };
    assert!(got == payload, "payload");
    if let Some((ttl, tos, sport, dport)) = look {
        let mut first: Option<Vec<u8>> = None;
        for _ in 0..2 {
            let (mut iph, mut udph) = (std::ptr::null(), std::ptr::null());
            // SAFETY: the datagram is held; the headers stay valid until it is released.
            let (ip, udp) = unsafe {
                assert_eq!(zfur_pkt_get_header(ur, &msg.m, &mut iph, &mut udph, 0), 0);
                (
                    std::slice::from_raw_parts(iph.cast::<u8>(), 20).to_vec(),
                    std::slice::from_raw_parts(udph.cast::<u8>(), 8).to_vec(),
                )
            };
            assert_eq!(
                (ip[0], ip[8], ip[1], ip[9]),
                (0x45, ttl, tos, 17),
                "TTL/TOS"
            );
            assert_eq!(
                usize::from(u16::from_be_bytes([ip[2], ip[3]])),
                28 + payload.len()
            );
            assert!(checksum_ok(&ip), "IP header checksum");
            assert_eq!(u16::from_be_bytes([udp[0], udp[1]]), sport);
            assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), dport);
            assert_eq!(
                usize::from(u16::from_be_bytes([udp[4], udp[5]])),
                8 + payload.len()
            );
            assert!(
                udp_checksum_ok(&ip, &[&udp[..], payload].concat()),
                "UDP checksum"
            );
            let both = [ip, udp].concat();
            if let Some(f) = &first {
                assert_eq!(f, &both, "asked twice, the same headers");
            }
            first = Some(both);
        }
    }
    // SAFETY: the message zfur_zc_recv filled.
    unsafe { zfur_zc_recv_done(ur, msg.ptr()) };
}

fn exercise() {
    let (st, a) = stack_with(&[]);
    let (ur, port) = bound_zfur(st, a);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let sport = tx.local_addr().unwrap().port();
    let send = |ttl: c_int, tos: c_int, p: &[u8]| {
        set_ip_opt(&tx, libc::IP_TTL, ttl);
        set_ip_opt(&tx, libc::IP_TOS, tos);
        tx.send_to(p, (Ipv4Addr::LOCALHOST, port)).unwrap();
    };
    let small: Vec<u8> = (0..100).map(|i| pat(1, i)).collect();
    let other: Vec<u8> = (0..37).map(|i| pat(2, i)).collect();
    let large: Vec<u8> = (0..3000).map(|i| pat(3, i)).collect();
    // The very first datagram's headers are its own.
    send(9, 0x28, &small);
    take(st, ur, Some((9, 0x28, sport, port)), &small);
    // Headers nobody asked for, then ones that are asked for, in buffers used before.
    for _ in 0..3 {
        send(7, 0x08, &other);
        take(st, ur, None, &other);
        send(33, 0x10, &small);
        take(st, ur, Some((33, 0x10, sport, port)), &small);
    }
    send(12, 0x20, &large);
    take(st, ur, Some((12, 0x20, sport, port)), &large);
    // SAFETY: live zocket, freed once.
    assert_eq!(unsafe { zfur_free(ur) }, 0);
    free_stack(st, a);
}

#[test]
fn headers_are_each_datagrams_own_on_both_receive_paths() {
    isolated!("headers_are_each_datagrams_own_on_both_receive_paths");
    skip_unless_soft!();
    if std::env::var_os(CHILD_ENV).is_some() {
        // This (single-test) child runs as an unprivileged user would.
        testkit::drop_privileges().expect("drop privileges");
        exercise();
        println!("unprivileged run: done");
        return;
    }
    testkit::in_netns(NAME, || {
        // As root: the ring path (and sockets for what it does not carry).
        exercise();
        // The socket path, as an unprivileged user, in this same namespace.
        let out = testkit::rerun_test(NAME, &[(CHILD_ENV, "1")]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("unprivileged run: done"),
            "the unprivileged run ran the test"
        );
    });
}
