// Shared helpers of the software-backend integration tests that call etherfabric-sys: a VI
// with registered packet buffers, filter specs, checksums and bounded event polling. The
// generic ones (frames, ports, network namespaces) come from `testkit`.
#![allow(dead_code)]

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::os::raw::{c_int, c_uint};
use std::time::{Duration, Instant};

use etherfabric_sys::*;
// Not every test binary that includes this module needs these.
#[allow(unused_imports)]
pub use testkit::{AnonMap, Netns, NetnsPair, free_udp_port, is_root, run_in, sh, udp_frame};

/// Size of one packet buffer.
pub const BUF: usize = 2048;
/// Number of packet buffers per test VI.
pub const NBUF: usize = 64;

// Unprivileged runs enter a user namespace of their own before the harness starts threads.
testkit::enter_user_namespace_at_start!();

/// Prepares a network test: moves the calling thread into a network namespace of its own (a
/// private `lo`, up) and checks that packet sockets can be opened there. Returns false, after
/// reporting the reason on the terminal (`SKIPPED ...`), when the test cannot run here.
pub fn can_run(test: &str) -> bool {
    if let Err(why) = testkit::isolate_thread_network() {
        testkit::skip(test, &why);
        return false;
    }
    let mut dh: ef_driver_handle = -1;
    // SAFETY: `dh` is writable.
    let rc = unsafe { ef_driver_open(&mut dh) };
    if rc == -libc::EPERM {
        testkit::skip(test, "needs CAP_NET_RAW (run the tests as root)");
        return false;
    }
    assert_eq!(rc, 0, "ef_driver_open");
    // SAFETY: closing the handle opened above.
    unsafe { ef_driver_close(dh) };
    true
}

/// A driver handle, protection domain, VI and registered buffers, freed in order on drop.
pub struct TestVi {
    pub dh: ef_driver_handle,
    pub pd: Box<ef_pd>,
    pub vi: Box<ef_vi>,
    /// The first of the NBUF buffers (in `map`).
    pub mem: *mut u8,
    /// The buffers' memory; unmapped after `drop` freed the memreg.
    map: AnonMap,
    pub memreg: Box<ef_memreg>,
    pub q_id: c_int,
}

impl TestVi {
    /// Opens a VI on `ifname` with the given queue sizes and flags.
    pub fn open(ifname: &str, rxq: c_int, txq: c_int, flags: ef_vi_flags) -> Result<TestVi, c_int> {
        let mut dh: ef_driver_handle = -1;
        // SAFETY: `dh` is writable.
        let rc = unsafe { ef_driver_open(&mut dh) };
        if rc < 0 {
            return Err(rc);
        }
        // SAFETY: ef_pd and ef_vi are plain C data; zeroes are a valid initial value.
        let mut pd: Box<ef_pd> = Box::new(unsafe { std::mem::zeroed() });
        let name = CString::new(ifname).unwrap();
        let rc =
            // SAFETY: `pd` is writable, `name` a C string.
            unsafe { ef_pd_alloc_by_name(&mut *pd, dh, name.as_ptr(), ef_pd_flags_EF_PD_DEFAULT) };
        if rc < 0 {
            // SAFETY: closing the handle opened above.
            unsafe { ef_driver_close(dh) };
            return Err(rc);
        }
        // SAFETY: as above.
        let mut vi: Box<ef_vi> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `vi` is boxed (never moves), `pd` allocated.
        let q_id = unsafe {
            ef_vi_alloc_from_pd(
                &mut *vi,
                dh,
                &mut *pd,
                dh,
                -1,
                rxq,
                txq,
                std::ptr::null_mut(),
                -1,
                flags,
            )
        };
        if q_id < 0 {
            // SAFETY: freeing what was allocated above.
            unsafe {
                ef_pd_free(&mut *pd, dh);
                ef_driver_close(dh);
            }
            return Err(q_id);
        }
        let map = AnonMap::new(BUF * NBUF);
        // SAFETY: plain C data.
        let mut memreg: Box<ef_memreg> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `map` is a page-aligned mapping that outlives the memreg (dropped after it).
        let rc =
            unsafe { ef_memreg_alloc(&mut *memreg, dh, &mut *pd, dh, map.as_void(), map.len()) };
        assert_eq!(rc, 0, "ef_memreg_alloc");
        Ok(TestVi {
            dh,
            pd,
            vi,
            mem: map.ptr(),
            map,
            memreg,
            q_id,
        })
    }

    /// A receive-only VI on `lo` with a filter for UDP to 127.0.0.1 on a free port and
    /// buffers `0..posted` on its RX ring; returns it and the port.
    pub fn lo_udp_receiver(posted: usize) -> (TestVi, u16) {
        let port = free_udp_port(Ipv4Addr::LOCALHOST);
        let mut t =
            TestVi::open("lo", -1, 0, ef_vi_flags_EF_VI_FLAGS_DEFAULT).expect("RX VI on lo");
        t.add_filter(&udp_local(Ipv4Addr::LOCALHOST, port))
            .expect("UDP filter");
        t.post(0..posted);
        (t, port)
    }

    pub fn vi(&mut self) -> *mut ef_vi {
        &mut *self.vi
    }

    /// DMA address of buffer `i`.
    pub fn addr(&self, i: usize) -> ef_addr {
        // SAFETY: the memreg covers NBUF buffers.
        unsafe { ef_memreg_dma_addr(&*self.memreg, i * BUF) }
    }

    /// Bytes of buffer `i`.
    pub fn buf(&self, i: usize) -> &[u8] {
        assert!(i < NBUF);
        // SAFETY: buffer i lies inside the mapping.
        unsafe { std::slice::from_raw_parts(self.mem.add(i * BUF), BUF) }
    }

    /// Bytes of buffer `i`, to fill in.
    pub fn buf_mut(&mut self, i: usize) -> &mut [u8] {
        assert!(i < NBUF);
        // SAFETY: buffer i lies inside the mapping; `self` is borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.mem.add(i * BUF), BUF) }
    }

    /// Posts buffers `ids` to the RX ring.
    pub fn post(&mut self, ids: std::ops::Range<usize>) {
        for i in ids {
            let a = self.addr(i);
            // SAFETY: the VI is live and the buffer registered.
            let rc = unsafe { ef_vi_receive_init(self.vi(), a, i as ef_request_id) };
            assert_eq!(rc, 0, "ef_vi_receive_init");
        }
        // SAFETY: the VI is live.
        unsafe { ef_vi_receive_push(self.vi()) };
    }

    /// Adds a filter.
    pub fn add_filter(&mut self, fs: &ef_filter_spec) -> Result<ef_filter_cookie, c_int> {
        let mut c = ef_filter_cookie::default();
        let dh = self.dh;
        // SAFETY: the VI is live, `fs` initialised.
        let rc = unsafe { ef_vi_filter_add(self.vi(), dh, fs, &mut c) };
        if rc < 0 { Err(rc) } else { Ok(c) }
    }

    /// Polls until `pred` is satisfied by the collected events or `timeout` passes.
    pub fn poll_until(
        &mut self,
        timeout: Duration,
        mut pred: impl FnMut(&[ef_event]) -> bool,
    ) -> Vec<ef_event> {
        let deadline = Instant::now() + timeout;
        let mut all = Vec::new();
        while Instant::now() < deadline {
            let mut evs = [ef_event::default(); 16];
            // SAFETY: the VI is live; `evs` has room for 16 events.
            let n = unsafe { ef_eventq_poll(self.vi(), evs.as_mut_ptr(), 16) };
            assert!(n >= 0);
            all.extend_from_slice(&evs[..n as usize]);
            if pred(&all) {
                break;
            }
            if n == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        all
    }

    /// Waits (up to 5 s) for RX-type events (RX and RX_DISCARD), checks that exactly one
    /// came, and returns it.
    pub fn one_rx(&mut self) -> ef_event {
        let evs = self.poll_until(Duration::from_secs(5), |e| !rx_events(e).is_empty());
        let rx = rx_events(&evs);
        assert_eq!(rx.len(), 1);
        rx[0]
    }

    /// Copies `frame` into buffer `i`, sends it and waits for its completion.
    pub fn send_frame(&mut self, i: usize, frame: &[u8]) {
        self.buf_mut(i)[..frame.len()].copy_from_slice(frame);
        self.send_and_complete(i, frame.len());
    }

    /// Sends the frame in buffer `i` (`len` bytes) and waits for its completion.
    pub fn send_and_complete(&mut self, i: usize, len: usize) {
        let a = self.addr(i);
        // SAFETY: the VI is live and the buffer registered.
        let rc = unsafe { ef_vi_transmit(self.vi(), a, len as c_int, i as ef_request_id) };
        assert_eq!(rc, 0, "ef_vi_transmit");
        let tx = self.wait_tx();
        assert_eq!(self.unbundle(&tx), [i as ef_request_id]);
    }

    /// Waits (up to 5 s) for a TX completion event and returns it.
    pub fn wait_tx(&mut self) -> ef_event {
        let evs = self.poll_until(Duration::from_secs(5), |e| {
            e.iter().any(|e| ev_type(e) == EF_EVENT_TYPE_TX)
        });
        *evs.iter()
            .find(|e| ev_type(e) == EF_EVENT_TYPE_TX)
            .expect("TX completion")
    }

    /// The request ids a TX completion event of this VI completes (`ef_vi_transmit_unbundle`).
    pub fn unbundle(&mut self, tx: &ef_event) -> Vec<ef_request_id> {
        let mut ids = [0 as ef_request_id; EF_VI_TRANSMIT_BATCH as usize];
        // SAFETY: the event belongs to this VI; `ids` has room for a batch.
        let n = unsafe { ef_vi_transmit_unbundle(self.vi(), tx, ids.as_mut_ptr()) };
        ids[..n as usize].to_vec()
    }
}

impl Drop for TestVi {
    fn drop(&mut self) {
        let dh = self.dh;
        // SAFETY: freeing in the documented order: VI, memory, PD, handle (the mapping goes
        // after, with `self.map`).
        unsafe {
            assert_eq!(ef_vi_free(&mut *self.vi, dh), 0);
            assert_eq!(ef_memreg_free(&mut *self.memreg, dh), 0);
            assert_eq!(ef_pd_free(&mut *self.pd, dh), 0);
            ef_driver_close(dh);
        }
    }
}

/// `ef_vi_alloc_from_set` of slot `index` (`-1`: the next free one) with a TX ring of `txq`
/// entries (`-1`: the default) and the other sizes by default; no event queue is shared.
///
/// # Safety
///
/// `vi` is writable and does not move while allocated; `set` is a live set of handle `dh`.
pub unsafe fn vi_alloc_from_set(
    vi: *mut ef_vi,
    dh: ef_driver_handle,
    set: *mut ef_vi_set,
    index: c_int,
    txq: c_int,
) -> c_int {
    // SAFETY: per the caller.
    unsafe {
        ef_vi_alloc_from_set(
            vi,
            dh,
            set,
            dh,
            index,
            -1,
            -1,
            txq,
            std::ptr::null_mut(),
            -1,
            0,
        )
    }
}

/// The type of an event.
pub fn ev_type(e: &ef_event) -> c_uint {
    // SAFETY: events come from ef_eventq_poll into initialised arrays.
    unsafe { EF_EVENT_TYPE(e) }
}

/// A fresh spec.
pub fn spec() -> ef_filter_spec {
    let mut fs = ef_filter_spec::default();
    // SAFETY: `fs` is writable.
    unsafe { ef_filter_spec_init(&mut fs, ef_filter_flags_EF_FILTER_FLAG_NONE) };
    fs
}

/// A UDP-over-IPv4 local filter spec.
pub fn udp_local(ip: Ipv4Addr, port: u16) -> ef_filter_spec {
    let mut fs = spec();
    // SAFETY: `fs` is initialised.
    let rc = unsafe {
        ef_filter_spec_set_ip4_local(
            &mut fs,
            libc::IPPROTO_UDP,
            u32::from(ip).to_be(),
            c_int::from(port.to_be()),
        )
    };
    assert_eq!(rc, 0);
    fs
}

/// Writes correct IPv4 and UDP checksums into a frame built by `udp_frame`, using the
/// library's checksum functions.
pub fn fix_checksums(f: &mut [u8]) {
    let ip = f[14..].as_ptr();
    // SAFETY: the frame holds a 20-byte IPv4 header at 14.
    let c = unsafe { ef_ip_checksum(ip.cast()) };
    f[24..26].copy_from_slice(&(c as u16).to_ne_bytes());
    let iov = libc::iovec {
        iov_base: f[42..].as_ptr() as *mut _,
        iov_len: f.len() - 42,
    };
    // SAFETY: headers and payload are inside the frame.
    let c = unsafe {
        ef_udp_checksum(
            f[14..].as_ptr().cast(),
            f[34..].as_ptr().cast(),
            (&iov as *const libc::iovec).cast(),
            1,
        )
    };
    f[40..42].copy_from_slice(&(c as u16).to_ne_bytes());
}

/// Whether the UDP checksum of a received Ethernet frame (IPv4 or, by its EtherType, IPv6;
/// no IP options or extension headers) is correct over its first `payload_len` payload
/// bytes, by the library's checksum check.
pub fn udp_checksum_ok(f: &[u8], payload_len: usize) -> bool {
    let v6 = f[12..14] == [0x86, 0xdd];
    let udp = if v6 { 14 + 40 } else { 14 + 20 };
    let payload = &f[udp + 8..udp + 8 + payload_len];
    let iov = libc::iovec {
        iov_base: payload.as_ptr().cast_mut().cast(),
        iov_len: payload.len(),
    };
    let (ip, udp) = (f[14..].as_ptr(), f[udp..].as_ptr().cast());
    let iov = (&iov as *const libc::iovec).cast();
    // SAFETY: the headers and the payload lie inside the frame; the iovec names the payload.
    let ok = unsafe {
        if v6 {
            ef_udp_checksum_ip6_is_correct(ip.cast(), udp, iov, 1)
        } else {
            ef_udp_checksum_is_correct(ip.cast(), udp, iov, 1)
        }
    };
    ok == 1
}

/// The RX-type events (RX and RX_DISCARD) among `evs`.
pub fn rx_events(evs: &[ef_event]) -> Vec<ef_event> {
    evs.iter()
        .copied()
        .filter(|e| {
            let t = ev_type(e);
            t == EF_EVENT_TYPE_RX || t == EF_EVENT_TYPE_RX_DISCARD
        })
        .collect()
}
