//! Memory for packet buffers: an anonymous, page-aligned mapping, unmapped when dropped.

/// An anonymous private read-write mapping of `len` bytes (page aligned, zero filled),
/// unmapped on drop. What the tests register as DMA memory.
#[derive(Debug)]
pub struct AnonMap {
    ptr: *mut u8,
    len: usize,
}

impl AnonMap {
    /// Maps `len` bytes; panics, with the system's reason, when that fails.
    pub fn new(len: usize) -> AnonMap {
        // SAFETY: a new anonymous mapping: no existing memory is touched.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(
            p,
            libc::MAP_FAILED,
            "mmap of {len} bytes: {}",
            std::io::Error::last_os_error()
        );
        AnonMap { ptr: p.cast(), len }
    }

    /// The first byte of the mapping.
    pub fn ptr(&self) -> *mut u8 {
        self.ptr
    }

    /// The first byte, as the `void *` C APIs take.
    pub fn as_void(&self) -> *mut libc::c_void {
        self.ptr.cast()
    }

    /// Length of the mapping in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the mapping is empty (never: `mmap` refuses a length of 0).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl Drop for AnonMap {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`, unmapped once.
        unsafe { libc::munmap(self.ptr.cast(), self.len) };
    }
}
