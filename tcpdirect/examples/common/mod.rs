//! What the SDK sample ports share: getopt-style options, address lookup, error exits,
//! the ping-pong statistics table and raw-data files. (The SDK samples share `zf_utils` and
//! `zf_stats` the same way.)
#![allow(dead_code)]

use std::net::{SocketAddr, ToSocketAddrs};

/// Parsed command line: options in order, then the operands.
pub struct Args {
    pub opts: Vec<(char, Option<String>)>,
    pub rest: Vec<String>,
}

/// Parses `std::env::args()` as getopt(3) does with `spec` (e.g. `"s:i:r:t"`: a letter
/// followed by `:` takes a value). An unknown option or a missing value prints a message and
/// exits with status 1, as the C samples do.
pub fn getopt(spec: &str) -> Args {
    let mut argv = std::env::args().skip(1).peekable();
    let mut opts = Vec::new();
    let mut rest = Vec::new();
    let prog = std::env::args().next().unwrap_or_default();
    while let Some(a) = argv.next() {
        if a == "--" {
            rest.extend(argv.by_ref());
            break;
        }
        if !a.starts_with('-') || a == "-" {
            rest.push(a);
            rest.extend(argv.by_ref());
            break;
        }
        for (i, c) in a[1..].char_indices() {
            let Some(pos) = spec.find(c) else {
                eprintln!("{prog}: invalid option -- '{c}'");
                std::process::exit(1);
            };
            if spec[pos + 1..].starts_with(':') {
                let inline = &a[1 + i + c.len_utf8()..];
                let v = if !inline.is_empty() {
                    inline.to_string()
                } else if let Some(v) = argv.next() {
                    v
                } else {
                    eprintln!("{prog}: option requires an argument -- '{c}'");
                    std::process::exit(1);
                };
                opts.push((c, Some(v)));
                break;
            }
            opts.push((c, None));
        }
    }
    Args { opts, rest }
}

/// atoi(3): the leading integer of `s`, 0 when there is none.
pub fn atoi(s: &str) -> i64 {
    let s = s.trim_start();
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(s.len(), |(i, _)| i);
    s[..end].parse().unwrap_or(0)
}

/// Resolves `host:port` (port optional: 0) to an IPv4 address; `None` on failure.
pub fn lookup(hostport: &str) -> Option<SocketAddr> {
    let with_port = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:0")
    };
    with_port.to_socket_addrs().ok()?.find(SocketAddr::is_ipv4)
}

/// [`lookup`], or the SDK samples' message and exit status 2.
pub fn lookup_or_exit(hostport: &str) -> SocketAddr {
    lookup(hostport).unwrap_or_else(|| {
        eprintln!("ERROR: failed to lookup address '{hostport}'");
        std::process::exit(2);
    })
}

/// The value, or the error on stderr and exit status 1 (the samples' `ZF_TRY`).
pub fn try_or_exit<T, E: std::fmt::Display>(r: Result<T, E>, what: &str) -> T {
    r.unwrap_or_else(|e| {
        eprintln!("ERROR: {what}: {e}");
        std::process::exit(1);
    })
}

/// Prints which TCPDirect implementation runs (stderr, so that stdout keeps the SDK
/// sample's format).
pub fn print_backend() {
    eprintln!("TCPDirect backend: {}", tcpdirect::backend());
}

/// Attributes from `ZF_ATTR` (where the samples take the interface from).
pub fn attr_from_env() -> tcpdirect::Attr {
    let a = try_or_exit(tcpdirect::Attr::from_env(), "zf_attr_alloc");
    if a.get_str("interface")
        .ok()
        .flatten()
        .is_none_or(|s| s.is_empty())
    {
        eprintln!("note: no interface set; run with ZF_ATTR=interface=<ifname> (e.g. lo)");
    }
    a
}

/// The statistics the SDK samples report (`zf_stats`): in nanoseconds.
pub struct Stats {
    pub mean: u64,
    pub min: u64,
    pub median: u64,
    pub max: u64,
    pub percentile: u64,
    pub stddev: u64,
}

impl Stats {
    /// Statistics of `v` (halved first when `halve`), with the `pct`th percentile.
    pub fn new(v: &[u64], halve: bool, pct: f64) -> Stats {
        let mut v: Vec<u64> = v.iter().map(|&x| if halve { x / 2 } else { x }).collect();
        v.sort_unstable();
        if v.is_empty() {
            return Stats {
                mean: 0,
                min: 0,
                median: 0,
                max: 0,
                percentile: 0,
                stddev: 0,
            };
        }
        let n = v.len();
        let mean = v.iter().sum::<u64>() / n as u64;
        let var = v
            .iter()
            .map(|&x| (x as f64 - mean as f64).powi(2))
            .sum::<f64>()
            / n as f64;
        let idx = ((n as f64 * pct / 100.0) as usize).min(n - 1);
        Stats {
            mean,
            min: v[0],
            median: v[n / 2],
            max: v[n - 1],
            percentile: v[idx],
            stddev: var.sqrt() as u64,
        }
    }

    /// The samples' report: mean round trip, then the stats table.
    pub fn print(&self, size: usize, iters: usize, full_rtt: bool) {
        println!(
            "mean round-trip time: {:.3} usec",
            (self.mean as f64 * 2.0) / 1000.0
        );
        println!(
            "Reporting {} round-trip stats in nsec for {} iterations",
            if full_rtt { "full" } else { "half" },
            iters
        );
        println!("#\tsize\tmean\tmin\tmedian\tmax\t%ile\tstddev\titer");
        println!(
            "\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            size, self.mean, self.min, self.median, self.max, self.percentile, self.stddev, iters
        );
    }
}

/// Writes one value per line (the samples' `-w`).
pub fn write_raw(path: &str, v: &[u64]) {
    use std::io::Write;
    let f = try_or_exit(std::fs::File::create(path), path);
    let mut w = std::io::BufWriter::new(f);
    for x in v {
        try_or_exit(writeln!(w, "{x}"), path);
    }
}

/// Reads every byte of `data` (the samples' `-R`), so the data is really touched.
#[inline]
pub fn touch(data: &[u8]) -> u8 {
    data.iter().fold(0u8, |a, &b| a ^ b)
}

/// The TCP samples' connection setup: `ping` connects to `addr`, `pong` listens on it and
/// accepts one connection (then frees the listener). Prints the samples' progress lines.
pub fn tcp_setup(st: &mut tcpdirect::Stack, ping: bool, addr: SocketAddr) -> tcpdirect::TcpKey {
    use tcpdirect::TcpState;
    if ping {
        let h = try_or_exit(st.tcp_handle(), "zft_alloc");
        println!("Connecting to ponger");
        let z = try_or_exit(st.connect(h, addr), "zft_connect");
        while st.tcp_ref(z).map(|t| t.state()).ok() == Some(TcpState::SynSent) {
            st.reactor_perform();
        }
        let state = try_or_exit(st.tcp_ref(z), "zft_state").state();
        if state != TcpState::Established {
            let err = st.tcp_ref(z).ok().and_then(|t| t.error());
            eprintln!("ERROR: connection failed: state {state:?}, error {err:?}");
            std::process::exit(1);
        }
        println!("Connection established");
        z
    } else {
        let l = try_or_exit(st.listen(addr), "zftl_listen");
        println!("Waiting for incoming connection");
        let z = loop {
            while !st.reactor_perform() {}
            if let Some(z) = try_or_exit(st.accept(l), "zftl_accept") {
                break z;
            }
        };
        try_or_exit(st.free(l), "zftl_free");
        println!("Connection established");
        z
    }
}

/// The samples' clean shutdown: FIN, then run the reactor until the stack is quiescent.
pub fn tcp_close(st: &mut tcpdirect::Stack, z: tcpdirect::TcpKey) {
    loop {
        match st.tcp_ref(z).map(|t| t.shutdown_tx()) {
            Ok(Err(e)) if e.is_would_block() => {
                st.reactor_perform();
            }
            _ => break,
        }
    }
    while !st.is_quiescent() {
        st.reactor_perform();
    }
    try_or_exit(st.free(z), "zft_free");
}

/// What the ping-pong samples share on their command lines, and the report they end with.
pub struct RoundTrips {
    /// Payload bytes of each message (`-s`).
    pub size: usize,
    /// Round trips, warm-ups included once [`RoundTrips::operands`] has run (`-i`).
    pub iters: usize,
    /// Round trips before the measured ones (`-r`).
    pub warmups: usize,
    /// This end pings (sends first and measures) rather than pongs.
    pub ping: bool,
    /// Report hardware timestamps (`-t`).
    pub timestamps: bool,
    /// Which percentile the table shows (`-p`).
    pub percentile: f64,
    /// Write the raw round-trip times to this file instead of the table (`-w`).
    pub raw: Option<String>,
    /// Report full round trips rather than halves (`-f`).
    pub full_rtt: bool,
    /// Read every received byte (`-R`).
    pub touch_rx: bool,
}

impl Default for RoundTrips {
    /// The samples' defaults: 12 bytes, a million round trips after a thousand warm-ups.
    fn default() -> RoundTrips {
        RoundTrips {
            size: 12,
            iters: 1_000_000,
            warmups: 1000,
            ping: false,
            timestamps: false,
            percentile: 99.0,
            raw: None,
            full_rtt: false,
            touch_rx: false,
        }
    }
}

impl RoundTrips {
    /// Ends a ping-pong sample's usage message with the options every one of them takes
    /// last, and exits with status 1.
    pub fn usage_end() -> ! {
        eprintln!("  -p show pth percentile");
        eprintln!("  -f report full-round trip time stats");
        eprintln!("  -w write raw data to file");
        eprintln!("  -R read access all received data");
        eprintln!();
        std::process::exit(1);
    }

    /// Takes option `o` (value `v`) if it is one of the shared ones; false otherwise.
    pub fn option(&mut self, o: char, v: &str) -> bool {
        match o {
            's' => self.size = atoi(v).max(0) as usize,
            'i' => self.iters = atoi(v).max(0) as usize,
            'r' => self.warmups = atoi(v).max(0) as usize,
            't' => self.timestamps = true,
            'f' => self.full_rtt = true,
            'p' => self.percentile = v.parse().unwrap_or(0.0),
            'w' => self.raw = Some(v.to_string()),
            'R' => self.touch_rx = true,
            _ => return false,
        }
        true
    }

    /// Takes the operands: `rest[0]` is the role (`ping` or `pong`) and `n_addrs` addresses
    /// follow it, which are returned resolved; counts the warm-ups into the iterations.
    /// `None` (for the usage message) when the operands are not that.
    pub fn operands(&mut self, rest: &[String], n_addrs: usize) -> Option<Vec<SocketAddr>> {
        if rest.len() != n_addrs + 1 {
            return None;
        }
        self.ping = ping_role(&rest[0])?;
        self.iters += self.warmups;
        Some(rest[1..].iter().map(|a| lookup_or_exit(a)).collect())
    }

    /// Attributes from `ZF_ATTR`, with RX and TX timestamping on when asked for.
    pub fn attr(&self) -> tcpdirect::Attr {
        let mut attr = attr_from_env();
        if self.timestamps {
            try_or_exit(
                attr.set_rx_timestamping(1)
                    .and_then(|a| a.set_tx_timestamping(1)),
                "timestamping",
            );
        }
        attr
    }

    /// The pinger's report of `results` (round-trip times in ns, warm-ups first): the raw
    /// file or the stats table. The ponger reports nothing.
    pub fn report(&self, results: &[u64]) {
        if !self.ping {
            return;
        }
        let measured = &results[self.warmups.min(results.len())..];
        if let Some(path) = &self.raw {
            write_raw(path, measured);
        } else {
            Stats::new(measured, !self.full_rtt, self.percentile).print(
                self.size,
                self.iters - self.warmups,
                self.full_rtt,
            );
        }
    }
}

/// The samples' role operand: `Some(true)` for `ping`, `Some(false)` for `pong`.
pub fn ping_role(word: &str) -> Option<bool> {
    match word {
        "ping" => Some(true),
        "pong" => Some(false),
        _ => None,
    }
}
