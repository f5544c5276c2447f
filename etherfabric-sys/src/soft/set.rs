//! VI sets: a group of VIs sharing the frames of the set's filters by flow hash (RSS), as
//! the adapter spreads them over its receive queues.

use core::ffi::c_int;
use std::sync::{Arc, Mutex};

use super::filter_table::Owner;
use super::pd::{PdShared, pd_of};
use super::socket::{PacketSocket, drop_memberships};
use super::steering::{install, uninstall};
use super::{Registry, lock, new_id};
use crate::bindings::*;

/// A VI set: its domain, size and slots.
#[derive(Debug)]
pub(crate) struct SetShared {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub n: u32,
    pub members: Mutex<Vec<Slot>>,
}

/// One place in a VI set.
#[derive(Debug, Clone)]
pub(crate) enum Slot {
    /// No VI.
    Free,
    /// Taken by a VI whose allocation has not finished.
    Reserved,
    /// Taken by a VI, with its packet socket when it receives.
    Taken { sock: Option<Arc<PacketSocket>> },
}

/// The sets not yet freed, by resource id.
static SETS: Registry<u32, Arc<SetShared>> = Registry::new();

impl SetShared {
    /// The packet sockets of the members that receive.
    pub(crate) fn member_socks(&self) -> Vec<Arc<PacketSocket>> {
        lock(&self.members)
            .iter()
            .filter_map(|s| match s {
                Slot::Taken { sock, .. } => sock.clone(),
                _ => None,
            })
            .collect()
    }

    /// Empties slot `index` (the VI in it was freed).
    pub(crate) fn leave(&self, index: u32) {
        if let Some(s) = lock(&self.members).get_mut(index as usize) {
            *s = Slot::Free;
        }
    }
}

/// A set slot held for a VI being allocated: freed again when dropped unless
/// [`SlotHold::fill`] gave it to the VI. Taking the slot under the set's lock, in the same
/// critical section that found it free, keeps VIs allocated concurrently from one set (one
/// per thread, as RSS applications do) in different slots.
#[derive(Debug)]
pub(crate) struct SlotHold {
    set: Arc<SetShared>,
    index: usize,
    filled: bool,
}

impl SlotHold {
    /// Takes slot `index` (`None`: the first free one) of `set`: `-EBUSY` when taken or none
    /// is free, `-EINVAL` when out of range.
    pub(crate) fn take(set: &Arc<SetShared>, index: Option<u32>) -> Result<SlotHold, c_int> {
        let mut members = lock(&set.members);
        let free = |s: &Slot| matches!(s, Slot::Free);
        let index = match index {
            None => members.iter().position(free).ok_or(-libc::EBUSY)?,
            Some(i) if i >= set.n => return Err(-libc::EINVAL),
            Some(i) if !free(&members[i as usize]) => return Err(-libc::EBUSY),
            Some(i) => i as usize,
        };
        members[index] = Slot::Reserved;
        Ok(SlotHold {
            set: set.clone(),
            index,
            filled: false,
        })
    }

    /// The slot's index in its set.
    pub(crate) fn index(&self) -> u32 {
        self.index as u32
    }

    /// Gives the slot to its VI, whose packet socket is `sock` when it receives.
    pub(crate) fn fill(mut self, sock: Option<Arc<PacketSocket>>) {
        lock(&self.set.members)[self.index] = Slot::Taken { sock };
        self.filled = true;
    }
}

impl Drop for SlotHold {
    fn drop(&mut self) {
        if !self.filled {
            lock(&self.set.members)[self.index] = Slot::Free;
        }
    }
}

/// Allocates a set of `n_vis` VIs that share received traffic by flow hash (RSS).
///
/// # Safety
///
/// `vi_set` must be writable and `pd` an allocated domain.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_alloc_from_pd(
    vi_set: *mut ef_vi_set,
    _vi_set_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    n_vis: c_int,
) -> c_int {
    if vi_set.is_null() || n_vis <= 0 || n_vis > 64 {
        return -libc::EINVAL;
    }
    // SAFETY: `pd` is null or an `ef_pd`, per the caller.
    let pd_shared = match unsafe { pd_of(pd) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    let id = new_id();
    SETS.lock().insert(
        id,
        Arc::new(SetShared {
            id,
            pd: pd_shared,
            n: n_vis as u32,
            members: Mutex::new(vec![Slot::Free; n_vis as usize]),
        }),
    );
    // SAFETY: the caller guarantees `vi_set` is writable.
    unsafe {
        vi_set.write(ef_vi_set {
            vis_res_id: id,
            vis_pd: pd,
        });
    }
    0
}

/// The set behind an `ef_vi_set` (`-EINVAL` for null or one not allocated here).
///
/// # Safety
///
/// `vi_set` must be null or point to a readable `ef_vi_set`.
pub(crate) unsafe fn set_of(vi_set: *const ef_vi_set) -> Result<Arc<SetShared>, c_int> {
    if vi_set.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: readable per the caller.
    let id = unsafe { (*vi_set).vis_res_id };
    SETS.lock().get(&id).cloned().ok_or(-libc::EINVAL)
}

/// Runs `f` on the set behind `vi_set` and the sockets of its receiving members.
///
/// # Safety
///
/// As [`set_of`].
unsafe fn with_set(
    vi_set: *const ef_vi_set,
    f: impl FnOnce(&SetShared, &[Arc<PacketSocket>]) -> c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    match unsafe { set_of(vi_set) } {
        Ok(set) => f(&set, &set.member_socks()),
        Err(e) => e,
    }
}

/// Frees a VI set (and its filters).
///
/// # Safety
///
/// `vi_set` must point to a set allocated by this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_free(vi_set: *mut ef_vi_set, _dh: ef_driver_handle) -> c_int {
    // SAFETY: forwarded guarantee.
    unsafe {
        with_set(vi_set, |set, socks| {
            for e in set.pd.table.remove_owner(Owner::Set(set.id)) {
                drop_memberships(socks, &e.matcher);
            }
            SETS.lock().remove(&set.id);
            0
        })
    }
}

/// Adds a filter to a VI set: matching frames are spread over the set's VIs by flow hash.
///
/// # Safety
///
/// `vi_set` must be an allocated set, `fs` an initialised spec, `cookie` null or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_filter_add(
    vi_set: *mut ef_vi_set,
    _dh: ef_driver_handle,
    fs: *const ef_filter_spec,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe {
        with_set(vi_set, |set, socks| {
            install(&set.pd.table, Owner::Set(set.id), fs, cookie, socks)
        })
    }
}

/// Removes a filter from a VI set.
///
/// # Safety
///
/// `vi_set` must be an allocated set and `cookie` a cookie from [`ef_vi_set_filter_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_filter_del(
    vi_set: *mut ef_vi_set,
    _dh: ef_driver_handle,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe {
        with_set(vi_set, |set, socks| {
            uninstall(&set.pd.table, Owner::Set(set.id), cookie, socks)
        })
    }
}
