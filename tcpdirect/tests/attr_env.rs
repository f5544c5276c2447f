//! `ZF_ATTR` handling, in child processes of this test (the environment is per process):
//! a bad `ZF_ATTR` is an error naming it (and what the library allocated is freed); a good
//! one is applied.

use std::process::Command;

/// Re-runs this test binary for one test with `ZF_ATTR` set.
fn child(test: &str, zf_attr: &str) {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--include-ignored"])
        .env("ZF_ATTR", zf_attr)
        .env("TCPDIRECT_ATTR_CHILD", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{test} with ZF_ATTR={zf_attr:?}:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child ran the test"
    );
}

fn in_child() -> bool {
    std::env::var_os("TCPDIRECT_ATTR_CHILD").is_some()
}

#[test]
fn bad_zf_attr_is_an_error_naming_it() {
    if !in_child() {
        return child("bad_zf_attr_is_an_error_naming_it", "no_such_attribute=1");
    }
    for _ in 0..1000 {
        // Repeated, so that a leak of the refused attribute object would show under valgrind.
        let e = tcpdirect::Attr::from_env().unwrap_err();
        assert!(matches!(e, tcpdirect::Error::BadZfAttr { .. }), "{e:?}");
        assert!(e.to_string().contains("no_such_attribute=1"), "{e}");
    }
}

#[test]
fn good_zf_attr_is_applied() {
    if !in_child() {
        return child(
            "good_zf_attr_is_applied",
            "max_tcp_endpoints=7;interface=lo",
        );
    }
    let a = tcpdirect::Attr::from_env().unwrap();
    assert_eq!(a.get_int("max_tcp_endpoints").unwrap(), 7);
    assert_eq!(a.get_str("interface").unwrap().as_deref(), Some("lo"));
}
