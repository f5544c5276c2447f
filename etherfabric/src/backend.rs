//! Which ef_vi implementation this program runs on: the report of `etherfabric-sys`, whose
//! types (shared by every `-sys` crate) are re-exported here.

pub use etherfabric_sys::{Backend, BackendKind, backend};
