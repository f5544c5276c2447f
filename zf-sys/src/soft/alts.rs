//! TCP alternatives (`zf_alternatives_*`, `zft_alternatives_queue`): messages queued per
//! alternative and sent, or dropped, as a whole later.

use std::os::raw::{c_int, c_uint};

use super::stack::{Stack, stack_mut};
use super::tcp::{self, HEADER_SIZE, SNDBUF, Tcp, tcp_mut};
use super::util;

/// Adapter-buffer accounting of the backend: a packet of `len` bytes (headers included) uses
/// `((len + PRE_ROUND) & MASK) + POST_ROUND` bytes, as `ef_vi_transmit_alt_usage` computes.
const PRE_ROUND: u32 = 31;
const MASK: u32 = !31;
const POST_ROUND: u32 = 32;

fn usage(len: u32) -> u32 {
    (len.wrapping_add(PRE_ROUND) & MASK).wrapping_add(POST_ROUND)
}

/// One alternative.
#[derive(Debug)]
pub(crate) struct AltSlot {
    pub allocated: bool,
    /// The zocket the queued messages are for (null when empty).
    pub tcp: *mut Tcp,
    msgs: Vec<Vec<u8>>,
    used: u32,
    /// The zocket's stream offset when the first message was queued.
    at: u64,
}

impl Default for AltSlot {
    fn default() -> Self {
        AltSlot {
            allocated: false,
            tcp: std::ptr::null_mut(),
            msgs: Vec::new(),
            used: 0,
            at: 0,
        }
    }
}

impl AltSlot {
    /// Drops the queued messages.
    pub(crate) fn clear(&mut self) {
        self.tcp = std::ptr::null_mut();
        self.msgs.clear();
        self.used = 0;
    }
}

fn free_bytes(st: &Stack) -> u32 {
    let total = st.attr.int("alt_buf_size").clamp(0, i64::from(u32::MAX)) as u32;
    let used: u32 = st.alts.iter().map(|a| a.used).sum();
    total.saturating_sub(used)
}

fn slot(st: &mut Stack, alt: crate::zf_althandle) -> Option<&mut AltSlot> {
    st.alts
        .get_mut(usize::try_from(alt).ok()?)
        .filter(|a| a.allocated)
}

/// The stack and the index of its allocated alternative `alt`; `None` when `stack` is null
/// or `alt` is not an allocated alternative of it.
///
/// # Safety
///
/// `stack` must be null or a live stack with no other live reference to it.
unsafe fn stack_and_slot<'a>(
    stack: *mut crate::zf_stack,
    alt: crate::zf_althandle,
) -> Option<(&'a mut Stack, usize)> {
    // SAFETY: per the caller.
    let st = unsafe { stack_mut(stack) }?;
    slot(st, alt)?;
    Some((st, alt as usize))
}

/// Allocates an alternative (`-ENOMEM` when all `alt_count` are in use).
///
/// # Safety
///
/// * `stack` must be null or a live stack;
/// * `alt_out` must be null or writable for one `zf_althandle`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_alloc(
    stack: *mut crate::zf_stack,
    _attr: *const crate::zf_attr,
    alt_out: *mut crate::zf_althandle,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(st) = (unsafe { stack_mut(stack) }) else {
        return -libc::EINVAL;
    };
    if alt_out.is_null() {
        return -libc::EFAULT;
    }
    match st.alts.iter().position(|a| !a.allocated) {
        Some(i) => {
            st.alts[i] = AltSlot {
                allocated: true,
                ..AltSlot::default()
            };
            // SAFETY: non-null out pointer.
            unsafe { *alt_out = i as crate::zf_althandle };
            0
        }
        None => -libc::ENOMEM,
    }
}

/// Releases an alternative, dropping anything queued on it.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_release(
    stack: *mut crate::zf_stack,
    alt: crate::zf_althandle,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some((st, i)) = (unsafe { stack_and_slot(stack, alt) }) else {
        return -libc::EINVAL;
    };
    st.alts[i].clear();
    st.alts[i].allocated = false;
    0
}

/// Sends everything queued on the alternative. `-EINVAL` when the zocket cannot send or has
/// sent through the normal path since the messages were queued; `-EBUSY` when the send queue
/// has no room for them right now.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_send(
    stack: *mut crate::zf_stack,
    alt: crate::zf_althandle,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some((st, i)) = (unsafe { stack_and_slot(stack, alt) }) else {
        return -libc::EINVAL;
    };
    let a = &mut st.alts[i];
    if a.msgs.is_empty() {
        return 0;
    }
    let tp = a.tcp;
    let at = a.at;
    // SAFETY: an alternative's zocket is live (freeing a zocket clears its alternatives); it
    // is a separate allocation from the stack.
    let t = unsafe { &mut *tp };
    if !t.initialised || !t.can_send() || t.ds_reserved > 0 || t.tx_bytes != at {
        return -libc::EINVAL;
    }
    let total: usize = a.msgs.iter().map(Vec::len).sum();
    let outq = util::ioctl_int(&t.fd, libc::TIOCOUTQ).unwrap_or(0).max(0) as usize;
    if SNDBUF.saturating_sub(outq) < total {
        return -libc::EBUSY;
    }
    let msgs = std::mem::take(&mut a.msgs);
    a.clear();
    let iov: Vec<libc::iovec> = msgs
        .iter()
        .map(|m| libc::iovec {
            iov_base: m.as_ptr().cast_mut().cast(),
            iov_len: m.len(),
        })
        .collect();
    let mut off = 0usize;
    let mut tries = 0;
    while off < total && tries < 1000 {
        tries += 1;
        // Rebuild the remaining iovecs after a partial send.
        let mut rest = Vec::with_capacity(iov.len());
        let mut skip = off;
        for v in &iov {
            if skip >= v.iov_len {
                skip -= v.iov_len;
                continue;
            }
            // SAFETY: `skip` < iov_len: an offset within the message buffer.
            let base = unsafe { v.iov_base.cast::<u8>().add(skip) };
            rest.push(libc::iovec {
                iov_base: base.cast(),
                iov_len: v.iov_len - skip,
            });
            skip = 0;
        }
        let n = tcp::send_iov(st, t, &rest, 0);
        if n > 0 {
            off += n as usize;
        } else if n != -(libc::EAGAIN as isize) {
            return -libc::EINVAL;
        }
    }
    0
}

/// Drops what is queued on the alternative.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_cancel(
    stack: *mut crate::zf_stack,
    alt: crate::zf_althandle,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some((st, i)) = (unsafe { stack_and_slot(stack, alt) }) else {
        return -libc::EINVAL;
    };
    st.alts[i].clear();
    0
}

/// Queues one message (`iov_cnt` must be 1, `flags` 0) on an alternative for zocket `ts`.
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `iov` must be null or an array of `iov_cnt` iovecs, each naming memory readable for its
///   `iov_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zft_alternatives_queue(
    ts: *mut crate::zft,
    alt: crate::zf_althandle,
    iov: *const crate::iovec,
    iov_cnt: c_int,
    flags: c_int,
) -> c_int {
    let tp = ts.cast::<Tcp>();
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    if iov.is_null() || iov_cnt != 1 || flags != 0 {
        return -libc::EINVAL;
    }
    // SAFETY: a live zocket's stack is live; separate allocation.
    let st = unsafe { &mut *t.stack };
    // SAFETY: one iovec per the API contract.
    let v = unsafe { *iov };
    if v.iov_base.is_null() && v.iov_len > 0 {
        return -libc::EINVAL;
    }
    if !t.initialised || !t.can_send() {
        return -libc::EINVAL;
    }
    if t.ds_reserved > 0 {
        return -libc::EBUSY;
    }
    if util::ioctl_int(&t.fd, super::ds::SIOCOUTQNSD).unwrap_or(0) > 0 || t.tx_blocked {
        return -libc::EAGAIN;
    }
    if v.iov_len > t.mss as usize {
        return -libc::EMSGSIZE;
    }
    let need = usage(v.iov_len as u32 + HEADER_SIZE);
    let free = free_bytes(st);
    let tx = t.tx_bytes;
    let Some(a) = slot(st, alt) else {
        return -libc::EINVAL;
    };
    if !a.tcp.is_null() && a.tcp != tp {
        return -libc::EINVAL;
    }
    if need > free {
        return -libc::ENOMEM;
    }
    if a.msgs.is_empty() {
        a.at = tx;
    }
    a.tcp = tp;
    // SAFETY: the caller's buffer of iov_len bytes.
    a.msgs
        .push(unsafe { std::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len) }.to_vec());
    a.used += need;
    0
}

/// Largest packet (headers included) that fits the alternative's free buffer space now.
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_free_space(
    stack: *mut crate::zf_stack,
    alt: crate::zf_althandle,
) -> c_uint {
    // SAFETY: a live stack per the API contract.
    let Some((st, _)) = (unsafe { stack_and_slot(stack, alt) }) else {
        return 0;
    };
    free_bytes(st).saturating_sub(POST_ROUND) & MASK
}

/// Per-packet overhead parameters for `ef_vi_transmit_alt_usage` (`-EINVAL` when the stack
/// has no alternatives).
///
/// # Safety
///
/// * `ts` must be null or a live TCP zocket;
/// * `out` must be null or writable for one `ef_vi_transmit_alt_overhead`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_alternatives_query_overhead_tcp(
    ts: *mut crate::zft,
    out: *mut crate::ef_vi_transmit_alt_overhead,
) -> c_int {
    // SAFETY: a live zocket per the API contract.
    let Some(t) = (unsafe { tcp_mut(ts) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: a live zocket's stack is live.
    let st = unsafe { &*t.stack };
    if st.alts.is_empty() || out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `out` points to a struct ef_vi_transmit_alt_overhead { u32 pre_round, mask,
    // post_round } (etherfabric/ef_vi.h), opaque in these bindings.
    unsafe { std::ptr::write_unaligned(out.cast::<[u32; 3]>(), [PRE_ROUND, MASK, POST_ROUND]) };
    0
}
