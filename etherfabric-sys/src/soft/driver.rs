//! Driver handles and the version strings.
//!
//! There is no driver: a handle is an epoll descriptor, to which `ef_vi_prime()` adds the
//! descriptors of a VI (its packet sockets and the eventfd of its event queue), so that
//! `poll()` on the handle wakes up when the VI has events, as on an adapter.

use core::ffi::{CStr, c_char, c_int};
use std::os::fd::{FromRawFd, OwnedFd};

use super::errno;
use super::socket::PacketSocket;
use crate::bindings::*;

/// The string `ef_vi_version_str()` returns.
static VERSION: &CStr = match CStr::from_bytes_with_nul(
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
    if let Err(e) = PacketSocket::probe() {
        return e;
    }
    // SAFETY: plain epoll creation.
    let fd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if fd < 0 {
        return -errno();
    }
    // SAFETY: the caller guarantees `dh_out` is writable.
    unsafe { dh_out.write(fd) };
    0
}

/// Closes a driver handle (`-EBADF` when `dh` is no open descriptor).
///
/// # Safety
///
/// `dh` must be a handle from [`ef_driver_open`] that nothing uses afterwards: the
/// descriptor is closed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_driver_close(dh: ef_driver_handle) -> c_int {
    // SAFETY: F_GETFD only asks whether `dh` is an open descriptor.
    if dh < 0 || unsafe { libc::fcntl(dh, libc::F_GETFD) } < 0 {
        return -libc::EBADF;
    }
    // SAFETY: the caller hands the open descriptor over; dropping it closes it.
    drop(unsafe { OwnedFd::from_raw_fd(dh) });
    0
}
