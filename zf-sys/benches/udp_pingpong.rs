//! UDP ping-pong latency on `lo`: the same ping-pong written twice, once on zf-sys (whatever
//! backend this build links; the software backend on a machine without TCPDirect) and once on
//! non-blocking `std::net::UdpSocket`s that busy-poll, measured in one run.
//!
//! Run: `cargo bench -p zf-sys --bench udp_pingpong [-- ROUND_TRIPS]`
//!
//! Both ends of each ping-pong use the implementation under test, each end in its own thread
//! (zf: one stack per end, as TCPDirect requires). The run alternates between the two in
//! chunks, so that load from elsewhere on the machine falls on both alike. Prints the median and
//! 99th percentile round-trip time of each and their ratio. Every address is 127.0.0.1, on the
//! `lo` of a network namespace of the run's own (with the software backend), so that nothing
//! else on the machine sends there or taps its frames.
//!
//! For profiling one side alone (system calls per round trip, `perf`), set
//! `UDP_PINGPONG_ONLY=zf` or `UDP_PINGPONG_ONLY=std`: only that side runs, and no ratio is
//! printed. `UDP_PINGPONG_QUANTILES=1` also prints more quantiles of each (where the tail
//! begins).

use std::ffi::CString;
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use zf_sys::*;

use testkit::sin;

// Unprivileged runs enter a user namespace (and a network namespace, `lo` up) of their own
// before main.
testkit::enter_user_namespace_at_start!();

const PAYLOAD: usize = 32;
const WARMUP: usize = 1_000;
/// The run alternates between the two implementations this many times.
const CHUNKS: usize = 10;
/// A round trip that takes longer than this counts as lost and ends the run.
const TIMEOUT: Duration = Duration::from_secs(2);

/// One end of a ping-pong.
trait End {
    fn send(&mut self, msg: &[u8]);
    /// Polls once; returns the length of a received datagram, if one arrived.
    fn poll(&mut self) -> Option<usize>;
}

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    if zf_sys::SOFTWARE_BACKEND {
        // Before any thread starts: they all inherit the namespace.
        if let Err(why) = testkit::isolate_thread_network() {
            eprintln!("udp_pingpong: cannot run in a network namespace of its own: {why}");
            std::process::exit(1);
        }
    }
    println!("TCPDirect backend: {}", zf_sys::LINKED_BACKEND);
    if zf_sys::SOFTWARE_BACKEND {
        println!("software backend UDP receive path: {}", receive_path());
    }
    println!(
        "UDP ping-pong on lo, {PAYLOAD}-byte payload, {rounds} round trips each, in {CHUNKS} \
         alternating chunks after {WARMUP} warm-up round trips"
    );

    let only = std::env::var("UDP_PINGPONG_ONLY").ok();
    let (run_std, run_zf) = match only.as_deref() {
        None => (true, true),
        Some("std") => (true, false),
        Some("zf") => (false, true),
        Some(other) => {
            eprintln!("UDP_PINGPONG_ONLY must be \"std\" or \"zf\", not {other:?}");
            std::process::exit(2);
        }
    };
    // Interleave the two in chunks so that both see the same machine load over the run.
    let mut std_hist = new_hist();
    let mut zf_hist = new_hist();
    for _ in 0..CHUNKS {
        if run_std {
            std_hist
                .add(ping_pong(rounds / CHUNKS, StdEnd::new))
                .unwrap();
        }
        if run_zf {
            zf_hist.add(ping_pong(rounds / CHUNKS, ZfEnd::new)).unwrap();
        }
    }

    if run_std {
        report("std::net UdpSocket (busy-poll)", &std_hist);
    }
    if run_zf {
        report("zf-sys zfut/zfur", &zf_hist);
    }
    if !(run_std && run_zf) {
        println!(
            "(one side only, UDP_PINGPONG_ONLY={}: no ratio)",
            only.unwrap_or_default()
        );
        return;
    }
    let ratio = |q: f64| zf_hist.value_at_quantile(q) as f64 / std_hist.value_at_quantile(q) as f64;
    println!(
        "ratio zf/std: median {:.3}x, p99 {:.3}x",
        ratio(0.5),
        ratio(0.99)
    );
}

/// Which UDP receive path the software backend's stacks get in this process: the shared-memory
/// ring needs CAP_NET_RAW (an AF_PACKET socket), as the backend's documentation says.
fn receive_path() -> &'static str {
    // SAFETY: plain system call; the descriptor is closed at once.
    let fd = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_DGRAM, 0) };
    if fd < 0 {
        return "kernel socket reads (no CAP_NET_RAW)";
    }
    // SAFETY: closing the descriptor just opened.
    unsafe { libc::close(fd) };
    "shared-memory ring (CAP_NET_RAW)"
}

fn report(name: &str, h: &Histogram<u64>) {
    println!(
        "{name:<32} median {:>7.2} us   p99 {:>7.2} us   min {:>7.2} us   max {:>8.2} us   n={}",
        h.value_at_quantile(0.5) as f64 / 1000.0,
        h.value_at_quantile(0.99) as f64 / 1000.0,
        h.min() as f64 / 1000.0,
        h.max() as f64 / 1000.0,
        h.len()
    );
    if std::env::var_os("UDP_PINGPONG_QUANTILES").is_some() {
        for q in [0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999] {
            print!("  q{q}={:.2}", h.value_at_quantile(q) as f64 / 1000.0);
        }
        println!();
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn free_port() -> SocketAddrV4 {
    SocketAddrV4::new(
        Ipv4Addr::LOCALHOST,
        testkit::free_udp_port(Ipv4Addr::LOCALHOST),
    )
}

/// Runs `rounds` round trips between two ends made by `make(local, remote)`, the pong end in
/// its own thread; returns the round-trip times of the ping end.
fn ping_pong<E: End + 'static>(
    rounds: usize,
    make: fn(SocketAddrV4, SocketAddrV4) -> E,
) -> Histogram<u64> {
    let (a, b) = (free_port(), free_port());
    let stop = Arc::new(AtomicBool::new(false));
    let ready = Arc::new(AtomicBool::new(false));
    let pong = {
        let (stop, ready) = (stop.clone(), ready.clone());
        std::thread::spawn(move || {
            let mut end = make(b, a);
            ready.store(true, Ordering::Release);
            let msg = [0xa5u8; PAYLOAD];
            while !stop.load(Ordering::Relaxed) {
                if end.poll().is_some() {
                    end.send(&msg);
                }
            }
        })
    };
    while !ready.load(Ordering::Acquire) {
        std::thread::yield_now();
    }
    let mut end = make(a, b);
    let msg = [0x5au8; PAYLOAD];
    let mut hist = new_hist();
    for i in 0..WARMUP + rounds {
        let t0 = Instant::now();
        end.send(&msg);
        loop {
            if let Some(n) = end.poll() {
                assert_eq!(n, PAYLOAD);
                break;
            }
            if t0.elapsed() > TIMEOUT {
                stop.store(true, Ordering::Relaxed);
                panic!("round trip {i} lost");
            }
        }
        if i >= WARMUP {
            hist.record(t0.elapsed().as_nanos() as u64).unwrap();
        }
    }
    stop.store(true, Ordering::Relaxed);
    pong.join().unwrap();
    hist
}

/// A non-blocking, connected kernel UDP socket.
struct StdEnd {
    sock: UdpSocket,
    buf: [u8; 2048],
}

impl StdEnd {
    fn new(local: SocketAddrV4, remote: SocketAddrV4) -> Self {
        let sock = UdpSocket::bind(local).unwrap();
        sock.connect(remote).unwrap();
        sock.set_nonblocking(true).unwrap();
        Self {
            sock,
            buf: [0; 2048],
        }
    }
}

impl End for StdEnd {
    fn send(&mut self, msg: &[u8]) {
        self.sock.send(msg).unwrap();
    }

    fn poll(&mut self) -> Option<usize> {
        match self.sock.recv(&mut self.buf) {
            Ok(n) => Some(n),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
            Err(e) => panic!("recv: {e}"),
        }
    }
}

/// A TCPDirect stack on `lo` with a zfur and a zfut between `local` and `remote`.
struct ZfEnd {
    attr: *mut zf_attr,
    stack: *mut zf_stack,
    ur: *mut zfur,
    ut: *mut zfut,
    msg: UdpMsg<1>,
}

fn check(rc: i32, what: &str) {
    assert!(
        rc >= 0,
        "{what} failed: {}",
        std::io::Error::from_raw_os_error(-rc)
    );
}

impl ZfEnd {
    fn new(local: SocketAddrV4, remote: SocketAddrV4) -> Self {
        let mut laddr = sin(local);
        let raddr = sin(remote);
        let salen = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
        let (name, val) = (
            CString::new("interface").unwrap(),
            CString::new("lo").unwrap(),
        );
        // SAFETY: each object is allocated before it is used and the out-pointers are valid.
        unsafe {
            check(zf_init(), "zf_init");
            let mut attr = std::ptr::null_mut();
            check(zf_attr_alloc(&mut attr), "zf_attr_alloc");
            check(
                zf_attr_set_str(attr, name.as_ptr(), val.as_ptr()),
                "zf_attr_set_str",
            );
            let mut stack = std::ptr::null_mut();
            check(zf_stack_alloc(attr, &mut stack), "zf_stack_alloc");
            let mut ur = std::ptr::null_mut();
            check(zfur_alloc(&mut ur, stack, attr), "zfur_alloc");
            let l = (&mut laddr as *mut libc::sockaddr_in).cast();
            let r = (&raddr as *const libc::sockaddr_in).cast();
            check(zfur_addr_bind(ur, l, salen, r, salen, 0), "zfur_addr_bind");
            let mut ut = std::ptr::null_mut();
            check(
                zfut_alloc(&mut ut, stack, l, salen, r, salen, 0, attr),
                "zfut_alloc",
            );
            Self {
                attr,
                stack,
                ur,
                ut,
                msg: UdpMsg::new(),
            }
        }
    }
}

impl End for ZfEnd {
    fn send(&mut self, msg: &[u8]) {
        // SAFETY: `ut` is live; the buffer is valid for its length.
        check(
            unsafe { zfut_send_single(self.ut, msg.as_ptr().cast(), msg.len()) },
            "zfut_send_single",
        );
    }

    fn poll(&mut self) -> Option<usize> {
        // SAFETY: stack and zocket are live; the message has room for the one iovec it
        // announces and is released before the next receive.
        unsafe {
            zf_reactor_perform(self.stack);
            zfur_zc_recv(self.ur, self.msg.ptr(), 0);
            if self.msg.m.iovcnt == 0 {
                return None;
            }
            let n = self.msg.iov[0].iov_len;
            black_box(self.msg.iov[0].iov_base);
            zfur_zc_recv_done(self.ur, &mut self.msg.m);
            Some(n)
        }
    }
}

impl Drop for ZfEnd {
    fn drop(&mut self) {
        // SAFETY: freed once, zockets before their stack.
        unsafe {
            check(zfut_free(self.ut), "zfut_free");
            check(zfur_free(self.ur), "zfur_free");
            check(zf_stack_free(self.stack), "zf_stack_free");
            zf_attr_free(self.attr);
        }
    }
}
