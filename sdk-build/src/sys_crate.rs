//! The items every `-sys` crate exports beside its bindings, written once:
//! [`sys_crate_items!`](crate::sys_crate_items).

/// Declares, in a `-sys` crate's root, its `bindings` module (the checked-in bindings, or with
/// the feature `bindgen` those generated at build time) re-exported at the root, and the items
/// that say what the build linked and check its version:
/// `BINDINGS_SDK_VERSION`, `LINKED_BACKEND`, `SOFTWARE_BACKEND`, `BACKEND_KIND`,
/// `Backend`/`BackendKind`, `VERSION_CHECK_OPT_OUT`, `VersionMismatch`, and, when the library
/// has a version query (`version_fn`), `BINDINGS_SDK_RELEASE`, `linked_version()`,
/// `check_linked_version()` and `backend()`.
///
/// The `cfg`s in the expansion (`soft_backend`, `sdk_linked`, `generated_bindings`) are those
/// the crate's build script ([`Sdk::build`](crate::Sdk::build)) sets for that crate.
#[macro_export]
macro_rules! sys_crate_items {
    (
        library: $library:literal,
        bindings: $bindings:literal,
        opt_out: $opt_out:literal,
        $(release: $release:literal, version_fn: $version_fn:ident, example: $example:literal,)?
    ) => {
        #[allow(
            missing_docs,
            missing_debug_implementations,
            improper_ctypes,
            unsafe_op_in_unsafe_fn
        )]
        #[allow(clippy::all, clippy::undocumented_unsafe_blocks)]
        // The headers' comments are C prose, not Markdown: `iov[N]` is no link.
        #[allow(rustdoc::broken_intra_doc_links, rustdoc::invalid_html_tags)]
        mod bindings {
            // The checked-in bindings of the pinned SDK, or (feature `bindgen`) those generated
            // at build time from the installed SDK's headers.
            #[cfg(not(generated_bindings))]
            include!("bindings.rs");
            #[cfg(generated_bindings)]
            include!(concat!(env!("OUT_DIR"), "/bindings.rs"));
        }
        pub use bindings::*;

        /// The SDK release whose headers the checked-in bindings were generated from
        /// (`vendor-headers/SDK_VERSION`).
        #[cfg(not(generated_bindings))]
        pub const BINDINGS_SDK_VERSION: &str = $bindings;
        /// Where the bindings in this build came from (generated at build time by the
        /// `bindgen` feature).
        #[cfg(generated_bindings)]
        pub const BINDINGS_SDK_VERSION: &str = env!("SDK_BINDINGS_SOURCE");

        /// What the build script linked: the vendor library and its directory, the software
        /// backend, or nothing (docs.rs builds).
        pub const LINKED_BACKEND: &str = env!("SDK_BACKEND_DESCRIPTION");

        /// True when this build uses the crate's software backend instead of the vendor
        /// library.
        pub const SOFTWARE_BACKEND: bool = cfg!(soft_backend);

        pub use $crate::backend::{Backend, BackendKind};
        pub use $crate::version::VersionMismatch;

        /// Which implementation this build linked: the vendor library, the software backend,
        /// or nothing (docs.rs builds). Dependents' build scripts see the same as
        /// `DEP_<LINKS>_BACKEND`.
        pub const BACKEND_KIND: BackendKind =
            $crate::backend::kind_from_cfg(cfg!(soft_backend), cfg!(sdk_linked));

        /// The environment variable that makes `check_linked_version` accept any linked
        /// release.
        pub const VERSION_CHECK_OPT_OUT: &str = $opt_out;

        $(
        /// The release the checked-in bindings describe, or `None` when the bindings were
        /// generated at build time from the installed SDK's own headers.
        #[cfg(not(generated_bindings))]
        pub const BINDINGS_SDK_RELEASE: Option<&str> = Some($release);
        /// The release the checked-in bindings describe, or `None` when the bindings were
        /// generated at build time from the installed SDK's own headers.
        #[cfg(generated_bindings)]
        pub const BINDINGS_SDK_RELEASE: Option<&str> = None;

        #[doc = concat!("The version string the linked ", $library, " library reports (`",
                        stringify!($version_fn), "()`), or `None` when this build links none.")]
        pub fn linked_version() -> Option<&'static std::ffi::CStr> {
            #[cfg(any(sdk_linked, soft_backend))]
            {
                // SAFETY: the version query takes no arguments and returns a pointer to a
                // static, NUL-terminated string owned by the library (or null).
                let p = unsafe { $version_fn() };
                if p.is_null() {
                    return None;
                }
                // SAFETY: non-null, NUL-terminated and static, as above.
                Some(unsafe { std::ffi::CStr::from_ptr(p) })
            }
            #[cfg(not(any(sdk_linked, soft_backend)))]
            {
                None
            }
        }

        #[doc = concat!("Checks that the linked ", $library, " library is of the release the \
            bindings describe: equal `major.minor` of [`linked_version`] and \
            [`BINDINGS_SDK_RELEASE`]. The safe crate runs it when it first opens the library \
            and refuses a mismatch.\n\n\
            Passes when nothing is linked, when the bindings were generated from the installed \
            SDK, or when [`VERSION_CHECK_OPT_OUT`] is set to anything but `0`.\n\n\
            ```\n", $example, "::check_linked_version().expect(\"bindings and library agree\");\n```")]
        pub fn check_linked_version() -> Result<(), VersionMismatch> {
            let linked = linked_version().map(|v| v.to_string_lossy());
            $crate::version::check_same_release(
                $library,
                BINDINGS_SDK_RELEASE,
                linked.as_deref(),
                VERSION_CHECK_OPT_OUT,
            )
        }

        #[doc = concat!("Reports which ", $library, " implementation this program is linked \
            with, and its version.\n\n```\nprintln!(\"", $library, " backend: {}\", ",
            $example, "::backend());\n```")]
        pub fn backend() -> Backend {
            Backend {
                kind: BACKEND_KIND,
                linked: LINKED_BACKEND,
                version: linked_version().map(|v| v.to_string_lossy().into_owned()),
                bindings: BINDINGS_SDK_VERSION,
            }
        }
        )?
    };
}
