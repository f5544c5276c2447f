//! Regenerates the checked-in `src/bindings.rs` of the three `-sys` crates from
//! `vendor-headers/` (or from the directory given as the first argument).
//!
//! Usage: `cargo run -p sdk-build --bin regen-bindings [-- INCLUDE_DIR]`

use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("sdk-build lives inside the workspace")
        .to_path_buf();
    let include = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("vendor-headers"));
    let mut failed = false;
    for sdk in [
        &sdk_build::EF_VI,
        &sdk_build::TCPDIRECT,
        &sdk_build::ONLOAD_EXT,
    ] {
        let out = root.join(sdk.crate_dir).join("src").join("bindings.rs");
        match sdk.generate(Some(&include), &out) {
            Ok(()) => println!("wrote {}", out.display()),
            Err(e) => {
                eprintln!("{}: {e}", sdk.name);
                failed = true;
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
