//! Prints which TCPDirect implementation this program is linked with.
//!
//! Run: `cargo run -p tcpdirect --example zf_backend`
//! (set `ZF_LIB_DIR` or `ONLOAD_PREFIX` to link a vendor library instead).

fn main() {
    println!("TCPDirect backend: {}", tcpdirect::backend());
    match tcpdirect::ffi::check_linked_version() {
        Ok(()) => println!("version check: passed"),
        Err(e) => println!("version check: FAILED: {e}"),
    }
}
