//! The event-queue check macros of `etherfabric/ef_vi.h` and the inline `ef_eventq_current()`.
//!
//! `ef_eventq_has_event()` and `ef_eventq_has_many_events()` call the NIC-specific
//! operation in the VI's `ops` table (`ops.eventq_has_event`, `ops.eventq_has_many_events`);
//! the four deprecated `*_check_event*` macros are aliases of them. The C macros call the
//! function pointer without checking it; the Rust equivalents panic if it is NULL instead of
//! jumping to address zero. Every VI initialised by the library has them set.

use core::ffi::{c_int, c_uint};

use crate::bindings::*;

/// Returns non-zero if `ef_eventq_poll()` on `vi` would return at least one event (C macro
/// `ef_eventq_has_event(vi)`, which calls `vi->ops.eventq_has_event(vi)`).
///
/// # Safety
///
/// `vi` must point to a valid, initialised `ef_vi` (its `ops` table and the event queue state
/// the operation reads must be valid).
///
/// # Panics
///
/// If `vi->ops.eventq_has_event` is NULL (the C macro would call address zero).
#[inline]
pub unsafe fn ef_eventq_has_event(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees that `vi` points to a valid ef_vi.
    let op = unsafe { (*vi).ops.eventq_has_event };
    let op = op.expect("ef_vi ops.eventq_has_event is NULL");
    // SAFETY: the operation installed by the library for this VI, called as the C macro
    // calls it, with the VI the caller vouched for.
    unsafe { op(vi) }
}

/// Returns non-zero if the event queue of `vi` holds more than `n_events` events, by looking
/// at the slot `n_events` ahead of the current one (C macro `ef_eventq_has_many_events(vi,
/// n_events)`, which calls `vi->ops.eventq_has_many_events(vi, n_events)`).
///
/// Asking with `n_events` equal to the size of the event queue is undefined behaviour in C,
/// and the same applies here.
///
/// # Safety
///
/// `vi` must point to a valid, initialised `ef_vi`; `n_events` must be non-negative and less
/// than the event queue size.
///
/// # Panics
///
/// If `vi->ops.eventq_has_many_events` is NULL (the C macro would call address zero).
#[inline]
pub unsafe fn ef_eventq_has_many_events(vi: *const ef_vi, n_events: c_int) -> c_int {
    // SAFETY: the caller guarantees that `vi` points to a valid ef_vi.
    let op = unsafe { (*vi).ops.eventq_has_many_events };
    let op = op.expect("ef_vi ops.eventq_has_many_events is NULL");
    // SAFETY: the operation installed by the library for this VI, called as the C macro
    // calls it, with arguments the caller vouched for.
    unsafe { op(vi, n_events) }
}

/// Deprecated alias of [`ef_eventq_has_many_events`]`(vi, look_ahead)`: non-zero if there is
/// an event `look_ahead` slots after the current one (C macro
/// `ef_eventq_check_event(vi, look_ahead)`).
///
/// # Safety
///
/// As for [`ef_eventq_has_many_events`].
///
/// # Panics
///
/// If `vi->ops.eventq_has_many_events` is NULL.
#[inline]
pub unsafe fn ef_eventq_check_event(vi: *const ef_vi, look_ahead: c_int) -> c_int {
    // SAFETY: forwarded from the caller's guarantees.
    unsafe { ef_eventq_has_many_events(vi, look_ahead) }
}

/// Deprecated alias of [`ef_eventq_has_many_events`]`(vi, look_ahead)` (C macro
/// `ef_eventq_check_event_phase_bit(vi, look_ahead)`).
///
/// # Safety
///
/// As for [`ef_eventq_has_many_events`].
///
/// # Panics
///
/// If `vi->ops.eventq_has_many_events` is NULL.
#[inline]
pub unsafe fn ef_eventq_check_event_phase_bit(vi: *const ef_vi, look_ahead: c_int) -> c_int {
    // SAFETY: forwarded from the caller's guarantees.
    unsafe { ef_eventq_has_many_events(vi, look_ahead) }
}

/// Deprecated alias of [`ef_eventq_has_many_events`]`(vi, look_ahead)`, once specific to
/// AF_XDP VIs (C macro `efxdp_ef_eventq_check_event(vi, look_ahead)`).
///
/// # Safety
///
/// As for [`ef_eventq_has_many_events`].
///
/// # Panics
///
/// If `vi->ops.eventq_has_many_events` is NULL.
#[inline]
pub unsafe fn efxdp_ef_eventq_check_event(vi: *const ef_vi, look_ahead: c_int) -> c_int {
    // SAFETY: forwarded from the caller's guarantees.
    unsafe { ef_eventq_has_many_events(vi, look_ahead) }
}

/// Deprecated alias of [`ef_eventq_has_event`]`(vi)`, once specific to X3 (efct) VIs (C macro
/// `efct_ef_eventq_check_event(vi)`).
///
/// # Safety
///
/// As for [`ef_eventq_has_event`].
///
/// # Panics
///
/// If `vi->ops.eventq_has_event` is NULL.
#[inline]
pub unsafe fn efct_ef_eventq_check_event(vi: *const ef_vi) -> c_int {
    // SAFETY: forwarded from the caller's guarantees.
    unsafe { ef_eventq_has_event(vi) }
}

/// The current read offset into the event queue of `evq`, in bytes (C inline
/// `ef_eventq_current()`: `evq->ep_state->evq.evq_ptr`). Pass it to `ef_eventq_wait()`.
///
/// # Safety
///
/// `evq` must point to a valid `ef_vi` whose `ep_state` points to a valid `ef_vi_state`.
#[inline]
#[must_use]
pub unsafe fn ef_eventq_current(evq: *const ef_vi) -> c_uint {
    // SAFETY: the caller guarantees both pointers are valid for reads.
    unsafe { (*(*evq).ep_state).evq.evq_ptr }
}
