//! Property test: random sequences of send / copy receive / zero-copy receive / partial
//! release / reactor passes / free over a connected pair on one stack keep the byte stream
//! exact, and freeing leaves the stack owning nothing.

mod common;

use std::time::Instant;

use common::*;
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    /// Send this many bytes from the client.
    Send(usize),
    /// Copy-receive up to this many bytes on the server.
    Recv(usize),
    /// Zero-copy receive, releasing everything.
    ZcRecv,
    /// Zero-copy receive, releasing only this many bytes.
    ZcRelease(usize),
    /// A few reactor passes.
    Reactor,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (1usize..20_000).prop_map(Op::Send),
        (1usize..5000).prop_map(Op::Recv),
        Just(Op::ZcRecv),
        (0usize..3000).prop_map(Op::ZcRelease),
        Just(Op::Reactor),
    ]
}

fn run_case(port: u16, ops: &[Op], free_server_first: bool) {
    let mut st = stack("");
    let (l, c, s) = connected_pair(&mut st, port);
    let seed = (port % 251) as u8;
    let mut sent = 0usize;
    let mut got: Vec<u8> = Vec::new();
    let check = |got: &[u8], from: usize| {
        for (i, &b) in got[from..].iter().enumerate() {
            assert_eq!(b, pat(seed, from + i), "byte {} of the stream", from + i);
        }
    };
    for o in ops {
        let before = got.len();
        match *o {
            Op::Send(n) => {
                let data: Vec<u8> = (sent..sent + n).map(|i| pat(seed, i)).collect();
                match st.tcp_ref(c).unwrap().send(&data) {
                    Ok(k) => sent += k,
                    Err(e) => assert!(e.is_would_block(), "{e}"),
                }
            }
            Op::Recv(n) => {
                let mut b = vec![0u8; n];
                match st.tcp(s).unwrap().recv(&mut b) {
                    Ok(k) => {
                        assert!(k > 0, "no EOF expected");
                        got.extend_from_slice(&b[..k]);
                    }
                    Err(e) => assert!(e.is_would_block(), "{e}"),
                }
            }
            Op::ZcRecv => {
                if let Some(m) = st.tcp(s).unwrap().zc_recv() {
                    got.extend(m.iter().flatten().copied());
                }
            }
            Op::ZcRelease(n) => {
                if let Some(m) = st.tcp(s).unwrap().zc_recv() {
                    let all: Vec<u8> = m.iter().flatten().copied().collect();
                    let k = n.min(all.len());
                    got.extend_from_slice(&all[..k]);
                    assert!(m.release_some(k).unwrap());
                }
            }
            Op::Reactor => {
                for _ in 0..3 {
                    st.reactor_perform();
                }
            }
        }
        check(&got, before);
        assert!(got.len() <= sent, "received more than sent");
    }
    // Drain: everything sent arrives, in order.
    let t0 = Instant::now();
    while got.len() < sent {
        assert!(t0.elapsed() < LIMIT, "drain: {} of {sent}", got.len());
        st.reactor_perform();
        let before = got.len();
        if let Some(m) = st.tcp(s).unwrap().zc_recv() {
            got.extend(m.iter().flatten().copied());
        }
        check(&got, before);
    }
    assert_eq!(got.len(), sent);
    if free_server_first {
        st.free(s).unwrap();
        st.free(c).unwrap();
    } else {
        st.free(c).unwrap();
        st.free(s).unwrap();
    }
    st.free(l).unwrap();
    assert_eq!(
        st.object_count(),
        0,
        "the stack owns nothing after the frees"
    );
}

#[test]
fn random_operations_keep_the_stream_exact() {
    in_netns("random_operations_keep_the_stream_exact", || {
        let port = std::cell::Cell::new(10_000u16);
        let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        });
        runner
            .run(
                &(prop::collection::vec(op(), 1..60), any::<bool>()),
                |(ops, first)| {
                    port.set(port.get() + 1);
                    run_case(port.get(), &ops, first);
                    Ok(())
                },
            )
            .unwrap();
    });
}
