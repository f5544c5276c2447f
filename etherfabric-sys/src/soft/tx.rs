//! Transmit: the TX ring, sending pushed descriptors through the packet socket with checksum
//! offload, completion events (merged and unbundled as on an adapter), TX timestamps, warming
//! and the TX error path. PIO and CTPIO, which send from elsewhere, are in `pio.rs`.
//!
//! Where this differs from an adapter: a frame goes out when it is pushed (or on the next
//! poll if the socket is full), through the kernel's `send()`; its timestamp is the time of
//! that call. A frame the kernel refuses is dropped, counted in `tx_drops` and reported once
//! on stderr, and completes like a sent one.

use core::ffi::{c_char, c_int, c_uint};

use super::socket::{MAX_FRAME, Sent};
use super::stats::bump;
use super::tx_alt::Accept;
use super::vi::{
    SYNC_FLAGS, SoftVi, TxDesc, TxKind, ctx, flag, now, slice, unbundle_args, with_slice,
};
use super::{frame, lock, log_once};
use crate::bindings::*;

/// Most TX descriptors one TX event completes (`EF_VI_TRANSMIT_BATCH`).
const TX_BATCH: u32 = EF_VI_TRANSMIT_BATCH;

/// What became of a packet handed to the socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TxOutcome {
    /// Done with: sent, or dropped and counted (as an adapter drops a frame it cannot send).
    Done,
    /// The socket has no room now: the packet stays for the next poll.
    Busy,
    /// A descriptor points outside registered memory: `EF_EVENT_TX_ERROR_BUS`.
    Fault,
}

/// The iovec array of one buffer of `len` bytes (a negative length counts as 0).
pub(super) fn one_iov(addr: ef_addr, len: impl TryInto<c_uint>) -> [ef_iovec; 1] {
    [ef_iovec {
        iov_base: addr,
        iov_len: len.try_into().unwrap_or(0),
    }]
}

impl SoftVi {
    pub(super) fn tx_space(&mut self) -> u32 {
        let mask = self.txq_size.wrapping_sub(1);
        let st = self.state().txq;
        mask.wrapping_sub(st.added.wrapping_sub(st.removed))
    }

    fn tx_add(&mut self, d: TxDesc, id: ef_request_id) {
        let mask = self.txq_size - 1;
        let slot = self.state().txq.added & mask;
        self.tx_desc[slot as usize] = d;
        self.tx_ids()[slot as usize] = id as u32;
        let st = self.state();
        st.txq.added = st.txq.added.wrapping_add(1);
    }

    fn transmitv_init(&mut self, iov: &[ef_iovec], dma_id: ef_request_id) -> c_int {
        if self.txq_size == 0 || iov.is_empty() {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < iov.len() as u32 {
            return -libc::EAGAIN;
        }
        let n = iov.len();
        for (i, v) in iov.iter().enumerate() {
            let last = i + 1 == n;
            self.tx_add(
                TxDesc {
                    addr: v.iov_base,
                    len: v.iov_len,
                    more: !last,
                    kind: TxKind::Dma,
                    ctpio: false,
                    alt: self.alts.as_ref().and_then(|a| a.selected),
                },
                if last {
                    dma_id
                } else {
                    EF_REQUEST_ID_MASK as ef_request_id
                },
            );
        }
        0
    }

    /// Forgets the ids of the TX descriptors from `from` up to the last one added.
    fn tx_forget_from(&mut self, from: u32) {
        let mask = self.txq_size - 1;
        let added = self.state().txq.added;
        let mut i = from;
        while i != added {
            self.tx_ids()[(i & mask) as usize] = EF_REQUEST_ID_MASK;
            i = i.wrapping_add(1);
        }
    }

    /// `transmitv_init` then, when it succeeds, `transmit_push`.
    pub(super) fn transmitv(&mut self, iov: &[ef_iovec], dma_id: ef_request_id) -> c_int {
        let rc = self.transmitv_init(iov, dma_id);
        if rc == 0 {
            self.transmit_push();
        }
        rc
    }

    fn transmit_push(&mut self) {
        let st = self.state();
        st.txq.previous = st.txq.added;
        self.tx_process();
    }

    /// Sends pushed descriptors and raises completion events.
    pub(super) fn tx_process(&mut self) {
        if self.txq_size == 0 {
            return;
        }
        let mask = self.txq_size - 1;
        let prev = self.state().txq.previous;
        let tx_ts = flag(self.flags, ef_vi_flags_EF_VI_TX_TIMESTAMPS);
        while self.tx_done != prev && !self.tx_error && !self.flushed {
            let start = self.tx_done;
            let mut end = start;
            loop {
                let d = self.tx_desc[(end & mask) as usize];
                end = end.wrapping_add(1);
                if !d.more || end == prev {
                    break;
                }
            }
            let last = self.tx_desc[(end.wrapping_sub(1) & mask) as usize];
            if last.more {
                break; // the rest of the packet is not pushed yet
            }
            if self.tx_desc[(start & mask) as usize].kind == TxKind::Dma {
                match self.tx_send_dma(start, end) {
                    TxOutcome::Done => {}
                    TxOutcome::Busy => break, // retried on the next poll
                    TxOutcome::Fault => {
                        let mut ev = ef_event::default();
                        // SAFETY: plain-integer union member.
                        unsafe {
                            ev.tx_error.set_type(EF_EVENT_TYPE_TX_ERROR);
                            ev.tx_error.set_q_id(self.q_label);
                            ev.tx_error.set_desc_id(end.wrapping_sub(1) & mask);
                            ev.tx_error.set_subtype(EF_EVENT_TX_ERROR_BUS);
                        }
                        self.push_event(ev);
                        self.tx_error = true;
                        break;
                    }
                }
            }
            self.tx_done = end;
            if tx_ts {
                let slot = (end.wrapping_sub(1) & mask) as usize;
                let id = self.tx_ids()[slot];
                let ts = now();
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    let t = &mut ev.tx_timestamp;
                    t.set_type(EF_EVENT_TYPE_TX_WITH_TIMESTAMP);
                    t.set_q_id(self.q_label);
                    t.set_flags(if last.ctpio { EF_EVENT_FLAG_CTPIO } else { 0 });
                    t.set_rq_id(id);
                    t.set_ts_sec(ts.tv_sec as u32);
                    t.set_ts_nsec(ts.tv_nsec as u32);
                    t.set_ts_nsec_frac(0);
                    t.set_ts_flags(SYNC_FLAGS);
                }
                // Timestamped completions carry their id: the slots are free now.
                let mut i = start;
                while i != end {
                    let s = (i & mask) as usize;
                    self.tx_ids()[s] = EF_REQUEST_ID_MASK;
                    i = i.wrapping_add(1);
                }
                self.state().txq.removed = end;
                self.tx_evented = end;
                self.push_event(ev);
            }
        }
        // Plain completions: one event per batch of descriptors, split where the CTPIO flag
        // changes.
        while self.tx_evented != self.tx_done {
            let ctpio = self.tx_desc[(self.tx_evented & mask) as usize].ctpio;
            let mut n = 0;
            while n < TX_BATCH
                && self.tx_evented.wrapping_add(n) != self.tx_done
                && self.tx_desc[(self.tx_evented.wrapping_add(n) & mask) as usize].ctpio == ctpio
            {
                n += 1;
            }
            let last = self.tx_evented.wrapping_add(n).wrapping_sub(1);
            let flags = if ctpio { EF_EVENT_FLAG_CTPIO } else { 0 };
            let mut q = lock(&self.base.evq);
            // Like an adapter, completions not yet polled are merged into one event (up to a
            // batch), so that TX events cannot outnumber the event queue.
            let covered = last.wrapping_sub(self.tx_ev_start).wrapping_add(1);
            if let Some(back) = q.events.back_mut() {
                // SAFETY: plain-integer union member of an initialised event.
                unsafe {
                    let t = &mut back.tx;
                    if t.type_() == EF_EVENT_TYPE_TX
                        && t.q_id() == self.q_label
                        && t.flags() == flags
                        && t.desc_id() == self.tx_evented.wrapping_sub(1) & mask
                        && covered <= TX_BATCH
                    {
                        t.set_desc_id(last & mask);
                        self.tx_evented = self.tx_evented.wrapping_add(n);
                        continue;
                    }
                }
            }
            let mut ev = ef_event::default();
            // SAFETY: plain-integer union member.
            unsafe {
                ev.tx.set_type(EF_EVENT_TYPE_TX);
                ev.tx.set_q_id(self.q_label);
                ev.tx.set_flags(flags);
                ev.tx.set_desc_id(last & mask);
            }
            self.tx_ev_start = self.tx_evented;
            self.tx_evented = self.tx_evented.wrapping_add(n);
            q.push(ev);
        }
    }

    /// Gathers and sends the packet in descriptors `[start, end)`.
    fn tx_send_dma(&mut self, start: u32, end: u32) -> TxOutcome {
        let mask = self.txq_size - 1;
        self.tx_buf.clear();
        let mut i = start;
        while i != end {
            let d = self.tx_desc[(i & mask) as usize];
            if d.len > 0 {
                if !self.base.pd.dma_ok(d.addr, d.len as usize)
                    || self.tx_buf.len() + d.len as usize > MAX_FRAME
                {
                    return TxOutcome::Fault;
                }
                // SAFETY: the range lies in memory registered with this VI's protection domain,
                // which the application keeps valid while descriptors refer to it.
                let src = unsafe {
                    core::slice::from_raw_parts(d.addr as usize as *const u8, d.len as usize)
                };
                self.tx_buf.extend_from_slice(src);
            }
            i = i.wrapping_add(1);
        }
        let mut buf = core::mem::take(&mut self.tx_buf);
        let alt = self.tx_desc[(start & mask) as usize].alt;
        let r = match alt {
            Some(a) => self.send_to_alt(a, &mut buf),
            None => self.send_frame(&mut buf, true),
        };
        self.tx_buf = buf;
        r
    }

    /// Hands the packet in `f` to TX alternative `alt` (see `tx_alt.rs`): held, sent, or
    /// dropped. The descriptors complete as sent either way: the data has left them.
    fn send_to_alt(&mut self, alt: u32, f: &mut Vec<u8>) -> TxOutcome {
        let Some(alts) = self.alts.as_mut().filter(|a| alt < a.len()) else {
            // The alternatives were freed since the descriptor was written: dropped.
            bump(&self.base.stats.tx_drops);
            return TxOutcome::Done;
        };
        match alts.accept(alt, f) {
            Accept::Held => TxOutcome::Done,
            Accept::Overflow => {
                bump(&self.base.stats.tx_drops);
                TxOutcome::Done
            }
            Accept::Discarded => {
                self.push_alt_event(alt);
                TxOutcome::Done
            }
            Accept::Send => {
                let r = self.send_frame(f, true);
                if r == TxOutcome::Done {
                    self.push_alt_event(alt);
                }
                r
            }
        }
    }

    /// Queues an `EF_EVENT_TYPE_TX_ALT` event: a packet of alternative `alt` was sent or
    /// dropped.
    pub(super) fn push_alt_event(&self, alt: u32) {
        let mut ev = ef_event::default();
        // SAFETY: plain-integer union member.
        unsafe {
            ev.tx_alt.set_type(EF_EVENT_TYPE_TX_ALT);
            ev.tx_alt.set_q_id(self.q_label);
            ev.tx_alt.set_alt_id(alt);
        }
        self.push_event(ev);
    }

    /// Sends one frame, with checksum offload if `offload` and padding to the Ethernet minimum
    /// (never [`TxOutcome::Fault`]).
    pub(super) fn send_frame(&mut self, f: &mut Vec<u8>, offload: bool) -> TxOutcome {
        if f.len() < 14 {
            bump(&self.base.stats.tx_drops);
            return TxOutcome::Done;
        }
        let fi = frame::parse(f);
        if flag(self.flags, ef_vi_flags_EF_VI_TX_TCPUDP_ONLY) && !fi.has_ports() {
            bump(&self.base.stats.tx_drops);
            return TxOutcome::Done;
        }
        if offload {
            if !flag(self.flags, ef_vi_flags_EF_VI_TX_IP_CSUM_DIS) {
                frame::fill_l3(f, &fi);
            }
            if !flag(self.flags, ef_vi_flags_EF_VI_TX_TCPUDP_CSUM_DIS) {
                frame::fill_l4(f, &fi);
            }
        }
        // Like an adapter, pad short frames to the Ethernet minimum (60 bytes before the FCS).
        if f.len() < 60 {
            f.resize(60, 0);
        }
        match self.base.sock.send(f) {
            Sent::Done => {
                bump(&self.base.stats.tx_frames);
                TxOutcome::Done
            }
            Sent::Full => TxOutcome::Busy,
            Sent::Refused(e) => {
                bump(&self.base.stats.tx_drops);
                log_once(
                    "tx_drop",
                    &format!(
                        "a transmitted frame of {} bytes was dropped: {}",
                        f.len(),
                        std::io::Error::from_raw_os_error(e)
                    ),
                );
                TxOutcome::Done
            }
        }
    }

    /// Adds a completed-at-once descriptor (PIO, CTPIO) and pushes it.
    pub(super) fn tx_add_sent(&mut self, dma_id: ef_request_id, ctpio: bool) -> c_int {
        if self.txq_size == 0 {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < 1 {
            return -libc::EAGAIN;
        }
        self.tx_add(
            TxDesc {
                kind: TxKind::Sent,
                ctpio,
                ..TxDesc::default()
            },
            dma_id,
        );
        self.transmit_push();
        0
    }
}

/// The `transmit` op, behind `ef_vi_transmit()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_transmit(
    vi: *mut ef_vi,
    base: ef_addr,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: the ops table is only reached through a VI of this backend.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmitv(&one_iov(base, len), id))
}

/// The `transmitv` op, behind `ef_vi_transmitv()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `iov` readable for `n` entries.
pub(super) unsafe extern "C" fn op_transmitv(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: the caller passes `n` iovecs; `vi` is a VI of this backend.
    unsafe { with_slice(vi, iov, n, |sv, iov| sv.transmitv(iov, id)) }
}

/// The `transmitv_init` op, behind `ef_vi_transmitv_init()`.
///
/// # Safety
///
/// As `op_transmitv`.
pub(super) unsafe extern "C" fn op_transmitv_init(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: as in op_transmitv.
    unsafe { with_slice(vi, iov, n, |sv, iov| sv.transmitv_init(iov, id)) }
}

/// The `transmit_push` op, behind `ef_vi_transmit_push()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_transmit_push(vi: *mut ef_vi) {
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        sv.transmit_push();
    }
}

/// The `start_transmit_warm` op, behind `ef_vi_start_transmit_warm()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; `saved` null or writable.
pub(super) unsafe extern "C" fn op_start_transmit_warm(
    vi: *mut ef_vi,
    saved: *mut ef_vi_tx_warm_state,
    ctpio: *mut c_char,
) {
    // SAFETY: `vi` is a VI of this backend; `saved` is writable when not null.
    unsafe {
        let Some(sv) = ctx(vi) else { return };
        if sv.warming || sv.txq_size == 0 {
            return;
        }
        let st = sv.state();
        if !saved.is_null() {
            (*saved).removed = st.txq.removed;
            (*saved).vi_ctpio_mmap_ptr = ctpio;
        }
        // The ring appears full while warming: transmits take their normal path up to the
        // point of sending and then fail with -EAGAIN.
        sv.warming = true;
    }
}

/// The `stop_transmit_warm` op, behind `ef_vi_stop_transmit_warm()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_stop_transmit_warm(
    vi: *mut ef_vi,
    saved: *mut ef_vi_tx_warm_state,
) {
    let _ = saved;
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        sv.warming = false;
    }
}

/// Initialises one TX descriptor for a single buffer.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; the buffer must stay valid until completed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_init(
    vi: *mut ef_vi,
    addr: ef_addr,
    bytes: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| {
        sv.transmitv_init(&one_iov(addr, bytes), dma_id)
    })
}

/// Deprecated transmit with extra options: only local buffers without options are
/// supported here (`-EOPNOTSUPP` otherwise).
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `iov` readable for `iov_len` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmitv_init_extra(
    vi: *mut ef_vi,
    extra: *const ef_vi_tx_extra,
    iov: *const ef_remote_iovec,
    iov_len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let riov = unsafe { slice(iov, iov_len) };
    // SAFETY: `extra` is readable when not null.
    if !extra.is_null() && unsafe { (*extra).flags } != 0 {
        return -libc::EOPNOTSUPP;
    }
    let mut v = Vec::with_capacity(riov.len());
    for r in riov {
        if r.addrspace != u64::MAX || r.flags != 0 {
            return -libc::EOPNOTSUPP;
        }
        v.push(ef_iovec {
            iov_base: r.iov_base,
            iov_len: r.iov_len,
        });
    }
    // SAFETY: as above.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmitv_init(&v, dma_id))
}

/// Removes the TX descriptors initialised but not pushed yet.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_init_undo(vi: *mut ef_vi) {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return;
    };
    if sv.txq_size == 0 {
        return;
    }
    let previous = sv.state().txq.previous;
    sv.tx_forget_from(previous);
    sv.state().txq.added = previous;
}

/// Unbundles an `EF_EVENT_TYPE_TX` event: the ids of the transmits it completes (at most
/// `EF_VI_TRANSMIT_BATCH`), whose buffers may be reused now.
///
/// # Safety
///
/// `vi` must own the TX ring the event is for (see `ef_vi_get_vi_from_q_id()`), `ev` be
/// readable and `ids` writable for `EF_VI_TRANSMIT_BATCH` ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_unbundle(
    vi: *mut ef_vi,
    ev: *const ef_event,
    ids: *mut ef_request_id,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some((sv, ev)) = (unsafe { unbundle_args(vi, ev, ids, |sv| sv.txq_size) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: plain-integer members of an initialised event.
    let (ty, desc_id) = unsafe { (ev.generic.type_(), ev.tx.desc_id()) };
    if ty != EF_EVENT_TYPE_TX {
        return 0;
    }
    let mask = sv.txq_size - 1;
    let stop = desc_id.wrapping_add(1) & mask;
    let mut n = 0usize;
    for _ in 0..=mask {
        let removed = sv.state().txq.removed;
        if removed & mask == stop || removed == sv.tx_evented {
            break;
        }
        let slot = (removed & mask) as usize;
        let id = sv.tx_ids()[slot];
        if id != EF_REQUEST_ID_MASK && n < TX_BATCH as usize {
            // SAFETY: `ids` has room for EF_VI_TRANSMIT_BATCH ids.
            unsafe { ids.add(n).write(id as ef_request_id) };
            n += 1;
        }
        sv.tx_ids()[slot] = EF_REQUEST_ID_MASK;
        sv.state().txq.removed = removed.wrapping_add(1);
    }
    n as c_int
}

/// Makes the TX ring usable again after an `EF_EVENT_TYPE_TX_ERROR` (after the failed
/// transmits were walked with `ef_vi_for_each_tx_error_failed_transmit`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __ef_vi_reinit_txq_post_error(vi: *mut ef_vi) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.txq_size == 0 {
        return -libc::EINVAL;
    }
    let removed = sv.state().txq.removed;
    sv.tx_forget_from(removed);
    let st = sv.state();
    st.txq.removed = st.txq.added;
    st.txq.previous = st.txq.added;
    let added = st.txq.added;
    sv.tx_done = added;
    sv.tx_evented = added;
    sv.tx_ev_start = added;
    sv.tx_error = false;
    0
}

/// Sets the number of descriptors below which descriptors are pushed rather than rung.
///
/// # Safety
///
/// `vi` must be a live VI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_tx_push_threshold(vi: *mut ef_vi, threshold: c_uint) {
    if !vi.is_null() {
        // SAFETY: guaranteed by the caller.
        unsafe { (*vi).tx_push_thresh = threshold };
    }
}

/// Deprecated EFCT warming: same as `ef_vi_start_transmit_warm(vi, NULL, NULL)`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_start_transmit_warm(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantees.
    unsafe { op_start_transmit_warm(vi, core::ptr::null_mut(), core::ptr::null_mut()) };
}

/// Deprecated EFCT warming: same as `ef_vi_stop_transmit_warm(vi, NULL)`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_stop_transmit_warm(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantees.
    unsafe { op_stop_transmit_warm(vi, core::ptr::null_mut()) };
}
