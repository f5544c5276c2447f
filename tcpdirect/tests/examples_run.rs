//! The sample ports as programs: zfudppingpong and zftcppingpong ping against pong in two
//! processes and finish; zftcpmtpong serves 8 kernel clients that connect at once. Each
//! runs in a network namespace of its own (`testkit::Netns::command`), with `ZF_ATTR=interface=lo`.
//! `cargo test` builds the examples; this finds them next to the test binary.

mod common;

use std::io::{Read, Write};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::LIMIT;
use testkit::Netns;

fn spawn(ns: &Netns, prog: &str, args: &[&str]) -> Child {
    ns.example(prog)
        .args(args)
        .env("ZF_ATTR", "interface=lo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `c` (killing it after [`LIMIT`]); returns (success, stdout, stderr).
fn finish(mut c: Child) -> (bool, String, String) {
    let t0 = Instant::now();
    let status = loop {
        if let Some(s) = c.try_wait().unwrap() {
            break Some(s);
        }
        if t0.elapsed() > LIMIT {
            let _ = c.kill();
            let _ = c.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (mut out, mut err) = (String::new(), String::new());
    c.stdout.take().unwrap().read_to_string(&mut out).unwrap();
    c.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    (status.is_some_and(|s| s.success()), out, err)
}

/// Waits until something in `ns` has a socket bound to port `port` (UDP, or TCP listening),
/// as the software backend's pong does once it is ready: a fixed sleep loses the race on one
/// loaded core, and ping's first datagram or SYN is then refused or lost.
fn wait_for_port(ns: &Netns, port: u16) {
    let found = testkit::run_in(ns, move || {
        let t0 = Instant::now();
        let hex = format!(":{port:04X} ");
        while t0.elapsed() < LIMIT {
            for table in ["udp", "tcp"] {
                let text = std::fs::read_to_string(format!("/proc/thread-self/net/{table}"))
                    .unwrap_or_default();
                // Local address is the second column; TCP state 0A is LISTEN.
                if text.lines().skip(1).any(|l| {
                    let cols: Vec<&str> = l.split_whitespace().collect();
                    cols.len() > 3
                        && format!("{} ", cols[1]).ends_with(&hex)
                        && (table == "udp" || cols[3] == "0A")
                }) {
                    return true;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        false
    })
    .join()
    .unwrap();
    assert!(found, "pong did not bind port {port} within {LIMIT:?}");
}

/// The port pong binds: the address right after `pong` (its own, in both programs).
fn pong_port(pong_args: &[&str]) -> u16 {
    let at = pong_args
        .iter()
        .position(|a| *a == "pong")
        .expect("pong mode")
        + 1;
    pong_args[at].rsplit(':').next().unwrap().parse().unwrap()
}

/// Runs pong, then ping against it. The iteration counts stay small: both programs busy-poll,
/// as the SDK's do, so on one core (`taskset -c 0`) every round trip waits for the scheduler.
fn ping_pong(test: &str, prog: &str, pong_args: &[&str], ping_args: &[&str]) {
    let Some(ns) = Netns::create(test) else {
        return;
    };
    let pong = spawn(&ns, prog, pong_args);
    wait_for_port(&ns, pong_port(pong_args));
    let ping = spawn(&ns, prog, ping_args);
    let (ok_ping, out, err) = finish(ping);
    let (ok_pong, pout, perr) = finish(pong);
    assert!(ok_ping, "ping failed:\n{out}\n{err}");
    assert!(ok_pong, "pong failed:\n{pout}\n{perr}");
    assert!(
        err.contains("TCPDirect backend:"),
        "prints its backend: {err}"
    );
    assert!(out.contains("mean round-trip time:"), "{out}");
    assert!(
        out.contains("#\tsize\tmean\tmin\tmedian\tmax\t%ile\tstddev\titer"),
        "{out}"
    );
    assert!(out.lines().last().unwrap().ends_with("\t200"), "{out}");
}

#[test]
fn zfudppingpong_ping_against_pong() {
    ping_pong(
        "zfudppingpong_ping_against_pong",
        "zfudppingpong",
        &[
            "-i",
            "200",
            "-r",
            "20",
            "pong",
            "127.0.0.1:20001",
            "127.0.0.1:20002",
        ],
        &[
            "-i",
            "200",
            "-r",
            "20",
            "ping",
            "127.0.0.1:20002",
            "127.0.0.1:20001",
        ],
    );
}

#[test]
fn zftcppingpong_ping_against_pong() {
    ping_pong(
        "zftcppingpong_ping_against_pong",
        "zftcppingpong",
        &["-i", "200", "-r", "20", "pong", "127.0.0.1:20000"],
        &["-i", "200", "-r", "20", "ping", "127.0.0.1:20000"],
    );
}

#[test]
fn zftcppingpong_with_muxer() {
    ping_pong(
        "zftcppingpong_with_muxer",
        "zftcppingpong",
        &["-m", "-i", "200", "-r", "20", "pong", "127.0.0.1:20000"],
        &["-m", "-i", "200", "-r", "20", "ping", "127.0.0.1:20000"],
    );
}

#[test]
fn zftcppingpong_with_overlapped_receive() {
    // `-c` takes the overlapped loop (with `-m`, as in the C program); both ends delay 1 us
    // while each packet "completes".
    ping_pong(
        "zftcppingpong_with_overlapped_receive",
        "zftcppingpong",
        &[
            "-m",
            "-c",
            "1000",
            "-i",
            "200",
            "-r",
            "20",
            "pong",
            "127.0.0.1:20000",
        ],
        &[
            "-m",
            "-c",
            "1000",
            "-i",
            "200",
            "-r",
            "20",
            "ping",
            "127.0.0.1:20000",
        ],
    );
}

#[test]
fn zftcpmtpong_serves_8_clients_connecting_at_once() {
    let Some(ns) = Netns::create("zftcpmtpong_serves_8_clients_connecting_at_once") else {
        return;
    };
    let server = spawn(&ns, "zftcpmtpong", &["-q", "127.0.0.1:20030"]);
    wait_for_port(&ns, 20030);
    let results = testkit::run_in(&ns, || {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(8));
        let clients: Vec<_> = (0..8usize)
            .map(|i| {
                let b = barrier.clone();
                std::thread::spawn(move || {
                    b.wait();
                    let mut s = std::net::TcpStream::connect("127.0.0.1:20030").unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    s.write_all(&vec![b'x'; 1000 + i]).unwrap();
                    let mut got = 0;
                    let mut buf = [0u8; 4096];
                    while got < 1000 + i {
                        match s.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got += n,
                        }
                    }
                    got
                })
            })
            .collect();
        clients
            .into_iter()
            .map(|c| c.join().unwrap())
            .collect::<Vec<_>>()
    })
    .join()
    .unwrap();
    let mut server = server;
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(
        results,
        (0..8).map(|i| 1000 + i).collect::<Vec<_>>(),
        "each client got its bytes back"
    );
}
