// eflatency's results: the per-size line on stdout, the raw round-trip times (`-o`) and the
// YAML record (`-y`), in the SDK sample's formats.

use std::fs::File;
use std::io::{self, Write};
use std::time::Duration;

/// The round-trip times of one payload size, in nanoseconds (`None` with `-N`).
pub struct Run<'a> {
    pub payload_len: usize,
    pub frame_len: usize,
    pub iters: u64,
    /// Wall time of the timed loop.
    pub elapsed: Duration,
    /// One time per iteration, in the order measured (sorted by [`Run::summary`]).
    pub rtts: Option<&'a mut Vec<u64>>,
}

/// Mean (over the wall time), min, median, 95th and 99th percentile and max, in µs.
pub struct Summary {
    pub run_mean: f64,
    pub stats: Option<[f64; 6]>,
}

impl Run<'_> {
    /// Sorts the times and summarises them.
    pub fn summary(&mut self) -> Summary {
        let run_mean = self.elapsed.as_secs_f64() * 1e6 / self.iters.max(1) as f64;
        let stats = self.rtts.as_mut().filter(|t| !t.is_empty()).map(|t| {
            t.sort_unstable();
            let n = t.len();
            let at = |i: usize| t[i.min(n - 1)] as f64 / 1e3;
            let mean = t.iter().sum::<u64>() as f64 / n as f64 / 1e3;
            [
                mean,
                at(0),
                at(n / 2),
                at(n - n / 20),
                at(n - n / 100),
                at(n - 1),
            ]
        });
        Summary { run_mean, stats }
    }
}

/// The table header ping prints before the first size.
pub fn header(no_stats: bool) -> &'static str {
    if no_stats {
        "paylen\tmean"
    } else {
        "paylen\tmean\tmin\t50%\t95%\t99%\tmax"
    }
}

/// The table line of one size.
pub fn line(payload_len: usize, s: &Summary) -> String {
    match &s.stats {
        None => format!("{payload_len}\t{:.3}", s.run_mean),
        Some([_, min, p50, p95, p99, max]) => format!(
            "{payload_len}\t{:.3}\t{min:.3}\t{p50:.3}\t{p95:.3}\t{p99:.3}\t{max:.3}",
            s.run_mean
        ),
    }
}

/// The path of the raw-times file: `$s` in `pattern` stands for the payload length.
pub fn raw_path(pattern: &str, payload_len: usize) -> String {
    pattern.replacen("$s", &payload_len.to_string(), 1)
}

/// Writes one round-trip time per line, in nanoseconds, in the order measured.
pub fn write_raw(path: &str, rtts: &[u64]) -> io::Result<()> {
    let mut f = io::BufWriter::new(File::create(path)?);
    for t in rtts {
        writeln!(f, "{t}")?;
    }
    f.flush()
}

/// The YAML record of a run: a header, then (for ping) one `results` entry per size.
pub struct Yaml {
    f: io::BufWriter<File>,
}

/// What the YAML header says about the run.
pub struct YamlHeader<'a> {
    pub version: &'a str,
    pub nics: (i64, i64),
    pub payload: String,
    pub frame: String,
    pub iters: u64,
    pub warmups: u64,
    pub tx_mode: &'a str,
    pub rx_event_type: &'a str,
    pub vi_flags: u64,
    pub ping: bool,
}

impl Yaml {
    /// Creates `path` and writes the header.
    pub fn create(path: &str, h: &YamlHeader<'_>) -> io::Result<Yaml> {
        let mut f = io::BufWriter::new(File::create(path)?);
        writeln!(f, "# eflatency test")?;
        writeln!(f, "---")?;
        writeln!(f, "datetime: {}", local_time())?;
        writeln!(f, "ef_vi_version_str: {}", h.version)?;
        writeln!(f, "nics: [ {}, {} ]", h.nics.0, h.nics.1)?;
        writeln!(f, "udp_payload_len: {}", h.payload)?;
        writeln!(f, "frame_len: {}", h.frame)?;
        writeln!(f, "iterations: {}", h.iters)?;
        writeln!(f, "warmups: {}", h.warmups)?;
        writeln!(f, "tx_mode: {}", h.tx_mode)?;
        writeln!(f, "rx_event_type: {}", h.rx_event_type)?;
        writeln!(f, "vi_flags: {:#x}", h.vi_flags)?;
        writeln!(f, "ping_or_pong: {}", if h.ping { "ping" } else { "pong" })?;
        if h.ping {
            writeln!(f, "results:")?;
        }
        f.flush()?;
        Ok(Yaml { f })
    }

    /// Appends the results of one size (times in nanoseconds).
    pub fn result(&mut self, payload_len: usize, frame_len: usize, s: &Summary) -> io::Result<()> {
        let ns = |us: f64| format!("{:.0}", us * 1e3);
        match &s.stats {
            None => writeln!(
                self.f,
                "  - {{ payload_len: {payload_len}, frame_len: {frame_len}, runtime_mean: {} }}",
                ns(s.run_mean)
            )?,
            Some([mean, min, p50, p95, p99, max]) => writeln!(
                self.f,
                "  - {{ payload_len: {payload_len}, frame_len: {frame_len}, mean: {}, min: {}, \
                 median: {}, 95%: {}, 99%: {}, max: {}, runtime_mean: {} }}",
                ns(*mean),
                ns(*min),
                ns(*p50),
                ns(*p95),
                ns(*p99),
                ns(*max),
                ns(s.run_mean)
            )?,
        }
        self.f.flush()
    }
}

/// The local time as `ctime(3)` writes it, without the newline.
fn local_time() -> String {
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: `time(NULL)` only reads the clock.
    let now = unsafe { libc::time(std::ptr::null_mut()) };
    // SAFETY: `now` is a valid time_t and `buf` has more than the 26 bytes ctime_r writes.
    let p = unsafe { libc::ctime_r(&now, buf.as_mut_ptr()) };
    if p.is_null() {
        return now.to_string();
    }
    // SAFETY: ctime_r wrote a NUL-terminated string into `buf`.
    let s = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    s.to_string_lossy().trim_end().to_owned()
}
