//! UDP: receive zockets (`zfur`) and transmit zockets (`zfut`).

use std::ffi::c_int;
use std::fmt;
use std::io::IoSlice;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::ptr::NonNull;

use zf_sys::{iphdr, udphdr, zfur, zfur_msg, zfut};

use crate::addr::RawAddr;
use crate::error::{Error, Result, check};
use crate::keys::{UdpRxKey, UdpTxKey};
use crate::msg_box;
use crate::stack::{Obj, Stack};
use crate::tcp::{iov_count, iov_slice};
use crate::timestamp::{PacketReport, ReportFlags, Timestamp, duration};

impl Stack {
    #[inline]
    pub(crate) fn udp_rx_ptr(&self, key: UdpRxKey) -> Result<NonNull<zfur>> {
        match self.lookup(key.0, UdpRxKey::KIND)? {
            Obj::UdpRx(p, _) => Ok(*p),
            _ => Err(Error::StaleKey {
                kind: UdpRxKey::KIND,
            }),
        }
    }

    #[inline]
    pub(crate) fn udp_tx_ptr(&self, key: UdpTxKey) -> Result<NonNull<zfut>> {
        self.udp_tx_parts(key).map(|(p, _)| p)
    }

    #[inline]
    fn udp_tx_parts(&self, key: UdpTxKey) -> Result<(NonNull<zfut>, usize)> {
        match self.lookup(key.0, UdpTxKey::KIND)? {
            Obj::UdpTx(p, mss) => Ok((*p, *mss)),
            _ => Err(Error::StaleKey {
                kind: UdpTxKey::KIND,
            }),
        }
    }

    /// Allocates a UDP receive zocket (`zfur_alloc`); bind it with [`UdpRx::bind`].
    pub fn udp_receiver(&mut self) -> Result<UdpRxKey> {
        let mut p = std::ptr::null_mut();
        // SAFETY: live stack and attributes, valid out pointer.
        let rc = unsafe { zf_sys::zfur_alloc(&mut p, self.as_ptr(), self.attr().as_ptr()) };
        check("zfur_alloc", rc)?;
        let p = NonNull::new(p).ok_or_else(|| Error::call("zfur_alloc", -(libc::ENOMEM as i64)))?;
        Ok(UdpRxKey(
            self.insert(Obj::UdpRx(p, msg_box::alloc::<UdpMsg>())),
        ))
    }

    /// Allocates a UDP receive zocket bound to `local` (and, if given, only from `remote`);
    /// returns the key and the bound address (port 0 picks one).
    pub fn udp_bind(
        &mut self,
        local: SocketAddr,
        remote: Option<SocketAddr>,
    ) -> Result<(UdpRxKey, SocketAddrV4)> {
        let k = self.udp_receiver()?;
        match self.udp_rx(k).and_then(|r| r.bind(local, remote)) {
            Ok(a) => Ok((k, a)),
            Err(e) => {
                let _ = self.free(k);
                Err(e)
            }
        }
    }

    /// Allocates a UDP transmit zocket from `local` to the one destination `remote`
    /// (`zfut_alloc`).
    pub fn udp_sender(&mut self, local: SocketAddr, remote: SocketAddr) -> Result<UdpTxKey> {
        let l = RawAddr::new("UDP local address", local)?;
        let r = RawAddr::new("UDP remote address", remote)?;
        let mut p = std::ptr::null_mut();
        // SAFETY: live stack and attributes; valid addresses and out pointer.
        let rc = unsafe {
            zf_sys::zfut_alloc(
                &mut p,
                self.as_ptr(),
                l.as_ptr(),
                RawAddr::LEN,
                r.as_ptr(),
                RawAddr::LEN,
                0,
                self.attr().as_ptr(),
            )
        };
        check("zfut_alloc", rc)?;
        let p = NonNull::new(p).ok_or_else(|| Error::call("zfut_alloc", -(libc::ENOMEM as i64)))?;
        // SAFETY: the zocket was just allocated.
        let mss = unsafe { zf_sys::zfut_get_mss(p.as_ptr()) };
        Ok(UdpTxKey(self.insert(Obj::UdpTx(p, mss.max(0) as usize))))
    }

    /// The receive zocket `key` names. Borrows the stack mutably, so its zero-copy message
    /// is exclusive.
    #[inline]
    pub fn udp_rx(&mut self, key: UdpRxKey) -> Result<UdpRx<'_>> {
        match self.lookup(key.0, UdpRxKey::KIND)? {
            &Obj::UdpRx(raw, msg) => Ok(UdpRx {
                stack: self,
                raw,
                msg,
            }),
            _ => Err(Error::StaleKey {
                kind: UdpRxKey::KIND,
            }),
        }
    }

    /// The transmit zocket `key` names (shared: usable while a zero-copy message is held).
    #[inline]
    pub fn udp_tx(&self, key: UdpTxKey) -> Result<UdpTx<'_>> {
        let (raw, mss) = self.udp_tx_parts(key)?;
        Ok(UdpTx {
            stack: self,
            raw,
            mss,
        })
    }
}

/// A UDP receive zocket, from [`Stack::udp_rx`].
pub struct UdpRx<'s> {
    stack: &'s Stack,
    raw: NonNull<zfur>,
    msg: NonNull<UdpMsg>,
}

impl<'s> UdpRx<'s> {
    /// The raw `struct zfur*` (owned by the stack).
    #[inline]
    pub fn as_ptr(&self) -> *mut zfur {
        self.raw.as_ptr()
    }

    /// The stack.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.stack
    }

    /// Receives datagrams sent to `local` (a multicast address joins the group), from
    /// `remote` only if given (`zfur_addr_bind`). Returns the bound address (port 0 picks
    /// one).
    pub fn bind(&self, local: SocketAddr, remote: Option<SocketAddr>) -> Result<SocketAddrV4> {
        let (mut l, r) = bind_addrs(local, remote)?;
        let (rp, rl) = RawAddr::ptr_len(r.as_ref());
        // SAFETY: live zocket; valid addresses (laddr writable).
        let rc = unsafe {
            zf_sys::zfur_addr_bind(self.as_ptr(), l.as_mut_ptr(), RawAddr::LEN, rp, rl, 0)
        };
        check("zfur_addr_bind", rc)?;
        Ok(l.get())
    }

    /// Stops receiving what [`UdpRx::bind`] with the same addresses asked for
    /// (`zfur_addr_unbind`).
    pub fn unbind(&self, local: SocketAddr, remote: Option<SocketAddr>) -> Result<()> {
        let (l, r) = bind_addrs(local, remote)?;
        let (rp, rl) = RawAddr::ptr_len(r.as_ref());
        // SAFETY: live zocket; valid addresses.
        let rc =
            unsafe { zf_sys::zfur_addr_unbind(self.as_ptr(), l.as_ptr(), RawAddr::LEN, rp, rl, 0) };
        check("zfur_addr_unbind", rc).map(drop)
    }

    /// Zero-copy receive of one datagram (`zfur_zc_recv`): `None` when nothing has
    /// arrived. Dropping the message releases it (`zfur_zc_recv_done`); it borrows this
    /// view, so no other receive can happen meanwhile.
    #[inline]
    pub fn zc_recv(&mut self) -> Option<UdpZc<'_, 's>> {
        let m = self.msg.as_ptr();
        // SAFETY: live zocket; its message has room for the 1 iovec announced; no message of
        // this zocket is held (it would borrow self), so nothing else uses the message now.
        let got = unsafe {
            (*m).m.iovcnt = 1;
            zf_sys::zfur_zc_recv(self.as_ptr(), &raw mut (*m).m, 0);
            (*m).m.iovcnt
        };
        if got <= 0 {
            return None;
        }
        Some(UdpZc { rx: self })
    }

    /// Overlapped receive, after [`Stack::muxer_wait`] reported
    /// [`Readiness::IN_OVERLAPPED`](crate::Readiness::IN_OVERLAPPED) for this zocket (it must
    /// have been added with that bit): a datagram is still arriving. Waits until its first
    /// `want` bytes are there (all of it, if shorter) (`zfur_zc_recv` with
    /// `ZF_OVERLAPPED_WAIT`) and returns them, not yet verified, in a [`UdpZcPending`].
    ///
    /// `None`: abandoned, or there is none; nothing is held: go back to the muxer, which
    /// reports the datagram as plain [`Readiness::IN`](crate::Readiness::IN) if it arrives
    /// good.
    #[inline]
    pub fn zc_recv_overlapped(&mut self, want: usize) -> Option<UdpZcPending<'_, 's>> {
        if self.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_WAIT, want) {
            Some(UdpZcPending { rx: self })
        } else {
            None
        }
    }

    /// One overlapped step (`zfur_zc_recv` with `flag`); true when the message then holds
    /// the datagram (a wait's bytes, or the completed datagram).
    #[inline]
    fn overlapped_step(&mut self, flag: zf_sys::zf_zc_flags, want: usize) -> bool {
        let m = self.msg.as_ptr();
        // SAFETY: live zocket; its message has room for its one iovec; no message of this
        // zocket is held (it would borrow self), so nothing else uses the message now.
        unsafe {
            (*m).m.iovcnt = 1;
            (*m).iov[0].iov_len = want;
            zf_sys::zfur_zc_recv(self.as_ptr(), &raw mut (*m).m, flag as c_int);
            (*m).m.iovcnt > 0
        }
    }

    /// Copies one datagram into `buf`; its length (truncated to `buf`), or `None` when
    /// nothing has arrived.
    pub fn recv(&mut self, buf: &mut [u8]) -> Option<usize> {
        let m = self.zc_recv()?;
        let d = m.data();
        let n = d.len().min(buf.len());
        buf[..n].copy_from_slice(&d[..n]);
        Some(n)
    }
}

impl fmt::Debug for UdpRx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpRx").finish_non_exhaustive()
    }
}

/// The message each receive zocket keeps: zf-sys's [`zf_sys::UdpMsg`] with room for one
/// iovec. The stack keeps one per zocket (see [`crate::msg_box`]), so a receive writes only
/// `iovcnt` before the call, as C code reusing its message does.
pub(crate) type UdpMsg = zf_sys::UdpMsg<1>;

/// A received datagram held in the stack's buffer until dropped (`zfur_zc_recv_done`).
/// It borrows its [`UdpRx`] mutably (no other receive meanwhile); sends may go on through
/// [`UdpZc::stack`].
pub struct UdpZc<'a, 's> {
    rx: &'a mut UdpRx<'s>,
}

impl<'a, 's> UdpZc<'a, 's> {
    #[inline]
    fn msg(&self) -> &UdpMsg {
        // SAFETY: the zocket's message, alive as long as the zocket (kept by the view's
        // borrow of the stack); only this guard, holding the one view mutably, reaches it.
        unsafe { self.rx.msg.as_ref() }
    }

    #[inline]
    fn msg_ptr(&self) -> *mut zfur_msg {
        // SAFETY: a field of the live message (above), no reference created.
        unsafe { &raw mut (*self.rx.msg.as_ptr()).m }
    }

    /// The payload (a datagram longer than the buffer TCPDirect uses may be cut short).
    #[inline]
    pub fn data(&self) -> &[u8] {
        let v = &self.msg().iov[0];
        // The slice borrows self; releasing needs `self` by value or its drop.
        iov_slice(v)
    }

    /// How many more datagrams were waiting (`dgrams_left`).
    #[inline]
    pub fn datagrams_left(&self) -> usize {
        self.msg().m.dgrams_left.max(0) as usize
    }

    /// The datagram's IP and UDP headers (`zfur_pkt_get_header`).
    pub fn headers(&self) -> Result<Headers> {
        let (mut ip, mut udp) = (std::ptr::null(), std::ptr::null());
        // SAFETY: live zocket; the message as zfur_zc_recv filled it; valid out pointers.
        let rc = unsafe {
            zf_sys::zfur_pkt_get_header(self.rx.as_ptr(), self.msg_ptr(), &mut ip, &mut udp, 0)
        };
        check("zfur_pkt_get_header", rc)?;
        if ip.is_null() || udp.is_null() {
            return Err(Error::call("zfur_pkt_get_header", -(libc::EINVAL as i64)));
        }
        // SAFETY: TCPDirect points both into the packet buffer, valid until the message is
        // released. They need not be aligned (an IP header after a 14-byte Ethernet header
        // is not), so they are copied out unaligned.
        let (ip, udp) = unsafe { (ip.read_unaligned(), udp.read_unaligned()) };
        Ok(Headers { ip, udp })
    }

    /// The sender's address, from the headers.
    pub fn source(&self) -> Result<SocketAddrV4> {
        self.headers().map(|h| h.source())
    }

    /// The receive timestamp (`zfur_pkt_get_timestamp`); needs `rx_timestamping`.
    pub fn timestamp(&self) -> Result<Timestamp> {
        let mut ts = zf_sys::timespec::default();
        let mut flags = 0;
        // SAFETY: live zocket; the message as filled; valid out pointers.
        let rc = unsafe {
            zf_sys::zfur_pkt_get_timestamp(self.rx.as_ptr(), self.msg_ptr(), &mut ts, 0, &mut flags)
        };
        check("zfur_pkt_get_timestamp", rc)?;
        Ok(Timestamp {
            time: duration(&ts),
            flags: ReportFlags::from_bits_retain(flags as u16),
        })
    }

    /// The stack: send replies through it while holding the datagram.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.rx.stack
    }

    /// Releases the datagram now (same as dropping it).
    #[inline]
    pub fn done(self) {
        drop(self)
    }

    #[inline]
    fn release(&mut self) {
        // SAFETY: live zocket; the message as filled, released once.
        unsafe { zf_sys::zfur_zc_recv_done(self.rx.as_ptr(), self.msg_ptr()) };
    }
}

impl Drop for UdpZc<'_, '_> {
    #[inline]
    fn drop(&mut self) {
        self.release();
    }
}

impl fmt::Debug for UdpZc<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpZc")
            .field("len", &self.data().len())
            .finish()
    }
}

/// A datagram still arriving, from [`UdpRx::zc_recv_overlapped`]: its first bytes, readable
/// before the NIC has verified the frame; [`complete`](UdpZcPending::complete) says whether it
/// is good. Borrows the receive view mutably (no other receive meanwhile); sends can go on
/// through [`UdpZcPending::stack`]. Do not run the reactor before completing it. Dropping it
/// completes it and releases the datagram.
#[must_use = "complete the overlapped receive to learn whether the datagram is good"]
pub struct UdpZcPending<'a, 's> {
    rx: &'a mut UdpRx<'s>,
}

impl<'a, 's> UdpZcPending<'a, 's> {
    /// The bytes that have arrived (as many as the last wait asked for, or the whole
    /// payload if shorter). Not yet verified.
    #[inline]
    pub fn data(&self) -> &[u8] {
        // SAFETY: the zocket's message, alive as long as the zocket (kept by the view's
        // borrow of the stack); only this guard, holding the one view mutably, reaches it.
        // The bytes stay in place until the receive is completed, which needs `self`.
        let m = unsafe { self.rx.msg.as_ref() };
        iov_slice(&m.iov[0])
    }

    /// Waits for more of the datagram: its first `want` bytes. `None`: abandoned (nothing
    /// held, nothing to complete).
    #[inline]
    pub fn wait(self, want: usize) -> Option<Self> {
        let rx = self.into_rx();
        if rx.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_WAIT, want) {
            Some(UdpZcPending { rx })
        } else {
            None
        }
    }

    /// Waits for the whole datagram and its verification (`ZF_OVERLAPPED_COMPLETE`): the
    /// datagram as a zero-copy message, or `None` when it failed verification (dropped;
    /// nothing to release).
    #[inline]
    pub fn complete(self) -> Option<UdpZc<'a, 's>> {
        let rx = self.into_rx();
        if rx.overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_COMPLETE, 0) {
            Some(UdpZc { rx })
        } else {
            None
        }
    }

    /// The stack: send through it while the datagram arrives.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.rx.stack
    }

    /// The view, moved out of the guard without running its `Drop`.
    #[inline]
    fn into_rx(self) -> &'a mut UdpRx<'s> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `this` is neither used nor dropped again, so the reference is moved out of
        // it exactly once.
        unsafe { std::ptr::read(&this.rx) }
    }
}

impl Drop for UdpZcPending<'_, '_> {
    fn drop(&mut self) {
        if self
            .rx
            .overlapped_step(zf_sys::zf_zc_flags_ZF_OVERLAPPED_COMPLETE, 0)
        {
            // The completed datagram, released as UdpZc's drop does.
            drop(UdpZc { rx: &mut *self.rx });
        }
    }
}

impl fmt::Debug for UdpZcPending<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpZcPending")
            .field("len", &self.data().len())
            .finish()
    }
}

/// The IP and UDP headers of a received datagram (copied out of the packet).
#[derive(Clone, Copy)]
pub struct Headers {
    /// The IPv4 header as received.
    pub ip: iphdr,
    /// The UDP header as received.
    pub udp: udphdr,
}

impl Headers {
    fn ports(&self) -> (u16, u16) {
        // SAFETY: every variant of the union is two u16 pairs over the same 8 bytes.
        let u = unsafe { self.udp.__bindgen_anon_1.__bindgen_anon_2 };
        (u16::from_be(u.source), u16::from_be(u.dest))
    }
    /// Source address and port.
    pub fn source(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(u32::from_be(self.ip.saddr)), self.ports().0)
    }
    /// Destination address and port.
    pub fn destination(&self) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::from(u32::from_be(self.ip.daddr)), self.ports().1)
    }
    /// IP time to live.
    pub fn ttl(&self) -> u8 {
        self.ip.ttl
    }
    /// IP type of service (DSCP and ECN).
    pub fn tos(&self) -> u8 {
        self.ip.tos
    }
    /// UDP length field (header + payload).
    pub fn udp_len(&self) -> u16 {
        // SAFETY: as in ports.
        u16::from_be(unsafe { self.udp.__bindgen_anon_1.__bindgen_anon_2 }.len)
    }
}

impl fmt::Debug for Headers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headers")
            .field("source", &self.source())
            .field("destination", &self.destination())
            .field("ttl", &self.ttl())
            .field("tos", &self.tos())
            .finish()
    }
}

/// A UDP transmit zocket, from [`Stack::udp_tx`].
#[derive(Clone, Copy)]
pub struct UdpTx<'s> {
    stack: &'s Stack,
    raw: NonNull<zfut>,
    mss: usize,
}

impl<'s> UdpTx<'s> {
    /// The raw `struct zfut*` (owned by the stack).
    #[inline]
    pub fn as_ptr(&self) -> *mut zfut {
        self.raw.as_ptr()
    }

    /// The stack.
    #[inline]
    pub fn stack(&self) -> &'s Stack {
        self.stack
    }

    /// Sends one datagram. Up to [`UdpTx::mss`] bytes it takes the fast path,
    /// `zfut_send_single` (one frame, Don't Fragment set); a longer datagram, up to the UDP
    /// maximum, is sent in IP fragments through `zfut_send`, since TCPDirect requires
    /// `zfut_send_single`'s buffer to fit the MSS. `WouldBlock`: run the reactor and retry.
    #[inline]
    pub fn send(&self, buf: &[u8]) -> Result<usize> {
        if buf.len() > self.mss {
            return self.send_vectored(&[IoSlice::new(buf)], false);
        }
        // SAFETY: live zocket; valid buffer of at most the MSS.
        let rc = unsafe { zf_sys::zfut_send_single(self.as_ptr(), buf.as_ptr().cast(), buf.len()) };
        check("zfut_send_single", rc).map(|n| n as usize)
    }

    /// Sends one datagram gathered from several buffers (`zfut_send`), fragmented when
    /// longer than the MSS unless `dont_fragment`.
    #[inline]
    pub fn send_vectored(&self, bufs: &[IoSlice<'_>], dont_fragment: bool) -> Result<usize> {
        let n = iov_count("zfut_send", bufs.len())?;
        let flags = if dont_fragment {
            zf_sys::ZFUT_FLAG_DONT_FRAGMENT as c_int
        } else {
            0
        };
        // SAFETY: live zocket; IoSlice is ABI-compatible with struct iovec.
        let rc = unsafe { zf_sys::zfut_send(self.as_ptr(), bufs.as_ptr().cast(), n, flags) };
        check("zfut_send", rc).map(|n| n as usize)
    }

    /// Takes the send path without sending, to keep it in cache (`zfut_send_single_warm`).
    /// Only the single-frame path can be warmed: a `buf` longer than [`UdpTx::mss`] is refused
    /// with `EMSGSIZE`.
    pub fn send_warm(&self, buf: &[u8]) -> Result<()> {
        if buf.len() > self.mss {
            return Err(Error::call(
                "zfut_send_single_warm",
                -(libc::EMSGSIZE as i64),
            ));
        }
        // SAFETY: live zocket; valid buffer of at most the MSS.
        let rc =
            unsafe { zf_sys::zfut_send_single_warm(self.as_ptr(), buf.as_ptr().cast(), buf.len()) };
        check("zfut_send_single_warm", rc).map(drop)
    }

    /// The largest payload of an unfragmented datagram (`zfut_get_mss`).
    #[inline]
    pub fn mss(&self) -> Result<usize> {
        // SAFETY: live zocket.
        check("zfut_get_mss", unsafe {
            zf_sys::zfut_get_mss(self.as_ptr())
        })
        .map(|v| v as usize)
    }

    /// The Ethernet + IP + UDP header size (`zfut_get_header_size`).
    pub fn header_size(&self) -> usize {
        // SAFETY: live zocket.
        unsafe { zf_sys::zfut_get_header_size(self.as_ptr()) as usize }
    }

    /// Fills `out` with reports of sent datagrams (`zfut_get_tx_timestamps`); needs
    /// `tx_timestamping`.
    pub fn tx_timestamps<'b>(&self, out: &'b mut [PacketReport]) -> Result<&'b [PacketReport]> {
        let mut n = iov_count("zfut_get_tx_timestamps", out.len())?;
        // SAFETY: live zocket; PacketReport is repr(transparent) over zf_pkt_report and
        // `out` has room for n.
        let rc = unsafe {
            zf_sys::zfut_get_tx_timestamps(self.as_ptr(), out.as_mut_ptr().cast(), &mut n)
        };
        check("zfut_get_tx_timestamps", rc)?;
        Ok(&out[..(n.max(0) as usize).min(out.len())])
    }
}

impl fmt::Debug for UdpTx<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpTx").finish_non_exhaustive()
    }
}

/// The addresses of a `zfur` bind or unbind: the local one and, if given, the remote one
/// (IPv6 ones are errors naming which).
fn bind_addrs(local: SocketAddr, remote: Option<SocketAddr>) -> Result<(RawAddr, Option<RawAddr>)> {
    let l = RawAddr::new("UDP local address", local)?;
    let r = remote
        .map(|r| RawAddr::new("UDP remote address", r))
        .transpose()?;
    Ok((l, r))
}
