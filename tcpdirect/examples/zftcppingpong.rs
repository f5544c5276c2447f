//! Rust port of the TCPDirect sample `zftcppingpong`: TCP round trips with zero-copy
//! receive, optionally through a muxer (`-m`), with timestamps (`-t`, needs `-m`) or
//! overlapped receive (`-c <delay-ns>`, with `-m`; without it, as in the C program, `-c` is
//! ignored); same command line and output as the C program.
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zftcppingpong -- pong 127.0.0.1:20000 &
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zftcppingpong -- -i 10000 ping 127.0.0.1:20000
//! ```

mod common;

use std::time::{Duration, Instant};

use common::*;
use tcpdirect::{Event, MuxerKey, PacketReport, Readiness, ReportFlags, Stack, TcpKey};

fn usage() -> ! {
    eprintln!("usage:");
    eprintln!("  zftcppingpong [options] pong <this-host:port>");
    eprintln!("  zftcppingpong [options] ping <remote-host:port>");
    eprintln!();
    eprintln!("options:");
    eprintln!("  -s tcp payload in bytes");
    eprintln!("  -i number of iterations");
    eprintln!("  -r number of warmup iterations");
    eprintln!("  -m use multiplexer");
    eprintln!("  -t print timestamps (only if using multiplexer)");
    eprintln!(
        "  -c enable overlapped reads and specify a time for the overlapped delay in nanoseconds"
    );
    RoundTrips::usage_end();
}

/// The options: the shared ones, the muxer (`-m`) and overlapped receive (`-c`, with its
/// delay in ns).
struct Cfg {
    rt: RoundTrips,
    muxer: bool,
    overlapped: Option<u64>,
}

fn fail(what: &str) -> ! {
    eprintln!("ERROR: {what}");
    std::process::exit(1);
}

fn send(st: &Stack, z: TcpKey, buf: &[u8]) {
    let n = try_or_exit(
        try_or_exit(st.tcp_ref(z), "zft").send(buf),
        "zft_send_single",
    );
    if n != buf.len() {
        fail("zft_send_single sent part of a message");
    }
}

/// Plain loop: spin on the reactor, zero-copy receive, reply before releasing.
fn ping_pongs(st: &mut Stack, z: TcpKey, cfg: &Cfg, results: &mut Vec<u64>) {
    let buf = vec![0u8; cfg.rt.size];
    let (mut sends_left, mut recvs_left) = (cfg.rt.iters, cfg.rt.iters);
    let mut has_rx = false;
    let mut sink = 0u8;
    // The view is made once and kept: the reactor is reached through it.
    let mut t = try_or_exit(st.tcp(z), "zft");
    let mut begin = Instant::now();
    if cfg.rt.ping {
        if try_or_exit(t.send(&buf), "zft_send_single") != buf.len() {
            fail("zft_send_single sent part of a message");
        }
        sends_left -= 1;
    }
    while recvs_left > 0 {
        let mut bytes_left = cfg.rt.size;
        loop {
            if !has_rx {
                while !t.stack().reactor_perform() {}
            }
            let Some(m) = t.zc_recv_max(1) else {
                has_rx = false;
                continue;
            };
            has_rx = m.packets_left() != 0;
            if m.len() > bytes_left {
                fail("received more than a message");
            }
            bytes_left -= m.len();
            if cfg.rt.touch_rx {
                sink ^= m.iter().map(touch).fold(0, |a, b| a ^ b);
            }
            if bytes_left == 0 {
                // Reply before releasing, to save a few nanoseconds.
                if cfg.rt.ping {
                    results.push(begin.elapsed().as_nanos() as u64);
                }
                if sends_left > 0 {
                    begin = Instant::now();
                    let n = try_or_exit(m.zocket().send(&buf), "zft_send_single");
                    if n != buf.len() {
                        fail("zft_send_single sent part of a message");
                    }
                    sends_left -= 1;
                }
                if !try_or_exit(m.done(), "zft_zc_recv_done") {
                    fail("connection closed by peer");
                }
                break;
            }
            if !try_or_exit(m.done(), "zft_zc_recv_done") {
                fail("connection closed by peer");
            }
        }
        recvs_left -= 1;
    }
    std::hint::black_box(sink);
}

fn print_rx_ts(m: &tcpdirect::TcpZc<'_, '_>) {
    let ts = try_or_exit(m.timestamp(0), "zft_pkt_get_timestamp");
    eprintln!(
        "TIME RECV  {}.{:09} bytes {} flags {:x}",
        ts.time.as_secs(),
        ts.time.subsec_nanos(),
        m.len(),
        ts.flags.bits()
    );
}

/// Drains TX reports; returns whether one was there.
fn tx_report(st: &Stack, z: TcpKey, ts_bytes_left: &mut usize) -> bool {
    let mut r = [PacketReport::default(); 1];
    let t = try_or_exit(st.tcp_ref(z), "zft");
    let got = try_or_exit(t.tx_timestamps(&mut r), "zft_get_tx_timestamps");
    let Some(r) = got.first() else { return false };
    let ts = r.timestamp();
    eprintln!(
        "TIME SENT  {}.{:09} bytes {} left {} flags {:x}",
        ts.as_secs(),
        ts.subsec_nanos(),
        r.bytes(),
        ts_bytes_left,
        r.flags().bits()
    );
    if !r.flags().contains(ReportFlags::TCP_RETRANS) {
        *ts_bytes_left = ts_bytes_left.saturating_sub(r.bytes() as usize);
    }
    true
}

/// The round-trip bookkeeping of the muxer loops, kept as the C sample keeps it: messages
/// still to send and to receive, bytes of the current message still to arrive, bytes whose
/// TX timestamps are still to be reported, and when the current message went out.
struct Rounds {
    buf: Vec<u8>,
    sends_left: usize,
    recvs_left: usize,
    rx_bytes_left: usize,
    ts_bytes_left: usize,
    begin: Instant,
}

impl Rounds {
    /// Before the loop: the first message goes out if this end pings.
    fn start(st: &Stack, z: TcpKey, cfg: &Cfg) -> Rounds {
        let mut k = Rounds {
            buf: vec![0u8; cfg.rt.size],
            sends_left: cfg.rt.iters,
            recvs_left: cfg.rt.iters,
            rx_bytes_left: cfg.rt.size,
            ts_bytes_left: 0,
            begin: Instant::now(),
        };
        if cfg.rt.ping {
            k.send(st, z, cfg);
        }
        k
    }

    /// Whether the current round still waits for bytes or timestamp reports.
    fn busy(&self) -> bool {
        self.rx_bytes_left > 0 || self.ts_bytes_left > 0
    }

    /// Sends the next message.
    fn send(&mut self, st: &Stack, z: TcpKey, cfg: &Cfg) {
        self.begin = Instant::now();
        send(st, z, &self.buf);
        self.sends_left -= 1;
        self.ts_bytes_left = if cfg.rt.timestamps { cfg.rt.size } else { 0 };
    }

    /// After each event: once the current message and its reports are all in, the next
    /// round begins (the next message is awaited, and sent if any are left).
    fn advance(&mut self, st: &Stack, z: TcpKey, cfg: &Cfg) {
        if self.rx_bytes_left != 0 || self.ts_bytes_left != 0 {
            return;
        }
        if self.recvs_left > 0 {
            self.recvs_left -= 1;
            self.rx_bytes_left = if self.recvs_left > 0 { cfg.rt.size } else { 0 };
        }
        if self.sends_left > 0 {
            self.send(st, z, cfg);
        }
    }
}

/// Muxer loop (`-m`), with TX/RX timestamps (`-t`).
fn muxer_ping_pongs(st: &mut Stack, z: TcpKey, mux: MuxerKey, cfg: &Cfg, results: &mut Vec<u64>) {
    let mut k = Rounds::start(st, z, cfg);
    let (mut has_rx, mut has_ts) = (false, false);
    let mut ev = [Event::default(); 1];
    while k.busy() {
        if !(has_rx || has_ts) {
            let got = try_or_exit(st.muxer_wait(mux, &mut ev, None), "zf_muxer_wait");
            let r = got.first().map_or(Readiness::empty(), Event::readiness);
            has_rx = r.contains(Readiness::IN);
            has_ts = r.contains(Readiness::ERR);
        }
        if has_rx {
            let mut t = try_or_exit(st.tcp(z), "zft");
            match t.zc_recv_max(1) {
                Some(m) => {
                    if cfg.rt.ping {
                        results.push(k.begin.elapsed().as_nanos() as u64);
                    }
                    if m.len() > k.rx_bytes_left {
                        fail("received more than a message");
                    }
                    k.rx_bytes_left -= m.len();
                    has_rx = m.packets_left() != 0;
                    if k.recvs_left > 0 && cfg.rt.timestamps {
                        print_rx_ts(&m);
                    }
                    let open = try_or_exit(m.done(), "zft_zc_recv_done");
                    if k.recvs_left > 0 && !open {
                        fail("connection closed by peer");
                    }
                }
                None => has_rx = false,
            }
        }
        if has_ts {
            has_ts = tx_report(st, z, &mut k.ts_bytes_left);
        }
        k.advance(st, z, cfg);
    }
}

/// Overlapped loop (`-m -c <delay-ns>`), as the C sample's: a packet reported with
/// `IN_OVERLAPPED` is waited for (its first `-s` bytes), timed, "processed" for the delay
/// while it completes, then completed and verified; plain `IN` is received as usual.
fn pftf_ping_pongs(
    st: &mut Stack,
    z: TcpKey,
    mux: MuxerKey,
    cfg: &Cfg,
    delay_ns: u64,
    results: &mut Vec<u64>,
) {
    let mut k = Rounds::start(st, z, cfg);
    let mut ev = [Event::default(); 1];
    while k.busy() {
        let got = try_or_exit(st.muxer_wait(mux, &mut ev, None), "zf_muxer_wait");
        let r = got.first().map_or(Readiness::empty(), Event::readiness);
        if r.contains(Readiness::IN_OVERLAPPED) && r.intersects(Readiness::IN | Readiness::ERR) {
            fail("ZF_EPOLLIN_OVERLAPPED reported with other events");
        }
        if r.contains(Readiness::IN) {
            loop {
                let mut t = try_or_exit(st.tcp(z), "zft");
                let Some(m) = t.zc_recv_max(1) else { break };
                if m.len() > k.rx_bytes_left {
                    fail("received more than a message");
                }
                k.rx_bytes_left -= m.len();
                if cfg.rt.timestamps {
                    print_rx_ts(&m);
                }
                // Received: simulate some processing of the data.
                std::thread::sleep(Duration::from_nanos(1000));
                let left = m.packets_left();
                let open = try_or_exit(m.done(), "zft_zc_recv_done");
                if !(open || (k.recvs_left <= 1 && k.rx_bytes_left == 0)) {
                    fail("connection closed by peer");
                }
                if left == 0 {
                    break;
                }
            }
            if cfg.rt.ping {
                results.push(k.begin.elapsed().as_nanos() as u64);
            }
        } else if r.contains(Readiness::IN_OVERLAPPED) {
            let mut t = try_or_exit(st.tcp(z), "zft");
            let Some(early) = t.zc_recv_overlapped(cfg.rt.size) else {
                // The overlapped wait was abandoned.
                continue;
            };
            // Timed here, kept only if the packet passes verification.
            let end = k.begin.elapsed();
            if delay_ns > 0 && k.rx_bytes_left == early.len() {
                // Simulate heavy processing of the packet while it completes.
                std::thread::sleep(Duration::from_nanos(delay_ns));
            }
            let Some(m) = early.complete() else {
                // The packet did not pass verification.
                continue;
            };
            if cfg.rt.ping {
                results.push(end.as_nanos() as u64);
            }
            if m.len() > k.rx_bytes_left {
                fail("received more than a message");
            }
            k.rx_bytes_left -= m.len();
            if cfg.rt.timestamps {
                print_rx_ts(&m);
            }
            let open = try_or_exit(m.done(), "zft_zc_recv_done");
            if !(open || (k.recvs_left <= 1 && k.rx_bytes_left == 0)) {
                fail("connection closed by peer");
            }
        }
        if r.contains(Readiness::ERR) {
            while tx_report(st, z, &mut k.ts_bytes_left) {}
        }
        k.advance(st, z, cfg);
    }
}

fn main() {
    let args = getopt("s:i:r:c:mtfp:w:R");
    let mut cfg = Cfg {
        rt: RoundTrips::default(),
        muxer: false,
        overlapped: None,
    };
    for (o, v) in &args.opts {
        let v = v.as_deref().unwrap_or("");
        match o {
            'm' => cfg.muxer = true,
            'c' => cfg.overlapped = Some(atoi(v).max(0) as u64),
            _ if cfg.rt.option(*o, v) => {}
            _ => usage(),
        }
    }
    if cfg.rt.timestamps && !cfg.muxer {
        eprintln!("Timestamp reporting (-t) requires multiplexer (-m)");
        usage();
    }
    let Some(addrs) = cfg.rt.operands(&args.rest, 1) else {
        usage();
    };
    let addr = addrs[0];
    print_backend();

    let mut st = try_or_exit(Stack::new(&cfg.rt.attr()), "zf_stack_alloc");
    let z = tcp_setup(&mut st, cfg.rt.ping, addr);

    let mux = if cfg.muxer {
        let m = try_or_exit(st.muxer(), "zf_muxer_alloc");
        let mut events = Readiness::IN | Readiness::ERR;
        if cfg.overlapped.is_some() {
            events |= Readiness::IN_OVERLAPPED;
        }
        try_or_exit(st.muxer_add(m, &z, events, 0), "zf_muxer_add");
        Some(m)
    } else {
        None
    };

    let mss = try_or_exit(try_or_exit(st.tcp_ref(z), "zft").mss(), "zft_get_mss");
    let mut results = Vec::with_capacity(if cfg.rt.ping { cfg.rt.iters } else { 0 });
    if mss < cfg.rt.size {
        println!(
            "ERROR: Connection MSS of {mss} is not large enough to test with configured packet size of {}",
            cfg.rt.size
        );
    } else {
        match (mux, cfg.overlapped) {
            (Some(m), Some(delay)) => pftf_ping_pongs(&mut st, z, m, &cfg, delay, &mut results),
            (Some(m), None) => muxer_ping_pongs(&mut st, z, m, &cfg, &mut results),
            (None, _) => ping_pongs(&mut st, z, &cfg, &mut results),
        }
        cfg.rt.report(&results);
    }
    if let Some(m) = mux {
        let _ = st.muxer_delete(&z);
        let _ = st.free(m);
    }
    tcp_close(&mut st, z);
}
