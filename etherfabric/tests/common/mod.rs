// Shared helpers of the etherfabric integration tests: whether ef_vi can be opened here,
// the example programs as child processes, and namespaces.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

// Not every test binary that includes this module needs all of these.
#[allow(unused_imports)]
pub use testkit::{Netns, NetnsPair, is_root, run_in, sh};

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

/// A namespace of its own whose `lo` accepts frames a VI sends with local addresses.
pub fn lo_netns(test: &str, tag: u8) -> Option<Netns> {
    let ns = Netns::create(test, tag)?;
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

/// The path of an example program (`cargo test` builds the examples next to the tests).
pub fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target directory")
        .join("examples");
    let p = dir.join(name);
    assert!(
        p.exists(),
        "example {name} not found at {} (build it: cargo build -p etherfabric --examples)",
        p.display()
    );
    p
}

/// `ip netns exec NS [wrapper...] <example>`: the command that runs an example inside a
/// namespace. `EF_EXAMPLE_WRAPPER` (for example `valgrind --error-exitcode=1 -q`) is put in
/// front of the example, so the examples can be checked by a tool as their tests run them.
pub fn example_command(ns: &str, name: &str) -> Command {
    let mut c = Command::new("ip");
    c.args(["netns", "exec", ns]);
    let wrapper = std::env::var("EF_EXAMPLE_WRAPPER").unwrap_or_default();
    let mut words = wrapper.split_whitespace();
    match words.next() {
        Some(tool) => {
            c.arg(tool).args(words).arg(example(name));
        }
        None => {
            c.arg(example(name));
        }
    }
    c
}

/// An example running in a network namespace; killed when dropped. Its stdout lines arrive
/// through `lines`.
pub struct Program {
    child: Child,
    lines: Receiver<String>,
    pub seen: Vec<String>,
}

impl Program {
    /// Starts example `name` with `args` inside namespace `ns`.
    pub fn start(ns: &str, name: &str, args: &[&str]) -> Program {
        let mut child = example_command(ns, name)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start example");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Program {
            child,
            lines: rx,
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
/// them at layer 2. Deleted on drop.
pub struct Trio {
    pub a: String,
    pub f: String,
    pub b: String,
    pub ip_a: std::net::Ipv4Addr,
    pub ip_b: std::net::Ipv4Addr,
}

fn mac_of(ns: &str, ifname: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "link", "show", ifname])
        .output()
        .expect("ip link show");
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    s.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .expect("MAC address in `ip link` output")
        .to_owned()
}

impl Trio {
    /// Creates the namespaces; `None` (after printing why) when not possible here.
    pub fn create(test: &str, tag: u8) -> Option<Trio> {
        if !is_root() {
            testkit::skip(test, "creating network namespaces needs root");
            return None;
        }
        let pid = std::process::id() % 100000;
        let t = Trio {
            a: format!("eftrio{pid}{tag}a"),
            f: format!("eftrio{pid}{tag}f"),
            b: format!("eftrio{pid}{tag}b"),
            ip_a: std::net::Ipv4Addr::new(10, 214, tag, 1),
            ip_b: std::net::Ipv4Addr::new(10, 214, tag, 2),
        };
        for ns in [&t.a, &t.f, &t.b] {
            sh(&["ip", "netns", "add", ns]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
        }
        sh(&[
            "ip", "link", "add", "a0", "netns", &t.a, "type", "veth", "peer", "name", "f0",
            "netns", &t.f,
        ]);
        sh(&[
            "ip", "link", "add", "f1", "netns", &t.f, "type", "veth", "peer", "name", "b0",
            "netns", &t.b,
        ]);
        for (ns, ifn) in [(&t.a, "a0"), (&t.f, "f0"), (&t.f, "f1"), (&t.b, "b0")] {
            sh(&["ip", "-n", ns, "link", "set", ifn, "up"]);
        }
        sh(&[
            "ip",
            "-n",
            &t.a,
            "addr",
            "add",
            &format!("{}/24", t.ip_a),
            "dev",
            "a0",
        ]);
        sh(&[
            "ip",
            "-n",
            &t.b,
            "addr",
            "add",
            &format!("{}/24", t.ip_b),
            "dev",
            "b0",
        ]);
        let (mac_a, mac_b) = (mac_of(&t.a, "a0"), mac_of(&t.b, "b0"));
        sh(&[
            "ip",
            "-n",
            &t.a,
            "neigh",
            "add",
            &t.ip_b.to_string(),
            "lladdr",
            &mac_b,
            "dev",
            "a0",
        ]);
        sh(&[
            "ip",
            "-n",
            &t.b,
            "neigh",
            "add",
            &t.ip_a.to_string(),
            "lladdr",
            &mac_a,
            "dev",
            "b0",
        ]);
        Some(t)
    }
}

impl Drop for Trio {
    fn drop(&mut self) {
        for ns in [&self.a, &self.f, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}
