//! Equivalents of the `etherfabric/ef_vi.h` and `etherfabric/timer.h` macros and inline functions
//! that read the state of a VI or dispatch through its `ops` table.
//!
//! Three kinds of item live here:
//!
//! * **Accessors and ring arithmetic** (`ef_vi_receive_space`, `ef_vi_transmit_fill_level`, ...).
//!   They do the same `uint32_t` arithmetic as C (free-running `added`/`removed` counters that
//!   wrap at 2³², differences taken modulo 2³²) and convert the result to `int` the way C does on
//!   every supported target (two's complement truncation), so a corrupt or over-full ring gives
//!   the same (possibly negative) number in Rust as in C.
//! * **Operation dispatch** (`ef_vi_transmit`, `ef_eventq_poll`, ...). Each C macro expands to a
//!   call through a function pointer of `vi->ops`; the Rust function calls the same slot with the
//!   same arguments in the same order. C calling a NULL slot is undefined behaviour; here it
//!   panics with the slot name instead (one predictable branch on the hot path).
//! * **Helpers** built from the above: [`ef_vi_transmit_ctpio`], [`ef_vi_get_vi_from_q_id`],
//!   [`ef_vi_reinit_txq_post_error`] and the loop macro
//!   `ef_vi_for_each_tx_error_failed_transmit`, which becomes a function taking a closure.
//!
//! Every function takes raw pointers exactly like its C counterpart (a `&T`/`&mut T` coerces to
//! them), and every function that dereferences one is `unsafe`.

use core::ffi::{c_int, c_uint, c_void};
use core::ops::ControlFlow;

use crate::bindings::{
    __ef_vi_reinit_txq_post_error, EF_REQUEST_ID_MASK, ef_addr, ef_event, ef_iovec, ef_precisetime,
    ef_request_id, ef_vi, ef_vi_transmit_alt_overhead, ef_vi_tx_warm_state, iovec,
};

/// Called when an `ops` slot that a macro dispatches through is NULL. C would jump to address 0.
#[cold]
#[inline(never)]
#[track_caller]
fn null_op(slot: &str) -> ! {
    panic!("ef_vi: the ops.{slot} function pointer is NULL (is the ef_vi initialised?)")
}

/// Yields the function pointer in `(*$vi).ops.$slot`, or panics if it is NULL.
/// Must be used inside an `unsafe` block: it dereferences `$vi`.
macro_rules! op {
    ($vi:expr, $slot:ident) => {
        match (*$vi).ops.$slot {
            Some(f) => f,
            None => null_op(stringify!($slot)),
        }
    };
}

// ---------------------------------------------------------------------------------------------
// VI identity and RX buffer geometry
// ---------------------------------------------------------------------------------------------

/// Returns the driver resource ID of the VI (`vi->vi_resource_id`).
///
/// Mirrors the static inline function `ef_vi_resource_id()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_resource_id(vi: *const ef_vi) -> c_uint {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).vi_resource_id }
}

/// Returns the flags the VI was allocated with (`vi->vi_flags`, a 64-bit `enum ef_vi_flags`).
///
/// Mirrors the static inline function `ef_vi_flags()` of `etherfabric/ef_vi.h`. The return type
/// is bindgen's alias for the enum (`ef_vi_flags`, an integer type), which lives in the type
/// namespace and so coexists with this function.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_flags(vi: *const ef_vi) -> crate::bindings::ef_vi_flags {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).vi_flags }
}

/// Returns the instance number of the VI on its NIC (`vi->vi_i`).
///
/// Mirrors the static inline function `ef_vi_instance()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_instance(vi: *const ef_vi) -> c_uint {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).vi_i }
}

/// Returns the length of the meta-data prefix the NIC writes before a received frame
/// (`vi->rx_prefix_len`, converted to `int`).
///
/// Mirrors the static inline function `ef_vi_receive_prefix_len()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_receive_prefix_len(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).rx_prefix_len as c_int }
}

/// Returns the size of the receive buffers the VI expects (`vi->rx_buffer_len`, converted to
/// `int`), prefix included.
///
/// Mirrors the static inline function `ef_vi_receive_buffer_len()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_receive_buffer_len(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).rx_buffer_len as c_int }
}

/// Sets the size of the receive buffers used by later `ef_vi_receive_init` calls
/// (stores `buf_len` in `vi->rx_buffer_len`).
///
/// Mirrors the static inline function `ef_vi_receive_set_buffer_len()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a writable `ef_vi` that nothing else accesses during the call.
#[inline]
pub unsafe fn ef_vi_receive_set_buffer_len(vi: *mut ef_vi, buf_len: c_uint) {
    // SAFETY: the caller guarantees `vi` points to a writable ef_vi with no concurrent access.
    unsafe { (*vi).rx_buffer_len = buf_len }
}

// ---------------------------------------------------------------------------------------------
// Ring levels
// ---------------------------------------------------------------------------------------------

/// Returns the number of free slots in the RX descriptor ring:
/// `vi_rxq.mask - (rxq.added - rxq.removed)`, computed modulo 2³² and converted to `int`.
///
/// Mirrors the static inline function `ef_vi_receive_space()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` points to a readable `ef_vi_state`.
#[inline]
pub unsafe fn ef_vi_receive_space(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` and `vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).rxq;
        (*vi)
            .vi_rxq
            .mask
            .wrapping_sub(qs.added.wrapping_sub(qs.removed)) as c_int
    }
}

/// Returns the number of RX descriptors posted and not yet completed:
/// `rxq.added - rxq.removed`, computed modulo 2³² and converted to `int`.
///
/// Mirrors the static inline function `ef_vi_receive_fill_level()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` points to a readable `ef_vi_state`.
#[inline]
pub unsafe fn ef_vi_receive_fill_level(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` and `vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).rxq;
        qs.added.wrapping_sub(qs.removed) as c_int
    }
}

/// Returns the capacity of the RX descriptor ring, which is its index mask
/// (`vi->vi_rxq.mask` converted to `int`).
///
/// Mirrors the static inline function `ef_vi_receive_capacity()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_receive_capacity(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).vi_rxq.mask as c_int }
}

/// Returns the number of free slots in the TX descriptor ring:
/// `vi_txq.mask - (txq.added - txq.removed)`, computed modulo 2³² and converted to `int`.
///
/// Mirrors the static inline function `ef_vi_transmit_space()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` points to a readable `ef_vi_state`.
#[inline]
pub unsafe fn ef_vi_transmit_space(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` and `vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).txq;
        (*vi)
            .vi_txq
            .mask
            .wrapping_sub(qs.added.wrapping_sub(qs.removed)) as c_int
    }
}

/// Returns the number of TX descriptors posted and not yet completed:
/// `txq.added - txq.removed`, computed modulo 2³² and converted to `int`.
///
/// Mirrors the static inline function `ef_vi_transmit_fill_level()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` points to a readable `ef_vi_state`.
#[inline]
pub unsafe fn ef_vi_transmit_fill_level(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` and `vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).txq;
        qs.added.wrapping_sub(qs.removed) as c_int
    }
}

/// Returns the free space, in bytes, of the TX cut-through FIFO:
/// `vi_txq.ct_fifo_bytes - (txq.ct_added - txq.ct_removed)` (modulo 2³², converted to `int`, so
/// negative when the FIFO is over-full), or 0 when the VI's event queue has no unused slots left
/// (the lower bound on unused slots kept in `vi->evq_vi->ep_state->evq` is not positive), so that
/// a CTPIO send cannot overflow the event queue.
///
/// Mirrors the static inline function `ef_vi_transmit_space_bytes()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` is readable, and whose `evq_vi` points
/// to a readable `ef_vi` (the VI itself when it owns its event queue) with a readable `ep_state`.
#[inline]
pub unsafe fn ef_vi_transmit_space_bytes(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees that `vi`, `vi->ep_state`, `vi->evq_vi` and
    // `vi->evq_vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).txq;
        // `min_unused_evq_slots`: a lower bound on the unused slots of the event queue.
        if (*(*(*vi).evq_vi).ep_state).evq.min_unused_evq_slots > 0 {
            (*vi)
                .vi_txq
                .ct_fifo_bytes
                .wrapping_sub(qs.ct_added.wrapping_sub(qs.ct_removed)) as c_int
        } else {
            0
        }
    }
}

/// Returns the number of bytes in the TX cut-through FIFO:
/// `txq.ct_added - txq.ct_removed`, computed modulo 2³² and converted to `int`.
///
/// Mirrors the static inline function `ef_vi_transmit_fill_level_bytes()` of
/// `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `ep_state` points to a readable `ef_vi_state`.
#[inline]
pub unsafe fn ef_vi_transmit_fill_level_bytes(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` and `vi->ep_state` are readable.
    unsafe {
        let qs = &(*(*vi).ep_state).txq;
        qs.ct_added.wrapping_sub(qs.ct_removed) as c_int
    }
}

/// Returns the capacity of the TX descriptor ring, which is its index mask
/// (`vi->vi_txq.mask` converted to `int`).
///
/// Mirrors the static inline function `ef_vi_transmit_capacity()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi`.
#[inline]
pub unsafe fn ef_vi_transmit_capacity(vi: *const ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` points to a readable ef_vi.
    unsafe { (*vi).vi_txq.mask as c_int }
}

/// Returns how many bytes of TX-alternative buffering a packet of `pkt_len` bytes uses:
/// `((pkt_len + pre_round) & mask) + post_round`, all in `uint32_t` arithmetic (wrapping).
///
/// Mirrors the static inline function `ef_vi_transmit_alt_usage()` of `etherfabric/ef_vi.h`.
/// Get `params` from `ef_vi_transmit_alt_query_overhead()`.
///
/// # Safety
///
/// `params` must point to a readable `struct ef_vi_transmit_alt_overhead`.
#[inline]
pub unsafe fn ef_vi_transmit_alt_usage(
    params: *const ef_vi_transmit_alt_overhead,
    pkt_len: u32,
) -> u32 {
    // SAFETY: the caller guarantees `params` is readable.
    let p = unsafe { &*params };
    (pkt_len.wrapping_add(p.pre_round) & p.mask).wrapping_add(p.post_round)
}

// ---------------------------------------------------------------------------------------------
// Receive operations
// ---------------------------------------------------------------------------------------------

/// Writes one RX descriptor for the buffer at DMA address `addr`, tagged `dma_id`; returns 0 or
/// a negative errno. Calls `vi->ops.receive_init(vi, addr, dma_id)`.
///
/// Mirrors the C macro `ef_vi_receive_init` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` (its `ops` filled in, as by
/// `ef_vi_alloc_from_pd`) used by no other thread, and the buffer at `addr` must stay
/// registered and unused until its RX event comes back.
#[inline]
pub unsafe fn ef_vi_receive_init(vi: *mut ef_vi, addr: ef_addr, dma_id: ef_request_id) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, receive_init)(vi, addr, dma_id) }
}

/// Hands the RX descriptors written since the last push to the NIC.
/// Calls `vi->ops.receive_push(vi)`.
///
/// Mirrors the C macro `ef_vi_receive_push` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_receive_push(vi: *mut ef_vi) {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, receive_push)(vi) }
}

/// Reads the hardware RX timestamp (with sub-nanosecond part and sync flags) of the packet whose
/// first buffer is `pkt` into `*ts_out`; returns 0 or a negative errno.
/// Calls `vi->ops.receive_get_timestamp(vi, pkt, ts_out)`.
///
/// Mirrors the C macro `ef_vi_receive_get_precise_timestamp` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `pkt` must be the first
/// buffer of a packet returned by the last poll; `ts_out` must be writable.
#[inline]
pub unsafe fn ef_vi_receive_get_precise_timestamp(
    vi: *mut ef_vi,
    pkt: *const c_void,
    ts_out: *mut ef_precisetime,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and the pointers are valid.
    unsafe { op!(vi, receive_get_timestamp)(vi, pkt, ts_out) }
}

/// Chooses which receive errors (`enum ef_vi_rx_discard_err_flags` bits) turn a packet into a
/// discard event; returns 0 or a negative errno.
/// Calls `vi->ops.receive_set_discards(vi, discard_err_flags)`.
///
/// Mirrors the C macro `ef_vi_receive_set_discards` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_receive_set_discards(vi: *mut ef_vi, discard_err_flags: c_uint) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, receive_set_discards)(vi, discard_err_flags) }
}

/// Returns the set of receive errors that currently raise discard events.
/// Calls `vi->ops.receive_get_discards(vi)`.
///
/// Mirrors the C macro `ef_vi_receive_get_discards` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_receive_get_discards(vi: *mut ef_vi) -> u64 {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, receive_get_discards)(vi) }
}

/// Returns the ID of the filter that matched a received packet, or a negative errno
/// (`-ENODATA` when no filter lookup kept it). Calls
/// `vi->ops.receive_get_filter_id(vi, rx_event, rx_packet)`.
///
/// Mirrors the C macro `ef_vi_receive_get_filter_id` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `rx_event` must point to
/// the RX event of the packet and `rx_packet` to its buffer, both from the last poll.
#[inline]
pub unsafe fn ef_vi_receive_get_filter_id(
    vi: *mut ef_vi,
    rx_event: *const ef_event,
    rx_packet: *const c_void,
) -> i32 {
    // SAFETY: the caller guarantees `vi` is an initialised VI and the pointers are valid.
    unsafe { op!(vi, receive_get_filter_id)(vi, rx_event, rx_packet) }
}

// ---------------------------------------------------------------------------------------------
// Transmit operations
// ---------------------------------------------------------------------------------------------

/// Writes TX descriptors for the frame made of the `iov_len` buffers at `iov`, tagged `dma_id`,
/// without pushing them; returns 0 or a negative errno (`-EAGAIN` when the ring is full).
/// Calls `vi->ops.transmitv_init(vi, iov, iov_len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmitv_init` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `iov` must point to
/// `iov_len` readable `ef_iovec`s whose buffers stay registered and unchanged until the
/// transmit completes.
#[inline]
pub unsafe fn ef_vi_transmitv_init(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    iov_len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `iov` is valid.
    unsafe { op!(vi, transmitv_init)(vi, iov, iov_len, dma_id) }
}

/// Hands the TX descriptors written since the last push to the NIC.
/// Calls `vi->ops.transmit_push(vi)`.
///
/// Mirrors the C macro `ef_vi_transmit_push` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_push(vi: *mut ef_vi) {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_push)(vi) }
}

/// Sends the `len`-byte frame at DMA address `base`, tagged `dma_id` (descriptor write and
/// push); returns 0 or a negative errno (`-EAGAIN` when the ring is full).
/// Calls `vi->ops.transmit(vi, base, len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmit` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; the buffer must stay
/// registered and unchanged until the transmit completes.
#[inline]
pub unsafe fn ef_vi_transmit(
    vi: *mut ef_vi,
    base: ef_addr,
    len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit)(vi, base, len, dma_id) }
}

/// Sends the frame made of the `iov_len` buffers at `iov`, tagged `dma_id` (descriptor writes
/// and push); returns 0 or a negative errno (`-EAGAIN` when the ring is full).
/// Calls `vi->ops.transmitv(vi, iov, iov_len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmitv` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// As for [`ef_vi_transmitv_init`].
#[inline]
pub unsafe fn ef_vi_transmitv(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    iov_len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `iov` is valid.
    unsafe { op!(vi, transmitv)(vi, iov, iov_len, dma_id) }
}

/// Sends a `len`-byte frame already copied into the VI's linked PIO region at `offset`, tagged
/// `dma_id`; returns 0 or a negative errno. Calls `vi->ops.transmit_pio(vi, offset, len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_pio` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi`, used by no other thread, with a linked PIO region;
/// `offset` must be 64-byte aligned and `len` at least 16, and that part of the region must not
/// be reused before the transmit completes.
#[inline]
pub unsafe fn ef_vi_transmit_pio(
    vi: *mut ef_vi,
    offset: c_int,
    len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI with a linked PIO region.
    unsafe { op!(vi, transmit_pio)(vi, offset, len, dma_id) }
}

/// Copies the `len`-byte frame at `src_buf` into the VI's PIO region at `pio_offset` and sends
/// it, tagged `dma_id`; returns 0 or a negative errno.
/// Calls `vi->ops.transmit_copy_pio(vi, pio_offset, src_buf, len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_copy_pio` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// As for [`ef_vi_transmit_pio`], and `src_buf` must point to `len` readable bytes (it may be
/// reused as soon as the call returns).
#[inline]
pub unsafe fn ef_vi_transmit_copy_pio(
    vi: *mut ef_vi,
    pio_offset: c_int,
    src_buf: *const c_void,
    len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `src_buf` is readable.
    unsafe { op!(vi, transmit_copy_pio)(vi, pio_offset, src_buf, len, dma_id) }
}

/// Runs the PIO transmit path without sending anything, to keep it in cache (deprecated upstream
/// in favour of [`ef_vi_start_transmit_warm`]). Calls `vi->ops.transmit_pio_warm(vi)`.
///
/// Mirrors the C macro `ef_vi_transmit_pio_warm` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_pio_warm(vi: *mut ef_vi) {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_pio_warm)(vi) }
}

/// Copies the `len`-byte frame at `src_buf` into the PIO region at `pio_offset` and runs the
/// copy-PIO path without sending (deprecated upstream in favour of
/// [`ef_vi_start_transmit_warm`]). Calls
/// `vi->ops.transmit_copy_pio_warm(vi, pio_offset, src_buf, len)`.
///
/// Mirrors the C macro `ef_vi_transmit_copy_pio_warm` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// As for [`ef_vi_transmit_copy_pio`].
#[inline]
pub unsafe fn ef_vi_transmit_copy_pio_warm(
    vi: *mut ef_vi,
    pio_offset: c_int,
    src_buf: *const c_void,
    len: c_int,
) {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `src_buf` is readable.
    unsafe { op!(vi, transmit_copy_pio_warm)(vi, pio_offset, src_buf, len) }
}

/// Puts the TXQ into warming mode: it looks full, sends go nowhere, and the previous state is
/// saved in `*saved_state` (which may be NULL on EFCT); CTPIO writes go to
/// `warm_ctpio_mmap_ptr` (NULL when not warming CTPIO).
/// Calls `vi->ops.start_transmit_warm(vi, saved_state, warm_ctpio_mmap_ptr)`.
///
/// Mirrors the C macro `ef_vi_start_transmit_warm` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `saved_state` must be
/// writable (or NULL where allowed) and `warm_ctpio_mmap_ptr` must be NULL or point to memory
/// large enough for the CTPIO writes being warmed.
#[inline]
pub unsafe fn ef_vi_start_transmit_warm(
    vi: *mut ef_vi,
    saved_state: *mut ef_vi_tx_warm_state,
    warm_ctpio_mmap_ptr: *mut core::ffi::c_char,
) {
    // SAFETY: the caller guarantees `vi` is an initialised VI and the pointers are valid.
    unsafe { op!(vi, start_transmit_warm)(vi, saved_state, warm_ctpio_mmap_ptr) }
}

/// Leaves warming mode, restoring the TXQ state saved by [`ef_vi_start_transmit_warm`].
/// Calls `vi->ops.stop_transmit_warm(vi, saved_state)`.
///
/// Mirrors the C macro `ef_vi_stop_transmit_warm` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `saved_state` must be the
/// state filled in by the matching start call (or NULL where that was NULL).
#[inline]
pub unsafe fn ef_vi_stop_transmit_warm(vi: *mut ef_vi, saved_state: *mut ef_vi_tx_warm_state) {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `saved_state` is valid.
    unsafe { op!(vi, stop_transmit_warm)(vi, saved_state) }
}

/// Makes TX alternative `alt_id` the destination of later sends; returns 0 or a negative errno.
/// Calls `vi->ops.transmit_alt_select(vi, alt_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_alt_select` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_alt_select(vi: *mut ef_vi, alt_id: c_uint) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_alt_select)(vi, alt_id) }
}

/// Makes the normal (non-alternative) path the destination of later sends; returns 0 or a
/// negative errno. Calls `vi->ops.transmit_alt_select_default(vi)`.
///
/// Mirrors the C macro `ef_vi_transmit_alt_select_normal` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_alt_select_normal(vi: *mut ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_alt_select_default)(vi) }
}

/// Moves TX alternative `alt_id` to the STOP state (packets sent to it are held); returns 0 or a
/// negative errno. Calls `vi->ops.transmit_alt_stop(vi, alt_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_alt_stop` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_alt_stop(vi: *mut ef_vi, alt_id: c_uint) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_alt_stop)(vi, alt_id) }
}

/// Moves TX alternative `alt_id` to the GO state (held packets go to the wire); returns 0 or a
/// negative errno. Calls `vi->ops.transmit_alt_go(vi, alt_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_alt_go` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_alt_go(vi: *mut ef_vi, alt_id: c_uint) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_alt_go)(vi, alt_id) }
}

/// Moves TX alternative `alt_id` to the DISCARD state (held packets are dropped); returns 0 or a
/// negative errno. Calls `vi->ops.transmit_alt_discard(vi, alt_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_alt_discard` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_vi_transmit_alt_discard(vi: *mut ef_vi, alt_id: c_uint) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_alt_discard)(vi, alt_id) }
}

/// Starts a cut-through PIO send of the `frame_len`-byte frame gathered from the `iov_len`
/// buffers at `iov`, letting the NIC start emitting after `ct_threshold` bytes. Must be followed
/// by a fallback post ([`ef_vi_transmit_ctpio_fallback`] or similar).
/// Calls `vi->ops.transmitv_ctpio(vi, frame_len, iov, iov_len, ct_threshold)`.
///
/// Mirrors the C macro `ef_vi_transmitv_ctpio` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `iov` must point to
/// `iov_len` `struct iovec`s describing readable buffers whose lengths add up to `frame_len`.
#[inline]
pub unsafe fn ef_vi_transmitv_ctpio(
    vi: *mut ef_vi,
    frame_len: usize,
    iov: *const iovec,
    iov_len: c_int,
    ct_threshold: c_uint,
) {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `iov` is valid.
    unsafe { op!(vi, transmitv_ctpio)(vi, frame_len, iov, iov_len, ct_threshold) }
}

/// As [`ef_vi_transmitv_ctpio`], and also copies the frame into `fallback`, ready for the
/// fallback post. Calls
/// `vi->ops.transmitv_ctpio_copy(vi, frame_len, iov, iov_len, ct_threshold, fallback)`.
///
/// Mirrors the C macro `ef_vi_transmitv_ctpio_copy` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// As for [`ef_vi_transmitv_ctpio`], and `fallback` must point to `frame_len` writable bytes
/// that do not overlap the source buffers.
#[inline]
pub unsafe fn ef_vi_transmitv_ctpio_copy(
    vi: *mut ef_vi,
    frame_len: usize,
    iov: *const iovec,
    iov_len: c_int,
    ct_threshold: c_uint,
    fallback: *mut c_void,
) {
    // SAFETY: the caller guarantees `vi` is an initialised VI and the pointers are valid.
    unsafe { op!(vi, transmitv_ctpio_copy)(vi, frame_len, iov, iov_len, ct_threshold, fallback) }
}

/// Starts a cut-through PIO send of the `frame_len`-byte frame at `frame_buf`: builds a
/// one-element `struct iovec` `{ frame_buf, frame_len }` and calls
/// `vi->ops.transmitv_ctpio(vi, frame_len, &iov, 1, ct_threshold)`.
///
/// Mirrors the static inline function `ef_vi_transmit_ctpio()` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; `frame_buf` must point to
/// `frame_len` readable bytes (reusable as soon as the call returns).
#[inline]
pub unsafe fn ef_vi_transmit_ctpio(
    vi: *mut ef_vi,
    frame_buf: *const c_void,
    frame_len: usize,
    ct_threshold: c_uint,
) {
    let iov = iovec {
        iov_base: frame_buf.cast_mut(),
        iov_len: frame_len,
    };
    // SAFETY: the caller guarantees `vi` and `frame_buf`; `iov` is a valid one-element array that
    // lives until the call returns.
    unsafe { ef_vi_transmitv_ctpio(vi, frame_len, &iov, 1, ct_threshold) }
}

/// Posts the DMA fallback frame (`len` bytes at `dma_addr`, tagged `dma_id`) for the preceding
/// CTPIO send, sent only if that send fails; returns 0 or a negative errno.
/// Calls `vi->ops.transmit_ctpio_fallback(vi, dma_addr, len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmit_ctpio_fallback` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread; the buffer must stay
/// registered and unchanged until the transmit completes.
#[inline]
pub unsafe fn ef_vi_transmit_ctpio_fallback(
    vi: *mut ef_vi,
    dma_addr: ef_addr,
    len: usize,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, transmit_ctpio_fallback)(vi, dma_addr, len, dma_id) }
}

/// Posts the fallback frame gathered from the `dma_iov_len` DMA buffers at `dma_iov`, tagged
/// `dma_id`, for the preceding CTPIO send; returns 0 or a negative errno.
/// Calls `vi->ops.transmitv_ctpio_fallback(vi, dma_iov, dma_iov_len, dma_id)`.
///
/// Mirrors the C macro `ef_vi_transmitv_ctpio_fallback` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// As for [`ef_vi_transmitv_init`].
#[inline]
pub unsafe fn ef_vi_transmitv_ctpio_fallback(
    vi: *mut ef_vi,
    dma_iov: *const ef_iovec,
    dma_iov_len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and `dma_iov` is valid.
    unsafe { op!(vi, transmitv_ctpio_fallback)(vi, dma_iov, dma_iov_len, dma_id) }
}

// ---------------------------------------------------------------------------------------------
// Event queue operations (ef_vi.h and timer.h)
// ---------------------------------------------------------------------------------------------

/// Polls the event queue, storing up to `evs_len` events at `evs`; returns how many it stored.
/// Calls `evq->ops.eventq_poll(evq, evs, evs_len)`.
///
/// Mirrors the C macro `ef_eventq_poll` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `evq` must point to an initialised `ef_vi` used by no other thread; `evs` must point to
/// `evs_len` writable `ef_event`s, and `evs_len` must be at least `EF_VI_EVENT_POLL_MIN_EVS`.
#[inline]
pub unsafe fn ef_eventq_poll(evq: *mut ef_vi, evs: *mut ef_event, evs_len: c_int) -> c_int {
    // SAFETY: the caller guarantees `evq` is an initialised VI and `evs` is valid.
    unsafe { op!(evq, eventq_poll)(evq, evs, evs_len) }
}

/// Polls for receive events only, storing up to `evs_len` events at `evs`; returns how many it
/// stored. Calls `evq->ops.receive_poll(evq, evs, evs_len)`.
///
/// Mirrors the C macro `ef_receive_poll` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `evq` must point to an initialised `ef_vi` used by no other thread; `evs` must point to
/// `evs_len` writable `ef_event`s.
#[inline]
pub unsafe fn ef_receive_poll(evq: *mut ef_vi, evs: *mut ef_event, evs_len: c_int) -> c_int {
    // SAFETY: the caller guarantees `evq` is an initialised VI and `evs` is valid.
    unsafe { op!(evq, receive_poll)(evq, evs, evs_len) }
}

/// Arms the VI's interrupt so that a thread may block on the driver handle until an event
/// arrives. Calls `vi->ops.eventq_prime(vi)`.
///
/// Mirrors the C macro `ef_eventq_prime` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_eventq_prime(vi: *mut ef_vi) {
    // SAFETY: the caller guarantees `vi` is an initialised VI they have exclusive use of.
    unsafe { op!(vi, eventq_prime)(vi) }
}

/// Loads the event queue timer with `v` µs; it starts counting when the next event arrives.
/// Calls `q->ops.eventq_timer_prime(q, v)`.
///
/// Mirrors the C macro `ef_eventq_timer_prime` of `etherfabric/timer.h`.
///
/// # Safety
///
/// `q` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_eventq_timer_prime(q: *mut ef_vi, v: c_uint) {
    // SAFETY: the caller guarantees `q` is an initialised VI they have exclusive use of.
    unsafe { op!(q, eventq_timer_prime)(q, v) }
}

/// Loads the event queue timer with `v` µs and starts it at once.
/// Calls `q->ops.eventq_timer_run(q, v)`.
///
/// Mirrors the C macro `ef_eventq_timer_run` of `etherfabric/timer.h`.
///
/// # Safety
///
/// `q` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_eventq_timer_run(q: *mut ef_vi, v: c_uint) {
    // SAFETY: the caller guarantees `q` is an initialised VI they have exclusive use of.
    unsafe { op!(q, eventq_timer_run)(q, v) }
}

/// Stops the event queue timer without raising a timeout event.
/// Calls `q->ops.eventq_timer_clear(q)`.
///
/// Mirrors the C macro `ef_eventq_timer_clear` of `etherfabric/timer.h`.
///
/// # Safety
///
/// `q` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_eventq_timer_clear(q: *mut ef_vi) {
    // SAFETY: the caller guarantees `q` is an initialised VI they have exclusive use of.
    unsafe { op!(q, eventq_timer_clear)(q) }
}

/// Loads the event queue timer with 0, so the next event also raises a timeout event.
/// Calls `q->ops.eventq_timer_zero(q)`.
///
/// Mirrors the C macro `ef_eventq_timer_zero` of `etherfabric/timer.h`.
///
/// # Safety
///
/// `q` must point to an initialised `ef_vi` used by no other thread.
#[inline]
pub unsafe fn ef_eventq_timer_zero(q: *mut ef_vi) {
    // SAFETY: the caller guarantees `q` is an initialised VI they have exclusive use of.
    unsafe { op!(q, eventq_timer_zero)(q) }
}

// ---------------------------------------------------------------------------------------------
// Shared event queues, TX error recovery, shrub
// ---------------------------------------------------------------------------------------------

/// Maps the `q_id` of a TX event seen on `vi`'s event queue to the VI that owns that TXQ:
/// `vi->vi_qs[q_id]` when `0 <= q_id < vi->vi_qs_n`, else NULL.
///
/// Mirrors the C macro `ef_vi_get_vi_from_q_id` (and the inline function
/// `__ef_vi_get_vi_from_q_id()` it expands to) of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to a readable `ef_vi` whose `vi_qs_n` does not exceed the length of
/// `vi_qs` (as the library maintains it).
#[inline]
pub unsafe fn ef_vi_get_vi_from_q_id(vi: *mut ef_vi, q_id: c_int) -> *mut ef_vi {
    // SAFETY: the caller guarantees `vi` is readable; the index is checked against vi_qs_n,
    // which the caller guarantees is within the array.
    unsafe {
        if q_id >= 0 && q_id < (*vi).vi_qs_n {
            *(*vi).vi_qs.as_ptr().add(q_id as usize)
        } else {
            core::ptr::null_mut()
        }
    }
}

/// Re-initialises the TXQ of `vi` after a TX error event so that it can send again; returns 0 or
/// a negative errno. Calls the library function `__ef_vi_reinit_txq_post_error(vi)`.
///
/// Mirrors the C macro `ef_vi_reinit_txq_post_error` of `etherfabric/ef_vi.h`. No sends may be
/// attempted on the TXQ between the TX error event and this call; walk the lost transmits first
/// with [`ef_vi_for_each_tx_error_failed_transmit`].
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` (the owner of the failed TXQ) used by no other
/// thread, and an ef_vi library providing `__ef_vi_reinit_txq_post_error` must be linked.
#[inline]
pub unsafe fn ef_vi_reinit_txq_post_error(vi: *mut ef_vi) -> c_int {
    // SAFETY: the caller guarantees `vi` is an initialised VI and the library is linked.
    unsafe { __ef_vi_reinit_txq_post_error(vi) }
}

/// What the body passed to [`ef_vi_for_each_tx_error_failed_transmit`] returns.
///
/// `()` goes on with the next lost transmit, like the end of the C loop body (or `continue`);
/// a [`ControlFlow`] goes on with `Continue(())` and leaves the loop with `Break(b)`, like C's
/// `break` (the lost transmit it was called for stays pending: `removed` is not advanced past it).
pub trait FailedTransmitStep {
    /// The value carried out of the loop by a break.
    type Break;
    /// Converts the body's result into "go on" or "stop with this value".
    fn into_control_flow(self) -> ControlFlow<Self::Break>;
}

impl FailedTransmitStep for () {
    type Break = core::convert::Infallible;
    #[inline]
    fn into_control_flow(self) -> ControlFlow<Self::Break> {
        ControlFlow::Continue(())
    }
}

impl<B> FailedTransmitStep for ControlFlow<B> {
    type Break = B;
    #[inline]
    fn into_control_flow(self) -> ControlFlow<B> {
        self
    }
}

/// Calls `body` with the DMA id of every transmit that was still waiting for its completion when
/// the TXQ of `vi` failed, consuming them; returns `Some(b)` if the body stopped the walk with
/// `ControlFlow::Break(b)`, else `None`.
///
/// This is the loop macro `ef_vi_for_each_tx_error_failed_transmit(vi, dma_id)` of
/// `etherfabric/ef_vi.h`, with its loop body as a closure. Step for step, as in C:
///
/// 1. stop when `ep_state->txq.removed < ep_state->txq.added` is false (a plain `uint32_t`
///    comparison, not a wrap-aware one);
/// 2. read `dma_id = vi_txq.ids[removed & vi_txq.mask]`;
/// 3. if it is not `EF_REQUEST_ID_MASK` (the marker of descriptors that carry no id), run `body`;
///    a break leaves the loop here, without the increment;
/// 4. `removed += 1` (wrapping) and go back to 1.
///
/// Every field is read again at each step, so a body that changes the ring (through `vi`) sees
/// the same effect as in C. Use it after an `EF_EVENT_TYPE_TX_ERROR` event and before
/// [`ef_vi_reinit_txq_post_error`]; a second walk finds nothing.
///
/// # Safety
///
/// `vi` must point to an `ef_vi` used by no other thread, whose `ep_state` is writable and whose
/// `vi_txq.ids` holds `vi_txq.mask + 1` readable entries. The body may change the ring only in
/// ways that keep this true.
#[inline]
pub unsafe fn ef_vi_for_each_tx_error_failed_transmit<S, F>(
    vi: *mut ef_vi,
    mut body: F,
) -> Option<S::Break>
where
    S: FailedTransmitStep,
    F: FnMut(ef_request_id) -> S,
{
    loop {
        // SAFETY: the caller guarantees `vi` and `vi->ep_state` are valid and that `ids` has an
        // entry for every index `& mask`.
        let dma_id = unsafe {
            let qs = &(*(*vi).ep_state).txq;
            if qs.removed >= qs.added {
                return None;
            }
            let slot = qs.removed & (*vi).vi_txq.mask;
            *(*vi).vi_txq.ids.add(slot as usize) as ef_request_id
        };
        // The macro compares an `int` with the `unsigned` constant: the comparison is unsigned.
        let flow = if dma_id as u32 != EF_REQUEST_ID_MASK {
            body(dma_id).into_control_flow()
        } else {
            ControlFlow::Continue(())
        };
        if let ControlFlow::Break(b) = flow {
            return Some(b);
        }
        // SAFETY: as above; the state is looked up again, as the C increment expression does.
        unsafe {
            let qs = &mut (*(*vi).ep_state).txq;
            qs.removed = qs.removed.wrapping_add(1);
        }
    }
}

/// Sets how many RX buffers this VI asks a shrub (shared RX buffer) server for when it
/// connects; returns 0 or a negative errno.
/// Calls `vi->efct_rxqs.ops->set_client_buf_count(vi, buffer_count)`.
///
/// Mirrors the C macro `ef_vi_set_shrub_client_buffer_count` of `etherfabric/ef_vi.h`.
///
/// # Safety
///
/// `vi` must point to an initialised `ef_vi` used by no other thread whose `efct_rxqs.ops`
/// points to a readable operations table (true for VIs on NICs with EFCT receive queues).
#[inline]
pub unsafe fn ef_vi_set_shrub_client_buffer_count(vi: *mut ef_vi, buffer_count: usize) -> c_int {
    // SAFETY: the caller guarantees `vi` is initialised and `vi->efct_rxqs.ops` is readable.
    unsafe {
        let ops = (*vi).efct_rxqs.ops;
        match (*ops).set_client_buf_count {
            Some(f) => f(vi, buffer_count),
            None => null_op("efct_rxqs.ops->set_client_buf_count"),
        }
    }
}
