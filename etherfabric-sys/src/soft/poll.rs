//! Polling and blocking: `ef_eventq_poll()` and `ef_receive_poll()` (which make progress
//! first: transmits pushed, frames read), `ef_eventq_has_event(s)`, `ef_eventq_wait()` and
//! `ef_vi_prime()`; the `ef_eventq_timer_*` ops (see `evq_timer.rs`).
//!
//! An adapter writes events into the ring by itself; here frames are read from the packet
//! sockets of the VIs that share the event queue only inside these calls, and `poll()` on a
//! primed driver handle wakes up on the sockets and the queue's eventfd.

use core::ffi::{c_int, c_uint};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::evq::{EventQueue, is_rx_event};
use super::evq_timer::EvqTimer;
use super::vi::{SoftVi, ctx};
use super::{errno, lock};
use crate::bindings::*;

impl SoftVi {
    /// Makes progress: sends pushed transmits, reads frames.
    fn pump(&mut self, want: usize) {
        if self.tx_done != self.state().txq.previous {
            self.tx_process();
        }
        self.rx_pump(want);
    }
}

/// Calls `f` on each VI whose queues report to the event queue of `evq` (`evq` included).
///
/// # Safety
///
/// `evq` must be a live VI of this backend owning an event queue, used by this thread only.
unsafe fn for_each_queue(evq: *const ef_vi, mut f: impl FnMut(&mut SoftVi)) {
    // SAFETY: guaranteed by the caller; each VI in vi_qs is live or null (freed VIs are
    // removed from the array), and only one state is borrowed at a time.
    unsafe {
        let n = (*evq).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
        for i in 0..n {
            if let Some(sv) = ctx((*evq).vi_qs[i]) {
                f(sv);
            }
        }
    }
}

/// Pumps every queue reporting to the event queue of `evq`.
///
/// # Safety
///
/// As [`for_each_queue`].
unsafe fn pump_all(evq: *const ef_vi, want: usize) {
    // SAFETY: forwarded guarantee.
    unsafe { for_each_queue(evq, |sv| sv.pump(want)) };
}

/// The packet sockets that receive for the event queue of `evq`.
///
/// # Safety
///
/// As [`for_each_queue`].
unsafe fn receiving_fds(evq: *const ef_vi) -> Vec<c_int> {
    let mut fds = Vec::new();
    // SAFETY: forwarded guarantee.
    unsafe {
        for_each_queue(evq, |sv| {
            if sv.base.rx && sv.rxq_size > 0 {
                fds.push(sv.base.sock.fd().as_raw_fd());
            }
        })
    };
    fds
}

/// The event queue a VI reports to.
///
/// # Safety
///
/// `vi` must be null or a VI of this backend.
unsafe fn evq_of(vi: *const ef_vi) -> Option<Arc<Mutex<EventQueue>>> {
    // SAFETY: guaranteed by the caller; the reference is dropped at once.
    unsafe { ctx(vi) }.map(|s| s.base.evq.clone())
}

/// Polls the event queue of `vi`: `progress` first makes progress on its queues, then up to
/// `n` of the waiting events that are `wanted` move to `evs`, in order. Returns how many
/// moved, or `-EINVAL` when `vi` is no VI of this backend.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend owning an event queue, used by this thread
/// only; `evs` null or writable for `n` events.
unsafe fn poll_events(
    vi: *mut ef_vi,
    evs: *mut ef_event,
    n: c_int,
    progress: impl FnOnce(usize),
    wanted: impl Fn(&ef_event) -> bool,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    if evs.is_null() || n <= 0 {
        return 0;
    }
    let n = n as usize;
    progress(n);
    let mut q = lock(&q);
    let (mut k, mut i) = (0, 0);
    while i < q.events.len() && k < n {
        if wanted(&q.events[i]) {
            let ev = q.events.remove(i).unwrap_or_default();
            // SAFETY: the caller provides room for `n` events.
            unsafe { evs.add(k).write(ev) };
            k += 1;
        } else {
            i += 1;
        }
    }
    q.unsignal_if_empty();
    k as c_int
}

/// The `eventq_poll` op, behind `ef_eventq_poll()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue, and `evs` writable for `n`
/// events.
pub(super) unsafe extern "C" fn op_eventq_poll(
    vi: *mut ef_vi,
    evs: *mut ef_event,
    n: c_int,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend owning an event queue; `evs` has room for `n`.
    let pump = |want| unsafe { pump_all(vi, want) };
    // SAFETY: as above.
    let k = unsafe { poll_events(vi, evs, n, pump, |_| true) };
    if k > 0 {
        // SAFETY: ep_state of a live VI. The read pointer moves as the library's does.
        unsafe {
            let st = &mut (*(*vi).ep_state).evq;
            st.evq_ptr = st.evq_ptr.wrapping_add(8 * k as u32);
        }
    }
    k
}

/// The `receive_poll` op, behind `ef_receive_poll()`: only the receive events.
///
/// # Safety
///
/// As `op_eventq_poll`.
pub(super) unsafe extern "C" fn op_receive_poll(
    vi: *mut ef_vi,
    evs: *mut ef_event,
    n: c_int,
) -> c_int {
    // SAFETY: as in op_eventq_poll.
    let pump = |want| unsafe { for_each_queue(vi, |sv| sv.rx_pump(want)) };
    // SAFETY: as above.
    unsafe { poll_events(vi, evs, n, pump, is_rx_event) }
}

/// Adds the VI's descriptors to the epoll set `dh` and wakes it if events are waiting.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue.
unsafe fn arm(vi: *mut ef_vi, dh: c_int) -> c_int {
    // SAFETY: guaranteed by the caller.
    let mut fds = unsafe { receiving_fds(vi) };
    // SAFETY: as above.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    let mut q = lock(&q);
    fds.push(q.wake_fd.as_raw_fd());
    if let Some(t) = &mut q.timer {
        // A timeout is seen once: priming again takes back one that came meanwhile.
        t.take_expiry();
        fds.push(t.raw_fd());
    }
    for fd in fds {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: registering a descriptor we own with the caller's epoll handle.
        if unsafe { libc::epoll_ctl(dh, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = errno();
            if e != libc::EEXIST {
                return -e;
            }
        }
    }
    q.armed = true;
    if !q.events.is_empty() && !q.signalled {
        q.signal();
    }
    0
}

/// The `eventq_prime` op, behind `ef_eventq_prime()`.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend owning an event queue.
pub(super) unsafe extern "C" fn op_eventq_prime(vi: *mut ef_vi) {
    if vi.is_null() {
        return;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { arm(vi, (*vi).dh) };
}

/// Calls `f` with the timer of `vi`'s event queue, if the VI has one (`EF_VI_ENABLE_EV_TIMER`;
/// the library asserts it, here a VI without is left alone).
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend owning an event queue.
unsafe fn with_timer(vi: *mut ef_vi, f: impl FnOnce(&mut EvqTimer)) {
    // SAFETY: guaranteed by the caller.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return;
    };
    if let Some(t) = &mut lock(&q).timer {
        f(t);
    }
}

/// The `eventq_timer_prime` op, behind `ef_eventq_timer_prime()`: `v` µs from the next event.
///
/// # Safety
///
/// As [`with_timer`].
pub(super) unsafe extern "C" fn op_timer_prime(vi: *mut ef_vi, v: c_uint) {
    // SAFETY: forwarded guarantee.
    unsafe { with_timer(vi, |t| t.prime(Duration::from_micros(u64::from(v)))) };
}

/// The `eventq_timer_run` op, behind `ef_eventq_timer_run()`: `v` µs from now.
///
/// # Safety
///
/// As [`with_timer`].
pub(super) unsafe extern "C" fn op_timer_run(vi: *mut ef_vi, v: c_uint) {
    // SAFETY: forwarded guarantee.
    unsafe { with_timer(vi, |t| t.run(Duration::from_micros(u64::from(v)))) };
}

/// The `eventq_timer_clear` op, behind `ef_eventq_timer_clear()`.
///
/// # Safety
///
/// As [`with_timer`].
pub(super) unsafe extern "C" fn op_timer_clear(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantee.
    unsafe { with_timer(vi, EvqTimer::clear) };
}

/// The `eventq_timer_zero` op, behind `ef_eventq_timer_zero()`: a timeout with the next event.
///
/// # Safety
///
/// As [`with_timer`].
pub(super) unsafe extern "C" fn op_timer_zero(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantee.
    unsafe { with_timer(vi, |t| t.prime(Duration::ZERO)) };
}

/// The `eventq_has_event` op, behind `ef_eventq_has_event()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue, used by this thread only.
pub(super) unsafe extern "C" fn op_has_event(vi: *const ef_vi) -> c_int {
    // SAFETY: the VI is used by this thread only, as the SDK requires.
    unsafe { op_has_many_events(vi, 0) }
}

/// The `eventq_has_many_events` op, behind `ef_eventq_has_many_events()`.
///
/// # Safety
///
/// As `op_has_event`.
pub(super) unsafe extern "C" fn op_has_many_events(vi: *const ef_vi, n: c_int) -> c_int {
    let n = n.max(0) as usize;
    // SAFETY: `vi` is a VI of this backend owning an event queue.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return 0;
    };
    if lock(&q).events.len() > n {
        return 1;
    }
    // SAFETY: as above.
    unsafe { pump_all(vi, n + 1) };
    c_int::from(lock(&q).events.len() > n)
}

/// The `future_eventq_poll` op, behind `efct_vi_rx_future_poll()`: no EFCT receive: no events.
pub(super) extern "C" fn op_future_poll(_vi: *mut ef_vi, _evs: *mut ef_event, _n: c_int) -> c_int {
    0
}

/// Arms the VI's event queue and adds its descriptors to the epoll set `dh`, so that
/// `poll()`/`epoll_wait()` on `dh` reports it readable while events are waiting.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_prime(
    vi: *mut ef_vi,
    dh: ef_driver_handle,
    _current_ptr: c_uint,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    if unsafe { ctx(vi) }.is_none() {
        return -libc::EINVAL;
    }
    // SAFETY: as above.
    unsafe { arm(vi, dh) }
}

/// Blocks until the event queue of `vi` has an event, or the timeout (NULL or zero: none)
/// passes (`-ETIMEDOUT`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue; `timeout` null or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_eventq_wait(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    _current_ptr: c_uint,
    timeout: *const timeval,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    let deadline = if timeout.is_null() {
        None
    } else {
        // SAFETY: readable per the caller.
        let t = unsafe { *timeout };
        let d = Duration::from_secs(t.tv_sec.max(0) as u64)
            + Duration::from_micros(t.tv_usec.max(0) as u64);
        (!d.is_zero()).then(|| Instant::now() + d)
    };
    loop {
        // SAFETY: as above.
        unsafe { pump_all(vi, 1) };
        let wake_fd = {
            let q = lock(&q);
            if !q.events.is_empty() {
                return 0;
            }
            q.wake_fd.as_raw_fd()
        };
        // SAFETY: as above.
        let socks = unsafe { receiving_fds(vi) };
        let mut fds: Vec<libc::pollfd> = core::iter::once(wake_fd)
            .chain(socks)
            .map(|fd| libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            })
            .collect();
        // Wake up at least every 100 ms to retry transmits the socket had no room for.
        let mut ms = 100;
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return -libc::ETIMEDOUT;
            }
            ms = ms.min(left.as_millis().max(1) as c_int);
        }
        // SAFETY: `fds` is a valid array.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }
}
