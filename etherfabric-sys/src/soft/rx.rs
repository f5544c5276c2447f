//! Receive.

use core::ffi::{c_int, c_uint, c_void};

use super::filter_table;
use super::filter_table::Verdict;
use super::frame::{self, FrameInfo};
use super::lock;
use super::socket::AuxData;
use super::socket::MAX_FRAME;
use super::socket::PACKET_AUXDATA;
use super::socket::PACKET_OUTGOING;
use super::socket::TP_STATUS_CSUM_VALID;
use super::socket::TP_STATUS_CSUMNOTREADY;
use super::socket::TP_STATUS_VLAN_TPID_VALID;
use super::socket::TP_STATUS_VLAN_VALID;
use super::stats::bump;
use super::vi::SYNC_FLAGS;
use super::vi::SoftVi;
use super::vi::ctx;
use super::vi::flag;
use super::vi::now;
use crate::bindings::*;

/// Length of the metadata prefix when one is configured (timestamps, event merging, filter
/// ids). Layout (little-endian): seconds u32 at 0, nanoseconds u32 at 4 (`u32::MAX`: none),
/// frame length u16 at 8, `EF_VI_DISCARD_RX_*` error bits u16 at 10, filter id i32 at 12.
pub(super) const PREFIX_LEN: usize = 16;
pub(super) const PFX_LEN_OFF: usize = 8;
pub(super) const PFX_FLAGS_OFF: usize = 10;
pub(super) const PFX_FILTER_OFF: usize = 12;
/// Most RX descriptors one merged RX event completes (`EF_VI_RECEIVE_BATCH`).
pub(super) const RX_BATCH: u32 = EF_VI_RECEIVE_BATCH;

impl SoftVi {
    pub(super) fn rx_avail(&mut self) -> u32 {
        let posted = self.state().rxq.posted;
        posted.wrapping_sub(self.rx_hw)
    }

    /// Reads frames from the socket until `want` events are queued or it is empty.
    pub(super) fn rx_pump(&mut self, want: usize) {
        if !self.shared.rx || self.rxq_size == 0 {
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
    pub(super) fn rx_one(&mut self) -> bool {
        let mut sll: libc::sockaddr_ll = {
            // SAFETY: sockaddr_ll is plain data; all zeroes is valid.
            unsafe { core::mem::zeroed() }
        };
        let mut cbuf = [0u64; 32];
        let mut iov = libc::iovec {
            // Leave 4 bytes in front to re-insert a VLAN tag.
            // SAFETY: rx_buf has MAX_FRAME + 8 bytes.
            iov_base: unsafe { self.rx_buf.as_mut_ptr().add(4) }.cast(),
            iov_len: MAX_FRAME,
        };
        // SAFETY: msghdr is plain data; all zeroes is valid.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = core::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = core::mem::size_of_val(&cbuf);
        // SAFETY: `msg` describes valid buffers.
        let n = unsafe {
            libc::recvmsg(
                self.shared.sock,
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return false;
        }
        let mut len = n as usize;
        let truncated = len > MAX_FRAME || msg.msg_flags & libc::MSG_TRUNC != 0;
        len = len.min(MAX_FRAME);
        let mut aux = AuxData::default();
        let mut ts: Option<libc::timespec> = None;
        // SAFETY: walking the control messages the kernel wrote into `cbuf`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                    aux = data.cast::<AuxData>().read_unaligned();
                } else if (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == libc::SCM_TIMESTAMPNS
                {
                    ts = Some(data.cast::<libc::timespec>().read_unaligned());
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let outgoing = sll.sll_pkttype == PACKET_OUTGOING;
        // Re-insert the VLAN tag the kernel took out of the frame.
        let mut start = 4;
        if aux.status & TP_STATUS_VLAN_VALID != 0 && len >= 12 {
            let tpid = if aux.status & TP_STATUS_VLAN_TPID_VALID != 0 && aux.vlan_tpid != 0 {
                aux.vlan_tpid
            } else {
                frame::ETH_P_8021Q
            };
            self.rx_buf.copy_within(4..16, 0);
            self.rx_buf[12..14].copy_from_slice(&tpid.to_be_bytes());
            self.rx_buf[14..16].copy_from_slice(&aux.vlan_tci.to_be_bytes());
            start = 0;
            len += 4;
        }
        let fi = frame::parse(&self.rx_buf[start..start + len]);
        self.shared.pd.table.refresh(&mut self.view);
        let me = self.shared.id;
        let place = self.shared.set.as_ref().map(|(_, p)| *p);
        let verdict = filter_table::decide(
            &self.view,
            &fi,
            outgoing,
            self.shared.pd.loopback,
            me,
            place,
            || frame::flow_hash(&fi),
        );
        let Verdict::Deliver(filter_id) = verdict else {
            return true;
        };
        bump(&self.shared.stats.rx_frames);
        // Checksums: complete them when the kernel left them to "hardware" (loopback and
        // veth offload), else check them as an adapter does.
        let mut errs = frame::CsumErrors::default();
        {
            let f = &mut self.rx_buf[start..start + len];
            if aux.status & TP_STATUS_CSUMNOTREADY != 0 {
                frame::fill_l4(f, &fi);
            } else if !truncated {
                errs = frame::verify(f, &fi);
                if aux.status & TP_STATUS_CSUM_VALID != 0 {
                    errs.l4 = false;
                }
            }
        }
        let ts = ts.unwrap_or_else(now);
        self.deliver(start, len, &fi, errs, truncated, ts, filter_id);
        true
    }

    /// Copies a frame into posted RX buffers and raises the events.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn deliver(
        &mut self,
        start: usize,
        len: usize,
        fi: &FrameInfo,
        errs: frame::CsumErrors,
        truncated: bool,
        ts: libc::timespec,
        filter_id: c_int,
    ) {
        let mask = self.rxq_size - 1;
        if self.flushed || self.rx_avail() == 0 {
            bump(&self.shared.stats.rx_nodesc_drops);
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
            bump(&self.shared.stats.rx_csum_errors);
        }
        if truncated {
            bump(&self.shared.stats.rx_trunc);
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
        let mcast = if fi.is_multicast() {
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
                bump(&self.shared.stats.rx_nodesc_drops);
                self.push_event(ev);
                return;
            }
            let slot = (self.rx_hw & mask) as usize;
            let addr = self.rx_desc[slot];
            let pre = if first { self.prefix } else { 0 };
            let chunk = (len - placed).min(buf_len - pre);
            let more = placed + chunk < len;
            let ok = self.shared.pd.dma_ok(addr, pre + chunk);
            if ok {
                // SAFETY: [addr, addr + pre + chunk) lies in memory registered with this VI's
                // domain, posted to the RX ring: the application handed it to the "NIC".
                unsafe {
                    let dst = addr as usize as *mut u8;
                    if pre > 0 {
                        let mut p = [0u8; PREFIX_LEN];
                        p[0..4].copy_from_slice(&(ts.tv_sec as u32).to_le_bytes());
                        p[4..8].copy_from_slice(&(ts.tv_nsec as u32).to_le_bytes());
                        p[PFX_LEN_OFF..PFX_LEN_OFF + 2]
                            .copy_from_slice(&(len as u16).to_le_bytes());
                        p[PFX_FLAGS_OFF..PFX_FLAGS_OFF + 2]
                            .copy_from_slice(&err_bits.to_le_bytes());
                        p[PFX_FILTER_OFF..PFX_FILTER_OFF + 4]
                            .copy_from_slice(&filter_id.to_le_bytes());
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
    pub(super) fn push_merged(&self, fl: c_uint, sub: Option<c_uint>, single: bool) {
        let mut q = lock(&self.shared.evq);
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

pub(super) unsafe extern "C" fn op_receive_set_discards(vi: *mut ef_vi, flags: c_uint) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask = u64::from(flags) };
    0
}

pub(super) unsafe extern "C" fn op_receive_get_discards(vi: *mut ef_vi) -> u64 {
    if vi.is_null() {
        return 0;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask }
}

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

pub(super) unsafe extern "C" fn op_receive_push(vi: *mut ef_vi) {
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        let st = sv.state();
        st.rxq.posted = st.rxq.added;
    }
}

/// Reads the prefix timestamp of a received buffer.
///
/// # Safety
///
/// `pkt` must point to the start of the first buffer of a packet received on `vi`.
pub(super) unsafe fn prefix_ts(vi: *mut ef_vi, pkt: *const c_void) -> Result<(i64, u32), c_int> {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return Err(-libc::EINVAL);
    };
    if !flag(sv.flags, ef_vi_flags_EF_VI_RX_TIMESTAMPS) || sv.prefix == 0 || pkt.is_null() {
        return Err(-libc::EOPNOTSUPP);
    }
    // SAFETY: the prefix is the first PREFIX_LEN bytes of the buffer.
    let p = unsafe { pkt.cast::<[u8; PREFIX_LEN]>().read_unaligned() };
    let sec = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
    let nsec = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
    if nsec >= 1_000_000_000 {
        return Err(-libc::ENODATA);
    }
    Ok((i64::from(sec), nsec))
}

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

pub(super) unsafe extern "C" fn op_receive_get_filter_id(
    vi: *mut ef_vi,
    _ev: *const ef_event,
    pkt: *const c_void,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if !flag(sv.flags, ef_vi_flags_EF_VI_RX_FILTER_ID) || pkt.is_null() {
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: `pkt` is the first buffer of a received packet, which starts with the prefix.
    let p = unsafe { pkt.cast::<[u8; PREFIX_LEN]>().read_unaligned() };
    c_int::from_le_bytes([p[12], p[13], p[14], p[15]])
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
    // SAFETY: forwarded guarantees.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.prefix == 0 || pkt.is_null() || bytes_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the buffer starts with the prefix; `bytes_out` is writable.
    unsafe {
        let p = pkt.cast::<u8>().add(PFX_LEN_OFF);
        *bytes_out = u16::from_le_bytes([*p, *p.add(1)]);
    }
    0
}

/// User marks need SN1000-class adapters: not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_user_data(
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
    // SAFETY: forwarded guarantees.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.prefix == 0 || pkt.is_null() || flags_out.is_null() {
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: the buffer starts with the prefix; `flags_out` is writable.
    unsafe {
        let p = pkt.cast::<u8>().add(PFX_FLAGS_OFF);
        *flags_out = c_uint::from(u16::from_le_bytes([*p, *p.add(1)]));
    }
    0
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
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if ev.is_null() || ids.is_null() || sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `ev` is a readable, initialised event.
    let (ty, n) = unsafe { ((*ev).generic.type_(), (*ev).rx_multi.n_descs()) };
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
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_packed_stream_get_params(
    _vi: *mut ef_vi,
    _p: *mut ef_packed_stream_params,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// Packed-stream mode is not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_packed_stream_unbundle(
    _vi: *mut ef_vi,
    _ev: *const ef_event,
    _pkt_iter: *mut *mut ef_packed_stream_packet,
    _n_pkts_out: *mut c_int,
    _n_bytes_out: *mut c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// EFCT receive is not used by this backend (no `EF_EVENT_TYPE_RX_REF` events): NULL.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rxpkt_get(_vi: *mut ef_vi, _pkt_id: u32) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: nothing to release.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rxpkt_release(_vi: *mut ef_vi, _pkt_id: u32) {}

/// EFCT receive is not used by this backend: no packet is ever in the future (NULL).
///
/// # Safety
///
/// None: the argument is not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rx_future_peek(_vi: *mut ef_vi) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: no events.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rx_future_poll(
    _vi: *mut ef_vi,
    _evs: *mut ef_event,
    _n: c_int,
) -> c_int {
    0
}
