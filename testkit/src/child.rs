//! Running one test of the calling test binary again, in a child process with its own
//! environment (for what is per process: privileges dropped, variables set, a library
//! preloaded).

use std::process::{Command, Output};

/// Runs test `name` of the current test binary alone (`--exact`, one thread, output not
/// captured) in a child process with `envs` added to its environment, and waits for it.
/// Panics, with the child's output, when the child fails; returns that output otherwise.
pub fn rerun_test(name: &str, envs: &[(&str, &str)]) -> Output {
    let exe = std::env::current_exe().expect("test executable path");
    let out = Command::new(exe)
        .args(["--exact", name, "--test-threads=1", "--nocapture"])
        .envs(envs.iter().copied())
        .output()
        .expect("run the test binary again");
    assert!(
        out.status.success(),
        "{name} in a child process ({envs:?}) failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}
