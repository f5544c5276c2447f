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
    testkit::in_netns(
        "pending_work_covers_ready_muxer_members_and_clears_after_a_pass",
        || {
            let (st, a) = stack_with(&[]);
            let (ur, port) = bound_zfur(st, a);
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
            // SAFETY: a live zocket's waitable.
            let mux = muxer_with(st, unsafe { zfur_to_waitable(ur) }, libc::EPOLLIN as u32, 3);
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
