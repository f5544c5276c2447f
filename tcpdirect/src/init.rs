//! Process-wide library initialisation: `zf_init` once, `zf_deinit` at exit.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Result, check};

/// The result of the one `zf_init` call of this process (the negative errno on failure).
static INIT: OnceLock<i32> = OnceLock::new();
/// Stacks alive now: `zf_deinit` at exit only when none is (a leaked stack may still be in use).
pub(crate) static LIVE_STACKS: AtomicUsize = AtomicUsize::new(0);

extern "C" fn deinit_at_exit() {
    if LIVE_STACKS.load(Ordering::SeqCst) == 0 {
        // SAFETY: zf_init succeeded (this handler is registered only then) and no stack is
        // alive, so nothing uses the library any more.
        unsafe { zf_sys::zf_deinit() };
    }
}

/// Initialises TCPDirect for this process (`zf_init`), once; later calls return the first
/// call's result. It first checks that the linked library is of the release the bindings
/// describe and refuses another with [`Error::VersionMismatch`](crate::Error::VersionMismatch)
/// (`ZF_SKIP_VERSION_CHECK=1` opts out), before any call that could read a mismatched
/// structure. [`Stack::new`](crate::Stack::new) and [`Attr::from_env`](crate::Attr::from_env)
/// call it, so applications need not. `zf_deinit` runs when the process exits normally.
///
/// ```
/// tcpdirect::init()?;
/// tcpdirect::init()?; // no-op
/// # Ok::<(), tcpdirect::Error>(())
/// ```
pub fn init() -> Result<()> {
    static VERSION: OnceLock<std::result::Result<(), zf_sys::VersionMismatch>> = OnceLock::new();
    if let Err(e) = VERSION.get_or_init(zf_sys::check_linked_version) {
        return Err(crate::Error::VersionMismatch(e.clone()));
    }
    let rc = *INIT.get_or_init(|| {
        // SAFETY: zf_init takes no arguments; OnceLock runs this once per process.
        let rc = unsafe { zf_sys::zf_init() };
        if rc >= 0 {
            // SAFETY: registering a plain extern "C" fn with no captured state.
            unsafe { libc::atexit(deinit_at_exit) };
        }
        rc
    });
    check("zf_init", rc).map(drop)
}
