// Tests on a namespace's `lo`: running a test body inside a namespace of its own, a
// protection domain and pool on `lo`, and polling until the events a test waits for came.

use std::time::{Duration, Instant};

use etherfabric::*;

use super::{run_in, runnable_lo_netns};

/// Runs `f` on a thread inside a namespace of its own whose `lo` accepts the VI's frames;
/// `None` (after saying why) where that cannot be done here.
pub fn in_lo_ns<T: Send + 'static>(
    test: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let ns = runnable_lo_netns(test)?;
    Some(run_in(&ns, f).join().expect("test thread"))
}

/// A protection domain on `lo` (in the calling thread's namespace) and a pool of `bufs`
/// buffers registered with it.
pub fn lo_pd(bufs: u32) -> (ProtectionDomain, BufferPool) {
    let driver = Driver::open().expect("driver");
    let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).expect("PD on lo");
    let pool = BufferPool::alloc(&pd, bufs, DEFAULT_BUF_SIZE).expect("pool");
    (pd, pool)
}

/// Calls `poll` until `want` events satisfying `pred` came or 5 s passed; returns them (the
/// other events are dropped).
pub fn collect(
    want: usize,
    mut poll: impl FnMut(&mut [Event]) -> Vec<Event>,
    mut pred: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut evs: [Event; 16] = Default::default();
    let mut got = Vec::new();
    while got.len() < want && Instant::now() < deadline {
        got.extend(poll(&mut evs).into_iter().filter(|e| pred(e)));
        std::thread::sleep(Duration::from_millis(1));
    }
    got
}

/// [`collect`] over the events of `vi`.
pub fn poll_for(vi: &mut Vi, want: usize, pred: impl FnMut(&Event) -> bool) -> Vec<Event> {
    collect(
        want,
        |evs| vi.poll(evs).iter_mut().map(Event::take).collect(),
        pred,
    )
}
