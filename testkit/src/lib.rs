//! Test support shared by the workspace's integration tests and benchmarks (not published).
//!
//! * Network isolation. Each network test runs in a network namespace of its own,
//!   with a private `lo`, so nothing else on the machine can disturb it:
//!   [`isolate_thread_network`] gives the calling test thread one; [`Netns`] makes one held
//!   by the test process, which [`run_in`] runs threads in and [`Netns::command`] runs
//!   programs in; [`veth`], [`NetnsPair`] and [`NetnsChain`] join namespaces by veth pairs.
//!   [`enter_user_namespace_at_start!`] lets the same tests run unprivileged, where the kernel
//!   allows unprivileged user namespaces: the same code then runs as uid 0 of a user namespace
//!   of the test process's own. [`in_netns`] and [`isolated!`] are the usual ways in for a
//!   test.
//! * [`skip`]: a test that cannot run says so on the terminal, not in the captured output;
//!   [`skip_unless!`] returns from a test that needs what the build or machine lacks.
//! * Helpers shared by the crates' tests: the path of an example program ([`example_path`]),
//!   socket addresses for C APIs ([`sin`], [`from_sin`]), [`free_udp_port`],
//!   [`linger_zero`], a kernel TCP peer exchanging a data pattern ([`pattern_peer`]), frames and data patterns
//!   ([`udp_frame`], [`checksum_ok`], [`pat`]), loops with a deadline ([`poll_until`],
//!   [`LIMIT`]) and the `ZF_ATTR` convention of the TCPDirect tests
//!   ([`zf_attr_names_interface`]); one test run again in a child process
//!   ([`rerun_test`]); page-aligned buffer memory ([`AnonMap`]). Helpers that call a `-sys` crate live in that crate's
//!   `tests/common` (this crate depends on none of them).

mod child;
mod frames;
mod isolated;
mod mem;
mod netns;
mod poll;
mod sockets;

/// C source of a stand-in for Onload's `libonload.so` (a few extension calls with answers the
/// stub never gives, and `onload_lib_ext_version`), preloaded by onload-sys's tests.
pub const FAKE_ONLOAD_C: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/c/fake_onload.c");
/// C source of the rest of the stand-in Onload onload-ext's tests preload, built together with
/// [`FAKE_ONLOAD_C`] into one library.
pub const STAND_IN_ONLOAD_EXT_C: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/c/stand_in_onload_ext.c");

pub use child::rerun_test;
pub use frames::{checksum_ok, pat, udp_frame};
pub use isolated::{
    __enter_user_namespace, drop_privileges, in_netns, in_user_namespace, isolate_thread_network,
    user_namespace_status,
};
pub use mem::AnonMap;
pub use netns::{Netns, NetnsChain, NetnsPair, ip_available, run_in, veth};
pub use poll::{LIMIT, poll_until};
pub use sockets::{PeerFin, free_udp_port, from_sin, linger_zero, pattern_peer, sin};

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

/// Returns from the calling test, reporting it as skipped on the terminal with `$reason`
/// (see [`skip`]), unless `$cond` holds.
#[macro_export]
macro_rules! skip_unless {
    ($cond:expr, $reason:expr) => {
        if !$cond {
            $crate::skip(module_path!(), $reason);
            return;
        }
    };
}

/// Moves the calling test thread into a network namespace of its own (a private `lo`, see
/// [`isolate_thread_network`]), or returns from the test, reporting why on the terminal,
/// when that is not possible here. Call it first: sockets made before it live in the
/// process's namespace.
#[macro_export]
macro_rules! isolated {
    ($test:expr) => {
        if let Err(why) = $crate::isolate_thread_network() {
            $crate::skip($test, &why);
            return;
        }
    };
}

/// Whether `ZF_ATTR` (the TCPDirect attribute string from the environment) names an
/// interface; the TCPDirect tests use `lo` when it does not.
pub fn zf_attr_names_interface() -> bool {
    std::env::var("ZF_ATTR").is_ok_and(|v| v.contains("interface"))
}

/// The path of example program `name` of the package under test: `cargo test` builds the
/// examples next to the test binaries (`target/<profile>/examples/`). Panics, saying how to
/// build it, when it is not there.
pub fn example_path(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let p = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target directory")
        .join("examples")
        .join(name);
    assert!(
        p.exists(),
        "example {name} not found at {} (`cargo test -p <package>` builds the examples, \
         or `cargo build -p <package> --examples`)",
        p.display()
    );
    p
}
