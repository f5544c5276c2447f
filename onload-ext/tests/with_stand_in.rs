//! The safe types against a stand-in for Onload: each test re-runs itself in a child process
//! with a stand-in `libonload.so` preloaded (as `onload ./app` preloads the real one), so the
//! calls reach the stand-in's definitions and the safe types must handle its answers:
//! accelerated `fd_stat`, zero-copy buffers kept and released, templates sent and aborted,
//! delegated-send headers. Leaks are checked with the stand-in's own counters.
//!
//! The stand-in is testkit's `c/fake_onload.c` (shared with onload-sys's tests) plus
//! `c/stand_in_onload_ext.c`, compiled together into one shared library. Tests that send
//! run the child inside a network namespace of its own (also unprivileged, through a user
//! namespace entered at start).

// Unprivileged runs enter a user namespace of their own at start, so that a test can have a
// network namespace of its own.
testkit::enter_user_namespace_at_start!();

use onload_ext::*;
use std::ffi::c_int;
use std::io::{IoSlice, Read};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const CHILD_ENV: &str = "ONLOAD_EXT_STAND_IN_CHILD";

fn in_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// Builds the stand-in library once per test process.
fn stand_in_library() -> &'static PathBuf {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        // Built under a name of this process, then renamed into place (atomically, so that
        // concurrent test runs never see a half-written library).
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        let tmp = dir.join(format!("onload-ext-stand-in-{}.so", std::process::id()));
        let out = dir.join("onload-ext-stand-in.so");
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = Command::new(&cc)
            .args(["-shared", "-fPIC", "-Wall", "-Werror", "-I"])
            .arg(format!("{root}/vendor-headers"))
            .arg("-o")
            .arg(&tmp)
            .arg(testkit::STAND_IN_ONLOAD_EXT_C)
            .arg(testkit::FAKE_ONLOAD_C)
            .status();
        match status {
            Ok(s) if s.success() => {
                std::fs::rename(&tmp, &out).expect("move the stand-in library into place");
                out
            }
            other => panic!("could not build the stand-in library with {cc}: {other:?}"),
        }
    })
}

/// Runs test `name` of this binary again, with the stand-in preloaded, inside a network
/// namespace of its own when `netns_tag` is given; fails unless the child ran and passed it.
fn run_preloaded(name: &str, netns_tag: Option<u8>) {
    let lib = stand_in_library().clone();
    let exe = std::env::current_exe().unwrap();
    let child = name.to_owned();
    let isolate = netns_tag.is_some();
    // The child starts from a thread in a network namespace of its own, which it inherits.
    let out = std::thread::spawn(move || {
        if isolate {
            if let Err(why) = testkit::isolate_thread_network() {
                panic!("{child}: cannot run: it needs a network namespace: {why}");
            }
        }
        Command::new(&exe)
            .args(["--exact", &child, "--nocapture", "--test-threads=1"])
            .env("LD_PRELOAD", &lib)
            .env(CHILD_ENV, "1")
            .output()
            .unwrap()
    })
    .join()
    .unwrap_or_else(|p| std::panic::resume_unwind(p));
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{name} failed under the stand-in:\n{text}"
    );
    assert!(
        text.contains("1 passed"),
        "{name}: the child ran no test:\n{text}"
    );
}

/// Reads one of the stand-in's counters.
fn counter(name: &str) -> c_int {
    let sym = std::ffi::CString::new(name).unwrap();
    // SAFETY: dlsym with a NUL-terminated name.
    let p = unsafe { libc::dlsym(libc::RTLD_DEFAULT, sym.as_ptr()) };
    assert!(
        !p.is_null(),
        "the stand-in library is not loaded ({name} missing)"
    );
    // SAFETY: the stand-in defines `int name(void)`.
    let f: extern "C" fn() -> c_int = unsafe { std::mem::transmute(p) };
    f()
}

fn zc_outstanding() -> c_int {
    counter("stand_in_zc_outstanding")
}

fn templates_outstanding() -> c_int {
    counter("stand_in_templates_outstanding")
}

fn udp_unbound() -> UdpSocket {
    UdpSocket::from(socket_nonaccel(libc::AF_INET, libc::SOCK_DGRAM, 0).unwrap())
}

/// The stack name the stand-in reports for a new socket (its current per-thread name).
fn current_stack_name() -> Option<String> {
    match fd_stat(&udp_unbound()).unwrap() {
        FdStat::Accelerated(s) => s.stack_name,
        FdStat::NotAccelerated => panic!("the stand-in accelerates every socket"),
    }
}

#[test]
fn accelerated_fd_stat_and_queries() {
    if !in_child() {
        return run_preloaded("accelerated_fd_stat_and_queries", None);
    }
    assert!(is_present());
    let s = udp_unbound();
    let st = fd_stat(&s).unwrap();
    let st: &OnloadStat = st.stat().expect("accelerated");
    assert_eq!(st.stack_id, 7);
    assert_eq!(st.stack_name.as_deref(), Some("default"));
    assert_eq!(st.endpoint_id, s.as_raw_fd());
    assert_eq!(st.endpoint_state, 0x55);
    let f = std::fs::File::open("/dev/null").unwrap();
    assert_eq!(fd_stat(&f).unwrap(), FdStat::NotAccelerated);
    assert_eq!(
        check_feature(&s, Feature::MsgWarm).unwrap(),
        FeatureSupport::Supported
    );
    assert_eq!(
        check_feature(&s, Feature::UdpTxTsHdr).unwrap(),
        FeatureSupport::NotSupported
    );
    let info = get_tcp_info(&s).unwrap();
    assert_eq!(
        (info.so_recvbuf, info.snd_mss, info.cong_window),
        (1001, 1448, 14480)
    );
    assert_eq!(info.filled_len, std::mem::size_of::<ffi::onload_tcp_info>());
    assert_eq!(thread_get_spin().unwrap(), SpinMask(0x5a5a));
    assert_eq!(stack_opt_get_int("EF_SPIN_USEC").unwrap(), 4242);
    timestamping_request(&s, TimestampingFlags::RX_NIC).unwrap();
}

#[test]
fn stack_name_guard_restores_on_drop_and_on_panic() {
    if !in_child() {
        return run_preloaded("stack_name_guard_restores_on_drop_and_on_panic", None);
    }
    assert_eq!(current_stack_name().as_deref(), Some("default"));
    {
        let _a =
            StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("ext_a")).unwrap();
        assert_eq!(current_stack_name().as_deref(), Some("ext_a"));
        {
            let _b =
                StackNameGuard::new(Who::ThisThread, Scope::Process, StackName::Named("ext_b"))
                    .unwrap();
            assert_eq!(current_stack_name().as_deref(), Some("ext_b"));
        }
        assert_eq!(current_stack_name().as_deref(), Some("ext_a"));
    }
    assert_eq!(current_stack_name().as_deref(), Some("default"));
    let r = std::panic::catch_unwind(|| {
        let _g =
            StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named("ext_p")).unwrap();
        assert_eq!(current_stack_name().as_deref(), Some("ext_p"));
        panic!("unwinding through the guard");
    });
    assert!(r.is_err());
    assert_eq!(
        current_stack_name().as_deref(),
        Some("default"),
        "restored while unwinding"
    );
    // Setting fails (the stand-in refuses names of 64 bytes or more): the save is undone.
    let long = "n".repeat(80);
    let e =
        StackNameGuard::new(Who::ThisThread, Scope::Thread, StackName::Named(&long)).unwrap_err();
    assert_eq!(e.call(), "onload_set_stackname");
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    assert_eq!(
        counter("stand_in_saved_depth"),
        0,
        "every save was restored"
    );
    assert_eq!(current_stack_name().as_deref(), Some("default"));
}

#[test]
fn spin_guard_reads_the_previous_setting() {
    if !in_child() {
        return run_preloaded("spin_guard_reads_the_previous_setting", None);
    }
    let g = SpinGuard::new(SpinType::UdpRecv, true).unwrap();
    assert_eq!(g.previous(), Some(SpinMask(0x5a5a)));
    assert!(SpinMask(0x5a5a).contains(SpinType::UdpRecv)); // bit 1
    assert!(!SpinMask(0x5a5a).contains(SpinType::All));
    g.restore().unwrap();
}

#[test]
fn zc_buffers_are_released_on_drop() {
    if !in_child() {
        return run_preloaded("zc_buffers_are_released_on_drop", None);
    }
    let s = udp_unbound();
    {
        let mut bufs = ZcBuffer::alloc(&s, 3, BufferHeaders::Udp).unwrap();
        assert_eq!(zc_outstanding(), 3);
        assert_eq!(bufs[0].capacity(), 2048);
        bufs[0].fill(b"abc").unwrap();
        assert_eq!(bufs[0].as_slice(), b"abc");
        let e = bufs[1].set_len(4096).unwrap_err();
        assert!(
            e.to_string().contains("exceeds the buffer's capacity 2048"),
            "{e}"
        );
        drop(bufs.pop());
        assert_eq!(zc_outstanding(), 2);
    }
    assert_eq!(
        zc_outstanding(),
        0,
        "dropping the Vec released every buffer"
    );
}

#[test]
fn zc_send_then_receive_keeping_one_message() {
    if !in_child() {
        return run_preloaded("zc_send_then_receive_keeping_one_message", Some(131));
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let rx_addr = rx.local_addr().unwrap();
    let tx_addr = tx.local_addr().unwrap();

    // A send that fails leaves the buffers with the caller.
    let mut bufs = ZcBuffer::alloc(&tx, 2, BufferHeaders::Udp).unwrap();
    bufs[0].fill(b"hello ").unwrap();
    bufs[1].fill(b"world").unwrap();
    let port0: SocketAddr = "127.0.0.1:0".parse().unwrap();
    let e = zc_send(&tx, &mut bufs, Some(port0), ZcSendFlags::NONE).unwrap_err();
    assert_eq!(e.call(), "onload_zc_send");
    assert_eq!(bufs.len(), 2, "still ours after a failed send");
    // A warm send sends nothing and leaves them too.
    assert_eq!(
        zc_send(&tx, &mut bufs, Some(rx_addr), ZcSendFlags::WARM).unwrap(),
        11
    );
    assert_eq!(bufs.len(), 2);
    // Buffers of another socket are refused.
    let other = udp_unbound();
    let mut foreign = ZcBuffer::alloc(&other, 1, BufferHeaders::Udp).unwrap();
    foreign[0].fill(b"x").unwrap();
    assert!(matches!(
        zc_send(&tx, &mut foreign, Some(rx_addr), ZcSendFlags::NONE),
        Err(Error::InvalidArgument { .. })
    ));
    drop(foreign);
    // A real send: Onload takes the buffers.
    assert_eq!(
        zc_send(&tx, &mut bufs, Some(rx_addr), ZcSendFlags::NONE).unwrap(),
        11
    );
    assert!(bufs.is_empty());
    assert_eq!(zc_outstanding(), 0);

    // A second datagram big enough to arrive in two chained buffers.
    let big: Vec<u8> = (0..1500u32).map(|i| i as u8).collect();
    tx.send_to(&big, rx_addr).unwrap();

    let mut kept = Vec::new();
    let mut seen = Vec::new();
    zc_recv(&rx, ZcRecvFlags::NONE, &mut kept, |msg| {
        seen.push((msg.len(), msg.num_buffers(), msg.peer()));
        if msg.len() == 11 {
            assert_eq!(msg.to_vec(), b"hello world");
            ZcAction::Continue
        } else {
            ZcAction::KeepAndStop
        }
    })
    .unwrap();
    assert_eq!(seen, vec![(11, 1, Some(tx_addr)), (1500, 2, Some(tx_addr))]);
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].to_vec(), big, "kept data readable after the call");
    assert_eq!(kept[0].buffers().count(), 2);
    assert_eq!(kept[0].peer(), Some(tx_addr));
    assert_eq!(zc_outstanding(), 2, "the kept message's two buffers");
    // Kept messages may move to another thread and be released there.
    let handle = std::thread::scope(|s| s.spawn(move || drop(kept)).join());
    assert!(handle.is_ok());
    assert_eq!(
        zc_outstanding(),
        0,
        "released through the first buffer's handle"
    );
}

#[test]
fn zc_recv_callback_panic_does_not_cross_into_c() {
    if !in_child() {
        return run_preloaded("zc_recv_callback_panic_does_not_cross_into_c", Some(132));
    }
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    for m in [&b"one"[..], b"two", b"three"] {
        tx.send_to(m, rx.local_addr().unwrap()).unwrap();
    }
    let mut kept = Vec::new();
    let mut calls = 0;
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        zc_recv(&rx, ZcRecvFlags::NONE, &mut kept, |msg| {
            calls += 1;
            if msg.to_vec() == b"two" {
                panic!("callback failure");
            }
            ZcAction::Keep
        })
    }));
    let payload = r.expect_err("the panic resumes after onload_zc_recv returns");
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"callback failure"));
    assert_eq!(calls, 2, "receiving stopped at the panic");
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].to_vec(), b"one");
    assert_eq!(
        zc_outstanding(),
        1,
        "the panicking message went back to Onload"
    );
    drop(kept);
    assert_eq!(zc_outstanding(), 0);
    // The third datagram is still there for the next call.
    let mut kept = Vec::new();
    zc_recv(&rx, ZcRecvFlags::DONTWAIT, &mut kept, |msg| {
        assert_eq!(msg.to_vec(), b"three");
        ZcAction::Stop
    })
    .unwrap();
}

#[test]
fn templates_are_sent_or_aborted_never_leaked() {
    if !in_child() {
        return run_preloaded("templates_are_sent_or_aborted_never_leaked", Some(133));
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut peer, _) = listener.accept().unwrap();

    let mut t =
        Template::new(&stream, &[b"PRICE ", b"0000\n"], TemplateOptions::default()).unwrap();
    assert_eq!(t.len(), 11);
    assert_eq!(templates_outstanding(), 1);
    t.update(6, b"12").unwrap();
    let e = t.update(9, b"999").unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    assert!(
        e.to_string().contains("runs past the 11-byte template"),
        "{e}"
    );
    t.update_and_send(&[(8, b"34")], false).unwrap();
    assert_eq!(templates_outstanding(), 0, "Onload owns it once sent");
    assert_eq!(counter("stand_in_templates_sent"), 1);
    let mut got = [0u8; 11];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"PRICE 1234\n");

    drop(Template::new(&stream, &[b"dropped"], TemplateOptions::default()).unwrap());
    assert_eq!(templates_outstanding(), 0, "drop aborts");
    Template::new(&stream, &[b"aborted"], TemplateOptions { pio_retry: true })
        .unwrap()
        .abort()
        .unwrap();
    assert_eq!(templates_outstanding(), 0);
    let r = std::panic::catch_unwind(|| {
        let _t = Template::new(&stream, &[b"unwound"], TemplateOptions::default()).unwrap();
        panic!("while a template is open");
    });
    assert!(r.is_err());
    assert_eq!(templates_outstanding(), 0, "aborted while unwinding");
    assert_eq!(counter("stand_in_templates_sent"), 1);
}

#[test]
fn delegated_send_with_typed_headers() {
    if !in_child() {
        return run_preloaded("delegated_send_with_typed_headers", None);
    }
    let mut sock = TcpStream::from(socket_nonaccel(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap());
    let cancelled = counter("stand_in_ds_cancelled");
    let mut ds = DelegatedSend::prepare(&mut sock, 3000, DelegatedSendFlags::NONE).unwrap();
    let h = ds.headers();
    assert_eq!(h.as_bytes().len(), 54);
    assert_eq!(h.dst_mac(), [2, 0, 0, 0, 0, 2]);
    assert_eq!(h.src_mac(), [2, 0, 0, 0, 0, 1]);
    assert_eq!((h.ip_offset(), h.tcp_offset()), (14, 34));
    assert_eq!((h.tcp_seq(), h.tcp_ack()), (0x0102_0304, 0x0a0b_0c0d));
    assert_eq!((h.tcp_flags(), h.tcp_window()), (0x10, 512));
    assert_eq!((ds.mss(), ds.remaining()), (1448, 3000));
    let h = ds.packet(100, true).unwrap();
    assert_eq!(h.ip_total_len(), 140);
    assert_eq!(h.tcp_flags(), 0x18, "PSH set");
    ds.advance(100).unwrap();
    assert_eq!(ds.headers().tcp_seq(), 0x0102_0304 + 100);
    assert_eq!(ds.remaining(), 2900);
    assert!(matches!(
        ds.packet(0, false),
        Err(Error::InvalidArgument { .. })
    ));
    assert!(matches!(
        ds.advance(1449),
        Err(Error::InvalidArgument { .. })
    ));
    assert_eq!(ds.complete(&[IoSlice::new(&[7u8; 100])], 0).unwrap(), 100);
    assert_eq!(counter("stand_in_ds_completed"), 100);
    drop(ds);
    assert_eq!(
        counter("stand_in_ds_cancelled"),
        cancelled + 1,
        "drop cancels"
    );
    // A non-socket is refused before Onload sees it.
    let mut f = std::fs::File::open("/dev/null").unwrap();
    assert!(matches!(
        DelegatedSend::prepare(&mut f, 10, DelegatedSendFlags::IGNORE_ARP),
        Err(Error::NotASocket { .. })
    ));
}

#[test]
fn string_option_grows_its_buffer_and_move_fd_reports_failure() {
    if !in_child() {
        return run_preloaded(
            "string_option_grows_its_buffer_and_move_fd_reports_failure",
            None,
        );
    }
    let v = stack_opt_get_str("EF_NAME").unwrap();
    assert_eq!(v.len(), 199, "longer than the first buffer offered");
    assert!(v.starts_with("EF_NAMEvvv"));
    let tcp = TcpStream::from(socket_nonaccel(libc::AF_INET, libc::SOCK_STREAM, 0).unwrap());
    move_fd(&tcp).unwrap();
    let e = move_fd(&udp_unbound()).unwrap_err();
    assert!(matches!(e, Error::Os { .. }), "{e:?}");
    assert_eq!(
        (e.call(), e.raw_os_error()),
        ("onload_move_fd", Some(libc::EINVAL))
    );
}

#[test]
fn receive_filter_sees_messages_and_survives_a_panic() {
    if !in_child() {
        return run_preloaded("receive_filter_sees_messages_and_survives_a_panic", None);
    }
    use std::sync::{Arc, Mutex};
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    set_recv_filter(&udp_unbound(), move |msg| {
        assert!(msg.is_shared());
        let data = msg.to_vec();
        if data == b"boom" {
            panic!("filter failure");
        }
        log.lock().unwrap().push(data);
    })
    .unwrap();
    let run = |data: &[u8]| {
        // SAFETY: dlsym with a NUL-terminated name; the stand-in defines
        // `int stand_in_run_filter(const char*, int)`.
        let f: extern "C" fn(*const u8, c_int) -> c_int = unsafe {
            std::mem::transmute(libc::dlsym(
                libc::RTLD_DEFAULT,
                c"stand_in_run_filter".as_ptr(),
            ))
        };
        f(data.as_ptr(), data.len() as c_int)
    };
    let cont = ffi::onload_zc_callback_rc_ONLOAD_ZC_CONTINUE as c_int;
    assert_eq!(run(b"first"), cont);
    assert_eq!(
        run(b"boom"),
        cont,
        "a panicking filter still lets the message through"
    );
    assert_eq!(run(b"second"), cont);
    assert_eq!(
        *seen.lock().unwrap(),
        vec![b"first".to_vec(), b"second".to_vec()]
    );
    assert_eq!(zc_outstanding(), 0);
}

#[test]
fn ordered_epoll_reports_timestamps() {
    if !in_child() {
        return run_preloaded("ordered_epoll_reports_timestamps", Some(134));
    }
    let a = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.send_to(b"x", a.local_addr().unwrap()).unwrap();
    // SAFETY: epoll_create1 takes no pointers.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(ep >= 0);
    // SAFETY: a new descriptor owned by nobody else.
    let ep = unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(ep) };
    let mut ev = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: 42,
    };
    // SAFETY: valid descriptors and event.
    let rc =
        unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, a.as_raw_fd(), &mut ev) };
    assert_eq!(rc, 0);
    let mut oe = OrderedEpoll::with_capacity(8);
    let events: Vec<OrderedEvent> = oe
        .wait(&ep, Some(std::time::Duration::from_secs(5)))
        .unwrap()
        .collect();
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].data, events[0].bytes), (42, 100));
    assert_ne!(events[0].events & libc::EPOLLIN as u32, 0);
    assert_eq!(events[0].timestamp, Some(std::time::Duration::new(1, 500)));
    // Datagram read back through the kernel path.
    let mut buf = [0u8; 8];
    let (n, from) = recvmsg_kernel(&a, &mut buf, 0).unwrap();
    assert_eq!(
        (&buf[..n], from),
        (&b"x"[..], Some(tx.local_addr().unwrap()))
    );
}

#[test]
fn template_update_errors_send_nothing_and_many_updates_apply() {
    if !in_child() {
        return run_preloaded(
            "template_update_errors_send_nothing_and_many_updates_apply",
            Some(135),
        );
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    let sent = counter("stand_in_templates_sent");
    // An out-of-range update in update_and_send: nothing sent, the template aborted on drop.
    let t = Template::new(&stream, &[b"0123456789"], TemplateOptions::default()).unwrap();
    let e = t
        .update_and_send(&[(0, b"ab"), (9, b"xy")], false)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");
    assert_eq!(counter("stand_in_templates_sent"), sent);
    assert_eq!(templates_outstanding(), 0);
    // More updates than fit on the stack.
    let mut t = Template::new(
        &stream,
        &[b"..........".as_slice()],
        TemplateOptions::default(),
    )
    .unwrap();
    let digits: Vec<[u8; 1]> = (0..10u8).map(|i| [b'0' + i]).collect();
    let updates: Vec<(usize, &[u8])> = digits
        .iter()
        .enumerate()
        .map(|(i, d)| (i, &d[..]))
        .collect();
    assert!(updates.len() > Template::INLINE_UPDATES);
    t.update_many(&updates).unwrap();
    t.send(true).unwrap();
    let mut got = [0u8; 10];
    peer.read_exact(&mut got).unwrap();
    assert_eq!(&got, b"0123456789");
    assert_eq!(templates_outstanding(), 0);
}
