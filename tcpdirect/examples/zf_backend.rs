//! Prints which TCPDirect implementation this program is linked with, whether its version is
//! the one the bindings describe, and whether the library initialises.
//!
//! Run: `cargo run -p tcpdirect --example zf_backend`
//! (set `ZF_LIB_DIR` or `ONLOAD_PREFIX` to link a vendor library instead).

fn main() {
    println!("TCPDirect backend: {}", tcpdirect::backend());
    match tcpdirect::ffi::check_linked_version() {
        Ok(()) => println!("version check: passed"),
        Err(e) => println!("version check: FAILED: {e}"),
    }
    // Initialising the library runs the same check and refuses a mismatch.
    match tcpdirect::init() {
        Ok(()) => println!("tcpdirect::init: ok"),
        Err(e) => println!("tcpdirect::init: {e}"),
    }
}
