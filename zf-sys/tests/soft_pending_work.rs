//! `zf_stack_has_pending_work` says yes while the application has something to collect that no
//! network event announces (a member added to a muxer ready, events a full `zf_muxer_wait`
//! left behind), and no longer once a reactor pass has run. Runs in a network namespace of
//! its own.

mod common;

use std::net::{Ipv4Addr, UdpSocket};

use common::*;
use zf_sys::*;

fn pending(st: *mut zf_stack) -> i32 {
    // SAFETY: live stack.
    unsafe { zf_stack_has_pending_work(st) }
}

fn perform(st: *mut zf_stack) {
    // SAFETY: live stack.
    unsafe { zf_reactor_perform(st) };
}

#[test]
fn pending_work_covers_ready_muxer_members_and_clears_after_a_pass() {
    isolated!("pending_work_covers_ready_muxer_members_and_clears_after_a_pass");
    skip_unless_soft!();
    in_netns(
        "pending_work_covers_ready_muxer_members_and_clears_after_a_pass",
        99,
        || {
            let (st, a) = stack_with(&[]);
            let mut ur = std::ptr::null_mut();
            // SAFETY: live stack, valid out pointer.
            assert_eq!(unsafe { zfur_alloc(&mut ur, st, a) }, 0);
            let mut la = sin(lo(0));
            let len = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
            // SAFETY: live zocket, valid writable address.
            let rc = unsafe {
                zfur_addr_bind(
                    ur,
                    (&mut la as *mut libc::sockaddr_in).cast(),
                    len,
                    std::ptr::null(),
                    0,
                    0,
                )
            };
            assert_eq!(rc, 0);
            let port = from_sin(&la).port();
            // The first answer is a conservative yes; after a pass the answer is exact.
            pending(st);
            perform(st);
            assert_eq!(pending(st), 0, "idle");
            let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
            tx.send_to(b"queued", (Ipv4Addr::LOCALHOST, port)).unwrap();
            let mut msg = UdpMsg::<1>::new();
            // Into the zocket's queue, and left there.
            poll_until(st, "the datagram queued", || {
                // SAFETY: live zocket; the message has room for one iovec.
                unsafe { zfur_zc_recv(ur, msg.ptr(), 0) };
                msg.m.iovcnt == 1
            });
            perform(st);
            assert_eq!(pending(st), 0, "nothing new from the network");
            let mut mux = std::ptr::null_mut();
            // SAFETY: live stack, valid out pointer.
            assert_eq!(unsafe { zf_muxer_alloc(st, &mut mux) }, 0);
            let ev = epoll_event {
                events: libc::EPOLLIN as u32,
                data: epoll_data { u64_: 3 },
            };
            // SAFETY: live muxer and waitable.
            assert_eq!(unsafe { zf_muxer_add(mux, zfur_to_waitable(ur), &ev) }, 0);
            assert_ne!(pending(st), 0, "a ready member waits to be collected");
            let mut out = [epoll_event::default(); 1];
            // SAFETY: live muxer; room for one event.
            assert_eq!(unsafe { zf_muxer_wait(mux, out.as_mut_ptr(), 1, 0) }, 1);
            perform(st);
            assert_eq!(pending(st), 0, "collected: nothing pending any more");
            // SAFETY: the held datagram is released; objects freed once.
            unsafe {
                zfur_zc_recv_done(ur, msg.ptr());
                zf_muxer_free(mux);
                assert_eq!(zfur_free(ur), 0);
            }
            free_stack(st, a);
        },
    );
}
