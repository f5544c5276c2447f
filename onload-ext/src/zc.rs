//! Zero-copy buffers, sends and receives, the receive filter, and reading datagrams that took
//! the kernel path.
//!
//! Ownership follows the C API exactly, in types:
//!
//! * [`ZcBuffer`] is a buffer allocated from Onload's pool; dropping it releases it.
//! * [`zc_send`] takes the buffers out of the caller's `Vec` only when Onload has taken them
//!   (the send succeeded); otherwise they stay with the caller.
//! * [`zc_recv`] lends each received message to a callback as a [`ZcRecvMessage`] that cannot
//!   outlive the call. To keep one (`ONLOAD_ZC_KEEP`), the callback returns
//!   [`ZcAction::Keep`]; the message then arrives in the caller's `Vec` as a [`KeptMessage`],
//!   which releases it when dropped.

use crate::addr::{RawAddr, to_std};
use crate::error::{Error, Result, neg_errno, to_c_int};
use crate::fd::socket_fd;
use onload_sys as ffi;
use std::any::Any;
use std::ffi::{c_int, c_void};
use std::net::SocketAddr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// What headers a zero-copy buffer reserves room for (`onload_zc_buffer_type_flags`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BufferHeaders {
    /// None: Onload adds the headers in a separate buffer when sending.
    None,
    /// Room for UDP headers in front of the data.
    Udp,
    /// Room for TCP headers in front of the data.
    Tcp,
}

impl BufferHeaders {
    fn raw(self) -> ffi::onload_zc_buffer_type_flags {
        match self {
            BufferHeaders::None => ffi::onload_zc_buffer_type_flags_ONLOAD_ZC_BUFFER_HDR_NONE,
            BufferHeaders::Udp => ffi::onload_zc_buffer_type_flags_ONLOAD_ZC_BUFFER_HDR_UDP,
            BufferHeaders::Tcp => ffi::onload_zc_buffer_type_flags_ONLOAD_ZC_BUFFER_HDR_TCP,
        }
    }
}

/// Releases Onload buffers; errors are ignored (there is nothing a caller could do).
fn release(fd: BorrowedFd<'_>, handle: ffi::onload_zc_handle) {
    let mut h = handle;
    // SAFETY: `h` is a handle this process owns (allocated, or kept from a receive) and
    // releases exactly once, here.
    let _ = unsafe { ffi::onload_zc_release_buffers(fd.as_raw_fd(), &mut h, 1) };
}

/// A zero-copy send buffer from Onload's packet-buffer pool, owned by the program until it is
/// sent with [`zc_send`] or dropped (which releases it).
///
/// It borrows the socket it was allocated on (`'s`), so it cannot outlive it.
///
/// A buffer cannot outlive its socket:
///
/// ```compile_fail,E0597
/// let bufs = {
///     let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
///     onload_ext::ZcBuffer::alloc(&sock, 1, onload_ext::BufferHeaders::Udp)
/// };
/// drop(bufs);
/// ```
#[derive(Debug)]
pub struct ZcBuffer<'s> {
    fd: BorrowedFd<'s>,
    base: *mut u8,
    capacity: usize,
    len: usize,
    handle: ffi::onload_zc_handle,
}

// SAFETY: the buffer is owned exclusively by this value (no other Rust value points at it),
// and Onload's release call takes the stack's lock, so it may be released from any thread.
unsafe impl Send for ZcBuffer<'_> {}

const ALLOC: &str = "onload_zc_alloc_buffers";

impl<'s> ZcBuffer<'s> {
    /// Allocates `count` buffers on the stack of accelerated socket `sock`.
    ///
    /// * **Under Onload:** the buffers; [`Error::Os`] with `ESOCKTNOSUPPORT` for a socket
    ///   Onload handed to the kernel, `ENOMEM` when the pool is empty.
    /// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`).
    ///
    /// `count` must be at least 1; `sock` must be a socket.
    pub fn alloc<F: AsFd + ?Sized>(
        sock: &'s F,
        count: usize,
        headers: BufferHeaders,
    ) -> Result<Vec<ZcBuffer<'s>>> {
        let fd = sock.as_fd();
        let raw = socket_fd(ALLOC, fd)?;
        if count == 0 {
            return Err(Error::invalid(ALLOC, "count must be at least 1"));
        }
        let n = to_c_int(ALLOC, "count", count)?;
        let mut iovs = vec![ffi::onload_zc_iovec::default(); count];
        // SAFETY: `iovs` holds `n` writable iovecs.
        neg_errno(ALLOC, unsafe {
            ffi::onload_zc_alloc_buffers(raw, iovs.as_mut_ptr(), n, headers.raw())
        })?;
        Ok(iovs
            .iter()
            .map(|iov| ZcBuffer {
                fd,
                // SAFETY: Onload set the pointer member of the union (iov_base).
                base: unsafe { iov.__bindgen_anon_1.iov_base }.cast(),
                capacity: iov.iov_len() as usize,
                len: 0,
                handle: iov.buf,
            })
            .collect())
    }

    /// How many bytes the buffer can hold.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many bytes will be sent.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when no bytes are set to be sent.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Sets how many bytes (from the start of the buffer) will be sent.
    pub fn set_len(&mut self, len: usize) -> Result<()> {
        if len > self.capacity {
            return Err(Error::invalid(
                "onload_zc_send",
                format!(
                    "length {len} exceeds the buffer's capacity {}",
                    self.capacity
                ),
            ));
        }
        self.len = len;
        Ok(())
    }

    /// Copies `data` to the start of the buffer and sets the length to match.
    pub fn fill(&mut self, data: &[u8]) -> Result<()> {
        self.set_len(data.len())?;
        self.buffer_mut()[..data.len()].copy_from_slice(data);
        Ok(())
    }

    /// The bytes that will be sent.
    pub fn as_slice(&self) -> &[u8] {
        // SAFETY: Onload gave us `capacity` bytes at `base`, owned by this value; len <= capacity.
        unsafe { std::slice::from_raw_parts(self.base, self.len) }
    }

    /// The whole buffer (all `capacity` bytes), to write into before [`ZcBuffer::set_len`].
    pub fn buffer_mut(&mut self) -> &mut [u8] {
        if self.capacity == 0 {
            return &mut [];
        }
        // SAFETY: as in `as_slice`; `&mut self` makes the access exclusive.
        unsafe { std::slice::from_raw_parts_mut(self.base, self.capacity) }
    }

    /// The Onload handle, for use with the raw bindings (still owned by this value).
    pub fn handle(&self) -> ffi::onload_zc_handle {
        self.handle
    }
}

impl Drop for ZcBuffer<'_> {
    fn drop(&mut self) {
        release(self.fd, self.handle);
    }
}

/// Flags of [`zc_send`] (combine with `|`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ZcSendFlags(c_int);

impl ZcSendFlags {
    /// No flags.
    pub const NONE: Self = Self(0);
    /// Do not block.
    pub const DONTWAIT: Self = Self(ffi::ONLOAD_MSG_DONTWAIT);
    /// More data follows (TCP).
    pub const MORE: Self = Self(ffi::ONLOAD_MSG_MORE);
    /// No `SIGPIPE`.
    pub const NOSIGNAL: Self = Self(ffi::ONLOAD_MSG_NOSIGNAL);
    /// Exercise the send path without sending (the buffers stay with the caller).
    pub const WARM: Self = Self(ffi::ONLOAD_MSG_WARM as c_int);

    /// The C flag bits.
    pub fn bits(self) -> c_int {
        self.0
    }
}

impl std::ops::BitOr for ZcSendFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The most buffers one [`zc_send`] message may have.
pub const ZC_SEND_MAX_BUFFERS: usize = 64;

const SEND: &str = "onload_zc_send";

/// Sends `bufs` as one message (one datagram for UDP; `dest` is its destination, or `None`
/// for a connected socket).
///
/// On success Onload owns the buffers: they are taken out of `bufs` (except with
/// [`ZcSendFlags::WARM`], which sends nothing and leaves them), and the bytes sent are
/// returned. On failure the buffers stay in `bufs`, to retry or drop.
///
/// * **Under Onload:** as above; [`Error::Os`] carries the message's error (`EAGAIN`,
///   `ESOCKTNOSUPPORT` for a socket handed to the kernel, ...).
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`); you cannot have
///   buffers to send anyway, as [`ZcBuffer::alloc`] fails the same way.
///
/// Every buffer must have been allocated on `sock` itself, be non-empty, and there must be
/// 1 to [`ZC_SEND_MAX_BUFFERS`] of them ([`Error::InvalidArgument`] otherwise). This is a
/// hot-path call: it allocates nothing and makes no system call of its own.
pub fn zc_send<'s, F: AsFd + ?Sized>(
    sock: &'s F,
    bufs: &mut Vec<ZcBuffer<'s>>,
    dest: Option<SocketAddr>,
    flags: ZcSendFlags,
) -> Result<usize> {
    let fd = sock.as_fd();
    // Hot path: no descriptor check (the borrow guarantees it is open; a non-socket gets
    // Onload's own error).
    let raw = fd.as_raw_fd();
    if bufs.is_empty() || bufs.len() > ZC_SEND_MAX_BUFFERS {
        return Err(Error::invalid(
            SEND,
            format!(
                "a message needs 1 to {ZC_SEND_MAX_BUFFERS} buffers, not {}",
                bufs.len()
            ),
        ));
    }
    let mut iovs = [ffi::onload_zc_iovec::default(); ZC_SEND_MAX_BUFFERS];
    for (i, (b, iov)) in bufs.iter().zip(iovs.iter_mut()).enumerate() {
        if b.fd.as_raw_fd() != raw {
            return Err(Error::invalid(
                SEND,
                format!(
                    "buffer {i} was allocated on descriptor {}, not on the sending socket {raw}",
                    b.fd.as_raw_fd()
                ),
            ));
        }
        if b.len == 0 {
            return Err(Error::invalid(SEND, format!("buffer {i} is empty")));
        }
        iov.__bindgen_anon_1.iov_base = b.base.cast();
        iov.set_iov_len(b.len as u64);
        iov.buf = b.handle;
    }
    let mut addr = dest.map(RawAddr::from_std);
    let mut mmsg = ffi::onload_zc_mmsg {
        fd: raw,
        ..Default::default()
    };
    mmsg.msg.iov = iovs.as_mut_ptr();
    mmsg.msg.msghdr.msg_iovlen = bufs.len();
    if let Some(a) = addr.as_mut() {
        mmsg.msg.msghdr.msg_name = std::ptr::from_mut(&mut a.storage).cast();
        mmsg.msg.msghdr.msg_namelen = a.len;
    }
    // SAFETY: `mmsg` describes `bufs.len()` iovecs of buffers we own, and the address (when
    // any) lives in `addr` until after the call.
    let done = neg_errno(SEND, unsafe { ffi::onload_zc_send(&mut mmsg, 1, flags.0) })?;
    if done == 0 {
        return Err(Error::from_errno(SEND, libc::EAGAIN));
    }
    let sent = neg_errno(SEND, mmsg.rc)?;
    if flags.0 & ZcSendFlags::WARM.0 == 0 {
        // Onload owns the buffers now: forget them without releasing.
        for b in bufs.drain(..) {
            std::mem::forget(b);
        }
    }
    Ok(sent as usize)
}

/// Waits until the stack has finished with the zero-copy buffers sent so far on `sock`'s
/// stack.
///
/// * **Without Onload:** returns `Ok(())` at once (the stub's answer).
pub fn zc_await_stack_sync<F: AsRawFd + ?Sized>(sock: &F) -> Result<()> {
    const CALL: &str = "onload_zc_await_stack_sync";
    let raw = sock.as_raw_fd();
    crate::error::check_socket(CALL, raw)?;
    // SAFETY: plain integer.
    neg_errno(CALL, unsafe { ffi::onload_zc_await_stack_sync(raw) }).map(|_| ())
}

/// Flags of [`zc_recv`] (combine with `|`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ZcRecvFlags(c_int);

impl ZcRecvFlags {
    /// No flags: block until data comes (or `SO_RCVTIMEO`).
    pub const NONE: Self = Self(0);
    /// Do not block.
    pub const DONTWAIT: Self = Self(ffi::ONLOAD_MSG_DONTWAIT);
    /// Deliver UDP datagrams that came through the kernel to the callback too (copied into
    /// Onload buffers), instead of failing with `ENOTEMPTY`.
    pub const RECV_OS_INLINE: Self = Self(ffi::ONLOAD_MSG_RECV_OS_INLINE as c_int);

    /// The C flag bits.
    pub fn bits(self) -> c_int {
        self.0
    }
}

impl std::ops::BitOr for ZcRecvFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// What the [`zc_recv`] callback wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ZcAction {
    /// Go on to the next message; Onload keeps this one's buffers.
    Continue,
    /// Stop receiving and return; Onload keeps this one's buffers.
    Stop,
    /// Take ownership of this message (`ONLOAD_ZC_KEEP`): it is appended to the caller's
    /// `Vec` as a [`KeptMessage`]; go on to the next message.
    Keep,
    /// Keep this message, then stop.
    KeepAndStop,
}

impl ZcAction {
    fn keeps(self) -> bool {
        matches!(self, ZcAction::Keep | ZcAction::KeepAndStop)
    }
    fn stops(self) -> bool {
        matches!(self, ZcAction::Stop | ZcAction::KeepAndStop)
    }
}

/// A received message lent to a callback: readable only during the call.
///
/// The lifetime makes it impossible to keep any part of it beyond the callback:
///
/// ```compile_fail,E0521
/// # let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// let mut escaped: Option<&[u8]> = None;
/// let mut kept = Vec::new();
/// let _ = onload_ext::zc_recv(&sock, onload_ext::ZcRecvFlags::DONTWAIT, &mut kept, |msg| {
///     escaped = msg.buffers().next();
///     onload_ext::ZcAction::Continue
/// });
/// ```
#[derive(Debug)]
pub struct ZcRecvMessage<'m> {
    msg: &'m ffi::onload_zc_msg,
    flags: c_int,
}

impl<'m> ZcRecvMessage<'m> {
    fn iovs(&self) -> &'m [ffi::onload_zc_iovec] {
        let n = self.msg.msghdr.msg_iovlen;
        if n == 0 || self.msg.iov.is_null() {
            return &[];
        }
        // SAFETY: Onload passes `msg_iovlen` valid iovecs at `iov` for the callback's duration.
        unsafe { std::slice::from_raw_parts(self.msg.iov, n) }
    }

    /// The message's data, one slice per buffer.
    pub fn buffers(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.iovs().iter().map(iov_slice)
    }

    /// How many buffers hold the message.
    pub fn num_buffers(&self) -> usize {
        self.iovs().len()
    }

    /// Total bytes of data.
    pub fn len(&self) -> usize {
        self.iovs().iter().map(|iov| iov.iov_len() as usize).sum()
    }

    /// True for a message without data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data copied into one `Vec`.
    pub fn to_vec(&self) -> Vec<u8> {
        self.buffers().flatten().copied().collect()
    }

    /// The sender (UDP), when Onload reported one.
    pub fn peer(&self) -> Option<SocketAddr> {
        let h = &self.msg.msghdr;
        to_std(h.msg_name.cast(), h.msg_namelen)
    }

    /// The buffers are shared with other sockets (`ONLOAD_ZC_MSG_SHARED`): this crate only
    /// ever gives read access, so this is for information.
    pub fn is_shared(&self) -> bool {
        self.flags & ffi::ONLOAD_ZC_MSG_SHARED as c_int != 0
    }

    /// This is the last message of a burst (`ONLOAD_ZC_END_OF_BURST`).
    pub fn is_end_of_burst(&self) -> bool {
        self.flags & ffi::ONLOAD_ZC_END_OF_BURST as c_int != 0
    }
}

/// The bytes an iovec describes.
fn iov_slice(iov: &ffi::onload_zc_iovec) -> &[u8] {
    let len = iov.iov_len() as usize;
    // SAFETY: Onload set the pointer member of the union.
    let base = unsafe { iov.__bindgen_anon_1.iov_base };
    if len == 0 || base.is_null() {
        return &[];
    }
    // SAFETY: the iovec describes `len` readable bytes at `base`, valid while the iovec is
    // (for the callback, or until a kept message is released).
    unsafe { std::slice::from_raw_parts(base.cast::<u8>(), len) }
}

/// A received message whose buffers the program took over (`ONLOAD_ZC_KEEP`); released back
/// to Onload when dropped. Borrows the socket (`'s`) so it cannot outlive it.
///
/// A kept message cannot outlive its socket:
///
/// ```compile_fail,E0597
/// let mut kept = Vec::new();
/// {
///     let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
///     let _ = onload_ext::zc_recv(&sock, onload_ext::ZcRecvFlags::NONE, &mut kept, |_| {
///         onload_ext::ZcAction::Keep
///     });
/// }
/// drop(kept);
/// ```
#[derive(Debug)]
pub struct KeptMessage<'s> {
    fd: BorrowedFd<'s>,
    handle: ffi::onload_zc_handle,
    segments: Vec<(*const u8, usize)>,
    peer: Option<SocketAddr>,
}

// SAFETY: the kept buffers are owned exclusively by this value and only read through it;
// Onload's release call takes the stack's lock, so it may run on any thread.
unsafe impl Send for KeptMessage<'_> {}

impl KeptMessage<'_> {
    /// The message's data, one slice per buffer.
    pub fn buffers(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.segments.iter().map(|&(p, len)| {
            // SAFETY: the kept buffers stay valid until this value releases them on drop.
            unsafe { std::slice::from_raw_parts(p, len) }
        })
    }

    /// Total bytes of data.
    pub fn len(&self) -> usize {
        self.segments.iter().map(|s| s.1).sum()
    }

    /// True for a message without data.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The data copied into one `Vec`.
    pub fn to_vec(&self) -> Vec<u8> {
        self.buffers().flatten().copied().collect()
    }

    /// The sender (UDP), when Onload reported one.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The Onload handle of the first buffer (the one to release), still owned by this value.
    pub fn handle(&self) -> ffi::onload_zc_handle {
        self.handle
    }
}

impl Drop for KeptMessage<'_> {
    fn drop(&mut self) {
        release(self.fd, self.handle);
    }
}

/// What the receive trampoline needs: the caller's callback and where kept messages go.
struct RecvState<'a, 's, C> {
    callback: &'a mut C,
    fd: BorrowedFd<'s>,
    kept: &'a mut Vec<KeptMessage<'s>>,
    panic: Option<Box<dyn Any + Send>>,
}

/// The C callback of [`zc_recv`]: runs the Rust callback without letting a panic cross into C.
extern "C" fn recv_trampoline<C>(
    args: *mut ffi::onload_zc_recv_args,
    flags: c_int,
) -> ffi::onload_zc_callback_rc
where
    C: FnMut(&ZcRecvMessage<'_>) -> ZcAction,
{
    // SAFETY: Onload passes back the args we gave it, whose user_ptr is our RecvState,
    // alive (and not otherwise accessed) for the whole onload_zc_recv() call.
    let (msg, state) = unsafe {
        (
            &(*args).msg,
            &mut *(*args).user_ptr.cast::<RecvState<'_, '_, C>>(),
        )
    };
    if state.panic.is_some() {
        return ffi::onload_zc_callback_rc_ONLOAD_ZC_TERMINATE;
    }
    let view = ZcRecvMessage { msg, flags };
    let callback = &mut *state.callback;
    let action = match catch_unwind(AssertUnwindSafe(|| callback(&view))) {
        Ok(a) => a,
        Err(payload) => {
            state.panic = Some(payload);
            return ffi::onload_zc_callback_rc_ONLOAD_ZC_TERMINATE;
        }
    };
    let mut rc = if action.stops() {
        ffi::onload_zc_callback_rc_ONLOAD_ZC_TERMINATE
    } else {
        ffi::onload_zc_callback_rc_ONLOAD_ZC_CONTINUE
    };
    let iovs = view.iovs();
    if action.keeps() && !iovs.is_empty() {
        state.kept.push(KeptMessage {
            fd: state.fd,
            handle: iovs[0].buf,
            segments: iovs
                .iter()
                .map(|iov| {
                    let s = iov_slice(iov);
                    (s.as_ptr(), s.len())
                })
                .collect(),
            peer: view.peer(),
        });
        rc |= ffi::onload_zc_callback_rc_ONLOAD_ZC_KEEP;
    }
    rc
}

const RECV: &str = "onload_zc_recv";

/// Receives on accelerated socket `sock` without copying: `callback` sees each message in
/// place and says what to do next ([`ZcAction`]). Messages it keeps are appended to `kept`.
///
/// A panic in `callback` does not cross into C: receiving stops and the panic resumes once
/// `onload_zc_recv()` has returned (messages kept before it are in `kept`).
///
/// * **Under Onload:** `Ok(())` once the callback stopped or (with
///   [`ZcRecvFlags::DONTWAIT`]) nothing more is waiting; [`Error::Os`] with `ENOTEMPTY` when
///   datagrams came through the kernel (read them with [`recvmsg_kernel`], or pass
///   [`ZcRecvFlags::RECV_OS_INLINE`]), `ESOCKTNOSUPPORT` for a socket handed to the kernel,
///   `EAGAIN` when nothing came in time.
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`); the callback is
///   never called.
///
/// ```
/// # let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
/// let mut kept = Vec::new();
/// let r = onload_ext::zc_recv(&sock, onload_ext::ZcRecvFlags::DONTWAIT, &mut kept, |msg| {
///     println!("{} bytes from {:?}", msg.len(), msg.peer());
///     if msg.len() > 100 { onload_ext::ZcAction::Keep } else { onload_ext::ZcAction::Continue }
/// });
/// if !onload_ext::is_present() {
///     assert!(r.unwrap_err().is_unsupported());
/// }
/// drop(kept); // releases what was kept
/// ```
pub fn zc_recv<'s, F, C>(
    sock: &'s F,
    flags: ZcRecvFlags,
    kept: &mut Vec<KeptMessage<'s>>,
    mut callback: C,
) -> Result<()>
where
    F: AsFd + ?Sized,
    C: FnMut(&ZcRecvMessage<'_>) -> ZcAction,
{
    let fd = sock.as_fd();
    // Hot path: no descriptor check, as in `zc_send`.
    let raw = fd.as_raw_fd();
    let mut name = RawAddr::empty();
    let mut state = RecvState {
        callback: &mut callback,
        fd,
        kept,
        panic: None,
    };
    let mut args = ffi::onload_zc_recv_args {
        cb: Some(recv_trampoline::<C>),
        user_ptr: std::ptr::from_mut(&mut state).cast::<c_void>(),
        flags: flags.0,
        ..Default::default()
    };
    args.msg.msghdr.msg_name = std::ptr::from_mut(&mut name.storage).cast();
    args.msg.msghdr.msg_namelen = name.len;
    // SAFETY: `args` is fully initialised; its callback is the trampoline for `state`'s
    // type, and `state` and `name` outlive the call.
    let rc = unsafe { ffi::onload_zc_recv(raw, &mut args) };
    if let Some(payload) = state.panic.take() {
        resume_unwind(payload);
    }
    neg_errno(RECV, rc).map(|_| ())
}

/// Reads one datagram that reached accelerated UDP socket `sock` through the kernel (after
/// [`zc_recv`] failed with `ENOTEMPTY`) into `buf`; returns its length and sender.
///
/// * **Under Onload:** as `recvmsg()`; `flags` are `recvmsg()`'s (`libc::MSG_DONTWAIT`, ...).
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`).
pub fn recvmsg_kernel<F: AsRawFd + ?Sized>(
    sock: &F,
    buf: &mut [u8],
    flags: c_int,
) -> Result<(usize, Option<SocketAddr>)> {
    const CALL: &str = "onload_recvmsg_kernel";
    let raw = sock.as_raw_fd();
    crate::error::check_socket(CALL, raw)?;
    let mut name = RawAddr::empty();
    let mut iov = ffi::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    let mut hdr = ffi::msghdr {
        msg_name: std::ptr::from_mut(&mut name.storage).cast(),
        msg_namelen: name.len,
        msg_iov: &mut iov,
        msg_iovlen: 1,
        ..Default::default()
    };
    // SAFETY: `hdr` points at `iov` (over `buf`) and `name`, all alive for the call.
    let rc = unsafe { ffi::onload_recvmsg_kernel(raw, &mut hdr, flags) };
    let n = if rc == -1 {
        crate::error::minus_one_errno(CALL, rc)?
    } else {
        neg_errno(CALL, rc)?
    };
    Ok((n as usize, to_std(&name.storage, hdr.msg_namelen)))
}

/// The C callback of [`set_recv_filter`].
extern "C" fn filter_trampoline<C>(
    msg: *mut ffi::onload_zc_msg,
    arg: *mut c_void,
    flags: c_int,
) -> ffi::onload_zc_callback_rc
where
    C: Fn(&ZcRecvMessage<'_>) + Send + Sync + 'static,
{
    // SAFETY: `arg` is the leaked `Box<C>` given at installation, never freed; `msg` is valid
    // for this call.
    let (filter, msg) = unsafe { (&*arg.cast::<C>(), &*msg) };
    let view = ZcRecvMessage { msg, flags };
    if catch_unwind(AssertUnwindSafe(|| filter(&view))).is_err() {
        eprintln!("onload-ext: a receive filter panicked; the message is delivered anyway");
    }
    ffi::onload_zc_callback_rc_ONLOAD_ZC_CONTINUE
}

/// Installs `filter` on accelerated socket `sock`: Onload calls it with each message that a
/// normal `recv()`/`recvmsg()` is about to return, on the receiving thread. The message is
/// always delivered afterwards (Onload supports no other outcome).
///
/// The closure lives as long as the process: Onload keeps it for the socket's life and has no
/// call to remove it (installing another one keeps the first alive too). A panic in it is
/// caught, reported on stderr, and the message delivered. Do not combine with [`zc_recv`] on
/// the same socket.
///
/// * **Under Onload:** `Ok(())`; [`Error::Os`] with `ESOCKTNOSUPPORT` for a socket handed to
///   the kernel.
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`), and the closure
///   is dropped.
pub fn set_recv_filter<F, C>(sock: &F, filter: C) -> Result<()>
where
    F: AsRawFd + ?Sized,
    C: Fn(&ZcRecvMessage<'_>) + Send + Sync + 'static,
{
    const CALL: &str = "onload_set_recv_filter";
    let raw = sock.as_raw_fd();
    crate::error::check_socket(CALL, raw)?;
    let arg = Box::into_raw(Box::new(filter));
    // SAFETY: the trampoline matches the closure type behind `arg`, which stays alive (leaked)
    // once installed.
    let rc =
        unsafe { ffi::onload_set_recv_filter(raw, Some(filter_trampoline::<C>), arg.cast(), 0) };
    if rc < 0 {
        // SAFETY: not installed: we still own the box, made just above.
        drop(unsafe { Box::from_raw(arg) });
    }
    neg_errno(CALL, rc).map(|_| ())
}
