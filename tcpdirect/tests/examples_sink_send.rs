//! The UDP sample ports `zfsink` and `zfsend`, and the TX-alternatives sample
//! `zfaltpingpong`, run as programs, each test in a network namespace of its own
//! (`testkit::Netns::command`) with `ZF_ATTR=interface=lo`:
//!
//! * zfsend sends a known number of datagrams and zfsink, in each of its three receive loops
//!   (the reactor, `-m` the muxer, `-w` epoll on the stack's waitable fd), counts exactly
//!   that many; `-r` prints a receive-timestamp line for each datagram;
//! * zfsink counts the datagrams a kernel UDP socket sends, and only those from the remote
//!   address it was given (software backend: kernel peers cannot reach a NIC);
//! * zfaltpingpong ping against pong finishes and prints the SDK sample's report.
//!
//! zfsink never exits: it prints its header line once bound (the monitor thread starts after
//! the bind) and then, once a second, the packet rate, the bandwidth and the running total;
//! the tests read those lines as they come and stop the program. Counts stay small: both
//! ends busy-poll, as the SDK's programs do, and CI may run the tests on one core.

use std::io::{BufRead as _, BufReader, Read as _};
use std::net::UdpSocket;
use std::process::{Child, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use testkit::{LIMIT, Netns};

// Unprivileged runs enter a user namespace of their own before the harness starts threads,
// so that each test can have a network namespace of its own.
testkit::enter_user_namespace_at_start!();

/// Where zfsink listens, in every test's namespace.
const SINK: &str = "127.0.0.1:20040";
/// zfsink's port.
const SINK_PORT: u16 = 20040;
/// Where zfsend sends from.
const SENDER: &str = "127.0.0.1:20041";
/// Datagrams per test: few, as both ends busy-poll.
const N: usize = 150;

/// An example program running in a namespace: its standard output arrives line by line on a
/// channel (kept, for failure messages), its standard error is collected by a thread. The
/// program is killed when this is dropped, so that a failing test leaves no busy-polling
/// process behind.
struct Program {
    name: &'static str,
    child: Child,
    lines: Receiver<String>,
    stdout_seen: Vec<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Program {
    /// Starts example `name` with `args` in `ns`.
    fn start(ns: &Netns, name: &'static str, args: &[&str]) -> Program {
        let mut child = ns
            .example(name)
            .args(args)
            .env("ZF_ATTR", "interface=lo")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {name}: {e}"));
        let out = child.stdout.take().expect("piped stdout");
        let mut err = child.stderr.take().expect("piped stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = std::thread::spawn(move || {
            let mut s = String::new();
            let _ = err.read_to_string(&mut s);
            s
        });
        Program {
            name,
            child,
            lines,
            stdout_seen: Vec::new(),
            stderr: Some(stderr),
        }
    }

    /// The next line of standard output, or `None` once `deadline` has passed or the
    /// program closed its output.
    fn next_line(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.lines.recv_timeout(left) {
            Ok(line) => {
                self.stdout_seen.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Reads standard output until a line satisfies `want` and returns it; panics, showing
    /// everything the program printed, when none comes within [`LIMIT`].
    fn line_where(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + LIMIT;
        while let Some(line) = self.next_line(deadline) {
            if want(&line) {
                return line;
            }
        }
        self.fail(&format!("no {what} within {LIMIT:?}"))
    }

    /// Kills the program and panics with `why` and all it printed.
    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(Duration::from_millis(200)) {
            self.stdout_seen.push(line);
        }
        let err = self.take_stderr();
        panic!(
            "{}: {why}\n--- stdout ---\n{}\n--- stderr ---\n{err}",
            self.name,
            self.stdout_seen.join("\n")
        );
    }

    /// Standard error so far; complete once the program has exited.
    fn take_stderr(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Waits (at most [`LIMIT`], then kills it) for the program to exit by itself; returns
    /// its exit status (`None` when it had to be killed), all of its standard output and its
    /// standard error.
    fn finish(mut self) -> (Option<ExitStatus>, Vec<String>, String) {
        let t0 = Instant::now();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("waiting for an example") {
                break Some(s);
            }
            if t0.elapsed() > LIMIT {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        // The program has gone, so its output ends: read the rest.
        while let Ok(line) = self.lines.recv_timeout(LIMIT) {
            self.stdout_seen.push(line);
        }
        let err = self.take_stderr();
        (status, std::mem::take(&mut self.stdout_seen), err)
    }

    /// Stops a program that runs until killed (zfsink) and returns its standard error.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.take_stderr()
    }
}

impl Drop for Program {
    fn drop(&mut self) {
        // Nothing to do when it has already been waited for; otherwise it must not outlive
        // the test.
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// zfsink's header line, as the SDK sample prints it (`"#%9s %16s %16s"`, the last field
/// with its newline counted in the width).
const SINK_HEADER: &str = "# pkt-rate  bandwidth(Mbps)      total-pkts";

/// The running total of one of zfsink's per-second lines (`pkt-rate bandwidth total`).
fn sink_total(line: &str) -> Option<u64> {
    let cols: Vec<u64> = line
        .split_whitespace()
        .map(|c| c.parse().ok())
        .collect::<Option<_>>()?;
    match cols.as_slice() {
        [_rate, _mbps, total] => Some(*total),
        _ => None,
    }
}

/// Starts zfsink with `args` (options, then addresses) in `ns` and waits until it is ready:
/// it prints its header once its zocket is bound.
fn start_sink(ns: &Netns, args: &[&str]) -> Program {
    let mut sink = Program::start(ns, "zfsink", args);
    let header = sink.line_where("header line", |l| l.starts_with('#'));
    assert_eq!(header, SINK_HEADER, "zfsink's header line");
    sink
}

/// Reads zfsink's per-second lines until the total reaches `n`, then one line more, and
/// checks that the total stays `n` (nothing counted twice, nothing unexpected); panics when a
/// line is malformed, the total passes `n`, or it does not reach `n` within [`LIMIT`].
/// Returns zfsink's standard error.
fn expect_sink_total(mut sink: Program, n: u64) -> String {
    let deadline = Instant::now() + LIMIT;
    let mut last = 0;
    loop {
        let Some(line) = sink.next_line(deadline) else {
            sink.fail(&format!(
                "the total stopped at {last} of {n} datagrams within {LIMIT:?}"
            ))
        };
        let Some(total) = sink_total(&line) else {
            sink.fail(&format!(
                "not a line of three counts: {line:?} (zfsink prints the rate, the bandwidth \
                 and the total once a second)"
            ))
        };
        if total < last {
            sink.fail(&format!("the total went down from {last} to {total}"));
        }
        last = total;
        if total > n {
            sink.fail(&format!("counted {total} datagrams, {n} were sent"));
        }
        if total == n {
            break;
        }
    }
    // One more second: nothing more arrives.
    let one_more = Instant::now() + Duration::from_secs(5);
    match sink.next_line(one_more).as_deref().map(sink_total) {
        Some(Some(t)) if t == n => {}
        other => sink.fail(&format!(
            "after reaching {n} the next line gave {other:?}, not the same total"
        )),
    }
    sink.stop()
}

/// Runs zfsend (`-i n`, 64-byte payloads, from [`SENDER`] to [`SINK`]) to completion in
/// `ns`, checks its exit status and its progress lines (one pair per datagram, as the SDK
/// sample prints them without `-q`), and returns its standard error.
fn run_zfsend(ns: &Netns, n: usize, extra: &[&str]) -> String {
    let count = n.to_string();
    let mut args = vec!["-s", "64", "-i", &count];
    args.extend_from_slice(extra);
    args.extend_from_slice(&[SENDER, SINK]);
    let (status, out, err) = Program::start(ns, "zfsend", &args).finish();
    assert!(
        status.is_some_and(|s| s.success()),
        "zfsend {args:?} exited with {status:?} (None: killed after {LIMIT:?})\n{err}"
    );
    let mut want = vec!["Sending packets...".to_string()];
    for _ in 0..n {
        want.push("Sending single packet...".to_string());
        want.push("Draining reactor...".to_string());
    }
    assert_eq!(out, want, "zfsend's progress lines");
    err
}

/// zfsink with receive options `mode` counts every datagram zfsend sends.
fn sink_counts_zfsend(test: &str, mode: &[&str]) {
    let Some(ns) = Netns::create(test) else {
        return;
    };
    let mut args = mode.to_vec();
    args.push(SINK);
    let sink = start_sink(&ns, &args);
    // -u: zfsend sleeps after each datagram, which lets zfsink run on a single core.
    let send_err = run_zfsend(&ns, N, &["-u"]);
    assert!(send_err.contains("TCPDirect backend:"), "{send_err}");
    let sink_err = expect_sink_total(sink, N as u64);
    assert!(sink_err.contains("TCPDirect backend:"), "{sink_err}");
}

#[test]
fn zfsink_reactor_counts_what_zfsend_sends() {
    sink_counts_zfsend("zfsink_reactor_counts_what_zfsend_sends", &[]);
}

#[test]
fn zfsink_muxer_counts_what_zfsend_sends() {
    sink_counts_zfsend("zfsink_muxer_counts_what_zfsend_sends", &["-m"]);
}

#[test]
fn zfsink_waitable_fd_counts_what_zfsend_sends() {
    sink_counts_zfsend("zfsink_waitable_fd_counts_what_zfsend_sends", &["-w"]);
}

#[test]
fn zfsink_counts_a_burst_zfsend_sends_without_pause() {
    // No -u: zfsend sends as fast as it can; zfsink's zocket must queue the burst.
    let test = "zfsink_counts_a_burst_zfsend_sends_without_pause";
    let Some(ns) = Netns::create(test) else {
        return;
    };
    let sink = start_sink(&ns, &[SINK]);
    run_zfsend(&ns, 50, &[]);
    expect_sink_total(sink, 50);
}

#[test]
fn zfsink_rx_timestamps_print_a_line_per_datagram() {
    let Some(ns) = Netns::create("zfsink_rx_timestamps_print_a_line_per_datagram") else {
        return;
    };
    let n = 20;
    let mut sink = start_sink(&ns, &["-r", SINK]);
    run_zfsend(&ns, n, &["-u"]);
    // Each datagram gives a timestamp line (or the sample's error line, where the backend
    // has no receive timestamps) before it is counted; the counts follow once a second.
    let mut stamps = 0;
    while stamps < n {
        let line = sink.line_where("receive-timestamp line", |l| sink_total(l).is_none());
        let ok = line.strip_prefix("Hardware timestamp: ").is_some_and(|t| {
            t.split_once('.').is_some_and(|(s, ns)| {
                s.parse::<u64>().is_ok() && ns.len() == 9 && ns.parse::<u32>().is_ok()
            })
        }) || line
            .strip_prefix("Error retrieving timestamp! Return code: -")
            .is_some_and(|e| e.parse::<u32>().is_ok());
        if !ok {
            sink.fail(&format!("not a receive-timestamp line: {line:?}"));
        }
        stamps += 1;
    }
    expect_sink_total(sink, n as u64);
}

#[test]
fn zfsink_counts_datagrams_from_a_kernel_socket() {
    testkit::skip_unless!(
        tcpdirect::ffi::SOFTWARE_BACKEND,
        "kernel peers on 127.0.0.1 need the software backend"
    );
    let Some(ns) = Netns::create("zfsink_counts_datagrams_from_a_kernel_socket") else {
        return;
    };
    let sink = start_sink(&ns, &[SINK]);
    let sent = testkit::run_in(&ns, || {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind the kernel sender");
        for i in 0..N {
            let payload = vec![testkit::pat(7, i); 1 + i % 200];
            s.send_to(&payload, ("127.0.0.1", SINK_PORT))
                .expect("kernel send");
            // Give zfsink's busy loop the core now and then (one-core CI).
            if i % 16 == 15 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        N
    })
    .join()
    .expect("kernel sender thread");
    expect_sink_total(sink, sent as u64);
}

#[test]
fn zfsink_with_a_remote_address_counts_only_that_sender() {
    testkit::skip_unless!(
        tcpdirect::ffi::SOFTWARE_BACKEND,
        "kernel peers on 127.0.0.1 need the software backend"
    );
    let Some(ns) = Netns::create("zfsink_with_a_remote_address_counts_only_that_sender") else {
        return;
    };
    let peer = "127.0.0.1:20042";
    let sink = start_sink(&ns, &["-m", SINK, peer]);
    let n = 40;
    testkit::run_in(&ns, move || {
        let wanted = UdpSocket::bind(peer).expect("bind the expected sender");
        let other = UdpSocket::bind("127.0.0.1:0").expect("bind another sender");
        for i in 0..n {
            wanted
                .send_to(b"counted", ("127.0.0.1", SINK_PORT))
                .expect("kernel send");
            other
                .send_to(b"not for this zocket", ("127.0.0.1", SINK_PORT))
                .expect("kernel send");
            if i % 8 == 7 {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    })
    .join()
    .expect("kernel sender thread");
    expect_sink_total(sink, n);
}

#[test]
fn zfaltpingpong_ping_against_pong() {
    let Some(ns) = Netns::create("zfaltpingpong_ping_against_pong") else {
        return;
    };
    let addr = "127.0.0.1:20043";
    let mut pong = Program::start(
        &ns,
        "zfaltpingpong",
        &["-i", "100", "-r", "10", "pong", addr],
    );
    // pong prints this once it listens (on any backend), so ping's SYN finds a listener.
    pong.line_where("\"Waiting for incoming connection\"", |l| {
        l == "Waiting for incoming connection"
    });
    let ping = Program::start(
        &ns,
        "zfaltpingpong",
        &["-i", "100", "-r", "10", "ping", addr],
    );
    let (ping_status, out, err) = ping.finish();
    let (pong_status, pout, perr) = pong.finish();
    assert!(
        ping_status.is_some_and(|s| s.success()),
        "ping exited with {ping_status:?}\n{out:?}\n{err}"
    );
    assert!(
        pong_status.is_some_and(|s| s.success()),
        "pong exited with {pong_status:?}\n{pout:?}\n{perr}"
    );
    assert!(err.contains("TCPDirect backend:"), "{err}");
    // The SDK sample's lines, in order.
    assert_eq!(out.len(), 4, "ping's output: {out:?}");
    assert_eq!(out[0], "Connecting to ponger");
    assert_eq!(out[1], "Connection established");
    let rtt = out[2]
        .strip_prefix("mean round-trip time: ")
        .and_then(|r| r.strip_suffix(" usec"))
        .and_then(|r| r.parse::<f64>().ok());
    assert!(
        rtt.is_some_and(|r| r > 0.0 && r.is_finite()),
        "mean round-trip time line: {:?}",
        out[2]
    );
    assert!(
        out[2]
            .split_once('.')
            .is_some_and(|(_, frac)| frac.len() == 3 + " usec".len()),
        "three decimals: {:?}",
        out[2]
    );
    let busy = out[3]
        .strip_prefix("alt_busy_count: ")
        .and_then(|b| b.parse::<u64>().ok());
    assert!(busy.is_some(), "alt_busy_count line: {:?}", out[3]);
    assert_eq!(
        pout,
        ["Waiting for incoming connection", "Connection established"],
        "pong's output"
    );
}
