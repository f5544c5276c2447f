// The example programs, run as the SDK's samples are, each in network namespaces of its own,
// against kernel sockets or against each other.

mod common;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use common::*;

fn efsink_counts(test: &str, tag: u8, extra_args: &[&str]) {
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let lo = Ipv4Addr::LOCALHOST;
    let port = 35000 + u16::from(tag);
    let spec = format!("udp:127.0.0.1:{port}");
    let mut args = extra_args.to_vec();
    args.extend(["-n", "20", "lo", &spec]);
    let mut p = Program::start(&ns, "efsink", &args);
    assert!(
        p.wait_for("efsink is now ready to receive", T).is_some(),
        "efsink did not start: {:?}",
        p.seen
    );
    // 7 datagrams to another port first: they must not be counted.
    run_in(&ns, move || {
        send_udp(lo, (lo, port + 1), 7, 64);
        send_udp(lo, (lo, port), 20, 64);
    })
    .join()
    .expect("sender");
    let lines = assert_efsink_counted(p, 20, "efsink");
    assert!(lines[0].starts_with("# ef_vi backend:"), "{lines:?}");
}

#[test]
fn efsink_counts_exactly_the_filtered_datagrams() {
    efsink_counts("efsink_counts_exactly_the_filtered_datagrams", 1, &[]);
}

#[test]
fn efsink_event_merge_counts_exactly_the_filtered_datagrams() {
    efsink_counts(
        "efsink_event_merge_counts_exactly_the_filtered_datagrams",
        2,
        &["-b"],
    );
}

#[test]
fn efsink_blocking_on_the_fd_counts_exactly_the_filtered_datagrams() {
    efsink_counts(
        "efsink_blocking_on_the_fd_counts_exactly_the_filtered_datagrams",
        3,
        &["-f"],
    );
}

#[test]
fn efsink_blocking_on_the_event_queue_counts_exactly_the_filtered_datagrams() {
    efsink_counts(
        "efsink_blocking_on_the_event_queue_counts_exactly_the_filtered_datagrams",
        9,
        &["-e"],
    );
}

#[test]
fn efsink_rejects_a_bad_filter_spec_with_a_message() {
    let test = "efsink_rejects_a_bad_filter_spec_with_a_message";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let out = run_to_end(&ns, "efsink", &["lo", "udp:nohost"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad filter spec \"udp:nohost\""),
        "stderr: {err}"
    );
}

#[test]
fn efsend_datagrams_reach_a_kernel_socket() {
    let test = "efsend_datagrams_reach_a_kernel_socket";
    let Some(pair) = runnable_pair(test, 5) else {
        return;
    };
    let group = Ipv4Addr::new(239, 213, 5, 1);
    let port = 36005;
    let ip_b = pair.ip_b;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let receiver = run_in(&pair.ns_b, move || {
        let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, port)).expect("bind");
        s.join_multicast_v4(&group, &ip_b).expect("join group");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        ready_tx.send(()).unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 2048];
        while got.len() < 10 {
            match s.recv_from(&mut buf) {
                Ok((n, _)) => got.push(buf[..n].to_vec()),
                Err(_) => break,
            }
        }
        got
    });
    ready_rx.recv_timeout(T).expect("receiver ready");
    let p = Program::start(
        &pair.ns_a,
        "efsend",
        &[
            "-n",
            "10",
            "-m",
            "32",
            &pair.if_a,
            &group.to_string(),
            &port.to_string(),
        ],
    );
    let (status, lines) = p.finish(T);
    assert!(status.is_some_and(|s| s.success()), "efsend: {lines:?}");
    assert!(
        lines.iter().any(|l| l == "Sent 10 packets"),
        "efsend: {lines:?}"
    );
    let got = receiver.join().expect("receiver");
    assert_eq!(got.len(), 10, "datagrams received by the kernel socket");
    let want: Vec<u8> = (0..32u8).collect();
    assert!(got.iter().all(|d| *d == want), "payloads: {got:?}");
}

#[test]
fn eflatency_ping_and_pong_across_a_veth_pair() {
    let test = "eflatency_ping_and_pong_across_a_veth_pair";
    let Some(pair) = runnable_pair(test, 6) else {
        return;
    };
    let (plines, _) = eflatency_ping_pong(
        &pair.ns_a,
        &["-n", "500", "-w", "50", "ping", &pair.if_a],
        &pair.ns_b,
        &["-n", "500", "-w", "50", "pong", &pair.if_b],
    );
    let rtt = plines
        .iter()
        .find_map(|l| l.strip_prefix("mean round-trip time: "))
        .and_then(|l| l.strip_suffix(" usec"))
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or_else(|| panic!("no round-trip time in {plines:?}"));
    assert!(rtt > 0.0, "rtt {rtt}");
    assert!(
        plines.iter().any(|l| l == "# iterations: 500"),
        "{plines:?}"
    );
}

#[test]
fn efforward_forwards_between_two_namespaces() {
    let test = "efforward_forwards_between_two_namespaces";
    let Some(t) = runnable_trio(test, 7) else {
        return;
    };
    let mut fwd = Program::start(&t.f, "efforward", &["-c", "f0", "f1"]);
    assert!(
        fwd.wait_for("vi0-rx", T).is_some(),
        "efforward: {:?}",
        fwd.seen
    );
    let (ip_a, ip_b) = (t.ip_a, t.ip_b);
    let port = 36007;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let receiver = run_in(&t.b, move || {
        let s = UdpSocket::bind((ip_b, port)).expect("bind");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        ready_tx.send(()).unwrap();
        let mut n = 0;
        let mut buf = [0u8; 2048];
        while n < 10 {
            match s.recv_from(&mut buf) {
                Ok((len, from)) if len == 100 && from.ip() == ip_a => n += 1,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        n
    });
    ready_rx.recv_timeout(T).expect("receiver ready");
    run_in(&t.a, move || send_udp(ip_a, (ip_b, port), 10, 100))
        .join()
        .expect("sender");
    assert_eq!(
        receiver.join().expect("receiver"),
        10,
        "datagrams forwarded a -> b"
    );
    drop(fwd);
}

#[test]
fn efrss_spreads_flows_over_its_vis() {
    let test = "efrss_spreads_flows_over_its_vis";
    let Some(pair) = runnable_pair(test, 8) else {
        return;
    };
    let mut rss = Program::start(&pair.ns_b, "efrss", &["-n", "64", "4", &pair.if_b]);
    assert!(rss.wait_for("vi0-rx", T).is_some(), "efrss: {:?}", rss.seen);
    let (ip_a, ip_b) = (pair.ip_a, pair.ip_b);
    // 64 flows: one datagram from each of 64 source ports.
    run_in(&pair.ns_a, move || {
        for _ in 0..64 {
            send_udp(ip_a, (ip_b, 36008), 1, 64);
        }
    })
    .join()
    .expect("sender");
    let (status, lines) = rss.finish(T);
    assert!(status.is_some_and(|s| s.success()), "efrss: {lines:?}");
    let totals: Vec<u64> = lines
        .iter()
        .find_map(|l| l.strip_prefix("# totals: "))
        .unwrap_or_else(|| panic!("no totals in {lines:?}"))
        .split_whitespace()
        .map(|v| v.parse().expect("number"))
        .collect();
    assert_eq!(totals.len(), 4);
    assert!(totals.iter().sum::<u64>() >= 64, "totals {totals:?}");
    let busy = totals.iter().filter(|&&n| n > 0).count();
    assert!(busy >= 2, "flows were not spread: {totals:?}");
}
