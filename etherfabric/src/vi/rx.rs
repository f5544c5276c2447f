//! Receiving: posting buffers, frames, event-merge unbundling, RX timestamps.

use super::*;

impl Vi {
    /// Writes an RX descriptor for `buf` (`ef_vi_receive_init`) without telling the NIC;
    /// [`post_push`](Self::post_push) does that for a batch.
    #[inline]
    pub fn post_init(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>> {
        if !self.pool.owns(&buf) {
            return Err(Rejected::new(buf, Error::ForeignBuffer));
        }
        // SAFETY: the token was just found to be this pool's.
        let addr = unsafe { self.dma_addr(&buf) };
        // SAFETY: the VI is live and used by this thread only; `addr` is the buffer's DMA
        // address in memory registered with the VI's PD; the token moves into the ring (its
        // index is the descriptor's id) and comes back only through the completing event.
        let rc =
            unsafe { ffi::ef_vi_receive_init(self.raw, addr, buf.index as ffi::ef_request_id) };
        if rc < 0 {
            let e = if rc == -libc::EAGAIN {
                Error::RingFull {
                    call: "ef_vi_receive_init",
                }
            } else {
                Error::from_rc("ef_vi_receive_init", rc)
            };
            return Err(Rejected::new(buf, e));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Tells the NIC about the descriptors written since the last push (`ef_vi_receive_push`).
    #[inline]
    pub fn post_push(&mut self) {
        // SAFETY: the VI is live and used by this thread only.
        unsafe { ffi::ef_vi_receive_push(self.raw) };
    }

    /// Posts one buffer to the RX ring (init and push).
    #[inline]
    pub fn post(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>> {
        self.post_init(buf)?;
        self.post_push();
        Ok(())
    }

    /// Posts buffers from `pool` until the RX ring holds `max_fill` (at most its capacity) or
    /// the pool is empty, with one push; returns how many were posted.
    pub fn refill(&mut self, pool: &mut BufferPool, max_fill: usize) -> usize {
        let target = max_fill.min(self.rx_capacity());
        let mut n = 0;
        while self.rx_fill_level() < target {
            let Some(buf) = pool.take() else { break };
            match self.post_init(buf) {
                Ok(()) => n += 1,
                Err(r) => {
                    let _ = pool.put(r.buf);
                    break;
                }
            }
        }
        if n > 0 {
            self.post_push();
        }
        n
    }

    /// Free slots in the RX ring (`ef_vi_receive_space`).
    #[inline]
    pub fn rx_space(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_space(self.raw) }.max(0) as usize
    }

    /// Buffers posted to the RX ring and not yet returned (`ef_vi_receive_fill_level`).
    #[inline]
    pub fn rx_fill_level(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_fill_level(self.raw) }.max(0) as usize
    }

    /// The RX ring's capacity (`ef_vi_receive_capacity`).
    #[inline]
    pub fn rx_capacity(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_receive_capacity(self.raw) }.max(0) as usize
    }

    /// Length of the metadata prefix before each received frame (`ef_vi_receive_prefix_len`).
    #[inline]
    pub fn rx_prefix_len(&self) -> usize {
        self.prefix
    }

    /// The frame in a buffer returned by an RX event: [`len`](event::RxEvent::len) bytes from
    /// [`offset`](event::RxEvent::offset), bounded by the buffer. For a packet that spans
    /// several buffers (jumbo frames), `len` counts the bytes of all buffers so far: the view
    /// of each buffer is then that buffer's part (up to its end).
    ///
    /// # Panics
    ///
    /// If the event's buffer belongs to another pool than this VI's (it cannot, for events
    /// this VI polled).
    #[inline]
    #[track_caller]
    pub fn frame<'a>(&'a self, ev: &'a event::RxEvent) -> &'a [u8] {
        let b = self.pool.bytes(&ev.buf);
        let start = ev.offset().min(b.len());
        let end = start.saturating_add(ev.len()).min(b.len());
        &b[start..end]
    }

    /// The bytes of one of this VI's pool buffers.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes<'a>(&'a self, buf: &'a PacketBuf) -> &'a [u8] {
        self.pool.bytes(buf)
    }

    /// The bytes of one of this VI's pool buffers, to write.
    ///
    /// # Panics
    ///
    /// If `buf` belongs to another pool.
    #[inline]
    #[track_caller]
    pub fn bytes_mut<'a>(&'a self, buf: &'a mut PacketBuf) -> &'a mut [u8] {
        self.pool.bytes_mut(buf)
    }

    /// Hands back the buffers of an event-merge batch (`ef_vi_receive_unbundle`), calling `f`
    /// for each with its packet length (`ef_vi_receive_get_bytes`); returns how many.
    ///
    /// An event polled from another VI hands back nothing (returns 0).
    pub fn receive_unbundle(&mut self, ev: RxMulti, mut f: impl FnMut(RxPacket)) -> usize {
        if ev.owner != self.id {
            return 0;
        }
        let mut ids = [0 as ffi::ef_request_id; ffi::EF_VI_RECEIVE_BATCH as usize];
        // SAFETY: the event came from this VI's queue (it is not Clone, so this runs once per
        // event); `ids` has room for a batch.
        let n = unsafe { ffi::ef_vi_receive_unbundle(self.raw, &ev.raw.0, ids.as_mut_ptr()) };
        let n = n.clamp(0, ids.len() as c_int) as usize;
        for &id in &ids[..n] {
            let buf = self.pool.token(id as u32);
            let len = if ev.discard().is_none() {
                let mut b: u16 = 0;
                // SAFETY: the buffer was just returned by the ring (its prefix is written);
                // `b` is writable.
                let rc = unsafe {
                    ffi::ef_vi_receive_get_bytes(self.raw, self.pool.ptr(buf.index).cast(), &mut b)
                };
                (rc == 0).then_some(b as usize)
            } else {
                None
            };
            f(RxPacket {
                buf,
                len,
                offset: self.prefix,
            });
        }
        n
    }

    /// The receive timestamp of a packet's first buffer (`ef_vi_receive_get_precise_timestamp`);
    /// needs [`ViFlags::RX_TIMESTAMPS`].
    pub fn rx_timestamp(&mut self, buf: &PacketBuf) -> Result<Timestamp> {
        if !self.flags.contains(ViFlags::RX_TIMESTAMPS) {
            return Err(Error::invalid(
                "the VI was made without ViFlags::RX_TIMESTAMPS",
            ));
        }
        if !self.pool.owns(buf) {
            return Err(Error::ForeignBuffer);
        }
        let mut t = ffi::ef_precisetime::default();
        // SAFETY: the VI has RX timestamps; the buffer is one of its pool's, held by the
        // caller (so not in the ring), and `t` is writable.
        let rc = unsafe {
            ffi::ef_vi_receive_get_precise_timestamp(
                self.raw,
                self.pool.ptr(buf.index).cast(),
                &mut t,
            )
        };
        check("ef_vi_receive_get_precise_timestamp", rc)?;
        Ok(Timestamp::from_precise(&t))
    }

    /// Chooses which receive errors make the NIC discard packets (`ef_vi_receive_set_discards`).
    pub fn set_rx_discards(&mut self, flags: DiscardFlags) -> Result<()> {
        // SAFETY: the VI is live.
        check("ef_vi_receive_set_discards", unsafe {
            ffi::ef_vi_receive_set_discards(self.raw, flags.bits())
        })?;
        Ok(())
    }

    /// The receive errors that make the NIC discard packets (`ef_vi_receive_get_discards`):
    /// the library's default until [`set_rx_discards`](Self::set_rx_discards) changes it.
    /// Bits this crate does not name are kept.
    pub fn rx_discards(&self) -> DiscardFlags {
        // SAFETY: the VI is live; the call only reads its discard mask.
        let bits = unsafe { ffi::ef_vi_receive_get_discards(self.raw) };
        DiscardFlags::from_bits_retain(bits as u32)
    }

    /// Asks the CPU to bring the start of the RX buffer the adapter fills next into its
    /// cache (the SDK samples' "peek at the buffer ahead of arrival", eflatency `-d p`), so
    /// that reading the packet when its event comes costs less. It is a prefetch hint: the
    /// buffer, which belongs to the adapter, is not read. Does nothing when no buffer is
    /// posted, and on targets other than x86_64.
    #[inline]
    pub fn prefetch_next_rx(&self) {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: the VI is live; its ring state and id array are integers only this
            // thread changes (a `Vi` is not `Sync`), through calls this borrow excludes.
            let (added, removed, mask, ids) = unsafe {
                let vi = &*self.raw;
                let st = &*vi.ep_state;
                (st.rxq.added, st.rxq.removed, vi.vi_rxq.mask, vi.vi_rxq.ids)
            };
            if added == removed || ids.is_null() {
                return;
            }
            // SAFETY: the slot is masked into the ring, whose id array has `mask + 1` entries.
            let id = unsafe { *ids.add((removed & mask) as usize) };
            if id >= self.pool.count {
                return;
            }
            let p = self.pool.ptr(id).wrapping_add(self.prefix);
            // SAFETY: a prefetch is a hint: it does not read memory as far as the program can
            // tell, and never faults; SSE is part of every x86_64 target.
            unsafe {
                std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
                    p.cast_const().cast(),
                )
            };
        }
    }
}
