// The software backend's event queue timer (`ef_eventq_timer_*` on a VI made with
// EF_VI_ENABLE_EV_TIMER): an expiry wakes a primed driver handle without queueing an event;
// priming again takes it back; clearing or restarting the timer drops a run; a primed timer
// starts with the next event. Each test runs in a network namespace of its own.
#![cfg(soft_backend)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use etherfabric_sys::*;

/// Whether the driver handle of `t` becomes readable within `ms`.
fn wakes(t: &TestVi, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd: t.dh,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    assert!(n >= 0, "poll: {}", std::io::Error::last_os_error());
    n == 1
}

fn prime(t: &mut TestVi) {
    // SAFETY: the VI is live and owns its event queue.
    let rc = unsafe { ef_vi_prime(t.vi(), t.dh, ef_eventq_current(t.vi())) };
    assert_eq!(rc, 0, "ef_vi_prime");
}

/// One timer call on the VI of `t` (made with EF_VI_ENABLE_EV_TIMER unless the test says).
enum Timer {
    Run(u32),
    Prime(u32),
    Clear,
    Zero,
}

fn timer(t: &mut TestVi, op: Timer) {
    let vi = t.vi();
    // SAFETY: the VI is live and used by this thread only.
    unsafe {
        match op {
            Timer::Run(us) => ef_eventq_timer_run(vi, us),
            Timer::Prime(us) => ef_eventq_timer_prime(vi, us),
            Timer::Clear => ef_eventq_timer_clear(vi),
            Timer::Zero => ef_eventq_timer_zero(vi),
        }
    }
}

fn poll_all(t: &mut TestVi) -> Vec<ef_event> {
    let mut evs = [ef_event::default(); 16];
    // SAFETY: the VI is live; `evs` has room for 16 events.
    let n = unsafe { ef_eventq_poll(t.vi(), evs.as_mut_ptr(), 16) };
    evs[..n.max(0) as usize].to_vec()
}

#[test]
fn an_expired_timer_wakes_a_primed_queue_once() {
    if !can_run("an_expired_timer_wakes_a_primed_queue_once") {
        return;
    }
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_ENABLE_EV_TIMER).expect("VI");
    prime(&mut t);
    assert!(!wakes(&t, 50), "nothing to wake for yet");
    let t0 = Instant::now();
    timer(&mut t, Timer::Run(30_000));
    assert!(wakes(&t, 2000), "the timer did not wake the primed handle");
    assert!(
        t0.elapsed() >= Duration::from_millis(25),
        "{:?}",
        t0.elapsed()
    );
    assert!(poll_all(&mut t).is_empty(), "a timeout is no event");
    // Primed again: the timeout was seen, the handle sleeps.
    prime(&mut t);
    assert!(!wakes(&t, 100), "a timeout woke twice");
}

#[test]
fn cleared_or_restarted_timers_raise_no_timeout_for_the_old_run() {
    if !can_run("cleared_or_restarted_timers_raise_no_timeout_for_the_old_run") {
        return;
    }
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_ENABLE_EV_TIMER).expect("VI");
    prime(&mut t);
    timer(&mut t, Timer::Run(20_000));
    timer(&mut t, Timer::Clear);
    assert!(!wakes(&t, 150), "a cleared timer expired");
    // Restarting drops the old run: the new, longer one decides.
    timer(&mut t, Timer::Run(10_000));
    timer(&mut t, Timer::Run(500_000));
    assert!(!wakes(&t, 100), "the first run expired");
    assert!(wakes(&t, 2000), "the second run did not expire");
}

#[test]
fn a_primed_timer_starts_with_the_next_event() {
    if !can_run("a_primed_timer_starts_with_the_next_event") {
        return;
    }
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_ENABLE_EV_TIMER).expect("VI");
    // A timer primed with 0 times out with the next event: before one, nothing wakes.
    timer(&mut t, Timer::Zero);
    prime(&mut t);
    assert!(!wakes(&t, 100), "a zeroed timer ran before any event");
    // Primed with 300 ms (long enough for this thread to prime again after the event, on a
    // busy machine): nothing before an event either.
    timer(&mut t, Timer::Prime(300_000));
    prime(&mut t);
    assert!(!wakes(&t, 100), "a primed timer ran before any event");
    // SAFETY: the VI is live.
    let rc = unsafe { ef_eventq_put(ef_vi_resource_id(t.vi()), t.dh, 7) };
    assert_eq!(rc, 0);
    // The event itself wakes the handle; poll it out and prime again: the timer, started by
    // the event, wakes it once more.
    assert!(wakes(&t, 1000));
    assert_eq!(poll_all(&mut t).len(), 1);
    prime(&mut t);
    assert!(wakes(&t, 2000), "the timer did not start with the event");
    assert!(poll_all(&mut t).is_empty());
    prime(&mut t);
    assert!(!wakes(&t, 100), "the timeout woke twice");
}

#[test]
fn a_vi_without_a_timer_ignores_the_timer_calls() {
    if !can_run("a_vi_without_a_timer_ignores_the_timer_calls") {
        return;
    }
    let mut t = TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("VI");
    prime(&mut t);
    timer(&mut t, Timer::Run(1000));
    assert!(!wakes(&t, 100));
}
