//! Safe Rust interface to AMD Solarflare **TCPDirect**, the user-space TCP/UDP stack.
//!
//! This crate is at its beginning: today it re-exports the raw bindings as [`ffi`] and reports
//! which TCPDirect library the program is linked with. The safe types (attributes, stacks,
//! zockets, muxer, alternatives) build on these.
//!
//! ```
//! println!("TCPDirect bindings: {}", tcpdirect::bindings_version());
//! println!("linked TCPDirect: {}", tcpdirect::linked_backend());
//! ```

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use zf_sys as ffi;

/// The SDK release the bindings describe.
pub fn bindings_version() -> &'static str {
    ffi::BINDINGS_SDK_VERSION
}

/// What this program is linked with: the TCPDirect library found at build time and its
/// version, or a statement that no TCPDirect library is linked.
pub fn linked_backend() -> String {
    match ffi::linked_version() {
        Some(v) => format!("{} (version {})", ffi::LINKED_BACKEND, v.to_string_lossy()),
        None => ffi::LINKED_BACKEND.to_string(),
    }
}
