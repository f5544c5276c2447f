//! Transmitting: DMA, gathered, CTPIO and PIO sends, completions, TX-error recovery.

use super::*;

impl Vi {
    /// Sends `len` bytes of `buf` from `offset` (for example a received frame, which starts
    /// after the receive prefix): `ef_vi_transmit_init` without the push.
    #[inline]
    pub fn transmit_init_at(
        &mut self,
        buf: PacketBuf,
        offset: usize,
        len: usize,
    ) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, offset, len) {
            return Err(Rejected::new(buf, e));
        }
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.dma_addr(&buf) } + offset as u64;
        // SAFETY: as in `transmit_init`; `offset + len` lies within the buffer, which does not
        // cross a 4 KiB page, so the DMA addresses are contiguous.
        let rc = unsafe {
            ffi::ef_vi_transmit_init(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit_init", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    #[inline]
    pub(super) fn tx_check(&self, buf: &PacketBuf, offset: usize, len: usize) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        if !self.pool.owns(buf) {
            return Err(Error::ForeignBuffer);
        }
        if len == 0
            || offset
                .checked_add(len)
                .is_none_or(|e| e > self.pool.buf_size)
        {
            return Err(Error::invalid(format!(
                "frame of {len} bytes at offset {offset}: must be non-empty and within the \
                 {}-byte buffer",
                self.pool.buf_size
            )));
        }
        Ok(())
    }

    #[inline]
    fn tx_rc(call: &'static str, rc: c_int) -> Error {
        if rc == -libc::EAGAIN {
            Error::RingFull { call }
        } else {
            Error::from_rc(call, rc)
        }
    }

    /// Writes a TX descriptor for the first `len` bytes of `buf` (`ef_vi_transmit_init`);
    /// [`transmit_push`](Self::transmit_push) sends the batch.
    #[inline]
    pub fn transmit_init(&mut self, buf: PacketBuf, len: usize) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, 0, len) {
            return Err(Rejected::new(buf, e));
        }
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.dma_addr(&buf) };
        // SAFETY: the VI is live and used by this thread only; `addr..addr+len` lies inside
        // the registered buffer; the token moves into the ring until its completion.
        let rc = unsafe {
            ffi::ef_vi_transmit_init(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit_init", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Sends the descriptors written since the last push (`ef_vi_transmit_push`).
    #[inline]
    pub fn transmit_push(&mut self) {
        // SAFETY: the VI is live and used by this thread only.
        unsafe { ffi::ef_vi_transmit_push(self.raw) };
    }

    /// Sends the first `len` bytes of `buf` (`ef_vi_transmit`); the buffer comes back with
    /// its completion ([`transmit_unbundle`](Self::transmit_unbundle)).
    #[inline]
    pub fn transmit(&mut self, buf: PacketBuf, len: usize) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self.tx_check(&buf, 0, len) {
            return Err(Rejected::new(buf, e));
        }
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.dma_addr(&buf) };
        // SAFETY: as in `transmit_init`.
        let rc = unsafe {
            ffi::ef_vi_transmit(
                self.raw,
                addr,
                len as c_int,
                buf.index as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(buf, Self::tx_rc("ef_vi_transmit", rc)));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Sends one packet gathered from several buffers, `(buffer, length)` each
    /// (`ef_vi_transmitv`); all of them come back with its completion.
    pub fn transmitv<const N: usize>(
        &mut self,
        segs: [(PacketBuf, usize); N],
    ) -> Result<(), Rejected<[(PacketBuf, usize); N]>> {
        if N == 0 {
            return Err(Rejected::new(
                segs,
                Error::invalid("transmitv of no buffers"),
            ));
        }
        for (b, l) in &segs {
            if let Err(e) = self.tx_check(b, 0, *l) {
                return Err(Rejected::new(segs, e));
            }
        }
        let iov: [ffi::ef_iovec; N] = std::array::from_fn(|i| ffi::ef_iovec {
            // SAFETY: `tx_check` found every token to be this pool's.
            iov_base: unsafe { self.dma_addr(&segs[i].0) },
            iov_len: segs[i].1 as u32,
        });
        let last = segs[N - 1].0.index;
        // SAFETY: the VI is live and used by this thread only; every iovec lies inside a
        // registered buffer whose token moves into the VI (the last id is the packet's).
        let rc = unsafe {
            ffi::ef_vi_transmitv(
                self.raw,
                iov.as_ptr(),
                N as c_int,
                last as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Rejected::new(segs, Self::tx_rc("ef_vi_transmitv", rc)));
        }
        // Only the last descriptor's id comes back: chain the others behind it.
        let mut next = CHAIN_END;
        for (b, _) in segs.iter().take(N - 1) {
            self.chain[b.index as usize] = next;
            next = b.index;
        }
        self.chain[last as usize] = next;
        self.chained |= N > 1;
        // The tokens now live in the ring, as the descriptors' ids.
        Ok(())
    }

    /// Sends the first `len` bytes of `buf` by cut-through PIO (`ef_vi_transmit_ctpio`) and
    /// posts the same buffer as its DMA fallback (`ef_vi_transmit_ctpio_fallback`), as the
    /// SDK requires; `threshold` is the cut-through threshold in bytes
    /// ([`CTPIO_THRESHOLD_SNF`] for store-and-forward). Needs [`ViFlags::TX_CTPIO`].
    pub fn transmit_ctpio(
        &mut self,
        buf: PacketBuf,
        len: usize,
        threshold: u32,
    ) -> Result<(), Rejected<PacketBuf>> {
        if let Err(e) = self
            .ctpio_check()
            .and_then(|()| self.tx_check(&buf, 0, len))
        {
            return Err(Rejected::new(buf, e));
        }
        // SAFETY: `tx_check` found the token to be this pool's.
        let addr = unsafe { self.dma_addr(&buf) };
        let p = self.pool.ptr(buf.index);
        // SAFETY: the VI is live; `p..p+len` is the caller's buffer (token held), read by the
        // CTPIO copy during the call.
        unsafe { ffi::ef_vi_transmit_ctpio(self.raw, p.cast(), len, threshold) };
        // SAFETY: as in `transmit_init`.
        let rc = unsafe {
            ffi::ef_vi_transmit_ctpio_fallback(self.raw, addr, len, buf.index as ffi::ef_request_id)
        };
        if rc < 0 {
            return Err(Rejected::new(
                buf,
                Self::tx_rc("ef_vi_transmit_ctpio_fallback", rc),
            ));
        }
        // The token now lives in the ring, as the descriptor's id.
        Ok(())
    }

    /// Copies `frame` into the linked PIO region at `offset` and sends it
    /// (`ef_vi_transmit_copy_pio`); its completion returns no buffer. `offset` must be a
    /// multiple of 64 and the frame at least 16 bytes.
    pub fn transmit_copy_pio(&mut self, offset: usize, frame: &[u8]) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        self.pio_check(offset, frame.len())?;
        // SAFETY: a PIO is linked; offset and length were checked against its size; `frame`
        // is read during the call.
        let rc = unsafe {
            ffi::ef_vi_transmit_copy_pio(
                self.raw,
                offset as c_int,
                frame.as_ptr().cast(),
                frame.len() as c_int,
                NO_BUF_ID as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Self::tx_rc("ef_vi_transmit_copy_pio", rc));
        }
        Ok(())
    }

    /// Copies `data` into the linked PIO region at `offset` (`ef_pio_memcpy`), for a later
    /// [`transmit_pio`](Self::transmit_pio).
    pub fn pio_write(&mut self, offset: usize, data: &[u8]) -> Result<()> {
        self.pio_check(offset, data.len().max(16))?;
        // SAFETY: a PIO is linked; offset and length were checked against its size; `data` is
        // read during the call.
        let rc = unsafe {
            ffi::ef_pio_memcpy(
                self.raw,
                data.as_ptr().cast(),
                offset as c_int,
                data.len() as c_int,
            )
        };
        check("ef_pio_memcpy", rc)?;
        Ok(())
    }

    /// Sends `len` bytes already in the linked PIO region at `offset`
    /// (`ef_vi_transmit_pio`); the region stays busy until the completion.
    pub fn transmit_pio(&mut self, offset: usize, len: usize) -> Result<()> {
        if self.tx_failed {
            return Err(Error::TxQueueFailed);
        }
        self.pio_check(offset, len)?;
        // SAFETY: a PIO is linked; offset and length were checked against its size.
        let rc = unsafe {
            ffi::ef_vi_transmit_pio(
                self.raw,
                offset as c_int,
                len as c_int,
                NO_BUF_ID as ffi::ef_request_id,
            )
        };
        if rc < 0 {
            return Err(Self::tx_rc("ef_vi_transmit_pio", rc));
        }
        Ok(())
    }

    /// The packed-stream parameters of a VI made with [`ViFlags::RX_PACKED_STREAM`]
    /// (`ef_vi_packed_stream_get_params`).
    pub fn packed_stream_params(&mut self) -> Result<ffi::ef_packed_stream_params> {
        // SAFETY: plain C data; zeroes are a valid initial value.
        let mut p: ffi::ef_packed_stream_params = unsafe { std::mem::zeroed() };
        // SAFETY: the VI is live; `p` is writable.
        check("ef_vi_packed_stream_get_params", unsafe {
            ffi::ef_vi_packed_stream_get_params(self.raw, &mut p)
        })?;
        Ok(p)
    }

    /// Refuses CTPIO on a VI made without [`ViFlags::TX_CTPIO`]: the adapter's library then
    /// has no CTPIO window mapped for it, and its CTPIO call would write through a null
    /// pointer.
    pub(super) fn ctpio_check(&self) -> Result<()> {
        if self.flags.contains(ViFlags::TX_CTPIO) {
            Ok(())
        } else {
            Err(Error::invalid(
                "ef_vi_transmit_ctpio: the VI was made without ViFlags::TX_CTPIO",
            ))
        }
    }

    pub(super) fn pio_check(&self, offset: usize, len: usize) -> Result<()> {
        let size = self.pio_len;
        if size == 0 {
            return Err(Error::invalid("no PIO region is linked to this VI"));
        }
        if offset % 64 != 0 || len < 16 || offset.checked_add(len).is_none_or(|e| e > size) {
            return Err(Error::invalid(format!(
                "PIO send of {len} bytes at {offset}: the offset must be 64-byte aligned, the \
                 length at least 16, and both within the {size}-byte region"
            )));
        }
        Ok(())
    }

    /// Links a PIO region to this VI (`ef_pio_link_vi`); one per VI, unlinked and freed with
    /// the VI.
    pub fn link_pio(&mut self, pio: Pio) -> Result<(), Rejected<Pio>> {
        let mut slot = self.core.pio.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(Rejected::new(
                pio,
                Error::invalid("a PIO region is already linked"),
            ));
        }
        // SAFETY: the PIO and VI are live and use the same driver handle.
        let rc = unsafe { ffi::ef_pio_link_vi(pio.raw(), self.core.dh, self.raw, self.core.dh) };
        if rc < 0 {
            return Err(Rejected::new(pio, Error::from_rc("ef_pio_link_vi", rc)));
        }
        self.pio_len = pio.len();
        *slot = Some(pio);
        Ok(())
    }

    /// Hands back the buffers of a transmit completion (`ef_vi_transmit_unbundle`), calling
    /// `f` for each (all buffers of a `transmitv` packet); returns how many transmits
    /// completed, including those without a buffer (PIO).
    ///
    /// A completion polled from another VI hands back nothing (returns 0).
    #[inline]
    pub fn transmit_unbundle(&mut self, ev: TxComplete, mut f: impl FnMut(PacketBuf)) -> usize {
        if ev.owner != self.id {
            return 0;
        }
        if let Some(id) = ev.single {
            self.hand_back(id, &mut f);
            return 1;
        }
        let mut ids = [0 as ffi::ef_request_id; ffi::EF_VI_TRANSMIT_BATCH as usize];
        // SAFETY: the event came from this VI's queue and is consumed here (not Clone);
        // `ids` has room for a batch.
        let n = unsafe { ffi::ef_vi_transmit_unbundle(self.raw, &ev.raw.0, ids.as_mut_ptr()) };
        let n = n.clamp(0, ids.len() as c_int) as usize;
        for &id in &ids[..n] {
            self.hand_back(id as u32, &mut f);
        }
        n
    }

    #[inline]
    pub(super) fn hand_back(&mut self, id: u32, f: &mut impl FnMut(PacketBuf)) {
        if id >= self.pool.count {
            return; // a send without a buffer (PIO)
        }
        if self.chained {
            let mut i = id;
            loop {
                let next = std::mem::replace(&mut self.chain[i as usize], CHAIN_END);
                f(self.pool.token(i));
                if next == CHAIN_END {
                    break;
                }
                i = next;
            }
        } else {
            f(self.pool.token(id));
        }
    }

    /// Recovers from an `EF_EVENT_TYPE_TX_ERROR`: hands back every transmit that was lost
    /// (`ef_vi_for_each_tx_error_failed_transmit`), calling `f` for each buffer, then makes
    /// the TX ring usable again (`ef_vi_reinit_txq_post_error`). Returns how many were lost.
    ///
    /// Fails with [`Error::InvalidArgument`] for a failure polled from another VI.
    pub fn recover_tx_error(
        &mut self,
        ev: TxFailure,
        mut f: impl FnMut(PacketBuf),
    ) -> Result<usize> {
        if ev.owner != self.id {
            return Err(Error::invalid("the TX failure was polled from another VI"));
        }
        let mut lost = 0usize;
        let mut ids = [0u32; ffi::EF_VI_TRANSMIT_BATCH as usize];
        loop {
            let mut k = 0usize;
            // SAFETY: the VI is live and used by this thread only; the walk only advances the
            // TX ring's own state.
            unsafe {
                ffi::ef_vi_for_each_tx_error_failed_transmit(self.raw, |id| {
                    if k == ids.len() {
                        return std::ops::ControlFlow::Break(());
                    }
                    ids[k] = id as u32;
                    k += 1;
                    std::ops::ControlFlow::Continue(())
                })
            };
            for &id in &ids[..k] {
                lost += 1;
                self.hand_back(id, &mut f);
            }
            if k < ids.len() {
                break;
            }
        }
        // SAFETY: as above; called once the failed transmits were walked.
        check("ef_vi_reinit_txq_post_error", unsafe {
            ffi::ef_vi_reinit_txq_post_error(self.raw)
        })?;
        self.tx_failed = false;
        Ok(lost)
    }

    /// Free slots in the TX ring (`ef_vi_transmit_space`).
    #[inline]
    pub fn tx_space(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_space(self.raw) }.max(0) as usize
    }

    /// Descriptors in the TX ring not yet completed (`ef_vi_transmit_fill_level`).
    #[inline]
    pub fn tx_fill_level(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_fill_level(self.raw) }.max(0) as usize
    }

    /// The TX ring's capacity (`ef_vi_transmit_capacity`).
    #[inline]
    pub fn tx_capacity(&self) -> usize {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_transmit_capacity(self.raw) }.max(0) as usize
    }

    /// Sets how many descriptors may be pushed with the doorbell (`ef_vi_set_tx_push_threshold`).
    pub fn set_tx_push_threshold(&mut self, n: u32) {
        // SAFETY: the VI is live.
        unsafe { ffi::ef_vi_set_tx_push_threshold(self.raw, n) };
    }
}

/// [`Vi::transmit_ctpio`]'s threshold for store-and-forward (`EF_VI_CTPIO_CT_THRESHOLD_SNF`).
pub const CTPIO_THRESHOLD_SNF: u32 = ffi::EF_VI_CTPIO_CT_THRESHOLD_SNF;
