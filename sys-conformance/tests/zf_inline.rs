//! Conformance of the Rust equivalents in `zf-sys` with the `static inline` functions and
//! macros of `zf/zf.h` (C side: `c/zf_inline.c`, compiled against `vendor-headers/` or
//! `$ZF_INCLUDE_DIR`).
//!
//! The delegated-send cases are those of `delegated_send/mod.rs` (shared with
//! `onload_macros.rs`, since `onload/extensions.h` defines the same two functions for
//! `struct onload_delegated_send`), run on `zf_ds`. The macro test compares the macros of
//! `zf/zf.h` that have a value with C.

mod delegated_send;

use core::ffi::c_int;

use delegated_send::{BUF, Common, DelegatedSend, RANDOM_LIMIT};
use sys_conformance::{Rng, compare_macros}; // the library also links the C side (c/zf_inline.c)
use zf_sys::zf_ds;

unsafe extern "C" {
    fn conf_zf_delegated_send_tcp_update(ds: *mut zf_ds, bytes: c_int, push: c_int);
    fn conf_zf_delegated_send_tcp_advance(ds: *mut zf_ds, bytes: c_int);
    fn conf_zf_macro(which: c_int) -> u64;
}

impl DelegatedSend for zf_ds {
    const NAME: &'static str = "zf_ds";

    fn new(c: Common) -> Self {
        let mut ds = zf_ds {
            headers_size: BUF as c_int,
            reserved: 0x1bad_cafe,
            ..Default::default()
        };
        ds.set_common(c);
        ds
    }

    fn random(rng: &mut Rng) -> Self {
        let headers_size = rng.int(RANDOM_LIMIT);
        let mut ds = Self::new(Common::random(rng));
        ds.headers_size = headers_size;
        ds.reserved = rng.next_u64() as c_int;
        ds
    }

    delegated_send::common_accessors!(delegated_wnd);

    fn others(&self) -> Vec<c_int> {
        vec![self.headers_size, self.reserved]
    }

    delegated_send::ffi_calls!(
        update: conf_zf_delegated_send_tcp_update, zf_sys::zf_delegated_send_tcp_update;
        advance: conf_zf_delegated_send_tcp_advance, zf_sys::zf_delegated_send_tcp_advance
    );
}

delegated_send::delegated_send_cases!(zf_ds);

#[test]
fn macros_match_c() {
    // (name, value) of each macro, in the order of conf_zf_macro().
    macro_rules! values {
        ($($name:ident),+ $(,)?) => {
            [$((stringify!($name), u64::from(zf_sys::$name))),+]
        };
    }
    let macros = values![
        EPOLLSTACKHUP,
        ZF_EPOLLIN_OVERLAPPED,
        ZFUT_FLAG_DONT_FRAGMENT,
        ZF_FLEXIBLE_ARRAY_COUNT,
        ZF_PKT_REPORT_CLOCK_SET,
        ZF_PKT_REPORT_IN_SYNC,
        ZF_PKT_REPORT_NO_TIMESTAMP,
        ZF_PKT_REPORT_DROPPED,
        ZF_PKT_REPORT_TCP_RETRANS,
        ZF_PKT_REPORT_TCP_SYN,
        ZF_PKT_REPORT_TCP_FIN,
        ZF_DELEGATED_SEND_RC_FATAL,
        ZF_CACHE_LINE_SIZE,
    ];
    // SAFETY: conf_zf_macro takes any int and only returns a value.
    compare_macros(&macros, |i| unsafe { conf_zf_macro(i) });
    assert_eq!(zf_sys::EPOLLSTACKHUP, libc::EPOLLRDHUP as u32);
}
