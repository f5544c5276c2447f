//! Prints which TCPDirect implementation this program is linked with.
//!
//! Run: `cargo run -p tcpdirect --example backend`
//! (set `ZF_LIB_DIR` or `ONLOAD_PREFIX` to link a vendor library instead).

fn main() {
    println!("TCPDirect backend: {}", tcpdirect::backend());
}
