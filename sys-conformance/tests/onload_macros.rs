//! Conformance of the Rust equivalents in `onload-sys` with the `static inline` functions and
//! macros of `onload/extensions*.h` (C side: `c/onload_macros.c`, compiled against
//! `vendor-headers/` or `$ONLOAD_EXT_INCLUDE_DIR`).
//!
//! The delegated-send cases are those of `delegated_send/mod.rs` (shared with `zf_inline.rs`,
//! since `zf/zf.h` defines the same two functions for `struct zf_ds`), run on
//! `onload_delegated_send`. The macro test compares every macro of the three headers that has
//! a value (the Rust equivalents, and the constants bindgen generated) with C.

mod delegated_send;

use core::ffi::{c_int, c_void};

use delegated_send::{Common, DelegatedSend};
use onload_sys::onload_delegated_send;
use sys_conformance::Rng; // the library also links the C side (c/onload_macros.c)

unsafe extern "C" {
    fn conf_onload_delegated_send_tcp_update(
        ds: *mut onload_delegated_send,
        bytes: c_int,
        push: c_int,
    );
    fn conf_onload_delegated_send_tcp_advance(ds: *mut onload_delegated_send, bytes: c_int);
    fn conf_onload_zc_handle_nonzc() -> usize;
    fn conf_onload_dont_accelerate() -> usize;
    fn conf_onload_macro(which: c_int) -> u64;
}

impl DelegatedSend for onload_delegated_send {
    const NAME: &'static str = "onload_delegated_send";

    fn new(c: Common) -> Self {
        onload_delegated_send {
            headers: core::ptr::null_mut(),
            headers_len: c.headers_len,
            mss: c.mss,
            send_wnd: c.send_wnd,
            cong_wnd: c.cong_wnd,
            user_size: c.user_wnd,
            tcp_seq_offset: c.tcp_seq_offset,
            ip_len_offset: c.ip_len_offset,
            ip_tcp_hdr_len: c.ip_tcp_hdr_len,
            reserved: [0x1bad_cafe, -1, 0, 7, c_int::MIN],
        }
    }

    fn random(rng: &mut Rng) -> Self {
        let mut ds = Self::new(Common::random(rng));
        ds.reserved = [
            rng.next_u64() as c_int,
            rng.next_u64() as c_int,
            0,
            -1,
            rng.next_u64() as c_int,
        ];
        ds
    }

    fn common(&self) -> Common {
        Common {
            headers_len: self.headers_len,
            mss: self.mss,
            send_wnd: self.send_wnd,
            cong_wnd: self.cong_wnd,
            user_wnd: self.user_size,
            tcp_seq_offset: self.tcp_seq_offset,
            ip_len_offset: self.ip_len_offset,
            ip_tcp_hdr_len: self.ip_tcp_hdr_len,
        }
    }

    fn set_common(&mut self, c: Common) {
        self.headers_len = c.headers_len;
        self.mss = c.mss;
        self.send_wnd = c.send_wnd;
        self.cong_wnd = c.cong_wnd;
        self.user_size = c.user_wnd;
        self.tcp_seq_offset = c.tcp_seq_offset;
        self.ip_len_offset = c.ip_len_offset;
        self.ip_tcp_hdr_len = c.ip_tcp_hdr_len;
    }

    fn headers(&mut self) -> &mut *mut c_void {
        &mut self.headers
    }

    fn fields(&self) -> Vec<c_int> {
        let mut v = vec![
            self.headers_len,
            self.mss,
            self.send_wnd,
            self.cong_wnd,
            self.user_size,
            self.tcp_seq_offset,
            self.ip_len_offset,
            self.ip_tcp_hdr_len,
        ];
        v.extend(self.reserved);
        v
    }

    fn reserved(&self) -> Vec<c_int> {
        self.reserved.to_vec()
    }

    unsafe fn c_update(ds: *mut Self, bytes: c_int, push: c_int) {
        // SAFETY: the caller's promise is the function's contract.
        unsafe { conf_onload_delegated_send_tcp_update(ds, bytes, push) }
    }

    unsafe fn rust_update(ds: *mut Self, bytes: c_int, push: c_int) {
        // SAFETY: as above.
        unsafe { onload_sys::onload_delegated_send_tcp_update(ds, bytes, push) }
    }

    unsafe fn c_advance(ds: *mut Self, bytes: c_int) {
        // SAFETY: as above.
        unsafe { conf_onload_delegated_send_tcp_advance(ds, bytes) }
    }

    unsafe fn rust_advance(ds: *mut Self, bytes: c_int) {
        // SAFETY: as above.
        unsafe { onload_sys::onload_delegated_send_tcp_advance(ds, bytes) }
    }
}

delegated_send::delegated_send_cases!(onload_delegated_send);

#[test]
fn pointer_macros_match_c() {
    // SAFETY: the conf_ functions take no arguments and only return a value.
    let (nonzc, dont) = unsafe { (conf_onload_zc_handle_nonzc(), conf_onload_dont_accelerate()) };
    assert_eq!(onload_sys::ONLOAD_ZC_HANDLE_NONZC.addr(), nonzc);
    assert_eq!(nonzc, usize::MAX);
    assert_eq!(onload_sys::ONLOAD_DONT_ACCELERATE.addr(), dont);
    assert!(onload_sys::ONLOAD_DONT_ACCELERATE.is_null());
}

#[test]
fn macros_match_c() {
    use onload_sys as o;
    let macros: [(&str, u64); 23] = [
        // Rust equivalents (onload-sys/src/inline.rs)
        ("ONLOAD_MSG_DONTWAIT", o::ONLOAD_MSG_DONTWAIT as u64),
        ("ONLOAD_MSG_MORE", o::ONLOAD_MSG_MORE as u64),
        ("ONLOAD_MSG_NOSIGNAL", o::ONLOAD_MSG_NOSIGNAL as u64),
        (
            "ONLOAD_ZC_RECV_FLAGS_MASK",
            o::ONLOAD_ZC_RECV_FLAGS_MASK as u64,
        ),
        (
            "ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK",
            o::ONLOAD_ZC_RECV_FLAGS_PTHRU_MASK as u64,
        ),
        (
            "ONLOAD_ZC_SEND_FLAGS_MASK",
            o::ONLOAD_ZC_SEND_FLAGS_MASK as u64,
        ),
        (
            "ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK",
            o::ONLOAD_ZC_SEND_FLAGS_PTHRU_MASK as u64,
        ),
        // generated by bindgen
        ("ONLOAD_MSG_WARM", o::ONLOAD_MSG_WARM.into()),
        ("ONLOAD_MSG_ONEPKT", o::ONLOAD_MSG_ONEPKT.into()),
        (
            "ONLOAD_SOF_TIMESTAMPING_STREAM",
            o::ONLOAD_SOF_TIMESTAMPING_STREAM.into(),
        ),
        (
            "ONLOAD_SCM_TIMESTAMPING_STREAM",
            o::ONLOAD_SCM_TIMESTAMPING_STREAM.into(),
        ),
        (
            "ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP",
            o::ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP.into(),
        ),
        (
            "ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP",
            o::ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP.into(),
        ),
        (
            "ONLOAD_MSG_RECV_OS_INLINE",
            o::ONLOAD_MSG_RECV_OS_INLINE.into(),
        ),
        ("ONLOAD_ZC_MSG_SHARED", o::ONLOAD_ZC_MSG_SHARED.into()),
        ("ONLOAD_ZC_END_OF_BURST", o::ONLOAD_ZC_END_OF_BURST.into()),
        ("SO_OOEXT_BASE", o::SO_OOEXT_BASE.into()),
        ("SO_TIMESTAMPING_OOEXT", o::SO_TIMESTAMPING_OOEXT.into()),
        ("SCM_TIMESTAMPING_OOEXT", o::SCM_TIMESTAMPING_OOEXT.into()),
        (
            "SOF_TIMESTAMPING_OOEXT_LAST",
            o::SOF_TIMESTAMPING_OOEXT_LAST.into(),
        ),
        (
            "SOF_TIMESTAMPING_OOEXT_TRAILER",
            o::SOF_TIMESTAMPING_OOEXT_TRAILER.into(),
        ),
        (
            "SOF_TIMESTAMPING_OOEXT_FIRST",
            o::SOF_TIMESTAMPING_OOEXT_FIRST.into(),
        ),
        (
            "SOF_TIMESTAMPING_OOEXT_MASK",
            o::SOF_TIMESTAMPING_OOEXT_MASK.into(),
        ),
    ];
    for (i, (name, rust)) in macros.iter().enumerate() {
        // SAFETY: conf_onload_macro takes any int and only returns a value.
        let c = unsafe { conf_onload_macro(i as c_int) };
        assert_eq!(*rust, c, "{name}");
    }
    // SAFETY: as above.
    let past_end = unsafe { conf_onload_macro(macros.len() as c_int) };
    assert_eq!(past_end, !0, "C table is longer than the Rust one");
    // The libc flags, spelled out.
    assert_eq!(o::ONLOAD_MSG_DONTWAIT, 0x40);
    assert_eq!(o::ONLOAD_ZC_RECV_FLAGS_MASK, 0x4000_0040);
    assert_eq!(o::ONLOAD_ZC_SEND_FLAGS_MASK, 0x8000 | 0x4000 | 0x400 | 0x40);
}
