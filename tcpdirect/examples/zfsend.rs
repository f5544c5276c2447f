//! Rust port of the TCPDirect sample `zfsend`: sends UDP datagrams with
//! `zfut_send_single`, optionally reporting TX timestamps (`-t`).
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfsend -- -i 1000 -q 127.0.0.1:20011 127.0.0.1:20010
//! ```

mod common;

use common::*;
use tcpdirect::{PacketReport, Stack};

fn usage() -> ! {
    eprintln!("usage:");
    eprintln!("  zfsend [options] <local_host:port> <remote_host:port>");
    eprintln!();
    eprintln!("options:");
    eprintln!("  -s       Size of the payload");
    eprintln!("  -i       Number of send iterations");
    eprintln!("  -t       Enable tx timestamping");
    eprintln!("  -q       Quiet -- do not emit progress messages");
    eprintln!("  -u       Sleep interval");
    std::process::exit(1);
}

fn main() {
    let args = getopt("hHs:i:tqu");
    let (mut size, mut iters, mut ts, mut quiet, mut sleep_us) =
        (12usize, 1_000_000usize, false, false, 0u64);
    for (o, v) in &args.opts {
        let v = v.as_deref().unwrap_or("");
        match o {
            's' => size = atoi(v).max(0) as usize,
            'i' => iters = atoi(v).max(0) as usize,
            't' => ts = true,
            'q' => quiet = true,
            // As the C sample's getopt string has it: -u takes no value and sleeps 1 us.
            'u' => sleep_us = 1,
            _ => usage(),
        }
    }
    let [l, r] = args.rest.as_slice() else {
        usage()
    };
    let (Some(local), Some(remote)) = (lookup(l), lookup(r)) else {
        eprintln!(
            "ERROR: failed to lookup address '{}'",
            if lookup(l).is_none() { l } else { r }
        );
        usage();
    };
    let vlog = |s: &str| {
        if !quiet {
            println!("{s}");
        }
    };
    print_backend();
    let mut attr = attr_from_env();
    if ts {
        try_or_exit(attr.set_tx_timestamping(1), "tx_timestamping");
    }
    let mut st = try_or_exit(Stack::new(&attr), "zf_stack_alloc");
    let ut = try_or_exit(st.udp_sender(local, remote), "zfut_alloc");
    let buf = vec![0u8; size];
    let mut reports: Vec<PacketReport> = Vec::new();
    vlog("Sending packets...");
    if ts {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        eprintln!("TIME BEGIN {}.{:09}", now.as_secs(), now.subsec_nanos());
    }
    let (mut sends_left, mut times_left) = (iters, if ts { iters } else { 0 });
    let mut one = [PacketReport::default(); 1];
    while sends_left > 0 || times_left > 0 {
        if sends_left > 0 {
            vlog("Sending single packet...");
            let n = try_or_exit(
                try_or_exit(st.udp_tx(ut), "zfut").send(&buf),
                "zfut_send_single",
            );
            assert_eq!(n, size);
            sends_left -= 1;
        }
        vlog("Draining reactor...");
        while st.reactor_perform() {}
        if ts {
            let got = try_or_exit(
                try_or_exit(st.udp_tx(ut), "zfut").tx_timestamps(&mut one),
                "zfut_get_tx_timestamps",
            );
            if let Some(r) = got.first() {
                assert_eq!(r.bytes() as usize, size);
                reports.push(*r);
                times_left -= 1;
            }
        }
        if sleep_us > 0 {
            std::thread::sleep(std::time::Duration::from_micros(sleep_us));
        }
    }
    for r in &reports {
        let t = r.timestamp();
        eprintln!(
            "TIME SENT  {}.{:09} flags {:x}",
            t.as_secs(),
            t.subsec_nanos(),
            r.flags().bits()
        );
    }
}
