//! Which TCPDirect implementation this program runs on: the report of `zf-sys`, whose types
//! (shared by every `-sys` crate) are re-exported here.

pub use zf_sys::{Backend, BackendKind, backend};
