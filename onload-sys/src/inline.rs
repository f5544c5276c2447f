//! Rust equivalents of what the Onload Extensions API headers (`onload/extensions*.h`) define
//! in C but bindgen cannot bind: `static inline` functions, and macros whose value is not a
//! plain number (a pointer cast, `NULL`, or a libc `MSG_*` flag, which glibc defines as enum
//! constants that bindgen's macro evaluator cannot see).
//!
//! Every item has the C name and the C semantics, and `sys-conformance`
//! (`tests/onload_macros.rs`) checks it against the C definition.
//!
//! # Every macro and inline function of the three headers, and where it is in Rust
//!
//! The headers define no function-like macros; the two `static inline` functions are the
//! only code. "bindgen" means the value is a plain integer that the generated bindings carry.
//!
//! | Header | C name | Kind | In Rust |
//! |---|---|---|---|
//! | `extensions.h` | `onload_delegated_send_tcp_update` | static inline | [`onload_delegated_send_tcp_update`] |
//! | `extensions.h` | `onload_delegated_send_tcp_advance` | static inline | [`onload_delegated_send_tcp_advance`] |
//! | `extensions.h` | `ONLOAD_DONT_ACCELERATE` | macro (`NULL`) | [`ONLOAD_DONT_ACCELERATE`] |
//! | `extensions.h` | `ONLOAD_MSG_WARM`, `ONLOAD_MSG_ONEPKT` | macros | bindgen |
//! | `extensions.h` | `ONLOAD_SOF_TIMESTAMPING_STREAM`, `ONLOAD_SCM_TIMESTAMPING_STREAM` | macros | bindgen |
//! | `extensions.h` | `ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP`, `ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP` | macros | bindgen |
//! | `extensions.h` | `ONLOAD_INCLUDE_DS_DATA_ONLY` | defined by the *user* before including, to get only the delegated-send data types | left out: a C include switch, nothing to bind |
//! | `extensions.h` | the upstream header's `TCP_OFFSET_SEQ_TO_FLAGS`, `TCP_FLAG_PSH` | helper macros defined and `#undef`ined inside the inline functions | left out: private to the inline functions (private constants here; the project's header uses literals) |
//! | `extensions_zc.h` | `ONLOAD_ZC_HANDLE_NONZC` | macro (`(onload_zc_handle)(uintptr_t)-1`) | [`ONLOAD_ZC_HANDLE_NONZC`] |
//! | `extensions_zc.h` | `ONLOAD_MSG_DONTWAIT`, `ONLOAD_MSG_MORE`, `ONLOAD_MSG_NOSIGNAL` | macros (= `MSG_DONTWAIT`, `MSG_MORE`, `MSG_NOSIGNAL`) | [`ONLOAD_MSG_DONTWAIT`], [`ONLOAD_MSG_MORE`], [`ONLOAD_MSG_NOSIGNAL`] |
//! | `extensions_zc.h` | `ONLOAD_ZC_RECV_FLAGS_MASK`, `ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK` | macros (use `MSG_DONTWAIT`) | [`ONLOAD_ZC_RECV_FLAGS_MASK`], [`ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK`] |
//! | `extensions_zc.h` | `ONLOAD_ZC_SEND_FLAGS_MASK`, `ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK` | macros (use `MSG_*`) | [`ONLOAD_ZC_SEND_FLAGS_MASK`], [`ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK`] |
//! | `extensions_zc.h` | `ONLOAD_MSG_RECV_OS_INLINE`, `ONLOAD_ZC_MSG_SHARED`, `ONLOAD_ZC_END_OF_BURST` | macros | bindgen |
//! | `extensions_timestamping.h` | `SO_OOEXT_BASE`, `SO_TIMESTAMPING_OOEXT`, `SCM_TIMESTAMPING_OOEXT` | macros | bindgen |
//! | `extensions_timestamping.h` | `SOF_TIMESTAMPING_OOEXT_LAST`, `_TRAILER`, `_FIRST`, `_MASK` | macros | bindgen |
//!
//! Header guards (`__ONLOAD_EXTENSIONS_H__`, `__ONLOAD_ZC_H__`,
//! `__ONLOAD_EXTENSIONS_TIMESTAMPING_H__`) are not listed.

use core::ffi::{c_char, c_int};

use crate::{ONLOAD_MSG_RECV_OS_INLINE, ONLOAD_MSG_WARM, onload_delegated_send, onload_zc_handle};

/// The stack name that means "do not accelerate" for [`crate::onload_set_stackname`]: C macro
/// `ONLOAD_DONT_ACCELERATE` (`extensions.h`), defined as `NULL`.
pub const ONLOAD_DONT_ACCELERATE: *const c_char = core::ptr::null();

/// The buffer handle meaning "not an Onload buffer" (`onload_zc_iovec::buf`): C macro
/// `ONLOAD_ZC_HANDLE_NONZC` (`extensions_zc.h`), the all-ones address.
pub const ONLOAD_ZC_HANDLE_NONZC: onload_zc_handle = core::ptr::without_provenance_mut(usize::MAX);

/// `onload_zc_recv_args::flags` / `onload_zc_send()` flag: do not block. C macro
/// `ONLOAD_MSG_DONTWAIT` (`extensions_zc.h`), defined as `MSG_DONTWAIT`.
pub const ONLOAD_MSG_DONTWAIT: c_int = libc::MSG_DONTWAIT;

/// `onload_zc_send()` flag: more data follows. C macro `ONLOAD_MSG_MORE` (`extensions_zc.h`),
/// defined as `MSG_MORE`.
pub const ONLOAD_MSG_MORE: c_int = libc::MSG_MORE;

/// `onload_zc_send()` flag: no `SIGPIPE`. C macro `ONLOAD_MSG_NOSIGNAL` (`extensions_zc.h`),
/// defined as `MSG_NOSIGNAL`.
pub const ONLOAD_MSG_NOSIGNAL: c_int = libc::MSG_NOSIGNAL;

/// Every flag `onload_zc_recv_args::flags` may hold: C macro `ONLOAD_ZC_RECV_FLAGS_MASK`
/// (`extensions_zc.h`), `ONLOAD_MSG_DONTWAIT | ONLOAD_MSG_RECV_OS_INLINE`.
pub const ONLOAD_ZC_RECV_FLAGS_MASK: c_int =
    ONLOAD_MSG_DONTWAIT | ONLOAD_MSG_RECV_OS_INLINE as c_int;

/// The receive flags passed on to the kernel for datagrams that did not go through Onload:
/// C macro `ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK` (`extensions_zc.h`), `ONLOAD_MSG_DONTWAIT`.
pub const ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK: c_int = ONLOAD_MSG_DONTWAIT;

/// Every flag `onload_zc_send()` accepts: C macro `ONLOAD_ZC_SEND_FLAGS_MASK`
/// (`extensions_zc.h`), `ONLOAD_MSG_MORE | ONLOAD_MSG_NOSIGNAL | ONLOAD_MSG_WARM |
/// ONLOAD_MSG_DONTWAIT`.
pub const ONLOAD_ZC_SEND_FLAGS_MASK: c_int =
    ONLOAD_MSG_MORE | ONLOAD_MSG_NOSIGNAL | ONLOAD_MSG_WARM as c_int | ONLOAD_MSG_DONTWAIT;

/// The send flags passed on to the kernel for datagrams Onload does not send: C macro
/// `ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK` (`extensions_zc.h`),
/// `ONLOAD_MSG_MORE | ONLOAD_MSG_NOSIGNAL | ONLOAD_MSG_DONTWAIT`.
pub const ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK: c_int =
    ONLOAD_MSG_MORE | ONLOAD_MSG_NOSIGNAL | ONLOAD_MSG_DONTWAIT;

/// Byte offset of the TCP flags byte from the start of the TCP sequence number (TCP header
/// offsets 13 and 4).
const TCP_SEQ_TO_FLAGS: isize = 9;
/// The PSH bit of the TCP flags byte.
const TCP_FLAG_PSH: u8 = 0x08;

/// Rewrites the headers that `onload_delegated_send_prepare()` wrote into `(*ds).headers` for
/// a packet carrying `bytes` bytes of payload: the IPv4 total length becomes
/// `bytes + (*ds).ip_tcp_hdr_len` (truncated to 16 bits, stored big-endian at
/// `(*ds).ip_len_offset`), and the TCP PSH flag is set when `push` is non-zero and cleared when
/// it is zero. Nothing else changes.
///
/// Mirrors the `static inline` function `onload_delegated_send_tcp_update()` of
/// `onload/extensions.h`.
///
/// # Safety
///
/// * `ds` must point to a valid, initialised `onload_delegated_send` (as filled in by
///   `onload_delegated_send_prepare()`), not being accessed concurrently.
/// * `(*ds).headers` must be valid for reads and writes of the 2 bytes at `ip_len_offset` and
///   of the byte at `tcp_seq_offset + 9`, and must not overlap `*ds`. The buffer need not be
///   aligned.
/// * `bytes + (*ds).ip_tcp_hdr_len` must not overflow `c_int` (signed overflow is undefined in
///   the C original; here it wraps).
#[inline]
pub unsafe fn onload_delegated_send_tcp_update(
    ds: *mut onload_delegated_send,
    bytes: c_int,
    push: c_int,
) {
    // SAFETY: the caller guarantees `ds` points to a valid onload_delegated_send; it is Copy,
    // so read it out.
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
/// `bytes` from `send_wnd`, `cong_wnd` and `user_size` (which may go negative), and adds
/// `bytes` modulo 2^32 to the big-endian TCP sequence number at `(*ds).tcp_seq_offset` in the
/// headers (so it wraps past `u32::MAX`, and a negative `bytes` moves it back).
///
/// Mirrors the `static inline` function `onload_delegated_send_tcp_advance()` of
/// `onload/extensions.h`.
///
/// # Safety
///
/// * `ds` must point to a valid, initialised `onload_delegated_send`, valid for writes and not
///   being accessed concurrently.
/// * `(*ds).headers` must be valid for reads and writes of the 4 bytes at `tcp_seq_offset`,
///   and must not overlap `*ds`. The buffer need not be aligned.
/// * The window subtractions must not overflow `c_int` (undefined in the C original; here
///   they wrap).
#[inline]
pub unsafe fn onload_delegated_send_tcp_advance(ds: *mut onload_delegated_send, bytes: c_int) {
    // SAFETY: the caller guarantees `ds` is valid for reads and writes and not aliased by a
    // live reference; these are place expressions through the raw pointer, creating no
    // reference.
    let seq_field = unsafe {
        (*ds).send_wnd = (*ds).send_wnd.wrapping_sub(bytes);
        (*ds).cong_wnd = (*ds).cong_wnd.wrapping_sub(bytes);
        (*ds).user_size = (*ds).user_size.wrapping_sub(bytes);
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
