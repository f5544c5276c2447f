//! The flag sets of a VI.

// `ef_vi_flags` is a C `unsigned long`: 64 bits here, so `as u64` is a no-op on this target
// only.
#![allow(clippy::unnecessary_cast)]

use crate::ffi;

bitflags::bitflags! {
    /// Flags of a VI (`enum ef_vi_flags`, a 64-bit set).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct ViFlags: u64 {
        /// iSCSI header digest offload on receive.
        const ISCSI_RX_HDIG = ffi::ef_vi_flags_EF_VI_ISCSI_RX_HDIG as u64;
        /// iSCSI header digest offload on transmit.
        const ISCSI_TX_HDIG = ffi::ef_vi_flags_EF_VI_ISCSI_TX_HDIG as u64;
        /// iSCSI data digest offload on receive.
        const ISCSI_RX_DDIG = ffi::ef_vi_flags_EF_VI_ISCSI_RX_DDIG as u64;
        /// iSCSI data digest offload on transmit.
        const ISCSI_TX_DDIG = ffi::ef_vi_flags_EF_VI_ISCSI_TX_DDIG as u64;
        /// Transmit descriptors carry physical addresses.
        const TX_PHYS_ADDR = ffi::ef_vi_flags_EF_VI_TX_PHYS_ADDR as u64;
        /// Receive descriptors carry physical addresses.
        const RX_PHYS_ADDR = ffi::ef_vi_flags_EF_VI_RX_PHYS_ADDR as u64;
        /// No IP checksum offload on transmit.
        const TX_IP_CSUM_DIS = ffi::ef_vi_flags_EF_VI_TX_IP_CSUM_DIS as u64;
        /// No TCP/UDP checksum offload on transmit.
        const TX_TCPUDP_CSUM_DIS = ffi::ef_vi_flags_EF_VI_TX_TCPUDP_CSUM_DIS as u64;
        /// Transmit only TCP and UDP.
        const TX_TCPUDP_ONLY = ffi::ef_vi_flags_EF_VI_TX_TCPUDP_ONLY as u64;
        /// Filter transmits by IP address.
        const TX_FILTER_IP = ffi::ef_vi_flags_EF_VI_TX_FILTER_IP as u64;
        /// Filter transmits by MAC address.
        const TX_FILTER_MAC = ffi::ef_vi_flags_EF_VI_TX_FILTER_MAC as u64;
        /// Transmit filter mask bit 1.
        const TX_FILTER_MASK_1 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_1 as u64;
        /// Transmit filter mask bit 2.
        const TX_FILTER_MASK_2 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_2 as u64;
        /// Transmit filter mask 3 (both bits).
        const TX_FILTER_MASK_3 = ffi::ef_vi_flags_EF_VI_TX_FILTER_MASK_3 as u64;
        /// Never push descriptors with the doorbell.
        const TX_PUSH_DISABLE = ffi::ef_vi_flags_EF_VI_TX_PUSH_DISABLE as u64;
        /// Always push descriptors with the doorbell.
        const TX_PUSH_ALWAYS = ffi::ef_vi_flags_EF_VI_TX_PUSH_ALWAYS as u64;
        /// Timestamp received packets.
        const RX_TIMESTAMPS = ffi::ef_vi_flags_EF_VI_RX_TIMESTAMPS as u64;
        /// Timestamp transmitted packets (`EF_EVENT_TYPE_TX_WITH_TIMESTAMP`).
        const TX_TIMESTAMPS = ffi::ef_vi_flags_EF_VI_TX_TIMESTAMPS as u64;
        /// Packed-stream receive.
        const RX_PACKED_STREAM = ffi::ef_vi_flags_EF_VI_RX_PACKED_STREAM as u64;
        /// 64 KiB packed-stream buffers.
        const RX_PS_BUF_SIZE_64K = ffi::ef_vi_flags_EF_VI_RX_PS_BUF_SIZE_64K as u64;
        /// Merge receive events (`EF_EVENT_TYPE_RX_MULTI`).
        const RX_EVENT_MERGE = ffi::ef_vi_flags_EF_VI_RX_EVENT_MERGE as u64;
        /// TX alternatives.
        const TX_ALT = ffi::ef_vi_flags_EF_VI_TX_ALT as u64;
        /// Event queue timer.
        const ENABLE_EV_TIMER = ffi::ef_vi_flags_EF_VI_ENABLE_EV_TIMER as u64;
        /// Cut-through PIO transmit.
        const TX_CTPIO = ffi::ef_vi_flags_EF_VI_TX_CTPIO as u64;
        /// CTPIO without poisoning under-run frames.
        const TX_CTPIO_NO_POISON = ffi::ef_vi_flags_EF_VI_TX_CTPIO_NO_POISON as u64;
        /// Zero-copy receive (X3).
        const RX_ZEROCOPY = ffi::ef_vi_flags_EF_VI_RX_ZEROCOPY as u64;
        /// Allow memcpy-based datapaths.
        const ALLOW_MEMCPY = ffi::ef_vi_flags_EF_VI_ALLOW_MEMCPY as u64;
        /// One efct receive queue for the VI.
        const EFCT_UNIQUEUE = ffi::ef_vi_flags_EF_VI_EFCT_UNIQUEUE as u64;
        /// Exclusive receive queue.
        const RX_EXCLUSIVE = ffi::ef_vi_flags_EF_VI_RX_EXCLUSIVE as u64;
        /// PCIe TLP processing hints.
        const ENABLE_TPH = ffi::ef_vi_flags_EF_VI_ENABLE_TPH as u64;
        /// TPH tag mode.
        const TPH_TAG_MODE = ffi::ef_vi_flags_EF_VI_TPH_TAG_MODE as u64;
        /// Report the id of the filter that matched each packet.
        const RX_FILTER_ID = ffi::ef_vi_flags_EF_VI_RX_FILTER_ID as u64;
    }
}

bitflags::bitflags! {
    /// Receive errors that make the NIC discard a packet (`enum ef_vi_rx_discard_err_flags`),
    /// for [`Vi::set_rx_discards`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
    pub struct DiscardFlags: u32 {
        /// Bad TCP/UDP checksum.
        const L4_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR;
        /// Bad IP checksum.
        const L3_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR;
        /// Bad Ethernet FCS.
        const ETH_FCS_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR;
        /// Bad Ethernet length.
        const ETH_LEN_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR;
        /// Marked to be discarded.
        const TOBE_DISC = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_TOBE_DISC;
        /// Bad inner TCP/UDP checksum.
        const INNER_L4_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L4_CSUM_ERR;
        /// Bad inner IP checksum.
        const INNER_L3_CSUM_ERR = ffi::ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_INNER_L3_CSUM_ERR;
    }
}
