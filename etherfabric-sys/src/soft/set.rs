//! VI sets.

use core::ffi::{c_int, c_uint};
use std::sync::{Arc, Mutex};

use super::filter_table;
use super::filter_table::Matcher;
use super::filter_table::Owner;
use super::lock;
use super::pd::PdShared;
use super::pd::pd_of;
use super::registry;
use super::socket::apply_memberships;
use crate::bindings::*;

/// A VI set: its domain, size and which slots are taken.
#[derive(Debug)]
pub(crate) struct SetShared {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub n: u32,
    /// The VI id in each slot; [`SLOT_RESERVED`] while a VI is being allocated into it.
    pub members: Mutex<Vec<Option<u32>>>,
}

/// Marks a set slot taken by a VI whose allocation has not finished (no VI has this id).
pub(crate) const SLOT_RESERVED: u32 = u32::MAX;

/// A set slot held for a VI being allocated: freed again when dropped unless
/// [`SlotHold::fill`] gave it to the VI. Taking the slot under the set's lock, in the same
/// critical section that found it free, keeps VIs allocated concurrently from one set (one
/// per thread, as RSS applications do) in different slots.
#[derive(Debug)]
pub(crate) struct SlotHold {
    pub(super) set: Arc<SetShared>,
    pub(super) index: usize,
    pub(super) filled: bool,
}

impl SlotHold {
    /// Takes slot `index` (`None`: the first free one) of `set`: `-EBUSY` when taken or none
    /// is free, `-EINVAL` when out of range.
    pub(crate) fn take(set: &Arc<SetShared>, index: Option<u32>) -> Result<SlotHold, c_int> {
        let mut members = lock(&set.members);
        let index = match index {
            None => members
                .iter()
                .position(Option::is_none)
                .ok_or(-libc::EBUSY)?,
            Some(i) if i >= set.n => return Err(-libc::EINVAL),
            Some(i) if members[i as usize].is_some() => return Err(-libc::EBUSY),
            Some(i) => i as usize,
        };
        members[index] = Some(SLOT_RESERVED);
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

    /// Gives the slot to the VI `id`.
    pub(crate) fn fill(mut self, id: u32) {
        lock(&self.set.members)[self.index] = Some(id);
        self.filled = true;
    }
}

impl Drop for SlotHold {
    fn drop(&mut self) {
        if !self.filled {
            lock(&self.set.members)[self.index] = None;
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
    let pd_shared = match pd_of(pd) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let mut reg = registry();
    let id = reg.new_id();
    reg.sets.insert(
        id,
        Arc::new(SetShared {
            id,
            pd: pd_shared,
            n: n_vis as u32,
            members: Mutex::new(vec![None; n_vis as usize]),
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

/// The set behind an `ef_vi_set`.
pub(crate) fn set_of(vi_set: *const ef_vi_set) -> Result<Arc<SetShared>, c_int> {
    if vi_set.is_null() {
        return Err(-libc::EINVAL);
    }
    // SAFETY: the caller of the exported function guarantees a valid `ef_vi_set`.
    let id = unsafe { (*vi_set).vis_res_id };
    registry().sets.get(&id).cloned().ok_or(-libc::EINVAL)
}

/// Frees a VI set (and its filters).
///
/// # Safety
///
/// `vi_set` must point to a set allocated by this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_free(vi_set: *mut ef_vi_set, _dh: ef_driver_handle) -> c_int {
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    for e in set.pd.table.remove_owner(Owner::Set(set.id)) {
        apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, false);
    }
    registry().sets.remove(&set.id);
    0
}

/// The packet sockets of the current members of a set.
pub(crate) fn member_socks(set: &SetShared) -> Vec<c_int> {
    let ids: Vec<u32> = lock(&set.members).iter().flatten().copied().collect();
    let reg = registry();
    ids.iter()
        .filter_map(|i| reg.vis.get(i))
        .filter(|v| v.rx)
        .map(|v| v.sock)
        .collect()
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
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if fs.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees an initialised spec.
    let fs = unsafe { &*fs };
    let m = match Matcher::from_spec(fs) {
        Ok(m) => m,
        Err(e) => return e,
    };
    match set
        .pd
        .table
        .insert(Owner::Set(set.id), m, fs.flags, fs.type_)
    {
        Ok(e) => {
            apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, true);
            filter_table::fill_cookie(cookie, &e);
            0
        }
        Err(e) => e,
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
    let set = match set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    if cookie.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a readable cookie.
    let c = unsafe { *cookie };
    match set
        .pd
        .table
        .remove(Owner::Set(set.id), c.filter_id, c.filter_type as c_uint)
    {
        Ok(e) => {
            apply_memberships(&member_socks(&set), set.pd.ifindex, &e.matcher, false);
            0
        }
        Err(e) => e,
    }
}
