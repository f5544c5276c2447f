//! Software backend of the Onload Extensions API.
//!
//! Each exported function behaves as the real `libonload_ext` does in a process that is not
//! running under Onload: presence is 0, naming and option setters succeed without effect, most
//! queries and every zero-copy call return `-ENOSYS`, the `*_nonaccel` socket helpers return an
//! ordinary kernel socket.
//!
//! When the process *does* run under Onload (`LD_PRELOAD=libonload.so`, as the `onload`
//! launcher arranges), Onload's library exports the same names. A definition in the executable
//! would hide them, so every function here first looks the name up with
//! `dlsym(RTLD_NEXT, name)` (once, cached) and, when another object provides it, calls that
//! definition instead of the stub: the same strategy as the vendor's static archive.

use crate::*;
use std::ffi::{c_char, c_int, c_uint, c_void};
use std::sync::atomic::{AtomicPtr, Ordering};

/// A symbol looked up once in the objects loaded after this one.
struct NextSymbol {
    /// NUL-terminated symbol name.
    name: &'static str,
    /// `UNRESOLVED` until looked up; then the address, or null when absent.
    addr: AtomicPtr<c_void>,
}

/// Marker for "not looked up yet" (never a valid function address).
const UNRESOLVED: *mut c_void = usize::MAX as *mut c_void;

impl NextSymbol {
    const fn new(name: &'static str) -> Self {
        Self {
            name,
            addr: AtomicPtr::new(UNRESOLVED),
        }
    }

    /// The address of the next definition of this symbol, if any object loaded after this
    /// one (normally Onload's preloaded `libonload.so`) provides it.
    fn get(&self) -> Option<*mut c_void> {
        let mut p = self.addr.load(Ordering::Acquire);
        if p == UNRESOLVED {
            debug_assert!(self.name.ends_with('\0'));
            // SAFETY: `name` is a NUL-terminated string literal; dlsym has no other
            // precondition and RTLD_NEXT is valid from any object that is not the last.
            p = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr().cast()) };
            self.addr.store(p, Ordering::Release);
        }
        (!p.is_null()).then_some(p)
    }
}

/// Sets `errno` for the stubs that report failure as `-1` + `errno`.
fn set_errno(e: c_int) {
    // SAFETY: __errno_location returns the calling thread's errno slot, always valid.
    unsafe { *libc::__errno_location() = e };
}

/// Defines each extension function: forward to Onload when it is loaded, else the stub value.
macro_rules! onload_ext_fns {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $ret:ty $stub:block )*) => {$(
        $(#[$doc])*
        ///
        /// # Safety
        ///
        /// The pointer arguments must be valid as the C API documents for this function.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn $name($($arg: $ty),*) -> $ret {
            static NEXT: NextSymbol = NextSymbol::new(concat!(stringify!($name), "\0"));
            if let Some(addr) = NEXT.get() {
                // SAFETY: `addr` is Onload's definition of this very C function, which has
                // the signature declared by the extensions headers, i.e. this one.
                let next = unsafe {
                    std::mem::transmute::<*mut c_void, unsafe extern "C" fn($($ty),*) -> $ret>(addr)
                };
                // SAFETY: the caller upholds the function's contract, which we pass through.
                return unsafe { next($($arg),*) };
            }
            $( let _ = $arg; )*
            $stub
        }
    )*};
}

const ENOSYS: c_int = libc::ENOSYS;

onload_ext_fns! {
    /// 1 under Onload, 0 otherwise.
    fn onload_is_present() -> c_int { 0 }
    /// Selects the Onload stack for new sockets; no effect without Onload (returns 0).
    fn onload_set_stackname(who: onload_stackname_who, scope: onload_stackname_scope, stackname: *const c_char) -> c_int { 0 }
    /// Saves the stack-name state; no effect without Onload (returns 0).
    fn onload_stackname_save() -> c_int { 0 }
    /// Restores the saved stack-name state; no effect without Onload (returns 0).
    fn onload_stackname_restore() -> c_int { 0 }
    /// Sets an integer stack option for new stacks; no effect without Onload (returns 0).
    fn onload_stack_opt_set_int(opt: *const c_char, val: i64) -> c_int { 0 }
    /// Sets a string stack option for new stacks; no effect without Onload (returns 0).
    fn onload_stack_opt_set_str(opt: *const c_char, val: *const c_char) -> c_int { 0 }
    /// Reads an integer stack option: `-ENOSYS` without Onload.
    fn onload_stack_opt_get_int(opt: *const c_char, val: *mut i64) -> c_int { -ENOSYS }
    /// Reads a string stack option: `-ENOSYS` without Onload.
    fn onload_stack_opt_get_str(opt: *const c_char, val: *mut c_char, val_out_len: *mut usize) -> c_int { -ENOSYS }
    /// Forgets per-thread stack options; no effect without Onload (returns 0).
    fn onload_stack_opt_reset() -> c_int { 0 }
    /// 1 if `fd` is accelerated (and fills `stat`), 0 otherwise: always 0 without Onload,
    /// leaving `stat` untouched.
    fn onload_fd_stat(fd: c_int, stat: *mut onload_stat) -> c_int { 0 }
    /// Whether `fd` supports a feature: `-ENOSYS` without Onload.
    fn onload_fd_check_feature(fd: c_int, feature: onload_fd_feature) -> c_int { -ENOSYS }
    /// Turns spinning on or off for this thread; no effect without Onload (returns 0).
    fn onload_thread_set_spin(type_: onload_spin_type, on: c_int) -> c_int { 0 }
    /// Reads this thread's spin mask: `-ENOSYS` without Onload.
    fn onload_thread_get_spin(state: *mut c_uint) -> c_int { -ENOSYS }
    /// Moves `fd` to the current stack: reports success (0) without Onload, as the vendor stub does.
    fn onload_move_fd(fd: c_int) -> c_int { 0 }
    /// Wire-ordered epoll: `-ENOSYS` without Onload.
    fn onload_ordered_epoll_wait(epfd: c_int, events: *mut epoll_event, oo_events: *mut onload_ordered_epoll_event, maxevents: c_int, timeout: c_int) -> c_int { -ENOSYS }
    /// Starts a delegated send: `ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET` without Onload.
    fn onload_delegated_send_prepare(fd: c_int, size: c_int, flags: c_uint, out: *mut onload_delegated_send) -> onload_delegated_send_rc {
        onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET
    }
    /// Completes a delegated send: -1 with `errno = ENOSYS` without Onload.
    fn onload_delegated_send_complete(fd: c_int, iov: *const iovec, iovlen: c_int, flags: c_int) -> c_int { set_errno(ENOSYS); -1 }
    /// Cancels a delegated send: -1 with `errno = ENOSYS` without Onload.
    fn onload_delegated_send_cancel(fd: c_int) -> c_int { set_errno(ENOSYS); -1 }
    /// Reads Onload's TCP info: -1 with `errno = EINVAL` without Onload.
    fn onload_get_tcp_info(fd: c_int, info: *mut onload_tcp_info, len_in_out: *mut c_int) -> c_int { set_errno(libc::EINVAL); -1 }
    /// A socket Onload will not accelerate: a plain `socket()` without Onload.
    fn onload_socket_nonaccel(domain: c_int, type_: c_int, protocol: c_int) -> c_int {
        // SAFETY: socket(2) takes plain integers.
        unsafe { libc::socket(domain, type_, protocol) }
    }
    /// A socket accelerated for multicast only: a plain `socket()` without Onload.
    fn onload_socket_unicast_nonaccel(domain: c_int, type_: c_int, protocol: c_int) -> c_int {
        // SAFETY: socket(2) takes plain integers.
        unsafe { libc::socket(domain, type_, protocol) }
    }
    /// A socket accelerated for transmit only: a plain `socket()` without Onload.
    fn onload_socket_rx_nonaccel(domain: c_int, type_: c_int, protocol: c_int) -> c_int {
        // SAFETY: socket(2) takes plain integers.
        unsafe { libc::socket(domain, type_, protocol) }
    }
    /// Waits for the stack to finish with sent zero-copy buffers; 0 without Onload.
    fn onload_zc_await_stack_sync(fd: c_int) -> c_int { 0 }
    /// Allocates zero-copy buffers: `-ENOSYS` without Onload.
    fn onload_zc_alloc_buffers(fd: c_int, iovecs: *mut onload_zc_iovec, iovecs_len: c_int, flags: onload_zc_buffer_type_flags) -> c_int { -ENOSYS }
    /// Releases zero-copy buffers: `-ENOSYS` without Onload.
    fn onload_zc_release_buffers(fd: c_int, bufs: *mut onload_zc_handle, bufs_len: c_int) -> c_int { -ENOSYS }
    /// Zero-copy receive: `-ENOSYS` without Onload.
    fn onload_zc_recv(fd: c_int, args: *mut onload_zc_recv_args) -> c_int { -ENOSYS }
    /// Zero-copy send: `-ENOSYS` without Onload.
    fn onload_zc_send(msgs: *mut onload_zc_mmsg, mlen: c_int, flags: c_int) -> c_int { -ENOSYS }
    /// Installs a receive filter callback: `-ENOSYS` without Onload.
    fn onload_set_recv_filter(fd: c_int, filter: onload_zc_recv_filter_callback, cb_arg: *mut c_void, flags: c_int) -> c_int { -ENOSYS }
    /// Reads kernel-path datagrams of an accelerated socket: `-ENOSYS` without Onload.
    fn onload_recvmsg_kernel(fd: c_int, msg: *mut msghdr, flags: c_int) -> c_int { -ENOSYS }
    /// Allocates a templated send: `-ENOSYS` without Onload.
    fn onload_msg_template_alloc(fd: c_int, initial_msg: *const iovec, mlen: c_int, handle: *mut onload_template_handle, flags: c_uint) -> c_int { -ENOSYS }
    /// Updates (and maybe sends) a templated send: `-ENOSYS` without Onload.
    fn onload_msg_template_update(fd: c_int, handle: onload_template_handle, updates: *const onload_template_msg_update_iovec, ulen: c_int, flags: c_uint) -> c_int { -ENOSYS }
    /// Abandons a templated send: `-ENOSYS` without Onload.
    fn onload_msg_template_abort(fd: c_int, handle: onload_template_handle) -> c_int { -ENOSYS }
    /// Requests hardware timestamps (first API): `-ENOSYS` without Onload.
    fn onload_timestamping_request(fd: c_int, flags: c_uint) -> c_int { -ENOSYS }
}
