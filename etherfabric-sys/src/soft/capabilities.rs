//! Capabilities: what `ef_vi_capabilities_get()` and its siblings report for the software
//! backend (the same for every interface), and the capability names.
//!
//! Features the backend does not have read 0 (or `-EOPNOTSUPP` for their parameters), so an
//! application that checks capabilities first takes its fallback path: packed stream,
//! virtual ports, physical addressing, EFCT receive, pacing. Timestamping reads
//! as present: the timestamps are the system clock's, taken in software.

use core::ffi::{CStr, c_char, c_int, c_ulong};

use super::pd::pd_of;
use super::pio::PIO_SIZE;
use super::tx_alt;
use crate::bindings::*;

/// Names of the capabilities, indexed by `ef_vi_capability`.
static CAP_NAMES: [&CStr; 58] = [
    c"EF_VI_CAP_PIO",
    c"EF_VI_CAP_PIO_BUFFER_SIZE",
    c"EF_VI_CAP_PIO_BUFFER_COUNT",
    c"EF_VI_CAP_HW_MULTICAST_LOOPBACK",
    c"EF_VI_CAP_HW_MULTICAST_REPLICATION",
    c"EF_VI_CAP_HW_RX_TIMESTAMPING",
    c"EF_VI_CAP_HW_TX_TIMESTAMPING",
    c"EF_VI_CAP_PACKED_STREAM",
    c"EF_VI_CAP_PACKED_STREAM_BUFFER_SIZES",
    c"EF_VI_CAP_VPORTS",
    c"EF_VI_CAP_PHYS_MODE",
    c"EF_VI_CAP_BUFFER_MODE",
    c"EF_VI_CAP_MULTICAST_FILTER_CHAINING",
    c"EF_VI_CAP_MAC_SPOOFING",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_IP_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP6_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP6_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UDP6_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_TCP6_FULL",
    c"EF_VI_CAP_RX_FILTER_TYPE_IP6_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL",
    c"EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL_VLAN",
    c"EF_VI_CAP_RX_FILTER_TYPE_UCAST_ALL",
    c"EF_VI_CAP_RX_FILTER_TYPE_MCAST_ALL",
    c"EF_VI_CAP_RX_FILTER_TYPE_UCAST_MISMATCH",
    c"EF_VI_CAP_RX_FILTER_TYPE_MCAST_MISMATCH",
    c"EF_VI_CAP_RX_FILTER_TYPE_SNIFF",
    c"EF_VI_CAP_TX_FILTER_TYPE_SNIFF",
    c"EF_VI_CAP_RX_FILTER_IP4_PROTO",
    c"EF_VI_CAP_RX_FILTER_ETHERTYPE",
    c"EF_VI_CAP_RXQ_SIZES",
    c"EF_VI_CAP_TXQ_SIZES",
    c"EF_VI_CAP_EVQ_SIZES",
    c"EF_VI_CAP_ZERO_RX_PREFIX",
    c"EF_VI_CAP_TX_PUSH_ALWAYS",
    c"EF_VI_CAP_NIC_PACE",
    c"EF_VI_CAP_RX_MERGE",
    c"EF_VI_CAP_TX_ALTERNATIVES",
    c"EF_VI_CAP_TX_ALTERNATIVES_VFIFOS",
    c"EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS",
    c"EF_VI_CAP_RX_FW_VARIANT",
    c"EF_VI_CAP_TX_FW_VARIANT",
    c"EF_VI_CAP_CTPIO",
    c"EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE",
    c"EF_VI_CAP_RX_FORCE_EVENT_MERGING",
    c"EF_VI_CAP_MIN_BUFFER_MODE_SIZE",
    c"EF_VI_CAP_CTPIO_ONLY",
    c"EF_VI_CAP_RX_SHARED",
    c"EF_VI_CAP_RX_FILTER_SET_DEST",
    c"EF_VI_CAP_RX_FILTER_MAC_IP4_PROTO",
    c"EF_VI_CAP_RX_POLL",
    c"EF_VI_CAP_RX_REF",
    c"EF_VI_CAP_EXTRA_DATAPATHS",
    c"EF_VI_CAP_RX_FILTER_ID",
];

/// Ring sizes the backend accepts, as the bit mask of sizes the capability reports.
const RING_SIZES: c_ulong = 512 | 1024 | 2048 | 4096;
const EVQ_SIZES: c_ulong = 512 | 1024 | 2048 | 4096 | 8192 | 16384 | 32768;

/// What the software backend can do. `Ok(v)` answers the query; `Err(-EOPNOTSUPP)` means the
/// feature (and so any numeric parameter of it) does not exist here.
fn capability(cap: ef_vi_capability) -> Result<c_ulong, c_int> {
    const YES: Result<c_ulong, c_int> = Ok(1);
    const NO: Result<c_ulong, c_int> = Ok(0);
    match cap {
        ef_vi_capability_EF_VI_CAP_PIO => YES,
        ef_vi_capability_EF_VI_CAP_PIO_BUFFER_SIZE => Ok(PIO_SIZE as c_ulong),
        ef_vi_capability_EF_VI_CAP_PIO_BUFFER_COUNT => Ok(16),
        ef_vi_capability_EF_VI_CAP_HW_MULTICAST_LOOPBACK => YES,
        ef_vi_capability_EF_VI_CAP_HW_MULTICAST_REPLICATION => YES,
        // Timestamps are available, taken from the system clock in software.
        ef_vi_capability_EF_VI_CAP_HW_RX_TIMESTAMPING => YES,
        ef_vi_capability_EF_VI_CAP_HW_TX_TIMESTAMPING => YES,
        ef_vi_capability_EF_VI_CAP_PACKED_STREAM => NO,
        ef_vi_capability_EF_VI_CAP_PACKED_STREAM_BUFFER_SIZES => Err(-libc::EOPNOTSUPP),
        ef_vi_capability_EF_VI_CAP_VPORTS => NO,
        ef_vi_capability_EF_VI_CAP_PHYS_MODE => NO,
        ef_vi_capability_EF_VI_CAP_BUFFER_MODE => NO,
        ef_vi_capability_EF_VI_CAP_MULTICAST_FILTER_CHAINING => NO,
        ef_vi_capability_EF_VI_CAP_MAC_SPOOFING => YES,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_IP_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP6_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP6_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UDP6_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_TCP6_FULL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_IP6_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_ETH_LOCAL_VLAN
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UCAST_ALL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_MCAST_ALL
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_UCAST_MISMATCH
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_MCAST_MISMATCH
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_TYPE_SNIFF
        | ef_vi_capability_EF_VI_CAP_TX_FILTER_TYPE_SNIFF
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_IP4_PROTO
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_ETHERTYPE
        | ef_vi_capability_EF_VI_CAP_RX_FILTER_MAC_IP4_PROTO => YES,
        ef_vi_capability_EF_VI_CAP_RXQ_SIZES | ef_vi_capability_EF_VI_CAP_TXQ_SIZES => {
            Ok(RING_SIZES)
        }
        ef_vi_capability_EF_VI_CAP_EVQ_SIZES => Ok(EVQ_SIZES),
        ef_vi_capability_EF_VI_CAP_ZERO_RX_PREFIX => YES,
        ef_vi_capability_EF_VI_CAP_TX_PUSH_ALWAYS => YES,
        ef_vi_capability_EF_VI_CAP_NIC_PACE => NO,
        ef_vi_capability_EF_VI_CAP_RX_MERGE => YES,
        // TX alternatives: see `tx_alt.rs`.
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES => YES,
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_VFIFOS => Ok(c_ulong::from(tx_alt::VFIFOS)),
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS => {
            Ok(c_ulong::from(tx_alt::CP_BUFFERS))
        }
        ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE => {
            Ok(c_ulong::from(tx_alt::CP_BUFFER_SIZE))
        }
        ef_vi_capability_EF_VI_CAP_RX_FW_VARIANT | ef_vi_capability_EF_VI_CAP_TX_FW_VARIANT => {
            Err(-libc::EOPNOTSUPP)
        }
        ef_vi_capability_EF_VI_CAP_CTPIO => YES,
        ef_vi_capability_EF_VI_CAP_RX_FORCE_EVENT_MERGING => NO,
        // Buffers are registered and addressed per 4 KiB page.
        ef_vi_capability_EF_VI_CAP_MIN_BUFFER_MODE_SIZE => Ok(4096),
        ef_vi_capability_EF_VI_CAP_CTPIO_ONLY => NO,
        ef_vi_capability_EF_VI_CAP_RX_SHARED => NO,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_SET_DEST => NO,
        // ef_receive_poll() works, but RX_POLL promises RX_REF events, which are not produced.
        ef_vi_capability_EF_VI_CAP_RX_POLL => NO,
        ef_vi_capability_EF_VI_CAP_RX_REF => NO,
        ef_vi_capability_EF_VI_CAP_EXTRA_DATAPATHS => NO,
        ef_vi_capability_EF_VI_CAP_RX_FILTER_ID => YES,
        _ => Err(-libc::EINVAL),
    }
}

/// Writes the answer to `cap` to `value` (0 when the feature does not exist here).
///
/// # Safety
///
/// `value` must be null or writable.
unsafe fn answer(cap: ef_vi_capability, value: *mut c_ulong) -> c_int {
    if value.is_null() {
        return -libc::EINVAL;
    }
    match capability(cap) {
        Ok(v) => {
            // SAFETY: checked non-null; the caller guarantees it is writable.
            unsafe { value.write(v) };
            0
        }
        Err(e) => {
            // SAFETY: as above.
            unsafe { value.write(0) };
            e
        }
    }
}

/// Queries a capability of the interface `ifindex` (the same for every interface here).
///
/// # Safety
///
/// `value` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_capabilities_get(
    _handle: ef_driver_handle,
    ifindex: c_int,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    if ifindex <= 0 {
        return -libc::ENODEV;
    }
    // SAFETY: `value` is null or writable, per the caller.
    unsafe { answer(cap, value) }
}

/// Queries a capability of a protection domain's interface.
///
/// # Safety
///
/// `pd` must be an allocated domain and `value` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_capabilities_get(
    _handle: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    // SAFETY: `pd` is null or an `ef_pd`, per the caller.
    if let Err(e) = unsafe { pd_of(pd) } {
        return e;
    }
    // SAFETY: `value` is null or writable, per the caller.
    unsafe { answer(cap, value) }
}

/// Queries a capability as it would be for a domain allocated with `pd_flags` (the flags
/// change nothing here).
///
/// # Safety
///
/// `value` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_capabilities_get_from_pd_flags(
    handle: ef_driver_handle,
    ifindex: c_int,
    _pd_flags: ef_pd_flags,
    cap: ef_vi_capability,
    value: *mut c_ulong,
) -> c_int {
    // SAFETY: forwarded guarantee on `value`.
    unsafe { ef_vi_capabilities_get(handle, ifindex, cap, value) }
}

/// The number of capabilities (`EF_VI_CAP_MAX`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_capabilities_max() -> c_int {
    ef_vi_capability_EF_VI_CAP_MAX as c_int
}

/// The name of a capability (`"EF_VI_CAP_PIO"`, ...), or NULL for an unknown one.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_capabilities_name(cap: ef_vi_capability) -> *const c_char {
    CAP_NAMES
        .get(cap as usize)
        .map_or(core::ptr::null(), |n| n.as_ptr())
}
