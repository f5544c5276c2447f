//! Receive rate on `lo`: frames per second a VI receives from a kernel UDP sender, against a
//! plain `AF_PACKET` reader of the same traffic, in one run.
//!
//! Run (as root, or with CAP_NET_RAW): `cargo bench -p etherfabric-sys --bench rx_rate [-- FRAMES]`
//!
//! Each trial sends FRAMES datagrams of 64 bytes from a `std::net::UdpSocket` to 127.0.0.1 as
//! fast as the kernel takes them; the receiver under test counts the frames of that flow it
//! gets (the VI through a UDP filter, refilling its RX ring; the reader by parsing each frame)
//! and the rate is frames received over the time from the first to the last. Trials
//! alternate between the two; the medians are printed with their ratio.

use std::ffi::CString;
use std::net::{Ipv4Addr, UdpSocket};
use std::os::raw::c_int;
use std::thread;
use std::time::{Duration, Instant};

use etherfabric_sys::*;
use testkit::{AnonMap, free_udp_port};

// Unprivileged runs enter a user namespace (and a network namespace, `lo` up) of their own
// before main, where the VI may open packet sockets.
testkit::enter_user_namespace_at_start!();

/// Size of one packet buffer.
const BUF: usize = 2048;
/// Packet buffers of the VI, all posted to its RX ring.
const NBUF: usize = 64;

const PAYLOAD: usize = 64;
const TRIALS: usize = 5;
/// The receiver stops this long after the sender finished and nothing more arrived.
const QUIET: Duration = Duration::from_millis(100);

/// Frames received, and the time from the first to the last.
struct Trial {
    received: usize,
    span: Duration,
}

impl Trial {
    fn rate(&self) -> f64 {
        self.received as f64 / self.span.as_secs_f64()
    }
}

fn main() {
    let frames: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(200_000);
    println!("ef_vi backend: {}", etherfabric_sys::LINKED_BACKEND);
    let mut dh: ef_driver_handle = -1;
    // SAFETY: `dh` is writable.
    match unsafe { ef_driver_open(&mut dh) } {
        0 => {
            // SAFETY: closing the handle opened above.
            unsafe { ef_driver_close(dh) };
        }
        rc if rc == -libc::EPERM => {
            testkit::skip("rx_rate", "opening ef_vi needs CAP_NET_RAW (run as root)");
            return;
        }
        rc => panic!("ef_driver_open: {rc}"),
    }
    println!("{frames} UDP datagrams of {PAYLOAD} bytes per trial on lo, {TRIALS} trials each");
    let mut vi_rates = Vec::new();
    let mut raw_rates = Vec::new();
    for t in 0..TRIALS {
        let v = trial(frames, receive_vi);
        let r = trial(frames, receive_af_packet);
        println!(
            "trial {t}: VI {:>9.0} frames/s ({} received)   AF_PACKET {:>9.0} frames/s ({} received)",
            v.rate(),
            v.received,
            r.rate(),
            r.received
        );
        vi_rates.push(v.rate());
        raw_rates.push(r.rate());
    }
    let (v, r) = (median(&mut vi_rates), median(&mut raw_rates));
    println!(
        "median: VI {v:.0} frames/s, AF_PACKET reader {r:.0} frames/s, ratio VI/reader {:.3}",
        v / r
    );
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs one trial: `receive(port, sender_done)` counts frames to `port` while a sender thread
/// sends `frames` datagrams to it; `sender_done` says whether the sender has finished.
fn trial(frames: usize, receive: fn(u16, &dyn Fn() -> bool) -> Trial) -> Trial {
    let port = free_udp_port(Ipv4Addr::LOCALHOST);
    // The destination socket exists (so the kernel does not answer with ICMP) but is not read.
    let sink = UdpSocket::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
    let go = std::sync::Arc::new(std::sync::Barrier::new(2));
    let go2 = go.clone();
    let sender = thread::spawn(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.connect((Ipv4Addr::LOCALHOST, port)).unwrap();
        let msg = [0x42u8; PAYLOAD];
        go2.wait();
        for _ in 0..frames {
            while sock.send(&msg).is_err() {}
        }
    });
    // The receiver sets itself up, then its first call of `sender_done` releases the sender.
    let started = std::cell::Cell::new(false);
    let sender_done = || {
        if !started.replace(true) {
            go.wait();
        }
        sender.is_finished()
    };
    let result = receive(port, &sender_done);
    drop(sink);
    result
}

/// Counts with the clock running from the first to the last frame.
struct Counter {
    received: usize,
    first: Option<Instant>,
    last: Instant,
}

impl Counter {
    fn new() -> Self {
        Self {
            received: 0,
            first: None,
            last: Instant::now(),
        }
    }
    fn add(&mut self, n: usize) {
        if n > 0 {
            let now = Instant::now();
            self.first.get_or_insert(now);
            self.last = now;
            self.received += n;
        }
    }
    /// True once the sender is done and nothing arrived for QUIET.
    fn finished(&self, sender_done: bool) -> bool {
        sender_done
            && self.last.elapsed() > QUIET
            && (self.first.is_some() || self.last.elapsed() > QUIET * 20)
    }
    fn trial(&self) -> Trial {
        let span = self.first.map_or(Duration::ZERO, |f| self.last - f);
        Trial {
            received: self.received,
            span: span.max(Duration::from_nanos(1)),
        }
    }
}

/// A receive-only VI on `lo` with NBUF registered buffers and a filter for UDP to
/// 127.0.0.1:`port`; everything is freed on drop.
struct RxVi {
    dh: ef_driver_handle,
    pd: Box<ef_pd>,
    vi: Box<ef_vi>,
    memreg: Box<ef_memreg>,
    /// Dropped after `drop` freed the memreg.
    _mem: AnonMap,
}

impl RxVi {
    fn open(port: u16) -> RxVi {
        let check = |rc: c_int, what: &str| assert!(rc >= 0, "{what}: {rc}");
        let mut dh: ef_driver_handle = -1;
        // SAFETY: `dh` is writable.
        check(unsafe { ef_driver_open(&mut dh) }, "ef_driver_open");
        // SAFETY: ef_pd, ef_vi and ef_memreg are plain C data; zeroes are a valid start.
        let (mut pd, mut vi, mut memreg): (Box<ef_pd>, Box<ef_vi>, Box<ef_memreg>) = unsafe {
            (
                Box::new(std::mem::zeroed()),
                Box::new(std::mem::zeroed()),
                Box::new(std::mem::zeroed()),
            )
        };
        let lo = CString::new("lo").unwrap();
        // SAFETY: `pd` is writable, `lo` a C string, `dh` open.
        let rc =
            unsafe { ef_pd_alloc_by_name(&mut *pd, dh, lo.as_ptr(), ef_pd_flags_EF_PD_DEFAULT) };
        check(rc, "ef_pd_alloc_by_name");
        // SAFETY: `vi` is boxed (it never moves) and `pd` allocated; no event queue is shared.
        let rc = unsafe {
            ef_vi_alloc_from_pd(
                &mut *vi,
                dh,
                &mut *pd,
                dh,
                -1,
                -1,
                0,
                std::ptr::null_mut(),
                -1,
                0,
            )
        };
        check(rc, "ef_vi_alloc_from_pd");
        let mem = AnonMap::new(BUF * NBUF);
        // SAFETY: `mem` is a page-aligned mapping that outlives the memreg (dropped after it).
        check(
            unsafe { ef_memreg_alloc(&mut *memreg, dh, &mut *pd, dh, mem.as_void(), mem.len()) },
            "ef_memreg_alloc",
        );
        let mut fs = ef_filter_spec::default();
        let mut cookie = ef_filter_cookie::default();
        // SAFETY: `fs` is writable and then initialised; the VI is live.
        unsafe {
            ef_filter_spec_init(&mut fs, ef_filter_flags_EF_FILTER_FLAG_NONE);
            let ip = u32::from(Ipv4Addr::LOCALHOST).to_be();
            check(
                ef_filter_spec_set_ip4_local(
                    &mut fs,
                    libc::IPPROTO_UDP,
                    ip,
                    c_int::from(port.to_be()),
                ),
                "filter spec",
            );
            check(
                ef_vi_filter_add(&mut *vi, dh, &fs, &mut cookie),
                "ef_vi_filter_add",
            );
        }
        RxVi {
            dh,
            pd,
            vi,
            memreg,
            _mem: mem,
        }
    }

    /// DMA address of buffer `i`.
    fn addr(&self, i: usize) -> ef_addr {
        // SAFETY: the memreg covers NBUF buffers.
        unsafe { ef_memreg_dma_addr(&*self.memreg, i * BUF) }
    }
}

impl Drop for RxVi {
    fn drop(&mut self) {
        let dh = self.dh;
        // SAFETY: freeing in the documented order: VI, memory, PD, handle (the mapping goes
        // after, with `self._mem`).
        unsafe {
            ef_vi_free(&mut *self.vi, dh);
            ef_memreg_free(&mut *self.memreg, dh);
            ef_pd_free(&mut *self.pd, dh);
            ef_driver_close(dh);
        }
    }
}

fn receive_vi(port: u16, done: &dyn Fn() -> bool) -> Trial {
    let mut tv = RxVi::open(port);
    let vi: *mut ef_vi = &mut *tv.vi;
    for i in 0..NBUF {
        // SAFETY: the VI is live and buffer `i` registered.
        unsafe { ef_vi_receive_init(vi, tv.addr(i), i as ef_request_id) };
    }
    // SAFETY: the VI is live.
    unsafe { ef_vi_receive_push(vi) };
    let mut c = Counter::new();
    let mut evs = [ef_event::default(); 64];
    let mut done_seen = false;
    while !c.finished(done_seen) {
        done_seen = done();
        // SAFETY: the VI is live; `evs` has room for 64 events.
        let n = unsafe { ef_eventq_poll(vi, evs.as_mut_ptr(), evs.len() as i32) };
        let mut got = 0;
        for e in &evs[..n.max(0) as usize] {
            // SAFETY: events written by ef_eventq_poll.
            let (ty, id) = unsafe { (EF_EVENT_TYPE(e), EF_EVENT_RX_RQ_ID(e)) };
            if ty == EF_EVENT_TYPE_RX {
                got += 1;
                // SAFETY: the buffer came back with this event; it is registered.
                unsafe { ef_vi_receive_init(vi, tv.addr(id as usize), id as ef_request_id) };
            }
        }
        if got > 0 {
            // SAFETY: the VI is live.
            unsafe { ef_vi_receive_push(vi) };
        }
        c.add(got);
    }
    c.trial()
}

fn receive_af_packet(port: u16, done: &dyn Fn() -> bool) -> Trial {
    let proto = (libc::ETH_P_IP as u16).to_be() as i32;
    // SAFETY: plain socket(2) call.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_NONBLOCK, proto) };
    assert!(
        fd >= 0,
        "AF_PACKET socket: {}",
        std::io::Error::last_os_error()
    );
    let ifindex = {
        let name = std::ffi::CString::new("lo").unwrap();
        // SAFETY: a valid C string.
        unsafe { libc::if_nametoindex(name.as_ptr()) }
    };
    // SAFETY: sockaddr_ll is plain old data.
    let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
    sll.sll_family = libc::AF_PACKET as u16;
    sll.sll_protocol = proto as u16;
    sll.sll_ifindex = ifindex as i32;
    // SAFETY: a valid sockaddr_ll of the size given.
    let rc = unsafe {
        libc::bind(
            fd,
            (&sll as *const libc::sockaddr_ll).cast(),
            std::mem::size_of::<libc::sockaddr_ll>() as u32,
        )
    };
    assert_eq!(rc, 0);
    // The same 8 MiB socket buffer the software VI asks for.
    let size: i32 = 8 << 20;
    // SAFETY: an int option.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVBUFFORCE,
            (&size as *const i32).cast(),
            4,
        )
    };
    let mut c = Counter::new();
    let mut buf = [0u8; 2048];
    let mut done_seen = false;
    while !c.finished(done_seen) {
        done_seen = done();
        let mut from: libc::sockaddr_ll = sll;
        let mut len = std::mem::size_of::<libc::sockaddr_ll>() as u32;
        // SAFETY: the buffer and address are valid for the lengths given.
        let n = unsafe {
            libc::recvfrom(
                fd,
                buf.as_mut_ptr().cast(),
                buf.len(),
                0,
                (&mut from as *mut libc::sockaddr_ll).cast(),
                &mut len,
            )
        };
        if n < 0 || from.sll_pkttype == libc::PACKET_OUTGOING {
            continue;
        }
        // Ethernet (14) + IPv4 (IHL) + UDP destination port.
        let f = &buf[..n as usize];
        if f.len() >= 42 && f[23] == libc::IPPROTO_UDP as u8 {
            let ihl = usize::from(f[14] & 0x0f) * 4;
            let d = 14 + ihl + 2;
            if f.len() >= d + 2 && u16::from_be_bytes([f[d], f[d + 1]]) == port {
                c.add(1);
            }
        }
    }
    // SAFETY: our socket, closed once.
    unsafe { libc::close(fd) };
    c.trial()
}
