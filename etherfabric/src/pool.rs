//! Packet buffers: fixed-size slices of registered memory, each owned either by safe code or
//! by a VI's descriptor ring.
//!
//! A [`PacketBuf`] is a token, not a reference: two integers (the buffer's index and its
//! pool's id), neither `Copy` nor `Clone`. Whoever holds the token may read and write the
//! buffer (through [`BufferPool::bytes_mut`] or [`Vi::bytes_mut`](crate::Vi::bytes_mut));
//! posting it to a ring moves the token into the VI, which keeps only its index in the C
//! descriptor ring, and the event that completes the descriptor hands a token back. Since at
//! most one token exists per buffer, safe code can never touch a buffer the NIC may be
//! writing, and nothing is checked at run time for it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};
use crate::memory::{MemoryRegion, NIC_PAGE_SIZE};
use crate::pd::ProtectionDomain;

/// The default size of one packet buffer.
pub const DEFAULT_BUF_SIZE: usize = 2048;

/// The exclusive right to one packet buffer of a [`BufferPool`].
///
/// Neither `Copy` nor `Clone`: moved into a VI when posted or transmitted, and moved back out
/// by the event that completes it. Dropping one loses the buffer until the pool is dropped
/// (it is not unsafe, only a leak).
#[derive(Debug, PartialEq, Eq, Hash)]
#[must_use = "a dropped packet buffer is lost until its pool is dropped"]
pub struct PacketBuf {
    pub(crate) index: u32,
    pub(crate) pool: u32,
}

impl PacketBuf {
    /// The buffer's index in its pool (also the DMA id its descriptors carry).
    #[inline]
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// What every handle on one pool shares: where the buffers are.
#[derive(Debug)]
pub(crate) struct PoolShared {
    pub(crate) id: u32,
    base: *mut u8,
    pub(crate) buf_size: usize,
    pub(crate) count: u32,
    /// The registrations of the pool's memory, one per protection domain.
    pub(crate) regions: Vec<MemoryRegion>,
}

// SAFETY: the fields never change after construction; the bytes behind `base` are reached
// only by the holder of a buffer's token (or by the NIC while a VI holds it).
unsafe impl Send for PoolShared {}
// SAFETY: as above.
unsafe impl Sync for PoolShared {}

impl PoolShared {
    /// Panics unless `buf` is one of this pool's buffers.
    #[inline]
    #[track_caller]
    fn assert_own(&self, buf: &PacketBuf) {
        if buf.pool != self.id {
            // By value, so that the token never needs an address on the fast path.
            foreign_buffer(buf.index);
        }
    }

    #[inline]
    pub(crate) fn owns(&self, buf: &PacketBuf) -> bool {
        buf.pool == self.id
    }

    /// The token for buffer `index` (which a ring has just given back).
    #[inline]
    pub(crate) fn token(&self, index: u32) -> PacketBuf {
        debug_assert!(index < self.count, "buffer id {index} out of range");
        PacketBuf {
            index,
            pool: self.id,
        }
    }

    #[inline]
    pub(crate) fn offset(&self, index: u32) -> usize {
        index as usize * self.buf_size
    }

    /// A pointer to the first byte of buffer `index`.
    #[inline]
    pub(crate) fn ptr(&self, index: u32) -> *mut u8 {
        // SAFETY: `index < count`, so the offset lies inside the mapping.
        unsafe { self.base.add(self.offset(index)) }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn bytes<'a>(&'a self, buf: &'a PacketBuf) -> &'a [u8] {
        self.assert_own(buf);
        // SAFETY: the token is this pool's, so the buffer lies inside the memory, which lives
        // as long as `self`; holding the token means no VI (so no NIC) owns the buffer and no
        // `&mut` to it exists (that would need `&mut PacketBuf`).
        unsafe { std::slice::from_raw_parts(self.ptr(buf.index), self.buf_size) }
    }

    #[inline]
    #[track_caller]
    pub(crate) fn bytes_mut<'a>(&'a self, buf: &'a mut PacketBuf) -> &'a mut [u8] {
        self.assert_own(buf);
        // SAFETY: as in `bytes`, and the token is borrowed mutably, so this is the only view.
        unsafe { std::slice::from_raw_parts_mut(self.ptr(buf.index), self.buf_size) }
    }

    /// The registration of the pool's memory with the protection domain `pd`.
    pub(crate) fn region_for(&self, pd: &ProtectionDomain) -> Option<&MemoryRegion> {
        self.regions.iter().find(|r| r.is_in(pd))
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn foreign_buffer(index: u32) -> ! {
    panic!("packet buffer {index} belongs to another buffer pool")
}

/// Fixed-size packet buffers carved out of registered memory, with their free list.
///
/// The pool hands out [`PacketBuf`] tokens ([`take`](Self::take)) and takes them back
/// ([`put`](Self::put)); VIs made with it ([`ViBuilder::build`](crate::ViBuilder::build))
/// accept its tokens for posting and transmitting. One pool can serve several VIs, also on
/// different protection domains when its memory is registered with each
/// ([`BufferPool::with_regions`]).
#[derive(Debug)]
pub struct BufferPool {
    pub(crate) shared: Arc<PoolShared>,
    free: Vec<PacketBuf>,
}

static NEXT_POOL_ID: AtomicU32 = AtomicU32::new(1);

impl BufferPool {
    /// Allocates memory for `count` buffers of `buf_size` bytes on `pd` (huge pages when
    /// available) and makes a pool of them.
    pub fn alloc(pd: &ProtectionDomain, count: u32, buf_size: usize) -> Result<BufferPool> {
        check_geometry(count, buf_size)?;
        let region = MemoryRegion::alloc(pd, count as usize * buf_size)?;
        // The mapping may be larger (a whole huge page): the pool has the buffers asked for.
        BufferPool::make(vec![region], buf_size, Some(count))
    }

    /// Makes a pool of as many `buf_size`-byte buffers as fit in `region`.
    ///
    /// `buf_size` must be a power of two from 64 to 4096, so that no buffer crosses a 4 KiB
    /// page (DMA addresses are contiguous only within one).
    pub fn new(region: MemoryRegion, buf_size: usize) -> Result<BufferPool> {
        BufferPool::with_regions(vec![region], buf_size)
    }

    /// Makes a pool over memory registered with several protection domains: every region
    /// must register the same memory ([`MemoryRegion::register_with`]), each with a different
    /// protection domain.
    pub fn with_regions(regions: Vec<MemoryRegion>, buf_size: usize) -> Result<BufferPool> {
        BufferPool::make(regions, buf_size, None)
    }

    fn make(regions: Vec<MemoryRegion>, buf_size: usize, count: Option<u32>) -> Result<BufferPool> {
        let Some(first) = regions.first() else {
            return Err(Error::invalid("a buffer pool needs a memory region"));
        };
        for (i, r) in regions.iter().enumerate() {
            if !r.same_memory(first) {
                return Err(Error::invalid(
                    "the regions of one buffer pool must register the same memory",
                ));
            }
            if regions[..i]
                .iter()
                .any(|o| Arc::ptr_eq(&o.inner.pd, &r.inner.pd))
            {
                return Err(Error::invalid(
                    "two regions of one buffer pool are on the same protection domain",
                ));
            }
        }
        let fits = u32::try_from(first.len() / buf_size.max(1)).unwrap_or(u32::MAX >> 1);
        let count = count.unwrap_or(fits).min(fits);
        check_geometry(count, buf_size)?;
        let id = NEXT_POOL_ID.fetch_add(1, Ordering::Relaxed);
        let base = first.as_ptr().cast_mut();
        let free = (0..count)
            .rev()
            .map(|index| PacketBuf { index, pool: id })
            .collect();
        Ok(BufferPool {
            shared: Arc::new(PoolShared {
                id,
                base,
                buf_size,
                count,
                regions,
            }),
            free,
        })
    }

    /// Takes a free buffer, or `None` when all are in use.
    #[inline]
    pub fn take(&mut self) -> Option<PacketBuf> {
        self.free.pop()
    }

    /// Gives a buffer back to the free list.
    ///
    /// A buffer of another pool is not kept: it is handed back as `Err`.
    #[inline]
    pub fn put(&mut self, buf: PacketBuf) -> Result<(), PacketBuf> {
        if buf.pool != self.shared.id {
            return Err(buf);
        }
        self.free.push(buf);
        Ok(())
    }

    /// The bytes of a buffer.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes<'a>(&'a self, buf: &'a PacketBuf) -> &'a [u8] {
        self.shared.bytes(buf)
    }

    /// The bytes of a buffer, to write.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes_mut<'a>(&'a self, buf: &'a mut PacketBuf) -> &'a mut [u8] {
        self.shared.bytes_mut(buf)
    }

    /// The number of free buffers.
    pub fn free_count(&self) -> usize {
        self.free.len()
    }

    /// The number of buffers in the pool.
    pub fn capacity(&self) -> usize {
        self.shared.count as usize
    }

    /// The size of each buffer.
    pub fn buf_size(&self) -> usize {
        self.shared.buf_size
    }

    /// True when `buf` is one of this pool's buffers.
    pub fn owns(&self, buf: &PacketBuf) -> bool {
        self.shared.owns(buf)
    }

    /// The registrations of the pool's memory.
    pub fn regions(&self) -> &[MemoryRegion] {
        &self.shared.regions
    }
}

fn check_geometry(count: u32, buf_size: usize) -> Result<()> {
    if !buf_size.is_power_of_two() || !(64..=NIC_PAGE_SIZE).contains(&buf_size) {
        return Err(Error::invalid(format!(
            "packet buffer size {buf_size}: must be a power of two from 64 to 4096"
        )));
    }
    if count == 0 || count > (1 << 30) {
        return Err(Error::invalid(format!(
            "{count} packet buffers: a pool holds from 1 to 2^30"
        )));
    }
    Ok(())
}
