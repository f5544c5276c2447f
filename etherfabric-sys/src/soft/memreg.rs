//! Registered memory: `ef_memreg_alloc()` / `ef_memreg_free()`.
//!
//! The DMA address of each 4 KiB page is its virtual address, and the backend copies frames
//! to and from registered memory itself. Where an adapter's driver pins the pages (and so
//! refuses memory it cannot pin), the backend checks the range before accepting it:
//!
//! * a length the machine's physical memory could not hold (it could never be pinned) gives
//!   `-ENOMEM`, as does failing to allocate the DMA address array;
//! * a range not entirely covered by readable and writable mappings of the process (a hole, a
//!   `PROT_NONE` guard page, read-only memory) gives `-EFAULT`.
//!
//! As with the real library, memory unmapped while still registered is the application's
//! error: the backend cannot pin it.

use core::ffi::{c_int, c_void};
use std::sync::Arc;

use super::pd::{PdShared, Region, pd_of};
use super::{CArray, Registry};
use crate::bindings::*;

/// A registered memory region: its domain, address range and DMA address array. Dropping it
/// unregisters the range from the domain and frees the array.
#[derive(Debug)]
struct Memreg {
    pd: Arc<PdShared>,
    region: Region,
    addrs: CArray<ef_addr>,
}

impl Drop for Memreg {
    fn drop(&mut self) {
        self.pd.remove_region(self.region);
    }
}

/// Registered memory not yet freed, by the address of its DMA address array.
static MEMREGS: Registry<usize, Memreg> = Registry::new();

/// Why a range of memory cannot be registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    /// More than could ever be pinned, or no memory for the bookkeeping.
    NoMemory,
    /// Not entirely mapped readable and writable.
    NotMapped,
}

impl Refusal {
    fn errno(self) -> c_int {
        match self {
            Refusal::NoMemory => -libc::ENOMEM,
            Refusal::NotMapped => -libc::EFAULT,
        }
    }
}

/// The machine's physical memory in bytes (`usize::MAX` when unknown).
fn physical_memory() -> usize {
    // SAFETY: sysconf has no memory-safety preconditions.
    let (pages, size) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    match (usize::try_from(pages), usize::try_from(size)) {
        (Ok(p), Ok(s)) if p > 0 && s > 0 => p.saturating_mul(s),
        _ => usize::MAX,
    }
}

/// True when the process's mappings, as `/proc/self/maps` lists them, cover `[start, end)`
/// without a gap and are all readable and writable.
fn mapped_rw(maps: &str, start: usize, end: usize) -> bool {
    let mut covered = start;
    for line in maps.lines() {
        let mut fields = line.split_ascii_whitespace();
        let (Some(range), Some(perms)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((lo, hi)) = range.split_once('-') else {
            continue;
        };
        let (Ok(lo), Ok(hi)) = (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
        else {
            continue;
        };
        if hi <= covered {
            continue;
        }
        if lo > covered || !perms.starts_with("rw") {
            return false;
        }
        covered = hi;
        if covered >= end {
            return true;
        }
    }
    false
}

/// Checks that `[start, start + len)` could be pinned, as the driver would.
fn check_pinnable(start: usize, len: usize) -> Result<(), Refusal> {
    if len > physical_memory() {
        return Err(Refusal::NoMemory);
    }
    let end = start.checked_add(len).ok_or(Refusal::NotMapped)?;
    match std::fs::read_to_string("/proc/self/maps") {
        Ok(maps) if mapped_rw(&maps, start, end) => Ok(()),
        Ok(_) => Err(Refusal::NotMapped),
        Err(_) => {
            // No procfs: at least refuse holes (msync fails with ENOMEM on unmapped pages;
            // with MS_ASYNC it has no other effect).
            // SAFETY: msync only inspects the range's mappings.
            let rc = unsafe { libc::msync(start as *mut c_void, len, libc::MS_ASYNC) };
            if rc == 0 {
                Ok(())
            } else {
                Err(Refusal::NotMapped)
            }
        }
    }
}

/// The DMA address of each 4 KiB page of `[start, start + len)`.
fn dma_addresses(start: usize, len: usize) -> Result<Vec<ef_addr>, Refusal> {
    let page = EF_VI_NIC_PAGE_SIZE as usize;
    let pages = len.div_ceil(page);
    let mut addrs = Vec::new();
    addrs
        .try_reserve_exact(pages)
        .map_err(|_| Refusal::NoMemory)?;
    addrs.extend((0..pages).map(|i| (start + i * page) as ef_addr));
    Ok(addrs)
}

/// Registers `len_bytes` at `p_mem` with a protection domain. The address must be 4 KiB
/// aligned and the length a non-zero multiple of 2048 (`-EINVAL` otherwise); memory that
/// could not be pinned gives `-ENOMEM` or `-EFAULT` (see the module doc). The DMA address of
/// each 4 KiB page is its virtual address.
///
/// # Safety
///
/// `mr` must be writable, `pd` an allocated domain, and the memory must stay mapped until
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
    // SAFETY: `pd` is null or an `ef_pd`, per the caller.
    let pd = match unsafe { pd_of(pd) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    let Some(end) = start.checked_add(len_bytes) else {
        return -libc::EINVAL;
    };
    let addrs =
        match check_pinnable(start, len_bytes).and_then(|()| dma_addresses(start, len_bytes)) {
            Ok(a) => CArray::new(a),
            Err(r) => return r.errno(),
        };
    let base = addrs.as_ptr();
    let region = Region { start, end };
    pd.add_region(region);
    MEMREGS
        .lock()
        .insert(base as usize, Memreg { pd, region, addrs });
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
    let Some(reg) = MEMREGS.lock().remove(&(base as usize)) else {
        return -libc::EINVAL;
    };
    debug_assert_eq!(reg.addrs.as_ptr(), base);
    drop(reg);
    // SAFETY: as above.
    unsafe {
        (*mr).mr_dma_addrs = core::ptr::null_mut();
        (*mr).mr_dma_addrs_base = core::ptr::null_mut();
    }
    0
}

#[cfg(test)]
mod tests {
    use super::mapped_rw;

    const MAPS: &str = "\
1000-3000 rw-p 00000000 00:00 0
3000-4000 rw-p 00000000 00:00 0 [heap]
4000-5000 ---p 00000000 00:00 0
6000-8000 r--p 00000000 00:00 0 /lib/x
8000-9000 rw-s 00000000 00:05 7 /dev/zero
";

    #[test]
    fn mapped_rw_needs_contiguous_readable_writable_mappings() {
        assert!(mapped_rw(MAPS, 0x1000, 0x4000), "two adjacent rw mappings");
        assert!(mapped_rw(MAPS, 0x2000, 0x3000));
        assert!(mapped_rw(MAPS, 0x8000, 0x9000), "shared rw mapping");
        assert!(!mapped_rw(MAPS, 0x3000, 0x5000), "PROT_NONE page");
        assert!(!mapped_rw(MAPS, 0x5000, 0x6000), "hole");
        assert!(!mapped_rw(MAPS, 0x6000, 0x7000), "read-only");
        assert!(
            !mapped_rw(MAPS, 0x8000, 0xa000),
            "runs past the last mapping"
        );
        assert!(
            !mapped_rw(MAPS, 0x0, 0x2000),
            "starts before the first mapping"
        );
    }
}
