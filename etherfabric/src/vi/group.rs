//! VIs sharing one event queue (`ef_vi_alloc_from_pd`'s `evq_opt`): a [`ViGroup`] owns them
//! all, polls the queue, and routes each event to the VI whose queue raised it
//! (`ef_vi_get_vi_from_q_id`).
//!
//! Ownership: a VI allocated on another's event queue holds that VI's C structure
//! (`ViCore`) alive, so the queue's owner is freed after every VI using it, as the library
//! requires, whatever order the handles are dropped in. The group never hands out a
//! `&mut Vi` (which safe code could swap for another VI, or move to another thread while the
//! group polls into its rings): it lends [`GroupVi`] views, which send, post and unbundle but
//! cannot move the VI.

use super::*;
use crate::event::RxEvent;

/// The queue label of an event, for the types that have one.
#[inline]
fn event_label(e: &ffi::ef_event) -> Option<u32> {
    // SAFETY: the event was written by `ef_eventq_poll`, so every byte is initialised; the
    // member read is the one of its type.
    unsafe {
        Some(match ffi::EF_EVENT_TYPE(e) {
            ffi::EF_EVENT_TYPE_RX => ffi::EF_EVENT_RX_Q_ID(e),
            ffi::EF_EVENT_TYPE_TX => ffi::EF_EVENT_TX_Q_ID(e),
            ffi::EF_EVENT_TYPE_RX_DISCARD => ffi::EF_EVENT_RX_DISCARD_Q_ID(e),
            ffi::EF_EVENT_TYPE_TX_ERROR => ffi::EF_EVENT_TX_ERROR_Q_ID(e),
            ffi::EF_EVENT_TYPE_RX_NO_DESC_TRUNC => ffi::EF_EVENT_RX_NO_DESC_TRUNC_Q_ID(e),
            ffi::EF_EVENT_TYPE_TX_WITH_TIMESTAMP => ffi::EF_EVENT_TX_WITH_TIMESTAMP_Q_ID(e),
            ffi::EF_EVENT_TYPE_RX_PACKED_STREAM => e.rx_packed_stream.q_id(),
            ffi::EF_EVENT_TYPE_RX_MULTI => ffi::EF_EVENT_RX_MULTI_Q_ID(e),
            ffi::EF_EVENT_TYPE_RX_MULTI_DISCARD => e.rx_multi_discard.q_id(),
            ffi::EF_EVENT_TYPE_TX_ALT => ffi::EF_EVENT_TX_ALT_Q_ID(e),
            ffi::EF_EVENT_TYPE_RX_MULTI_PKTS => e.rx_multi_pkts.q_id(),
            ffi::EF_EVENT_TYPE_RX_REF | ffi::EF_EVENT_TYPE_RX_REF_DISCARD => e.rx_ref.q_id(),
            _ => return None,
        })
    }
}

/// VIs sharing the event queue of the first, their owner: built with [`ViGroup::new`] and
/// [`ViGroup::add`], polled with [`ViGroup::poll`], each VI reached by its queue label (its
/// q_id: 0 for the owner, then 1, 2, ... in the order they were added) with
/// [`ViGroup::vi`].
///
/// Each VI keeps its own rings, flags and buffer pool; events on the shared queue carry the
/// label of the VI they belong to, and the group decodes each with that VI's pool, so a
/// buffer comes back as a token of the pool it was posted from, and completions are handed
/// back by that VI ([`ViGroup::transmit_unbundle`] routes them). The members' own
/// [`Vi::poll`] returns nothing and [`Vi::prime`] / [`Vi::wait`] fail: the queue is the
/// group's. Freed, owner last, when the group and the members' filters are dropped.
///
/// `Send`, not `Sync`, like a [`Vi`]: one group, one thread.
///
/// ```compile_fail,E0499
/// # fn f(g: &mut etherfabric::ViGroup, evs: &mut [etherfabric::Event]) {
/// let mut tx = g.vi(1).unwrap();
/// g.poll(evs); // a member view borrows the group
/// let _ = tx.tx_space();
/// # }
/// ```
#[derive(Debug)]
pub struct ViGroup {
    /// Indexed by queue label; `None` for a label whose allocation failed afterwards.
    members: Vec<Option<Vi>>,
}

impl ViGroup {
    /// Makes `owner` the owner of a new group: its event queue becomes the group's (every
    /// VI a program holds by value has a queue of its own; the group's members stay inside
    /// the group).
    pub fn new(mut owner: Vi) -> ViGroup {
        debug_assert!(owner.q_id == 0 && owner.core._evq_owner.is_none());
        owner.evq_shared = true;
        ViGroup {
            members: vec![Some(owner)],
        }
    }

    /// The owner (label 0).
    fn owner(&mut self) -> &mut Vi {
        match self.members.first_mut() {
            Some(Some(v)) => v,
            _ => unreachable!("a group always has its owner"),
        }
    }

    /// Allocates a VI from `builder` on the group's event queue (`ef_vi_alloc_from_pd` or
    /// `ef_vi_alloc_from_set` with `evq_opt`); it posts and sends the buffers of `pool`.
    /// The builder's event queue capacity is ignored (the VI has none of its own). Returns
    /// the new VI's queue label, the index for [`vi`](Self::vi).
    pub fn add(&mut self, builder: ViBuilder, pool: &BufferPool) -> Result<u32> {
        let owner = self.owner();
        let evq = (owner.raw, owner.core.clone());
        let vi = builder.build_on(pool, Some(evq))?;
        let label = vi.q_id as usize;
        if label >= ffi::EF_VI_MAX_QS as usize || label < self.members.len() {
            // The library numbers the queues of an event queue in order, from 1.
            return Err(Error::invalid(format!(
                "the library gave the new VI queue label {label}, already in use"
            )));
        }
        self.members.resize_with(label, || None);
        self.members.push(Some(vi));
        Ok(label as u32)
    }

    /// How many queue labels the group has used (the owner's included).
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always false: a group has at least its owner.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The VI with queue label `q_id`, if it is one of the group's.
    pub fn vi(&mut self, q_id: u32) -> Option<GroupVi<'_>> {
        let vi = self.members.get_mut(q_id as usize)?.as_mut()?;
        Some(GroupVi { vi })
    }

    /// The member that owns queue label `q_id` according to the library
    /// (`ef_vi_get_vi_from_q_id` on the owner), if it is one of the group's.
    fn member_for(&mut self, q_id: u32) -> Option<&mut Vi> {
        let evq = self.owner().raw;
        // SAFETY: the owner's VI is live and used by this thread only; the library keeps
        // its queue table within bounds.
        let p = unsafe { ffi::ef_vi_get_vi_from_q_id(evq, q_id as c_int) };
        let vi = self.members.get_mut(q_id as usize)?.as_mut()?;
        (!p.is_null() && p == vi.raw).then_some(vi)
    }

    /// Polls the shared event queue (`ef_eventq_poll` on the owner) into `out`, as
    /// [`Vi::poll`] does, decoding each event for the VI whose label it carries; returns the
    /// filled part. An event with a label the group does not know (none should come) is
    /// reported as [`Event::Unknown`], so no buffer is misattributed.
    pub fn poll<'e>(&mut self, out: &'e mut [Event]) -> &'e mut [Event] {
        let mut evs = [MaybeUninit::<ffi::ef_event>::uninit(); POLL_BATCH];
        let n = self.owner().poll_evq(&mut evs, out.len(), false);
        for (slot, e) in out[..n].iter_mut().zip(&evs[..n]) {
            // SAFETY: the first `n` events were written by the library.
            let e = unsafe { e.assume_init_ref() };
            let label = event_label(e).unwrap_or(0);
            *slot = match self.members.get_mut(label as usize) {
                Some(Some(vi)) => event::decode(e, &mut vi.decoder()),
                _ => Event::Unknown {
                    // SAFETY: as above.
                    event_type: unsafe { ffi::EF_EVENT_TYPE(e) },
                },
            };
        }
        &mut out[..n]
    }

    /// Hands back the buffers of a transmit completion polled from the group, through the
    /// VI whose queue label it carries ([`Vi::transmit_unbundle`]); returns how many
    /// transmits completed (0 for a completion of no member of this group).
    pub fn transmit_unbundle(&mut self, ev: TxComplete, f: impl FnMut(PacketBuf)) -> usize {
        match self.member_for(ev.q_id()) {
            Some(vi) => vi.transmit_unbundle(ev, f),
            None => 0,
        }
    }

    /// Hands back the buffers of an event-merge batch polled from the group, through the VI
    /// whose queue label it carries ([`Vi::receive_unbundle`]).
    pub fn receive_unbundle(&mut self, ev: RxMulti, f: impl FnMut(RxPacket)) -> usize {
        match self.member_for(ev.q_id()) {
            Some(vi) => vi.receive_unbundle(ev, f),
            None => 0,
        }
    }

    /// Recovers the TX queue of the member that failed ([`Vi::recover_tx_error`]).
    pub fn recover_tx_error(&mut self, ev: TxFailure, f: impl FnMut(PacketBuf)) -> Result<usize> {
        match self.member_for(ev.q_id) {
            Some(vi) => vi.recover_tx_error(ev, f),
            None => Err(Error::invalid("the TX failure is of no VI of this group")),
        }
    }

    /// True when [`poll`](Self::poll) would return events (`ef_eventq_has_event`).
    pub fn has_event(&self) -> bool {
        // The owner (label 0) owns the event queue.
        matches!(self.members.first(), Some(Some(v)) if v.evq_has_event())
    }

    /// Arms the shared queue's interrupt ([`Vi::prime`] on the owner).
    pub fn prime(&mut self) -> Result<()> {
        self.owner().evq_prime()
    }

    /// Blocks until the shared queue has an event or `timeout` passes ([`Vi::wait`] on the
    /// owner).
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        self.owner().evq_wait(timeout)
    }
}

impl AsRawFd for ViGroup {
    /// The driver handle on which [`ViGroup::prime`] signals events.
    fn as_raw_fd(&self) -> RawFd {
        match self.members.first() {
            Some(Some(v)) => v.as_raw_fd(),
            _ => -1,
        }
    }
}

/// One VI of a [`ViGroup`], lent by [`ViGroup::vi`]: it derefs to the [`Vi`] for reading and
/// has the VI's sending, posting, unbundling and filter methods, but cannot move the VI out
/// of its group (it gives no `&mut Vi`):
///
/// ```compile_fail,E0596
/// # fn f(g: &mut etherfabric::ViGroup, other: &mut etherfabric::Vi) {
/// let mut m = g.vi(1).unwrap();
/// std::mem::swap(&mut *m, other); // a member cannot be swapped out
/// # }
/// ```
#[derive(Debug)]
pub struct GroupVi<'g> {
    vi: &'g mut Vi,
}

impl std::ops::Deref for GroupVi<'_> {
    type Target = Vi;
    fn deref(&self) -> &Vi {
        self.vi
    }
}

/// Methods of `GroupVi` that call the `Vi` method of the same name.
macro_rules! forward {
    ($( $(#[$doc:meta])* fn $name:ident(&mut self $(, $arg:ident: $ty:ty)*) -> $ret:ty; )*) => {
        $(
            $(#[$doc])*
            #[inline]
            pub fn $name(&mut self $(, $arg: $ty)*) -> $ret {
                self.vi.$name($($arg),*)
            }
        )*
    };
}

impl GroupVi<'_> {
    forward! {
        /// [`Vi::post`].
        fn post(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::post_init`].
        fn post_init(&mut self, buf: PacketBuf) -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::post_push`].
        fn post_push(&mut self) -> ();
        /// [`Vi::refill`].
        fn refill(&mut self, pool: &mut BufferPool, max_fill: usize) -> usize;
        /// [`Vi::transmit`].
        fn transmit(&mut self, buf: PacketBuf, len: usize) -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::transmit_init`].
        fn transmit_init(&mut self, buf: PacketBuf, len: usize)
            -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::transmit_init_at`].
        fn transmit_init_at(&mut self, buf: PacketBuf, offset: usize, len: usize)
            -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::transmit_push`].
        fn transmit_push(&mut self) -> ();
        /// [`Vi::transmit_ctpio`].
        fn transmit_ctpio(&mut self, buf: PacketBuf, len: usize, threshold: u32)
            -> Result<(), Rejected<PacketBuf>>;
        /// [`Vi::transmit_copy_pio`].
        fn transmit_copy_pio(&mut self, offset: usize, frame: &[u8]) -> Result<()>;
        /// [`Vi::add_filter`].
        fn add_filter(&mut self, spec: &FilterSpec) -> Result<Filter>;
        /// [`Vi::rx_timestamp`].
        fn rx_timestamp(&mut self, buf: &PacketBuf) -> Result<Timestamp>;
        /// [`Vi::start_transmit_warm`].
        fn start_transmit_warm(&mut self) -> Result<TxWarm<'_>>;
        /// [`Vi::link_pio`].
        fn link_pio(&mut self, pio: Pio) -> Result<(), Rejected<Pio>>;
        /// [`Vi::pio_write`].
        fn pio_write(&mut self, offset: usize, data: &[u8]) -> Result<()>;
        /// [`Vi::transmit_pio`].
        fn transmit_pio(&mut self, offset: usize, len: usize) -> Result<()>;
        /// [`Vi::set_rx_discards`].
        fn set_rx_discards(&mut self, flags: DiscardFlags) -> Result<()>;
        /// [`Vi::set_tx_push_threshold`].
        fn set_tx_push_threshold(&mut self, n: u32) -> ();
        /// [`Vi::remove_dropped_filters`].
        fn remove_dropped_filters(&mut self) -> ();
        /// [`Vi::filter_info_raw`].
        fn filter_info_raw(&mut self, filter: &Filter) -> Result<ffi::ef_filter_info>;
        /// [`Vi::stats`].
        fn stats(&mut self, reset: bool) -> Result<Vec<(String, u64)>>;
        /// [`Vi::rx_filter_id`].
        fn rx_filter_id(&mut self, rx: &RxEvent) -> Result<u32>;
    }

    /// [`Vi::transmitv`].
    pub fn transmitv<const N: usize>(
        &mut self,
        segs: [(PacketBuf, usize); N],
    ) -> Result<(), Rejected<[(PacketBuf, usize); N]>> {
        self.vi.transmitv(segs)
    }

    /// [`Vi::transmit_unbundle`] (for a completion of this VI; see also
    /// [`ViGroup::transmit_unbundle`]).
    pub fn transmit_unbundle(&mut self, ev: TxComplete, f: impl FnMut(PacketBuf)) -> usize {
        self.vi.transmit_unbundle(ev, f)
    }

    /// [`Vi::receive_unbundle`].
    pub fn receive_unbundle(&mut self, ev: RxMulti, f: impl FnMut(RxPacket)) -> usize {
        self.vi.receive_unbundle(ev, f)
    }

    /// [`Vi::recover_tx_error`].
    pub fn recover_tx_error(&mut self, ev: TxFailure, f: impl FnMut(PacketBuf)) -> Result<usize> {
        self.vi.recover_tx_error(ev, f)
    }

    /// [`Vi::rx_ref`].
    pub fn rx_ref(&mut self, r: RxRef) -> Result<RxRefPacket<'_>> {
        self.vi.rx_ref(r)
    }
}
