//! Delegated sends: the program sends the packets of an Onload TCP connection itself (through
//! an ef_vi VI, for example) from headers Onload prepares, and Onload does the rest of TCP.

use crate::error::{DelegatedSendRefusal, Error, Result, minus_one_errno, to_c_int};
use crate::fd::socket_fd;
use onload_sys as ffi;
use std::ffi::c_int;
use std::io::IoSlice;
use std::marker::PhantomData;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};

/// Options of [`DelegatedSend::prepare`] (combine with `|`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DelegatedSendFlags(u32);

impl DelegatedSendFlags {
    /// No options: the MAC address is looked up, [`DelegatedSendRefusal::NoArp`] when unknown.
    pub const NONE: Self = Self(0);
    /// Do not look up the destination MAC address: the program writes it into the headers.
    pub const IGNORE_ARP: Self = Self(ffi::ONLOAD_DELEGATED_SEND_FLAG_IGNORE_ARP);
    /// When the MAC address is unknown, provoke resolution and wait up to 1 ms.
    pub const RESOLVE_ARP: Self = Self(ffi::ONLOAD_DELEGATED_SEND_FLAG_RESOLVE_ARP);
}

impl std::ops::BitOr for DelegatedSendFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A typed view of the Ethernet/IPv4/TCP headers of a delegated send, ready to be copied in
/// front of the payload and sent (for example with an `etherfabric` VI).
#[derive(Debug, Clone, Copy)]
pub struct DelegatedHeaders<'a> {
    bytes: &'a [u8],
    ip_len_offset: usize,
    tcp_seq_offset: usize,
}

impl<'a> DelegatedHeaders<'a> {
    /// All the header bytes, Ethernet first.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Destination MAC address.
    pub fn dst_mac(&self) -> [u8; 6] {
        self.array(0)
    }

    /// Source MAC address.
    pub fn src_mac(&self) -> [u8; 6] {
        self.array(6)
    }

    /// Offset of the IPv4 header in [`DelegatedHeaders::as_bytes`] (after any VLAN tag).
    pub fn ip_offset(&self) -> usize {
        self.ip_len_offset.saturating_sub(2)
    }

    /// Offset of the TCP header in [`DelegatedHeaders::as_bytes`].
    pub fn tcp_offset(&self) -> usize {
        self.tcp_seq_offset.saturating_sub(4)
    }

    /// The IPv4 total length field.
    pub fn ip_total_len(&self) -> u16 {
        u16::from_be_bytes(self.array(self.ip_len_offset))
    }

    /// The TCP sequence number.
    pub fn tcp_seq(&self) -> u32 {
        u32::from_be_bytes(self.array(self.tcp_seq_offset))
    }

    /// The TCP acknowledgement number.
    pub fn tcp_ack(&self) -> u32 {
        u32::from_be_bytes(self.array(self.tcp_seq_offset + 4))
    }

    /// The TCP flags byte (`0x08` is PSH).
    pub fn tcp_flags(&self) -> u8 {
        self.bytes
            .get(self.tcp_seq_offset + 9)
            .copied()
            .unwrap_or(0)
    }

    /// The TCP window field.
    pub fn tcp_window(&self) -> u16 {
        u16::from_be_bytes(self.array(self.tcp_seq_offset + 10))
    }

    /// `N` bytes at `at`, zeros where the headers are shorter.
    fn array<const N: usize>(&self, at: usize) -> [u8; N] {
        let mut out = [0; N];
        if let Some(src) = self.bytes.get(at..at + N) {
            out.copy_from_slice(src);
        }
        out
    }
}

/// A delegated send in progress on a TCP socket. Made by [`DelegatedSend::prepare`]; ended by
/// [`DelegatedSend::cancel`], or by dropping it (which cancels, giving unsent reserved bytes
/// back to the socket).
///
/// It borrows the socket exclusively (`&'s mut`): the C API forbids sending on the socket by
/// other means while a delegated send is open.
///
/// * **Under Onload:** see the method docs.
/// * **Without Onload:** [`DelegatedSend::prepare`] fails with [`Error::DelegatedSend`] and
///   [`DelegatedSendRefusal::BadSocket`] (the stub's answer).
///
/// Nothing else can send on the socket while a delegated send is open:
///
/// ```compile_fail,E0499
/// use std::io::Write;
/// let mut s = std::net::TcpStream::connect("127.0.0.1:1").unwrap();
/// let ds = onload_ext::DelegatedSend::prepare(&mut s, 100, Default::default());
/// s.write_all(b"x").unwrap();
/// drop(ds);
/// ```
#[derive(Debug)]
pub struct DelegatedSend<'s> {
    fd: BorrowedFd<'s>,
    ds: ffi::onload_delegated_send,
    /// The header buffer `ds.headers` points into (heap, so moving `self` keeps it valid).
    headers: Box<[u8]>,
    _exclusive: PhantomData<&'s mut ()>,
}

// SAFETY: `ds.headers` points into `headers`, owned by this value; nothing else refers to them.
unsafe impl Send for DelegatedSend<'_> {}

const PREPARE: &str = "onload_delegated_send_prepare";
const COMPLETE: &str = "onload_delegated_send_complete";
const CANCEL: &str = "onload_delegated_send_cancel";

impl<'s> DelegatedSend<'s> {
    /// Reserves up to `size` bytes of the stream of connected TCP socket `sock` and has Onload
    /// write the headers of an MSS-sized packet without PSH.
    ///
    /// * **Under Onload:** the send, or [`Error::DelegatedSend`] saying why not (busy send
    ///   queue, closed windows, unknown MAC address, not an accelerated connected socket).
    /// * **Without Onload:** [`Error::DelegatedSend`] with
    ///   [`DelegatedSendRefusal::BadSocket`].
    pub fn prepare<F: AsFd + ?Sized>(
        sock: &'s mut F,
        size: usize,
        flags: DelegatedSendFlags,
    ) -> Result<DelegatedSend<'s>> {
        let sock: &'s F = sock;
        let fd = sock.as_fd();
        let raw = socket_fd(PREPARE, fd)?;
        let size = to_c_int(PREPARE, "size", size)?;
        let mut headers_len = 128usize;
        for _ in 0..4 {
            let mut headers = vec![0u8; headers_len].into_boxed_slice();
            let mut ds = ffi::onload_delegated_send {
                headers: headers.as_mut_ptr().cast(),
                headers_len: headers_len as c_int,
                ..Default::default()
            };
            // SAFETY: `ds.headers` points at `headers_len` writable bytes that stay put (heap).
            let rc = unsafe { ffi::onload_delegated_send_prepare(raw, size, flags.0, &mut ds) };
            let refusal = match rc {
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_OK => {
                    // The header fix-ups write the IP length (2 bytes at ip_len_offset), the
                    // sequence number (4 at tcp_seq_offset) and the flags (tcp_seq_offset + 9):
                    // all must lie within the headers Onload wrote.
                    let hl = usize::try_from(ds.headers_len).unwrap_or(usize::MAX);
                    let within =
                        |off: c_int, len: usize| usize::try_from(off).is_ok_and(|o| o + len <= hl);
                    let valid = hl <= headers.len()
                        && within(ds.ip_len_offset, 2)
                        && within(ds.tcp_seq_offset, 10);
                    if !valid {
                        return Err(Error::invalid(
                            PREPARE,
                            "Onload returned inconsistent header offsets",
                        ));
                    }
                    return Ok(DelegatedSend {
                        fd,
                        ds,
                        headers,
                        _exclusive: PhantomData,
                    });
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_SMALL_HEADER => {
                    let need = usize::try_from(ds.headers_len).unwrap_or(0);
                    if need > headers_len && need <= 4096 {
                        headers_len = need;
                        continue;
                    }
                    DelegatedSendRefusal::SmallHeader
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET => {
                    DelegatedSendRefusal::BadSocket
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_SENDQ_BUSY => {
                    DelegatedSendRefusal::SendQueueBusy
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_NOWIN => {
                    DelegatedSendRefusal::NoWindow
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_NOARP => {
                    DelegatedSendRefusal::NoArp
                }
                ffi::onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_NOCWIN => {
                    DelegatedSendRefusal::NoCongestionWindow
                }
                other => DelegatedSendRefusal::Other(other),
            };
            return Err(Error::DelegatedSend {
                call: PREPARE,
                refusal,
            });
        }
        Err(Error::DelegatedSend {
            call: PREPARE,
            refusal: DelegatedSendRefusal::SmallHeader,
        })
    }

    /// The headers as they are now.
    pub fn headers(&self) -> DelegatedHeaders<'_> {
        DelegatedHeaders {
            bytes: &self.headers[..self.ds.headers_len as usize],
            ip_len_offset: self.ds.ip_len_offset as usize,
            tcp_seq_offset: self.ds.tcp_seq_offset as usize,
        }
    }

    /// Maximum payload per packet.
    pub fn mss(&self) -> usize {
        self.ds.mss.max(0) as usize
    }

    /// What is left of the peer's send window (may go negative as packets are sent).
    pub fn send_window(&self) -> i32 {
        self.ds.send_wnd
    }

    /// What is left of the congestion window (may go negative).
    pub fn cong_window(&self) -> i32 {
        self.ds.cong_wnd
    }

    /// Reserved bytes not yet accounted for by [`DelegatedSend::advance`].
    pub fn remaining(&self) -> i32 {
        self.ds.user_size
    }

    /// Fixes the headers up for a packet of `bytes` payload bytes (`push`: set TCP PSH) and
    /// returns them, to put in front of the payload.
    ///
    /// `bytes` must be 1 to [`DelegatedSend::mss`] ([`Error::InvalidArgument`]).
    pub fn packet(&mut self, bytes: usize, push: bool) -> Result<DelegatedHeaders<'_>> {
        self.check_bytes("onload_delegated_send_tcp_update", bytes)?;
        // SAFETY: `ds` was filled by a successful prepare; its offsets lie within `headers`
        // (checked at prepare), to which `ds.headers` points and nothing else refers.
        unsafe { ffi::onload_delegated_send_tcp_update(&mut self.ds, bytes as c_int, push.into()) };
        Ok(self.headers())
    }

    /// Accounts for a packet of `bytes` payload bytes sent from these headers: the windows
    /// and [`DelegatedSend::remaining`] shrink and the sequence number moves on.
    ///
    /// `bytes` must be 1 to [`DelegatedSend::mss`] ([`Error::InvalidArgument`]).
    pub fn advance(&mut self, bytes: usize) -> Result<()> {
        self.check_bytes("onload_delegated_send_tcp_advance", bytes)?;
        // SAFETY: as in `packet`.
        unsafe { ffi::onload_delegated_send_tcp_advance(&mut self.ds, bytes as c_int) };
        Ok(())
    }

    fn check_bytes(&self, call: &'static str, bytes: usize) -> Result<()> {
        if bytes == 0 || bytes > self.mss() {
            return Err(Error::invalid(
                call,
                format!(
                    "packet payload {bytes} must be 1 to the MSS ({})",
                    self.mss()
                ),
            ));
        }
        Ok(())
    }

    /// Tells Onload that the program sent `data` (as a `send()` would have): Onload keeps it
    /// for retransmission. Returns the bytes taken (less than all only when a signal
    /// interrupted a blocked call). `flags`: only `libc::MSG_DONTWAIT` and
    /// `libc::MSG_NOSIGNAL` count. May block on `SO_SNDBUF`.
    ///
    /// * **Under Onload:** as above; [`Error::Os`] on failure.
    /// * **Without Onload:** unreachable in practice ([`DelegatedSend::prepare`] fails); the
    ///   stub fails with [`Error::Unsupported`].
    pub fn complete(&mut self, data: &[IoSlice<'_>], flags: c_int) -> Result<usize> {
        let n = to_c_int(COMPLETE, "number of slices", data.len())?;
        let total: usize = data.iter().map(|s| s.len()).sum();
        // SAFETY: IoSlice is ABI-compatible with struct iovec (std guarantees it on Unix);
        // the data is only read.
        let rc = unsafe {
            ffi::onload_delegated_send_complete(
                self.fd.as_raw_fd(),
                data.as_ptr().cast::<ffi::iovec>(),
                n,
                flags,
            )
        };
        let rc = minus_one_errno(COMPLETE, rc)?;
        Ok(if rc == 0 { total } else { rc as usize })
    }

    /// Ends the delegated send: reserved bytes not completed go back to the socket, and normal
    /// sends may follow. Dropping does the same but cannot report failure.
    pub fn cancel(self) -> Result<()> {
        let fd = self.fd.as_raw_fd();
        std::mem::forget(self);
        // SAFETY: plain integer.
        minus_one_errno(CANCEL, unsafe { ffi::onload_delegated_send_cancel(fd) }).map(|_| ())
    }
}

impl Drop for DelegatedSend<'_> {
    fn drop(&mut self) {
        // SAFETY: plain integer.
        let _ = unsafe { ffi::onload_delegated_send_cancel(self.fd.as_raw_fd()) };
    }
}
