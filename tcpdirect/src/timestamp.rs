//! Receive timestamps and transmit packet reports.

use std::fmt;
use std::time::Duration;

use zf_sys::{timespec, zf_pkt_report};

bitflags::bitflags! {
    /// What a timestamp or packet report says about itself (`ZF_PKT_REPORT_*`).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct ReportFlags: u16 {
        /// The adapter clock has been set.
        const CLOCK_SET = zf_sys::ZF_PKT_REPORT_CLOCK_SET as u16;
        /// The adapter clock is in sync with the system clock.
        const IN_SYNC = zf_sys::ZF_PKT_REPORT_IN_SYNC as u16;
        /// No timestamp is available for this packet.
        const NO_TIMESTAMP = zf_sys::ZF_PKT_REPORT_NO_TIMESTAMP as u16;
        /// Reports were lost before this one (the report queue overflowed).
        const DROPPED = zf_sys::ZF_PKT_REPORT_DROPPED as u16;
        /// The packet was a TCP retransmission.
        const TCP_RETRANS = zf_sys::ZF_PKT_REPORT_TCP_RETRANS as u16;
        /// The packet carried a TCP SYN.
        const TCP_SYN = zf_sys::ZF_PKT_REPORT_TCP_SYN as u16;
        /// The packet carried a TCP FIN.
        const TCP_FIN = zf_sys::ZF_PKT_REPORT_TCP_FIN as u16;
        // Flags a newer library may set.
        const _ = !0;
    }
}

/// When a packet was received, from the adapter clock (or software time on the software
/// backend).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp {
    /// Time since the Unix epoch.
    pub time: Duration,
    /// The clock's state.
    pub flags: ReportFlags,
}

pub(crate) fn duration(t: &timespec) -> Duration {
    Duration::new(
        t.tv_sec.max(0) as u64,
        t.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// One transmitted packet's report (`struct zf_pkt_report`), from
/// [`TcpRef::tx_timestamps`](crate::TcpRef::tx_timestamps) or
/// [`UdpTx::tx_timestamps`](crate::UdpTx::tx_timestamps): when it left and which bytes of the
/// stream it carried. Needs the stack attribute `tx_timestamping`.
#[derive(Clone, Copy, Default)]
#[repr(transparent)]
pub struct PacketReport(pub(crate) zf_pkt_report);

impl PacketReport {
    /// When the packet was sent (since the Unix epoch).
    pub fn timestamp(&self) -> Duration {
        duration(&self.0.timestamp)
    }
    /// For TCP, the stream offset of the packet's first byte (low 32 bits); for UDP, a
    /// datagram counter.
    pub fn start(&self) -> u32 {
        self.0.start
    }
    /// The payload bytes the packet carried.
    pub fn bytes(&self) -> u16 {
        self.0.bytes
    }
    /// What the report says about itself.
    pub fn flags(&self) -> ReportFlags {
        ReportFlags::from_bits_retain(self.0.flags)
    }
}

impl fmt::Debug for PacketReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketReport")
            .field("timestamp", &self.timestamp())
            .field("start", &self.start())
            .field("bytes", &self.bytes())
            .field("flags", &self.flags())
            .finish()
    }
}
