//! The namespaces testkit makes: their own `lo`, veth pairs between them with the addresses
//! promised, programs and sysctls inside them, and nothing left behind. Run as root or
//! unprivileged (in the user namespace entered at start).

use std::net::UdpSocket;
use std::time::Duration;

use testkit::{Netns, NetnsPair, run_in};

testkit::enter_user_namespace_at_start!();

#[test]
fn a_pair_carries_udp_between_its_namespaces() {
    let test = "a_pair_carries_udp_between_its_namespaces";
    let Some(pair) = NetnsPair::create(test, 200) else {
        return;
    };
    let addrs = pair
        .ns_b
        .ip(&["-o", "-4", "addr", "show", "dev", &pair.if_b]);
    assert!(addrs.contains("10.213.200.2/24"), "{addrs}");
    // Each namespace sees its own end only.
    assert!(pair.ns_a.ip(&["-o", "link"]).contains(&pair.if_a));
    assert!(!pair.ns_a.ip(&["-o", "link"]).contains(&pair.if_b));
    let (ip_a, ip_b) = (pair.ip_a, pair.ip_b);
    let rx = run_in(&pair.ns_b, move || {
        let s = UdpSocket::bind((ip_b, 0)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s
    })
    .join()
    .unwrap();
    let to = rx.local_addr().unwrap();
    run_in(&pair.ns_a, move || {
        UdpSocket::bind((ip_a, 0))
            .unwrap()
            .send_to(b"across", to)
            .unwrap()
    })
    .join()
    .unwrap();
    let mut buf = [0u8; 16];
    let (n, from) = rx.recv_from(&mut buf).expect("datagram over the veth");
    assert_eq!(&buf[..n], b"across");
    assert_eq!(from.ip(), ip_a);
}

#[test]
fn commands_and_sysctls_act_inside_the_namespace() {
    let test = "commands_and_sysctls_act_inside_the_namespace";
    let Some(ns) = Netns::create(test) else {
        return;
    };
    let links = ns.ip(&["-o", "link"]);
    assert_eq!(links.lines().count(), 1, "only lo: {links}");
    assert!(links.contains("lo:") && links.contains("UP"), "{links}");
    let key = "net/ipv4/conf/lo/accept_local";
    ns.sysctl("net.ipv4.conf.lo.accept_local", "1");
    let inside = ns
        .command("cat")
        .arg(format!("/proc/sys/{key}"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&inside.stdout).trim(), "1");
    let k = key.to_owned();
    let fresh = Netns::create(test).unwrap();
    let other = run_in(&fresh, move || {
        std::fs::read_to_string(format!("/proc/sys/{k}"))
    })
    .join()
    .unwrap()
    .unwrap();
    assert_eq!(other.trim(), "0", "another namespace keeps its default");
}

#[test]
fn a_dropped_namespace_is_gone() {
    let test = "a_dropped_namespace_is_gone";
    if !testkit::ip_available(test) {
        return;
    }
    let (Some(a), Some(b)) = (Netns::create(test), Netns::create(test)) else {
        return;
    };
    testkit::veth(&a, "gone0", &b, "gone1");
    assert!(b.ip(&["-o", "link"]).contains("gone1"));
    drop(a);
    // Its interfaces go with it (the kernel cleans up a little later), and so does the veth
    // end in the other namespace.
    testkit::poll_until("the veth to go", Duration::from_secs(10), || {
        let gone = !b.ip(&["-o", "link"]).contains("gone1");
        if !gone {
            std::thread::sleep(Duration::from_millis(10));
        }
        gone
    });
}
