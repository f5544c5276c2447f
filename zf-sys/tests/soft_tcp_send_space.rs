//! A peer that stops reading: `zf_muxer_wait(EPOLLOUT)` must report EPOLLOUT only when the
//! zocket has send space (no wake-ups that a send then answers with EAGAIN), and report it
//! again once the peer reads. Runs in a network namespace of its own.

mod common;

use std::io::Read;
use std::time::{Duration, Instant};

use common::*;
use zf_sys::*;

#[test]
fn epollout_only_with_send_space_while_the_peer_does_not_read() {
    isolated!("epollout_only_with_send_space_while_the_peer_does_not_read");
    skip_unless_soft!();
    testkit::in_netns(
        "epollout_only_with_send_space_while_the_peer_does_not_read",
        || {
            let (st, a) = stack_with(&[]);
            let (z, mut s) = connected_pair(st, a);
            // SAFETY: a live zocket's waitable.
            let mux = muxer_with(st, unsafe { zft_to_waitable(z) }, libc::EPOLLOUT as u32, 7);
            let chunk = vec![0x5au8; 65536];
            let mut sent = 0usize;
            let mut wakeups = 0usize;
            let mut spurious = 0usize;
            let mut quiet = 0;
            let mut evs = [epoll_event::default(); 4];
            let t0 = Instant::now();
            // The peer never reads: once its buffer is full, nothing more can be sent, and
            // the muxer must stay silent.
            while quiet < 3 {
                assert!(t0.elapsed() < LIMIT, "the muxer never went quiet");
                // SAFETY: live muxer; evs has 4 entries.
                let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 300_000_000) };
                if n == 0 {
                    quiet += 1;
                    continue;
                }
                quiet = 0;
                wakeups += 1;
                let mut space = 0usize;
                // SAFETY: live zocket, valid out pointer.
                assert_eq!(unsafe { zft_send_space(z, &mut space) }, 0);
                let mut accepted = false;
                loop {
                    let rc = send(z, &chunk);
                    if rc > 0 {
                        sent += rc as usize;
                        accepted = true;
                    } else {
                        assert_eq!(rc, -(libc::EAGAIN as isize));
                        break;
                    }
                }
                if space == 0 || !accepted {
                    spurious += 1;
                }
                if wakeups > 100_000 {
                    break;
                }
            }
            eprintln!(
                "sent {sent} bytes; {wakeups} EPOLLOUT wake-ups, {spurious} without send space"
            );
            assert_eq!(spurious, 0, "EPOLLOUT without send space");
            assert!(sent > 0);
            // Now the peer reads everything: EPOLLOUT comes back.
            let reader = std::thread::spawn(move || {
                let mut buf = vec![0u8; 1 << 16];
                let mut total = 0usize;
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    total += n;
                }
                total
            });
            let t0 = Instant::now();
            let mut back = false;
            while !back {
                assert!(t0.elapsed() < LIMIT, "no EPOLLOUT once the peer reads");
                // SAFETY: live muxer; evs has 4 entries.
                back = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), 4, 10_000_000) } > 0;
            }
            let mut space = 0usize;
            // SAFETY: live zocket, valid out pointer.
            assert_eq!(unsafe { zft_send_space(z, &mut space) }, 0);
            assert!(space > 0, "EPOLLOUT with space {space}");
            // SAFETY: live objects, each freed once.
            unsafe {
                assert_eq!(zf_muxer_del(zft_to_waitable(z)), 0);
                zf_muxer_free(mux);
                assert_eq!(zft_free(z), 0);
            }
            assert!(reader.join().unwrap() >= sent);
            free_stack(st, a);
        },
    );
}
