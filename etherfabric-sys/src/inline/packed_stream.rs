//! The inline functions of `etherfabric/packedstream.h`: walking the packets of a
//! packed-stream buffer.
//!
//! Each packet in a packed-stream buffer starts with an [`ef_packed_stream_packet`] header;
//! `ps_next_offset` leads from one header to the next and `ps_pkt_start_offset` from a header
//! to its frame.

use core::ffi::{c_int, c_void};

use crate::bindings::*;

/// The header of the first packet in a packed-stream buffer: `start_of_buffer` advanced by
/// `psp_start_offset` bytes (C inline `ef_packed_stream_packet_first()`; take the offset from
/// `ef_packed_stream_params::psp_start_offset`).
///
/// This only computes an address (with wrapping arithmetic, so it is safe to call); reading
/// through the result needs a pointer into a live buffer.
#[inline]
#[must_use]
pub fn ef_packed_stream_packet_first(
    start_of_buffer: *mut c_void,
    psp_start_offset: c_int,
) -> *mut ef_packed_stream_packet {
    start_of_buffer
        .cast::<u8>()
        .wrapping_offset(psp_start_offset as isize)
        .cast::<ef_packed_stream_packet>()
}

/// The header of the packet after `ps_pkt`: `ps_pkt` advanced by its `ps_next_offset` bytes
/// (C inline `ef_packed_stream_packet_next()`).
///
/// # Safety
///
/// `ps_pkt` must point to a readable packet header (it need not be aligned). The result is
/// only computed, not read; whether a packet is there is up to the caller (see
/// `ef_vi_packed_stream_unbundle()`).
#[inline]
#[must_use]
pub unsafe fn ef_packed_stream_packet_next(
    ps_pkt: *mut ef_packed_stream_packet,
) -> *mut ef_packed_stream_packet {
    // SAFETY: the caller guarantees that the header is readable; read_unaligned allows any
    // alignment, as the C code's byte-pointer arithmetic does.
    let next = unsafe { core::ptr::addr_of!((*ps_pkt).ps_next_offset).read_unaligned() };
    ps_pkt
        .cast::<u8>()
        .wrapping_add(usize::from(next))
        .cast::<ef_packed_stream_packet>()
}

/// The frame of the packet whose header is `ps_pkt`: `ps_pkt` advanced by its
/// `ps_pkt_start_offset` bytes (C inline `ef_packed_stream_packet_payload()`).
/// `ps_cap_len` bytes of the frame are stored there.
///
/// # Safety
///
/// `ps_pkt` must point to a readable packet header (it need not be aligned).
#[inline]
#[must_use]
pub unsafe fn ef_packed_stream_packet_payload(ps_pkt: *mut ef_packed_stream_packet) -> *mut c_void {
    // SAFETY: the caller guarantees that the header is readable.
    let start = unsafe { core::ptr::addr_of!((*ps_pkt).ps_pkt_start_offset).read_unaligned() };
    ps_pkt
        .cast::<u8>()
        .wrapping_add(usize::from(start))
        .cast::<c_void>()
}
