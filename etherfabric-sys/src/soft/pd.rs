//! Protection domains: the interface a domain is on, the filter table it shares with the
//! other domains there, and the regions of memory registered with it.
//!
//! There are no application clusters and no virtual ports here: a name given to
//! `ef_pd_alloc_by_name()` is always an interface name.

use core::ffi::{CStr, c_char, c_int, c_uint};
use std::ffi::CString;
use std::sync::{Arc, RwLock};

use super::filter_table::IfaceTable;
use super::socket::if_ioctl_tmp;
use super::{Registry, log_once, new_id};
use crate::bindings::*;

/// A range of memory a protection domain may DMA to and from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub(super) start: usize,
    pub(super) end: usize,
}

/// State of a protection domain shared with its VIs.
#[derive(Debug)]
pub(crate) struct PdShared {
    pub ifindex: c_int,
    pub ifname: CString,
    pub loopback: bool,
    pub table: Arc<IfaceTable>,
    regions: RwLock<Vec<Region>>,
}

impl PdShared {
    /// Lets the domain's VIs reach `r`.
    pub(crate) fn add_region(&self, r: Region) {
        self.regions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .push(r);
    }

    /// Takes back one registration of `r`.
    pub(crate) fn remove_region(&self, r: Region) {
        let mut regions = self.regions.write().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = regions.iter().position(|x| *x == r) {
            regions.remove(i);
        }
    }

    /// True when `[addr, addr + len)` lies in memory registered with this domain.
    pub(crate) fn dma_ok(&self, addr: u64, len: usize) -> bool {
        let Ok(a) = usize::try_from(addr) else {
            return false;
        };
        let Some(end) = a.checked_add(len) else {
            return false;
        };
        self.regions
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .any(|r| r.start <= a && end <= r.end)
    }
}

/// The protection domains not yet freed, by resource id.
static PDS: Registry<u32, Arc<PdShared>> = Registry::new();

/// The PD behind an `ef_pd` (`-EINVAL` for null or one not allocated here).
///
/// # Safety
///
/// `pd` must be null or point to a readable `ef_pd`.
pub(crate) unsafe fn pd_of(pd: *const ef_pd) -> Result<Arc<PdShared>, c_int> {
    if pd.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: readable per the caller.
    let id = unsafe { (*pd).pd_resource_id };
    PDS.lock().get(&id).cloned().ok_or(-libc::EINVAL)
}

/// Allocates a domain on the interface `ifname`.
///
/// # Safety
///
/// `pd` must be null or point to writable memory for an `ef_pd`.
unsafe fn pd_alloc_common(pd: *mut ef_pd, ifname: CString, flags: ef_pd_flags) -> c_int {
    if pd.is_null() {
        return -libc::EINVAL;
    }
    let unsupported = ef_pd_flags_EF_PD_PHYS_MODE
        | ef_pd_flags_EF_PD_RX_PACKED_STREAM
        | ef_pd_flags_EF_PD_VPORT
        | ef_pd_flags_EF_PD_EXPRESS;
    if flags & unsupported != 0 {
        log_once(
            "pd_flags",
            "EF_PD_PHYS_MODE, EF_PD_RX_PACKED_STREAM, EF_PD_VPORT and EF_PD_EXPRESS are not \
             supported by the software backend",
        );
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: `ifname` is a valid C string.
    let ifindex = unsafe { libc::if_nametoindex(ifname.as_ptr()) } as c_int;
    if ifindex == 0 {
        return -libc::ENODEV;
    }
    let loopback = match if_ioctl_tmp(&ifname, libc::SIOCGIFFLAGS as _) {
        Ok(d) => i16::from_ne_bytes([d[0], d[1]]) as c_int & libc::IFF_LOOPBACK != 0,
        Err(e) => return e,
    };
    let id = new_id();
    let shared = Arc::new(PdShared {
        ifindex,
        ifname,
        loopback,
        table: IfaceTable::of_interface(ifindex),
        regions: RwLock::new(Vec::new()),
    });
    // The name stays valid while the domain's state lives (at least until ef_pd_free()).
    let name_ptr = shared.ifname.as_ptr().cast_mut();
    PDS.lock().insert(id, shared);
    // SAFETY: the caller guarantees `pd` is writable.
    unsafe {
        pd.write(ef_pd {
            pd_flags: flags,
            pd_resource_id: id,
            pd_intf_name: name_ptr,
            pd_cluster_name: core::ptr::null_mut(),
            pd_cluster_sock: -1,
            pd_cluster_dh: -1,
            pd_cluster_viset_resource_id: 0,
            pd_cluster_viset_index: -1,
        });
    }
    0
}

/// Allocates a protection domain on the interface with index `ifindex`.
///
/// # Safety
///
/// `pd` must point to writable memory for an `ef_pd`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_alloc(
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    ifindex: c_int,
    flags: ef_pd_flags,
) -> c_int {
    let mut buf = [0 as c_char; libc::IF_NAMESIZE];
    if ifindex <= 0 {
        return -libc::ENODEV;
    }
    // SAFETY: `buf` has IF_NAMESIZE bytes as if_indextoname requires.
    let name = unsafe { libc::if_indextoname(ifindex as c_uint, buf.as_mut_ptr()) };
    if name.is_null() {
        return -libc::ENODEV;
    }
    // SAFETY: if_indextoname wrote a NUL-terminated name.
    let name = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_owned();
    // SAFETY: forwarded guarantee on `pd`.
    unsafe { pd_alloc_common(pd, name, flags) }
}

/// Allocates a protection domain on the named interface. There are no application clusters
/// in the software backend, so the name is always an interface name.
///
/// # Safety
///
/// `pd` must point to writable memory for an `ef_pd` and `name` to a C string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_alloc_by_name(
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    name: *const c_char,
    flags: ef_pd_flags,
) -> c_int {
    if name.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a C string.
    let name = unsafe { CStr::from_ptr(name) }.to_owned();
    if name.as_bytes().len() >= libc::IF_NAMESIZE {
        return -libc::ENODEV;
    }
    // SAFETY: forwarded guarantee on `pd`.
    unsafe { pd_alloc_common(pd, name, flags) }
}

/// Virtual ports need full-featured adapter firmware: not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_pd_alloc_with_vport(
    _pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    _intf_name: *const c_char,
    _flags: ef_pd_flags,
    _vlan_id: c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// The interface name of a protection domain.
///
/// # Safety
///
/// `pd` must point to an allocated `ef_pd`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_interface_name(pd: *mut ef_pd) -> *const c_char {
    if pd.is_null() {
        return core::ptr::null();
    }
    // SAFETY: the caller guarantees a valid `ef_pd`.
    unsafe { (*pd).pd_intf_name }
}

/// Frees a protection domain.
///
/// # Safety
///
/// `pd` must point to an `ef_pd` allocated by this backend and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pd_free(pd: *mut ef_pd, _pd_dh: ef_driver_handle) -> c_int {
    if pd.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a valid `ef_pd`.
    let id = unsafe { (*pd).pd_resource_id };
    // The domain's state (and its interface name) lives on while VIs or registered memory
    // still hold it.
    if PDS.lock().remove(&id).is_none() {
        return -libc::EINVAL;
    }
    // SAFETY: as above, `pd` is writable.
    unsafe { (*pd).pd_intf_name = core::ptr::null_mut() };
    0
}
