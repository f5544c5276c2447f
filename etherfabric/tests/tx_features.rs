// TX warming, event queue timers, TX alternatives, flushing and shared event queues against
// kernel peers, each test in a network namespace of its own. Where the adapter (or the
// software backend) lacks a feature, the test asserts the error the safe API gives and says
// so; where it has it, the test asserts that the feature works, so the same test means
// something on real hardware.

mod common;
#[path = "../examples/common/mod.rs"]
mod frames;

use std::collections::HashSet;
use std::net::{Ipv4Addr, UdpSocket};
use std::time::{Duration, Instant};

use common::*;
use etherfabric::*;

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;

/// Writes a UDP frame from `LO:sport` to `LO:dport` carrying `payload` into `buf`; returns
/// its length.
fn udp_frame(
    pool: &BufferPool,
    buf: &mut PacketBuf,
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> usize {
    let b = pool.bytes_mut(buf);
    let len = frames::write_udp_header(b, [0; 6], [0; 6], (LO, sport), (LO, dport), payload.len())
        .expect("frame fits");
    b[frames::HDR_LEN..len].copy_from_slice(payload);
    len
}

/// A kernel socket on `lo` with a short read timeout.
fn sink() -> UdpSocket {
    let s = UdpSocket::bind((LO, 0)).expect("bind");
    s.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    s
}

fn assert_nothing_arrives(s: &UdpSocket, why: &str) {
    let mut b = [0u8; 128];
    match s.recv_from(&mut b) {
        Ok((n, _)) => panic!("{why}: a datagram arrived: {:?}", &b[..n]),
        Err(e) => assert!(
            matches!(
                e.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ),
            "{why}: {e}"
        ),
    }
}

fn recv_payload(s: &UdpSocket) -> Vec<u8> {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut b = [0u8; 256];
    let (n, _) = s.recv_from(&mut b).expect("a datagram from the VI");
    b[..n].to_vec()
}

#[test]
fn warming_sends_nothing_and_stops_when_dropped() {
    in_lo_ns("warming_sends_nothing_and_stops_when_dropped", || {
        let (pd, mut pool) = lo_pd(32);
        let mut vi = Vi::builder(&pd).build(&pool).expect("VI");
        let rx = sink();
        let port = rx.local_addr().unwrap().port();
        let mut b = pool.take().unwrap();
        let len = udp_frame(&pool, &mut b, 41000, port, b"warm");
        {
            let mut warm = vi.start_transmit_warm().expect("start warming");
            for _ in 0..4 {
                warm.transmit(&b, len).expect("warming send");
            }
            // The checks of a real send still apply.
            assert!(matches!(
                warm.transmit(&b, 0),
                Err(Error::InvalidArgument { .. })
            ));
            assert!(matches!(
                warm.transmit(&b, DEFAULT_BUF_SIZE + 1),
                Err(Error::InvalidArgument { .. })
            ));
            // No CTPIO on this VI, no PIO region linked.
            assert!(matches!(
                warm.transmit_ctpio(&b, len, CTPIO_THRESHOLD_SNF),
                Err(Error::InvalidArgument { .. })
            ));
            assert!(matches!(
                warm.transmit_pio(0, 64),
                Err(Error::InvalidArgument { .. })
            ));
        }
        assert_nothing_arrives(&rx, "warming sends");
        // Whatever completions warming raised (X3/X4 raise some) hand back no buffer.
        let mut evs: [Event; 16] = Default::default();
        for e in vi.poll(&mut evs) {
            if let Event::Tx(c) = e.take() {
                vi.transmit_unbundle(c, |_| panic!("warming handed back a buffer"));
            }
        }
        assert_eq!(
            vi.tx_fill_level(),
            0,
            "warming left descriptors in the ring"
        );
        // Warming has stopped: the same buffer goes out for real.
        let idx = b.index();
        vi.transmit(b, len).expect("real send after warming");
        assert_eq!(recv_payload(&rx), b"warm");
        let evs = poll_for(&mut vi, 1, |e| matches!(e, Event::Tx(_)));
        let Some(Event::Tx(c)) = evs.into_iter().next() else {
            panic!("no completion for the real send")
        };
        let mut back = Vec::new();
        vi.transmit_unbundle(c, |b| back.push(b.index()));
        assert_eq!(back, [idx]);

        // A VI without a TX ring cannot warm.
        let mut rx_only = Vi::builder(&pd).txq_capacity(Some(0)).build(&pool).unwrap();
        assert!(matches!(
            rx_only.start_transmit_warm(),
            Err(Error::InvalidArgument { .. })
        ));
    });
}

#[test]
fn ctpio_warming_writes_no_frame() {
    in_lo_ns("ctpio_warming_writes_no_frame", || {
        let (pd, mut pool) = lo_pd(16);
        if pd.capability(Capability::CTPIO).unwrap_or(0) == 0 {
            testkit::skip("ctpio_warming_writes_no_frame", "no CTPIO on this adapter");
            return;
        }
        let mut vi = Vi::builder(&pd)
            .flags(ViFlags::TX_CTPIO)
            .build(&pool)
            .expect("CTPIO VI");
        let rx = sink();
        let port = rx.local_addr().unwrap().port();
        let mut b = pool.take().unwrap();
        let len = udp_frame(&pool, &mut b, 41001, port, b"ctpio warm");
        {
            let mut warm = vi.start_transmit_warm().expect("start warming");
            warm.transmit_ctpio(&b, len, CTPIO_THRESHOLD_SNF)
                .expect("warming CTPIO send");
            warm.transmit(&b, len).expect("warming DMA send");
        }
        assert_nothing_arrives(&rx, "warming CTPIO sends");
        vi.transmit_ctpio(b, len, CTPIO_THRESHOLD_SNF)
            .expect("real CTPIO send");
        assert_eq!(recv_payload(&rx), b"ctpio warm");
    });
}

#[test]
fn event_queue_timers() {
    in_lo_ns("event_queue_timers", || {
        let (pd, pool) = lo_pd(16);
        let mut plain = Vi::builder(&pd).build(&pool).expect("VI");
        for r in [
            plain.timer_run(Duration::from_micros(100)),
            plain.timer_prime(Duration::from_micros(100)),
            plain.timer_clear(),
            plain.timer_zero(),
        ] {
            assert!(
                matches!(r, Err(Error::InvalidArgument { .. })),
                "a VI without ENABLE_EV_TIMER: {r:?}"
            );
        }
        let mut vi = match Vi::builder(&pd)
            .flags(ViFlags::ENABLE_EV_TIMER)
            .build(&pool)
        {
            Ok(vi) => vi,
            Err(Error::Unsupported { .. }) => {
                testkit::skip(
                    "event_queue_timers",
                    "no event queue timers on this adapter",
                );
                return;
            }
            Err(e) => panic!("VI with ENABLE_EV_TIMER: {e}"),
        };
        assert!(matches!(
            vi.timer_run(Duration::ZERO),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            vi.timer_prime(Duration::from_secs(10_000)),
            Err(Error::InvalidArgument { .. })
        ));
        for r in [
            vi.timer_prime(Duration::from_micros(500)),
            vi.timer_run(Duration::from_micros(500)),
            vi.timer_zero(),
            vi.timer_clear(),
        ] {
            r.expect("timer call");
        }
        // A running timer wakes a primed VI, though no event comes.
        vi.prime().expect("prime");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&vi);
        let wakes = |ms| {
            let mut p = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            unsafe { libc::poll(&mut p, 1, ms) == 1 }
        };
        assert!(!wakes(50), "woken with no event and no timer");
        let t0 = Instant::now();
        vi.timer_run(Duration::from_millis(30)).expect("timer_run");
        assert!(wakes(2000), "the timer did not wake the primed VI");
        assert!(
            t0.elapsed() >= Duration::from_millis(20),
            "{:?}",
            t0.elapsed()
        );
        let mut evs: [Event; 4] = Default::default();
        assert!(vi.poll(&mut evs).is_empty(), "a timeout is no event");
        // A cleared timer wakes nothing.
        vi.prime().expect("prime");
        vi.timer_run(Duration::from_millis(30)).expect("timer_run");
        vi.timer_clear().expect("timer_clear");
        assert!(!wakes(150), "a cleared timer woke the VI");
    });
}

#[test]
fn tx_alternatives_follow_the_capability() {
    in_lo_ns("tx_alternatives_follow_the_capability", || {
        let (pd, mut pool) = lo_pd(32);
        let mut plain = Vi::builder(&pd).build(&pool).expect("VI");
        assert!(matches!(
            plain.tx_alternatives(2, 4096).map(|a| a.len()),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            plain.tx_alt_overhead(),
            Err(Error::InvalidArgument { .. })
        ));
        assert!(matches!(
            plain.tx_alt_query_buffering(2),
            Err(Error::InvalidArgument { .. })
        ));
        let cap = pd
            .capability(Capability::TX_ALTERNATIVES)
            .expect("EF_VI_CAP_TX_ALTERNATIVES");
        let built = Vi::builder(&pd).flags(ViFlags::TX_ALT).build(&pool);
        if cap == 0 {
            // The adapter says it has none: the VI is refused as unsupported.
            assert!(
                matches!(built, Err(Error::Unsupported { .. })),
                "TX_ALT without the capability: {built:?}"
            );
            testkit::skip(
                "tx_alternatives_follow_the_capability",
                "no TX alternatives on this adapter (Unsupported checked)",
            );
            return;
        }
        let mut vi = built.expect("VI with TX_ALT");
        let space = vi.tx_alt_query_buffering(2).expect("query buffering");
        assert!(space > 0);
        let over = vi.tx_alt_overhead().expect("overhead");
        assert!(over.usage(60) >= 60);
        let rx = sink();
        let port = rx.local_addr().unwrap().port();
        let mut alts = vi.tx_alternatives(2, space).expect("alternatives");
        assert_eq!(alts.len(), 2);
        assert_eq!(alts.ids().count(), 2);
        assert!(matches!(alts.id(2), Err(Error::InvalidArgument { .. })));
        let (a0, a1) = (alts.id(0).unwrap(), alts.id(1).unwrap());
        // Hold one packet in each alternative, send the first, drop the second.
        alts.stop(a0).unwrap();
        alts.stop(a1).unwrap();
        for (alt, payload) in [(a0, &b"alt zero"[..]), (a1, &b"alt one!"[..])] {
            alts.select(alt).unwrap();
            let mut b = pool.take().unwrap();
            let len = udp_frame(&pool, &mut b, 41002, port, payload);
            alts.transmit(b, len).expect("send to an alternative");
        }
        alts.select_normal().unwrap();
        assert_nothing_arrives(&rx, "packets held in alternatives");
        alts.go(a0).unwrap();
        alts.discard(a1).unwrap();
        assert_eq!(recv_payload(&rx), b"alt zero");
        assert_nothing_arrives(&rx, "the discarded alternative");
        let evs = poll_for(&mut alts, 2, |e| matches!(e, Event::TxAlt { .. }));
        let ids: HashSet<u32> = evs
            .iter()
            .filter_map(|e| match e {
                Event::TxAlt { alt_id, .. } => Some(*alt_id),
                _ => None,
            })
            .collect();
        assert_eq!(ids, HashSet::from([0, 1]), "{evs:?}");
        drop(alts);
        // Freed with the guard: they can be allocated again.
        let mut again = vi.tx_alternatives(1, space).expect("alternatives again");
        assert_eq!(again.len(), 1);
        // An id of the first allocation is not one of this one's.
        assert!(matches!(
            again.select(a0),
            Err(Error::InvalidArgument { .. })
        ));
        let b0 = again.id(0).unwrap();
        // The guard derefs mutably to its VI: if safe code swaps another VI in, the guard
        // refuses to act on it (and leaves the swapped-out VI's alternatives alone).
        let mut other = Vi::builder(&pd)
            .flags(ViFlags::TX_ALT)
            .build(&pool)
            .expect("second VI with TX_ALT");
        std::mem::swap(&mut *again, &mut other);
        assert!(matches!(again.go(b0), Err(Error::InvalidArgument { .. })));
        assert!(matches!(
            again.select_normal(),
            Err(Error::InvalidArgument { .. })
        ));
        std::mem::swap(&mut *again, &mut other);
        again.go(b0).expect("the right VI is back");
    });
}

#[test]
fn flush_hands_back_every_buffer_once() {
    in_lo_ns("flush_hands_back_every_buffer_once", || {
        let (pd, mut pool) = lo_pd(64);
        let mut vi = Vi::builder(&pd).build(&pool).expect("VI");
        assert_eq!(vi.refill(&mut pool, 32), 32);
        let rx = sink();
        let port = rx.local_addr().unwrap().port();
        // Sends whose completions are not handed back: one single, one of two pieces.
        let mut b = pool.take().unwrap();
        let len = udp_frame(&pool, &mut b, 41003, port, b"one");
        vi.transmit(b, len).unwrap();
        let (mut h, mut p) = (pool.take().unwrap(), pool.take().unwrap());
        frames::write_udp_header(
            pool.bytes_mut(&mut h),
            [0; 6],
            [0; 6],
            (LO, 41003),
            (LO, port),
            3,
        )
        .unwrap();
        pool.bytes_mut(&mut p)[..3].copy_from_slice(b"two");
        vi.transmitv([(h, frames::HDR_LEN), (p, 3)]).unwrap();
        assert_eq!(recv_payload(&rx), b"one");
        assert_eq!(recv_payload(&rx), b"two");
        assert_eq!(pool.free_count(), 64 - 32 - 3);
        let mut seen = HashSet::new();
        let n = vi
            .flush(|buf| {
                assert!(seen.insert(buf.index()), "buffer {} twice", buf.index());
                pool.put(buf).expect("a buffer of the pool");
            })
            .unwrap_or_else(|r| panic!("flush: {}", r.error));
        assert_eq!(n, 32 + 3, "every posted and sent buffer");
        assert_eq!(pool.free_count(), 64, "the pool is whole again");
    });
}

#[test]
fn a_group_routes_events_to_the_vi_of_their_queue() {
    in_lo_ns("a_group_routes_events_to_the_vi_of_their_queue", || {
        let (pd, mut pool_a) = lo_pd(64);
        let mut pool_b = BufferPool::alloc(&pd, 64, DEFAULT_BUF_SIZE).expect("second pool");
        let owner = Vi::builder(&pd).build(&pool_a).expect("owner VI");
        let (port_a, port_b) = (37101, 37102);
        let mut group = ViGroup::new(owner);
        let label = group
            .add(Vi::builder(&pd).evq_capacity(Some(4096)), &pool_b)
            .expect("VI on the owner's event queue");
        assert_eq!(label, 1, "the first VI on a queue gets label 1");
        assert_eq!(group.len(), 2);
        let _fa = {
            let mut a = group.vi(0).unwrap();
            assert_eq!(a.refill(&mut pool_a, 16), 16);
            a.add_filter(&format!("udp:127.0.0.1:{port_a}").parse().unwrap())
                .expect("filter A")
        };
        let _fb = {
            let mut b = group.vi(1).unwrap();
            assert_eq!(b.q_id(), 1);
            assert_eq!(b.refill(&mut pool_b, 16), 16);
            b.add_filter(&format!("udp:127.0.0.1:{port_b}").parse().unwrap())
                .expect("filter B")
        };
        assert!(group.vi(2).is_none());

        let tx = UdpSocket::bind((LO, 0)).unwrap();
        for i in 0..3u8 {
            tx.send_to(&[b'a', i], (LO, port_a)).unwrap();
            tx.send_to(&[b'b', i], (LO, port_b)).unwrap();
        }
        let evs = collect(
            6,
            |evs| group.poll(evs).iter_mut().map(Event::take).collect(),
            |e| matches!(e, Event::Rx(_)),
        );
        assert_eq!(evs.len(), 6, "RX events for both VIs");
        let (mut na, mut nb) = (0, 0);
        for e in evs {
            let Event::Rx(rx) = e else { unreachable!() };
            let q = rx.q_id();
            let vi = group.vi(q).expect("a member's label");
            let (dport, payload) = frames::udp_payload(vi.frame(&rx)).expect("UDP frame");
            let payload = payload.to_vec();
            // Each buffer comes back as a token of the pool of the VI that posted it.
            if q == 0 {
                assert_eq!((dport, payload[0]), (port_a, b'a'));
                pool_a.put(rx.buf).expect("a buffer of pool A");
                na += 1;
            } else {
                assert_eq!((q, dport, payload[0]), (1, port_b, b'b'));
                pool_b.put(rx.buf).expect("a buffer of pool B");
                nb += 1;
            }
        }
        assert_eq!((na, nb), (3, 3));

        // A send from the second VI completes on the shared queue with its label; the group
        // routes the completion back to it.
        let sink = sink();
        let mut b = pool_b.take().unwrap();
        let idx = b.index();
        let len = udp_frame(
            &pool_b,
            &mut b,
            41004,
            sink.local_addr().unwrap().port(),
            b"B",
        );
        group.vi(1).unwrap().transmit(b, len).expect("send from B");
        assert_eq!(recv_payload(&sink), b"B");
        let evs = collect(
            1,
            |evs| group.poll(evs).iter_mut().map(Event::take).collect(),
            |e| matches!(e, Event::Tx(_)),
        );
        let Some(Event::Tx(c)) = evs.into_iter().next() else {
            panic!("no TX completion on the shared queue")
        };
        assert_eq!(c.q_id(), 1);
        let mut back = Vec::new();
        assert_eq!(group.transmit_unbundle(c, |b| back.push(b)), 1);
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].index(), idx);
        assert!(pool_b.owns(&back[0]));
        pool_b.put(back.pop().unwrap()).unwrap();

        // The members' view of the queue is the group's.
        {
            let m = group.vi(1).unwrap();
            assert!(!m.has_event());
            assert!(m.evq_capacity() > 0);
        }
        group.prime().expect("prime the shared queue");
        assert!(std::os::fd::AsRawFd::as_raw_fd(&group) >= 0);
        // Dropped with a filter of each member still alive: freed when those go too.
        drop(group);
    });
}

#[test]
fn rx_filter_ids_name_the_filter_that_matched() {
    in_lo_ns("rx_filter_ids_name_the_filter_that_matched", || {
        let (pd, mut pool) = lo_pd(64);
        let (port_a, port_b) = (37111, 37112);
        let tx = UdpSocket::bind((LO, 0)).unwrap();
        {
            let mut plain = Vi::builder(&pd).build(&pool).expect("VI");
            let _f = plain
                .add_filter(&format!("udp:127.0.0.1:{port_a}").parse().unwrap())
                .unwrap();
            plain.refill(&mut pool, 8);
            tx.send_to(b"x", (LO, port_a)).unwrap();
            let evs = poll_for(&mut plain, 1, |e| matches!(e, Event::Rx(_)));
            let Some(Event::Rx(rx)) = evs.into_iter().next() else {
                panic!("no packet")
            };
            assert!(matches!(
                plain.rx_filter_id(&rx),
                Err(Error::InvalidArgument { .. })
            ));
            pool.put(rx.buf).unwrap();
            plain
                .flush(|b| {
                    let _ = pool.put(b);
                })
                .unwrap_or_else(|r| panic!("{}", r.error));
        }
        let cap = pd.capability(Capability::RX_FILTER_ID).unwrap_or(0);
        let built = Vi::builder(&pd).flags(ViFlags::RX_FILTER_ID).build(&pool);
        if cap == 0 {
            assert!(
                matches!(
                    built,
                    Err(Error::Unsupported { .. }) | Err(Error::Os { .. })
                ),
                "RX_FILTER_ID without the capability: {built:?}"
            );
            testkit::skip(
                "rx_filter_ids_name_the_filter_that_matched",
                "no RX filter ids on this adapter (refusal checked)",
            );
            return;
        }
        let mut vi = built.expect("VI with RX_FILTER_ID");
        let fa = vi
            .add_filter(&format!("udp:127.0.0.1:{port_a}").parse().unwrap())
            .unwrap();
        let fb = vi
            .add_filter(&format!("udp:127.0.0.1:{port_b}").parse().unwrap())
            .unwrap();
        assert_ne!(fa.cookie().filter_id, fb.cookie().filter_id);
        vi.refill(&mut pool, 16);
        tx.send_to(b"a", (LO, port_a)).unwrap();
        tx.send_to(b"b", (LO, port_b)).unwrap();
        let evs = poll_for(&mut vi, 2, |e| matches!(e, Event::Rx(_)));
        assert_eq!(evs.len(), 2);
        for e in evs {
            let Event::Rx(rx) = e else { unreachable!() };
            let (dport, _) = frames::udp_payload(vi.frame(&rx)).expect("UDP frame");
            let want = if dport == port_a { &fa } else { &fb };
            assert_eq!(
                vi.rx_filter_id(&rx).expect("filter id") as i32,
                want.cookie().filter_id,
                "packet to port {dport}"
            );
            pool.put(rx.buf).unwrap();
        }
    });
}
