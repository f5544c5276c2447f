//! `efrss`: receive-side scaling: a VI set spreads the flows arriving on an interface over
//! several VIs, each polled by a thread of its own (a Rust port of the SDK sample).
//!
//! ```text
//! efrss [options] <num-threads> <intf>
//! ```
//!
//! Beyond the C sample, `-n <packets>` makes it exit once that many packets have arrived,
//! printing the total of each VI (`# totals: <vi0> <vi1> ...`).

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use etherfabric::*;

const USAGE: &str = "\
usage:
  efrss <num-threads> <intf>

options:
  -d     hexdump received packet
  -b     enable receive from mcast loopback
  -n <packets>  exit after receiving this many packets (all VIs together)
";

const REFILL_BATCH: usize = 16;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) =
        common::getopt(&args, "db", "n").unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let hexdump = opts.iter().any(|(c, _)| *c == 'd');
    let loopback = opts.iter().any(|(c, _)| *c == 'b');
    let exit_after: u64 = opts
        .iter()
        .find(|(c, _)| *c == 'n')
        .map_or(0, |(_, v)| common::num(v, USAGE));
    let [n, intf] = rest.as_slice() else {
        common::usage_exit(None, USAGE)
    };
    let n: u32 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .unwrap_or_else(|| common::usage_exit(Some("bad number of threads"), USAGE));
    if let Err(e) = run(n, intf, hexdump, loopback, exit_after) {
        eprintln!("efrss: {e}");
        std::process::exit(1);
    }
}

fn run(n: u32, intf: &str, hexdump: bool, loopback: bool, exit_after: u64) -> Result<()> {
    println!("# ef_vi backend: {}", backend());
    let driver = Driver::open()?;
    let pd = ProtectionDomain::by_name(&driver, intf, PdFlags::empty())?;
    let set = ViSet::new(&pd, n)?;
    let counts: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    // Workers make their VIs, then wait here; filters go in once all are ready.
    let ready = Arc::new(Barrier::new(n as usize + 1));
    let (err_tx, err_rx) = std::sync::mpsc::channel::<Error>();
    // Set once `-n` packets came: the workers stop and free their VIs before efrss exits.
    let stop = Arc::new(AtomicBool::new(false));
    let mut workers = Vec::with_capacity(n as usize);
    for i in 0..n as usize {
        let (set, pd, counts, ready, err_tx, stop) = (
            set.clone(),
            pd.clone(),
            counts.clone(),
            ready.clone(),
            err_tx.clone(),
            stop.clone(),
        );
        workers.push(std::thread::spawn(move || {
            let made = (|| -> Result<(Vi, BufferPool)> {
                let mut pool = BufferPool::alloc(&pd, 512, DEFAULT_BUF_SIZE)?;
                let mut vi = set.vi_builder(None).txq_capacity(Some(0)).build(&pool)?;
                vi.refill(&mut pool, 512);
                Ok((vi, pool))
            })();
            let (mut vi, mut pool) = match made {
                Ok(x) => x,
                Err(e) => {
                    let _ = err_tx.send(e);
                    ready.wait();
                    return;
                }
            };
            ready.wait();
            let mut events: [Event; 16] = Default::default();
            while !stop.load(Ordering::Relaxed) {
                for ev in vi.poll(&mut events).iter_mut() {
                    match ev.take() {
                        Event::Rx(rx) => {
                            counts[i].fetch_add(1, Ordering::Relaxed);
                            if hexdump {
                                dump(vi.frame(&rx));
                            }
                            let _ = pool.put(rx.buf);
                        }
                        Event::RxDiscard(d) => {
                            let _ = pool.put(d.buf);
                        }
                        other => eprintln!("ERROR: unexpected event {other:?}"),
                    }
                }
                if vi.rx_space() >= REFILL_BATCH {
                    vi.refill(&mut pool, 512);
                }
            }
        }));
    }
    ready.wait();
    if let Ok(e) = err_rx.try_recv() {
        return Err(e);
    }
    let flags = if loopback {
        FilterFlags::MCAST_LOOP_RECEIVE
    } else {
        FilterFlags::empty()
    };
    let _f1 = set.add_filter(&FilterSpec::default().unicast_all()?)?;
    let _f2 = set.add_filter(&FilterSpec::new(flags).multicast_all()?)?;
    monitor(&counts, exit_after);
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    Ok(())
}

fn dump(frame: &[u8]) {
    for (i, chunk) in frame.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        println!("{:08x}  {}", i * 16, hex.join(" "));
    }
    println!();
}

fn monitor(counts: &[AtomicU64], exit_after: u64) {
    use std::io::Write;
    let load = || {
        counts
            .iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect::<Vec<_>>()
    };
    let header: String = (0..counts.len()).map(|i| format!("vi{i}-rx\t")).collect();
    println!("{header}");
    let mut prev = load();
    let mut start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now = load();
        let ms = (start.elapsed().as_millis() as u64).max(1);
        start = Instant::now();
        let line: String = now
            .iter()
            .zip(&prev)
            .map(|(n, p)| format!("{}\t", (n - p) * 1000 / ms))
            .collect();
        println!("{line}");
        let _ = std::io::stdout().flush();
        prev = now;
        let total: u64 = prev.iter().sum();
        if exit_after > 0 && total >= exit_after {
            let t: Vec<String> = prev.iter().map(u64::to_string).collect();
            println!("# totals: {}", t.join(" "));
            let _ = std::io::stdout().flush();
            return;
        }
    }
}
