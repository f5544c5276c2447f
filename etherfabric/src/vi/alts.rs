//! TX alternatives: packets queued on the adapter in several alternative queues, of which
//! the application later sends one and discards the others (`ef_vi_transmit_alt_*`), for VIs
//! made with [`ViFlags::TX_ALT`].

use std::ffi::c_uint;
use std::sync::atomic::AtomicUsize;

use super::*;
use crate::pd::Capability;

impl Capability {
    /// Whether the adapter has TX alternatives (`EF_VI_CAP_TX_ALTERNATIVES`).
    pub const TX_ALTERNATIVES: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES);
    /// How many alternative queues it has (`EF_VI_CAP_TX_ALTERNATIVES_VFIFOS`).
    pub const TX_ALTERNATIVES_VFIFOS: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_VFIFOS);
    /// How many buffers the alternatives share (`EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS`).
    pub const TX_ALTERNATIVES_CP_BUFFERS: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFERS);
    /// The size of each of those buffers (`EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE`).
    pub const TX_ALTERNATIVES_CP_BUFFER_SIZE: Capability =
        Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES_CP_BUFFER_SIZE);
}

/// Unique among all allocations of alternatives in the process, so that an id of one set
/// is refused by another.
static NEXT_ALT_SET: AtomicUsize = AtomicUsize::new(1);

/// The per-packet cost of TX-alternative buffering (`struct ef_vi_transmit_alt_overhead`),
/// from [`Vi::tx_alt_overhead`].
#[derive(Debug, Clone, Copy)]
pub struct TxAltOverhead(ffi::ef_vi_transmit_alt_overhead);

impl TxAltOverhead {
    /// The bytes of alternative buffering a packet of `pkt_len` bytes takes, overhead
    /// included (`ef_vi_transmit_alt_usage`). Buffering of `n` bytes obtained from
    /// [`Vi::tx_alternatives`] holds at least packets whose usages add up to `n`.
    #[inline]
    pub fn usage(&self, pkt_len: u32) -> u32 {
        // SAFETY: `self.0` is a readable overhead record.
        unsafe { ffi::ef_vi_transmit_alt_usage(&self.0, pkt_len) }
    }
}

impl Vi {
    fn alt_flag_check(&self) -> Result<()> {
        if self.flags.contains(ViFlags::TX_ALT) {
            Ok(())
        } else {
            Err(Error::invalid("the VI was made without ViFlags::TX_ALT"))
        }
    }

    /// How many bytes of packet data `n_alts` alternatives of this VI could buffer in all
    /// (`ef_vi_transmit_alt_query_buffering`; the interface index it wants is looked up by
    /// the protection domain's interface name, in the calling thread's network namespace).
    pub fn tx_alt_query_buffering(&self, n_alts: u32) -> Result<usize> {
        self.alt_flag_check()?;
        let pd = ProtectionDomain {
            inner: self.core._pd.clone(),
        };
        let name = pd.interface_name().ok_or_else(|| {
            Error::invalid("the VI's protection domain names no interface to query")
        })?;
        let cname = std::ffi::CString::new(name.clone())
            .map_err(|_| Error::invalid(format!("interface name {name:?}")))?;
        // SAFETY: a NUL-terminated string.
        let ifindex = unsafe { libc::if_nametoindex(cname.as_ptr()) };
        if ifindex == 0 {
            return Err(Error::NoSuchInterface {
                call: "if_nametoindex",
                interface: name,
            });
        }
        let n = c_int::try_from(n_alts)
            .map_err(|_| Error::invalid(format!("{n_alts} TX alternatives")))?;
        // SAFETY: the VI is live; the library only reads it and queries the driver.
        let rc = unsafe {
            ffi::ef_vi_transmit_alt_query_buffering(self.raw, ifindex as c_int, self.core.dh, n)
        };
        Ok(check("ef_vi_transmit_alt_query_buffering", rc)? as usize)
    }

    /// The per-packet overhead of alternative buffering on this VI
    /// (`ef_vi_transmit_alt_query_overhead`).
    pub fn tx_alt_overhead(&self) -> Result<TxAltOverhead> {
        self.alt_flag_check()?;
        let mut o = ffi::ef_vi_transmit_alt_overhead {
            pre_round: 0,
            mask: 0,
            post_round: 0,
        };
        // SAFETY: the VI is live; `o` is writable.
        let rc = unsafe { ffi::ef_vi_transmit_alt_query_overhead(self.raw, &mut o) };
        check("ef_vi_transmit_alt_query_overhead", rc)?;
        Ok(TxAltOverhead(o))
    }

    /// Allocates `n` TX alternatives sharing `buf_space` bytes of adapter buffering
    /// (`ef_vi_transmit_alt_alloc`); the returned guard frees them when dropped
    /// (`ef_vi_transmit_alt_free`), before the VI is freed, and is the only way to reach
    /// them. The guard borrows the VI (and derefs to it, to send, post and poll), so it
    /// cannot outlive it:
    ///
    /// ```compile_fail,E0505
    /// # fn f(mut vi: etherfabric::Vi) {
    /// let alts = vi.tx_alternatives(2, 8192).unwrap();
    /// drop(vi); // the alternatives still borrow the VI
    /// let _ = alts.len();
    /// # }
    /// ```
    ///
    /// Overfilling the buffering silently truncates or drops packets: size it with
    /// [`tx_alt_query_buffering`](Self::tx_alt_query_buffering) and
    /// [`TxAltOverhead::usage`].
    pub fn tx_alternatives(&mut self, n: u32, buf_space: usize) -> Result<TxAlternatives<'_>> {
        self.alt_flag_check()?;
        if n == 0 || buf_space == 0 {
            return Err(Error::invalid(format!(
                "{n} TX alternatives with {buf_space} bytes: both must be non-zero"
            )));
        }
        let num = c_int::try_from(n).map_err(|_| Error::invalid(format!("{n} TX alternatives")))?;
        // SAFETY: the VI is live, has TX_ALT and is used by this thread only.
        let rc = unsafe { ffi::ef_vi_transmit_alt_alloc(self.raw, self.core.dh, num, buf_space) };
        check("ef_vi_transmit_alt_alloc", rc)?;
        // SAFETY: the VI is live; a field read.
        let got = unsafe { ffi::ef_vi_transmit_alt_num_ids(self.raw) };
        let set = NEXT_ALT_SET.fetch_add(1, Ordering::Relaxed);
        self.alt_set = set;
        Ok(TxAlternatives {
            n: got.min(n),
            set,
            vi: self,
        })
    }
}

/// One of the alternatives of a [`TxAlternatives`], from [`TxAlternatives::id`]: valid
/// for that allocation only (another refuses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxAltId {
    index: u32,
    set: usize,
}

impl TxAltId {
    /// The alternative's number (0 to count - 1), as in [`Event::TxAlt`]'s `alt_id`.
    pub fn index(self) -> u32 {
        self.index
    }
}

/// TX alternatives allocated on a VI by [`Vi::tx_alternatives`], freed when dropped.
///
/// Each alternative is a queue on the adapter in one of three states: STOP (packets sent to
/// it are held), GO (held and new packets are sent) and DISCARD (held packets are dropped).
/// [`select`](Self::select) makes the VI's sends go to an alternative,
/// [`select_normal`](Self::select_normal) back to the wire. As held packets are sent or
/// dropped, the event queue reports [`Event::TxAlt`]; their buffers come back with the
/// ordinary transmit completions.
///
/// The guard derefs to the [`Vi`] for sending, posting and polling.
#[derive(Debug)]
pub struct TxAlternatives<'vi> {
    vi: &'vi mut Vi,
    n: u32,
    set: usize,
}

impl TxAlternatives<'_> {
    /// How many alternatives there are (`ef_vi_transmit_alt_num_ids`).
    pub fn len(&self) -> u32 {
        self.n
    }

    /// Always false: at least one alternative is allocated.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Alternative number `index`, or [`Error::InvalidArgument`] unless it is below
    /// [`len`](Self::len).
    pub fn id(&self, index: u32) -> Result<TxAltId> {
        if index < self.n {
            Ok(TxAltId {
                index,
                set: self.set,
            })
        } else {
            Err(Error::invalid(format!(
                "TX alternative {index}: only {} are allocated",
                self.n
            )))
        }
    }

    /// All the alternatives, in order.
    pub fn ids(&self) -> impl Iterator<Item = TxAltId> + use<> {
        let set = self.set;
        (0..self.n).map(move |index| TxAltId { index, set })
    }

    /// The C number of `id`, if it is one of this set's and the VI behind the guard is still
    /// the one the alternatives were allocated on (the guard derefs mutably to the VI, so
    /// safe code could swap another VI in).
    fn check(&self, id: TxAltId) -> Result<c_uint> {
        if self.vi.alt_set != self.set {
            return Err(Error::invalid(
                "the VI behind these TX alternatives was replaced by another",
            ));
        }
        if id.set == self.set && id.index < self.n {
            Ok(id.index)
        } else {
            Err(Error::invalid(format!(
                "TX alternative {} belongs to another allocation of alternatives",
                id.index
            )))
        }
    }

    /// Makes `id` the destination of the VI's next sends (`ef_vi_transmit_alt_select`).
    pub fn select(&mut self, id: TxAltId) -> Result<()> {
        let i = self.check(id)?;
        // SAFETY: the VI is live and used by this thread only; its alternatives are allocated
        // (this guard frees them) and `i` is below their count.
        let rc = unsafe { ffi::ef_vi_transmit_alt_select(self.vi.raw, i) };
        check("ef_vi_transmit_alt_select", rc)?;
        Ok(())
    }

    /// Makes the wire the destination of the VI's next sends again
    /// (`ef_vi_transmit_alt_select_normal`).
    pub fn select_normal(&mut self) -> Result<()> {
        if self.vi.alt_set != self.set {
            return Err(Error::invalid(
                "the VI behind these TX alternatives was replaced by another",
            ));
        }
        // SAFETY: as in `select`.
        let rc = unsafe { ffi::ef_vi_transmit_alt_select_normal(self.vi.raw) };
        check("ef_vi_transmit_alt_select_normal", rc)?;
        Ok(())
    }

    /// Puts `id` in the STOP state: packets sent to it are held (`ef_vi_transmit_alt_stop`).
    pub fn stop(&mut self, id: TxAltId) -> Result<()> {
        let i = self.check(id)?;
        // SAFETY: as in `select`.
        let rc = unsafe { ffi::ef_vi_transmit_alt_stop(self.vi.raw, i) };
        check("ef_vi_transmit_alt_stop", rc)?;
        Ok(())
    }

    /// Puts `id` in the GO state: its held packets, and those sent to it from now on, go to
    /// the wire (`ef_vi_transmit_alt_go`); each raises an [`Event::TxAlt`].
    pub fn go(&mut self, id: TxAltId) -> Result<()> {
        let i = self.check(id)?;
        // SAFETY: as in `select`.
        let rc = unsafe { ffi::ef_vi_transmit_alt_go(self.vi.raw, i) };
        check("ef_vi_transmit_alt_go", rc)?;
        Ok(())
    }

    /// Puts `id` in the DISCARD state: its held packets are dropped
    /// (`ef_vi_transmit_alt_discard`); each raises an [`Event::TxAlt`].
    pub fn discard(&mut self, id: TxAltId) -> Result<()> {
        let i = self.check(id)?;
        // SAFETY: as in `select`.
        let rc = unsafe { ffi::ef_vi_transmit_alt_discard(self.vi.raw, i) };
        check("ef_vi_transmit_alt_discard", rc)?;
        Ok(())
    }
}

impl std::ops::Deref for TxAlternatives<'_> {
    type Target = Vi;
    fn deref(&self) -> &Vi {
        self.vi
    }
}

impl std::ops::DerefMut for TxAlternatives<'_> {
    fn deref_mut(&mut self) -> &mut Vi {
        self.vi
    }
}

impl Drop for TxAlternatives<'_> {
    fn drop(&mut self) {
        if self.vi.alt_set != self.set {
            // Another VI was swapped in: the alternatives stay with their VI until it is freed.
            return;
        }
        self.vi.alt_set = 0;
        // SAFETY: the alternatives were allocated on this VI by `Vi::tx_alternatives` and are
        // freed once, here, while the VI (borrowed) is live; no id of this set is accepted
        // afterwards.
        unsafe { ffi::ef_vi_transmit_alt_free(self.vi.raw, self.vi.core.dh) };
    }
}
