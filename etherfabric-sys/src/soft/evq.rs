//! Event queues: the events a VI's queues raise, waiting to be polled, and the eventfd that
//! wakes a driver handle while there are some.
//!
//! On an adapter the event ring lives in host memory and the application reads it; here the
//! events wait in a queue of the backend until `ef_eventq_poll()` copies them out (see
//! `poll.rs`), and the ring in the `ef_vi` is only there for the header macros.

use core::ffi::{c_int, c_uint};
use std::collections::VecDeque;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use super::evq_timer::EvqTimer;
use super::{Registry, errno, lock};
use crate::bindings::*;

/// An event queue: the events not yet polled, and the eventfd that makes the driver handle
/// readable while there are some (after `ef_vi_prime()`).
pub(crate) struct EventQueue {
    pub(super) events: VecDeque<ef_event>,
    pub(super) wake_fd: OwnedFd,
    pub(super) signalled: bool,
    pub(super) armed: bool,
    /// The queue's timer, for VIs made with `EF_VI_ENABLE_EV_TIMER`.
    pub(super) timer: Option<EvqTimer>,
}

impl core::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventQueue")
            .field("events", &self.events.len())
            .field("wake_fd", &self.wake_fd)
            .field("signalled", &self.signalled)
            .field("armed", &self.armed)
            .field("timer", &self.timer)
            .finish()
    }
}

impl EventQueue {
    /// An empty queue with its eventfd, and a timer when `with_timer`.
    pub(super) fn new(with_timer: bool) -> Result<EventQueue, c_int> {
        let timer = if with_timer {
            Some(EvqTimer::new()?)
        } else {
            None
        };
        // SAFETY: plain eventfd creation.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(-errno());
        }
        Ok(EventQueue {
            events: VecDeque::new(),
            // SAFETY: `fd` is a new descriptor nothing else owns.
            wake_fd: unsafe { OwnedFd::from_raw_fd(fd) },
            signalled: false,
            armed: false,
            timer,
        })
    }

    /// Queues an event, waking the driver handle if the queue is armed.
    pub(super) fn push(&mut self, ev: ef_event) {
        self.append(ev);
        if self.armed && !self.signalled {
            self.signal();
        }
    }

    /// Queues a software event (`EF_EVENT_TYPE_SW`) and wakes the driver handle.
    fn inject(&mut self, data: c_uint) {
        let mut ev = ef_event::default();
        // SAFETY: `sw` is a plain-integer member of the event union.
        unsafe {
            ev.sw.set_type(EF_EVENT_TYPE_SW);
            ev.sw.data = data;
        }
        self.append(ev);
        if !self.signalled {
            self.signal();
        }
    }

    /// Adds an event to the queue, telling the queue's timer (if any) that one came.
    fn append(&mut self, ev: ef_event) {
        self.events.push_back(ev);
        if let Some(t) = &mut self.timer {
            t.event_arrived();
        }
    }

    pub(super) fn signal(&mut self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes to our eventfd.
        unsafe { libc::write(self.wake_fd.as_raw_fd(), (&one as *const u64).cast(), 8) };
        self.signalled = true;
    }

    pub(super) fn unsignal_if_empty(&mut self) {
        if self.signalled && self.events.is_empty() {
            let mut v: u64 = 0;
            // SAFETY: reading 8 bytes from our non-blocking eventfd.
            unsafe { libc::read(self.wake_fd.as_raw_fd(), (&mut v as *mut u64).cast(), 8) };
            self.signalled = false;
        }
    }
}

/// The event queue of each VI not yet freed, by the VI's resource id, for `ef_eventq_put()`.
static QUEUES: Registry<u32, Arc<Mutex<EventQueue>>> = Registry::new();

/// Keeps the event queue of VI `id` reachable by `ef_eventq_put()` until dropped.
#[derive(Debug)]
pub(crate) struct Listing {
    id: u32,
}

impl Listing {
    /// Lists `q` as the event queue of VI `id`.
    pub(super) fn new(id: u32, q: &Arc<Mutex<EventQueue>>) -> Listing {
        QUEUES.lock().insert(id, q.clone());
        Listing { id }
    }
}

impl Drop for Listing {
    fn drop(&mut self) {
        QUEUES.lock().remove(&self.id);
    }
}

/// True for the events of a receive queue.
pub(super) fn is_rx_event(ev: &ef_event) -> bool {
    // SAFETY: reading the type of an initialised event.
    let t = unsafe { ev.generic.type_() };
    matches!(
        t,
        EF_EVENT_TYPE_RX
            | EF_EVENT_TYPE_RX_DISCARD
            | EF_EVENT_TYPE_RX_MULTI
            | EF_EVENT_TYPE_RX_MULTI_DISCARD
            | EF_EVENT_TYPE_RX_NO_DESC_TRUNC
    )
}

/// The number of events the event queue holds.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_eventq_capacity(vi: *mut ef_vi) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let (mask, stride) = unsafe { ((*vi).evq_mask, (*(*vi).ep_state).evq.evq_clear_stride) };
    if mask == 0 {
        return 0;
    }
    (mask / 8) as c_int - 1 + stride
}

/// Sends a software event (`EF_EVENT_TYPE_SW`, data = the low 16 bits) to the event queue of
/// the VI with resource id `resource_id`. Any thread may call it.
#[unsafe(no_mangle)]
pub extern "C" fn ef_eventq_put(
    resource_id: c_uint,
    _evq_dh: ef_driver_handle,
    ev_bits: c_uint,
) -> c_int {
    if ev_bits & !(EF_EVENT_SW_DATA_MASK as c_uint) != 0 {
        return -libc::EINVAL;
    }
    let Some(q) = QUEUES.lock().get(&resource_id).cloned() else {
        return -libc::ENOENT;
    };
    lock(&q).inject(ev_bits);
    0
}
