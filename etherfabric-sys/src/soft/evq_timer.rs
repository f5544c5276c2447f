//! The event queue timer (`etherfabric/timer.h`, VIs made with `EF_VI_ENABLE_EV_TIMER`): a
//! one-shot `timerfd` per event queue.
//!
//! When the timer reaches zero the adapter raises a timeout on the queue; the library hands
//! the application no event for it, and its effect is to wake a primed event queue. Here the
//! timerfd is one of the descriptors `ef_vi_prime()` adds to the driver handle's epoll set,
//! so an expiry makes a primed handle readable; priming again takes the expiry back.
//! Starting or clearing the timer never raises a timeout for the previous run. A timer
//! primed to start "when the next event arrives" starts when the backend queues the next
//! event (the backend queues events when the application polls, see `poll.rs`).

use core::ffi::c_int;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

use super::{errno, log_once};

/// A queue's timer: its timerfd, and the timeout to start with the next event, if primed.
#[derive(Debug)]
pub(crate) struct EvqTimer {
    fd: OwnedFd,
    on_next_event: Option<Duration>,
}

impl EvqTimer {
    /// A stopped timer.
    pub(super) fn new() -> Result<EvqTimer, c_int> {
        // SAFETY: plain timerfd creation.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(-errno());
        }
        Ok(EvqTimer {
            // SAFETY: `fd` is a new descriptor nothing else owns.
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
            on_next_event: None,
        })
    }

    /// The descriptor that is readable once the timer expired.
    pub(super) fn raw_fd(&self) -> c_int {
        self.fd.as_raw_fd()
    }

    /// Sets the timer to expire after `d` (zero: stopped); a pending expiry is dropped.
    fn set(&mut self, d: Duration) {
        self.take_expiry();
        let value = libc::timespec {
            tv_sec: d.as_secs() as libc::time_t,
            tv_nsec: d.subsec_nanos() as libc::c_long,
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: `spec` is a valid itimerspec; the old value is not wanted.
        let rc =
            unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, core::ptr::null_mut()) };
        if rc < 0 {
            log_once(
                "evq_timer",
                "timerfd_settime failed: the event queue timer is stopped",
            );
        }
    }

    /// `ef_eventq_timer_run`: stop, then run for `d` from now.
    pub(super) fn run(&mut self, d: Duration) {
        self.on_next_event = None;
        // At least 1 ns: a zero value would stop the timer.
        self.set(d.max(Duration::from_nanos(1)));
    }

    /// `ef_eventq_timer_prime` (and `_zero`, with `d` zero): stop, then run for `d` from the
    /// next event.
    pub(super) fn prime(&mut self, d: Duration) {
        self.set(Duration::ZERO);
        self.on_next_event = Some(d);
    }

    /// `ef_eventq_timer_clear`: stop, and do not start with the next event.
    pub(super) fn clear(&mut self) {
        self.on_next_event = None;
        self.set(Duration::ZERO);
    }

    /// An event was queued: a primed timer starts.
    pub(super) fn event_arrived(&mut self) {
        if let Some(d) = self.on_next_event.take() {
            self.set(d.max(Duration::from_nanos(1)));
        }
    }

    /// Takes back an expiry that has not been seen yet (the queue is primed again).
    pub(super) fn take_expiry(&mut self) {
        let mut n: u64 = 0;
        // SAFETY: reading 8 bytes from our non-blocking timerfd; EAGAIN when none expired.
        unsafe { libc::read(self.fd.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }
}
