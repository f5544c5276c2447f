// Property test of Vi::flush: after random sequences of post / send (single and two-piece) /
// poll / unbundle, flushing the VI hands back exactly the buffers still in its rings, so
// that with those the application holds every buffer of the pool exactly once. Runs on `lo`
// of a namespace of its own; sent frames come back as receives through the VI's filter.

mod common;
#[path = "../examples/common/mod.rs"]
mod frames;

use std::collections::HashSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use etherfabric::*;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

const LO: Ipv4Addr = Ipv4Addr::LOCALHOST;
const PORT: u16 = 37130;
const BUFS: u32 = 48;

#[derive(Debug, Clone)]
enum Op {
    Post(u8),
    Send,
    SendTwo,
    Poll,
    Unbundle,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1u8..16).prop_map(Op::Post),
        Just(Op::Send),
        Just(Op::SendTwo),
        Just(Op::Poll),
        Just(Op::Unbundle),
    ]
}

/// One case: a fresh VI over `pd`, the ops, then a flush; checks the accounting.
fn run_case(pd: &ProtectionDomain, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut pool = BufferPool::alloc(pd, BUFS, DEFAULT_BUF_SIZE).expect("pool");
    let mut vi = Vi::builder(pd).build(&pool).expect("VI");
    let _f = vi
        .add_filter(&format!("udp:127.0.0.1:{PORT}").parse().unwrap())
        .expect("filter");
    // Buffers the application holds outside the pool (received ones).
    let mut held: Vec<PacketBuf> = Vec::new();
    // Completions polled and not handed back.
    let mut pending: Vec<TxComplete> = Vec::new();
    let mut evs: [Event; 16] = Default::default();
    for op in ops {
        match op {
            Op::Post(n) => {
                for _ in 0..*n {
                    let Some(b) = pool.take() else { break };
                    if let Err(r) = vi.post(b) {
                        pool.put(r.buf).unwrap();
                        break;
                    }
                }
            }
            Op::Send | Op::SendTwo => {
                let Some(mut h) = pool.take() else { continue };
                let payload = if matches!(op, Op::SendTwo) { 4 } else { 0 };
                let len = frames::write_udp_header(
                    pool.bytes_mut(&mut h),
                    [0; 6],
                    [0; 6],
                    (LO, 40200),
                    (LO, PORT),
                    payload,
                )
                .unwrap();
                if payload == 0 {
                    if let Err(r) = vi.transmit(h, len) {
                        pool.put(r.buf).unwrap();
                    }
                } else if let Some(mut p) = pool.take() {
                    pool.bytes_mut(&mut p)[..4].copy_from_slice(b"two!");
                    if let Err(r) = vi.transmitv([(h, frames::HDR_LEN), (p, 4)]) {
                        for (b, _) in r.buf {
                            pool.put(b).unwrap();
                        }
                    }
                } else {
                    pool.put(h).unwrap();
                }
            }
            Op::Poll => {
                std::thread::sleep(Duration::from_millis(1));
                for e in vi.poll(&mut evs) {
                    match e.take() {
                        Event::Rx(rx) => held.push(rx.buf),
                        Event::RxDiscard(d) => held.push(d.buf),
                        Event::Tx(c) => pending.push(c),
                        _ => {}
                    }
                }
            }
            Op::Unbundle => {
                if let Some(c) = pending.pop() {
                    vi.transmit_unbundle(c, |b| pool.put(b).unwrap());
                }
            }
        }
    }
    let mut back = Vec::new();
    let n = vi
        .flush(|b| back.push(b))
        .map_err(|r| TestCaseError::fail(format!("flush: {}", r.error)))?;
    prop_assert_eq!(n, back.len());
    // Every buffer once: in the pool, held, or handed back by the flush.
    let mut seen = HashSet::new();
    for b in back.iter().chain(held.iter()) {
        prop_assert!(seen.insert(b.index()), "buffer {} twice", b.index());
    }
    prop_assert_eq!(seen.len() + pool.free_count(), BUFS as usize);
    for b in back.into_iter().chain(held) {
        pool.put(b).unwrap();
    }
    prop_assert_eq!(pool.free_count(), BUFS as usize);
    Ok(())
}

#[test]
fn flush_hands_back_exactly_what_the_rings_hold() {
    let test = "flush_hands_back_exactly_what_the_rings_hold";
    in_lo_ns(test, || {
        let driver = Driver::open().unwrap();
        let pd = ProtectionDomain::by_name(&driver, "lo", PdFlags::empty()).unwrap();
        let mut runner = TestRunner::new(Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&proptest::collection::vec(op(), 1..40), |ops| {
                run_case(&pd, &ops)
            })
            .unwrap();
    });
}
