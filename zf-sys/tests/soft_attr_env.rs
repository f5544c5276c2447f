//! The `ZF_ATTR` environment variable (its own test binary: it changes the environment).

use std::os::raw::c_int;

use zf_sys::*;

fn get(a: *mut zf_attr, n: &std::ffi::CStr) -> i64 {
    let mut v = 0i64;
    // SAFETY: valid object, name and out pointer.
    assert_eq!(unsafe { zf_attr_get_int(a, n.as_ptr(), &mut v) }, 0);
    v
}

#[test]
fn zf_attr_env_is_parsed_and_checked() {
    let alloc = |env: &str| -> (c_int, *mut zf_attr) {
        // SAFETY: this binary has a single test, so nothing else reads the environment.
        unsafe { std::env::set_var("ZF_ATTR", env) };
        let mut a = std::ptr::null_mut();
        // SAFETY: valid out pointer.
        let rc = unsafe { zf_attr_alloc(&mut a) };
        (rc, a)
    };
    let (rc, a) = alloc("interface=lo;log_level=0;;max_tcp_endpoints=0x10;udp_ttl=9");
    assert_eq!(rc, 0);
    assert_eq!(get(a, c"log_level"), 0);
    assert_eq!(get(a, c"max_tcp_endpoints"), 16);
    assert_eq!(get(a, c"udp_ttl"), 9);
    let mut s = std::ptr::null_mut();
    // SAFETY: valid object and out pointer; the copy is freed with free().
    unsafe {
        assert_eq!(zf_attr_get_str(a, c"interface".as_ptr(), &mut s), 0);
        assert_eq!(std::ffi::CStr::from_ptr(s), c"lo");
        libc::free(s.cast());
        zf_attr_free(a);
    }
    for bad in [
        "no_such_attr=1",
        "udp_ttl=abc",
        "interface",
        "udp_ttl=99999999999",
    ] {
        let (rc, a) = alloc(bad);
        assert_eq!(rc, -libc::EINVAL, "{bad}");
        assert!(a.is_null());
    }
    // SAFETY: single-test binary.
    unsafe { std::env::remove_var("ZF_ATTR") };
}
