//! Attributes: names, types, defaults, errors, documentation and the printf-style setter.

mod common;

use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use zf_sys::*;

fn new_attr() -> *mut zf_attr {
    let mut a = std::ptr::null_mut();
    // SAFETY: valid out pointer.
    assert_eq!(unsafe { zf_attr_alloc(&mut a) }, 0);
    a
}

fn get_int(a: *mut zf_attr, n: &CStr) -> Result<i64, c_int> {
    let mut v = 0i64;
    // SAFETY: valid attribute object, name and out pointer.
    let rc = unsafe { zf_attr_get_int(a, n.as_ptr(), &mut v) };
    if rc == 0 { Ok(v) } else { Err(rc) }
}

#[test]
fn defaults_types_and_errors() {
    isolated!("defaults_types_and_errors");
    let a = new_attr();
    // SAFETY: valid attribute object; reset to built-in defaults (ZF_ATTR may be set).
    unsafe { zf_attr_reset(a) };
    assert_eq!(get_int(a, c"max_tcp_endpoints"), Ok(64));
    assert_eq!(get_int(a, c"max_tcp_listen_endpoints"), Ok(16));
    assert_eq!(get_int(a, c"reactor_spin_count"), Ok(128));
    assert_eq!(get_int(a, c"alt_buf_size"), Ok(40960));
    assert_eq!(get_int(a, c"rx_ring_max"), Ok(-1));
    assert_eq!(get_int(a, c"udp_ttl"), Ok(64));
    assert_eq!(
        get_int(a, c"log_level"),
        Ok(0x1111_1111_1111_1111),
        "bitmask"
    );
    assert_eq!(
        get_int(a, c"MAX_TCP_ENDPOINTS"),
        Ok(64),
        "names are case-insensitive"
    );
    assert_eq!(get_int(a, c"no_such_attr"), Err(-libc::ENOENT));
    assert_eq!(
        get_int(a, c"interface"),
        Err(-libc::EINVAL),
        "string attribute"
    );
    // SAFETY: valid attribute object and C strings throughout.
    unsafe {
        assert_eq!(
            zf_attr_set_int(a, c"no_such_attr".as_ptr(), 1),
            -libc::ENOENT
        );
        assert_eq!(
            zf_attr_set_int(a, c"udp_ttl".as_ptr(), 1 << 40),
            -libc::EOVERFLOW
        );
        assert_eq!(
            zf_attr_set_str(a, c"udp_ttl".as_ptr(), c"3".as_ptr()),
            -libc::ENOMSG
        );
        assert_eq!(
            zf_attr_set_from_str(a, c"udp_ttl".as_ptr(), c"abc".as_ptr()),
            -libc::EINVAL
        );
        assert_eq!(
            zf_attr_set_from_str(a, c"udp_ttl".as_ptr(), c"12x".as_ptr()),
            -libc::EINVAL
        );
        assert_eq!(
            zf_attr_set_from_str(a, c"udp_ttl".as_ptr(), c"0x20".as_ptr()),
            0
        );
        assert_eq!(get_int(a, c"udp_ttl"), Ok(32));
        assert_eq!(
            zf_attr_set_from_str(a, c"nope".as_ptr(), c"1".as_ptr()),
            -libc::ENOENT
        );
        assert_eq!(
            zf_attr_set_from_str(a, c"log_level".as_ptr(), c"0xff".as_ptr()),
            0
        );
        assert_eq!(get_int(a, c"log_level"), Ok(0xff));
        assert_eq!(
            zf_attr_set_int(a, c"log_level".as_ptr(), -1),
            0,
            "bitmasks take 64 bits"
        );

        // Strings: set, get a malloc'ed copy, unset with "".
        let mut s: *mut c_char = std::ptr::null_mut();
        assert_eq!(zf_attr_get_str(a, c"interface".as_ptr(), &mut s), 0);
        assert!(s.is_null(), "unset by default");
        assert_eq!(zf_attr_get_str(a, c"ctpio_mode".as_ptr(), &mut s), 0);
        assert_eq!(CStr::from_ptr(s), c"sf-np");
        libc::free(s.cast());
        assert_eq!(zf_attr_set_str(a, c"interface".as_ptr(), c"lo".as_ptr()), 0);
        assert_eq!(zf_attr_get_str(a, c"interface".as_ptr(), &mut s), 0);
        assert_eq!(CStr::from_ptr(s), c"lo");
        libc::free(s.cast());
        assert_eq!(
            zf_attr_get_str(a, c"udp_ttl".as_ptr(), &mut s),
            -libc::EINVAL
        );
        assert_eq!(zf_attr_set_from_str(a, c"name".as_ptr(), c"".as_ptr()), 0);

        // Variadic setter.
        assert_eq!(
            zf_attr_set_from_fmt(a, c"max_tcp_endpoints".as_ptr(), c"%d".as_ptr(), 7 as c_int),
            0
        );
        assert_eq!(get_int(a, c"max_tcp_endpoints"), Ok(7));
        assert_eq!(
            zf_attr_set_from_fmt(
                a,
                c"name".as_ptr(),
                c"%s-%d-%x".as_ptr(),
                c"st".as_ptr(),
                42 as c_int,
                255 as c_int
            ),
            0
        );
        assert_eq!(zf_attr_get_str(a, c"name".as_ptr(), &mut s), 0);
        assert_eq!(CStr::from_ptr(s), c"st-42-ff");
        libc::free(s.cast());
        // Many arguments (some passed on the stack) and a double.
        assert_eq!(
            zf_attr_set_from_fmt(
                a,
                c"name".as_ptr(),
                c"%d%d%d%d%d%d%d%d%.1f".as_ptr(),
                1 as c_int,
                2 as c_int,
                3 as c_int,
                4 as c_int,
                5 as c_int,
                6 as c_int,
                7 as c_int,
                8 as c_int,
                2.5f64
            ),
            0
        );
        assert_eq!(zf_attr_get_str(a, c"name".as_ptr(), &mut s), 0);
        assert_eq!(CStr::from_ptr(s), c"123456782.5");
        libc::free(s.cast());
        assert_eq!(
            zf_attr_set_from_fmt(a, c"udp_ttl".as_ptr(), c"%s".as_ptr(), c"x".as_ptr()),
            -libc::EINVAL
        );

        // Copies are independent.
        let b = zf_attr_dup(a);
        assert!(!b.is_null());
        assert_eq!(zf_attr_set_int(b, c"max_tcp_endpoints".as_ptr(), 9), 0);
        assert_eq!(get_int(a, c"max_tcp_endpoints"), Ok(7));
        assert_eq!(get_int(b, c"max_tcp_endpoints"), Ok(9));
        zf_attr_free(b);
        zf_attr_reset(a);
        assert_eq!(get_int(a, c"max_tcp_endpoints"), Ok(64));
        // Null objects are errors, not crashes.
        assert_eq!(
            zf_attr_set_int(std::ptr::null_mut(), c"udp_ttl".as_ptr(), 1),
            -libc::EINVAL
        );
        assert!(zf_attr_dup(std::ptr::null()).is_null());
        zf_attr_free(std::ptr::null_mut());
        zf_attr_free(a);
    }
}

#[test]
fn documentation() {
    isolated!("documentation");
    let mut docs: *mut *const c_char = std::ptr::null_mut();
    let mut n: c_int = 0;
    // SAFETY: valid out pointers; the array is malloc'ed and the strings static.
    unsafe {
        assert_eq!(zf_attr_doc(std::ptr::null(), &mut docs, &mut n), 0);
        let names: Vec<&CStr> = (0..n as usize)
            .map(|i| CStr::from_ptr(*docs.add(i)))
            .collect();
        assert_eq!(names.len(), 53, "41 public + 12 hidden attributes");
        for want in [
            c"interface",
            c"log_level",
            c"alt_count",
            c"tcp_wait_for_time_wait",
            c"n_bufs",
            c"emu",
        ] {
            assert!(names.contains(&want), "{want:?}");
        }
        libc::free(docs.cast());
        assert_eq!(zf_attr_doc(c"udp_ttl".as_ptr(), &mut docs, &mut n), 0);
        assert_eq!(n, 6);
        let f: Vec<&CStr> = (0..6).map(|i| CStr::from_ptr(*docs.add(i))).collect();
        assert_eq!(
            &f[..5],
            &[c"udp_ttl", c"int", c"stable", c"64", c"zf_socket"]
        );
        assert!(!f[5].to_bytes().is_empty());
        libc::free(docs.cast());
        assert_eq!(zf_attr_doc(c"log_level".as_ptr(), &mut docs, &mut n), 0);
        assert_eq!(CStr::from_ptr(*docs.add(1)), c"bitmask");
        libc::free(docs.cast());
        assert_eq!(
            zf_attr_doc(c"bogus".as_ptr(), &mut docs, &mut n),
            -libc::ENOENT
        );
    }
}

#[test]
fn versions_and_init() {
    isolated!("versions_and_init");
    skip_unless_soft!();
    // SAFETY: static strings; init/deinit have no preconditions here.
    unsafe {
        assert_eq!(zf_init(), 0);
        assert!(!CStr::from_ptr(zf_version()).to_bytes().is_empty());
        assert!(!CStr::from_ptr(zf_version_short()).to_bytes().is_empty());
        let (st, a) = common::stack_with(&[]);
        assert_eq!(zf_stack_query_feature(st, zf_stack_feature_PIO), 0);
        assert_eq!(zf_stack_query_feature(st, zf_stack_feature_CTPIO), 0);
        assert_eq!(zf_stack_query_feature(st, 7), -libc::ENOENT);
        assert_eq!(zf_stack_is_quiescent(st), 1);
        common::free_stack(st, a);
    }
}
