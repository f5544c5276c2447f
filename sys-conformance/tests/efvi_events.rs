//! Conformance of the etherfabric-sys equivalents of the `EF_EVENT_*` accessor macros, the
//! event-queue check macros, `ef_eventq_current()`, `ef_vi_get_rx_discard_subtype_from_flags()`,
//! `ef_memreg_dma_addr()`, the packed-stream inlines and the checksum inlines with their C
//! definitions (compiled from `c/efvi_events.c` against the ef_vi headers).
//!
//! Every test feeds the same inputs to the C macro (through a wrapper function) and to the
//! Rust function and requires equal results; most also check the result against an
//! independent model of the documented behaviour.

// Test code: nearly every unsafe block is a call of a C wrapper from c/efvi_events.c or of an
// etherfabric-sys equivalent on buffers owned by the test; the few that are not say why.
#![allow(clippy::undocumented_unsafe_blocks)]

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::mem::size_of;

use etherfabric_sys::*;
use sys_conformance::Rng; // the library also links the C side (c/efvi_events.c)

unsafe extern "C" {
    fn efvi_ev_accessors(e: *const ef_event, out: *mut c_uint) -> c_uint;
    fn efvi_ev_format(e: *const ef_event, buf: *mut c_char, len: usize) -> c_int;
    fn efvi_rx_discard_subtype_from_flags(flags: c_uint) -> c_uint;
    fn efvi_ev_build(e: *mut ef_event, ty: c_uint, v: *const c_uint) -> c_int;

    fn efvi_evq_install_ops(vi: *mut ef_vi);
    fn efvi_evq_last_call(n_out: *mut c_int) -> *const ef_vi;
    fn efvi_evq_has_event(vi: *mut ef_vi) -> c_int;
    fn efvi_evq_has_many_events(vi: *mut ef_vi, n: c_int) -> c_int;
    fn efvi_evq_check_event(vi: *mut ef_vi, look_ahead: c_int) -> c_int;
    fn efvi_evq_check_event_phase_bit(vi: *mut ef_vi, look_ahead: c_int) -> c_int;
    fn efvi_evq_efxdp_check_event(vi: *mut ef_vi, look_ahead: c_int) -> c_int;
    fn efvi_evq_efct_check_event(vi: *mut ef_vi) -> c_int;
    fn efvi_evq_current(vi: *mut ef_vi) -> c_uint;

    fn efvi_memreg_dma_addr(mr: *mut ef_memreg, offset: usize) -> ef_addr;

    fn efvi_ps_first(start: *mut c_void, off: c_int) -> *mut ef_packed_stream_packet;
    fn efvi_ps_next(pkt: *mut ef_packed_stream_packet) -> *mut ef_packed_stream_packet;
    fn efvi_ps_payload(pkt: *mut ef_packed_stream_packet) -> *mut c_void;

    fn efvi_csum_udp_buf(
        af: c_int,
        ipx: *const c_void,
        udp: *const udphdr,
        payload: *const c_void,
        paylen: c_int,
    ) -> u32;
    fn efvi_csum_tcp_buf(
        af: c_int,
        ipx: *const c_void,
        tcp: *const tcphdr,
        payload: *const c_void,
        paylen: c_int,
    ) -> u32;
    fn efvi_csum_udp_is_correct(
        af: c_int,
        ipx: *const c_void,
        udp: *const udphdr,
        payload: *const c_void,
        paylen: c_int,
    ) -> c_int;
    fn efvi_csum_tcp_is_correct(
        af: c_int,
        ipx: *const c_void,
        tcp: *const tcphdr,
        payload: *const c_void,
        paylen: c_int,
    ) -> c_int;
}

// ---------------------------------------------------------------------------------------------
// ef_event accessors

/// The accessors in the order `efvi_ev_accessors()` evaluates them.
const ACCESSORS: [&str; 33] = [
    "EF_EVENT_TYPE",
    "EF_EVENT_RX_BYTES",
    "EF_EVENT_RX_Q_ID",
    "EF_EVENT_RX_RQ_ID",
    "EF_EVENT_RX_CONT",
    "EF_EVENT_RX_SOP",
    "EF_EVENT_RX_PS_NEXT_BUFFER",
    "EF_EVENT_RX_ISCSI_OKAY",
    "EF_EVENT_TX_Q_ID",
    "EF_EVENT_TX_CTPIO",
    "EF_EVENT_RX_DISCARD_Q_ID",
    "EF_EVENT_RX_DISCARD_RQ_ID",
    "EF_EVENT_RX_DISCARD_CONT",
    "EF_EVENT_RX_DISCARD_SOP",
    "EF_EVENT_RX_DISCARD_TYPE",
    "EF_EVENT_RX_DISCARD_BYTES",
    "EF_EVENT_RX_MULTI_Q_ID",
    "EF_EVENT_RX_MULTI_CONT",
    "EF_EVENT_RX_MULTI_SOP",
    "EF_EVENT_RX_MULTI_DISCARD_TYPE",
    "EF_EVENT_TX_ERROR_Q_ID",
    "EF_EVENT_TX_ERROR_TYPE",
    "EF_EVENT_TX_WITH_TIMESTAMP_Q_ID",
    "EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID",
    "EF_EVENT_TX_WITH_TIMESTAMP_SEC",
    "EF_EVENT_TX_WITH_TIMESTAMP_NSEC",
    "EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16",
    "EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS",
    "EF_EVENT_TX_ALT_Q_ID",
    "EF_EVENT_TX_ALT_ALT_ID",
    "EF_EVENT_RX_NO_DESC_TRUNC_Q_ID",
    "EF_EVENT_SW_DATA",
    "EF_EVENT_PRI_ARG",
];

fn rust_accessors(e: &ef_event) -> [u32; 33] {
    // SAFETY (whole block): every `ef_event` in these tests has all 16 bytes initialised.
    unsafe {
        [
            EF_EVENT_TYPE(e),
            EF_EVENT_RX_BYTES(e),
            EF_EVENT_RX_Q_ID(e),
            EF_EVENT_RX_RQ_ID(e),
            EF_EVENT_RX_CONT(e),
            EF_EVENT_RX_SOP(e),
            EF_EVENT_RX_PS_NEXT_BUFFER(e),
            EF_EVENT_RX_ISCSI_OKAY(e),
            EF_EVENT_TX_Q_ID(e),
            EF_EVENT_TX_CTPIO(e),
            EF_EVENT_RX_DISCARD_Q_ID(e),
            EF_EVENT_RX_DISCARD_RQ_ID(e),
            EF_EVENT_RX_DISCARD_CONT(e),
            EF_EVENT_RX_DISCARD_SOP(e),
            EF_EVENT_RX_DISCARD_TYPE(e),
            EF_EVENT_RX_DISCARD_BYTES(e),
            EF_EVENT_RX_MULTI_Q_ID(e),
            EF_EVENT_RX_MULTI_CONT(e),
            EF_EVENT_RX_MULTI_SOP(e),
            EF_EVENT_RX_MULTI_DISCARD_TYPE(e),
            EF_EVENT_TX_ERROR_Q_ID(e),
            EF_EVENT_TX_ERROR_TYPE(e),
            EF_EVENT_TX_WITH_TIMESTAMP_Q_ID(e),
            EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(e),
            EF_EVENT_TX_WITH_TIMESTAMP_SEC(e),
            EF_EVENT_TX_WITH_TIMESTAMP_NSEC(e),
            u32::from(EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(e)),
            EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(e),
            EF_EVENT_TX_ALT_Q_ID(e),
            EF_EVENT_TX_ALT_ALT_ID(e),
            EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(e),
            EF_EVENT_SW_DATA(e),
            EF_EVENT_PRI_ARG(e),
        ]
    }
}

fn c_accessors(e: &ef_event) -> [u32; 33] {
    let mut out = [0u32; 33];
    let n = unsafe { efvi_ev_accessors(e, out.as_mut_ptr()) };
    assert_eq!(
        n as usize,
        ACCESSORS.len(),
        "C and Rust accessor lists differ in length"
    );
    out
}

fn event_bytes(e: &ef_event) -> [u8; 16] {
    assert_eq!(size_of::<ef_event>(), 16);
    // SAFETY: ef_event is 16 bytes and every event here is fully initialised.
    unsafe { std::mem::transmute_copy(e) }
}

fn event_from_bytes(b: [u8; 16]) -> ef_event {
    // SAFETY: any 16 initialised bytes are a valid ef_event (all members are integers).
    unsafe { std::mem::transmute_copy(&b) }
}

/// Compares every accessor, C against Rust, naming the first that differs.
fn assert_accessors_match(e: &ef_event, what: &str) {
    let c = c_accessors(e);
    let r = rust_accessors(e);
    for ((name, r), c) in ACCESSORS.iter().zip(r).zip(c) {
        assert_eq!(
            r,
            c,
            "{what}: Rust {name} = {r:#x}, C = {c:#x} (event bytes {:02x?})",
            event_bytes(e)
        );
    }
}

fn c_format(e: &ef_event) -> String {
    let mut buf: [c_char; 32] = [0; 32];
    let n = unsafe { efvi_ev_format(e, buf.as_mut_ptr(), buf.len()) };
    assert!(n > 0 && (n as usize) < buf.len());
    unsafe { CStr::from_ptr(buf.as_ptr()) }
        .to_str()
        .unwrap()
        .to_owned()
}

/// Every event type value, plus a few past the end (the accessors do not look at the type).
fn all_event_types() -> Vec<u32> {
    vec![
        EF_EVENT_TYPE_RX,
        EF_EVENT_TYPE_TX,
        EF_EVENT_TYPE_RX_DISCARD,
        EF_EVENT_TYPE_TX_ERROR,
        EF_EVENT_TYPE_RX_NO_DESC_TRUNC,
        EF_EVENT_TYPE_SW,
        EF_EVENT_TYPE_OFLOW,
        EF_EVENT_TYPE_TX_WITH_TIMESTAMP,
        EF_EVENT_TYPE_RX_PACKED_STREAM,
        EF_EVENT_TYPE_RX_MULTI,
        EF_EVENT_TYPE_TX_ALT,
        EF_EVENT_TYPE_RX_MULTI_DISCARD,
        EF_EVENT_TYPE_RESET,
        EF_EVENT_TYPE_RX_MULTI_PKTS,
        EF_EVENT_TYPE_RX_REF,
        EF_EVENT_TYPE_RX_REF_DISCARD,
    ]
}

/// Builds the same event as `efvi_ev_build()` through bindgen's bit-field setters. Returns the
/// event and the number of values used, or `None` for an unknown type.
fn rust_build(ty: u32, v: &[u32; 8]) -> Option<(ef_event, usize)> {
    let mut e = ef_event::default();
    // Sets the type of union member `$m`, then its bitfields through the setters `$set` from
    // v[0], v[1], ... in that order; evaluates to the number of inputs used.
    macro_rules! fill {
        ($m:expr; $($set:ident),+) => {{
            let m = &mut $m;
            m.set_type(ty);
            let mut used = 0;
            $(
                m.$set(v[used]);
                used += 1;
            )+
            used
        }};
    }
    // SAFETY (whole block): the event is zero-initialised, all members are integers.
    let used = unsafe {
        match ty {
            EF_EVENT_TYPE_RX => fill!(e.rx;
                set_q_id, set___reserved, set_rq_id, set_len, set_flags, set_ofs),
            EF_EVENT_TYPE_TX => fill!(e.tx;
                set_q_id, set_flags, set___reserved, set_desc_id, set_deferred_evs),
            EF_EVENT_TYPE_RX_DISCARD => fill!(e.rx_discard;
                set_q_id, set___reserved, set_rq_id, set_len, set_flags, set_subtype),
            EF_EVENT_TYPE_TX_ERROR => fill!(e.tx_error;
                set_q_id, set_flags, set___reserved, set_desc_id, set_deferred_evs, set_subtype),
            EF_EVENT_TYPE_RX_NO_DESC_TRUNC => fill!(e.rx_no_desc_trunc; set_q_id),
            EF_EVENT_TYPE_SW => {
                let m = &mut e.sw;
                m.set_type(ty);
                m.data = v[0];
                1
            }
            EF_EVENT_TYPE_OFLOW | EF_EVENT_TYPE_RESET => {
                e.generic.set_type(ty);
                0
            }
            EF_EVENT_TYPE_TX_WITH_TIMESTAMP => fill!(e.tx_timestamp;
                set_q_id, set_flags, set_ts_nsec_frac, set_rq_id, set_ts_sec, set_ts_nsec,
                set_ts_flags),
            EF_EVENT_TYPE_RX_PACKED_STREAM => fill!(e.rx_packed_stream;
                set_q_id, set___reserved, set_flags, set_n_pkts, set_ps_flags),
            EF_EVENT_TYPE_RX_MULTI => fill!(e.rx_multi;
                set_q_id, set___reserved, set_n_descs, set_flags),
            EF_EVENT_TYPE_TX_ALT => fill!(e.tx_alt; set_q_id, set___reserved, set_alt_id),
            EF_EVENT_TYPE_RX_MULTI_DISCARD => fill!(e.rx_multi_discard;
                set_q_id, set___reserved, set_n_descs, set_flags, set_subtype),
            EF_EVENT_TYPE_RX_MULTI_PKTS => fill!(e.rx_multi_pkts;
                set_q_id, set___reserved, set_n_pkts, set_flags),
            EF_EVENT_TYPE_RX_REF => fill!(e.rx_ref;
                set_len, set_pkt_id, set_q_id, set_filter_id, set_user),
            EF_EVENT_TYPE_RX_REF_DISCARD => fill!(e.rx_ref_discard;
                set_len, set_pkt_id, set_q_id, set_filter_id, set_user, set_flags),
            _ => return None,
        }
    };
    Some((e, used))
}

fn c_build(ty: u32, v: &[u32; 8]) -> Option<(ef_event, usize)> {
    let mut e = ef_event::default();
    let used = unsafe { efvi_ev_build(&mut e, ty, v.as_ptr()) };
    usize::try_from(used).ok().map(|u| (e, u))
}

const fn mask(bits: u32) -> u32 {
    if bits >= 32 {
        u32::MAX
    } else {
        (1 << bits) - 1
    }
}

/// What the accessors that apply to an event of type `ty`, built from `v`, must return,
/// according to the documented field widths of the pinned ABI.
fn expected_fields(ty: u32, v: &[u32; 8]) -> Vec<(&'static str, u32)> {
    let frac_bits = EF_VI_TX_TS_FRAC_NS_BITS;
    let mut x = vec![("EF_EVENT_TYPE", ty), ("EF_EVENT_PRI_ARG", ty)];
    match ty {
        EF_EVENT_TYPE_RX => x.extend([
            ("EF_EVENT_RX_Q_ID", v[0] & 0xff),
            ("EF_EVENT_RX_RQ_ID", v[2]),
            ("EF_EVENT_RX_BYTES", v[3] & 0xffff),
            ("EF_EVENT_RX_CONT", v[4] & EF_EVENT_FLAG_CONT),
            ("EF_EVENT_RX_SOP", v[4] & EF_EVENT_FLAG_SOP),
            ("EF_EVENT_RX_ISCSI_OKAY", v[4] & EF_EVENT_FLAG_ISCSI_OK),
        ]),
        EF_EVENT_TYPE_TX => x.extend([
            ("EF_EVENT_TX_Q_ID", v[0] & 0xff),
            ("EF_EVENT_TX_CTPIO", v[1] & EF_EVENT_FLAG_CTPIO),
        ]),
        EF_EVENT_TYPE_RX_DISCARD => x.extend([
            ("EF_EVENT_RX_DISCARD_Q_ID", v[0] & 0xff),
            ("EF_EVENT_RX_DISCARD_RQ_ID", v[2]),
            ("EF_EVENT_RX_DISCARD_BYTES", v[3] & 0xffff),
            ("EF_EVENT_RX_DISCARD_CONT", v[4] & EF_EVENT_FLAG_CONT),
            ("EF_EVENT_RX_DISCARD_SOP", v[4] & EF_EVENT_FLAG_SOP),
            ("EF_EVENT_RX_DISCARD_TYPE", v[5] & 0xffff),
            // RX_DISCARD shares its leading layout with RX.
            ("EF_EVENT_RX_Q_ID", v[0] & 0xff),
            ("EF_EVENT_RX_RQ_ID", v[2]),
            ("EF_EVENT_RX_BYTES", v[3] & 0xffff),
        ]),
        EF_EVENT_TYPE_TX_ERROR => x.extend([
            ("EF_EVENT_TX_ERROR_Q_ID", v[0] & 0xff),
            ("EF_EVENT_TX_ERROR_TYPE", v[5] & 0xffff),
            ("EF_EVENT_TX_Q_ID", v[0] & 0xff),
        ]),
        EF_EVENT_TYPE_RX_NO_DESC_TRUNC => {
            x.push(("EF_EVENT_RX_NO_DESC_TRUNC_Q_ID", v[0] & 0xff));
        }
        EF_EVENT_TYPE_SW => x.push(("EF_EVENT_SW_DATA", v[0])),
        EF_EVENT_TYPE_TX_WITH_TIMESTAMP => x.extend([
            ("EF_EVENT_TX_WITH_TIMESTAMP_Q_ID", v[0] & 0xff),
            ("EF_EVENT_TX_CTPIO", v[1] & EF_EVENT_FLAG_CTPIO),
            (
                "EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16",
                (v[2] & mask(frac_bits)) << (16 - frac_bits),
            ),
            ("EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID", v[3]),
            ("EF_EVENT_TX_WITH_TIMESTAMP_SEC", v[4]),
            ("EF_EVENT_TX_WITH_TIMESTAMP_NSEC", v[5] & mask(30)),
            (
                "EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS",
                v[6] & EF_EVENT_TX_WITH_TIMESTAMP_SYNC_MASK,
            ),
        ]),
        EF_EVENT_TYPE_RX_PACKED_STREAM => x.push((
            "EF_EVENT_RX_PS_NEXT_BUFFER",
            v[2] & EF_EVENT_FLAG_PS_NEXT_BUFFER,
        )),
        EF_EVENT_TYPE_RX_MULTI => x.extend([
            ("EF_EVENT_RX_MULTI_Q_ID", v[0] & 0xff),
            ("EF_EVENT_RX_MULTI_CONT", v[3] & EF_EVENT_FLAG_CONT),
            ("EF_EVENT_RX_MULTI_SOP", v[3] & EF_EVENT_FLAG_SOP),
        ]),
        EF_EVENT_TYPE_TX_ALT => x.extend([
            ("EF_EVENT_TX_ALT_Q_ID", v[0] & 0xff),
            ("EF_EVENT_TX_ALT_ALT_ID", v[2] & 0xffff),
        ]),
        EF_EVENT_TYPE_RX_MULTI_DISCARD => x.extend([
            ("EF_EVENT_RX_MULTI_Q_ID", v[0] & 0xff),
            ("EF_EVENT_RX_MULTI_CONT", v[3] & EF_EVENT_FLAG_CONT),
            ("EF_EVENT_RX_MULTI_SOP", v[3] & EF_EVENT_FLAG_SOP),
            ("EF_EVENT_RX_MULTI_DISCARD_TYPE", v[4] & 0xffff),
        ]),
        // OFLOW, RESET, RX_MULTI_PKTS, RX_REF and RX_REF_DISCARD have no accessor beyond the
        // type; their fields are checked through the byte comparison with C.
        _ => {}
    }
    x
}

fn check_built_event(ty: u32, v: &[u32; 8]) {
    let (c_ev, c_used) = c_build(ty, v).expect("C builder knows every event type");
    let (r_ev, r_used) = rust_build(ty, v).expect("Rust builder knows every event type");
    assert_eq!(
        c_used, r_used,
        "type {ty}: builders use different field lists"
    );
    assert_eq!(
        event_bytes(&c_ev),
        event_bytes(&r_ev),
        "type {ty}: bit-field layout differs between C and bindgen (values {v:#x?})"
    );
    assert_accessors_match(&c_ev, &format!("event type {ty}"));
    let r = rust_accessors(&c_ev);
    for (name, want) in expected_fields(ty, v) {
        let i = ACCESSORS.iter().position(|a| *a == name).unwrap();
        assert_eq!(r[i], want, "type {ty}: {name} (values {v:#x?})");
    }
    assert_eq!(c_format(&c_ev), format!("[ev:{ty:x}]"));
}

#[test]
fn crafted_events_of_every_type() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for ty in all_event_types() {
        check_built_event(ty, &[0; 8]);
        check_built_event(ty, &[u32::MAX; 8]);
        // One bit set at a time, so a misplaced field shows up on its own.
        for bit in 0..32 {
            check_built_event(ty, &[1 << bit; 8]);
        }
        for _ in 0..2000 {
            let mut v = [0u32; 8];
            for x in &mut v {
                // Mix full-width values with small ones that fit every field.
                *x = match rng.below(3) {
                    0 => rng.next_u32(),
                    1 => rng.next_u32() & 0xff,
                    _ => rng.next_u32() & 0xffff,
                };
            }
            check_built_event(ty, &v);
        }
    }
    // No builder for types past the end: the test covers the whole enumeration.
    assert!(c_build(EF_EVENT_TYPE_MAX, &[0; 8]).is_none());
    assert!(rust_build(EF_EVENT_TYPE_MAX, &[0; 8]).is_none());
}

#[test]
fn random_bit_patterns() {
    let mut rng = Rng(0x0123_4567_89ab_cdef);
    let mut patterns: Vec<[u8; 16]> = vec![[0; 16], [0xff; 16]];
    for i in 0..128 {
        let mut b = [0u8; 16];
        b[i / 8] = 1 << (i % 8);
        patterns.push(b);
    }
    for _ in 0..200_000 {
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&rng.next_u64().to_ne_bytes());
        b[8..].copy_from_slice(&rng.next_u64().to_ne_bytes());
        patterns.push(b);
    }
    for (i, b) in patterns.into_iter().enumerate() {
        let e = event_from_bytes(b);
        assert_accessors_match(&e, &format!("pattern {i}"));
        if i % 1000 == 0 {
            assert_eq!(
                c_format(&e),
                format!("[ev:{:x}]", unsafe { EF_EVENT_PRI_ARG(&e) })
            );
        }
    }
}

#[test]
fn event_fmt_matches_the_rust_format() {
    // The Rust docs of EF_EVENT_PRI_ARG promise that "[ev:{:x}]" prints like EF_EVENT_FMT.
    assert_eq!(EF_EVENT_FMT, b"[ev:%x]\0");
    for ty in [0u32, 9, 0xa, 0xf, 0x10, 0xabcd, 0xffff] {
        let mut e = ef_event::default();
        unsafe { e.generic.set_type(ty) };
        assert_eq!(
            c_format(&e),
            format!("[ev:{:x}]", unsafe { EF_EVENT_PRI_ARG(&e) })
        );
    }
}

#[test]
fn rx_discard_subtype_from_flags() {
    for flags in 0..(1u32 << 12) {
        assert_eq!(
            ef_vi_get_rx_discard_subtype_from_flags(flags),
            unsafe { efvi_rx_discard_subtype_from_flags(flags) },
            "flags {flags:#x}"
        );
    }
    let mut rng = Rng(42);
    for _ in 0..100_000 {
        let flags = rng.next_u32();
        assert_eq!(ef_vi_get_rx_discard_subtype_from_flags(flags), unsafe {
            efvi_rx_discard_subtype_from_flags(flags)
        });
    }
    // The documented priority order.
    let f = ef_vi_get_rx_discard_subtype_from_flags;
    assert_eq!(f(0), 0);
    assert_eq!(f(u32::MAX), EF_EVENT_RX_DISCARD_CRC_BAD);
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR),
        EF_EVENT_RX_DISCARD_CRC_BAD
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR),
        EF_EVENT_RX_DISCARD_TRUNC
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR
            | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR),
        EF_EVENT_RX_DISCARD_TRUNC
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR),
        EF_EVENT_RX_DISCARD_CSUM_BAD
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR),
        EF_EVENT_RX_DISCARD_CSUM_BAD
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR),
        EF_EVENT_RX_DISCARD_INNER_CSUM_BAD
    );
    assert_eq!(
        f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR),
        EF_EVENT_RX_DISCARD_INNER_CSUM_BAD
    );
    for other in [
        ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L2_CLASS_OTHER,
        ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CLASS_OTHER,
        ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CLASS_OTHER,
    ] {
        assert_eq!(f(other), EF_EVENT_RX_DISCARD_OTHER);
    }
    // The deprecated TOBE_DISC flag maps to nothing.
    assert_eq!(f(ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_TOBE_DISC), 0);
}

// ---------------------------------------------------------------------------------------------
// Event queue

/// Slots in the test event ring (a power of two, like a real event queue).
const RING: usize = 8;
const EV_BYTES: u32 = 8;
const PHASE_BIT: u32 = 59;

/// A zeroed VI whose event queue is `ring`, with the C test doubles installed as its
/// eventq_has_event / eventq_has_many_events operations.
struct TestVi {
    vi: Box<ef_vi>,
    state: Box<ef_vi_state>,
    ring: Box<[u64; RING]>,
}

impl TestVi {
    fn new() -> Self {
        // SAFETY: ef_vi and ef_vi_state are plain C structs for which all-zero bytes are a
        // valid value (null pointers, None function pointers, zero integers).
        let mut t = TestVi {
            vi: Box::new(unsafe { std::mem::zeroed() }),
            state: Box::new(unsafe { std::mem::zeroed() }),
            ring: Box::new([0; RING]),
        };
        t.vi.ep_state = &mut *t.state;
        t.vi.evq_base = t.ring.as_mut_ptr().cast();
        t.vi.evq_mask = RING as u32 * EV_BYTES - 1;
        unsafe { efvi_evq_install_ops(&mut *t.vi) };
        t
    }

    fn vi(&mut self) -> *mut ef_vi {
        &mut *self.vi
    }

    /// Sets the ring as if the NIC had written every event before producer position `prod`
    /// (a byte offset, wrapping at 2^32 like evq_ptr) and the application had read up to
    /// `cons`. The last RING writes occupy every slot once; each carries the phase bit of its
    /// lap, and random other bits.
    fn set_state(&mut self, cons: u32, prod: u32, rng: &mut Rng) {
        for j in 1..=RING as u32 {
            let pos = prod.wrapping_sub(j * EV_BYTES);
            let slot = ((pos & (RING as u32 * EV_BYTES - 1)) / EV_BYTES) as usize;
            let phase = u64::from(pos & (RING as u32 * EV_BYTES) != 0);
            let noise = rng.next_u64() & !(1u64 << PHASE_BIT);
            self.ring[slot] = noise | (phase << PHASE_BIT);
        }
        self.state.evq.evq_ptr = cons;
    }
}

fn last_call() -> (*const ef_vi, c_int) {
    let mut n = 0;
    let vi = unsafe { efvi_evq_last_call(&mut n) };
    (vi, n)
}

#[test]
fn eventq_checks_across_wrap_around() {
    let mut t = TestVi::new();
    let mut rng = Rng(7);
    let lap = RING as u32 * EV_BYTES;
    // Consumer positions: the first laps, and the laps around the 2^32 wrap of evq_ptr.
    let starts = [
        0u32,
        lap - EV_BYTES,
        lap,
        3 * lap + 2 * EV_BYTES,
        0u32.wrapping_sub(3 * lap),
    ];
    for start in starts {
        for step in 0..(4 * RING as u32) {
            let cons = start.wrapping_add(step * EV_BYTES);
            // Pending events: from none to a full ring.
            for pending in 0..=RING as u32 {
                let prod = cons.wrapping_add(pending * EV_BYTES);
                t.set_state(cons, prod, &mut rng);
                let vi = t.vi();
                let what = format!("evq_ptr {cons:#x}, {pending} pending");

                let want = c_int::from(pending > 0);
                let c = unsafe { efvi_evq_has_event(vi) };
                assert_eq!(
                    last_call(),
                    (vi.cast_const(), -1),
                    "{what}: C has_event args"
                );
                let r = unsafe { ef_eventq_has_event(vi) };
                assert_eq!(
                    last_call(),
                    (vi.cast_const(), -1),
                    "{what}: Rust has_event args"
                );
                assert_eq!((r, c), (want, want), "{what}: has_event (Rust, C)");
                let c = unsafe { efvi_evq_efct_check_event(vi) };
                let r = unsafe { efct_ef_eventq_check_event(vi) };
                assert_eq!((r, c), (want, want), "{what}: efct_ef_eventq_check_event");

                // n_events == ring size is undefined behaviour, so stop below it.
                for n in 0..RING as c_int {
                    let want = c_int::from((n as u32) < pending);
                    let c = unsafe { efvi_evq_has_many_events(vi, n) };
                    assert_eq!(last_call(), (vi.cast_const(), n), "{what}: C args");
                    let r = unsafe { ef_eventq_has_many_events(vi, n) };
                    assert_eq!(last_call(), (vi.cast_const(), n), "{what}: Rust args");
                    assert_eq!((r, c), (want, want), "{what}: has_many_events({n})");
                    let aliases = [
                        (
                            unsafe { ef_eventq_check_event(vi, n) },
                            unsafe { efvi_evq_check_event(vi, n) },
                            "ef_eventq_check_event",
                        ),
                        (
                            unsafe { ef_eventq_check_event_phase_bit(vi, n) },
                            unsafe { efvi_evq_check_event_phase_bit(vi, n) },
                            "ef_eventq_check_event_phase_bit",
                        ),
                        (
                            unsafe { efxdp_ef_eventq_check_event(vi, n) },
                            unsafe { efvi_evq_efxdp_check_event(vi, n) },
                            "efxdp_ef_eventq_check_event",
                        ),
                    ];
                    for (r, c, name) in aliases {
                        assert_eq!((r, c), (want, want), "{what}: {name}({n})");
                        assert_eq!(last_call(), (vi.cast_const(), n), "{what}: {name} args");
                    }
                }
            }
        }
    }
}

#[test]
fn eventq_current() {
    let mut t = TestVi::new();
    let mut rng = Rng(99);
    let mut values = vec![
        0u32,
        8,
        0x3f,
        0x40,
        0x7fff_fff8,
        0x8000_0000,
        u32::MAX - 7,
        u32::MAX,
    ];
    values.extend((0..1000).map(|_| rng.next_u32()));
    for v in values {
        t.state.evq.evq_ptr = v;
        let vi = t.vi();
        let c = unsafe { efvi_evq_current(vi) };
        let r = unsafe { ef_eventq_current(vi) };
        assert_eq!((r, c), (v, v));
    }
}

#[test]
fn eventq_null_op_panics_instead_of_calling_null() {
    // The C macros would call address zero; the Rust equivalents panic.
    let mut t = TestVi::new();
    t.vi.ops.eventq_has_event = None;
    t.vi.ops.eventq_has_many_events = None;
    let vi = t.vi();
    assert!(std::panic::catch_unwind(|| unsafe { ef_eventq_has_event(vi) }).is_err());
    assert!(std::panic::catch_unwind(|| unsafe { ef_eventq_has_many_events(vi, 0) }).is_err());
}

// ---------------------------------------------------------------------------------------------
// ef_memreg_dma_addr

#[test]
fn memreg_dma_addr_across_page_boundaries() {
    const PAGES: usize = 64;
    let page = EF_VI_NIC_PAGE_SIZE as usize;
    assert_eq!(page, 4096);
    assert_eq!(1usize << EF_VI_NIC_PAGE_SHIFT, page);
    let mut rng = Rng(0xfeed);
    // Scattered, page-aligned DMA addresses (not contiguous, some above 4 GiB), plus one
    // unaligned entry: the C code ORs the offset in, and so must Rust.
    let mut addrs: Vec<ef_addr> = (0..PAGES)
        .map(|_| (rng.next_u64() & 0x0000_ffff_ffff_f000) | 0x1000)
        .collect();
    addrs[5] = 0x1234_5678_9abc_d321;
    // SAFETY: ef_memreg is two pointers; zero is a valid value.
    let mut mr: ef_memreg = unsafe { std::mem::zeroed() };
    mr.mr_dma_addrs = addrs.as_mut_ptr();
    mr.mr_dma_addrs_base = addrs.as_mut_ptr();

    let mut offsets = vec![0usize, 1, page * PAGES - 1];
    for p in 1..PAGES {
        let b = p * page;
        offsets.extend([b - 2, b - 1, b, b + 1, b + 2047, b + 2048]);
    }
    offsets.extend((0..10_000).map(|_| rng.below((page * PAGES) as u64) as usize));
    for off in offsets {
        let want = addrs[off / page] | (off % page) as ef_addr;
        let c = unsafe { efvi_memreg_dma_addr(&mut mr, off) };
        let r = unsafe { ef_memreg_dma_addr(&mr, off) };
        assert_eq!((r, c), (want, want), "offset {off:#x}");
    }
}

// ---------------------------------------------------------------------------------------------
// Packed stream

#[test]
fn packed_stream_walk() {
    let mut buf = vec![0u64; 64 * 1024 / 8];
    let base = buf.as_mut_ptr().cast::<u8>();
    let len = buf.len() * 8;
    let mut rng = Rng(0x5eed);

    for start_offset in [0, 64, 256] {
        // Lay out packets the way the NIC does: a header, the frame `ps_pkt_start_offset`
        // bytes after it, the next header `ps_next_offset` bytes on (64-byte aligned).
        let mut expected = Vec::new();
        let mut pos = start_offset as usize;
        let mut k = 0;
        loop {
            let cap_len = 60 + rng.below(1500) as u16;
            let start = 16 + 2 * (k % 8) as u8; // header plus a varying prefix
            let step = (usize::from(start) + usize::from(cap_len)).div_ceil(64) * 64;
            let last = pos + step + 2048 > len;
            let next = if last { 0 } else { step as u16 };
            let hdr = ef_packed_stream_packet {
                ps_next_offset: next,
                ps_pkt_start_offset: start,
                ps_flags: EF_VI_PS_FLAG_CLOCK_SET as u8,
                ps_cap_len: cap_len,
                ps_orig_len: cap_len,
                ps_ts_sec: k as u32,
                ps_ts_nsec: 1000 * k as u32,
            };
            unsafe {
                base.add(pos)
                    .cast::<ef_packed_stream_packet>()
                    .write_unaligned(hdr)
            };
            expected.push((pos, pos + usize::from(start), pos + usize::from(next)));
            if last {
                break;
            }
            pos += step;
            k += 1;
        }

        let c_first = unsafe { efvi_ps_first(base.cast(), start_offset) };
        let r_first = ef_packed_stream_packet_first(base.cast(), start_offset);
        assert_eq!(r_first, c_first, "first, start offset {start_offset}");
        let (mut c_pkt, mut r_pkt) = (c_first, r_first);
        for (i, &(at, payload, next)) in expected.iter().enumerate() {
            assert_eq!(
                r_pkt.cast::<u8>(),
                unsafe { base.add(at) },
                "packet {i} position"
            );
            let c_pay = unsafe { efvi_ps_payload(c_pkt) };
            let r_pay = unsafe { ef_packed_stream_packet_payload(r_pkt) };
            assert_eq!(r_pay, c_pay, "packet {i} payload");
            assert_eq!(
                r_pay.cast::<u8>(),
                unsafe { base.add(payload) },
                "packet {i} payload"
            );
            c_pkt = unsafe { efvi_ps_next(c_pkt) };
            r_pkt = unsafe { ef_packed_stream_packet_next(r_pkt) };
            assert_eq!(r_pkt, c_pkt, "packet {i} next");
            assert_eq!(
                r_pkt.cast::<u8>(),
                unsafe { base.add(next) },
                "packet {i} next"
            );
        }
        // The last packet has ps_next_offset 0: "next" stays on it, in C and in Rust.
        assert_eq!(r_pkt.cast::<u8>(), unsafe {
            base.add(expected.last().unwrap().0)
        });
        assert!(expected.len() > 10);
    }

    // first() is plain address arithmetic, also for offsets no buffer would use.
    for off in [-64, 1, 3, c_int::MAX] {
        let c = unsafe { efvi_ps_first(base.cast(), off) };
        let r = ef_packed_stream_packet_first(base.cast(), off);
        assert_eq!(r, c, "first with offset {off}");
    }
}

// ---------------------------------------------------------------------------------------------
// Checksums

/// RFC 1071 Internet checksum of the concatenation of `parts` (an odd final byte is padded
/// with zero), as a big-endian 16-bit number.
fn inet_checksum(parts: &[&[u8]]) -> u16 {
    let bytes: Vec<u8> = parts.concat();
    let mut sum: u32 = 0;
    for pair in bytes.chunks(2) {
        let hi = u32::from(pair[0]);
        let lo = u32::from(*pair.get(1).unwrap_or(&0));
        sum += (hi << 8) | lo;
    }
    while sum >> 16 != 0 {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The checksum as the library returns it: the big-endian bytes read as a host integer, ready
/// to store into the header field.
fn as_stored(c: u16) -> u32 {
    u32::from(u16::from_ne_bytes(c.to_be_bytes()))
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum L4 {
    Udp,
    Tcp { hdr_len: usize },
}

/// An IPv4 or IPv6 packet with a UDP or TCP header and payload, in one buffer.
struct Packet {
    af: c_int,
    l4: L4,
    buf: Vec<u8>,
    ip_len: usize,
}

impl Packet {
    fn new(af: c_int, l4: L4, payload: &[u8], rng: &mut Rng) -> Packet {
        let ip_len = if af == libc::AF_INET6 { 40 } else { 20 };
        let l4_len = match l4 {
            L4::Udp => 8,
            L4::Tcp { hdr_len } => hdr_len,
        };
        let total = ip_len + l4_len + payload.len();
        let mut b = vec![0u8; total];
        let proto = if l4 == L4::Udp { 17 } else { 6 };
        if af == libc::AF_INET6 {
            b[0] = 0x60;
            b[4..6].copy_from_slice(&((l4_len + payload.len()) as u16).to_be_bytes());
            b[6] = proto;
            b[7] = 64;
            for x in &mut b[8..40] {
                *x = rng.next_u32() as u8;
            }
        } else {
            b[0] = 0x45;
            b[2..4].copy_from_slice(&(total as u16).to_be_bytes());
            b[8] = 64;
            b[9] = proto;
            for x in &mut b[12..20] {
                *x = rng.next_u32() as u8;
            }
        }
        let l4b = &mut b[ip_len..];
        l4b[0..4].copy_from_slice(&rng.next_u32().to_ne_bytes());
        match l4 {
            L4::Udp => {
                l4b[4..6].copy_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
            }
            L4::Tcp { hdr_len } => {
                for x in &mut l4b[4..12] {
                    *x = rng.next_u32() as u8;
                }
                l4b[12] = ((hdr_len / 4) as u8) << 4;
                l4b[13] = 0x18; // PSH|ACK
                l4b[14..16].copy_from_slice(&[0x20, 0x00]);
                for x in &mut l4b[20..hdr_len] {
                    *x = 1; // NOP options
                }
            }
        }
        b[ip_len + l4_len..].copy_from_slice(payload);
        Packet {
            af,
            l4,
            buf: b,
            ip_len,
        }
    }

    fn l4_len(&self) -> usize {
        match self.l4 {
            L4::Udp => 8,
            L4::Tcp { hdr_len } => hdr_len,
        }
    }

    fn check_off(&self) -> usize {
        self.ip_len + if self.l4 == L4::Udp { 6 } else { 16 }
    }

    fn payload_len(&self) -> usize {
        self.buf.len() - self.ip_len - self.l4_len()
    }

    /// The checksum of this packet computed here, independently of C and of etherfabric-sys,
    /// with the checksum field taken as zero (UDP maps 0 to 0xffff).
    fn reference(&self) -> u16 {
        let b = &self.buf;
        let l4 = &b[self.ip_len..];
        let len = (l4.len() as u16).to_be_bytes();
        let proto = if self.l4 == L4::Udp { 17 } else { 6 };
        let pseudo: Vec<u8> = if self.af == libc::AF_INET6 {
            [&b[8..40], &[0, 0], &len[..], &[0, 0, 0, proto]].concat()
        } else {
            [&b[12..20], &[0, proto], &len[..]].concat()
        };
        let co = self.check_off() - self.ip_len;
        let c = inet_checksum(&[&pseudo, &l4[..co], &[0, 0], &l4[co + 2..]]);
        if self.l4 == L4::Udp && c == 0 {
            0xffff
        } else {
            c
        }
    }

    /// `reference()` of a UDP packet without the zero-to-0xffff mapping.
    fn reference_raw(&self) -> u16 {
        assert_eq!(self.l4, L4::Udp);
        let b = &self.buf;
        let l4 = &b[self.ip_len..];
        let len = (l4.len() as u16).to_be_bytes();
        let pseudo: Vec<u8> = if self.af == libc::AF_INET6 {
            [&b[8..40], &[0, 0], &len[..], &[0, 0, 0, 17]].concat()
        } else {
            [&b[12..20], &[0, 17], &len[..]].concat()
        };
        inet_checksum(&[&pseudo, &l4[..6], &[0, 0], &l4[8..]])
    }

    fn set_check(&mut self, stored: u32) {
        let off = self.check_off();
        self.buf[off..off + 2].copy_from_slice(&(stored as u16).to_ne_bytes());
    }

    fn ptrs(&self) -> (*const c_void, *const c_void, *const c_void, c_int) {
        let b = self.buf.as_ptr();
        unsafe {
            (
                b.cast(),
                b.add(self.ip_len).cast(),
                b.add(self.ip_len + self.l4_len()).cast(),
                self.payload_len() as c_int,
            )
        }
    }

    /// (Rust, C) results of one checksum inline, `f`, for this packet's L4 protocol, using
    /// address family `af`.
    fn both<R>(&self, af: c_int, f: &CsumInline<R>) -> (R, R) {
        let (ip, l4, pay, len) = self.ptrs();
        unsafe {
            match self.l4 {
                L4::Udp => (
                    (f.udp.0)(af, ip, l4.cast(), pay, len),
                    (f.udp.1)(af, ip, l4.cast(), pay, len),
                ),
                L4::Tcp { .. } => (
                    (f.tcp.0)(af, ip, l4.cast(), pay, len),
                    (f.tcp.1)(af, ip, l4.cast(), pay, len),
                ),
            }
        }
    }

    /// (Rust, C) checksums through the `*_ipx_buf` inlines, using address family `af`.
    fn checksums(&self, af: c_int) -> (u32, u32) {
        self.both(
            af,
            &CsumInline {
                udp: (ef_udp_checksum_ipx_buf, efvi_csum_udp_buf),
                tcp: (ef_tcp_checksum_ipx_buf, efvi_csum_tcp_buf),
            },
        )
    }

    /// (Rust, C) results of the `*_ipx_is_correct` inlines, using address family `af`.
    fn is_correct(&self, af: c_int) -> (c_int, c_int) {
        self.both(
            af,
            &CsumInline {
                udp: (ef_udp_checksum_ipx_is_correct, efvi_csum_udp_is_correct),
                tcp: (ef_tcp_checksum_ipx_is_correct, efvi_csum_tcp_is_correct),
            },
        )
    }
}

/// A checksum inline taking (af, IP header, L4 header `H`, payload, payload length): the
/// etherfabric-sys equivalent and the C wrapper.
type CsumPair<H, R> = (
    unsafe fn(c_int, *const c_void, *const H, *const c_void, c_int) -> R,
    unsafe extern "C" fn(c_int, *const c_void, *const H, *const c_void, c_int) -> R,
);

/// One checksum inline of `ef_vi` for UDP and for TCP, in Rust and in C.
struct CsumInline<R> {
    udp: CsumPair<udphdr, R>,
    tcp: CsumPair<tcphdr, R>,
}

fn check_packet(mut p: Packet, rng: &mut Rng) {
    let what = format!("{:?} af {} payload {}", p.l4, p.af, p.payload_len());
    // Whatever is in the checksum field must not matter.
    p.set_check(rng.next_u32());
    let want = as_stored(p.reference());
    let (r, c) = p.checksums(p.af);
    assert_eq!(
        (r, c),
        (want, want),
        "{what}: checksum (Rust, C, reference)"
    );
    if p.af == libc::AF_INET {
        // Any family other than AF_INET6 selects IPv4, in C and in Rust.
        assert_eq!(
            p.checksums(libc::AF_UNSPEC),
            (want, want),
            "{what}: AF_UNSPEC"
        );
    }

    p.set_check(want);
    assert_eq!(p.is_correct(p.af), (1, 1), "{what}: good checksum");
    if p.af == libc::AF_INET {
        assert_eq!(p.is_correct(libc::AF_UNSPEC), (1, 1), "{what}: AF_UNSPEC");
    }

    // A wrong checksum field.
    p.set_check(want ^ 0x0100);
    assert_eq!(p.is_correct(p.af), (0, 0), "{what}: wrong checksum field");
    p.set_check(want);

    // A flipped bit in the payload (or, without payload, in the L4 header's first word).
    let at = if p.payload_len() > 0 {
        p.ip_len + p.l4_len() + rng.below(p.payload_len() as u64) as usize
    } else {
        p.ip_len
    };
    p.buf[at] ^= 1 << rng.below(8);
    assert_eq!(p.is_correct(p.af), (0, 0), "{what}: corrupted byte {at}");
}

#[test]
fn checksums_of_real_packets() {
    let mut rng = Rng(0xc0ff_ee00);
    let lens = [
        0usize, 1, 2, 3, 7, 8, 9, 17, 63, 64, 255, 256, 1001, 1024, 1471, 1472,
    ];
    for af in [libc::AF_INET, libc::AF_INET6] {
        for l4 in [
            L4::Udp,
            L4::Tcp { hdr_len: 20 },
            L4::Tcp { hdr_len: 32 },
            L4::Tcp { hdr_len: 60 },
        ] {
            for &len in &lens {
                for _ in 0..4 {
                    let payload: Vec<u8> = (0..len).map(|_| rng.next_u32() as u8).collect();
                    check_packet(Packet::new(af, l4, &payload, &mut rng), &mut rng);
                }
                // All-0xff and all-zero payloads exercise carries and the zero result.
                check_packet(Packet::new(af, l4, &vec![0xff; len], &mut rng), &mut rng);
                check_packet(Packet::new(af, l4, &vec![0; len], &mut rng), &mut rng);
            }
        }
    }
}

#[test]
fn udp_checksum_zero_is_sent_as_ffff() {
    // A UDP checksum that computes to zero is sent as 0xffff (zero means "no checksum").
    let mut rng = Rng(3);
    for af in [libc::AF_INET, libc::AF_INET6] {
        for len in [2usize, 3, 10, 101] {
            let mut p = Packet::new(af, L4::Udp, &vec![0x5a; len], &mut rng);
            // Choose the first payload word so that the one's-complement sum is 0xffff: with
            // that word zero the checksum is c = !sum, and adding c to sum gives 0xffff.
            let at = p.ip_len + 8;
            p.buf[at..at + 2].copy_from_slice(&[0, 0]);
            let fix = p.reference_raw();
            p.buf[at..at + 2].copy_from_slice(&fix.to_be_bytes());
            assert_eq!(p.reference_raw(), 0, "the crafted packet sums to zero");
            let (r, c) = p.checksums(af);
            assert_eq!((r, c), (0xffff, 0xffff), "af {af} len {len}");
            p.set_check(0xffff);
            assert_eq!(p.is_correct(af), (1, 1));
        }
    }
}
