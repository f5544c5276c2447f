//! Prints which ef_vi implementation this program is linked with.
//!
//! Run: `cargo run -p etherfabric --example ef_vi_backend`
//! (set `EF_VI_LIB_DIR` or `ONLOAD_PREFIX` to link a vendor library instead).

fn main() {
    println!("ef_vi backend: {}", etherfabric::backend());
    match etherfabric::ffi::check_linked_version() {
        Ok(()) => println!("version check: passed"),
        Err(e) => println!("version check: FAILED: {e}"),
    }
}
