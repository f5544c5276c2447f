//! Conformance tests of the `-sys` crates against C (not published).
//!
//! The tests in `tests/` call C wrappers (compiled by `build.rs` from `c/`) around the SDK
//! headers' macros and inline functions, and compare their results with the Rust equivalents
//! on the same inputs. Point them at a real SDK's headers with `EF_VI_INCLUDE_DIR`,
//! `ZF_INCLUDE_DIR` or `ONLOAD_EXT_INCLUDE_DIR`.
//!
//! This library holds what several of those tests share: the layout-table comparison of the
//! generated `tests/*_layout.rs` and a reproducible pseudo-random generator.

#![deny(missing_docs)]

use std::ffi::{CStr, c_char, c_int};

/// One row of a C layout table (`struct layout_fact` of `c/layout_fact.h`): the name of a
/// size, alignment or offset and its value as C computes it. A table ends with a row whose
/// `name` is null.
#[repr(C)]
#[derive(Debug)]
pub struct LayoutFact {
    /// What was measured (`"size T"`, `"align T"`, `"offset T.field"`), a C string; null in
    /// the terminating row.
    pub name: *const c_char,
    /// Its value in bytes.
    pub value: usize,
}

/// Compares the C layout table `table` (terminated by a null name) with the same facts as
/// Rust computes them, `rust`, row by row; `lib` names the library in the messages.
///
/// # Panics
///
/// When the two tables are not of the same length or name different facts in a row, or when
/// any value differs (all differing rows are listed), or when there is nothing to compare.
///
/// # Safety
///
/// Every `name` in `table` but the last must point to a NUL-terminated string that lives as
/// long as the table.
pub unsafe fn compare_layouts(lib: &str, table: &[LayoutFact], rust: &[(&str, usize)]) {
    assert_eq!(
        table.len(),
        rust.len() + 1,
        "{lib}: the C table has {} rows, the Rust one {} (and C a terminator)",
        table.len(),
        rust.len()
    );
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for (fact, (name, value)) in table.iter().zip(rust) {
        assert!(!fact.name.is_null(), "{lib}: C table ends before {name}");
        // SAFETY: not null, and the caller promises a live C string.
        let c_name = unsafe { CStr::from_ptr(fact.name) }.to_str().unwrap();
        assert_eq!(c_name, *name, "{lib}: tables out of step");
        if fact.value != *value {
            mismatches.push(format!("{name}: C {} Rust {value}", fact.value));
        }
        checked += 1;
    }
    assert!(
        table[rust.len()].name.is_null(),
        "{lib}: C table not terminated"
    );
    assert!(
        mismatches.is_empty(),
        "{lib}: layout mismatches:\n{}",
        mismatches.join("\n")
    );
    println!("{lib}: {checked} layout facts agree between C and Rust");
    assert!(checked > 0, "{lib}: no layout facts to compare");
}

/// xorshift64* generator, so that random test cases are reproducible without a dependency.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 pseudo-random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// The high 32 bits of the next value.
    pub fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    /// A value in `[0, n)`; `n` must not be 0.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A value in `[-limit, limit]` (for `limit` of at least 70 000), biased towards small
    /// values and the edges.
    pub fn int(&mut self, limit: c_int) -> c_int {
        let l = i64::from(limit);
        let v = match self.below(4) {
            0 => self.below(2000) as i64 - 1000,
            1 => self.below(70_000) as i64,
            2 => [0, 1, -1, l, -l][self.below(5) as usize],
            _ => self.below(2 * l as u64 + 1) as i64 - l,
        };
        v as c_int
    }
}

/// Compares the values of a list of C macros as Rust has them, `rust` (name and value), with
/// C's: `c(i)` is the value of macro number `i` in the same order, and `!0` past the end of
/// the C list.
///
/// # Panics
///
/// When a value differs (naming the macro) or when the C list is longer than `rust`.
pub fn compare_macros(rust: &[(&str, u64)], c: impl Fn(c_int) -> u64) {
    for (i, (name, value)) in rust.iter().enumerate() {
        assert_eq!(*value, c(i as c_int), "{name}");
    }
    assert_eq!(
        c(rust.len() as c_int),
        !0,
        "C table is longer than the Rust one"
    );
}
