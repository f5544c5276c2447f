//! The crate's one error type.

use std::io;

/// Everything that can go wrong in this crate.
///
/// Calls into TCPDirect report failure as a negative `errno` value; this crate turns each into
/// [`Error::Call`], naming the C function that failed. [`Error::kind`] maps the code to an
/// [`io::ErrorKind`] (`WouldBlock`, `ConnectionRefused`, `ConnectionReset`, ...) and
/// `From<Error> for io::Error` keeps both.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A TCPDirect call returned a negative error code.
    #[error("{call} failed: {source}")]
    Call {
        /// The C function that failed, e.g. `"zft_send"`.
        call: &'static str,
        /// The error code, as an OS error.
        #[source]
        source: io::Error,
    },
    /// An attribute name the linked TCPDirect does not know.
    #[error(
        "unknown TCPDirect attribute {name:?} (see Attr::doc() for the names this library knows)"
    )]
    UnknownAttribute {
        /// The name that was asked for.
        name: String,
    },
    /// An attribute value TCPDirect refused (out of range, wrong type, unparsable).
    #[error("bad value {value:?} for TCPDirect attribute {name:?}: {source}")]
    BadAttributeValue {
        /// The attribute.
        name: String,
        /// The value as given.
        value: String,
        /// The error code TCPDirect returned.
        #[source]
        source: io::Error,
    },
    /// The `ZF_ATTR` environment variable holds something TCPDirect cannot parse.
    #[error("the ZF_ATTR environment variable ({value:?}) is not a valid attribute list: {source}")]
    BadZfAttr {
        /// The variable's value.
        value: String,
        /// The error code `zf_attr_alloc` returned.
        #[source]
        source: io::Error,
    },
    /// A string argument contained a NUL byte, which C strings cannot carry.
    #[error("{what} contains a NUL byte")]
    Nul {
        /// Which argument.
        what: &'static str,
    },
    /// The key names no live object of this stack: it was freed (or consumed by `connect`),
    /// or it belongs to another stack.
    #[error("stale {kind} key: the object was freed, or the key is from another stack")]
    StaleKey {
        /// The kind of object the key is for, e.g. `"TCP zocket"`.
        kind: &'static str,
    },
    /// An address of a family TCPDirect does not support (it speaks IPv4 only).
    #[error("{what}: TCPDirect supports IPv4 addresses only, not {addr}")]
    Ipv6Unsupported {
        /// Which argument.
        what: &'static str,
        /// The address given.
        addr: std::net::SocketAddr,
    },
    /// An argument outside what the C call can take (too many iovecs, a length over its limit).
    #[error("{what}")]
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
    /// The linked TCPDirect library is a different release from the one these bindings
    /// describe.
    #[error("zf_init: {0}")]
    VersionMismatch(zf_sys::VersionMismatch),
}

/// This crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error of C function `call` that returned `rc` (a negative errno value).
    #[cold]
    pub(crate) fn call(call: &'static str, rc: i64) -> Error {
        let code = rc
            .checked_neg()
            .and_then(|c| i32::try_from(c).ok())
            .unwrap_or(libc::EINVAL);
        Error::Call {
            call,
            source: io::Error::from_raw_os_error(code),
        }
    }

    /// The kind of failure, as `std::io` names it: `WouldBlock` for `-EAGAIN`,
    /// `ConnectionRefused`, `ConnectionReset`, `NotConnected`, `InvalidInput`, ...
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            Error::Call { source, .. }
            | Error::BadAttributeValue { source, .. }
            | Error::BadZfAttr { source, .. } => source.kind(),
            Error::UnknownAttribute { .. } => io::ErrorKind::NotFound,
            Error::Nul { .. } | Error::InvalidArgument { .. } => io::ErrorKind::InvalidInput,
            Error::StaleKey { .. } => io::ErrorKind::NotFound,
            Error::Ipv6Unsupported { .. } => io::ErrorKind::Unsupported,
            Error::VersionMismatch(_) => io::ErrorKind::Unsupported,
        }
    }

    /// The errno value behind this error, when it came from a TCPDirect call.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Call { source, .. }
            | Error::BadAttributeValue { source, .. }
            | Error::BadZfAttr { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// True for `-EAGAIN` (nothing to do now; call the reactor and retry).
    pub fn is_would_block(&self) -> bool {
        self.kind() == io::ErrorKind::WouldBlock
    }
}

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        io::Error::new(e.kind(), e)
    }
}

/// `Ok(rc)` for a non-negative return, the named call's error for a negative one.
#[inline]
pub(crate) fn check(call: &'static str, rc: i32) -> Result<i32> {
    if rc < 0 {
        Err(Error::call(call, rc.into()))
    } else {
        Ok(rc)
    }
}

/// [`check`] for calls returning `ssize_t`.
#[inline]
pub(crate) fn check_isize(call: &'static str, rc: isize) -> Result<usize> {
    if rc < 0 {
        Err(Error::call(call, rc as i64))
    } else {
        Ok(rc as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_maps_to_kinds() {
        for (e, k) in [
            (libc::EAGAIN, io::ErrorKind::WouldBlock),
            (libc::ECONNREFUSED, io::ErrorKind::ConnectionRefused),
            (libc::ECONNRESET, io::ErrorKind::ConnectionReset),
            (libc::ENOTCONN, io::ErrorKind::NotConnected),
            (libc::EINVAL, io::ErrorKind::InvalidInput),
        ] {
            let err = Error::call("zft_send", -(e as i64));
            assert_eq!(err.kind(), k, "errno {e}");
            assert!(err.to_string().starts_with("zft_send failed"), "{err}");
            assert_eq!(err.raw_os_error(), Some(e));
        }
        assert!(Error::call("x", -(libc::EAGAIN as i64)).is_would_block());
        // An absurd return value still gives an error, not a panic.
        assert_eq!(
            Error::call("x", i64::MIN).raw_os_error(),
            Some(libc::EINVAL)
        );
    }

    #[test]
    fn io_error_keeps_kind_and_message() {
        let e: io::Error = Error::call("zftl_accept", -(libc::EAGAIN as i64)).into();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert!(e.to_string().contains("zftl_accept"));
    }
}
