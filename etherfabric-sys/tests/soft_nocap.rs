// Without CAP_NET_RAW the software backend fails cleanly: -EPERM and one line on stderr naming
// the capability. As root the test re-runs itself in a child process that drops to an
// unprivileged user first.
#![cfg(soft_backend)]

use etherfabric_sys::*;

const CHILD_ENV: &str = "EF_SOFT_NOCAP_CHILD";
const NAME: &str = "driver_open_without_cap_net_raw_fails_with_eperm";

fn open_expect_eperm() {
    let mut dh: ef_driver_handle = -1;
    // SAFETY: `dh` is writable.
    let rc = unsafe { ef_driver_open(&mut dh) };
    assert_eq!(rc, -libc::EPERM);
    // A second failure does not print again.
    // SAFETY: as above.
    assert_eq!(unsafe { ef_driver_open(&mut dh) }, -libc::EPERM);
}

#[test]
fn driver_open_without_cap_net_raw_fails_with_eperm() {
    // SAFETY: no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if std::env::var_os(CHILD_ENV).is_some() {
        // SAFETY: dropping privileges of this (single-test) child process.
        unsafe {
            assert_eq!(libc::setgroups(0, std::ptr::null()), 0);
            assert_eq!(libc::setresgid(65534, 65534, 65534), 0);
            assert_eq!(libc::setresuid(65534, 65534, 65534), 0);
        }
        open_expect_eperm();
        return;
    }
    if !root {
        let mut dh: ef_driver_handle = -1;
        // SAFETY: `dh` is writable.
        let rc = unsafe { ef_driver_open(&mut dh) };
        if rc == 0 {
            println!("{NAME}: skipped: this unprivileged process has CAP_NET_RAW");
            // SAFETY: closing the handle just opened.
            unsafe { ef_driver_close(dh) };
            return;
        }
        assert_eq!(rc, -libc::EPERM);
        return;
    }
    let out = testkit::rerun_test(NAME, &[(CHILD_ENV, "1")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.matches("CAP_NET_RAW").count(),
        1,
        "one message naming the capability: {stderr}"
    );
}
