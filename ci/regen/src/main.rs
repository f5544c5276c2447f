//! Regenerates the checked-in `src/bindings.rs` of the three `-sys` crates from
//! `vendor-headers/` (or from the directory given as the first argument).
//!
//! Usage: `ci/regen-bindings [INCLUDE_DIR]`, which runs `cargo run -p regen-bindings` and then
//! regenerates the layout tables. It works inside this repository only: it writes the
//! workspace's own files.

use std::path::PathBuf;

fn main() {
    // ci/regen/ -> the workspace root.
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("regen-bindings lives in ci/regen of the workspace")
        .to_path_buf();
    let include = match std::env::args().nth(1) {
        Some(arg) => {
            let dir = PathBuf::from(&arg);
            if !dir.is_dir() {
                eprintln!(
                    "regen-bindings: the include directory given as argument, {arg:?}, is not a \
                     directory (give the directory that holds etherfabric/, zf/ and onload/)"
                );
                std::process::exit(2);
            }
            dir
        }
        None => root.join("vendor-headers"),
    };
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
