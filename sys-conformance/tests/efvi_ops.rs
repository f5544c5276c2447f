//! Conformance of the Rust equivalents of the ef_vi macros and inline functions that work on a
//! VI's state or dispatch through `vi->ops` (`etherfabric-sys/src/inline/vi.rs`) with their C
//! definitions in the headers (`vendor-headers/`, or `EF_VI_INCLUDE_DIR`).
//!
//! Method: one zeroed `ef_vi` with its `ef_vi_state`, TX/RX id rings and efct_rxqs ops table,
//! whose ops point at the C test doubles of `c/efvi_ops.c` (each logs its call and acts on the
//! rings like a small driver). For every case the fixture is snapshotted, the C macro is applied
//! (through an `efvi_ops_c_*` wrapper), the outcome recorded (return value, call log, ring state,
//! the bytes of the `ef_vi` and `ef_vi_state`), the snapshot restored, the Rust equivalent
//! applied to the same inputs, and the two outcomes must be identical. Most cases also check the
//! outcome against independently computed expected values.

#![allow(clippy::undocumented_unsafe_blocks)] // test code: every unsafe block is an FFI call or
// a dereference of the fixture's own live allocations.

use std::ffi::{CStr, c_char, c_int, c_uint, c_void};
use std::fmt::Debug;
use std::ops::ControlFlow;

use etherfabric_sys::*;
use sys_conformance as _; // links the C side (c/efvi_ops.c)

// ---- the C side -----------------------------------------------------------------------------

/// One call of a C double (`efvi_ops_call` in c/efvi_ops.c).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
struct Call {
    op: i32,
    n_iov: u32,
    vi: u64,
    arg: [u64; 6],
    iov_base: [u64; 4],
    iov_len: [u64; 4],
}

unsafe extern "C" {
    fn efvi_ops_log_reset();
    fn efvi_ops_log_count() -> c_int;
    fn efvi_ops_log_entry(i: c_int) -> *const Call;
    fn efvi_ops_set_ret(v: i64);
    fn efvi_ops_op_name(op: c_int) -> *const c_char;
    fn efvi_ops_install(vi: *mut ef_vi);
    fn efvi_ops_reinit_double_linked() -> c_int;

    fn efvi_ops_c_resource_id(vi: *mut ef_vi) -> c_uint;
    fn efvi_ops_c_flags(vi: *mut ef_vi) -> u64;
    fn efvi_ops_c_instance(vi: *mut ef_vi) -> c_uint;
    fn efvi_ops_c_receive_prefix_len(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_receive_buffer_len(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_receive_set_buffer_len(vi: *mut ef_vi, n: c_uint);
    fn efvi_ops_c_receive_space(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_receive_fill_level(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_receive_capacity(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_space(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_fill_level(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_space_bytes(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_fill_level_bytes(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_capacity(vi: *const ef_vi) -> c_int;
    fn efvi_ops_c_transmit_alt_usage(p: *const ef_vi_transmit_alt_overhead, len: u32) -> u32;

    fn efvi_ops_c_receive_init(vi: *mut ef_vi, addr: ef_addr, id: ef_request_id) -> c_int;
    fn efvi_ops_c_receive_push(vi: *mut ef_vi);
    fn efvi_ops_c_receive_get_precise_timestamp(
        vi: *mut ef_vi,
        pkt: *const c_void,
        ts: *mut ef_precisetime,
    ) -> c_int;
    fn efvi_ops_c_receive_set_discards(vi: *mut ef_vi, flags: c_uint) -> c_int;
    fn efvi_ops_c_receive_get_discards(vi: *mut ef_vi) -> u64;
    fn efvi_ops_c_receive_get_filter_id(
        vi: *mut ef_vi,
        ev: *const ef_event,
        pkt: *const c_void,
    ) -> i32;

    fn efvi_ops_c_transmitv_init(
        vi: *mut ef_vi,
        iov: *const ef_iovec,
        n: c_int,
        id: ef_request_id,
    ) -> c_int;
    fn efvi_ops_c_transmit_push(vi: *mut ef_vi);
    fn efvi_ops_c_transmit(vi: *mut ef_vi, base: ef_addr, len: c_int, id: ef_request_id) -> c_int;
    fn efvi_ops_c_transmitv(
        vi: *mut ef_vi,
        iov: *const ef_iovec,
        n: c_int,
        id: ef_request_id,
    ) -> c_int;
    fn efvi_ops_c_transmit_pio(vi: *mut ef_vi, off: c_int, len: c_int, id: ef_request_id) -> c_int;
    fn efvi_ops_c_transmit_copy_pio(
        vi: *mut ef_vi,
        off: c_int,
        src: *const c_void,
        len: c_int,
        id: ef_request_id,
    ) -> c_int;
    fn efvi_ops_c_transmit_pio_warm(vi: *mut ef_vi);
    fn efvi_ops_c_transmit_copy_pio_warm(
        vi: *mut ef_vi,
        off: c_int,
        src: *const c_void,
        len: c_int,
    );
    fn efvi_ops_c_start_transmit_warm(
        vi: *mut ef_vi,
        saved: *mut ef_vi_tx_warm_state,
        ctpio: *mut c_char,
    );
    fn efvi_ops_c_stop_transmit_warm(vi: *mut ef_vi, saved: *mut ef_vi_tx_warm_state);
    fn efvi_ops_c_transmit_alt_select(vi: *mut ef_vi, alt: c_uint) -> c_int;
    fn efvi_ops_c_transmit_alt_select_normal(vi: *mut ef_vi) -> c_int;
    fn efvi_ops_c_transmit_alt_stop(vi: *mut ef_vi, alt: c_uint) -> c_int;
    fn efvi_ops_c_transmit_alt_go(vi: *mut ef_vi, alt: c_uint) -> c_int;
    fn efvi_ops_c_transmit_alt_discard(vi: *mut ef_vi, alt: c_uint) -> c_int;
    fn efvi_ops_c_transmitv_ctpio(
        vi: *mut ef_vi,
        frame_len: usize,
        iov: *const iovec,
        n: c_int,
        threshold: c_uint,
    );
    fn efvi_ops_c_transmitv_ctpio_copy(
        vi: *mut ef_vi,
        frame_len: usize,
        iov: *const iovec,
        n: c_int,
        threshold: c_uint,
        fallback: *mut c_void,
    );
    fn efvi_ops_c_transmit_ctpio(vi: *mut ef_vi, buf: *const c_void, len: usize, threshold: c_uint);
    fn efvi_ops_c_transmit_ctpio_fallback(
        vi: *mut ef_vi,
        addr: ef_addr,
        len: usize,
        id: ef_request_id,
    ) -> c_int;
    fn efvi_ops_c_transmitv_ctpio_fallback(
        vi: *mut ef_vi,
        iov: *const ef_iovec,
        n: c_int,
        id: ef_request_id,
    ) -> c_int;

    fn efvi_ops_c_eventq_poll(evq: *mut ef_vi, evs: *mut ef_event, n: c_int) -> c_int;
    fn efvi_ops_c_receive_poll(evq: *mut ef_vi, evs: *mut ef_event, n: c_int) -> c_int;
    fn efvi_ops_c_eventq_prime(vi: *mut ef_vi);
    fn efvi_ops_c_eventq_timer_prime(vi: *mut ef_vi, v: c_uint);
    fn efvi_ops_c_eventq_timer_run(vi: *mut ef_vi, v: c_uint);
    fn efvi_ops_c_eventq_timer_clear(vi: *mut ef_vi);
    fn efvi_ops_c_eventq_timer_zero(vi: *mut ef_vi);

    fn efvi_ops_c_get_vi_from_q_id(vi: *mut ef_vi, q_id: c_int) -> *mut ef_vi;
    fn efvi_ops_c_reinit_txq_post_error(vi: *mut ef_vi) -> c_int;
    fn efvi_ops_c_set_shrub_client_buffer_count(vi: *mut ef_vi, n: usize) -> c_int;
    fn efvi_ops_c_for_each_failed(
        vi: *mut ef_vi,
        out: *mut ef_request_id,
        max: c_int,
        break_after: c_int,
        shrink_added: c_int,
    ) -> c_int;
}

fn op_name(call: &Call) -> String {
    unsafe { CStr::from_ptr(efvi_ops_op_name(call.op)) }
        .to_string_lossy()
        .into_owned()
}

fn names(calls: &[Call]) -> Vec<String> {
    calls.iter().map(op_name).collect()
}

// ---- the fixture ----------------------------------------------------------------------------

/// A VI with its own state, id rings and efct ops table, all in stable heap allocations that
/// live as long as the fixture.
struct Fixture {
    vi: *mut ef_vi,
    state: *mut ef_vi_state,
    efct_ops: *mut ef_vi_efct_rxq_ops,
    tx_ids: *mut [u32],
    rx_ids: *mut [u32],
}

/// A copy of everything the operations may change.
struct Snapshot {
    vi: Vec<u8>,
    state: Vec<u8>,
    tx_ids: Vec<u32>,
    rx_ids: Vec<u32>,
}

/// The bytes of `*p` (the fixture's structs are zero-initialised, padding included).
fn bytes_of<T>(p: *const T) -> Vec<u8> {
    let mut v = vec![0u8; size_of::<T>()];
    unsafe { std::ptr::copy_nonoverlapping(p.cast::<u8>(), v.as_mut_ptr(), v.len()) };
    v
}

fn zeroed_box<T>() -> *mut T {
    // All the C structs used here are plain data (integers, raw pointers, `Option<fn>`), for
    // which all-zero bytes are a valid value: this is how the C side sees a zeroed struct too.
    Box::into_raw(Box::new(unsafe { std::mem::zeroed::<T>() }))
}

impl Fixture {
    /// A VI with TX ring mask `tx_mask` and RX ring mask `rx_mask` (id rings of mask+1 entries,
    /// filled with a marker), owning its event queue, with one unused event queue slot.
    fn new(tx_mask: u32, rx_mask: u32) -> Fixture {
        let fx = Fixture {
            vi: zeroed_box::<ef_vi>(),
            state: zeroed_box::<ef_vi_state>(),
            efct_ops: zeroed_box::<ef_vi_efct_rxq_ops>(),
            tx_ids: Box::into_raw(vec![0xdead_0000u32; tx_mask as usize + 1].into_boxed_slice()),
            rx_ids: Box::into_raw(vec![0xbeef_0000u32; rx_mask as usize + 1].into_boxed_slice()),
        };
        unsafe {
            let vi = &mut *fx.vi;
            vi.vi_txq.mask = tx_mask;
            vi.vi_txq.ids = fx.tx_ids.cast::<u32>();
            vi.vi_rxq.mask = rx_mask;
            vi.vi_rxq.ids = fx.rx_ids.cast::<u32>();
            vi.ep_state = fx.state;
            vi.evq_vi = fx.vi;
            vi.efct_rxqs.ops = fx.efct_ops;
            (*fx.state).evq.min_unused_evq_slots = 1;
            efvi_ops_install(fx.vi);
        }
        fx
    }

    fn vi(&self) -> *mut ef_vi {
        self.vi
    }

    fn txq(&mut self) -> &mut ef_vi_txq_state {
        unsafe { &mut (*self.state).txq }
    }

    fn rxq(&mut self) -> &mut ef_vi_rxq_state {
        unsafe { &mut (*self.state).rxq }
    }

    /// Puts a `(mask, added, removed)` state into the RX ring.
    fn set_rx_ring(&mut self, mask: u32, added: u32, removed: u32) {
        unsafe { (*self.vi).vi_rxq.mask = mask };
        (self.rxq().added, self.rxq().removed) = (added, removed);
    }

    /// Puts a `(mask, added, removed)` state into the TX ring.
    fn set_tx_ring(&mut self, mask: u32, added: u32, removed: u32) {
        unsafe { (*self.vi).vi_txq.mask = mask };
        (self.txq().added, self.txq().removed) = (added, removed);
    }

    fn tx_ids(&mut self) -> &mut [u32] {
        unsafe { &mut *self.tx_ids }
    }

    fn snapshot(&self) -> Snapshot {
        unsafe {
            Snapshot {
                vi: bytes_of(self.vi),
                state: bytes_of(self.state),
                tx_ids: (*self.tx_ids).to_vec(),
                rx_ids: (*self.rx_ids).to_vec(),
            }
        }
    }

    fn restore(&mut self, s: &Snapshot) {
        unsafe {
            std::ptr::copy_nonoverlapping(s.vi.as_ptr(), self.vi.cast::<u8>(), s.vi.len());
            std::ptr::copy_nonoverlapping(s.state.as_ptr(), self.state.cast::<u8>(), s.state.len());
            (*self.tx_ids).copy_from_slice(&s.tx_ids);
            (*self.rx_ids).copy_from_slice(&s.rx_ids);
        }
    }

    /// Applies `f` with the doubles returning `ret`, and records what happened.
    fn run<R>(&mut self, ret: i64, f: impl FnOnce(*mut ef_vi) -> R) -> Outcome<R> {
        unsafe {
            efvi_ops_log_reset();
            efvi_ops_set_ret(ret);
        }
        let value = f(self.vi);
        let n = unsafe { efvi_ops_log_count() };
        let calls = (0..n)
            .map(|i| {
                let p = unsafe { efvi_ops_log_entry(i) };
                assert!(!p.is_null(), "more calls than the C log holds");
                unsafe { *p }
            })
            .collect();
        let s = self.snapshot();
        Outcome {
            value,
            calls,
            vi: s.vi,
            state: s.state,
            tx_ids: s.tx_ids,
            rx_ids: s.rx_ids,
        }
    }

    /// Applies the C macro and the Rust equivalent to the same starting state; asserts that the
    /// outcomes are identical and leaves the fixture in that common final state.
    fn compare<R: PartialEq + Debug>(
        &mut self,
        ret: i64,
        c: impl FnOnce(*mut ef_vi) -> R,
        rust: impl FnOnce(*mut ef_vi) -> R,
    ) -> Outcome<R> {
        self.compare_with(ret, |_| {}, c, rust)
    }

    /// As `compare`, after applying `normalize` to both outcomes (to blank out values that
    /// legitimately differ, such as the address of a temporary).
    fn compare_with<R: PartialEq + Debug>(
        &mut self,
        ret: i64,
        normalize: impl Fn(&mut Outcome<R>),
        c: impl FnOnce(*mut ef_vi) -> R,
        rust: impl FnOnce(*mut ef_vi) -> R,
    ) -> Outcome<R> {
        let start = self.snapshot();
        let mut from_c = self.run(ret, c);
        self.restore(&start);
        let mut from_rust = self.run(ret, rust);
        normalize(&mut from_c);
        normalize(&mut from_rust);
        from_c.assert_same(&from_rust);
        from_rust
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        unsafe {
            drop(Box::from_raw(self.vi));
            drop(Box::from_raw(self.state));
            drop(Box::from_raw(self.efct_ops));
            drop(Box::from_raw(self.tx_ids));
            drop(Box::from_raw(self.rx_ids));
        }
    }
}

/// What one side did.
#[derive(Debug)]
struct Outcome<R> {
    value: R,
    calls: Vec<Call>,
    vi: Vec<u8>,
    state: Vec<u8>,
    tx_ids: Vec<u32>,
    rx_ids: Vec<u32>,
}

impl<R: PartialEq + Debug> Outcome<R> {
    fn assert_same(&self, rust: &Outcome<R>) {
        assert_eq!(
            self.value, rust.value,
            "return value: C (left) vs Rust (right)"
        );
        assert_eq!(
            self.calls, rust.calls,
            "ops calls: C (left) vs Rust (right)"
        );
        assert_eq!(
            self.tx_ids, rust.tx_ids,
            "TX id ring: C (left) vs Rust (right)"
        );
        assert_eq!(
            self.rx_ids, rust.rx_ids,
            "RX id ring: C (left) vs Rust (right)"
        );
        assert!(
            self.state == rust.state,
            "ef_vi_state bytes differ between C and Rust"
        );
        assert!(self.vi == rust.vi, "ef_vi bytes differ between C and Rust");
    }
}

impl<R> Outcome<R> {
    /// The single call made, checking it went to `slot` with `vi`.
    fn only_call(&self, slot: &str, vi: *mut ef_vi) -> Call {
        assert_eq!(
            names(&self.calls),
            [slot],
            "expected exactly one call, to ops.{slot}"
        );
        assert_eq!(
            self.calls[0].vi, vi as u64,
            "ops.{slot} not called with the VI"
        );
        self.calls[0]
    }

    fn no_calls(&self) {
        assert!(
            self.calls.is_empty(),
            "unexpected ops calls: {:?}",
            names(&self.calls)
        );
    }
}

fn ptr_arg<T>(p: *const T) -> u64 {
    p as u64
}

fn int_arg(v: c_int) -> u64 {
    i64::from(v) as u64
}

// ---- accessors ------------------------------------------------------------------------------

#[test]
fn identity_and_rx_buffer_accessors() {
    let mut fx = Fixture::new(511, 511);
    let cases: [(c_uint, u64, c_uint, c_uint, c_uint); 5] = [
        (0, 0, 0, 0, 0),
        (7, ef_vi_flags_EF_VI_TX_CTPIO, 3, 14, 2048),
        (
            0xffff_ffff,
            ef_vi_flags_EF_VI_RX_FILTER_ID | 0x4000,
            0x7fff_ffff,
            0x8000_0000,
            0xffff_ffff,
        ),
        (123_456, u64::MAX, 1, 0x7fff_ffff, 0x8000_0001),
        (1, 1 << 63, u32::MAX, 1, 1),
    ];
    for (rid, flags, inst, prefix, buflen) in cases {
        unsafe {
            (*fx.vi).vi_resource_id = rid;
            (*fx.vi).vi_flags = flags as _;
            (*fx.vi).vi_i = inst;
            (*fx.vi).rx_prefix_len = prefix;
            (*fx.vi).rx_buffer_len = buflen;
        }
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_resource_id(vi) },
            |vi| unsafe { ef_vi_resource_id(vi) },
        );
        assert_eq!(o.value, rid);
        o.no_calls();
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_flags(vi) },
            |vi| unsafe { ef_vi_flags(vi) as u64 },
        );
        assert_eq!(o.value, flags, "the 64-bit flags are returned whole");
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_instance(vi) },
            |vi| unsafe { ef_vi_instance(vi) },
        );
        assert_eq!(o.value, inst);
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_receive_prefix_len(vi) },
            |vi| unsafe { ef_vi_receive_prefix_len(vi) },
        );
        assert_eq!(o.value, prefix as c_int, "unsigned -> int as in C");
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_receive_buffer_len(vi) },
            |vi| unsafe { ef_vi_receive_buffer_len(vi) },
        );
        assert_eq!(o.value, buflen as c_int);
    }
    for len in [0, 1, 1792, 0x8000_0000, u32::MAX] {
        fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_receive_set_buffer_len(vi, len) },
            |vi| unsafe { ef_vi_receive_set_buffer_len(vi, len) },
        )
        .no_calls();
        assert_eq!(unsafe { (*fx.vi).rx_buffer_len }, len);
    }
}

/// (mask, added, removed) ring states: empty, part full, full, over-full, counters wrapped
/// around 2³², the largest masks.
const RING_CASES: &[(u32, u32, u32)] = &[
    (511, 0, 0),
    (511, 5, 0),
    (511, 511, 0),
    (511, 512, 0),
    (511, 1000, 0),
    (511, 0xffff_ffff, 0xffff_ffff),
    (511, 0x0000_0010, 0xffff_ff00),
    (511, 0x0000_01ff, 0x0000_0000),
    (511, 0x0000_0005, 0xffff_fffb),
    (511, 0, 1),
    (4095, 0x8000_0000, 0),
    (4095, 0x8000_0fff, 0x8000_0000),
    (0, 0, 0),
    (0, 1, 0),
    (0x7fff_ffff, 3, 1),
    (0xffff_ffff, 0, 0),
    (0xffff_ffff, 0x1234, 0x1000),
];

/// A ring-level function of `ef_vi` (space, fill level or capacity): the C wrapper and the
/// etherfabric-sys equivalent.
type LevelPair = (
    unsafe extern "C" fn(*const ef_vi) -> c_int,
    unsafe fn(*const ef_vi) -> c_int,
);

/// Compares `[space, fill_level, capacity]` of one ring in C and Rust on every state of
/// [`RING_CASES`], which `set(fx, mask, added, removed)` puts into the ring (`set_rx_ring`,
/// `set_tx_ring`), and checks their values.
fn check_ring_levels(
    fx: &mut Fixture,
    set: impl Fn(&mut Fixture, u32, u32, u32),
    [space, fill_level, capacity]: [LevelPair; 3],
) {
    for &(mask, added, removed) in RING_CASES {
        set(fx, mask, added, removed);
        let fill = added.wrapping_sub(removed);
        let ctx = format!("mask {mask:#x} added {added:#x} removed {removed:#x}");

        let o = fx.compare(
            0,
            |vi| unsafe { (space.0)(vi) },
            |vi| unsafe { (space.1)(vi) },
        );
        assert_eq!(o.value, mask.wrapping_sub(fill) as i32, "{ctx}");
        o.no_calls();
        let o = fx.compare(
            0,
            |vi| unsafe { (fill_level.0)(vi) },
            |vi| unsafe { (fill_level.1)(vi) },
        );
        assert_eq!(o.value, fill as i32, "{ctx}");
        let o = fx.compare(
            0,
            |vi| unsafe { (capacity.0)(vi) },
            |vi| unsafe { (capacity.1)(vi) },
        );
        assert_eq!(o.value, mask as i32, "{ctx}");
    }
}

#[test]
fn rx_ring_levels() {
    let mut fx = Fixture::new(7, 7);
    check_ring_levels(
        &mut fx,
        Fixture::set_rx_ring,
        [
            (efvi_ops_c_receive_space, ef_vi_receive_space),
            (efvi_ops_c_receive_fill_level, ef_vi_receive_fill_level),
            (efvi_ops_c_receive_capacity, ef_vi_receive_capacity),
        ],
    );
    // Spot checks in plain numbers.
    fx.set_rx_ring(511, 0x10, 0xffff_ff00);
    assert_eq!(
        unsafe { ef_vi_receive_fill_level(fx.vi()) },
        0x110,
        "wrapped counters"
    );
    assert_eq!(unsafe { ef_vi_receive_space(fx.vi()) }, 511 - 0x110);
    fx.set_rx_ring(511, 1000, 0);
    assert_eq!(
        unsafe { ef_vi_receive_space(fx.vi()) },
        -489,
        "over-full ring gives negative space"
    );
}

#[test]
fn tx_ring_levels() {
    let mut fx = Fixture::new(7, 7);
    check_ring_levels(
        &mut fx,
        Fixture::set_tx_ring,
        [
            (efvi_ops_c_transmit_space, ef_vi_transmit_space),
            (efvi_ops_c_transmit_fill_level, ef_vi_transmit_fill_level),
            (efvi_ops_c_transmit_capacity, ef_vi_transmit_capacity),
        ],
    );
    unsafe { (*fx.vi).vi_txq.mask = 0xffff_ffff };
    assert_eq!(
        unsafe { ef_vi_transmit_capacity(fx.vi()) },
        -1,
        "mask 0xffffffff reads as -1, as in C"
    );
    fx.set_tx_ring(511, 511, 0);
    assert_eq!(unsafe { ef_vi_transmit_space(fx.vi()) }, 0, "full ring");
    assert_eq!(unsafe { ef_vi_transmit_fill_level(fx.vi()) }, 511);
}

/// (ct_fifo_bytes, ct_added, ct_removed): empty, part full, full, over-full, wrapped counters,
/// the largest FIFO sizes.
const FIFO_CASES: &[(u32, u32, u32)] = &[
    (0, 0, 0),
    (4000, 0, 0),
    (4000, 1500, 0),
    (4000, 4000, 0),
    (4000, 5000, 0),
    (4000, 0x0000_0100, 0xffff_ff00),
    (0x7fff_ffff, 0, 0),
    (0xffff_ffff, 0, 0),
    (0xffff_ffff, 1, 0),
    (60, 0x8000_0000, 0),
];

#[test]
fn tx_cut_through_fifo_fill_level() {
    let mut fx = Fixture::new(511, 511);
    for &(bytes, added, removed) in FIFO_CASES {
        unsafe { (*fx.vi).vi_txq.ct_fifo_bytes = bytes };
        fx.txq().ct_added = added;
        fx.txq().ct_removed = removed;
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmit_fill_level_bytes(vi) },
            |vi| unsafe { ef_vi_transmit_fill_level_bytes(vi) },
        );
        assert_eq!(
            o.value,
            added.wrapping_sub(removed) as i32,
            "ct_added {added:#x} ct_removed {removed:#x}"
        );
        o.no_calls();
    }
}

/// Upstream (`ef_vi.h` since the EVQ-slot accounting change, ON-17171) returns 0 when the lower
/// bound on unused slots of the VI's event queue (`vi->evq_vi->ep_state->evq`, last field) is not
/// positive, else the FIFO free space. The TX ring level plays no part, which the cases with a
/// full ring below check.
#[test]
fn tx_cut_through_fifo_space_bytes() {
    let mut fx = Fixture::new(511, 511);
    for (ring_added, ring_removed) in [(0u32, 0u32), (511, 0), (3, 1)] {
        fx.txq().added = ring_added;
        fx.txq().removed = ring_removed;
        for &slots in &[1i32, 2, 0, -1, i32::MAX, i32::MIN] {
            unsafe { (*fx.state).evq.min_unused_evq_slots = slots };
            for &(bytes, added, removed) in FIFO_CASES {
                unsafe { (*fx.vi).vi_txq.ct_fifo_bytes = bytes };
                fx.txq().ct_added = added;
                fx.txq().ct_removed = removed;
                let ctx = format!(
                    "ring {ring_added}/{ring_removed} evq slots {slots} fifo {bytes:#x} \
                     ct_added {added:#x} ct_removed {removed:#x}"
                );
                let o = fx.compare(
                    0,
                    |vi| unsafe { efvi_ops_c_transmit_space_bytes(vi) },
                    |vi| unsafe { ef_vi_transmit_space_bytes(vi) },
                );
                let want = if slots > 0 {
                    bytes.wrapping_sub(added.wrapping_sub(removed)) as i32
                } else {
                    0
                };
                assert_eq!(o.value, want, "{ctx}");
                o.no_calls();
            }
        }
    }

    // A VI whose event queue belongs to another VI: the slot count is read from that VI's state.
    let evq = Fixture::new(7, 7);
    fx.txq().added = 0;
    fx.txq().removed = 0;
    unsafe {
        (*fx.vi).evq_vi = evq.vi;
        (*fx.state).evq.min_unused_evq_slots = 5;
        (*evq.state).evq.min_unused_evq_slots = 0;
        (*fx.vi).vi_txq.ct_fifo_bytes = 1000;
    }
    fx.txq().ct_added = 100;
    fx.txq().ct_removed = 0;
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit_space_bytes(vi) },
        |vi| unsafe { ef_vi_transmit_space_bytes(vi) },
    );
    assert_eq!(o.value, 0, "the shared event queue has no unused slot");
    unsafe {
        (*fx.state).evq.min_unused_evq_slots = 0;
        (*evq.state).evq.min_unused_evq_slots = 3;
    }
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit_space_bytes(vi) },
        |vi| unsafe { ef_vi_transmit_space_bytes(vi) },
    );
    assert_eq!(o.value, 900, "only the event queue owner's count matters");
}

#[test]
fn transmit_alt_usage() {
    let params: &[(u32, u32, u32)] = &[
        (0, 0xffff_ffff, 0),
        (31, !31, 16),
        (63 + 12, !63, 64),
        (0xffff_ffff, 0xffff_ffff, 0xffff_ffff),
        (1, 0, 0),
        (0x8000_0000, !0xfff, 0x8000_0000),
    ];
    for &(pre_round, mask, post_round) in params {
        let p = ef_vi_transmit_alt_overhead {
            pre_round,
            mask,
            post_round,
        };
        for len in [0u32, 1, 60, 64, 1500, 9000, 0x7fff_ffff, 0xffff_ffff] {
            let c = unsafe { efvi_ops_c_transmit_alt_usage(&p, len) };
            let r = unsafe { ef_vi_transmit_alt_usage(&p, len) };
            assert_eq!(
                c, r,
                "params {pre_round:#x}/{mask:#x}/{post_round:#x} len {len}"
            );
            assert_eq!(
                r,
                (len.wrapping_add(pre_round) & mask).wrapping_add(post_round)
            );
        }
    }
    let p = ef_vi_transmit_alt_overhead {
        pre_round: 31,
        mask: !31,
        post_round: 16,
    };
    assert_eq!(
        unsafe { ef_vi_transmit_alt_usage(&p, 60) },
        80,
        "round up to 32, add 16"
    );
}

// ---- receive ops ----------------------------------------------------------------------------

#[test]
fn receive_init_and_push_fill_the_ring() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    // Post into an empty ring until it is full; the next post fails with -EAGAIN.
    for i in 0..8 {
        let addr: ef_addr = 0x1_0000_0000 + 2048 * i as u64;
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_receive_init(vi, addr, 100 + i) },
            |vi| unsafe { ef_vi_receive_init(vi, addr, 100 + i) },
        );
        let call = o.only_call("receive_init", vi);
        assert_eq!(call.arg[..2], [addr, int_arg(100 + i)]);
        if i < 7 {
            assert_eq!(o.value, 0);
        } else {
            assert_eq!(o.value, -libc::EAGAIN, "full RX ring");
        }
    }
    assert_eq!(unsafe { ef_vi_receive_fill_level(vi) }, 7);
    assert_eq!(unsafe { ef_vi_receive_space(vi) }, 0);
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_receive_push(vi) },
        |vi| unsafe { ef_vi_receive_push(vi) },
    )
    .only_call("receive_push", vi);
    assert_eq!(fx.rxq().posted, 7);

    // Counters about to wrap: ids land at (added & mask) and added wraps to 0.
    fx.rxq().added = 0xffff_fffe;
    fx.rxq().removed = 0xffff_fffc;
    for id in [-1, i32::MIN, i32::MAX] {
        let o = fx.compare(
            7,
            |vi| unsafe { efvi_ops_c_receive_init(vi, u64::MAX, id) },
            |vi| unsafe { ef_vi_receive_init(vi, u64::MAX, id) },
        );
        assert_eq!(o.value, 7, "the op's return value is passed through");
    }
    assert_eq!(fx.rxq().added, 1);
    assert_eq!(unsafe { &*fx.rx_ids }[6..8], [u32::MAX, 0x8000_0000]);
    assert_eq!(unsafe { &*fx.rx_ids }[0], 0x7fff_ffff);
}

#[test]
fn receive_discards_timestamp_and_filter_id() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    for flags in [0, 0x1, 0x3ff, 0x8000_0000, u32::MAX] {
        for ret in [0, -libc::EINVAL as i64] {
            let o = fx.compare(
                ret,
                |vi| unsafe { efvi_ops_c_receive_set_discards(vi, flags) },
                |vi| unsafe { ef_vi_receive_set_discards(vi, flags) },
            );
            assert_eq!(o.value as i64, ret);
            assert_eq!(
                o.only_call("receive_set_discards", vi).arg[0],
                u64::from(flags)
            );
            let o = fx.compare(
                0,
                |vi| unsafe { efvi_ops_c_receive_get_discards(vi) },
                |vi| unsafe { ef_vi_receive_get_discards(vi) },
            );
            o.only_call("receive_get_discards", vi);
            assert_eq!(
                o.value,
                u64::from(flags),
                "the full 64-bit result comes back"
            );
        }
    }
    unsafe { (*fx.vi).rx_discard_mask = 0xabcd_0000_1234_5678 };
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_receive_get_discards(vi) },
        |vi| unsafe { ef_vi_receive_get_discards(vi) },
    );
    assert_eq!(o.value, 0xabcd_0000_1234_5678);

    // Precise timestamp: the double fills *ts_out from the packet and the return value.
    let pkt = 123_456_789u32.to_ne_bytes();
    let mut ts: ef_precisetime = unsafe { std::mem::zeroed() };
    let ts_p: *mut ef_precisetime = &mut ts;
    let pkt_p = pkt.as_ptr().cast::<c_void>();
    for ret in [0i64, -libc::ENODATA as i64, -libc::ENOMSG as i64] {
        let read_ts = |p: *mut ef_precisetime| bytes_of(p);
        let o = fx.compare(
            ret,
            |vi| unsafe {
                ts_p.write_bytes(0, 1);
                let r = efvi_ops_c_receive_get_precise_timestamp(vi, pkt_p, ts_p);
                (r, read_ts(ts_p))
            },
            |vi| unsafe {
                ts_p.write_bytes(0, 1);
                let r = ef_vi_receive_get_precise_timestamp(vi, pkt_p, ts_p);
                (r, read_ts(ts_p))
            },
        );
        assert_eq!(o.value.0 as i64, ret);
        let call = o.only_call("receive_get_timestamp", vi);
        assert_eq!(call.arg[..2], [ptr_arg(pkt_p), ptr_arg(ts_p)]);
        assert_eq!(ts.tv_nsec, 123_456_789);
        assert_eq!(ts.tv_sec, 1_700_000_000 + ret);
        assert_eq!(ts.tv_nsec_frac, 0x8000);
    }

    // Filter id: the double answers rq_id + ret, or -ENODATA without a packet.
    let mut ev: ef_event = unsafe { std::mem::zeroed() };
    unsafe {
        ev.rx.set_type(EF_EVENT_TYPE_RX);
        ev.rx.set_rq_id(4242);
    }
    let ev_p: *const ef_event = &ev;
    for (pkt, ret, want) in [
        (pkt_p, 0i64, 4242),
        (pkt_p, 100, 4342),
        (std::ptr::null(), 0, -libc::ENODATA),
    ] {
        let o = fx.compare(
            ret,
            |vi| unsafe { efvi_ops_c_receive_get_filter_id(vi, ev_p, pkt) },
            |vi| unsafe { ef_vi_receive_get_filter_id(vi, ev_p, pkt) },
        );
        assert_eq!(o.value, want);
        assert_eq!(
            o.only_call("receive_get_filter_id", vi).arg[..2],
            [ptr_arg(ev_p), ptr_arg(pkt)]
        );
    }
}

// ---- transmit ops ---------------------------------------------------------------------------

fn iovs(n: usize) -> Vec<ef_iovec> {
    (0..n)
        .map(|i| ef_iovec {
            iov_base: 0x2_0000_0000 + 0x1000 * i as u64 + 3,
            iov_len: 14 + 100 * i as c_uint,
        })
        .collect()
}

#[test]
fn transmit_and_transmitv() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();

    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit(vi, 0xffff_ffff_0000_1000, 60, 1) },
        |vi| unsafe { ef_vi_transmit(vi, 0xffff_ffff_0000_1000, 60, 1) },
    );
    assert_eq!(o.value, 0);
    assert_eq!(
        o.only_call("transmit", vi).arg[..3],
        [0xffff_ffff_0000_1000, 60, 1]
    );
    assert_eq!((fx.txq().added, fx.txq().previous), (1, 1));

    // Several buffers: all of them reach the op in order; one descriptor each.
    let three = iovs(3);
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmitv(vi, three.as_ptr(), 3, 2) },
        |vi| unsafe { ef_vi_transmitv(vi, three.as_ptr(), 3, 2) },
    );
    let call = o.only_call("transmitv", vi);
    assert_eq!(call.arg[..3], [ptr_arg(three.as_ptr()), 3, 2]);
    assert_eq!(call.n_iov, 3);
    for (i, iov) in three.iter().enumerate() {
        assert_eq!(
            (call.iov_base[i], call.iov_len[i]),
            (iov.iov_base, u64::from(iov.iov_len))
        );
    }
    assert_eq!(fx.txq().added, 4);
    assert_eq!(
        &fx.tx_ids()[1..4],
        [EF_REQUEST_ID_MASK, EF_REQUEST_ID_MASK, 2]
    );

    // transmitv_init writes without pushing (the double turns an empty vector into one
    // descriptor); with 1 slot left, a 2-buffer frame does not fit.
    for (n, want) in [(0usize, 0), (1, 0), (2, -libc::EAGAIN)] {
        let v = iovs(n);
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmitv_init(vi, v.as_ptr(), n as c_int, 10 + n as c_int) },
            |vi| unsafe { ef_vi_transmitv_init(vi, v.as_ptr(), n as c_int, 10 + n as c_int) },
        );
        assert_eq!(o.value, want, "transmitv_init of {n} buffers");
        assert_eq!(o.only_call("transmitv_init", vi).n_iov, n as u32);
    }
    assert_eq!((fx.txq().added, fx.txq().previous), (6, 4));
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit_push(vi) },
        |vi| unsafe { ef_vi_transmit_push(vi) },
    )
    .only_call("transmit_push", vi);
    assert_eq!(fx.txq().previous, 6);
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit(vi, 0x1000, 1514, 12) },
        |vi| unsafe { ef_vi_transmit(vi, 0x1000, 1514, 12) },
    );
    assert_eq!(o.value, 0, "the last free slot");
    assert_eq!(fx.tx_ids()[4..7], [10, 11, 12]);

    // Ring full (7 of 7 slots used): -EAGAIN, state untouched.
    assert_eq!(unsafe { ef_vi_transmit_space(vi) }, 0);
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit(vi, 0, 60, 99) },
        |vi| unsafe { ef_vi_transmit(vi, 0, 60, 99) },
    );
    assert_eq!(o.value, -libc::EAGAIN);
    assert_eq!(fx.txq().added, 7);

    // Counters wrapping through 2^32 while posting.
    fx.txq().added = 0xffff_fffe;
    fx.txq().removed = 0xffff_fffe;
    let two = iovs(2);
    for id in [5, -5] {
        let o = fx.compare(
            3,
            |vi| unsafe { efvi_ops_c_transmitv(vi, two.as_ptr(), 2, id) },
            |vi| unsafe { ef_vi_transmitv(vi, two.as_ptr(), 2, id) },
        );
        assert_eq!(o.value, 3);
    }
    assert_eq!(fx.txq().added, 2);
    assert_eq!(unsafe { ef_vi_transmit_fill_level(vi) }, 4);
    assert_eq!(fx.tx_ids()[..2], [EF_REQUEST_ID_MASK, (-5i32) as u32]);
}

#[test]
fn programmed_io() {
    let mut fx = Fixture::new(15, 15);
    let vi = fx.vi();
    for (off, len, id) in [
        (0, 60, 0),
        (64, 1514, 7),
        (4032, 16, -1),
        (-64, 0, i32::MIN),
        (i32::MAX, i32::MIN, 3),
    ] {
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmit_pio(vi, off, len, id) },
            |vi| unsafe { ef_vi_transmit_pio(vi, off, len, id) },
        );
        assert_eq!(
            o.only_call("transmit_pio", vi).arg[..3],
            [int_arg(off), int_arg(len), int_arg(id)]
        );
    }
    let frame: Vec<u8> = (0..200u8).collect();
    let src = frame.as_ptr().cast::<c_void>();
    for (off, len, id) in [(0, 200, 1), (128, 64, 2), (64, 0, 3)] {
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmit_copy_pio(vi, off, src, len, id) },
            |vi| unsafe { ef_vi_transmit_copy_pio(vi, off, src, len, id) },
        );
        let call = o.only_call("transmit_copy_pio", vi);
        assert_eq!(
            call.arg[..4],
            [int_arg(off), ptr_arg(src), int_arg(len), int_arg(id)]
        );
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmit_copy_pio_warm(vi, off, src, len) },
            |vi| unsafe { ef_vi_transmit_copy_pio_warm(vi, off, src, len) },
        );
        let warm = o.only_call("transmit_copy_pio_warm", vi);
        assert_eq!(warm.arg[..3], [int_arg(off), ptr_arg(src), int_arg(len)]);
        assert_eq!(warm.arg[3], call.arg[4], "same source bytes seen");
    }
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmit_pio_warm(vi) },
        |vi| unsafe { ef_vi_transmit_pio_warm(vi) },
    )
    .only_call("transmit_pio_warm", vi);
    assert_eq!(fx.txq().added, 8);
}

#[test]
fn transmit_warming() {
    let mut fx = Fixture::new(31, 31);
    let vi = fx.vi();
    fx.txq().added = 10;
    fx.txq().removed = 4;
    let real_ctpio = 0x7000_0000usize as *mut c_char;
    unsafe { (*fx.vi).vi_ctpio_mmap_ptr = real_ctpio };
    let mut warm_area = [0 as c_char; 64];
    let warm_p = warm_area.as_mut_ptr();
    let mut saved: ef_vi_tx_warm_state = unsafe { std::mem::zeroed() };
    let saved_p: *mut ef_vi_tx_warm_state = &mut saved;

    let o = fx.compare(
        0,
        |vi| unsafe {
            saved_p.write_bytes(0, 1);
            efvi_ops_c_start_transmit_warm(vi, saved_p, warm_p);
            bytes_of(saved_p)
        },
        |vi| unsafe {
            saved_p.write_bytes(0, 1);
            ef_vi_start_transmit_warm(vi, saved_p, warm_p);
            bytes_of(saved_p)
        },
    );
    assert_eq!(
        o.only_call("start_transmit_warm", vi).arg[..2],
        [ptr_arg(saved_p), ptr_arg(warm_p)]
    );
    assert_eq!(saved.removed, 4);
    assert_eq!(
        unsafe { ef_vi_transmit_space(vi) },
        0,
        "looks full while warming"
    );
    assert_eq!(unsafe { (*fx.vi).vi_ctpio_mmap_ptr }, warm_p);

    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_stop_transmit_warm(vi, saved_p) },
        |vi| unsafe { ef_vi_stop_transmit_warm(vi, saved_p) },
    );
    assert_eq!(
        o.only_call("stop_transmit_warm", vi).arg[0],
        ptr_arg(saved_p)
    );
    assert_eq!(fx.txq().removed, 4);
    assert_eq!(unsafe { (*fx.vi).vi_ctpio_mmap_ptr }, real_ctpio);

    // EFCT style: no saved state, no CTPIO area.
    let o = fx.compare(
        0,
        |vi| unsafe {
            efvi_ops_c_start_transmit_warm(vi, std::ptr::null_mut(), std::ptr::null_mut())
        },
        |vi| unsafe { ef_vi_start_transmit_warm(vi, std::ptr::null_mut(), std::ptr::null_mut()) },
    );
    assert_eq!(o.only_call("start_transmit_warm", vi).arg[..2], [0, 0]);
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_stop_transmit_warm(vi, std::ptr::null_mut()) },
        |vi| unsafe { ef_vi_stop_transmit_warm(vi, std::ptr::null_mut()) },
    )
    .only_call("stop_transmit_warm", vi);
}

#[test]
fn tx_alternatives() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    type AltFn = unsafe extern "C" fn(*mut ef_vi, c_uint) -> c_int;
    type RustAltFn = unsafe fn(*mut ef_vi, c_uint) -> c_int;
    let ops: [(&str, AltFn, RustAltFn); 4] = [
        (
            "transmit_alt_select",
            efvi_ops_c_transmit_alt_select,
            ef_vi_transmit_alt_select,
        ),
        (
            "transmit_alt_stop",
            efvi_ops_c_transmit_alt_stop,
            ef_vi_transmit_alt_stop,
        ),
        (
            "transmit_alt_go",
            efvi_ops_c_transmit_alt_go,
            ef_vi_transmit_alt_go,
        ),
        (
            "transmit_alt_discard",
            efvi_ops_c_transmit_alt_discard,
            ef_vi_transmit_alt_discard,
        ),
    ];
    for (slot, c, rust) in ops {
        for alt in [0, 1, 31, 0x8000_0000, u32::MAX] {
            for ret in [0i64, -libc::EINVAL as i64, -libc::EBUSY as i64] {
                let o = fx.compare(
                    ret,
                    |vi| unsafe { c(vi, alt) },
                    |vi| unsafe { rust(vi, alt) },
                );
                assert_eq!(o.value as i64, ret);
                assert_eq!(
                    o.only_call(slot, vi).arg[0],
                    u64::from(alt),
                    "{slot}({alt})"
                );
            }
        }
    }
    for ret in [0i64, -libc::EOPNOTSUPP as i64] {
        let o = fx.compare(
            ret,
            |vi| unsafe { efvi_ops_c_transmit_alt_select_normal(vi) },
            |vi| unsafe { ef_vi_transmit_alt_select_normal(vi) },
        );
        assert_eq!(o.value as i64, ret);
        o.only_call("transmit_alt_select_default", vi);
    }
}

#[test]
fn cut_through_pio() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    let parts: [&[u8]; 3] = [&[1; 14], &[2; 20], &[3; 26]];
    let sys_iov: Vec<iovec> = parts
        .iter()
        .map(|p| iovec {
            iov_base: p.as_ptr().cast_mut().cast(),
            iov_len: p.len(),
        })
        .collect();
    let frame_len: usize = parts.iter().map(|p| p.len()).sum();

    for threshold in [0, 64, EF_VI_CTPIO_CT_THRESHOLD_SNF, u32::MAX] {
        let o = fx.compare(
            0,
            |vi| unsafe {
                efvi_ops_c_transmitv_ctpio(vi, frame_len, sys_iov.as_ptr(), 3, threshold)
            },
            |vi| unsafe { ef_vi_transmitv_ctpio(vi, frame_len, sys_iov.as_ptr(), 3, threshold) },
        );
        let call = o.only_call("transmitv_ctpio", vi);
        assert_eq!(
            call.arg[..4],
            [
                frame_len as u64,
                ptr_arg(sys_iov.as_ptr()),
                3,
                u64::from(threshold)
            ]
        );
        assert_eq!(call.n_iov, 3);
        for (i, iov) in sys_iov.iter().enumerate() {
            assert_eq!(
                (call.iov_base[i], call.iov_len[i]),
                (iov.iov_base as u64, iov.iov_len as u64)
            );
        }
    }
    assert_eq!(fx.txq().ct_added, 4 * frame_len as u32);

    // With a copy into the fallback buffer.
    let mut fallback = [0u8; 64];
    let fb = fallback.as_mut_ptr();
    let o = fx.compare(
        0,
        |vi| unsafe {
            fb.write_bytes(0xee, 64);
            efvi_ops_c_transmitv_ctpio_copy(vi, frame_len, sys_iov.as_ptr(), 3, 100, fb.cast());
            std::slice::from_raw_parts(fb, 64).to_vec()
        },
        |vi| unsafe {
            fb.write_bytes(0xee, 64);
            ef_vi_transmitv_ctpio_copy(vi, frame_len, sys_iov.as_ptr(), 3, 100, fb.cast());
            std::slice::from_raw_parts(fb, 64).to_vec()
        },
    );
    let call = o.only_call("transmitv_ctpio_copy", vi);
    assert_eq!(
        call.arg[..5],
        [
            frame_len as u64,
            ptr_arg(sys_iov.as_ptr()),
            3,
            100,
            ptr_arg(fb)
        ]
    );
    assert_eq!(fallback[..frame_len], parts.concat()[..]);
    assert_eq!(fallback[frame_len], 0xee);

    // The inline single-buffer form builds a one-element iovec on its own stack; the address of
    // that temporary is the one argument that may differ between C and Rust.
    let blank_iov_ptr = |o: &mut Outcome<()>| {
        for c in &mut o.calls {
            c.arg[1] = 0;
        }
    };
    let buf = parts.concat();
    let buf_p = buf.as_ptr().cast::<c_void>();
    for (len, threshold) in [
        (buf.len(), 0u32),
        (1, 1),
        (0, EF_VI_CTPIO_CT_THRESHOLD_SNF),
        (0x1_0000_0010, 7),
    ] {
        let o = fx.compare_with(
            0,
            blank_iov_ptr,
            |vi| unsafe { efvi_ops_c_transmit_ctpio(vi, buf_p, len, threshold) },
            |vi| unsafe { ef_vi_transmit_ctpio(vi, buf_p, len, threshold) },
        );
        let call = o.only_call("transmitv_ctpio", vi);
        assert_eq!(call.arg[0], len as u64, "frame_len passed as size_t");
        assert_eq!(call.arg[2..4], [1, u64::from(threshold)]);
        assert_eq!(
            (call.n_iov, call.iov_base[0], call.iov_len[0]),
            (1, ptr_arg(buf_p), len as u64)
        );
    }

    // Fallback posts.
    for (addr, len, id) in [
        (0x3_0000_0000u64, 60usize, 11),
        (0, 0, -1),
        (u64::MAX, usize::MAX, 12),
    ] {
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_transmit_ctpio_fallback(vi, addr, len, id) },
            |vi| unsafe { ef_vi_transmit_ctpio_fallback(vi, addr, len, id) },
        );
        assert_eq!(
            o.only_call("transmit_ctpio_fallback", vi).arg[..3],
            [addr, len as u64, int_arg(id)]
        );
    }
    let dma = iovs(2);
    let o = fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_transmitv_ctpio_fallback(vi, dma.as_ptr(), 2, 13) },
        |vi| unsafe { ef_vi_transmitv_ctpio_fallback(vi, dma.as_ptr(), 2, 13) },
    );
    let call = o.only_call("transmitv_ctpio_fallback", vi);
    assert_eq!(call.arg[..3], [ptr_arg(dma.as_ptr()), 2, 13]);
    assert_eq!(
        (call.iov_base[1], call.iov_len[1]),
        (dma[1].iov_base, u64::from(dma[1].iov_len))
    );
    assert_eq!(fx.txq().added, 5);
    assert_eq!(fx.tx_ids()[..5], [11, u32::MAX, 12, EF_REQUEST_ID_MASK, 13]);
}

// ---- event queue ops ------------------------------------------------------------------------

#[test]
fn event_polling() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    let mut evs: [ef_event; 8] = unsafe { std::mem::zeroed() };
    let evs_p = evs.as_mut_ptr();
    let read_evs = move || unsafe {
        std::slice::from_raw_parts(evs_p.cast::<u8>(), size_of::<[ef_event; 8]>()).to_vec()
    };

    type PollFn = unsafe extern "C" fn(*mut ef_vi, *mut ef_event, c_int) -> c_int;
    type RustPollFn = unsafe fn(*mut ef_vi, *mut ef_event, c_int) -> c_int;
    let polls: [(&str, PollFn, RustPollFn); 2] = [
        ("eventq_poll", efvi_ops_c_eventq_poll, ef_eventq_poll),
        ("receive_poll", efvi_ops_c_receive_poll, ef_receive_poll),
    ];
    for (slot, c, rust) in polls {
        // (evs_len, events available)
        for (len, avail) in [(8, 0i64), (8, 3), (2, 5), (8, 8), (0, 4)] {
            let o = fx.compare(
                avail,
                |vi| unsafe {
                    evs_p
                        .cast::<u8>()
                        .write_bytes(0x5a, size_of::<[ef_event; 8]>());
                    (c(vi, evs_p, len), read_evs())
                },
                |vi| unsafe {
                    evs_p
                        .cast::<u8>()
                        .write_bytes(0x5a, size_of::<[ef_event; 8]>());
                    (rust(vi, evs_p, len), read_evs())
                },
            );
            let n = o.value.0;
            assert_eq!(i64::from(n), avail.min(i64::from(len)), "{slot}");
            assert_eq!(
                o.only_call(slot, vi).arg[..2],
                [ptr_arg(evs_p), int_arg(len)]
            );
            for (i, ev) in evs.iter().enumerate().take(n as usize) {
                let want = if slot == "receive_poll" {
                    EF_EVENT_TYPE_RX
                } else {
                    EF_EVENT_TYPE_TX
                };
                assert_eq!(unsafe { ev.generic.type_() }, want);
                assert_eq!(unsafe { ev.rx.rq_id() }, 1000 + i as u32);
            }
        }
    }

    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_eventq_prime(vi) },
        |vi| unsafe { ef_eventq_prime(vi) },
    )
    .only_call("eventq_prime", vi);
    for v in [0, 1, 100, 0x8000_0000, u32::MAX] {
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_eventq_timer_prime(vi, v) },
            |vi| unsafe { ef_eventq_timer_prime(vi, v) },
        );
        assert_eq!(o.only_call("eventq_timer_prime", vi).arg[0], u64::from(v));
        let o = fx.compare(
            0,
            |vi| unsafe { efvi_ops_c_eventq_timer_run(vi, v) },
            |vi| unsafe { ef_eventq_timer_run(vi, v) },
        );
        assert_eq!(o.only_call("eventq_timer_run", vi).arg[0], u64::from(v));
    }
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_eventq_timer_clear(vi) },
        |vi| unsafe { ef_eventq_timer_clear(vi) },
    )
    .only_call("eventq_timer_clear", vi);
    fx.compare(
        0,
        |vi| unsafe { efvi_ops_c_eventq_timer_zero(vi) },
        |vi| unsafe { ef_eventq_timer_zero(vi) },
    )
    .only_call("eventq_timer_zero", vi);
}

// ---- shared event queues, TX error recovery, shrub ------------------------------------------

#[test]
fn vi_from_q_id() {
    let mut fx = Fixture::new(7, 7);
    let others: Vec<Fixture> = (0..4).map(|_| Fixture::new(7, 7)).collect();
    for n in [0, 1, 4, EF_VI_MAX_QS as c_int] {
        unsafe {
            (*fx.vi).vi_qs_n = n;
            for q in 0..EF_VI_MAX_QS as usize {
                (*fx.vi).vi_qs[q] = others[q % others.len()].vi;
            }
        }
        for q_id in [i32::MIN, -1, 0, 1, 3, 4, 31, 32, 33, i32::MAX] {
            let o = fx.compare(
                0,
                |vi| unsafe { efvi_ops_c_get_vi_from_q_id(vi, q_id) },
                |vi| unsafe { ef_vi_get_vi_from_q_id(vi, q_id) },
            );
            o.no_calls();
            if q_id >= 0 && q_id < n {
                assert_eq!(
                    o.value,
                    others[q_id as usize % others.len()].vi,
                    "n {n} q_id {q_id}"
                );
            } else {
                assert!(o.value.is_null(), "n {n} q_id {q_id}");
            }
        }
    }
}

#[test]
fn reinit_txq_after_error() {
    // The C file defines `__ef_vi_reinit_txq_post_error` weakly, as a logging double. When a
    // real definition is linked instead (etherfabric-sys's software backend, or libciul), the
    // double cannot see the call; then both the C macro and the Rust equivalent must reach
    // that same function, which rejects this VI (not one it allocated) the same way.
    // SAFETY: a plain query of the C side.
    if unsafe { efvi_ops_reinit_double_linked() } == 0 {
        let mut fx = Fixture::new(7, 7);
        let vi = fx.vi();
        fx.txq().added = 9;
        fx.txq().removed = 3;
        // SAFETY: `vi` is the fixture's VI; the linked function only reads it to look it up.
        let (c, rust, direct) = unsafe {
            (
                efvi_ops_c_reinit_txq_post_error(vi),
                ef_vi_reinit_txq_post_error(vi),
                etherfabric_sys::__ef_vi_reinit_txq_post_error(vi),
            )
        };
        assert_eq!(c, direct, "the C macro calls the linked function");
        assert_eq!(
            rust, direct,
            "the Rust equivalent calls the linked function"
        );
        assert!(
            direct < 0,
            "a VI the library did not allocate is refused, got {direct}"
        );
        assert_eq!(
            (fx.txq().added, fx.txq().removed),
            (9, 3),
            "state untouched on refusal"
        );
        return;
    }
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    fx.txq().added = 9;
    fx.txq().removed = 3;
    for ret in [0i64, -libc::EIO as i64] {
        let o = fx.compare(
            ret,
            |vi| unsafe { efvi_ops_c_reinit_txq_post_error(vi) },
            |vi| unsafe { ef_vi_reinit_txq_post_error(vi) },
        );
        assert_eq!(o.value as i64, ret);
        o.only_call("__ef_vi_reinit_txq_post_error", vi);
        assert_eq!(fx.txq().removed, 9);
    }
}

#[test]
fn shrub_client_buffer_count() {
    let mut fx = Fixture::new(7, 7);
    let vi = fx.vi();
    for n in [0usize, 1, 64, u32::MAX as usize + 1, usize::MAX] {
        for ret in [0i64, -libc::ENOSPC as i64] {
            let o = fx.compare(
                ret,
                |vi| unsafe { efvi_ops_c_set_shrub_client_buffer_count(vi, n) },
                |vi| unsafe { ef_vi_set_shrub_client_buffer_count(vi, n) },
            );
            assert_eq!(o.value as i64, ret);
            assert_eq!(
                o.only_call("efct_rxqs.set_client_buf_count", vi).arg[0],
                n as u64
            );
        }
    }
}

/// Runs the C loop macro: ids seen by the body.
fn c_failed(vi: *mut ef_vi, break_after: c_int, shrink_added: bool) -> Vec<ef_request_id> {
    let mut out = vec![0; 64];
    let n = unsafe {
        efvi_ops_c_for_each_failed(vi, out.as_mut_ptr(), 64, break_after, shrink_added as c_int)
    };
    assert!(n <= 64);
    out.truncate(n as usize);
    out
}

/// Runs the Rust loop function with the same body as `c_failed`.
fn rust_failed(vi: *mut ef_vi, break_after: c_int, shrink_added: bool) -> Vec<ef_request_id> {
    let mut out = Vec::new();
    let broke = unsafe {
        ef_vi_for_each_tx_error_failed_transmit(vi, |dma_id| {
            out.push(dma_id);
            if shrink_added {
                let qs = &mut (*(*vi).ep_state).txq;
                qs.added = qs.added.wrapping_sub(1);
            }
            if break_after > 0 && out.len() >= break_after as usize {
                ControlFlow::Break(out.len())
            } else {
                ControlFlow::Continue(())
            }
        })
    };
    if let Some(n) = broke {
        assert_eq!(n, out.len(), "the break value is handed back");
    }
    out
}

#[test]
fn failed_transmit_loop() {
    const M: u32 = EF_REQUEST_ID_MASK;
    // (mask, removed, added, ids at removed & mask .. , break_after, shrink_added, ids seen,
    // removed after)
    struct Case {
        what: &'static str,
        mask: u32,
        removed: u32,
        added: u32,
        ring: &'static [u32],
        break_after: c_int,
        shrink: bool,
        seen: &'static [i32],
        removed_after: u32,
    }
    let cases = [
        Case {
            what: "empty",
            mask: 7,
            removed: 5,
            added: 5,
            ring: &[],
            break_after: 0,
            shrink: false,
            seen: &[],
            removed_after: 5,
        },
        Case {
            what: "three pending",
            mask: 7,
            removed: 0,
            added: 3,
            ring: &[10, 11, 12],
            break_after: 0,
            shrink: false,
            seen: &[10, 11, 12],
            removed_after: 3,
        },
        Case {
            what: "id-less descriptors skipped",
            mask: 7,
            removed: 2,
            added: 7,
            ring: &[M, M, 20, M, 21],
            break_after: 0,
            shrink: false,
            seen: &[20, 21],
            removed_after: 7,
        },
        Case {
            what: "negative ids are ids",
            mask: 7,
            removed: 0,
            added: 3,
            ring: &[0xffff_fffe, 0x8000_0000, 0],
            break_after: 0,
            shrink: false,
            seen: &[-2, i32::MIN, 0],
            removed_after: 3,
        },
        Case {
            what: "index wraps with the mask",
            mask: 7,
            removed: 6,
            added: 10,
            ring: &[30, 31, 32, 33],
            break_after: 0,
            shrink: false,
            seen: &[30, 31, 32, 33],
            removed_after: 10,
        },
        Case {
            what: "counters near 2^32",
            mask: 3,
            removed: 0xffff_fffd,
            added: 0xffff_ffff,
            ring: &[40, 41],
            break_after: 0,
            shrink: false,
            seen: &[40, 41],
            removed_after: 0xffff_ffff,
        },
        Case {
            what: "added wrapped past removed: plain < stops at once",
            mask: 3,
            removed: 0xffff_fffe,
            added: 2,
            ring: &[50, 51, 52, 53],
            break_after: 0,
            shrink: false,
            seen: &[],
            removed_after: 0xffff_fffe,
        },
        Case {
            what: "removed ahead of added",
            mask: 7,
            removed: 9,
            added: 4,
            ring: &[],
            break_after: 0,
            shrink: false,
            seen: &[],
            removed_after: 9,
        },
        Case {
            what: "break leaves removed at the broken entry",
            mask: 7,
            removed: 1,
            added: 6,
            ring: &[60, M, 61, 62, 63],
            break_after: 2,
            shrink: false,
            seen: &[60, 61],
            removed_after: 3,
        },
        Case {
            what: "break on the first",
            mask: 7,
            removed: 0,
            added: 2,
            ring: &[70, 71],
            break_after: 1,
            shrink: false,
            seen: &[70],
            removed_after: 0,
        },
        Case {
            what: "condition re-read after the body changes added",
            mask: 7,
            removed: 0,
            added: 6,
            ring: &[80, 81, 82, 83, 84, 85],
            break_after: 0,
            shrink: true,
            seen: &[80, 81, 82],
            removed_after: 3,
        },
        Case {
            what: "full ring of id-less entries",
            mask: 3,
            removed: 0,
            added: 4,
            ring: &[M, M, M, M],
            break_after: 0,
            shrink: false,
            seen: &[],
            removed_after: 4,
        },
    ];
    for case in cases {
        let mut fx = Fixture::new(case.mask, 7);
        fx.txq().removed = case.removed;
        fx.txq().added = case.added;
        for (i, id) in case.ring.iter().enumerate() {
            let slot = (case.removed.wrapping_add(i as u32) & case.mask) as usize;
            fx.tx_ids()[slot] = *id;
        }
        let (b, s) = (case.break_after, case.shrink);
        let o = fx.compare(0, |vi| c_failed(vi, b, s), |vi| rust_failed(vi, b, s));
        o.no_calls();
        assert_eq!(o.value, case.seen, "{}", case.what);
        assert_eq!(fx.txq().removed, case.removed_after, "{}", case.what);
        // A second walk finds nothing left (unless the first was cut short by a break).
        if case.break_after == 0 {
            let o = fx.compare(
                0,
                |vi| c_failed(vi, 0, false),
                |vi| rust_failed(vi, 0, false),
            );
            assert!(o.value.is_empty(), "{}: second walk", case.what);
        }
    }

    // A body returning `()` walks everything.
    let mut fx = Fixture::new(7, 7);
    fx.txq().added = 4;
    fx.tx_ids()[..4].copy_from_slice(&[1, M, 2, 3]);
    let mut seen = Vec::new();
    let r = unsafe { ef_vi_for_each_tx_error_failed_transmit(fx.vi(), |id| seen.push(id)) };
    assert!(r.is_none());
    assert_eq!(seen, [1, 2, 3]);
    assert_eq!(fx.txq().removed, 4);
}

// ---- Rust-only behaviour --------------------------------------------------------------------

/// C calls a NULL ops slot (undefined behaviour); the Rust equivalents panic naming the slot.
/// There is nothing to compare with C here.
#[test]
fn null_ops_slot_panics_with_its_name() {
    let fx = Fixture::new(7, 7);
    unsafe { (*fx.vi).ops.transmit_alt_select_default = None };
    let vi = fx.vi();
    let err =
        std::panic::catch_unwind(|| unsafe { ef_vi_transmit_alt_select_normal(vi) }).unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        msg.contains("transmit_alt_select_default"),
        "panic message: {msg}"
    );

    unsafe { (*fx.efct_ops).set_client_buf_count = None };
    let err = std::panic::catch_unwind(|| unsafe { ef_vi_set_shrub_client_buffer_count(vi, 1) })
        .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("set_client_buf_count"), "panic message: {msg}");
}
