//! The kernel sockets of ring-served ports (software backend, shared-memory ring): the empty
//! stubs they get of the datagrams the ring carries are read while the reactor has nothing
//! else to do, so none wait in a socket once the application has had its datagram and the
//! reactor has idled; and a datagram that only the socket gets (reassembled from IP
//! fragments, which the ring does not take) still arrives at a port no other traffic reaches.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;

use common::*;
use zf_sys::*;

/// Packet sockets open in this thread's network namespace (a stack's ring is one).
fn packet_sockets_here() -> usize {
    // /proc/thread-self: the namespace this thread entered, not the process's.
    let t = std::fs::read_to_string("/proc/thread-self/net/packet").unwrap();
    t.lines().count().saturating_sub(1)
}

/// The receive-queue bytes of the UDP socket bound to 127.0.0.1:`port` in this thread's
/// namespace (`rx_queue` in `/proc/net/udp`).
fn rx_queue(port: u16) -> u64 {
    let t = std::fs::read_to_string("/proc/thread-self/net/udp").unwrap();
    let local = format!("0100007F:{port:04X}");
    let line = t
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(local.as_str()))
        .unwrap_or_else(|| panic!("no UDP socket on 127.0.0.1:{port} in /proc/net/udp"));
    let queues = line.split_whitespace().nth(4).unwrap();
    let rx = queues.split(':').nth(1).unwrap();
    u64::from_str_radix(rx, 16).unwrap()
}

/// A stack on `lo` with its receive ring, or `None` (reported as skipped) when this process
/// cannot open one.
fn ring_stack(test: &str) -> Option<(*mut zf_stack, *mut zf_attr)> {
    let (st, a) = stack_with(&[]);
    if packet_sockets_here() == 0 {
        free_stack(st, a);
        testkit::skip(test, "no receive ring: the process lacks CAP_NET_RAW");
        return None;
    }
    Some((st, a))
}

/// Receives one datagram on `ur` (running the reactor until it comes); returns its payload
/// and the reactor passes it took.
fn receive_one(st: *mut zf_stack, ur: *mut zfur) -> (Vec<u8>, usize) {
    let mut msg = UdpMsg::<1>::new();
    let mut got = None;
    let mut passes = 0;
    poll_until(st, "a datagram", || {
        passes += 1;
        // SAFETY: live zocket; the message has room for the one iovec it announces.
        unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
        if msg.m.iovcnt == 1 {
            let v = msg.iov[0];
            // SAFETY: the datagram is held until zfur_zc_recv_done.
            unsafe {
                got = Some(std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len).to_vec());
                zfur_zc_recv_done(ur, msg.ptr());
            }
        }
        got.is_some()
    });
    (got.unwrap(), passes)
}

#[test]
fn stubs_are_read_once_the_reactor_idles() {
    const TEST: &str = "stubs_are_read_once_the_reactor_idles";
    isolated!("stubs_are_read_once_the_reactor_idles");
    skip_unless_soft!();
    let Some((st, a)) = ring_stack(TEST) else {
        return;
    };
    let (ur, port) = bound_zfur(st, a);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut most = 0;
    for k in 0..100usize {
        let p: Vec<u8> = (0..16 + k).map(|i| pat(k as u8, i)).collect();
        tx.send_to(&p, (Ipv4Addr::LOCALHOST, port)).unwrap();
        let (got, _) = receive_one(st, ur);
        assert!(got == p, "datagram {k}: content");
        // Passes that find nothing new in the ring (a few, should a stub still be on its way
        // when the first looks for it).
        reactor_passes(st, 16);
        most = most.max(rx_queue(port));
    }
    eprintln!("largest receive queue of the port's socket after idle passes: {most} bytes");
    assert_eq!(
        most, 0,
        "no stub waits in the socket once the reactor has idled"
    );
    // SAFETY: freed once, zocket before its stack.
    assert_eq!(unsafe { zfur_free(ur) }, 0);
    free_stack(st, a);
}

/// Sets `lo`'s MTU in this thread's namespace.
fn set_lo_mtu(mtu: i32) {
    // SAFETY: plain system calls on a descriptor made here; `ifreq` is plain old data and
    // names `lo`.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_DGRAM, 0);
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let mut ifr: libc::ifreq = std::mem::zeroed();
        for (d, s) in ifr.ifr_name.iter_mut().zip(b"lo\0") {
            *d = *s as libc::c_char;
        }
        ifr.ifr_ifru.ifru_mtu = mtu;
        let rc = libc::ioctl(fd, libc::SIOCSIFMTU, &ifr);
        let e = std::io::Error::last_os_error();
        libc::close(fd);
        assert_eq!(rc, 0, "setting lo's MTU to {mtu}: {e}");
    }
}

#[test]
fn a_reassembled_datagram_reaches_a_quiet_ring_served_port() {
    const TEST: &str = "a_reassembled_datagram_reaches_a_quiet_ring_served_port";
    isolated!("a_reassembled_datagram_reaches_a_quiet_ring_served_port");
    skip_unless_soft!();
    // With lo's MTU at 1500, a 3000-byte datagram travels in two fragments: the ring takes
    // neither, and the socket gets the datagram whole once reassembled, with no doorbell.
    set_lo_mtu(1500);
    let Some((st, a)) = ring_stack(TEST) else {
        return;
    };
    let (ur, port) = bound_zfur(st, a);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dont: libc::c_int = libc::IP_PMTUDISC_DONT;
    // SAFETY: an int option of the size given, on a live socket.
    let rc = unsafe {
        libc::setsockopt(
            tx.as_raw_fd(),
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            (&dont as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "IP_MTU_DISCOVER");
    let p: Vec<u8> = (0..3000).map(|i| pat(7, i)).collect();
    tx.send_to(&p, (Ipv4Addr::LOCALHOST, port)).unwrap();
    let (got, passes) = receive_one(st, ur);
    eprintln!("reassembled datagram received after {passes} reactor passes");
    assert!(got == p, "content of the reassembled datagram");
    // The sockets of ring-served ports are looked at in the first idle pass after every
    // 16384 direct passes (udp::SWEEP_EVERY), counted from the stack's creation.
    assert!(passes <= 16384 + 2, "took {passes} passes");
    // SAFETY: freed once, zocket before its stack.
    assert_eq!(unsafe { zfur_free(ur) }, 0);
    free_stack(st, a);
}
