// The example programs' less common options (efsink -x/-s/-q/-i/-j/-D, efsend -V,
// eflatency -m/-s/-o/-y/-t/-d/-S/-N and <tx_interface>), run as the SDK's samples are, each
// test in network namespaces of its own. Where an option asks for something an adapter may lack (an exclusive or shared
// RX queue, a chosen hardware queue), the test accepts either the option's effect or a
// failure that names the ef_vi call that refused, since the tests also run against the
// vendor library.

mod common;
#[path = "../examples/common/mod.rs"]
mod frames;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;

/// How an efsink run with `args` (before `-n 5 lo <filter>`) ended.
enum Sink {
    /// It counted this many datagrams (of 5 sent to its filter and 3 to another port) and
    /// printed these lines.
    Counted(u64, Vec<String>),
    /// It refused to start, saying this on stderr.
    Refused(String),
}

fn efsink_run(test: &str, port: u16, args: &[&str]) -> Option<Sink> {
    let ns = runnable_lo_netns(test)?;
    let lo = Ipv4Addr::LOCALHOST;
    let spec = format!("udp:127.0.0.1:{port}");
    let mut all = args.to_vec();
    all.extend(["-n", "5", "lo", &spec]);
    // A refusal comes before the ready line: find out with a run of its own first.
    let mut p = Program::start(&ns, "efsink", &all);
    if p.wait_for("efsink is now ready to receive", T).is_none() {
        drop(p);
        let out = run_to_end(&ns, "efsink", &all);
        assert!(
            !out.status.success(),
            "efsink neither got ready nor failed: {:?}",
            String::from_utf8_lossy(&out.stdout)
        );
        return Some(Sink::Refused(
            String::from_utf8_lossy(&out.stderr).into_owned(),
        ));
    }
    run_in(&ns, move || {
        send_udp(lo, (lo, port + 1), 3, 64);
        send_udp(lo, (lo, port), 5, 64);
    })
    .join()
    .expect("sender");
    let (status, lines) = p.finish(T);
    assert!(
        status.is_some_and(|s| s.success()),
        "efsink did not exit by itself after 5 packets: {lines:?}"
    );
    let n = efsink_total(&lines).unwrap_or_else(|| panic!("no totals in {lines:?}"));
    Some(Sink::Counted(n, lines))
}

/// efsink with an RX queue flag either counts exactly the filtered datagrams or fails
/// naming `ef_vi_filter_add`.
fn efsink_with_rxq_flag(test: &str, port: u16, flag: &str) {
    match efsink_run(test, port, &[flag]) {
        None => {}
        Some(Sink::Counted(n, lines)) => assert_eq!(n, 5, "efsink {flag}: {lines:?}"),
        Some(Sink::Refused(err)) => {
            assert!(err.contains("ef_vi_filter_add"), "efsink {flag}: {err}")
        }
    }
}

#[test]
fn efsink_exclusive_rxq_counts_exactly_the_filtered_datagrams() {
    efsink_with_rxq_flag(
        "efsink_exclusive_rxq_counts_exactly_the_filtered_datagrams",
        37001,
        "-x",
    );
}

#[test]
fn efsink_shared_rxq_counts_exactly_the_filtered_datagrams() {
    efsink_with_rxq_flag(
        "efsink_shared_rxq_counts_exactly_the_filtered_datagrams",
        37011,
        "-s",
    );
}

#[test]
fn efsink_refuses_exclusive_and_shared_together() {
    let test = "efsink_refuses_exclusive_and_shared_together";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let out = run_to_end(&ns, "efsink", &["-x", "-s", "lo", "udp:127.0.0.1:37021"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("you cannot specify both -x (exclusive rxq) and -s (shared rxq)"),
        "stderr: {err}"
    );
}

#[test]
fn efsink_chosen_rxq_is_used_or_refused_by_name() {
    let test = "efsink_chosen_rxq_is_used_or_refused_by_name";
    match efsink_run(test, 37031, &["-q", "0"]) {
        None => {}
        Some(Sink::Counted(n, lines)) => assert_eq!(n, 5, "efsink -q 0: {lines:?}"),
        Some(Sink::Refused(err)) => {
            // Adapters without chosen queues (and the software backend) refuse the spec.
            assert!(
                err.contains("ef_filter_spec_set_dest"),
                "efsink -q 0: {err}"
            );
            assert!(err.contains("not supported"), "efsink -q 0: {err}");
        }
    }
}

#[test]
fn efsink_prints_the_filter_id_of_each_filter() {
    let test = "efsink_prints_the_filter_id_of_each_filter";
    let port = 37041;
    match efsink_run(test, port, &["-i"]) {
        None => {}
        Some(Sink::Refused(err)) => panic!("efsink -i refused to start: {err}"),
        Some(Sink::Counted(n, lines)) => {
            assert_eq!(n, 5, "efsink -i: {lines:?}");
            let prefix = format!("filter udp:127.0.0.1:{port}: filter_id=");
            let line = lines
                .iter()
                .find(|l| l.starts_with(&prefix))
                .unwrap_or_else(|| panic!("no filter line in {lines:?}"));
            let fields: Vec<&str> = line[prefix.len()..].split_whitespace().collect();
            assert_eq!(fields.len(), 3, "{line}");
            assert!(
                fields[0] == "none" || fields[0].parse::<u32>().is_ok(),
                "filter id in {line}"
            );
            let q = fields[1].strip_prefix("rxq=").expect("rxq= field");
            assert!(q == "none" || q.parse::<u32>().is_ok(), "{line}");
            assert!(matches!(fields[2], "exclusive" | "shared"), "{line}");
        }
    }
}

#[test]
fn efsend_vlan_frames_reach_a_vlan_filter() {
    let test = "efsend_vlan_frames_reach_a_vlan_filter";
    let Some(pair) = runnable_pair(test, 40) else {
        return;
    };
    // efsend -V takes its source address from `<interface>.<vlan>`; an interface of that
    // name stands in for the VLAN device (8021q may be missing where the tests run).
    let vlan_if = format!("{}.7", pair.if_a);
    testkit::veth(&pair.ns_a, &vlan_if, &pair.ns_a, "efv40");
    pair.ns_a
        .ip(&["addr", "add", "10.216.40.1/24", "dev", &vlan_if]);
    let port = 37051;
    let spec = format!("udp:vid=7,{}:{port}", pair.ip_b);
    let mut sink = Program::start(&pair.ns_b, "efsink", &["-n", "10", &pair.if_b, &spec]);
    assert!(
        sink.wait_for("efsink is now ready to receive", T).is_some(),
        "efsink: {:?}",
        sink.seen
    );
    // Untagged datagrams to the same address and port must not count.
    let plain = Program::start(
        &pair.ns_a,
        "efsend",
        &[
            "-n",
            "4",
            &pair.if_a,
            &pair.ip_b.to_string(),
            &port.to_string(),
        ],
    );
    let (ps, plines) = plain.finish(T);
    assert!(ps.is_some_and(|s| s.success()), "efsend: {plines:?}");
    let tagged = Program::start(
        &pair.ns_a,
        "efsend",
        &[
            "-n",
            "10",
            "-V",
            "7",
            &pair.if_a,
            &pair.ip_b.to_string(),
            &port.to_string(),
        ],
    );
    let (ts, tlines) = tagged.finish(T);
    assert!(ts.is_some_and(|s| s.success()), "efsend -V 7: {tlines:?}");
    assert!(
        tlines.iter().any(|l| l == "Sent 10 packets"),
        "efsend -V 7: {tlines:?}"
    );
    assert_efsink_counted(sink, 10, "efsink of VLAN 7 frames");
}

#[test]
fn efsend_vlan_without_an_address_fails_with_a_message() {
    let test = "efsend_vlan_without_an_address_fails_with_a_message";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let out = run_to_end(
        &ns,
        "efsend",
        &["-n", "1", "-V", "9", "lo", "127.0.0.1", "37061"],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("VLAN interface lo.9 has no IPv4 address"),
        "stderr: {err}"
    );
}

#[test]
fn eflatency_rejects_an_unknown_mode() {
    let test = "eflatency_rejects_an_unknown_mode";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let out = run_to_end(&ns, "eflatency", &["-m", "ax", "pong", "lo"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Unknown mode 'x'"), "stderr: {err}");
}

/// Whether the adapter behind `intf` (in `ns`) has TX alternatives
/// (`EF_VI_CAP_TX_ALTERNATIVES`), as eflatency asks its protection domain.
fn has_tx_alternatives(ns: &Netns, intf: &str) -> bool {
    let intf = intf.to_owned();
    run_in(ns, move || {
        let driver = etherfabric::Driver::open().expect("Driver::open");
        let pd =
            etherfabric::ProtectionDomain::by_name(&driver, &intf, etherfabric::PdFlags::empty())
                .unwrap_or_else(|e| panic!("protection domain on {intf}: {e}"));
        pd.capability(etherfabric::Capability::TX_ALTERNATIVES)
            .unwrap_or(0)
            != 0
    })
    .join()
    .expect("capability query")
}

/// eflatency `-m <modes>` on `intf` in `ns` where the adapter lacks TX alternatives: it
/// must refuse as the sample does, before any traffic.
fn assert_no_alternatives_refusal(ns: &Netns, intf: &str, args: &[&str]) {
    let out = run_to_end(ns, "eflatency", args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{intf}: stderr: {err}");
    assert!(err.contains("No compatible mode found"), "stderr: {err}");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("# TX mode:"),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn eflatency_alternatives_mode_runs_across_a_veth_pair() {
    let test = "eflatency_alternatives_mode_runs_across_a_veth_pair";
    let Some(pair) = runnable_pair(test, 49) else {
        return;
    };
    // Two sizes: the reply queued for an iteration that does not come is discarded at the
    // end of the first, and the second queues frames of another length.
    let args = |role: &'static str, intf: &str| -> Vec<String> {
        [
            "-n", "200", "-w", "20", "-s", "8,300", "-m", "a", role, intf,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let pong_args = args("pong", &pair.if_b);
    let pong_args: Vec<&str> = pong_args.iter().map(String::as_str).collect();
    let ping_args = args("ping", &pair.if_a);
    let ping_args: Vec<&str> = ping_args.iter().map(String::as_str).collect();
    if !has_tx_alternatives(&pair.ns_b, &pair.if_b) {
        assert_no_alternatives_refusal(&pair.ns_b, &pair.if_b, &pong_args);
        testkit::skip(
            test,
            "no TX alternatives on this adapter (the refusal of -m a was checked)",
        );
        return;
    }
    let (plines, qlines) = eflatency_ping_pong(&pair.ns_a, &ping_args, &pair.ns_b, &pong_args);
    for (who, lines) in [("ping", &plines), ("pong", &qlines)] {
        assert!(
            lines.iter().any(|l| l == "# TX mode: Alternatives"),
            "{who}: {lines:?}"
        );
    }
    let rows = result_rows(&plines, TABLE);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [8, 300],
        "{plines:?}"
    );
    for (len, v) in &rows {
        // mean, min, 50%, 95%, 99%, max: positive and ordered from min to max.
        assert_eq!(v.len(), 6, "size {len}: {v:?}");
        assert!(v.iter().all(|x| *x > 0.0), "size {len}: {v:?}");
        assert!(v[1..].windows(2).all(|w| w[0] <= w[1]), "size {len}: {v:?}");
    }
}

#[test]
fn eflatency_modes_are_tried_in_the_samples_order() {
    // -m ad: alternatives where the adapter has them, else DMA (C tries CTPIO, alternatives,
    // PIO, DMA, whatever the order of the letters).
    let test = "eflatency_modes_are_tried_in_the_samples_order";
    let Some(pair) = runnable_pair(test, 41) else {
        return;
    };
    let want = if has_tx_alternatives(&pair.ns_b, &pair.if_b) {
        "# TX mode: Alternatives"
    } else {
        "# TX mode: DMA"
    };
    let args = |role: &'static str, intf: &str| -> Vec<String> {
        ["-n", "50", "-w", "5", "-m", "da", role, intf]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let pong_args = args("pong", &pair.if_b);
    let pong_args: Vec<&str> = pong_args.iter().map(String::as_str).collect();
    let ping_args = args("ping", &pair.if_a);
    let ping_args: Vec<&str> = ping_args.iter().map(String::as_str).collect();
    let (plines, qlines) = eflatency_ping_pong(&pair.ns_a, &ping_args, &pair.ns_b, &pong_args);
    assert!(plines.iter().any(|l| l == want), "ping: {plines:?}");
    assert!(qlines.iter().any(|l| l == want), "pong: {qlines:?}");
    assert!(
        plines
            .iter()
            .any(|l| l.starts_with("mean round-trip time: ")),
        "{plines:?}"
    );
}

#[test]
fn efsink_joins_the_multicast_group_of_its_filter() {
    let test = "efsink_joins_the_multicast_group_of_its_filter";
    let Some(pair) = runnable_pair(test, 42) else {
        return;
    };
    let group = Ipv4Addr::new(239, 213, 42, 1);
    let port = 37071;
    let spec = format!("udp:{group}:{port}");
    let mut sink = Program::start(&pair.ns_b, "efsink", &["-j", "-n", "5", &pair.if_b, &spec]);
    assert!(
        sink.wait_for("efsink is now ready to receive", T).is_some(),
        "efsink -j: {:?}",
        sink.seen
    );
    // The kernel holds the membership (and reports it with IGMP) while efsink runs.
    let maddr = pair.ns_b.ip(&["maddr", "show", "dev", &pair.if_b]);
    assert!(
        maddr
            .lines()
            .any(|l| l.split_whitespace().eq(["inet", &group.to_string()])),
        "group not joined on {}: {maddr}",
        pair.if_b
    );
    let ip_a = pair.ip_a;
    run_in(&pair.ns_a, move || send_udp(ip_a, (group, port), 5, 64))
        .join()
        .expect("sender");
    assert_efsink_counted(sink, 5, "efsink -j");
}

#[test]
fn efsink_join_of_a_unicast_address_fails_with_a_message() {
    let test = "efsink_join_of_a_unicast_address_fails_with_a_message";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let out = run_to_end(&ns, "efsink", &["-j", "lo", "udp:127.0.0.1:37081"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ERROR: multicast join of 127.0.0.1 on lo failed"),
        "stderr: {err}"
    );
    let out = run_to_end(&ns, "efsink", &["-j", "lo", "unicast-all"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("-j needs a udp: or tcp: filter-spec"),
        "stderr: {err}"
    );
}

/// Sends `n` UDP frames to 127.0.0.1:`port` on `lo` whose IPv4 header checksum is wrong,
/// from a VI without checksum offload (run inside the namespace).
fn send_bad_ip_checksums(port: u16, n: usize) {
    use etherfabric::*;
    let driver = Driver::open().expect("driver");
    let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).expect("PD on lo");
    let mut pool = BufferPool::alloc(&pd, n as u32, DEFAULT_BUF_SIZE).expect("pool");
    let mut vi = Vi::builder(&pd)
        .flags(ViFlags::TX_IP_CSUM_DIS | ViFlags::TX_TCPUDP_CSUM_DIS)
        .build(&pool)
        .expect("VI");
    let lo = Ipv4Addr::LOCALHOST;
    for _ in 0..n {
        let mut b = pool.take().expect("a buffer");
        let buf = pool.bytes_mut(&mut b);
        let len = frames::write_udp_header(buf, [0; 6], [0; 6], (lo, 40000), (lo, port), 32)
            .expect("frame");
        buf[24] ^= 0x5a; // the IPv4 header checksum
        vi.transmit(b, len).map_err(|r| r.error).expect("transmit");
        std::thread::sleep(Duration::from_millis(2));
    }
    // Wait for the completions, so the frames are out before the VI goes.
    let mut evs: [Event; 16] = Default::default();
    let mut back = 0;
    let deadline = std::time::Instant::now() + T;
    while back < n && std::time::Instant::now() < deadline {
        for e in vi.poll(&mut evs) {
            if let Event::Tx(c) = e.take() {
                back += vi.transmit_unbundle(c, |b| {
                    let _ = pool.put(b);
                });
            }
        }
    }
    assert_eq!(back, n, "transmit completions");
}

/// Runs efsink with `args` on `lo` while 4 frames with a bad IP checksum arrive; returns
/// the packets it counted and its discard reports.
fn efsink_bad_frames(test: &str, port: u16, args: &[&str]) -> Option<(u64, Vec<String>)> {
    let ns = runnable_lo_netns(test)?;
    let spec = format!("udp:127.0.0.1:{port}");
    let mut all = args.to_vec();
    all.extend(["-v", "-n", "4", "lo", &spec]);
    let mut p = Program::start_capturing_stderr(&ns, "efsink", &all);
    assert!(
        p.wait_for("efsink is now ready to receive", T).is_some(),
        "efsink {args:?}: {:?}",
        p.seen
    );
    run_in(&ns, move || send_bad_ip_checksums(port, 4))
        .join()
        .expect("sender");
    let (status, lines, errs) = p.finish_with_stderr(T);
    assert!(
        status.is_some_and(|s| s.success()),
        "efsink {args:?} did not exit after 4 packets: {lines:?} {errs:?}"
    );
    let mask = lines
        .iter()
        .find_map(|l| l.strip_prefix("discards="))
        .unwrap_or_else(|| panic!("no discards= line in {lines:?}"));
    let mask = u32::from_str_radix(mask.trim_start_matches("0x"), 16).expect("hex mask");
    if let Some(d) = args.iter().position(|a| *a == "-D") {
        let want = args[d + 1];
        let want = u32::from_str_radix(want.trim_start_matches("0x"), 16).unwrap();
        assert_eq!(mask, want, "the mask -D set");
    }
    let reports = errs
        .into_iter()
        .filter(|l| l.starts_with("ERROR: discard type="))
        .collect();
    Some((efsink_total(&lines).expect("totals"), reports))
}

#[test]
fn efsink_discard_mask_decides_which_bad_frames_are_reported_as_discards() {
    let test = "efsink_discard_mask_decides_which_bad_frames_are_reported_as_discards";
    // The default mask includes IP checksum errors: each bad frame comes as a discard,
    // which efsink reports and (as the C sample does) counts.
    let Some((n, reports)) = efsink_bad_frames(test, 37091, &[]) else {
        return;
    };
    assert_eq!(n, 4, "packets counted");
    assert_eq!(reports.len(), 4, "discard reports: {reports:?}");
    assert!(
        reports.iter().all(|r| r == "ERROR: discard type=CsumBad"),
        "{reports:?}"
    );
    // A mask of TCP/UDP checksum errors only: the same frames are delivered as received.
    let (n, reports) = efsink_bad_frames(test, 37092, &["-D", "0x1"]).expect("second run");
    assert_eq!(n, 4, "packets counted");
    assert!(
        reports.is_empty(),
        "discard reports with -D 0x1: {reports:?}"
    );
}

/// A directory of its own for a test's files; removed on drop.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("{test}-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// ping's result lines (after the table header): payload length and the other fields.
fn result_rows(lines: &[String], header: &str) -> Vec<(usize, Vec<f64>)> {
    let start = lines
        .iter()
        .position(|l| l == header)
        .unwrap_or_else(|| panic!("no header {header:?} in {lines:?}"));
    lines[start + 1..]
        .iter()
        .take_while(|l| !l.starts_with("mean round-trip time"))
        .map(|l| {
            let mut f = l.split('\t');
            let len = f.next().unwrap().parse().expect("payload length");
            let v = f.map(|x| x.parse().expect("a number")).collect();
            (len, v)
        })
        .collect()
}

const TABLE: &str = "paylen\tmean\tmin\t50%\t95%\t99%\tmax";

#[test]
fn eflatency_sweeps_sizes_and_writes_raw_times_and_yaml() {
    let test = "eflatency_sweeps_sizes_and_writes_raw_times_and_yaml";
    let Some(pair) = runnable_pair(test, 43) else {
        return;
    };
    let dir = TempDir::new(test);
    let raw = dir.path("raw_$s.txt");
    let yaml_path = dir.path("results.yaml");
    let common = ["-n", "20", "-w", "2", "-s", "0:64:32"];
    let ping_args: Vec<&str> = common
        .iter()
        .copied()
        .chain(["-o", &raw, "-y", &yaml_path, "ping", &pair.if_a])
        .collect();
    let pong_args: Vec<&str> = common.iter().copied().chain(["pong", &pair.if_b]).collect();
    let (plines, qlines) = eflatency_ping_pong(&pair.ns_a, &ping_args, &pair.ns_b, &pong_args);
    assert!(
        plines.iter().any(|l| l == "# udp payload len: 0:64:32"),
        "{plines:?}"
    );
    assert!(qlines.iter().any(|l| l == "# frame len: 42"), "{qlines:?}");
    // One line per size (the end is not included), no single mean.
    let rows = result_rows(&plines, TABLE);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 32],
        "{plines:?}"
    );
    for (len, v) in &rows {
        assert_eq!(v.len(), 6, "fields of size {len}: {plines:?}");
        let [mean, min, p50, p95, p99, max] = v[..] else {
            unreachable!()
        };
        assert!(mean > 0.0 && min > 0.0, "{plines:?}");
        assert!(
            min <= p50 && p50 <= p95 && p95 <= p99 && p99 <= max,
            "{plines:?}"
        );
    }
    assert!(!plines.iter().any(|l| l.starts_with("mean round-trip time")));
    // `$s` became each size; one time in nanoseconds per iteration.
    for size in [0, 32] {
        let text = std::fs::read_to_string(dir.path(&format!("raw_{size}.txt")))
            .unwrap_or_else(|e| panic!("raw file of size {size}: {e}"));
        let times: Vec<u64> = text.lines().map(|l| l.parse().expect("ns")).collect();
        assert_eq!(times.len(), 20, "raw times of size {size}");
        assert!(times.iter().all(|&t| t > 0), "{times:?}");
    }
    let doc = yaml::parse(&std::fs::read_to_string(&yaml_path).expect("YAML file"))
        .unwrap_or_else(|e| panic!("YAML: {e}"));
    let scalar = |k: &str| match doc.get(k) {
        Some(yaml::Value::Scalar(s)) => s.clone(),
        other => panic!("{k}: {other:?}"),
    };
    for k in ["datetime", "ef_vi_version_str", "tx_mode", "rx_event_type"] {
        assert!(!scalar(k).is_empty(), "{k}");
    }
    assert_eq!(scalar("iterations"), "20");
    assert_eq!(scalar("warmups"), "2");
    assert_eq!(scalar("ping_or_pong"), "ping");
    assert_eq!(scalar("vi_flags"), "0x0");
    match doc.get("nics") {
        Some(yaml::Value::Seq(v)) => assert_eq!(v.len(), 2, "{v:?}"),
        other => panic!("nics: {other:?}"),
    }
    let slice = |k: &str| match doc.get(k) {
        Some(yaml::Value::Map(m)) => (m["start"].clone(), m["end"].clone(), m["step"].clone()),
        other => panic!("{k}: {other:?}"),
    };
    assert_eq!(
        slice("udp_payload_len"),
        ("0".into(), "64".into(), "32".into())
    );
    assert_eq!(slice("frame_len"), ("42".into(), "106".into(), "32".into()));
    let Some(yaml::Value::Items(results)) = doc.get("results") else {
        panic!("results: {:?}", doc.get("results"));
    };
    assert_eq!(results.len(), 2, "{results:?}");
    for (r, (payload, frame)) in results.iter().zip([(0, 42), (32, 74)]) {
        let keys: Vec<&str> = r.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "95%",
                "99%",
                "frame_len",
                "max",
                "mean",
                "median",
                "min",
                "payload_len",
                "runtime_mean"
            ],
            "{r:?}"
        );
        assert_eq!(r["payload_len"], payload.to_string());
        assert_eq!(r["frame_len"], frame.to_string());
        assert!(r["median"].parse::<u64>().expect("ns") > 0, "{r:?}");
    }
}

#[test]
fn eflatency_sends_on_its_tx_interface() {
    let test = "eflatency_sends_on_its_tx_interface";
    let Some(pair) = runnable_pair(test, 44) else {
        return;
    };
    // A second link: each side receives on one link and sends on the other, so a round
    // trip completes only if both send where they were told to.
    testkit::veth(&pair.ns_a, "efc44a", &pair.ns_b, "efc44b");
    let sizes = ["-n", "30", "-w", "3", "-s", "8,24"];
    let ping_args: Vec<&str> = sizes
        .iter()
        .copied()
        .chain(["ping", &pair.if_a, "efc44a"])
        .collect();
    let pong_args: Vec<&str> = sizes
        .iter()
        .copied()
        .chain(["pong", "efc44b", &pair.if_b])
        .collect();
    let (plines, qlines) = eflatency_ping_pong(&pair.ns_a, &ping_args, &pair.ns_b, &pong_args);
    let nics = |lines: &[String]| -> (i64, i64) {
        let l = lines
            .iter()
            .find_map(|l| l.strip_prefix("# NIC(s) "))
            .unwrap_or_else(|| panic!("no NIC(s) line in {lines:?}"));
        let v: Vec<i64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
        (v[0], v[1])
    };
    let ifindex = |ns: &Netns, name: &str| -> i64 {
        let out = ns.ip(&["-o", "link", "show", name]);
        out.split(':').next().unwrap().trim().parse().unwrap()
    };
    assert_eq!(
        nics(&plines),
        (
            ifindex(&pair.ns_a, &pair.if_a),
            ifindex(&pair.ns_a, "efc44a")
        )
    );
    assert_eq!(
        nics(&qlines),
        (
            ifindex(&pair.ns_b, "efc44b"),
            ifindex(&pair.ns_b, &pair.if_b)
        )
    );
    assert!(
        plines.iter().any(|l| l == "# udp payload len: 8, 24"),
        "{plines:?}"
    );
    assert!(
        plines.iter().any(|l| l == "# frame len: 50, 66"),
        "{plines:?}"
    );
    let rows = result_rows(&plines, TABLE);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [8, 24],
        "{plines:?}"
    );
}

#[test]
fn eflatency_tx_push_data_read_and_peek_and_no_stats_across_a_veth_pair() {
    let test = "eflatency_tx_push_data_read_and_peek_and_no_stats_across_a_veth_pair";
    let Some(pair) = runnable_pair(test, 45) else {
        return;
    };
    let dir = TempDir::new(test);
    let yaml_path = dir.path("r.yaml");
    let opts = ["-n", "30", "-w", "3", "-s", "16", "-t", "d", "-d", "rp"];
    let ping_args: Vec<&str> = opts
        .iter()
        .copied()
        .chain(["-N", "-y", &yaml_path, "ping", &pair.if_a])
        .collect();
    let pong_args: Vec<&str> = opts.iter().copied().chain(["pong", &pair.if_b]).collect();
    let (plines, _) = eflatency_ping_pong(&pair.ns_a, &ping_args, &pair.ns_b, &pong_args);
    // -N: the run's mean only.
    let rows = result_rows(&plines, "paylen\tmean");
    assert_eq!(rows.len(), 1, "{plines:?}");
    assert_eq!(rows[0].0, 16);
    assert_eq!(rows[0].1.len(), 1, "{plines:?}");
    assert!(
        plines
            .iter()
            .any(|l| l.starts_with("mean round-trip time: ")),
        "{plines:?}"
    );
    let doc = yaml::parse(&std::fs::read_to_string(&yaml_path).expect("YAML file"))
        .unwrap_or_else(|e| panic!("YAML: {e}"));
    // -t d is TX_PUSH_DISABLE in the VI flags.
    let want = format!("{:#x}", etherfabric::ViFlags::TX_PUSH_DISABLE.bits());
    assert_eq!(doc.get("vi_flags"), Some(&yaml::Value::Scalar(want)));
    let Some(yaml::Value::Items(results)) = doc.get("results") else {
        panic!("results: {:?}", doc.get("results"));
    };
    assert_eq!(results.len(), 1);
    let keys: Vec<&str> = results[0].keys().map(String::as_str).collect();
    assert_eq!(keys, ["frame_len", "payload_len", "runtime_mean"]);
}

#[test]
fn eflatency_shared_rxq_is_used_or_refused_by_name() {
    let test = "eflatency_shared_rxq_is_used_or_refused_by_name";
    let Some(pair) = runnable_pair(test, 46) else {
        return;
    };
    let pong_args = ["-S", "-n", "30", "-w", "3", "pong", &pair.if_b];
    let Ok(pong) = start_eflatency_pong(&pair.ns_b, &pong_args) else {
        // An adapter without shared RX queues refuses the filter; find out what it said.
        let out = run_to_end(&pair.ns_b, "eflatency", &pong_args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {err}");
        assert!(err.contains("ef_vi_filter_add"), "stderr: {err}");
        return;
    };
    let ping_args = ["-S", "-n", "30", "-w", "3", "ping", &pair.if_a];
    let (plines, _) = finish_eflatency_ping(&pair.ns_a, &ping_args, pong);
    assert!(
        plines
            .iter()
            .any(|l| l.starts_with("mean round-trip time: ")),
        "{plines:?}"
    );
}

#[test]
fn eflatency_refuses_what_it_cannot_do_with_the_samples_messages() {
    let test = "eflatency_refuses_what_it_cannot_do_with_the_samples_messages";
    let Some(ns) = runnable_lo_netns(test) else {
        return;
    };
    let cases: [(&[&str], &str); 5] = [
        (
            &["-N", "-o", "x", "ping", "lo"],
            "ERROR: Raw timings are not applicable with -N option",
        ),
        (
            &["-s", "64:0", "ping", "lo"],
            "Max payload size not reachable from min",
        ),
        (
            &["-s", "0:64:0", "ping", "lo"],
            "Please provide payload step",
        ),
        (&["-t", "x", "ping", "lo"], "Unknown mode 'x'"),
        (&["-d", "x", "ping", "lo"], "Unknown data mode 'x'"),
    ];
    for (args, msg) in cases {
        let out = run_to_end(&ns, "eflatency", args);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(1), "{args:?}: {text}");
        assert!(text.contains(msg), "{args:?}: {text}");
    }
}

#[test]
fn eflatency_read_data_checks_the_payload_it_receives() {
    let test = "eflatency_read_data_checks_the_payload_it_receives";
    let Some(pair) = runnable_pair(test, 47) else {
        return;
    };
    // pong reads each packet (-d r) and expects 8-byte payloads; ping sends 16.
    let mut pong = Program::start_capturing_stderr(
        &pair.ns_b,
        "eflatency",
        &[
            "-d", "r", "-s", "8", "-n", "5", "-w", "0", "pong", &pair.if_b,
        ],
    );
    assert!(
        pong.wait_for("# TX mode:", T).is_some(),
        "pong: {:?}",
        pong.seen
    );
    let ping = Program::start(
        &pair.ns_a,
        "eflatency",
        &["-s", "16", "-n", "5", "-w", "0", "ping", &pair.if_a],
    );
    let (status, _, errs) = pong.finish_with_stderr(T);
    drop(ping);
    assert_eq!(status.and_then(|s| s.code()), Some(1), "pong: {errs:?}");
    assert!(
        errs.iter()
            .any(|l| l.contains("-d r: received a UDP payload of 16 bytes, expected 8")),
        "pong stderr: {errs:?}"
    );
}

#[test]
fn eflatency_pio_mode_is_used_or_refused_with_the_samples_message() {
    let test = "eflatency_pio_mode_is_used_or_refused_with_the_samples_message";
    let Some(pair) = runnable_pair(test, 48) else {
        return;
    };
    let pong_args = [
        "-m", "p", "-n", "30", "-w", "3", "-s", "0,100", "pong", &pair.if_b,
    ];
    let Ok(pong) = start_eflatency_pong(&pair.ns_b, &pong_args) else {
        // Adapters without PIO.
        let out = run_to_end(&pair.ns_b, "eflatency", &pong_args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "stderr: {err}");
        assert!(err.contains("No compatible mode found"), "stderr: {err}");
        return;
    };
    assert!(
        pong.seen.iter().any(|l| l == "# TX mode: PIO"),
        "pong: {:?}",
        pong.seen
    );
    let ping_args = [
        "-m", "p", "-n", "30", "-w", "3", "-s", "0,100", "ping", &pair.if_a,
    ];
    let (plines, _) = finish_eflatency_ping(&pair.ns_a, &ping_args, pong);
    // Each size's frame is copied into the PIO region: both sizes make it round.
    let rows = result_rows(&plines, TABLE);
    assert_eq!(
        rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        [0, 100],
        "{plines:?}"
    );
}
