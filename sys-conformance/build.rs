//! Compiles the C side of the conformance tests: `c/efvi_*.c`, `c/zf_*.c` and `c/onload_*.c`,
//! each group against the include directory its `-sys` crate reports (`DEP_<LINKS>_INCLUDE`):
//! `vendor-headers/` by default, or the SDK named by `EF_VI_INCLUDE_DIR`, `ZF_INCLUDE_DIR`,
//! `ONLOAD_EXT_INCLUDE_DIR` (or `ONLOAD_PREFIX`) to test a real SDK's headers.

use std::path::{Path, PathBuf};

fn main() {
    let manifest =
        PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let c_dir = manifest.join("c");
    println!("cargo:rerun-if-changed={}", c_dir.display());

    for (prefix, dep, var, lib) in [
        (
            "efvi_",
            "DEP_CIUL_INCLUDE",
            "EF_VI_INCLUDE_DIR",
            "conformance_efvi",
        ),
        (
            "zf_",
            "DEP_ONLOAD_ZF_INCLUDE",
            "ZF_INCLUDE_DIR",
            "conformance_zf",
        ),
        (
            "onload_",
            "DEP_ONLOAD_EXT_INCLUDE",
            "ONLOAD_EXT_INCLUDE_DIR",
            "conformance_onload",
        ),
    ] {
        // The -sys crate found the headers (it honours `var`); it reports them as `dep`.
        let include = match std::env::var(dep) {
            Ok(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => panic!(
                "{dep} is not set: the -sys crate found no headers (set {var} to an SDK's \
                 include directory)"
            ),
        };
        assert!(
            include.is_dir(),
            "{dep}={} is not a directory: check {var} (or ONLOAD_PREFIX)",
            include.display()
        );
        println!("cargo:rerun-if-changed={}", include.display());
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
