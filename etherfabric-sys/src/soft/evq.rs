//! Event queues.

use core::ffi::{c_int, c_uint};
use std::collections::VecDeque;
use std::sync::Arc;

use super::registry;
use super::vi::ViShared;
use crate::bindings::*;

/// An event queue: the events not yet polled, and the eventfd that makes the driver handle
/// readable while there are some (after `ef_vi_prime()`).
pub(crate) struct EventQueue {
    pub(super) events: VecDeque<ef_event>,
    pub(super) wake_fd: c_int,
    pub(super) signalled: bool,
    pub(super) armed: bool,
}

impl core::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventQueue")
            .field("events", &self.events.len())
            .field("wake_fd", &self.wake_fd)
            .field("signalled", &self.signalled)
            .field("armed", &self.armed)
            .finish()
    }
}

impl EventQueue {
    pub(super) fn push(&mut self, ev: ef_event) {
        self.events.push_back(ev);
        if self.armed && !self.signalled {
            self.signal();
        }
    }

    pub(super) fn signal(&mut self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes to our eventfd.
        unsafe { libc::write(self.wake_fd, (&one as *const u64).cast(), 8) };
        self.signalled = true;
    }

    pub(super) fn unsignal_if_empty(&mut self) {
        if self.signalled && self.events.is_empty() {
            let mut v: u64 = 0;
            // SAFETY: reading 8 bytes from our non-blocking eventfd.
            unsafe { libc::read(self.wake_fd, (&mut v as *mut u64).cast(), 8) };
            self.signalled = false;
        }
    }
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        // SAFETY: the eventfd is owned by this queue.
        unsafe { libc::close(self.wake_fd) };
    }
}

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
    let Some(v): Option<Arc<ViShared>> = registry().vis.get(&resource_id).cloned() else {
        return -libc::ENOENT;
    };
    v.inject(ev_bits);
    0
}
