//! `efsend`: sends UDP datagrams to a (multicast) address from a VI, batching transmits and
//! handing completed buffers back (a Rust port of the SDK sample).
//!
//! ```text
//! efsend [options] <interface> <mcast-ip> <port>
//! ```
//!
//! Run: `cargo run -p etherfabric --example efsend -- -n 10 eth0 239.1.2.3 1234`

#[path = "common/mod.rs"]
mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use etherfabric::*;

const USAGE: &str = "\
usage:
  efsend [options] <interface> <mcast-ip> <port>

options:
  -n <iterations>     - number of packets to send (-1: for ever)
  -m <message-size>   - UDP payload length
  -s <microseconds>   - microseconds to sleep between batches
  -l <local-port>     - UDP source port
  -B <batch>          - maximum send batch size
  -V <vlan>           - vlan to send to (interface must have an IP)
  -b                  - enable loopback on the VI
  -p                  - enable physical address mode
  -t                  - disable tx push (on by default)
  -v                  - use a VF
  -c                  - send with CTPIO (with a DMA fallback)

e.g.:
  - Send pkts to 239.1.2.3:1234 from eth2:
          efsend eth2 239.1.2.3 1234
";

struct Config {
    iters: i64,
    payload: usize,
    usleep: u64,
    lport: u16,
    max_batch: usize,
    loopback: bool,
    phys: bool,
    no_push: bool,
    vf: bool,
    ctpio: bool,
    /// 802.1Q VLAN id to tag the frames with; the source address is then that of
    /// `<interface>.<vlan>`.
    vlan: Option<u16>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (opts, rest) = common::getopt(&args, "bptvc", "nmslBV")
        .unwrap_or_else(|e| common::usage_exit(Some(&e), USAGE));
    let mut cfg = Config {
        iters: 10,
        payload: 28,
        usleep: 0,
        lport: 8080,
        max_batch: 8192,
        loopback: false,
        phys: false,
        no_push: false,
        vf: false,
        ctpio: false,
        vlan: None,
    };
    for (c, v) in &opts {
        match c {
            'n' => cfg.iters = common::num(v, USAGE),
            'm' => cfg.payload = common::num(v, USAGE),
            's' => cfg.usleep = common::num(v, USAGE),
            'l' => cfg.lport = common::num(v, USAGE),
            'B' => cfg.max_batch = common::num::<usize>(v, USAGE).max(1),
            'V' => {
                let vid: u16 = common::num(v, USAGE);
                if vid > 4095 {
                    common::usage_exit(
                        Some(&format!("bad VLAN id {vid}: must be 0 to 4095")),
                        USAGE,
                    );
                }
                cfg.vlan = Some(vid);
            }
            'b' => cfg.loopback = true,
            'p' => cfg.phys = true,
            't' => cfg.no_push = true,
            'v' => cfg.vf = true,
            'c' => cfg.ctpio = true,
            _ => unreachable!(),
        }
    }
    let [intf, ip, port] = rest.as_slice() else {
        common::usage_exit(None, USAGE)
    };
    let dst_ip: Ipv4Addr = ip
        .parse()
        .unwrap_or_else(|_| common::usage_exit(Some(&format!("bad IP address {ip:?}")), USAGE));
    let dst_port: u16 = port
        .parse()
        .unwrap_or_else(|_| common::usage_exit(Some(&format!("bad port {port:?}")), USAGE));
    if cfg.payload > 1472 {
        eprintln!(
            "WARNING: UDP payload length {} is larger than standard MTU",
            cfg.payload
        );
    }
    match run(&cfg, intf, dst_ip, dst_port) {
        Ok(n) => println!("Sent {n} packets"),
        Err(e) => {
            eprintln!("efsend: {e}");
            std::process::exit(1);
        }
    }
}

/// Length of an 802.1Q tag.
const VLAN_TAG_LEN: usize = 4;

/// Turns the untagged frame written at `frame[VLAN_TAG_LEN..]` into a tagged one: the two
/// MAC addresses move to the front and the 802.1Q tag (TPID 0x8100, priority 0, `vid`) goes
/// between them and the EtherType.
fn insert_vlan_tag(frame: &mut [u8], vid: u16) {
    frame.copy_within(VLAN_TAG_LEN..VLAN_TAG_LEN + 12, 0);
    frame[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
    frame[14..16].copy_from_slice(&(vid & 0x0fff).to_be_bytes());
}

/// The destination MAC: the IPv4 multicast mapping, else broadcast.
fn dst_mac(ip: Ipv4Addr) -> [u8; 6] {
    if ip.is_multicast() {
        let o = ip.octets();
        [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
    } else {
        [0xff; 6]
    }
}

fn run(cfg: &Config, intf: &str, dst_ip: Ipv4Addr, dst_port: u16) -> Result<u64> {
    println!("# ef_vi backend: {}", backend());
    let (name, mut pd_flags) = common::parse_interface(intf)?;
    if cfg.vf {
        pd_flags |= PdFlags::VF;
    }
    if cfg.phys {
        pd_flags |= PdFlags::PHYS_MODE;
    }
    if cfg.loopback {
        pd_flags |= PdFlags::MCAST_LOOP;
    }
    let mut vi_flags = ViFlags::empty();
    if cfg.no_push {
        vi_flags |= ViFlags::TX_PUSH_DISABLE;
    }
    if cfg.ctpio {
        vi_flags |= ViFlags::TX_CTPIO;
    }
    let driver = Driver::open()?;
    let pd = ProtectionDomain::by_name(&driver, &name, pd_flags)?;
    let mut pool = BufferPool::alloc(&pd, 1024, DEFAULT_BUF_SIZE)?;
    let mut vi = Vi::builder(&pd)
        .rxq_capacity(Some(0))
        .flags(vi_flags)
        .build(&pool)?;
    println!("txq_size={}", vi.tx_capacity());
    println!("rxq_size={}", vi.rx_capacity());
    println!("evq_size={}", vi.evq_capacity());
    println!("sync_check_enabled=0");
    // As the SDK sample does, a VLAN's frames come from the address of the VLAN interface
    // `<interface>.<vlan>`, which must have one.
    let src_ip = match cfg.vlan {
        Some(vid) => {
            let vlan_if = format!("{name}.{vid}");
            common::ipv4_of(&vlan_if).ok_or_else(|| Error::InvalidArgument {
                what: format!("VLAN interface {vlan_if} has no IPv4 address (needed by -V)"),
            })?
        }
        None => common::ipv4_of(&name).unwrap_or(Ipv4Addr::UNSPECIFIED),
    };
    let tag_len = if cfg.vlan.is_some() { VLAN_TAG_LEN } else { 0 };
    let mac = vi.mac()?;
    // Every buffer holds the same frame: one buffer cannot be in flight twice.
    let mut frame_len = 0;
    let mut free: Vec<PacketBuf> = Vec::with_capacity(pool.capacity());
    while let Some(mut b) = pool.take() {
        let bytes = pool.bytes_mut(&mut b);
        let Some(room) = bytes.get_mut(tag_len..) else {
            break;
        };
        frame_len = common::write_udp_header(
            room,
            dst_mac(dst_ip),
            mac,
            (src_ip, cfg.lport),
            (dst_ip, dst_port),
            cfg.payload,
        )
        .ok_or_else(|| Error::InvalidArgument {
            what: format!("payload of {} bytes does not fit a buffer", cfg.payload),
        })? + tag_len;
        if let Some(vid) = cfg.vlan {
            insert_vlan_tag(bytes, vid);
        }
        for (i, x) in bytes[common::HDR_LEN + tag_len..frame_len]
            .iter_mut()
            .enumerate()
        {
            *x = i as u8;
        }
        free.push(b);
    }
    let target = if cfg.iters < 0 {
        u64::MAX
    } else {
        cfg.iters as u64
    };
    let (mut pushed, mut sent) = (0u64, 0u64);
    let mut events: [Event; 32] = Default::default();
    while sent < target {
        // Send a batch.
        let mut batch = 0;
        while pushed < target && batch < cfg.max_batch && vi.tx_space() > 0 {
            let Some(b) = free.pop() else { break };
            let r = if cfg.ctpio {
                vi.transmit_ctpio(b, frame_len, CTPIO_THRESHOLD_SNF)
            } else {
                vi.transmit_init(b, frame_len)
            };
            match r {
                Ok(()) => {
                    pushed += 1;
                    batch += 1;
                }
                Err(r) => {
                    free.push(r.buf);
                    if !matches!(r.error, Error::RingFull { .. }) {
                        return Err(r.error);
                    }
                    break;
                }
            }
        }
        if batch > 0 && !cfg.ctpio {
            vi.transmit_push();
        }
        // Handle completions.
        for ev in vi.poll(&mut events) {
            match ev.take() {
                Event::Tx(c) => sent += vi.transmit_unbundle(c, |b| free.push(b)) as u64,
                Event::TxTimestamp(t) => {
                    sent += vi.transmit_unbundle(t.completion, |b| free.push(b)) as u64
                }
                Event::TxError(e) => {
                    eprintln!("ERROR: TX error {:?}", e.kind);
                    let lost = vi.recover_tx_error(e, |b| free.push(b))?;
                    // Lost sends are sent again.
                    pushed -= lost as u64;
                }
                other => eprintln!("ERROR: unexpected event {other:?}"),
            }
        }
        if cfg.usleep > 0 {
            std::thread::sleep(Duration::from_micros(cfg.usleep));
        }
    }
    Ok(sent)
}
