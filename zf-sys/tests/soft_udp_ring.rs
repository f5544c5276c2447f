//! The two UDP receive paths of the software backend: the shared-memory ring a stack opens when
//! the process has CAP_NET_RAW, and the kernel socket it falls back to without. Both must
//! deliver the same datagrams, in order, with the headers they arrived with; blocking waits
//! must wake for either. As root the test runs itself a second time as an unprivileged user.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;
use std::os::raw::c_int;
use std::time::{Duration, Instant};

use common::*;
use zf_sys::*;

const CHILD_ENV: &str = "ZF_SOFT_RING_CHILD";
const NAME: &str = "both_receive_paths_deliver_in_order_with_real_headers";

/// Payload sizes sent in one burst: on both sides of the largest datagram the stack's MTU
/// (1500) carries whole (1472 bytes), far above it, and tiny.
const SIZES: [usize; 7] = [1, 3000, 2, 1472, 1473, 20000, 3];

/// Serialises the tests of this file: they count the process's packet sockets.
static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// How many AF_PACKET sockets this process holds (their inodes in /proc/net/packet, matched
/// against the process's descriptors).
fn packet_sockets() -> usize {
    let table = // This thread's network namespace (the test isolates its thread, not the process).
    std::fs::read_to_string("/proc/thread-self/net/packet").unwrap();
    let inodes: Vec<String> = table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
        .collect();
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|l| {
            let l = l.to_string_lossy();
            inodes.iter().any(|i| l == format!("socket:[{i}]"))
        })
        .count()
}

/// One received datagram and the fields of its headers that the test checks.
#[derive(Debug)]
struct Got {
    payload: Vec<u8>,
    ip: [u8; 20],
    udp: [u8; 8],
}

/// Runs the reactor until `n` datagrams have been received on `ur`.
fn receive(st: *mut zf_stack, ur: *mut zfur, n: usize) -> Vec<Got> {
    let mut got = Vec::new();
    let mut msg = UdpMsg::<1>::new();
    poll_until(st, "datagrams", || {
        // SAFETY: live zocket; the message has room for the one iovec it announces.
        unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
        if msg.m.iovcnt == 1 {
            let (mut iph, mut udph) = (std::ptr::null(), std::ptr::null());
            // SAFETY: the datagram is held until zfur_zc_recv_done; its iovec and headers
            // are valid until then.
            unsafe {
                assert_eq!(zfur_pkt_get_header(ur, &msg.m, &mut iph, &mut udph, 0), 0);
                let v = msg.iov[0];
                got.push(Got {
                    payload: std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len)
                        .to_vec(),
                    ip: std::ptr::read(iph.cast()),
                    udp: std::ptr::read(udph.cast()),
                });
                zfur_zc_recv_done(ur, &mut msg.m);
            }
        }
        got.len() >= n
    });
    got
}

/// The UDP checksum of `udp` (header, with any checksum field, then payload) from `src` to
/// `dst`, as a sender puts it in the header (0 is sent as 0xffff).
fn udp_checksum(src: &[u8], dst: &[u8], udp: &[u8]) -> u16 {
    let mut all = Vec::with_capacity(12 + udp.len() + 1);
    all.extend_from_slice(src);
    all.extend_from_slice(dst);
    all.extend_from_slice(&[0, 17]);
    all.extend_from_slice(&(udp.len() as u16).to_be_bytes());
    all.extend_from_slice(&udp[..6]);
    all.extend_from_slice(&[0, 0]);
    all.extend_from_slice(&udp[8..]);
    if all.len() % 2 == 1 {
        all.push(0);
    }
    let mut sum: u32 = all
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    match !(sum as u16) {
        0 => 0xffff,
        c => c,
    }
}

/// Whether the UDP checksum of a datagram is present and right.
fn udp_checksum_ok(ip: &[u8; 20], udp: &[u8; 8], payload: &[u8]) -> bool {
    let whole = [&udp[..], payload].concat();
    let stored = u16::from_be_bytes([udp[6], udp[7]]);
    stored != 0 && stored == udp_checksum(&ip[12..16], &ip[16..20], &whole)
}

fn set_ip_opt(s: &UdpSocket, opt: c_int, v: c_int) {
    let rc = set_sockopt(s.as_raw_fd(), opt, v);
    assert_eq!(rc, 0, "setsockopt {opt}");
}

fn set_sockopt(fd: c_int, opt: c_int, v: c_int) -> c_int {
    // SAFETY: an int option value of the size given.
    unsafe {
        libc::setsockopt(
            fd,
            libc::IPPROTO_IP,
            opt,
            (&v as *const c_int).cast(),
            std::mem::size_of::<c_int>() as libc::socklen_t,
        )
    }
}

fn exercise_paths(expect_ring: bool) {
    let (st, a) = stack_with(&[]);
    assert_eq!(
        packet_sockets() > 0,
        expect_ring,
        "a stack has a receive ring exactly when the process may open one"
    );
    let (ur, port) = bound_zfur(st, a);
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    set_ip_opt(&tx, libc::IP_TTL, 9);
    set_ip_opt(&tx, libc::IP_TOS, 0x28);
    let payloads: Vec<Vec<u8>> = SIZES
        .iter()
        .enumerate()
        .map(|(k, &n)| (0..n).map(|i| pat(k as u8, i)).collect())
        .collect();
    for p in &payloads {
        tx.send_to(p, (Ipv4Addr::LOCALHOST, port)).unwrap();
    }
    let got = receive(st, ur, SIZES.len());
    let txport = tx.local_addr().unwrap().port();
    for (k, (g, p)) in got.iter().zip(&payloads).enumerate() {
        assert_eq!(
            g.payload.len(),
            p.len(),
            "datagram {k}: length (order kept)"
        );
        assert!(g.payload == *p, "datagram {k}: content");
        let ip = &g.ip;
        assert_eq!(ip[0], 0x45, "datagram {k}: IPv4, no options");
        assert_eq!(
            (ip[8], ip[1]),
            (9, 0x28),
            "datagram {k}: the sender's TTL and TOS"
        );
        assert_eq!(ip[9], 17, "datagram {k}: UDP");
        assert_eq!(
            usize::from(u16::from_be_bytes([ip[2], ip[3]])),
            (28 + p.len()).min(0xffff),
            "datagram {k}: IP total length"
        );
        assert_eq!(&ip[12..16], &[127, 0, 0, 1]);
        assert_eq!(&ip[16..20], &[127, 0, 0, 1]);
        assert!(checksum_ok(ip), "datagram {k}: IP header checksum");
        let udp = &g.udp;
        assert_eq!(u16::from_be_bytes([udp[0], udp[1]]), txport);
        assert_eq!(u16::from_be_bytes([udp[2], udp[3]]), port);
        assert_eq!(
            usize::from(u16::from_be_bytes([udp[4], udp[5]])),
            8 + p.len()
        );
        assert!(udp_checksum_ok(ip, udp, p), "datagram {k}: UDP checksum");
    }

    // A muxer wait returns for a datagram sent while it waits.
    // SAFETY: a live zocket's waitable.
    let mux = muxer_with(st, unsafe { zfur_to_waitable(ur) }, libc::EPOLLIN as u32, 7);
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        tx.send_to(b"wake", (Ipv4Addr::LOCALHOST, port)).unwrap();
        tx
    });
    let mut out = [epoll_event::default(); 1];
    let t0 = Instant::now();
    // SAFETY: live muxer; room for one event.
    let n = unsafe { zf_muxer_wait(mux, out.as_mut_ptr(), 1, 5_000_000_000) };
    let waited = t0.elapsed();
    let tx = sender.join().unwrap();
    assert_eq!(n, 1, "woken by the datagram");
    // SAFETY: the kernel-style union as the muxer filled it.
    assert_eq!(unsafe { out[0].data.u64_ }, 7);
    assert!(waited >= Duration::from_millis(50), "it waited: {waited:?}");
    assert!(
        waited < Duration::from_secs(4),
        "not the timeout: {waited:?}"
    );
    assert_eq!(receive(st, ur, 1)[0].payload, b"wake");

    // A thread that sleeps on the stack's waitable fd wakes for a datagram, even though the
    // stack was only polled directly until now.
    let mut fd: c_int = -1;
    // SAFETY: live stack, valid out pointer.
    unsafe {
        assert_eq!(zf_waitable_fd_get(st, &mut fd), 0);
        assert_eq!(zf_waitable_fd_prime(st), 0);
    }
    let sender = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(100));
        tx.send_to(b"fd", (Ipv4Addr::LOCALHOST, port)).unwrap();
        tx
    });
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    let t0 = Instant::now();
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, 5000) };
    let waited = t0.elapsed();
    let tx = sender.join().unwrap();
    assert_eq!(n, 1, "the fd became readable");
    assert!(waited >= Duration::from_millis(50), "it slept: {waited:?}");
    assert_eq!(receive(st, ur, 1)[0].payload, b"fd");

    // The same burst again on a stack that also listens for TCP, which makes the reactor go
    // through its epoll set: still every datagram once, in order.
    let mut tl = std::ptr::null_mut();
    let lsin = sin(lo(0));
    let (lp, ll) = sa(&lsin);
    // SAFETY: live stack and attributes, valid address and out pointer.
    assert_eq!(unsafe { zftl_listen(st, lp, ll, a, &mut tl) }, 0);
    for p in &payloads {
        tx.send_to(p, (Ipv4Addr::LOCALHOST, port)).unwrap();
    }
    let mut again = Vec::new();
    let mut msg = UdpMsg::<1>::new();
    let t0 = Instant::now();
    while again.len() < payloads.len() {
        assert!(t0.elapsed() < LIMIT, "burst through the epoll pass");
        // SAFETY: live muxer; room for one event.
        unsafe { zf_muxer_wait(mux, out.as_mut_ptr(), 1, 1_000_000_000) };
        loop {
            // SAFETY: live zocket; room for one iovec; released before the next receive.
            unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
            if msg.m.iovcnt == 0 {
                break;
            }
            let v = msg.iov[0];
            // SAFETY: the datagram is held until zfur_zc_recv_done.
            unsafe {
                again.push(std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len).to_vec());
                zfur_zc_recv_done(ur, &mut msg.m);
            }
        }
    }
    assert!(
        again == payloads,
        "order and content through the epoll pass"
    );
    // SAFETY: the listener allocated above, freed once.
    assert_eq!(unsafe { zftl_free(tl) }, 0);

    // With the epoll set complete, the pending-events check is exact both ways.
    // SAFETY: live stack.
    unsafe { zf_reactor_perform(st) };
    // SAFETY: live stack.
    let pending = unsafe { zf_stack_has_pending_events(st) };
    assert_eq!(pending, 0, "nothing pending");
    tx.send_to(b"more", (Ipv4Addr::LOCALHOST, port)).unwrap();
    let t0 = Instant::now();
    // SAFETY: live stack.
    while unsafe { zf_stack_has_pending_events(st) } == 0 {
        assert!(t0.elapsed() < LIMIT, "the datagram never showed as pending");
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(receive(st, ur, 1)[0].payload, b"more");

    // SAFETY: freed once, zockets before their stack.
    unsafe {
        zf_muxer_free(mux);
        assert_eq!(zfur_free(ur), 0);
    }
    free_stack(st, a);
    assert_eq!(packet_sockets(), 0, "the ring goes with its stack");
}

#[test]
fn both_receive_paths_deliver_in_order_with_real_headers() {
    isolated!("both_receive_paths_deliver_in_order_with_real_headers");
    skip_unless_soft!();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if std::env::var_os(CHILD_ENV).is_some() {
        // This (single-test) child runs as an unprivileged user would.
        testkit::drop_privileges().expect("drop privileges");
        exercise_paths(false);
        return;
    }
    if !root() {
        // SAFETY: plain system call; the descriptor is closed at once.
        let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0) };
        if fd >= 0 {
            // SAFETY: closing the descriptor just opened.
            unsafe { libc::close(fd) };
        }
        println!("{NAME}: not root: only the path this process gets is tested");
        exercise_paths(fd >= 0);
        return;
    }
    exercise_paths(true);
    testkit::rerun_test(NAME, &[(CHILD_ENV, "1")]);
}

/// A UDP/IPv4 datagram to 127.0.0.1:`dport` as a raw socket sends it (the kernel fills in the
/// IP checksum and identification); `opts` adds four bytes of IP options (NOPs).
fn raw_datagram(dport: u16, ttl: u8, opts: bool, good_csum: bool, payload: &[u8]) -> Vec<u8> {
    let ihl = if opts { 24 } else { 20 };
    let mut d = vec![0u8; ihl + 8 + payload.len()];
    d[0] = 0x40 | (ihl / 4) as u8;
    let total = d.len() as u16;
    d[2..4].copy_from_slice(&total.to_be_bytes());
    d[8] = ttl;
    d[9] = 17;
    d[12..16].copy_from_slice(&[127, 0, 0, 1]);
    d[16..20].copy_from_slice(&[127, 0, 0, 1]);
    if opts {
        d[20..24].copy_from_slice(&[1, 1, 1, 1]);
    }
    let ulen = (8 + payload.len()) as u16;
    d[ihl..ihl + 2].copy_from_slice(&4242u16.to_be_bytes());
    d[ihl + 2..ihl + 4].copy_from_slice(&dport.to_be_bytes());
    d[ihl + 4..ihl + 6].copy_from_slice(&ulen.to_be_bytes());
    d[ihl + 8..].copy_from_slice(payload);
    let mut c = udp_checksum(&d[12..16], &d[16..20], &d[ihl..]);
    if !good_csum {
        c ^= 0x5a5a;
    }
    d[ihl + 6..ihl + 8].copy_from_slice(&c.to_be_bytes());
    d
}

#[test]
fn bad_checksums_are_dropped_and_ip_options_left_out_as_the_kernel_does() {
    isolated!("bad_checksums_are_dropped_and_ip_options_left_out_as_the_kernel_does");
    skip_unless_soft!();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    if !root() {
        println!("skipped: sending hand-built datagrams needs a raw socket (root)");
        return;
    }
    let (st, a) = stack_with(&[]);
    let (ur, port) = bound_zfur(st, a);
    // A kernel socket gets the same datagrams, to compare with.
    let kernel = UdpSocket::bind("127.0.0.1:0").unwrap();
    kernel.set_read_timeout(Some(LIMIT)).unwrap();
    let kport = kernel.local_addr().unwrap().port();
    // SAFETY: plain system call; closed below.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_RAW) };
    assert!(raw >= 0);
    let send = |dport: u16, d: &[u8]| {
        let to = sin(lo(dport));
        // SAFETY: valid buffer and address of the lengths given.
        let n = unsafe {
            libc::sendto(
                raw,
                d.as_ptr().cast(),
                d.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
            )
        };
        assert_eq!(n, d.len() as isize);
    };
    for dport in [port, kport] {
        send(dport, &raw_datagram(dport, 20, false, false, b"bad"));
        send(dport, &raw_datagram(dport, 33, true, true, b"options"));
        send(dport, &raw_datagram(dport, 44, false, true, b"end"));
    }
    let mut buf = [0u8; 64];
    let mut kgot = Vec::new();
    for _ in 0..2 {
        let n = kernel.recv(&mut buf).unwrap();
        kgot.push(buf[..n].to_vec());
    }
    assert_eq!(
        kgot,
        [b"options".to_vec(), b"end".to_vec()],
        "the kernel's view"
    );
    let got = receive(st, ur, 2);
    assert_eq!(got[0].payload, b"options");
    assert_eq!(got[1].payload, b"end", "the bad checksum was dropped");
    assert_eq!(
        (got[0].ip[0], got[0].ip[8]),
        (0x45, 33),
        "options left out, TTL kept"
    );
    assert_eq!(u16::from_be_bytes([got[0].ip[2], got[0].ip[3]]), 28 + 7);
    assert!(checksum_ok(&got[0].ip));
    assert_eq!(got[1].ip[8], 44);
    // SAFETY: the raw socket opened above; the zocket is live.
    unsafe {
        libc::close(raw);
        assert_eq!(zfur_free(ur), 0);
    }
    free_stack(st, a);
}

#[test]
fn more_ports_than_one_ring_filter_lists_all_receive() {
    isolated!("more_ports_than_one_ring_filter_lists_all_receive");
    skip_unless_soft!();
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    // 64 zockets with one port each: more than the 60 a ring lists, so the last ports are
    // read through their sockets; each must get exactly its own datagram.
    let (st, a) = stack_with(&[("max_udp_rx_endpoints", 64)]);
    let zockets: Vec<(*mut zfur, u16)> = (0..64).map(|_| bound_zfur(st, a)).collect();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for (i, &(_, port)) in zockets.iter().enumerate() {
        tx.send_to(&[i as u8; 8], (Ipv4Addr::LOCALHOST, port))
            .unwrap();
    }
    for (i, &(ur, _)) in zockets.iter().enumerate() {
        let got = receive(st, ur, 1);
        assert_eq!(got[0].payload, [i as u8; 8], "zocket {i}");
    }
    // Nothing more arrives anywhere (no datagram came by both paths).
    let t0 = Instant::now();
    let mut msg = UdpMsg::<1>::new();
    while t0.elapsed() < Duration::from_millis(50) {
        // SAFETY: live stack.
        unsafe { zf_reactor_perform(st) };
    }
    for &(ur, _) in &zockets {
        // SAFETY: live zocket; room for one iovec.
        unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
        assert_eq!(msg.m.iovcnt, 0, "a duplicate arrived");
    }
    for (ur, _) in zockets {
        // SAFETY: live zocket, freed once.
        assert_eq!(unsafe { zfur_free(ur) }, 0);
    }
    free_stack(st, a);
}
