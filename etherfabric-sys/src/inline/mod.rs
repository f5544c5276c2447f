//! Rust equivalents of the function-like macros and `static inline` functions of
//! `etherfabric/*.h`. Each has the C name and the C semantics; the `sys-conformance` crate
//! checks every one against its C definition.

mod checksum;
mod eventq;
mod events;
mod memreg;
mod packed_stream;
mod vi;

pub use checksum::*;
pub use eventq::*;
pub use events::*;
pub use memreg::*;
pub use packed_stream::*;
pub use vi::*;
