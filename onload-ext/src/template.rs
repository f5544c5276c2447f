//! Templated sends: a packet prepared in advance, patched and sent when the last bytes are
//! known.

use crate::error::{Error, Result, neg_errno, to_c_int};
use crate::fd::socket_fd;
use onload_sys as ffi;
use std::os::fd::{AsFd, BorrowedFd};

/// Options of [`Template::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TemplateOptions {
    /// When no PIO region is free, allocate anyway and retry on each update
    /// (`ONLOAD_TEMPLATE_FLAGS_PIO_RETRY`); without it, allocation fails.
    pub pio_retry: bool,
}

/// A templated send on an accelerated TCP socket: the bulk of a packet handed to Onload in
/// advance, updated in place, then sent with [`Template::send`]. Dropping a template that was
/// not sent aborts it (`onload_msg_template_abort()`), so it never leaks.
///
/// It borrows the socket (`'s`): Onload frees templates when their socket closes, so a
/// template must not outlive it.
///
/// * **Under Onload:** needs a NIC with PIO (not SN1000 / X3 adapters, where allocation fails).
/// * **Without Onload:** [`Template::new`] fails with [`Error::Unsupported`] (the stub returns
///   `-ENOSYS`); fall back to an ordinary `write`.
///
/// ```no_run
/// use std::io::Write;
/// let stream = std::net::TcpStream::connect("192.0.2.1:9000").unwrap();
/// match onload_ext::Template::new(&stream, &[b"PRICE 0000\n"], Default::default()) {
///     Ok(mut t) => {
///         t.update(6, b"1234")?;
///         t.send(false)?;
///     }
///     Err(e) if e.is_unsupported() => (&stream).write_all(b"PRICE 1234\n").unwrap(),
///     Err(e) => return Err(e),
/// }
/// # Ok::<(), onload_ext::Error>(())
/// ```
///
/// A template cannot outlive its socket:
///
/// ```compile_fail,E0597
/// let t = {
///     let s = std::net::TcpStream::connect("127.0.0.1:1").unwrap();
///     onload_ext::Template::new(&s, &[b"x"], Default::default())
/// };
/// drop(t);
/// ```
#[derive(Debug)]
pub struct Template<'s> {
    fd: BorrowedFd<'s>,
    handle: ffi::onload_template_handle,
    len: usize,
}

// SAFETY: the handle is owned by this value alone; Onload's template calls lock the socket,
// so they may be made from any thread (one at a time, which `&mut self` ensures).
unsafe impl Send for Template<'_> {}

const ALLOC: &str = "onload_msg_template_alloc";
const UPDATE: &str = "onload_msg_template_update";
const ABORT: &str = "onload_msg_template_abort";

impl<'s> Template<'s> {
    /// Allocates a template whose packet is the concatenation of `parts`.
    ///
    /// * **Under Onload:** [`Error::Os`] when the socket is not an accelerated connected TCP
    ///   socket or no PIO is free.
    /// * **Without Onload:** [`Error::Unsupported`].
    ///
    /// The packet must not be empty, and `sock` must be a socket.
    pub fn new<F: AsFd + ?Sized>(
        sock: &'s F,
        parts: &[&[u8]],
        options: TemplateOptions,
    ) -> Result<Template<'s>> {
        let fd = sock.as_fd();
        let raw = socket_fd(ALLOC, fd)?;
        let len: usize = parts.iter().map(|p| p.len()).sum();
        if len == 0 {
            return Err(Error::invalid(ALLOC, "the template packet is empty"));
        }
        let iov: Vec<ffi::iovec> = parts
            .iter()
            .map(|p| ffi::iovec {
                iov_base: p.as_ptr().cast_mut().cast(),
                iov_len: p.len(),
            })
            .collect();
        let n = to_c_int(ALLOC, "number of parts", iov.len())?;
        let flags = if options.pio_retry {
            ffi::onload_template_flags_ONLOAD_TEMPLATE_FLAGS_PIO_RETRY
        } else {
            0
        };
        let mut handle: ffi::onload_template_handle = std::ptr::null_mut();
        // SAFETY: `iov` describes readable memory (Onload only reads it, copying the data);
        // `handle` is a valid place for the result.
        neg_errno(ALLOC, unsafe {
            ffi::onload_msg_template_alloc(raw, iov.as_ptr(), n, &mut handle, flags)
        })?;
        Ok(Template { fd, handle, len })
    }

    /// Length of the templated packet's payload.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a template is never empty.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Overwrites the bytes at `offset` with `data` (updates accumulate). Allocates nothing.
    ///
    /// `offset + data.len()` must lie within the packet ([`Error::InvalidArgument`]).
    pub fn update(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        let iov = self.update_iovec(offset, data)?;
        self.raw_update(std::slice::from_ref(&iov), 0)
    }

    /// Applies several `(offset, data)` updates in one call (allocating nothing for up to
    /// [`Template::INLINE_UPDATES`] of them).
    pub fn update_many(&mut self, updates: &[(usize, &[u8])]) -> Result<()> {
        self.with_update_iovecs(updates, |iov| self.raw_update(iov, 0))
    }

    /// Sends the packet as it is now, consuming the template (ownership passes to Onload
    /// whatever the result). `dont_wait`: fail instead of blocking when Onload has to fall
    /// back to a normal send that would block (`ONLOAD_TEMPLATE_FLAGS_DONTWAIT`).
    pub fn send(self, dont_wait: bool) -> Result<()> {
        self.update_and_send(&[], dont_wait)
    }

    /// Applies `updates` and sends, in one call (see [`Template::send`]). When an update is
    /// out of range nothing is sent and the template stays alive until dropped (aborted).
    pub fn update_and_send(self, updates: &[(usize, &[u8])], dont_wait: bool) -> Result<()> {
        let mut flags = ffi::onload_template_flags_ONLOAD_TEMPLATE_FLAGS_SEND_NOW;
        if dont_wait {
            flags |= ffi::onload_template_flags_ONLOAD_TEMPLATE_FLAGS_DONTWAIT;
        }
        let mut sent = false;
        let r = self.with_update_iovecs(updates, |iov| {
            sent = true;
            self.raw_update(iov, flags)
        });
        if sent {
            // Onload owns the template from the SEND_NOW call on: never abort it.
            std::mem::forget(self);
        }
        r
    }

    /// Abandons the template without sending, reporting failure (dropping does the same but
    /// cannot report).
    pub fn abort(self) -> Result<()> {
        let (fd, handle) = (self.fd, self.handle);
        std::mem::forget(self);
        // SAFETY: `handle` is a live template of `fd` that we own, aborted once, here.
        neg_errno(ABORT, unsafe {
            ffi::onload_msg_template_abort(fd_raw(fd), handle)
        })
        .map(|_| ())
    }

    /// The Onload handle, for the raw bindings (still owned by this value).
    pub fn handle(&self) -> ffi::onload_template_handle {
        self.handle
    }

    /// How many updates [`Template::update_many`] and [`Template::update_and_send`] pass
    /// without allocating.
    pub const INLINE_UPDATES: usize = 8;

    /// The C description of one update, checked against the template's length.
    fn update_iovec(
        &self,
        offset: usize,
        data: &[u8],
    ) -> Result<ffi::onload_template_msg_update_iovec> {
        let end = offset.checked_add(data.len());
        if end.is_none_or(|e| e > self.len) {
            return Err(Error::invalid(
                UPDATE,
                format!(
                    "update of {} bytes at offset {offset} runs past the {}-byte template",
                    data.len(),
                    self.len
                ),
            ));
        }
        Ok(ffi::onload_template_msg_update_iovec {
            otmu_base: data.as_ptr().cast_mut().cast(),
            otmu_len: data.len(),
            otmu_offset: offset as ffi::off_t,
            otmu_flags: 0,
        })
    }

    /// Calls `f` with this template and the C descriptions of `updates` (on the stack when
    /// there are few).
    fn with_update_iovecs<R>(
        &self,
        updates: &[(usize, &[u8])],
        f: impl FnOnce(&[ffi::onload_template_msg_update_iovec]) -> Result<R>,
    ) -> Result<R> {
        if updates.len() <= Self::INLINE_UPDATES {
            let mut inline =
                [ffi::onload_template_msg_update_iovec::default(); Self::INLINE_UPDATES];
            for (slot, &(offset, data)) in inline.iter_mut().zip(updates) {
                *slot = self.update_iovec(offset, data)?;
            }
            f(&inline[..updates.len()])
        } else {
            let iov = updates
                .iter()
                .map(|&(offset, data)| self.update_iovec(offset, data))
                .collect::<Result<Vec<_>>>()?;
            f(&iov)
        }
    }

    fn raw_update(&self, iov: &[ffi::onload_template_msg_update_iovec], flags: u32) -> Result<()> {
        let n = to_c_int(UPDATE, "number of updates", iov.len())?;
        let ptr = if iov.is_empty() {
            std::ptr::null()
        } else {
            iov.as_ptr()
        };
        // SAFETY: `handle` is a live template of this socket; `iov` describes readable
        // memory that Onload copies.
        neg_errno(UPDATE, unsafe {
            ffi::onload_msg_template_update(fd_raw(self.fd), self.handle, ptr, n, flags)
        })
        .map(|_| ())
    }
}

fn fd_raw(fd: BorrowedFd<'_>) -> std::ffi::c_int {
    std::os::fd::AsRawFd::as_raw_fd(&fd)
}

impl Drop for Template<'_> {
    fn drop(&mut self) {
        // SAFETY: as in `abort`: a live template we own, aborted once.
        let _ = unsafe { ffi::onload_msg_template_abort(fd_raw(self.fd), self.handle) };
    }
}
