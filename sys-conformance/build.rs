//! Compiles the C side of the conformance tests: `c/efvi_*.c`, `c/zf_*.c` and `c/onload_*.c`,
//! each group against its SDK's include directory: `vendor-headers/` by default, or
//! `EF_VI_INCLUDE_DIR`, `ZF_INCLUDE_DIR`, `ONLOAD_EXT_INCLUDE_DIR` to test a real SDK's headers.

use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let vendor = manifest.join("..").join("vendor-headers");
    let c_dir = manifest.join("c");
    println!("cargo:rerun-if-changed={}", c_dir.display());
    println!("cargo:rerun-if-changed={}", vendor.display());

    for (prefix, var, lib) in [
        ("efvi_", "EF_VI_INCLUDE_DIR", "conformance_efvi"),
        ("zf_", "ZF_INCLUDE_DIR", "conformance_zf"),
        ("onload_", "ONLOAD_EXT_INCLUDE_DIR", "conformance_onload"),
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        let include = match std::env::var(var) {
            Ok(dir) if !dir.is_empty() => {
                let dir = PathBuf::from(dir);
                assert!(dir.is_dir(), "{var}={} is not a directory", dir.display());
                dir
            }
            _ => vendor.clone(),
        };
        let sources = c_sources(&c_dir, prefix);
        if sources.is_empty() {
            continue;
        }
        let mut build = cc::Build::new();
        build
            .include(&include)
            .include(&c_dir)
            .flag_if_supported("-std=gnu11")
            .warnings(true)
            .flag_if_supported("-Wno-unused-parameter");
        for s in &sources {
            println!("cargo:rerun-if-changed={}", s.display());
            build.file(s);
        }
        build.compile(lib);
        println!("cargo:rustc-env={var}_USED={}", include.display());
    }
}

fn c_sources(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "c")
                        && p.file_name()
                            .and_then(|n| n.to_str())
                            .is_some_and(|n| n.starts_with(prefix))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}
