//! Delegated sends: the application sends a connection's segments itself (e.g. through an
//! ef_vi VI) from headers TCPDirect prepares, and TCPDirect does the rest of TCP
//! (`zf_delegated_send_*`).

use std::ffi::c_int;
use std::fmt;
use std::io::IoSlice;

use zf_sys::zf_ds;

use crate::error::{Error, Result, check};
use crate::tcp::{TcpRef, iov_count};

/// Why [`TcpRef::delegated_send`] could not reserve anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DelegatedSendError {
    /// The connection cannot send in its state (`ZF_DELEGATED_SEND_RC_BAD_SOCKET`).
    #[error("zf_delegated_send_prepare: the connection cannot send in its state")]
    BadSocket,
    /// The header buffer is too small; this many bytes are needed
    /// (`ZF_DELEGATED_SEND_RC_SMALL_HEADER`).
    #[error("zf_delegated_send_prepare: the header buffer is too small ({needed} bytes needed)")]
    SmallHeader {
        /// Bytes needed.
        needed: usize,
    },
    /// Data is still queued for normal sending (`ZF_DELEGATED_SEND_RC_SENDQ_BUSY`).
    #[error("zf_delegated_send_prepare: the send queue is not empty")]
    SendQueueBusy,
    /// The peer's MAC address is not known yet (`ZF_DELEGATED_SEND_RC_NOARP`).
    #[error("zf_delegated_send_prepare: the peer's MAC address is not known")]
    NoArp,
    /// Another failure code.
    #[error("zf_delegated_send_prepare failed with code {0:#x}")]
    Other(u32),
}

/// A non-fatal result of [`TcpRef::delegated_send`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WindowStatus {
    /// Ready to send.
    Ok,
    /// The congestion window is too small for a full segment.
    NoCongestionWindow,
    /// The peer's receive window is too small for a full segment.
    NoSendWindow,
}

/// A delegated send in progress: the prepared Ethernet/IP/TCP headers (in the caller's
/// buffer) and the windows. Report what was sent with [`DelegatedSend::complete`]; dropping
/// it gives back whatever was reserved but not completed (`zf_delegated_send_cancel`), as
/// TCPDirect requires before any normal send.
pub struct DelegatedSend<'s, 'h> {
    tcp: TcpRef<'s>,
    ds: zf_ds,
    headers: &'h mut [u8],
    status: WindowStatus,
}

impl<'s> TcpRef<'s> {
    /// Reserves up to `max_window` bytes of the stream for sending outside TCPDirect, and
    /// writes the headers of an MSS-sized segment into `headers`
    /// (`zf_delegated_send_prepare`). `cong_wnd_override`, when non-zero, is a lower bound
    /// on the congestion window.
    pub fn delegated_send<'h>(
        &self,
        headers: &'h mut [u8],
        max_window: i32,
        cong_wnd_override: i32,
    ) -> std::result::Result<DelegatedSend<'s, 'h>, DelegatedSendError> {
        let mut ds = zf_ds {
            headers: headers.as_mut_ptr().cast(),
            headers_size: c_int::try_from(headers.len()).unwrap_or(c_int::MAX),
            ..zf_ds::default()
        };
        // SAFETY: live zocket; ds.headers points to a buffer of headers_size bytes that
        // stays borrowed for 'h.
        let rc = unsafe {
            zf_sys::zf_delegated_send_prepare(
                self.as_ptr(),
                max_window,
                cong_wnd_override,
                0,
                &mut ds,
            )
        };
        let status = match rc {
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_OK => WindowStatus::Ok,
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_NOCWIN => {
                WindowStatus::NoCongestionWindow
            }
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_NOWIN => WindowStatus::NoSendWindow,
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_BAD_SOCKET => {
                return Err(DelegatedSendError::BadSocket);
            }
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_SMALL_HEADER => {
                return Err(DelegatedSendError::SmallHeader {
                    needed: ds.headers_len.max(0) as usize,
                });
            }
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_SENDQ_BUSY => {
                return Err(DelegatedSendError::SendQueueBusy);
            }
            zf_sys::zf_delegated_send_rc_ZF_DELEGATED_SEND_RC_NOARP => {
                return Err(DelegatedSendError::NoArp);
            }
            other => return Err(DelegatedSendError::Other(other)),
        };
        let d = DelegatedSend {
            tcp: *self,
            ds,
            headers,
            status,
        };
        // The inline helpers write at these offsets: refuse a library answer outside the
        // buffer rather than write out of bounds.
        let len = d.headers.len() as i64;
        let ok = (0..=len).contains(&i64::from(ds.headers_len))
            && ds.ip_len_offset >= 0
            && i64::from(ds.ip_len_offset) + 2 <= len
            && ds.tcp_seq_offset >= 0
            && i64::from(ds.tcp_seq_offset) + 10 <= len;
        if !ok {
            drop(d);
            return Err(DelegatedSendError::Other(rc));
        }
        Ok(d)
    }
}

impl DelegatedSend<'_, '_> {
    /// Whether the windows allow a full segment now.
    pub fn status(&self) -> WindowStatus {
        self.status
    }
    /// The headers of the next segment (Ethernet, IP, TCP), ready to prepend to its payload.
    pub fn headers(&self) -> &[u8] {
        &self.headers[..self.ds.headers_len.max(0) as usize]
    }
    /// The largest payload per segment.
    pub fn mss(&self) -> usize {
        self.ds.mss.max(0) as usize
    }
    /// The peer's receive window left.
    pub fn send_window(&self) -> i32 {
        self.ds.send_wnd
    }
    /// The congestion window left.
    pub fn congestion_window(&self) -> i32 {
        self.ds.cong_wnd
    }
    /// The bytes still reserved for this delegated send.
    pub fn delegated_window(&self) -> i32 {
        self.ds.delegated_wnd
    }
    /// The raw `struct zf_ds`.
    pub fn raw(&self) -> &zf_ds {
        &self.ds
    }

    /// Makes the headers right for a segment of `bytes` payload bytes: IP length and the
    /// TCP PSH flag (`zf_delegated_send_tcp_update`).
    pub fn update(&mut self, bytes: usize, push: bool) -> Result<()> {
        let b = self.checked_len(bytes)?;
        // SAFETY: ds.headers is our buffer, borrowed mutably by self; the offsets were
        // checked to lie inside it in delegated_send.
        unsafe { zf_sys::zf_delegated_send_tcp_update(&mut self.ds, b, c_int::from(push)) };
        Ok(())
    }

    /// Accounts for a segment of `bytes` payload bytes just sent: windows down, sequence
    /// number up (`zf_delegated_send_tcp_advance`).
    pub fn advance(&mut self, bytes: usize) -> Result<()> {
        let b = self.checked_len(bytes)?;
        // SAFETY: as in update.
        unsafe { zf_sys::zf_delegated_send_tcp_advance(&mut self.ds, b) };
        Ok(())
    }

    fn checked_len(&self, bytes: usize) -> Result<c_int> {
        c_int::try_from(bytes)
            .ok()
            .filter(|b| b.checked_add(self.ds.ip_tcp_hdr_len).is_some())
            .ok_or_else(|| Error::InvalidArgument {
                what: format!("delegated send of {bytes} bytes is too large"),
            })
    }

    /// Tells TCPDirect these bytes were sent (`zf_delegated_send_complete`), so it can
    /// retransmit them if needed; returns how many it took.
    pub fn complete(&mut self, bufs: &[IoSlice<'_>]) -> Result<usize> {
        let n = iov_count("zf_delegated_send_complete", bufs.len())?;
        let flags = 0;
        // SAFETY: live zocket; IoSlice is ABI-compatible with struct iovec.
        let rc = unsafe {
            zf_sys::zf_delegated_send_complete(self.tcp.as_ptr(), bufs.as_ptr().cast(), n, flags)
        };
        check("zf_delegated_send_complete", rc).map(|v| v as usize)
    }

    /// Gives back what is reserved and not completed (`zf_delegated_send_cancel`).
    pub fn cancel(self) -> Result<()> {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: live zocket.
        check("zf_delegated_send_cancel", unsafe {
            zf_sys::zf_delegated_send_cancel(this.tcp.as_ptr())
        })
        .map(drop)
    }
}

impl Drop for DelegatedSend<'_, '_> {
    fn drop(&mut self) {
        // SAFETY: live zocket.
        unsafe { zf_sys::zf_delegated_send_cancel(self.tcp.as_ptr()) };
    }
}

impl fmt::Debug for DelegatedSend<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DelegatedSend")
            .field("status", &self.status)
            .field("headers_len", &self.ds.headers_len)
            .field("mss", &self.ds.mss)
            .field("delegated_window", &self.ds.delegated_wnd)
            .finish()
    }
}
