//! A TCPDirect stack on one end of a veth pair between two network namespaces, a kernel UDP
//! peer on the other: datagrams the MTU carries whole, a datagram the sender's kernel splits
//! into IP fragments, and a reply through a zfut. As root the stack receives through its
//! shared-memory ring; fragments reach it through its socket instead.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::Duration;

use common::*;
use testkit::{NetnsPair, run_in};
use zf_sys::*;

/// Payload sizes the peer sends, in this order: the 3000-byte one crosses the veth (MTU 1500)
/// in fragments.
const SIZES: [usize; 4] = [16, 3000, 1472, 17];

fn sockaddr(ip: Ipv4Addr, port: u16) -> libc::sockaddr_in {
    sin(std::net::SocketAddrV4::new(ip, port))
}

#[test]
fn veth_peer_datagrams_whole_and_fragmented_and_a_reply() {
    skip_unless_soft!();
    let test = "veth_peer_datagrams_whole_and_fragmented_and_a_reply";
    let Some(pair) = NetnsPair::create(test, 71) else {
        return;
    };
    let (ip_a, ip_b) = (pair.ip_a, pair.ip_b);
    let (port_a, port_b) = (32001, 32002);
    let payloads: Vec<Vec<u8>> = SIZES
        .iter()
        .enumerate()
        .map(|(k, &n)| (0..n).map(|i| pat(k as u8 + 10, i)).collect())
        .collect();
    let sent = payloads.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<()>();
    let peer = run_in(&pair.ns_a, move || {
        let s = UdpSocket::bind((ip_a, port_a)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let fd = s.as_raw_fd();
        for (opt, v) in [(libc::IP_TTL, 5), (libc::IP_TOS, 0x10)] {
            // SAFETY: an int option value of the size given.
            let rc = unsafe {
                libc::setsockopt(
                    fd,
                    libc::IPPROTO_IP,
                    opt,
                    (&v as *const libc::c_int).cast(),
                    std::mem::size_of::<libc::c_int>() as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0);
        }
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("stack ready");
        for p in &sent {
            s.send_to(p, (ip_b, port_b)).unwrap();
        }
        let mut buf = [0u8; 64];
        let (n, from) = s.recv_from(&mut buf).expect("reply from the zfut");
        (buf[..n].to_vec(), from)
    });
    let if_b = pair.if_b.clone();
    let zf_side = run_in(&pair.ns_b, move || {
        // SAFETY: zf_init may be called before anything else.
        unsafe { zf_init() };
        let mut a = std::ptr::null_mut();
        // SAFETY: valid out pointer, attribute object and C strings.
        unsafe {
            assert_eq!(zf_attr_alloc(&mut a), 0);
            let ifn = std::ffi::CString::new(if_b).unwrap();
            assert_eq!(zf_attr_set_str(a, c"interface".as_ptr(), ifn.as_ptr()), 0);
        }
        let mut st = std::ptr::null_mut();
        // SAFETY: valid attribute object and out pointer.
        assert_eq!(unsafe { zf_stack_alloc(a, &mut st) }, 0);
        let (mut ur, mut ut) = (std::ptr::null_mut(), std::ptr::null_mut());
        let mut la = sockaddr(ip_b, port_b);
        let ra = sockaddr(ip_a, port_a);
        let (pl, ll) = sa(&la);
        let (pr, lr) = sa(&ra);
        // SAFETY: live stack, valid addresses and out pointers.
        unsafe {
            assert_eq!(zfur_alloc(&mut ur, st, a), 0);
            let lp = (&mut la as *mut libc::sockaddr_in).cast();
            assert_eq!(zfur_addr_bind(ur, lp, ll, std::ptr::null(), 0, 0), 0);
            assert_eq!(zfut_alloc(&mut ut, st, pl, ll, pr, lr, 0, a), 0);
        }
        ready_tx.send(()).unwrap();
        let mut got: Vec<(Vec<u8>, [u8; 20])> = Vec::new();
        let mut msg = UdpMsg::<1>::new();
        poll_until(st, "the peer's datagrams", || {
            // SAFETY: live zocket; the message has room for one iovec; the datagram and its
            // headers stay valid until zfur_zc_recv_done.
            unsafe {
                zfur_zc_recv(ur, msg.ptr(), 0);
                if msg.m.iovcnt == 1 {
                    let (mut iph, mut udph) = (std::ptr::null(), std::ptr::null());
                    assert_eq!(zfur_pkt_get_header(ur, &msg.m, &mut iph, &mut udph, 0), 0);
                    let v = msg.iov[0];
                    let data = std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len);
                    got.push((data.to_vec(), std::ptr::read(iph.cast())));
                    zfur_zc_recv_done(ur, &mut msg.m);
                }
            }
            got.len() >= SIZES.len()
        });
        // SAFETY: live zocket, valid buffer.
        let n = unsafe { zfut_send_single(ut, b"reply".as_ptr().cast(), 5) };
        assert_eq!(n, 5);
        // SAFETY: freed once, zockets before their stack.
        unsafe {
            assert_eq!(zfut_free(ut), 0);
            assert_eq!(zfur_free(ur), 0);
        }
        free_stack(st, a);
        got
    });
    let got = zf_side.join().expect("zf thread");
    let (reply, from) = peer.join().expect("peer thread");
    assert_eq!(reply, b"reply");
    assert_eq!(from, (ip_b, port_b).into());
    // Whole datagrams keep their order; the reassembled one may arrive after them (its
    // socket is read at the next sweep), so match by content.
    let whole: Vec<&Vec<u8>> = got
        .iter()
        .map(|(d, _)| d)
        .filter(|d| d.len() != 3000)
        .collect();
    assert_eq!(whole, [&payloads[0], &payloads[2], &payloads[3]]);
    let frag = got
        .iter()
        .find(|(d, _)| d.len() == 3000)
        .expect("fragmented");
    assert!(frag.0 == payloads[1], "reassembled content");
    for (d, ip) in &got {
        assert_eq!(
            (ip[8], ip[1]),
            (5, 0x10),
            "{} bytes: peer's TTL and TOS",
            d.len()
        );
        assert_eq!(&ip[12..16], &ip_a.octets());
        assert_eq!(&ip[16..20], &ip_b.octets());
        assert!(checksum_ok(ip));
    }
}
