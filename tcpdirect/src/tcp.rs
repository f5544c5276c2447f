//! TCP: listeners, handles not yet connected, and connections with their views.

use std::ffi::c_int;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::mem::ManuallyDrop;
use std::net::{SocketAddr, SocketAddrV4};
use std::ops::Deref;
use std::ptr::NonNull;

use zf_sys::{iovec, zft, zft_msg};

use crate::addr::RawAddr;
use crate::error::{Error, Result, check, check_isize};
use crate::keys::{ListenerKey, TcpHandleKey, TcpKey};
use crate::msg_box;
use crate::stack::{Obj, Stack};
use crate::timestamp::{PacketReport, ReportFlags, Timestamp, duration};

/// A TCP connection's state, as `zft_state` reports it (Linux `TCP_*` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TcpState {
    /// Connected.
    Established,
    /// `connect` sent a SYN; no answer yet.
    SynSent,
    /// A SYN arrived and was answered.
    SynRecv,
    /// We closed (FIN sent), not yet acknowledged.
    FinWait1,
    /// Our FIN was acknowledged; waiting for the peer's.
    FinWait2,
    /// Both sides closed; waiting out stray segments.
    TimeWait,
    /// Closed (or never opened, or reset).
    Closed,
    /// The peer closed; we may still send.
    CloseWait,
    /// We closed after the peer did; waiting for our FIN's ACK.
    LastAck,
    /// Listening.
    Listen,
    /// Both sides closed at once.
    Closing,
    /// A value this crate does not know.
    Other(i32),
}

impl TcpState {
    fn from_raw(v: c_int) -> TcpState {
        match v {
            1 => TcpState::Established,
            2 => TcpState::SynSent,
            3 => TcpState::SynRecv,
            4 => TcpState::FinWait1,
            5 => TcpState::FinWait2,
            6 => TcpState::TimeWait,
            7 => TcpState::Closed,
            8 => TcpState::CloseWait,
            9 => TcpState::LastAck,
            10 => TcpState::Listen,
            11 => TcpState::Closing,
            v => TcpState::Other(v),
        }
    }
}

/// What [`Stack::connect`] gives back when the connect fails: the error, and the handle,
/// still valid, to retry or free.
#[derive(Debug)]
pub struct ConnectError {
    /// Why the connect failed.
    pub error: Error,
    /// The handle, still unconnected.
    pub handle: TcpHandleKey,
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl From<ConnectError> for Error {
    /// The error alone; the handle stays in the stack until the stack is dropped.
    fn from(e: ConnectError) -> Error {
        e.error
    }
}

impl Stack {
    fn listener_ptr(&self, key: ListenerKey) -> Result<*mut zf_sys::zftl> {
        match self.lookup(key.0, ListenerKey::KIND)? {
            Obj::Listener(p) => Ok(p.as_ptr()),
            _ => Err(Error::StaleKey {
                kind: ListenerKey::KIND,
            }),
        }
    }

    fn handle_ptr(&self, key: &TcpHandleKey) -> Result<*mut zf_sys::zft_handle> {
        match self.lookup(key.0, TcpHandleKey::KIND)? {
            Obj::Handle(p) => Ok(p.as_ptr()),
            _ => Err(Error::StaleKey {
                kind: TcpHandleKey::KIND,
            }),
        }
    }

    #[inline]
    pub(crate) fn tcp_ptr(&self, key: TcpKey) -> Result<NonNull<zft>> {
        match self.lookup(key.0, TcpKey::KIND)? {
            Obj::Tcp(p, _) => Ok(*p),
            _ => Err(Error::StaleKey { kind: TcpKey::KIND }),
        }
    }

    /// Listens for TCP connections on `addr` (`zftl_listen`); a specific local address, not
    /// `0.0.0.0`. Port 0 picks one ([`Stack::listener_addr`] says which).
    pub fn listen(&mut self, addr: SocketAddr) -> Result<ListenerKey> {
        let a = RawAddr::new("listen address", addr)?;
        let mut tl = std::ptr::null_mut();
        // SAFETY: live stack and attributes; valid address and out pointer.
        let rc = unsafe {
            zf_sys::zftl_listen(
                self.as_ptr(),
                a.as_ptr(),
                RawAddr::LEN,
                self.attr().as_ptr(),
                &mut tl,
            )
        };
        check("zftl_listen", rc)?;
        let p =
            NonNull::new(tl).ok_or_else(|| Error::call("zftl_listen", -(libc::ENOMEM as i64)))?;
        Ok(ListenerKey(self.insert(Obj::Listener(p))))
    }

    /// Accepts a pending connection (`zftl_accept`); `None` when none is waiting (run the
    /// reactor and retry, or wait on the listener with a muxer).
    pub fn accept(&mut self, listener: ListenerKey) -> Result<Option<TcpKey>> {
        let tl = self.listener_ptr(listener)?;
        let mut z = std::ptr::null_mut();
        // SAFETY: live listener, valid out pointer.
        let rc = unsafe { zf_sys::zftl_accept(tl, &mut z) };
        if rc == -libc::EAGAIN {
            return Ok(None);
        }
        check("zftl_accept", rc)?;
        let p =
            NonNull::new(z).ok_or_else(|| Error::call("zftl_accept", -(libc::EINVAL as i64)))?;
        Ok(Some(TcpKey(
            self.insert(Obj::Tcp(p, msg_box::alloc::<TcpMsg>())),
        )))
    }

    /// The address a listener listens on (`zftl_getname`).
    pub fn listener_addr(&self, listener: ListenerKey) -> Result<SocketAddrV4> {
        let tl = self.listener_ptr(listener)?;
        let mut a = RawAddr::unspecified();
        let mut len = RawAddr::LEN;
        // SAFETY: live listener, buffer of `len` bytes.
        unsafe { zf_sys::zftl_getname(tl, a.as_mut_ptr(), &mut len) };
        Ok(a.get())
    }

    /// Allocates a TCP zocket to connect (`zft_alloc`); bind it with
    /// [`Stack::bind_tcp_handle`] if needed, then [`Stack::connect`].
    pub fn tcp_handle(&mut self) -> Result<TcpHandleKey> {
        let mut h = std::ptr::null_mut();
        // SAFETY: live stack and attributes, valid out pointer.
        let rc = unsafe { zf_sys::zft_alloc(self.as_ptr(), self.attr().as_ptr(), &mut h) };
        check("zft_alloc", rc)?;
        let p = NonNull::new(h).ok_or_else(|| Error::call("zft_alloc", -(libc::ENOMEM as i64)))?;
        Ok(TcpHandleKey(self.insert(Obj::Handle(p))))
    }

    /// Binds an unconnected zocket to a local address (`zft_addr_bind`).
    pub fn bind_tcp_handle(&self, handle: &TcpHandleKey, addr: SocketAddr) -> Result<()> {
        let h = self.handle_ptr(handle)?;
        let a = RawAddr::new("bind address", addr)?;
        // SAFETY: live handle, valid address.
        check("zft_addr_bind", unsafe {
            zf_sys::zft_addr_bind(h, a.as_ptr(), RawAddr::LEN, 0)
        })
        .map(drop)
    }

    /// The local address of an unconnected zocket (`zft_handle_getname`).
    pub fn tcp_handle_addr(&self, handle: &TcpHandleKey) -> Result<SocketAddrV4> {
        let h = self.handle_ptr(handle)?;
        let mut a = RawAddr::unspecified();
        let mut len = RawAddr::LEN;
        // SAFETY: live handle, buffer of `len` bytes.
        unsafe { zf_sys::zft_handle_getname(h, a.as_mut_ptr(), &mut len) };
        Ok(a.get())
    }

    /// Connects (`zft_connect`), using up the handle. The zocket comes back in
    /// [`TcpState::SynSent`]: run the reactor until it is established (or failed: see
    /// [`TcpRef::error`]). On failure the handle comes back with the error.
    pub fn connect(
        &mut self,
        mut handle: TcpHandleKey,
        to: SocketAddr,
    ) -> std::result::Result<TcpKey, ConnectError> {
        let h = match self.handle_ptr(&handle) {
            Ok(h) => h,
            Err(error) => return Err(ConnectError { error, handle }),
        };
        let a = match RawAddr::new("connect address", to) {
            Ok(a) => a,
            Err(error) => return Err(ConnectError { error, handle }),
        };
        let mut z = std::ptr::null_mut();
        // SAFETY: live handle, valid address and out pointer.
        let rc = unsafe { zf_sys::zft_connect(h, a.as_ptr(), RawAddr::LEN, &mut z) };
        let Some(p) = NonNull::new(z).filter(|_| rc >= 0) else {
            let error = Error::call(
                "zft_connect",
                if rc < 0 {
                    rc.into()
                } else {
                    -(libc::EINVAL as i64)
                },
            );
            return Err(ConnectError { error, handle });
        };
        // The handle is gone (it became the zocket): its slot now holds the connection.
        let obj = match self.remove(handle.0, TcpHandleKey::KIND) {
            Ok(_) => Obj::Tcp(p, msg_box::alloc::<TcpMsg>()),
            Err(error) => return Err(ConnectError { error, handle }),
        };
        self.restore(&mut handle.0, obj);
        Ok(TcpKey(handle.0))
    }

    /// [`Stack::tcp_handle`] then [`Stack::connect`]; the handle is freed if the connect
    /// fails.
    pub fn tcp_connect(&mut self, to: SocketAddr) -> Result<TcpKey> {
        let h = self.tcp_handle()?;
        match self.connect(h, to) {
            Ok(k) => Ok(k),
            Err(ConnectError { error, handle }) => {
                let _ = self.free_tcp_handle(handle);
                Err(error)
            }
        }
    }

    /// The connection `key` names, for every TCP call (receive included). The view borrows
    /// the stack mutably: only one exists at a time, which is what makes a zero-copy receive
    /// exclusive.
    #[inline]
    pub fn tcp(&mut self, key: TcpKey) -> Result<Tcp<'_>> {
        match self.lookup(key.0, TcpKey::KIND)? {
            &Obj::Tcp(raw, msg) => Ok(Tcp {
                inner: TcpRef { stack: self, raw },
                msg,
            }),
            _ => Err(Error::StaleKey { kind: TcpKey::KIND }),
        }
    }

    /// The connection `key` names, for every call but the receives. Shared: a zero-copy
    /// message's [`TcpZc::stack`] gives one, to send while the message is held.
    #[inline]
    pub fn tcp_ref(&self, key: TcpKey) -> Result<TcpRef<'_>> {
        let raw = self.tcp_ptr(key)?;
        Ok(TcpRef { stack: self, raw })
    }
}

/// A shared view of one TCP connection: send, state, addresses, timestamps, alternatives,
/// delegated sends. Borrowed from [`Stack::tcp_ref`] (or from a [`Tcp`], to which it derefs).
#[derive(Clone, Copy)]
pub struct TcpRef<'s> {
    stack: &'s Stack,
    raw: NonNull<zft>,
}

impl<'s> TcpRef<'s> {
    /// The raw `struct zft*` (owned by the stack).
    #[inline]
    pub fn as_ptr(&self) -> *mut zft {
        self.raw.as_ptr()
    }

    /// The stack the zocket belongs to.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.stack
    }

    /// The connection's state (`zft_state`).
    #[inline]
    pub fn state(&self) -> TcpState {
        // SAFETY: live zocket (the stack owns it and is borrowed for 's).
        TcpState::from_raw(unsafe { zf_sys::zft_state(self.as_ptr()) })
    }

    /// The connection's pending error, as `SO_ERROR` (`zft_error`): e.g.
    /// `ConnectionRefused`, `ConnectionReset`, `TimedOut`; `None` when there is none.
    pub fn error(&self) -> Option<io::Error> {
        // SAFETY: live zocket.
        match unsafe { zf_sys::zft_error(self.as_ptr()) } {
            0 => None,
            e => Some(io::Error::from_raw_os_error(e.abs())),
        }
    }

    /// The local and peer addresses (`zft_getname`).
    pub fn addrs(&self) -> (SocketAddrV4, SocketAddrV4) {
        let (mut l, mut r) = (RawAddr::unspecified(), RawAddr::unspecified());
        let (mut ll, mut rl) = (RawAddr::LEN, RawAddr::LEN);
        // SAFETY: live zocket; buffers of the lengths given.
        unsafe {
            zf_sys::zft_getname(
                self.as_ptr(),
                l.as_mut_ptr(),
                &mut ll,
                r.as_mut_ptr(),
                &mut rl,
            )
        };
        (l.get(), r.get())
    }

    /// The local address.
    pub fn local_addr(&self) -> SocketAddrV4 {
        self.addrs().0
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddrV4 {
        self.addrs().1
    }

    /// Sends bytes (`zft_send_single`); returns how many were queued, which may be fewer
    /// than given. `WouldBlock` when the send queue is full: run the reactor and retry.
    /// An empty buffer sends nothing and returns 0.
    #[inline]
    pub fn send(&self, buf: &[u8]) -> Result<usize> {
        self.send_flags(buf, 0)
    }

    /// [`TcpRef::send`] with `MSG_MORE`: more data follows, so a partly filled segment may
    /// wait for it. The last send of a message must be a plain one.
    pub fn send_more(&self, buf: &[u8]) -> Result<usize> {
        self.send_flags(buf, libc::MSG_MORE)
    }

    #[inline]
    fn send_flags(&self, buf: &[u8], flags: c_int) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        // SAFETY: live zocket; the buffer is valid for its length.
        let rc = unsafe {
            zf_sys::zft_send_single(self.as_ptr(), buf.as_ptr().cast(), buf.len(), flags)
        };
        check_isize("zft_send_single", rc)
    }

    /// Sends several buffers as one (`zft_send`), `more` for `MSG_MORE`. Empty slices are
    /// refused (TCPDirect forbids zero-length iovecs).
    #[inline]
    pub fn send_vectored(&self, bufs: &[IoSlice<'_>], more: bool) -> Result<usize> {
        if bufs.iter().any(|b| b.is_empty()) {
            return Err(Error::InvalidArgument {
                what: "zft_send: zero-length buffers are not allowed".into(),
            });
        }
        let n = iov_count("zft_send", bufs.len())?;
        if n == 0 {
            return Ok(0);
        }
        let flags = if more { libc::MSG_MORE } else { 0 };
        // SAFETY: live zocket; IoSlice is ABI-compatible with struct iovec, and each buffer
        // is valid for its length.
        let rc =
            unsafe { zf_sys::zft_send(self.as_ptr(), bufs.as_ptr().cast::<iovec>(), n, flags) };
        check_isize("zft_send", rc)
    }

    /// Takes the send path without sending, to keep it in cache (`zft_send_single_warm`).
    pub fn send_warm(&self, buf: &[u8]) -> Result<()> {
        // SAFETY: live zocket; valid buffer.
        let rc =
            unsafe { zf_sys::zft_send_single_warm(self.as_ptr(), buf.as_ptr().cast(), buf.len()) };
        check_isize("zft_send_single_warm", rc).map(drop)
    }

    /// How many bytes a send would accept now (`zft_send_space`).
    #[inline]
    pub fn send_space(&self) -> Result<usize> {
        let mut s = 0usize;
        // SAFETY: live zocket, valid out pointer.
        check("zft_send_space", unsafe {
            zf_sys::zft_send_space(self.as_ptr(), &mut s)
        })?;
        Ok(s)
    }

    /// The maximum segment size (`zft_get_mss`).
    #[inline]
    pub fn mss(&self) -> Result<usize> {
        // SAFETY: live zocket.
        check("zft_get_mss", unsafe { zf_sys::zft_get_mss(self.as_ptr()) }).map(|v| v as usize)
    }

    /// The Ethernet + IP + TCP header size of a segment (`zft_get_header_size`).
    pub fn header_size(&self) -> usize {
        // SAFETY: live zocket.
        unsafe { zf_sys::zft_get_header_size(self.as_ptr()) as usize }
    }

    /// Closes our side: a FIN after the queued data (`zft_shutdown_tx`). Receiving goes on.
    pub fn shutdown_tx(&self) -> Result<()> {
        // SAFETY: live zocket.
        check("zft_shutdown_tx", unsafe {
            zf_sys::zft_shutdown_tx(self.as_ptr())
        })
        .map(drop)
    }

    /// Fills `out` with reports of sent packets (`zft_get_tx_timestamps`); returns how many.
    /// Needs the stack attribute `tx_timestamping`.
    pub fn tx_timestamps<'b>(&self, out: &'b mut [PacketReport]) -> Result<&'b [PacketReport]> {
        let mut n = iov_count("zft_get_tx_timestamps", out.len())?;
        // SAFETY: live zocket; PacketReport is repr(transparent) over zf_pkt_report and
        // `out` has room for `n` of them.
        let rc = unsafe {
            zf_sys::zft_get_tx_timestamps(self.as_ptr(), out.as_mut_ptr().cast(), &mut n)
        };
        check("zft_get_tx_timestamps", rc)?;
        Ok(&out[..(n.max(0) as usize).min(out.len())])
    }
}

/// A TCP connection with every call, receives included: from [`Stack::tcp`]. Derefs to
/// [`TcpRef`] for the rest.
pub struct Tcp<'s> {
    inner: TcpRef<'s>,
    msg: NonNull<TcpMsg>,
}

impl<'s> Deref for Tcp<'s> {
    type Target = TcpRef<'s>;
    #[inline]
    fn deref(&self) -> &TcpRef<'s> {
        &self.inner
    }
}

impl<'s> Tcp<'s> {
    /// Copies received bytes into `buf` (`zft_recv`): `Ok(n)` with n > 0, `Ok(0)` at end
    /// of stream (or for an empty `buf`), `WouldBlock` when nothing has arrived.
    #[inline]
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let v = iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: live zocket; one iovec valid for writes of its length.
        let rc = unsafe { zf_sys::zft_recv(self.as_ptr(), &v, 1, 0) };
        check("zft_recv", rc).map(|n| n as usize)
    }

    /// [`Tcp::recv`] into several buffers.
    pub fn recv_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> Result<usize> {
        let n = iov_count("zft_recv", bufs.len())?;
        if n == 0 {
            return Ok(0);
        }
        // SAFETY: live zocket; IoSliceMut is ABI-compatible with struct iovec and each is
        // valid for writes of its length.
        let rc = unsafe { zf_sys::zft_recv(self.as_ptr(), bufs.as_ptr().cast(), n, 0) };
        check("zft_recv", rc).map(|n| n as usize)
    }

    /// Zero-copy receive (`zft_zc_recv`) of up to [`ZC_MAX_PACKETS`] packets: `None` when
    /// nothing has arrived. The message borrows this view, so no other receive can happen
    /// while it is held; dropping it releases the buffers (`zft_zc_recv_done`).
    #[inline]
    pub fn zc_recv(&mut self) -> Option<TcpZc<'_, 's>> {
        self.zc_recv_n(ZC_MAX_PACKETS)
    }

    /// Zero-copy receive of up to `max` packets (1 to [`ZC_MAX_PACKETS`]; other values are
    /// brought into that range).
    #[inline]
    pub fn zc_recv_max(&mut self, max: usize) -> Option<TcpZc<'_, 's>> {
        self.zc_recv_n(max.clamp(1, ZC_MAX_PACKETS))
    }

    /// Overlapped receive, after [`Stack::muxer_wait`] reported
    /// [`Readiness::IN_OVERLAPPED`](crate::Readiness::IN_OVERLAPPED) for this connection (it
    /// must have been added with that bit): a packet is still arriving. Waits until its first
    /// `want` bytes are there (all of it, if it is shorter) (`zft_zc_recv` with
    /// `ZF_OVERLAPPED_WAIT`) and returns them, not yet verified, in a [`TcpZcPending`]; its
    /// [`complete`](TcpZcPending::complete) says whether the packet arrived good.
    ///
    /// `None`: the overlapped receive was abandoned, or there is none (no such event, or the
    /// muxer has been waited on since). Nothing is held: go back to the muxer, which reports
    /// the packet as plain [`Readiness::IN`](crate::Readiness::IN) if it arrives good.
    #[inline]
    pub fn zc_recv_overlapped(&mut self, want: usize) -> Option<TcpZcPending<'_, 's>> {
        if self.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_WAIT, want) {
            Some(TcpZcPending { tcp: self })
        } else {
            None
        }
    }

    /// One overlapped step (`zft_zc_recv` with `flag`, room for the one packet, `want` in
    /// `iov[0].iov_len` for a wait); true when the message then holds the packet (a wait's
    /// bytes, or the completed packet).
    #[inline]
    fn overlapped_step(&mut self, flag: zf_sys::zf_zc_flags, want: usize) -> bool {
        let m = self.msg.as_ptr();
        // SAFETY: live zocket; the connection's message has room for its first iovec; no
        // message of this zocket is held (it would borrow `self`), so nothing else uses the
        // message now.
        unsafe {
            (*m).m.iovcnt = 1;
            (*m).iov[0].iov_len = want;
            zf_sys::zft_zc_recv(self.as_ptr(), &raw mut (*m).m, flag as c_int);
            (*m).m.iovcnt > 0
        }
    }

    #[inline]
    fn zc_recv_n(&mut self, max: usize) -> Option<TcpZc<'_, 's>> {
        let m = self.msg.as_ptr();
        // SAFETY: live zocket; the connection's message has room for `max` (at most
        // ZC_MAX_PACKETS) iovecs; no zero-copy message of this zocket is held (it would
        // borrow `self`), so nothing else reads or writes the message now.
        let got = unsafe {
            (*m).m.iovcnt = max as c_int;
            zf_sys::zft_zc_recv(self.as_ptr(), &raw mut (*m).m, 0);
            (*m).m.iovcnt
        };
        if got <= 0 {
            return None;
        }
        Some(TcpZc { tcp: self })
    }
}

impl io::Read for Tcp<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.recv(buf).map_err(Into::into)
    }
    fn read_vectored(&mut self, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
        self.recv_vectored(bufs).map_err(Into::into)
    }
}

impl io::Write for TcpRef<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.send(buf).map_err(Into::into)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        let nonempty = bufs
            .iter()
            .position(|b| !b.is_empty())
            .unwrap_or(bufs.len());
        let rest = &bufs[nonempty..];
        let len = rest.iter().position(|b| b.is_empty()).unwrap_or(rest.len());
        self.send_vectored(&rest[..len], false).map_err(Into::into)
    }
    /// Nothing to flush: the reactor sends queued data.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl io::Write for Tcp<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }
    fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        self.inner.write_vectored(bufs)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl fmt::Debug for TcpRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpRef")
            .field("state", &self.state())
            .field("addrs", &self.addrs())
            .finish()
    }
}

impl fmt::Debug for Tcp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Tcp").field(&self.inner).finish()
    }
}

/// The bytes an iovec from a zero-copy receive points at (empty for a zero-length one,
/// whose pointer may be null, as the end-of-stream marker's is).
///
/// The caller must be holding the message the iovec came from, and bound the slice's
/// lifetime by that borrow.
#[inline]
pub(crate) fn iov_slice(v: &iovec) -> &[u8] {
    if v.iov_len == 0 || v.iov_base.is_null() {
        return &[];
    }
    // SAFETY: TCPDirect keeps a held message's buffers valid and unchanged until it is
    // released; the caller's borrow of the message outlives the slice.
    unsafe { std::slice::from_raw_parts(v.iov_base as *const u8, v.iov_len) }
}

/// The iovec count of a C call, or an error naming it.
pub(crate) fn iov_count(call: &'static str, n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::InvalidArgument {
        what: format!("{call}: {n} buffers is more than the call can take"),
    })
}

/// The most packets one zero-copy receive returns.
pub const ZC_MAX_PACKETS: usize = 8;

/// The message each connection keeps for its zero-copy receives: zf-sys's [`zf_sys::TcpMsg`]
/// with room for [`ZC_MAX_PACKETS`] iovecs, as the C samples declare it. The stack keeps one
/// per connection (allocated with it, see [`crate::msg_box`]), so a receive writes only
/// `iovcnt` before the call, as C code reusing its message does.
pub(crate) type TcpMsg = zf_sys::TcpMsg<ZC_MAX_PACKETS>;

/// A zero-copy TCP message: up to [`ZC_MAX_PACKETS`] received packets, borrowed from the stack's buffers
/// until dropped (which releases them, `zft_zc_recv_done`) or released with
/// [`TcpZc::done`] / [`TcpZc::release_some`].
///
/// It borrows its [`Tcp`] view mutably, so no other receive on the stack can happen while
/// it is held; sends can ([`TcpZc::zocket`], [`TcpZc::stack`]). End of stream is a
/// zero-length last packet ([`TcpZc::is_eof`]).
pub struct TcpZc<'a, 's> {
    tcp: &'a mut Tcp<'s>,
}

impl<'a, 's> TcpZc<'a, 's> {
    #[inline]
    fn msg(&self) -> &TcpMsg {
        // SAFETY: the connection's message, alive as long as the connection (which the
        // view's borrow of the stack keeps); only this guard, which holds the one view
        // mutably, reaches it while it lives.
        unsafe { self.tcp.msg.as_ref() }
    }

    #[inline]
    fn msg_ptr(&self) -> *mut zft_msg {
        // SAFETY: a field of the live message (above), no reference created.
        unsafe { &raw mut (*self.tcp.msg.as_ptr()).m }
    }

    /// The packets' payloads.
    #[inline]
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        // The slices borrow `self`; releasing needs `self` by value or its drop.
        self.msg().iovs().iter().map(iov_slice)
    }

    /// The `i`th packet's payload.
    #[inline]
    pub fn packet(&self, i: usize) -> Option<&[u8]> {
        self.iter().nth(i)
    }

    /// How many packets the message holds (an EOF marker counts as one).
    #[inline]
    pub fn packets(&self) -> usize {
        self.msg().iovs().len()
    }

    /// Total payload bytes in the message.
    #[inline]
    pub fn len(&self) -> usize {
        self.msg().iovs().iter().map(|v| v.iov_len).sum()
    }

    /// Whether the message carries no bytes (an EOF marker only).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the message ends with the end-of-stream marker (a zero-length packet).
    #[inline]
    pub fn is_eof(&self) -> bool {
        self.msg().iovs().last().is_some_and(|v| v.iov_len == 0)
    }

    /// How many more packets were waiting after these (`pkts_left`).
    #[inline]
    pub fn packets_left(&self) -> usize {
        self.msg().m.pkts_left.max(0) as usize
    }

    /// The receive timestamp of packet `i` (`zft_pkt_get_timestamp`); needs the stack
    /// attribute `rx_timestamping`.
    pub fn timestamp(&self, i: usize) -> Result<Timestamp> {
        let idx = c_int::try_from(i).map_err(|_| Error::InvalidArgument {
            what: format!("zft_pkt_get_timestamp: packet index {i}"),
        })?;
        let mut ts = zf_sys::timespec::default();
        let mut flags = 0;
        // SAFETY: live zocket; the message as zft_zc_recv filled it; valid out pointers.
        let rc = unsafe {
            zf_sys::zft_pkt_get_timestamp(
                self.tcp.as_ptr(),
                self.msg_ptr(),
                &mut ts,
                idx,
                &mut flags,
            )
        };
        check("zft_pkt_get_timestamp", rc)?;
        Ok(Timestamp {
            time: duration(&ts),
            flags: ReportFlags::from_bits_retain(flags as u16),
        })
    }

    /// The connection, to send on while holding the message (no receives).
    #[inline]
    pub fn zocket(&self) -> &TcpRef<'s> {
        self.tcp
    }

    /// The stack, for sends on other zockets and reactor calls while holding the message.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.tcp.stack()
    }

    /// Releases every packet (`zft_zc_recv_done`): `Ok(true)` while the connection is open,
    /// `Ok(false)` after end of stream, or the connection's error (`ConnectionReset`,
    /// `ConnectionRefused`, `TimedOut`, ...).
    #[inline]
    pub fn done(self) -> Result<bool> {
        let this = ManuallyDrop::new(self);
        // SAFETY: live zocket; the message as zft_zc_recv filled it, released once (the
        // guard is not dropped).
        let rc = unsafe { zf_sys::zft_zc_recv_done(this.tcp.as_ptr(), this.msg_ptr()) };
        check("zft_zc_recv_done", rc).map(|v| v > 0)
    }

    /// Releases the first `len` bytes only (`zft_zc_recv_done_some`); the rest is received
    /// again by the next receive. Same result as [`TcpZc::done`].
    #[inline]
    pub fn release_some(self, len: usize) -> Result<bool> {
        let this = ManuallyDrop::new(self);
        let len = len.min(this.len());
        // SAFETY: as in done; `len` is at most the message's length.
        let rc = unsafe { zf_sys::zft_zc_recv_done_some(this.tcp.as_ptr(), this.msg_ptr(), len) };
        check("zft_zc_recv_done_some", rc).map(|v| v > 0)
    }
}

impl Drop for TcpZc<'_, '_> {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: live zocket; the message as zft_zc_recv filled it; released once.
        unsafe { zf_sys::zft_zc_recv_done(self.tcp.as_ptr(), self.msg_ptr()) };
    }
}

impl fmt::Debug for TcpZc<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpZc")
            .field("packets", &self.packets())
            .field("len", &self.len())
            .field("eof", &self.is_eof())
            .finish()
    }
}

/// A packet still arriving, from [`Tcp::zc_recv_overlapped`]: its first bytes, readable
/// before the NIC has verified the frame. Act on them speculatively, then
/// [`complete`](TcpZcPending::complete): a result computed from the bytes of a packet that
/// fails verification must be thrown away.
///
/// It borrows the connection's view mutably, like [`TcpZc`], so no other receive can happen
/// meanwhile; sends can ([`TcpZcPending::zocket`], [`TcpZcPending::stack`]). Do not run the
/// reactor before completing it. Dropping it completes it and releases the packet, as
/// dropping the completed message would.
#[must_use = "complete the overlapped receive to learn whether the packet is good"]
pub struct TcpZcPending<'a, 's> {
    tcp: &'a mut Tcp<'s>,
}

impl<'a, 's> TcpZcPending<'a, 's> {
    /// The bytes that have arrived (as many as the last wait asked for, or the whole
    /// payload if shorter). Not yet verified.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: the connection's message, alive as long as the connection (kept by the
        // view's borrow of the stack); only this guard, holding the one view mutably, reaches
        // it. The bytes stay in place until the receive is completed, which needs `self`.
        let m = unsafe { self.tcp.msg.as_ref() };
        iov_slice(&m.iov[0])
    }

    /// How many bytes [`TcpZcPending::data`] holds.
    #[inline]
    pub fn len(&self) -> usize {
        self.data().len()
    }

    /// Whether [`TcpZcPending::data`] is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.data().is_empty()
    }

    /// Waits for more of the packet: its first `want` bytes (`ZF_OVERLAPPED_WAIT` again).
    /// `None`: abandoned, as from [`Tcp::zc_recv_overlapped`] (nothing held, nothing to
    /// complete).
    #[inline]
    pub fn wait(self, want: usize) -> Option<Self> {
        let tcp = self.into_tcp();
        if tcp.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_WAIT, want) {
            Some(TcpZcPending { tcp })
        } else {
            None
        }
    }

    /// Waits for the whole packet and its verification (`zft_zc_recv` with
    /// `ZF_OVERLAPPED_COMPLETE`): the packet as a zero-copy message, to use and release as
    /// any other, or `None` when it failed verification (it is dropped; nothing to release).
    #[inline]
    pub fn complete(self) -> Option<TcpZc<'a, 's>> {
        let tcp = self.into_tcp();
        if tcp.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_COMPLETE, 0) {
            Some(TcpZc { tcp })
        } else {
            None
        }
    }

    /// The connection, to send on while the packet arrives (no receives).
    #[inline]
    pub fn zocket(&self) -> &TcpRef<'s> {
        self.tcp
    }

    /// The stack, for sends on other zockets while the packet arrives.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.tcp.stack()
    }

    /// The view, moved out of the guard without running its `Drop`.
    #[inline]
    fn into_tcp(self) -> &'a mut Tcp<'s> {
        let this = ManuallyDrop::new(self);
        // SAFETY: `this` is neither used nor dropped again, so the reference is moved out of
        // it exactly once.
        unsafe { std::ptr::read(&this.tcp) }
    }
}

impl Drop for TcpZcPending<'_, '_> {
    fn drop(&mut self) {
        if self
            .tcp
            .overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_COMPLETE, 0)
        {
            // The completed packet, released as TcpZc's drop does.
            drop(TcpZc {
                tcp: &mut *self.tcp,
            });
        }
    }
}

impl fmt::Debug for TcpZcPending<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpZcPending")
            .field("len", &self.len())
            .finish()
    }
}
