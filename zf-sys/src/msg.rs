//! Receive messages with room for their iovecs.
//!
//! [`zft_msg`] and [`zfur_msg`] end in a flexible array (`iov[]`) that the caller provides:
//! the C API expects the iovecs to follow the message directly in memory, and C code
//! declares `struct { struct zft_msg msg; struct iovec iov[N]; }` for it. [`TcpMsg`] and
//! [`UdpMsg`] are that structure, for any `N`.

use crate::{iovec, zft_msg, zfur_msg};

// The iovecs must start where each message's flexible array does: right after it.
const _: () = assert!(std::mem::offset_of!(zft_msg, iov) == std::mem::size_of::<zft_msg>());
const _: () = assert!(std::mem::offset_of!(zfur_msg, iov) == std::mem::size_of::<zfur_msg>());

/// An empty iovec.
const NO_IOV: iovec = iovec {
    iov_base: std::ptr::null_mut(),
    iov_len: 0,
};

/// A [`zft_msg`] with room for `N` iovecs, for `zft_zc_recv` (which reads `iovcnt`, the
/// room available, and writes the packets it returns).
///
/// ```
/// let mut msg = zf_sys::TcpMsg::<4>::new();
/// let p: *mut zf_sys::zft_msg = msg.ptr(); // what zft_zc_recv(zocket, p, 0) takes
/// assert_eq!(msg.m.iovcnt, 4);
/// assert!(msg.iovs().len() == 4 && !p.is_null());
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct TcpMsg<const N: usize> {
    /// The message.
    pub m: zft_msg,
    /// Its iovecs (the message's `iov[]`).
    pub iov: [iovec; N],
}

impl<const N: usize> TcpMsg<N> {
    /// An empty message (all zero, the iovecs null).
    pub fn new() -> Self {
        TcpMsg {
            m: zft_msg::default(),
            iov: [NO_IOV; N],
        }
    }

    /// Sets `iovcnt` to `N` (the room available) and returns a pointer to the message, for
    /// `zft_zc_recv`. The pointer is valid, and reaches the iovecs, while `self` is neither
    /// moved nor dropped.
    pub fn ptr(&mut self) -> *mut zft_msg {
        self.m.iovcnt = N as std::os::raw::c_int;
        &mut self.m
    }

    /// The iovecs `iovcnt` says are filled (at most `N`).
    pub fn iovs(&self) -> &[iovec] {
        &self.iov[..(self.m.iovcnt.max(0) as usize).min(N)]
    }
}

impl<const N: usize> Default for TcpMsg<N> {
    fn default() -> Self {
        Self::new()
    }
}

/// A [`zfur_msg`] with room for `N` iovecs, for `zfur_zc_recv` (which reads `iovcnt`, the
/// room available, and writes the datagram it returns).
///
/// ```
/// let mut msg = zf_sys::UdpMsg::<1>::new();
/// let p: *mut zf_sys::zfur_msg = msg.ptr(); // what zfur_zc_recv(zocket, p, 0) takes
/// assert_eq!(msg.m.iovcnt, 1);
/// assert!(!p.is_null());
/// ```
#[repr(C)]
#[derive(Debug)]
pub struct UdpMsg<const N: usize> {
    /// The message.
    pub m: zfur_msg,
    /// Its iovecs (the message's `iov[]`).
    pub iov: [iovec; N],
}

impl<const N: usize> UdpMsg<N> {
    /// An empty message (all zero, the iovecs null).
    pub fn new() -> Self {
        UdpMsg {
            m: zfur_msg::default(),
            iov: [NO_IOV; N],
        }
    }

    /// Sets `iovcnt` to `N` (the room available) and returns a pointer to the message, for
    /// `zfur_zc_recv`. The pointer is valid, and reaches the iovecs, while `self` is neither
    /// moved nor dropped.
    pub fn ptr(&mut self) -> *mut zfur_msg {
        self.m.iovcnt = N as std::os::raw::c_int;
        &mut self.m
    }

    /// The iovecs `iovcnt` says are filled (at most `N`).
    pub fn iovs(&self) -> &[iovec] {
        &self.iov[..(self.m.iovcnt.max(0) as usize).min(N)]
    }
}

impl<const N: usize> Default for UdpMsg<N> {
    fn default() -> Self {
        Self::new()
    }
}
