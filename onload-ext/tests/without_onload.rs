//! Every call outside Onload gives the answer of the vendor stub library (sdk-inventory §3.1),
//! through the safe types; guards behave on drop and on panic; bad descriptors give clear
//! errors. These hold for onload-sys's software backend and for the vendor's `libonload_ext`
//! alike. No test here touches a network: sockets are created but never bound or connected.

use onload_ext::*;
use std::io::IoSlice;
use std::net::{TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};

/// Fails loudly when run under Onload, where these answers do not apply.
fn outside_onload() {
    assert!(
        !is_present(),
        "these tests check the answers outside Onload; run them without `onload`"
    );
}

fn udp() -> UdpSocket {
    UdpSocket::from(socket_nonaccel(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap())
}

fn tcp() -> TcpStream {
    TcpStream::from(socket_nonaccel(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap())
}

fn assert_unsupported<T: std::fmt::Debug>(r: Result<T>, call: &str) {
    match r {
        Err(e @ Error::Unsupported { .. }) => {
            assert_eq!(e.call(), call);
            assert_eq!(e.raw_os_error(), Some(libc::ENOSYS));
            assert!(e.to_string().contains(call), "message names the call: {e}");
        }
        other => panic!("{call}: expected Error::Unsupported, got {other:?}"),
    }
}

/// A descriptor number that is certainly not open (far above any open-files limit; a number
/// just closed could be reused at once by another test thread).
fn closed_fd() -> i32 {
    i32::MAX - 1
}

#[test]
fn presence_and_backend() {
    outside_onload();
    assert!(!is_present());
    assert!(!backend().linked.is_empty());
    assert_eq!(check_version(), Ok(()));
}

#[test]
fn setters_succeed_without_effect() {
    outside_onload();
    set_stackname(Who::ThisThread, Scope::Thread, StackName::Named("s1")).unwrap();
    set_stackname(Who::AllThreads, Scope::Global, StackName::DontAccelerate).unwrap();
    stack_opt_set_int("EF_SPIN_USEC", 100).unwrap();
    stack_opt_set_str("EF_NAME", "x").unwrap();
    stack_opt_reset().unwrap();
    thread_set_spin(SpinType::All, true).unwrap();
    thread_set_spin(SpinType::UdpRecv, false).unwrap();
}

#[test]
fn queries_are_unsupported() {
    outside_onload();
    assert_unsupported(
        stack_opt_get_int("EF_SPIN_USEC"),
        "onload_stack_opt_get_int",
    );
    assert_unsupported(stack_opt_get_str("EF_NAME"), "onload_stack_opt_get_str");
    assert_unsupported(thread_get_spin(), "onload_thread_get_spin");
    let s = udp();
    assert_unsupported(
        check_feature(&s, Feature::MsgWarm),
        "onload_fd_check_feature",
    );
}

#[test]
fn fd_stat_says_not_accelerated() {
    outside_onload();
    let s = udp();
    assert_eq!(fd_stat(&s).unwrap(), FdStat::NotAccelerated);
    assert!(!fd_stat(&s).unwrap().is_accelerated());
    assert_eq!(fd_stat(&tcp()).unwrap(), FdStat::NotAccelerated);
    // Anything with a descriptor: a file, a raw fd number.
    let f = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(fd_stat(&f).unwrap(), FdStat::NotAccelerated);
    assert_eq!(fd_stat(&f.as_raw_fd()).unwrap().stat(), None);
}

#[test]
fn move_fd_and_stack_sync_report_success() {
    outside_onload();
    let t = tcp();
    move_fd(&t).unwrap();
    zc_await_stack_sync(&t).unwrap();
}

#[test]
fn tcp_info_fails_with_einval() {
    outside_onload();
    let e = get_tcp_info(&tcp()).unwrap_err();
    assert!(matches!(e, Error::Os { .. }), "{e:?}");
    assert_eq!(e.call(), "onload_get_tcp_info");
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
}

#[test]
fn nonaccel_sockets_are_kernel_sockets() {
    outside_onload();
    type Maker = fn(i32, i32, i32) -> Result<OwnedFd>;
    for (name, f) in [
        ("onload_socket_nonaccel", socket_nonaccel as Maker),
        ("onload_socket_unicast_nonaccel", socket_unicast_nonaccel),
        ("onload_socket_rx_nonaccel", socket_rx_nonaccel),
    ] {
        let fd = f(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap();
        let s = UdpSocket::from(fd);
        assert_eq!(fd_stat(&s).unwrap(), FdStat::NotAccelerated);
        // SAFETY: fcntl on an open descriptor.
        let fdflags = unsafe { libc::fcntl(s.as_raw_fd(), libc::F_GETFD) };
        assert_ne!(
            fdflags & libc::FD_CLOEXEC,
            0,
            "{name}: close-on-exec, as std does"
        );
        let e = f(-1, libc::SOCK_DGRAM, 0).unwrap_err();
        assert_eq!(e.call(), name);
        assert_eq!(e.raw_os_error(), Some(libc::EAFNOSUPPORT));
    }
}

#[test]
fn zero_copy_is_unsupported() {
    outside_onload();
    let s = udp();
    assert_unsupported(
        ZcBuffer::alloc(&s, 2, BufferHeaders::Udp),
        "onload_zc_alloc_buffers",
    );
    let mut kept = Vec::new();
    let mut called = false;
    assert_unsupported(
        zc_recv(&s, ZcRecvFlags::DONTWAIT, &mut kept, |_| {
            called = true;
            ZcAction::Continue
        }),
        "onload_zc_recv",
    );
    assert!(!called, "the callback never runs without Onload");
    assert!(kept.is_empty());
    assert_unsupported(set_recv_filter(&s, |_msg| {}), "onload_set_recv_filter");
    let mut buf = [0u8; 16];
    assert_unsupported(recvmsg_kernel(&s, &mut buf, 0), "onload_recvmsg_kernel");
}

#[test]
fn templates_are_unsupported() {
    outside_onload();
    let t = tcp();
    assert_unsupported(
        Template::new(&t, &[b"hello"], TemplateOptions::default()),
        "onload_msg_template_alloc",
    );
    assert_unsupported(
        Template::new(&t, &[b"a", b"b"], TemplateOptions { pio_retry: true }),
        "onload_msg_template_alloc",
    );
}

#[test]
fn delegated_send_reports_bad_socket() {
    outside_onload();
    let mut t = tcp();
    match DelegatedSend::prepare(&mut t, 1000, DelegatedSendFlags::NONE) {
        Err(Error::DelegatedSend { call, refusal }) => {
            assert_eq!(call, "onload_delegated_send_prepare");
            assert_eq!(refusal, DelegatedSendRefusal::BadSocket);
        }
        other => panic!("expected BadSocket, got {other:?}"),
    }
    let _ = IoSlice::new(b""); // (complete/cancel are reachable only after a prepare)
}

#[test]
fn ordered_epoll_and_timestamping_are_unsupported() {
    outside_onload();
    // SAFETY: epoll_create1 has no pointer arguments; the fd is owned below.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(ep >= 0);
    // SAFETY: `ep` is a new descriptor owned by nobody else.
    let ep = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ep) };
    let mut oe = OrderedEpoll::with_capacity(4);
    assert_unsupported(
        oe.wait(&ep, Some(std::time::Duration::ZERO))
            .map(|i| i.count()),
        "onload_ordered_epoll_wait",
    );
    assert_unsupported(
        timestamping_request(
            &udp(),
            TimestampingFlags::RX_NIC | TimestampingFlags::TX_NIC,
        ),
        "onload_timestamping_request",
    );
}

#[test]
fn stack_name_guard_on_drop_and_on_panic() {
    outside_onload();
    {
        let _g =
            StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("a")).unwrap();
        let _h = StackNameGuard::new(Who::AllThreads, Scope::Process, StackName::DontAccelerate)
            .unwrap();
    }
    StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("b"))
        .unwrap()
        .restore()
        .unwrap();
    let r = std::panic::catch_unwind(|| {
        let _g =
            StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("p")).unwrap();
        panic!("inside the guard");
    });
    assert!(r.is_err());
}

#[test]
fn spin_guard_without_onload_knows_no_previous_setting() {
    outside_onload();
    let g = SpinGuard::new(SpinType::TcpRecv, true).unwrap();
    assert_eq!(g.previous(), None, "thread_get_spin is unsupported here");
    g.restore().unwrap();
    let r = std::panic::catch_unwind(|| {
        let _g = SpinGuard::new(SpinType::All, true).unwrap();
        panic!("inside the guard");
    });
    assert!(r.is_err());
}

#[test]
fn bad_names_are_invalid_arguments() {
    let e =
        StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("a\0b")).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    assert!(e.to_string().contains("NUL"), "{e}");
    assert!(matches!(
        stack_opt_set_int("EF\0X", 1),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        stack_opt_set_str("EF_X", "a\0"),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        stack_opt_get_int("\0"),
        Err(Error::InvalidArgument { .. })
    ));
}

#[test]
fn bad_fds_give_clear_errors() {
    let closed = closed_fd();
    for (call, r) in [
        ("onload_fd_stat", fd_stat(&closed).map(|_| ())),
        ("onload_fd_stat", fd_stat(&-1).map(|_| ())),
        (
            "onload_fd_check_feature",
            check_feature(&closed, Feature::MsgWarm).map(|_| ()),
        ),
        ("onload_move_fd", move_fd(&closed)),
        ("onload_get_tcp_info", get_tcp_info(&closed).map(|_| ())),
        (
            "onload_timestamping_request",
            timestamping_request(&closed, TimestampingFlags::RX_NIC),
        ),
        ("onload_zc_await_stack_sync", zc_await_stack_sync(&closed)),
    ] {
        match r {
            Err(e @ Error::BadFd { .. }) => {
                assert_eq!(e.call(), call);
                assert_eq!(e.raw_os_error(), Some(libc::EBADF));
                assert!(e.to_string().contains("is not open"), "{e}");
            }
            other => panic!("{call}: expected BadFd, got {other:?}"),
        }
    }
    // An open descriptor that is not a socket, where a socket is needed.
    let f = std::fs::File::open("/dev/null").unwrap();
    let checks: Vec<Result<()>> = vec![
        move_fd(&f),
        check_feature(&f, Feature::MsgWarm).map(|_| ()),
        get_tcp_info(&f).map(|_| ()),
        ZcBuffer::alloc(&f, 1, BufferHeaders::None).map(|_| ()),
        Template::new(&f, &[b"x"], TemplateOptions::default()).map(|_| ()),
    ];
    for r in checks {
        match r {
            Err(e @ Error::NotASocket { .. }) => {
                assert_eq!(
                    e.to_string(),
                    format!(
                        "{}: file descriptor {} is not a socket",
                        e.call(),
                        f.as_raw_fd()
                    )
                );
            }
            other => panic!("expected NotASocket, got {other:?}"),
        }
    }
    let mut oe = OrderedEpoll::with_capacity(1);
    assert!(matches!(
        oe.wait(&closed, None).map(|i| i.count()),
        Err(Error::BadFd { .. })
    ));
}

#[test]
fn zero_counts_are_invalid_arguments() {
    let s = udp();
    assert!(matches!(
        ZcBuffer::alloc(&s, 0, BufferHeaders::Udp),
        Err(Error::InvalidArgument { .. })
    ));
    let t = tcp();
    assert!(matches!(
        Template::new(&t, &[], TemplateOptions::default()),
        Err(Error::InvalidArgument { .. })
    ));
    let mut none: Vec<ZcBuffer<'_>> = Vec::new();
    let e = zc_send(&s, &mut none, None, ZcSendFlags::NONE).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    assert!(e.to_string().contains("1 to 64 buffers"), "{e}");
}

#[test]
fn guards_and_objects_are_thread_bound_or_send_as_documented() {
    fn is_send<T: Send>() {}
    is_send::<ZcBuffer<'static>>();
    is_send::<KeptMessage<'static>>();
    is_send::<Template<'static>>();
    is_send::<DelegatedSend<'static>>();
    is_send::<Error>();
}
