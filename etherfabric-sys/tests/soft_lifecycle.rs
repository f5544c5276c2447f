// Software backend: freeing a VI gives back everything it held, as on an adapter: its set
// slot, its filters (another VI may then install the same unicast filter), and its event
// queue (software events to its resource id fail with -ENOENT).
// Each test runs in a network namespace of its own (see testkit); a test that cannot prints
// `SKIPPED <name>: <reason>` on the terminal.
#![cfg(soft_backend)]

mod common;

use std::net::Ipv4Addr;
use std::os::raw::c_int;

use common::*;
use etherfabric_sys::*;

/// Allocates a receive-and-transmit VI into slot `index` of `set`.
///
/// # Safety
///
/// `set` must be an allocated set and `dh` an open driver handle.
unsafe fn vi_in_set(
    set: &mut ef_vi_set,
    dh: ef_driver_handle,
    index: c_int,
) -> (Box<ef_vi>, c_int) {
    // SAFETY: ef_vi is plain C data; the box does not move until freed.
    let mut vi: Box<ef_vi> = Box::new(unsafe { std::mem::zeroed() });
    // SAFETY: guaranteed by the caller.
    let rc = unsafe { vi_alloc_from_set(&mut *vi, dh, set, index, -1) };
    (vi, rc)
}

#[test]
fn lo_freeing_a_vi_gives_back_its_slot_filters_and_event_queue() {
    if !can_run("lo_freeing_a_vi_gives_back_its_slot_filters_and_event_queue") {
        return;
    }
    let mut t = TestVi::open("lo", -1, -1, 0).expect("VI on lo");
    let dh = t.dh;
    // SAFETY: ef_vi_set is plain C data.
    let mut set: ef_vi_set = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is writable and the domain allocated.
    let rc = unsafe { ef_vi_set_alloc_from_pd(&mut set, dh, &mut *t.pd, dh, 1) };
    assert_eq!(rc, 0);

    // SAFETY: the set and handle are live.
    let (mut a, rc) = unsafe { vi_in_set(&mut set, dh, 0) };
    assert_eq!(rc, 0, "first VI in slot 0");
    // SAFETY: as above.
    let (_, rc) = unsafe { vi_in_set(&mut set, dh, 0) };
    assert_eq!(rc, -libc::EBUSY, "slot 0 is taken");

    let fs = udp_local(Ipv4Addr::LOCALHOST, free_udp_port(Ipv4Addr::LOCALHOST));
    let mut cookie = ef_filter_cookie::default();
    // SAFETY: `a` is live, `fs` initialised, `cookie` writable.
    let rc = unsafe { ef_vi_filter_add(&mut *a, dh, &fs, &mut cookie) };
    assert_eq!(rc, 0);
    assert_eq!(
        t.add_filter(&fs).err(),
        Some(-libc::EEXIST),
        "a unicast filter steers to one VI"
    );
    let res = a.vi_resource_id;
    // SAFETY: plain call with a resource id.
    assert_eq!(unsafe { ef_eventq_put(res, dh, 1) }, 0);

    // SAFETY: freeing the VI allocated above.
    assert_eq!(unsafe { ef_vi_free(&mut *a, dh) }, 0);
    // SAFETY: plain call with a resource id.
    let rc = unsafe { ef_eventq_put(res, dh, 1) };
    assert_eq!(rc, -libc::ENOENT, "the freed VI's event queue is gone");

    // SAFETY: the set and handle are live.
    let (mut b, rc) = unsafe { vi_in_set(&mut set, dh, 0) };
    assert_eq!(rc, 0, "slot 0 is free again");
    // SAFETY: `b` is live, `fs` initialised, `cookie` writable.
    let rc = unsafe { ef_vi_filter_add(&mut *b, dh, &fs, &mut cookie) };
    assert_eq!(rc, 0, "the freed VI's unicast filter is gone");
    // SAFETY: freeing what was allocated above, VI before set.
    unsafe {
        assert_eq!(ef_vi_free(&mut *b, dh), 0);
        assert_eq!(ef_vi_set_free(&mut set, dh), 0);
    }
}
