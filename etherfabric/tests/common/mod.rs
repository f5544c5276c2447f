// Shared helpers of the etherfabric integration tests: whether ef_vi can be opened here,
// the example programs as child processes, and namespaces.
#![allow(dead_code)]

pub mod lo;
pub mod yaml;

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

// Not every test binary that includes this module needs all of these.
#[allow(unused_imports)]
pub use lo::{collect, in_lo_ns, lo_pd, poll_for};
#[allow(unused_imports)]
pub use testkit::{Netns, NetnsPair, is_root, run_in, sh};

// Unprivileged runs enter a user namespace of their own before the harness starts threads, so
// that the tests can make network namespaces and veth pairs.
testkit::enter_user_namespace_at_start!();

/// False (after printing why) when this process may not open the ef_vi driver.
pub fn can_run(test: &str) -> bool {
    match etherfabric::Driver::open() {
        Ok(_) => true,
        Err(etherfabric::Error::Permission { .. }) => {
            testkit::skip(
                test,
                "opening ef_vi needs CAP_NET_RAW (run the tests as root)",
            );
            false
        }
        Err(e) => panic!("{test}: Driver::open: {e}"),
    }
}

/// [`lo_netns`] for a test that opens ef_vi: `None` (after saying why) when this process
/// may not ([`can_run`]) or the namespace cannot be made.
pub fn runnable_lo_netns(test: &str) -> Option<Netns> {
    if !can_run(test) {
        return None;
    }
    lo_netns(test)
}

/// [`NetnsPair::create`] for a test that opens ef_vi: `None` (after saying why) when this
/// process may not ([`can_run`]) or the namespaces cannot be made.
pub fn runnable_pair(test: &str, tag: u8) -> Option<NetnsPair> {
    if !can_run(test) {
        return None;
    }
    NetnsPair::create(test, tag)
}

/// [`Trio::create`] for a test that opens ef_vi: `None` (after saying why) when this
/// process may not ([`can_run`]) or the namespaces cannot be made.
pub fn runnable_trio(test: &str, tag: u8) -> Option<Trio> {
    if !can_run(test) {
        return None;
    }
    Trio::create(test, tag)
}

/// A namespace of its own whose `lo` accepts frames a VI sends with local addresses.
pub fn lo_netns(test: &str) -> Option<Netns> {
    let ns = Netns::create(test)?;
    for k in [
        "net.ipv4.conf.all.route_localnet",
        "net.ipv4.conf.lo.route_localnet",
        "net.ipv4.conf.all.accept_local",
        "net.ipv4.conf.lo.accept_local",
    ] {
        ns.sysctl(k, "1");
    }
    Some(ns)
}

/// Runs example `name` with `args` in `ns` to its end.
pub fn run_to_end(ns: &Netns, name: &str, args: &[&str]) -> std::process::Output {
    ns.example(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {name}: {e}"))
}

/// An example running in a network namespace; killed when dropped. Its stdout lines arrive
/// through `lines`.
pub struct Program {
    child: Child,
    lines: Receiver<String>,
    /// Its stderr lines, when [`Program::start_capturing_stderr`] started it.
    errs: Option<Receiver<String>>,
    pub seen: Vec<String>,
}

/// The lines of `r`, as they come, through a channel.
fn line_channel(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Program {
    /// Starts example `name` with `args` inside namespace `ns` (its stderr is the test's).
    pub fn start(ns: &Netns, name: &str, args: &[&str]) -> Program {
        Program::spawn(ns, name, args, false)
    }

    /// As [`Program::start`], keeping the program's stderr lines for
    /// [`Program::finish_with_stderr`].
    pub fn start_capturing_stderr(ns: &Netns, name: &str, args: &[&str]) -> Program {
        Program::spawn(ns, name, args, true)
    }

    fn spawn(ns: &Netns, name: &str, args: &[&str], capture_stderr: bool) -> Program {
        let mut child = ns
            .example(name)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            })
            .spawn()
            .expect("start example");
        let lines = line_channel(child.stdout.take().expect("stdout"));
        let errs = child.stderr.take().map(line_channel);
        Program {
            child,
            lines,
            errs,
            seen: Vec::new(),
        }
    }

    /// Waits up to `timeout` for a line containing `pat`; returns it.
    pub fn wait_for(&mut self, pat: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.contains(pat) {
                        return Some(l);
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {
                    return None;
                }
            }
        }
    }

    /// Waits up to `timeout` for the program to exit; returns its status and all its output.
    pub fn finish(mut self, timeout: Duration) -> (Option<std::process::ExitStatus>, Vec<String>) {
        let deadline = Instant::now() + timeout;
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(s)) => break Some(s),
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                _ => break None,
            }
        };
        // Collect what is left.
        while let Ok(l) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.seen.push(l);
        }
        let seen = std::mem::take(&mut self.seen);
        (status, seen)
    }

    /// As [`Program::finish`], also returning the stderr lines (empty unless started by
    /// [`Program::start_capturing_stderr`]).
    pub fn finish_with_stderr(
        mut self,
        timeout: Duration,
    ) -> (Option<std::process::ExitStatus>, Vec<String>, Vec<String>) {
        let errs = self.errs.take();
        let (status, seen) = self.finish(timeout);
        let mut err_lines = Vec::new();
        if let Some(r) = errs {
            while let Ok(l) = r.recv_timeout(Duration::from_millis(200)) {
                err_lines.push(l);
            }
        }
        (status, seen, err_lines)
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Three namespaces in a row, `a - f - b`, joined by two veth pairs: `a0` (in `a`) to `f0`,
/// and `f1` (in `f`) to `b0` (in `b`). `a0` and `b0` share the subnet 10.214.TAG.0/24
/// (`.1` and `.2`) and know each other's MAC statically, so that a forwarder in `f` can join
/// them at layer 2. Gone on drop.
pub struct Trio {
    pub a: Netns,
    pub f: Netns,
    pub b: Netns,
    pub ip_a: std::net::Ipv4Addr,
    pub ip_b: std::net::Ipv4Addr,
}

impl Trio {
    /// Creates the namespaces; `None` (after printing why) when not possible here.
    pub fn create(test: &str, tag: u8) -> Option<Trio> {
        let chain = testkit::NetnsChain::create(test, &[("a0", "f0"), ("f1", "b0")])?;
        let [a, f, b]: [Netns; 3] = chain.ns.try_into().expect("three namespaces");
        let t = Trio {
            a,
            f,
            b,
            ip_a: std::net::Ipv4Addr::new(10, 214, tag, 1),
            ip_b: std::net::Ipv4Addr::new(10, 214, tag, 2),
        };
        t.a.ip(&["addr", "add", &format!("{}/24", t.ip_a), "dev", "a0"]);
        t.b.ip(&["addr", "add", &format!("{}/24", t.ip_b), "dev", "b0"]);
        let (mac_a, mac_b) = (t.a.mac("a0"), t.b.mac("b0"));
        let ip_a = t.ip_a.to_string();
        let ip_b = t.ip_b.to_string();
        t.a.ip(&["neigh", "add", &ip_b, "lladdr", &mac_b, "dev", "a0"]);
        t.b.ip(&["neigh", "add", &ip_a, "lladdr", &mac_a, "dev", "b0"]);
        Some(t)
    }
}

/// How long an example may take to show what a test waits for.
pub const T: std::time::Duration = std::time::Duration::from_secs(20);

/// Starts eflatency's pong side in `ns` with `args`. `Err` (with the lines it printed; it is
/// killed) when it never got as far as printing its TX mode: it refused what the arguments
/// ask for (see its stderr).
pub fn start_eflatency_pong(ns: &Netns, args: &[&str]) -> Result<Program, Vec<String>> {
    let mut pong = Program::start(ns, "eflatency", args);
    match pong.wait_for("# TX mode:", T) {
        Some(_) => Ok(pong),
        None => Err(std::mem::take(&mut pong.seen)),
    }
}

/// Runs eflatency's ping side in `ns` with `args` against `pong` (from
/// [`start_eflatency_pong`]) until both end; asserts both succeeded and returns (ping's
/// lines, pong's lines).
pub fn finish_eflatency_ping(
    ns: &Netns,
    args: &[&str],
    pong: Program,
) -> (Vec<String>, Vec<String>) {
    let ping = Program::start(ns, "eflatency", args);
    let (ps, plines) = ping.finish(Duration::from_secs(60));
    let (qs, qlines) = pong.finish(T);
    assert!(ps.is_some_and(|s| s.success()), "ping {args:?}: {plines:?}");
    assert!(qs.is_some_and(|s| s.success()), "pong: {qlines:?}");
    (plines, qlines)
}

/// eflatency pong (in `pong_ns`) against ping (in `ping_ns`), each with its arguments, both
/// run to their end and required to succeed; returns (ping's lines, pong's lines).
pub fn eflatency_ping_pong(
    ping_ns: &Netns,
    ping_args: &[&str],
    pong_ns: &Netns,
    pong_args: &[&str],
) -> (Vec<String>, Vec<String>) {
    let pong = start_eflatency_pong(pong_ns, pong_args)
        .unwrap_or_else(|seen| panic!("pong {pong_args:?}: {seen:?}"));
    finish_eflatency_ping(ping_ns, ping_args, pong)
}

/// Sends `n` datagrams of `len` bytes from a kernel socket to `to`, a little apart.
pub fn send_udp(from: std::net::Ipv4Addr, to: (std::net::Ipv4Addr, u16), n: usize, len: usize) {
    let s = std::net::UdpSocket::bind((from, 0)).expect("bind sender");
    for i in 0..n {
        s.send_to(&vec![i as u8; len], to).expect("send_to");
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// The third column (total-pkts) of efsink's last rate line.
pub fn efsink_total(lines: &[String]) -> Option<u64> {
    lines
        .iter()
        .rev()
        .find(|l| !l.starts_with('#') && l.split_whitespace().count() >= 3)
        .and_then(|l| l.split_whitespace().nth(2)?.parse().ok())
}

/// Waits for `sink`, an efsink started with `-n <want>`, to exit by itself, and checks that
/// it counted exactly `want` datagrams (`what` names the run in failure messages); returns
/// its output lines.
pub fn assert_efsink_counted(sink: Program, want: u64, what: &str) -> Vec<String> {
    let (status, lines) = sink.finish(T);
    assert!(
        status.is_some_and(|s| s.success()),
        "{what}: efsink did not exit by itself after {want} datagrams: {lines:?}"
    );
    assert_eq!(efsink_total(&lines), Some(want), "{what}: {lines:?}");
    lines
}
