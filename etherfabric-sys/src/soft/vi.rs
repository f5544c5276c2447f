//! The VI: its private state, how an `ef_vi` leads to it, and the queries on it (MTU, MAC,
//! statistics).
//!
//! The `ef_vi` structure is laid out as the library lays it out: the descriptor rings' masks
//! and id arrays, the `ep_state` with the ring pointers the header macros read, the event
//! ring, the `ops` table. The backend's own state of a VI ([`SoftVi`]) hangs off
//! `xdp_kick_context`, a field this architecture (EF10) does not use. The transmit, receive,
//! PIO and polling engines working on it are in `tx.rs`, `rx.rs`, `pio.rs` and `poll.rs`;
//! allocation, freeing and the `ops` table in `vi_alloc.rs`.

use core::ffi::{c_int, c_uint, c_void};
use std::sync::{Arc, Mutex};

use super::evq::{EventQueue, Listing};
use super::filter_table::{Owner, SetPlace, TableView};
use super::pd::PdShared;
use super::set::SetShared;
use super::socket::{PacketSocket, if_ioctl};
use super::stats::Stats;
use super::tx_alt::TxAlts;
use super::{CArray, lock};
use crate::bindings::*;

/// What a VI is attached to: its domain, packet socket, event queue and set, and its
/// counters. Dropping it takes the VI's filters out of the interface's table, its slot out
/// of its set, and its event queue out of the reach of `ef_eventq_put()`.
#[derive(Debug)]
pub(crate) struct ViBase {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub sock: Arc<PacketSocket>,
    /// The VI has an RX ring (its socket receives).
    pub rx: bool,
    pub evq: Arc<Mutex<EventQueue>>,
    pub set: Option<(Arc<SetShared>, SetPlace)>,
    pub stats: Stats,
    /// Held for its `Drop`: the VI's event queue stays reachable by `ef_eventq_put()`.
    pub _listing: Listing,
}

impl Drop for ViBase {
    fn drop(&mut self) {
        self.pd.table.remove_owner(Owner::Vi(self.id));
        if let Some((s, p)) = &self.set {
            s.leave(p.index);
        }
    }
}

/// How a TX descriptor's data is found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum TxKind {
    /// In registered memory at `addr`.
    #[default]
    Dma,
    /// Already sent (PIO, or CTPIO when `ctpio`): only the completion is left.
    Sent,
}

/// A TX descriptor as the backend keeps it.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TxDesc {
    pub addr: u64,
    pub len: u32,
    /// More descriptors of the same packet follow.
    pub more: bool,
    pub kind: TxKind,
    pub ctpio: bool,
    /// The TX alternative selected when the descriptor was written (`None`: the wire).
    pub alt: Option<u32>,
}

/// The private state of a VI, reached through `ef_vi::xdp_kick_context`.
///
/// Invariant: `vi` points to the `ef_vi` whose context this is, which does not move until
/// `ef_vi_free()` drops this state; that `ef_vi`'s `ep_state` and id arrays point into
/// `_state_mem`. The methods below rely on it to reach them.
#[derive(Debug)]
pub(super) struct SoftVi {
    pub(super) base: ViBase,
    pub(super) vi: *mut ef_vi,
    /// Held for its `Drop`: the memory holding `ep_state`, the id arrays and the event ring,
    /// only reached through the pointers in the `ef_vi`.
    pub(super) _state_mem: CArray<u64>,
    pub(super) rx_desc: Box<[u64]>,
    pub(super) tx_desc: Box<[TxDesc]>,
    pub(super) rxq_size: u32,
    pub(super) txq_size: u32,
    pub(super) q_label: u32,
    /// RX descriptors the backend has filled so far.
    pub(super) rx_hw: u32,
    /// TX descriptors sent (or failed) so far.
    pub(super) tx_done: u32,
    /// TX descriptors covered by completion events so far.
    pub(super) tx_evented: u32,
    pub(super) tx_error: bool,
    pub(super) flushed: bool,
    pub(super) warming: bool,
    /// A CTPIO frame went out and waits for its fallback descriptor.
    pub(super) ctpio_sent: bool,
    /// First descriptor covered by the most recent TX event.
    pub(super) tx_ev_start: u32,
    pub(super) view: TableView,
    pub(super) rx_buf: Vec<u8>,
    pub(super) tx_buf: Vec<u8>,
    /// Length of the receive prefix (0, or the length of the receive prefix, see `rx.rs`).
    pub(super) prefix: usize,
    pub(super) flags: ef_vi_flags,
    pub(super) layout: Box<[ef_vi_layout_entry]>,
    /// The VI's TX alternatives, while allocated (see `tx_alt.rs`).
    pub(super) alts: Option<TxAlts>,
}

/// The private state of `vi`, if it is a live VI of this backend.
///
/// # Safety
///
/// `vi` must be null or point to an `ef_vi`; the returned reference must not outlive the VI
/// nor overlap another reference to the same state.
pub(super) unsafe fn ctx<'a>(vi: *const ef_vi) -> Option<&'a mut SoftVi> {
    if vi.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    let p = unsafe { (*vi).xdp_kick_context }.cast::<SoftVi>();
    if p.is_null() {
        None
    } else {
        // SAFETY: a non-null context is the Box<SoftVi> made by alloc_vi, alive until
        // ef_vi_free; the caller guarantees exclusivity.
        Some(unsafe { &mut *p })
    }
}

pub(super) fn flag(flags: ef_vi_flags, f: ef_vi_flags) -> bool {
    flags & f != 0
}

/// The system clock.
pub(super) fn now() -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts
}

pub(super) const SYNC_FLAGS: u32 = EF_VI_SYNC_FLAG_CLOCK_SET | EF_VI_SYNC_FLAG_CLOCK_IN_SYNC;

impl SoftVi {
    pub(super) fn state(&mut self) -> &mut ef_vi_state {
        // SAFETY: ep_state points into `_state_mem`, owned by self.
        unsafe { &mut *(*self.vi).ep_state }
    }

    pub(super) fn rx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `rxq_size` entries inside `_state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_rxq.ids, self.rxq_size as usize) }
    }

    pub(super) fn tx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `txq_size` entries inside `_state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_txq.ids, self.txq_size as usize) }
    }

    pub(super) fn push_event(&self, ev: ef_event) {
        lock(&self.base.evq).push(ev);
    }

    pub(super) fn queued_events(&self) -> usize {
        lock(&self.base.evq).events.len()
    }

    pub(super) fn discard_mask(&self) -> u64 {
        // SAFETY: self.vi is the live VI of this state.
        unsafe { (*self.vi).rx_discard_mask }
    }
}

/// Runs `f` on the state of `vi` and the `n` elements at `p` (`-EINVAL` when `vi` is no VI
/// of this backend).
///
/// # Safety
///
/// As [`ctx`] and [`slice()`].
pub(super) unsafe fn with_slice<T>(
    vi: *const ef_vi,
    p: *const T,
    n: c_int,
    f: impl FnOnce(&mut SoftVi, &[T]) -> c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    match unsafe { (ctx(vi), slice(p, n)) } {
        (Some(sv), s) => f(sv, s),
        (None, _) => -libc::EINVAL,
    }
}

/// The state of `vi` and the event `ev` an unbundle call gets, with `ids` non-null: `None`
/// when `vi` is no VI of this backend, `ev` or `ids` is null, or the VI has no ring of the
/// kind (`ring` gives its size).
///
/// # Safety
///
/// As [`ctx`]; `ev` null or readable.
pub(super) unsafe fn unbundle_args<'a>(
    vi: *mut ef_vi,
    ev: *const ef_event,
    ids: *mut ef_request_id,
    ring: impl Fn(&SoftVi) -> u32,
) -> Option<(&'a mut SoftVi, ef_event)> {
    // SAFETY: guaranteed by the caller.
    let sv = unsafe { ctx(vi) }?;
    if ev.is_null() || ids.is_null() || ring(sv) == 0 {
        return None;
    }
    // SAFETY: readable per the caller.
    Some((sv, unsafe { ev.read() }))
}

/// Converts an iovec array to a slice.
///
/// # Safety
///
/// `iov` must point to `n` elements when `n > 0`.
pub(super) unsafe fn slice<'a, T>(iov: *const T, n: c_int) -> &'a [T] {
    if iov.is_null() || n <= 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { core::slice::from_raw_parts(iov, n as usize) }
    }
}

/// Pacing needs adapter support: not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_pace(_vi: *mut ef_vi, _dh: ef_driver_handle, _val: c_int) -> c_int {
    -libc::EOPNOTSUPP
}

/// The largest frame the interface carries: its MTU plus the Ethernet and VLAN headers
/// (0 on error).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_mtu(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_uint {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return 0;
    };
    match if_ioctl(sv.base.sock.fd(), &sv.base.pd.ifname, libc::SIOCGIFMTU as _) {
        Ok(d) => c_int::from_ne_bytes([d[0], d[1], d[2], d[3]]) as c_uint + 18,
        Err(_) => 0,
    }
}

/// The MAC address of the VI's interface.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `mac_out` writable for 6 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_get_mac(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    mac_out: *mut c_void,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if mac_out.is_null() {
        return -libc::EINVAL;
    }
    match if_ioctl(
        sv.base.sock.fd(),
        &sv.base.pd.ifname,
        libc::SIOCGIFHWADDR as _,
    ) {
        Ok(d) => {
            // SAFETY: `mac_out` is writable for 6 bytes.
            unsafe { core::ptr::copy_nonoverlapping(d[2..8].as_ptr(), mac_out.cast::<u8>(), 6) };
            0
        }
        Err(e) => e,
    }
}

/// Copies the VI's counters into `data` (24 bytes), resetting them if `do_reset`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `data` writable for 24 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_stats_query(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    data: *mut c_void,
    do_reset: c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if data.is_null() {
        return -libc::EINVAL;
    }
    for (i, v) in sv.base.stats.read(do_reset != 0).into_iter().enumerate() {
        // SAFETY: `data` has room for six u32 values.
        unsafe {
            data.cast::<u8>()
                .add(4 * i)
                .cast::<u32>()
                .write_unaligned(v)
        };
    }
    0
}
