//! Conformance tests of the `-sys` crates against C (not published).
//!
//! The tests in `tests/` call C wrappers (compiled by `build.rs` from `c/`) around the SDK
//! headers' macros and inline functions, and compare their results with the Rust equivalents
//! on the same inputs. Point them at a real SDK's headers with `EF_VI_INCLUDE_DIR`,
//! `ZF_INCLUDE_DIR` or `ONLOAD_EXT_INCLUDE_DIR`.
