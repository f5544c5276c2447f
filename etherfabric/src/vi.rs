//! Virtual interfaces: a receive ring, a transmit ring and an event queue.
// `ef_vi_flags` is a C `unsigned long`: 64 bits here, so `as u64` is a no-op on this target
// only.
#![allow(clippy::unnecessary_cast)]

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

bitflags::bitflags! {
    /// Flags of a VI (`enum ef_vi_flags`, a 64-bit set).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ViFlags: u64 {
        /// iSCSI header digest offload on receive.
        const ISCSI_RX_HDIG = ffi::ef_vi_flags_EF_VI_ISCSI_RX_HDIG as u64;
        /// iSCSI header digest offload on transmit.
        const ISCSI_TX_HDIG = ffi::ef_vi_flags_EF_VI_ISCSI_TX_HDIG as u64;
        /// iSCSI data digest offload on receive.
        const ISCSI_RX_DDIG = ffi::ef_vi_flags_EF_VI_ISCSI_RX_DDIG as u64;
        /// iSCSI data digest offload on transmit.
        const ISCSI_TX_DDIG = ffi::ef_vi_flags_EF_VI_ISCSI_TX_DDIG as u64;
        /// Transmit descriptors carry physical addresses.
        const TX_PHYS_ADDR = ffi::ef_vi_flags_EF_VI_TX_PHYS_ADDR as u64;
        /// Receive descriptors carry physical addresses.
        const RX_PHYS_ADDR = ffi::ef_vi_flags_EF_VI_RX_PHYS_ADDR as u64;
        /// No IP checksum offload on transmit.
        const TX_IP_CSUM_DIS = ffi::ef_vi_flags_EF_VI_TX_IP_CSUM_DIS as u64;
        /// No TCP/UDP checksum offload on transmit.
        const TX_TCPUDP_CSUM_DIS = ffi::ef_vi_flags_EF_VI_TX_TCPUDP_CSUM_DIS as u64;
        /// Transmit only TCP and UDP.
        const TX_TCPUDP_ONLY = ffi::ef_vi_flags_EF_VI_TX_TCPUDP_ONLY as u64;
        /// Filter transmits by IP address.
        const TX_FILTER_IP = ffi::ef_vi_flags_EF_VI_TX_FILTER_IP as u64;
        /// Filter transmits by MAC address.
        const TX_FILTER_MAC = ffi::ef_vi_flags_EF_VI_TX_FILTER_MAC as u64;
        /// Transmit filter mask bit 1.
        const TX_FILTER_MASK_1 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_1 as u64;
        /// Transmit filter mask bit 2.
        const TX_FILTER_MASK_2 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_2 as u64;
        /// Transmit filter mask 3 (both bits).
        const TX_FILTER_MASK_3 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_3 as u64;
        /// Never push descriptors with the doorbell.
        const TX_PUSH_DISABLE = ffi::ef_vi_flags_EF_VI_TX_PUSH_DISABLE as u64;
        /// Always push descriptors with the doorbell.
        const TX_PUSH_ALWAYS = ffi::ef_vi_flags_EF_VI_TX_PUSH_ALWAYS as u64;
        /// Timestamp received packets.
        const RX_TIMESTAMPS = ffi::ef_vi_flags_EF_VI_RX_TIMESTAMPS as u64;
        /// Timestamp transmitted packets (`EF_EVENT_TYPE_TX_WITH_TIMESTAMP`).
        const TX_TIMESTAMPS = ffi::ef_vi_flags_EF_VI_TX_TIMESTAMPS as u64;
        /// Packed-stream receive.
        const RX_PACKED_STREAM = ffi::ef_vi_flags_EF_VI_RX_PACKED_STREAM as u64;
        /// 64 KiB packed-stream buffers.
        const RX_PS_BUF_SIZE_64K = ffi::ef_vi_flags_EF_VI_RX_PS_BUF_SIZE_64K as u64;
        /// Merge receive events (`EF_EVENT_TYPE_RX_MULTI`).
        const RX_EVENT_MERGE = ffi::ef_vi_flags_EF_VI_RX_EVENT_MERGE as u64;
        /// TX alternatives.
        const TX_ALT = ffi::ef_vi_flags_EF_VI_TX_ALT as u64;
        /// Event queue timer.
        const ENABLE_EV_TIMER = ffi::ef_vi_flags_EF_VI_ENABLE_EV_TIMER as u64;
        /// Cut-through PIO transmit.
        const TX_CTPIO = ffi::ef_vi_flags_EF_VI_TX_CTPIO as u64;
        /// CTPIO without poisoning under-run frames.
        const TX_CTPIO_NO_POISON = ffi::ef_vi_flags_EF_VI_TX_CTPIO_NO_POISON as u64;
        /// Zero-copy receive (X3).
        const RX_ZEROCOPY = ffi::ef_vi_flags_EF_VI_RX_ZEROCOPY as u64;
        /// Allow memcpy-based datapaths.
        const ALLOW_MEMCPY = ffi::ef_vi_flags_EF_VI_ALLOW_MEMCPY as u64;
        /// One efct receive queue for the VI.
        const EFCT_UNIQUEUE = ffi::ef_vi_flags_EF_VI_EFCT_UNIQUEUE as u64;
        /// Exclusive receive queue.
        const RX_EXCLUSIVE = ffi::ef_vi_flags_EF_VI_RX_EXCLUSIVE as u64;
        /// PCIe TLP processing hints.
        const ENABLE_TPH = ffi::ef_vi_flags_EF_VI_ENABLE_TPH as u64;
        /// TPH tag mode.
        const TPH_TAG_MODE = ffi::ef_vi_flags_EF_VI_TPH_TAG_MODE as u64;
        /// Report the id of the filter that matched each packet.
        const RX_FILTER_ID = ffi::ef_vi_flags_EF_VI_RX_FILTER_ID as u64;
    }
}

bitflags::bitflags! {
    /// Receive errors that make the NIC discard a packet (`enum ef_vi_rx_discard_err_flags`),
    /// for [`Vi::set_rx_discards`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DiscardFlags: u32 {
        /// Bad TCP/UDP checksum.
        const L4_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR;
        /// Bad IP checksum.
        const L3_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR;
        /// Bad Ethernet FCS.
        const ETH_FCS_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR;
        /// Bad Ethernet length.
        const ETH_LEN_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR;
        /// Marked to be discarded.
        const TOBE_DISC = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_TOBE_DISC;
        /// Bad inner TCP/UDP checksum.
        const INNER_L4_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR;
        /// Bad inner IP checksum.
        const INNER_L3_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR;
    }
}

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
                // SAFETY: `vi` is boxed (it never moves) and zeroed; the PD is live and locked.
                let rc = unsafe {
                    ffi::ef_vi_alloc_from_pd(
                        vi.get(),
                        dh,
                        g.pd,
                        g.dh,
                        self.evq,
                        self.rxq,
                        self.txq,
                        std::ptr::null_mut(),
                        -1,
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
                        self.evq,
                        self.rxq,
                        self.txq,
                        std::ptr::null_mut(),
                        -1,
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
        static NEXT_VI_ID: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
        Ok(Vi {
            id: NEXT_VI_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            mr: region.raw_mr(),
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
    mr: *const ffi::ef_memreg,
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
    _not_sync: PhantomData<Cell<()>>,
}

// SAFETY: the `ef_vi` may be used from any thread as long as one thread at a time uses it;
// `Vi` is not `Sync` and its data path takes `&mut self`. The raw pointers point into
// `core` and the pool, which this value keeps alive.
unsafe impl Send for Vi {}

struct Dec<'a> {
    owner: usize,
    pool: &'a PoolShared,
    prefix: usize,
    tx_failed: &'a mut bool,
}

impl Decoder for Dec<'_> {
    #[inline]
    fn rx_token(&self, id: u32) -> PacketBuf {
        self.pool.token(id)
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

    /// Sends `len` bytes of `buf` from `offset` (for example a received frame, which starts
    /// after the receive prefix): `ef_vi_transmit_init` without the push.
    #[inline]
    pub fn transmit_init_at(
        &mut self,
        buf: PacketBuf,
        offset: usize,
        len: usize,
    ) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, offset, len) {
            return Err(Rejected::new(buf, e));
        }
        let addr = self.dma_addr(&buf) + offset as u64;
        // SAFETY: as in `transmit_init`; `offset + len` lies within the buffer, which does not
        // cross a 4 KiB page, so the DMA addresses are contiguous.
        let rc = unsafe {
            ffi::ef_vi_transmit_init(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit_init", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    #[inline]
    fn dma_addr(&self, buf: &PacketBuf) -> u64 {
        let off = self.pool.offset(buf.index);
        // SAFETY: the token is this pool's, so `off` lies inside the registered memory; `mr`
        // is the registration with this VI's PD, kept alive by `_mr`.
        unsafe { ffi::ef_memreg_dma_addr(self.mr, off) }
    }

    // ---------------------------------------------------------------- receive

    /// Writes an RX descriptor for `buf` (`ef_vi_receive_init`) without telling the NIC;
    /// [`post_push`](Self::post_push) does that for a batch.
    #[inline]
    pub fn post_init(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>> {
        if !self.pool.owns(&buf) {
            return Err(Rejected::new(buf, Error::ForeignBuffer));
        }
        let addr = self.dma_addr(&buf);
        // SAFETY: the VI is live and used by this thread only; `addr` is the buffer's DMA
        // address in memory registered with the VI's PD; the token moves into the ring (its
        // index is the descriptor's id) and comes back only through the completing event.
        let rc =
            unsafe { ffi::ef_vi_receive_init(self.raw, addr, buf.index as ffi::ef_request_id) };
        if rc < 0 {
            let e = if rc == -libc::EAGAIN {
                Error::RingFull {
                    call: "ef_vi_receive_init",
                }
            } else {
                Error::from_rc("ef_vi_receive_init", rc)
            };
            return Err(Rejected::new(buf, e));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Tells the NIC about the descriptors written since the last push (`ef_vi_receive_push`).
    #[inline]
    pub fn post_push(&mut self) {
        // SAFETY: the VI is live and used by this thread only.
        unsafe { ffi::ef_vi_receive_push(self.raw) };
    }

    /// Posts one buffer to the RX ring (init and push).
    #[inline]
    pub fn post(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>> {
        self.post_init(buf)?;
        self.post_push();
        Ok(())
    }

    /// Posts buffers from `pool` until the RX ring holds `max_fill` (at most its capacity) or
    /// the pool is empty, with one push; returns how many were posted.
    pub fn refill(&mut self, pool: &mut BufferPool, max_fill: usize) -> usize {
        let target = max_fill.min(self.rx_capacity());
        let mut n = 0;
        while self.rx_fill_level() < target {
            let Some(buf) = pool.take() else { break };
            match self.post_init(buf) {
                Ok(()) => n += 1,
                Err(r) => {
                    let _ = pool.put(r.buf);
                    break;
                }
            }
        }
        if n > 0 {
            self.post_push();
        }
        n
    }

    /// Free slots in the RX ring (`ef_vi_receive_space`).
    #[inline]
    pub fn rx_space(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_space(self.raw) }.max(0) as usize
    }

    /// Buffers posted to the RX ring and not yet returned (`ef_vi_receive_fill_level`).
    #[inline]
    pub fn rx_fill_level(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_fill_level(self.raw) }.max(0) as usize
    }

    /// The RX ring's capacity (`ef_vi_receive_capacity`).
    #[inline]
    pub fn rx_capacity(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_capacity(self.raw) }.max(0) as usize
    }

    /// Length of the metadata prefix before each received frame (`ef_vi_receive_prefix_len`).
    #[inline]
    pub fn rx_prefix_len(&self) -> usize {
        self.prefix
    }

    /// The frame in a buffer returned by an RX event: `len` bytes from `offset`, bounded by
    /// the buffer.
    #[inline]
    #[track_caller]
    pub fn frame<'a>(&'a self, ev: &'a event::RxEvent) -> &'a [u8] {
        let b = self.pool.bytes(&ev.buf);
        let start = ev.offset().min(b.len());
        let end = start.saturating_add(ev.len()).min(b.len());
        &b[start..end]
    }

    /// The bytes of one of this VI's pool buffers.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes<'a>(&'a self, buf: &'a PacketBuf) -> &'a [u8] {
        self.pool.bytes(buf)
    }

    /// The bytes of one of this VI's pool buffers, to write.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes_mut<'a>(&'a self, buf: &'a mut PacketBuf) -> &'a mut [u8] {
        self.pool.bytes_mut(buf)
    }

    /// Hands back the buffers of an event-merge batch (`ef_vi_receive_unbundle`), calling `f`
    /// for each with its packet length (`ef_vi_receive_get_bytes`); returns how many.
    ///
    /// An event polled from another VI hands back nothing (returns 0).
    pub fn receive_unbundle(&mut self, ev: RxMulti, mut f: impl FnMut(RxPacket)) -> usize {
        if ev.owner != self.id {
            return 0;
        }
        let mut ids = [0 as ffi::ef_request_id; ffi::EF_VI_RECEIVE_BATCH as usize];
        // SAFETY: the event came from this VI's queue (it is not Clone, so this runs once per
        // event); `ids` has room for a batch.
        let n = unsafe { ffi::ef_vi_receive_unbundle(self.raw, &ev.raw.0, ids.as_mut_ptr()) };
        let n = n.clamp(0, ids.len() as c_int) as usize;
        for &id in &ids[..n] {
            let buf = self.pool.token(id as u32);
            let len = if ev.discard().is_none() {
                let mut b: u16 = 0;
                // SAFETY: the buffer was just returned by the ring (its prefix is written);
                // `b` is writable.
                let rc = unsafe {
                    ffi::ef_vi_receive_get_bytes(self.raw, self.pool.ptr(buf.index).cast(), &mut b)
                };
                (rc == 0).then_some(b as usize)
            } else {
                None
            };
            f(RxPacket {
                buf,
                len,
                offset: self.prefix,
            });
        }
        n
    }

    /// The receive timestamp of a packet's first buffer (`ef_vi_receive_get_precise_timestamp`);
    /// needs [`ViFlags::RX_TIMESTAMPS`].
    pub fn rx_timestamp(&mut self, buf: &PacketBuf) -> Result<Timestamp> {
        if !self.flags.contains(ViFlags::RX_TIMESTAMPS) {
            return Err(Error::invalid(
                "the VI was made without ViFlags::RX_TIMESTAMPS",
            ));
        }
        if !self.pool.owns(buf) {
            return Err(Error::ForeignBuffer);
        }
        let mut t = ffi::ef_precisetime::default();
        // SAFETY: the VI has RX timestamps; the buffer is one of its pool's, held by the
        // caller (so not in the ring), and `t` is writable.
        let rc = unsafe {
            ffi::ef_vi_receive_get_precise_timestamp(
                self.raw,
                self.pool.ptr(buf.index).cast(),
                &mut t,
            )
        };
        check("ef_vi_receive_get_precise_timestamp", rc)?;
        Ok(Timestamp::from_precise(&t))
    }

    /// Chooses which receive errors make the NIC discard packets (`ef_vi_receive_set_discards`).
    pub fn set_rx_discards(&mut self, flags: DiscardFlags) -> Result<()> {
        // SAFETY: the VI is live.
        check("ef_vi_receive_set_discards", unsafe {
            ffi::ef_vi_receive_set_discards(self.raw, flags.bits())
        })?;
        Ok(())
    }

    // ---------------------------------------------------------------- events

    /// Polls the event queue (`ef_eventq_poll`), decoding up to `out.len()` events (at most
    /// [`POLL_BATCH`]) into `out`; returns the filled part. Allocates nothing.
    ///
    /// `out` needs at least 2 slots (the library's minimum); with fewer nothing is polled.
    /// Events that return buffers carry them: take them out of the slots (see
    /// [`Event::take`]) before the next poll overwrites them.
    #[inline]
    pub fn poll<'e>(&mut self, out: &'e mut [Event]) -> &'e mut [Event] {
        self.poll_with(out, false)
    }

    /// As [`poll`](Self::poll) but for receive events only (`ef_receive_poll`, adapters with
    /// `EF_VI_CAP_RX_POLL`).
    #[inline]
    pub fn poll_rx<'e>(&mut self, out: &'e mut [Event]) -> &'e mut [Event] {
        self.poll_with(out, true)
    }

    /// Polls the C event queue into a stack array; returns how many events it wrote.
    #[inline(always)]
    fn poll_raw(
        &mut self,
        evs: &mut [MaybeUninit<ffi::ef_event>; POLL_BATCH],
        max: usize,
        rx_only: bool,
    ) -> usize {
        if self.core.pending.load(Ordering::Relaxed) {
            self.remove_dropped_filters();
        }
        let max = max.min(POLL_BATCH);
        if max < ffi::EF_VI_EVENT_POLL_MIN_EVS as usize {
            return 0;
        }
        let p = evs.as_mut_ptr().cast::<ffi::ef_event>();
        // SAFETY: the VI is live and used by this thread only; `evs` has room for `max`
        // events, which the library writes in full before counting them.
        let n = unsafe {
            if rx_only {
                ffi::ef_receive_poll(self.raw, p, max as c_int)
            } else {
                ffi::ef_eventq_poll(self.raw, p, max as c_int)
            }
        };
        n.clamp(0, max as c_int) as usize
    }

    #[inline]
    fn poll_with<'e>(&mut self, out: &'e mut [Event], rx_only: bool) -> &'e mut [Event] {
        let mut evs = [MaybeUninit::<ffi::ef_event>::uninit(); POLL_BATCH];
        let n = self.poll_raw(&mut evs, out.len(), rx_only);
        let mut d = Dec {
            owner: self.id,
            pool: &self.pool,
            prefix: self.prefix,
            tx_failed: &mut self.tx_failed,
        };
        for (slot, e) in out[..n].iter_mut().zip(&evs[..n]) {
            // SAFETY: the first `n` events were written by the library.
            *slot = event::decode(unsafe { e.assume_init_ref() }, &mut d);
        }
        &mut out[..n]
    }

    /// Polls the event queue (`ef_eventq_poll`) for up to `max` events (2 to
    /// [`POLL_BATCH`]) and calls `f` with the VI and each decoded event, in order; returns
    /// how many. Allocates nothing and copies no event: the fastest way to poll, as `f` is
    /// inlined and decodes only the fields it reads.
    ///
    /// `f` may post, transmit and unbundle through the VI it is given, and may even poll
    /// again (events of the inner poll are handled there, before the rest of this batch).
    #[inline]
    pub fn poll_each(&mut self, max: usize, mut f: impl FnMut(&mut Vi, Event)) -> usize {
        let mut evs = [MaybeUninit::<ffi::ef_event>::uninit(); POLL_BATCH];
        let n = self.poll_raw(&mut evs, max, false);
        for e in &evs[..n] {
            let ev = {
                let mut d = Dec {
                    owner: self.id,
                    pool: &self.pool,
                    prefix: self.prefix,
                    tx_failed: &mut self.tx_failed,
                };
                // SAFETY: the first `n` events were written by the library.
                event::decode(unsafe { e.assume_init_ref() }, &mut d)
            };
            f(self, ev);
        }
        n
    }

    /// True when [`poll`](Self::poll) would return events (`ef_eventq_has_event`).
    #[inline]
    pub fn has_event(&self) -> bool {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_eventq_has_event(self.raw) != 0 }
    }

    /// The event queue's capacity (`ef_eventq_capacity`): keep outstanding descriptors below it.
    pub fn evq_capacity(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_eventq_capacity(self.raw) }.max(0) as usize
    }

    /// Arms the VI's interrupt (`ef_vi_prime`), so that the driver handle
    /// ([`AsFd`]) becomes readable when an event arrives; then wait with `poll(2)`/epoll.
    pub fn prime(&mut self) -> Result<()> {
        // SAFETY: the VI is live.
        let cur = unsafe { ffi::ef_eventq_current(self.raw) };
        // SAFETY: the VI and its driver handle are live.
        check("ef_vi_prime", unsafe {
            ffi::ef_vi_prime(self.raw, self.core.dh, cur)
        })?;
        Ok(())
    }

    /// Blocks until the event queue has an event or `timeout` passes (`ef_eventq_wait`;
    /// `None` waits for ever). A timeout is reported as an `ETIMEDOUT`
    /// [`Error::Os`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the VI is live.
        let cur = unsafe { ffi::ef_eventq_current(self.raw) };
        let tv = timeout.map(|t| ffi::timeval {
            tv_sec: t.as_secs().min(i64::MAX as u64) as _,
            tv_usec: t.subsec_micros() as _,
        });
        let tvp = tv.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: the VI and its driver handle are live; `tvp` is null or points to `tv`.
        let rc = unsafe { ffi::ef_eventq_wait(self.raw, self.core.dh, cur, tvp) };
        check("ef_eventq_wait", rc)?;
        Ok(())
    }

    /// Puts a software event with `data` (low 16 bits) into this VI's event queue
    /// (`ef_eventq_put`).
    pub fn put_software_event(&self, data: u16) -> Result<()> {
        // SAFETY: the VI is live.
        let id = unsafe { ffi::ef_vi_resource_id(self.raw) };
        // SAFETY: a plain call on the VI's resource id and the live driver handle.
        check("ef_eventq_put", unsafe {
            ffi::ef_eventq_put(id, self.core.dh, u32::from(data))
        })?;
        Ok(())
    }

    // ---------------------------------------------------------------- transmit

    #[inline]
    fn tx_check(&self, buf: &PacketBuf, offset: usize, len: usize) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        if !self.pool.owns(buf) {
            return Err(Error::ForeignBuffer);
        }
        if len == 0
            || offset
                .checked_add(len)
                .is_none_or(|e| e > self.pool.buf_size)
        {
            return Err(Error::invalid(format!(
                "frame of {len} bytes at offset {offset}: must be non-empty and within the \
                 {}-byte buffer",
                self.pool.buf_size
            )));
        }
        Ok(())
    }

    #[inline]
    fn tx_rc(call: &'static str, rc: c_int) -> Error {
        if rc == -libc::EAGAIN {
            Error::RingFull { call }
        } else {
            Error::from_rc(call, rc)
        }
    }

    /// Writes a TX descriptor for the first `len` bytes of `buf` (`ef_vi_transmit_init`);
    /// [`transmit_push`](Self::transmit_push) sends the batch.
    #[inline]
    pub fn transmit_init(&mut self, buf: PacketBuf, len: usize) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, 0, len) {
            return Err(Rejected::new(buf, e));
        }
        let addr = self.dma_addr(&buf);
        // SAFETY: the VI is live and used by this thread only; `addr..addr+len` lies inside
        // the registered buffer; the token moves into the ring until its completion.
        let rc = unsafe {
            ffi::ef_vi_transmit_init(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit_init", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Sends the descriptors written since the last push (`ef_vi_transmit_push`).
    #[inline]
    pub fn transmit_push(&mut self) {
        // SAFETY: the VI is live and used by this thread only.
        unsafe { ffi::ef_vi_transmit_push(self.raw) };
    }

    /// Sends the first `len` bytes of `buf` (`ef_vi_transmit`); the buffer comes back with
    /// its completion ([`transmit_unbundle`](Self::transmit_unbundle)).
    #[inline]
    pub fn transmit(&mut self, buf: PacketBuf, len: usize) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, 0, len) {
            return Err(Rejected::new(buf, e));
        }
        let addr = self.dma_addr(&buf);
        // SAFETY: as in `transmit_init`.
        let rc = unsafe {
            ffi::ef_vi_transmit(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Sends one packet gathered from several buffers, `(buffer, length)` each
    /// (`ef_vi_transmitv`); all of them come back with its completion.
    pub fn transmitv<const N: usize>(
        &mut self,
        segs: [(PacketBuf, usize); N],
    ) -> Result<(), Rejected<[(PacketBuf, usize); N]>> {
        if N == 0 {
            return Err(Rejected::new(
                segs,
                Error::invalid("transmitv of no buffers"),
            ));
        }
        for (b, l) in &segs {
            if let Err(e) = self.tx_check(b, 0, *l) {
                return Err(Rejected::new(segs, e));
            }
        }
        let iov: [ffi::ef_iovec; N] = std::array::from_fn(|i| ffi::ef_iovec {
            iov_base: self.dma_addr(&segs[i].0),
            iov_len: segs[i].1 as u32,
        });
        let last = segs[N - 1].0.index;
        // SAFETY: the VI is live and used by this thread only; every iovec lies inside a
        // registered buffer whose token moves into the VI (the last id is the packet's).
        let rc = unsafe {
            ffi::ef_vi_transmitv(
                self.raw,
                iov.as_ptr(),
                N as c_int,
                last as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(segs, Self::tx_rc("ef_vi_transmitv", rc)));
        }
        // Only the last descriptor's id comes back: chain the others behind it.
        let mut next = CHAIN_END;
        for (b, _) in segs.iter().take(N - 1) {
            self.chain[b.index as usize] = next;
            next = b.index;
        }
        self.chain[last as usize] = next;
        self.chained |= N > 1;
        // The tokens now live in the ring, as the descriptors' ids.
        Ok(())
    }

    /// Sends the first `len` bytes of `buf` by cut-through PIO (`ef_vi_transmit_ctpio`) and
    /// posts the same buffer as its DMA fallback (`ef_vi_transmit_ctpio_fallback`), as the
    /// SDK requires; `threshold` is the cut-through threshold in bytes
    /// ([`CTPIO_THRESHOLD_SNF`] for store-and-forward). Needs [`ViFlags::TX_CTPIO`].
    pub fn transmit_ctpio(
        &mut self,
        buf: PacketBuf,
        len: usize,
        threshold: u32,
    ) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, 0, len) {
            return Err(Rejected::new(buf, e));
        }
        let addr = self.dma_addr(&buf);
        let p = self.pool.ptr(buf.index);
        // SAFETY: the VI is live; `p..p+len` is the caller's buffer (token held), read by the
        // CTPIO copy during the call.
        unsafe { ffi::ef_vi_transmit_ctpio(self.raw, p.cast(), len, threshold) };
        // SAFETY: as in `transmit_init`.
        let rc = unsafe {
            ffi::ef_vi_transmit_ctpio_fallback(self.raw, addr, len, buf.index as ffi::ef_request_id)
        };
        if rc < 0 {
            return Err(Rejected::new(
                buf,
                Self::tx_rc("ef_vi_transmit_ctpio_fallback", rc),
            ));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Copies `frame` into the linked PIO region at `offset` and sends it
    /// (`ef_vi_transmit_copy_pio`); its completion returns no buffer. `offset` must be a
    /// multiple of 64 and the frame at least 16 bytes.
    pub fn transmit_copy_pio(&mut self, offset: usize, frame: &[u8]) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        self.pio_check(offset, frame.len())?;
        // SAFETY: a PIO is linked; offset and length were checked against its size; `frame`
        // is read during the call.
        let rc = unsafe {
            ffi::ef_vi_transmit_copy_pio(
                self.raw,
                offset as c_int,
                frame.as_ptr().cast(),
                frame.len() as c_int,
                NO_BUF_ID as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Self::tx_rc("ef_vi_transmit_copy_pio", rc));
        }
        Ok(())
    }

    /// Copies `data` into the linked PIO region at `offset` (`ef_pio_memcpy`), for a later
    /// [`transmit_pio`](Self::transmit_pio).
    pub fn pio_write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.pio_check(offset, data.len().max(16))?;
        // SAFETY: a PIO is linked; offset and length were checked against its size; `data` is
        // read during the call.
        let rc = unsafe {
            ffi::ef_pio_memcpy(
                self.raw,
                data.as_ptr().cast(),
                offset as c_int,
                data.len() as c_int,
            )
        };
        check("ef_pio_memcpy", rc)?;
        Ok(())
    }

    /// Sends `len` bytes already in the linked PIO region at `offset`
    /// (`ef_vi_transmit_pio`); the region stays busy until the completion.
    pub fn transmit_pio(&mut self, offset: usize, len: usize) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        self.pio_check(offset, len)?;
        // SAFETY: a PIO is linked; offset and length were checked against its size.
        let rc = unsafe {
            ffi::ef_vi_transmit_pio(
                self.raw,
                offset as c_int,
                len as c_int,
                NO_BUF_ID as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Self::tx_rc("ef_vi_transmit_pio", rc));
        }
        Ok(())
    }

    /// The packed-stream parameters of a VI made with [`ViFlags::RX_PACKED_STREAM`]
    /// (`ef_vi_packed_stream_get_params`).
    pub fn packed_stream_params(&mut self) -> Result<ffi::ef_packed_stream_params> {
        // SAFETY: plain C data; zeroes are a valid initial value.
        let mut p: ffi::ef_packed_stream_params = unsafe { std::mem::zeroed() };
        // SAFETY: the VI is live; `p` is writable.
        check("ef_vi_packed_stream_get_params", unsafe {
            ffi::ef_vi_packed_stream_get_params(self.raw, &mut p)
        })?;
        Ok(p)
    }

    fn pio_check(&self, offset: usize, len: usize) -> Result<()> {
        let size = self.pio_len;
        if size == 0 {
            return Err(Error::invalid("no PIO region is linked to this VI"));
        }
        if offset % 64 != 0 || len < 16 || offset.checked_add(len).is_none_or(|e| e > size) {
            return Err(Error::invalid(format!(
                "PIO send of {len} bytes at {offset}: the offset must be 64-byte aligned, the \
                 length at least 16, and both within the {size}-byte region"
            )));
        }
        Ok(())
    }

    /// Links a PIO region to this VI (`ef_pio_link_vi`); one per VI, unlinked and freed with
    /// the VI.
    pub fn link_pio(&mut self, pio: Pio) -> Result<(), Rejected<Pio>> {
        let mut slot = self.core.pio.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(Rejected::new(
                pio,
                Error::invalid("a PIO region is already linked"),
            ));
        }
        // SAFETY: the PIO and VI are live and use the same driver handle.
        let rc = unsafe { ffi::ef_pio_link_vi(pio.raw(), self.core.dh, self.raw, self.core.dh) };
        if rc < 0 {
            return Err(Rejected::new(pio, Error::from_rc("ef_pio_link_vi", rc)));
        }
        self.pio_len = pio.len();
        *slot = Some(pio);
        Ok(())
    }

    /// Hands back the buffers of a transmit completion (`ef_vi_transmit_unbundle`), calling
    /// `f` for each (all buffers of a `transmitv` packet); returns how many transmits
    /// completed, including those without a buffer (PIO).
    ///
    /// A completion polled from another VI hands back nothing (returns 0).
    #[inline]
    pub fn transmit_unbundle(&mut self, ev: TxComplete, mut f: impl FnMut(PacketBuf)) -> usize {
        if ev.owner != self.id {
            return 0;
        }
        if let Some(id) = ev.single {
            self.hand_back(id, &mut f);
            return 1;
        }
        let mut ids = [0 as ffi::ef_request_id; ffi::EF_VI_TRANSMIT_BATCH as usize];
        // SAFETY: the event came from this VI's queue and is consumed here (not Clone);
        // `ids` has room for a batch.
        let n = unsafe { ffi::ef_vi_transmit_unbundle(self.raw, &ev.raw.0, ids.as_mut_ptr()) };
        let n = n.clamp(0, ids.len() as c_int) as usize;
        for &id in &ids[..n] {
            self.hand_back(id as u32, &mut f);
        }
        n
    }

    #[inline]
    fn hand_back(&mut self, id: u32, f: &mut impl FnMut(PacketBuf)) {
        if id >= self.pool.count {
            return; // a send without a buffer (PIO)
        }
        if self.chained {
            let mut i = id;
            loop {
                let next = std::mem::replace(&mut self.chain[i as usize], CHAIN_END);
                f(self.pool.token(i));
                if next == CHAIN_END {
                    break;
                }
                i = next;
            }
        } else {
            f(self.pool.token(id));
        }
    }

    /// Recovers from an `EF_EVENT_TYPE_TX_ERROR`: hands back every transmit that was lost
    /// (`ef_vi_for_each_tx_error_failed_transmit`), calling `f` for each buffer, then makes
    /// the TX ring usable again (`ef_vi_reinit_txq_post_error`). Returns how many were lost.
    ///
    /// Fails with [`Error::InvalidArgument`] for a failure polled from another VI.
    pub fn recover_tx_error(
        &mut self,
        ev: TxFailure,
        mut f: impl FnMut(PacketBuf),
    ) -> Result<usize> {
        if ev.owner != self.id {
            return Err(Error::invalid("the TX failure was polled from another VI"));
        }
        let mut lost = 0usize;
        let mut ids = [0u32; ffi::EF_VI_TRANSMIT_BATCH as usize];
        loop {
            let mut k = 0usize;
            // SAFETY: the VI is live and used by this thread only; the walk only advances the
            // TX ring's own state.
            unsafe {
                ffi::ef_vi_for_each_tx_error_failed_transmit(self.raw, |id| {
                    if k == ids.len() {
                        return std::ops::ControlFlow::Break(());
                    }
                    ids[k] = id as u32;
                    k += 1;
                    std::ops::ControlFlow::Continue(())
                })
            };
            for &id in &ids[..k] {
                lost += 1;
                self.hand_back(id, &mut f);
            }
            if k < ids.len() {
                break;
            }
        }
        // SAFETY: as above; called once the failed transmits were walked.
        check("ef_vi_reinit_txq_post_error", unsafe {
            ffi::ef_vi_reinit_txq_post_error(self.raw)
        })?;
        self.tx_failed = false;
        Ok(lost)
    }

    /// Free slots in the TX ring (`ef_vi_transmit_space`).
    #[inline]
    pub fn tx_space(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_space(self.raw) }.max(0) as usize
    }

    /// Descriptors in the TX ring not yet completed (`ef_vi_transmit_fill_level`).
    #[inline]
    pub fn tx_fill_level(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_fill_level(self.raw) }.max(0) as usize
    }

    /// The TX ring's capacity (`ef_vi_transmit_capacity`).
    #[inline]
    pub fn tx_capacity(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_capacity(self.raw) }.max(0) as usize
    }

    /// Sets how many descriptors may be pushed with the doorbell (`ef_vi_set_tx_push_threshold`).
    pub fn set_tx_push_threshold(&mut self, n: u32) {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_set_tx_push_threshold(self.raw, n) };
    }

    // ---------------------------------------------------------------- efct (X3/X4)

    /// Borrows the packet of an `RX_REF` event (`efct_vi_rxpkt_get`); the guard releases it
    /// (`efct_vi_rxpkt_release`) when dropped, and borrows the VI until then, so the packet
    /// cannot be read after the next poll.
    pub fn rx_ref(&mut self, r: RxRef) -> Result<RxRefPacket<'_>> {
        if r.owner != self.id {
            return Err(Error::invalid("the packet was polled from another VI"));
        }
        // SAFETY: the id came from this VI's queue.
        let p = unsafe { ffi::efct_vi_rxpkt_get(self.raw, r.pkt_id()) };
        if p.is_null() {
            // SAFETY: as above; the packet is released even though it cannot be read.
            unsafe { ffi::efct_vi_rxpkt_release(self.raw, r.pkt_id()) };
            return Err(Error::from_errno("efct_vi_rxpkt_get", libc::ENOENT));
        }
        Ok(RxRefPacket {
            ptr: p.cast(),
            len: r.len(),
            pkt_id: r.pkt_id(),
            vi: self,
        })
    }

    /// Releases the packet of an `RX_REF` event without reading it (`efct_vi_rxpkt_release`).
    ///
    /// A packet polled from another VI is not released (it is handed back as `Err`).
    pub fn rx_ref_release(&mut self, r: RxRef) -> Result<(), RxRef> {
        if r.owner != self.id {
            return Err(r);
        }
        // SAFETY: the id came from this VI's queue and is released once (RxRef is not Clone).
        unsafe { ffi::efct_vi_rxpkt_release(self.raw, r.pkt_id()) };
        Ok(())
    }

    // ---------------------------------------------------------------- control

    /// Adds a filter steering matching packets to this VI (`ef_vi_filter_add`); the filter is
    /// removed when the returned guard is dropped: at once when dropped while no `Vi` handle
    /// is left, else by this VI's next [`poll`](Self::poll) (or [`remove_dropped_filters`],
    /// or its drop), because ef_vi calls on one VI must not run on two threads.
    ///
    /// [`remove_dropped_filters`]: Self::remove_dropped_filters
    pub fn add_filter(&mut self, spec: &FilterSpec) -> Result<Filter> {
        self.remove_dropped_filters();
        Filter::add(&self.core, spec)
    }

    /// Removes the filters of this VI dropped since the last poll (`ef_vi_filter_del`).
    #[cold]
    pub fn remove_dropped_filters(&mut self) {
        let mut d = self.core.deferred.lock().unwrap_or_else(|e| e.into_inner());
        self.core.remove_filters(&mut d);
    }

    /// Asks the driver about one of this VI's filters (`ef_vi_filter_query`); the C
    /// `ef_filter_info` is returned as it is.
    pub fn filter_info_raw(&mut self, filter: &Filter) -> Result<ffi::ef_filter_info> {
        filter.query(&self.core)
    }

    /// The VI's MAC address (`ef_vi_get_mac`; not cheap: cache it).
    pub fn mac(&self) -> Result<[u8; 6]> {
        let mut mac = [0u8; 6];
        // SAFETY: the VI is live; `mac` has 6 bytes.
        check("ef_vi_get_mac", unsafe {
            ffi::ef_vi_get_mac(self.raw, self.core.dh, mac.as_mut_ptr().cast())
        })?;
        Ok(mac)
    }

    /// The interface's MTU (`ef_vi_mtu`).
    pub fn mtu(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_mtu(self.raw, self.core.dh) }
    }

    /// The VI's statistics counters by name (`ef_vi_stats_query_layout`,
    /// `ef_vi_stats_query`), optionally resetting them.
    pub fn stats(&mut self, reset: bool) -> Result<Vec<(String, u64)>> {
        let mut layout: *const ffi::ef_vi_stats_layout = std::ptr::null();
        // SAFETY: the VI is live; `layout` is writable.
        check("ef_vi_stats_query_layout", unsafe {
            ffi::ef_vi_stats_query_layout(self.raw, &mut layout)
        })?;
        if layout.is_null() {
            return Ok(Vec::new());
        }
        // SAFETY: the library returned a valid layout that lives as long as the VI.
        let (size, fields) = unsafe {
            let l = &*layout;
            (
                l.evsl_data_size.max(0) as usize,
                l.evsl_fields.as_slice(l.evsl_fields_num.max(0) as usize),
            )
        };
        let mut data = vec![0u8; size];
        // SAFETY: `data` has the layout's size.
        check("ef_vi_stats_query", unsafe {
            ffi::ef_vi_stats_query(
                self.raw,
                self.core.dh,
                data.as_mut_ptr().cast(),
                c_int::from(reset),
            )
        })?;
        let mut out = Vec::with_capacity(fields.len());
        for f in fields {
            // SAFETY: field names are C strings owned by the layout.
            let name = unsafe { std::ffi::CStr::from_ptr(f.evsfl_name) }
                .to_string_lossy()
                .into_owned();
            let off = f.evsfl_offset.max(0) as usize;
            let sz = f.evsfl_size.max(0) as usize;
            let v = match data.get(off..off + sz) {
                Some(b) if sz == 4 => {
                    u64::from(u32::from_ne_bytes(b.try_into().unwrap_or_default()))
                }
                Some(b) if sz == 8 => u64::from_ne_bytes(b.try_into().unwrap_or_default()),
                _ => continue,
            };
            out.push((name, v));
        }
        Ok(out)
    }

    /// The flags the VI was made with.
    pub fn flags(&self) -> ViFlags {
        self.flags
    }

    /// The queue id the allocation returned.
    pub fn q_id(&self) -> u32 {
        self.q_id
    }

    /// The VI's instance number (`ef_vi_instance`).
    pub fn instance(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_instance(self.raw) }
    }

    /// The VI's resource id (`ef_vi_resource_id`).
    pub fn resource_id(&self) -> u32 {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_resource_id(self.raw) }
    }

    /// True when the VI was made with the pool `pool`.
    pub fn uses_pool(&self, pool: &BufferPool) -> bool {
        Arc::ptr_eq(&self.pool, &pool.shared)
    }
}

/// The packet of an `RX_REF` event, borrowed from the adapter until dropped
/// (`efct_vi_rxpkt_release`). It borrows the VI mutably, so the VI cannot be polled while it
/// lives.
///
/// ```compile_fail,E0499
/// # fn f(vi: &mut etherfabric::Vi, r: etherfabric::RxRef, evs: &mut [etherfabric::Event]) {
/// let pkt = vi.rx_ref(r).unwrap();
/// vi.poll(evs); // the packet view must end before the next poll
/// let _ = pkt.len();
/// # }
/// ```
#[derive(Debug)]
pub struct RxRefPacket<'vi> {
    ptr: *const u8,
    len: usize,
    pkt_id: u32,
    vi: &'vi mut Vi,
}

impl std::ops::Deref for RxRefPacket<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `efct_vi_rxpkt_get` returned a pointer to the packet, which stays valid until
        // it is released (in `drop`) and which the adapter does not change meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for RxRefPacket<'_> {
    fn drop(&mut self) {
        // SAFETY: the packet was got from this VI and is released once, here.
        unsafe { ffi::efct_vi_rxpkt_release(self.vi.raw, self.pkt_id) };
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

/// [`Vi::transmit_ctpio`]'s threshold for store-and-forward (`EF_VI_CTPIO_CT_THRESHOLD_SNF`).
pub const CTPIO_THRESHOLD_SNF: u32 = ffi::EF_VI_CTPIO_CT_THRESHOLD_SNF;

impl ViSet {
    /// A builder for a VI of this set (`index`: its place in the set, `None` for any free one).
    pub fn vi_builder(&self, index: Option<u32>) -> ViBuilder {
        ViBuilder::new(&self.pd(), Some((self.clone(), index)))
    }
}
