//! `efforward`: forwards every frame received on one interface out of the other, without
//! copying: one buffer pool is registered with both protection domains (a Rust port of the
//! SDK sample).
//!
//! ```text
//! efforward [options] <intf0> <intf1>
//! ```

#[path = "common/mod.rs"]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use etherfabric::*;

const USAGE: &str = "\
usage:
  efforward <intf0> <intf1>

options:
  -c       use cut-though RX mode (default is RX merge / batched mode)
  -u       unidirectional - only forward from <intf0> to <intf1>
  -n       don't output per-second stats
";

const RING: u32 = 512;
const REFILL_BATCH: usize = 16;

struct Side {
    vi: Vi,
    _filters: Vec<Filter>,
    tx_outstanding: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) =
        common::getopt(&args, "cun", "").unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let merge = !opts.iter().any(|(c, _)| *c == 'c');
    let uni = opts.iter().any(|(c, _)| *c == 'u');
    let stats = !opts.iter().any(|(c, _)| *c == 'n');
    let [i0, i1] = rest.as_slice() else {
        common::usage_exit(None, USAGE)
    };
    if let Err(e) = run(merge, uni, stats, i0, i1) {
        eprintln!("efforward: {e}");
        std::process::exit(1);
    }
}

fn run(merge: bool, uni: bool, stats: bool, i0: &str, i1: &str) -> Result<()> {
    println!("# ef_vi backend: {}", backend());
    let driver = Driver::open()?;
    let pds = [
        ProtectionDomain::by_name(&driver, i0, PdFlags::empty())?,
        ProtectionDomain::by_name(&driver, i1, PdFlags::empty())?,
    ];
    let mut flags = ViFlags::empty();
    if merge {
        for pd in &pds {
            if pd.capability(Capability::RX_MERGE).unwrap_or(0) == 0 {
                eprintln!(
                    "WARNING: RX merge not supported on {}. Use '-c' option instead.",
                    pd.interface_name().unwrap_or_default()
                );
                std::process::exit(1);
            }
        }
        flags |= ViFlags::RX_EVENT_MERGE;
    }
    // One block of memory, registered with both protection domains.
    let n_bufs = 2 * 2 * RING;
    let r0 = MemoryRegion::alloc(&pds[0], n_bufs as usize * DEFAULT_BUF_SIZE)?;
    let r1 = r0.register_with(&pds[1])?;
    let mut pool = BufferPool::with_regions(vec![r0, r1], DEFAULT_BUF_SIZE)?;
    let mut sides = Vec::with_capacity(2);
    for (i, pd) in pds.iter().enumerate() {
        let vi = Vi::builder(pd)
            .rxq_capacity(Some(RING))
            .txq_capacity(Some(RING))
            .flags(flags)
            .build(&pool)?;
        sides.push(Side {
            vi,
            _filters: Vec::new(),
            tx_outstanding: false,
        });
        if uni && i == 1 {
            continue;
        }
        let s = sides.last_mut().expect("just pushed");
        s.vi.refill(&mut pool, RING as usize);
        s._filters
            .push(s.vi.add_filter(&FilterSpec::default().unicast_all()?)?);
        s._filters
            .push(s.vi.add_filter(&FilterSpec::default().multicast_all()?)?);
    }
    let counts = Arc::new([AtomicU64::new(0), AtomicU64::new(0)]);
    if stats {
        let c = counts.clone();
        std::thread::spawn(move || monitor(&c));
    }
    let mut events: [Event; 16] = Default::default();
    loop {
        for i in 0..2 {
            if sides[i].tx_outstanding {
                sides[i].vi.transmit_push();
                sides[i].tx_outstanding = false;
            }
            let (a, b) = sides.split_at_mut(1);
            let (rx, tx) = if i == 0 {
                (&mut a[0], &mut b[0])
            } else {
                (&mut b[0], &mut a[0])
            };
            let evs = rx.vi.poll(&mut events);
            for ev in evs.iter_mut() {
                match ev.take() {
                    Event::Rx(r) => {
                        counts[i].fetch_add(1, Ordering::Relaxed);
                        let (off, len) = (r.offset(), r.len());
                        forward(&mut pool, tx, r.buf, off, len);
                    }
                    Event::RxMulti(m) => {
                        let discard = m.discard().is_some();
                        let mut got: [Option<RxPacket>; 15] = Default::default();
                        let mut n = 0;
                        rx.vi.receive_unbundle(m, |p| {
                            got[n] = Some(p);
                            n += 1;
                        });
                        for p in got.iter_mut().take(n).filter_map(Option::take) {
                            match (discard, p.len) {
                                (false, Some(len)) => {
                                    counts[i].fetch_add(1, Ordering::Relaxed);
                                    forward(&mut pool, tx, p.buf, p.offset, len);
                                }
                                _ => {
                                    let _ = pool.put(p.buf);
                                }
                            }
                        }
                    }
                    Event::RxDiscard(d) => {
                        let _ = pool.put(d.buf);
                    }
                    Event::Tx(c) => {
                        rx.vi.transmit_unbundle(c, |b| {
                            let _ = pool.put(b);
                        });
                    }
                    other => eprintln!("ERROR: unexpected event {other:?}"),
                }
            }
            if !(uni && i == 1) && rx.vi.rx_space() >= REFILL_BATCH {
                rx.vi.refill(&mut pool, RING as usize);
            }
        }
    }
}

/// Sends a received buffer out of the other VI; a full TX ring drops it, as the C sample does.
fn forward(pool: &mut BufferPool, tx: &mut Side, buf: PacketBuf, offset: usize, len: usize) {
    match tx.vi.transmit_init_at(buf, offset, len) {
        Ok(()) => tx.tx_outstanding = true,
        Err(r) => {
            let _ = pool.put(r.buf);
        }
    }
}

fn monitor(c: &[AtomicU64; 2]) {
    use std::io::Write;
    let mut prev = [c[0].load(Ordering::Relaxed), c[1].load(Ordering::Relaxed)];
    let mut start = Instant::now();
    println!("  vi0-rx\t  vi1-rx");
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = [c[0].load(Ordering::Relaxed), c[1].load(Ordering::Relaxed)];
        let ms = (start.elapsed().as_millis() as u64).max(1);
        start = Instant::now();
        println!(
            "{:8}\t{:8}",
            (now[0] - prev[0]) * 1000 / ms,
            (now[1] - prev[1]) * 1000 / ms
        );
        let _ = std::io::stdout().flush();
        prev = now;
    }
}
