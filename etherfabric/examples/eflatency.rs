//! `eflatency`: UDP ping-pong round-trip time between two VIs (a Rust port of the SDK
//! sample). Run `pong` on one interface and `ping` on the other end of the link:
//!
//! ```text
//! eflatency [options] <ping|pong> <interface>
//! ```
//!
//! Both ends send broadcast frames to 172.1.2.3:8080 and filter on that address, so no IP
//! configuration is needed. The mode is the lowest-latency one `-m` allows and the adapter
//! offers: CTPIO, then TX alternatives (which this crate does not have: where the adapter
//! offers them, the attempt fails with a message and the next mode is tried), then PIO,
//! then DMA.

#[path = "common/mod.rs"]
mod common;

use std::net::Ipv4Addr;
use std::time::Instant;

use etherfabric::*;

const USAGE: &str = "
usage:
  eflatency [options] <ping|pong> <interface>

options:
  -n <iterations>     - set number of iterations
  -s <message-size>   - set udp payload size
  -w <iterations>     - set number of warmup iterations
  -c <cut-through>    - CTPIO cut-through threshold
  -p                  - CTPIO no-poison mode
  -m <modes>          - allow mode of the set: [c]tpio,
                        [p]io, [a]lternatives, [d]ma

";

const N_RX_BUFS: usize = 256;
const N_TX_BUFS: usize = 16;
const LADDR: Ipv4Addr = Ipv4Addr::new(172, 16, 133, 100);
const RADDR: Ipv4Addr = Ipv4Addr::new(172, 1, 2, 3);
const PORT: u16 = 8080;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Ctpio,
    Pio,
    Dma,
}

struct Config {
    iters: u64,
    warmups: u64,
    payload: usize,
    ct_thresh: u32,
    no_poison: bool,
    modes: String,
}

fn main() {
    println!("# ef_vi backend: {}", backend());
    if let Some(v) = ffi::linked_version() {
        println!("# ef_vi_version_str: {}", v.to_string_lossy());
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) =
        common::getopt(&args, "p", "nswcm").unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let mut cfg = Config {
        iters: 100_000,
        warmups: 10_000,
        payload: 0,
        ct_thresh: 64,
        no_poison: false,
        modes: "cpd".into(),
    };
    for (c, v) in &opts {
        match c {
            'n' => cfg.iters = common::num(v, USAGE),
            'w' => cfg.warmups = common::num(v, USAGE),
            's' => cfg.payload = common::num(v, USAGE),
            'c' => cfg.ct_thresh = common::num(v, USAGE),
            'p' => cfg.no_poison = true,
            'm' => {
                let m = v.clone().unwrap_or_default();
                if let Some(bad) = m.chars().find(|c| !"cpad".contains(*c)) {
                    common::usage_exit(Some(&format!("Unknown mode '{bad}'")), USAGE);
                }
                cfg.modes = m;
            }
            _ => unreachable!(),
        }
    }
    let [role, intf] = rest.as_slice() else {
        common::usage_exit(None, USAGE)
    };
    let ping = match role.as_str() {
        "ping" => true,
        "pong" => false,
        _ => common::usage_exit(None, USAGE),
    };
    if cfg.payload > 1472 {
        eprintln!(
            "WARNING: UDP payload length {} is larger than standard MTU",
            cfg.payload
        );
    }
    if let Err(e) = run(&cfg, ping, intf) {
        eprintln!("eflatency: {e}");
        std::process::exit(1);
    }
}

struct Endpoint {
    vi: Vi,
    pool: BufferPool,
    tx_free: Vec<PacketBuf>,
    mode: Mode,
    frame_len: usize,
    ct_thresh: u32,
    events: [Event; 16],
    pending: usize,
    n_pending: usize,
    _filter: Filter,
    /// The PIO region holds a copy of the frame (PIO mode).
    pio_frame: Vec<u8>,
}

fn run(cfg: &Config, ping: bool, intf: &str) -> Result<()> {
    let (name, pd_flags) = common::parse_interface(intf)?;
    let driver = Driver::open()?;
    let pd = ProtectionDomain::by_name(&driver, &name, pd_flags)?;
    let pool = BufferPool::alloc(&pd, (N_RX_BUFS + N_TX_BUFS) as u32, DEFAULT_BUF_SIZE)?;
    let mut flags = ViFlags::empty();
    if cfg.no_poison {
        flags |= ViFlags::TX_CTPIO_NO_POISON;
    }
    // CTPIO first, when the adapter has it.
    let mut vi = None;
    let mut mode = Mode::Dma;
    if cfg.modes.contains('c') && pd.capability(Capability::CTPIO).unwrap_or(0) != 0 {
        match Vi::builder(&pd)
            .flags(flags | ViFlags::TX_CTPIO)
            .build(&pool)
        {
            Ok(v) => {
                vi = Some(v);
                mode = Mode::Ctpio;
            }
            Err(_) => eprintln!("Failed to allocate VI with CTPIO."),
        }
    }
    // TX alternatives next, as the SDK sample tries them, when the adapter has them. This
    // crate has no TX alternatives API (no `ef_vi_transmit_alt_*`), so where the adapter
    // offers them the attempt fails as the C program's does when it cannot allocate them, and
    // the next mode is tried; where the adapter lacks them, they are skipped, as in C.
    if vi.is_none()
        && cfg.modes.contains('a')
        && pd
            .capability(Capability(ffi::ef_vi_capability_EF_VI_CAP_TX_ALTERNATIVES))
            .unwrap_or(0)
            != 0
    {
        eprintln!(
            "Failed to allocate VI with TX alternatives: TX alternatives are not supported \
             by the etherfabric crate."
        );
    }
    let mut vi = match vi {
        Some(v) => v,
        None => Vi::builder(&pd)
            .flags(flags - ViFlags::TX_CTPIO_NO_POISON)
            .build(&pool)?,
    };
    let filter = vi.add_filter(
        &FilterSpec::default().ip4_local(IpProto::Udp, std::net::SocketAddrV4::new(RADDR, PORT))?,
    )?;
    let mac = vi.mac()?;
    let mut pool = pool;
    let mut tx_free = Vec::with_capacity(N_TX_BUFS);
    let mut frame_len = 0;
    for _ in 0..N_TX_BUFS {
        let Some(mut b) = pool.take() else { break };
        frame_len = common::write_udp_header(
            pool.bytes_mut(&mut b),
            [0xff; 6],
            mac,
            (LADDR, PORT),
            (RADDR, PORT),
            cfg.payload,
        )
        .ok_or_else(|| Error::InvalidArgument {
            what: format!("payload of {} bytes does not fit a buffer", cfg.payload),
        })?;
        tx_free.push(b);
    }
    let mut pio_frame = Vec::new();
    if mode == Mode::Dma && cfg.modes.contains('p') {
        if let Ok(pio) = Pio::alloc(&pd, 4096) {
            if vi.link_pio(pio).is_ok() {
                pio_frame = pool.bytes(&tx_free[0])[..frame_len].to_vec();
                mode = Mode::Pio;
            }
        }
    }
    if mode == Mode::Dma && !cfg.modes.contains('d') {
        eprintln!("No compatible mode found");
        std::process::exit(1);
    }
    println!("# udp payload len: {}", cfg.payload);
    println!("# iterations: {}", cfg.iters);
    println!("# warmups: {}", cfg.warmups);
    println!("# frame len: {frame_len}");
    println!(
        "# mode: {}",
        match mode {
            Mode::Ctpio => "CTPIO",
            Mode::Pio => "PIO",
            Mode::Dma => "DMA",
        }
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let mut ep = Endpoint {
        vi,
        pool,
        tx_free,
        mode,
        frame_len,
        ct_thresh: cfg.ct_thresh,
        events: Default::default(),
        pending: 0,
        n_pending: 0,
        _filter: filter,
        pio_frame,
    };
    ep.vi.refill(&mut ep.pool, N_RX_BUFS);
    if ping {
        for _ in 0..cfg.warmups {
            ep.send()?;
            ep.rx_wait()?;
        }
        let start = Instant::now();
        for _ in 0..cfg.iters {
            ep.send()?;
            ep.rx_wait()?;
        }
        let usec = start.elapsed().as_secs_f64() * 1e6;
        println!(
            "mean round-trip time: {:.3} usec",
            usec / cfg.iters.max(1) as f64
        );
    } else {
        for _ in 0..cfg.warmups + cfg.iters {
            ep.rx_wait()?;
            ep.send()?;
        }
    }
    Ok(())
}

impl Endpoint {
    fn send(&mut self) -> Result<()> {
        if self.mode == Mode::Pio {
            return self.vi.transmit_copy_pio(0, &self.pio_frame);
        }
        // A TX buffer comes back with its completion; wait for one if all are in flight.
        while self.tx_free.is_empty() {
            self.poll_once()?;
        }
        let b = self.tx_free.pop().expect("a free TX buffer");
        let r = match self.mode {
            Mode::Ctpio => self.vi.transmit_ctpio(b, self.frame_len, self.ct_thresh),
            _ => self.vi.transmit(b, self.frame_len),
        };
        r.map_err(|r| {
            self.tx_free.push(r.buf);
            r.error
        })
    }

    /// Handles events until one packet has been received (and its buffer reposted).
    fn rx_wait(&mut self) -> Result<()> {
        loop {
            if self.poll_once()? {
                return Ok(());
            }
        }
    }

    /// Polls once (or goes on with events of the previous poll); true when a packet came.
    fn poll_once(&mut self) -> Result<bool> {
        if self.pending == self.n_pending {
            self.n_pending = self.vi.poll(&mut self.events).len();
            self.pending = 0;
        }
        while self.pending < self.n_pending {
            let ev = self.events[self.pending].take();
            self.pending += 1;
            match ev {
                Event::Rx(rx) => {
                    self.vi.post(rx.buf)?;
                    return Ok(true);
                }
                Event::RxMulti(m) => {
                    let (vi, pool) = (&mut self.vi, &mut self.pool);
                    let n = vi.receive_unbundle(m, |p| {
                        let _ = pool.put(p.buf);
                    });
                    self.vi.refill(&mut self.pool, N_RX_BUFS);
                    if n > 0 {
                        return Ok(true);
                    }
                }
                Event::Tx(c) => {
                    let free = &mut self.tx_free;
                    self.vi.transmit_unbundle(c, |b| free.push(b));
                }
                Event::RxDiscard(d) => {
                    // A poisoned CTPIO frame is followed by a good copy.
                    self.vi.post(d.buf)?;
                }
                other => {
                    eprintln!("ERROR: unexpected event {other:?}");
                    std::process::exit(1);
                }
            }
        }
        Ok(false)
    }
}
