//! Typed events, decoded from `ef_event` with the sys crate's accessor macros.

use std::time::{Duration, SystemTime};

use crate::ffi;
use crate::pool::PacketBuf;

bitflags::bitflags! {
    /// Flags of a receive event (`EF_EVENT_FLAG_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct RxFlags: u32 {
        /// The buffer holds the start of a packet.
        const SOP = ffi::EF_EVENT_FLAG_SOP;
        /// The packet continues in the next buffer.
        const CONT = ffi::EF_EVENT_FLAG_CONT;
        /// The NIC validated the iSCSI digest.
        const ISCSI_OK = ffi::EF_EVENT_FLAG_ISCSI_OK;
        /// The packet was sent to a multicast address.
        const MULTICAST = ffi::EF_EVENT_FLAG_MULTICAST;
    }
}

/// Why the NIC discarded a received packet (`EF_EVENT_RX_DISCARD_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DiscardKind {
    /// Bad IP or TCP/UDP checksum.
    CsumBad,
    /// Multicast the VI did not ask for.
    McastMismatch,
    /// Bad Ethernet CRC.
    CrcBad,
    /// Truncated (no room in the ring, or too long).
    Trunc,
    /// The buffer was not registered with the VI's protection domain.
    Rights,
    /// Event queue error.
    EvError,
    /// Another reason.
    Other,
    /// Bad checksum of an encapsulated packet.
    InnerCsumBad,
    /// A value this crate does not know.
    Unknown(u32),
}

impl DiscardKind {
    fn from_raw(v: u32) -> DiscardKind {
        match v {
            ffi::EF_EVENT_RX_DISCARD_CSUM_BAD => DiscardKind::CsumBad,
            ffi::EF_EVENT_RX_DISCARD_MCAST_MISMATCH => DiscardKind::McastMismatch,
            ffi::EF_EVENT_RX_DISCARD_CRC_BAD => DiscardKind::CrcBad,
            ffi::EF_EVENT_RX_DISCARD_TRUNC => DiscardKind::Trunc,
            ffi::EF_EVENT_RX_DISCARD_RIGHTS => DiscardKind::Rights,
            ffi::EF_EVENT_RX_DISCARD_EV_ERROR => DiscardKind::EvError,
            ffi::EF_EVENT_RX_DISCARD_OTHER => DiscardKind::Other,
            ffi::EF_EVENT_RX_DISCARD_INNER_CSUM_BAD => DiscardKind::InnerCsumBad,
            v => DiscardKind::Unknown(v),
        }
    }
}

/// Why a transmit queue failed (`EF_EVENT_TX_ERROR_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TxErrorKind {
    /// A buffer was not registered with the VI's protection domain.
    Rights,
    /// The transmit FIFO overflowed.
    Oflow,
    /// A packet was too big.
    TooBig,
    /// A bus error while reading a buffer.
    Bus,
    /// A value this crate does not know.
    Unknown(u32),
}

impl TxErrorKind {
    fn from_raw(v: u32) -> TxErrorKind {
        match v {
            ffi::EF_EVENT_TX_ERROR_RIGHTS => TxErrorKind::Rights,
            ffi::EF_EVENT_TX_ERROR_OFLOW => TxErrorKind::Oflow,
            ffi::EF_EVENT_TX_ERROR_2BIG => TxErrorKind::TooBig,
            ffi::EF_EVENT_TX_ERROR_BUS => TxErrorKind::Bus,
            v => TxErrorKind::Unknown(v),
        }
    }
}

bitflags::bitflags! {
    /// The clock state a timestamp was taken in (`EF_VI_SYNC_FLAG_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct SyncFlags: u32 {
        /// The adapter clock has been set.
        const CLOCK_SET = ffi::EF_VI_SYNC_FLAG_CLOCK_SET;
        /// The adapter clock is in sync with the system's.
        const CLOCK_IN_SYNC = ffi::EF_VI_SYNC_FLAG_CLOCK_IN_SYNC;
    }
}

/// A hardware (or, on the software backend, system) timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timestamp {
    /// Seconds since the Unix epoch.
    pub sec: i64,
    /// Nanoseconds.
    pub nsec: u32,
    /// Fractions of a nanosecond, in 1/65536 ns.
    pub nsec_frac: u16,
    /// The clock's state.
    pub sync: SyncFlags,
}

impl Timestamp {
    /// The timestamp as a [`SystemTime`] (fractions of a nanosecond dropped).
    pub fn to_system_time(&self) -> SystemTime {
        let d = Duration::new(self.sec.unsigned_abs(), self.nsec.min(999_999_999));
        if self.sec >= 0 {
            SystemTime::UNIX_EPOCH + d
        } else {
            SystemTime::UNIX_EPOCH - d
        }
    }

    pub(crate) fn from_precise(t: &ffi::ef_precisetime) -> Timestamp {
        Timestamp {
            sec: t.tv_sec,
            nsec: t.tv_nsec,
            nsec_frac: t.tv_nsec_frac,
            sync: SyncFlags::from_bits_retain(u32::from(t.tv_flags)),
        }
    }
}

/// A received buffer (`EF_EVENT_TYPE_RX`).
///
/// Only the buffer is decoded when the event is polled; the other fields are read from the
/// event by the accessors, so a loop pays only for what it uses.
#[derive(Debug)]
pub struct RxEvent {
    /// The buffer, back in the application's hands.
    pub buf: PacketBuf,
    raw: RawEvent,
    prefix: u32,
}

impl RxEvent {
    /// Bytes of the packet received so far, without the receive prefix (for a packet that
    /// spans several buffers, the total up to and including this one; `EF_EVENT_RX_BYTES`).
    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: a copy of a polled, fully initialised event.
        (unsafe { ffi::EF_EVENT_RX_BYTES(&self.raw.0) } as usize)
            .saturating_sub(self.prefix as usize)
    }

    /// True when no frame bytes arrived.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Where the frame starts in the buffer: the receive prefix for the first buffer of a
    /// packet, 0 for continuations.
    #[inline]
    pub fn offset(&self) -> usize {
        if self.prefix == 0 || !self.is_start() {
            0
        } else {
            self.prefix as usize
        }
    }

    /// The RX queue label (`EF_EVENT_RX_Q_ID`).
    #[inline]
    pub fn q_id(&self) -> u32 {
        // SAFETY: as in `len`.
        unsafe { ffi::EF_EVENT_RX_Q_ID(&self.raw.0) }
    }

    /// SOP / CONT / multicast / iSCSI flags.
    #[inline]
    pub fn flags(&self) -> RxFlags {
        // SAFETY: as in `len`.
        RxFlags::from_bits_retain(unsafe { self.raw.0.rx.flags() })
    }

    /// True when this buffer starts a packet (`EF_EVENT_RX_SOP`).
    #[inline]
    pub fn is_start(&self) -> bool {
        // SAFETY: as in `len`.
        unsafe { ffi::EF_EVENT_RX_SOP(&self.raw.0) != 0 }
    }

    /// True when the packet continues in the next buffer (`EF_EVENT_RX_CONT`).
    #[inline]
    pub fn continues(&self) -> bool {
        // SAFETY: as in `len`.
        unsafe { ffi::EF_EVENT_RX_CONT(&self.raw.0) != 0 }
    }

    /// The raw event, as it was polled.
    #[inline]
    pub fn as_raw(&self) -> &ffi::ef_event {
        &self.raw.0
    }
}

/// A buffer whose packet the NIC discarded (`EF_EVENT_TYPE_RX_DISCARD`); fields are read
/// from the event by the accessors.
#[derive(Debug)]
pub struct RxDiscardEvent {
    /// The buffer, back in the application's hands.
    pub buf: PacketBuf,
    raw: RawEvent,
    prefix: u32,
}

impl RxDiscardEvent {
    /// Bytes received, without the prefix (`EF_EVENT_RX_DISCARD_BYTES`).
    #[inline]
    pub fn len(&self) -> usize {
        // SAFETY: a copy of a polled, fully initialised event.
        (unsafe { ffi::EF_EVENT_RX_DISCARD_BYTES(&self.raw.0) } as usize)
            .saturating_sub(self.prefix as usize)
    }

    /// True when no frame bytes arrived.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The RX queue label.
    #[inline]
    pub fn q_id(&self) -> u32 {
        // SAFETY: as in `len`.
        unsafe { ffi::EF_EVENT_RX_DISCARD_Q_ID(&self.raw.0) }
    }

    /// Flags of the buffer.
    #[inline]
    pub fn flags(&self) -> RxFlags {
        // SAFETY: as in `len`.
        RxFlags::from_bits_retain(unsafe { self.raw.0.rx_discard.flags() })
    }

    /// Why it was discarded (`EF_EVENT_RX_DISCARD_TYPE`).
    #[inline]
    pub fn kind(&self) -> DiscardKind {
        // SAFETY: as in `len`.
        DiscardKind::from_raw(unsafe { ffi::EF_EVENT_RX_DISCARD_TYPE(&self.raw.0) })
    }
}

/// A batch of received buffers in event-merge mode (`EF_EVENT_TYPE_RX_MULTI` and
/// `_RX_MULTI_DISCARD`); [`Vi::receive_unbundle`](crate::Vi::receive_unbundle) hands the
/// buffers back. Neither `Copy` nor `Clone`: one batch is unbundled once.
#[derive(Debug)]
pub struct RxMulti {
    pub(crate) raw: RawEvent,
    pub(crate) owner: usize,
}

impl RxMulti {
    /// The RX queue label (`EF_EVENT_RX_MULTI_Q_ID`).
    pub fn q_id(&self) -> u32 {
        // SAFETY: a copy of a polled, fully initialised event.
        unsafe { ffi::EF_EVENT_RX_MULTI_Q_ID(&self.raw.0) }
    }

    /// Number of descriptors completed.
    pub fn n_descs(&self) -> u32 {
        // SAFETY: as in `q_id`.
        unsafe { self.raw.0.rx_multi.n_descs() }
    }

    /// SOP / CONT flags.
    pub fn flags(&self) -> RxFlags {
        // SAFETY: as in `q_id`.
        RxFlags::from_bits_retain(unsafe { self.raw.0.rx_multi.flags() })
    }

    /// `Some` when the batch was discarded (`EF_EVENT_TYPE_RX_MULTI_DISCARD`), and why.
    pub fn discard(&self) -> Option<DiscardKind> {
        // SAFETY: as in `q_id`.
        unsafe {
            (ffi::EF_EVENT_TYPE(&self.raw.0) == ffi::EF_EVENT_TYPE_RX_MULTI_DISCARD)
                .then(|| DiscardKind::from_raw(ffi::EF_EVENT_RX_MULTI_DISCARD_TYPE(&self.raw.0)))
        }
    }
}

/// A buffer handed back by [`Vi::receive_unbundle`](crate::Vi::receive_unbundle).
#[derive(Debug)]
pub struct RxPacket {
    /// The buffer.
    pub buf: PacketBuf,
    /// The packet's length from the receive prefix (`ef_vi_receive_get_bytes`), or `None`
    /// when the buffer was discarded or carries no length.
    pub len: Option<usize>,
    /// Where the frame starts in the buffer (the receive prefix).
    pub offset: usize,
}

/// Transmit completions, to hand to [`Vi::transmit_unbundle`](crate::Vi::transmit_unbundle)
/// (`EF_EVENT_TYPE_TX`, or the completion part of `EF_EVENT_TYPE_TX_WITH_TIMESTAMP`). Neither
/// `Copy` nor `Clone`: completions are handed back once.
#[derive(Debug)]
pub struct TxComplete {
    pub(crate) raw: RawEvent,
    pub(crate) owner: usize,
    /// For a timestamped completion, the DMA id of its one packet.
    pub(crate) single: Option<u32>,
}

/// A timestamped transmit completion (`EF_EVENT_TYPE_TX_WITH_TIMESTAMP`).
#[derive(Debug)]
pub struct TxTimestampEvent {
    /// The completion: give it to [`Vi::transmit_unbundle`](crate::Vi::transmit_unbundle)
    /// to get the buffer back.
    pub completion: TxComplete,
}

impl TxTimestampEvent {
    /// When the packet left (`EF_EVENT_TX_WITH_TIMESTAMP_SEC`, `_NSEC`, `_NSEC_FRAC16`,
    /// `_SYNC_FLAGS`).
    pub fn time(&self) -> Timestamp {
        let e = &self.completion.raw.0;
        // SAFETY: a copy of a polled, fully initialised event.
        unsafe {
            Timestamp {
                sec: i64::from(ffi::EF_EVENT_TX_WITH_TIMESTAMP_SEC(e)),
                nsec: ffi::EF_EVENT_TX_WITH_TIMESTAMP_NSEC(e),
                nsec_frac: ffi::EF_EVENT_TX_WITH_TIMESTAMP_NSEC_FRAC16(e),
                sync: SyncFlags::from_bits_retain(ffi::EF_EVENT_TX_WITH_TIMESTAMP_SYNC_FLAGS(e)),
            }
        }
    }
}

/// The transmit queue failed (`EF_EVENT_TYPE_TX_ERROR`): no transmit is accepted until this
/// is given to [`Vi::recover_tx_error`](crate::Vi::recover_tx_error).
#[derive(Debug)]
pub struct TxFailure {
    pub(crate) owner: usize,
    /// The TX queue label.
    pub q_id: u32,
    /// What went wrong.
    pub kind: TxErrorKind,
}

/// A packet of an X3/X4 ("express", efct) receive queue that the application may borrow
/// (`EF_EVENT_TYPE_RX_REF` / `_RX_REF_DISCARD`): nothing was posted for it.
///
/// Give it to [`Vi::rx_ref`](crate::Vi::rx_ref) for a guard that lends the bytes and
/// releases the packet when dropped, or to [`Vi::rx_ref_release`](crate::Vi::rx_ref_release).
/// Neither `Copy` nor `Clone`, so a packet is released once; a dropped `RxRef` keeps its
/// packet (and the adapter buffer holding it) until the VI is freed.
#[derive(Debug)]
#[must_use = "an unreleased packet holds one of the adapter's receive buffers"]
pub struct RxRef {
    pub(crate) owner: usize,
    raw: RawEvent,
}

impl RxRef {
    fn r(&self) -> &ffi::ef_event__bindgen_ty_14 {
        // SAFETY: a copy of a polled, fully initialised event (RX_REF and RX_REF_DISCARD
        // share these fields).
        unsafe { &self.raw.0.rx_ref }
    }

    /// The packet's id.
    pub fn pkt_id(&self) -> u32 {
        self.r().pkt_id()
    }

    /// Its length.
    pub fn len(&self) -> usize {
        self.r().len() as usize
    }

    /// True for a packet of no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The RX queue label.
    pub fn q_id(&self) -> u32 {
        self.r().q_id()
    }

    /// The id of the filter that matched.
    pub fn filter_id(&self) -> u32 {
        self.r().filter_id()
    }

    /// User data of the filter.
    pub fn user(&self) -> u32 {
        self.r().user()
    }

    /// For `RX_REF_DISCARD`: the discard flags (`EF_VI_DISCARD_RX_*`) and the reason
    /// (`ef_vi_get_rx_discard_subtype_from_flags`).
    pub fn discard(&self) -> Option<(u32, DiscardKind)> {
        // SAFETY: as in `r`.
        unsafe {
            (ffi::EF_EVENT_TYPE(&self.raw.0) == ffi::EF_EVENT_TYPE_RX_REF_DISCARD).then(|| {
                let fl = self.raw.0.rx_ref_discard.flags();
                (
                    fl,
                    DiscardKind::from_raw(ffi::ef_vi_get_rx_discard_subtype_from_flags(fl)),
                )
            })
        }
    }
}

/// A packed-stream receive event (`EF_EVENT_TYPE_RX_PACKED_STREAM`).
#[derive(Debug)]
pub struct PackedStreamEvent {
    pub(crate) raw: RawEvent,
    /// The RX queue label.
    pub q_id: u32,
    /// True when the packets start in a new packed-stream buffer.
    pub next_buffer: bool,
    /// Number of packets.
    pub n_pkts: u32,
    /// Packed-stream flags (`EF_VI_PS_FLAG_*`).
    pub ps_flags: u32,
}

/// Several packets of an X3 receive queue (`EF_EVENT_TYPE_RX_MULTI_PKTS`).
#[derive(Debug)]
pub struct RxMultiPkts {
    pub(crate) raw: RawEvent,
    /// The RX queue label.
    pub q_id: u32,
    /// Number of packets.
    pub n_pkts: u32,
    /// Flags.
    pub flags: u32,
}

/// One event of a VI's event queue, as returned by [`Vi::poll`](crate::Vi::poll): one
/// variant per `EF_EVENT_TYPE_*`, with its fields decoded. Events that complete descriptors
/// carry the buffers they hand back (or a value that hands them back once).
#[derive(Debug, Default)]
#[non_exhaustive]
pub enum Event {
    /// No event (an empty slot of the poll array).
    #[default]
    None,
    /// `EF_EVENT_TYPE_RX`: a buffer was filled.
    Rx(RxEvent),
    /// `EF_EVENT_TYPE_TX`: transmits completed.
    Tx(TxComplete),
    /// `EF_EVENT_TYPE_RX_DISCARD`: a received packet was discarded.
    RxDiscard(RxDiscardEvent),
    /// `EF_EVENT_TYPE_TX_ERROR`: the TX queue failed.
    TxError(TxFailure),
    /// `EF_EVENT_TYPE_RX_NO_DESC_TRUNC`: a packet was truncated for lack of RX descriptors.
    RxNoDescTrunc {
        /// The RX queue label.
        q_id: u32,
    },
    /// `EF_EVENT_TYPE_SW`: a software event (`ef_eventq_put`).
    Software {
        /// Its data (low 16 bits).
        data: u32,
    },
    /// `EF_EVENT_TYPE_OFLOW`: the event queue overflowed; events were lost.
    Overflow,
    /// `EF_EVENT_TYPE_TX_WITH_TIMESTAMP`: a transmit completed, with its time.
    TxTimestamp(TxTimestampEvent),
    /// `EF_EVENT_TYPE_RX_PACKED_STREAM`.
    RxPackedStream(PackedStreamEvent),
    /// `EF_EVENT_TYPE_RX_MULTI` or `_RX_MULTI_DISCARD`: buffers received in event-merge mode.
    RxMulti(RxMulti),
    /// `EF_EVENT_TYPE_TX_ALT`: a TX alternative was sent or discarded.
    TxAlt {
        /// The TX queue label.
        q_id: u32,
        /// The alternative.
        alt_id: u32,
    },
    /// `EF_EVENT_TYPE_RESET`: the NIC was reset; the VI must be recreated.
    Reset,
    /// `EF_EVENT_TYPE_RX_MULTI_PKTS` (X3).
    RxMultiPkts(RxMultiPkts),
    /// `EF_EVENT_TYPE_RX_REF` or `_RX_REF_DISCARD` (X3/X4): a packet to borrow.
    RxRef(RxRef),
    /// A type this crate does not know.
    Unknown {
        /// Its `EF_EVENT_TYPE` value.
        event_type: u32,
    },
}

impl Event {
    /// Takes the event out of its slot, leaving [`Event::None`].
    #[inline]
    pub fn take(&mut self) -> Event {
        std::mem::take(self)
    }
}

/// An `ef_event` that prints its type.
#[derive(Clone, Copy, Default)]
#[repr(transparent)]
pub(crate) struct RawEvent(pub(crate) ffi::ef_event);

impl std::fmt::Debug for RawEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // SAFETY: every `RawEvent` is a copy of a fully initialised event.
        write!(f, "[ev:{:x}]", unsafe { ffi::EF_EVENT_PRI_ARG(&self.0) })
    }
}

/// What the VI supplies to decode events: the buffer tokens for descriptor ids.
pub(crate) trait Decoder {
    fn rx_token(&self, id: u32) -> PacketBuf;
    fn prefix(&self) -> usize;
    fn tx_failed(&mut self);
    /// Identifies the VI, so that completions are only handed back by the VI they came from.
    fn owner(&self) -> usize;
}

/// Decodes one event into a slot of a poll array: receive and transmit completions (the
/// events of every data path) are written straight into the slot, the rest are decoded out of
/// line, so that the loop filling the array stays short.
#[inline(always)]
pub(crate) fn decode_into(slot: &mut Event, e: &ffi::ef_event, d: &mut impl Decoder) {
    // SAFETY: as in `decode`.
    match unsafe { ffi::EF_EVENT_TYPE(e) } {
        ffi::EF_EVENT_TYPE_RX => {
            *slot = Event::Rx(RxEvent {
                // SAFETY: as in `decode`.
                buf: d.rx_token(unsafe { ffi::EF_EVENT_RX_RQ_ID(e) }),
                raw: RawEvent(*e),
                prefix: d.prefix() as u32,
            })
        }
        ffi::EF_EVENT_TYPE_TX => {
            *slot = Event::Tx(TxComplete {
                raw: RawEvent(*e),
                owner: d.owner(),
                single: None,
            })
        }
        _ => *slot = decode_other(e, d),
    }
}

#[inline(never)]
fn decode_other(e: &ffi::ef_event, d: &mut impl Decoder) -> Event {
    decode(e, d)
}

/// Decodes one event. Always inlined, so that the caller's `match` on the result fuses with
/// the one here and only the fields used are read.
#[inline(always)]
pub(crate) fn decode(e: &ffi::ef_event, d: &mut impl Decoder) -> Event {
    // SAFETY: the event was written by `ef_eventq_poll` into an initialised array, so all its
    // bytes are initialised (this holds for every accessor call below).
    let ty = unsafe { ffi::EF_EVENT_TYPE(e) };
    match ty {
        ffi::EF_EVENT_TYPE_RX => Event::Rx(RxEvent {
            // SAFETY: as above.
            buf: d.rx_token(unsafe { ffi::EF_EVENT_RX_RQ_ID(e) }),
            raw: RawEvent(*e),
            prefix: d.prefix() as u32,
        }),
        ffi::EF_EVENT_TYPE_TX => Event::Tx(TxComplete {
            raw: RawEvent(*e),
            owner: d.owner(),
            single: None,
        }),
        ffi::EF_EVENT_TYPE_RX_DISCARD => Event::RxDiscard(RxDiscardEvent {
            // SAFETY: as above.
            buf: d.rx_token(unsafe { ffi::EF_EVENT_RX_DISCARD_RQ_ID(e) }),
            raw: RawEvent(*e),
            prefix: d.prefix() as u32,
        }),
        ffi::EF_EVENT_TYPE_TX_ERROR => {
            d.tx_failed();
            Event::TxError(TxFailure {
                owner: d.owner(),
                // SAFETY: as above.
                q_id: unsafe { ffi::EF_EVENT_TX_ERROR_Q_ID(e) },
                // SAFETY: as above.
                kind: TxErrorKind::from_raw(unsafe { ffi::EF_EVENT_TX_ERROR_TYPE(e) }),
            })
        }
        ffi::EF_EVENT_TYPE_RX_NO_DESC_TRUNC => Event::RxNoDescTrunc {
            // SAFETY: as above.
            q_id: unsafe { ffi::EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(e) },
        },
        ffi::EF_EVENT_TYPE_SW => Event::Software {
            // SAFETY: as above.
            data: unsafe { ffi::EF_EVENT_SW_DATA(e) },
        },
        ffi::EF_EVENT_TYPE_OFLOW => Event::Overflow,
        ffi::EF_EVENT_TYPE_TX_WITH_TIMESTAMP => Event::TxTimestamp(TxTimestampEvent {
            completion: TxComplete {
                raw: RawEvent(*e),
                owner: d.owner(),
                // SAFETY: as above.
                single: Some(unsafe { ffi::EF_EVENT_TX_WITH_TIMESTAMP_RQ_ID(e) }),
            },
        }),
        ffi::EF_EVENT_TYPE_RX_PACKED_STREAM => {
            // SAFETY: as above.
            let (q_id, next, n, psf) = unsafe {
                (
                    e.rx_packed_stream.q_id(),
                    ffi::EF_EVENT_RX_PS_NEXT_BUFFER(e) != 0,
                    e.rx_packed_stream.n_pkts(),
                    e.rx_packed_stream.ps_flags(),
                )
            };
            Event::RxPackedStream(PackedStreamEvent {
                raw: RawEvent(*e),
                q_id,
                next_buffer: next,
                n_pkts: n,
                ps_flags: psf,
            })
        }
        ffi::EF_EVENT_TYPE_RX_MULTI | ffi::EF_EVENT_TYPE_RX_MULTI_DISCARD => {
            Event::RxMulti(RxMulti {
                raw: RawEvent(*e),
                owner: d.owner(),
            })
        }
        ffi::EF_EVENT_TYPE_TX_ALT => Event::TxAlt {
            // SAFETY: as above.
            q_id: unsafe { ffi::EF_EVENT_TX_ALT_Q_ID(e) },
            // SAFETY: as above.
            alt_id: unsafe { ffi::EF_EVENT_TX_ALT_ALT_ID(e) },
        },
        ffi::EF_EVENT_TYPE_RESET => Event::Reset,
        ffi::EF_EVENT_TYPE_RX_MULTI_PKTS => {
            // SAFETY: as above.
            let (q_id, n, flags) = unsafe {
                (
                    e.rx_multi_pkts.q_id(),
                    e.rx_multi_pkts.n_pkts(),
                    e.rx_multi_pkts.flags(),
                )
            };
            Event::RxMultiPkts(RxMultiPkts {
                raw: RawEvent(*e),
                q_id,
                n_pkts: n,
                flags,
            })
        }
        ffi::EF_EVENT_TYPE_RX_REF | ffi::EF_EVENT_TYPE_RX_REF_DISCARD => Event::RxRef(RxRef {
            owner: d.owner(),
            raw: RawEvent(*e),
        }),
        t => Event::Unknown { event_type: t },
    }
}

impl TxComplete {
    /// The TX queue label (`EF_EVENT_TX_Q_ID`).
    #[inline]
    pub fn q_id(&self) -> u32 {
        // SAFETY: a copy of a polled, fully initialised event; both TX members keep the queue
        // label in the same place.
        unsafe { ffi::EF_EVENT_TX_Q_ID(&self.raw.0) }
    }

    /// True when sent by cut-through PIO (`EF_EVENT_TX_CTPIO`).
    #[inline]
    pub fn ctpio(&self) -> bool {
        // SAFETY: as in `q_id`.
        unsafe { ffi::EF_EVENT_TX_CTPIO(&self.raw.0) != 0 }
    }

    /// The raw event.
    pub fn as_raw(&self) -> &ffi::ef_event {
        &self.raw.0
    }
}

impl RxMulti {
    /// The raw event.
    pub fn as_raw(&self) -> &ffi::ef_event {
        &self.raw.0
    }
}

impl PackedStreamEvent {
    /// The raw event, for `ef_vi_packed_stream_unbundle`.
    pub fn as_raw(&self) -> &ffi::ef_event {
        &self.raw.0
    }
}

impl RxMultiPkts {
    /// The raw event.
    pub fn as_raw(&self) -> &ffi::ef_event {
        &self.raw.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_stay_small() {
        // Events are written into the caller's poll array: keep them a few words long.
        assert!(
            std::mem::size_of::<Event>() <= 40,
            "{}",
            std::mem::size_of::<Event>()
        );
    }
}
