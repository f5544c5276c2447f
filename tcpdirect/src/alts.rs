//! TX alternatives: messages queued in advance on the adapter, one of which is sent later
//! with minimal latency (`zf_alternatives_*`; stack attribute `alt_count` > 0).

use crate::error::{Error, Result, check};
use crate::keys::{AltKey, TcpKey};
use crate::stack::{Obj, Stack};
use crate::tcp::TcpRef;

/// How the adapter accounts for alternative buffer space, from
/// [`TcpRef::alt_overhead`] (`struct ef_vi_transmit_alt_overhead`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct AltOverhead {
    /// Added before rounding.
    pub pre_round: u32,
    /// The rounding mask.
    pub mask: u32,
    /// Added after rounding.
    pub post_round: u32,
}

impl AltOverhead {
    /// The buffer space a packet of `bytes` bytes (headers included) takes, as ef_vi's
    /// `ef_vi_transmit_alt_usage` computes it.
    pub fn usage(&self, bytes: u32) -> u32 {
        (bytes.wrapping_add(self.pre_round) & self.mask).wrapping_add(self.post_round)
    }
}

impl Stack {
    fn alt_handle(&self, key: AltKey) -> Result<zf_sys::zf_althandle> {
        match self.lookup(key.0, AltKey::KIND)? {
            Obj::Alt(h) => Ok(*h),
            _ => Err(Error::StaleKey { kind: AltKey::KIND }),
        }
    }

    /// Allocates an alternative (`zf_alternatives_alloc`); the stack needs `alt_count` > 0.
    pub fn alternative(&mut self) -> Result<AltKey> {
        let mut h: zf_sys::zf_althandle = 0;
        // SAFETY: live stack and attributes, valid out pointer.
        let rc =
            unsafe { zf_sys::zf_alternatives_alloc(self.as_ptr(), self.attr().as_ptr(), &mut h) };
        check("zf_alternatives_alloc", rc)?;
        Ok(AltKey(self.insert(Obj::Alt(h))))
    }

    /// Queues `buf` on alternative `alt` for the connection `tcp` (`zft_alternatives_queue`).
    /// An alternative serves one connection.
    pub fn alt_queue(&self, alt: AltKey, tcp: TcpKey, buf: &[u8]) -> Result<()> {
        let h = self.alt_handle(alt)?;
        let z = self.tcp_ptr(tcp)?;
        let iov = zf_sys::iovec {
            iov_base: buf.as_ptr() as *mut _,
            iov_len: buf.len(),
        };
        // SAFETY: live zocket and alternative of this stack; one iovec valid for reads.
        let rc = unsafe { zf_sys::zft_alternatives_queue(z.as_ptr(), h, &iov, 1, 0) };
        check("zft_alternatives_queue", rc).map(drop)
    }

    /// Sends what `alt` holds (`zf_alternatives_send`). Other alternatives queued for the
    /// same connection are then stale: cancel them.
    pub fn alt_send(&self, alt: AltKey) -> Result<()> {
        let h = self.alt_handle(alt)?;
        // SAFETY: live stack and alternative.
        check("zf_alternatives_send", unsafe {
            zf_sys::zf_alternatives_send(self.as_ptr(), h)
        })
        .map(drop)
    }

    /// Drops what `alt` holds without sending it (`zf_alternatives_cancel`).
    pub fn alt_cancel(&self, alt: AltKey) -> Result<()> {
        let h = self.alt_handle(alt)?;
        // SAFETY: live stack and alternative.
        check("zf_alternatives_cancel", unsafe {
            zf_sys::zf_alternatives_cancel(self.as_ptr(), h)
        })
        .map(drop)
    }

    /// The buffer space left on `alt`, in bytes (`zf_alternatives_free_space`).
    pub fn alt_free_space(&self, alt: AltKey) -> Result<usize> {
        let h = self.alt_handle(alt)?;
        // SAFETY: live stack and alternative.
        Ok(unsafe { zf_sys::zf_alternatives_free_space(self.as_ptr(), h) } as usize)
    }
}

impl TcpRef<'_> {
    /// How alternative buffer space is counted for this connection's packets
    /// (`zf_alternatives_query_overhead_tcp`).
    pub fn alt_overhead(&self) -> Result<AltOverhead> {
        let mut o = AltOverhead::default();
        // SAFETY: live zocket; AltOverhead has the layout of ef_vi_transmit_alt_overhead
        // (three u32: pre_round, mask, post_round).
        let rc = unsafe {
            zf_sys::zf_alternatives_query_overhead_tcp(
                self.as_ptr(),
                (&mut o as *mut AltOverhead).cast(),
            )
        };
        check("zf_alternatives_query_overhead_tcp", rc)?;
        Ok(o)
    }
}
