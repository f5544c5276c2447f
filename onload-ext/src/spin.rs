//! Per-thread spinning: whether this thread's blocking calls busy-wait.

use crate::error::{Error, Result, neg_errno};
use onload_sys as ffi;
use std::marker::PhantomData;

/// The kinds of blocking call whose spinning can be switched per thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SpinType {
    /// Every kind at once.
    All,
    /// UDP receive.
    UdpRecv,
    /// UDP send.
    UdpSend,
    /// TCP receive.
    TcpRecv,
    /// TCP send.
    TcpSend,
    /// TCP accept.
    TcpAccept,
    /// Pipe read.
    PipeRecv,
    /// Pipe write.
    PipeSend,
    /// `select()`.
    Select,
    /// `poll()`.
    Poll,
    /// Waiting for a packet buffer.
    PktWait,
    /// `epoll_wait()`.
    EpollWait,
    /// Taking the stack lock.
    StackLock,
    /// Taking a socket lock.
    SockLock,
    /// `SO_BUSY_POLL` sockets.
    SoBusyPoll,
    /// TCP connect.
    TcpConnect,
    /// The kinds `EF_POLL_USEC` turns on.
    MimicEfPoll,
}

impl SpinType {
    /// Every kind but [`SpinType::All`], in C enum order.
    pub const KINDS: [SpinType; 16] = [
        SpinType::UdpRecv,
        SpinType::UdpSend,
        SpinType::TcpRecv,
        SpinType::TcpSend,
        SpinType::TcpAccept,
        SpinType::PipeRecv,
        SpinType::PipeSend,
        SpinType::Select,
        SpinType::Poll,
        SpinType::PktWait,
        SpinType::EpollWait,
        SpinType::StackLock,
        SpinType::SockLock,
        SpinType::SoBusyPoll,
        SpinType::TcpConnect,
        SpinType::MimicEfPoll,
    ];

    /// The C `onload_spin_type` value.
    pub fn raw(self) -> ffi::onload_spin_type {
        match self {
            SpinType::All => ffi::onload_spin_type_ONLOAD_SPIN_ALL,
            SpinType::UdpRecv => ffi::onload_spin_type_ONLOAD_SPIN_UDP_RECV,
            SpinType::UdpSend => ffi::onload_spin_type_ONLOAD_SPIN_UDP_SEND,
            SpinType::TcpRecv => ffi::onload_spin_type_ONLOAD_SPIN_TCP_RECV,
            SpinType::TcpSend => ffi::onload_spin_type_ONLOAD_SPIN_TCP_SEND,
            SpinType::TcpAccept => ffi::onload_spin_type_ONLOAD_SPIN_TCP_ACCEPT,
            SpinType::PipeRecv => ffi::onload_spin_type_ONLOAD_SPIN_PIPE_RECV,
            SpinType::PipeSend => ffi::onload_spin_type_ONLOAD_SPIN_PIPE_SEND,
            SpinType::Select => ffi::onload_spin_type_ONLOAD_SPIN_SELECT,
            SpinType::Poll => ffi::onload_spin_type_ONLOAD_SPIN_POLL,
            SpinType::PktWait => ffi::onload_spin_type_ONLOAD_SPIN_PKT_WAIT,
            SpinType::EpollWait => ffi::onload_spin_type_ONLOAD_SPIN_EPOLL_WAIT,
            SpinType::StackLock => ffi::onload_spin_type_ONLOAD_SPIN_STACK_LOCK,
            SpinType::SockLock => ffi::onload_spin_type_ONLOAD_SPIN_SOCK_LOCK,
            SpinType::SoBusyPoll => ffi::onload_spin_type_ONLOAD_SPIN_SO_BUSY_POLL,
            SpinType::TcpConnect => ffi::onload_spin_type_ONLOAD_SPIN_TCP_CONNECT,
            SpinType::MimicEfPoll => ffi::onload_spin_type_ONLOAD_SPIN_MIMIC_EF_POLL,
        }
    }
}

/// A thread's spin settings: one bit per [`SpinType`] (bit `1 << raw()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SpinMask(pub u32);

impl SpinMask {
    /// Whether spinning is on for `ty` ([`SpinType::All`]: for every kind).
    pub fn contains(self, ty: SpinType) -> bool {
        match ty {
            SpinType::All => SpinType::KINDS.iter().all(|&k| self.contains(k)),
            k => self.0 & (1 << k.raw()) != 0,
        }
    }
}

/// Turns spinning for `ty` on or off for the calling thread, overriding the configuration.
///
/// * **Under Onload:** takes effect for the thread's next blocking calls.
/// * **Without Onload:** does nothing and returns `Ok(())`.
pub fn thread_set_spin(ty: SpinType, on: bool) -> Result<()> {
    // SAFETY: plain integers.
    neg_errno("onload_thread_set_spin", unsafe {
        ffi::onload_thread_set_spin(ty.raw(), c_int_from(on))
    })
    .map(|_| ())
}

fn c_int_from(b: bool) -> std::ffi::c_int {
    b.into()
}

/// The calling thread's spin settings.
///
/// * **Under Onload:** the mask.
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`).
pub fn thread_get_spin() -> Result<SpinMask> {
    let mut state = 0u32;
    // SAFETY: `state` is a valid unsigned int to write.
    neg_errno("onload_thread_get_spin", unsafe {
        ffi::onload_thread_get_spin(&mut state)
    })?;
    Ok(SpinMask(state))
}

/// Turns spinning for a kind of call on or off while it lives, and puts the thread's previous
/// setting back when dropped (also when unwinding from a panic). Bound to its thread (neither
/// `Send` nor `Sync`), as the setting is.
///
/// * **Under Onload:** reads the previous setting ([`thread_get_spin`]) and restores each
///   affected kind on drop.
/// * **Without Onload:** setting is a no-op that succeeds and the previous setting cannot be
///   read, so the guard does nothing on drop.
///
/// ```
/// use onload_ext::{SpinGuard, SpinType};
/// {
///     let _spin = SpinGuard::new(SpinType::UdpRecv, true)?;
///     // this thread's UDP receives spin here (under Onload)
/// }
/// // and no longer here
/// # Ok::<(), onload_ext::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "the previous spin setting is restored when the guard is dropped"]
pub struct SpinGuard {
    ty: SpinType,
    /// The setting before the guard, when Onload could say.
    previous: Option<SpinMask>,
    _thread_bound: PhantomData<*const ()>,
}

impl SpinGuard {
    /// Sets spinning for `ty` to `on` for this thread until the guard drops.
    pub fn new(ty: SpinType, on: bool) -> Result<SpinGuard> {
        let previous = match thread_get_spin() {
            Ok(m) => Some(m),
            Err(Error::Unsupported { .. }) => None,
            Err(e) => return Err(e),
        };
        thread_set_spin(ty, on)?;
        Ok(SpinGuard {
            ty,
            previous,
            _thread_bound: PhantomData,
        })
    }

    /// The setting the guard will restore, when Onload could report it.
    pub fn previous(&self) -> Option<SpinMask> {
        self.previous
    }

    fn restore_now(&self) -> Result<()> {
        let Some(prev) = self.previous else {
            return Ok(());
        };
        match self.ty {
            SpinType::All => {
                for k in SpinType::KINDS {
                    thread_set_spin(k, prev.contains(k))?;
                }
                Ok(())
            }
            k => thread_set_spin(k, prev.contains(k)),
        }
    }

    /// Restores the previous setting now, reporting failure.
    pub fn restore(self) -> Result<()> {
        let r = self.restore_now();
        std::mem::forget(self);
        r
    }
}

impl Drop for SpinGuard {
    fn drop(&mut self) {
        let _ = self.restore_now();
    }
}
