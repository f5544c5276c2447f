//! UDP ping-pong latency on `lo`: a client written on zf-sys (whatever backend this build links;
//! the software backend here) against the same client written with a non-blocking
//! `std::net::UdpSocket` that busy-polls, in one run, against the same echo peer.
//!
//! Run: `cargo bench -p zf-sys --bench udp_pingpong [-- ROUND_TRIPS]`
//!
//! Prints the median and 99th percentile round-trip time of each and their ratio. The echo peer
//! is a thread with a blocking kernel UDP socket; every address is 127.0.0.1.

use std::ffi::CString;
use std::hint::black_box;
use std::net::{SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use zf_sys::*;

const PAYLOAD: usize = 32;
const WARMUP: usize = 2_000;
/// A round trip that takes longer than this is reported as lost.
const TIMEOUT: Duration = Duration::from_secs(2);

fn main() {
    let rounds: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(50_000);
    println!("TCPDirect backend: {}", zf_sys::LINKED_BACKEND);
    println!(
        "UDP ping-pong on lo, {PAYLOAD}-byte payload, {rounds} round trips each, {WARMUP} warm-up"
    );

    let (echo_addr, stop) = spawn_echo();
    let std_hist = run_std(echo_addr, rounds);
    let zf_hist = run_zf(echo_addr, rounds);
    stop();

    report("std::net UdpSocket (busy-poll)", &std_hist);
    report("zf-sys zfut/zfur", &zf_hist);
    let ratio = |q: f64| zf_hist.value_at_quantile(q) as f64 / std_hist.value_at_quantile(q) as f64;
    println!(
        "ratio zf/std: median {:.3}x, p99 {:.3}x",
        ratio(0.5),
        ratio(0.99)
    );
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
}

/// An echo peer: returns its address and a function that stops it.
fn spawn_echo() -> (SocketAddrV4, impl FnOnce()) {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind echo socket");
    sock.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let addr = match sock.local_addr().unwrap() {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => unreachable!("bound to 127.0.0.1"),
    };
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let handle = std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                let _ = sock.send_to(&buf[..n], from);
            }
        }
    });
    (addr, move || {
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        handle.join().unwrap();
    })
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 10_000_000_000, 3).unwrap()
}

fn run_std(echo: SocketAddrV4, rounds: usize) -> Histogram<u64> {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.connect(echo).unwrap();
    sock.set_nonblocking(true).unwrap();
    let msg = [0x5au8; PAYLOAD];
    let mut buf = [0u8; 2048];
    let mut hist = new_hist();
    for i in 0..WARMUP + rounds {
        let t0 = Instant::now();
        sock.send(&msg).unwrap();
        loop {
            match sock.recv(&mut buf) {
                Ok(n) => {
                    assert_eq!(n, PAYLOAD);
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(t0.elapsed() < TIMEOUT, "std round trip {i} lost");
                }
                Err(e) => panic!("recv: {e}"),
            }
        }
        if i >= WARMUP {
            hist.record(t0.elapsed().as_nanos() as u64).unwrap();
        }
    }
    hist
}

/// A `zfur_msg` with room for one iovec, as TCPDirect callers declare it.
#[repr(C)]
struct OneMsg {
    msg: zfur_msg,
    iov: [iovec; 1],
}

fn sockaddr_of(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

fn check(rc: i32, what: &str) {
    assert!(
        rc >= 0,
        "{what} failed: {}",
        std::io::Error::from_raw_os_error(-rc)
    );
}

fn run_zf(echo: SocketAddrV4, rounds: usize) -> Histogram<u64> {
    // A free local port for the zocket pair.
    let local = match UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
    {
        SocketAddr::V4(a) => a,
        SocketAddr::V6(_) => unreachable!(),
    };
    let laddr = sockaddr_of(local);
    let raddr = sockaddr_of(echo);
    let salen = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;
    let msg = [0x5au8; PAYLOAD];
    let mut hist = new_hist();
    // SAFETY: the TCPDirect calls below follow the API's rules: attr/stack/zockets are
    // allocated before use and freed once, in reverse order; the message has room for the one
    // iovec it announces, and each received message is released before the next receive.
    unsafe {
        check(zf_init(), "zf_init");
        let mut attr: *mut zf_attr = std::ptr::null_mut();
        check(zf_attr_alloc(&mut attr), "zf_attr_alloc");
        let (name, val) = (
            CString::new("interface").unwrap(),
            CString::new("lo").unwrap(),
        );
        check(
            zf_attr_set_str(attr, name.as_ptr(), val.as_ptr()),
            "zf_attr_set_str(interface)",
        );
        let mut stack: *mut zf_stack = std::ptr::null_mut();
        check(zf_stack_alloc(attr, &mut stack), "zf_stack_alloc");
        let mut ur: *mut zfur = std::ptr::null_mut();
        check(zfur_alloc(&mut ur, stack, attr), "zfur_alloc");
        let mut l = laddr;
        check(
            zfur_addr_bind(
                ur,
                (&mut l as *mut libc::sockaddr_in).cast(),
                salen,
                (&raddr as *const libc::sockaddr_in).cast(),
                salen,
                0,
            ),
            "zfur_addr_bind",
        );
        let mut ut: *mut zfut = std::ptr::null_mut();
        check(
            zfut_alloc(
                &mut ut,
                stack,
                (&laddr as *const libc::sockaddr_in).cast(),
                salen,
                (&raddr as *const libc::sockaddr_in).cast(),
                salen,
                0,
                attr,
            ),
            "zfut_alloc",
        );
        let mut m: OneMsg = std::mem::zeroed();
        for i in 0..WARMUP + rounds {
            let t0 = Instant::now();
            check(
                zfut_send_single(ut, msg.as_ptr().cast(), msg.len()),
                "zfut_send_single",
            );
            loop {
                zf_reactor_perform(stack);
                m.msg.iovcnt = 1;
                zfur_zc_recv(ur, &mut m.msg, 0);
                if m.msg.iovcnt > 0 {
                    assert_eq!(m.iov[0].iov_len, PAYLOAD);
                    black_box(m.iov[0].iov_base);
                    zfur_zc_recv_done(ur, &mut m.msg);
                    break;
                }
                assert!(t0.elapsed() < TIMEOUT, "zf round trip {i} lost");
            }
            if i >= WARMUP {
                hist.record(t0.elapsed().as_nanos() as u64).unwrap();
            }
        }
        check(zfut_free(ut), "zfut_free");
        check(zfur_free(ur), "zfur_free");
        check(zf_stack_free(stack), "zf_stack_free");
        zf_attr_free(attr);
        check(zf_deinit(), "zf_deinit");
    }
    hist
}
