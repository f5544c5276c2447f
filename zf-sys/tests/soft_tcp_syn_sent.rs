//! A send on a zocket whose connection is still being set up (SYN_SENT) is "try again later",
//! as in TCPDirect, not "not connected". Runs in a network namespace of its own.

mod common;

use common::*;
use zf_sys::*;

#[test]
fn send_in_syn_sent_is_eagain() {
    isolated!("send_in_syn_sent_is_eagain");
    skip_unless_soft!();
    testkit::in_netns("send_in_syn_sent_is_eagain", || {
        let (st, a) = stack_with(&[]);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let to = match listener.local_addr().unwrap() {
            std::net::SocketAddr::V4(v4) => v4,
            other => panic!("not IPv4: {other}"),
        };
        let z = start_connect(st, a, to);
        assert_eq!(state(z), TCP_SYN_SENT, "no reactor pass yet");
        let rc = send(z, b"too early");
        eprintln!("zft_send in SYN_SENT: {rc}");
        assert_eq!(rc, -(libc::EAGAIN as isize), "SYN_SENT: try again later");
        poll_until(st, "ESTABLISHED", || state(z) == TCP_ESTABLISHED);
        assert_eq!(send(z, b"now"), 3);
        // SAFETY: live zocket, freed once.
        assert_eq!(unsafe { zft_free(z) }, 0);
        free_stack(st, a);
    });
}
