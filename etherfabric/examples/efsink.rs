//! `efsink`: receives the packets that match the filters given on the command line and
//! prints the packet rate, bandwidth and total once a second (a Rust port of the SDK sample).
//!
//! ```text
//! efsink [options] <interface> [<filter-spec>...]
//! ```
//!
//! Run (as root, or with CAP_NET_RAW on the software backend):
//! `cargo run -p etherfabric --example efsink -- lo udp:127.0.0.1:5000`

#[path = "common/mod.rs"]
mod common;
#[path = "efsink/filters.rs"]
mod filters;

use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use etherfabric::*;

const USAGE: &str = "\
usage:
  efsink [options] <interface> [<filter-spec>...]

filter-spec:
  {udp|tcp}:[mcastloop-rx,][vid=<vlan>,]<local-host>:<local-port>[,<remote-host>:<remote-port>]
  eth:[vid=<vlan>,][{ipproto,ethertype}=<val>,]<local-mac>
  ethertype:[vid=<vlan>,]<ethertype>
  ipproto:[vid=<vlan>,]<protocol>
  {unicast-all,multicast-all}
  {unicast-mis,multicast-mis}:[vid=<vlan>]
  {sniff}:[promisc|no-promisc]
  {tx-sniff}
  {block-kernel|block-kernel-unicast|block-kernel-multicast}

options:
  -d       hexdump received packet
  -t       enable hardware timestamps
  -V       allocate a virtual port
  -L <vid> assign vlan id to virtual port
  -v       enable verbose logging
  -m       monitor vi error statistics
  -b       use high RX event merge (batched) mode
  -e       block on eventq instead of busy wait
  -f       block on fd instead of busy wait
  -F <fl>  set max fill level for RX ring
  -n <num> exit after receiving n packets
  -j       join the multicast IPv4 group of the (last) udp/tcp filter-spec, with a
           kernel socket, so that switches and routers deliver the group
  -D <num> set the discard mask (ef_vi_receive_set_discards; decimal, 0x hex or
           0 octal): a bitwise OR of ef_vi_rx_discard_err_flags: 0x1 L4 checksum,
           0x2 L3 checksum, 0x4 FCS, 0x8 length, 0x10 to be discarded,
           0x20 inner L4 checksum, 0x40 inner L3 checksum, 0x80 unknown L2,
           0x100 neither IPv4 nor IPv6, 0x200 not TCP, UDP or a fragment
  -x       ask for an RX queue of the VI's own for the filters (exclusive)
  -s       ask for an RX queue shared with other applications for the filters
  -q <qid> steer the filters to hardware RX queue <qid>
  -i       print the hardware filter id of each filter, and of each packet
           where the adapter lends packets (express datapath)
";

const REFILL_BATCH: usize = 16;

#[derive(Default)]
struct Config {
    hexdump: bool,
    timestamps: bool,
    vport: bool,
    vlan: Option<u16>,
    verbose: bool,
    stats: bool,
    merge: bool,
    evq_wait: bool,
    fd_wait: bool,
    max_fill: Option<usize>,
    exit_pkts: u64,
    /// Flags every filter is added with (`-x`, `-s`).
    filter_flags: FilterFlags,
    /// Hardware RX queue the filters steer to (`-q`).
    rxq: Option<u32>,
    /// Print filter ids (`-i`).
    filter_ids: bool,
    /// Join the filters' multicast group with a kernel socket (`-j`).
    join_mcast: bool,
    /// The discard mask (`-D`).
    discards: Option<DiscardFlags>,
}

#[derive(Default)]
struct Counters {
    pkts: AtomicU64,
    bytes: AtomicU64,
    events: AtomicU64,
    /// Set by the monitor once `-n` packets came: the receive loop ends and efsink exits,
    /// freeing everything (the C sample calls `exit(0)` from its monitor thread).
    done: AtomicBool,
}

fn hexdump(frame: &[u8]) {
    for (i, chunk) in frame.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        println!("{:04x}  {}", i * 16, hex.join(" "));
    }
    println!();
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) = common::getopt(&args, "dtVvmbefxsij", "LFnqD")
        .unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let mut cfg = Config::default();
    for (c, v) in &opts {
        match c {
            'd' => cfg.hexdump = true,
            't' => cfg.timestamps = true,
            'V' => cfg.vport = true,
            'L' => cfg.vlan = Some(common::num(v, USAGE)),
            'v' => cfg.verbose = true,
            'm' => cfg.stats = true,
            'b' => cfg.merge = true,
            'e' => cfg.evq_wait = true,
            'f' => cfg.fd_wait = true,
            'F' => cfg.max_fill = Some(common::num(v, USAGE)),
            'n' => cfg.exit_pkts = common::num(v, USAGE),
            'x' => cfg.filter_flags |= FilterFlags::EXCLUSIVE_RXQ,
            's' => cfg.filter_flags |= FilterFlags::SHARED_RXQ,
            'q' => cfg.rxq = Some(common::num(v, USAGE)),
            'i' => cfg.filter_ids = true,
            'j' => cfg.join_mcast = true,
            'D' => {
                let v = v.as_deref().unwrap_or("");
                let bits = filters::c_number(v).unwrap_or_else(|| {
                    common::usage_exit(Some(&format!("bad discard mask {v:?}")), USAGE)
                });
                cfg.discards = Some(DiscardFlags::from_bits_retain(bits));
            }
            _ => unreachable!(),
        }
    }
    if cfg.evq_wait && cfg.fd_wait {
        common::usage_exit(
            Some("you cannot specify both -e (block on eventq) and -f (block on fd)"),
            USAGE,
        );
    }
    if cfg
        .filter_flags
        .contains(FilterFlags::EXCLUSIVE_RXQ | FilterFlags::SHARED_RXQ)
    {
        common::usage_exit(
            Some("you cannot specify both -x (exclusive rxq) and -s (shared rxq)"),
            USAGE,
        );
    }
    let Some((intf, filters)) = rest.split_first() else {
        common::usage_exit(None, USAGE)
    };
    if let Err(e) = run(&cfg, intf, filters) {
        eprintln!("efsink: {e}");
        std::process::exit(1);
    }
}

fn run(cfg: &Config, intf: &str, filters: &[String]) -> Result<()> {
    println!("# ef_vi backend: {}", backend());
    let specs = filters
        .iter()
        .map(|f| f.parse::<FilterSpec>())
        .collect::<Result<Vec<_>>>()?;
    let (name, pd_flags) = common::parse_interface(intf)?;
    let driver = Driver::open()?;
    let pd = if cfg.vport {
        ProtectionDomain::with_vport(&driver, &name, pd_flags, cfg.vlan)?
    } else {
        ProtectionDomain::by_name(&driver, &name, pd_flags)?
    };
    let mut flags = ViFlags::empty();
    if cfg.timestamps {
        flags |= ViFlags::RX_TIMESTAMPS;
    }
    if cfg.merge {
        flags |= ViFlags::RX_EVENT_MERGE;
    }
    // The RX ring is sized like the C sample: the fill level asked for, else the default.
    let mut builder = Vi::builder(&pd).txq_capacity(Some(0)).flags(flags);
    if let Some(f) = cfg.max_fill {
        builder = builder.rxq_capacity(Some(f as u32));
    }
    // The pool is made first with room for a full default ring; the VI then bounds the fill.
    let n_bufs = cfg.max_fill.unwrap_or(512).max(REFILL_BATCH * 2) as u32;
    let mut pool = BufferPool::alloc(&pd, n_bufs, DEFAULT_BUF_SIZE)?;
    let mut vi = builder.build(&pool)?;
    if let Some(d) = cfg.discards {
        vi.set_rx_discards(d)?;
    }
    let cap = vi.rx_capacity();
    let max_fill = match cfg.max_fill {
        Some(f) if f > cap => {
            return Err(Error::InvalidArgument {
                what: format!("max fill ({f}) is bigger than ring capacity ({cap})"),
            });
        }
        Some(f) => f,
        None => cap.saturating_sub(15).min(pool.capacity()),
    };
    if cfg.verbose {
        println!("rxq_size={cap}");
        println!("max_fill={max_fill}");
        println!("evq_size={}", vi.evq_capacity());
        println!("rx_prefix_len={}", vi.rx_prefix_len());
        println!("discards={:#x}", vi.rx_discards().bits());
    }
    vi.refill(&mut pool, max_fill);
    let mut installed = Vec::with_capacity(specs.len());
    for (text, spec) in filters.iter().zip(&specs) {
        let mut spec = *spec;
        if let Some(q) = cfg.rxq {
            spec = spec.dest(q, 0)?;
        }
        let f = vi.add_filter(&spec.with_flags(cfg.filter_flags))?;
        if cfg.filter_ids {
            println!("{}", filters::describe(text, &vi.filter_info_raw(&f)?));
        }
        installed.push(f);
    }
    // Kept open while efsink runs: the membership lasts as long as the socket.
    let _membership = if cfg.join_mcast {
        let group = filters
            .iter()
            .filter_map(|f| filters::local_ipv4(f))
            .next_back()
            .ok_or_else(|| Error::InvalidArgument {
                what: "-j needs a udp: or tcp: filter-spec with an IPv4 local host".into(),
            })?;
        match filters::join_group(&name, group) {
            Ok(s) => Some(s),
            Err(e) => {
                eprintln!("ERROR: multicast join of {group} on {name} failed: {e}");
                std::process::exit(1);
            }
        }
    } else {
        None
    };

    let counters = Arc::new(Counters::default());
    let stats_names: Vec<String> = if cfg.stats {
        vi.stats(false)?.into_iter().map(|(n, _)| n).collect()
    } else {
        Vec::new()
    };
    let stats_slot = Arc::new(std::sync::Mutex::new(Vec::<(String, u64)>::new()));
    let monitor_thread = {
        let c = counters.clone();
        let merge = cfg.merge;
        let exit_pkts = cfg.exit_pkts;
        let slot = stats_slot.clone();
        std::thread::spawn(move || monitor(&c, merge, exit_pkts, &stats_names, &slot))
    };
    println!("efsink is now ready to receive");
    use std::io::Write;
    let _ = std::io::stdout().flush();

    let mut events: [Event; 32] = Default::default();
    let mut last_stats = Instant::now();
    while !counters.done.load(Ordering::Relaxed) {
        let n = {
            let evs = vi.poll(&mut events);
            let n = evs.len();
            for ev in evs.iter_mut() {
                handle(cfg, &mut vi, &mut pool, &counters, ev.take());
            }
            n
        };
        if vi.rx_fill_level() + REFILL_BATCH <= max_fill {
            vi.refill(&mut pool, max_fill);
        }
        if cfg.stats && last_stats.elapsed() >= Duration::from_millis(500) {
            *stats_slot.lock().unwrap_or_else(|e| e.into_inner()) = vi.stats(true)?;
            last_stats = Instant::now();
        }
        if n == 0 {
            if cfg.evq_wait {
                match vi.wait(Some(Duration::from_millis(100))) {
                    Ok(()) => {}
                    Err(e) if e.raw_os_error() == Some(libc::ETIMEDOUT) => {}
                    Err(e) => return Err(e),
                }
            } else if cfg.fd_wait {
                vi.prime()?;
                let mut pfd = libc::pollfd {
                    fd: vi.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                };
                // SAFETY: one valid pollfd.
                unsafe { libc::poll(&mut pfd, 1, 100) };
            }
        }
    }
    let _ = monitor_thread.join();
    // The filters go before the VI, the VI before the pool: the order the fields drop in.
    drop(installed);
    Ok(())
}

fn handle(cfg: &Config, vi: &mut Vi, pool: &mut BufferPool, c: &Counters, ev: Event) {
    match ev {
        Event::Rx(rx) => {
            c.events.fetch_add(1, Ordering::Relaxed);
            if rx.is_start() {
                c.pkts.fetch_add(1, Ordering::Relaxed);
                c.bytes.fetch_add(rx.len() as u64, Ordering::Relaxed);
                if cfg.timestamps {
                    match vi.rx_timestamp(&rx.buf) {
                        Ok(t) => println!("Timestamp = {}.{:09}", t.sec, t.nsec),
                        Err(e) => println!("Timestamp: none ({e})"),
                    }
                }
                if cfg.hexdump {
                    hexdump(vi.frame(&rx));
                }
            }
            let _ = pool.put(rx.buf);
        }
        Event::RxDiscard(d) => {
            // As in the C sample, a discarded packet is reported and then counted.
            eprintln!("ERROR: discard type={:?}", d.kind());
            c.events.fetch_add(1, Ordering::Relaxed);
            if d.flags().contains(RxFlags::SOP) {
                c.pkts.fetch_add(1, Ordering::Relaxed);
                c.bytes.fetch_add(d.len() as u64, Ordering::Relaxed);
                if cfg.hexdump {
                    let b = pool.bytes(&d.buf);
                    let start = vi.rx_prefix_len().min(b.len());
                    hexdump(&b[start..(start + d.len()).min(b.len())]);
                }
            }
            let _ = pool.put(d.buf);
        }
        Event::RxMulti(m) => {
            c.events.fetch_add(1, Ordering::Relaxed);
            if let Some(kind) = m.discard() {
                eprintln!("ERROR: discard type={kind:?}");
            }
            // Merged packets are counted whether or not they were discarded, as in C.
            vi.receive_unbundle(m, |p| {
                c.pkts.fetch_add(1, Ordering::Relaxed);
                c.bytes
                    .fetch_add(p.len.unwrap_or(0) as u64, Ordering::Relaxed);
                if cfg.hexdump {
                    let b = pool.bytes(&p.buf);
                    let end = (p.offset + p.len.unwrap_or(0)).min(b.len());
                    hexdump(&b[p.offset.min(end)..end]);
                }
                let _ = pool.put(p.buf);
            });
        }
        Event::RxNoDescTrunc { .. } => {
            if cfg.verbose {
                println!("ERROR: RX_NO_DESC_TRUNC");
            }
        }
        Event::RxRef(r) => {
            if cfg.filter_ids {
                println!("filter_id={}", r.filter_id());
            }
            if let Ok(p) = vi.rx_ref(r) {
                c.pkts.fetch_add(1, Ordering::Relaxed);
                c.bytes.fetch_add(p.len() as u64, Ordering::Relaxed);
                if cfg.hexdump {
                    hexdump(&p);
                }
            }
        }
        Event::Overflow => eprintln!("ERROR: event queue overflow"),
        other => {
            if cfg.verbose {
                println!("ERROR: unexpected event {other:?}");
            }
        }
    }
}

fn monitor(
    c: &Counters,
    merge: bool,
    exit_pkts: u64,
    stats_names: &[String],
    stats: &std::sync::Mutex<Vec<(String, u64)>>,
) {
    use std::io::Write;
    let mut header = if merge {
        format!(
            "#{:>9} {:>16} {:>16} {:>16}",
            "pkt-rate", "bandwidth(Mbps)", "total-pkts", "events"
        )
    } else {
        format!(
            "#{:>9} {:>16} {:>16}",
            "pkt-rate", "bandwidth(Mbps)", "total-pkts"
        )
    };
    for n in stats_names {
        header.push_str(&format!("  {n:>10}"));
    }
    println!("{header}");
    let mut prev_pkts = c.pkts.load(Ordering::Relaxed);
    let mut prev_bytes = c.bytes.load(Ordering::Relaxed);
    let mut start = Instant::now();
    loop {
        std::thread::sleep(Duration::from_secs(1));
        let now_pkts = c.pkts.load(Ordering::Relaxed);
        let now_bytes = c.bytes.load(Ordering::Relaxed);
        let ms = (start.elapsed().as_millis() as u64).max(1);
        start = Instant::now();
        let rate = (now_pkts - prev_pkts) * 1000 / ms;
        let mbps = (now_bytes - prev_bytes) * 8 / 1000 / ms;
        let mut line = if merge {
            format!(
                "{rate:>10} {mbps:>16} {now_pkts:>16} {:>16}",
                c.events.load(Ordering::Relaxed)
            )
        } else {
            format!("{rate:>10} {mbps:>16} {now_pkts:>16}")
        };
        if !stats_names.is_empty() {
            for (n, v) in stats.lock().unwrap_or_else(|e| e.into_inner()).iter() {
                line.push_str(&format!("  {v:>w$}", w = n.len().max(10)));
            }
        }
        println!("{line}");
        let _ = std::io::stdout().flush();
        prev_pkts = now_pkts;
        prev_bytes = now_bytes;
        if exit_pkts > 0 && now_pkts >= exit_pkts {
            c.done.store(true, Ordering::Relaxed);
            return;
        }
    }
}
