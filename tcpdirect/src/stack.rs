//! The stack: one TCPDirect stack (`zf_stack`) and the table of every object it owns.

use std::cell::Cell;
use std::fmt;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use zf_sys::{zf_muxer_set, zf_stack, zft, zft_handle, zftl, zfur, zfut};

use crate::attr::Attr;
use crate::error::{Error, Result, check};
use crate::init::LIVE_STACKS;
use crate::keys::{
    AltKey, ListenerKey, MuxerKey, RawKey, TcpHandleKey, TcpKey, UdpRxKey, UdpTxKey,
};
use crate::msg_box;
use crate::tcp::TcpMsg;
use crate::udp::UdpMsg;

/// An object a stack owns, in its table.
pub(crate) enum Obj {
    Listener(NonNull<zftl>),
    /// A connection and its zero-copy message.
    Tcp(NonNull<zft>, NonNull<TcpMsg>),
    Handle(NonNull<zft_handle>),
    /// A receive zocket and its zero-copy message.
    UdpRx(NonNull<zfur>, NonNull<UdpMsg>),
    /// The zocket and its MSS (`zfut_get_mss`, fixed for its life), so that `send` can
    /// choose its path without a call.
    UdpTx(NonNull<zfut>, usize),
    Muxer(NonNull<zf_muxer_set>),
    Alt(zf_sys::zf_althandle),
}

// SAFETY: an `Obj` is reachable only through the `Stack` that owns it (it is private, and
// views borrow the stack), so it moves between threads only with its stack and every zocket
// of that stack. TCPDirect stacks have no thread affinity: they may be used from any thread,
// one at a time, which `Stack: !Sync` and the borrows of the views ensure.
unsafe impl Send for Obj {}

struct Slot {
    generation: u32,
    obj: Option<Obj>,
}

/// The `zf_stack` itself, freed when the last owner goes: the [`Stack`] and any
/// [`PendingWork`] probes.
pub(crate) struct RawStack(NonNull<zf_stack>);

// SAFETY: the stack pointer is only used by the owner of the `Stack` (through `&Stack` or
// `&mut Stack`, never from two threads at once since `Stack` is not `Sync`) and by
// `PendingWork`, which calls only `zf_stack_has_pending_work`, the one call TCPDirect documents
// as safe to make concurrently with others on the same stack. Freeing happens once, when the
// last `Arc` goes, after which nobody can use the pointer.
unsafe impl Send for RawStack {}
// SAFETY: as above; shared access is limited to zf_stack_has_pending_work.
unsafe impl Sync for RawStack {}

impl Drop for RawStack {
    fn drop(&mut self) {
        // SAFETY: the last owner of a live stack; its zockets were freed by Stack::drop.
        unsafe { zf_sys::zf_stack_free(self.0.as_ptr()) };
        LIVE_STACKS.fetch_sub(1, Ordering::SeqCst);
    }
}

static NEXT_STACK_ID: AtomicU32 = AtomicU32::new(1);

/// A TCPDirect stack and every zocket, muxer and alternative allocated on it.
///
/// The stack **owns** its objects; the application holds keys ([`TcpKey`], [`UdpRxKey`], ...)
/// and reaches an object through the stack: [`Stack::tcp`], [`Stack::udp_rx`],
/// [`Stack::udp_tx`], ... return short-lived views that borrow the stack. See the crate docs
/// for why: TCPDirect stacks are not thread-safe and every zocket call touches the stack.
///
/// `Stack` is [`Send`] (it moves to another thread with everything it owns) and not [`Sync`].
/// Dropping it frees its objects, then the stack (`zf_stack_free`); for a graceful close,
/// drive the reactor until [`Stack::is_quiescent`] first.
pub struct Stack {
    raw: Arc<RawStack>,
    attr: Attr,
    id: u32,
    slots: Vec<Slot>,
    free: Vec<u32>,
    waitable_fd: Cell<Option<RawFd>>,
    /// Not Sync: the stack must not be used from two threads at once.
    _not_sync: PhantomData<Cell<()>>,
}

/// TCPDirect features a stack may have ([`Stack::has_feature`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Feature {
    /// Cut-through PIO transmit.
    Ctpio,
    /// Programmed I/O transmit.
    Pio,
}

/// A handle that asks whether a stack has work (`zf_stack_has_pending_work`) from any
/// thread, without the lock that guards the stack, as the SDK's `zftcpmtpong` does.
///
/// It keeps the C stack's memory alive, so it may outlive the [`Stack`] (it then reports
/// whatever the freed-of-zockets stack reports).
#[derive(Clone)]
pub struct PendingWork(Arc<RawStack>);

impl PendingWork {
    /// Whether the stack has work for the reactor (`zf_stack_has_pending_work`).
    #[inline]
    pub fn has_pending_work(&self) -> bool {
        // SAFETY: live stack (kept alive by the Arc); this call is documented as safe
        // concurrently with any other call on the stack.
        unsafe { zf_sys::zf_stack_has_pending_work(self.0.0.as_ptr()) != 0 }
    }
}

impl fmt::Debug for PendingWork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PendingWork").finish_non_exhaustive()
    }
}

/// Every stack is made here, after [`crate::init`], which refuses a linked library of another
/// release than the bindings ([`Error::VersionMismatch`]).
fn create_stack(attr: &Attr) -> Result<NonNull<zf_stack>> {
    crate::init()?;
    let mut p: *mut zf_stack = std::ptr::null_mut();
    // SAFETY: live attribute object, valid out pointer.
    let rc = unsafe { zf_sys::zf_stack_alloc(attr.as_ptr(), &mut p) };
    check("zf_stack_alloc", rc)?;
    NonNull::new(p).ok_or_else(|| Error::call("zf_stack_alloc", -(libc::ENOMEM as i64)))
}

impl Stack {
    /// Allocates a stack with these attributes (`zf_stack_alloc`); `interface` names the
    /// network interface. Initialises the library first if needed.
    ///
    /// The stack keeps a copy of `attr` and uses it for every zocket it allocates.
    pub fn new(attr: &Attr) -> Result<Stack> {
        let attr = attr.try_clone()?;
        let raw = create_stack(&attr)?;
        LIVE_STACKS.fetch_add(1, Ordering::SeqCst);
        Ok(Stack {
            raw: Arc::new(RawStack(raw)),
            attr,
            id: NEXT_STACK_ID.fetch_add(1, Ordering::Relaxed),
            slots: Vec::new(),
            free: Vec::new(),
            waitable_fd: Cell::new(None),
            _not_sync: PhantomData,
        })
    }

    /// The raw `struct zf_stack*`, for calls this crate does not wrap. It stays owned by
    /// `self`.
    pub fn as_ptr(&self) -> *mut zf_stack {
        self.raw.0.as_ptr()
    }

    /// The attributes the stack was made with (and its zockets are made with).
    pub fn attr(&self) -> &Attr {
        &self.attr
    }

    /// Runs the reactor once (`zf_reactor_perform`): processes received packets, sends
    /// queued data and ACKs, runs timers. True when something user-visible may have happened.
    #[inline]
    pub fn reactor_perform(&self) -> bool {
        // SAFETY: live stack, used from this thread only (Stack is not Sync).
        unsafe { zf_sys::zf_reactor_perform(self.as_ptr()) > 0 }
    }

    /// Runs the reactor once with other attributes (e.g. `reactor_spin_count`)
    /// (`zf_reactor_perform_attr`).
    pub fn reactor_perform_with(&self, attr: &Attr) -> bool {
        // SAFETY: live stack and attribute object.
        unsafe { zf_sys::zf_reactor_perform_attr(self.as_ptr(), attr.as_ptr()) > 0 }
    }

    /// Whether the reactor has work to do (`zf_stack_has_pending_work`).
    #[inline]
    pub fn has_pending_work(&self) -> bool {
        // SAFETY: live stack.
        unsafe { zf_sys::zf_stack_has_pending_work(self.as_ptr()) != 0 }
    }

    /// Whether events are waiting, not counting TCP timers (`zf_stack_has_pending_events`).
    pub fn has_pending_events(&self) -> bool {
        // SAFETY: live stack.
        unsafe { zf_sys::zf_stack_has_pending_events(self.as_ptr()) != 0 }
    }

    /// A probe for [`PendingWork::has_pending_work`] that other threads may use while this
    /// stack is locked or busy.
    pub fn pending_work_probe(&self) -> PendingWork {
        PendingWork(self.raw.clone())
    }

    /// Whether the stack has no open TCP connections left (nor TIME_WAIT ones, depending on
    /// `tcp_wait_for_time_wait`) (`zf_stack_is_quiescent`).
    pub fn is_quiescent(&self) -> bool {
        // SAFETY: live stack.
        unsafe { zf_sys::zf_stack_is_quiescent(self.as_ptr()) != 0 }
    }

    /// Whether the stack has a feature (`zf_stack_query_feature`).
    pub fn has_feature(&self, feature: Feature) -> Result<bool> {
        let f = match feature {
            Feature::Ctpio => zf_sys::zf_stack_feature_CTPIO,
            Feature::Pio => zf_sys::zf_stack_feature_PIO,
        };
        // SAFETY: live stack.
        let rc = unsafe { zf_sys::zf_stack_query_feature(self.as_ptr(), f) };
        check("zf_stack_query_feature", rc).map(|v| v != 0)
    }

    /// The stack's waitable file descriptor (`zf_waitable_fd_get`): readable when the stack
    /// has events, for `epoll`/`poll`/mio. It belongs to the stack. Getting it enables
    /// interrupts, which costs latency; prime it ([`WaitableFd::prime`]) before each sleep.
    pub fn waitable_fd(&self) -> Result<WaitableFd<'_>> {
        let fd = match self.waitable_fd.get() {
            Some(fd) => fd,
            None => {
                let mut fd: RawFd = -1;
                // SAFETY: live stack, valid out pointer.
                let rc = unsafe { zf_sys::zf_waitable_fd_get(self.as_ptr(), &mut fd) };
                check("zf_waitable_fd_get", rc)?;
                self.waitable_fd.set(Some(fd));
                fd
            }
        };
        Ok(WaitableFd { stack: self, fd })
    }

    // ----- the object table -----

    pub(crate) fn insert(&mut self, obj: Obj) -> RawKey {
        let index = match self.free.pop() {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    obj: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.obj = Some(obj);
        RawKey {
            stack: self.id,
            index,
            generation: slot.generation,
        }
    }

    #[inline]
    pub(crate) fn lookup(&self, key: RawKey, kind: &'static str) -> Result<&Obj> {
        match self.slots.get(key.index as usize) {
            Some(Slot {
                generation,
                obj: Some(o),
            }) if *generation == key.generation && key.stack == self.id => Ok(o),
            _ => Err(Error::StaleKey { kind }),
        }
    }

    /// Takes an object out of the table (its key becomes stale).
    pub(crate) fn remove(&mut self, key: RawKey, kind: &'static str) -> Result<Obj> {
        self.lookup(key, kind)?;
        let slot = &mut self.slots[key.index as usize];
        let obj = slot.obj.take();
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(key.index);
        obj.ok_or(Error::StaleKey { kind })
    }

    /// Puts an object back under the same key (a failed connect).
    pub(crate) fn restore(&mut self, key: &mut RawKey, obj: Obj) {
        *key = self.insert(obj);
    }

    /// Frees one object through its C call.
    fn free_obj(&self, obj: Obj) -> Result<()> {
        // Each object was live in this stack's table and has just been taken out of it, so
        // it is freed once, and no view of it remains (freeing needs `&mut Stack`, which no
        // view can coexist with).
        let rc = match obj {
            // SAFETY: as above.
            Obj::Listener(p) => ("zftl_free", unsafe { zf_sys::zftl_free(p.as_ptr()) }),
            Obj::Tcp(p, m) => {
                // SAFETY: as above; the message goes with its connection, unused since the
                // view that used it is gone.
                let rc = unsafe { zf_sys::zft_free(p.as_ptr()) };
                // SAFETY: allocated with the connection, freed once, here.
                unsafe { msg_box::free(m) };
                ("zft_free", rc)
            }
            // SAFETY: as above.
            Obj::Handle(p) => ("zft_handle_free", unsafe {
                zf_sys::zft_handle_free(p.as_ptr())
            }),
            Obj::UdpRx(p, m) => {
                // SAFETY: as above.
                let rc = unsafe { zf_sys::zfur_free(p.as_ptr()) };
                // SAFETY: allocated with the zocket, freed once, here.
                unsafe { msg_box::free(m) };
                ("zfur_free", rc)
            }
            // SAFETY: as above.
            Obj::UdpTx(p, _) => ("zfut_free", unsafe { zf_sys::zfut_free(p.as_ptr()) }),
            Obj::Muxer(p) => {
                // SAFETY: as above; TCPDirect keeps the memory until its waitables leave.
                unsafe { zf_sys::zf_muxer_free(p.as_ptr()) };
                ("zf_muxer_free", 0)
            }
            // SAFETY: as above; the handle belongs to this live stack.
            Obj::Alt(h) => ("zf_alternatives_release", unsafe {
                zf_sys::zf_alternatives_release(self.as_ptr(), h)
            }),
        };
        check(rc.0, rc.1).map(drop)
    }

    /// Frees an object: a TCP zocket (`zft_free`: FIN, or RST when unread data remains; the
    /// connection closes in the stack afterwards), a listener, a UDP zocket, a muxer or an
    /// alternative. The key, and any copy of it, is stale afterwards.
    pub fn free(&mut self, key: impl ObjectKey) -> Result<()> {
        let (raw, kind) = key.raw_kind();
        let obj = self.remove(raw, kind)?;
        self.free_obj(obj)
    }

    /// Frees a TCP handle that was never connected (`zft_handle_free`).
    pub fn free_tcp_handle(&mut self, key: TcpHandleKey) -> Result<()> {
        let obj = self.remove(key.0, TcpHandleKey::KIND)?;
        self.free_obj(obj)
    }

    /// How many objects the stack owns now.
    pub fn object_count(&self) -> usize {
        self.slots.iter().filter(|s| s.obj.is_some()).count()
    }
}

/// A key [`Stack::free`] takes.
#[allow(private_interfaces)]
pub trait ObjectKey: sealed::Sealed {
    #[doc(hidden)]
    fn raw_kind(&self) -> (RawKey, &'static str);
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

macro_rules! object_key {
    ($($k:ty),*) => {$(
        impl sealed::Sealed for $k {}
        #[allow(private_interfaces)]
        impl ObjectKey for $k {
            fn raw_kind(&self) -> (RawKey, &'static str) {
                (self.0, <$k>::KIND)
            }
        }
    )*};
}
object_key!(ListenerKey, TcpKey, UdpRxKey, UdpTxKey, MuxerKey, AltKey);

impl Drop for Stack {
    fn drop(&mut self) {
        // Children before the parent: zockets (handles, connections, listeners, UDP), then
        // muxers and alternatives; the zf_stack goes with the last Arc.
        let mut objs: Vec<Obj> = self.slots.iter_mut().filter_map(|s| s.obj.take()).collect();
        objs.sort_by_key(|o| match o {
            Obj::Handle(_) => 0,
            Obj::Tcp(..) => 1,
            Obj::Listener(_) => 2,
            Obj::UdpRx(..) | Obj::UdpTx(..) => 3,
            Obj::Muxer(_) => 4,
            Obj::Alt(_) => 5,
        });
        for o in objs {
            let _ = self.free_obj(o);
        }
    }
}

impl fmt::Debug for Stack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stack")
            .field("id", &self.id)
            .field("objects", &self.object_count())
            .finish_non_exhaustive()
    }
}

/// The stack's waitable file descriptor, from [`Stack::waitable_fd`].
#[derive(Debug, Clone, Copy)]
pub struct WaitableFd<'s> {
    stack: &'s Stack,
    fd: RawFd,
}

impl WaitableFd<'_> {
    /// Arms the fd so that it becomes readable on the next event (`zf_waitable_fd_prime`);
    /// call it before every sleep on the fd.
    pub fn prime(&self) -> Result<()> {
        // SAFETY: live stack.
        check("zf_waitable_fd_prime", unsafe {
            zf_sys::zf_waitable_fd_prime(self.stack.as_ptr())
        })
        .map(drop)
    }
}

impl AsRawFd for WaitableFd<'_> {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl AsFd for WaitableFd<'_> {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd belongs to the stack, which outlives this borrow ('s).
        unsafe { BorrowedFd::borrow_raw(self.fd) }
    }
}
