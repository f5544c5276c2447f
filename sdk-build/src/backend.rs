//! Which implementation of an SDK a program runs on, as the `-sys` crates report it at run time.

use std::fmt;

/// The kind of implementation a `-sys` crate's build linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BackendKind {
    /// The vendor library, found by the build script.
    Sdk,
    /// The software backend built into the `-sys` crate (no vendor library or adapter needed).
    Software,
    /// Nothing is linked (docs.rs builds): calling into the library is not possible.
    None,
}

impl BackendKind {
    /// The word the build script emits for dependents as `cargo:backend=...`
    /// (`DEP_<LINKS>_BACKEND`): `sdk`, `soft` or `none`.
    pub const fn as_str(self) -> &'static str {
        match self {
            BackendKind::Sdk => "sdk",
            BackendKind::Software => "soft",
            BackendKind::None => "none",
        }
    }
}

/// What a `-sys` crate's `backend()` reports: the kind, how it was linked and the versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    /// Vendor library, software backend or nothing.
    pub kind: BackendKind,
    /// The build script's description: the library and its directory, or the software backend.
    pub linked: &'static str,
    /// The version string the linked implementation reports, if any.
    pub version: Option<String>,
    /// The SDK release the bindings were generated from.
    pub bindings: &'static str,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.linked)?;
        if let Some(v) = &self.version {
            write!(f, ", version {v}")?;
        }
        write!(f, "; bindings: {}", self.bindings)
    }
}

/// The kind the build script chose, from the cfgs it set (`soft_backend`, `sdk_linked`).
pub const fn kind_from_cfg(soft_backend: bool, sdk_linked: bool) -> BackendKind {
    if soft_backend {
        BackendKind::Software
    } else if sdk_linked {
        BackendKind::Sdk
    } else {
        BackendKind::None
    }
}
