// Software backend: `ef_memreg_alloc()` does not trust the caller's length or address. Like
// the driver, which pins the pages it registers, it refuses memory that could never be pinned
// (-ENOMEM) and memory that is not mapped readable and writable (-EFAULT), instead of aborting
// the process on a huge DMA address array or crashing later on transmit.
// Each test runs in a network namespace of its own (see testkit); a test that cannot prints
// `SKIPPED <name>: <reason>` on the terminal.
#![cfg(soft_backend)]

mod common;

use std::os::raw::{c_int, c_void};

use common::*;
use etherfabric_sys::*;

const PAGE: usize = 4096;
const TIB: usize = 1 << 40;

/// Registers `len` bytes at `mem` with the test VI's domain; on success frees the
/// registration again at once.
fn register(t: &mut TestVi, mem: *mut c_void, len: usize) -> c_int {
    // SAFETY: ef_memreg is plain C data.
    let mut mr: ef_memreg = unsafe { std::mem::zeroed() };
    let dh = t.dh;
    // SAFETY: `mr` is writable and the domain allocated; the backend checks the memory.
    let rc = unsafe { ef_memreg_alloc(&mut mr, dh, &mut *t.pd, dh, mem, len) };
    if rc == 0 {
        // SAFETY: freeing the registration just made.
        assert_eq!(unsafe { ef_memreg_free(&mut mr, dh) }, 0);
    }
    rc
}

/// Maps `pages` anonymous pages with `prot`.
fn map(pages: usize, prot: c_int, extra_flags: c_int) -> *mut c_void {
    // SAFETY: a fresh anonymous mapping.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            pages * PAGE,
            prot,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | extra_flags,
            -1,
            0,
        )
    };
    assert_ne!(p, libc::MAP_FAILED, "mmap of {pages} pages");
    p
}

/// The peak resident set size of the process, in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/self/status")
}

#[test]
fn memreg_refuses_lengths_no_machine_could_pin() {
    if !can_run("memreg_refuses_lengths_no_machine_could_pin") {
        return;
    }
    let mut t = TestVi::open("lo", -1, -1, 0).expect("VI on lo");
    let mem = t.mem.cast::<c_void>();
    // 64 TiB from the start of a small buffer: used to abort the process trying to allocate
    // the DMA address array (137438953472 bytes).
    assert_eq!(register(&mut t, mem, 64 * TIB), -libc::ENOMEM);

    // 1 TiB that is really mapped (reserved, nothing committed): used to cost 2 GB of DMA
    // addresses. No machine this runs on pins 1 TiB.
    // SAFETY: sysconf has no preconditions.
    let phys = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) } as u128 * PAGE as u128;
    assert!(
        phys < TIB as u128,
        "this machine has {phys} bytes of memory: 1 TiB could be pinned, pick a larger length"
    );
    let before = peak_rss_kib();
    // SAFETY: reserving address space only (no access, no commitment).
    let big = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            TIB,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if big == libc::MAP_FAILED {
        // Strict overcommit: the kernel refuses the reservation; the unmapped case still holds.
        eprintln!("memreg_refuses_lengths_no_machine_could_pin: no 1 TiB reservation here");
        assert_eq!(register(&mut t, mem, TIB), -libc::ENOMEM);
    } else {
        assert_eq!(register(&mut t, big, TIB), -libc::ENOMEM);
        // SAFETY: unmapping the reservation made above.
        assert_eq!(unsafe { libc::munmap(big, TIB) }, 0);
    }
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 256 * 1024,
        "refusing 1 TiB made the process grow by {grown} KiB"
    );

    // The domain still registers what it can pin.
    assert_eq!(register(&mut t, mem, BUF * NBUF), 0);
}

#[test]
fn memreg_refuses_memory_that_is_not_mapped_read_write() {
    if !can_run("memreg_refuses_memory_that_is_not_mapped_read_write") {
        return;
    }
    let mut t = TestVi::open("lo", -1, -1, 0).expect("VI on lo");

    // Three pages with a hole in the middle.
    let p = map(3, libc::PROT_READ | libc::PROT_WRITE, 0);
    let page = |i: usize| p.cast::<u8>().wrapping_add(i * PAGE).cast::<c_void>();
    // SAFETY: unmapping the middle page of our own mapping.
    assert_eq!(unsafe { libc::munmap(page(1), PAGE) }, 0);
    assert_eq!(
        register(&mut t, p, 3 * PAGE),
        -libc::EFAULT,
        "range with a hole"
    );
    assert_eq!(
        register(&mut t, page(1), PAGE),
        -libc::EFAULT,
        "unmapped page"
    );
    assert_eq!(register(&mut t, p, PAGE), 0, "the mapped first page");
    assert_eq!(register(&mut t, page(2), PAGE), 0, "the mapped last page");

    // A guard page and read-only memory cannot be pinned for the adapter to write either.
    // SAFETY: changing the protection of our own mapping.
    assert_eq!(unsafe { libc::mprotect(page(2), PAGE, libc::PROT_NONE) }, 0);
    assert_eq!(
        register(&mut t, page(2), PAGE),
        -libc::EFAULT,
        "PROT_NONE page"
    );
    // SAFETY: as above.
    assert_eq!(unsafe { libc::mprotect(page(2), PAGE, libc::PROT_READ) }, 0);
    assert_eq!(
        register(&mut t, page(2), PAGE),
        -libc::EFAULT,
        "read-only page"
    );

    // Memory unmapped entirely.
    // SAFETY: unmapping the rest of our own mapping.
    unsafe {
        assert_eq!(libc::munmap(p, PAGE), 0);
        assert_eq!(libc::munmap(page(2), PAGE), 0);
    }
    assert_eq!(register(&mut t, p, PAGE), -libc::EFAULT, "unmapped memory");

    // Registered memory adjacent mappings make up is accepted (the kernel may merge them or
    // not).
    let q = map(2, libc::PROT_READ | libc::PROT_WRITE, 0);
    assert_eq!(register(&mut t, q, 2 * PAGE), 0);
    // SAFETY: unmapping our own mapping.
    assert_eq!(unsafe { libc::munmap(q, 2 * PAGE) }, 0);
}
