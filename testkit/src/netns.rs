//! Named network namespaces (`ip netns`), alone or joined by veth pairs, deleted on drop.

use std::net::Ipv4Addr;
use std::process::Command;

use crate::sh;

/// Whether this process can create named network namespaces; reports why not for `test`
/// (see [`crate::skip`]).
fn netns_possible(test: &str) -> bool {
    if !crate::is_root() || crate::in_user_namespace() {
        crate::skip(
            test,
            "named network namespaces joined by veth (`ip netns add`) need real root",
        );
        return false;
    }
    if Command::new("ip").arg("-V").output().is_err() {
        crate::skip(test, "the `ip` command (iproute2) is not installed");
        return false;
    }
    true
}

/// Deletes a network namespace (and the interfaces in it), ignoring failure.
fn delete_netns(name: &str) {
    let _ = Command::new("ip").args(["netns", "del", name]).output();
}

/// Two network namespaces joined by a veth pair (`a` in `ns_a`, `b` in `ns_b`), with
/// addresses `10.213.TAG.1/24` and `.2/24`; deleted on drop.
#[derive(Debug)]
pub struct NetnsPair {
    /// Name of the first namespace.
    pub ns_a: String,
    /// Name of the second namespace.
    pub ns_b: String,
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
    /// Creates the pair; `None` (after printing why) when not possible here.
    pub fn create(test: &str, tag: u8) -> Option<NetnsPair> {
        if !netns_possible(test) {
            return None;
        }
        let pid = std::process::id();
        let n = NetnsPair {
            ns_a: format!("efsoft{pid}{tag}a"),
            ns_b: format!("efsoft{pid}{tag}b"),
            if_a: format!("efa{}{tag}", pid % 100000),
            if_b: format!("efb{}{tag}", pid % 100000),
            ip_a: Ipv4Addr::new(10, 213, tag, 1),
            ip_b: Ipv4Addr::new(10, 213, tag, 2),
        };
        sh(&["ip", "netns", "add", &n.ns_a]);
        sh(&["ip", "netns", "add", &n.ns_b]);
        sh(&[
            "ip", "link", "add", &n.if_a, "netns", &n.ns_a, "type", "veth", "peer", "name",
            &n.if_b, "netns", &n.ns_b,
        ]);
        for (ns, ifn, ip) in [(&n.ns_a, &n.if_a, n.ip_a), (&n.ns_b, &n.if_b, n.ip_b)] {
            sh(&[
                "ip",
                "-n",
                ns,
                "addr",
                "add",
                &format!("{ip}/24"),
                "dev",
                ifn,
            ]);
            sh(&["ip", "-n", ns, "link", "set", ifn, "up"]);
            sh(&["ip", "-n", ns, "link", "set", "lo", "up"]);
            sh(&["ip", "-n", ns, "route", "add", "224.0.0.0/4", "dev", ifn]);
        }
        Some(n)
    }
}

/// Runs `f` on a thread inside network namespace `ns`.
pub fn run_in<T: Send + 'static>(
    ns: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> std::thread::JoinHandle<T> {
    let path = format!("/var/run/netns/{ns}");
    std::thread::spawn(move || {
        let file = std::fs::File::open(&path).expect("open netns");
        use std::os::fd::AsRawFd;
        // SAFETY: entering a network namespace on this thread only.
        let rc = unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) };
        assert_eq!(rc, 0, "setns");
        f()
    })
}

/// A network namespace of its own with `lo` up; deleted on drop.
#[derive(Debug)]
pub struct Netns {
    /// Name of the namespace.
    pub name: String,
}

impl Netns {
    /// Creates the namespace; `None` (after printing why) when not possible here.
    pub fn create(test: &str, tag: u8) -> Option<Netns> {
        if !netns_possible(test) {
            return None;
        }
        let n = Netns {
            name: format!("efsoft{}{tag}l", std::process::id()),
        };
        sh(&["ip", "netns", "add", &n.name]);
        sh(&["ip", "-n", &n.name, "link", "set", "lo", "up"]);
        Some(n)
    }

    /// Sets a sysctl inside the namespace.
    pub fn sysctl(&self, key: &str, value: &str) {
        sh(&[
            "ip",
            "netns",
            "exec",
            &self.name,
            "sysctl",
            "-qw",
            &format!("{key}={value}"),
        ]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        delete_netns(&self.name);
    }
}

impl Drop for NetnsPair {
    fn drop(&mut self) {
        delete_netns(&self.ns_a);
        delete_netns(&self.ns_b);
    }
}
