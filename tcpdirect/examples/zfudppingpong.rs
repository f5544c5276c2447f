//! Rust port of the TCPDirect sample `zfudppingpong`: UDP round trips with zero-copy
//! receive and `zfut_send_single`, same command line and output as the C program.
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfudppingpong -- pong 127.0.0.1:20001 127.0.0.1:20002 &
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfudppingpong -- -i 10000 ping 127.0.0.1:20002 127.0.0.1:20001
//! ```

mod common;

use std::time::Instant;

use common::*;
use tcpdirect::{PacketReport, Stack, UdpRxKey, UdpTxKey};

fn usage() -> ! {
    eprintln!("usage:");
    eprintln!("  zfudppingpong [options] pong <ponger:port> <pinger:port>");
    eprintln!("  zfudppingpong [options] ping <pinger:port> <ponger:port>");
    eprintln!();
    eprintln!("options:");
    eprintln!("  -s udp payload in bytes");
    eprintln!("  -i number of iterations");
    eprintln!("  -r number of warmup iterations");
    eprintln!("  -t print timestamps");
    RoundTrips::usage_end();
}

/// The options: only the ones the ping-pong samples share.
type Cfg = RoundTrips;

/// The round trips: returns the pinger's per-iteration times (ns), and the TX and RX
/// timestamp reports when asked for.
fn ping_pongs(
    st: &mut Stack,
    ur: UdpRxKey,
    ut: UdpTxKey,
    cfg: &Cfg,
) -> (Vec<u64>, Vec<PacketReport>, Vec<tcpdirect::Timestamp>) {
    let buf = vec![0u8; cfg.size];
    let mut results = Vec::with_capacity(if cfg.ping { cfg.iters } else { 0 });
    let mut txr = Vec::new();
    let mut rxr = Vec::new();
    let mut sends_left = cfg.iters;
    let mut recvs_left = cfg.iters;
    let mut times_left = if cfg.timestamps { cfg.iters } else { 0 };
    let mut sink = 0u8;
    if cfg.timestamps {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!("TIME BEGIN {}.{:09}", now.as_secs(), now.subsec_nanos());
    }
    // The views are made once and kept: the reactor is reached through them.
    let mut rx = try_or_exit(st.udp_rx(ur), "zfur");
    let tx = try_or_exit(rx.stack().udp_tx(ut), "zfut");
    let mut begin = Instant::now();
    if cfg.ping {
        let n = try_or_exit(tx.send(&buf), "zfut_send_single");
        assert_eq!(n, cfg.size);
        sends_left -= 1;
    }
    let mut report = [PacketReport::default(); 1];
    while recvs_left > 0 || times_left > 0 {
        while !rx.stack().reactor_perform() {}
        if let Some(m) = rx.zc_recv() {
            if cfg.ping {
                results.push(begin.elapsed().as_nanos() as u64);
            }
            if cfg.touch_rx {
                sink ^= touch(m.data());
            }
            if sends_left > 0 {
                begin = Instant::now();
                let n = try_or_exit(tx.send(&buf), "zfut_send_single");
                assert_eq!(n, cfg.size);
                sends_left -= 1;
            }
            assert_eq!(m.datagrams_left(), 0, "a ping-pong never queues datagrams");
            if cfg.timestamps {
                rxr.push(try_or_exit(m.timestamp(), "zfur_pkt_get_timestamp"));
            }
            drop(m);
            recvs_left -= 1;
        }
        if times_left > 0 {
            let got = try_or_exit(tx.tx_timestamps(&mut report), "zfut_get_tx_timestamps");
            if let Some(r) = got.first() {
                assert_eq!(r.bytes() as usize, cfg.size);
                txr.push(*r);
                times_left -= 1;
            }
        }
    }
    std::hint::black_box(sink);
    (results, txr, rxr)
}

fn main() {
    let args = getopt("s:i:r:tfp:w:R");
    let mut cfg = Cfg::default();
    for (o, v) in &args.opts {
        if !cfg.option(*o, v.as_deref().unwrap_or("")) {
            usage();
        }
    }
    let Some(addrs) = cfg.operands(&args.rest, 2) else {
        usage();
    };
    let (local, remote) = (addrs[0], addrs[1]);
    print_backend();

    let mut st = try_or_exit(Stack::new(&cfg.attr()), "zf_stack_alloc");
    let ur = try_or_exit(st.udp_receiver(), "zfur_alloc");
    try_or_exit(
        try_or_exit(st.udp_rx(ur), "zfur").bind(local, Some(remote)),
        "zfur_addr_bind",
    );
    let ut = try_or_exit(st.udp_sender(local, remote), "zfut_alloc");

    let (results, txr, rxr) = ping_pongs(&mut st, ur, ut, &cfg);

    if cfg.timestamps {
        for i in cfg.warmups..cfg.iters {
            let sent = txr
                .get(i)
                .map(|r| (r.timestamp(), r.flags().bits()))
                .unwrap_or_default();
            let recv = rxr
                .get(i)
                .map(|r| (r.time, r.flags.bits()))
                .unwrap_or_default();
            let line = |what: &str, (t, f): (std::time::Duration, u16)| {
                eprintln!(
                    "TIME {what}  {}.{:09} flags {:x}",
                    t.as_secs(),
                    t.subsec_nanos(),
                    f
                )
            };
            if cfg.ping {
                line("SENT", sent);
                line("RECV", recv);
            } else {
                line("RECV", recv);
                line("SENT", sent);
            }
        }
    }
    cfg.report(&results);
}
