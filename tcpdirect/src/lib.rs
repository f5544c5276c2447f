//! Safe Rust interface to AMD Solarflare **TCPDirect**, the user-space TCP/UDP stack
//! ("zockets"), over the raw bindings of [`ffi`] (`zf-sys`).
//!
//! ```no_run
//! use tcpdirect::{Attr, Stack};
//!
//! let mut attr = Attr::from_env()?;          // honours ZF_ATTR, e.g. "interface=eth0"
//! attr.set_interface("lo")?;
//! let mut stack = Stack::new(&attr)?;
//! let listener = stack.listen("127.0.0.1:5000".parse().unwrap())?;
//! let conn = stack.tcp_connect("127.0.0.1:5000".parse().unwrap())?;
//! let server = loop {
//!     stack.reactor_perform();
//!     if let Some(k) = stack.accept(listener)? { break k; }
//! };
//! while stack.tcp_ref(conn)?.state() != tcpdirect::TcpState::Established {
//!     stack.reactor_perform();
//! }
//! stack.tcp_ref(conn)?.send(b"ping")?;
//! loop {
//!     stack.reactor_perform();
//!     let mut z = stack.tcp(server)?;
//!     if let Some(msg) = z.zc_recv() {          // zero-copy: borrows the stack's buffers
//!         for pkt in msg.iter() { println!("got {:?}", pkt); }
//!         msg.zocket().send(b"pong")?;         // sending while holding it is fine
//!         break;                               // dropping `msg` releases the buffers
//!     }
//! }
//! # Ok::<(), tcpdirect::Error>(())
//! ```
//!
//! # Ownership and threads
//!
//! A TCPDirect stack is not thread-safe, and every zocket call touches its stack (its
//! reactor, buffers and timers). So zockets cannot each hold an `Rc`/`Arc` back to the
//! stack: an `Rc` would pin the zocket to one thread, an `Arc` to a `!Sync` stack would not
//! be `Send`, and neither lets an application keep a stack and its zockets in one struct,
//! move them to another thread together, or lock them together.
//!
//! Instead the [`Stack`] **owns** every object allocated on it: listeners, connections,
//! unconnected handles, UDP zockets, muxers and alternatives live in a table inside it.
//! The application holds **keys** ([`TcpKey`], [`UdpRxKey`], [`MuxerKey`], ...): small
//! `Copy` values (a slot index and a generation) that do nothing by themselves. Every call
//! goes through the stack: [`Stack::tcp`] / [`Stack::udp_rx`] (which borrow it mutably) and
//! [`Stack::tcp_ref`] / [`Stack::udp_tx`] (which borrow it shared) return short-lived views
//! with the zocket calls. A key is checked each time it is used, at the cost of an index and
//! a generation compare; a key to a freed object, or from another stack, is
//! [`Error::StaleKey`], never another object.
//!
//! This gives, with no `unsafe impl Send` a user can defeat:
//!
//! * a stack and its keys are plain data: keep them in one struct, move it to another
//!   thread ([`Stack`] is [`Send`]), or put the stack under one `Mutex` and let several
//!   threads lock it, as the SDK's `zftcpmtpong` does (see the `zftcpmtpong` example);
//!   [`Stack::pending_work_probe`] gives the one call documented as safe without the lock;
//! * [`Stack`] is not [`Sync`], and views hold a reference to it, so no two threads ever
//!   touch one stack at once;
//! * no zocket, view, muxer or message outlives its stack (views borrow it; the objects are
//!   freed by [`Stack::free`] or when the stack drops, children first);
//! * a zero-copy message ([`TcpZc`], [`UdpZc`]) borrows the mutable view it came from, so
//!   no other receive can happen while it is held, and dropping it releases its buffers.
//!   Sends and reactor calls can go on meanwhile through [`TcpZc::stack`] /
//!   [`UdpZc::stack`], as the SDK's ping-pong samples reply from the received buffer.
//!
//! [`rules`] shows each rule with code the compiler refuses.
//!
//! # Cost
//!
//! A view is two pointers; making one costs the key check. In a hot loop, make the views
//! once and keep them: the reactor and the other shared views are reached through
//! [`Tcp::stack`](TcpRef::stack) / [`UdpRx::stack`], and a kept [`UdpTx`] or [`TcpRef`]
//! coexists with the receiving view. Each zocket's zero-copy message lives in the stack, so
//! a receive writes only its `iovcnt` before the C call, as C code does. Written that way,
//! the `zfudppingpong` / `zftcppingpong` round trip costs the same instructions as on raw
//! zf-sys (the `callgrind_pingpong` bench: within 0.3%).
//!
//! ```no_run
//! # fn f(stack: &mut tcpdirect::Stack, rx: tcpdirect::UdpRxKey, tx: tcpdirect::UdpTxKey) -> tcpdirect::Result<()> {
//! let mut rx = stack.udp_rx(rx)?;
//! let tx = rx.stack().udp_tx(tx)?;
//! loop {
//!     rx.stack().reactor_perform();
//!     if let Some(msg) = rx.zc_recv() {
//!         tx.send(msg.data())?;                     // echo from the received buffer
//!     }
//! }
//! # }
//! ```
//!
//! # Overlapped receive
//!
//! A zocket added to a muxer with [`Readiness::IN_OVERLAPPED`] may be reported with that
//! event alone while a packet is still arriving (best effort: TCPDirect does so when the
//! zocket has no backlog, and for TCP for in-order data). [`Tcp::zc_recv_overlapped`] /
//! [`UdpRx::zc_recv_overlapped`] then wait for its first bytes and give them, unverified, in
//! a [`TcpZcPending`] / [`UdpZcPending`]; `complete` gives the packet as a normal zero-copy
//! message once it has arrived good, or `None` if it failed verification (then discard what
//! was computed from its bytes). `None` from the first call means the overlapped receive
//! was abandoned: wait on the muxer again, which reports the packet as plain `IN`.
//!
//! ```no_run
//! # fn f(stack: &mut tcpdirect::Stack, mux: tcpdirect::MuxerKey, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! use tcpdirect::{Event, Readiness};
//! stack.muxer_add(mux, &key, Readiness::IN | Readiness::IN_OVERLAPPED, 0)?;
//! let mut ev = [Event::default(); 8];
//! let ready = stack.muxer_wait(mux, &mut ev, None)?.to_vec();
//! for e in ready {
//!     let mut tcp = stack.tcp(key)?;
//!     if e.readiness() == Readiness::IN_OVERLAPPED {
//!         let Some(early) = tcp.zc_recv_overlapped(16) else { continue }; // abandoned
//!         let guess = early.data().first().copied();           // act speculatively
//!         match early.complete() {
//!             Some(msg) => println!("{guess:?} confirmed: {} bytes", msg.len()),
//!             None => println!("packet failed verification: {guess:?} discarded"),
//!         }
//!     } else if let Some(msg) = tcp.zc_recv() {
//!         println!("{} bytes", msg.len());
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! # Progress and errors
//!
//! Nothing happens on the network except inside [`Stack::reactor_perform`] and
//! [`Stack::muxer_wait`]: run one of them in every loop. Every call is non-blocking except
//! `muxer_wait`; "not now" is an error whose [`Error::kind`] is `WouldBlock`
//! ([`Error::is_would_block`]), or `None` for receives and accepts. Errors name the C call
//! that failed and map TCPDirect's error codes to [`std::io::ErrorKind`]s.
//!
//! # Process initialisation
//!
//! `zf_init` runs once per process, on the first [`Attr`] or [`Stack`] ([`init`]), and
//! `zf_deinit` at exit.
//!
//! # Backends
//!
//! [`backend()`] says whether the program runs on the vendor library or on zf-sys's
//! software backend (kernel sockets, no Solarflare NIC needed).

#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]

/// The raw bindings this crate is built on.
pub use zf_sys as ffi;

mod addr;
mod alts;
mod attr;
mod backend;
mod ds;
mod error;
mod init;
mod keys;
mod msg_box;
mod muxer;
pub mod rules;
mod stack;
mod tcp;
mod timestamp;
mod udp;

#[cfg(feature = "mio")]
mod mio_source;

pub use alts::AltOverhead;
pub use attr::{Attr, AttrDoc};
pub use backend::{Backend, BackendKind, backend};
pub use ds::{DelegatedSend, DelegatedSendError, WindowStatus};
pub use error::{Error, Result};
pub use init::init;
pub use keys::{AltKey, ListenerKey, MuxerKey, TcpHandleKey, TcpKey, UdpRxKey, UdpTxKey};
pub use muxer::{Event, Readiness, StackEvents, Waitable};
pub use stack::{Feature, ObjectKey, PendingWork, Stack, WaitableFd};
pub use tcp::{ConnectError, Tcp, TcpRef, TcpState, TcpZc, TcpZcPending, ZC_MAX_PACKETS};
pub use timestamp::{PacketReport, ReportFlags, Timestamp};
pub use udp::{Headers, UdpRx, UdpTx, UdpZc, UdpZcPending};

#[cfg(test)]
mod tests {
    use super::*;
    fn assert_send<T: Send>() {}
    #[test]
    fn stack_and_keys_are_send() {
        assert_send::<Stack>();
        assert_send::<TcpKey>();
        assert_send::<PendingWork>();
        assert_send::<Attr>();
        static_assertions::assert_not_impl_any!(Stack: Sync);
        static_assertions::assert_not_impl_any!(TcpRef<'static>: Send, Sync);
        static_assertions::assert_not_impl_any!(UdpTx<'static>: Send, Sync);
    }
}
