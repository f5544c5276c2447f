//! VI sets: several VIs that share the received packets of one filter (receive-side scaling).

use std::cell::UnsafeCell;
use std::sync::Arc;

use crate::error::{Result, check};
use crate::ffi;
use crate::filter::{FilterSpec, SetFilter};
use crate::pd::{PdInner, ProtectionDomain};

/// A set of VIs over which the NIC spreads the flows of the set's filters
/// (`ef_vi_set_alloc_from_pd`); freed when it, its VIs and its filters are dropped.
/// VIs are made with [`ViSet::vi_builder`].
#[derive(Debug, Clone)]
pub struct ViSet {
    pub(crate) inner: Arc<SetInner>,
}

#[derive(Debug)]
pub(crate) struct SetInner {
    pd: Arc<PdInner>,
    set: Box<UnsafeCell<ffi::ef_vi_set>>,
    size: u32,
}

// SAFETY: the `ef_vi_set` is only passed to the library's control calls, which are made under
// the PD's lock.
unsafe impl Send for SetInner {}
// SAFETY: as above.
unsafe impl Sync for SetInner {}

impl SetInner {
    pub(crate) fn raw(&self) -> *mut ffi::ef_vi_set {
        self.set.get()
    }
    pub(crate) fn dh(&self) -> ffi::ef_driver_handle {
        self.pd.driver.inner.dh
    }
    pub(crate) fn pd(&self) -> &Arc<PdInner> {
        &self.pd
    }
}

impl Drop for SetInner {
    fn drop(&mut self) {
        let g = self.pd.lock();
        // SAFETY: no VI or filter of the set is left (each holds this `Arc`); freed once.
        unsafe { ffi::ef_vi_set_free(self.set.get(), g.dh) };
    }
}

impl ViSet {
    /// Allocates a set of `n` VIs on `pd`.
    pub fn new(pd: &ProtectionDomain, n: u32) -> Result<ViSet> {
        let n_c = crate::pd::ifindex_arg(n)?;
        // SAFETY: plain C data; zeroes are a valid initial value.
        let set: Box<UnsafeCell<ffi::ef_vi_set>> =
            Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        {
            let g = pd.inner.lock();
            // SAFETY: the PD is live and locked; `set` is boxed and writable.
            let rc = unsafe { ffi::ef_vi_set_alloc_from_pd(set.get(), g.dh, g.pd, g.dh, n_c) };
            check("ef_vi_set_alloc_from_pd", rc)?;
        }
        Ok(ViSet {
            inner: Arc::new(SetInner {
                pd: pd.inner.clone(),
                set,
                size: n,
            }),
        })
    }

    /// The number of VIs the set was made for.
    pub fn len(&self) -> u32 {
        self.inner.size
    }

    /// True for a set of no VIs.
    pub fn is_empty(&self) -> bool {
        self.inner.size == 0
    }

    /// The protection domain of the set.
    pub fn pd(&self) -> ProtectionDomain {
        ProtectionDomain {
            inner: self.inner.pd.clone(),
        }
    }

    /// Adds a filter whose packets are spread over the set's VIs (`ef_vi_set_filter_add`);
    /// removed when the guard is dropped.
    pub fn add_filter(&self, spec: &FilterSpec) -> Result<SetFilter> {
        SetFilter::add(&self.inner, spec)
    }
}
