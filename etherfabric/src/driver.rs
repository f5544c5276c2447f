//! The driver handle: the first object of every ef_vi program.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;

use crate::error::{Result, check};
use crate::ffi;

/// An open handle on the ef_vi driver (`ef_driver_open`), closed when the last
/// [`Driver`] clone, protection domain, VI or memory region made from it is dropped.
///
/// Cloning is cheap (an [`Arc`]). A `Driver` is `Send` and `Sync`: the handle is a file
/// descriptor and the calls made through it are serialised by the driver.
#[derive(Debug, Clone)]
pub struct Driver {
    pub(crate) inner: Arc<DriverInner>,
}

#[derive(Debug)]
pub(crate) struct DriverInner {
    pub(crate) dh: ffi::ef_driver_handle,
}

impl Drop for DriverInner {
    fn drop(&mut self) {
        // SAFETY: `dh` was opened by `ef_driver_open` and every object using it holds an `Arc`
        // to this struct, so none is left; it is closed exactly once, here.
        unsafe { ffi::ef_driver_close(self.dh) };
    }
}

/// Opens a driver handle. Every `Driver` is first opened here, so this is the single place
/// where checks that must precede any use of the library (such as comparing the linked
/// library's version with the bindings') belong.
fn open_driver_handle() -> Result<ffi::ef_driver_handle> {
    // Once per process: the linked library cannot change while it runs.
    static VERSION: std::sync::OnceLock<std::result::Result<(), ffi::VersionMismatch>> =
        std::sync::OnceLock::new();
    if let Err(e) = VERSION.get_or_init(ffi::check_linked_version) {
        return Err(crate::Error::VersionMismatch(e.clone()));
    }
    let mut dh: ffi::ef_driver_handle = -1;
    // SAFETY: `dh` is a writable handle slot.
    let rc = unsafe { ffi::ef_driver_open(&mut dh) };
    check("ef_driver_open", rc)?;
    Ok(dh)
}

impl Driver {
    /// Opens the ef_vi driver.
    ///
    /// Fails with [`Error::Permission`](crate::Error::Permission) when the process may not
    /// use it (on the software backend: without `CAP_NET_RAW`).
    pub fn open() -> Result<Driver> {
        let dh = open_driver_handle()?;
        Ok(Driver {
            inner: Arc::new(DriverInner { dh }),
        })
    }

    /// The raw handle, for calls into [`ffi`] (it stays owned by this `Driver`).
    pub fn as_raw(&self) -> ffi::ef_driver_handle {
        self.inner.dh
    }

    /// Reads capability `cap` of interface `ifindex` (`ef_vi_capabilities_get`).
    pub fn capability(&self, ifindex: u32, cap: crate::Capability) -> Result<u64> {
        let ifindex = crate::pd::ifindex_arg(ifindex)?;
        let mut v: std::ffi::c_ulong = 0;
        // SAFETY: the handle is open; `v` is writable.
        let rc = unsafe { ffi::ef_vi_capabilities_get(self.inner.dh, ifindex, cap.0, &mut v) };
        check("ef_vi_capabilities_get", rc)?;
        Ok(v as u64)
    }

    /// Reads capability `cap` of interface `ifindex` for a protection domain that would have
    /// `flags` (`ef_vi_capabilities_get_from_pd_flags`).
    pub fn capability_with_pd_flags(
        &self,
        ifindex: u32,
        flags: crate::PdFlags,
        cap: crate::Capability,
    ) -> Result<u64> {
        let ifindex = crate::pd::ifindex_arg(ifindex)?;
        let mut v: std::ffi::c_ulong = 0;
        // SAFETY: the handle is open; `v` is writable.
        let rc = unsafe {
            ffi::ef_vi_capabilities_get_from_pd_flags(
                self.inner.dh,
                ifindex,
                flags.bits(),
                cap.0,
                &mut v,
            )
        };
        check("ef_vi_capabilities_get_from_pd_flags", rc)?;
        Ok(v as u64)
    }
}

impl AsRawFd for Driver {
    fn as_raw_fd(&self) -> RawFd {
        self.inner.dh
    }
}

impl AsFd for Driver {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor stays open as long as `self.inner` lives, which outlives the
        // borrow of `self`.
        unsafe { BorrowedFd::borrow_raw(self.inner.dh) }
    }
}
