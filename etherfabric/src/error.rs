//! The crate's error type.

use std::io;

/// Everything that can go wrong in this crate.
///
/// Each variant names the ef_vi call (or the check) that failed. Errors the library reports as
/// a negative errno keep it as an [`io::Error`] (`source`), and the most common conditions have
/// variants of their own, so that callers can branch on them without decoding errno values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An ef_vi call failed with the OS error `source`.
    #[error("{call} failed: {source}")]
    Os {
        /// The ef_vi function that failed.
        call: &'static str,
        /// The error it returned.
        #[source]
        source: io::Error,
    },
    /// The adapter, the driver or the software backend does not support what was asked
    /// (`EOPNOTSUPP`, `ENOSYS`, `EPROTONOSUPPORT`).
    #[error("{call}: not supported by this adapter or ef_vi backend ({source})")]
    Unsupported {
        /// The ef_vi function that refused.
        call: &'static str,
        /// The error it returned.
        #[source]
        source: io::Error,
    },
    /// The named interface does not exist (or is not one ef_vi can use).
    #[error("{call}: no such interface: {interface:?}")]
    NoSuchInterface {
        /// The ef_vi function that failed.
        call: &'static str,
        /// The interface name or index asked for.
        interface: String,
    },
    /// The process lacks a permission ef_vi needs (`EPERM`, `EACCES`): the Onload driver's
    /// device, or `CAP_NET_RAW` for the software backend.
    #[error(
        "{call}: permission denied ({source}); ef_vi needs access to the Onload driver \
         (or CAP_NET_RAW for the software backend)"
    )]
    Permission {
        /// The ef_vi function that failed.
        call: &'static str,
        /// The error it returned.
        #[source]
        source: io::Error,
    },
    /// The linked ef_vi library is not the release the bindings describe: its structures may
    /// differ from the ones this program was compiled with, so it is not used. The message
    /// names both versions and the environment variable that skips the check.
    #[error("ef_driver_open: {0}")]
    VersionMismatch(crate::ffi::VersionMismatch),
    /// A descriptor ring has no free slot (`EAGAIN` from an init call): poll for completions
    /// first.
    #[error("{call}: the descriptor ring is full")]
    RingFull {
        /// The ef_vi function that refused.
        call: &'static str,
    },
    /// An argument was out of range or malformed; `what` says which and why.
    #[error("invalid argument: {what}")]
    InvalidArgument {
        /// What was wrong.
        what: String,
    },
    /// A packet buffer from a different [`BufferPool`](crate::BufferPool) than the one this
    /// VI uses was given to it.
    #[error("the packet buffer belongs to another buffer pool than this VI's")]
    ForeignBuffer,
    /// A transmit was attempted after an `EF_EVENT_TYPE_TX_ERROR` event and before
    /// [`Vi::recover_tx_error`](crate::Vi::recover_tx_error).
    #[error("the TX queue failed; call Vi::recover_tx_error before sending again")]
    TxQueueFailed,
    /// A packed-stream buffer holds a packet header whose offsets lead outside the buffer
    /// (see [`PackedStreamPackets`](crate::PackedStreamPackets)).
    #[error("malformed packed-stream buffer at offset {offset}: {reason}")]
    MalformedPackedStream {
        /// Where the bad header is in the buffer.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A filter specification could not be parsed.
    #[error("bad filter spec {spec:?}: {reason}")]
    FilterSyntax {
        /// The text given.
        spec: String,
        /// What was wrong with it.
        reason: String,
    },
}

/// This crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The error for a negative errno `rc` returned by `call`.
    pub(crate) fn from_rc(call: &'static str, rc: i32) -> Error {
        let errno = rc.checked_neg().unwrap_or(libc::EIO);
        Error::from_errno(call, errno)
    }

    /// The error for a (positive) errno value reported by `call`.
    pub(crate) fn from_errno(call: &'static str, errno: i32) -> Error {
        let source = io::Error::from_raw_os_error(errno);
        match errno {
            libc::EOPNOTSUPP | libc::ENOSYS | libc::EPROTONOSUPPORT => {
                Error::Unsupported { call, source }
            }
            libc::EPERM | libc::EACCES => Error::Permission { call, source },
            _ => Error::Os { call, source },
        }
    }

    /// An [`Error::InvalidArgument`].
    pub(crate) fn invalid(what: impl Into<String>) -> Error {
        Error::InvalidArgument { what: what.into() }
    }

    /// The OS error number carried by this error, if any.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Os { source, .. }
            | Error::Unsupported { source, .. }
            | Error::Permission { source, .. } => source.raw_os_error(),
            Error::RingFull { .. } => Some(libc::EAGAIN),
            _ => None,
        }
    }
}

/// Turns a C return value into `Ok(value)` when non-negative, else the error for `call`.
#[inline]
pub(crate) fn check(call: &'static str, rc: i32) -> Result<i32> {
    if rc < 0 {
        Err(Error::from_rc(call, rc))
    } else {
        Ok(rc)
    }
}

/// An operation that handed a packet buffer to the VI failed; the buffer comes back with the
/// error so that it is not lost.
#[derive(Debug)]
pub struct Rejected<B> {
    /// The buffer (or buffers) given, returned to the caller.
    pub buf: B,
    /// Why the operation failed.
    pub error: Error,
}

impl<B> Rejected<B> {
    pub(crate) fn new(buf: B, error: Error) -> Self {
        Rejected { buf, error }
    }
}

impl<B: std::fmt::Debug> std::fmt::Display for Rejected<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl<B: std::fmt::Debug> std::error::Error for Rejected<B> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl<B> From<Rejected<B>> for Error {
    fn from(r: Rejected<B>) -> Error {
        r.error
    }
}
