//! Network namespaces the tests make, alone or joined by veth pairs.
//!
//! Each namespace is held by a file descriptor of the test process (opened by a thread that
//! unshared its network namespace) and named by the path of that descriptor,
//! `/proc/<pid>/fd/<fd>`. Nothing is registered anywhere (no `ip netns`): the namespace, and
//! the interfaces in it, go away once the [`Netns`] is dropped and no thread or process is
//! left inside. The same code runs as root and unprivileged, in the user namespace
//! [`crate::enter_user_namespace_at_start!`] enters.

use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::process::Command;
use std::sync::Arc;

/// A network namespace of its own with `lo` up; gone once dropped (and left by every thread
/// and process inside).
#[derive(Debug)]
pub struct Netns {
    /// A path naming the namespace while this value lives (`/proc/<pid>/fd/<fd>`): what
    /// `ip link set dev IF netns PATH` or `nsenter --net=PATH` accept.
    pub name: String,
    fd: Arc<OwnedFd>,
}

impl Netns {
    /// Creates a namespace; `None`, after reporting why on the terminal (see [`crate::skip`]),
    /// when this process cannot (neither root nor in a user namespace of its own).
    pub fn create(test: &str) -> Option<Netns> {
        match Netns::new() {
            Ok(ns) => Some(ns),
            Err(why) => {
                crate::skip(test, &why);
                None
            }
        }
    }

    /// Creates a namespace, or says why it could not.
    pub fn new() -> Result<Netns, String> {
        let fd = std::thread::spawn(|| {
            crate::isolate_thread_network()?;
            std::fs::File::open("/proc/thread-self/ns/net")
                .map(OwnedFd::from)
                .map_err(|e| format!("opening the new network namespace: {e}"))
        })
        .join()
        .map_err(|_| "the thread making a network namespace panicked".to_string())??;
        Ok(Netns {
            name: format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd()),
            fd: Arc::new(fd),
        })
    }

    /// A command that runs `program` inside the namespace (it enters it between fork and
    /// exec), for `ip`, the examples, or anything else; like `ip netns exec NS program`,
    /// except that `/sys` still shows the test process's namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        use std::os::unix::process::CommandExt as _;
        let fd = Arc::clone(&self.fd);
        let mut c = Command::new(program);
        // SAFETY: the closure runs in the child between fork and exec and only makes the
        // setns system call (async-signal-safe, no allocation) on a descriptor the closure
        // itself keeps open.
        unsafe {
            c.pre_exec(move || {
                if libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) == 0 {
                    Ok(())
                } else {
                    Err(std::io::Error::last_os_error())
                }
            });
        }
        c
    }

    /// A command that runs example program `name` (see [`crate::example_path`]) inside the
    /// namespace. When the environment variable `EXAMPLE_WRAPPER` is set (for example to
    /// `valgrind -q --error-exitcode=1`), its words are put in front of the example, so that
    /// a tool checks the examples as their tests run them.
    pub fn example(&self, name: &str) -> Command {
        let wrapper = std::env::var("EXAMPLE_WRAPPER").unwrap_or_default();
        let mut words = wrapper.split_whitespace();
        match words.next() {
            Some(tool) => {
                let mut c = self.command(tool);
                c.args(words).arg(crate::example_path(name));
                c
            }
            None => self.command(crate::example_path(name)),
        }
    }

    /// Runs `ip ARGS...` inside the namespace and returns what it printed; panics with its
    /// error output when it fails.
    pub fn ip(&self, args: &[&str]) -> String {
        let out = self
            .command("ip")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("running `ip` (iproute2): {e}"));
        assert!(
            out.status.success(),
            "ip {} in {} failed: {}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Sets a sysctl (`net.ipv4.conf.lo.accept_local`, say) inside the namespace: a thread
    /// there writes its file under `/proc/sys/net` (which shows the writing thread's
    /// namespace). Panics when the write fails.
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        let value = value.to_owned();
        let r = run_in(self, move || {
            std::fs::write(&path, value).map_err(|e| (path, e))
        })
        .join()
        .expect("sysctl thread");
        if let Err((path, e)) = r {
            panic!("writing {path} in {}: {e}", self.name);
        }
    }

    /// The MAC address of interface `ifname` in the namespace, as `ip` prints it.
    pub fn mac(&self, ifname: &str) -> String {
        let out = self.ip(&["-o", "link", "show", ifname]);
        out.split_whitespace()
            .skip_while(|w| *w != "link/ether")
            .nth(1)
            .unwrap_or_else(|| panic!("no MAC address of {ifname} in `ip link`: {out}"))
            .to_owned()
    }
}

/// Runs `f` on a new thread inside network namespace `ns`; threads it spawns (and processes
/// they start) are inside too.
pub fn run_in<T: Send + 'static>(
    ns: &Netns,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let fd = Arc::clone(&ns.fd);
    std::thread::spawn(move || {
        // SAFETY: entering a network namespace on this thread only; `fd` refers to one.
        let rc = unsafe { libc::setns(fd.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
        drop(fd);
        f()
    })
}

/// Whether the `ip` command can be run; reports why not for `test` (see [`crate::skip`]).
pub fn ip_available(test: &str) -> bool {
    if Command::new("ip").arg("-V").output().is_err() {
        crate::skip(test, "the `ip` command (iproute2) is not installed");
        return false;
    }
    true
}

/// Creates a veth pair joining two namespaces, `if_a` in `a` and `if_b` in `b`, both up.
pub fn veth(a: &Netns, if_a: &str, b: &Netns, if_b: &str) {
    a.ip(&[
        "link", "add", if_a, "type", "veth", "peer", "name", if_b, "netns", &b.name,
    ]);
    a.ip(&["link", "set", if_a, "up"]);
    b.ip(&["link", "set", if_b, "up"]);
}

/// Two network namespaces joined by a veth pair (`if_a` in `ns_a`, `if_b` in `ns_b`), with
/// addresses `10.213.TAG.1/24` and `.2/24` and a multicast route through the veth on each
/// side; gone on drop.
#[derive(Debug)]
pub struct NetnsPair {
    /// The first namespace.
    pub ns_a: Netns,
    /// The second namespace.
    pub ns_b: Netns,
    /// The veth end in `ns_a`.
    pub if_a: String,
    /// The veth end in `ns_b`.
    pub if_b: String,
    /// Address of `if_a`.
    pub ip_a: Ipv4Addr,
    /// Address of `if_b`.
    pub ip_b: Ipv4Addr,
}

impl NetnsPair {
    /// Creates the pair; `None` (after reporting why) when not possible here.
    pub fn create(test: &str, tag: u8) -> Option<NetnsPair> {
        if !ip_available(test) {
            return None;
        }
        let n = NetnsPair {
            ns_a: Netns::create(test)?,
            ns_b: Netns::create(test)?,
            if_a: format!("efa{tag}"),
            if_b: format!("efb{tag}"),
            ip_a: Ipv4Addr::new(10, 213, tag, 1),
            ip_b: Ipv4Addr::new(10, 213, tag, 2),
        };
        veth(&n.ns_a, &n.if_a, &n.ns_b, &n.if_b);
        for (ns, ifn, ip) in [(&n.ns_a, &n.if_a, n.ip_a), (&n.ns_b, &n.if_b, n.ip_b)] {
            ns.ip(&["addr", "add", &format!("{ip}/24"), "dev", ifn]);
            ns.ip(&["route", "add", "224.0.0.0/4", "dev", ifn]);
        }
        Some(n)
    }
}

/// Network namespaces in a row, each joined to the next by a veth pair: link `i` joins
/// `ns[i]` (end `links[i].0`) to `ns[i + 1]` (end `links[i].1`), both ends up, without
/// addresses (the test gives them what it needs, with [`Netns::ip`]). Gone on drop.
#[derive(Debug)]
pub struct NetnsChain {
    /// The namespaces, in order (one more than the links).
    pub ns: Vec<Netns>,
}

impl NetnsChain {
    /// Creates `links.len() + 1` namespaces joined by the veth pairs named in `links`; `None`
    /// (after reporting why) when not possible here.
    pub fn create(test: &str, links: &[(&str, &str)]) -> Option<NetnsChain> {
        if !ip_available(test) {
            return None;
        }
        let ns = (0..=links.len())
            .map(|_| Netns::create(test))
            .collect::<Option<Vec<_>>>()?;
        for (i, (here, there)) in links.iter().enumerate() {
            veth(&ns[i], here, &ns[i + 1], there);
        }
        Some(NetnsChain { ns })
    }
}
