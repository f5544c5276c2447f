//! Frames and data patterns the tests send, and checks of what arrives.

use std::net::Ipv4Addr;

/// Builds an Ethernet/IPv4/UDP frame (no VLAN tag, no IP options, TTL 64, "don't fragment"),
/// with both checksums left zero for a transmit offload (or the caller) to fill in.
pub fn udp_frame(
    dst_mac: [u8; 6],
    src_mac: [u8; 6],
    src: (Ipv4Addr, u16),
    dst: (Ipv4Addr, u16),
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::with_capacity(42 + payload.len());
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&0x0800u16.to_be_bytes());
    let tot = (20 + 8 + payload.len()) as u16;
    f.extend_from_slice(&[0x45, 0]);
    f.extend_from_slice(&tot.to_be_bytes());
    f.extend_from_slice(&[0, 1, 0x40, 0, 64, 17, 0, 0]);
    f.extend_from_slice(&src.0.octets());
    f.extend_from_slice(&dst.0.octets());
    f.extend_from_slice(&src.1.to_be_bytes());
    f.extend_from_slice(&dst.1.to_be_bytes());
    f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    f.extend_from_slice(&[0, 0]);
    f.extend_from_slice(payload);
    f
}

/// Whether data that includes its RFC 1071 checksum (an IPv4 header, say) sums to all ones;
/// `h` has an even length.
pub fn checksum_ok(h: &[u8]) -> bool {
    let mut sum: u32 = h
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], c[1]])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum == 0xffff
}

/// Byte `i` of a data pattern chosen by `seed`: streams of it show reordering, loss and
/// duplication.
pub fn pat(seed: u8, i: usize) -> u8 {
    (i as u64)
        .wrapping_mul(2654435761)
        .wrapping_add(u64::from(seed))
        .to_le_bytes()[1]
}
