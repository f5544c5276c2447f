//! Safe Rust interface to AMD Solarflare **TCPDirect**, the user-space TCP/UDP stack.
//!
//! This crate is at its beginning: today it re-exports the raw bindings as [`ffi`] and reports
//! which TCPDirect implementation the program runs on. The safe types (attributes, stacks,
//! zockets, muxer, alternatives) build on these.
//!
//! ```
//! println!("TCPDirect backend: {}", tcpdirect::backend());
//! ```

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use zf_sys as ffi;

mod backend;
pub use backend::{Backend, BackendKind, backend};
