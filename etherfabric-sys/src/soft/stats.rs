//! Statistics: the counters `ef_vi_stats_query()` reports and their layout.
//!
//! An adapter counts in hardware per port; here each VI counts what the backend did for it:
//! frames delivered, frames dropped for want of a posted buffer, truncated frames, frames with
//! a bad checksum, frames sent and frames the kernel refused.

use core::ffi::c_int;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::bindings::*;

/// Counters reported by `ef_vi_stats_query()`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(super) rx_frames: AtomicU32,
    pub(super) rx_nodesc_drops: AtomicU32,
    pub(super) rx_trunc: AtomicU32,
    pub(super) rx_csum_errors: AtomicU32,
    pub(super) tx_frames: AtomicU32,
    pub(super) tx_drops: AtomicU32,
}

/// Adds one to a counter.
pub(super) fn bump(c: &AtomicU32) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Stats {
    /// The counters in the order of [`STATS_LAYOUT`], set back to 0 when `reset`.
    pub(super) fn read(&self, reset: bool) -> [u32; 6] {
        [
            &self.rx_frames,
            &self.rx_nodesc_drops,
            &self.rx_trunc,
            &self.rx_csum_errors,
            &self.tx_frames,
            &self.tx_drops,
        ]
        .map(|c| {
            if reset {
                c.swap(0, Ordering::Relaxed)
            } else {
                c.load(Ordering::Relaxed)
            }
        })
    }
}

/// `ef_vi_stats_layout` with its fields.
#[repr(C)]
struct StatsLayout {
    pub(super) data_size: c_int,
    pub(super) fields_num: c_int,
    pub(super) fields: [ef_vi_stats_field_layout; 6],
}

/// The layout holds pointers to static strings only.
struct SyncLayout(StatsLayout);
// SAFETY: the layout is immutable and points to static, immutable strings.
unsafe impl Sync for SyncLayout {}

const fn field(name: &'static core::ffi::CStr, i: c_int) -> ef_vi_stats_field_layout {
    ef_vi_stats_field_layout {
        evsfl_name: name.as_ptr().cast_mut(),
        evsfl_offset: 4 * i,
        evsfl_size: 4,
    }
}

static STATS_LAYOUT: SyncLayout = SyncLayout(StatsLayout {
    data_size: 24,
    fields_num: 6,
    fields: [
        field(c"rx_frames", 0),
        field(c"rx_nodesc_drops", 1),
        field(c"rx_trunc", 2),
        field(c"rx_csum_errors", 3),
        field(c"tx_frames", 4),
        field(c"tx_drops", 5),
    ],
});

/// The layout of the statistics `ef_vi_stats_query()` returns (six 32-bit counters).
///
/// # Safety
///
/// `layout_out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_stats_query_layout(
    _vi: *mut ef_vi,
    layout_out: *mut *const ef_vi_stats_layout,
) -> c_int {
    if layout_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: writable per the caller.
    unsafe { *layout_out = (&STATS_LAYOUT.0 as *const StatsLayout).cast() };
    0
}
