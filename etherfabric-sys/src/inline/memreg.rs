//! The inline function of `etherfabric/memreg.h`.

use crate::bindings::*;

/// The DMA address of the byte at `offset` within a registered memory region (C inline
/// `ef_memreg_dma_addr()`).
///
/// The region is registered in NIC pages of `EF_VI_NIC_PAGE_SIZE` (4 KiB) bytes, each with
/// its own DMA address in `mr->mr_dma_addrs`; addresses are contiguous only within a page.
/// The result is the address of page `offset >> EF_VI_NIC_PAGE_SHIFT` ORed with the offset
/// within that page, exactly as the C code computes it.
///
/// # Safety
///
/// `mr` must point to an `ef_memreg` filled in by `ef_memreg_alloc()` (or laid out the same
/// way), and `offset` must lie within the registered region, so that the page entry read from
/// `mr->mr_dma_addrs` exists.
#[inline]
#[must_use]
pub unsafe fn ef_memreg_dma_addr(mr: *const ef_memreg, offset: usize) -> ef_addr {
    let page = offset >> EF_VI_NIC_PAGE_SHIFT;
    let within = (offset & (EF_VI_NIC_PAGE_SIZE as usize - 1)) as ef_addr;
    // SAFETY: the caller guarantees `mr` is valid and that entry `page` of its DMA address
    // array exists.
    let base = unsafe { *(*mr).mr_dma_addrs.add(page) };
    base | within
}
