// Property test of the buffer ownership rules: random sequences of post / transmit / poll /
// unbundle / release / VI drop never hand one buffer out twice, never lose one while the VI
// lives, and keep the rings' fill levels within their capacities and equal to what was
// handed over. Runs on `lo` of a namespace of its own; transmitted frames come back as
// receives through the VI's filter.

mod common;
#[path = "../examples/common/mod.rs"]
mod frames;

use std::collections::{HashSet, VecDeque};
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::*;
use etherfabric::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
const PORT: u16 = 37100;
const BUFS: u32 = 48;

/// Receives seen over all cases (the sequences must exercise the RX path too).
static RECEIVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

#[derive(Debug, Clone)]
enum Op {
    Post(u8),
    PostBatch(u8),
    Send(u8),
    Poll,
    Unbundle,
    Release(u8),
    DropVi,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..20).prop_map(Op::Post),
        (1u8..20).prop_map(Op::PostBatch),
        (1u8..8).prop_map(Op::Send),
        Just(Op::Poll),
        Just(Op::Poll),
        Just(Op::Unbundle),
        (1u8..20).prop_map(Op::Release),
        Just(Op::DropVi),
    ]
}

struct Model {
    pd: ProtectionDomain,
    pool: BufferPool,
    vi: Vi,
    filter: Option<Filter>,
    /// Buffers the application holds (received, not yet released).
    held: Vec<PacketBuf>,
    /// Indices of every buffer in the application's hands (pool free list + held).
    owned: HashSet<u32>,
    rx_in_ring: usize,
    tx_in_flight: usize,
    /// Completions polled but not unbundled yet.
    pending: VecDeque<TxComplete>,
    /// Buffers that were in the rings of dropped VIs.
    lost: usize,
    frame_len: usize,
}

fn new_vi(pd: &ProtectionDomain, pool: &BufferPool) -> Vi {
    Vi::builder(pd).build(pool).expect("VI")
}

fn filter(vi: &mut Vi) -> Filter {
    vi.add_filter(&format!("udp:127.0.0.1:{PORT}").parse().unwrap())
        .expect("filter")
}

impl Model {
    fn new() -> Model {
        let driver = Driver::open().unwrap();
        let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).unwrap();
        let mut pool = BufferPool::alloc(&pd, BUFS, DEFAULT_BUF_SIZE).unwrap();
        // Every buffer carries the same frame, to the VI's own filter.
        let mut all = Vec::new();
        let mut frame_len = 0;
        while let Some(mut b) = pool.take() {
            frame_len = frames::write_udp_header(
                pool.bytes_mut(&mut b),
                [0; 6],
                [0; 6],
                (LO, 40100),
                (LO, PORT),
                16,
            )
            .unwrap();
            all.push(b);
        }
        let owned = all.iter().map(PacketBuf::index).collect();
        for b in all {
            pool.put(b).unwrap();
        }
        let mut vi = new_vi(&pd, &pool);
        let filter = Some(filter(&mut vi));
        Model {
            pd,
            pool,
            vi,
            filter,
            held: Vec::new(),
            owned,
            rx_in_ring: 0,
            tx_in_flight: 0,
            pending: VecDeque::new(),
            lost: 0,
            frame_len,
        }
    }

    fn take(&mut self) -> Option<PacketBuf> {
        let b = self.pool.take()?;
        assert!(
            self.owned.remove(&b.index()),
            "the pool gave out a buffer it did not own"
        );
        Some(b)
    }

    fn give_back(&mut self, b: PacketBuf) -> Result<(), TestCaseError> {
        prop_assert!(
            self.owned.insert(b.index()),
            "buffer {} handed out twice",
            b.index()
        );
        self.pool.put(b).unwrap();
        Ok(())
    }

    fn receive(&mut self, b: PacketBuf) -> Result<(), TestCaseError> {
        prop_assert!(
            self.owned.insert(b.index()),
            "buffer {} handed out twice",
            b.index()
        );
        self.held.push(b);
        Ok(())
    }

    fn apply(&mut self, op: &Op) -> Result<(), TestCaseError> {
        match *op {
            Op::Post(n) | Op::PostBatch(n) => {
                let batch = matches!(op, Op::PostBatch(_));
                for _ in 0..n {
                    let Some(b) = self.take() else { break };
                    let r = if batch {
                        self.vi.post_init(b)
                    } else {
                        self.vi.post(b)
                    };
                    match r {
                        Ok(()) => self.rx_in_ring += 1,
                        Err(r) => {
                            prop_assert!(matches!(r.error, Error::RingFull { .. }), "{}", r.error);
                            self.give_back(r.buf)?;
                            break;
                        }
                    }
                }
                if batch {
                    self.vi.post_push();
                }
            }
            Op::Send(n) => {
                for _ in 0..n {
                    let Some(b) = self.take() else { break };
                    match self.vi.transmit(b, self.frame_len) {
                        Ok(()) => self.tx_in_flight += 1,
                        Err(r) => {
                            prop_assert!(matches!(r.error, Error::RingFull { .. }), "{}", r.error);
                            self.give_back(r.buf)?;
                            break;
                        }
                    }
                }
            }
            Op::Poll => {
                let mut evs: [Event; 16] = Default::default();
                let mut got = Vec::new();
                for e in self.vi.poll(&mut evs) {
                    got.push(e.take());
                }
                for e in got {
                    match e {
                        Event::Rx(rx) => {
                            RECEIVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            self.rx_in_ring -= 1;
                            self.receive(rx.buf)?;
                        }
                        Event::RxDiscard(d) => {
                            self.rx_in_ring -= 1;
                            self.receive(d.buf)?;
                        }
                        Event::Tx(c) => self.pending.push_back(c),
                        Event::RxNoDescTrunc { .. } => {}
                        other => prop_assert!(false, "unexpected event {other:?}"),
                    }
                }
            }
            Op::Unbundle => self.unbundle()?,
            Op::Release(n) => {
                for _ in 0..n {
                    let Some(b) = self.held.pop() else { break };
                    self.pool.put(b).unwrap();
                }
            }
            Op::DropVi => {
                self.unbundle()?;
                // The old VI and its filter go before the new VI's filter is added.
                self.filter = None;
                drop(std::mem::replace(
                    &mut self.vi,
                    new_vi(&self.pd, &self.pool),
                ));
                self.filter = Some(filter(&mut self.vi));
                self.lost += self.rx_in_ring + self.tx_in_flight;
                self.rx_in_ring = 0;
                self.tx_in_flight = 0;
            }
        }
        self.check()
    }

    fn unbundle(&mut self) -> Result<(), TestCaseError> {
        while let Some(c) = self.pending.pop_front() {
            let mut back = Vec::new();
            self.vi.transmit_unbundle(c, |b| back.push(b));
            self.tx_in_flight -= back.len();
            for b in back {
                self.give_back(b)?;
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), TestCaseError> {
        prop_assert_eq!(self.owned.len(), self.pool.free_count() + self.held.len());
        prop_assert_eq!(
            self.owned.len() + self.rx_in_ring + self.tx_in_flight + self.lost,
            BUFS as usize,
            "a buffer was lost"
        );
        prop_assert_eq!(self.vi.rx_fill_level(), self.rx_in_ring);
        prop_assert!(self.vi.rx_fill_level() <= self.vi.rx_capacity());
        prop_assert_eq!(self.vi.tx_fill_level(), self.tx_in_flight);
        prop_assert!(self.vi.tx_fill_level() <= self.vi.tx_capacity());
        Ok(())
    }

    /// Polls until every transmit has completed and been handed back.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.tx_in_flight > 0 && Instant::now() < deadline {
            self.apply(&Op::Poll)?;
            self.apply(&Op::Unbundle)?;
        }
        prop_assert_eq!(self.tx_in_flight, 0, "transmits never completed");
        Ok(())
    }
}

#[test]
fn random_operation_sequences_keep_buffer_ownership() {
    let test = "random_operation_sequences_keep_buffer_ownership";
    in_lo_ns(test, move || {
        let mut runner = TestRunner::new(Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&proptest::collection::vec(op(), 1..60), |ops| {
                let mut m = Model::new();
                for o in &ops {
                    m.apply(o)?;
                }
                m.drain()
            })
            .unwrap();
        let rx = RECEIVED.load(std::sync::atomic::Ordering::Relaxed);
        assert!(rx > 0, "no case received anything");
        println!("{test}: {rx} receives over all cases");
    });
}
