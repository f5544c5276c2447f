//! Safe Rust interface to the **Onload Extensions API** (`onload/extensions*.h`): the extra
//! calls a program can make on ordinary sockets when AMD Solarflare Onload accelerates them,
//! and that give a defined answer when it does not.
//!
//! # With and without Onload
//!
//! A program using this crate is an ordinary `std::net` program. Run it as usual and the
//! kernel handles its sockets; run it under Onload (`onload ./app`, which preloads
//! `libonload.so`) and Onload accelerates them. The extension calls reach Onload in the
//! second case and give the vendor stub library's answers in the first, so one binary
//! serves both:
//!
//! | Kind of call | Without Onload | Under Onload |
//! |---|---|---|
//! | [`is_present`] | `false` | `true` |
//! | setters: [`StackNameGuard`], [`set_stackname`], [`stack_opt_set_int`], [`stack_opt_set_str`], [`stack_opt_reset`], [`thread_set_spin`], [`SpinGuard`] | `Ok`, no effect | take effect |
//! | [`fd_stat`] | `Ok(FdStat::NotAccelerated)` | `Accelerated` with the stack, for Onload sockets |
//! | [`move_fd`], [`zc_await_stack_sync`] | `Ok(())` (nothing happens) | act |
//! | queries: [`stack_opt_get_int`], [`stack_opt_get_str`], [`thread_get_spin`], [`check_feature`] | [`Error::Unsupported`] | the answer |
//! | zero-copy, templates, receive filter, ordered epoll, timestamping | [`Error::Unsupported`] | act |
//! | [`get_tcp_info`] | [`Error::Os`] (`EINVAL`) | the details |
//! | [`DelegatedSend::prepare`] | [`Error::DelegatedSend`] ([`DelegatedSendRefusal::BadSocket`]) | a delegated send |
//! | [`socket_nonaccel`] and friends | a plain kernel socket | a socket Onload (partly) leaves alone |
//!
//! Each function's documentation says what it does in each case. [`Error::Unsupported`] is
//! the one error to expect from a correct program without Onload: branch on
//! [`Error::is_unsupported`] and fall back to the plain socket call.
//!
//! Underneath, `onload-sys` links the vendor's `libonload_ext` when it is installed, and
//! otherwise its software backend, which answers as that library does outside Onload and
//! forwards every call to Onload's own definitions when `libonload.so` is preloaded.
//! [`backend`] says which one this build has.
//!
//! # Example
//!
//! ```
//! use onload_ext::{FdStat, Scope, StackName, StackNameGuard, Who};
//! use std::net::UdpSocket;
//!
//! println!("Onload present: {}", onload_ext::is_present());
//! let sock = {
//!     // Sockets made while the guard lives join stack "md" (under Onload).
//!     let _stack = StackNameGuard::new(Who::ThisThread, Scope::Process, StackName::Named("md"))?;
//!     UdpSocket::bind("127.0.0.1:0").unwrap()
//! };
//! match onload_ext::fd_stat(&sock)? {
//!     FdStat::Accelerated(s) => println!("accelerated in stack {:?}", s.stack_name),
//!     FdStat::NotAccelerated => println!("a kernel socket"),
//! }
//! // Zero-copy needs Onload; without it the call says so and the program falls back.
//! match onload_ext::ZcBuffer::alloc(&sock, 1, onload_ext::BufferHeaders::Udp) {
//!     Ok(bufs) => println!("{} zero-copy buffer(s)", bufs.len()),
//!     Err(e) if e.is_unsupported() => println!("no zero-copy here: {e}"),
//!     Err(e) => return Err(e),
//! }
//! # Ok::<(), onload_ext::Error>(())
//! ```
//!
//! # Safety model
//!
//! * Every call takes descriptors through `AsRawFd` (one-shot calls) or `AsFd` (objects that
//!   keep using the socket, which then borrow it): nothing here can outlive its socket.
//! * Objects that own an Onload resource free it exactly once on drop: [`ZcBuffer`] and
//!   [`KeptMessage`] release their buffers, [`Template`] aborts, [`DelegatedSend`] cancels,
//!   the guards restore the previous setting (also while unwinding from a panic).
//! * Zero-copy receive lends each message to a callback as a [`ZcRecvMessage`] that cannot
//!   escape the call; a panic in the callback is caught before it reaches C and resumed
//!   after `onload_zc_recv()` returns.
//! * Raw descriptors are checked (open, a socket where one is needed) before a call, so a bad
//!   one is an [`Error::BadFd`] or [`Error::NotASocket`], not a stub answer that hides the
//!   mistake. The hot-path calls ([`zc_send`], [`zc_recv`], template updates and sends) take
//!   borrowed descriptors, which are open by construction, and make no check of their own.

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use onload_sys as ffi;

mod addr;
mod delegated;
mod epoll;
mod error;
mod fd;
mod spin;
mod stack;
mod template;
mod zc;

pub use delegated::{DelegatedHeaders, DelegatedSend, DelegatedSendFlags};
pub use epoll::{OrderedEpoll, OrderedEvent};
pub use error::{DelegatedSendRefusal, Error, Result};
pub use fd::{
    FdStat, Feature, FeatureSupport, OnloadStat, TcpInfo, TimestampingFlags, check_feature,
    fd_stat, get_tcp_info, move_fd, socket_nonaccel, socket_rx_nonaccel, socket_unicast_nonaccel,
    timestamping_request,
};
pub use spin::{SpinGuard, SpinMask, SpinType, thread_get_spin, thread_set_spin};
pub use stack::{
    Scope, StackName, StackNameGuard, Who, set_stackname, stack_opt_get_int, stack_opt_get_str,
    stack_opt_reset, stack_opt_set_int, stack_opt_set_str,
};
pub use template::{Template, TemplateOptions};
pub use zc::{
    BufferHeaders, KeptMessage, ZC_SEND_MAX_BUFFERS, ZcAction, ZcBuffer, ZcRecvFlags,
    ZcRecvMessage, ZcSendFlags, recvmsg_kernel, set_recv_filter, zc_await_stack_sync, zc_recv,
    zc_send,
};

/// True when this process runs under Onload (`onload_is_present()`), false otherwise.
///
/// * **Under Onload:** `true`.
/// * **Without Onload:** `false` (the stub's 0).
pub fn is_present() -> bool {
    // SAFETY: no arguments, no preconditions.
    unsafe { ffi::onload_is_present() != 0 }
}

/// What this build calls for the extensions: the vendor `libonload_ext` (and where), or
/// `onload-sys`'s software backend. Either way, calls reach Onload when it is preloaded.
pub use onload_sys::{Backend, BackendKind, backend};

/// Checks that the Onload this process runs under (if any) implements the extensions ABI the
/// bindings describe; see [`onload_sys::check_linked_version`]. Without Onload it passes.
pub use onload_sys::{VersionMismatch, check_linked_version as check_version};

/// The README's example, compiled and run as a doctest so that it stays correct.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
