//! UDP send sizes as TCPDirect defines them (zf_udp.h, udp_tx.c): `zfut_send_single` sends one
//! unfragmented datagram (DontFragment always set) of at most `zfut_get_mss` bytes;
//! `zfut_send` without `ZFUT_FLAG_DONT_FRAGMENT` sends larger ones as IP fragments, up to the
//! UDP maximum of 65507 bytes, and returns the length; with the flag it keeps to the MSS.
//! Runs in a network namespace of its own; a kernel socket receives.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::*;
use zf_sys::*;

#[test]
fn udp_send_sizes_follow_tcpdirect() {
    isolated!("udp_send_sizes_follow_tcpdirect");
    skip_unless_soft!();
    testkit::in_netns("udp_send_sizes_follow_tcpdirect", || {
        let (st, a) = stack_with(&[]);
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let to = sin(lo(rx.local_addr().unwrap().port()));
        let from = sin(lo(40123));
        let ((pl, ll), (pr, lr)) = (sa(&from), sa(&to));
        let mut ut = std::ptr::null_mut();
        // SAFETY: live stack and attributes, valid addresses and out pointer.
        assert_eq!(unsafe { zfut_alloc(&mut ut, st, pl, ll, pr, lr, 0, a) }, 0);
        // SAFETY: live zocket.
        let mss = unsafe { zfut_get_mss(ut) } as usize;
        assert_eq!(mss, 1472, "MTU 1500 less the IP and UDP headers");
        let data: Vec<u8> = (0..65508).map(|i| pat(4, i)).collect();
        let mut buf = vec![0u8; 70000];
        let single = |n: usize| {
            // SAFETY: live zocket; the buffer holds at least n bytes.
            unsafe { zfut_send_single(ut, data.as_ptr().cast(), n) }
        };
        let send = |n: usize, flags: u32| {
            let v = iovec {
                iov_base: data.as_ptr() as *mut _,
                iov_len: n,
            };
            // SAFETY: live zocket; one iovec over the buffer.
            unsafe { zfut_send(ut, &v, 1, flags as i32) }
        };
        let mut expect = |n: usize| {
            let got = rx.recv(&mut buf).expect("the datagram arrives");
            assert_eq!(got, n);
            assert!(buf[..n] == data[..n], "content of {n} bytes");
        };
        // zfut_send_single: up to the MSS, never fragmented.
        assert_eq!(single(mss), mss as i32);
        expect(mss);
        let over = single(mss + 1);
        eprintln!("zfut_send_single({}) = {over}", mss + 1);
        assert_eq!(
            over,
            -libc::EMSGSIZE,
            "beyond the MSS: not one unfragmented datagram"
        );
        // zfut_send: fragments up to the UDP maximum.
        for n in [mss + 1, 3000, 65507] {
            assert_eq!(send(n, 0), n as i32, "zfut_send of {n}");
            expect(n);
        }
        assert_eq!(send(65508, 0), -libc::EMSGSIZE, "beyond the UDP maximum");
        // ...unless told not to fragment.
        assert_eq!(send(mss, ZFUT_FLAG_DONT_FRAGMENT), mss as i32);
        expect(mss);
        assert_eq!(send(mss + 1, ZFUT_FLAG_DONT_FRAGMENT), -libc::EMSGSIZE);
        // Nothing else arrived (the refused sends sent nothing).
        rx.set_nonblocking(true).unwrap();
        assert!(rx.recv(&mut buf).is_err(), "a refused send went out");
        // SAFETY: live zocket, freed once.
        assert_eq!(unsafe { zfut_free(ut) }, 0);
        free_stack(st, a);
    });
}
