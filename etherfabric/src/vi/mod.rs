//! Virtual interfaces: a receive ring, a transmit ring and an event queue.

use std::cell::{Cell, UnsafeCell};
use std::ffi::c_int;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, Rejected, Result, check};
use crate::event::{
    self, Decoder, Event, RxMulti, RxPacket, RxRef, Timestamp, TxComplete, TxFailure,
};
use crate::ffi;
use crate::filter::{Filter, FilterSpec};
use crate::pd::{PdInner, ProtectionDomain};
use crate::pio::Pio;
use crate::pool::{BufferPool, PacketBuf, PoolShared};
use crate::set::{SetInner, ViSet};

mod alts;
mod control;
mod efct;
mod events;
mod flags;
mod flush;
mod group;
mod rx;
mod rx_filter_id;
mod timer;
mod tx;
mod warm;

pub use alts::{TxAltId, TxAltOverhead, TxAlternatives};
pub use efct::RxRefPacket;
pub use flags::{DiscardFlags, ViFlags};
pub use group::{GroupVi, ViGroup};
pub use tx::CTPIO_THRESHOLD_SNF;
pub use warm::TxWarm;

/// How many events one [`Vi::poll`] call decodes at most.
pub const POLL_BATCH: usize = 64;
/// The DMA id of sends that carry no packet buffer (PIO, CTPIO copies).
const NO_BUF_ID: u32 = 0x7fff_fffe;
/// End of a transmitv chain.
const CHAIN_END: u32 = u32::MAX;

/// The C VI and what must outlive it; shared with the VI's filters.
#[derive(Debug)]
pub(crate) struct ViCore {
    /// Boxed: the library keeps pointers into the struct, so it never moves.
    vi: Box<UnsafeCell<ffi::ef_vi>>,
    pub(crate) dh: ffi::ef_driver_handle,
    pio: Mutex<Option<Pio>>,
    /// Filter removals: made by the `Vi`'s thread while a `Vi` handle lives, else at once.
    pub(crate) deferred: Mutex<Deferred>,
    /// Set when `deferred` holds removals for the `Vi` to make.
    pub(crate) pending: AtomicBool,
    /// Buffers the NIC may still write while the VI lives.
    _pool: Arc<PoolShared>,
    _set: Option<Arc<SetInner>>,
    _pd: Arc<PdInner>,
    /// For a VI that uses another VI's event queue: that VI, freed only after this one.
    _evq_owner: Option<Arc<ViCore>>,
}

/// Filter removals waiting for the VI's thread.
#[derive(Debug)]
pub(crate) struct Deferred {
    /// False once the `Vi` handle is dropped: removals are then made at once (under this lock).
    pub(crate) vi_alive: bool,
    pub(crate) cookies: Vec<ffi::ef_filter_cookie>,
}

impl ViCore {
    /// Removes the filters in `d` (called with the lock held, so removals never overlap).
    pub(crate) fn remove_filters(&self, d: &mut Deferred) {
        for mut c in d.cookies.drain(..) {
            // SAFETY: the VI is live; the cookie came from `ef_vi_filter_add` and is deleted
            // once; no other ef_vi call on this VI runs meanwhile (the `Vi` handle is gone, or
            // this is its own thread).
            unsafe { ffi::ef_vi_filter_del(self.vi.get(), self.dh, &mut c) };
        }
        self.pending.store(false, Ordering::Relaxed);
    }
}

// SAFETY: the `ef_vi` is only used through the one `Vi` (which is `!Sync`), on its thread;
// filters dropped elsewhere leave their removal to that thread (see `Deferred`), or make it
// under the `deferred` lock once the `Vi` is gone. Everything else is immutable or behind a
// mutex.
unsafe impl Send for ViCore {}
// SAFETY: as above.
unsafe impl Sync for ViCore {}

impl ViCore {
    pub(crate) fn raw(&self) -> *mut ffi::ef_vi {
        self.vi.get()
    }
}

impl Drop for ViCore {
    fn drop(&mut self) {
        if let Some(pio) = self
            .pio
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            // SAFETY: the PIO was linked to this VI by `Vi::link_pio`; both are live.
            unsafe { ffi::ef_pio_unlink_vi(pio.raw(), self.dh, self.vi.get(), self.dh) };
        }
        // SAFETY: no `Vi` nor filter refers to the VI any more (each holds this `Arc`); it is
        // freed exactly once, before its memory, PIO, set and PD (fields dropped after this).
        unsafe { ffi::ef_vi_free(self.vi.get(), self.dh) };
    }
}

/// Sizes and flags for a new [`Vi`]; made by [`Vi::builder`] or [`ViSet::vi_builder`].
#[derive(Debug, Clone)]
pub struct ViBuilder {
    pd: ProtectionDomain,
    set: Option<(ViSet, Option<u32>)>,
    evq: c_int,
    rxq: c_int,
    txq: c_int,
    flags: ViFlags,
}

fn ring_size(n: Option<u32>) -> c_int {
    match n {
        None => -1,
        Some(n) => c_int::try_from(n).unwrap_or(c_int::MAX),
    }
}

impl ViBuilder {
    pub(crate) fn new(pd: &ProtectionDomain, set: Option<(ViSet, Option<u32>)>) -> ViBuilder {
        ViBuilder {
            pd: pd.clone(),
            set,
            evq: -1,
            rxq: -1,
            txq: -1,
            flags: ViFlags::empty(),
        }
    }

    /// Event queue capacity (`None`: the default, `EF_VI_EVQ_SIZE` or the library's).
    pub fn evq_capacity(mut self, n: Option<u32>) -> Self {
        self.evq = ring_size(n);
        self
    }

    /// RX ring capacity (`Some(0)`: no RX ring; `None`: the default).
    pub fn rxq_capacity(mut self, n: Option<u32>) -> Self {
        self.rxq = ring_size(n);
        self
    }

    /// TX ring capacity (`Some(0)`: no TX ring; `None`: the default).
    pub fn txq_capacity(mut self, n: Option<u32>) -> Self {
        self.txq = ring_size(n);
        self
    }

    /// VI flags.
    pub fn flags(mut self, flags: ViFlags) -> Self {
        self.flags = flags;
        self
    }

    /// Allocates the VI (`ef_vi_alloc_from_pd` or `ef_vi_alloc_from_set`); it posts and
    /// transmits the buffers of `pool`, whose memory must be registered with the VI's
    /// protection domain.
    pub fn build(self, pool: &BufferPool) -> Result<Vi> {
        self.build_on(pool, None)
    }

    /// Allocates the VI with its own event queue (`evq` `None`), or with the event queue of
    /// `evq` (whose C VI must be live, used by this thread, and owning its event queue).
    pub(crate) fn build_on(
        self,
        pool: &BufferPool,
        evq: Option<(*mut ffi::ef_vi, Arc<ViCore>)>,
    ) -> Result<Vi> {
        let (evq_raw, evq_core) = match evq {
            Some((raw, core)) => (raw, Some(core)),
            None => (std::ptr::null_mut(), None),
        };
        // A VI on another's event queue has none of its own (the library requires 0).
        let evq_cap = if evq_core.is_some() { 0 } else { self.evq };
        let evq_dh = evq_core.as_ref().map_or(-1, |c| c.dh);
        let shared = pool.shared.clone();
        let Some(region) = shared.region_for(&self.pd) else {
            return Err(Error::invalid(
                "the buffer pool's memory is not registered with the VI's protection domain",
            ));
        };
        let mr = region.inner.clone();
        // SAFETY: plain C data; zeroes are the expected initial state.
        let vi: Box<UnsafeCell<ffi::ef_vi>> =
            Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        let dh = self.pd.inner.driver.inner.dh;
        let flags = self.flags.bits() as ffi::ef_vi_flags;
        let q_id = match &self.set {
            None => {
                let g = self.pd.inner.lock();
                // SAFETY: `vi` is boxed (it never moves) and zeroed; the PD is live and locked;
                // `evq_raw` is null or a live VI owning its event queue, used by this thread.
                let rc = unsafe {
                    ffi::ef_vi_alloc_from_pd(
                        vi.get(),
                        dh,
                        g.pd,
                        g.dh,
                        evq_cap,
                        self.rxq,
                        self.txq,
                        evq_raw,
                        evq_dh,
                        flags,
                    )
                };
                check("ef_vi_alloc_from_pd", rc)?
            }
            Some((set, index)) => {
                let idx = index.map_or(-1, |i| c_int::try_from(i).unwrap_or(c_int::MAX));
                let _g = self.pd.inner.lock();
                // SAFETY: as above; the set is live and belongs to this PD.
                let rc = unsafe {
                    ffi::ef_vi_alloc_from_set(
                        vi.get(),
                        dh,
                        set.inner.raw(),
                        dh,
                        idx,
                        evq_cap,
                        self.rxq,
                        self.txq,
                        evq_raw,
                        evq_dh,
                        flags,
                    )
                };
                check("ef_vi_alloc_from_set", rc)?
            }
        };
        let core = Arc::new(ViCore {
            vi,
            dh,
            pio: Mutex::new(None),
            deferred: Mutex::new(Deferred {
                vi_alive: true,
                cookies: Vec::new(),
            }),
            pending: AtomicBool::new(false),
            _pool: shared.clone(),
            _set: self.set.as_ref().map(|(s, _)| s.inner.clone()),
            _pd: self.pd.inner.clone(),
            _evq_owner: evq_core.clone(),
        });
        let raw = core.raw();
        // SAFETY: the VI was just allocated.
        let (prefix, rx_buf_len) = unsafe {
            (
                ffi::ef_vi_receive_prefix_len(raw) as usize,
                ffi::ef_vi_receive_buffer_len(raw) as usize,
            )
        };
        if self.rxq != 0 && rx_buf_len > shared.buf_size {
            return Err(Error::invalid(format!(
                "the VI receives up to {rx_buf_len} bytes per buffer but the pool's buffers \
                 have {}",
                shared.buf_size
            )));
        }
        let chain = vec![CHAIN_END; shared.count as usize].into_boxed_slice();
        let mr_raw = region.raw_mr();
        let dma = (0..shared.count)
            // SAFETY: `mr_raw` is the live registration of the pool's memory with this PD
            // (kept alive by `_mr`), and every buffer's offset lies inside it.
            .map(|i| unsafe { ffi::ef_memreg_dma_addr(mr_raw, shared.offset(i)) })
            .collect();
        static NEXT_VI_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        Ok(Vi {
            id: NEXT_VI_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            dma,
            _mr: mr,
            raw,
            core,
            pool: shared,
            prefix,
            q_id: q_id as u32,
            flags: self.flags,
            tx_failed: false,
            pio_len: 0,
            chain,
            chained: false,
            alt_set: 0,
            evq_shared: evq_core.is_some(),
            _not_sync: PhantomData,
        })
    }
}

/// A virtual interface (`ef_vi`): the application's own receive ring, transmit ring and event
/// queue on one protection domain; freed (`ef_vi_free`) when it and all its filters are
/// dropped.
///
/// A `Vi` is `Send` but not `Sync` (ef_vi functions are not thread-safe: one VI, one
/// thread); every data-path call takes `&mut self`. It posts and transmits the
/// [`PacketBuf`]s of the pool it was built with, owning each from the call that hands it over
/// until the event that completes it, and keeps that pool's memory alive while the NIC may
/// write it.
///
/// ```compile_fail,E0277
/// fn share<T: Sync>(_: &T) {}
/// fn check(vi: &etherfabric::Vi) { share(vi) } // a Vi is not Sync
/// ```
#[derive(Debug)]
pub struct Vi {
    raw: *mut ffi::ef_vi,
    /// Unique among all VIs of the process, ever: completions carry it.
    id: usize,
    core: Arc<ViCore>,
    pool: Arc<PoolShared>,
    /// The DMA address of each pool buffer on this VI's PD (as C applications keep one per
    /// packet buffer), so that posting and sending look it up with one load.
    dma: Box<[u64]>,
    _mr: Arc<crate::memory::MrInner>,
    prefix: usize,
    q_id: u32,
    flags: ViFlags,
    tx_failed: bool,
    /// Size of the linked PIO region (0: none).
    pio_len: usize,
    /// For each buffer sent by `transmitv`, the next buffer of its packet.
    chain: Box<[u32]>,
    chained: bool,
    /// The allocation of TX alternatives live on this VI (0: none), see `alts.rs`.
    alt_set: usize,
    /// True for a member of a [`ViGroup`]: its events are polled through the group.
    evq_shared: bool,
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: the `ef_vi` may be used from any thread as long as one thread at a time uses it;
// `Vi` is not `Sync` and its data path takes `&mut self`. The raw pointers point into
// `core` and the pool, which this value keeps alive.
unsafe impl Send for Vi {}

/// What decoding needs of the VI, copied out of it so that a poll loop keeps it in registers.
struct Dec<'a> {
    owner: usize,
    pool_id: u32,
    pool_len: u32,
    prefix: usize,
    tx_failed: &'a mut bool,
}

impl Vi {
    /// The decoding state of this VI's events, copied out of it so that decoding reads no
    /// pointer.
    #[inline(always)]
    fn decoder(&mut self) -> Dec<'_> {
        Dec {
            owner: self.id,
            pool_id: self.pool.id,
            pool_len: self.pool.count,
            prefix: self.prefix,
            tx_failed: &mut self.tx_failed,
        }
    }
}

impl Decoder for Dec<'_> {
    #[inline]
    fn rx_token(&self, id: u32) -> PacketBuf {
        debug_assert!(id < self.pool_len, "buffer id {id} out of range");
        PacketBuf {
            index: id,
            pool: self.pool_id,
        }
    }
    #[inline]
    fn prefix(&self) -> usize {
        self.prefix
    }
    #[inline]
    fn tx_failed(&mut self) {
        *self.tx_failed = true;
    }
    #[inline]
    fn owner(&self) -> usize {
        self.owner
    }
}

impl Vi {
    /// A builder for a VI on `pd`.
    pub fn builder(pd: &ProtectionDomain) -> ViBuilder {
        ViBuilder::new(pd, None)
    }

    /// The raw `ef_vi`, for calls into [`ffi`].
    ///
    /// # Safety
    ///
    /// The caller must not free the VI, must not post or complete descriptors behind this
    /// crate's back (the buffer ownership this crate tracks would be wrong), and must not use
    /// the pointer after the `Vi` is dropped.
    pub unsafe fn as_raw(&mut self) -> *mut ffi::ef_vi {
        self.raw
    }

    /// The DMA address of one of this pool's buffers.
    ///
    /// # Safety
    ///
    /// `buf` must be a token of this VI's pool ([`PoolShared::owns`]).
    #[inline]
    unsafe fn dma_addr(&self, buf: &PacketBuf) -> u64 {
        debug_assert!(self.pool.owns(buf));
        // SAFETY: the pool makes tokens only for indices below its count, which is the table's
        // length, and `buf` is one of its tokens.
        unsafe { *self.dma.get_unchecked(buf.index as usize) }
    }
}

impl Drop for Vi {
    fn drop(&mut self) {
        // From now on filters are removed by whoever drops them, under the lock.
        let mut d = self.core.deferred.lock().unwrap_or_else(|e| e.into_inner());
        d.vi_alive = false;
        self.core.remove_filters(&mut d);
    }
}

impl AsRawFd for Vi {
    /// The driver handle on which [`Vi::prime`] signals events.
    fn as_raw_fd(&self) -> RawFd {
        self.core.dh
    }
}

impl AsFd for Vi {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the handle stays open while the VI (which holds its PD and driver) lives.
        unsafe { BorrowedFd::borrow_raw(self.core.dh) }
    }
}

impl ViSet {
    /// A builder for a VI of this set (`index`: its place in the set, `None` for any free one).
    pub fn vi_builder(&self, index: Option<u32>) -> ViBuilder {
        ViBuilder::new(&self.pd(), Some((self.clone(), index)))
    }
}
