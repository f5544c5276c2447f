//! The TX alternative calls (`ef_vi_transmit_alt_*`) over the state machine of `tx_alt.rs`:
//! allocating and freeing, the queries, and the select / stop / go / discard ops. Going or
//! discarding sends or drops what the alternative held, one `EF_EVENT_TYPE_TX_ALT` event per
//! packet.

use core::ffi::{c_int, c_uint};

use super::stats::bump;
use super::tx_alt::{AltState, TxAlts, WORD, buffering};
use super::vi::{SoftVi, ctx, flag};
use crate::bindings::*;

/// The alternatives of `vi` if it has TX_ALT, `-EINVAL` otherwise (as the library).
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend, used by this thread only.
unsafe fn alt_vi<'a>(vi: *mut ef_vi) -> Result<&'a mut SoftVi, c_int> {
    // SAFETY: guaranteed by the caller.
    match unsafe { ctx(vi) } {
        Some(sv) if flag(sv.flags, ef_vi_flags_EF_VI_TX_ALT) => Ok(sv),
        _ => Err(-libc::EINVAL),
    }
}

impl SoftVi {
    /// Moves alternative `alt` to `state`, sending or dropping what it held.
    fn alt_set_state(&mut self, alt: c_uint, state: AltState) -> c_int {
        let Some(alts) = self.alts.as_mut().filter(|a| alt < a.len()) else {
            return -libc::EINVAL;
        };
        let frames = alts.set_state(alt, state);
        for mut f in frames {
            if state == AltState::Go {
                // A frame the socket cannot take now is dropped: the alternative had it.
                if self.send_frame(&mut f, true) != super::tx::TxOutcome::Done {
                    bump(&self.base.stats.tx_drops);
                }
            }
            self.push_alt_event(alt);
        }
        0
    }
}

/// Allocates `num_alts` TX alternatives sharing `buf_space` bytes of buffering.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, used by this thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_alloc(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    num_alts: c_int,
    buf_space: usize,
) -> c_int {
    if num_alts <= 0 || buf_space == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let sv = match unsafe { alt_vi(vi) } {
        Ok(sv) => sv,
        Err(e) => return e,
    };
    if sv.alts.is_some() {
        return -libc::EALREADY;
    }
    let n = num_alts as u32;
    match buffering(n) {
        Some(room) if buf_space <= room => {}
        Some(_) => return -libc::ENOMEM,
        None => return -libc::EBUSY,
    }
    sv.alts = Some(TxAlts::new(n, buf_space));
    // SAFETY: the VI is live; the field the library keeps the count in.
    unsafe { (*vi).tx_alt_num = n };
    0
}

/// Frees the VI's TX alternatives (what they held is dropped).
///
/// # Safety
///
/// `vi` must be a live VI of this backend, used by this thread only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_free(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    // SAFETY: guaranteed by the caller.
    match unsafe { alt_vi(vi) } {
        Ok(sv) => match sv.alts.take() {
            Some(_) => 0,
            None => -libc::EINVAL,
        },
        Err(e) => e,
    }
}

/// The number of TX alternatives allocated (the library's `tx_alt_num`, which it keeps after
/// a free).
///
/// # Safety
///
/// `vi` must be a live VI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_num_ids(vi: *mut ef_vi) -> c_uint {
    if vi.is_null() {
        return 0;
    }
    // SAFETY: guaranteed by the caller.
    unsafe { (*vi).tx_alt_num }
}

/// Packet bytes `n_alts` alternatives of this VI could buffer.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_query_buffering(
    vi: *mut ef_vi,
    _ifindex: c_int,
    _dh: ef_driver_handle,
    n_alts: c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    if let Err(e) = unsafe { alt_vi(vi) } {
        return e;
    }
    match u32::try_from(n_alts).ok().and_then(buffering) {
        Some(b) => b as c_int,
        None => -libc::EINVAL,
    }
}

/// The per-packet overhead parameters for `ef_vi_transmit_alt_usage()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; `out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_query_overhead(
    vi: *mut ef_vi,
    out: *mut ef_vi_transmit_alt_overhead,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    if let Err(e) = unsafe { alt_vi(vi) } {
        return e;
    }
    if out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `out` is writable per the caller.
    unsafe {
        out.write(ef_vi_transmit_alt_overhead {
            pre_round: WORD - 1,
            mask: !(WORD - 1),
            post_round: WORD,
        })
    };
    0
}

/// The `transmit_alt_select` op: later sends go to alternative `alt`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, used by this thread only.
pub(super) unsafe extern "C" fn op_alt_select(vi: *mut ef_vi, alt: c_uint) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Ok(sv) = (unsafe { alt_vi(vi) }) else {
        return -libc::EINVAL;
    };
    match sv.alts.as_mut() {
        Some(a) if alt < a.len() => {
            a.selected = Some(alt);
            0
        }
        _ => -libc::EINVAL,
    }
}

/// The `transmit_alt_select_default` op: later sends go to the wire.
///
/// # Safety
///
/// As [`op_alt_select`].
pub(super) unsafe extern "C" fn op_alt_select_default(vi: *mut ef_vi) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Ok(sv) = (unsafe { alt_vi(vi) }) else {
        return -libc::EINVAL;
    };
    match sv.alts.as_mut() {
        Some(a) => {
            a.selected = None;
            0
        }
        None => -libc::EINVAL,
    }
}

/// The `transmit_alt_stop` op.
///
/// # Safety
///
/// As [`op_alt_select`].
pub(super) unsafe extern "C" fn op_alt_stop(vi: *mut ef_vi, alt: c_uint) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { alt_vi(vi) }.map_or_else(|e| e, |sv| sv.alt_set_state(alt, AltState::Stop))
}

/// The `transmit_alt_go` op.
///
/// # Safety
///
/// As [`op_alt_select`].
pub(super) unsafe extern "C" fn op_alt_go(vi: *mut ef_vi, alt: c_uint) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { alt_vi(vi) }.map_or_else(|e| e, |sv| sv.alt_set_state(alt, AltState::Go))
}

/// The `transmit_alt_discard` op.
///
/// # Safety
///
/// As [`op_alt_select`].
pub(super) unsafe extern "C" fn op_alt_discard(vi: *mut ef_vi, alt: c_uint) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { alt_vi(vi) }.map_or_else(|e| e, |sv| sv.alt_set_state(alt, AltState::Discard))
}
