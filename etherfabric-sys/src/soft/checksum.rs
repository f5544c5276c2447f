//! The checksum helpers of `etherfabric/checksum.h` (`ef_ip_checksum()`, `ef_udp_checksum()`,
//! ...), plus the ones-complement arithmetic the backend itself uses to check received frames
//! and to fill in checksums on transmit (the offload a NIC performs).
//!
//! Semantics, as documented for the library:
//!
//! * the checksum field of the header passed in is ignored when computing;
//! * the result is ready to be stored in the header's 16-bit checksum field: its in-memory
//!   byte order is network order (the value is `htons(checksum)`), returned as `u32`;
//! * a computed UDP checksum of zero is returned as `0xffff` (zero means "no checksum");
//! * for IPv4 TCP the pseudo-header length is `tot_len - ihl * 4`, for IPv6 TCP and ICMPv6 it
//!   is the IPv6 `payload_len`, for UDP it is the UDP header's `len`;
//! * the payload is the concatenation of the `iovec`s, which may have odd lengths;
//! * the `*_is_correct` variants sum everything including the checksum field and return 1
//!   when the result verifies, else 0.
//!
//! Headers are read as bytes at their wire offsets, so no alignment is required.

use core::ffi::{c_int, c_void};

use crate::bindings::{iovec, iphdr, ipv6hdr, tcphdr, udphdr};

/// Ones-complement accumulator over a byte stream made of several pieces: bytes at even
/// stream positions are the high half of a 16-bit big-endian word.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Csum {
    sum: u64,
    odd: bool,
}

impl Csum {
    /// An empty sum.
    pub(crate) const fn new() -> Self {
        Csum { sum: 0, odd: false }
    }

    /// Adds a 16-bit value (host order) as one aligned word; the stream position must be even.
    pub(crate) fn add_u16(&mut self, v: u16) {
        self.sum += u64::from(v);
    }

    /// Adds a 32-bit value (host order) as two words.
    pub(crate) fn add_u32(&mut self, v: u32) {
        self.sum += u64::from(v >> 16) + u64::from(v & 0xffff);
    }

    /// Adds the bytes of `data` as the next part of the stream.
    pub(crate) fn add_bytes(&mut self, mut data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.odd {
            self.sum += u64::from(data[0]);
            data = &data[1..];
            self.odd = false;
        }
        let mut chunks = data.chunks_exact(2);
        let mut s: u64 = 0;
        for c in &mut chunks {
            s += u64::from(u16::from_be_bytes([c[0], c[1]]));
        }
        self.sum += s;
        if let [last] = chunks.remainder() {
            self.sum += u64::from(*last) << 8;
            self.odd = true;
        }
    }

    /// The folded 16-bit ones-complement sum (not yet complemented).
    pub(crate) fn fold(&self) -> u16 {
        let mut s = self.sum;
        while s >> 16 != 0 {
            s = (s & 0xffff) + (s >> 16);
        }
        s as u16
    }

    /// The checksum: the complement of the folded sum, host order.
    pub(crate) fn finish(&self) -> u16 {
        !self.fold()
    }
}

/// Reads `len` bytes at `p` as a slice.
///
/// # Safety
///
/// `p` must be valid for reads of `len` bytes (or `len` must be 0).
unsafe fn bytes<'a>(p: *const c_void, len: usize) -> &'a [u8] {
    if len == 0 || p.is_null() {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) }
    }
}

/// Adds every buffer of an iovec array.
///
/// # Safety
///
/// `iov` must point to `iovlen` iovecs, each describing readable memory.
unsafe fn add_iov(c: &mut Csum, iov: *const iovec, iovlen: c_int) {
    if iov.is_null() {
        return;
    }
    for i in 0..iovlen.max(0) as usize {
        // SAFETY: the caller guarantees `iovlen` valid entries describing readable memory.
        let (base, len) = unsafe {
            let v = &*iov.add(i);
            (v.iov_base.cast_const(), v.iov_len)
        };
        // SAFETY: as above.
        c.add_bytes(unsafe { bytes(base, len) });
    }
}

/// Reads a big-endian 16-bit value at byte offset `off` of `p`.
///
/// # Safety
///
/// `p + off .. p + off + 2` must be readable.
unsafe fn be16_at(p: *const c_void, off: usize) -> u16 {
    // SAFETY: guaranteed by the caller; unaligned reads of bytes.
    unsafe {
        let b = p.cast::<u8>().add(off);
        u16::from_be_bytes([*b, *b.add(1)])
    }
}

/// Adds the IPv4 source and destination addresses (bytes 12..20 of the header).
///
/// # Safety
///
/// `ip` must point to a readable IPv4 header.
unsafe fn add_ip4_addrs(c: &mut Csum, ip: *const c_void) {
    // SAFETY: guaranteed by the caller.
    c.add_bytes(unsafe { bytes(ip.cast::<u8>().add(12).cast(), 8) });
}

/// Adds the IPv6 source and destination addresses (bytes 8..40 of the header).
///
/// # Safety
///
/// `ip6` must point to a readable IPv6 header.
unsafe fn add_ip6_addrs(c: &mut Csum, ip6: *const c_void) {
    // SAFETY: guaranteed by the caller.
    c.add_bytes(unsafe { bytes(ip6.cast::<u8>().add(8).cast(), 32) });
}

/// Converts a host-order checksum into the value the library returns (network order in
/// memory, widened to `u32`).
fn to_wire(v: u16) -> u32 {
    u32::from(v.to_be())
}

const IPPROTO_TCP: u16 = 6;
const IPPROTO_UDP: u16 = 17;
const IPPROTO_ICMPV6: u16 = 58;

/// The IPv4 header checksum (ignores the header's own checksum field).
///
/// # Safety
///
/// `ip` must point to an IPv4 header of `ihl * 4` readable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_ip_checksum(ip: *const iphdr) -> u32 {
    let p = ip.cast::<c_void>();
    // SAFETY: the caller guarantees a readable IPv4 header of `ihl * 4` bytes.
    unsafe {
        let ihl = usize::from(*p.cast::<u8>() & 0x0f) * 4;
        let hdr = bytes(p, ihl.max(20));
        let mut c = Csum::new();
        c.add_bytes(&hdr[..10]);
        c.add_bytes(&hdr[12..]);
        to_wire(c.finish())
    }
}

/// The partial sum of a UDP datagram over IPv4 or IPv6, with or without the checksum field.
///
/// # Safety
///
/// Headers and iovecs must be readable; `v6` selects the header kind of `ipx`.
unsafe fn udp_sum(
    v6: bool,
    ipx: *const c_void,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
    with_check: bool,
) -> Csum {
    let mut c = Csum::new();
    let u = udp.cast::<c_void>();
    // SAFETY: guaranteed by the caller.
    unsafe {
        if v6 {
            add_ip6_addrs(&mut c, ipx);
        } else {
            add_ip4_addrs(&mut c, ipx);
        }
        c.add_u16(IPPROTO_UDP);
        c.add_u16(be16_at(u, 4));
        c.add_bytes(bytes(u, if with_check { 8 } else { 6 }));
        add_iov(&mut c, iov, iovlen);
    }
    c
}

/// The partial sum of a TCP segment over IPv4 or IPv6, with or without the checksum field.
///
/// # Safety
///
/// Headers (TCP: `doff * 4` bytes) and iovecs must be readable.
unsafe fn tcp_sum(
    v6: bool,
    ipx: *const c_void,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
    with_check: bool,
) -> Csum {
    let mut c = Csum::new();
    let t = tcp.cast::<c_void>();
    // SAFETY: guaranteed by the caller.
    unsafe {
        if v6 {
            add_ip6_addrs(&mut c, ipx);
            c.add_u16(be16_at(ipx, 4));
        } else {
            add_ip4_addrs(&mut c, ipx);
            let tot = be16_at(ipx, 2);
            let ihl = u16::from(*ipx.cast::<u8>() & 0x0f) * 4;
            c.add_u16(tot.wrapping_sub(ihl));
        }
        c.add_u16(IPPROTO_TCP);
        let doff = usize::from(*t.cast::<u8>().add(12) >> 4) * 4;
        let hdr = bytes(t, doff.max(20));
        if with_check {
            c.add_bytes(hdr);
        } else {
            c.add_bytes(&hdr[..16]);
            c.add_bytes(&hdr[18..]);
        }
        add_iov(&mut c, iov, iovlen);
    }
    c
}

/// The UDP checksum of an IPv4 datagram; `iov` describes the payload.
///
/// # Safety
///
/// `ip`, `udp` and every iovec buffer must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_udp_checksum(
    ip: *const iphdr,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    let c = unsafe { udp_sum(false, ip.cast(), udp, iov, iovlen, false) };
    match c.finish() {
        0 => 0xffff,
        v => to_wire(v),
    }
}

/// The UDP checksum of an IPv6 datagram; `iov` describes the payload.
///
/// # Safety
///
/// `ip6`, `udp` and every iovec buffer must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_udp_checksum_ip6(
    ip6: *const ipv6hdr,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    let c = unsafe { udp_sum(true, ip6.cast(), udp, iov, iovlen, false) };
    match c.finish() {
        0 => 0xffff,
        v => to_wire(v),
    }
}

/// The UDP checksum over IPv6 when `af == AF_INET6`, else over IPv4.
///
/// # Safety
///
/// `ipx` must point to a header of the kind `af` selects; see [`ef_udp_checksum`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_udp_checksum_ipx(
    af: c_int,
    ipx: *const c_void,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        if af == libc::AF_INET6 {
            ef_udp_checksum_ip6(ipx.cast(), udp, iov, iovlen)
        } else {
            ef_udp_checksum(ipx.cast(), udp, iov, iovlen)
        }
    }
}

/// The TCP checksum of an IPv4 segment; `iov` describes the payload after the TCP header
/// (options included in the header, `doff * 4` bytes).
///
/// # Safety
///
/// `ip`, `tcp` and every iovec buffer must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_tcp_checksum(
    ip: *const iphdr,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    to_wire(unsafe { tcp_sum(false, ip.cast(), tcp, iov, iovlen, false) }.finish())
}

/// The TCP checksum of an IPv6 segment.
///
/// # Safety
///
/// `ip6`, `tcp` and every iovec buffer must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_tcp_checksum_ip6(
    ip6: *const ipv6hdr,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    to_wire(unsafe { tcp_sum(true, ip6.cast(), tcp, iov, iovlen, false) }.finish())
}

/// The TCP checksum over IPv6 when `af == AF_INET6`, else over IPv4.
///
/// # Safety
///
/// See [`ef_tcp_checksum`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_tcp_checksum_ipx(
    af: c_int,
    ipx: *const c_void,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    // SAFETY: forwarded caller guarantees.
    unsafe {
        if af == libc::AF_INET6 {
            ef_tcp_checksum_ip6(ipx.cast(), tcp, iov, iovlen)
        } else {
            ef_tcp_checksum(ipx.cast(), tcp, iov, iovlen)
        }
    }
}

/// 1 if the UDP checksum of an IPv4 datagram (header field included) verifies, else 0.
///
/// # Safety
///
/// See [`ef_udp_checksum`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_udp_checksum_is_correct(
    ip: *const iphdr,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> c_int {
    // SAFETY: forwarded caller guarantees.
    c_int::from(unsafe { udp_sum(false, ip.cast(), udp, iov, iovlen, true) }.finish() == 0)
}

/// 1 if the UDP checksum of an IPv6 datagram verifies, else 0.
///
/// # Safety
///
/// See [`ef_udp_checksum_ip6`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_udp_checksum_ip6_is_correct(
    ip6: *const ipv6hdr,
    udp: *const udphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> c_int {
    // SAFETY: forwarded caller guarantees.
    c_int::from(unsafe { udp_sum(true, ip6.cast(), udp, iov, iovlen, true) }.finish() == 0)
}

/// 1 if the TCP checksum of an IPv4 segment verifies, else 0.
///
/// # Safety
///
/// See [`ef_tcp_checksum`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_tcp_checksum_is_correct(
    ip: *const iphdr,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> c_int {
    // SAFETY: forwarded caller guarantees.
    c_int::from(unsafe { tcp_sum(false, ip.cast(), tcp, iov, iovlen, true) }.finish() == 0)
}

/// 1 if the TCP checksum of an IPv6 segment verifies, else 0.
///
/// # Safety
///
/// See [`ef_tcp_checksum_ip6`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_tcp_checksum_ip6_is_correct(
    ip6: *const ipv6hdr,
    tcp: *const tcphdr,
    iov: *const iovec,
    iovlen: c_int,
) -> c_int {
    // SAFETY: forwarded caller guarantees.
    c_int::from(unsafe { tcp_sum(true, ip6.cast(), tcp, iov, iovlen, true) }.finish() == 0)
}

/// The ICMPv6 checksum: pseudo-header (addresses, `payload_len`, next header 58), the first
/// two bytes of the ICMP header (type and code), then the iovecs (the rest of the message
/// after the checksum field).
///
/// # Safety
///
/// `ip6`, the two bytes at `icmp` and every iovec buffer must be readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_icmpv6_checksum(
    ip6: *const ipv6hdr,
    icmp: *const c_void,
    iov: *const iovec,
    iovlen: c_int,
) -> u32 {
    let mut c = Csum::new();
    // SAFETY: forwarded caller guarantees.
    unsafe {
        add_ip6_addrs(&mut c, ip6.cast());
        c.add_u16(be16_at(ip6.cast(), 4));
        c.add_u16(IPPROTO_ICMPV6);
        c.add_bytes(bytes(icmp, 2));
        add_iov(&mut c, iov, iovlen);
    }
    to_wire(c.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_odd_pieces_like_one_stream() {
        let data: Vec<u8> = (0u8..=200).collect();
        let mut whole = Csum::new();
        whole.add_bytes(&data);
        let mut parts = Csum::new();
        parts.add_bytes(&data[..3]);
        parts.add_bytes(&data[3..4]);
        parts.add_bytes(&data[4..101]);
        parts.add_bytes(&data[101..]);
        assert_eq!(whole.fold(), parts.fold());
    }

    /// RFC 1071 over one contiguous byte string (the reference).
    fn rfc1071(data: &[u8]) -> u16 {
        let mut sum: u32 = 0;
        for c in data.chunks(2) {
            let w = if c.len() == 2 {
                u16::from_be_bytes([c[0], c[1]])
            } else {
                u16::from(c[0]) << 8
            };
            sum += u32::from(w);
        }
        while sum >> 16 != 0 {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        !(sum as u16)
    }

    /// Splits `payload` into iovecs at the given cut points.
    fn iovs(payload: &[u8], cuts: &[usize]) -> Vec<iovec> {
        let mut v = Vec::new();
        let mut at = 0;
        for &c in cuts.iter().chain(core::iter::once(&payload.len())) {
            let c = c.min(payload.len());
            v.push(iovec {
                iov_base: payload[at..c].as_ptr().cast_mut().cast(),
                iov_len: c - at,
            });
            at = c;
        }
        v
    }

    #[test]
    fn udp_tcp_icmp_checksums_match_a_reference_for_odd_splits() {
        for len in [0usize, 1, 2, 3, 7, 64, 101, 1473] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            let cuts = [1usize, 4, 5, 50, 51];
            let v = iovs(&payload, &cuts);
            // IPv4 + UDP.
            let mut ip = [0u8; 20];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&((20 + 8 + len) as u16).to_be_bytes());
            ip[9] = 17;
            ip[12..20].copy_from_slice(&[192, 168, 1, 10, 10, 9, 8, 7]);
            let mut udp = [0u8; 8];
            udp[0..2].copy_from_slice(&1234u16.to_be_bytes());
            udp[2..4].copy_from_slice(&80u16.to_be_bytes());
            udp[4..6].copy_from_slice(&((8 + len) as u16).to_be_bytes());
            udp[6..8].copy_from_slice(&[0xde, 0xad]); // ignored
            let mut pseudo = Vec::new();
            pseudo.extend_from_slice(&ip[12..20]);
            pseudo.extend_from_slice(&[0, 17]);
            pseudo.extend_from_slice(&udp[4..6]);
            let mut whole = pseudo.clone();
            whole.extend_from_slice(&udp[..6]);
            whole.extend_from_slice(&[0, 0]);
            whole.extend_from_slice(&payload);
            let mut want = rfc1071(&whole);
            if want == 0 {
                want = 0xffff;
            }
            // SAFETY: headers and iovecs are valid for the calls.
            let got = unsafe {
                ef_udp_checksum(
                    ip.as_ptr().cast(),
                    udp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(got, u32::from(want.to_be()), "udp len {len}");
            udp[6..8].copy_from_slice(&want.to_be_bytes());
            // SAFETY: as above.
            let ok = unsafe {
                ef_udp_checksum_is_correct(
                    ip.as_ptr().cast(),
                    udp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(ok, 1);
            udp[7] ^= 1;
            // SAFETY: as above.
            let ok = unsafe {
                ef_udp_checksum_is_correct(
                    ip.as_ptr().cast(),
                    udp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(ok, 0);

            // IPv4 + TCP with 4 bytes of options; the length comes from tot_len.

            ip[9] = 6;
            ip[2..4].copy_from_slice(&((20 + 24 + len) as u16).to_be_bytes());
            let mut tcp = [0u8; 24];
            tcp[12] = 6 << 4;
            tcp[4..8].copy_from_slice(&[1, 2, 3, 4]);
            tcp[16..18].copy_from_slice(&[0xbe, 0xef]); // ignored
            tcp[20..24].copy_from_slice(&[1, 1, 8, 10]);
            let mut whole = Vec::new();
            whole.extend_from_slice(&ip[12..20]);
            whole.extend_from_slice(&[0, 6]);
            whole.extend_from_slice(&((24 + len) as u16).to_be_bytes());
            let mut t0 = tcp;
            t0[16..18].copy_from_slice(&[0, 0]);
            whole.extend_from_slice(&t0);
            whole.extend_from_slice(&payload);
            let want = rfc1071(&whole);
            // SAFETY: as above.
            let got = unsafe {
                ef_tcp_checksum(
                    ip.as_ptr().cast(),
                    tcp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(got, u32::from(want.to_be()), "tcp len {len}");
            tcp[16..18].copy_from_slice(&want.to_be_bytes());
            // SAFETY: as above.
            let ok = unsafe {
                ef_tcp_checksum_is_correct(
                    ip.as_ptr().cast(),
                    tcp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(ok, 1);

            // IPv6: UDP, TCP and ICMPv6 through the af-dispatching entry points.
            let mut ip6 = [0u8; 40];
            ip6[0] = 0x60;
            ip6[8..24].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
            ip6[24..40].copy_from_slice(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 8, 7, 6, 5, 4, 3, 2, 1]);
            ip6[4..6].copy_from_slice(&((24 + len) as u16).to_be_bytes());
            let mut whole = Vec::new();
            whole.extend_from_slice(&ip6[8..40]);
            whole.extend_from_slice(&[0, 0, 0, 6]);
            whole.extend_from_slice(&[0, 0]);
            whole.extend_from_slice(&((24 + len) as u16).to_be_bytes());
            whole.extend_from_slice(&t0);
            whole.extend_from_slice(&payload);
            let want = rfc1071(&whole);
            // SAFETY: as above.
            let got = unsafe {
                ef_tcp_checksum_ipx(
                    libc::AF_INET6,
                    ip6.as_ptr().cast(),
                    tcp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(got, u32::from(want.to_be()), "tcp6 len {len}");
            let mut whole = Vec::new();
            whole.extend_from_slice(&ip6[8..40]);
            whole.extend_from_slice(&[0, 0]);
            whole.extend_from_slice(&udp[4..6]);
            whole.extend_from_slice(&[0, 0, 0, 17]);
            whole.extend_from_slice(&udp[..6]);
            whole.extend_from_slice(&[0, 0]);
            whole.extend_from_slice(&payload);
            let mut want = rfc1071(&whole);
            if want == 0 {
                want = 0xffff;
            }
            // SAFETY: as above.
            let got = unsafe {
                ef_udp_checksum_ipx(
                    libc::AF_INET6,
                    ip6.as_ptr().cast(),
                    udp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(got, u32::from(want.to_be()), "udp6 len {len}");
            let icmp = [128u8, 0, 0xff, 0xff];
            let mut whole = Vec::new();
            whole.extend_from_slice(&ip6[8..40]);
            whole.extend_from_slice(&[0, 0]);
            whole.extend_from_slice(&ip6[4..6]);
            whole.extend_from_slice(&[0, 0, 0, 58]);
            whole.extend_from_slice(&icmp[..2]);
            whole.extend_from_slice(&payload);
            let want = rfc1071(&whole);
            // SAFETY: as above.
            let got = unsafe {
                ef_icmpv6_checksum(
                    ip6.as_ptr().cast(),
                    icmp.as_ptr().cast(),
                    v.as_ptr(),
                    v.len() as c_int,
                )
            };
            assert_eq!(got, u32::from(want.to_be()), "icmpv6 len {len}");
        }
    }

    #[test]
    fn ip_header_checksum_matches_known_value() {
        // A classic example header (checksum 0xb861).
        let hdr: [u8; 20] = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        // SAFETY: `hdr` is a readable 20-byte IPv4 header.
        let c = unsafe { ef_ip_checksum(hdr.as_ptr().cast()) };
        assert_eq!(c, u32::from(0xb861u16.to_be()));
    }
}
