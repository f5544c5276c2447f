//! A network namespace of the test's own: for the calling thread, and, for unprivileged runs,
//! a user namespace entered before the test harness starts its threads.

use std::sync::atomic::{AtomicI32, Ordering};

/// errno of the failed attempt to enter a user namespace at start (0: entered or not tried).
static USERNS_ERRNO: AtomicI32 = AtomicI32::new(0);
/// Whether the process entered a user namespace at start.
static USERNS_ENTERED: AtomicI32 = AtomicI32::new(0);

/// Places [`__enter_user_namespace`] in the test binary's start-up code (`.init_array`), so it
/// runs before `main`, while the process still has one thread (a condition of entering a user
/// namespace). Invoke once at the top level of a test file.
///
/// An unprivileged process then runs as uid 0 of a user namespace of its own, which owns a new
/// network namespace: it has `CAP_NET_RAW` and `CAP_NET_ADMIN` over that namespace's
/// interfaces (a private `lo`), and [`isolate_thread_network`] can give each test one of its
/// own. As root it does nothing. Where the kernel forbids unprivileged user namespaces, the
/// process carries on unchanged and [`user_namespace_status`] says why.
#[macro_export]
macro_rules! enter_user_namespace_at_start {
    () => {
        #[used]
        #[unsafe(link_section = ".init_array")]
        static __TESTKIT_ENTER_USER_NAMESPACE: extern "C" fn() = $crate::__enter_user_namespace;
    };
}

/// What [`enter_user_namespace_at_start!`] runs; not for direct use.
#[doc(hidden)]
pub extern "C" fn __enter_user_namespace() {
    // SAFETY: plain system calls; the process is still single-threaded (run from .init_array).
    unsafe {
        if libc::geteuid() == 0 {
            return;
        }
        let (uid, gid) = (libc::getuid(), libc::getgid());
        if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNET) != 0 {
            USERNS_ERRNO.store(*libc::__errno_location(), Ordering::Relaxed);
            return;
        }
        let maps = [
            ("/proc/self/setgroups", "deny".to_string()),
            ("/proc/self/uid_map", format!("0 {uid} 1")),
            ("/proc/self/gid_map", format!("0 {gid} 1")),
        ];
        for (path, text) in maps {
            if let Err(e) = std::fs::write(path, text) {
                USERNS_ERRNO.store(e.raw_os_error().unwrap_or(libc::EPERM), Ordering::Relaxed);
                return;
            }
        }
    }
    USERNS_ENTERED.store(1, Ordering::Relaxed);
    let _ = lo_up();
}

/// Whether the process runs in a user namespace of its own (`Ok(true)`), did not need one
/// (`Ok(false)`: root, or the macro was not used), or could not enter one (`Err`, why).
pub fn user_namespace_status() -> Result<bool, String> {
    match USERNS_ERRNO.load(Ordering::Relaxed) {
        0 => Ok(USERNS_ENTERED.load(Ordering::Relaxed) == 1),
        e => Err(format!(
            "this kernel refused an unprivileged user namespace ({}); run the tests as root, \
             or allow them (sysctl kernel.unprivileged_userns_clone=1, or \
             kernel.apparmor_restrict_unprivileged_userns=0)",
            std::io::Error::from_raw_os_error(e)
        )),
    }
}

/// Whether this process runs in a user namespace other than the machine's own (its uid map is
/// not the identity over all ids): entered at start, or inherited from a parent that did.
pub fn in_user_namespace() -> bool {
    std::fs::read_to_string("/proc/self/uid_map")
        .map(|m| m.split_whitespace().collect::<Vec<_>>() != ["0", "0", "4294967295"])
        .unwrap_or(false)
}

/// Moves the calling thread into a new network namespace holding only `lo`, brought up, so
/// that what the test sends and receives there is its own. Threads it spawns afterwards
/// inherit the namespace. Needs `CAP_SYS_ADMIN`: root, or a user namespace entered with
/// [`enter_user_namespace_at_start!`]; the error says which was missing.
pub fn isolate_thread_network() -> Result<(), String> {
    // SAFETY: unshare of the calling thread's network namespace only.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        let e = std::io::Error::last_os_error();
        return Err(match user_namespace_status() {
            Err(why) => why,
            Ok(_) => format!("creating a network namespace failed: {e}"),
        });
    }
    lo_up().map_err(|e| format!("bringing up lo in the new namespace: {e}"))
}

/// Runs `f` on a new thread in a network namespace of its own (see
/// [`isolate_thread_network`]) and returns what it returns; `None`, after reporting why on
/// the terminal (see [`crate::skip`]), when this process cannot make one. A panic in `f` is
/// the caller's.
pub fn in_netns<T: Send + 'static>(
    test: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let test = test.to_owned();
    let r = std::thread::spawn(move || match isolate_thread_network() {
        Ok(()) => Some(f()),
        Err(why) => {
            crate::skip(&test, &why);
            None
        }
    })
    .join();
    match r {
        Ok(v) => v,
        Err(p) => std::panic::resume_unwind(p),
    }
}

/// Sets `IFF_UP` on `lo` of the calling thread's network namespace.
fn lo_up() -> std::io::Result<()> {
    use std::os::fd::{FromRawFd as _, OwnedFd};
    // SAFETY: plain socket call.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor this function owns.
    let sock = unsafe { OwnedFd::from_raw_fd(fd) };
    use std::os::fd::AsRawFd as _;
    // SAFETY: ifreq is plain data; zeroes are valid.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS/SIOCSIFFLAGS read and write `req`, a valid ifreq naming lo.
    unsafe {
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        req.ifr_ifru.ifru_flags |= libc::IFF_UP as libc::c_short;
        if libc::ioctl(sock.as_raw_fd(), libc::SIOCSIFFLAGS, &req) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Takes from the calling thread the privileges that open packet sockets (`CAP_NET_RAW` and
/// every other capability), to test what an unprivileged user gets. As real root it becomes
/// user and group 65534 (for the whole process, as `setresuid` does); in a user namespace of the
/// tests' own, where no other id is mapped, it clears the thread's capability sets instead.
pub fn drop_privileges() -> std::io::Result<()> {
    if in_user_namespace() {
        #[repr(C)]
        struct CapHeader {
            version: u32,
            pid: i32,
        }
        #[repr(C)]
        #[derive(Clone, Copy)]
        struct CapData {
            effective: u32,
            permitted: u32,
            inheritable: u32,
        }
        const LINUX_CAPABILITY_VERSION_3: u32 = 0x2008_0522;
        let mut header = CapHeader {
            version: LINUX_CAPABILITY_VERSION_3,
            pid: 0,
        };
        let data = [CapData {
            effective: 0,
            permitted: 0,
            inheritable: 0,
        }; 2];
        // SAFETY: capset with a version-3 header and the two data words it reads; pid 0 is
        // the calling thread.
        let rc = unsafe { libc::syscall(libc::SYS_capset, &mut header, data.as_ptr()) };
        return if rc == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        };
    }
    // SAFETY: plain system calls with valid arguments.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setresgid(65534, 65534, 65534) != 0
            || libc::setresuid(65534, 65534, 65534) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}
