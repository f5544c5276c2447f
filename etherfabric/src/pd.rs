//! Protection domains: the NIC-side context that owns memory registrations and VIs.

use std::cell::UnsafeCell;
use std::ffi::{CStr, CString};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::driver::Driver;
use crate::error::{Error, Result, check};
use crate::ffi;

bitflags::bitflags! {
    /// Flags of a protection domain (`enum ef_pd_flags`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PdFlags: u32 {
        /// Use a virtual function (SR-IOV).
        const VF = ffi::ef_pd_flags_EF_PD_VF;
        /// Physical addressing mode: DMA addresses are physical addresses.
        const PHYS_MODE = ffi::ef_pd_flags_EF_PD_PHYS_MODE;
        /// Packed-stream receive (needs huge pages).
        const RX_PACKED_STREAM = ffi::ef_pd_flags_EF_PD_RX_PACKED_STREAM;
        /// Allocate a virtual port.
        const VPORT = ffi::ef_pd_flags_EF_PD_VPORT;
        /// Loop multicast sent by this PD back to receivers on the same port.
        const MCAST_LOOP = ffi::ef_pd_flags_EF_PD_MCAST_LOOP;
        /// Register memory in 64 KiB chunks.
        const MEMREG_64KIB = ffi::ef_pd_flags_EF_PD_MEMREG_64KiB;
        /// Ignore the driver's interface blacklist.
        const IGNORE_BLACKLIST = ffi::ef_pd_flags_EF_PD_IGNORE_BLACKLIST;
        /// Use the X3/X4 "express" (low-latency, efct) datapath.
        const EXPRESS = ffi::ef_pd_flags_EF_PD_EXPRESS;
    }
}

/// A capability that can be queried (`enum ef_vi_capability`), for example
/// [`Capability::PIO`]; any value of the C enum can be wrapped, and [`Capability::name`]
/// gives the library's name for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Capability(pub ffi::ef_vi_capability);

impl Capability {
    /// Programmed I/O transmit is available.
    pub const PIO: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_PIO);
    /// Size of a PIO buffer.
    pub const PIO_BUFFER_SIZE: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_PIO_BUFFER_SIZE);
    /// Hardware RX timestamps.
    pub const HW_RX_TIMESTAMPING: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_HW_RX_TIMESTAMPING);
    /// Hardware TX timestamps.
    pub const HW_TX_TIMESTAMPING: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_HW_TX_TIMESTAMPING);
    /// Packed-stream receive.
    pub const PACKED_STREAM: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_PACKED_STREAM);
    /// RX event merging (`EF_VI_RX_EVENT_MERGE`).
    pub const RX_MERGE: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_RX_MERGE);
    /// Cut-through PIO transmit.
    pub const CTPIO: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_CTPIO);
    /// Transmit is CTPIO only (X3).
    pub const CTPIO_ONLY: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_CTPIO_ONLY);
    /// Borrowed-packet receive (`EF_EVENT_TYPE_RX_REF`, X3/X4).
    pub const RX_REF: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_RX_REF);
    /// Receive can be polled without the event queue (`ef_receive_poll`, X3/X4).
    pub const RX_POLL: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_RX_POLL);
    /// The RX queue sizes the interface supports (a bit mask).
    pub const RXQ_SIZES: Capability = Capability(ffi::ef_vi_capability_EF_VI_CAP_RXQ_SIZES);

    /// The library's name for the capability (`ef_vi_capabilities_name`), if it has one.
    pub fn name(self) -> Option<&'static str> {
        // SAFETY: the function takes any value and returns NULL or a static C string.
        let p = unsafe { ffi::ef_vi_capabilities_name(self.0) };
        if p.is_null() {
            return None;
        }
        // SAFETY: non-null, NUL-terminated and static.
        unsafe { CStr::from_ptr(p) }.to_str().ok()
    }
}

/// A protection domain on one interface (`ef_pd_alloc*`), freed when the last handle to it
/// (this value, its clones, and the memory regions, VIs, VI sets and PIO regions made in it)
/// is dropped.
///
/// Cloning is cheap (an [`Arc`]); calls through a protection domain are serialised inside.
#[derive(Debug, Clone)]
pub struct ProtectionDomain {
    pub(crate) inner: Arc<PdInner>,
}

#[derive(Debug)]
pub(crate) struct PdInner {
    pub(crate) driver: Driver,
    /// The C struct; boxed so that it never moves, and only touched under `lock`.
    pd: Box<UnsafeCell<ffi::ef_pd>>,
    lock: Mutex<()>,
    flags: PdFlags,
}

// SAFETY: the `ef_pd` is only reached through `PdInner::lock`, which serialises every call
// that touches it; the driver handle is a plain descriptor.
unsafe impl Send for PdInner {}
// SAFETY: as above.
unsafe impl Sync for PdInner {}

/// A locked protection domain: the raw pointers to pass to a C call.
pub(crate) struct PdGuard<'a> {
    _lock: MutexGuard<'a, ()>,
    pub(crate) pd: *mut ffi::ef_pd,
    pub(crate) dh: ffi::ef_driver_handle,
}

impl PdInner {
    /// Locks the protection domain for one C call.
    pub(crate) fn lock(&self) -> PdGuard<'_> {
        PdGuard {
            _lock: self.lock.lock().unwrap_or_else(|e| e.into_inner()),
            pd: self.pd.get(),
            dh: self.driver.inner.dh,
        }
    }
}

impl Drop for PdInner {
    fn drop(&mut self) {
        // SAFETY: every child (memory region, VI, set, PIO) holds an `Arc` to this struct, so
        // all have been freed; the PD was allocated and is freed exactly once, here. The
        // driver handle is closed later, when `self.driver` drops.
        unsafe { ffi::ef_pd_free(self.pd.get(), self.driver.inner.dh) };
    }
}

/// Converts an interface index for the C API.
pub(crate) fn ifindex_arg(ifindex: u32) -> Result<std::ffi::c_int> {
    std::ffi::c_int::try_from(ifindex)
        .map_err(|_| Error::invalid(format!("interface index {ifindex} is out of range")))
}

fn no_such_interface(call: &'static str, e: Error, interface: String) -> Error {
    match e.raw_os_error() {
        Some(libc::ENODEV) | Some(libc::ENOENT) | Some(libc::ENXIO) => {
            Error::NoSuchInterface { call, interface }
        }
        _ => e,
    }
}

impl ProtectionDomain {
    fn alloc_with(
        driver: &Driver,
        flags: PdFlags,
        f: impl FnOnce(*mut ffi::ef_pd, ffi::ef_driver_handle) -> std::ffi::c_int,
    ) -> std::result::Result<ProtectionDomain, std::ffi::c_int> {
        // SAFETY: `ef_pd` is plain C data for which all-zero bytes are a valid initial value.
        let pd: Box<UnsafeCell<ffi::ef_pd>> =
            Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        let rc = f(pd.get(), driver.inner.dh);
        if rc < 0 {
            return Err(rc);
        }
        Ok(ProtectionDomain {
            inner: Arc::new(PdInner {
                driver: driver.clone(),
                pd,
                lock: Mutex::new(()),
                flags,
            }),
        })
    }

    /// Allocates a protection domain on the interface with index `ifindex` (`ef_pd_alloc`;
    /// the physical port, not a bond or VLAN interface).
    pub fn new(driver: &Driver, ifindex: u32, flags: PdFlags) -> Result<ProtectionDomain> {
        let idx = ifindex_arg(ifindex)?;
        Self::alloc_with(driver, flags, |pd, dh| {
            // SAFETY: `pd` points to a zeroed, boxed `ef_pd`; `dh` is open.
            unsafe { ffi::ef_pd_alloc(pd, dh, idx, flags.bits()) }
        })
        .map_err(|rc| {
            no_such_interface(
                "ef_pd_alloc",
                Error::from_rc("ef_pd_alloc", rc),
                ifindex.to_string(),
            )
        })
    }

    /// Allocates a protection domain on the interface (or application cluster) called `name`
    /// (`ef_pd_alloc_by_name`).
    pub fn by_name(driver: &Driver, name: &str, flags: PdFlags) -> Result<ProtectionDomain> {
        let c = CString::new(name)
            .map_err(|_| Error::invalid(format!("interface name {name:?} contains a NUL byte")))?;
        Self::alloc_with(driver, flags, |pd, dh| {
            // SAFETY: `pd` points to a zeroed, boxed `ef_pd`; `dh` is open; `c` is a C string.
            unsafe { ffi::ef_pd_alloc_by_name(pd, dh, c.as_ptr(), flags.bits()) }
        })
        .map_err(|rc| {
            let call = "ef_pd_alloc_by_name";
            no_such_interface(call, Error::from_rc(call, rc), name.to_owned())
        })
    }

    /// Allocates a protection domain with a virtual port on `name` (`ef_pd_alloc_with_vport`),
    /// optionally on VLAN `vlan`.
    pub fn with_vport(
        driver: &Driver,
        name: &str,
        flags: PdFlags,
        vlan: Option<u16>,
    ) -> Result<ProtectionDomain> {
        let c = CString::new(name)
            .map_err(|_| Error::invalid(format!("interface name {name:?} contains a NUL byte")))?;
        let vlan = vlan.map_or(
            ffi::EF_PD_VLAN_NONE as std::ffi::c_int,
            std::ffi::c_int::from,
        );
        Self::alloc_with(driver, flags | PdFlags::VPORT, |pd, dh| {
            // SAFETY: as in `by_name`.
            unsafe { ffi::ef_pd_alloc_with_vport(pd, dh, c.as_ptr(), flags.bits(), vlan) }
        })
        .map_err(|rc| {
            let call = "ef_pd_alloc_with_vport";
            no_such_interface(call, Error::from_rc(call, rc), name.to_owned())
        })
    }

    /// The name of the interface the protection domain is on (`ef_pd_interface_name`).
    pub fn interface_name(&self) -> Option<String> {
        let g = self.inner.lock();
        // SAFETY: the PD is allocated and locked.
        let p = unsafe { ffi::ef_pd_interface_name(g.pd) };
        if p.is_null() {
            return None;
        }
        // SAFETY: non-null and NUL-terminated, owned by the PD which outlives this call.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    /// The flags the protection domain was allocated with.
    pub fn flags(&self) -> PdFlags {
        self.inner.flags
    }

    /// The driver handle the protection domain was allocated with.
    pub fn driver(&self) -> &Driver {
        &self.inner.driver
    }

    /// Reads capability `cap` of this protection domain's interface (`ef_pd_capabilities_get`).
    pub fn capability(&self, cap: Capability) -> Result<u64> {
        let g = self.inner.lock();
        let mut v: std::ffi::c_ulong = 0;
        // SAFETY: the PD is allocated and locked; `v` is writable.
        let rc = unsafe { ffi::ef_pd_capabilities_get(g.dh, g.pd, g.dh, cap.0, &mut v) };
        check("ef_pd_capabilities_get", rc)?;
        Ok(v as u64)
    }

    /// The raw `ef_pd` pointer, for calls into [`ffi`].
    ///
    /// # Safety
    ///
    /// The caller must not free the PD nor call into it concurrently with this crate (calls
    /// through this crate serialise on an internal lock the raw pointer bypasses).
    pub unsafe fn as_raw(&self) -> *mut ffi::ef_pd {
        self.inner.pd.get()
    }
}
