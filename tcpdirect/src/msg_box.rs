//! Heap homes for the zero-copy messages the stack keeps per zocket.
//!
//! A zocket's message ([`zf_sys::TcpMsg`] / [`zf_sys::UdpMsg`]) must not move while
//! TCPDirect holds buffers described in it, so it lives on the heap at a fixed address, owned
//! by the stack's table entry for its zocket, and is freed with that zocket.

use std::ptr::NonNull;

/// A new message on the heap (all zero, iovecs null), owned by the caller: free it with
/// [`free`].
pub(crate) fn alloc<M: Default>() -> NonNull<M> {
    NonNull::from(Box::leak(Box::<M>::default()))
}

/// Frees a message from [`alloc`].
///
/// # Safety
///
/// `p` came from [`alloc`] with the same `M`, is freed once and is not used afterwards.
pub(crate) unsafe fn free<M>(p: NonNull<M>) {
    // SAFETY: per the contract, a Box leaked by `alloc`, freed once.
    drop(unsafe { Box::from_raw(p.as_ptr()) });
}
