// MemoryRegion::alloc's two paths, each used for real (a VI sends a frame out of the memory
// and receives one into it): 2 MiB huge pages when the system has a free one, 4 KiB pages
// when it has not. The huge-page half reserves a page through /proc/sys/vm/nr_hugepages when
// none is free (as root) and restores the old value afterwards; when no huge page can be
// had it says so on the terminal instead of passing.
//
// One test, in a binary of its own, so that no other test of this crate takes the page.

mod common;
#[path = "../examples/common/mod.rs"]
mod frames;

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use common::*;
use etherfabric::*;

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
const TEST: &str = "memory_regions_use_huge_pages_and_fall_back";
const NR_HUGEPAGES: &str = "/proc/sys/vm/nr_hugepages";

/// A field of /proc/meminfo (a count of pages for the HugePages_ fields).
fn meminfo(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/meminfo").expect("/proc/meminfo");
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/meminfo"))
}

fn read_u64(path: &str) -> u64 {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .trim()
        .parse()
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Huge pages a new mapping could get now: the free ones and those the kernel may add.
fn huge_pages_available() -> u64 {
    let overcommit = read_u64("/proc/sys/vm/nr_overcommit_hugepages");
    meminfo("HugePages_Free") + overcommit.saturating_sub(meminfo("HugePages_Surp"))
}

/// Restores `nr_hugepages` when dropped.
struct Reservation {
    old: u64,
}

impl Reservation {
    /// Raises `nr_hugepages` by `n`; `None` when the value cannot be written here.
    fn add(n: u64) -> Option<Reservation> {
        let old = read_u64(NR_HUGEPAGES);
        std::fs::write(NR_HUGEPAGES, (old + n).to_string()).ok()?;
        Some(Reservation { old })
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Err(e) = std::fs::write(NR_HUGEPAGES, self.old.to_string()) {
            eprintln!(
                "{TEST}: could not restore {NR_HUGEPAGES} to {}: {e}",
                self.old
            );
        }
    }
}

/// Sends a datagram to a kernel socket from a buffer of `region` and receives one from a
/// kernel socket into another, through a VI on `pd`.
fn round_trip(pd: &ProtectionDomain, region: MemoryRegion, port: u16) {
    let mut pool = BufferPool::new(region, DEFAULT_BUF_SIZE).expect("pool over the region");
    let mut vi = Vi::builder(pd).build(&pool).expect("VI");
    let _f = vi
        .add_filter(&format!("udp:127.0.0.1:{port}").parse().unwrap())
        .expect("filter");
    assert!(vi.refill(&mut pool, 8) > 0);

    let sink = UdpSocket::bind((LO, 0)).unwrap();
    sink.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = pool.take().unwrap();
    let bytes = pool.bytes_mut(&mut b);
    let len = frames::write_udp_header(
        bytes,
        [0; 6],
        [0; 6],
        (LO, 41100),
        (LO, sink.local_addr().unwrap().port()),
        4,
    )
    .unwrap();
    bytes[frames::HDR_LEN..len].copy_from_slice(b"out!");
    vi.transmit(b, len).expect("transmit");
    let mut got = [0u8; 16];
    let (n, _) = sink.recv_from(&mut got).expect("the VI's datagram");
    assert_eq!(&got[..n], b"out!");

    UdpSocket::bind((LO, 0))
        .unwrap()
        .send_to(b"in!", (LO, port))
        .unwrap();
    let mut received = None;
    for e in poll_for(&mut vi, 1, |e| matches!(e, Event::Rx(_))) {
        let Event::Rx(rx) = e else { unreachable!() };
        let (dport, payload) = frames::udp_payload(vi.frame(&rx)).expect("UDP frame");
        received = Some((dport, payload.to_vec()));
        pool.put(rx.buf).unwrap();
    }
    assert_eq!(
        received,
        Some((port, b"in!".to_vec())),
        "datagram into the region"
    );
}

#[test]
fn memory_regions_use_huge_pages_and_fall_back() {
    in_lo_ns(TEST, || {
        let driver = Driver::open().expect("driver");
        let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).expect("PD on lo");

        // Fallback: ask for more huge pages than the system could give.
        let avail = huge_pages_available();
        if avail > 256 {
            testkit::skip(
                TEST,
                &format!("fallback path not checked: {avail} huge pages could be had"),
            );
        } else {
            let len = (avail as usize + 1) * HUGE_PAGE_SIZE;
            let r = MemoryRegion::alloc(&pd, len).expect("4 KiB-page region");
            assert!(!r.is_huge(), "{len} bytes cannot be huge pages here");
            assert_eq!(r.len(), len);
            assert_eq!(r.as_ptr() as usize % NIC_PAGE_SIZE, 0);
            assert!(r.dma_addr(len - 1).is_some() && r.dma_addr(len).is_none());
            round_trip(&pd, r, 37201);
        }

        // Huge pages: reserve one if none is free.
        let _reserved = if meminfo("HugePages_Free") == 0 {
            match Reservation::add(1) {
                Some(r) => Some(r),
                None => {
                    testkit::skip(
                        TEST,
                        "huge-page path not checked: no free huge page, and \
                         /proc/sys/vm/nr_hugepages is not writable here (run as root)",
                    );
                    return;
                }
            }
        } else {
            None
        };
        let free_before = meminfo("HugePages_Free");
        if free_before == 0 {
            testkit::skip(
                TEST,
                "huge-page path not checked: the kernel could not reserve a huge page",
            );
            return;
        }
        let rsvd_before = meminfo("HugePages_Rsvd");
        let r = MemoryRegion::alloc(&pd, HUGE_PAGE_SIZE).expect("region");
        if !r.is_huge() {
            // Another process may have taken the page meanwhile; otherwise this is a bug.
            assert_eq!(
                meminfo("HugePages_Free"),
                0,
                "a huge page was free but the region got 4 KiB pages"
            );
            testkit::skip(
                TEST,
                "huge-page path not checked: another process took the page",
            );
            return;
        }
        assert_eq!(r.len(), HUGE_PAGE_SIZE);
        assert_eq!(r.as_ptr() as usize % HUGE_PAGE_SIZE, 0, "huge-page aligned");
        assert!(
            meminfo("HugePages_Rsvd") > rsvd_before || meminfo("HugePages_Free") < free_before,
            "the kernel shows no huge page in use"
        );
        round_trip(&pd, r, 37202);
    });
}
