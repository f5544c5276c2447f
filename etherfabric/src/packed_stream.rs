//! Packed-stream receive: the adapter writes packet after packet into one large buffer, each
//! behind a 16-byte header (`ef_packed_stream_packet`), and an
//! [`Event::RxPackedStream`](crate::Event::RxPackedStream) says how many packets arrived.
//!
//! [`PackedStreamPackets`] walks those packets in a borrowed buffer, as
//! `ef_packed_stream_packet_first` / `_next` / `_payload` do in C, but checking every offset
//! against the buffer: a malformed header ends the walk with
//! [`Error::MalformedPackedStream`] instead of reading out of bounds. Nothing is allocated
//! or copied; each [`PackedPacket`] borrows its frame from the buffer.

use std::iter::FusedIterator;

use crate::error::{Error, Result};
use crate::event::{PackedStreamEvent, SyncFlags, Timestamp};
use crate::ffi;

/// Size of the header in front of each packet.
pub const PACKED_STREAM_HEADER_LEN: usize = std::mem::size_of::<ffi::ef_packed_stream_packet>();

bitflags::bitflags! {
    /// Flags of one packed-stream packet (`EF_VI_PS_FLAG_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct PsFlags: u8 {
        /// The adapter clock has been set.
        const CLOCK_SET = ffi::EF_VI_PS_FLAG_CLOCK_SET as u8;
        /// The adapter clock is in sync with the external (PTP) clock.
        const CLOCK_IN_SYNC = ffi::EF_VI_PS_FLAG_CLOCK_IN_SYNC as u8;
        /// The frame check sequence was bad.
        const BAD_FCS = ffi::EF_VI_PS_FLAG_BAD_FCS as u8;
        /// The TCP/UDP checksum was bad (or not found good, depending on the adapter).
        const BAD_L4_CSUM = ffi::EF_VI_PS_FLAG_BAD_L4_CSUM as u8;
        /// The IPv4 header checksum was bad (or not found good, depending on the adapter).
        const BAD_L3_CSUM = ffi::EF_VI_PS_FLAG_BAD_L3_CSUM as u8;
    }
}

/// One packet of a packed-stream buffer: its header's fields and its frame.
#[derive(Debug, Clone, Copy)]
pub struct PackedPacket<'a> {
    frame: &'a [u8],
    offset: usize,
    orig_len: u16,
    flags: PsFlags,
    ts_sec: u32,
    ts_nsec: u32,
}

impl<'a> PackedPacket<'a> {
    /// The bytes of the frame that were stored (`ps_cap_len` of them).
    #[inline]
    pub fn frame(&self) -> &'a [u8] {
        self.frame
    }

    /// The frame's length on the wire (`ps_orig_len`).
    #[inline]
    pub fn orig_len(&self) -> usize {
        usize::from(self.orig_len)
    }

    /// True when fewer bytes were stored than the frame had on the wire.
    #[inline]
    pub fn is_truncated(&self) -> bool {
        self.frame.len() < self.orig_len()
    }

    /// The packet's flags (`ps_flags`).
    #[inline]
    pub fn flags(&self) -> PsFlags {
        self.flags
    }

    /// The hardware timestamp (`ps_ts_sec`, `ps_ts_nsec`), with the clock state from the
    /// flags.
    #[inline]
    pub fn timestamp(&self) -> Timestamp {
        let mut sync = SyncFlags::empty();
        sync.set(
            SyncFlags::CLOCK_SET,
            self.flags.contains(PsFlags::CLOCK_SET),
        );
        sync.set(
            SyncFlags::CLOCK_IN_SYNC,
            self.flags.contains(PsFlags::CLOCK_IN_SYNC),
        );
        Timestamp {
            sec: i64::from(self.ts_sec),
            nsec: self.ts_nsec,
            nsec_frac: 0,
            sync,
        }
    }

    /// Where the packet's header lies in the buffer.
    #[inline]
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// The packets of one packed-stream event in the buffer that holds them, in order; borrows
/// the buffer and allocates nothing.
///
/// Start at `psp_start_offset` (of
/// [`Vi::packed_stream_params`](crate::Vi::packed_stream_params)) for an event that starts a
/// new buffer ([`PackedStreamEvent::next_buffer`]), and otherwise where the previous event's
/// walk stopped ([`position`](Self::position)); [`PackedStreamEvent::packets`] does this
/// choice. Each item is a packet, or the error that ends the walk when a header does not fit
/// the buffer.
///
/// ```
/// use etherfabric::PackedStreamPackets;
///
/// // One 60-byte frame whose header is at offset 64 (the buffer's `psp_start_offset`).
/// let mut buf = vec![0u8; 256];
/// buf[64..66].copy_from_slice(&96u16.to_ne_bytes()); // next header: 96 bytes on
/// buf[66] = 16; // the frame follows the header
/// buf[68..70].copy_from_slice(&60u16.to_ne_bytes()); // bytes stored
/// buf[70..72].copy_from_slice(&60u16.to_ne_bytes()); // bytes on the wire
/// let mut pkts = PackedStreamPackets::new(&buf, 64, 1);
/// let p = pkts.next().unwrap().unwrap();
/// assert_eq!(p.frame().len(), 60);
/// assert!(pkts.next().is_none());
/// assert_eq!(pkts.position(), 64 + 96); // where the next event's packets start
/// ```
#[derive(Debug, Clone)]
pub struct PackedStreamPackets<'a> {
    buf: &'a [u8],
    pos: usize,
    left: u32,
}

impl<'a> PackedStreamPackets<'a> {
    /// The `n_pkts` packets whose first header is at byte `start` of `buf`.
    #[inline]
    pub fn new(buf: &'a [u8], start: usize, n_pkts: u32) -> Self {
        PackedStreamPackets {
            buf,
            pos: start,
            left: n_pkts,
        }
    }

    /// Where the next header is: after the last packet, where the adapter puts the next
    /// event's first packet (the value `ef_vi_packed_stream_unbundle` leaves in its
    /// iterator); after an error, the offset of the bad header.
    #[inline]
    pub fn position(&self) -> usize {
        self.pos
    }

    /// How many packets are still to come (0 after an error).
    #[inline]
    pub fn remaining(&self) -> u32 {
        self.left
    }

    #[inline]
    fn fail(&mut self, reason: &'static str) -> Option<Result<PackedPacket<'a>>> {
        self.left = 0;
        Some(Err(Error::MalformedPackedStream {
            offset: self.pos,
            reason,
        }))
    }
}

/// A native-endian `u16` at `at` of a header that is known to lie inside the buffer.
#[inline]
fn u16_at(h: &[u8; PACKED_STREAM_HEADER_LEN], at: usize) -> u16 {
    u16::from_ne_bytes([h[at], h[at + 1]])
}

#[inline]
fn u32_at(h: &[u8; PACKED_STREAM_HEADER_LEN], at: usize) -> u32 {
    u32::from_ne_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]])
}

impl<'a> Iterator for PackedStreamPackets<'a> {
    type Item = Result<PackedPacket<'a>>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        let Some(h) = self
            .buf
            .get(self.pos..)
            .and_then(|r| r.first_chunk::<PACKED_STREAM_HEADER_LEN>())
        else {
            return self.fail("the packet header runs past the end of the buffer");
        };
        // Field offsets of `ef_packed_stream_packet` (checked against the bindings below).
        let next = usize::from(u16_at(h, 0));
        let start = usize::from(h[2]);
        let cap_len = usize::from(u16_at(h, 4));
        let Some(frame) = self.buf.get(self.pos + start..self.pos + start + cap_len) else {
            return self.fail("the packet's frame runs past the end of the buffer");
        };
        if next < PACKED_STREAM_HEADER_LEN {
            return self.fail("the offset of the next packet points into this packet's header");
        }
        let p = PackedPacket {
            frame,
            offset: self.pos,
            orig_len: u16_at(h, 6),
            flags: PsFlags::from_bits_retain(h[3]),
            ts_sec: u32_at(h, 8),
            ts_nsec: u32_at(h, 12),
        };
        self.pos += next;
        self.left -= 1;
        Some(Ok(p))
    }

    #[inline]
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

impl FusedIterator for PackedStreamPackets<'_> {}

impl PackedStreamEvent {
    /// The packets of this event in `buf`, the packed-stream buffer they were written to:
    /// from `start_offset` (`psp_start_offset`) when the event starts a new buffer, else from
    /// `resume`, the [`position`](PackedStreamPackets::position) where the walk of the
    /// previous event in the same buffer ended.
    #[inline]
    pub fn packets<'a>(
        &self,
        buf: &'a [u8],
        start_offset: usize,
        resume: usize,
    ) -> PackedStreamPackets<'a> {
        let start = if self.next_buffer {
            start_offset
        } else {
            resume
        };
        PackedStreamPackets::new(buf, start, self.n_pkts)
    }
}

// The header layout the parser above reads.
const _: () = {
    use std::mem::offset_of;
    type H = ffi::ef_packed_stream_packet;
    assert!(PACKED_STREAM_HEADER_LEN == 16);
    assert!(offset_of!(H, ps_next_offset) == 0);
    assert!(offset_of!(H, ps_pkt_start_offset) == 2);
    assert!(offset_of!(H, ps_flags) == 3);
    assert!(offset_of!(H, ps_cap_len) == 4);
    assert!(offset_of!(H, ps_orig_len) == 6);
    assert!(offset_of!(H, ps_ts_sec) == 8);
    assert!(offset_of!(H, ps_ts_nsec) == 12);
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::RawEvent;

    fn event(next_buffer: bool, n_pkts: u32) -> PackedStreamEvent {
        PackedStreamEvent {
            raw: RawEvent::default(),
            q_id: 0,
            next_buffer,
            n_pkts,
            ps_flags: 0,
        }
    }

    #[test]
    fn an_event_starts_at_the_start_offset_only_for_a_new_buffer() {
        let buf = [0u8; 8];
        let it = event(true, 3).packets(&buf, 64, 500);
        assert_eq!((it.position(), it.remaining()), (64, 3));
        let it = event(false, 2).packets(&buf, 64, 500);
        assert_eq!((it.position(), it.remaining()), (500, 2));
    }
}
