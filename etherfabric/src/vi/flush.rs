//! Flushing a VI (`ef_vi_flush`): every buffer in its rings comes back at once.

use super::*;

impl Vi {
    /// Flushes the VI (`ef_vi_flush`) and hands back every buffer still in its rings, calling
    /// `f` for each: RX buffers posted and not yet returned by an event, TX buffers sent or
    /// written and not yet returned by [`transmit_unbundle`](Self::transmit_unbundle).
    /// Returns how many.
    ///
    /// After the flush the adapter neither receives into nor sends from those buffers, so
    /// their tokens are handed out again; since the rings still name them, the VI could hand
    /// them out a second time, which is why this consumes the VI. Completions polled from it
    /// and not yet handed back ([`TxComplete`], [`RxMulti`]) hand back nothing afterwards:
    /// their buffers came back here, except that of a timestamped transmit, which the
    /// library takes off the ring when its event is polled (unbundle those first, or the
    /// buffer is lost). Filters of the VI stay installed until dropped, but steer packets to
    /// a VI that takes no more.
    ///
    /// ```compile_fail,E0382
    /// # fn f(vi: etherfabric::Vi, pool: &mut etherfabric::BufferPool) {
    /// vi.flush(|b| { let _ = pool.put(b); }).unwrap();
    /// vi.post(pool.take().unwrap()); // the VI is gone
    /// # }
    /// ```
    ///
    /// On failure the VI is handed back, untouched, in the (boxed) [`Rejected`].
    pub fn flush(self, mut f: impl FnMut(PacketBuf)) -> Result<usize, Box<Rejected<Vi>>> {
        if self.evq_shared {
            return Err(Box::new(Rejected::new(
                self,
                Error::invalid(
                    "ef_vi_flush: a VI sharing an event queue (a ViGroup member) cannot be flushed on its own",
                ),
            )));
        }
        // SAFETY: the VI and its driver handle are live; this thread alone uses the VI.
        let rc = unsafe { ffi::ef_vi_flush(self.raw, self.core.dh) };
        if rc < 0 {
            return Err(Box::new(Rejected::new(
                self,
                Error::from_rc("ef_vi_flush", rc),
            )));
        }
        let mut vi = self;
        let mut n = 0usize;
        for rx in [true, false] {
            // SAFETY: the VI is live; the ring geometry is plain data written at allocation.
            let (ids, mask) = unsafe {
                if rx {
                    ((*vi.raw).vi_rxq.ids, (*vi.raw).vi_rxq.mask)
                } else {
                    ((*vi.raw).vi_txq.ids, (*vi.raw).vi_txq.mask)
                }
            };
            // A ring of no entries has mask 0 (and its id array may alias the next ring's).
            if ids.is_null() || mask == 0 {
                continue;
            }
            for slot in 0..=mask as usize {
                // SAFETY: `ids` holds `mask + 1` entries, the ring's size; nothing else uses
                // the VI meanwhile (it is owned here and the adapter has stopped).
                let id = unsafe {
                    let p = ids.add(slot);
                    std::mem::replace(&mut *p, ffi::EF_REQUEST_ID_MASK)
                };
                if id == ffi::EF_REQUEST_ID_MASK || id >= vi.pool.count {
                    continue; // an empty slot, or a send without a buffer (PIO)
                }
                if rx {
                    n += 1;
                    f(vi.pool.token(id));
                } else {
                    vi.hand_back(id, &mut |b| {
                        n += 1;
                        f(b)
                    });
                }
            }
        }
        // Dropping the VI frees it (when its filters are gone too).
        drop(vi);
        Ok(n)
    }
}
