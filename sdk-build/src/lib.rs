//! Build-script support shared by the three `-sys` crates.
//!
//! One place describes each vendor SDK ([`Sdk`]): its library names, the environment variables
//! that locate or force it, its headers and the bindgen configuration. Each `-sys` build script
//! calls [`Sdk::build`]; `ci/regen-bindings` calls [`Sdk::generate`] through the unpublished
//! `regen-bindings` tool (ci/regen) so the checked-in bindings and the build-time ones come from
//! the same code.
//!
//! At run time the `-sys` crates also use [`version`] (the check that the linked library is of
//! the release the bindings describe) and [`backend`] (which implementation is linked).
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

pub mod backend;
#[cfg(any(feature = "bindgen", test))]
mod bindgen_docs;
mod sys_crate;
pub mod version;

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
    allowlist_file: r".*/zf/([a-z_]+/)?[a-z0-9_]+\.h",
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

    /// Reads an environment variable (empty counts as unset). [`Sdk::build`] has already told
    /// cargo to rerun when any of [`Sdk::env_vars`] changes.
    fn env(&self, name: &str) -> Option<String> {
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

    /// Parses the value of `<PREFIX>_BACKEND`.
    pub fn parse_backend(&self, value: Option<&str>) -> Result<BackendRequest, String> {
        let var = self.var_name("BACKEND");
        match value {
            None | Some("auto") => Ok(BackendRequest::Auto),
            Some("sdk") => Ok(BackendRequest::Sdk),
            Some("soft") => Ok(BackendRequest::Soft),
            Some(other) => Err(format!(
                "{var}={other:?} is not understood: use `auto` (default), `sdk` or `soft`"
            )),
        }
    }

    /// Library directories to search, in order, each with where it came from: `lib_dir` (the
    /// value of `<PREFIX>_LIB_DIR`), then `onload_prefix` (`ONLOAD_PREFIX`), then the standard
    /// directories.
    pub fn candidate_dirs(
        &self,
        lib_dir: Option<&str>,
        onload_prefix: Option<&str>,
    ) -> Vec<(PathBuf, String)> {
        let mut dirs = Vec::new();
        if let Some(dir) = lib_dir {
            dirs.push((PathBuf::from(dir), self.var_name("LIB_DIR")));
        }
        if let Some(prefix) = onload_prefix {
            for sub in ["lib64", "lib/x86_64-linux-gnu", "lib"] {
                dirs.push((Path::new(prefix).join(sub), "ONLOAD_PREFIX".into()));
            }
        }
        for dir in STANDARD_LIB_DIRS {
            dirs.push((PathBuf::from(dir), "standard prefix".into()));
        }
        dirs
    }

    /// The file name of the library: `libciul.so`, or `libciul1.a` when `static_link`.
    pub fn library_file(&self, static_link: bool) -> String {
        if static_link {
            format!("lib{}.a", self.static_lib)
        } else {
            format!("lib{}.so", self.dylib)
        }
    }

    /// Looks for the library in `dirs`; returns its directory, or the list of paths searched
    /// (one per line, with where each directory came from).
    pub fn find_library(
        &self,
        dirs: &[(PathBuf, String)],
        static_link: bool,
    ) -> Result<PathBuf, String> {
        let file = self.library_file(static_link);
        let mut searched = String::new();
        for (dir, origin) in dirs {
            let path = dir.join(&file);
            if path.is_file() {
                return Ok(dir.clone());
            }
            let _ = writeln!(searched, "    {} ({origin})", path.display());
        }
        Err(searched)
    }

    /// The full "not found" message, openssl-sys style: what was searched, what to set.
    pub fn not_found_message(&self, searched: &str) -> String {
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
        println!("cargo::rustc-check-cfg=cfg(soft_backend)");

        if let Err(msg) = self.maybe_generate_bindings() {
            fail(&msg);
        }

        if let Some(dir) = self.include_dir() {
            // Lets dependents' build scripts find the headers as DEP_<LINKS>_INCLUDE.
            println!("cargo:include={}", dir.display());
        }

        if env::var_os("DOCS_RS").is_some() {
            println!("cargo:rustc-env=SDK_BACKEND_DESCRIPTION=none (docs.rs build)");
            println!("cargo:backend={}", backend::BackendKind::None.as_str());
            return;
        }

        let request = self
            .parse_backend(self.env(&self.var_name("BACKEND")).as_deref())
            .unwrap_or_else(|m| fail(&m));
        let linked = match request {
            BackendRequest::Soft => Linked::Nothing,
            BackendRequest::Auto | BackendRequest::Sdk => {
                let static_link = self.flag(&self.var_name("STATIC"));
                let lib_dir = self.env(&self.var_name("LIB_DIR"));
                let prefix = self.env("ONLOAD_PREFIX");
                let dirs = self.candidate_dirs(lib_dir.as_deref(), prefix.as_deref());
                match self.find_library(&dirs, static_link) {
                    Ok(dir) => Linked::Sdk { dir, static_link },
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
                println!("cargo:backend={}", backend::BackendKind::Sdk.as_str());
                println!("cargo:lib_dir={}", dir.display());
                println!(
                    "cargo:rustc-env=SDK_BACKEND_DESCRIPTION={} library in {}",
                    if *static_link { "static" } else { "shared" },
                    dir.display()
                );
            }
            Linked::Nothing => {
                let p = self.env_prefix;
                // Quiet where the software backend is what the user wants (no Solarflare
                // adapter or driver here); loud where it is almost surely a mistake.
                let signs = solarflare_signs(Path::new("/"));
                if request != BackendRequest::Soft && !signs.is_empty() {
                    println!(
                        "cargo:warning=THIS MACHINE HAS SOLARFLARE HARDWARE OR DRIVERS ({}) but no \
                         {} library was found ({p}_LIB_DIR, ONLOAD_PREFIX, {}): this build uses \
                         the software backend, which does not drive the adapter. Set \
                         {p}_LIB_DIR or ONLOAD_PREFIX to use the SDK, {p}_BACKEND=sdk to \
                         require it, or {p}_BACKEND=soft if the software backend is intended.",
                        signs.join(", "),
                        self.name,
                        STANDARD_LIB_DIRS.join(", ")
                    );
                }
                println!("cargo:rustc-cfg=soft_backend");
                println!("cargo:backend={}", backend::BackendKind::Software.as_str());
                println!(
                    "cargo:rustc-env=SDK_BACKEND_DESCRIPTION=software backend (no {} library linked)",
                    self.name
                );
            }
        }
    }

    /// The SDK include directory the environment names: `<PREFIX>_INCLUDE_DIR`, else
    /// `ONLOAD_PREFIX/include`.
    fn sdk_include_dir(&self) -> Option<PathBuf> {
        self.env(&self.var_name("INCLUDE_DIR"))
            .map(PathBuf::from)
            .or_else(|| {
                self.env("ONLOAD_PREFIX")
                    .map(|p| Path::new(&p).join("include"))
            })
    }

    /// The headers' directory for dependents: [`Self::sdk_include_dir`], else the workspace's
    /// `vendor-headers/` when it exists.
    fn include_dir(&self) -> Option<PathBuf> {
        self.sdk_include_dir().or_else(|| {
            let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR")?);
            let vendor = manifest.parent()?.join("vendor-headers");
            vendor.is_dir().then_some(vendor)
        })
    }

    /// With feature `bindgen` (seen as `CARGO_FEATURE_BINDGEN`) or `<PREFIX>_BINDGEN=1`,
    /// generates bindings into `OUT_DIR` from `<PREFIX>_INCLUDE_DIR`, `ONLOAD_PREFIX/include`
    /// or the system include paths.
    fn maybe_generate_bindings(&self) -> Result<(), String> {
        let wanted =
            env::var_os("CARGO_FEATURE_BINDGEN").is_some() || self.flag(&self.var_name("BINDGEN"));
        if !wanted || env::var_os("DOCS_RS").is_some() {
            return Ok(());
        }
        self.generate_at_build_time()
    }

    #[cfg(not(feature = "bindgen"))]
    fn generate_at_build_time(&self) -> Result<(), String> {
        Err(format!(
            "{}_BINDGEN=1 asks for bindings generated at build time, but this build has no \
             bindgen: enable the crate feature `bindgen` of {} as well \
             (e.g. `cargo build --features {}/bindgen`)",
            self.env_prefix, self.crate_dir, self.crate_dir
        ))
    }

    #[cfg(feature = "bindgen")]
    fn generate_at_build_time(&self) -> Result<(), String> {
        // Not the vendor-headers fallback: without an SDK named, use the system include paths.
        let include = self.sdk_include_dir();
        let out =
            PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?).join("bindings.rs");
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
    #[cfg(feature = "bindgen")]
    pub fn generate(&self, include_dir: Option<&Path>, out: &Path) -> Result<(), String> {
        let mut wrapper = String::new();
        for h in self.headers {
            let _ = writeln!(wrapper, "#include <{h}>");
        }
        let headers = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let mut builder = bindgen::Builder::default()
            .header_contents("sdk_wrapper.h", &wrapper)
            .allowlist_file(self.allowlist_file)
            .layout_tests(true)
            .derive_default(true)
            .derive_debug(true)
            .generate_comments(true)
            .clang_arg("-fparse-all-comments")
            .rust_target(bindgen::RustTarget::stable(85, 0).map_err(|e| e.to_string())?)
            .formatter(bindgen::Formatter::Rustfmt)
            .parse_callbacks(Box::new(DocCallbacks {
                headers: headers.clone(),
                dirs: self
                    .headers
                    .iter()
                    .filter_map(|h| h.split('/').next())
                    .map(|d| format!("/{d}/"))
                    .collect(),
            }));
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
            let hint = match e {
                bindgen::BindgenError::ClangDiagnostic(_) => "",
                _ => "\n(is libclang installed? Debian/Ubuntu: apt-get install libclang-dev)",
            };
            format!(
                "bindgen could not generate the {} bindings from {}: {e}{hint}",
                self.name,
                include_dir
                    .map(|d| d.display().to_string())
                    .unwrap_or_else(|| "the system include paths".into())
            )
        })?;
        let mut macro_docs = std::collections::HashMap::new();
        let seen = headers.lock().map(|h| h.clone()).unwrap_or_default();
        for header in seen {
            let text = std::fs::read_to_string(&header)
                .map_err(|e| format!("reading {}: {e}", header.display()))?;
            bindgen_docs::macro_docs(&text, &mut macro_docs);
        }
        let text = format!(
            "// Generated by bindgen from the {} headers; do not edit. Regenerate with ci/regen-bindings.\n\n{}",
            self.name,
            bindgen_docs::add_missing_docs(&bindings.to_string(), &macro_docs)
        );
        std::fs::write(out, text).map_err(|e| format!("writing {}: {e}", out.display()))
    }
}

/// bindgen callbacks of [`Sdk::generate`]: note the SDK's own headers as they are included
/// (for the comments of their macros) and add the doc attributes of [`bindgen_docs`].
#[cfg(feature = "bindgen")]
#[derive(Debug)]
struct DocCallbacks {
    /// The SDK's headers seen so far.
    headers: std::sync::Arc<std::sync::Mutex<Vec<PathBuf>>>,
    /// Path pieces (`/etherfabric/`) that mark a header as the SDK's own.
    dirs: Vec<String>,
}

#[cfg(feature = "bindgen")]
impl bindgen::callbacks::ParseCallbacks for DocCallbacks {
    fn include_file(&self, filename: &str) {
        if self.dirs.iter().any(|d| filename.contains(d.as_str())) {
            if let Ok(mut seen) = self.headers.lock() {
                let path = PathBuf::from(filename);
                if !seen.contains(&path) {
                    seen.push(path);
                }
            }
        }
    }

    fn add_attributes(&self, info: &bindgen::callbacks::AttributeInfo<'_>) -> Vec<String> {
        bindgen_docs::type_attributes(info.name)
    }

    fn field_attributes(&self, info: &bindgen::callbacks::FieldAttributeInfo<'_>) -> Vec<String> {
        bindgen_docs::field_attributes(info.type_name, info.field_name)
    }
}

/// Signs under `root` (normally `/`) that this machine has a Solarflare adapter or the Onload
/// driver: a network interface bound to one of AMD Solarflare's drivers, the `sfc`, `onload`
/// or `xilinx_efct` kernel modules loaded, or `/dev/onload`. Each sign is named.
pub fn solarflare_signs(root: &Path) -> Vec<String> {
    const DRIVERS: &[&str] = &["sfc", "sfc_ef100", "xilinx_efct", "sfc_efct"];
    let mut signs = Vec::new();
    if let Ok(dir) = std::fs::read_dir(root.join("sys/class/net")) {
        let mut ifaces: Vec<_> = dir.flatten().collect();
        ifaces.sort_by_key(|e| e.file_name());
        for entry in ifaces {
            let driver = std::fs::read_link(entry.path().join("device/driver")).ok();
            let name = driver
                .as_deref()
                .and_then(Path::file_name)
                .and_then(|n| n.to_str());
            if let Some(d) = name.filter(|d| DRIVERS.contains(d)) {
                signs.push(format!(
                    "interface {} on driver {d}",
                    entry.file_name().to_string_lossy()
                ));
            }
        }
    }
    for module in ["sfc", "onload", "xilinx_efct"] {
        if root.join("sys/module").join(module).is_dir() {
            signs.push(format!("kernel module {module}"));
        }
    }
    if root.join("dev/onload").exists() {
        signs.push("/dev/onload".into());
    }
    signs
}

/// Prints `msg` and stops the build script with exit status 101.
pub fn fail(msg: &str) -> ! {
    eprintln!("{msg}");
    std::process::exit(101);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let d = env::temp_dir().join(format!("sdk-build-test-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn backend_values() {
        assert_eq!(EF_VI.parse_backend(None), Ok(BackendRequest::Auto));
        assert_eq!(EF_VI.parse_backend(Some("auto")), Ok(BackendRequest::Auto));
        assert_eq!(EF_VI.parse_backend(Some("sdk")), Ok(BackendRequest::Sdk));
        assert_eq!(
            TCPDIRECT.parse_backend(Some("soft")),
            Ok(BackendRequest::Soft)
        );
        let err = EF_VI.parse_backend(Some("hardware")).unwrap_err();
        assert!(
            err.contains("EF_VI_BACKEND") && err.contains("hardware"),
            "{err}"
        );
    }

    #[test]
    fn lib_dir_comes_first_then_prefix_then_standard() {
        let dirs = EF_VI.candidate_dirs(Some("/x/lib"), Some("/opt/onload"));
        let paths: Vec<_> = dirs.iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(paths[0], "/x/lib");
        assert_eq!(paths[1], "/opt/onload/lib64");
        assert_eq!(paths[3], "/opt/onload/lib");
        assert_eq!(&paths[4..], STANDARD_LIB_DIRS);
        assert_eq!(dirs[0].1, "EF_VI_LIB_DIR");
    }

    #[test]
    fn finds_shared_or_static_library() {
        let d = temp_dir("find");
        std::fs::write(d.join("libonload_zf.so"), b"").unwrap();
        let dirs = vec![
            (PathBuf::from("/nonexistent"), "x".to_string()),
            (d.clone(), "ZF_LIB_DIR".into()),
        ];
        assert_eq!(TCPDIRECT.find_library(&dirs, false), Ok(d.clone()));
        // The static archive is not there: the error lists every path tried.
        let searched = TCPDIRECT.find_library(&dirs, true).unwrap_err();
        assert!(
            searched.contains("/nonexistent/libonload_zf_static.a"),
            "{searched}"
        );
        assert!(
            searched.contains("libonload_zf_static.a (ZF_LIB_DIR)"),
            "{searched}"
        );
        std::fs::write(d.join("libonload_zf_static.a"), b"").unwrap();
        assert_eq!(TCPDIRECT.find_library(&dirs, true), Ok(d.clone()));
        std::fs::remove_dir_all(d).unwrap();
    }

    #[test]
    fn not_found_message_says_what_to_set() {
        let msg = ONLOAD_EXT.not_found_message("    /a/libonload_ext.so (standard prefix)\n");
        for needle in [
            "Could not find the Onload Extensions API library",
            "/a/libonload_ext.so",
            "ONLOAD_EXT_LIB_DIR=",
            "ONLOAD_PREFIX=",
            "ONLOAD_EXT_STATIC=1",
            "ONLOAD_EXT_BACKEND=soft",
        ] {
            assert!(msg.contains(needle), "missing {needle:?} in {msg}");
        }
    }

    #[test]
    fn every_variable_is_listed() {
        let vars = EF_VI.env_vars();
        for v in [
            "EF_VI_LIB_DIR",
            "EF_VI_STATIC",
            "EF_VI_BACKEND",
            "EF_VI_INCLUDE_DIR",
            "EF_VI_BINDGEN",
            "ONLOAD_PREFIX",
            "DOCS_RS",
        ] {
            assert!(vars.iter().any(|x| x == v), "{v}");
        }
    }
}

#[cfg(test)]
mod signs_tests {
    use super::*;

    #[test]
    fn no_signs_on_a_machine_without_solarflare() {
        let root =
            std::env::temp_dir().join(format!("sdk-build-signs-none-{}", std::process::id()));
        std::fs::create_dir_all(root.join("sys/class/net/lo")).unwrap();
        std::fs::create_dir_all(root.join("sys/module/e1000e")).unwrap();
        assert!(solarflare_signs(&root).is_empty());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn an_sfc_interface_the_onload_module_and_dev_onload_are_named() {
        let root = std::env::temp_dir().join(format!("sdk-build-signs-sfc-{}", std::process::id()));
        let drivers = root.join("sys/bus/pci/drivers");
        std::fs::create_dir_all(drivers.join("sfc")).unwrap();
        std::fs::create_dir_all(drivers.join("e1000e")).unwrap();
        for (iface, driver) in [("ens1f0", "sfc"), ("eno1", "e1000e")] {
            let dev = root.join("devices").join(iface);
            std::fs::create_dir_all(dev.join("device")).unwrap();
            std::os::unix::fs::symlink(drivers.join(driver), dev.join("device/driver")).unwrap();
            std::fs::create_dir_all(root.join("sys/class/net")).unwrap();
            std::os::unix::fs::symlink(&dev, root.join("sys/class/net").join(iface)).unwrap();
        }
        std::fs::create_dir_all(root.join("sys/module/onload")).unwrap();
        std::fs::create_dir_all(root.join("dev")).unwrap();
        std::fs::write(root.join("dev/onload"), "").unwrap();
        assert_eq!(
            solarflare_signs(&root),
            [
                "interface ens1f0 on driver sfc",
                "kernel module onload",
                "/dev/onload"
            ]
        );
        std::fs::remove_dir_all(&root).unwrap();
    }
}
