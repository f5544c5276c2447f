//! Test support shared by the workspace's integration tests and benchmarks (not published).
//!
//! * Network isolation. Each network test runs in a network namespace of its own,
//!   with a private `lo`, so nothing else on the machine can disturb it:
//!   [`isolate_thread_network`] gives the calling test thread one; [`Netns`] makes one held
//!   by the test process, which [`run_in`] runs threads in and [`Netns::command`] runs
//!   programs in; [`veth`] and [`NetnsPair`] join namespaces by veth pairs.
//!   [`enter_user_namespace_at_start!`] lets the same tests run unprivileged, where the kernel
//!   allows unprivileged user namespaces: the same code then runs as uid 0 of a user namespace
//!   of the test process's own.
//! * [`skip`]: a test that cannot run says so on the terminal, not in the captured output.

mod isolated;
mod netns;

/// C source of a stand-in for Onload's `libonload.so` (a few extension calls with answers the
/// stub never gives, and `onload_lib_ext_version`), preloaded by onload-sys's tests.
pub const FAKE_ONLOAD_C: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/fake_onload.c");
/// C source of the rest of the stand-in Onload onload-ext's tests preload, built together with
/// [`FAKE_ONLOAD_C`] into one library.
pub const STAND_IN_ONLOAD_EXT_C: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/c/stand_in_onload_ext.c");

pub use isolated::{
    __enter_user_namespace, drop_privileges, in_user_namespace, isolate_thread_network,
    user_namespace_status,
};
pub use netns::{Netns, NetnsPair, ip_available, run_in, veth};

use std::process::Command;

/// True when running as root (real root, or uid 0 of a user namespace of the tests' own).
pub fn is_root() -> bool {
    // SAFETY: no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs a command, panicking with its output on failure.
pub fn sh(args: &[&str]) {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .expect("run command");
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Reports that `test` did not run, and why, where the user sees it: straight to the terminal
/// (file descriptor 2), past the test harness's output capture, as
/// `SKIPPED <test>: <reason>`.
pub fn skip(test: &str, reason: &str) {
    use std::io::Write as _;
    use std::os::fd::FromRawFd as _;
    let line = format!("SKIPPED {test}: {reason}\n");
    // SAFETY: fd 2 is the process's stderr, open for its whole life; ManuallyDrop keeps this
    // File from closing it.
    let mut err = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(2) });
    let _ = err.write_all(line.as_bytes());
}
