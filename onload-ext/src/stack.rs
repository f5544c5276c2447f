//! Stack names (which Onload stack new sockets join) and stack options (`EF_*` settings for
//! stacks created from now on).

use crate::error::{Error, Result, neg_errno};
use onload_sys as ffi;
use std::ffi::{CStr, CString, c_char};
use std::marker::PhantomData;

/// Whom a stack name applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Who {
    /// The calling thread only (`ONLOAD_THIS_THREAD`).
    ThisThread,
    /// Every thread of the process (`ONLOAD_ALL_THREADS`).
    AllThreads,
}

impl Who {
    fn raw(self) -> ffi::onload_stackname_who {
        match self {
            Who::ThisThread => ffi::onload_stackname_who_ONLOAD_THIS_THREAD,
            Who::AllThreads => ffi::onload_stackname_who_ONLOAD_ALL_THREADS,
        }
    }
}

/// How widely a stack name is shared: sockets given the same name in the same scope share a
/// stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Keep the scope currently in force (`ONLOAD_SCOPE_NOCHANGE`).
    NoChange,
    /// The name is private to the thread (`ONLOAD_SCOPE_THREAD`).
    Thread,
    /// The name is private to the process (`ONLOAD_SCOPE_PROCESS`).
    Process,
    /// The name is shared by the user's processes (`ONLOAD_SCOPE_USER`).
    User,
    /// The name is system-wide (`ONLOAD_SCOPE_GLOBAL`).
    Global,
}

impl Scope {
    fn raw(self) -> ffi::onload_stackname_scope {
        match self {
            Scope::NoChange => ffi::onload_stackname_scope_ONLOAD_SCOPE_NOCHANGE,
            Scope::Thread => ffi::onload_stackname_scope_ONLOAD_SCOPE_THREAD,
            Scope::Process => ffi::onload_stackname_scope_ONLOAD_SCOPE_PROCESS,
            Scope::User => ffi::onload_stackname_scope_ONLOAD_SCOPE_USER,
            Scope::Global => ffi::onload_stackname_scope_ONLOAD_SCOPE_GLOBAL,
        }
    }
}

/// The stack that new sockets should join.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackName<'a> {
    /// The stack of this name (created on first use).
    Named(&'a str),
    /// No stack: new sockets are not accelerated (`ONLOAD_DONT_ACCELERATE`).
    DontAccelerate,
}

const SET_STACKNAME: &str = "onload_set_stackname";

/// Selects the stack that sockets created from now on (by `who`) join.
///
/// * **Under Onload:** takes effect for sockets created afterwards; existing sockets stay
///   where they are.
/// * **Without Onload:** does nothing and returns `Ok(())` (the stub's answer).
///
/// A name containing a NUL byte is an [`Error::InvalidArgument`]. Prefer
/// [`StackNameGuard`], which puts the previous setting back.
pub fn set_stackname(who: Who, scope: Scope, name: StackName<'_>) -> Result<()> {
    let owned = match name {
        StackName::Named(n) => Some(CString::new(n).map_err(|_| {
            Error::invalid(
                SET_STACKNAME,
                format!("stack name {n:?} contains a NUL byte"),
            )
        })?),
        StackName::DontAccelerate => None,
    };
    let ptr = owned
        .as_deref()
        .map_or(ffi::ONLOAD_DONT_ACCELERATE, CStr::as_ptr);
    // SAFETY: `ptr` is NULL (ONLOAD_DONT_ACCELERATE) or a NUL-terminated string that outlives
    // the call; Onload copies the name.
    let rc = unsafe { ffi::onload_set_stackname(who.raw(), scope.raw(), ptr) };
    neg_errno(SET_STACKNAME, rc).map(|_| ())
}

/// Sets the stack name while it lives and puts the previous setting back when dropped
/// (also when the thread unwinds from a panic).
///
/// It saves the calling thread's stack-name setting (`onload_stackname_save()`), sets the new
/// one (`onload_set_stackname()`), and on drop restores the saved one
/// (`onload_stackname_restore()`). Saved settings form a per-thread stack, so guards nest; the
/// guard is neither `Send` nor `Sync` because it must be dropped on the thread that made it.
///
/// * **Under Onload:** sockets created while the guard lives join the named stack.
/// * **Without Onload:** every step is a no-op that succeeds, so the guard is harmless.
///
/// ```
/// use onload_ext::{Scope, StackName, StackNameGuard, Who};
///
/// let guard = StackNameGuard::new(Who::ThisThread, Scope::Process, StackName::Named("feed"))?;
/// let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap(); // in stack "feed" under Onload
/// drop(guard); // sockets made from here on go where they went before
/// # drop(sock);
/// # Ok::<(), onload_ext::Error>(())
/// ```
///
/// The guard cannot leave its thread:
///
/// ```compile_fail,E0277
/// use onload_ext::{Scope, StackName, StackNameGuard, Who};
/// let g = StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("x")).unwrap();
/// std::thread::spawn(move || drop(g));
/// ```
#[derive(Debug)]
#[must_use = "the previous stack name is restored when the guard is dropped"]
pub struct StackNameGuard {
    /// Restoring must happen on the thread that saved.
    _thread_bound: PhantomData<*const ()>,
}

const SAVE: &str = "onload_stackname_save";
const RESTORE: &str = "onload_stackname_restore";

impl StackNameGuard {
    /// Saves the current setting, then sets `name` for `who` in `scope`. When setting fails,
    /// the saved setting is restored at once and the error returned.
    pub fn new(who: Who, scope: Scope, name: StackName<'_>) -> Result<StackNameGuard> {
        if let StackName::Named(n) = name {
            if n.contains('\0') {
                return Err(Error::invalid(
                    SET_STACKNAME,
                    format!("stack name {n:?} contains a NUL byte"),
                ));
            }
        }
        // SAFETY: no arguments, no preconditions.
        neg_errno(SAVE, unsafe { ffi::onload_stackname_save() })?;
        let guard = StackNameGuard {
            _thread_bound: PhantomData,
        };
        // On failure `guard` drops here, restoring what was saved.
        set_stackname(who, scope, name)?;
        Ok(guard)
    }

    /// Restores the saved setting now, reporting failure (dropping the guard does the same
    /// but cannot report).
    pub fn restore(self) -> Result<()> {
        std::mem::forget(self);
        // SAFETY: no arguments; this guard's save is the one on top of the thread's stack.
        neg_errno(RESTORE, unsafe { ffi::onload_stackname_restore() }).map(|_| ())
    }
}

impl Drop for StackNameGuard {
    fn drop(&mut self) {
        // SAFETY: no arguments; this guard's save is the one on top of the thread's stack.
        let _ = unsafe { ffi::onload_stackname_restore() };
    }
}

/// Converts an option name for the stack-option calls.
fn opt_name(call: &'static str, name: &str) -> Result<CString> {
    CString::new(name)
        .map_err(|_| Error::invalid(call, format!("option name {name:?} contains a NUL byte")))
}

/// Sets Onload option `name` (an `EF_*` name) to an integer for stacks this thread creates
/// from now on.
///
/// * **Under Onload:** an unknown name or bad value is an [`Error::Os`].
/// * **Without Onload:** does nothing and returns `Ok(())`.
pub fn stack_opt_set_int(name: &str, value: i64) -> Result<()> {
    const CALL: &str = "onload_stack_opt_set_int";
    let name = opt_name(CALL, name)?;
    // SAFETY: `name` is NUL-terminated and outlives the call.
    neg_errno(CALL, unsafe {
        ffi::onload_stack_opt_set_int(name.as_ptr(), value)
    })
    .map(|_| ())
}

/// Sets Onload option `name` to a string for stacks this thread creates from now on.
///
/// * **Under Onload:** an unknown name or bad value is an [`Error::Os`].
/// * **Without Onload:** does nothing and returns `Ok(())`.
pub fn stack_opt_set_str(name: &str, value: &str) -> Result<()> {
    const CALL: &str = "onload_stack_opt_set_str";
    let name = opt_name(CALL, name)?;
    let value = CString::new(value)
        .map_err(|_| Error::invalid(CALL, format!("value {value:?} contains a NUL byte")))?;
    // SAFETY: both strings are NUL-terminated and outlive the call.
    neg_errno(CALL, unsafe {
        ffi::onload_stack_opt_set_str(name.as_ptr(), value.as_ptr())
    })
    .map(|_| ())
}

/// Reads the integer value option `name` has for new stacks.
///
/// * **Under Onload:** the value, or [`Error::Os`] for an unknown name.
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`).
pub fn stack_opt_get_int(name: &str) -> Result<i64> {
    const CALL: &str = "onload_stack_opt_get_int";
    let name = opt_name(CALL, name)?;
    let mut value = 0i64;
    // SAFETY: `name` is NUL-terminated; `value` is a valid i64 to write.
    neg_errno(CALL, unsafe {
        ffi::onload_stack_opt_get_int(name.as_ptr(), &mut value)
    })?;
    Ok(value)
}

/// Reads the string value option `name` has for new stacks (growing the buffer as Onload
/// asks, so any length is returned whole).
///
/// * **Under Onload:** the value, or [`Error::Os`] for an unknown name.
/// * **Without Onload:** [`Error::Unsupported`] (the stub returns `-ENOSYS`).
pub fn stack_opt_get_str(name: &str) -> Result<String> {
    const CALL: &str = "onload_stack_opt_get_str";
    let name = opt_name(CALL, name)?;
    let mut buf: Vec<c_char> = vec![0; 64];
    // Onload answers -ENOSPC with the size it needs; a few rounds at most.
    for _ in 0..8 {
        let mut len = buf.len();
        // SAFETY: `buf` is valid for writes of `len` bytes; `name` is NUL-terminated.
        let rc =
            unsafe { ffi::onload_stack_opt_get_str(name.as_ptr(), buf.as_mut_ptr(), &mut len) };
        if rc == -libc::ENOSPC {
            buf.resize(len.max(buf.len() * 2), 0);
            continue;
        }
        neg_errno(CALL, rc)?;
        let bytes: Vec<u8> = buf
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        return String::from_utf8(bytes)
            .map_err(|e| Error::invalid(CALL, format!("the value is not UTF-8: {e}")));
    }
    Err(Error::from_errno(CALL, libc::ENOSPC))
}

/// Forgets every option set with [`stack_opt_set_int`] / [`stack_opt_set_str`]: new stacks
/// take their options from the environment again.
///
/// * **Without Onload:** does nothing and returns `Ok(())`.
pub fn stack_opt_reset() -> Result<()> {
    // SAFETY: no arguments, no preconditions.
    neg_errno("onload_stack_opt_reset", unsafe {
        ffi::onload_stack_opt_reset()
    })
    .map(|_| ())
}
