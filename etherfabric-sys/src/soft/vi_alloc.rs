//! Allocating and freeing VIs: ring sizes, the `ef_vi` fields the header macros read, the
//! `ops` table, joining a VI set and sharing an event queue; and `ef_vi_flush()`.
//!
//! Freeing a VI drops its state ([`SoftVi`]): its filters, set slot, socket, event queue
//! (unless another VI shares it) and ring memory go with it.

use core::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::{Arc, Mutex};

use super::evq::{EventQueue, Listing};
use super::filter_table::{Owner, SetPlace, TableView};
use super::pd::{PdShared, pd_of};
use super::pio::mark_unlinked;
use super::rx::RxPrefix;
use super::set::{SetShared, SlotHold, set_of};
use super::socket::{MAX_FRAME, PacketSocket, VLAN_HEADROOM, add_memberships};
use super::stats::Stats;
use super::vi::{SYNC_FLAGS, SoftVi, TxDesc, ViBase, ctx, flag};
use super::{CArray, log_once, new_id, pio, poll, rx, tx, tx_alt_ops};
use crate::bindings::*;

/// Default RX buffer length, as on EF10 adapters.
const RX_BUFFER_LEN: c_uint = 1792;

fn ops_table() -> ef_vi_ops {
    ef_vi_ops {
        transmit: Some(tx::op_transmit),
        transmitv: Some(tx::op_transmitv),
        transmitv_init: Some(tx::op_transmitv_init),
        transmit_push: Some(tx::op_transmit_push),
        transmit_pio: Some(pio::op_transmit_pio),
        transmit_copy_pio: Some(pio::op_transmit_copy_pio),
        start_transmit_warm: Some(tx::op_start_transmit_warm),
        stop_transmit_warm: Some(tx::op_stop_transmit_warm),
        transmit_pio_warm: Some(pio::op_transmit_pio_warm),
        transmit_copy_pio_warm: Some(pio::op_transmit_copy_pio_warm),
        transmitv_ctpio: Some(pio::op_transmitv_ctpio),
        transmitv_ctpio_copy: Some(pio::op_transmitv_ctpio_copy),
        transmit_alt_select: Some(tx_alt_ops::op_alt_select),
        transmit_alt_select_default: Some(tx_alt_ops::op_alt_select_default),
        transmit_alt_stop: Some(tx_alt_ops::op_alt_stop),
        transmit_alt_go: Some(tx_alt_ops::op_alt_go),
        receive_set_discards: Some(rx::op_receive_set_discards),
        receive_get_discards: Some(rx::op_receive_get_discards),
        transmit_alt_discard: Some(tx_alt_ops::op_alt_discard),
        receive_init: Some(rx::op_receive_init),
        receive_push: Some(rx::op_receive_push),
        receive_get_timestamp: Some(rx::op_receive_get_timestamp),
        eventq_poll: Some(poll::op_eventq_poll),
        eventq_prime: Some(poll::op_eventq_prime),
        eventq_timer_prime: Some(poll::op_timer_prime),
        eventq_timer_run: Some(poll::op_timer_run),
        eventq_timer_clear: Some(poll::op_timer_clear),
        eventq_timer_zero: Some(poll::op_timer_zero),
        eventq_has_event: Some(poll::op_has_event),
        eventq_has_many_events: Some(poll::op_has_many_events),
        transmit_ctpio_fallback: Some(pio::op_transmit_ctpio_fallback),
        transmitv_ctpio_fallback: Some(pio::op_transmitv_ctpio_fallback),
        receive_poll: Some(poll::op_receive_poll),
        receive_get_filter_id: Some(rx::op_receive_get_filter_id),
        future_eventq_poll: Some(poll::op_future_poll),
    }
}

// ---------------------------------------------------------------------- allocation

/// A requested capacity: -1 (default) gives way to the environment variable `env` when set.
fn requested(cap: c_int, env: &str) -> c_int {
    if cap >= 0 {
        return cap;
    }
    std::env::var(env)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(cap)
}

/// Rounds a requested ring size to what the backend provides: -1 = `default`, 0 = none,
/// else the next power of two, at least 512; `-EINVAL` above `max`.
fn ring_size(req: c_int, default: u32, max: u32) -> Result<u32, c_int> {
    match req {
        0 => Ok(0),
        r if r < 0 => Ok(default),
        r => {
            let s = (r as u32).next_power_of_two().max(512);
            if s > max { Err(-libc::EINVAL) } else { Ok(s) }
        }
    }
}

/// The sizes of a VI's rings, in entries (0: none).
#[derive(Debug, Clone, Copy)]
struct Sizes {
    rxq: u32,
    txq: u32,
    evq: u32,
}

/// The ring sizes for the requested capacities (see `ring_size`); no event queue of its own
/// when the VI shares another's (`shares_evq`, which needs `evq_cap` 0).
fn ring_sizes(
    evq_cap: c_int,
    rxq_cap: c_int,
    txq_cap: c_int,
    shares_evq: bool,
) -> Result<Sizes, c_int> {
    let rxq = ring_size(requested(rxq_cap, "EF_VI_RXQ_SIZE"), 512, 4096)?;
    let txq = ring_size(requested(txq_cap, "EF_VI_TXQ_SIZE"), 512, 4096)?;
    let evq = if shares_evq {
        if evq_cap != 0 {
            return Err(-libc::EINVAL);
        }
        0
    } else {
        let req = requested(evq_cap, "EF_VI_EVQ_SIZE");
        if req == 0 {
            return Err(-libc::EINVAL);
        }
        let default = (rxq + txq).next_power_of_two().clamp(512, 32768);
        ring_size(req, default, 32768)?
    };
    if rxq == 0 && txq == 0 && evq == 0 {
        return Err(-libc::EINVAL);
    }
    Ok(Sizes { rxq, txq, evq })
}

/// Refuses the VI flags of features the backend does not have, and combinations the library
/// refuses.
fn check_flags(flags: ef_vi_flags) -> Result<(), c_int> {
    if flags & ef_vi_flags_EF_VI_RX_PACKED_STREAM != 0 {
        log_once(
            "vi_flags",
            "EF_VI_RX_PACKED_STREAM is not supported by the software backend",
        );
        return Err(-libc::EOPNOTSUPP);
    }
    let alt_ts = ef_vi_flags_EF_VI_TX_ALT | ef_vi_flags_EF_VI_TX_TIMESTAMPS;
    if flags & alt_ts == alt_ts {
        // As the library: TX alternatives and TX timestamps do not go together.
        return Err(-libc::EOPNOTSUPP);
    }
    if flags & (ef_vi_flags_EF_VI_ENABLE_TPH | ef_vi_flags_EF_VI_TPH_TAG_MODE) != 0 {
        return Err(-libc::EINVAL);
    }
    Ok(())
}

/// What `ef_vi_receive_query_layout()` reports: the frame after `prefix` bytes, and the
/// prefix fields the VI's flags ask for.
fn receive_layout(prefix: usize, flags: ef_vi_flags) -> Box<[ef_vi_layout_entry]> {
    let entry = |evle_type, offset: usize, what: &'static core::ffi::CStr| ef_vi_layout_entry {
        evle_type,
        evle_offset: offset as c_int,
        evle_description: what.as_ptr(),
    };
    let mut layout = vec![entry(
        ef_vi_layout_type_EF_VI_LAYOUT_FRAME,
        prefix,
        c"Frame",
    )];
    if prefix > 0 {
        layout.push(entry(
            ef_vi_layout_type_EF_VI_LAYOUT_PACKET_LENGTH,
            RxPrefix::LEN_OFFSET,
            c"Packet length",
        ));
        if flag(flags, ef_vi_flags_EF_VI_RX_FILTER_ID) {
            layout.push(entry(
                ef_vi_layout_type_EF_VI_LAYOUT_FILTER_ID,
                RxPrefix::FILTER_ID_OFFSET,
                c"Filter id",
            ));
        }
    }
    layout.into_boxed_slice()
}

/// Allocates a VI (from a domain, or a set when `place` is given).
///
/// # Safety
///
/// `vi` must be writable memory for an `ef_vi` that will not move until freed; `evq_opt`
/// null or a live VI of this backend owning an event queue.
#[allow(clippy::too_many_arguments)]
unsafe fn alloc_vi(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    pd: Arc<PdShared>,
    set: Option<(Arc<SetShared>, c_int)>,
    evq_cap: c_int,
    rxq_cap: c_int,
    txq_cap: c_int,
    evq_opt: *mut ef_vi,
    flags: ef_vi_flags,
) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    let sizes = match check_flags(flags)
        .and_then(|()| ring_sizes(evq_cap, rxq_cap, txq_cap, !evq_opt.is_null()))
    {
        Ok(s) => s,
        Err(e) => return e,
    };
    // SAFETY: evq_opt is null or a VI of this backend, per the caller.
    let evq_sv = unsafe { ctx(evq_opt) };
    if !evq_opt.is_null() && evq_sv.is_none() {
        return -libc::EINVAL;
    }
    let Sizes {
        rxq: rxq_size,
        txq: txq_size,
        evq: evq_size,
    } = sizes;
    let evq_owner: *mut ef_vi = if evq_opt.is_null() { vi } else { evq_opt };
    let q_label = if evq_opt.is_null() {
        0
    } else {
        // SAFETY: evq_opt is a live VI.
        let n = unsafe { (*evq_opt).vi_qs_n };
        if n >= EF_VI_MAX_QS as c_int {
            return -libc::EBUSY;
        }
        n as u32
    };
    // Set slot, held from here until the VI fills it (or the allocation fails).
    let (place, hold) = match &set {
        None => (None, None),
        Some((s, idx)) => {
            let hold = match SlotHold::take(s, u32::try_from(*idx).ok()) {
                Ok(h) => h,
                Err(e) => return e,
            };
            let at = SetPlace {
                set: s.id,
                index: hold.index(),
                n: s.n,
            };
            (Some((s.clone(), at)), Some(hold))
        }
    };
    let rx = rxq_size > 0;
    let sock = match PacketSocket::open(pd.ifindex, rx) {
        Ok(s) => Arc::new(s),
        Err(e) => return e,
    };
    let evq = match evq_sv {
        Some(e) => e.base.evq.clone(),
        None => match EventQueue::new(flag(flags, ef_vi_flags_EF_VI_ENABLE_EV_TIMER)) {
            Ok(q) => Arc::new(Mutex::new(q)),
            Err(e) => return e,
        },
    };
    let id = new_id();
    let base = ViBase {
        id,
        pd: pd.clone(),
        sock: sock.clone(),
        rx,
        _listing: Listing::new(id, &evq),
        evq,
        set: place.clone(),
        stats: Stats::default(),
    };
    // Join the set: from here its new filters reach this VI's socket; those it has already
    // need the interface memberships on it too. (Dropping `base` leaves the set again.)
    if let (Some((s, _)), Some(hold)) = (&place, hold) {
        hold.fill(rx.then(|| sock.clone()));
        if rx {
            for e in pd.table.owned(Owner::Set(s.id)) {
                if let Err(err) = add_memberships(core::slice::from_ref(&sock), &e.matcher) {
                    return err;
                }
            }
        }
    }

    // ep_state, then the RX and TX id arrays, then the event ring.
    let state_words = core::mem::size_of::<ef_vi_state>().div_ceil(8);
    let ids_words = (rxq_size as usize + txq_size as usize).div_ceil(2);
    let ring_words = evq_size as usize;
    let state = CArray::new(vec![0u64; state_words + ids_words + ring_words]);
    let words = state.as_ptr();
    // SAFETY: all offsets are inside `state`.
    let (ep_state, rx_ids, tx_ids, ring) = unsafe {
        let ids = words.add(state_words).cast::<u32>();
        (
            words.cast::<ef_vi_state>(),
            ids,
            ids.add(rxq_size as usize),
            words.add(state_words + ids_words).cast::<c_char>(),
        )
    };
    let merge = flag(flags, ef_vi_flags_EF_VI_RX_EVENT_MERGE);
    let prefix = if rx
        && flags
            & (ef_vi_flags_EF_VI_RX_TIMESTAMPS
                | ef_vi_flags_EF_VI_RX_EVENT_MERGE
                | ef_vi_flags_EF_VI_RX_FILTER_ID)
            != 0
    {
        RxPrefix::LEN
    } else {
        0
    };
    let mut rx_buf = vec![0u8; VLAN_HEADROOM + MAX_FRAME + 4];
    rx_buf.shrink_to_fit();
    let sv = Box::new(SoftVi {
        base,
        vi,
        _state_mem: state,
        rx_desc: vec![0u64; rxq_size as usize].into_boxed_slice(),
        tx_desc: vec![TxDesc::default(); txq_size as usize].into_boxed_slice(),
        rxq_size,
        txq_size,
        q_label,
        rx_hw: 0,
        tx_done: 0,
        tx_evented: 0,
        tx_error: false,
        flushed: false,
        warming: false,
        ctpio_sent: false,
        tx_ev_start: 0,
        view: TableView::default(),
        rx_buf: if rx { rx_buf } else { Vec::new() },
        tx_buf: Vec::with_capacity(if txq_size > 0 { 2048 } else { 0 }),
        prefix,
        flags,
        layout: receive_layout(prefix, flags),
        alts: None,
    });
    let rx_desc_ptr = sv.rx_desc.as_ptr() as *mut c_void;
    let tx_desc_ptr = sv.tx_desc.as_ptr() as *mut c_void;

    // SAFETY: `vi` is writable (caller); every pointer stored points into memory owned by
    // the boxed SoftVi, which lives until ef_vi_free.
    unsafe {
        core::ptr::write_bytes(vi, 0, 1);
        let v = &mut *vi;
        v.inited = 0x3f;
        v.vi_resource_id = id;
        v.vi_i = id;
        v.dh = vi_dh;
        v.rx_buffer_len = RX_BUFFER_LEN;
        v.rx_prefix_len = prefix as c_uint;
        v.rx_discard_mask = u64::from(
            ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR,
        );
        if prefix > 0 {
            v.rx_pkt_len_offset = RxPrefix::LEN_OFFSET as c_uint;
            v.rx_pkt_len_mask = 0xffff;
        }
        v.ts_format = ef_timestamp_format_TS_FORMAT_SECONDS_QTR_NANOSECONDS;
        v.ep_state_bytes =
            (core::mem::size_of::<ef_vi_state>() + 4 * (rxq_size + txq_size) as usize) as c_int;
        v.vi_is_normal = c_int::from(!merge);
        v.vi_ps_buf_size = 1024 * 1024;
        if evq_size > 0 {
            v.evq_base = ring;
            v.evq_mask = evq_size * 8 - 1;
        }
        v.tx_push_thresh = if flag(flags, ef_vi_flags_EF_VI_TX_PUSH_DISABLE) {
            0
        } else if flag(flags, ef_vi_flags_EF_VI_TX_PUSH_ALWAYS) {
            c_uint::MAX
        } else {
            16
        };
        v.vi_txq.mask = txq_size.saturating_sub(1);
        v.vi_txq.ct_fifo_bytes = i32::MAX as u32;
        v.vi_txq.descriptors = tx_desc_ptr;
        v.vi_txq.ids = if txq_size > 0 {
            tx_ids
        } else {
            core::ptr::null_mut()
        };
        v.vi_rxq.mask = rxq_size.saturating_sub(1);
        v.vi_rxq.descriptors = rx_desc_ptr;
        v.vi_rxq.ids = if rxq_size > 0 {
            rx_ids
        } else {
            core::ptr::null_mut()
        };
        v.ep_state = ep_state;
        v.vi_flags = flags;
        if flags & (ef_vi_flags_EF_VI_RX_TIMESTAMPS | ef_vi_flags_EF_VI_TX_TIMESTAMPS) != 0 {
            v.vi_out_flags = ef_vi_out_flags_EF_VI_OUT_CLOCK_SYNC_STATUS;
        }
        v.nic_type = ef_vi_nic_type {
            arch: ef_vi_arch_EF_VI_ARCH_EF10 as u8,
            variant: b'S' as c_char,
            revision: 0,
            nic_flags: 0,
        };
        v.evq_vi = evq_owner;
        if evq_opt.is_null() {
            v.vi_qs[0] = vi;
            v.vi_qs_n = 1;
        } else {
            (*evq_opt).vi_qs[q_label as usize] = vi;
            (*evq_opt).vi_qs_n += 1;
        }
        v.ops = ops_table();
        let st = &mut *ep_state;
        st.evq.sync_flags = SYNC_FLAGS;
        st.evq.sync_timestamp_synchronised = 1;
        for i in 0..rxq_size as usize {
            *rx_ids.add(i) = EF_REQUEST_ID_MASK;
        }
        for i in 0..txq_size as usize {
            *tx_ids.add(i) = EF_REQUEST_ID_MASK;
        }
        v.xdp_kick_context = Box::into_raw(sv).cast();
    }
    q_label as c_int
}

/// Allocates a VI from a protection domain. Returns the queue label (q_id) on success.
///
/// # Safety
///
/// `vi` must be writable memory that does not move until `ef_vi_free()`; `pd` an allocated
/// domain; `evq_opt` null or a VI of this backend with an event queue.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_alloc_from_pd(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    evq_capacity: c_int,
    rxq_capacity: c_int,
    txq_capacity: c_int,
    evq_opt: *mut ef_vi,
    _evq_dh: ef_driver_handle,
    flags: ef_vi_flags,
) -> c_int {
    // SAFETY: forwarded guarantee on `pd`.
    let pd = match unsafe { pd_of(pd) } {
        Ok(p) => p,
        Err(e) => return e,
    };
    // SAFETY: forwarded guarantees.
    unsafe {
        alloc_vi(
            vi,
            vi_dh,
            pd,
            None,
            evq_capacity,
            rxq_capacity,
            txq_capacity,
            evq_opt,
            flags,
        )
    }
}

/// Allocates a VI as member `index_in_vi_set` (or any free one for -1) of a VI set.
///
/// # Safety
///
/// As [`ef_vi_alloc_from_pd`], with `vi_set` an allocated set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_alloc_from_set(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    vi_set: *mut ef_vi_set,
    _vi_set_dh: ef_driver_handle,
    index_in_vi_set: c_int,
    evq_capacity: c_int,
    rxq_capacity: c_int,
    txq_capacity: c_int,
    evq_opt: *mut ef_vi,
    _evq_dh: ef_driver_handle,
    flags: ef_vi_flags,
) -> c_int {
    // SAFETY: forwarded guarantee on `vi_set`.
    let set = match unsafe { set_of(vi_set) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    let pd = set.pd.clone();
    // SAFETY: forwarded guarantees.
    unsafe {
        alloc_vi(
            vi,
            vi_dh,
            pd,
            Some((set, index_in_vi_set)),
            evq_capacity,
            rxq_capacity,
            txq_capacity,
            evq_opt,
            flags,
        )
    }
}

/// Frees a VI: its filters, socket and state. Free VIs that use another VI's event queue
/// before that VI.
///
/// # Safety
///
/// `vi` must be a VI allocated by this backend and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_free(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a live VI of this backend.
    let p = unsafe { (*vi).xdp_kick_context }.cast::<SoftVi>();
    if p.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the context is the Box made in alloc_vi; taking it back ends the VI.
    let sv = unsafe { Box::from_raw(p) };
    // SAFETY: as above.
    unsafe {
        (*vi).xdp_kick_context = core::ptr::null_mut();
        let evq = (*vi).evq_vi;
        if !evq.is_null() && evq != vi {
            let n = (*evq).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
            for i in 0..n {
                if (*evq).vi_qs[i] == vi {
                    (*evq).vi_qs[i] = core::ptr::null_mut();
                }
            }
        }
    }
    // A PIO region still linked is released with the VI.
    // SAFETY: `vi` is live until this function returns; a linked region is valid.
    let pio = unsafe { (*vi).linked_pio };
    if !pio.is_null() {
        // SAFETY: as above.
        mark_unlinked(unsafe { (*pio).pio_buffer });
        // SAFETY: as above.
        unsafe { (*vi).linked_pio = core::ptr::null_mut() };
    }
    // Its filters, set slot, socket, event queue (unless shared) and state go with it.
    drop(sv);
    0
}

/// Stops the VI: buffers it holds may be reused once this returns (nothing is received into
/// them or sent from them afterwards).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_flush(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    // SAFETY: guaranteed by the caller.
    match unsafe { ctx(vi) } {
        Some(sv) => {
            sv.tx_process();
            sv.flushed = true;
            0
        }
        None => -libc::EINVAL,
    }
}
