//! Polling the event queue, blocking waits and software events.

use super::*;

impl Vi {
    /// Polls the event queue (`ef_eventq_poll`), decoding up to `out.len()` events (at most
    /// [`POLL_BATCH`]) into `out`; returns the filled part. Allocates nothing.
    ///
    /// `out` needs at least 2 slots (the library's minimum); with fewer nothing is polled.
    /// Events that return buffers carry them: take them out of the slots (see
    /// [`Event::take`]) before the next poll overwrites them.
    #[inline]
    pub fn poll<'e>(&mut self, out: &'e mut [Event]) -> &'e mut [Event] {
        self.poll_with(out, false)
    }

    /// As [`poll`](Self::poll) but for receive events only (`ef_receive_poll`, adapters with
    /// `EF_VI_CAP_RX_POLL`).
    #[inline]
    pub fn poll_rx<'e>(&mut self, out: &'e mut [Event]) -> &'e mut [Event] {
        self.poll_with(out, true)
    }

    /// Polls the C event queue into a stack array; returns how many events it wrote (none
    /// for a member of a [`ViGroup`], whose events the group polls).
    #[inline(always)]
    fn poll_raw(
        &mut self,
        evs: &mut [MaybeUninit<ffi::ef_event>; POLL_BATCH],
        max: usize,
        rx_only: bool,
    ) -> usize {
        if self.evq_shared {
            return 0;
        }
        self.poll_evq(evs, max, rx_only)
    }

    /// [`poll_raw`](Self::poll_raw) without the group check: this VI must own its event
    /// queue.
    #[inline(always)]
    pub(super) fn poll_evq(
        &mut self,
        evs: &mut [MaybeUninit<ffi::ef_event>; POLL_BATCH],
        max: usize,
        rx_only: bool,
    ) -> usize {
        if self.core.pending.load(Ordering::Relaxed) {
            self.remove_dropped_filters();
        }
        let max = max.min(POLL_BATCH);
        if max < ffi::EF_VI_EVENT_POLL_MIN_EVS as usize {
            return 0;
        }
        let p = evs.as_mut_ptr().cast::<ffi::ef_event>();
        // SAFETY: the VI is live and used by this thread only; `evs` has room for `max`
        // events, which the library writes in full before counting them.
        let n = unsafe {
            if rx_only {
                ffi::ef_receive_poll(self.raw, p, max as c_int)
            } else {
                ffi::ef_eventq_poll(self.raw, p, max as c_int)
            }
        };
        n.clamp(0, max as c_int) as usize
    }

    #[inline(always)]
    fn poll_with<'e>(&mut self, out: &'e mut [Event], rx_only: bool) -> &'e mut [Event] {
        let mut evs = [MaybeUninit::<ffi::ef_event>::uninit(); POLL_BATCH];
        let n = self.poll_raw(&mut evs, out.len(), rx_only);
        let mut d = self.decoder();
        for (slot, e) in out[..n].iter_mut().zip(&evs[..n]) {
            // SAFETY: the first `n` events were written by the library.
            event::decode_into(slot, unsafe { e.assume_init_ref() }, &mut d);
        }
        &mut out[..n]
    }

    /// Polls the event queue (`ef_eventq_poll`) for up to `max` events (2 to
    /// [`POLL_BATCH`]) and calls `f` with the VI and each decoded event, in order; returns
    /// how many. Allocates nothing and copies no event: the fastest way to poll, as `f` is
    /// inlined and decodes only the fields it reads.
    ///
    /// `f` may post, transmit and unbundle through the VI it is given, and may even poll
    /// again (events of the inner poll are handled there, before the rest of this batch).
    #[inline]
    pub fn poll_each(&mut self, max: usize, mut f: impl FnMut(&mut Vi, Event)) -> usize {
        let mut evs = [MaybeUninit::<ffi::ef_event>::uninit(); POLL_BATCH];
        let n = self.poll_raw(&mut evs, max, false);
        for e in &evs[..n] {
            let ev = {
                let mut d = self.decoder();
                // SAFETY: the first `n` events were written by the library.
                event::decode(unsafe { e.assume_init_ref() }, &mut d)
            };
            f(self, ev);
        }
        n
    }

    /// True when [`poll`](Self::poll) would return events (`ef_eventq_has_event`); always
    /// false for a member of a [`ViGroup`] (ask the group).
    #[inline]
    pub fn has_event(&self) -> bool {
        !self.evq_shared && self.evq_has_event()
    }

    /// [`has_event`](Self::has_event) without the group check: this VI must own its event
    /// queue.
    #[inline]
    pub(super) fn evq_has_event(&self) -> bool {
        // SAFETY: the VI is live and owns its event queue (the caller's condition).
        unsafe { ffi::ef_eventq_has_event(self.raw) != 0 }
    }

    /// The event queue's capacity (`ef_eventq_capacity`): keep outstanding descriptors below
    /// it. For a member of a [`ViGroup`], the capacity of the group's queue.
    pub fn evq_capacity(&self) -> usize {
        // The queue is the VI's own, or that of the VI it was allocated on.
        let evq = self.core._evq_owner.as_ref().map_or(self.raw, |c| c.raw());
        // SAFETY: that VI is live (this one holds it); the capacity is a field read.
        unsafe { ffi::ef_eventq_capacity(evq) }.max(0) as usize
    }

    /// Arms the VI's interrupt (`ef_vi_prime`), so that the driver handle
    /// ([`AsFd`]) becomes readable when an event arrives; then wait with `poll(2)`/epoll.
    pub fn prime(&mut self) -> Result<()> {
        self.own_evq_check()?;
        self.evq_prime()
    }

    /// [`prime`](Self::prime) without the group check: this VI must own its event queue.
    pub(super) fn evq_prime(&mut self) -> Result<()> {
        // SAFETY: the VI is live.
        let cur = unsafe { ffi::ef_eventq_current(self.raw) };
        // SAFETY: the VI and its driver handle are live.
        check("ef_vi_prime", unsafe {
            ffi::ef_vi_prime(self.raw, self.core.dh, cur)
        })?;
        Ok(())
    }

    /// Blocks until the event queue has an event or `timeout` passes (`ef_eventq_wait`;
    /// `None` waits for ever). A timeout is reported as an `ETIMEDOUT`
    /// [`Error::Os`].
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.own_evq_check()?;
        self.evq_wait(timeout)
    }

    /// [`wait`](Self::wait) without the group check: this VI must own its event queue.
    pub(super) fn evq_wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the VI is live.
        let cur = unsafe { ffi::ef_eventq_current(self.raw) };
        let tv = timeout.map(|t| ffi::timeval {
            tv_sec: t.as_secs().min(i64::MAX as u64) as _,
            tv_usec: t.subsec_micros() as _,
        });
        let tvp = tv.as_ref().map_or(std::ptr::null(), |t| t as *const _);
        // SAFETY: the VI and its driver handle are live; `tvp` is null or points to `tv`.
        let rc = unsafe { ffi::ef_eventq_wait(self.raw, self.core.dh, cur, tvp) };
        check("ef_eventq_wait", rc)?;
        Ok(())
    }

    /// Puts a software event with `data` (low 16 bits) into this VI's event queue
    /// (`ef_eventq_put`).
    pub fn put_software_event(&self, data: u16) -> Result<()> {
        // SAFETY: the VI is live.
        let id = unsafe { ffi::ef_vi_resource_id(self.raw) };
        // SAFETY: a plain call on the VI's resource id and the live driver handle.
        check("ef_eventq_put", unsafe {
            ffi::ef_eventq_put(id, self.core.dh, u32::from(data))
        })?;
        Ok(())
    }
}

impl Vi {
    /// Refuses event queue calls on a member of a [`ViGroup`] (the group makes them).
    pub(super) fn own_evq_check(&self) -> Result<()> {
        if self.evq_shared {
            Err(Error::invalid(
                "the VI shares a ViGroup's event queue: poll, prime and wait through the group",
            ))
        } else {
            Ok(())
        }
    }
}
