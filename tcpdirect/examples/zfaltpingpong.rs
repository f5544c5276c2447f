//! Rust port of the TCPDirect sample `zfaltpingpong`: TCP round trips whose replies are
//! queued in advance on TX alternatives and sent with `zf_alternatives_send`.
//!
//! ```text
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfaltpingpong -- pong 127.0.0.1:20020 &
//! ZF_ATTR=interface=lo cargo run --release -p tcpdirect --example zfaltpingpong -- -i 10000 ping 127.0.0.1:20020
//! ```

mod common;

use std::time::Instant;

use common::*;
use tcpdirect::{AltKey, Stack, TcpKey};

const NUM_ALTS: usize = 2;

fn usage() -> ! {
    eprintln!("usage:");
    eprintln!("  zfaltpingpong [options] pong <this-host:port>");
    eprintln!("  zfaltpingpong [options] ping <remote-host:port>");
    eprintln!();
    eprintln!("options:");
    eprintln!("  -s tcp payload in bytes");
    eprintln!("  -i number of iterations");
    eprintln!("  -r number of warmup iterations");
    eprintln!();
    std::process::exit(1);
}

/// Queues `buf` on `alt`, running the reactor while the alternative is busy or full;
/// returns whether the reactor reported anything meanwhile.
fn queue_message(st: &Stack, z: TcpKey, alt: AltKey, buf: &[u8], busy: &mut u64) -> bool {
    let mut event = false;
    loop {
        match st.alt_queue(alt, z, buf) {
            Ok(()) => return event,
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) || e.is_would_block() => {
                if e.raw_os_error() == Some(libc::EBUSY) {
                    *busy += 1;
                }
                event |= st.reactor_perform();
            }
            Err(e) => try_or_exit(Err::<(), _>(e), "zft_alternatives_queue"),
        }
    }
}

fn main() {
    let args = getopt("s:i:r:");
    let (mut size, mut iters, mut warmups) = (12usize, 1_000_000usize, 1000usize);
    for (o, v) in &args.opts {
        let v = v.as_deref().unwrap_or("");
        match o {
            's' => size = atoi(v).max(0) as usize,
            'i' => iters = atoi(v).max(0) as usize,
            'r' => warmups = atoi(v).max(0) as usize,
            _ => usage(),
        }
    }
    if args.rest.len() != 2 {
        usage();
    }
    iters += warmups;
    let ping = ping_role(&args.rest[0]).unwrap_or_else(|| usage());
    let addr = lookup_or_exit(&args.rest[1]);
    print_backend();
    let mut attr = attr_from_env();
    try_or_exit(attr.set_alt_count(NUM_ALTS as u32), "alt_count");
    let mut st = try_or_exit(Stack::new(&attr), "zf_stack_alloc");
    let alts: Vec<AltKey> = (0..NUM_ALTS)
        .map(|_| try_or_exit(st.alternative(), "zf_alternatives_alloc"))
        .collect();
    let z = tcp_setup(&mut st, ping, addr);

    // Enough alternative buffer space for one message?
    let overhead = try_or_exit(
        try_or_exit(st.tcp_ref(z), "zft").alt_overhead(),
        "zf_alternatives_query_overhead_tcp",
    );
    let need = overhead.usage(size as u32) as i64;
    let space = try_or_exit(attr.get_int("alt_buf_size"), "alt_buf_size");
    if need > space {
        eprintln!(
            "ERROR: a message needs {need} bytes of alternative buffer, alt_buf_size is {space}"
        );
        std::process::exit(1);
    }

    let buf = vec![0u8; size];
    let mut busy = 0u64;
    let (mut sends_left, mut recvs_left, mut warmups_left) = (iters, iters, warmups);
    let mut maybe_rx = false;
    let mut next = 0;
    let mut start = Instant::now();
    if queue_message(&st, z, alts[next], &buf, &mut busy) {
        eprintln!("note: the reactor reported events while queueing the first message");
    }
    if ping {
        try_or_exit(st.alt_send(alts[next]), "zf_alternatives_send");
        next = (next + 1) % NUM_ALTS;
        queue_message(&st, z, alts[next], &buf, &mut busy);
        sends_left -= 1;
    }
    while recvs_left > 0 {
        let mut bytes_left = size;
        if warmups_left == 0 {
            start = Instant::now();
        }
        warmups_left = warmups_left.wrapping_sub(1);
        loop {
            if !maybe_rx {
                while !st.reactor_perform() {}
            }
            let mut t = try_or_exit(st.tcp(z), "zft");
            let Some(m) = t.zc_recv_max(1) else {
                maybe_rx = false;
                continue;
            };
            maybe_rx = m.packets_left() != 0;
            bytes_left = bytes_left.saturating_sub(m.len());
            if bytes_left == 0 {
                if sends_left > 0 {
                    try_or_exit(m.stack().alt_send(alts[next]), "zf_alternatives_send");
                    next = (next + 1) % NUM_ALTS;
                    if queue_message(m.stack(), z, alts[next], &buf, &mut busy) {
                        maybe_rx = true;
                    }
                    sends_left -= 1;
                }
                if !try_or_exit(m.done(), "zft_zc_recv_done") {
                    eprintln!("ERROR: connection closed by peer");
                    std::process::exit(1);
                }
                break;
            }
            if !try_or_exit(m.done(), "zft_zc_recv_done") {
                eprintln!("ERROR: connection closed by peer");
                std::process::exit(1);
            }
        }
        recvs_left -= 1;
    }
    if ping {
        let rtt = start.elapsed().as_secs_f64() * 1e6 / (iters - warmups).max(1) as f64;
        println!("mean round-trip time: {rtt:.3} usec");
        println!("alt_busy_count: {busy}");
    }
    for a in alts {
        let _ = st.alt_cancel(a);
    }
    tcp_close(&mut st, z);
}
