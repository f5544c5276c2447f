//! The VI: its private state and the queries on it.

use core::ffi::{c_int, c_uint, c_void};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};

use super::evq::EventQueue;
use super::filter_table::SetPlace;
use super::filter_table::TableView;
use super::lock;
use super::pd::PdShared;
use super::set::SetShared;
use super::socket::if_ioctl;
use super::stats::Stats;
use super::tx::TxDesc;
use crate::bindings::*;

/// The part of a VI other threads may reach through the registry.
#[derive(Debug)]
pub(crate) struct ViShared {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub sock: c_int,
    pub rx: bool,
    pub evq: Arc<Mutex<EventQueue>>,
    pub set: Option<(Arc<SetShared>, SetPlace)>,
    pub stats: Stats,
    /// The protocol the packet socket is bound to (network order), see [`narrow_socket`].
    pub proto: AtomicU16,
}

impl ViShared {
    /// Queues a software event (from any thread).
    pub(crate) fn inject(&self, data: c_uint) {
        let mut ev = ef_event::default();
        // SAFETY: `sw` is a plain-integer member of the event union.
        unsafe {
            ev.sw.set_type(EF_EVENT_TYPE_SW);
            ev.sw.data = data;
        }
        let mut q = lock(&self.evq);
        q.events.push_back(ev);
        if !q.signalled {
            q.signal();
        }
    }
}

impl Drop for ViShared {
    fn drop(&mut self) {
        // SAFETY: the packet socket is owned by this VI.
        unsafe { libc::close(self.sock) };
    }
}

/// The private state of a VI, reached through `ef_vi::xdp_kick_context`.
#[derive(Debug)]
pub(super) struct SoftVi {
    pub(super) shared: Arc<ViShared>,
    pub(super) vi: *mut ef_vi,
    /// The allocation holding `ep_state`, the id arrays and the event ring (from
    /// `Box::into_raw`, freed on drop; only reached through the pointers in the `ef_vi`).
    pub(super) state_mem: *mut [u64],
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
    pub(super) prefix: usize,
    pub(super) flags: ef_vi_flags,
    pub(super) layout: Box<[ef_vi_layout_entry]>,
}

impl Drop for SoftVi {
    fn drop(&mut self) {
        // SAFETY: `state_mem` came from Box::into_raw in alloc_vi and is freed only here.
        drop(unsafe { Box::from_raw(self.state_mem) });
    }
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
        // SAFETY: ep_state points into `state_mem`, owned by self.
        unsafe { &mut *(*self.vi).ep_state }
    }

    pub(super) fn rx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `rxq_size` entries inside `state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_rxq.ids, self.rxq_size as usize) }
    }

    pub(super) fn tx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `txq_size` entries inside `state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_txq.ids, self.txq_size as usize) }
    }

    pub(super) fn push_event(&self, ev: ef_event) {
        lock(&self.shared.evq).push(ev);
    }

    pub(super) fn queued_events(&self) -> usize {
        lock(&self.shared.evq).events.len()
    }

    pub(super) fn discard_mask(&self) -> u64 {
        // SAFETY: self.vi is the live VI of this state.
        unsafe { (*self.vi).rx_discard_mask }
    }
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
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_pace(_vi: *mut ef_vi, _dh: ef_driver_handle, _val: c_int) -> c_int {
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
    match if_ioctl(sv.shared.sock, &sv.shared.pd.ifname, libc::SIOCGIFMTU as _) {
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
        sv.shared.sock,
        &sv.shared.pd.ifname,
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
    let s = &sv.shared.stats;
    let all = [
        &s.rx_frames,
        &s.rx_nodesc_drops,
        &s.rx_trunc,
        &s.rx_csum_errors,
        &s.tx_frames,
        &s.tx_drops,
    ];
    for (i, c) in all.iter().enumerate() {
        let v = if do_reset != 0 {
            c.swap(0, Ordering::Relaxed)
        } else {
            c.load(Ordering::Relaxed)
        };
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
