// Packed stream: walking the packets of a packed-stream buffer laid out as
// `etherfabric/packedstream.h` documents (a 16-byte `ef_packed_stream_packet` header in front
// of each frame, `ps_next_offset` leading to the next header), on synthetic buffers; and the
// software backend refusing packed-stream VIs.

// Unprivileged runs enter a user namespace of their own at start (see testkit).
testkit::enter_user_namespace_at_start!();

use etherfabric::*;

/// The `psp_start_offset` of the synthetic buffers.
const START: usize = 64;

/// One packet to write: its frame, the bytes on the wire, flags, timestamp, and the padding
/// after the frame before the next header.
#[derive(Clone, Copy)]
struct Pkt<'a> {
    frame: &'a [u8],
    orig_len: u16,
    flags: u8,
    ts: (u32, u32),
    pad: usize,
}

/// Writes `pkts` into `buf` from `at`, each header followed by its frame (at offset 16 from
/// the header); returns where the next header goes.
fn write_packets(buf: &mut [u8], mut at: usize, pkts: &[Pkt<'_>]) -> usize {
    for p in pkts {
        let next = PACKED_STREAM_HEADER_LEN + p.frame.len() + p.pad;
        let h = &mut buf[at..at + PACKED_STREAM_HEADER_LEN];
        h[0..2].copy_from_slice(&(next as u16).to_ne_bytes());
        h[2] = PACKED_STREAM_HEADER_LEN as u8;
        h[3] = p.flags;
        h[4..6].copy_from_slice(&(p.frame.len() as u16).to_ne_bytes());
        h[6..8].copy_from_slice(&p.orig_len.to_ne_bytes());
        h[8..12].copy_from_slice(&p.ts.0.to_ne_bytes());
        h[12..16].copy_from_slice(&p.ts.1.to_ne_bytes());
        let f = at + PACKED_STREAM_HEADER_LEN;
        buf[f..f + p.frame.len()].copy_from_slice(p.frame);
        at += next;
    }
    at
}

fn frame(len: usize, fill: u8) -> Vec<u8> {
    (0..len).map(|i| fill.wrapping_add(i as u8)).collect()
}

#[test]
fn walks_every_packet_with_its_header_fields() {
    let (a, b, c) = (frame(60, 1), frame(1514, 7), frame(128, 9));
    let mut buf = vec![0u8; 4096];
    let pkts = [
        Pkt {
            frame: &a,
            orig_len: 60,
            flags: 0,
            ts: (10, 20),
            pad: 4,
        },
        Pkt {
            frame: &b,
            orig_len: 1514,
            flags: (PsFlags::CLOCK_SET | PsFlags::CLOCK_IN_SYNC).bits(),
            ts: (1_700_000_000, 999_999_999),
            pad: 6,
        },
        // Stored truncated, with a bad L4 checksum.
        Pkt {
            frame: &c,
            orig_len: 900,
            flags: PsFlags::BAD_L4_CSUM.bits(),
            ts: (11, 0),
            pad: 0,
        },
    ];
    let end = write_packets(&mut buf, START, &pkts);

    let mut it = PackedStreamPackets::new(&buf, START, 3);
    assert_eq!(it.size_hint(), (0, Some(3)));
    let got: Vec<PackedPacket<'_>> = it.by_ref().map(|p| p.expect("packet")).collect();
    assert_eq!(got.len(), 3);
    for (g, w) in got.iter().zip(&pkts) {
        assert_eq!(g.frame(), w.frame);
        assert_eq!(g.orig_len(), usize::from(w.orig_len));
        assert_eq!(g.flags().bits(), w.flags);
        assert_eq!(
            (g.timestamp().sec, g.timestamp().nsec),
            (i64::from(w.ts.0), w.ts.1)
        );
    }
    assert_eq!(got[0].offset(), START);
    assert!(!got[0].is_truncated() && !got[1].is_truncated());
    assert!(got[2].is_truncated());
    assert_eq!(
        got[1].timestamp().sync,
        SyncFlags::CLOCK_SET | SyncFlags::CLOCK_IN_SYNC
    );
    assert_eq!(got[0].timestamp().sync, SyncFlags::empty());
    assert!(got[2].flags().contains(PsFlags::BAD_L4_CSUM));
    // Done: the walk stops where the adapter would write the next packet.
    assert!(it.next().is_none());
    assert_eq!((it.position(), it.remaining()), (end, 0));
}

#[test]
fn a_second_event_in_the_same_buffer_resumes_where_the_first_stopped() {
    let (a, b) = (frame(100, 3), frame(200, 5));
    let mut buf = vec![0u8; 2048];
    let one = |f| Pkt {
        frame: f,
        orig_len: 0,
        flags: 0,
        ts: (0, 0),
        pad: 12,
    };
    let mid = write_packets(&mut buf, START, &[one(&a)]);
    write_packets(&mut buf, mid, &[one(&b)]);

    // The first event starts the buffer; the second continues where the first stopped.
    let mut it = PackedStreamPackets::new(&buf, START, 1);
    assert_eq!(it.next().unwrap().unwrap().frame(), &a[..]);
    assert!(it.next().is_none());
    let resume = it.position();
    assert_eq!(resume, mid);
    let mut it = PackedStreamPackets::new(&buf, resume, 1);
    let p = it.next().unwrap().unwrap();
    assert_eq!((p.offset(), p.frame()), (mid, &b[..]));
    assert!(it.next().is_none());
}

#[test]
fn no_packets_yields_nothing() {
    let buf = [0u8; 64];
    let mut it = PackedStreamPackets::new(&buf, 0, 0);
    assert!(it.next().is_none());
    assert_eq!(it.position(), 0);
}

/// Asserts that the walk of `n` packets from `START` fails on its packet `bad` (after the
/// good ones), with an error naming `why`, and stays finished.
fn assert_malformed(buf: &[u8], n: u32, bad: usize, why: &str) {
    let mut it = PackedStreamPackets::new(buf, START, n);
    for i in 0..bad {
        assert!(it.next().unwrap().is_ok(), "packet {i} is well formed");
    }
    let at = it.position();
    match it.next() {
        Some(Err(e @ Error::MalformedPackedStream { offset, .. })) => {
            assert_eq!(offset, at);
            assert!(e.to_string().contains(why), "{e}");
        }
        other => panic!("expected a malformed-stream error, got {other:?}"),
    }
    assert!(it.next().is_none(), "the walk ends at the first error");
    assert_eq!(it.remaining(), 0);
}

#[test]
fn bad_offsets_end_the_walk_with_an_error_never_a_panic() {
    let a = frame(40, 0);
    let good = Pkt {
        frame: &a,
        orig_len: 40,
        flags: 0,
        ts: (0, 0),
        pad: 0,
    };

    // More packets announced than the buffer holds: the next header is past its end.
    let mut buf = vec![0u8; START + 56];
    write_packets(&mut buf, START, &[good]);
    assert_malformed(&buf, 2, 1, "header runs past the end");

    // A header that starts in the buffer but does not fit in it.
    let buf = vec![0u8; START + 8];
    assert_malformed(&buf, 1, 0, "header runs past the end");

    // A start offset past the buffer.
    let buf = vec![0u8; 32];
    assert_malformed(&buf, 1, 0, "header runs past the end");

    // A frame longer than what is left of the buffer.
    let mut buf = vec![0u8; 512];
    write_packets(&mut buf, START, &[Pkt { pad: 0, ..good }]);
    buf[START + 4..START + 6].copy_from_slice(&1000u16.to_ne_bytes());
    assert_malformed(&buf, 1, 0, "frame runs past the end");

    // A frame offset past the buffer.
    let mut buf = vec![0u8; START + 100];
    write_packets(&mut buf, START, &[good]);
    buf[START + 2] = 250;
    assert_malformed(&buf, 1, 0, "frame runs past the end");

    // A next offset of 0 (it would hand out the same packet for ever) or into the header.
    for next in [0u16, 15] {
        let mut buf = vec![0u8; 512];
        write_packets(&mut buf, START, &[good]);
        buf[START..START + 2].copy_from_slice(&next.to_ne_bytes());
        assert_malformed(&buf, 3, 0, "next packet points into");
    }
}

#[test]
fn the_software_backend_refuses_packed_stream_vis() {
    if backend().kind != BackendKind::Software {
        testkit::skip(
            "the_software_backend_refuses_packed_stream_vis",
            "this checks the software backend, which has no packed-stream VIs",
        );
        return;
    }
    let test = "the_software_backend_refuses_packed_stream_vis";
    match Driver::open() {
        Ok(_) => {}
        Err(Error::Permission { .. }) => {
            testkit::skip(
                test,
                "opening ef_vi needs CAP_NET_RAW (run the tests as root)",
            );
            return;
        }
        Err(e) => panic!("{test}: Driver::open: {e}"),
    }
    let Some(ns) = testkit::Netns::create(test) else {
        return;
    };
    let (pd_flags, vi) = testkit::run_in(&ns, || {
        let driver = Driver::open().expect("driver");
        // A packed-stream PD is refused...
        let pd_flags = ProtectionDomain::by_name(&driver, "lo", PdFlags::RX_PACKED_STREAM)
            .map(|_| ())
            .map_err(|e| e.to_string());
        // ...and so is a packed-stream VI on an ordinary PD.
        let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).expect("PD on lo");
        let pool = BufferPool::alloc(&pd, 16, DEFAULT_BUF_SIZE).expect("pool");
        let vi = Vi::builder(&pd)
            .flags(ViFlags::RX_PACKED_STREAM)
            .build(&pool)
            .map(|_| ());
        (pd_flags, vi)
    })
    .join()
    .expect("test thread");
    match vi {
        Err(Error::Unsupported { call, .. }) => assert_eq!(call, "ef_vi_alloc_from_pd"),
        other => panic!("a packed-stream VI on the software backend: {other:?}"),
    }
    assert!(pd_flags.is_err(), "a packed-stream PD: {pd_flags:?}");
}
