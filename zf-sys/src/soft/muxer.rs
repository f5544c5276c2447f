//! The multiplexer (`zf_muxer_*`), waitables and the stack's waitable file descriptor.

use std::os::raw::c_int;

use super::stack::{EPOLLSTACKHUP, Kind, Stack, Waitable, process, stack_mut};
use super::tcp::{Listen, Tcp};
use super::udp::{self, UdpRx, UdpTx};
use super::util;

/// `ZF_EPOLLIN_OVERLAPPED`, as the muxer's event bits hold it.
const IN_OVERLAPPED: u32 = crate::ZF_EPOLLIN_OVERLAPPED;
const EPOLLIN: u32 = libc::EPOLLIN as u32;

/// The object behind `struct zf_muxer_set*`. `stack` outlives it; `members` are live
/// waitables of that stack, each of which points back here.
#[derive(Debug)]
pub(crate) struct Muxer {
    stack: *mut Stack,
    members: Vec<*mut Waitable>,
    /// zf_muxer_free was called; memory goes once the last member leaves.
    freed: bool,
    /// Some member asks for `ZF_EPOLLIN_OVERLAPPED` (kept up to date by add, mod and
    /// detach, so that a muxer without one pays nothing for overlapped receive).
    any_overlapped: bool,
    /// The member whose packet was last reported with `ZF_EPOLLIN_OVERLAPPED` and is not yet
    /// completed (`ZF_OVERLAPPED_COMPLETE`), or null. Reset (the packet abandoned, reported
    /// as plain `EPOLLIN`) by the next wait, and when the member is modified or leaves.
    overlapped: *mut Waitable,
    /// Per member, during a wait: its receive queue was empty before the reactor pass
    /// (capacity reused from wait to wait).
    was_empty: Vec<bool>,
}

impl Muxer {
    fn update_any_overlapped(&mut self) {
        self.any_overlapped = self.members.iter().any(|&wp| {
            // SAFETY: members are live waitables.
            (unsafe { (*wp).events }) & IN_OVERLAPPED != 0
        });
    }
}

/// Whether `w` is the member whose packet its muxer reported with `ZF_EPOLLIN_OVERLAPPED`
/// and which is not yet completed: the condition for `ZF_OVERLAPPED_WAIT` and
/// `ZF_OVERLAPPED_COMPLETE` to act.
fn overlapped_is(w: &Waitable) -> bool {
    let wp: *const Waitable = w;
    // SAFETY: a waitable's muxer is null or live while the waitable is a member.
    !w.muxer.is_null() && std::ptr::eq(unsafe { (*w.muxer).overlapped }, wp)
}

/// What an overlapped step of a zero-copy receive (`zft_zc_recv` / `zfur_zc_recv` with
/// `flags`) is to do, as [`overlapped_step`] decides it.
pub(crate) enum OverlappedStep {
    /// `ZF_OVERLAPPED_WAIT`: hand out the first bytes of the packet; nothing is held.
    Wait,
    /// `ZF_OVERLAPPED_COMPLETE`: the overlapped receive has ended; receive the packet as
    /// usual.
    Complete,
    /// No overlapped packet (or other flags): `iovcnt` 0, the data stays queued.
    Nothing,
}

/// Decides an overlapped step on `w` for `flags`: it acts only on the member whose packet its
/// muxer reported with `ZF_EPOLLIN_OVERLAPPED` and that still holds it alone (`holds_it`:
/// the zocket's own check, with room for an iovec in the caller's message). A completion
/// ends the overlapped receive here.
pub(crate) fn overlapped_step(w: &mut Waitable, flags: c_int, holds_it: bool) -> OverlappedStep {
    if !holds_it || !overlapped_is(w) {
        return OverlappedStep::Nothing;
    }
    if flags == crate::zf_zc_flags_ZF_OVERLAPPED_COMPLETE as c_int {
        // SAFETY: non-null (checked by overlapped_is) and live while `w` is a member.
        unsafe { (*w.muxer).overlapped = std::ptr::null_mut() };
        OverlappedStep::Complete
    } else if flags == crate::zf_zc_flags_ZF_OVERLAPPED_WAIT as c_int {
        OverlappedStep::Wait
    } else {
        OverlappedStep::Nothing
    }
}

/// Whether `w` holds exactly one packet, new since the muxer last reported it, that an
/// overlapped receive could hand out: `ZF_EPOLLIN_OVERLAPPED` asked for, nothing else queued
/// (TCPDirect reports overlapped receive only for a zocket without a backlog), nothing held
/// by a zero-copy receive.
fn overlapped_candidate(w: &Waitable) -> bool {
    if w.events & IN_OVERLAPPED == 0 || w.pending & EPOLLIN == 0 {
        return false;
    }
    // SAFETY: `owner` points to the live object of the waitable's kind (set at creation).
    unsafe {
        match w.kind {
            Kind::Tcp => (*w.owner.cast::<Tcp>()).overlapped_candidate(),
            Kind::UdpRx => udp::overlapped_candidate(&*w.owner.cast::<UdpRx>()),
            _ => false,
        }
    }
}

/// Current readiness of a waitable's object.
fn readiness(st: &Stack, w: &Waitable) -> u32 {
    // SAFETY: `owner` points to the live object of the waitable's kind (set at creation); the
    // objects are separate allocations from the waitable.
    unsafe {
        match w.kind {
            Kind::Stack => {
                if st.quiescent() {
                    EPOLLSTACKHUP
                } else {
                    0
                }
            }
            Kind::Tcp => (*w.owner.cast::<Tcp>()).readiness(),
            Kind::Listen => {
                if (*w.owner.cast::<Listen>()).acceptq.is_empty() {
                    0
                } else {
                    libc::EPOLLIN as u32
                }
            }
            Kind::UdpRx => (*w.owner.cast::<UdpRx>()).readiness(),
            Kind::UdpTx => (*w.owner.cast::<UdpTx>()).readiness(),
        }
    }
}

/// Removes `w` from its muxer (if any); frees the muxer when it was freed and is now empty.
pub(crate) fn detach(st: &mut Stack, w: &mut Waitable) {
    let mp = w.muxer;
    if mp.is_null() {
        return;
    }
    w.muxer = std::ptr::null_mut();
    let wp: *mut Waitable = w;
    // SAFETY: a waitable's muxer is live while the waitable is a member.
    let m = unsafe { &mut *mp };
    m.members.retain(|&x| x != wp);
    if m.overlapped == wp {
        m.overlapped = std::ptr::null_mut();
    }
    m.update_any_overlapped();
    if m.freed && m.members.is_empty() {
        st.muxers.retain(|&x| x != mp);
        // SAFETY: unlisted and memberless: freed exactly once.
        drop(unsafe { Box::from_raw(mp) });
    }
}

/// The muxer behind a `zf_muxer_set` pointer.
///
/// # Safety
///
/// `p` must be null or a live muxer from `zf_muxer_alloc`, with no other live reference to it
/// for `'a`.
unsafe fn muxer_mut<'a>(p: *mut crate::zf_muxer_set) -> Option<&'a mut Muxer> {
    // SAFETY: per the caller.
    unsafe { p.cast::<Muxer>().as_mut() }
}

/// The waitable behind a `zf_waitable` pointer.
///
/// # Safety
///
/// `p` must be null or a live waitable of this backend (from a `*_to_waitable` call), with no
/// other live reference to it for `'a`.
unsafe fn waitable_mut<'a>(p: *mut crate::zf_waitable) -> Option<&'a mut Waitable> {
    // SAFETY: per the caller.
    unsafe { p.cast::<Waitable>().as_mut() }
}

/// Allocates a multiplexer set for `stack`.
///
/// # Safety
///
/// * `stack` must be null or a live stack;
/// * `muxer_out` must be null or writable for one `*mut zf_muxer_set`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_alloc(
    stack: *mut crate::zf_stack,
    muxer_out: *mut *mut crate::zf_muxer_set,
) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(st) = (unsafe { stack_mut(stack) }) else {
        return -libc::EINVAL;
    };
    if muxer_out.is_null() {
        return -libc::EFAULT;
    }
    let m = Box::into_raw(Box::new(Muxer {
        stack: st,
        members: Vec::new(),
        freed: false,
        any_overlapped: false,
        overlapped: std::ptr::null_mut(),
        was_empty: Vec::new(),
    }));
    st.muxers.push(m);
    // SAFETY: non-null out pointer.
    unsafe { *muxer_out = m.cast() };
    0
}

/// Frees a multiplexer set (its memory lasts until its members are removed).
///
/// # Safety
///
/// `muxer` must be null or a live muxer; it is dead after this call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_free(muxer: *mut crate::zf_muxer_set) {
    let mp = muxer.cast::<Muxer>();
    // SAFETY: null or a live muxer, per this function's contract.
    let Some(m) = (unsafe { muxer_mut(muxer) }) else {
        return;
    };
    m.freed = true;
    if m.members.is_empty() {
        // SAFETY: a muxer's stack outlives it.
        let st = unsafe { &mut *m.stack };
        st.muxers.retain(|&x| x != mp);
        // SAFETY: unlisted and memberless: freed exactly once.
        drop(unsafe { Box::from_raw(mp) });
    }
}

/// The events and data of the caller's `epoll_event`, or `None` for a null pointer.
///
/// # Safety
///
/// `ev` must be null or valid for reading one `epoll_event` (alignment not needed).
unsafe fn event_of(ev: *const crate::epoll_event) -> Option<(u32, u64)> {
    if ev.is_null() {
        return None;
    }
    // SAFETY: non-null; the struct is packed, so read it unaligned.
    let e = unsafe { std::ptr::read_unaligned(ev) };
    // SAFETY: every member of the data union is plain old data; u64_ covers all 8 bytes.
    Some((e.events, unsafe { e.data.u64_ }))
}

/// Adds a waitable (`-EXDEV` other stack, `-EALREADY` already here, `-EBUSY` in another set).
///
/// # Safety
///
/// * `muxer` must be null or a live muxer;
/// * `w` must be null or the waitable of a live object;
/// * `event` must be null or readable as one `epoll_event`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_add(
    muxer: *mut crate::zf_muxer_set,
    w: *mut crate::zf_waitable,
    event: *const crate::epoll_event,
) -> c_int {
    let mp = muxer.cast::<Muxer>();
    // SAFETY: null or live objects of this backend, per this function's contract; a muxer
    // and a waitable are separate allocations.
    let (Some(m), Some(wt)) = (unsafe { muxer_mut(muxer) }, unsafe { waitable_mut(w) }) else {
        return -libc::EINVAL;
    };
    // SAFETY: null or a readable event, per this function's contract.
    let Some((events, data)) = (unsafe { event_of(event) }) else {
        return -libc::EFAULT;
    };
    if wt.stack != m.stack {
        return -libc::EXDEV;
    }
    if wt.muxer == mp {
        return -libc::EALREADY;
    }
    if !wt.muxer.is_null() {
        return -libc::EBUSY;
    }
    wt.muxer = mp;
    wt.events = events;
    wt.data = data;
    // Report the current readiness once (edges since "not in the set").
    wt.last = 0;
    wt.pending = !0;
    m.members.push(wt);
    m.any_overlapped |= events & IN_OVERLAPPED != 0;
    wake_if_ready(wt);
    0
}

/// Changes a member's events and data; also re-arms it.
///
/// # Safety
///
/// * `w` must be null or the waitable of a live object;
/// * `event` must be null or readable as one `epoll_event`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_mod(
    w: *mut crate::zf_waitable,
    event: *const crate::epoll_event,
) -> c_int {
    // SAFETY: null or a live waitable, per this function's contract.
    let Some(wt) = (unsafe { waitable_mut(w) }) else {
        return -libc::EINVAL;
    };
    if wt.muxer.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: null or a readable event, per this function's contract.
    let Some((events, data)) = (unsafe { event_of(event) }) else {
        return -libc::EFAULT;
    };
    wt.events = events;
    wt.data = data;
    wt.last = 0;
    wt.pending = !0;
    let wp: *mut Waitable = wt;
    // SAFETY: a member's muxer is live; it is a separate allocation from the waitable.
    let m = unsafe { &mut *wt.muxer };
    if m.overlapped == wp {
        // Re-armed: what it holds is reported afresh, as plain EPOLLIN.
        m.overlapped = std::ptr::null_mut();
    }
    m.update_any_overlapped();
    wake_if_ready(wt);
    0
}

/// A member that is ready at once (added or modified) is work for the application: makes
/// `zf_stack_has_pending_work` say so until the next reactor pass, even if no network event
/// is waiting (its data may have been read into the zocket already).
fn wake_if_ready(w: &Waitable) {
    // SAFETY: a waitable's stack outlives it; separate allocation.
    let st = unsafe { &*w.stack };
    if readiness(st, w) & w.events != 0 {
        st.wake();
    }
}

/// Removes a waitable from its set (`-EINVAL` if in none).
///
/// # Safety
///
/// `w` must be null or the waitable of a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_del(w: *mut crate::zf_waitable) -> c_int {
    // SAFETY: null or a live waitable, per this function's contract.
    let Some(wt) = (unsafe { waitable_mut(w) }) else {
        return -libc::EINVAL;
    };
    if wt.muxer.is_null() {
        return -libc::EINVAL;
    }
    // SAFETY: a waitable's stack outlives it; separate allocation.
    let st = unsafe { &mut *wt.stack };
    detach(st, wt);
    0
}

/// The events of `w` to report now (its edges that are still true and asked for), taken out
/// of its pending set.
fn take_events(st: &Stack, w: &mut Waitable) -> u32 {
    let cur = readiness(st, w);
    w.pending |= cur & !w.last;
    w.last = cur;
    let ev = w.pending & cur & w.events;
    // Bits that are no longer true are no longer news.
    w.pending &= cur;
    w.pending &= !ev;
    ev
}

/// Writes event `i` of the caller's array.
///
/// # Safety
///
/// `out` must be valid for writing `i + 1` `epoll_event`s (alignment not needed).
unsafe fn put_event(out: *mut crate::epoll_event, i: usize, events: u32, data: u64) {
    let e = crate::epoll_event {
        events,
        data: crate::epoll_data { u64_: data },
    };
    // SAFETY: per the caller; packed struct written unaligned.
    unsafe { std::ptr::write_unaligned(out.add(i), e) };
}

/// Collects ready members into `out`, all but `skip` (a member whose packet may be reported
/// as overlapped instead, or null); returns the count.
///
/// # Safety
///
/// `out` must be valid for writing `max` `epoll_event`s (alignment not needed).
unsafe fn collect(
    st: &Stack,
    m: &mut Muxer,
    out: *mut crate::epoll_event,
    max: usize,
    skip: *mut Waitable,
) -> usize {
    let mut n = 0;
    for (i, &wp) in m.members.iter().enumerate() {
        if n >= max {
            // The caller's array is full. If more members have news, say so through
            // `zf_stack_has_pending_work`: an application that polls only when there is work
            // would otherwise never collect them.
            if m.members[i..].iter().any(|&wp| {
                // SAFETY: members are live waitables.
                let w = unsafe { &*wp };
                let cur = readiness(st, w);
                (w.pending | (cur & !w.last)) & cur & w.events != 0
            }) {
                st.wake();
            }
            break;
        }
        if wp == skip {
            continue;
        }
        // SAFETY: members are live waitables.
        let w = unsafe { &mut *wp };
        let ev = take_events(st, w);
        if ev != 0 {
            // SAFETY: n < max entries of the caller's array.
            unsafe { put_event(out, n, ev, w.data) };
            n += 1;
        }
    }
    n
}

/// Overlapped receive, before a reactor pass: an overlapped packet the application did not
/// complete is abandoned (its data is reported as plain `EPOLLIN`), and which members have
/// an empty receive queue is noted (only those can have a packet "arriving" in the pass).
fn overlapped_before_pass(st: &Stack, m: &mut Muxer) {
    if !m.overlapped.is_null() {
        // SAFETY: the overlapped member is a live member (reset when it leaves).
        unsafe { (*m.overlapped).pending |= EPOLLIN };
        m.overlapped = std::ptr::null_mut();
    }
    m.was_empty.clear();
    for &wp in &m.members {
        // SAFETY: members are live waitables.
        let w = unsafe { &*wp };
        m.was_empty
            .push(w.events & IN_OVERLAPPED != 0 && readiness(st, w) & EPOLLIN == 0);
    }
}

/// Overlapped receive, after a reactor pass: the first member whose receive queue was empty
/// before the pass and now holds exactly one new packet, or null.
fn overlapped_after_pass(m: &Muxer) -> *mut Waitable {
    m.members
        .iter()
        .zip(&m.was_empty)
        .find(|&(&wp, &empty)| {
            // SAFETY: members are live waitables.
            empty && overlapped_candidate(unsafe { &*wp })
        })
        .map_or(std::ptr::null_mut(), |(&wp, _)| wp)
}

/// Waits up to `timeout_ns` (0: poll; negative: forever) for members to become ready, running
/// the reactor meanwhile. Edge-triggered. Returns the number of events written.
///
/// # Safety
///
/// * `muxer` must be null or a live muxer;
/// * `events` must be null or writable for `maxevents` `epoll_event`s.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_muxer_wait(
    muxer: *mut crate::zf_muxer_set,
    events: *mut crate::epoll_event,
    maxevents: c_int,
    timeout_ns: i64,
) -> c_int {
    // SAFETY: null or a live muxer, per this function's contract.
    let Some(m) = (unsafe { muxer_mut(muxer) }) else {
        return 0;
    };
    if events.is_null() || maxevents <= 0 {
        return 0;
    }
    // SAFETY: a muxer's stack outlives it; separate allocation.
    let st = unsafe { &mut *m.stack };
    let start = util::mono_ns();
    let deadline = if timeout_ns < 0 {
        u64::MAX
    } else {
        start.saturating_add(timeout_ns as u64)
    };
    // Like TCPDirect's, the wait runs the reactor until something is ready or the time is up;
    // it never sleeps in the kernel (which would let a burst that arrives meanwhile overflow
    // the receive ring while the thread wakes up). Sleeping is what the waitable fd is for.
    let max = maxevents as usize;
    loop {
        if !m.any_overlapped {
            process(st);
            // SAFETY: the caller's array has room for `maxevents` events (contract).
            let n = unsafe { collect(st, m, events, max, std::ptr::null_mut()) };
            if n > 0 {
                return n as c_int;
            }
        } else {
            overlapped_before_pass(st, m);
            process(st);
            let cand = overlapped_after_pass(m);
            // SAFETY: the caller's array has room for `maxevents` events (contract).
            let mut n = unsafe { collect(st, m, events, max, cand) };
            if !cand.is_null() {
                // SAFETY: a live member.
                let w = unsafe { &mut *cand };
                let cur = readiness(st, w);
                let other = (w.pending | (cur & !w.last)) & cur & w.events & !EPOLLIN;
                if n == 0 && other == 0 {
                    // As TCPDirect does when a packet is arriving for a zocket that asked
                    // for it and nothing else is ready: ZF_EPOLLIN_OVERLAPPED alone, and no
                    // EPOLLIN for that packet.
                    w.last = cur;
                    w.pending &= !EPOLLIN;
                    m.overlapped = cand;
                    // SAFETY: maxevents > 0.
                    unsafe { put_event(events, 0, IN_OVERLAPPED, w.data) };
                    return 1;
                }
                // Other events are ready: the packet is reported with them, as complete.
                if n < max {
                    let ev = take_events(st, w);
                    if ev != 0 {
                        // SAFETY: n < maxevents.
                        unsafe { put_event(events, n, ev, w.data) };
                        n += 1;
                    }
                }
            }
            if n > 0 {
                return n as c_int;
            }
        }
        if util::mono_ns() >= deadline {
            return 0;
        }
        std::hint::spin_loop();
    }
}

/// The events and data a member was added with.
///
/// # Safety
///
/// `w` must be null or the waitable of a live object.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_waitable_event(
    w: *mut crate::zf_waitable,
) -> *const crate::epoll_event {
    // SAFETY: null or a live waitable, per this function's contract.
    let Some(wt) = (unsafe { waitable_mut(w) }) else {
        return std::ptr::null();
    };
    if wt.muxer.is_null() {
        return std::ptr::null();
    }
    wt.ev = crate::epoll_event {
        events: wt.events,
        data: crate::epoll_data { u64_: wt.data },
    };
    &wt.ev
}

/// A file descriptor (owned by the stack) that becomes readable when the stack has work.
///
/// # Safety
///
/// * `stack` must be null or a live stack;
/// * `fd` must be null or writable for one `c_int`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_waitable_fd_get(stack: *mut crate::zf_stack, fd: *mut c_int) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(st) = (unsafe { stack_mut(stack) }) else {
        return -libc::EINVAL;
    };
    if fd.is_null() {
        return -libc::EFAULT;
    }
    // The application will wait on the epoll set: it must hold every socket.
    super::stack::arm_epoll(st);
    // SAFETY: non-null out pointer.
    unsafe { *fd = std::os::fd::AsRawFd::as_raw_fd(&st.epfd) };
    0
}

/// Prepares the fd for a blocking wait: it is made readable at once when the stack already has
/// something for the application (queued data, unreported events, timers).
///
/// # Safety
///
/// `stack` must be null or a live stack.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn zf_waitable_fd_prime(stack: *mut crate::zf_stack) -> c_int {
    // SAFETY: a live stack per the API contract.
    let Some(st) = (unsafe { stack_mut(stack) }) else {
        return -libc::EINVAL;
    };
    super::stack::arm_epoll(st);
    let mut busy = st.timer_work;
    for &mp in &st.muxers {
        // SAFETY: listed muxers are live.
        let m = unsafe { &*mp };
        for &wp in &m.members {
            // SAFETY: members are live waitables.
            let w = unsafe { &*wp };
            let cur = readiness(st, w);
            if (w.pending | (cur & !w.last)) & cur & w.events != 0 {
                busy = true;
            }
        }
    }
    if busy {
        st.wake();
    } else {
        st.unwake();
    }
    0
}
