//! Receive: posting RX buffers, reading frames from the packet socket, steering them through
//! the filter table, and copying them into the posted buffers with the events an adapter
//! raises; and the receive prefix with its accessors.
//!
//! Where this differs from an adapter: frames are read from the socket when the application
//! polls, not written into the ring as they arrive (see `soft/mod.rs`), and the prefix has a
//! layout of the backend's own, described by `ef_vi_receive_query_layout()`.

use core::ffi::{c_int, c_uint, c_void};

use super::filter_table::{self, Verdict};
use super::frame::{self, CsumErrors};
use super::lock;
use super::stats::bump;
use super::vi::{SYNC_FLAGS, SoftVi, ctx, flag, now, unbundle_args};
use crate::bindings::*;

/// Most RX descriptors one merged RX event completes (`EF_VI_RECEIVE_BATCH`).
const RX_BATCH: u32 = EF_VI_RECEIVE_BATCH;

/// The metadata the backend writes in front of a received frame when the VI has a prefix
/// (`EF_VI_RX_TIMESTAMPS`, `EF_VI_RX_EVENT_MERGE` or `EF_VI_RX_FILTER_ID`), and which the
/// `ef_vi_receive_get_*()` calls read back.
///
/// Layout ([`RxPrefix::LEN`] bytes, little-endian): seconds u32 at 0, nanoseconds u32 at 4,
/// frame length u16 at [`RxPrefix::LEN_OFFSET`], `EF_VI_DISCARD_RX_*` bits u16 at 10, filter
/// id i32 at [`RxPrefix::FILTER_ID_OFFSET`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct RxPrefix {
    /// Receive time, seconds (of `CLOCK_REALTIME`).
    pub sec: u32,
    /// Receive time, nanoseconds; 1e9 or more: no timestamp.
    pub nsec: u32,
    /// Length of the frame.
    pub len: u16,
    /// `EF_VI_DISCARD_RX_*` errors found in the frame.
    pub discard: u16,
    /// Id of the filter that steered the frame here (-1: none, sniffing).
    pub filter_id: c_int,
}

impl RxPrefix {
    /// Length of the prefix.
    pub const LEN: usize = 16;
    /// Offset of the frame length.
    pub const LEN_OFFSET: usize = 8;
    /// Offset of the discard bits.
    const DISCARD_OFFSET: usize = 10;
    /// Offset of the filter id.
    pub const FILTER_ID_OFFSET: usize = 12;

    /// The prefix as written in front of the frame.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut p = [0u8; Self::LEN];
        p[0..4].copy_from_slice(&self.sec.to_le_bytes());
        p[4..8].copy_from_slice(&self.nsec.to_le_bytes());
        p[Self::LEN_OFFSET..Self::LEN_OFFSET + 2].copy_from_slice(&self.len.to_le_bytes());
        p[Self::DISCARD_OFFSET..Self::DISCARD_OFFSET + 2]
            .copy_from_slice(&self.discard.to_le_bytes());
        p[Self::FILTER_ID_OFFSET..Self::FILTER_ID_OFFSET + 4]
            .copy_from_slice(&self.filter_id.to_le_bytes());
        p
    }

    /// Decodes a prefix written by [`RxPrefix::to_bytes`].
    pub fn from_bytes(p: [u8; Self::LEN]) -> RxPrefix {
        let u16_at = |o: usize| u16::from_le_bytes([p[o], p[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes([p[o], p[o + 1], p[o + 2], p[o + 3]]);
        RxPrefix {
            sec: u32_at(0),
            nsec: u32_at(4),
            len: u16_at(Self::LEN_OFFSET),
            discard: u16_at(Self::DISCARD_OFFSET),
            filter_id: u32_at(Self::FILTER_ID_OFFSET) as c_int,
        }
    }

    /// Reads the prefix at the start of a received buffer.
    ///
    /// # Safety
    ///
    /// `pkt` must point to at least [`RxPrefix::LEN`] readable bytes.
    pub unsafe fn read(pkt: *const c_void) -> RxPrefix {
        // SAFETY: guaranteed by the caller.
        RxPrefix::from_bytes(unsafe { pkt.cast::<[u8; Self::LEN]>().read_unaligned() })
    }

    /// The receive time: (seconds, nanoseconds), or `-ENODATA` when the frame has none.
    pub fn time(self) -> Result<(i64, u32), c_int> {
        if self.nsec >= 1_000_000_000 {
            Err(-libc::ENODATA)
        } else {
            Ok((i64::from(self.sec), self.nsec))
        }
    }
}

/// A frame steered to this VI, ready to be copied into its RX buffers.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    /// Where the frame is in `rx_buf`.
    start: usize,
    len: usize,
    multicast: bool,
    truncated: bool,
    errs: CsumErrors,
    time: libc::timespec,
    filter_id: c_int,
}

impl SoftVi {
    fn rx_avail(&mut self) -> u32 {
        let posted = self.state().rxq.posted;
        posted.wrapping_sub(self.rx_hw)
    }

    /// Reads frames from the socket until `want` events are queued or it is empty.
    pub(super) fn rx_pump(&mut self, want: usize) {
        if !self.base.rx || self.rxq_size == 0 {
            return;
        }
        for _ in 0..64 {
            if self.queued_events() >= want {
                break;
            }
            if !self.rx_one() {
                break;
            }
        }
    }

    /// Receives and handles one frame; false when the socket is empty.
    fn rx_one(&mut self) -> bool {
        let Some(r) = self.base.sock.recv(&mut self.rx_buf) else {
            return false;
        };
        let (start, len) = (r.start, r.len);
        let fi = frame::parse(&self.rx_buf[start..start + len]);
        self.base.pd.table.refresh(&mut self.view);
        let me = self.base.id;
        let place = self.base.set.as_ref().map(|(_, p)| *p);
        let verdict = filter_table::decide(
            &self.view,
            &fi,
            r.outgoing,
            self.base.pd.loopback,
            me,
            place,
            || frame::flow_hash(&fi),
        );
        let Verdict::Deliver(filter_id) = verdict else {
            return true;
        };
        bump(&self.base.stats.rx_frames);
        // Checksums: complete them when the kernel left them to "hardware" (loopback and
        // veth offload), else check them as an adapter does.
        let mut errs = CsumErrors::default();
        {
            let f = &mut self.rx_buf[start..start + len];
            if r.csum_not_ready {
                frame::fill_l4(f, &fi);
            } else if !r.truncated {
                errs = frame::verify(f, &fi);
                if r.csum_valid {
                    errs.l4 = false;
                }
            }
        }
        self.deliver(&Arrival {
            start,
            len,
            multicast: fi.is_multicast(),
            truncated: r.truncated,
            errs,
            time: r.time.unwrap_or_else(now),
            filter_id,
        });
        true
    }

    /// Copies a frame into posted RX buffers and raises the events.
    fn deliver(&mut self, a: &Arrival) {
        let &Arrival {
            start,
            len,
            truncated,
            errs,
            ..
        } = a;
        let mask = self.rxq_size - 1;
        if self.flushed || self.rx_avail() == 0 {
            bump(&self.base.stats.rx_nodesc_drops);
            return;
        }
        let merge = flag(self.flags, ef_vi_flags_EF_VI_RX_EVENT_MERGE);
        let dmask = self.discard_mask();
        let mut err_bits: u16 = 0;
        if errs.l3 {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR as u16;
        }
        if errs.l4 {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR as u16;
        }
        if truncated {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR as u16;
        }
        if errs.l3 || errs.l4 {
            bump(&self.base.stats.rx_csum_errors);
        }
        if truncated {
            bump(&self.base.stats.rx_trunc);
        }
        let subtype = if truncated {
            Some(EF_EVENT_RX_DISCARD_TRUNC)
        } else if u64::from(err_bits) & dmask != 0 {
            Some(EF_EVENT_RX_DISCARD_CSUM_BAD)
        } else {
            None
        };
        // SAFETY: self.vi is live.
        let buf_len = (unsafe { (*self.vi).rx_buffer_len } as usize).max(self.prefix + 1);
        let mcast = if a.multicast {
            EF_EVENT_FLAG_MULTICAST
        } else {
            0
        };
        let mut placed = 0usize; // frame bytes written so far
        let mut first = true;
        loop {
            if self.rx_avail() == 0 {
                // Out of descriptors in the middle of a frame.
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    ev.rx_no_desc_trunc.set_type(EF_EVENT_TYPE_RX_NO_DESC_TRUNC);
                    ev.rx_no_desc_trunc.set_q_id(self.q_label);
                }
                bump(&self.base.stats.rx_nodesc_drops);
                self.push_event(ev);
                return;
            }
            let slot = (self.rx_hw & mask) as usize;
            let addr = self.rx_desc[slot];
            let pre = if first { self.prefix } else { 0 };
            let chunk = (len - placed).min(buf_len - pre);
            let more = placed + chunk < len;
            let ok = self.base.pd.dma_ok(addr, pre + chunk);
            if ok {
                // SAFETY: [addr, addr + pre + chunk) lies in memory registered with this VI's
                // domain, posted to the RX ring: the application handed it to the "NIC".
                unsafe {
                    let dst = addr as usize as *mut u8;
                    if pre > 0 {
                        let p = RxPrefix {
                            sec: a.time.tv_sec as u32,
                            nsec: a.time.tv_nsec as u32,
                            len: len as u16,
                            discard: err_bits,
                            filter_id: a.filter_id,
                        }
                        .to_bytes();
                        core::ptr::copy_nonoverlapping(p.as_ptr(), dst, pre);
                    }
                    core::ptr::copy_nonoverlapping(
                        self.rx_buf.as_ptr().add(start + placed),
                        dst.add(pre),
                        chunk,
                    );
                }
            }
            placed += chunk;
            self.rx_hw = self.rx_hw.wrapping_add(1);
            let id = self.rx_ids()[slot];
            if !merge {
                self.rx_ids()[slot] = EF_REQUEST_ID_MASK;
                let st = self.state();
                st.rxq.removed = st.rxq.removed.wrapping_add(1);
            }
            let fl = mcast
                | if first { EF_EVENT_FLAG_SOP } else { 0 }
                | if more && ok { EF_EVENT_FLAG_CONT } else { 0 };
            let sub = if !ok {
                Some(EF_EVENT_RX_DISCARD_RIGHTS)
            } else if more {
                None
            } else {
                subtype
            };
            let cum = (self.prefix + placed) as c_uint;
            if merge {
                self.push_merged(fl, sub, !more && first);
            } else {
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    let r = &mut ev.rx_discard;
                    r.set_type(if sub.is_some() {
                        EF_EVENT_TYPE_RX_DISCARD
                    } else {
                        EF_EVENT_TYPE_RX
                    });
                    r.set_q_id(self.q_label);
                    r.set_rq_id(id as c_uint);
                    r.set_len(cum);
                    r.set_flags(fl);
                    r.set_subtype(sub.unwrap_or(0));
                }
                self.push_event(ev);
            }
            if !more || !ok {
                return;
            }
            first = false;
        }
    }

    /// Queues (or extends) an `RX_MULTI`/`RX_MULTI_DISCARD` event for one more descriptor.
    fn push_merged(&self, fl: c_uint, sub: Option<c_uint>, single: bool) {
        let mut q = lock(&self.base.evq);
        let ty = if sub.is_some() {
            EF_EVENT_TYPE_RX_MULTI_DISCARD
        } else {
            EF_EVENT_TYPE_RX_MULTI
        };
        if single {
            if let Some(last) = q.events.back_mut() {
                // SAFETY: plain-integer union members; every queued event is fully initialised.
                unsafe {
                    let m = &mut last.rx_multi_discard;
                    if m.type_() == ty
                        && m.q_id() == self.q_label
                        && m.flags() & !EF_EVENT_FLAG_MULTICAST == EF_EVENT_FLAG_SOP
                        && m.n_descs() < RX_BATCH
                        && (sub.is_none() || m.subtype() == sub.unwrap_or(0))
                    {
                        m.set_n_descs(m.n_descs() + 1);
                        m.set_flags(m.flags() | (fl & EF_EVENT_FLAG_MULTICAST));
                        return;
                    }
                }
            }
        }
        let mut ev = ef_event::default();
        // SAFETY: plain-integer union member.
        unsafe {
            let m = &mut ev.rx_multi_discard;
            m.set_type(ty);
            m.set_q_id(self.q_label);
            m.set_n_descs(1);
            m.set_flags(fl);
            m.set_subtype(sub.unwrap_or(0));
        }
        q.push(ev);
    }
}

/// The `receive_set_discards` op, behind `ef_vi_receive_set_discards()`.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend.
pub(super) unsafe extern "C" fn op_receive_set_discards(vi: *mut ef_vi, flags: c_uint) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask = u64::from(flags) };
    0
}

/// The `receive_get_discards` op, behind `ef_vi_receive_get_discards()`.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend.
pub(super) unsafe extern "C" fn op_receive_get_discards(vi: *mut ef_vi) -> u64 {
    if vi.is_null() {
        return 0;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask }
}

/// The `receive_init` op, behind `ef_vi_receive_init()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; `addr` a DMA address of registered memory with room for
/// a receive buffer.
pub(super) unsafe extern "C" fn op_receive_init(
    vi: *mut ef_vi,
    addr: ef_addr,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    let mask = sv.rxq_size - 1;
    let st = sv.state().rxq;
    if mask.wrapping_sub(st.added.wrapping_sub(st.removed)) == 0 {
        return -libc::EAGAIN;
    }
    let slot = (st.added & mask) as usize;
    sv.rx_desc[slot] = addr;
    sv.rx_ids()[slot] = id as u32;
    let st = sv.state();
    st.rxq.added = st.rxq.added.wrapping_add(1);
    0
}

/// The `receive_push` op, behind `ef_vi_receive_push()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
pub(super) unsafe extern "C" fn op_receive_push(vi: *mut ef_vi) {
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        let st = sv.state();
        st.rxq.posted = st.rxq.added;
    }
}

/// The prefix of `pkt`, the first buffer of a packet received on `vi`: `Err(missing)` when
/// the VI writes no prefix or lacks one of the flags `needs`, `-EINVAL` when `vi` is not a VI.
///
/// # Safety
///
/// `vi` must be null or a live VI of this backend; `pkt` null or the first buffer of a packet
/// received on it (which starts with the prefix when the VI has one).
unsafe fn read_prefix(
    vi: *mut ef_vi,
    pkt: *const c_void,
    needs: ef_vi_flags,
    missing: c_int,
) -> Result<RxPrefix, c_int> {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return Err(-libc::EINVAL);
    };
    if sv.flags & needs != needs || sv.prefix == 0 || pkt.is_null() {
        return Err(missing);
    }
    // SAFETY: the buffer starts with the prefix, per the caller.
    Ok(unsafe { RxPrefix::read(pkt) })
}

/// The receive timestamp in the prefix of `pkt`.
///
/// # Safety
///
/// As [`read_prefix`].
unsafe fn prefix_ts(vi: *mut ef_vi, pkt: *const c_void) -> Result<(i64, u32), c_int> {
    // SAFETY: forwarded guarantees.
    unsafe { read_prefix(vi, pkt, ef_vi_flags_EF_VI_RX_TIMESTAMPS, -libc::EOPNOTSUPP) }?.time()
}

/// The `receive_get_timestamp` op, behind `ef_vi_receive_get_precise_timestamp()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `pkt` the first buffer of a packet received on it, `out`
/// null or writable.
pub(super) unsafe extern "C" fn op_receive_get_timestamp(
    vi: *mut ef_vi,
    pkt: *const c_void,
    out: *mut ef_precisetime,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let r = unsafe { prefix_ts(vi, pkt) };
    if out.is_null() {
        return -libc::EINVAL;
    }
    let (sec, nsec, rc) = match r {
        Ok((s, n)) => (s, n, 0),
        Err(e) => (0, 0, e),
    };
    // SAFETY: `out` is writable.
    unsafe {
        out.write(ef_precisetime {
            tv_sec: sec,
            tv_nsec: nsec,
            tv_nsec_frac: 0,
            tv_flags: if rc == 0 { SYNC_FLAGS as u16 } else { 0 },
        });
    }
    rc
}

/// The `receive_get_filter_id` op, behind `ef_vi_receive_get_filter_id()`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `pkt` the first buffer of a packet received on it.
pub(super) unsafe extern "C" fn op_receive_get_filter_id(
    vi: *mut ef_vi,
    _ev: *const ef_event,
    pkt: *const c_void,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend; `pkt` a buffer received on it.
    match unsafe { read_prefix(vi, pkt, ef_vi_flags_EF_VI_RX_FILTER_ID, -libc::EOPNOTSUPP) } {
        Ok(p) => p.filter_id,
        Err(e) => e,
    }
}

/// Posts one RX buffer and pushes it (`ef_vi_receive_init()` + `ef_vi_receive_push()`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend; `addr` a DMA address of registered memory with
/// room for `ef_vi_receive_buffer_len()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_post(
    vi: *mut ef_vi,
    addr: ef_addr,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe {
        let rc = op_receive_init(vi, addr, dma_id);
        if rc == 0 {
            op_receive_push(vi);
        }
        rc
    }
}

/// Deprecated form of `ef_vi_receive_get_precise_timestamp()`.
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet just received on `vi`; `ts_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_timestamp(
    vi: *mut ef_vi,
    pkt: *const c_void,
    ts_out: *mut timespec,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe { ef_vi_receive_get_timestamp_with_sync_flags(vi, pkt, ts_out, core::ptr::null_mut()) }
}

/// The (software) receive timestamp of a packet and the clock sync flags.
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet just received on `vi`; the outputs writable
/// (`flags_out` may be null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_timestamp_with_sync_flags(
    vi: *mut ef_vi,
    pkt: *const c_void,
    ts_out: *mut timespec,
    flags_out: *mut c_uint,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let r = unsafe { prefix_ts(vi, pkt) };
    let (sec, nsec, rc) = match r {
        Ok((s, n)) => (s, n, 0),
        Err(e) => (0, 0, e),
    };
    // SAFETY: the outputs are writable when not null.
    unsafe {
        if !ts_out.is_null() {
            (*ts_out).tv_sec = sec as _;
            (*ts_out).tv_nsec = nsec as _;
        }
        if !flags_out.is_null() {
            *flags_out = if rc == 0 { SYNC_FLAGS } else { 0 };
        }
    }
    rc
}

/// The length of a packet received in event-merge mode (from its prefix).
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet received on `vi`; `bytes_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_bytes(
    vi: *mut ef_vi,
    pkt: *const c_void,
    bytes_out: *mut u16,
) -> c_int {
    if bytes_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: forwarded guarantees.
    match unsafe { read_prefix(vi, pkt, 0, -libc::EINVAL) } {
        Ok(p) => {
            // SAFETY: writable per the caller.
            unsafe { bytes_out.write(p.len) };
            0
        }
        Err(e) => e,
    }
}

/// User marks need SN1000-class adapters: not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_receive_get_user_data(
    _vi: *mut ef_vi,
    _pkt: *const c_void,
    _user_mark: *mut u32,
    _user_flag: *mut u8,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// The `EF_VI_DISCARD_RX_*` errors found in a received packet (from its prefix).
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet received on `vi`; `flags_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_discard_flags(
    vi: *mut ef_vi,
    pkt: *const c_void,
    flags_out: *mut c_uint,
) -> c_int {
    if flags_out.is_null() {
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: forwarded guarantees.
    match unsafe { read_prefix(vi, pkt, 0, -libc::EOPNOTSUPP) } {
        Ok(p) => {
            // SAFETY: writable per the caller.
            unsafe { flags_out.write(c_uint::from(p.discard)) };
            0
        }
        Err(e) => e,
    }
}

/// Unbundles an `EF_EVENT_TYPE_RX_MULTI(_DISCARD)` event: the ids of its buffers, in order.
///
/// # Safety
///
/// `vi` must be the VI that received the event, `ev` readable, `ids` writable for
/// `EF_VI_RECEIVE_BATCH` ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_unbundle(
    vi: *mut ef_vi,
    ev: *const ef_event,
    ids: *mut ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let Some((sv, ev)) = (unsafe { unbundle_args(vi, ev, ids, |sv| sv.rxq_size) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: plain-integer members of an initialised event.
    let (ty, n) = unsafe { (ev.generic.type_(), ev.rx_multi.n_descs()) };
    if ty != EF_EVENT_TYPE_RX_MULTI && ty != EF_EVENT_TYPE_RX_MULTI_DISCARD {
        return -libc::EINVAL;
    }
    let n = n.min(RX_BATCH);
    let mask = sv.rxq_size - 1;
    for i in 0..n as usize {
        let slot = (sv.state().rxq.removed & mask) as usize;
        let id = sv.rx_ids()[slot];
        sv.rx_ids()[slot] = EF_REQUEST_ID_MASK;
        let st = sv.state();
        st.rxq.removed = st.rxq.removed.wrapping_add(1);
        // SAFETY: `ids` has room for EF_VI_RECEIVE_BATCH ids.
        unsafe { ids.add(i).write(id as ef_request_id) };
    }
    n as c_int
}

/// The id of the next RX descriptor to complete.
///
/// # Safety
///
/// `vi` must be a live VI of this backend with an RX ring.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_rxq_next_desc_id(vi: *mut ef_vi) -> ef_request_id {
    // SAFETY: guaranteed by the caller.
    match unsafe { ctx(vi) } {
        Some(sv) if sv.rxq_size > 0 => {
            let slot = (sv.state().rxq.removed & (sv.rxq_size - 1)) as usize;
            sv.rx_ids()[slot] as ef_request_id
        }
        _ => EF_REQUEST_ID_MASK as ef_request_id,
    }
}

/// The layout of the receive prefix: where the frame and the metadata are.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; the outputs writable. The layout stays valid until
/// the VI is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_query_layout(
    vi: *mut ef_vi,
    layout_out: *mut *const ef_vi_layout_entry,
    len_out: *mut c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if layout_out.is_null() || len_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the outputs are writable.
    unsafe {
        *layout_out = sv.layout.as_ptr();
        *len_out = sv.layout.len() as c_int;
    }
    0
}

/// Packed-stream mode is not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_packed_stream_get_params(
    _vi: *mut ef_vi,
    _p: *mut ef_packed_stream_params,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// Packed-stream mode is not supported (`-EOPNOTSUPP`).
#[unsafe(no_mangle)]
pub extern "C" fn ef_vi_packed_stream_unbundle(
    _vi: *mut ef_vi,
    _ev: *const ef_event,
    _pkt_iter: *mut *mut ef_packed_stream_packet,
    _n_pkts_out: *mut c_int,
    _n_bytes_out: *mut c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// EFCT receive is not used by this backend (no `EF_EVENT_TYPE_RX_REF` events): NULL.
#[unsafe(no_mangle)]
pub extern "C" fn efct_vi_rxpkt_get(_vi: *mut ef_vi, _pkt_id: u32) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: nothing to release.
#[unsafe(no_mangle)]
pub extern "C" fn efct_vi_rxpkt_release(_vi: *mut ef_vi, _pkt_id: u32) {}

/// EFCT receive is not used by this backend: no packet is ever in the future (NULL).
#[unsafe(no_mangle)]
pub extern "C" fn efct_vi_rx_future_peek(_vi: *mut ef_vi) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: no events.
#[unsafe(no_mangle)]
pub extern "C" fn efct_vi_rx_future_poll(_vi: *mut ef_vi, _evs: *mut ef_event, _n: c_int) -> c_int {
    0
}

#[cfg(test)]
mod tests {
    use super::RxPrefix;

    #[test]
    fn prefix_reads_back_what_was_written() {
        let p = RxPrefix {
            sec: 1_700_000_000,
            nsec: 999_999_999,
            len: 1514,
            discard: 0x12,
            filter_id: -1,
        };
        let b = p.to_bytes();
        assert_eq!(RxPrefix::from_bytes(b), p);
        // SAFETY: `b` has RxPrefix::LEN readable bytes.
        assert_eq!(unsafe { RxPrefix::read(b.as_ptr().cast()) }, p);
        assert_eq!(p.time(), Ok((1_700_000_000, 999_999_999)));
        assert_eq!(
            u16::from_le_bytes([b[RxPrefix::LEN_OFFSET], b[RxPrefix::LEN_OFFSET + 1]]),
            1514,
            "the length is where the layout and rx_pkt_len_offset say"
        );
        let none = RxPrefix {
            nsec: 1_000_000_000,
            ..p
        };
        assert_eq!(none.time(), Err(-libc::ENODATA));
    }
}
