//! The Onload Extensions API outside Onload: each call answers as the vendor's `libonload_ext`
//! does in a process not running under Onload, and reaches a preloaded library's definitions
//! when there is one (as under `LD_PRELOAD=libonload.so`). Holds for the software backend and
//! for the vendor's stub library alike.

use onload_sys::*;
use std::ffi::{CString, c_int, c_uint};
use std::process::Command;

fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

#[test]
fn stub_results_without_onload() {
    if std::env::var_os("ONLOAD_FAKE_PRELOADED").is_some() {
        return; // the child run of `preloaded_library_is_reached` checks other values
    }
    let name = CString::new("mystack").unwrap();
    let opt = CString::new("EF_SPIN_USEC").unwrap();
    // SAFETY: every pointer passed below is valid for the call; the stubs ignore most of them.
    unsafe {
        assert_eq!(onload_is_present(), 0);
        assert_eq!(
            onload_set_stackname(
                onload_stackname_who_ONLOAD_ALL_THREADS,
                onload_stackname_scope_ONLOAD_SCOPE_GLOBAL,
                name.as_ptr()
            ),
            0
        );
        assert_eq!(onload_stackname_save(), 0);
        assert_eq!(onload_stackname_restore(), 0);
        assert_eq!(onload_stack_opt_set_int(opt.as_ptr(), 100), 0);
        assert_eq!(onload_stack_opt_set_str(opt.as_ptr(), name.as_ptr()), 0);
        assert_eq!(onload_stack_opt_reset(), 0);
        let mut v: i64 = -7;
        assert_eq!(
            onload_stack_opt_get_int(opt.as_ptr(), &mut v),
            -libc::ENOSYS
        );
        assert_eq!(v, -7, "the stub leaves the output alone");
        let mut buf = [0 as std::ffi::c_char; 16];
        let mut len = buf.len();
        assert_eq!(
            onload_stack_opt_get_str(opt.as_ptr(), buf.as_mut_ptr(), &mut len),
            -libc::ENOSYS
        );

        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&sock);
        let mut stat: onload_stat = std::mem::zeroed();
        stat.stack_id = 99;
        assert_eq!(onload_fd_stat(fd, &mut stat), 0, "not accelerated");
        assert_eq!(stat.stack_id, 99, "struct untouched");
        assert_eq!(
            onload_fd_check_feature(fd, onload_fd_feature_ONLOAD_FD_FEAT_MSG_WARM),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_thread_set_spin(onload_spin_type_ONLOAD_SPIN_ALL, 1),
            0
        );
        let mut spin: c_uint = 0;
        assert_eq!(onload_thread_get_spin(&mut spin), -libc::ENOSYS);
        assert_eq!(onload_move_fd(fd), 0);
        assert_eq!(onload_zc_await_stack_sync(fd), 0);
        assert_eq!(
            onload_zc_alloc_buffers(fd, std::ptr::null_mut(), 0, 0),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_zc_release_buffers(fd, std::ptr::null_mut(), 0),
            -libc::ENOSYS
        );
        assert_eq!(onload_zc_recv(fd, std::ptr::null_mut()), -libc::ENOSYS);
        assert_eq!(onload_zc_send(std::ptr::null_mut(), 0, 0), -libc::ENOSYS);
        assert_eq!(
            onload_set_recv_filter(fd, None, std::ptr::null_mut(), 0),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_recvmsg_kernel(fd, std::ptr::null_mut(), 0),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_msg_template_alloc(fd, std::ptr::null(), 0, std::ptr::null_mut(), 0),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_msg_template_update(fd, std::ptr::null_mut(), std::ptr::null(), 0, 0),
            -libc::ENOSYS
        );
        assert_eq!(
            onload_msg_template_abort(fd, std::ptr::null_mut()),
            -libc::ENOSYS
        );
        assert_eq!(onload_timestamping_request(fd, 0), -libc::ENOSYS);
        assert_eq!(
            onload_ordered_epoll_wait(0, std::ptr::null_mut(), std::ptr::null_mut(), 0, 0),
            -libc::ENOSYS
        );
        let mut ds: onload_delegated_send = std::mem::zeroed();
        assert_eq!(
            onload_delegated_send_prepare(fd, 100, 0, &mut ds),
            onload_delegated_send_rc_ONLOAD_DELEGATED_SEND_RC_BAD_SOCKET
        );
        assert_eq!(
            onload_delegated_send_complete(fd, std::ptr::null(), 0, 0),
            -1
        );
        assert_eq!(errno(), libc::ENOSYS);
        assert_eq!(onload_delegated_send_cancel(fd), -1);
        assert_eq!(errno(), libc::ENOSYS);
        let mut info: onload_tcp_info = std::mem::zeroed();
        let mut len = std::mem::size_of::<onload_tcp_info>() as c_int;
        assert_eq!(onload_get_tcp_info(fd, &mut info, &mut len), -1);
        assert_eq!(errno(), libc::EINVAL);
    }
}

#[test]
fn nonaccel_sockets_are_plain_kernel_sockets() {
    for f in [
        onload_socket_nonaccel,
        onload_socket_unicast_nonaccel,
        onload_socket_rx_nonaccel,
    ] {
        // SAFETY: the arguments are socket(2)'s.
        let fd = unsafe { f(libc::AF_INET, libc::SOCK_DGRAM, 0) };
        assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
        let mut ty: c_int = 0;
        let mut len = std::mem::size_of::<c_int>() as libc::socklen_t;
        // SAFETY: fd is an open socket; ty/len are valid for the option.
        let rc = unsafe {
            libc::getsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_TYPE,
                (&mut ty as *mut c_int).cast(),
                &mut len,
            )
        };
        assert_eq!(rc, 0);
        assert_eq!(ty, libc::SOCK_DGRAM);
        // SAFETY: fd is ours.
        unsafe { libc::close(fd) };
        // A bad domain fails as socket(2) does.
        // SAFETY: as above.
        assert_eq!(unsafe { f(-1, libc::SOCK_DGRAM, 0) }, -1);
        assert_eq!(errno(), libc::EAFNOSUPPORT);
    }
}

/// Re-runs this test binary with a stand-in `libonload.so` preloaded: the calls it defines must
/// reach it, the others keep their stub results.
#[test]
fn preloaded_library_is_reached() {
    if std::env::var_os("ONLOAD_FAKE_PRELOADED").is_some() {
        // SAFETY: plain calls with valid pointers.
        unsafe {
            assert_eq!(onload_is_present(), 1, "the preloaded definition answers");
            let mut spin: c_uint = 0;
            assert_eq!(onload_thread_get_spin(&mut spin), 0);
            assert_eq!(spin, 0x5a5a);
            let opt = CString::new("X").unwrap();
            let mut v = 0i64;
            assert_eq!(onload_stack_opt_get_int(opt.as_ptr(), &mut v), 0);
            assert_eq!(v, 4242);
            // Not defined by the stand-in: still the stub.
            assert_eq!(onload_fd_check_feature(0, 0), -libc::ENOSYS);
        }
        return;
    }
    run_preloaded("preloaded_library_is_reached", &[]);
}

/// Builds the stand-in `libonload.so` and re-runs test `name` of this binary with it preloaded
/// and `ONLOAD_FAKE_PRELOADED` plus `env` set; the child must pass.
fn run_preloaded(name: &str, env: &[(&str, &str)]) {
    let dir = std::env::temp_dir().join(format!("onload-fake-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let lib = dir.join("libonload_fake.so");
    let src = testkit::FAKE_ONLOAD_C;
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(src)
        .status();
    match status {
        Ok(s) if s.success() => {}
        other => panic!("could not build the stand-in library with {cc}: {other:?}"),
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("LD_PRELOAD", &lib)
        .env("ONLOAD_FAKE_PRELOADED", "1")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "child {env:?} failed:\n{text}");
    assert!(text.contains("1 passed"), "child ran no test:\n{text}");
}

/// Without Onload there is no extensions ABI to compare: the check passes.
#[test]
fn version_check_passes_without_onload() {
    if std::env::var_os("ONLOAD_FAKE_PRELOADED").is_some() {
        return; // the preloaded child runs only the test it was started for
    }
    assert_eq!(onload_ext_abi_version(), None);
    assert_eq!(check_linked_version(), Ok(()));
}

/// Under a (stand-in) Onload, the extensions ABI it exports is judged as the vendor's stub does:
/// same major, minor at least the bindings'; the opt-out variable accepts any.
#[test]
fn version_check_under_preloaded_onload() {
    if std::env::var_os("ONLOAD_FAKE_PRELOADED").is_some() {
        let v = std::env::var("FAKE_ONLOAD_EXT_VERSION").unwrap();
        let parts: Vec<u32> = v.split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(
            onload_ext_abi_version(),
            Some([parts[0], parts[1], parts[2]])
        );
        match std::env::var("EXPECT").unwrap().as_str() {
            "ok" => assert_eq!(check_linked_version(), Ok(())),
            _ => {
                let e = check_linked_version().unwrap_err();
                let msg = e.to_string();
                for needle in ["extensions ABI 1.2.0", &v, VERSION_CHECK_OPT_OUT] {
                    assert!(msg.contains(needle), "{msg:?} lacks {needle:?}");
                }
            }
        }
        return;
    }
    for (version, expect, opt_out) in [
        ("1.2.0", "ok", "0"),
        ("1.3.7", "ok", "0"),
        ("1.1.9", "mismatch", "0"),
        ("2.0.0", "mismatch", "0"),
        ("0.9.0", "mismatch", ""),
        ("2.0.0", "ok", "1"),
    ] {
        run_preloaded(
            "version_check_under_preloaded_onload",
            &[
                ("FAKE_ONLOAD_EXT_VERSION", version),
                ("EXPECT", expect),
                (VERSION_CHECK_OPT_OUT, opt_out),
            ],
        );
    }
}
