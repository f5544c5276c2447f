//! The ownership and thread rules, each shown by code the compiler refuses.
//!
//! These are the crate's compile-fail tests (rustdoc `compile_fail`); each block is
//! preceded by the rule it proves.
//!
//! **A view cannot outlive its stack.**
//!
//! ```compile_fail,E0505
//! # fn f(attr: &tcpdirect::Attr, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let stack = tcpdirect::Stack::new(attr)?;
//! let tcp = stack.tcp_ref(key)?;
//! drop(stack);
//! tcp.send(b"x")?;
//! # Ok(()) }
//! ```
//!
//! **A zero-copy message cannot outlive its stack.**
//!
//! ```compile_fail,E0505
//! # fn f(attr: &tcpdirect::Attr, key: tcpdirect::UdpRxKey) -> tcpdirect::Result<()> {
//! let mut stack = tcpdirect::Stack::new(attr)?;
//! let mut rx = stack.udp_rx(key)?;
//! let msg = rx.zc_recv();
//! drop(stack);
//! drop(msg);
//! # Ok(()) }
//! ```
//!
//! **A zero-copy message cannot be held across another receive** (on that zocket or any
//! other of the stack).
//!
//! ```compile_fail,E0499
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let mut tcp = stack.tcp(key)?;
//! let first = tcp.zc_recv();
//! let second = tcp.zc_recv();
//! drop(first);
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0499
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let mut tcp = stack.tcp(key)?;
//! let msg = tcp.zc_recv();
//! let mut buf = [0u8; 16];
//! tcp.recv(&mut buf)?;
//! drop(msg);
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0499
//! # fn f(stack: &mut tcpdirect::Stack, a: tcpdirect::TcpKey, b: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let mut tcp = stack.tcp(a)?;
//! let msg = tcp.zc_recv();
//! let mut other = stack.tcp(b)?;
//! drop(msg);
//! # Ok(()) }
//! ```
//!
//! **An overlapped receive in progress is exclusive too**: no other receive until it is
//! completed (or dropped).
//!
//! ```compile_fail,E0499
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let mut tcp = stack.tcp(key)?;
//! let pending = tcp.zc_recv_overlapped(64);
//! let other = tcp.zc_recv();
//! drop(pending);
//! # Ok(()) }
//! ```
//!
//! ```compile_fail,E0499
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::UdpRxKey) -> tcpdirect::Result<()> {
//! let mut rx = stack.udp_rx(key)?;
//! let pending = rx.zc_recv_overlapped(64);
//! let other = rx.zc_recv();
//! drop(pending);
//! # Ok(()) }
//! ```
//!
//! **The unverified bytes of an overlapped receive cannot be used once it is completed**
//! (the completed message, or nothing if the packet was bad, replaces them).
//!
//! ```compile_fail,E0505
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let mut tcp = stack.tcp(key)?;
//! let pending = tcp.zc_recv_overlapped(64).unwrap();
//! let early = pending.data();
//! let msg = pending.complete();
//! println!("{early:?}");
//! # Ok(()) }
//! ```
//!
//! **Received bytes cannot be used after their message is released.**
//!
//! ```compile_fail,E0505
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::UdpRxKey) -> tcpdirect::Result<()> {
//! let mut rx = stack.udp_rx(key)?;
//! let msg = rx.zc_recv().unwrap();
//! let data = msg.data();
//! msg.done();
//! println!("{data:?}");
//! # Ok(()) }
//! ```
//!
//! **Nothing can be freed while a view of the stack is alive** (so a view never dangles).
//!
//! ```compile_fail,E0502
//! # fn f(stack: &mut tcpdirect::Stack, key: tcpdirect::TcpKey) -> tcpdirect::Result<()> {
//! let tcp = stack.tcp_ref(key)?;
//! stack.free(key)?;
//! tcp.send(b"x")?;
//! # Ok(()) }
//! ```
//!
//! **A stack is not `Sync`**: it cannot be shared between threads without a lock.
//!
//! ```compile_fail,E0277
//! fn shared<T: Sync>() {}
//! shared::<tcpdirect::Stack>();
//! ```
//!
//! ```compile_fail,E0277
//! # fn f(stack: tcpdirect::Stack) {
//! let s = std::sync::Arc::new(stack);
//! std::thread::spawn(move || { s.reactor_perform(); });
//! # }
//! ```
//!
//! **Views stay on their thread** (they are neither `Send` nor `Sync`).
//!
//! ```compile_fail,E0277
//! # fn f(stack: &tcpdirect::Stack, key: tcpdirect::UdpTxKey) -> tcpdirect::Result<()> {
//! let tx = stack.udp_tx(key)?;
//! std::thread::scope(|s| { s.spawn(move || tx.send(b"x")); });
//! # Ok(()) }
//! ```
//!
//! **A connected handle is used up**: `connect` takes the handle key by value, and handle
//! keys are not `Copy`.
//!
//! ```compile_fail,E0382
//! # fn f(stack: &mut tcpdirect::Stack, to: std::net::SocketAddr) -> tcpdirect::Result<()> {
//! let h = stack.tcp_handle()?;
//! let _conn = stack.connect(h, to)?;
//! stack.free_tcp_handle(h)?;
//! # Ok(()) }
//! ```
//!
//! What *does* compile: a stack and its keys kept in one struct and moved to another
//! thread, or shared under a `Mutex`.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! struct Server { stack: tcpdirect::Stack, conns: Vec<tcpdirect::TcpKey> }
//! fn move_it(s: Server) { std::thread::spawn(move || { s.stack.reactor_perform(); s.conns.len() }); }
//! fn lock_it(s: Arc<Mutex<Server>>) { std::thread::spawn(move || { s.lock().unwrap().stack.reactor_perform(); }); }
//! ```
