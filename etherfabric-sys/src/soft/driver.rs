//! Driver handles.

use core::ffi::{CStr, c_char, c_int};

use super::errno;
use super::no_cap_net_raw;
use crate::bindings::*;

/// The string `ef_vi_version_str()` returns.
pub(super) static VERSION: &CStr = match CStr::from_bytes_with_nul(
    concat!(
        "10.0.0 (etherfabric-sys ",
        env!("CARGO_PKG_VERSION"),
        " software backend)\0"
    )
    .as_bytes(),
) {
    Ok(s) => s,
    Err(_) => c"10.0.0 (software backend)",
};

/// Version of this backend: the ef_vi release whose ABI it implements (that of the bindings,
/// `BINDINGS_SDK_RELEASE`), then the crate version.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_version_str() -> *const c_char {
    VERSION.as_ptr()
}

/// The "char driver interface" this build needs: the software backend talks to no driver.
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_driver_interface_str() -> *const c_char {
    c"soft-af_packet".as_ptr()
}

/// Opens a driver handle. Here the handle is an epoll descriptor (see `ef_vi_prime()`), and
/// opening it checks that packet sockets can be opened (`-EPERM` without `CAP_NET_RAW`).
///
/// # Safety
///
/// `dh_out` must be null or point to writable memory for a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_driver_open(dh_out: *mut ef_driver_handle) -> c_int {
    if dh_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: plain socket creation, closed right away.
    let probe = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
    if probe < 0 {
        let e = errno();
        return if e == libc::EPERM || e == libc::EACCES {
            no_cap_net_raw("ef_driver_open")
        } else {
            -e
        };
    }
    // SAFETY: `probe` is a descriptor we own.
    unsafe { libc::close(probe) };
    // SAFETY: plain epoll creation.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return -errno();
    }
    // SAFETY: the caller guarantees `dh_out` is writable.
    unsafe { dh_out.write(fd) };
    0
}

/// Closes a driver handle.
#[unsafe(no_mangle)]
pub extern "C" fn ef_driver_close(dh: ef_driver_handle) -> c_int {
    // SAFETY: closing a descriptor the caller says is a handle it owns.
    if unsafe { libc::close(dh) } < 0 {
        -errno()
    } else {
        0
    }
}
