//! Installing a filter for an owner (a VI or a VI set): its entry in the interface's table,
//! and the packet memberships that make the interface accept its frames.

use core::ffi::{c_int, c_uint};
use std::sync::Arc;

use super::filter_table::{IfaceTable, Matcher, Owner, fill_cookie};
use super::socket::{PacketSocket, add_memberships, drop_memberships};
use crate::bindings::{ef_filter_cookie, ef_filter_spec};

/// Installs the filter `fs` for `owner`, whose receiving sockets are `socks`, and fills in
/// `cookie`. Fails with the errors of `ef_vi_filter_add()`, or the error of a membership the
/// kernel refused (the filter is then not installed).
///
/// # Safety
///
/// `fs` must be null or point to an initialised spec; `cookie` null or writable.
pub(super) unsafe fn install(
    table: &IfaceTable,
    owner: Owner,
    fs: *const ef_filter_spec,
    cookie: *mut ef_filter_cookie,
    socks: &[Arc<PacketSocket>],
) -> c_int {
    if fs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let fs = unsafe { &*fs };
    let m = match Matcher::from_spec(fs) {
        Ok(m) => m,
        Err(e) => return e,
    };
    let e = match table.insert(owner, m, fs.flags, fs.type_) {
        Ok(e) => e,
        Err(e) => return e,
    };
    if let Err(err) = add_memberships(socks, &e.matcher) {
        let _ = table.remove(owner, e.id, e.spec_type);
        return err;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { fill_cookie(cookie, &e) };
    0
}

/// Removes the filter of `cookie` from `owner`, whose receiving sockets are `socks`.
///
/// # Safety
///
/// `cookie` must be null or readable.
pub(super) unsafe fn uninstall(
    table: &IfaceTable,
    owner: Owner,
    cookie: *const ef_filter_cookie,
    socks: &[Arc<PacketSocket>],
) -> c_int {
    if cookie.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let c = unsafe { *cookie };
    match table.remove(owner, c.filter_id, c.filter_type as c_uint) {
        Ok(e) => {
            drop_memberships(socks, &e.matcher);
            0
        }
        Err(e) => e,
    }
}
