//! A TCPDirect UDP ping-pong in one process, with latency percentiles: two stacks on `lo`
//! (one per thread), zero-copy receive, the reply sent from the received buffer. Needs no
//! setup and no root on the software backend.
//!
//! ```text
//! cargo run --release -p tcpdirect --example pingpong [-- ROUND_TRIPS [PAYLOAD_BYTES]]
//! ```
//!
//! The interface is `lo` unless `ZF_ATTR` names one.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tcpdirect::{Attr, Stack};

fn attr() -> tcpdirect::Result<Attr> {
    let mut a = Attr::from_env()?;
    if std::env::var("ZF_ATTR").map_or(true, |v| !v.contains("interface")) {
        a.set_interface("lo")?;
    }
    Ok(a)
}

const STOP: u64 = u64::MAX;

/// The pong end: echoes every datagram from the received buffer, until the stop marker.
fn pong(local: SocketAddr, remote: SocketAddr) -> tcpdirect::Result<()> {
    let mut st = Stack::new(&attr()?)?;
    let (rx, _) = st.udp_bind(local, Some(remote))?;
    let tx = st.udp_sender(local, remote)?;
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        st.reactor_perform();
        let mut r = st.udp_rx(rx)?;
        let Some(m) = r.zc_recv() else { continue };
        m.stack().udp_tx(tx)?.send(m.data())?;
        if m.data().get(..8) == Some(&STOP.to_le_bytes()[..]) {
            return Ok(());
        }
    }
    Err(tcpdirect::Error::InvalidArgument {
        what: "pong: no stop marker within 120 s".into(),
    })
}

/// The ping end: sends sequence-numbered datagrams and times each reply (resending after
/// 100 ms, which only happens while the ponger starts); returns the round-trip times.
fn ping(
    local: SocketAddr,
    remote: SocketAddr,
    rounds: usize,
    size: usize,
) -> tcpdirect::Result<Vec<u64>> {
    let mut st = Stack::new(&attr()?)?;
    let (rx, _) = st.udp_bind(local, Some(remote))?;
    let tx = st.udp_sender(local, remote)?;
    let mut buf = vec![0x5au8; size.max(8)];
    let mut times = Vec::with_capacity(rounds);
    let deadline = Instant::now() + Duration::from_secs(120);
    // Round 0 is a warm-up (and waits for the ponger).
    for seq in 0..=rounds as u64 {
        buf[..8].copy_from_slice(&seq.to_le_bytes());
        'resend: loop {
            let t0 = Instant::now();
            st.udp_tx(tx)?.send(&buf)?;
            loop {
                if Instant::now() > deadline {
                    return Err(tcpdirect::Error::InvalidArgument {
                        what: "ping: no answer within 120 s".into(),
                    });
                }
                st.reactor_perform();
                let mut r = st.udp_rx(rx)?;
                if let Some(m) = r.zc_recv() {
                    if m.data().get(..8) == Some(&seq.to_le_bytes()[..]) {
                        if seq > 0 {
                            times.push(t0.elapsed().as_nanos() as u64);
                        }
                        break 'resend;
                    }
                } else if t0.elapsed() > Duration::from_millis(100) {
                    continue 'resend;
                }
            }
        }
    }
    buf[..8].copy_from_slice(&STOP.to_le_bytes());
    st.udp_tx(tx)?.send(&buf)?;
    Ok(times)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let size: usize = args.next().map_or(Ok(32), |a| a.parse())?.max(8);
    println!("TCPDirect backend: {}", tcpdirect::backend());
    let a: SocketAddr = "127.0.0.1:31001".parse()?;
    let b: SocketAddr = "127.0.0.1:31002".parse()?;
    let pong = std::thread::spawn(move || pong(b, a));
    let times = ping(a, b, rounds, size)?;
    pong.join().map_err(|_| "pong thread panicked")??;

    let mut h = Histogram::<u64>::new(3)?;
    for t in &times {
        h.record(*t)?;
    }
    println!(
        "{rounds} UDP round trips of {size} bytes between two stacks on one host (zero-copy receive):"
    );
    for (label, q) in [
        ("min", 0.0),
        ("p50", 0.50),
        ("p90", 0.90),
        ("p99", 0.99),
        ("p99.9", 0.999),
    ] {
        println!(
            "  {label:>6}: {:8.2} us",
            h.value_at_quantile(q) as f64 / 1000.0
        );
    }
    println!("  {:>6}: {:8.2} us", "max", h.max() as f64 / 1000.0);
    println!("  {:>6}: {:8.2} us", "mean", h.mean() / 1000.0);
    Ok(())
}
