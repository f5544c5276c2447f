//! The safe receive (poll, decode, refill) and transmit (transmit, poll, unbundle) loops next
//! to the same loops written on raw `etherfabric-sys`, for instruction counts under callgrind.
//!
//! `cargo bench -p etherfabric --bench loops` (as root, or unprivileged where user namespaces
//! are allowed) runs each loop once in a network namespace of its own and prints its
//! wall-clock time. For instruction counts, build it
//! (`cargo bench -p etherfabric --bench loops --no-run`) and run one loop per callgrind run
//! inside a namespace whose `lo` is up:
//!
//! ```text
//! unshare --net --map-root-user sh -c 'ip link set lo up && valgrind --tool=callgrind \
//!     --toggle-collect="loops::*_loop" target/release/deps/loops-HASH safe-rx'
//! ```
//!
//! Modes: `safe-rx` / `safe-tx` ([`Vi::poll`] into a slice), `safe-each-rx` /
//! `safe-each-tx` ([`Vi::poll_each`]), `raw-rx`, `raw-tx`.

#[path = "../examples/common/mod.rs"]
mod frames;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use etherfabric::ffi;
use etherfabric::*;

// Unprivileged runs enter a user namespace of their own before main, where the namespace is made.
testkit::enter_user_namespace_at_start!();

const N: usize = 2000;
const MODES: [&str; 6] = [
    "safe-rx",
    "safe-each-rx",
    "raw-rx",
    "safe-tx",
    "safe-each-tx",
    "raw-tx",
];
const PORT: u16 = 37200;
const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

struct Setup {
    vi: Vi,
    pool: BufferPool,
    _filter: Filter,
    /// DMA address of every buffer (for the raw loops).
    addrs: Vec<u64>,
}

fn setup() -> Setup {
    let driver = Driver::open().expect("driver");
    let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).expect("PD");
    let pool = BufferPool::alloc(&pd, 1024, DEFAULT_BUF_SIZE).expect("pool");
    let mut vi = Vi::builder(&pd).build(&pool).expect("VI");
    let filter = vi
        .add_filter(&format!("udp:127.0.0.1:{PORT}").parse().unwrap())
        .expect("filter");
    let r = &pool.regions()[0];
    let addrs = (0..pool.capacity())
        .map(|i| r.dma_addr(i * pool.buf_size()).unwrap())
        .collect();
    Setup {
        vi,
        pool,
        _filter: filter,
        addrs,
    }
}

/// Queues `N` datagrams for the VI (the backend holds them until polled).
fn send_burst() {
    let s = UdpSocket::bind((LO, 0)).unwrap();
    for i in 0..N {
        s.send_to(&[i as u8; 64], (LO, PORT)).unwrap();
    }
    std::thread::sleep(Duration::from_millis(50));
}

#[inline(never)]
fn safe_rx_loop(vi: &mut Vi, pool: &mut BufferPool, n: usize) -> u64 {
    let mut events: [Event; 32] = Default::default();
    let (mut got, mut sum) = (0, 0u64);
    while got < n {
        for ev in vi.poll(&mut events) {
            match ev.take() {
                Event::Rx(rx) => {
                    got += 1;
                    if let Some(&b) = vi.frame(&rx).get(frames::HDR_LEN) {
                        sum += u64::from(b);
                    }
                    if let Err(r) = vi.post_init(rx.buf) {
                        let _ = pool.put(r.buf);
                    }
                }
                Event::RxDiscard(d) => {
                    if let Err(r) = vi.post_init(d.buf) {
                        let _ = pool.put(r.buf);
                    }
                }
                _ => {}
            }
        }
        vi.post_push();
    }
    sum
}

#[inline(never)]
fn safe_each_rx_loop(vi: &mut Vi, pool: &mut BufferPool, n: usize) -> u64 {
    let (mut got, mut sum) = (0, 0u64);
    while got < n {
        vi.poll_each(32, |vi, ev| match ev {
            Event::Rx(rx) => {
                got += 1;
                if let Some(&b) = vi.frame(&rx).get(frames::HDR_LEN) {
                    sum += u64::from(b);
                }
                if let Err(r) = vi.post_init(rx.buf) {
                    let _ = pool.put(r.buf);
                }
            }
            Event::RxDiscard(d) => {
                if let Err(r) = vi.post_init(d.buf) {
                    let _ = pool.put(r.buf);
                }
            }
            _ => {}
        });
        vi.post_push();
    }
    sum
}

#[inline(never)]
fn safe_each_tx_loop(vi: &mut Vi, free: &mut Vec<PacketBuf>, len: usize, n: usize) -> usize {
    let (mut sent, mut done) = (0, 0);
    while done < n {
        while sent < n {
            let Some(b) = free.pop() else { break };
            match vi.transmit(b, len) {
                Ok(()) => sent += 1,
                Err(r) => {
                    free.push(r.buf);
                    break;
                }
            }
        }
        vi.poll_each(32, |vi, ev| {
            if let Event::Tx(c) = ev {
                done += vi.transmit_unbundle(c, |b| free.push(b));
            }
        });
    }
    done
}

#[inline(never)]
fn raw_rx_loop(vi: *mut ffi::ef_vi, base: *const u8, addrs: &[u64], n: usize) -> u64 {
    let mut evs = [ffi::ef_event::default(); 32];
    let (mut got, mut sum) = (0, 0u64);
    // SAFETY: the VI is live.
    let prefix = unsafe { ffi::ef_vi_receive_prefix_len(vi) } as usize;
    while got < n {
        // SAFETY: the VI is live and used by this thread only; `evs` has 32 slots.
        let k = unsafe { ffi::ef_eventq_poll(vi, evs.as_mut_ptr(), 32) };
        for e in &evs[..k.max(0) as usize] {
            // SAFETY: events polled into an initialised array.
            let (ty, id) = unsafe { (ffi::EF_EVENT_TYPE(e), ffi::EF_EVENT_RX_RQ_ID(e)) };
            if ty == ffi::EF_EVENT_TYPE_RX {
                got += 1;
                // SAFETY: as above.
                let len = (unsafe { ffi::EF_EVENT_RX_BYTES(e) } as usize).saturating_sub(prefix);
                if len > frames::HDR_LEN {
                    // SAFETY: the buffer was just completed; the frame lies in it.
                    sum += u64::from(unsafe {
                        *base.add(id as usize * DEFAULT_BUF_SIZE + prefix + frames::HDR_LEN)
                    });
                }
            }
            if ty == ffi::EF_EVENT_TYPE_RX || ty == ffi::EF_EVENT_TYPE_RX_DISCARD {
                // SAFETY: reposting the buffer the event returned.
                unsafe {
                    ffi::ef_vi_receive_init(vi, addrs[id as usize], id as ffi::ef_request_id)
                };
            }
        }
        // SAFETY: as above.
        unsafe { ffi::ef_vi_receive_push(vi) };
    }
    sum
}

#[inline(never)]
fn safe_tx_loop(vi: &mut Vi, free: &mut Vec<PacketBuf>, len: usize, n: usize) -> usize {
    let mut events: [Event; 32] = Default::default();
    let (mut sent, mut done) = (0, 0);
    while done < n {
        while sent < n {
            let Some(b) = free.pop() else { break };
            match vi.transmit(b, len) {
                Ok(()) => sent += 1,
                Err(r) => {
                    free.push(r.buf);
                    break;
                }
            }
        }
        for ev in vi.poll(&mut events) {
            if let Event::Tx(c) = ev.take() {
                done += vi.transmit_unbundle(c, |b| free.push(b));
            }
        }
    }
    done
}

#[inline(never)]
fn raw_tx_loop(
    vi: *mut ffi::ef_vi,
    free: &mut Vec<u32>,
    addrs: &[u64],
    len: usize,
    n: usize,
) -> usize {
    let mut evs = [ffi::ef_event::default(); 32];
    let mut ids = [0 as ffi::ef_request_id; ffi::EF_VI_TRANSMIT_BATCH as usize];
    let (mut sent, mut done) = (0, 0);
    while done < n {
        while sent < n {
            let Some(i) = free.pop() else { break };
            // SAFETY: the VI is live; the buffer is registered and holds the frame.
            let rc = unsafe {
                ffi::ef_vi_transmit(vi, addrs[i as usize], len as i32, i as ffi::ef_request_id)
            };
            if rc < 0 {
                free.push(i);
                break;
            }
            sent += 1;
        }
        // SAFETY: as above.
        let k = unsafe { ffi::ef_eventq_poll(vi, evs.as_mut_ptr(), 32) };
        for e in &evs[..k.max(0) as usize] {
            // SAFETY: polled event.
            if unsafe { ffi::EF_EVENT_TYPE(e) } == ffi::EF_EVENT_TYPE_TX {
                // SAFETY: an event of this VI; `ids` has room for a batch.
                let m = unsafe { ffi::ef_vi_transmit_unbundle(vi, e, ids.as_mut_ptr()) };
                for &id in &ids[..m.max(0) as usize] {
                    free.push(id as u32);
                }
                done += m.max(0) as usize;
            }
        }
    }
    done
}

fn run(mode: &str) -> Duration {
    let mut s = setup();
    let t;
    match mode {
        "safe-rx" | "safe-each-rx" => {
            s.vi.refill(&mut s.pool, 512);
            send_burst();
            let t0 = Instant::now();
            if mode == "safe-rx" {
                std::hint::black_box(safe_rx_loop(&mut s.vi, &mut s.pool, N));
            } else {
                std::hint::black_box(safe_each_rx_loop(&mut s.vi, &mut s.pool, N));
            }
            t = t0.elapsed();
        }
        "raw-rx" => {
            // SAFETY: from here on this loop drives the VI's rings only through the raw calls;
            // the safe VI is not used for the data path again.
            let vi = unsafe { s.vi.as_raw() };
            for i in 0..512 {
                // SAFETY: posting registered buffers of the pool.
                unsafe { ffi::ef_vi_receive_init(vi, s.addrs[i], i as ffi::ef_request_id) };
            }
            // SAFETY: as above.
            unsafe { ffi::ef_vi_receive_push(vi) };
            send_burst();
            let base = s.pool.regions()[0].as_ptr();
            let t0 = Instant::now();
            std::hint::black_box(raw_rx_loop(vi, base, &s.addrs, N));
            t = t0.elapsed();
        }
        "safe-tx" | "safe-each-tx" | "raw-tx" => {
            let mut free = Vec::with_capacity(s.pool.capacity());
            let mut len = 0;
            while let Some(mut b) = s.pool.take() {
                len = frames::write_udp_header(
                    s.pool.bytes_mut(&mut b),
                    [0; 6],
                    [0; 6],
                    (LO, 1),
                    (LO, 9),
                    64,
                )
                .unwrap();
                free.push(b);
            }
            let t0 = Instant::now();
            if mode == "safe-tx" {
                std::hint::black_box(safe_tx_loop(&mut s.vi, &mut free, len, N));
            } else if mode == "safe-each-tx" {
                std::hint::black_box(safe_each_tx_loop(&mut s.vi, &mut free, len, N));
            } else {
                let mut ids: Vec<u32> = free.iter().map(PacketBuf::index).collect();
                // SAFETY: as for raw-rx; the tokens in `free` are not used while the raw
                // loop owns their buffers.
                let vi = unsafe { s.vi.as_raw() };
                std::hint::black_box(raw_tx_loop(vi, &mut ids, &s.addrs, len, N));
            }
            t = t0.elapsed();
        }
        _ => panic!("mode: safe-rx, safe-each-rx, raw-rx, safe-tx, safe-each-tx or raw-tx"),
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(mode) = args.first() {
        let t = run(mode);
        println!("{mode}: {N} packets in {t:?}");
        return;
    }
    // `cargo bench`: each mode in a namespace of its own.
    let Some(ns) = testkit::Netns::create("loops bench") else {
        return;
    };
    let exe = std::env::current_exe().unwrap();
    for mode in MODES {
        let out = ns.command(&exe).arg(mode).output().expect("run");
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
}
