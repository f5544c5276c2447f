//! Loops that wait for something, bounded by a deadline.

use std::time::{Duration, Instant};

/// How long a test loop may run, by default, before the test fails.
pub const LIMIT: Duration = Duration::from_secs(20);

/// Calls `step` until it returns true; panics, naming `what`, once `limit` has passed.
/// `step` both checks and drives (runs a reactor, polls an event queue, ...).
pub fn poll_until(what: &str, limit: Duration, mut step: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !step() {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
    }
}
