//! TCP alternatives and delegated sends, with a kernel peer; plus both ends on one stack.

mod common;

use std::io::Read;
use std::os::raw::c_int;
use std::time::Instant;

use common::*;
use zf_sys::*;

fn read_exact_from(s: &mut std::net::TcpStream, n: usize) -> Vec<u8> {
    s.set_read_timeout(Some(LIMIT)).unwrap();
    let mut v = vec![0u8; n];
    s.read_exact(&mut v).unwrap();
    v
}

fn iov(b: &[u8]) -> iovec {
    iovec {
        iov_base: b.as_ptr() as *mut _,
        iov_len: b.len(),
    }
}

#[test]
fn alternatives_queue_send_cancel_and_space() {
    isolated!("alternatives_queue_send_cancel_and_space");
    skip_unless_soft!();
    // Without alt_count there are no alternatives.
    let (st0, a0) = stack_with(&[]);
    let mut h: zf_althandle = 0;
    // SAFETY: live stack, valid out pointer.
    assert_eq!(
        // SAFETY: live objects and valid buffers created by this test.
        unsafe { zf_alternatives_alloc(st0, a0, &mut h) },
        -libc::ENOMEM
    );
    free_stack(st0, a0);

    let (st, a) = stack_with(&[("alt_count", 2)]);
    let (z, mut peer) = connected_pair(st, a);
    let (mut x, mut y, mut w) = (0, 0, 0);
    // SAFETY: live stack and zocket; valid buffers throughout.
    unsafe {
        assert_eq!(zf_alternatives_alloc(st, a, &mut x), 0);
        assert_eq!(zf_alternatives_alloc(st, a, &mut y), 0);
        assert_eq!(
            zf_alternatives_alloc(st, a, &mut w),
            -libc::ENOMEM,
            "alt_count = 2"
        );
        let free0 = zf_alternatives_free_space(st, x);
        assert!(free0 > 0 && free0 <= 40960);
        let (m1, m2, m3) = (b"BUY 100".to_vec(), b"@ 42".to_vec(), b"SELL 5".to_vec());
        assert_eq!(zft_alternatives_queue(z, x, &iov(&m1), 1, 0), 0);
        assert_eq!(zft_alternatives_queue(z, x, &iov(&m2), 1, 0), 0);
        assert_eq!(zft_alternatives_queue(z, y, &iov(&m3), 1, 0), 0);
        assert!(
            zf_alternatives_free_space(st, x) < free0,
            "queued messages use buffer space"
        );
        assert_eq!(
            zft_alternatives_queue(z, x, &iov(&m1), 2, 0),
            -libc::EINVAL,
            "one iovec"
        );
        assert_eq!(
            zft_alternatives_queue(z, x, &iov(&m1), 1, 1),
            -libc::EINVAL,
            "flags 0"
        );
        assert_eq!(
            zft_alternatives_queue(z, 99, &iov(&m1), 1, 0),
            -libc::EINVAL,
            "bad handle"
        );
        let big = vec![0u8; 5000];
        assert_eq!(
            zft_alternatives_queue(z, y, &iov(&big), 1, 0),
            -libc::EMSGSIZE
        );
        // Nothing is sent until an alternative is chosen.
        assert_eq!(zf_alternatives_send(st, x), 0);
        assert_eq!(zf_alternatives_cancel(st, y), 0);
        assert_eq!(read_exact_from(&mut peer, 11), b"BUY 100@ 42");
        assert_eq!(
            zf_alternatives_free_space(st, x),
            free0,
            "space back after send and cancel"
        );
        // A queued alternative goes stale when the zocket sends normally.
        assert_eq!(zft_alternatives_queue(z, y, &iov(&m3), 1, 0), 0);
        assert_eq!(zft_send_single(z, b"x".as_ptr().cast(), 1, 0), 1);
        assert_eq!(zf_alternatives_send(st, y), -libc::EINVAL);
        assert_eq!(zf_alternatives_cancel(st, y), 0);
        assert_eq!(read_exact_from(&mut peer, 1), b"x");
        let mut ov = [0u32; 3];
        assert_eq!(
            zf_alternatives_query_overhead_tcp(z, ov.as_mut_ptr().cast()),
            0
        );
        assert_ne!(ov[1], 0, "mask");
        assert_eq!(zf_alternatives_release(st, x), 0);
        assert_eq!(zf_alternatives_release(st, x), -libc::EINVAL);
        assert_eq!(zf_alternatives_release(st, y), 0);
        assert_eq!(zft_free(z), 0);
    }
    drop(peer);
    free_stack(st, a);
}

#[test]
fn delegated_send_prepare_complete_cancel() {
    isolated!("delegated_send_prepare_complete_cancel");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (z, mut peer) = connected_pair(st, a);
    let port = peer.local_addr().unwrap().port();
    let mut hdr = [0u8; 64];
    let mut ds = zf_ds {
        headers: hdr.as_mut_ptr().cast(),
        headers_size: 20,
        ..Default::default()
    };
    // SAFETY: live zocket; `ds` and its header buffer are valid; buffers valid throughout.
    unsafe {
        assert_eq!(
            zf_delegated_send_prepare(z, 1000, 0, 0, &mut ds),
            zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_SMALL_HEADER
        );
        assert_eq!(ds.headers_len, 54);
        ds.headers_size = 64;
        let rc = zf_delegated_send_prepare(z, 1000, 0, 0, &mut ds);
        assert_eq!(rc & ZF_DELEGATED_SEND_RC_FATAL, 0, "rc {rc}");
        assert_eq!(ds.headers_len, 54);
        assert_eq!(ds.delegated_wnd, 1000);
        assert!(ds.mss > 0);
        // Ethernet type, IPv4 header, addresses and ports.
        assert_eq!(&hdr[12..14], &[0x08, 0x00]);
        assert_eq!(hdr[14], 0x45);
        assert_eq!(hdr[14 + 9], libc::IPPROTO_TCP as u8);
        assert_eq!(&hdr[26..30], &[127, 0, 0, 1]);
        assert_eq!(&hdr[30..34], &[127, 0, 0, 1]);
        assert_eq!(
            u16::from_be_bytes([hdr[36], hdr[37]]),
            port,
            "destination port"
        );
        assert_eq!(ds.ip_len_offset, 16);
        assert_eq!(ds.tcp_seq_offset, 38);
        assert_eq!(u16::from_be_bytes([hdr[16], hdr[17]]) as c_int, 40 + ds.mss);
        // The inline header helpers work on these headers.
        let seq0 = u32::from_be_bytes(hdr[38..42].try_into().unwrap());
        zf_delegated_send_tcp_update(&mut ds, 9, 1);
        assert_eq!(u16::from_be_bytes([hdr[16], hdr[17]]), 49);
        assert_ne!(hdr[38 + 9] & 0x08, 0, "PSH");
        zf_delegated_send_tcp_advance(&mut ds, 9);
        assert_eq!(
            u32::from_be_bytes(hdr[38..42].try_into().unwrap()),
            seq0.wrapping_add(9)
        );
        // Normal sends wait while bytes are delegated.
        assert_eq!(
            zft_send_single(z, b"n".as_ptr().cast(), 1, 0),
            -(libc::EBUSY as isize)
        );
        assert_eq!(zft_shutdown_tx(z), -libc::EBUSY);
        let payload = b"delegated";
        let v = iov(payload);
        let big = vec![0u8; 2000];
        assert_eq!(
            zf_delegated_send_complete(z, &iov(&big), 1, 0),
            -libc::EMSGSIZE
        );
        assert_eq!(zf_delegated_send_complete(z, &v, 1, 0), 9);
        assert_eq!(read_exact_from(&mut peer, 9), payload);
        assert_eq!(zf_delegated_send_cancel(z), 0);
        assert_eq!(zft_send_single(z, b"n".as_ptr().cast(), 1, 0), 1);
        assert_eq!(read_exact_from(&mut peer, 1), b"n");
        // A second prepare continues the sequence numbers after the sent bytes.
        let rc = zf_delegated_send_prepare(z, 100, 0, 0, &mut ds);
        assert_eq!(rc & ZF_DELEGATED_SEND_RC_FATAL, 0);
        assert_eq!(
            u32::from_be_bytes(hdr[38..42].try_into().unwrap()),
            seq0.wrapping_add(10)
        );
        assert_eq!(zf_delegated_send_cancel(z), 0);
        assert_eq!(zft_free(z), 0);
        // A zocket not connected is a bad socket.
        let mut hd = std::ptr::null_mut();
        assert_eq!(zft_alloc(st, a, &mut hd), 0);
        assert_eq!(
            zf_delegated_send_prepare(hd.cast(), 100, 0, 0, &mut ds),
            zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_BAD_SOCKET
        );
        assert_eq!(zft_handle_free(hd), 0);
    }
    free_stack(st, a);
}

#[test]
fn both_ends_on_one_stack() {
    isolated!("both_ends_on_one_stack");
    skip_unless_soft!();
    let (st, a) = stack_with(&[]);
    let (tl, port) = listen_lo(st, a);
    let c = connect(st, a, lo(port));
    let mut s = std::ptr::null_mut();
    // SAFETY: live listener.
    poll_until(st, "accept", || unsafe { zftl_accept(tl, &mut s) } == 0);
    let mut msg = TcpMsg::<4>::new();
    let t0 = Instant::now();
    for round in 0..100u32 {
        let out = round.to_le_bytes();
        // SAFETY: live zocket, valid buffer.
        assert_eq!(unsafe { zft_send_single(c, out.as_ptr().cast(), 4, 0) }, 4);
        let mut got = Vec::new();
        while got.len() < 4 {
            assert!(t0.elapsed() < LIMIT);
            // SAFETY: live stack and zocket; msg with 4 iovecs.
            unsafe {
                zf_reactor_perform(st);
                zft_zc_recv(s, msg.ptr(), 0);
            }
            for v in &msg.iov[..msg.m.iovcnt as usize] {
                // SAFETY: valid until done.
                got.extend_from_slice(unsafe {
                    std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len)
                });
            }
            if msg.m.iovcnt > 0 {
                // SAFETY: msg as filled.
                unsafe { zft_zc_recv_done(s, &mut msg.m) };
            }
        }
        assert_eq!(got, out);
    }
    // Close both ways; the stack becomes quiescent after both are freed.
    // SAFETY: live zockets.
    unsafe {
        assert_eq!(zft_shutdown_tx(c), 0);
        assert_eq!(zft_shutdown_tx(s), 0);
    }
    // SAFETY: live zockets.
    // SAFETY: called on the two live zockets only.
    let done = |z| matches!(unsafe { zft_state(z) }, TCP_TIME_WAIT | TCP_CLOSE);
    poll_until(st, "both closed", || done(c) && done(s));
    // SAFETY: live objects, each freed once.
    unsafe {
        assert_eq!(zft_free(c), 0);
        assert_eq!(zft_free(s), 0);
        assert_eq!(zftl_free(tl), 0);
    }
    // SAFETY: live stack.
    poll_until(
        st,
        "quiescent",
        || unsafe { zf_stack_is_quiescent(st) } == 1,
    );
    free_stack(st, a);
}
