//! Build-script support shared by the three `-sys` crates.
//!
//! One place describes each vendor SDK ([`Sdk`]): its library names, the environment variables
//! that locate or force it, its headers and the bindgen configuration. Each `-sys` build script
//! calls [`Sdk::build`]; `ci/regen-bindings` calls [`Sdk::generate`] through the
//! `regen-bindings` binary so the checked-in bindings and the build-time ones are produced by
//! the same code.
//!
//! # Environment variables (shown for ef_vi; `ZF_*` and `ONLOAD_EXT_*` work the same way)
//!
//! | variable | meaning |
//! |---|---|
//! | `EF_VI_LIB_DIR` | directory holding `libciul.so` / `libciul1.a` |
//! | `ONLOAD_PREFIX` | an Onload/TCPDirect install prefix (`$ONLOAD_PREFIX/lib64`, `lib`, `lib/x86_64-linux-gnu`, `include`) |
//! | `EF_VI_STATIC=1` | link the static archive (`libciul1.a`) instead of the shared library |
//! | `EF_VI_BACKEND` | `auto` (default), `sdk` (fail the build if the library is absent) or `soft` (do not look for the SDK) |
//! | `EF_VI_INCLUDE_DIR` | include directory used when bindings are generated at build time |
//! | `EF_VI_BINDGEN=1` | generate bindings at build time (same as the crate feature `bindgen`) |
//! | `DOCS_RS` | set by docs.rs: link nothing, use the checked-in bindings |

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Static description of one vendor SDK.
#[derive(Debug)]
pub struct Sdk {
    /// Human name used in messages, e.g. `ef_vi`.
    pub name: &'static str,
    /// Prefix of this SDK's environment variables, e.g. `EF_VI`.
    pub env_prefix: &'static str,
    /// Name of the shared library without `lib` and `.so` (`ciul` for `libciul.so`).
    pub dylib: &'static str,
    /// Name of the static archive without `lib` and `.a` (`ciul1` for `libciul1.a`).
    pub static_lib: &'static str,
    /// System libraries the static archive needs, in link order.
    pub static_deps: &'static [&'static str],
    /// Headers (relative to the include directory) the bindings are generated from.
    pub headers: &'static [&'static str],
    /// Regex of header paths whose declarations are bound (libc types they use follow).
    pub allowlist_file: &'static str,
    /// Crate directory name inside the workspace, for regeneration.
    pub crate_dir: &'static str,
    /// Where to get the SDK, for the failure message.
    pub install_hint: &'static str,
}

/// ef_vi (`etherfabric/*.h`, `libciul`).
pub const EF_VI: Sdk = Sdk {
    name: "ef_vi",
    env_prefix: "EF_VI",
    dylib: "ciul",
    static_lib: "ciul1",
    static_deps: &[],
    headers: &[
        "etherfabric/base.h",
        "etherfabric/ef_vi.h",
        "etherfabric/pd.h",
        "etherfabric/memreg.h",
        "etherfabric/vi.h",
        "etherfabric/pio.h",
        "etherfabric/efct_vi.h",
        "etherfabric/capabilities.h",
        "etherfabric/checksum.h",
        "etherfabric/packedstream.h",
        "etherfabric/timer.h",
    ],
    allowlist_file: r".*/etherfabric/[a-z_]+\.h",
    crate_dir: "etherfabric-sys",
    install_hint: "Install Onload (it ships libciul1.a and, in some packagings, libciul.so) from the AMD Solarflare support site or build it from the Xilinx-CNS/onload sources",
};

/// TCPDirect (`zf/*.h`, `libonload_zf`).
pub const TCPDIRECT: Sdk = Sdk {
    name: "TCPDirect",
    env_prefix: "ZF",
    dylib: "onload_zf",
    static_lib: "onload_zf_static",
    static_deps: &["m", "dl", "pthread", "rt"],
    headers: &["zf/zf.h"],
    allowlist_file: r".*/zf/[a-z_]+\.h",
    crate_dir: "zf-sys",
    install_hint: "Install TCPDirect (libonload_zf.so, libonload_zf_static.a) from the AMD Solarflare support site or build it from the Xilinx-CNS/tcpdirect sources",
};

/// The Onload Extensions API (`onload/extensions*.h`, `libonload_ext`).
pub const ONLOAD_EXT: Sdk = Sdk {
    name: "Onload Extensions API",
    env_prefix: "ONLOAD_EXT",
    dylib: "onload_ext",
    static_lib: "onload_ext",
    static_deps: &["dl"],
    headers: &[
        "onload/extensions.h",
        "onload/extensions_zc.h",
        "onload/extensions_timestamping.h",
    ],
    allowlist_file: r".*/onload/extensions[a-z_]*\.h",
    crate_dir: "onload-sys",
    install_hint: "Install Onload (it ships libonload_ext.so and libonload_ext.a) from the AMD Solarflare support site or build it from the Xilinx-CNS/onload sources",
};

/// The standard library directories searched after the environment variables.
pub const STANDARD_LIB_DIRS: &[&str] = &["/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib"];

/// Which backend the build script was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendRequest {
    /// Use the SDK when found, else go without it (with a warning).
    Auto,
    /// The SDK must be found; its absence fails the build.
    Sdk,
    /// Do not look for the SDK.
    Soft,
}

/// What the build script decided to link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linked {
    /// The vendor library in this directory, shared or static.
    Sdk {
        /// Directory of the library.
        dir: PathBuf,
        /// Whether the static archive was chosen.
        static_link: bool,
    },
    /// Nothing was linked.
    Nothing,
}

impl Sdk {
    fn var_name(&self, suffix: &str) -> String {
        format!("{}_{}", self.env_prefix, suffix)
    }

    /// Reads an environment variable and tells cargo to rerun when it changes.
    fn env(&self, name: &str) -> Option<String> {
        println!("cargo:rerun-if-env-changed={name}");
        env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn flag(&self, name: &str) -> bool {
        matches!(self.env(name).as_deref(), Some("1" | "true" | "yes" | "on"))
    }

    /// Every environment variable this SDK's build script reads.
    pub fn env_vars(&self) -> Vec<String> {
        let mut vars: Vec<String> = ["LIB_DIR", "STATIC", "BACKEND", "INCLUDE_DIR", "BINDGEN"]
            .iter()
            .map(|s| self.var_name(s))
            .collect();
        vars.push("ONLOAD_PREFIX".into());
        vars.push("DOCS_RS".into());
        vars
    }

    /// Parses `<PREFIX>_BACKEND`.
    pub fn backend_request(&self) -> Result<BackendRequest, String> {
        let var = self.var_name("BACKEND");
        match self.env(&var).as_deref() {
            None | Some("auto") => Ok(BackendRequest::Auto),
            Some("sdk") => Ok(BackendRequest::Sdk),
            Some("soft") => Ok(BackendRequest::Soft),
            Some(other) => Err(format!(
                "{var}={other:?} is not understood: use `auto` (default), `sdk` or `soft`"
            )),
        }
    }

    /// Library directories to search, in order, each with where it came from.
    fn candidate_dirs(&self) -> Vec<(PathBuf, String)> {
        let mut dirs = Vec::new();
        let lib_var = self.var_name("LIB_DIR");
        if let Some(dir) = self.env(&lib_var) {
            dirs.push((PathBuf::from(dir), lib_var));
        }
        if let Some(prefix) = self.env("ONLOAD_PREFIX") {
            for sub in ["lib64", "lib/x86_64-linux-gnu", "lib"] {
                dirs.push((Path::new(&prefix).join(sub), "ONLOAD_PREFIX".into()));
            }
        }
        for dir in STANDARD_LIB_DIRS {
            dirs.push((PathBuf::from(dir), "standard prefix".into()));
        }
        dirs
    }

    /// Looks for the library; returns the directory and whether it is the static archive.
    pub fn find_library(&self, want_static: bool) -> Result<(PathBuf, bool), String> {
        let file = if want_static {
            format!("lib{}.a", self.static_lib)
        } else {
            format!("lib{}.so", self.dylib)
        };
        let mut searched = String::new();
        for (dir, origin) in self.candidate_dirs() {
            let path = dir.join(&file);
            if path.is_file() {
                return Ok((dir, want_static));
            }
            let _ = writeln!(searched, "    {} ({origin})", path.display());
        }
        Err(searched)
    }

    /// The full "not found" message, openssl-sys style.
    fn not_found_message(&self, searched: &str) -> String {
        let p = self.env_prefix;
        format!(
            "\n\nCould not find the {name} library.\n\n\
             Searched:\n{searched}\n\
             {hint}.\n\n\
             If it is installed somewhere else, set one of:\n\
             \x20   {p}_LIB_DIR=/path/to/lib        the directory holding the library\n\
             \x20   ONLOAD_PREFIX=/opt/onload       an install prefix (lib64/, lib/, include/)\n\
             \x20   {p}_STATIC=1                    to link the static archive instead\n\n\
             To build without the SDK, unset {p}_BACKEND or set {p}_BACKEND=soft.\n\
             HOST={host} TARGET={target}\n\n",
            name = self.name,
            hint = self.install_hint,
            host = env::var("HOST").unwrap_or_default(),
            target = env::var("TARGET").unwrap_or_default(),
        )
    }

    /// Runs the whole build script logic for a `-sys` crate. Exits the process with a message
    /// on a configuration error.
    pub fn build(&self) {
        println!("cargo:rerun-if-changed=build.rs");
        for v in self.env_vars() {
            println!("cargo:rerun-if-env-changed={v}");
        }
        println!("cargo::rustc-check-cfg=cfg(sdk_linked)");
        println!("cargo::rustc-check-cfg=cfg(generated_bindings)");

        if let Err(msg) = self.maybe_generate_bindings() {
            fail(&msg);
        }

        if env::var_os("DOCS_RS").is_some() {
            println!("cargo:rustc-env=SDK_BACKEND_DESCRIPTION=none (docs.rs build)");
            return;
        }

        let request = self.backend_request().unwrap_or_else(|m| fail(&m));
        let linked = match request {
            BackendRequest::Soft => Linked::Nothing,
            BackendRequest::Auto | BackendRequest::Sdk => {
                let want_static = self.flag(&self.var_name("STATIC"));
                match self.find_library(want_static) {
                    Ok((dir, static_link)) => Linked::Sdk { dir, static_link },
                    Err(searched) if request == BackendRequest::Sdk => {
                        fail(&self.not_found_message(&searched))
                    }
                    Err(_) => Linked::Nothing,
                }
            }
        };
        match &linked {
            Linked::Sdk { dir, static_link } => {
                println!("cargo:rustc-link-search=native={}", dir.display());
                if *static_link {
                    println!("cargo:rustc-link-lib=static={}", self.static_lib);
                    for dep in self.static_deps {
                        println!("cargo:rustc-link-lib={dep}");
                    }
                } else {
                    println!("cargo:rustc-link-lib=dylib={}", self.dylib);
                }
                println!("cargo:rustc-cfg=sdk_linked");
                println!("cargo:lib_dir={}", dir.display());
                println!(
                    "cargo:rustc-env=SDK_BACKEND_DESCRIPTION={} library in {}",
                    if *static_link { "static" } else { "shared" },
                    dir.display()
                );
            }
            Linked::Nothing => {
                let p = self.env_prefix;
                if request != BackendRequest::Soft {
                    println!(
                        "cargo:warning={} library not found ({p}_LIB_DIR, ONLOAD_PREFIX, {}): \
                         linking nothing. Programs that call its exported functions will fail to \
                         link; set {p}_LIB_DIR or ONLOAD_PREFIX to use the SDK, or {p}_BACKEND=soft \
                         to silence this.",
                        self.name,
                        STANDARD_LIB_DIRS.join(", ")
                    );
                }
                println!("cargo:rustc-env=SDK_BACKEND_DESCRIPTION=none (no {} library linked)", self.name);
            }
        }
    }

    /// With feature `bindgen` (seen as `CARGO_FEATURE_BINDGEN`) or `<PREFIX>_BINDGEN=1`,
    /// generates bindings into `OUT_DIR` from `<PREFIX>_INCLUDE_DIR`, `ONLOAD_PREFIX/include`
    /// or the system include paths.
    fn maybe_generate_bindings(&self) -> Result<(), String> {
        let wanted = env::var_os("CARGO_FEATURE_BINDGEN").is_some()
            || self.flag(&self.var_name("BINDGEN"));
        if !wanted || env::var_os("DOCS_RS").is_some() {
            return Ok(());
        }
        let include = self
            .env(&self.var_name("INCLUDE_DIR"))
            .map(PathBuf::from)
            .or_else(|| self.env("ONLOAD_PREFIX").map(|p| Path::new(&p).join("include")));
        let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("bindings.rs");
        self.generate(include.as_deref(), &out)?;
        println!("cargo:rustc-cfg=generated_bindings");
        let from = include
            .as_deref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "the system include paths".into());
        println!("cargo:rustc-env=SDK_BINDINGS_SOURCE=generated at build time from {from}");
        Ok(())
    }

    /// Generates the bindings from `include_dir` (or the system include paths) into `out`.
    pub fn generate(&self, include_dir: Option<&Path>, out: &Path) -> Result<(), String> {
        let mut wrapper = String::new();
        for h in self.headers {
            let _ = writeln!(wrapper, "#include <{h}>");
        }
        let mut builder = bindgen::Builder::default()
            .header_contents("sdk_wrapper.h", &wrapper)
            .allowlist_file(self.allowlist_file)
            .layout_tests(true)
            .derive_default(true)
            .derive_debug(true)
            .generate_comments(false)
            .rust_target(bindgen::RustTarget::stable(85, 0).map_err(|e| e.to_string())?)
            .formatter(bindgen::Formatter::Rustfmt);
        if let Some(dir) = include_dir {
            if !dir.is_dir() {
                return Err(format!(
                    "{}_INCLUDE_DIR: {} is not a directory",
                    self.env_prefix,
                    dir.display()
                ));
            }
            builder = builder.clang_arg(format!("-I{}", dir.display()));
        }
        let bindings = builder.generate().map_err(|e| {
            format!(
                "bindgen could not generate the {} bindings from {}: {e}\n\
                 (is libclang installed? Debian/Ubuntu: apt-get install libclang-dev)",
                self.name,
                include_dir.map(|d| d.display().to_string()).unwrap_or_else(|| "the system include paths".into())
            )
        })?;
        let text = format!(
            "// Generated by bindgen from the {} headers; do not edit. Regenerate with ci/regen-bindings.\n\n{}",
            self.name,
            bindings
        );
        std::fs::write(out, text).map_err(|e| format!("writing {}: {e}", out.display()))
    }
}

/// Prints `msg` and stops the build script with exit status 101.
pub fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(101);
}
