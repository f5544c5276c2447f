//! `std::net` addresses to and from the `sockaddr_in` TCPDirect takes (IPv4 only).

use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use zf_sys::{sockaddr, socklen_t};

use crate::error::{Error, Result};

/// A `sockaddr_in` with its length, ready to pass as `const struct sockaddr*`.
#[derive(Clone, Copy)]
pub(crate) struct RawAddr(pub(crate) libc::sockaddr_in);

impl RawAddr {
    pub(crate) fn v4(a: SocketAddrV4) -> RawAddr {
        RawAddr(libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: a.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*a.ip()).to_be(),
            },
            sin_zero: [0; 8],
        })
    }

    /// The address, or an error naming `what` for an IPv6 one.
    pub(crate) fn new(what: &'static str, a: SocketAddr) -> Result<RawAddr> {
        match a {
            SocketAddr::V4(v4) => Ok(RawAddr::v4(v4)),
            SocketAddr::V6(_) => Err(Error::Ipv6Unsupported { what, addr: a }),
        }
    }

    pub(crate) fn unspecified() -> RawAddr {
        RawAddr::v4(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))
    }

    pub(crate) fn as_ptr(&self) -> *const sockaddr {
        (&self.0 as *const libc::sockaddr_in).cast()
    }

    pub(crate) fn as_mut_ptr(&mut self) -> *mut sockaddr {
        (&mut self.0 as *mut libc::sockaddr_in).cast()
    }

    pub(crate) const LEN: socklen_t = size_of::<libc::sockaddr_in>() as socklen_t;

    /// Pointer and length of an optional address: null and 0 for none.
    pub(crate) fn ptr_len(a: Option<&RawAddr>) -> (*const sockaddr, socklen_t) {
        a.map_or((std::ptr::null(), 0), |a| (a.as_ptr(), RawAddr::LEN))
    }

    pub(crate) fn get(&self) -> SocketAddrV4 {
        SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(self.0.sin_addr.s_addr)),
            u16::from_be(self.0.sin_port),
        )
    }
}
