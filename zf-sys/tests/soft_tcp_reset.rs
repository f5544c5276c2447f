//! A peer that resets the connection (a kernel socket closed with SO_LINGER 0): the zocket
//! must end CLOSED with ECONNRESET whether a send or the reactor sees the reset first, also
//! after sends used up the kernel's pending error. Each test runs in a network namespace of
//! its own.

mod common;

use std::time::Duration;

use common::*;
use zf_sys::*;

/// After a reset the zocket is CLOSED with ECONNRESET, and stays so.
fn assert_reset(st: *mut zf_stack, z: *mut zft) {
    poll_until(st, "CLOSED after the reset", || state(z) == TCP_CLOSE);
    // A few more passes change nothing.
    reactor_passes(st, 100);
    eprintln!("state {} error {} recv {}", state(z), error(z), recv(z));
    assert_eq!(state(z), TCP_CLOSE);
    assert_eq!(error(z), libc::ECONNRESET);
    assert_eq!(recv(z), -libc::ECONNRESET);
    assert_eq!(send(z, b"x"), -(libc::ENOTCONN as isize));
}

/// In a namespace of its own, connects a zocket to a kernel peer that then resets the
/// connection; runs `after_reset(z)` before any reactor pass, then checks the zocket ends
/// CLOSED with ECONNRESET.
fn reset_case(test: &'static str, after_reset: fn(*mut zft)) {
    testkit::in_netns(test, move || {
        let (st, a) = stack_with(&[]);
        let (z, s) = connected_pair(st, a);
        linger_zero(&s);
        drop(s);
        after_reset(z);
        assert_reset(st, z);
        // SAFETY: live zocket, freed once.
        assert_eq!(unsafe { zft_free(z) }, 0);
        free_stack(st, a);
    });
}

#[test]
fn reset_seen_first_by_a_send_ends_closed_with_econnreset() {
    isolated!("reset_seen_first_by_a_send_ends_closed_with_econnreset");
    skip_unless_soft!();
    reset_case(
        "reset_seen_first_by_a_send_ends_closed_with_econnreset",
        |z| {
            // Let the reset arrive, without a reactor pass.
            std::thread::sleep(Duration::from_millis(50));
            let rc = send(z, b"into the void");
            eprintln!("zft_send after the reset, before the reactor: {rc}");
            assert!(rc < 0, "the send sees the reset: {rc}");
        },
    );
}

#[test]
fn reset_seen_by_the_reactor_ends_closed_with_econnreset() {
    isolated!("reset_seen_by_the_reactor_ends_closed_with_econnreset");
    skip_unless_soft!();
    reset_case(
        "reset_seen_by_the_reactor_ends_closed_with_econnreset",
        |_| {},
    );
}

#[test]
fn reset_after_sends_and_end_of_stream_ends_closed() {
    isolated!("reset_after_sends_and_end_of_stream_ends_closed");
    skip_unless_soft!();
    reset_case("reset_after_sends_and_end_of_stream_ends_closed", |z| {
        std::thread::sleep(Duration::from_millis(50));
        // Sends use up the kernel's pending error; the zocket must still learn of the reset.
        for _ in 0..3 {
            let _ = send(z, b"x");
        }
    });
}
