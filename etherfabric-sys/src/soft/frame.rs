//! Parsing of Ethernet frames (as far as filters, checksums and RSS need), checksum
//! verification on receive and checksum insertion on transmit.

use super::checksum::Csum;

pub(crate) const ETH_P_IP: u16 = 0x0800;
pub(crate) const ETH_P_IPV6: u16 = 0x86dd;
pub(crate) const ETH_P_8021Q: u16 = 0x8100;
pub(crate) const ETH_P_8021AD: u16 = 0x88a8;
pub(crate) const IPPROTO_TCP: u8 = 6;
pub(crate) const IPPROTO_UDP: u8 = 17;

/// The fields of a frame that the filters, RSS and checksum code look at.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FrameInfo {
    pub dst_mac: [u8; 6],
    /// Outer VLAN id, if the frame is tagged.
    pub vlan: Option<u16>,
    /// EtherType after any VLAN tags.
    pub ether_type: u16,
    /// Offset of the L3 header.
    pub l3_off: usize,
    /// 4 or 6 for IP frames, else 0.
    pub ip_ver: u8,
    pub ip_proto: u8,
    /// IPv4 addresses in network order, as stored in the frame (`u32::from_ne_bytes`).
    pub saddr4: u32,
    pub daddr4: u32,
    pub saddr6: [u8; 16],
    pub daddr6: [u8; 16],
    /// Offset of the L4 header, when the frame is IP and not a non-first fragment.
    pub l4_off: Option<usize>,
    /// Ports in network order as stored (`u16::from_ne_bytes`), TCP/UDP only.
    pub sport: u16,
    pub dport: u16,
    /// The L3 total length from the IP header (header + payload), clamped to the frame.
    pub l3_len: usize,
    /// True when the frame is an IP fragment (any fragment).
    pub fragment: bool,
}

impl FrameInfo {
    /// True if the destination MAC is a group (multicast or broadcast) address.
    pub(crate) fn is_multicast(&self) -> bool {
        self.dst_mac[0] & 1 != 0
    }

    /// True when the frame carries TCP or UDP with a parsed L4 header.
    pub(crate) fn has_ports(&self) -> bool {
        self.l4_off.is_some() && (self.ip_proto == IPPROTO_TCP || self.ip_proto == IPPROTO_UDP)
    }
}

fn be16(b: &[u8], off: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(off)?, *b.get(off + 1)?]))
}

/// Parses a frame; fields that are not present keep their defaults.
pub(crate) fn parse(f: &[u8]) -> FrameInfo {
    let mut fi = FrameInfo::default();
    if f.len() < 14 {
        return fi;
    }
    fi.dst_mac.copy_from_slice(&f[..6]);
    let mut off = 12;
    let mut et = be16(f, off).unwrap_or(0);
    let mut tags = 0;
    while (et == ETH_P_8021Q || et == ETH_P_8021AD) && tags < 2 {
        let Some(tci) = be16(f, off + 2) else {
            return fi;
        };
        if fi.vlan.is_none() {
            fi.vlan = Some(tci & 0x0fff);
        }
        off += 4;
        tags += 1;
        et = be16(f, off).unwrap_or(0);
    }
    fi.ether_type = et;
    fi.l3_off = off + 2;
    let l3 = &f[fi.l3_off..];
    match et {
        ETH_P_IP if l3.len() >= 20 && l3[0] >> 4 == 4 => {
            let ihl = usize::from(l3[0] & 0x0f) * 4;
            if ihl < 20 || l3.len() < ihl {
                return fi;
            }
            fi.ip_ver = 4;
            fi.ip_proto = l3[9];
            fi.saddr4 = u32::from_ne_bytes([l3[12], l3[13], l3[14], l3[15]]);
            fi.daddr4 = u32::from_ne_bytes([l3[16], l3[17], l3[18], l3[19]]);
            let tot = usize::from(be16(l3, 2).unwrap_or(0));
            fi.l3_len = tot.clamp(ihl, l3.len());
            let frag = be16(l3, 6).unwrap_or(0);
            fi.fragment = frag & 0x3fff != 0;
            if frag & 0x1fff == 0 {
                fi.l4_off = Some(fi.l3_off + ihl);
            }
        }
        ETH_P_IPV6 if l3.len() >= 40 && l3[0] >> 4 == 6 => {
            fi.ip_ver = 6;
            fi.ip_proto = l3[6];
            fi.saddr6.copy_from_slice(&l3[8..24]);
            fi.daddr6.copy_from_slice(&l3[24..40]);
            fi.l3_len = (40 + usize::from(be16(l3, 4).unwrap_or(0))).min(l3.len());
            fi.l4_off = Some(fi.l3_off + 40);
        }
        _ => return fi,
    }
    if let Some(l4) = fi.l4_off {
        if fi.ip_proto == IPPROTO_TCP || fi.ip_proto == IPPROTO_UDP {
            if f.len() >= l4 + 4 {
                fi.sport = u16::from_ne_bytes([f[l4], f[l4 + 1]]);
                fi.dport = u16::from_ne_bytes([f[l4 + 2], f[l4 + 3]]);
            } else {
                fi.l4_off = None;
            }
        }
    }
    fi
}

/// Result of checking the checksums of a received frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CsumErrors {
    pub l3: bool,
    pub l4: bool,
}

/// Sums the pseudo-header of the L4 protocol `proto` for the frame.
fn pseudo(f: &[u8], fi: &FrameInfo, l4_len: usize) -> Csum {
    let mut c = Csum::new();
    let l3 = &f[fi.l3_off..];
    if fi.ip_ver == 4 {
        c.add_bytes(&l3[12..20]);
    } else {
        c.add_bytes(&l3[8..40]);
    }
    c.add_u16(u16::from(fi.ip_proto));
    c.add_u32(l4_len as u32);
    c
}

/// The L4 byte range `[l4, end)` of a TCP/UDP frame, if complete.
fn l4_range(f: &[u8], fi: &FrameInfo) -> Option<(usize, usize)> {
    if !fi.has_ports() || fi.fragment {
        return None;
    }
    let l4 = fi.l4_off?;
    let end = (fi.l3_off + fi.l3_len).min(f.len());
    let min = if fi.ip_proto == IPPROTO_TCP { 20 } else { 8 };
    (end >= l4 + min).then_some((l4, end))
}

/// Offset of the checksum field within the L4 header.
fn l4_check_off(proto: u8) -> usize {
    if proto == IPPROTO_TCP { 16 } else { 6 }
}

/// Checks the IPv4 header checksum and the TCP/UDP checksum of a received frame.
pub(crate) fn verify(f: &[u8], fi: &FrameInfo) -> CsumErrors {
    let mut e = CsumErrors::default();
    if fi.ip_ver == 4 {
        let ihl = usize::from(f[fi.l3_off] & 0x0f) * 4;
        let mut c = Csum::new();
        c.add_bytes(&f[fi.l3_off..fi.l3_off + ihl]);
        e.l3 = c.fold() != 0xffff;
    }
    if let Some((l4, end)) = l4_range(f, fi) {
        let check = u16::from_be_bytes([
            f[l4 + l4_check_off(fi.ip_proto)],
            f[l4 + l4_check_off(fi.ip_proto) + 1],
        ]);
        // A zero UDP checksum over IPv4 means "not computed".
        if !(fi.ip_proto == IPPROTO_UDP && fi.ip_ver == 4 && check == 0) {
            let mut c = pseudo(f, fi, end - l4);
            c.add_bytes(&f[l4..end]);
            e.l4 = c.fold() != 0xffff;
        }
    }
    e
}

/// Writes the correct TCP/UDP checksum into the frame (checksum offload). Returns false when
/// the frame is not a complete TCP/UDP packet.
pub(crate) fn fill_l4(f: &mut [u8], fi: &FrameInfo) -> bool {
    let Some((l4, end)) = l4_range(f, fi) else {
        return false;
    };
    let co = l4 + l4_check_off(fi.ip_proto);
    f[co] = 0;
    f[co + 1] = 0;
    let mut c = pseudo(f, fi, end - l4);
    c.add_bytes(&f[l4..end]);
    let mut v = c.finish();
    if fi.ip_proto == IPPROTO_UDP && v == 0 {
        v = 0xffff;
    }
    f[co..co + 2].copy_from_slice(&v.to_be_bytes());
    true
}

/// Writes the correct IPv4 header checksum into the frame.
pub(crate) fn fill_l3(f: &mut [u8], fi: &FrameInfo) {
    if fi.ip_ver != 4 {
        return;
    }
    let ihl = usize::from(f[fi.l3_off] & 0x0f) * 4;
    let h = fi.l3_off;
    f[h + 10] = 0;
    f[h + 11] = 0;
    let mut c = Csum::new();
    c.add_bytes(&f[h..h + ihl]);
    let v = c.finish();
    f[h + 10..h + 12].copy_from_slice(&v.to_be_bytes());
}

/// The flow hash used to spread received frames over the VIs of a set (RSS): over the
/// addresses and, for TCP/UDP, the ports; 0 for non-IP frames.
pub(crate) fn flow_hash(fi: &FrameInfo) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut mix = |b: &[u8]| {
        for &x in b {
            h ^= u64::from(x);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    match fi.ip_ver {
        4 => {
            mix(&fi.saddr4.to_ne_bytes());
            mix(&fi.daddr4.to_ne_bytes());
        }
        6 => {
            mix(&fi.saddr6);
            mix(&fi.daddr6);
        }
        _ => return 0,
    }
    if fi.has_ports() && !fi.fragment {
        mix(&[fi.ip_proto]);
        mix(&fi.sport.to_ne_bytes());
        mix(&fi.dport.to_ne_bytes());
    }
    (h ^ (h >> 32)) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn udp_frame(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12] = 0x08;
        let tot = (20 + 8 + payload.len()) as u16;
        f.extend_from_slice(&[0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 17, 0, 0]);
        f[16..18].copy_from_slice(&tot.to_be_bytes());
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        f.extend_from_slice(&1234u16.to_be_bytes());
        f.extend_from_slice(&5678u16.to_be_bytes());
        f.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
        f.extend_from_slice(&[0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn fill_then_verify() {
        let mut f = udp_frame(b"hello world");
        let fi = parse(&f);
        assert_eq!(fi.ip_ver, 4);
        assert_eq!(u16::from_be(fi.dport), 5678);
        fill_l3(&mut f, &fi);
        assert!(fill_l4(&mut f, &fi));
        assert_eq!(verify(&f, &fi), CsumErrors::default());
        let last = f.len() - 1;
        f[last] ^= 0xff;
        assert!(verify(&f, &fi).l4);
    }
}
