//! Rust equivalents of what the TCPDirect headers (`zf/*.h`) define in C but bindgen cannot
//! bind: `static inline` functions and macros whose value is not a plain number.
//!
//! Every item has the C name and the C semantics, and `sys-conformance` (`tests/zf_inline.rs`)
//! checks it against the C definition.
//!
//! # What the headers define, and where it is in Rust
//!
//! | Header | C name | Kind | In Rust |
//! |---|---|---|---|
//! | `zf_ds.h` | `zf_delegated_send_tcp_update` | static inline | [`zf_delegated_send_tcp_update`] |
//! | `zf_ds.h` | `zf_delegated_send_tcp_advance` | static inline | [`zf_delegated_send_tcp_advance`] |
//! | `zf_stack.h` | `EPOLLSTACKHUP` | macro (= libc's `EPOLLRDHUP`, an enum constant in glibc, which bindgen cannot evaluate) | [`EPOLLSTACKHUP`] |
//! | `zf_platform.h` | `ZF_LIKELY(t)`, `ZF_UNLIKELY(t)` | function-like macros | left out: branch-prediction hints whose value is just `t`; Rust code writes the condition itself (and `#[cold]` where it matters) |
//! | `zf_platform.h` | `ZF_UNREACHABLE` | macro (`__builtin_unreachable`) | left out: that is [`core::hint::unreachable_unchecked`] |
//! | `zf_platform.h` | `ZF_HOT`, `ZF_COLD`, `ZF_NOCLONE`, `ZF_CONSTFUNC`, `ZF_NOINLINE`, `ZF_VISIBLE`, `ZF_LIBENTRY` | attribute macros | left out: they only decorate C declarations |
//! | `zf_platform.h` | `ZF_FLEXIBLE_ARRAY_COUNT` | macro (0) | bound by bindgen |
//! | `sysdep/x86.h` | `ZF_CACHE_LINE_SIZE` | macro | bound by bindgen |
//! | `muxer.h` | `ZF_EPOLLIN_OVERLAPPED` | macro | bound by bindgen |
//! | `zf_udp.h` | `ZFUT_FLAG_DONT_FRAGMENT` | macro (= `IP_DF`) | bound by bindgen |
//! | `types.h` | `ZF_PKT_REPORT_*` (7) | macros | bound by bindgen |
//! | `zf_ds.h` | `ZF_DELEGATED_SEND_RC_FATAL` | macro | bound by bindgen |

use core::ffi::c_int;

use crate::zf_ds;

/// The event a stack's waitable ([`crate::zf_stack_to_waitable`]) reports once the stack is
/// quiescent: C macro `EPOLLSTACKHUP` (`zf_stack.h`), defined as `EPOLLRDHUP`.
///
/// Typed `u32` because it goes into `epoll_event::events`, like
/// [`crate::ZF_EPOLLIN_OVERLAPPED`].
pub const EPOLLSTACKHUP: u32 = libc::EPOLLRDHUP as u32;

/// Byte offset of the TCP flags byte from the start of the TCP sequence number (TCP header
/// offsets 13 and 4).
const TCP_SEQ_TO_FLAGS: isize = 9;
/// The PSH bit of the TCP flags byte.
const TCP_FLAG_PSH: u8 = 0x08;

/// Rewrites the headers that `zf_delegated_send_prepare()` wrote into `(*ds).headers` for a
/// packet carrying `bytes` bytes of payload: the IPv4 total length becomes
/// `bytes + (*ds).ip_tcp_hdr_len` (truncated to 16 bits, stored big-endian at
/// `(*ds).ip_len_offset`), and the TCP PSH flag is set when `push` is non-zero and cleared when
/// it is zero. Nothing else changes.
///
/// Mirrors the `static inline` function `zf_delegated_send_tcp_update()` of `zf/zf_ds.h`.
///
/// # Safety
///
/// * `ds` must point to a valid, initialised `zf_ds` (as filled in by
///   `zf_delegated_send_prepare()`), not being accessed concurrently.
/// * `(*ds).headers` must be valid for reads and writes of the 2 bytes at
///   `ip_len_offset` and of the byte at `tcp_seq_offset + 9`, and must not overlap `*ds`.
///   The buffer need not be aligned.
/// * `bytes + (*ds).ip_tcp_hdr_len` must not overflow `c_int` (signed overflow is undefined in
///   the C original; here it wraps).
#[inline]
pub unsafe fn zf_delegated_send_tcp_update(ds: *mut zf_ds, bytes: c_int, push: c_int) {
    // SAFETY: the caller guarantees `ds` points to a valid zf_ds; it is Copy, so read it out.
    let d = unsafe { ds.read() };
    let hdrs = d.headers.cast::<u8>();
    let ip_len = (bytes.wrapping_add(d.ip_tcp_hdr_len) as u16).to_be_bytes();
    // SAFETY: the caller guarantees the 2 bytes at ip_len_offset lie in the headers buffer;
    // write_unaligned has no alignment requirement.
    unsafe {
        hdrs.offset(d.ip_len_offset as isize)
            .cast::<[u8; 2]>()
            .write_unaligned(ip_len)
    };
    // SAFETY: the caller guarantees the byte at tcp_seq_offset + 9 lies in the headers buffer.
    let flags = unsafe { hdrs.offset(d.tcp_seq_offset as isize + TCP_SEQ_TO_FLAGS) };
    // SAFETY: `flags` is valid for reads and writes (above); u8 has no alignment requirement.
    unsafe {
        if push != 0 {
            *flags |= TCP_FLAG_PSH;
        } else {
            *flags &= !TCP_FLAG_PSH;
        }
    }
}

/// Accounts for one packet of `bytes` payload bytes sent from the headers in `ds`: subtracts
/// `bytes` from `send_wnd`, `cong_wnd` and `delegated_wnd` (which may go negative), and adds
/// `bytes` modulo 2^32 to the big-endian TCP sequence number at `(*ds).tcp_seq_offset` in the
/// headers (so it wraps past `u32::MAX`, and a negative `bytes` moves it back).
///
/// Mirrors the `static inline` function `zf_delegated_send_tcp_advance()` of `zf/zf_ds.h`.
///
/// # Safety
///
/// * `ds` must point to a valid, initialised `zf_ds`, valid for writes and not being accessed
///   concurrently.
/// * `(*ds).headers` must be valid for reads and writes of the 4 bytes at `tcp_seq_offset`,
///   and must not overlap `*ds`. The buffer need not be aligned.
/// * The window subtractions must not overflow `c_int` (undefined in the C original; here
///   they wrap).
#[inline]
pub unsafe fn zf_delegated_send_tcp_advance(ds: *mut zf_ds, bytes: c_int) {
    // SAFETY: the caller guarantees `ds` is valid for reads and writes and not aliased by a
    // live reference; these are place expressions through the raw pointer, creating no
    // reference.
    let seq_field = unsafe {
        (*ds).send_wnd = (*ds).send_wnd.wrapping_sub(bytes);
        (*ds).cong_wnd = (*ds).cong_wnd.wrapping_sub(bytes);
        (*ds).delegated_wnd = (*ds).delegated_wnd.wrapping_sub(bytes);
        (*ds)
            .headers
            .cast::<u8>()
            .offset((*ds).tcp_seq_offset as isize)
            .cast::<[u8; 4]>()
    };
    // SAFETY: the caller guarantees the 4 bytes at tcp_seq_offset lie in the headers buffer;
    // the unaligned accessors have no alignment requirement.
    unsafe {
        let seq = u32::from_be_bytes(seq_field.read_unaligned()).wrapping_add(bytes as u32);
        seq_field.write_unaligned(seq.to_be_bytes());
    }
}
