//! Safe Rust interface to AMD Solarflare **ef_vi**, the layer-2 kernel-bypass API.
//!
//! This crate is at its beginning: today it re-exports the raw bindings as [`ffi`] and reports
//! which ef_vi implementation the program runs on. The safe types (driver handle, protection
//! domain, memory regions, virtual interfaces, filters, events) build on these.
//!
//! ```
//! println!("ef_vi backend: {}", etherfabric::backend());
//! ```

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use etherfabric_sys as ffi;

mod backend;
pub use backend::{Backend, BackendKind, backend};
