//! `eflatency`: UDP ping-pong round-trip time between two VIs (a Rust port of the SDK
//! sample). Run `pong` on one interface and `ping` on the other end of the link:
//!
//! ```text
//! eflatency [options] <ping|pong> <interface> [<tx_interface>]
//! ```
//!
//! Both ends send broadcast frames to 172.1.2.3:8080 and filter on that address, so no IP
//! configuration is needed. With `<tx_interface>` the frames are sent there and received on
//! `<interface>`. The TX mode is the lowest-latency one `-m` allows and the adapter offers:
//! CTPIO, then TX alternatives, then PIO, then DMA. In the alternatives mode (`# TX mode:
//! Alternatives`) the VI has two TX alternatives: the next reply waits, already sent, in one
//! of them (stopped), and when the time comes to send it that alternative is told to go and
//! the following reply is queued in the other. An adapter without alternatives skips the
//! mode (with `-m a` alone: "No compatible mode found").
//!
//! `ping` prints one line per payload size (`-s` takes a size, a Python slice
//! `start:end[:step]` or a list `a,b,c`): the mean over the run, then min, median, 95th and
//! 99th percentile and max of the round-trip times, in microseconds.

#[path = "common/mod.rs"]
mod common;
#[path = "eflatency/delivery.rs"]
mod delivery;
#[path = "eflatency/report.rs"]
mod report;
#[path = "eflatency/sizes.rs"]
mod sizes;
#[path = "eflatency/vi_setup.rs"]
mod vi_setup;

use std::io::Write;
use std::net::Ipv4Addr;
use std::time::Instant;

use delivery::{Delivery, Side, ViHandle};
use etherfabric::*;
use sizes::Sizes;
use vi_setup::{ALT_BUF_SPACE, Mode, N_TX_ALT, Opened, open};

const USAGE: &str = "
usage:
  eflatency [options] <ping|pong> <interface> [<tx_interface>]

positional arguments:
  <interface>         - the interface to receive (and, without
                        <tx_interface>, send) on; may append
                        /<flag>[,<flag>...] (express, enterprise, phys)
  <tx_interface>      - the interface to send on

options:
  -n <iterations>     - set number of iterations
  -s <message-size>   - set udp payload size. Accepts Python slices
                        (start:end[:step]) and lists (a,b,c)
  -w <iterations>     - set number of warmup iterations
  -c <cut-through>    - CTPIO cut-through threshold
  -p                  - CTPIO no-poison mode
  -m <modes>          - allow mode of the set: [c]tpio,
                        [p]io, [a]lternatives, [d]ma
  -t <modes>          - set TX_PUSH: [a]lways, [d]isable
  -d <modes>          - act on data in addition to event, one or both of:
                      - [r]ead data on packet arrival,
                      - [p]eek at buffer ahead of arrival
  -o <filename>       - save raw timings to file ($s: the payload size)
  -y <filename>       - save result data to file (YAML)
  -S                  - use shared RXQ (if available)
  -N                  - don't measure timings for every ping iteration

";

const N_RX_BUFS: usize = 256;
const N_TX_BUFS: usize = 16;
const HEADER_LEN: i64 = common::HDR_LEN as i64;
const MAX_UDP_PAYLEN: i64 = 1500 - 20 - 8;
const LADDR: Ipv4Addr = Ipv4Addr::new(172, 16, 133, 100);
const RADDR: Ipv4Addr = Ipv4Addr::new(172, 1, 2, 3);
const PORT: u16 = 8080;

struct Config {
    iters: u64,
    warmups: u64,
    sizes: Sizes,
    ct_thresh: u32,
    no_poison: bool,
    modes: String,
    /// `-t`: TX push flags for every VI.
    vi_flags: ViFlags,
    /// `-d r`: read each packet's payload.
    read_data: bool,
    /// `-d p`: look at the next RX buffer while waiting.
    peek_data: bool,
    raw_file: Option<String>,
    yaml_file: Option<String>,
    /// `-S`: ask for a shared RX queue, not an exclusive one.
    shared_rxq: bool,
    /// `-N`: no per-iteration times.
    no_stats: bool,
}

/// Parses a numeric option value as the sample does, naming the value on failure.
fn int<T: std::str::FromStr>(v: &Option<String>) -> T {
    let s = v.as_deref().unwrap_or("");
    s.parse()
        .unwrap_or_else(|_| common::usage_exit(Some(&format!("Unable to parse '{s}'")), USAGE))
}

fn parse_args(args: &[String]) -> (Config, Vec<String>) {
    let (opts, rest) = common::getopt(args, "pSN", "nswcmtdoy")
        .unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let mut cfg = Config {
        iters: 100_000,
        warmups: 10_000,
        sizes: Sizes::default(),
        ct_thresh: 64,
        no_poison: false,
        modes: "cpad".into(),
        vi_flags: ViFlags::empty(),
        read_data: false,
        peek_data: false,
        raw_file: None,
        yaml_file: None,
        shared_rxq: false,
        no_stats: false,
    };
    for (c, v) in &opts {
        let letters = || v.clone().unwrap_or_default();
        match c {
            'n' => cfg.iters = int(v),
            'w' => cfg.warmups = int(v),
            's' => {
                cfg.sizes = Sizes::parse(v.as_deref().unwrap_or(""))
                    .unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE))
            }
            'c' => cfg.ct_thresh = int(v),
            'p' => cfg.no_poison = true,
            'm' => {
                let m = letters();
                if let Some(bad) = m.chars().find(|c| !"cpad".contains(*c)) {
                    common::usage_exit(Some(&format!("Unknown mode '{bad}'")), USAGE);
                }
                cfg.modes = m;
            }
            't' => {
                for ch in letters().chars() {
                    match ch {
                        'a' => cfg.vi_flags |= ViFlags::TX_PUSH_ALWAYS,
                        'd' => cfg.vi_flags |= ViFlags::TX_PUSH_DISABLE,
                        _ => common::usage_exit(Some(&format!("Unknown mode '{ch}'")), USAGE),
                    }
                }
            }
            'd' => {
                for ch in letters().chars() {
                    match ch {
                        'r' => cfg.read_data = true,
                        'p' => cfg.peek_data = true,
                        _ => common::usage_exit(Some(&format!("Unknown data mode '{ch}'")), USAGE),
                    }
                }
            }
            'o' => cfg.raw_file = v.clone(),
            'y' => cfg.yaml_file = v.clone(),
            'S' => cfg.shared_rxq = true,
            'N' => cfg.no_stats = true,
            _ => unreachable!(),
        }
    }
    (cfg, rest)
}

fn main() {
    println!("# ef_vi backend: {}", backend());
    println!("# ef_vi_version_str: {}", version());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cfg, rest) = parse_args(&args);
    // The per-iteration times are what the raw file holds.
    if cfg.no_stats && cfg.raw_file.is_some() {
        println!("ERROR: Raw timings are not applicable with -N option");
        std::process::exit(1);
    }
    let (role, intf, tx_intf) = match rest.as_slice() {
        [r, i] => (r, i, None),
        [r, i, t] => (r, i, Some(t.as_str())),
        _ => common::usage_exit(None, USAGE),
    };
    if cfg.iters == 0 {
        common::usage_exit(Some("the number of iterations must be at least 1"), USAGE);
    }
    if let Err(e) = cfg.sizes.check() {
        common::usage_exit(Some(&e), USAGE);
    }
    for n in cfg.sizes.all() {
        if n > MAX_UDP_PAYLEN {
            eprintln!("WARNING: UDP payload length {n} is larger than standard MTU");
        }
        if n + HEADER_LEN > DEFAULT_BUF_SIZE as i64 {
            common::usage_exit(
                Some(&format!(
                    "a UDP payload of {n} bytes does not fit a {DEFAULT_BUF_SIZE}-byte buffer"
                )),
                USAGE,
            );
        }
    }
    let ping = match role.as_str() {
        "ping" => true,
        "pong" => false,
        other => common::usage_exit(Some(&format!("Unknown command '{other}'")), USAGE),
    };
    if let Err(e) = run(&cfg, ping, intf, tx_intf) {
        eprintln!("eflatency: {e}");
        std::process::exit(1);
    }
}

fn version() -> String {
    ffi::linked_version()
        .map(|v| v.to_string_lossy().into_owned())
        .unwrap_or_else(|| "unknown".into())
}

/// The interface index `ef_pd_alloc` would use (printed as `# NIC(s)`), -1 if unknown.
fn ifindex(name: &str) -> i64 {
    let Ok(c) = std::ffi::CString::new(name) else {
        return -1;
    };
    // SAFETY: `c` is a NUL-terminated string.
    match unsafe { libc::if_nametoindex(c.as_ptr()) } {
        0 => -1,
        i => i64::from(i),
    }
}

struct Endpoint<'c, 'v> {
    cfg: &'c Config,
    rx: Side<'v>,
    /// The VI that sends, when it is not `rx`.
    tx: Option<Side<'v>>,
    tx_free: Vec<PacketBuf>,
    /// How many TX buffers there are (free or in flight).
    n_tx: usize,
    /// Packets the sending VI's polls found (when it is also the receiving one), not yet
    /// waited for.
    early_rx: usize,
    mode: Mode,
    /// The frame sent, as it is in every TX buffer (PIO sends copy it).
    frame: Vec<u8>,
    mac: [u8; 6],
    /// The payload size being measured (`-d r` checks it).
    payload_len: usize,
    /// Post RX buffers (false where the adapter lends packets: RX_REF).
    posts: bool,
    /// Wait with `ef_receive_poll` (adapters with RX_POLL).
    rx_poll: bool,
    /// Where `-d r` copies payloads to.
    app_buf: Vec<u8>,
    /// Alternatives released with `go` (the next to fill and release is this one modulo
    /// [`N_TX_ALT`]).
    alt_sent: u32,
    /// `TX_ALT` events seen.
    alt_done: u32,
}

/// Gives `$vi` (a local of [`run`], made by [`open`] with the mode `$mode`) to a [`Side`]:
/// in the alternatives mode with its [`N_TX_ALT`] alternatives of [`ALT_BUF_SPACE`] bytes
/// each, allocated here. Where that fails the VI is freed and a plain one made instead, and
/// the next mode chosen, as in the sample. (A macro, not a function: the VI is replaced
/// after a borrow of it that the other branch keeps, which the borrow checker accepts for
/// locals only.) Evaluates to `(ViHandle, Mode)`.
macro_rules! attach_alternatives {
    ($vi:expr, $mode:expr, $pd:expr, $pool:expr, $cfg:expr) => {{
        let mode: Mode = $mode;
        'attached: {
            if mode != Mode::Alternatives {
                break 'attached (ViHandle::Plain(&mut $vi), mode);
            }
            let e = match $vi.tx_alternatives(N_TX_ALT, N_TX_ALT as usize * ALT_BUF_SPACE) {
                Ok(alts) => break 'attached (ViHandle::Alts(alts), mode),
                Err(e) => e,
            };
            eprintln!("Failed to allocate VI with TX alternatives. ({e})");
            $vi = vi_setup::plain_vi($cfg, $pd, $pool)?;
            let mode = vi_setup::select_mode($cfg, $pd, &mut $vi, false, false);
            (ViHandle::Plain(&mut $vi), mode)
        }
    }};
}

fn run(cfg: &Config, ping: bool, intf: &str, tx_intf: Option<&str>) -> Result<()> {
    let driver = Driver::open()?;
    let single = tx_intf.is_none();
    let rx_bufs = N_RX_BUFS + if single { N_TX_BUFS } else { 0 };
    let Opened {
        vi: mut rx_vi,
        pool: rx_pool,
        mode: rx_mode,
        pd: rx_pd,
    } = open(cfg, &driver, intf, rx_bufs)?;
    let (rx_handle, mut mode) = attach_alternatives!(rx_vi, rx_mode, &rx_pd, &rx_pool, cfg);
    let mut rx_side = Side::new(rx_handle, rx_pool);
    // The TX interface's VI selects the TX mode.
    let (mut tx_vi, tx_rest) = match tx_intf {
        None => (None, None),
        Some(t) => {
            let o = open(cfg, &driver, t, N_TX_BUFS)?;
            (Some(o.vi), Some((o.pool, o.mode, o.pd)))
        }
    };
    let tx_side = match (tx_vi.as_mut(), tx_rest) {
        (Some(vi), Some((pool, tx_mode, pd))) => {
            let (h, m) = attach_alternatives!(*vi, tx_mode, &pd, &pool, cfg);
            mode = m;
            Some(Side::new(h, pool))
        }
        _ => None,
    };
    let filter_flags = if cfg.shared_rxq {
        FilterFlags::SHARED_RXQ
    } else {
        FilterFlags::EXCLUSIVE_RXQ
    };
    let filter = rx_side.vi.add_filter(
        &FilterSpec::new(filter_flags)
            .ip4_local(IpProto::Udp, std::net::SocketAddrV4::new(RADDR, PORT))?,
    )?;
    let rx_ref = rx_pd.capability(Capability::RX_REF).unwrap_or(0) != 0;
    let rx_poll = rx_pd.capability(Capability::RX_POLL).unwrap_or(0) != 0;
    if cfg.peek_data && rx_poll {
        // There the C sample looks at the next packet with efct_vi_rx_future_peek.
        eprintln!(
            "eflatency: -d p on an adapter with RX_POLL needs efct_vi_rx_future_peek, which \
             the etherfabric crate does not offer"
        );
        std::process::exit(1);
    }
    let mac = rx_side.vi.mac()?;
    let sizes = cfg.sizes.all();
    let first = sizes[0] as usize;
    let mut ep = Endpoint {
        cfg,
        rx: rx_side,
        tx: tx_side,
        tx_free: Vec::with_capacity(N_TX_BUFS),
        n_tx: 0,
        early_rx: 0,
        mode,
        frame: Vec::new(),
        mac,
        payload_len: first,
        posts: !rx_ref,
        rx_poll,
        app_buf: vec![0; DEFAULT_BUF_SIZE],
        alt_sent: 0,
        alt_done: 0,
    };
    {
        let t = ep.tx.as_mut().unwrap_or(&mut ep.rx);
        while ep.tx_free.len() < N_TX_BUFS {
            match t.pool.take() {
                Some(b) => ep.tx_free.push(b),
                None => break,
            }
        }
        ep.n_tx = ep.tx_free.len();
    }
    ep.set_payload(first)?;
    if ep.posts {
        ep.rx.vi.refill(&mut ep.rx.pool, N_RX_BUFS);
    }

    let nics = (
        ifindex(&common::parse_interface(intf)?.0),
        match tx_intf {
            Some(t) => ifindex(&common::parse_interface(t)?.0),
            None => -1,
        },
    );
    let rx_event_type = if rx_ref {
        "EF_EVENT_TYPE_RX_REF"
    } else {
        "EF_EVENT_TYPE_RX"
    };
    let mut yaml = match &cfg.yaml_file {
        None => None,
        Some(path) => Some(
            report::Yaml::create(
                path,
                &report::YamlHeader {
                    version: &version(),
                    nics,
                    payload: cfg.sizes.yaml(0),
                    frame: cfg.sizes.yaml(HEADER_LEN),
                    iters: cfg.iters,
                    warmups: cfg.warmups,
                    tx_mode: mode.name(),
                    rx_event_type,
                    vi_flags: cfg.vi_flags.bits(),
                    ping,
                },
            )
            .map_err(|e| Error::InvalidArgument {
                what: format!("cannot write YAML file {path:?}: {e}"),
            })?,
        ),
    };
    println!("# NIC(s) {} {}", nics.0, nics.1);
    println!("# udp payload len: {}", cfg.sizes.describe(0));
    println!("# iterations: {}", cfg.iters);
    println!("# warmups: {}", cfg.warmups);
    println!("# frame len: {}", cfg.sizes.describe(HEADER_LEN));
    println!("# TX mode: {}", mode.name());
    println!("# RX event type: {rx_event_type}");
    if ping {
        println!("{}", report::header(cfg.no_stats));
    }
    let _ = std::io::stdout().flush();

    let mut rtts: Vec<u64> = Vec::with_capacity(if cfg.no_stats { 0 } else { cfg.iters as usize });
    let mut last_mean = 0.0;
    for (i, &size) in sizes.iter().enumerate() {
        if i > 0 {
            ep.set_payload(size as usize)?;
        }
        if ep.mode == Mode::Alternatives {
            ep.alt_init()?;
        }
        if !ping {
            for _ in 0..cfg.warmups + cfg.iters {
                ep.rx_wait()?;
                ep.send()?;
            }
            if ep.mode == Mode::Alternatives {
                ep.alt_cleanup()?;
            }
            continue;
        }
        for _ in 0..cfg.warmups {
            ep.send()?;
            ep.rx_wait()?;
        }
        rtts.clear();
        let start = Instant::now();
        for _ in 0..cfg.iters {
            let t0 = Instant::now();
            ep.send()?;
            ep.rx_wait()?;
            if !cfg.no_stats {
                rtts.push(t0.elapsed().as_nanos() as u64);
            }
        }
        let elapsed = start.elapsed();
        if ep.mode == Mode::Alternatives {
            ep.alt_cleanup()?;
        }
        if let Some(pattern) = &cfg.raw_file {
            let path = report::raw_path(pattern, ep.payload_len);
            report::write_raw(&path, &rtts).map_err(|e| Error::InvalidArgument {
                what: format!("cannot write raw file {path:?}: {e}"),
            })?;
        }
        let mut run = report::Run {
            payload_len: ep.payload_len,
            frame_len: ep.frame.len(),
            iters: cfg.iters,
            elapsed,
            rtts: (!cfg.no_stats).then_some(&mut rtts),
        };
        let summary = run.summary();
        println!("{}", report::line(run.payload_len, &summary));
        let _ = std::io::stdout().flush();
        if let Some(y) = yaml.as_mut() {
            y.result(run.payload_len, run.frame_len, &summary)
                .map_err(|e| Error::InvalidArgument {
                    what: format!("cannot write YAML file: {e}"),
                })?;
        }
        last_mean = summary.run_mean;
    }
    if ping && sizes.len() == 1 {
        println!("mean round-trip time: {last_mean:.3} usec");
    }
    drop(filter);
    Ok(())
}

impl Endpoint<'_, '_> {
    /// Writes the frame for `payload_len` bytes into every TX buffer (after the buffers in
    /// flight came back) and, in PIO mode, keeps a copy to send.
    fn set_payload(&mut self, payload_len: usize) -> Result<()> {
        // The peer may already send the next size: packets polled from now on have it.
        self.payload_len = payload_len;
        while self.tx_free.len() < self.n_tx {
            self.poll_tx()?;
        }
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let mut len = 0;
        for b in &mut self.tx_free {
            len = common::write_udp_header(
                side.pool.bytes_mut(b),
                [0xff; 6],
                self.mac,
                (LADDR, PORT),
                (RADDR, PORT),
                payload_len,
            )
            .ok_or_else(|| Error::InvalidArgument {
                what: format!("payload of {payload_len} bytes does not fit a buffer"),
            })?;
        }
        if let Some(b) = self.tx_free.first() {
            self.frame = side.pool.bytes(b)[..len].to_vec();
        }
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        match self.mode {
            Mode::Pio => {
                let side = self.tx.as_mut().unwrap_or(&mut self.rx);
                side.vi.transmit_copy_pio(0, &self.frame)
            }
            Mode::Alternatives => self.alt_send(),
            Mode::Ctpio | Mode::Dma => self.dma_send(),
        }
    }

    /// Sends the frame from a free TX buffer (by CTPIO in that mode, with the DMA send as
    /// its fallback), waiting for a completion if all are in flight.
    fn dma_send(&mut self) -> Result<()> {
        // A TX buffer comes back with its completion; wait for one if all are in flight.
        while self.tx_free.is_empty() {
            self.poll_tx()?;
        }
        let b = self.tx_free.pop().expect("a free TX buffer");
        let (mode, len, thresh) = (self.mode, self.frame.len(), self.cfg.ct_thresh);
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let r = match mode {
            Mode::Ctpio => side.vi.transmit_ctpio(b, len, thresh),
            _ => side.vi.transmit(b, len),
        };
        r.map_err(|r| {
            self.tx_free.push(r.buf);
            r.error
        })
    }

    /// The alternatives mode's set-up for a payload size: checks the frame fits an
    /// alternative's buffering and queues the first reply.
    fn alt_init(&mut self) -> Result<()> {
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let usage = side.vi.tx_alt_overhead()?.usage(self.frame.len() as u32);
        if usage as usize > ALT_BUF_SPACE {
            return Err(Error::InvalidArgument {
                what: format!(
                    "a frame of {} bytes takes {usage} bytes of TX alternative buffering, more \
                     than the {ALT_BUF_SPACE} each alternative has",
                    self.frame.len()
                ),
            });
        }
        self.alt_fill()
    }

    /// Queues the frame in the alternative that is released next: stopped, so it holds it.
    fn alt_fill(&mut self) -> Result<()> {
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let alts = side.vi.alts()?;
        let id = alts.id(self.alt_sent % N_TX_ALT)?;
        alts.stop(id)?;
        if N_TX_ALT > 1 {
            alts.select(id)?;
        }
        self.dma_send()
    }

    /// Releases the queued reply onto the wire and queues the next one in the other
    /// alternative.
    fn alt_send(&mut self) -> Result<()> {
        // Every alternative released before has gone out (its TX_ALT event was seen when
        // the peer's answer to it arrived).
        if self.alt_done.wrapping_sub(self.alt_sent) > i32::MAX as u32 {
            return Err(Error::InvalidArgument {
                what: format!(
                    "{} TX alternatives released but only {} TX_ALT events seen",
                    self.alt_sent, self.alt_done
                ),
            });
        }
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let alts = side.vi.alts()?;
        alts.go(alts.id(self.alt_sent % N_TX_ALT)?)?;
        self.alt_sent = self.alt_sent.wrapping_add(1);
        self.alt_fill()
    }

    /// The end of a payload size in the alternatives mode: the reply queued for an
    /// iteration that does not come is dropped (the sample then also frees the
    /// alternatives; here they are kept for the next size and freed when the VI's side is
    /// dropped).
    fn alt_cleanup(&mut self) -> Result<()> {
        let side = self.tx.as_mut().unwrap_or(&mut self.rx);
        let alts = side.vi.alts()?;
        alts.discard(alts.id(self.alt_sent % N_TX_ALT)?)
    }

    /// Polls the sending VI once; a packet it finds (when it is also the receiving VI) is
    /// counted for the next [`rx_wait`](Self::rx_wait).
    fn poll_tx(&mut self) -> Result<()> {
        let mut d = Delivery {
            cfg: self.cfg,
            tx_free: &mut self.tx_free,
            payload_len: self.payload_len,
            app_buf: &mut self.app_buf,
            posts: self.posts,
            tx_alt_done: &mut self.alt_done,
        };
        let got = match self.tx.as_mut() {
            Some(t) => d.poll_once(t, false)?,
            None => d.poll_once(&mut self.rx, self.rx_poll)?,
        };
        if got {
            self.early_rx += 1;
        }
        Ok(())
    }

    /// Handles events until one packet has been received.
    fn rx_wait(&mut self) -> Result<()> {
        if self.early_rx > 0 {
            self.early_rx -= 1;
            return Ok(());
        }
        // Completions of a separate sending VI are collected first, once, as in C.
        if self.tx.is_some() {
            self.poll_tx()?;
        }
        let mut d = Delivery {
            cfg: self.cfg,
            tx_free: &mut self.tx_free,
            payload_len: self.payload_len,
            app_buf: &mut self.app_buf,
            posts: self.posts,
            tx_alt_done: &mut self.alt_done,
        };
        loop {
            if d.poll_once(&mut self.rx, self.rx_poll)? {
                return Ok(());
            }
        }
    }
}
