//! Memory registered for DMA with a protection domain.

use std::cell::UnsafeCell;
use std::ptr::NonNull;
use std::sync::Arc;

use crate::error::{Error, Result, check};
use crate::ffi;
use crate::pd::{PdInner, ProtectionDomain};

/// Size of a huge page, the unit of [`MemoryRegion::alloc`]'s first attempt.
pub const HUGE_PAGE_SIZE: usize = 2 << 20;
/// The NIC's page size: DMA addresses are contiguous only within one such page.
pub const NIC_PAGE_SIZE: usize = ffi::EF_VI_NIC_PAGE_SIZE as usize;

/// A block of memory: a mapping this crate made, or memory the caller lent.
#[derive(Debug)]
pub(crate) struct Memory {
    pub(crate) ptr: NonNull<u8>,
    pub(crate) len: usize,
    /// `Some(mapped length)` when this crate owns the mapping and must unmap it.
    mapped: Option<usize>,
    huge: bool,
}

// SAFETY: the block is plain memory; who may read or write which part of it is governed by the
// packet-buffer tokens (see `pool.rs`), not by which thread holds the `Memory`.
unsafe impl Send for Memory {}
// SAFETY: as above.
unsafe impl Sync for Memory {}

impl Drop for Memory {
    fn drop(&mut self) {
        if let Some(len) = self.mapped {
            // SAFETY: the mapping was made by `Memory::map` with this address and length and
            // every registration of it (each holding an `Arc<Memory>`) has been freed.
            unsafe { libc::munmap(self.ptr.as_ptr().cast(), len) };
        }
    }
}

impl Memory {
    /// Maps `len` bytes (rounded up to a page) of zeroed memory: huge pages when the system
    /// has them, else ordinary pages. Marked `MADV_DONTFORK`, so that a `fork()` cannot give the
    /// NIC's pages to the child by copy-on-write.
    fn map(len: usize) -> Result<Memory> {
        let huge_len = len.div_ceil(HUGE_PAGE_SIZE) * HUGE_PAGE_SIZE;
        let base = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS;
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        // SAFETY: an anonymous mapping at an address of the kernel's choosing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                huge_len,
                prot,
                base | libc::MAP_HUGETLB,
                -1,
                0,
            )
        };
        let (p, mapped, huge) = if p != libc::MAP_FAILED {
            (p, huge_len, true)
        } else {
            let page_len = len.div_ceil(NIC_PAGE_SIZE) * NIC_PAGE_SIZE;
            // SAFETY: as above.
            let p = unsafe { libc::mmap(std::ptr::null_mut(), page_len, prot, base, -1, 0) };
            if p == libc::MAP_FAILED {
                return Err(Error::Os {
                    call: "mmap",
                    source: std::io::Error::last_os_error(),
                });
            }
            (p, page_len, false)
        };
        // SAFETY: advice on the mapping just made; failure only loses the fork protection.
        unsafe { libc::madvise(p, mapped, libc::MADV_DONTFORK) };
        Ok(Memory {
            // SAFETY: mmap succeeded, so `p` is not null.
            ptr: unsafe { NonNull::new_unchecked(p.cast()) },
            len: mapped,
            mapped: Some(mapped),
            huge,
        })
    }
}

/// Memory registered with a protection domain (`ef_memreg_alloc`), so that the NIC may read
/// and write it; deregistered (`ef_memreg_free`) when the last handle (this value, its clones,
/// buffer pools and VIs using it) is dropped, and only then unmapped.
///
/// The region gives no access to its bytes: a [`BufferPool`](crate::BufferPool) made over it
/// hands out packet buffers, each of which belongs either to safe code or to the NIC.
#[derive(Debug, Clone)]
pub struct MemoryRegion {
    pub(crate) inner: Arc<MrInner>,
}

#[derive(Debug)]
pub(crate) struct MrInner {
    pub(crate) pd: Arc<PdInner>,
    mr: Box<UnsafeCell<ffi::ef_memreg>>,
    pub(crate) mem: Arc<Memory>,
}

// SAFETY: the `ef_memreg` is written only by `ef_memreg_alloc` (before sharing) and
// `ef_memreg_free` (in `Drop`, with no other handle left); in between it is only read.
unsafe impl Send for MrInner {}
// SAFETY: as above.
unsafe impl Sync for MrInner {}

impl Drop for MrInner {
    fn drop(&mut self) {
        let g = self.pd.lock();
        // SAFETY: registered by `register`; no VI or pool holds this region any more, so no
        // descriptor refers to it; freed exactly once. The memory and the PD outlive this call
        // (fields dropped afterwards).
        unsafe { ffi::ef_memreg_free(self.mr.get(), g.dh) };
    }
}

impl MemoryRegion {
    fn register(pd: &ProtectionDomain, mem: Arc<Memory>) -> Result<MemoryRegion> {
        if mem.len == 0 || mem.len % 2048 != 0 {
            return Err(Error::invalid(format!(
                "memory of {} bytes: the length must be a non-zero multiple of 2048",
                mem.len
            )));
        }
        if mem.ptr.as_ptr() as usize % NIC_PAGE_SIZE != 0 {
            return Err(Error::invalid("registered memory must be 4 KiB aligned"));
        }
        // SAFETY: plain C data for which zeroes are a valid initial value.
        let mr: Box<UnsafeCell<ffi::ef_memreg>> =
            Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        {
            let g = pd.inner.lock();
            // SAFETY: the PD is allocated and locked; the memory is 4 KiB aligned, `len` a
            // multiple of 2048, and it outlives the registration (held by `MrInner`).
            let rc = unsafe {
                ffi::ef_memreg_alloc(mr.get(), g.dh, g.pd, g.dh, mem.ptr.as_ptr().cast(), mem.len)
            };
            check("ef_memreg_alloc", rc)?;
        }
        Ok(MemoryRegion {
            inner: Arc::new(MrInner {
                pd: pd.inner.clone(),
                mr,
                mem,
            }),
        })
    }

    /// Allocates at least `len` bytes of zeroed, page-aligned memory (2 MiB huge pages when
    /// available, else 4 KiB pages) and registers it with `pd`.
    pub fn alloc(pd: &ProtectionDomain, len: usize) -> Result<MemoryRegion> {
        if len == 0 {
            return Err(Error::invalid("a memory region cannot be empty"));
        }
        Self::register(pd, Arc::new(Memory::map(len)?))
    }

    /// Registers memory the caller provides with `pd`.
    ///
    /// # Safety
    ///
    /// * `ptr` must be 4 KiB aligned and valid for reads and writes of `len` bytes (a multiple
    ///   of 2048) for as long as the returned region or any clone, pool or VI using it lives;
    /// * nothing else may read or write that memory meanwhile, except through the packet
    ///   buffers of a pool made over the region: the NIC may write any of it at any time;
    /// * the memory must not be shared with a child process by `fork()` (mark it
    ///   `MADV_DONTFORK` or map it `MAP_SHARED`).
    pub unsafe fn from_raw(
        pd: &ProtectionDomain,
        ptr: NonNull<u8>,
        len: usize,
    ) -> Result<MemoryRegion> {
        Self::register(
            pd,
            Arc::new(Memory {
                ptr,
                len,
                mapped: None,
                huge: false,
            }),
        )
    }

    /// Registers the same memory with another protection domain (for example to forward
    /// packets between two interfaces without copying them).
    pub fn register_with(&self, pd: &ProtectionDomain) -> Result<MemoryRegion> {
        Self::register(pd, self.inner.mem.clone())
    }

    /// The DMA address of the byte at `offset` (`ef_memreg_dma_addr`), or `None` past the
    /// end. Addresses are contiguous only within a 4 KiB page.
    #[inline]
    pub fn dma_addr(&self, offset: usize) -> Option<u64> {
        if offset >= self.inner.mem.len {
            return None;
        }
        // SAFETY: the registration is live and `offset` lies inside it.
        Some(unsafe { self.dma_addr_unchecked(offset) })
    }

    /// `dma_addr` without the bounds check.
    ///
    /// # Safety
    ///
    /// `offset` must be less than `self.len()`.
    #[inline]
    pub(crate) unsafe fn dma_addr_unchecked(&self, offset: usize) -> u64 {
        // SAFETY: live registration; the caller guarantees the offset is inside it.
        unsafe { ffi::ef_memreg_dma_addr(self.inner.mr.get(), offset) }
    }

    /// The C registration (live as long as this region).
    pub(crate) fn raw_mr(&self) -> *const ffi::ef_memreg {
        self.inner.mr.get()
    }

    /// The length of the region in bytes.
    pub fn len(&self) -> usize {
        self.inner.mem.len
    }

    /// Always false: a region is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// True when the memory is backed by huge pages (allocated by [`MemoryRegion::alloc`]
    /// with `MAP_HUGETLB`).
    pub fn is_huge(&self) -> bool {
        self.inner.mem.huge
    }

    /// The start of the memory (reading or writing through it is the caller's unsafe affair).
    pub fn as_ptr(&self) -> *const u8 {
        self.inner.mem.ptr.as_ptr()
    }

    /// True when both regions register the same memory.
    pub fn same_memory(&self, other: &MemoryRegion) -> bool {
        Arc::ptr_eq(&self.inner.mem, &other.inner.mem)
    }

    /// True when the region is registered with `pd`.
    pub fn is_in(&self, pd: &ProtectionDomain) -> bool {
        Arc::ptr_eq(&self.inner.pd, &pd.inner)
    }
}
