//! The crate's error type, and the one place where C return conventions become `Result`s.

use std::ffi::c_int;
use std::io;
use std::os::fd::RawFd;

/// Why a delegated send could not start: the non-`OK` results of
/// `onload_delegated_send_prepare()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DelegatedSendRefusal {
    /// Not an accelerated, connected TCP socket able to send. This is the answer in every
    /// process that does not run under Onload.
    BadSocket,
    /// The headers did not fit the buffer offered (the crate retries with a larger one, so
    /// this is seen only when Onload keeps asking for more).
    SmallHeader,
    /// The socket's send queue is not empty: send normally until it drains.
    SendQueueBusy,
    /// The peer's receive window is closed.
    NoWindow,
    /// The destination MAC address is not known (a normal send of the first data usually
    /// resolves it; or ask for [`crate::DelegatedSendFlags::RESOLVE_ARP`]).
    NoArp,
    /// The congestion window is closed.
    NoCongestionWindow,
    /// A result this crate does not know (a newer Onload).
    Other(u32),
}

impl std::fmt::Display for DelegatedSendRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = match self {
            Self::BadSocket => "not an accelerated, connected TCP socket able to send",
            Self::SmallHeader => "the header buffer is too small",
            Self::SendQueueBusy => "the send queue is not empty",
            Self::NoWindow => "the peer's receive window is closed",
            Self::NoArp => "the destination MAC address is not known",
            Self::NoCongestionWindow => "the congestion window is closed",
            Self::Other(rc) => return write!(f, "unknown result {rc}"),
        };
        f.write_str(s)
    }
}

/// Everything that can go wrong in this crate. Each variant names the C call (or the
/// operation) that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The call is not available: it returned `ENOSYS`. That is the defined answer of most
    /// queries and of every zero-copy, template and timestamping call in a process that does
    /// not run under Onload (and of an Onload too old to have the call).
    #[error(
        "{call}: not available (this process does not run under Onload, or its Onload lacks the call): {source}"
    )]
    Unsupported {
        /// The C function.
        call: &'static str,
        /// The OS error (`ENOSYS`).
        #[source]
        source: io::Error,
    },
    /// The call failed with an OS error.
    #[error("{call} failed: {source}")]
    Os {
        /// The C function.
        call: &'static str,
        /// The OS error it reported.
        #[source]
        source: io::Error,
    },
    /// The file descriptor given is not open.
    #[error("{call}: file descriptor {fd} is not open: {source}")]
    BadFd {
        /// The C function that would have been called.
        call: &'static str,
        /// The descriptor.
        fd: RawFd,
        /// The OS error (`EBADF`).
        #[source]
        source: io::Error,
    },
    /// The file descriptor given is open but is not a socket, and the call needs one.
    #[error("{call}: file descriptor {fd} is not a socket")]
    NotASocket {
        /// The C function that would have been called.
        call: &'static str,
        /// The descriptor.
        fd: RawFd,
    },
    /// An argument is not acceptable; nothing was called.
    #[error("{call}: {what}")]
    InvalidArgument {
        /// The C function that would have been called.
        call: &'static str,
        /// What is wrong with the argument.
        what: String,
    },
    /// `onload_delegated_send_prepare()` refused to start a delegated send.
    #[error("{call}: {refusal}")]
    DelegatedSend {
        /// The C function (`onload_delegated_send_prepare`).
        call: &'static str,
        /// Why.
        refusal: DelegatedSendRefusal,
    },
}

impl Error {
    /// The C function (or operation) that failed.
    pub fn call(&self) -> &'static str {
        match self {
            Error::Unsupported { call, .. }
            | Error::Os { call, .. }
            | Error::BadFd { call, .. }
            | Error::NotASocket { call, .. }
            | Error::InvalidArgument { call, .. }
            | Error::DelegatedSend { call, .. } => call,
        }
    }

    /// The OS error number behind this error, if there is one.
    pub fn raw_os_error(&self) -> Option<i32> {
        match self {
            Error::Unsupported { source, .. }
            | Error::Os { source, .. }
            | Error::BadFd { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }

    /// True for [`Error::Unsupported`]: the call does not exist here (no Onload).
    pub fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. })
    }

    /// An error for OS error number `errno` returned by `call`.
    pub(crate) fn from_errno(call: &'static str, errno: c_int) -> Error {
        let source = io::Error::from_raw_os_error(errno);
        if errno == libc::ENOSYS {
            Error::Unsupported { call, source }
        } else {
            Error::Os { call, source }
        }
    }

    /// An [`Error::InvalidArgument`].
    pub(crate) fn invalid(call: &'static str, what: impl Into<String>) -> Error {
        Error::InvalidArgument {
            call,
            what: what.into(),
        }
    }
}

/// The crate's `Result`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// For calls that return a negative errno on failure (`-ENOSYS`, ...) and `>= 0` on success.
pub(crate) fn neg_errno(call: &'static str, rc: c_int) -> Result<c_int> {
    if rc < 0 {
        Err(Error::from_errno(call, -rc))
    } else {
        Ok(rc)
    }
}

/// For calls that return `-1` and set `errno` on failure.
pub(crate) fn minus_one_errno(call: &'static str, rc: c_int) -> Result<c_int> {
    if rc == -1 {
        let errno = io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO);
        Err(Error::from_errno(call, errno))
    } else {
        Ok(rc)
    }
}

/// Checks that `fd` is an open descriptor before it is handed to `call` (the stub library
/// would answer for a closed descriptor as for any other).
pub(crate) fn check_open(call: &'static str, fd: RawFd) -> Result<()> {
    stat_fd(call, fd).map(|_| ())
}

/// Checks that `fd` is an open socket before it is handed to `call`.
pub(crate) fn check_socket(call: &'static str, fd: RawFd) -> Result<()> {
    let st = stat_fd(call, fd)?;
    if st.st_mode & libc::S_IFMT == libc::S_IFSOCK {
        Ok(())
    } else {
        Err(Error::NotASocket { call, fd })
    }
}

fn stat_fd(call: &'static str, fd: RawFd) -> Result<libc::stat> {
    let bad = |source| Error::BadFd { call, fd, source };
    if fd < 0 {
        return Err(bad(io::Error::from_raw_os_error(libc::EBADF)));
    }
    // SAFETY: all-zero is a valid `struct stat` (plain integers).
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid, writable `struct stat`; fstat has no other precondition.
    if unsafe { libc::fstat(fd, &mut st) } != 0 {
        return Err(bad(io::Error::last_os_error()));
    }
    Ok(st)
}

/// Converts a length to the `int` a C call takes, or says which argument is too long.
pub(crate) fn to_c_int(call: &'static str, what: &str, n: usize) -> Result<c_int> {
    c_int::try_from(n).map_err(|_| Error::invalid(call, format!("{what} ({n}) exceeds INT_MAX")))
}
