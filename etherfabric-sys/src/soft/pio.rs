//! PIO and CTPIO: sending a frame from a PIO region, or cut-through from the caller's iovecs.
//!
//! A PIO region is host memory here (2048 bytes, `EF_VI_CAP_PIO_BUFFER_SIZE`); a PIO send
//! copies the frame out of it and sends it at once. A CTPIO send with `EF_VI_TX_CTPIO` goes
//! out at once without checksum offload, and its fallback descriptor only completes; without
//! the flag the fallback sends the frame. Warming sends nothing.

use core::ffi::{c_int, c_uint, c_void};

use super::pd::pd_of;
use super::tx::{TxOutcome, one_iov};
use super::vi::{SoftVi, ctx, flag, with_slice};
use super::{CArray, Registry, new_id};
use crate::bindings::*;

/// Size of a PIO region.
pub(crate) const PIO_SIZE: usize = 2048;

/// A PIO region: its buffer (host memory standing in for the adapter's), and the VI it is
/// linked to.
#[derive(Debug)]
struct PioRegion {
    buf: CArray<u8>,
    linked: Option<u32>,
}

/// The PIO regions not yet freed, by the address of their buffer.
static PIOS: Registry<usize, PioRegion> = Registry::new();

/// Records that the region with buffer `buf` is linked to no VI any more.
pub(super) fn mark_unlinked(buf: *mut u8) {
    if let Some(r) = PIOS.lock().get_mut(&(buf as usize)) {
        r.linked = None;
    }
}

impl SoftVi {
    /// Sends `len` bytes of the linked PIO region at `offset`.
    fn transmit_pio(&mut self, offset: c_int, len: c_int, dma_id: ef_request_id) -> c_int {
        // SAFETY: self.vi is live; a linked PIO region stays valid until unlinked.
        let pio = unsafe { (*self.vi).linked_pio };
        if pio.is_null() || offset < 0 || len < 0 || offset % 64 != 0 {
            return -libc::EINVAL;
        }
        // SAFETY: as above.
        let (buf, plen) = unsafe { ((*pio).pio_buffer, (*pio).pio_len as usize) };
        let (o, l) = (offset as usize, len as usize);
        if o + l > plen {
            return -libc::EINVAL;
        }
        if self.txq_size == 0 {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < 1 {
            return -libc::EAGAIN;
        }
        let mut f = Vec::with_capacity(l);
        // SAFETY: [o, o + l) lies inside the PIO buffer.
        f.extend_from_slice(unsafe { core::slice::from_raw_parts(buf.add(o), l) });
        if self.send_frame(&mut f, true) == TxOutcome::Busy {
            return -libc::EAGAIN;
        }
        self.tx_add_sent(dma_id, false)
    }

    /// CTPIO: sends the frame now when the VI has `EF_VI_TX_CTPIO`; the fallback descriptor
    /// that follows then only completes. Without the flag nothing is sent here and the
    /// fallback sends the frame. The frame is also copied to `fallback` unless it is null.
    ///
    /// # Safety
    ///
    /// Each of `iov` must be readable for its length; `fallback` null or writable for the
    /// whole frame.
    unsafe fn transmitv_ctpio(&mut self, iov: &[libc::iovec], fallback: *mut c_void) {
        let mut f = Vec::new();
        for v in iov {
            if !v.iov_base.is_null() && v.iov_len > 0 {
                // SAFETY: the caller of the op guarantees readable iovecs.
                f.extend_from_slice(unsafe {
                    core::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len)
                });
            }
        }
        if !fallback.is_null() {
            // SAFETY: the caller guarantees `fallback` has room for the frame.
            unsafe { core::ptr::copy_nonoverlapping(f.as_ptr(), fallback.cast::<u8>(), f.len()) };
        }
        if self.warming || !flag(self.flags, ef_vi_flags_EF_VI_TX_CTPIO) || self.txq_size == 0 {
            self.ctpio_sent = false;
            return;
        }
        // Cut-through sends have no checksum offload.
        self.ctpio_sent = self.send_frame(&mut f, false) == TxOutcome::Done;
        // SAFETY: self.vi is live.
        unsafe { (*self.vi).last_ctpio_failed = u8::from(!self.ctpio_sent) };
    }

    fn ctpio_fallback(&mut self, iov: &[ef_iovec], dma_id: ef_request_id) -> c_int {
        if core::mem::take(&mut self.ctpio_sent) {
            self.tx_add_sent(dma_id, true)
        } else {
            self.transmitv(iov, dma_id)
        }
    }
}

/// The `transmit_pio` op, behind `ef_vi_transmit_pio()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_transmit_pio(
    vi: *mut ef_vi,
    offset: c_int,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmit_pio(offset, len, id))
}

/// Copies into the linked PIO region.
///
/// # Safety
///
/// `src` must have `len` readable bytes.
unsafe fn pio_copy(vi: *mut ef_vi, offset: c_int, src: *const c_void, len: c_int) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let pio = match unsafe { ctx(vi) } {
        // SAFETY: sv.vi is live; a linked PIO stays valid until unlinked.
        Some(sv) => unsafe { (*sv.vi).linked_pio },
        None => return -libc::EINVAL,
    };
    if pio.is_null() || offset < 0 || len < 0 || src.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: as above.
    let (buf, plen) = unsafe { ((*pio).pio_buffer, (*pio).pio_len as usize) };
    if offset as usize + len as usize > plen {
        return -libc::EINVAL;
    }
    // SAFETY: the destination range is inside the PIO buffer; `src` is readable.
    unsafe { core::ptr::copy(src.cast::<u8>(), buf.add(offset as usize), len as usize) };
    0
}

/// The `transmit_copy_pio` op, behind `ef_vi_transmit_copy_pio()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `src` readable for `len` bytes.
pub(super) unsafe extern "C" fn op_transmit_copy_pio(
    vi: *mut ef_vi,
    offset: c_int,
    src: *const c_void,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let rc = unsafe { pio_copy(vi, offset, src, len) };
    if rc < 0 {
        return rc;
    }
    // SAFETY: as above.
    unsafe { op_transmit_pio(vi, offset, len, id) }
}

/// The `transmit_pio_warm` op, behind `ef_vi_transmit_pio_warm()`: nothing to warm: PIO sends copy
/// from host memory.
pub(super) extern "C" fn op_transmit_pio_warm(_vi: *mut ef_vi) {}

/// The `transmit_copy_pio_warm` op, behind `ef_vi_transmit_copy_pio_warm()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `src` readable for `len` bytes.
pub(super) unsafe extern "C" fn op_transmit_copy_pio_warm(
    vi: *mut ef_vi,
    offset: c_int,
    src: *const c_void,
    len: c_int,
) {
    // SAFETY: forwarded guarantees.
    unsafe { pio_copy(vi, offset, src, len) };
}

/// Sends the frame of `n` iovecs at `iov` by CTPIO, copying it to `fallback` unless null.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend; `iov` readable for `n` entries, each
/// readable for its length; `fallback` null or writable for the whole frame.
unsafe fn ctpio(vi: *mut ef_vi, iov: *const iovec, n: c_int, fallback: *mut c_void) {
    let send = |sv: &mut SoftVi, iov: &[libc::iovec]| {
        // SAFETY: the iovecs are readable and `fallback` writable, per the caller.
        unsafe { sv.transmitv_ctpio(iov, fallback) };
        0
    };
    // SAFETY: guaranteed by the caller.
    unsafe { with_slice(vi, iov.cast::<libc::iovec>(), n, send) };
}

/// The `transmitv_ctpio` op, behind `ef_vi_transmitv_ctpio()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `iov` readable for `n` entries, each readable for its
/// length.
pub(super) unsafe extern "C" fn op_transmitv_ctpio(
    vi: *mut ef_vi,
    _frame_len: usize,
    iov: *const iovec,
    n: c_int,
    _thresh: c_uint,
) {
    // SAFETY: `vi` is a VI of this backend; `iov` has `n` readable entries.
    unsafe { ctpio(vi, iov, n, core::ptr::null_mut()) };
}

/// The `transmitv_ctpio_copy` op, behind `ef_vi_transmitv_ctpio_copy()`.
///
/// # Safety
///
/// As `op_transmitv_ctpio`, and `fallback` null or writable for the whole frame.
pub(super) unsafe extern "C" fn op_transmitv_ctpio_copy(
    vi: *mut ef_vi,
    _frame_len: usize,
    iov: *const iovec,
    n: c_int,
    _thresh: c_uint,
    fallback: *mut c_void,
) {
    // SAFETY: as in op_transmitv_ctpio; `fallback` has room for the frame.
    unsafe { ctpio(vi, iov, n, fallback) };
}

/// The `transmit_ctpio_fallback` op, behind `ef_vi_transmit_ctpio_fallback()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_transmit_ctpio_fallback(
    vi: *mut ef_vi,
    addr: ef_addr,
    len: usize,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| {
        sv.ctpio_fallback(&one_iov(addr, len), id)
    })
}

/// The `transmitv_ctpio_fallback` op, behind `ef_vi_transmitv_ctpio_fallback()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `iov` readable for `n` entries.
pub(super) unsafe extern "C" fn op_transmitv_ctpio_fallback(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `iov` has `n` entries; `vi` is a VI of this backend.
    unsafe { with_slice(vi, iov, n, |sv, iov| sv.ctpio_fallback(iov, id)) }
}

/// Allocates a PIO region (2048 bytes, host memory here).
///
/// # Safety
///
/// `pio` must be writable and `pd` an allocated domain.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_alloc(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _len_hint: c_uint,
    _pd_dh: ef_driver_handle,
) -> c_int {
    if pio.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `pd` is null or an `ef_pd`, per the caller.
    if let Err(e) = unsafe { pd_of(pd) } {
        return e;
    }
    let region = PioRegion {
        buf: CArray::new(vec![0u8; PIO_SIZE]),
        linked: None,
    };
    let buf = region.buf.as_ptr();
    let id = new_id();
    PIOS.lock().insert(buf as usize, region);
    // SAFETY: writable per the caller.
    unsafe {
        pio.write(ef_pio {
            pio_buffer: buf,
            pio_io: buf,
            pio_resource_id: id,
            pio_len: PIO_SIZE as c_uint,
        });
    }
    0
}

/// Frees a PIO region (`-EBUSY` while linked to a VI).
///
/// # Safety
///
/// `pio` must be a region allocated by [`ef_pio_alloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_free(pio: *mut ef_pio, _dh: ef_driver_handle) -> c_int {
    if pio.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    {
        let mut pios = PIOS.lock();
        match pios.get(&(buf as usize)) {
            None => return -libc::EINVAL,
            Some(r) if r.linked.is_some() => return -libc::EBUSY,
            Some(_) => {}
        }
        pios.remove(&(buf as usize));
    }
    // SAFETY: writable per the caller.
    unsafe {
        (*pio).pio_buffer = core::ptr::null_mut();
        (*pio).pio_io = core::ptr::null_mut();
    }
    0
}

/// Links a PIO region to a VI (one region per VI, one VI per region).
///
/// # Safety
///
/// `pio` must be an allocated region and `vi` a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_link_vi(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    vi: *mut ef_vi,
    _vi_dh: ef_driver_handle,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if pio.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    let mut pios = PIOS.lock();
    let Some(rec) = pios.get_mut(&(buf as usize)) else {
        return -libc::EINVAL;
    };
    // SAFETY: sv.vi is live.
    if rec.linked.is_some() || !unsafe { (*sv.vi).linked_pio }.is_null() {
        return -libc::EBUSY;
    }
    rec.linked = Some(sv.base.id);
    // SAFETY: as above.
    unsafe { (*sv.vi).linked_pio = pio };
    0
}

/// Unlinks a PIO region from a VI.
///
/// # Safety
///
/// `pio` must be an allocated region linked to `vi`, a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_unlink_vi(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    vi: *mut ef_vi,
    _vi_dh: ef_driver_handle,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: sv.vi is live.
    if pio.is_null() || unsafe { (*sv.vi).linked_pio } != pio {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    mark_unlinked(buf);
    // SAFETY: as above.
    unsafe { (*sv.vi).linked_pio = core::ptr::null_mut() };
    0
}

/// The size of the PIO region linked to `vi` (0 when none).
///
/// # Safety
///
/// `vi` must be a live VI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_get_pio_size(vi: *mut ef_vi) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller; a linked region is valid until unlinked.
    unsafe {
        let p = (*vi).linked_pio;
        if p.is_null() {
            0
        } else {
            (*p).pio_len as c_int
        }
    }
}

/// Copies `len` bytes from `base` into the VI's PIO region at `offset`.
///
/// # Safety
///
/// `vi` must be a live VI with a linked region and `base` readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_memcpy(
    vi: *mut ef_vi,
    base: *const c_void,
    offset: c_int,
    len: c_int,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe { pio_copy(vi, offset, base, len) }
}
