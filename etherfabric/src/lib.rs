//! Safe Rust interface to AMD Solarflare **ef_vi**, the layer-2 kernel-bypass API.
//!
//! This crate is at its beginning: today it re-exports the raw bindings as [`ffi`] and reports
//! which ef_vi library the program is linked with. The safe types (driver handle, protection
//! domain, memory regions, virtual interfaces, filters, events) build on these.
//!
//! ```
//! println!("ef_vi bindings: {}", etherfabric::bindings_version());
//! println!("linked ef_vi: {}", etherfabric::linked_backend());
//! ```

#![deny(missing_docs)]

/// The raw bindings this crate is built on.
pub use etherfabric_sys as ffi;

/// The SDK release the bindings describe.
pub fn bindings_version() -> &'static str {
    ffi::BINDINGS_SDK_VERSION
}

/// What this program is linked with: the ef_vi library found at build time and its version,
/// or a statement that no ef_vi library is linked.
pub fn linked_backend() -> String {
    match ffi::linked_version() {
        Some(v) => format!("{} (version {})", ffi::LINKED_BACKEND, v.to_string_lossy()),
        None => ffi::LINKED_BACKEND.to_string(),
    }
}
