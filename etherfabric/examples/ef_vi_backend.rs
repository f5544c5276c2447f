//! Prints which ef_vi implementation this program is linked with, whether its version is the
//! one the bindings describe, and whether the driver opens.
//!
//! Run: `cargo run -p etherfabric --example ef_vi_backend`
//! (set `EF_VI_LIB_DIR` or `ONLOAD_PREFIX` to link a vendor library instead).

fn main() {
    println!("ef_vi backend: {}", etherfabric::backend());
    match etherfabric::ffi::check_linked_version() {
        Ok(()) => println!("version check: passed"),
        Err(e) => println!("version check: FAILED: {e}"),
    }
    // Opening the driver runs the same check and refuses a mismatch.
    match etherfabric::Driver::open() {
        Ok(_) => println!("Driver::open: ok"),
        Err(e) => println!("Driver::open: {e}"),
    }
}
