//! Filters on VIs.

use core::ffi::{c_int, c_uint};
use std::sync::atomic::Ordering;

use super::filter_table;
use super::filter_table::Matcher;
use super::filter_table::Owner;
use super::socket::apply_memberships;
use super::vi::ViShared;
use super::vi::ctx;
use crate::bindings::*;

/// Re-binds a VI's packet socket to the protocol its own filters need (see
/// `IfaceTable::packet_protocol`), before any frame of a newly added filter can arrive. A VI in
/// a set also receives through the set's filters and keeps every protocol.
pub(super) fn narrow_socket(shared: &ViShared) {
    if !shared.rx || shared.set.is_some() {
        return;
    }
    let proto = shared.pd.table.packet_protocol(Owner::Vi(shared.id));
    if shared.proto.swap(proto, Ordering::Relaxed) == proto {
        return;
    }
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = shared.pd.ifindex;
    // SAFETY: re-binding our own socket to a valid sockaddr_ll; frames already queued stay.
    let rc = unsafe {
        libc::bind(
            shared.sock,
            (&sll as *const libc::sockaddr_ll).cast(),
            core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        // Keep receiving everything rather than miss frames.
        shared.proto.store(0, Ordering::Relaxed);
    }
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
    if fs.is_null() {
        return -libc::EINVAL;
    }
    if sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let fs = unsafe { &*fs };
    let m = match Matcher::from_spec(fs) {
        Ok(m) => m,
        Err(e) => return e,
    };
    match sv
        .shared
        .pd
        .table
        .insert(Owner::Vi(sv.shared.id), m, fs.flags, fs.type_)
    {
        Ok(e) => {
            apply_memberships(&[sv.shared.sock], sv.shared.pd.ifindex, &e.matcher, true);
            filter_table::fill_cookie(cookie, &e);
            narrow_socket(&sv.shared);
            0
        }
        Err(e) => e,
    }
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
    if cookie.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let c = unsafe { *cookie };
    match sv.shared.pd.table.remove(
        Owner::Vi(sv.shared.id),
        c.filter_id,
        c.filter_type as c_uint,
    ) {
        Ok(e) => {
            apply_memberships(&[sv.shared.sock], sv.shared.pd.ifindex, &e.matcher, false);
            narrow_socket(&sv.shared);
            0
        }
        Err(e) => e,
    }
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
    let t = &sv.shared.pd.table;
    let found = t
        .find(
            Owner::Vi(sv.shared.id),
            c.filter_id,
            c.filter_type as c_uint,
        )
        .or_else(|| {
            sv.shared
                .set
                .as_ref()
                .and_then(|(s, _)| t.find(Owner::Set(s.id), c.filter_id, c.filter_type as c_uint))
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
            q_id: sv.shared.id as c_uint,
        });
    }
    0
}
