//! Many kernel clients connecting to one listening zocket at the same moment, served by a loop
//! shaped like the SDK's `zftcpmtpong`: it calls `zf_muxer_wait` only while
//! `zf_stack_has_pending_work` says so, and accepts one connection per listener event. Every
//! client must be accepted and answered. Each test runs in a network namespace of its own.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::raw::c_int;
use std::sync::{Arc, Barrier};
use std::time::Instant;

use common::*;
use testkit::{Netns, run_in};
use zf_sys::*;

/// Muxer data of the listener's waitable; accepted zockets get their index + 1.
const LISTENER: u64 = 0;

/// What one accepted connection has received and not yet echoed.
struct Conn {
    z: *mut zft,
    pending: Vec<u8>,
    eof: bool,
}

/// Serves `clients` simultaneous kernel clients; returns how many were answered in full.
fn serve_burst(clients: usize, port: u16) -> usize {
    let (st, a) = stack_with(&[("max_tcp_endpoints", 64)]);
    let la = sin(lo(port));
    let (p, l) = sa(&la);
    let mut tl = std::ptr::null_mut();
    // SAFETY: live stack, valid address and out pointer.
    assert_eq!(unsafe { zftl_listen(st, p, l, a, &mut tl) }, 0);
    // SAFETY: a live zocket's waitable.
    let mux = muxer_with(
        st,
        unsafe { zftl_to_waitable(tl) },
        libc::EPOLLIN as u32,
        LISTENER,
    );

    // All clients connect at once (released together by the barrier), send a line naming
    // themselves and expect it echoed.
    let go = Arc::new(Barrier::new(clients));
    let peers: Vec<_> = (0..clients)
        .map(|i| {
            let go = go.clone();
            std::thread::spawn(move || {
                go.wait();
                let mut s = TcpStream::connect(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
                    .expect("connect");
                s.set_read_timeout(Some(LIMIT)).unwrap();
                let msg = format!("client {i} says hello\n").into_bytes();
                s.write_all(&msg).unwrap();
                s.shutdown(std::net::Shutdown::Write).unwrap();
                let mut back = Vec::new();
                s.read_to_end(&mut back).is_ok() && back == msg
            })
        })
        .collect();

    let mut conns: Vec<Conn> = Vec::new();
    let mut finished = 0;
    let mut evs = [epoll_event::default(); 8];
    let mut msg = TcpMsg::<4>::new();
    let t0 = Instant::now();
    while finished < clients && t0.elapsed() < LIMIT {
        // SAFETY: live stack (the check may run without the stack's lock).
        if unsafe { zf_stack_has_pending_work(st) } == 0 {
            continue;
        }
        // SAFETY: live muxer; evs has 8 entries.
        let n = unsafe { zf_muxer_wait(mux, evs.as_mut_ptr(), evs.len() as c_int, 0) };
        for e in &evs[..n.max(0) as usize] {
            // SAFETY: union of plain integers.
            let d = unsafe { e.data.u64_ };
            if d == LISTENER {
                let mut z = std::ptr::null_mut();
                // SAFETY: live listener, valid out pointer.
                let rc = unsafe { zftl_accept(tl, &mut z) };
                assert_eq!(rc, 0, "listener event, no zocket");
                conns.push(Conn {
                    z,
                    pending: Vec::new(),
                    eof: false,
                });
                let ev = epoll_event {
                    events: libc::EPOLLIN as u32,
                    data: epoll_data {
                        u64_: conns.len() as u64,
                    },
                };
                // SAFETY: live muxer and zocket waitable.
                assert_eq!(unsafe { zf_muxer_add(mux, zft_to_waitable(z), &ev) }, 0);
                continue;
            }
            let c = &mut conns[d as usize - 1];
            // SAFETY: live zocket; the message has room for 4 iovecs.
            unsafe { zft_zc_recv(c.z, msg.ptr(), 0) };
            for v in &msg.iov[..msg.m.iovcnt as usize] {
                if v.iov_len == 0 {
                    c.eof = true;
                } else {
                    // SAFETY: the zocket's buffer, valid until zft_zc_recv_done.
                    let b = unsafe { std::slice::from_raw_parts(v.iov_base.cast(), v.iov_len) };
                    c.pending.extend_from_slice(b);
                }
            }
            if msg.m.iovcnt > 0 {
                // SAFETY: live zocket; the message zft_zc_recv filled.
                unsafe { zft_zc_recv_done(c.z, msg.ptr()) };
            }
        }
        for c in conns.iter_mut().filter(|c| !c.z.is_null()) {
            if !c.pending.is_empty() {
                // SAFETY: live zocket; buffer valid for its length.
                let s =
                    unsafe { zft_send_single(c.z, c.pending.as_ptr().cast(), c.pending.len(), 0) };
                if s > 0 {
                    c.pending.drain(..s as usize);
                }
            }
            if c.eof && c.pending.is_empty() {
                // SAFETY: live zocket, in the muxer; freed once (its close carries on).
                unsafe {
                    assert_eq!(zf_muxer_del(zft_to_waitable(c.z)), 0);
                    assert_eq!(zft_free(c.z), 0);
                }
                c.z = std::ptr::null_mut();
                finished += 1;
            }
        }
    }
    let answered = peers
        .into_iter()
        .map(|p| p.join().unwrap_or(false))
        .filter(|&ok| ok)
        .count();
    eprintln!(
        "{clients} clients: {} accepted, {finished} finished, {answered} answered",
        conns.len()
    );
    // SAFETY: live objects, each freed once.
    unsafe {
        for c in conns.iter().filter(|c| !c.z.is_null()) {
            zft_free(c.z);
        }
        assert_eq!(zftl_free(tl), 0);
        zf_muxer_free(mux);
    }
    free_stack(st, a);
    answered
}

fn burst_test(test: &str, tag: u8, clients: usize) {
    let Some(ns) = Netns::create(test) else {
        return;
    };
    let answered = run_in(&ns, move || serve_burst(clients, 7000 + tag as u16))
        .join()
        .expect("server thread");
    assert_eq!(answered, clients, "every client accepted and answered");
}

#[test]
fn eight_clients_connecting_at_once_are_all_served() {
    isolated!("eight_clients_connecting_at_once_are_all_served");
    skip_unless_soft!();
    burst_test("eight_clients_connecting_at_once_are_all_served", 81, 8);
}

#[test]
fn sixty_four_clients_connecting_at_once_are_all_served() {
    isolated!("sixty_four_clients_connecting_at_once_are_all_served");
    skip_unless_soft!();
    burst_test(
        "sixty_four_clients_connecting_at_once_are_all_served",
        82,
        64,
    );
}

#[test]
fn a_stack_holds_at_most_64_tcp_zockets() {
    isolated!("a_stack_holds_at_most_64_tcp_zockets");
    skip_unless_soft!();
    // As TCPDirect, whose zocket ids run to 63: 64 is the most a stack may ask for.
    // SAFETY: zf_init may be called before anything else.
    unsafe { zf_init() };
    let a = attr();
    set_int(a, "max_tcp_endpoints", 65);
    let mut st = std::ptr::null_mut();
    // SAFETY: valid attribute object and out pointer.
    let rc = unsafe { zf_stack_alloc(a, &mut st) };
    assert_eq!(rc, -libc::EINVAL, "65 endpoints");
    // SAFETY: freed once.
    unsafe { zf_attr_free(a) };
    let (st, a) = stack_with(&[("max_tcp_endpoints", 64)]);
    let mut handles = Vec::new();
    for i in 0..64 {
        let mut h = std::ptr::null_mut();
        // SAFETY: live stack and attributes, valid out pointer.
        assert_eq!(unsafe { zft_alloc(st, a, &mut h) }, 0, "zocket {i}");
        handles.push(h);
    }
    let mut h = std::ptr::null_mut();
    // SAFETY: as above.
    let rc = unsafe { zft_alloc(st, a, &mut h) };
    assert_eq!(rc, -libc::ENOBUFS, "the 65th");
    for h in handles {
        // SAFETY: live handles, each freed once.
        assert_eq!(unsafe { zft_handle_free(h) }, 0);
    }
    free_stack(st, a);
}
