//! Rust port of the TCPDirect sample `zfsink`: receives UDP datagrams and prints the rate
//! once a second, polling the reactor, a muxer (`-m`) or sleeping on the stack's waitable
//! fd (`-w`); `-r` prints each datagram's receive timestamp.
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfsink -- 127.0.0.1:20010
//! ```

mod common;

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use tcpdirect::{Event, MuxerKey, Readiness, Stack, UdpRxKey};

fn usage(to_stdout: bool) {
    let text = "usage:\n  zfsink <options> <local_host:port> [remote_host:port]\n\noptions:\n  -h       Print this usage message\n  -m       Use the zf multiplexer\n  -w       Use the zf waitable fd\n  -r       Enable rx timestamping\n  -q       Quiet -- do not emit progress messages\n";
    if to_stdout {
        print!("{text}");
    } else {
        eprint!("{text}");
    }
}

#[derive(Default)]
struct Counters {
    pkts: AtomicU64,
    bytes: AtomicU64,
}

fn try_recv(st: &mut Stack, ur: UdpRxKey, ts: bool, c: &Counters) {
    let mut rx = try_or_exit(st.udp_rx(ur), "zfur");
    loop {
        let Some(m) = rx.zc_recv() else { break };
        if ts {
            match m.timestamp() {
                Ok(t) => println!(
                    "Hardware timestamp: {}.{:09}",
                    t.time.as_secs(),
                    t.time.subsec_nanos()
                ),
                Err(e) => println!(
                    "Error retrieving timestamp! Return code: -{}",
                    e.raw_os_error().unwrap_or(0)
                ),
            }
        }
        let (len, more) = (m.data().len(), m.datagrams_left() > 0);
        drop(m);
        c.pkts.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(len as u64, Ordering::Relaxed);
        if !more {
            break;
        }
    }
}

fn poll_muxer(
    st: &mut Stack,
    mux: MuxerKey,
    ur: UdpRxKey,
    ts: bool,
    c: &Counters,
    timeout: Option<Duration>,
) {
    let mut ev = [Event::default(); 8];
    let n = try_or_exit(st.muxer_wait(mux, &mut ev, timeout), "zf_muxer_wait").len();
    for _ in 0..n {
        try_recv(st, ur, ts, c);
    }
}

fn monitor(c: Arc<Counters>) {
    // The C sample pads the last heading together with its newline to 16 columns, so
    // "total-pkts" sits one column left of the totals beneath it; keep that.
    print!(
        "#{:>9} {:>16} {:>16}",
        "pkt-rate", "bandwidth(Mbps)", "total-pkts\n"
    );
    let (mut prev_p, mut prev_b) = (
        c.pkts.load(Ordering::Relaxed),
        c.bytes.load(Ordering::Relaxed),
    );
    let mut start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let (p, b) = (
            c.pkts.load(Ordering::Relaxed),
            c.bytes.load(Ordering::Relaxed),
        );
        let ms = start.elapsed().as_millis().max(1) as u64;
        start = Instant::now();
        println!(
            "{:>10} {:>16} {:>16}",
            (p - prev_p) * 1000 / ms,
            (b - prev_b) * 8 / 1000 / ms,
            p
        );
        (prev_p, prev_b) = (p, b);
    }
}

fn main() {
    let args = getopt("hmrwqp");
    let (mut use_muxer, mut use_fd, mut ts, mut quiet) = (false, false, false, false);
    for (o, _) in &args.opts {
        match o {
            'h' => {
                usage(true);
                return;
            }
            'm' => use_muxer = true,
            'w' => use_fd = true,
            'r' => ts = true,
            'q' => quiet = true,
            _ => {}
        }
    }
    let (local, remote) = match args.rest.as_slice() {
        [l] => (lookup_or_exit(l), None),
        [l, r] => (lookup_or_exit(l), Some(lookup_or_exit(r))),
        _ => {
            usage(false);
            std::process::exit(1);
        }
    };
    print_backend();
    let mut attr = attr_from_env();
    if ts {
        try_or_exit(attr.set_rx_timestamping(1), "rx_timestamping");
    }
    let mut st = try_or_exit(Stack::new(&attr), "zf_stack_alloc");
    let ur = try_or_exit(st.udp_receiver(), "zfur_alloc");
    let bound = try_or_exit(
        try_or_exit(st.udp_rx(ur), "zfur").bind(local, remote),
        "zfur_addr_bind",
    );
    if !args.rest[0].contains(':') {
        eprintln!(
            "No port provided, listening on {}:{}",
            args.rest[0],
            bound.port()
        );
    }
    let mux = if use_muxer || use_fd {
        let m = try_or_exit(st.muxer(), "zf_muxer_alloc");
        try_or_exit(st.muxer_add(m, &ur, Readiness::IN, 0), "zf_muxer_add");
        Some(m)
    } else {
        None
    };
    let c = Arc::new(Counters::default());
    if !quiet {
        let c = c.clone();
        std::thread::spawn(move || monitor(c));
    }
    match (use_fd, mux) {
        (true, Some(m)) => {
            // Sleep in epoll(7) on the stack's waitable fd, as the C sample does.
            let fd = try_or_exit(st.waitable_fd(), "zf_waitable_fd_get").as_raw_fd();
            try_or_exit(
                st.waitable_fd().and_then(|w| w.prime()),
                "zf_waitable_fd_prime",
            );
            // SAFETY: plain system calls on fds this function owns or borrows.
            let ep = unsafe { libc::epoll_create1(0) };
            let mut ev = libc::epoll_event {
                events: libc::EPOLLIN as u32,
                u64: fd as u64,
            };
            // SAFETY: valid epoll fd, fd and event.
            if unsafe { libc::epoll_ctl(ep, libc::EPOLL_CTL_ADD, fd, &mut ev) } != 0 {
                try_or_exit::<(), _>(Err(std::io::Error::last_os_error()), "epoll_ctl");
            }
            loop {
                let mut evs = [libc::epoll_event { events: 0, u64: 0 }; 8];
                // SAFETY: valid epoll fd and buffer of 8 events.
                let n = unsafe { libc::epoll_wait(ep, evs.as_mut_ptr(), 8, -1) };
                for e in evs.iter().take(n.max(0) as usize) {
                    if e.u64 == fd as u64 {
                        poll_muxer(&mut st, m, ur, ts, &c, Some(Duration::ZERO));
                        try_or_exit(
                            st.waitable_fd().and_then(|w| w.prime()),
                            "zf_waitable_fd_prime",
                        );
                    }
                }
            }
        }
        (false, Some(m)) => loop {
            poll_muxer(&mut st, m, ur, ts, &c, None);
        },
        _ => loop {
            while !st.reactor_perform() {}
            try_recv(&mut st, ur, ts, &c);
        },
    }
}
