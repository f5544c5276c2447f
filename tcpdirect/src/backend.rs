//! Which TCPDirect implementation this program runs on.

use std::fmt;

/// The kind of TCPDirect implementation linked into the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BackendKind {
    /// The vendor library, found by the build script.
    Sdk,
    /// The software backend built into `zf_sys` (no vendor library, no Solarflare NIC needed).
    Software,
    /// Nothing is linked (docs.rs builds).
    None,
}

/// What [`backend()`] reports: the kind, how it was linked and the library's own version.
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

/// Reports which TCPDirect implementation this program is linked with.
///
/// ```
/// let b = tcpdirect::backend();
/// println!("TCPDirect backend: {b}");
/// ```
pub fn backend() -> Backend {
    let kind = if zf_sys::SOFTWARE_BACKEND {
        BackendKind::Software
    } else if zf_sys::LINKED_BACKEND.starts_with("none") {
        BackendKind::None
    } else {
        BackendKind::Sdk
    };
    Backend {
        kind,
        linked: zf_sys::LINKED_BACKEND,
        version: zf_sys::linked_version().map(|v| v.to_string_lossy().into_owned()),
        bindings: zf_sys::BINDINGS_SDK_VERSION,
    }
}
