//! Registered memory.

use core::ffi::{c_int, c_void};

use super::pd::Region;
use super::pd::pd_of;
use super::registry;
use crate::bindings::*;

/// A registered memory region: its protection domain, address range and DMA address array.
#[derive(Debug)]
pub(crate) struct MemregRec {
    pub(super) pd: u32,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) pages: usize,
}

/// Registers `len_bytes` at `p_mem` with a protection domain. The address must be 4 KiB
/// aligned and the length a non-zero multiple of 2048 (`-EINVAL` otherwise). The DMA address
/// of each 4 KiB page is its virtual address.
///
/// # Safety
///
/// `mr` must be writable, `pd` an allocated domain, and the memory must stay valid until
/// `ef_memreg_free()` (and until no descriptor refers to it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_memreg_alloc(
    mr: *mut ef_memreg,
    _mr_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    p_mem: *mut c_void,
    len_bytes: usize,
) -> c_int {
    let page = EF_VI_NIC_PAGE_SIZE as usize;
    let start = p_mem as usize;
    if mr.is_null() || p_mem.is_null() || start % page != 0 {
        return -libc::EINVAL;
    }
    if len_bytes == 0 || len_bytes % 2048 != 0 {
        return -libc::EINVAL;
    }
    let pd = match pd_of(pd) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(end) = start.checked_add(len_bytes) else {
        return -libc::EINVAL;
    };
    let pages = len_bytes.div_ceil(page);
    let addrs: Box<[ef_addr]> = (0..pages).map(|i| (start + i * page) as ef_addr).collect();
    let base = Box::into_raw(addrs).cast::<ef_addr>();
    pd.regions
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .push(Region { start, end });
    registry().memregs.insert(
        base as usize,
        MemregRec {
            pd: pd.id,
            start,
            end,
            pages,
        },
    );
    // SAFETY: the caller guarantees `mr` is writable.
    unsafe {
        mr.write(ef_memreg {
            mr_dma_addrs: base,
            mr_dma_addrs_base: base,
        });
    }
    0
}

/// Unregisters memory.
///
/// # Safety
///
/// `mr` must have been filled in by [`ef_memreg_alloc`] and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_memreg_free(mr: *mut ef_memreg, _mr_dh: ef_driver_handle) -> c_int {
    if mr.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a valid `ef_memreg`.
    let base = unsafe { (*mr).mr_dma_addrs_base };
    let Some(rec) = registry().memregs.remove(&(base as usize)) else {
        return -libc::EINVAL;
    };
    if let Some(pd) = registry().pds.get(&rec.pd).cloned() {
        let mut regions = pd.regions.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = regions
            .iter()
            .position(|r| r.start == rec.start && r.end == rec.end)
        {
            regions.remove(i);
        }
    }
    // SAFETY: `base` came from Box::into_raw of a boxed slice of `rec.pages` addresses.
    drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(base, rec.pages)) });
    // SAFETY: as above.
    unsafe {
        (*mr).mr_dma_addrs = core::ptr::null_mut();
        (*mr).mr_dma_addrs_base = core::ptr::null_mut();
    }
    0
}
