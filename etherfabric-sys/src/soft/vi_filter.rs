//! Filters on VIs: `ef_vi_filter_add()`, `_del()` and `_query()`. The filter table itself,
//! and how a frame is matched, is in `filter_table.rs`.

use core::ffi::{c_int, c_uint};

use super::filter_table::Owner;
use super::steering::{install, uninstall};
use super::vi::{ViBase, ctx};
use crate::bindings::*;

/// Re-binds a VI's packet socket to the protocol its own filters need (see
/// `IfaceTable::packet_protocol`), before any frame of a newly added filter can arrive. A VI in
/// a set also receives through the set's filters and keeps every protocol.
fn narrow_socket(base: &ViBase) {
    if !base.rx || base.set.is_some() {
        return;
    }
    base.sock
        .narrow_to(base.pd.table.packet_protocol(Owner::Vi(base.id)));
}

/// Adds a filter steering matching frames to `vi`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `fs` an initialised spec, `cookie` null or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_add(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    fs: *const ef_filter_spec,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if fs.is_null() || sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    let b = &sv.base;
    // SAFETY: forwarded guarantees on `fs` and `cookie`.
    let rc = unsafe {
        install(
            &b.pd.table,
            Owner::Vi(b.id),
            fs,
            cookie,
            core::slice::from_ref(&b.sock),
        )
    };
    if rc == 0 {
        narrow_socket(b);
    }
    rc
}

/// Removes a filter from `vi`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `cookie` a cookie from [`ef_vi_filter_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_del(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    let b = &sv.base;
    // SAFETY: forwarded guarantee on `cookie`.
    let rc = unsafe {
        uninstall(
            &b.pd.table,
            Owner::Vi(b.id),
            cookie,
            core::slice::from_ref(&b.sock),
        )
    };
    if rc == 0 {
        narrow_socket(b);
    }
    rc
}

/// Describes an installed filter: its id and the RX queue (the VI's instance) it feeds.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `cookie` readable and `info` writable for
/// `info_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_query(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    cookie: *const ef_filter_cookie,
    info: *mut ef_filter_info,
    info_len: usize,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if cookie.is_null() || info.is_null() || info_len < core::mem::size_of::<ef_filter_info>() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let c = unsafe { *cookie };
    let t = &sv.base.pd.table;
    let found =
        t.find(Owner::Vi(sv.base.id), c.filter_id, c.filter_type as c_uint)
            .or_else(|| {
                sv.base.set.as_ref().and_then(|(s, _)| {
                    t.find(Owner::Set(s.id), c.filter_id, c.filter_type as c_uint)
                })
            });
    let Some(e) = found else {
        return -libc::ENOENT;
    };
    // SAFETY: writable per the caller.
    unsafe {
        info.write(ef_filter_info {
            valid_fields: u64::from(
                ef_filter_info_fields_EF_FILTER_FIELD_ID
                    | ef_filter_info_fields_EF_FILTER_FIELD_QUEUE,
            ),
            flags: 0,
            filter_id: e.id as c_uint,
            q_id: sv.base.id as c_uint,
        });
    }
    0
}
