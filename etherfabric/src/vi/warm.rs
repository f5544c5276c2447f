//! Transmit warming: running the send path without sending, so that its code and data are
//! in cache for the next real send (`ef_vi_start_transmit_warm` / `_stop_transmit_warm`).

use super::*;

/// The id of warming sends: "no request", which hands back no buffer if a completion comes.
const NO_REQUEST: ffi::ef_request_id = ffi::EF_REQUEST_ID_MASK as ffi::ef_request_id;

/// A 64-byte unit of the scratch memory CTPIO writes go to while warming, aligned as the
/// adapter's CTPIO aperture is written.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct ScratchBlock([u8; 64]);

/// How many blocks of scratch memory warming a VI with [`ViFlags::TX_CTPIO`] needs: a frame
/// of any buffer size (at least the 4 KiB of the aperture) plus the CTPIO header.
fn ctpio_scratch_blocks(buf_size: usize) -> usize {
    (buf_size.max(4096) + 128).div_ceil(64)
}

impl Vi {
    /// Puts the TX ring into warming mode (`ef_vi_start_transmit_warm`) until the returned
    /// guard is dropped (`ef_vi_stop_transmit_warm`), so that warming cannot be left on by
    /// mistake.
    ///
    /// The guard's sends go through the normal path but reach no wire: on most adapters the
    /// ring looks full meanwhile and the send stops at its last step; on X3/X4 ("express")
    /// adapters the send completes with a TX event that carries no buffer. The guard only
    /// *borrows* buffers, which are read, if at all, during the call: nothing is handed to
    /// the adapter, so nothing comes back.
    ///
    /// The guard borrows the VI mutably: while warming, the VI cannot send for real, nor
    /// poll (completions polled meanwhile would be undone when warming stops).
    ///
    /// ```compile_fail,E0499
    /// # fn f(vi: &mut etherfabric::Vi, buf: etherfabric::PacketBuf, b2: &etherfabric::PacketBuf) {
    /// let mut warm = vi.start_transmit_warm().unwrap();
    /// vi.transmit(buf, 60).unwrap(); // no real send while warming
    /// warm.transmit(b2, 60).unwrap();
    /// # }
    /// ```
    ///
    /// Fails with [`Error::InvalidArgument`] for a VI without a TX ring.
    pub fn start_transmit_warm(&mut self) -> Result<TxWarm<'_>> {
        if self.tx_capacity() == 0 {
            return Err(Error::invalid("transmit warming needs a VI with a TX ring"));
        }
        // CTPIO writes go to the scratch area while warming, except on X3/X4, where warming
        // is a flag of the send and the library ignores the pointer.
        // SAFETY: the VI is live; `nic_type` is plain data written at allocation.
        let arch = u32::from(unsafe { (*self.raw).nic_type.arch });
        let mut scratch = (self.flags.contains(ViFlags::TX_CTPIO)
            && arch != ffi::ef_vi_arch_EF_VI_ARCH_EFCT)
            .then(|| {
                vec![ScratchBlock([0; 64]); ctpio_scratch_blocks(self.pool.buf_size)]
                    .into_boxed_slice()
            });
        let ctpio = scratch
            .as_mut()
            .map_or(std::ptr::null_mut(), |s| s.as_mut_ptr().cast());
        let mut saved = ffi::ef_vi_tx_warm_state {
            removed: 0,
            vi_ctpio_mmap_ptr: std::ptr::null_mut(),
        };
        // SAFETY: the VI is live and used by this thread only; `saved` is writable; `ctpio` is
        // null or a heap block large enough for any frame this VI may send, which the guard
        // keeps (and does not move) until warming stops.
        unsafe { ffi::ef_vi_start_transmit_warm(self.raw, &mut saved, ctpio) };
        Ok(TxWarm {
            vi: self,
            saved,
            _scratch: scratch,
        })
    }
}

/// A VI in transmit-warming mode, from [`Vi::start_transmit_warm`]; dropping it stops
/// warming (`ef_vi_stop_transmit_warm`) and the VI sends for real again.
///
/// Each send method runs the path of the VI method of the same name, with the same checks
/// (a bad length or a foreign buffer is still an error), and sends nothing. The library's
/// answer to a warming send (normally "ring full") is not reported.
#[derive(Debug)]
#[must_use = "warming stops when the guard is dropped"]
pub struct TxWarm<'vi> {
    vi: &'vi mut Vi,
    saved: ffi::ef_vi_tx_warm_state,
    /// Where CTPIO writes go while warming (VIs with `TX_CTPIO` only); freed after warming
    /// stops (fields drop after `drop`).
    _scratch: Option<Box<[ScratchBlock]>>,
}

impl TxWarm<'_> {
    /// Warms [`Vi::transmit`] with the first `len` bytes of `buf`.
    pub fn transmit(&mut self, buf: &PacketBuf, len: usize) -> Result<()> {
        self.vi.tx_check(buf, 0, len)?;
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.vi.dma_addr(buf) };
        // SAFETY: the VI is live, used by this thread only and warming: the send is not
        // made, so the adapter is given no descriptor for the borrowed buffer; the id is the
        // "no request" id, which hands back no buffer if a completion comes.
        unsafe {
            ffi::ef_vi_transmit(self.vi.raw, addr, len as c_int, NO_REQUEST);
        }
        Ok(())
    }

    /// Warms [`Vi::transmit_ctpio`] (the CTPIO write and its fallback post) with the first
    /// `len` bytes of `buf`.
    /// Needs [`ViFlags::TX_CTPIO`].
    pub fn transmit_ctpio(&mut self, buf: &PacketBuf, len: usize, threshold: u32) -> Result<()> {
        self.vi.ctpio_check()?;
        self.vi.tx_check(buf, 0, len)?;
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.vi.dma_addr(buf) };
        let p = self.vi.pool.ptr(buf.index);
        // SAFETY: the VI is live and warming; the CTPIO write goes to the guard's scratch
        // area; `p..p+len` is the borrowed buffer, read during the call.
        unsafe { ffi::ef_vi_transmit_ctpio(self.vi.raw, p.cast(), len, threshold) };
        // SAFETY: as in `transmit`.
        unsafe {
            ffi::ef_vi_transmit_ctpio_fallback(self.vi.raw, addr, len, NO_REQUEST);
        }
        Ok(())
    }

    /// Warms [`Vi::transmit_copy_pio`]: `frame` is copied into the linked PIO region at
    /// `offset` (as that call does; mind a region still being sent from), but not sent.
    pub fn transmit_copy_pio(&mut self, offset: usize, frame: &[u8]) -> Result<()> {
        self.vi.pio_check(offset, frame.len())?;
        // SAFETY: a PIO region is linked; offset and length were checked against its size;
        // `frame` is read during the call; the VI is warming, so nothing is sent.
        unsafe {
            ffi::ef_vi_transmit_copy_pio(
                self.vi.raw,
                offset as c_int,
                frame.as_ptr().cast(),
                frame.len() as c_int,
                NO_REQUEST,
            );
        }
        Ok(())
    }

    /// Warms [`Vi::transmit_pio`] with `len` bytes at `offset` of the linked PIO region.
    pub fn transmit_pio(&mut self, offset: usize, len: usize) -> Result<()> {
        self.vi.pio_check(offset, len)?;
        // SAFETY: a PIO region is linked; offset and length were checked against its size;
        // the VI is warming, so nothing is sent.
        unsafe {
            ffi::ef_vi_transmit_pio(self.vi.raw, offset as c_int, len as c_int, NO_REQUEST);
        }
        Ok(())
    }

    /// Free slots the TX ring reports while warming (`ef_vi_transmit_space`): none on
    /// adapters where warming makes it look full.
    pub fn tx_space(&self) -> usize {
        self.vi.tx_space()
    }
}

impl Drop for TxWarm<'_> {
    fn drop(&mut self) {
        // SAFETY: the VI is live and warming, started by `start_transmit_warm` with this
        // saved state; the scratch area is freed only after this call.
        unsafe { ffi::ef_vi_stop_transmit_warm(self.vi.raw, &mut self.saved) };
    }
}
