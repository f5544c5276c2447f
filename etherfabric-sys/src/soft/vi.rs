//! Virtual interfaces: allocation, the `ops` table, the receive and transmit engines, event
//! queues, blocking, timestamps, statistics, PIO and CTPIO.

use core::ffi::{c_char, c_int, c_uint, c_void};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::driver::{self, PIO_SIZE, PdShared, SetShared, SlotHold, apply_memberships, if_ioctl};
use super::filter::{self, Matcher, Owner, SetPlace, TableView, Verdict};
use super::frame::{self, FrameInfo};
use super::{errno, lock, log_once, no_cap_net_raw, registry};
use crate::bindings::*;

/// Default RX buffer length, as on EF10 adapters.
const RX_BUFFER_LEN: c_uint = 1792;
/// Length of the metadata prefix when one is configured (timestamps, event merging, filter
/// ids). Layout (little-endian): seconds u32 at 0, nanoseconds u32 at 4 (`u32::MAX`: none),
/// frame length u16 at 8, `EF_VI_DISCARD_RX_*` error bits u16 at 10, filter id i32 at 12.
const PREFIX_LEN: usize = 16;
const PFX_LEN_OFF: usize = 8;
const PFX_FLAGS_OFF: usize = 10;
const PFX_FILTER_OFF: usize = 12;
/// Largest frame read from a socket (lo has a 64 KiB MTU).
const MAX_FRAME: usize = 65536 + 64;
/// Most TX descriptors one TX event completes (`EF_VI_TRANSMIT_BATCH`).
const TX_BATCH: u32 = EF_VI_TRANSMIT_BATCH;
/// Most RX descriptors one merged RX event completes (`EF_VI_RECEIVE_BATCH`).
const RX_BATCH: u32 = EF_VI_RECEIVE_BATCH;

const ETH_P_ALL: u16 = 0x0003;
const PACKET_OUTGOING: u8 = 4;
const PACKET_AUXDATA: c_int = 8;
const PACKET_QDISC_BYPASS: c_int = 20;
const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
const TP_STATUS_CSUM_VALID: u32 = 1 << 7;

/// `struct tpacket_auxdata`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct AuxData {
    status: u32,
    len: u32,
    snaplen: u32,
    mac: u16,
    net: u16,
    vlan_tci: u16,
    vlan_tpid: u16,
}

/// Counters reported by `ef_vi_stats_query()`.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    rx_frames: AtomicU32,
    rx_nodesc_drops: AtomicU32,
    rx_trunc: AtomicU32,
    rx_csum_errors: AtomicU32,
    tx_frames: AtomicU32,
    tx_drops: AtomicU32,
}

fn bump(c: &AtomicU32) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// An event queue: the events not yet polled, and the eventfd that makes the driver handle
/// readable while there are some (after `ef_vi_prime()`).
pub(crate) struct EventQueue {
    events: VecDeque<ef_event>,
    wake_fd: c_int,
    signalled: bool,
    armed: bool,
}

impl core::fmt::Debug for EventQueue {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("EventQueue")
            .field("events", &self.events.len())
            .field("wake_fd", &self.wake_fd)
            .field("signalled", &self.signalled)
            .field("armed", &self.armed)
            .finish()
    }
}

impl EventQueue {
    fn push(&mut self, ev: ef_event) {
        self.events.push_back(ev);
        if self.armed && !self.signalled {
            self.signal();
        }
    }

    fn signal(&mut self) {
        let one: u64 = 1;
        // SAFETY: writing 8 bytes to our eventfd.
        unsafe { libc::write(self.wake_fd, (&one as *const u64).cast(), 8) };
        self.signalled = true;
    }

    fn unsignal_if_empty(&mut self) {
        if self.signalled && self.events.is_empty() {
            let mut v: u64 = 0;
            // SAFETY: reading 8 bytes from our non-blocking eventfd.
            unsafe { libc::read(self.wake_fd, (&mut v as *mut u64).cast(), 8) };
            self.signalled = false;
        }
    }
}

impl Drop for EventQueue {
    fn drop(&mut self) {
        // SAFETY: the eventfd is owned by this queue.
        unsafe { libc::close(self.wake_fd) };
    }
}

/// The part of a VI other threads may reach through the registry.
#[derive(Debug)]
pub(crate) struct ViShared {
    pub id: u32,
    pub pd: Arc<PdShared>,
    pub sock: c_int,
    pub rx: bool,
    pub evq: Arc<Mutex<EventQueue>>,
    pub set: Option<(Arc<SetShared>, SetPlace)>,
    pub stats: Stats,
    /// The protocol the packet socket is bound to (network order), see [`narrow_socket`].
    pub proto: AtomicU16,
}

impl ViShared {
    /// Queues a software event (from any thread).
    pub(crate) fn inject(&self, data: c_uint) {
        let mut ev = ef_event::default();
        // SAFETY: `sw` is a plain-integer member of the event union.
        unsafe {
            ev.sw.set_type(EF_EVENT_TYPE_SW);
            ev.sw.data = data;
        }
        let mut q = lock(&self.evq);
        q.events.push_back(ev);
        if !q.signalled {
            q.signal();
        }
    }
}

impl Drop for ViShared {
    fn drop(&mut self) {
        // SAFETY: the packet socket is owned by this VI.
        unsafe { libc::close(self.sock) };
    }
}

/// How a TX descriptor's data is found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum TxKind {
    /// In registered memory at `addr`.
    #[default]
    Dma,
    /// Already sent (PIO, or CTPIO when `ctpio`): only the completion is left.
    Sent,
}

#[derive(Debug, Clone, Copy, Default)]
struct TxDesc {
    addr: u64,
    len: u32,
    more: bool,
    kind: TxKind,
    ctpio: bool,
}

/// The private state of a VI, reached through `ef_vi::xdp_kick_context`.
#[derive(Debug)]
struct SoftVi {
    shared: Arc<ViShared>,
    vi: *mut ef_vi,
    /// The allocation holding `ep_state`, the id arrays and the event ring (from
    /// `Box::into_raw`, freed on drop; only reached through the pointers in the `ef_vi`).
    state_mem: *mut [u64],
    rx_desc: Box<[u64]>,
    tx_desc: Box<[TxDesc]>,
    rxq_size: u32,
    txq_size: u32,
    q_label: u32,
    /// RX descriptors the backend has filled so far.
    rx_hw: u32,
    /// TX descriptors sent (or failed) so far.
    tx_done: u32,
    /// TX descriptors covered by completion events so far.
    tx_evented: u32,
    tx_error: bool,
    flushed: bool,
    warming: bool,
    /// A CTPIO frame went out and waits for its fallback descriptor.
    ctpio_sent: bool,
    /// First descriptor covered by the most recent TX event.
    tx_ev_start: u32,
    view: TableView,
    rx_buf: Vec<u8>,
    tx_buf: Vec<u8>,
    prefix: usize,
    flags: ef_vi_flags,
    layout: Box<[ef_vi_layout_entry]>,
}

impl Drop for SoftVi {
    fn drop(&mut self) {
        // SAFETY: `state_mem` came from Box::into_raw in alloc_vi and is freed only here.
        drop(unsafe { Box::from_raw(self.state_mem) });
    }
}

/// The private state of `vi`, if it is a live VI of this backend.
///
/// # Safety
///
/// `vi` must be null or point to an `ef_vi`; the returned reference must not outlive the VI
/// nor overlap another reference to the same state.
unsafe fn ctx<'a>(vi: *const ef_vi) -> Option<&'a mut SoftVi> {
    if vi.is_null() {
        return None;
    }
    // SAFETY: guaranteed by the caller.
    let p = unsafe { (*vi).xdp_kick_context }.cast::<SoftVi>();
    if p.is_null() {
        None
    } else {
        // SAFETY: a non-null context is the Box<SoftVi> made by alloc_vi, alive until
        // ef_vi_free; the caller guarantees exclusivity.
        Some(unsafe { &mut *p })
    }
}

fn flag(flags: ef_vi_flags, f: ef_vi_flags) -> bool {
    flags & f != 0
}

/// The system clock.
fn now() -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is writable.
    unsafe { libc::clock_gettime(libc::CLOCK_REALTIME, &mut ts) };
    ts
}

const SYNC_FLAGS: u32 = EF_VI_SYNC_FLAG_CLOCK_SET | EF_VI_SYNC_FLAG_CLOCK_IN_SYNC;

impl SoftVi {
    fn state(&mut self) -> &mut ef_vi_state {
        // SAFETY: ep_state points into `state_mem`, owned by self.
        unsafe { &mut *(*self.vi).ep_state }
    }

    fn rx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `rxq_size` entries inside `state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_rxq.ids, self.rxq_size as usize) }
    }

    fn tx_ids(&mut self) -> &mut [u32] {
        // SAFETY: the ids array has `txq_size` entries inside `state_mem`.
        unsafe { core::slice::from_raw_parts_mut((*self.vi).vi_txq.ids, self.txq_size as usize) }
    }

    fn push_event(&self, ev: ef_event) {
        lock(&self.shared.evq).push(ev);
    }

    fn queued_events(&self) -> usize {
        lock(&self.shared.evq).events.len()
    }

    fn discard_mask(&self) -> u64 {
        // SAFETY: self.vi is the live VI of this state.
        unsafe { (*self.vi).rx_discard_mask }
    }

    // ------------------------------------------------------------------ transmit

    fn tx_space(&mut self) -> u32 {
        let mask = self.txq_size.wrapping_sub(1);
        let st = self.state().txq;
        mask.wrapping_sub(st.added.wrapping_sub(st.removed))
    }

    fn tx_add(&mut self, d: TxDesc, id: ef_request_id) {
        let mask = self.txq_size - 1;
        let slot = self.state().txq.added & mask;
        self.tx_desc[slot as usize] = d;
        self.tx_ids()[slot as usize] = id as u32;
        let st = self.state();
        st.txq.added = st.txq.added.wrapping_add(1);
    }

    fn transmitv_init(&mut self, iov: &[ef_iovec], dma_id: ef_request_id) -> c_int {
        if self.txq_size == 0 || iov.is_empty() {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < iov.len() as u32 {
            return -libc::EAGAIN;
        }
        let n = iov.len();
        for (i, v) in iov.iter().enumerate() {
            let last = i + 1 == n;
            self.tx_add(
                TxDesc {
                    addr: v.iov_base,
                    len: v.iov_len,
                    more: !last,
                    kind: TxKind::Dma,
                    ctpio: false,
                },
                if last {
                    dma_id
                } else {
                    EF_REQUEST_ID_MASK as ef_request_id
                },
            );
        }
        0
    }

    fn transmit_push(&mut self) {
        let st = self.state();
        st.txq.previous = st.txq.added;
        self.tx_process();
    }

    /// Sends pushed descriptors and raises completion events.
    fn tx_process(&mut self) {
        if self.txq_size == 0 {
            return;
        }
        let mask = self.txq_size - 1;
        let prev = self.state().txq.previous;
        let tx_ts = flag(self.flags, ef_vi_flags_EF_VI_TX_TIMESTAMPS);
        while self.tx_done != prev && !self.tx_error && !self.flushed {
            let start = self.tx_done;
            let mut end = start;
            loop {
                let d = self.tx_desc[(end & mask) as usize];
                end = end.wrapping_add(1);
                if !d.more || end == prev {
                    break;
                }
            }
            let last = self.tx_desc[(end.wrapping_sub(1) & mask) as usize];
            if last.more {
                break; // the rest of the packet is not pushed yet
            }
            if self.tx_desc[(start & mask) as usize].kind == TxKind::Dma {
                match self.tx_send_dma(start, end) {
                    Ok(true) => {}
                    Ok(false) => break, // socket busy: retry on the next poll
                    Err(()) => {
                        let mut ev = ef_event::default();
                        // SAFETY: plain-integer union member.
                        unsafe {
                            ev.tx_error.set_type(EF_EVENT_TYPE_TX_ERROR);
                            ev.tx_error.set_q_id(self.q_label);
                            ev.tx_error.set_desc_id(end.wrapping_sub(1) & mask);
                            ev.tx_error.set_subtype(EF_EVENT_TX_ERROR_BUS);
                        }
                        self.push_event(ev);
                        self.tx_error = true;
                        break;
                    }
                }
            }
            self.tx_done = end;
            if tx_ts {
                let slot = (end.wrapping_sub(1) & mask) as usize;
                let id = self.tx_ids()[slot];
                let ts = now();
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    let t = &mut ev.tx_timestamp;
                    t.set_type(EF_EVENT_TYPE_TX_WITH_TIMESTAMP);
                    t.set_q_id(self.q_label);
                    t.set_flags(if last.ctpio { EF_EVENT_FLAG_CTPIO } else { 0 });
                    t.set_rq_id(id);
                    t.set_ts_sec(ts.tv_sec as u32);
                    t.set_ts_nsec(ts.tv_nsec as u32);
                    t.set_ts_nsec_frac(0);
                    t.set_ts_flags(SYNC_FLAGS);
                }
                // Timestamped completions carry their id: the slots are free now.
                let mut i = start;
                while i != end {
                    let s = (i & mask) as usize;
                    self.tx_ids()[s] = EF_REQUEST_ID_MASK;
                    i = i.wrapping_add(1);
                }
                self.state().txq.removed = end;
                self.tx_evented = end;
                self.push_event(ev);
            }
        }
        // Plain completions: one event per batch of descriptors, split where the CTPIO flag
        // changes.
        while self.tx_evented != self.tx_done {
            let ctpio = self.tx_desc[(self.tx_evented & mask) as usize].ctpio;
            let mut n = 0;
            while n < TX_BATCH
                && self.tx_evented.wrapping_add(n) != self.tx_done
                && self.tx_desc[(self.tx_evented.wrapping_add(n) & mask) as usize].ctpio == ctpio
            {
                n += 1;
            }
            let last = self.tx_evented.wrapping_add(n).wrapping_sub(1);
            let flags = if ctpio { EF_EVENT_FLAG_CTPIO } else { 0 };
            let mut q = lock(&self.shared.evq);
            // Like an adapter, completions not yet polled are merged into one event (up to a
            // batch), so that TX events cannot outnumber the event queue.
            let covered = last.wrapping_sub(self.tx_ev_start).wrapping_add(1);
            if let Some(back) = q.events.back_mut() {
                // SAFETY: plain-integer union member of an initialised event.
                unsafe {
                    let t = &mut back.tx;
                    if t.type_() == EF_EVENT_TYPE_TX
                        && t.q_id() == self.q_label
                        && t.flags() == flags
                        && t.desc_id() == self.tx_evented.wrapping_sub(1) & mask
                        && covered <= TX_BATCH
                    {
                        t.set_desc_id(last & mask);
                        self.tx_evented = self.tx_evented.wrapping_add(n);
                        continue;
                    }
                }
            }
            let mut ev = ef_event::default();
            // SAFETY: plain-integer union member.
            unsafe {
                ev.tx.set_type(EF_EVENT_TYPE_TX);
                ev.tx.set_q_id(self.q_label);
                ev.tx.set_flags(flags);
                ev.tx.set_desc_id(last & mask);
            }
            self.tx_ev_start = self.tx_evented;
            self.tx_evented = self.tx_evented.wrapping_add(n);
            q.push(ev);
        }
    }

    /// Gathers and sends the packet in descriptors `[start, end)`. `Ok(false)`: the socket
    /// has no room now; `Err`: a descriptor points outside registered memory.
    fn tx_send_dma(&mut self, start: u32, end: u32) -> Result<bool, ()> {
        let mask = self.txq_size - 1;
        self.tx_buf.clear();
        let mut i = start;
        while i != end {
            let d = self.tx_desc[(i & mask) as usize];
            if d.len > 0 {
                if !self.shared.pd.dma_ok(d.addr, d.len as usize)
                    || self.tx_buf.len() + d.len as usize > MAX_FRAME
                {
                    return Err(());
                }
                // SAFETY: the range lies in memory registered with this VI's protection domain,
                // which the application keeps valid while descriptors refer to it.
                let src = unsafe {
                    core::slice::from_raw_parts(d.addr as usize as *const u8, d.len as usize)
                };
                self.tx_buf.extend_from_slice(src);
            }
            i = i.wrapping_add(1);
        }
        let mut buf = core::mem::take(&mut self.tx_buf);
        let r = self.send_frame(&mut buf, true);
        self.tx_buf = buf;
        Ok(r)
    }

    /// Sends one frame, with checksum offload if `offload` and padding to the Ethernet minimum.
    /// False when the socket is full.
    fn send_frame(&mut self, f: &mut Vec<u8>, offload: bool) -> bool {
        if f.len() < 14 {
            bump(&self.shared.stats.tx_drops);
            return true;
        }
        let fi = frame::parse(f);
        if flag(self.flags, ef_vi_flags_EF_VI_TX_TCPUDP_ONLY) && !fi.has_ports() {
            bump(&self.shared.stats.tx_drops);
            return true;
        }
        if offload {
            if !flag(self.flags, ef_vi_flags_EF_VI_TX_IP_CSUM_DIS) {
                frame::fill_l3(f, &fi);
            }
            if !flag(self.flags, ef_vi_flags_EF_VI_TX_TCPUDP_CSUM_DIS) {
                frame::fill_l4(f, &fi);
            }
        }
        // Like an adapter, pad short frames to the Ethernet minimum (60 bytes before the FCS).
        if f.len() < 60 {
            f.resize(60, 0);
        }
        // SAFETY: sending from a valid buffer on our socket.
        let rc = unsafe {
            libc::send(
                self.shared.sock,
                f.as_ptr().cast(),
                f.len(),
                libc::MSG_DONTWAIT,
            )
        };
        if rc >= 0 {
            bump(&self.shared.stats.tx_frames);
            return true;
        }
        match errno() {
            libc::EAGAIN | libc::ENOBUFS => false,
            e => {
                bump(&self.shared.stats.tx_drops);
                log_once(
                    "tx_drop",
                    &format!(
                        "a transmitted frame of {} bytes was dropped: {}",
                        f.len(),
                        std::io::Error::from_raw_os_error(e)
                    ),
                );
                true
            }
        }
    }

    /// Adds a completed-at-once descriptor (PIO, CTPIO) and pushes it.
    fn tx_add_sent(&mut self, dma_id: ef_request_id, ctpio: bool) -> c_int {
        if self.txq_size == 0 {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < 1 {
            return -libc::EAGAIN;
        }
        self.tx_add(
            TxDesc {
                kind: TxKind::Sent,
                ctpio,
                ..TxDesc::default()
            },
            dma_id,
        );
        self.transmit_push();
        0
    }

    /// Sends `len` bytes of the linked PIO region at `offset`.
    fn transmit_pio(&mut self, offset: c_int, len: c_int, dma_id: ef_request_id) -> c_int {
        // SAFETY: self.vi is live; a linked PIO region stays valid until unlinked.
        let pio = unsafe { (*self.vi).linked_pio };
        if pio.is_null() || offset < 0 || len < 0 || offset % 64 != 0 {
            return -libc::EINVAL;
        }
        // SAFETY: as above.
        let (buf, plen) = unsafe { ((*pio).pio_buffer, (*pio).pio_len as usize) };
        let (o, l) = (offset as usize, len as usize);
        if o + l > plen {
            return -libc::EINVAL;
        }
        if self.txq_size == 0 {
            return -libc::EINVAL;
        }
        if self.warming || self.tx_space() < 1 {
            return -libc::EAGAIN;
        }
        let mut f = Vec::with_capacity(l);
        // SAFETY: [o, o + l) lies inside the PIO buffer.
        f.extend_from_slice(unsafe { core::slice::from_raw_parts(buf.add(o), l) });
        if !self.send_frame(&mut f, true) {
            return -libc::EAGAIN;
        }
        self.tx_add_sent(dma_id, false)
    }

    /// CTPIO: sends the frame now when the VI has `EF_VI_TX_CTPIO`; the fallback descriptor
    /// that follows then only completes. Without the flag nothing is sent here and the
    /// fallback sends the frame.
    fn transmitv_ctpio(&mut self, iov: &[libc::iovec], fallback: *mut c_void) {
        let mut f = Vec::new();
        for v in iov {
            if !v.iov_base.is_null() && v.iov_len > 0 {
                // SAFETY: the caller of the op guarantees readable iovecs.
                f.extend_from_slice(unsafe {
                    core::slice::from_raw_parts(v.iov_base.cast::<u8>(), v.iov_len)
                });
            }
        }
        if !fallback.is_null() {
            // SAFETY: the caller guarantees `fallback` has room for the frame.
            unsafe { core::ptr::copy_nonoverlapping(f.as_ptr(), fallback.cast::<u8>(), f.len()) };
        }
        if self.warming || !flag(self.flags, ef_vi_flags_EF_VI_TX_CTPIO) || self.txq_size == 0 {
            self.ctpio_sent = false;
            return;
        }
        // Cut-through sends have no checksum offload.
        self.ctpio_sent = self.send_frame(&mut f, false);
        // SAFETY: self.vi is live.
        unsafe { (*self.vi).last_ctpio_failed = u8::from(!self.ctpio_sent) };
    }

    fn ctpio_fallback(&mut self, iov: &[ef_iovec], dma_id: ef_request_id) -> c_int {
        if core::mem::take(&mut self.ctpio_sent) {
            self.tx_add_sent(dma_id, true)
        } else {
            let rc = self.transmitv_init(iov, dma_id);
            if rc == 0 {
                self.transmit_push();
            }
            rc
        }
    }

    // ------------------------------------------------------------------ receive

    fn rx_avail(&mut self) -> u32 {
        let posted = self.state().rxq.posted;
        posted.wrapping_sub(self.rx_hw)
    }

    /// Reads frames from the socket until `want` events are queued or it is empty.
    fn rx_pump(&mut self, want: usize) {
        if !self.shared.rx || self.rxq_size == 0 {
            return;
        }
        for _ in 0..64 {
            if self.queued_events() >= want {
                break;
            }
            if !self.rx_one() {
                break;
            }
        }
    }

    /// Receives and handles one frame; false when the socket is empty.
    fn rx_one(&mut self) -> bool {
        let mut sll: libc::sockaddr_ll = {
            // SAFETY: sockaddr_ll is plain data; all zeroes is valid.
            unsafe { core::mem::zeroed() }
        };
        let mut cbuf = [0u64; 32];
        let mut iov = libc::iovec {
            // Leave 4 bytes in front to re-insert a VLAN tag.
            // SAFETY: rx_buf has MAX_FRAME + 8 bytes.
            iov_base: unsafe { self.rx_buf.as_mut_ptr().add(4) }.cast(),
            iov_len: MAX_FRAME,
        };
        // SAFETY: msghdr is plain data; all zeroes is valid.
        let mut msg: libc::msghdr = unsafe { core::mem::zeroed() };
        msg.msg_name = (&mut sll as *mut libc::sockaddr_ll).cast();
        msg.msg_namelen = core::mem::size_of::<libc::sockaddr_ll>() as u32;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = core::mem::size_of_val(&cbuf);
        // SAFETY: `msg` describes valid buffers.
        let n = unsafe {
            libc::recvmsg(
                self.shared.sock,
                &mut msg,
                libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            return false;
        }
        let mut len = n as usize;
        let truncated = len > MAX_FRAME || msg.msg_flags & libc::MSG_TRUNC != 0;
        len = len.min(MAX_FRAME);
        let mut aux = AuxData::default();
        let mut ts: Option<libc::timespec> = None;
        // SAFETY: walking the control messages the kernel wrote into `cbuf`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&msg);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == PACKET_AUXDATA {
                    aux = data.cast::<AuxData>().read_unaligned();
                } else if (*c).cmsg_level == libc::SOL_SOCKET
                    && (*c).cmsg_type == libc::SCM_TIMESTAMPNS
                {
                    ts = Some(data.cast::<libc::timespec>().read_unaligned());
                }
                c = libc::CMSG_NXTHDR(&msg, c);
            }
        }
        let outgoing = sll.sll_pkttype == PACKET_OUTGOING;
        // Re-insert the VLAN tag the kernel took out of the frame.
        let mut start = 4;
        if aux.status & TP_STATUS_VLAN_VALID != 0 && len >= 12 {
            let tpid = if aux.status & TP_STATUS_VLAN_TPID_VALID != 0 && aux.vlan_tpid != 0 {
                aux.vlan_tpid
            } else {
                frame::ETH_P_8021Q
            };
            self.rx_buf.copy_within(4..16, 0);
            self.rx_buf[12..14].copy_from_slice(&tpid.to_be_bytes());
            self.rx_buf[14..16].copy_from_slice(&aux.vlan_tci.to_be_bytes());
            start = 0;
            len += 4;
        }
        let fi = frame::parse(&self.rx_buf[start..start + len]);
        self.shared.pd.table.refresh(&mut self.view);
        let me = self.shared.id;
        let place = self.shared.set.as_ref().map(|(_, p)| *p);
        let verdict = filter::decide(
            &self.view,
            &fi,
            outgoing,
            self.shared.pd.loopback,
            me,
            place,
            || frame::flow_hash(&fi),
        );
        let Verdict::Deliver(filter_id) = verdict else {
            return true;
        };
        bump(&self.shared.stats.rx_frames);
        // Checksums: complete them when the kernel left them to "hardware" (loopback and
        // veth offload), else check them as an adapter does.
        let mut errs = frame::CsumErrors::default();
        {
            let f = &mut self.rx_buf[start..start + len];
            if aux.status & TP_STATUS_CSUMNOTREADY != 0 {
                frame::fill_l4(f, &fi);
            } else if !truncated {
                errs = frame::verify(f, &fi);
                if aux.status & TP_STATUS_CSUM_VALID != 0 {
                    errs.l4 = false;
                }
            }
        }
        let ts = ts.unwrap_or_else(now);
        self.deliver(start, len, &fi, errs, truncated, ts, filter_id);
        true
    }

    /// Copies a frame into posted RX buffers and raises the events.
    #[allow(clippy::too_many_arguments)]
    fn deliver(
        &mut self,
        start: usize,
        len: usize,
        fi: &FrameInfo,
        errs: frame::CsumErrors,
        truncated: bool,
        ts: libc::timespec,
        filter_id: c_int,
    ) {
        let mask = self.rxq_size - 1;
        if self.flushed || self.rx_avail() == 0 {
            bump(&self.shared.stats.rx_nodesc_drops);
            return;
        }
        let merge = flag(self.flags, ef_vi_flags_EF_VI_RX_EVENT_MERGE);
        let dmask = self.discard_mask();
        let mut err_bits: u16 = 0;
        if errs.l3 {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR as u16;
        }
        if errs.l4 {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR as u16;
        }
        if truncated {
            err_bits |= ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR as u16;
        }
        if errs.l3 || errs.l4 {
            bump(&self.shared.stats.rx_csum_errors);
        }
        if truncated {
            bump(&self.shared.stats.rx_trunc);
        }
        let subtype = if truncated {
            Some(EF_EVENT_RX_DISCARD_TRUNC)
        } else if u64::from(err_bits) & dmask != 0 {
            Some(EF_EVENT_RX_DISCARD_CSUM_BAD)
        } else {
            None
        };
        // SAFETY: self.vi is live.
        let buf_len = (unsafe { (*self.vi).rx_buffer_len } as usize).max(self.prefix + 1);
        let mcast = if fi.is_multicast() {
            EF_EVENT_FLAG_MULTICAST
        } else {
            0
        };
        let mut placed = 0usize; // frame bytes written so far
        let mut first = true;
        loop {
            if self.rx_avail() == 0 {
                // Out of descriptors in the middle of a frame.
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    ev.rx_no_desc_trunc.set_type(EF_EVENT_TYPE_RX_NO_DESC_TRUNC);
                    ev.rx_no_desc_trunc.set_q_id(self.q_label);
                }
                bump(&self.shared.stats.rx_nodesc_drops);
                self.push_event(ev);
                return;
            }
            let slot = (self.rx_hw & mask) as usize;
            let addr = self.rx_desc[slot];
            let pre = if first { self.prefix } else { 0 };
            let chunk = (len - placed).min(buf_len - pre);
            let more = placed + chunk < len;
            let ok = self.shared.pd.dma_ok(addr, pre + chunk);
            if ok {
                // SAFETY: [addr, addr + pre + chunk) lies in memory registered with this VI's
                // domain, posted to the RX ring: the application handed it to the "NIC".
                unsafe {
                    let dst = addr as usize as *mut u8;
                    if pre > 0 {
                        let mut p = [0u8; PREFIX_LEN];
                        p[0..4].copy_from_slice(&(ts.tv_sec as u32).to_le_bytes());
                        p[4..8].copy_from_slice(&(ts.tv_nsec as u32).to_le_bytes());
                        p[PFX_LEN_OFF..PFX_LEN_OFF + 2]
                            .copy_from_slice(&(len as u16).to_le_bytes());
                        p[PFX_FLAGS_OFF..PFX_FLAGS_OFF + 2]
                            .copy_from_slice(&err_bits.to_le_bytes());
                        p[PFX_FILTER_OFF..PFX_FILTER_OFF + 4]
                            .copy_from_slice(&filter_id.to_le_bytes());
                        core::ptr::copy_nonoverlapping(p.as_ptr(), dst, pre);
                    }
                    core::ptr::copy_nonoverlapping(
                        self.rx_buf.as_ptr().add(start + placed),
                        dst.add(pre),
                        chunk,
                    );
                }
            }
            placed += chunk;
            self.rx_hw = self.rx_hw.wrapping_add(1);
            let id = self.rx_ids()[slot];
            if !merge {
                self.rx_ids()[slot] = EF_REQUEST_ID_MASK;
                let st = self.state();
                st.rxq.removed = st.rxq.removed.wrapping_add(1);
            }
            let fl = mcast
                | if first { EF_EVENT_FLAG_SOP } else { 0 }
                | if more && ok { EF_EVENT_FLAG_CONT } else { 0 };
            let sub = if !ok {
                Some(EF_EVENT_RX_DISCARD_RIGHTS)
            } else if more {
                None
            } else {
                subtype
            };
            let cum = (self.prefix + placed) as c_uint;
            if merge {
                self.push_merged(fl, sub, !more && first);
            } else {
                let mut ev = ef_event::default();
                // SAFETY: plain-integer union member.
                unsafe {
                    let r = &mut ev.rx_discard;
                    r.set_type(if sub.is_some() {
                        EF_EVENT_TYPE_RX_DISCARD
                    } else {
                        EF_EVENT_TYPE_RX
                    });
                    r.set_q_id(self.q_label);
                    r.set_rq_id(id as c_uint);
                    r.set_len(cum);
                    r.set_flags(fl);
                    r.set_subtype(sub.unwrap_or(0));
                }
                self.push_event(ev);
            }
            if !more || !ok {
                return;
            }
            first = false;
        }
    }

    /// Queues (or extends) an `RX_MULTI`/`RX_MULTI_DISCARD` event for one more descriptor.
    fn push_merged(&self, fl: c_uint, sub: Option<c_uint>, single: bool) {
        let mut q = lock(&self.shared.evq);
        let ty = if sub.is_some() {
            EF_EVENT_TYPE_RX_MULTI_DISCARD
        } else {
            EF_EVENT_TYPE_RX_MULTI
        };
        if single {
            if let Some(last) = q.events.back_mut() {
                // SAFETY: plain-integer union members; every queued event is fully initialised.
                unsafe {
                    let m = &mut last.rx_multi_discard;
                    if m.type_() == ty
                        && m.q_id() == self.q_label
                        && m.flags() & !EF_EVENT_FLAG_MULTICAST == EF_EVENT_FLAG_SOP
                        && m.n_descs() < RX_BATCH
                        && (sub.is_none() || m.subtype() == sub.unwrap_or(0))
                    {
                        m.set_n_descs(m.n_descs() + 1);
                        m.set_flags(m.flags() | (fl & EF_EVENT_FLAG_MULTICAST));
                        return;
                    }
                }
            }
        }
        let mut ev = ef_event::default();
        // SAFETY: plain-integer union member.
        unsafe {
            let m = &mut ev.rx_multi_discard;
            m.set_type(ty);
            m.set_q_id(self.q_label);
            m.set_n_descs(1);
            m.set_flags(fl);
            m.set_subtype(sub.unwrap_or(0));
        }
        q.push(ev);
    }

    /// Makes progress: sends pushed transmits, reads frames.
    fn pump(&mut self, want: usize) {
        if self.tx_done != self.state().txq.previous {
            self.tx_process();
        }
        self.rx_pump(want);
    }
}

/// Pumps every queue reporting to the event queue of `evq`.
///
/// # Safety
///
/// `evq` must be a live VI owning an event queue, used by this thread only.
unsafe fn pump_all(evq: *const ef_vi, want: usize) {
    // SAFETY: guaranteed by the caller; each VI in vi_qs is live or null (freed VIs are
    // removed from the array).
    unsafe {
        let n = (*evq).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
        for i in 0..n {
            let q = (*evq).vi_qs[i];
            if let Some(sv) = ctx(q) {
                sv.pump(want);
            }
        }
    }
}

/// The event queue a VI reports to.
///
/// # Safety
///
/// `vi` must be null or a VI of this backend.
unsafe fn evq_of(vi: *const ef_vi) -> Option<Arc<Mutex<EventQueue>>> {
    // SAFETY: guaranteed by the caller; the reference is dropped at once.
    unsafe { ctx(vi) }.map(|s| s.shared.evq.clone())
}

// ---------------------------------------------------------------------- ops table

/// Converts an iovec array to a slice.
///
/// # Safety
///
/// `iov` must point to `n` elements when `n > 0`.
unsafe fn slice<'a, T>(iov: *const T, n: c_int) -> &'a [T] {
    if iov.is_null() || n <= 0 {
        &[]
    } else {
        // SAFETY: guaranteed by the caller.
        unsafe { core::slice::from_raw_parts(iov, n as usize) }
    }
}

unsafe extern "C" fn op_transmit(
    vi: *mut ef_vi,
    base: ef_addr,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    let iov = [ef_iovec {
        iov_base: base,
        iov_len: len.max(0) as c_uint,
    }];
    // SAFETY: the ops table is only reached through a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    let rc = sv.transmitv_init(&iov, id);
    if rc == 0 {
        sv.transmit_push();
    }
    rc
}

unsafe extern "C" fn op_transmitv(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: the caller passes `n` iovecs; `vi` is a VI of this backend.
    let (iov, sv) = unsafe { (slice(iov, n), ctx(vi)) };
    let Some(sv) = sv else { return -libc::EINVAL };
    let rc = sv.transmitv_init(iov, id);
    if rc == 0 {
        sv.transmit_push();
    }
    rc
}

unsafe extern "C" fn op_transmitv_init(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: as in op_transmitv.
    let (iov, sv) = unsafe { (slice(iov, n), ctx(vi)) };
    sv.map_or(-libc::EINVAL, |sv| sv.transmitv_init(iov, id))
}

unsafe extern "C" fn op_transmit_push(vi: *mut ef_vi) {
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        sv.transmit_push();
    }
}

unsafe extern "C" fn op_transmit_pio(
    vi: *mut ef_vi,
    offset: c_int,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmit_pio(offset, len, id))
}

/// Copies into the linked PIO region.
///
/// # Safety
///
/// `src` must have `len` readable bytes.
unsafe fn pio_copy(vi: *mut ef_vi, offset: c_int, src: *const c_void, len: c_int) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let pio = match unsafe { ctx(vi) } {
        // SAFETY: sv.vi is live; a linked PIO stays valid until unlinked.
        Some(sv) => unsafe { (*sv.vi).linked_pio },
        None => return -libc::EINVAL,
    };
    if pio.is_null() || offset < 0 || len < 0 || src.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: as above.
    let (buf, plen) = unsafe { ((*pio).pio_buffer, (*pio).pio_len as usize) };
    if offset as usize + len as usize > plen {
        return -libc::EINVAL;
    }
    // SAFETY: the destination range is inside the PIO buffer; `src` is readable.
    unsafe { core::ptr::copy(src.cast::<u8>(), buf.add(offset as usize), len as usize) };
    0
}

unsafe extern "C" fn op_transmit_copy_pio(
    vi: *mut ef_vi,
    offset: c_int,
    src: *const c_void,
    len: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let rc = unsafe { pio_copy(vi, offset, src, len) };
    if rc < 0 {
        return rc;
    }
    // SAFETY: as above.
    unsafe { op_transmit_pio(vi, offset, len, id) }
}

unsafe extern "C" fn op_start_transmit_warm(
    vi: *mut ef_vi,
    saved: *mut ef_vi_tx_warm_state,
    ctpio: *mut c_char,
) {
    // SAFETY: `vi` is a VI of this backend; `saved` is writable when not null.
    unsafe {
        let Some(sv) = ctx(vi) else { return };
        if sv.warming || sv.txq_size == 0 {
            return;
        }
        let st = sv.state();
        if !saved.is_null() {
            (*saved).removed = st.txq.removed;
            (*saved).vi_ctpio_mmap_ptr = ctpio;
        }
        // The ring appears full while warming: transmits take their normal path up to the
        // point of sending and then fail with -EAGAIN.
        sv.warming = true;
    }
}

unsafe extern "C" fn op_stop_transmit_warm(vi: *mut ef_vi, saved: *mut ef_vi_tx_warm_state) {
    let _ = saved;
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        sv.warming = false;
    }
}

unsafe extern "C" fn op_transmit_pio_warm(_vi: *mut ef_vi) {}

unsafe extern "C" fn op_transmit_copy_pio_warm(
    vi: *mut ef_vi,
    offset: c_int,
    src: *const c_void,
    len: c_int,
) {
    // SAFETY: forwarded guarantees.
    unsafe { pio_copy(vi, offset, src, len) };
}

unsafe extern "C" fn op_transmitv_ctpio(
    vi: *mut ef_vi,
    _frame_len: usize,
    iov: *const iovec,
    n: c_int,
    _thresh: c_uint,
) {
    // SAFETY: `iov` has `n` entries; `vi` is a VI of this backend.
    let (iov, sv) = unsafe { (slice(iov.cast::<libc::iovec>(), n), ctx(vi)) };
    if let Some(sv) = sv {
        sv.transmitv_ctpio(iov, core::ptr::null_mut());
    }
}

unsafe extern "C" fn op_transmitv_ctpio_copy(
    vi: *mut ef_vi,
    _frame_len: usize,
    iov: *const iovec,
    n: c_int,
    _thresh: c_uint,
    fallback: *mut c_void,
) {
    // SAFETY: as in op_transmitv_ctpio; `fallback` has room for the frame.
    let (iov, sv) = unsafe { (slice(iov.cast::<libc::iovec>(), n), ctx(vi)) };
    if let Some(sv) = sv {
        sv.transmitv_ctpio(iov, fallback);
    }
}

unsafe extern "C" fn op_alt_id(_vi: *mut ef_vi, _alt: c_uint) -> c_int {
    -libc::EOPNOTSUPP
}

unsafe extern "C" fn op_alt_default(_vi: *mut ef_vi) -> c_int {
    -libc::EOPNOTSUPP
}

unsafe extern "C" fn op_receive_set_discards(vi: *mut ef_vi, flags: c_uint) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask = u64::from(flags) };
    0
}

unsafe extern "C" fn op_receive_get_discards(vi: *mut ef_vi) -> u64 {
    if vi.is_null() {
        return 0;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { (*vi).rx_discard_mask }
}

unsafe extern "C" fn op_receive_init(vi: *mut ef_vi, addr: ef_addr, id: ef_request_id) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    let mask = sv.rxq_size - 1;
    let st = sv.state().rxq;
    if mask.wrapping_sub(st.added.wrapping_sub(st.removed)) == 0 {
        return -libc::EAGAIN;
    }
    let slot = (st.added & mask) as usize;
    sv.rx_desc[slot] = addr;
    sv.rx_ids()[slot] = id as u32;
    let st = sv.state();
    st.rxq.added = st.rxq.added.wrapping_add(1);
    0
}

unsafe extern "C" fn op_receive_push(vi: *mut ef_vi) {
    // SAFETY: `vi` is a VI of this backend.
    if let Some(sv) = unsafe { ctx(vi) } {
        let st = sv.state();
        st.rxq.posted = st.rxq.added;
    }
}

/// Reads the prefix timestamp of a received buffer.
///
/// # Safety
///
/// `pkt` must point to the start of the first buffer of a packet received on `vi`.
unsafe fn prefix_ts(vi: *mut ef_vi, pkt: *const c_void) -> Result<(i64, u32), c_int> {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return Err(-libc::EINVAL);
    };
    if !flag(sv.flags, ef_vi_flags_EF_VI_RX_TIMESTAMPS) || sv.prefix == 0 || pkt.is_null() {
        return Err(-libc::EOPNOTSUPP);
    }
    // SAFETY: the prefix is the first PREFIX_LEN bytes of the buffer.
    let p = unsafe { pkt.cast::<[u8; PREFIX_LEN]>().read_unaligned() };
    let sec = u32::from_le_bytes([p[0], p[1], p[2], p[3]]);
    let nsec = u32::from_le_bytes([p[4], p[5], p[6], p[7]]);
    if nsec >= 1_000_000_000 {
        return Err(-libc::ENODATA);
    }
    Ok((i64::from(sec), nsec))
}

unsafe extern "C" fn op_receive_get_timestamp(
    vi: *mut ef_vi,
    pkt: *const c_void,
    out: *mut ef_precisetime,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let r = unsafe { prefix_ts(vi, pkt) };
    if out.is_null() {
        return -libc::EINVAL;
    }
    let (sec, nsec, rc) = match r {
        Ok((s, n)) => (s, n, 0),
        Err(e) => (0, 0, e),
    };
    // SAFETY: `out` is writable.
    unsafe {
        out.write(ef_precisetime {
            tv_sec: sec,
            tv_nsec: nsec,
            tv_nsec_frac: 0,
            tv_flags: if rc == 0 { SYNC_FLAGS as u16 } else { 0 },
        });
    }
    rc
}

unsafe extern "C" fn op_eventq_poll(vi: *mut ef_vi, evs: *mut ef_event, n: c_int) -> c_int {
    // SAFETY: `vi` is a VI of this backend owning an event queue.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    if evs.is_null() || n <= 0 {
        return 0;
    }
    // SAFETY: as above.
    unsafe { pump_all(vi, n as usize) };
    let mut q = lock(&q);
    let k = q.events.len().min(n as usize);
    for i in 0..k {
        let ev = q.events.pop_front().unwrap_or_default();
        // SAFETY: the caller provides room for `n` events.
        unsafe { evs.add(i).write(ev) };
    }
    q.unsignal_if_empty();
    drop(q);
    // SAFETY: ep_state of a live VI.
    unsafe {
        let st = &mut (*(*vi).ep_state).evq;
        st.evq_ptr = st.evq_ptr.wrapping_add(8 * k as u32);
    }
    k as c_int
}

fn is_rx_event(ev: &ef_event) -> bool {
    // SAFETY: reading the type of an initialised event.
    let t = unsafe { ev.generic.type_() };
    matches!(
        t,
        EF_EVENT_TYPE_RX
            | EF_EVENT_TYPE_RX_DISCARD
            | EF_EVENT_TYPE_RX_MULTI
            | EF_EVENT_TYPE_RX_MULTI_DISCARD
            | EF_EVENT_TYPE_RX_NO_DESC_TRUNC
    )
}

unsafe extern "C" fn op_receive_poll(vi: *mut ef_vi, evs: *mut ef_event, n: c_int) -> c_int {
    // SAFETY: as in op_eventq_poll.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    if evs.is_null() || n <= 0 {
        return 0;
    }
    // SAFETY: as above.
    unsafe {
        let nq = (*vi).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
        for i in 0..nq {
            if let Some(sv) = ctx((*vi).vi_qs[i]) {
                sv.rx_pump(n as usize);
            }
        }
    }
    let mut q = lock(&q);
    let mut k = 0usize;
    let mut i = 0usize;
    while i < q.events.len() && k < n as usize {
        if is_rx_event(&q.events[i]) {
            let ev = q.events.remove(i).unwrap_or_default();
            // SAFETY: the caller provides room for `n` events.
            unsafe { evs.add(k).write(ev) };
            k += 1;
        } else {
            i += 1;
        }
    }
    q.unsignal_if_empty();
    k as c_int
}

/// Adds the VI's descriptors to the epoll set `dh` and wakes it if events are waiting.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue.
unsafe fn arm(vi: *mut ef_vi, dh: c_int) -> c_int {
    let mut fds = Vec::new();
    // SAFETY: guaranteed by the caller.
    unsafe {
        let nq = (*vi).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
        for i in 0..nq {
            if let Some(sv) = ctx((*vi).vi_qs[i]) {
                if sv.shared.rx && sv.rxq_size > 0 {
                    fds.push(sv.shared.sock);
                }
            }
        }
    }
    // SAFETY: as above.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    let mut q = lock(&q);
    fds.push(q.wake_fd);
    for fd in fds {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: registering a descriptor we own with the caller's epoll handle.
        if unsafe { libc::epoll_ctl(dh, libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            let e = errno();
            if e != libc::EEXIST {
                return -e;
            }
        }
    }
    q.armed = true;
    if !q.events.is_empty() && !q.signalled {
        q.signal();
    }
    0
}

unsafe extern "C" fn op_eventq_prime(vi: *mut ef_vi) {
    if vi.is_null() {
        return;
    }
    // SAFETY: `vi` is a VI of this backend.
    unsafe { arm(vi, (*vi).dh) };
}

unsafe extern "C" fn op_timer(_vi: *mut ef_vi, _v: c_uint) {}

unsafe extern "C" fn op_timer_clear(_vi: *mut ef_vi) {}

unsafe extern "C" fn op_has_event(vi: *const ef_vi) -> c_int {
    // SAFETY: the VI is used by this thread only, as the SDK requires.
    unsafe { op_has_many_events(vi, 0) }
}

unsafe extern "C" fn op_has_many_events(vi: *const ef_vi, n: c_int) -> c_int {
    let n = n.max(0) as usize;
    // SAFETY: `vi` is a VI of this backend owning an event queue.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return 0;
    };
    if lock(&q).events.len() > n {
        return 1;
    }
    // SAFETY: as above.
    unsafe { pump_all(vi, n + 1) };
    c_int::from(lock(&q).events.len() > n)
}

unsafe extern "C" fn op_transmit_ctpio_fallback(
    vi: *mut ef_vi,
    addr: ef_addr,
    len: usize,
    id: ef_request_id,
) -> c_int {
    let iov = [ef_iovec {
        iov_base: addr,
        iov_len: len as c_uint,
    }];
    // SAFETY: `vi` is a VI of this backend.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.ctpio_fallback(&iov, id))
}

unsafe extern "C" fn op_transmitv_ctpio_fallback(
    vi: *mut ef_vi,
    iov: *const ef_iovec,
    n: c_int,
    id: ef_request_id,
) -> c_int {
    // SAFETY: `iov` has `n` entries; `vi` is a VI of this backend.
    let (iov, sv) = unsafe { (slice(iov, n), ctx(vi)) };
    sv.map_or(-libc::EINVAL, |sv| sv.ctpio_fallback(iov, id))
}

unsafe extern "C" fn op_receive_get_filter_id(
    vi: *mut ef_vi,
    _ev: *const ef_event,
    pkt: *const c_void,
) -> c_int {
    // SAFETY: `vi` is a VI of this backend.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if !flag(sv.flags, ef_vi_flags_EF_VI_RX_FILTER_ID) || pkt.is_null() {
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: `pkt` is the first buffer of a received packet, which starts with the prefix.
    let p = unsafe { pkt.cast::<[u8; PREFIX_LEN]>().read_unaligned() };
    c_int::from_le_bytes([p[12], p[13], p[14], p[15]])
}

unsafe extern "C" fn op_future_poll(_vi: *mut ef_vi, _evs: *mut ef_event, _n: c_int) -> c_int {
    0
}

fn ops_table() -> ef_vi_ops {
    ef_vi_ops {
        transmit: Some(op_transmit),
        transmitv: Some(op_transmitv),
        transmitv_init: Some(op_transmitv_init),
        transmit_push: Some(op_transmit_push),
        transmit_pio: Some(op_transmit_pio),
        transmit_copy_pio: Some(op_transmit_copy_pio),
        start_transmit_warm: Some(op_start_transmit_warm),
        stop_transmit_warm: Some(op_stop_transmit_warm),
        transmit_pio_warm: Some(op_transmit_pio_warm),
        transmit_copy_pio_warm: Some(op_transmit_copy_pio_warm),
        transmitv_ctpio: Some(op_transmitv_ctpio),
        transmitv_ctpio_copy: Some(op_transmitv_ctpio_copy),
        transmit_alt_select: Some(op_alt_id),
        transmit_alt_select_default: Some(op_alt_default),
        transmit_alt_stop: Some(op_alt_id),
        transmit_alt_go: Some(op_alt_id),
        receive_set_discards: Some(op_receive_set_discards),
        receive_get_discards: Some(op_receive_get_discards),
        transmit_alt_discard: Some(op_alt_id),
        receive_init: Some(op_receive_init),
        receive_push: Some(op_receive_push),
        receive_get_timestamp: Some(op_receive_get_timestamp),
        eventq_poll: Some(op_eventq_poll),
        eventq_prime: Some(op_eventq_prime),
        eventq_timer_prime: Some(op_timer),
        eventq_timer_run: Some(op_timer),
        eventq_timer_clear: Some(op_timer_clear),
        eventq_timer_zero: Some(op_timer_clear),
        eventq_has_event: Some(op_has_event),
        eventq_has_many_events: Some(op_has_many_events),
        transmit_ctpio_fallback: Some(op_transmit_ctpio_fallback),
        transmitv_ctpio_fallback: Some(op_transmitv_ctpio_fallback),
        receive_poll: Some(op_receive_poll),
        receive_get_filter_id: Some(op_receive_get_filter_id),
        future_eventq_poll: Some(op_future_poll),
    }
}

// ---------------------------------------------------------------------- allocation

fn env_size(name: &str) -> Option<c_int> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// Rounds a requested ring size to what the backend provides: -1 = `default`, 0 = none,
/// else the next power of two, at least 512; `-EINVAL` above `max`.
fn ring_size(req: c_int, default: u32, max: u32) -> Result<u32, c_int> {
    match req {
        0 => Ok(0),
        r if r < 0 => Ok(default),
        r => {
            let s = (r as u32).next_power_of_two().max(512);
            if s > max { Err(-libc::EINVAL) } else { Ok(s) }
        }
    }
}

/// Opens the VI's packet socket on `ifindex`: receiving every frame when `rx`, else
/// transmit-only.
fn open_socket(ifindex: c_int, rx: bool) -> Result<c_int, c_int> {
    // SAFETY: plain socket creation (protocol 0: nothing is received before bind).
    let fd = unsafe {
        libc::socket(
            libc::AF_PACKET,
            libc::SOCK_RAW | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
            0,
        )
    };
    if fd < 0 {
        let e = errno();
        return Err(if e == libc::EPERM || e == libc::EACCES {
            no_cap_net_raw("ef_vi_alloc_from_pd")
        } else {
            -e
        });
    }
    let set = |level: c_int, opt: c_int, v: c_int| {
        // SAFETY: setting an int option on our socket.
        unsafe {
            libc::setsockopt(
                fd,
                level,
                opt,
                (&v as *const c_int).cast(),
                core::mem::size_of::<c_int>() as libc::socklen_t,
            )
        }
    };
    set(libc::SOL_PACKET, PACKET_QDISC_BYPASS, 1);
    if rx {
        set(libc::SOL_PACKET, PACKET_AUXDATA, 1);
        set(libc::SOL_SOCKET, libc::SO_TIMESTAMPNS, 1);
        if set(libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, 8 << 20) < 0 {
            set(libc::SOL_SOCKET, libc::SO_RCVBUF, 8 << 20);
        }
    }
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = if rx { ETH_P_ALL.to_be() } else { 0 };
    sll.sll_ifindex = ifindex;
    // SAFETY: binding our socket to a valid sockaddr_ll.
    let rc = unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        let e = errno();
        // SAFETY: closing our socket.
        unsafe { libc::close(fd) };
        return Err(-e);
    }
    Ok(fd)
}

/// Re-binds a VI's packet socket to the protocol its own filters need (see
/// `IfaceTable::packet_protocol`), before any frame of a newly added filter can arrive. A VI in
/// a set also receives through the set's filters and keeps every protocol.
fn narrow_socket(shared: &ViShared) {
    if !shared.rx || shared.set.is_some() {
        return;
    }
    let proto = shared.pd.table.packet_protocol(Owner::Vi(shared.id));
    if shared.proto.swap(proto, Ordering::Relaxed) == proto {
        return;
    }
    // SAFETY: sockaddr_ll is plain data.
    let mut sll: libc::sockaddr_ll = unsafe { core::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto;
    sll.sll_ifindex = shared.pd.ifindex;
    // SAFETY: re-binding our own socket to a valid sockaddr_ll; frames already queued stay.
    let rc = unsafe {
        libc::bind(
            shared.sock,
            (&sll as *const libc::sockaddr_ll).cast(),
            core::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        // Keep receiving everything rather than miss frames.
        shared.proto.store(0, Ordering::Relaxed);
    }
}

static LAYOUT_FRAME: &core::ffi::CStr = c"Frame";
static LAYOUT_LEN: &core::ffi::CStr = c"Packet length";
static LAYOUT_FILTER: &core::ffi::CStr = c"Filter id";

/// Allocates a VI (from a domain, or a set when `place` is given).
///
/// # Safety
///
/// `vi` must be writable memory for an `ef_vi` that will not move until freed; `evq_opt`
/// null or a live VI of this backend owning an event queue.
#[allow(clippy::too_many_arguments)]
unsafe fn alloc_vi(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    pd: Arc<PdShared>,
    set: Option<(Arc<SetShared>, c_int)>,
    evq_cap: c_int,
    rxq_cap: c_int,
    txq_cap: c_int,
    evq_opt: *mut ef_vi,
    flags: ef_vi_flags,
) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    if flags & (ef_vi_flags_EF_VI_RX_PACKED_STREAM | ef_vi_flags_EF_VI_TX_ALT) != 0 {
        log_once(
            "vi_flags",
            "EF_VI_RX_PACKED_STREAM and EF_VI_TX_ALT are not supported by the software backend",
        );
        return -libc::EOPNOTSUPP;
    }
    if flags & (ef_vi_flags_EF_VI_ENABLE_TPH | ef_vi_flags_EF_VI_TPH_TAG_MODE) != 0 {
        return -libc::EINVAL;
    }
    let rxq_req = if rxq_cap < 0 {
        env_size("EF_VI_RXQ_SIZE").unwrap_or(rxq_cap)
    } else {
        rxq_cap
    };
    let txq_req = if txq_cap < 0 {
        env_size("EF_VI_TXQ_SIZE").unwrap_or(txq_cap)
    } else {
        txq_cap
    };
    let (rxq_size, txq_size) = match (ring_size(rxq_req, 512, 4096), ring_size(txq_req, 512, 4096))
    {
        (Ok(r), Ok(t)) => (r, t),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    // SAFETY: evq_opt is null or a VI of this backend, per the caller.
    let evq_sv = unsafe { ctx(evq_opt) };
    let evq_size = if evq_opt.is_null() {
        let req = if evq_cap < 0 {
            env_size("EF_VI_EVQ_SIZE").unwrap_or(evq_cap)
        } else {
            evq_cap
        };
        if req == 0 {
            return -libc::EINVAL;
        }
        let default = (rxq_size + txq_size).next_power_of_two().clamp(512, 32768);
        match ring_size(req, default, 32768) {
            Ok(s) => s,
            Err(e) => return e,
        }
    } else {
        if evq_cap != 0 || evq_sv.is_none() {
            return -libc::EINVAL;
        }
        0
    };
    if rxq_size == 0 && txq_size == 0 && evq_size == 0 {
        return -libc::EINVAL;
    }
    let evq_owner: *mut ef_vi = if evq_opt.is_null() { vi } else { evq_opt };
    let q_label = if evq_opt.is_null() {
        0
    } else {
        // SAFETY: evq_opt is a live VI.
        let n = unsafe { (*evq_opt).vi_qs_n };
        if n >= EF_VI_MAX_QS as c_int {
            return -libc::EBUSY;
        }
        n as u32
    };
    // Set slot, held from here until the VI fills it (or the allocation fails).
    let (place, hold) = match &set {
        None => (None, None),
        Some((s, idx)) => {
            let hold = match SlotHold::take(s, u32::try_from(*idx).ok()) {
                Ok(h) => h,
                Err(e) => return e,
            };
            let at = SetPlace {
                set: s.id,
                index: hold.index(),
                n: s.n,
            };
            (Some((s.clone(), at)), Some(hold))
        }
    };
    let rx = rxq_size > 0;
    let sock = match open_socket(pd.ifindex, rx) {
        Ok(fd) => fd,
        Err(e) => return e,
    };
    let evq = match evq_sv {
        Some(e) => e.shared.evq.clone(),
        None => {
            // SAFETY: plain eventfd creation.
            let wake = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
            if wake < 0 {
                let e = errno();
                // SAFETY: closing our socket.
                unsafe { libc::close(sock) };
                return -e;
            }
            Arc::new(Mutex::new(EventQueue {
                events: VecDeque::new(),
                wake_fd: wake,
                signalled: false,
                armed: false,
            }))
        }
    };
    let id = registry().new_id();
    let shared = Arc::new(ViShared {
        id,
        pd: pd.clone(),
        sock,
        rx,
        evq,
        set: place.clone(),
        stats: Stats::default(),
        proto: AtomicU16::new(if rx { ETH_P_ALL.to_be() } else { 0 }),
    });

    // ep_state, then the RX and TX id arrays, then the event ring.
    let state_words = core::mem::size_of::<ef_vi_state>().div_ceil(8);
    let ids_words = (rxq_size as usize + txq_size as usize).div_ceil(2);
    let ring_words = evq_size as usize;
    let state: Box<[u64]> = vec![0u64; state_words + ids_words + ring_words].into_boxed_slice();
    let state = Box::into_raw(state);
    let base = state.cast::<u64>();
    // SAFETY: all offsets are inside `state`.
    let (ep_state, rx_ids, tx_ids, ring) = unsafe {
        let ids = base.add(state_words).cast::<u32>();
        (
            base.cast::<ef_vi_state>(),
            ids,
            ids.add(rxq_size as usize),
            base.add(state_words + ids_words).cast::<c_char>(),
        )
    };
    let merge = flag(flags, ef_vi_flags_EF_VI_RX_EVENT_MERGE);
    let prefix = if rx
        && flags
            & (ef_vi_flags_EF_VI_RX_TIMESTAMPS
                | ef_vi_flags_EF_VI_RX_EVENT_MERGE
                | ef_vi_flags_EF_VI_RX_FILTER_ID)
            != 0
    {
        PREFIX_LEN
    } else {
        0
    };
    let mut layout = vec![ef_vi_layout_entry {
        evle_type: ef_vi_layout_type_EF_VI_LAYOUT_FRAME,
        evle_offset: prefix as c_int,
        evle_description: LAYOUT_FRAME.as_ptr(),
    }];
    if prefix > 0 {
        layout.push(ef_vi_layout_entry {
            evle_type: ef_vi_layout_type_EF_VI_LAYOUT_PACKET_LENGTH,
            evle_offset: PFX_LEN_OFF as c_int,
            evle_description: LAYOUT_LEN.as_ptr(),
        });
        if flag(flags, ef_vi_flags_EF_VI_RX_FILTER_ID) {
            layout.push(ef_vi_layout_entry {
                evle_type: ef_vi_layout_type_EF_VI_LAYOUT_FILTER_ID,
                evle_offset: PFX_FILTER_OFF as c_int,
                evle_description: LAYOUT_FILTER.as_ptr(),
            });
        }
    }
    let mut rx_buf = vec![0u8; MAX_FRAME + 8];
    rx_buf.shrink_to_fit();
    let sv = Box::new(SoftVi {
        shared: shared.clone(),
        vi,
        state_mem: state,
        rx_desc: vec![0u64; rxq_size as usize].into_boxed_slice(),
        tx_desc: vec![TxDesc::default(); txq_size as usize].into_boxed_slice(),
        rxq_size,
        txq_size,
        q_label,
        rx_hw: 0,
        tx_done: 0,
        tx_evented: 0,
        tx_error: false,
        flushed: false,
        warming: false,
        ctpio_sent: false,
        tx_ev_start: 0,
        view: TableView::default(),
        rx_buf: if rx { rx_buf } else { Vec::new() },
        tx_buf: Vec::with_capacity(if txq_size > 0 { 2048 } else { 0 }),
        prefix,
        flags,
        layout: layout.into_boxed_slice(),
    });
    let rx_desc_ptr = sv.rx_desc.as_ptr() as *mut c_void;
    let tx_desc_ptr = sv.tx_desc.as_ptr() as *mut c_void;

    // SAFETY: `vi` is writable (caller); every pointer stored points into memory owned by
    // the boxed SoftVi, which lives until ef_vi_free.
    unsafe {
        core::ptr::write_bytes(vi, 0, 1);
        let v = &mut *vi;
        v.inited = 0x3f;
        v.vi_resource_id = id;
        v.vi_i = id;
        v.dh = vi_dh;
        v.rx_buffer_len = RX_BUFFER_LEN;
        v.rx_prefix_len = prefix as c_uint;
        v.rx_discard_mask = u64::from(
            ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L4_CSUM_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_L3_CSUM_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_FCS_ERR
                | ef_vi_rx_discard_err_flags_EF_VI_DISCARD_RX_ETH_LEN_ERR,
        );
        if prefix > 0 {
            v.rx_pkt_len_offset = PFX_LEN_OFF as c_uint;
            v.rx_pkt_len_mask = 0xffff;
        }
        v.ts_format = ef_timestamp_format_TS_FORMAT_SECONDS_QTR_NANOSECONDS;
        v.ep_state_bytes =
            (core::mem::size_of::<ef_vi_state>() + 4 * (rxq_size + txq_size) as usize) as c_int;
        v.vi_is_normal = c_int::from(!merge);
        v.vi_ps_buf_size = 1024 * 1024;
        if evq_size > 0 {
            v.evq_base = ring;
            v.evq_mask = evq_size * 8 - 1;
        }
        v.tx_push_thresh = if flag(flags, ef_vi_flags_EF_VI_TX_PUSH_DISABLE) {
            0
        } else if flag(flags, ef_vi_flags_EF_VI_TX_PUSH_ALWAYS) {
            c_uint::MAX
        } else {
            16
        };
        v.vi_txq.mask = txq_size.saturating_sub(1);
        v.vi_txq.ct_fifo_bytes = i32::MAX as u32;
        v.vi_txq.descriptors = tx_desc_ptr;
        v.vi_txq.ids = if txq_size > 0 {
            tx_ids
        } else {
            core::ptr::null_mut()
        };
        v.vi_rxq.mask = rxq_size.saturating_sub(1);
        v.vi_rxq.descriptors = rx_desc_ptr;
        v.vi_rxq.ids = if rxq_size > 0 {
            rx_ids
        } else {
            core::ptr::null_mut()
        };
        v.ep_state = ep_state;
        v.vi_flags = flags;
        if flags & (ef_vi_flags_EF_VI_RX_TIMESTAMPS | ef_vi_flags_EF_VI_TX_TIMESTAMPS) != 0 {
            v.vi_out_flags = ef_vi_out_flags_EF_VI_OUT_CLOCK_SYNC_STATUS;
        }
        v.nic_type = ef_vi_nic_type {
            arch: ef_vi_arch_EF_VI_ARCH_EF10 as u8,
            variant: b'S' as c_char,
            revision: 0,
            nic_flags: 0,
        };
        v.evq_vi = evq_owner;
        if evq_opt.is_null() {
            v.vi_qs[0] = vi;
            v.vi_qs_n = 1;
        } else {
            (*evq_opt).vi_qs[q_label as usize] = vi;
            (*evq_opt).vi_qs_n += 1;
        }
        v.ops = ops_table();
        let st = &mut *ep_state;
        st.evq.sync_flags = SYNC_FLAGS;
        st.evq.sync_timestamp_synchronised = 1;
        for i in 0..rxq_size as usize {
            *rx_ids.add(i) = EF_REQUEST_ID_MASK;
        }
        for i in 0..txq_size as usize {
            *tx_ids.add(i) = EF_REQUEST_ID_MASK;
        }
        v.xdp_kick_context = Box::into_raw(sv).cast();
    }
    {
        let mut reg = registry();
        reg.vis.insert(id, shared.clone());
    }
    if let (Some((s, _)), Some(hold)) = (&place, hold) {
        hold.fill(id);
        if rx {
            for e in pd.table.owned(Owner::Set(s.id)) {
                apply_memberships(&[sock], pd.ifindex, &e.matcher, true);
            }
        }
    }
    q_label as c_int
}

/// Allocates a VI from a protection domain. Returns the queue label (q_id) on success.
///
/// # Safety
///
/// `vi` must be writable memory that does not move until `ef_vi_free()`; `pd` an allocated
/// domain; `evq_opt` null or a VI of this backend with an event queue.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_alloc_from_pd(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _pd_dh: ef_driver_handle,
    evq_capacity: c_int,
    rxq_capacity: c_int,
    txq_capacity: c_int,
    evq_opt: *mut ef_vi,
    _evq_dh: ef_driver_handle,
    flags: ef_vi_flags,
) -> c_int {
    let pd = match driver::pd_of(pd) {
        Ok(p) => p,
        Err(e) => return e,
    };
    // SAFETY: forwarded guarantees.
    unsafe {
        alloc_vi(
            vi,
            vi_dh,
            pd,
            None,
            evq_capacity,
            rxq_capacity,
            txq_capacity,
            evq_opt,
            flags,
        )
    }
}

/// Allocates a VI as member `index_in_vi_set` (or any free one for -1) of a VI set.
///
/// # Safety
///
/// As [`ef_vi_alloc_from_pd`], with `vi_set` an allocated set.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_alloc_from_set(
    vi: *mut ef_vi,
    vi_dh: ef_driver_handle,
    vi_set: *mut ef_vi_set,
    _vi_set_dh: ef_driver_handle,
    index_in_vi_set: c_int,
    evq_capacity: c_int,
    rxq_capacity: c_int,
    txq_capacity: c_int,
    evq_opt: *mut ef_vi,
    _evq_dh: ef_driver_handle,
    flags: ef_vi_flags,
) -> c_int {
    let set = match driver::set_of(vi_set) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let pd = set.pd.clone();
    // SAFETY: forwarded guarantees.
    unsafe {
        alloc_vi(
            vi,
            vi_dh,
            pd,
            Some((set, index_in_vi_set)),
            evq_capacity,
            rxq_capacity,
            txq_capacity,
            evq_opt,
            flags,
        )
    }
}

/// Frees a VI: its filters, socket and state. Free VIs that use another VI's event queue
/// before that VI.
///
/// # Safety
///
/// `vi` must be a VI allocated by this backend and not yet freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_free(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the caller guarantees a live VI of this backend.
    let p = unsafe { (*vi).xdp_kick_context }.cast::<SoftVi>();
    if p.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the context is the Box made in alloc_vi; taking it back ends the VI.
    let sv = unsafe { Box::from_raw(p) };
    // SAFETY: as above.
    unsafe {
        (*vi).xdp_kick_context = core::ptr::null_mut();
        let evq = (*vi).evq_vi;
        if !evq.is_null() && evq != vi {
            let n = (*evq).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
            for i in 0..n {
                if (*evq).vi_qs[i] == vi {
                    (*evq).vi_qs[i] = core::ptr::null_mut();
                }
            }
        }
    }
    let id = sv.shared.id;
    // A PIO region still linked is released with the VI.
    // SAFETY: `vi` is live until this function returns; a linked region is valid.
    let pio = unsafe { (*vi).linked_pio };
    if !pio.is_null() {
        // SAFETY: as above.
        let buf = unsafe { (*pio).pio_buffer };
        if let Some(rec) = registry().pios.get_mut(&(buf as usize)) {
            rec.1 = None;
        }
        // SAFETY: as above.
        unsafe { (*vi).linked_pio = core::ptr::null_mut() };
    }
    sv.shared.pd.table.remove_owner(Owner::Vi(id));
    if let Some((s, p)) = &sv.shared.set {
        lock(&s.members)[p.index as usize] = None;
    }
    registry().vis.remove(&id);
    drop(sv);
    0
}

/// Stops the VI: buffers it holds may be reused once this returns (nothing is received into
/// them or sent from them afterwards).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_flush(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    // SAFETY: guaranteed by the caller.
    match unsafe { ctx(vi) } {
        Some(sv) => {
            sv.tx_process();
            sv.flushed = true;
            0
        }
        None => -libc::EINVAL,
    }
}

/// Pacing needs adapter support: not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_pace(_vi: *mut ef_vi, _dh: ef_driver_handle, _val: c_int) -> c_int {
    -libc::EOPNOTSUPP
}

/// The largest frame the interface carries: its MTU plus the Ethernet and VLAN headers
/// (0 on error).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_mtu(vi: *mut ef_vi, _dh: ef_driver_handle) -> c_uint {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return 0;
    };
    match if_ioctl(sv.shared.sock, &sv.shared.pd.ifname, libc::SIOCGIFMTU as _) {
        Ok(d) => c_int::from_ne_bytes([d[0], d[1], d[2], d[3]]) as c_uint + 18,
        Err(_) => 0,
    }
}

/// The MAC address of the VI's interface.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `mac_out` writable for 6 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_get_mac(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    mac_out: *mut c_void,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if mac_out.is_null() {
        return -libc::EINVAL;
    }
    match if_ioctl(
        sv.shared.sock,
        &sv.shared.pd.ifname,
        libc::SIOCGIFHWADDR as _,
    ) {
        Ok(d) => {
            // SAFETY: `mac_out` is writable for 6 bytes.
            unsafe { core::ptr::copy_nonoverlapping(d[2..8].as_ptr(), mac_out.cast::<u8>(), 6) };
            0
        }
        Err(e) => e,
    }
}

/// Arms the VI's event queue and adds its descriptors to the epoll set `dh`, so that
/// `poll()`/`epoll_wait()` on `dh` reports it readable while events are waiting.
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_prime(
    vi: *mut ef_vi,
    dh: ef_driver_handle,
    _current_ptr: c_uint,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    if unsafe { ctx(vi) }.is_none() {
        return -libc::EINVAL;
    }
    // SAFETY: as above.
    unsafe { arm(vi, dh) }
}

/// Blocks until the event queue of `vi` has an event, or the timeout (NULL or zero: none)
/// passes (`-ETIMEDOUT`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend owning an event queue; `timeout` null or readable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_eventq_wait(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    _current_ptr: c_uint,
    timeout: *const timeval,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(q) = (unsafe { evq_of(vi) }) else {
        return -libc::EINVAL;
    };
    let deadline = if timeout.is_null() {
        None
    } else {
        // SAFETY: readable per the caller.
        let t = unsafe { *timeout };
        let d = Duration::from_secs(t.tv_sec.max(0) as u64)
            + Duration::from_micros(t.tv_usec.max(0) as u64);
        (!d.is_zero()).then(|| Instant::now() + d)
    };
    loop {
        // SAFETY: as above.
        unsafe { pump_all(vi, 1) };
        let wake_fd = {
            let q = lock(&q);
            if !q.events.is_empty() {
                return 0;
            }
            q.wake_fd
        };
        let mut fds = vec![libc::pollfd {
            fd: wake_fd,
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: as above.
        unsafe {
            let nq = (*vi).vi_qs_n.clamp(0, EF_VI_MAX_QS as c_int) as usize;
            for i in 0..nq {
                if let Some(sv) = ctx((*vi).vi_qs[i]) {
                    if sv.shared.rx && sv.rxq_size > 0 {
                        fds.push(libc::pollfd {
                            fd: sv.shared.sock,
                            events: libc::POLLIN,
                            revents: 0,
                        });
                    }
                }
            }
        }
        // Wake up at least every 100 ms to retry transmits the socket had no room for.
        let mut ms = 100;
        if let Some(d) = deadline {
            let left = d.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return -libc::ETIMEDOUT;
            }
            ms = ms.min(left.as_millis().max(1) as c_int);
        }
        // SAFETY: `fds` is a valid array.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
    }
}

/// The number of events the event queue holds.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_eventq_capacity(vi: *mut ef_vi) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let (mask, stride) = unsafe { ((*vi).evq_mask, (*(*vi).ep_state).evq.evq_clear_stride) };
    if mask == 0 {
        return 0;
    }
    (mask / 8) as c_int - 1 + stride
}

/// Posts one RX buffer and pushes it (`ef_vi_receive_init()` + `ef_vi_receive_push()`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend; `addr` a DMA address of registered memory with
/// room for `ef_vi_receive_buffer_len()` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_post(
    vi: *mut ef_vi,
    addr: ef_addr,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe {
        let rc = op_receive_init(vi, addr, dma_id);
        if rc == 0 {
            op_receive_push(vi);
        }
        rc
    }
}

/// Deprecated form of `ef_vi_receive_get_precise_timestamp()`.
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet just received on `vi`; `ts_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_timestamp(
    vi: *mut ef_vi,
    pkt: *const c_void,
    ts_out: *mut timespec,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe { ef_vi_receive_get_timestamp_with_sync_flags(vi, pkt, ts_out, core::ptr::null_mut()) }
}

/// The (software) receive timestamp of a packet and the clock sync flags.
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet just received on `vi`; the outputs writable
/// (`flags_out` may be null).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_timestamp_with_sync_flags(
    vi: *mut ef_vi,
    pkt: *const c_void,
    ts_out: *mut timespec,
    flags_out: *mut c_uint,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let r = unsafe { prefix_ts(vi, pkt) };
    let (sec, nsec, rc) = match r {
        Ok((s, n)) => (s, n, 0),
        Err(e) => (0, 0, e),
    };
    // SAFETY: the outputs are writable when not null.
    unsafe {
        if !ts_out.is_null() {
            (*ts_out).tv_sec = sec as _;
            (*ts_out).tv_nsec = nsec as _;
        }
        if !flags_out.is_null() {
            *flags_out = if rc == 0 { SYNC_FLAGS } else { 0 };
        }
    }
    rc
}

/// The length of a packet received in event-merge mode (from its prefix).
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet received on `vi`; `bytes_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_bytes(
    vi: *mut ef_vi,
    pkt: *const c_void,
    bytes_out: *mut u16,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.prefix == 0 || pkt.is_null() || bytes_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the buffer starts with the prefix; `bytes_out` is writable.
    unsafe {
        let p = pkt.cast::<u8>().add(PFX_LEN_OFF);
        *bytes_out = u16::from_le_bytes([*p, *p.add(1)]);
    }
    0
}

/// User marks need SN1000-class adapters: not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_user_data(
    _vi: *mut ef_vi,
    _pkt: *const c_void,
    _user_mark: *mut u32,
    _user_flag: *mut u8,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// The `EF_VI_DISCARD_RX_*` errors found in a received packet (from its prefix).
///
/// # Safety
///
/// `pkt` must be the first buffer of a packet received on `vi`; `flags_out` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_get_discard_flags(
    vi: *mut ef_vi,
    pkt: *const c_void,
    flags_out: *mut c_uint,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.prefix == 0 || pkt.is_null() || flags_out.is_null() {
        return -libc::EOPNOTSUPP;
    }
    // SAFETY: the buffer starts with the prefix; `flags_out` is writable.
    unsafe {
        let p = pkt.cast::<u8>().add(PFX_FLAGS_OFF);
        *flags_out = c_uint::from(u16::from_le_bytes([*p, *p.add(1)]));
    }
    0
}

/// Unbundles an `EF_EVENT_TYPE_RX_MULTI(_DISCARD)` event: the ids of its buffers, in order.
///
/// # Safety
///
/// `vi` must be the VI that received the event, `ev` readable, `ids` writable for
/// `EF_VI_RECEIVE_BATCH` ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_unbundle(
    vi: *mut ef_vi,
    ev: *const ef_event,
    ids: *mut ef_request_id,
) -> c_int {
    // SAFETY: forwarded guarantees.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if ev.is_null() || ids.is_null() || sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `ev` is a readable, initialised event.
    let (ty, n) = unsafe { ((*ev).generic.type_(), (*ev).rx_multi.n_descs()) };
    if ty != EF_EVENT_TYPE_RX_MULTI && ty != EF_EVENT_TYPE_RX_MULTI_DISCARD {
        return -libc::EINVAL;
    }
    let n = n.min(RX_BATCH);
    let mask = sv.rxq_size - 1;
    for i in 0..n as usize {
        let slot = (sv.state().rxq.removed & mask) as usize;
        let id = sv.rx_ids()[slot];
        sv.rx_ids()[slot] = EF_REQUEST_ID_MASK;
        let st = sv.state();
        st.rxq.removed = st.rxq.removed.wrapping_add(1);
        // SAFETY: `ids` has room for EF_VI_RECEIVE_BATCH ids.
        unsafe { ids.add(i).write(id as ef_request_id) };
    }
    n as c_int
}

/// The id of the next RX descriptor to complete.
///
/// # Safety
///
/// `vi` must be a live VI of this backend with an RX ring.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_rxq_next_desc_id(vi: *mut ef_vi) -> ef_request_id {
    // SAFETY: guaranteed by the caller.
    match unsafe { ctx(vi) } {
        Some(sv) if sv.rxq_size > 0 => {
            let slot = (sv.state().rxq.removed & (sv.rxq_size - 1)) as usize;
            sv.rx_ids()[slot] as ef_request_id
        }
        _ => EF_REQUEST_ID_MASK as ef_request_id,
    }
}

/// The layout of the receive prefix: where the frame and the metadata are.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; the outputs writable. The layout stays valid until
/// the VI is freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_receive_query_layout(
    vi: *mut ef_vi,
    layout_out: *mut *const ef_vi_layout_entry,
    len_out: *mut c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if layout_out.is_null() || len_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: the outputs are writable.
    unsafe {
        *layout_out = sv.layout.as_ptr();
        *len_out = sv.layout.len() as c_int;
    }
    0
}

/// Initialises one TX descriptor for a single buffer.
///
/// # Safety
///
/// `vi` must be a live VI of this backend; the buffer must stay valid until completed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_init(
    vi: *mut ef_vi,
    addr: ef_addr,
    bytes: c_int,
    dma_id: ef_request_id,
) -> c_int {
    let iov = [ef_iovec {
        iov_base: addr,
        iov_len: bytes.max(0) as c_uint,
    }];
    // SAFETY: guaranteed by the caller.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmitv_init(&iov, dma_id))
}

/// Deprecated transmit with extra options: only local buffers without options are
/// supported here (`-EOPNOTSUPP` otherwise).
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `iov` readable for `iov_len` entries.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmitv_init_extra(
    vi: *mut ef_vi,
    extra: *const ef_vi_tx_extra,
    iov: *const ef_remote_iovec,
    iov_len: c_int,
    dma_id: ef_request_id,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let riov = unsafe { slice(iov, iov_len) };
    // SAFETY: `extra` is readable when not null.
    if !extra.is_null() && unsafe { (*extra).flags } != 0 {
        return -libc::EOPNOTSUPP;
    }
    let mut v = Vec::with_capacity(riov.len());
    for r in riov {
        if r.addrspace != u64::MAX || r.flags != 0 {
            return -libc::EOPNOTSUPP;
        }
        v.push(ef_iovec {
            iov_base: r.iov_base,
            iov_len: r.iov_len,
        });
    }
    // SAFETY: as above.
    unsafe { ctx(vi) }.map_or(-libc::EINVAL, |sv| sv.transmitv_init(&v, dma_id))
}

/// Removes the TX descriptors initialised but not pushed yet.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_init_undo(vi: *mut ef_vi) {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return;
    };
    if sv.txq_size == 0 {
        return;
    }
    let mask = sv.txq_size - 1;
    let st = sv.state().txq;
    let mut i = st.previous;
    while i != st.added {
        sv.tx_ids()[(i & mask) as usize] = EF_REQUEST_ID_MASK;
        i = i.wrapping_add(1);
    }
    sv.state().txq.added = st.previous;
}

/// Unbundles an `EF_EVENT_TYPE_TX` event: the ids of the transmits it completes (at most
/// `EF_VI_TRANSMIT_BATCH`), whose buffers may be reused now.
///
/// # Safety
///
/// `vi` must own the TX ring the event is for (see `ef_vi_get_vi_from_q_id()`), `ev` be
/// readable and `ids` writable for `EF_VI_TRANSMIT_BATCH` ids.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_unbundle(
    vi: *mut ef_vi,
    ev: *const ef_event,
    ids: *mut ef_request_id,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if ev.is_null() || ids.is_null() || sv.txq_size == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: `ev` is a readable, initialised event.
    let (ty, desc_id) = unsafe { ((*ev).generic.type_(), (*ev).tx.desc_id()) };
    if ty != EF_EVENT_TYPE_TX {
        return 0;
    }
    let mask = sv.txq_size - 1;
    let stop = desc_id.wrapping_add(1) & mask;
    let mut n = 0usize;
    for _ in 0..=mask {
        let removed = sv.state().txq.removed;
        if removed & mask == stop || removed == sv.tx_evented {
            break;
        }
        let slot = (removed & mask) as usize;
        let id = sv.tx_ids()[slot];
        if id != EF_REQUEST_ID_MASK && n < TX_BATCH as usize {
            // SAFETY: `ids` has room for EF_VI_TRANSMIT_BATCH ids.
            unsafe { ids.add(n).write(id as ef_request_id) };
            n += 1;
        }
        sv.tx_ids()[slot] = EF_REQUEST_ID_MASK;
        sv.state().txq.removed = removed.wrapping_add(1);
    }
    n as c_int
}

/// Makes the TX ring usable again after an `EF_EVENT_TYPE_TX_ERROR` (after the failed
/// transmits were walked with `ef_vi_for_each_tx_error_failed_transmit`).
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn __ef_vi_reinit_txq_post_error(vi: *mut ef_vi) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if sv.txq_size == 0 {
        return -libc::EINVAL;
    }
    let mask = sv.txq_size - 1;
    let st = sv.state().txq;
    let mut i = st.removed;
    while i != st.added {
        sv.tx_ids()[(i & mask) as usize] = EF_REQUEST_ID_MASK;
        i = i.wrapping_add(1);
    }
    let st = sv.state();
    st.txq.removed = st.txq.added;
    st.txq.previous = st.txq.added;
    let added = st.txq.added;
    sv.tx_done = added;
    sv.tx_evented = added;
    sv.tx_ev_start = added;
    sv.tx_error = false;
    0
}

/// TX alternatives are not available (`EF_VI_CAP_TX_ALTERNATIVES` is 0): 0 ids.
///
/// # Safety
///
/// None: the argument is not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_num_ids(_vi: *mut ef_vi) -> c_uint {
    0
}

/// TX alternatives are not available: `-EINVAL` (no VI has `EF_VI_TX_ALT`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_query_overhead(
    _vi: *mut ef_vi,
    _out: *mut ef_vi_transmit_alt_overhead,
) -> c_int {
    -libc::EINVAL
}

/// TX alternatives are not available: `-EINVAL` (no VI has `EF_VI_TX_ALT`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_alloc(
    _vi: *mut ef_vi,
    _dh: ef_driver_handle,
    _n: c_int,
    _space: usize,
) -> c_int {
    -libc::EINVAL
}

/// TX alternatives are not available: `-EINVAL`.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_free(_vi: *mut ef_vi, _dh: ef_driver_handle) -> c_int {
    -libc::EINVAL
}

/// TX alternatives are not available: `-EINVAL`.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_transmit_alt_query_buffering(
    _vi: *mut ef_vi,
    _ifindex: c_int,
    _dh: ef_driver_handle,
    _n_alts: c_int,
) -> c_int {
    -libc::EINVAL
}

/// Sets the number of descriptors below which descriptors are pushed rather than rung.
///
/// # Safety
///
/// `vi` must be a live VI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_set_tx_push_threshold(vi: *mut ef_vi, threshold: c_uint) {
    if !vi.is_null() {
        // SAFETY: guaranteed by the caller.
        unsafe { (*vi).tx_push_thresh = threshold };
    }
}

/// Packed-stream mode is not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_packed_stream_get_params(
    _vi: *mut ef_vi,
    _p: *mut ef_packed_stream_params,
) -> c_int {
    -libc::EOPNOTSUPP
}

/// Packed-stream mode is not supported (`-EOPNOTSUPP`).
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_packed_stream_unbundle(
    _vi: *mut ef_vi,
    _ev: *const ef_event,
    _pkt_iter: *mut *mut ef_packed_stream_packet,
    _n_pkts_out: *mut c_int,
    _n_bytes_out: *mut c_int,
) -> c_int {
    -libc::EOPNOTSUPP
}

// ---------------------------------------------------------------------- filters on VIs

/// Adds a filter steering matching frames to `vi`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `fs` an initialised spec, `cookie` null or
/// writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_add(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    fs: *const ef_filter_spec,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if fs.is_null() {
        return -libc::EINVAL;
    }
    if sv.rxq_size == 0 {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller.
    let fs = unsafe { &*fs };
    let m = match Matcher::from_spec(fs) {
        Ok(m) => m,
        Err(e) => return e,
    };
    match sv
        .shared
        .pd
        .table
        .insert(Owner::Vi(sv.shared.id), m, fs.flags, fs.type_)
    {
        Ok(e) => {
            apply_memberships(&[sv.shared.sock], sv.shared.pd.ifindex, &e.matcher, true);
            filter::fill_cookie(cookie, &e);
            narrow_socket(&sv.shared);
            0
        }
        Err(e) => e,
    }
}

/// Removes a filter from `vi`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `cookie` a cookie from [`ef_vi_filter_add`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_del(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    cookie: *mut ef_filter_cookie,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if cookie.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let c = unsafe { *cookie };
    match sv.shared.pd.table.remove(
        Owner::Vi(sv.shared.id),
        c.filter_id,
        c.filter_type as c_uint,
    ) {
        Ok(e) => {
            apply_memberships(&[sv.shared.sock], sv.shared.pd.ifindex, &e.matcher, false);
            narrow_socket(&sv.shared);
            0
        }
        Err(e) => e,
    }
}

/// Describes an installed filter: its id and the RX queue (the VI's instance) it feeds.
///
/// # Safety
///
/// `vi` must be a live VI of this backend, `cookie` readable and `info` writable for
/// `info_len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_filter_query(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    cookie: *const ef_filter_cookie,
    info: *mut ef_filter_info,
    info_len: usize,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if cookie.is_null() || info.is_null() || info_len < core::mem::size_of::<ef_filter_info>() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let c = unsafe { *cookie };
    let t = &sv.shared.pd.table;
    let found = t
        .find(
            Owner::Vi(sv.shared.id),
            c.filter_id,
            c.filter_type as c_uint,
        )
        .or_else(|| {
            sv.shared
                .set
                .as_ref()
                .and_then(|(s, _)| t.find(Owner::Set(s.id), c.filter_id, c.filter_type as c_uint))
        });
    let Some(e) = found else {
        return -libc::ENOENT;
    };
    // SAFETY: writable per the caller.
    unsafe {
        info.write(ef_filter_info {
            valid_fields: u64::from(
                ef_filter_info_fields_EF_FILTER_FIELD_ID
                    | ef_filter_info_fields_EF_FILTER_FIELD_QUEUE,
            ),
            flags: 0,
            filter_id: e.id as c_uint,
            q_id: sv.shared.id as c_uint,
        });
    }
    0
}

// ---------------------------------------------------------------------- statistics

/// `ef_vi_stats_layout` with its fields.
#[repr(C)]
struct StatsLayout {
    data_size: c_int,
    fields_num: c_int,
    fields: [ef_vi_stats_field_layout; 6],
}

/// The layout holds pointers to static strings only.
struct SyncLayout(StatsLayout);
// SAFETY: the layout is immutable and points to static, immutable strings.
unsafe impl Sync for SyncLayout {}

const fn field(name: &'static core::ffi::CStr, i: c_int) -> ef_vi_stats_field_layout {
    ef_vi_stats_field_layout {
        evsfl_name: name.as_ptr().cast_mut(),
        evsfl_offset: 4 * i,
        evsfl_size: 4,
    }
}

static STATS_LAYOUT: SyncLayout = SyncLayout(StatsLayout {
    data_size: 24,
    fields_num: 6,
    fields: [
        field(c"rx_frames", 0),
        field(c"rx_nodesc_drops", 1),
        field(c"rx_trunc", 2),
        field(c"rx_csum_errors", 3),
        field(c"tx_frames", 4),
        field(c"tx_drops", 5),
    ],
});

/// The layout of the statistics `ef_vi_stats_query()` returns (six 32-bit counters).
///
/// # Safety
///
/// `layout_out` must be writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_stats_query_layout(
    _vi: *mut ef_vi,
    layout_out: *mut *const ef_vi_stats_layout,
) -> c_int {
    if layout_out.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: writable per the caller.
    unsafe { *layout_out = (&STATS_LAYOUT.0 as *const StatsLayout).cast() };
    0
}

/// Copies the VI's counters into `data` (24 bytes), resetting them if `do_reset`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend and `data` writable for 24 bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_stats_query(
    vi: *mut ef_vi,
    _dh: ef_driver_handle,
    data: *mut c_void,
    do_reset: c_int,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if data.is_null() {
        return -libc::EINVAL;
    }
    let s = &sv.shared.stats;
    let all = [
        &s.rx_frames,
        &s.rx_nodesc_drops,
        &s.rx_trunc,
        &s.rx_csum_errors,
        &s.tx_frames,
        &s.tx_drops,
    ];
    for (i, c) in all.iter().enumerate() {
        let v = if do_reset != 0 {
            c.swap(0, Ordering::Relaxed)
        } else {
            c.load(Ordering::Relaxed)
        };
        // SAFETY: `data` has room for six u32 values.
        unsafe {
            data.cast::<u8>()
                .add(4 * i)
                .cast::<u32>()
                .write_unaligned(v)
        };
    }
    0
}

// ---------------------------------------------------------------------- PIO

/// Allocates a PIO region (2048 bytes, host memory here).
///
/// # Safety
///
/// `pio` must be writable and `pd` an allocated domain.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_alloc(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    pd: *mut ef_pd,
    _len_hint: c_uint,
    _pd_dh: ef_driver_handle,
) -> c_int {
    if pio.is_null() {
        return -libc::EINVAL;
    }
    if let Err(e) = driver::pd_of(pd) {
        return e;
    }
    let buf = Box::into_raw(vec![0u8; PIO_SIZE].into_boxed_slice()).cast::<u8>();
    let mut reg = registry();
    let id = reg.new_id();
    reg.pios.insert(buf as usize, (PIO_SIZE, None));
    // SAFETY: writable per the caller.
    unsafe {
        pio.write(ef_pio {
            pio_buffer: buf,
            pio_io: buf,
            pio_resource_id: id,
            pio_len: PIO_SIZE as c_uint,
        });
    }
    0
}

/// Frees a PIO region (`-EBUSY` while linked to a VI).
///
/// # Safety
///
/// `pio` must be a region allocated by [`ef_pio_alloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_free(pio: *mut ef_pio, _dh: ef_driver_handle) -> c_int {
    if pio.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    let mut reg = registry();
    match reg.pios.get(&(buf as usize)) {
        None => return -libc::EINVAL,
        Some((_, Some(_))) => return -libc::EBUSY,
        Some(_) => {}
    }
    let (len, _) = reg.pios.remove(&(buf as usize)).unwrap_or((PIO_SIZE, None));
    // SAFETY: `buf` came from Box::into_raw of a boxed slice of `len` bytes.
    drop(unsafe { Box::from_raw(core::ptr::slice_from_raw_parts_mut(buf, len)) });
    // SAFETY: writable per the caller.
    unsafe {
        (*pio).pio_buffer = core::ptr::null_mut();
        (*pio).pio_io = core::ptr::null_mut();
    }
    0
}

/// Links a PIO region to a VI (one region per VI, one VI per region).
///
/// # Safety
///
/// `pio` must be an allocated region and `vi` a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_link_vi(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    vi: *mut ef_vi,
    _vi_dh: ef_driver_handle,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    if pio.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    let mut reg = registry();
    let Some(rec) = reg.pios.get_mut(&(buf as usize)) else {
        return -libc::EINVAL;
    };
    // SAFETY: sv.vi is live.
    if rec.1.is_some() || !unsafe { (*sv.vi).linked_pio }.is_null() {
        return -libc::EBUSY;
    }
    rec.1 = Some(sv.shared.id);
    // SAFETY: as above.
    unsafe { (*sv.vi).linked_pio = pio };
    0
}

/// Unlinks a PIO region from a VI.
///
/// # Safety
///
/// `pio` must be an allocated region linked to `vi`, a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_unlink_vi(
    pio: *mut ef_pio,
    _pio_dh: ef_driver_handle,
    vi: *mut ef_vi,
    _vi_dh: ef_driver_handle,
) -> c_int {
    // SAFETY: guaranteed by the caller.
    let Some(sv) = (unsafe { ctx(vi) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: sv.vi is live.
    if pio.is_null() || unsafe { (*sv.vi).linked_pio } != pio {
        return -libc::EINVAL;
    }
    // SAFETY: readable per the caller.
    let buf = unsafe { (*pio).pio_buffer };
    if let Some(rec) = registry().pios.get_mut(&(buf as usize)) {
        rec.1 = None;
    }
    // SAFETY: as above.
    unsafe { (*sv.vi).linked_pio = core::ptr::null_mut() };
    0
}

/// The size of the PIO region linked to `vi` (0 when none).
///
/// # Safety
///
/// `vi` must be a live VI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_vi_get_pio_size(vi: *mut ef_vi) -> c_int {
    if vi.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: guaranteed by the caller; a linked region is valid until unlinked.
    unsafe {
        let p = (*vi).linked_pio;
        if p.is_null() {
            0
        } else {
            (*p).pio_len as c_int
        }
    }
}

/// Copies `len` bytes from `base` into the VI's PIO region at `offset`.
///
/// # Safety
///
/// `vi` must be a live VI with a linked region and `base` readable for `len` bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ef_pio_memcpy(
    vi: *mut ef_vi,
    base: *const c_void,
    offset: c_int,
    len: c_int,
) -> c_int {
    // SAFETY: forwarded guarantees.
    unsafe { pio_copy(vi, offset, base, len) }
}

// ---------------------------------------------------------------------- EFCT (X3) entry points

/// EFCT receive is not used by this backend (no `EF_EVENT_TYPE_RX_REF` events): NULL.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rxpkt_get(_vi: *mut ef_vi, _pkt_id: u32) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: nothing to release.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rxpkt_release(_vi: *mut ef_vi, _pkt_id: u32) {}

/// EFCT receive is not used by this backend: no packet is ever in the future (NULL).
///
/// # Safety
///
/// None: the argument is not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rx_future_peek(_vi: *mut ef_vi) -> *const c_void {
    core::ptr::null()
}

/// EFCT receive is not used by this backend: no events.
///
/// # Safety
///
/// None: the arguments are not used.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_rx_future_poll(
    _vi: *mut ef_vi,
    _evs: *mut ef_event,
    _n: c_int,
) -> c_int {
    0
}

/// Deprecated EFCT warming: same as `ef_vi_start_transmit_warm(vi, NULL, NULL)`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_start_transmit_warm(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantees.
    unsafe { op_start_transmit_warm(vi, core::ptr::null_mut(), core::ptr::null_mut()) };
}

/// Deprecated EFCT warming: same as `ef_vi_stop_transmit_warm(vi, NULL)`.
///
/// # Safety
///
/// `vi` must be a live VI of this backend.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn efct_vi_stop_transmit_warm(vi: *mut ef_vi) {
    // SAFETY: forwarded guarantees.
    unsafe { op_stop_transmit_warm(vi, core::ptr::null_mut()) };
}
