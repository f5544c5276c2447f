//! The `EF_EVENT_*` accessor macros of `etherfabric/ef_vi.h` and
//! `ef_vi_get_rx_discard_subtype_from_flags()`.
//!
//! An [`ef_event`] is a 16-byte union of bit-field structs, one per event type. Each accessor
//! reads one bit-field of one union member through the bindgen-generated accessor, exactly as
//! the C macro does: no check of the event type is made, so reading the RX length of a TX
//! event returns whatever bits overlap (as in C).
//!
//! # Return types
//!
//! The C macros yield `int` or `unsigned` after integer promotion; here every accessor returns
//! [`c_uint`] holding the same value (all of them are non-negative), except
//! [`EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16`], which returns the 16-bit fraction as `u16`. The
//! flag tests (`EF_EVENT_RX_CONT` and friends) return the masked flag value (`0` or the flag
//! bit), as the C macros do, not a `bool`.
//!
//! # Safety of the accessors
//!
//! Reading a union member is `unsafe` in Rust. Every member of `ef_event` is made of plain
//! integers, so any bit pattern is valid, but the bytes read must be initialised. Events filled
//! in by `ef_eventq_poll()` into an initialised array, events made with `ef_event::default()`
//! (all 16 bytes zero) or copied from C memory satisfy this. An `ef_event` built in Rust from
//! a single union member (for example `ef_event { generic: ... }`) leaves the remaining bytes
//! uninitialised; reading a field that lies there is undefined behaviour.
//!
//! # `EF_EVENT_PRI_ARG` / `EF_EVENT_FMT`
//!
//! The C pair is used as `printf("..." EF_EVENT_FMT, EF_EVENT_PRI_ARG(ev))` and prints the event
//! type in hex as `[ev:<type>]`. [`EF_EVENT_PRI_ARG`] returns the same value as the C macro
//! (the type, as `unsigned`), so `format!("[ev:{:x}]", EF_EVENT_PRI_ARG(&ev))` gives the same
//! text as the C `printf`.

use core::ffi::c_uint;

use crate::bindings::*;

/// Defines an `unsafe fn NAME(e: &ef_event) -> c_uint` that returns one bit-field of one union
/// member, optionally masked with a flag, with the shared `# Safety` section.
macro_rules! event_accessor {
    ($(#[$doc:meta])* $name:ident => $member:ident . $field:ident ()) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// The bytes of `e` that hold the field must be initialised (true for events written by
        /// `ef_eventq_poll()` or made with `ef_event::default()`).
        #[inline]
        #[must_use]
        pub unsafe fn $name(e: &ef_event) -> c_uint {
            // SAFETY: every member of the union consists of integers only, so any bit pattern
            // is a valid value; the caller guarantees that the bytes read are initialised.
            unsafe { e.$member.$field() }
        }
    };
    ($(#[$doc:meta])* $name:ident => $member:ident . $field:ident () & $mask:expr) => {
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// The bytes of `e` that hold the field must be initialised (true for events written by
        /// `ef_eventq_poll()` or made with `ef_event::default()`).
        #[inline]
        #[must_use]
        pub unsafe fn $name(e: &ef_event) -> c_uint {
            // SAFETY: every member of the union consists of integers only, so any bit pattern
            // is a valid value; the caller guarantees that the bytes read are initialised.
            unsafe { e.$member.$field() & $mask }
        }
    };
}

event_accessor! {
    /// The type of an event, one of the `EF_EVENT_TYPE_*` values (C macro `EF_EVENT_TYPE(e)`,
    /// which reads `e.generic.type`).
    EF_EVENT_TYPE => generic.type_()
}

event_accessor! {
    /// The number of bytes received in an `EF_EVENT_TYPE_RX` event (C macro
    /// `EF_EVENT_RX_BYTES(e)`: `e.rx.len`).
    EF_EVENT_RX_BYTES => rx.len()
}

event_accessor! {
    /// The RX descriptor ring (queue label) of an `EF_EVENT_TYPE_RX` event (C macro
    /// `EF_EVENT_RX_Q_ID(e)`: `e.rx.q_id`).
    EF_EVENT_RX_Q_ID => rx.q_id()
}

event_accessor! {
    /// The DMA id given to `ef_vi_receive_init()` for the buffer of an `EF_EVENT_TYPE_RX`
    /// event (C macro `EF_EVENT_RX_RQ_ID(e)`: `e.rx.rq_id`).
    EF_EVENT_RX_RQ_ID => rx.rq_id()
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_CONT`) if the packet of an `EF_EVENT_TYPE_RX` event continues
    /// in the next buffer (C macro `EF_EVENT_RX_CONT(e)`: `e.rx.flags & EF_EVENT_FLAG_CONT`).
    EF_EVENT_RX_CONT => rx.flags() & EF_EVENT_FLAG_CONT
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_SOP`) if the buffer of an `EF_EVENT_TYPE_RX` event holds the
    /// start of a packet (C macro `EF_EVENT_RX_SOP(e)`: `e.rx.flags & EF_EVENT_FLAG_SOP`).
    EF_EVENT_RX_SOP => rx.flags() & EF_EVENT_FLAG_SOP
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_PS_NEXT_BUFFER`) if an `EF_EVENT_TYPE_RX_PACKED_STREAM` event
    /// starts a new packed-stream buffer (C macro `EF_EVENT_RX_PS_NEXT_BUFFER(e)`:
    /// `e.rx_packed_stream.flags & EF_EVENT_FLAG_PS_NEXT_BUFFER`).
    EF_EVENT_RX_PS_NEXT_BUFFER => rx_packed_stream.flags() & EF_EVENT_FLAG_PS_NEXT_BUFFER
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_ISCSI_OK`) if the NIC validated the iSCSI digest of an
    /// `EF_EVENT_TYPE_RX` event (C macro `EF_EVENT_RX_ISCSI_OKAY(e)`:
    /// `e.rx.flags & EF_EVENT_FLAG_ISCSI_OK`).
    EF_EVENT_RX_ISCSI_OKAY => rx.flags() & EF_EVENT_FLAG_ISCSI_OK
}

event_accessor! {
    /// The TX descriptor ring (queue label) of an `EF_EVENT_TYPE_TX` event (C macro
    /// `EF_EVENT_TX_Q_ID(e)`: `e.tx.q_id`).
    EF_EVENT_TX_Q_ID => tx.q_id()
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_CTPIO`) if the packets of an `EF_EVENT_TYPE_TX` event went
    /// out by CTPIO (C macro `EF_EVENT_TX_CTPIO(e)`: `e.tx.flags & EF_EVENT_FLAG_CTPIO`).
    EF_EVENT_TX_CTPIO => tx.flags() & EF_EVENT_FLAG_CTPIO
}

event_accessor! {
    /// The RX descriptor ring of an `EF_EVENT_TYPE_RX_DISCARD` event (C macro
    /// `EF_EVENT_RX_DISCARD_Q_ID(e)`: `e.rx_discard.q_id`).
    EF_EVENT_RX_DISCARD_Q_ID => rx_discard.q_id()
}

event_accessor! {
    /// The DMA id of the buffer of an `EF_EVENT_TYPE_RX_DISCARD` event (C macro
    /// `EF_EVENT_RX_DISCARD_RQ_ID(e)`: `e.rx_discard.rq_id`).
    EF_EVENT_RX_DISCARD_RQ_ID => rx_discard.rq_id()
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_CONT`) if the discarded packet continues in the next buffer
    /// (C macro `EF_EVENT_RX_DISCARD_CONT(e)`: `e.rx_discard.flags & EF_EVENT_FLAG_CONT`).
    EF_EVENT_RX_DISCARD_CONT => rx_discard.flags() & EF_EVENT_FLAG_CONT
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_SOP`) if the buffer of an `EF_EVENT_TYPE_RX_DISCARD` event
    /// holds the start of a packet (C macro `EF_EVENT_RX_DISCARD_SOP(e)`:
    /// `e.rx_discard.flags & EF_EVENT_FLAG_SOP`).
    EF_EVENT_RX_DISCARD_SOP => rx_discard.flags() & EF_EVENT_FLAG_SOP
}

event_accessor! {
    /// Why the packet of an `EF_EVENT_TYPE_RX_DISCARD` event was discarded, one of the
    /// `EF_EVENT_RX_DISCARD_*` values (C macro `EF_EVENT_RX_DISCARD_TYPE(e)`:
    /// `e.rx_discard.subtype`).
    EF_EVENT_RX_DISCARD_TYPE => rx_discard.subtype()
}

event_accessor! {
    /// The length of the discarded packet of an `EF_EVENT_TYPE_RX_DISCARD` event (C macro
    /// `EF_EVENT_RX_DISCARD_BYTES(e)`: `e.rx_discard.len`).
    EF_EVENT_RX_DISCARD_BYTES => rx_discard.len()
}

event_accessor! {
    /// The RX descriptor ring of an `EF_EVENT_TYPE_RX_MULTI` event (C macro
    /// `EF_EVENT_RX_MULTI_Q_ID(e)`: `e.rx_multi.q_id`).
    EF_EVENT_RX_MULTI_Q_ID => rx_multi.q_id()
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_CONT`) if the last packet of an `EF_EVENT_TYPE_RX_MULTI` event
    /// continues in a later buffer (C macro `EF_EVENT_RX_MULTI_CONT(e)`:
    /// `e.rx_multi.flags & EF_EVENT_FLAG_CONT`).
    EF_EVENT_RX_MULTI_CONT => rx_multi.flags() & EF_EVENT_FLAG_CONT
}

event_accessor! {
    /// Non-zero (`EF_EVENT_FLAG_SOP`) if the first buffer of an `EF_EVENT_TYPE_RX_MULTI` event
    /// starts a packet (C macro `EF_EVENT_RX_MULTI_SOP(e)`:
    /// `e.rx_multi.flags & EF_EVENT_FLAG_SOP`).
    EF_EVENT_RX_MULTI_SOP => rx_multi.flags() & EF_EVENT_FLAG_SOP
}

event_accessor! {
    /// Why the packets of an `EF_EVENT_TYPE_RX_MULTI_DISCARD` event were discarded, one of the
    /// `EF_EVENT_RX_DISCARD_*` values (C macro `EF_EVENT_RX_MULTI_DISCARD_TYPE(e)`:
    /// `e.rx_multi_discard.subtype`).
    EF_EVENT_RX_MULTI_DISCARD_TYPE => rx_multi_discard.subtype()
}

event_accessor! {
    /// The TX descriptor ring of an `EF_EVENT_TYPE_TX_ERROR` event (C macro
    /// `EF_EVENT_TX_ERROR_Q_ID(e)`: `e.tx_error.q_id`).
    EF_EVENT_TX_ERROR_Q_ID => tx_error.q_id()
}

event_accessor! {
    /// Why the transmit of an `EF_EVENT_TYPE_TX_ERROR` event failed, one of the
    /// `EF_EVENT_TX_ERROR_*` values (C macro `EF_EVENT_TX_ERROR_TYPE(e)`:
    /// `e.tx_error.subtype`).
    EF_EVENT_TX_ERROR_TYPE => tx_error.subtype()
}

event_accessor! {
    /// The TX descriptor ring of an `EF_EVENT_TYPE_TX_WITH_TIMESTAMP` event (C macro
    /// `EF_EVENT_TX_WITH_TIMESTAMP_Q_ID(e)`: `e.tx_timestamp.q_id`).
    EF_EVENT_TX_WITH_TIMESTAMP_Q_ID => tx_timestamp.q_id()
}

event_accessor! {
    /// The DMA id of the timestamped packet of an `EF_EVENT_TYPE_TX_WITH_TIMESTAMP` event (C
    /// macro `EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(e)`: `e.tx_timestamp.rq_id`).
    EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID => tx_timestamp.rq_id()
}

event_accessor! {
    /// The seconds part of the transmit timestamp of an `EF_EVENT_TYPE_TX_WITH_TIMESTAMP`
    /// event (C macro `EF_EVENT_TX_WITH_TIMESTAMP_SEC(e)`: `e.tx_timestamp.ts_sec`).
    EF_EVENT_TX_WITH_TIMESTAMP_SEC => tx_timestamp.ts_sec()
}

event_accessor! {
    /// The nanoseconds part of the transmit timestamp of an `EF_EVENT_TYPE_TX_WITH_TIMESTAMP`
    /// event (C macro `EF_EVENT_TX_WITH_TIMESTAMP_NSEC(e)`: `e.tx_timestamp.ts_nsec`).
    EF_EVENT_TX_WITH_TIMESTAMP_NSEC => tx_timestamp.ts_nsec()
}

event_accessor! {
    /// The clock sync flags (`EF_VI_SYNC_FLAG_CLOCK_SET`, `EF_VI_SYNC_FLAG_CLOCK_IN_SYNC`) of
    /// the transmit timestamp of an `EF_EVENT_TYPE_TX_WITH_TIMESTAMP` event (C macro
    /// `EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(e)`:
    /// `e.tx_timestamp.ts_flags & EF_EVENT_TX_WITH_TIMESTAMP_SYNC_MASK`).
    EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS =>
        tx_timestamp.ts_flags() & EF_EVENT_TX_WITH_TIMESTAMP_SYNC_MASK
}

event_accessor! {
    /// The TX descriptor ring of an `EF_EVENT_TYPE_TX_ALT` event (C macro
    /// `EF_EVENT_TX_ALT_Q_ID(e)`: `e.tx_alt.q_id`).
    EF_EVENT_TX_ALT_Q_ID => tx_alt.q_id()
}

event_accessor! {
    /// The TX alternative that sent the packet of an `EF_EVENT_TYPE_TX_ALT` event (C macro
    /// `EF_EVENT_TX_ALT_ALT_ID(e)`: `e.tx_alt.alt_id`).
    EF_EVENT_TX_ALT_ALT_ID => tx_alt.alt_id()
}

event_accessor! {
    /// The RX descriptor ring of an `EF_EVENT_TYPE_RX_NO_DESC_TRUNC` event (C macro
    /// `EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(e)`: `e.rx_no_desc_trunc.q_id`).
    EF_EVENT_RX_NO_DESC_TRUNC_Q_ID => rx_no_desc_trunc.q_id()
}

/// The fractional nanoseconds of the transmit timestamp of an
/// `EF_EVENT_TYPE_TX_WITH_TIMESTAMP` event, in units of 2^-16 ns (C macro
/// `EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(e)`).
///
/// The event stores only the top `EF_VI_TX_TS_FRAC_NS_BITS` bits of the fraction in
/// `tx_timestamp.ts_nsec_frac`; like the C macro, this shifts them up to the top of a 16-bit
/// value (the low bits are zero). The C macro's result has type `int` after promotion; the
/// value always fits in a `u16`.
///
/// # Safety
///
/// The bytes of `e` that hold the field must be initialised (true for events written by
/// `ef_eventq_poll()` or made with `ef_event::default()`).
#[inline]
#[must_use]
pub unsafe fn EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(e: &ef_event) -> u16 {
    // SAFETY: every member of the union consists of integers only, so any bit pattern is a
    // valid value; the caller guarantees that the bytes read are initialised.
    let frac = unsafe { e.tx_timestamp.ts_nsec_frac() };
    // The C macro casts the field to uint16_t before shifting (the field is
    // EF_VI_TX_TS_FRAC_NS_BITS wide, so the cast loses nothing and the shifted value fits).
    (frac as u16) << (16 - EF_VI_TX_TS_FRAC_NS_BITS)
}

/// The user data of an `EF_EVENT_TYPE_SW` event, as given to `ef_eventq_put()` (C macro
/// `EF_EVENT_SW_DATA(e)`: `e.sw.data`, the whole 32-bit word; the macro does not apply
/// `EF_EVENT_SW_DATA_MASK`).
///
/// # Safety
///
/// The bytes of `e` that hold the field must be initialised (true for events written by
/// `ef_eventq_poll()` or made with `ef_event::default()`).
#[inline]
#[must_use]
pub unsafe fn EF_EVENT_SW_DATA(e: &ef_event) -> c_uint {
    // SAFETY: every member of the union consists of integers only, so any bit pattern is a
    // valid value; the caller guarantees that the bytes read are initialised.
    unsafe { e.sw.data }
}

/// The argument to print an event with the format `EF_EVENT_FMT` (`"[ev:%x]"`): the event
/// type as `unsigned` (C macro `EF_EVENT_PRI_ARG(e)`).
///
/// `format!("[ev:{:x}]", EF_EVENT_PRI_ARG(&e))` produces the same text as the C
/// `printf(EF_EVENT_FMT, EF_EVENT_PRI_ARG(e))`.
///
/// # Safety
///
/// The first four bytes of `e` must be initialised (true for events written by
/// `ef_eventq_poll()` or made with `ef_event::default()`).
#[inline]
#[must_use]
pub unsafe fn EF_EVENT_PRI_ARG(e: &ef_event) -> c_uint {
    // SAFETY: forwarded from the caller's guarantee.
    unsafe { EF_EVENT_TYPE(e) }
}

/// Maps the error flags of an `EF_EVENT_TYPE_RX_REF_DISCARD` event (`rx_ref_discard.flags`, a
/// mask of `EF_VI_DISCARD_RX_*` bits) to the `EF_EVENT_RX_DISCARD_*` subtype that an
/// `EF_EVENT_TYPE_RX_DISCARD` event would report (C inline
/// `ef_vi_get_rx_discard_subtype_from_flags()`).
///
/// The first matching flag wins, in this order: Ethernet FCS error (`CRC_BAD`), frame length
/// error (`TRUNC`), L4 then L3 checksum error (`CSUM_BAD`), inner L4 then inner L3 checksum
/// error (`INNER_CSUM_BAD`), L2, L3 or L4 class "other" (`OTHER`). With none of them set the
/// result is `0` (which is also `EF_EVENT_RX_DISCARD_CSUM_BAD`).
#[inline]
#[must_use]
pub const fn ef_vi_get_rx_discard_subtype_from_flags(flags: c_uint) -> c_uint {
    if flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR != 0 {
        EF_EVENT_RX_DISCARD_CRC_BAD
    } else if flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR != 0 {
        EF_EVENT_RX_DISCARD_TRUNC
    } else if flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR != 0
        || flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR != 0
    {
        EF_EVENT_RX_DISCARD_CSUM_BAD
    } else if flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR != 0
        || flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR != 0
    {
        EF_EVENT_RX_DISCARD_INNER_CSUM_BAD
    } else if flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L2_CLASS_OTHER != 0
        || flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CLASS_OTHER != 0
        || flags & ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CLASS_OTHER != 0
    {
        EF_EVENT_RX_DISCARD_OTHER
    } else {
        0
    }
}
