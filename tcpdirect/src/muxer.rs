//! The muxer: epoll-style readiness of many zockets of one stack (`zf_muxer_*`).

use std::fmt;
use std::ptr::NonNull;
use std::time::Duration;

use zf_sys::{epoll_event, zf_muxer_set, zf_waitable};

use crate::error::{Error, Result, check};
use crate::keys::{ListenerKey, MuxerKey, TcpKey, UdpRxKey, UdpTxKey};
use crate::stack::{Obj, Stack, sealed};

bitflags::bitflags! {
    /// Readiness events, as epoll names them, plus TCPDirect's own.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Readiness: u32 {
        /// Data (or a connection, or end of stream) to receive.
        const IN = libc::EPOLLIN as u32;
        /// Send space.
        const OUT = libc::EPOLLOUT as u32;
        /// An error (must be asked for explicitly, unlike epoll).
        const ERR = libc::EPOLLERR as u32;
        /// Hang-up (must be asked for explicitly, unlike epoll).
        const HUP = libc::EPOLLHUP as u32;
        /// The stack is quiescent (for [`StackEvents`]; the same bit as `EPOLLRDHUP`).
        const STACK_HUP = zf_sys::EPOLLSTACKHUP;
        /// A packet is arriving: start an overlapped receive
        /// ([`Tcp::zc_recv_overlapped`](crate::Tcp::zc_recv_overlapped),
        /// [`UdpRx::zc_recv_overlapped`](crate::UdpRx::zc_recv_overlapped)). Asked for with
        /// `IN`; reported alone, and then no `IN` for that packet.
        const IN_OVERLAPPED = zf_sys::ZF_EPOLLIN_OVERLAPPED;
        // Bits a newer library may report.
        const _ = !0;
    }
}

/// One readiness event from [`Stack::muxer_wait`]: what is ready and the `data` given
/// when the waitable was added. Same layout as `struct epoll_event`.
#[derive(Clone, Copy, Default)]
#[repr(transparent)]
pub struct Event(epoll_event);

impl Event {
    /// What is ready.
    #[inline]
    pub fn readiness(&self) -> Readiness {
        Readiness::from_bits_retain(self.0.events)
    }
    /// The value given to [`Stack::muxer_add`].
    #[inline]
    pub fn data(&self) -> u64 {
        // SAFETY: the union is 8 plain bytes; every bit pattern is a valid u64.
        unsafe { self.0.data.u64_ }
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("readiness", &self.readiness())
            .field("data", &self.data())
            .finish()
    }
}

fn event(events: Readiness, data: u64) -> epoll_event {
    epoll_event {
        events: events.bits(),
        data: zf_sys::epoll_data { u64_: data },
    }
}

/// The stack itself as a waitable: ready with [`Readiness::STACK_HUP`] when quiescent
/// (`zf_stack_to_waitable`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StackEvents;

/// Something a muxer can watch: a zocket's key, or [`StackEvents`].
pub trait Waitable: sealed::Sealed {
    #[doc(hidden)]
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable>;
}

impl sealed::Sealed for StackEvents {}
impl Waitable for StackEvents {
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable> {
        // SAFETY: live stack.
        Ok(unsafe { zf_sys::zf_stack_to_waitable(stack.as_ptr()) })
    }
}

impl Waitable for ListenerKey {
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable> {
        match stack.lookup(self.0, ListenerKey::KIND)? {
            // SAFETY: live listener of this stack.
            Obj::Listener(p) => Ok(unsafe { zf_sys::zftl_to_waitable(p.as_ptr()) }),
            _ => Err(Error::StaleKey {
                kind: ListenerKey::KIND,
            }),
        }
    }
}

impl Waitable for TcpKey {
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable> {
        // SAFETY: live zocket of this stack.
        Ok(unsafe { zf_sys::zft_to_waitable(stack.tcp_ptr(*self)?.as_ptr()) })
    }
}

impl Waitable for UdpRxKey {
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable> {
        // SAFETY: live zocket of this stack.
        Ok(unsafe { zf_sys::zfur_to_waitable(stack.udp_rx_ptr(*self)?.as_ptr()) })
    }
}

impl Waitable for UdpTxKey {
    fn waitable(&self, stack: &Stack) -> Result<*mut zf_waitable> {
        // SAFETY: live zocket of this stack.
        Ok(unsafe { zf_sys::zfut_to_waitable(stack.udp_tx_ptr(*self)?.as_ptr()) })
    }
}

fn nonnull(w: *mut zf_waitable, call: &'static str) -> Result<*mut zf_waitable> {
    if w.is_null() {
        Err(Error::call(call, -(libc::EINVAL as i64)))
    } else {
        Ok(w)
    }
}

impl Stack {
    fn muxer_ptr(&self, key: MuxerKey) -> Result<NonNull<zf_muxer_set>> {
        match self.lookup(key.0, MuxerKey::KIND)? {
            Obj::Muxer(p) => Ok(*p),
            _ => Err(Error::StaleKey {
                kind: MuxerKey::KIND,
            }),
        }
    }

    /// Allocates a muxer (`zf_muxer_alloc`).
    pub fn muxer(&mut self) -> Result<MuxerKey> {
        let mut m = std::ptr::null_mut();
        // SAFETY: live stack, valid out pointer.
        check("zf_muxer_alloc", unsafe {
            zf_sys::zf_muxer_alloc(self.as_ptr(), &mut m)
        })?;
        let p =
            NonNull::new(m).ok_or_else(|| Error::call("zf_muxer_alloc", -(libc::ENOMEM as i64)))?;
        Ok(MuxerKey(self.insert(Obj::Muxer(p))))
    }

    /// Watches `w` for `events` (`zf_muxer_add`); [`Event::data`] reports `data`. A
    /// waitable is in at most one muxer. Edge-triggered; `ERR`/`HUP` only when asked for.
    pub fn muxer_add(
        &self,
        muxer: MuxerKey,
        w: &impl Waitable,
        events: Readiness,
        data: u64,
    ) -> Result<()> {
        let m = self.muxer_ptr(muxer)?;
        let wp = nonnull(w.waitable(self)?, "zf_muxer_add")?;
        let ev = event(events, data);
        // SAFETY: live muxer and waitable of this stack; valid event.
        check("zf_muxer_add", unsafe {
            zf_sys::zf_muxer_add(m.as_ptr(), wp, &ev)
        })
        .map(drop)
    }

    /// Changes what `w` is watched for (`zf_muxer_mod`).
    pub fn muxer_modify(&self, w: &impl Waitable, events: Readiness, data: u64) -> Result<()> {
        let wp = nonnull(w.waitable(self)?, "zf_muxer_mod")?;
        let ev = event(events, data);
        // SAFETY: live waitable; valid event.
        check("zf_muxer_mod", unsafe { zf_sys::zf_muxer_mod(wp, &ev) }).map(drop)
    }

    /// Re-arms `w` with the events and data it has (`zf_muxer_mod(w, zf_waitable_event(w))`),
    /// so a level that is still true is reported again.
    pub fn muxer_rearm(&self, w: &impl Waitable) -> Result<()> {
        let wp = nonnull(w.waitable(self)?, "zf_muxer_mod")?;
        // SAFETY: live waitable; zf_waitable_event points at its registered event.
        let rc = unsafe { zf_sys::zf_muxer_mod(wp, zf_sys::zf_waitable_event(wp)) };
        check("zf_muxer_mod", rc).map(drop)
    }

    /// Stops watching `w` (`zf_muxer_del`).
    pub fn muxer_delete(&self, w: &impl Waitable) -> Result<()> {
        let wp = nonnull(w.waitable(self)?, "zf_muxer_del")?;
        // SAFETY: live waitable.
        check("zf_muxer_del", unsafe { zf_sys::zf_muxer_del(wp) }).map(drop)
    }

    /// Runs the reactor until something a muxer watches is ready or `timeout` passes
    /// (`None`: forever; zero: one pass) (`zf_muxer_wait`); fills `events` and returns the
    /// events filled.
    pub fn muxer_wait<'e>(
        &self,
        muxer: MuxerKey,
        events: &'e mut [Event],
        timeout: Option<Duration>,
    ) -> Result<&'e [Event]> {
        let m = self.muxer_ptr(muxer)?;
        let max = i32::try_from(events.len()).unwrap_or(i32::MAX);
        let ns = timeout.map_or(-1, |t| i64::try_from(t.as_nanos()).unwrap_or(i64::MAX));
        // SAFETY: live muxer; Event is repr(transparent) over epoll_event and `events` has
        // room for `max` of them.
        let rc = unsafe { zf_sys::zf_muxer_wait(m.as_ptr(), events.as_mut_ptr().cast(), max, ns) };
        let n = check("zf_muxer_wait", rc)? as usize;
        Ok(&events[..n.min(events.len())])
    }
}
