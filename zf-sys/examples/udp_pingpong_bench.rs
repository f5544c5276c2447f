//! UDP ping-pong round-trip times on 127.0.0.1, measured twice in one run:
//!
//! 1. over zf-sys (the software backend when no TCPDirect library is linked): two threads,
//!    one stack each, `zfut_send_single` + `zf_reactor_perform` + `zfur_zc_recv`;
//! 2. over non-blocking `std::net::UdpSocket`s, busy-polling `recv`.
//!
//! Prints the median and 99th percentile for both.
//!
//! Usage: `cargo run --release -p zf-sys --example udp_pingpong_bench [iterations] [size]`
//! (defaults 20000 and 32). Set `ZF_ATTR` to run the zf part on another interface.

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::os::raw::c_int;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use zf_sys::*;

const WARMUP: usize = 1000;
const TIMEOUT: Duration = Duration::from_secs(2);

#[repr(C)]
struct Msg {
    m: zfur_msg,
    iov: [iovec; 1],
}

fn sin(a: SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain old data.
    let mut s: libc::sockaddr_in = unsafe { std::mem::zeroed() };
    s.sin_family = libc::AF_INET as libc::sa_family_t;
    s.sin_port = a.port().to_be();
    s.sin_addr.s_addr = u32::from(*a.ip()).to_be();
    s
}

const SALEN: socklen_t = std::mem::size_of::<libc::sockaddr_in>() as socklen_t;

/// One side of the zf ping-pong: a stack with a zfur on `local` and a zfut to `remote`.
struct ZfEnd {
    st: *mut zf_stack,
    attr: *mut zf_attr,
    ur: *mut zfur,
    ut: *mut zfut,
    msg: Box<Msg>,
}

impl ZfEnd {
    fn new(local: SocketAddrV4, remote: SocketAddrV4) -> Result<ZfEnd, String> {
        let mut attr = std::ptr::null_mut();
        let mut st = std::ptr::null_mut();
        let mut ur = std::ptr::null_mut();
        let mut ut = std::ptr::null_mut();
        // SAFETY: every pointer passed is valid; results are checked.
        unsafe {
            zf_init();
            if zf_attr_alloc(&mut attr) != 0 {
                return Err("zf_attr_alloc failed (bad ZF_ATTR?)".into());
            }
            if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
                zf_attr_set_str(attr, c"interface".as_ptr(), c"lo".as_ptr());
            }
            let rc = zf_stack_alloc(attr, &mut st);
            if rc != 0 {
                return Err(format!("zf_stack_alloc: {rc}"));
            }
            let mut l = sin(local);
            let r = sin(remote);
            let rc = zfur_alloc(&mut ur, st, attr);
            if rc != 0 {
                return Err(format!("zfur_alloc: {rc}"));
            }
            let rc = zfur_addr_bind(
                ur,
                (&mut l as *mut libc::sockaddr_in).cast(),
                SALEN,
                std::ptr::null(),
                0,
                0,
            );
            if rc != 0 {
                return Err(format!("zfur_addr_bind: {rc}"));
            }
            let rc = zfut_alloc(
                &mut ut,
                st,
                (&l as *const libc::sockaddr_in).cast(),
                SALEN,
                (&r as *const libc::sockaddr_in).cast(),
                SALEN,
                0,
                attr,
            );
            if rc != 0 {
                return Err(format!("zfut_alloc: {rc}"));
            }
        }
        let msg = Box::new(Msg {
            m: zfur_msg::default(),
            iov: [iovec {
                iov_base: std::ptr::null_mut(),
                iov_len: 0,
            }],
        });
        Ok(ZfEnd {
            st,
            attr,
            ur,
            ut,
            msg,
        })
    }

    /// Busy-waits for one datagram; false on timeout.
    fn recv(&mut self) -> bool {
        let t0 = Instant::now();
        loop {
            self.msg.m.iovcnt = 1;
            // SAFETY: live stack and zocket; msg has one iovec.
            unsafe {
                zf_reactor_perform(self.st);
                zfur_zc_recv(self.ur, &mut self.msg.m, 0);
                if self.msg.m.iovcnt > 0 {
                    zfur_zc_recv_done(self.ur, &mut self.msg.m);
                    return true;
                }
            }
            if t0.elapsed() > TIMEOUT {
                return false;
            }
        }
    }

    fn send(&mut self, buf: &[u8]) -> bool {
        let t0 = Instant::now();
        loop {
            // SAFETY: live zocket; valid buffer.
            let rc = unsafe { zfut_send_single(self.ut, buf.as_ptr().cast(), buf.len()) };
            if rc >= 0 {
                return true;
            }
            if rc != -libc::EAGAIN || t0.elapsed() > TIMEOUT {
                return false;
            }
            // SAFETY: live stack.
            unsafe { zf_reactor_perform(self.st) };
        }
    }
}

impl Drop for ZfEnd {
    fn drop(&mut self) {
        // SAFETY: objects created in new(), freed once, zockets before the stack.
        unsafe {
            zfut_free(self.ut);
            zfur_free(self.ur);
            zf_stack_free(self.st);
            zf_attr_free(self.attr);
        }
    }
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn zf_pingpong(iters: usize, size: usize) -> Result<Vec<u64>, String> {
    let (pa, pb) = (
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, free_port()),
        SocketAddrV4::new(Ipv4Addr::LOCALHOST, free_port()),
    );
    let (ready_tx, ready_rx) = mpsc::channel();
    let total = iters + WARMUP;
    let ponger = std::thread::spawn(move || -> Result<(), String> {
        let mut e = ZfEnd::new(pb, pa)?;
        ready_tx.send(()).unwrap();
        let buf = vec![0u8; size];
        for _ in 0..total {
            if !e.recv() || !e.send(&buf) {
                return Err("pong: timed out".into());
            }
        }
        Ok(())
    });
    ready_rx
        .recv_timeout(TIMEOUT)
        .map_err(|_| "pong thread failed to start".to_string())?;
    let mut e = ZfEnd::new(pa, pb)?;
    let buf = vec![0u8; size];
    let mut rtts = Vec::with_capacity(iters);
    for i in 0..total {
        let t0 = Instant::now();
        if !e.send(&buf) || !e.recv() {
            return Err("ping: timed out".into());
        }
        if i >= WARMUP {
            rtts.push(t0.elapsed().as_nanos() as u64);
        }
    }
    drop(e);
    ponger
        .join()
        .map_err(|_| "pong thread panicked".to_string())??;
    Ok(rtts)
}

fn std_recv(s: &UdpSocket, buf: &mut [u8]) -> bool {
    let t0 = Instant::now();
    loop {
        match s.recv(buf) {
            Ok(_) => return true,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                if t0.elapsed() > TIMEOUT {
                    return false;
                }
            }
            Err(_) => return false,
        }
    }
}

fn std_pingpong(iters: usize, size: usize) -> Result<Vec<u64>, String> {
    let a = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let b = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    a.connect(b.local_addr().unwrap())
        .map_err(|e| e.to_string())?;
    b.connect(a.local_addr().unwrap())
        .map_err(|e| e.to_string())?;
    a.set_nonblocking(true).unwrap();
    b.set_nonblocking(true).unwrap();
    let total = iters + WARMUP;
    let ponger = std::thread::spawn(move || -> Result<(), String> {
        let mut buf = vec![0u8; size.max(1)];
        for _ in 0..total {
            if !std_recv(&b, &mut buf) {
                return Err("pong: timed out".into());
            }
            b.send(&buf[..size]).map_err(|e| e.to_string())?;
        }
        Ok(())
    });
    let mut buf = vec![0u8; size.max(1)];
    let mut rtts = Vec::with_capacity(iters);
    for i in 0..total {
        let t0 = Instant::now();
        a.send(&buf[..size]).map_err(|e| e.to_string())?;
        if !std_recv(&a, &mut buf) {
            return Err("ping: timed out".into());
        }
        if i >= WARMUP {
            rtts.push(t0.elapsed().as_nanos() as u64);
        }
    }
    ponger
        .join()
        .map_err(|_| "pong thread panicked".to_string())??;
    Ok(rtts)
}

fn report(name: &str, mut v: Vec<u64>) {
    v.sort_unstable();
    let pct = |p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    println!(
        "{name:<28} n={:<7} median {:>8.2} us   p99 {:>8.2} us",
        v.len(),
        pct(0.5) as f64 / 1e3,
        pct(0.99) as f64 / 1e3
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let iters: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
        .max(1);
    let size: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(32)
        .min(1472);
    println!(
        "backend: {} (software backend: {})",
        zf_sys::LINKED_BACKEND,
        zf_sys::SOFTWARE_BACKEND
    );
    println!(
        "UDP ping-pong on 127.0.0.1, {iters} round trips of {size} bytes (after {WARMUP} warm-up)"
    );
    match zf_pingpong(iters, size) {
        Ok(v) => report("zf-sys zfut/zfur", v),
        Err(e) => {
            eprintln!("zf-sys ping-pong failed: {e}");
            std::process::exit(1);
        }
    }
    match std_pingpong(iters, size) {
        Ok(v) => report("std UdpSocket (busy-poll)", v),
        Err(e) => {
            eprintln!("std ping-pong failed: {e}");
            std::process::exit(1);
        }
    }
    let _: c_int = 0;
}
