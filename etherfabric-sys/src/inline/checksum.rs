//! The inline functions of `etherfabric/checksum.h`: single-buffer and address-family
//! dispatching wrappers around the library's checksum functions.
//!
//! These call exported `libciul` functions (`ef_udp_checksum_ipx()`,
//! `ef_udp_checksum_is_correct()`, ...), so using them needs the library or the crate's
//! software backend linked in, exactly like the C inlines.
//!
//! `af` is an address family: `AF_INET6` selects the IPv6 function and any other value the
//! IPv4 one, as `ef_udp_checksum_ipx()` does. Checksums are returned as the library returns
//! them: ready to store in the header's checksum field (network byte order in memory).

use core::ffi::{c_int, c_void};

use crate::bindings::*;

/// The UDP checksum of a packet whose payload is one buffer (C inline
/// `ef_udp_checksum_ipx_buf()`): wraps `payload`/`paylen` in a one-element `iovec` and calls
/// `ef_udp_checksum_ipx(af, ipx, udp, &iov, 1)`.
///
/// The UDP header must be filled in; its checksum field is ignored.
///
/// # Safety
///
/// `ipx` must point to an IPv4 (`struct iphdr`) or, for `AF_INET6`, an IPv6 header, `udp` to
/// a UDP header, and `payload` to `paylen` readable bytes.
#[inline]
pub unsafe fn ef_udp_checksum_ipx_buf(
    af: c_int,
    ipx: *const c_void,
    udp: *const udphdr,
    payload: *const c_void,
    paylen: c_int,
) -> u32 {
    let iov = iovec {
        iov_base: payload.cast_mut(),
        iov_len: paylen as usize,
    };
    // SAFETY: the caller guarantees the headers and the payload; `iov` lives across the call.
    unsafe { ef_udp_checksum_ipx(af, ipx, udp, &iov, 1) }
}

/// The TCP checksum of a segment whose payload is one buffer (C inline
/// `ef_tcp_checksum_ipx_buf()`): wraps `payload`/`paylen` in a one-element `iovec` and calls
/// `ef_tcp_checksum_ipx(af, ipx, tcp, &iov, 1)`.
///
/// The TCP header (including options, `doff * 4` bytes) must be filled in; its checksum
/// field is ignored. For IPv4 the payload length the library uses in the pseudo-header comes
/// from the IP header's `tot_len`.
///
/// # Safety
///
/// `ipx` must point to an IPv4 (`struct iphdr`) or, for `AF_INET6`, an IPv6 header, `tcp` to
/// a TCP header of `doff * 4` bytes, and `payload` to `paylen` readable bytes.
#[inline]
pub unsafe fn ef_tcp_checksum_ipx_buf(
    af: c_int,
    ipx: *const c_void,
    tcp: *const tcphdr,
    payload: *const c_void,
    paylen: c_int,
) -> u32 {
    let iov = iovec {
        iov_base: payload.cast_mut(),
        iov_len: paylen as usize,
    };
    // SAFETY: the caller guarantees the headers and the payload; `iov` lives across the call.
    unsafe { ef_tcp_checksum_ipx(af, ipx, tcp, &iov, 1) }
}

/// Non-zero if the checksum in the UDP header of a packet whose payload is one buffer is
/// correct (C inline `ef_udp_checksum_ipx_is_correct()`): calls
/// `ef_udp_checksum_ip6_is_correct()` for `AF_INET6` and `ef_udp_checksum_is_correct()`
/// otherwise, with a one-element `iovec`.
///
/// # Safety
///
/// `ipx` must point to an IPv4 (`struct iphdr`) or, for `AF_INET6`, an IPv6 header, `udp` to
/// a UDP header, and `payload` to `paylen` readable bytes.
#[inline]
pub unsafe fn ef_udp_checksum_ipx_is_correct(
    af: c_int,
    ipx: *const c_void,
    udp: *const udphdr,
    payload: *const c_void,
    paylen: c_int,
) -> c_int {
    let iov = iovec {
        iov_base: payload.cast_mut(),
        iov_len: paylen as usize,
    };
    if af == libc::AF_INET6 {
        // SAFETY: the caller guarantees an IPv6 header, the UDP header and the payload.
        unsafe { ef_udp_checksum_ip6_is_correct(ipx.cast(), udp, &iov, 1) }
    } else {
        // SAFETY: the caller guarantees an IPv4 header, the UDP header and the payload.
        unsafe { ef_udp_checksum_is_correct(ipx.cast(), udp, &iov, 1) }
    }
}

/// Non-zero if the checksum in the TCP header of a segment whose payload is one buffer is
/// correct (C inline `ef_tcp_checksum_ipx_is_correct()`): calls
/// `ef_tcp_checksum_ip6_is_correct()` for `AF_INET6` and `ef_tcp_checksum_is_correct()`
/// otherwise, with a one-element `iovec`.
///
/// # Safety
///
/// `ipx` must point to an IPv4 (`struct iphdr`) or, for `AF_INET6`, an IPv6 header, `tcp` to
/// a TCP header of `doff * 4` bytes, and `payload` to `paylen` readable bytes.
#[inline]
pub unsafe fn ef_tcp_checksum_ipx_is_correct(
    af: c_int,
    ipx: *const c_void,
    tcp: *const tcphdr,
    payload: *const c_void,
    paylen: c_int,
) -> c_int {
    let iov = iovec {
        iov_base: payload.cast_mut(),
        iov_len: paylen as usize,
    };
    if af == libc::AF_INET6 {
        // SAFETY: the caller guarantees an IPv6 header, the TCP header and the payload.
        unsafe { ef_tcp_checksum_ip6_is_correct(ipx.cast(), tcp, &iov, 1) }
    } else {
        // SAFETY: the caller guarantees an IPv4 header, the TCP header and the payload.
        unsafe { ef_tcp_checksum_is_correct(ipx.cast(), tcp, &iov, 1) }
    }
}
