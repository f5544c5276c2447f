//! The X3/X4 ("express", efct) borrowed-packet receive model.

use super::*;

impl Vi {
    /// Borrows the packet of an `RX_REF` event (`efct_vi_rxpkt_get`); the guard releases it
    /// (`efct_vi_rxpkt_release`) when dropped, and borrows the VI until then, so the packet
    /// cannot be read after the next poll.
    pub fn rx_ref(&mut self, r: RxRef) -> Result<RxRefPacket<'_>> {
        if r.owner != self.id {
            return Err(Error::invalid("the packet was polled from another VI"));
        }
        // SAFETY: the id came from this VI's queue.
        let p = unsafe { ffi::efct_vi_rxpkt_get(self.raw, r.pkt_id()) };
        if p.is_null() {
            // SAFETY: as above; the packet is released even though it cannot be read.
            unsafe { ffi::efct_vi_rxpkt_release(self.raw, r.pkt_id()) };
            return Err(Error::from_errno("efct_vi_rxpkt_get", libc::ENOENT));
        }
        Ok(RxRefPacket {
            ptr: p.cast(),
            len: r.len(),
            pkt_id: r.pkt_id(),
            vi: self,
        })
    }

    /// Releases the packet of an `RX_REF` event without reading it (`efct_vi_rxpkt_release`).
    ///
    /// A packet polled from another VI is not released (it is handed back as `Err`).
    pub fn rx_ref_release(&mut self, r: RxRef) -> Result<(), RxRef> {
        if r.owner != self.id {
            return Err(r);
        }
        // SAFETY: the id came from this VI's queue and is released once (RxRef is not Clone).
        unsafe { ffi::efct_vi_rxpkt_release(self.raw, r.pkt_id()) };
        Ok(())
    }
}

/// The packet of an `RX_REF` event, borrowed from the adapter until dropped
/// (`efct_vi_rxpkt_release`). It borrows the VI mutably, so the VI cannot be polled while it
/// lives.
///
/// ```compile_fail,E0499
/// # fn f(vi: &mut etherfabric::Vi, r: etherfabric::RxRef, evs: &mut [etherfabric::Event]) {
/// let pkt = vi.rx_ref(r).unwrap();
/// vi.poll(evs); // the packet view must end before the next poll
/// let _ = pkt.len();
/// # }
/// ```
#[derive(Debug)]
pub struct RxRefPacket<'vi> {
    ptr: *const u8,
    len: usize,
    pkt_id: u32,
    vi: &'vi mut Vi,
}

impl std::ops::Deref for RxRefPacket<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        // SAFETY: `efct_vi_rxpkt_get` returned a pointer to the packet, which stays valid until
        // it is released (in `drop`) and which the adapter does not change meanwhile.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for RxRefPacket<'_> {
    fn drop(&mut self) {
        // SAFETY: the packet was got from this VI and is released once, here.
        unsafe { ffi::efct_vi_rxpkt_release(self.vi.raw, self.pkt_id) };
    }
}
