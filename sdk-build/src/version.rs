//! The SDK version check the `-sys` crates run at run time (no dependencies, no `unsafe`).
//!
//! The checked-in bindings describe one SDK release. The vendor libraries expose their internal
//! structures to the application (ef_vi's `ef_vi` and its ops table are read and written by
//! inline code compiled into the program), so a program whose bindings describe one release
//! and which is linked with another can corrupt memory without any error. Each `-sys` crate
//! therefore compares the release its bindings describe with the one the linked library
//! reports, and the safe crates refuse a different `major.minor` when they first open the
//! library, unless the user opts out with the environment variable the error names.

use std::fmt;

/// A release number's first two parts, the ones whose change may change the ABI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Release {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
}

impl Release {
    /// The first `major.minor` found in a version string, wherever it stands:
    /// `"10.0.0"`, `"fake-ef_vi-1.2.3"` and `"TCPDirect Library version: 9.2.1"` all have one.
    pub fn find_in(text: &str) -> Option<Release> {
        let bytes = text.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_digit()) {
                let major_end = digits_end(bytes, i);
                if bytes.get(major_end) == Some(&b'.') {
                    let minor_end = digits_end(bytes, major_end + 1);
                    if minor_end > major_end + 1 {
                        let major = text[i..major_end].parse().ok()?;
                        let minor = text[major_end + 1..minor_end].parse().ok()?;
                        return Some(Release { major, minor });
                    }
                }
                i = major_end;
            } else {
                i += 1;
            }
        }
        None
    }
}

fn digits_end(bytes: &[u8], from: usize) -> usize {
    from + bytes[from..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

impl fmt::Display for Release {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The linked library is not of the release the bindings describe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionMismatch {
    /// Which SDK: `ef_vi`, `TCPDirect` or `Onload Extensions API`.
    pub library: &'static str,
    /// The release the bindings were generated for, as the bindings name it.
    pub bindings: String,
    /// The version the linked library reports, as it reports it.
    pub linked: String,
    /// The environment variable that skips this check.
    pub opt_out_var: &'static str,
}

impl fmt::Display for VersionMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: the bindings describe release {} but the linked library reports version {:?}; \
             structures shared with the library may differ between them, which corrupts memory. \
             Link the release the bindings describe, regenerate the bindings from the installed \
             SDK's headers (crate feature `bindgen`), or set {}=1 to skip this check",
            self.library, self.bindings, self.linked, self.opt_out_var
        )
    }
}

impl std::error::Error for VersionMismatch {}

/// Whether the user has set `var` to skip the check (any value but empty or `0`).
pub fn opted_out(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty() && v != "0")
}

/// Compares the release the bindings describe with the version string a linked library reports:
/// their `major.minor` must be equal. `linked` is `None` when no library is linked (docs.rs);
/// `bindings` is `None` when the bindings were generated at build time from the installed
/// SDK's own headers. Both mean there is nothing to compare. A linked version string with no
/// `major.minor` in it is a mismatch: nothing shows the library to be the right one.
pub fn check_same_release(
    library: &'static str,
    bindings: Option<&str>,
    linked: Option<&str>,
    opt_out_var: &'static str,
) -> Result<(), VersionMismatch> {
    let (Some(bindings), Some(linked)) = (bindings, linked) else {
        return Ok(());
    };
    if opted_out(opt_out_var) {
        return Ok(());
    }
    let want = Release::find_in(bindings);
    match Release::find_in(linked) {
        Some(have) if Some(have) == want => Ok(()),
        _ => Err(VersionMismatch {
            library,
            bindings: bindings.to_owned(),
            linked: linked.to_owned(),
            opt_out_var,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(major: u32, minor: u32) -> Option<Release> {
        Some(Release { major, minor })
    }

    #[test]
    fn finds_the_first_major_minor() {
        assert_eq!(Release::find_in("10.0.0"), r(10, 0));
        assert_eq!(Release::find_in("fake-ef_vi-1.2.3"), r(1, 2));
        assert_eq!(
            Release::find_in("TCPDirect Library version: 9.2.1 (x)"),
            r(9, 2)
        );
        assert_eq!(Release::find_in("onload-9.0.1.86"), r(9, 0));
        assert_eq!(Release::find_in("v7. then 8.1"), r(8, 1));
        assert_eq!(Release::find_in("no version"), None);
        assert_eq!(Release::find_in("12"), None);
        assert_eq!(Release::find_in(""), None);
        assert_eq!(Release::find_in("99999999999.1"), None);
    }

    #[test]
    fn equal_major_minor_passes_and_others_fail_naming_both() {
        const VAR: &str = "SDK_BUILD_TEST_NEVER_SET";
        assert_eq!(
            check_same_release("ef_vi", Some("10.0.0"), Some("10.0.7"), VAR),
            Ok(())
        );
        let e =
            check_same_release("ef_vi", Some("10.0.0"), Some("fake-ef_vi-1.2.3"), VAR).unwrap_err();
        assert_eq!(e.bindings, "10.0.0");
        assert_eq!(e.linked, "fake-ef_vi-1.2.3");
        let msg = e.to_string();
        for needle in ["ef_vi", "10.0.0", "fake-ef_vi-1.2.3", VAR] {
            assert!(msg.contains(needle), "{msg:?} lacks {needle}");
        }
        assert!(check_same_release("x", Some("10.0.0"), Some("10.1.0"), VAR).is_err());
        assert!(check_same_release("x", Some("10.0.0"), Some("garbage"), VAR).is_err());
        assert_eq!(check_same_release("x", None, Some("1.0"), VAR), Ok(()));
        assert_eq!(check_same_release("x", Some("1.0"), None, VAR), Ok(()));
    }

    #[test]
    fn opting_out_skips_the_comparison() {
        const VAR: &str = "SDK_BUILD_TEST_OPT_OUT";
        // SAFETY: no other thread of this test binary reads or writes this variable.
        unsafe { std::env::set_var(VAR, "1") };
        assert_eq!(
            check_same_release("x", Some("10.0"), Some("1.2"), VAR),
            Ok(())
        );
        // SAFETY: as above.
        unsafe { std::env::set_var(VAR, "0") };
        assert!(check_same_release("x", Some("10.0"), Some("1.2"), VAR).is_err());
        // SAFETY: as above.
        unsafe { std::env::remove_var(VAR) };
    }
}
