//! Programmed-I/O regions: adapter memory the CPU writes packets into.

use std::cell::UnsafeCell;
use std::sync::Arc;

use crate::error::{Result, check};
use crate::ffi;
use crate::pd::{PdInner, ProtectionDomain};

/// A PIO region of the adapter (`ef_pio_alloc`), for
/// [`Vi::transmit_copy_pio`](crate::Vi::transmit_copy_pio) once linked to a VI with
/// [`Vi::link_pio`](crate::Vi::link_pio); freed after its VI (x86_64 adapters only).
#[derive(Debug)]
pub struct Pio {
    pio: Box<UnsafeCell<ffi::ef_pio>>,
    pd: Arc<PdInner>,
}

// SAFETY: the `ef_pio` is touched only by link/unlink/free, made by its single owner.
unsafe impl Send for Pio {}

impl Pio {
    /// Allocates a PIO region on `pd`, about `len_hint` bytes.
    pub fn alloc(pd: &ProtectionDomain, len_hint: u32) -> Result<Pio> {
        // SAFETY: plain C data; zeroes are a valid initial value.
        let pio: Box<UnsafeCell<ffi::ef_pio>> =
            Box::new(UnsafeCell::new(unsafe { std::mem::zeroed() }));
        {
            let g = pd.inner.lock();
            // SAFETY: the PD is live and locked; `pio` is boxed and writable.
            let rc = unsafe { ffi::ef_pio_alloc(pio.get(), g.dh, g.pd, len_hint, g.dh) };
            check("ef_pio_alloc", rc)?;
        }
        Ok(Pio {
            pio,
            pd: pd.inner.clone(),
        })
    }

    pub(crate) fn raw(&self) -> *mut ffi::ef_pio {
        self.pio.get()
    }

    /// The region's length in bytes.
    pub fn len(&self) -> usize {
        // SAFETY: the struct was filled in by `ef_pio_alloc` and is not written afterwards.
        unsafe { (*self.pio.get()).pio_len as usize }
    }

    /// True for a region of no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Pio {
    fn drop(&mut self) {
        let g = self.pd.lock();
        // SAFETY: a linked PIO is owned by its VI's core, which unlinks it first; freed once,
        // before its PD.
        unsafe { ffi::ef_pio_free(self.pio.get(), g.dh) };
    }
}
